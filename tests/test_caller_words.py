"""Each caller its own words (s54 words2): lines and refusals that named the command line's
flags to a Python caller (or both spellings to everyone) say the Python form from Python and
the flag on the command line."""

from __future__ import annotations

import logging

import torch

from unetlab.errors import command_spelling


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
