"""A folder's start line (``N file(s) (M large)``) and its split over processes follow the
rule a file predicted alone follows (inference/stream_rule.py): a one-page TIFF whose whole
read is estimated over the memory budget is large, predicted by every process (each its
band of rows), unless objects or an overlay are asked for, which a shared stream does not
find: then the one process it is dealt to streams it alone, as a run of one does (it read it
whole before: review s33 5)."""

import logging
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab import UNet
from unetlab.errors import UnetlabError
from unetlab.group import SOLO, Group
from unetlab.inference import folders, sizing
from unetlab.inference.folders import predict_folder, streamed_inputs
from unetlab.inference.output_rules import held_folders
from unetlab.inference.records import OutputOptions


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    monkeypatch.setattr(sizing, "WHOLE_BUDGET", 1000.0)  # a.tif is over it: 5 KB read whole
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(0)
    tifffile.imwrite(
        folder / "a.tif", rng.integers(0, 255, (64, 80, 3), np.uint8), photometric="rgb"
    )
    Image.fromarray(rng.integers(0, 255, (20, 20, 3), np.uint8)).save(folder / "b.png")
    return folder


def _model():
    return UNet(3, 2, depth=2, base_channels=4, padding="same").eval()


def test_the_start_line_counts_the_files_streamed_by_memory(inputs, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        predict_folder(_model(), inputs, tmp_path / "out")
    assert "predict: 2 files (1 large)" in caplog.text  # was (0 large)
    assert tifffile.TiffFile(tmp_path / "out" / "a.tif").is_ome  # streamed, as counted
    assert (tmp_path / "out" / "b.png").exists()


@pytest.mark.parametrize(
    "asked, mine",
    [({}, ["a.tif", "b.png"]), ({"objects": True}, ["b.png"]), ({"draw_overlay": True}, ["b.png"])],
)
def test_the_second_of_two_processes_shares_a_file_streamed_by_memory(
    inputs, tmp_path, monkeypatch, asked, mine
):
    """Rank 1 of 2 (no collectives: a plain group of that place) predicts the streamed file
    with rank 0 and its own turn of the others; with objects or an overlay that file is
    rank 0's alone."""
    taken = []

    def predicted(model, path, *args, **kwargs):
        taken.append(path.name)
        return UnetlabError("not predicted here")  # a failure: nothing to count

    monkeypatch.setattr(folders, "predict_or_fail", predicted)
    predict_folder(_model(), inputs, tmp_path / "out", group=Group(rank=1, world=2), **asked)
    assert taken == mine


def test_the_folders_rule_is_predict_files(inputs):
    model, files = _model(), [inputs / "a.tif", inputs / "b.png"]
    assert streamed_inputs(files, model, OutputOptions(), {}) == [True, False]
    assert streamed_inputs(files, model, OutputOptions(large_threshold=10**6), {}) == [False, False]
    assert streamed_inputs(files, model, OutputOptions(), {"exclude_rows": "bottom=4"}) == [
        False,
        False,
    ]
    assert streamed_inputs(files, model, OutputOptions(), {"axes": "YXS"}) == [True, False]
    assert streamed_inputs(files, model, OutputOptions(), {"axes": "YXC"}) == [True, False]


@pytest.mark.parametrize("asked", [{"objects": True}, {"draw_overlay": True}])
def test_a_file_streamed_by_memory_with_objects_is_streamed_by_its_process_alone(
    inputs, tmp_path, asked
):
    """Rank 0 of 2 streams the file dealt to it as a run of one does (it read it whole),
    with the same outputs; rank 1 takes b.png."""
    model = _model()
    predict_folder(model, inputs, tmp_path / "one", **asked)
    predict_folder(model, inputs, tmp_path / "two", group=Group(rank=0, world=2), **asked)
    labels = tmp_path / "two" / "a.tif"
    assert tifffile.TiffFile(labels).is_ome  # streamed
    assert not (tmp_path / "two" / "b.png").exists()  # rank 1's
    for name in ("a.tif", "a_objects.tif", "a_objects.csv", "a_overlay.png"):
        one, two = tmp_path / "one" / name, tmp_path / "two" / name
        assert one.exists() == two.exists(), name
        if name.endswith(".tif") and one.exists():
            assert np.array_equal(tifffile.imread(one), tifffile.imread(two)), name


def test_the_process_streaming_a_file_alone_writes_into_the_groups_folder(
    inputs, tmp_path, monkeypatch
):
    """Rank 1 of 2 predicts its file as a group of one, in the folder the main process
    holds for the group (not claimed again)."""
    (inputs / "b.png").rename(inputs / "0.png")  # a.tif second: rank 1's
    calls = []

    def predicted(model, path, out_dir, *args, group, **kwargs):
        calls.append((path.name, group, Path(out_dir).resolve() in held_folders()))
        return UnetlabError("not predicted here")

    monkeypatch.setattr(folders, "predict_or_fail", predicted)
    out = tmp_path / "out"
    predict_folder(_model(), inputs, out, group=Group(rank=1, world=2), objects=True)
    assert calls == [("a.tif", SOLO, True)]
    assert out.resolve() not in held_folders()


def test_a_file_over_the_pixel_threshold_with_objects_is_streamed_alone_not_refused(
    inputs, tmp_path
):
    """Over --large-pixels it was shared by all, which refused objects ('drop --nproc')."""
    out = tmp_path / "out"
    result = predict_folder(
        _model(), inputs, out, group=Group(rank=0, world=2), objects=True, large_threshold=100
    )
    assert not result.failed and tifffile.TiffFile(out / "a.tif").is_ome
    assert (out / "a_objects.csv").exists()


def test_the_start_line_counts_a_file_large_by_any_of_its_positions(tmp_path, caplog):
    """A multi-position OME-TIFF was counted large or not by its first position alone: a
    later one, streamed by its own size, was not counted."""
    from tests.test_positions import _sizes

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    _sizes(folder / "p.ome.tif")  # pages of 16 x 20 px, then of 32 x 40 px
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    with caplog.at_level(logging.INFO):
        predict_folder(model, folder, out, large_threshold=500)
    assert "predict: 1 file (1 large)" in caplog.text  # was (0 large)
    for i, streamed in enumerate([False, True]):  # as counted
        assert tifffile.TiffFile(out / f"p_pos{i}.tif").is_ome == streamed
