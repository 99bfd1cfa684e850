"""Read a DICOM series (a folder of one file a slice, as a hospital PACS exports a CT) as one
volume, with pydicom (an optional extra: ``pip install 'unetlab[dicom]'``).

The slices are ordered by their position along the slice normal (ImagePositionPatient on
the cross product of ImageOrientationPatient's row and column directions), never by file
name, as ITK and 3D Slicer order them; each is scaled to Hounsfield units by its own
RescaleSlope and RescaleIntercept. The volume is (Z, Y, X): rows Y, columns X, the first
slice the one furthest back along the normal. Its affine maps voxel indices (x, y, z) to
the patient's millimetres in NIfTI's RAS (DICOM's LPS with x and y negated), so a label
volume written with it (:func:`~unetlab.data.nifti.write_labels_at`) overlays the series in
3D Slicer and ITK-SNAP. DICOM standard, C.7.6.2.1.1
(https://dicom.nema.org/medical/dicom/current/output/chtml/part03/sect_C.7.6.2.html).
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import os
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from unetlab.data.file_kind import DICOM_HEAD, is_dicom_head
from unetlab.data.mrc import MRC_SUFFIXES
from unetlab.data.nifti import NIFTI_ENDINGS, read_header, write_labels_at
from unetlab.data.nifti_affine import (
    CORNER_TOLERANCE,
    TILT_TOLERANCE,
    corners_off,
    flipped,
    places_grid,
    reversed_axes,
)
from unetlab.data.read_notes import note_once
from unetlab.data.tiff_files import TIFF_SUFFIXES
from unetlab.errors import ImageReadError, optional_module
from unetlab.read_once import file_stamp, input_stamp
from unetlab.words import numbered

T = TypeVar("T")

#: the line a user whose data is DICOM reads where pydicom is not installed
NEEDS_PYDICOM = "reading DICOM needs pydicom: pip install 'unetlab[dicom]'"
LOOKED_AT = 3  # files of a folder opened to tell a series folder from another
#: the endings of files a series folder may hold beside its slices (a PACS export's notes:
#: 00README.TXT first by name hid the slices, s72 review), none opened as a slice
NOTES = (".txt", ".xml", ".json", ".htm", ".html", ".pdf", ".csv", ".ini", ".log", ".md")
#: folders below one given that are looked into for DICOM series (a PACS export's
#: DICOM/ST000000/SE000001/ tree), and how deep, where it holds no image
SEARCHED, DEEPEST = 200, 4
#: the endings of the files a folder search lists as images (io's INPUT_SUFFIXES, which
#: imports this module, and NIfTI's): a folder holding one is no series
IMAGE_ENDINGS = (
    *(".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"),
    *TIFF_SUFFIXES,
    *MRC_SUFFIXES,
    *NIFTI_ENDINGS,
)
#: the names of a case's label volume saved in its series folder, beside its slices (the
#: per-case export, as 3D Slicer's or a script's; s72 notes), any letter case: no image
CASE_LABELS = ("seg.nii.gz", "segmentation.nii.gz", "seg.nii", "segmentation.nii")
#: endings of files beside :data:`IMAGE_ENDINGS` and :data:`NOTES` whose name
#: (:func:`name_less_suffix`) is taken with no look for a series folder
NOT_SERIES = (".npy", ".npz", ".zarr", ".geojson", ".zip", ".roi", ".h5", ".hdf5", ".pkl", ".seg")
#: how far (a share of the slice spacing) slice steps may differ before a gap is said
STEP_TOLERANCE = 0.1
#: the one line's fix for a compressed series pydicom has no plugin for
DECOMPRESS = (
    "pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg (pydicom's decoders), or "
    "save the series uncompressed (gdcmconv --raw IN OUT; dcmdjpeg IN OUT)"
)
EXPORT_AGAIN = "a damaged file: export the series again from the PACS"
#: the attributes a slice's place in the volume is read from
GEOMETRY = ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing")
#: the UIDs by which another object (a DICOM SEG) refers to a slice, its series and study,
#: and is placed on its frame of reference
REFERENCED_BY = (
    *("SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"),
    "FrameOfReferenceUID",
)
#: (x, y, z) of LPS as RAS: NIfTI's world negates DICOM's first two axes
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
#: folders whose listing and series header are kept (:func:`_kept`) outside a run that
#: keeps them all (:func:`keeping_series`)
KEPT_FOLDERS = 32

log = logging.getLogger(__name__)
#: (what, folder) -> (the stamp it was read at, what was read): see :func:`_kept`
_KEPT: dict[tuple, tuple] = {}
#: the runs within :func:`keeping_series` (none: :data:`KEPT_FOLDERS` kept)
_KEEPING = [0]
#: a label volume read reversed onto its series -> (its stamp, the axes): see :func:`onto_series`
_REVERSED: dict[str, tuple] = {}


def is_dicom_file(path: str | os.PathLike) -> bool:
    """True for a DICOM file (Part 10: ``DICM`` after its 128-byte preamble), whatever its
    name (``IM0001``, ``1.2.840....dcm``); reads 132 bytes, no pydicom."""
    try:
        with open(path, "rb") as f:
            return is_dicom_head(f.read(DICOM_HEAD))
    except OSError:
        return False


@dataclass(frozen=True)
class _Listing:
    """What one look at a folder found: ``others`` its files with no image's ending (hidden
    ones and ``DICOMDIR`` passed over), by name; ``images`` whether it holds an image file;
    ``dicom`` the DICOM files among the first :data:`LOOKED_AT` of ``others``;
    ``folders`` its sub-folders, by name; ``labels`` its files named as a case's label
    volume (:data:`CASE_LABELS`), no image of the folder."""

    others: tuple[str, ...]
    images: bool
    dicom: tuple[str, ...]
    folders: tuple[str, ...]
    labels: tuple[str, ...] = ()


def _kept(key: tuple, stamp: tuple | None, read: Callable[[], T]) -> T:
    """``read()``, or what it gave for ``key`` while ``stamp`` is the one it was read at
    (None: read each time): a command asks a series' header once a slice (s72 review: 208
    reads of each file by ``train --check`` of 300 slices)."""
    if stamp is not None and (held := _KEPT.get(key)) is not None and held[0] == stamp:
        return held[1]
    value = read()
    if stamp is not None:
        _KEPT.pop(key, None)
        _KEPT[key] = (stamp, value)
        _trimmed()
    return value


def _trimmed() -> None:
    """The kept reads past :data:`KEPT_FOLDERS` dropped, the earliest first, but within a
    run that keeps them all (:func:`keeping_series`)."""
    while not _KEEPING[0] and len(_KEPT) > KEPT_FOLDERS:
        del _KEPT[next(iter(_KEPT))]


@contextlib.contextmanager
def keeping_series() -> Iterator[None]:
    """Within: every folder's listing and series header read is kept while unchanged, none
    dropped past :data:`KEPT_FOLDERS` (s74: ``predict --output-format dicom-seg`` of 40
    series read each header for the SEG's check, then again to predict it: 9 opens a
    slice, 5 for 8 series); those past it dropped at its end."""
    _KEEPING[0] += 1
    try:
        yield
    finally:
        _KEEPING[0] -= 1
        _trimmed()


def _listing(folder: Path) -> _Listing:
    """The folder's :class:`_Listing`, looked at again only once the folder changed (its
    stamp: a file added, removed or renamed)."""
    return _kept(("listing", os.path.abspath(folder)), input_stamp(folder), lambda: _look(folder))


def _look(folder: Path) -> _Listing:
    """One ``os.scandir`` pass (its file types: no ``stat`` a file) and the first files
    opened by name."""
    others, folders, labels, images = [], [], [], False
    with os.scandir(folder) as entries:
        for e in entries:
            if e.name.startswith(".") or e.name.upper() == "DICOMDIR":
                continue
            if e.is_dir():
                folders.append(e.name)
            elif not e.is_file():
                continue
            elif e.name.lower() in CASE_LABELS:
                labels.append(e.name)
            elif e.name.lower().endswith(IMAGE_ENDINGS):
                images = True
            else:
                others.append(e.name)
    first = heapq.nsmallest(LOOKED_AT, (n for n in others if not n.lower().endswith(NOTES)))
    dicom = tuple(n for n in first if is_dicom_file(folder / n))
    return _Listing(tuple(sorted(others)), images, dicom, tuple(sorted(folders)), tuple(labels))


def is_dicom_series(folder: str | os.PathLike) -> bool:
    """True for a folder that holds no image file (PNG, TIFF, NIfTI, ...; its label volume
    :func:`case_label` is none) and whose first files (by name; hidden ones and
    ``DICOMDIR`` passed over) include a DICOM file."""
    folder = Path(folder)
    if folder.name.lower().endswith(IMAGE_ENDINGS) or not folder.is_dir():  # no stat a file
        return False
    listed = _listing(folder)
    return not listed.images and bool(listed.dicom)


def case_label(series: str | os.PathLike) -> Path | None:
    """The label volume saved in the DICOM series folder ``series`` beside its slices
    (``seg.nii.gz``, ``segmentation.nii.gz``: :data:`CASE_LABELS`), or None: none, or two
    (a pair said by neither)."""
    labels = _listing(Path(series)).labels
    return Path(series) / labels[0] if len(labels) == 1 else None


def case_label_problem(series: str | os.PathLike) -> str | None:
    """The line for a series among cases that hold their label volume beside their slices
    (:func:`case_label`) whose folder holds none, or two; None where it holds one."""
    labels = _listing(Path(series)).labels
    if len(labels) == 1:
        return None
    held = (
        f"{' and '.join(labels)} beside its slices: keep one"
        if labels
        else (
            f"no {CASE_LABELS[0]} (or {CASE_LABELS[1]}) beside its slices, as the other cases "
            "hold theirs: save its labels there, or move the series out"
        )
    )
    return f"{series}/: a DICOM series with {held}"


def name_less_suffix(path: str | os.PathLike) -> str:
    """``path``'s name less its suffix (``a.b.png``: ``a.b``); a DICOM series folder's
    whole name (one named by its UID, ``1.2.840.113619.2.55.3``, has no suffix: s72, its
    labels were ``...2.55.nii.gz``, which evaluate paired with no ground truth), looked at
    only where the suffix is none an image file has (``a.png``, ``a.npy``: no stat)."""
    path = path if isinstance(path, Path) else Path(path)  # Path(a Path): 3 us
    suffix = path.suffix.lower()
    if not suffix or suffix in _FILE_SUFFIXES or not is_dicom_series(path):
        return path.stem
    return path.name


#: the suffixes :func:`name_less_suffix` takes for a file's with no look (a set: Pair.name
#: asks it of every pair)
_FILE_SUFFIXES = frozenset((*IMAGE_ENDINGS, *NOTES, *NOT_SERIES))


def dicom_among_images(folder: str | os.PathLike) -> tuple[str, ...]:
    """The DICOM files among the first others of a folder of images (no series: they are
    passed over by a folder search, which says so)."""
    listed = _listing(Path(folder))
    return listed.dicom if listed.images else ()


def series_folders(folder: str | os.PathLike) -> list[Path]:
    """The sub-folders of ``folder`` that are DICOM series (:func:`is_dicom_series`), by
    name; none looked into where ``folder`` holds images of its own."""
    folder = Path(folder)
    listed = _listing(folder)
    if listed.images:
        return []
    return [folder / d for d in listed.folders if is_dicom_series(folder / d)]


def slices_beside_image_line(folder: str | os.PathLike) -> str | None:
    """The line naming the sub-folders of a folder of series that hold DICOM slices beside
    an image file (not series: s73 review, ``case_3/`` holding its slices and
    ``Segmentation-label.nii.gz`` passed over unsaid among cases holding their
    ``seg.nii.gz``); None where there is none, or the folder holds images of its own."""
    folder = Path(folder)
    if (listed := _listing(folder)).images:
        return None
    held = ((folder / d, _listing(folder / d)) for d in listed.folders)
    if not (mixed := [d for d, sub in held if sub.images and sub.dicom]):
        return None
    named = ", ".join(f"{d.name}/ ({_image_file(d)})" for d in mixed[:3])
    return (
        f"{folder}/: {numbered(len(mixed), 'folder')} holding DICOM slices beside an image "
        f"file, not read as a series: {named}{', ...' if len(mixed) > 3 else ''}; a series "
        f"folder holds its slices alone, or with its label volume named {CASE_LABELS[0]} (or "
        f"{CASE_LABELS[1]}): rename the label volume so, or move the image file out"
    )


def _image_file(folder: Path) -> str:
    """The first image file of ``folder`` by name, its label volume none."""
    names = sorted(n for n in os.listdir(folder) if n.lower() not in CASE_LABELS)
    return next(n for n in names if n.lower().endswith(IMAGE_ENDINGS))


def series_beside_line(folder: str | os.PathLike, counted: Collection[Path] = ()) -> str | None:
    """The line naming the DICOM series among the sub-folders of a folder of images (not
    read: a folder of images is searched for its files alone; s72 review: ``images/CT_1/``
    beside ``images/a.png`` passed over unsaid), those ``counted`` (holding images, said
    otherwise) not looked into; None where there is none, or the folder holds no image."""
    folder = Path(folder)
    listed = _listing(folder)
    if not listed.images:
        return None
    subs = [folder / d for d in listed.folders if folder / d not in counted]
    if not (series := [s for s in subs if is_dicom_series(s)]):
        return None
    named = ", ".join(f"{s.name}/" for s in series[:3]) + (", ..." if len(series) > 3 else "")
    return (
        f"{folder}/: {len(series)} DICOM series ({named}) beside its images, not read: a "
        "folder of images is read for its image files alone; give series a folder of their "
        "own (images/<series>/ with no image file beside them) or each series' folder itself"
    )


def series_below(folder: str | os.PathLike) -> list[Path]:
    """The DICOM series in the folders below ``folder`` (a PACS export's DICOMDIR tree:
    ``DICOM/ST000000/SE000001/``), breadth first, :data:`DEEPEST` levels and
    :data:`SEARCHED` folders at most; a series' own sub-folders not looked into."""
    found, level, searched = [], [Path(folder)], 0
    for _ in range(DEEPEST):
        below = [f / d for f in level for d in _listing(f).folders]
        below = below[: max(0, SEARCHED - searched)]
        searched += len(below)
        found += [f for f in below if is_dicom_series(f)]
        level = [f for f in below if f not in found]
    return sorted(found)


def loose_slices_line(folder: str | os.PathLike) -> str | None:
    """The line for a data set's image folder that is itself a DICOM series (its slice files
    loose in ``images/``, not in a folder per series), or None."""
    if not is_dicom_series(folder):
        return None
    dicom = _listing(Path(folder)).dicom
    return (
        f"{folder}/: DICOM slice files directly in it ({', '.join(dicom)}, ...): a series is a "
        f"folder of its slices: move each series' files into {Path(folder).name}/<series>/ "
        "(its label volume: masks/<series>.nii.gz)"
    )


def _pydicom(where: Path):
    return optional_module("pydicom", where, NEEDS_PYDICOM)


@dataclass(frozen=True)
class DicomSeries:
    """What unetlab uses of a series' headers: ``files`` its slices in volume order;
    ``shape`` (Z, Y, X); ``spacing`` (z, y, x) in mm; ``affine`` 4x4 of voxel (x, y, z) to
    RAS mm; ``modality`` ('CT', 'MR', ...); ``name`` its description or UID;
    ``unreferenced`` the first slice lacking a UID of :data:`REFERENCED_BY` and those it
    lacks (an anonymiser's or converter's), or None."""

    folder: Path
    files: tuple[Path, ...]
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    affine: np.ndarray
    modality: str
    name: str
    unreferenced: tuple[Path, tuple[str, ...]] | None = None


def series_header(folder: str | os.PathLike, series: str | None = None) -> DicomSeries:
    """The :class:`DicomSeries` of ``folder`` from its files' headers (no pixels read), read
    again once the folder changed (a file added, removed or renamed) or its first file (a
    series exported again over its files); ``series``: the one of several series in the
    folder of that SeriesInstanceUID, SeriesNumber or SeriesDescription. ImageReadError,
    one line, for a folder of several series and none picked, of slices of mixed sizes or
    orientations, with a gap, a tilted gantry or a damaged file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageReadError(f"{folder}: no such folder (a DICOM series is a folder)")
    files = _listing(folder).others
    # not every file's stamp: a series asked once a slice would take slices^2 stats
    stamp = (input_stamp(folder), input_stamp(folder / files[0]) if files else None)
    key = ("series", os.path.abspath(folder), series)
    return _kept(key, stamp, lambda: _series_read(folder, series))


def _series_read(folder: Path, series: str | None) -> DicomSeries:
    heads = _picked(_image_headers(folder), folder, series)
    first = heads[0][1]
    rows, cols = _one_grid(heads, folder)
    steps, order = _ordered(heads, folder)
    dy, dx = (float(s) for s in first.PixelSpacing)
    dz = _slice_step(steps, first, folder)
    affine = _affine(first, [heads[i][1] for i in order], (dx, dy, dz))
    _untilted(affine, first, folder)
    affine.flags.writeable = False  # kept for the next ask
    files = tuple(heads[i][0] for i in order)
    modality = str(first.get("Modality", ""))
    lacking = ((f, tuple(k for k in REFERENCED_BY if k not in h)) for f, h in heads)
    unreferenced = next(((f, keys) for f, keys in lacking if keys), None)
    return DicomSeries(
        *(folder, files, (len(files), rows, cols), (dz, dy, dx), affine, modality, _name(first)),
        unreferenced,
    )


def read_series(folder: str | os.PathLike, series: str | None = None) -> np.ndarray:
    """The series in ``folder`` (:func:`series_header`) as a (Z, Y, X) volume in its
    modality's units (Hounsfield units for CT: each slice's RescaleSlope and
    RescaleIntercept applied): int16 where they keep whole numbers within int16, else
    float32."""
    head = series_header(folder, series)
    pydicom = _pydicom(head.folder)
    planes = [_scaled(_dataset(pydicom, f), f) for f in head.files]
    kind = np.int16 if all(p.dtype.kind in "iu" for p in planes) else np.float32
    volume = np.stack(planes).astype(np.float32 if kind is np.float32 else np.int32)
    low, top = (float(volume.min(initial=0)), float(volume.max(initial=0)))
    if kind is np.int16 and not (low >= -32768 and top <= 32767):
        kind = np.float32
    return volume.astype(kind)


def _dataset(pydicom, path: Path, **how):
    """``pydicom.dcmread(path, **how)``; one line naming the file where pydicom cannot."""
    try:
        return pydicom.dcmread(path, **how)
    except (pydicom.errors.InvalidDicomError, EOFError, ValueError, KeyError) as exc:
        raise ImageReadError(f"{path}: {_first(exc)}: {EXPORT_AGAIN}") from exc


def _first(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _scaled(ds, path: Path) -> np.ndarray:
    """A slice's pixels by its slope and intercept: integers where both are whole numbers."""
    pixels = _pixels(ds, path)
    slope = float(ds.get("RescaleSlope", 1) or 1)
    inter = float(ds.get("RescaleIntercept", 0) or 0)
    if slope.is_integer() and inter.is_integer():
        return pixels.astype(np.int32) * int(slope) + int(inter)
    return pixels.astype(np.float32) * np.float32(slope) + np.float32(inter)


def _pixels(ds, path: Path) -> np.ndarray:
    """A slice's stored pixels; one line for a compressed one pydicom cannot decode here,
    or pixel data cut short."""
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    try:
        pixels = ds.pixel_array
    except RuntimeError as exc:  # pydicom: no plugin decodes this transfer syntax
        if syntax is None or not syntax.is_compressed:
            raise
        raise ImageReadError(
            f"{path}: compressed as {syntax.name}, which pydicom decodes only with a plugin "
            f"not installed here: {DECOMPRESS}"
        ) from exc
    except (ValueError, AttributeError) as exc:  # pydicom: pixel data short, no PixelData
        raise ImageReadError(f"{path}: {_first(exc)}: {EXPORT_AGAIN}") from exc
    if pixels.ndim != 2:
        raise ImageReadError(
            f"{path}: a slice of shape {pixels.shape} (colour or multi-frame); unetlab reads "
            "series of one grey frame a file, as CT and MR are exported"
        )
    return pixels


def _image_headers(folder: Path) -> list[tuple[Path, object]]:
    """(file, header) of the folder's DICOM images, by file name: files of another class
    (a report, a presentation state) passed over, said; one line for a damaged one."""
    pydicom = _pydicom(folder)
    names = _listing(folder).others
    files = [folder / n for n in names if is_dicom_file(folder / n)]
    heads = [(f, _dataset(pydicom, f, stop_before_pixels=True)) for f in files]
    if passed := [f"{f.name} ({kind})" for f, h in heads if (kind := _not_image(h))]:
        note_once(
            f"{folder}: {len(passed)} DICOM file(s) of no image passed over: "
            f"{', '.join(passed[:3])}{', ...' if len(passed) > 3 else ''}"
        )
    heads = [(f, h) for f, h in heads if not _not_image(h)]
    if not heads:
        raise ImageReadError(
            f"{folder}: holds no DICOM image ({len(names)} files): give the folder of one "
            "series' slice files (.dcm, or IM0001, ... without an ending)"
        )
    if cut := next((f for f, h in heads if "Rows" not in h), None):
        raise ImageReadError(
            f"{cut}: its header ends before its image's size (Rows): {EXPORT_AGAIN}"
        )
    if lacking := [k for k in GEOMETRY if any(k not in h for _, h in heads)]:
        where = next(f for f, h in heads if lacking[0] not in h)
        raise ImageReadError(
            f"{where}: a DICOM slice without {', '.join(lacking)}: not a cross-sectional "
            "series (a scout, a screenshot); give the folder of the CT or MR series"
        )
    return heads


def _not_image(head) -> str | None:
    """The name of the SOP class of a DICOM file that holds no image (a report, a
    presentation state, a structure set, a DICOMDIR); None for an image's or none said."""
    meta = getattr(head, "file_meta", None)
    uid = head.get("SOPClassUID") or (meta.get("MediaStorageSOPClassUID") if meta else None)
    if not uid or not uid.is_valid or uid.name == str(uid) or "Image Storage" in uid.name:
        return None
    return uid.name.removesuffix(" SOP Class")


def _uid(head) -> str:
    return str(head.get("SeriesInstanceUID", ""))


def _name(head) -> str:
    """A series as a user finds it in a viewer: its description, else its UID."""
    return str(head.get("SeriesDescription", "")).strip() or _uid(head)


def _picked(heads: list, folder: Path, series: str | None) -> list:
    """The headers of the one series of ``heads``, or of ``series`` (a UID, number or
    description); the several series named in one line where none is picked."""
    if series is not None:
        if picked := [(f, h) for f, h in heads if series in _keys(h)]:
            return picked
        raise ImageReadError(f"{folder}: no series {series!r}; it holds {_listed(heads)}")
    if len(uids := {_uid(h) for _, h in heads}) > 1:
        raise ImageReadError(
            f"{folder}: holds {len(uids)} DICOM series, {_listed(heads)}: move each "
            "series' files into a folder of its own (or pick one: read_series(folder, "
            "series='...'), its description, number or UID)"
        )
    return heads


def _keys(head) -> set[str]:
    """What picks a series: its UID, number and name."""
    return {_uid(head), str(head.get("SeriesNumber", "")), _name(head)}


def _listed(heads: list) -> str:
    """Each series as its number, description, UID and count of slices."""
    counts = Counter(_uid(h) for _, h in heads)
    first = {_uid(h): h for _, h in reversed(heads)}
    return ", ".join(
        f"{h.get('SeriesNumber', '?')} {_name(h)!r} ({counts[u]} slices, UID {u})"
        for u, h in sorted(first.items(), key=lambda uh: str(uh[1].get("SeriesNumber", "")))
    )


def _one_grid(heads: list, folder: Path) -> tuple[int, int]:
    """(rows, columns) the slices share, with one pixel spacing and orientation; else one
    line naming the sizes found."""
    grids = Counter(
        (int(h.Rows), int(h.Columns), _rounded(h.PixelSpacing), _rounded(h.ImageOrientationPatient))
        for _, h in heads
    )
    if len(grids) > 1:
        said = ", ".join(f"{n} of {r}x{c} at {s} mm" for (r, c, s, _), n in grids.items())
        raise ImageReadError(
            f"{folder}: its slices differ in size, pixel spacing or orientation ({said}): not "
            "one series; move each set of slices into a folder of its own"
        )
    (rows, cols, _, _), _ = grids.popitem()
    return rows, cols


def _rounded(values) -> tuple[float, ...]:
    return tuple(round(float(v), 4) for v in values)


def _normal(head) -> np.ndarray:
    """The slice normal: the row direction crossed with the column direction."""
    cosines = _cosines(head)
    return np.cross(cosines[:3], cosines[3:])


def _cosines(head) -> np.ndarray:
    """ImageOrientationPatient: the row direction, then the column direction (LPS)."""
    return np.asarray([float(v) for v in head.ImageOrientationPatient])


def _ordered(heads: list, folder: Path) -> tuple[np.ndarray, list[int]]:
    """(steps between neighbouring slices in mm, the slices' order along the normal)."""
    normal = _normal(heads[0][1])
    along = np.asarray([np.dot(_position(h), normal) for _, h in heads])
    order = [int(i) for i in np.argsort(along, kind="stable")]
    steps = np.diff(along[order])
    if len(steps) and steps.min() < 1e-3:
        i = int(np.argmin(steps))
        raise ImageReadError(
            f"{folder}: {heads[order[i]][0].name} and {heads[order[i + 1]][0].name} lie at the "
            f"same position ({along[order[i]]:.2f} mm along the normal): two acquisitions in "
            "one series; move each into a folder of its own"
        )
    return steps, order


def _position(head) -> np.ndarray:
    return np.asarray([float(v) for v in head.ImagePositionPatient])


def _slice_step(steps: np.ndarray, first, folder: Path) -> float:
    """The z spacing: the slices' common step (SliceThickness for one slice); one line for
    a gap (a step more than :data:`STEP_TOLERANCE` off the most common one)."""
    if not len(steps):
        return float(first.get("SliceThickness", 1) or 1)
    step = float(np.median(steps))
    off = np.abs(steps - step) > STEP_TOLERANCE * step
    if off.any():
        i = int(np.argmax(off))
        raise ImageReadError(
            f"{folder}: its slices are {step:.3g} mm apart but slices {i + 1} and {i + 2} (along "
            f"the normal) are {steps[i]:.3g} mm apart: {int(off.sum())} gap(s), slices missing "
            "from the export; export the whole series again from the PACS"
        )
    return step


def _affine(first, ordered: list, spacing: tuple[float, float, float]) -> np.ndarray:
    """Voxel (x, y, z) to RAS mm: the row and column directions by the pixel spacing, the
    step from the first slice to the last, the first's position."""
    dx, dy, dz = spacing
    cosines = _cosines(first)
    start = _position(ordered[0])
    if len(ordered) > 1:
        step = (_position(ordered[-1]) - start) / (len(ordered) - 1)
    else:
        step = _normal(first) * dz
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1], lps[:3, 2], lps[:3, 3] = cosines[:3] * dx, cosines[3:] * dy, step, start
    return LPS_TO_RAS @ lps


def _untilted(affine: np.ndarray, first, folder: Path) -> None:
    """One line for a series whose slices step off their normal (a CT gantry tilted): ITK,
    ITK-SNAP and 3D Slicer's NIfTI readers take a rotation (the qform), which cannot hold
    that shear, so labels written at its affine would land beside the series."""
    step = affine[:3, 2] * np.diag(LPS_TO_RAS)[:3]
    cos = abs(float(np.dot(step, _normal(first)))) / float(np.linalg.norm(step))
    tilt = float(np.degrees(np.arccos(min(1.0, cos))))
    if tilt > TILT_TOLERANCE:
        raise ImageReadError(
            f"{folder}: its slices step {tilt:.1f} degrees off their normal (a tilted CT "
            "gantry), on which NIfTI readers (ITK, ITK-SNAP, 3D Slicer) cannot place labels: "
            "resample it upright (dcm2niix does, writing a NIfTI volume that unetlab reads: "
            "segment and train on that; or 3D Slicer's DICOM 'acquisition geometry "
            "regularization', then save the volume as NIfTI)"
        )


def mask_geometry_line(series: DicomSeries, mask: str | os.PathLike) -> str | None:
    """Why the NIfTI label volume ``mask`` does not overlay ``series`` voxel for voxel (its
    size, or a corner of its grid landing :data:`CORNER_TOLERANCE` voxels or more from the
    series' same corner: an axis reversed, turned, rescaled or moved), as one line naming
    the fix; None where it does (3D Slicer and ITK-SNAP save a segmentation in its volume's
    geometry)."""
    head = read_header(mask)
    if head.size[:3] != series.shape:
        return (
            f"{mask}: a label volume of (Z, Y, X) {head.size[:3]} for the DICOM series "
            f"{series.folder.name}/ of {series.shape}: segment that series (3D Slicer, ITK-SNAP)"
        )
    off = corners_off(head.affine, series.affine, series.shape)
    if off < CORNER_TOLERANCE:
        return None
    off_axes = np.abs(head.affine - series.affine).max(axis=0) > 1e-3 * min(series.spacing)
    return (
        f"{mask}: its voxels do not lie on the DICOM series {series.folder.name}/'s (a "
        f"corner {off:.1f} voxels off: {_differences(head.affine, series.affine, off_axes)}): "
        "save the segmentation from 3D Slicer or ITK-SNAP over this series as it loads it "
        "from DICOM (it keeps the series' geometry), not from a converted or resampled copy"
    )


def mask_on_series(series: DicomSeries, mask: str | os.PathLike) -> str | None:
    """None where the NIfTI label volume ``mask`` lies on ``series`` voxel for voxel, or on
    its grid with axes reversed (dcm2niix writes rows bottom-up: y reversed against the
    DICOM's order, ITK's and 3D Slicer's, s72 review), then read reversed back onto it
    (:func:`onto_series`), said once; else :func:`mask_geometry_line`'s refusal."""
    if (line := mask_geometry_line(series, mask)) is None:
        return None
    head = read_header(mask)
    shape = series.shape
    if head.size[:3] != shape or (axes := reversed_axes(head.affine, series.affine, shape)) is None:
        return line
    _REVERSED[os.path.abspath(mask)] = (file_stamp(mask), axes)
    why = " (dcm2niix's convention: rows bottom-up)" if axes == (1,) else ""
    note_once(
        f"{mask}: the DICOM series {series.folder.name}/'s grid with {_named(axes)} reversed{why}: "
        "read reversed back onto the series"
    )
    return None


def onto_series(path: str | os.PathLike, volume: np.ndarray) -> np.ndarray:
    """``volume``, the NIfTI label volume ``path`` as read, reversed onto its DICOM series
    where :func:`mask_on_series` found it on the series' grid with axes reversed (while the
    file is unchanged); else ``volume`` itself."""
    axes = _reversed(path)
    return volume if axes is None else np.ascontiguousarray(np.flip(volume, axes))


def _reversed(path: str | os.PathLike) -> tuple[int, ...] | None:
    """The axes the label volume ``path`` is read reversed by (:func:`mask_on_series`), or
    None: none, or the file changed since."""
    held = _REVERSED.get(os.path.abspath(path))
    return None if held is None or held[0] != file_stamp(path) else held[1]


def off_grid_line(path: str | os.PathLike, truth: str | os.PathLike) -> str | None:
    """Why the NIfTI label volume ``path`` (a prediction) does not lie on the voxels of its
    NIfTI ground truth ``truth`` as read (:func:`onto_series`) (a corner of its grid
    :data:`CORNER_TOLERANCE` voxels or more off: each voxel would be scored against another
    place; s72 review: one saved with y reversed scored mIoU 0.93 unsaid), one line naming
    both; None where it does, or their sizes differ (said by their shapes)."""
    pred, gt = read_header(path), read_header(truth)
    shape = gt.size[:3]
    if pred.size[:3] != shape:
        return None
    if placeless := [str(f) for f, h in ((truth, gt), (path, pred)) if not places_grid(h.affine)]:
        return _no_grid_line(placeless[0])
    ours = gt.affine if (axes := _reversed(truth)) is None else flipped(gt.affine, axes, shape)
    if (off := corners_off(pred.affine, ours, shape)) < CORNER_TOLERANCE:
        return None
    axes = reversed_axes(pred.affine, ours, shape)
    how = f"{_named(axes)} reversed" if axes else "turned, moved or rescaled"
    return (
        f"{path}: its voxels do not lie on its ground truth {truth}'s (a corner {off:.1f} "
        f"voxels off: {how}): save the prediction in the ground truth's geometry (unetlab "
        "predict writes its input's: predict the image the ground truth was drawn on)"
    )


def _no_grid_line(path: str) -> str:
    """The refusal of a NIfTI volume ``path`` whose sform puts its voxels on no grid (a
    voxel size of 0: :func:`~unetlab.data.nifti_affine.places_grid`), so that whether a
    prediction lies on its ground truth cannot be told (s74: numpy's LinAlgError)."""
    return (
        f"{path}: its sform puts its voxels on no grid (a voxel size of 0), so whether the "
        "prediction lies on its ground truth's voxels cannot be told: save it again with the "
        "geometry of the image it was drawn on (nibabel: nib.Nifti1Image(labels, "
        "image.affine).to_filename(...))"
    )


def _named(axes: tuple[int, ...]) -> str:
    """Array axes (Z, Y, X) as their letters: ``y and x``."""
    return " and ".join("zyx"[a] for a in axes)


def _differences(theirs: np.ndarray, ours: np.ndarray, off: np.ndarray) -> str:
    """Which axes of ``theirs`` run the other way or otherwise than ``ours``, and whether the
    origin moved."""
    said = []
    for axis, letter in enumerate("xyz"):
        if off[axis]:
            reversed_ = np.allclose(theirs[:3, axis], -ours[:3, axis], atol=1e-3)
            said.append(f"{letter} {'reversed' if reversed_ else 'turned or rescaled'}")
    if off[3]:
        said.append(
            f"origin {np.round(theirs[:3, 3], 1)} mm, the series' {np.round(ours[:3, 3], 1)}"
        )
    return "; ".join(said)


def write_series_labels(
    path: str | os.PathLike, labels: np.ndarray, like: str | os.PathLike, *, key: str | None = None
):
    """Write ``labels`` (Z, Y, X) of the series in the folder ``like`` as a NIfTI-1 label
    volume ``path`` at its affine: it opens in 3D Slicer and ITK-SNAP over the series; its
    ``descrip`` the record ``key``, where given (:func:`~unetlab.data.nifti.write_labels_at`)."""
    head = series_header(like)
    if labels.shape != head.shape:
        raise ValueError(f"labels of shape {labels.shape} for a series of {head.shape}")
    return write_labels_at(path, labels, head.affine, key=key)


def series_pixel_size(folder: str | os.PathLike) -> tuple[tuple[float, float], float]:
    """((y, x) pixel size, z spacing) in µm of the series in ``folder``: its mm as µm."""
    dz, dy, dx = (float(f"{s * 1000:.7g}") for s in series_header(folder).spacing)
    return (dy, dx), dz
