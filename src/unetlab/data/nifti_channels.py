"""nnU-Net's cases of several channel files: ``prostate_1_0000.nii.gz`` (T2) and
``prostate_1_0001.nii.gz`` (ADC) beside it are one image of two channels, read as
(Z, Y, X, C) in channel order, as nnU-Net stacks them. Only in a channel folder
(:func:`channel_folder`: its dataset.json, or its data set's, names two channels or more);
elsewhere a file numbered ``_0000``, ``_0001`` (a series, label volumes) is an image alone,
as any file is. A case is named by its first channel file (``_0000``), which stands for it
in a folder's listing; the later ones are passed over there (:func:`first_channels`). The
channel files of a case must be of one grid: one shape and one voxel size (co-registered, as
nnU-Net requires), and as many as the channel names.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np

from unetlab.data.dataset_json import DATASET_JSON, folder_channels
from unetlab.data.nifti import (
    FIRST_CHANNEL,
    NiftiHeader,
    case_channel,
    is_nifti,
    nifti_stem,
    read_header,
    read_volume,
)
from unetlab.errors import ImageReadError
from unetlab.words import numbered

#: the fix of channel files that are not of one grid
ONE_GRID = (
    "resample the channels onto one grid (nnU-Net takes a case's channels co-registered: "
    "one shape and voxel size; SimpleITK's Resample with the _0000 image as reference)"
)


def channel_of(path: str | os.PathLike) -> tuple[str, int] | None:
    """(case, channel number) of an nnU-Net channel file's name (``x_0001.nii.gz``: x, 1);
    None for other files."""
    found = case_channel(nifti_stem(path)) if is_nifti(path) else None
    return (found[0], int(found[1])) if found else None


def channel_folder(folder: str | os.PathLike) -> bool:
    """Whether ``folder``'s files ``x_0000``, ``x_0001``, ... are the channel files of one
    case x: its dataset.json, or its data set's (``imagesTs/..``), names two channels or
    more (:func:`~unetlab.data.dataset_json.folder_channels`)."""
    return len(folder_channels(folder) or ()) > 1


def nifti_ending(path: str | os.PathLike) -> str:
    """The ending of a NIfTI volume's name: ``.nii.gz`` of ``x_0000.nii.gz``."""
    return Path(path).name[len(nifti_stem(path)) :]


def channel_files(path: str | os.PathLike) -> list[Path]:
    """The channel files of the case whose first channel file is ``path``
    (``x_0000.nii.gz`` of a :func:`channel_folder`): it, then ``x_0001``, ``x_0002``, ...
    beside it of its ending, in order, up to the first missing; ``[path]`` for other files.
    ImageReadError for a later channel file there (``x_0001``): its case is read by its
    first, named in the line (:func:`stray_line`)."""
    return _case(Path(path))[0]


def _case(path: Path) -> tuple[list[Path], list[str] | None]:
    """(:func:`channel_files`, the channel names of its channel folder or None)."""
    found = channel_of(path)
    if found is not None and found[1] != 0 and channel_folder(path.parent):
        raise ImageReadError(stray_line(path))
    if found is None or found[1] != 0 or (named := _named_channels(path)) is None:
        return [path], None
    base, ending = path.name[: -len(FIRST_CHANNEL) - len(nifti_ending(path))], nifti_ending(path)
    files = [path]
    while (later := path.with_name(f"{base}_{len(files):04d}{ending}")).is_file():
        files.append(later)
    return files, named


def first_channels(files: list[Path], problems: list[str] | None = None) -> list[Path]:
    """``files`` (a listing) less the later channel files (``x_0001.nii.gz``) of the cases
    whose first channel file (``x_0000``) is among them, in channel folders. A later one its
    case does not reach (after a gap, or its first not given): kept, its read refused in one
    line (:func:`channel_files`), or with ``problems`` its line added there and it left out."""
    nifti = [f for f in files if is_nifti(f)]  # none of 20,000 PNGs looked at again
    folders = {f.parent for f in nifti}
    grouped = {folder for folder in folders if channel_folder(folder)}
    numbered_files = {f: found for f in nifti if f.parent in grouped and (found := channel_of(f))}
    firsts = [f for f, (_, number) in numbered_files.items() if number == 0]
    reached = {later for first in firsts for later in channel_files(first)[1:]}
    strays = [f for f, (_, number) in numbered_files.items() if number and f not in reached]
    if problems is not None:
        problems += [stray_line(f) for f in strays]
        reached.update(strays)
    return [f for f in files if f not in reached] if reached else files


def stray_line(later: Path) -> str:
    """The line for a later channel file (``x_0002.nii.gz``) read or listed without the
    case its first channel file (``x_0000``) reads: named, with the fix."""
    case, number = channel_of(later)
    first = next(
        (f for f in later.parent.glob(f"{glob.escape(case)}_0000.*") if channel_of(f)), None
    )
    if first is None:
        return (
            f"{later}: channel {number} of case {case}, which has no first channel file "
            f"{case}{FIRST_CHANNEL}{nifti_ending(later)}: add it, or number the case's channel "
            "files from _0000"
        )
    if nifti_ending(first) != nifti_ending(later):
        return (
            f"{later}: a channel file of case {case} of another ending than {first.name}: "
            f"give the case's channel files one ending ({nifti_ending(first)})"
        )
    files = channel_files(first)
    if number < len(files):  # its case reaches it: given alone
        return (
            f"{later}: channel {number} of case {case}, read with its first channel file "
            f"{first.name}: give that file (or the folder), which reads its {len(files)} channels"
        )
    return (
        f"{later}: a channel file of case {case}, whose channels run "
        f"{', '.join(f'_{i:04d}' for i in range(len(files)))} and stop (no "
        f"{case}_{len(files):04d}{nifti_ending(first)}): add the missing channel file, or "
        "number the case's channels from _0000 without a gap"
    )


def case_headers(path: str | os.PathLike) -> list[NiftiHeader]:
    """The headers of the channel files of ``path``'s case (:func:`channel_files`), checked
    to be of one grid (each a 3-D volume, all of one shape and voxel size) and, in a channel
    folder, as many channels as its dataset.json names; ImageReadError naming the case and
    the fix where not."""
    files, named = _case(Path(path))
    heads = [read_header(f) for f in files]
    if len(files) > 1:
        _refuse_other_grids(files, heads)
    channels = heads[0].size[3] * len(heads)
    if named and channels != len(named):
        raise ImageReadError(_count_line(files, channels, named))
    return heads


def _named_channels(path: str | os.PathLike) -> list[str] | None:
    """The channel names a first channel file (``x_0000``) of a :func:`channel_folder` is
    of; None for other files."""
    found = channel_of(path)
    names = folder_channels(os.path.dirname(path)) if found and found[1] == 0 else None
    return names if names and len(names) > 1 else None


def _refuse_other_grids(files: list[Path], heads: list[NiftiHeader]) -> None:
    case = channel_of(files[0])[0]
    for f, head in zip(files, heads):
        if head.size[3] != 1:
            raise ImageReadError(
                f"{f}: a channel file of case {case} holding {head.size[3]} volumes; save each "
                "channel as a 3-D volume of its own (_0000, _0001, ...), or all as one 4-D volume"
            )
        for what, mine, first in _grid(head, heads[0]):
            if mine != first:
                raise ImageReadError(
                    f"{files[0]}: the channel files of case {case} differ in {what}: "
                    f"{files[0].name} {first}, {f.name} {mine}; {ONE_GRID}"
                )


def _count_line(files: list[Path], channels: int, named: list[str]) -> str:
    """The line for a case of ``channels`` channels where its dataset.json names others."""
    case, wanted = channel_of(files[0])[0], len(named)
    ending = nifti_ending(files[0])
    if len(files) == 1 and channels > 1:  # a 4-D volume (MSD's)
        fix = f"save it with {numbered(wanted, 'channel')}"
    elif channels > wanted:
        fix = "move " + ", ".join(f.name for f in files[wanted:]) + " out"
    else:
        fix = "add " + ", ".join(f"{case}_{i:04d}{ending}" for i in range(channels, wanted))
    return (
        f"{files[0]}: case {case} has {numbered(channels, 'channel')} "
        f"({', '.join(f.name for f in files)}), {DATASET_JSON}'s channel_names "
        f"({', '.join(named)}) name {wanted}: {fix}, or take the case out"
    )


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
    if mask:
        return read_volume(path, mask=True)
    files, named = _case(Path(path))
    if named is None:  # no header read twice
        return read_volume(path)
    case_headers(path)  # of one grid and as many channels as named, or refused
    arrays = [read_volume(f) for f in files]
    return arrays[0] if len(arrays) == 1 else np.stack(arrays, axis=-1)
