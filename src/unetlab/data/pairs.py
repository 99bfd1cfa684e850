"""Find image/mask pairs in the usual folder layouts.

- ``images/`` and ``masks/`` with the same file stems (``a.png`` / ``a.png`` or ``a.tif``);
  multi-page TIFF stacks of the same stem are paired page by page. ``images/`` and
  ``instances/`` the same, with masks that hold one id per object.
- The ISBI layout: ``<name>-volume.tif`` with ``<name>-labels.tif`` (stacks, page by page).
- PASCAL VOC: ``JPEGImages/`` with ``SegmentationClass/`` palette PNGs.

Every problem (an image without a mask, a mask without an image, a page-count mismatch) is
collected and raised as one ``DatasetError`` naming the files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unetlab.data.io import IMAGE_SUFFIXES, TIFF_SUFFIXES, read_stack
from unetlab.errors import DatasetError

LAYOUTS = {
    "folders": ("images", "masks"),
    "instances": ("images", "instances"),
    "voc": ("JPEGImages", "SegmentationClass"),
}


@dataclass(frozen=True)
class Pair:
    """One training/evaluation sample: page ``page`` of ``image`` and of ``mask``."""

    image: Path
    mask: Path
    page: int = 0
    pages: int = 1

    @property
    def name(self) -> str:
        return self.image.stem if self.pages == 1 else f"{self.image.stem}[{self.page}]"


def page_count(path: Path) -> int:
    if path.suffix.lower() not in TIFF_SUFFIXES:
        return 1
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            shape, axes = series.shape, series.axes
    except Exception as exc:  # tifffile raises several kinds for a broken file
        raise DatasetError(f"{path}: cannot read this TIFF ({exc})") from exc
    spatial = 3 if axes.endswith("S") else 2
    return int(np.prod(shape[:-spatial])) if len(shape) > spatial else 1


def _by_stem(folder: Path) -> dict[str, Path]:
    files = sorted(
        f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
    )
    out: dict[str, Path] = {}
    for f in files:
        # prefer a lossless mask when both a.png and a.jpg exist
        if f.stem not in out or out[f.stem].suffix.lower() in (".jpg", ".jpeg"):
            out[f.stem] = f
    return out


def _isbi_pairs(root: Path) -> list[tuple[Path, Path]]:
    volumes = sorted(p for p in root.glob("*volume*.tif*"))
    pairs = []
    for v in volumes:
        label = v.with_name(v.name.replace("volume", "labels"))
        if label.exists():
            pairs.append((v, label))
    return pairs


def detect_layout(root: Path) -> str:
    """'folders', 'instances', 'voc', 'isbi' or a DatasetError saying what was expected."""
    if (root / "images").is_dir() and (root / "masks").is_dir():
        return "folders"
    if (root / "images").is_dir() and (root / "instances").is_dir():
        return "instances"
    if (root / "JPEGImages").is_dir() and (root / "SegmentationClass").is_dir():
        return "voc"
    if _isbi_pairs(root):
        return "isbi"
    raise DatasetError(
        f"{root}: no data set found; expected images/ and masks/ (or instances/) folders with "
        "the same file names, an ISBI pair NAME-volume.tif + NAME-labels.tif, or PASCAL VOC JPEGImages/ + "
        "SegmentationClass/"
    )


def find_pairs(root: str | os.PathLike, *, names: list[str] | None = None) -> list[Pair]:
    """All (image, mask[, page]) pairs under ``root``; ``names`` restricts to those stems."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such data folder")
    layout = detect_layout(root)
    if layout == "isbi":
        files = _isbi_pairs(root)
        problems = []
    else:
        img_dir, mask_dir = (root / d for d in LAYOUTS[layout])
        images, masks = _by_stem(img_dir), _by_stem(mask_dir)
        if names is not None:
            images = {k: v for k, v in images.items() if k in set(names)}
            masks = {k: v for k, v in masks.items() if k in set(names)}
            missing = sorted(set(names) - set(images))
        else:
            missing = []
        problems = [
            f"{images[s]}: no mask in {mask_dir}/ with this name" for s in images if s not in masks
        ]
        if layout != "voc":  # VOC ships masks for only part of its images; that's normal
            problems += [
                f"{masks[s]}: mask without an image in {img_dir}/" for s in masks if s not in images
            ]
        elif names is None:
            images = {s: p for s, p in images.items() if s in masks}
            problems = []
        problems += [f"{s}: listed in the split file but not in {img_dir}/" for s in missing]
        files = [(images[s], masks[s]) for s in sorted(images) if s in masks]
    pairs: list[Pair] = []
    for image, mask in files:
        n_img, n_mask = page_count(image), page_count(mask)
        if n_img != n_mask:
            problems.append(f"{image}: {n_img} pages but its mask {mask.name} has {n_mask}")
            continue
        pairs += [Pair(image, mask, page, n_img) for page in range(n_img)]
    if problems:
        shown = "; ".join(problems[:20]) + (
            f"; ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        )
        raise DatasetError(f"{len(problems)} problem(s) in {root}: {shown}")
    if not pairs:
        raise DatasetError(f"{root}: no image/mask pairs found")
    return pairs


def read_pair(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """(image (H, W[, C]) as stored, mask (H, W) label values) for one pair; sizes checked.
    For many pairs use one :class:`PairReader` (a stack's files are then read once)."""
    return PairReader()(pair)


class PairReader:
    """:func:`read_pair` for one pair after another: the pages of a stack come from one read
    of its files, and only the image and the mask file read last are held in memory."""

    def __init__(self):
        self._held: dict[tuple[Path, bool], np.ndarray] = {}

    def stack(self, path: Path, *, mask: bool) -> np.ndarray:
        """All pages of ``path`` (as :func:`unetlab.data.io.read_stack` gives them)."""
        key = (Path(path), mask)
        if key not in self._held:
            # let the previous file of this role go before reading the next
            self._held = {k: v for k, v in self._held.items() if k[1] != mask}
            self._held[key] = read_stack(path, mask=mask)
        return self._held[key]

    def __call__(self, pair: Pair) -> tuple[np.ndarray, np.ndarray]:
        image = self.stack(pair.image, mask=False)[pair.page]
        mask = self.stack(pair.mask, mask=True)[pair.page]
        where = str(pair.mask) if pair.pages == 1 else f"{pair.mask} page {pair.page}"
        if mask.ndim != 2:
            raise DatasetError(
                f"{where}: mask has shape {mask.shape}; expected one (H, W) label image"
            )
        if image.shape[:2] != mask.shape:
            what = f"{pair.image} is" if pair.pages == 1 else f"{pair.name}: image page is"
            raise DatasetError(
                f"{what} {image.shape[1]}x{image.shape[0]} but its mask {pair.mask.name} is "
                f"{mask.shape[1]}x{mask.shape[0]}: masks must have the image's size"
            )
        return image, mask
