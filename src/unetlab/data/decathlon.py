"""The Medical Segmentation Decathlon's and nnU-Net's data sets: NIfTI volumes
(:mod:`unetlab.data.nifti`) in ``imagesTr/`` with their label volumes in ``labelsTr/``, and
``dataset.json`` naming the classes.

- MSD (``Task09_Spleen``): ``imagesTr/spleen_2.nii.gz`` pairs with ``labelsTr/spleen_2.nii.gz``;
  dataset.json ``"labels": {"0": "background", "1": "spleen"}``.
- nnU-Net v2 (``Dataset009_Spleen``): ``imagesTr/spleen_2_0000.nii.gz`` (``_0000``: the first
  channel) pairs with ``labelsTr/spleen_2.nii.gz``; ``"labels": {"background": 0, ...}``.

Each volume's axial slices are the pages of a stack (2-D training, as nnU-Net's ``2d``
configuration). A case of several channel files (``_0000`` T2, ``_0001`` ADC) is one image
of as many channels (:mod:`unetlab.data.nifti_channels`), named by dataset.json's
``channel_names``; so are a 4-D volume's (MSD's ``modality``).
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from unetlab.data.folder_notes import is_macos_metadata
from unetlab.data.names import listing, nfc
from unetlab.data.nifti import PAIR_CONVERSION, PAIR_ENDINGS, is_nifti, nifti_case, nifti_stem
from unetlab.data.nifti_channels import (
    CHANNEL,
    case_size,
    channel_files,
    channel_of,
    first_channels,
)
from unetlab.data.read_notes import note_once
from unetlab.errors import DatasetError
from unetlab.words import numbered, worded

#: the folders of a data set's training volumes and their label volumes
FOLDERS = ("imagesTr", "labelsTr")
DATASET_JSON = "dataset.json"


def decathlon_folders(root: Path) -> tuple[Path, Path] | None:
    """(imagesTr, labelsTr) of ``root`` where it has both, else None."""
    images, labels = (root / name for name in FOLDERS)
    return (images, labels) if images.is_dir() and labels.is_dir() else None


def volumes(folder: Path) -> list[Path]:
    """The NIfTI volumes of ``folder``, macOS metadata twins (``._x.nii.gz``) passed over."""
    return [f for f in listing(folder) if is_nifti(f) and f.is_file() and not is_macos_metadata(f)]


def note_pairs_passed_over(*folders: Path) -> None:
    """Warn, once a folder, of the Analyze / NIfTI pairs (``x.hdr`` + ``x.img``) of
    ``folders``, which are not read: their cases are left out, unless converted."""
    for folder in folders:
        pairs = [f for f in listing(folder) if f.suffix.lower() == PAIR_ENDINGS[0]]
        if pairs:
            note_once(
                f"{folder}: {numbered(len(pairs), 'Analyze / NIfTI pair')} ({pairs[0].name} + "
                f"{pairs[0].stem}.img{', ...' if len(pairs) > 1 else ''}) not read: "
                f"{worded(len(pairs), 'its case', 'their cases')} left out; convert each pair "
                f"to {PAIR_CONVERSION}"
            )


def case_of(image: Path, labelled: Iterable[str]) -> str:
    """The case an image volume is of: its name less ``_0000`` (nnU-Net's channel) where
    that names a label volume of ``labelled``, else its name (MSD's)."""
    stem = nifti_stem(image)
    channel = CHANNEL.fullmatch(stem)
    return channel.group(1) if channel and channel.group(1) in labelled else stem


def decathlon_pairs(root: Path, names: list[str] | None, found: list[str]) -> list:
    """(image, label) volumes of ``root`` (:func:`decathlon_folders`), paired by case name
    (``names``: those cases only, by
    name less the ending, ``spleen_2`` or ``spleen_2_0000``); images without a label, labels without an image
    and cases of several channel files added to ``found``; what was paired said once."""
    images_dir, labels_dir = decathlon_folders(root)
    labels = {nifti_stem(f): f for f in volumes(labels_dir)}
    note_pairs_passed_over(images_dir, labels_dir)
    cases: dict[str, list[Path]] = {}
    for image in first_channels(volumes(images_dir), found):
        if names is None or {nfc(nifti_stem(image)), nfc(nifti_case(image))} & set(names):
            cases.setdefault(case_of(image, labels), []).append(image)
    found += _pairing_problems(cases, labels, labels_dir, images_dir, names is None)
    pairs = [(files[0], labels[c]) for c, files in sorted(cases.items()) if _one(files, c, labels)]
    found += missing_channels([image for image, _ in pairs], dataset_channels(root))
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
    """The line for a case of several image files of one name (``x.nii`` gunzipped beside
    ``x.nii.gz``, MSD's ``x.nii.gz`` beside nnU-Net's ``x_0000.nii.gz``)."""
    named = ", ".join(f.name for f in files)
    return (
        f"{files[0].parent}: {len(files)} image files of case {case} ({named}); "
        "keep one of them in this folder (move the others out)"
    )


def missing_channels(images: list[Path], named: list[str] | None) -> list[str]:
    """A line for each of ``images`` (first channel files: :mod:`~unetlab.data.
    nifti_channels`) whose case has other channels than dataset.json's ``channel_names``
    (``named``) name, or where it names none, than most cases have."""
    counts = {image: case_size(image)[3] for image in images}
    if not counts:
        return []
    common = Counter(counts.values()).most_common()
    wanted = len(named) if named else max(common, key=lambda c: (c[1], c[0]))[0]
    source = f"{DATASET_JSON}'s channel_names ({', '.join(named)}) name" if named else "most have"
    return [
        f"{image}: case {nifti_case(image)} has {numbered(count, 'channel')} "
        f"({', '.join(f.name for f in channel_files(image))}), {source} {wanted}: "
        f"{_channels_fix(image, count, wanted)}, or take the case out"
        for image, count in counts.items()
        if count != wanted
    ]


def _channels_fix(image: Path, count: int, wanted: int) -> str:
    """The fix of a case of ``count`` channels where ``wanted`` are: the files it lacks
    added, by name (nnU-Net's), or the case saved with them all."""
    if channel_of(image) is None:
        return f"save it with {numbered(wanted, 'channel')}"
    case, ending = nifti_case(image), image.name[len(nifti_stem(image)) :]
    if count > wanted:
        return "move " + ", ".join(f.name for f in channel_files(image)[wanted:]) + " out"
    return "add " + ", ".join(f"{case}_{i:04d}{ending}" for i in range(count, wanted))


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
    if (labels := _dataset_json(path).get("labels")) is None:
        return None
    try:
        return _label_names(labels)
    except (TypeError, ValueError) as exc:
        raise DatasetError(
            f"{path}: its labels are not one value a class ({json.dumps(labels)[:80]}); "
            'give {"0": "background", "1": "spleen"} (or nnU-Net\'s {"background": 0, ...}: '
            "region-based labels are not read)"
        ) from exc


def _dataset_json(path: Path) -> dict:
    """The object of the dataset.json ``path``, {} where there is none; DatasetError for a
    file that is no JSON object."""
    if not path.is_file():
        return {}
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not a JSON object ({exc}); fix or remove it") from exc
    if not isinstance(found, dict):
        raise DatasetError(f"{path}: not a JSON object ({type(found).__name__}); fix or remove it")
    return found


def dataset_channels(root: str | Path) -> list[str] | None:
    """The channel names of ``root/dataset.json`` in channel order: nnU-Net v2's
    ``channel_names`` or MSD's ``modality`` (``{"0": "T2", "1": "ADC"}``); None where it
    names none, or not one a channel number from 0."""
    found = _dataset_json(Path(root) / DATASET_JSON)
    names = found.get("channel_names", found.get("modality"))
    if not isinstance(names, dict) or set(names) != {str(i) for i in range(len(names))}:
        return None
    return [str(names[str(i)]) for i in range(len(names))] or None


def nifti_channel_names(path: str | os.PathLike) -> list[str]:
    """The channel names of the NIfTI case ``path`` (:func:`dataset_channels` of the
    dataset.json of its folder, or of the data set of its folder: ``imagesTr/..``,
    ``imagesTs/..``) where they name as many as it has; [] else."""
    path = Path(path)
    for root in (path.parent, path.parent.parent):
        if (names := dataset_channels(root)) is not None:
            return names if len(names) == case_size(path)[3] else []
    return []


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
