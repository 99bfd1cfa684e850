"""Nodata is never an object's hole: a nodata region one object encloses (a dropped tile, a
masked spot inside a large cell or gland) stays background when holes are filled, read
whole and in bands; a true hole of background is still filled."""

import numpy as np

from unetlab.inference.objects import (
    ObjectOptions,
    fill_object_holes,
    objects_from_probabilities,
    objects_in_bands,
)


def _ring() -> tuple[np.ndarray, np.ndarray]:
    """A 40 x 40 object with a nodata hole (rows 15-25) and a background hole (rows 30-33),
    and the nodata mask; the nodata's probabilities are the background's, as predicted."""
    fg = np.zeros((64, 64), np.float32)
    fg[5:45, 10:50] = 1
    fg[15:25, 20:30] = 0  # nodata inside the object
    fg[30:33, 35:38] = 0  # a true hole
    outside = np.zeros(fg.shape, bool)
    outside[15:25, 20:30] = True
    return np.stack([1 - fg, fg]), outside


def test_a_nodata_region_an_object_encloses_is_not_filled_into_it():
    p, outside = _ring()
    options = ObjectOptions(mode="semantic", background=0, min_area=10)
    assert objects_from_probabilities(p, options)[20, 25] == 1  # without the mask: its hole
    ids = objects_from_probabilities(p, options, outside=outside)
    assert not ids[outside].any()  # nodata is no object
    assert ids[31, 36] == 1 and ids[10, 15] == 1  # the true hole filled, the object kept
    assert (ids == 1).sum() == 40 * 40 - 100


def test_a_region_of_background_and_nodata_stays_background():
    ids = np.zeros((9, 9), np.int32)
    ids[1:8, 1:8] = 1
    ids[3:6, 3:6] = 0  # background, one pixel of it nodata
    outside = np.zeros(ids.shape, bool)
    outside[4, 5] = True
    assert fill_object_holes(ids)[4, 4] == 1
    assert not fill_object_holes(ids, outside=outside)[3:6, 3:6].any()


def test_streamed_bands_leave_nodata_out_of_objects_too():
    p, outside = _ring()
    options = ObjectOptions(mode="semantic", background=0, min_area=10)
    whole = objects_from_probabilities(p, options, outside=outside)
    blocks = [(y, p[:, y : y + 16]) for y in range(0, 64, 16)]
    how = dict(height=64, options=options, band_rows=16, margin=16)
    bands = objects_in_bands(blocks, **how, outside=lambda a, b: outside[a:b])
    streamed = np.concatenate([ids for _, ids in bands])
    assert not streamed[outside].any()
    assert np.array_equal(streamed > 0, whole > 0)


def test_instance_mode_leaves_nodata_out_of_objects():
    p, outside = _ring()
    interior = p[1].copy()
    boundary = np.zeros_like(interior)
    probabilities = np.stack([1 - interior, boundary, interior])  # background, boundary, interior
    options = ObjectOptions(mode="instances", min_area=10)
    ids = objects_from_probabilities(probabilities, options, outside=outside)
    assert ids[10, 15] > 0 and not ids[outside].any()
