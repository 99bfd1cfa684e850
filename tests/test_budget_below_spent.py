"""A resume given a time budget below the time the run has spent already (``--resume
--minutes 0.05`` of a run that spent 6 s) trains nothing more: that was said at INFO only
("it is spent, so no more training"; for a schedule not on the clock, "time budget: 0.1 of
0.05 min spent"). It is one warning line now, naming the minutes spent, the new budget and
the fix; the same budget given again (a requeued job) warns nothing."""

import logging

import pytest

from tests.test_budget import _fake_machine
from tests.test_train import tiny_config, write_blobs
from unetlab.train import fit

pytestmark = pytest.mark.usefixtures("one_thread")


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("schedule", ["cosine", "none"])
def test_a_budget_below_the_time_spent_is_one_warning(tmp_path, monkeypatch, caplog, schedule):
    data = write_blobs(tmp_path / "data", 4)
    clock = _fake_machine(monkeypatch, 0.1)
    own = ("train.epochs=1000", "data.tiles_per_epoch=16", f"train.schedule={schedule}")
    run = tmp_path / "run"
    first = fit(
        tiny_config(data, *own, "train.max_minutes=0.1"), run_dir=run, progress=False, clock=clock
    )
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        fit(
            tiny_config(data, *own, "train.max_minutes=0.1"),
            run_dir=run,
            resume=True,
            progress=False,
            clock=clock,
        )
    assert not [w for w in _warnings(caplog) if "spent" in w]  # the same budget: a requeue
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        again = fit(
            tiny_config(data, *own, "train.max_minutes=0.05"),
            run_dir=run,
            resume=True,
            progress=False,
            clock=clock,
        )
    assert again["steps"] == first["steps"]  # no step more
    said = [w for w in _warnings(caplog) if "spent" in w]
    assert len(said) == 1, said
    spent = said[0].split("the run has spent ")[1].split(" min")[0]
    assert float(spent) >= 0.1
    assert said[0] == (
        f"warning: the run has spent {spent} min, more than the new time budget of 0.05 min "
        f"(--minutes, train.max_minutes): training ends at once; to train on, give --minutes "
        f"more than {spent}"
    )
