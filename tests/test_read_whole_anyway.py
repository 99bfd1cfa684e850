"""A threshold given (``--large-pixels N``, ``large_threshold=N``) streams TIFF and Zarr
inputs only: a PNG over it is read whole, said in one line in the caller's form (s56 new
user: a 9 MP PNG under --large-pixels 1000000 was read whole without a word)."""

from __future__ import annotations

import logging

import numpy as np

from unetlab import UNet
from unetlab.data.io import write_png
from unetlab.data.read_notes import read_notes
from unetlab.errors import command_spelling
from unetlab.inference.folders import predict_folder

SAID = "read whole: "


def _run(tmp_path, out: str, caplog, threshold: int) -> list[str]:
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    caplog.clear()
    with caplog.at_level(logging.INFO), read_notes():
        predict_folder(
            net, tmp_path / "in", tmp_path / out, progress=False, large_threshold=threshold
        )
    return [m for m in caplog.messages if SAID in m]


def test_a_png_over_the_threshold_is_said_read_whole_in_the_callers_form(tmp_path, caplog):
    write_png(tmp_path / "in" / "a.png", np.zeros((20, 30), np.uint8))
    write_png(tmp_path / "in" / "b.png", np.zeros((40, 50), np.uint8))
    (line,) = _run(tmp_path, "py", caplog, 1000)
    assert line.startswith("b.png: 2,000 px, read whole: large_threshold=1000 streams TIFF")
    with command_spelling():
        (line,) = _run(tmp_path, "cli", caplog, 1000)
    assert (
        "read whole: --large-pixels 1000 streams TIFF, Zarr, MRC, HDF5, CZI and .npy inputs only"
        in line
    )
    assert _run(tmp_path, "under", caplog, 5000) == []  # none over it: nothing said


def test_an_npz_over_the_threshold_is_said_read_whole_naming_np_save(tmp_path, caplog):
    """s73: an .npz above --large-pixels was read whole without a word (its arrays cannot be
    memory-mapped); an .npy of the same array streams: nothing said of it."""
    (tmp_path / "in").mkdir()
    np.savez(tmp_path / "in" / "a.npz", np.zeros((40, 50), np.float32))
    np.save(tmp_path / "in" / "b.npy", np.zeros((40, 50), np.float32))
    (line,) = _run(tmp_path, "py", caplog, 1000)
    assert line.startswith("a.npz: 2,000 px, read whole: large_threshold=1000 streams ")
    assert "cannot be memory-mapped: save its array with np.save(path, array) as an .npy" in line
