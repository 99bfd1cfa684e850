"""A data set's ``dataset.json`` (the Medical Segmentation Decathlon's and nnU-Net's): its
object, read once while the file is unchanged, and the channel names it gives."""

from __future__ import annotations

import json
import os
from pathlib import Path

from unetlab.errors import DatasetError

DATASET_JSON = "dataset.json"
#: (path, size, mtime_ns) -> its object: a folder's listing and each case read asks for it
_READ: dict[tuple[str, int, int], dict] = {}


def dataset_json(path: str | os.PathLike) -> dict:
    """The object of the dataset.json ``path``, {} where there is none; DatasetError for a
    file that is no JSON object."""
    try:
        st = os.stat(path)
    except OSError:
        return {}
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _READ:
        _READ[key] = _parsed(Path(path))
    return _READ[key]


def _parsed(path: Path) -> dict:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, IsADirectoryError) as exc:
        raise DatasetError(f"{path}: not a JSON object ({exc}); fix or remove it") from exc
    if not isinstance(found, dict):
        raise DatasetError(f"{path}: not a JSON object ({type(found).__name__}); fix or remove it")
    return found


def dataset_channels(root: str | os.PathLike) -> list[str] | None:
    """The channel names of ``root/dataset.json`` in channel order: nnU-Net v2's
    ``channel_names`` or MSD's ``modality`` (``{"0": "T2", "1": "ADC"}``); None where it
    names none, or not one a channel number from 0."""
    found = dataset_json(os.path.join(root, DATASET_JSON))
    names = found.get("channel_names", found.get("modality"))
    if not isinstance(names, dict) or set(names) != {str(i) for i in range(len(names))}:
        return None
    return [str(names[str(i)]) for i in range(len(names))] or None


def folder_channels(folder: str | os.PathLike) -> list[str] | None:
    """:func:`dataset_channels` of the volumes of ``folder``: of its own dataset.json, or
    of the data set's it is a folder of (``imagesTr/..``, ``imagesTs/..``); None where
    neither names channels. (Asked for each volume read: strings, not Paths.)"""
    folder = os.path.abspath(folder)
    roots = (folder, os.path.dirname(folder))
    return next((names for root in roots if (names := dataset_channels(root))), None)
