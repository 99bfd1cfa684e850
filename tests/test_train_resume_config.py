"""A resumed run goes on with the run's own resolved config (its plan included): the original
command line with --resume added may lengthen the run, and is refused where it would change
what is trained."""

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
    with pytest.raises(UnetlabError, match="resume it with train.max_minutes M"):
        fit(tiny_config(data), run_dir=run, resume=True, progress=False)
    assert _config(run) == planned and (run / "checkpoints" / "last.pt").read_bytes() == last
    own = load_config(run / "config.yaml")
    own.train.epochs = 3  # a key a resume may change
    fit(own, run_dir=run, resume=True, progress=False)
    assert "resuming with train.epochs 2 -> 3" in (run / "train.log").read_text()
