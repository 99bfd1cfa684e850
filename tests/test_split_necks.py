"""ObjectOptions.split_necks: touching round objects parted at a narrow neck, a single
elongated one kept whole (bench/kromp_necks.py measured it on Kromp nuclei)."""

import numpy as np

from unetlab.inference.necks import split_necks
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities

YY, XX = np.mgrid[:60, :100]


def _discs(gap: float, radius: float = 15) -> np.ndarray:
    """A disc of radius 15 and one of ``radius``, centres ``gap`` px apart: one object."""
    left = (YY - 30) ** 2 + (XX - 30) ** 2 <= 15**2
    right = (YY - 30) ** 2 + (XX - 30 - gap) ** 2 <= radius**2
    return (left | right).astype(np.int32)


def _probabilities(shape: np.ndarray) -> np.ndarray:
    """A nuclei model's (background, boundary, interior) certainties: all interior."""
    inside = shape > 0
    return np.stack([~inside, np.zeros_like(inside), inside]).astype(np.float32)


def test_touching_discs_parted_at_their_neck():
    ids = split_necks(_discs(26), least=50)
    assert len(np.unique(ids[ids > 0])) == 2
    left, right = ids[30, 20], ids[30, 66]
    assert left != right and left > 0 and right > 0


def test_ellipse_and_wide_neck_stay_whole():
    ellipse = ((((YY - 30) / 8.0) ** 2 + ((XX - 50) / 32.0) ** 2) <= 1).astype(np.int32)
    assert split_necks(ellipse, least=50).max() == 1
    assert split_necks(_discs(12), least=50).max() == 1  # a neck of 0.97 x the radius


def test_option_splits_what_the_distance_split_left_whole():
    # the small disc's neck is 0.85 x its radius: under 1.5 px (10% of the large one's
    # reach) below its peak, which the distance split needs
    probabilities = _probabilities(_discs(18.5, radius=8))
    base = ObjectOptions(mode="instances", min_area=50, distance_split=True)
    before = objects_from_probabilities(probabilities, base)
    after = objects_from_probabilities(
        probabilities, ObjectOptions(**{**vars(base), "split_necks": True})
    )
    assert before.max() == 1  # the distance split's 10% depth misses this neck
    assert after.max() == 2


def test_the_flag_reaches_the_options_and_their_line():
    from unetlab.cli.common import objects_line

    options = ObjectOptions(mode="instances", min_area=50, split_necks=True)
    assert "split at narrow necks" in objects_line(options, recorded=True)
    assert "narrow necks" not in objects_line(ObjectOptions(mode="instances"), recorded=True)


def test_a_blob_of_many_pieces_is_measured_once(monkeypatch):
    """Each join measured the whole object again (its pieces' peaks and necks): a 1000²
    blob of 545 pieces took 104 rounds of it, 17.7 s; now once an object, the same pieces
    (checked against the old rounds on 45 blobs and discs when it changed)."""
    from scipy import ndimage

    f = ndimage.gaussian_filter(np.random.default_rng(0).random((200, 200)), 4)
    blob = ndimage.label(f > np.quantile(f, 0.3))[0]
    blob = (blob == np.argmax(np.bincount(blob.ravel())[1:]) + 1).astype(np.int32)
    measures = []
    maximum = ndimage.maximum
    monkeypatch.setattr(ndimage, "maximum", lambda *a: measures.append(1) or maximum(*a))
    ids = split_necks(blob, least=50)
    assert ids.max() > 10 and len(measures) == 1
    assert np.array_equal(ids > 0, blob > 0)


def _reference(ids: np.ndarray, least: int) -> np.ndarray:
    """split_necks as it was: every object's h-maxima and watershed, no bound first."""
    from scipy import ndimage
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    from unetlab.inference.necks import NECK_DEPTH, NECK_SMOOTH, joined_wide

    def pieces_of(mask, _):
        distance = ndimage.distance_transform_edt(mask)
        if distance.max() <= NECK_DEPTH + 1:
            return None
        smooth = np.where(mask, ndimage.gaussian_filter(distance, NECK_SMOOTH), 0.0)
        seeds = h_maxima(smooth, NECK_DEPTH).astype(bool) & mask
        markers, n = ndimage.label(seeds, np.ones((3, 3)))
        if n < 2:
            return None
        pieces = joined_wide(watershed(-smooth, markers, mask=mask), distance, least)
        return pieces if pieces.max() > 1 else None

    return split_necks(ids, least, pieces_of=pieces_of)


def _shapes(rng: np.random.Generator):
    """Id maps of blobs, touching watershed pieces, rectangles (ridges of equal distance)
    and noise."""
    from scipy import ndimage

    for _ in range(4):
        f = ndimage.gaussian_filter(rng.random((120, 120)), rng.uniform(1.5, 5))
        yield ndimage.label(f > np.quantile(f, rng.uniform(0.2, 0.6)))[0]
        seeds = ndimage.label(f > np.quantile(f, 0.97))[0].astype(np.int32)
        pieces = ndimage.watershed_ift((f * 255).astype(np.uint8), seeds)
        yield np.where(f > np.quantile(f, 0.3), pieces, 0)
        boxes = np.zeros((90, 90), np.int64)
        for k in range(1, 12):
            y, x = rng.integers(0, 75, 2)
            high, wide = rng.integers(2, 25, 2)
            boxes[y : y + high, x : x + wide] = k
        yield boxes
        yield rng.integers(0, 4, (30, 30))


def test_objects_with_one_peak_skip_the_h_maxima_and_split_as_before(monkeypatch):
    """Objects whose smoothed distance has one peak (8-connected pixels as high as their
    neighbours) keep one h-maximum at most: whole without h_maxima (1,600 touching discs,
    2048²: 1.3 -> 0.4 CPU-s), and every object split as when all got it."""
    import skimage.morphology

    rng = np.random.default_rng(3)
    shapes = [_discs(26), _discs(12), _discs(18.5, radius=8), *_shapes(rng)]
    for ids in shapes:
        for least in (1, 50):
            assert np.array_equal(split_necks(ids, least), _reference(ids, least))
    assert sum(split_necks(ids, 1).max() > ids.max() for ids in shapes) >= 10
    calls = []
    h_maxima = skimage.morphology.h_maxima
    monkeypatch.setattr(skimage.morphology, "h_maxima", lambda *a: calls.append(1) or h_maxima(*a))
    grid = np.kron(np.arange(1, 17).reshape(4, 4), np.ones((15, 15), np.int64))
    assert split_necks(grid, 1).max() == 16 and not calls  # 16 squares: 16 calls before
    assert split_necks(_discs(26), 50).max() == 2 and len(calls) == 1


def test_the_smoothing_and_the_peaks_are_scipys_bit_for_bit():
    """necks._smoothed is ``gaussian_filter(distance, NECK_SMOOTH)`` (its kernel made once)
    and necks._peaks counts the sets ``maximum_filter(size=3)`` finds, on masks of 1 px up
    (each padded by 1 px), the same float64 values."""
    from scipy import ndimage

    from unetlab.inference.necks import NECK_SMOOTH, _peaks, _smoothed

    rng = np.random.default_rng(8)
    for _ in range(60):
        high, wide = rng.integers(1, 40, 2)
        mask = np.zeros((high + 2, wide + 2), bool)
        mask[1:-1, 1:-1] = ndimage.gaussian_filter(rng.random((high, wide)), 1.5) > 0.45
        distance = ndimage.distance_transform_edt(mask)
        smooth = ndimage.gaussian_filter(distance, NECK_SMOOTH)
        assert np.array_equal(_smoothed(distance), smooth)
        smooth = np.where(mask, smooth, 0.0)
        peaks = mask & (smooth >= ndimage.maximum_filter(smooth, size=3))
        assert _peaks(smooth, mask) == ndimage.label(peaks, np.ones((3, 3)))[1]
