"""16-bit colour PNGs (RGB, RGBA and grey + alpha at 16 bits a sample: what OpenCV's
``imwrite`` saves of a 3-channel uint16 array) read with their 16 bits.

Pillow has no 16-bit colour mode: it reads such a file as 8-bit, keeping each sample's high
byte, so a 12-bit camera's 0-4095 came back as 0-15, and a grey + alpha one as 8-bit RGB (3
channels), unsaid. Here the file is decoded twice through Pillow's own PNG decoder (its
unfiltering, its checks of the data): once as it does (the high bytes), once with the raw
mode of the other byte order, which takes the low bytes; a grey + alpha file's 4 bytes a
pixel are unfiltered as 8-bit RGBA, whose pixels are as wide. Grey 16-bit PNGs Pillow reads
whole (mode I;16) and are not touched.

Not ``imagecodecs.png_decode`` (libpng), though about 2x faster (1024^2 RGB: 57-73 ms vs
139-154 ms): libpng prints "PNG warning: ..." lines on the process's stderr (a damaged
optional chunk, interlaced files), which Python cannot keep off but by redirecting file
descriptor 2 for every thread, and it gives RGB with a tRNS chunk as 4 channels.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

#: Pillow's raw mode of a 16-bit colour PNG -> (raw mode giving the high bytes, the low bytes)
HALVES = {"RGB;16B": ("RGB;16B", "RGB;16L"), "RGBA;16B": ("RGBA;16B", "RGBA;16L")}
GREY_ALPHA = "LA;16B"


def deep_colour(im: Image.Image) -> bool:
    """Whether the open (not yet loaded) Pillow image ``im`` is a 16-bit colour PNG, which
    Pillow alone reads as 8-bit."""
    return im.format == "PNG" and _raw_mode(im) in (*HALVES, GREY_ALPHA)


def grey_alpha(im: Image.Image) -> bool:
    """Whether the open Pillow image ``im`` is a 16-bit grey + alpha PNG, which Pillow opens
    as RGBA and :func:`deep_pixels` reads as grey."""
    return im.format == "PNG" and _raw_mode(im) == GREY_ALPHA


def deep_pixels(path) -> tuple[np.ndarray, np.ndarray | None]:
    """The pixels of the 16-bit colour PNG at ``path`` (:func:`deep_colour`) as uint16, as
    :func:`unetlab.data.io.read_stack` reads a picture: (H, W, 3) for RGB and RGBA (the alpha
    dropped, as it drops an 8-bit one's), (H, W) for grey + alpha; and the (H, W) uint16
    alpha so dropped (None for RGB)."""
    raw = _raw_mode_of(path)
    if raw == GREY_ALPHA:  # 4 bytes a pixel: grey high, low, alpha high, low
        bytes4 = _decoded(path, "RGBA").astype(np.uint16)
        return bytes4[..., 0] << 8 | bytes4[..., 1], bytes4[..., 2] << 8 | bytes4[..., 3]
    high, low = (_decoded(path, mode).astype(np.uint16) for mode in HALVES[raw])
    pixels = high << 8 | low
    return pixels[..., :3], (pixels[..., 3] if pixels.shape[-1] == 4 else None)


def _raw_mode_of(path) -> str:
    with Image.open(path) as im:
        return _raw_mode(im)


def _raw_mode(im: Image.Image) -> str | None:
    tiles = getattr(im, "tile", None) or []
    if len(tiles) != 1 or tiles[0][0] != "zip":
        return None
    return tiles[0][3] if isinstance(tiles[0][3], str) else None


def _decoded(path, raw: str) -> np.ndarray:
    """The pixels of the PNG at ``path`` decoded with the raw mode ``raw`` (unfiltered as
    wide pixels as the file's)."""
    with Image.open(path) as im:
        tile = im.tile[0]
        # a named tuple since Pillow 11, a tuple before
        tile = tile._replace(args=raw) if hasattr(tile, "_replace") else (*tile[:3], raw)
        im.tile = [tile]
        im.load()
        return np.asarray(im)
