"""Tile and batch sizes from a memory budget: the largest tiles whose activations fit.

:func:`choose_tiling` picks the tile grid and batch size for an image of a given shape so that
one batch's activations stay within ``budget`` bytes (:func:`memory_budget` of the device),
preferring the tile that computes the fewest wasted pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from unetlab.data.read_notes import PIXEL_SIZE_TOLERANCE
from unetlab.data.slides import LEVEL, read_whole
from unetlab.errors import Spelled, UnetlabError, said_as
from unetlab.inference.measure import UNITS
from unetlab.inference.tiling import Geometry, TileGrid, largest_tile, tile_grid

#: Activation memory that automatic tile and batch sizes aim for (bytes).
DEFAULT_BUDGET = 2.0e9
#: On a GPU the budget is this share of its free memory (at least DEFAULT_BUDGET): larger
#: tiles waste less border and keep the GPU busier (bench/README.md).
GPU_BUDGET_SHARE = 0.25
#: On a CPU a batch of tiles is no faster per pixel than one forward pass of this many px
#: (the convolutions' threads are busy by then), so automatic batches hold no more tiles
#: than reach it: more only multiply the activations held at once (a 12 MP photo, 11
#: classes: 3 tiles of 1072 a batch held 1.9 GB, bench/README.md "Memory of a photo").
#: Measured (2 cores, small same net, ms per MP): 256 px 15,800 at batch 1, 4,900 at 8;
#: 512 px 6,300 at 1, 2,600 at 4; 768 px 2,900 at 1, 3,200 at 2; 1072 px 1,900 at 1 and 3.
CPU_BATCH_PIXELS = 1024 * 1024


def memory_budget(device: torch.device) -> float:
    """Activation bytes automatic tiling may use on ``device``."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return max(DEFAULT_BUDGET, GPU_BUDGET_SHARE * free)
    return DEFAULT_BUDGET


def activation_bytes_per_pixel(model) -> float:
    """Estimated peak bytes of one forward pass per input pixel (float32 activations).

    ``4 * (4 * base_channels + 64 + in_channels + num_classes)``: at the peak the top decoder
    level holds about four maps of the first level's width (skip, up-sampled map, their
    concatenation); 64 floats a pixel cover the lower levels, input, output and library
    workspace. Measured on CPU (torch 2.13, channels-last, batch 1): paper net 1,060 B/px
    (formula 1,292), "small" 440 B/px (formula 524).
    """
    c = model.config
    width = getattr(model, "activation_width", None) or c.base_channels  # encoder nets: theirs
    return 4.0 * (4 * width + 64 + c.in_channels + c.num_classes)


def choose_tiling(
    model,
    shape: tuple[int, int],
    *,
    tile_size: int | tuple[int, int] | None = None,
    batch_size: int | None = None,
    budget: float = DEFAULT_BUDGET,
    device: torch.device | str | None = None,
) -> tuple[TileGrid, int]:
    """The tile grid and batch size for an (H, W) image.

    ``tile_size=None`` picks the largest valid tile whose activations, plus two rows of
    output accumulators (K float32 maps as wide as the image), fit in ``budget`` bytes, but
    never more than the padded image needs; a narrow image gets tiles as long as the budget
    allows along its long side. ``batch_size=None`` fills the budget with tiles (at most 8;
    on a CPU ``device``, at most those that reach :data:`CPU_BATCH_PIXELS`); a batch is
    never more tiles than the image has.
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
        batch_size = _auto_batch(grid, bpp, budget, device)
    elif batch_size < 1:
        raise UnetlabError(f"batch_size must be at least 1, not {batch_size}")
    return grid, min(batch_size, len(grid))


def _auto_batch(grid: TileGrid, bpp: float, budget: float, device) -> int:
    """The tiles a batch holds when none is asked: as many as ``budget`` holds (at most 8),
    on a CPU no more than reach :data:`CPU_BATCH_PIXELS`."""
    pixels = grid.tile[0] * grid.tile[1]
    batch = min(len(grid), 8, budget // (pixels * bpp))
    if device is not None and torch.device(device).type == "cpu":
        batch = min(batch, -(-CPU_BATCH_PIXELS // pixels))
    return int(max(1, batch))


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


def keyword_given(setting: Spelled) -> Spelled:
    """``setting`` (``scale``, ``--scale``) as a caller gives it, the API's as a keyword
    argument (``scale=``): a line saying what giving it does; the bare name is a line's
    subject (``scale must be a factor ...``), so both are said."""
    return Spelled(f"{setting.python}=", setting.cli)


#: a scale of each image's pixel size by the training's, and the setting, as the API and
#: the command give them (named: :func:`keyword_given`)
AUTO = Spelled("scale='auto'", "--scale auto")
SCALE_NAMED = Spelled("scale", "--scale")
SCALE = keyword_given(SCALE_NAMED)
#: the pyramid level predicted, as the API and the command give it
LEVEL_AS = keyword_given(LEVEL)


#: how a caller has a large image read whole, above N pixels a page, as the API and the
#: command give it
READ_WHOLE = read_whole("N", " above its pixels")


#: the ways to predict a large image read window by window at the training pixel size,
#: where --scale is refused for it (:func:`~unetlab.inference.rescale.refuse_streamed_scale`),
#: as the API and the command give them (each line named both inline, "(--level,
#: level=)", s56)
STREAMED_SCALE_FIXES = Spelled(
    *map(
        "predict a pyramid level nearer the training pixel size ({}), or a crop, or read it "
        "whole with {}".format,
        LEVEL_AS,
        READ_WHOLE,
    )
)


#: how far apart (a ratio) a NIfTI volume's pixels and the training images' may be before
#: predict says so (:func:`image_size_note`): CT and MRI are resampled to one spacing as a
#: rule (nnU-Net's target spacing); a CT of 0.8 mm pixels predicted at 1.1 mm by a model of
#: 0.8 mm said nothing under :data:`PIXEL_SIZE_TOLERANCE` (s72)
VOXEL_TOLERANCE = 1.1


def trained_pixel_size(model) -> float | None:
    """The side in micrometres of the training images' pixels, where the checkpoint's object
    record holds it (``objects["pixel_size"]``: (y, x) µm; the geometric mean of the two),
    else None."""
    size = (getattr(model, "objects", None) or {}).get("pixel_size")
    if not size or min(size) <= 0:
        return None
    return math.sqrt(float(size[0]) * float(size[-1]))


def image_size_note(
    trained: float | None,
    side: float | None,
    *,
    streamed: bool = False,
    tolerance: float = PIXEL_SIZE_TOLERANCE,
    unit: str = "um",
) -> str | None:
    """One line when an image's pixels (``side`` µm: the file's, or --pixel-size) are more
    than ``tolerance`` times larger or smaller than the training images' (``trained`` µm;
    :data:`PIXEL_SIZE_TOLERANCE`, a NIfTI volume's :data:`VOXEL_TOLERANCE`), naming
    ``--scale auto``: the net sees its objects that much smaller or larger than those it
    learnt unless resampled (audit s39 audit2: nuclei at half the size found 31% fewer);
    None where it fits or a size is unknown. A ``streamed`` image (read window by window,
    where --scale is refused) gets the ways that work for it instead (walk s50: the line
    named --scale auto, which then failed). Sizes in ``unit`` ("um", "mm": a CT's)."""
    if trained is None or side is None or side <= 0:
        return None
    if max(side / trained, trained / side) <= tolerance:
        return None
    fix = (
        f"{said_as(STREAMED_SCALE_FIXES)} and {said_as(AUTO)}; read window by window, it is "
        "not resampled"
        if streamed
        else f"predict it with {said_as(AUTO)} (resampled to {said_in(trained, unit)} pixels "
        "for the net)"
    )
    return (
        f"{said_in(side, unit)} pixels and the model was trained on {said_in(trained, unit)} "
        f"pixels ({side / trained:.2g}x): its objects look {trained / side:.2g}x their "
        "trained size; " + fix
    )


def said_in(um: float, unit: str) -> str:
    """``um`` micrometres in ``unit`` (a key of :data:`~unetlab.inference.measure.UNITS`),
    as lines say a size: "0.8 mm" (a CT's pixels, s72), "0.325 µm"."""
    return f"{um * UNITS[unit]:.3g} {'µm' if unit == 'um' else unit}"


def closest_level(trained: float, sides: Sequence[float]) -> int:
    """The level of ``sides`` (micrometres per pixel, level 0 first) nearest to ``trained``,
    by ratio."""
    return min(range(len(sides)), key=lambda k: abs(math.log(sides[k] / trained)))


def level_size_note(trained: float | None, sides: Sequence[float | None], level: int) -> str | None:
    """One line when level ``level`` of a slide (``sides``: each level's pixel side in µm)
    has pixels more than :data:`PIXEL_SIZE_TOLERANCE` times larger or smaller than the
    training images' (``trained`` µm), naming the level that matches best; None where it
    fits or a size is unknown."""
    side = sides[level] if level < len(sides) else None
    if trained is None or side is None or not all(sides):
        return None
    if max(side / trained, trained / side) <= PIXEL_SIZE_TOLERANCE:
        return None
    best = closest_level(trained, sides)
    fix = (
        f"level {best} ({sides[best]:.3g} µm) matches best "
        f"({said_as(Spelled(f'level={best}', f'--level {best}'))})"
        if best != level  # walk s50: it named the level given as the one to give
        else f"no level of it is nearer (a level is read window by window, where "
        f"{said_as(SCALE)} is refused): predict level 0 (or a crop of it) read whole, with "
        f"{said_as(READ_WHOLE)} and {said_as(AUTO)}"
    )
    return (
        f"level {level} has {side:.3g} µm pixels and the model was trained on {trained:.3g} "
        f"µm pixels ({side / trained:.2g}x): its objects look {trained / side:.2g}x their "
        f"trained size; {fix}"
    )


def unknown_scale_note(
    trained: float | None, level: int, downsample: Sequence[float]
) -> str | None:
    """One line for a pyramid level above 0 (``downsample``: its pixels over level 0's, y
    and x) predicted by a model that records no training pixel size (``trained`` None): its
    objects are found at the level's own scale, which nothing can check (s56 new user:
    level 1 found 163 objects where level 0 found 216, without a word). None otherwise."""
    if trained is not None or not level:
        return None
    factor = (downsample[0] * downsample[1]) ** 0.5
    return (
        f"level {level}: the model records no training pixel size, so its objects are found at "
        f"this level's own scale ({factor:.3g}x level 0's pixels) and their count may differ "
        "from level 0's; a model trained on images that record their pixel size says which "
        "level matches it"
    )


#: estimated bytes of an image's arrays read whole (beside the tiles' activations, which
#: both paths bound) above which a one-page TIFF is streamed: peaks ~2.5 GB read whole
#: (audit s32 histo 7; measured in :func:`whole_read_bytes`)
WHOLE_BUDGET = 0.5e9
#: extra bytes a pixel of objects (ids, regions, measuring) costs read whole, at most:
#: ``objects_from_probabilities`` of a 25 MP semantic map above its probabilities (one
#: thread, peak RSS) took 89 B/px with dense objects (5.4 million regions, 51,618 objects;
#: the image read whole peaked at 3.2 GB where 65 B/px estimated 2.6 GB, note33) and
#: 22 B/px with 940 large ones; how dense they are is not known before predicting
OBJECT_BYTES = 90


def whole_read_bytes(
    pixels: int, channels: int, itemsize: int, classes: int, *, objects: bool = False
) -> float:
    """Estimated bytes of the arrays of an image of ``pixels`` px read whole: its pixels and
    their float32 copy (``channels`` x (``itemsize`` + 4)), the float32 probabilities and
    their sum over tiles (8 x ``classes``), and :data:`OBJECT_BYTES` with ``objects``.
    Measured (H&E RGB, 3 classes, small preset, one thread, peak RSS): 2.28 GB at 6.3 MP,
    2.51 GB at 12.6 MP (37 B/px; the formula 39), +0.41 GB with objects at 6.3 MP (65 B/px;
    dense objects take more: :data:`OBJECT_BYTES`)."""
    per_pixel = channels * (itemsize + 4) + 8 * max(classes, 1)
    return float(pixels) * (per_pixel + (OBJECT_BYTES if objects else 0))


#: bytes a pixel of a stack's other pages keeps read whole beside one page's arrays (a
#: stack is predicted page by page): its pixels, labels and, with objects, ids and their
#: table. Measured (60 frames of 1024 x 1024 uint16, nuclei objects ~3,500 a frame, one
#: thread, peak RSS): 1277 MB at 30 frames, 1433 MB at 60 (5 B/px more; audit s34 stacks 5)
STACK_PAGE_BYTES = 6


def stack_read_bytes(
    pages: int, pixels: int, channels: int, itemsize: int, classes: int, *, objects=False
) -> float:
    """Estimated bytes of a stack of ``pages`` pages of ``pixels`` px read whole: one page's
    :func:`whole_read_bytes` and each other page's pixels, labels (and ids, with
    ``objects``: :data:`STACK_PAGE_BYTES`)."""
    one = whole_read_bytes(pixels, channels, itemsize, classes, objects=objects)
    kept = channels * itemsize + (STACK_PAGE_BYTES if objects else 1)
    return one + float(max(pages - 1, 0)) * pixels * kept
