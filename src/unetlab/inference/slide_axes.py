"""What the pages of an open slide are (T, Z, in the file's order), read from its header
once a slide: the streamed path's lines, outputs and objects' table all ask (s55: 12
header reads for a 3-frame movie; review s56: the objects' table read it once more)."""

from __future__ import annotations

import weakref

from unetlab.data.czi import is_czi_name
from unetlab.data.h5 import is_h5_name
from unetlab.data.io import TIFF_SUFFIXES
from unetlab.data.slides import Slide
from unetlab.data.tiffmeta import PageAxes, read_page_axes
from unetlab.inference.pages import given_page_axes

#: each open slide's page axes as its file or the user's axes say (:func:`slide_page_axes`)
_PAGE_AXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def slide_page_axes(slide: Slide) -> PageAxes:
    """The page axes of ``slide`` as its file (or the user's axes) say them, read once a
    slide (``Slide.given_axes`` is never reassigned); "Q" for a TIFF's pages of no known
    axes, "Z" for a stack that is not a TIFF, HDF5 or CZI file (whose own say them; s74 review:
    a streamed CZI time-lapse's was "Z")."""
    if slide not in _PAGE_AXES:
        pages = slide.shape[0]
        if pages == 1:
            axes = PageAxes()
        elif slide.given_axes is not None:
            axes = given_page_axes(slide.path, slide.given_axes, pages)
        elif _own_page_axes(slide.path):
            axes = read_page_axes(slide.path, pages)  # HDF5's: Imaris'; a CZI's: ZEN's T
        else:
            axes = PageAxes("Z", (pages,))
        _PAGE_AXES[slide] = axes
    return _PAGE_AXES[slide]


def _own_page_axes(path) -> bool:
    """Whether ``path``'s header says what its pages are (TIFF, HDF5, CZI)."""
    return path.suffix.lower() in TIFF_SUFFIXES or is_h5_name(path) or is_czi_name(path)
