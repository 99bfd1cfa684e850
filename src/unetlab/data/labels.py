"""From the values stored in mask files to class indices, and back.

A mask file stores *label values* (0/255 for a binary mask, 0/1/2 for class-index PNGs,
palette indices for palette PNGs). The net works with *class indices* 0..C-1. ``label_values``
lists, for each class index, the value that encodes it (``[0, 255]`` for ISBI: membrane, cell).
Pixels whose value is ``ignore_value`` become ``IGNORE_INDEX`` and count in no loss or metric.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from unetlab.data.classes import palette_words
from unetlab.deferred import deferred
from unetlab.errors import Blank, DatasetError, Spelled, UnetlabError, said, set_to
from unetlab.words import worded

measure = deferred("skimage.measure")

IGNORE_INDEX = -1


def connectivity_refusal(connectivity) -> str:
    """Why ``connectivity`` is no scikit-image connectivity of a 2-D image (1 or 2), naming
    the command line's spelling of each (``--connectivity 4|8``), which a caller mixes up."""
    return (
        f"connectivity is 1 (4-neighbours) or 2 (8-neighbours), not {connectivity} "
        "(the command line's --connectivity 4 and 8)"
    )


#: where evaluate reads masks by label values, as its caller sets them
EVALUATE_VALUES = Spelled(
    "evaluate: ignore_value=V, and label_values with pred_dir",
    "evaluate: --ignore-value V, and --label-values with --pred",
)


class ValueFix(NamedTuple):
    """How a caller of :func:`encode_mask` sets the values it reads masks by, for its fix:
    ``values(list)`` and ``ignored(value)`` give the settings (``values`` None where the
    caller has no label values to set: a model's), ``aside`` a word on the others',
    ``listed(list)`` the values a refusal lists, as the caller types them."""

    values: Callable[[list], Spelled] | None
    ignored: Callable[[object], Spelled]
    aside: Spelled | None = None
    #: how the caller types a list of values (None: ``[0, 255]``, as Python and YAML do)
    listed: Callable[[list], Spelled] | None = None


def _config_values(values: list) -> Spelled:
    return set_to("data.label_values", values)


def _config_ignored(value) -> Spelled:
    return set_to("data.ignore_value", value)


#: training's masks (fit, plan, unetlab train): the config's keys
CONFIG_FIX = ValueFix(_config_values, _config_ignored, EVALUATE_VALUES)

#: how many unknown values a refusal lists, and its fix names as classes: more look like
#: object ids
_NAMED = 10


def _fixes(
    every: list, label_values: Sequence[int], fix: ValueFix, *, blurred: bool = False
) -> tuple[Callable, list]:
    """(say, settings) of :func:`encode_mask`'s fix for ``every`` value unknown to
    ``label_values``: each a class, or the one unknown value counted nowhere
    (:func:`~unetlab.errors.Blank` ``V`` where there are several); one short line where
    a value is not whole or there are more than :data:`_NAMED` (object ids: a 4096-value
    mask listed them all, 23,800 characters, s58): after ``blurred``'s "threshold it; or",
    "fix the mask" alone."""
    whole = sorted({int(v) for v in every if float(v).is_integer()})
    if len(whole) < len(every):
        return (lambda: "values that are not whole numbers are no class's: fix the mask"), []
    if blurred:
        return (lambda: "fix the mask"), []
    if len(every) > _NAMED:
        return (lambda: "so many values look like object ids, not classes: fix the mask"), []
    ignored = fix.ignored(whole[0] if len(whole) == 1 else Blank("V"))
    values = [] if fix.values is None else [fix.values(sorted({*map(int, label_values), *whole}))]
    aside = [] if fix.aside is None else [fix.aside]
    return (lambda *names: _unknown_fix(names, len(values), len(aside))), [*values, ignored, *aside]


def _unknown_fix(names: tuple, values: int, aside: int) -> str:
    """The end of :func:`encode_mask`'s refusal, naming its settings as the caller sets them
    (a bare "set data.label_values (or data.ignore_value) in the config", s58): the
    label values' (where ``values``), the ignore value's, an ``aside``'s."""
    classes = f"{names[0]} if each is a class, or " if values else ""
    ignored = names[values]
    said = f" ({names[values + 1]})" if aside else ""
    return (
        f"{classes}{ignored} for a value that counts nowhere, such as VOC's 255 outlines{said}, "
        "or fix the mask"
    )


def encode_mask(
    mask: np.ndarray,
    label_values: list[int],
    *,
    ignore_value: int | None = None,
    name: str = "mask",
    fix: ValueFix = CONFIG_FIX,
) -> np.ndarray:
    """(H, W) label values -> (H, W) int64 class indices; unknown values raise DatasetError
    ending in the settings that read them, as ``fix`` spells them (the config's keys)."""
    if label_values is None:  # a model's where it records none: a TypeError before (s54)
        raise UnetlabError(_no_label_values(name))
    mask = np.asarray(mask)
    out = value_indices(mask, label_values, ignore_value=ignore_value)
    if (out == UNKNOWN).any():
        raise DatasetError(**_unknown_said(mask, out, label_values, ignore_value, name, fix))
    return out


def _unknown_said(mask, out, label_values, ignore_value, name: str, fix: ValueFix) -> dict:
    """The keywords of :func:`encode_mask`'s refusal of the values of ``mask`` no class has
    (``out``: :data:`UNKNOWN` there): the values listed as the caller types them
    (``fix.listed``: ``0 255`` on evaluate's command line, not ``[0, 255]``: review s64)."""
    every = np.unique(mask[out == UNKNOWN]).tolist()
    unknown = sorted(every)[:_NAMED]
    blurred = _blurred(every, label_values, out)
    listed = fix.listed or _as_list

    def problem(unknown_shown, values_shown) -> str:
        return (
            f"{name}: {worded(len(every), 'label value')} {unknown_shown} "
            f"{worded(len(every), 'is', 'are')} not among the classes' values "
            f"{values_shown} ({_first_pixel(mask, out, name)}); {blurred}"
        )

    say, settings = _fixes(every, label_values, fix, blurred=bool(blurred))
    shown = (listed(unknown), listed(list(label_values)))
    if ignore_value is None or (mask == ignore_value).any():
        return said(lambda a, b, *names: problem(a, b) + say(*names), *shown, *settings)
    # the ignore value given is not the one the mask holds: said, not left to guess (s64)
    return said(
        lambda a, b, *names: (
            f"{problem(a, b)}{say(*names[:-1])} ({names[-1]}, given, is in no pixel of {name})"
        ),
        *shown,
        *settings,
        fix.ignored(ignore_value),
    )


def _as_list(values: list) -> Spelled:
    """``values`` as Python and a YAML config write them: ``[0, 255]``."""
    return Spelled(str(values), str(values))


def _no_label_values(name: str) -> str:
    """Why ``encode_mask`` of ``name`` needs the label values it was given as None, the
    ``label_values`` of a model trained on masks of class indices or of object ids (a
    nuclei model's: README's snippet ``encode_mask(mask, model.label_values)`` raised
    TypeError on one, s54 new user)."""
    return (
        f"{name}: label_values is None (a model's where its masks held class indices 0, 1, "
        "... or object ids): give each class's mask value, [0, 255] for a 0/255 mask, or "
        "range(model.num_classes) for a mask of class indices; score an instance model's "
        "objects with object_scores(prediction=ids, truth=mask)"
    )


def _first_pixel(mask: np.ndarray, out: np.ndarray, name: str) -> str:
    """Where the first pixel of no class lies, with its palette colour where ``name`` is a
    palette PNG: ``value 11 at pixel x=50, y=40, palette colour (250, 170, 30)``."""
    where = np.argwhere(out == UNKNOWN)[0]
    value = mask[tuple(where)].item()  # a float mask's inf or NaN has no int
    value = int(value) if float(value).is_integer() else value
    y, x = (int(i) for i in where[-2:])
    said = palette_words(name, value) if isinstance(value, int) else None
    return f"value {value} at pixel x={x}, y={y}" + (f", {said}" if said else "")


def _blurred(unknown: list, label_values: Sequence[int], out: np.ndarray) -> str:
    """What to say first of a mask whose ``unknown`` values look like the blur, resizing or
    JPEG of a mask of ``label_values`` (as training's refusal): 14 or more of them, all
    between the classes' values, on at most 15% of the pixels; else ''."""
    low, high = min(label_values), max(label_values)
    if len(unknown) < 14 or not all(low < v < high for v in unknown):
        return ""
    if (out == UNKNOWN).mean() > 0.15:
        return ""
    return "the values between look like blur, resizing or JPEG compression of the mask: threshold it; or "


#: what :func:`value_indices` gives a value that is no class's and not ignored
UNKNOWN = -2


def value_indices(
    mask: np.ndarray, label_values: Sequence[int], *, ignore_value: int | None = None
) -> np.ndarray:
    """(H, W) label values -> (H, W) int64: the index of each value in ``label_values``,
    ``IGNORE_INDEX`` for ``ignore_value``, :data:`UNKNOWN` for any other value."""
    mask = np.asarray(mask)
    integer = np.issubdtype(mask.dtype, np.integer)
    # a float mask's size is no table's: its inf made int() raise OverflowError (s51 walkbad)
    highest = max(max(label_values), mask.max(initial=0) if integer else 0, ignore_value or 0)
    least = min(mask.min(initial=0) if integer else 0, min(label_values), ignore_value or 0)
    if least < 0 or not integer or highest >= 2**20:
        # generic path for negative, float or huge values (a negative value indexed the
        # lookup table from its end: ignore_value -1 ignored every 255 of a 0/255 mask)
        out = np.full(mask.shape, UNKNOWN, dtype=np.int64)
        for index, value in enumerate(label_values):
            out[mask == value] = index
        if ignore_value is not None:
            out[mask == ignore_value] = IGNORE_INDEX
        return out
    lut = np.full(int(highest) + 1, UNKNOWN, dtype=np.int64)
    lut[np.asarray(label_values, dtype=np.int64)] = np.arange(len(label_values))
    if ignore_value is not None:
        lut[ignore_value] = IGNORE_INDEX
    return lut[mask]


def decode_mask(indices: np.ndarray, label_values: list[int]) -> np.ndarray:
    """(H, W) class indices -> the label values the masks use (ignored pixels -> 0)."""
    lut = np.asarray(label_values)
    return np.where(indices >= 0, lut[np.clip(indices, 0, len(lut) - 1)], 0).astype(lut.dtype)


# --- objects: the one labeller of connected regions and instance ids -----------------------


def instances(
    labels: np.ndarray,
    *,
    boundary_class: int | None = 0,
    connectivity: int = 1,
    ignore_index: int = -1,
) -> np.ndarray:
    """(H, W) class indices (any dims) -> int32 instance ids 1..n in raster order, 0 = no
    object.

    The connected regions of equal class (``skimage.measure.label``), so touching regions of
    different classes are different objects; pixels of ``boundary_class`` (None: no class)
    or ``ignore_index`` are 0. ``connectivity``: 1 = 4-neighbours (the ISBI challenge's),
    2 = 8-neighbours.
    """
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer) and labels.dtype != bool:
        raise ValueError(
            f"instances takes integer class labels, not {labels.dtype}; threshold or argmax first"
        )
    if connectivity not in (1, 2):
        raise UnetlabError(connectivity_refusal(connectivity))
    ignored = labels == ignore_index
    if boundary_class is not None and not ignored.any():  # no copy: the boundary class is
        ids = measure.label(labels, background=boundary_class, connectivity=connectivity)
    else:  # one value for "no object", below every class, as skimage's background
        dropped = ignored if boundary_class is None else ignored | (labels == boundary_class)
        work = np.where(dropped, -1, labels.astype(np.int64))
        ids = measure.label(work, background=-1, connectivity=connectivity)
    return ids.astype(np.int32, copy=False)


def compact_ids(ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Non-negative ids -> 0..n in the same order (0 stays 0, others 1..n) and n, so that
    contingency tables stay small whatever the ids. Returns an int64 array of ``ids``' shape.
    By hand rather than ``skimage.segmentation.relabel_sequential``: a lookup table is 3x
    faster for 5,000 ids in 1024 x 1024 (bench/README.md)."""
    ids = np.asarray(ids)
    if ids.size == 0:
        return ids.astype(np.int64), 0
    lo, hi = int(ids.min()), int(ids.max())
    if lo < 0:
        raise ValueError(f"object ids are 0 (no object) or positive, not {lo}")
    if hi <= 4 * ids.size + 1024:  # a lookup table is O(pixels); np.unique sorts
        present = np.bincount(ids.ravel(), minlength=1) > 0
        present[0] = True
        lut = np.cumsum(present) - 1
        return lut[ids].astype(np.int64), int(lut[-1])
    values, inverse = np.unique(ids, return_inverse=True)
    inverse = inverse.reshape(ids.shape).astype(np.int64)
    if values[0] != 0:
        return inverse + 1, len(values)
    return inverse, len(values) - 1


def grow_seeds(
    elevation: np.ndarray,
    seeds: np.ndarray,
    mask: np.ndarray,
    *,
    connectivity: int = 1,
    min_seed_area: int = 1,
    line: bool = False,
) -> np.ndarray:
    """A seeded watershed: (H, W) int32 ids (int64 past 2**31 - 1 of them), 0 outside
    ``mask`` (and on the lines), not renumbered.

    The ``connectivity``-connected regions of ``seeds`` (bool; those under ``min_seed_area``
    px are no seed) grow over ``mask`` by a watershed on ``elevation``; a region of ``mask``
    without a seed is an object of its own, numbered after every seed. ``line``: a 1-px line
    (0) where two objects meet. The markers are int32, which the watershed's own copies
    (the masked markers, its padded output, the cropped result) keep: int64 ones peaked at 47
    B a pixel, int32 ones at 26 before the flood's ranks (a 12 MP image of 21,500 nuclei: 567
    -> 315 MB, the same ids; bench/README.md "Memory of a photo"); the peak now, with the
    ranks, flooded in windows of rows: :mod:`~unetlab.data.region_watershed`'s docstring.
    Ties between seeds are decided by position
    (:func:`~unetlab.data.region_watershed.watershed_by_region`): a region of ``mask`` takes
    the same ids in any crop of the image that holds it whole (a slide's bands).
    """
    from scipy import ndimage

    from unetlab.data.region_watershed import watershed_by_region

    structure = ndimage.generate_binary_structure(2, connectivity)
    markers, count = ndimage.label(seeds & mask, structure)
    small = _label_sizes(markers, count) < min_seed_area
    small[0] = False
    markers[small[markers]] = 0
    return watershed_by_region(elevation, markers, mask, connectivity=connectivity, line=line)


def _label_sizes(labels: np.ndarray, count: int) -> np.ndarray:
    """The pixels of each label 0..``count`` of (H, W) ``labels``, 256 rows at a time:
    ``np.bincount`` of them all copied int32 labels as intp, 8 B a pixel at grow_seeds' peak."""
    sizes = np.zeros(count + 1, np.intp)
    for top in range(0, labels.shape[0], 256):
        sizes += np.bincount(labels[top : top + 256].ravel(), minlength=count + 1)
    return sizes


def seeded_cells(
    cell_prob: np.ndarray,
    threshold: float,
    seed_threshold: float,
    *,
    connectivity: int = 1,
    min_seed_area: int = 10,
) -> np.ndarray:
    """Cells of a cell (non-boundary) probability map, split where they touch: (H, W) ->
    int32 ids 1..n, 0 = boundary.

    Thresholding a boundary map merges two cells wherever their membrane has a gap. Here the
    seeds are the regions where ``cell_prob > seed_threshold`` (regions under
    ``min_seed_area`` px are no seed); a watershed on ``-cell_prob`` grows them over the
    pixels above ``threshold``, with a 1-px line where two cells meet, and a region above
    ``threshold`` without a seed stays one cell (:func:`grow_seeds`). The ids are the
    ``connectivity``-connected regions of what remains, so the result is exactly what the
    binary map (cell = id > 0) gives to anyone who labels it, the ISBI challenge's scripts
    included.
    """
    cell_prob = np.asarray(cell_prob)
    if cell_prob.ndim != 2:
        raise ValueError(f"seeded_cells takes one (H, W) map, not shape {cell_prob.shape}")
    cell = cell_prob > threshold
    grown = grow_seeds(
        -cell_prob,
        cell_prob > seed_threshold,
        cell,
        connectivity=connectivity,
        min_seed_area=min_seed_area,
        line=True,
    )
    return instances(grown > 0, boundary_class=0, connectivity=connectivity)
