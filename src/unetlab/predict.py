"""Predict images of any size with a trained U-Net, and write the results.

Two public levels (STYLE "two public levels"):

- :func:`predict_image`: a numpy image (H, W) or (H, W, C), uint8/uint16/float, normalised as
  the model records -> (K, H, W) float32 class probabilities.
- :func:`predict_tensor`: an already normalised (N, C, H, W) float tensor -> (N, K, H, W).

Both cut the image into tiles (:mod:`unetlab.tiling`): valid-padding nets are exact against
one-piece prediction, same-padding nets blend overlapping tiles. :func:`predict_file` reads
a PNG/JPEG/TIFF (also multi-page) and writes label images, probabilities and overlays;
images above ``LARGE_PIXELS`` that are plain TIFFs are read tile by tile from the file and
their outputs written into memory-mapped TIFFs, so memory is bounded by the tiles, not the
image.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from unetlab.data.io import TIFF_SUFFIXES, atomic_path, read_stack, write_png, write_tiff
from unetlab.data.normalize import image_stats
from unetlab.errors import ImageReadError, UnetlabError
from unetlab.runtime import (
    PRECISIONS,
    check_precision,
    inference_layout,
    resolve_device,
    tune_allocator,
)
from unetlab.tiling import (
    Geometry,
    TileGrid,
    iter_tiled_rows,
    largest_tile,
    tile_grid,
    tiled_apply,
    tta_names,
    with_tta,
)

log = logging.getLogger(__name__)

#: Activation memory that automatic tile and batch sizes aim for (bytes).
DEFAULT_BUDGET = 2.0e9
#: Images with more pixels per page than this are predicted from a memory map when they are
#: plain (uncompressed) TIFFs, and their outputs are written into memory-mapped TIFFs.
LARGE_PIXELS = 2**26
#: The streaming path's activation budget: its output rows, label conversion and the pages of
#: the memory-mapped files take the rest of a ~2.5 GB process (measured: 20k x 20k, "small"
#: preset; a 2.0 GB budget peaked at 3.2 GB).
STREAM_BUDGET = 1.2e9
#: On a GPU the budget is this share of its free memory (at least DEFAULT_BUDGET): larger
#: tiles waste less border and keep the GPU busier (bench/README.md).
GPU_BUDGET_SHARE = 0.25


def memory_budget(device: torch.device) -> float:
    """Activation bytes automatic tiling may use on ``device``."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return max(DEFAULT_BUDGET, GPU_BUDGET_SHARE * free)
    return DEFAULT_BUDGET


# --- tile and batch sizes -----------------------------------------------------------------


def activation_bytes_per_pixel(model) -> float:
    """Estimated peak bytes of one forward pass per input pixel (float32 activations).

    ``4 * (4 * base_channels + 64 + in_channels + num_classes)``: at the peak the top decoder
    level holds about four maps of the first level's width (skip, up-sampled map, their
    concatenation); 64 floats a pixel cover the lower levels, input, output and library
    workspace. Measured on CPU (torch 2.13, channels-last, batch 1): paper net 1,060 B/px
    (formula 1,292), "small" 440 B/px (formula 524).
    """
    c = model.config
    return 4.0 * (4 * c.base_channels + 64 + c.in_channels + c.num_classes)


def choose_tiling(
    model,
    shape: tuple[int, int],
    *,
    tile_size: int | tuple[int, int] | None = None,
    batch_size: int | None = None,
    budget: float = DEFAULT_BUDGET,
) -> tuple[TileGrid, int]:
    """The tile grid and batch size for an (H, W) image.

    ``tile_size=None`` picks the largest valid tile whose activations, plus two rows of
    output accumulators (K float32 maps as wide as the image), fit in ``budget`` bytes, but
    never more than the padded image needs; a narrow image gets tiles as long as the budget
    allows along its long side. ``batch_size=None`` fills the budget with tiles (at most 8).
    """
    geometry = Geometry.of(model)
    h, w = shape
    bpp = activation_bytes_per_pixel(model)
    if tile_size is None:
        # t^2 * bpp + 2 bands * K maps * t rows * W * 4 bytes <= budget
        lin = 2 * 4 * max(model.num_classes, 1) * w
        side = (-lin + math.sqrt(lin * lin + 4 * bpp * budget)) / (2 * bpp)
        pixels = side * side
        tile = _cheapest_tile(geometry, shape, largest_tile(geometry, pixels), pixels)
    else:
        tile = (tile_size, tile_size) if isinstance(tile_size, int) else tuple(tile_size)
        for t in tile:
            model.output_size(t)  # ValueError naming the nearest valid sizes
    grid = tile_grid(shape, geometry, tile)
    if batch_size is None:
        per_tile = grid.tile[0] * grid.tile[1] * bpp
        batch_size = int(max(1, min(len(grid), 8, budget // per_tile)))
    elif batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, not {batch_size}")
    return grid, batch_size


def _cheapest_tile(geometry: Geometry, shape, largest: int, pixels: float) -> tuple[int, int]:
    """The square-ish valid tile (each side at most ``largest``, area at most ``pixels``)
    whose grid computes the fewest input pixels in all: the biggest tile is not always best,
    since a tile that overshoots the image wastes the overhang (1024 px with the paper net:
    one 1212 tile, 1.5 MP computed, beats four 1068 tiles, 4.6 MP)."""
    h, w = shape
    fit_h = geometry.round_up(h + 2 * geometry.border)
    fit_w = geometry.round_up(w + 2 * geometry.border)
    best, best_cost = None, math.inf
    # same nets: tiles below twice the overlap would lose it (and their seams' accuracy)
    t = geometry.min_tile() if geometry.abut else geometry.round_up(2 * geometry.overlap)
    t = min(t, largest)
    while t <= largest:
        th = min(t, fit_h)
        tw = min(t if th == t else largest_tile(geometry, pixels, other=th), fit_w)
        if tw < t:  # a narrow image: spend the budget along the long side
            th = min(largest_tile(geometry, pixels, other=tw), fit_h)
        grid = tile_grid(shape, geometry, (th, tw))
        cost = len(grid) * th * tw
        if cost < best_cost or (cost == best_cost and len(grid) < best[1]):
            best, best_cost = ((th, tw), len(grid)), cost
        if t > min(fit_h, fit_w):  # past a whole side, larger t give this same tile
            break
        t += geometry.multiple
    return best[0]


# --- the model as a tile function ---------------------------------------------------------


def _check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")


def probability_fn(
    model: torch.nn.Module, *, precision: str = "fp32", tta: bool | str | Sequence[str] = False
) -> Callable[[torch.Tensor], torch.Tensor]:
    """(B, C, h, w) float -> (B, K, h', w') float32 probabilities: softmax over K >= 2
    classes, sigmoid for one. ``bf16`` runs the net under autocast and converts the logits to
    float32 before the softmax. ``tta`` averages probabilities over flips/rotations."""
    _check_precision(precision)

    def probabilities(x: torch.Tensor) -> torch.Tensor:
        if precision == "bf16":
            with torch.autocast(x.device.type, dtype=torch.bfloat16):
                logits = model(x)
        else:
            logits = model(x)
        logits = logits.float()
        return torch.sigmoid(logits) if logits.shape[1] == 1 else torch.softmax(logits, dim=1)

    names = tta_names(tta)
    return with_tta(probabilities, names) if names else probabilities


@contextlib.contextmanager
def _inference(model: torch.nn.Module, device) -> Iterator[torch.device]:
    """Model in eval mode on ``device`` in its fastest layout under inference_mode; the
    training flag and the weights' layout are restored afterwards (on a CPU, training in
    channels-last runs 2x slower, bench/README.md). A model already in the fastest layout
    is not converted at all: callers that predict many images convert it once."""
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    device = resolve_device(device)
    was_training = model.training
    layout, before = inference_layout(device), weight_layout(model)
    model.eval()
    model.to(device, memory_format=layout)
    if device.type == "cpu":
        # keep freed activations in the heap: no page faults per tile (bench/README.md)
        tune_allocator()
    try:
        with torch.inference_mode():
            yield device
    finally:
        model.train(was_training)
        if before is not None and before != layout:
            model.to(memory_format=before)


def weight_layout(model: torch.nn.Module) -> torch.memory_format | None:
    """The memory layout of ``model``'s convolution weights (judged by the first one whose
    layout is unambiguous), or None for a model without such weights."""
    for param in model.parameters():
        if param.dim() == 4 and param.shape[1] > 1 and param.shape[2] * param.shape[3] > 1:
            if param.is_contiguous():
                return torch.contiguous_format
            if param.is_contiguous(memory_format=torch.channels_last):
                return torch.channels_last
            return None
    return None


# --- numpy level --------------------------------------------------------------------------


def fit_channels(image: np.ndarray, channels: int, *, name: str = "image") -> np.ndarray:
    """(H, W) or (H, W, C) -> (H, W, channels), a view where possible; never modifies ``image``.

    A grey image given to a multi-channel net is repeated (a view); an RGB image given to a
    grey net becomes its luminance (0.299 R + 0.587 G + 0.114 B, a float32 copy, logged).
    Anything else raises UnetlabError naming both counts.
    """
    if not isinstance(image, np.ndarray):
        raise UnetlabError(f"{name}: expected a numpy array, not {type(image).__name__}")
    if image.ndim not in (2, 3) or 0 in image.shape:
        raise UnetlabError(
            f"{name}: expected an (H, W) or (H, W, C) image, not shape {image.shape}"
        )
    if not (np.issubdtype(image.dtype, np.number) or image.dtype == bool):
        raise UnetlabError(f"{name}: unsupported pixel type {image.dtype}")
    hwc = image[:, :, None] if image.ndim == 2 else image
    have = hwc.shape[2]
    if have == channels:
        return hwc
    if have == 1:
        return np.broadcast_to(hwc, (*hwc.shape[:2], channels))
    if have in (3, 4) and channels == 1:
        log.warning("%s: colour image given to a grey model; predicting its luminance", name)
        grey = hwc[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        if np.issubdtype(image.dtype, np.integer):
            grey = np.round(grey).astype(image.dtype)  # keep the range "scale" mode expects
        return grey[:, :, None]
    raise UnetlabError(
        f"{name}: has {have} channels but the model expects {channels}; "
        f"convert the image or use a model trained on {have}-channel images"
    )


def predict_image(
    model: torch.nn.Module,
    image: np.ndarray,
    *,
    tile_size: int | tuple[int, int] | None = None,
    batch_size: int | None = None,
    blend: str = "mean",
    tta: bool | Sequence[str] = False,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Class probabilities of one image of any size: (K, H, W) float32.

    ``image``: (H, W) or (H, W, C) numpy array, uint8/uint16/float (memory-mapped is fine),
    normalised as the model records (``model.normalization``, statistics computed once per
    image); never modified. K = ``model.num_classes`` (softmax), or 1 (sigmoid) for a
    one-class net. ``tile_size``: input tile (int or (h, w)), None for the largest that fits
    the memory budget. ``blend``: ``"mean"`` or ``"gaussian"`` for same-padding nets (valid
    ones are exact and ignore it). ``tta``: True for the 8 flips/rotations or a list of names
    from ``unetlab.tiling.TTA_TRANSFORMS``. ``device``: None keeps the model where it is
    (otherwise the model is moved there; its training flag and weight layout are restored
    after the call, and a model already in channels-last layout is predicted without any
    conversion, the fastest for many calls).
    ``precision``: ``"fp32"`` or ``"bf16"`` (autocast; softmax in float32).
    """
    _check_precision(precision)
    image = fit_channels(image, model.in_channels)
    stats = image_stats(image, model.normalization)
    fn = probability_fn(model, precision=precision, tta=tta)
    with _inference(model, device) as dev:
        check_precision(precision, dev)
        source = _to_device(image, dev, classes=max(model.num_classes, 1))
        grid, batch_size = choose_tiling(model, image.shape[:2], tile_size=tile_size,
                                         batch_size=batch_size, budget=memory_budget(dev))  # fmt: skip
        probs = tiled_apply(
            fn, source, grid, batch_size=batch_size, blend=blend, stats=stats, device=dev,
            progress=progress,
        )  # fmt: skip
    return probs.cpu().numpy() if isinstance(probs, torch.Tensor) else probs


#: numpy dtypes a tensor holds as they are; others (uint16, uint32, bool) go up as float32
_TORCH_DTYPES = (np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32,
                 np.float64)  # fmt: skip


def _to_device(image: np.ndarray, device: torch.device, *, classes: int):
    """``image`` as a tensor on a GPU ``device`` when it and the (K, H, W) float32 output
    fit in a quarter of the free GPU memory: tiles are then cut, normalised and stitched on
    the GPU, with no host work per tile (on an H100 the host path spent 1.4x the model's
    time, bench/README.md). Otherwise (CPU, or too large) the numpy image itself."""
    if device.type != "cuda":
        return image
    h, w, c = image.shape
    itemsize = image.itemsize if image.dtype in _TORCH_DTYPES else 4
    need = h * w * (c * itemsize + 4 * classes)
    free, _ = torch.cuda.mem_get_info(device)
    if need > free / 4:
        return image
    if image.dtype not in _TORCH_DTYPES:
        image = image.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(image)).to(device)


def predict_tensor(
    model: torch.nn.Module,
    x: torch.Tensor,
    *,
    tile_size: int | tuple[int, int] | None = None,
    batch_size: int | None = None,
    blend: str = "mean",
    tta: bool | Sequence[str] = False,
    precision: str = "fp32",
) -> torch.Tensor:
    """Probabilities (N, K, H, W) float32 of a batch of already normalised images
    (N, C, H, W) float, on ``x``'s device (the model must be there too). Any H and W."""
    if x.ndim != 4 or x.shape[1] != model.in_channels:
        raise UnetlabError(
            f"predict_tensor: expected (N, {model.in_channels}, H, W), not {tuple(x.shape)}"
        )
    fn = probability_fn(model, precision=precision, tta=tta)
    with _inference(model, x.device) as dev:
        grid, batch_size = choose_tiling(model, tuple(x.shape[2:]), tile_size=tile_size,
                                         batch_size=batch_size, budget=memory_budget(dev))  # fmt: skip
        # tensor images: tiles cut and stitched where x is (no host round trip on a GPU)
        outs = [
            tiled_apply(
                fn, item.detach().permute(1, 2, 0).float(), grid, batch_size=batch_size, blend=blend
            )  # fmt: skip
            for item in x
        ]
    return torch.stack(outs)


def labels_from_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """(K, H, W) probabilities -> (H, W) class indices (uint8, uint16 above 256 classes):
    argmax for K >= 2, ``p >= 0.5`` for one sigmoid channel."""
    if probabilities.shape[0] == 1:
        return (probabilities[0] >= 0.5).astype(np.uint8)
    dtype = np.uint8 if probabilities.shape[0] <= 256 else np.uint16
    # a running maximum over whole class planes: argmax(0) walks the array across its
    # planes and is 1.7-3x slower (1024 x 1024, K = 2..5); ties keep the first class as it does
    best = probabilities[0].copy()
    labels = np.zeros(probabilities.shape[1:], dtype=dtype)
    for k in range(1, probabilities.shape[0]):
        higher = probabilities[k] > best
        labels[higher] = k
        np.maximum(best, probabilities[k], out=best)
    return labels


def encode_labels(labels: np.ndarray, label_values: Sequence[int] | None) -> np.ndarray:
    """Class indices -> the mask values the model was trained on (e.g. 0/255)."""
    if label_values is None:
        return labels
    lut = np.asarray(label_values)
    dtype = np.uint8 if lut.min() >= 0 and lut.max() <= 255 else np.int32
    if lut.min() >= 0 and lut.max() <= 65535 and dtype != np.uint8:
        dtype = np.uint16
    return lut.astype(dtype)[labels]


# --- drawing ------------------------------------------------------------------------------


def palette(n: int) -> np.ndarray:
    """(n, 3) uint8 colours of classes 0..n-1, the PASCAL VOC colour map (0 is black)."""
    out = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        c, rgb = i, [0, 0, 0]
        for bit in range(7, -1, -1):
            for ch in range(3):
                rgb[ch] |= ((c >> ch) & 1) << bit
            c >>= 3
        out[i] = rgb
    return out


def display_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W[, C]) any dtype -> (H, W, 3) uint8 for viewing: uint8 as is, other types
    stretched between their 0.5th and 99.5th percentiles; grey repeated, >3 channels cut."""
    x = image if image.ndim == 3 else image[:, :, None]
    x = x[:, :, :3] if x.shape[2] >= 3 else x[:, :, :1]
    if x.dtype != np.uint8:
        lo, hi = np.percentile(x, [0.5, 99.5])
        x = np.clip((x.astype(np.float32) - lo) * (255.0 / max(hi - lo, 1e-12)), 0, 255)
        x = x.astype(np.uint8)
    return np.repeat(x, 3, axis=2) if x.shape[2] == 1 else np.ascontiguousarray(x)


def overlay(image: np.ndarray, labels: np.ndarray, *, alpha: float = 0.45) -> np.ndarray:
    """The label image drawn over the image: (H, W, 3) uint8. Class 0 stays transparent;
    class c >= 1 is mixed in with ``palette`` colour c at ``alpha``."""
    rgb = display_rgb(image).astype(np.float32)
    colours = palette(int(labels.max(initial=0)) + 1).astype(np.float32)
    mask = labels > 0
    rgb[mask] = (1 - alpha) * rgb[mask] + alpha * colours[labels[mask]]
    return np.round(rgb).astype(np.uint8)


# --- files --------------------------------------------------------------------------------


def output_paths(out_dir: Path, stem: str, *, stack: bool) -> dict[str, Path]:
    """Where the outputs of one input go: ``labels``, ``probabilities``, ``overlay``."""
    ext = ".tif" if stack else ".png"
    return {
        "labels": out_dir / f"{stem}{ext}",
        "probabilities": out_dir / f"{stem}_prob.tif",
        "overlay": out_dir / f"{stem}_overlay{ext}",
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
) -> list[Path]:
    """Predict one image file and write its outputs into ``out_dir``; return their paths.

    ``<stem>.png``: labels of the input's size, class indices 0..K-1 (``label_values``: the
    model's mask values instead; ``color``: a palette PNG). Multi-page inputs and images
    above ``large_threshold`` px give ``<stem>.tif`` instead. ``save_probabilities``:
    ``<stem>_prob.tif``, float32 (K, H, W) or (P, K, H, W). ``draw_overlay``:
    ``<stem>_overlay.png`` (``.tif`` for stacks; skipped for large images). All writes are
    atomic. Raises ImageReadError/UnetlabError for unreadable or unfit images.
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
            device=device, **options,
        )  # fmt: skip
    stack = read_stack(path)
    pages = [fit_channels(page, model.in_channels, name=path.name) for page in stack]
    is_stack = stack.shape[0] > 1
    paths = output_paths(out_dir, path.stem, stack=is_stack)
    probs, labels = [], []
    for page in pages:
        p = predict_image(model, page, device=device, **options)
        labels.append(labels_from_probabilities(p))
        if save_probabilities:
            probs.append(p)
        else:
            del p
    written = [paths["labels"]]
    k = max(model.num_classes, 2)
    out = [encode_labels(lab, values) for lab in labels]
    if is_stack:
        _write_label_stack(paths["labels"], np.stack(out), palette(k) if color else None)
    else:
        write_png(paths["labels"], out[0], palette=palette(k) if color else None)
    if save_probabilities:
        write_tiff(paths["probabilities"], np.stack(probs) if is_stack else probs[0],
                   photometric="minisblack")  # fmt: skip
        written.append(paths["probabilities"])
    if draw_overlay:
        drawn = [overlay(page, lab) for page, lab in zip(stack, labels)]
        if is_stack:
            write_tiff(paths["overlay"], np.stack(drawn), photometric="rgb")
        else:
            write_png(paths["overlay"], drawn[0])
        written.append(paths["overlay"])
    return written


def _write_label_stack(path: Path, labels: np.ndarray, colours: np.ndarray | None) -> None:
    if colours is None:
        write_tiff(path, labels, photometric="minisblack")
        return
    colormap = np.zeros((3, 256), dtype=np.uint16)
    colormap[:, : len(colours)] = colours.T.astype(np.uint16) * 257
    write_tiff(path, labels.astype(np.uint8), photometric="palette", colormap=colormap)


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

    def write(self, plane: int, y: int, rows: np.ndarray) -> None:
        """``rows`` (r, W) into plane ``plane`` (page, or page * K + class) at row ``y``."""
        h, w = self.shape[-2:]
        start = self.offset + (plane * h + y) * w * self.dtype.itemsize
        mapped = np.memmap(self.path, self.dtype, "r+", offset=start, shape=rows.shape)
        mapped[:] = rows
        mapped.flush()
        del mapped


def _predict_large(
    model, path: Path, out_dir: Path, *, values, color, probabilities, device,
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
        labels_out = _RowWriter(label_tmp, shape, label_dtype, **kwargs)
        probs_out = None
        if probabilities:
            prob_tmp = stack.enter_context(atomic_path(paths["probabilities"]))
            probs_shape = (pages, k, h, w) if pages > 1 else (k, h, w)
            probs_out = _RowWriter(prob_tmp, probs_shape, np.float32, photometric="minisblack")
        dev = stack.enter_context(_inference(model, device))
        check_precision(precision, dev)
        for p in range(pages):
            page = tiff.page(p)
            image = page if c == model.in_channels else _Repeated(page, model.in_channels)
            stats = image_stats(image, model.normalization)
            for y, block in iter_tiled_rows(
                fn, image, grid, batch_size=batch_size, blend=blend, stats=stats, device=dev,
                progress=progress,
            ):  # fmt: skip
                labels_out.write(p, y, encode_labels(labels_from_probabilities(block), values))
                if probs_out is not None:
                    for i in range(k):
                        probs_out.write(p * k + i, y, block[i])
    written = [paths["labels"]]
    if probabilities:
        written.append(paths["probabilities"])
    return written


class _Repeated:
    """A grey (H, W, 1) array-like repeated to ``channels`` channels on read."""

    ndim = 3

    def __init__(self, page, channels: int):
        self.page, self.channels = page, channels
        self.shape, self.dtype = (*page.shape[:2], channels), page.dtype

    def __getitem__(self, key) -> np.ndarray:
        block = self.page[key]
        return np.repeat(block, self.channels, axis=-1)
