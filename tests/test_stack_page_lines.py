"""A movie read whole says where it is in a log, as a streamed one does: a line every 10%
of its frames where no bar is shown (audit s37 timelapse 6: 120 frames, 222 s, no line)."""

from __future__ import annotations

import logging

import numpy as np
import tifffile
import torch

from unetlab import UNet
from unetlab.inference import slide_progress
from unetlab.inference.files import predict_file
from unetlab.inference.slide_progress import PageLines


def test_a_movie_read_whole_says_its_frames(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(slide_progress, "PAGE_LINES_FROM", 10)  # 10 frames predict faster
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    movie = np.random.default_rng(0).integers(0, 255, (10, 16, 16)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "m.tif", movie, imagej=True, metadata={"axes": "TYX"})
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_file(net, tmp_path / "m.tif", tmp_path / "o")
    lines = [r.getMessage() for r in caplog.records if " so far" in r.getMessage()]
    assert len(lines) == 10, lines  # one a frame: 10% of 10
    assert lines[0].startswith(f"{tmp_path / 'm.tif'}: frame 0 (1 of 10), ")  # as given
    assert lines[-1].startswith(f"{tmp_path / 'm.tif'}: frame 9 (10 of 10), ")
    assert lines[-1].endswith(" so far"), lines[-1]  # it said "about 0 s left" (s57)


def test_page_lines_by_time_and_not_for_few_pages(caplog):
    now = [0.0]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        short = PageLines("s.tif", 19, clock=lambda: now[0])
        for i in range(19):
            short.done(f"frame {i}")
        assert caplog.records == []
        long = PageLines("l.tif", 1000, clock=lambda: now[0])
        long.done("frame 0")
        now[0] = 61.0
        long.done("frame 1")
    assert [r.getMessage() for r in caplog.records] == [
        "l.tif: frame 1 (2 of 1000), 1 min 01 s so far, about 8 h 27 min left"
    ]


def test_page_lines_never_say_about_0_s_left(caplog):
    """A stack's last page line said "about 0 s left", and an estimate under half a second
    rounded to it (s57): the last says none, one under a second "< 1 s left"."""
    now = [0.0]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        lines = PageLines("l.tif", 1000, clock=lambda: now[0])
        for i in range(999):
            now[0] += 0.0001 if i < 100 else 0.01
            lines.done(f"frame {i}")
        now[0] += 0.01
        lines.done("frame 999")
    said = [r.getMessage() for r in caplog.records]
    assert not [m for m in said if "0 s left" in m], said
    assert said[0] == "l.tif: frame 99 (100 of 1000), 0 s so far, < 1 s left"
    assert said[-1] == "l.tif: frame 999 (1000 of 1000), 9 s so far"
