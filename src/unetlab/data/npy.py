"""NumPy files as images and masks: ``.npy`` (``np.save``) and ``.npz`` (``np.savez``) arrays
a notebook saved, and cellpose's ``X_seg.npy`` (its GUI's masks beside ``X.tif``).

Plain arrays are loaded with ``allow_pickle=False`` always, a ``.npy`` memory-mapped (a 20k x
20k one is read window by window, as a large TIFF is). Their axes follow the rule of a TIFF
saved by ``tifffile.imwrite`` without axes (:func:`npy_letters`): a last axis of 3 or 4 is a
colour picture's channels (YXC); other axes before the rows and columns are pages
(``(C, H, W)`` or ``(Z, H, W)``: planes), a ``(3|4, H, W)`` one the channels of a colour model.

A cellpose ``_seg.npy`` is a pickled dict. Pickles can run any code as they load, so it is
never unpickled: its pickle is interpreted by :mod:`unetlab.data.seg_pickle`, which makes
plain values and numpy arrays of numbers (never by numpy's own unpickling) and refuses
anything else; its ``masks`` (object ids) alone are read. Any other pickled ``.npy`` is
refused, its pickle never loaded.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

from unetlab.data.names import SEG_END, is_seg_name
from unetlab.data.seg_pickle import Refused, Stored, masks_of, read_stored, seg_values
from unetlab.errors import ImageReadError
from unetlab.zip_damage import ZIP_DAMAGE

#: the suffixes of NumPy files
NPY_SUFFIXES = (".npy", ".npz")
#: the first bytes of a ``.npy`` file (and an ``.npz``'s: a zip archive's)
NPY_MAGIC, ZIP_MAGIC = b"\x93NUMPY", b"PK\x03\x04"
#: the names of an ``.npz``'s arrays read as images, and as masks, where it holds several
IMAGE_KEYS, MASK_KEYS = ("images", "image"), ("masks", "mask", "labels")

#: the lengths of a last axis read as a picture's samples (RGB, RGBA; 1: one grey channel)
SAMPLES = (1, 3, 4)
#: the fewest columns of an image: a last axis shorter (but colours') is an image's channels
NARROW = 16

FIX = "save it again with np.save(path, array) (a numeric array, allow_pickle=False)"


class NpyHeader(NamedTuple):
    """What a ``.npy`` file's header says: ``shape``, ``dtype``, ``fortran`` order, and
    where its data starts (``offset``)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran: bool
    offset: int


def is_npy_name(path: str | os.PathLike) -> bool:
    """Whether ``path``'s name says a NumPy file (:data:`NPY_SUFFIXES`)."""
    return Path(path).suffix.lower() in NPY_SUFFIXES


def npy_header(path: str | os.PathLike) -> NpyHeader:
    """The header of the ``.npy`` file ``path`` (no data read); ImageReadError naming the
    file where it is none."""
    with open(path, "rb") as f:
        try:  # numpy's reader parses its header as Python (SyntaxError, TokenError, TypeError)
            shape, fortran, dtype = _array_header(f)
        except (ValueError, TypeError, SyntaxError, tokenize.TokenError) as e:
            raise ImageReadError(_not_npy_line(path, e)) from None
        return NpyHeader(tuple(int(n) for n in shape), np.dtype(dtype), bool(fortran), f.tell())


def _not_npy_line(path: str | os.PathLike, e: Exception) -> str:
    """The line for ``path``, named .npy, whose header is no NumPy header: what it is where
    its first bytes say (:func:`~unetlab.data.file_kind.wrong_kind_line`)."""
    from unetlab.data.file_kind import wrong_kind_line  # which imports mrc, folder_notes

    return wrong_kind_line(path) or f"{path}: not a NumPy .npy file ({e}); {FIX}"


def _array_header(f) -> tuple:
    """(shape, fortran, dtype) of the ``.npy`` header at the start of the open file ``f``,
    which is left at the first byte of the data."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    return np.lib.format.read_array_header_2_0(f)


def npy_letters(shape: tuple[int, ...], *, colour_planes: bool = False) -> str:
    """The axes of an array of ``shape`` as unetlab reads them (``Y``, ``X``, ``C``, ``P``),
    by the rule of a TIFF ``tifffile.imwrite`` saved without axes
    (:func:`unetlab.data.io.axes_letters`): the last two axes are rows and columns, unless
    the last is 3 or 4 long after two others (a colour picture's RGB(A): YXC; 1: one
    channel, YXC too, where a TIFF's would be pages of one column); axes before
    them are pages, ``(3|4, H, W)`` too (a stack, as a mask's is), unless ``colour_planes``
    (prediction with a colour model): then one colour image (``(N, 3, H, W)``: N of them)."""
    if len(shape) < 2:
        raise ValueError(f"an image array has rows and columns, not shape {shape}")
    if _samples_last(shape):
        return "P" * (len(shape) - 3) + "YXC"
    if len(shape) >= 3 and shape[-3] in (3, 4) and colour_planes:
        return "P" * (len(shape) - 3) + "CYX"
    return "P" * (len(shape) - 2) + "YX"


def _samples_last(shape: tuple[int, ...], lengths: tuple[int, ...] = SAMPLES) -> bool:
    """Whether the last axis of an array of ``shape`` is a picture's samples: after two
    others, one of ``lengths`` long (:data:`SAMPLES`; (3, 4): colours)."""
    return len(shape) >= 3 and shape[-1] in lengths


def npy_shape(path: str | os.PathLike, *, mask: bool = False, given: bool = False) -> tuple:
    """The shape of the array :func:`read_npy` reads of ``path``, from its header (a
    ``.npy``'s; a cellpose file's masks', from its pickle; an ``.npz`` member's: loaded);
    ``given``: its axes are given (``--axes``), as for :func:`read_npy`."""
    path = Path(path)
    if path.suffix.lower() == ".npy" and not (head := npy_header(path)).dtype.hasobject:
        return _check_shape(path, head.shape, given)
    if path.suffix.lower() == ".npy" and is_seg_name(path):  # its masks: all it holds
        return seg_shape(path)
    if path.suffix.lower() == ".npz":  # its member's header: not decompressed
        return _check_shape(path, _npz_array(path, mask=mask, shape_only=True), given)
    return read_npy(path, mask=mask, given=given).shape


def npy_colour(path: str | os.PathLike, *, mask: bool = False) -> bool:
    """Whether the NumPy file ``path`` holds a colour picture: a last axis of 3 or 4 after two
    others (:func:`npy_letters`), as a TIFF that tifffile saved of it holds RGB(A) samples;
    ``mask``: its array read as a mask (an ``.npz``'s masks)."""
    return _samples_last(npy_shape(path, mask=mask), (3, 4))


def npy_axes(path: str | os.PathLike) -> str:
    """The axes tifffile names of a TIFF it saved of the NumPy file ``path``'s array, no axes
    given (Q: a page axis of no known meaning; S: RGB(A) samples): QYX, YXS, QQYX, SYX."""
    shape = npy_shape(path)
    if _samples_last(shape, (3, 4)):
        return "Q" * (len(shape) - 3) + "YXS"
    if len(shape) >= 3 and shape[-3] in (3, 4):  # planar RGB(A), as tifffile saves it
        return "Q" * (len(shape) - 3) + "SYX"
    return "Q" * (len(shape) - 2) + "YX"


def is_mapped(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a ``.npy`` file of numbers, which is read window by window from a
    memory map where it is large (an ``.npz`` is compressed, a pickle never mapped)."""
    path = Path(path)
    if path.suffix.lower() != ".npy" or is_seg_name(path) or not path.is_file():
        return False
    return not npy_header(path).dtype.hasobject


def npy_map(path: str | os.PathLike) -> np.ndarray:
    """The ``.npy`` file ``path`` memory-mapped, read only (its pages read as they are asked)."""
    return np.load(path, mmap_mode="r", allow_pickle=False)


def read_npy(path: str | os.PathLike, *, mask: bool = False, given: bool = False) -> np.ndarray:
    """The array of a NumPy file in memory, in the machine's byte order: a ``.npy``'s, an ``.npz``'s
    (:func:`_npz_array`), a cellpose ``_seg.npy``'s ``masks`` (:func:`read_seg_masks`);
    ImageReadError in one line naming the file for anything else (a pickled ``.npy`` of
    another kind, no numbers, a file cut short). ``given``: its axes are given (``--axes``):
    a narrow last axis is not refused (:func:`_check_shape`)."""
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return _checked(path, _npz_array(path, mask=mask), given)
    head = npy_header(path)
    if head.dtype.hasobject:
        if is_seg_name(path) and mask:
            return read_seg_masks(path)
        if is_seg_name(path):
            raise ImageReadError(seg_alone_line(path))
        raise ImageReadError(_pickled_line(path))
    try:
        arr = npy_map(path)
    except ValueError as e:  # numpy's word for a file shorter than its header says
        raise ImageReadError(f"{path}: cannot be read ({e}); copy the file again") from None
    return _checked(path, arr, given)


def seg_image(path: str | os.PathLike) -> Path | None:
    """The image beside cellpose's masks file ``path`` (``X.tif`` of ``X_seg.npy``, by its
    name: a file predict reads, not ``X.csv``), None where there is none."""
    from unetlab.data.io import INPUT_SUFFIXES  # which imports this module

    path = Path(path)
    stem = path.name[: -len(SEG_END)]
    beside = path.parent.glob(f"{glob.escape(stem)}.*")
    images = (p for p in beside if p.suffix.lower() in INPUT_SUFFIXES and p.is_file())
    return min((p for p in images if not is_seg_name(p)), default=None)


def is_seg_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is cellpose's masks file: named ``X_seg.npy`` and pickled (a numeric
    array so named is an image, as :func:`read_npy` reads it; one whose header cannot be
    read is read as an image too, which says why)."""
    path = Path(path)
    if not is_seg_name(path) or not path.is_file():
        return False
    with contextlib.suppress(ImageReadError, OSError):
        return npy_header(path).dtype.hasobject
    return False


def seg_alone_line(path: str | os.PathLike) -> str:
    """The line for cellpose's masks file ``path`` given as an image: it holds none, and
    names the image whose masks it holds (or where that image goes)."""
    if (image := seg_image(path)) is not None:
        return (
            f"{path}: cellpose's masks file of {image.name}, which holds no image: give "
            f"{image} to predict that image (its _seg.npy is read as its masks in training)"
        )
    stem = Path(path).name[: -len(SEG_END)]
    return (
        f"{path}: cellpose's masks file, which holds no image: it is read as the masks "
        f"of {stem}.tif (or .png) beside it; put that image there"
    )


def _pickled_line(path: Path) -> str:
    kind = path.suffix.lower()
    return (
        f"{path}: a pickled {kind} (Python objects, not an array of numbers), which unetlab "
        f"never loads (loading a pickle can run any program): {FIX}"
    )


def _checked(path: Path, arr: np.ndarray, given: bool) -> np.ndarray:
    """``arr`` where it holds numbers (booleans, integers or reals); else ImageReadError."""
    if arr.dtype.kind not in "biuf":
        raise ImageReadError(f"{path}: holds {arr.dtype} values, not numbers of an image; {FIX}")
    _check_shape(path, arr.shape, given)
    return np.array(arr, arr.dtype.newbyteorder("="))


def _check_shape(path: Path, shape: tuple[int, ...], given: bool = False) -> tuple[int, ...]:
    """``shape`` where it reads as images (:func:`npy_letters`); else ImageReadError naming
    the fix: an array of no rows and columns, or whose last axis, under :data:`NARROW` and
    not colours, would read as planes of that many columns (a 2-channel (H, W, 2) image),
    unless its axes are ``given`` (``--axes YXC``, as a bare TIFF's)."""
    if len(shape) < 2 or min(shape) < 1:
        raise ImageReadError(f"{path}: holds an array of shape {shape}, not an image; {FIX}")
    if not given and shape[-1] < NARROW and len(shape) >= 3 and not _samples_last(shape):
        planes = " x ".join(map(str, shape[:-2]))
        raise ImageReadError(
            f"{path}: shape {shape} reads as {planes} planes of {shape[-2]} x {shape[-1]} pixels "
            "(a last axis of 3 or 4 is colours): if it holds channels, give --axes YXC (axes= "
            "in Python), or save it as (C, H, W): np.save(path, np.moveaxis(array, -1, 0))"
        )
    return shape


def _npz_array(path: Path, *, mask: bool, shape_only: bool = False) -> np.ndarray | tuple:
    """The array of an ``.npz`` read as an image (or a ``mask``): its one array, else the
    one named as :data:`IMAGE_KEYS` (:data:`MASK_KEYS`) say; ``shape_only``: its shape,
    from its header."""
    try:
        with np.load(path, allow_pickle=False) as held:
            names = list(held.files)
            if (key := _member_key(names, mask)) is not None:
                return _member(path, held, key, shape_only)
    except (OSError, ValueError, *ZIP_DAMAGE) as e:  # zlib.error, NotImplementedError too
        raise ImageReadError(f"{path}: not a NumPy .npz file ({e}); {FIX}") from None
    kind, keys = ("masks", MASK_KEYS) if mask else ("images", IMAGE_KEYS)
    raise ImageReadError(
        f"{path}: an .npz of arrays {', '.join(names) or 'none'}, none named "
        f"{' or '.join(keys)}: save its {kind} as np.savez(path, images=..., masks=...)"
    )


def _member_key(names: list[str], mask: bool) -> str | None:
    """The array of an ``.npz`` of arrays ``names`` read as an image (a ``mask``): its one
    array, else the first named as :data:`IMAGE_KEYS` (:data:`MASK_KEYS`) say."""
    keys = MASK_KEYS if mask else IMAGE_KEYS
    return names[0] if len(names) == 1 else next((k for k in keys if k in names), None)


def data_set_arrays(path: str | os.PathLike) -> tuple[str | None, str | None]:
    """The names of the images and the masks arrays of the ``.npz`` data set ``path``
    (:func:`holds_data_set`), for the lines that name them."""
    with np.load(path, allow_pickle=False) as held:
        names = list(held.files)
    return _member_key(names, False), _member_key(names, True)


def holds_data_set(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an ``.npz`` of images and masks arrays (named as
    :data:`IMAGE_KEYS` and :data:`MASK_KEYS` say: ``np.savez(f, images=..., masks=...)``), a
    data set in one file, paired with itself page by page; False for other files and an
    ``.npz`` that cannot be read (read as an image, it says why)."""
    path = Path(path)
    if path.suffix.lower() != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as held:
            names = set(held.files)
    except (OSError, ValueError, *ZIP_DAMAGE):
        return False
    return not names.isdisjoint(IMAGE_KEYS) and not names.isdisjoint(MASK_KEYS)


def data_set_held(path: str | os.PathLike) -> bool:
    """:func:`holds_data_set`, read once a file while it is unchanged (by its time and size:
    each pair of its pages asks it, and predict of each of its pages)."""
    path = Path(path)
    if path.suffix.lower() != ".npz":
        return False
    try:
        stat = path.stat()
    except OSError:
        return False
    return _holds_data_set(str(path.absolute()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _holds_data_set(path: str, mtime_ns: int, size: int) -> bool:
    return holds_data_set(path)


def _member(path: Path, held, key: str, shape_only: bool = False) -> np.ndarray | tuple:
    """The array ``key`` of the open ``.npz`` ``held`` (``shape_only``: its shape); a
    pickled one refused by its header (never loaded: numpy would say it cannot, as for a
    file of no arrays)."""
    name = f"{key}.npy" if f"{key}.npy" in held.zip.namelist() else key
    with held.zip.open(name) as f:
        shape, _, dtype = _array_header(f)
        if np.dtype(dtype).hasobject:
            raise ImageReadError(_pickled_line(path))
    if shape_only:
        return tuple(shape)
    return held[key]


@contextlib.contextmanager
def _seg_masks(path: Path) -> Iterator[tuple[BinaryIO, Stored]]:
    """The file ``path`` open and the ``masks`` of cellpose's pickle in it, interpreted
    by :mod:`unetlab.data.seg_pickle` (never unpickled); ImageReadError naming the file
    for one that holds anything else than numpy arrays of numbers and plain values, is
    damaged (also as its masks are read: cut short by a save meanwhile), or holds no
    masks."""
    start = npy_header(path).offset
    with open(path, "rb") as f:
        try:
            masks = masks_of(seg_values(f, start))
            if masks is None:
                raise ImageReadError(
                    f"{path}: holds no cellpose masks (an integer array under 'masks'): save "
                    "its masks from cellpose's GUI (File > Save masks as PNG/tif)"
                )
            yield f, masks
        except Refused as e:
            raise ImageReadError(_refused_line(path, e)) from None


def _refused_line(path: Path, e: Refused) -> str:
    if not e.unsafe:
        return f"{path}: a damaged cellpose file ({e}); save it again from cellpose's GUI"
    return (
        f"{path}: its pickle asks for {e}, which no cellpose masks file holds: not loaded (a "
        "pickle can run any program); save its masks from cellpose's GUI (File > Save masks "
        "as PNG/tif)"
    )


def read_seg_masks(path: str | os.PathLike) -> np.ndarray:
    """The ``masks`` (object ids, (H, W) or (Z, H, W)) of cellpose's ``X_seg.npy``: only
    their bytes read (:func:`_seg_masks`)."""
    with _seg_masks(Path(path)) as (f, masks):
        return read_stored(f, masks)


def seg_shape(path: str | os.PathLike) -> tuple[int, ...]:
    """The shape of the ``masks`` of cellpose's ``X_seg.npy``, none of its pixels read."""
    with _seg_masks(Path(path)) as (_, masks):
        return masks.shape
