"""An image whose pixels are another size than the training images' (the checkpoint records
0.325 µm, the file 0.65 µm: nuclei half as wide in pixels) is said in one line naming the
rescale; the net does not rescale (audit s39 audit2: 31% fewer nuclei found at half size)."""

import logging

import numpy as np
import tifffile
import torch

from unetlab import UNet, predict_folder, save_model
from unetlab.cli import main
from unetlab.inference.records import OutputOptions


def _tiff(path, um):
    image = np.random.default_rng(0).integers(0, 4000, (32, 32), dtype=np.uint16)
    metadata = {"unit": "um", "axes": "YX"}
    tifffile.imwrite(path, image, imagej=True, resolution=(1 / um, 1 / um), metadata=metadata)


def _run(tmp_path, caplog, um, pixel_size=None, **outputs):
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    net.objects = {"target": "semantic", "count": 4, "pixel_size": [0.325, 0.325]}
    folder = tmp_path / f"in{um}"
    folder.mkdir()
    _tiff(folder / "a.tif", um)
    with caplog.at_level(logging.WARNING):
        predict_folder(
            net, folder, tmp_path / f"out{um}", OutputOptions(pixel_size=pixel_size, **outputs)
        )
    return [r.getMessage() for r in caplog.records if "trained on" in r.getMessage()]


def test_pixels_twice_the_training_size_are_said(tmp_path, caplog):
    (line,) = _run(tmp_path, caplog, 0.65)
    assert line == (
        "a.tif: 0.65 µm pixels and the model was trained on 0.325 µm pixels (2x): its "
        "objects look 0.5x their trained size; predict it with --scale auto (scale='auto': "
        "resampled to 0.325 µm pixels for the net)"
    )


def test_the_training_size_or_a_given_one_that_fits_says_nothing(tmp_path, caplog):
    assert not _run(tmp_path, caplog, 0.3)
    assert not _run(tmp_path, caplog, 0.65, pixel_size=0.325)  # --pixel-size wins


def test_a_streamed_image_is_told_the_ways_that_work_for_it(tmp_path, caplog):
    """walk s50: a slide read window by window was told to use --scale auto, which predict
    then refuses for it; the line names the ways that work, and the one to read it whole
    with --scale auto runs."""
    (line,) = _run(tmp_path, caplog, 0.65, large_threshold=100)  # 32 x 32 px: streamed
    assert "predict it with --scale auto" not in line
    assert "read it whole with --large-pixels N above its pixels and --scale auto" in line
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same")
    net.objects = {"target": "semantic", "count": 4, "pixel_size": [0.325, 0.325]}
    save_model(tmp_path / "m.pt", net)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in0.65")]
    argv += ["--output", str(tmp_path / "whole"), "--scale", "auto", "--large-pixels", "2000"]
    assert main(argv) == 0
