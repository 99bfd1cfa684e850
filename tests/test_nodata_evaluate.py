"""evaluate --checkpoint scores no nodata pixel (patch for evaluate/model.py, accumulate.py)."""

import numpy as np
import tifffile
import torch

from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_model
from unetlab.models import UNet


def test_evaluate_scores_no_nodata_pixel(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(60, 200, (64, 64, 3)).astype(np.uint8)
    image[:16] = 0
    (tmp_path / "images").mkdir()
    tags = [(42113, "s", 0, "0", True)]
    tifffile.imwrite(tmp_path / "images" / "a.tif", image, photometric="rgb", extratags=tags)
    mask = np.zeros((64, 64), np.uint8)
    mask[:16] = 255  # the nodata drawn as "cell": scored nowhere
    write_png(tmp_path / "masks" / "a.png", mask)
    torch.manual_seed(0)
    model = UNet(3, 2, depth=2, base_channels=4, padding="same").eval()
    model.classes, model.label_values = ["background", "cell"], [0, 255]
    model.normalization = {"mode": "per_image"}
    with_nodata = evaluate_model(model, tmp_path)
    assert with_nodata.summary["labelled_pixels"] == 64 * 48
    everything = evaluate_model(model, tmp_path, nodata="none")
    assert everything.summary["labelled_pixels"] == 64 * 64
