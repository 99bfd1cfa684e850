"""A z-stack's empty planes (noise above and below the cells) under the model's floor are
not said to lose faint objects where its planes with objects have the training images'
contrast; a stack dim throughout still is (s69 zstacks)."""

import logging

import numpy as np
import tifffile

from tests.test_faint_line_run import _image, _Model, _net, _said
from unetlab.inference import predict
from unetlab.inference.folders import predict_folder
from unetlab.inference.predict import floor_run, stack_stats


def test_a_stack_s_empty_planes_are_not_said_where_its_cells_have_the_trained_contrast(
    monkeypatch, caplog
):
    """s69: nearly every z-stack predicted was told "contrast ... faint objects may be
    missed" (or "read as nearly empty") of its empty top and bottom planes, the floor
    flattening them as it should: a stack with a page of twice the floor (the least training
    image's contrast) says nothing; with its best page at 1.9x it says both lines."""
    monkeypatch.setattr(predict, "_DIM_SAID", {})  # said outside a run: once a process
    caplog.set_level(logging.WARNING)
    empty_top = [0.6, 0.3, 0.65]
    stack_stats(_Model(), [_image(s, k) for k, s in enumerate([*empty_top, 2.0, 3.0, 0.62])])
    assert _said(caplog) == []
    stack_stats(_Model(), [_image(s, k) for k, s in enumerate([*empty_top, 1.9, 0.62])])
    assert [line.split(":")[0] for line in _said(caplog)] == ["image page 0", "image page 1"]


def test_a_streamed_stack_s_empty_planes_are_not_said_where_its_cells_have_contrast(
    tmp_path, caplog
):
    """The same for a stack read plane by plane (streamed)."""
    path = tmp_path / "stack.tif"
    planes = np.stack([_image(s, k)[..., 0] for k, s in enumerate([0.6, 0.6, 2.5, 0.3])])
    tifffile.imwrite(path, planes, imagej=True, metadata={"axes": "ZYX"})
    caplog.set_level(logging.WARNING)
    with floor_run():
        predict_folder(_net(), path, tmp_path / "out", progress=False, large_threshold=100)
    assert not [m for m in _said(caplog) if "floor" in m]
    assert tifffile.TiffFile(tmp_path / "out" / "stack.tif").is_ome  # it streamed
