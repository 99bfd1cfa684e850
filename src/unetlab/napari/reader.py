"""The napari reader of unetlab's own outputs (npe2 ``readers`` in ``napari.yaml``), as plain
functions (no napari): File > Open of ``<stem>_objects.tif`` or ``<stem>_prob.tif`` gives a
labels or image layer at the pixel size and z spacing the file records, which napari's own
TIFF reader leaves out. A file is unetlab's when it carries a prediction record
(:func:`unetlab.inference.records.tiff_record`); any other gives None, and napari tries its
other readers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from unetlab.data.tiffmeta import PixelSize, read_pixel_size, series_axes
from unetlab.inference.records import tiff_record

#: the output names the reader is offered (``filename_patterns`` of ``napari.yaml``): the
#: class maps are ``<stem>.tif``, a name any TIFF has, so napari would ask for a reader for
#: every TIFF
PATTERNS = ("*_objects.tif", "*_prob.tif")

LayerTuple = tuple[np.ndarray, dict, str]


def get_reader(path) -> Callable[[object], list[LayerTuple]] | None:
    """npe2's reader command: :func:`read_output` for one unetlab output TIFF, else None (a
    list of paths, a folder, another program's TIFF)."""
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        return None
    if series_axes(path) is None or tiff_record(path) is None:
        return None
    return read_output


def read_output(path) -> list[LayerTuple]:
    """napari layer-data tuples of a unetlab output TIFF (``path``, or a one-path list):
    object ids (``<stem>_objects.tif``) and class maps (``<stem>.tif``) a labels layer,
    probabilities (``<stem>_prob.tif``) an image layer split by class (its C axis), named by
    the record's class names; each at the file's scale (:func:`axis_scale`), the record in
    ``metadata["unetlab_prediction"]``."""
    path = Path(path[0] if isinstance(path, (list, tuple)) else path)
    letters, shape = series_axes(path) or ("", ())
    data, multiscale = pixels(path)
    scale = axis_scale(letters, read_pixel_size(path))
    stem = path.name[: -len(path.suffix)]
    record = tiff_record(path) or {}
    kwargs = {"metadata": {"unetlab_prediction": record}}
    if multiscale:
        kwargs["multiscale"] = True
    if stem.endswith("_prob") and "C" in letters:
        c = letters.index("C")
        names = class_names(record, shape[c])
        kwargs |= {"channel_axis": c, "name": [f"{stem} {n}" for n in names]}
        del scale[c]
        return [(data, {**kwargs, "scale": tuple(scale)}, "image")]
    full = data[0] if multiscale else data
    kind = "image" if np.dtype(full.dtype).kind == "f" else "labels"
    return [(data, {**kwargs, "name": stem, "scale": tuple(scale)}, kind)]


def pixels(path: Path) -> tuple[np.ndarray | list, bool]:
    """(the pixels of the TIFF at ``path``, whether they are a pyramid): a one-level file
    read whole; a pyramid (a large image's OME-TIFF) as lazy Zarr views of its levels, full
    resolution first (napari's multiscale data), the file left open for them."""
    import tifffile
    import zarr

    tif = tifffile.TiffFile(path)
    try:
        series = tif.series[0]
        if len(series.levels) == 1:
            with tif:
                return series.asarray(), False
        levels = range(len(series.levels))
        return [zarr.open(series.aszarr(level=i), mode="r") for i in levels], True
    except BaseException:
        tif.close()
        raise


def axis_scale(letters: str, pixel: PixelSize | None) -> list[float]:
    """The µm a step along each axis of ``letters`` (tifffile's, ``ZYX``): Y and X the pixel
    size, Z the z spacing (a pixel's where the file records none), others 1."""
    size = pixel.size if pixel is not None else (1.0, 1.0)
    spacing = pixel.spacing if pixel is not None and pixel.spacing else size[0]
    steps = {"Y": size[0], "X": size[1], "Z": spacing}
    return [float(steps.get(a, 1.0)) for a in letters]


def class_names(record: dict, count: int) -> list[str]:
    """The names of ``count`` probability channels: the record's ``class_names`` where it
    has one for each, else ``class 0``, ``class 1``, ..."""
    names = record.get("class_names")
    if isinstance(names, list) and len(names) == count:
        return [str(n) for n in names]
    return [f"class {i}" for i in range(count)]
