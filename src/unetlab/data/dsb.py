"""The Kaggle Data Science Bowl 2018 nuclei layout (BBBC038), which many nuclei data sets
copy: one folder per image, ``ID/images/ID.png`` (RGBA: the alpha, constant, is dropped as
:func:`unetlab.data.io.read_stack` drops it) beside ``ID/masks/*.png``, one binary (0/255)
mask per object.

- :func:`dsb_samples`: the (image, masks folder) of each sample of such a folder, detected
  strictly (every sub-folder one sample); a folder that is one only in part is refused
  naming the sub-folder that is not.
- :func:`read_object_masks`: a sample's masks as one instance map (0 background, the objects
  1..n in the order of their file names); a pixel in two masks (the DSB has a few) goes to
  the first, and such pixels are said once a command as a count
  (:func:`unetlab.data.read_notes.note_overlaps`). An empty ``masks/``: all background.

A sample's masks folder stands as the mask of its :class:`~unetlab.data.pairs.Pair`:
``read_stack`` and ``stack_shape`` of a folder read it here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from PIL import Image

from unetlab.data.io import INPUT_SUFFIXES, listed_image, stack_shape
from unetlab.data.names import ANNOTATION_SUFFIXES, SPLIT_NAMES, listing
from unetlab.data.png_depth import deep_colour, deep_pixels
from unetlab.data.read_notes import note_once, note_overlaps
from unetlab.errors import DatasetError, ImageReadError
from unetlab.manifest import MANIFEST
from unetlab.words import numbered, worded

#: the layout in a few words, for the lines that name it
DSB_LAYOUT = "one folder per image as the Data Science Bowl's: ID/images/ID.png + ID/masks/*.png"
#: sub-folders that fit before one that does not is refused, and more than half of them
#: (fewer: no DSB folder meant, such as a folder of projects above a data set)
HALF_DSB = 2
#: the bytes of objects' pixels (within their boxes) kept from the mask files read, so that
#: a command that reads a data set several times (the plan, the checks, the loading: five
#: times for training) decodes each file once; those read past it are decoded again
KEPT_BYTES = 256 * 2**20


class _Kept(dict):
    """The objects of the mask files read, by (path, size, time): :func:`_kept_object`."""

    nbytes = 0


_kept = _Kept()


def dsb_samples(root: Path) -> list[tuple[Path, Path]] | None:
    """``[(image, masks folder)]`` of each sub-folder of ``root`` in name order, when every
    one (hidden ones passed over) holds ``images/`` with exactly one image and a ``masks/``
    folder (any letter case) that is not a mask named as that image (``masks/ID.png``: a data
    set of its own); None where ``root`` is no such folder. DatasetError naming the first
    sub-folder that does not fit where :data:`HALF_DSB` or more others do, and more than
    half of them."""
    if not (subs := _sample_folders(root)):
        return None
    found = {d: _sample(d) for d in subs}
    fits = [s for s in found.values() if isinstance(s, tuple)]
    if len(fits) == len(subs):
        _say_splits(root)
        return fits
    if len(fits) < HALF_DSB or 2 * len(fits) <= len(subs):
        return None
    raise _in_part(root, found, named=False)


def dsb_images(root: Path) -> list[Path] | None:
    """The image of each sub-folder of ``root`` in name order, when every one (hidden ones
    passed over) holds ``images/`` with exactly one image, named as the sub-folder
    (``ID/images/ID.png``: their names, unique, name predict's outputs in one folder), with
    or without ``masks/`` (the DSB's test set, ``stage1_test/``, has none); else None. A
    folder unetlab wrote outputs into (its manifest: predict's ``--output stage1_test/out``)
    is passed over, as ``--recursive`` passes it over: the next run found no DSB folder."""
    if not (subs := _sample_folders(root)):
        return None
    images = [
        image for d in subs if isinstance(image := _sample_image(d), Path) and image.stem == d.name
    ]
    return images if len(images) == len(subs) else None


def _sample_folders(root: Path) -> list[Path]:
    """The sub-folders of ``root`` (hidden ones, those unetlab wrote outputs into, its
    manifest in them, and those of a split, :func:`dsb_splits`, passed over) in name order,
    which may be DSB samples."""
    return [d for d in _sub_folders(root) if not _is_split(d)]


def dsb_splits(root: Path) -> list[Path]:
    """The sub-folders of ``root`` named as a split (``test/``, ``train/``, ``val/``: a test
    set kept inside the DSB folder, or a data set above its splits), in name order: no
    samples, passed over by :func:`dsb_samples` and :func:`dsb_images` (one made
    ``stage1_train/`` no DSB folder, and predict --recursive mirrored each sample's
    ``images/`` into ``OUT/ID/images/``)."""
    return [d for d in _sub_folders(root) if _is_split(d)]


def _say_splits(root: Path) -> None:
    """Say once a command (:func:`~unetlab.data.read_notes.note_once`: the data folder is
    read several times) the split sub-folders of the DSB folder ``root`` passed over
    (``stage1_train/test/``), as predict says them: train and evaluate --gt read its
    samples without them."""
    if splits := dsb_splits(root):
        named = ", ".join(f"{d.name}/" for d in splits)
        note_once(
            f"{root}/ holds Data Science Bowl samples; {named} passed over: named as a split, "
            "no sample (give it as a data folder of its own to read it)",
            level=logging.INFO,
        )


def _sub_folders(root: Path) -> list[Path]:
    """The sub-folders of ``root`` in name order, less hidden ones and those unetlab wrote
    outputs into (its manifest: predict's ``--output stage1_train/out``)."""
    subs = [d for d in listing(root) if not d.name.startswith(".") and d.is_dir()]
    return [d for d in subs if not (d / MANIFEST).exists()]


def _is_split(folder: Path) -> bool:
    """Whether ``folder`` is named as a split's (:data:`~unetlab.data.names.SPLIT_NAMES`)."""
    return any(folder.name.casefold() in names for names in SPLIT_NAMES.values())


def dsb_in_part(root: Path, held: list[str]) -> DatasetError | None:
    """The error for a folder of which only some sub-folders are DSB samples (too few for
    :func:`dsb_samples` to refuse it), where every one of ``held`` (the names of its
    sub-folders that hold a data set of their own) is such a sample: each sample's images/
    and masks/ would be read as a data set of one image. None where some of ``held`` is no
    sample (``train/``: a data set above its split). The sub-folders passed over are those
    :func:`dsb_samples` passes over (:func:`_sample_folders`)."""
    subs = _sample_folders(root)
    found = {d: _sample(d) for d in subs}
    samples = {d.name for d, s in found.items() if isinstance(s, tuple)}
    if not held or not samples.issuperset(held) or len(samples) == len(subs):
        return None
    return _in_part(root, found, named=True)


def _in_part(
    root: Path, found: dict[Path, tuple[Path, Path] | str], *, named: bool
) -> DatasetError:
    """The error saying how many sub-folders of ``root`` are DSB samples (``named``: the
    first few by name) and what the first that is not lacks (``found``: each sub-folder's
    :func:`_sample`)."""
    fits = [d.name + "/" for d, s in found.items() if isinstance(s, tuple)]
    misses = [(d, s) for d, s in found.items() if isinstance(s, str)]
    sub, why = misses[0]
    others = len(misses) - 1
    more = f" (and {numbered(others, 'more sub-folder')} {worded(others, 'is', 'are')} not)"
    more = more if others else ""
    listed = ", ".join(fits[:3]) + (f" and {len(fits) - 3} more" if len(fits) > 3 else "")
    listed = f" ({listed})" if named else ""
    return DatasetError(
        f"{root}: {len(fits)} of its {len(found)} sub-folders{listed} are {DSB_LAYOUT} (one "
        f"binary mask per object), but {sub.name}/ {why}{more}: make each one such folder, or "
        "move the others out"
    )


def dsb_folder_above(folder: Path) -> Path | None:
    """The DSB folder that ``folder`` is one sample of (given to --data in its place: its
    images/ and masks/ would be read as a data set of one image whose masks do not pair),
    or None."""
    folder = Path(folder).resolve()
    if not isinstance(_sample(folder), tuple) or folder.parent == folder:
        return None
    try:
        return folder.parent if dsb_samples(folder.parent) is not None else None
    except (DatasetError, OSError):  # a half-DSB folder, one it may not list
        return None


def _sample(folder: Path) -> tuple[Path, Path] | str:
    """(image, masks folder) of one DSB sample folder, or why it is none."""
    parts = {
        d.name.casefold(): d
        for d in listing(folder)
        if d.name.casefold() in ("images", "masks") and d.is_dir()
    }
    images, masks = parts.get("images"), parts.get("masks")
    if images is None or masks is None:
        lacks = " and ".join(n + "/" for n in ("images", "masks") if n not in parts)
        return f"has no {lacks} folder"
    image = _one_image(images)
    if isinstance(image, str):
        return image
    if _holds_stem(masks, image.stem):
        return f"has a mask named as its image ({masks.name}/{image.stem}.*), not one per object"
    return image, masks


def _sample_image(folder: Path) -> Path | str:
    """The image of the DSB sample ``folder`` (its ``images/``' one file, ``masks/`` or
    not), or why it is none."""
    images = [d for d in folder.iterdir() if d.name.casefold() == "images" and d.is_dir()]
    return _one_image(images[0]) if len(images) == 1 else "has no images/ folder"


def _one_image(images: Path) -> Path | str:
    """The one image file of a sample's ``images/`` folder, or why there is not one."""
    files = _image_files(images)
    if len(files) != 1:
        return f"has {len(files)} images in {images.name}/ (a sample holds one)"
    return files[0]


def _holds_stem(folder: Path, stem: str) -> bool:
    """Whether ``folder`` holds an image file of ``stem``, from the names alone (a DSB sample
    has hundreds of masks, and a folder of samples is looked at several times a command)."""
    split = (os.path.splitext(name) for name in os.listdir(folder) if name.startswith(stem))
    masks = (*INPUT_SUFFIXES, *ANNOTATION_SUFFIXES)  # Fiji's cells.zip is cells.tif's mask
    return any(root == stem and ext.lower() in masks for root, ext in split)


def _image_files(folder: Path) -> list[Path]:
    """The image files of ``folder`` in name order, macOS metadata twins passed over."""
    return sorted(f for f in folder.iterdir() if listed_image(f, nifti=False))


def is_object_masks(path: Path) -> bool:
    """Whether ``path`` is the folder of one mask per object of a DSB sample (its
    ``masks/``, beside ``images/`` of one image)."""
    return _sample_of(Path(path)) is not None


def object_masks_shape(folder: Path) -> tuple[int, int, int] | None:
    """(1, H, W) of :func:`read_object_masks`: its image's (the one file of the sample's
    ``images/``, from the header), which every mask must have; None when ``folder`` is no
    DSB sample's masks folder."""
    sample = _sample_of(Path(folder))
    return None if sample is None else stack_shape(sample[0])


def _sample_of(masks: Path) -> tuple[Path, Path] | None:
    """(image, masks folder) of the DSB sample whose masks folder ``masks`` is, or None."""
    if masks.name.casefold() != "masks" or not masks.is_dir():
        return None
    sample = _sample(masks.parent)
    return sample if isinstance(sample, tuple) and sample[1] == masks else None


def read_object_masks(folder: Path) -> np.ndarray:
    """(1, H, W) instance map of the mask files of ``folder``: 0 background, file k (in
    name order) object k; a pixel of several masks is the first's (counted once a command:
    :func:`~unetlab.data.read_notes.note_overlaps`). ImageReadError naming a mask that is
    unreadable, not binary, or of another size than the others (or, none, the image).
    Each mask is looked at within its object's bounding box only (a nucleus is a few
    hundredths of its image: a sample of 300 masks is read in about the time of decoding them)."""
    folder = Path(folder)
    files = _image_files(folder)
    if not files:
        if (shape := object_masks_shape(folder)) is None:
            raise ImageReadError(f"{folder}: no mask file, and no sample's masks/ folder")
        return np.zeros(shape, np.uint16)
    size = None
    ids = np.zeros((0, 0), np.uint16 if len(files) < 2**16 else np.uint32)
    overlap = 0
    for k, path in enumerate(files, 1):
        shape, box, crop = _kept_object(path)
        if size is None:
            size, ids = shape, np.zeros(shape, ids.dtype)
        elif shape != size:
            raise ImageReadError(
                f"{path}: {shape[1]}x{shape[0]} but {files[0].name} is {size[1]}x{size[0]} "
                "(width x height): a sample's masks share its size"
            )
        if box is None:  # an empty mask: an object of no pixels
            continue
        left, top, right, bottom = box
        view = ids[top:bottom, left:right]
        taken = crop & (view != 0)
        overlap += int(np.count_nonzero(taken))
        view[crop & ~taken] = k
    if overlap:
        note_overlaps(str(folder), overlap)
    return ids[None]


def _kept_object(path: Path) -> tuple[tuple[int, int], tuple[int, ...] | None, np.ndarray]:
    """:func:`_object` of ``path``, decoded once while its size and time stay the same
    (:data:`KEPT_BYTES` in all)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if (found := _kept.get(key)) is not None:
        return found
    found = _object(path)
    if _kept.nbytes + found[2].nbytes <= KEPT_BYTES:
        _kept[key] = found
        _kept.nbytes += found[2].nbytes
    return found


def _object(path: Path) -> tuple[tuple[int, int], tuple[int, ...] | None, np.ndarray]:
    """((H, W), the bounding box (left, top, right, bottom) of the object, None for none, and
    the object's pixels within it as bool) of one object's mask file; ImageReadError naming
    a file that is unreadable or holds more than one value besides 0."""
    try:
        with Image.open(path) as im:
            if deep_colour(im):  # Pillow would read its high bytes: a mask of 1s as empty
                shape, box, crop = _deep_object(path)
            else:
                if im.mode not in ("1", "L", "P", "I;16", "I"):
                    im = im.convert("L")
                box = im.getbbox()
                crop = np.asarray(im.crop(box)) if box is not None else np.zeros((0, 0), bool)
                shape = (im.height, im.width)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageReadError(f"{path}: cannot read this mask ({exc})") from exc
    values = crop[crop != 0]
    if values.size and values.min() != values.max():
        raise ImageReadError(
            f"{path}: values {int(values.min())}..{int(values.max())} besides 0: in {DSB_LAYOUT} "
            "each mask file is one object (0 background, one other value)"
        )
    return shape, box, crop != 0


def _deep_object(path: Path) -> tuple[tuple[int, int], tuple[int, ...] | None, np.ndarray]:
    """((H, W), the bounding box, the values within it) of a 16-bit colour PNG mask
    (:mod:`unetlab.data.png_depth`): its grey (R = G = B, or grey + alpha's grey) or, for a
    coloured one, each pixel's colour as one number (R << 32 | G << 16 | B), 0 where black;
    its alpha dropped, as an 8-bit one's."""
    pixels, _ = deep_pixels(path)
    if pixels.ndim == 3:
        grey = (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all()
        wide = pixels.astype(np.uint64)
        pixels = pixels[..., 0] if grey else wide[..., 0] << 32 | wide[..., 1] << 16 | wide[..., 2]
    rows, cols = np.nonzero(pixels.any(axis=1)), np.nonzero(pixels.any(axis=0))
    if not rows[0].size:
        return pixels.shape, None, np.zeros((0, 0), bool)
    top, bottom, left, right = rows[0][0], rows[0][-1] + 1, cols[0][0], cols[0][-1] + 1
    box = (int(left), int(top), int(right), int(bottom))
    return pixels.shape, box, pixels[top:bottom, left:right]
