"""A data set's fingerprint: what training needs to know about the images and masks.

:func:`measure_pair` reads the facts of one image/mask pair (:class:`PairFacts`: size,
channels, dtype, pixel spacing, intensity percentiles per channel, mask values and their
pixel counts, object sizes, how many objects touch another, where each value's pixels lie:
top or bottom half, left or right); :class:`Fingerprint` gathers them
for a data set, and :func:`mixed_encodings`, :func:`lonely_classes` and :func:`too_small`
name the files of a data set that cannot be right (masks mixing 0/1 and 0/255, a class found
in one file only, images smaller than the net). :func:`layout_dependence` says how much the
class layout depends on which way is up (street scenes: sky above, road below; microscopy:
no up), from the pooled half counts.
``unetlab.plan`` turns a fingerprint into training settings.

Objects are the 4-connected regions of every mask value but the background (the value named
background, else membrane, else, of two, the boundary between the objects: grain boundary,
where the data set names its classes, as training takes it: else 0 when present, else the
most frequent value); instance masks hold one object per value. Whether a data set's
masks are instance masks is :func:`instance_masks`, the one rule for ``data.target: auto``
that the plan and training without a plan both use. Two objects *touch* when they lie within
``TOUCH_GAP`` px of each other (so cells parted by a thin membrane touch, as in EM) and are
of one class (regions of two classes, such as road and car, meet by nature: no border
weights can or need keep them apart).
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from unetlab.data.checks import non_integer_mask, nonfinite_pixels
from unetlab.data.colour_masks import mask_said
from unetlab.data.exclude import check_exclude_rows, edge_bands, excluded_rows
from unetlab.data.held import kept_reads, reads_kept
from unetlab.data.instances import (
    INSTANCE_VALUES,
    TARGETS,
    looks_like_instances,
    negative_values_line,
    one_object_per_value,
)
from unetlab.data.large_ids import largest_compact
from unetlab.data.merged import MERGED_SHARE, merged_regions
from unetlab.data.names import holds_object_ids
from unetlab.data.nodata import InvalidPages, filled
from unetlab.data.pairs import Pair, PairReader
from unetlab.data.read_notes import note_once
from unetlab.data.regions import (  # noqa: F401 (object_labels, touching_objects: re-exported)
    distinct_values,
    object_labels,
    touching_in_class,
    touching_objects,
    value_ids,
    value_regions,
)
from unetlab.data.softedges import ramp_pixels
from unetlab.data.tiff_files import is_tiff_name, keeping_open, open_tiff
from unetlab.data.tiffmeta import read_pixel_size, tiff_pixel_size
from unetlab.data.void_mark import VOID, void_beside
from unetlab.data.weightmap import NO_CLASS_INDEX, background_by_name
from unetlab.deferred import deferred
from unetlab.errors import (
    Blank,
    DatasetError,
    Spelled,
    UnetlabError,
    said_as,
    set_to,
    unknown_choice,
)
from unetlab.words import numbered

ndimage = deferred("scipy.ndimage")

TOUCH_GAP = 2  # objects at most this many px apart touch
PERCENTILES = (0.5, 50.0, 99.5)
MAX_PIXELS = 1 << 18  # intensity percentiles from at most this many pixels per image
LOSSY_SUFFIXES = (".jpg", ".jpeg")  # masks in these formats cannot hold exact classes


@dataclass(frozen=True)
class PairFacts:
    """What one image/mask pair holds. ``low``/``median``/``high``: per-channel 0.5th, 50th
    and 99.5th intensity percentiles in the image's own units; ``values``/``counts``: the
    mask values present and their pixel counts; ``object_areas``: px per object;
    ``touching``: objects within ``TOUCH_GAP`` px of another of their class; ``mean``/``std``:
    per-channel intensity mean and (population) standard deviation, from the same sample of
    pixels as the percentiles (empty: not measured); ``spacing``: (y, x) pixel size
    in micrometres from the TIFF's metadata, or None; ``wide_mask``: the mask is stored with
    more than 8 bits; ``image``: the image file; ``halves``: for each of ``values``, its
    pixels in the (top, bottom, left, right) half of the mask (:func:`half_counts`; empty:
    not measured); ``value_means``: the mean grey level (first channel) of the pixels of
    each of ``values`` (empty: not measured); ``cut_objects``: objects left out of
    ``object_areas`` and ``touching`` because they meet unlabelled pixels (their size is
    not known: a scribble, or an object cut by the edge of a labelled patch); ``lines``:
    for each of ``object_areas``, whether the object is a line at most ``LINE_WIDTH`` px
    across (a thin class: a rim, a contour; empty: none measured), left out of the sizes
    the tile is planned by; ``object_values``: for each of ``object_areas``, its mask value
    (semantic masks; empty: instance masks, or not measured); ``edge_cut``: for each of
    ``object_areas``, whether the image's edge or its nodata pixels cut the object (a piece
    of unknown size, left out of the sizes where whole ones exist; empty: not measured);
    ``slivers``: for each of ``object_areas``, whether it is at most ``LINE_WIDTH`` px across
    (:func:`line_objects`; a 1-px speck of a road), left out of the sizes where its class
    has wider objects (empty: not measured); ``between``/``ramp``: the mask's pixels between
    its least and greatest value, and those of them on a ramp (:func:`ramp_pixels`);
    ``merged``: objects that look like several touching ones drawn as one (semantic masks:
    :func:`~unetlab.data.merged.merged_regions`); ``bands``: (edge, value, rows) of each
    :func:`~unetlab.data.exclude.edge_bands` of the whole mask page, before
    ``data.exclude_rows``, and ``mask_rows`` its height (0: not looked at), for the plan's
    data-bar note (:func:`unetlab.plan.bar.bar_note`), which read the masks again."""

    name: str
    height: int
    width: int
    channels: int
    dtype: str
    low: tuple[float, ...]
    median: tuple[float, ...]
    high: tuple[float, ...]
    values: tuple[int, ...]
    counts: tuple[int, ...]
    object_areas: tuple[int, ...] = ()
    touching: int = 0
    instances: bool = False
    spacing: tuple[float, float] | None = None
    wide_mask: bool = False
    image: str = ""
    halves: tuple[tuple[int, int, int, int], ...] = ()
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    value_means: tuple[float, ...] = ()
    cut_objects: int = 0
    lines: tuple[bool, ...] = ()
    object_values: tuple[int, ...] = ()
    edge_cut: tuple[bool, ...] = ()
    slivers: tuple[bool, ...] = ()
    between: int = 0
    ramp: int = 0
    merged: int = 0
    bands: tuple[tuple[str, int, int], ...] = ()
    mask_rows: int = 0
    #: the mask is stored signed (int16: its negative values can be an ignore value)
    signed_mask: bool = False
    #: the mask value its objects were measured with as the background (:func:`background`)
    background: int = 0


def measure_pair(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    name: str = "",
    spacing: tuple[float, float] | None = None,
    instances: bool | None = None,
    ignore_value: int | None = None,
    names: Mapping[int, str] | None = None,
    invalid: np.ndarray | None = None,
    held: Sequence[int] | None = None,
) -> PairFacts:
    """Facts of an (H, W[, C]) image and its (H, W) integer mask of label values;
    ``instances``: whether the mask holds object ids (None: when it holds more than
    :data:`INSTANCE_VALUES` distinct values); ``names``: the class name of each mask value
    the data set names (:func:`background` of classes); pixels of ``ignore_value`` (unlabelled, such
    as VOC's void outlines) count in no value and in no object, and objects that meet them
    are left out of the object facts (``cut_objects``); the (H, W) ``invalid`` pixels (where
    the image is nodata: training ignores the mask there) count in no value and no object,
    and the objects beside them are cut (``edge_cut``), as those the image's edge cuts.
    ``held``: the data set's mask values, which count its classes where ``names`` name a
    boundary (:func:`background`; None: the mask's own)."""
    pixels = _pixel_sample(image)
    low, median, high = np.percentile(pixels, PERCENTILES, axis=0)
    values, counts, halves, means = _value_facts(image, mask, invalid, ignore_value)
    if instances is None:
        instances = len(values) > INSTANCE_VALUES
    keep = background(values, counts, None if instances else names, ignore_value, held)
    return PairFacts(
        name=name,
        height=int(mask.shape[0]),
        width=int(mask.shape[1]),
        channels=pixels.shape[1],
        dtype=str(image.dtype),
        low=_floats(low),
        median=_floats(median),
        high=_floats(high),
        values=tuple(int(v) for v in values),
        counts=tuple(int(c) for c in counts),
        spacing=spacing,
        wide_mask=np.asarray(mask).dtype.itemsize > 1,
        signed_mask=np.issubdtype(np.asarray(mask).dtype, np.signedinteger),
        background=keep,
        halves=tuple(tuple(int(n) for n in row) for row in halves),
        mean=_floats(pixels.mean(0, dtype=np.float64)),
        std=_floats(pixels.std(0, dtype=np.float64)),
        value_means=_floats(means) if len(means) else (),
        **dict(zip(("between", "ramp"), ramp_pixels(mask))),
        **labelled_object_facts(mask, ignore_value, keep, instances=instances, invalid=invalid),
    )


def _pixel_sample(image: np.ndarray) -> np.ndarray:
    """The (N, C) pixels of an (H, W[, C]) ``image``, or an even sample of
    :data:`MAX_PIXELS` of them (percentiles to well under 1%)."""
    pixels = np.asarray(image).reshape(-1, 1 if image.ndim == 2 else image.shape[2])
    if len(pixels) > MAX_PIXELS:
        pixels = pixels[:: len(pixels) // MAX_PIXELS + 1]
    return pixels


def _value_facts(image, mask, invalid, ignore_value):
    """The mask's distinct values (less ``ignore_value``), outside the ``invalid`` pixels,
    with their pixel counts, :func:`half_counts` and :func:`value_means`."""
    valid = None if invalid is None or not np.any(invalid) else ~np.asarray(invalid, bool)
    values, counts = distinct_values(mask if valid is None else np.asarray(mask)[valid])
    halves = half_counts(mask, values, valid)
    means = value_means(image, mask, valid)
    if ignore_value is not None:
        keep = values != ignore_value
        values, counts, halves, means = values[keep], counts[keep], halves[keep], means[keep]
    return values, counts, halves, means


def half_counts(
    mask: np.ndarray, values: np.ndarray, valid: np.ndarray | None = None
) -> np.ndarray:
    """(len(values), 4) int64: the pixels of each of ``values`` (the mask's distinct values,
    ascending; of its ``valid`` pixels where given) in the top, bottom, left and right half
    of an (H, W) ``mask``, counting only ``valid`` pixels. The middle row (column) of an odd
    height (width) is in neither half, so that a layout symmetric about the middle counts
    the same in both."""
    mask = np.asarray(mask)
    if len(values) == 0:
        return np.zeros((0, 4), dtype=np.int64)
    direct = mask.dtype.kind in "iu" and values[0] >= 0 and values[-1] < 1 << 16
    if direct and valid is not None:
        mask = np.where(valid, mask, values[0])  # counted with weight 0 below
    index = mask if direct else np.searchsorted(values, mask)  # bincount needs small ints
    index = index if direct else np.minimum(index, len(values) - 1)  # invalid: weight 0
    n = int(values[-1]) + 1 if direct else len(values)
    weight = None if valid is None else valid.astype(np.float64)
    h, w = mask.shape
    halves = (np.s_[: h // 2], np.s_[h - h // 2 :], np.s_[:, : w // 2], np.s_[:, w - w // 2 :])
    counts = np.stack(
        [
            np.bincount(index[s].ravel(), None if weight is None else weight[s].ravel(), n)
            for s in halves
        ],
        axis=1,
    ).astype(np.int64)
    return counts[np.asarray(values, dtype=np.int64)] if direct else counts


def value_means(image: np.ndarray, mask: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """The mean grey level (first channel) of the pixels of each of the (H, W) ``mask``'s
    distinct values, ascending by value (of its ``valid`` pixels only, where given)."""
    grey = np.asarray(image)
    grey = grey[..., 0] if grey.ndim == 3 else grey
    if valid is not None:
        mask, grey = np.asarray(mask)[valid], grey[valid]
    _, ids = value_ids(mask)
    sums = np.bincount(ids.ravel(), weights=grey.ravel().astype(np.float64))[1:]
    return sums / np.maximum(np.bincount(ids.ravel())[1:], 1)


def layout_dependence(halves: Sequence[Sequence[int]]) -> tuple[float, float]:
    """(up/down, left/right) dependence of a class layout, from each class's pooled
    (top, bottom, left, right) pixels: the pixel-weighted mean over the classes of
    |top share - bottom share| (|left share - right share|), that is
    sum |top - bottom| / sum (top + bottom). 0: every class as often above as below the
    middle (microscopy); 1: every class in one half only (sky above a horizon at the
    middle, road below it). 0 for no pixels."""
    rows = np.asarray(halves, dtype=np.float64).reshape(-1, 4)
    top, bottom, left, right = rows.T
    return _imbalance(top, bottom), _imbalance(left, right)


def _imbalance(a: np.ndarray, b: np.ndarray) -> float:
    total = float((a + b).sum())
    return float(np.abs(a - b).sum()) / total if total else 0.0


#: a mask with at least this share of unlabelled pixels holds partial labels (scribbles)
PARTIAL_LABELS = 0.5


def labelled_object_facts(
    mask: np.ndarray,
    ignore_value: int | None,
    background_value: int,
    *,
    instances: bool,
    invalid: np.ndarray | None = None,
) -> dict:
    """:func:`object_facts` of a mask's objects; in a mask mostly unlabelled (at least
    ``PARTIAL_LABELS`` of it ``ignore_value``) only of those that meet no unlabelled pixel
    (4-neighbours or the pixel itself), with how many were left out (``cut_objects``): a
    scribble or a patch of partial labels cuts the objects it crosses, whose sizes would
    read as objects (an audit's sparse masks planned 3 px objects for 11 px nuclei). Two
    whole objects that touch only through a cut one are not counted as touching. Thin
    unlabelled outlines (VOC's void rings every object) leave the objects in. The
    ``invalid`` (nodata) pixels are no object, and objects beside them are cut (``edge_cut``)."""
    unlabelled = None if ignore_value is None else np.asarray(mask) == ignore_value
    mask = unlabelled_as(mask, ignore_value, background_value)
    if invalid is not None and np.any(invalid):
        mask = np.where(invalid, np.asarray(background_value, np.asarray(mask).dtype), mask)
    objects = object_labels(mask, background_value, instances=instances)
    cut = 0
    if unlabelled is not None and unlabelled.mean() >= PARTIAL_LABELS:
        near = ndimage.binary_dilation(unlabelled)  # the pixels and their 4-neighbours
        cut_ids = np.unique(objects[near & (objects > 0)])
        cut = int(cut_ids.size)
        objects = np.where(np.isin(objects, cut_ids), 0, objects)
    facts = _object_facts(mask, objects, instances=instances, outside=invalid)
    return {**facts, "cut_objects": cut}


def unlabelled_as(mask: np.ndarray, ignore_value: int | None, background_value: int) -> np.ndarray:
    """``mask`` with its ``ignore_value`` pixels set to ``background_value`` (so that they
    form no object), or ``mask`` itself."""
    if ignore_value is None:
        return mask
    return np.where(np.asarray(mask) == ignore_value, background_value, mask)


@dataclass(frozen=True)
class MaskValues:
    """What :func:`instance_masks` reads of one mask page: its distinct ``values``, their
    pixel ``counts``, the 4-connected ``regions`` of each (0 for the background's; one per
    value past :data:`INSTANCE_VALUES` values), whose sum is its :attr:`objects`, and whether
    it is stored with more than 8 bits (``wide``); ``between``/``ramp``: its pixels between
    its least and greatest value, and those of them on a ramp
    (:func:`~unetlab.data.softedges.ramp_pixels`)."""

    values: tuple[int, ...]
    counts: tuple[int, ...]
    regions: tuple[int, ...]
    wide: bool
    between: int = 0
    ramp: int = 0

    @property
    def objects(self) -> int:
        return sum(self.regions)

    @classmethod
    def of(cls, mask: np.ndarray, *, ramp: bool = True) -> MaskValues:
        """The values of an (H, W) mask of whole numbers (any integer or float dtype);
        without ``ramp`` its ``between`` and ``ramp`` are left 0 (most of the time taken:
        14 of 16 ms on a 1024 x 1024 page)."""
        mask = np.asarray(mask)
        values, counts = distinct_values(mask)
        keep = background(values, counts)
        as_ints = tuple(int(v) for v in values)
        if len(values) > INSTANCE_VALUES:  # one object per value
            regions = tuple((values != keep).astype(np.int64).tolist())
        else:
            regions = value_regions(mask, keep, values)  # its values not found again
        wide = mask.dtype.itemsize > 1
        ramps = ramp_pixels(mask) if ramp else ()
        return cls(as_ints, tuple(int(c) for c in counts), regions, wide, *ramps)

    def labelled(self, ignore_value: int | None) -> MaskValues:
        """This page less the values that are no class and no object: ``ignore_value`` and
        negative values (refused unless they are ``ignore_value``:
        :func:`~unetlab.data.instances.negative_values_line`), their regions with them, the
        background chosen again from the values left."""
        kept = [i for i, v in enumerate(self.values) if v >= 0 and v != ignore_value]
        if len(kept) == len(self.values):
            return self
        values = tuple(self.values[i] for i in kept)
        counts = tuple(self.counts[i] for i in kept)
        keep = background(values, counts)
        regions = tuple(0 if v == keep else self.regions[i] for i, v in zip(kept, values))
        return replace(self, values=values, counts=counts, regions=regions)


def object_facts(mask: np.ndarray, background_value: int, *, instances: bool) -> dict:
    """The :class:`PairFacts` fields of a mask's objects: ``object_areas``, ``lines``,
    ``object_values``, ``touching`` and ``instances`` (whether each value is one object)."""
    objects = object_labels(mask, background_value, instances=instances)
    return _object_facts(mask, objects, instances=instances)


def _object_facts(mask: np.ndarray, objects: np.ndarray, *, instances: bool, outside=None) -> dict:
    areas = np.bincount(objects.ravel())[1:]
    edge_cut = cut_regions(objects, outside)
    narrow = line_objects(objects)
    thin = np.zeros(areas.size, bool) if instances else thin_class(mask, objects, narrow)
    values = () if instances else _object_values_of(mask, objects, areas)
    if thin.any():  # a thin class's pieces touch each other: they count in no touching
        objects = np.where(np.concatenate([[False], thin])[objects], 0, objects)
    return {
        "object_areas": tuple(int(a) for a in areas[areas > 0]),
        "lines": () if instances else tuple(thin[areas > 0].tolist()),
        "object_values": values,
        "edge_cut": tuple(edge_cut[areas > 0].tolist()),
        "slivers": tuple(narrow[areas > 0].tolist()),
        "touching": touching_in_class(mask, objects, TOUCH_GAP, instances=instances),
        "merged": 0 if instances else merged_regions(objects, mask),  # each class alone
        "instances": instances,
    }


def _object_values_of(mask: np.ndarray, objects: np.ndarray, areas: np.ndarray) -> tuple:
    """The mask value of each present object id (``areas`` > 0), in id order: an object is
    of one value, so its pixels' sum over its area (one pass, no sort)."""
    sums = np.bincount(objects.ravel(), weights=np.asarray(mask, np.float64).ravel())[1:]
    present = areas > 0
    return tuple(int(v) for v in np.rint(sums[present] / areas[present]))


def cut_regions(
    ids: np.ndarray, outside: np.ndarray | None = None, *, image_rows=(True, True)
) -> np.ndarray:
    """For each id 1..max of an (H, W) id image (0: none), whether the image's edge or an
    ``outside`` pixel (4-neighbours or itself) cuts it: a piece of an object whose size is
    not known. ``image_rows``: whether the first and the last row are the image's edge
    (False: a band's cut row, the image going on beyond it); the side columns always are.
    Ids far above the pixel count (a tracker's): one per present id, ascending, as for their
    ranks (:func:`~unetlab.data.large_ids.compact_large_ids`), not one per id 1..max."""
    ids, top = largest_compact(ids)
    cut = np.zeros(top + 1, bool)
    rows = [row for row, edge in zip((ids[0], ids[-1]), image_rows) if edge]
    for edge in (*rows, ids[:, 0], ids[:, -1]):
        cut[edge] = True
    if outside is not None and np.any(outside):
        cut[ids[ndimage.binary_dilation(outside)]] = True
    return cut[1:]


#: an object no wider than this (px) is a line: a thin class's fragment, not an object to size
#: tiles by
LINE_WIDTH = 2


def line_objects(objects: np.ndarray) -> np.ndarray:
    """For each object id 1..max of ``objects`` (4-connected regions, 0 none), whether it
    is at most ``LINE_WIDTH`` (2) px across: no pixel of it has its four neighbours in it
    (the image edge counts as in it). The same as no pixel more than ``LINE_WIDTH / 2`` px
    from another id (Euclidean), without a distance transform, which with its maximum per
    object took 1.0 s on a 1.2 MP Kromp mask. Ids far above the pixel count: one per
    present id, ascending, as :func:`cut_regions`."""
    objects, top = largest_compact(objects)
    if top == 0:
        return np.zeros(0, bool)
    inside = np.ones(objects.shape, bool)
    inside[:-1] &= objects[:-1] == objects[1:]
    inside[1:] &= objects[1:] == objects[:-1]
    inside[:, :-1] &= objects[:, :-1] == objects[:, 1:]
    inside[:, 1:] &= objects[:, 1:] == objects[:, :-1]
    return (
        np.bincount(objects[inside].ravel().astype(np.intp, copy=False), minlength=top + 1)[1:] == 0
    )


def thin_class(
    mask: np.ndarray, objects: np.ndarray, lines: np.ndarray | None = None
) -> np.ndarray:
    """For each object id 1..max of ``objects``, whether its class (its value in ``mask``)
    is a thin one: most of that class's objects are lines (``lines``, else
    :func:`line_objects`), as a 1-px rim around nuclei breaks into; a class of whole objects
    keeps its thin slivers."""
    lines = line_objects(objects) if lines is None else lines
    if not lines.size:
        return lines
    ids = np.arange(1, lines.size + 1)
    values = np.asarray(ndimage.minimum(mask, objects, index=ids))
    present = np.bincount(objects.ravel(), minlength=lines.size + 1)[1:] > 0
    thin = np.zeros(lines.size, bool)
    for v in np.unique(values[present]):
        mine = present & (values == v)
        thin[mine] = 2 * lines[mine].sum() > mine.sum()
    return thin


def _floats(array) -> tuple[float, ...]:
    return tuple(float(v) for v in np.atleast_1d(array))


def background(
    values: Sequence[int],
    counts: Sequence[int],
    names: Mapping[int, str] | None = None,
    ignore_value: int | None = None,
    held: Sequence[int] | None = None,
) -> int:
    """The background mask value: the value whose class ``names`` (mask value -> class
    name: ``data.class_names``, ``class_names.txt``) calls the background, the rule
    of training (:func:`unetlab.data.weightmap.background_class`), present or not, the
    ``ignore_value`` no class; else 0 when present, else the most frequent value.
    ``held``: the data set's mask values (``data.label_values``, else those of all its
    masks), whose classes a boundary name is read of (two classes: the boundary), so that
    every mask takes one background (None: ``values``, the mask's own: a crop without a
    third class took ``{0: grain, 1: grain boundary}``'s boundary, the others 0); where
    ``names`` name none, 0 too in a mask without it that the data set holds, named or not
    (``{1: nucleus, 2: contour}``: a crop without 0 took contour; unnamed, a crop of cells
    between membranes took the cells, s67), else the first of ``held`` (a set without 0:
    1-based masks' 1, the ignored value too), as training takes its class index 0 (review
    s68: a dense crop took its cells); the most frequent value only without ``held``."""
    classes = values if held is None else held
    if (named := background_value_by_name(names, classes, ignore_value)) is not None:
        return named
    values = list(values)
    if 0 in values or not values:  # none: every pixel unlabelled
        return 0
    if held:  # the data set's, named or not: value 0, else its class index 0
        return 0 if 0 in held else int(held[0])
    return int(values[int(np.argmax(counts))])


def background_value_by_name(
    names: Mapping[int, str] | None, values: Sequence[int] = (), ignore_value: int | None = None
) -> int | None:
    """The mask value ``names`` (mask value -> class name) calls background (else membrane,
    else, of two classes, the boundary between the objects: grain boundary), or None where
    it names none (:func:`unetlab.data.weightmap.background_class`). ``values``: the mask
    values held, each a class too where unnamed but void 255 (``{1: nucleus, 2: contour}``
    over 0, 1, 2 is three classes); ``ignore_value`` is no class, named or not, as training's
    classes leave it out (``{0: grain, 1: grain boundary, 2: unknown}`` ignoring 2 is two)."""
    names = names or {}
    held = {*names, *(int(v) for v in values if int(v) != VOID)}
    every = sorted(held - {ignore_value})
    named = background_by_name([names.get(v, str(v)) for v in every], every, ignore_value)
    return None if named is None else int(every[named])


def file_pixel_size(path: Path) -> tuple[float, float] | None:
    """(y, x) micrometres per pixel of a TIFF (:func:`unetlab.data.tiffmeta.tiff_pixel_size`)
    or an MRC file or a NIfTI volume (:func:`~unetlab.data.tiffmeta.read_pixel_size`: its
    voxel size), or None; the file kept open where it is
    (:func:`~unetlab.data.tiff_files.keeping_open`)."""
    if not is_tiff_name(path):
        return None if (pixel := read_pixel_size(path)) is None else pixel.size
    with open_tiff(path) as tif:
        return tiff_pixel_size(tif, tif.pages[0])


@dataclass
class Fingerprint:
    """The facts of every pair of a data set, and what they add up to."""

    pairs: list[PairFacts] = field(default_factory=list)

    @property
    def smallest_side(self) -> int:
        return min(min(p.height, p.width) for p in self.pairs)

    @property
    def instances(self) -> bool:
        return any(p.instances for p in self.pairs)

    def training(self, held_out: Collection[str]) -> Fingerprint:
        """The pairs not ``held_out`` (the validation pairs' names), which the plan's shares
        count; ``self`` where none is held out or all are."""
        kept = [p for p in self.pairs if p.name not in held_out]
        return Fingerprint(kept) if kept and len(kept) < len(self.pairs) else self

    def class_fractions(self) -> dict[int, float]:
        """Share of all mask pixels per value (semantic masks; instance ids count as one)."""
        totals: dict[int, int] = {}
        for p in self.pairs:
            for value, count in zip(p.values, p.counts):
                key = value if not p.instances or value == 0 else 1
                totals[key] = totals.get(key, 0) + count
        n = sum(totals.values())
        return {v: c / n for v, c in sorted(totals.items())}

    def class_halves(self) -> dict[int, tuple[int, int, int, int]]:
        """Pixels per class (mask value; instance ids count as one, as in
        :meth:`class_fractions`) in the top, bottom, left and right halves of the masks,
        summed over the pairs whose halves were measured."""
        totals: dict[int, np.ndarray] = {}
        for p in self.pairs:
            for value, row in zip(p.values, p.halves):
                key = value if not p.instances or value == 0 else 1
                totals[key] = totals.get(key, 0) + np.asarray(row, dtype=np.int64)
        return {v: tuple(int(n) for n in row) for v, row in sorted(totals.items())}

    def layout(self) -> tuple[float, float]:
        """(up/down, left/right) :func:`layout_dependence` of the pooled class layout."""
        return layout_dependence(list(self.class_halves().values()))

    def intensity_stats(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Per-channel (mean, std) of all the images' pixels pooled, each image weighted by
        its pixel count (from the measured samples), or None when a pair has no such
        statistics or the pairs differ in channel count."""
        if any(not p.mean for p in self.pairs) or len({p.channels for p in self.pairs}) > 1:
            return None
        weights = np.array([p.height * p.width for p in self.pairs], dtype=np.float64)
        means = np.array([p.mean for p in self.pairs])
        squares = np.array([p.std for p in self.pairs]) ** 2 + means**2
        mean = weights @ means / weights.sum()
        return mean, np.sqrt(np.maximum(weights @ squares / weights.sum() - mean**2, 0.0))

    def object_areas(self) -> np.ndarray:
        return np.array([a for p in self.pairs for a in p.object_areas], dtype=np.int64)

    def _objects(self) -> tuple[np.ndarray, ...]:
        """(area, line, value, cut, sliver) of every object: :class:`PairFacts`'
        ``object_areas``, ``lines``, ``object_values`` (-1 where not measured), ``edge_cut``
        and ``slivers``."""
        area, line, value, cut, sliver = [], [], [], [], []
        for p in self.pairs:
            n = len(p.object_areas)
            area += p.object_areas
            line += p.lines or (False,) * n
            value += p.object_values or (-1,) * n
            cut += p.edge_cut or (False,) * n
            sliver += p.slivers or (False,) * n
        return (
            np.array(area, np.int64),
            np.array(line, bool),
            np.array(value, np.int64),
            np.array(cut, bool),
            np.array(sliver, bool),
        )

    def _sized(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(area, value, sized) of every object: ``sized`` leaves out a thin class's lines
        and, per class (mask value), its slivers where it has wider objects, and the pieces
        the image's edge or nodata cut where it has whole ones (a road, all of whose regions
        reach the edge, keeps them: their sizes, lower bounds, are all there is), as the
        training record does (:func:`unetlab.data.object_sizes.sized`)."""
        area, line, value, cut, sliver = self._objects()
        sized = np.zeros(area.size, bool)
        for v in np.unique(value):
            mine = ~line & (value == v)
            sized |= _whole(_whole(mine, sliver), cut)
        return area, value, sized

    def sized_areas(self) -> np.ndarray:
        """The areas of the sized objects (:meth:`_sized`): what tiles are sized by."""
        area, _, sized = self._sized()
        return area[sized]

    def class_areas(self) -> dict[int, np.ndarray]:
        """:meth:`sized_areas` by mask value, of the semantic masks' objects (those whose
        objects' values were measured)."""
        area, value, sized = self._sized()
        return {int(v): area[sized & (value == v)] for v in np.unique(value[value >= 0])}

    def edge_cut_objects(self) -> int:
        """Objects the image's edge or nodata cut that :meth:`sized_areas` leaves out."""
        _, line, _, cut, _ = self._objects()
        return int((~line & cut & ~self._sized()[2]).sum())

    def cut_objects(self) -> int:
        """Objects left out of the object facts because they meet unlabelled pixels."""
        return sum(p.cut_objects for p in self.pairs)

    def counted_objects(self) -> int:
        """The objects but lines, cut or whole: those :meth:`touching_fraction` is of."""
        return int((~self._objects()[1]).sum())

    def touching_fraction(self) -> float:
        """The share of the objects but lines (:meth:`counted_objects`) within
        ``TOUCH_GAP`` px of another of their class."""
        objects = self.counted_objects()
        return sum(p.touching for p in self.pairs) / objects if objects else 0.0

    def merged_fraction(self) -> float:
        """The share of the objects but lines (:meth:`counted_objects`) that look like
        several touching objects drawn as one (:func:`~unetlab.data.merged.merged_regions`)."""
        objects = self.counted_objects()
        return sum(p.merged for p in self.pairs) / objects if objects else 0.0

    def masks_look_merged(self) -> bool:
        """Whether the masks are semantic and at least ``MERGED_SHARE`` of their objects look
        merged (:meth:`merged_fraction`): the plan then says so (instance masks keep
        touching objects apart, whatever their shapes)."""
        return not self.instances and self.merged_fraction() >= MERGED_SHARE

    def summary(self) -> dict:
        """Plain numbers for plan.yaml and the log."""
        areas, sized = self.object_areas(), self.sized_areas()  # sized: no cut pieces
        return {
            "images": len(self.pairs),
            "sizes": sorted({f"{p.width}x{p.height}" for p in self.pairs})[:5],
            "channels": sorted({p.channels for p in self.pairs}),
            "dtypes": sorted({p.dtype for p in self.pairs}),
            "spacing": sorted({p.spacing for p in self.pairs if p.spacing})[:3] or None,
            "intensity_p0.5_p50_p99.5": [
                [
                    round(float(np.median([getattr(p, k)[c] for p in self.pairs])), 4)
                    for k in ("low", "median", "high")
                ]
                for c in range(self.pairs[0].channels)
            ],
            "class_fractions": {v: round(f, 4) for v, f in self.class_fractions().items()},
            "instance_masks": self.instances,
            "objects": int(areas.size),
            "object_area_p10_p50_p90": [int(v) for v in np.percentile(sized, [10, 50, 90])]
            if sized.size
            else None,
            "touching_fraction": round(self.touching_fraction(), 4),
            "layout_up_down": round(self.layout()[0], 4),
            "layout_left_right": round(self.layout()[1], 4),
        }


def _whole(mine: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """``mine`` (a selection of objects) less the ``cut`` ones, or all of ``mine`` where
    every one is cut (then their sizes, lower bounds, are all there is)."""
    whole = mine & ~cut
    return whole if whole.any() else mine


def fingerprint(
    pairs: Sequence[Pair],
    *,
    limit: int = 400,
    problems: list[str] | None = None,
    target: str = "auto",
    ignore_value: int | None = None,
    channel: int | None = None,
    names: Mapping[int, str] | None = None,
    exclude_rows=None,
    nodata="auto",
    label_values: Sequence[int] | None = None,
) -> Fingerprint:
    """Measure ``pairs`` (at most ``limit`` of them, evenly spread) into a :class:`Fingerprint`.

    ``target`` (``data.target``): ``instances`` measures every mask as object ids,
    ``semantic`` as classes, ``auto`` decides for the data set (:func:`instance_masks`).
    Pixels of ``ignore_value`` (those training counts nowhere) are in no value or object;
    the rows of ``exclude_rows`` (``data.exclude_rows``, a data bar) are not measured at all
    (each pair is measured without them, as training reads it); the ``nodata`` pixels
    (``data.nodata``: :mod:`unetlab.data.nodata`) are measured as training sees them:
    filled with the valid pixels' mean in the image (a NaN nodata is no problem), and in
    no class share or object in the mask (training ignores them), the objects beside them
    cut as by the image's edge. Object sizes are of whole objects where there are any:
    those the image's edge or nodata cut are pieces (:meth:`Fingerprint.sized_areas`).
    ``names``: the class name of each mask value the data set names (``data.class_names``,
    ``class_names.txt``): a class named the background (background, membrane, grain
    boundary) is no object (:func:`background`); ``auto`` decides on objects measured without them,
    as training without a plan does (:func:`unetlab.data.datasets.choose_target`); a boundary name
    is read of ``label_values`` (else all masks' values), not each mask's (:func:`background`).
    A pair that cannot be measured (unreadable, sizes that differ, NaN or infinite pixels, a
    mask of non-integer values, a JPEG mask) raises a DatasetError; with a ``problems`` list
    its problem is added there instead and the pair left out, so that every file's problem
    is found."""
    if target not in TARGETS:
        raise UnetlabError(unknown_choice("data.target", target, TARGETS))
    reader = _KeptRows(channel, exclude_rows, nodata)  # data.channel: that one measured
    invalid_of = InvalidPages(reader)
    ids = _IDS[target]
    known = target != "auto" and label_values is not None  # the classes, before any mask
    how = dict(ignore_value=ignore_value, names=names if known else None, held=label_values)
    with kept_reads():  # each file read whole once for training too (unetlab train)
        facts, measured = _measured(_spread(pairs, limit), reader, invalid_of, problems, ids, **how)
        if target == "auto":
            ids = _auto_ids(facts, measured, ignore_value, total=len(pairs))
        if not known:  # measured without names: again where they name another background
            held = label_values or sorted({v for f in facts for v in f.values})
            again = dict(instances=ids, ignore_value=ignore_value, names=names, held=held)
            facts = _measure_objects(measured, facts, reader, invalid_of, **again)
    return Fingerprint(facts)


def _auto_ids(facts, measured, ignore_value: int | None, total: int) -> bool:
    """Whether ``data.target: auto`` reads the masks ``facts`` of the pairs ``measured`` as
    object ids (:func:`instance_masks`), said where the void rule decides it of ``total``."""
    masks = [_mask_values(f) for f in facts]
    folder_named = _instance_folder(measured)
    ids = instance_masks(masks, folder_named=folder_named, ignore_value=ignore_value)
    if ids and not folder_named:
        say_ids_by_void(masks, ignore_value, total=total)
    return ids


#: how each ``data.target`` measures masks: as object ids (True), classes (False), either
#: by the data set (None: :func:`instance_masks`)
_IDS = {"auto": None, "semantic": False, "instances": True}


def _set_values(pairs, reader, ignore_value: int | None) -> list[int] | None:
    """The values of the masks of ``pairs`` (but ``ignore_value``), read before they are
    measured, so that each mask is measured once with the data set's background: a crop
    without 0 before a mask with it was measured twice (review s68, order.py: 4 crops first,
    12 measurements of 8 masks). Read only while the reads are kept for the measure
    (:func:`~unetlab.data.held.reads_kept`: unetlab train), so that no mask is decoded twice
    for it; None once they are not, or where no mask holds a value. A mask that cannot be
    read or holds no whole numbers is passed over (its problem is :func:`_measured`'s to
    say); the images are not read for their nodata: a value only under it costs a mask a
    second measurement (:func:`_measure_objects`), no wrong figure."""
    values: set[int] = set()
    for pair in pairs:
        if not reads_kept():  # the budget full: the rest would be decoded twice
            return None
        try:
            mask = reader.mask_of(pair)
        except (UnetlabError, OSError, ValueError, IndexError):
            continue
        if mask.dtype.kind in "iub":
            values.update(int(v) for v in distinct_values(mask)[0] if v != ignore_value)
    return sorted(values) or None


def _measured(pairs, reader, invalid_of, problems, instances, *, ignore_value, names, held):
    """The :class:`PairFacts` of ``pairs`` read as training reads them
    (:func:`_read_as_trained`), the pairs measured (one that cannot be read is left out
    where ``problems`` collects its problem), each measured with the data set's background
    as far as read where ``held`` is unknown (:func:`_set_values`; else the values of the
    masks before: a crop without 0 after one with it takes 0 at once; review s68, each such
    crop was measured twice, 120 crops 5 s -> 12 s)."""
    facts, measured, seen = [], [], set()
    target = next(t for t, ids in _IDS.items() if ids is instances)  # a colour mask's fix
    if held is None and instances is not True:  # the set's values first: each measured once
        held = _set_values(pairs, reader, ignore_value)
    for pair in pairs:
        with keeping_open(pair.image):  # its pixels, nodata and spacing: one open
            read = _read_as_trained(pair, reader, invalid_of, problems, target)
            spacing = file_pixel_size(pair.image) if read is not None else None
        if read is None:
            continue
        image, mask, invalid = read
        guess = held if held is not None else sorted(seen) or None
        measuring = dict(ignore_value=ignore_value, names=names, invalid=invalid, held=guess)
        fact = measure_pair(
            image, mask, name=pair.mask_page, spacing=spacing, instances=instances, **measuring
        )
        seen.update(fact.values)
        bands, rows = reader.whole_mask_bands(pair)  # the page just read: no read
        facts.append(replace(fact, image=str(pair.image), bands=bands, mask_rows=rows))
        measured.append(pair)
    return facts, measured


def _spread(pairs: Sequence[Pair], limit: int) -> list[Pair]:
    """All ``pairs``, or ``limit`` of them evenly spread from the first to the last."""
    if len(pairs) <= limit:
        return list(pairs)
    return [pairs[i] for i in np.linspace(0, len(pairs) - 1, limit).astype(int)]


def _read_as_trained(pair: Pair, reader, invalid_of, problems: list[str] | None, target: str):
    """(image as training sees it, mask, nodata pixels or None) of ``pair``; None when it
    cannot be measured and ``problems`` collects why (else that raises a DatasetError); a
    colour mask told the fix of the reader ``target`` gives it
    (:func:`~unetlab.data.colour_masks.mask_said`: a colour instance mask was told a class
    mask's, s57)."""
    try:
        image, mask = reader(pair)
        invalid = invalid_of(pair)
        found = _pair_problems(pair, image, mask, invalid)
        image = _as_trained(image, invalid)
    except UnetlabError as exc:
        found = [mask_said(exc, pair.mask, target)]
    if found and problems is None:
        raise DatasetError("; ".join(found))
    if found:
        problems += [p for p in found if p not in problems]  # a stack's file once
        return None
    return image, mask, invalid


class _KeptRows(PairReader):
    """A :class:`PairReader` of each page's rows outside ``rows`` (``data.exclude_rows``)."""

    def __init__(self, channel: int | None, rows, nodata="auto"):
        super().__init__(channel, nodata=nodata)
        self.rows = check_exclude_rows(rows)

    def stack(self, path, *, mask: bool, axes: str | None = None, channels=None) -> np.ndarray:
        pages = super().stack(path, mask=mask, axes=axes, channels=channels)
        if not self.rows:
            return pages
        top, bottom = excluded_rows(self.rows, pages.shape[1], str(path))
        return pages[:, top : pages.shape[1] - bottom]

    def whole_mask_bands(self, pair: Pair) -> tuple[tuple[tuple[str, int, int], ...], int]:
        """(:attr:`PairFacts.bands`, rows) of ``pair``'s mask page as stored, all its rows:
        the file this reader read last, held."""
        mask = super().stack(pair.mask, mask=True, axes=pair.axes)[pair.mask_index]
        bands = tuple((edge, v, n) for edge, (v, n) in edge_bands(mask).items())
        return bands, mask.shape[0]


def instance_masks(
    masks: Sequence[MaskValues], *, folder_named: bool = False, ignore_value: int | None = None
) -> bool:
    """Whether a data set's masks (``masks``: those of each page) hold object ids: the rule
    for ``data.target: auto``, with a plan (:func:`fingerprint`) and without one
    (:func:`unetlab.data.datasets.choose_target`).

    Never for masks that look like a blurred 2-class mask (:func:`lossy_problem`: training
    refuses them as classes); else for a mask with more than :data:`INSTANCE_VALUES` values,
    or by :func:`unetlab.data.instances.looks_like_instances` (``folder_named``: the masks
    sit in a folder named ``instances/``; its per-file rule reads each mask's objects).
    ``ignore_value`` and negative values are left out (:meth:`MaskValues.labelled`): 0/1
    masks with unlabelled regions read as ids, s58), and so is a 255 beside class indices
    (:func:`~unetlab.data.void_mark.void_beside`: 16-bit 0/1 masks with 255 regions read as
    ids, s58).
    """
    masks, counts = labelled_pages(masks, ignore_value)
    if _looks_lossy(counts, ramp_share(masks)):
        return False
    if any(len(m.values) > INSTANCE_VALUES for m in masks):
        return True
    files = [(_object_values(m), m.objects) for m in masks]
    wide = any(m.wide for m in masks)
    return looks_like_instances(sorted(counts), wide=wide, folder_named=folder_named, files=files)


def labelled_pages(
    masks: Sequence[MaskValues], ignore_value: int | None
) -> tuple[list[MaskValues], dict[int, int]]:
    """The pages ``masks`` less ``ignore_value`` and negative values
    (:meth:`MaskValues.labelled`), and less ``VOID`` where it lies beside class indices
    (:func:`~unetlab.data.void_mark.void_beside`, the plan's void rule): not where an
    ``ignore_value`` is set (255 is then a class or an id, as the plan reads it); and their
    :func:`pixel_counts`, counted once (s59: twice, again where void is left out). 16-bit masks
    of 0..15 beside a 255 are 16 classes with void, as 16-bit ids 1..15 beside a 255 read
    too: the count of values cannot tell them apart, and one region per value is said,
    never decided on (:func:`~unetlab.data.instances.one_object_per_value`; s59 review C:
    a first rule by the count read 16 classes with void as ids)."""
    masks = [m.labelled(ignore_value) for m in masks]
    counts = pixel_counts(masks)
    if ignore_value is not None or void_beside(counts) is None:
        return masks, counts
    counts.pop(VOID)  # labelled(VOID) leaves out VOID alone: negatives are gone already
    return [m.labelled(VOID) for m in masks], counts


def ids_by_void(masks: Sequence[MaskValues], ignore_value: int | None) -> int:
    """How many of the pages ``masks`` hold ``VOID`` where their reading as object ids
    (:func:`instance_masks`) rests on it: ``ignore_value`` is set, so the void rule
    is not applied (:func:`labelled_pages`), 255 lies beside class indices
    (:func:`~unetlab.data.void_mark.void_beside`), and left out as void it leaves classes
    (16-bit masks of one region a class holding 255 in some files read as ids by file with
    no word, s59); 0 where the reading does not rest on it. Said, never decided on: with
    ``ignore_value`` set, 255 is a class or an id, as the plan reads it."""
    if ignore_value is None or ignore_value == VOID:
        return 0
    if not instance_masks(masks, ignore_value=ignore_value):
        return 0
    labelled = [m.labelled(ignore_value) for m in masks]
    if void_beside(pixel_counts(labelled)) is None:
        return 0
    if instance_masks([m.labelled(VOID) for m in labelled]):
        return 0
    return sum(VOID in m.values for m in labelled)


def ids_by_void_line(held: int, pages: int, ignore_value: int, total: int = 0) -> str:
    """The line of masks read as ids by a 255 in ``held`` of ``pages`` (:func:`ids_by_void`),
    naming the semantic target as the caller sets it (:data:`TARGET_SEMANTIC`); ``total``:
    the data set's pairs, where only ``pages`` of them were measured (the plan's sample read
    as if of every mask, s61)."""
    of = f"the {pages} masks measured (of {total})" if total > pages else f"{pages} masks"
    return (
        f"the masks read as object ids only by mask value {VOID}, in {held} of {of}: "
        f"{said_as(ignoring(ignore_value))} keeps {VOID} from being read as void; read as "
        f"void, they would be classes; if they are, {said_as(TARGET_SEMANTIC)} ({VOID} then "
        f"trains as a class; to count it nowhere, mark those pixels {ignore_value} in the masks)"
    )


def say_ids_by_void(masks: Sequence[MaskValues], ignore_value: int | None, total: int = 0) -> None:
    """Say :func:`ids_by_void_line` where the pages ``masks``, read as object ids, are so
    by their 255 alone: once a call (:func:`~unetlab.data.read_notes.note_once`), wherever
    ``data.target`` auto is decided (the plan's :func:`fingerprint`, training's
    :func:`~unetlab.data.datasets.choose_target` without one; each fold of ``train --folds``
    decides again). The plan's reading went unsaid, s60. ``total``: the pairs ``masks``
    were measured from, where they are a sample (:func:`ids_by_void_line`)."""
    if held := ids_by_void(masks, ignore_value):
        note_once(ids_by_void_line(held, len(masks), ignore_value, total), key=IDS_BY_VOID)


#: the key of :func:`say_ids_by_void`'s line: one a call, whichever route decides first
IDS_BY_VOID = "masks read as ids by 255"

#: the semantic target as the caller sets it (:func:`said_as`: fit in a notebook was told the
#: command line's ``data.target=semantic``, s53); the instance one is :data:`TARGET_INSTANCES`
TARGET_SEMANTIC = set_to("data.target", "semantic")

#: how training's masks are read as object ids, as :func:`object_ids_note` says it to its
#: caller (:func:`said_as`: fit in a notebook was told ``--set data.target=instances``, s53)
TARGET_INSTANCES = set_to("data.target", "instances")


def object_ids_note(
    masks: Sequence[MaskValues], fix: str | Spelled = TARGET_INSTANCES
) -> str | None:
    """What to say of masks read as classes (``masks``: those of each page) whose values
    look like object ids all the same (:func:`~unetlab.data.instances.one_object_per_value`:
    each page at least 4 values, each one region), naming ``fix`` (training's
    ``data.target=instances``; evaluate's ``--gt-instances``), as the caller sets it where
    it is :class:`Spelled`; None for others. Said, never decided on: classes can look so
    too."""
    files = [(_object_values(m), m.objects) for m in masks]
    if not one_object_per_value(files):
        return None
    sizes = sorted({len(values) for values, _ in files})
    each = str(sizes[0]) if len(sizes) == 1 else f"{sizes[0]}-{sizes[-1]}"
    if len({frozenset(values) for values, _ in files}) == 1:
        held = f"the same {each} values, each one region (a tracked movie's ids?)"
    else:
        held = f"{each} values, each one region"
    return (
        f"they look like object ids: each of the {len(files)} masks holds {held}; if each "
        f"value is one object, {said_as(fix) if isinstance(fix, Spelled) else fix}"
    )


def one_object_each(masks: Sequence[MaskValues], *, files_least: int = 2) -> bool:
    """Whether the pages ``masks`` look like object ids as :func:`object_ids_note` says it
    (:func:`~unetlab.data.instances.one_object_per_value`: each page at least 4 values, each
    one region), in ``files_least`` pages or more."""
    files = [(_object_values(m), m.objects) for m in masks]
    return one_object_per_value(files, files_least=files_least)


def pixel_counts(masks: Iterable[MaskValues | PairFacts]) -> dict[int, int]:
    """The pixels per value of all ``masks``."""
    counts: dict[int, int] = {}
    for m in masks:
        for value, count in zip(m.values, m.counts):
            counts[value] = counts.get(value, 0) + count
    return counts


def ramp_share(masks: Iterable[MaskValues | PairFacts]) -> float | None:
    """The share of all ``masks``' pixels between their least and greatest value that lie on
    a ramp (:func:`~unetlab.data.softedges.ramp_pixels`); None where none was measured."""
    masks = list(masks)
    between = sum(m.between for m in masks)
    return sum(m.ramp for m in masks) / between if between else None


def lossy_problem(counts: dict[int, int], ramp: float | None = None) -> str | None:
    """The problem of masks whose pixel ``counts`` per value, and ``ramp`` (their
    :func:`ramp_share`; None: not measured), look like a blurred, resized or
    JPEG-compressed 2-class mask, or None."""
    if not (lossy := _looks_lossy(counts, ramp)):
        return None
    a, b, share = lossy
    values = sorted(counts)  # 16 or more
    shown = ", ".join(map(str, values[:4])) + ", ..., " + ", ".join(map(str, values[-4:]))
    return (
        f"masks have {len(values)} distinct values ({shown}) but {share:.1%} of the pixels are "
        f"{a} or {b}: the values between look like blur, resizing or JPEG compression of a "
        f"2-class mask; threshold the masks to those two values, or {said_as(CLASS_VALUES)} "
        f"if the values are real classes ({said_as(TARGET_INSTANCES)} if each value is one "
        "object)"
    )


#: the least share of a lossy mask's pixels at its two values where no ramps were measured: a
#: 0/255 mask of nuclei 10-30 px across resized or drawn with a soft brush keeps 93-94%
LOSSY_SHARE = 0.85
#: the least :func:`ramp_share` of a lossy mask: blurred or resized 0/255 masks 97-99%, JPEG
#: 47-56%; object ids (Kromp, random discs, the demo's) at most 0.6% (bench/README.md)
RAMP_SHARE = 0.25


def _looks_lossy(counts: dict[int, int], ramp: float | None = None) -> tuple | None:
    """(a, b, share) of masks whose values look like a blurred 2-class mask of a < b
    (``share``: the pixels at a or b), else None. Where ``ramp`` (the :func:`ramp_share`) is
    measured: at least 8 values, the commonest the least or the greatest (a, b), and at
    least :data:`RAMP_SHARE` of the values between on ramps; else (None): at least 16
    values, the two commonest the least and greatest, with :data:`LOSSY_SHARE` of the
    pixels. Shares alone cannot tell ids whose largest object has the last id (92% at 0 or
    the last) from thin membranes blurred (ISBI, sigma 0.7: 73%; blur tails make 254 more
    common than 0); ramps can. A labelled mask's ids 0..n, n < 255, every one present, are
    never lossy (audit s41 review)."""
    if len(counts) < (16 if ramp is None else 8):  # a mask of 0/255 resized 2x: 12 values
        return None
    a, b = min(counts), max(counts)
    if b - a < 255 and len(counts) == b - a + 1:  # ids a+1..b-1, none missing: no 0/255 blur
        return None
    share = (counts[a] + counts[b]) / sum(counts.values())
    top = sorted(counts, key=counts.get, reverse=True)[:2]
    if ramp is not None:
        lossy = top[0] in (a, b) and ramp >= RAMP_SHARE
    else:
        lossy = sorted(top) == [a, b] and share >= LOSSY_SHARE
    return (a, b, share) if lossy else None


def _object_values(m: MaskValues) -> list[int]:
    keep = background(m.values, m.counts)
    return [v for v in m.values if v != keep]


def _mask_values(p: PairFacts) -> MaskValues:
    """A page's :class:`MaskValues` from its facts measured by ``data.target: auto`` (its
    objects' values where it was measured as classes, else one object per value)."""
    keep = background(p.values, p.counts)
    if p.instances:
        regions = tuple(int(v != keep) for v in p.values)
    else:  # counted in one pass (a scan of all its objects per value was)
        objects = collections.Counter(p.object_values)
        regions = tuple(objects[v] for v in p.values)
    return MaskValues(p.values, p.counts, regions, p.wide_mask, p.between, p.ramp)


def _instance_folder(pairs: Sequence[Pair]) -> bool:
    return any(holds_object_ids(p.mask) for p in pairs)


def _measure_objects(
    pairs: Sequence[Pair],
    facts: Sequence[PairFacts],
    reader: PairReader,
    invalid_of: InvalidPages,
    *,
    instances: bool,
    ignore_value: int | None = None,
    names: Mapping[int, str] | None = None,
    held: Sequence[int] | None = None,
) -> list[PairFacts]:
    """``facts`` (measured without ``names``, each with its ``background``) with the
    objects of each mask measured again where ``instances`` differs from how they were
    measured, or where ``names`` or the data set's mask values ``held`` give another
    background (:func:`background`; masks only; the ``invalid_of`` pixels, nodata, as
    :func:`measure_pair`)."""
    out = []
    for pair, f in zip(pairs, facts):
        keep = background(f.values, f.counts, None if instances else names, ignore_value, held)
        if f.instances != instances or keep != f.background:
            mask = reader.mask_of(pair)
            bad = invalid_of(pair)
            facts = labelled_object_facts(
                mask, ignore_value, keep, instances=instances, invalid=bad
            )
            f = replace(f, background=keep, **facts)
        out.append(f)
    return out


def jpeg_mask(path: Path) -> str | None:
    """The problem of a JPEG mask file (lossy: its class edges get values between the
    classes, which would be measured and trained as classes), or None."""
    if Path(path).suffix.lower() not in LOSSY_SUFFIXES:
        return None
    return f"{path}: JPEG masks are lossy (edges get values between the classes); save masks as PNG"


def _pair_problems(pair: Pair, image: np.ndarray, mask: np.ndarray, invalid=None) -> list[str]:
    found = [
        nonfinite_pixels(pair.image_page, image, invalid=invalid),
        jpeg_mask(pair.mask)  # the file: one line for all its pages
        or non_integer_mask(str(pair.mask), mask),
    ]
    return [p for p in found if p is not None]


def _as_trained(image, invalid) -> np.ndarray:
    """``image`` with its ``invalid`` (nodata) pixels as training sees them: filled with its
    valid mean (the mask's are left out by :func:`measure_pair`)."""
    if invalid is None or not invalid.any():
        return image
    return filled(image, invalid)


#: the foreground values of a binary mask's encodings: 0/1 (a boolean mask), 0/255, 0/65535
BINARY_FOREGROUNDS = (1, 255, 65535)


def binary_foreground(values: Iterable[int]) -> int | None:
    """The foreground value of a binary mask that holds ``values`` (0 and one of
    :data:`BINARY_FOREGROUNDS`: 1 of a 0/1 mask), else None: the one rule of masks that mix
    encodings, of a data set (:func:`mixed_encodings`) and of evaluate's masks, one by one
    (:func:`unetlab.evaluate.masks.checked_masks`)."""
    held = {int(v) for v in values} - {0}
    return held.pop() if len(held) == 1 and held <= set(BINARY_FOREGROUNDS) else None


def mixed_encodings(pairs: Sequence[PairFacts]) -> list[str]:
    """Problems when binary masks disagree on their foreground value: some files 0/1, others
    0/255 (or 0/65535). A file holding both values (three classes) is no contradiction."""
    by_value: dict[int, list[str]] = {}
    for p in pairs:
        if (top := binary_foreground(p.values)) is not None and not p.instances:
            by_value.setdefault(top, []).append(p.name)
    if len(by_value) < 2:
        return []
    parts = [
        f"0/{v} in {numbered(len(names), 'file')} ({_names(sorted(names))})"
        for v, names in sorted(by_value.items())
    ]
    return [f"masks mix encodings: {'; '.join(parts)}: re-save them with one foreground value"]


def lonely_classes(
    pairs: Sequence[PairFacts],
    *,
    ignore_value: int | None = None,
    declared: Collection[int] = (),
    value_name: Callable[[int, str], str] | None = None,
    naming: Callable[[int], str] | None = None,
) -> list[str]:
    """Problems for mask values found in only one file of three or more (a stray value, or a
    file in another encoding), for stray values in more files (:func:`stray_values`), and
    for an ``ignore_value`` no mask can hold (:func:`ignore_value_problem`). Instance masks
    are exempt (their ids differ per file), and so are the ``declared`` values (the classes
    the data set names: a rare class is no stray). ``value_name(value, mask file)`` says a
    value (``mask value 11``, by default; with its palette colour in the plan's checks);
    ``naming(value)`` how to name it a class (:func:`names_fix`, by default; beside a colour
    table, :meth:`~unetlab.data.colour_table.ColourTable.naming_fix`)."""
    value_name, naming = value_name or _plain_value, naming or names_fix
    problems = [p for p in [ignore_value_problem(pairs, ignore_value)] if p]
    if any(p.instances for p in pairs):
        return problems
    skip = {ignore_value, *declared}
    negative = [(v, p.name) for p in pairs for v in p.values if v < 0 and v not in skip]
    problems += _negative_lines(negative, ignore_value)
    problems += [
        f"{value_name(v, name)} is found in one file only ({name}): {_lonely_fix(v, naming)}"
        for v, name in one_file_values((p.name, p.values) for p in pairs).items()
        if v >= 0 and v not in skip
    ]
    skip |= {v for v, _ in negative}
    return problems + stray_values(pairs, skip=skip, value_name=value_name, naming=naming)


def _negative_lines(found: list[tuple[int, str]], ignore_value: int | None) -> list[str]:
    """The line for the mask files of ``found`` (value, file) holding negative values, which
    are no class index but the mark of pixels left unlabelled (s51 walkbad: a -1 was told to
    be named a class, never data.ignore_value; in two files of four it trained as class -1,
    s57): :func:`negative_values_line`, as weightmap and instances say it, with the ignore
    value's setting as the caller spells it (:func:`ignoring`); none where nothing is found."""
    if not found:
        return []
    files = list(dict.fromkeys(name for _, name in found))
    values = sorted({v for v, _ in found})
    otherwise = lambda one: "fix those masks" if len(files) > 1 else "fix that mask"  # noqa: E731
    how = dict(ignore_setting=ignoring, given=ignore_value)
    line = negative_values_line(_names(files), values, NO_CLASS_INDEX, otherwise, **how)
    return [said_as(Spelled(line["message"], line["cli"]))]


def _lonely_fix(value: int, naming: Callable[[int], str]) -> str:
    """The fix of mask ``value`` (not negative: :func:`_negative_lines`) found in one file
    only: a stray, a rare class or an object id."""
    return (
        f"fix that mask, {naming(value)} or keep it as a class ({said_as(CLASS_VALUES)}, each "
        f"class's value), or {said_as(TARGET_INSTANCES)} if each value is one object"
    )


#: the classes' values set, as the caller sets them (:func:`said_as`: a list of problems told
#: both the bare keys "set data.label_values ..., or data.target=instances", s57)
CLASS_VALUES = set_to("data.label_values", Blank("[...]"))
#: the setting that names the value of unlabelled pixels, as the caller sets it (:func:`said_as`:
#: plan_training in a notebook was told ``--set data.ignore_value=V``, s53)
SOME_IGNORE_VALUE = set_to("data.ignore_value", Blank("V"))


def names_fix(value: int) -> str:
    """How the lines say to name mask ``value`` as a class: by line number where it is one
    of a few lines' (class_names.txt's line i names value i), else by VALUE NAME lines
    (255 would take 256 lines)."""
    if value < 16:
        return "name the classes in class_names.txt (line i names value i)"
    return f"name the classes in class_names.txt with each line as VALUE NAME (e.g. '{value} NAME')"


def _plain_value(value: int, _file: str) -> str:
    return f"mask value {value}"


def one_file_values(files: Iterable[tuple[str, Iterable[int]]]) -> dict[int, str]:
    """``{value: the file}`` of the mask values found in one of ``files`` only (``(name,
    the values its mask holds)``), in value order, where there are three files or more (of
    two, which is odd cannot be told): a stray value, or a file in another encoding (0/255
    among 0/1 masks). Training refuses them (:func:`lonely_classes`), evaluate those that
    are no class of the predictions."""
    files = list(files)
    if len(files) < 3:
        return {}
    holders: dict[int, list[str]] = {}
    for name, values in files:
        for value in values:
            holders.setdefault(int(value), []).append(name)
    return {v: names[0] for v, names in sorted(holders.items()) if len(names) == 1}


#: a value in at most a quarter of the files, with at most this many pixels in each, and at
#: least ``STRAY_RATIO`` times fewer pixels in all than every other value, looks like a stray
#: mark (a 3x3 patch of value 7 in 2 of 12 masks; a rare class of the audit's data, 0.1 % of
#: the pixels, has ~29 px in each of 7 of 12 files, and 8 % of the pixels of the next rarest)
STRAY_PX = 16
STRAY_RATIO = 10


def stray_values(
    pairs: Sequence[PairFacts],
    *,
    skip: Collection = (),
    value_name: Callable[[int, str], str] = _plain_value,
    naming: Callable[[int], str] | None = None,
) -> list[str]:
    """Problems for mask values in two or more files, but no more than a quarter of them,
    with a few pixels in each (at most ``STRAY_PX``) and ``STRAY_RATIO`` times fewer in all
    than every other value: a stray
    value becomes a class, and the plan tunes the loss to it. The ``skip`` values (the
    ignore value, the named classes) are exempt."""
    per_file: dict[int, list[tuple[str, int]]] = {}
    for p in pairs:
        for value, count in zip(p.values, p.counts):
            per_file.setdefault(value, []).append((p.name, count))
    totals = {v: sum(c for _, c in held) for v, held in per_file.items()}
    problems = []
    for v, held in sorted(per_file.items()):
        others = [t for u, t in totals.items() if u != v]
        if not 2 <= len(held) <= len(pairs) / 4 or v in skip or not others:
            continue
        if max(c for _, c in held) > STRAY_PX or totals[v] * STRAY_RATIO > min(others):
            continue
        least = min((u for u in totals if u != v), key=totals.get)
        problems.append(
            f"{value_name(v, held[0][0])} has a few pixels in each of the {len(held)} files "
            "that hold it "
            f"({_names([f'{n}: {c} px' for n, c in held])}; {totals[v]} px in all, against "
            f"{totals[least]} px of the rarest other value, {least}): a stray value would "
            f"train as a class: fix those masks, or {said_as(ignoring(v))} to leave its "
            f"pixels out; to keep it as a class, {(naming or names_fix)(v)} or "
            f"{said_as(_with_class(totals, v))}"
        )
    return problems


def _with_class(totals: Mapping[int, int], value: int) -> Spelled:
    """``data.label_values`` set to the mask values of ``totals`` (no negative one: no class
    index), ``value`` among them, as the caller sets it (a bare "or set data.label_values"
    ended the stray line, s58)."""
    return set_to("data.label_values", sorted(v for v in {*totals, value} if v >= 0))


def ignoring(value: int) -> Spelled:
    """``data.ignore_value`` set to mask value ``value``, as Python and the command line set
    it (:func:`~unetlab.errors.set_to`), for a line that :func:`said_as` says (a
    notebook's plan_training was told the command line's ``data.ignore_value=7``, s53; and
    ``--set data.ignore_value=0``, s52)."""
    return set_to("data.ignore_value", value)


def ignore_value_problem(pairs: Sequence[PairFacts], ignore_value: int | None) -> str | None:
    """The problem of an ``ignore_value`` outside the range of the masks' values (0-255
    when every mask has 8 bits, 0-65535 for 16): no mask can hold it."""
    if ignore_value is None or not pairs:
        return None
    if ignore_value < 0 and any(p.signed_mask for p in pairs):
        return None  # an int16 mask's -1 marks unlabelled pixels (s51 walkbad)
    top = 65535 if any(p.wide_mask for p in pairs) else 255
    if 0 <= ignore_value <= top or (top == 65535 and ignore_value > top):
        return None  # a wide mask may have more than 16 bits
    bits = "16" if top == 65535 else "8"
    return (
        f"data.ignore_value={ignore_value} is outside the range of the {bits}-bit masks "
        f"(0-{top}): no mask can hold it; set the value that marks the unlabelled pixels "
        "(e.g. 255), or drop data.ignore_value"
    )


#: a value filling more than this share of every mask may mark the unlabelled pixels
FILL_SHARE = 0.5


def unlabelled_fill(pairs: Sequence[PairFacts], *, declared: Collection[int] = ()) -> str | None:
    """A line suggesting ``data.ignore_value`` for a mask value that fills more than
    ``FILL_SHARE`` of every mask and looks unlabelled: apart from the other values (255
    over classes 0, 1, 2) or, in every mask, darker than some of the other values and
    brighter than others (unlabelled pixels hold every kind of content; a background class
    is the darkest in fluorescence, the brightest in bright-field). ilastik exports labels
    with 0 = unlabelled and classes from 1. None: no such value, fewer than 3 values in all
    (a fill needs two classes beside it), or the value is ``declared`` (a named class).
    A warning, not a refusal: a real background class can fill most of every mask too
    (dense nuclei masks: 74-92 %)."""
    v = fill_value(pairs)
    if v is None or v in declared:
        return None
    apart = v > max(u for p in pairs for u in p.values if u != v) + 1
    held = [s[v] for s in map(_shares, pairs) if v in s]
    low, high = min(held), max(held)
    how = (
        "apart from the other values"
        if apart
        else "the image under it brighter than under one class and darker than under another"
    )
    span = f"{low:.0%}" if f"{low:.0%}" == f"{high:.0%}" else f"{low:.0%}-{high:.0%}"
    where = (
        "every mask"
        if len(held) == len(pairs)
        else f"{len(held)} of {len(pairs)} masks (the others have none)"
    )
    return (
        f"mask value {v} fills {span} of {where}, {how}: if it marks "
        "unlabelled pixels (scribbles, partial labels; ilastik's label export: 0 = "
        f"unlabelled), {said_as(ignoring(v))}; else it trains as a class"
    )


def fill_value(pairs: Sequence[PairFacts]) -> int | None:
    """The mask value that looks like the unlabelled pixels (:func:`unlabelled_fill`'s
    rule, whatever the classes' names), or None."""
    values = sorted({v for p in pairs for v in p.values})
    if len(values) < 3 or any(p.instances for p in pairs):
        return None
    shares = [_shares(p) for p in pairs]
    fill = [v for v in values if _fills(v, shares)]
    if not fill:
        return None
    v = fill[0]
    apart = v > max(u for u in values if u != v) + 1
    return v if apart or all(_between(p, v) for p in pairs if v in p.values) else None


def _shares(p: PairFacts) -> dict[int, float]:
    return dict(zip(p.values, np.divide(p.counts, max(sum(p.counts), 1))))


def _fills(v: int, shares: list[dict[int, float]]) -> bool:
    """Whether ``v`` fills more than ``FILL_SHARE`` of every mask that holds it, and half
    the masks or more hold it (a few fully labelled masks among sparse ones have none)."""
    holding = [s[v] for s in shares if s.get(v, 0) > 0]
    return 2 * len(holding) >= len(shares) and all(share > FILL_SHARE for share in holding)


def _between(p: PairFacts, v: int) -> bool:
    """Whether value ``v``'s mean grey level in pair ``p`` lies strictly between those of
    two of its other values (False: not measured, or fewer than two other values)."""
    if len(p.value_means) != len(p.values) or v not in p.values:
        return False
    means = dict(zip(p.values, p.value_means))
    others = [m for u, m in means.items() if u != v]
    return len(others) >= 2 and min(others) < means[v] < max(others)


def too_small(pairs: Sequence[PairFacts], min_size: int, fix: str) -> list[str]:
    """Problems for images with a side below ``min_size`` px (the net's smallest input)."""
    small = [f"{p.name} ({p.width}x{p.height})" for p in pairs if min(p.height, p.width) < min_size]
    if not small:
        return []
    return [
        f"{numbered(len(small), 'image')} smaller than the net's {min_size} px minimum (width x "
        "height: "
        f"{_names(small)}): {fix}"
    ]


def _names(names: Sequence[str], keep: int = 3) -> str:
    shown = ", ".join(os.fspath(n) for n in names[:keep])
    return shown + (f" and {len(names) - keep} more" if len(names) > keep else "")
