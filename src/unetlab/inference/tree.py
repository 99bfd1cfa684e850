"""Predict a tree of folders (a drop folder of one sub-folder per user) with its outputs
mirrored: ``ROOT/alice/x.png``'s outputs in ``OUT_DIR/alice/``, what ``unetlab predict
--recursive`` does. Each folder is predicted as :func:`~unetlab.inference.folders.predict_folder`
predicts one (its own lock, manifest, ``predict.json``, ``objects_summary.csv`` and
``skip_existing``), the model loaded once for all (audit s36 batch 6: the glob
``'drop/**/*'`` wrote every file into one folder and refused names two users share). A
data set in the tree (``images/`` beside ``masks/``) gives its images and a split's
(``test/``); a stop (Ctrl-C,
SIGTERM, a full disk) stops the whole tree and carries where (:class:`TreeStop`)."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from unetlab.data.ctc import truth_folders
from unetlab.data.dicom import is_dicom_series
from unetlab.data.dsb import dsb_splits
from unetlab.data.io import check_axes, file_axes
from unetlab.data.read_notes import call_lines, read_notes
from unetlab.distributed import peer_gone, peer_stops_raised
from unetlab.errors import (
    DiskFullError,
    FolderInUseError,
    OutputError,
    Spelled,
    UnetlabError,
    quoted,
    said_as,
)
from unetlab.group import SOLO, Group
from unetlab.inference.earlier_outputs import earlier_outputs, holds_outputs, tree_outputs_line
from unetlab.inference.every_file import (
    Takes,
    absent_channel,
    given_options,
    headers_read_once,
    model_takes,
    refuse_for_every_file,
    wrong_count,
)
from unetlab.inference.files import check_path
from unetlab.inference.folders import (
    FolderPrediction,
    ModelSource,
    dsb_inputs,
    folder_inputs,
    pixel_sizes_gathered,
    predict_folder,
    say_stopped_call,
)
from unetlab.inference.merged_objects import merged_said
from unetlab.inference.objects_summary import units_gathered
from unetlab.inference.output_rules import holds_of_a_call
from unetlab.inference.predict import floor_run
from unetlab.inference.records import OutputOptions, Provenance
from unetlab.inference.seg_out import passing_over, series_without_seg
from unetlab.inference.threads_look import looking_beside
from unetlab.manifest import MANIFEST
from unetlab.signals import stop_said, stop_status
from unetlab.words import numbered

__all__ = ["TreeStop", "TreeTotals", "launch_tree_stop", "predict_tree", "tree_folders"]

log = logging.getLogger(__name__)
#: the note of a launch's tree that grows a line a folder (:meth:`TreeStop.note_for_launch`)
TREE_STEPS = "tree.steps"
#: the first character of a folder's line in :data:`TREE_STEPS`: whether the folder before it
#: ran (True), was refused (False), or there was none (the tree's first); first, so that a
#: line cut off anywhere still says it (s56: cut before "ran", a refused folder counted done)
BEFORE_MARKS = {True: "+", False: "-", None: "."}


def _paths(root, out_dir) -> tuple:
    """``root`` and ``out_dir`` of :func:`predict_tree`, each refused in one line where it is
    no path (an array: pathlib's TypeError; s52 badinput)."""
    check_path(root, "root", "a folder"), check_path(out_dir, "out_dir", "a folder")
    return root, out_dir


def tree_folders(
    root: str | os.PathLike, out_dir: str | os.PathLike
) -> list[tuple[Path, list[Path]]]:
    """Each folder of the tree under ``root`` (``root`` itself first, then its sub-folders in
    sorted order, depth first) that holds inputs: its path relative to ``root`` and its
    inputs (:func:`~unetlab.inference.folders.folder_inputs`). Hidden folders, Zarr folders
    and DICOM series (inputs), ``out_dir`` and what unetlab wrote (each folder's manifest
    lists it: an earlier run's outputs are never read back; said in one line) are not
    searched; the other images of a folder that holds such outputs are (audit s37 paths C).
    Of a data set (:func:`_data_set_images`) only the images' folder is searched: masks are
    no inputs; a folder of Data Science Bowl samples
    (:func:`~unetlab.inference.folders.dsb_inputs`) is one folder of their images, predicted
    into one output folder as without ``--recursive``. A link to a folder is searched as a
    folder (``drop/alice -> /mnt/share/alice``), each once: a link back up is not followed."""
    root, skip = Path(root), Path(out_dir).resolve()
    found: list[tuple[Path, list[Path]]] = []
    searched: set[Path] = set()  # the folders searched, resolved: a link's loop ends
    passed: dict[Path, list[Path]] = {}  # the outputs unetlab wrote, by folder

    def walk(folder: Path) -> None:
        real = folder.resolve()
        if real == skip or real in searched:
            return
        searched.add(real)
        if samples := dsb_inputs(folder, recursive=True):  # one folder, as without --recursive
            found.append((folder.relative_to(root), samples))
            for split in dsb_splits(folder):  # stage1_train/test/: no sample
                walk(split)
            return
        ours: list[Path] = []
        if files := folder_inputs(folder, ours):
            found.append((folder.relative_to(root), files))
        subs = _sub_folders(folder)
        ours += earlier_outputs(folder, subs)  # a folder unetlab wrote (a package)
        if ours:
            passed[folder.relative_to(root)] = ours
        for sub in _data_set_images(folder, [p for p in subs if p not in ours + files]):
            walk(sub)

    if not root.is_dir():
        raise UnetlabError(f"{root} is no folder: --recursive (predict_tree) takes a folder")
    if root.resolve() == skip:
        raise OutputError(
            f"the output folder {out_dir} is the inputs' folder: give another (inputs are "
            "never replaced; one inside it is passed over when its images are searched)"
        )
    walk(root)
    _say_passed(root, passed, found)
    _refuse_outputs_in_tree(root, out_dir, [rel for rel, _ in found])
    return found


def _say_passed(root: Path, passed: dict[Path, list[Path]], found: list) -> None:
    """The line naming the outputs unetlab wrote that the tree under ``root`` passed over
    (``passed``: by folder), or UnetlabError where it ``found`` no inputs besides: not 'no
    images found' alone (audit s37 paths C)."""
    if passed and not found:
        raise UnetlabError(
            f"no images found in {root} or its sub-folders: {tree_outputs_line(root, passed)}"
            "; give a file itself to predict it"
        )
    if passed:
        log.info(
            "predict --recursive: %s; the others are predicted", tree_outputs_line(root, passed)
        )


def _sub_folders(folder: Path) -> list[Path]:
    """``folder``'s sub-folders, sorted, less hidden ones and Zarr folders (inputs)."""
    from unetlab.data.slides import is_zarr

    subs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [p for p in subs if not is_zarr(p)]


#: how a data set's other sub-folder is predicted, as the caller gives it (:func:`said_as`:
#: predict_tree in a notebook was told ``--input``, s53)
AS_INPUT = Spelled("give it to predict_folder", "give it as --input")


def _data_set_images(folder: Path, subs: list[Path]) -> list[Path]:
    """The sub-folders of ``folder`` the tree searches: ``subs``, or for a data set (a
    folder of images, ``images/`` or ``JPEGImages/``, beside one of masks: ``masks/``,
    ``labels/``, ``instances/``, ``SegmentationClass/``; any letter case) its images' folder
    and those of a split (``test/``, ``val/``, ``train/``: :data:`~unetlab.data.names.SPLIT_FOLDERS`;
    ``ds/test/*.tif`` beside ``ds/images/`` was passed over as a mask folder), the others
    passed over in one line that says why: masks are no inputs (the tree predicted
    ``ds/masks/`` as images into ``OUT/ds/masks/``), and a folder of no part the data set
    names (``weights/``, weightmap's maps) is no images of it, and one unetlab wrote into
    (``ds/pred/`` of an earlier ``--output ds/pred``) is said to be its outputs: it was told
    'give it as --input', where its files are refused as outputs. Sequences of the Cell
    Tracking Challenge's layout are searched, their truth (``01_GT/``, ``01_ST/``) not, and
    so is a TotalSegmentator case, its ``segmentations/`` not (one mask a structure)."""
    from unetlab.data.names import SPLIT_FOLDERS, folder_candidates
    from unetlab.data.pairs import FOLDER_ROLES

    if truths := truth_folders(subs):  # 35 of 49 files predicted were their masks (s69)
        log.info(
            "%s/ holds Cell Tracking Challenge sequences: only their frames predicted (%s "
            "passed over: gold and silver truth are no inputs)",
            folder,
            _named(truths),
        )
        return [p for p in subs if p not in truths]
    if (searched := _case_searched(subs)) is not None:
        return searched
    found = folder_candidates(folder, FOLDER_ROLES)
    images = [p for p in subs if p in found["images"] + found["JPEGImages"]]
    masks = found["masks"] + found["instances"] + found["SegmentationClass"]
    if not images or not masks:
        return subs
    searched = [p for p in subs if p in images or p.name.casefold() in SPLIT_FOLDERS]
    masks += [p for p in subs if p.name.casefold() == "segmentationobject"]  # VOC's objects
    others = [p for p in subs if p not in searched and p not in masks]
    made = [p for p in others if holds_outputs(p)]  # not to be given as --input
    others = [p for p in others if p not in made]
    why = [f"{_named(p for p in subs if p in masks)} passed over: masks are no inputs"]
    if made:
        why.append(f"{_named(made)} passed over: outputs unetlab wrote ({MANIFEST})")
    if others:
        why.append(f"{_named(others)} passed over: not its images ({said_as(AS_INPUT)})")
    log.info(
        "%s/ holds a data set: only its %s predicted (%s)", folder, _named(searched), "; ".join(why)
    )
    return searched


def _case_searched(subs: list[Path]) -> list[Path] | None:
    """``subs`` less a TotalSegmentator case's ``segmentations/`` (one mask a structure: its
    117 masks were predicted as images, s74 review), said once a command; None where none
    of ``subs`` is one."""
    from unetlab.data.read_notes import note_once
    from unetlab.data.totalseg import is_structure_masks

    if not (structures := [p for p in subs if is_structure_masks(p)]):
        return None
    note_once(
        "predict --recursive: TotalSegmentator cases' segmentations/ passed over: masks are no "
        "inputs (each case's CT predicted)",
        level=logging.INFO,
    )
    return [p for p in subs if p not in structures]


def _named(folders) -> str:
    """``images/, test/``: the folders' names, each with its slash."""
    return ", ".join(f"{p.name}/" for p in folders)


def _refuse_outputs_in_tree(root: Path, out_dir: str | os.PathLike, found: list[Path]) -> None:
    """OutputError if the mirrored output folder of one of the ``found`` folders (relative
    to ``root``) is in the inputs' tree: ``--input out/data --output out`` puts
    ``out/data/data/``'s outputs in ``out/data`` (its inputs' names refused there, but the
    manifest written, after which the tree was 'no images found'; audit s37 paths). An
    output folder inside the tree is no such case: it is not searched."""
    tree, out = root.resolve(), Path(out_dir).resolve()
    if tree in (out, *out.parents):
        return  # out_dir in the tree: every output folder is in it, and it is not searched
    for rel in found:
        target = (Path(out_dir) / rel).resolve()
        if target == tree or tree in target.parents:
            raise OutputError(
                f"the outputs of {root / rel} would go to {Path(out_dir) / rel}, among the "
                f"inputs of {root}: give an output folder outside {root}, or inside it"
            )


@call_lines()  # its INFO lines shown; a call is one command for what reading notes
@headers_read_once()  # each input's header read once by all the tree's channel checks
def predict_tree(
    model: ModelSource,
    root: str | os.PathLike,
    out_dir: str | os.PathLike,
    outputs=None,
    *,
    report: Callable[[Path, FolderPrediction], None] | None = None,
    begin: Callable[[Path], None] | None = None,
    takes: Takes | None = None,
    channels: int | None = None,
    **settings,
) -> dict[Path, FolderPrediction]:
    """Predict every folder of inputs under ``root`` (:func:`tree_folders`) into the same
    sub-folder of ``out_dir`` (``root/a/b/x.png`` -> ``out_dir/a/b/``) with
    :func:`~unetlab.inference.folders.predict_folder` (``outputs``, ``settings``: its
    keywords; with objects, each folder gets its ``objects_summary.csv``, one of one image
    too: ``OutputOptions.summary``), and return each folder's :class:`FolderPrediction` by
    its path relative to ``root``; ``report``: called with that path and the result of each
    folder; ``begin``: with that path before each folder (its lines after it); ``takes``:
    what the net of a function ``model`` takes, known before it runs (``channels``: its
    input channels alone, ``takes=Takes(channels)``). ``model`` is loaded once.
    UnetlabError if the tree holds no inputs, none that is a TIFF where ``axes`` are given
    (a folder of none reads its own as they are), a ``channel`` none has, or all of a
    channel count the net cannot take (s57); a folder whose output folder is refused
    (OutputError), or whose inputs lack the channel or are all of a count the net cannot
    take, is one failed line, the other folders go on. A stop (Ctrl-C, ``Stopped``; in a
    launch another process's too) or a full disk (DiskFullError) stops the tree, raised
    again with ``tree_stop`` (a TreeStop: :func:`_stops_the_tree`)."""
    takes = model_takes(model) or takes or (Takes(channels) if channels else None)
    folders = _checked_folders(root, out_dir, settings, takes)
    outputs, settings = OutputOptions.taken(outputs, settings)
    if outputs.objects is not None:  # each folder its table, one of one image too
        outputs = OutputOptions.of(outputs, summary=True)
    model = _once(model)
    results: dict[Path, FolderPrediction] = {}
    group = settings.get("group", SOLO)
    with _said_once(group, outputs), passing_over(_segless(folders, outputs)):
        for at, (rel, files) in enumerate(folders):
            place = TreeStop.begun(root, out_dir, folders, at, results, noted=group.is_main)
            with _stops_the_tree(place):  # a stop as the folder begins too: said where it is
                each = _folder_settings(root, rel, files, settings, report)
                if begin is not None:
                    begin(rel)
                where = (Path(root) / rel, Path(out_dir) / rel)
                results[rel] = _folder(model, files, where, outputs, each, settings, takes)
    return results


def _segless(folders: list[tuple[Path, list[Path]]], outputs: OutputOptions) -> frozenset[Path]:
    """The DICOM series of the tree's ``folders`` that can have no SEG where one is asked
    for (:func:`~unetlab.inference.seg_out.series_without_seg`: a folder whose only series
    lacks a UID stopped the tree); predicted without it, said once for the tree."""
    if not outputs.wanted["seg"]:
        return frozenset()
    return series_without_seg([f for _, files in folders for f in files if is_dicom_series(f)])


@contextlib.contextmanager
def _stops_the_tree(place: TreeStop) -> Iterator[None]:
    """Within (a folder of :func:`predict_tree`, begun at ``place``): a stop (Ctrl-C,
    ``Stopped``) or a full disk (DiskFullError) is the tree's, not the folder's, raised
    again with ``tree_stop`` (``place`` settled, while its hold is noted); so is another
    process's stop, in a launch (one stopped alone: its collectives' lost peer,
    :func:`~unetlab.distributed.peer_stops_raised`; s65: the command said a bare "stopped
    by SIGTERM", no count, no ``--skip-existing``); and another process's end, killed
    (:func:`~unetlab.distributed.peer_gone`; s66: "a bug in unetlab")."""
    try:
        with peer_stops_raised():
            yield
    except (KeyboardInterrupt, DiskFullError) as exc:
        exc.tree_stop = place.settled()
        raise
    except Exception as exc:
        if peer_gone(exc):
            exc.tree_stop = place.settled()
        raise


def _say_stopped(exc: KeyboardInterrupt, *, outputs: OutputOptions) -> None:
    """The line of a stop where no caller says it (the command line says its own:
    :func:`~unetlab.signals.stop_said`), from where the tree stopped (``exc.tree_stop``):
    ``predict_tree interrupted in ROOT/b/ (folder 2 of 3) with the outputs of 1 of 4 inputs
    in OUT/b; done: a/; not started: c/; continue with the same call with
    skip_existing=True`` (it showed a bare KeyboardInterrupt, review of s62 user)."""
    if (place := getattr(exc, "tree_stop", None)) is None:
        return
    with contextlib.suppress(UnetlabError, OSError):
        where, folder = place.where(outputs.wanted), place.outputs_folder()
        say_stopped_call("predict_tree", stop_status(exc)[0], where, folder, outputs)


def _checked_folders(root, out_dir, settings: dict, takes: Takes | None) -> list:
    """:func:`tree_folders` of ``root``; UnetlabError before any folder where none holds
    inputs, or the ``settings`` fail all alike (:func:`refuse_for_every_file`, told what
    the model ``takes`` where known), or every folder's inputs are of a channel
    count the model cannot take (:func:`_every_count_wrong`)."""
    folders = tree_folders(*_paths(root, out_dir))
    if not folders:
        raise UnetlabError(f"no images found in {root} or its sub-folders")
    check_axes(settings.get("axes"))  # letters no file takes: before the files'
    every = [f for _, files in folders for f in files]
    refuse_for_every_file(root, every, settings, takes=takes)
    _every_count_wrong(root, folders, settings, takes)
    return folders


def _every_count_wrong(root, folders: list, settings: dict, takes: Takes | None) -> None:
    """UnetlabError before any folder where each of ``folders`` holds inputs all of a count
    the model cannot take, counts that differ (of one count: :func:`refuse_for_every_file`'s
    line), naming each folder's as its own line would (:func:`_folder`), the first three.
    Headers are read up to the first folder that may be predicted."""
    channel, axes = given_options(settings).channel, settings.get("axes")
    lines = []
    for rel, files in folders:
        if (line := wrong_count(files, channel, axes=axes, takes=takes)) is None:
            return
        lines.append((Path(root) / rel, line))
    more = f"; {numbered(len(lines) - 3, 'more folder')} likewise" if len(lines) > 3 else ""
    head = f"no folder under {root} holds inputs the model can take: "
    said = {
        form: head + "; ".join(f"{at}/: {line[form]}" for at, line in lines[:3]) + more
        for form in ("message", "cli")
    }
    raise UnetlabError(**said)


@contextlib.contextmanager
def _said_once(group: Group, outputs: OutputOptions) -> Iterator[None]:
    """Within: the floor's, merged objects', units', pixel sizes' and reading's lines said
    once for the tree, by the main process of ``group``, and one look at the threads beside
    other work (:func:`~unetlab.inference.threads_look.looking_beside`) for all its
    folders; a stop's line the tree's, no folder's (:func:`_say_stopped`), said while the
    hold of the folder it stopped in is noted (:func:`holds_of_a_call`)."""
    said = functools.partial(_say_stopped, outputs=outputs)
    with (
        read_notes(),
        units_gathered(),
        pixel_sizes_gathered(),
        floor_run(held=not group.is_main),
        merged_said(group.is_main),
        looking_beside(group),
        holds_of_a_call(),
        stop_said(said, main=group.is_main),
    ):
        yield


def _folder(model, files, where: tuple[Path, Path], outputs, each: dict, settings: dict, takes):
    """The :class:`FolderPrediction` of the tree's folder ``where[0]`` of inputs ``files``
    into ``where[1]``: failed alone (its one line said, the other folders go on) where its
    output folder is refused, where its inputs are all of a channel count the model cannot
    take (:func:`~unetlab.inference.every_file.wrong_count`: each file failed alike, s58),
    or where none of its inputs has the channel asked for (others of the tree have:
    :func:`~unetlab.inference.every_file.absent_channel`, s54). ``takes``: the
    :class:`~unetlab.inference.every_file.Takes` of the model, None where not known before
    it loads."""
    channel, axes = given_options(settings).channel, settings.get("axes")
    line = wrong_count(files, channel, axes=axes, takes=takes)
    if line is None:
        line = absent_channel(files, channel, axes=axes, others=True, takes=takes)
    if line is not None:
        return _refused(where[0], UnetlabError(**line), settings)
    try:
        return predict_folder(model, files, where[1], outputs, **each)
    except DiskFullError:  # the tree's stop
        raise
    except OutputError as exc:  # this folder's outputs refused
        return _refused(where[0], exc, settings)


def _folder_settings(root, rel: Path, files: list[Path], settings: dict, report) -> dict:
    """:func:`predict_tree`'s keywords for ``predict_folder`` of its folder ``rel`` holding
    ``files``: ``settings`` (:func:`_as_is`), ``root``, and ``report`` told the folder."""
    told = {} if report is None else {"report": lambda result: report(rel, result)}
    return dict(root=root, **told, **_as_is(files, settings))


def _as_is(files: list[Path], settings: dict) -> dict:
    """``settings`` for a folder of the tree holding ``files``: without the ``axes`` given
    where none of them is a TIFF (its PNGs read as they are, as beside a TIFF: the tree has
    one, :func:`~unetlab.data.io.refuse_untiffed_axes`); each was failed for them."""
    if settings.get("axes") is None or any(file_axes(f, "YX") for f in files):
        return settings
    return {k: v for k, v in settings.items() if k != "axes"}


def refused(root: str | os.PathLike, rel: Path, result: FolderPrediction) -> bool:
    """Whether ``result`` is that of the folder ``rel`` whose output folder
    :func:`predict_tree` refused (its one failed line is the folder's own)."""
    return not result.written and set(result.failed) == {Path(root) / rel}


@dataclass(frozen=True)
class TreeTotals:
    """A tree's figures: the folders predicted (``done``) and ``refused``, and their inputs
    ``written``, ``skipped`` (and not read: a microscope format) and ``failed``; ``in_use``:
    the refused folders another unetlab process held."""

    done: int = 0
    refused: int = 0
    in_use: int = 0
    written: int = 0
    skipped: int = 0
    failed: int = 0

    @classmethod
    def of(cls, root: str | os.PathLike, results: dict[Path, FolderPrediction]) -> TreeTotals:
        """The totals of :func:`predict_tree`'s ``results`` of the tree under ``root``."""
        ran = [r for rel, r in results.items() if not refused(root, rel, r)]
        return cls(
            done=len(ran),
            refused=len(results) - len(ran),
            in_use=sum(r.in_use for r in results.values()),
            written=sum(len(r.written) for r in ran),
            skipped=sum(len(r.skipped) + len(r.not_read) for r in ran),
            failed=sum(len(r.failed) for r in ran),
        )


@dataclass
class TreeStop:
    """Where :func:`predict_tree` stopped: the tree under ``root`` (outputs in ``out_dir``),
    its ``folders`` (:func:`tree_folders`; the inputs of one None where they are not known:
    :func:`launch_tree_stop`), the index of the one it stopped in (``at``) and the
    ``results`` of those before it; ``record``: what the run makes its outputs by, where it
    was noted for the launcher (:func:`launch_tree_stop`; None: this process's stopped run's,
    :func:`~unetlab.inference.output_rules.stopped_record`); ``held``: whether its process
    held the folder it stopped in (None: ask, :func:`~unetlab.inference.output_rules.held_here`;
    False for the launcher's where none was noted for it: its process stopped before it held
    that folder and predicted none of its inputs, s56)."""

    root: Path
    out_dir: Path
    folders: list[tuple[Path, list[Path] | None]]
    at: int
    results: dict[Path, FolderPrediction] = field(default_factory=dict)
    record: Provenance | None = None
    held: bool | None = None  # this process held the folder it stopped in (None: ask)

    @classmethod
    def begun(cls, root, out_dir, folders: list, at: int, results: dict, *, noted: bool):
        """Where :func:`predict_tree` is as it begins its folder ``at``: noted for the
        launcher where ``noted`` (its main process: :meth:`note_for_launch`); an earlier
        run's hold of its output folder forgotten (:meth:`where` asks whether this run's
        process held it)."""
        from unetlab.inference.output_rules import forget_held

        place = cls(Path(root), Path(out_dir), folders, at, results)
        forget_held(place.outputs_folder())
        if noted:
            place.note_for_launch()
        return place

    def settled(self) -> TreeStop:
        """This place, with whether this process's run held the folder it stopped in and
        the record that run made its outputs by, taken as it stops: the hold is released as
        the call ends (:func:`~unetlab.inference.output_rules.holds_of_a_call`), before
        its caller asks :meth:`where`."""
        from unetlab.inference.output_rules import held_here, stopped_record
        from unetlab.inference.records import main_s_record

        folder = self.outputs_folder()
        self.held = held_here(folder)
        self.record = self.record or stopped_record(folder) or main_s_record(folder)
        return self

    def note_for_launch(self) -> None:
        """In the main process of a ``--nproc N`` launch, the tree's place noted for the
        launcher (:func:`launch_tree_stop`), which says the line of a launch stopped
        before that process said its own: the tree's folders once, at its first; then a line
        a folder (its place, its inputs, whether the one before it ran). The whole place
        rewritten at every folder grew as its square (s54 review: 10.9 s for 4,000 folders),
        as the tree's every input noted each time would."""
        from unetlab.inference.records import append_beside_launch, note_beside_launch

        if self.at == 0:
            note_beside_launch("tree", self._tree_note)
        append_beside_launch(TREE_STEPS, self._step_line)

    def _tree_note(self) -> dict:
        """The tree :meth:`note_for_launch` notes once: its root, outputs and folders."""
        rels = [str(rel) for rel, _ in self.folders]
        return {"root": str(self.root), "out_dir": str(self.out_dir), "folders": rels}

    def _step_line(self) -> str:
        """The line :meth:`note_for_launch` adds at the folder ``at``: whether the folder
        before it ran (not refused), as its first character (:data:`BEFORE_MARKS`), then its
        place and its inputs as JSON (:func:`_steps` reads it)."""
        ran = None
        if self.at:
            before = self.folders[self.at - 1][0]
            result = self.results.get(before)
            ran = result is not None and not refused(self.root, before, result)
        step = {"at": self.at, "files": [str(f) for f in self.folders[self.at][1]]}
        return BEFORE_MARKS[ran] + json.dumps(step, default=str)

    def outputs_folder(self) -> Path:
        """The output folder of the folder it stopped in (``OUT/bob``)."""
        return self.out_dir / self.folders[self.at][0]

    def where(self, wanted: dict[str, bool]) -> str:
        """``in ROOT/bob/ (folder 2 of 3) with the outputs of 1 of 4 inputs in OUT/bob; done:
        alice/; not started: carol/`` (``wanted``: the outputs asked for, as
        :func:`~unetlab.inference.output_rules.finished_inputs` takes them)."""
        from unetlab.inference.output_rules import inputs_done

        rel, files = self.folders[self.at]
        text = f"in {self.root / rel}/ (folder {self.at + 1} of {len(self.folders)})"
        folder = self.out_dir / rel
        with contextlib.suppress(UnetlabError, OSError):  # unreadable: said without a count
            # none predicted by this run: another model's outputs not counted; files None:
            # its line cut (:func:`_steps`), said without a count
            if done := inputs_done(files, folder, wanted, self.record, held=self.held, its=True):
                text += f" {done}"
        ran = [r for r, res in self.results.items() if not refused(self.root, r, res)]
        later = [r for r, _ in self.folders[self.at + 1 :]]
        return f"{text}; done: {_listed(ran)}; not started: {_listed(later)}"


def _listed(folders: Sequence[Path], most: int = 3) -> str:
    """``alice/, bob/ and 4 more`` (the first ``most``), or ``none``."""
    if not folders:
        return "none"
    named = ", ".join(f"{rel}/" for rel in folders[:most])
    return named + (f" and {len(folders) - most} more" if len(folders) > most else "")


def _refused(folder: Path, exc: UnetlabError, settings: dict) -> FolderPrediction:
    """A folder whose output folder was refused (another model's outputs, a file unetlab
    did not write, in use), or whose every input lacks the channel asked for or has a
    channel count the model cannot take: its line said
    (``settings["failed"]``, default a warning) and the folder counted failed, so that one
    user's folder does not stop the night's."""
    line = f"{folder}/: {quoted(exc)}"
    if settings.get("group", SOLO).is_main:
        failed = settings.get("failed") or (lambda text: log.warning("failed: %s", text))
        failed(line)
    return FolderPrediction(failed={folder: line}, in_use=isinstance(exc, FolderInUseError))


def _once(model: ModelSource) -> ModelSource:
    """``model``, or a function that calls ``model`` once and gives its model every time."""
    if isinstance(model, torch.nn.Module) or not callable(model):
        return model
    loaded: list[torch.nn.Module] = []

    def load() -> torch.nn.Module:
        if not loaded:
            loaded.append(model())
        return loaded[0]

    return load


def launch_tree_stop(status: str) -> TreeStop | None:
    """Where the tree of the launch whose status file is ``status`` was, as its main process
    noted it (:meth:`TreeStop.note_for_launch`: the tree once, then a line a folder): the
    folders before it that ran, the inputs of the one it was in (the others' not noted),
    and the record its outputs are made by, as its process noted it once it held that
    folder (:func:`~unetlab.inference.records.launch_record`; without it, it had not held
    it: ``held`` False); None where none was noted (it stopped before its first folder).
    ValueError where the note is not one line a folder, in order from the tree's first
    (:func:`_steps`): where it was is not known."""
    from unetlab.inference.records import launch_lines, launch_note, launch_record

    tree, (lines, cut) = launch_note(status, "tree"), launch_lines(status, TREE_STEPS)
    if tree is None or not (lines or cut):
        return None
    folders: list = [(Path(rel), []) for rel in tree["folders"]]
    ran, files = _steps(lines, cut, len(folders))
    at = len(lines) if cut else len(lines) - 1
    folders[at] = (folders[at][0], files)
    done = {folders[i - 1][0]: FolderPrediction() for i in ran}
    where = (Path(tree["root"]), Path(tree["out_dir"]), folders, at, done)
    record = launch_record(status, where[1] / folders[at][0])
    return TreeStop(*where, record=record, held=False)  # the launcher held none


def _steps(lines: list[str], cut: str, count: int) -> tuple[list[int], list[Path] | None]:
    """Of a launch's tree of ``count`` folders, as its note's whole ``lines`` and its line
    ``cut`` off (killed as it wrote it: "" where none) say: the folders (by index) whose
    folder before ran, and the inputs of the last one noted (None where its line was cut:
    its first character says whether the one before ran, :data:`BEFORE_MARKS`; its place is
    the one after the last whole line's). ValueError where the lines are not one a folder,
    in order from the first (a line left out, or one twice: that place would be wrong)."""
    marks, files = [], None
    for at, line in enumerate(lines):
        step = json.loads(line[1:])
        if not isinstance(step, dict) or step.get("at") != at or "files" not in step:
            raise ValueError(f"line {at + 1} of a tree's note is not its folder {at + 1}'s")
        marks.append(line[:1])
        files = [Path(f) for f in step["files"]]
    if cut:
        marks, files = [*marks, cut[0]], None
    after = {BEFORE_MARKS[True], BEFORE_MARKS[False]}  # a folder's but the first's
    if len(marks) > count or marks[0] != BEFORE_MARKS[None] or not set(marks[1:]) <= after:
        raise ValueError(f"a tree's note of {count} folders is not one line a folder: {marks}")
    return [at for at, mark in enumerate(marks) if mark == BEFORE_MARKS[True]], files
