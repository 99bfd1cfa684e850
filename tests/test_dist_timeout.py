"""The processes of ``--nproc N`` wait in a collective while the main one validates alone: they
wait ``train.dist_timeout_minutes`` (6 h), not the backend's own 30 min (gloo) or 10 min (NCCL
in some torch versions), which ended a long validation's run with a timeout."""

import subprocess
import sys

import pytest

from unetlab.config import Config
from unetlab.errors import UnetlabError

from .test_distributed import finished, with_site

# the others' wait for a long validation of the main process, in the launch of
# test_distributed.py's test_two_processes_train_like_one_with_the_global_batch_and_resume...
# (SLOW_VALIDATION there: one launch less)


@pytest.mark.parametrize("minutes", [0, -1, float("inf"), 1e13, 1e-9, 0.5])
def test_a_timeout_that_is_no_wait_is_one_line(minutes):
    """1e-9 and 0.5 (s44 small 5) timed out every collective, the processes' start first."""
    with pytest.raises(UnetlabError, match="train.dist_timeout_minutes must be a finite number"):
        Config.from_dict({"train": {"dist_timeout_minutes": minutes}})


@pytest.mark.parametrize("minutes", [1, 1.5, 360, 1e9])
def test_a_timeout_from_one_minute_is_taken(minutes):
    assert (
        Config.from_dict({"train": {"dist_timeout_minutes": minutes}}).train.dist_timeout_minutes
        == minutes
    )


def test_the_group_waits_as_long_as_it_is_told(monkeypatch):
    import datetime

    import torch
    import torch.distributed as dist

    from unetlab.group import Group

    seen = []
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group", lambda backend, **kw: seen.append(kw))
    monkeypatch.setattr(dist, "barrier", lambda: None)
    monkeypatch.setattr(dist, "destroy_process_group", lambda: None)
    with Group(0, 2, 0, active=True).joined(torch.device("cpu"), 0.5):
        pass
    assert seen == [{"timeout": datetime.timedelta(seconds=30)}]


# predict: one process's share of the files takes longer; the other waits in the gather
PREDICT_HOOK = """
import os
if "RANK" in os.environ:
    import datetime, time
    import torch.distributed.distributed_c10d as c10d
    c10d._get_default_timeout = lambda backend: datetime.timedelta(seconds=1)
    import unetlab.inference.folders as folders
    slow = folders.predict_or_fail
    def predict_or_fail(*args, **kwargs):
        if os.environ["RANK"] == "0":
            time.sleep(3)
        return slow(*args, **kwargs)
    folders.predict_or_fail = predict_or_fail
"""


@pytest.mark.slow
def test_a_predict_process_waits_for_a_longer_share_of_the_others(tmp_path):
    """A review: predict's groups kept the backend's timeout (gloo 30 min, NCCL 10), so a
    process whose files were done waited in vain for one with a longer share, and the run
    failed after its work."""
    import numpy as np
    from PIL import Image

    from unetlab import UNet, save_model

    (tmp_path / "in").mkdir()
    for i in range(2):
        Image.fromarray(np.full((32, 32), 40 * i, np.uint8)).save(tmp_path / "in" / f"{i}.png")
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same").eval())
    env = with_site(tmp_path / "hook", PREDICT_HOOK)
    args = ["--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    out = subprocess.run(
        [sys.executable, "-m", "unetlab", "predict", *args, "--output", str(tmp_path / "out")]
        + ["--nproc", "2", "--no-progress", "--device", "cpu"],  # one GPU takes one process
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert finished(out), out.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["0.png", "1.png"]
