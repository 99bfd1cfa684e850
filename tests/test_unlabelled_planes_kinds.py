"""The unlabelled-planes warning (data/unlabelled_planes.py) of class masks, of a TZYX
hyperstack's time points, and not of a fully labelled dense tissue (s69 zstacks)."""

from __future__ import annotations

import logging

import numpy as np
import tifffile

from tests.test_objects_3d import _balls, _said_of
from unetlab.data.tiffmeta import PageAxes

SAID = "between labelled ones without an object"


def _class_folder(root, mask: np.ndarray) -> None:
    """Two ImageJ z-stacks of three nuclei and their class ``mask`` stacks."""
    ids = _balls((9, 32, 32), [(4, 8, 8), (4, 8, 24), (4, 24, 16)], [4.0] * 3, (1.0, 1.0, 1.0))
    image = ((ids > 0) * 900 + 100).astype(np.uint16)
    for kind, stack in (("images", image), ("masks", mask(ids > 0))):
        (root / kind).mkdir(parents=True)
        for stem in ("a", "b"):
            tifffile.imwrite(
                root / kind / f"{stem}.tif", stack, imagej=True, metadata={"axes": "ZYX"}
            )


def _said_of_folder(root, caplog, *more) -> str:
    from unetlab.config import load_config
    from unetlab.train import prepare_data

    caplog.clear()
    cfg = load_config(None, [f"data.root={root}", "data.val_fraction=0.5", *more])
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        prepare_data(cfg)
    return caplog.text


def _drawn_on(planes, value=1):
    """A class mask of nuclei ``inside`` drawn on ``planes`` alone (the rest left 0)."""

    def mask(inside):
        out = np.zeros(inside.shape, np.uint8)
        out[planes] = inside[planes] * value
        return out

    return mask


def test_class_masks_drawn_on_a_few_slices_are_said_naming_a_value_no_class_has(tmp_path, caplog):
    """s69: z-stacks of 0/1 class masks drawn on 2 of 9 slices trained the others as
    background, unsaid (the warning was of object ids alone); a 0/255 mask is told 254, its
    255 a class; the same stacks fully labelled say nothing."""
    _class_folder(tmp_path / "one", _drawn_on([2, 6]))
    said = _said_of_folder(tmp_path / "one", caplog, "data.target=semantic")
    assert "the masks of 2 stacks (a.tif: objects on 2 of 9 planes) leave 6 planes" in said
    assert "--set data.ignore_value=255" in said
    _class_folder(tmp_path / "white", _drawn_on([2, 6], 255))
    said = _said_of_folder(tmp_path / "white", caplog, "data.target=semantic")
    assert "with 254 (the most a.tif's type holds that is no class)" in said
    assert "--set data.ignore_value=254" in said
    _class_folder(tmp_path / "full", lambda inside: inside.astype(np.uint8))
    assert SAID not in _said_of_folder(tmp_path / "full", caplog, "data.target=semantic")


def test_a_tzyx_hyperstack_labelled_every_few_time_points_is_said_in_time_points():
    """s69: a TZYX hyperstack whose masks label every 3rd time point (all its planes)
    left its other time points' planes empty, unsaid: each time point was looked at apart,
    each wholly labelled or wholly empty; every time point labelled says nothing."""
    nucleus = [False, True, True, True, False]
    empty = [False] * 5
    axes = PageAxes("TZ", (7, 5))
    said = _said_of(nucleus + empty * 2 + nucleus + empty * 2 + nucleus, axes=axes)
    assert "(a.zip: objects on 3 of 7 time points) leave 4 time points between" in said
    assert "Train on the annotated time points alone" in said
    assert _said_of(nucleus * 7, axes=axes) is None
    assert _said_of(nucleus * 3 + empty * 4, axes=axes) is None  # the cells left the field


def test_a_fully_labelled_dense_tissue_is_not_said_and_slices_drawn_a_few_at_a_time_are():
    """s69: nuclei at different depths that overlap in (y, x), a few truly empty planes
    between them, every plane labelled (a dense tissue), were said to leave planes
    unannotated: a gap shorter than the labelled runs either side is where objects end;
    slices drawn two or three at a time, gaps as long as their runs or longer, still are."""
    layers = [False] + [True] * 6 + [False] * 2 + [True] * 7 + [False] * 3 + [True] * 5
    assert _said_of(layers) is None
    drawn = [z % 4 in (1, 2) for z in range(16)]  # 2 drawn, 2 skipped
    assert "(a.zip: objects on 8 of 16 planes) leave 6 planes between" in _said_of(drawn)
    drawn = [z % 6 in (1, 2, 3) for z in range(18)]  # 3 drawn, 3 skipped
    assert "leave 6 planes between" in _said_of(drawn)
