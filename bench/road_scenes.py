"""Write a synthetic road-scene data set as a user of street segmentation would bring it.

Eleven classes of very unequal frequency (road, sidewalk, building, wall, vegetation, sky,
car, pole, sign, person, terrain) on RGB images of 256x512, with grey PNG masks of class
values 0..10 and 255 (void) at the image borders, in train/, val/ and test/ folders of
images/ + masks/, and ``class_names.txt``. With ``--color`` the masks are RGB colours and a
``class_colors.txt`` table (``R G B name``) is written instead of the names.

    python3 bench/road_scenes.py /tmp/audit/roads [--color] [--n 24] [--size 256 512]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage

from unetlab.atomic import atomic_path
from unetlab.data.io import write_png

CLASSES = (
    "road",
    "sidewalk",
    "building",
    "wall",
    "vegetation",
    "sky",
    "car",
    "pole",
    "sign",
    "person",
    "terrain",
)
COLOURS = np.array(
    [
        [128, 64, 128],
        [244, 35, 232],
        [70, 70, 70],
        [102, 102, 156],
        [107, 142, 35],
        [70, 130, 180],
        [0, 0, 142],
        [153, 153, 153],
        [220, 220, 0],
        [220, 20, 60],
        [152, 251, 152],
    ],
    dtype=np.uint8,
)
#: Mean RGB of each class in the photo (not the label colours).
LOOKS = np.array(
    [
        [90, 90, 95],
        [150, 140, 135],
        [140, 110, 95],
        [170, 165, 150],
        [55, 110, 45],
        [150, 185, 220],
        [40, 60, 140],
        [120, 120, 120],
        [230, 200, 40],
        [200, 80, 110],
        [120, 150, 70],
    ],
    dtype=np.float32,
)
VOID = 255


def scene_mask(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Class values 0..10: sky, buildings and walls on a horizon, road, sidewalks, terrain,
    vegetation, cars, then the rare poles, signs and people; void at the borders."""
    m = np.full((h, w), 5, np.uint8)  # sky
    hz = int(h * rng.uniform(0.38, 0.48))
    x = 0
    while x < w:
        bw, bh = int(rng.uniform(0.08, 0.2) * w), int(rng.uniform(0.15, 0.35) * h)
        m[max(0, hz - bh) : hz, x : x + bw] = 2 if rng.random() < 0.85 else 3
        x += bw
    m[hz:] = 0  # road
    yy, xx = np.mgrid[:h, :w]
    centre = w / 2 + rng.uniform(-0.1, 0.1) * w
    spread = (yy - hz) * rng.uniform(0.9, 1.3) + 0.05 * w
    m[(yy >= hz) & (np.abs(xx - centre) > spread)] = 1  # sidewalks at both sides
    m[(yy >= hz) & (np.abs(xx - centre) > spread + 0.12 * w)] = 10  # terrain beyond
    for _ in range(rng.integers(1, 4)):  # trees over buildings
        cy, cx, r = hz - rng.uniform(0.05, 0.2) * h, rng.uniform(0, w), rng.uniform(15, 35)
        m[(yy - cy) ** 2 + ((xx - cx) / 1.4) ** 2 < r * r] = 4
    for _ in range(rng.integers(1, 4)):  # cars on the road
        cy = int(hz + rng.uniform(0.1, 0.35) * h)
        cw = int(20 + (cy - hz) * 0.8)
        cx = int(centre + rng.uniform(-0.5, 0.5) * spread[cy, 0])
        m[cy - cw // 2 : cy, max(cx - cw // 2, 0) : cx + cw // 2] = 6
    for _ in range(rng.integers(2, 5)):  # poles on the sidewalk, some with a sign
        px = int(rng.choice([rng.uniform(0.02, 0.2), rng.uniform(0.8, 0.97)]) * w)
        top, bottom = int(hz - rng.uniform(0.1, 0.3) * h), int(hz + rng.uniform(0.1, 0.3) * h)
        m[top:bottom, px : px + int(rng.integers(2, 4))] = 7
        if rng.random() < 0.6:
            s = int(rng.integers(6, 12))
            m[top : top + s, px - s // 2 : px + s // 2 + 2] = 8
    for _ in range(rng.integers(0, 3)):  # people
        cy, cx = rng.uniform(hz + 0.1 * h, h - 12), rng.uniform(8, w - 8)
        m[((yy - cy) / 10) ** 2 + ((xx - cx) / 3.5) ** 2 < 1] = 9
    border = int(rng.integers(2, 6))  # void: the ego car's hood and the frame
    m[-border:], m[:, :border], m[:, -border:] = VOID, VOID, VOID
    return m


def paint(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo: each class's look (jittered), texture, noise and a little blur."""
    looks = LOOKS + rng.normal(0, 10, LOOKS.shape)
    image = looks[np.where(mask == VOID, 0, mask)]
    image += ndimage.gaussian_filter(rng.normal(0, 1, mask.shape), 1.5)[..., None] * 30
    image += rng.normal(0, 8, image.shape)
    image = ndimage.gaussian_filter(image, (0.8, 0.8, 0))
    image[mask == VOID] = image[mask == VOID] * 0.3  # the dark hood
    return np.clip(image, 0, 255).astype(np.uint8)


def write(root: Path, n: int, size: tuple[int, int], color: bool, seed: int) -> None:
    """``n`` scenes split 2/3 train, 1/6 val, 1/6 test into ``root``, each file written
    atomically; a ``root`` that holds anything is refused (its files are no scenes')."""
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"road_scenes.py: {root} holds files already: give a new folder")
    rng = np.random.default_rng(seed)
    n_val = max(1, n // 6)
    parts = ["val"] * n_val + ["test"] * n_val + ["train"] * (n - 2 * n_val)
    counts = np.zeros(256, np.int64)
    for i, part in enumerate(parts):
        mask = scene_mask(*size, rng)
        counts += np.bincount(mask.ravel(), minlength=256)
        for sub in ("images", "masks"):
            (root / part / sub).mkdir(parents=True, exist_ok=True)
        write_png(root / part / "images" / f"road_{i:03d}.png", paint(mask, rng))
        if color:
            rgb = np.zeros((*size, 3), np.uint8)
            keep = mask != VOID
            rgb[keep] = COLOURS[mask[keep]]
            write_png(root / part / "masks" / f"road_{i:03d}.png", rgb)
        else:
            write_png(root / part / "masks" / f"road_{i:03d}.png", mask)
    lines = [f"{r} {g} {b} {name}" for (r, g, b), name in zip(COLOURS, CLASSES, strict=True)]
    name, lines = (
        ("class_colors.txt", [*lines, "0 0 0 void"]) if color else ("class_names.txt", CLASSES)
    )
    with atomic_path(root / name) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    share = counts[: len(CLASSES)] / counts.sum()
    print(" ".join(f"{c}={s:.2%}" for c, s in zip(CLASSES, share, strict=True)))
    print(f"void={counts[VOID] / counts.sum():.2%}")


def main() -> None:
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path)
    p.add_argument("--n", type=int, default=24)
    p.add_argument("--size", type=int, nargs=2, default=(256, 512))
    p.add_argument("--color", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    write(a.root, a.n, tuple(a.size), a.color, a.seed)


if __name__ == "__main__":
    main()
