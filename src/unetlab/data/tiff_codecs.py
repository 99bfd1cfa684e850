"""Whether a TIFF's pixels are stored with a compression that can be decoded here.

A TIFF whose compression tifffile does not know (a vendor's private code) or whose codec the
installed imagecodecs lacks fails on its first tile with a decoder's error (``50999 is not a
known COMPRESSION``), which the readers reported as a truncated or corrupt file, sending the
user to copy it again. :func:`undecodable_line` names the compression and the fix instead; the
readers ask it only once a read has failed, so a readable file costs nothing.
"""

from __future__ import annotations

import os

from unetlab.data.tiff_files import is_tiff_name

__all__ = ["undecodable_line"]


def undecodable_line(path: str | os.PathLike) -> str | None:
    """The one line for a TIFF whose first page of a compression not decodable here
    (unknown to tifffile, or a codec missing from imagecodecs); None for any other file,
    or one that cannot be opened."""
    if not is_tiff_name(path):
        return None
    try:
        import tifffile

        with tifffile.TiffFile(path) as tif:
            codes = {int(page.compression) for page in _pages(tif)}
    except Exception:  # noqa: BLE001 - a file tifffile cannot open: the caller's line stands
        return None
    bad = sorted(code for code in codes if not _decodable(code))
    if not bad:
        return None
    return (
        f"{path}: its pixels are stored with TIFF compression {_name(bad[0])}, which tifffile "
        "and imagecodecs cannot decode here (the file need not be damaged): "
        "pip install -U imagecodecs, or convert it to a TIFF of deflate, LZW, zstd or JPEG "
        "tiles (bfconvert -compression LZW, or Fiji / QuPath: export as OME-TIFF)"
    )


def _pages(tif) -> list:
    """The first page of each series and of each of its pyramid levels."""
    pages = []
    for series in tif.series:
        pages.extend(level.keyframe for level in series.levels)
    return pages or list(tif.pages[:1])


def _decodable(code: int) -> bool:
    from tifffile import TIFF

    try:
        TIFF.DECOMPRESSORS[code]
    except KeyError:
        return False
    return True


def _name(code: int) -> str:
    """``LZMA (34925)``, or ``50999`` for a code tifffile does not know."""
    from tifffile import COMPRESSION

    try:
        return f"{COMPRESSION(code).name} ({code})"
    except ValueError:
        return f"{code} (a code tifffile does not know)"
