"""``--nproc 2`` on streamed stacks: each process its band of rows of every frame gives the
outputs one process gives (a movie's T axis and frame interval, a multi-position file's
positions)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import tifffile

from tests.test_distributed import finished
from unetlab import UNet, save_model
from unetlab.data.tiffmeta import read_page_axes

#: two chunk rows (ome.CHUNK = 512): a band for each of two processes
H, W = 600, 40


def _inputs(folder):
    """A 3-frame movie (20 s a frame) and a 2-position OME-TIFF of 2 frames each."""
    rng = np.random.default_rng(0)
    folder.mkdir()
    movie = rng.integers(0, 255, (3, H, W), dtype=np.uint8)
    meta = {"axes": "TYX", "finterval": 20}
    tifffile.imwrite(folder / "movie.tif", movie, imagej=True, metadata=meta)
    with tifffile.TiffWriter(folder / "p.ome.tif", ome=True) as tw:
        for i in range(2):
            frames = rng.integers(0, 255, (2, H, W), dtype=np.uint8)
            tw.write(frames, metadata={"axes": "TYX", "TimeIncrement": 5.0 * (i + 1)})


def _predict(tmp_path, out: str, processes: int, *flags: str):
    args = ["--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    args += ["--output", str(tmp_path / out), "--large-pixels", "100", *flags]
    args += ["--device", "cpu"]  # two processes on one GPU are refused; 1 and 2 alike on CPU
    run = subprocess.run(
        [sys.executable, "-m", "unetlab", "predict", *args, "--nproc", str(processes)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished(run), run.stderr[-3000:]


def test_two_processes_stream_stacks_as_one_does(tmp_path):
    _inputs(tmp_path / "in")
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    save_model(tmp_path / "m.pt", model)
    _predict(tmp_path, "one", 1, "--save-probabilities", "--instances")
    _predict(tmp_path, "two", 2, "--save-probabilities")  # each process a band of each frame
    for name in ("movie", "p_pos0", "p_pos1"):
        for suffix in ("", "_prob"):
            one, two = (tmp_path / d / f"{name}{suffix}.tif" for d in ("one", "two"))
            with tifffile.TiffFile(one) as a, tifffile.TiffFile(two) as b:
                assert a.series[0].axes == b.series[0].axes and a.series[0].axes[0] == "T"
                frames = a.series[0].shape[0]
                np.testing.assert_allclose(b.series[0].asarray(), a.series[0].asarray(), atol=1e-6)
            assert read_page_axes(two, frames).timing == read_page_axes(one, frames).timing != {}
    _predict(tmp_path, "alone", 2, "--instances")  # each file streamed by one process
    for name in ("movie_objects.csv", "p_pos1_objects.csv", "objects_summary.csv"):
        one, alone = ((tmp_path / d / name).read_text() for d in ("one", "alone"))
        assert alone == one and "t_s" in one
