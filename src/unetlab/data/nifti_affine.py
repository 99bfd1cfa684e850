"""A NIfTI-1 header's affine (voxel (x, y, z) to RAS mm) read and written: its sform where
its sform_code is set, else its qform (a quaternion, pixdim and qfac), else pixdim alone,
as nifti1.h orders them (https://nifti.nimh.nih.gov/pub/dist/src/niftilib/nifti1.h)."""

from __future__ import annotations

import struct

import numpy as np
from scipy.spatial.transform import Rotation

SCANNER = 1  # NIFTI_XFORM_SCANNER_ANAT: the coordinates are the scanner's (DICOM's)
MM = 2  # NIFTI_UNITS_MM in xyzt_units


def header_affine(raw: bytes, order: str) -> np.ndarray:
    """The 4x4 affine of the header bytes ``raw`` in byte order ``order``."""
    qcode, scode = struct.unpack_from(order + "2h", raw, 252)
    if scode > 0:
        rows = struct.unpack_from(order + "12f", raw, 280)
        return np.vstack([np.reshape(rows, (3, 4)), [0, 0, 0, 1]]).astype(np.float64)
    pixdim = struct.unpack_from(order + "4f", raw, 76)
    affine = np.diag([*pixdim[1:4], 1.0]).astype(np.float64)
    if qcode > 0:
        b, c, d, *offset = struct.unpack_from(order + "6f", raw, 256)
        a = np.sqrt(max(0.0, 1.0 - (b * b + c * c + d * d)))
        qfac = -1.0 if pixdim[0] < 0 else 1.0
        turn = Rotation.from_quat([b, c, d, a]).as_matrix()
        affine[:3, :3] = turn @ np.diag([pixdim[1], pixdim[2], qfac * pixdim[3]])
        affine[:3, 3] = offset
    return affine


def write_affine(raw: bytearray, order: str, affine: np.ndarray) -> None:
    """Set the header bytes ``raw``'s pixdim, qform, sform (both scanner's) and units (mm)
    to ``affine``'s (4x4, voxel to RAS mm; its columns at right angles, as DICOM's are
    where the gantry is not tilted: a tilted one's sform is exact, its qform near)."""
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    turn = affine[:3, :3] / spacing
    qfac = 1.0 if np.linalg.det(turn) > 0 else -1.0
    turn[:, 2] *= qfac
    u, _, vt = np.linalg.svd(turn)  # the nearest rotation: a tilt's columns are not at right angles
    x, y, z, w = Rotation.from_matrix(u @ vt).as_quat()
    if w < 0:  # nifti1.h: a >= 0
        x, y, z = -x, -y, -z
    struct.pack_into(order + "4f", raw, 76, qfac, *spacing)
    struct.pack_into(order + "2h", raw, 252, SCANNER, SCANNER)
    struct.pack_into(order + "6f", raw, 256, x, y, z, *affine[:3, 3])
    struct.pack_into(order + "12f", raw, 280, *affine[:3, :].ravel())
    raw[123] = MM
