"""The Medical Segmentation Decathlon's and nnU-Net's data sets: NIfTI volumes
(:mod:`unetlab.data.nifti`) in ``imagesTr/`` with their label volumes in ``labelsTr/``, and
``dataset.json`` naming the classes.

- MSD (``Task09_Spleen``): ``imagesTr/spleen_2.nii.gz`` pairs with ``labelsTr/spleen_2.nii.gz``;
  dataset.json ``"labels": {"0": "background", "1": "spleen"}``.
- nnU-Net v2 (``Dataset009_Spleen``): ``imagesTr/spleen_2_0000.nii.gz`` (``_0000``: the first
  channel) pairs with ``labelsTr/spleen_2.nii.gz``; ``"labels": {"background": 0, ...}``.

Each volume's axial slices are the pages of a stack (2-D training, as nnU-Net's ``2d``
configuration). A case of several channel files (``_0000``, ``_0001``) is refused in one
line: unetlab reads one file an image (a 4-D volume's channels, :func:`read_volume`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from pathlib import Path

from unetlab.data.folder_notes import is_macos_metadata
from unetlab.data.names import listing, nfc
from unetlab.data.nifti import is_nifti, nifti_stem
from unetlab.data.read_notes import note_once
from unetlab.errors import DatasetError

#: the folders of a data set's training volumes and their label volumes
FOLDERS = ("imagesTr", "labelsTr")
DATASET_JSON = "dataset.json"
#: nnU-Net's channel ending of an image file's name (``case_0000``)
CHANNEL = re.compile(r"(.+)_(\d{4})")


def decathlon_folders(root: Path) -> tuple[Path, Path] | None:
    """(imagesTr, labelsTr) of ``root`` where it has both, else None."""
    images, labels = (root / name for name in FOLDERS)
    return (images, labels) if images.is_dir() and labels.is_dir() else None


def volumes(folder: Path) -> list[Path]:
    """The NIfTI volumes of ``folder``, macOS metadata twins (``._x.nii.gz``) passed over."""
    return [f for f in listing(folder) if is_nifti(f) and f.is_file() and not is_macos_metadata(f)]


def case_of(image: Path, labelled: Iterable[str]) -> str:
    """The case an image volume is of: its name less ``_0000`` (nnU-Net's channel) where
    that names a label volume of ``labelled``, else its name (MSD's)."""
    stem = nifti_stem(image)
    channel = CHANNEL.fullmatch(stem)
    return channel.group(1) if channel and channel.group(1) in labelled else stem


def decathlon_pairs(root: Path, names: list[str] | None, found: list[str]) -> list:
    """(image, label) volumes of ``root`` (:func:`decathlon_folders`), paired by case name
    (``names``: those image stems only); images without a label, labels without an image
    and cases of several channel files added to ``found``; what was paired said once."""
    images_dir, labels_dir = decathlon_folders(root)
    labels = {nifti_stem(f): f for f in volumes(labels_dir)}
    cases: dict[str, list[Path]] = {}
    for image in volumes(images_dir):
        if names is None or nfc(image.stem) in names:
            cases.setdefault(case_of(image, labels), []).append(image)
    found += _pairing_problems(cases, labels, labels_dir, images_dir, names is None)
    pairs = [(files[0], labels[c]) for c, files in sorted(cases.items()) if _one(files, c, labels)]
    if pairs:
        note_once(_paired_line(root, pairs, labels), level=logging.INFO)
    return pairs


def _one(files: list[Path], case: str, labels: dict) -> bool:
    return len(files) == 1 and case in labels


def _pairing_problems(
    cases: dict[str, list[Path]], labels: dict, labels_dir: Path, images_dir: Path, every: bool
) -> list[str]:
    """A line for each image of no label, case of several channel files and (of ``every``
    image looked at) label of no image."""
    lines = [
        f"{files[0]}: no label volume {labels_dir / (case + '.nii.gz')} for this image "
        "(imagesTr/CASE.nii.gz or CASE_0000.nii.gz pairs with labelsTr/CASE.nii.gz)"
        for case, files in sorted(cases.items())
        if case not in labels
    ]
    lines += [
        _several_files(case, files)
        for case, files in sorted(cases.items())
        if len(files) > 1 and case in labels
    ]
    if every:
        lines += [
            f"{label}: no image volume {images_dir / (case + '.nii.gz')} (or {case}_0000.nii.gz) "
            "for this label volume"
            for case, label in sorted(labels.items())
            if case not in cases
        ]
    return lines


def _several_files(case: str, files: list[Path]) -> str:
    """The line for a case of several image files: nnU-Net's channel files (``_0000``,
    ``_0001``), or two files of one name (``x.nii`` gunzipped beside ``x.nii.gz``)."""
    channels = [CHANNEL.fullmatch(nifti_stem(f)) for f in files]
    if all(channels) and len({c.group(1) for c in channels}) == 1:
        endings = ", ".join(f"_{c.group(2)}" for c in channels)
        return (
            f"{files[0]}: case {case} has {len(files)} channel files ({endings}); unetlab "
            "reads one file an image: save its channels as one 4-D volume (x, y, z, channel), "
            "or train on one channel's files alone"
        )
    named = ", ".join(f.name for f in files)
    return (
        f"{files[0].parent}: {len(files)} image files of case {case} ({named}); "
        "keep one of them in this folder (move the others out)"
    )


def _paired_line(root: Path, pairs: list, labels: dict) -> str:
    image, label = pairs[0]
    names = dataset_labels(root) or {}
    said = ", ".join(f"{v} {n}" for v, n in sorted(names.items()))
    return (
        f"{root}: {len(pairs)} volumes of {FOLDERS[0]}/ paired with {FOLDERS[1]}/ by name "
        f"({image.name} with {label.name})"
        + (f"; classes of {DATASET_JSON}: {said}" if said else "")
    )


def decathlon_labels(root: Path) -> dict[int, str] | None:
    """:func:`dataset_labels` of a data set of imagesTr/ + labelsTr/ (:func:`decathlon_folders`),
    None for another: a dataset.json beside images/ + masks/ is no class list of unetlab's."""
    return dataset_labels(root) if decathlon_folders(root) is not None else None


def dataset_labels(root: str | Path) -> dict[int, str] | None:
    """``{value: name}`` of the ``labels`` of ``root/dataset.json`` (MSD's ``{"0":
    "background"}`` or nnU-Net v2's ``{"background": 0}``), or None where it has none;
    DatasetError for a file that is no JSON or labels of another form (nnU-Net's regions,
    ``{"whole tumor": [1, 2, 3]}``)."""
    path = Path(root) / DATASET_JSON
    if not path.is_file():
        return None
    try:
        labels = json.loads(path.read_text(encoding="utf-8")).get("labels")
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        raise DatasetError(f"{path}: not a JSON object ({exc}); fix or remove it") from exc
    if labels is None:
        return None
    try:
        return _label_names(labels)
    except (TypeError, ValueError) as exc:
        raise DatasetError(
            f"{path}: its labels are not one value a class ({json.dumps(labels)[:80]}); "
            'give {"0": "background", "1": "spleen"} (or nnU-Net\'s {"background": 0, ...}: '
            "region-based labels are not read)"
        ) from exc


def _label_names(labels: dict) -> dict[int, str]:
    if not isinstance(labels, dict):
        raise TypeError("labels is not an object")
    first = next(iter(labels), "0")
    if isinstance(labels.get(first), str):  # MSD: value -> name
        return {int(v): str(n) for v, n in labels.items()}
    if any(isinstance(v, (list, dict, bool)) for v in labels.values()):
        raise TypeError("region-based labels")
    return {int(v): str(n) for n, v in labels.items()}  # nnU-Net v2: name -> value


def refuse_unlisted_labels(found: Iterable[int], names: dict[int, str], path: Path) -> None:
    """DatasetError where the label volumes hold values (``found``) that dataset.json's
    labels (``names``) do not name: a class nnU-Net would refuse, trained here unnamed."""
    if unlisted := sorted(set(found) - set(names)):
        listed = ", ".join(f"{v} {n}" for v, n in sorted(names.items()))
        raise DatasetError(
            f"{path}: the label volumes hold the values {unlisted}, which its labels "
            f"({listed}) do not name: add them to its labels, or correct the label volumes"
        )
