"""What a file is by its first bytes, for the line said when it cannot be read under its name
(audit s34 messy 8: a PNG renamed .tif read as a TIFF gave tifffile's header dump)."""

from __future__ import annotations

import os
from pathlib import Path

from unetlab.data.czi import CZI_MAGIC
from unetlab.data.folder_notes import APPLE_DOUBLE
from unetlab.data.h5 import H5_SUFFIXES, HDF4_MAGIC, HDF4_SAID, HDF5_MAGIC
from unetlab.data.mrc import MAP_WORD, MRC_SUFFIXES
from unetlab.data.npy import NPY_MAGIC

#: (first bytes, kind, the suffix a file of that kind is read by)
MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG", ".png"),
    (b"\xff\xd8\xff", "JPEG", ".jpg"),
    (b"II*\x00", "TIFF", ".tif"),
    (b"MM\x00*", "TIFF", ".tif"),
    (b"II+\x00", "TIFF", ".tif"),  # BigTIFF
    (b"MM\x00+", "TIFF", ".tif"),
    (b"GIF87a", "GIF", ".gif"),
    (b"GIF89a", "GIF", ".gif"),
    (b"BM", "BMP", ".bmp"),
    (NPY_MAGIC, "NumPy", ".npy"),
    (HDF5_MAGIC, "HDF5", ".h5"),
    (CZI_MAGIC, "CZI", ".czi"),
)

#: the bytes that tell a DICOM file (Part 10): a 128-byte preamble, then ``DICM``
DICOM_HEAD = 132


def is_dicom_head(head: bytes) -> bool:
    """Whether ``head``, a file's first :data:`DICOM_HEAD` bytes, are a DICOM file's."""
    return head[128:DICOM_HEAD] == b"DICM"


def content_kind(path: str | os.PathLike) -> tuple[str, str] | None:
    """(kind, suffix) of the image file ``path`` by its first bytes (PNG, JPEG, TIFF, GIF,
    BMP, WebP, NumPy, HDF5, CZI; MRC by its word 53), or None: another kind, or unreadable."""
    try:
        with open(path, "rb") as f:
            head = f.read(212)
    except OSError:
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP", ".webp"
    for magic, kind, suffix in MAGIC:
        if head.startswith(magic):
            return kind, suffix
    return ("MRC", ".mrc") if head[208:212] == MAP_WORD else None


def wrong_kind_line(path: str | os.PathLike) -> str | None:
    """The one line for a file that failed to read under its suffix because it is another
    kind of file (``a.tif is a PNG file named .tif: rename it a.png``, a macOS metadata
    twin, a DICOM slice, an HDF4 file), or None: the file is what its suffix says, or
    nothing known."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(DICOM_HEAD)
    except OSError:
        return None
    if head[:4] == APPLE_DOUBLE:
        return (
            f"{path}: a macOS metadata file (AppleDouble), not an image: delete it (dot_clean "
            "on the Mac, or find DIR -name '._*' -delete)"
        )
    if is_dicom_head(head):  # a slice given alone (s72 review: 'a complete PNG ... file?')
        return (
            f"{path}: a DICOM slice, one file of a series: give the series' folder "
            f"({path.parent}/, where it holds that series' slice files alone), read as one "
            "volume"
        )
    if head.startswith(HDF4_MAGIC):  # s74 review: MODIS' .hdf read 'a damaged ... file'
        return f"{path}: {HDF4_SAID}: convert it to HDF5 (h4toh5) or export it as TIFF"
    found = content_kind(path)
    if found is None:
        return None
    kind, suffix = found
    same = {".jpeg": ".jpg", ".tiff": ".tif", **dict.fromkeys(MRC_SUFFIXES, ".mrc")}
    same |= dict.fromkeys(H5_SUFFIXES, ".h5")
    named = same.get(path.suffix.lower(), path.suffix.lower())
    if named == suffix:
        return None
    article = "an" if kind in ("MRC", "HDF5") else "a"
    return (
        f"{path}: {article} {kind} file named {path.suffix}: rename it {path.stem}{suffix} "
        "(its suffix must say what it holds)"
    )
