"""A z-stack's empty planes (noise above and below the cells) under the model's floor are
not said to lose faint objects where its planes with objects have the training images'
contrast; a stack dim throughout still is (s69 zstacks)."""

import logging

import numpy as np
import tifffile
import torch

from tests.test_faint_line_run import FLOOR, _image, _Model, _net, _said
from unetlab.data.tiffmeta import PageAxes
from unetlab.inference import predict
from unetlab.inference.folders import predict_folder
from unetlab.inference.predict import floor_run, stack_stats

SOFT = "the floor flattens planes without objects, as it should; if these hold cells"


def test_a_stack_s_planes_under_the_floor_get_one_soft_line_where_its_cells_are_bright(
    monkeypatch, caplog
):
    """s69: nearly every z-stack predicted was told "contrast ... faint objects may be
    missed" (or "read as nearly empty") of its empty top and bottom planes, the floor
    flattening them as it should: a stack with a page of twice the floor (the least training
    image's contrast) says one softer line of them all; its best page at 1.9x, both lines.
    Review s69 1: the branch said nothing there, hiding the faint planes of thick tissue:
    an 8-plane stack fading 3.0x to 0.45x the floor is told of planes 5-7."""
    monkeypatch.setattr(predict, "_DIM_SAID", {})  # said outside a run: once a process
    caplog.set_level(logging.WARNING)
    empty_top = [0.6, 0.3, 0.65]
    stack_stats(_Model(), [_image(s, k) for k, s in enumerate([*empty_top, 2.0, 3.0, 0.62])])
    (line,) = _said(caplog)
    assert line.startswith("image page 0: contrast under the model's floor, the stack's")
    assert "brightest page (image page 4) 3.0x it: the floor flattens pages" in line
    assert line.endswith("faint ones may be missed (and 3 more pages)")
    caplog.clear()
    stack_stats(_Model(), [_image(s, k) for k, s in enumerate([*empty_top, 1.9, 0.62])])
    assert [line.split(":")[0] for line in _said(caplog)] == ["image page 0", "image page 1"]
    caplog.clear()
    fading = [3.0, 2.5, 2.0, 1.5, 1.0, 0.65, 0.55, 0.45]
    axes = PageAxes("Z", (8,))
    stack_stats(_Model(), [_image(s, k) for k, s in enumerate(fading)], axes=axes)
    (line,) = _said(caplog)
    assert line.startswith("image plane 5: contrast under the model's floor")
    assert "(image plane 0) 3.0x it: empty planes flattened; faint cells there may be" in line
    assert line.endswith("(and 2 more planes), as said in full for image page 0")


def test_the_soft_line_needs_a_page_at_twice_the_floor_in_every_channel(monkeypatch, caplog):
    """Exactly 2.0x the floor is bright enough; a page bright in one channel of two is
    not: the stack's dim planes are said in full."""
    monkeypatch.setattr(predict, "_DIM_SAID", {})
    caplog.set_level(logging.WARNING)
    exact = np.where(np.indices((48, 48)).sum(0) % 2, 22000, 18000)[..., None]
    stack_stats(_Model(), [exact.astype(np.uint16), _image(0.3)])  # std 2000: 2.0x
    assert SOFT.replace("planes", "pages") in _said(caplog)[0]
    caplog.clear()

    class Two(torch.nn.Module):
        normalization = {"mode": "per_image", "floor": [FLOOR, FLOOR], "dtype": "uint16"}

    def two(a, b, seed):
        return np.concatenate([_image(a, seed), _image(b, seed + 9)], axis=-1)

    stack_stats(Two(), [two(3.0, 1.0, 0), two(0.3, 0.3, 1)])
    (line,) = _said(caplog)
    assert line.startswith("image page 1: ") and "nearly empty" in line and "soft" not in line


def test_a_movie_s_faint_frames_are_said_in_full_beside_a_bright_one(monkeypatch, caplog):
    """A movie's frames under the floor beside a bright one are bleaching, not empty
    planes above the cells: said as on main."""
    monkeypatch.setattr(predict, "_DIM_SAID", {})
    caplog.set_level(logging.WARNING)
    frames = [_image(s, k) for k, s in enumerate([3.0, 0.6, 0.3])]
    stack_stats(_Model(), frames, axes=PageAxes("T", (3,)))
    assert [line.split(":")[0] for line in _said(caplog)] == ["image frame 1", "image frame 2"]


def test_a_streamed_stack_s_empty_planes_are_not_said_where_its_cells_have_contrast(
    tmp_path, caplog
):
    """The same for a stack read plane by plane (streamed): one soft line."""
    path = tmp_path / "stack.tif"
    planes = np.stack([_image(s, k)[..., 0] for k, s in enumerate([0.6, 0.6, 2.5, 0.3])])
    tifffile.imwrite(path, planes, imagej=True, metadata={"axes": "ZYX"})
    caplog.set_level(logging.WARNING)
    with floor_run():
        predict_folder(_net(), path, tmp_path / "out", progress=False, large_threshold=100)
    (line,) = [m for m in _said(caplog) if "floor" in m]
    assert "stack.tif plane 0: contrast under the model's floor, the stack's brightest" in line
    assert line.endswith("faint ones may be missed (and 2 more planes)")
    assert tifffile.TiffFile(tmp_path / "out" / "stack.tif").is_ome  # it streamed
