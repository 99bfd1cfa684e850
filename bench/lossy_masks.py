"""The lossy-mask rule (blurred, resized or JPEG-saved 2-class masks) on real and made masks:
per case, the distinct values pooled, the share of pixels at the two commonest, the share of
the values between on a ramp (:func:`unetlab.data.softedges.ramp_pixels`), the rule by pixel
shares alone ("old") and with ramps ("new"), and ramp_pixels' time per mask. Reads ISBI 2012
and Kromp masks from ../shared/data beside the repository (``--data``: another folder); prints
a table; writes nothing.

    PYTHONPATH=src python3 bench/lossy_masks.py
"""

import glob
import io
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.transform import resize

from unetlab.cli.parser import Parser
from unetlab.data import fingerprint as F
from unetlab.data.softedges import ramp_pixels
from unetlab.data.synthetic import synthetic_em, synthetic_nuclei


def load(pattern):
    return [np.asarray(Image.open(f)) for f in sorted(glob.glob(pattern))]


DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def u8(a):
    return np.clip(np.round(a), 0, 255).astype(np.uint8)


def jpeg(m, q=90):
    b = io.BytesIO()
    Image.fromarray(m).save(b, "JPEG", quality=q)
    return np.asarray(Image.open(b))


def discs(seed, n=40, gaps=True, top_largest=True, size=256):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    ids = np.zeros((size, size), np.uint16)
    labels = (
        np.sort(np.random.default_rng(99).choice(np.arange(1, 200), n, replace=False))
        if gaps
        else np.arange(1, n + 1)
    )
    for k, lab in enumerate(labels):
        r = 30 if (top_largest and k == n - 1) else rng.integers(4, 10)
        y, x = rng.integers(r, size - r, 2)
        ids[(yy - y) ** 2 + (xx - x) ** 2 < r * r] = lab
    return ids


def soft(n=6):  # tests/test_antialiased_masks.py
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:192, :192]
    out = []
    for _i in range(n):
        big = np.zeros((192, 192))
        for _ in range(12):
            y, x, r = rng.integers(20, 172), rng.integers(20, 172), rng.integers(8, 16)
            big[(yy - y) ** 2 + (xx - x) ** 2 < r * r] = 255
        out.append(
            np.round(
                resize(big, (96, 96), order=1, anti_aliasing=True, preserve_range=True)
            ).astype(np.uint8)
        )
    return out


def real_cases(data: Path) -> tuple[dict, dict]:
    """The masks of Kromp's nuclei and ISBI 2012 under ``data`` as read, and made lossy
    (resized, blurred, JPEG-saved 0/255 masks): each a dict of (masks, whether lossy)."""
    kromp = f"{data}/kromp2020_nuclei/"
    kromp_tr, kromp_te = load(kromp + "train/masks/*.png"), load(kromp + "test/masks/*.png")
    isbi = load(f"{data}/isbi2012/train/masks/*.png")
    binary = [np.where(m > 0, 255, 0).astype(np.uint8) for m in kromp_tr]
    isbi255 = [np.where(m > 0, 255, 0).astype(np.uint8) for m in isbi]
    cases = {
        "kromp train ids": (kromp_tr, False),
        "kromp test ids": (kromp_te, False),
        "isbi labels": (isbi, False),
    }
    return cases, lossy_cases(binary, isbi255)


def made_cases() -> dict:
    """Synthetic masks: the demo's, discs with and without gaps in their ids, anti-aliased
    masks -> (masks, whether they are lossy)."""
    rng = np.random.default_rng(1)
    em = [synthetic_em(256, rng) for _ in range(4)]
    return {
        "demo em labels": ([e[1] for e in em], False),
        "demo em ids": ([e[2] for e in em if e[2] is not None], False),
        "demo nuclei ids": (
            [synthetic_nuclei(256, np.random.default_rng(s))[1] for s in range(4)],
            False,
        ),
        "discs gaps top-largest": ([discs(s) for s in range(6)], False),
        "discs gaps": ([discs(s, top_largest=False) for s in range(6)], False),
        "discs 0..n top-largest": ([discs(s, gaps=False) for s in range(6)], False),
        "antialiased test masks": (soft(), True),
    }


def lossy_cases(binary: list, isbi255: list) -> dict:
    """Kromp's and ISBI's 0/255 masks resized, blurred and JPEG-saved -> (masks, True)."""
    return {
        "kromp bin resize 2x": (
            [
                u8(
                    resize(
                        b.astype(float),
                        (b.shape[0] * 2, b.shape[1] * 2),
                        order=1,
                        preserve_range=True,
                    )
                )
                for b in binary[:10]
            ],
            True,
        ),
        "kromp bin resize 0.5x": (
            [
                u8(
                    resize(
                        b.astype(float),
                        (b.shape[0] // 2, b.shape[1] // 2),
                        order=1,
                        anti_aliasing=True,
                        preserve_range=True,
                    )
                )
                for b in binary[:10]
            ],
            True,
        ),
        "kromp bin blur 0.6": (
            [u8(ndimage.gaussian_filter(b.astype(float), 0.6)) for b in binary],
            True,
        ),
        "kromp bin blur 1.0": (
            [u8(ndimage.gaussian_filter(b.astype(float), 1.0)) for b in binary],
            True,
        ),
        "isbi blur 0.7": (
            [u8(ndimage.gaussian_filter(b.astype(float), 0.7)) for b in isbi255],
            True,
        ),
        "isbi blur 1.5": (
            [u8(ndimage.gaussian_filter(b.astype(float), 1.5)) for b in isbi255],
            True,
        ),
        "kromp bin jpeg q90": ([jpeg(b) for b in binary[:10]], True),
        "kromp bin jpeg q75": ([jpeg(b, 75) for b in binary[:10]], True),
        "isbi jpeg q90": ([jpeg(b) for b in isbi255], True),
    }


def main() -> None:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=DATA, help="the data folder (default %(default)s)"
    )
    args = parser.parse_args()
    read, lossy = real_cases(args.data)
    if not all(masks for masks, _ in read.values()):
        parser.error(f"no Kromp or ISBI 2012 masks under {args.data}: give --data the folder")
    cases = read | made_cases() | lossy
    print(
        f"{'case':26s} {'want':5s} {'vals':>5s} {'ext%':>6s} {'ramp%':>6s} {'old':>5s} {'new':>5s}  ms/mask"
    )
    bad = sum(row(name, masks, want) for name, (masks, want) in cases.items())
    print("wrong:", bad)


def row(name: str, masks: list, want: bool) -> bool:
    """Print the case's row; whether the rule ("new") is wrong about it."""
    counts = {}
    for m in masks:
        v, c = np.unique(m, return_counts=True)
        for a, b in zip(v.tolist(), c.tolist()):
            counts[a] = counts.get(a, 0) + b
    t = time.perf_counter()
    rp = [ramp_pixels(m) for m in masks]
    dt = (time.perf_counter() - t) / len(masks) * 1e3
    between, ramp = sum(r[0] for r in rp), sum(r[1] for r in rp)
    top = sorted(counts, key=counts.get, reverse=True)[:2]
    ext = (counts[top[0]] + counts[top[1]]) / sum(counts.values()) if len(top) == 2 else 1
    old = bool(F._looks_lossy(counts)) if hasattr(F, "_looks_lossy") else None
    vals = [F.MaskValues.of(m) for m in masks]
    new = (
        bool(F.lossy_problem(F.pixel_counts(vals), F.ramp_share(vals)))
        if hasattr(F, "ramp_share")
        else None
    )
    print(
        f"{name:26s} {str(want):5s} {len(counts):5d} {ext:6.1%} {ramp / max(between, 1):6.1%} {str(old):>5s} {str(new):>5s}  {dt:.1f}"
    )
    return new is not None and new != want


if __name__ == "__main__":
    main()
