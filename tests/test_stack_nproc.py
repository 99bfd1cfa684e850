"""``--nproc 2`` on streamed stacks: each process its band of rows of every frame gives the
outputs one process gives (a movie's T axis and frame interval, a multi-position file's
positions)."""

from __future__ import annotations

import threading

import numpy as np
import tifffile

from tests.test_folders_group_seconds import two_ranks
from unetlab import UNet, predict_folder
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


def _predict(tmp_path, model, out: str, processes: int, **outputs) -> None:
    """predict's streamed stacks (over 100 px a page) in one process, or in two ranks of a
    group (threads standing in for torchrun's processes: the collectives meet at a
    barrier; a real --nproc 2 launch streams a slide in test_slides)."""
    run = dict(large_threshold=100, progress=False, **outputs)
    if processes == 1:
        predict_folder(model, tmp_path / "in", tmp_path / out, **run)
    else:
        two_ranks(
            lambda group: predict_folder(model, tmp_path / "in", tmp_path / out, group=group, **run)
        )


def test_two_processes_stream_stacks_as_one_does(tmp_path):
    _inputs(tmp_path / "in")
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    _predict(tmp_path, model, "one", 1, save_probabilities=True, objects=True)
    ranks = set()  # both ranks predict (a band of each frame each)
    model.register_forward_pre_hook(lambda *_: ranks.add(threading.current_thread().name))
    _predict(tmp_path, model, "two", 2, save_probabilities=True)
    assert ranks == {"rank0", "rank1"}, ranks
    for name in ("movie", "p_pos0", "p_pos1"):
        for suffix in ("", "_prob"):
            one, two = (tmp_path / d / f"{name}{suffix}.tif" for d in ("one", "two"))
            with tifffile.TiffFile(one) as a, tifffile.TiffFile(two) as b:
                assert a.series[0].axes == b.series[0].axes and a.series[0].axes[0] == "T"
                frames = a.series[0].shape[0]
                np.testing.assert_allclose(b.series[0].asarray(), a.series[0].asarray(), atol=1e-6)
            assert read_page_axes(two, frames).timing == read_page_axes(one, frames).timing != {}
    ranks.clear()  # with objects, each file is streamed whole by one rank, as one process does
    _predict(tmp_path, model, "alone", 2, objects=True)
    assert ranks == {"rank0", "rank1"}, ranks  # the movie by one, the positions by the other
    for name in ("movie_objects.csv", "p_pos1_objects.csv", "objects_summary.csv"):
        one, alone = ((tmp_path / d / name).read_text() for d in ("one", "alone"))
        assert alone == one and "t_s" in one
