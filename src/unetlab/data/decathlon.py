"""The Medical Segmentation Decathlon's and nnU-Net's data sets: NIfTI volumes
(:mod:`unetlab.data.nifti`) in ``imagesTr/`` with their label volumes in ``labelsTr/``, and
``dataset.json`` naming the classes.

- MSD (``Task09_Spleen``): ``imagesTr/spleen_2.nii.gz`` pairs with ``labelsTr/spleen_2.nii.gz``;
  dataset.json ``"labels": {"0": "background", "1": "spleen"}``.
- nnU-Net v2 (``Dataset009_Spleen``): ``imagesTr/spleen_2_0000.nii.gz`` (``_0000``: the first
  channel) pairs with ``labelsTr/spleen_2.nii.gz``; ``"labels": {"background": 0, ...}``.
- A DICOM series folder in ``imagesTr/`` (``imagesTr/case_1/``, its slices) pairs with
  ``labelsTr/case_1.nii.gz`` as its volume would (:mod:`unetlab.data.dicom`).

Each volume's axial slices are the pages of a stack (2-D training, as nnU-Net's ``2d``
configuration). A case of several channel files (``_0000`` T2, ``_0001`` ADC) is one image
of as many channels (:mod:`unetlab.data.nifti_channels`), named by dataset.json's
``channel_names``; so are a 4-D volume's (MSD's ``modality``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from unetlab.data.dataset_json import DATASET_JSON, dataset_channels, dataset_json, folder_channels
from unetlab.data.dicom import series_folders
from unetlab.data.folder_notes import is_macos_metadata
from unetlab.data.names import listing, nfc
from unetlab.data.nifti import (
    PAIR_CONVERSION,
    PAIR_ENDINGS,
    case_channel,
    is_nifti,
    nifti_case,
    nifti_stem,
)
from unetlab.data.nifti_channels import case_size, channel_of, first_channels
from unetlab.data.read_notes import note_once
from unetlab.errors import DatasetError
from unetlab.words import numbered, worded

#: the folders of a data set's training volumes and their label volumes
FOLDERS = ("imagesTr", "labelsTr")
#: what the Python API and tests take from here, read in :mod:`unetlab.data.dataset_json`
__all__ = ["DATASET_JSON", "dataset_channels", "dataset_labels", "decathlon_pairs"]


def decathlon_folders(root: Path) -> tuple[Path, Path] | None:
    """(imagesTr, labelsTr) of ``root`` where it has both, else None."""
    images, labels = (root / name for name in FOLDERS)
    return (images, labels) if images.is_dir() and labels.is_dir() else None


def volumes(folder: Path) -> list[Path]:
    """The NIfTI volumes of ``folder``, macOS metadata twins (``._x.nii.gz``) passed over."""
    return [f for f in listing(folder) if is_nifti(f) and f.is_file() and not is_macos_metadata(f)]


def analyze_pairs(folder: Path) -> list[Path]:
    """The headers (``x.hdr``) of the Analyze / NIfTI pairs (``x.hdr`` + ``x.img``) of
    ``folder``, which are not read."""
    return [f for f in listing(folder) if f.suffix.lower() == PAIR_ENDINGS[0]]


def note_pairs_passed_over(folder: Path, pairs: list[Path]) -> None:
    """Warn, once a folder, of the Analyze / NIfTI ``pairs`` of ``folder`` (their headers),
    passed over: their cases are left out, unless converted."""
    if pairs:
        note_once(
            f"{folder}: {numbered(len(pairs), 'Analyze / NIfTI pair')} ({pairs[0].name} + "
            f"{pairs[0].stem}.img{', ...' if len(pairs) > 1 else ''}) not read: "
            f"{worded(len(pairs), 'its case', 'their cases')} left out; convert each pair "
            f"to {PAIR_CONVERSION}"
        )


def case_of(image: Path, labelled: Iterable[str]) -> str:
    """The case an image volume (or an Analyze pair's ``.hdr``) is of: its name less
    nnU-Net's channel ending (``_0000``: :func:`~unetlab.data.nifti.case_channel`) where
    that names a label volume of ``labelled``, else its name (MSD's)."""
    stem = nifti_stem(image) if is_nifti(image) else image.stem
    found = case_channel(stem)
    return found[0] if found and found[0] in labelled else stem


def decathlon_pairs(root: Path, names: list[str] | None, found: list[str]) -> list:
    """(image, label) volumes of ``root`` (:func:`decathlon_folders`), paired by case name
    (``names``: those cases only, by name less the ending, ``spleen_2`` or
    ``spleen_2_0000``); images without a label, labels without an image (or of an image
    not read, an Analyze pair) and stray channel files added to ``found``; what was paired
    said once."""
    images_dir, labels_dir = decathlon_folders(root)
    labels = {nifti_stem(f): f for f in volumes(labels_dir)}
    held = {case_of(h, labels): h for h in analyze_pairs(images_dir)}
    note_pairs_passed_over(images_dir, [h for case, h in held.items() if case not in labels])
    note_pairs_passed_over(labels_dir, analyze_pairs(labels_dir))
    cases: dict[str, list[Path]] = {}
    for image in first_channels(volumes(images_dir), found):
        if names is None or {nfc(nifti_stem(image)), nfc(nifti_case(image))} & set(names):
            cases.setdefault(case_of(image, labels), []).append(image)
    for series in series_folders(images_dir):  # imagesTr/<case>/: a DICOM series (s72 notes)
        if names is None or nfc(series.name) in names:
            cases.setdefault(nfc(series.name), []).append(series)
    found += _pairing_problems(cases, labels, (labels_dir, images_dir), held, names is None)
    pairs = [(files[0], labels[c]) for c, files in sorted(cases.items()) if _one(files, c, labels)]
    if pairs:
        note_once(_paired_line(root, pairs, labels), level=logging.INFO)
    return pairs


def _one(files: list[Path], case: str, labels: dict) -> bool:
    return len(files) == 1 and case in labels


def _pairing_problems(
    cases: dict[str, list[Path]], labels: dict, folders: tuple[Path, Path], held: dict, every: bool
) -> list[str]:
    """A line for each image of no label, case of several image files and (of ``every``
    image looked at) label of no image: of an Analyze pair (``held``: case -> its .hdr) not
    read, named with the conversion."""
    labels_dir, images_dir = folders
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
            _no_image_line(label, images_dir / f"{case}.nii.gz", held.get(case))
            for case, label in sorted(labels.items())
            if case not in cases
        ]
    return lines


def _no_image_line(label: Path, image: Path, pair: Path | None) -> str:
    if pair is not None:
        return (
            f"{label}: its image is an Analyze / NIfTI pair ({pair.name} + {pair.stem}.img), "
            f"which unetlab does not read: convert the pair to {PAIR_CONVERSION}"
        )
    return (
        f"{label}: no image volume {image} (or {nifti_stem(image)}_0000.nii.gz) "
        "for this label volume"
    )


def _several_files(case: str, files: list[Path]) -> str:
    """The line for a case of several image files of one name (``x.nii`` gunzipped beside
    ``x.nii.gz``, MSD's ``x.nii.gz`` beside nnU-Net's ``x_0000.nii.gz``)."""
    named = ", ".join(f.name for f in files)
    channels = all(channel_of(f) for f in files) and len({channel_of(f) for f in files}) > 1
    return (
        f"{files[0].parent}: {len(files)} image files of case {case} ({named}); "
        "keep one of them in this folder (move the others out)"
        + (
            f", or, where they are its channels, name them in {DATASET_JSON}'s channel_names "
            '({"0": "T2", "1": "ADC"})'
            if channels
            else ""
        )
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
    if (labels := dataset_json(path).get("labels")) is None:
        return None
    try:
        return _label_names(labels)
    except (TypeError, ValueError) as exc:
        raise DatasetError(
            f"{path}: its labels are not one value a class ({json.dumps(labels)[:80]}); "
            'give {"0": "background", "1": "spleen"} (or nnU-Net\'s {"background": 0, ...}: '
            "region-based labels are not read)"
        ) from exc


def nifti_channel_names(path: str | os.PathLike) -> list[str]:
    """The channel names of the NIfTI case ``path`` (:func:`dataset_channels` of the
    dataset.json of its folder, or of the data set of its folder: ``imagesTr/..``,
    ``imagesTs/..``) where they name as many as it has; [] else."""
    names = folder_channels(Path(path).parent)
    return names if names and len(names) == case_size(path)[3] else []


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


def said_modalities(image: str | Path) -> list[str]:
    """The channels' modalities (``["CT"]``) that the ``dataset.json`` of the data set of a
    training volume ``image`` (``ROOT/imagesTr/x.nii.gz``) gives: MSD's ``modality`` or
    nnU-Net v2's ``channel_names``, in channel order; [] for an image of another layout, no
    such file or key, or one that cannot be read (:func:`dataset_labels` says why)."""
    folder = Path(image).parent
    path = folder.parent / DATASET_JSON
    if folder.name != FOLDERS[0] or not path.is_file():
        return []
    try:
        said = json.loads(path.read_text(encoding="utf-8"))
        channels = said.get("modality") or said.get("channel_names") or {}
        return [str(channels[k]) for k in sorted(channels, key=int)]
    except (ValueError, UnicodeDecodeError, AttributeError, TypeError):
        return []
