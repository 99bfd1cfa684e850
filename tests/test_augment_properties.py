"""Property tests of the paired augmentation and of label encoding (hypothesis, small sizes):
whatever is drawn, a mask keeps its label set, the weight and label of each pixel come from
one source pixel, and the image is sampled there too; mask values map to class indices as a
plain lookup does."""

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from unetlab.data.labels import IGNORE_INDEX, UNKNOWN, value_indices  # noqa: E402
from unetlab.data.transforms import Augment  # noqa: E402

augments = st.builds(
    Augment,
    elastic=st.booleans(),
    elastic_sigma=st.floats(0.0, 6.0),
    flip=st.booleans(),
    vflip=st.booleans(),
    rot90=st.booleans(),
    rotate=st.floats(0.0, 180.0),
    shift=st.floats(0.0, 8.0),
    brightness=st.just(0.0),
    contrast=st.just(0.0),
    p_elastic=st.floats(0.0, 1.0),
    p_rotate=st.floats(0.0, 1.0),
    p_shift=st.floats(0.0, 1.0),
)


@settings(max_examples=40, deadline=None)
@given(augments, st.integers(3, 24), st.integers(3, 24), st.integers(0, 2**16))
def test_label_weight_and_image_come_from_one_source_pixel(aug, h, w, seed):
    rng = np.random.default_rng(seed)
    mask = rng.integers(-1, 4, size=(h, w)).astype(np.int64)
    number = np.arange(h * w, dtype=np.float32).reshape(h, w)  # each pixel's own number
    image = np.stack(np.indices((h, w)).astype(np.float32))  # each pixel's (row, col)
    out, out_mask, out_weight = aug(image, mask, number, rng=np.random.default_rng(seed))
    assert out.shape == image.shape and out_mask.shape == mask.shape
    assert out_mask.dtype == mask.dtype and out_weight.dtype == np.float32
    assert set(np.unique(out_mask)) <= set(np.unique(mask))
    source = out_weight.astype(np.int64)
    np.testing.assert_array_equal(out_weight, source)  # a whole pixel, never a blend
    np.testing.assert_array_equal(out_mask, mask.ravel()[source])
    # the image's bicubic sample lies within half a pixel (and Keys' 0.05 px) of that pixel,
    # away from the tile edge, where its taps reach across the reflection
    rows, cols = out
    inside = (rows > 2) & (rows < h - 3) & (cols > 2) & (cols < w - 3)
    assert np.all(np.abs(source // w - rows)[inside] <= 0.55)
    assert np.all(np.abs(source % w - cols)[inside] <= 0.55)


values = st.lists(st.integers(-300, 70000), min_size=1, max_size=5, unique=True)


@settings(max_examples=80, deadline=None)
@given(
    values,
    st.one_of(st.none(), st.integers(-300, 70000)),
    st.sampled_from(["uint8", "uint16", "int16", "int32"]),
    st.integers(0, 2**16),
)
def test_value_indices_is_a_plain_lookup(label_values, ignore_value, dtype, seed):
    """Any class values and ignore value (negative ones too: -1 ignored every 255 of a
    0/255 mask through the lookup table's end), any mask dtype."""
    info = np.iinfo(dtype)
    pool = [v for v in [*label_values, ignore_value, 0, 7, 255] if v is not None]
    pool = [v for v in pool if info.min <= v <= info.max]
    if not pool:
        return
    mask = np.random.default_rng(seed).choice(pool, size=(4, 5)).astype(dtype)
    if ignore_value is not None and ignore_value in label_values:
        return  # a value both ignored and a class: refused by the configuration checks
    index = {v: k for k, v in enumerate(label_values)}
    if ignore_value is not None:
        index[ignore_value] = IGNORE_INDEX
    expected = [[index.get(int(v), UNKNOWN) for v in row] for row in mask]
    assert value_indices(mask, label_values, ignore_value=ignore_value).tolist() == expected


@pytest.mark.parametrize("sizes", [(44, 20), (30, 30), (80, 60)])
def test_training_tiles_keep_label_weight_and_image_together(sizes):
    """TileDataset's augmented tiles of a 50 x 37 sample, for valid (input > output) and same
    nets, windows past the sample's edge too: each label pixel has the label of the pixel
    its weight names (the weight: each pixel's number + 1, 0 outside the sample, where the
    label is ignored), and the input tile's centre samples that pixel."""
    from unetlab.data.datasets import Sample, TileDataset

    h, w = 50, 37
    mask = np.random.default_rng(0).integers(-1, 3, (h, w)).astype(np.int64)
    number = (np.arange(h * w).reshape(h, w) + 1).astype(np.float32)
    sample = Sample("a", np.stack(np.indices((h, w)).astype(np.float32)), mask, number)
    moves = dict(elastic=True, p_elastic=1, rotate=40, p_rotate=1, shift=5, p_shift=1)
    aug = Augment(**moves, brightness=0.0, contrast=0.0)
    size_in, size_out = sizes
    tiles = TileDataset(
        [sample], input_size=size_in, output_size=size_out, augment=aug, tiles_per_epoch=12
    )
    m = (size_in - size_out) // 2
    for i in range(12):
        image, target, weight = (t.numpy() for t in tiles[(0, i)])
        source = weight.astype(np.int64) - 1
        inside = source >= 0
        np.testing.assert_array_equal(target[inside], mask.ravel()[source[inside]])
        assert (target[~inside] == IGNORE_INDEX).all()
        rows, cols = image[:, m : m + size_out, m : m + size_out]
        _, top, left = tiles.draw(i)
        y, x = source // w - (top - m), source % w - (left - m)  # in the input window
        far = (y > 2) & (y < size_in - 3) & (x > 2) & (x < size_in - 3)  # from its folds
        far &= inside & (rows > 2) & (rows < h - 3) & (cols > 2) & (cols < w - 3)
        assert np.all(np.abs(source // w - rows)[far] <= 0.55)
        assert np.all(np.abs(source % w - cols)[far] <= 0.55)
