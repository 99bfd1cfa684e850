"""``unetlab train --minutes M`` takes about M minutes plus the plan's measurement of the data,
which the budget does not count (README "A time budget"): the log says how long that
measurement took and that it is outside the budget (a 6-minute run took 6 min 12 s, the
log said nothing of the 12 s)."""

import logging
import re

import numpy as np

from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.plan.record import Plan


def _data(root):
    rng = np.random.default_rng(0)
    for i in range(4):
        mask = np.zeros((48, 48), np.uint8)
        for y, x in rng.integers(6, 42, (3, 2)):
            mask[y - 4 : y + 4, x - 4 : x + 4] = 255
        image = (mask // 2 + rng.integers(0, 60, (48, 48))).astype(np.uint8)
        write_png(root / "images" / f"{i}.png", image)
        write_png(root / "masks" / f"{i}.png", mask)
    return root


def test_the_log_says_the_measurement_took_outside_the_budget(tmp_path):
    run = tmp_path / "run"
    args = ["train", "--data", str(_data(tmp_path / "data")), "--run-dir", str(run)]
    tiny = ["--set", "model.depth=2", "--set", "model.base_channels=4", "--no-progress"]
    assert main([*args, "--minutes", "0.05", *tiny]) == 0
    log = (run / "train.log").read_text()
    said = re.search(r"measured the data in \d+ s \(outside the 0\.05 min budget\)\n", log)
    assert said, log
    assert said.start() < log.index("plan from the data (")


def test_the_line_without_a_budget_names_none(caplog):
    caplog.set_level(logging.INFO)
    Plan(seconds=12.4, budget=6.0).log()
    Plan(seconds=3.0).log()
    Plan().log()  # a plan not timed: no line
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("measured")]
    assert lines == [
        "measured the data in 12 s (outside the 6 min budget)",
        "measured the data in 3 s",
    ]
