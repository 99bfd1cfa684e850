"""Synthetic street-like scenes of many classes of very different frequency, in VOC layout.

A scene (RGB, class-index mask) is sky above a horizon, road below it, a row of buildings on
the horizon, blobs of vegetation, and the rare classes: thin poles (2-3 px wide), small signs
on some poles and small people on the road. Every class has its own colour and texture, jittered
per image, with noise, so a net can tell them apart, but the rare ones cover about 0.5-2 % of the
pixels each: with every pixel weighted the same, a net learns them late or not at all. The
class-weighted loss is measured against plain cross entropy on them (``bench/bench_classes.py``).

:func:`write_voc_scenes` writes them as PASCAL VOC: ``JPEGImages/NAME.jpg``,
``SegmentationClass/NAME.png`` palette PNGs (VOC colours, 255 = void outlines around the
objects, as VOC draws them), ``ImageSets/Segmentation/{train,val}.txt`` and
``class_names.txt``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from unetlab.atomic import atomic_path
from unetlab.data.classes import NAMES_FILE, VOC_VOID, voc_colormap
from unetlab.data.io import write_png
from unetlab.errors import UnetlabError

SCENE_CLASSES = ("sky", "road", "building", "vegetation", "pole", "sign", "person")
#: Mean RGB of each class (jittered per image).
_COLOURS = np.array(
    [
        [150, 180, 215],
        [95, 95, 100],
        [150, 120, 100],
        [60, 120, 50],
        [200, 200, 60],
        [210, 50, 50],
        [230, 130, 200],
    ],
    dtype=np.float32,
)


def synthetic_scene(size: int | tuple[int, int], rng: np.random.Generator):
    """One scene: (image (H, W, 3) uint8, mask (H, W) uint8 class indices of SCENE_CLASSES)."""
    h, w = (size, size) if isinstance(size, int) else size
    if h < 32 or w < 32:
        raise UnetlabError(f"scenes need at least 32x32 px, not {h}x{w}")
    mask = np.zeros((h, w), np.uint8)  # sky
    horizon = int(h * rng.uniform(0.35, 0.5))
    mask[horizon:] = 1  # road
    x = 0
    while x < w:  # buildings standing on the horizon
        bw, bh = int(rng.uniform(0.1, 0.25) * w), int(rng.uniform(0.1, 0.3) * h)
        if rng.random() < 0.8:
            mask[max(0, horizon - bh) : horizon + 2, x : x + bw] = 2
        x += bw + int(rng.uniform(0.0, 0.05) * w)
    yy, xx = np.mgrid[:h, :w]
    for _ in range(rng.integers(1, 4)):  # vegetation blobs
        cy, cx = horizon + rng.uniform(-0.05, 0.1) * h, rng.uniform(0, w)
        r = rng.uniform(0.04, 0.09) * min(h, w)
        mask[(yy - cy) ** 2 + ((xx - cx) / 1.5) ** 2 < r * r] = 3
    for _ in range(rng.integers(1, max(2, w // 48))):  # poles, some with a sign
        px, pw = int(rng.uniform(0, w - 3)), int(rng.integers(2, 4))
        top = int(horizon - rng.uniform(0.1, 0.3) * h)
        bottom = int(horizon + rng.uniform(0.05, 0.2) * h)
        mask[max(top, 0) : bottom, px : px + pw] = 4
        if rng.random() < 0.6:
            s = int(rng.integers(5, 10))
            mask[max(top - s, 0) : max(top, 1), max(px - s // 2, 0) : px + pw + s // 2] = 5
    for _ in range(rng.integers(1, max(2, w // 48))):  # people on the road
        cy, cx = rng.uniform(horizon + 0.1 * h, h - 4), rng.uniform(4, w - 4)
        mask[((yy - cy) / 8) ** 2 + ((xx - cx) / 4) ** 2 < 1] = 6
    return _paint(mask, rng), mask


def _paint(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Colour each class (jittered), add texture and noise, blur a little."""
    colours = _COLOURS + rng.normal(0, 12, _COLOURS.shape)
    image = colours[mask]
    texture = ndimage.gaussian_filter(rng.normal(0, 1, mask.shape), 2.0) * 25
    image += texture[..., None] + rng.normal(0, 10, image.shape)
    image = ndimage.gaussian_filter(image, (0.7, 0.7, 0))
    return np.clip(image, 0, 255).astype(np.uint8)


def void_outlines(mask: np.ndarray, classes: tuple[int, ...]) -> np.ndarray:
    """``mask`` with a 1-px ``VOC_VOID`` outline around the pixels of ``classes`` (as VOC
    marks object borders); a new uint8 array."""
    objects = np.isin(mask, classes)
    ring = ndimage.binary_dilation(objects) & ~objects
    return np.where(ring, VOC_VOID, mask).astype(np.uint8)


def write_voc_scenes(
    root: str | os.PathLike,
    *,
    n_train: int = 24,
    n_val: int = 6,
    size: int | tuple[int, int] = 256,
    seed: int = 0,
    void: bool = True,
) -> Path:
    """Write a VOC-layout data set of :func:`synthetic_scene` images under ``root``.

    Names ``scene_NNN``; masks are palette PNGs with the VOC colour map (class index =
    palette index) and, with ``void``, 255 outlines around poles, signs and people.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    colours = voc_colormap(256)
    names = [f"scene_{i:03d}" for i in range(n_train + n_val)]
    for name in names:
        image, mask = synthetic_scene(size, rng)
        if void:
            mask = void_outlines(mask, (4, 5, 6))
        with atomic_path(root / "JPEGImages" / f"{name}.jpg") as tmp:
            Image.fromarray(image).save(tmp, format="JPEG", quality=95)
        write_png(root / "SegmentationClass" / f"{name}.png", mask, palette=colours)
    split = root / "ImageSets" / "Segmentation"
    for file, part in (("train.txt", names[:n_train]), ("val.txt", names[n_train:])):
        with atomic_path(split / file) as tmp:
            tmp.write_text("".join(f"{n}\n" for n in part))
    with atomic_path(root / NAMES_FILE) as tmp:
        tmp.write_text("".join(f"{n}\n" for n in SCENE_CLASSES))
    return root
