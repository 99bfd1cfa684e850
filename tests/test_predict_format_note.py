"""``--output-format ome-zarr`` with inputs read whole says that they are written as PNG or
TIFF (s42 README walk: a 1-MP OME-TIFF given ``--output-format ome-zarr`` came back as
slide.tif without a word)."""

import logging

import numpy as np

from unetlab import UNet, predict_folder
from unetlab.data.io import write_png


def test_ome_zarr_asked_for_images_read_whole_is_said(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    net = UNet(1, 2, depth=2, base_channels=2).eval()
    net.label_values = [0, 255]
    write_png(tmp_path / "in" / "a.png", np.full((32, 40), 9, np.uint8))
    predict_folder(net, tmp_path / "in", tmp_path / "out", output_format="ome-zarr")
    (line,) = [r.getMessage() for r in caplog.records if "ome-zarr" in r.getMessage()]
    assert (
        "1 input read whole is written as PNG or TIFF" in line
        and "large_threshold=N" in line  # Python's keyword (--large-pixels: the CLI's, s54)
    ), line
    assert (tmp_path / "out" / "a.png").is_file()
    caplog.clear()
    predict_folder(net, tmp_path / "in", tmp_path / "tiff")  # the default format: nothing said
    assert "ome-zarr" not in caplog.text
