"""Two ranks of threads (tests/test_folders_group_seconds.two_ranks) run the path where a
process but the main one hands the INFO lines of its files to the main one
(inference/handed_lines.py): the real launch of the same (tests/test_nproc_file_lines.py)
is slow. s58: the thread ranks ran none of it (neither kept a line where the test logged
INFO, the decision taken from the shared level), and rank 1's keeper kept the main rank's
lines as its own."""

from __future__ import annotations

import logging
import re

import numpy as np
import tifffile
import torch

from tests.test_folders_group_seconds import two_ranks
from unetlab import UNet
from unetlab.inference.folders import predict_folder

NAMES = ("s1", "s2", "s3", "s4")


def _said(caplog, run) -> list[tuple[str, str]]:
    """(thread, line) of the slides' own lines (``s1.tif: ...``) that ``run`` said, the
    seconds so far of a slide's steps left out (they differ from run to run)."""
    caplog.clear()
    run()
    said = [(r.threadName, r.getMessage()) for r in caplog.records]
    return [(t, re.sub(r"\d+ s so far", "_ s so far", m)) for t, m in said if m[:2] in NAMES]


def test_the_main_rank_says_every_files_lines_once_in_order(tmp_path, caplog):
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for name in NAMES:  # streamed (over 100 px), dealt in turn, whole
        tifffile.imwrite(tmp_path / "in" / f"{name}.tif", rng.integers(0, 255, (600, 40), "u1"))
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    how = dict(large_threshold=100, objects=True, progress=False)
    caplog.set_level(logging.INFO, logger="unetlab")

    def solo():
        predict_folder(net, tmp_path / "in", tmp_path / "one", **how)

    def ranks():
        two_ranks(
            lambda group: predict_folder(net, tmp_path / "in", tmp_path / "two", group=group, **how)
        )

    one = _said(caplog, solo)
    assert [m[:2] for _, m in one if "streaming" in m] == list(NAMES), one
    two = _said(caplog, ranks)
    assert {thread for thread, _ in two} == {"rank0"}, two
    # the main rank's own as they come (s1, s3), then rank 1's in input order (s2, s4)
    assert [m[:2] for _, m in two if "streaming" in m] == ["s1", "s3", "s2", "s4"], two
    for name in NAMES:  # each file's lines once, as one process says them
        theirs = [m.replace("/two", "/one") for _, m in two if m.startswith(name)]
        assert theirs == [m for _, m in one if m.startswith(name)], name
