"""Predicted objects that look like several touching objects found as one: a semantic
model's objects (a model trained on masks of one value per object, 0/255 nuclei) are the
regions of its classes, so touching nuclei are one region, one object, unless
``distance_split`` parts them (``unetlab predict --instances`` said nothing of it).

Each image's objects are counted with :func:`~unetlab.data.merged.region_counts`, the
estimate the training plan and evaluate say of masks (a streamed slide's page with
:func:`streamed_counts`, the same estimate from its objects table and its ids read band by
band: the same counts as the page read whole), and the line is said once over all
the images a folder's run predicted (:func:`merged_line`), by the main process of a group.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np

from unetlab.data.merged import MERGED_SHARE, merged_among, region_counts, rim_pixels, solidity
from unetlab.data.read_notes import note_once
from unetlab.errors import Spelled, said_as

#: the setting that splits them, as each caller spells it
DISTANCE_SPLIT = Spelled("distance_split=True", "--distance-split")

#: the (merged, objects) of each image predicted within :func:`merged_run`
_TALLY: contextvars.ContextVar[list | None] = contextvars.ContextVar("unetlab_merged", default=None)


@contextlib.contextmanager
def merged_run() -> Iterator[list[tuple[int, int]]]:
    """Gather :func:`tally_merged` within (a folder's run, a tree's); yields the counts,
    filled in as the run goes (another process's added by the caller). A run within a run
    (a tree's folder) gathers its own, handed over (:func:`handed_merged`) and added to the
    outer one's as it ends, whose caller says them (:func:`say_merged`)."""
    outer = _TALLY.get()
    with _gathering() as tally:
        try:
            yield tally
        finally:
            if outer is not None:
                outer.extend(tally)


@contextlib.contextmanager
def merged_file() -> Iterator[None]:
    """One file's counts (:func:`tally_merged` within), added to the run's only once the
    file finished: one that failed after its objects were counted is in no total (it was
    tallied as its objects were written, before its overlay and labels). A file predicted
    alone (``predict_file`` from Python: no run) says its own line."""
    outer = _TALLY.get()
    with _gathering() as tally:
        yield
    if outer is None:
        say_merged(tally)
    else:
        outer.extend(tally)


@contextlib.contextmanager
def merged_apart() -> Iterator[None]:
    """Counts tallied within left out of every run (a folder's untimed warm-up of its
    first file, predicted again after: counted twice)."""
    with _gathering():
        yield


@contextlib.contextmanager
def _gathering() -> Iterator[list[tuple[int, int]]]:
    """A tally of its own within (:data:`_TALLY`), as an outer one's was before."""
    tally: list[tuple[int, int]] = []
    token = _TALLY.set(tally)
    try:
        yield tally
    finally:
        _TALLY.reset(token)


@contextlib.contextmanager
def merged_said(main: bool) -> Iterator[list[tuple[int, int]]]:
    """:func:`merged_run` whose counts are said (:func:`say_merged`) as it ends, by the
    ``main`` process (a ``--recursive`` tree's, over its folders); nothing on a stop."""
    with merged_run() as merged:
        yield merged
    if main:
        say_merged(merged)


def tally_merged(counts: tuple[int, int]) -> None:
    """Add an image's (merged, objects) (:func:`merged_counts`) to the file's
    (:func:`merged_file`); nothing outside one."""
    if (tally := _TALLY.get()) is not None:
        tally.append(counts)


def unsplit(options) -> bool:
    """Whether the objects of ``options`` (an ObjectOptions, or None: no objects) are a
    semantic model's regions that nothing splits: no distance split, neck split nor
    watershed seeds."""
    if options is None or options.mode != "semantic" or options.distance_split:
        return False
    return options.watershed_seeds is None and not options.split_necks


def handed_merged() -> list[tuple[int, int]]:
    """This process's counts in the run, for the main process of a group (``--nproc``: each
    process its share of the images), which takes them (:func:`take_merged`)."""
    return list(_TALLY.get() or ())


def take_merged(handed: list[tuple[int, int]]) -> None:
    """Add another process's counts (:func:`handed_merged`) to this run's."""
    for counts in handed:
        tally_merged(counts)


def merged_counts(
    pages: Iterable[np.ndarray], classes: Iterable[np.ndarray] | None = None
) -> tuple[int, int]:
    """(how many look merged, how many objects) over the (H, W) object ids of ``pages``
    (0: background), with ``classes`` (each page's class map) each class's regions judged
    alone (:func:`~unetlab.data.merged.looks_merged`: a road scene's road and sky are no
    merged cars)."""
    pages = list(pages)
    classes = [None] * len(pages) if classes is None else classes
    counts = [region_counts(ids, kinds) for ids, kinds in zip(pages, classes, strict=True)]
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def streamed_counts(
    read: Callable[[slice, slice], np.ndarray], table: dict, windows: list[tuple[slice, slice]]
) -> tuple[int, int]:
    """:func:`merged_counts` of a streamed page's object ids (semantic regions, one class
    each or of the table's ``class``) from its objects ``table`` (id, area, bbox: which ids
    are on the page's edge) and, for the ids the estimate picks, their rims read window by
    window (``read(rows, cols)``: the ids there; ``windows``: the page's, row by row, the
    last reaching its bottom right corner), each object's solidity once its last row is
    read (s50 slideleft: a streamed slide's --instances never heard the hint)."""
    ids = np.asarray(table["id"], np.int64)
    n, (h, w) = int(ids.max(initial=0)) + 1, (windows[-1][0].stop, windows[-1][1].stop)
    areas, bottoms = np.zeros(n, np.int64), np.zeros(n, np.int64)
    areas[ids], bottoms[ids] = table["area"], table["bbox_bottom"]
    kinds = None
    if "class" in table:  # a semantic model's of several classes: each class judged alone
        kinds = np.zeros(n, np.int64)
        kinds[ids] = table["class"]
    on_edge = (np.asarray(table["bbox_top"]) == 0) | (np.asarray(table["bbox_left"]) == 0)
    on_edge |= (np.asarray(table["bbox_bottom"]) == h) | (np.asarray(table["bbox_right"]) == w)

    def solidities(chosen: np.ndarray) -> dict:
        return _band_solidities(read, windows, chosen, areas, bottoms)

    merged = merged_among(areas, kinds, ids[on_edge], h * w, solidities)
    return int(merged.size), int(ids.size)


def _band_solidities(read, windows, chosen, areas, bottoms) -> dict:
    """{id: :func:`~unetlab.data.merged.solidity`} of the ids ``chosen``: their rim pixels
    gathered window by window (each read with a pixel of its neighbours), each object's
    measured as soon as the rows read reach its bottom (``bottoms``, exclusive), so only
    the objects across a band's bottom are held."""
    kept = np.zeros(areas.size, bool)
    kept[chosen] = True
    h, w = windows[-1][0].stop, windows[-1][1].stop
    held: list[np.ndarray] = []  # (id, y, x) rows of the objects not yet measured
    solid: dict = {}
    for rows, cols in windows:
        halo = (int(rows.start > 0), int(rows.stop < h), int(cols.start > 0), int(cols.stop < w))
        window = read(
            slice(rows.start - halo[0], rows.stop + halo[1]),
            slice(cols.start - halo[2], cols.stop + halo[3]),
        )
        found, ys, xs = rim_pixels(window, kept, halo)
        held.append(np.stack([found, ys + rows.start, xs + cols.start], axis=1))
        if cols.stop < w:  # the band's other windows first
            continue
        points = np.concatenate(held)
        done = bottoms[points[:, 0]] <= rows.stop
        held = [points[~done]]
        solid.update(_solidities(points[done], areas))
    return solid


def _solidities(points: np.ndarray, areas: np.ndarray) -> dict:
    """{id: solidity} of the objects whose rim pixels are ``points`` ((id, y, x) rows),
    each object's taken in raster order, as an image read whole gives them."""
    points = points[np.lexsort((points[:, 2], points[:, 1], points[:, 0]))]
    ids, starts = np.unique(points[:, 0], return_index=True)
    ends = np.append(starts[1:], len(points))
    return {int(i): solidity(areas[i], points[a:b, 1:]) for i, a, b in zip(ids, starts, ends)}


def merged_line(merged: int, objects: int) -> str | None:
    """The line where at least ``MERGED_SHARE`` of ``objects`` look merged (``merged`` of
    them), naming the setting that splits them as the caller spells it (:func:`said_as`);
    None below."""
    if not objects or merged / objects < MERGED_SHARE:
        return None
    return (
        f"objects: {merged} of the {objects} objects ({merged / objects:.0%}) look like several "
        "touching objects found as one (larger than most and not convex): a semantic model's "
        "objects are the regions of its classes, so touching ones are one region; "
        f"{said_as(DISTANCE_SPLIT)} splits them at their neck (round nuclei)"
    )


def say_merged(counts: Sequence[tuple[int, int]]) -> None:
    """Say :func:`merged_line` of the images' ``counts`` ((merged, objects) each), added
    up, once a command; nothing where they went into an outer run (a ``--recursive``
    tree's folder: the tree says its whole count, not its first folder over the share)."""
    if _TALLY.get() is not None:
        return
    merged, objects = (sum(c[k] for c in counts) for k in (0, 1))
    if (line := merged_line(merged, objects)) is not None:
        note_once(line, key="merged objects", level=logging.INFO)
