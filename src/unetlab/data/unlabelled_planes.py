"""Stacks whose masks label only some planes: a z-stack annotated every few slices (in Fiji,
4 of 30) and saved as one mask stack leaves the other planes 0, which train as background
everywhere, so the net learns to miss the nuclei they hold; a movie labelled every few
frames likewise. Nothing in a mask tells an unannotated plane from an empty one, so this
warns and the run goes on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from unetlab.data.io import read_stack
from unetlab.data.names import ANNOTATION_SUFFIXES
from unetlab.data.positions import series_of
from unetlab.data.read_notes import note_once
from unetlab.data.tiff_files import is_tiff_name, open_tiff
from unetlab.data.tiffmeta import PageAxes
from unetlab.words import numbered


def planes_between(
    masks: Iterable[np.ndarray | None], ignore: int, background: int = 0
) -> tuple[int, int]:
    """(planes left without an object, labelled planes) of one z-stack or movie: ``masks``,
    each plane's training target in z (or t) order (``background`` the class a plane left
    unannotated trains as, ``ignore`` no label; None: a plane not loaded here, a fold's test
    plane): :func:`gaps_between` of their labelled areas."""
    return gaps_between(_area(m, ignore, background) for m in masks)


def gaps_between(areas: Iterable[np.ndarray | bool | None]) -> tuple[int, int]:
    """(planes left without an object, labelled planes) of planes' labelled (y, x) ``areas``
    (:func:`_area`'s; a time point's: :func:`_time_point`). A run of empty planes counts
    where the labelled areas of the planes either side of it overlap: the same nuclei went
    through it unlabelled (two nuclei at different depths that do not overlap, and a fully
    labelled stack's one-plane nuclei, do not: review s68 user3d), unless the labelled runs
    either side are both longer than it: where objects span more planes than the gap, each
    plane of them drawn, the gap is where they end (the space between nuclei of a fully
    labelled dense tissue, s69); slices drawn every few planes leave gaps as long as their
    runs or longer."""
    runs = _runs(areas)
    left = sum(
        gap[2]
        for before, gap, after in zip(runs, runs[1:], runs[2:], strict=False)
        if gap[0] is False and _went_through(before, gap, after)
    )
    return left, sum(run[2] for run in runs if run[0] is not False)


def _runs(areas: Iterable[np.ndarray | bool | None]) -> list[tuple]:
    """``areas`` in runs of labelled planes and of empty ones (False), alternating, each
    (its first area, its last, its planes); the planes of None (not loaded, or unannotated
    ones marked ignored) passed over. Only the ends are kept: a stack's areas at once
    were an eighth of its int64 targets more."""
    runs: list[tuple] = []
    for area in areas:
        if area is None:
            continue
        if runs and (runs[-1][0] is False) == (area is False):
            runs[-1] = (runs[-1][0], area, runs[-1][2] + 1)
        else:
            runs.append((area, area, 1))
    return runs


def _went_through(before: tuple, gap: tuple, after: tuple) -> bool:
    """Whether the objects of the labelled runs ``before`` and ``after`` an empty run
    ``gap`` (:func:`_runs`') went through it unlabelled (:func:`gaps_between`)."""
    if before[2] > gap[2] and after[2] > gap[2]:
        return False
    return bool(np.logical_and(before[1], after[0]).any())


def _area(mask: np.ndarray | None, ignore: int, background: int = 0) -> np.ndarray | bool | None:
    """A plane's labelled (y, x) pixels where its target ``mask`` holds an object (a class
    but ``background``); else False, or None where ``ignore`` pixels are most of it (an
    unannotated plane marked so, not the rows data.exclude_rows or nodata leave out of
    every plane) or it was not loaded (None)."""
    if mask is None:
        return None
    area = (mask != background) & (mask != ignore)
    if area.any():
        return area
    return None if 2 * np.count_nonzero(mask == ignore) > mask.size else False


def _time_point(areas: Iterable[np.ndarray | bool | None]) -> np.ndarray | bool | None:
    """A time point's labelled (y, x) area: that of any of its planes' ``areas``; False
    where none holds an object, None where none was looked at."""
    held: np.ndarray | bool | None = None
    for area in areas:
        if held is None or held is False:
            held = area if area is not None else held
        elif area is not None and area is not False:
            held = held | area
    return held


def unlabelled_planes(
    pairs: Sequence,
    masks: Sequence[np.ndarray],
    ignore: int,
    axes: Mapping[Path, PageAxes],
    *,
    background: int = 0,
    taken: Sequence[int] = (),
) -> str | None:
    """One line naming the stacks among ``pairs`` (each a
    :class:`~unetlab.data.pairs.Pair`, in step with ``masks``, their training targets:
    ``background`` the class of an unannotated plane, 0 for object ids' targets, ``ignore``
    no label; ``axes``: the page axes of each stack's mask path, Z or T, the files of
    neither left out) whose masks leave planes (a movie's frames, a TZYX hyperstack's time
    points) without an object between labelled ones (:func:`gaps_between`), or None. The
    value it names to fill the unannotated planes with is none of ``taken`` (a class
    mask's values)."""
    gaps, area = {}, partial(_area, ignore=ignore, background=background)
    for path, blocks in _blocks(pairs, masks, axes).items():
        if (found := _stack_gaps(blocks, area, axes[path], _pages_of(pairs, path))) is not None:
            gaps[path] = found
    if not gaps:
        return None
    path = min(gaps)
    left, labelled, of, noun = gaps[path]
    return (
        f"the masks of {numbered(len(gaps), 'stack')} ({path.name}: objects on {labelled} "
        f"of {of} {noun}s) leave {numbered(sum(g[0] for g in gaps.values()), noun)} "
        f"between labelled ones without an object, where the objects of the {noun}s either "
        "side overlap: they train as background, teaching the net to miss what they hold if "
        f"they were left unannotated, not empty. Train on the annotated {noun}s alone (each "
        f"saved as an image and mask of its own){_or_marked(sorted(gaps), noun, taken)}"
    )


def _pages_of(pairs: Sequence, path: Path) -> int:
    """The page count of the mask stack ``path`` among ``pairs``."""
    return next(pair.pages for pair in pairs if pair.mask == path)


def _stack_gaps(blocks: list[list], area, axes: PageAxes, pages: int) -> tuple | None:
    """(planes left, labelled, of, noun) of a stack of page ``axes`` whose planes' targets
    come in ``blocks``, one a time point (:func:`_blocks`), their labelled areas ``area``'s:
    its planes without an object between labelled ones of a time point (a movie's frames);
    else a TZYX hyperstack's time points without one between labelled ones (labelled every
    few, s69: each time point wholly labelled or wholly empty was not said); None where
    neither."""
    counts = [gaps_between(map(area, block)) for block in blocks]
    if left := sum(n for n, _ in counts):
        noun = "frame" if axes.axes == "T" else "plane"
        return left, sum(k for _, k in counts), pages, noun
    if len(blocks) < 2:
        return None
    left, labelled = gaps_between(_time_point(map(area, block)) for block in blocks)
    if not left:
        return None
    return left, labelled, axes.shape[axes.letters.index("T")], "time point"


def _blocks(pairs, masks, axes) -> dict[Path, list[list[np.ndarray | None]]]:
    """Each stack mask's planes' targets, by time point, in z order (a movie's frames in t
    order, one block); a plane not among ``pairs`` None, not closed up (the pairs of a fold
    or a recorded split come in any order, some left out: keyed by their page)."""
    found: dict[Path, dict[int, dict[int, np.ndarray]]] = {}
    for pair, mask in zip(pairs, masks, strict=True):
        if (page_axes := axes.get(pair.mask)) is not None:
            block, at = _place(page_axes, pair.page)
            found.setdefault(pair.mask, {}).setdefault(block, {})[at] = mask
    return {
        path: [[z.get(k) for k in range(max(z) + 1)] for _, z in sorted(blocks.items())]
        for path, blocks in found.items()
    }


def _place(axes: PageAxes, page: int) -> tuple[int, int]:
    """(time point, plane) of ``page`` of a stack of ``axes``: pages of no recorded axes
    ("Q") are planes, as they are read; a movie's (T) frames are the planes of one block."""
    if axes.letters == "Q":
        return 0, page
    at = axes.index(page)
    return (at.get("t", 0), at["z"]) if "z" in at else (0, at["t"])


def _or_marked(paths, noun: str, taken: Sequence[int] = ()) -> str:
    """The other fix, for mask images: their unannotated planes marked as ignored, with the
    most the first one's type holds (an 8-bit stack cannot hold 65535) but the values
    ``taken`` (a class mask's 255, s69); "" where every mask named is outlines (a Fiji
    RoiSet drawn on a few slices), which hold no value."""
    images = [Path(p) for p in paths if Path(p).suffix.lower() not in ANNOTATION_SUFFIXES]
    if not images:
        return ""
    most = fill = _most(images[0])
    while fill in taken:
        fill -= 1
    return (
        f", or fill the unannotated {noun}s of the mask stacks with {fill} (the most "
        f"{images[0].name}'s type holds{' that is no class' * (fill != most)}) and --set data.ignore_value={fill}"
    )


def _most(path: Path) -> int:
    """The largest value the mask stack at ``path`` can hold: its integer type's (65535
    where it is not of one)."""
    if is_tiff_name(path):
        with open_tiff(path) as tif:
            dtype = series_of(tif).dtype
    else:
        dtype = read_stack(path, mask=True).dtype
    return int(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 65535


def warn_unlabelled_planes(
    pairs: Sequence,
    masks: Sequence[np.ndarray],
    ignore: int,
    axes: Mapping[Path, PageAxes],
    **classes,
) -> None:
    """Say :func:`unlabelled_planes` (of a class mask's ``background`` and ``taken``
    values, the keywords ``classes``) as a warning, once a command for the mask folders of
    ``axes`` (``train --folds`` prepares the data of each fold, its planes not all the same,
    so not the line itself; outside a command, once a process for them: another data set's
    is said)."""
    if (line := unlabelled_planes(pairs, masks, ignore, axes, **classes)) is not None:
        folders = sorted({str(Path(path).parent) for path in axes})
        note_once(line, key=f"unlabelled planes in {folders}")
