"""The run folder of `unetlab train`: never a file unetlab did not write, never among the data,
and one line for a --config, --data, --run-dir or --resume that cannot be right."""

from pathlib import Path

import numpy as np
import pytest

from unetlab import train as train_mod
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.errors import OutputError, UnetlabError
from unetlab.models import UNet
from unetlab.outputs import MANIFEST
from unetlab.train import prepare_run_dir, rundir

USERS = {"config.yaml": "mine: 1\n", "train.log": "my log\n", "metrics.csv": "a,b\n"}


@pytest.fixture
def data(two_pair_data) -> Path:
    return two_pair_data


def _train(data: Path, run_dir: Path, *extra: str) -> int:
    return main(["train", "--data", str(data), "--run-dir", str(run_dir), *extra])


def _error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def a_checkpoint(path: Path) -> Path:
    """A tiny net saved by unetlab at ``path``: a run's checkpoint from before run folders
    had manifests (a folder holding one counts as unetlab's run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_model(path, UNet(1, 2, depth=2, base_channels=4))


def _users_folder(folder: Path) -> Path:
    folder.mkdir()
    for name, text in USERS.items():
        (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize("overwrite", [False, True])
def test_run_files_unetlab_did_not_write_are_refused_whatever_the_flags(tmp_path, overwrite):
    folder = _users_folder(tmp_path / "mine")
    with pytest.raises(OutputError, match=r"mine/config.yaml exists and was not written by"):
        prepare_run_dir(folder, resume=False, overwrite=overwrite)
    assert {p.name: p.read_text() for p in folder.iterdir()} == USERS


def test_cli_overwrite_keeps_the_users_files(tmp_path, data, capsys):
    folder = _users_folder(tmp_path / "mine")
    assert _train(data, folder, "--overwrite") == 2
    line = _error_line(capsys)
    assert f"{folder / 'config.yaml'} exists and was not written by unetlab" in line
    assert "(nor were metrics.csv, train.log): choose another --run-dir" in line
    assert {p.name: p.read_text() for p in folder.iterdir()} == USERS


def test_a_run_records_its_files_and_overwrite_replaces_only_those(tmp_path):
    run = prepare_run_dir(tmp_path / "run", resume=False, overwrite=False)
    assert "config.yaml\ttrain" in (run / MANIFEST).read_text()
    for name in ("config.yaml", "train.log", "checkpoints/last.pt", "notes.txt"):
        (run / name).write_text("x")
    (run / "checkpoints" / "mine.txt").write_text("kept")
    with pytest.raises(OutputError, match="already holds a run"):
        prepare_run_dir(run, resume=False, overwrite=False)
    prepare_run_dir(run, resume=True, overwrite=False)
    prepare_run_dir(run, resume=False, overwrite=True)
    assert not (run / "config.yaml").exists() and not (run / "checkpoints" / "last.pt").exists()
    assert (run / "notes.txt").exists() and (run / "checkpoints" / "mine.txt").exists()


def test_a_run_that_stopped_before_its_first_checkpoint_is_started_again(
    tmp_path, data, monkeypatch
):
    """Bad data found while loading (an RGBA image here, the checks before the run turned
    off: they would find it first) stops the run after its folder exists: a folder the run
    made goes again; in a folder that was there, trying again with the data fixed needs no
    --overwrite."""
    from PIL import Image

    import unetlab.plan

    monkeypatch.setattr(unetlab.plan, "check_training_data", lambda cfg, explicit: None)

    rgba = np.zeros((32, 32, 4), np.uint8)
    Image.fromarray(rgba, "RGBA").save(data / "images" / "00.png")
    run = tmp_path / "run"
    args = ["--no-plan", "--epochs", "1", "--set", "model.depth=2", "--set", "data.tile_size=32"]
    assert _train(data, run, *args) == 2
    assert not run.exists()  # the folder this run made
    run.mkdir()
    assert _train(data, run, *args) == 2
    assert (run / "train.log").is_file() and not (run / "checkpoints" / "last.pt").exists()
    write_png(data / "images" / "00.png", np.full((32, 32), 9, np.uint8))
    assert _train(data, run, *args) == 0
    assert (run / "checkpoints" / "last.pt").is_file()
    with pytest.raises(OutputError, match="already holds a run"):  # a started run is kept
        prepare_run_dir(run, resume=False, overwrite=False)


def test_a_folder_another_process_made_first_is_never_removed(tmp_path, data, monkeypatch):
    """A review: two starts into one new folder; the one that did not make it, refused or
    failing on bad data, removed the other's run (it had only checked that it was absent)."""
    from PIL import Image

    Image.fromarray(np.zeros((32, 32, 4), np.uint8), "RGBA").save(data / "images" / "00.png")
    run = tmp_path / "run"
    real = rundir.check_run_dir

    def another_process_first(run_dir, root):
        real(run_dir, root)
        if not run.exists():  # made between this call's look and its own mkdir, as train does
            prepare_run_dir(run, resume=False, overwrite=False)
            (run / "theirs.txt").write_text("the other run's")

    monkeypatch.setattr(rundir, "check_run_dir", another_process_first)
    from unetlab.errors import DatasetError

    from .test_train import tiny_config

    with pytest.raises(DatasetError):  # bad data, in a folder it did not make
        train_mod.fit(tiny_config(data, "train.epochs=1"), run_dir=run, progress=False)
    assert (run / "theirs.txt").read_text() == "the other run's"


def test_a_run_from_before_manifests_is_still_unetlabs(tmp_path):
    run = tmp_path / "old"
    (run / "checkpoints").mkdir(parents=True)
    for name in ("config.yaml", "metrics.csv"):
        (run / name).write_text("x")
    a_checkpoint(run / "checkpoints" / "last.pt")
    prepare_run_dir(run, resume=True, overwrite=False)
    prepare_run_dir(run, resume=False, overwrite=True)
    assert not (run / "config.yaml").exists() and not (run / "checkpoints" / "last.pt").exists()


@pytest.mark.parametrize("flag", ["--overwrite", "--resume"])
def test_another_tools_checkpoints_folder_is_not_a_run(tmp_path, data, capsys, flag):
    """s47 crash review: a folder of another tool's checkpoints/last.pt and config.yaml was
    taken for a run from before manifests, and --overwrite removed both."""
    folder = _users_folder(tmp_path / "mine")
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "last.pt").write_bytes(b"someone else's weights")
    assert _train(data, folder, flag) == 2
    assert "was not written by unetlab" in _error_line(capsys)
    assert (folder / "checkpoints" / "last.pt").read_bytes() == b"someone else's weights"
    assert {p.name: p.read_text() for p in folder.iterdir() if p.is_file()} == USERS


@pytest.mark.parametrize("inside", ["images", "masks", "images/runs/a"])
def test_a_run_folder_among_the_data_is_refused(data, capsys, inside):
    before = sorted(p.name for p in data.rglob("*"))
    assert _train(data, data / inside, "--overwrite") == 2
    line = _error_line(capsys)
    assert f"{data / inside}: train would write into" in line
    assert str(data / inside.split("/")[0]) in line.split("write into", 1)[1]
    assert sorted(p.name for p in data.rglob("*")) == before
    train_mod.check_run_dir(data / "runs" / "a", data)  # beside the images and masks is fine


def test_a_file_as_run_folder_or_data_folder_is_one_line(tmp_path, data, capsys):
    (tmp_path / "afile.txt").write_text("x")
    assert _train(data, tmp_path / "afile.txt") == 2
    assert "afile.txt is a file, not a folder: give --run-dir a folder" in _error_line(capsys)
    assert _train(data / "images" / "00.png", tmp_path / "run") == 2
    line = _error_line(capsys)
    assert "00.png is a file, not a data folder" in line and "images/ and masks/" in line


def test_a_config_that_is_not_yaml_text_is_one_line(tmp_path, data, capsys):
    run = tmp_path / "run"
    assert _train(data, run, "--config", str(data / "images" / "00.png")) == 2
    assert "00.png: not a YAML config file (not text" in _error_line(capsys)
    assert _train(data, run, "--config", str(data)) == 2
    assert f"{data} is a folder, not a config file: give --config a YAML" in _error_line(capsys)
    assert _train(data, run, "--config", "") == 2  # it said ". is a folder" (s70)
    assert "--config '' names no config: give a YAML file or a shipped " in _error_line(capsys)


def test_an_empty_init_checkpoint_is_one_line(tmp_path, data, capsys):
    """train --init '' trained from scratch without a word (s70 re-review)."""
    from unetlab.config import Config

    run = tmp_path / "run"
    assert _train(data, run, "--init", "", "--check") == 2
    assert _error_line(capsys).endswith(
        "--init is empty (''): give a .pt checkpoint file (a run's checkpoints/best.pt), or "
        "leave --init out to start afresh"
    )
    with pytest.raises(UnetlabError, match=r"model.init_checkpoint is empty \(''\): give a "):
        Config.from_dict({"model": {"init_checkpoint": ""}})


def test_resume_of_a_folder_without_a_run_says_so(tmp_path, capsys):
    run = tmp_path / "runs" / "nonexist"
    assert main(["train", "--resume", "--run-dir", str(run)]) == 2
    line = _error_line(capsys)
    assert f"{run} holds no run to resume (no checkpoints/last.pt)" in line
    assert not run.exists()


def test_fit_refuses_a_run_folder_among_the_data_before_writing(data):
    from unetlab.config import load_config
    from unetlab.train import fit

    with pytest.raises(OutputError, match="which it reads as data"):
        fit(load_config(None, [f"data.root={data}"]), run_dir=data / "images", progress=False)
    assert sorted(p.name for p in (data / "images").iterdir()) == ["00.png", "01.png"]


def test_fit_without_a_data_folder_leaves_no_run_folder(tmp_path):
    """An audit (notebook): ``fit(Config(), run_dir=...)`` left the folder, its manifest, an
    empty train.log and checkpoints/ behind; so did a resume into a folder that did not exist."""
    from unetlab.config import Config, DataSection
    from unetlab.errors import UnetlabError

    run = tmp_path / "runs" / "nd1"
    with pytest.raises(UnetlabError) as caught:
        train_mod.fit(Config(), run_dir=run, progress=False)
    assert str(caught.value) == "no data folder: set cfg.data.root = 'path/to/data'"
    assert not (tmp_path / "runs").exists()
    from unetlab.plan import plan_training

    with pytest.raises(UnetlabError) as planned:  # it told Python --data first (s56)
        plan_training(Config())
    assert str(planned.value) == str(caught.value)
    with pytest.raises(OutputError, match="no such run folder to resume"):
        train_mod.fit(Config(data=DataSection(root=str(tmp_path))), run_dir=run, resume=True)
    assert not (tmp_path / "runs").exists()


def test_a_setting_that_does_not_fit_the_data_leaves_no_run_folder(data, tmp_path, capsys):
    """Found while loading (tiles larger than the images): the folder this command made
    went, so the same command, fixed, starts afresh instead of asking for --overwrite."""
    run = tmp_path / "runs" / "big"
    assert _train(data, run, "--no-plan", "--set", "data.tile_size=256") == 2
    assert "use --set data.tile_size=32" in _error_line(capsys)
    assert not run.exists()


@pytest.mark.parametrize("resume", [False, True])
def test_a_folder_of_other_things_is_refused_and_left_alone(tmp_path, data, capsys, resume):
    """A review (s30): --run-dir of a folder holding unrelated files was taken, and the run's
    files were put among them."""
    folder = tmp_path / "photos"
    (folder / "2025").mkdir(parents=True)
    (folder / "a.jpg").write_text("mine")
    before = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
    args = ("--resume",) if resume else ("--epochs", "1")
    assert _train(data, folder, *args) == 2
    line = _error_line(capsys)
    if not resume:  # --resume says first that there is no run to resume
        assert f"{folder} is not empty (2025, a.jpg) and holds no unetlab run" in line
        assert "a new or empty folder (or, to continue a run, its run folder with --resume" in line
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == before
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="holds no unetlab run"):
            prepare_run_dir(folder, resume=False, overwrite=overwrite)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == before


def test_an_empty_folder_or_one_with_only_our_lock_or_system_files_is_a_new_run(tmp_path):
    for extra in ([], [".unetlab.lock"], [".DS_Store", "Thumbs.db"]):
        folder = tmp_path / f"run{len(extra)}"
        folder.mkdir()
        for name in extra:
            (folder / name).write_text("")
        prepare_run_dir(folder, resume=False, overwrite=False)
        assert (folder / "checkpoints").is_dir()
        (folder / "notes.txt").write_text("beside the run")  # a run folder now: re-used
        prepare_run_dir(folder, resume=False, overwrite=False)
    with pytest.raises(OutputError, match=r"not empty \(a, b, c, ... \(4 entries\)\)"):
        for name in "abcd":
            (tmp_path / "many" / name).mkdir(parents=True)
        prepare_run_dir(tmp_path / "many", resume=False, overwrite=False)


def test_a_stop_before_the_first_checkpoint_does_not_say_it_saved_one(
    tmp_path, data, monkeypatch, capsys
):
    """A second Ctrl-C ("stop at once") during the first step said "interrupted; saved
    RUN/checkpoints/last.pt; continue with: ... --resume", and that --resume was refused:
    no last.pt (audit s41 audittrain). It says none was saved and to run the command again."""

    def stopped_early(cfg, run_dir, **_):
        (Path(run_dir) / "checkpoints").mkdir(parents=True)
        raise KeyboardInterrupt

    monkeypatch.setattr(train_mod, "fit", stopped_early)
    run = tmp_path / "run"
    assert _train(data, run, "--no-plan", "--epochs", "1") == 130
    err = capsys.readouterr().err
    assert "; saved" not in err and "--resume" not in err
    assert f"unetlab train: interrupted before {run}/checkpoints/last.pt was saved" in err
    assert "start the run again with the same command" in err


def test_a_run_with_best_pt_and_no_last_pt_is_not_told_to_resume(tmp_path, data, capsys):
    """s43 review: a run folder of best.pt alone was refused with "add --resume", which then
    failed (no last.pt); the refusal gives the fixes that work: another --run-dir (--init
    its best.pt), or --overwrite."""
    run = prepare_run_dir(tmp_path / "run", resume=False, overwrite=False)
    for name in ("config.yaml", "checkpoints/best.pt"):
        (run / name).write_text("x")
    with pytest.raises(OutputError, match="cannot be resumed") as refused:
        prepare_run_dir(run, resume=False, overwrite=False)
    assert "resume=" not in str(refused.value) and "--resume" not in refused.value.cli
    assert "init_checkpoint = " in str(refused.value) and "--init" in refused.value.cli
    assert _train(data, run, "--epochs", "1") == 2
    line = _error_line(capsys)
    assert "cannot be resumed" in line and "--resume" not in line
    assert f"--init {run / 'checkpoints' / 'best.pt'}" in line and "--overwrite" in line
    assert (run / "checkpoints" / "best.pt").read_text() == "x"


def test_a_file_as_run_folder_from_python_names_run_dir(tmp_path, data):
    """fit(cfg, run_dir=<a file>) said "give --run-dir a folder", a flag a notebook has not."""
    from unetlab import fit, load_config

    (tmp_path / "afile.txt").write_text("x")
    cfg = load_config(None, [f"data.root={data}"])
    with pytest.raises(OutputError, match="give run_dir a folder$") as refused:  # alone: s54
        fit(cfg, run_dir=tmp_path / "afile.txt")
    assert refused.value.cli.endswith("give --run-dir a folder")
