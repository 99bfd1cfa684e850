"""Checks of one training file, each a problem line naming the file and the fix (or None).

The data checks (:func:`unetlab.data.datasets.load_samples`, :func:`unetlab.data.datasets.scan_masks`
and the fingerprint of :mod:`unetlab.plan`) gather these lines and raise them together.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from unetlab.data.tiff_files import is_tiff_name
from unetlab.errors import Blank, Spelled, said_as, set_to
from unetlab.words import numbered

#: how Pillow's modes store channels, where unetlab reads a file differently from its mode
_MODES = {
    "RGBA": "4 channels (RGBA: its 3 colour channels are read, the alpha dropped)",
    "CMYK": "4 channels (CMYK, read as 3 RGB channels)",
    "P": "a palette (read as 3 RGB channels)",
    "PA": "a palette with alpha (read as 3 RGB channels)",
    "LA": "2 channels (grey and alpha: the grey is read, the alpha dropped)",
}


def nonfinite_count(
    image: np.ndarray, *, channel_axis: bool, invalid: np.ndarray | None = None
) -> int:
    """How many pixels of ``image`` hold a NaN or an infinity in any channel (the last axis
    when ``channel_axis``); 0 for integer images, without a pass over them. ``invalid``
    ((H, W) bool: a NaN nodata, :mod:`unetlab.data.nodata`): pixels not counted."""
    if not np.issubdtype(image.dtype, np.inexact):
        return 0
    finite = np.isfinite(image)
    if finite.all():  # the usual case: 4 ms, not 12 for counting, at 4096 x 4096 float32
        return 0
    bad = ~finite.all(axis=-1) if channel_axis else ~finite
    if invalid is not None:
        bad &= ~invalid if bad.ndim == invalid.ndim else ~invalid[..., None]
    return int(np.count_nonzero(bad))


#: the setting that leaves an input's NaN pixels out of a prediction, as the caller sets it
#: (:func:`said_as`: predict_image/predict_folder were told ``--nodata nan``, reviewC s53)
PREDICT_NODATA_NAN = Spelled("nodata='nan'", "--nodata nan")


def nonfinite_fix(
    image: np.ndarray, *, channel_axis: bool, invalid=None, nodata: str | None = None
) -> str:
    """The fix for the NaN or infinite pixels of ``image`` (:func:`nonfinite_count`'s
    arguments), ending "replace them": where each such pixel is NaN in every channel (a float
    GeoTIFF's no-data, written without its nodata tag) it names ``nodata`` first, the setting
    that leaves them out (audit s37 bands: only replacing was said); None: predict's
    (:data:`PREDICT_NODATA_NAN`, as its caller spells it)."""
    nan, finite = np.isnan(image), np.isfinite(image)
    every = nan.all(axis=-1) if channel_axis else nan
    bad = ~finite.all(axis=-1) if channel_axis else ~finite
    if invalid is not None:
        bad &= ~invalid if bad.ndim == invalid.ndim else ~invalid[..., None]
    if np.any(bad & ~every):
        return "replace them"
    where = " in every channel" if channel_axis and image.shape[-1] > 1 else ""
    nodata = said_as(PREDICT_NODATA_NAN) if nodata is None else nodata
    return f"they are NaN{where}, as no-data: {nodata} leaves them out; or replace them"


def none_finite(name: str, image: np.ndarray, count: int, *, channel_axis: bool, invalid=None):
    """The problem of ``image`` where all its ``count`` NaN or infinite pixels (outside
    ``invalid``) are all it has: nothing to segment, and no --nodata to suggest, which would
    leave the whole image out (s51 walkbad); None where some pixel is finite."""
    finite = np.isfinite(image)
    finite = finite.any(axis=-1) if channel_axis else finite  # a pixel with a finite channel
    if invalid is not None:
        invalid = np.asarray(invalid, bool)
        finite &= ~(invalid.all(axis=-1) if invalid.ndim > finite.ndim else invalid)
    if finite.any():  # one channel all NaN beside finite ones: not nothing (s51 review)
        return None
    return (
        f"{name}: none of its {count} pixels is finite (all NaN or infinite): the image "
        "holds nothing to segment; export it again with its values, or leave it out"
    )


#: the setting that leaves a training image's NaN pixels out, as the caller sets it
#: (:func:`said_as`: plan_training in a notebook was told ``--set data.nodata=nan``, s53)
NODATA_NAN = Spelled("cfg.data.nodata = 'nan'", "--set data.nodata=nan")


def nonfinite_pixels(name: str, image: np.ndarray, invalid=None) -> str | None:
    """The problem of an (H, W[, C]) image with NaN or infinite pixels (outside ``invalid``:
    a NaN nodata is no problem): training on them ends in a NaN loss that points at the
    learning rate, not at the file."""
    channel_axis = image.ndim != 2
    if not (count := nonfinite_count(image, channel_axis=channel_axis, invalid=invalid)):
        return None
    if none := none_finite(name, image, count, channel_axis=channel_axis, invalid=invalid):
        return none
    nodata = said_as(NODATA_NAN)
    fix = nonfinite_fix(image, channel_axis=channel_axis, invalid=invalid, nodata=nodata)
    return f"{name}: {count} NaN or infinite pixels; {fix} with finite values"


def non_integer_mask(name: str, mask: np.ndarray) -> str | None:
    """The problem of a mask whose values are not whole numbers (one value per class)."""
    if np.issubdtype(mask.dtype, np.integer) or np.issubdtype(mask.dtype, np.bool_):
        return None
    if np.all(np.isfinite(mask)) and np.array_equal(mask, np.round(mask)):
        return None
    return (
        f"{name}: mask holds non-integer values ({mask.dtype}); save masks as integer "
        "PNG/TIFF with one value per class, or per object (ids 1, 2, ... as cellpose's masks; "
        "not resampled with interpolation)"
    )


def stored_channels(path: Path, channels: int) -> str:
    """``"N channels"`` (one: ``"1 channel"``) for an image read with ``channels``, or what the file stores where
    that differs (an RGBA PNG: 4, read as 3 colour channels). A palette of greys (every grey
    GIF) is read as grey (:func:`unetlab.data.io.grey_palette`): its count is said."""
    with contextlib.suppress(OSError):  # not readable as a picture: the count is said
        from PIL import Image

        from unetlab.data.io import grey_palette
        from unetlab.data.png_depth import grey_alpha

        with Image.open(path) as im:  # the header only
            grey = (im.mode == "P" and grey_palette(im)) or grey_alpha(im)
            if im.mode in _MODES and not is_tiff_name(path) and not grey:
                return _MODES[im.mode]
    return numbered(channels, "channel")


def channel_problems(images: Sequence[tuple[Path, int]], in_channels: int | None) -> list[str]:
    """Problems of the images (``(file, channels)``, a stack's file once) whose channel count
    is not the model's ``in_channels`` or, where that is None, not the most common count;
    each says how to convert the file (:func:`convert_fix`), and a grey image saved as RGB
    (all its channels equal) is named as one."""
    if not images:
        return []
    counts = [c for _, c in images]
    expected = in_channels if in_channels is not None else max(set(counts), key=counts.count)
    model = f"the model takes {expected}"
    most = "half the images" if 2 * counts.count(expected) == len(counts) else "most images"
    said = f"{most} have {expected}" if in_channels is None else model
    odd = dict.fromkeys(path for path, c in images if c != expected)  # in order, each once
    channels = dict(images)
    return [
        f"{path}: {stored_channels(path, channels[path])} but {said}: "
        f"{_grey_said(path, channels[path])}{convert_fix(expected, in_channels is not None)}"
        f"{_one_channel_fix(expected, channels[path], in_channels is not None)}"
        for path in odd
    ]


#: the setting that trains one channel (C) of each image, as the caller sets it (:func:`said_as`:
#: a notebook's fit was told ``--set data.channel=C``, s52)
PICK_CHANNEL = set_to("data.channel", Blank("C"))


def _one_channel_fix(expected: int, channels: int, model: bool) -> str:
    """``; or ... --set data.channel=C`` for a multi-channel (not RGB/RGBA) file among grey
    images: a nuclei + cytoplasm TIFF among nuclei-only ones, where Fiji's Type > 8-bit keeps
    both channels and the setting trains on one channel of each multi-channel file."""
    if model or expected != 1 or channels in (1, 3, 4):
        return ""
    return (
        f"; or train one channel of every multi-channel file: {said_as(PICK_CHANNEL)} "
        "(C from 0, e.g. the nuclei's)"
    )


def convert_fix(expected: int, model: bool) -> str:
    """How to bring an image to ``expected`` channels (``model``: the model's count, which
    a setting can change instead)."""
    how = {
        1: "save it as grey (Fiji: Image > Type > 8-bit, or 16-bit for 16-bit data)",
        3: "save it as RGB (Fiji: Image > Type > RGB Color)",
    }.get(expected, f"save it with {expected} channels")
    return f"set model.in_channels to the images' channels, or {how}" if model else how


def _grey_said(path: Path, channels: int) -> str:
    """``its colour channels all equal (a grey image ...): `` for such a file, else ""."""
    if channels < 2:
        return ""
    from unetlab.data.io import read_stack
    from unetlab.errors import ImageReadError

    try:
        pages = read_stack(path)
    except ImageReadError:  # said where the file is read
        return ""
    if pages.ndim != 4 or not (pages == pages[..., :1]).all():
        return ""
    return (
        "its colour channels all equal (a grey image saved as colour; predict reads it as grey): "
    )
