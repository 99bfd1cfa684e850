"""Whether a TIFF states what its axes are, or only carries the axes tifffile guessed.

tifffile writes axes into every OME-TIFF (``.ome.tif``) and ImageJ hyperstack it saves,
given them or not: for an array given none it guesses from the shape alone, right to left
in TZC(S)YX order (a (5, H, W) z-stack becomes CYX, a (4, 5, H, W) one ZCYX). Such axes
state nothing: a model trained with ``--axes ZYX`` on those z-stacks must read them as
ZYX, not refuse every file as channels. An OME-TIFF of another writer (Bio-Formats, Fiji,
a microscope), one of tifffile's whose axes differ from its guess, or one whose metadata
name what the guess's axes hold (channel names, a Z step, a time step) is the file's word.
A tifffile file given exactly its guess (``axes='CYX'`` for 5 pages) cannot be told from
one given none: it reads as stating nothing, as files did before they were asked. Nor can
the guess with its axes of size 1 left out (a (5, 1, H, W) array: ZCYX, read as ZYX) be
told from ``axes='ZYX'``: such axes say which are planes, not which planes
(:func:`planes_guessed`; the checkpoint's T or Z where it reads each axis as the same kind).
"""

from __future__ import annotations

import re

from unetlab.data import ome_xml
from unetlab.data.positions import image_of

__all__ = ["guessed_by_tifffile", "planes_guessed", "states_axes", "tifffile_guess"]

#: the ImageJ version tifffile writes into every ImageJ TIFF it saves (Fiji writes its own)
TIFFFILE_IMAGEJ = "1.11a"

#: the OME root element of a document tifffile wrote (``Creator="tifffile.py 2026.3.3"``)
_BY_TIFFFILE = re.compile(r"<(?:\w+:)?OME\b[^>]*\bCreator=\"tifffile", re.IGNORECASE)


def states_axes(tif, axes: str) -> bool:
    """Whether an open tifffile ``TiffFile`` states what its series' ``axes`` (upper case)
    are: an OME-TIFF (its XML's sizes), an ImageJ hyperstack (``hyperstack=true``) of
    slices or frames, tifffile's shaped metadata with axes; none of them where the axes are
    only tifffile's guess for an array given none (:func:`guessed_by_tifffile`). Not
    ImageJ's channels alone (``channels=5``: what tifffile writes for a stack given no
    axes), a plain ImageJ stack (Fiji calls any stack's pages slices, a movie's too), nor a
    file of no axes metadata (tifffile's Q or I pages). An ImageJ composite (or colour
    mode) states its channels, as Fiji shows them (:func:`_composite`)."""
    if tif.is_ome:
        return not guessed_by_tifffile(tif, axes)
    if tif.is_imagej:
        meta = tif.imagej_metadata or {}
        planes = bool(meta.get("hyperstack")) and bool(set(axes) - set("CYXS"))
        return (planes or _composite(meta, axes)) and not guessed_by_tifffile(tif, axes)
    shaped = tif.shaped_metadata if tif.is_shaped else None
    return bool(shaped) and "axes" in shaped[0]


def tifffile_guess(axes: str) -> str | None:
    """The axes tifffile gives an OME or ImageJ TIFF of as many axes (and samples where
    and as ``axes`` have them) saved without any: right to left in TZC(S)YX order; None
    where it would give none (more than 3 axes before the rows and samples)."""
    core = next((c for c in ("YXS", "SYX") if axes.endswith(c)), "YX")
    before = len(axes) - len(core)
    return "TZC"[3 - before :] + core if 0 <= before <= 3 else None


def guessed_by_tifffile(tif, axes: str) -> bool:
    """Whether an OME or ImageJ TIFF's series ``axes`` are what tifffile wrote for an array
    given none (:func:`tifffile_guess`), with nothing in its metadata naming what one of
    them holds: no channel names (C), Z step (Z), time step (T)."""
    return axes == tifffile_guess(axes) and _written_bare(tif, axes)


def planes_guessed(tif, axes: str) -> bool:
    """Whether an OME or ImageJ TIFF's series ``axes`` are tifffile's guess for an array
    given none with axes of size 1 left out (a (5, 1, H, W) array: ZCYX, read as ZYX; TYX of
    (5, 1, 1, H, W)), with nothing naming what they hold: they say which axes are planes,
    not which planes (Z or T). tifffile writes the same file for an array given those axes
    (``axes='ZYX'``, no Z step)."""
    core = next((c for c in ("YXS", "SYX") if axes.endswith(c)), "YX")
    before = axes[: len(axes) - len(core)]
    in_order = all(a in "TZC" for a in before) and list(before) == sorted(before, key="TZC".find)
    return bool(before) and in_order and _written_bare(tif, axes)


def _written_bare(tif, axes: str) -> bool:
    """Whether tifffile wrote an OME or ImageJ TIFF (its OME Creator, its ImageJ version) of
    ``axes`` with nothing in its metadata naming what one of them holds."""
    if tif.is_ome:
        xml = tif.ome_metadata or ""
        return bool(_BY_TIFFFILE.search(xml[:4096])) and not _ome_names(xml, image_of(tif), axes)
    meta = tif.imagej_metadata or {}
    return str(meta.get("ImageJ")) == TIFFFILE_IMAGEJ and not _imagej_names(meta, axes)


def _ome_names(xml: str, image: int, axes: str) -> bool:
    """Whether Image ``image`` of an OME-XML document names what one of ``axes`` holds."""
    found = ome_xml.image(xml, image, whole=True)
    if found is None or found.pixels is None:
        return False
    said = {
        "C": any(found.channels),
        "Z": "PhysicalSizeZ" in found.pixels,
        "T": "TimeIncrement" in found.pixels or bool(found.planes),
    }
    return any(said.get(a, False) for a in axes)


def _imagej_names(meta: dict, axes: str) -> bool:
    """Whether ImageJ metadata ``meta`` name what one of ``axes`` holds."""
    said = {"C": bool(meta.get("Labels")), "Z": "spacing" in meta, "T": "finterval" in meta}
    return _composite(meta, axes) or any(said.get(a, False) for a in axes)


def _composite(meta: dict, axes: str) -> bool:
    """Whether ImageJ metadata ``meta`` show the C of ``axes`` as channels: Fiji's composite
    or colour mode (``mode=composite``, ``mode=color``: a LUT per channel) of ``channels=N``;
    ``mode=grayscale``, which tifffile writes for an array given no mode, says nothing."""
    mode = str(meta.get("mode", "")).lower()
    return "C" in axes and mode in ("composite", "color") and int(meta.get("channels", 1)) > 1
