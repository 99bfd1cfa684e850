"""Whether an image file is a colour picture (its channels are red, green, blue[, alpha]) or
an image of separate channels (the stains of a fluorescence image), from its header.

Only a colour picture may be turned into its luminance for a grey model: the weighted mean
of a nuclear stain and a membrane stain is no image of either.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from unetlab.data.io import TIFF_SUFFIXES
from unetlab.data.names import ANNOTATION_SUFFIXES
from unetlab.data.png_depth import grey_alpha
from unetlab.data.positions import series_of
from unetlab.data.tiff_files import open_tiff

#: Pillow modes that :func:`unetlab.data.io.read_stack` reads as RGB.
COLOUR_MODES = ("RGB", "RGBA", "RGBX", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV")

#: TIFF photometric interpretations of colour pictures: RGB, palette, CMYK (separated),
#: YCbCr, CIELab.
COLOUR_PHOTOMETRIC = (2, 3, 5, 6, 8)


def colour_file(path: str | os.PathLike) -> bool | None:
    """True for a colour picture (an RGB/RGBA/palette PNG, a JPEG, a TIFF whose photometric
    interpretation is RGB), False for other files (grey pictures, and TIFFs of minisblack
    channels: ImageJ hyperstacks, OME-TIFFs, 16-bit microscope files), None for what is not
    a file (an OME-Zarr folder). A TIFF of RGB photometry whose metadata calls its planes
    channels (``tifffile.imwrite(path, cyx, metadata={"axes": "CYX"})`` of 8-bit (3, H, W)
    writes such a file) holds channels: the caller decides by the pixels (8-bit 3 channels: colour)."""
    path = Path(path)
    if not path.is_file():
        return None
    if path.suffix.lower() in ANNOTATION_SUFFIXES:  # a mask drawn as outlines: ids, no colour
        return False
    if path.suffix.lower() in TIFF_SUFFIXES:
        with open_tiff(path) as tif:
            series = series_of(tif)
            # the samples of an RGB page, unless the file's metadata names them channels (C)
            samples = "S" in series.axes.upper()
            return samples and int(series.keyframe.photometric) in COLOUR_PHOTOMETRIC
    with Image.open(path) as im:  # a 16-bit grey + alpha PNG opens as RGBA, is read grey
        return im.mode in COLOUR_MODES and not grey_alpha(im)
