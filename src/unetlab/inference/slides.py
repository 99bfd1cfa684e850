"""Predict whole-slide images in bounded memory, in one process or shared out over many.

A large image (:mod:`~unetlab.inference.stream_rule` says which: a TIFF above
``LARGE_PIXELS`` px a page or too large to read whole, any TIFF pyramid level asked for, any
Zarr / OME-Zarr folder) is read window by window (:mod:`unetlab.data.slides`),
normalised with statistics of the whole page (one streamed pass), predicted row of tiles by
row of tiles, and its labels (and probabilities) written chunk by chunk into a staged Zarr
that becomes a pyramidal OME-TIFF or OME-Zarr (:mod:`unetlab.data.ome`).

:func:`predict_slide` writes ``<stem>.tif`` (``output_format="ome-tiff"``: tiled, deflate,
pyramidal OME-TIFF; an MRC input's: its MRC label file ``<stem>.mrc``, :func:`streamed_names`)
or ``<stem>.ome.zarr`` (OME-Zarr 0.4) of labels, (P,) H, W: class indices
uint8, or with ``label_values`` the model's mask values, ``color``: a palette TIFF;
``save_probabilities``: ``<stem>_prob.*`` float32 (K, (P,) H, W) (OME-TIFF stacks: (P, K, H,
W)). The input's pixel size is kept; the model's class names and what made them (the
checkpoint and settings: :func:`~unetlab.inference.records.prediction_record`, as
``predict_file`` records them) go into the OME metadata and the overlay's PNG text.
``objects``: also ``<stem>_objects.*`` (one id per object) and ``<stem>_objects.csv``
(:mod:`unetlab.inference.slide_objects`; one process only; ``counted``, if given, is called
with the objects of each page, and a semantic model's of each class as the whole-image path
gives them); ``outlines``: their outlines, ``<stem>_objects.geojson`` (level-0 pixels) and
``<stem>_objects_rois.zip`` (ImageJ ROIs, in the level's pixels as the ids: refused where
the level is over 32,767 px a side, where their coordinates stop).

Several processes (``unetlab predict --nproc N`` or torchrun) share one image by bands of
whole chunk rows: :func:`band_grid` picks the tiles a band needs, with enough tiles above
and below that its rows come out exactly as in one process; each process writes its own
chunks, and the main one builds the pyramid and publishes the file.

A run stopped part-way (Ctrl-C, ``kill``, a lost process) keeps its staged rows, and the same
call again resumes at the first chunk row not done (:mod:`unetlab.inference.slide_resume`),
or, stopped while its outputs were published, publishes them without predicting again
(:mod:`unetlab.inference.slide_outputs`).
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import logging
import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from unetlab.atomic import folder_sync_deferred, remove_tree
from unetlab.data import ome
from unetlab.data.dicom import is_dicom_series, name_less_suffix
from unetlab.data.geotiff import level_geotags, read_geotags
from unetlab.data.h5 import is_h5_name
from unetlab.data.io import TIFF_SUFFIXES, ome_positions
from unetlab.data.mrc import is_mrc_name
from unetlab.data.names import less_ome
from unetlab.data.nifti import is_nifti, nifti_case
from unetlab.data.nodata import blank_pixels
from unetlab.data.normalize import clipped, clips, contrast_note, floor_for, floored, raw_stats
from unetlab.data.plates import field_place
from unetlab.data.positions import current_suffix, position_of, position_suffix
from unetlab.data.shown import shown_path
from unetlab.data.slides import (
    Slide,
    is_zarr,
    open_slide,
    pixels_as_read,
    read_whole,
    reads_by_window,
    slide_header,
    slide_name,
    zarr_within,
)
from unetlab.data.tiffmeta import (
    PageAxes,
    PixelSize,
    channel_names,
    class_table,
    frame_seconds,
    given_sizes,
)
from unetlab.data.world_file import placement
from unetlab.errors import (
    GroupError,
    OutputError,
    Spelled,
    TheirFileError,
    UnetlabError,
    said_as,
    spelled,
)
from unetlab.group import SOLO, Group
from unetlab.inference import chosen, slide_resume
from unetlab.inference.appearance import say_streamed_appearance
from unetlab.inference.file_fit import file_fit
from unetlab.inference.held import refuse_own_input
from unetlab.inference.objects import (
    measured_classes,
    no_class_cuts,
    no_class_pixels,
    voting_labels,
)
from unetlab.inference.outlines import (
    GEOJSON_OUTLINES,
    ROI_SIDE,
    outline_class,
    outline_colours,
    rois_fit,
)
from unetlab.inference.pages import (
    axes_fix,
    axes_fixes,
    colour_times,
    file_read_axes,
    fitted,
    page_colour,
    page_rank,
    run_axes,
    save_axes,
    say_colour_pages,
    say_no_axes,
)
from unetlab.inference.predict import (
    PredictOptions,
    all_invalid_line,
    check_finite,
    class_names_of,
    encode_labels,
    fit_channels,
    floor_share,
    inference_session,
    labels_from_probabilities,
    model_background,
    model_label_nodata,
    probability_fn,
    say_contrast,
    say_pages,
)
from unetlab.inference.records import (
    TIFF_KEY,
    OutputOptions,
    carries_key,
    embedded_key,
    flat_letters,
    flat_record,
    input_record,
    label_colours,
    named_by_training,
    png_text,
    prediction_record,
    with_axes,
)
from unetlab.inference.rescale import refuse_streamed_scale
from unetlab.inference.sizing import choose_tiling
from unetlab.inference.slide_axes import slide_page_axes
from unetlab.inference.slide_nodata import (
    FilledPage,
    SlideNodata,
    from_record,
    note_recorded,
    say_unstored,
    slide_nodata,
    stats_record,
    stats_rows,
    valid_stats,
)
from unetlab.inference.slide_objects import SlideObjects, finish_widening, id_staging
from unetlab.inference.slide_outputs import (
    CLAIMED_FIX,
    Together,
    file_stamps,
    finish,
    publishing_path,
    seal,
)
from unetlab.inference.slide_overlay import OVERLAY_SIDE, by_object, write_slide_overlay
from unetlab.inference.slide_progress import TileProgress, counted
from unetlab.inference.tiling import TileGrid, iter_tiled_rows
from unetlab.manifest import claimed_only
from unetlab.outputs import outputs_kept
from unetlab.plots import shown_channels
from unetlab.runtime import check_precision, resolve_device

log = logging.getLogger(__name__)
#: the command whose manifest lines a slide's outputs have
COMMAND = "predict"

#: Images with more pixels per page than this are streamed (read window by window, written
#: chunk by chunk) instead of being read whole.
LARGE_PIXELS = 2**26
#: The streaming path's activation budget; the image band it keeps and the output rows it
#: buffers come out of it too (measured: 20k x 20k grey, "small" preset, peak 1.6 GB).
STREAM_BUDGET = 1.2e9


def is_large(
    path: str | os.PathLike,
    *,
    threshold: int | None = None,
    level: int = 0,
    axes: str | None = None,
) -> bool:
    """True for inputs predicted by :func:`predict_slide` by the pixel rule: Zarr folders,
    any pyramid level above 0, and TIFFs (any compression or tiling) and MRC files of more
    than ``threshold`` px a page (default ``LARGE_PIXELS``). A ``threshold`` given counts a page
    as ``axes`` read it (:func:`~unetlab.data.slides.pixels_as_read`: a model's YXC may read
    a bare file's pages as one image's rows), so that one over it is refused naming the
    count that reads it whole where the streaming path cannot read it so; the default
    counts a page as its file says, as the streaming path reads it (such a file is read
    whole, as before s63: a (8200, 8200, 2) array saved plain was refused). Which inputs
    are streamed in all (a one-page TIFF too large to read whole too):
    :mod:`~unetlab.inference.stream_rule`."""
    path = Path(path)
    if is_zarr(path) or (level > 0 and _has_levels(path)):
        return True
    if not reads_by_window(path):
        return False
    header = slide_header(path)  # once, for either count
    if threshold is None:
        return math.prod(header.shape[1:3]) > LARGE_PIXELS
    return pixels_as_read(header, axes) > threshold


def _has_levels(path: Path) -> bool:
    """Whether ``path`` is of a format whose levels above 0 the streaming path alone reads
    (a TIFF's or HDF5's pyramid, a CZI's ZEN pyramid: s75 review, a CZI under
    ``LARGE_PIXELS`` went to the whole-read path, which refused any level as no pyramid)."""
    return path.suffix.lower() in (*TIFF_SUFFIXES, ".czi") or is_h5_name(path)


def output_stem(path: str | os.PathLike) -> str:
    """The name every output of an input starts with: the input's name less its suffix and
    an ``.ome`` before it (``slide.ome.tif`` -> ``slide``, ``plate.ome.zarr`` -> ``plate``,
    ``a.b.png`` -> ``a.b``), so that ``slide.ome.tif`` gives ``slide.tif`` and
    ``slide.ome.zarr``, never ``slide.ome.ome.zarr``; while a position of a multi-position
    OME-TIFF is read, with its suffix (``plate.ome.tif``'s third of 12: ``plate_pos02``:
    :mod:`unetlab.data.positions`); a Zarr given by its path inside a store, its store's
    with that path (level ``a.ome.zarr/0``: ``a_0``; ``x.ome.zarr/1/0``: ``x_1_0``), so
    that levels of two stores, or two levels of one, have outputs of their own; a field of
    an HCS plate, its plate's with its well and field (``plate.ome.zarr/B/3/0``:
    ``plate_B03_f0``: :class:`~unetlab.data.plates.FieldPlace`)."""
    if (within := zarr_within(path)) and (place := field_place(path)):
        return output_stem(place.plate) + place.suffix
    if within:
        return "_".join((output_stem(within[0]), *within[1]))
    stem = nifti_case(path) if is_nifti(path) else name_less_suffix(path)  # x_0000.nii.gz: x
    return less_ome(stem) + current_suffix(path)


#: the endings of the label volumes of volume inputs (:func:`volume_labels`): NIfTI's, MRC's
VOLUME_LABELS = {"nifti": ".nii.gz", "mrc": ".mrc"}


def volume_labels(path: str | os.PathLike) -> str | None:
    """The ending of the labels of the input ``path`` where they are a volume of its own
    format, which overlays it in its field's viewers (3D Slicer, 3dmod, ChimeraX): ``.nii.gz``
    for a NIfTI volume, ``.mrc`` for an MRC file (``.rec``, ``.st`` too); else None."""
    if is_nifti(path) or is_dicom_series(path):  # a DICOM series' too: Slicer overlays it
        return VOLUME_LABELS["nifti"]
    return VOLUME_LABELS["mrc"] if is_mrc_name(path) else None


def output_stems(path: str | os.PathLike) -> list[str]:
    """The :func:`output_stem` of each position of a multi-position OME-TIFF
    (:func:`~unetlab.data.io.ome_positions`: ``plate_pos0``, ``plate_pos1``, ...), else
    the input's one."""
    count = len(ome_positions(path))
    stem = output_stem(path)
    return [stem + position_suffix(i, count) for i in range(count)] if count else [stem]


def output_names(stem: str, output_format: str) -> dict[str, str]:
    """File names of a large input's ``labels``, ``probabilities``, ``objects`` (ids),
    ``table`` (one row per object), ``geojson`` and ``rois`` (object outlines), for ``stem``
    (:func:`output_stem`)."""
    ext = ".tif" if output_format == "ome-tiff" else ".ome.zarr"
    return {
        "labels": f"{stem}{ext}",
        "probabilities": f"{stem}_prob{ext}",
        "objects": f"{stem}_objects{ext}",
        "table": f"{stem}_objects.csv",
        "geojson": f"{stem}_objects.geojson",
        "rois": f"{stem}_objects_rois.zip",
    }


def streamed_names(path: str | os.PathLike, output_format: str) -> dict[str, str]:
    """:func:`output_names` of the large input ``path``; an MRC file's labels in OME-TIFF's
    stead are its MRC label file ``<stem>.mrc``, as read whole (:func:`volume_labels`:
    3dmod and ChimeraX overlay it at its voxel size; s72: a streamed tomogram's were a
    TIFF, which 3dmod draws mirrored); an OME-Zarr asked for stays one."""
    names = output_names(output_stem(path), output_format)
    if mrc_labels(path, output_format):
        names["labels"] = output_stem(path) + VOLUME_LABELS["mrc"]
    return names


def mrc_labels(path: str | os.PathLike, output_format: str) -> bool:
    """Whether the labels of the large input ``path`` are an MRC label file
    (:func:`streamed_names`): an MRC file's, with OME-TIFF outputs."""
    return output_format == "ome-tiff" and is_mrc_name(path)


def _overlay_path(out_dir: Path, path) -> Path:
    """Where the overlay of the slide ``path`` goes: ``<stem>_overlay.png`` in ``out_dir``
    (downsampled, a PNG whatever the labels' format)."""
    return out_dir / f"{output_stem(path)}_overlay.png"


# --- a band of rows, exactly ----------------------------------------------------------------


def band_grid(
    grid: TileGrid, rows: tuple[int, int], *, batch_size: int = 1
) -> tuple[int, TileGrid]:
    """The tiles of ``grid`` that give output rows ``[start, stop)`` exactly as the whole
    grid does: ``(offset, sub)``, ``sub`` a grid over image rows ``offset .. offset +
    sub.shape[0] - 1``. From above, only the tile rows that reach the band: the view starts
    at the first one's input (its border above it), the whole grid's step of tile rows and
    place in its batches go with ``sub`` (:class:`~unetlab.inference.tiling.TileGrid`),
    so the first batch holds stand-ins, not whole tile rows, for the tiles before it. Below
    the band, tiles are kept as far as the border and mirror padding reach, and as far as
    the whole grid's batches end."""
    start, stop = rows
    h = grid.shape[0]
    ys, n, nx = grid.ys, len(grid.ys), len(grid.xs)
    if n == 1 or (start <= 0 and stop >= h):
        return 0, grid
    oh, pad, step = grid.out_tile[0], grid.pad, ys[1] - ys[0]
    b = next((k for k in range(n) if ys[k] >= stop), n)
    # abutting tiles: the one holding the band's first row; blended ones: every tile that
    # overlaps that row (the first tile kept blends its top rows alone, rows that the tile
    # above, left out, overlaps: above the band)
    if grid.abut:
        first = max(k for k in range(n) if ys[k] <= start)
    else:
        first = min(k for k in range(n) if ys[k] + oh > start)
    end = min(n, b + math.ceil(pad / step))
    while end < n and (end * nx) % batch_size:
        end += 1
    offset = max(0, ys[first] - pad)  # the border above the first tile: image rows, not mirrored
    bottom = h if end == n else min(h, ys[end - 1] + oh)
    sub = TileGrid(
        shape=(bottom - offset, grid.shape[1]),
        tile=grid.tile,
        out_tile=grid.out_tile,
        ys=tuple(y - offset for y in ys[first:end]),
        xs=grid.xs,
        pad=pad,
        abut=grid.abut,
        row_step=grid.row_step or step,
        lead=grid.lead + first * nx,
    )
    return offset, sub


class _Rows:
    """Rows ``offset .. offset + height - 1`` of an (H, W, C) array-like, as one."""

    ndim = 3

    def __init__(self, image, offset: int, height: int):
        self.image, self.offset = image, offset
        self.shape, self.dtype = (height, *image.shape[1:]), image.dtype

    def __getitem__(self, key) -> np.ndarray:
        rows, cols = (key, slice(None)) if not isinstance(key, tuple) else (*key, slice(None))[:2]
        r0, r1, _ = rows.indices(self.shape[0])
        return self.image[self.offset + r0 : self.offset + max(r0, r1), cols]


def iter_slide_rows(
    fn: Callable[[torch.Tensor], torch.Tensor],
    image,
    grid: TileGrid,
    *,
    rows: tuple[int, int] | None = None,
    batch_size: int = 1,
    **kwargs,
) -> Iterator[tuple[int, np.ndarray]]:
    """``(y, block)`` for output rows ``rows = (start, stop)`` (default: all) of an (H, W, C)
    array-like ``image``, in order, blocks (K, r, W) float32 equal to what
    :func:`iter_tiled_rows` gives over the whole ``grid`` (``kwargs`` go to it)."""
    start, stop = rows if rows is not None else (0, grid.shape[0])
    if stop <= start:  # an empty share (more processes than chunk rows)
        return
    offset, sub = band_grid(grid, (start, stop), batch_size=batch_size)
    view = image if sub is grid else _Rows(image, offset, sub.shape[0])
    for y, block in iter_tiled_rows(fn, view, sub, batch_size=batch_size, **kwargs):
        y += offset
        lo, hi = max(y, start), min(y + block.shape[1], stop)
        if hi > lo:
            yield lo, block[:, lo - y : hi - y]
        del block  # its row of tiles' buffer, as wide as the page, not held through the next


# --- one slide ------------------------------------------------------------------------------


class _Fitted:
    """An (H, W, C) array-like with its channels fitted to the model on read."""

    ndim = 3

    def __init__(self, image, channels: int, name: str, channel=None, colour=None):
        self.image, self.channels, self.name = image, channels, name
        self.fit = dict(name=name, quiet=True, channel=channel, colour=colour)
        probe = self._fit(np.zeros((1, 1, image.shape[2]), image.dtype))
        self.shape, self.dtype = (*image.shape[:2], channels), probe.dtype

    def __getitem__(self, key) -> np.ndarray:
        return self._fit(self.image[key])

    def _fit(self, window: np.ndarray) -> np.ndarray:
        return fit_channels(window, self.channels, **self.fit)


class _Clipped:
    """An (H, W, C) array-like clipped on read to a ``ct`` spec's ``lower`` and ``upper``
    (:func:`~unetlab.data.normalize.clipped`), float32: the tiles of a streamed page see what
    the page read whole and the training samples see (s71: they saw bone at 1,500 HU where
    training clipped it to the foreground's 99.5th percentile)."""

    ndim = 3

    def __init__(self, image, spec: dict):
        self.image, self.spec = image, spec
        self.shape, self.dtype = image.shape, np.dtype(np.float32)

    def __getitem__(self, key) -> np.ndarray:
        return clipped(np.asarray(self.image[key]), self.spec)


def _net_view(image, spec: dict):
    """``image`` (an (H, W, C) array-like) as the tiles read it for a net normalised by
    ``spec``: clipped on read where the spec clips (:class:`_Clipped`), else itself."""
    return _Clipped(image, spec) if clips(spec) else image


class _Finite:
    """An (H, W, C) array-like of floats whose rows are checked for NaN and infinite pixels
    the first time a window reaches them, whole rows at a time (UnetlabError naming the file
    and the rows): each pixel once, not once per overlapping tile. ``image`` keeps the rows
    it last read (a :class:`~unetlab.data.slides.SlidePage`), so checking them reads nothing.
    ``invalid``: a function of a slice of rows giving their pixels that are no sample (a NaN
    nodata: not refused), or None."""

    ndim = 3

    def __init__(self, image, name: str, invalid=None):
        self.image, self.name, self.invalid = image, name, invalid
        self.shape, self.dtype = image.shape, image.dtype
        self._checked = (0, 0)  # the rows [lo, hi) checked so far

    def __getitem__(self, key) -> np.ndarray:
        block = np.asarray(self.image[key])
        rows = key[0] if isinstance(key, tuple) else key
        start, stop, _ = rows.indices(self.shape[0])
        for lo, hi in self._unchecked(start, max(start, stop)):
            where = f" in rows {lo}-{hi - 1}"
            bad = None if self.invalid is None else self.invalid(slice(lo, hi))
            rows_read = np.asarray(self.image[lo:hi])
            check_finite(rows_read, self.name, channel_axis=True, where=where, invalid=bad)
        return block

    def _unchecked(self, start: int, stop: int) -> list[tuple[int, int]]:
        """The parts of rows ``[start, stop)`` not checked yet, now counted as checked (one
        run of rows is remembered: windows move down the page)."""
        lo, hi = self._checked
        if stop < lo or start > hi:  # apart from the checked run: a new one starts here
            self._checked = (start, stop)
            return [(start, stop)] if stop > start else []
        self._checked = (min(lo, start), max(hi, stop))
        return [(a, b) for a, b in ((start, min(stop, lo)), (max(start, hi), stop)) if b > a]


def _checked(image, name: str, raw=None, nodata: SlideNodata | None = None):
    """``image``, its rows checked for non-finite pixels as windows reach them when it holds
    floats, but for those ``nodata`` finds invalid in ``raw`` (the page as read: a NaN
    nodata is left out, not refused; review s32 2)."""
    if not np.issubdtype(image.dtype, np.inexact):
        return image
    invalid = None if nodata is None else (lambda rows: nodata.invalid(raw[rows], (rows.start, 0)))
    return _Finite(image, name, invalid)


def stream_tiling(
    model, slide: Slide, *, probabilities: bool, tile_size=None, batch_size=None, device=None
):
    """The grid and batch size of a streamed page: ``STREAM_BUDGET`` less the image band
    the page keeps and the output rows the writers buffer; on a CPU ``device`` an automatic
    batch reaches no more than :data:`~unetlab.inference.sizing.CPU_BATCH_PIXELS`."""
    _, h, w, c = slide.shape
    k = max(model.num_classes, 1)
    row_bytes = w * (c * slide.dtype.itemsize + 2 + (8 * k if probabilities else 0))
    sizes = dict(batch_size=batch_size, device=device)
    grid, batch = choose_tiling(model, (h, w), tile_size=tile_size, budget=STREAM_BUDGET, **sizes)
    extra = row_bytes * (grid.tile[0] + 2 * ome.CHUNK)
    if tile_size is None and extra > 0.1 * STREAM_BUDGET:
        budget = max(STREAM_BUDGET - extra, 0.3 * STREAM_BUDGET)
        grid, batch = choose_tiling(model, (h, w), budget=budget, **sizes)
    chosen.note(tile_size=chosen.tile_value(grid.tile))
    return grid, batch


def give_sizes(slide: Slide, pixel_size: float | None, z_spacing: float | None) -> None:
    """The pixel size (µm, of the input: level 0) and z spacing given (``--pixel-size``,
    ``--z-spacing``: :func:`~unetlab.data.tiffmeta.given_sizes`, each said where it differs
    from the file's) put in place of those ``slide`` records, the pixel size scaled to the
    level read: its outputs' OME metadata, objects tables and overlay carry them, as an image
    read whole's outputs do."""
    if pixel_size is None and z_spacing is None:
        return
    dy, dx = slide.downsample
    size = slide.pixel_size
    recorded = None
    if size is not None:
        recorded = PixelSize((size[0] / dy, size[1] / dx), "um", slide.z_spacing)
    level = (slide.level, dy)
    given = given_sizes(recorded, shown_path(slide.path), pixel_size, z_spacing, level=level)
    slide.pixel_size = (given.size[0] * dy, given.size[1] * dx)
    slide.z_spacing = slide.z_spacing if given.spacing is None else given.spacing


def check_bare_channels(slide: Slide, model_channels: int) -> None:
    """UnetlabError where ``slide``'s grey pages record no axes and are as many as the
    model's channels (> 1): read whole they are one image's channels
    (:func:`~unetlab.inference.pages.guess_pages`), which a large image read window by window
    cannot take (its pages are planes or frames), naming what reads them either way."""
    pages, h, w, c = slide.shape
    if slide.given_axes is not None or c != 1 or not 1 < pages == model_channels:
        return
    if slide.path.suffix.lower() not in TIFF_SUFFIXES:
        return
    if slide_page_axes(slide).letters != "Q":
        return
    rank = page_rank(slide.path)
    head = (
        f"{shown_path(slide.path)}: {pages} pages and no axis metadata, as many as the model's "
        "channels: read whole they are one image's channels, and this one is large, read "
        "window by window, where pages are planes or frames: "
    )
    raise UnetlabError(
        head + _bare_fixes(rank, h * w, cli=False), cli=head + _bare_fixes(rank, h * w, cli=True)
    )


def _bare_fixes(rank: int, pixels: int, *, cli: bool) -> str:
    """The fixes of :func:`check_bare_channels`'s line for a file of ``rank`` axes and
    ``pixels`` a page, as the command line (``cli``) or Python spells them (s55 review: a
    notebook was told ``--large-pixels N``; s56: ``large_threshold=N``, which a
    ``predict_slide`` call ignores: :func:`~unetlab.data.slides.read_whole`)."""
    planes, times, channels = (fitted(a, rank) for a in ("ZYX", "TYX", "CYX"))
    as_planes = (  # both or neither: as many plane axes (fitted)
        f"give {axes_fix(planes, cli)} if they are planes ({axes_fix(times, cli)}: time points)"
        if planes and times
        else axes_fixes([], rank, "planes", cli)
    )
    whole = read_whole(pixels)
    whole = "read it whole with " + (whole.cli if cli else whole.python)
    if channels:  # none named (too many axes for --axes): one fix for both, saving its axes
        return f"{as_planes}; if they are channels, {save_axes(channels)}, or {whole}"
    return f"{axes_fixes([], rank, 'planes or channels', cli)}; if they are channels, also {whole}"


#: the page axes a streamed TIFF keeps (a Z, T stack's as T, Z: :func:`_page_lead`); Z
#: alone, or none known, its pages are written as planes
_TIMED = ("T", "TZ", "ZT")


def _page_axes(slide: Slide, *, say: bool = False) -> PageAxes:
    """What the pages of a streamed stack are (:func:`_page_lead`): a TIFF's T and Z in its
    order (:func:`~unetlab.data.tiffmeta.read_page_axes`, or as the user's axes say:
    :func:`~unetlab.inference.pages.given_page_axes`), other stacks' planes (Z); ``say``:
    warn where a TIFF's pages have no axes (:func:`~unetlab.inference.pages.say_no_axes`)."""
    pages = slide.shape[0]
    axes = slide_page_axes(slide)
    if pages == 1 or axes.letters in _TIMED:
        return axes
    say = say and axes.letters == "Q" and slide.given_axes is None  # a TIFF's, of no axes
    if say and slide.shape[3] > 1:  # as read whole: read_pages
        say_colour_pages(shown_path(slide.path), pages, colour_times(slide.path))
    elif say:
        say_no_axes(shown_path(slide.path), pages, streamed=True, rank=page_rank(slide.path))
    return PageAxes("Z", (pages,))


def _page_lead(slide: Slide) -> tuple[tuple[int, ...], str, float | None]:
    """The pages of a streamed stack as its outputs' leading axes: their sizes, letters and
    seconds between time points. A TIFF time-lapse keeps T (and Z after it: ImageJ's order,
    a Z, T stack's too, as read whole) with its frame interval
    (:func:`~unetlab.data.tiffmeta.read_page_axes`; audit s34 stacks 1: a streamed movie
    came out as a Z stack); other stacks are Z, one page has none."""
    axes = _page_axes(slide)
    if not axes.letters:
        return (), "", None
    sizes = tuple(axes.shape[axes.letters.index(a)] for a in axes.axes)
    return sizes, axes.axes.lower(), frame_seconds(axes.timing)


def _page_order(slide: Slide) -> str:
    """The order a streamed stack's pages run over its outputs' ``t`` and ``z`` where it is
    not theirs (a Z, T stack's ``"zt"``: :attr:`~unetlab.data.ome.OutputSpec.page_order`),
    else ""."""
    axes = _page_axes(slide)
    return axes.letters.lower() if axes.letters != axes.axes else ""


def _note_axes(slide: Slide) -> None:
    """Note the axes the slide is read as for the folder's record (:mod:`~.chosen`): its
    pages' (in its order, as read whole), Y, X and C where it has more than one channel."""
    shape = slide.shape if slide.shape[3] > 1 else slide.shape[:3]
    chosen.note(axes=chosen.read_axes(_page_axes(slide).letters, shape), shape=list(shape))


def _specs(model, slide: Slide, outputs: OutputOptions, *, values, record, nodata=False):
    """What the outputs hold. Probabilities are (K, P, H, W) in OME-Zarr (NGFF orders
    channels before z) and (P, K, H, W) in TIFF, as in-memory stacks are written.
    ``record``: what made them (:class:`~unetlab.inference.records.Provenance`), as JSON
    in their metadata; ``nodata``: whether the input has pixels that are no sample
    (:func:`_label_spec`)."""
    _, h, w, _ = slide.shape
    k = max(model.num_classes, 1)
    lead, page_axes, seconds = _page_lead(slide)
    names = class_names_of(model)[: max(k, 2)]
    labels = _label_spec(model, slide, outputs, values=values, record=record, nodata=nodata)
    specs = {"labels": labels}
    if outputs.save_probabilities:
        zarr_order = outputs.output_format == "ome-zarr"
        # NGFF orders time, then channels, then space; TIFF keeps ImageJ's T, Z, C
        t = int(page_axes.startswith("t"))
        shape = (*lead[:t], k, *lead[t:], h, w) if zarr_order else (*lead, k, h, w)
        axes = page_axes[:t] + "c" + page_axes[t:] if zarr_order else page_axes + "c"
        specs["probabilities"] = ome.OutputSpec(
            shape=shape,
            axes=axes + "yx",
            dtype=np.dtype(np.float32),
            pixel_size=slide.pixel_size,
            z_spacing=labels.z_spacing,
            frame_seconds=seconds,
            downsample="mean",
            channels=tuple(names[-k:]) if names else (),
            record=labels.record,
            geotags=labels.geotags,
            geo=labels.geo,
            page_order=labels.page_order,
        )
    return specs


def _label_spec(model, slide: Slide, outputs: OutputOptions, *, values, record, nodata: bool):
    """The labels' :class:`~unetlab.data.ome.OutputSpec` (:func:`_specs`); where the input
    has pixels that are no sample (``nodata``), they hold a value of no class there, named
    in their metadata (:func:`~unetlab.inference.predict.model_label_nodata`, as a TIFF of
    an image read whole names it), but in an MRC label file (:func:`mrc_labels`), which
    has no place to name it: the background's, as read whole (s72 fix: a stray 255)."""
    _, h, w, _ = slide.shape
    k = max(model.num_classes, 1)
    lead, page_axes, seconds = _page_lead(slide)
    colormap = None
    colours = label_colours(model, color=outputs.color, values=values is not None)
    if colours is not None:  # the palette a label image read whole gets (a colour table's)
        colormap = np.zeros((3, 256), dtype=np.uint16)
        colormap[:, : len(colours)] = colours.T.astype(np.uint16) * 257
    names = class_names_of(model)[: max(k, 2)]
    label_dtype = encode_labels(np.zeros(1, np.uint8), values).dtype
    # an MRC label file has no nodata tag: there the background, as a whole read writes it
    nodata = nodata and not mrc_labels(slide.path, outputs.output_format)
    void = (
        model_label_nodata(model, values, label_dtype, shown_path(slide.path)) if nodata else None
    )
    return ome.OutputSpec(
        shape=(*lead, h, w),
        axes=page_axes + "yx",
        dtype=label_dtype,
        pixel_size=slide.pixel_size,
        z_spacing=slide.z_spacing if "z" in page_axes else None,
        frame_seconds=seconds,
        downsample="nearest",
        colormap=colormap,
        classes=class_table(names, values) if names else None,
        record=png_text(record).get(TIFF_KEY),
        # the map's place on the input's grid; a --level N output's on the level's
        geotags=level_geotags(read_geotags(slide.path), slide.downsample),
        geo=placement(slide.path, slide.downsample),  # an OME-Zarr's (no tags)
        nodata=void,
        page_order=_page_order(slide),
    )


def predict_slide(
    model: torch.nn.Module,
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    options: PredictOptions | None = None,
    outputs: OutputOptions | None = None,
    *,
    overlay: np.ndarray | None = None,
    overlay_side: int = OVERLAY_SIDE,
    progress: Callable[[int], None] | None = None,
    group: Group = SOLO,
    counted: Callable[..., None] | None = None,
    axes: str | None = None,
    axes_trained: bool = False,
    **settings,
) -> list[Path]:
    """Predict a large image (TIFF, pyramid level ``outputs.level``, Zarr / OME-Zarr) window
    by window; return the written paths. ``settings``: the fields of ``options`` and
    ``outputs`` by name. ``overlay`` (colours): ``<stem>_overlay.png`` to fit ``overlay_side``.
    ``counted``: called with each page's objects (and each class's). In a ``group`` each
    process writes its band of chunk rows, the main one publishes; a stopped run resumes its
    staged rows. ``axes``: a TIFF's, as given, or the checkpoint's (``axes_trained``)."""
    path, out_dir = Path(path), Path(out_dir)
    outputs, overlay, settings = _taken_outputs(model, outputs, overlay, settings)
    values = outputs.values(model, shown_path(path))
    asked = PredictOptions.of(options, **settings).channel  # not the model's
    options = PredictOptions.for_model(model, options, **settings)
    refuse_streamed_scale(shown_path(path), options.scale)
    _check_request(path, outputs, group, overlay)
    record = named_by_training(prediction_record(model, options, outputs), model, asked)
    # the checkpoint's axes where none are given, not for a file they do not fit
    record = input_record(with_axes(record, run_axes(model, axes), trained=axes is None), path)
    with _checked_slide(path, model, outputs, axes, axes_trained) as slide:
        _check_rois(slide, outputs)
        record = flat_record(record) if flat_letters(_page_lead(slide)[1]) else record
        how = dict(path=path, asked=asked, values=values, record=record, group=group)
        run = _SlideRun.of(model, slide, out_dir, options, outputs, **how)
        finished = _done_before(run, slide, out_dir, counted, group)
        if finished is None:  # the overlay added from the outputs there: none predicted
            drawn = (overlay, overlay_side, record, run.options.channel)
            finished = _drawn_again(model, run, outputs, values, drawn, counted)
        if finished is not None:  # a stopped run's outputs, finished: none predicted now
            return finished
        run = _stamped(run, out_dir)  # one another program writes meanwhile is not replaced
        tiles = _predict_run(model, run, values=values, progress=progress, group=group)
        drawn = None if overlay is None else (overlay, overlay_side, record, run.options.channel)
        done = dict(values=values, drawn=drawn, counted=counted, told=tiles.told)
        extra = _publish_run(model, run, out_dir, **done) if group.is_main else []
    group.share(None)
    return [run.finals[key] for key in run.specs] + extra


def _stamped(run: _SlideRun, out_dir: Path) -> _SlideRun:
    """``run`` with its outputs' files as it begins (``before``: their stamps), a name there
    that only a stopped run's claim lists refused (:func:`refuse_claimed_only`)."""
    overlay = _overlay_path(out_dir, run.slide.path)
    run = replace(run, before=file_stamps([*run.finals.values(), overlay]))
    there = [p.name for p, stamp in run.before.items() if stamp is not None]
    refuse_claimed_only(out_dir, run.finals["labels"], there)
    return run


def _done_before(run, slide, out_dir: Path, counted, group: Group) -> list[Path] | None:
    """The paths of a stopped run's outputs of ``slide`` that it had finished (their pixels
    counted as done before this run, for its rate), or of those there that this command
    keeps with a stopped run's staging it cannot resume (:func:`_looked_before`), or None
    where this run predicts."""
    published, kept = group.share(_looked_before(run) if group.is_main else None)
    if kept:
        return [run.finals[key] for key in run.specs]
    if published is None:
        return None
    if group.is_main:
        slide_resume.note_done_before(math.prod(slide.shape[:3]))
    return _finished(published, out_dir, counted)


def _looked_before(run: _SlideRun) -> tuple[dict | None, bool]:
    """The main process's look at ``run``'s outputs, shared in one exchange (s67: a second
    for a slide without outputs): (a stopped run's published outputs, or None; whether none
    were, and those there are finished by this command and kept for a stopped run's
    staging it cannot resume, :func:`~.slide_resume.kept_for_its_run`)."""
    if (published := _published(run.finals, run.wanted)) is not None:
        return published, False
    name, path = shown_path(run.slide.path), run.slide.path
    return None, slide_resume.kept_for_its_run(name, path, run.staged, run.wanted)


def _taken_outputs(model, outputs: OutputOptions | None, overlay, settings: dict) -> tuple:
    """(outputs, overlay, settings) of :func:`predict_slide`: the ``outputs`` with their fields
    among ``settings`` taken out (the rest: ``PredictOptions``' fields), made for ``model``;
    the ``overlay`` colours the model's where none are given and ``draw_overlay`` asks."""
    outputs, settings = OutputOptions.taken(outputs, settings)
    outputs = outputs.for_model(model)
    if overlay is None and outputs.draw_overlay:
        overlay = label_colours(model, color=True, values=False)
    return outputs, overlay, settings


@contextlib.contextmanager
def _checked_slide(
    path: Path, model, outputs: OutputOptions, axes: str | None, trained: bool
) -> Iterator[Slide]:
    """The slide of ``path`` open at ``outputs.level``, read with ``axes`` (none given: the
    checkpoint's for a TIFF, :func:`file_read_axes`), its axes as given checked
    (:func:`~unetlab.data.slides.open_slide`), and its channels for ``model``, its read axes noted for the
    folder's record and the pixel size and z spacing of ``outputs`` given to it (no z
    spacing to one with no Z axis: as one read whole, it needs no pixel size for it).
    ``trained``: ``axes`` are the checkpoint's, none given (:func:`predict_file`'s)."""
    colour, read = model.in_channels == 3, file_read_axes(model, path, axes)
    trained = trained or (axes is None and read is not None)
    how = dict(level=outputs.level, colour_planes=colour, axes=read, trained=trained)
    with open_slide(path, **how) as slide:
        check_bare_channels(slide, model.in_channels)
        _note_axes(slide)
        flat = flat_letters(_page_lead(slide)[1])  # a 2-D image, a movie: no z step
        give_sizes(slide, outputs.pixel_size, None if flat else outputs.z_spacing)
        yield slide


@dataclass(frozen=True)
class _SlideRun:
    """What a slide's prediction writes and how: its ``slide`` open, the ``options``
    resolved for it, the pixels that are no sample (``nodata``), the outputs' ``specs``,
    final paths (``finals``) and staging folders (``stages``), the tile ``grid`` and
    ``batch`` size, the objects found as rows stream past (``found``, or None), the output
    format, and the staging's identity (``wanted``:
    :func:`~unetlab.inference.slide_resume.identity`)."""

    slide: Slide
    options: PredictOptions
    nodata: SlideNodata | None
    specs: dict
    finals: dict
    stages: dict
    grid: TileGrid
    batch: int
    found: SlideObjects | None
    output_format: str
    wanted: dict
    before: dict = field(default_factory=dict)  # the outputs' files as the run began

    @classmethod
    def of(cls, model, slide: Slide, out_dir: Path, options, outputs: OutputOptions, **how):
        """The run of ``slide``, read from ``how["path"]`` (``how``: also the channel
        ``asked``, not the model's, the mask ``values`` labels are written as, the
        ``record`` of what made them, the ``group``)."""
        path, group = how["path"], how["group"]
        options = _slide_options(model, slide, path, options, how["asked"])
        nodata = slide_nodata(path, options.nodata, slide.level)  # no sample, or None
        if group.is_main:  # a Zarr's chunks not stored (a partial copy?): one line
            say_unstored(slide, nodata)
        made = dict(values=how["values"], record=how["record"], nodata=nodata is not None)
        specs = _specs(model, slide, outputs, **made)
        finals = _finals(out_dir, path, outputs.output_format)
        refuse_own_input(out_dir, [finals[key] for key in specs], path)  # s72: tomo.mrc
        if group.is_main:
            say_older_name(path, finals["labels"])
        stages = {key: ome.staging_path(finals[key]) for key in specs}
        device = _device(model, options, group)
        tiling = dict(tile_size=options.tile_size, batch_size=options.batch_size, device=device)
        grid, batch = stream_tiling(
            model, slide, probabilities=outputs.save_probabilities, **tiling
        )
        found = _slide_objects(model, outputs, specs["labels"], finals)
        if found is not None and nodata is not None:  # objects beside it touch the border
            found.invalid = nodata.invalid  # (read by slide_objects: patch_nodataslides_*)
        if found is not None and slide.shape[3] > 1:  # intensity columns by channel name
            found.channels = channel_names(path)
        if found is not None:  # the table's image column, as an image read whole
            found.name, found.position = slide_name(path), position_of(path)
        made = (specs, finals, stages, grid, batch, found, outputs.output_format)
        every = _with_ids(specs, found, "spec")
        wanted = slide_resume.identity(
            path, every, grid, batch, world=group.world, device=device, nodata=nodata
        )
        return cls(slide, options, nodata, *made, wanted)

    @property
    def staged(self) -> dict[str, Path]:
        """The staging folders, the objects' ids' among them."""
        return _with_ids(self.stages, self.found, "stage")

    @property
    def every(self) -> dict:
        """The specs of what is staged, the objects' ids' among them."""
        return _with_ids(self.specs, self.found, "spec")


def _with_ids(parts: dict, found: SlideObjects | None, part: str) -> dict:
    """``parts`` and, with objects, their ids' ``part`` (``"stage"``, ``"spec"``) as ``ids``."""
    return {**parts, **({"ids": getattr(found, part)} if found is not None else {})}


def _finished(published: dict, out_dir: Path, counted) -> list[Path]:
    """The paths of the outputs a stopped run had published (:func:`_published`), its
    objects said to ``counted``. Told the run as its own (:func:`outputs_kept`): one renamed
    before the stop, unchanged since this run's claim, was removed as an earlier output it
    did not write (s74 review: the overlay of a run over earlier outputs)."""
    if published.get("counts") is not None and counted is not None:
        _count(counted, published["counts"], published["classes"], published.get("areas"))
    outputs_kept(out_dir, published["paths"])
    return [out_dir / name for name in published["paths"]]


#: what a file a stopped run only claimed gets, as its caller runs predict (predict_folder
#: was told "unetlab predict never replaces such a file ... run the same command again", s58)
def refuse_claimed_only(out_dir: Path, labels: Path, there: Iterable[str]) -> None:
    """TheirFileError (that input's failure) naming one of the outputs ``there`` (names of
    files there as the image begins) whose manifest lines are only a stopped run's claim
    of it (PENDING), and that run did not write it: it does not carry the claim's key, or
    cannot carry one (a table) and neither the ``labels`` nor another output of ``there``
    do (the object ids, put in place before the table: a run killed between them, its
    publishing folder gone, had its own table refused: s42 edges). An OME-Zarr
    without its attributes is not a run's either: unetlab seals one, attributes and all,
    before it renames it into place (a user's Zarr v2 folder was replaced: s42 edges).
    A user's file put under an output's name after a ``kill -9`` was replaced by the rerun
    without a word (audit s41 claims; an image read whole too: s41 claims2)."""
    there = list(there)
    claimed = claimed_only(out_dir, there, COMMAND) if there else {}
    carriers = [labels, *(out_dir / n for n in there if carries_key(n))]  # of a table's key
    for name, keys in sorted(claimed.items()):
        proofs = [out_dir / name] if carries_key(name) else carriers
        if not any(embedded_key(path) in keys for path in proofs):
            said = f"{out_dir / name} was not written by unetlab (a stopped run had only claimed "
            raise TheirFileError(**spelled(f"{said}its name): {{}}".format, CLAIMED_FIX))


def _predict_run(model, run: _SlideRun, *, values, progress, group: Group) -> TileProgress:
    """Stage ``run``'s outputs (or resume a killed run's) and predict this process's bands
    into them; every process waits for the others' bands. Returns their tile count, which
    then says the work after the tiles (:meth:`TileProgress.phase`)."""
    resumed = _stage(run.slide, run.grid, run.finals, run.staged, run.every, group, run.wanted)
    if run.found is not None:
        run.found.staged(new=False)  # created or kept above
        if resumed:  # a damaged lookup refused now, not after the pages left (review s62)
            run.found.check_staged(run.slide.shape[0])
    with _kept_to_resume(run.staged, group), _failing_together(group):
        how = dict(values=values, progress=progress, group=group, resumed=resumed)
        tiles = _predict_bands(model, run, **how)
    group.share(None)  # every process has written its bands
    return tiles


def _publish_run(
    model, run: _SlideRun, out_dir: Path, *, values, drawn, counted, told=None
) -> list[Path]:
    """:func:`_publish` of ``run`` (main process), its objects said to ``counted``; the
    paths written beside the labels and probabilities. ``told(name)``: the function that
    says how far the output ``name``'s work is (:meth:`TileProgress.told`)."""
    if drawn is not None:
        run.finals["overlay"] = _overlay_path(out_dir, run.slide.path)
    made = (run.finals, run.staged, run.specs, run.found, run.output_format, run.wanted)
    how = dict(values=values, drawn=drawn, before=run.before, told=told)
    extra = _publish(model, run.slide, out_dir, made, **how)
    if run.found is not None and counted is not None:
        _count(counted, run.found.counts, run.found.classes, run.found.areas)
    return extra


def _publish(
    model, slide, out_dir: Path, made: tuple, *, values, drawn=None, before=None, told=None
) -> list[Path]:
    """Make a slide's outputs from its staged arrays and put them in place together (main
    process). ``made``: (the final paths, the staging folders of the outputs and of the
    objects' ids, the outputs' specs, the slide's objects or None, the output format);
    ``drawn``: the overlay's (colours, side, record, channel shown), None for no overlay.
    The overlay, the objects, the labels last, through a publishing folder: a run stopped
    before they are all written leaves the earlier outputs as they were and its stagings for
    the rerun to publish, one stopped after is finished by the rerun
    (:mod:`~unetlab.inference.slide_outputs`), each saying how far it is to ``told(name)``
    (:meth:`TileProgress.told`), where given. Returns the paths written beside the labels
    and probabilities."""
    finals, staged, specs, found, output_format, wanted = made
    told = told or (lambda name: None)
    stages, extra = {key: staged[key] for key in specs}, []
    paths = [finals[key] for key in specs] + _extra_paths(finals, found)
    journal = {
        "input": wanted["input"],  # the input's, as a staging's record names it
        "identity": wanted,
        "paths": [p.name for p in paths],
        "stagings": sorted(p.name for p in {*staged.values(), *_own_stagings(finals)}),
    }
    publishing = publishing_path(finals["labels"])
    # a stop keeps the stagings (and the earlier outputs): the rerun publishes them
    with (
        _kept_to_resume(staged, SOLO),
        folder_sync_deferred(out_dir),
        Together(output_format, publishing, journal, before=before) as at,
    ):
        _reserve(at, finals, specs, found)
        if found is not None:
            _classify(found, model, stages["labels"], specs["labels"], values)
            extra += found.publish(slide, at, told=told)
            # committed with it: what the summary says of the objects
            journal.update(counts=found.counts, classes=found.classes, areas=found.areas)
        if drawn is not None:  # after the objects: their outlines from the final ids
            # the labels' nodata drawn as the background, as an image read whole draws it
            decode = _indices_of(values, specs["labels"].nodata, model_background(model))
            shown = (found, finals, decode, drawn)
            told_overlay = told(finals["overlay"].name)
            extra[:0] = _overlay(slide, stages, specs, *shown, at=at, told=told_overlay)
        for key, spec in specs.items():
            seal(at, stages[key], finals[key], spec, told(finals[key].name), like=slide.path)
    return extra


def _count(counted: Callable[..., None], counts: list[int], classes: dict, areas) -> None:
    """Say a slide's objects to ``counted``: those of each page, and a semantic model's of
    each class (``classes``) and their areas in m² on a map (``areas``), where it has them."""
    counted(counts, *[k for k in (classes, areas) if k])


def _published(finals: dict[str, Path], wanted: dict) -> dict | None:
    """Finish the publishing of a slide's outputs that a stopped run committed
    (:func:`~unetlab.inference.slide_outputs.finish`); its record (the outputs' names in
    ``paths``, the objects' ``counts``, ``classes`` and ``areas``) where that run was this one
    (``wanted``: :func:`~unetlab.inference.slide_resume.identity`), else None."""
    labels = finals["labels"]
    found = finish(publishing_path(labels))
    if found is None:
        return None
    if found.get("identity") != json.loads(json.dumps(wanted)):
        log.info("%s: put in place the outputs a stopped run had written", labels.name)
        return None
    log.info(
        "%s: a stopped run had written its outputs: put in place, not predicted again", labels.name
    )
    return found


def _extra_paths(finals: dict[str, Path], found: SlideObjects | None) -> list[Path]:
    """The outputs published beside the labels and probabilities, in :func:`_publish`'s
    order: the overlay, the objects, their table and outlines."""
    extra = [finals["overlay"]] if "overlay" in finals else []
    if found is not None:
        extra += [finals["objects"], finals["table"]]
        extra += found.outline_paths()
    return extra


def _reserve(at: Together, finals: dict, specs: dict, found: SlideObjects | None) -> None:
    """Reserve the temporaries of a slide's outputs in the reverse of the order they are
    published in: the labels (the file that says the input is done) last."""
    folder = at.output_format == "ome-zarr"
    for key in specs:
        at.reserve(finals[key], folder=folder)
    if found is not None:  # the ids before the table (which carries no key): it is
        at.reserve(finals["table"])  # proved the run's by them (refuse_claimed_only)
        at.reserve(finals["objects"], folder=folder)
        for outlines in found.outline_paths():
            at.reserve(outlines)
    if "overlay" in finals:
        at.reserve(finals["overlay"])


def _slide_options(model, slide: Slide, path: Path, options: PredictOptions, asked):
    """``options`` with the channel predicted of ``slide`` (read from ``path``, with the
    axes given or the checkpoint's: :func:`~unetlab.inference.file_fit.file_fit`, as a
    file read whole), checked to fit the model (UnetlabError naming the fix) on a probe
    of one zero pixel, which says how a colour slide is fitted but not, with a channel
    chosen, that the probe's channel is constant (review s33 3)."""
    how = dict(asked=asked, axes=getattr(slide, "given_axes", None))
    how["axes_trained"] = getattr(slide, "axes_trained", False)
    fit = file_fit(
        model, path, slide.shape[3], channel=options.channel, nodata=options.nodata, **how
    )
    fit_channels(
        np.zeros((1, 1, slide.shape[3]), slide.dtype),
        model.in_channels,
        name=shown_path(path),
        quiet=fit["channel"] is not None,  # one channel of a 1-channel net: nothing else to say
        **fit,
    )
    return replace(options, channel=fit["channel"])


def _slide_objects(model, outputs: OutputOptions, labels: ome.OutputSpec, finals: dict):
    """The objects of a slide, as they stream past (None without ``outputs.objects``)."""
    if outputs.objects is None:
        return None
    facts = getattr(model, "objects", None)  # the checkpoint's record of objects
    found = SlideObjects(outputs.objects, facts, labels, finals, outputs.output_format)
    formats = tuple(kind for kind in ("geojson", "rois") if outputs.wanted[kind])
    if formats:
        found.outline(
            outline_class(model, outputs.objects), outline_colours(model, outputs.objects), formats
        )
    return found


def _classify(found: SlideObjects, model, labels: Path, spec: ome.OutputSpec, values) -> None:
    """A semantic model's objects of several classes get the class of their pixels in the
    staged ``labels`` (of ``spec``; the model's mask ``values``, decoded to class indices),
    as :func:`~unetlab.inference.objects.measured_classes` gives an image read whole; those
    beside its pixels of no class touch the border, as read whole
    (:func:`~unetlab.inference.objects.no_class_pixels`, s70)."""
    kinds, options = measured_classes(model, found.options, None), found.options
    if not kinds and not no_class_cuts(options):
        return
    staged, decode = ome.open_level(labels), _indices_of(values, spec.nodata)

    def class_indices(page: int, rows: slice, cols: slice) -> np.ndarray:
        return decode(np.asarray(staged[(*spec.place(page, rows)[:-1], cols)]))

    if no_class_cuts(options):
        found.no_class = lambda *window: no_class_pixels(class_indices(*window), options)
    if kinds:
        found.classify(
            lambda *window: voting_labels(class_indices(*window), options, model.num_classes),
            class_names=kinds["class_names"],
            background=kinds["background"],
        )


def _finals(out_dir: Path, path: Path, output_format: str) -> dict[str, Path]:
    """Where each output of a large input ``path`` goes (:func:`streamed_names`)."""
    names = streamed_names(path, output_format)
    return {key: out_dir / name for key, name in names.items()}


def say_older_name(path: Path, labels: Path) -> None:
    """The line for a Zarr given by its path in a store (``a.ome.zarr/0``) whose output
    folder holds labels by a name such an input's had before: before they were named after
    the store (``0.tif``, now ``a_0.tif``), or, a field of an HCS plate, before they were
    named after its well (``plate_A_1_0.tif``, now ``plate_A01_f0.tif``): kept (nothing a
    run did not make is removed), the field predicted under its new name."""
    ending = labels.name[len(output_stem(path)) :]
    for stem, took in _older_stems(path):
        old = labels.with_name(stem + ending)
        if old != labels and old.exists():
            log.warning(
                "%s: %s beside its %s is what its labels were named before they took %s; "
                "kept (remove it if it is not another input's)",
                *(shown_path(path), old.name, labels.name, took),
            )


def _older_stems(path: Path) -> list[tuple[str, str]]:
    """The names the outputs of the Zarr ``path`` given inside a store had before, each with
    what its name took since: its own (``0``: the store's name), and a plate field's path in
    its store (``plate_A_1_0``: its well's and field's)."""
    if (within := zarr_within(path)) is None:
        return []
    stems = [(Path(path).name, "the store's name")]
    if field_place(path) is not None:
        stems.append(
            ("_".join((output_stem(within[0]), *within[1])), "its well's and field's names")
        )
    return stems


def _device(model, options: PredictOptions, group: Group) -> torch.device:
    """The device the tiles are predicted on (as :func:`inference_session` picks it)."""
    if options.device is None:
        first = next(model.parameters(), None)
        return first.device if first is not None else torch.device("cpu")
    return group.device(resolve_device(options.device))


@contextlib.contextmanager
def _kept_to_resume(stages: dict[str, Path], group: Group):
    """On a problem with the input (a UnetlabError) the main process removes the staging
    folders: a rerun would meet it again. Stopped otherwise (Ctrl-C, SIGTERM, a lost
    process, a failed write, a bug) they stay, for the same command to resume
    (:mod:`~unetlab.inference.slide_resume`)."""
    try:
        yield
    except UnetlabError as exc:
        if group.is_main and not isinstance(exc, GroupError | OutputError):
            for stage in stages.values():
                remove_tree(stage, ignore_errors=True)
        raise


@contextlib.contextmanager
def _failing_together(group: Group):
    """A problem with the image (a UnetlabError: a corrupt tile, NaN pixels) in one process's
    band fails the image in every process, with its message: they agree before any goes on,
    so none waits at the publishing step for a process that has moved to its next file."""
    error = None
    try:
        yield
    except UnetlabError as exc:
        if not group.active:
            raise
        error = exc
    if group.active and (messages := [m for m in group.gather(error and str(error)) if m]):
        raise error or UnetlabError(messages[0])


def _overlay(
    slide, stages, specs, found, finals, decode, drawn, *, at: Together, told=None
) -> list[Path]:
    """``<stem>_overlay.png`` of page 0 from the staged labels (read as class indices by
    ``decode``: :func:`_indices_of`) and the objects' final ids (``found``, published:
    :meth:`~unetlab.inference.slide_objects.SlideObjects.final_rows`; the provisional ones
    outline the pieces of each window, not the objects written), drawn as ``drawn`` says
    (colours, side, record, channel shown), in one process (:func:`_draw_overlay`), saying
    how far it is to ``told``."""
    labels_spec = specs["labels"]
    labels = ome.open_level(stages["labels"])

    def label_rows(rows, cols):
        return decode(labels[(*labels_spec.place(0, rows)[:-1], cols)])

    rows = (label_rows, found.final_rows(0) if found is not None else None)
    objects = found is not None and by_object(found.options)
    place = at.at(finals["overlay"])
    _draw_overlay(slide, finals["overlay"], *rows, objects, drawn, place=place, told=told)
    return [finals["overlay"]]


def _draw_overlay(
    slide, path: Path, label_rows, id_rows, objects: bool, drawn, *, place=None, told=None
) -> None:
    """Write the overlay ``path`` (at ``place``, where given) of page 0 of ``slide`` from the
    class indices ``label_rows(rows, cols)`` gives and the ids of ``id_rows`` (None: no
    outlines), each object in its colour where ``objects``; ``drawn``: (colours, side,
    record, channel), its text holding the record and its pixel size
    (:func:`~unetlab.inference.slide_overlay.write_slide_overlay`), said in one line, over
    the ``channel`` predicted (by index; None: the first three), as an image read whole
    shows it (:func:`~unetlab.plots.shown_channels`; s70: channels 0-2 were shown)."""
    colours, side, record, channel = drawn
    _, h, w, c = slide.shape
    shown = shown_channels(c, channel)  # those it shows: the others are not decoded
    step = write_slide_overlay(
        place or path,
        (h, w),
        lambda rows, cols: slide.read(0, rows, cols, channels=shown),
        label_rows,
        id_rows,
        colours=colours,
        side=side,
        by_object=objects,
        text=png_text(record),
        pixel_size=slide.pixel_size,
        told=told,
    )
    pages = f" (page 1 of {slide.shape[0]})" if slide.shape[0] > 1 else ""
    log.info(
        "%s: overlay %s at 1/%d scale%s: %d x %d px",
        *(shown_path(slide.path), path.name, step),
        pages,
        -(-h // step),  # height x width, as every size said
        -(-w // step),
    )


def _drawn_again(
    model, run: _SlideRun, outputs: OutputOptions, values, drawn, counted=None
) -> list | None:
    """The paths of a slide's labels (object ids and table) and overlay where its overlay,
    added with ``skip_existing``, is drawn from the labels (and ids) this checkpoint and
    settings wrote, read window by window without the net
    (:func:`~unetlab.inference.drawn_again.slide_redrawable`); those are not rewritten,
    the objects of their table said to ``counted``. None where the slide is predicted."""
    # drawn_again imports this module: imported here
    from unetlab.inference.drawn_again import drawn_from, slide_redrawable, table_counts

    path, labels = run.slide.path, run.finals["labels"]
    if not slide_redrawable(run.finals, Path(path), outputs, drawn[2]):
        return None
    found = run.found
    kept = [run.finals[k] for k in drawn_from(outputs, slide=True)]
    log.info(
        "%s: overlay drawn from the %s this checkpoint and settings wrote in %s, the net not run",
        *(shown_path(path), "labels" if found is None else "labels and objects", labels.parent),
    )
    overlay = _overlay_path(labels.parent, path)
    decode = _indices_of(values, run.specs["labels"].nodata, model_background(model))
    with open_slide(labels) as written, _written_ids(run.finals, found) as id_rows:

        def label_rows(rows, cols):
            return decode(written.read(0, rows, cols)[..., 0])

        objects = found is not None and by_object(found.options)
        _draw_overlay(run.slide, overlay, label_rows, id_rows, objects, drawn)
    outputs_kept(labels.parent, [p.name for p in kept])  # as they were: not rewritten
    if found is not None and counted is not None:  # as a run that predicts it says them
        names = getattr(model, "classes", None)  # an earlier version's table: by index
        _count(counted, *table_counts(run.finals["table"], run.slide.shape[0], names))
    return [*kept, overlay]


@contextlib.contextmanager
def _written_ids(finals: dict[str, Path], found: SlideObjects | None):
    """``id_rows(rows, cols)`` of page 0 of the object ids written at ``finals["objects"]``
    (None without objects: ``found``)."""
    if found is None:
        yield None
        return
    with open_slide(finals["objects"]) as ids:
        yield lambda rows, cols: ids.read(0, rows, cols)[..., 0]


def _indices_of(values, nodata: int | None = None, background: int = 0):
    """Label values -> class indices (identity without values); the ``nodata`` value ->
    the ``background`` class, as an image read whole draws its nodata pixels."""
    if values is None and nodata is None:
        return lambda labels: labels
    if values is None:
        return lambda labels: np.where(labels == nodata, background, labels)
    lut, indices = np.asarray(values), np.arange(len(values))
    if nodata is not None:
        lut, indices = np.append(lut, nodata), np.append(indices, background)
    order = np.argsort(lut)
    return lambda labels: indices[order][np.searchsorted(lut[order], labels)]


#: what a large image's overlay or objects need of a group of processes, as the caller asks
#: (:func:`spelled`: a script under torchrun was told "drop --nproc", s54)
ONE_PROCESS_OR_OVERLAY = Spelled(
    "run it in one process (not under torchrun), or without an overlay (draw_overlay=False)",
    "drop --nproc, or --overlay",
)
ONE_PROCESS_OR_OBJECTS = Spelled(
    "run it in one process (not under torchrun), or without objects (objects=None)",
    "drop --nproc, or --instances",
)
#: what gives the objects of a level too large for ImageJ ROIs their outlines
SMALLER_LEVEL_OR_GEOJSON = Spelled(
    "a smaller level (level=N), or outlines='geojson'",
    "a smaller level (--level N), or --outlines geojson",
)
#: the outputs' format, as the API and the command give it (Python was told the flag, s56)
OUTPUT_FORMAT = Spelled("output_format", "--output-format")
#: the probabilities staged (a resumed run's objects need them), as each caller asks for it
SAVE_PROBABILITIES = Spelled("save_probabilities=True", "--save-probabilities")


def _check_request(path: Path, outputs: OutputOptions, group: Group, overlay=None) -> None:
    objects = outputs.objects
    if outputs.output_format not in ome.FORMATS:
        said = f" must be one of {', '.join(ome.FORMATS)}, not {outputs.output_format!r}"
        raise UnetlabError(**spelled(lambda f: f + said, OUTPUT_FORMAT))
    if overlay is not None and group.world > 1:
        said = f"{shown_path(path)}: the overlay of a large image is drawn in one process: "
        raise UnetlabError(**spelled(lambda fix: said + fix, ONE_PROCESS_OR_OVERLAY))
    if objects is not None and group.world > 1:
        said = f"{shown_path(path)}: objects of a large image are found in one process (their "
        said += "ids must agree across bands): "
        raise UnetlabError(**spelled(lambda fix: said + fix, ONE_PROCESS_OR_OBJECTS))


def _check_rois(slide: Slide, outputs: OutputOptions) -> None:
    """ImageJ ROIs of a slide's objects are in the level's pixels (as its ids): refused only
    where a side of the level is over :data:`~unetlab.inference.outlines.ROI_SIDE` px, which
    their 16-bit coordinates cannot reach, naming a smaller level and GeoJSON (any streamed
    slide was refused, a 3,000 px level too: s64)."""
    _, h, w, _ = slide.shape
    if not outputs.wanted["rois"] or rois_fit(h, w):
        return
    said = f"{shown_path(slide.path)}: level {slide.level} is {h:,} x {w:,} px, and ImageJ "
    said += f"ROIs (in its pixels) stop at {ROI_SIDE:,} px: use "
    fix = SMALLER_LEVEL_OR_GEOJSON if slide.levels > 1 else GEOJSON_OUTLINES  # s64 re-review
    raise UnetlabError(**spelled(lambda fixed: said + fixed, fix))


def _stage(
    slide: Slide, grid: TileGrid, finals: dict, stages: dict, specs: dict, group, wanted: dict
) -> bool:
    """Say what is streamed where; the main process reopens the staged arrays of a killed
    run that can be resumed (``wanted``: :func:`~unetlab.inference.slide_resume.identity`),
    or creates them, and every process waits for them before writing. Whether they are
    resumed."""
    pages, h, w, _ = slide.shape
    labels = finals["labels"]
    noun = _page_axes(slide, say=group.is_main).noun() if pages > 1 else "page"  # frames
    level = ome.Level("level", slide.level, slide.levels - 1)  # numbered as the outputs'
    what = f"{pages} {noun}, {level}"
    log.info(  # height x width, as every size in the lines and the README (s49 ids)
        "%s: %d x %d px (%s), streaming %d %s of %d x %d px to %s%s",
        shown_path(slide.path),
        h,
        w,
        what,
        len(grid),
        "tile" if len(grid) == 1 else "tiles",
        *grid.tile,
        labels.name,
        _restart_note(specs, noun if pages > 1 else ""),
    )
    resumed = False
    if group.is_main:
        labels.parent.mkdir(parents=True, exist_ok=True)
        resumed = _resumable(shown_path(slide.path), stages, wanted)
        if not resumed:
            for key, spec in specs.items():
                ome.create(stages[key], spec)
            slide_resume.begin(stages, wanted)
            for other in _own_stagings(finals) - set(stages.values()):  # of other outputs
                remove_tree(other, ignore_errors=True)
        slide_resume.say_others(labels.parent, set(stages.values()))
    return group.share(resumed)


def _restart_note(specs: dict, noun: str) -> str:
    """What the streaming line adds where a stopped run restarts a page rather than resume
    it (objects found without staged probabilities: :func:`_first_rows`), in its caller's
    form (review s56: only the stop and restart lines said it, never to a ``kill -9``);
    ``noun``: a stack's pages ("frames"), "" for one page."""
    if "ids" not in specs or "probabilities" in specs:
        return ""
    page = f"the {noun.removesuffix('s')} it stopped in" if noun else "this page"
    return f" (a stopped run restarts {page}: {said_as(SAVE_PROBABILITIES)} keeps its rows)"


def _own_stagings(finals: dict[str, Path]) -> set[Path]:
    """Every staging folder of an input's outputs at ``finals`` (:func:`_finals`): a
    killed run's of outputs this run does not write (probabilities, objects) go when it
    starts afresh."""
    keys = ("labels", "probabilities", "objects")
    return {ome.staging_path(finals[k]) for k in keys} | {id_staging(finals["objects"])}


def _resumable(name: str, stages: dict[str, Path], wanted: dict) -> bool:
    """Whether a killed run's staging at ``stages`` is resumed; one line where one is
    there and is not (why)."""
    if not any(stage.exists() for stage in stages.values()):
        return False
    if "ids" in stages:  # a stop while its ids were widened: they are there
        finish_widening(stages["ids"])
    why = slide_resume.mismatch(stages, wanted)
    if why is not None:
        log.info("%s: the staging a killed run left is discarded (%s): starting afresh", name, why)
    elif note := slide_resume.thread_note(stages, wanted):
        log.warning("%s: %s", name, note)
    return why is None


def _written(rows, sinks: dict, values, flushed: Callable[[int], None], blank=None):
    """The ``(y, probabilities)`` rows, passed on once their labels (and probabilities) are
    in the sinks; ``flushed(row)`` once they hold every row before ``row``. ``blank(y,
    block)``: ``(block, invalid)``, the rows' probabilities with their pixels that are no
    sample (``invalid``, or None) the background's
    (:mod:`~unetlab.inference.slide_nodata`), whose labels hold the labels spec's
    ``nodata`` value where it has one; or None."""
    void = sinks["labels"].spec.nodata
    for y, block in rows:
        bad = None
        if blank is not None:
            block, bad = blank(y, block)
        labels = encode_labels(labels_from_probabilities(block), values)
        if bad is not None and void is not None:
            labels[bad] = void
        sinks["labels"].write(y, labels)
        if "probabilities" in sinks:
            sinks["probabilities"].write(y, block)
        flushed(min(sink.flushed for sink in sinks.values()))
        yield y, block
        del block, labels, bad  # none held while the next rows are predicted (page-wide)


def _staged_rows(array, spec: ome.OutputSpec, page: int, stop: int):
    """``(y, (K, r, W) probabilities)`` of rows ``[0, stop)`` of ``page``, read back from the
    staged ``array``: the values the tiles gave (float32, stored losslessly)."""
    for y in range(0, stop, ome.CHUNK):
        yield y, np.asarray(array[spec.place(page, slice(y, min(y + ome.CHUNK, stop)))])


def _predict_bands(
    model, run: _SlideRun, *, values, progress, group: Group, resumed: bool = False
) -> TileProgress:
    """This process's band of chunk rows of every page of ``run``, into the staged outputs
    (and the provisional object ids into ``run.found``), from the first row not done where
    a killed run's staging is ``resumed``; how far it got is recorded once rows are on
    disk. Returns the tile count (:class:`TileProgress`)."""
    slide, specs, options = run.slide, run.specs, run.options
    pages, h = slide.shape[:2]
    band = ome.chunk_rows(h, group.world, group.rank)
    done = slide_resume.Progress(run.stages["labels"], group.rank, band, resumed=resumed)
    note_recorded(str(slide.path), pages, done.left_out, run.nodata)  # the pages done before
    label = _page_axes(slide).label  # "frame 3", "plane 2"
    firsts = _first_rows(done, (pages, label), shown_path(slide.path), h, run.found, specs)
    if resumed:  # every process's record as it read it, before any predicts a row
        _say_resumed(run, group, done, (pages, label))
    rows_before = sum(max(0, min(first, band[1]) - band[0]) for first in firsts)
    slide_resume.note_done_before(rows_before * slide.shape[2])  # not this run's pixels
    arrays = {key: ome.open_level(run.stages[key]) for key in specs}
    fn = probability_fn(model, precision=options.precision, tta=options.tta)
    after = ("the objects, " if run.found is not None else "") + "writing the outputs"
    named = (shown_path(slide.path), after)
    progress = _tile_progress(named, run.grid, run.batch, band, firsts, progress)
    with inference_session(model, options.device) as dev:
        check_precision(options.precision, dev)
        # the band holding the first rows says the page's lines (the main one's but on a
        # page too short to share, one chunk: there the main's band is empty)
        tiles = dict(fn=fn, device=dev, progress=progress, says=band[0] == 0, dim={})
        for p, first in enumerate(firsts):
            if first < band[1]:  # else done before
                if pages > 1:  # the bar says the frame: "frame 3 (4 of 100)"
                    progress.page(counted(label(p), p + 1, pages))
                _predict_page(model, run, p, (first, *band), arrays, done, values, tiles)
    # the pages read as nearly empty (faint): one line of each, as a stack read whole
    say_pages(tiles["dim"], _page_axes(slide).noun())
    return progress


def _predict_page(model, run: _SlideRun, p: int, rows: tuple, arrays, done, values, tiles):
    """Rows ``first .. stop - 1`` of page ``p`` (``rows``: (first, start, stop), this
    process's band being ``[start, stop)``) into the staged ``arrays``, ``done`` recording
    how far they are; ``tiles``: the net's function, the device, the tile count and whether
    this process ``says`` the page's lines (its band holds the first rows), checking the
    page's appearance (its valid pixels', or a resumed page's record: review s33 4)."""
    first, start, stop = rows
    slide, specs, grid, nodata, found = run.slide, run.specs, run.grid, run.nodata, run.found
    h = slide.shape[1]
    got = _page_image(model, slide, p, run.options, grid, done=done, nodata=nodata)
    page, image, stats, fill, note = got
    done.keep_stats(stats if nodata is None else stats_record(stats, fill))
    if tiles["says"] and (nodata is None or fill is not None):  # said once, not by each band
        said = note is not None and note[0] == "dtype"  # its line names the dtype already
        say_streamed_appearance(model, image, stats[0], name=str(slide.path), dtype_said=said)
        name = _page_name(slide, p, str(slide.path))
        dim = tiles["dim"]
        share = floor_share(stats[1], floor_for(model.normalization, image.dtype))
        say_contrast(model.normalization, image.dtype, note, name=name, dim=dim, share=share)
    sinks = {key: ome.RowSink(arrays[key], specs[key], p, first, stop) for key in specs}
    synced = {key: (arrays[key], specs[key]) for key in specs}
    fn, progress = tiles["fn"], tiles["progress"]
    kw = dict(blend=run.options.blend, stats=stats, device=tiles["device"], progress=progress)
    if nodata is not None and fill is None:  # no valid pixel: not predicted,
        progress(_band_tiles(grid, run.batch, (first, stop)))  # its tiles counted done
        out = _background_rows(model, slide.shape[1:3], (first, stop))
    else:
        view = _net_view(image, model.normalization)  # a ct model's clip, as read whole
        out = iter_slide_rows(fn, view, grid, rows=(first, stop), batch_size=run.batch, **kw)

    def flushed(row):
        # a page with objects is done once their ids are (below)
        if row > done.row and (found is None or row < stop):
            done.done(p, row, synced)

    out = _written(out, sinks, values, flushed, _blanking(model, page, nodata))
    if found is None:
        collections.deque(out, maxlen=0)  # written as they pass, none held past its turn
    else:
        if first > 0:  # the rows before from the staged probabilities (exact)
            staged = _staged_rows(arrays["probabilities"], specs["probabilities"], p, first)
            out = itertools.chain(staged, _then(progress.found_again_done), out)
            progress.found_again(first)
        # its nodata cuts objects; the bar says their rows (between two rows of tiles)
        found.add_page(p, out, h, slide=slide, raw=page, noted=progress.objects)
        done.done(p, stop, {**synced, "ids": (found.ids, found.spec)}, top=start)
    for sink in sinks.values():
        sink.close()
    page.drop()


def _then(call: Callable[[], None]) -> Iterator:
    """No rows: ``call()`` where a chain of rows reaches it (the staged rows read, this
    run's tiles begin: :meth:`~.slide_progress.TileProgress.found_again_done`)."""
    call()
    yield from ()


def _page_image(
    model,
    slide: Slide,
    p: int,
    options: PredictOptions,
    grid: TileGrid,
    *,
    done: slide_resume.Progress,
    nodata: SlideNodata | None = None,
):
    """``(page, image, stats, fill, note)``: page ``p`` of ``slide`` (a reader that keeps a
    band of rows), the (H, W, C) image the net reads of it (channels fitted, checked for
    non-finite pixels as windows reach them: not a channel --channel leaves out) and its
    normalisation statistics, of the whole page (every band and tile sees the same
    mapping), read in one pass unless the resume record ``done`` holds them (a resumed
    page's, as the killed run had them). With ``nodata``, the statistics are of the valid
    pixels, which the image holds in place of the invalid ones (their mean, ``fill``; None:
    no valid pixel), and the pixels left out are counted in ``done``. ``note``: what the
    model's floor does to the page (:func:`~unetlab.data.normalize.contrast_note`; None
    where there is nothing to say or the statistics were given)."""
    name, c = shown_path(slide.path), slide.shape[3]
    chosen = _read_channels(model, options.channel, nodata)
    page = slide.page(p, band_rows=grid.tile[0], channels=chosen)
    if chosen is not None or (c == model.in_channels and options.channel is None):
        source = page
    else:
        colour = page_colour(slide.path, slide.given_axes)  # as read whole
        source = _Fitted(page, model.in_channels, name, options.channel, colour)
    image = _checked(source, str(slide.path), page, nodata)  # a NaN nodata is no NaN pixel
    if nodata is not None:
        return (page, *_valid_image(model, slide, (p, page), image, nodata, done))
    note, stats = None, done.page_stats(p)
    if stats is None:
        spec = model.normalization
        mean, contrast = raw_stats(image, spec, chunk_rows=stats_rows(image.shape))
        note = contrast_note(spec, image.dtype, contrast)
        stats = (mean, floored(contrast, spec, image.dtype))
        page.drop()
    return page, image, stats, None, note


def _read_channels(model, channel, nodata: SlideNodata | None) -> tuple[int, ...] | None:
    """The channels of a slide a page reads for the net: those ``channel`` (the index or
    indices resolved for the slide) names where they are the net's, so that the others are
    not decoded (:meth:`~unetlab.data.slides.Slide.read`); None (all, fitted as read) where
    ``nodata`` is given (its pixels are those equal to it in every band). A count the net
    does not take was refused before (:func:`~unetlab.inference.files.check_channel_count`);
    None then too, the fitting's to say."""
    if channel is None or nodata is not None:
        return None
    chosen = tuple(channel) if isinstance(channel, (list, tuple)) else (channel,)
    return chosen if len(chosen) == model.in_channels else None


def _valid_image(model, slide: Slide, at: tuple, image, nodata: SlideNodata, done):
    """``(image, stats, fill, note)`` of page ``at`` (its index and reader) with pixels
    that are no sample (:func:`_page_image`): the image filled with the valid mean,
    statistics over the valid pixels (a resumed page's as its record ``done`` holds them;
    read, their counts recorded there); a page with none is said, by its name ("s.tif frame
    3", as the stack's other page lines)."""
    (p, page), note = at, None
    if (known := done.page_stats(p)) is None:
        spec = model.normalization
        pages = (p, slide.shape[0])
        got = valid_stats(image, page, nodata, spec, str(slide.path), pages)
        stats, fill, contrast, counts = got
        done.keep_left_out(p, counts)
        note = None if fill is None else contrast_note(spec, image.dtype, contrast)
        page.drop()
    else:
        stats, fill = from_record(known)
    if fill is None:
        log.warning("%s", all_invalid_line(model, _page_name(slide, p, shown_path(slide.path))))
        return image, stats, None, None
    return FilledPage(image, page, nodata, fill), stats, fill, note


def _page_name(slide: Slide, p: int, name: str) -> str:
    """What the lines call page ``p`` of ``slide`` (``name``: the file's): the file alone
    where it has one page, else "s.tif frame 3"."""
    return name if slide.shape[0] == 1 else f"{name} {_page_axes(slide).label(p)}"


def _blanking(model, page, nodata: SlideNodata | None):
    """``blank(y, block)`` for :func:`_written`: ``(block, invalid)``, the background where
    the rows of ``page`` are no sample (``invalid``); None without ``nodata``."""
    if nodata is None:
        return None
    background = model_background(model)

    def blank(y: int, block: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        bad = nodata.invalid(page[y : y + block.shape[1]], (y, 0))
        return blank_pixels(block, bad, background), bad

    return blank


def _background_rows(model, shape: tuple[int, int], rows: tuple[int, int]):
    """``(y, (K, r, W) probabilities)`` of rows ``[start, stop)`` of a page with no valid
    pixel: the background's everywhere, chunk row by chunk row."""
    h, w = shape
    k, background = max(model.num_classes, 1), model_background(model)
    for y in range(rows[0], rows[1], ome.CHUNK):
        r = min(y + ome.CHUNK, rows[1]) - y
        yield y, blank_pixels(np.zeros((k, r, w), np.float32), np.ones((r, w), bool), background)


def _first_rows(done, pages: tuple, name: str, h: int, found, specs) -> list[int]:
    """The first row of each page to predict (``done.stop``: none); ``pages``: (their count, how messages name one: "frame 3"). A page
    with objects restarts where its probabilities are not staged: its ids are found over the
    whole page, from the rows before too (:meth:`SlideObjects.add_page`)."""
    pages, label = pages
    firsts = [done.first_row(p) for p in range(pages)]
    p = next((p for p, first in enumerate(firsts) if first < done.stop), None)
    if p is None:
        return firsts
    page = counted(label(p), p + 1, pages) if pages > 1 else ""
    if firsts[p] > done.start and found is not None and "probabilities" not in specs:
        log.info(
            "%s: restarting %s at row 0 (%d of %d rows were done): its objects are found over "
            "the whole %s, from probabilities that are not staged (%s stages them)",
            name,
            page or "the image",
            firsts[p],
            h,
            "image" if pages == 1 else label(p).split()[0],
            said_as(SAVE_PROBABILITIES),
        )
        done.row = firsts[p] = done.start  # its rows are written again
    return firsts


def _say_resumed(run: _SlideRun, group: Group, done, pages: tuple) -> None:
    """The one line of a resumed slide, said by the main process: where it resumes, from
    every process's record as each read it (``done``: this one's), gathered from all
    (a collective) before any predicts a row, as
    :func:`~unetlab.inference.slide_resume.resumed_line` words it. Each process said its
    own band's, and the others' were silenced: a run whose main process had recorded no
    row said none (s48); the main one read the others' record files as it came to say it,
    and one already predicting had added rows of this run, counted as done before (s49
    nprocedge 4)."""
    found = group.gather((done.page, done.row, done.start, done.stop))
    h = run.slide.shape[1]
    if group.is_main and (
        line := slide_resume.resumed_line(shown_path(run.slide.path), h, pages, found)
    ):
        log.info(line)


def _tile_progress(named, grid, batch, band, firsts, progress) -> TileProgress:
    """The tile count of a band of rows of each page, those before ``firsts`` done;
    ``named``: the slide's name and the work after its tiles (:class:`TileProgress`)."""
    name, after = named
    start, stop = band
    total = len(firsts) * _band_tiles(grid, batch, (start, stop))
    done = total - sum(_band_tiles(grid, batch, (first, stop)) for first in firsts)
    return TileProgress(name, total, progress, done=done, after=after)


def _band_tiles(grid: TileGrid, batch: int, rows: tuple[int, int]) -> int:
    """The tiles predicted for output rows ``[start, stop)`` of a page (:func:`band_grid`)."""
    start, stop = rows
    return len(band_grid(grid, (start, stop), batch_size=batch)[1]) if stop > start else 0
