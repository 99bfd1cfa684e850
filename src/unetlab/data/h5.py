"""HDF5 files as images and masks, with h5py (an optional extra: ``pip install
'unetlab[h5]'``), in the three layouts microscopists meet:

- ilastik's exports (``.h5``): one dataset (``exported_data`` by default: raw data, a
  Simple Segmentation of labels 1..N, Probabilities, Labels of 0 = unlabelled), whose
  ``axistags`` attribute (JSON ``{"axes": [{"key": "y"}, {"key": "x"}, {"key": "c"}]}``)
  names its axes; t and z are pages, c channels. Any HDF5 file of one dataset is read so
  (without axistags, by its shape, as a ``.npy`` is: :func:`~unetlab.data.npy.npy_letters`).
- Imaris (``.ims``): ``DataSet/ResolutionLevel L/TimePoint T/Channel C/Data`` (Z, Y, X),
  padded to whole chunks: cropped to the true size its ``DataSetInfo/Image`` (level 0) or
  channel group (``ImageSizeX``...) says; the voxel size is ``(ExtMax - ExtMin) / size``.
- BigDataViewer / BigStitcher (``.h5``): ``tNNNNN/sNN/L/cells`` (Z, Y, X), setups as
  channels, ``sNN/resolutions`` the levels' factors; the voxel size from the ``.xml``
  beside it (BigDataViewer's own), int16 cells read as the uint16 they hold.

Nothing is read until asked: :class:`H5View` slices the datasets (h5py reads only the
chunks a window touches), so a 20k x 20k ``.ims`` is read window by window.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unetlab.context_values import set_within
from unetlab.data.read_notes import note_once
from unetlab.data.tiff_files import HEADERS, real_path
from unetlab.errors import ImageReadError, Spelled, first_line, optional_module, said_as

#: the suffixes of HDF5 files read: ilastik's and BigDataViewer's ``.h5``, ``.hdf5``,
#: Imaris' ``.ims``, CREMI's ``.hdf``
H5_SUFFIXES = (".h5", ".hdf5", ".ims", ".hdf")
#: the first bytes of an HDF5 file (its superblock's signature)
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: the first bytes of an HDF4 file (MODIS' and other satellites' ``.hdf``: not read)
HDF4_MAGIC = b"\x0e\x03\x13\x01"
#: the line's words for an HDF4 ``.hdf`` (:func:`not_hdf5`)
HDF4_SAID = "an HDF4 file, not HDF5 (unetlab reads HDF5 alone)"
#: the line a user whose data is HDF5 reads where h5py is not installed
NEEDS_H5PY = "reading HDF5 (.h5, .hdf5, .ims, .hdf) needs h5py: pip install 'unetlab[h5]'"
#: ilastik's axis keys as unetlab's letters: time and z are pages
AXIS_KEYS = {"t": "P", "z": "P", "y": "Y", "x": "X", "c": "C"}
#: micrometres per unit of the sizes Imaris and BigDataViewer record
UNITS_UM = {
    **dict.fromkeys(("um", "µm", "μm", "micron", "microns", "micrometer", "micrometre"), 1.0),
    **dict.fromkeys(("nm", "nanometer", "nanometre"), 1e-3),
    **dict.fromkeys(("mm", "millimeter", "millimetre"), 1e3),
}
EXPORT_AGAIN = "a damaged or cut-short file: copy or export it again"
#: the fix named for a file of several datasets
DATASET_FIX = (
    "name the one to read: --h5-dataset NAME (predict, evaluate), --set data.h5_dataset=NAME "
    "(train)"
)


@dataclass(frozen=True)
class _Reading:
    """The datasets read in HDF5 files of several: ``image`` (None: the file's one),
    ``mask`` (None: as an image's), and ``said`` ((name, its config key: said in a line
    where a file of several reads it), ...) (a checkpoint's: :func:`trained_h5_datasets`)."""

    image: str | None = None
    mask: str | None = None
    said: tuple[tuple[str, str], ...] = ()


#: the datasets read now, per thread and context
_NONE_NAMED = _Reading()
_READING: ContextVar[_Reading] = ContextVar("unetlab_h5_datasets", default=_NONE_NAMED)


def is_h5_name(path: str | os.PathLike) -> bool:
    """Whether ``path``'s name says an HDF5 file (:data:`H5_SUFFIXES`)."""
    return Path(path).suffix.lower() in H5_SUFFIXES


def h5_dataset_read_as(name: str | None) -> contextlib.AbstractContextManager[None]:
    """Read dataset ``name`` (``raw``, ``volumes/raw``) of each HDF5 file of several within
    (``data.h5_dataset``, ``--h5-dataset``; a file of one is read whatever its name); None:
    as now."""
    return _named_within(image=name)


def h5_dataset_reading() -> str | None:
    """The dataset read in an HDF5 file of several now (:func:`h5_dataset_read_as`)."""
    return _READING.get().image


def h5_mask_dataset_read_as(name: str | None) -> contextlib.AbstractContextManager[None]:
    """Read dataset ``name`` (CREMI's ``volumes/labels/neuron_ids``) of each HDF5 file read
    as a mask within (``data.h5_mask_dataset``): a file holding it and the image's dataset
    is its own mask; None: as now (an image's, :func:`h5_dataset_read_as`)."""
    return _named_within(mask=name)


@contextlib.contextmanager
def _named_within(**names: str | None) -> Iterator[None]:
    """Within: the reading now with ``names`` (``image``, ``mask``) other than None, taken
    as it is entered (two made at once, then entered, each keep the other's)."""
    named = {k: v for k, v in names.items() if v is not None}
    with set_within(_READING, dataclasses.replace(_READING.get(), **named)):
        yield


def h5_mask_dataset_reading() -> str | None:
    """The dataset read as a mask now (:func:`h5_mask_dataset_read_as`)."""
    return _READING.get().mask


def h5_datasets_reading() -> tuple[str | None, str | None]:
    """The datasets read now as images and as masks (:func:`h5_dataset_reading`,
    :func:`h5_mask_dataset_reading`)."""
    now = _READING.get()
    return now.image, now.mask


#: the config keys of the datasets a checkpoint trained on, and how a caller names others
#: (s75 review: a Python caller was told the command line's flag)
TRAINED_KEYS = {
    "h5_dataset": Spelled("h5_dataset_read_as(NAME)", "--h5-dataset NAME"),
    "h5_mask_dataset": Spelled("h5_mask_dataset_read_as(NAME)", "--h5-mask-dataset NAME"),
}


@contextlib.contextmanager
def trained_h5_datasets(data, given: tuple = (None, None)) -> Iterator[None]:
    """Within: the datasets read in HDF5 files of several are ``given`` (image's, mask's),
    else those named now, else those a checkpoint trained on (``data``: its config's data
    section, a dict: ``h5_dataset``, ``h5_mask_dataset``; ``model.training_data``), each of
    these said in one line where a file of several reads it (s73 user: a model trained on
    ``raw`` refused its own files; s74 review: it was said of PNG inputs). The one place
    predict, evaluate, predict_folder, predict_file and evaluate_model take them."""
    with set_within(_READING, _trained(data, given)):
        yield


def set_h5_datasets_reading(data) -> None:
    """:func:`trained_h5_datasets` of ``data`` from now, within a function of
    :func:`~unetlab.data.mask_reading.keeps_masks_reading`, which restores the reading
    before (evaluate_model: as the checkpoint it loads says)."""
    _READING.set(_trained(data, (None, None)))


def _trained(data, given: tuple) -> _Reading:
    now, said = _READING.get(), dict(_READING.get().said)
    names = [given[0] or now.image, given[1] or now.mask]
    for i, key in enumerate(TRAINED_KEYS):
        trained = data.get(key) if isinstance(data, dict) else None
        if names[i] is None and isinstance(trained, str) and trained:
            names[i], said[trained.strip("/")] = trained, key
    return _Reading(names[0], names[1], tuple(said.items()))


def holds_h5_mask(path: Path) -> bool:
    """Whether the HDF5 file ``path`` holds the dataset read as masks
    (:func:`h5_mask_dataset_read_as`), so is its own mask; False where none is named. Read
    once a command while the file is unchanged (``HEADERS.kept()``; an HDF4 ``.hdf`` holds
    none: s75 review, it stopped train after it was said passed over), its :func:`h5_source`
    as an image and as its own mask kept there from that open (s75: a folder's look at 200
    CREMI files and their pairing opened each 4 times)."""
    name = _READING.get().mask
    if name is None or not path.is_file():
        return False
    held = lambda: not_hdf5(path) is None and _holds(path, name)  # noqa: E731
    return HEADERS.read(("h5 holds", name), real_path(path), held)


def _holds(path: Path, name: str) -> bool:
    with h5_file(path) as f:
        held = hasattr(f.get(name.strip("/")), "shape")
        if held and HEADERS.keeping():
            _primed(path, f, mask=False)
            _primed(path, f, mask=True)
    return held


def _primed(path: Path, f, *, mask: bool) -> None:
    """:func:`h5_source` of the open file ``f`` read (kept for the reads after), where it
    reads (its read later says why not)."""
    with contextlib.suppress(ImageReadError):
        h5_source(path, f, mask=mask)


def _named(mask: bool) -> str | None:
    """The dataset named to read in a file of several: a mask's where one is named."""
    now = _READING.get()
    return (now.mask or now.image) if mask else now.image


#: root attributes of a Keras model saved as HDF5 (``unet_membrane.hdf5``: weights, no image)
KERAS_ATTRIBUTES = ("keras_version", "model_config")


def no_image_held(path: str | os.PathLike) -> str | None:
    """What the HDF5 file ``path`` holds where it holds no image, so that a folder search
    passes it over as the folder's other files (s74 user: a Keras ``unet_membrane.hdf5``
    beside the images stopped training, 'no mask'; before HDF5 was read it was passed
    over): ``Keras model weights``, or ``no dataset of numbers on 2 or more axes``; None
    where it may hold one, or cannot be read (its read says why); a ``.hdf`` not HDF5
    (:func:`not_hdf5`: HDF4's, not read before ``.hdf`` was) too."""
    if (other := not_hdf5(path)) is not None:
        return other
    with contextlib.suppress(ImageReadError):
        h5_source(path)  # kept: read once a command (a CREMI folder's: from its look)
        return None
    if (look := _look(path)) is None:
        return None
    if look.keras:
        return "Keras model weights, no image"
    return None if look.images else "no dataset of numbers on 2 or more axes, no image"


def not_hdf5(path: str | os.PathLike) -> str | None:
    """What the ``.hdf`` file ``path`` is where it is not HDF5 (no HDF5 signature at byte 0,
    512, 1024, 2048...: after a user block): :data:`HDF4_SAID`, or ``not HDF5``; None for
    an HDF5 file, another suffix, or one it cannot open (its read says why). s74 review: an
    HDF4 ``MOD021KM.hdf`` in a TIFF set, passed over before ``.hdf`` was read, stopped
    train ('no mask') and failed in predict ('a damaged or cut-short file')."""
    if Path(path).suffix.lower() != ".hdf":
        return None
    try:
        with open(path, "rb") as f:
            size, first = os.fstat(f.fileno()).st_size, f.read(len(HDF5_MAGIC))
            head, offset = first, 512
            while head != HDF5_MAGIC and offset + len(HDF5_MAGIC) <= size:
                f.seek(offset)
                head, offset = f.read(len(HDF5_MAGIC)), offset * 2
    except OSError:
        return None
    if head == HDF5_MAGIC:
        return None
    return HDF4_SAID if first.startswith(HDF4_MAGIC) else "not HDF5, no image"


def image_datasets(path: str | os.PathLike) -> list[str]:
    """The names of the datasets of images (numbers on 2 or more axes) of the HDF5 file
    ``path``; [] for one it cannot open (its read says why)."""
    return list(getattr(_look(path), "images", ()))


@dataclass(frozen=True)
class _Look:
    """What an HDF5 file holds: ``datasets`` (every one's name), ``images`` (those of
    numbers on 2 or more axes), ``keras`` (a Keras model's root attributes)."""

    datasets: tuple[str, ...]
    images: tuple[str, ...]
    keras: bool


def _look(path: str | os.PathLike) -> _Look | None:
    """:class:`_Look` of ``path``, from one open read once a command while the file is
    unchanged (``HEADERS.kept()``); None for a file that cannot be read (its read says
    why)."""
    try:
        return HEADERS.read(("h5 look",), real_path(path), lambda: _looked(Path(path)))
    except (ImageReadError, OSError):
        return None


def _looked(path: Path) -> _Look:
    with h5_file(path) as f:
        names = _datasets(f)
        images = tuple(n for n in names if _image_like(f[n]))
        keras = any(k in f.attrs for k in KERAS_ATTRIBUTES)
    return _Look(tuple(names), images, keras)


def _image_like(data) -> bool:
    return len(data.shape) >= 2 and data.dtype.kind in "biuf"


def _h5py(where: Path):
    return optional_module("h5py", where, NEEDS_H5PY)


@dataclass(frozen=True)
class H5Source:
    """Where an image lies in an HDF5 file: ``kind`` (ilastik, Imaris, BigDataViewer),
    ``grid`` the dataset names [time point][channel] (one, for ilastik's), ``inner`` the
    shape read of each (cropped), ``letters`` the axes of the image read (``P``, ``Y``,
    ``X``, ``C``), ``dtype``, ``levels``, ``pixel_size`` ((y, x) µm, or None), ``z_spacing``
    (µm, or None), ``pages`` what each dataset's page axes are (``Z``, ``T``, ``TZ``; ``Q``
    of no known meaning), in their order, ``chunks`` each dataset's (None: stored whole)."""

    kind: str
    grid: tuple[tuple[str, ...], ...]
    inner: tuple[int, ...]
    letters: str
    dtype: np.dtype
    levels: int
    pixel_size: tuple[float, float] | None = None
    z_spacing: float | None = None
    pages: str = "Z"
    chunks: tuple[int, ...] | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The image's shape: time points, then each dataset's, then channels (each of more
        than one alone)."""
        times, channels = len(self.grid), len(self.grid[0])
        return (*((times,) if times > 1 else ()), *self.inner, *((channels,) * (channels > 1)))


def h5_file(path: str | os.PathLike):
    """The HDF5 file ``path`` open for reading; ImageReadError in one line for no h5py, no
    file, a file of another kind (:func:`~unetlab.data.file_kind.wrong_kind_line`) or a
    damaged one (cut short: h5py's "truncated file")."""
    path = Path(path)
    h5py = _h5py(path)
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        from unetlab.data.file_kind import wrong_kind_line  # which imports npy, mrc

        if not path.is_file():
            raise ImageReadError(f"{path}: no such file") from None
        if "unable to lock file" in str(exc):  # HDF5's lock, held by a program writing it
            raise ImageReadError(
                f"{path}: open for writing in another program (HDF5 locks it): close it "
                "there, then run again"
            ) from None
        said = wrong_kind_line(path)
        raise ImageReadError(
            said or f"{path}: cannot be read as HDF5 ({first_line(exc)}): {EXPORT_AGAIN}"
        ) from None


def h5_source(path: str | os.PathLike, f=None, level: int = 0, *, mask=False) -> H5Source:
    """The :class:`H5Source` (a ``mask``'s: :func:`h5_mask_dataset_read_as`) of level
    ``level`` (one the file has:
    :func:`~unetlab.data.slides.open_slide` checks it) of the HDF5 file ``path`` (``f``: it
    open), from its metadata (no pixels read), read once a command while the file is
    unchanged (``HEADERS.kept()``: predict's checks opened a small file 8 times): an Imaris
    file's, a BigDataViewer file's, else the one dataset's it holds (ilastik's);
    ImageReadError in one line for a file of several datasets (named), of none, or one
    whose datasets are missing, empty or of different sizes."""
    path, name = Path(path), _named(mask)
    what = ("h5 source", name, level)
    return HEADERS.read(what, real_path(path), lambda: _read_source(path, f, level, name))


def _read_source(path: Path, f, level: int, name: str | None) -> H5Source:
    if f is None:
        with h5_file(path) as f:
            return _read_source(path, f, level, name)
    try:
        if "DataSet" in f and "DataSetInfo" in f:
            source = _imaris(path, f, level)
        elif _setups(f) and _times(f):
            source = _bdv(path, f, level, name)
        else:
            source = _single(path, f, name)
    except ImageReadError:
        raise
    except (KeyError, ValueError, TypeError, IndexError) as exc:  # h5py: odd members, attributes
        raise ImageReadError(f"{path}: {first_line(exc)}: {EXPORT_AGAIN}") from None
    if 0 in source.shape:
        raise ImageReadError(f"{path}: its image {source.grid[0][0]} is empty: {EXPORT_AGAIN}")
    return dataclasses.replace(source, chunks=f[source.grid[0][0]].chunks)


def _checked_grid(path: Path, f, grid: tuple[tuple[str, ...], ...], what: str) -> None:
    """ImageReadError unless each dataset of ``grid`` (its time points' ``what``: channels,
    setups) is in ``f``, all of one shape."""
    names = [n for row in grid for n in row]
    if missing := [n for n in names if not hasattr(f.get(n), "shape")]:
        more = f" and {len(missing) - 1} more" * (len(missing) > 1)
        raise ImageReadError(f"{path}: lacks {missing[0]}{more}: {EXPORT_AGAIN}")
    shapes = {n: f[n].shape for n in names}
    if odd := [n for n in names if shapes[n] != shapes[names[0]]]:
        raise ImageReadError(
            f"{path}: {names[0]} {shapes[names[0]]} and {odd[0]} {shapes[odd[0]]} differ in "
            f"size, so are not the {what} of one image: export each as a file of its own"
        )


def _datasets(f) -> list[str]:
    """The names of every dataset in ``f``, in the order h5py visits them."""
    found: list[str] = []
    f.visititems(lambda name, obj: found.append(name) if hasattr(obj, "shape") else None)
    return found


def _single(path: Path, f, named: str | None) -> H5Source:
    """The file's one dataset, or the one ``named`` (:func:`h5_dataset_read_as`) in a file
    of several, by its ``axistags`` (ilastik's) or its shape (level 0 alone); its pixel
    size from its ``resolution`` (CREMI's, :func:`_resolution`)."""
    names = _datasets(f)
    name = _chosen(path, names, f, named)
    data = f[name]
    shape = tuple(int(n) for n in data.shape)
    if not _image_like(data):
        fix = DATASET_FIX if len(names) > 1 else "remove it from the images (it holds no image)"
        raise ImageReadError(
            f"{path}: its dataset {name!r} ({data.dtype}, shape {shape}) is no image (one is "
            f"numbers on 2 or more axes): {fix}"
        )
    tags = data.attrs.get("axistags")
    letters, pages = _axistags(path, tags, shape)
    size, spacing = _resolution(data, letters)
    pages = "Z" if spacing is not None and tags is None else pages  # CREMI's (z, y, x)
    return H5Source("ilastik", ((name,),), shape, letters, data.dtype, 1, size, spacing, pages)


def _resolution(data, letters: str) -> tuple:
    """((y, x) µm, z µm) of the dataset ``data`` of axes ``letters`` from its
    ``resolution`` attribute, in nm, (z, y, x) or (y, x) (CREMI's ``volumes/raw``: (40, 4,
    4)); (None, None) where it has none, or not one a value an axis."""
    try:
        values = [float(v) for v in np.ravel(data.attrs.get("resolution", ()))]
    except (TypeError, ValueError):
        return None, None
    axes = letters.replace("C", "")
    if len(values) != len(axes) or axes.count("P") > 1 or min(values, default=0) <= 0:
        return None, None
    *z, y, x = (float(f"{v * UNITS_UM['nm']:.7g}") for v in values)
    return (y, x), (z[0] if z else None)


def _chosen(path: Path, names: list[str], f, named: str | None) -> str:
    """The dataset of ``names`` to read: the one ``named`` where the file holds it, else
    the file's one; ImageReadError naming them, and the fix, else."""
    if named is not None and named.strip("/") in names:
        if len(names) > 1:
            _say_trained(named)
        return named.strip("/")
    if len(names) == 1:
        return names[0]
    if not names:
        raise ImageReadError(f"{path}: holds no dataset, only groups (no image): {EXPORT_AGAIN}")
    said = ", ".join(f"{n} {f[n].shape}" for n in names[:6]) + (", ..." * (len(names) > 6))
    lacks = "" if named is None else f", none named {named!r}"
    raise ImageReadError(
        f"{path}: an HDF5 file of {len(names)} datasets ({said or 'none'}){lacks}, not an "
        f"ilastik export, an Imaris or a BigDataViewer file: {DATASET_FIX}"
    )


def _say_trained(named: str) -> None:
    """The line of the dataset ``named`` where a checkpoint's training named it
    (:func:`trained_h5_datasets`), said once: a file of several reads it."""
    if key := dict(_READING.get().said).get(named.strip("/")):
        masks, other = " as masks" * (key != "h5_dataset"), said_as(TRAINED_KEYS[key])
        note_once(
            f"HDF5 files of several datasets: {named!r} read{masks}, as the checkpoint trained "
            f"(its data.{key}; {other} reads another)",
            level=logging.INFO,
        )


def _axistags(path: Path, tags, shape: tuple[int, ...]) -> tuple[str, str]:
    """The letters of ilastik's ``axistags`` (JSON), or by ``shape`` where there are none,
    and what their page axes are (:attr:`H5Source.pages`)."""
    if tags is None:
        from unetlab.data.npy import npy_letters

        letters = npy_letters(shape)
        return letters, "Q" * letters.count("P")
    text = tags.decode() if isinstance(tags, bytes) else str(tags)
    try:
        keys = [str(a["key"]).lower() for a in json.loads(text)["axes"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ImageReadError(
            f"{path}: its axistags are no ilastik axes ({exc}): {EXPORT_AGAIN}"
        ) from None
    letters = "".join(AXIS_KEYS.get(k, "?") for k in keys)
    counts = [letters.count(a) for a in "YXC?"]
    if len(letters) != len(shape) or counts[:2] != [1, 1] or counts[2] > 1 or counts[3]:
        raise ImageReadError(
            f"{path}: axistags {''.join(keys)!r} do not name the axes of its dataset of shape "
            f"{shape} (one each of y, x, at most one c; t, z): {EXPORT_AGAIN}"
        )
    return letters, "".join(k.upper() for k in keys if k in "tz")


def _text(value) -> str:
    """An Imaris attribute (an array of one-byte strings, ``[b'5', b'1', b'2']``) as text."""
    if isinstance(value, (bytes, str)):
        return value.decode() if isinstance(value, bytes) else value
    return b"".join(bytes(v) for v in np.asarray(value).ravel()).decode()


def _numbered(path: Path, group, word: str) -> list[str]:
    """The members ``'{word} 0'``, ``'{word} 1'``, ... of an Imaris group, by number;
    ImageReadError where it has none."""
    found = [k for k in group if re.fullmatch(rf"{word} \d+", k)]
    if not found:
        raise ImageReadError(
            f"{path}: an Imaris file with no {word} in {group.name}: {EXPORT_AGAIN}"
        )
    return sorted(found, key=lambda k: int(k.split()[-1]))


def _imaris(path: Path, f, level: int) -> H5Source:
    """An Imaris file's level ``level``: its time points and channels, each cropped to
    the size its channel group (or ``DataSetInfo/Image``, at level 0) says."""
    levels = _numbered(path, f["DataSet"], "ResolutionLevel")
    at = f["DataSet"][levels[level]]
    times = _numbered(path, at, "TimePoint")
    channels = _numbered(path, at[times[0]], "Channel")
    base = f"DataSet/{levels[level]}"
    grid = tuple(tuple(f"{base}/{t}/{c}/Data" for c in channels) for t in times)
    _checked_grid(path, f, grid, "channels")
    group, info = at[times[0]][channels[0]], f["DataSetInfo/Image"].attrs
    keys = ("ImageSizeZ", "ImageSizeY", "ImageSizeX") if "ImageSizeX" in group.attrs else "ZYX"
    held = group.attrs if "ImageSizeX" in group.attrs else info
    stored = f[grid[0][0]].shape
    inner = tuple(min(int(_text(held[k])), n) for k, n in zip(keys, stored))
    size, spacing = _imaris_sizes(info, inner)
    dtype = f[grid[0][0]].dtype
    return H5Source("Imaris", grid, inner, "PYX", dtype, len(levels), size, spacing)


def _imaris_sizes(info, inner: tuple[int, ...]) -> tuple:
    """((y, x) µm, z µm) of the voxels of a level of ``inner`` (Z, Y, X): the extent
    (``ExtMax - ExtMin``, in ``Unit``) over the size; (None, None) where it says none."""
    try:
        ext = [
            float(_text(info[f"ExtMax{i}"])) - float(_text(info[f"ExtMin{i}"])) for i in (2, 1, 0)
        ]
        unit = UNITS_UM.get(_text(info.get("Unit", b"um")).strip().lower())
    except (KeyError, ValueError):
        return None, None
    if unit is None or min(ext) <= 0:
        return None, None
    z, y, x = (float(f"{e * unit / n:.7g}") for e, n in zip(ext, inner))
    return (y, x), z


def _setups(f) -> list[str]:
    return sorted(k for k in f if re.fullmatch(r"s\d\d", k) and "resolutions" in f[k])


def _times(f) -> list[str]:
    return sorted(k for k in f if re.fullmatch(r"t\d{5}", k))


def _bdv(path: Path, f, level: int, named: str | None) -> H5Source:
    """A BigDataViewer file's level ``level``: its time points and setups as channels,
    those of one view (:func:`_one_view`: BigStitcher's tiles and angles)."""
    setups, times = _one_view(path, _setups(f), named), _times(f)
    factors = np.asarray(f[setups[0]]["resolutions"], dtype=float).reshape(-1, 3)
    grid = tuple(tuple(f"{t}/{s}/{level}/cells" for s in setups) for t in times)
    _checked_grid(path, f, grid, "setups")
    cells = f[grid[0][0]]
    dtype = np.dtype(np.uint16) if cells.dtype == np.int16 else cells.dtype
    inner = tuple(int(n) for n in cells.shape)
    size, spacing = _bdv_sizes(path, factors[level], int(setups[0][1:]))
    return H5Source("BigDataViewer", grid, inner, "PYX", dtype, len(factors), size, spacing)


#: the ViewSetup attributes that make BigStitcher's setups other views, not channels
VIEW_ATTRIBUTES = ("tile", "angle", "illumination")


def _one_view(path: Path, setups: list[str], named: str | None) -> list[str]:
    """The ``setups`` (``s00``...) of one view, as the ``.xml`` beside ``path`` says their
    ViewSetups' attributes (:data:`VIEW_ATTRIBUTES`; a channel alone: the same view): the
    view of setup ``named`` (``s04``: ``--h5-dataset``) where it is one, else the first's,
    said once in a line naming the others and how to read one (s74: BigStitcher's tiles
    were read as channels); all where the ``.xml`` says one view, or none (a setup it
    does not list: of every view)."""
    views = _bdv_views(path)
    of = {s: views.get(int(s[1:])) for s in setups}
    if len(seen := {v for v in of.values() if v is not None}) < 2:
        return setups
    described = [s for s in setups if of[s] is not None]
    chosen = (named or "").strip("/")
    if chosen in described:
        _say_trained(chosen)  # s75: a checkpoint's view was read unsaid
    else:
        chosen = described[0]
    read = [s for s in setups if of[s] in (of[chosen], None)]
    said = ", ".join(f"{a} {v}" for a, v in zip(VIEW_ATTRIBUTES, of[chosen]))
    note_once(
        f"{path}: {len(seen)} views of BigStitcher's (tiles, angles or "
        f"illuminations: its .xml's ViewSetups), {said} read ({', '.join(read)}, as channels); "
        f"another: --h5-dataset {next(s for s in setups if s not in read)} (train: --set "
        "data.h5_dataset=sNN) reads the view of that setup"
    )
    return read


def _bdv_views(path: Path) -> dict[int, tuple[str, ...]]:
    """{ViewSetup id: its :data:`VIEW_ATTRIBUTES` values} of the BigDataViewer ``.xml``
    beside ``path``; {} without it."""
    try:
        found = ET.parse(path.with_suffix(".xml")).findall(".//ViewSetups/ViewSetup")
    except (OSError, ET.ParseError):
        return {}
    views = {}
    for setup in found:
        attributes = setup.find("attributes")
        said = [None if attributes is None else attributes.findtext(a) for a in VIEW_ATTRIBUTES]
        if (setup.findtext("id") or "").strip().isdigit():
            views[int(setup.findtext("id"))] = tuple((v or "0").strip() for v in said)
    return views


def _bdv_sizes(path: Path, factor: np.ndarray, setup: int) -> tuple:
    """((y, x) µm, z µm) of a level of ``factor`` (x, y, z) from the ``voxelSize`` of
    ViewSetup ``setup`` (else the first's that gives one: s75 review, a setup without it
    gave none) of the BigDataViewer ``.xml`` beside ``path`` (its stem's; s75: BigStitcher's
    tiles and angles may differ, the first's was read for each); (None, None) without it."""
    try:
        setups = ET.parse(path.with_suffix(".xml")).findall(".//ViewSetup")
    except (OSError, ET.ParseError):
        return None, None
    own = [v for v in setups if (v.findtext("id") or "").strip() == str(setup)]
    sized = [v.find("voxelSize") for v in own + setups if v.find("voxelSize") is not None]
    if not sized:
        return None, None
    found = sized[0]
    unit = UNITS_UM.get((found.findtext("unit") or "").strip().lower())
    try:
        x, y, z = (float(v) for v in (found.findtext("size") or "").split())
    except ValueError:
        return None, None
    if unit is None:
        return None, None
    fx, fy, fz = (float(v) for v in factor)
    near = lambda v: float(f"{v:.7g}")  # noqa: E731
    return (near(y * fy * unit), near(x * fx * unit)), near(z * fz * unit)


class H5View:
    """An :class:`H5Source`'s image as one array-like (``shape``, ``dtype``, ``chunks``):
    ``view[index]`` reads only that window of each dataset it spans (slices of step 1
    within the cropped size, or single indices), stacked by time point and channel. The
    file ``path`` is opened at the first read (``f``: it open, read whole: no chunk cache),
    a time point's datasets at a time, each with a chunk cache of its z-slab
    (:func:`slab_cache`); :meth:`close` closes what it opened."""

    ndim = property(lambda self: len(self.shape))

    def __init__(self, path: Path, source: H5Source, f=None):
        self.path, self.source, self.shape, self.dtype = path, source, source.shape, source.dtype
        self._f, self._own, self._row = f, f is None, (None, [])
        self._cache = 0 if f is not None else slab_cache(source)
        times, many = len(source.grid) > 1, len(source.grid[0]) > 1
        known = source.chunks
        self.chunks = None if known is None else (*((1,) * times), *known, *((1,) * many))

    def close(self) -> None:
        if self._f is not None and self._own:
            self._f.close()
        self._f, self._row = None, (None, [])

    def __getitem__(self, index) -> np.ndarray:
        index = index if isinstance(index, tuple) else (index,)
        index = (*index, *((slice(None),) * (self.ndim - len(index))))
        times, channels = len(self.source.grid), len(self.source.grid[0])
        t, rest = (index[0], index[1:]) if times > 1 else (0, index)
        inner, c = (rest[:-1], rest[-1]) if channels > 1 else (rest, 0)
        inner = tuple(_within(i, n) for i, n in zip(inner, self.source.inner))
        picked = _picked(range(times), t)
        rows = [[self._block(d, inner) for d in _picked(self._datasets(r), c)] for r in picked]
        block = np.stack([np.stack(r, -1) if channels > 1 else r[0] for r in rows])
        return block if times > 1 and not isinstance(t, (int, np.integer)) else block[0]

    def _datasets(self, t: int) -> list:
        """Time point ``t``'s datasets, open (those of the time point read before let go of,
        and their chunk caches with them)."""
        if self._row[0] != t:
            if self._f is None:
                self._f = h5_file(self.path)
            self._row = t, [_opened(self._f, n, self._cache) for n in self.source.grid[t]]
        return self._row[1]

    def _block(self, data, inner: tuple) -> np.ndarray:
        block = np.asarray(data[inner])
        return (
            block.view(np.uint16) if block.dtype == np.int16 and self.dtype == np.uint16 else block
        )


#: the most memory the chunk caches of a streamed HDF5 image take (all its channels')
SLAB_CACHE_MOST = 1 << 30


def slab_cache(source: H5Source) -> int:
    """Bytes of chunk cache each dataset of ``source`` is opened with to be streamed: its
    z-slab (a chunk deep in its page axes, all its rows and columns), so that each chunk is
    decoded once while its planes are read one by one (h5py's 1 MiB decoded a chunk 16 deep
    11 times: s73 review, a 16 x 2048² .ims 11.3 s CPU, 1.0 s read whole); 0 (h5py's
    default) for chunks one plane deep, or where the slabs of its channels take more than
    :data:`SLAB_CACHE_MOST` or a quarter of the memory free."""
    if source.chunks is None:
        return 0
    axes = zip(source.letters, source.chunks, source.inner)
    deep = [(a == "P", c, -(-n // c) * c) for a, c, n in axes]
    depth = math.prod(c for page, c, _ in deep if page)
    slab = depth * math.prod(n for page, _, n in deep if not page) * source.dtype.itemsize
    from unetlab.runtime import available_memory  # torch's, which a stream has loaded

    most = min(SLAB_CACHE_MOST, (available_memory() or SLAB_CACHE_MOST) / 4)
    return slab + slab // 8 if depth > 1 and slab * len(source.grid[0]) <= most else 0


def _opened(f, name: str, cache: int):
    """Dataset ``name`` of ``f``, with a chunk cache of ``cache`` bytes (0: h5py's)."""
    if not cache:
        return f[name]
    h5py = _h5py(Path(f.filename))
    access = h5py.h5p.create(h5py.h5p.DATASET_ACCESS)
    chunk = math.prod(f[name].chunks) * f[name].dtype.itemsize
    access.set_chunk_cache(_prime_over(10 * (cache // chunk + 1)), cache, 0.75)
    return h5py.Dataset(h5py.h5d.open(f.id, name.encode(), access))


def _prime_over(n: int) -> int:
    """The least prime over ``n`` (HDF5's chunk cache hashes into a prime number of slots)."""
    n += 1
    while any(n % d == 0 for d in range(2, math.isqrt(n) + 1)):
        n += 1
    return n


def _within(i, n: int):
    """An index of an axis of ``n`` (a slice clipped to it: a padded Imaris array's)."""
    return slice(*i.indices(n)) if isinstance(i, slice) else int(i)


def _picked(items: Sequence, i) -> list:
    """The ``items`` an index ``i`` (int or slice) picks, as a list."""
    return [items[i]] if isinstance(i, (int, np.integer)) else list(items[i])


def read_h5(path: str | os.PathLike, *, mask: bool = False) -> tuple[np.ndarray, str]:
    """The image of the HDF5 file ``path`` in memory and its letters (:func:`h5_source`); a
    ``mask``'s dataset (:func:`h5_mask_dataset_read_as`), its uint64 void as background
    (:func:`_void_as_background`)."""
    with h5_file(path) as f:
        source = h5_source(path, f, mask=mask)
        view = H5View(Path(path), source, f)
        try:
            arr = view[(slice(None),) * view.ndim]
        except (OSError, ValueError) as exc:  # h5py: a chunk cut off or corrupt
            raise ImageReadError(
                f"{path}: cannot read its pixels ({first_line(exc)}): {EXPORT_AGAIN}"
            ) from None
    return (_void_as_background(path, source, arr) if mask else arr), h5_letters(source)


#: uint64's largest value: CREMI's labels' "no object" (their background, or 0 is)
UINT64_VOID = np.iinfo(np.uint64).max


def _void_as_background(path, source: H5Source, arr: np.ndarray) -> np.ndarray:
    """A uint64 mask's :data:`UINT64_VOID` as background 0, said once a file: CREMI's
    ``neuron_ids`` and ``clefts`` mark no object so (some files by 0), and as an id it
    would be one object as large as the background, its boundary drawn around every
    neuron."""
    if arr.dtype != np.uint64 or not (void := arr == UINT64_VOID).any():
        return arr
    note_once(
        f"{path}: {source.grid[0][0]}'s value 0xffffffffffffffff (uint64's largest, CREMI's "
        "no object) read as background 0, as its 0 is"
    )
    return np.where(void, np.uint64(0), arr)


def h5_letters(source: H5Source) -> str:
    """The letters of the image of ``source`` (:attr:`H5Source.shape`'s axes)."""
    times, channels = len(source.grid), len(source.grid[0])
    return "P" * (times > 1) + source.letters + "C" * (channels > 1)


def h5_colour(path: str | os.PathLike) -> bool:
    """Whether the HDF5 file ``path`` holds a colour picture: an ilastik export of 3 or 4
    8-bit samples last (``yxc``: ilastik's export of an RGB PNG or JPEG, as a ``.npy`` of
    them is one); Imaris' and BigDataViewer's channels are stains."""
    source = h5_source(path)
    rgb = source.letters.endswith("C") and source.inner[-1] in (3, 4)
    return source.kind == "ilastik" and rgb and source.dtype == np.uint8


def h5_page_axes(path: str | os.PathLike, pages: int) -> tuple[str, tuple[int, ...]]:
    """What the ``pages`` of the HDF5 file ``path`` are, in their order (``Z``, ``TZ``,
    ``T``; ``Q`` of no known meaning), and their sizes
    (:class:`~unetlab.data.tiffmeta.PageAxes`): level 0's, the last (z) of a level of fewer
    planes (BigDataViewer's halve z too) as many as there are."""
    source = h5_source(path)
    sizes = tuple(n for a, n in zip(h5_letters(source), source.shape) if a == "P")
    letters = "T" * (len(source.grid) > 1) + source.pages
    if "Q" in letters or not sizes:
        return "Q", (pages,)
    return letters, (*sizes[:-1], pages // math.prod(sizes[:-1]))


def h5_pixel_size(path: str | os.PathLike) -> tuple[tuple[float, float], float | None] | None:
    """((y, x) µm, z µm) of level 0 of the HDF5 file ``path`` (Imaris', BigDataViewer's),
    or None where it records none (an ilastik export)."""
    source = h5_source(path)
    return None if source.pixel_size is None else (source.pixel_size, source.z_spacing)


def padded_fix(path: str | os.PathLike) -> str:
    """The fix for the HDF5 file ``path``, its own mask, whose image and mask datasets
    (:func:`h5_datasets_reading`) differ in size: CREMI's padded volumes (``sample_A_padded``:
    raw padded around the labels, larger on every axis) are named, with the crop of the image
    that the labels' ``offset`` gives where the file records it and the crop lies inside the
    image (s75: refused naming no fix); labels larger than the image are said so."""
    image, mask = h5_source(path).grid[0][0], h5_source(path, mask=True).grid[0][0]
    with h5_file(path) as f:
        shape, inner = tuple(f[image].shape), tuple(f[mask].shape)
        said = f"{image} {shape} and {mask} {inner} differ in size"
        if len(shape) != len(inner) or any(a < b for a, b in zip(shape, inner)):
            return f"{said}: labels larger than the image: give the file whose {image} they label"
        at = _crop_at(f[image].attrs, f[mask].attrs, shape, inner)
    fix = f"{said}: a padded volume (CREMI's): give the unpadded file, or crop {image}"
    if at is None:
        return fix
    crop = ", ".join(f"{a}:{a + n}" for a, n in zip(at, inner))
    return f"{fix} to [{crop}] (where its labels' offset puts them)"


def _crop_at(raw, labels, shape: tuple, inner: tuple) -> tuple[int, ...] | None:
    """Where labels of size ``inner`` begin in an image of size ``shape``, from CREMI's
    ``offset`` (nm, z y x; the image's own, 0 where it records none: s75 review) over the
    ``resolution`` (the image's, else the labels'), of the datasets' attributes ``raw`` and
    ``labels``; None where either is missing, not whole pixels, or out of the image."""
    try:
        moved = np.asarray(labels.get("offset"), float).ravel()
        moved = moved - np.asarray(raw.get("offset", 0.0), float).ravel()
        at = moved / np.asarray(raw.get("resolution", labels.get("resolution")), float).ravel()
    except (TypeError, ValueError):
        return None
    if at.shape != (len(shape),) or not np.allclose(at, np.round(at)):
        return None
    at = np.round(at).astype(int)
    inside = (at >= 0).all() and (at + np.asarray(inner) <= np.asarray(shape)).all()
    return tuple(int(a) for a in at) if inside else None
