"""The pixels of a large image read window by window that hold no sample (a GeoTIFF's nodata,
tag 42113, and alpha 0: :mod:`unetlab.data.nodata`), left out as an image read whole leaves
them out (:func:`~unetlab.inference.predict.predict_fitted`): of the page's normalisation
statistics (one streamed pass over the valid pixels, :class:`~unetlab.data.nodata.ValidRows`),
filled with the valid pixels' mean in every window the net reads (the same value in every
window: tiles agree at their seams), their probabilities the background's, and their labels
a value of no class that the output names (GDAL_NODATA, an OME-Zarr's ``nodata``:
:func:`~unetlab.inference.predict.model_label_nodata`). A page with no valid pixel is not
predicted.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unetlab.data.czi import tile_gaps
from unetlab.data.nodata import (
    ValidRows,
    check_nodata,
    either,
    file_nodata,
    filled,
    nodata_pixels,
    transparent,
)
from unetlab.data.normalize import floored, raw_stats
from unetlab.data.read_notes import note_left_out_page
from unetlab.data.shown import shown_path
from unetlab.data.slides import is_zarr
from unetlab.data.zarr_chunks import Unstored, unstored_chunks
from unetlab.errors import Spelled, said_as

log = logging.getLogger(__name__)

#: rows read at a time by a page's statistics pass (:func:`stats_rows`), and by the pass that
#: finds its valid mean where its statistics read no pixel (a fixed normalisation)
PASS_ROWS = 1024
#: ... and at most this many values (rows x width x channels): 1,024 rows of a 4,096-px-wide
#: grey page. 1,024 rows of a 16,384-px-wide uint16 one held 169 MB traced (their histogram's
#: int64 copy), 352 MB with ``tissue``; 256 rows 52 and 96 MB (s57,
#: bench/slide_stats_memory.py)
PASS_VALUES = 1024 * 4096


def stats_rows(shape: tuple[int, ...]) -> int:
    """Rows of an (H, W, C) page its statistics pass reads at a time: :data:`PASS_ROWS`, fewer
    on a wide page (:data:`PASS_VALUES`), at least one. The statistics are the same: sums and
    histograms add up row by row."""
    w, c = shape[1], shape[2]
    return max(1, min(PASS_ROWS, PASS_VALUES // max(w * c, 1)))


@dataclass(frozen=True)
class SlideNodata:
    """Which pixels of a slide's raw windows are no sample: equal to ``value`` in every
    band, 0 in channel ``alpha``, or outside every one of ``tiles`` (a CZI mosaic's gaps:
    :func:`~unetlab.data.czi.tile_gaps`, told by where the window lies, not its values)."""

    value: float | None = None
    alpha: int | None = None
    tiles: tuple = ()

    def invalid(self, window: np.ndarray, at: tuple[int, int] = (0, 0)) -> np.ndarray | None:
        """(r, W) bool of a raw (r, W, C) window whose first pixel is (row, column) ``at`` of
        the page, or None where every pixel is sample."""
        window = np.asarray(window)
        bad = nodata_pixels(window, self.value)
        if self.alpha is not None and window.ndim == 3 and window.shape[2] > self.alpha:
            bad = either(bad, transparent(window[..., self.alpha]))
        if self.tiles:
            bad = either(bad, tile_gaps(self.tiles, (*at, *window.shape[:2])))
        return bad

    def kind(self) -> str:
        """What it leaves out, in words (:func:`~unetlab.data.read_notes.note_left_out`)."""
        if self.value is None and not self.tiles:
            return "transparent"
        return "nodata" if self.alpha is None else "nodata or transparent"

    def identity(self) -> list:
        """JSON of what it leaves out, for a staging's identity (NaN as text)."""
        value = None if self.value is None else repr(float(self.value))
        return [value, self.alpha, *([[list(t) for t in self.tiles]] if self.tiles else [])]


def slide_nodata(path: str | os.PathLike, setting, level: int = 0) -> SlideNodata | None:
    """What ``setting`` (``data.nodata``: auto, none or a number) leaves out of the large
    image at ``path`` (its ``level``), or None: nothing (``none``; auto for a Zarr folder or
    a TIFF without the tag and alpha). A number leaves out the pixels equal to it in every
    band, alpha is read as sample, as an image read whole does
    (:func:`~unetlab.data.nodata.invalid_pages`); on a Zarr too.

    ``auto`` is what the file declares, and a Zarr / OME-Zarr declares no nodata: OME-NGFF
    has no such key (its ``omero`` window is a display range), and a Zarr array's
    ``fill_value`` is only what its chunks not stored read as; writers leave out chunks
    that hold nothing but it (zarr-python's default), so real pixels of that value (dark
    0s) are stored that way too. Every pixel of a Zarr is sample under auto; where the
    level read lacks chunks, :func:`say_unstored` says so."""
    setting = check_nodata("auto" if setting is None else setting)
    if setting == "none":
        return None
    if setting != "auto":
        return SlideNodata(float(setting))
    if is_zarr(Path(path)):
        return None
    info = file_nodata(path, level)
    if info.value is None and info.alpha_channel is None and not info.tiles:
        return None
    return SlideNodata(info.value, info.alpha_channel, info.tiles)


#: the (Zarr input, level) pairs whose chunks not stored were said (once a process)
_SAID: set[tuple[str, int]] = set()


def say_unstored(slide, nodata: SlideNodata | None) -> None:
    """:func:`unstored_line` of a Zarr ``slide`` (the level read), once a process for each
    file and level: a warning where its unstored chunks are predicted as pixels of the fill
    value, one line where ``nodata`` leaves them out."""
    key = (str(slide.path), slide.level)
    if not is_zarr(slide.path) or key in _SAID:
        return
    _SAID.add(key)
    found = unstored_chunks(slide.array, slide.layout.axes)
    if found is None:
        return
    window = np.full((1, 1, slide.layout.channels), found.fill, slide.dtype)
    bad = None if nodata is None else nodata.invalid(window)
    left_out = bad is not None and bool(bad.all())
    say = log.info if left_out else log.warning
    say("%s", unstored_line(slide.path, slide.level, found, left_out=left_out))


def unstored_line(path: Path, level: int, found: Unstored, *, left_out: bool) -> str:
    """One line: ``found`` chunks of level ``level`` of the Zarr at ``path`` are not stored
    and read as its fill value; ``left_out``: the nodata setting leaves them out, else they
    are predicted as pixels of it (a partial copy's gap looks like a result), or a NaN or
    infinite one stops the run (:func:`~unetlab.inference.predict.check_finite`)."""
    value = found.fill_text
    (r0, r1), (c0, c1) = found.rows, found.columns
    head = (
        f"{shown_path(path)}: level {level} lacks {found.missing} of {found.total} chunks (within "
        f"rows {r0}-{r1}, columns {c0}-{c1}), which read as its fill value {value}"
    )
    if left_out:
        return f"{head}: left out as nodata; if the Zarr was copied in part, copy it again"
    refused = value in ("nan", "inf", "-inf")  # check_finite stops the run at them
    fate = (
        "stop the run (NaN and infinite pixels are refused)"
        if refused
        else f"are predicted as pixels of {value}"
    )
    given = Spelled(f"nodata={value!r}" if refused else f"nodata={value}", f"--nodata {value}")
    return (
        f"{head} and {fate}: if the Zarr was copied or converted "
        f"in part, copy or convert it again; if it is sparse on purpose (fill value = "
        f"background), {said_as(given)} leaves out its pixels of {value} in every band"
    )


class FilledPage:
    """The (H, W, C) ``image`` the net reads of a page, its pixels that ``nodata`` finds
    invalid in the page's own ``raw`` window set to ``fill`` (per band)."""

    ndim = 3

    def __init__(self, image, raw, nodata: SlideNodata, fill):
        self.image, self.raw, self.nodata, self.fill = image, raw, nodata, fill
        self.shape, self.dtype = image.shape, image.dtype

    def __getitem__(self, key) -> np.ndarray:
        window = np.asarray(self.image[key])
        return filled(window, self.nodata.invalid(self.raw[key], window_at(key)), self.fill)


def window_at(key) -> tuple[int, int]:
    """The (row, column) of a page's first pixel that ``page[key]`` reads (``key``: a slice
    of rows, or of rows and columns)."""
    key = key if isinstance(key, tuple) else (key,)
    return tuple(k.start or 0 if isinstance(k, slice) else k for k in (*key, slice(0))[:2])


def valid_stats(image, raw, nodata: SlideNodata, spec: dict, name: str, page=(0, 1)):
    """``(stats, fill, contrast, counts)`` of a page: the normalisation statistics of
    ``image`` (what the net reads) over the pixels ``nodata`` finds valid in ``raw`` (the page
    as read), their mean per band (None: no valid pixel, and the statistics are none), their
    contrast before the model's floor (:func:`~unetlab.data.normalize.raw_stats`) and the
    page's (left out, pixels) ``counts``, noted under ``name`` as ``page`` (its index, the
    page count) of its stack (:func:`~unetlab.data.read_notes.note_left_out_page`)."""
    rows = ValidRows(image, nodata.value, invalid=lambda r: nodata.invalid(raw[r], window_at(r)))
    with np.errstate(invalid="ignore", divide="ignore"):  # no valid pixel: not used
        try:
            mean, contrast = raw_stats(rows, spec, chunk_rows=stats_rows(image.shape))
            stats = (mean, floored(contrast, spec, rows.dtype))
        except IndexError:  # a float image's percentiles of no pixel
            if rows.count:
                raise
            stats = contrast = None
    h, w = image.shape[:2]
    if rows.count == 0:  # a mode that reads no pixel (fixed, scale), or none valid
        step = stats_rows(image.shape)
        for top in range(0, h, step):
            rows[top : top + step]
    counts = (h * w - rows.count, h * w)
    note_left_out_page(name, page, counts, nodata.kind())
    if rows.count == 0:
        c = image.shape[2]
        return (np.zeros(c), np.ones(c)), None, None, counts
    return stats, rows.mean(), contrast, counts


def note_recorded(name: str, pages: int, left_out: dict, nodata: SlideNodata | None) -> None:
    """Note under ``name`` the pixels left out of the pages of its stack (``pages`` of them)
    that a killed run read and this resumed run does not: ``left_out``, page -> (left out,
    pixels), as the resume record holds them (:class:`~unetlab.inference.slide_resume.Progress`),
    so the line says the stack's share, as an uninterrupted run's (:func:`valid_stats`)."""
    if nodata is not None:
        for p, counts in sorted(left_out.items()):
            note_left_out_page(name, (p, pages), counts, nodata.kind())


def stats_record(stats, fill) -> tuple:
    """A page's statistics and fill as the resume record keeps them (float64 arrays; an
    empty fill: no valid pixel)."""
    return (*stats, np.zeros(0) if fill is None else np.asarray(fill, np.float64))


def from_record(known: tuple) -> tuple:
    """``(stats, fill)`` of :func:`stats_record`'s arrays."""
    *stats, fill = known
    return tuple(stats), (None if fill.size == 0 else fill)
