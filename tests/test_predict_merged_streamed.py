"""A streamed slide's ``--instances`` of a semantic model hears the merged-objects hint as
the same image read whole does, with the same counts (s50 slideleft: only images read whole
were counted): the estimate from the objects table and the ids' rims read window by window
(:func:`~unetlab.inference.merged_objects.streamed_counts`)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile
from scipy import ndimage

import unetlab.inference.slide_objects as slide_objects
from tests.test_predict_merged import SAID, bright_net, nuclei
from unetlab.data.merged import region_counts
from unetlab.inference.folders import predict_folder
from unetlab.inference.merged_objects import streamed_counts
from unetlab.inference.objects import ObjectOptions


def _image() -> np.ndarray:
    """Touching pairs and singles, some across the small windows' seams (rows of 20, columns
    of 256), and blocks on the image's left and bottom edges."""
    image = np.tile(nuclei(3, 9), (3, 1))
    image[60:76, :14] = 220  # cut by the left edge
    image[136:, 300:316] = 220
    return image


def _said(caplog, image: np.ndarray, out, **given) -> list[str]:
    folder = out.parent / f"in_{out.name}"
    folder.mkdir()
    tifffile.imwrite(folder / "a.tif", image)
    objects = ObjectOptions.for_model(bright_net())
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        result = predict_folder(bright_net(), folder, out, objects=objects, **given)
    assert len(result.written) == 1
    return [r.getMessage() for r in caplog.records if SAID in r.getMessage()]


def test_a_streamed_slide_is_counted_as_read_whole(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(slide_objects, "STREAM_ROWS", 20)  # objects across bands and pieces
    monkeypatch.setattr(slide_objects, "PIECE_PIXELS", 1)
    whole = _said(caplog, _image(), tmp_path / "whole")
    streamed = _said(caplog, _image(), tmp_path / "streamed", large_threshold=100)
    ids = [tifffile.imread(tmp_path / d / "a_objects.tif") for d in ("whole", "streamed")]
    assert np.array_equal(*ids)  # the same objects both ways (stop 49)
    assert len(whole) == 1 and whole[0].startswith("objects: 9 of the 37 objects"), whole
    assert streamed == whole


@pytest.mark.parametrize("classes", [False, True])
def test_streamed_counts_are_region_counts(classes):
    """Over windows of any size, with classes (alternating by object) or none."""
    ids = ndimage.label(_image() > 100)[0]
    kinds = np.where(ids > 0, 1 + ids % 2, 0)
    table = {"id": np.arange(1, ids.max() + 1), "area": np.bincount(ids.ravel())[1:]}
    boxes = ndimage.find_objects(ids)
    table["bbox_top"], table["bbox_bottom"] = (
        [b[0].start for b in boxes],
        [b[0].stop for b in boxes],
    )
    table["bbox_left"], table["bbox_right"] = (
        [b[1].start for b in boxes],
        [b[1].stop for b in boxes],
    )
    if classes:
        table["class"] = 1 + table["id"] % 2
    h, w = ids.shape
    for rows, cols in [(h, w), (20, 256), (7, 33)]:
        windows = [
            (slice(y, min(y + rows, h)), slice(x, min(x + cols, w)))
            for y in range(0, h, rows)
            for x in range(0, w, cols)
        ]
        counts = streamed_counts(lambda r, c: ids[r, c], table, windows)
        assert counts == region_counts(ids, kinds if classes else None)
    assert region_counts(ids)[0] > 0
