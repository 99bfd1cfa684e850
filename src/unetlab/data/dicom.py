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

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unetlab.errors import ImageReadError

#: the line a user whose data is DICOM reads where pydicom is not installed
NEEDS_PYDICOM = "reading DICOM needs pydicom: pip install 'unetlab[dicom]'"
MAGIC_AT = 128  # a DICOM file (Part 10): a 128-byte preamble, then b"DICM"
LOOKED_AT = 3  # files of a folder opened to tell a series folder from another
#: how far (a share of the slice spacing) slice steps may differ before a gap is said
STEP_TOLERANCE = 0.1
#: the one line's fix for a compressed series pydicom has no plugin for
DECOMPRESS = (
    "pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg (pydicom's decoders), or "
    "save the series uncompressed (gdcmconv --raw IN OUT; dcmdjpeg IN OUT)"
)
#: the attributes a slice's place in the volume is read from
GEOMETRY = ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing")
#: (x, y, z) of LPS as RAS: NIfTI's world negates DICOM's first two axes
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def is_dicom_file(path: str | os.PathLike) -> bool:
    """True for a DICOM file (Part 10: ``DICM`` after its 128-byte preamble), whatever its
    name (``IM0001``, ``1.2.840....dcm``); reads 132 bytes, no pydicom."""
    try:
        with open(path, "rb") as f:
            return f.read(MAGIC_AT + 4)[MAGIC_AT:] == b"DICM"
    except OSError:
        return False


def is_dicom_series(folder: str | os.PathLike) -> bool:
    """True for a folder whose first files (by name, hidden ones and ``DICOMDIR`` passed
    over) include a DICOM file: a series folder."""
    folder = Path(folder)
    if not folder.is_dir():
        return False
    files = sorted(f for f in folder.iterdir() if _slice_named(f.name) and f.is_file())
    return any(is_dicom_file(f) for f in files[:LOOKED_AT])


def _slice_named(name: str) -> bool:
    return not name.startswith(".") and name.upper() != "DICOMDIR"


def _pydicom(where: Path):
    try:
        import pydicom
    except ImportError as exc:
        raise ImageReadError(f"{where}: {NEEDS_PYDICOM}") from exc
    return pydicom


@dataclass(frozen=True)
class DicomSeries:
    """What unetlab uses of a series' headers: ``files`` its slices in volume order;
    ``shape`` (Z, Y, X); ``spacing`` (z, y, x) in mm; ``affine`` 4x4 of voxel (x, y, z) to
    RAS mm; ``modality`` ('CT', 'MR', ...); ``name`` its description or UID."""

    folder: Path
    files: tuple[Path, ...]
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    affine: np.ndarray
    modality: str
    name: str


def series_header(folder: str | os.PathLike, series: str | None = None) -> DicomSeries:
    """The :class:`DicomSeries` of ``folder`` from its files' headers (no pixels read);
    ``series``: the one of several series in the folder of that SeriesInstanceUID,
    SeriesNumber or SeriesDescription. ImageReadError, one line, for a folder of several
    series and none picked, of slices of mixed sizes or orientations, or with a gap."""
    folder = Path(folder)
    heads = _picked(_image_headers(folder), folder, series)
    first = heads[0][1]
    rows, cols = _one_grid(heads, folder)
    steps, order = _ordered(heads, folder)
    dy, dx = (float(s) for s in first.PixelSpacing)
    dz = _slice_step(steps, first, folder)
    affine = _affine(first, [heads[i][1] for i in order], (dx, dy, dz))
    files = tuple(heads[i][0] for i in order)
    modality = str(first.get("Modality", ""))
    return DicomSeries(
        folder, files, (len(files), rows, cols), (dz, dy, dx), affine, modality, _name(first)
    )


def read_series(folder: str | os.PathLike, series: str | None = None) -> np.ndarray:
    """The series in ``folder`` (:func:`series_header`) as a (Z, Y, X) volume in its
    modality's units (Hounsfield units for CT: each slice's RescaleSlope and
    RescaleIntercept applied): int16 where they keep whole numbers within int16, else
    float32."""
    head = series_header(folder, series)
    pydicom = _pydicom(head.folder)
    planes = [_scaled(pydicom.dcmread(f), f) for f in head.files]
    kind = np.int16 if all(p.dtype.kind in "iu" for p in planes) else np.float32
    volume = np.stack(planes).astype(np.float32 if kind is np.float32 else np.int32)
    low, top = (float(volume.min(initial=0)), float(volume.max(initial=0)))
    if kind is np.int16 and not (low >= -32768 and top <= 32767):
        kind = np.float32
    return volume.astype(kind)


def _scaled(ds, path: Path) -> np.ndarray:
    """A slice's pixels by its slope and intercept: integers where both are whole numbers."""
    pixels = _pixels(ds, path)
    slope = float(ds.get("RescaleSlope", 1) or 1)
    inter = float(ds.get("RescaleIntercept", 0) or 0)
    if slope.is_integer() and inter.is_integer():
        return pixels.astype(np.int32) * int(slope) + int(inter)
    return pixels.astype(np.float32) * np.float32(slope) + np.float32(inter)


def _pixels(ds, path: Path) -> np.ndarray:
    """A slice's stored pixels; one line for a compressed one pydicom cannot decode here."""
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
    if pixels.ndim != 2:
        raise ImageReadError(
            f"{path}: a slice of shape {pixels.shape} (colour or multi-frame); unetlab reads "
            "series of one grey frame a file, as CT and MR are exported"
        )
    return pixels


def _image_headers(folder: Path) -> list[tuple[Path, object]]:
    """(file, header) of the folder's DICOM images (files with Rows: not a DICOMDIR, report
    or presentation state), by file name."""
    if not folder.is_dir():
        raise ImageReadError(f"{folder}: no such folder (a DICOM series is a folder)")
    pydicom = _pydicom(folder)
    names = sorted(f for f in folder.iterdir() if _slice_named(f.name) and f.is_file())
    files = [f for f in names if is_dicom_file(f)]
    heads = [(f, pydicom.dcmread(f, stop_before_pixels=True)) for f in files]
    heads = [(f, h) for f, h in heads if "Rows" in h]
    if not heads:
        raise ImageReadError(
            f"{folder}: holds no DICOM image ({len(names)} files): give the folder of one "
            "series' slice files (.dcm, or IM0001, ... without an ending)"
        )
    if lacking := [k for k in GEOMETRY if any(k not in h for _, h in heads)]:
        where = next(f for f, h in heads if lacking[0] not in h)
        raise ImageReadError(
            f"{where}: a DICOM slice without {', '.join(lacking)}: not a cross-sectional "
            "series (a scout, a screenshot); give the folder of the CT or MR series"
        )
    return heads


def _uid(head) -> str:
    return str(head.get("SeriesInstanceUID", ""))


def _name(head) -> str:
    """A series as a user finds it in a viewer: its description, else its UID."""
    return str(head.get("SeriesDescription", "")).strip() or _uid(head)


def _picked(heads: list, folder: Path, series: str | None) -> list:
    """The headers of the one series of ``heads``, or of ``series`` (a UID, number or
    description); the several series named in one line where none is picked."""
    if series is not None:
        keys = lambda h: {_uid(h), str(h.get("SeriesNumber", "")), _name(h)}  # noqa: E731
        if picked := [(f, h) for f, h in heads if series in keys(h)]:
            return picked
        raise ImageReadError(f"{folder}: no series {series!r}; it holds {_listed(heads)}")
    if len(uids := {_uid(h) for _, h in heads}) > 1:
        raise ImageReadError(
            f"{folder}: holds {len(uids)} DICOM series, {_listed(heads)}: move each "
            "series' files into a folder of its own (or pick one: read_series(folder, "
            "series='...'), its description, number or UID)"
        )
    return heads


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
    cosines = np.asarray([float(v) for v in head.ImageOrientationPatient])
    return np.cross(cosines[:3], cosines[3:])


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
    step from the first slice to the last (a tilted gantry's too), the first's position."""
    dx, dy, dz = spacing
    cosines = np.asarray([float(v) for v in first.ImageOrientationPatient])
    start = _position(ordered[0])
    if len(ordered) > 1:
        step = (_position(ordered[-1]) - start) / (len(ordered) - 1)
    else:
        step = _normal(first) * dz
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1], lps[:3, 2], lps[:3, 3] = cosines[:3] * dx, cosines[3:] * dy, step, start
    return LPS_TO_RAS @ lps


def mask_geometry_line(series: DicomSeries, mask: str | os.PathLike) -> str | None:
    """Why the NIfTI label volume ``mask`` does not overlay ``series`` voxel for voxel (its
    size, or its affine off by more than a tenth of a voxel: an axis reversed or moved), as
    one line naming the fix; None where it does (3D Slicer and ITK-SNAP save a
    segmentation in its volume's geometry)."""
    from unetlab.data.nifti import read_header  # nifti reads no DICOM

    head = read_header(mask)
    if head.size[:3] != series.shape:
        return (
            f"{mask}: a label volume of (Z, Y, X) {head.size[:3]} for the DICOM series "
            f"{series.folder.name}/ of {series.shape}: segment that series (3D Slicer, ITK-SNAP)"
        )
    tolerance = 0.1 * min(series.spacing)
    off = np.abs(head.affine - series.affine).max(axis=0) > tolerance
    if not off.any():
        return None
    return (
        f"{mask}: its voxels do not lie on the DICOM series {series.folder.name}/'s "
        f"({_differences(head.affine, series.affine, off)}): save the segmentation from 3D "
        "Slicer or ITK-SNAP over this series as it loads it from DICOM (it keeps the series' "
        "geometry), not from a converted or resampled copy"
    )


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


def write_series_labels(path: str | os.PathLike, labels: np.ndarray, like: str | os.PathLike):
    """Write ``labels`` (Z, Y, X) of the series in the folder ``like`` as a NIfTI-1 label
    volume ``path`` at its affine: it opens in 3D Slicer and ITK-SNAP over the series."""
    from unetlab.data.nifti import write_labels_at  # nifti reads no DICOM

    head = series_header(like)
    if labels.shape != head.shape:
        raise ValueError(f"labels of shape {labels.shape} for a series of {head.shape}")
    return write_labels_at(path, labels, head.affine)


def series_folders(folder: str | os.PathLike) -> list[Path]:
    """The sub-folders of ``folder`` that are DICOM series (:func:`is_dicom_series`), by name."""
    return sorted(d for d in Path(folder).iterdir() if d.is_dir() and is_dicom_series(d))


def series_pixel_size(folder: str | os.PathLike) -> tuple[tuple[float, float], float]:
    """((y, x) pixel size, z spacing) in µm of the series in ``folder``: its mm as µm."""
    dz, dy, dx = (float(f"{s * 1000:.7g}") for s in series_header(folder).spacing)
    return (dy, dx), dz
