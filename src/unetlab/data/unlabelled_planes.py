"""Stacks whose masks label only some planes: a z-stack annotated every few slices (in Fiji,
4 of 30) and saved as one mask stack leaves the other planes 0, which train as background
everywhere, so the net learns to miss the nuclei they hold; a movie labelled every few
frames likewise. Nothing in a mask tells an unannotated plane from an empty one, so this
warns and the run goes on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np

from unetlab.data.names import ANNOTATION_SUFFIXES
from unetlab.data.read_notes import note_once
from unetlab.data.tiffmeta import PageAxes
from unetlab.words import numbered


def gaps_between(areas: Iterable[np.ndarray | bool | None]) -> tuple[int, int]:
    """(planes left without an object, labelled planes) of planes' labelled (y, x) ``areas``
    (:func:`_area`'s; a time point's: :func:`_joined`). A run of empty planes counts
    where the labelled areas of the planes either side of it overlap: the same nuclei went
    through it unlabelled (two nuclei at different depths that do not overlap, and a fully
    labelled stack's one-plane nuclei, do not: review s68 user3d), unless the objects
    either side end at it (:func:`_end_at`)."""
    runs = _runs(areas)
    left = sum(
        gap.planes
        for before, gap, after in zip(runs, runs[1:], runs[2:], strict=False)
        if gap.first is False and _went_through(before, after)
    )
    return left, sum(run.planes for run in runs if run.first is not False)


class _Run(NamedTuple):
    """A run of labelled planes or of empty ones (:func:`_runs`): its first and last
    planes' areas (False: empty), its planes, and the labelled pixels of its first, its
    last and its fullest plane."""

    first: np.ndarray | bool
    last: np.ndarray | bool
    planes: int
    sizes: tuple[int, int, int]


def _runs(areas: Iterable[np.ndarray | bool | None]) -> list[_Run]:
    """``areas`` in runs of labelled planes and of empty ones (False), alternating but
    where a plane of None (not loaded, or unannotated and marked ignored) ends a labelled
    run (review s69: runs joined across them hid every 2nd plane drawn); an empty run goes
    on across it. Only the ends are kept: a stack's areas at once were an eighth of its
    int64 targets more."""
    runs: list[_Run] = []
    cut = False
    for area in areas:
        if area is None:
            cut = True
            continue
        empty, size = area is False, 0 if area is False else int(np.count_nonzero(area))
        if runs and (runs[-1].first is False) == empty and (empty or not cut):
            first, _, planes, (head, _, most) = runs[-1]
            runs[-1] = _Run(first, area, planes + 1, (head, size, max(most, size)))
        else:
            runs.append(_Run(area, area, 1, (size, size, size)))
        cut = False
    return runs


#: an object ends at an empty run where the labelled area of the plane beside it is under
#: this share of its run's fullest plane: a nucleus's cap (a ball's last plane holds at most
#: about 0.45 of its middle's area), where slices drawn every few planes cut through the
#: nuclei (review s69: a rule on run lengths missed pairs drawn with 1 skipped)
ENDED = 0.5


def _went_through(before: _Run, after: _Run) -> bool:
    """Whether the objects of the labelled runs ``before`` and ``after`` an empty run went
    through it unlabelled (:func:`gaps_between`): where their areas either side overlap,
    unless both end at it (:data:`ENDED`): the space between the nuclei of a fully labelled
    dense tissue (s69), each plane of them drawn, shrinking to its ends."""
    _, ends, most = before.sizes
    starts, _, most_after = after.sizes
    if ends < ENDED * most and starts < ENDED * most_after:
        return False
    return bool(np.logical_and(before.last, after.first).any())


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


def _joined(held: np.ndarray | bool | None, area: np.ndarray | bool | None):
    """A time point's labelled (y, x) area so far, ``held``, with its next plane's ``area``
    (:func:`_area`'s): that of any of its planes; False where none holds an object, None
    where none was looked at."""
    if held is None or held is False:
        return area if area is not None else held
    return held | area if area is not None and area is not False else held


def _tapped(areas: Iterable, held: list) -> Iterator:
    """``areas``, passed on, their union kept in ``held[0]`` (:func:`_joined`) as they go:
    a TZYX stack's planes' areas are made once, for its planes and its time points (they
    were made twice, s69: 4 stacks of 10 x 30 planes of 512 x 512 took 0.485 s, not 0.224)."""
    for area in areas:
        held[0] = _joined(held[0], area)
        yield area


def unlabelled_planes(
    pairs: Sequence,
    masks: Sequence[np.ndarray],
    ignore: int,
    axes: Mapping[Path, PageAxes],
    *,
    background: int = 0,
    taken: Sequence[int] = (),
    dtypes: Mapping[Path, np.dtype],
) -> str | None:
    """One line naming the stacks among ``pairs`` (each a
    :class:`~unetlab.data.pairs.Pair`, in step with ``masks``, their training targets:
    ``background`` the class of an unannotated plane, 0 for object ids' targets, ``ignore``
    no label; ``axes``: the page axes of each stack's mask path, Z or T, the files of
    neither left out) whose masks leave planes (a movie's frames, a TZYX hyperstack's time
    points) without an object between labelled ones (:func:`gaps_between`), or None. The
    value it names to fill the unannotated planes with is none of ``taken`` (a class
    mask's values), the most of its mask's type (``dtypes``: each mask's as it was loaded,
    by path; its file was opened again for it, s69 and s70 review)."""
    gaps, area = {}, partial(_area, ignore=ignore, background=background)
    pages = {pair.mask: pair.pages for pair in pairs}
    for path, blocks in _blocks(pairs, masks, axes).items():
        if found := _stack_gaps(blocks, area, axes[path], pages[path]):
            gaps[path] = found
    if not gaps:
        return None
    path = min(gaps)
    shown = " and ".join(f"{labelled} of {of} {noun}s" for _, labelled, of, noun in gaps[path])
    counts = [(count, noun) for found in gaps.values() for count, _, _, noun in found]
    left = {noun: n for noun in NOUNS if (n := sum(c for c, said in counts if said == noun))}
    nouns = " and ".join(f"{noun}s" for noun in left)
    return (
        f"the masks of {numbered(len(gaps), 'stack')} ({path.name}: objects on {shown}) leave "
        f"{' and '.join(numbered(n, noun) for noun, n in left.items())} between labelled ones "
        f"without an object, where the objects of the {nouns} either side overlap: they train "
        "as background, teaching the net to miss what they hold if they were left "
        f"unannotated, not empty. Train on the annotated {nouns} alone (each saved as an image "
        f"and mask of its own){_or_marked(sorted(gaps), nouns, taken, dtypes)}"
    )


#: what the planes a mask leaves unannotated are, in the order a line names them (s70
#: review: in the order of the first stack of each; a movie's frames and a z-stack's planes
#: were once summed under the first one's noun, s69)
NOUNS = ("frame", "plane", "time point")


def _stack_gaps(blocks: list[list], area, axes: PageAxes, pages: int) -> list[tuple]:
    """Each (planes left, labelled, of, noun) of a stack of page ``axes`` whose planes'
    targets come in ``blocks``, one a time point (:func:`_blocks`), their labelled areas
    ``area``'s: its planes without an object between labelled ones of a time point (a
    movie's frames), then a TZYX hyperstack's time points without one between labelled
    ones (labelled every few, s69: each time point wholly labelled or wholly empty was not
    said; a stack of both was said in planes alone); [] where neither."""
    counts, points = [], []
    for block in blocks:
        held: list = [None]
        counts.append(gaps_between(_tapped(map(area, block), held)))
        points.append(held[0])
    found = []
    if left := sum(n for n, _ in counts):
        noun = "frame" if axes.axes == "T" else "plane"
        found.append((left, sum(k for _, k in counts), pages, noun))
    if len(blocks) > 1 and (times := gaps_between(points))[0]:
        found.append((*times, axes.shape[axes.letters.index("T")], "time point"))
    return found


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


def _or_marked(paths, nouns: str, taken: Sequence[int], dtypes: Mapping[Path, np.dtype]) -> str:
    """The other fix, for mask images: their unannotated ``nouns`` ("planes", "planes and
    time points") marked as ignored, with the
    most the first one's type holds (an 8-bit stack cannot hold 65535) but the values
    ``taken`` (a class mask's 255, s69), its type ``dtypes``' (by path); "" where
    every mask named is outlines (a Fiji RoiSet drawn on a few slices), which hold no
    value."""
    images = [Path(p) for p in paths if Path(p).suffix.lower() not in ANNOTATION_SUFFIXES]
    if not images:
        return ""
    most = fill = _most(dtypes[images[0]])
    while fill in taken:
        fill -= 1
    no_class = " that is no class" if fill != most else ""
    return (
        f", or fill the unannotated {nouns} of the mask stacks with {fill} (the most "
        f"{images[0].name}'s type holds{no_class}) and --set data.ignore_value={fill}"
    )


def _most(dtype: np.dtype) -> int:
    """The largest value a mask of ``dtype`` can hold: its integer type's (65535 where it is
    not of one)."""
    return int(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 65535


def warn_unlabelled_planes(line: str | None, axes: Mapping[Path, PageAxes]) -> None:
    """Say ``line`` (:func:`unlabelled_planes`', of the stacks of ``axes``; None: nothing)
    as a warning, once a command for the mask folders of ``axes`` (``train --folds``
    prepares the data of each fold, its planes not all the same, so not the line itself;
    outside a command, once a process for them: another data set's is said)."""
    if line is not None:
        folders = sorted({str(Path(path).parent) for path in axes})
        note_once(line, key=f"unlabelled planes in {folders}")
