"""Before (nodata none: the old behaviour) and after (auto) on the synthetic ortho."""

import csv
import logging
import sys
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from unetlab import load_model
from unetlab.data.io import read_image
from unetlab.data.normalize import image_stats
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions

logging.basicConfig(level=logging.WARNING, format="  log: %(message)s")
root = Path(sys.argv[1])
model = load_model(root.parent / "runs/a/checkpoints/best.pt")
img = read_image(root / "test/ortho.tif")
bad = np.load(root / "test_bad.npy")
truth = np.load(root / "test_mask.npy")
print("normalisation", model.normalization)
m0, s0 = image_stats(img, model.normalization)
m1, s1 = image_stats(img[~bad][:, None], model.normalization)
print(f"stats whole image (before): mean {np.round(m0, 1)} std {np.round(s0, 1)}")
print(f"stats valid pixels (after): mean {np.round(m1, 1)} std {np.round(s1, 1)}")
mc, sc = image_stats(read_image(root / "test/crop.tif"), model.normalization)
print(f"stats interior crop:        mean {np.round(mc, 1)} std {np.round(sc, 1)}")
for mode in ("none", "auto"):
    out = root.parent / f"out_{mode}"
    predict_file(model, root / "test/ortho.tif", out, objects=ObjectOptions(), nodata=mode)
    predict_file(model, root / "test/empty.tif", out, nodata=mode)
    predict_file(model, root / "test/crop.tif", out, nodata=mode)
    lab = (
        np.asarray(Image.open(out / "ortho.png"))
        if (out / "ortho.png").exists()
        else tifffile.imread(out / "ortho.tif")
    )
    ids = tifffile.imread(out / "ortho_objects.tif")
    rows = list(csv.DictReader((out / "ortho_objects.csv").read_text().splitlines()))
    n = len(rows)
    inside = 0
    touching = 0
    for r in rows:
        i = int(r["id"])
        px = ids == i
        share = bad[px].mean()
        inside += share > 0.5
    flagged = sum(r["touches_border"] == "true" for r in rows)
    acc = (lab[~bad] == truth[~bad]).mean()
    empty = (
        np.asarray(Image.open(out / "empty.png"))
        if (out / "empty.png").exists()
        else tifffile.imread(out / "empty.tif")
    )
    share = np.bincount(empty.ravel(), minlength=3) / empty.size
    crop = (
        np.asarray(Image.open(out / "crop.png"))
        if (out / "crop.png").exists()
        else tifffile.imread(out / "crop.tif")
    )
    differ = (crop != lab[64:192, 64:192]).mean()
    print(
        f"[nodata {mode}] objects {n}, mostly in nodata {inside}, touches_border {flagged}; "
        f"labels in nodata by class {np.bincount(lab[bad].ravel(), minlength=3).tolist()}; "
        f"pixel accuracy on valid {acc:.4f}; empty tile classes {np.round(share, 4).tolist()}; "
        f"crop vs same window of the tile: {differ:.2%} px differ"
    )
