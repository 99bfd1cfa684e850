"""At ``--level N`` the least size of a piece the image's edge or nodata cuts (64 px at
level 0) is scaled with the least sizes (note33 "Objects"): a 100-px edge piece of a gland
kept at level 0 was dropped at a 2x level (25 px, under 64) while its least size had
become a quarter."""

import logging

import numpy as np

from tests.test_objects_edges import _glands, _probabilities
from unetlab.inference.files import _scaled_objects
from unetlab.inference.objects import (
    CUT_MIN_AREA,
    MIN_AREA_FLOOR,
    ObjectOptions,
    objects_from_probabilities,
    objects_in_bands,
    scaled_options,
)


def test_the_cut_pieces_least_area_scales_as_the_least_areas_do():
    options = ObjectOptions(min_area=800, class_min_areas=(0, 500, 9))
    assert options.cut_min_area == CUT_MIN_AREA == 64
    assert scaled_options(options, (2.0, 2.0)).cut_min_area == 16
    assert scaled_options(options, (4.0, 4.0)).cut_min_area == MIN_AREA_FLOOR  # 4, floored
    assert scaled_options(options, (8.0, 8.0)).cut_min_area == MIN_AREA_FLOOR
    assert scaled_options(options, (1.0, 1.0)) == options


def _sizes(ids: np.ndarray) -> list[int]:
    return sorted(np.bincount(ids.ravel())[1:].tolist())


def test_a_level_keeps_the_edge_pieces_level_0_keeps_whole_and_in_bands():
    """The glands at level 0: the 900-px gland and the 100-px piece at the left edge stay
    (specks go). The same image at a 2x level (every other pixel): the gland (225 px) and
    the piece (25 px, was dropped: under 64) stay, the specks still go."""
    labels = _glands()
    options = ObjectOptions(class_min_areas=(0, 500, 9))
    level0 = objects_from_probabilities(_probabilities(labels, 3), options)
    assert _sizes(level0) == [100, 900]
    small = labels[::2, ::2]
    at_level = scaled_options(options, (2.0, 2.0))
    assert at_level.class_min_areas == (0, 125, 4)
    p = _probabilities(small, 3)
    ids = objects_from_probabilities(p, at_level)
    assert _sizes(ids) == [25, 225] and ids[22, 0] > 0  # the left edge's piece
    blocks = [(y, p[:, y : y + 8]) for y in range(0, 30, 8)]
    bands = objects_in_bands(blocks, height=30, options=at_level, band_rows=8, margin=8)
    assert np.array_equal(np.concatenate([i for _, i in bands]) > 0, ids > 0)


def test_the_level_line_says_the_cut_pieces_least_area(caplog):
    with caplog.at_level(logging.INFO):
        scaled = _scaled_objects(ObjectOptions(min_area=320), (2.0, 2.0))
    assert (scaled.min_area, scaled.cut_min_area) == (80, 16)
    assert "a piece the edge or nodata cuts is kept from 16 px (64 at level 0)" in caplog.text


def test_the_cut_pieces_least_area_is_a_setting():
    """A 40-px piece of a gland at the bottom edge (under 64 px) is kept where the user
    lowers cut_min_area; values below 0 are refused."""
    import pytest

    from tests.test_objects_classes import three_class_net
    from unetlab.errors import UnetlabError

    options = ObjectOptions(class_min_areas=(0, 500, 9), cut_min_area=30)
    ids = objects_from_probabilities(_probabilities(_glands(), 3), options)
    assert _sizes(ids) == [40, 100, 900] and ids[59, 60] > 0
    assert ObjectOptions.for_model(three_class_net(), cut_min_area=30).cut_min_area == 30
    with pytest.raises(UnetlabError, match="cut_min_area must be at least 0 px, not -1"):
        ObjectOptions(cut_min_area=-1)
