"""A stack counts all its pages in the memory rule (audit s34 stacks 5: a 100-frame
1024 x 1024 movie was read whole, 1.5 GB and rising, saying nothing), and a streamed stack
whose planes are one band each gets no band-seam warning (audit s34 stacks 9)."""

from __future__ import annotations

import logging

import numpy as np
import tifffile

from tests.test_output_tiff_meta import foreground_model
from unetlab.inference import sizing
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.records import OutputOptions
from unetlab.inference.stream_rule import is_streamed, whole_estimate, whole_read_note

H, W = 16, 20


def _movie(tmp_path, frames=5, h=H):
    pages = np.random.default_rng(0).integers(0, 255, (frames, h, W), dtype=np.uint8)
    path = tmp_path / "m.tif"
    meta = {"axes": "TYX", "finterval": 60, "unit": "um"}
    tifffile.imwrite(path, pages, imagej=True, resolution=(5, 5), metadata=meta)
    return path


def test_a_stack_counts_its_pages(tmp_path, monkeypatch):
    path, model = _movie(tmp_path), foreground_model()
    assert whole_estimate(path, model) is None  # the one-page note's estimate: as before
    pixels = 5 * H * W
    assert whole_estimate(path, model, stacks=True) == (
        pixels,
        sizing.whole_read_bytes(H * W, 1, 1, 2) + 4 * H * W * (1 + 1),  # + pixels, labels
    )
    assert sizing.stack_read_bytes(1, H * W, 1, 1, 2) == sizing.whole_read_bytes(H * W, 1, 1, 2)
    assert not is_streamed(path, model)
    monkeypatch.setattr(sizing, "WHOLE_BUDGET", H * W * 23.0)  # 5 pages over, 1 under
    assert is_streamed(path, model)
    assert not is_streamed(path, model, OutputOptions(draw_overlay=True))  # a TYXS overlay
    assert not is_streamed(_movie(tmp_path, frames=1), model)


def test_a_stack_over_the_budget_is_streamed_keeping_t(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(sizing, "WHOLE_BUDGET", 1000.0)
    caplog.set_level(logging.INFO)
    # split by distance: found in bands with a margin (32 rows), here one band a plane
    split = ObjectOptions(distance_split=True)
    movie = _movie(tmp_path, h=40)  # objects 40 rows tall: over half the margin
    written = predict_file(foreground_model(), movie, tmp_path / "out", objects=split)
    assert "streaming" in caplog.text
    assert "band seam" not in caplog.text  # each 40-row plane is one band: no seam
    out = {p.name: p for p in written}
    with tifffile.TiffFile(out["m_objects.tif"]) as tif:
        assert tif.is_ome and tif.series[0].axes == "TYX"
        assert tif.asarray().max() >= 1


def test_a_stack_read_whole_says_its_cost_and_how_to_stream_it(tmp_path):
    path, model, one = _movie(tmp_path), foreground_model(), tmp_path / "one.tif"
    tifffile.imwrite(one, np.zeros((H, W), np.uint8))
    note = whole_read_note(path, model, OutputOptions(draw_overlay=True), least=5 * H * W)
    # its path as given, as its other lines name it (it was its name alone, review s55 H8)
    assert note.startswith(f"{path}: 5 frames, 0.0 MP read whole (about 0.0 GB beside the tiles)")
    assert f"large_threshold={H * W - 1} streams it frame by frame (its T and Z kept)" in note
    assert note.endswith("its overlay then draws the first frame only")  # a movie's: frames
    assert whole_read_note(path, model, least=5 * H * W + 1) is None  # under the least
    assert whole_read_note(path, model, OutputOptions(large_threshold=10), least=1) is None
    said = whole_read_note(one, model, least=1)  # one page: the line as before
    assert said == (
        f"{one}: 0.0 MP read whole (about 0.0 GB beside the tiles); large_threshold="
        f"{H * W - 1} streams it, with a line every 10% of its tiles"
    )


def test_a_whole_read_names_the_threshold_as_its_caller_gives_it(tmp_path):
    """The line gave the command line's flag alone (review s55 H8): a notebook is told
    ``large_threshold=N``, the command line ``--large-pixels N``."""
    from unetlab.errors import command_spelling

    path, model = _movie(tmp_path), foreground_model()
    note = whole_read_note(path, model, least=1)
    assert f"; large_threshold={H * W - 1} streams it frame by frame" in note, note
    assert "--large-pixels" not in note
    with command_spelling():
        said = whole_read_note(path, model, least=1)
    assert f"; --large-pixels {H * W - 1} streams it frame by frame" in said, said
