"""A run folder another unetlab process is training into is refused at once, before the data
is measured and the plan printed (it was refused after 18 s of measuring and a whole plan)."""

import pytest

import unetlab.plan
from unetlab.cli import main
from unetlab.outputs import LOCK, FolderLock
from unetlab.train import prepare_run_dir

from .test_train import write_blobs
from .test_train_safety import a_checkpoint


@pytest.mark.parametrize("resume", [False, True])
def test_a_run_folder_in_use_is_refused_before_the_plan(tmp_path, monkeypatch, capsys, resume):
    data = write_blobs(tmp_path / "data", 4)
    run = tmp_path / "run"
    run.mkdir()
    if resume:  # a run to resume (which plans nothing: refused before the data already)
        a_checkpoint(run / "checkpoints" / "last.pt")
        (run / "config.yaml").write_text(f"data:\n  root: {data}\n")

    def planned(*args, **kwargs):
        raise AssertionError("the data was measured and planned first")

    monkeypatch.setattr(unetlab.plan, "plan_training", planned)
    argv = ["train", "--data", str(data), "--run-dir", str(run), "--no-progress"]
    with FolderLock(run):  # another process's run
        assert main(argv + (["--resume"] if resume else [])) == 75  # busy, not broken (2)
        assert (run / LOCK).is_file()  # the other's lock is left alone
    err = capsys.readouterr().err
    assert f"error: {run} is in use by another unetlab process (pid " in err
    assert not (run / LOCK).exists()


@pytest.mark.parametrize("saved, resume", [(True, False), (False, True), (True, True)])
def test_a_live_runs_folder_is_in_use_not_a_run_to_resume_or_refuse(
    tmp_path, capsys, saved, resume
):
    """A second train into a folder a live run trains in said 'R already holds a run ...: add
    --resume' (a checkpoint saved) or 'holds no run to resume' (--resume before the first
    checkpoint): the refusal of what it holds was judged before the lock (s50 runfolder 1).
    Unlocked (the run finished or was killed), the same folder keeps today's line."""
    data = write_blobs(tmp_path / "data", 4)
    run = prepare_run_dir(tmp_path / "run", resume=False, overwrite=False)  # as fit makes it
    if saved:
        a_checkpoint(run / "checkpoints" / "last.pt")
        (run / "config.yaml").write_text(f"data:\n  root: {data}\n")
    argv = ["train", "--data", str(data), "--run-dir", str(run), "--no-progress", "--epochs", "1"]
    argv += ["--resume"] if resume else []
    with FolderLock(run):  # the live run
        assert main(argv) == 75
    err = capsys.readouterr().err
    assert f"error: {run} is in use by another unetlab process (pid " in err
    assert "already holds" not in err and "no run to resume" not in err
    if not resume:  # the folder of a run that ended: today's refusal
        assert main(argv) == 2
        assert f"{run} already holds a run" in capsys.readouterr().err
    elif not saved:
        assert main(argv) == 2
        assert f"{run} holds no run to resume" in capsys.readouterr().err
