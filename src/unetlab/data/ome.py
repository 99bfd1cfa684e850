"""Large outputs written band by band: pyramidal OME-Zarr folders and tiled OME-TIFF files.

An output is first *staged*: a Zarr (v2) group beside the final path (``.<name>.partial``),
whose full-resolution array ``0`` is filled band by band by :class:`RowSink` (one process
or several, each writing whole chunks of its own rows). :func:`finish` then adds the pyramid
(each level halves rows and columns of the one before, read and written band by band:
nearest neighbour for labels, 2 x 2 means for probabilities) and publishes it: the staged
group renamed to an OME-Zarr (NGFF 0.4) folder, or copied tile by tile into a tiled,
deflate-compressed, pyramidal (SubIFDs) OME-TIFF written atomically. The pixel size travels
into the OME metadata (and the TIFF resolution tags). Memory stays at a band of chunks.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path, remove_tree
from unetlab.data.mrc import is_mrc_name, mrc_header, write_label_blocks
from unetlab.data.nifti import is_nifti, read_header
from unetlab.data.nodata import nodata_tag
from unetlab.data.tiff_files import is_tiff_name
from unetlab.data.tiffmeta import PixelSize, in_nanometres

#: Zarr chunks and TIFF tiles are CHUNK x CHUNK px; pyramids stop at a level within one chunk.
CHUNK = 512
FORMATS = ("ome-tiff", "ome-zarr")
#: the OME-Zarr group attribute that places a georeferenced input's output on the map
GEO_KEY = "unetlab_geo"


@dataclass(frozen=True)
class OutputSpec:
    """One large output: ``shape`` of its full-resolution array, ``axes`` one lower-case
    NGFF letter per axis (``c`` channels/classes, ``z`` pages, ``y``, ``x``; last two ``yx``),
    ``dtype``, ``pixel_size`` ((y, x) micrometres or None), ``z_spacing`` (micrometres
    between pages, or None), ``frame_seconds`` (seconds between time points of a ``t`` axis,
    or None: a time-lapse's pages are ``t``, or ``t`` and ``z``, not depth), ``downsample`` (``"nearest"`` for
    labels, ``"mean"`` for probabilities), ``colormap`` ((3, 256) uint16 TIFF palette or None),
    ``classes`` (label value -> class name), ``channels`` (names along ``c``), ``record``
    (what made it: the JSON of :func:`unetlab.inference.records.prediction_record`, written
    into the OME ``Description`` and the Zarr attributes ``unetlab.prediction``),
    ``geotags``: the input's GeoTIFF tags (:func:`unetlab.data.geotiff.geotags`, tifffile
    ``extratags``) where the output is on its pixel grid, written unchanged on an OME-TIFF's
    full-resolution IFD (GDAL and QGIS read that one; the pyramid's SubIFDs are its
    overviews); an OME-Zarr has no place for them, so ``geo``: where its array ``"0"`` lies
    on the map (:func:`unetlab.data.world_file.placement`: its affine transform and CRS),
    written into its group's attributes as ``unetlab_geo`` (:data:`GEO_KEY`), or None.
    ``nodata``: a label image's value on the input's pixels that are no sample, named by an
    OME-TIFF's GDAL_NODATA tag (42113) and an OME-Zarr's ``unetlab`` attribute ``nodata``
    and arrays' ``fill_value`` (which GDAL's Zarr driver reads as nodata), or None.
    ``page_order``: the order the input's pages run over the ``t`` and ``z`` axes where it
    is not theirs (``"zt"``: a Z, T stack's page 1 is z 0, t 1, written at t 1, z 0);
    "": theirs.
    """

    shape: tuple[int, ...]
    axes: str
    dtype: np.dtype
    pixel_size: tuple[float, float] | None = None
    downsample: str = "nearest"
    colormap: np.ndarray | None = None
    classes: dict[int, str] | None = None
    channels: tuple[str, ...] = ()
    z_spacing: float | None = None
    record: str | None = None
    geotags: tuple = ()
    frame_seconds: float | None = None
    geo: dict | None = None
    nodata: int | None = None
    page_order: str = ""

    def place(self, page: int, rows: slice) -> tuple:
        """The index of ``rows`` (all columns, all classes) of page ``page``: pages run over
        the ``t`` and ``z`` axes in their order (``tz``: page 5 of 3 z planes is t 1, z 2),
        or in ``page_order`` (``zt``: page 5 of 3 time points is z 1, t 2)."""
        lead = [i for i, a in enumerate(self.axes) if a in "tz"]
        if self.page_order:
            lead = [self.axes.index(a) for a in self.page_order if a in self.axes]
        at = np.unravel_index(page, [self.shape[i] for i in lead]) if lead else ()
        parts = {"c": slice(None), "y": rows, "x": slice(None)}
        parts.update({self.axes[i]: int(j) for i, j in zip(lead, at)})
        return tuple(parts[a] for a in self.axes)


def staging_path(final: str | os.PathLike) -> Path:
    """Where ``final`` is staged (the same name in every process)."""
    final = Path(final)
    return final.parent / f".{final.name}.partial"


def level_shapes(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Shapes of the pyramid levels of a full-resolution ``shape`` (..., H, W): rows and
    columns halved (rounded up) until both fit in one chunk."""
    shapes = [tuple(shape)]
    while max(shapes[-1][-2:]) > CHUNK:
        *lead, h, w = shapes[-1]
        shapes.append((*lead, -(-h // 2), -(-w // 2)))
    return shapes


def create(stage: Path, spec: OutputSpec):
    """A new staged group at ``stage`` (leftovers of an interrupted run are removed) with
    its empty full-resolution array; returns the array."""
    import zarr

    if stage.exists():
        remove_tree(stage)
    group = zarr.open_group(stage, mode="w", zarr_format=2)
    return _new_level(group, "0", spec.shape, spec.dtype, spec.nodata)


def _new_level(group, name: str, shape, dtype, nodata: int | None = None):
    import numcodecs

    chunks = (*(1 for _ in shape[:-2]), *(min(CHUNK, s) for s in shape[-2:]))
    return group.create_array(
        name,
        shape=shape,
        chunks=chunks,
        dtype=dtype,
        fill_value=0 if nodata is None else nodata,
        compressors=numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE),
    )


def open_level(stage: Path, level: int = 0):
    """A staged level for writing."""
    import zarr

    return zarr.open_array(stage / str(level), mode="r+", zarr_format=2)


class RowSink:
    """Collects the rows of one page that arrive in order as (..., rows, W) blocks and
    writes them to ``array`` chunk row by chunk row; rows outside ``[start, stop)`` are
    dropped, so processes that own disjoint chunk rows never write the same chunk."""

    def __init__(self, array, spec: OutputSpec, page: int, start: int, stop: int):
        self.array, self.spec, self.page = array, spec, page
        self.cursor, self.stop = start, stop
        self._pending: list[np.ndarray] = []
        self._top = start

    def write(self, y: int, block: np.ndarray) -> None:
        """Rows ``y .. y + rows - 1`` of the page; must continue where the last block ended."""
        lo, hi = max(y, self.cursor), min(y + block.shape[-2], self.stop)
        if hi <= lo:
            return
        if lo != self.cursor:
            raise ValueError(f"rows arrive out of order: expected row {self.cursor}, got {lo}")
        self._pending.append(np.asarray(block[..., lo - y : hi - y, :]))
        self.cursor = hi
        edge = min(self.stop, (self._top // CHUNK + 1) * CHUNK)
        while self.cursor >= edge and self._top < self.stop:
            rows = np.concatenate(self._pending, axis=-2)
            n = edge - self._top
            self.array[self.spec.place(self.page, slice(self._top, edge))] = rows[..., :n, :]
            self._pending = [rows[..., n:, :]] if rows.shape[-2] > n else []
            self._top = edge
            edge = min(self.stop, edge + CHUNK)

    @property
    def flushed(self) -> int:
        """The rows before it are written to ``array`` (whole chunk rows)."""
        return self._top

    def close(self) -> None:
        if self._top < self.stop:
            raise ValueError(f"rows {self._top}..{self.stop - 1} were never written")


def chunk_rows(height: int, parts: int, part: int) -> tuple[int, int]:
    """Rows ``[start, stop)`` of part ``part`` of ``parts`` when ``height`` rows are shared
    out in whole chunks (CHUNK rows), as evenly as they go; a part may be empty."""
    chunks = -(-height // CHUNK)
    first, last = chunks * part // parts, chunks * (part + 1) // parts
    return min(height, first * CHUNK), min(height, last * CHUNK)


# --- pyramid and publishing ---------------------------------------------------------------


def downsample(block: np.ndarray, how: str) -> np.ndarray:
    """(..., h, w) -> (..., ceil(h / 2), ceil(w / 2)): every other pixel (``"nearest"``) or
    the mean of each 2 x 2 block, edge rows/columns repeated for odd sizes (``"mean"``)."""
    if how == "nearest":
        return block[..., ::2, ::2]
    if how != "mean":
        raise ValueError(f"downsample must be 'nearest' or 'mean', not {how!r}")
    h, w = block.shape[-2:]
    pad = [(0, 0)] * (block.ndim - 2) + [(0, h % 2), (0, w % 2)]
    x = np.pad(block.astype(np.float32), pad, mode="edge")
    x = x[..., 0::2, :] + x[..., 1::2, :]
    return ((x[..., 0::2] + x[..., 1::2]) / 4).astype(block.dtype)


@dataclass(frozen=True)
class Level:
    """The work on one level of an output's pyramid ("pyramid level 2 of levels 0 to 4"):
    ``step`` ("pyramid level", "writing level"), its ``level`` and the output's ``last``,
    numbered from 0 (full resolution) as ``--level`` reads them (the lines said "pyramid
    levels 1 to 3", then "writing levels 1 to 4" of one 4-level output: s54); the numbers
    given to the progress lines, which fold a step's levels into one line, not read back
    from the text."""

    step: str
    level: int
    last: int

    def __str__(self) -> str:
        if not self.last:
            return f"{self.step} 0 (its only level)"
        return f"{self.step} {self.level} of levels 0 to {self.last}"

    def named(self, name: str) -> Level:
        """The same work of the output ``name`` ("big.tif: pyramid level 2 of levels 0 to 4")."""
        return Level(f"{name}: {self.step}", self.level, self.last)


@dataclass(frozen=True)
class Step:
    """Work that a bar says in ``short`` words, whole (where a log line's ``line`` is too
    long for a terminal's bar: at 80 columns the outlines' line left no room for the count
    and time left, review s65), counted by its ``unit`` ("object")."""

    short: str
    line: str
    unit: str

    def __str__(self) -> str:
        return self.line

    def named(self, name: str) -> Step:
        """The same work of the output ``name``, which its line names ("a.geojson: ...")."""
        return Step(self.short, f"{name}: {self.line}", self.unit)


#: ``told(what, done, total)``: ``done`` of the ``total`` bands of ``what`` (a
#: :class:`Level` of a pyramid's; a :class:`Step`'s units) are written
Told = Callable[[str | Level | Step, int, int], None]


def build_pyramid(stage: Path, spec: OutputSpec, told: Told | None = None) -> int:
    """Write levels 1, 2, ... of a staged output from the level before, band by band;
    returns the number of levels. ``told(what, done, total)``: after each band."""
    import zarr

    group = zarr.open_group(stage, mode="r+", zarr_format=2)
    shapes = level_shapes(spec.shape)
    for level in range(1, len(shapes)):
        bands = _counted(told, Level("pyramid level", level, len(shapes) - 1), shapes[level])
        source, target = (
            group[str(level - 1)],
            _new_level(group, str(level), shapes[level], spec.dtype, spec.nodata),
        )
        for lead in np.ndindex(*shapes[level][:-2]):
            for top in range(0, shapes[level][-2], CHUNK):
                rows = source[(*lead, slice(2 * top, 2 * (top + CHUNK)), slice(None))]
                target[(*lead, slice(top, top + CHUNK), slice(None))] = downsample(
                    rows, spec.downsample
                )
                bands()
    return len(shapes)


def _counted(told: Told | None, what: str | Level, shape: tuple[int, ...]) -> Callable[[], None]:
    """A function to call after each band of ``CHUNK`` rows of an array of ``shape`` is
    done, which tells ``told`` how many of them are (a no-op where ``told`` is None)."""
    if told is None:
        return lambda: None
    return counter(told, what, math.prod(shape[:-2]) * -(-shape[-2] // CHUNK))


def counter(told: Told, what: str | Level, total: int) -> Callable[[], None]:
    """A function to call after each of the ``total`` steps of ``what``: tells ``told``
    how many are done (and, now, that none is)."""
    count = itertools.count(1)
    told(what, 0, total)
    return lambda: told(what, next(count), total)


#: NGFF's names of the units :func:`output_sizes` gives
NGFF_UNITS = {"um": "micrometer", "nm": "nanometer"}


def ngff_metadata(spec: OutputSpec, levels: int, name: str) -> dict:
    """OME-Zarr (NGFF 0.4) ``multiscales`` attributes of a pyramid of ``levels`` levels; its
    Z, Y and X steps in nanometer where that small (a tomogram's Å: :func:`output_sizes`;
    s73: they said micrometer, 0.00105 for 10.5 Å), else in micrometer."""
    kinds = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}
    size, z, unit = output_sizes(spec)
    axes = []
    for a in spec.axes:
        axis = {"name": a, "type": kinds[a]}
        if (a in "yx" and size is not None) or (a == "z" and z):
            axis["unit"] = NGFF_UNITS[unit]
        if a == "t" and spec.frame_seconds:
            axis["unit"] = "second"
        axes.append(axis)
    size = size or (1.0, 1.0)
    steps = {"z": z or 1.0, "t": spec.frame_seconds or 1.0}
    lead = [steps.get(a, 1.0) for a in spec.axes[:-2]]
    datasets = []
    for level in range(levels):
        scale = lead + [size[0] * 2**level, size[1] * 2**level]
        datasets.append(
            {"path": str(level), "coordinateTransformations": [{"type": "scale", "scale": scale}]}
        )
    method = "nearest" if spec.downsample == "nearest" else "local_mean"
    return {
        "multiscales": [
            {"version": "0.4", "name": name, "axes": axes, "datasets": datasets, "type": method}
        ]
    }


def image_label_metadata(spec: OutputSpec) -> dict:
    """NGFF 0.4 ``image-label`` attributes of a label output: its values, with the colour of
    each where ``spec.colormap`` holds one (``--color``), so that napari and other NGFF
    readers show the classes in those colours; names go under ``properties``."""
    if spec.classes:
        values = sorted(spec.classes)
    else:  # no names: the palette's entries up to its last colour
        used = np.flatnonzero(spec.colormap.any(axis=0)) if spec.colormap is not None else []
        values = list(range(int(used[-1]) + 1)) if len(used) else []
    label = {"version": "0.4"}
    if spec.colormap is not None:
        rgb = (spec.colormap[:, values] // 257).T  # 16-bit TIFF palette -> 8-bit
        label["colors"] = [
            {"label-value": v, "rgba": [*map(int, c), 255]} for v, c in zip(values, rgb)
        ]
    if spec.classes:
        label["properties"] = [{"label-value": v, "class": n} for v, n in spec.classes.items()]
    return label


def _unetlab_attrs(spec: OutputSpec) -> dict:
    """An OME-Zarr output's ``unetlab`` attributes: ``classes``, ``nodata`` and
    ``prediction``."""
    found = {}
    if spec.classes:
        found["classes"] = {str(k): v for k, v in spec.classes.items()}
    if spec.nodata is not None:
        found["nodata"] = spec.nodata
    if spec.record:
        found["prediction"] = json.loads(spec.record)
    return found


def description(spec: OutputSpec) -> str | None:
    """An OME-TIFF output's ``Description``: its classes, one ``value: name`` a line, and
    ``unetlab prediction: <JSON>`` (what made it); None for neither."""
    lines = []
    if spec.classes:
        lines += ["unetlab classes (pixel value: name)"]
        lines += [f"{value}: {name}" for value, name in spec.classes.items()]
    if spec.record:
        lines.append(f"unetlab prediction: {spec.record}")
    return "\n".join(lines) or None


def finish(stage: Path, final: Path, spec: OutputSpec, output_format: str) -> Path:
    """Add the pyramid to a staged output and publish it at ``final`` (OME-Zarr folder or
    OME-TIFF file); the staging folder is gone afterwards."""
    seal(stage, final, spec, output_format)
    if output_format == "ome-zarr":
        replace_folder(stage, final)
    return final


def seal(
    stage: Path,
    final: Path,
    spec: OutputSpec,
    output_format: str,
    *,
    tiff: Path | None = None,
    told: Told | None = None,
) -> None:
    """Complete a staged output for ``final``: its pyramid and metadata. An OME-TIFF is
    written to ``tiff`` (default ``final``; a temporary that a caller renames to ``final``
    with the other outputs of its input) and the staging folder removed; an OME-Zarr stays
    complete in ``stage``, for :func:`replace_folder` to put at ``final``. ``told(what,
    done, total)``: how far each pyramid level's build and write is (:data:`Told`)."""
    import zarr

    if output_format not in FORMATS:
        raise ValueError(f"output format must be one of {FORMATS}, not {output_format!r}")
    levels = build_pyramid(stage, spec, told)
    if output_format == "ome-zarr":
        group = zarr.open_group(stage, mode="r+", zarr_format=2)
        group.attrs.update(ngff_metadata(spec, levels, final.name))
        if found := _unetlab_attrs(spec):
            group.attrs["unetlab"] = found
        if spec.geo:  # its place on the map (no GeoTIFF tags in a Zarr)
            group.attrs[GEO_KEY] = spec.geo
        if spec.downsample == "nearest":  # a label image
            group.attrs["image-label"] = image_label_metadata(spec)
        if spec.channels:
            group.attrs["omero"] = {"channels": [{"label": name} for name in spec.channels]}
        return
    _write_ome_tiff(stage, final if tiff is None else tiff, spec, levels, told)
    remove_tree(stage)


def replace_folder(source: Path, final: Path) -> None:
    """Rename ``source`` to ``final``; an older ``final`` is moved aside first and removed
    after, so ``final`` is never half written."""
    old = final.parent / f".{final.name}.old"
    if old.exists():
        remove_tree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(source, final)
    if old.exists():
        remove_tree(old)


def _bands(array) -> Iterator[np.ndarray]:
    """A staged level's bands of ``CHUNK`` rows, all columns, in its order: leading indices
    (pages), then rows (a band of chunks read at a time, as its bytes follow in a file)."""
    for lead in np.ndindex(*array.shape[:-2]):
        for top in range(0, array.shape[-2], CHUNK):
            yield array[(*lead, slice(top, top + CHUNK), slice(None))]


def _tiles(array, done=lambda: None) -> Iterator[np.ndarray]:
    """A staged level's tiles in TIFF order: leading indices, then tile rows, then columns;
    ``done()`` as each row's last tile is taken."""
    w = array.shape[-1]
    for band in _bands(array):
        for left in range(0, w, CHUNK):
            if left + CHUNK >= w:  # the row's last tile handed to the writer
                done()
            yield band[:, left : left + CHUNK]


def seal_mrc(
    stage: Path, path: Path, like: Path, spec: OutputSpec, told: Told | None = None
) -> None:
    """Write the staged labels (level 0 of ``stage``, of ``spec``: the pages of the MRC file
    ``like``) as its MRC label file ``path`` (:func:`~unetlab.data.mrc.write_label_blocks`:
    the header that a whole volume's labels get, bytes and all, and the key of the spec's
    record), band by band in the file's order; the staging is kept (its caller's to remove
    once the outputs are in place), read once (s74: a wide one was read twice, its largest
    value first). Mode 0 where the staging holds bytes; a wider one's is mode 0 where its
    largest value is up to 255, 6 above, as a whole volume's.
    ``told``: how far the writing is (:data:`Told`)."""
    import zarr

    array = zarr.open_array(stage / "0", mode="r", zarr_format=2)
    if array.dtype.kind != "u":
        raise ValueError(f"MRC labels of {array.dtype}: label values are unsigned")
    top = 255 if array.dtype.itemsize == 1 else None  # a wide one's: found as it is written
    done = _counted(told, "writing", array.shape)
    key = json.loads(spec.record).get("key") if spec.record else None  # a rerun's proof
    write_label_blocks(path, _told(_bands(array), done), like, top=top, key=key)


def _told(blocks: Iterator[np.ndarray], done: Callable[[], None]) -> Iterator[np.ndarray]:
    """``blocks``, ``done()`` after each is taken."""
    for block in blocks:
        yield block
        done()


def _write_ome_tiff(
    stage: Path, final: Path, spec: OutputSpec, levels: int, told: Told | None = None
) -> None:
    import tifffile
    import zarr

    group = zarr.open_group(stage, mode="r", zarr_format=2)
    photometric = "palette" if spec.colormap is not None else "minisblack"
    common = dict(
        tile=(CHUNK, CHUNK),
        compression="zlib",
        compressionargs=_deflate_level(spec.dtype),
        photometric=photometric,
        colormap=spec.colormap,
        dtype=spec.dtype,
    )
    metadata = {"axes": spec.axes.upper()}
    if text := description(spec):
        metadata["Description"] = text
    if spec.channels:
        metadata["Channel"] = {"Name": list(spec.channels)}
    metadata.update(physical_sizes(spec))
    if spec.frame_seconds and "t" in spec.axes:
        metadata.update(TimeIncrement=spec.frame_seconds, TimeIncrementUnit="s")
    with atomic_path(final) as tmp, tifffile.TiffWriter(tmp, bigtiff=True, ome=True) as tiff:
        for level in range(levels):
            array = group[str(level)]
            done = _counted(told, Level("writing level", level, levels - 1), array.shape)
            extra = _resolution(spec.pixel_size, 2**level)
            if level == 0:
                extra.update(subifds=levels - 1, metadata=metadata)
                nodata = [] if spec.nodata is None else [nodata_tag(spec.nodata)]
                extra.update(extratags=[*spec.geotags, *nodata])
            else:
                extra.update(subfiletype=1)
            tiff.write(_tiles(array, done), shape=array.shape, **common, **extra)


def physical_sizes(spec: OutputSpec) -> dict:
    """The OME pixel sizes (Y, X; Z where it has planes) of an OME-TIFF output: in nm where
    its sides are under :data:`~unetlab.data.tiffmeta.NM_BELOW_UM` µm (a tomogram's Å:
    :func:`~unetlab.data.tiffmeta.in_nanometres`), as the ImageJ TIFFs of an image read
    whole record them (s72: streamed ones said 0.00105 µm where those said 1.05 nm), else
    in µm; {} for none."""
    size, z, unit = output_sizes(spec)
    unit, sizes = ("nm" if unit == "nm" else "µm"), {}
    if size is not None:
        sizes = dict(PhysicalSizeY=size[0], PhysicalSizeX=size[1])
        sizes.update(PhysicalSizeYUnit=unit, PhysicalSizeXUnit=unit)
    if z:
        sizes.update(PhysicalSizeZ=z, PhysicalSizeZUnit=unit)
    return sizes


def output_sizes(spec: OutputSpec) -> tuple[tuple[float, float] | None, float | None, str]:
    """(the pixel size (Y, X) or None, the z spacing or None, their unit: ``"nm"`` or
    ``"um"``) an output records: in nm where its sides are under
    :data:`~unetlab.data.tiffmeta.NM_BELOW_UM` µm (a tomogram's Å:
    :func:`~unetlab.data.tiffmeta.in_nanometres`), else in µm."""
    z = spec.z_spacing if spec.z_spacing and "z" in spec.axes else None
    if spec.pixel_size is None:
        return None, z, "um"
    pixel = in_nanometres(PixelSize(tuple(spec.pixel_size), "um", z))
    return pixel.size, pixel.spacing, pixel.unit


#: the deflate level of a float output (probabilities): level 1 writes a 2,048² slide's map
#: in 1.80 s, not 3.19 s, for 54.0 MB, not 52.9 MB (bench/slide_probabilities.py, s56),
#: its low mantissa bits being noise to any level; the same Deflate tag (Fiji, QuPath,
#: napari read it as before). Labels and ids keep zlib's default: they compress well.
FLOAT_DEFLATE_LEVEL = 1


def _deflate_level(dtype) -> dict | None:
    """tifffile's ``compressionargs`` of an output of ``dtype``: float ones at
    :data:`FLOAT_DEFLATE_LEVEL`, others zlib's default."""
    return {"level": FLOAT_DEFLATE_LEVEL} if np.dtype(dtype).kind == "f" else None


def _resolution(pixel_size: tuple[float, float] | None, factor: int) -> dict:
    """TIFF resolution tags (pixels per centimetre) for ``pixel_size`` times ``factor``."""
    if pixel_size is None:
        return {}
    return {
        "resolution": (1e4 / (pixel_size[1] * factor), 1e4 / (pixel_size[0] * factor)),
        "resolutionunit": "CENTIMETER",
    }


def output_pages(path: str | os.PathLike):
    """The pages of an OME-Zarr output folder (as :func:`ngff_metadata` writes them), from
    its attributes and its array ``0``'s header (no pixels read: it may be a large movie):
    their :class:`~unetlab.data.tiffmeta.PageAxes` (its ``t`` and ``z`` axes in the array's
    order, with the frame interval where its ``t`` axis has a unit) and the micrometres
    between its ``z`` planes (None where it records none); None where it is not one, or
    cannot be read (or its last axes are not ``y``, ``x``)."""
    import zarr

    from unetlab.data.ngff import micrometres
    from unetlab.data.tiffmeta import PageAxes

    try:
        group = zarr.open_group(path, mode="r")
        scales = group.attrs["multiscales"][0]
        axes = [a if isinstance(a, dict) else {"name": a} for a in scales["axes"]]
        shape = group[scales["datasets"][0]["path"]].shape
        step = next(t["scale"] for t in scales["datasets"][0]["coordinateTransformations"])
    except (OSError, ValueError, KeyError, IndexError, TypeError, StopIteration):
        return None
    names = "".join(str(a.get("name", "?"))[:1].lower() for a in axes)
    if not names.endswith("yx") or len(names) != len(shape) or len(step) != len(shape):
        return None
    lead = [i for i, a in enumerate(names) if a in "tz"]
    letters, sizes = "".join(names[i].upper() for i in lead), tuple(shape[i] for i in lead)
    unit = {a: (str(axes[i].get("unit") or ""), float(step[i])) for i, a in enumerate(names)}
    timing = {"finterval": unit["t"][1], "tunit": unit["t"][0]} if unit.get("t", ("",))[0] else {}
    per = micrometres(unit["z"][0]) if "z" in unit else None
    return PageAxes(letters, sizes, timing), None if per is None else per * unit["z"][1]


def output_pixels(path: str | os.PathLike) -> int:
    """Pixels of a written output (all pages, classes excluded), from its header only."""
    path = Path(path)
    if path.is_dir():
        import zarr

        group = zarr.open_group(path, mode="r")
        axes = [a["name"] for a in group.attrs["multiscales"][0]["axes"]]
        shape = group["0"].shape
        return math.prod(s for a, s in zip(axes, shape) if a != "c")
    if is_tiff_name(path):
        import tifffile

        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            return math.prod(s for a, s in zip(series.axes, series.shape) if a not in "CS")
    if is_nifti(path):
        return math.prod(read_header(path).size[:3])
    if is_mrc_name(path):
        return math.prod(mrc_header(path).shape)
    from PIL import Image

    with Image.open(path) as im:  # the header only; a small image (large ones are never PNG)
        return im.width * im.height
