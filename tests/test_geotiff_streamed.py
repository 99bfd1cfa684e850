"""A GeoTIFF streamed window by window (an orthomosaic above the large-image threshold,
audit s31 drone, finding 1): its OME-TIFF labels, probabilities and objects carry the
input's GeoTIFF tags on their full-resolution IFD; a --level N output, on another grid,
carries that grid's (the level's pixel scale, from the same corner: note32 GIS)."""

from __future__ import annotations

import numpy as np
import tifffile
import torch

from unetlab import UNet
from unetlab.data.geotiff import GEOTIFF_TAGS
from unetlab.inference.files import predict_file

KEYS = (1, 1, 0, 3, 1024, 0, 1, 1, 3072, 0, 1, 32633, 3076, 0, 1, 9001)
GEO = [
    (33550, 12, 3, (0.05, 0.05, 0.0), True),
    (33922, 12, 6, (0.0, 0.0, 0.0, 500000.0, 5500000.0, 0.0), True),
    (34735, 3, len(KEYS), KEYS, True),
]


def _tags(path) -> dict:
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        return {c: page.tags[c].value for c in GEOTIFF_TAGS if c in page.tags}


def _pyramid(path):
    """A 2-level tiled GeoTIFF (GDAL's overviews as SubIFDs), 64 x 48 px."""
    image = np.random.default_rng(0).integers(0, 255, (64, 48), dtype=np.uint8)
    with tifffile.TiffWriter(path) as tif:
        tif.write(image, tile=(16, 16), subifds=1, extratags=GEO)
        tif.write(image[::2, ::2], tile=(16, 16), subfiletype=1)
    return path


def test_streamed_outputs_carry_the_tags_of_their_levels_grid(tmp_path):
    src = _pyramid(tmp_path / "ortho.tif")
    torch.manual_seed(0)
    model = UNet(1, 3, depth=2, base_channels=2, padding="same")
    how = dict(save_probabilities=True, objects=True, large_threshold=100)
    written = predict_file(model, src, tmp_path / "out0", **how)
    tiffs = sorted(p.name for p in written if p.suffix == ".tif")
    assert tiffs == ["ortho.tif", "ortho_objects.tif", "ortho_prob.tif"]
    for name in tiffs:
        assert _tags(tmp_path / "out0" / name) == _tags(src), name
    written = predict_file(model, src, tmp_path / "out1", level=1, **how)
    level = {**_tags(src), 33550: (0.1, 0.1, 0.0)}  # 32 x 24 px of 0.1 m
    for path in written:
        if path.suffix == ".tif":
            assert _tags(path) == level, path.name
