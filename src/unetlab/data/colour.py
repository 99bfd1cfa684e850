"""Whether an image file is a colour picture (its channels are red, green, blue[, alpha]) or
an image of separate channels (the stains of a fluorescence image), from its header.

Only a colour picture may be turned into its luminance for a grey model: the weighted mean
of a nuclear stain and a membrane stain is no image of either.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from unetlab.data.czi import czi_source, is_czi_name
from unetlab.data.h5 import h5_colour, is_h5_name
from unetlab.data.io import TIFF_SUFFIXES, bare_planes, stain_axes
from unetlab.data.mrc import is_mrc_name
from unetlab.data.names import ANNOTATION_SUFFIXES
from unetlab.data.nifti import is_nifti
from unetlab.data.npy import is_npy_name, npy_colour
from unetlab.data.png_depth import grey_alpha
from unetlab.data.positions import series_of
from unetlab.data.shapes import SHAPE_SUFFIXES
from unetlab.data.tiff_files import keeping_open, open_tiff

#: Pillow modes that :func:`unetlab.data.io.read_stack` reads as RGB.
COLOUR_MODES = ("RGB", "RGBA", "RGBX", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV")

#: TIFF photometric interpretations of colour pictures: RGB, palette, CMYK (separated),
#: YCbCr, CIELab.
COLOUR_PHOTOMETRIC = (2, 3, 5, 6, 8)


def colour_file(path: str | os.PathLike, *, mask: bool = False) -> bool | None:
    """True for a colour picture (an RGB/RGBA/palette PNG, a JPEG, a TIFF whose photometric
    interpretation is RGB), False for other files (grey pictures, and TIFFs of minisblack
    channels: ImageJ hyperstacks, OME-TIFFs, 16-bit microscope files), None for what is not
    a file (an OME-Zarr folder). A TIFF of RGB photometry whose metadata calls its planes
    channels (``tifffile.imwrite(path, cyx, metadata={"axes": "CYX"})`` of 8-bit (3, H, W)
    writes such a file) holds channels: the caller decides by the pixels (8-bit 3 channels: colour).
    ``mask``: ``path`` read as a mask (an ``.npz``'s masks array, not its images)."""
    path = Path(path)
    if not path.is_file():
        return None
    if path.suffix.lower() in (*ANNOTATION_SUFFIXES, *SHAPE_SUFFIXES) or is_nifti(path):
        return False  # ids; shapes' classes; a CT's values
    if is_mrc_name(path):
        return False  # MRC's grey
    if is_czi_name(path):  # a Bgr24 / Bgr48 brightfield scan's
        return czi_source(path).samples == 3
    if is_npy_name(path):  # an array's last axis of 3 or 4, as tifffile saves it (RGB)
        return npy_colour(path, mask=mask)
    if is_h5_name(path):  # an ilastik export of an RGB picture: 8-bit yxc of 3 or 4
        return not mask and h5_colour(path)
    if path.suffix.lower() in TIFF_SUFFIXES:
        with open_tiff(path) as tif:
            series = series_of(tif)
            # the samples of an RGB page, unless the file's metadata names them channels (C)
            samples = "S" in series.axes.upper()
            return samples and int(series.keyframe.photometric) in COLOUR_PHOTOMETRIC
    with Image.open(path) as im:  # a 16-bit grey + alpha PNG opens as RGBA, is read grey
        return im.mode in COLOUR_MODES and not grey_alpha(im)


def channels_kind(path: str | os.PathLike, axes: str | None = None) -> str | None:
    """What the channels of ``path`` are as training reads it with ``axes`` (a pair's, or
    ``data.axes``): "colours" (an RGB picture's: a colour PNG or JPEG, a TIFF of RGB
    samples, one read as YXC) or "stains" (separate channels: CYX, an ImageJ hyperstack's or
    an OME file's channels, a multi-band TIFF, an OME-Zarr folder); None for planar RGB
    planes that record no axes, read as pages (:func:`~unetlab.data.io.bare_planes`). A
    TIFF's header is read once for both questions (it was opened twice per training image)."""
    letters = (axes or "").upper() if Path(path).suffix.lower() in TIFF_SUFFIXES else ""
    if "S" in letters:
        return "colours"
    if "C" in letters:
        return "stains" if stain_axes(letters) else "colours"
    with keeping_open(path):
        if Path(path).is_file() and bare_planes(path):
            return None
        return "colours" if colour_file(path) else "stains"


def same_kind(kinds) -> str | None:
    """The one kind of channels all ``kinds`` (:func:`channels_kind` of each training image)
    are, or None where they differ or none is given."""
    kinds = set(kinds)
    return kinds.pop() if len(kinds) == 1 else None
