"""Synthetic DICOM CT series written with pydicom (the tests' own; no PACS data): int16
slices stored with RescaleSlope 1 and RescaleIntercept -1024, as CT scanners store HU."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"  # CT Image Storage
ORIENTATION = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)  # axial: rows along x, columns along y (LPS)


def write_series(
    folder: Path,
    hu: np.ndarray,
    *,
    spacing=(2.5, 0.7, 0.8),
    origin=(-20.0, -30.0, 100.0),
    orientation=ORIENTATION,
    step=None,
    rescale=(1, -1024),
    description: str = "AX 2.5mm",
    number: int = 2,
    names: str = "IM{:04d}",
    seed: int = 0,
    skip: tuple[int, ...] = (),
    syntax: str | None = None,
    uid: str | None = None,
) -> list[Path]:
    """Write the (Z, Y, X) Hounsfield units ``hu`` as one series, a file a slice named
    ``names`` in shuffled order (file 1 is not slice 1), slice k at origin + k * ``step``
    (LPS mm; by default dz along the normal of ``orientation``), stored as (hu - intercept)
    / slope of ``rescale``; ``skip``: slices left out (a gap); ``uid``: the
    SeriesInstanceUID (a new one). The files, slice order."""
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    cosines = np.asarray(orientation, np.float64)
    if step is None:
        step = np.cross(cosines[:3], cosines[3:]) * spacing[0]
    common = dict(
        uids=(uid or generate_uid(), generate_uid(), generate_uid()),  # series, study, frame
        orientation=list(orientation),
        spacing=spacing,
        rescale=rescale,
        syntax=syntax,
        series=(description, number),
    )
    numbers = list(range(1, len(hu) + 1))
    random.Random(seed).shuffle(numbers)
    files = []
    for k, plane in enumerate(hu):
        if k not in skip:
            where = np.asarray(origin, np.float64) + k * np.asarray(step, np.float64)
            ds = slice_dataset(plane, [float(v) for v in where], numbers[k], **common)
            save(ds, folder / names.format(numbers[k]))
            files.append(folder / names.format(numbers[k]))
    return files


def slice_dataset(plane, position, number, *, uids, orientation, spacing, rescale, syntax, series):
    """One CT slice as a pydicom Dataset (CT Image Storage, int16 stored values)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_IMAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax or ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CT_IMAGE, meta.MediaStorageSOPInstanceUID
    ds.Modality, (ds.SeriesDescription, ds.SeriesNumber) = "CT", series
    ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.FrameOfReferenceUID = uids
    ds.InstanceNumber = number
    ds.ImagePositionPatient = position
    ds.ImageOrientationPatient = orientation
    ds.PixelSpacing = [spacing[1], spacing[2]]
    ds.SliceThickness = spacing[0]
    ds.Rows, ds.Columns = plane.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = rescale
    stored = np.rint((plane.astype(np.float64) - rescale[1]) / rescale[0])
    ds.PixelData = stored.astype("<i2").tobytes()
    return ds


def save(ds, path: Path) -> None:
    """Write ``ds`` as a DICOM file (preamble, DICM, file meta) with pydicom 2.4 or 3."""
    import pydicom

    if int(pydicom.__version__.split(".")[0]) >= 3:
        ds.save_as(path, enforce_file_format=True)
    else:  # 2.4: the same, spelt as it was
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.save_as(path, write_like_original=False)


def ct_volume(slices: int = 8, size: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(HU, labels) of a small CT: air around a soft-tissue disc (40 HU) holding a brighter
    organ (class 1, 80 HU), each slice different."""
    rng = np.random.default_rng(seed)
    z, y, x = np.mgrid[:slices, :size, :size]
    body = (y - size / 2) ** 2 + (x - size / 2) ** 2 < (0.4 * size) ** 2
    organ = (y - size / 2) ** 2 + (x - size / 2 - z) ** 2 < (0.15 * size) ** 2
    hu = np.where(body, 40, -1000) + np.where(organ, 40, 0) + rng.integers(-5, 6, z.shape)
    return hu.astype(np.int16), organ.astype(np.uint8)
