"""The rules of a prediction's output folder: which files an input's outputs are, which of
them count as finished, and what made them.

- :func:`output_paths` / :func:`output_roles`: the names of one input's outputs, and what
  each holds; :func:`refuse_shared_outputs`: two inputs that would write one file.
- :func:`finished_inputs` / :func:`finished_outputs`: what ``--skip-existing`` skips, by the
  folder's manifest and the key of the record that made each output;
  :func:`other_models` / :func:`other_inputs`: outputs another model made there, and those
  this model made from inputs read or tiled otherwise (``--axes``, ``--level``, ``--tile-size``).
- :func:`prediction_folder`: the folder checked, locked and claimed for a run's outputs
  (:func:`unetlab.outputs.output_folder`), its record saved once the work is done;
  :func:`refuse_theirs`: never write over a file unetlab did not write.

Writing the outputs is :mod:`unetlab.inference.files`'s; this module names and guards them.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from unetlab.data.dicom_seg import SEG_ENDING
from unetlab.data.labelme import LABELME_ENDING
from unetlab.data.names import SEG_END
from unetlab.data.ome import FORMATS
from unetlab.distributed import peer_stops_raised
from unetlab.errors import (
    DiskFullError,
    OutputError,
    Spelled,
    TheirFileError,
    UnetlabError,
)
from unetlab.inference.chosen import as_record, noting
from unetlab.inference.held import (  # re-exported: the folder's rules
    claimed_sources,
    held_folders,
    holding_folder,
    input_source,
    refuse_own_input,
)
from unetlab.inference.input_folder import refuse_input_folder
from unetlab.inference.legend import own_legend_of
from unetlab.inference.objects_3d import classes_table, flat_inputs, say_flat
from unetlab.inference.plate_out import plate_zarr_names
from unetlab.inference.records import (
    Z_ONLY,
    OutputOptions,
    Provenance,
    carried_key,
    carries_key,
    describe_same_model,
    describe_setting_changes,
    edits_keep_key,
    embedded_key,
    flat_keys,
    flat_record,
    input_record,
    note_for_launch,
    read_flat,
    read_records,
    same_model,
    save_record,
    setting_changes,
)
from unetlab.inference.slides import (
    VOLUME_LABELS,
    output_names,
    output_stem,
    output_stems,
    refuse_claimed_only,
)
from unetlab.manifest import (
    changed_inputs,
    hand_relisted,
    modified_after,
    relist,
    walking_once,
)
from unetlab.outputs import (  # PYTHON_OVERWRITE_FIX: re-exported (inference.folders)
    PENDING,
    PYTHON_OVERWRITE_FIX,
    RECORD_FILES,
    edited_outputs,
    made_from,
    output_folder,
    recorded_keys,
    refuse_unlisted,
    rekey,
)

__all__ = [
    "EVERY",
    "PYTHON_OVERWRITE_FIX",
    "another_folder",
    "claimed_sources",
    "finished_inputs",
    "finished_outputs",
    "forget_held",
    "handed_as_read",
    "held_folders",
    "holding_folder",
    "held_here",
    "holds_of_a_call",
    "input_source",
    "listed_as_read",
    "missing_outputs",
    "moved_since_claim",
    "other_inputs",
    "other_models",
    "output_forms",
    "output_of",
    "output_paths",
    "output_roles",
    "output_sources",
    "prediction_folder",
    "refuse_own_input",
    "refuse_claimed",
    "refuse_shared_outputs",
    "refuse_theirs",
    "refuse_unlistable_names",
    "shared_outputs",
    "stopped_record",
]


def output_paths(
    out_dir: Path, stem: str, *, stack: bool, volume: str | None = None
) -> dict[str, Path]:
    """Where the outputs of one input go: ``labels``, ``probabilities``, ``overlay``,
    ``objects`` (object ids), ``table`` (one row per object), ``classes`` (each class's
    volume: a model of several object classes' 3-D objects), ``geojson``, ``rois`` and
    ``labelme`` (object outlines), ``cellpose`` (the objects as cellpose's GUI saves them),
    ``seg`` (a DICOM series' SEG). ``stack``: TIFF labels and
    overlay (a multi-page input, or a TIFF with a pixel size), else PNG; ``volume``: the
    ending of labels that are a label volume of the input's format (``.nii.gz``, ``.mrc``:
    :func:`~unetlab.inference.slides.volume_labels`)."""
    ext = ".tif" if stack else ".png"
    return {
        "labels": out_dir / f"{stem}{volume or ext}",
        "probabilities": out_dir / f"{stem}_prob.tif",
        "overlay": out_dir / f"{stem}_overlay{ext}",
        "objects": out_dir / f"{stem}_objects.tif",
        "table": out_dir / f"{stem}_objects.csv",
        "classes": out_dir / f"{stem}_classes.csv",
        "geojson": out_dir / f"{stem}_objects.geojson",
        "rois": out_dir / f"{stem}_objects_rois.zip",
        "labelme": out_dir / f"{stem}{LABELME_ENDING}",
        "cellpose": out_dir / f"{stem}{SEG_END}",
        "seg": out_dir / f"{stem}{SEG_ENDING}",
    }


def output_of(out_dir: str | os.PathLike, path: Path, kind: str) -> Path:
    """Where the output ``kind`` of input ``path`` goes in ``out_dir``, as
    :func:`output_paths` names it: one whose name the input's pages do not choose
    (``cellpose``, ``labelme``, ``objects``, ...)."""
    return output_paths(Path(out_dir), output_stem(path), stack=False)[kind]


#: what each kind of output is called in messages
_ROLES = {
    "labels": "labels",
    "overlay": "overlay",
    "probabilities": "probabilities",
    "objects": "object ids",
    "table": "object table",
    "classes": "class volumes",
    "geojson": "object outlines (GeoJSON)",
    "rois": "object outlines (ImageJ ROIs)",
    "labelme": "object outlines (labelme)",
    "cellpose": "object masks (cellpose)",
    "seg": "segmentation (DICOM SEG)",
}


#: every kind of output, as :func:`output_roles` takes them: an input's outputs of any kind
EVERY = dict.fromkeys(
    ("probabilities", "overlay", "objects", "geojson", "rois", "labelme", "cellpose", "seg"),
    True,
)


def output_forms(out_dir: Path, stem: str) -> list[dict[str, Path]]:
    """:func:`output_paths` of every form an input's outputs may take: a plane's (PNG), a
    stack's (TIFF), a volume's (``.nii.gz``, ``.mrc`` labels: :data:`VOLUME_LABELS`)."""
    every = [output_paths(out_dir, stem, stack=stack) for stack in (False, True)]
    volumes = VOLUME_LABELS.values()
    return [*every, *(output_paths(out_dir, stem, stack=True, volume=v) for v in volumes)]


def output_roles(
    stem: str,
    *,
    probabilities: bool = False,
    overlay: bool = False,
    objects: bool = False,
    geojson: bool = False,
    rois: bool = False,
    labelme: bool = False,
    cellpose: bool = False,
    seg: bool = False,
) -> dict[str, str]:
    """Every file name :func:`~unetlab.inference.files.predict_file` may write for an input
    whose outputs are called ``stem`` (:func:`~unetlab.inference.slides.output_stem`), and
    what each holds: the labels and overlay as .png and .tif (which one depends on the
    file's pages, size and pixel size), and a large image's
    (:func:`~unetlab.inference.slides.output_names`)."""
    wanted = {"labels", "overlay"} if overlay else {"labels"}
    wanted |= {"probabilities"} if probabilities else set()
    wanted |= {"objects", "table", "classes"} if objects else set()  # classes: _finished_outputs
    outlines = dict(geojson=geojson, rois=rois, labelme=labelme, cellpose=cellpose, seg=seg)
    wanted |= {k for k, on in outlines.items() if on}
    every = output_forms(Path(), stem)
    every += [output_names(stem, output_format) for output_format in FORMATS]
    return {str(name): _ROLES[key] for each in every for key, name in each.items() if key in wanted}


def input_roles(path: Path, **wanted: bool) -> dict[str, str]:
    """:func:`output_roles` of the input ``path``: of each position of a multi-position
    OME-TIFF (:func:`~unetlab.inference.slides.output_stems`)."""
    return _stems_roles(output_stems(path), wanted)


def _stems_roles(stems: Sequence[str], wanted: Mapping[str, bool]) -> dict[str, str]:
    """:func:`output_roles` of each of an input's ``stems`` (its output stems, read once
    by a caller that asks for them again: each read stats the input, s61)."""
    return {n: r for stem in stems for n, r in output_roles(stem, **wanted).items()}


#: the fix of two inputs whose outputs meet, in both spellings: the CLI's flag and the
#: Python API's ``out_dir``
_APART = "predict them into different output folders (--output, or out_dir in Python)"


def refuse_shared_outputs(out_dir: Path, files: Sequence[Path], **wanted: bool) -> None:
    """OutputError if two of ``files`` would write one output file (names equal up to case:
    one file on case-insensitive file systems), e.g. ``x.png``'s overlay and
    ``x_overlay.png``'s labels; ``wanted``: the outputs asked for (:func:`output_roles`).
    :func:`shared_outputs` names each such input instead, so that the others can go on."""
    for clash in _clashes(files, wanted):
        if clash.name is None:  # one output stem: all their outputs
            raise OutputError(f"{clash.text(out_dir)}: {_APART}{_tree([clash])}")
        raise OutputError(f"{clash.text(out_dir)}: {_APART}, or rename one")


def shared_outputs(out_dir: Path, files: Sequence[Path], **wanted: bool) -> dict[Path, str]:
    """Each of ``files`` whose outputs in ``out_dir`` another one's would write (what
    :func:`refuse_shared_outputs` refuses: ``a.png`` and ``a.tif``, ``a.png`` and
    ``A.jpg``, ``x.png``'s overlay and ``x_overlay.png``'s labels) -> the one line naming
    those inputs and the fix, the same line for each of them: none of them is predicted
    (which one the names would belong to would depend on the order of the files), the
    others are."""
    clashes = list(_clashes(files, wanted))
    group: dict[Path, Path] = {}  # each input -> the first input of its clashes (union-find)

    def top(f: Path) -> Path:
        while group.setdefault(f, f) != f:
            f = group[f]
        return f

    for clash in clashes:
        group[top(clash.other)] = top(clash.first)
    lines: dict[Path, str] = {}
    for first in dict.fromkeys(top(f) for f in group):
        mine = [c for c in clashes if top(c.first) == first]
        count = sum(top(f) == first for f in group)
        rename = "rename one" if count == 2 else f"rename all but one of these {count}"
        lines[first] = f"{_clashes_text(out_dir, mine)}: not predicted; {rename}, or {_APART}"
        lines[first] += _tree(mine)
    return {f: lines[top(f)] for f in files if f in group}


def _clashes_text(out_dir: Path, clashes: Sequence[_Clash]) -> str:
    """What ``clashes`` of one group of inputs are, in words: those of one output stem named
    together (``a.png, a.tif and a.jpg would write the same outputs``), each name two
    would write after them."""
    stems = [f for c in clashes if c.name is None for f in (c.first, c.other)]
    stems = list(map(str, dict.fromkeys(stems)))
    texts = [c.text(out_dir) for c in clashes if c.name is not None]
    if stems:
        names = f"{', '.join(stems[:-1])} and {stems[-1]}"
        texts.insert(0, f"{names} would write the same outputs")
    return "; ".join(texts)


@dataclass(frozen=True)
class _Clash:
    """Two inputs whose outputs meet: the ``first`` of the files, the ``other``, and the
    ``name`` both would write with the ``roles`` it would have for each (None: every
    output, the two have one output stem)."""

    first: Path
    other: Path
    name: str | None = None
    roles: tuple[str, str] = ("", "")

    def text(self, out_dir: Path) -> str:
        if self.name is None:
            return f"{self.first} and {self.other} would write the same outputs"
        first, other = self.roles
        return (
            f"{self.first}'s {first} and {self.other}'s {other} would both be {out_dir / self.name}"
        )


def _clashes(files: Sequence[Path], wanted: Mapping[str, bool]) -> Iterator[_Clash]:
    """Each pair of ``files`` whose outputs meet (names equal up to case), once, in the
    order of the files: one output stem, else the first name both would write."""
    stems: dict[str, Path] = {}
    claimed: dict[str, tuple[Path, str]] = {}
    met: set[tuple[Path, Path]] = set()
    for f in files:
        its_stems = output_stems(f)  # a multi-position file's: each position's
        for stem in its_stems:
            first = stems.setdefault(stem.casefold(), f)
            if first != f and (first, f) not in met:
                met.add((first, f))
                yield _Clash(first, f)
        for name, role in _stems_roles(its_stems, wanted).items():
            first, first_role = claimed.setdefault(name.casefold(), (f, role))
            if first != f and (first, f) not in met:
                met.add((first, f))
                yield _Clash(first, f, name, (first_role, role))


def _tree(clashes: Sequence[_Clash]) -> str:
    """The other fix of inputs of two folders: each folder's outputs in their own
    sub-folder."""
    apart = any(c.first.parent != c.other.parent for c in clashes)
    return ", or --recursive (predict_tree in Python)" if apart else ""


#: what a name the folder's manifest lists cannot hold: it is one line, of tab-separated fields
UNLISTABLE = ("\n", "\r", "\t")


def refuse_unlistable_names(files: Sequence[Path], **wanted: bool) -> None:
    """OutputError if an output name of ``files`` holds a line break or a tab, which the
    output folder's manifest (one line per file) cannot list: the run wrote it, then took
    it for a file of someone else's and refused every run into that folder again (audit
    s37 paths: ``new\\nline.png``). ``wanted``: the outputs asked for (:func:`output_roles`)."""
    for f in files:
        if any(c in name for name in input_roles(f, **wanted) for c in UNLISTABLE):
            raise OutputError(
                f"{str(f)!r}: its outputs' names would hold a line break or a tab, which the "
                "output folder's list of the files unetlab wrote (.unetlab-outputs, a line "
                "each) cannot hold: rename the file"
            )


def finished_inputs(
    out_dir: str | os.PathLike,
    files: Sequence[Path],
    *,
    record: Provenance | None = None,
    **wanted: bool,
) -> list[Path]:
    """The ``files`` each of whose asked-for outputs (``wanted``: as for :func:`output_roles`;
    the label image always) exists in ``out_dir`` and is one that ``unetlab predict`` wrote
    there (its manifest lists it): what ``--skip-existing`` skips. A file of that name that
    unetlab did not write is no finished prediction, and an input predicted before without
    an output asked for now (an overlay, its objects) is not finished (a streamed slide's
    overlay too: its downsampled ``<stem>_overlay.png``), nor is one whose outputs the
    manifest says were made from another input (``nb1.png``'s for ``nb1.ome.tif``) or from
    the input before it changed (:func:`~unetlab.manifest.changed_inputs`), nor,
    given the ``record`` of this run, one whose outputs the manifest does not say were made
    by that checkpoint and settings (its key; see :func:`finished_outputs`). Ask before the
    folder's manifest records this run."""
    return list(finished_outputs(out_dir, files, record=record, **wanted))


def finished_outputs(
    out_dir: str | os.PathLike,
    files: Sequence[Path],
    *,
    record: Provenance | None = None,
    **wanted: bool,
) -> dict[Path, list[str]]:
    """Each of :func:`finished_inputs` -> the names of its outputs that count as made by
    ``record``, those not asked for now too (a killed run's overlay, confirmed by a rerun
    that skips its input without one: it stayed PENDING). A killed run's own outputs count
    when the manifest lists them PENDING with this run's key and the file carries the key
    (:func:`_made_by`), or cannot carry one (an object table) and the input's label image,
    written last, counts."""
    with walking_once():  # a Zarr input once, not once per output of it
        return _finished_outputs(Path(out_dir), files, record, wanted)


def _ours(
    out_dir: Path, record: Provenance | None
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """(output -> its input) of the outputs in ``out_dir`` that predict made of their input
    as it is now, by ``record``'s checkpoint and settings where given (:func:`_made_by`);
    and a killed run's outputs that cannot carry a key (an object table), listed PENDING
    with this run's key, which count only beside their input's label image
    (:func:`finished_outputs`)."""
    ours = made_from(out_dir, "predict") if out_dir.is_dir() else {}
    if ours and (changed := changed_inputs(out_dir, "predict")):  # not of this input now
        ours = {n: s for n, s in ours.items() if n not in changed}
    if record is None:
        return ours, {}
    keys = recorded_keys(out_dir, "predict") if out_dir.is_dir() else {}
    key_of = _keys_of(read_records(out_dir), record)
    keyless = {
        n: s
        for n, s in ours.items()
        if any(keys.get(n) == PENDING + k for k in key_of(s)) and not carries_key(n)
    }
    ours = {
        n: s
        for n, s in ours.items()
        if any(_made_by(out_dir, n, s, keys.get(n), k) for k in key_of(s))
    }
    return ours, keyless


def _finished_outputs(
    out_dir: Path, files: Sequence[Path], record: Provenance | None, wanted: Mapping[str, bool]
) -> dict[Path, list[str]]:
    """:func:`finished_outputs`: of each input, the outputs :func:`_ours` says are."""
    ours, keyless = _ours(out_dir, record)

    def outputs(f: Path) -> list[str] | None:  # a multi-position file's: all positions'
        each = [position_outputs(f, stem) for stem in output_stems(f)]
        return None if None in each else [n for names in each for n in names]

    def position_outputs(f: Path, stem: str) -> list[str] | None:
        names_of: dict[str, list[str]] = {}
        for name, role in output_roles(stem, **wanted).items():
            names_of.setdefault(role, []).append(name)
        mine = (None, input_source(f))  # None: a manifest that names no input

        def made(n: str, by: Mapping[str, str | None]) -> bool:
            return n in by and by[n] in mine and (out_dir / n).exists()

        labelled = any(made(n, ours) for n in names_of["labels"])

        def counts(n: str) -> bool:
            return made(n, ours) or (labelled and made(n, keyless))

        if not _classes_expected(out_dir / f"{stem}_objects.tif", record):
            names_of.pop(_ROLES["classes"], None)  # a model of several classes' 3-D objects'
        if not all(any(counts(n) for n in names) for names in names_of.values()):
            return None
        return sorted(n for n in output_roles(stem, **EVERY) if counts(n))  # not asked too

    found = {f: outputs(f) for f in files}
    return {f: names for f, names in found.items() if names is not None}


def missing_outputs(
    out_dir: str | os.PathLike, file: Path, kinds: Sequence[str], record: Provenance
) -> list[str]:
    """The ``kinds`` of outputs (keywords of :func:`output_roles`: objects, overlay) asked
    of the input ``file`` and missing, as a line names them: a kind none of whose outputs
    counts as made by ``record`` (:func:`finished_outputs`) by its keyword, one of which
    some do by the files missing (``ct_classes.csv`` where the object ids and table are
    there; s74: "objects missing" where only it was)."""
    out_dir, said = Path(out_dir), []
    made = set(finished_outputs(out_dir, [file], record=record).get(file, ()))
    for kind in kinds:
        roles: dict[str, list[str]] = {}
        for stem in output_stems(file):
            for name, role in output_roles(stem, **{kind: True}).items():
                roles.setdefault(f"{stem} {role}", []).append(name)
            roles.pop(f"{stem} {_ROLES['labels']}")
            if not _classes_expected(out_dir / f"{stem}_objects.tif", record):
                roles.pop(f"{stem} {_ROLES['classes']}", None)
        lacking = [names for names in roles.values() if not made.intersection(names)]
        some = 0 < len(lacking) < len(roles)
        said += [names[0] for names in lacking] if some else [kind]
    return said


def _classes_expected(objects: Path, record: Provenance | None) -> bool:
    """Whether the outputs ``record`` made of an input whose object ids are ``objects``
    hold ``<stem>_classes.csv``: its 3-D objects (by ``record``) are of several classes (by
    their table: :func:`~unetlab.inference.objects_3d.classes_table`); s73 review: a
    --skip-existing rerun left it missing, "skipped (their outputs are there)"."""
    outputs = {} if record is None else record.outputs
    said = outputs.get("objects")
    semantic = isinstance(said, dict) and said.get("mode") == "semantic"
    return bool(outputs.get("objects_3d")) and semantic and classes_table(objects)


def _keys_of(
    records: dict[str, dict], record: Provenance
) -> Callable[[str | None], tuple[str, ...]]:
    """The keys by which an input's outputs (by its :func:`input_source`) count as made by
    ``record`` (:func:`~unetlab.inference.records.input_record`: a PNG's without axes): its
    key, and for an input that a record of the folder (``records``:
    :func:`~unetlab.inference.records.read_records`) differing from it
    only by ``objects_3d`` or ``z_spacing`` read with no Z axis, that record's
    (:func:`~unetlab.inference.records.flat_keys`: a 2-D image's outputs are the same with
    them or without; an older run gave them its own key)."""
    twins: dict[str, dict] = {}

    def keys(source: str | None) -> tuple[str, ...]:
        own = record if source is None else input_record(record, source)  # a PNG's: no axes
        if own.key not in twins:
            twins[own.key] = flat_keys(records, own)
        return (own.key, *(k for k, inputs in twins[own.key].items() if source in inputs))

    return keys


def _made_by(out_dir: Path, name: str, source: str | None, listed: str | None, key: str) -> bool:
    """Whether the output ``name`` was made by ``key`` from its input ``source`` as it is:
    its manifest line says so, or says a run of that key listed it and stopped (killed)
    before confirming it, and the output itself carries the key
    (:func:`~unetlab.inference.records.embedded_key`: written to the end; an OME-Zarr's
    attributes are written last) and was written after the input's last change (not an
    earlier run's output of the input before it changed, left as it was by a run stopped
    before it wrote this one)."""
    if listed == key:
        return True
    if listed != PENDING + key or embedded_key(out_dir / name) != key:
        return False
    return source is None or not modified_after(source, out_dir / name)


def other_output_settings(
    out_dir: str | os.PathLike, files: Sequence[Path], record: Provenance
) -> dict[Path, tuple[dict, dict] | None]:
    """Those of ``files`` whose outputs in ``out_dir`` this model (``record``'s checkpoint
    and model settings) finished with other output settings (objects' min_area, objects_3d)
    -> (those settings as their record holds them, ``record``'s as the input gets them),
    without ``objects_3d`` and ``z_spacing`` for an input that record read with no Z axis
    (:func:`~unetlab.inference.records.read_flat`: its outputs the same with them or
    without); None where ``predict.json`` holds no record of them (a run stopped before it
    wrote it). A rerun replaces them, as it replaces another model's only with
    ``overwrite`` (review of s62 user: 152 objects became 3 without a word)."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return {}
    ours, keys = made_from(out_dir, "predict"), recorded_keys(out_dir, "predict")
    records, found, sources = read_records(out_dir), {}, set(ours.values())
    keys_of = _keys_of(records, record)  # predict.json parsed once
    for f in files:
        if (source := input_source(f)) not in sources and None not in sources:
            continue  # none of its outputs here: its record and names not made (3 stats: s63)
        mine, own = (None, source), input_record(record, f)
        for name in input_roles(f, **EVERY):
            key = keys.get(name) or PENDING
            if name not in ours or ours[name] not in mine or key.startswith(PENDING):
                continue
            if key.startswith(own.model_key) and key not in keys_of(source):
                found[f] = _settings_pair(records, key, own, source)
                break
    return found


def _settings_pair(
    records: dict[str, dict], key: str, own: Provenance, source: str | None
) -> tuple[dict, dict] | None:
    """(the output settings of the folder's record of ``key``, ``own``'s), without
    :data:`~unetlab.inference.records.Z_ONLY` where that record read ``source`` with no Z
    axis: :func:`other_output_settings`; None where ``records`` hold none of ``key``."""
    theirs = (records.get(key) or {}).get("outputs")
    if not isinstance(theirs, dict):
        return None
    if source not in read_flat(records, key):
        return theirs, own.outputs
    return {k: v for k, v in theirs.items() if k not in Z_ONLY}, flat_record(own).outputs


def other_models(
    out_dir: str | os.PathLike, files: Sequence[Path], record: Provenance
) -> dict[Path, tuple[str, Provenance | None]]:
    """Those of ``files`` whose outputs in ``out_dir`` (any kind, made from that input) the
    manifest says another model made than ``record``'s (another checkpoint, or TTA,
    channel, blend, precision, level; a PNG's without axes:
    :func:`~unetlab.inference.records.input_record`), or does not say what made (written
    before unetlab recorded it, or by a run that stopped before writing them) -> (what made
    them, in words; its record where the folder holds one of a finished run, else None)."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return {}
    ours, keys = made_from(out_dir, "predict"), recorded_keys(out_dir, "predict")
    records, legend = read_records(out_dir), own_legend_of(ours)
    found: dict[Path, tuple[str, Provenance | None]] = {}
    for f in files:
        mine, own = (None, input_source(f)), input_record(record, f).model_key  # a PNG's
        for name in input_roles(f, **EVERY):
            key = keys.get(name)
            if name not in ours or ours[name] not in mine or not (out_dir / name).exists():
                continue
            if name in legend:  # predict's key to its colours, no output of an input
                continue
            if key is not None and key.startswith(PENDING + own):
                continue  # a stopped run of this model (any output settings): predicted again
            if key is None or key.startswith(PENDING) or not key.startswith(own):
                made = records.get(key) if key and not key.startswith(PENDING) else None
                found[f] = _made_by_text(key, records), made and _provenance(made)
                break
    return found


def other_inputs(
    out_dir: str | os.PathLike, files: Sequence[Path], record: Provenance
) -> tuple[dict[str, str], dict[str, str]]:
    """The inputs, other than ``files``, whose outputs in ``out_dir`` another model (or
    settings) made than ``record``'s -> what made them, in words (what a run leaves beside
    its own outputs: the folder would mix two models); and those ``record``'s model made
    from the input read or tiled otherwise (``--axes``, ``--level``, ``--tile-size``:
    :data:`~unetlab.inference.records.SAME_MODEL_SETTINGS`) -> how (``read with other axes
    (axes ZTYX there, not given here)``). The manifest and records read once."""
    found = _other_inputs(out_dir, files, record)
    models = {s: made for s, (made, changes) in found.items() if not same_model(changes)}
    read = {s: describe_same_model(c) for s, (_, c) in found.items() if same_model(c)}
    return models, read


def _other_inputs(
    out_dir: str | os.PathLike, files: Sequence[Path], record: Provenance
) -> dict[str, tuple[str, dict]]:
    """The inputs, other than ``files``, whose outputs in ``out_dir`` the manifest says
    another model key made than ``record``'s (a PNG's without axes:
    :func:`~unetlab.inference.records.input_record`) -> (what made them, in words; the model
    settings that differ from ``record``'s: :func:`~unetlab.inference.records.setting_changes`)."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return {}
    mine = {input_source(f) for f in files}
    keys, records = recorded_keys(out_dir, "predict"), read_records(out_dir)
    found: dict[str, tuple[str, dict]] = {}
    for name, source in made_from(out_dir, "predict").items():
        key = keys.get(name)
        if source is None or source in mine or source in found or not (out_dir / name).exists():
            continue
        own = input_record(record, source)  # a PNG's: no axes
        if key is not None and not key.startswith(PENDING) and key.startswith(own.model_key):
            continue
        found[source] = _made_by_beside(key, records, own)
    return found


def _made_by_beside(key: str | None, records: dict[str, dict], record: Provenance):
    """(what made an output, in words, with the model settings that differ from
    ``record``'s where its phrase is ``record``'s (a setting no phrase names); those
    settings): :func:`_other_inputs`."""
    made = records.get(key) if key and not key.startswith(PENDING) else None
    if made is None:
        return _made_by_text(key, records), {}
    made = _provenance(made)
    changes, said = setting_changes(made, record), made.describe()
    if changes and said == record.describe():
        said += f" (other settings: {describe_setting_changes(changes)})"
    return said, changes


def _made_by_text(key: str | None, records: dict[str, dict]) -> str:
    """What made an output, from its manifest key and the folder's records."""
    if key is None:
        return "a model no record names (an older unetlab wrote them)"
    if key.startswith(PENDING):
        made = records.get(key[len(PENDING) :])
        run = "a run" if made is None else f"a run of {_provenance(made).describe()}"
        return f"{run} that stopped before it wrote them (they may be an earlier run's)"
    made = records.get(key)
    if made is None:
        return f"a model whose record {RECORD_FILES['predict']} lacks (key {key})"
    return _provenance(made).describe()


def _provenance(made: dict) -> Provenance:
    """The Provenance of a folder's record (:data:`~unetlab.outputs.RECORD_FILES`): its
    weights, its settings and, for a bioimage.io package, the checkpoint it was exported
    from (its phrase names it)."""
    return Provenance(
        made.get("checkpoint"),
        made.get("sha256", "?"),
        made.get("model") or {},
        source=made.get("source"),
        model_sha256=made.get("model_sha256"),
    )


def moved_since_claim(
    out_dir: Path, source: str, written: Sequence[Path], claimed: Mapping[str, str]
) -> dict[str, str]:
    """Those of ``written`` (outputs just written into ``out_dir``) whose input ``claimed``
    (the claim's, :func:`claimed_sources`) names otherwise than the prediction read it ->
    ``source``, the input it read (:func:`input_source` just before the prediction: a link
    retargeted since the claim; s64: resolved after it, a link retargeted during or after a
    long prediction had the old target's pixels listed as the new one's); told from what the
    run holds, no manifest read (s64: read twice an input written)."""
    return {
        p.name: source
        for p in written
        if p.parent == out_dir and claimed.get(p.name, source) != source
    }


def listed_as_read(out_dir: str | os.PathLike, moved: Mapping[str, str]) -> None:
    """The manifest lines of the outputs ``moved`` names (:func:`moved_since_claim`) name
    the input as the prediction read it, and its stamp: else a link retargeted after the
    claim named its old target, whose outputs the same command again refused as another
    input's, or with --skip-existing kept as the old target's once the link named it again
    (s64). By the process that holds the folder."""
    if moved:
        relist(out_dir, moved, "predict")


def handed_as_read(
    out_dir: str | os.PathLike, moved: Mapping[str, str], claimed: Mapping[str, str], rank: int
) -> None:
    """:func:`listed_as_read` by the process ``rank`` of a group, which does not hold the
    folder: ``moved`` (those of the file just predicted), each with the input ``claimed``
    listed for it (the claim it amends), handed to the one that does in a file that
    outlives a stopped run (:func:`~unetlab.manifest.hand_relisted`)."""
    if moved:
        entries = {name: (claimed[name], source) for name, source in moved.items()}
        hand_relisted(out_dir, entries, "predict", rank)


def output_sources(files: Sequence[Path], **wanted: bool) -> dict[str, str]:
    """Each output name of ``files`` -> :func:`input_source` of the input it is made from:
    the outputs asked for (``wanted``, as for :func:`output_roles`), then the other names of
    each input's outputs (an overlay not asked for now, the other format), unless another
    input writes that name."""
    sources: dict[str, str] = {}
    resolved = {f: input_source(f) for f in files}  # once an input, not once a name
    stems = {f: output_stems(f) for f in files}  # once an input, not once a set of roles
    for roles in (wanted, EVERY):
        for f in files:
            for name in _stems_roles(stems[f], roles):
                sources.setdefault(name, resolved[f])
    return sources


def _refuse_conflicts(out_dir: Path, files: Sequence[Path], wanted: dict) -> None:
    """OutputError for an ``out_dir`` that is the inputs' folder (the conflict named), two
    of ``files`` that would write one output file, and names its manifest cannot list, for the
    outputs ``wanted``: what :func:`prediction_folder` refuses before it looks in the folder."""
    refuse_input_folder(files, out_dir)
    refuse_shared_outputs(out_dir, files, **wanted)
    refuse_unlistable_names(files, **wanted)


#: how a rerun keeps the outputs it finds (a file corrected in labelme among them), as the
#: caller gives it (:func:`said_as`)
SKIP_EXISTING = Spelled("skip_existing=True", "--skip-existing")
#: the fix of a run refused for an output the user changed (:func:`output_folder`'s keep_fix)
KEEP_CHANGED = Spelled(f"pass {SKIP_EXISTING.python}", f"add {SKIP_EXISTING.cli}")
#: where a refused output of predict is written instead (:func:`claim_files`' ``elsewhere``)
GIVE_ANOTHER = Spelled("give another out_dir", "give another --output")


def another_folder(flag: str = "--output") -> Spelled:
    """Another output folder as the caller names it (:func:`said_as`): ``out_dir`` to
    Python, the command line's ``flag`` (a refused output's name is the input's, fixed:
    "give another name" was no fix, s60)."""
    return Spelled("another out_dir", f"another {flag}")


@contextlib.contextmanager
def prediction_folder(
    out_dir: str | os.PathLike,
    files: Sequence[Path],
    outputs: OutputOptions | None = None,
    *,
    overwrite_fix: str = PYTHON_OVERWRITE_FIX,
    record: Provenance | Callable[[], Provenance] | None = None,
    checked: Callable[[Provenance], None] | None = None,
) -> Iterator[Path]:
    """``out_dir`` checked and locked for the ``outputs`` of ``files`` (see
    :func:`unetlab.outputs.output_folder`): OutputError if an output would replace an input,
    if two inputs would write one output file (:func:`refuse_shared_outputs`), if the folder
    holds files unetlab did not write, or if an output would replace one that another input
    of the same output name made there (the manifest records each output's input:
    :func:`output_sources`), unless ``outputs.overwrite`` (which the message names as
    ``overwrite_fix``: the keyword, or the command line's flag where it passes that; the
    other input's remaining outputs are then removed once this run wrote the new input's,
    so no mix of both is left); ``skip_existing`` skips by the manifest. While held,
    :func:`~unetlab.inference.files.predict_file` called from this thread writes into it
    without checking it again. ``record``: what makes the outputs
    (:func:`~unetlab.inference.records.prediction_record`), or a function that gives it,
    asked once the folder is checked and held (it may load the model); ``checked`` is called
    with it then, before the manifest records this run (what ``skip_existing`` asks:
    :func:`~unetlab.inference.folders.claim_folder`). Its key goes into each output's
    manifest line (confirmed once the output is written), and the record into the folder's
    ``predict.json`` once the work is done."""
    out_dir, outputs = Path(out_dir), OutputOptions.of(outputs)
    _refuse_conflicts(out_dir, files, wanted := outputs.wanted)
    names = [n for f in files for n in input_roles(f, **wanted)] + plate_zarr_names(files, outputs)
    sources = output_sources(files, **wanted)
    maker = _Maker(record, checked, sources, folder=Path(out_dir))
    held = dict(overwrite=outputs.overwrite, overwrite_fix=overwrite_fix, sources=sources)
    held |= dict(command="predict", elsewhere=GIVE_ANOTHER, digested=edits_keep_key)
    held |= dict(carried=carried_key, keep_edited=outputs.skip_existing, keep_fix=KEEP_CHANGED)
    if record is not None:
        names.append(RECORD_FILES["predict"])
        held["made_by"] = maker
    with holds_of_a_call(), output_folder(out_dir, names, inputs=files, **held) as folder:
        _note_held(folder, maker)  # what its stop line counts by: held_here
        with holding_folder(folder, sources), noting() as notes:
            try:
                with peer_stops_raised():  # another process stopped alone: this one's stop
                    yield folder
            except (KeyboardInterrupt, DiskFullError):  # stopped (a Ctrl-C, a full disk):
                _save_stopped(folder, files, maker, wanted, notes)  # the outputs written
                raise  # so far are recorded too (evaluate --pred reads them)
            _say_flat(outputs, notes)
        if maker.made is not None:
            _save_records(folder, maker, notes)


def _say_flat(outputs: OutputOptions, notes: dict[str, dict]) -> None:
    """The line for the inputs with no Z axis of a run of ``objects_3d`` (the 2-D images
    among the stacks: not joined) or of ``z_spacing`` alone (a movie's frames: no z step)."""
    if outputs.objects_in_3d:
        say_flat(notes)
    elif outputs.z_spacing is not None:
        say_flat(notes, joined=False)


#: output folder (resolved) -> the record of the run of this process that held it last
#: (None: a run of no record), noted once it held it: :func:`stopped_record`, :func:`held_here`;
#: until the call that held it ends (:func:`holds_of_a_call`)
_RUN_HELD: dict[Path, Provenance | None] = {}
#: the output folders held within the outermost :func:`holds_of_a_call` block open
_CALL_HOLDS: contextvars.ContextVar[set[Path] | None] = contextvars.ContextVar(
    "call_holds", default=None
)


@contextlib.contextmanager
def holds_of_a_call() -> Iterator[None]:
    """Within: the output folders a run holds (:func:`prediction_folder`, which opens one
    itself) stay noted (:func:`held_here`, :func:`stopped_record`) until the outermost
    block ends: a caller that says a stop line after the prediction ended (the command
    line) opens one around it. Then released: a long-lived process (a notebook predicting
    10,000 folders) kept a record for every folder it had held, and a later call's stop
    could see an earlier one's hold (s57)."""
    token = _CALL_HOLDS.set(set()) if _CALL_HOLDS.get() is None else None  # the outermost
    try:
        yield
    finally:
        if token is not None:
            for key in _CALL_HOLDS.get():
                _RUN_HELD.pop(key, None)
            _CALL_HOLDS.reset(token)


def _note_held(folder: Path, maker: _Maker) -> None:
    """``folder`` held by this call's run (:func:`holds_of_a_call`), made by ``maker``."""
    key = folder.resolve()
    _RUN_HELD[key] = maker.made
    _CALL_HOLDS.get().add(key)  # prediction_folder's block at least


def stopped_record(out_dir: str | os.PathLike) -> Provenance | None:
    """The record of the run of this process stopped in ``out_dir`` (a Ctrl-C, SIGTERM, a
    full disk in :func:`prediction_folder`), None where none held it or it had none: what
    its stop line counts the inputs done by, as ``--skip-existing`` will skip them (an
    earlier model's outputs a rerun stopped before replacing are not this run's)."""
    return _RUN_HELD.get(Path(out_dir).resolve())


def held_here(out_dir: str | os.PathLike) -> bool:
    """Whether a run of this process held ``out_dir`` (:func:`prediction_folder`), since
    :func:`forget_held`: where none did, a run stopped before it predicted any input there,
    and the outputs there are none of its (s56: another model's counted as its own, where
    :func:`stopped_record`'s None was taken for a run of no record)."""
    return Path(out_dir).resolve() in _RUN_HELD


def inputs_done(
    files: Sequence[Path] | None,
    out_dir: Path,
    wanted: Mapping[str, bool],
    record=None,
    *,
    held: bool | None = None,
    its: bool = False,
) -> str:
    """``with the outputs of 2 of 4 inputs in OUT``: the ``files`` whose outputs asked for
    (``wanted``: :attr:`OutputOptions.wanted`) are in ``out_dir``, made as the stopped run
    makes them (its ``record``, else this process's stopped run's: what ``skip_existing``
    skips; an earlier model's a rerun did not replace yet are not counted); ``before any
    input was predicted`` (``its``: ``before any of its inputs``, a tree's folder) where
    this process did not hold ``out_dir`` (``held``; None: :func:`held_here`) and no record
    is given (s56: another model's outputs were counted as its own); "" where ``files`` are
    not known (None); UnetlabError, OSError where it cannot be read."""
    if record is None and not (held_here(out_dir) if held is None else held):
        return f"before any {'of its inputs' if its else 'input'} was predicted"
    if files is None:
        return ""
    record = record or stopped_record(out_dir)
    done = len(finished_inputs(out_dir, files, record=record, **wanted))
    return f"with the outputs of {done} of {len(files)} inputs in {out_dir}"


def forget_held(out_dir: str | os.PathLike) -> None:
    """``out_dir`` no longer held by a run of this process (:func:`held_here`): an earlier
    run's hold is not that of the one about to begin there."""
    _RUN_HELD.pop(Path(out_dir).resolve(), None)


@dataclass
class _Maker:
    """The ``made_by`` of :func:`prediction_folder`'s folder (see
    :func:`unetlab.outputs.output_folder`), asked once the folder is checked and held: the
    ``record`` of what makes the outputs (asked then if a function: it may load the model),
    passed to ``checked``; each output of ``sources`` -> its key (``keys``: its input's
    record, :meth:`record_of`; read again when the run is settled: :meth:`rekey`).
    ``made``: that record; ``records``: each input's by (input, read with no Z axis), read
    once a run (s64: at the claim and again for predict.json, a stat each)."""

    record: Provenance | Callable[[], Provenance] | None
    checked: Callable[[Provenance], None] | None
    sources: Mapping[str, str]
    made: Provenance | None = None
    keys: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None  # the output folder (noted with the record for a launch)
    records: dict[tuple[str, bool], Provenance] = field(default_factory=dict)

    def __call__(self) -> dict[str, str]:
        if self.made is None:
            self.made = self.record() if callable(self.record) else self.record
            note_for_launch(self.made, self.folder)  # what a --nproc launch's stop line counts by
        if self.checked is not None:
            self.checked(self.made)
        keys = {s: self.record_of(s).key for s in set(self.sources.values())}  # an input's
        self.keys.update({n: keys[s] for n, s in self.sources.items()})  # names: 13 a TIFF
        return self.keys

    def record_of(self, source: str, *, flat: bool = False) -> Provenance:
        """The record of the input ``source`` (:func:`input_source`): the run's, without
        axes for a PNG or JPEG (:func:`~unetlab.inference.records.input_record`: read as it
        is), and where it was read with no Z axis (``flat``) without objects_3d and
        z_spacing (:func:`~unetlab.inference.records.flat_record`); each kept by (source,
        flat) (a flat one was read again for each of its outputs' names: s66)."""
        if (source, flat) not in self.records:
            made = flat_record(self.made) if flat else self.made
            self.records[source, flat] = input_record(made, source)
        return self.records[source, flat]

    def rekey(self, folder: Path, inputs: set[str]) -> None:
        """The outputs of ``inputs`` (:func:`input_source`) read with no Z axis made by their
        flat record (:meth:`record_of`), not the run's: in the manifest's PENDING lines and
        in the keys the run is settled by."""
        moves: dict[tuple[str, str], list[str]] = {}
        for name, source in self.sources.items():
            if source in inputs:
                new = self.record_of(source, flat=True).key
                moves.setdefault((self.keys[name], new), []).append(name)
        for (old, new), names in moves.items():
            rekey(folder, names, old, new, "predict")
            self.keys.update(dict.fromkeys(names, new))

    def by_record(self, folder: Path, notes: Mapping[str, dict]) -> dict[str, tuple]:
        """The inputs of ``notes`` (what was chosen for each) by the key of their record
        (:meth:`record_of`) -> (that record, those inputs); of a run of ``objects_3d`` or
        ``z_spacing``, the inputs it predicted with no Z axis
        (:func:`~unetlab.inference.objects_3d.flat_inputs`) rekeyed to theirs first."""
        made = self.made
        flat = set(flat_inputs(notes)) if flat_record(made) is not made else set()
        if flat:
            self.rekey(folder, flat)
        found: dict[str, tuple[Provenance, set[str]]] = {}
        for source in notes:
            record = self.record_of(source, flat=source in flat)
            found.setdefault(record.key, (record, set()))[1].add(source)
        return found


def _save_records(folder: Path, maker: _Maker, notes: dict[str, dict]) -> None:
    """The run's record in the folder's ``predict.json`` with what was chosen for each input
    (``notes``), each input under its own record (:meth:`_Maker.by_record`): a PNG's
    without axes, and of a run of ``objects_3d`` or ``z_spacing`` an input read with no Z
    axis (its objects 2-D, no z step) under that of the run without them
    (:func:`~unetlab.inference.records.flat_record`), their outputs' manifest lines its
    key: evaluate --pred scores them as 2-D objects, and ``--skip-existing`` finds them
    made with the flags or without, with axes or without (:func:`finished_outputs`)."""
    groups = maker.by_record(folder, notes)
    for record, inputs in groups.values():
        save_record(folder, record, as_record({p: notes[p] for p in inputs}))
    if not groups:  # nothing predicted: the run's record
        save_record(folder, maker.made, as_record({}))


def _save_stopped(folder: Path, files, maker: _Maker, wanted: Mapping, notes: dict) -> None:
    """The record of a run stopped part-way, where it wrote the outputs of an input (what
    ``--skip-existing`` would skip as its own; with what was chosen for those inputs):
    none of a run that wrote nothing; each input's under its own record, as
    :func:`_save_records` gives them (a PNG's without axes, a 2-D input's of a run of
    ``objects_3d`` or ``z_spacing`` without them: their outputs carry its key; no record
    was saved, review s40). A record that cannot be written is left unwritten: the stop is
    what the run reports."""
    if maker.made is None:
        return
    with contextlib.suppress(OSError, UnetlabError):
        for record, inputs in maker.by_record(folder, notes).values():
            chosen = [f for f in files if input_source(f) in inputs]
            if done := finished_outputs(folder, chosen, record=record, **wanted):
                sources = {input_source(f) for f in done}
                save_record(folder, record, as_record({s: notes[s] for s in sources}))


#: the outputs written at a run's end, from its objects TIFFs (:func:`refuse_theirs`)
_RUN_END = ("labelme", "cellpose")


def refuse_theirs(out_dir: Path, paths: Mapping, wanted: Mapping[str, bool]) -> None:
    """TheirFileError (an OutputError) naming an output about to be written (``paths``:
    kind -> path or name; ``wanted`` as for :func:`output_roles`) over a file unetlab did
    not write: that input's failure, the others go on (an input's labels are .png or .tif
    as read, so which names it writes is known only then; audit s37 paths B). A labelme or
    cellpose file the user corrected is kept as it is, the input's others written
    (``overwrite`` failed the input: s73 review; a cellpose file's after a line calling it
    the user's: s74)."""
    kept = edited_outputs(out_dir)  # those files are written at the run's end, or kept
    paths = {k: p for k, p in paths.items() if k not in _RUN_END or Path(p).name not in kept}
    refuse_unlisted(_wanted_paths(out_dir, paths, wanted), "predict", TheirFileError)


def refuse_claimed(out_dir: Path, paths: Mapping, wanted: Mapping[str, bool]) -> None:
    """TheirFileError naming an output of an image read whole (``paths``, ``wanted`` as for
    :func:`refuse_theirs`) whose file a stopped run had only claimed and did not write
    (:func:`~unetlab.inference.slides.refuse_claimed_only`): a user's file put under a
    pending name after a ``kill -9`` was replaced by the rerun (s41 claims2)."""
    there = [p.name for p in _wanted_paths(out_dir, paths, wanted) if _there(p)]
    refuse_claimed_only(Path(out_dir), Path(out_dir) / Path(paths["labels"]).name, there)


def _there(path: Path) -> bool:
    """Whether ``path`` exists; False where its name cannot be (too long: Python 3.11's
    ``exists`` raises there), which its writing says in one line."""
    try:
        return path.exists()
    except OSError:
        return False


def _wanted_paths(out_dir: Path, paths: Mapping, wanted: Mapping[str, bool]) -> list[Path]:
    """The paths in ``out_dir`` of the outputs of ``paths`` that ``wanted`` asks for."""
    kinds = {"labels"} | {k for k, on in wanted.items() if on}
    kinds |= {"table"} if wanted.get("objects") else set()
    return [Path(out_dir) / Path(p).name for k, p in paths.items() if k in kinds]
