"""nnU-Net's cases of several channel files: ``prostate_1_0000.nii.gz`` (T2) and
``prostate_1_0001.nii.gz`` (ADC) beside it are one image of two channels, read as
(Z, Y, X, C) in channel order, as nnU-Net stacks them. A case is named by its first channel
file (``_0000``), which stands for it in a folder's listing; the later ones are passed over
there (:func:`first_channels`). The channel files of a case must be of one grid: one shape
and one voxel size (co-registered, as nnU-Net requires).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from unetlab.data.nifti import (
    FIRST_CHANNEL,
    NiftiHeader,
    is_nifti,
    nifti_stem,
    read_header,
    read_volume,
)
from unetlab.errors import ImageReadError

#: nnU-Net's channel ending of an image file's name (``case_0000``): the case, the channel
CHANNEL = re.compile(r"(.+)_(\d{4})")
#: the fix of channel files that are not of one grid
ONE_GRID = (
    "resample the channels onto one grid (nnU-Net takes a case's channels co-registered: "
    "one shape and voxel size; SimpleITK's Resample with the _0000 image as reference)"
)


def channel_of(path: str | os.PathLike) -> tuple[str, int] | None:
    """(case, channel number) of an nnU-Net channel file's name (``x_0001.nii.gz``: x, 1);
    None for other files."""
    found = CHANNEL.fullmatch(nifti_stem(path)) if is_nifti(path) else None
    return (found.group(1), int(found.group(2))) if found else None


def channel_files(path: str | os.PathLike) -> list[Path]:
    """The channel files of the case whose first channel file is ``path``
    (``x_0000.nii.gz``): it, then ``x_0001``, ``x_0002``, ... beside it of its ending, in
    order, up to the first missing; ``[path]`` for other files (one stat of a lone one)."""
    path = Path(path)
    if not nifti_stem(path).endswith(FIRST_CHANNEL) or channel_of(path) is None:
        return [path]
    base, ending = path.name[: -len(FIRST_CHANNEL) - len(_ending(path))], _ending(path)
    files = [path]
    while (later := path.with_name(f"{base}_{len(files):04d}{ending}")).is_file():
        files.append(later)
    return files


def _ending(path: Path) -> str:
    return path.name[len(nifti_stem(path)) :]


def first_channels(files: list[Path], problems: list[str] | None = None) -> list[Path]:
    """``files`` (a folder's listing) less the later channel files (``x_0001.nii.gz``) of
    the cases whose first channel file (``x_0000``) is among them. A channel file its case
    does not reach (``_0000`` and ``_0002``, no ``_0001``): its line, naming the case and the
    fix, added to ``problems``, or where none are gathered ImageReadError."""
    firsts = {channel_of(f)[0]: f for f in files if (channel_of(f) or ("", 1))[1] == 0}
    reached: dict[str, set[Path]] = {}  # each case's channel files, found once
    kept = []
    for f in files:
        case, number = channel_of(f) or ("", 0)
        if number == 0 or case not in firsts:
            kept.append(f)
            continue
        if case not in reached:
            reached[case] = set(channel_files(firsts[case]))
        if f in reached[case]:
            continue
        if problems is None:
            raise ImageReadError(_gap_line(firsts[case], f))
        problems.append(_gap_line(firsts[case], f))
    return kept


def _gap_line(first: Path, stray: Path) -> str:
    have = ", ".join(f"_{channel_of(f)[1]:04d}" for f in channel_files(first))
    wanted = f"_{len(channel_files(first)):04d}"
    return (
        f"{stray}: a channel file of case {channel_of(first)[0]}, whose channels run "
        f"{have} and stop (no {wanted}{_ending(first)}): add the missing channel file, or "
        f"number the case's channels from _0000 without a gap"
    )


def case_headers(path: str | os.PathLike) -> list[NiftiHeader]:
    """The headers of the channel files of ``path``'s case (:func:`channel_files`), checked
    to be of one grid: each a 3-D volume, all of one shape and voxel size; ImageReadError
    naming the case and the fix where not."""
    files = channel_files(path)
    heads = [read_header(f) for f in files]
    if len(files) == 1:
        return heads
    case = channel_of(path)[0]
    for f, head in zip(files, heads):
        if head.size[3] != 1:
            raise ImageReadError(
                f"{f}: a channel file of case {case} holding {head.size[3]} volumes; save each "
                "channel as a 3-D volume of its own (_0000, _0001, ...), or all as one 4-D volume"
            )
        for what, mine, first in _grid(head, heads[0]):
            if mine != first:
                raise ImageReadError(
                    f"{files[0]}: the channel files of case {case} differ in {what}: {files[0].name} "
                    f"{first}, {f.name} {mine}; {ONE_GRID}"
                )
    return heads


def _grid(head: NiftiHeader, first: NiftiHeader):
    """(what, this file's, the first file's) of the two things channel files share."""
    size = lambda h: "x".join(map(str, h.shape[:3]))  # noqa: E731
    spacing = lambda h: "x".join(f"{s:.4g}" for s in h.spacing[: len(h.shape)])  # noqa: E731
    yield "shape (x, y, z)", size(head), size(first)
    yield "voxel size (pixdim)", spacing(head), spacing(first)


def case_size(path: str | os.PathLike) -> tuple[int, int, int, int]:
    """(slices, H, W, channels) of ``path``'s case as :func:`read_case` gives it, from the
    headers alone."""
    heads = case_headers(path)
    z, y, x, channels = heads[0].size
    return z, y, x, channels * len(heads)


def read_case(path: str | os.PathLike, *, mask: bool = False) -> np.ndarray:
    """The image of ``path``'s case: its channel files (:func:`case_headers`) read and
    stacked as (Z, Y, X, C), of their common type; ``path`` alone where it is no first
    channel file of several, and a ``mask`` always (label volumes have no channels)."""
    files = channel_files(path)
    if mask or len(files) == 1:  # no header read twice
        return read_volume(path, mask=mask)
    case_headers(path)  # of one grid, or refused
    return np.stack([read_volume(f) for f in files], axis=-1)
