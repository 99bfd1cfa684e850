"""The EXIF (and TIFF) Orientation tag: phones store a portrait photo landscape and tag it
(274 = 6 or 8); every viewer, phone gallery and annotation tool (labelme, CVAT) shows it
turned, and its masks are drawn on the view. :func:`unetlab.data.io.read_stack` reads files
turned as the tag says, so that images, masks and outputs are in the orientation the user sees.

Tag values (TIFF 6.0, EXIF 2.3): 1 as stored; 2 mirrored left-right; 3 turned 180°; 4
mirrored top-bottom; 5 transposed; 6 stored turned 90° anticlockwise (shown turned 90°
clockwise); 7 transversed; 8 stored turned 90° clockwise. 5 to 8 swap width and height.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

ORIENTATION_TAG = 274
#: tag values that swap width and height
SWAPPING = (5, 6, 7, 8)


def pil_orientation(im: Image.Image) -> int:
    """The Orientation tag (1-8; 1 for none or an unknown value) of an open Pillow image, from
    its header. A PNG's is looked for in the chunks before its pixels only (as the PNG
    specification places eXIf): Pillow would decode the pixels to look after them."""
    if im.format == "PNG" and not _png_header_exif(im.info):
        return 1
    value = im.getexif().get(ORIENTATION_TAG, 1)
    return int(value) if value in range(1, 9) else 1


def _png_header_exif(info: dict) -> bool:
    return any(k in info for k in ("exif", "Raw profile type exif", "XML:com.adobe.xmp", "xmp"))


def pil_oriented(im: Image.Image, orientation: int) -> Image.Image:
    """``im`` (loaded) turned as ``orientation`` says; ``im`` itself for 1."""
    method = _PIL_METHODS.get(orientation)
    return im if method is None else im.transpose(method)


_PIL_METHODS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def tiff_orientation(page) -> int:
    """The Orientation tag of a tifffile page (1 where it has none or an unknown value)."""
    tag = page.tags.get(ORIENTATION_TAG)
    value = int(tag.value) if tag is not None else 1
    return value if value in range(1, 9) else 1


def oriented(array: np.ndarray, orientation: int, y: int, x: int) -> np.ndarray:
    """``array`` turned as ``orientation`` says, its rows on axis ``y`` and columns on ``x``
    (as :func:`pil_oriented` turns a picture); ``array`` itself for 1, else a contiguous copy."""
    if orientation not in _PIL_METHODS:
        return array
    if orientation in SWAPPING:
        array = np.swapaxes(array, y, x)  # 5: transposed; the others are 5 turned or flipped
    flip_y, flip_x = {2: (0, 1), 3: (1, 1), 4: (1, 0), 5: (0, 0), 6: (0, 1), 7: (1, 1), 8: (1, 0)}[
        orientation
    ]
    index = [slice(None)] * array.ndim
    index[y] = slice(None, None, -1) if flip_y else slice(None)
    index[x] = slice(None, None, -1) if flip_x else slice(None)
    return np.ascontiguousarray(array[tuple(index)])


def viewed_size(orientation: int, height: int, width: int) -> tuple[int, int]:
    """(height, width) of a picture stored ``height`` x ``width`` as viewers show it."""
    return (width, height) if orientation in SWAPPING else (height, width)


def transposed_sizes(image_hw: tuple[int, int], mask_hw: tuple[int, int]) -> str:
    """The clause a size-mismatch message adds where an image and its mask differ only by a
    turn of 90° (their width and height swapped), else ""."""
    if tuple(image_hw) == tuple(mask_hw) or tuple(image_hw) != tuple(mask_hw)[::-1]:
        return ""
    return (
        "; they differ by a turn of 90°: unetlab reads pictures turned as their EXIF "
        "Orientation tag says (as viewers, labelme and CVAT show them); a mask drawn on the "
        "unturned pixels (e.g. in Fiji) must be turned the same way, or the image's tag "
        "removed (exiftool -Orientation= IMAGE)"
    )
