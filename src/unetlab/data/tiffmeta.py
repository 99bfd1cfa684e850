"""TIFF metadata that viewers read: pixel size and class names (ImageJ hyperstack format).

Fiji opens an ImageJ-format TIFF scaled (``unit`` in the description, 1 / XResolution px per
unit: Image > Properties) and shows its ``Info`` and ``Properties`` (Image > Show Info);
channel ``Labels`` name the slices of a probability stack. napari readers built on tifffile
(``TiffFile.imagej_metadata``, e.g. napari-tifffile, napari-aicsimageio) read the same fields.
See tifffile's ``imagej_description`` and the ImageJ TIFF notes in tifffile's docs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: dtypes an ImageJ hyperstack holds; others are written as plain TIFFs without these fields
IMAGEJ_DTYPES = (np.uint8, np.uint16, np.float32)
_UM_PER_UNIT = {2: 25400.0, 3: 10000.0}  # TIFF ResolutionUnit: 2 inch, 3 centimetre


@dataclass(frozen=True)
class PixelSize:
    """The side of a pixel: ``size`` in ``unit`` (e.g. 0.5, "um")."""

    size: float
    unit: str


def read_pixel_size(path: str | os.PathLike) -> PixelSize | None:
    """The pixel size a TIFF records: ImageJ's ``unit`` with XResolution, or XResolution in
    inches or centimetres (as micrometres); None for other files or when absent."""
    import tifffile

    if not str(path).lower().endswith((".tif", ".tiff")):
        return None
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        tag = page.tags.get("XResolution")
        if tag is None:
            return None
        numerator, denominator = tag.value
        if numerator <= 0 or denominator <= 0:
            return None
        per_unit = numerator / denominator  # pixels per unit
        unit = (tif.imagej_metadata or {}).get("unit") if tif.is_imagej else None
        if unit and unit not in ("pixel", "pixels"):
            return PixelSize(1.0 / per_unit, str(unit))
        code = int(page.tags.get("ResolutionUnit").value) if "ResolutionUnit" in page.tags else 2
        if code in _UM_PER_UNIT and per_unit != 1.0:
            return PixelSize(_UM_PER_UNIT[code] / per_unit, "um")
    return None


def class_table(classes: Sequence[str], values: Sequence[int] | None = None) -> dict[int, str]:
    """Pixel value -> class name: index i -> classes[i], or values[i] -> classes[i]."""
    keys = list(values) if values is not None else list(range(len(classes)))
    return {int(k): str(name) for k, name in zip(keys, classes)}


def imagej_kwargs(
    dtype,
    *,
    axes: str,
    classes: Sequence[str],
    values: Sequence[int] | None = None,
    pixel: PixelSize | None = None,
    channel_labels: int = 0,
) -> dict:
    """``tifffile.imwrite`` keywords for an ImageJ hyperstack of ``axes`` (e.g. "YX", "ZYX",
    "CYX", "ZCYX") carrying the pixel size and the class names: ``Info`` (one line per
    class, "value: name"), ``Properties`` (``unetlab.classes``: the table as JSON) and, with
    ``channel_labels`` = P pages, slice ``Labels`` naming each class channel (P x K names).
    An empty dict for dtypes ImageJ cannot hold (see ``IMAGEJ_DTYPES``)."""
    if np.dtype(dtype) not in [np.dtype(d) for d in IMAGEJ_DTYPES]:
        return {}
    table = class_table(classes, values)
    info = "unetlab classes (pixel value: name)\n" + "\n".join(
        f"{k}: {v}" for k, v in table.items()
    )
    metadata: dict = {
        "axes": axes,
        "Info": info,
        "Properties": {"unetlab.classes": json.dumps({str(k): v for k, v in table.items()})},
    }
    if channel_labels:
        metadata["Labels"] = [str(c) for c in classes] * channel_labels
    kwargs: dict = {"imagej": True, "metadata": metadata}
    if pixel is not None:
        metadata["unit"] = pixel.unit
        kwargs["resolution"] = (1.0 / pixel.size, 1.0 / pixel.size)
    return kwargs
