"""A band-interleaved TIFF (PlanarConfiguration 2: GDAL's INTERLEAVE=BAND, one page of
SamplesPerPixel bands) is one image of that many channels, as a pixel-interleaved one is,
in training and prediction (audit s31 drone, finding 10: an RGB + NIR orthomosaic was read
as "4 pages" and refused)."""

from __future__ import annotations

import numpy as np
import tifffile
import torch
from PIL import Image

from unetlab import UNet
from unetlab.data.io import read_stack
from unetlab.data.pairs import find_pairs, read_pair
from unetlab.inference.files import predict_file

H, W = 20, 24


def _bands(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4000, (4, H, W), dtype=np.uint16)


def _write(path, bands, planar: bool):
    if planar:  # as GDAL writes it: one page, 4 samples stored band by band
        tifffile.imwrite(path, bands, photometric="minisblack", planarconfig="separate")
    else:
        data = np.moveaxis(bands, 0, -1)
        tifffile.imwrite(path, data, photometric="minisblack", planarconfig="contig")


def test_band_interleaved_reads_as_the_pixel_interleaved(tmp_path):
    _write(tmp_path / "band.tif", _bands(), planar=True)
    _write(tmp_path / "pixel.tif", _bands(), planar=False)
    with tifffile.TiffFile(tmp_path / "band.tif") as tif:
        assert len(tif.pages) == 1 and tif.pages[0].planarconfig == 2
    band, pixel = read_stack(tmp_path / "band.tif"), read_stack(tmp_path / "pixel.tif")
    assert band.shape == (1, H, W, 4)
    assert np.array_equal(band, pixel)


def test_band_interleaved_pairs_with_its_mask_and_predicts(tmp_path):
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    _write(tmp_path / "images" / "t.tif", _bands(), planar=True)
    tifffile.imwrite(tmp_path / "masks" / "t.tif", np.zeros((H, W), np.uint8))
    image, mask = read_pair(find_pairs(tmp_path)[0])
    assert image.shape == (H, W, 4) and mask.shape == (H, W)
    torch.manual_seed(0)
    model = UNet(4, 2, depth=2, base_channels=2, padding="same")
    for name, planar in (("band", True), ("pixel", False)):
        _write(tmp_path / f"{name}.tif", _bands(), planar=planar)
        predict_file(model, tmp_path / f"{name}.tif", tmp_path / "out")
    band, pixel = (np.asarray(Image.open(tmp_path / "out" / f"{n}.png")) for n in ("band", "pixel"))
    assert band.shape == (H, W) and np.array_equal(band, pixel)
