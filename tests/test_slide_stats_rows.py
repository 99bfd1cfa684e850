"""A streamed page's statistics pass reads a bounded number of values at a time: 1,024 rows
of a 16,384-px-wide slide held 169 MB of numpy traced (uint16: its histogram's int64 copy),
352 MB with ``tissue``, float64 sums of a float one more (s57); fewer rows of a wide page
give the same statistics."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unetlab import UNet
from unetlab.data.normalize import raw_stats
from unetlab.data.slides import SlidePage
from unetlab.inference import slide_nodata, slides
from unetlab.inference.files import predict_file
from unetlab.inference.slide_nodata import SlideNodata, stats_rows, valid_stats


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
