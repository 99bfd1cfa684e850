"""A wide band window's objects found in column blocks
(:mod:`unetlab.inference.column_objects`) are those of its whole width, pixel for pixel and
id for id once numbered in raster order (as a streamed slide's are): objects across the
blocks' borders both ways and across several blocks, touching ones, rings round a hole
wider than a block, objects at the image's edges and beside nodata."""

from dataclasses import replace

import numpy as np
import pytest
import tifffile

from tests.test_objects_split_memo import banded
from tests.test_postprocess import disc_ids, soft
from unetlab.data.instances import boundary_target
from unetlab.inference import column_objects
from unetlab.inference.objects import ObjectOptions, objects_in_bands, raster_numbered

INSTANCES = ObjectOptions(mode="instances", min_area=5)


def _slide(seed: int) -> np.ndarray:
    """(3, 48, 160) probabilities of touching discs (some past the edges), specks, two rings
    round holes 20 px wide and a line 90 px long."""
    rng = np.random.default_rng(seed)
    h, w = 48, 160
    centres = rng.uniform((-4, -4), (h + 4, w + 4), (24, 2))
    ids = disc_ids((h, w), centres, rng.uniform(3, 7))
    specks = disc_ids((h, w), rng.uniform((0, 0), (h, w), (16, 2)), 2.5) + 300
    ids = np.where((ids == 0) & (specks > 300), specks, ids)  # a few px: under a least area
    yy, xx = np.mgrid[:h, :w]
    for k, (cy, cx) in enumerate([(24, rng.uniform(20, 60)), (20, rng.uniform(100, 140))]):
        ring = np.hypot(yy - cy, xx - cx)
        ids[(ring >= 11) & (ring <= 15)] = 100 + k
        ids[ring < 11] = 0
    ids[int(rng.integers(2, h - 2)), 30:120] = 200  # a 1-px-wide line across many blocks
    return soft(boundary_target(ids, boundary_width=1), seed)


def _banded(probabilities, options, outside=None) -> np.ndarray:
    """The bands' ids (:func:`banded`: bands of 12 rows) numbered in raster order."""
    return raster_numbered(banded(probabilities, options, outside))


@pytest.fixture
def blocks(monkeypatch) -> list:
    """Column blocks of 9 columns from any width on, however wide their windows; the windows
    each block was found in."""
    monkeypatch.setattr(column_objects, "WHOLE_WIDTH_UP_TO", 0)
    monkeypatch.setattr(column_objects, "WHOLE_WHEN_SPANNING", 10**9)
    monkeypatch.setattr(column_objects, "COLUMN_BLOCK", 9)
    seen, block_window = [], column_objects.block_window
    monkeypatch.setattr(
        column_objects, "block_window", lambda *a: seen.append(block_window(*a)) or seen[-1]
    )
    return seen


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "options",
    [
        INSTANCES,
        replace(INSTANCES, distance_split=True),
        replace(INSTANCES, min_area=40, cut_min_area=5),  # specks kept only where cut
    ],
)
def test_column_blocks_give_the_whole_widths_objects(seed, options, blocks, monkeypatch):
    probabilities = _slide(seed)
    nodata = np.zeros(probabilities.shape[1:], bool)
    nodata[30:, 150:] = True  # a corner of nodata: objects beside it are cut
    outside = lambda top, bottom: nodata[top:bottom]  # noqa: E731
    by_columns = [_banded(probabilities, options, outside), _banded(probabilities, options)]
    assert len(blocks) > 2 * 160 // 9  # many blocks in each band
    assert any(hi - lo > 40 for lo, hi in blocks)  # widened round the rings and the line
    monkeypatch.setattr(column_objects, "WHOLE_WIDTH_UP_TO", 10**9)
    whole = [_banded(probabilities, options, outside), _banded(probabilities, options)]
    assert whole[0].max() >= 10
    for a, b in zip(by_columns, whole):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "options", [INSTANCES, ObjectOptions(mode="semantic", background=None, min_area=5)]
)
def test_a_region_across_the_width_is_found_whole_once(options, blocks, monkeypatch):
    """A region across the window (a line over its width; a semantic model with no
    background, whose pixels are all one region) widens every block's window to the whole
    width: the window is found whole, once, not once per block."""
    from unetlab.inference import objects

    monkeypatch.setattr(column_objects, "WHOLE_WHEN_SPANNING", 2)
    ids = disc_ids((24, 160), np.random.default_rng(0).uniform((0, 0), (24, 160), (12, 2)), 4)
    ids[10:15, :] = 200  # a 5-px stripe
    probabilities = soft(boundary_target(ids, boundary_width=1), 0)
    calls, find = [], objects._objects
    monkeypatch.setattr(objects, "_objects", lambda *a: calls.append(a) or find(*a))
    how = dict(height=24, options=options, band_rows=24, margin=0)
    parts = objects_in_bands([(0, probabilities)], **how)
    found = np.concatenate([ids for _, ids in parts])
    assert len(blocks) == -(-160 // 9) and len(calls) == 1
    assert calls[0][0].shape[-1] == 160 and found.max() >= 1
    monkeypatch.setattr(column_objects, "WHOLE_WIDTH_UP_TO", 10**9)
    whole = np.concatenate([ids for _, ids in objects_in_bands([(0, probabilities)], **how)])
    np.testing.assert_array_equal(raster_numbered(found), raster_numbered(whole))


def test_a_window_no_wider_than_the_limit_is_found_whole(monkeypatch):
    """The present path below the width limit: one window, the whole width."""
    import unetlab.inference.objects as objects_module

    seen = []
    real = objects_module.objects_by_columns
    monkeypatch.setattr(  # the name objects.py calls (it imports it)
        objects_module, "objects_by_columns", lambda *a: seen.append(a) or real(*a)
    )
    _banded(_slide(0), INSTANCES)
    assert column_objects.in_columns(column_objects.WHOLE_WIDTH_UP_TO + 1)
    assert not column_objects.in_columns(column_objects.WHOLE_WIDTH_UP_TO) and not seen
    monkeypatch.setattr(column_objects, "WHOLE_WIDTH_UP_TO", 0)  # the same window in blocks
    _banded(_slide(0), INSTANCES)
    assert seen


def test_a_streamed_slides_objects_file_and_table_are_those_of_the_whole_width(
    tmp_path, blocks, monkeypatch
):
    """End to end: a streamed image's ``_objects.tif`` and CSV (its bands' windows in blocks
    of 9 columns) are those of its windows found whole, byte for byte (the CSV)."""
    from tests.test_predict_objects import local_net, nuclei_image
    from unetlab.inference.files import predict_file

    net, image = local_net(), nuclei_image(90, 200, seed=5)
    tifffile.imwrite(tmp_path / "wide.tif", image)
    options = ObjectOptions.for_model(net, distance_split=True)
    for folder in ("columns", "whole"):
        predict_file(
            net, tmp_path / "wide.tif", tmp_path / folder, objects=options, large_threshold=100
        )
        monkeypatch.setattr(column_objects, "WHOLE_WIDTH_UP_TO", 10**9)
    assert len(blocks) > 200 // 9
    ids = [tifffile.imread(tmp_path / f / "wide_objects.tif") for f in ("columns", "whole")]
    assert ids[0].max() >= 20 and np.array_equal(*ids)
    tables = [(tmp_path / f / "wide_objects.csv").read_bytes() for f in ("columns", "whole")]
    assert tables[0] == tables[1]


@pytest.mark.parametrize("seed", [0, 1])
def test_margins_capped_below_the_objects_give_the_same_ids_and_unsure_count(
    seed, blocks, monkeypatch
):
    """Bands of 6 rows with at most 4 rows of margin (every ring and many discs cut by a
    window's rows): the column blocks give the ids and the count of unsure seam objects
    (``_Band.left``, ``edge``: of the window's ids) of the whole width."""
    probabilities, found = _slide(seed), []
    for limit in (0, 10**9):
        monkeypatch.setattr(column_objects, "WHOLE_WIDTH_UP_TO", limit)
        unsure = []
        how = dict(height=48, options=INSTANCES, band_rows=6, margin=2, max_margin=4)
        parts = objects_in_bands([(0, probabilities)], unsure=unsure, **how)
        found.append((raster_numbered(np.concatenate([ids for _, ids in parts])), unsure[0]))
    assert blocks and found[0][1] == found[1][1] > 10
    np.testing.assert_array_equal(found[0][0], found[1][0])
