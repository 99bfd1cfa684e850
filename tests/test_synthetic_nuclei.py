"""Synthetic nuclei: instance masks as the field stores them, touching objects, determinism."""

import numpy as np
import pytest
from scipy import ndimage

from unetlab.data import synthetic
from unetlab.data.io import read_image, read_mask
from unetlab.data.synthetic import synthetic_nuclei, write_nuclei_dataset
from unetlab.errors import UnetlabError


def _touching_pairs(ids: np.ndarray) -> set[tuple[int, int]]:
    """Pairs of different ids that are 4-neighbours (no background between them)."""
    pairs = set()
    for a, b in ((ids[1:], ids[:-1]), (ids[:, 1:], ids[:, :-1])):
        both = (a > 0) & (b > 0) & (a != b)
        pairs |= {(min(p, q), max(p, q)) for p, q in zip(a[both].tolist(), b[both].tolist())}
    return pairs


def test_nuclei_image_and_instances():
    image, ids = synthetic_nuclei((96, 128), np.random.default_rng(0))
    assert image.shape == ids.shape == (96, 128)
    assert image.dtype == np.uint8 and ids.dtype == np.uint16
    n = int(ids.max())
    assert set(np.unique(ids).tolist()) == set(range(n + 1)) and n >= 15
    # each nucleus is one 4-connected piece of a plausible size
    for k, where in enumerate(ndimage.find_objects(ids), start=1):
        assert ndimage.label(ids[where] == k)[1] == 1
    areas = np.bincount(ids.ravel())[1:]
    assert areas.min() >= 19 and areas.max() <= np.pi * (10 * 1.35 * 1.06) ** 2
    # nuclei are brighter than the background
    assert image[ids > 0].mean() > image[ids == 0].mean() + 30


def test_nuclei_touch_densely():
    ids = synthetic_nuclei(256, np.random.default_rng(1))[1]
    n = int(ids.max())
    regions = ndimage.label(ids > 0)[1]
    assert len(_touching_pairs(ids)) >= n // 2  # many pairs share a border
    assert regions < 0.5 * n  # so connected components of the foreground merge most nuclei


def test_same_seed_same_data_and_16_bit():
    a = synthetic_nuclei(64, np.random.default_rng(5))
    b = synthetic_nuclei(64, np.random.default_rng(5))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    image16, ids16 = synthetic_nuclei(64, np.random.default_rng(5), bit_depth=16)
    assert image16.dtype == np.uint16 and image16.max() > 1000 and np.array_equal(ids16, a[1])
    with pytest.raises(ValueError, match="8 or 16"):
        synthetic_nuclei(64, np.random.default_rng(5), bit_depth=12)


def test_write_nuclei_dataset(tmp_path):
    root = write_nuclei_dataset(
        tmp_path / "d", n_train=2, n_val=1, n_test=1, size=48, seed=3, bit_depth=16
    )
    for split, n in (("train", 2), ("val", 1), ("test", 1)):
        assert len(list((root / split / "images").glob("*.png"))) == n
    image, mask = read_image(root / "train/images/00.png"), read_mask(root / "train/masks/00.png")
    assert image.dtype == np.uint16 and mask.dtype == np.uint16 and mask.max() > 1
    again = write_nuclei_dataset(tmp_path / "e", n_train=2, n_val=1, size=48, seed=3, bit_depth=16)
    assert np.array_equal(
        read_mask(again / "val/masks/00.png"), read_mask(root / "val/masks/00.png")
    )
    assert not np.array_equal(read_mask(root / "val/masks/00.png"), mask)  # splits differ


def test_background_stays_0_when_a_nucleus_holds_the_first_pixel():
    rng = np.random.default_rng(7)
    corner = [ids for _, ids in (synthetic_nuclei(40, rng) for _ in range(40)) if ids[0, 0]]
    assert corner  # some images start with a nucleus
    for ids in corner:
        assert ids[0, 0] == 1  # the first nucleus in raster order
        for k, where in enumerate(ndimage.find_objects(ids), start=1):
            assert ndimage.label(ids[where] == k)[1] == 1


def test_nucleus_ids_take_the_id_dtype_of_their_count(monkeypatch):
    """uint16 up to 65,535 nuclei, then uint32 (data.large_ids.id_dtype); numpy raised
    OverflowError at the 65,536th (counting3 s53). The rule is shrunk here (uint8 up to 255:
    65,600 nuclei take 2.6 s) to see that the count, not a fixed uint16, decides."""
    owner = np.arange(1, 301, dtype=np.int32).reshape(15, 20).repeat(2, 0).repeat(2, 1)
    assert synthetic._nucleus_ids(owner, 4).dtype == np.uint16  # 300 nuclei
    small = {True: np.dtype(np.uint8), False: np.dtype(np.uint32)}
    monkeypatch.setattr(synthetic, "id_dtype", lambda count: small[count <= 255])
    ids = synthetic._nucleus_ids(owner, 4)
    assert ids.dtype == np.uint32 and np.array_equal(ids, owner)  # raster order: as painted
    assert synthetic._nucleus_ids(owner[:10, :20], 4).dtype == np.uint8  # 50 nuclei


def test_more_nuclei_than_a_png_mask_holds_are_refused_before_any_file(tmp_path, monkeypatch):
    """s53 reviewB: past 65,535 nuclei the ids are uint32, and their PNG masks were written
    as uint8, wrapped mod 256, without a word: refused up front (size 6,000 px: ~71,000)."""

    def drawn(*args, **kwargs):
        raise AssertionError("an image was drawn: not refused before drawing")

    monkeypatch.setattr(synthetic, "synthetic_nuclei", drawn)
    with pytest.raises(UnetlabError, match=r"^write_nuclei_dataset: .*size 6000 .*65,535.*"):
        write_nuclei_dataset(tmp_path / "d", n_train=1, n_val=0, size=6000)
    assert not (tmp_path / "d").exists()
    assert synthetic._most_nuclei((6000, 6000), synthetic.NUCLEUS_RADIUS, 0.35) > 65_535
    write_nuclei_dataset(tmp_path / "d", n_train=0, n_val=0, size=6000, density=0.1)


def _centres_by_all_pairs(shape, rng, radius, density):
    """The oracle: every placed nucleus's gap computed for each candidate."""
    n, h, w = synthetic._most_nuclei(shape, radius, density), *shape
    centres, radii = [], []
    for _ in range(6 * n):
        if len(centres) == n:
            break
        r = rng.uniform(*radius)
        if centres and rng.random() < 0.75:
            j = int(rng.integers(len(centres)))
            angle = rng.uniform(0, 2 * np.pi)
            d = (radii[j] + r) * rng.uniform(0.75, 1.0)
            c = centres[j] + d * np.array([np.sin(angle), np.cos(angle)])
        else:
            c = rng.uniform((0, 0), (h, w))
        if not (-r / 2 <= c[0] < h + r / 2 and -r / 2 <= c[1] < w + r / 2):
            continue
        if centres:
            gaps = np.hypot(*(np.asarray(centres) - c).T) / (np.asarray(radii) + r)
            if gaps.min() < 0.6:
                continue
        centres.append(c)
        radii.append(r)
    return np.asarray(centres, float).reshape(-1, 2), np.asarray(radii, float)


@pytest.mark.parametrize(
    "shape, radius, density, seed",
    [
        ((600, 400), synthetic.NUCLEUS_RADIUS, synthetic.DENSITY, 0),
        ((97, 251), (2.0, 9.0), 0.9, 1),
        (160, (5, 6), 0.3, 2),
        ((200, 200), (8.0, 8.0), 2.0, 0),  # dense, one radius: gaps at the grid's reach
    ],
)
def test_nucleus_centres_equal_those_of_all_pairs(shape, radius, density, seed):
    """Only the nuclei of the 3 x 3 grid cells around a candidate are compared (s61 user:
    comparing all made a 6000 x 6000 image take over 15 minutes), with the same result."""
    shape = (shape, shape) if isinstance(shape, int) else shape
    got = synthetic._nucleus_centres(shape, np.random.default_rng(seed), radius, density)
    want = _centres_by_all_pairs(shape, np.random.default_rng(seed), radius, density)
    assert len(want[0]) > 20
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_a_seed_is_taken_as_its_generator():
    """The docstring's "or the seed itself" (s61 user: an int raised AttributeError)."""
    image, ids = synthetic_nuclei(64, 3)
    want_image, want_ids = synthetic_nuclei(64, np.random.default_rng(3))
    np.testing.assert_array_equal(image, want_image)
    np.testing.assert_array_equal(ids, want_ids)


@pytest.mark.parametrize(
    "radius",
    [
        (0.0, 0.0),
        (-2.0, 5.0),
        (10.0, 5.0),
        (float("nan"), 5.0),
        (0.001, 0.001),
        (5.0, float("inf")),
    ],
)
def test_radii_outside_1_min_max_are_refused(tmp_path, radius):
    """Finite, 1 <= min <= max, said in one line: (0, 0) raised ZeroDivisionError, (10, 5)
    and NaN numpy's ValueErrors, (-2, 5) drew nuclei of negative radius (s61 user), (0.001,
    0.001) never returned and (5, inf) overflowed (s61 review)."""
    with pytest.raises(UnetlabError, match=r"^radius is \(min, max\) px with 1 <= min <= max"):
        synthetic_nuclei(64, 0, radius=radius)
    with pytest.raises(UnetlabError, match=r"^radius is \(min, max\) px with 1 <= min <= max"):
        write_nuclei_dataset(tmp_path / "d", n_train=1, n_val=0, size=64, radius=radius)
    assert not (tmp_path / "d").exists()
