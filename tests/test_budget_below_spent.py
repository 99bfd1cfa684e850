"""A resume given a time budget below the time the run has spent already (``--resume
--minutes 0.05`` of a run that spent 6 s) trains nothing more: that was said at INFO only
("it is spent, so no more training"; for a schedule not on the clock, "time budget: 0.1 of
0.05 min spent"). It is one warning line now, naming the minutes spent, the new budget and
the fix; the same budget given again (a requeued job) warns nothing."""

import logging
import math

import pytest

from tests.test_budget import FOUR_STEPS, _fake_machine
from tests.test_train import tiny_config, write_blobs
from unetlab.train import fit

pytestmark = pytest.mark.usefixtures("one_thread")


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("schedule", ["cosine", "none"])
def test_a_budget_below_the_time_spent_is_one_warning(tmp_path, monkeypatch, caplog, schedule):
    data = write_blobs(tmp_path / "data", 4)
    clock = _fake_machine(monkeypatch, 0.5)
    own = ("train.epochs=1000", *FOUR_STEPS, f"train.schedule={schedule}")
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
        f"(train.max_minutes): training ends at once; to train on, set cfg.train.max_minutes "
        f"to more than {spent}"  # fit's caller has no --minutes (s54)
    )


def test_a_resume_with_its_budget_spent_does_not_say_the_busy_cpu_buys_fewer_steps(
    tmp_path, monkeypatch, caplog
):
    """The busy CPU's line ("the budget ... buys fewer steps while other jobs run") was said
    at the start of a resume whose budget was already spent, which trains no step."""
    from unetlab.train import log as train_log

    monkeypatch.setattr(train_log, "cores_in_use", lambda **kw: 3.0)  # other work: 3 cores
    data = write_blobs(tmp_path / "data", 4)
    clock = _fake_machine(monkeypatch, 0.5)
    cfg = tiny_config(data, "train.epochs=1000", *FOUR_STEPS, "train.max_minutes=0.1")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        first = fit(cfg, run_dir=tmp_path / "run", progress=False, clock=clock)
    assert [w for w in _warnings(caplog) if "the CPU is busy" in w]  # a run that trains
    for minutes in ("0.1", "0.05"):  # the same budget (a requeue), and one below the time spent
        caplog.clear()
        cfg = tiny_config(data, "train.epochs=1000", *FOUR_STEPS, f"train.max_minutes={minutes}")
        with caplog.at_level(logging.INFO, logger="unetlab"):
            again = fit(cfg, run_dir=tmp_path / "run", resume=True, progress=False, clock=clock)
        assert again["steps"] == first["steps"]  # no step more
        assert not [w for w in _warnings(caplog) if "the CPU is busy" in w], minutes


def test_a_resume_without_a_budget_is_told_the_least_budget_that_trains_on(
    tmp_path, monkeypatch, capsys
):
    """A budgeted run's resume without a budget is refused; its fix said "--minutes M (more
    than 0)", where a budget below the minutes spent trains nothing: it names them."""
    from unetlab.checkpoint import load_checkpoint
    from unetlab.cli import main
    from unetlab.errors import UnetlabError

    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    clock = _fake_machine(monkeypatch, 0.5)
    own = ("train.epochs=1000", *FOUR_STEPS)
    fit(tiny_config(data, *own, "train.max_minutes=0.05"), run_dir=run, progress=False, clock=clock)
    spent = load_checkpoint(run / "checkpoints" / "last.pt")["scheduler"]["elapsed"] / 60
    least = f"{math.ceil(spent * 100) / 100:g}"
    with pytest.raises(UnetlabError) as refused:
        fit(tiny_config(data, *own), run_dir=run, resume=True, progress=False, clock=clock)
    assert str(refused.value).endswith(
        f"resume it with cfg.train.max_minutes = M (more than {least}, the minutes it has spent) to "
        "give it more time"
    )
    assert main(["train", "--run-dir", str(run), "--resume", "--minutes", "0"]) == 2
    assert f"--minutes M (more than {least}, the minutes it has spent)" in capsys.readouterr().err
