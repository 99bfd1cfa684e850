"""Stacks whose masks label only some planes: a z-stack annotated every few slices (in Fiji,
4 of 30) and saved as one mask stack leaves the other planes 0, which train as background
everywhere, so the net learns to miss the nuclei they hold; a movie labelled every few
frames likewise. Nothing in a mask tells an unannotated plane from an empty one, so this
warns and the run goes on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from unetlab.data.io import read_stack
from unetlab.data.names import ANNOTATION_SUFFIXES
from unetlab.data.positions import series_of
from unetlab.data.read_notes import note_once
from unetlab.data.tiff_files import is_tiff_name, open_tiff
from unetlab.data.tiffmeta import PageAxes
from unetlab.words import numbered


def planes_between(masks: Sequence[np.ndarray | None], ignore: int) -> tuple[int, int]:
    """(planes left without an object, labelled planes) of one z-stack or movie: ``masks``,
    each plane's training target in z (or t) order (0 background, ``ignore`` no label; None:
    a plane not loaded here, a fold's test plane). A run of empty planes counts where the
    labelled (y, x) areas of the planes either side of it overlap: the same nuclei went
    through it unlabelled. Two nuclei at different depths do not overlap, nor do a fully
    labelled stack's one-plane nuclei (review s68 user3d: a rule on lone labelled planes
    missed slices drawn two by two, and said such stacks). Planes mostly ``ignore``
    (unannotated ones marked so) count as neither."""
    left = labelled = run = 0
    last = None
    for mask in masks:
        area = None if mask is None else _area(mask, ignore)
        if area is None:
            continue
        if area is False:
            run += 1
            continue
        if run and last is not None and np.logical_and(last, area).any():
            left += run
        last, run, labelled = area, 0, labelled + 1
    return left, labelled


def _area(mask: np.ndarray, ignore: int) -> np.ndarray | bool | None:
    """A plane's labelled (y, x) pixels where its target ``mask`` holds an object; else
    False, or None where ``ignore`` pixels are most of it (an unannotated plane marked so,
    not the rows data.exclude_rows or nodata leave out of every plane)."""
    area = (mask != 0) & (mask != ignore)
    if area.any():
        return area
    return None if 2 * np.count_nonzero(mask == ignore) > mask.size else False


def unlabelled_planes(
    pairs: Sequence, masks: Sequence[np.ndarray], ignore: int, axes: Mapping[Path, PageAxes]
) -> str | None:
    """One line naming the stacks among ``pairs`` (each a
    :class:`~unetlab.data.pairs.Pair`, in step with ``masks``, their training targets: 0
    background, ``ignore`` no label; ``axes``: the page axes of each stack's mask path, Z
    or T, the files of neither left out) whose masks leave planes (a movie's frames)
    without an object between labelled ones (:func:`planes_between`, each time point's
    planes apart), or None."""
    pages = {pair.mask: pair.pages for pair in pairs}
    gaps = {}
    for path, blocks in _blocks(pairs, masks, axes).items():
        counts = [planes_between(block, ignore) for block in blocks]
        if left := sum(n for n, _ in counts):
            gaps[path] = (left, sum(k for _, k in counts))
    if not gaps:
        return None
    path = min(gaps)
    noun = "frame" if axes[path].axes == "T" else "plane"
    return (
        f"the masks of {numbered(len(gaps), 'stack')} ({path.name}: objects on {gaps[path][1]} "
        f"of {pages[path]} {noun}s) leave {numbered(sum(n for n, _ in gaps.values()), noun)} "
        f"between labelled ones without an object, where the objects of the {noun}s either "
        "side overlap: they train as background, teaching the net to miss what they hold if "
        f"they were left unannotated, not empty. Train on the annotated {noun}s alone (each "
        f"saved as an image and mask of its own){_or_marked(gaps, noun)}"
    )


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


def _or_marked(paths, noun: str) -> str:
    """The other fix, for mask images: their unannotated planes marked as ignored, with the
    most the first one's type holds (an 8-bit stack cannot hold 65535); "" where every mask
    named is outlines (a Fiji RoiSet drawn on a few slices), which hold no value."""
    images = [Path(p) for p in paths if Path(p).suffix.lower() not in ANNOTATION_SUFFIXES]
    if not images:
        return ""
    most = _most(images[0])
    return (
        f", or fill the unannotated {noun}s of the mask stacks with {most} (the most "
        f"{images[0].name}'s type holds) and --set data.ignore_value={most}"
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
    pairs: Sequence, masks: Sequence[np.ndarray], ignore: int, axes: Mapping[Path, PageAxes]
) -> None:
    """Say :func:`unlabelled_planes` as a warning, once a command for the mask folders of
    ``axes`` (``train --folds`` prepares the data of each fold, its planes not all the same,
    so not the line itself; outside a command, once a process for them: another data set's
    is said)."""
    if (line := unlabelled_planes(pairs, masks, ignore, axes)) is not None:
        folders = sorted({str(Path(path).parent) for path in axes})
        note_once(line, key=f"unlabelled planes in {folders}")
