"""A NIfTI-1 header's affine (voxel (x, y, z) to RAS mm) read and written: its sform where
its sform_code is set, else its qform (a quaternion, pixdim and qfac), else pixdim alone,
as nifti1.h orders them (https://nifti.nimh.nih.gov/pub/dist/src/niftilib/nifti1.h)."""

from __future__ import annotations

import struct
from itertools import combinations

import numpy as np

SCANNER = 1  # NIFTI_XFORM_SCANNER_ANAT: the coordinates are the scanner's (DICOM's)
MM = 2  # NIFTI_UNITS_MM in xyzt_units
#: how far (voxels) a grid's corner may land from another's before they are two grids:
#: within half a voxel every label lands in the voxel it was drawn in
CORNER_TOLERANCE = 0.5
#: the gantry tilt (degrees between the slice step and the slice normal) beyond which a
#: DICOM series is refused (the NIfTI qform, a rotation that ITK and ITK-SNAP read,
#: misplaces its labels) and a NIfTI volume's z spacing is its planes' distance
TILT_TOLERANCE = 0.1


def header_affine(raw: bytes, order: str) -> np.ndarray:
    """The 4x4 affine of the header bytes ``raw`` in byte order ``order``; a pixdim of 0 (no
    voxel size) taken as 1 where its qform or pixdim alone gives it, as nibabel reads it
    (its sform is taken as written: :func:`places_grid`)."""
    qcode, scode = struct.unpack_from(order + "2h", raw, 252)
    if scode > 0:
        rows = struct.unpack_from(order + "12f", raw, 280)
        return np.vstack([np.reshape(rows, (3, 4)), [0, 0, 0, 1]]).astype(np.float64)
    pixdim = struct.unpack_from(order + "4f", raw, 76)
    step = [s if s != 0 else 1.0 for s in pixdim[1:4]]  # nibabel's "setting 0 dims to 1"
    affine = np.diag([*step, 1.0]).astype(np.float64)
    if qcode > 0:
        b, c, d, *offset = struct.unpack_from(order + "6f", raw, 256)
        a = np.sqrt(max(0.0, 1.0 - (b * b + c * c + d * d)))
        qfac = -1.0 if pixdim[0] < 0 else 1.0
        turn = quaternion_turn(a, b, c, d)
        affine[:3, :3] = turn @ np.diag([step[0], step[1], qfac * step[2]])
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
    _, x, y, z = turn_quaternion(u @ vt)
    struct.pack_into(order + "4f", raw, 76, qfac, *spacing)
    struct.pack_into(order + "2h", raw, 252, SCANNER, SCANNER)
    struct.pack_into(order + "6f", raw, 256, x, y, z, *affine[:3, 3])
    struct.pack_into(order + "12f", raw, 280, *affine[:3, :].ravel())
    raw[123] = MM


def quaternion_turn(a: float, b: float, c: float, d: float) -> np.ndarray:
    """The 3x3 rotation of the unit quaternion (a, b, c, d), as nifti1.h's quatern_to_mat44
    (numpy: scipy's Rotation cost every command 150 ms of imports, s72 review)."""
    return np.array(
        [
            [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
            [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
            [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
        ]
    )


def turn_quaternion(turn: np.ndarray) -> tuple[float, float, float, float]:
    """(a, b, c, d) of the 3x3 rotation ``turn``, a >= 0, as nifti1.h's mat44_to_quatern:
    from its largest diagonal term, for precision."""
    (r11, r12, r13), (r21, r22, r23), (r31, r32, r33) = np.asarray(turn, np.float64)
    if (trace := r11 + r22 + r33 + 1.0) > 0.5:
        a = 0.5 * np.sqrt(trace)
        q = (a, 0.25 * (r32 - r23) / a, 0.25 * (r13 - r31) / a, 0.25 * (r21 - r12) / a)
    elif (xd := 1.0 + r11 - (r22 + r33)) > 1.0:
        b = 0.5 * np.sqrt(xd)
        q = (0.25 * (r32 - r23) / b, b, 0.25 * (r12 + r21) / b, 0.25 * (r13 + r31) / b)
    elif (yd := 1.0 + r22 - (r11 + r33)) > 1.0:
        c = 0.5 * np.sqrt(yd)
        q = (0.25 * (r13 - r31) / c, 0.25 * (r12 + r21) / c, c, 0.25 * (r23 + r32) / c)
    else:
        d = 0.5 * np.sqrt(1.0 + r33 - (r11 + r22))
        q = (0.25 * (r21 - r12) / d, 0.25 * (r13 + r31) / d, 0.25 * (r23 + r32) / d, d)
    return tuple(float(v) for v in (q if q[0] >= 0 else np.negative(q)))


def slice_tilt(affine: np.ndarray) -> float:
    """The angle (degrees) between ``affine``'s slice step (its z column) and its planes'
    normal (its x column cross its y): 0 where the step is upright, more where it leans (a
    tilted CT gantry: a sheared sform); 0 for an affine of no planes."""
    m = np.asarray(affine, np.float64)[:3, :3]
    normal = np.cross(m[:, 0], m[:, 1])
    size = float(np.linalg.norm(normal) * np.linalg.norm(m[:, 2]))
    if not size > 0 or not np.isfinite(size):
        return 0.0
    return float(np.degrees(np.arccos(min(1.0, abs(float(normal @ m[:, 2])) / size))))


def places_grid(affine: np.ndarray) -> bool:
    """Whether the 4x4 ``affine`` puts its voxels on a grid of space: its 3x3 part finite and
    invertible (not so a sform written with a voxel size of 0: every voxel on one plane)."""
    m = np.asarray(affine, np.float64)[:3, :3]
    return bool(np.isfinite(m).all() and np.linalg.det(m) != 0)


def corners_off(theirs: np.ndarray, ours: np.ndarray, shape: tuple[int, int, int]) -> float:
    """How far (in voxels of ``ours``, the most of any axis) the 8 corners of a grid of
    ``shape`` (Z, Y, X) land at ``theirs`` from where they land at ``ours`` (4x4 affines)."""
    z, y, x = (n - 1 for n in shape)
    corners = np.array(np.meshgrid([0, x], [0, y], [0, z], [1], indexing="ij")).reshape(4, -1)
    moved = np.linalg.solve(ours, theirs @ corners)
    return float(np.abs(moved - corners)[:3].max())


def reversed_axes(
    theirs: np.ndarray, ours: np.ndarray, shape: tuple[int, int, int]
) -> tuple[int, ...] | None:
    """The axes of a (Z, Y, X) array of ``shape`` on the grid of ``theirs`` that reversed
    (``np.flip``) put it on the grid of ``ours`` (4x4 affines; every corner within
    :data:`CORNER_TOLERANCE` voxels), fewest first; () where it lies on it already; None
    where no reversal does (a grid turned, moved or rescaled)."""
    for count in range(4):
        for axes in combinations(range(3), count):
            if corners_off(flipped(theirs, axes, shape), ours, shape) < CORNER_TOLERANCE:
                return axes
    return None


def flipped(affine: np.ndarray, axes: tuple[int, ...], shape: tuple[int, int, int]) -> np.ndarray:
    """The affine of a (Z, Y, X) array of ``shape`` at ``affine`` once its ``axes`` are
    reversed (``np.flip``): each one's column negated, the origin at its far end."""
    flip = np.eye(4)
    for axis in axes:  # array axis Z, Y, X: affine column z, y, x
        flip[2 - axis, 2 - axis], flip[2 - axis, 3] = -1.0, shape[axis] - 1
    return affine @ flip
