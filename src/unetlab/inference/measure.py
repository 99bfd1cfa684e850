"""Per-object measurements of an id map: one row per object, the columns Fiji's and
CellProfiler's users look for.

- :func:`measure_objects`: the table of any label image (``<stem>_objects.tif``, a test
  mask), in pixels and, given a pixel size, micrometres; of a stack, plane by plane, with
  the ``page``, ``t`` and ``z`` columns of predict's table (:func:`plane_columns`), or
  with ``objects_3d=True`` a row per 3-D object as ``predict --objects-3d``'s. Public.
- :func:`object_table`: the pixel columns; :func:`with_micrometres`: the µm columns beside them.
- :class:`TableSums`: the same columns for an id map that arrives in pieces (a streamed
  slide), exactly: sums, moments and extremes combine across pieces, the perimeter's local
  terms near a piece's edges wait for the neighbouring piece, and convex hulls merge.

Conventions (scikit-image's and napari's): pixel centres at integer coordinates, row
(``y``) then column (``x``); bounding boxes' bottom and right are exclusive. The
perimeter is scikit-image's estimator (``skimage.measure.perimeter``, 4-connectivity, as
CellProfiler's): a path through the centres of the boundary pixels, each weighted 1,
sqrt(2) or (1 + sqrt(2)) / 2 by its neighbours. Fiji traces the pixels' outer edges
instead (not done here: it needs each outline traced), so ``circularity`` = 4 pi area /
perimeter^2 differs from Fiji's: above 1 for small objects (a 5 x 5 square: perimeter
16, circularity 1.23), about 0.91 for a disc of radius 20 px, and NaN for objects of 1
or 2 px (perimeter 0); Fiji caps it at 1. The ellipse axes are those of the ellipse with
the same second moments (scikit-image's ``axis_major_length``); ``solidity`` = area /
pixels of the convex hull (scikit-image's ``solidity``); ``orientation`` is the angle in
degrees between the y axis and the major axis (scikit-image's ``orientation``, in radians
there; CellProfiler's); the intensity std is the population std (ddof 0, as numpy's and
CellProfiler's; Fiji's StdDev uses n - 1). On pixels that are not square the ``_um``
ellipse axes and the orientation are the objects' own (scikit-image's ``spacing=``) and
``circularity`` is left out (:func:`with_micrometres`). A semantic model's objects carry
their ``class`` (and ``class_name``): :func:`object_table`'s ``classes``.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from unetlab.data.large_ids import compact_large_ids
from unetlab.data.read_notes import call_lines
from unetlab.errors import UnetlabError
from unetlab.inference.table_extras import with_saturation
from unetlab.words import numbered, twelve_digits

log = logging.getLogger(__name__)

#: the length units of the physical columns (:func:`with_micrometres`, :func:`in_unit`):
#: the column suffix and its size per micrometre
UNITS = {"um": 1.0, "mm": 1e-3, "m": 1e-6}

#: the measures each channel of an image gets, ``<measure>_<c>`` for several channels
#: (:meth:`_Intensity.columns`)
INTENSITY_MEASURES = (
    "mean_intensity",
    "min_intensity",
    "max_intensity",
    "std_intensity",
    "integrated_intensity",
)
#: the pixel columns of an id map, in table order (intensity columns come before
#: ``touches_border``; see :func:`object_table`)
SHAPE_COLUMNS = (
    "id",
    "area",
    "centroid_y",
    "centroid_x",
    "bbox_top",
    "bbox_left",
    "bbox_bottom",
    "bbox_right",
    "perimeter",
    "circularity",
    "solidity",
    "equivalent_diameter",
    "major_axis_length",
    "minor_axis_length",
    "orientation",
)
INTENSITY_COLUMNS = (
    "mean_intensity",
    "min_intensity",
    "max_intensity",
    "std_intensity",
    "integrated_intensity",
)

# scikit-image's perimeter (skimage/measure/_regionprops_utils.py): a boundary pixel's
# code is 1 + 2 per 4-neighbour and 10 per diagonal neighbour that is also on the boundary
_PERIMETER_WEIGHTS = np.zeros(50)
_PERIMETER_WEIGHTS[[5, 7, 15, 17, 25, 27]] = 1
_PERIMETER_WEIGHTS[[21, 33]] = math.sqrt(2)
_PERIMETER_WEIGHTS[[13, 23]] = (1 + math.sqrt(2)) / 2
_FOUR = ((-1, 0), (1, 0), (0, -1), (0, 1))
_DIAGONAL = ((-1, -1), (-1, 1), (1, -1), (1, 1))
# a row's first and last pixel: the corners of their diamonds that may be hull vertices,
# at 2 x their place (y, x): above, below and left of the first, the same right of the last
_END_DY = np.array([-1, 1, 0, -1, 1, 0])
_END_DX = np.array([0, 0, -1, 0, 0, 1])
_HULL_COLUMNS = 1 << 14  # objects' columns a block of hulls is counted in (memory)
_KEY = 1 << 32  # key of pixel (y, x): y * _KEY + x (x < 2**32 - 2)
_SEAM = 2  # pixels this close to a piece's edge need the neighbouring piece's pixels


@call_lines(one_file=True)  # its INFO lines; a call on a path is one command for its notes
def measure_objects(
    ids: np.ndarray | str | os.PathLike,
    image: np.ndarray | None = None,
    pixel_size: float | tuple[float, float] | None = None,
    *,
    axes: str | None = None,
    frame_interval: float | None = None,
    z_spacing: float | None = None,
    objects_3d: bool | None = None,
    classes: np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
    background: int | None = None,
    channel_names: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """The measurements of each object of a label image, one array per column.

    ``ids``: (H, W) integer object ids, 0 = background (gaps in the ids are fine, ids of any
    size, a tracker's 32- or 64-bit ones; e.g. ``tifffile.imread("cells_objects.tif")``).
    ``image``: (H, W) or (H, W, C) raw values for the intensity columns. ``pixel_size``: µm per
    pixel, one number or (y, x), for the ``_um`` columns. The columns are those of
    predict's ``<stem>_objects.csv`` (:func:`object_table`, :func:`with_micrometres`,
    ``saturated_fraction`` of an integer ``image``) but those naming the file (``image``,
    ``position``, ``path``), a colour image's channels ``_0``, ``_1`` or by ``channel_names``
    (:func:`channels_named`); ``unetlab.data.io.write_csv`` writes the CSV.

    A stack's ids, (P, H, W) or (T, Z, H, W) (a stack's ``<stem>_objects.tif``, ids per
    plane), are measured plane by plane, each row led by ``page`` (the plane's index in
    ``ids``) and, where ``axes`` names the ids' axes (``"TYX"``, ``"ZYX"``, ``"TZYX"``: the
    objects TIFF's ImageJ axes), ``t`` (and ``t_s``, given the ``frame_interval`` in
    seconds) and ``z`` (and ``z_um``, given the ``z_spacing`` in µm), as predict's table;
    ``image``: the stack's planes, of the same leading shape ((..., H, W) or (..., H, W, C)).

    ``objects_3d=True``: ids of 3-D objects (``predict --objects-3d``'s, an id across a
    z-stack's planes, (Z, H, W) or (T, Z, H, W)), a row per object as predict's 3-D table
    (:func:`~unetlab.inference.objects_3d.frame_tables_3d`). Without it, ids whose ``axes``
    have a Z are measured plane by plane, said in one line (``objects_3d=False``: unsaid).
    ``ids`` may be an objects TIFF's path: its ids, and for the keywords left None the axes,
    pixel size, z spacing, frame interval and ``objects_3d`` (predict's record) it records.

    ``classes``: the class index of each pixel (a semantic model's labels, ``ids``' shape)
    for the ``class`` column (and ``class_name`` by ``class_names``): each object's most
    common class other than ``background`` (:func:`majority_class`).
    """
    given = dict(pixel_size=pixel_size, axes=axes, frame_interval=frame_interval)
    given |= dict(z_spacing=z_spacing, objects_3d=objects_3d)
    if isinstance(ids, str | os.PathLike):  # an objects TIFF: what it records fills the gaps
        ids, given = _read_objects(ids, given)
    kinds = dict(class_names=class_names, background=background)
    return channels_named(_measured(ids, image, classes, kinds, **given), channel_names)


def _refuse_path(value, name: str) -> None:
    """UnetlabError in one line where ``name`` (an array keyword of :func:`measure_objects`)
    is a file's path: only ``ids`` reads a file (s52 badinput: a path was measured as a 0-d
    array, "image of shape () does not match ids")."""
    if isinstance(value, str | os.PathLike):
        raise UnetlabError(
            f"{name}= takes pixels, not the path {str(value)!r}: read the file first, "
            f"{name}=unetlab.read_image(path) (a stack: read_stack); only ids= takes a path "
            "(an objects TIFF's)"
        )


def channels_named(table: dict, names: Sequence[str] | None) -> dict:
    """``table`` (:func:`measure_objects`') with its intensity columns named by ``names``
    (its ``channel_names``: :func:`named_channels`; a grey image's ``mean_intensity`` ..
    too); UnetlabError in one line where they do not name each channel once."""
    if names is None:
        return table
    channels = sum(1 for c in table if re.fullmatch(r"mean_intensity(_\d+)?", c))
    if isinstance(names, str) or not channels:
        raise UnetlabError(
            f"channel_names names the intensity columns of image=, one name per channel "
            f"(['DAPI', 'GFP']), and got {names!r}{'' if channels else ' without an image'}: "
            "give a list of names with the image, or drop channel_names"
        )
    one = {m: f"{m}_0" for m in INTENSITY_MEASURES} if "mean_intensity" in table else {}
    named = named_channels({one.get(k, k): v for k, v in table.items()}, names)
    if f"{INTENSITY_MEASURES[0]}_0" in named:  # named_channels left them: not one each
        raise UnetlabError(
            f"channel_names {list(names)!r} does not name the {numbered(channels, 'channel')} of the "
            "image once each: give one distinct name per channel, in the image's order"
        )
    return named


def _measured(
    ids, image, classes, kinds, *, pixel_size, axes, frame_interval, z_spacing, objects_3d
) -> dict[str, np.ndarray]:
    """:func:`measure_objects` of ``ids`` as an array (``kinds``: its class keywords)."""
    _refuse_path(image, "image"), _refuse_path(classes, "classes")  # numpy's 0-d array lines
    ids = _checked_ids(ids, classes)
    images = _image_planes(image, ids.shape)
    pixel, timing = pixel_pair(pixel_size), (frame_interval, z_spacing)
    check_step(z_spacing, "z_spacing", "µm")
    check_step(frame_interval, "frame_interval", "seconds")
    if objects_3d:
        check_z_spacing(z_spacing, pixel)
        letters = _axes_3d(axes, ids, classes)
        table = _measured_3d(ids, images, pixel, letters, *timing)
        return with_saturation(table, ids, images, "t" if "T" in letters else None)
    if objects_3d is None and "Z" in _leading_axes(axes, ids.ndim):
        log.info(_PLANE_BY_PLANE, axes)
    table = with_micrometres(_planes_table(ids, images, classes, kinds, axes, *timing), pixel)
    return with_saturation(table, ids, images, None if ids.ndim == 2 else "page")


def _planes_table(ids, images, classes, kinds, axes, frame_interval, z_spacing) -> dict:
    """The pixel columns of :func:`measure_objects` of an (H, W) id map, or of a stack's
    plane by plane (:func:`_plane_tables`)."""
    if ids.ndim == 2:
        return object_table(ids, None if images is None else images[0], classes=classes, **kinds)
    tables = _plane_tables(ids, images, classes, kinds, axes, frame_interval, z_spacing)
    return {k: _joined([t[k] for t in tables]) for k in tables[0]}


_PLANE_BY_PLANE = (
    "measure_objects measured ids of axes %s plane by plane (ids of each plane's own objects, "
    "as predict writes them without --objects-3d); ids of 3-D objects, one id across planes "
    "(predict --objects-3d's), are measured one row per object with objects_3d=True"
)


def _read_objects(path: str | os.PathLike, given: dict) -> tuple[np.ndarray, dict]:
    """The ids of the objects TIFF at ``path``, and ``given`` (:func:`measure_objects`'
    keywords) with those left None as the file records them: its axes (T, Z, Y, X ones),
    pixel size and z spacing, frame interval, and ``objects_3d`` as predict's record says
    (None where it carries none: an edited file)."""
    from unetlab.data.io import image_file_errors
    from unetlab.data.tiff_files import open_tiff
    from unetlab.data.tiffmeta import frame_seconds, read_pixel_size, tiff_timing
    from unetlab.inference.records import tiff_record  # it imports this module

    if Path(path).suffix.lower() not in (".tif", ".tiff"):
        raise UnetlabError(
            f"{path}: measure_objects reads the ids of a TIFF (<stem>_objects.tif); give "
            "another file's ids as an array"
        )
    # a file cut short was tifffile's traceback (s51 walkbad); open_tiff: what is said of
    # it names a link as given, not its target (tiff_files.given_path: s63)
    with image_file_errors(path), open_tiff(path) as tif:
        ids = tif.series[0].asarray()
        letters, seconds = tif.series[0].axes.upper(), frame_seconds(tiff_timing(tif))
    if 0 in ids.shape:  # a damaged file read as (2, 0, 23): numpy's reshape error (s51)
        raise UnetlabError(
            f"{path}: its ids hold no pixels (shape {ids.shape}): the file is damaged; write "
            "it again (predict --instances writes <stem>_objects.tif)"
        )
    with image_file_errors(path):
        pixel, record = read_pixel_size(path), tiff_record(path)
    outputs = (record or {}).get("outputs")
    recorded = {
        "axes": letters if set(letters) <= set("TZYX") and letters.endswith("YX") else None,
        "pixel_size": None if pixel is None else pixel.size,
        "z_spacing": None if pixel is None else pixel.spacing,
        "frame_interval": seconds,
        "objects_3d": None if outputs is None else bool(outputs.get("objects_3d")),
    }
    return ids, {k: recorded[k] if v is None else v for k, v in given.items()}


def _axes_3d(axes: str | None, ids: np.ndarray, classes) -> str:
    """The leading axes of ``ids`` of 3-D objects, "Z" or "TZ" (without ``axes``: (Z, H, W)
    ids one z-stack, (T, Z, H, W) a movie's, as predict writes them); UnetlabError in one
    line where they have no Z (a movie's frames are no planes) or come with ``classes``."""
    if classes is not None:
        raise UnetlabError(
            "objects_3d=True measures the 3-D objects of a nuclei (instance) model, and "
            "classes= are measured plane by plane: drop one of them"
        )
    letters = {3: "Z", 4: "TZ"}.get(ids.ndim, "") if axes is None else None
    letters = _leading_axes(axes, ids.ndim) if letters is None else letters
    if letters not in ("Z", "TZ"):
        named = "" if axes is None else f" of axes {axes!r}"
        movie = " (a movie's frames are no planes)" if "T" in letters else ""
        raise UnetlabError(
            f"objects_3d=True measures ids of 3-D objects, axes ZYX or TZYX, not {ids.shape}"
            f"{named}{movie}: drop objects_3d to measure them plane by plane"
        )
    return letters


def _measured_3d(ids, images, pixel, letters: str, frame_interval, z_spacing) -> dict:
    """The table of ``ids`` of 3-D objects (leading axes ``letters``: "Z" or "TZ") over
    ``images`` (their planes, (P, H, W[, C]), or None), as ``predict --objects-3d``'s."""
    # objects_3d imports this module (pixel_pair)
    from unetlab.inference.objects_3d import frame_tables_3d, table_voxel

    image = None if images is None else images.reshape(*ids.shape, *images.shape[3:])
    seconds = frame_interval if "T" in letters else None
    voxel = table_voxel(pixel, z_spacing)
    tables = frame_tables_3d(ids, image, voxel, seconds=seconds)
    return {k: _joined([t[k] for t in tables]) for k in tables[0]}


def _joined(columns: list[np.ndarray]) -> np.ndarray:
    """The planes' ``columns`` of one name end to end; ids all uint64 where a plane's are
    (above 2**63: numpy joins uint64 and int64 as float64, which rounds ids above 2**53)."""
    if any(c.dtype == np.uint64 for c in columns):  # ids are never negative
        return np.concatenate([c.astype(np.uint64) for c in columns])
    return np.concatenate(columns)


def _checked_ids(ids, classes) -> np.ndarray:
    """``ids`` as an array; UnetlabError in one line for ``classes`` of another shape or
    ``ids`` that are not non-negative integers of at least 2 axes."""
    ids = np.asarray(ids)
    if classes is not None and np.shape(classes) != ids.shape:
        raise UnetlabError(
            f"classes of shape {np.shape(classes)} do not fit ids of {ids.shape}: give the "
            "class map of the same image"
        )
    if ids.ndim < 2 or ids.dtype.kind not in "iu":
        fix = (
            "a bool mask: skimage.measure.label(mask), one id per object"
            if ids.dtype == bool
            else "e.g. ids.astype(np.int32) of whole numbers"
        )
        raise UnetlabError(
            f"ids must be an (H, W) integer array, or a stack of them, not {ids.dtype} "
            f"{ids.shape} (a label image's values; {fix})"
        )
    if ids.ndim > 2 and not ids.size:  # numpy's reshape error, from a damaged file (s51)
        raise UnetlabError(
            f"ids of shape {ids.shape} hold no pixels: give the ids of an image, or a stack "
            "of them (an objects TIFF read so is damaged: write it again)"
        )
    if ids.dtype.kind == "i" and ids.size and ids.min() < 0:  # numpy's IndexError (s42 api)
        raise UnetlabError(
            f"ids hold {ids.min()}: object ids are 0 (background) or positive; set the "
            "unlabelled pixels to 0 (ids[ids < 0] = 0)"
        )
    return ids


def _plane_tables(ids, images, classes, kinds, axes, frame_interval, z_spacing) -> list[dict]:
    """The table of each plane of a stack's ``ids`` (P, H, W) or (T, Z, H, W), each led by
    its :func:`plane_columns` (``page``, and ``t``/``z`` where ``axes`` names them)."""
    lead = ids.shape[:-2]
    letters = _leading_axes(axes, ids.ndim)
    planes = ids.reshape(-1, *ids.shape[-2:])
    labels = None if classes is None else np.asarray(classes).reshape(planes.shape)
    tables = []
    for page, plane in enumerate(planes):
        image_page = None if images is None else images[page]
        label_page = None if labels is None else labels[page]
        table = object_table(plane, image_page, classes=label_page, **kinds)
        at = np.unravel_index(page, lead)
        index = {a.lower(): int(i) for a, i in zip(letters, at) if a in "TZ"}
        rows = len(table["id"])
        tables.append({**plane_columns(page, rows, index, frame_interval, z_spacing), **table})
    return tables


def pixel_pair(pixel_size) -> tuple[float, float] | None:
    """``pixel_size`` (µm per pixel: one number, or (y, x)) as a (y, x) pair of floats; None
    for None. UnetlabError in one line for anything else: 0, a negative number, NaN or
    infinity, True, a string, or not one number or two (audit s32 notebook 3: 0 gave µm
    columns of zeros, a negative size negative centroids, True 1 µm). A sequence of one
    number is refused as neither (s50 runfolder 3: measure_objects read ``(0.5,)`` as y and
    x, the GeoJSON's area failed on it with a traceback)."""
    if pixel_size is None:
        return None
    values = [pixel_size] if np.ndim(pixel_size) == 0 else list(np.ravel(pixel_size))
    good = np.ndim(pixel_size) == 0 or (np.ndim(pixel_size) == 1 and len(values) == 2)
    if not (good and all(map(_positive_number, values))):
        raise UnetlabError(
            "pixel_size must be one positive finite number of µm per pixel (square pixels) "
            f"or a (y, x) pair of them, not {pixel_size!r} (leave it out, or None, for no "
            "µm columns)"
        )
    return (float(values[0]), float(values[-1]))


NM_SLIP_UM = 100.0  # a step of this many µm or more, given by hand, was likely meant in nm


def nanometre_slip(value: float | None, flag: str) -> str | None:
    """One line where a pixel size or z step given by hand (``flag``: ``--pixel-size``,
    ``--z-spacing``) of ``value`` µm is ``NM_SLIP_UM`` or more, as a value meant in nm gives
    (650 for 0.65 µm: a pixel 0.65 mm wide, areas 10^6 times too large in µm²); None
    otherwise (a value no number is refused elsewhere)."""
    if not isinstance(value, numbers.Real) or not NM_SLIP_UM <= value < math.inf:
        return None
    per = "between planes" if "spacing" in flag else "a pixel"
    return (
        f"{flag} {value:g} is read as µm: {value / 1000:g} mm {per}, more than a microscope "
        f"gives; if you meant {value:g} nm, give {flag} {value / 1000:g} (the µm columns and "
        "scale are written as given)"
    )


def check_z_spacing(z_spacing, pixel: tuple[float, float] | None) -> None:
    """UnetlabError in one line for a ``z_spacing`` of 3-D objects (µm between planes) that
    is not a positive number, or comes without a pixel size (``pixel``: :func:`pixel_pair`'s),
    which it weighs the planes against: ``predict_objects`` and :func:`measure_objects` with
    ``objects_3d=True`` say the same (s50 threedleft: measure_objects dropped every µm column
    unsaid, and took a negative spacing)."""
    if z_spacing is None:
        return
    check_step(z_spacing, "z_spacing", "µm")
    if pixel is None:
        raise UnetlabError("z_spacing= weighs the planes against the pixels: give pixel_size= too")


def check_step(value, name: str, unit: str) -> None:
    """UnetlabError in one line for a step ``value`` (keyword ``name``: ``z_spacing`` in µm,
    ``frame_interval`` in seconds) that is not a positive number below 1e9; None passes
    (s50 threedleft: measure_objects gave z_um -1 and t_s -5 for negative ones)."""
    if value is None:
        return
    real = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    if not (real and 0 < value < 1e9):
        raise UnetlabError(f"{name} must be a positive number of {unit}, not {value!r}")


def _positive_number(value) -> bool:
    real = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    return real and math.isfinite(value) and value > 0


def plane_columns(
    page: int, rows: int, index: dict[str, int], seconds: float | None, spacing: float | None
) -> dict[str, np.ndarray]:
    """The leading columns of a stack's object table for ``rows`` objects of plane ``page``:
    ``page``, its ``t`` and ``z`` (``index``), ``t_s`` given the ``seconds`` between time
    points and ``z_um`` given the Z ``spacing`` (µm)."""
    columns = {"page": page, **index}
    if "t" in columns and seconds is not None:
        columns = {"page": page, "t": columns["t"], "t_s": columns["t"] * seconds, **columns}
    if "z" in columns and spacing:
        columns["z_um"] = columns["z"] * spacing
    return {name: np.full(rows, value) for name, value in columns.items()}


def _leading_axes(axes: str | None, ndim: int) -> str:
    """The letters of a stack's leading axes from ``axes`` (all the ids' axes, ending in YX);
    "" without ``axes``. UnetlabError naming the fix where they do not fit."""
    if axes is None:
        return ""
    given = axes.upper()
    if len(given) != ndim or not given.endswith("YX") or len(set(given)) != len(given):
        raise UnetlabError(
            f"axes {axes!r} do not fit ids of {ndim} axes: one letter per axis, ending in YX "
            "(e.g. 'TYX', 'ZYX', 'TZYX')"
        )
    return given[:-2]


def _image_planes(image: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """``image`` as planes (P, H, W[, C]) matching ids of ``shape`` ((H, W) ids: one
    plane). UnetlabError naming both shapes where it does not fit (audit s35 api 2: an
    image at another scale was measured on its top-left corner, without a word)."""
    if image is None:
        return None
    image = np.asarray(image)
    fits = image.shape[: len(shape)] == shape and image.ndim in (len(shape), len(shape) + 1)
    if not fits and len(shape) == 2:
        raise UnetlabError(
            f"image of shape {image.shape} does not match ids of shape {shape}: give the "
            "image the ids were made from, (H, W) or (H, W, C) at the ids' size"
        )
    if not fits:
        raise UnetlabError(
            f"image of shape {image.shape} does not fit ids of shape {shape}: give the "
            "stack's planes in the ids' order, channels last (e.g. numpy.moveaxis(image, 1, "
            "-1) for (T, C, Y, X))"
        )
    return image.reshape(-1, *image.shape[len(shape) - 2 :])


def object_table(
    ids: np.ndarray,
    image: np.ndarray | None = None,
    *,
    classes: np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
    background: int | None = None,
) -> dict[str, np.ndarray]:
    """Per-object measurements of an (H, W) id map, one array per column, rows by id.

    Columns: :data:`SHAPE_COLUMNS` (``area``, ``perimeter``, ``equivalent_diameter``
    (of the disc of the same area) and the ellipse axes in px; ``bbox_bottom`` and
    ``bbox_right`` exclusive), then for an ``image`` ((H, W), raw values) the
    :data:`INTENSITY_COLUMNS` (``integrated_intensity`` = the sum, Fiji's RawIntDen; an
    (H, W, C) image gives ``mean_intensity_0``, ``mean_intensity_1``, ...), then
    ``touches_border`` (the object is cut by the image edge: its size is a lower bound).
    ``classes`` ((H, W) class indices: a semantic model's labels) adds ``class`` after
    ``id``, and ``class_name`` where ``class_names`` name the classes
    (:func:`majority_class`, ``background`` left out). Conventions: the module's docstring.
    """
    ids = np.asarray(ids)
    compact, original = compact_large_ids(ids)
    sums = TableSums(int(compact.max(initial=0)))
    sums.add(0, compact, image, classes=classes)
    kinds = dict(class_names=class_names, background=background)
    table = sums.table(height=ids.shape[0], width=ids.shape[1], **kinds)
    if original is not None:
        table["id"] = original[table["id"]]
    return table


def with_micrometres(table: dict, pixel: tuple[float, float] | None, *, unit: str = "um") -> dict:
    """``table`` (:func:`object_table`) with ``area_um2``, ``centroid_y_um``,
    ``centroid_x_um``, ``equivalent_diameter_um`` and the ellipse's
    ``major_axis_length_um`` and ``minor_axis_length_um`` (:func:`physical_ellipses`)
    beside the pixel columns, for a ``pixel`` size of (y, x) micrometres, and
    ``perimeter_um`` where the pixels are square; ``table`` itself without one. Where they
    are not square (0.1 um high, 0.05 um wide), the shape measures are the objects', not
    the pixel grid's: ``orientation`` is the physical angle, and ``circularity`` is left
    out with ``perimeter_um`` (the perimeter estimator walks a square grid: no physical
    perimeter); the px columns (lengths, ``perimeter``) stay lengths in the grid.
    ``unit`` "m" (a map's pixels: :func:`unetlab.data.geotiff.length_unit`) gives the same
    columns in metres instead, ``area_m2``, ``centroid_y_m``, ..., ``perimeter_m``.
    ``centroid_y_um`` and ``centroid_x_um`` (``_m``) are distances from the centre of the
    image's top-left pixel, down and right (``centroid_y`` and ``centroid_x`` times the
    pixel size), as Fiji's and QuPath's, not a map's coordinates (a georeferenced input's
    are :func:`with_map_centroids`' ``centroid_x_map``, ``centroid_y_map``)."""
    if pixel is None:
        return table
    pixel = pixel_pair(pixel)  # one line for a size of 0, negative, NaN, ...
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    per = UNITS[unit]
    # 12 digits: a 50000 um pixel is 0.05 m, not 0.049999999999999996
    (dy, dx), out = (twelve_digits(float(v) * per) for v in pixel), {}
    square = math.isclose(dy, dx, rel_tol=1e-6)
    ellipses = (
        physical_ellipses(table, (dy, dx))
        if {"major_axis_length", "minor_axis_length", "orientation"} <= set(table)
        else {}
    )
    for name, column in table.items():
        if name == "circularity" and not square:
            continue
        physical = name == "orientation" and ellipses and not square  # square: the same
        out[name] = ellipses["orientation"] if physical else column
        if name in ("major_axis_length", "minor_axis_length") and ellipses:
            out[f"{name}_{unit}"] = ellipses[f"{name}_um"]
        if name == "area":
            out[f"area_{unit}2"] = column * dy * dx
        elif name in ("centroid_y", "centroid_x"):
            out[f"{name}_{unit}"] = column * (dy if name == "centroid_y" else dx)
        elif name == "perimeter" and square:
            out[f"perimeter_{unit}"] = column * dx
        elif name == "equivalent_diameter":
            out[f"equivalent_diameter_{unit}"] = np.sqrt(4 * table["area"] * dy * dx / np.pi)
    return out


def in_unit(table: dict, unit: str) -> dict:
    """``table`` with its µm columns (``_um``, ``_um2``, ``_um3``: ``z_um``, ``area_um2``,
    ``volume_um3``, ...) in ``unit`` (a key of :data:`UNITS`), in their places: a NIfTI
    volume's ``z_mm``, ``area_mm2``, ``volume_mm3`` (its 0.8 x 0.8 x 2.5 mm voxels read
    1.6e9 µm³ each: s72); ``table`` itself for "um". Before :func:`named_channels`: a
    channel's columns end in its index then (``mean_intensity_0``), never ``_um``."""
    if unit == "um":
        return table
    per, out = UNITS[unit], {}
    for name, column in table.items():
        stem, _, power = name.rpartition("_um")
        if stem and power in ("", "2", "3"):
            out[f"{stem}_{unit}{power}"] = column * per ** int(power or 1)
        else:
            out[name] = column
    return out


#: the map-coordinate centroid columns (:func:`with_map_centroids`), X (easting,
#: longitude) first, as the GeoJSON's coordinates
MAP_CENTROIDS = ("centroid_x_map", "centroid_y_map")


def with_map_centroids(table: dict, grid) -> dict:
    """``table`` with each object's centroid in the map coordinates of ``grid`` (a
    :class:`~unetlab.data.geotiff.MapGrid`: a GeoTIFF's or a world file's place on the
    map, of the pixels ``table`` is measured in): ``centroid_x_map`` (easting, or longitude)
    and ``centroid_y_map`` (northing, or latitude), in the CRS's units, 9 decimals, after
    the other centroid columns; ``table`` itself without a ``grid`` or centroids. The
    centroid of pixel centres ``(centroid_x, centroid_y)`` is the point ``(+ 0.5, + 0.5)``
    in pixel corners, the grid's convention, so the map point is that of the object's
    area whatever the level or sampling it was measured at."""
    if grid is None or not {"centroid_x", "centroid_y"} <= set(table):
        return table
    corners = np.stack([table["centroid_x"] + 0.5, table["centroid_y"] + 0.5], axis=1)
    points = np.round(grid.apply(corners.reshape(-1, 2)), 9)
    last = [name for name in table if name.startswith("centroid_")][-1]
    out = {}
    for name, column in table.items():
        out[name] = column
        if name == last:
            out.update(zip(MAP_CENTROIDS, (points[:, 0], points[:, 1]), strict=True))
    return out


def named_channels(table: dict, names: Sequence[str]) -> dict:
    """``table`` with each channel's intensity columns, ``<measure>_<c>``, called
    ``<measure>_<name>`` by ``names`` (the file's channel names, one per channel: OME
    ``Channel Name``), characters other than letters, digits, ``-`` and ``_`` made ``_``;
    ``table`` as it is where ``names`` do not name each channel once (none, another count,
    a name repeated), so that no column is named twice."""
    clean = [re.sub(r"[^A-Za-z0-9_-]+", "_", str(n)).strip("_") for n in names]
    columns = [c for c in table if c.endswith("_0") and c[:-2] in INTENSITY_MEASURES]
    channels = sum(1 for c in table if c.startswith(f"{INTENSITY_MEASURES[0]}_"))
    if not columns or len(clean) != channels or len(set(clean)) != channels or "" in clean:
        return table
    rename = {f"{m}_{i}": f"{m}_{n}" for m in INTENSITY_MEASURES for i, n in enumerate(clean)}
    return {rename.get(k, k): v for k, v in table.items()}


class TableSums:
    """:func:`object_table` of an id map that arrives in pieces, combined piece by piece.

    ``add(y, ids, image, x, classes=)`` takes the piece at rows ``y..``, columns ``x..`` of
    compact ids 1..``count`` ((rows, W) ints), of the image ((rows, W) or (rows, W, C), raw
    values; None for no intensities) and of the class map (the piece's class indices, for
    the ``class`` column; None for none); each pixel once, in any order. :meth:`table`
    gives the columns of :func:`object_table` (``height``/``width`` for ``touches_border``).
    Objects that never appear are left out. Memory goes with the objects' pixels near the
    pieces' edges and their hulls, not with the pieces' size.
    """

    def __init__(self, count: int):
        n = count + 1
        self.count = count
        self.area = np.zeros(n, np.int64)
        self.mean = np.zeros((n, 2))  # (y, x)
        self.comoment = np.zeros((n, 2, 2))  # sum of (p - mean)(p - mean)^T
        big = np.iinfo(np.int64).max
        self.top, self.left = np.full(n, big), np.full(n, big)
        self.bottom, self.right = np.full(n, -1), np.full(n, -1)
        self.perimeter = np.zeros(n)
        self.hulls: list[tuple[np.ndarray, np.ndarray]] = []  # a piece's (ids, 2 x vertices)
        self.seam: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # keys, ids, pending
        self.intensity: _Intensity | None = None
        self.votes: np.ndarray | None = None  # (count + 1, classes) pixels of each class

    def add(
        self,
        y: int,
        ids: np.ndarray,
        image: np.ndarray | None = None,
        x: int = 0,
        *,
        classes: np.ndarray | None = None,
    ) -> None:
        """Rows ``y..`` (and columns ``x..``) of the id map and image. Only the objects'
        pixels are gathered: time and memory do not grow with ``count``."""
        ids = np.asarray(ids)
        if image is not None and self.intensity is None:
            channels = 1 if np.ndim(image) == 2 else np.shape(image)[-1]
            self.intensity = _Intensity(self.count + 1, channels)
        if classes is not None and self.votes is None:  # the column even without objects
            self.votes = np.zeros((self.count + 1, 1), np.int64)
        rows, cols = np.nonzero(ids)  # the background (0) is never measured
        if not rows.size:
            return
        labels = ids[rows, cols].astype(np.int64)
        lo = int(labels.min())
        flat = labels - lo
        n = int(flat.max()) + 1
        part = slice(lo, lo + n)
        self._moments(part, flat, n, rows + y, cols + x)
        candidates = self._perimeter(ids, rows, cols, labels, y, x)
        self._hulls(labels[candidates], rows[candidates] + y, cols[candidates] + x)
        if image is not None:
            values = np.asarray(image)[rows, cols].reshape(rows.size, -1)
            self.intensity.add(part, flat, n, values)
        if classes is not None:
            self._vote(part, flat, n, np.asarray(classes)[rows, cols].astype(np.int64))

    def _vote(self, part: slice, flat: np.ndarray, n: int, kinds: np.ndarray) -> None:
        """Count each object's pixels of each class (classes below 0 are no class)."""
        known = kinds >= 0
        flat, kinds = flat[known], kinds[known]
        width = int(kinds.max(initial=0)) + 1
        if self.votes.shape[1] < width:
            grown = np.zeros((self.count + 1, width), np.int64)
            grown[:, : self.votes.shape[1]] = self.votes
            self.votes = grown
        self.votes[part] += class_votes(flat, kinds, n, self.votes.shape[1])

    def _moments(self, part, flat, n, rows, cols):
        """Area, bounding box, and mean and co-moments of (y, x), combined with those of
        earlier pieces (Chan et al.'s pairwise update: no large sums of squares)."""
        count = np.bincount(flat, minlength=n)
        points = np.stack([rows, cols], axis=1).astype(np.float64)
        mean, comoment = _spread(flat, n, count, points)
        _combine(self.area[part], self.mean[part], self.comoment[part], count, mean, comoment)
        self.area[part] += count
        np.minimum.at(self.top[part], flat, rows)
        np.minimum.at(self.left[part], flat, cols)
        np.maximum.at(self.bottom[part], flat, rows + 1)
        np.maximum.at(self.right[part], flat, cols + 1)

    def _perimeter(self, ids, rows, cols, labels, y, x) -> np.ndarray:
        """Perimeter terms of the pixels away from the piece's edges now; the pixels near
        its edges (and the ones their terms need) wait in ``seam`` for :meth:`table`.
        Returns which pixels may be hull vertices: boundary pixels and those near the edges."""
        h, w = ids.shape
        inner = (rows >= _SEAM) & (rows < h - _SEAM) & (cols >= _SEAM) & (cols < w - _SEAM)
        flat = ids.reshape(-1) if ids.flags.c_contiguous else None
        if flat is not None:  # one gather a neighbour, not two index sums and a 2-D take
            at = rows[inner] * w + cols[inner]

            def ids_at(dy, dx, of):
                return flat.take(at[of] + (dy * w + dx))
        else:
            r, c = rows[inner], cols[inner]

            def ids_at(dy, dx, of):
                return ids[r[of] + dy, c[of] + dx]

        boundary, terms = _perimeter_terms(ids_at, labels[inner])
        np.add.at(self.perimeter, labels[inner][boundary], terms)
        near = (rows < 2 * _SEAM) | (rows >= h - 2 * _SEAM)
        near |= (cols < 2 * _SEAM) | (cols >= w - 2 * _SEAM)
        keys = (rows[near] + y).astype(np.int64) * _KEY + (cols[near] + x)
        self.seam.append((keys, labels[near], ~inner[near]))
        candidates = ~inner
        candidates[np.flatnonzero(inner)[boundary]] = True
        return candidates

    def _hulls(self, labels, rows, cols):
        """The convex hull of each object's pixels in this piece (vertices at the mid-points
        of its pixels' edges, as scikit-image's ``convex_hull_image``), kept for
        :meth:`table`. A row's first and last pixel span the hull of its pixels."""
        if not labels.size:
            return
        labels, rows, first, last = _row_ends(labels, rows, cols)
        ys = (2 * rows)[:, None] + _END_DY
        xs = 2 * np.stack([first, first, first, last, last, last], 1) + _END_DX
        points = np.stack([ys.reshape(-1), xs.reshape(-1)], 1)
        owner, vertices = _convex_hulls(np.repeat(labels, 6), points)
        self.hulls.append((_narrow(owner), _narrow(vertices)))

    def table(
        self,
        *,
        height: int,
        width: int,
        class_names: Sequence[str] | None = None,
        background: int | None = None,
    ) -> dict[str, np.ndarray]:
        """The columns of :func:`object_table`; with classes added, ``class`` (and
        ``class_name`` by ``class_names``) after ``id``: :func:`majority_class`."""
        self._close_seams()
        present = np.flatnonzero(self.area[1:] > 0) + 1
        area = self.area[present].astype(np.float64)
        perimeter = self.perimeter[present]
        with np.errstate(divide="ignore", invalid="ignore"):
            circularity = np.where(perimeter > 0, 4 * np.pi * area / perimeter**2, np.nan)
        covariance = self.comoment[present] / area[:, None, None]
        major, minor = _axes(covariance)
        shape = {
            "area": area,
            "centroid_y": self.mean[present, 0],
            "centroid_x": self.mean[present, 1],
            "bbox_top": self.top[present],
            "bbox_left": self.left[present],
            "bbox_bottom": self.bottom[present],
            "bbox_right": self.right[present],
            "perimeter": perimeter,
            "circularity": circularity,
            "solidity": area / self._hull_areas(present),
            "equivalent_diameter": np.sqrt(4 * area / np.pi),
            "major_axis_length": major,
            "minor_axis_length": minor,
            "orientation": _orientation(covariance),
        }
        if self.votes is not None:
            table = {"id": present, **class_columns(self.votes[present], class_names, background)}
            table.update(shape)
        else:
            table = {"id": present, **shape}
        if self.intensity is not None:
            table.update(self.intensity.columns(present, area))
        table["touches_border"] = (
            (table["bbox_top"] == 0)
            | (table["bbox_left"] == 0)
            | (table["bbox_bottom"] == height)
            | (table["bbox_right"] == width)
        )
        return table

    def _close_seams(self) -> None:
        """The perimeter terms of the pixels that waited for their neighbouring pieces."""
        if not self.seam:
            return
        keys, labels, pending = (np.concatenate(a) for a in zip(*self.seam))
        self.seam = []
        order = np.argsort(keys)
        keys, labels, pending = keys[order], labels[order], pending[order]
        wanted = keys[pending]

        def ids_at(dy, dx, of):
            target = wanted[of] + dy * _KEY + dx
            at = np.minimum(np.searchsorted(keys, target), len(keys) - 1)
            return np.where(keys[at] == target, labels[at], 0)

        boundary, terms = _perimeter_terms(ids_at, labels[pending])
        np.add.at(self.perimeter, labels[pending][boundary], terms)

    def _hull_areas(self, present: np.ndarray) -> np.ndarray:
        """Pixels whose centre lies in or on each object's hull (the pixel count of
        scikit-image's ``convex_hull_image``): :func:`_lattice_points` of the hull of its
        pieces' hulls, a block of objects at a time (:data:`_HULL_COLUMNS` columns)."""
        out = np.zeros(len(present))
        for block in _blocks(self.right[present] - self.left[present], _HULL_COLUMNS):
            lo, hi = present[block][[0, -1]]
            parts = [_between(owner, vertices, lo, hi) for owner, vertices in self.hulls]
            owner, vertices = (np.concatenate(a).astype(np.int64) for a in zip(*parts))
            out[block] = _lattice_points(*_convex_hulls(owner, vertices))
        return out


def class_votes(ids: np.ndarray, kinds: np.ndarray, n: int, width: int) -> np.ndarray:
    """(n, width) int64: the pixels of each id 0..n-1 (flat ``ids``) in each class 0..width-1
    (flat ``kinds``, the same length)."""
    return np.bincount(ids * width + kinds, minlength=n * width).reshape(n, width)


def majority_class(votes: np.ndarray, background: int | None = None) -> np.ndarray:
    """The class of each object from its pixels of each class ((n, K) counts): the most
    common one other than ``background`` (the holes a semantic object's outline encloses
    are background pixels), ``background`` only where it has no other (ties: the lower
    class)."""
    votes = np.asarray(votes)
    others = votes.copy()
    if background is not None and 0 <= background < votes.shape[1]:
        others[:, background] = 0
    best = others.argmax(axis=1)
    if background is None:
        return best
    return np.where(others.max(axis=1, initial=0) > 0, best, background)


def class_columns(
    votes: np.ndarray, names: Sequence[str] | None = None, background: int | None = None
) -> dict[str, np.ndarray]:
    """``class`` (:func:`majority_class` of ``votes``) and, where ``names`` name it,
    ``class_name`` (the index as text for a class past the names)."""
    return named_columns(majority_class(votes, background), names)


def named_columns(kinds: np.ndarray, names: Sequence[str] | None) -> dict[str, np.ndarray]:
    """``class`` (the class indices ``kinds``) and, where ``names`` (the model's classes)
    are given, ``class_name`` (:func:`named_class`): the class columns of every table."""
    if not names:
        return {"class": kinds}
    known = [str(n) for n in names]
    text = [named_class(k, known) for k in np.asarray(kinds).tolist()]
    return {"class": kinds, "class_name": np.array(text, dtype=object)}


def named_class(kind: int, names: Sequence[str]) -> str:
    """The ``class_name`` of the class index ``kind``: its name in ``names`` (the model's
    classes), the index as text past them (a table without ``class_name``, an earlier
    version's or a model's without names, is counted by it)."""
    return str(names[kind]) if 0 <= kind < len(names) else str(kind)


def class_areas(table: dict) -> dict[str, float]:
    """The total ``area_m2`` of the objects of each class of a table with ``class`` and
    ``area_m2`` columns (a semantic model's objects on a map), keyed as
    :func:`class_counts`; {} for a table without either (areas in µm² are no map's)."""
    if "class" not in table or "area_m2" not in table:
        return {}
    counts = class_counts(table)
    names = table.get("class_name", table["class"])
    keys = np.asarray([str(n) for n in np.asarray(names).tolist()])
    areas = np.asarray(table["area_m2"], np.float64)
    return {name: float(areas[keys == name].sum()) for name in counts}


def class_counts(table: dict) -> dict[str, int]:
    """The objects of each class of a table with a ``class`` column (``class_name`` where it
    has one), by class index; {} for a table without (an instance model's objects)."""
    if "class" not in table:
        return {}
    kinds = np.asarray(table["class"], np.int64)
    names = table.get("class_name")
    counts: dict[str, int] = {}
    for k in np.unique(kinds).tolist():
        at = kinds == k
        name = str(np.asarray(names)[at][0]) if names is not None else str(k)
        counts[name] = int(at.sum())
    return counts


class _Intensity:
    """Per-object sum, min, max, mean and co-moment of the image's channels."""

    def __init__(self, n: int, channels: int):
        self.sum = np.zeros((n, channels))
        self.min = np.full((n, channels), np.inf)
        self.max = np.full((n, channels), -np.inf)
        self.mean = np.zeros((n, channels))
        self.square = np.zeros((n, channels))  # sum of (v - mean)^2
        self.count = np.zeros(n, np.int64)

    def add(self, part, flat, n, values):
        values = values.astype(np.float64)
        count = np.bincount(flat, minlength=n)
        for c in range(values.shape[1]):
            self.sum[part, c] += np.bincount(flat, values[:, c], minlength=n)
            mean, square = _spread(flat, n, count, values[:, c : c + 1])
            _combine(
                self.count[part], self.mean[part, c : c + 1], self.square[part, c : c + 1, None],
                count, mean, square,
            )  # fmt: skip
            np.minimum.at(self.min[part, c], flat, values[:, c])  # 1-D: 6x faster than 2-D
            np.maximum.at(self.max[part, c], flat, values[:, c])
        self.count[part] += count

    def columns(self, present, area) -> dict[str, np.ndarray]:
        measures = {
            "mean_intensity": self.sum[present] / area[:, None],
            "min_intensity": self.min[present],
            "max_intensity": self.max[present],
            "std_intensity": np.sqrt(np.maximum(self.square[present] / area[:, None], 0)),
            "integrated_intensity": self.sum[present],
        }
        channels = self.sum.shape[1]
        if channels == 1:
            return {name: column[:, 0] for name, column in measures.items()}
        return {f"{n}_{c}": col[:, c] for n, col in measures.items() for c in range(channels)}


def _spread(flat, n, count, values):
    """Per-id mean (n, d) and co-moment (n, d, d) of ``values`` (N, d) with ids ``flat``."""
    d = values.shape[1]
    safe = np.maximum(count, 1)
    mean = np.stack([np.bincount(flat, values[:, j], minlength=n) for j in range(d)], 1)
    mean /= safe[:, None]
    deviation = values - mean[flat]
    comoment = np.empty((n, d, d))
    for a in range(d):
        for b in range(a, d):
            sums = np.bincount(flat, deviation[:, a] * deviation[:, b], minlength=n)
            comoment[:, a, b] = comoment[:, b, a] = sums
    return mean, comoment


def _combine(count_a, mean_a, comoment_a, count_b, mean_b, comoment_b) -> None:
    """Merge (count_b, mean_b, comoment_b) into ``mean_a`` and ``comoment_a`` in place
    (``count_a`` is the caller's to update)."""
    total = count_a + count_b
    share = np.divide(count_b, total, out=np.zeros(len(total)), where=total > 0)
    delta = mean_b - mean_a
    comoment_a += (
        comoment_b + np.einsum("ni,nj->nij", delta, delta) * (count_a * share)[:, None, None]
    )
    mean_a += delta * share[:, None]


def _axes(covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Major and minor axis lengths of the ellipses with these (n, 2, 2) covariances:
    4 sqrt of the eigenvalues (scikit-image's ``axis_major_length``)."""
    values = np.linalg.eigvalsh(covariance) if len(covariance) else np.zeros((0, 2))
    values = np.clip(values, 0, None)
    return 4 * np.sqrt(values[:, 1]), 4 * np.sqrt(values[:, 0])


def _orientation(covariance: np.ndarray) -> np.ndarray:
    """The angle in degrees (-90 to 90; an axis along x: 90) between the rows' axis (y,
    down) and the major axis of the ellipses with these (n, 2, 2) covariances,
    scikit-image's ``orientation`` (in radians there; CellProfiler's Orientation): positive
    towards +x. A tie of the two
    variances (to rounding: a table summed in pieces has the whole's to 1e-15) gives -45,
    or 45 where y and x grow together, as scikit-image."""
    vy, vx, c = covariance[:, 0, 0], covariance[:, 1, 1], covariance[:, 0, 1]
    tied = _TIE * (vy + vx)
    # a covariance of 0 to rounding is +0: an axis along x is +90, never -90 (a table summed
    # in pieces gets -1e-17 where the whole has +0)
    c = np.where(np.abs(c) <= tied, 0.0, c)
    angle = np.degrees(0.5 * np.arctan2(2 * c, vy - vx))
    return np.where(np.abs(vy - vx) <= tied, np.where(c > tied, 45.0, -45.0), angle)


_TIE = 1e-10  # variances this close (relative) are equal: the angle is scikit-image's tie


def physical_ellipses(table: dict, pixel: tuple[float, float]) -> dict[str, np.ndarray]:
    """The ellipse of each object of ``table`` (``major_axis_length``, ``minor_axis_length``
    and ``orientation`` in pixels) in micrometres for a ``pixel`` of (y, x) um: its
    covariance scaled by the pixel's sides, exactly, whatever their ratio:
    ``major_axis_length_um``, ``minor_axis_length_um`` and the ``orientation`` of the
    object as it is, not as the pixel grid has it."""
    dy, dx = pixel
    major, minor = (
        np.asarray(table[k], np.float64) / 4 for k in ("major_axis_length", "minor_axis_length")
    )
    theta = np.radians(np.asarray(table["orientation"], np.float64))
    cos, sin = np.cos(theta), np.sin(theta)
    vy = (major**2 * cos**2 + minor**2 * sin**2) * dy**2
    vx = (major**2 * sin**2 + minor**2 * cos**2) * dx**2
    c = (major**2 - minor**2) * sin * cos * dy * dx
    covariance = np.stack([np.stack([vy, c], -1), np.stack([c, vx], -1)], -2)
    big, small = _axes(covariance)
    return {
        "major_axis_length_um": big,
        "minor_axis_length_um": small,
        "orientation": _orientation(covariance),
    }


def _perimeter_terms(ids_at, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scikit-image's perimeter terms of pixels of their own objects: (indices of the
    boundary pixels, their terms); the other pixels' terms are 0. ``ids_at(dy, dx, of)``:
    the ids at that offset from the pixels ``of`` (indices; 0 outside the image);
    ``labels``: the pixels' own ids."""
    boundary = np.flatnonzero(_on_boundary(ids_at, labels, np.arange(len(labels)), 0, 0))
    code = np.ones(boundary.size, np.int64)
    for (dy, dx), weight in [*((d, 2) for d in _FOUR), *((d, 10) for d in _DIAGONAL)]:
        if boundary.size:
            code += weight * _on_boundary(ids_at, labels, boundary, dy, dx)
    return boundary, _PERIMETER_WEIGHTS[code]


def _on_boundary(ids_at, labels, of, dy, dx) -> np.ndarray:
    """For the pixels ``of``: is the pixel at (dy, dx) of their own object and on its
    boundary (a 4-neighbour outside it)?"""
    own = labels[of]
    mine = ids_at(dy, dx, of) == own
    inside = np.ones(len(of), bool)
    for ey, ex in _FOUR:
        inside &= ids_at(dy + ey, dx + ex, of) == own
    return mine & ~inside


def _row_ends(labels, rows, cols):
    """The first and the last pixel of each object's rows: (ids, rows, first columns, last
    columns), by id then row."""
    order = np.lexsort((cols, rows, labels))
    labels, rows, cols = labels[order], rows[order], cols[order]
    new = np.ones(len(labels), bool)
    new[1:] = (labels[1:] != labels[:-1]) | (rows[1:] != rows[:-1])
    starts = np.flatnonzero(new)
    return labels[starts], rows[starts], cols[starts], cols[np.append(starts[1:], len(cols)) - 1]


def _convex_hulls(owner: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The convex hull of each owner's integer points ((n, 2) (y, x)), all owners at once:
    (owners, vertices in order round each hull), by owner. Only the lowest and the highest
    x of each owner's y can be vertices; of these, :func:`_envelope` keeps the left chain's
    and the right chain's (an owner's top and bottom point once if it is both)."""
    order = np.lexsort((points[:, 1], points[:, 0], owner))
    owner, y, x = owner[order], points[order, 0], points[order, 1]
    new = np.ones(len(owner), bool)
    new[1:] = (owner[1:] != owner[:-1]) | (y[1:] != y[:-1])
    first = np.flatnonzero(new)
    last = np.append(first[1:], len(owner)) - 1
    owner, y, low, high = owner[first], y[first], x[first], x[last]
    end = np.ones(len(owner), bool)  # an owner's top or bottom y
    end[1:-1] = (owner[2:] != owner[1:-1]) | (owner[:-2] != owner[1:-1])
    left = np.flatnonzero(_envelope(owner, y, low))
    right = np.flatnonzero(_envelope(owner, y, -high) & ~(end & (low == high)))[::-1]
    order = np.argsort(np.concatenate([owner[left], owner[right]]), kind="stable")
    index = np.concatenate([left, right])[order]
    x = np.concatenate([low[left], high[right]])[order]
    return owner[index], np.stack([y[index], x], 1)


def _envelope(owner: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Which points (by owner, then y; one a y) are vertices of their owner's lower convex
    envelope of x over y: all but those on or right of the line through their neighbours,
    taken out together until none is."""
    alive = np.arange(len(owner))
    while True:
        o, yy, xx = owner[alive], y[alive], x[alive]
        inner = np.zeros(len(alive), bool)
        inner[1:-1] = (o[:-2] == o[1:-1]) & (o[2:] == o[1:-1])
        i = np.flatnonzero(inner)
        side = (xx[i] - xx[i - 1]) * (yy[i + 1] - yy[i - 1])
        side -= (xx[i + 1] - xx[i - 1]) * (yy[i] - yy[i - 1])
        out = i[side >= 0]
        if not out.size:
            break
        keep = np.ones(len(alive), bool)
        keep[out] = False
        alive = alive[keep]
    mask = np.zeros(len(owner), bool)
    mask[alive] = True
    return mask


def _blocks(widths: np.ndarray, budget: int):
    """Slices of consecutive items whose ``widths`` add up to about ``budget`` (at least one
    item each)."""
    total = np.cumsum(widths)
    start = 0
    while start < len(widths):
        base = total[start - 1] if start else 0
        end = max(start + 1, int(np.searchsorted(total, base + budget, "right")))
        yield slice(start, end)
        start = end


def _narrow(values: np.ndarray) -> np.ndarray:
    """``values`` as int32 where they fit (the hulls kept until :meth:`TableSums.table`)."""
    if values.size and (values.min() < -(2**31) or values.max() >= 2**31):
        return values
    return values.astype(np.int32)


def _between(owner, vertices, lo, hi):
    """The rows of ``owner`` (sorted) from ``lo`` to ``hi``, and their ``vertices``."""
    i, j = np.searchsorted(owner, [lo, hi + 1])
    return owner[i:j], vertices[i:j]


def _lattice_points(owner: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """The integer points in or on each convex polygon (``vertices``: (n, 2) (y, x) at 2 x
    their place, in order round each polygon; ``owner``: the polygon of each, sorted),
    counted exactly, column by column: the lowest and the highest point of each column
    where the polygon's edges (and vertices) cross it. One count a polygon, by owner."""
    starts = np.flatnonzero(np.diff(owner, prepend=owner[:1] - 1))
    sizes = np.diff(np.append(starts, len(owner)))
    count = len(sizes)
    owner = np.repeat(np.arange(count), sizes)
    following = np.arange(len(vertices)) + 1
    ends = np.cumsum(sizes)
    following[ends - 1] = ends - sizes  # the last vertex joins the first
    ya, xa = vertices[:, 0], vertices[:, 1]
    yb, xb = ya[following], xa[following]
    # each edge with its own two ends as edges of one point, so vertical edges count too
    ya, xa, yb, xb = (np.concatenate([u, v]) for u, v in ((ya, ya), (xa, xa), (yb, ya), (xb, xa)))
    owner = np.concatenate([owner, owner])
    first = np.minimum(xa, xb)
    first += first % 2  # the first even column (2 x a pixel column)
    span = np.maximum((np.maximum(xa, xb) - first) // 2 + 1, 0)
    edge = np.repeat(np.arange(len(xa)), span)
    column = first[edge] + 2 * (np.arange(len(edge)) - np.repeat(np.cumsum(span) - span, span))
    num = ya[edge] * (xb[edge] - column) + yb[edge] * (column - xa[edge])
    den = xb[edge] - xa[edge]
    point = den == 0  # a vertex, on its own column
    num = np.where(point, ya[edge], np.where(den < 0, -num, num))
    den = np.where(point, 1, np.abs(den)) * 2
    low, high = -(-num // den), num // den  # ceil and floor of the crossing, in pixels
    left = np.full(count, np.iinfo(np.int64).max)
    np.minimum.at(left, owner, first // 2)
    width = np.zeros(count, np.int64)
    np.maximum.at(width, owner[edge], column // 2 - left[owner[edge]] + 1)
    offset = np.cumsum(width) - width
    slot = offset[owner[edge]] + column // 2 - left[owner[edge]]
    bottom = np.full(int(width.sum()), np.iinfo(np.int64).max)
    top = np.full(int(width.sum()), np.iinfo(np.int64).min)
    np.minimum.at(bottom, slot, low)
    np.maximum.at(top, slot, high)
    counts = np.maximum(top - bottom + 1, 0)
    return np.bincount(np.repeat(np.arange(count), width), counts, minlength=count)
