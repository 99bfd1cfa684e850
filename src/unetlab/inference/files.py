"""Predict image files and write the results: label images, probabilities, overlays.

:func:`predict_file` reads a PNG/JPEG/TIFF (also multi-page) and writes label images,
probabilities and overlays; images above ``LARGE_PIXELS`` that are plain TIFFs are read tile
by tile from the file and their outputs written into memory-mapped TIFFs, so memory is bounded
by the tiles, not the image.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from unetlab.data.classes import class_colours
from unetlab.data.io import (
    TIFF_SUFFIXES,
    atomic_path,
    read_stack,
    write_csv,
    write_png,
    write_tiff,
)
from unetlab.data.normalize import image_stats
from unetlab.data.tiffmeta import imagej_kwargs, read_pixel_size
from unetlab.errors import ImageReadError, UnetlabError
from unetlab.inference.objects import (
    ObjectOptions,
    TableSums,
    id_dtype,
    object_table,
    objects_from_probabilities,
    objects_in_bands,
)
from unetlab.inference.predict import (
    encode_labels,
    fit_channels,
    inference_session,
    labels_from_probabilities,
    predict_image,
    probability_fn,
)
from unetlab.inference.sizing import choose_tiling
from unetlab.inference.tiling import iter_tiled_rows
from unetlab.plots import draw_outlines, overlay, palette
from unetlab.runtime import check_precision

log = logging.getLogger(__name__)

#: Images with more pixels per page than this are predicted from a memory map when they are
#: plain (uncompressed) TIFFs, and their outputs are written into memory-mapped TIFFs.
LARGE_PIXELS = 2**26
#: The streaming path's activation budget: its output rows, label conversion and the pages of
#: the memory-mapped files take the rest of a ~2.5 GB process (measured: 20k x 20k, "small"
#: preset; a 2.0 GB budget peaked at 3.2 GB).
STREAM_BUDGET = 1.2e9
#: Fewest rows of a band that the streaming path turns into objects (a band also gets a
#: margin of context above and below: ``ObjectOptions.margin``).
OBJECT_BAND_ROWS = 256
#: Rows read at a time when object ids are renumbered and measured after streaming.
STREAM_ROWS = 1024


# --- files --------------------------------------------------------------------------------


def label_colours(model, *, color: bool, values: bool) -> np.ndarray | None:
    """The palette a label PNG is written with: the data set's colours when the model records
    a palette (the colour of each class's mask value, or the whole palette when ``values``
    writes mask values), else the VOC colour map for ``color``, else None (grey)."""
    recorded = getattr(model, "palette", None)
    if recorded is not None and model.label_values is not None:
        if values:
            return np.asarray(recorded, np.uint8)
        return class_colours(recorded, model.label_values)
    return palette(max(model.num_classes, 2)) if color else None


def output_paths(out_dir: Path, stem: str, *, stack: bool) -> dict[str, Path]:
    """Where the outputs of one input go: ``labels``, ``probabilities``, ``overlay``,
    ``objects`` (object ids) and ``table`` (one row per object)."""
    ext = ".tif" if stack else ".png"
    return {
        "labels": out_dir / f"{stem}{ext}",
        "probabilities": out_dir / f"{stem}_prob.tif",
        "overlay": out_dir / f"{stem}_overlay{ext}",
        "objects": out_dir / f"{stem}_objects.tif",
        "table": out_dir / f"{stem}_objects.csv",
    }


def _tiff_info(path: Path):
    """(shape, axes, dtype, data offset or None) of a TIFF's first series, without reading."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            compressed = any(p.compression != 1 for p in series.pages[:1] if p is not None)
            offset = None if compressed else series.dataoffset
            return tuple(series.shape), series.axes, series.dtype, offset
    except (OSError, ValueError, IndexError, tifffile.TiffFileError) as exc:
        raise ImageReadError(
            f"{path}: cannot read this TIFF ({type(exc).__name__}: {exc})"
        ) from exc


def is_large(path: Path, *, threshold: int = LARGE_PIXELS) -> bool:
    """True for a plain (uncompressed, contiguous) TIFF of more than ``threshold`` px a page."""
    if path.suffix.lower() not in TIFF_SUFFIXES:
        return False
    shape, axes, _, offset = _tiff_info(path)
    # pages of (Y, X) or interleaved (Y, X, S) pixels only; planar colour is read whole
    plain = axes.endswith("YX") or axes.endswith("YXS")
    if offset is None or not plain or any(a in "SC" for a in axes[: axes.index("Y")]):
        return False
    return shape[axes.index("Y")] * shape[axes.index("X")] > threshold


def predict_file(
    model: torch.nn.Module,
    path: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    color: bool = False,
    label_values: bool = False,
    save_probabilities: bool = False,
    draw_overlay: bool = False,
    tile_size: int | None = None,
    batch_size: int | None = None,
    blend: str = "mean",
    tta: bool | Sequence[str] = False,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    progress: Callable[[int], None] | None = None,
    large_threshold: int = LARGE_PIXELS,
    objects: ObjectOptions | None = None,
) -> list[Path]:
    """Predict one image file and write its outputs into ``out_dir``; return their paths.

    ``<stem>.png``: labels of the input's size, class indices 0..K-1 (``label_values``: the
    model's mask values instead; ``color``: a palette PNG; a model trained on palette masks
    always writes a palette PNG in its data set's colours). Multi-page inputs and images
    above ``large_threshold`` px give ``<stem>.tif`` instead. ``save_probabilities``:
    ``<stem>_prob.tif``, float32 (K, H, W) or (P, K, H, W). ``draw_overlay``:
    ``<stem>_overlay.png`` (``.tif`` for stacks; skipped for large images). ``objects``
    (e.g. ``ObjectOptions.for_model(model)``): also ``<stem>_objects.tif``, one id per object
    (uint16, uint32 past 65,535 objects; a stack gives one page per page, ids per page) and
    ``<stem>_objects.csv`` (:func:`unetlab.inference.objects.object_table`, with a ``page``
    column for stacks), and object outlines in the overlay. All writes are atomic. Raises
    ImageReadError/UnetlabError for unreadable or unfit images.
    """
    path, out_dir = Path(path), Path(out_dir)
    if color and label_values:
        raise UnetlabError("choose one of color (palette of class indices) and label_values")
    values = model.label_values if label_values else None
    if label_values and values is None:
        raise UnetlabError(
            f"{path.name}: the model records no label values; write class indices instead"
        )
    options = dict(
        tile_size=tile_size, batch_size=batch_size, blend=blend, tta=tta, precision=precision,
        progress=progress,
    )  # fmt: skip
    if is_large(path, threshold=large_threshold):
        if draw_overlay:
            log.warning("%s: no overlay for a large image (it would not fit in memory)", path.name)
        return _predict_large(
            model, path, out_dir, values=values, color=color, probabilities=save_probabilities,
            device=device, objects=objects, **options,
        )  # fmt: skip
    stack = read_stack(path)
    pages = [fit_channels(page, model.in_channels, name=path.name) for page in stack]
    is_stack = stack.shape[0] > 1
    meta = _tiff_meta(model, path, values)
    paths = output_paths(out_dir, path.stem, stack=is_stack)
    probs, labels, ids = [], [], []
    for page in pages:
        p = predict_image(model, page, device=device, **options)
        labels.append(labels_from_probabilities(p))
        if objects is not None:
            ids.append(objects_from_probabilities(p, objects))
        if save_probabilities:
            probs.append(p)
        else:
            del p
    written = [paths["labels"]]
    colours = label_colours(model, color=color, values=values is not None)
    out = [encode_labels(lab, values) for lab in labels]
    if is_stack:
        _write_label_stack(paths["labels"], np.stack(out), colours, meta)
    else:
        write_png(paths["labels"], out[0], palette=colours)
    if save_probabilities:
        prob_meta = _probability_meta(meta, probs[0].shape[0], len(probs), is_stack)
        write_tiff(paths["probabilities"], np.stack(probs) if is_stack else probs[0],
                   photometric="minisblack", **prob_meta)  # fmt: skip
        written.append(paths["probabilities"])
    if objects is not None:
        written += _write_objects(paths, stack, ids)
    if draw_overlay:
        drawn = [
            overlay(page, lab, colours=label_colours(model, color=True, values=False))
            for page, lab in zip(stack, labels)
        ]
        drawn = [draw_outlines(d, i) for d, i in zip(drawn, ids)] if ids else drawn
        if is_stack:
            write_tiff(paths["overlay"], np.stack(drawn), photometric="rgb")
        else:
            write_png(paths["overlay"], drawn[0])
        written.append(paths["overlay"])
    return written


def _write_objects(paths: dict[str, Path], stack: np.ndarray, ids: list[np.ndarray]) -> list[Path]:
    """``<stem>_objects.tif`` and ``<stem>_objects.csv`` of the pages' object ids."""
    dtype = id_dtype(max(int(i.max(initial=0)) for i in ids))
    write_tiff(paths["objects"], np.stack(ids).astype(dtype) if len(ids) > 1 else ids[0].astype(dtype),
               photometric="minisblack")  # fmt: skip
    tables = [object_table(i, page) for i, page in zip(ids, stack)]
    if len(tables) > 1:
        tables = [{"page": np.full(len(t["id"]), p), **t} for p, t in enumerate(tables)]
    write_csv(paths["table"], {k: np.concatenate([t[k] for t in tables]) for k in tables[0]})
    return [paths["objects"], paths["table"]]


def _write_label_stack(path: Path, labels: np.ndarray, colours: np.ndarray | None,
                       meta: dict) -> None:  # fmt: skip
    if colours is None:
        write_tiff(path, labels, photometric="minisblack",
                   **imagej_kwargs(labels.dtype, axes="ZYX", **meta))  # fmt: skip
        return
    colormap = np.zeros((3, 256), dtype=np.uint16)
    colormap[:, : len(colours)] = colours.T.astype(np.uint16) * 257
    write_tiff(path, labels.astype(np.uint8), photometric="palette", colormap=colormap,
               **imagej_kwargs(np.uint8, axes="ZYX", **meta))  # fmt: skip


def _tiff_meta(model, path: Path, values) -> dict:
    """Class names, mask values and the input's pixel size for TIFF outputs (data.tiffmeta)."""
    classes = list(getattr(model, "classes", []))[: max(model.num_classes, 2)]
    return {"classes": classes, "values": values, "pixel": read_pixel_size(path)}


def _probability_meta(meta: dict, k: int, pages: int, stack: bool) -> dict:
    """ImageJ keywords of a (K, H, W) or (P, K, H, W) float32 probability TIFF: channel labels
    (a one-class net's single channel is its foreground, the last class name)."""
    axes = "ZCYX" if stack else "CYX"
    classes = meta["classes"][-k:]
    return imagej_kwargs(np.float32, axes=axes, classes=classes, pixel=meta["pixel"],
                         channel_labels=pages)  # fmt: skip


# --- images larger than memory ------------------------------------------------------------


class _MappedTiff:
    """A plain TIFF's pixels as (P, H, W, C) rows read on demand: each read maps only the
    rows it needs and unmaps them, so resident memory stays at the tile being read."""

    def __init__(self, path: Path):
        shape, axes, dtype, offset = _tiff_info(path)
        if offset is None:
            raise ImageReadError(f"{path}: compressed TIFF; it cannot be read tile by tile")
        if axes[-1] == "S" or (axes[-1] not in "YX"):
            pages, (h, w, c) = int(np.prod(shape[:-3], dtype=np.int64)), shape[-3:]
        else:
            pages, (h, w), c = int(np.prod(shape[:-2], dtype=np.int64)), shape[-2:], 1
        self.path, self.dtype, self.offset = path, np.dtype(dtype), offset
        self.shape = (pages, h, w, c)

    def page(self, index: int) -> _MappedPage:
        return _MappedPage(self, index)


class _MappedPage:
    """One page of a :class:`_MappedTiff` as an (H, W, C) array-like for the tile reader."""

    ndim = 3

    def __init__(self, tiff: _MappedTiff, index: int):
        self.tiff, self.index = tiff, index
        self.shape, self.dtype = tiff.shape[1:], tiff.dtype

    def __getitem__(self, key) -> np.ndarray:
        rows, cols = (
            (key, slice(None)) if not isinstance(key, tuple) else (key + (slice(None),))[:2]
        )
        _, h, w, c = self.tiff.shape
        r0, r1, _ = rows.indices(h)
        row_bytes = w * c * self.dtype.itemsize
        start = self.tiff.offset + (self.index * h + r0) * row_bytes
        mapped = np.memmap(self.tiff.path, self.dtype, "r", offset=start,
                           shape=(max(r1 - r0, 0), w, c))  # fmt: skip
        block = np.array(mapped[:, cols])
        del mapped
        return block


class _RowWriter:
    """Write row blocks into a memory-mapped TIFF created with ``shape`` (P, [K,] H, W),
    mapping only the rows being written."""

    def __init__(self, path: Path, shape: tuple[int, ...], dtype, **tiff_kwargs):
        import tifffile

        created = tifffile.memmap(path, shape=shape, dtype=dtype, **tiff_kwargs)
        self.offset = created.offset
        created.flush()
        del created
        self.path, self.shape, self.dtype = path, shape, np.dtype(dtype)

    def bands(self, rows: int) -> Iterator[tuple[int, int, np.ndarray]]:
        """(plane, y, (r, W) rows) of every plane, ``rows`` rows at a time, read back."""
        h, w = self.shape[-2:]
        planes = int(np.prod(self.shape[:-2], dtype=np.int64))
        for plane in range(planes):
            for y in range(0, h, rows):
                r = min(rows, h - y)
                start = self.offset + (plane * h + y) * w * self.dtype.itemsize
                mapped = np.memmap(self.path, self.dtype, "r", offset=start, shape=(r, w))
                yield plane, y, np.array(mapped)
                del mapped

    def write(self, plane: int, y: int, rows: np.ndarray) -> None:
        """``rows`` (r, W) into plane ``plane`` (page, or page * K + class) at row ``y``."""
        h, w = self.shape[-2:]
        start = self.offset + (plane * h + y) * w * self.dtype.itemsize
        mapped = np.memmap(self.path, self.dtype, "r+", offset=start, shape=rows.shape)
        mapped[:] = rows
        mapped.flush()
        del mapped


def _predict_large(
    model, path: Path, out_dir: Path, *, values, color, probabilities, device, objects,
    tile_size, batch_size, blend, tta, precision, progress,
) -> list[Path]:  # fmt: skip
    tiff = _MappedTiff(path)
    pages, h, w, c = tiff.shape
    if c != model.in_channels and c != 1:
        raise UnetlabError(
            f"{path.name}: has {c} channels but the model expects {model.in_channels}; "
            "convert the image or use a model trained on such images"
        )
    k = max(model.num_classes, 1)
    paths = output_paths(out_dir, path.stem, stack=True)
    label_dtype = encode_labels(np.zeros(1, np.uint8), values).dtype
    shape = (pages, h, w) if pages > 1 else (h, w)
    meta = _tiff_meta(model, path, values)
    log.info("%s: %d x %d px, large image: streaming to %s", path.name, w, h, paths["labels"].name)
    fn = probability_fn(model, precision=precision, tta=tta)
    grid, batch_size = choose_tiling(
        model, (h, w), tile_size=tile_size, batch_size=batch_size, budget=STREAM_BUDGET
    )
    with contextlib.ExitStack() as stack:
        label_tmp = stack.enter_context(atomic_path(paths["labels"]))
        kwargs = {"photometric": "minisblack"}
        if color:
            colormap = np.zeros((3, 256), dtype=np.uint16)
            colormap[:, : max(k, 2)] = palette(max(k, 2)).T.astype(np.uint16) * 257
            kwargs = {"photometric": "palette", "colormap": colormap}
        axes = "ZYX" if pages > 1 else "YX"
        kwargs.update(imagej_kwargs(label_dtype, axes=axes, **meta))
        labels_out = _RowWriter(label_tmp, shape, label_dtype, **kwargs)
        probs_out = None
        if probabilities:
            prob_tmp = stack.enter_context(atomic_path(paths["probabilities"]))
            probs_shape = (pages, k, h, w) if pages > 1 else (k, h, w)
            probs_out = _RowWriter(prob_tmp, probs_shape, np.float32, photometric="minisblack",
                                   **_probability_meta(meta, k, pages, pages > 1))  # fmt: skip
        objects_out = None
        if objects is not None:  # provisional ids first, renumbered into the output below
            ids_tmp = out_dir / f".{path.stem}_objects.{os.getpid()}.ids.tif"
            stack.callback(ids_tmp.unlink, missing_ok=True)
            objects_out = _RowWriter(ids_tmp, shape, np.uint32, photometric="minisblack")
        dev = stack.enter_context(inference_session(model, device))
        check_precision(precision, dev)
        for p in range(pages):
            page = tiff.page(p)
            image = page if c == model.in_channels else _Repeated(page, model.in_channels)
            stats = image_stats(image, model.normalization)
            rows = iter_tiled_rows(
                fn, image, grid, batch_size=batch_size, blend=blend, stats=stats, device=dev,
                progress=progress,
            )  # fmt: skip
            rows = _writing(rows, p, labels_out, probs_out, values)
            if objects_out is None:
                collections.deque(rows, maxlen=0)  # written as they pass
            else:
                _stream_objects(rows, p, h, objects, model.objects, objects_out)
        if objects_out is not None:
            _renumber_objects(objects_out, paths, tiff)
    written = [paths["labels"]]
    if probabilities:
        written.append(paths["probabilities"])
    return written + ([paths["objects"], paths["table"]] if objects is not None else [])


def _stream_objects(rows, page: int, height: int, options, record, out: _RowWriter) -> None:
    """Provisional object ids of a page's probability rows into ``out`` (uint32)."""
    margin = options.margin(record)
    band_rows = max(2 * margin, OBJECT_BAND_ROWS)
    for y, ids in objects_in_bands(rows, height=height, options=options, margin=margin,
                                   band_rows=band_rows):  # fmt: skip
        out.write(page, y, ids.astype(np.uint32))


def _writing(rows, page: int, labels_out, probs_out, values):
    """The (y, probability block) rows of a page, passed on once their labels (and
    probabilities) are written."""
    for y, block in rows:
        labels_out.write(page, y, encode_labels(labels_from_probabilities(block), values))
        if probs_out is not None:
            k = block.shape[0]
            for i in range(k):
                probs_out.write(page * k + i, y, block[i])
        yield y, block


def _renumber_objects(provisional: _RowWriter, paths: dict[str, Path], tiff: _MappedTiff) -> None:
    """Provisional ids (unique, with gaps) -> ids 1..n per page in ``paths["objects"]``
    (uint16 up to 65,535 objects a page, else uint32) and the per-object table in
    ``paths["table"]``; two passes over row bands of ``STREAM_ROWS`` rows."""
    pages, h, w, _ = tiff.shape
    present = [set() for _ in range(pages)]
    for p, _, rows in provisional.bands(STREAM_ROWS):
        present[p].update(np.unique(rows).tolist())
    luts = [np.array(sorted(found | {0}), dtype=np.int64) for found in present]
    dtype = id_dtype(max(len(lut) - 1 for lut in luts))
    sums = [TableSums(len(lut) - 1) for lut in luts]
    shape = provisional.shape
    with atomic_path(paths["objects"]) as tmp:
        out = _RowWriter(tmp, shape, dtype, photometric="minisblack")
        for p, y, rows in provisional.bands(STREAM_ROWS):
            ids = np.searchsorted(luts[p], rows)
            out.write(p, y, ids.astype(dtype))
            image = tiff.page(p)[y : y + rows.shape[0]]
            sums[p].add(y, ids, image[..., 0] if image.shape[-1] == 1 else image)
    tables = [s.table(height=h, width=w) for s in sums]
    if pages > 1:
        tables = [{"page": np.full(len(t["id"]), p), **t} for p, t in enumerate(tables)]
    write_csv(paths["table"], {k: np.concatenate([t[k] for t in tables]) for k in tables[0]})


class _Repeated:
    """A grey (H, W, 1) array-like repeated to ``channels`` channels on read."""

    ndim = 3

    def __init__(self, page, channels: int):
        self.page, self.channels = page, channels
        self.shape, self.dtype = (*page.shape[:2], channels), page.dtype

    def __getitem__(self, key) -> np.ndarray:
        block = self.page[key]
        return np.repeat(block, self.channels, axis=-1)
