"""Predict many image files into one output folder: what ``unetlab predict --input DIR``
does, for Python.

:func:`predict_folder` finds the inputs (:func:`find_inputs`), checks and holds the output
folder (:func:`claim_folder`: never an input replaced, never a file unetlab did not write,
one process at a time; ``skip_existing`` inputs already done), and predicts each file
(:func:`predict_or_fail`: a file that cannot be read or does not fit the model is named and
the others still written), in one process or shared over several (a ``Group``):
``unetlab predict`` is one call of it.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import functools
import logging
import os
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from unetlab.data.dicom import keeping_series
from unetlab.data.io import (
    CHANNEL_GIVEN,
    check_axes,
    file_axes,
    ome_positions,
    stack_shape,
)
from unetlab.data.mask_reading import reads_h5_as_trained
from unetlab.data.names import SPLIT_FOLDERS
from unetlab.data.npy import is_seg_file, seg_alone_line
from unetlab.data.ome import output_pixels, staging_path
from unetlab.data.positions import each_position
from unetlab.data.read_notes import (
    ReadNotes,
    call_lines,
    handed_notes,
    note_images,
    note_once,
    read_notes,
    take_notes,
)
from unetlab.data.shown import relative_path, shown_as, shown_path
from unetlab.data.slides import slide_name
from unetlab.data.tiff_files import HEADERS, keeping_open, path_key, real_path
from unetlab.data.tiffmeta import PIXEL_SIZE_UM
from unetlab.data.weightmap import LABEL_VALUES
from unetlab.errors import (
    ImageReadError,
    OutOfMemoryError,
    OutputError,
    Spelled,
    TheirFileError,
    UnetlabError,
    flag_of,
    in_command,
    quoted,
    said_as,
    spelled,
)
from unetlab.group import SOLO, Group
from unetlab.inference import slide_resume
from unetlab.inference.cellpose_out import write_run_cellpose
from unetlab.inference.chosen import merge, noting
from unetlab.inference.coco_out import (
    claim_coco,
    coco_categories,
    coco_names,
    refuse_coco,
    write_run_coco,
)
from unetlab.inference.drawn_again import again_said
from unetlab.inference.earlier_outputs import (
    earlier_outputs,
    outputs_line,
    pattern_outputs_line,
)
from unetlab.inference.every_file import (
    given_options,
    model_takes,
    refuse_for_every_file,
)
from unetlab.inference.files import (
    check_options,
    check_path,
    file_record,
    is_pixels,
    path_given,
    predict_file,
)
from unetlab.inference.handed_lines import kept_lines, say_kept
from unetlab.inference.keywords import check_keywords
from unetlab.inference.labelme_out import write_model_labelme
from unetlab.inference.merged_objects import (
    handed_merged,
    merged_apart,
    merged_run,
    say_merged,
    take_merged,
)
from unetlab.inference.object_recipe import is_instance_model
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.objects_3d import refuse_joined_splits
from unetlab.inference.objects_summary import (
    claim_summary,
    drop_stale_summary,
    earlier_inputs,
    folder_summary,
    say_units,
    table_columns,
    write_summary,
)
from unetlab.inference.offset import describe_offset, label_offset
from unetlab.inference.output_rules import (
    PYTHON_OVERWRITE_FIX,
    SKIP_EXISTING,
    another_folder,
    claimed_sources,
    finished_inputs,
    finished_outputs,
    handed_as_read,
    held_folders,
    holding_folder,
    holds_of_a_call,
    input_source,
    inputs_done,
    listed_as_read,
    missing_outputs,
    moved_since_claim,
    other_inputs,
    other_models,
    other_output_settings,
    prediction_folder,
    shared_outputs,
)
from unetlab.inference.pages import file_read_axes
from unetlab.inference.plate_out import claim_wells, refuse_own_plates, write_plates
from unetlab.inference.plate_wells import PlateRun
from unetlab.inference.predict import (
    PredictOptions,
    check_model,
    floor_run,
    run_handed,
    say_handed,
)
from unetlab.inference.records import (
    OutputOptions,
    Provenance,
    changed_settings,
    class_names_of,
    objects_as_run,
    prediction_records_read_once,
    said_pair,
    save_outcome,
)
from unetlab.inference.seg_out import passing_over, refuse_seg, seg_wanted
from unetlab.inference.stale import drop_failed_changed, name_kept_outputs, say_gone_inputs
from unetlab.inference.stream_rule import (
    is_streamed,
    later_position_streamed,
    read_whole_anyway,
    streamed_alone,
)
from unetlab.inference.table_extras import table_path
from unetlab.inference.threads_look import look_beside, looking_beside
from unetlab.inference.tta import describe_tta
from unetlab.inference.world_files import world_files
from unetlab.manifest import (
    changed_outputs,
    changed_sources,
    manifests_read_once,
    take_relisted,
)
from unetlab.outputs import (
    PENDING,
    RECORD_FILES,
    confirm,
    folder_names,
    handed_kept,
    inputs_failed,
    outputs_kept,
    recorded_keys,
    remove_finished_stagings,
)
from unetlab.progress import checked, lines_above_bars, progress_bar, shown
from unetlab.runtime import tuned_allocator
from unetlab.signals import peer_stop_raised, stop_said, stop_status
from unetlab.words import numbered, worded

__all__ = [
    "FolderPrediction",
    "check_settings",
    "claim_folder",
    "dsb_inputs",
    "find_inputs",
    "folder_inputs",
    "pixel_sizes_gathered",
    "predict_folder",
]

log = logging.getLogger(__name__)

#: what :func:`predict_folder`'s ``inputs`` are, for the line refusing others
INPUTS_ARE = "inputs must be a folder, file or glob (a str or pathlib.Path), or an iterable of them"


def _checked_paths(inputs, out_dir) -> tuple[str | os.PathLike | list, Path]:
    """``inputs`` (:func:`predict_folder`'s): a folder, file or glob, or any iterable of them
    (a list, a set, a numpy array of str, a pandas Series, a generator such as
    ``Path.glob()``) as a list, read once; and ``out_dir`` as a Path. UnetlabError in one line
    where either is none: pathlib's TypeError (s52 badinput; fix1: iterables of paths)."""
    if isinstance(inputs, np.ndarray) and inputs.ndim == 0 and inputs.dtype.kind in "US":
        inputs = str(inputs)  # np.array("a.png"): one path, not an iterable
    listed = inputs
    if (table := _table_refusal(inputs)) is not None:
        raise UnetlabError(table)
    if is_pixels(inputs) or not isinstance(inputs, str | os.PathLike | Iterable):
        raise UnetlabError(f"{INPUTS_ARE}, not {path_given(inputs)}")
    if not isinstance(inputs, str | os.PathLike):
        listed = list(inputs)
        if bad := [i for i in listed if not isinstance(i, str | os.PathLike)]:
            raise UnetlabError(
                f"{INPUTS_ARE}, not {type(inputs).__name__} holding {path_given(bad[0])}"
            )
        if not listed:  # an empty list, set or glob: find_inputs would name no folder
            raise UnetlabError(f"{INPUTS_ARE}, not an empty {type(inputs).__name__}")
    check_path(out_dir, "out_dir", "a folder")
    return listed, Path(out_dir)


def _check_root(root) -> None:
    """UnetlabError in one line where ``root`` (:func:`predict_folder`'s: the tables' path
    base) is given and is no folder: a missing one was taken silently (s59)."""
    if root is None:
        return
    check_path(root, "root", "a folder")
    if not Path(root).is_dir():
        what = "a file, not a folder" if Path(root).exists() else "no such folder"
        raise UnetlabError(
            f"root {root}: {what}; give the folder the tables' paths are relative to, or "
            "leave root out"
        )


def _table_refusal(inputs) -> str | None:
    """The line refusing a table of columns (a pandas or polars DataFrame: iterated, it gives
    its column names, read as paths), naming the column of paths to pass: one named for
    paths or files, else the first that holds text or paths; None for anything else."""
    columns = getattr(inputs, "columns", None)
    if columns is None or isinstance(inputs, str | os.PathLike | np.ndarray):
        return None
    labels = list(columns)  # as the table holds them: pd.DataFrame(paths)'s is 0, an int
    named = [c for c in labels if any(w in str(c).lower() for w in ("path", "file"))]
    texts = [c for c in labels if isinstance(next(iter(inputs[c]), None), str | os.PathLike)]
    column = (named or texts or labels or ["path"])[0]
    return (
        f"{INPUTS_ARE}, not a {type(inputs).__name__} (read as its column names): pass its "
        f"column of paths, e.g. df[{column!r}]"
    )


def find_inputs(patterns: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """Image files and Zarr folders of ``patterns`` (files, folders, globs), each once, in
    the order given (a folder's sorted). UnetlabError if there are none."""
    from unetlab.data.folder_notes import glob_hint
    from unetlab.data.read_notes import note_once
    from unetlab.data.slides import is_zarr

    if isinstance(patterns, (str, os.PathLike)):
        patterns = [patterns]
    files: list[Path] = []
    left_out: list[str] = []  # sub-folders of images not searched, said once
    for pattern in patterns:
        path = Path(pattern)
        if _found_before(path):  # found by the command: not looked at again
            files.append(path)
        elif is_zarr(path):  # an HCS plate's (a well's) fields each
            files += _fields_of(path)
        elif not path.is_dir():  # a look at each input: once (s64: 5 stats of a file given)
            files += _pattern_inputs(path)
        elif samples := dsb_inputs(path, own := folder_inputs(path, passed := [])):
            files += samples
        else:  # the folder listed once (s64: twice, by the samples' look too)
            if passed:
                note_once(outputs_line(path, sorted(passed)))
            files += own
            left_out += _subfolders_left_out(path) or ([] if own else _others_left_out(path))
    if files and all(map(is_seg_file, files)):  # cellpose's masks files alone: their images
        raise UnetlabError(seg_alone_line(files[0]))
    files = _without_seg_files(files)
    if not files:
        said = f"no images found in {' '.join(map(str, patterns))}"
        glob = "".join(map(glob_hint, patterns))

        def hint(*lines: str) -> str:  # the sub-folders' lines in one spelling
            return said + (_where_images_are(lines) or glob)

        raise UnetlabError(**spelled(hint, *left_out))
    for line in left_out:
        note_once(said_as(line))
    return _noted_found(_each_once(files))


def _noted_found(files: list[Path]) -> list[Path]:
    """``files``, noted as inputs found by the command (within ``HEADERS.kept()``), which
    its later :func:`find_inputs` takes as they are (:func:`_found_before`: s64, the
    command line's found inputs given to predict_folder were looked at again, 5 stats each)."""
    HEADERS.note(("input found", path_key(f)) for f in files)
    return files


def _found_before(path: Path) -> bool:
    """Whether this command found ``path`` as an input already (:func:`_noted_found`)."""
    return HEADERS.noted(("input found", path_key(path)))


def _pattern_inputs(pattern: Path) -> list[Path]:
    """The images of a file or glob ``pattern``: a glob's matches less the outputs unetlab
    wrote (their folder's manifest lists them: ``'drop/**/*'`` over a tree that holds an
    earlier run's outputs read its labels as images), said in one line; a file named is
    predicted whatever wrote it."""
    from unetlab.data.io import find_images
    from unetlab.data.read_notes import note_once

    found = find_images(pattern)
    if found == [pattern] or not found:  # a file named (a glob finds others: s64)
        return found
    ours = set()
    for folder in {f.parent for f in found}:
        ours.update(earlier_outputs(folder, [f for f in found if f.parent == folder]))
    if ours:
        note_once(pattern_outputs_line(pattern, sorted(ours)))
    return [f for f in found if f not in ours]


def _each_once(files: list[Path]) -> list[Path]:
    """``files`` without those found again: the same path, or the same file by the same name
    through another path (a folder given as itself and through a symlink to it, which was
    refused as two inputs writing one output)."""
    files = sorted(set(files), key=files.index)
    names = collections.Counter(f.name for f in files)
    seen: set[tuple[str, str]] = set()
    kept = []
    for f in files:
        key = (f.name, os.path.realpath(f)) if names[f.name] > 1 else (f.name, str(f))
        if key not in seen:
            seen.add(key)
            kept.append(f)
    return kept


def folder_inputs(folder: Path, passed: list[Path] | None = None) -> list[Path]:
    """``folder``'s own inputs: its Zarr folders, then its images without the masks beside
    them, sorted (its sub-folders are not searched; none: []), less the outputs unetlab
    wrote there (:func:`~unetlab.inference.earlier_outputs.earlier_outputs`: an earlier
    run's labels are no inputs), which are added to ``passed``, or said in one line where
    ``passed`` is None."""
    from unetlab.data.io import find_images
    from unetlab.data.read_notes import note_once
    from unetlab.data.slides import is_zarr

    zarrs = sorted(p for p in folder.iterdir() if is_zarr(p))
    images = find_images(folder)
    if ours := set(earlier_outputs(folder, zarrs + images)):
        zarrs, images = [p for p in zarrs if p not in ours], [p for p in images if p not in ours]
        if passed is None:
            note_once(outputs_line(folder, sorted(ours)))
        else:
            passed += sorted(ours)
    zarrs = [f for z in zarrs for f in _fields_of(z)]
    return zarrs + _without_masks(folder, _without_seg_files(images))


def _fields_of(path: Path) -> list[Path]:
    """The inputs of the Zarr folder ``path``: each field of an HCS plate or well (said in
    one line: :func:`~unetlab.data.plates.plate_fields`), else ``path`` itself: also where
    its metadata is damaged or lists no field on disk (said in one line), so that it fails
    as one input, the others predicted."""
    from unetlab.data.plates import plate_fields

    try:
        fields = plate_fields(path)
    except ImageReadError as exc:  # said; then its read fails, as one input's
        note_once(str(exc))
        fields = None
    if fields is None:
        return [path]
    wells = len({f.parent for f in fields})
    shown = f"{numbered(len(fields), 'field')} in {numbered(wells, 'well')}"
    log.info("%s: an HCS plate's %s, each predicted as an image", path, shown)
    return fields


#: how a split beside Data Science Bowl samples is predicted, as the caller asks for it
#: (:func:`said_as`: predict_folder in a notebook was told ``--input`` and ``--recursive``, s53)
SPLIT_AS_INPUT = Spelled(
    "give it as an input, or use predict_tree", "give it as --input, or --recursive"
)


def dsb_inputs(
    folder: Path, own: list[Path] | None = None, *, recursive: bool = False
) -> list[Path]:
    """The images of a folder of Data Science Bowl samples with no inputs of its own
    (``stage1_test/ID/images/ID.png``, masks/ or not: :func:`~unetlab.data.dsb.dsb_images`),
    said in one line; their outputs go into one folder, named by the images' names (the
    IDs, which the ground truth's pairs have); else []. A split's sub-folder among them
    (``test/``: :func:`~unetlab.data.dsb.dsb_splits`) is no sample: the line says how it
    is predicted (as --input; ``recursive``: predict_tree searches it). ``own``: the
    folder's :func:`folder_inputs`, where the caller found them."""
    from unetlab.data.dsb import dsb_images, dsb_splits

    own = folder_inputs(folder, []) if own is None else own
    if own or (images := dsb_images(folder)) is None:
        return []
    splits = ", ".join(f"{d.name}/" for d in dsb_splits(folder))
    how = "searched apart" if recursive else f"not predicted ({said_as(SPLIT_AS_INPUT)})"
    log.info(
        "%s/ holds %d Data Science Bowl samples: predicting ID/images/ID.png%s",
        *(folder, len(images), f"; {splits} {how}" if splits else ""),
    )
    return images


def say_unread(patterns) -> list[Path]:
    """The microscope files of ``patterns`` (folders, globs) unetlab does not read, said in
    one line (:func:`~unetlab.data.folder_notes.unread_microscope_files`); the inputs the
    command found already (:func:`_found_before`: images, looked at then) not looked at
    again (s64: a stat each, predict_folder's after the command line's)."""
    from unetlab.data.folder_notes import unread_line, unread_microscope_files

    if isinstance(patterns, (str, os.PathLike)):
        patterns = [patterns]
    if files := unread_microscope_files([p for p in patterns if not _found_before(Path(p))]):
        log.warning("%s", unread_line(files))
    return files


#: how a caller predicts a folder's sub-folders too (a notebook was told "add --recursive
#: (Python: predict_tree)", both inline, s56)
RECURSIVE = Spelled("use predict_tree", "add --recursive")


def _subfolders_left_out(folder: Path) -> list[Spelled]:
    """The line naming ``folder``'s sub-folders of images that predict leaves out (a folder is
    not searched recursively; audit s34 messy 1), with the way that takes them, as the
    Python API and the command line spell it."""
    from unetlab.data.ctc import truth_folders
    from unetlab.data.dicom import series_beside_line
    from unetlab.data.folder_notes import image_subfolders, subfolders_line
    from unetlab.data.io import INPUT_SUFFIXES
    from unetlab.data.names import role_folders

    subs = image_subfolders(folder, INPUT_SUFFIXES)
    series = [Spelled(line, line)] if (line := series_beside_line(folder, subs)) else []
    truths = truth_folders(list(subs))  # --recursive passes over them (s69 re-review)
    if not (subs := {sub: n for sub, n in subs.items() if sub not in truths}):
        return series
    images = role_folders(folder, ["images"])  # a data set's root (Images/ too)
    splits = [s for s in subs if s.name.casefold() in SPLIT_FOLDERS]

    def line(recursive: str) -> str:
        if images:
            return subfolders_line(folder, subs, _data_set_fix(images["images"], splits, recursive))
        fix = (
            f"{recursive} to predict them with their outputs in the same sub-folders of the "
            "output folder (an earlier run's outputs in the tree are passed over)"
        )
        return subfolders_line(folder, subs, fix)

    return [Spelled(*map(line, RECURSIVE)), *series]


def _others_left_out(folder: Path) -> list[Spelled]:
    """The lines naming the inputs deeper in ``folder`` that a folder of no images leaves
    out: DICOM series (:func:`_series_left_out`), TotalSegmentator cases
    (:func:`_cases_left_out`)."""
    return _series_left_out(folder) + _cases_left_out(folder)


def _cases_left_out(folder: Path) -> list[Spelled]:
    """The line naming the TotalSegmentator cases in ``folder`` (``s0001/ct.nii.gz``; s74
    review: 'no images found in Totalsegmentator_dataset'), with the way that takes them
    (their CTs share a name: a glob of them clashes)."""
    from unetlab.data.totalseg import cases_among

    if not (cases := cases_among(folder)):
        return []
    first = cases[0][0].relative_to(folder)
    fix = (
        " to predict each case's CT into its case's folder of the output folder "
        f"(OUT/{first}; the cases' masks passed over)"
    )
    shown = f"{first}{', ...' if len(cases) > 1 else ''}"
    return _below_line(folder, numbered(len(cases), "TotalSegmentator case"), shown, fix)


def _series_left_out(folder: Path) -> list[Spelled]:
    """The line naming the DICOM series deeper in ``folder`` (a PACS export's DICOMDIR tree:
    ``DICOM/ST000000/SE000001/``; s72 review: 'no images found in pacs'), with the ways
    that take them."""
    from unetlab.data.dicom import series_below

    if not (series := series_below(folder)):
        return []
    shown = ", ".join(f"{s.relative_to(folder)}/" for s in series[:3])
    above = sorted({str(s.parent) for s in series})
    fix = (
        " to predict each into the same sub-folders of the output folder, or give the "
        f"folders that hold them ({' '.join(above[:3])}{' ...' if len(above) > 3 else ''})"
    )
    shown += ", ..." if len(series) > 3 else ""
    return _below_line(folder, numbered(len(series), "DICOM series", "DICOM series"), shown, fix)


def _below_line(folder: Path, counted: str, shown: str, fix: str) -> list[Spelled]:
    """The line naming the inputs ``counted`` (``3 DICOM series``) deeper in ``folder``,
    the first ``shown``, and the way that takes them (``fix``, after the flag)."""
    said = f"{folder}/: {counted} in its sub-folders ({shown}), not searched: "
    return [Spelled(*(said + recursive + fix for recursive in RECURSIVE))]


def _data_set_fix(images: Path, splits: list[Path], recursive: str) -> str:
    """What to give for a data set's root given without ``--recursive``: its ``images``
    folder, and the ``splits`` of images beside it (``ds/test/``: the user's test images,
    listed and not suggested), which ``recursive`` (:data:`RECURSIVE`) predicts with it."""
    if not splits:
        return f"it looks like a data set: give {images} to predict its images"
    named = " or ".join(map(str, [images, *splits]))
    return (
        f"it looks like a data set: give {named} to predict its images, or {recursive} "
        "to predict them all, their outputs in the same sub-folders of the output folder"
    )


def _where_images_are(left_out: Sequence[str]) -> str:
    """``: FOLDER/: day1/ (3 image files) ... is not read: ...`` for a folder of no images
    but sub-folders of them, else ""."""
    return f": {'; '.join(left_out)}" if left_out else ""


def _without_seg_files(files: list[Path]) -> list[Path]:
    """``files`` less cellpose's masks files (``X_seg.npy``: masks, no image; a cellpose
    folder given to predict said "give the file itself", which failed: s72 notes; a numeric
    array so named is an image), said once a command, naming the first one's folder."""
    from unetlab.data.npy import seg_image
    from unetlab.data.read_notes import note_once

    if not (segs := [f for f in files if is_seg_file(f)]):
        return files
    more = ", ..." if len(segs) > 2 else ""
    shown = ", ".join(m.name for m in segs[:2]) + more
    images = [i.name for s in segs[:2] if (i := seg_image(s)) is not None]
    of = f"the masks of {', '.join(images)}{more}" if images else "masks"
    note_once(
        f"{segs[0].parent}/: {numbered(len(segs), 'cellpose masks file')} ({shown}) not predicted: "
        f"{worded(len(segs), 'it holds', 'they hold')} {of}, no image"
    )
    return [f for f in files if f not in set(segs)]


def _without_masks(folder: Path, files: list[Path]) -> list[Path]:
    """A folder's images without the masks beside them (``X_masks.png``, ``X_mask.png``,
    ``X_label.tif``, ... beside ``X.tif``: a data set given to predict; audit s33 migrant,
    s34 messy 5), said once a command (a folder is listed more than once: it was said twice)."""
    from unetlab.data.pairs import masks_beside_images
    from unetlab.data.read_notes import note_once

    masks = masks_beside_images(files)
    if masks:
        shown = ", ".join(m.name for m in masks[:2]) + (" ..." if len(masks) > 2 else "")
        note_once(
            f"{folder}/: {numbered(len(masks), 'mask')} beside their images ({shown}) "
            f"{worded(len(masks), 'is', 'are')} not "
            "predicted; give the file itself to predict one"
        )
    return [f for f in files if f not in set(masks)]


def streamed_inputs(
    files: Sequence[Path],
    model,
    outputs: OutputOptions,
    each: dict,
    *,
    processes: int = 1,
    alone: bool = False,
) -> list[bool]:
    """Whether each of ``files`` is predicted window by window by ``model`` with ``outputs``
    and :func:`predict_file`'s keywords ``each`` in a run of ``processes``: the rule
    :func:`predict_file` follows (:func:`~unetlab.inference.stream_rule.is_streamed`); an
    unreadable file is not (its error comes when it is predicted). ``alone``: whether each is
    streamed by the one process it is dealt to instead
    (:func:`~unetlab.inference.stream_rule.streamed_alone`)."""
    options = _resolved(model, each)
    rule = dict(axes=each.get("axes"), processes=processes)
    test = streamed_alone if alone else is_streamed

    def streamed(path: Path) -> bool:
        try:
            with keeping_open(path):  # its header opened once for the rule's reads
                read = file_read_axes(model, path, rule["axes"], say=False)  # as predict_file
                return test(path, model, outputs, options, **(rule | {"axes": read}))
        except UnetlabError:
            return False

    return [streamed(path) for path in files]


def later_streamed(files: Sequence[Path], model, outputs: OutputOptions, each: dict) -> list[bool]:
    """Whether a position after the first of each of ``files`` (a multi-position OME-TIFF)
    is streamed (:func:`~unetlab.inference.stream_rule.later_position_streamed`), with
    :func:`predict_file`'s keywords ``each``; those are streamed each by its own size where
    the first is not (what :func:`streamed_inputs` says, by the first)."""
    options, axes = _resolved(model, each), each.get("axes")

    def streamed(path: Path) -> bool:
        try:
            read = file_read_axes(model, path, axes, say=False)  # as predict_file reads
            return later_position_streamed(path, model, outputs, options, axes=read)
        except UnetlabError:
            return False

    return [streamed(path) for path in files]


def _resolved(model, each: dict) -> PredictOptions:
    """The :class:`PredictOptions` of :func:`predict_file`'s keywords ``each`` for ``model``."""
    given = {k: v for k, v in each.items() if k in PredictOptions.__dataclass_fields__}
    return PredictOptions.for_model(model, each.get("options"), **given)


@contextlib.contextmanager
def claim_folder(
    out_dir: str | os.PathLike,
    files: Sequence[Path],
    outputs: OutputOptions | None = None,
    *,
    overwrite_fix: str = PYTHON_OVERWRITE_FIX,
    record: Provenance | Callable[[], Provenance] | None = None,
    changed: dict[str, str] | None = None,
    listed: Sequence[Path] | None = None,
) -> Iterator[set[Path]]:
    """``out_dir`` checked and held for the ``outputs`` of ``files``
    (:func:`prediction_folder`; ``record``: what makes them, or a function that gives it
    once the folder is checked); yields the inputs to skip: with ``outputs.skip_existing``,
    those whose asked-for outputs an earlier prediction by the same checkpoint and settings
    (``record``) wrote there (:func:`finished_inputs`, asked before this run's names enter
    the manifest). With ``skip_existing``, outputs of the other inputs that another model
    made there (:func:`other_models`) are refused, OutputError naming the fix, unless
    ``outputs.overwrite`` (they are predicted again). Its messages name the fixes as the
    caller gives them (:func:`said_as`: the keywords, ``overwrite=True``, ``out_dir``, or the
    command line's flags), ``overwrite`` as ``overwrite_fix`` spells it.
    With ``outputs.objects`` and
    several ``files`` (``listed``, where the table lists more inputs: those failed before
    the run), the per-image table's name is claimed too
    (:func:`~unetlab.inference.objects_summary.claim_summary`). ``changed`` (a dict) gets
    each output whose input changed since it was made -> that input (with ``record``)."""
    outputs = OutputOptions.of(outputs)
    claim = _Claim(Path(out_dir), files, outputs, overwrite_fix, changed)
    if outputs.skip_existing and record is None:
        claim.done.update(finished_inputs(out_dir, files, **outputs.wanted))
    fix = dict(overwrite_fix=overwrite_fix, record=record, checked=claim.check)
    if outputs.outlines == "coco":  # before any line of the folder's (s74)
        refuse_coco(out_dir, overwrite=outputs.overwrite, keep=outputs.skip_existing)
    refuse_own_plates(out_dir, files, outputs)  # an output plate never in its input plate
    with slide_resume.noting_unskipped(), prediction_folder(out_dir, files, outputs, **fix):
        if _summed(outputs, files if listed is None else listed, out_dir):  # before any work
            claim_summary(out_dir, overwrite=outputs.overwrite)
        claim_wells(out_dir, files, outputs)  # an HCS plate's per-well table and picture
        if outputs.outlines == "coco":
            claim_coco(out_dir, overwrite=outputs.overwrite, keep=outputs.skip_existing)
        yield claim.done


@dataclass
class _Claim:
    """What :func:`claim_folder` checks in ``out_dir`` once it holds it, before this run
    enters the manifest (:meth:`check`), and the inputs it found ``done``."""

    out_dir: Path
    files: Sequence[Path]
    outputs: OutputOptions
    overwrite_fix: str
    changed: dict[str, str] | None
    done: set[Path] = field(default_factory=set)

    @manifests_read_once()
    @prediction_records_read_once()
    def check(self, made: Provenance) -> None:
        """``changed`` filled; a line where the folder mixes models' outputs; with
        ``skip_existing`` the inputs ``made`` finished there added to ``done`` (their lines
        confirmed) and OutputError where another model made the others' outputs, unless
        ``overwrite``. The manifest and ``predict.json`` read once while unchanged (s62: 8
        and 3 times by its looks, 13 and 4 with ``skip_existing``; the lines it confirms
        rewrite the manifest: read anew)."""
        out_dir, files = self.out_dir, self.files
        if self.changed is not None:
            self.changed.update(changed_outputs(out_dir, "predict"))
        mixed, read = other_inputs(out_dir, files, made)
        if mixed:
            log.warning(_mixed_line(out_dir, mixed, made, self.overwrite_fix))
        if read:
            log.info(_read_line(out_dir, read))
        if self.outputs.skip_existing:
            self._skip_finished(made)
        elif not self.outputs.overwrite:
            self._say_again(made)

    def _say_again(self, made: Provenance) -> None:
        """One line where ``made`` (this checkpoint and settings) finished some inputs'
        outputs here before: they are predicted again, and the line names the flag that
        keeps them (walk s49: a finished slide run again was predicted again for minutes
        without a word)."""
        again = finished_outputs(self.out_dir, self.files, record=made, **self.outputs.wanted)
        if again:
            log.info(_again_line(self.out_dir, list(again)))
        self._say_other_settings(made, self.files)

    def _say_other_settings(self, made: Provenance, files: Sequence[Path]) -> None:
        """One line where this model made outputs of ``files`` here with other output
        settings: they are predicted again (:func:`_other_settings_line`)."""
        if other := other_output_settings(self.out_dir, files, made):
            log.info(_other_settings_line(self.out_dir, other))

    def _skip_finished(self, made: Provenance) -> None:
        """The inputs whose outputs ``made`` wrote added to ``done``, their outputs' lines
        confirmed (a killed run's: the files carry the key); OutputError where another model
        made the other inputs' outputs, unless ``overwrite``; their staging folders a run
        killed after it wrote them left are removed."""
        out_dir, files = self.out_dir, self.files
        finished = _finished(out_dir, files, made, self.outputs)
        listed = folder_names(out_dir) or set()  # the stagings there: one listing (s67)
        unskipped = _unskipped_for_rows(out_dir, finished, listed)  # not in finished, nor rest
        rest = [f for f in files if f not in finished and f not in unskipped]
        _say_changed(out_dir, rest)
        self._say_other_settings(made, rest)
        self._say_partial(made, rest)
        self.done.update(finished)
        names = [n for made_here in finished.values() for n in made_here]
        confirm(out_dir, _listed_keys(out_dir, names), "predict")
        remove_finished_stagings(out_dir, names, listed)  # a run killed before removing them
        others = other_models(out_dir, [f for f in files if f not in self.done], made)
        if others and not self.outputs.overwrite:
            raise OutputError(_other_model_line(out_dir, others, made, self.overwrite_fix))

    def _say_partial(self, made: Provenance, rest: Sequence[Path]) -> None:
        """One line naming the inputs of ``rest`` whose labels ``made`` wrote here but not
        every output asked for now, and the kinds the first lacks: ``skip_existing`` predicts
        them again whole (walk s50: a slide's overlay added with --skip-existing predicted
        it again for minutes without a word), but for an overlay or outlines of an image read
        whole, drawn from the outputs there (:mod:`~unetlab.inference.drawn_again`)."""
        partial = list(finished_outputs(self.out_dir, rest, record=made)) if rest else []
        if not partial:
            return
        asked = [k for k, on in self.outputs.wanted.items() if on]
        missing = [
            k
            for k in asked
            if not finished_outputs(self.out_dir, partial[:1], record=made, **{k: True})
        ]
        more = _and_more(partial)
        again = again_said(missing, self.outputs, len(partial))
        named = missing_outputs(self.out_dir, partial[0], missing, made) or missing
        log.info(
            "%s: %s%s: the labels this checkpoint and settings made are here, not all the "
            "outputs asked for now (%s missing): %s",
            *(self.out_dir, partial[0].name, more, ", ".join(named), again),
        )


def _finished(
    out_dir: Path, files: Sequence[Path], made: Provenance, outputs: OutputOptions
) -> dict[Path, list[str]]:
    """:func:`finished_outputs` of ``files`` in ``out_dir`` by ``made``, of every output
    ``outputs`` ask for but the SEG of a series that can have none
    (:func:`~unetlab.inference.seg_out.seg_wanted`): its labels there are its outputs (s74
    review: a rerun said it drew its SEG, counted it written, and drew nothing)."""
    wanted = outputs.wanted
    segless = [f for f in files if wanted["seg"] and not seg_wanted(f, outputs)]
    finished = finished_outputs(
        out_dir, [f for f in files if f not in segless], record=made, **wanted
    )
    if segless:
        without = finished_outputs(out_dir, segless, record=made, **(wanted | {"seg": False}))
        finished |= without
    return finished


def _unskipped_for_rows(
    out_dir: Path, finished: dict[Path, list[str]], staged: Collection[str]
) -> list[Path]:
    """The inputs of ``finished`` whose outputs a stopped run was replacing, taken out of
    it: its kept rows are resumed, not skipped and deleted (:func:`~.slide_resume.replacing`,
    asked only of an output whose staging the folder's one listing ``staged`` shows: s66, a
    stat of each output's staging; a staging the command cannot resume is kept, said then:
    :func:`~.slide_resume.note_unskipped`)."""

    def replacing(name: str) -> bool:
        final = out_dir / name
        return staging_path(final).name in staged and slide_resume.replacing(final)

    unskipped = [p for p, names in finished.items() if any(map(replacing, names))]
    for path in unskipped:
        del finished[path]
        slide_resume.note_unskipped(path)
    return unskipped


def _and_more(inputs: Sized, word: str = "more") -> str:
    """`` and 2 more inputs`` after the first of ``inputs`` is named (`` and 1 other input``;
    "" for one)."""
    return f" and {numbered(len(inputs) - 1, word + ' input')}" if len(inputs) > 1 else ""


#: how a rerun scores a folder of predictions, as the caller gives it (:func:`said_as`)
SCORED_BY = Spelled("evaluate_predictions", "evaluate --pred")


def _again_line(out_dir: Path, again: Sequence[Path]) -> str:
    """``out/ holds the outputs of a.png and 2 more inputs by this checkpoint and settings:
    predicted again, replacing them (--skip-existing keeps them)``, the flag as the caller
    gives it (:func:`said_as`)."""
    keep = said_as(SKIP_EXISTING)
    more = _and_more(again)
    return (
        f"{out_dir} holds the outputs of {again[0].name}{more} by this checkpoint and "
        f"settings: predicted again, replacing them ({keep} keeps them)"
    )


def _other_settings_line(out_dir: Path, other: dict[Path, tuple | None]) -> str:
    """``out/ holds the outputs of a.png and 1 more input made with other output settings
    (objects min_area 1 there, 400 here): predicted again, replacing them`` (``other``:
    :func:`~.output_rules.other_output_settings`: their settings and ours, or None where
    predict.json holds none), as :func:`whose_outputs` names a change of the model's
    settings; where the inputs' settings differ from ours in different ways, the inputs of
    each setting counted (:func:`_changes_counted`: s64, the first's alone were named)."""
    first, pair = next(iter(other.items()))
    which = f"{out_dir} holds the outputs of {first.name}{_and_more(other)}"
    each = [None if p is None else _changes(*p) for p in other.values()]  # once an input
    said = {None if c is None else _changes_said(c) for c in each}
    if len(said) > 1:
        changes = _changes_counted(each)
    elif pair is None:  # s63 review: 'objects not given there, given here', of no record
        return (
            f"{which} made with other output settings, which predict.json does not hold (its "
            "run stopped before it recorded them): predicted again, replacing them"
        )
    else:
        (changes,) = said
    return f"{which} made with other output settings ({changes}): predicted again, replacing them"


def _changes_counted(each: list[dict | None], most: int = 3) -> str:
    """``objects fill_holes on 3, objects min_area on 1``: each output setting that differs
    in any of ``each`` (:func:`_changes` of each input of :func:`_other_settings_line`;
    None: settings not held) and how many inputs it differs for, most first, ``most`` named
    and the others counted."""
    counted: collections.Counter = collections.Counter()
    for changes in each:
        named = ["settings predict.json does not hold"] if changes is None else []
        counted.update(named or [_setting_named(path) for path in changes])
    shown = [f"{name} on {count}" for name, count in counted.most_common(most)]
    more = f" and {len(counted) - most} more" if len(counted) > most else ""
    return ", ".join(shown) + more


#: the output settings of a record as the caller gives them (:func:`said_as`), where their
#: record's name is not how; an object option's is its flag (``min_area``: ``--min-area``)
OUTPUT_SETTINGS = {
    "objects": Spelled("objects", "--instances"),
    "objects_3d": Spelled("objects_3d", "--objects-3d"),
    "labels": Spelled("labels (color, label_values)", "labels (--color, --label-values)"),
    "label_values": Spelled("label_values", "--label-values"),
    "pixel_size": Spelled("pixel_size", "--pixel-size"),
    "z_spacing": Spelled("z_spacing", "--z-spacing"),
    "seg_codes": Spelled("seg_codes", "--seg-codes"),
}


#: the object options no flag of ``unetlab predict`` sets (the checkpoint's, or made of the
#: flags: ``class_min_areas`` none once --min-area is given; ``no_class``, the training's
#: ignored class): named as the record names them
NO_FLAG = (
    "mode",
    "background",
    "min_seed_area",
    "foreground_threshold",
    "class_min_areas",
    "no_class",
)

#: the object options whose flag has a ``--no-`` form (``--no-fill-holes``): named by the
#: flag each value is given by
NEGATABLE = ("fill_holes", "distance_split")


def _output_changes(theirs: dict, ours: dict) -> str:
    """Each output setting of two records that differs, named as the caller gives it, with
    both values: ``objects min_area 1 there, 400 here`` (``--min-area``), ``objects given
    there, not given here`` (``--instances``); those the caller gives first, each of them
    (s63 review: 'and 1 more' hid the --min-area just typed), then those of the checkpoint
    (:data:`NO_FLAG`) up to three in all. The target an instance model's labels have
    without objects (its classes) goes with objects turned off, which says it (s62 notebook
    user: "no target there, target instances here")."""
    return _changes_said(_changes(theirs, ours))


def _changes_said(changes: dict[tuple, tuple]) -> str:
    """:func:`_output_changes` of the settings that differ (:func:`_changes`)."""
    given = [path for path in changes if _given_by_caller(path)]
    rest = [path for path in changes if path not in given]
    shown = given + rest[: max(0, 3 - len(given))]
    said = [_change_said(path, *changes[path]) for path in shown]
    more = f" and {len(changes) - len(shown)} more" if len(changes) > len(shown) else ""
    return "; ".join(said or ["none that predict.json holds apart"]) + more


def _changes(theirs: dict, ours: dict) -> dict[tuple, tuple]:
    """The output settings of two records that differ (:func:`changed_settings`, a group's
    each), less the target where objects are turned on or off (:func:`_output_changes`)."""
    changes = changed_settings(_objects_as_run(theirs), _objects_as_run(ours), groups=True)
    if ("objects",) in changes:
        changes.pop(("target",), None)
    return changes


def _objects_as_run(record: dict) -> dict:
    """``record`` with its objects' settings that it leaves out at their values
    (:func:`~unetlab.inference.records.objects_as_run`): ``background 0``, not ``not given``."""
    found = record.get("objects")
    return {**record, "objects": objects_as_run(found)} if isinstance(found, dict) else record


#: a model's objects of no background class (every class makes them) in a line of changes
_NO_BACKGROUND_SAID = "none (every class makes objects)"


def _given_by_caller(path: tuple) -> bool:
    """Whether the output setting of a record at ``path`` (:func:`_output_changes`) is one a
    caller gives (a flag, a keyword), not the checkpoint's (:data:`NO_FLAG`)."""
    return path[-1] not in NO_FLAG if len(path) > 1 else path[0] in OUTPUT_SETTINGS


def _change_said(path: tuple, there, here) -> str:
    """``--min-area 1 there, 400 here``; ``--fill-holes there, --no-fill-holes here`` (s63
    review: 'true there, false here' of --no-fill-holes typed); ``--split-necks not given
    there, given here``; in Python ``objects fill_holes True there, False here``."""
    name = _setting_named(path)
    if path == ("seg_codes",) and isinstance(there, dict) and isinstance(here, dict):
        return f"{name}: other codes for {_classes_coded_otherwise(there, here)}"
    if path[-1] == "background":  # None: no background class, not a setting not given
        there, here = (_NO_BACKGROUND_SAID if v is None else v for v in (there, here))
    if in_command() and path[-1] in NEGATABLE and {type(there), type(here)} == {bool}:
        negated = "--no-" + name.removeprefix("--")
        return f"{name if there else negated} there, {name if here else negated} here"
    return "{} {} there, {} here".format(name, *said_pair(there, here))


def _classes_coded_otherwise(there: dict, here: dict) -> str:
    """``liver, spleen``: the classes two records' ``seg_codes`` (class -> [category, type])
    code otherwise, one coded in one alone too."""
    return ", ".join(sorted(k for k in there.keys() | here.keys() if there.get(k) != here.get(k)))


def _setting_named(path: tuple) -> str:
    """An output setting of a record (a group's: ``("objects", "min_area")``) as the caller
    gives it: ``objects min_area``, ``--min-area``; ``labels (--color, --label-values)``."""
    if len(path) > 1 and path[-1] not in NO_FLAG:
        return said_as(Spelled(" ".join(path), flag_of(path[-1])))
    if len(path) > 1:  # the checkpoint's, or what a flag given made of it
        return " ".join(path)
    spelled = OUTPUT_SETTINGS.get(path[0])
    return said_as(spelled) if spelled else path[0]


def _listed_keys(out_dir: Path, names: Sequence[str]) -> dict[str, str]:
    """Each of ``names`` (outputs a rerun skips as finished by its record) -> the key its
    manifest line gives, PENDING or not: the rerun's, or that of a run whose outputs of a
    2-D image are the same (:func:`~unetlab.inference.records.flat_keys`; a stopped
    --objects-3d run's lines of its 2-D image, of the run without the flag, stayed PENDING
    when only the rerun's key was confirmed)."""
    keys = recorded_keys(out_dir, "predict")
    return {n: keys[n].removeprefix(PENDING) for n in names if keys.get(n)}


def _say_changed(out_dir: Path, files: Sequence[Path]) -> None:
    """One line naming the ``files`` (not skipped) whose outputs in ``out_dir`` were made
    from the file before it changed (:func:`~unetlab.manifest.changed_sources`)."""
    stale = changed_sources(out_dir, "predict") if out_dir.is_dir() else set()
    if changed := [f.name for f in files if input_source(f) in stale]:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        log.info(
            "%s changed since %s outputs were written: predicted again",
            ", ".join(changed[:3]) + more,
            "its" if len(changed) == 1 else "their",
        )


def _mixed_line(out_dir: Path, mixed: dict[str, str], record: Provenance, fix: str) -> str:
    """The one line for other inputs' outputs that another model made, left beside this
    run's: the folder will mix two models (``fix``: how the caller spells ``overwrite``)."""
    first, made = next(iter(mixed.items()))
    more = _and_more(mixed, "other")
    another = said_as(another_folder("--output"))
    score = said_as(SCORED_BY)  # Python was told evaluate --pred (s56)
    return (
        f"{out_dir} also holds outputs of {Path(first).name}{more} made by {made}, not by "
        f"this run's {record.describe()}: the folder will mix two models ({score} "
        f"would score the mix); predict those inputs again too, or give {another}"
    )


def _read_line(out_dir: Path, read: dict[str, str]) -> str:
    """The one line for other inputs' outputs that this run's model made from the input read
    or tiled otherwise (``read``: input -> how, with the settings that differ): one model."""
    first, how = next(iter(read.items()))
    more = _and_more(read, "other")
    return (
        f"{out_dir} also holds outputs of {Path(first).name}{more} made by this run's model "
        f"{how}: the same model, not two"
    )


def _other_model_line(
    out_dir: Path, others: dict[Path, tuple[str, Provenance | None]], record: Provenance, fix: str
) -> str:
    """The one line for outputs another model made, which ``skip_existing`` would keep; for
    this checkpoint's made with other settings (``--level 1``, ``--tile-size 16``) it names
    the checkpoint once (it named it twice, "made by X, not by this run's X, level 1")."""
    first, (said, made) = next(iter(others.items()))
    more = _and_more(others)
    another = said_as(another_folder("--output folder"))
    if made is not None and made.same_weights(record):
        return (
            f"{out_dir} holds {whose_outputs(made, record)}: those of {first.name}{more}, by "
            f"{record.weights_phrase()}; give {another}, or {fix} to predict them again with "
            "these settings"
        )
    return (
        f"{out_dir} holds another model's outputs: those of {first.name}{more} were made by "
        f"{said}, not by this run's {record.describe()}; give {another}, or {fix} to predict "
        "them again with this one"
    )


def whose_outputs(made: Provenance | None, ours: Provenance) -> str:
    """ "another model's outputs" where the record ``made`` (None: none known) names other
    weights than ``ours``, else this checkpoint's with the settings that differ ("... other
    settings (scale 2 there, the defaults here)"): told by the records' fields, not by
    splitting their phrases at ", " (a checkpoint's path may hold one: s44 small 1)."""
    if made is None or not made.same_weights(ours):
        return "another model's outputs"
    theirs, own = made.setting_phrases(), ours.setting_phrases()
    there = ", ".join(p for p in theirs if p not in own) or "the defaults"
    here = ", ".join(p for p in own if p not in theirs) or "the defaults"
    return f"this checkpoint's outputs made with other settings ({there} there, {here} here)"


def predict_or_fail(
    model: torch.nn.Module, path: Path, out_dir: Path, outputs: OutputOptions, **settings
) -> list[Path] | UnetlabError:
    """:func:`predict_file` (``outputs``, ``settings``: its other keywords), or the
    UnetlabError that is this file's own (it cannot be read, or does not fit the model, or
    an output's name is a file unetlab did not write: TheirFileError). Other OutputErrors
    and OutOfMemoryError are raised: every later file would fail the same way."""
    try:
        with HEADERS.stamped(real_path(path)):  # its reads: a stamp (s64: 4, 3 of them again)
            return predict_file(model, path, out_dir, outputs, **settings)
    except TheirFileError as exc:  # this input's outputs only (audit s37 paths B)
        return exc
    except (OutputError, OutOfMemoryError):
        raise
    except UnetlabError as exc:
        return exc


def named_by_path(path: Path, line: str, shown: str | None = None) -> str:
    """A file's failure ``line`` naming it by ``path`` as given (``in/c64.tif: ...``) where
    it named it as its run's lines do (``shown``: :func:`~unetlab.data.shown.shown_as`'s
    name, a folder's ``c64.tif``) or by its name alone (``c64.tif: ...``; others named the
    path: one form, what ``result.failed`` and the failed line say)."""
    for name in dict.fromkeys(n for n in (shown, path.name) if n is not None):
        if str(path) != name and line.startswith(name) and line[len(name) :][:1] in (":", " "):
            return f"{path}{line[len(name) :]}"
    return line


def check_settings(
    model: torch.nn.Module,
    outputs: OutputOptions | None = None,
    *,
    options: PredictOptions | None = None,
    name: str = "the model",
    **settings,
) -> None:
    """Refuse settings that would fail every file alike, once, before any work (UnetlabError
    naming the fix): ``color`` with ``label_values``, ``label_values`` for a model that
    records none (``name``: what the message calls it, e.g. the checkpoint's path), and bad
    prediction settings (``options`` and ``settings``, its fields by name:
    :func:`~unetlab.inference.files.check_options`); ``outputs``' fields may be given by
    name too, and :data:`~unetlab.inference.keywords.FILE_KEYWORDS`; any other keyword is
    refused (:func:`~unetlab.inference.keywords.check_keywords`)."""
    outputs, settings = OutputOptions.taken(outputs, settings)
    check_keywords(settings)
    if outputs.color and outputs.label_values:
        raise UnetlabError("choose one of color (palette of class indices) and label_values")
    if outputs.label_values and getattr(model, "label_values", None) is None:
        said = f"{name} records no label values: write class indices (drop "
        raise UnetlabError(**spelled(lambda f: f"{said}{f})", LABEL_VALUES))
    fields = {k: v for k, v in settings.items() if k in PredictOptions.__dataclass_fields__}
    check_options(model, options, **fields)


class _Handed(NamedTuple):
    """What each process of a group hands the others once it has predicted its inputs
    (:meth:`_Run._gathered`): its outcome by input (the fields of :data:`_BY_FILE`)
    and ``seconds``; its ``chosen`` notes; the lines its run kept (``handed``), its files'
    read ``notes`` (None in the main one), its lines kept by file (``kept_lines``), its
    objects that look ``merged``, the outputs it kept as they were (``kept_outputs``), the
    inputs it kept for a stopped run's staging it cannot resume (``kept_inputs``:
    :func:`~.slide_resume.kept_inputs`, counted skipped) and its
    ``first`` input of a tree in pixels only (those it wrote from another input than the
    claim listed: handed in a file, :func:`handed_as_read`)."""

    written: dict[Path, list[Path]]
    failed: dict[Path, str]
    objects: dict[Path, list[int]]
    classes: dict[Path, dict[str, int]]
    areas: dict[Path, dict[str, float]]
    seconds: float
    chosen: dict
    handed: tuple
    notes: ReadNotes | None
    kept_lines: dict[Path, list]
    merged: list[tuple[int, int]]
    kept_outputs: set[str]
    kept_inputs: list[str]
    first: Path | None


#: the fields of :class:`_Handed` that map each input to its outcome, in the run's order
_BY_FILE = ("written", "failed", "objects", "classes", "areas")


@dataclass(repr=False)
class FolderPrediction:
    """What :func:`predict_folder` did: ``written`` (each input predicted -> its output
    files, the label image first), ``skipped`` (inputs ``skip_existing`` left out),
    ``failed`` (each input that could not be predicted -> the reason, one line),
    ``objects`` (with ``objects``: each input written -> its objects per plane, ``[n]`` for
    one image), ``classes`` (a semantic model's objects: each input -> its objects of each
    class by class name, as its objects table's ``class_name`` column holds them),
    ``areas`` (those objects on a map in metres: each input -> their area in m² by class
    name, :func:`~unetlab.inference.measure.class_areas`), ``pixels`` (of the label images
    written) and ``seconds`` (the predicting: after the folder is claimed, and any warm-up).
    In a group of processes each holds the whole run's, every input once: ``pixels`` all
    processes', ``seconds`` the longest process's (they start together: the run's wall
    time), so that ``pixels / seconds`` is the group's rate.
    ``summary`` (with ``objects`` and several inputs, in the main process): one row per
    input, in input order, as the folder's ``objects_summary.csv`` holds it, the skipped
    inputs' read from their tables
    (:func:`~unetlab.inference.objects_summary.folder_summary`). ``class_names``: the
    model's classes, in its order (that of the objects' classes in the lines).
    ``not_read``: the files of the inputs' folders in a microscope format unetlab does not
    read (:func:`~unetlab.data.folder_notes.unread_microscope_files`), said in one line.
    ``in_use``: the output folder was held by another unetlab process (a folder that
    :func:`~unetlab.inference.tree.predict_tree` could not start)."""

    written: dict[Path, list[Path]] = field(default_factory=dict)
    skipped: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)
    objects: dict[Path, list[int]] = field(default_factory=dict)
    pixels: int = 0
    seconds: float = 0.0
    classes: dict[Path, dict[str, int]] = field(default_factory=dict)
    areas: dict[Path, dict[str, float]] = field(default_factory=dict)
    summary: list[dict] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    not_read: list[Path] = field(default_factory=list)
    in_use: bool = False

    def __repr__(self) -> str:
        """One line (a notebook cell's value; the dataclass's listed every input and output
        of the folder, audit s48 apiwalk): the counts and rate of ``unetlab predict``'s last
        line, the objects found, and the fields that hold each input's."""
        rate = f", {self.pixels / self.seconds / 1e6:.2f} MP/s" if self.seconds > 0 else ""
        found = sum(sum(counts) for counts in self.objects.values())
        objects = f", {found} objects" if self.objects else ""
        return (
            f"FolderPrediction({len(self.written)} written, {len(self.skipped)} skipped, "
            f"{len(self.failed)} failed in {self.seconds:.1f} s{rate}{objects}; each input's: "
            ".written, .skipped, .failed, .summary)"
        )


#: A model, or a function that loads it (called once the output folder is checked).
ModelSource = torch.nn.Module | Callable[[], torch.nn.Module]


@reads_h5_as_trained  # a loaded model's data.h5_dataset, as the command's
@call_lines()  # its INFO lines shown; a call is one command for what reading notes
def predict_folder(
    model: ModelSource,
    inputs: str | os.PathLike | Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    outputs: OutputOptions | None = None,
    *,
    group: Group = SOLO,
    progress: bool | Callable[[str], None] = True,
    clock: Callable[[torch.nn.Module], contextlib.AbstractContextManager] | None = None,
    notes: Callable[[torch.nn.Module, ObjectOptions | None], Sequence[str]] | None = None,
    failed: Callable[[str], None] | None = None,
    report: Callable[[FolderPrediction], None] | None = None,
    name: str = "the model",
    overwrite_fix: str = PYTHON_OVERWRITE_FIX,
    root: str | os.PathLike | None = None,
    **settings,
) -> FolderPrediction:
    """Predict every image of ``inputs`` (folders, files, globs: :func:`find_inputs`; any iterable)
    into ``out_dir`` as ``unetlab predict --input ... --output OUT_DIR`` does (each Python thread's
    own threads, fewer beside other work: :mod:`.threads_look`); return a :class:`FolderPrediction`.
    ``outputs``, ``settings`` (its fields: :func:`predict_file`'s keywords) say each file's outputs.
    Refused first, naming the fix: an unknown keyword, ``axes`` or a ``channel`` no file could take,
    a folder that cannot be held (:func:`claim_folder`; ``overwrite_fix``), settings that would fail
    every file (``name`` calls the model). A file that cannot be predicted, or whose outputs clash
    with another's (:func:`shared_outputs`), is listed in ``failed`` (its line passed to ``failed``,
    default a warning); the others are written. ``model``: loaded (HDF5 read as it trained) or a
    loader, called once the folder is held. ``group``: processes sharing the work (:class:`_Run`);
    ``progress``: True (default) bars where a person watches, False none, or a function of each
    input's name; ``clock``: a context manager of the model around each file's prediction, after an
    untimed warm-up; ``notes``: lines after the start line; ``report``: called with the result while
    the folder is held; ``root``: the tables' ``path`` base (``inputs`` if one folder)."""
    outputs, settings = OutputOptions.taken(outputs, settings)
    check_keywords(settings)  # before any file is found, the model loaded, the folder held
    check_axes(settings.get("axes")), check_source(model), _check_root(root)  # not each file
    checked(progress, "each input's name")
    inputs, out_dir = _checked_paths(inputs, out_dir)  # an iterable as a list: read once
    # a notebook's Ctrl-C said, listing too; one look at the inputs until the first prediction
    with _stop_said(group, out_dir, outputs) as files, _first_look() as looked:
        not_read, files[:], no_seg = _found(inputs, settings, model, outputs)  # a stop counts them
        apart = shared_outputs(out_dir, files, **outputs.wanted)  # failed; others go on
        load = _Loaded.checked(model, outputs, dict(name=name, **settings))
        before = folder_names(out_dir), _first_missing(out_dir)  # one it makes: None, its top
        hooks = dict(progress=progress, clock=clock, notes=notes, failed=failed, report=report)
        asked = _Asked(group, settings, name, overwrite_fix, inputs, root, **hooks, looked=looked)
        result = _predict_held(load, out_dir, files, apart, not_read, asked, no_seg)
        if group.is_main and not result.written:
            _drop_unused(out_dir, before)
    return result


@contextlib.contextmanager
def _first_look() -> Iterator[Callable[[], None]]:
    """Within, until the function it yields is called (once the folder is claimed, before
    the model loads: :func:`_predict_held`), :func:`predict_folder`'s first look at the
    inputs: the stamp each input took at its first read holds for all its reads, the
    inputs' and the claim's (:meth:`~unetlab.read_once.ReadOnce.settled`; s64: 5 such
    blocks, 4 stamps of each input; s65 review: it spanned the model's load, so an input
    replaced meanwhile was counted by its first header). The streaming rule and the start
    line take a look of their own (:meth:`_Run.predict`)."""
    with contextlib.ExitStack() as first:
        first.enter_context(HEADERS.settled())
        yield first.close


@contextlib.contextmanager
def _stop_said(group: Group, out_dir: Path, outputs: OutputOptions) -> Iterator[list[Path]]:
    """A stop within it (Ctrl-C, SIGTERM) said in one line by the main process, as fit says
    its own (:func:`_say_stopped`; audit s62 user: a notebook cell's Ctrl-C showed a bare
    KeyboardInterrupt); no line where a caller says it (the command line, a tree) nor by its
    files (:func:`~unetlab.signals.stop_said`). Yields the list of the inputs the line
    counts, for the caller to fill once it found them. The folder's hold stays noted until
    the line is said (:func:`holds_of_a_call`), and every DICOM series' header read once
    (:func:`~unetlab.data.dicom.keeping_series`)."""
    files: list[Path] = []
    said = functools.partial(_say_stopped, files=files, out_dir=out_dir, outputs=outputs)
    with holds_of_a_call(), keeping_series(), stop_said(said, main=group.is_main):
        yield files


def _say_stopped(
    exc: KeyboardInterrupt, *, files: list[Path], out_dir: Path, outputs: OutputOptions
) -> None:
    """``predict_folder interrupted with the outputs of 1 of 3 inputs in OUT; continue with
    the same call with skip_existing=True``, and what the rerun keeps of a large image
    stopped part way (:func:`~.slide_resume.restarts`), as the command line's line says
    them; nothing where the folder cannot be read."""
    with contextlib.suppress(UnetlabError, OSError):
        done = inputs_done(files, out_dir, outputs.wanted)
        say_stopped_call("predict_folder", stop_status(exc)[0], done, out_dir, outputs)


def say_stopped_call(call: str, how: str, done: str, out_dir: Path, outputs: OutputOptions) -> None:
    """``call``'s stop line: ``predict_tree interrupted in ROOT/b/ ...; continue with the
    same call with skip_existing=True`` (``done``: where it stopped; ``out_dir``: the output
    folder it stopped in), and what the rerun keeps of a large image stopped part way
    (:func:`~.slide_resume.restarts`), as the command's line says them."""
    again = continue_with(outputs.skip_existing)
    again += slide_resume.restarts(out_dir, outputs.objects_only, dict)
    log.warning("%s %s %s; continue with %s", call, how, done, again)


#: the call that goes on after a stop, as its caller spells it (:func:`said_as`)
SAME_CALL = Spelled("the same call", "the same command")
SAME_CALL_SKIPPING = Spelled(
    f"the same call with {SKIP_EXISTING.python}", f"the same command and {SKIP_EXISTING.cli}"
)


def continue_with(skip_existing: bool) -> str:
    """``the same call with skip_existing=True`` (``the same command and --skip-existing``),
    or the same call alone where it skips the inputs done already."""
    return said_as(SAME_CALL if skip_existing else SAME_CALL_SKIPPING)


def _found(
    inputs, settings: dict, model, outputs: OutputOptions
) -> tuple[list[Path], list[Path], frozenset[Path]]:
    """The inputs of a microscope format that are not read (named: :func:`say_unread`) and
    the files found (:func:`find_inputs`); UnetlabError where ``settings`` would fail every
    file alike (axes no TIFF takes, a channel none has, inputs all of a channel count the
    ``model`` cannot take: :func:`refuse_for_every_file`, told what it takes where it is
    loaded), or ``outputs`` ask for the DICOM SEG of an input that is no DICOM series
    (before the folder is held); and the series whose SEG is not written
    (:func:`~unetlab.inference.seg_out.refuse_seg`)."""
    not_read, files = say_unread(inputs), find_inputs(inputs)
    refuse_for_every_file(inputs, files, settings, takes=model_takes(model))
    return not_read, files, refuse_seg(files, outputs)


@dataclass(frozen=True)
class _Asked:
    """What :func:`predict_folder` was asked besides its model, files and outputs: its
    keywords of the same names (``settings``: :func:`predict_file`'s)."""

    group: Group
    settings: dict
    name: str
    overwrite_fix: str
    inputs: str | os.PathLike | Sequence[str | os.PathLike]
    root: str | os.PathLike | None
    progress: bool | Callable[[str], None]
    clock: Callable[[torch.nn.Module], contextlib.AbstractContextManager] | None
    notes: Callable[[torch.nn.Module, ObjectOptions | None], Sequence[str]] | None
    failed: Callable[[str], None] | None
    report: Callable[[FolderPrediction], None] | None
    looked: Callable[[], None]  # ends its first look at the inputs (before the model loads)

    def run(self, model: torch.nn.Module, out_dir: Path, outputs: OutputOptions) -> _Run:
        """This process's :class:`_Run` of the loaded ``model``."""
        timed = self.clock(model) if self.clock is not None else None
        # it holds the folder; a large file is all processes'
        each = dict(self.settings, group=self.group)
        run = _Run(model, out_dir, outputs, each, self.progress, timed, self.failed)
        run.root = _root(self.inputs, self.root)
        run.named_from = _one_folder(self.inputs, self.root)
        return run


def _predict_held(
    load: _Loaded,
    out_dir: Path,
    files: list[Path],
    apart: dict[Path, str],
    not_read: list[Path],
    asked: _Asked,
    no_seg: frozenset[Path] = frozenset(),
) -> FolderPrediction:
    """:func:`predict_folder` once its inputs are found: ``out_dir`` held (:func:`_claimed`)
    while the inputs not ``apart`` nor skipped are predicted (the series ``no_seg`` with no
    SEG: :func:`~unetlab.inference.seg_out.passing_over`) and the run concluded."""
    group = asked.group
    todo = [f for f in files if f not in apart]
    with contextlib.ExitStack() as claimed, passing_over(no_seg):
        claimed.enter_context(each_position())  # a multi-position OME-TIFF: each position
        claimed.enter_context(read_notes())  # what reading did: one line a kind, at the end
        claimed.enter_context(looking_beside(group))  # fewer threads beside work, as the CLI
        changed: dict[str, str] = {}  # outputs of changed inputs -> input (claim_folder)
        claim = dict(overwrite_fix=asked.overwrite_fix, record=load.record, changed=changed)
        done = _claimed(claimed, out_dir, todo, load.outputs, group, listed=files, **claim)
        if group.is_main:  # their earlier outputs, kept: named in their line; those read
            apart = name_kept_outputs(out_dir, apart, changed)
            note_images(len(todo) - len(done))
        asked.looked()  # inputs changed while the model loads are looked at anew (s65 review)
        model, outputs = load()
        look_beside(model)
        run = asked.run(model, out_dir, outputs)
        run.redo = set(changed.values())  # predicted again: not drawn from their outputs
        run.as_is = any(file_axes(f, "YX") for f in files)  # --axes: the TIFFs' alone
        lines = [] if asked.notes is None else list(asked.notes(model, outputs.objects))
        # the floor's lines said once in the folder's run, not each file (the other
        # processes' by the main one); the heap reused from one file to the next, given back
        # at the end (runtime.tuned_allocator)
        with floor_run(held=not group.is_main), tuned_allocator(), merged_run() as merged:
            left = (len(done), len(apart))  # a start line of nothing to predict says why
            result = run.predict([f for f in todo if f not in done], asked.name, lines, left)
        result.failed = run.failed_apart(files, apart, result.failed)
        kept = [f for f in files if f in done or slide_resume.was_kept(f)]
        result.skipped, result.not_read = kept, not_read
        result.class_names = class_names_of(model)
        if group.is_main:  # nothing of theirs counts as written (outputs._settle)
            inputs_failed(out_dir, [input_source(f) for f in result.failed])
            drop_failed_changed(out_dir, result.failed, changed)
            _conclude(result, out_dir, files, outputs, asked.report, run.root, run.each)
            say_merged(merged)  # the objects that look merged, of every process's images
            _legend(out_dir, model, outputs, result)
            written = [f for f in files if f not in result.failed]
            _one_image_files(out_dir, written, kept, model, outputs)
    return result


def _one_image_files(out_dir: Path, files: list[Path], kept: list[Path], model, outputs) -> None:
    """With ``outlines="labelme"``, each input's labelme file but those ``kept`` that are
    there (:func:`~unetlab.inference.labelme_out.write_run_labelme`), its objects labelled
    as QuPath's (:func:`~unetlab.inference.outlines.outline_class`), a semantic model's by
    their classes; with ``"cellpose"``, its ``_seg.npy``
    (:func:`~unetlab.inference.cellpose_out.write_run_cellpose`)."""
    if outputs.outlines == "cellpose":
        write_run_cellpose(out_dir, files, kept)
    if outputs.outlines == "labelme":
        write_model_labelme(out_dir, files, kept, model, outputs.objects)


def _legend(out_dir: Path, model, outputs: OutputOptions, result: FolderPrediction) -> None:
    """``legend.png`` (:mod:`unetlab.inference.legend`) where the run wrote or skipped
    (``--skip-existing``) overlays of classes or colour label images of three classes or
    more, a model's recording its data set's palette with or without ``--color``
    (:func:`~unetlab.inference.records.own_colours`); else an earlier run's that no output
    left explains removed (:func:`~unetlab.inference.legend.drop_stale_legend`). Review
    s67: outputs skipped by ``--color --skip-existing`` got none, and a plain rerun removed
    the legend of the palette model's colour labels."""
    from unetlab.inference.legend import drop_stale_legend, legend_wanted, write_legend
    from unetlab.inference.records import label_colours, own_colours
    from unetlab.inference.slide_overlay import by_object

    shown = dict(overlay=outputs.draw_overlay, color=outputs.color or own_colours(model))
    wanted = legend_wanted(model, **shown, by_object=by_object(outputs.objects))
    if not (result.written or (wanted and result.skipped)):
        return
    if not wanted:
        drop_stale_legend(out_dir, [input_source(f) for f in result.written], "predict")
        return
    names = result.class_names or [str(k) for k in range(model.num_classes)]
    write_legend(out_dir, names, label_colours(model, color=True, values=False), "predict")


def _coco(out_dir: Path, paths: dict[Path, str], result, outputs: OutputOptions) -> None:
    """With ``outlines="coco"``, the run's COCO file of every input whose objects are in the
    folder but those that failed, this run's, those it skipped and an earlier run's into the
    folder (``paths``: :func:`input_paths`), each ``file_name`` by
    :func:`~unetlab.inference.coco_out.coco_names`
    (:func:`~unetlab.inference.coco_out.write_run_coco`)."""
    if outputs.outlines != "coco":
        return
    files = [f for f in paths if f not in result.failed]
    categories = coco_categories(result.class_names, outputs.objects)
    if files:
        write_run_coco(out_dir, files, coco_names(files), categories)


def _first_missing(folder: Path) -> Path | None:
    """The outermost of ``folder`` and its parents that does not exist (made by the run
    with it); None where ``folder`` exists."""
    missing = None
    for path in (folder, *folder.parents):
        if path.exists():
            return missing
        missing = path
    return missing


def _drop_unused(out_dir: Path, before: tuple[set[str] | None, Path | None]) -> None:
    """After a run that wrote no output (each input failed): remove the bookkeeping it
    added to ``out_dir`` (its manifest, lock, record, per-image table; a new folder with
    them: s36 flags 8), where it added nothing else; the folders too where it made them
    (``before``: the names in ``out_dir`` before the run, or None, and the outermost folder
    it made)."""
    from unetlab.inference.objects_summary import SUMMARY
    from unetlab.manifest import MANIFEST
    from unetlab.outputs import LOCK

    with contextlib.suppress(OSError):  # left as it is
        names, top = before
        added = (folder_names(out_dir) or set()) - (names or set())
        if not added <= {MANIFEST, LOCK, RECORD_FILES["predict"], SUMMARY}:
            return
        for name in added:
            (out_dir / name).unlink()
        made = out_dir
        while top is not None:  # the folder, and each one it made above it
            made.rmdir()
            if made == top:
                break
            made = made.parent


def _one_folder(inputs, root) -> Path | None:
    """The one folder the user gave, as given, where ``inputs`` (with the tables' ``root``
    given, or None) are its files, which the lines name from it, by their names
    (:mod:`unetlab.data.shown`); else None. A folder given alone (``predict_folder(model,
    "in")``), with the same folder as ``root`` too, in any form (``root="/abs/in"``, or
    ``"in"`` for ``inputs="lnk"``, a link to it: named by path from the root, review s55
    H8); or files listed, or a glob's, with ``root`` (``--input DIR``, review s55 G1): its
    own by their names, the others as the tables' ``path`` column names them (``sub/u.tif``
    under it, one outside it by its path as given; they were all named by path where one lay
    outside it, s58 docs8, and a glob's, review s58 A4); a file or Zarr given alone with
    ``root`` too (its row ``sub/u.tif``, its lines were ``in/sub/u.tif``: s58 forms9; the
    root itself, a Zarr level given, by its path: :meth:`_FolderRun._name`). Never a tree's
    folder (:func:`pixel_sizes_gathered`): a tree names every file by its path as given, its root's
    own too, as the lines of a glob over several folders without ``root`` do (review s55
    H8)."""
    if _TREE.get() is not None:
        return None
    if (given := _root(inputs, None)) is not None:  # a folder given: is it the root?
        same = root is None or given.resolve() == Path(root).resolve()
        return given if same else None
    return None if root is None else Path(root)  # without: a file, a Zarr by path as given


def _root(inputs, root) -> Path | None:
    """The per-image table's ``path`` root: ``root``, else ``inputs`` where it is a folder
    of inputs (not a Zarr folder, one input: its rows read ``.`` as its path, s43 slide)."""
    from unetlab.data.slides import is_zarr

    given = isinstance(inputs, (str, os.PathLike))
    if root is None and given and Path(inputs).is_dir() and not is_zarr(inputs):
        return Path(inputs)
    return None if root is None else Path(root)


def _conclude(
    result: FolderPrediction, out_dir: Path, files, outputs, report, root, each: dict
) -> None:
    """The end of :func:`predict_folder` in the main process, the folder still held: a map's
    PNG outputs placed (their world files, into ``result``), the per-image table of all the
    inputs where one is written (:func:`_summed`; else an earlier run's of only these inputs
    removed; each row the factor its input was predicted at where ``each``, the run's
    settings, give a --scale other than 1), then ``report``, then the units of the tables
    written (:func:`~unetlab.inference.objects_summary.units_line`)."""
    for path, written in result.written.items():
        written += world_files(path, written)
    say_gone_inputs(out_dir)
    summed = _summed(outputs, files, out_dir)
    if outputs.objects is not None and files:  # one image's row too, in hand, not written
        scale = given_options(each).scale  # the run's --scale: each row's factor
        paths = input_paths(out_dir, files, root)  # the earlier runs' inputs first
        result.summary = _summary(out_dir, files, result, paths, write=summed, scale=scale)
        _coco(out_dir, paths, result, outputs)
    run = functools.partial(PlateRun.of, files, list(result.written), result.skipped)
    write_plates(out_dir, files, outputs, run)  # an HCS plate's wells table, its output plate
    if not summed:  # an earlier run's table of these inputs' objects, which this run removed
        drop_stale_summary(out_dir, [slide_name(p) for p in result.written])
    if report is not None:
        report(result)
    rows = result.summary if summed else ()  # one image's row is not written
    say_units(table_columns([p for w in result.written.values() for p in w], rows))
    save_outcome(out_dir, *_outcome(result))


def _outcome(result: FolderPrediction) -> tuple[dict[str, str], dict[str, str]]:
    """The inputs ``result`` failed (-> reason) and skipped (-> why), by path, for
    ``predict.json``'s ``last_run`` (:func:`~unetlab.inference.records.save_outcome`)."""
    from unetlab.data.folder_notes import converted_to

    failed = {str(p): why for p, why in result.failed.items()}
    finished = "its outputs by this checkpoint and settings are there (skip_existing)"
    skipped = dict.fromkeys(map(str, result.skipped), finished)
    for p in result.not_read:
        skipped[str(p)] = (
            f"a format unetlab does not read ({p.suffix}): convert it to {converted_to(p)}"
        )
    return failed, skipped


def _summed(outputs: OutputOptions, files: Sequence[Path], out_dir: Path) -> bool:
    """Whether a run writes the per-image table: objects asked for, of several inputs or
    of one stack (a time-lapse, a z-stack: a row per frame or plane, as a folder's stack
    has) or multi-position OME-TIFF (a row per position), or into a folder holding an
    earlier run's inputs' objects tables (:func:`earlier_inputs`: their rows too); one
    image's figures are its table's, unless ``outputs.summary`` (a tree's folders)."""
    if outputs.objects is None or not files:
        return False
    if outputs.summary or len(files) > 1:
        return True
    if bool(ome_positions(files[0])) or _pages(files[0]) > 1:
        return True
    return bool(earlier_inputs(out_dir, files))


def _pages(path: Path) -> int:
    """The pages (frames, planes) of the image file ``path`` from its header; 1 for a Zarr
    folder (a slide's) or a file that cannot be read (its prediction says why)."""
    try:
        return stack_shape(path, frames=True)[0] if path.is_file() else 1
    except UnetlabError:
        return 1


def _summary(
    out_dir: Path,
    files: list[Path],
    result: FolderPrediction,
    paths: dict[Path, str],
    *,
    write: bool = True,
    scale: float | str = 1,
) -> list[dict]:
    """The per-image table of ``result`` (the skipped inputs' read from their tables), led by
    the rows of the earlier runs' inputs whose tables are in the folder, each input's
    ``path`` its ``paths`` entry (:func:`input_paths`), with ``write`` written into
    ``out_dir`` (:data:`~unetlab.inference.objects_summary.SUMMARY`; one image's row is
    returned alone, its figures being its table's: audit s38 apiaudit, ``.summary`` was
    ``[]``)."""
    how = dict(written=result.written, skipped=result.skipped, failed=result.failed)
    given = set(files)
    earlier = [f for f in paths if f not in given]
    how |= dict(earlier=earlier, scale=scale, names=result.class_names)
    rows = folder_summary(out_dir, [*earlier, *files], **how)
    for row in rows:
        row["path"] = paths[row["path"]]
    if write:
        write_summary(out_dir, rows, result.class_names)
    return rows


def input_paths(out_dir: Path, files: Sequence[Path], root: Path | None) -> dict[Path, str]:
    """Each input of the folder's outputs -> its name in the tables' ``path`` column and the
    COCO file's ``file_name`` (:func:`relative_path` of ``root``): first the earlier runs'
    inputs whose tables are in ``out_dir`` (:func:`earlier_inputs`, as :func:`as_given`),
    then this run's ``files`` (s72 review: the COCO file named a glob's ``inA/img00.png``
    ``img00.png``, the table ``inA/img00.png``)."""
    earlier = earlier_inputs(out_dir, files)
    paths = {f: relative_path(as_given(f, files), root) for f in earlier}
    return paths | {f: relative_path(f, root) for f in files}  # by input: names may be one's


def as_given(path: Path, files: Sequence[Path]) -> Path:
    """An earlier run's input ``path`` (resolved, as the folder's manifest names it) as this
    run's ``files`` are given: relative to the working folder, where they are relative and
    it is under it; else as it is."""
    here = Path.cwd().resolve()
    if files and not any(f.is_absolute() for f in files) and path.is_relative_to(here):
        return path.relative_to(here)
    return path


def _claimed(stack: contextlib.ExitStack, out_dir, files, outputs, group: Group, **claim):
    """:func:`claim_folder` held on ``stack`` by the main process of ``group``, checked
    before any work; the others wait for its verdict and take the ``changed`` inputs it
    found (each process predicts its own of them again: :meth:`_FolderRun._outputs`).
    Returns the inputs to skip."""
    problem, done, changed, unskipped = None, set(), claim.get("changed"), []
    if group.is_main:
        try:  # within the first look: a stamp each (s64: 8 of each, 7 of them again)
            done = stack.enter_context(claim_folder(out_dir, files, outputs, **claim))
            unskipped = slide_resume.unskipped_inputs()  # each keeps those dealt to it
        except UnetlabError as exc:
            problem = exc
    problem, done, found, unskipped = group.share((problem, done, changed, unskipped))
    if problem is not None:
        raise problem
    if not group.is_main:  # held for it by the main one's claim: its inputs refused there
        stack.enter_context(holding_folder(out_dir, {}))
        stack.enter_context(slide_resume.noting_unskipped())
        for path in unskipped:
            slide_resume.note_unskipped(Path(path))
    if changed is not None and found is not None:
        changed.update(found)
    return done


def check_source(model) -> None:
    """UnetlabError unless ``model`` is a loaded model or a function that loads one
    (:data:`ModelSource`): a checkpoint's path or None is named with the fix, as
    :func:`~unetlab.inference.predict.check_model` names it (audit s35 api: a TypeError,
    after ``out_dir`` was made)."""
    if isinstance(model, (str, os.PathLike)) or not (
        isinstance(model, torch.nn.Module) or callable(model)
    ):
        try:
            check_model(model)
        except UnetlabError as exc:
            raise UnetlabError(f"{exc} (or a function that loads it)") from None


class _Loaded:
    """The model and output options of :func:`predict_folder`, once (the model, and the
    object options, may be functions: see there), checked against the settings that would
    fail every file alike."""

    def __init__(self, model: ModelSource, outputs: OutputOptions, settings: dict):
        self.model, self.outputs, self.settings = model, outputs, settings
        self.loaded: tuple | None = None

    @classmethod
    def checked(cls, model: ModelSource, outputs: OutputOptions, settings: dict) -> _Loaded:
        """A model given loaded checked at once: bad settings refused before the folder is
        touched (a function's model, once the folder is checked)."""
        load = cls(model, outputs, settings)
        if isinstance(model, torch.nn.Module):
            load()
        return load

    def __call__(self) -> tuple[torch.nn.Module, OutputOptions]:
        if self.loaded is None:
            model = self.model if isinstance(self.model, torch.nn.Module) else self.model()
            check_model(model)  # what a loader gave too
            check_settings(model, self.outputs, **self.settings)
            self.loaded = model, self.outputs.for_model(model)
            if self.loaded[1].objects_in_3d:  # before the folder is touched
                refuse_joined_splits(model, self.loaded[1].objects)
        return self.loaded

    def record(self) -> Provenance:
        """What makes the outputs (:func:`file_record`), the model loaded and checked."""
        model, outputs = self()
        made = {k: v for k, v in self.settings.items() if k != "name"}
        return file_record(model, outputs=outputs, **made)


class _Run:
    """One process's part of :func:`predict_folder`, once the folder is held. In a
    ``group`` of processes (``each["group"]``) large inputs (:func:`streamed_inputs`) are
    predicted by all together (each its band of rows), the others shared out one file per
    process in turn: a large one with objects or an overlay is streamed by its process
    alone, as a group of one; the main one logs a start line (files, model, device, channel,
    label offset, TTA). With a ``clock``, this process's first file is predicted once beforehand,
    untimed, into a scratch folder, so that one-time costs stay out of the timings."""

    def __init__(self, model, out_dir: Path, outputs, each: dict, progress, clock, failed):
        self.model, self.out_dir, self.outputs, self.each = model, out_dir, outputs, each
        self.group = group = each["group"]
        self.bars = shown(progress is True)  # the main process draws bars
        self.quiet = not (self.bars and group.is_main)  # a notebook's too
        self.done = progress if callable(progress) else None  # each input's name
        self.clock = clock
        self.failed = failed or (lambda line: log.warning("failed: %s", line))
        # the pixel size lines of objects said (once a run; once a tree's: its folders')
        self.scaled: set[str] = tree.said if (tree := _TREE.get()) is not None else set()
        self.alone: set[Path] = set()  # streamed by the one process they are dealt to
        self.large: set[Path] = set()  # streamed, by all processes or one
        self.root: Path | None = None  # the tables' path column is relative to it
        # the lines name a file from the one folder given, as given (:func:`_one_folder`);
        # None: by its path as given (a tree's every file, its root's own too: one rule)
        self.named_from: Path | None = None
        self.real: dict[Path, Path] = {}  # each folder :meth:`_name` resolved, once a run
        self.as_is = False  # the run has a TIFF: its PNGs read as they are, the axes the TIFFs'
        self.kept: dict[Path, list] = {}  # the lines of this process's files (not main)
        self.redo: set[str] = set()  # the inputs changed since their outputs were made
        self.todo: list[Path] = []  # the run's inputs (the pixel size line counts them)
        self.claimed: Mapping[str, str] = {}  # each output's input, as the claim listed it

    def predict(
        self, todo: list[Path], name: str, notes: Sequence[str], left: tuple[int, int] = (0, 0)
    ) -> FolderPrediction:
        """``todo``: the large inputs by all processes, the others one process each; every
        process's outcome gathered. ``left``: the inputs skipped and failed before (their
        count), which the start line of an empty ``todo`` names instead."""
        with HEADERS.settled():  # the start's look at the inputs: one stamp each
            shared, mine = self._started(todo, name, notes, left)
        if self.clock is not None and mine:
            self._warm_up(mine[0])
        result = FolderPrediction()
        start = time.perf_counter()
        bar = progress_bar(iterable=mine, desc="files", unit="file", disable=self.quiet)
        inputs = slide_resume.predicting(todo)  # no staging of theirs is a killed run's
        lines = contextlib.nullcontext() if self.quiet else lines_above_bars()  # a file's too
        with noting() as chosen, inputs, lines:  # chosen: the main process's (predict.json)
            for path in bar:
                peer_stop_raised()  # --nproc N: another process stopped alone, this one too
                # a file all processes share counts, and its error is said, once: in the main
                counts = self.group.is_main or path not in shared
                with self._kept(path, counts), keeping_open(path):  # one open, sizes too
                    self._predict(path, result, counts=counts)
                if self.done is not None and counts:
                    self.done(slide_name(path))
                if self.clock is None:  # loading too short to tell; timings keep one count
                    look_beside(self.model)
            result.seconds = time.perf_counter() - start
            return self._gathered(result, todo, chosen)

    def _started(
        self, todo: list[Path], name: str, notes: Sequence[str], left: tuple[int, int]
    ) -> tuple[set[Path], list[Path]]:
        """:meth:`predict`'s start: the files all processes share and those of this one
        (decided by the main process), and the start line (the main process's)."""
        # decided once, by the main process, so that every process takes the same files
        world, rank = self.group.world, self.group.rank
        large, alone, self.claimed = self._decided(todo)
        self.alone = {f for f, one in zip(todo, alone) if one}
        shared = {f for f, big in zip(todo, large) if big} - self.alone
        self.large = shared | self.alone
        mine = [f for i, f in enumerate(todo) if f in shared or i % world == rank]
        self.todo = todo
        if (tree := _TREE.get()) is not None:  # the tree's line counts every folder's
            tree.todo.extend(todo)
        if self.group.is_main:
            self._say_begun(todo, name, notes, left)
        return shared, mine

    def _say_begun(
        self, todo: list[Path], name: str, notes: Sequence[str], left: tuple[int, int]
    ) -> None:
        """The start lines of :meth:`predict` (by the main process, once :attr:`large` and
        :attr:`alone` are decided): the files, large among them, and the model (``name``),
        the output notes, the files read whole though large, the ``notes``; where ``todo`` is
        empty, the line naming the inputs ``left`` (skipped, failed before) instead."""
        if not todo:
            log.info("predict: %s", _nothing_to_predict(*left))
            return
        later = [f for f in todo if f not in self.large]  # large by any of its positions
        streamed = len(self.large) + sum(later_streamed(later, self.model, self.outputs, self.each))
        _say_start(self.model, (len(todo), streamed, *left), name, self.group, self.each)
        _say_output_notes(self.model, self.outputs, max(len(todo) - streamed, 0))
        if whole := read_whole_anyway(todo, self.outputs.large_threshold, self._name):
            note_once(whole, key="read whole anyway", level=logging.INFO)  # a tree: once
        for line in notes:
            log.info("%s", line)

    def _decided(self, todo: list[Path]) -> tuple[list[bool], list[bool], Mapping[str, str]]:
        """Whether each of ``todo`` is streamed by all processes and by the one it is dealt
        to alone (:func:`streamed_inputs`), and the claim's sources (:func:`claimed_sources`:
        the main process holds the folder): worked out by the main process, shared to the
        others (s64: each worked out its own, unused); a group without collectives (a
        process told its place alone) works out its own."""
        decided = None
        if self.group.is_main or not self.group.active:
            rule, world = (self.model, self.outputs, self.each), self.group.world
            both = [streamed_inputs(todo, *rule, processes=world, alone=a) for a in (False, True)]
            decided = (*both, claimed_sources(self.out_dir))
        return self.group.share(decided)

    def failed_apart(
        self, files: Sequence[Path], apart: dict[Path, str], failed: dict[Path, str]
    ) -> dict[Path, str]:
        """``failed`` with the inputs not predicted because another input's outputs would
        have their names (``apart``: :func:`~unetlab.inference.output_rules.shared_outputs`),
        in the order of ``files``; each clash said once (in the main process)."""
        if self.group.is_main:
            for line in dict.fromkeys(apart.values()):
                self.failed(line)
        return {f: apart.get(f) or failed[f] for f in files if f in apart or f in failed}

    def _predict(self, path: Path, result: FolderPrediction, *, counts: bool) -> None:
        """One file, its outcome into ``result`` if it ``counts`` here."""
        found: list[list[int]] = []
        kinds: list[dict[str, int]] = []
        areas: list[dict[str, float]] = []

        def counted(planes: list[int], classes: dict | None = None, m2: dict | None = None):
            found.append(planes)  # classes: a semantic model's objects of each class
            kinds.extend([classes] if classes else [])
            areas.extend([m2] if m2 else [])  # and their area in m² on a map

        timed = self.clock if self.clock is not None else contextlib.nullcontext()
        # the bar names the file as its lines do: a tree's, a glob's by its path (s57 docs7)
        bar = progress_bar(desc=self._name(path), unit="tile", leave=False, disable=self.quiet)
        before = slide_resume.pixels_done_before()  # a resumed slide's: not predicted now
        with (
            bar,
            timed,
            self._held(path),
            table_path(relative_path(path, self.root)),  # the tables' path column
            self._shown(path),
            before as done_before,
        ):
            each = dict(self._keywords(path), progress=bar.update, counted=counted)
            source = input_source(path)  # as the prediction reads it, not as after it
            written = predict_or_fail(self.model, path, self.out_dir, self._outputs(path), **each)
        if not isinstance(written, UnetlabError):  # each process its own band's
            result.pixels -= done_before[0]
        if not counts:
            return
        if isinstance(written, UnetlabError):  # this file's own failure, as its caller spells
            said = quoted(written).splitlines()[0]  # it (its cli, s55), one line
            result.failed[path] = named_by_path(path, said, self._name(path))
            self.failed(result.failed[path])
            return
        if slide_resume.was_kept(path):  # skipped after all: its outputs there are kept
            return
        result.written[path] = written
        self._listed_as_read(source, written)  # a link retargeted since the claim
        result.pixels += output_pixels(written[0])  # its header only
        with self._shown(path):
            self._say_sizes(path)
        if found:  # a multi-position file's: each position's planes in turn
            result.objects[path] = [n for planes in found for n in planes]
        if kinds:
            result.classes[path] = kinds[0]
        if areas:
            result.areas[path] = areas[0]

    def _listed_as_read(self, source: str, written: list[Path]) -> None:
        """``written`` listed as made from ``source``, the input its prediction read, where the claim listed
        another input (:func:`moved_since_claim`: a link retargeted since): by the main
        process, which holds the folder, at once; another's handed to it in a file, taken at
        the run's end (:meth:`_gathered`) or by the next run where this one is stopped first
        (s64: each wrote the manifest, unlocked, reading it whole for each input; then handed
        at the gather, lost by a stopped run)."""
        moved = moved_since_claim(self.out_dir, source, written, self.claimed)
        if self.group.is_main:
            listed_as_read(self.out_dir, moved)
        else:
            handed_as_read(self.out_dir, moved, self.claimed, self.group.rank)

    def _say_sizes(self, path: Path) -> None:
        """The lines of ``path``'s pixel size once it is predicted: none recorded for its
        objects (:func:`_say_pixel_size`), another than the training images'
        (:func:`_say_trained_size`)."""
        if self.outputs.objects is not None and self.outputs.pixel_size is None:
            _say_pixel_size(path, self.scaled, self.out_dir, self.todo)
        if not self.outputs.level:  # --level N: the level's size (files._at_level)
            streamed = path in self.large  # --scale is refused for it
            scale = given_options(self.each).scale
            _say_trained_size(self.model, path, self.outputs.pixel_size, streamed, scale)

    def _kept(self, path: Path, counts: bool) -> contextlib.AbstractContextManager:
        """In a group: ``path``'s lines kept in a process but the main one, which says them
        (:func:`~unetlab.inference.handed_lines.kept_lines`), said as they come in the main
        one (its progress in a log stays live); a file all share (not ``counts`` here): only
        its lines said once a command kept."""
        if not self.group.active:
            return contextlib.nullcontext()
        kept, main = self.kept.setdefault(path, []), self.group.is_main
        if not counts:  # a file all processes share: the main one says its lines
            return kept_lines(kept, main=main, infos=False)  # but those said once by any
        return kept_lines(kept, main=main, bars=self.bars)

    def _gathered(
        self, result: FolderPrediction, todo: list[Path], chosen: dict
    ) -> FolderPrediction:
        """Every process's ``result`` in one, in the order of ``todo`` (``seconds``: the
        longest process's, as ``pixels`` are all processes'); every process's ``chosen``
        notes (:mod:`unetlab.inference.chosen`) merged into this one's; the lines the others'
        runs kept to be said once (:func:`~unetlab.inference.predict.run_handed`), the
        files their reading noted (:func:`~unetlab.data.read_notes.handed_notes`) and their
        images' objects that look merged
        (:func:`~unetlab.inference.merged_objects.handed_merged`), said by the main one; the
        outputs they kept as they were (:func:`~unetlab.outputs.handed_kept`), told to the
        main one's run, which settles the folder; the first input of a tree in pixels only
        that each predicted (:func:`_take_first`)."""
        if not self.group.active:
            return result
        main = self.group.is_main
        parts: list[_Handed] = self.group.gather(self._handed(result, chosen))
        if main:
            _say_in_order([part.kept_lines for part in parts], todo)
            _take_first({part.first for part in parts}, todo)
        for rank, part in enumerate(parts):
            if rank != self.group.rank:
                merge(chosen, part.chosen)
                slide_resume.note_kept(part.kept_inputs)
            if rank != self.group.rank and main:
                say_handed(part.handed)
                take_notes(part.notes)
                take_merged(part.merged)
                outputs_kept(self.out_dir, part.kept_outputs)  # not removed as not written
        if main:  # the outputs the others wrote from another input than the claim listed
            take_relisted(self.out_dir)
        every = [{f: v for part in parts for f, v in getattr(part, k).items()} for k in _BY_FILE]
        written, failed, objects, classes, areas = (
            {f: d[f] for f in todo if f in d} for d in every
        )
        (pixels,) = self.group.total([result.pixels])
        seconds = max(part.seconds for part in parts)  # the run's wall time, not the main one's
        return FolderPrediction(
            written, [], failed, objects, int(pixels), seconds, classes=classes, areas=areas
        )

    def _handed(self, result: FolderPrediction, chosen: dict) -> _Handed:
        """What this process hands the others of its group (:meth:`_gathered`)."""
        main = self.group.is_main
        return _Handed(
            **{k: getattr(result, k) for k in _BY_FILE},
            seconds=result.seconds,
            chosen=chosen,
            handed=run_handed(),
            notes=None if main else handed_notes(),  # the files' read notes
            kept_lines=self.kept,
            merged=handed_merged(),
            kept_outputs=set() if main else handed_kept(self.out_dir),
            kept_inputs=slide_resume.kept_inputs(),
            first=_tree_first(),
        )

    def _name(self, path: Path) -> str:
        """How the lines name ``path``: from the one folder given, else as given; a file in
        it given in another form (``in/s.tif`` for the root ``/abs/in``, or ``lnk/s.tif``
        through a link to it) by its name, as the folder's own (s56 review F2)."""
        folder = self.named_from
        if folder is not None and self._real(path.parent) == self._real(folder):
            return path.name
        named = relative_path(path, folder)
        return str(path) if named == "." else named  # the root itself (a Zarr level given)

    def _real(self, folder: Path) -> Path:
        """``folder`` resolved, once a run: :meth:`_name` names each input 3 times (s67: the
        input folder resolved 6 times an input)."""
        if folder not in self.real:
            self.real[folder] = folder.resolve()
        return self.real[folder]

    def _shown(self, path: Path) -> contextlib.AbstractContextManager:
        """Within: the lines name ``path`` as :meth:`_name` says (its warm-up's as its own)."""
        return shown_as(path, self._name(path))

    def _warm_up(self, path: Path) -> None:
        """Predict ``path`` once, untimed, writing nothing that stays (a scratch folder),
        its lines naming it as its timed pass's do (said once, not twice)."""
        # a failure is named, and counted, in the timed pass
        with (
            self._shown(path),
            tempfile.TemporaryDirectory(dir=self.out_dir) as scratch,
            contextlib.suppress(UnetlabError),
            merged_apart(),  # its objects counted when it is predicted, not twice
        ):
            predict_file(self.model, path, scratch, self.outputs, **self._keywords(path))

    def _outputs(self, path: Path) -> OutputOptions:
        """The outputs of ``path``: without ``skip_existing`` where it changed since its
        outputs there were made (``redo``), so that none is drawn from them
        (:mod:`~unetlab.inference.drawn_again`: its stale labels were kept, said "predicted
        again")."""
        if input_source(path) not in self.redo:
            return self.outputs
        return replace(self.outputs, skip_existing=False)

    def _keywords(self, path: Path) -> dict:
        """:func:`predict_file`'s keywords for ``path``: a file streamed alone is predicted by
        this process as a group of one (review s33 5: it was read whole); a PNG or JPEG of a
        run with a TIFF (``as_is``) is given no axes, read as it is (as train reads it)."""
        each = dict(self.each, group=SOLO) if path in self.alone else self.each
        if self.as_is and file_axes(path, "YX") is None:
            each = dict(each, axes=None)  # nor the checkpoint's: predict_file gives a TIFF's
        return each

    @contextlib.contextmanager
    def _held(self, path: Path) -> Iterator[None]:
        """The output folder counted as held by this process while it predicts ``path``
        alone (as a group of one): the main process holds it for the group
        (:func:`_claimed`), so :func:`predict_file` writes into it without claiming it."""
        held, key = held_folders(), self.out_dir.resolve()
        added = path in self.alone and key not in held
        if added:
            held.add(key)
        try:
            yield
        finally:
            if added:
                held.discard(key)


def _say_in_order(kept: list[dict[Path, list]], todo: list[Path]) -> None:
    """Say the lines the other processes kept (``kept``: each one's, by file), each file's
    together, in the order of ``todo`` (:func:`~unetlab.inference.handed_lines.say_kept`)."""
    lines: dict[Path, list] = {}
    for part in kept:
        for path, said in part.items():
            lines.setdefault(path, []).extend(said)
    for path in (f for f in todo if f in lines):
        say_kept(lines[path])


def _say_trained_size(model, path: Path, given: float | None, streamed: bool, scale) -> None:
    """Say, once a folder and pixel size, where ``path``'s pixels (``given`` µm, else the
    file's) are another size than the training images' the checkpoint records
    (:func:`~unetlab.inference.sizing.image_size_note`; ``streamed``: read window by window,
    where --scale is refused; not where ``scale`` resampled it); where it records none, note
    the size predicted (the pixels' over a factor ``scale``; ``"auto"`` predicts those at
    their own, 1): inputs of sizes apart are said once a command
    (:func:`~unetlab.data.read_notes.note_side`; s50 slideleft: not said under --scale F)."""
    from unetlab.data.read_notes import note_once, note_side
    from unetlab.data.tiffmeta import read_pixel_size
    from unetlab.inference.sizing import image_size_note, trained_pixel_size

    trained = trained_pixel_size(model)
    if path.is_dir():
        return
    pixel = None if given is not None else read_pixel_size(path)
    side = given if pixel is None else (pixel.size[0] * pixel.size[-1]) ** 0.5
    if trained is None and side:  # inputs of sizes apart: said once, at the command's end
        note_side(shown_path(path), side / (1 if scale == "auto" else scale))
    if scale != 1:  # resampled for the net: --scale auto says its own line
        return
    how = _size_terms(path, pixel)
    if (note := image_size_note(trained, side, streamed=streamed, **how)) is not None:
        note_once(f"{shown_path(path)}: {note}", key=f"trained size {path.parent} {side:.3g}")


def _size_terms(path: Path, pixel) -> dict:
    """How :func:`~unetlab.inference.sizing.image_size_note` judges and words ``path``'s
    pixels (its :class:`~unetlab.data.tiffmeta.PixelSize` ``pixel``, None under
    --pixel-size): a NIfTI volume's within :data:`~unetlab.inference.sizing.VOXEL_TOLERANCE`
    in its header's unit, whichever gave the size (s72 review: under --pixel-size it fell
    back to the 1.5x and µm of micrographs); other images' by the defaults."""
    from unetlab.data.nifti import is_nifti
    from unetlab.data.tiffmeta import shown_unit
    from unetlab.inference.sizing import VOXEL_TOLERANCE

    if not is_nifti(path):
        return {}
    return {"tolerance": VOXEL_TOLERANCE, "unit": shown_unit(path, pixel)}


def _say_pixel_size(path: Path, said: set[str], out_dir: Path, todo: Sequence[Path]) -> None:
    """Say, once a run (``said``: the lines said; once a command for the run into
    ``out_dir``, where another process of the group says it too), for the first input whose
    objects table is in pixels only that no pixel size was found, how many of the run's
    inputs (``todo``) record none, and how to give one; and for the first whose pixels are
    not square which shape measures are physical (a Zarr folder: its pixel size is not read
    here)."""
    from unetlab.data.read_notes import note_once
    from unetlab.data.tiffmeta import read_pixel_size

    if path.is_dir() or {"none", "anisotropic"} <= said:  # a folder, or both lines said
        return
    from unetlab.data.world_file import grid_pixel_size, input_grid

    pixel = read_pixel_size(path)
    if pixel is None and grid_pixel_size(input_grid(path)) is not None:
        return  # a world file or GeoTIFF with a CRS in metres beside it: a table in metres
    tree = _TREE.get()
    if pixel is None and "none" not in said:
        said.add("none")
        if tree is not None:  # said at the tree's end, of all its folders' inputs
            tree.first = path
            return
        line = _no_pixel_size_line(path, sum(map(_readable_in_pixels, todo)), len(todo))
        note_once(line, key=f"no pixel size {out_dir}", level=logging.INFO)
    elif pixel is not None and not _square(pixel.size) and "anisotropic" not in said:
        said.add("anisotropic")
        line = (
            f"{shown_path(path)}: pixels {pixel.size[0]:g} um high, {pixel.size[-1]:g} um wide "
            "(said once): its objects' orientation and major/minor_axis_length_um are "
            "physical; circularity and perimeter_um are left out (the perimeter estimator "
            "walks a square grid); the px columns are lengths in the pixel grid"
        )
        where = out_dir if tree is None else "the tree"
        note_once(line, key=f"anisotropic pixels {where}", level=logging.INFO)


@dataclass
class _TreeSizes:
    """What :func:`_say_pixel_size` noted in a tree's folders: the lines ``said``, the
    folders' inputs (``todo``), the ``first`` whose objects table is in pixels only."""

    said: set[str] = field(default_factory=set)
    todo: list[Path] = field(default_factory=list)
    first: Path | None = None


def _tree_first() -> Path | None:
    """This process's first input of the tree whose objects table is in pixels only
    (:func:`_say_pixel_size`); None outside a tree, or where it has predicted none."""
    return tree.first if (tree := _TREE.get()) is not None else None


def _take_first(firsts: set[Path | None], todo: list[Path]) -> None:
    """In the main process of a group predicting a tree's folder of inputs ``todo``: the
    first of them whose objects table is in pixels only that any process predicted
    (``firsts``: each process's :func:`_tree_first`), noted for the tree's line where no
    earlier folder had one. Each process notes those of its own files, and the main one
    alone says the line: a tree whose such inputs were all another process's said none
    (s55)."""
    tree = _TREE.get()
    if tree is None or (tree.first is not None and tree.first not in todo):
        return
    if found := next((f for f in todo if f in firsts), None):
        tree.first = found
        tree.said.add("none")


#: the tree whose folders are predicted within :func:`pixel_sizes_gathered` (None: none)
_TREE: contextvars.ContextVar[_TreeSizes | None] = contextvars.ContextVar(
    "tree_sizes", default=None
)


@contextlib.contextmanager
def pixel_sizes_gathered() -> Iterator[None]:
    """Within (a tree's folders, predict_tree): the pixel size lines said once for all the
    folders, the line that inputs record none at the end, counting every folder's (said once
    a folder, it named a folder's first file and count each time; as the units line is
    since s53), its first file named by its path as given, as the tree's lines name every
    file (``drop/alice/img_00.png``: its name alone was any folder's, review s54; its path
    from the root, ``alice/img_00.png``, was the tree's line's alone, review s55 H8)."""
    from unetlab.data.read_notes import note_once

    tree = _TreeSizes()
    token = _TREE.set(tree)
    try:
        yield
    finally:
        _TREE.reset(token)
    if tree.first is not None:  # a tree predicted through, not stopped (each input's header)
        count = sum(map(_readable_in_pixels, tree.todo))
        line = _no_pixel_size_line(tree.first, count, len(tree.todo))
        note_once(line, key="no pixel size of the tree", level=logging.INFO)


def _in_pixels(path: Path) -> bool:
    """Whether the objects table of the input file ``path`` is in pixels only: it records no
    pixel size, and no world file or GeoTIFF places it in metres (a Zarr folder: not read)."""
    from unetlab.data.tiffmeta import read_pixel_size
    from unetlab.data.world_file import grid_pixel_size, input_grid

    if path.is_dir() or read_pixel_size(path) is not None:
        return False
    return grid_pixel_size(input_grid(path)) is None


def _readable_in_pixels(path: Path) -> bool:
    """:func:`_in_pixels` of another input of the run, False where its file cannot be read:
    it fails on its own, with its own line, when its turn comes (a corrupt TIFF in the
    folder ended the whole run here, s51 review)."""
    from unetlab.data.io import ImageReadError, image_file_errors

    try:
        with image_file_errors(path):
            return _in_pixels(path)
    except ImageReadError:
        return False


def _no_pixel_size_line(path: Path, count: int, inputs: int) -> str:
    """The line for the inputs whose objects table is in pixels only (``count`` of the run's
    ``inputs``, ``path`` the first, named as its lines name it: :func:`shown_path`): how to give
    their pixel size, and for a TIFF (the files whose pixel size unetlab reads) where Fiji
    records one (s51: naming the first file only read as if that file alone lacked it).
    "Usable": a size read but refused as implausible (:func:`~unetlab.data.tiffmeta.tiff_sizes`:
    tifffile's 1 pixel per inch, 25400 um) was said "records no pixel size" (s54)."""
    from unetlab.data.tiff_files import is_tiff_name

    name = shown_path(path)
    if inputs == 1:
        line = f"{name} records no usable pixel size: its objects table is in pixels only"
    else:
        line = f"{count} of {inputs} inputs record no usable pixel size (first: {name}): "
        line += "their objects tables are in pixels only"
    line += f"; give {said_as(PIXEL_SIZE_UM)} for um columns"
    fiji = ", or record it in the file (Fiji: Image > Properties)"
    return line + (fiji if is_tiff_name(path) else "")


def _model_name(model: torch.nn.Module, name: str) -> str:
    """What the start line calls the model: the file of ``name`` (the command's checkpoint),
    else of the checkpoint ``load_model`` read it from, else its class (s50 notebook walk:
    a loaded model was "model the model")."""
    if name == "the model":
        name = getattr(model, "checkpoint", None) or type(model).__name__
    return Path(name).name


def _square(size: tuple[float, float]) -> bool:
    return abs(size[0] - size[1]) <= 1e-6 * max(size)


def _say_start(
    model: torch.nn.Module, counts: tuple, name: str, group: Group, settings: dict
) -> None:
    """Log what :func:`predict_folder` is about to do: the files (``counts``: predicted,
    large among them, skipped and failed before), the model (``name``) and the device
    (``settings``: :func:`predict_file`'s keywords), the channel predicted where the model
    records one, the label offset it moves predictions by, the TTA transforms."""
    given = given_options(settings)
    files, large, *left = counts
    log.info(
        "predict: %s (%d large), model %s (%d -> %d classes, %s padding), device %s%s%s",
        *(numbered(files, "file"), large, _model_name(model, name), model.in_channels),
        model.num_classes,
        model.padding,
        given.device or next(model.parameters()).device,
        f", {group.world} processes" if group.active else "",
        _left_words(*left),
    )
    _channel_note(getattr(model, "channel", None), given.channel, model)
    if any(offset := label_offset(model)):
        log.info("predictions moved by the checkpoint's label offset: %s", describe_offset(offset))
    if given.tta:
        log.info(describe_tta(model, given.tta))


def _say_output_notes(model: torch.nn.Module, outputs: OutputOptions, whole: int) -> None:
    """One line where an instance (nuclei) model predicts without objects: its labels are
    its three target classes, not one id per nucleus (s42 README walk: said nowhere, and
    ``evaluate --pred`` then refused them); one where OME-Zarr is asked for and ``whole``
    inputs are read whole, so written as PNG or TIFF (the format is for streamed images)."""
    if outputs.output_format == "ome-zarr" and whole:
        log.info(
            "%s is for large images, which are streamed: %s read whole %s written "
            "as PNG or TIFF (%s streams images of more than N pixels)",
            said_as(OME_ZARR),
            numbered(whole, "input"),
            worded(whole, "is", "are"),
            said_as(LARGE_N),
        )
    if is_instance_model(model) and not outputs.objects:
        log.info(
            "an instance (nuclei) model: without %s its labels are its classes %s, not the "
            "nuclei; add %s for one id per nucleus and a table",
            said_as(INSTANCES),
            ", ".join(map(str, getattr(model, "classes", ()))),
            said_as(INSTANCES),
        )


#: the settings :func:`_say_output_notes` names, as the caller gives them (a notebook's
#: predict_folder was told "--instances (objects=True)", flag and keyword: s54 new user)
INSTANCES = Spelled("objects=True", "--instances")
OME_ZARR = Spelled("output_format='ome-zarr'", "--output-format ome-zarr")
LARGE_N = Spelled("large_threshold=N", "--large-pixels N")


def _nothing_to_predict(skipped: int, failed: int) -> str:
    """The start line of a run whose every input is skipped (``skipped``: their outputs by
    the same model and settings are there) or failed before it began (``failed``: their
    outputs would clash, each said in its own line)."""
    return f"nothing to predict: {', '.join(_left_parts(skipped, failed)) or 'no inputs'}"


def _left_words(skipped: int, failed: int) -> str:
    """What the start line of a run with inputs to predict adds about the others: it said
    "7 file(s)" of 11 road scenes, then "5 failed" at the end (4 of them refused before the
    run, their outputs clashing: audit s46 scenes)."""
    parts = _left_parts(skipped, failed)
    return f"; besides, {', '.join(parts)}" if parts else ""


def _left_parts(skipped: int, failed: int) -> list[str]:
    parts = [f"{skipped} skipped (their outputs are there)"] if skipped else []
    if failed:
        parts.append(f"{failed} failed (their outputs would clash: each said below)")
    return parts


def _channel_note(trained: int | list[int] | None, asked: int | str | tuple | None, model) -> None:
    """Say which channel is predicted where the model records one (``data.channel``), or
    which channels (a band subset; ``asked`` another list: warned, as another channel is).
    A channel asked by its name is found in each input, and compared there
    (:func:`~unetlab.inference.files.note_named_channel`; s69: a model of channel 0 given
    ``--channel DAPI``, channel 0, was warned that it was not)."""
    if trained is None:
        return
    if isinstance(asked, str) and not isinstance(trained, (list, tuple)):
        log.info(
            "predicting the channel named %s (%s) in each image; the model was trained on "
            "channel %d (data.channel): an image where that is another is named",
            *(asked, said_as(CHANNEL_GIVEN), trained),
        )
        return
    if isinstance(trained, (list, tuple)):
        shown = ", ".join(map(str, trained))
        if isinstance(asked, (list, tuple)) and tuple(asked) != tuple(trained):
            log.warning(
                "predicting channels %s (%s), but the model was trained on channels %s "
                "(data.channel); leave it out for those",
                *(", ".join(map(str, asked)), said_as(CHANNEL_GIVEN), shown),
            )
            return
        log.info(
            "predicting channels %s of each image, in that order: the model trained on them", shown
        )
    elif asked is None and (names := getattr(model, "channel_names", None)):
        log.info(
            "predicting channel %s of each image that names its channels (by index, %d, of "
            "others): the model was trained on it",
            *(names[0], trained),
        )
    elif asked is None:
        log.info("predicting channel %d of each image: the model was trained on it", trained)
    elif asked != trained:
        log.warning(
            "predicting channel %s (%s), but the model was trained on channel %d "
            "(data.channel); leave it out for that one",
            *(asked, said_as(CHANNEL_GIVEN), trained),
        )
