"""TotalSegmentator's layout (Wasserthal et al., 2023): one folder per case, ``s0001/ct.nii.gz``
beside ``s0001/segmentations/<structure>.nii.gz``, one binary mask per structure (117 in its
v2 release).

- :func:`totalseg_cases`: the (CT volume, segmentations folder) of each case of such a
  folder, detected strictly (every sub-folder one case).
- :func:`structure_names`: a case's structures, its mask files' names sorted: structure k of
  them is class k (0 the background), whatever order the files are listed in on disk.
- :func:`read_structures`: a case's masks as one label map (Z, Y, X); a voxel in two masks
  goes to the first by name, said in one line naming the files and the voxels.
- :func:`structures_problem`: a case whose structures are not those most cases hold is
  refused, one line naming what it lacks or holds besides, so that a class is one structure
  in every case.

A case's segmentations folder stands as the mask of its :class:`~unetlab.data.pairs.Pair`:
``read_stack`` and ``stack_shape`` of the folder read it here; the pair is named by its case
folder (``s0001``), not by ``ct``.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from unetlab.data.held import held_read
from unetlab.data.names import SEGMENTATIONS, listing
from unetlab.data.nifti import is_nifti, nifti_stem, read_header, read_volume
from unetlab.data.read_notes import note_once
from unetlab.errors import DatasetError, ImageReadError
from unetlab.manifest import MANIFEST
from unetlab.read_once import ReadOnce, file_stamp
from unetlab.words import first_listed, numbered

#: the layout in a few words, for the lines that name it
TOTALSEG_LAYOUT = (
    "one folder per case as TotalSegmentator's: s0001/ct.nii.gz + s0001/segmentations/, one "
    "NIfTI mask per structure"
)
#: the stem of a case's CT volume
CT = "ct"
#: the fewest cases beside a sub-folder that is none for the folder to be refused naming it
#: (as :data:`~unetlab.data.dsb.HALF_DSB`): one case beside a stray folder is no data set
FEW_CASES = 2


def totalseg_cases(root: Path) -> list[tuple[Path, Path]] | None:
    """``[(ct volume, segmentations folder)]`` of each sub-folder of ``root`` in name order,
    when every one (hidden ones, and those unetlab wrote outputs into, passed over) is a
    case: ``ct.nii.gz`` (or ``ct.nii``) beside ``segmentations/``; None where none is, or
    half of them or more are not; a file (a COCO file given as evaluate --gt) is none.
    DatasetError naming the first that is not where more than half and :data:`FEW_CASES` or
    more are (a stray ``notes/`` or ``__MACOSX/`` beside the cases). Looked at until
    :data:`FEW_CASES` more are not than are: a folder of 2,000 sub-folders that are no cases
    stops at its first few."""
    if not root.is_dir():
        return None
    found: dict[Path, tuple[Path, Path] | None] = {}
    misfits = 0
    for sub in _sub_folders(root):
        found[sub] = _case(sub)
        misfits += found[sub] is None
        if misfits > len(found) - misfits + FEW_CASES:
            return None
    cases = [c for c in found.values() if c is not None]
    if len(cases) == len(found):
        return cases or None
    if len(cases) < FEW_CASES or 2 * len(cases) <= len(found):
        return None
    misfit = next(d for d, c in found.items() if c is None)
    raise DatasetError(
        f"{misfit}: no {CT}.nii.gz beside {SEGMENTATIONS}/ as the other "
        f"{numbered(len(cases), 'case folder')} of {root} hold ({TOTALSEG_LAYOUT}): move it "
        f"out of {root}, or give it its {CT}.nii.gz and {SEGMENTATIONS}/"
    )


def cases_among(root: Path) -> list[tuple[Path, Path]]:
    """The cases among the sub-folders of ``root`` (:func:`totalseg_cases`' rule aside: what
    predict names, where it found no images in ``root``)."""
    return [case for sub in _sub_folders(root) if (case := _case(sub)) is not None]


def _sub_folders(root: Path) -> Iterator[Path]:
    """The sub-folders of ``root`` that may be cases, in name order: hidden ones, and those
    unetlab wrote outputs into (its manifest in them), passed over."""
    for sub in listing(root):
        if not sub.name.startswith(".") and sub.is_dir() and not (sub / MANIFEST).exists():
            yield sub


def _case(folder: Path) -> tuple[Path, Path] | None:
    """(ct volume, segmentations folder) of the case ``folder``, or None."""
    masks = folder / SEGMENTATIONS
    if not masks.is_dir():  # before listing it: images/ of 10,000 files is no case
        return None
    cts = [f for f in listing(folder) if is_nifti(f) and nifti_stem(f).casefold() == CT]
    return (cts[0], masks) if len(cts) == 1 else None


def case_names(root: Path) -> list[str]:
    """The names of the cases of ``root`` (:func:`totalseg_cases`), [] where it is no
    TotalSegmentator set."""
    return [masks.parent.name for _, masks in totalseg_cases(Path(root)) or []]


def case_outputs(folder: Path, cases: Iterable[str]) -> list[Path]:
    """The files named for a case's CT (``ct.nii.gz``, ``ct_objects.tif``, ...) in the
    sub-folders of ``folder`` named as one of ``cases`` (the ground truth's,
    :func:`case_names`: s75 review, a 2-D folder's ``p1/ct_001.png`` was read as ``p1_001``)
    that unetlab wrote outputs into (its manifest there: a copy of the cases given as the
    predictions holds their CTs, no predictions): ``predict --recursive``'s of
    TotalSegmentator cases (``pred/s0001/ct.nii.gz``), read as their case's
    (:func:`case_output_stem`). No other entry of ``folder`` is looked at."""
    subs = [folder / name for name in cases if (folder / name / MANIFEST).exists()]
    return [f for sub in subs for f in listing(sub) if f.name.casefold().startswith(_CT_NAMED)]


#: where evaluate --pred finds a TotalSegmentator case's prediction, for the line that
#: finds none (s75 review: a copy without predict's manifest was told of <stem>.png alone)
CASE_PREDICTIONS = (
    f"a TotalSegmentator case's prediction is <case>.nii.gz, or <case>/{CT}.nii.gz where "
    f"predict --recursive wrote it ({MANIFEST} beside it: a copy without it is none; rename "
    "it <case>.nii.gz)"
)


#: how the names of a case's CT's outputs begin: ``ct.nii.gz``, ``ct_objects.tif``
_CT_NAMED = (f"{CT}.", f"{CT}_")


def case_output_stem(path: Path, stem: str) -> str:
    """The stem that a case's output ``path`` (:func:`case_outputs`; its own ``stem``: ct,
    ct_objects) is read by: its case folder's name for ``ct`` (s0001, s0001_objects)."""
    return path.parent.name + stem[len(CT) :]


def is_structure_masks(path: Path) -> bool:
    """Whether ``path`` is a case's ``segmentations/`` folder (:func:`_case` of its parent)."""
    path = Path(path)
    return path.name == SEGMENTATIONS and path.is_dir() and _case(path.parent) is not None


def case_of(image: Path, mask: Path) -> str | None:
    """The case folder's name (``s0001``) of a pair whose mask is a case's segmentations
    folder (from the names alone: asked of every pair shown), else None."""
    return Path(image).parent.name if Path(mask).name == SEGMENTATIONS else None


#: each case's structure masks, listed once within :func:`structures_listed_once`
_STRUCTURE_FILES = ReadOnce("structure_files", inputs=True)


def structures_listed_once() -> contextlib.AbstractContextManager:
    """Within (a command: train's, evaluate's): each case's ``segmentations/`` listed once
    while unchanged (s75: listed at each of the 12 lookups of the classes and pairs of one
    ``train --check``, 1,228 listings a lookup on the real set)."""
    return _STRUCTURE_FILES.kept()


def structure_files(folder: Path) -> tuple[Path, ...]:
    """The NIfTI masks of the segmentations ``folder``, sorted by structure name."""
    return _STRUCTURE_FILES.read(("structures",), folder, lambda: _masks_sorted(Path(folder)))


def _masks_sorted(folder: Path) -> tuple[Path, ...]:
    return tuple(sorted((f for f in listing(folder) if is_nifti(f)), key=nifti_stem))


def structure_names(folder: Path) -> list[str]:
    """The structures of the segmentations ``folder`` by name: structure k is class k + 1."""
    return [nifti_stem(f) for f in structure_files(folder)]


def class_names(cases: list[tuple[Path, Path]]) -> dict[int, str]:
    """``{0: background, k: structure}`` of the structures most of ``cases`` hold
    (:func:`reference_structures`), which every case must hold (:func:`structures_problem`)."""
    return {0: "background", **dict(enumerate(reference_structures(cases)[1], 1))}


def reference_structures(cases: list[tuple[Path, Path]]) -> tuple[str, list[str]]:
    """(the first case holding them, the structures) of the structure set most of ``cases``
    hold, the first case's on a tie: one case lacking liver.nii.gz is refused, not every
    other case for holding it (1,227 lines on the real set where s0001 lacked it, s74
    review)."""
    held = {case_of(*c): tuple(structure_names(c[1])) for c in cases}
    most = Counter(held.values()).most_common(1)[0][0]
    return next(case for case, names in held.items() if names == most), list(most)


def structures_problem(masks: Path, reference: tuple[str, list[str]]) -> str | None:
    """The line refusing the case of the segmentations folder ``masks`` whose structures are
    not those of ``reference`` (:func:`reference_structures`), or None."""
    names = structure_names(masks)
    first_case, first = reference
    lacks, extra = sorted(set(first) - set(names)), sorted(set(names) - set(first))
    if not lacks and not extra:
        return None
    said = ([f"lacks {_listed(lacks)}"] if lacks else []) + (
        [f"holds {_listed(extra)} besides"] if extra else []
    )
    return (
        f"{masks}: {' and '.join(said)} of the structures most cases hold (as "
        f"{first_case}/{SEGMENTATIONS}/): give every case the same structure masks (a class is "
        "one structure in every case)"
    )


def _listed(names: list[str]) -> str:
    return first_listed([f"{n}.nii.gz" for n in names], most=3)


def structures_shape(folder: Path) -> tuple[int, int, int] | None:
    """(Z, Y, X) of :func:`read_structures`: its case's CT volume's, from the header; None
    when ``folder`` is no case's segmentations folder."""
    path = Path(folder)
    case = _case(path.parent) if path.name == SEGMENTATIONS else None
    if case is None:
        return None
    return read_header(case[0]).size[:3]


def read_structures(folder: Path) -> np.ndarray:
    """(Z, Y, X) label map of the structure masks of ``folder``: 0 background, the k-th by
    name k (:func:`structure_names`); kept while the files stay the same (train reads a
    data set several times). ImageReadError naming a mask that is not binary or not of its
    case's CT size."""
    files = structure_files(folder)
    stats = tuple((f.name, file_stamp(f)) for f in files)
    return held_read(folder, ("structures", stats), lambda: _label_map(Path(folder), files))


def _label_map(folder: Path, files: tuple[Path, ...]) -> np.ndarray:
    shape = structures_shape(folder)
    labels = np.zeros(shape, np.uint8 if len(files) < 256 else np.uint16)
    overlaps: dict[str, int] = {}
    for k, path in enumerate(files, 1):
        mask = _binary(path, shape)
        taken = mask & (labels != 0)
        if taken.any():  # the structures first by name keep the voxels: counted each
            firsts, counts = np.unique(labels[taken], return_counts=True)
            for first, count in zip(firsts, counts):
                overlaps[f"{files[first - 1].name} and {path.name}"] = int(count)
        labels[mask & ~taken] = k
    if overlaps:
        _say_overlaps(folder, overlaps)
    return labels


def _binary(path: Path, shape: tuple[int, int, int]) -> np.ndarray:
    """The mask volume ``path`` as bool; ImageReadError where it holds values besides 0 and
    one other, or is not of ``shape``."""
    volume = read_volume(path, mask=True)
    if volume.shape != shape:
        raise ImageReadError(
            f"{path}: {volume.shape[::-1]} voxels (x, y, z) but its case's {CT}.nii.gz is "
            f"{shape[::-1]}: a structure's mask is of its CT's size"
        )
    if volume.size and (volume.min() < 0 or volume.max() > 1):  # 0 and 1: binary, not looked at
        values = np.unique(volume)  # 0 and 255 are binary too
        if values.size > 2 or (values.size == 2 and values[0] != 0):
            raise ImageReadError(
                f"{path}: values {first_listed(values.tolist(), most=5)}, but a mask of "
                f"{SEGMENTATIONS}/ is one structure (0 background, one other value): write it "
                "as 0 and 1, or move a label map of several structures out of the case's "
                f"{SEGMENTATIONS}/"
            )
    return volume != 0


def _say_overlaps(folder: Path, overlaps: dict[str, int]) -> None:
    """One line for the case of ``folder``: the masks that share voxels, and how many."""
    pairs = sorted(overlaps.items(), key=lambda item: -item[1])
    shown = "; ".join(f"{names}: {numbered(n, 'voxel')}" for names, n in pairs[:3])
    more = f"; and {numbered(len(pairs) - 3, 'more pair')}" if len(pairs) > 3 else ""
    note_once(
        f"{folder}: structures' masks overlap ({shown}{more}): each such voxel is given to the "
        "structure first by name"
    )
