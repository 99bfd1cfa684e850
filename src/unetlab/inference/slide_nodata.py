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
from unetlab.data.read_notes import note_left_out
from unetlab.data.slides import is_zarr

log = logging.getLogger(__name__)

#: rows read at a time by the pass that finds a page's valid mean where its statistics read
#: no pixel (a fixed normalisation)
PASS_ROWS = 1024


@dataclass(frozen=True)
class SlideNodata:
    """Which pixels of a slide's raw windows are no sample: equal to ``value`` in every
    band, or 0 in channel ``alpha``."""

    value: float | None = None
    alpha: int | None = None

    def invalid(self, window: np.ndarray) -> np.ndarray | None:
        """(r, W) bool of a raw (r, W, C) window, or None where every pixel is sample."""
        window = np.asarray(window)
        bad = nodata_pixels(window, self.value)
        if self.alpha is not None and window.ndim == 3 and window.shape[2] > self.alpha:
            bad = either(bad, transparent(window[..., self.alpha]))
        return bad

    def kind(self) -> str:
        """What it leaves out, in words (:func:`~unetlab.data.read_notes.note_left_out`)."""
        if self.value is None:
            return "transparent"
        return "nodata" if self.alpha is None else "nodata or transparent"

    def identity(self) -> list:
        """JSON of what it leaves out, for a staging's identity (NaN as text)."""
        value = None if self.value is None else repr(float(self.value))
        return [value, self.alpha]


def slide_nodata(path: str | os.PathLike, setting, array=None) -> SlideNodata | None:
    """What ``setting`` (``data.nodata``: auto, none or a number) leaves out of the large
    image at ``path``, or None: nothing (``none``; auto for a Zarr folder or a TIFF without
    the tag and alpha). A number leaves out the pixels equal to it in every band, alpha is
    read as sample, as an image read whole does (:func:`~unetlab.data.nodata.invalid_pages`);
    on a Zarr too.

    ``auto`` is what the file declares, and a Zarr / OME-Zarr declares no nodata: OME-NGFF
    has no such key (its ``omero`` window is a display range), and a Zarr array's
    ``fill_value`` is only what its chunks not stored read as; writers leave out chunks
    that hold nothing but it (zarr-python's default), so real pixels of that value (dark
    0s) are stored that way too. Every pixel of a Zarr is sample under auto; where
    ``array`` (the Zarr array read) lacks chunks, one line per file says so and names the
    number that leaves them out (:func:`unstored_line`)."""
    setting = check_nodata("auto" if setting is None else setting)
    if setting == "none":
        return None
    if setting != "auto":
        return SlideNodata(float(setting))
    if is_zarr(Path(path)):
        _say_unstored(Path(path), array)
        return None
    info = file_nodata(path)
    if info.value is None and info.alpha_channel is None:
        return None
    return SlideNodata(info.value, info.alpha_channel)


#: the Zarr inputs whose chunks not stored were said (once a process)
_SAID: set[str] = set()


def _say_unstored(path: Path, array) -> None:
    """:func:`unstored_line`, once a process for each Zarr (none without ``array``)."""
    if array is None or str(path) in _SAID:
        return
    _SAID.add(str(path))
    if (line := unstored_line(path, array)) is not None:
        log.info("%s", line)


def unstored_line(path: Path, array) -> str | None:
    """One line where the Zarr ``array`` of ``path`` lacks chunks (they read as its
    ``fill_value``): auto leaves nothing out of a Zarr; a number does. None where every
    chunk is stored (or the store cannot say)."""
    try:
        stored, every = array.nchunks_initialized, array.nchunks
        value = f"{float(array.fill_value):g}"
    except (AttributeError, TypeError, ValueError, NotImplementedError):
        return None
    if stored >= every:
        return None
    return (
        f"{path.name}: {every - stored} of {every} chunks are not stored (they read as the "
        f"fill value {value}); nodata auto leaves nothing out of a Zarr (it declares no "
        f"nodata): unetlab predict --nodata {value} (Python: nodata={value}; training: "
        f"data.nodata: {value}, which the checkpoint records) leaves out the pixels that hold "
        "it in every band"
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
        return filled(window, self.nodata.invalid(self.raw[key]), self.fill)


def valid_stats(image, raw, nodata: SlideNodata, spec: dict, name: str):
    """``(stats, fill, contrast)`` of a page: the normalisation statistics of ``image``
    (what the net reads) over the pixels ``nodata`` finds valid in ``raw`` (the page as
    read), their mean per band (None: no valid pixel, and the statistics are none) and their
    contrast before the model's floor (:func:`~unetlab.data.normalize.raw_stats`). The share
    left out is noted under ``name`` (:func:`~unetlab.data.read_notes.note_left_out`)."""
    rows = ValidRows(image, nodata.value, invalid=lambda r: nodata.invalid(raw[r]))
    with np.errstate(invalid="ignore", divide="ignore"):  # no valid pixel: not used
        try:
            mean, contrast = raw_stats(rows, spec)
            stats = (mean, floored(contrast, spec, rows.dtype))
        except IndexError:  # a float image's percentiles of no pixel
            if rows.count:
                raise
            stats = contrast = None
    h, w = image.shape[:2]
    if rows.count == 0:  # a mode that reads no pixel (fixed, scale), or none valid
        for top in range(0, h, PASS_ROWS):
            rows[top : top + PASS_ROWS]
    share = 1 - rows.count / (h * w)
    if share > 0:
        note_left_out(name, share, nodata.kind())
    if rows.count == 0:
        c = image.shape[2]
        return (np.zeros(c), np.ones(c)), None, None
    return stats, rows.mean(), contrast


def stats_record(stats, fill) -> tuple:
    """A page's statistics and fill as the resume record keeps them (float64 arrays; an
    empty fill: no valid pixel)."""
    return (*stats, np.zeros(0) if fill is None else np.asarray(fill, np.float64))


def from_record(known: tuple) -> tuple:
    """``(stats, fill)`` of :func:`stats_record`'s arrays."""
    *stats, fill = known
    return tuple(stats), (None if fill.size == 0 else fill)
