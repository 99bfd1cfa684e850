"""The dtype an image file's pixels are read as (:func:`unetlab.data.io.read_stack`), from
its header: what a trained normalisation ``floor`` records as its units
(:func:`unetlab.data.normalize.with_floor_dtype`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from unetlab.data.io import TIFF_SUFFIXES, read_stack

#: Pillow modes and the dtype read_stack gives them (any other mode: uint8)
_MODES = {"I;16": "uint16", "I;16B": "uint16", "I;16L": "uint16", "I": "int32", "F": "float32"}


def stored_dtype(path: str | os.PathLike) -> str:
    """The numpy dtype name of the pixels :func:`~unetlab.data.io.read_stack` reads from
    ``path`` ("uint8", "uint16", "float32", ...), from the header where it says it."""
    path = Path(path)
    if path.suffix.lower() not in TIFF_SUFFIXES:
        with Image.open(path) as im:
            return _MODES.get(im.mode, "uint8")
    import tifffile

    with tifffile.TiffFile(path) as tif:
        dtype = np.dtype(tif.series[0].dtype)
    if dtype.kind == "b":  # a 1-bit TIFF is read as uint8
        return "uint8"
    if dtype.byteorder not in ("=", "|"):
        return read_stack(path).dtype.name  # a big-endian file: as read
    return dtype.name
