"""A streamed slide's float outputs (probabilities) are written at deflate level 1: the
same Deflate tag, the values bit for bit; labels keep zlib's default level (review s56)."""

from __future__ import annotations

import numpy as np
import tifffile

from unetlab.data import ome


def _zlib_levels(path) -> set[int]:
    """The FLEVEL field (0: fastest ... 3: best) of each tile's zlib stream header, every
    level of the pyramid."""
    found = set()
    with tifffile.TiffFile(path) as tif, open(path, "rb") as raw:
        pages = [tif.pages[0], *tif.pages[0].pages]  # level 0 and its SubIFDs
        for page in pages:
            assert page.compression == tifffile.COMPRESSION.ADOBE_DEFLATE
            for offset in page.dataoffsets:
                raw.seek(offset)
                cmf, flg = raw.read(2)
                assert cmf & 0x0F == 8  # deflate
                found.add(flg >> 6)
    return found


def _written(tmp_path, name, values: np.ndarray, axes: str, **spec) -> tuple:
    spec = ome.OutputSpec(shape=values.shape, axes=axes, dtype=values.dtype, **spec)
    stage = tmp_path / f".{name}.partial"
    array = ome.create(stage, spec)
    array[...] = values
    final = ome.finish(stage, tmp_path / name, spec, "ome-tiff")
    return tifffile.imread(final), _zlib_levels(final)


def test_probabilities_are_deflated_fast_and_read_back_bit_for_bit(tmp_path, monkeypatch):
    monkeypatch.setattr(ome, "CHUNK", 64)  # tiles of 64 px: a small pyramid
    rng = np.random.default_rng(0)
    h, w = 3 * ome.CHUNK // 2, 2 * ome.CHUNK + 5  # a pyramid of 2 levels, edge tiles
    probabilities = rng.random((3, h, w), dtype=np.float32)
    probabilities[:, : h // 2] = np.round(probabilities[:, : h // 2])  # saturated, as a net's
    back, levels = _written(tmp_path, "p.tif", probabilities, "cyx", downsample="mean")
    assert back.dtype == np.float32 and back.tobytes() == probabilities.tobytes()
    assert levels == {0}  # zlib level 1 (FLEVEL 0); the default's is 2
    labels = (probabilities.argmax(0) + 1).astype(np.uint8)
    back, levels = _written(tmp_path, "l.tif", labels, "yx", downsample="nearest")
    assert np.array_equal(back, labels) and levels == {2}  # zlib's default, as before
