"""A resumed run goes on with the run's own resolved config (its plan included): the original
command line with --resume added may lengthen the run, and is refused where it would change
what is trained."""

from pathlib import Path

import pytest
import yaml

from tests.test_train import write_blobs
from unetlab.cli import main
from unetlab.config import load_config, resumed_config
from unetlab.errors import UnetlabError


@pytest.fixture
def command(tmp_path):
    data = write_blobs(tmp_path / "data", 4)
    mini = tmp_path / "mini.yaml"
    mini.write_text(
        "model: {depth: 2, base_channels: 4}\n"
        "data: {tiles_per_epoch: 4, val_fraction: 0.25}\n"
        "train: {device: cpu}\n"
    )
    run = tmp_path / "run"
    args = ["train", "--data", str(data), "--config", str(mini), "--run-dir", str(run)]
    return [*args, "--epochs", "1", "--no-progress"]


def _config(run):
    return yaml.safe_load((run / "config.yaml").read_text())


def test_the_original_command_with_resume_keeps_the_plan(tmp_path, command, capsys):
    run = tmp_path / "run"
    assert main(command) == 0
    planned = _config(run)
    assert planned["data"]["tile_size"] != 256  # the plan chose it (the default is 256)
    capsys.readouterr()
    assert main([*command[:-3], "--epochs", "2", "--no-progress", "--resume"]) == 0
    resumed = _config(run)
    assert resumed["train"].pop("epochs") == 2 and planned["train"].pop("epochs") == 1
    assert resumed == planned
    log = (run / "train.log").read_text()
    assert f"resuming with train.epochs 1 -> 2 (the rest as in {run / 'config.yaml'})" in log
    assert len((run / "metrics.csv").read_text().splitlines()) == 3


def test_a_resume_that_would_change_what_is_trained_is_refused(tmp_path, command, capsys):
    run = tmp_path / "run"
    assert main(command) == 0
    planned = _config(run)
    capsys.readouterr()
    changed = [*command, "--resume", "--set", "train.loss=dice", "--set", "model.depth=3"]
    assert main(changed) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "sets model.depth 3 (the run's: 2), train.loss dice (the run's: " in line
    assert "start a new run with them (another --run-dir, or --overwrite)" in line
    assert _config(run) == planned  # nothing rewritten


def test_resumed_config_applies_resumable_keys_and_refuses_the_others():
    own = load_config(None, ["data.tile_size=112", "train.epochs=5", "train.loss=ce+dice"])
    asked = load_config(None, ["train.epochs=9", "train.loss=ce+dice"])
    explicit = {"train.epochs", "train.loss"}  # the loss as the run has it: fine
    cfg = resumed_config(own, asked, explicit, source="run/config.yaml")
    assert cfg.train.epochs == 9 and cfg.data.tile_size == 112 and cfg.train.loss == "ce+dice"
    assert resumed_config(own, asked, set(), source="x") == own  # nothing asked: the run's
    with pytest.raises(UnetlabError, match=r"sets data.tile_size 256 \(the run's: 112\)"):
        resumed_config(own, asked, explicit | {"data.tile_size"}, source="run/config.yaml")


def test_a_resume_cannot_switch_between_the_clock_and_steps(tmp_path, command, capsys):
    """A review: --resume --minutes of a run trained by epochs fed a step schedule's state
    to the clock's (a KeyError, 'a bug in unetlab')."""
    assert main(command) == 0
    capsys.readouterr()
    assert main([*command, "--resume", "--minutes", "0.2"]) == 2
    assert "trained without a time budget" in capsys.readouterr().err
    own = load_config(None, ["train.max_minutes=2"])
    asked = load_config(None, ["train.max_minutes=0"])
    with pytest.raises(UnetlabError, match="trained on a 2-minute time budget"):
        resumed_config(own, asked, {"train.max_minutes"}, source="run/config.yaml")
    longer = load_config(None, ["train.max_minutes=3"])
    assert resumed_config(own, longer, {"train.max_minutes"}, source="x").train.max_minutes == 3


def test_the_clock_switch_is_told_to_python_as_it_assigns_the_budget():
    """s55 pyforms4: ``fit(cfg, resume=True)``'s clock refusal said ``train.max_minutes M``,
    an override's key, not the attribute a notebook assigns; the command line's says flags."""
    from unetlab.config.resume import check_resumed

    budget = load_config(None, ["train.max_minutes=2"])
    steps = load_config(None, ["train.max_minutes=0"])
    with pytest.raises(UnetlabError, match=r"resume it with cfg\.train\.max_minutes = M \("):
        check_resumed(budget, steps, source="run/config.yaml")
    with pytest.raises(UnetlabError) as refused:
        check_resumed(steps, budget, source="run/config.yaml")
    assert "cannot give it cfg.train.max_minutes: give cfg.train.epochs = N to" in str(
        refused.value
    )
    with pytest.raises(UnetlabError, match="give --epochs N to train longer"):
        resumed_config(steps, budget, {"train.max_minutes"}, source="run/config.yaml")


def test_fit_resumed_from_python_refuses_what_the_command_line_refuses(tmp_path):
    """An audit (notebook): ``fit(cfg, resume=True)`` with a rebuilt config trained on with
    another loss and normalisation (and a budgeted run given a fresh Config went on at lr 0);
    the command line refuses both."""
    from tests.test_train import tiny_config
    from unetlab.train import fit

    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    fit(tiny_config(data, "train.max_minutes=5"), run_dir=run, progress=False)
    planned, last = _config(run), (run / "checkpoints" / "last.pt").read_bytes()
    other = tiny_config(data, "train.max_minutes=5", "train.loss=dice")
    other.data.normalization = {"mode": "scale"}
    with pytest.raises(UnetlabError) as refused:
        fit(other, run_dir=run, resume=True, progress=False)
    assert "this config sets data.normalization {'mode': 'scale'} (the run's: None)" in str(
        refused.value
    )
    assert "train.loss dice (the run's: ce)" in str(refused.value)
    assert f"cfg = load_config({str(run / 'config.yaml')!r})" in str(refused.value)
    with pytest.raises(UnetlabError, match="resume it with cfg.train.max_minutes = M"):
        fit(tiny_config(data), run_dir=run, resume=True, progress=False)
    assert _config(run) == planned and (run / "checkpoints" / "last.pt").read_bytes() == last
    own = load_config(run / "config.yaml")
    own.train.epochs = 3  # a key a resume may change
    fit(own, run_dir=run, resume=True, progress=False)
    assert "resuming with train.epochs 2 -> 3" in (run / "train.log").read_text()


def test_a_value_this_version_refuses_is_named_and_can_be_set_at_resume(tmp_path, command, capsys):
    """Carried from earlier sessions: a run whose config.yaml holds a value that a newer check
    refuses could not be resumed without editing the file (the error named neither the file
    nor a way on)."""
    run = tmp_path / "run"
    assert main(command) == 0
    own = run / "config.yaml"
    old = own.read_text()  # as an older unetlab wrote it: best_smoothing 1.0, since refused
    own.write_text(old.replace("best_smoothing: 0.5", "best_smoothing: 1.0"))
    capsys.readouterr()
    assert main([*command, "--resume"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert f"{own} holds train.best_smoothing: 1.0, which this version of unetlab refuses" in line
    assert "(train.best_smoothing must be in [0, 1), not 1.0)" in line
    fix = f"unetlab train --run-dir {run} --resume --set train.best_smoothing=0.5"
    assert line.endswith(f"e.g. its default: {fix}")
    assert main([*fix.split()[1:], "--epochs", "2", "--no-progress"]) == 0
    assert _config(run)["train"]["best_smoothing"] == 0.5
    log = (run / "train.log").read_text()
    assert "holds train.best_smoothing 1.0, which this version of unetlab refuses: the run " in log
    assert "resuming with train.epochs 1 -> 2" in log
    history = yaml.safe_load((run / "history.yaml").read_text())
    assert history[-1]["changed"]["train.best_smoothing"] == {"from": 1.0, "to": 0.5}
    # a --set of a key the run's file does not refuse is still refused
    assert main([*command, "--resume", "--set", "train.best_smoothing=0.25"]) == 2
    assert "sets train.best_smoothing 0.25 (the run's: 0.5)" in capsys.readouterr().err


def test_refused_values_names_each_refused_key_and_leaves_unknown_keys_to_the_loader():
    from unetlab.config import Config
    from unetlab.config.resume import refused_values

    data = Config().to_dict()
    data["train"]["momentum"], data["data"]["w0"] = 1.5, -1.0
    refused = refused_values(data, UnetlabError("unused"))
    assert list(refused) == ["data.w0", "train.momentum"]
    assert refused["train.momentum"] == (1.5, "train.momentum must be in [0, 1), not 1.5")
    data = Config().to_dict()
    data["train"]["old_key"] = 1
    with pytest.raises(UnetlabError, match="the loader's"):
        refused_values(data, UnetlabError("the loader's"))


def test_a_config_yaml_with_a_top_level_value_is_the_loaders_one_line():
    """s47 crash review: a run's config.yaml edited (or another tool's) to hold ``mine: 1``
    made --resume fail with a TypeError traceback in refused_values."""
    from unetlab.config import Config
    from unetlab.config.resume import refused_values

    data = {**Config().to_dict(), "mine": 1}
    with pytest.raises(UnetlabError, match="the loader's"):
        refused_values(data, UnetlabError("the loader's"))


def test_resume_of_a_run_whose_config_yaml_is_not_a_config_is_one_line(command, capsys):
    assert main(command) == 0
    run = Path(command[command.index("--run-dir") + 1])
    (run / "config.yaml").write_text("mine: 1\n")
    capsys.readouterr()
    assert main([*command, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unknown config key mine" in err, err


def test_a_run_files_refused_type_is_said_as_the_file_writes_it():
    """s53: the reason quoted Config.from_dict's Python form ("e.g. cfg.train.epochs = 50")
    for a value of a run's config.yaml, in the command line's refusal too."""
    from unetlab.config.resume import refused_values

    refused = refused_values({"train": {"epochs": "fifty"}}, UnetlabError("unused"))
    assert refused == {
        "train.epochs": (
            "fifty",
            "config key train.epochs must be int, not 'fifty': e.g. epochs: 50 under train:",
        )
    }
