"""Stacks whose masks label only some planes: a z-stack annotated every few slices (in Fiji,
4 of 30) and saved as one mask stack leaves the other planes 0, which train as background
everywhere, so the net learns to miss the nuclei they hold. Nothing in a mask tells an
unannotated plane from an empty one, so this warns and the run goes on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from unetlab.data.names import ANNOTATION_SUFFIXES
from unetlab.data.positions import series_of
from unetlab.data.read_notes import note_once
from unetlab.data.tiff_files import is_tiff_name, open_tiff
from unetlab.data.tiffmeta import PageAxes
from unetlab.words import numbered


def planes_between(holds: Sequence[bool | None]) -> int:
    """How many planes of one z-stack (``holds``: each plane's, in z order: True objects,
    False none, None mostly ignored pixels, an unannotated plane marked so) hold no object
    between its first and last labelled ones, where most of its labelled planes stand alone
    (no labelled plane above or below: slices drawn every few planes); else 0: a nucleus
    spans several planes, so a stack labelled throughout has runs of them, with empty
    planes above, below or between its nuclei (s68 user3d: two nuclei at different
    depths, or an embryo's empty top and bottom, were said)."""
    labelled = [z for z, h in enumerate(holds) if h is True]
    alone = [z for z in labelled if True not in holds[max(z - 1, 0) : z] + holds[z + 1 : z + 2]]
    if len(labelled) < 2 or 2 * len(alone) < len(labelled):
        return 0
    return sum(h is False for h in holds[labelled[0] : labelled[-1]])


def unlabelled_planes(
    pairs: Sequence, masks: Sequence[np.ndarray], ignore: int, z_axes: Mapping[Path, PageAxes]
) -> str | None:
    """One line naming the z-stacks among ``pairs`` (each a
    :class:`~unetlab.data.pairs.Pair`, in step with ``masks``, their training targets: 0
    background, ``ignore`` no label; ``z_axes``: the page axes of each z-stack's mask path,
    the files of no Z axis left out) whose masks leave planes between labelled ones without
    an object (:func:`planes_between`, each time point's planes apart), or None."""
    stacks = _z_blocks(pairs, masks, ignore, z_axes)
    gaps = {
        path: sum(planes_between(z) for z in blocks.values()) for path, blocks in stacks.items()
    }
    gaps = {path: n for path, n in gaps.items() if n}
    if not gaps:
        return None
    path = min(gaps)
    holds = [h for block in stacks[path].values() for h in block]
    return (
        f"the masks of {numbered(len(gaps), 'stack')} ({path.name}: objects on "
        f"{holds.count(True)} of {len(holds)} planes) leave {numbered(sum(gaps.values()), 'plane')} "
        "between labelled ones without an object: they train as background, teaching the net "
        "to miss what they hold if they were left unannotated, not empty. Train on the "
        f"annotated planes alone (each saved as an image and mask of its own){_or_marked(gaps)}"
    )


def _z_blocks(pairs, masks, ignore: int, z_axes) -> dict[Path, dict[int, list]]:
    """Each z-stack mask's planes' :func:`_holds`, by time point, in z order (the pairs of a
    fold or a recorded split come in any order: keyed by their page)."""
    found: dict[Path, dict[int, dict[int, bool | None]]] = {}
    for pair, mask in zip(pairs, masks, strict=True):
        if (axes := z_axes.get(pair.mask)) is not None:
            at = axes.index(pair.page)
            found.setdefault(pair.mask, {}).setdefault(at.get("t", 0), {})[at["z"]] = _holds(
                mask, ignore
            )
    return {
        path: {t: [z[k] for k in sorted(z)] for t, z in sorted(blocks.items())}
        for path, blocks in found.items()
    }


def _or_marked(paths) -> str:
    """The other fix, for mask images: their unannotated planes marked as ignored, with the
    most the first one's type holds (an 8-bit stack cannot hold 65535); "" where every mask
    named is outlines (a Fiji RoiSet drawn on a few slices), which hold no value."""
    images = [Path(p) for p in paths if Path(p).suffix.lower() not in ANNOTATION_SUFFIXES]
    if not images:
        return ""
    most = _most(images[0])
    return (
        f", or fill the unannotated planes of the mask stacks with {most} (the most "
        f"{images[0].name}'s type holds) and --set data.ignore_value={most}"
    )


def _most(path: Path) -> int:
    """The largest value the mask stack at ``path`` can hold (65535 where not an integer
    TIFF)."""
    if not is_tiff_name(path):
        return 65535
    with open_tiff(path) as tif:
        dtype = series_of(tif).dtype
    return int(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 65535


def _holds(mask: np.ndarray, ignore: int) -> bool | None:
    """Whether a plane's target ``mask`` holds an object; None where it holds none and
    ``ignore`` pixels are most of it (an unannotated plane marked so, not the rows
    data.exclude_rows or nodata leave out of every plane)."""
    if ((mask != 0) & (mask != ignore)).any():
        return True
    return None if 2 * np.count_nonzero(mask == ignore) > mask.size else False


def warn_unlabelled_planes(
    pairs: Sequence, masks: Sequence[np.ndarray], ignore: int, z_axes: Mapping[Path, PageAxes]
) -> None:
    """Say :func:`unlabelled_planes` as a warning, once a command (``train --folds``
    prepares the data of each fold)."""
    if (line := unlabelled_planes(pairs, masks, ignore, z_axes)) is not None:
        note_once(line)
