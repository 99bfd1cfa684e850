"""The fingerprint's object sizes are of whole objects: pieces the image's edge or nodata cut
are left out where whole ones exist; a mask's nodata pixels (where the image is nodata) are
in no class share and no object, with or without an ignore value (note32 "object sizes",
"nodata in the plan")."""

import numpy as np
import tifffile

from unetlab.data.fingerprint import Fingerprint, fingerprint, half_counts, measure_pair
from unetlab.data.io import write_png
from unetlab.data.pairs import find_pairs


def _pieces_and_squares() -> np.ndarray:
    """Three whole 10 x 10 squares inside and four 2 x 10 pieces on the four edges."""
    mask = np.zeros((64, 64), np.uint8)
    for y, x in ((10, 10), (30, 30), (10, 40)):
        mask[y : y + 10, x : x + 10] = 1
    mask[:2, 20:30] = mask[-2:, 20:30] = mask[40:50, :2] = mask[40:50, -2:] = 1
    return mask


def _facts(mask, **kw):
    return measure_pair(np.zeros(mask.shape, np.uint8), mask, instances=False, **kw)


def test_object_sizes_are_of_whole_objects_where_there_are_any():
    facts = _facts(_pieces_and_squares())
    assert sorted(facts.object_areas) == [20] * 4 + [100] * 3
    assert sorted(facts.edge_cut) == [False] * 3 + [True] * 4
    fp = Fingerprint([facts])
    assert fp.sized_areas().tolist() == [100] * 3  # the median was 20 with the pieces
    assert fp.class_areas()[1].tolist() == [100] * 3
    assert fp.summary()["object_area_p10_p50_p90"] == [100, 100, 100]
    assert fp.summary()["objects"] == 7 and fp.edge_cut_objects() == 4
    assert fp.counted_objects() == 7  # what the touching share is of: cut or whole


def test_a_class_whose_regions_all_reach_the_edge_keeps_them():
    """A road spans every image: its regions are all cut, and a 1-px speck of road inside
    is a sliver, not a whole road; the squares' class still leaves its edge pieces out."""
    mask = _pieces_and_squares()
    mask[54:, 10:54] = 2  # the road, along the bottom edge
    mask[25, 5] = 2  # a speck of it
    fp = Fingerprint([_facts(mask)])
    assert fp.class_areas()[2].tolist() == [10 * 44]
    assert fp.class_areas()[1].tolist() == [100] * 3
    pieces = np.zeros((32, 32), np.uint8)
    pieces[:2, 5:15] = pieces[20:30, -3:] = 1  # every object cut: their sizes all there is
    assert sorted(Fingerprint([_facts(pieces)]).sized_areas()) == [20, 30]


def test_nodata_pixels_are_in_no_class_share_or_object():
    mask = _pieces_and_squares()
    mask[:8, :8] = 2  # drawn over the nodata: no pixel of it counts
    mask[12:16, 12:16] = 0  # a hole: that square is 84 px
    mask[8:13, 52:62] = 1  # 50 px beside the nodata: a piece of unknown size
    invalid = np.zeros(mask.shape, bool)
    invalid[:8, :] = True  # the top rows, with the top edge piece
    facts = _facts(mask, invalid=invalid)
    assert dict(zip(facts.values, facts.counts)) == {0: 56 * 64 - 394, 1: 284 + 60 + 50}
    assert facts.halves[1][0] == 84 + 100 + 20 + 50  # top half: no nodata pixel
    assert sorted(zip(facts.object_areas, facts.edge_cut)) == [
        (20, True),
        (20, True),
        (20, True),
        (50, True),
        (84, False),
        (100, False),
        (100, False),
    ]
    assert Fingerprint([facts]).sized_areas().tolist() == [84, 100, 100]
    ignored = _facts(mask, invalid=invalid, ignore_value=255)  # an ignore value: the same
    assert dict(zip(ignored.values, ignored.counts)) == dict(zip(facts.values, facts.counts))


def test_half_counts_leave_out_the_invalid_pixels():
    mask = np.array([[0, 1, 1, 0], [0, 1, 300, 0]], np.int64)
    valid = mask != 300
    assert half_counts(mask, np.array([0, 1]), valid).tolist() == [[2, 2, 2, 2], [2, 1, 2, 1]]
    floats = mask.astype(np.float32)  # the searchsorted path
    assert half_counts(floats, np.array([0.0, 1.0]), valid).tolist() == [
        [2, 2, 2, 2],
        [2, 1, 2, 1],
    ]


def test_the_fingerprint_leaves_a_geotiffs_nodata_out_of_the_class_shares(tmp_path):
    """Without an ignore value the mask's pixels under the image's nodata (tag 42113)
    counted in the class shares and drew objects (the whole top band here: 1/4 of class 1)."""
    image = np.full((64, 64, 3), 120, np.uint8)
    image[:16] = 0  # nodata
    mask = np.zeros((64, 64), np.uint8)
    mask[:16] = 1  # a label painted over the nodata band
    mask[30:40, 30:40] = 1
    (tmp_path / "images").mkdir()
    tifffile.imwrite(
        tmp_path / "images" / "a.tif",
        image,
        photometric="rgb",
        extratags=[(42113, "s", 0, "0", True)],
    )
    write_png(tmp_path / "masks" / "a.png", mask)
    fp = fingerprint(find_pairs(tmp_path), target="semantic")
    assert fp.class_fractions() == {0: (48 * 64 - 100) / (48 * 64), 1: 100 / (48 * 64)}
    assert fp.object_areas().tolist() == [100]
    counted = fingerprint(find_pairs(tmp_path), target="semantic", nodata="none")
    assert sorted(counted.object_areas()) == [100, 16 * 64]  # as it was
