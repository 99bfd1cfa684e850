"""Pixels of an image that hold no sample: a GeoTIFF's nodata (tag 42113, GDAL_NODATA: the
value that every band holds outside a drone orthomosaic's outline) and the transparent pixels
of a picture with an alpha channel (alpha 0: a background-removed cut-out). ``data.nodata``
says which: ``auto`` (the default: the tag, and alpha 0), ``none``, or a number (the pixels
equal to it in every band).

Such pixels are left out as the rows of :mod:`unetlab.data.exclude` are: of the
normalisation statistics; what the net sees there is the valid pixels' mean
(:func:`filled`: 0 after standardisation, so the outline looks like no edge); the loss and
validation ignore them; predict writes the background there (:func:`blank_pixels`) and counts
an object beside them as touching the border (:func:`flag_touching`); an image with no valid
pixel is not predicted (audit s31 drone 3-6, photos 3).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unetlab.data.czi import czi_tiles, is_czi_name, tile_gaps
from unetlab.data.dicom import is_dicom_series
from unetlab.data.exclude import certain_background
from unetlab.data.h5 import is_h5_name
from unetlab.data.mrc import is_mrc_name
from unetlab.data.nifti import is_nifti
from unetlab.data.normalize import channels_of
from unetlab.data.npy import is_npy_name
from unetlab.data.read_notes import note_left_out, note_transparent
from unetlab.data.tiff_files import is_tiff_name, open_tiff
from unetlab.errors import UnetlabError

#: the TIFF tag GDAL writes its nodata value in, as ASCII ("0", "-9999", "nan")
NODATA_TAG = 42113
#: ExtraSamples (TIFF tag 338) values of an alpha sample: associated, unassociated
ALPHA_SAMPLES = (1, 2)
#: Pillow modes with an alpha channel
ALPHA_MODES = ("RGBA", "LA", "PA")
#: the PNG text key naming the no-data value of a label PNG predict wrote (a PNG has no
#: GDAL_NODATA tag; :func:`png_nodata`)
PNG_NODATA_KEY = "nodata"
#: what ``data.nodata`` takes besides a number
WORDS = ("auto", "none")


def check_nodata(value, where: str = "data.nodata") -> str | float:
    """``value`` (``auto``, ``none``/None, a number or its text) as ``"auto"``, ``"none"`` or
    a float; UnetlabError naming the forms otherwise."""
    if value is None:
        return "none"
    if isinstance(value, str):
        word = value.strip().lower()
        if word in WORDS:
            return word
        try:
            return float(word)
        except ValueError:
            pass
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise UnetlabError(
        f"{where}: {value!r} is not auto, none or a number: give auto (the GeoTIFF nodata tag "
        "and transparent pixels), none (every pixel is sample) or the value nodata pixels hold "
        "in every band (e.g. 0)"
    )


def tag_value(text) -> float | None:
    """The number a GDAL_NODATA tag holds (ASCII, maybe NUL-padded); None when it holds none."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    try:
        return float(str(text).strip("\x00 \t\r\n"))
    except ValueError:
        return None


def nodata_pixels(image: np.ndarray, value: float | None) -> np.ndarray | None:
    """(H, W) bool: the pixels of an (H, W[, C]) ``image`` equal to ``value`` in every band
    (NaN: NaN in every band); None when there are none (or ``value`` is None)."""
    if value is None:
        return None
    image = np.asarray(image)
    if math.isnan(value):
        hit = np.isnan(image) if image.dtype.kind == "f" else np.zeros(image.shape, bool)
    elif not _representable(image.dtype, value):
        return None
    else:
        hit = image == image.dtype.type(value)
    if hit.ndim == 3:  # band by band: 15x faster than all(axis=2) on an (H, W, 3) image
        every = hit[..., 0].copy()
        for band in range(1, hit.shape[2]):
            every &= hit[..., band]
        hit = every
    return hit if hit.any() else None


def _representable(dtype: np.dtype, value: float) -> bool:
    """Whether an image of ``dtype`` can hold ``value`` (an integer one: a whole number in
    its range)."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return float(value).is_integer() and info.min <= value <= info.max
    return True


def _say_impossible(value: float, dtype: np.dtype) -> None:
    """One warning a command where the nodata ``value`` given cannot occur in images of
    ``dtype`` (300 or 0.5 in 8-bit data: a typo left nothing out without a word; s36 flags 9)."""
    from unetlab.data.read_notes import note_once

    if dtype.kind not in "iu" or _representable(dtype, value):
        return
    info = np.iinfo(dtype)
    note_once(
        f"nodata {value:g} cannot occur in {dtype} images (whole numbers {info.min}..{info.max}): "
        "no pixel is left out as nodata; give a value the images hold (a typo?)"
    )


def transparent(alpha: np.ndarray) -> np.ndarray | None:
    """(H, W) bool: the pixels of alpha 0; None when there are none."""
    hit = np.asarray(alpha) == 0
    return hit if hit.any() else None


def either(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """The union of two masks, either of them None (none)."""
    if a is None or b is None:
        return a if b is None else b
    return a | b


def valid_pixels(image: np.ndarray, invalid: np.ndarray | None) -> np.ndarray:
    """The valid pixels of an (H, W[, C]) ``image`` as a (1, N[, C]) image (one row: read in
    one chunk), for statistics that read an image by rows
    (:func:`~unetlab.data.normalize.image_stats`); ``image`` itself when ``invalid`` is None,
    and the whole image when no pixel is valid."""
    if invalid is None or invalid.all():
        return image
    return _valid(np.asarray(image), invalid)[None]


def _valid(image: np.ndarray, invalid: np.ndarray) -> np.ndarray:
    """(N[, C]): the pixels of ``image`` outside ``invalid`` (compress: faster than a mask
    index of an (H, W, C) array)."""
    flat = image.reshape(invalid.size, *image.shape[2:])
    return np.compress(~invalid.ravel(), flat, axis=0)


def filled(image: np.ndarray, invalid: np.ndarray | None, value=None) -> np.ndarray:
    """``image`` (H, W[, C]) with its ``invalid`` pixels set to ``value`` (per band; None: the
    valid pixels' mean, taken in float64), rounded for an integer image: what the net sees there normalises
    to the valid pixels' mean (0 for a per-image standardisation) and the outline is no
    edge. A window of a large image is given the whole image's mean (:class:`ValidRows`).
    A new array; ``image`` itself when ``invalid`` is None."""
    if invalid is None:
        return image
    out = np.array(image, copy=True)
    if value is None and invalid.all():
        out[...] = 0
        return out
    bands = [out] if out.ndim == 2 else [out[..., b] for b in range(out.shape[2])]
    if value is None:  # band by band: 10x faster than a mean over the (N, C) valid pixels
        # in float64, as a streamed page's (ValidRows.mean): a float32 mean is an ulp off
        value = [band[~invalid].mean(dtype=np.float64) for band in bands]
    value = np.broadcast_to(np.asarray(value, float), (len(bands),))
    value = np.rint(value) if out.dtype.kind in "iu" else value
    for band, v in zip(bands, value.astype(out.dtype)):
        band[invalid] = v
    return out


class ValidRows:
    """The pixels of a large image (anything that slices by rows: a memmap, a streamed
    slide's page) not equal to ``value`` in every band, read by rows as
    :func:`~unetlab.data.normalize.image_stats` reads an image: ``rows[a:b]`` gives the
    valid pixels of rows a to b as a (1, N[, C]) array, so that a window-by-window
    prediction takes its statistics over the valid pixels in one pass, as a whole image
    does (:func:`valid_pixels`). ``count`` and ``total`` (per band) add up what was read,
    for the mean :func:`filled` gives the windows' invalid pixels. ``invalid``: a function
    of a slice of rows giving their invalid pixels ((r, W) bool or None) in place of those
    equal to ``value``: found on the file's own pixels (nodata and alpha 0) where
    ``image`` is what the net reads of them (its channels fitted)."""

    #: ``rows[a:b:k]`` reads and counts rows a to b, all of them (the mean is of every valid
    #: pixel), and gives every k-th valid pixel of the pass (its reads from the top in turn):
    #: the sample of a float image's percentiles
    #: (:func:`~unetlab.data.normalize.percentile_stats`), as few as every k-th row's and
    #: never none where a pixel is valid (a strip between sampled rows)
    takes_step = True

    def __init__(self, image, value: float | None, *, invalid=None):
        self.image, self.value, self.invalid = image, value, invalid
        self.shape, self.dtype, self.ndim = tuple(image.shape), image.dtype, image.ndim
        self.count, self.total = 0, 0.0

    def __getitem__(self, rows: slice) -> np.ndarray:
        whole, step = slice(rows.start, rows.stop), rows.step or 1
        block = np.asarray(self.image[whole])
        bad = nodata_pixels(block, self.value) if self.invalid is None else self.invalid(whole)
        kept = (block if bad is None else _valid(block, bad)).reshape(-1, channels_of(block))
        before, self.count = self.count, self.count + kept.shape[0]
        self.total = self.total + kept.sum(axis=0, dtype=np.float64)
        return kept[-before % step :: step].reshape(1, -1, *block.shape[2:])

    def mean(self) -> np.ndarray | None:
        """The valid pixels' mean per band over what was read; None when none was valid."""
        return self.total / self.count if self.count else None


def blank_pixels(
    probabilities: np.ndarray, invalid: np.ndarray | None, background: int = 0
) -> np.ndarray:
    """(K, H, W) probabilities with the ``invalid`` pixels set to the certainty of class
    ``background`` (:func:`unetlab.data.exclude.certain_background`), in place; returned."""
    if invalid is None:
        return probabilities
    return certain_background(probabilities, invalid, background)


def touched_ids(ids: np.ndarray, invalid: np.ndarray) -> np.ndarray:
    """The distinct ids (ascending, ``ids``' dtype, 0 left out) of the objects with a pixel
    beside (4-connected) or in an ``invalid`` pixel. No array goes by the largest id (a
    tracker's ids of 3e9, uint64 ones above 2**63: a bool per id took GBs or failed)."""
    near = invalid.copy()
    near[1:] |= invalid[:-1]
    near[:-1] |= invalid[1:]
    near[:, 1:] |= invalid[:, :-1]
    near[:, :-1] |= invalid[:, 1:]
    found = np.unique(ids[near])
    return found[found != 0]


def flag_touching(table: dict, ids: np.ndarray, invalid: np.ndarray | None) -> dict:
    """An object table's ``touches_border`` also True for the objects beside ``invalid``
    pixels (cut by the nodata outline: their size is a lower bound, as at the image edge). A
    new dict; ``table`` is kept."""
    if invalid is None or "touches_border" not in table:
        return table
    near = touched_ids(np.asarray(ids), invalid)  # ids are >= 0: uint64 holds both exactly
    cut = np.isin(np.asarray(table["id"]).astype(np.uint64), near.astype(np.uint64))
    return {**table, "touches_border": np.asarray(table["touches_border"], bool) | cut}


@dataclass(frozen=True)
class FileNodata:
    """What a file's header says of its invalid pixels (:func:`file_nodata`)."""

    #: GDAL_NODATA's value (TIFF tag 42113), or None
    value: float | None = None
    #: the channel of a TIFF's alpha sample in the array read (ExtraSamples 1 or 2), or None
    alpha_channel: int | None = None
    #: a Pillow image whose alpha :func:`unetlab.data.io.read_stack` drops (RGBA, LA, PA)
    pil_alpha: bool = False
    #: a CZI mosaic's tiles ((x0, y0, x1, y1) each) where they leave gaps, which are no
    #: sample (:func:`~unetlab.data.czi.tile_gaps`: the pixels outside them, whatever their
    #: value), or ()
    tiles: tuple = ()


def file_nodata(path: str | os.PathLike, level: int = 0) -> FileNodata:
    """:class:`FileNodata` of ``path`` from its header (no pixels decoded), at ``level`` (a
    CZI's tiles at its pyramid's: :func:`~unetlab.data.czi.czi_tiles`)."""
    path = Path(path)
    if any(is_(path) for is_ in (is_nifti, is_mrc_name, is_npy_name, is_h5_name, is_dicom_series)):
        # no nodata value, no alpha (an HDF5 file was opened by Pillow's HDF5 stub: mode F)
        return FileNodata()
    if is_czi_name(path):  # a mosaic's gaps, outside its tiles (a 0 inside one is image)
        return FileNodata(tiles=czi_tiles(path, level))
    if not is_tiff_name(path):
        from PIL import Image

        with Image.open(path) as im:
            return FileNodata(pil_alpha=im.mode in ALPHA_MODES)

    with open_tiff(path) as tif:
        page = tif.pages[0]
        tag = page.tags.get(NODATA_TAG)
        value = tag_value(tag.value) if tag is not None else None
        return FileNodata(value, _alpha_channel(page))


def png_nodata(path: str | os.PathLike) -> float | None:
    """The no-data value a label PNG's text chunk :data:`PNG_NODATA_KEY` names (predict
    writes one where a model's class 0 is a class of its own), or None (not a PNG: none).
    Read from the chunk list (:func:`~unetlab.data.png_chunks.read_png_text`), not by
    Pillow's ``text``, which decoded the whole image again (23 ms of a 2048² map)."""
    from unetlab.data.png_chunks import read_png_text

    if not str(path).lower().endswith(".png"):
        return None
    text = read_png_text(path)
    return tag_value(text[PNG_NODATA_KEY]) if PNG_NODATA_KEY in text else None


def _alpha_channel(page) -> int | None:
    """The index among a TIFF page's samples of its first alpha sample, or None."""
    tag = page.tags.get(338)
    if tag is None:
        return None
    extra = np.atleast_1d(tag.value).tolist()
    alphas = [i for i, kind in enumerate(extra) if kind in ALPHA_SAMPLES]
    if not alphas:
        return None
    return int(page.samplesperpixel) - len(extra) + alphas[0]


def says_alpha(nodata="auto") -> bool:
    """Whether the ``nodata`` setting says a file's recorded alpha (:func:`invalid_pages`:
    auto leaves its transparent pixels out, none keeps them, each in a line); a number reads
    the alpha as sample and says nothing of it (s52 fix1)."""
    return not isinstance(check_nodata("auto" if nodata is None else nodata), float)


def banded_nodata(path: str | os.PathLike, nodata="auto") -> bool:
    """Whether ``nodata`` (the setting: :func:`check_nodata`) finds pixels of ``path`` by
    the values of every band: a number, or auto of a file recording a nodata value or an
    alpha; else a stack of some of its channels finds them as all do (none)."""
    nodata = check_nodata("auto" if nodata is None else nodata)
    if nodata != "auto":
        return nodata != "none"
    info = file_nodata(path)
    return info.value is not None or info.alpha_channel is not None


def invalid_pages(path: str | os.PathLike, stack: np.ndarray, nodata="auto") -> list:
    """Each page's invalid pixels ((H, W) bool, or None) of ``stack`` (P, H, W[, C]), the
    file ``path`` as :func:`unetlab.data.io.read_stack` read it, as ``nodata`` says
    (:func:`check_nodata`; None: auto); each file with some is noted
    (:mod:`unetlab.data.read_notes`)."""
    nodata = check_nodata("auto" if nodata is None else nodata)
    none = [None] * len(stack)
    if nodata == "none":
        _note_kept_alpha(path, stack)
        return none
    if nodata != "auto":
        _say_impossible(nodata, stack.dtype)
    info = file_nodata(path) if nodata == "auto" else FileNodata(value=nodata)
    gaps = tile_gaps(info.tiles, (0, 0, *stack.shape[1:3])) if info.tiles else None
    out = [either(nodata_pixels(page, info.value), gaps) for page in stack]
    kinds = {"nodata"} if any(m is not None for m in out) else set()
    alphas = _alphas(path, stack, info)
    for i, alpha in enumerate(alphas or []):
        if alpha is not None and (hit := transparent(alpha)) is not None:
            out[i], kinds = either(out[i], hit), kinds | {"transparent"}
    if kinds:
        total = len(stack) * stack.shape[1] * stack.shape[2]
        share = sum(int(m.sum()) for m in out if m is not None) / total
        note_left_out(str(path), share, " and ".join(sorted(kinds)))
    return out


class InvalidPages:
    """Each pair's image's invalid pixels (:func:`invalid_pages`) as the ``nodata`` of
    ``read`` (a :class:`~unetlab.data.pairs.PairReader`) says, a stack's found once for all
    its pages, from the stack it holds: no second read, and one setting (s71 review: given
    to both, a reader of DAPI alone and nodata 0 here found DAPI's zeros too)."""

    def __init__(self, read):
        self.read, self.held = read, {}

    def __call__(self, pair) -> np.ndarray | None:
        """The invalid pixels of ``pair``'s image page, or None."""
        if pair.image not in self.held:
            stack = self.read.image_stack(pair)  # its channels read (a band's: none)
            self.held = {pair.image: invalid_pages(pair.image, stack, self.read.nodata)}
        return self.held[pair.image][pair.page]


def _alphas(path, stack: np.ndarray, info: FileNodata) -> list | None:
    """Each page's alpha ((H, W)), or None for a file without one."""
    if info.alpha_channel is not None and stack.ndim == 4 and stack.shape[3] > info.alpha_channel:
        return [page[..., info.alpha_channel] for page in stack]
    if info.pil_alpha:
        from unetlab.data.io import frame_alphas

        return frame_alphas(path)
    return None


def _note_kept_alpha(path, stack: np.ndarray) -> None:
    """With ``data.nodata: none``, a picture's transparent pixels are read as sample: said."""
    info = file_nodata(path)
    alphas = _alphas(path, stack, FileNodata(None, info.alpha_channel, info.pil_alpha)) or []
    hits = [int(np.sum(np.asarray(a) == 0)) for a in alphas if a is not None]
    if sum(hits):
        note_transparent(str(path), sum(hits) / (len(stack) * stack.shape[1] * stack.shape[2]))


def label_nodata(dtype, classes: Sequence[int], ignore: int | None = None) -> int | None:
    """The value a label image of ``dtype`` holding the values ``classes`` writes on its
    pixels that are no sample, as GDAL_NODATA names it (QGIS shows them transparent, not as
    a class): the model's ``ignore`` value (its masks' unlabelled value) where it is none of
    the classes and ``dtype`` holds it, else the largest value of ``dtype`` that is no class
    (255 for a uint8 of class indices, 254 for 0/255 masks), else None (every value is a
    class: the pixels keep the background class)."""
    top = int(np.iinfo(dtype).max)
    taken = {int(c) for c in classes}
    if ignore is not None and 0 <= int(ignore) <= top and int(ignore) not in taken:
        return int(ignore)
    free = (v for v in range(top, top - len(taken) - 1, -1) if v >= 0 and v not in taken)
    return next(free, None)


def nodata_tag(value: int) -> tuple:
    """The GDAL_NODATA tag (42113, ASCII) of ``value`` as a tifffile ``extratags`` entry."""
    return (NODATA_TAG, "s", 0, str(value), True)
