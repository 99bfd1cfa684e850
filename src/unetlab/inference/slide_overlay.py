"""A picture of a streamed slide: its labels (and object outlines) over a downsampled copy.

A slide is too large to draw at full resolution, so :func:`write_slide_overlay` samples
every ``f``-th pixel of the image, the labels and the object ids (``f`` the smallest whole
factor that brings the long side within ``side`` px), window by window, and draws the
classes and outlines (or each object in its own colour) on that copy as the in-memory
overlay does, band by band of rows: ``<stem>_overlay.png``. Its pixel size (the slide's times the step) is in
its pHYs chunk, in pixels per metre (the unit PNG has; the in-memory overlay TIFF carries it
in its resolution tags), and its text says the step and the pixel size in micrometres
(``unetlab.scale``) beside what made it. Memory goes with ``side``, not with the slide.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.data.io import write_png
from unetlab.data.ome import Told, counter
from unetlab.plots import display_rgb, object_colour_table, palette, prediction_overlay

log = logging.getLogger(__name__)

#: The long side of a slide's overlay, at most (px).
OVERLAY_SIDE = 4096
#: Full-resolution pixels read at a time while sampling.
WINDOW_PIXELS = 2**22
#: Rows of the overlay drawn at a time.
DRAW_ROWS = 256


def by_object(objects) -> bool:
    """Whether an overlay shows objects rather than classes: with the objects
    (:class:`~unetlab.inference.objects.ObjectOptions`) of an instance model, whose classes
    are the background and an object's parts (boundary, interior)."""
    return objects is not None and objects.mode == "instances"


def overlay_factor(height: int, width: int, side: int = OVERLAY_SIDE) -> int:
    """The smallest whole step whose sampling fits the long side within ``side`` px."""
    if side < 1:
        raise ValueError(f"the overlay's side must be at least 1 px, not {side}")
    return max(1, -(-max(height, width) // side))


def windows(height: int, width: int, step: int) -> Iterator[tuple[slice, slice]]:
    """Full-resolution ``(rows, cols)`` windows of about ``WINDOW_PIXELS`` px that cover an
    (H, W) plane in order, each starting on a multiple of ``step``."""
    rows = step * max(1, 1024 // step)
    cols = step * max(1, WINDOW_PIXELS // rows // step)
    for y in range(0, height, rows):
        for x in range(0, width, cols):
            yield slice(y, min(y + rows, height)), slice(x, min(x + cols, width))


def sampled(read, height: int, width: int, step: int, done=lambda: None) -> np.ndarray:
    """Every ``step``-th row and column (from 0) of an (H, W, ...) plane that ``read(rows,
    cols)`` gives window by window; ``done()`` after each window."""
    out = None
    for rows, cols in windows(height, width, step):
        block = np.asarray(read(rows, cols))[::step, ::step]
        if out is None:
            shape = (-(-height // step), -(-width // step), *block.shape[2:])
            out = np.zeros(shape, block.dtype)
        y, x = rows.start // step, cols.start // step
        out[y : y + block.shape[0], x : x + block.shape[1]] = block
        done()
    return out


def write_slide_overlay(
    path: Path,
    shape: tuple[int, int],
    image,
    labels,
    ids=None,
    *,
    colours: np.ndarray | None = None,
    side: int = OVERLAY_SIDE,
    by_object: bool = False,
    text: dict[str, str] | None = None,
    pixel_size: tuple[float, float] | None = None,
    told: Told | None = None,
) -> int:
    """Write ``path`` (PNG): the (H, W) class indices ``labels(rows, cols)`` gives over the
    (H, W, C) ``image(rows, cols)`` of an (H, W) ``shape``, with the outlines of the objects
    ``ids(rows, cols)`` gives (None: no outlines), sampled every ``f`` px (the smallest
    whole ``f`` that fits the long side within ``side``); returns ``f``. ``by_object``: each
    object filled and outlined in its own colour instead of the classes
    (:func:`unetlab.plots.prediction_overlay`). ``text``: PNG text chunks (what made it);
    ``unetlab.scale`` is added: the step and the overlay's (y, x) pixel size in micrometres
    (``pixel_size``, the slide's, times the step; null without one). ``told(what, done,
    total)``: how far its reading and drawing are (:data:`~unetlab.data.ome.Told`)."""
    height, width = shape
    step = overlay_factor(height, width, side)
    told = told or (lambda what, done, total: None)
    reads = [image, labels] + ([] if ids is None else [ids])
    done = counter(told, "reading", len(reads) * sum(1 for _ in windows(height, width, step)))
    pixels, classes, *found = (sampled(read, height, width, step, done) for read in reads)
    found = found[0] if found else None  # the ids where given
    pixels = display_rgb(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)  # one stretch
    if colours is None:  # the same colours in every band
        colours = palette(int(classes.max(initial=0)) + 1)
    # each object's colour from the whole map: neighbours apart across bands too
    table = object_colour_table(found) if by_object and found is not None else None
    how = dict(colours=colours, by_object=by_object, table=table)
    drawn = _drawn(pixels, classes, found, counter(told, "drawing", _band_count(len(pixels))), how)
    del pixels, found, classes
    text = {**(text or {}), SCALE_KEY: scale_text(step, pixel_size)}
    _write_png(path, drawn, text, None if pixel_size is None else per_metre(pixel_size, step))
    return step


def _drawn(pixels, classes, found, done, how: dict) -> np.ndarray:
    """The (h, w, 3) uint8 overlay of sampled ``pixels``, ``classes`` and ids (``found``,
    or None) drawn band by band (``how``: :func:`~unetlab.plots.prediction_overlay`'s
    keywords), ``done()`` after each band."""
    drawn = np.empty(pixels.shape, np.uint8)
    for y0, y1 in _bands(pixels.shape[0]):
        # a row above and below: outlines compare each pixel with its neighbours
        a, b = max(y0 - 1, 0), min(y1 + 1, pixels.shape[0])
        ids = None if found is None else found[a:b]
        band = prediction_overlay(pixels[a:b], classes[a:b], ids, **how)
        drawn[y0:y1] = band[y0 - a : y0 - a + y1 - y0]
        done()
    return drawn


def _band_count(height: int) -> int:
    """The bands :func:`_bands` gives of ``height`` rows."""
    return -(-height // DRAW_ROWS)


def _bands(height: int) -> Iterator[tuple[int, int]]:
    """``[y0, y1)`` bands of ``DRAW_ROWS`` rows that cover ``height`` rows: an overlay is
    drawn band by band, since drawing works in float copies of many times its pixels (a
    4096 x 4096 overlay of objects drawn whole peaked at 4.8 GB)."""
    for y in range(0, height, DRAW_ROWS):
        yield y, min(y + DRAW_ROWS, height)


def per_metre(pixel_size: tuple[float, float], step: int) -> tuple[int, int]:
    """(x, y) pixels per metre of an overlay sampled every ``step`` px of a slide of
    ``pixel_size`` ((y, x) um): a PNG pHYs chunk's whole numbers."""
    y, x = (float(v) * step for v in pixel_size)
    return round(1e6 / x), round(1e6 / y)


def _write_png(path: Path, rgb: np.ndarray, text: dict[str, str], scale) -> None:
    """:func:`~unetlab.data.io.write_png` of an RGB image, with a pHYs chunk of ``scale``
    ((x, y) pixels per metre) where it is given: write_png writes none."""
    if scale is None:
        write_png(path, rgb, text=text)
        return
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in text.items():
        info.add_itxt(key, value)
    # Pillow writes pHYs from dots per inch: int(dpi / 0.0254 + 0.5) pixels per metre
    dpi = tuple(v * 0.0254 for v in scale)
    with atomic_path(path) as tmp:
        Image.fromarray(rgb.astype(np.uint8)).save(tmp, format="PNG", pnginfo=info, dpi=dpi)


#: the PNG text key of an overlay's sampling step and pixel size
SCALE_KEY = "unetlab.scale"


def scale_text(step: int, pixel_size: tuple[float, float] | None) -> str:
    """JSON of an overlay sampled every ``step`` px of a slide of ``pixel_size`` ((y, x) um)."""
    size = None if pixel_size is None else [float(v) * step for v in pixel_size]
    return json.dumps({"step": step, "pixel_size_um": size})
