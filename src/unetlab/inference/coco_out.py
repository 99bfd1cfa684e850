"""The objects of a predicted folder as one COCO file, ``objects_coco.json`` (``--outlines
coco``), for CVAT's "Import annotations: COCO 1.0" and Label Studio's COCO import, which
take one file for a whole task of images, and for ``unetlab train --data`` again
(:mod:`unetlab.data.coco`).

- :func:`coco_annotations`: the annotations of one image's ids: each object's outline traced
  along its pixels' edges (:func:`~unetlab.inference.outlines.object_polygons`) as COCO's
  polygons (one a piece), its ``area`` (pixels), ``bbox`` ``[x, y, w, h]``, ``iscrowd`` 0;
  an object with a hole as an uncompressed RLE instead (COCO's polygons of an object are
  joined, so a hole would be filled).
- :func:`coco_categories`: the categories of a model's objects (its class names).
- :func:`write_run_coco`: the file of a run, built at its end from every input's
  ``<stem>_objects.tif`` in the folder (those predicted and those ``--skip-existing``
  kept: a resumed run's file holds them all, as ``objects_summary.csv`` does).

Coordinates are pixel corners, as CVAT and Label Studio draw on an image and
:mod:`unetlab.data.coco` reads them: the pixels whose centres lie inside a polygon are
exactly the object's. The project has no per-object score, so ``score`` is not written.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.data.coco import PREDICTED
from unetlab.data.names import nfc
from unetlab.inference.object_planes import plane_ids, say_left_out, table_classes, unplaced
from unetlab.inference.outlines import Polygons, object_polygons, polygon_area
from unetlab.words import numbered, worded

log = logging.getLogger(__name__)

#: the run's COCO file in the output folder
COCO_FILE = "objects_coco.json"
#: beside a :data:`COCO_FILE` the user corrected, the COCO file of the images it does not list
COCO_NEW = "objects_coco.new.json"


def coco_annotations(
    ids: np.ndarray, image_id: int, *, first_id: int = 1, classes: Mapping[int, int] | None = None
) -> list[dict]:
    """The COCO annotations of the objects of a 2-D id image ``ids`` (0 background), in id
    order, numbered from ``first_id``, of image ``image_id``; ``classes``: each object's
    category id (by object id; absent: 1)."""
    height, width = ids.shape
    found = []
    for n, (index, polygons) in enumerate(object_polygons(ids).items()):
        left, top, right, bottom = _bounds(polygons)
        holed = any(len(polygon) > 1 for polygon in polygons)
        if holed:
            window = ids[top:bottom, left:right] == index
            segmentation = {"counts": _runs(window, left, top, ids.shape), "size": [height, width]}
        else:
            segmentation = [polygon[0].ravel().tolist() for polygon in polygons]
        found.append(
            {
                "id": first_id + n,
                "image_id": image_id,
                "category_id": int((classes or {}).get(index, 1)),
                "segmentation": segmentation,
                "area": int(polygon_area(polygons)),
                "bbox": [left, top, right - left, bottom - top],
                "iscrowd": 0,
            }
        )
    return found


def _bounds(polygons: Polygons) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of an outline's corners: the object's box, right and
    bottom exclusive."""
    corners = np.concatenate([polygon[0] for polygon in polygons])
    (left, top), (right, bottom) = corners.min(axis=0), corners.max(axis=0)
    return int(left), int(top), int(right), int(bottom)


def _runs(window: np.ndarray, left: int, top: int, shape: tuple[int, int]) -> list[int]:
    """COCO's uncompressed RLE counts (column by column, 0s first) of an image of ``shape``
    whose ``window`` (a bool mask, its top-left pixel the image's (top, left)) holds the
    object: the work grows with the object, not the image."""
    height, width = shape
    cols, rows = np.nonzero(window.T)  # column by column, as RLE runs
    flat = (cols + left) * height + rows + top
    breaks = np.flatnonzero(np.diff(flat) != 1) + 1
    starts = flat[np.r_[0, breaks]]
    ends = flat[np.r_[breaks - 1, len(flat) - 1]] + 1
    gaps = starts - np.r_[0, ends[:-1]]
    runs = np.stack([gaps, ends - starts], axis=1).ravel().tolist()
    return [*runs, height * width - int(ends[-1])]


def coco_categories(class_names: Sequence[str], options) -> dict[int, str]:
    """The categories of a model's objects, ``{id: name}``: a semantic model's classes but
    its ``background`` and ``no_class`` (ids: the class indices, as the objects table's
    ``class``); an instance model's objects one category, 1, named by its foreground
    (:func:`~unetlab.inference.outlines.outline_class`) or ``object``."""
    from unetlab.inference.outlines import class_of_objects

    if getattr(options, "mode", None) == "semantic":
        gone = {options.background, *options.no_class}
        return {k: str(n) for k, n in enumerate(class_names) if k not in gone}
    return {1: class_of_objects(class_names, options) or "object"}


def _head(categories: Mapping[int, str]) -> dict:
    """What a COCO file holds besides its images and annotations: ``licenses`` and ``info``
    as CVAT's own export writes them (s72 review: some CVAT releases refuse a file without
    ``licenses``: "Cannot find the licenses section"), and the ``categories``."""
    return {
        "licenses": [],
        "info": {**dict.fromkeys(_INFO, ""), "description": "objects predicted by unetlab"},
        "categories": [{"id": k, "name": n, "supercategory": ""} for k, n in categories.items()],
    }


#: the keys of CVAT's COCO ``info``
_INFO = ("contributor", "date_created", "description", "url", "version", "year")


@dataclass(frozen=True)
class CocoPlan:
    """What a run does with the COCO files of its output folder (:func:`plan_coco`), which
    its claim and its writer follow alike: ``path``, the file it writes; ``kept``, the files
    not proven predict's, never replaced nor removed, the images they list left out of
    ``path``; ``stale``, an earlier run's files, unchanged since, that ``path`` makes
    redundant: removed (``path`` itself too where the run has nothing to write, but
    :data:`COCO_FILE`, never stale: a run that skips every input keeps it)."""

    path: Path
    kept: tuple[str, ...]
    stale: tuple[str, ...]


def plan_coco(out_dir: str | os.PathLike) -> CocoPlan:
    """The :class:`CocoPlan` of the held ``out_dir`` once :func:`claim_coco` told its files
    (:func:`run_cocos`): kept, those predict did not write (under ``overwrite``: s75, they
    were refused), those the user changed since (corrected objects: s73 review) and those
    that could not be read to tell (an I/O error: s75, removed as stale); the file written,
    the first name of :func:`next_coco` none of them has (s74 review: with two corrected,
    new images' objects were in none); stale, the others but :data:`COCO_FILE`."""
    from unetlab.outputs import edited_outputs, unread_outputs

    here = run_cocos(out_dir)
    kept = _kept(Path(out_dir), here, {*edited_outputs(out_dir), *unread_outputs(out_dir)})
    stale = tuple(n for n in here if n not in kept and n != COCO_FILE)
    return CocoPlan(Path(out_dir) / next_coco(kept), kept, stale)


def _kept(out_dir: Path, names: Sequence[str], changed: Collection[str]) -> tuple[str, ...]:
    """Those of the COCO files ``names`` in ``out_dir`` a run keeps as they are: those
    predict did not write and those ``changed`` since it did (or unread to tell)."""
    from unetlab.manifest import writers_of

    writers = writers_of(out_dir)
    return tuple(n for n in names if "predict" not in writers.get(n, ()) or n in changed)


def claim_coco(out_dir: str | os.PathLike, *, overwrite: bool = False, keep: bool = False) -> Path:
    """The path of the COCO file the run writes in ``out_dir`` (:func:`plan_coco`), listed
    in the folder's manifest before any work, as the per-image table's
    (:func:`~unetlab.inference.objects_summary.claim_summary`), once :func:`refuse_coco`
    passed them; the files the user changed since predict wrote them told first (kept as
    they are with ``overwrite`` or ``keep``)."""
    from unetlab.inference.output_rules import GIVE_ANOTHER, KEEP_CHANGED
    from unetlab.outputs import claim_files, keep_changed

    how = dict(keep_edited=keep, overwrite=overwrite, keep_fix=KEEP_CHANGED)
    keep_changed(Path(out_dir), run_cocos(out_dir), "predict", **how)
    path = plan_coco(out_dir).path
    claim_files([path], overwrite=overwrite, command="predict", elsewhere=GIVE_ANOTHER)
    return path


def refuse_coco(out_dir: str | os.PathLike, *, overwrite: bool = False, keep: bool = False):
    """OutputError where :func:`claim_coco` would refuse the run's COCO files in ``out_dir``
    (:func:`run_cocos`): one unetlab did not write, but with ``overwrite``, which writes
    beside it (:func:`plan_coco`); one the user changed, but with ``overwrite`` or ``keep``.
    Asked before the folder is held and the model loaded: before any work and any line of
    the run (s74: a plain rerun said "predicted again, replacing them", then refused)."""
    from unetlab.inference.output_rules import KEEP_CHANGED
    from unetlab.outputs import keep_changed

    names = run_cocos(out_dir)
    if not overwrite:
        _refuse_theirs(Path(out_dir), names)
    if not (overwrite or keep):
        keep_changed(Path(out_dir), names, "predict", keep_fix=KEEP_CHANGED)


def _refuse_theirs(out_dir: Path, names: Sequence[str]) -> None:
    """OutputError naming the first of ``names`` (:func:`run_cocos`) predict did not write,
    and where ``overwrite`` would write instead (s75: "even when told to overwrite", which
    wrote nothing, where the rule is only never to replace it), told by :func:`plan_coco`'s
    rule (s75 review: a corrected ``objects_coco.new.json`` was named)."""
    from unetlab.errors import OutputError, said
    from unetlab.outputs import OVERWRITE_FIXES, changed_outputs

    if theirs := _kept(out_dir, names, ()):
        beside = next_coco(_kept(out_dir, names, changed_outputs(out_dir, names, "predict")))
        raise OutputError(
            **said(
                lambda fix: (
                    f"{out_dir / theirs[0]} exists and unetlab did not write it: never "
                    f"replaced; {fix} to write the run's COCO file beside it ({beside}), or give "
                    "another folder"
                ),
                OVERWRITE_FIXES,
            )
        )


def run_cocos(out_dir: str | os.PathLike) -> list[str]:
    """The names of the COCO files predict writes that are in ``out_dir``:
    :data:`COCO_FILE`, :data:`COCO_NEW`, ``objects_coco.new2.json``..., in that order."""
    try:
        found = [m for n in os.listdir(out_dir) if (m := PREDICTED.fullmatch(n))]
    except OSError:
        return []
    return [m[0] for m in sorted(found, key=lambda m: (m[1] is not None, int(m[2] or 1)))]


def next_coco(kept: Collection[str]) -> str:
    """The name of the COCO file a run writes beside the files ``kept`` (the user's): the
    first of :data:`COCO_FILE`, :data:`COCO_NEW`, ``objects_coco.new2.json``... not kept."""
    numbered_new = (f"objects_coco.new{k}.json" for k in itertools.count(2))
    return next(n for n in itertools.chain([COCO_FILE, COCO_NEW], numbered_new) if n not in kept)


def write_run_coco(
    out_dir: Path, files: Sequence[Path], names: Mapping[Path, str], categories: dict[int, str]
) -> Path | None:
    """``out_dir``/:data:`COCO_FILE` of the inputs ``files`` whose ``<stem>_objects.tif`` is
    there (each ``file_name`` its ``names`` entry: :func:`coco_names`), image ids 1.. in
    input order; a line for those left out, by why
    (:func:`~unetlab.inference.object_planes.unplaced`), and one for the objects written as
    RLE. None where no image has objects there (nothing written). One image's objects are
    held at a time, their annotations written as they are made (s72 review: a plate's were
    all held until one dump, 15.6 MB a 2048² field). COCO files the user changed
    (:func:`claim_coco`) are kept, the inputs none of them lists by stem (as train pairs
    them) written to the next name (:func:`next_coco`: s74, their objects were in no file),
    as a CVAT task of those images takes them (a task's images are fixed) and ``train``
    reads them all; an earlier run's such file the user did not change, that this run's
    does not replace, is removed (:func:`_drop_stale`: train read its images twice)."""
    from unetlab.outputs import stamp_outputs

    plan = plan_coco(out_dir)
    path = plan.path
    if not (unlisted := _unlisted([out_dir / n for n in plan.kept], files, names)) and files:
        _say_all_listed(out_dir, plan.kept, len(files))
    planes, left_out = _one_plane_objects(out_dir, unlisted)
    say_left_out(path, left_out, "COCO")
    _drop_stale(out_dir, [n for n in plan.stale if n != path.name or not planes])
    if not planes:
        return None
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        holed = _write_streamed(out, planes, names, categories)
    stamp_outputs(out_dir, [path.name], "predict")  # a file changed since is told as theirs
    _say_holed(path, holed)
    if plan.kept:
        _say_new(path, list(plan.kept), [names[p] for p, _ in planes])
    return path


def _unlisted(kept: Sequence[Path], files: Sequence[Path], names: Mapping[Path, str]):
    """Those of ``files`` whose image none of the COCO files ``kept`` lists, told by stem
    (NFC), as train pairs them (s74 review: a file corrected before s74 names ``in/a0.png``,
    this run ``a0.png``: listed again in the new file, train read it twice); a file that
    cannot be read as COCO lists none."""
    listed = set()
    for path in kept:
        try:
            images = json.loads(path.read_bytes())["images"]
            listed |= {_stem(str(i["file_name"])) for i in images}
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return [f for f in files if _stem(names[f]) not in listed]


def _stem(file_name: str) -> str:
    """The stem of a COCO ``file_name`` (``\\`` a folder's mark too), NFC: train's key."""
    return nfc(PurePosixPath(file_name.replace("\\", "/")).stem)


def _drop_stale(out_dir: Path, names: Sequence[str]) -> None:
    """Remove the COCO files ``names`` (:func:`run_cocos`) an earlier run wrote of images
    that are now in another (the user merged them into theirs, or this run's
    :data:`COCO_FILE` holds them), unchanged since: :class:`CocoPlan`'s ``stale``, none not
    proven predict's. Left, train read their images twice."""
    from unetlab.manifest import forget

    for name in names:
        (out_dir / name).unlink(missing_ok=True)
        log.info("removed %s: an earlier run's COCO file of images now in another", out_dir / name)
    if names:
        forget(out_dir, names, "predict")


def _say_all_listed(out_dir: Path, kept: Sequence[str], count: int) -> None:
    """The line of a run that writes no COCO file, the user's files ``kept`` listing all
    its ``count`` images (s75 review: ``--overwrite`` wrote nothing, said nothing)."""
    log.warning(
        "%s: no COCO file written: %s %s all %s of the run (yours, kept as %s)",
        out_dir,
        " and ".join(kept),
        worded(len(kept), "lists", "list"),
        numbered(count, "image"),
        worded(len(kept), "it is", "they are"),
    )


def _say_new(path: Path, kept: list[str], named: list[str]) -> None:
    """The line for the objects written to ``path`` (:func:`next_coco`) of the images the
    user's COCO files ``kept`` do not list (``named``)."""
    log.warning(
        "%s: the objects of %s %s %s not list (%s), yours kept as %s: import it into a "
        "CVAT task of those images; train reads all of them put beside the images",
        path,
        numbered(len(named), "image"),
        " and ".join(kept),
        worded(len(kept), "does", "do"),
        ", ".join(named[:3]) + (", ..." if len(named) > 3 else ""),
        worded(len(kept), "it is", "they are"),
    )


def write_file_coco(out_dir: Path, path: Path, categories: dict[int, str]) -> Path | None:
    """:func:`write_run_coco` of ``predict_file``'s input ``path`` and the earlier inputs
    whose objects are in ``out_dir`` (a notebook's calls, one by one: one file of them all),
    named as ``predict_folder`` names them (:func:`coco_names`). It wrote none (s72 notes:
    only predict_folder did)."""
    from unetlab.inference.objects_summary import earlier_inputs

    files = [*earlier_inputs(out_dir, [path]), Path(path)]
    return write_run_coco(out_dir, files, coco_names(files), categories)


def coco_names(files: Sequence[Path]) -> dict[Path, str]:
    """Each of ``files`` -> its COCO ``file_name``: its path relative to the deepest folder
    holding them all (their folders as given: :func:`_given_folders`), the one a CVAT task
    is made of and the COCO file is put in (its ``annotations/``) for ``train``:
    ``in/a*.png``, ``/home/me/in/a*.png`` and ``in`` name ``a0.png`` alike, a glob over
    ``inA/`` and ``inB/`` (or ``inA`` then ``inB`` into one folder, by predict_folder or
    predict_file) ``inA/a0.png``. One rule for both callers (s74 review: predict_file's
    second call named its first ``/tmp/in/A/x.png``, predict_folder's ``in/A/x.png`` or
    ``x.png`` as the folders were spelled). Files on two drives (Windows: no common
    folder, ``relpath`` raises: s75, a traceback) are named relative to each drive's
    deepest folder (s75 review: by file names, ``A/x.png`` and ``B/x.png`` were one)."""
    where = _given_folders(files)
    drives: dict[str, list[Path]] = {}
    for f in files:
        drives.setdefault(_drive(where[f]), []).append(f)
    named = {}
    for on_drive in drives.values():
        top = os.path.commonpath([where[f] for f in on_drive])
        named |= {f: Path(os.path.relpath(where[f], top), Path(f).name) for f in on_drive}
    return {f: named[f].as_posix() for f in files}


def _drive(folder: str) -> str:
    """The drive of the absolute ``folder`` (Windows: ``C:``, ``\\\\server\\share``;
    elsewhere none)."""
    return os.path.splitdrive(folder)[0]


def _given_folders(files: Sequence[Path]) -> dict[Path, str]:
    """Each of ``files`` -> its absolute folder as given, a linked folder not resolved (s75:
    ``in/B`` -> ``elsewhere/B`` named ``elsewhere/B/y.png``); an earlier run's input (listed
    by its resolved path) -> that folder as this run reaches it, through any linked folder
    a given one is in (s73 review: ``link/a0.png`` and ``real/a1.png``; s75 review:
    ``link/inB`` given, the earlier ``real/inA``, named so)."""
    given = {f: os.path.dirname(os.path.abspath(f)) for f in files}
    alias = _linked_folders(sorted(set(given.values())))
    return {f: _reached(os.path.realpath(given[f]), alias) or given[f] for f in files}


def _linked_folders(folders: Sequence[str]) -> dict[str, str]:
    """Each real folder reached through a link by one of ``folders`` or a folder above it
    -> that folder as reached (the first of ``folders`` to reach it)."""
    alias: dict[str, str] = {}
    for folder in folders:
        for above in (folder, *map(str, Path(folder).parents)):
            if (real := os.path.realpath(above)) != above:
                alias.setdefault(real, above)
    return alias


def _reached(real: str, alias: Mapping[str, str]) -> str | None:
    """The real folder ``real`` as reached through the deepest folder of ``alias`` (real ->
    as reached) it is or is in; None where it is in none."""
    within = [k for k in alias if real == k or real.startswith(k.rstrip(os.sep) + os.sep)]
    if not within:
        return None
    deepest = max(within, key=len)
    return alias[deepest] + real[len(deepest) :]


def _one_plane_objects(
    out_dir: Path, files: Sequence[Path]
) -> tuple[list[tuple[Path, Path]], dict[str, list[str]]]:
    """(input, its outputs' stem in ``out_dir``) of the inputs ``files`` whose objects TIFF
    a COCO file can hold (:func:`~unetlab.inference.object_planes.unplaced`); the names of
    the others by why not."""
    from unetlab.inference.slides import output_stem

    planes, left_out = [], {}
    for path in files:
        stem = out_dir / output_stem(path)
        if why := unplaced(stem.with_name(f"{stem.name}_objects.tif")):
            left_out.setdefault(why, []).append(path.name)
        else:
            planes.append((path, stem))
    return planes, left_out


def _write_streamed(
    out, planes: list[tuple[Path, Path]], names: Mapping[Path, str], categories: dict[int, str]
) -> int:
    """The COCO file of ``planes`` (:func:`_one_plane_objects`) written to the open text file
    ``out`` (strict JSON, one line), its annotations before its images, each image's as it
    is read; the count of objects written as RLE (holed)."""
    dump = functools.partial(json.dumps, allow_nan=False, separators=(",", ":"))
    out.write(dump(_head(categories))[:-1] + ',"annotations":[')
    images, count, holed = [], 0, 0
    for image_id, (path, stem) in enumerate(planes, start=1):
        ids = plane_ids(stem.with_name(f"{stem.name}_objects.tif"))
        height, width = ids.shape
        images.append({"id": image_id, "file_name": names[path], "width": width, "height": height})
        classes = table_classes(stem.with_name(f"{stem.name}_objects.csv"))
        for found in coco_annotations(ids, image_id, first_id=count + 1, classes=classes):
            out.write(("," if count else "") + dump(found))
            count += 1
            holed += isinstance(found["segmentation"], dict)
    out.write(f'],"images":{dump(images)}}}\n')
    return holed


def _say_holed(path: Path, holed: int) -> None:
    """The line for the objects with a hole written to ``path`` as RLE (s72 review: Label
    Studio's converter reads polygons only, and fails on a file of one RLE)."""
    if holed:
        log.warning(
            "%s: %s with a hole written as RLE (COCO's polygons would fill it): CVAT and "
            "unetlab read them; Label Studio's COCO converter takes polygons only and fails "
            "on them",
            path,
            numbered(holed, "object"),
        )
