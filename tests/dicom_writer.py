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
    description: str = "AX 2.5mm",
    number: int = 2,
    names: str = "IM{:04d}",
    seed: int = 0,
    skip: tuple[int, ...] = (),
    syntax: str | None = None,
    uid: str | None = None,
) -> list[Path]:
    """Write the (Z, Y, X) Hounsfield units ``hu`` as one series, a file a slice named
    ``names`` in shuffled order (file 1 is not slice 1), slice k at z origin + k * dz;
    ``skip``: slices left out (a gap); ``uid``: the SeriesInstanceUID (a new one). The files,
    slice order."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series_uid, study_uid = uid or generate_uid(), generate_uid()
    numbers = list(range(1, len(hu) + 1))
    random.Random(seed).shuffle(numbers)
    files = []
    for k, plane in enumerate(hu):
        if k in skip:
            continue
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT_IMAGE
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = syntax or ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CT_IMAGE, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.SeriesDescription, ds.SeriesNumber = "CT", description, number
        ds.SeriesInstanceUID, ds.StudyInstanceUID = series_uid, study_uid
        ds.InstanceNumber = numbers[k]
        ds.ImagePositionPatient = [origin[0], origin[1], origin[2] + k * spacing[0]]
        ds.ImageOrientationPatient = list(ORIENTATION)
        ds.PixelSpacing = [spacing[1], spacing[2]]
        ds.SliceThickness = spacing[0]
        ds.Rows, ds.Columns = plane.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.PixelData = (plane.astype(np.int32) + 1024).astype("<i2").tobytes()
        path = folder / names.format(numbers[k])
        save(ds, path)
        files.append(path)
    return files


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
