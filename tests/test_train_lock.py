"""A run folder another unetlab process is training into is refused at once, before the data
is measured and the plan printed (it was refused after 18 s of measuring and a whole plan)."""

import pytest

import unetlab.plan
from unetlab.cli import main
from unetlab.outputs import LOCK, FolderLock

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
