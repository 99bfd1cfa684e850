"""TIFF metadata that viewers read: pixel size and class names (ImageJ hyperstack format).

Fiji opens an ImageJ-format TIFF scaled (``unit`` in the description, 1 / XResolution px per
unit: Image > Properties) and shows its ``Info`` and ``Properties`` (Image > Show Info);
channel ``Labels`` name the slices of a probability stack. napari readers built on tifffile
(``TiffFile.imagej_metadata``, e.g. napari-tifffile, napari-aicsimageio) read the same fields.
See tifffile's ``imagej_description`` and the ImageJ TIFF notes in tifffile's docs.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from unetlab.data import ome_xml
from unetlab.data.czi import czi_pixel_size, czi_source, is_czi_name
from unetlab.data.dicom import is_dicom_series, series_pixel_size
from unetlab.data.geotiff import geotags, geotiff_pixel_size
from unetlab.data.h5 import h5_page_axes, h5_pixel_size, is_h5_name
from unetlab.data.mrc import is_mrc_name, mrc_pixel_size
from unetlab.data.nifti import (
    header_length_unit,
    header_pixel_size,
    header_tilt,
    is_nifti,
    names_no_unit,
    planes_apart,
    read_header,
)
from unetlab.data.nifti_affine import TILT_TOLERANCE
from unetlab.data.npy import is_npy_name
from unetlab.data.positions import image_of, series_of
from unetlab.data.read_notes import note_alike, say_once_a_call
from unetlab.data.shown import shown_path
from unetlab.data.stated_axes import TIFFFILE_IMAGEJ, states_axes
from unetlab.data.tiff_files import given_name, given_path, is_tiff_name, open_tiff
from unetlab.errors import Spelled, UnetlabError, said, said_as
from unetlab.words import twelve_digits

#: dtypes an ImageJ hyperstack holds; others are written as plain TIFFs without these fields
IMAGEJ_DTYPES = (np.uint8, np.uint16, np.float32)


log = logging.getLogger(__name__)

#: ``--axes CYX`` as the Python API (``axes='CYX'``) and the command line spell it: a
#: format of the axes named in a fix
AXES_AS = Spelled("axes='{}'", "--axes {}")
#: the same for a training's data, which a config's key gives (fit has no axes=: s56 review)
DATA_AXES_AS = Spelled("cfg.data.axes = '{}'", "--axes {}")
#: the sizes predict is given in place of a file's, as each caller gives them (a line said
#: both, "--z-spacing (z_spacing=)", s56)
Z_SPACING, PIXEL_SIZE_UM = (
    Spelled("z_spacing=", "--z-spacing"),
    Spelled("pixel_size=UM", "--pixel-size UM"),
)

#: Micrometres per unit of the physical units files name (lower case; :func:`micrometres_per`
#: reads any case, plurals and ImageJ's escaped "\u00B5m"). ImageJ 1.53 writes "microns"
#: (cgohlke/tifffile#152), as older Fiji versions did.
MICROMETRES = {
    **dict.fromkeys(["µm", "μm", "um", "micron", "micrometer", "micrometre"], 1.0),
    **dict.fromkeys(["nm", "nanometer", "nanometre"], 1e-3),
    # cryo-EM and STEM pixels: Fiji's unit=\u00C5, OME's "Å", NGFF's "angstrom"
    **dict.fromkeys(["å", "angstrom", "ångström"], 1e-4),
    **dict.fromkeys(["pm", "picometer", "picometre"], 1e-6),
    **dict.fromkeys(["mm", "millimeter", "millimetre"], 1e3),
    **dict.fromkeys(["cm", "centimeter", "centimetre"], 1e4),
    **dict.fromkeys(["m", "meter", "metre"], 1e6),
    **dict.fromkeys(["in", "inch"], 25400.0),
}

#: units that say "not calibrated" (ImageJ's default), not an unknown unit
UNCALIBRATED = ("", "pixel", "pixels", "px")

#: micrometres per OME ``UnitsLength`` value, as OME spells them (case matters there: "Mm"
#: is not "mm"); other spellings ("um", "micron") go through :func:`micrometres_per`
OME_UNITS = {
    **{"km": 1e9, "hm": 1e8, "dam": 1e7, "m": 1e6, "dm": 1e5, "cm": 1e4, "mm": 1e3},
    **{"µm": 1.0, "nm": 1e-3, "pm": 1e-6, "fm": 1e-9, "Å": 1e-4},
    **{"thou": 25.4, "in": 25400.0, "ft": 304800.0, "yd": 914400.0, "pt": 25400.0 / 72},
}

#: OME ``UnitsLength`` values that are no length (the size counts pixels: not calibrated)
OME_UNCALIBRATED = ("pixel", "reference frame")

#: ImageJ writes non-ASCII characters of its description as Java escapes: unit=\u00B5m
_JAVA_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def micrometres_per(unit) -> float | None:
    """Micrometres per ``unit`` as files write it ("um", "µm", "Microns", "\\u00B5m", "nm",
    "inch", ...); None for a unit not in ``MICROMETRES``."""
    text = _JAVA_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), str(unit)).strip().lower()
    if text not in MICROMETRES and text.endswith("s"):  # microns, micrometres, inches
        text = text[:-2] if text.endswith("es") and text[:-2] in MICROMETRES else text[:-1]
    return MICROMETRES.get(text)


@dataclass(frozen=True)
class PixelSize:
    """The sides of a pixel: ``size``, (y, x) in ``unit`` (e.g. (0.5, 0.5), "um"; a file's
    pixels need not be square: Y and X are read and written apart, as the streamed path's
    OME-TIFFs do); ``spacing``: the step between the planes of a stack, in ``unit``, where
    the file gives one; ``geotags``: the GeoTIFF tags that place the file's pixel grid on
    the map (:func:`unetlab.data.geotiff.geotags`), written into the outputs of that grid
    (:func:`imagej_kwargs`, :func:`scale_kwargs`)."""

    size: tuple[float, float]
    unit: str
    spacing: float | None = None
    geotags: tuple = field(default=(), compare=False, repr=False)
    #: the unit its objects tables give sizes in (a key of
    #: :data:`unetlab.inference.measure.UNITS`): a NIfTI volume's mm (:func:`read_pixel_size`)
    shown: str = field(default="um", compare=False)
    #: whether ``spacing`` is not recorded but the 1 unit Fiji implies (ImageJ writes no
    #: ``spacing=`` at 1: :func:`_fiji_step`), which a spacing another file records beats
    implied: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class PageAxes:
    """What the pages of a stack are (the first axis :func:`unetlab.data.io.read_stack`
    gives, in the file's order): ``letters``, the file's page axes in its order ("TZ", "ZT",
    "T", "Z"; "Q" for pages of no known meaning, written as Z as before; "" for one page),
    ``shape`` their sizes, and ``timing``: ImageJ's ``finterval`` (seconds between time
    points) and ``tunit`` where the file gives them."""

    letters: str = ""
    shape: tuple[int, ...] = ()
    timing: dict = field(default_factory=dict)

    @property
    def axes(self) -> str:
        """The pages' axes of an ImageJ hyperstack (ImageJ's order T, Z): "TZ", "T", "Z" or ""."""
        return "Z" if self.letters == "Q" else "".join(a for a in "TZ" if a in self.letters)

    def unfold(self, pages: np.ndarray) -> np.ndarray:
        """(P, ...) per-page outputs as (T, Z, ...) in the order of :attr:`axes` (``pages``
        itself for "Q" or ""; a view where the file's order is ImageJ's)."""
        if len(self.letters) < 2:
            return pages
        order = [self.letters.index(a) for a in self.axes]
        unfolded = pages.reshape(*self.shape, *pages.shape[1:])
        return unfolded.transpose(*order, *range(len(order), unfolded.ndim))

    def label(self, page: int) -> str:
        """How messages name page ``page``, 0-based as the tables' ``t`` and ``z``: "frame 3"
        (T), "plane 2" (Z), "frame 1 plane 0" (both), else "page 4" (audit s34 stacks 10:
        one movie's frames were "planes", "page 2" and "movie[2]")."""
        at = self.index(page)
        words = [f"{w} {at[k]}" for w, k in (("frame", "t"), ("plane", "z")) if k in at]
        return " ".join(words) or f"page {page}"

    def noun(self) -> str:
        """What the pages are, plural, as messages count them: "frames" (T), "planes" (Z, or
        T and Z: each a plane of a frame), else "pages"."""
        return "planes" if "Z" in self.letters else "frames" if self.letters == "T" else "pages"

    def index(self, page: int) -> dict[str, int]:
        """``{"t": i, "z": j}`` of page ``page`` (the file's T and Z axes only)."""
        if self.letters in ("", "Q"):
            return {}
        at = np.unravel_index(page, self.shape)
        return {a.lower(): int(at[self.letters.index(a)]) for a in self.axes}


def pages_said(path: str | os.PathLike) -> bool:
    """Whether the header of ``path`` says what its pages are (T, Z; :func:`read_page_axes`):
    a TIFF's, an MRC file's sections, an HDF5 file's (ilastik's axistags, Imaris' and
    BigDataViewer's time points; s74: evaluate named an ilastik tzyx export's pages
    ``page`` alone)."""
    return is_tiff_name(path) or is_mrc_name(path) or is_h5_name(path)


def read_page_axes(
    path: str | os.PathLike, pages: int, *, say: bool = True, axes_as: Spelled = AXES_AS
) -> PageAxes:
    """:class:`PageAxes` of a file whose image reads as ``pages`` pages: a TIFF's T and Z
    (ImageJ hyperstack, OME, tifffile's axes) with ImageJ's frame interval or OME's
    ``TimeIncrement``; other page axes as "Q" (or "" for one); the frames of an animated
    GIF or PNG as T, with their interval (:func:`unetlab.data.io.frame_timing`). ``say``:
    warn of a Fiji stack of slices that records a frame interval (read as Z), naming the
    axes to give as ``axes_as`` (:data:`DATA_AXES_AS` where training reads it)."""
    if pages == 1:
        return PageAxes()
    if is_nifti(path) or is_mrc_name(path) or is_dicom_series(path):  # slices; sections
        return PageAxes("Z", (pages,))
    if is_npy_name(path):  # an array's leading axes: not known, as a bare TIFF's
        return PageAxes("Q", (pages,))
    if is_h5_name(path):  # ilastik's axistags, Imaris' and BigDataViewer's time points
        return PageAxes(*h5_page_axes(path, pages))
    if is_czi_name(path):  # ZEN's time points and z planes
        return PageAxes(*czi_source(path).page_axes)
    if not is_tiff_name(path):
        from unetlab.data.io import frame_timing

        return PageAxes("T", (pages,), frame_timing(path))

    from unetlab.data.io import decoding_errors, tiff_layout

    with decoding_errors(Path(path)), open_tiff(path) as tif:  # slices=abc: one line
        letters, shape = tiff_layout(tif)
        named = series_of(tif).axes.upper()
        found = [(a, n) for a, b, n in zip(named, letters, shape) if b == "P" and n > 1]
        axes, sizes = "".join(a for a, _ in found), tuple(n for _, n in found)
        known = set(axes) <= {"T", "Z"} and len(set(axes)) == len(axes)
        if not known or int(np.prod(sizes)) != pages:
            return PageAxes("Q", (pages,))
        if axes == "Z" and tif.is_imagej and say:
            _say_slices_timed(tif, pages, axes_as)
        return PageAxes(axes, sizes, tiff_timing(tif) if "T" in axes else {})


def _say_slices_timed(tif, pages: int, axes_as: Spelled) -> None:
    """Once per file and wording: an ImageJ stack of slices that records a frame interval
    (Fiji's Image > Properties on a plain stack, a movie never made a hyperstack of frames)
    is read as Z, as Fiji shows it; its interval would otherwise be dropped without a word.
    Its fix is each reader's (``axes_as``): a file a training read first (``cfg.data.axes =
    'TYX'``) is said again to a later predict_file as ``axes='TYX'`` (said once per file,
    the first reader's wording won, s57)."""
    seconds = frame_seconds(tiff_timing(tif))
    if seconds is None:
        return
    given = said_as(axes_as).format("TYX")
    _say_once(
        ("slices timed", given_path(tif), given),
        logging.WARNING,
        "%s: its %d pages are slices (Z), yet it records a frame interval (%g s): read as a "
        "Z stack without it; if they are time points, give %s, or save them as frames (Fiji: "
        "Image > Properties, Slices 1, Frames %d)",
        given_name(tif),
        pages,
        seconds,
        given,
        pages,
    )


def slices_timed(path: str | os.PathLike) -> float | None:
    """Seconds between frames that an ImageJ stack (its pages slices, read as Z as Fiji
    shows them: :func:`read_page_axes`) records, as Fiji's Image > Properties on a plain
    stack writes it; None for other TIFFs and where it records none."""
    with open_tiff(path) as tif:
        return frame_seconds(tiff_timing(tif)) if tif.is_imagej else None


def series_axes(
    path: str | os.PathLike | None, *, unstated: bool = False
) -> tuple[str, tuple[int, ...]] | None:
    """tifffile's axes letters (upper case: T, Z, C, Y, X from the file's ImageJ, OME or
    tifffile metadata; S the samples of a pixel; Q, I and the like where the file names
    none) and shape of the first series of the TIFF at ``path``; None for no path, a file
    that is not there or not a TIFF (what napari read a layer from, which the widget asks
    what the layer's axes are: :func:`unetlab.napari.core.read_layer_axes`). ``unstated``:
    None also where the file states those axes (:func:`~unetlab.data.stated_axes.
    states_axes`: they are no guess of tifffile's), told in the same open."""
    if path is None or not is_tiff_name(path):
        return None
    if not os.path.isfile(path):
        return None
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            letters = series.axes.upper()
            if unstated and states_axes(tif, letters):
                return None
            return letters, tuple(int(n) for n in series.shape)
    except (tifffile.TiffFileError, OSError, IndexError):  # not a TIFF after all: no hint
        return None


def planes_letters(letters: str, shape: tuple[int, ...], pages: int) -> str | None:
    """One letter per axis of a TIFF series of ``shape`` (axes ``letters``) whose ``pages``
    lie on one axis, each other axis but Y and X of size 1: that one Z, the others T and C
    (``ZYX``; tifffile's 4-D (1, Z, Y, X) saved without axes ``TZYX``, 5-D (1, 1, Z, Y, X)
    ``TCZYX``: its size-1 axes hold no time points or channels, which --objects-3d
    refused it for); None for any other series."""
    lead = shape[:-2]
    if not letters.endswith("YX") or sorted(lead) != [1] * (len(lead) - 1) + [pages]:
        return None
    if len(lead) > 3:  # a size-1 axis beyond T and C: more letters than --axes knows
        return None
    fill = iter("TC")
    return "".join("Z" if n == pages else next(fill) for n in lead) + "YX"


def channel_names(path: str | os.PathLike) -> list[str]:
    """The channel names a TIFF records, in channel order: OME ``Channel Name`` of its first
    image, or an ImageJ hyperstack's slice ``Labels`` of its first plane (how Fiji names
    channels); an OME-Zarr folder's ``omero`` labels (:func:`~unetlab.data.slides.
    zarr_channels`), a CZI's (its metadata's); [] for a file that records none (or not one
    for each channel).
    ImageReadError naming a file that is no TIFF (s69 review: ``--channel DAPI`` of a folder
    holding one gave tifffile's traceback as "a bug in unetlab"). A NIfTI case's: its data
    set's dataset.json ``channel_names`` (:func:`~unetlab.data.decathlon.nifti_channel_names`)."""
    if is_nifti(path):
        from unetlab.data.decathlon import nifti_channel_names  # (it imports nifti_channels)

        return nifti_channel_names(path)
    if is_czi_name(path):  # the metadata's Channel Names (ZEN's dye names: DAPI, AF488)
        return list(czi_source(path).names)
    if not is_tiff_name(path):
        from unetlab.data.slides import zarr_channels  # (it imports this module)

        found = zarr_channels(path)
        return [] if found is None else found[1]
    from unetlab.data.io import decoding_errors  # (it imports this module)

    with decoding_errors(Path(path)), open_tiff(path) as tif:  # the file's name known: no stat
        return names_in(tif)


def names_in(tif) -> list[str]:
    """:func:`channel_names` of the open TIFF ``tif`` (s73: read with its header by the
    checks before a command's first file, not opened again for a line's names)."""
    if tif.ome_metadata:
        names = _ome_channel_names(tif.ome_metadata, image_of(tif))
    else:
        ij = tif.imagej_metadata or {}
        count = int(ij.get("channels") or 1)
        names = [str(n) for n in (ij.get("Labels") or [])[:count]] if count > 1 else []
        names = names if len(names) == count else []
    return names if all(n.strip() for n in names) else []


def _ome_channel_names(xml: str, image: int = 0) -> list[str]:
    """The ``Name`` of each ``Channel`` of the first ``Pixels`` of ``Image`` number ``image``
    of an OME-XML document ([] if one has none, or the XML does not parse up to there, or
    they are not its ``SizeC``: one ``Channel`` of 8 samples, as tifffile writes channels
    interleaved, named DAPI all 8, s70 review)."""
    found = ome_xml.image(xml, image, whole=True)
    if found is None or not found.closed:
        return []
    try:  # as tifffile reads it (s70 re-review: SizeC=" 3", channels of 3, named none)
        one_each = int(found.pixels.get("SizeC", len(found.channels))) == len(found.channels)
    except ValueError:  # no number: the names are not known to be one a channel
        return []
    return found.channels if one_each and all(found.channels) else []


#: seconds per OME ``TimeIncrementUnit`` (the UnitsTime of OME's schema a microscope writes)
_SECONDS = {
    "s": 1.0,
    "ms": 1e-3,
    "\u00b5s": 1e-6,  # µs
    "us": 1e-6,
    "ns": 1e-9,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}


def tiff_timing(tif) -> dict:
    """The time between frames an open TIFF ``tif`` records: ImageJ's ``finterval`` and ``tunit``, or OME's ``TimeIncrement`` as ``finterval`` in
    seconds, else the mean step of its planes' ``DeltaT`` (:func:`ome_plane_interval`);
    {} where the file gives none."""
    if tif.is_imagej:
        meta = tif.imagej_metadata or {}
        timing = {k: meta[k] for k in ("finterval", "tunit") if meta.get(k) is not None}
        if timing.get("finterval") and frame_seconds(timing) is None:
            _say_time_unit(given_name(tif), str(timing.get("tunit")))
        return timing
    ome = _ome_pixels(tif.ome_metadata, image_of(tif)) if tif.is_ome else {}
    unit = ome.get("TimeIncrementUnit", "s")
    if "TimeIncrement" in ome and (per := _SECONDS.get(unit)) is not None:
        return {"finterval": float(ome["TimeIncrement"]) * per}
    if "TimeIncrement" in ome:
        _say_time_unit(given_name(tif), unit)
    times = _ome_plane_times(tif.ome_metadata, image_of(tif)) if tif.is_ome else {}
    interval = _mean_step(times)
    if interval is None:
        return {}
    steps = np.diff([times[t] for t in sorted(times)]) / np.diff(sorted(times))
    if steps.min() < (1 - IRREGULAR) * interval or steps.max() > (1 + IRREGULAR) * interval:
        _say_once(
            ("deltat", given_path(tif)),
            logging.WARNING,
            "%s: its frames' times (OME Plane DeltaT) step %.4g to %.4g s apart: t_s and the "
            "outputs' frame interval use their mean, %.4g s (each frame's own time is in "
            "the file's OME-XML)",
            *(given_name(tif), steps.min(), steps.max(), interval),
        )
    return {"finterval": interval}


#: frame times whose steps differ from their mean by more than this share are said to
#: be irregular (t_s, from the mean step, is then off for some frames)
IRREGULAR = 0.05


def ome_plane_interval(xml: str) -> float | None:
    """Seconds between time points from the ``Plane`` ``DeltaT`` (in its ``DeltaTUnit``) of
    the first image of an OME-XML document, as Micro-Manager and many Bio-Formats writers
    record time: the mean step from the first time point to the last (each time point's
    earliest plane); None for fewer than two time points with a DeltaT, an unknown unit or
    no step."""
    return _mean_step(_ome_plane_times(xml))


def _mean_step(times: dict[int, float]) -> float | None:
    """The mean seconds per time point of ``times`` (TheT -> seconds); None for fewer than
    two, or no step forward."""
    if len(times) < 2:
        return None
    first, last = min(times), max(times)
    step = (times[last] - times[first]) / (last - first)
    return step if step > 0 else None


def _ome_plane_times(xml: str, image: int = 0) -> dict[int, float]:
    """TheT -> seconds of its earliest ``Plane`` ``DeltaT`` in the first ``Pixels`` of
    ``Image`` number ``image`` of an OME-XML document ({} where one has a unit not in
    ``_SECONDS`` or the XML stops parsing)."""
    found = ome_xml.image(xml, image, whole=True)
    if found is None or not found.closed:
        return {}
    times: dict[int, float] = {}
    for t, delta, unit in found.planes:
        per = _SECONDS.get(unit or "s")
        if per is None:
            return {}
        try:
            seconds = float(delta) * per
            t = int(0 if t is None else t)
        except ValueError:
            return {}
        times[t] = min(seconds, times.get(t, seconds))
    return times


#: seconds per ImageJ ``tunit`` (ImageJ's default, with none: seconds)
_TUNIT_SECONDS = {
    **dict.fromkeys(("", "s", "sec", "second", "seconds"), 1.0),
    **dict.fromkeys(("ms", "msec"), 1e-3),
    # µs, also as Fiji writes it to an ASCII description (\\u00B5s, lowered)
    **dict.fromkeys(("\u00b5s", "\\u00b5s", "us", "usec"), 1e-6),
    **dict.fromkeys(("min", "minute", "minutes"), 60.0),
    **dict.fromkeys(("h", "hr", "hour", "hours"), 3600.0),
    **dict.fromkeys(("d", "day", "days"), 86400.0),
}


def frame_seconds(timing: dict) -> float | None:
    """Seconds between time points of a ``timing`` (:class:`PageAxes`): ImageJ's
    ``finterval`` in its ``tunit``; None where none is recorded or the unit is unknown
    (:func:`tiff_timing` says so when it reads the file)."""
    interval = timing.get("finterval")
    per = _TUNIT_SECONDS.get(str(timing.get("tunit") or "").strip().lower())
    if not interval or per is None:
        return None
    return float(interval) * per


def _say_time_unit(name: str, unit: str) -> None:
    """Once per file: a frame interval in a time ``unit`` unetlab does not know gives no
    ``t_s`` (it was left out without a word)."""
    _say_once(
        ("tunit", name),
        logging.WARNING,
        "%s: its frame interval is in '%s', a time unit unetlab does not know: its tables "
        "have no t_s; set the interval in s, ms, min, h or d (Fiji: Image > Properties)",
        name,
        unit,
    )


def read_pixel_size(path: str | os.PathLike) -> PixelSize | None:
    """The (y, x) pixel size a TIFF records (:func:`tiff_sizes` of its first page, as
    micrometres; of a position's, and its OME Image's, while one is read:
    :mod:`unetlab.data.positions`), with that page's GeoTIFF tags; an MRC file's, an HDF5
    file's (Imaris', BigDataViewer's: :func:`~unetlab.data.h5.h5_pixel_size`), a CZI's
    (:func:`~unetlab.data.czi.czi_pixel_size`) or a NIfTI
    volume's voxel size (:func:`~unetlab.data.mrc.mrc_pixel_size`,
    :func:`~unetlab.data.nifti.nifti_pixel_size`, its tables in mm where its header says mm:
    :func:`_nifti_pixel_size`; a DICOM series' in mm too); None for other files or when absent."""
    if is_nifti(path):
        return _nifti_pixel_size(path)
    if not is_tiff_name(path):
        if is_dicom_series(path):  # PixelSpacing is in mm
            (dy, dx), dz = series_pixel_size(path)
            return PixelSize((dy, dx), "um", dz, shown="mm")
        found = mrc_pixel_size(path) if is_mrc_name(path) else None
        found = h5_pixel_size(path) if is_h5_name(path) else found
        found = czi_pixel_size(path) if is_czi_name(path) else found
        return None if found is None else PixelSize(found[0], "um", found[1])
    with open_tiff(path) as tif:
        page = series_of(tif).keyframe if image_of(tif) else tif.pages[0]
        size, spacing, implied = _tiff_scale(tif, page)
        geo = geotags(page)
    return None if size is None else PixelSize(size, "um", spacing, geo, implied=implied)


def _nifti_pixel_size(path: str | os.PathLike) -> PixelSize | None:
    """:func:`read_pixel_size` of a NIfTI volume: its voxel size in µm, shown in its
    header's unit (:func:`~unetlab.data.nifti.header_length_unit`: mm, as CT and MRI)."""
    head = read_header(path)
    found = header_pixel_size(head)
    if found is None:
        return None
    if names_no_unit(head):
        _say_once(
            "nifti-no-unit",
            logging.INFO,
            "%s: its NIfTI header names no unit (xyzt_units 0): its voxel size (pixdim "
            "%.3g x %.3g) read as mm, as ITK and nnU-Net read it; set xyzt_units where it is "
            "in another unit",
            Path(path).name,
            *(side / 1e3 for side in found[0]),
            of_all=True,
        )
    if (tilt := header_tilt(head)) > TILT_TOLERANCE and found[1] is not None:
        _say_tilt(Path(path).name, tilt, head)
    return PixelSize(found[0], "um", found[1], shown=header_length_unit(head))


def _say_tilt(name: str, tilt: float, head) -> None:
    """One line a file (of a tilted CT gantry: a sheared sform) whose z spacing, its planes'
    distance (:func:`~unetlab.data.nifti.planes_apart`), is not its pixdim's."""
    step = float(head.spacing[2])
    _say_once(
        f"nifti-tilt {name}",
        logging.INFO,
        "%s: its slices step %.1f degrees off their planes' normal (a tilted CT gantry: a "
        "sheared sform): its z spacing is its planes' distance, %.4g %s, not pixdim's step "
        "%.4g, as its affine's voxel volume is; volumes and z in mm use it",
        name,
        tilt,
        planes_apart(step, tilt),
        "mm" if header_length_unit(head) == "mm" else "µm",
        step,
    )


def shown_unit(path: str | os.PathLike, pixel: PixelSize | None) -> str:
    """The unit (a key of :data:`unetlab.inference.measure.UNITS`) lines and tables give
    ``path``'s sizes in, its :class:`PixelSize` ``pixel`` read or given (None: given as
    --pixel-size, or none): a NIfTI volume's header's (mm as a rule) whichever gave the
    size, a DICOM series' mm, else µm."""
    if pixel is not None:
        return pixel.shown
    if is_nifti(path):
        return header_length_unit(read_header(path))
    return "mm" if is_dicom_series(path) else "um"


def given_sizes(
    recorded: PixelSize | None,
    name: str,
    pixel_size: float | None,
    z_spacing: float | None,
    *,
    level: tuple[int, float] | None = None,
) -> PixelSize | None:
    """``recorded`` (a file's :func:`read_pixel_size`) with the pixel size and z spacing the
    caller gave in µm (predict's ``--pixel-size``, ``--z-spacing``) in place of the file's
    (each said in one line where it differs). UnetlabError for a ``z_spacing`` with no pixel
    size, given or recorded: planes are weighed against pixels. ``level``: (N, downsample)
    of a pyramid level read, whose pixels the line says are downsample x the given size
    (level 0's: the line said "taken as 0.25 µm" where level 1's pixels became 0.5 µm)."""
    if pixel_size is None and z_spacing is None:
        return recorded
    size = recorded.size if recorded is not None and pixel_size is None else None
    if pixel_size is not None:
        size = (float(pixel_size), float(pixel_size))
    if size is None:
        raise UnetlabError(
            **said(
                lambda z, size: (
                    f"{name} records no pixel size, and {z} weighs its planes "
                    f"against its pixels: give {size} too"
                ),
                Z_SPACING,
                PIXEL_SIZE_UM,
            )
        )
    spacing = recorded.spacing if recorded is not None else None
    spacing = float(z_spacing) if z_spacing is not None else spacing
    if recorded is not None and (recorded.size != size or recorded.spacing != spacing):
        log.info("%s%s", _given_line(name, recorded, size, spacing), _level_words(size, level))
    if recorded is None:
        return PixelSize(size, "um", spacing)
    implied = recorded.implied and z_spacing is None  # a given spacing is no Fiji default
    return replace(recorded, size=size, unit="um", spacing=spacing, implied=implied)


def _level_words(size: tuple, level: tuple[int, float] | None) -> str:
    """The words "(level 0's: level N's pixels are S µm)" for a pyramid ``level`` (N,
    downsample) above 0, whose pixels are downsample x the given level-0 ``size``; "" at
    level 0."""
    if level is None or level[0] == 0:
        return ""
    return f" (level 0's: level {level[0]}'s pixels are {size[0] * level[1]:g} µm)"


def _given_line(name: str, recorded: PixelSize, size: tuple, spacing: float | None) -> str:
    """The line saying the pixel size (and z spacing, where either side has one) given in
    place of the ``recorded`` one; a size 1000x off the file's asks whether it was given in
    nm (audit s41 auditslide: a 2-D image's line said "z spacing none µm: taken as 0.325,
    none µm")."""
    had = "x".join(f"{v:g}" for v in recorded.size)
    line = f"{name} records pixel size {had} µm"
    if recorded.spacing is None and spacing is None:
        line += f": taken as {size[0]:g} µm as given"
    else:
        z = ["none" if v is None else f"{v:g}" for v in (recorded.spacing, spacing)]
        line += f", z spacing {z[0]} µm: taken as {size[0]:g}, {z[1]} µm as given"
    ratio = size[0] / recorded.size[0]
    if 900 <= ratio <= 1100:
        line += f" ({ratio:.0f}x the file's: {said_as(PIXEL_SIZE_UM)} is in µm, not nm)"
    return line


def tiff_sizes(tif, page) -> tuple[tuple[float, float] | None, float | None]:
    """A TIFF's ((y, x) micrometres per pixel, micrometres between planes):
    :func:`_tiff_scale`."""
    return _tiff_scale(tif, page)[:2]


def _tiff_scale(tif, page) -> tuple[tuple[float, float] | None, float | None, bool]:
    """A TIFF's ((y, x) micrometres per pixel, micrometres between planes), each None where
    the file gives none: the OME-XML's (read once for both), else a GeoTIFF's
    ModelPixelScale in a linear unit (:func:`~unetlab.data.geotiff.geotiff_pixel_size`),
    else an ImageJ TIFF's (its unit and resolution tags), else an SEM's own metadata
    (:func:`sem_pixel_size`: FEI / Thermo Fisher, Zeiss), else ``page``'s resolution tags;
    and ImageJ's ``spacing`` (:func:`_z_spacing`), and whether that is Fiji's implied 1
    unit. An ImageJ or OME unit not understood is said in one warning (its pixel size and
    spacing are not used)."""
    ome = _ome_pixels(tif.ome_metadata, image_of(tif)) if tif.is_ome else {}
    if not ome:
        _warn_unknown_unit(tif)
    if {"PhysicalSizeX", "PhysicalSizeY"} & set(ome):  # its word, refused or not
        size = _ome_size(ome, given_path(tif))
    elif (geo := geotiff_pixel_size(tif, tif.pages[0])) is not None:  # before a dpi default
        size = geo  # the base level's, as OME's: a pyramid level's is scaled from it
    elif (unit := _imagej_unit(tif)) is not None and unit.strip().lower() not in UNCALIBRATED:
        size = _resolution_size(tif, page)
    else:
        size = sem_pixel_size(tif) or aperio_pixel_size(tif) or _resolution_size(tif, page)
    return _plausible(tif, size), *_z_spacing(tif, ome)


def aperio_pixel_size(tif) -> tuple[float, float] | None:
    """(y, x) micrometres per pixel of an Aperio ``.svs`` slide: the ``MPP = 0.4990`` of its
    first page's description (the base level's; its resolution tags are often absent);
    None for other files or where the entry is missing."""
    if not tif.is_svs:
        return None
    found = re.search(r"\|\s*MPP\s*=\s*([0-9.eE+-]+)", tif.pages[0].description or "")
    try:
        mpp = float(found.group(1)) if found else None
    except ValueError:
        return None
    return (mpp, mpp) if _positive(mpp) else None


def sem_pixel_size(tif) -> tuple[float, float] | None:
    """(y, x) micrometres per pixel from a scanning electron microscope's own TIFF tag:
    FEI / Thermo Fisher (tag 34682, ``[Scan] PixelWidth`` / ``PixelHeight`` in metres;
    tifffile's ``fei_metadata``) or Zeiss (tag 34118, ``Image Pixel Size = 50.00 nm``;
    tifffile's ``sem_metadata``); None for other files or where the entry is missing.
    These SEMs write 72 or 96 dpi resolution tags (no pixel size) beside it."""
    if tif.is_fei:
        meta = tif.fei_metadata or {}
        scan = meta.get("Scan") or meta.get("EScan") or {}
        x, y = scan.get("PixelWidth"), scan.get("PixelHeight", scan.get("PixelWidth"))
        if _positive(x) and _positive(y):  # metres; 12 digits: 0.05, not 0.049999999999999996
            return twelve_digits(y * 1e6), twelve_digits(x * 1e6)
    if tif.is_sem:
        meta = tif.sem_metadata or {}
        for key in ("ap_image_pixel_size", "ap_pixel_size"):
            entry = meta.get(key)
            if isinstance(entry, tuple) and len(entry) >= 3 and _positive(entry[1]):
                per_unit = micrometres_per(entry[2])
                if per_unit is not None:
                    side = twelve_digits(entry[1] * per_unit)
                    return side, side
    return None


def _positive(value) -> bool:
    return _counted(value) and value > 0


#: micrometres per pixel that no instrument samples: below 1 pm (atomic-resolution STEM and
#: cryo-EM pixels are 5-100 pm) or above 1 mm (coarser than a 25 dpi scan; microscopes and
#: slide scanners are 0.1-20 um, document scanners 300-4800 dpi: 85-5 um). Outside, the file
#: is wrong: most often a um-per-pixel value written where pixels per unit belong (0.5 px/cm
#: is a 20,000 um pixel).
PLAUSIBLE_UM = (1e-6, 1e3)


def _plausible(tif, size: tuple[float, float] | None) -> tuple[float, float] | None:
    """``size`` ((y, x) micrometres), or None with one warning per file when a side is
    outside ``PLAUSIBLE_UM``: used, it would put areas of 10^10 um^2 in the tables. A
    GeoTIFF's pixels are a map's (centimetres to kilometres): any size is taken."""
    low, high = PLAUSIBLE_UM
    if size is None or all(low <= v <= high for v in size) or tif.is_geotiff:
        return size
    _say_once(
        ("size", given_path(tif)),
        logging.WARNING,
        "%s: its pixel size, %g x %g um, is outside what microscopes and scanners sample "
        "(1 pm to 1 mm): not used (no um columns or scale in the outputs). If its pixels "
        "are that size (a map, a drone or satellite image), save it as a GeoTIFF (GDAL, "
        "QGIS: ModelPixelScale in metres), which unetlab reads; if not, its resolution "
        "tags hold um per pixel where pixels per unit belong: write 10000 / (um per "
        "pixel) pixels per centimetre (Fiji: Image > Properties)",
        given_name(tif),
        size[0],
        size[1],
    )
    return None


def tiff_pixel_size(tif, page) -> tuple[float, float] | None:
    """(y, x) micrometres per pixel from the OME-XML, else the resolution tags."""
    return tiff_sizes(tif, page)[0]


def _imagej_unit(tif) -> str | None:
    """The ``unit`` of an ImageJ TIFF's description, or None."""
    meta = (tif.imagej_metadata or {}) if tif.is_imagej else {}
    return None if meta.get("unit") is None else str(meta["unit"])


#: outside a command or public call (within one, its own: :func:`~unetlab.data.read_notes.
#: first_said`), the files whose unknown unit (("unit", path)) or implausible pixel size
#: (("size", path)) this process said: once each, though a file's header is read several
#: times (is_large, then its prediction); and ("no unit",) once a missing resolution unit was
#: said (once in all)
_WARNED: set = set()


def _warn_unknown_unit(tif) -> None:
    unit = _imagej_unit(tif)
    if unit is None or unit.strip().lower() in UNCALIBRATED or micrometres_per(unit):
        return
    _say_once(
        ("unit", given_path(tif)),
        logging.WARNING,
        "%s: unit %r of its ImageJ metadata is not one unetlab knows (um, microns, nm, Å, pm, "
        "mm, cm, inch); its pixel size and Z spacing are not used (Fiji: Image > Properties)",
        given_name(tif),
        unit,
    )


def _z_spacing(tif, ome: dict[str, str]) -> tuple[float | None, bool]:
    """Micrometres between the planes of a stack: the OME ``PhysicalSizeZ`` (``ome``: the
    attributes of its ``Pixels``), or ImageJ's ``spacing`` in its ``unit``, or the 1 unit
    Fiji implies (:func:`_fiji_step`); None when the file gives none. And whether it is
    that implied step (a spacing the file records wins over it: :class:`PixelSize`)."""
    if "PhysicalSizeZ" in ome:
        return _ome_length(ome, "PhysicalSizeZ", given_path(tif)), False
    meta = (tif.imagej_metadata or {}) if tif.is_imagej else {}
    per_unit = micrometres_per(meta.get("unit", ""))
    if per_unit is None:
        return None, False
    if "spacing" in meta:
        spacing = _described_number(tif, meta, "spacing")
        return (None if spacing is None else spacing * per_unit), False
    step = _fiji_step(tif, meta, per_unit)
    return step, step is not None


def _fiji_step(tif, meta: dict, per_unit: float) -> float | None:
    """1 unit (``per_unit`` µm) where ImageJ itself wrote a stack of slices (``slices=N``)
    in a microscope's unit (µm, nm, Å, pm) but no ``spacing``: it writes none at 1, so a
    Fiji stack of 1 µm steps had no z spacing (s75). Not a stack tifffile (and unetlab
    through it) wrote, whose ImageJ version is tifffile's and whose spacing, where not
    written, is unknown; nor one in mm, cm or inches (a scan's dpi: planes a whole inch
    apart, s75 review); None there, as before."""
    version = str(meta.get("ImageJ", ""))
    if version in ("", TIFFFILE_IMAGEJ) or per_unit > 1:
        return None
    slices = _described_number(tif, meta, "slices")
    return per_unit if slices is not None and slices > 1 else None


def _described_number(tif, meta: dict, key: str) -> float | None:
    """The number ``key`` of an ImageJ description ``meta``, or None, said where it is none
    (:func:`_say_no_number`; ``spacing=abc``: a ValueError's traceback, s75 review)."""
    value = meta.get(key)
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        _say_no_number(tif, key, value)
        return None


def _say_no_number(tif, key: str, value) -> None:
    """The line of a file whose ImageJ description's ``key`` is the ``value`` no number,
    named by its path (an image and its mask share a name); a folder of them: the first
    said, the files counted at the end (:func:`~unetlab.data.read_notes.note_alike`; 3
    cases' images and masks said 6 lines of 2 names, second s75 review); outside a command
    or public call once a file."""
    how = "its ImageJ description's {}is no number: its z spacing is not used (Fiji: Image > "
    how += "Properties)"
    path = shown_path(given_path(tif))
    first = how.format(f"{key}, {value!r}, ")
    if not note_alike(path, how.format(f"{key} "), first=first):
        _say_once(("number", key, path), logging.WARNING, "%s: %s", path, first)


#: the counts of an ImageJ description that tifffile compares as numbers to lay out its pages
IMAGEJ_COUNTS = ("images", "channels", "slices", "frames")


def imagej_counts_line(path: str | os.PathLike) -> str | None:
    """The one line for an ImageJ TIFF whose description gives a count (``slices=abc``) that
    is no number: tifffile cannot lay out its pages (a TypeError, which read as "cannot
    read this image ...; is it a complete TIFF file?" and from :func:`read_page_axes` as a
    traceback, s75 review); None for other files and those that cannot be opened."""
    if not is_tiff_name(path):
        return None
    try:
        with open_tiff(path) as tif:
            meta = (tif.imagej_metadata or {}) if tif.is_imagej else {}
    except Exception:  # noqa: BLE001 - a file tifffile cannot open: the caller's line stands
        return None
    bad = [(k, meta[k]) for k in IMAGEJ_COUNTS if k in meta and not _counted(meta[k])]
    if not bad:
        return None
    key, value = bad[0]
    return (
        f"{path}: its ImageJ description's {key}={value} is no number, so its pages "
        f"cannot be laid out (the pixels need not be damaged): set {key.capitalize()} in "
        "Fiji's Image > Properties and save it again"
    )


def _counted(value) -> bool:
    """Whether ``value`` of an ImageJ description is a number tifffile can compare."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


#: resolutions in pixels per inch that exporters write by default (72: Photoshop, GIMP and
#: macOS; 96: Windows), not a sampling of the specimen
NOMINAL_DPI = (72.0, 96.0)


#: micrometres per unit of TIFF ResolutionUnit codes: 2 inch and 3 centimetre (TIFF 6.0), 4
#: millimetre and 5 micrometre (tifffile's RESUNIT, which other writers follow); 1 is NONE
RESOLUTION_UNITS = {
    2: MICROMETRES["inch"],
    3: MICROMETRES["cm"],
    4: MICROMETRES["mm"],
    5: MICROMETRES["um"],
}


def _resolution_size(tif, page) -> tuple[float, float] | None:
    """(y, x) micrometres per pixel from ``page``'s resolution tags.

    None for 1 px per unit (tifffile's and others' "unset") and for 72 or 96 px per inch
    (``NOMINAL_DPI``; the unit INCH is also TIFF's default when the tag is absent): a screen
    default taken as a pixel size made a 352.8 um pixel of a microscope image. Other inch
    values are used: a scanner's dpi is its real sampling (2400 dpi: 10.58 um pixels), and
    an exporter that writes a microscope's pixel size in inches writes thousands of dpi.
    Units millimetre and micrometre (codes 4 and 5, as tifffile writes them) are read. An
    ImageJ TIFF (unit NONE) gives its unit in its description (1 px per micron is Fiji's
    1 um pixel, not a default); another with unit NONE has no pixel size (said once, at level
    info; 1 px per unit, tifffile's default, at level debug).
    """
    xres, yres = page.tags.get("XResolution"), page.tags.get("YResolution")
    unit = page.tags.get("ResolutionUnit")
    if xres is None or yres is None:
        return None
    code = int(unit.value) if unit else 2  # TIFF 6.0: the unit defaults to inch
    pixels = [v[0] / v[1] if v[1] else 0.0 for v in (yres.value, xres.value)]
    per_unit, calibrated = _micrometres_per_unit(tif, code, pixels)
    if per_unit is None or min(pixels) <= 0 or (pixels == [1.0, 1.0] and not calibrated):
        return None
    if code == 2 and all(p in NOMINAL_DPI for p in pixels):
        log.debug(
            "%s: %g dpi is an exporter's default, not a pixel size: no pixel size used",
            given_name(tif),
            pixels[1],
        )
        return None
    # units per pixel as the fraction's inverse, to 12 digits:
    # 13/40, not 1/(40/13) = 0.32499999999999996
    y, x = (twelve_digits(per_unit * v[1] / v[0]) for v in (yres.value, xres.value))
    if code == 2:  # a figure exported at 300 dpi reads as 84.7 um pixels: say where it came from
        _say_dpi_size(given_name(tif), y, x, pixels[1])
    return y, x


def _micrometres_per_unit(tif, code: int, pixels: list[float]) -> tuple[float | None, bool]:
    """(micrometres per resolution unit or None, calibrated) for ResolutionUnit ``code``;
    calibrated: an ImageJ length unit, where 1 px per unit is a real size (Fiji's 1 um)."""
    per_unit = RESOLUTION_UNITS.get(code)
    if per_unit is None and tif.is_imagej:  # ImageJ: unit NONE, the unit in its metadata
        per_unit = micrometres_per(_imagej_unit(tif) or "")
        return per_unit, per_unit is not None
    if per_unit is None:
        _say_no_unit(given_name(tif), code, pixels)
    return per_unit, False


def _say_dpi_size(name: str, y: float, x: float, dpi: float) -> None:
    """Once a command or call (:func:`_say_once`; a loop of one-file calls, once: its words
    say it once), at level info: a pixel size read from pixels per inch."""
    _say_once(
        "dpi",
        logging.INFO,
        "%s: pixel size %g x %g um from its resolution tags in pixels per inch (%g dpi; "
        "said once): if that is an export setting, not the sampling, set the real size "
        "(Fiji: Image > Properties)",
        name,
        y,
        x,
        dpi,
        of_all=True,
    )


def _say_no_unit(name: str, code: int, pixels: list[float]) -> None:
    """A TIFF's resolution without a unit: 1 px per unit (what plain ``tifffile.imwrite``
    writes) is no size at all, said at level debug; other values once a command or public
    call, outside one (or a call that reads one file: a notebook's loop of them) once a
    process (at level info: a folder of such files gives one line, not one per file)."""
    if pixels != [1.0, 1.0] and _say_once(
        ("no unit",),
        logging.INFO,
        "%s: its resolution tags have no unit (ResolutionUnit %d): no pixel size (said once; "
        "other files like it are not listed)",
        name,
        code,
        of_all=True,
    ):
        return
    log.debug("%s: resolution without a unit (ResolutionUnit %d): no pixel size", name, code)


def ome_pixel_size(xml: str) -> tuple[float, float] | None:
    """(y, x) micrometres per pixel of the first image of an OME-XML document, or None."""
    return _ome_size(_ome_pixels(xml), "OME-XML")


def _ome_size(ome: dict[str, str], where: str) -> tuple[float, float] | None:
    """(y, x) micrometres per pixel from the attributes of an OME ``Pixels`` element (of the
    file ``where``, for the log): None where a side's unit is no length unetlab knows
    (:func:`_ome_length`); one side alone is taken for both (square pixels, said at level
    info: OME leaves the other unknown)."""
    sides = {a: _ome_length(ome, f"PhysicalSize{a}", where) for a in "YX"}
    given = {a: v for a, v in sides.items() if f"PhysicalSize{a}" in ome}
    if not given or None in given.values():
        return None
    if len(given) == 1:
        ((axis, side),) = given.items()
        _say_once(
            ("square", where),
            logging.INFO,
            "%s: its OME-XML gives PhysicalSize%s alone: square pixels of %g um assumed",
            os.path.basename(where),
            axis,
            side,
        )
        return side, side
    return sides["Y"], sides["X"]


def _ome_length(ome: dict[str, str], key: str, where: str) -> float | None:
    """Micrometres of the OME ``Pixels`` attribute ``key`` ("PhysicalSizeX", ...) in its
    unit (OME's default: µm); None where absent or where the unit is "pixel" (not
    calibrated, said at level info) or one unetlab does not know (a warning): read as
    micrometres, 8 Å made 8 um pixels (audit s28 interchange, finding 2)."""
    if key not in ome:
        return None
    unit = ome.get(f"{key}Unit", "µm")
    per_unit = OME_UNITS.get(unit) or micrometres_per(unit)
    if per_unit is not None:
        return float(ome[key]) * per_unit
    name = os.path.basename(where)
    if unit.strip().lower() in (*OME_UNCALIBRATED, *UNCALIBRATED):
        _say_once(
            ("ome-unit", where),
            logging.INFO,
            "%s: its OME %sUnit is %r (not calibrated): its pixel size and Z spacing are not used",
            name,
            key,
            unit,
        )
    else:
        _say_once(
            ("ome-unit", where),
            logging.WARNING,
            "%s: OME %sUnit %r is not a unit unetlab knows (µm, nm, Å, pm, mm, cm, in, ...); "
            "its pixel size and Z spacing are not used",
            name,
            key,
            unit,
        )
    return None


def _say_once(key, level: int, message: str, *args, of_all: bool = False) -> bool:
    """Log ``message`` once a command or public call for ``key``, outside one once a process
    (:func:`~unetlab.data.read_notes.say_once_a_call`, :data:`_WARNED`; a file's header is read
    several times); ``of_all``: its line speaks for all files like it. Whether it was said
    now."""
    return say_once_a_call(log, level, key, message, *args, outside=_WARNED, of_all=of_all)


def _ome_pixels(xml: str, image: int = 0) -> dict[str, str]:
    """The attributes of the ``Pixels`` element of ``Image`` number ``image`` (the first; a
    position's) of an OME-XML document ({} for none, or for XML that does not parse up to
    it). Parsing stops there (:mod:`unetlab.data.ome_xml`: once per document): what
    follows (planes, instrument and original metadata) can be megabytes."""
    found = ome_xml.image(xml, image)
    return dict(found.pixels) if found is not None and found.pixels is not None else {}


def class_table(classes: Sequence[str], values: Sequence[int] | None = None) -> dict[int, str]:
    """Pixel value -> class name: index i -> classes[i], or values[i] -> classes[i]."""
    keys = list(values) if values is not None else list(range(len(classes)))
    return {int(k): str(name) for k, name in zip(keys, classes)}


def scale_kwargs(dtype, *, axes: str, pixel: PixelSize | None, timing: dict | None = None) -> dict:
    """``tifffile.imwrite`` keywords that give a TIFF only the pixel size (object ids, an
    RGB overlay: what Fiji and napari need to lay it over the labels): an ImageJ TIFF of
    ``axes`` ("YX", "ZYX", "TZYX", "YXS", "TZYXS", ...) for the dtypes ImageJ holds, else
    resolution tags in centimetres (and tifffile's axes); either with the GeoTIFF tags of
    ``pixel`` (the input's: this output is on its grid); {} without a pixel size, unless
    ``axes`` hold T (a time-lapse stays one in Fiji; ``timing``: its ``finterval``)."""
    if pixel is None and "T" not in axes:
        return {}
    if np.dtype(dtype) not in [np.dtype(d) for d in IMAGEJ_DTYPES]:  # e.g. uint32 ids
        kwargs: dict = {"metadata": {"axes": axes}} if "T" in axes else {}
        if pixel is not None:
            per_um = micrometres_per(pixel.unit) or 1.0
            per_cm = [1e4 / (side * per_um) for side in _x_y(pixel)]
            kwargs |= {"resolution": tuple(per_cm), "resolutionunit": "CENTIMETER"}
            kwargs |= _geo(pixel)
        return kwargs
    kwargs = {"imagej": True, "metadata": {"axes": axes}}
    _add_scale(kwargs, axes=axes, pixel=pixel, timing=timing)
    return kwargs


def _geo(pixel: PixelSize | None) -> dict:
    """The ``extratags`` keyword with ``pixel``'s GeoTIFF tags; {} for none."""
    return {"extratags": list(pixel.geotags)} if pixel is not None and pixel.geotags else {}


def _x_y(pixel: PixelSize) -> tuple[float, float]:
    """``pixel``'s sides in the order of tifffile's ``resolution`` (XResolution first)."""
    y, x = pixel.size
    return x, y


#: pixels whose sides are all under this many µm (electron microscopy's: 10.5 Å is 0.00105
#: µm) are recorded in nm in ImageJ TIFFs, which Fiji shows as "1.05 nm", not "0.00105 µm"
NM_BELOW_UM = 0.01


def in_nanometres(pixel: PixelSize) -> PixelSize:
    """``pixel`` in nm where it is in µm with sides under :data:`NM_BELOW_UM` (an MRC
    tomogram's Å), else as it is (a light microscope's µm kept)."""
    if pixel.unit != "um" or max(pixel.size) >= NM_BELOW_UM:
        return pixel
    spacing = None if pixel.spacing is None else pixel.spacing * 1e3
    return replace(pixel, size=tuple(s * 1e3 for s in pixel.size), unit="nm", spacing=spacing)


def _add_scale(kwargs: dict, *, axes: str, pixel: PixelSize | None, timing: dict | None) -> None:
    """Put the pixel size (in nm where it is that small: :func:`in_nanometres`; and its
    GeoTIFF tags), Z spacing (axes with Z) and ``timing`` (axes with T) into the keywords
    of an ImageJ TIFF."""
    metadata = kwargs["metadata"]
    kwargs |= _geo(pixel)
    if pixel is not None:
        pixel = in_nanometres(pixel)
        metadata["unit"] = pixel.unit
        kwargs["resolution"] = tuple(1.0 / side for side in _x_y(pixel))
        if pixel.spacing and "Z" in axes:
            metadata["spacing"] = pixel.spacing
    if timing and "T" in axes:
        metadata.update(timing)


def imagej_kwargs(
    dtype,
    *,
    axes: str,
    classes: Sequence[str],
    values: Sequence[int] | None = None,
    pixel: PixelSize | None = None,
    channel_labels: int = 0,
    timing: dict | None = None,
) -> dict:
    """``tifffile.imwrite`` keywords for an ImageJ hyperstack of ``axes`` (e.g. "YX", "ZYX",
    "CYX", "ZCYX") carrying the pixel size and the class names: ``Info`` (one line per
    class, "value: name"), ``Properties`` (``unetlab.classes``: the table as JSON) and, with
    ``channel_labels`` = P pages, slice ``Labels`` naming each class channel (P x K names);
    ``timing``: ImageJ's ``finterval`` (and ``tunit``) of axes with T; ``pixel``'s GeoTIFF
    tags (the input's) as ``extratags``.
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
    _add_scale(kwargs, axes=axes, pixel=pixel, timing=timing)
    return kwargs
