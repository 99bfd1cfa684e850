"""Each caller its own words (s54 words2): lines and refusals that named the command line's
flags to a Python caller (or both spellings to everyone) say the Python form from Python and
the flag on the command line."""

from __future__ import annotations

import logging

import pytest
import torch

from unetlab.errors import UnetlabError, command_spelling, first_line


def _both(say) -> tuple[str, str]:
    """What ``say()`` logs (unetlab's INFO lines) from Python, then on the command line."""

    class Kept(logging.Handler):
        def __init__(self):
            super().__init__(logging.INFO)
            self.lines = []

        def emit(self, record):
            self.lines.append(record.getMessage())

    kept = Kept()
    package = logging.getLogger("unetlab")
    before = package.level
    package.addHandler(kept)
    package.setLevel(logging.INFO)
    try:
        say()
        python = "\n".join(kept.lines)
        kept.lines.clear()
        with command_spelling():
            say()
        return python, "\n".join(kept.lines)
    finally:
        package.removeHandler(kept)
        package.setLevel(before)


def test_an_unmeasured_label_offset_says_more_time_as_the_caller_gives_it():
    """fit in a notebook was told "give more --minutes to measure it"."""
    from unetlab.train.schedule import BudgetSchedule, ValidationPacer

    def drop():
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        budget = BudgetSchedule(optimizer, "cosine", total_steps=10, seconds=60)
        ValidationPacer(0.1, budget=budget, after=10).record(0.0, 2.0)  # 20 s of 60: dropped

    python, cli = _both(drop)
    assert python.endswith("(give more time (cfg.train.max_minutes) to measure it)"), python
    assert "--" not in python
    assert cli.endswith("(give more --minutes to measure it)"), cli


def test_weak_classes_say_the_budget_as_the_caller_sets_it():
    """Everyone was told "(--minutes, train.max_minutes)"."""
    from unetlab.train.log import log_weak_classes

    python, cli = _both(
        lambda: log_weak_classes(["bg", "pole"], {"iou": [0.9, 0.0], "pixels": [10, 3]})
    )
    assert "a rare class needs more steps (train.max_minutes) or more images" in python
    assert "--" not in python
    assert "a rare class needs more steps (--minutes, train.max_minutes) or more" in cli


def _refusal(call) -> tuple[str, str]:
    """The refusal ``call()`` raises: its message (Python's words) and its CLI line."""
    with pytest.raises(UnetlabError) as caught:
        call()
    return str(caught.value), first_line(caught.value, cli=True)


def test_a_large_images_overlay_or_objects_in_a_group_say_one_process_as_the_caller_runs_it(
    tmp_path,
):
    """A script under torchrun was told "drop --nproc, or --overlay" / "--instances"."""
    from unetlab.group import Group
    from unetlab.inference.records import OutputOptions
    from unetlab.inference.slides import _check_request

    group = Group(rank=0, world=2, active=True)
    python, cli = _refusal(
        lambda: _check_request(tmp_path / "big.tif", OutputOptions(), group, overlay=[(0, 0, 0)])
    )
    assert python.endswith(
        "drawn in one process: run it in one process (not under torchrun), or without an "
        "overlay (draw_overlay=False)"
    ), python
    assert cli.endswith("drawn in one process: drop --nproc, or --overlay"), cli
    python, cli = _refusal(
        lambda: _check_request(tmp_path / "big.tif", OutputOptions(objects=True), group)
    )
    assert python.endswith("or without objects (objects=None)") and "--" not in python
    assert cli.endswith("(their ids must agree across bands): drop --nproc, or --instances")


def test_a_begun_cross_validation_is_refused_in_the_callers_words(tmp_path):
    """fit_folds in a notebook was told "add --resume (resume=True) ... --overwrite
    (overwrite=True) ... another --run-dir", both spellings."""
    from unetlab.train.folds import refuse_begun

    from .test_train_safety import a_checkpoint

    a_checkpoint(tmp_path / "fold_1" / "checkpoints" / "last.pt")
    python, cli = _refusal(lambda: refuse_begun(tmp_path))
    assert python.endswith(
        "(fold_1 saved checkpoints): add resume=True to go on with it (the folds done are "
        "kept), overwrite=True to start again, or give another run_dir"
    ), python
    assert cli.endswith(
        "(fold_1 saved checkpoints): add --resume to go on with it (the folds done are "
        "kept), --overwrite to start again, or give another --run-dir"
    ), cli


def test_resume_auto_is_said_as_the_caller_gave_it(tmp_path):
    """Everyone was told "--resume auto (resume='auto')"."""
    from unetlab.train.rundir import resume_wanted

    python, cli = _both(lambda: resume_wanted("auto", tmp_path))
    said = f"{tmp_path}: no checkpoint to resume: starting the run"
    assert python == f"resume='auto': {said}"
    assert cli == f"--resume auto: {said}"


def test_a_resume_into_no_run_folder_is_refused_in_the_callers_words(tmp_path):
    """The command line was told "give run_dir ... without resume=True"."""
    import contextlib

    from unetlab.config import Config, DataSection
    from unetlab.train.rundir import claim_run_dir

    cfg, run = Config(data=DataSection(root=str(tmp_path / "data"))), tmp_path / "runs" / "r"
    with contextlib.ExitStack() as held:
        python, cli = _refusal(
            lambda: claim_run_dir(run, cfg, resume=True, overwrite=False, held=held)
        )
    assert python.endswith(
        "no such run folder to resume; give run_dir a run that saved a checkpoint, or start "
        "a new run without resume=True"
    ), python
    assert cli.endswith(
        "no such run folder to resume; give --run-dir a run that saved a checkpoint, or "
        "start a new run without --resume"
    ), cli


def test_a_levels_imagej_outlines_past_their_limit_are_refused_in_the_callers_words(tmp_path):
    """Both were said to each: "use --outlines geojson (outlines='geojson')"; now only a level
    past what ImageJ ROIs hold is refused, naming a smaller level too (s64)."""
    from types import SimpleNamespace

    from unetlab.inference.records import OutputOptions
    from unetlab.inference.slides import _check_rois

    outputs = OutputOptions(objects=True, outlines="imagej")
    slide = SimpleNamespace(path=tmp_path / "big.tif", level=1, levels=2, shape=(1, 40000, 3000, 3))
    python, cli = _refusal(lambda: _check_rois(slide, outputs))
    stop = "big.tif: level 1 is 40,000 x 3,000 px, and ImageJ ROIs (in its pixels) stop at "
    assert python.endswith(
        f"{stop}32,767 px: use a smaller level (level=N), or outlines='geojson'"
    ), python
    assert cli.endswith(f"{stop}32,767 px: use a smaller level (--level N), or --outlines geojson")
    slide.shape = (1, 32767, 3000, 3)
    _check_rois(slide, outputs)  # it fits: no refusal
