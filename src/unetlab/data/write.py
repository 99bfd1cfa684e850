"""Arrays written as the folder training reads: ``images/NAME.tif`` and ``masks/NAME.tif``,
so that a notebook's arrays train in two lines (audit s32 notebook 7)::

    unetlab.write_dataset(frames, masks, "data", pixel_size=0.325)
    cfg.data.root = "data"

TIFF keeps every dtype as it is (16-bit and float images, 16-bit masks), which PNG does not.
"""

from __future__ import annotations

import io
import itertools
import logging
import math
import os
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from numbers import Real
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.errors import OutputError, UnetlabError
from unetlab.signals import stop_said

log = logging.getLogger(__name__)


def write_dataset(
    images,
    masks,
    folder: str | os.PathLike,
    *,
    names: Sequence[str] | None = None,
    pixel_size: float | None = None,
) -> Path:
    """Write ``images`` and their ``masks`` as ``folder/images/NAME.tif`` and
    ``folder/masks/NAME.tif`` (the layout ``data.root`` names); returns ``folder``.

    ``images``: an (N, H, W) array or a sequence of (H, W) or (H, W, C) arrays, any dtype;
    ``masks``: as many (H, W) integer arrays (class values, or object ids for
    ``data.target: instances``), each the size of its image. ``names``: the files' names
    without suffix (default 000, 001, ...). ``pixel_size``: µm per pixel, written as each
    file's resolution (what measurements in µm read). An existing file of those names is
    never replaced (OutputError): write into a new folder; nor are two images given the same
    name (UnetlabError). A file holding what it would get is left as it is: a cell run again,
    or again after Ctrl-C, writes what is missing (s50 notebook walk: it was refused)."""
    images, masks = _arrays(images, "images"), _arrays(masks, "masks")
    names = [f"{i:03d}" for i in range(len(images))] if names is None else list(names)
    if not len(images) == len(masks) == len(names):
        raise UnetlabError(
            f"{len(images)} images, {len(masks)} masks and {len(names)} names: give one "
            "mask and one name per image"
        )
    _check_names(names)
    for name, image, mask in zip(names, images, masks, strict=True):
        _check_pair(name, image, mask)
    files = _planned(Path(folder), names, images, masks, _resolution(pixel_size))
    paths = [path for path, _ in files]
    with stop_said(partial(_say_stopped, Path(folder), paths)):  # a notebook's Ctrl-C
        write_new(paths, lambda: [make for _, make in files], "write_dataset")
    return Path(folder)


def _say_stopped(folder: Path, paths: list[Path], exc: KeyboardInterrupt) -> None:
    """The line of a stopped :func:`write_dataset`: the pairs (image and mask) written of
    ``paths`` (image, mask, image, ...) and the call that goes on."""
    pairs = sum(image.exists() and mask.exists() for image, mask in zip(paths[::2], paths[1::2]))
    log.warning(
        "write_dataset interrupted with %d of %d pairs in %s; continue with the same call: it "
        "writes what is missing",
        pairs,
        len(paths) // 2,
        folder,
    )


def _planned(folder: Path, names, images, masks, resolution: dict) -> list[tuple]:
    """(path, maker of its bytes) of each file :func:`write_dataset` writes."""
    files = []
    for name, image, mask in zip(names, images, masks, strict=True):
        image_how, mask_how = resolution | _photometric(image), resolution | _MASK
        files.append((folder / "images" / f"{name}.tif", partial(_tiff_bytes, image, image_how)))
        files.append((folder / "masks" / f"{name}.tif", partial(_tiff_bytes, mask, mask_how)))
    return files


def _tiff_bytes(array: np.ndarray, how: dict) -> bytes:
    """The TIFF of ``array`` written with tifffile's keywords ``how`` (tifffile writes no
    time: the same array gives the same bytes)."""
    import tifffile

    encoded = io.BytesIO()
    tifffile.imwrite(encoded, np.asarray(array), **how)
    return encoded.getvalue()


#: the makers of files' bytes, one a path, in order (:func:`write_new`)
Contents = Callable[[], Iterable[Callable[[], bytes]]]


def write_new(paths: Sequence[Path], contents: Contents, writer: str) -> None:
    """Write each of ``paths`` (atomically) where it is missing, of the bytes its maker gives
    (``contents()``: one a path, in order; each called only where its bytes are compared or
    written, so a set is made a file at a time, not held in memory). One that holds those
    bytes is left as it is, and any other file of those names refused (:func:`refuse_taken`)
    before one is written. Where some of ``paths`` exist and some not, ``contents`` is called
    twice (to compare, then to write): each call must give the same bytes (a seeded draw from
    the start)."""
    refuse_taken(_differing(paths, contents), writer)
    if all(path.exists() for path in paths):  # all there, compared: none drawn again
        return
    for path, make in zip(paths, contents(), strict=True):  # drawn whole: a stream ends after
        if not path.exists():
            with atomic_path(path) as tmp:
                tmp.write_bytes(make())


def _differing(paths: Sequence[Path], contents: Contents) -> list[Path]:
    """Those of ``paths`` that exist and hold other bytes than their makers': ``contents``
    not called (nothing drawn) where none exists, and nothing drawn after the last that
    does."""
    last = max((i for i, path in enumerate(paths) if path.exists()), default=-1)
    made = itertools.islice(zip(paths, contents()), last + 1) if last >= 0 else ()
    return [path for path, make in made if path.exists() and not _same(path, make())]


def _same(path: Path, data: bytes) -> bool:
    return path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data


def refuse_taken(paths: Sequence[Path], writer: str = "write_dataset") -> None:
    """OutputError (one line) where any of ``paths``, the files ``writer`` is about to
    write, exists: a data set's writer replaces no file."""
    if taken := [p for p in paths if p.exists()]:
        raise OutputError(
            f"{taken[0]} exists ({len(taken)} of the files): {writer} replaces no file; "
            "give a new folder"
        )


def _arrays(stack, what: str) -> list[np.ndarray]:
    """The images of an (N, H, W) array or of a sequence of arrays."""
    if isinstance(stack, np.ndarray) and stack.ndim < 3:
        raise UnetlabError(
            f"{what} has shape {stack.shape}: give (N, H, W) arrays or a list of images"
        )
    return [np.asarray(a) for a in stack]


def _check_names(names: list) -> None:
    """One line where a name is no plain file stem (a folder, ``..``, empty) or two are the
    same (ignoring case, as some file systems do): a second file would replace the first."""
    for name in names:
        if not isinstance(name, str) or name in ("", ".", "..") or any(c in name for c in "/\\"):
            raise UnetlabError(
                f"names: {name!r} is not a file name without folder: give plain names (e.g. 'a1')"
            )
    seen: dict[str, str] = {}
    for name in names:
        if (first := seen.get(name.casefold())) is not None:
            raise UnetlabError(
                f"names: {first!r} and {name!r} name the same file: give every image its own name"
            )
        seen[name.casefold()] = name


def _check_pair(name: str, image: np.ndarray, mask: np.ndarray) -> None:
    if image.ndim not in (2, 3) or mask.ndim != 2:
        raise UnetlabError(
            f"{name}: image {image.shape} and mask {mask.shape}: an image is (H, W) or "
            "(H, W, C), its mask (H, W)"
        )
    if image.shape[:2] != mask.shape:
        raise UnetlabError(f"{name}: image {image.shape} but mask {mask.shape}: not one size")
    if not (np.issubdtype(mask.dtype, np.integer) or mask.dtype == bool):
        raise UnetlabError(
            f"{name}: the mask holds {mask.dtype} values: a mask holds integer classes or "
            "object ids (threshold probabilities first)"
        )


def _resolution(pixel_size: float | None) -> dict:
    """tifffile's resolution keywords for ``pixel_size`` µm per pixel (pixels per cm)."""
    if pixel_size is None:
        return {}
    if isinstance(pixel_size, bool) or not (
        isinstance(pixel_size, Real) and math.isfinite(pixel_size) and pixel_size > 0
    ):
        raise UnetlabError(f"pixel_size must be a positive number of µm, not {pixel_size!r}")
    per_cm = 1e4 / float(pixel_size)
    return {"resolution": (per_cm, per_cm), "resolutionunit": "CENTIMETER"}


#: how a mask is written: grey samples
_MASK = {"photometric": "minisblack"}


def _photometric(image: np.ndarray) -> dict:
    """Colour for (H, W, 3) and (H, W, 4) images; grey samples for other channel counts."""
    if image.ndim == 2:
        return {"photometric": "minisblack"}
    colour = image.shape[2] in (3, 4)
    return {"photometric": "rgb" if colour else "minisblack", "planarconfig": "contig"}
