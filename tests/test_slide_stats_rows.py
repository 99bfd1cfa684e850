"""A streamed page's statistics pass reads a bounded number of values at a time: 1,024 rows
of a 16,384-px-wide slide held 169 MB of numpy traced (uint16: its histogram's int64 copy),
352 MB with ``tissue``, float64 sums of a float one more (s57); fewer rows of a wide page
give the same statistics."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from unetlab import UNet
from unetlab.data import normalize
from unetlab.data.nodata import ValidRows
from unetlab.data.normalize import raw_stats
from unetlab.data.slides import SlidePage
from unetlab.inference import slide_nodata, slides
from unetlab.inference.files import predict_file
from unetlab.inference.slide_nodata import SlideNodata, stats_rows, valid_stats

NODATA_9999 = [(42113, "s", 0, "-9999", True)]  # GDAL_NODATA


def test_the_rows_read_at_once_fall_with_the_width():
    assert stats_rows((2048, 4096, 1)) == 1024  # as before
    assert stats_rows((100_000, 16384, 1)) == 256  # 4 Mi values
    assert stats_rows((100_000, 16384, 3)) == 85
    assert stats_rows((10, 10**8, 3)) == 1  # at least a row


class _Counted:
    """An (H, W, C) array that records the rows of each read."""

    def __init__(self, array):
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, 3
        self.rows = []

    def __getitem__(self, key):
        got = self.array[key]
        self.rows.append(got.shape[0])
        return got


@pytest.mark.parametrize("spec", [{"mode": "per_image"}, {"mode": "per_image", "tissue": True}])
def test_valid_statistics_of_a_wide_page_read_in_fewer_rows_are_the_same(monkeypatch, spec):
    rng = np.random.default_rng(0)
    image = rng.integers(1, 60_000, (64, 300, 1)).astype(np.uint16)
    image[5:9, 20:200] = 0  # nodata
    nodata = SlideNodata(0.0)
    before = valid_stats(image, image, nodata, spec, "s.tif")
    monkeypatch.setattr(slide_nodata, "PASS_VALUES", 300 * 8, raising=False)  # 8 rows
    counted = _Counted(image)
    after = valid_stats(counted, counted, nodata, spec, "s.tif")
    assert max(counted.rows) == 8, counted.rows
    for b, a in zip(before[0], after[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(after[1], before[1], rtol=1e-12)  # the fill: the valid mean


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_a_streamed_pages_statistics_pass_reads_bounded_rows(tmp_path, monkeypatch, dtype):
    """Through predict: the page's reads of whole rows (the statistics pass; tiles read
    windows) hold at most PASS_VALUES values, its statistics those of the image read whole."""
    image = (np.random.default_rng(1).random((70, 300)) * 5000).astype(dtype)
    tifffile.imwrite(tmp_path / "w.tif", image, tile=(32, 32))
    monkeypatch.setattr(slide_nodata, "PASS_VALUES", 300 * 8, raising=False)
    reads, stats, read = [], [], SlidePage.__getitem__

    def counted(self, key):
        got = read(self, key)
        if not isinstance(key, tuple):  # whole rows
            reads.append(got.shape[0])
        return got

    def kept(*args, **kwargs):
        stats.append(raw_stats(*args, **kwargs))
        return stats[-1]

    monkeypatch.setattr(SlidePage, "__getitem__", counted)
    monkeypatch.setattr(slides, "raw_stats", kept)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    predict_file(model, tmp_path / "w.tif", tmp_path / "out", large_threshold=1)
    assert reads and max(reads) <= 8, reads
    (mean, spread), (whole_mean, whole_spread) = stats[0], raw_stats(image, model.normalization)
    np.testing.assert_allclose(mean, whole_mean, rtol=1e-12)
    np.testing.assert_allclose(spread, whole_spread, rtol=1e-12)


@pytest.mark.parametrize(
    "side, bound",
    [((70, 40), ("PASS_ROWS", 16)), ((30, 300), ("PASS_VALUES", 300 * 8))],
    ids=["tall", "wide"],
)
def test_a_float_pages_percentiles_over_its_valid_pixels_read_in_chunks(
    tmp_path, monkeypatch, side, bound
):
    """A float32 page with GDAL_NODATA read a few rows at a time: its percentile statistics
    are those of its valid pixels read whole (the pieces of valid pixels differ in length: a
    tall page of over 1,024 rows, then a wide one of a few hundred, stopped with numpy's
    "dimensions ... must match exactly", s57 review D)."""
    image = (np.random.default_rng(2).random(side) * 100).astype(np.float32)
    image[3:11, 5:29] = -9999
    tifffile.imwrite(tmp_path / "g.tif", image, tile=(16, 16), extratags=NODATA_9999)
    monkeypatch.setattr(slide_nodata, bound[0], bound[1])
    stats, read = [], raw_stats

    def kept(*args, **kwargs):
        stats.append(read(*args, **kwargs))
        return stats[-1]

    monkeypatch.setattr(slide_nodata, "raw_stats", kept)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = {"mode": "percentile"}
    predict_file(model, tmp_path / "g.tif", tmp_path / "out", large_threshold=1)
    valid = image[image != -9999][:, None]
    (low, width), (whole_low, whole_width) = stats[0], raw_stats(valid, model.normalization)
    np.testing.assert_array_equal(low, whole_low)
    np.testing.assert_array_equal(width, whole_width)


class _Held(ValidRows):
    """Valid rows that add up the pixels each read gives."""

    held = 0

    def __getitem__(self, rows):
        got = super().__getitem__(rows)
        self.held += got.size
        return got


@pytest.mark.parametrize("chunk_rows", [200, 16])
@pytest.mark.parametrize("strip", [False, True])
def test_a_float_pages_percentile_sample_with_nodata_is_bounded(monkeypatch, chunk_rows, strip):
    """A large float page's percentiles come from a sample (every k-th row, about
    SAMPLE_PIXELS pixels); with nodata, from every k-th valid pixel, as few: before, from every
    valid pixel of the page (its step did nothing to the (1, N) valid pixels a read gives), a
    whole 100,000 x 16,384 slide's in memory. Never none where a pixel is valid (``strip``:
    valid pixels in row 3 only, between every 8th row); the valid mean (the fill) is still of
    all, whatever rows are read at a time."""
    image = (np.random.default_rng(3).random((96, 40)) * 100).astype(np.float32)
    if strip:
        image[np.arange(96) != 3] = -9999
    else:
        image[10:30, 4:36] = -9999
    monkeypatch.setattr(normalize, "SAMPLE_PIXELS", 96 * 40 // 8)  # k = 8
    rows = _Held(image, -9999.0)
    spec = {"mode": "percentile", "low": 1.0, "high": 99.8}
    low, width = raw_stats(rows, spec, chunk_rows=chunk_rows)
    valid = image[image != -9999]
    sample = valid[::8][:, None]  # in raster order
    assert rows.held == sample.size <= 96 * 40 // 8
    expected = raw_stats(sample, spec)
    np.testing.assert_array_equal(low, expected[0])
    np.testing.assert_array_equal(width, expected[1])
    assert rows.count == valid.size
    np.testing.assert_allclose(rows.mean(), [valid.astype(np.float64).mean()], rtol=1e-12)


def test_a_float_page_all_nodata_with_percentiles_is_not_predicted(tmp_path, caplog):
    """Its statistics are of no pixel: the page is said and not predicted, as an 8-bit one;
    it stopped with numpy's "zero-size array to reduction operation maximum" (the span of
    no pixel, taken before the percentiles that valid_stats expects to fail)."""
    image = np.full((40, 50), -9999, np.float32)
    tifffile.imwrite(tmp_path / "e.tif", image, tile=(16, 16), extratags=NODATA_9999)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = {"mode": "percentile"}
    with caplog.at_level(logging.WARNING):
        predict_file(model, tmp_path / "e.tif", tmp_path / "out", large_threshold=1)
    assert "e.tif: every pixel is nodata or transparent: not predicted" in caplog.text
