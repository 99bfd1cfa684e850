"""What the net trains on, drawn before a long run (``unetlab train --check --preview DIR``).

:func:`write_preview` takes the run's own :class:`unetlab.data.datasets.TileDataset` (built by
:func:`unetlab.train.run.tile_dataset`: the same tile size, augmentation and seed) and writes
its first ``count`` tiles of an epoch (item ``(epoch, i)``: the tiles that epoch trains on
first) as one PNG each, ``tile_000.png``, ..., and a contact sheet ``tiles.png`` of all of
them. Each picture shows, left to right:

- the input tile as the net gets it (augmented), shown on one grey scale for all tiles (the
  0.5th-99.5th percentiles of the training images: a grey-value change shows as one), with
  the output window framed in yellow where the net is valid (its input is larger);
- the target: class ``k`` in its colour (:func:`tile_colours`: the data set's palette or the
  VOC colours), ignored pixels (``IGNORE_INDEX``) in a grey checkerboard;
- the weight map (black 0 to white the largest weight of the data), where the config has one;

under a caption: the tile's number, its image file and the share of each class (and ignored)
among its target's pixels. Tiles smaller than :data:`MIN_SIDE` px are enlarged by a whole
factor (nearest: colours stay exact). Nothing here draws augmentation of its own.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.data.classes import class_colours, voc_class_colours
from unetlab.data.datasets import TileDataset
from unetlab.data.labels import IGNORE_INDEX
from unetlab.data.void import percent
from unetlab.data.weightmap import background_class
from unetlab.errors import Spelled, UnetlabError
from unetlab.outputs import made_from, output_folder

COMMAND = "train --preview"
SHEET = "tiles.png"
SOURCE = "training tiles"  # the input of every file, in the folder's manifest
#: the fix of a refused tile: its names are fixed, so another folder (not "another name", s60)
ELSEWHERE = Spelled("give write_preview another folder", "give --preview another folder")
#: the two greys of the checkerboard that marks ignored target pixels (no VOC colour)
IGNORED = ((96, 96, 96), (160, 160, 160))
FRAME = (255, 255, 0)  # the output window on the input tile
MIN_SIDE = 128  # smaller tiles are enlarged by a whole factor
MAX_TILES = 256


@dataclass(frozen=True)
class TileView:
    """One drawn tile: ``index`` in ``epoch``, from training sample ``sample`` (file
    ``name``); ``image`` (C, S_in, S_in) float32 as the net gets it; ``target`` (S_out, S_out)
    int64 class indices (``IGNORE_INDEX``: ignored); ``weight`` (S_out, S_out) float32 or None
    (no weight map)."""

    index: int
    epoch: int
    sample: int
    name: str
    image: np.ndarray
    target: np.ndarray
    weight: np.ndarray | None


def draw_tiles(dataset: TileDataset, count: int, *, epoch: int = 0) -> list[TileView]:
    """Items ``(epoch, 0..count-1)`` of ``dataset``, exactly as training gets them (the
    dataset's own drawing and augmentation, from its seed)."""
    check_count(dataset, count)
    weighted = any(s.weight is not None for s in dataset.samples)
    views = []
    for i in range(count):
        k = dataset.draw(i, epoch)[0]
        image, target, weight = (t.numpy() for t in dataset[(epoch, i)])
        name = dataset.samples[k].name
        views.append(TileView(i, epoch, k, name, image, target, weight if weighted else None))
    return views


def check_count(dataset: TileDataset, count: int) -> None:
    """UnetlabError unless ``count`` tiles can be drawn: 1 to the tiles of an epoch (and at
    most :data:`MAX_TILES`)."""
    most = min(MAX_TILES, len(dataset))
    if not 1 <= count <= most:
        raise UnetlabError(
            f"{count} preview tiles: give 1 to {most} (--preview-tiles; the run draws "
            f"{len(dataset)} tiles an epoch, data.tiles_per_epoch)"
        )


def tile_colours(
    label_values: Sequence[int],
    palette: Sequence | None = None,
    names: Sequence[str] = (),
    ignore_value: int | None = None,
) -> np.ndarray:
    """(K, 3) uint8 colour of each class index: the data set's palette entry of its mask value
    (palette masks, colour tables), else the VOC colours of 0..K-1, 0 black where it is the
    background (:func:`~unetlab.data.classes.voc_class_colours` of the class ``names`` and
    :func:`~unetlab.data.weightmap.background_class`), as predict draws them."""
    if palette is not None:
        return class_colours(palette, label_values)
    background = background_class(label_values, names, ignore_value=ignore_value)
    return voc_class_colours(len(label_values), names, background)


def target_rgb(target: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """(H, W) class indices -> (H, W, 3) uint8: class k in ``colours[k]``, ignored pixels
    (negative) in the :data:`IGNORED` checkerboard (2 px squares)."""
    target = np.asarray(target)
    if target.max(initial=-1) >= len(colours):
        raise ValueError(f"class {target.max()} has no colour (colours for {len(colours)})")
    rgb = np.asarray(colours, np.uint8)[np.clip(target, 0, None)]
    rows, cols = np.indices(target.shape)
    checker = np.asarray(IGNORED, np.uint8)[((rows // 2 + cols // 2) % 2)]
    ignored = target < 0
    rgb[ignored] = checker[ignored]
    return rgb


def class_shares(target: np.ndarray, names: Sequence[str]) -> dict[str, float]:
    """Share of each class (by name) and of ``"ignored"`` among the target's pixels."""
    counts = np.bincount(target[target >= 0].ravel(), minlength=len(names))
    shares = {name: counts[k] / target.size for k, name in enumerate(names)}
    ignored = np.count_nonzero(target == IGNORE_INDEX) / target.size
    return shares | ({"ignored": ignored} if ignored else {})


def grey_window(dataset: TileDataset, *, values: int = 1_000_000) -> np.ndarray:
    """(C, 2): each channel's 0.5th and 99.5th percentile over the training images (every
    n-th pixel, about ``values`` in all): the one grey scale the tiles are shown on."""
    total = sum(s.image[0].size for s in dataset.samples)
    step = max(1, math.isqrt(total // values))
    pixels = np.concatenate(
        [s.image[:, ::step, ::step].reshape(s.image.shape[0], -1) for s in dataset.samples], 1
    )
    return np.percentile(pixels, [0.5, 99.5], axis=1).T


def image_rgb(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    """(C, H, W) normalised image -> (H, W, 3) uint8 on the fixed ``window`` (C, 2) (the first
    three channels; one: grey; two: the first)."""
    n = 3 if len(image) >= 3 else 1
    lo, hi = window[:n, 0, None, None], window[:n, 1, None, None]
    scaled = np.clip(np.round((image[:n] - lo) * (255.0 / np.maximum(hi - lo, 1e-12))), 0, 255)
    return np.ascontiguousarray(np.repeat(scaled.astype(np.uint8).transpose(1, 2, 0), 3 // n, 2))


def weight_rgb(weight: np.ndarray, top: float) -> np.ndarray:
    """(H, W) weights -> (H, W, 3) uint8 grey: 0 black, ``top`` white."""
    grey = np.clip(np.round(weight * (255.0 / max(top, 1e-12))), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def framed(rgb: np.ndarray, margin: int) -> np.ndarray:
    """A copy of ``rgb`` with the square ``margin`` px inside its border outlined in
    :data:`FRAME` (the output window of a valid net's input tile); as is without a margin."""
    out = rgb.copy()
    if margin <= 0:
        return out
    h, w = out.shape[:2]
    y0, y1, x0, x1 = margin - 1, h - margin, margin - 1, w - margin
    out[[y0, y1], x0 : x1 + 1] = FRAME
    out[y0 : y1 + 1, [x0, x1]] = FRAME
    return out


def tile_panels(
    view: TileView, colours: np.ndarray, *, window: np.ndarray, top_weight: float
) -> list[np.ndarray]:
    """The (H, W, 3) uint8 panels of one tile, before enlarging: the framed input, the
    coloured target and (with a weight map) the weights."""
    margin = (view.image.shape[-1] - view.target.shape[-1]) // 2
    panels = [framed(image_rgb(view.image, window), margin), target_rgb(view.target, colours)]
    if view.weight is not None:
        panels.append(weight_rgb(view.weight, top_weight))
    return panels


def enlarged(rgb: np.ndarray, zoom: int) -> np.ndarray:
    """Each pixel as a ``zoom`` x ``zoom`` square (nearest: colours stay exact)."""
    return np.repeat(np.repeat(rgb, zoom, axis=0), zoom, axis=1)


def zoom_for(side: int) -> int:
    """The whole factor that makes a ``side`` px tile at least :data:`MIN_SIDE` px."""
    return max(1, math.ceil(MIN_SIDE / side))


def panel_row(panels: Sequence[np.ndarray], zoom: int, gap: int = 4) -> np.ndarray:
    """The panels enlarged by ``zoom`` and joined left to right (white gaps), each smaller one
    centred on the height of the first (white around it)."""
    big = [enlarged(p, zoom) for p in panels]
    h = big[0].shape[0]
    row = np.full((h, sum(p.shape[1] for p in big) + gap * (len(big) - 1), 3), 255, np.uint8)
    x = 0
    for p in big:
        top = (h - p.shape[0]) // 2
        row[top : top + p.shape[0], x : x + p.shape[1]] = p
        x += p.shape[1] + gap
    return row


def caption(view: TileView, names: Sequence[str]) -> str:
    """``tile 3 (epoch 1): NAME`` and the shares of the classes in its target."""
    shares = class_shares(view.target, names)
    parts = [f"{name} {_share(share)}" for name, share in shares.items()]
    weight = "" if view.weight is None else f"; weight {view.weight.max():.2g} max"
    return f"tile {view.index} (epoch {view.epoch + 1}): {view.name}\n{', '.join(parts)}{weight}"


def _share(share: float) -> str:
    """A class's share of a tile: whole percents, but a class present below 1 % as
    :func:`unetlab.data.void.percent` gives it (0.4%, 0.012%), never "0%" (audit s39 roads:
    a tile with a person read "person 0%")."""
    return f"{100 * share:.0f}%" if share >= 0.01 or share == 0 else percent(share)


def with_caption(rgb: np.ndarray, text: str) -> np.ndarray:
    """``rgb`` under ``text`` (black on white, wrapped to its width)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=12)
    chars = max(8, int(rgb.shape[1] // max(font.getlength("n"), 1)) - 1)
    lines = [part for line in text.splitlines() for part in textwrap.wrap(line, chars) or [""]]
    line_h = 15
    strip = Image.new("RGB", (rgb.shape[1], line_h * len(lines) + 6), "white")
    draw = ImageDraw.Draw(strip)
    for i, line in enumerate(lines):
        draw.text((2, 3 + i * line_h), line, fill="black", font=font)
    return np.concatenate([np.asarray(strip), rgb], axis=0)


def contact_sheet(pictures: Sequence[np.ndarray], gap: int = 8) -> np.ndarray:
    """The pictures in a grid of about square shape (columns: ceil(sqrt(n))), each in a
    cell of the largest one's size, top left, on white."""
    cols = math.ceil(math.sqrt(len(pictures)))
    rows = math.ceil(len(pictures) / cols)
    ch = max(p.shape[0] for p in pictures) + gap
    cw = max(p.shape[1] for p in pictures) + gap
    sheet = np.full((rows * ch - gap, cols * cw - gap, 3), 255, np.uint8)
    for i, p in enumerate(pictures):
        y, x = (i // cols) * ch, (i % cols) * cw
        sheet[y : y + p.shape[0], x : x + p.shape[1]] = p
    return sheet


def tile_name(index: int) -> str:
    return f"tile_{index:03d}.png"


def write_preview(
    dataset: TileDataset,
    folder: str | os.PathLike,
    *,
    count: int = 16,
    class_names: Sequence[str],
    colours: np.ndarray | None = None,
    epoch: int = 0,
) -> list[Path]:
    """Draw the first ``count`` tiles of ``epoch`` of ``dataset`` (:func:`draw_tiles`) and
    write ``tile_000.png``, ... and the contact sheet ``tiles.png`` into ``folder``.

    ``class_names``: one per class index; ``colours``: (K, 3) uint8 class colours
    (:func:`tile_colours`; default the VOC colours). Every file is written whole or not at
    all (:func:`unetlab.atomic.atomic_path`); the folder is claimed as
    :func:`unetlab.outputs.output_folder` claims one: refused (OutputError, before any
    drawing) where it holds files unetlab did not write or another unetlab process
    writes there; the files of an earlier preview there are replaced (or removed: tiles
    beyond ``count``). Returns the paths, the tiles first and the contact sheet last."""
    colours = tile_colours(range(len(class_names))) if colours is None else colours
    check_count(dataset, count)
    names = [tile_name(i) for i in range(count)] + [SHEET]
    # an earlier preview's tiles beyond ``count`` are removed once this one is written
    held = made_from(folder, COMMAND) if Path(folder).is_dir() else {}  # a file: refused below
    earlier = [n for n, source in held.items() if source == SOURCE]
    sources = dict.fromkeys([*names, *earlier], SOURCE)
    # only into an empty folder or its own: a preview has no --overwrite (nor overwrite=)
    with output_folder(
        folder, names, command=COMMAND, sources=sources, overwrite_fix="", elsewhere=ELSEWHERE
    ) as out:
        views = draw_tiles(dataset, count, epoch=epoch)
        window = grey_window(dataset)
        weights = [s.weight.max() for s in dataset.samples if s.weight is not None]
        top = float(max(weights, default=1.0))
        zoom = zoom_for(dataset.input_size)
        pictures = []
        for view, name in zip(views, names):
            panels = tile_panels(view, colours, window=window, top_weight=top)
            pictures.append(with_caption(panel_row(panels, zoom), caption(view, class_names)))
            _write_png(out / name, pictures[-1])
        _write_png(out / SHEET, contact_sheet(pictures))
    return [out / name for name in names]


def _write_png(path: Path, rgb: np.ndarray) -> None:
    from PIL import Image

    with atomic_path(path) as tmp:
        Image.fromarray(rgb).save(tmp, format="PNG")
