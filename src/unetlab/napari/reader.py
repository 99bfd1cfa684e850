"""The napari reader of unetlab's own outputs (npe2 ``readers`` in ``napari.yaml``), as plain
functions (no napari): File > Open of ``<stem>_objects.tif`` or ``<stem>_prob.tif`` gives a
labels or image layer at the pixel size and z spacing the file records, which napari's own
TIFF reader leaves out (:func:`read_output` reads a large image's ``.ome.zarr`` folders too, and
a 2-D input's PNG class map and overlay, in Python). A file is unetlab's
when it carries a prediction record (:func:`unetlab.inference.records.tiff_record`, an
OME-Zarr's attributes); any other gives None, and napari tries its other readers. MRC files
(``.mrc``, ``.rec``, ...: a tomogram, and the labels predict or membrain-seg made of it) are
read whatever made them, at their voxel size in Å (:func:`mrc_layer`), so the labels overlay
the tomogram; napari itself reads none. So are HDF5 images (ilastik's exports, Imaris',
BigDataViewer's, a CREMI volume: :func:`h5_layer`), read window by window."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from unetlab.data import ngff
from unetlab.data.h5 import (
    H5_SUFFIXES,
    H5View,
    h5_colour,
    h5_letters,
    h5_page_axes,
    h5_source,
    is_h5_name,
)
from unetlab.data.large_ids import label_dtype
from unetlab.data.mrc import (
    ANGSTROM_PER_UM,
    LABEL_NOTE,
    MRC_SUFFIXES,
    first_label,
    holds_mrc,
    is_mrc_name,
    mrc_header,
    mrc_map,
    read_mrc,
)
from unetlab.data.names import SEGMENTED
from unetlab.data.png_chunks import read_png_text
from unetlab.data.slides import is_zarr
from unetlab.data.tiff_files import open_tiff
from unetlab.data.tiffmeta import (
    NM_BELOW_UM,
    PixelSize,
    frame_seconds,
    read_pixel_size,
    series_axes,
    tiff_timing,
)
from unetlab.errors import ImageReadError
from unetlab.inference.records import TIFF_KEY, tiff_record
from unetlab.inference.slide_overlay import SCALE_KEY

#: the output names the reader is offered (``filename_patterns`` of ``napari.yaml``): the
#: class maps are ``<stem>.tif``, a name any TIFF has, so napari would ask for a reader for
#: every TIFF; and no folders (npe2 offers a reader that accepts directories every folder,
#: whatever its name); OME-Zarr outputs record their scale in OME-Zarr's own metadata; MRC
#: files by every suffix they have (those of no MRC header given to napari's other readers),
#: HDF5 files by theirs (:data:`~unetlab.data.h5.H5_SUFFIXES`: those unetlab reads no image
#: of given to napari's other readers)
PATTERNS = (
    "*_objects.tif",
    "*_prob.tif",
    *(f"*{suffix}" for suffix in (*MRC_SUFFIXES, *H5_SUFFIXES)),
)

LayerTuple = tuple[np.ndarray, dict, str]


def get_reader(path) -> Callable[[object], list[LayerTuple]] | None:
    """npe2's reader command: :func:`read_output` for one unetlab output (a TIFF, or a large
    image's OME-Zarr folder, that carries a prediction record) and for any MRC file (a
    tomogram, its labels: whatever made it), else None (several paths, another folder,
    another program's TIFF, a ``.map`` of no MRC header)."""
    if not isinstance(path, (str, os.PathLike)):
        return None
    if os.path.isdir(path):
        return read_output if zarr_record(Path(path)) is not None else None
    if is_mrc_name(path):
        return read_output if os.path.isfile(path) and holds_mrc(path) else None
    if is_h5_name(path):
        return read_output if os.path.isfile(path) and _h5_image(Path(path)) else None
    if not os.path.isfile(path) or series_axes(path) is None or tiff_record(path) is None:
        return None
    return read_output


def read_output(path) -> list[LayerTuple]:
    """napari layer-data tuples of a unetlab output (``path``, or a one-path list): object
    ids (``<stem>_objects.tif``) and class maps (``<stem>.tif``) a labels layer,
    probabilities (``<stem>_prob.tif``) an image layer split by class (its C axis), named by
    the record's class names; each at the file's scale (:func:`axis_scale`; an OME-Zarr's
    own), the record in ``metadata["unetlab_prediction"]``. A pyramid (a large image's
    OME-TIFF or OME-Zarr) is napari multiscale data, its levels read lazily. An overlay
    (``<stem>_overlay.tif`` or ``.png``: RGB samples) is an RGB image layer; a PNG output (a
    2-D input's class map or overlay) is read with the record and scale of its PNG text
    (:func:`png_output`)."""
    path = Path(path[0] if isinstance(path, (list, tuple)) else path)
    if is_mrc_name(path) and not path.is_dir():
        return [mrc_layer(path)]
    if is_h5_name(path) and not path.is_dir():
        return [h5_layer(path)]
    if path.is_dir():
        data, letters, scale = zarr_pixels(path)
        record, stem = zarr_record(path) or {}, path.name.removesuffix(".zarr").removesuffix(".ome")
        known = (True, None)  # OME-Zarr's scale in its axes' units: µm or nm, read as µm
    elif path.suffix.lower() == ".png":
        (data, letters, scale, record, recorded), stem = png_output(path), path.stem
        known = (recorded, None)  # a recorded 1 µm is known, as any other
    else:
        letters, _ = series_axes(path) or ("", ())
        data, pixel = pixels(path), read_pixel_size(path)  # pixels: a bad file's one line
        seconds = frame_interval(path) if "T" in letters else None
        scale, known = axis_scale(letters, pixel, seconds), (pixel is not None, seconds)
        record, stem = tiff_record(path) or {}, path.name[: -len(path.suffix)]
    return [layer_tuple(data, letters, scale, record, stem, known)]


def mrc_layer(path: Path) -> LayerTuple:
    """The layer-data tuple of an MRC file: a labels layer where it is a label file (its first
    label unetlab's, or named as membrain-seg names its segmentations) of whole numbers (a
    float32 one's as uint8 or uint16: :func:`whole_labels`), else an image layer (a
    tomogram, whatever its mode); at its voxel size along Z, Y, X in the unit of the TIFF
    outputs' layers (:func:`spatial_unit`: nm for a tomogram's Å; steps of a pixel where its
    header records none), rows in the file's order; an image memory-mapped where its bytes
    are in this machine's order (a tomogram of GBs opens lazily), else read whole."""
    head = mrc_header(path)
    labels = first_label(head).startswith(LABEL_NOTE) or path.stem.endswith(SEGMENTED)
    lazy = head.dtype.isnative and not labels  # labels in memory: napari paints on them
    data = mrc_map(path, head) if lazy else read_mrc(path, head)
    if labels and data.dtype.kind == "f":
        labels, data = whole_labels(data)
    um = [v / ANGSTROM_PER_UM for v in head.voxel] if head.voxel else [1.0] * 3
    scale, unit = spatial_unit("ZYX", um, head.voxel is not None)
    kwargs = {"name": path.stem, "scale": tuple(scale)}
    kwargs |= axes_keywords(("z", "y", "x"), (unit,) * 3)
    return data, kwargs, "labels" if labels else "image"


def _h5_image(path: Path) -> bool:
    """Whether unetlab reads an image in the HDF5 file ``path`` (a file of several
    datasets, a Keras model's, no HDF5: napari's other readers are asked)."""
    try:
        h5_source(path)
    except ImageReadError:
        return False
    return True


def h5_layer(path: Path) -> LayerTuple:
    """The image layer-data tuple of an HDF5 file (:func:`~unetlab.data.h5.h5_source`),
    read window by window as napari shows it (:class:`~unetlab.data.h5.H5View`), its
    channels split (an ilastik export of an RGB picture's samples one colour layer, as
    predict reads it: :func:`~unetlab.data.h5.h5_colour`; s75), at its voxel size (Imaris',
    BigDataViewer's, a CREMI volume's ``resolution``; steps of a pixel where it records
    none), its pages named as
    :func:`~unetlab.data.h5.h5_page_axes` says (``Q``: of no known meaning)."""
    source = h5_source(path)
    page_letters, _ = h5_page_axes(path, 1)
    letters = h5_letters(source).replace("P" * len(page_letters), page_letters)
    pixel = read_pixel_size(path)
    scale, unit = spatial_unit(letters, axis_scale(letters, pixel), pixel is not None)
    kwargs = {"name": path.stem}
    if letters.endswith("C"):  # an RGB picture's samples one colour layer, as predict reads it
        kwargs |= {"rgb": True} if h5_colour(path) else {"channel_axis": len(letters) - 1}
        letters, scale = letters[:-1], scale[:-1]
    kwargs |= {"scale": tuple(scale)} | axis_names(letters, (unit, None))
    return H5View(path, source), kwargs, "image"


def whole_labels(data: np.ndarray) -> tuple[bool, np.ndarray]:
    """(whether they are labels, the data) of float labels (membrain-seg's older
    segmentations: mode 2, 0.0 and 1.0): whole numbers from 0 up as uint8 or uint16
    (:func:`~unetlab.data.large_ids.label_dtype`), which napari's labels layers take (review
    s71 4: a float32 one raised TypeError); other values as they are, an image. One look at
    each plane (:func:`_plane_top`), not five passes over the volume."""
    top = 0
    planes = data.reshape(-1, *data.shape[-2:]) if data.ndim > 1 and data.size else [data]
    for plane in planes:
        top = _plane_top(plane, top)
        if top is None:
            return False, data
    return True, data.astype(label_dtype(top))


def _plane_top(plane: np.ndarray, top: int) -> int | None:
    """The largest of ``top`` and the values of ``plane`` where they are whole numbers in
    0 to 65,535 (NaN and infinities are not: their least or largest falls outside), else
    None."""
    if not plane.size:
        return top
    low, high = plane.min(), plane.max()
    if not (low >= 0 and high <= np.iinfo(np.uint16).max):
        return None
    if (plane != np.floor(plane)).any():
        return None
    return max(top, int(high))


#: napari's names of the units of the reader's layers' Z, Y and X steps
MICROMETRE, NANOMETRE = "micrometer", "nanometer"


def spatial_unit(letters: str, scale: list[float], known: bool) -> tuple[list[float], str]:
    """(the steps, the unit of those along Z, Y and X) of a layer of axes ``letters`` whose
    steps are ``scale`` (µm along Z, Y, X): in nm where they are ``known`` and those along Y
    and X are under :data:`~unetlab.data.tiffmeta.NM_BELOW_UM` µm (a tomogram's Å, as the
    TIFF outputs record them), so that a tomogram and each of its outputs come in one unit
    (review s71 3: the tomogram in Å and its TIFF outputs in µm were 10^4 apart in napari
    0.5 and 0.6, which show no units); else in µm; napari's pixel where not ``known``."""
    if not known:
        return scale, "pixel"
    sides = [s for a, s in zip(letters, scale) if a in "YX"]
    if not sides or max(sides) >= NM_BELOW_UM:
        return scale, MICROMETRE
    return [s * 1e3 if a in "ZYX" else s for a, s in zip(letters, scale)], NANOMETRE


def frame_interval(path: Path) -> float | None:
    """The seconds between the frames the TIFF at ``path`` records (ImageJ's finterval, OME's
    TimeIncrement); None where it records none. What is said of it names a link as given,
    not its target (:func:`~unetlab.data.tiff_files.given_path`: s63)."""
    with open_tiff(path) as tif:
        return frame_seconds(tiff_timing(tif))


def layer_tuple(
    data, letters: str, scale: list[float], record: dict, stem: str, known=(False, None)
) -> LayerTuple:
    """The layer-data tuple of an output's ``data`` (an array, or a pyramid's levels: a
    list) of axes ``letters`` (``ZYX``, ``CYX``), µm (s along T) per step ``scale``
    (``known``: whether the pixel size is recorded, the frame interval), in nm where that
    small (:func:`spatial_unit`), named ``stem``; the axes named (:func:`axis_names`), those
    of a probability map's layers split by class too (its C left out, as from its scale)."""
    full = data[0] if isinstance(data, list) else data
    kwargs = {"metadata": {"unetlab_prediction": record}, "multiscale": isinstance(data, list)}
    scale, spatial = spatial_unit(letters, scale, known[0])
    known = (spatial, known[1])  # axis_names': the unit along Z, Y, X; the frame interval
    if stem.endswith("_prob") and "C" in letters:
        c = letters.index("C")
        names = class_names(record, full.shape[c])
        kwargs |= {"channel_axis": c, "name": [f"{stem} {n}" for n in names]}
        kwargs |= axis_names(letters.replace("C", ""), known)  # each class's layer: no C
        return data, {**kwargs, "scale": tuple(scale[:c] + scale[c + 1 :])}, "image"
    if letters.endswith("S"):  # an overlay's RGB samples: one colour image, not labels
        kwargs |= axis_names(letters[:-1], known)
        return data, {**kwargs, "name": stem, "rgb": True, "scale": tuple(scale[:-1])}, "image"
    kind = "image" if np.dtype(full.dtype).kind == "f" else "labels"
    kwargs |= axis_names(letters, known)
    return data, {**kwargs, "name": stem, "scale": tuple(scale)}, kind


#: the first napari whose layers take ``axis_labels`` and ``units`` (0.5.0 added them,
#: napari #6979; 0.5.1 passes them through ``add_image``, #7089)
AXES_NAPARI = (0, 5, 1)


def axis_names(letters: str, known: tuple[str, float | None]) -> dict:
    """The layer keywords naming the axes of ``letters`` (``TYX``, ``ZYX``): ``axis_labels``
    ``("t", "y", "x")``, and ``units``: ``known``'s first along Z, Y and X (micrometres, or
    nanometres, where the pixel size is recorded: :func:`spatial_unit`; else napari's
    ``pixel``, a step), seconds along T where the frame interval is (its second), else
    ``pixel``, so that a movie's frames do not read as 1 µm planes (s50 threedleft: a TYX
    movie and a ZYX stack came with the same scale and no names). {} where the installed
    napari is older than :data:`AXES_NAPARI`, whose layers refuse them."""
    spatial = known[0]
    steps = {"Z": spatial, "Y": spatial, "X": spatial, "T": "second" if known[1] else "pixel"}
    return axes_keywords(tuple(letters.lower()), tuple(steps.get(a, "pixel") for a in letters))


def axes_keywords(labels: Sequence[str], units: Sequence[str]) -> dict:
    """The layer keywords ``axis_labels`` and ``units`` (one each per axis), as the reader's
    layers and the widget's output layers (:func:`unetlab.napari.core.layer_axes`) take
    them; {} for no axes, or where the installed napari is older than
    :data:`AXES_NAPARI`, whose layers refuse them."""
    if not labels or not napari_names_axes():
        return {}
    return {"axis_labels": tuple(labels), "units": tuple(units)}


def napari_names_axes() -> bool:
    """Whether the installed napari's layers take ``axis_labels`` and ``units``
    (:data:`AXES_NAPARI`); True without napari (the tuples are plain data then)."""
    from importlib import metadata

    try:
        version = metadata.version("napari")
    except metadata.PackageNotFoundError:
        return True
    parts = [int(p) for p in re.findall(r"\d+", version)[:3]]
    return tuple(parts) >= AXES_NAPARI


def pixels(path: Path) -> np.ndarray | list:
    """The pixels of the TIFF at ``path``: a one-level file read whole; a pyramid (a large
    image's OME-TIFF) as a list of lazy Zarr views of its levels, full resolution first
    (napari's multiscale data), the file left open for them."""
    import tifffile
    import zarr

    try:
        tif = tifffile.TiffFile(path)
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except (tifffile.TiffFileError, OSError) as exc:  # predict.json, a .txt: one line
        raise ImageReadError(
            f"{path}: not an image output of unetlab predict (a TIFF, a PNG or an OME-Zarr "
            f"folder), which read_output reads ({exc})"
        ) from exc
    try:
        series = tif.series[0]
        if len(series.levels) == 1:
            with tif:
                return series.asarray()
        levels = range(len(series.levels))
        return [zarr.open(series.aszarr(level=i), mode="r") for i in levels]
    except BaseException:
        tif.close()
        raise


def png_output(path: Path) -> tuple[np.ndarray, str, list[float], dict, bool]:
    """(pixels, axes ``YX`` or ``YXS``, µm per step, record, whether the scale is recorded:
    :func:`png_scale`) of a PNG output: a 2-D input's
    class map (a palette PNG's indices) or overlay; the scale an overlay preview of a slide
    records in its PNG text (``unetlab.scale``), else 1 µm (a PNG output's input recorded no
    pixel size: with one, predict writes TIFFs). ImageReadError where it cannot be read
    (audit s45 newuser: a TiffFileError)."""
    from PIL import Image

    try:
        text = read_png_text(path)
        with Image.open(path) as image:
            data = np.asarray(image)
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot be read as a PNG ({exc})") from exc
    record, found = _json(text.get(TIFF_KEY)), png_scale(text)
    size, letters = found or [1.0] * 2, "YXS" if data.ndim == 3 else "YX"
    return data, letters, size + [1.0] * (data.ndim - 2), record, found is not None


def png_scale(text: dict) -> list[float] | None:
    """The µm per pixel (y, x) a PNG output's ``text`` records (``unetlab.scale``, an overlay
    preview's); None where it records none: a recorded 1.0 is a scale all the same."""
    found = _json(text.get(SCALE_KEY)).get("pixel_size_um")
    return [float(v) for v in found] if isinstance(found, list) and len(found) == 2 else None


def _json(text: str | None) -> dict:
    """The dict ``text`` holds as JSON; {} for none, or for another value."""
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def zarr_record(path: Path) -> dict | None:
    """The prediction record of a large image's OME-Zarr output folder (its attributes'
    ``unetlab.prediction``); None for another folder."""
    if not is_zarr(path):
        return None
    import zarr

    try:
        attrs = dict(zarr.open_group(path, mode="r").attrs)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    found = (attrs.get("unetlab") or {}).get("prediction")
    return found if isinstance(found, dict) and "multiscales" in attrs else None


def zarr_pixels(path: Path) -> tuple[list | object, str, list[float]]:
    """(the lazy levels, or the one level, axis letters, level 0's scale: µm along Z, Y
    and X, whatever unit its axes name: a tomogram's outputs' nanometer, s73) of an
    OME-Zarr output folder."""
    import zarr

    group = zarr.open_group(path, mode="r")
    if (scales := ngff.multiscale(path, dict(group.attrs))) is None:  # damaged: one line (s54)
        raise ngff.damaged(path, "it has no 'multiscales'")
    try:
        levels = [group[d["path"]] for d in scales["datasets"]]
    except KeyError as exc:
        raise ngff.damaged(path, f"its 'datasets' name a level it does not hold ({exc})") from exc
    letters = "".join(n[0].upper() for n in ngff.axis_names(path, scales, levels[0].ndim))
    transforms = scales["datasets"][0].get("coordinateTransformations", [])
    found = [t for t in transforms if t["type"] == "scale"]
    scale = [float(v) for v in found[0]["scale"]] if found else [1.0] * len(letters)
    units = ngff.axis_units(scales) + [None] * len(scale)
    per = [ngff.micrometres(u) if a in "ZYX" else None for a, u in zip(letters, units)]
    scale = [s if p is None else s * p for s, p in zip(scale, per)]  # an unknown unit's as is
    return levels if len(levels) > 1 else levels[0], letters, scale


def axis_scale(letters: str, pixel: PixelSize | None, seconds: float | None = None) -> list[float]:
    """The µm a step along each axis of ``letters`` (tifffile's, ``ZYX``): Y and X the pixel
    size, Z the z spacing (a pixel's where the file records none), T the ``seconds``
    between frames where given, others 1."""
    size = pixel.size if pixel is not None else (1.0, 1.0)
    spacing = pixel.spacing if pixel is not None and pixel.spacing else size[0]
    steps = {"Y": size[0], "X": size[1], "Z": spacing, "T": seconds or 1.0}
    return [float(steps.get(a, 1.0)) for a in letters]


def class_names(record: dict, count: int) -> list[str]:
    """The names of ``count`` probability channels: the record's ``class_names`` where it
    has one for each, else ``class 0``, ``class 1``, ..."""
    names = record.get("class_names")
    if isinstance(names, list) and len(names) == count:
        return [str(n) for n in names]
    return [f"class {i}" for i in range(count)]
