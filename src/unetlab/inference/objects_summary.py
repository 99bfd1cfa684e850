"""The per-image table of a folder predicted with objects: ``objects_summary.csv`` in the
output folder, one row per input in input order (audit s33 plates 1, 3, 5: a plate's
per-well counts were in no file, failed wells left no trace, and a ``--skip-existing``
rerun's total covered only the images it predicted).

Each row: the input's ``image`` name; its ``status``: ``done`` (predicted by this run),
``skipped-existing`` (its outputs from an earlier run, read back from its
``<stem>_objects.csv``), ``earlier-run`` (an input of an earlier run into the same folder,
not one of this run's, whose objects table is there: :func:`earlier_inputs`; its rows come
first) or ``failed`` (with the one-line ``reason``); its ``objects`` and
their ``total_area`` and ``mean_area`` in pixels (and ``total_area_um2``,
``mean_area_um2`` where its table has a pixel size; a map's ``_m2``); ``saturated_objects``
(objects with :data:`~unetlab.inference.table_extras.SATURATED_SHARE` or more of their
pixels at the image's ceiling: :mod:`unetlab.inference.table_extras`); ``focus`` and
``focus_vs_median`` (:func:`focus_measure` near the objects, none for an image without
any, and its ratio to the median of the folder's images of its ``image_size``, the
(height, width) of its pages, kept in the rows returned: an out-of-focus well has fewer,
larger objects); a semantic model's ``objects_<class>``; the ``scale`` each input was predicted
at (1: no rescale; ``--scale auto``: its own, a position's its own; empty for an earlier
run's input whose record is not found). A stack (a time-lapse, a z-stack) has one
row per frame or plane instead, each led by its ``page``, ``t``, ``t_s``, ``z``, ``z_um`` as
in its objects table, those without objects too (audit s34 stacks 6: a movie's row summed
its frames, 199 "objects" for ~15 nuclei, and a dark frame was in no table); its ``focus``
is the frame's or plane's. A stack's 3-D objects (``--objects-3d``: a table of
``volume``, no ``page``) have one row per stack, or per frame of a movie (its ``t``), with
``total_volume``, ``mean_volume`` (and ``_um3``), the focus the median of its planes' (near
the parts of its objects in each: :func:`plane_boxes`). A multi-position OME-TIFF has the rows of each position
(:mod:`unetlab.data.positions`), each led by its ``position`` (0-based, as its outputs'
``_pos`` names) and ``position_name`` (its OME Image name). Everything is read from
the folder's tables and the inputs, so a rerun's rows are the same whichever run
predicted an image.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import logging
import os
import statistics
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.data.read_notes import note_once
from unetlab.errors import UnetlabError
from unetlab.inference.measure import INTENSITY_MEASURES, MAP_CENTROIDS, UNITS, named_class
from unetlab.inference.table_extras import SATURATED_SHARE, image_ceilings
from unetlab.words import numbered

__all__ = [
    "DONE",
    "EARLIER",
    "FAILED",
    "PLANE_COLUMNS",
    "SKIPPED",
    "SUMMARY",
    "UNITLESS",
    "by_position",
    "claim_summary",
    "focus_measure",
    "drop_stale_summary",
    "earlier_inputs",
    "folder_summary",
    "image_focus",
    "image_key",
    "object_boxes",
    "page_figures",
    "page_focus",
    "page_nouns",
    "plane_name",
    "plane_rows",
    "stack_planes",
    "say_units",
    "summary_lines",
    "table_columns",
    "units_gathered",
    "units_line",
    "table_figures",
    "write_summary",
]

log = logging.getLogger(__name__)

#: the columns :func:`say_units` gathers within :func:`units_gathered` (None: said at once)
_GATHERED: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "units_gathered", default=None
)

#: the per-image table's name in the output folder
SUMMARY = "objects_summary.csv"
#: the columns of the objects tables (and the per-image table) that have no unit: shares,
#: ratios and scores, named as such by :func:`units_line`
UNITLESS = (
    "circularity",
    "solidity",
    "saturated_fraction",
    "focus",
    "focus_vs_median",
    "scale",
)
#: the pixel columns of the tables: (the columns, their kind's words in :func:`units_line`)
_IN_PIXELS = (
    ({"area", "total_area", "mean_area"}, "areas in px²"),
    ({"volume", "total_volume", "mean_volume"}, "volumes in voxels"),
    (
        {"centroid_y", "centroid_x", "bbox_top", "perimeter", "major_axis_length"},
        "positions and lengths in px",
    ),
)
#: the columns along z of a stack's tables, in planes (0-based; ``planes``: a 3-D object's
#: extent), in the order :func:`units_line` names them (their ``_um``: the z spacing's unit)
IN_PLANES = ("z", "centroid_z", "z_first", "z_last", "planes")
DONE, SKIPPED, FAILED = "done", "skipped-existing", "failed"
#: the status of an earlier run's input (not this run's) whose objects table is in the folder
EARLIER = "earlier-run"
#: an image whose focus is under this share of the folder's median is named (out of focus?):
#: the audit's plate: blurred wells 0.10-0.17x, every sharp one 0.95x or more
BLUR_SHARE = 0.5
#: the fewest images with a focus measure that make a folder's median worth comparing to:
#: the median is an in-focus image's where most are in focus. Measured near the objects,
#: away from saturated pixels, the audit's 86 sharp wells read 0.95-1.07x the plate's
#: median, its 4 debris wells 0.99-1.04x, a 2-nucleus well 1.00x, 2 empty wells none: of
#: 20,000 random draws each of 3, 4, ... 8 wells with under half of them blurred, every
#: blurred well read under 0.5x and no other under 0.91x (was 8: the empty wells' noise
#: and the debris read 2-8x and moved the median)
FOCUS_IMAGES = 3
#: images whose objects' sizes across (the root of their mean area) lie this many times
#: apart or more are of mixed magnification (as the plan's tile line says): each image's
#: focus is compared only with those of objects within LIKE_ACROSS x of its own
MIXED_ACROSS = 4.0
#: the fewest images at each end of that range that make it a magnification's, not one
#: image's oddity (an empty well's few specks)
MIXED_END = 2
LIKE_ACROSS = 2.0
#: the focus is measured within this many pixels of the objects' boxes (a blurred edge
#: spreads past the object the model found)
FOCUS_MARGIN = 8
#: images of more pixels than this get no focus measure (a slide: not read again whole),
#: nor those of more samples (pixels times channels) than an RGB image of as many pixels
#: (a 4,096² multiplexed OME-TIFF of 24 channels was read again whole, 2.8 GB: s69)
FOCUS_PIXELS = 2**24
#: more images than this: the total line adds the range and median per image
RANGE_IMAGES = 20
#: images named in a line, at most
NAMED = 5


def focus_measure(image: np.ndarray, boxes: np.ndarray | None = None) -> float | None:
    """How sharp ``image`` ((H, W) or (H, W, C), any dtype) is: the variance of the 3x3
    Laplacian of the image binned 2x2 (which averages pixel noise out), over the binned
    image's own variance, of the mean of its channels, within :data:`FOCUS_MARGIN` px of
    the objects' ``boxes`` ((N, 4): top, left, bottom, right, the last two past the object,
    as the objects table's ``bbox_`` columns; None: the whole image) and away from pixels at
    the image's ceiling (:func:`~unetlab.inference.table_extras.image_ceilings`: a clipped
    blob's edge is no focus). It does not change with brightness or offset (a dim well
    scores as its bright neighbour), and falls as blur removes fine detail (the audit's
    plate: blurred wells 0.10-0.17x the folder's median, sharp ones 0.95x or more). None
    for no ``boxes`` (an empty field: its camera noise would score as sharp), a constant
    image, or one under 8 px a side. About 1 ms CPU for 540x540 px."""
    x = np.asarray(image, np.float32)
    if x.ndim == 3:
        x = x.mean(axis=2)
    h, w = (x.shape[0] // 2) * 2, (x.shape[1] // 2) * 2
    if min(h, w) < 8 or (boxes is not None and len(boxes) == 0):
        return None
    y = _binned(x[:h, :w])
    region = _focus_region(np.asarray(image)[:h, :w], boxes)
    noise = _noise_variance(y, None if boxes is None else ~_near_boxes(y.shape, boxes))
    laplacian = y[1:-1, :-2] + y[1:-1, 2:] + y[:-2, 1:-1] + y[2:, 1:-1] - 4 * y[1:-1, 1:-1]
    if region is not None:
        region = region[1:-1, 1:-1]
        y, laplacian = y[1:-1, 1:-1][region], laplacian[region]
    variance = float(y.var(dtype=np.float64)) - noise if y.size else 0.0
    if not variance > max(noise, 0.0):  # no more signal than noise: nothing to measure
        return None
    # white noise of variance v gives the Laplacian 20 v (its weights' squares: 16 + 4 x 1)
    return max(float(laplacian.var(dtype=np.float64)) - 20 * noise, 0.0) / variance


def _noise_variance(y: np.ndarray, background: np.ndarray | None) -> float:
    """The variance of the pixel noise of the binned image ``y``, taken off both terms of
    :func:`focus_measure` so that a frame dimmed over the same camera noise (a bleaching
    time-lapse) scores as it did bright (audit s37 timelapse: a movie's first, brightest
    28 frames read 0.35x its median, "out of focus?"). Immerkaer's estimate: the median
    response, over ``background`` (the pixels away from the objects; None: all), of the
    3x3 filter that a smooth image does not move (its weights' squares sum to 36); 0 where
    the background is under a tenth of the image."""
    k = y[:-2, :-2] + y[:-2, 2:] + y[2:, :-2] + y[2:, 2:] + 4 * y[1:-1, 1:-1]
    k -= 2 * (y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:])
    if background is not None:
        background = background[1:-1, 1:-1]
        if background.sum() < 0.1 * background.size:
            return 0.0
        k = k[background]
    if k.size == 0:
        return 0.0
    sigma = float(np.median(np.abs(k))) / 0.6745 / 6.0  # the median |N(0, 1)| is 0.6745
    return sigma**2


def _binned(x: np.ndarray) -> np.ndarray:
    """``x`` ((H, W), even sides) summed over 2x2 blocks."""
    return x[::2, ::2] + x[1::2, ::2] + x[::2, 1::2] + x[1::2, 1::2]


def _focus_region(image: np.ndarray, boxes: np.ndarray | None) -> np.ndarray | None:
    """Where :func:`focus_measure` measures, binned 2x2 (``image``'s sides even): near the
    ``boxes`` (None: everywhere) and 2 binned px or more from a pixel at the image's
    ceiling; None for the whole image."""
    shape = (image.shape[0] // 2, image.shape[1] // 2)
    region = None if boxes is None else _near_boxes(shape, boxes)
    clipped = _near_ceiling(image)
    if clipped is not None:
        region = ~clipped if region is None else region & ~clipped
    return region


def _near_boxes(shape: tuple[int, int], boxes: np.ndarray) -> np.ndarray:
    """The binned pixels (of a (H/2, W/2) ``shape``) within :data:`FOCUS_MARGIN` image px
    of a box of ``boxes``."""
    region, m = np.zeros(shape, bool), FOCUS_MARGIN
    for top, left, bottom, right in np.asarray(boxes, np.int64).tolist():
        rows = slice(max(top - m, 0) // 2, (bottom + m + 1) // 2)
        region[rows, max(left - m, 0) // 2 : (right + m + 1) // 2] = True
    return region


def _near_ceiling(image: np.ndarray) -> np.ndarray | None:
    """The binned pixels within 2 of one at ``image``'s ceiling in any channel
    (:func:`~unetlab.inference.table_extras.image_ceilings`); None where there are none
    (or ``image`` is not of integers)."""
    if not np.issubdtype(image.dtype, np.integer):
        return None
    planes = image[..., None] if image.ndim == 2 else image
    ceilings = image_ceilings(planes)
    clipped = [planes[..., c] == t for c, t in enumerate(ceilings) if t is not None]
    if not clipped:
        return None
    at = np.logical_or.reduce(clipped) if len(clipped) > 1 else clipped[0]
    binned = at[::2, ::2] | at[1::2, ::2] | at[::2, 1::2] | at[1::2, 1::2]
    return _grown(_grown(binned, 2).T, 2).T


def _grown(mask: np.ndarray, r: int) -> np.ndarray:
    """``mask`` (bool, 2-D) grown ``r`` px up and down its first axis."""
    out = mask.copy()
    for s in range(1, r + 1):
        out[s:] |= mask[:-s]
        out[:-s] |= mask[s:]
    return out


def object_boxes(
    path: str | os.PathLike, order: Sequence[int] | None = None
) -> dict[int, np.ndarray] | None:
    """The boxes of the objects of an objects table (a ``<stem>_objects.csv``) by page (its
    ``page`` column; 0 without one): (N, 4) int64 arrays of its ``bbox_top``,
    ``bbox_left``, ``bbox_bottom``, ``bbox_right``, less the saturated objects' (their
    ``saturated_fraction`` :data:`~unetlab.inference.table_extras.SATURATED_SHARE` or more:
    a clipped blob's edge is no focus, and a well of only debris has none); None where it
    cannot be read or lacks them. A 3-D objects table (``volume``, no boxes) gives each
    page's boxes of its objects from the ids TIFF beside it (:func:`plane_boxes`; ``order``:
    the input page of each of its pages, :func:`input_pages`)."""
    names = ["bbox_top", "bbox_left", "bbox_bottom", "bbox_right"]
    header = _header(Path(path))
    if "volume" in header and names[0] not in header:
        return plane_boxes(Path(path), order)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            columns = next(reader, [])
            at = [columns.index(c) for c in names]
            page = columns.index("page") if "page" in columns else None
            top = columns.index("saturated_fraction") if "saturated_fraction" in columns else None
            boxes: dict[int, list] = {}
            for row in reader:
                if top is not None and float(row[top] or 0) >= SATURATED_SHARE:
                    continue
                key = 0 if page is None else int(row[page])
                boxes.setdefault(key, []).append([int(float(row[i])) for i in at])
    except (OSError, ValueError, IndexError, csv.Error):
        return None
    return {k: np.array(v, np.int64) for k, v in boxes.items()}


def plane_boxes(table: Path, order: Sequence[int] | None = None) -> dict[int, np.ndarray] | None:
    """:func:`object_boxes` of a 3-D objects ``table`` (``<stem>_objects.csv`` of
    ``--objects-3d``): each page of the ids ``<stem>_objects.tif`` beside it, the boxes of
    the parts of its objects in that page (the saturated ones left out, by the table's
    ``saturated_fraction``), keyed by the input page it is of (``order``: the input page of
    each ids page, :func:`input_pages`, as ImageJ's T, Z order may not be the input's; None:
    the same); None where either cannot be read."""
    from scipy import ndimage

    from unetlab.data.io import read_stack

    ids_file = table.with_name(table.name.removesuffix(".csv") + ".tif")
    try:
        with open(table, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        saturated = {
            int(r["id"]) for r in rows if float(r.get("saturated_fraction") or 0) >= SATURATED_SHARE
        }
        pages = read_stack(ids_file, mask=True)
    except (UnetlabError, OSError, ValueError, KeyError, csv.Error):
        return None
    if order is not None and len(order) != len(pages):
        return None
    boxes = {}
    for p, page in enumerate(pages):
        found = enumerate(ndimage.find_objects(page), start=1)
        kept = [b for k, b in found if b is not None and k not in saturated]
        boxes[p if order is None else int(order[p])] = np.array(
            [[b[0].start, b[1].start, b[0].stop, b[1].stop] for b in kept], np.int64
        ).reshape(-1, 4)
    return boxes


def input_pages(image: Path | None, pages: int) -> list[int]:
    """The input page of each of the ``pages`` pages of a stack's TIFF outputs, which keep
    ImageJ's order (T, then Z): an ``image`` whose pages are in Z, T order (OME's
    DimensionOrder XYTZ, tifffile's axes ZTYX) has its pages otherwise; 0, 1, ... for
    others and for what cannot be read (its prediction says why)."""
    from unetlab.data.tiffmeta import read_page_axes

    same = list(range(pages))
    if image is None or pages < 2 or not image.is_file():
        return same
    try:
        axes = read_page_axes(image, pages, say=False)
    except (UnetlabError, OSError, ValueError):
        return same
    return [int(p) for p in axes.unfold(np.arange(pages)).ravel()]


def image_focus(path: str | os.PathLike, table: str | os.PathLike | None = None) -> float | None:
    """:func:`focus_measure` of the image file ``path`` (a stack: the median of its pages'
    :func:`page_focus`); None where :func:`page_focus` gives none, or no page has one."""
    return _median_focus(page_focus(path, table))


def _median_focus(values: list[float | None] | None) -> float | None:
    """The median of the pages' focus ``values`` that are known; None for none."""
    known = [v for v in values or [] if v is not None]
    return statistics.median(known) if known else None


def page_focus(
    path: str | os.PathLike,
    table: str | os.PathLike | None = None,
    order: Sequence[int] | None = None,
) -> list[float | None] | None:
    """:func:`focus_measure` of each page of the image file ``path``, near the objects of
    its objects ``table`` (:func:`object_boxes`, ``order`` the input page of each page of
    its ids: by default :func:`input_pages`; a page without any: None) or, without one, of
    the whole page; None: a Zarr folder, an image of more than :data:`FOCUS_PIXELS` (or
    than 3 times that in samples, its channels counted), one
    that cannot be read (its failure is the prediction's to report), or a table that
    cannot."""
    return _focus_and_size(path, table, order)[0]


def _focus_and_size(path, table=None, order=None) -> tuple[list[float | None] | None, tuple]:
    """(:func:`page_focus`, the (height, width) of the pages, () where not read): the
    header read once for both (the summary read it again for the size: s55)."""
    from unetlab.data.io import read_stack, stack_size

    path = Path(path)
    if path.is_dir():
        return None, ()
    try:
        pages, h, w, c = stack_size(path, frames=True)  # a GIF clip's frames: its pages
        if pages * h * w > FOCUS_PIXELS:
            return None, ()
        if pages * h * w * c > 3 * FOCUS_PIXELS:  # its size still said (the header has it)
            return None, (h, w)
        order = input_pages(path, pages) if order is None else order
        boxes = None if table is None else object_boxes(table, order)
        if table is not None and boxes is None:
            return None, ()
        stack = read_stack(path, frames=True)
    except (UnetlabError, OSError, ValueError):
        return None, ()
    none = np.zeros((0, 4), np.int64)
    near = [None] * len(stack) if boxes is None else [boxes.get(i, none) for i in range(len(stack))]
    return list(map(focus_measure, stack, near)), (h, w)


def table_figures(path: str | os.PathLike, names: Sequence[str] = ()) -> dict | None:
    """The figures of one objects table (a ``<stem>_objects.csv``): ``objects``,
    ``total_area`` and ``mean_area`` (px), the same of each ``area_<unit>`` column
    (``total_area_um2``, ...), ``saturated_objects`` where it has ``saturated_fraction``
    (those with :data:`~unetlab.inference.table_extras.SATURATED_SHARE` or more),
    and ``classes`` (class name -> objects) where it has ``class_name``, or ``class`` alone
    (an earlier version's table: named by the model's class ``names``, the index as text
    past them, as :func:`~unetlab.inference.drawn_again.table_counts`); None where it
    cannot be read. Only those columns are parsed (a slide's table of 10^6 rows: about
    3 s CPU; the objects' count of an input predicted now is also in memory:
    :attr:`~unetlab.inference.folders.FolderPrediction.objects`)."""
    tallies = _tallies(path, by_page=False, names=names)
    return None if tallies is None else tallies[0].get(None, tallies[1]).figures()


def page_figures(
    path: str | os.PathLike, pages: int, names: Sequence[str] = ()
) -> list[dict] | None:
    """:func:`table_figures` of each of the ``pages`` pages of a stack's objects table (its
    ``page`` column), a page without objects' too (0 objects); None where the table cannot
    be read, has no ``page`` column or names a page past ``pages``."""
    tallies = _tallies(path, by_page=True, names=names)
    if tallies is None or None in tallies[0] or any(p >= pages for p in tallies[0]):
        return None
    return [tallies[0].get(p, tallies[1]).figures() for p in range(pages)]


class _Tally:
    """The sums of one table's (or one page's) objects that :func:`table_figures` gives."""

    def __init__(self, areas: Sequence[str], saturated: bool, classes: bool):
        self.count, self.sums = 0, dict.fromkeys(areas, 0.0)
        self.saturated = 0 if saturated else None
        self.classes: dict | None = {} if classes else None
        self.index: dict[str, int] = {}  # each class name's index: the model's order

    def count_class(self, row: list[str], kind: int | None, index: int | None, names) -> None:
        """Counts ``row``'s class: its ``class_name`` (column ``kind``), else its ``class``
        (column ``index``) named by the model's ``names``; a ``class`` blank or not a number
        is no class (its row counted without one: it made the table unreadable, s55 fixC)."""
        number = None if index is None else _class_number(row[index])
        if kind is None and number is None:
            return
        name = row[kind] if kind is not None else named_class(number, names)
        self.classes[name] = self.classes.get(name, 0) + 1
        if number is not None:
            self.index.setdefault(name, number)

    def figures(self) -> dict:
        figures: dict = {"objects": self.count}
        for c, total in self.sums.items():
            kind = "volume" if c.startswith("volume") else "area"  # a 3-D table's
            unit = c.removeprefix(kind)
            figures[f"total_{kind}{unit}"] = total
            figures[f"mean_{kind}{unit}"] = total / self.count if self.count else None
        if self.saturated is not None:
            figures["saturated_objects"] = self.saturated
        if self.classes is not None:  # in the model's class order, not the table's
            order = sorted(self.classes, key=lambda name: self.index.get(name, -1))
            figures["classes"] = {name: self.classes[name] for name in order}
        return figures


def _class_number(cell: str) -> int | None:
    """The class index a table's ``class`` cell holds (``1``, ``1.0``); None for a blank
    cell or one that is not a finite number."""
    try:
        return int(float(cell))
    except (ValueError, OverflowError):
        return None


def _tallies(
    path, *, by_page: bool, names: Sequence[str] = ()
) -> tuple[dict[int | None, _Tally], _Tally] | None:
    """The :class:`_Tally` of an objects table's rows, by their ``page`` (``by_page``; None
    for a table without that column) or all under None, and an empty one; None where the
    table cannot be read (``names``: :func:`table_figures`')."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            columns = next(reader, [])
            size = "volume" if "area" not in columns and "volume" in columns else "area"
            units = [f"{size}_{u}{_size_power(size)}" for u in UNITS]
            at = [(c, columns.index(c)) for c in [size, *units] if c == size or c in columns]
            top = columns.index("saturated_fraction") if "saturated_fraction" in columns else None
            kind = columns.index("class_name") if "class_name" in columns else None
            index = columns.index("class") if "class" in columns else None
            classes = kind is not None or index is not None
            key_column = "page" if "page" in columns else "t" if "volume" in columns else None
            page = columns.index(key_column) if by_page and key_column else None
            tallies: dict[int | None, _Tally] = {}
            for row in reader:
                key = None if page is None else int(row[page])
                if (tally := tallies.get(key)) is None:
                    tally = tallies[key] = _Tally([c for c, _ in at], top is not None, classes)
                tally.count += 1
                for c, i in at:
                    tally.sums[c] += float(row[i] or 0)
                if top is not None:
                    tally.saturated += float(row[top] or 0) >= SATURATED_SHARE
                if classes:
                    tally.count_class(row, kind, index, names)
    except (OSError, ValueError, IndexError, csv.Error):
        return None
    return tallies, _Tally([c for c, _ in at], top is not None, classes)


def _size_power(size: str) -> int:
    """The power of a size column's unit: 2 for an area (``area_um2``), 3 for a 3-D object's
    volume (``volume_um3``)."""
    return 3 if size == "volume" else 2


def folder_summary(
    out_dir: str | os.PathLike,
    files: Sequence[Path],
    *,
    written: Collection[Path],
    skipped: Collection[Path] = (),
    failed: Mapping[Path, str] | None = None,
    focus: bool = True,
    earlier: Collection[Path] = (),
    scale: float | str = 1,
    names: Sequence[str] = (),
) -> list[dict]:
    """One row per input of ``files``, in their order (see the module's docstring): those
    ``written`` by this run, ``skipped`` (an earlier one's), ``earlier`` (an earlier run's
    inputs, not this run's: :func:`earlier_inputs`) and ``failed`` (input -> its reason);
    the figures of each one's ``<stem>_objects.csv`` (:func:`table_figures`); with ``focus``
    each input's :func:`image_focus` near its objects, read again (a 540x540 uint16 well:
    about 1 ms CPU for the measure and 0.4 for its table's boxes, besides the reading). A
    stack (a time-lapse, a z-stack) gives one row per frame or plane instead, in page order,
    those without objects too (:func:`plane_rows`). An input in none of them (a run stopped
    before it) is left out. ``scale``: this run's; ``names``: the model's classes."""
    from unetlab.data.io import ome_positions
    from unetlab.data.positions import reading_position
    from unetlab.inference.records import read_records
    from unetlab.inference.slides import output_stem, slide_name

    failed, records = dict(failed or {}), Records(read_records(out_dir))  # earlier runs'
    rows = []
    for path in files:
        shown = {"image": slide_name(path), "path": path}  # its name, a Zarr level's a.zarr/0
        if path in failed:
            rows.append({**shown, "status": FAILED, "reason": failed[path]})
            continue
        status = DONE if path in written else SKIPPED if path in skipped else EARLIER
        if status == EARLIER and path not in earlier:
            continue
        row = {**shown, "status": status}
        positions = ome_positions(path)
        if not positions:
            stem = Path(out_dir) / output_stem(path)
            row |= _scale_cell(scale, records, (stem, path, None), status)
            rows.extend(_image_rows(row, stem, path, focus, records, names))
            continue
        for i, name in enumerate(positions):  # each position of a multi-position OME-TIFF
            with reading_position(path, i, len(positions)):
                at = {"image": shown["image"], "position": i, "position_name": name, **row}
                stem = Path(out_dir) / output_stem(path)  # its outputs', and their record's
                at |= _scale_cell(scale, records, (stem, path, i), status)
                rows.extend(_image_rows(at, stem, path, focus, records, names))
    return _with_focus_ratios(rows)


def _scale_cell(scale: float | str, records: Records, image: tuple, status: str) -> dict:
    """An input's ``scale`` cell (``image``: its outputs' stem, its path, the position of a
    multi-position file's row, else None): this run's (:func:`_run_scale`) where it
    predicted it, else its outputs' record's (:func:`scale_cell`)."""
    stem, path, position = image
    if status == DONE:
        return _run_scale(scale, path, position)
    return scale_cell(records, stem, path, position)


def _run_scale(scale: float | str, path: Path, position: int | None = None) -> dict:
    """The ``scale`` cell of an input (or its ``position``) this run predicted at ``scale``
    (its setting): the factor (1: none), auto's as noted for it
    (:func:`~unetlab.inference.chosen.noted`: :func:`_auto_factor`)."""
    from unetlab.inference.chosen import noted

    if scale != "auto":
        return {"scale": float(scale)}
    return _cell(_auto_factor(noted().get(str(path.resolve()), {}), position))


def _auto_factor(found: Mapping, position: int | None = None):
    """``--scale auto``'s factor of an input (``position``: of that position of a
    multi-position file) by what its run noted (``found``: its
    :mod:`~unetlab.inference.chosen` notes, or its record's ``files`` entry): a position's
    own (``positions``), else the input's one factor (1 where none: only factors other
    than 1 are noted); None where not known (a position of an older record, which kept
    only the file's factors other than 1: those of its other positions too)."""
    own = ((found.get("positions") or {}).get(str(position)) or {}).get("scale")
    if own is not None:
        return own
    seen = found.get("scale", 1.0)
    seen = seen if isinstance(seen, list) else [seen]
    return seen[0] if seen == [1.0] or (position is None and len(seen) == 1) else None


def _cell(factor) -> dict:
    """The ``scale`` cell of ``factor``: none where it is not a number."""
    ok = isinstance(factor, int | float) and not isinstance(factor, bool)
    return {"scale": float(factor)} if ok else {}


#: what the outputs that carry their record's key end in after their stem: an image's read
#: whole (TIFF, PNG labels), a streamed one's (OME-TIFF, OME-Zarr: ``--output-format``)
_RECORDED = ("_objects.tif", ".tif", ".png", "_objects.ome.zarr", ".ome.zarr")


def scale_cell(records: Records, stem: Path, path: Path, position: int | None = None) -> dict:
    """An input's ``scale`` cell: the factor it was predicted at (``--scale F``, or its own
    under ``--scale auto``: :func:`_auto_factor`, of its ``position`` for a row of a
    multi-position file) by the record (of ``records``, ``predict.json``'s) whose key its
    outputs called ``stem`` carry (:func:`~unetlab.inference.records.embedded_key`, of the
    first of :data:`_RECORDED` there; a position's stem for each position of a
    multi-position file), 1 where it records none;
    none where it is not known (no record found)."""
    entry = records.of(stem)
    if entry is None or not isinstance(entry.get("model"), dict):
        return {}
    scale = entry["model"].get("scale", 1)
    if scale == "auto":  # each input's own factor, as its run noted it (1: none noted)
        scale = _auto_factor(_record_notes(entry, path), position)
    return _cell(scale)


@dataclass
class Records:
    """``predict.json``'s records (``by_key``) and the one each output stem's files carry,
    looked up once (:meth:`of`): a row's scale cell and its page axes both ask for it."""

    by_key: Mapping
    found: dict = field(default_factory=dict)

    def of(self, stem: Path) -> dict | None:
        """The record whose key the outputs called ``stem`` carry (:func:`_record_of`)."""
        if stem not in self.found:
            self.found[stem] = _record_of(self.by_key, stem)
        return self.found[stem]


def _record_of(records: Mapping, stem: Path) -> dict | None:
    """The record (of ``records``, ``predict.json``'s) whose key the outputs called ``stem``
    carry (:func:`~unetlab.inference.records.embedded_key`, of the first of
    :data:`_RECORDED` there); None where none is found."""
    from unetlab.inference.records import embedded_key

    for suffix in _RECORDED:
        if (key := embedded_key(stem.with_name(stem.name + suffix))) is not None:
            break
    entry = records.get(key) if key is not None else None
    return entry if isinstance(entry, dict) else None


def _record_notes(entry: Mapping, path: Path) -> dict:
    """What the run of the record ``entry`` noted of the input ``path`` (its ``files``
    entry: :mod:`~unetlab.inference.chosen`); {} where nothing."""
    files = entry.get("files") if isinstance(entry.get("files"), dict) else {}
    found = files.get(str(path.resolve()))
    return found if isinstance(found, dict) else {}


def _read_letters(records: Records, stem: Path, path: Path, status: str) -> str | None:
    """The page axes, in the file's order (``"ZT"``), that the input ``path`` was read as by
    the run that wrote its outputs called ``stem``: as this run noted them (``status``
    :data:`DONE`: :func:`~unetlab.inference.chosen.noted`), else as the record of its
    outputs (of ``records``) has them (:func:`_record_of`); its ``files`` entry's ``axes``,
    what ``--axes`` gave a file that records none too (a stack saved without axes, given
    ``ZTYX``, had its rows' figures put at the wrong t, z: the file says nothing of its
    pages). None where not known, or several (positions of a multi-position file read
    otherwise)."""
    from unetlab.inference.chosen import noted

    if status == DONE:
        found = noted().get(str(path.resolve()), {})
    else:
        entry = records.of(stem)
        found = {} if entry is None else _record_notes(entry, path)
    axes = found.get("axes")
    axes = axes[0] if isinstance(axes, list) and len(axes) == 1 else axes
    return axes.split("YX")[0] if isinstance(axes, str) and "YX" in axes else None


def earlier_inputs(out_dir: str | os.PathLike, files: Sequence[Path]) -> list[Path]:
    """The inputs of earlier predictions into ``out_dir`` that are not among ``files``
    (this run's), whose objects table (a ``<stem>_objects.csv``) predict wrote there and is
    still there, in the folder's manifest order (its inputs as the manifest names them:
    resolved paths): a folder predicted input by input keeps every input's row in its
    summary (audit s38 3d: a second stack predicted into the folder left the first's rows
    out of the rewritten table). An input deleted from a folder that is still there is left
    out, as :func:`~unetlab.inference.stale.say_gone_inputs` says of its outputs."""
    from unetlab.manifest import made_from

    now = {str(Path(f).resolve()) for f in files}
    found: dict[str, None] = {}
    for name, source in made_from(out_dir, "predict").items():
        if not source or source in now or not name.endswith("_objects.csv"):
            continue
        if (Path(out_dir) / name).is_file() and not _deleted(Path(source)):
            found.setdefault(source)
    return [Path(s) for s in found]


def _deleted(source: Path) -> bool:
    """Whether the input ``source`` was deleted from its folder (one whose folder is gone
    too, an unmounted disk's, still counts as there)."""
    return not os.path.lexists(source) and source.parent.is_dir()


def _image_rows(
    row: dict,
    stem: Path,
    path: Path,
    focus: bool,
    records: Records | None = None,
    names: Sequence[str] = (),
) -> list[dict]:
    """:func:`folder_summary`'s rows of one image (``row``: its name and status) whose
    outputs are called ``stem``: one, or one per frame or plane of a stack, its pages as
    its run read them (:func:`_read_letters`, by ``records``: ``predict.json``'s), its
    classes by ``names`` (:func:`table_figures`)."""
    table = stem.with_name(f"{stem.name}_objects.csv")
    figures = table_figures(table, names)
    letters = _read_letters(records or Records({}), stem, path, row["status"])
    if figures is None:
        row["reason"] = "its objects table is missing or unreadable"
    elif (
        planes := plane_rows(row, table, stem, path if focus else None, path, letters, names=names)
    ) is not None:
        return planes
    else:
        row.update(figures)
    if focus:
        values, size = _focus_and_size(path, table) if figures is not None else (None, ())
        row["focus"] = _median_focus(values)
        _sized(row, size)
    return [row]


def _sized(row: dict, size: tuple) -> None:
    """``row`` (an input's, a page's) given its ``image_size``, the (height, width) of its
    pages as the focus read them, where it has a focus: :func:`_with_focus_ratios` compares
    a focus with those of its size only."""
    if row.get("focus") is not None and size:
        row["image_size"] = size


#: what the outputs that tell a stack's pages end in after their stem: the ids, else the
#: labels, as TIFFs (read whole, or streamed as OME-TIFF) or streamed as OME-Zarr folders
_PLANES = ("_objects.tif", ".tif", "_objects.ome.zarr", ".ome.zarr")

#: the columns that place a stack's row: as its objects table's (page, then the input's T
#: and Z, with their seconds and micrometres where the file records them)
PLANE_COLUMNS = ("page", "t", "t_s", "z", "z_um")


def plane_rows(
    row: dict,
    table: Path,
    stem: Path,
    image: Path | None = None,
    source: Path | None = None,
    letters: str | None = None,
    *,
    names: Sequence[str] = (),
) -> list[dict] | None:
    """``row`` (an input's ``image`` and ``status``) once for each page of a stack whose
    objects ``table`` has a ``page`` column: the page's :data:`PLANE_COLUMNS` that the table
    has (read from the first of ``stem``'s :data:`_PLANES` outputs: :func:`stack_planes`;
    a page without objects has no row to read them from) and its figures
    (:func:`page_figures`, classes by ``names``; 0 objects for a frame without any), with the ``image`` file's :func:`page_focus` page by page
    where given. A movie's 3-D objects table (``t`` and ``volume``, no ``page``) gives a
    row per frame instead, its focus the median of its planes'. The outputs' pages are in
    ImageJ's order, the table's and the image's in the input's: its page axes ``letters``
    as read (``"ZT"``: ``--axes ZTYX``), else as ``source`` (or ``image``) records them
    (:func:`input_pages`). None for one image, or where the pages cannot be told."""
    header = _header(table)
    frames = "page" not in header and {"t", "volume"} <= set(header)  # a movie's 3-D objects
    if "page" not in header and not frames:
        return None
    planes = _stem_planes(stem)
    if planes is None:
        return None
    order = _output_order(planes, source or image, letters)  # each output page's input page
    times = [p["t"] for p in planes] if frames else []
    if frames:  # one row a frame: its t (and t_s)
        first: dict = {}
        planes = [first.setdefault(p["t"], p) for p in planes if p["t"] not in first]
    else:  # rows in the TIFFs' order (T, then Z), each with its input page's figures
        planes = [{**place, "page": i} for place, i in zip(planes, order)]
    figures = page_figures(table, len(planes), names)
    if figures is None:
        return None
    figures = figures if frames else [figures[i] for i in order]
    focus, size = _planes_focus(image, table, order, times, len(planes))
    known = {*header, *(["z_um"] if "z_mm" in header else [])}  # a NIfTI's table: z_mm
    kept = [{k: v for k, v in place.items() if k in known} for place in planes]
    rows = [{**row, **place, **got} for place, got in zip(kept, figures)]
    for r, value in zip(rows, focus or []):
        r["focus"] = value
        _sized(r, size)
    return rows


def _planes_focus(
    image: Path | None, table: Path, order: list[int], times: list[int], count: int
) -> tuple[list[float | None] | None, tuple]:
    """(the focus of each of :func:`plane_rows`' ``count`` rows, None where ``image`` is
    None; the pages' (height, width)): the ``image``'s pages' near the ``table``'s objects
    (the input page of each output page ``order``), or with ``times`` (a movie's 3-D
    objects: each page's frame) each frame's median."""
    if image is None:
        return None, ()
    focus, size = _focus_and_size(image, table, order)
    if focus is not None and len(focus) == len(order):  # the image's pages: the input's
        focus = [focus[i] for i in order]
    if times and focus is not None:  # a frame's: the median of its planes'
        focus = _frame_focus(focus, times) if len(focus) == len(times) else None
    if focus is None or len(focus) != count:
        focus = [None] * count
    return focus, size


def _stem_planes(stem: Path) -> list[dict] | None:
    """The pages of the first of ``stem``'s outputs (:data:`_PLANES`) that tells them."""
    for suffix in _PLANES:
        planes = stack_planes(stem.with_name(stem.name + suffix))
        if planes is not None:
            return planes
    return None


def _output_order(planes: list[dict], source: Path | None, letters: str | None = None) -> list[int]:
    """The input page of each page of a stack's outputs (``planes``: :func:`stack_planes`
    of them): a TIFF of a stack read whole keeps ImageJ's order, T then Z, which a Z, T
    input's is not, nor streamed outputs, T, Z too: by the page axes ``letters`` it was
    read as (``"ZT"``; the sizes the outputs' ``t`` and ``z``), else as the file ``source``
    records them (:func:`input_pages`); outputs with no T and Z both keep the input's."""
    from unetlab.data.tiffmeta import PageAxes

    if not all("t" in p and "z" in p for p in planes):
        return list(range(len(planes)))
    sizes = {"T": 1 + max(p["t"] for p in planes), "Z": 1 + max(p["z"] for p in planes)}
    if letters not in ("TZ", "ZT") or sizes["T"] * sizes["Z"] != len(planes):
        return input_pages(source, len(planes))
    axes = PageAxes(letters, tuple(sizes[a] for a in letters))
    return [int(p) for p in axes.unfold(np.arange(len(planes))).ravel()]


def _frame_focus(focus: list[float | None], times: list[int]) -> list[float | None]:
    """The median focus of each frame's planes (``focus`` of each page, ``times`` its
    frame), in the order of the frames; None for a frame without one."""
    frames: dict[int, list[float]] = {}
    for t, value in zip(times, focus, strict=True):
        frames.setdefault(t, [])
        if value is not None:
            frames[t].append(value)
    return [statistics.median(v) if v else None for v in frames.values()]


def _header(table: Path) -> list[str]:
    """The column names of the objects ``table`` ([] where it cannot be read)."""
    try:
        with open(table, newline="", encoding="utf-8") as f:
            return next(csv.reader(f), [])
    except (OSError, ValueError, csv.Error):
        return []


def stack_planes(ids: Path) -> list[dict] | None:
    """The :data:`PLANE_COLUMNS` of each page of the stack of ids (or labels) ``ids``, as
    its objects table has them: its T and Z, with the frame interval and Z spacing it
    records, of a TIFF (:func:`~unetlab.data.tiffmeta.read_page_axes`) or of an OME-Zarr
    folder (a streamed stack's ``--output-format ome-zarr``:
    :func:`~unetlab.data.ome.output_pages`, its metadata only); None for a file not there,
    not read, or of one page."""
    from unetlab.data.ome import output_pages
    from unetlab.data.tiffmeta import frame_seconds
    from unetlab.inference.measure import plane_columns

    found = output_pages(ids) if ids.is_dir() else _tiff_pages(ids)
    if found is None or int(np.prod(found[0].shape)) < 2:
        return None
    axes, spacing = found
    seconds, pages = frame_seconds(axes.timing), int(np.prod(axes.shape))
    planes = [plane_columns(p, 1, axes.index(p), seconds, spacing) for p in range(pages)]
    return [{k: v[0].item() for k, v in plane.items()} for plane in planes]


def _tiff_pages(ids: Path):
    """:func:`stack_planes`'s pages of the TIFF ``ids``: their
    :class:`~unetlab.data.tiffmeta.PageAxes` and the Z spacing it records; None where it
    is not there, not read, or its planes are not its last two axes (YX)."""
    import tifffile

    from unetlab.data.tiff_files import open_tiff
    from unetlab.data.tiffmeta import read_page_axes, tiff_sizes

    if not ids.is_file():
        return None
    try:
        with open_tiff(ids) as tif:  # named as given, a link too (given_path: s63)
            series = tif.series[0]
            pages = int(np.prod(series.shape[:-2]))
            spacing = tiff_sizes(tif, series.keyframe)[1]
    except (tifffile.TiffFileError, OSError, IndexError, ValueError):
        return None
    if pages < 2 or series.axes.upper()[-2:] != "YX":
        return None
    return read_page_axes(ids, pages), spacing


def _with_focus_ratios(rows: list[dict]) -> list[dict]:
    """``rows`` with ``focus_vs_median``: each focus over the median of its peers', where
    :data:`FOCUS_IMAGES` or more have one: the folder's images of its ``image_size`` (all
    of them where none has one), or where their objects' sizes are mixed
    (:func:`object_sizes`) those whose objects lie within :data:`LIKE_ACROSS` x across of
    its own (the focus measure falls as objects grow in pixels: Kromp's 63x nuclei,
    5,000-50,000 px, read 0.006-0.02, its 20x ones, 300-900 px, 0.04-0.8; across
    magnifications the ratio ran 0.58-41). Images of another size are of another camera
    or scan, whose focus measure is not this one's: Kromp's test folder's two 20x tissue
    sections (914 x 1225, focus 0.040, 0.051) read 0.13x and 0.16x beside two like-sized
    cytospins (1024 x 1280 widefield, 1024 x 1024 confocal: 0.58, 0.82), "out of focus?",
    and no blur-blind statistic of the four tells them from two blurred wells of four
    (bench/focus_peers.py)."""
    measured = [r for r in rows if r.get("focus") is not None]
    for group in _by_image_size(measured):
        if object_sizes(group) is None:  # one median for all: the folder's
            medians = _folder_medians(group)
        else:
            medians = _like_sized_medians(group)
        for r, median in zip(group, medians):
            if median:
                r["focus_vs_median"] = r["focus"] / median
    return rows


#: image sizes within this share of each other in height and width are one camera's (crops
#: of one microscope, ragged edge tiles: 498 x 500 to 520 x 496), peers for the focus check;
#: either way round (a camera's 1024 x 1280 images turned to 1280 x 1024 are its own)
SIZE_TOLERANCE = 0.05


def _by_image_size(rows: list[dict]) -> list[list[dict]]:
    """``rows`` parted by their ``image_size`` (those without one together), in order, sizes
    within :data:`SIZE_TOLERANCE` of a size of the part one part (exact sizes left crops of
    one microscope, each its own size, without the check: review s54, 6), either way round
    (a turned image's, width x height, is its camera's: s55)."""
    sizes = [None if r.get("image_size") is None else tuple(sorted(r["image_size"])) for r in rows]
    keys = _size_keys(dict.fromkeys(s for s in sizes if s is not None))
    groups: dict = {}
    for r, size in zip(rows, sizes):
        groups.setdefault(None if size is None else keys[size], []).append(r)
    return list(groups.values())


def _size_keys(sizes) -> dict[tuple, tuple]:
    """Each of the distinct ``sizes`` (in order) to the key of its part: the first part
    holding a size within :data:`SIZE_TOLERANCE` of it in height and width, else its own.
    Over the distinct sizes, a few, not the rows (a set of each part's sizes rebuilt a row
    took 0.3 s for 4,000 images of one size)."""
    parts: dict[tuple, list[tuple]] = {}
    keys = {}
    for size in sizes:
        near = (k for k, held in parts.items() if any(_near(size, o) for o in held))
        keys[size] = next(near, size)
        parts.setdefault(keys[size], []).append(size)
    return keys


def _near(size: tuple, other: tuple) -> bool:
    return all(abs(a - b) <= SIZE_TOLERANCE * max(a, b) for a, b in zip(size, other))


def _folder_medians(rows: list[dict]) -> list[float | None]:
    """Each row's median focus: the folder's, where :data:`FOCUS_IMAGES` or more have one;
    None for a row whose objects lie :data:`MIXED_ACROSS` x across or more from the
    folder's typical size (one image of another magnification, an empty well's specks): its
    focus measures its objects' size, not its sharpness (a lone 63x image, 5,000 px nuclei,
    among ten 20x ones read 0.03x: "out of focus?"). The median leaves it out too."""
    across = [_across(r) for r in rows]
    known = [a for a in across if a is not None]
    typical = statistics.median(known) if known else None
    odd = [a is not None and max(a, typical) >= MIXED_ACROSS * min(a, typical) for a in across]
    focus = [r["focus"] for r, o in zip(rows, odd) if not o]
    median = statistics.median(focus) if len(focus) >= FOCUS_IMAGES else None
    return [None if o else median for o in odd]


def _like_sized_medians(rows: list[dict]) -> list[float | None]:
    """Each row's median focus over the rows whose objects lie within :data:`LIKE_ACROSS` x
    across of its own (itself too); None where fewer than :data:`FOCUS_IMAGES` or its size
    is unknown. The rows sorted by size once, each one's like-sized a window of them (a
    comparison of every pair took 18 s for 5,000 images)."""
    across = np.array([_across(r) or np.nan for r in rows], np.float64)
    known = np.flatnonzero(~np.isnan(across))
    order = known[np.argsort(across[known], kind="stable")]
    sizes, focus = across[order], np.array([rows[i]["focus"] for i in order], np.float64)
    starts = np.searchsorted(sizes, across / LIKE_ACROSS, "left")
    stops = np.searchsorted(sizes, across * LIKE_ACROSS, "right")
    return [
        float(np.median(focus[a:b])) if b - a >= FOCUS_IMAGES and not np.isnan(x) else None
        for x, a, b in zip(across.tolist(), starts.tolist(), stops.tolist())
    ]


def object_sizes(rows: Sequence[dict]) -> tuple[float, float] | None:
    """(smallest, largest) of the rows' objects' typical size across (px: the square root of
    each row's ``mean_area``) where :data:`MIXED_END` or more images at each end of the
    range lie :data:`MIXED_ACROSS` x apart or more (magnifications mixed: a focus means
    little beside another's); else None. One image is no magnification: an empty well with
    a few specks (15 px beside 300 px nuclei) made a whole folder 'mixed'."""
    across = sorted(a for r in rows if (a := _across(r)) is not None)
    if len(across) < 2 * MIXED_END:
        return None
    if across[MIXED_END - 1] * MIXED_ACROSS > across[-MIXED_END]:
        return None
    return across[0], across[-1]


def _across(row: dict) -> float | None:
    area = row.get("mean_area")
    return None if area is None or not area > 0 else float(area) ** 0.5


def summary_columns(rows: Sequence[dict], names: Sequence[str] = ()) -> list[str]:
    """The table's columns: the same for every folder and night, so that tables stack by
    column (audit s36 batch 5; empty cells where an image has none: a stack's page, t, z,
    area in µm² without a pixel size, focus_vs_median under :data:`FOCUS_IMAGES`, the
    ``scale`` of an earlier run's input whose record is not found), then
    those only some inputs can have (a multi-position file's position, a map's area in m²,
    a semantic model's classes in the order of its class ``names``: :func:`class_order`),
    the reason last. ``path``: the input's path relative to the input root."""
    have = {k for r in rows for k in r}
    places = [c for c in ("position", "position_name") if c in have]
    first = ["image", "status", "path", *places, *PLANE_COLUMNS]
    first += ["objects", "total_area", "mean_area"]
    units = {k.removeprefix("total_area") for k in have if k.startswith("total_area_")}
    areas = [f"{kind}_area{u}" for u in sorted(units | {"_um2"}) for kind in ("total", "mean")]
    volumes = [c for c in _VOLUMES if c in have]  # 3-D objects' (--objects-3d)
    always = [*volumes, "saturated_objects", "focus", "focus_vs_median"]
    always += ["scale"]  # each input's factor (--scale; 1: none), empty where not known
    names = class_order((r.get("classes") or {} for r in rows), names)
    return first + areas + always + [f"objects_{n}" for n in names] + ["reason"]


#: a 3-D objects table's sizes in the summary, where some row has them
_VOLUMES = (
    "total_volume",
    "mean_volume",
    *(f"{k}_volume_{u}3" for u in UNITS for k in ("total", "mean")),
)


def _cells(row: dict, columns: Sequence[str]) -> list[str]:
    """One row's CSV cells: empty for a figure it lacks, a class it has none of 0."""
    values = {**row, **{f"objects_{n}": k for n, k in row.get("classes", {}).items()}}
    counted = row.get("objects") is not None and "classes" in row
    cells = []
    for c in columns:
        v = values.get(c, 0 if counted and c.startswith("objects_") else None)
        cells.append("" if v is None else _number(v) if isinstance(v, float) else str(v))
    return cells


def _number(v: float) -> str:
    """A figure as the CSV holds it: a whole one (a pixel count) as an integer, another with
    10 significant digits (``f"{v:.6g}"`` wrote 8,874,467 px as ``8.87447e+06``)."""
    if v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return f"{v:.10g}"


def claim_summary(out_dir: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """The summary's path in ``out_dir``, checked and listed in the folder's manifest
    before any work (:func:`unetlab.outputs.claim_files`): OutputError for a file of that
    name unetlab did not write, even with ``overwrite`` (which writes beside such files,
    never over them: :func:`unetlab.outputs.refuse_unlisted`), and for one another unetlab
    command wrote, unless ``overwrite``."""
    from unetlab.inference.output_rules import GIVE_ANOTHER
    from unetlab.outputs import claim_files, refuse_unlisted

    path = Path(out_dir) / SUMMARY
    refuse_unlisted([path], "predict")
    # its name is fixed: the fix is another folder (review s60)
    claim_files([path], overwrite=overwrite, command="predict", elsewhere=GIVE_ANOTHER)
    return path


def write_summary(
    out_dir: str | os.PathLike, rows: Sequence[dict], names: Sequence[str] = ()
) -> Path:
    """``rows`` (:func:`folder_summary`) as ``out_dir``/:data:`SUMMARY`, atomically (a
    file already there is replaced whole or not at all; ``names``: the model's classes,
    the order of their columns). The caller has claimed the path (:func:`claim_summary`)."""
    path = Path(out_dir) / SUMMARY
    columns = summary_columns(rows, names)
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(_cells(r, columns) for r in rows)
    return path


def drop_stale_summary(out_dir: str | os.PathLike, redone: Collection[str]) -> bool:
    """Remove ``out_dir``'s :data:`SUMMARY` (and its manifest line) where predict wrote it
    and every image it lists is in ``redone`` (names of inputs a run without objects has
    just predicted again: their object tables are gone, so its rows describe objects that
    no longer exist); one of other inputs stays. Whether it was removed."""
    from unetlab.manifest import forget, made_from

    path = Path(out_dir) / SUMMARY
    if not path.is_file() or SUMMARY not in made_from(out_dir, "predict"):
        return False
    with path.open(newline="", encoding="utf-8") as f:
        images = {row.get("image") for row in csv.DictReader(f)}
    if not images or not images <= set(redone):
        return False
    log.info("removed %s: its images were predicted again without objects", path)
    path.unlink()
    forget(out_dir, [SUMMARY], "predict")
    return True


def units_line(columns: Iterable[str]) -> str | None:
    """The units of tables of ``columns`` (those written: an objects table's header, the
    per-image table's filled columns) in one line naming only the kinds among them, and
    the columns without a unit; None where none is a measured column (kromplines s51: the
    line named _um and _m columns a table in pixels had none of, and no unitless one)."""
    have = set(columns)
    parts = [words for names, words in _IN_PIXELS if have & names]
    if along_z := [c for c in IN_PLANES if c in have]:  # planes, not px (counting3 s53)
        parts.append(f"{_listing(along_z)} in planes")
    parts += [words for unit in UNITS if (words := _physical(have, unit))]
    if have & set(MAP_CENTROIDS):
        parts.append("centroid_x_map and centroid_y_map in the map's CRS units")
    if "t_s" in have:
        parts.append("t_s in seconds")
    if "orientation" in have:
        parts.append("orientation in degrees from the y axis")
    if any(c.startswith(INTENSITY_MEASURES) for c in have):
        parts.append("intensities in the input's pixel values")
    if not parts:
        return None
    unitless = [c for c in UNITLESS if c in have]
    plain = f"; without a unit: {', '.join(unitless)}" if unitless else ""
    return f"objects tables' units: {', '.join(parts)}{plain}"


def _listing(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _physical(have: set[str], unit: str) -> str | None:
    """The words of :func:`units_line` for the columns of ``unit`` (a key of
    :data:`~unetlab.inference.measure.UNITS`: ``_um``, ``_um2``, ``_um3``) among ``have``."""
    name = "µm" if unit == "um" else unit
    powers = {"": "", "2": "²", "3": "³"}
    words = [f"_{unit}{p} in {name}{sup}" for p, sup in powers.items() if _ends(have, unit + p)]
    return f"the columns ending {', '.join(words)}" if words else None


def _ends(have: set[str], suffix: str) -> bool:
    return any(c.endswith(f"_{suffix}") for c in have)


def table_columns(paths: Iterable[Path], rows: Sequence[dict] = ()) -> set[str]:
    """The columns of the objects tables among ``paths`` (outputs written: their headers;
    none without one) and, with them, the filled ones of the per-image table's ``rows``."""
    tables = [Path(p) for p in paths if Path(p).name.endswith("_objects.csv")]
    if not tables:
        return set()
    columns = {c for row in rows for c, v in row.items() if v is not None}
    for path in tables:
        with open(path, newline="", encoding="utf-8") as f:
            columns.update(next(csv.reader(f), []))
    return columns


def say_units(columns: Iterable[str]) -> None:
    """:func:`units_line` of the tables' ``columns``, said once (a command's, a call's of
    the API that wrote or returned them; the same line again not); within
    :func:`units_gathered`, gathered and said at its end."""
    if (gathered := _GATHERED.get()) is not None:
        gathered.update(columns)
    elif (line := units_line(columns)) is not None:
        note_once(line, level=logging.INFO)


@contextlib.contextmanager
def units_gathered() -> Iterator[None]:
    """Within: the columns :func:`say_units` is given gathered, their one line said at the
    end (a tree of folders: one line for all its folders' tables, not one a folder or a
    kind of folder; counting3 s53). Nested: the outer one says it."""
    if _GATHERED.get() is not None:
        yield
        return
    gathered: set[str] = set()
    token = _GATHERED.set(gathered)
    try:
        yield
    finally:
        _GATHERED.reset(token)
        say_units(gathered)


def summary_lines(rows: Sequence[dict], names: Sequence[str] = ()) -> list[str]:
    """What a folder's summary says in a few lines: the objects in all (those of an earlier
    run's images too; a semantic model's by class, in the order of its class ``names``),
    the saturated objects, the images (frames, planes) out of focus."""
    counted = [r for r in rows if r.get("objects") is not None]
    if not counted:
        return []
    images = {r["image"] for r in counted}
    several = len(images) > 1 or counted[0]["status"] in (SKIPPED, EARLIER)
    several = several or "position" in counted[0] or "page" in counted[0]  # where its rows are
    total = [_total_line(counted, names)] if several else []  # one image: its own line says it
    return total + _saturated_lines(counted) + _blur_lines(counted)


def _total_line(counted: list[dict], names: Sequence[str]) -> str:
    per_image = _per_image(counted)
    counts = list(per_image.values())
    stacks = any("page" in r for r in counted)
    movies = any("page" not in r and "t" in r for r in counted)  # a movie's 3-D objects
    line = f"objects: {sum(counts)} in {_where(counted)}" + class_totals(counted, names)
    line += ", an object counted in each frame or plane it is in" if stacks else ""
    line += _earlier_part(counted)
    if len(counts) > RANGE_IMAGES:
        median = statistics.median(counts)
        line += f"; per image {min(counts)} to {max(counts)}, median {median:g}"
    each = ["a stack: one per frame or plane"] if stacks else []
    each += ["a movie of 3-D objects: one per frame"] if movies else []
    each += ["a multi-position file: per position"] if any("position" in r for r in counted) else []
    rows = f" ({'; '.join(each)})" if each else ""
    return f"{line}; one row per image{rows} in {SUMMARY}"


def _earlier_part(counted: list[dict]) -> str:
    """The total line's objects of earlier runs: those of the inputs skipped and of the
    folder's other inputs (:data:`EARLIER`); "" for none."""
    skipped = _per_image([r for r in counted if r["status"] == SKIPPED])
    other = _per_image([r for r in counted if r["status"] == EARLIER])
    if not skipped and not other:
        return ""
    parts = [f"{numbered(len(skipped), 'image')} skipped"] if skipped else []
    parts += [f"{numbered(len(other), 'image')} not among this run's inputs"] if other else []
    n = sum(skipped.values()) + sum(other.values())
    return f" ({n} from an earlier run: {', '.join(parts)})"


def class_totals(rows: Sequence[dict], names: Sequence[str] = ()) -> str:
    """A semantic model's objects of each class over ``rows`` (their ``classes``:
    name -> count), as a line gives them (``": 34 healthy, 25 apoptotic"``; a class named
    by a number: ``class 2``); "" where no row has classes (audit s35 multiclass 6: the
    total gave no class)."""
    totals: dict[str, int] = {}
    for row in rows:
        for name, n in (row.get("classes") or {}).items():
            totals[name] = totals.get(name, 0) + int(n)
    shown = (
        f"{totals[name]} {'class ' * str(name).isdigit()}{name}"
        for name in class_order((row.get("classes") or {} for row in rows), names)
    )
    return ": " + ", ".join(shown) if totals else ""


def class_order(each: Iterable[Mapping[str, int]], names: Sequence[str] = ()) -> list[str]:
    """The class names of ``each`` (one image's objects by class, in the model's class
    order, of the classes it has) in the model's order: as ``names`` (the model's classes,
    where known) give them, else each name after every name some image gives before it,
    else as first given (the first image's classes need not be all: "3284 apoptotic, 40
    healthy" for a model of healthy, apoptotic)."""
    before: dict[str, set[str]] = {n: set(names[:i]) for i, n in enumerate(names)}
    seen = [list(kinds) for kinds in each]
    for kinds in seen:
        for i, name in enumerate(kinds):
            before.setdefault(name, set()).update(kinds[:i])
    order: list[str] = []
    while len(order) < len(before):
        placed = set(order)
        ready = [n for n in before if n not in placed and before[n] <= placed]
        order.append(ready[0] if ready else next(n for n in before if n not in placed))
    found = {n for kinds in seen for n in kinds}
    return [n for n in order if n in found]


def image_key(row: dict) -> str:
    """The image a summary row is of, as the lines name it: its file, with its position
    where it is one of a multi-position file's (``plate.ome.tif position 2``)."""
    return f"{row['image']} position {row['position']}" if "position" in row else row["image"]


def page_nouns(rows: Sequence[dict]) -> dict[str, str]:
    """What each image's pages are, plural, by its summary ``rows`` (by :func:`image_key`):
    "frames" (a time-lapse's rows, with ``t``), "planes" (with ``z``), "pages" (neither),
    "frames of 3-D objects" (a movie's with ``--objects-3d``: ``t`` and no ``page``); images
    of one row are left out."""
    nouns: dict[str, str] = {}
    for r in rows:
        if "page" not in r and "t" in r and "total_volume" in r:  # a movie's 3-D objects
            nouns[image_key(r)] = "frames of 3-D objects"
        elif "page" in r:
            noun, key = "planes" if "z" in r else "frames" if "t" in r else "pages", image_key(r)
            nouns[key] = noun if nouns.get(key, noun) == noun else "pages"
    return nouns


def by_position(found: Mapping[str, list[int]], rows: Sequence[dict]) -> dict[str, list[int]]:
    """``found`` (image name -> its objects in each page) with each multi-position file's
    entry (all its positions' pages in turn) split into one per position, by
    :func:`image_key`, read from its summary ``rows``."""
    split: dict[str, dict[str, list[int]]] = {}
    for r in rows:
        if "position" in r and r["image"] in found and r.get("objects") is not None:
            split.setdefault(r["image"], {}).setdefault(image_key(r), []).append(r["objects"])
    return {
        k: n for name, planes in found.items() for k, n in split.get(name, {name: planes}).items()
    }


def _per_image(rows: list[dict]) -> dict[str, int]:
    """Each image's objects, its frames' or planes' summed, in row order."""
    per: dict[str, int] = {}
    for r in rows:
        per[r["image"]] = per.get(r["image"], 0) + r["objects"]
    return per


def _where(rows: list[dict]) -> str:
    """How many images ``rows`` are of, and of frames or planes where some are a stack's."""
    images = numbered(len({r["image"] for r in rows}), "image")
    positions = len({(r["image"], r["position"]) for r in rows if "position" in r})
    planes = sum("page" in r for r in rows)
    parts = [f"{positions} positions"] if positions else []
    parts += [f"{planes} frames or planes of stacks"] if planes else []
    return f"{images} ({'; '.join(parts)})" if parts else images


def plane_name(row: dict) -> str:
    """A summary row's image, and its frame (T) or plane (Z) for a stack's, 0-based as the
    tables' ``t`` and ``z``: ``movie.tif frame 3``, ``stack.tif plane 2``, ``h.tif frame 1
    plane 0``, a multi-position file's ``plate.ome.tif position 2 frame 0``; ``page`` for a
    stack of neither (the words of
    :meth:`~unetlab.data.tiffmeta.PageAxes.label`)."""
    where = [f"{w} {row[k]}" for w, k in (("frame", "t"), ("plane", "z")) if k in row]
    if not where and "page" in row:
        where = [f"page {row['page']}"]
    at = [f"position {row['position']}"] if "position" in row else []
    return " ".join([row["image"], *at, *where])


def _named(rows: list[dict], figure) -> str:
    """The first ``NAMED`` rows' images (frames, planes) with ``figure(row)``, and how many
    more."""
    named = ", ".join(f"{plane_name(r)} {figure(r)}" for r in rows[:NAMED])
    return named + (f" and {len(rows) - NAMED} more" if len(rows) > NAMED else "")


def _saturated_lines(counted: list[dict]) -> list[str]:
    hit = [r for r in counted if r.get("saturated_objects")]
    if not hit:
        return []
    n = sum(r["saturated_objects"] for r in hit)
    named = _named(hit, lambda r: r["saturated_objects"])
    return [
        f"saturated: {numbered(n, 'object')} in {_where(hit)} have "
        f"{SATURATED_SHARE:.0%} or more of their pixels at the image's ceiling (debris, "
        f"overexposure?): {named}; saturated_objects in {SUMMARY}, saturated_fraction "
        f"in each <stem>_objects.csv"
    ]


def _blur_lines(counted: list[dict]) -> list[str]:
    measured = [r for r in counted if r.get("focus") is not None]
    sizes = object_sizes(measured)
    mixed = [] if sizes is None else [_mixed_line(*sizes)]
    mixed += _image_sizes_line(measured)
    low = [r for r in counted if r.get("focus_vs_median", 1.0) < BLUR_SHARE]
    if not low:
        return mixed
    named = _named(low, lambda r: f"{r['focus_vs_median']:.2f}x")
    peers = "the folder's median" if sizes is None else "their like-sized images' median"
    if len(_by_image_size(measured)) > 1:  # each set against its own size's
        kind = "images" if sizes is None else "like-sized images"
        peers = f"the median of the {kind} of their height and width (either way round, within "
        peers += f"{SIZE_TOLERANCE:.0%})"
    return mixed + [
        f"focus: {_where(low)} under {BLUR_SHARE:g}x {peers} (out of focus? fewer, larger "
        f"objects): {named}; focus_vs_median in {SUMMARY}"
    ]


def _image_sizes_line(measured: list[dict]) -> list[str]:
    """The line that says the images with a focus are of several sizes (height x width), so
    each is compared only with those of its own (:func:`_with_focus_ratios`); none for one."""
    n = len(_by_image_size([r for r in measured if r.get("image_size") is not None]))
    if n < 2:
        return []
    return [
        f"focus: the images are of {n} sizes (other cameras or scans?): focus_vs_median "
        f"compares each image only with those of its height and width (either way round, "
        f"within {SIZE_TOLERANCE:.0%}; empty where fewer than {FOCUS_IMAGES})"
    ]


def _mixed_line(smallest: float, largest: float) -> str:
    return (
        f"focus: the images' objects run {smallest:.0f}-{largest:.0f} px across (mixed "
        f"magnifications?), and the focus measure falls as objects grow in pixels: "
        f"focus_vs_median compares each image with those whose objects are within "
        f"{LIKE_ACROSS:g}x its own across (empty where fewer than {FOCUS_IMAGES})"
    )
