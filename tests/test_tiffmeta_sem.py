"""Pixel sizes of scanning electron microscopes' TIFFs: FEI / Thermo Fisher and Zeiss write
their own tags, and 72 or 96 dpi resolution tags beside them (audit s31 grains 7)."""

import logging

import numpy as np
import pytest
import tifffile

import unetlab
from unetlab.data.tiffmeta import read_pixel_size

FEI = "[User]\r\nDate=12/01/2026\r\n[Scan]\r\nPixelWidth=5e-08\r\nPixelHeight=2.5e-08\r\n\x00"
ZEISS = "\r\n0\r\n\r\nAP_IMAGE_PIXEL_SIZE\r\nImage Pixel Size = 50.00 nm\r\n\x00"


def sem_tiff(path, tag: int, text: str, **kwargs) -> None:
    image = np.zeros((16, 16), np.uint16)
    tifffile.imwrite(path, image, extratags=[(tag, "s", 0, text, True)], **kwargs)


def test_fei_and_zeiss_pixel_sizes_are_read(tmp_path):
    sem_tiff(tmp_path / "fei.tif", 34682, FEI, resolution=(96, 96), resolutionunit="INCH")
    sem_tiff(tmp_path / "zeiss.tif", 34118, ZEISS, resolution=(96, 96), resolutionunit="INCH")
    assert read_pixel_size(tmp_path / "fei.tif").size == (0.025, 0.05)  # y, x in um
    assert read_pixel_size(tmp_path / "zeiss.tif").size == (0.05, 0.05)


def test_imagejs_calibration_wins_over_the_sems_and_the_sems_over_resolution_tags(tmp_path):
    ij = dict(imagej=True, resolution=(10, 10), metadata={"unit": "um"})
    sem_tiff(tmp_path / "ij.tif", 34682, FEI, **ij)
    assert read_pixel_size(tmp_path / "ij.tif").size == (0.1, 0.1)
    inch = dict(resolution=(25400, 25400), resolutionunit="INCH")  # 1 um pixels
    sem_tiff(tmp_path / "inch.tif", 34118, ZEISS, **inch)
    assert read_pixel_size(tmp_path / "inch.tif").size == (0.05, 0.05)


@pytest.mark.parametrize(
    "text",
    [
        "[Scan]\r\nPixelWidth=0\r\n\x00",
        "[User]\r\nDate=1\r\n\x00",
    ],
)
def test_a_fei_tag_without_a_pixel_size_gives_none(tmp_path, text):
    sem_tiff(tmp_path / "f.tif", 34682, text, resolution=(96, 96), resolutionunit="INCH")
    assert read_pixel_size(tmp_path / "f.tif") is None


class Fixed(unetlab.UNet):
    """Two classes: foreground where the image is bright."""

    def forward(self, x):
        import torch

        b = self.border
        v = x[:, :1, b : x.shape[2] - b, b : x.shape[3] - b]
        return torch.cat([0.5 - v, v - 0.5], dim=1)


def test_predict_says_once_that_objects_have_no_pixel_size(tmp_path, caplog):
    net = Fixed(in_channels=1, num_classes=2, depth=2, base_channels=4, padding="valid").eval()
    net.normalization = {"mode": "fixed", "mean": [0.0], "std": [1.0]}
    image = np.zeros((24, 24), np.uint8)
    image[4:10, 4:10] = 1
    (tmp_path / "in").mkdir()
    for name in ("a.tif", "b.tif"):
        tifffile.imwrite(tmp_path / "in" / name, image, resolution=(96, 96))
    tifffile.imwrite(tmp_path / "in" / "c.tif", image, extratags=[(34682, "s", 0, FEI, True)])
    options = unetlab.ObjectOptions(min_area=1)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out", objects=options)
    said = [
        r.getMessage() for r in caplog.records if "record no usable pixel size" in r.getMessage()
    ]
    assert len(said) == 1 and said[0].startswith(
        "2 of 3 inputs record no usable pixel size (first: a"
    )
    with open(tmp_path / "out" / "c_objects.csv") as f:
        assert "area_um2" in f.readline()
