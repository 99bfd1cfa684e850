"""Synthetic drone tiles: soil background (0), vegetation blobs (1), water ellipses (2); RGB uint8."""

import sys
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image


def tile(seed, size=192):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    mask = np.zeros((size, size), np.uint8)
    for _ in range(6):
        cy, cx, r = rng.integers(0, size, 2).tolist() + [rng.integers(8, 20)]
        mask[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = 1
    for _ in range(2):
        cy, cx = rng.integers(20, size - 20, 2)
        a, b = rng.integers(10, 30, 2)
        mask[((yy - cy) / a) ** 2 + ((xx - cx) / b) ** 2 < 1] = 2
    colours = np.array([[125, 95, 65], [60, 140, 50], [40, 70, 130]], float)
    image = colours[mask] + rng.normal(0, 18, (size, size, 3))
    return np.clip(image, 1, 255).astype(np.uint8), mask


def border(size, seed):
    """An irregular nodata outline: outside a wobbly disc (about 40% of the tile)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    ang = np.arctan2(yy - size / 2, xx - size / 2)
    r = size * (0.40 + 0.05 * np.sin(3 * ang + rng.uniform(0, 6)))
    return np.hypot(yy - size / 2, xx - size / 2) > r


root = Path(sys.argv[1])
for d in ("train/images", "train/masks", "test"):
    (root / d).mkdir(parents=True, exist_ok=True)
for k in range(8):
    img, m = tile(k)
    tifffile.imwrite(root / "train/images" / f"t{k}.tif", img, photometric="rgb")
    Image.fromarray(m).save(root / "train/masks" / f"t{k}.png")
img, m = tile(100, 256)
bad = border(256, 100)
img[bad] = 0
tags = [(42113, "s", 0, "0", True)]
tifffile.imwrite(root / "test/ortho.tif", img, photometric="rgb", extratags=tags)
np.save(root / "test_bad.npy", bad)
np.save(root / "test_mask.npy", m)
tifffile.imwrite(
    root / "test/empty.tif", np.zeros((256, 256, 3), np.uint8), photometric="rgb", extratags=tags
)
crop = img[64:192, 64:192]
assert not bad[64:192, 64:192].any()
tifffile.imwrite(root / "test/crop.tif", crop, photometric="rgb")
print("bad share", bad.mean())
