"""Overlap-tile prediction (SPEC §3): a few small pure pieces and one loop over any callable.

The pieces, each testable on its own:

- :class:`Geometry`: what a callable does to sizes (border lost per side, the grid its tiles
  must sit on, the smallest input it takes). ``Geometry.of(model)`` reads it off a UNet.
- :func:`axis_starts` and :func:`tile_grid`: where tiles go. Tile inputs start at multiples of
  ``geometry.multiple`` relative to the padded image, because a U-Net of depth d is
  shift-equivariant only by multiples of 2**(d-1) (its pooling grid); the last tile is shifted
  back (never truncated) so that every tile has the same size and batches stack.
- :func:`unetlab.data.mirror.reflect_window`: each tile read with mirror (reflect) padding
  of any width, also wider than the image (1-px strips), so that a memory-mapped image is
  never padded or loaded as a whole.
- :func:`blend_weights`: how overlapping outputs of same-padding nets are averaged.
- :func:`iter_tiled_rows` (streaming, finished rows as they complete) and :func:`tiled_apply`
  (the whole output): run ``fn`` over batches of tiles.

Two layouts, chosen by the geometry:

- *Valid padding* (``border > 0``, the paper's net): the image is mirrored by the border and
  tile outputs abut. Output tiles step by the largest multiple of ``multiple`` that fits in the
  output tile (384 for the paper's 572 -> 388 tile) and the few overlapping pixels are dropped,
  so the result equals predicting the padded image in one piece.
- *Same padding* (``border == 0``): tiles overlap by ``overlap`` px and their outputs are
  blended, ``"mean"`` (count coverage and average, the source's rule) or ``"gaussian"``
  (centre-weighted, sigma = tile / 8). ``"mean"`` counts only each tile's interior: half the
  overlap is trimmed from every tile edge that faces another tile, because within half a
  receptive field of a tile edge a same-padding net sees zero padding instead of the image.
  With the default overlap (the receptive field) the kept pixels see their whole context,
  so the result matches one-piece prediction up to float rounding. The image is mirrored at
  its end up to the grid and cropped back, which also gives same nets the size divisibility
  they need.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from unetlab.data.mirror import reflect_window
from unetlab.data.transforms import DIHEDRAL
from unetlab.errors import UnetlabError
from unetlab.inference.offset import label_offset
from unetlab.runtime import page_zeros
from unetlab.words import worded

BLENDS = ("mean", "gaussian")

#: The 8 flips and rotations of the square (the dihedral group D4), by name.
TTA_TRANSFORMS = DIHEDRAL


# --- geometry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Geometry:
    """How a callable maps input tiles to output tiles.

    ``border``: px lost per side (output = input - 2 * border); 0 for size-keeping callables.
    ``multiple``: tile inputs start on this grid and valid input sizes step by it.
    ``min_size``: the smallest input; valid sizes are ``min_size + k * multiple``.
    ``overlap``: default overlap (px) of blended tiles when ``border == 0``.
    """

    border: int = 0
    multiple: int = 1
    min_size: int = 1
    overlap: int = 0

    def __post_init__(self):
        if self.border < 0 or self.multiple < 1 or self.min_size < 1 or self.overlap < 0:
            raise UnetlabError(f"invalid tiling geometry {self}: sizes must be positive")
        if self.min_size <= 2 * self.border:
            raise UnetlabError(f"min_size {self.min_size} leaves no output after the border")

    @classmethod
    def of(cls, model) -> Geometry:
        """The geometry of a ``UNet``. Same nets overlap by the receptive field, so every
        pixel of an overlap lies at least half of it inside one of the tiles. A valid net
        with a label offset loses one size step (``multiple``) more per side."""
        m = model.size_multiple
        overlap = 0 if model.border else _round_up(model.receptive_field, m)
        # a moved prediction (unetlab.inference.offset) needs a px beyond each side: a whole
        # size step more, so that the tiles keep their phase on the pooling grid
        moved = model.border and any(label_offset(model))
        border, smallest = model.border + (m if moved else 0), model.min_input_size
        while smallest <= 2 * border:
            smallest += m
        return cls(border, m, smallest, overlap)

    @property
    def abut(self) -> bool:
        """True when tile outputs abut exactly (valid padding) instead of being blended."""
        return self.border > 0

    def is_valid(self, size: int) -> bool:
        return size >= self.min_size and (size - self.min_size) % self.multiple == 0

    def round_up(self, size: int) -> int:
        """The smallest valid input size >= ``size``."""
        steps = max(0, -(-(size - self.min_size) // self.multiple))
        return self.min_size + steps * self.multiple

    def round_down(self, size: int) -> int:
        """The largest valid input size <= ``size`` (at least ``min_size``)."""
        return self.min_size + max(0, (size - self.min_size) // self.multiple) * self.multiple

    def min_tile(self) -> int:
        """Smallest input tile whose output steps by at least one grid unit (valid nets)."""
        return self.round_up(2 * self.border + self.multiple) if self.abut else self.min_size


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


# --- where tiles go -----------------------------------------------------------------------


def axis_starts(size: int, out_tile: int, step: int, multiple: int = 1) -> list[int]:
    """Output start of each tile along one axis so ``[start, start + out_tile)`` covers
    ``[0, size)``: ``0, step, 2 * step, ...`` and a last tile shifted back to the grid.

    ``step`` must be a positive multiple of ``multiple`` and at most ``out_tile``. The last
    start is the smallest multiple of ``multiple`` that still reaches ``size`` (so the last
    tile overhangs the image by less than ``multiple`` px plus whatever ``out_tile`` exceeds
    the image by when one tile suffices).
    """
    if size < 1 or out_tile < 1:
        raise UnetlabError(
            f"axis_starts: size and out_tile must be at least 1, not {size}, {out_tile}"
        )
    if not 0 < step <= out_tile or step % multiple:
        raise UnetlabError(
            f"axis_starts: step {step} must be a positive multiple of {multiple} <= {out_tile}"
        )
    last = _round_up(max(0, size - out_tile), multiple)
    return [*range(0, last, step), last]


@dataclass(frozen=True)
class TileGrid:
    """Where the tiles of one image go.

    ``shape``: the image's (H, W); ``tile``: input tile (h, w); ``out_tile``: output tile
    (h, w); ``ys``, ``xs``: output starts in image coordinates, which are also the input
    starts in the padded image's coordinates; ``pad``: mirrored px before the image (the
    border); ``padded_shape``: the extent of the padded image the tiles read.

    A band of a larger grid (:func:`~unetlab.inference.slides.band_grid`) may start its
    tiles below row 0 and carries two facts of the whole grid: ``row_step``, the step of its
    tile rows (the blend's margins; 0: this grid's first step), and ``lead``, how many of
    the whole grid's tiles its first batch holds before this grid's first tile (stand-ins
    are predicted in their places, so every tile sits where it sits in the whole grid's
    batches).
    """

    shape: tuple[int, int]
    tile: tuple[int, int]
    out_tile: tuple[int, int]
    ys: tuple[int, ...]
    xs: tuple[int, ...]
    pad: int
    abut: bool
    row_step: int = 0
    lead: int = 0

    def __len__(self) -> int:
        return len(self.ys) * len(self.xs)

    @property
    def padded_shape(self) -> tuple[int, int]:
        return (self.ys[-1] + self.tile[0], self.xs[-1] + self.tile[1])

    def tiles(self) -> list[tuple[int, int]]:
        """(y, x) output starts in raster order."""
        return [(y, x) for y in self.ys for x in self.xs]


def tile_grid(
    shape: tuple[int, int],
    geometry: Geometry,
    tile: int | tuple[int, int],
    *,
    overlap: int | None = None,
) -> TileGrid:
    """Lay tiles of input size ``tile`` over an image of ``shape`` (H, W).

    ``tile`` must be a valid input size of ``geometry``; per axis it is reduced to the
    smallest valid size that covers the whole (padded) axis when that is smaller, so small
    images and 1-px strips get small tiles. ``overlap`` (px, same-padding only) defaults to
    ``geometry.overlap`` and is capped at half the tile.
    """
    if len(shape) != 2 or min(shape) < 1:
        raise UnetlabError(f"tile_grid: shape must be (H, W) with H and W at least 1, not {shape}")
    tiles = _valid_tiles(geometry, tile)
    overlap = geometry.overlap if overlap is None else overlap
    if overlap < 0:
        raise UnetlabError(f"overlap must be at least 0 px, not {overlap}")
    (th, oh, ys), (tw, ow, xs) = (
        _axis_tiles(size, t, overlap, geometry) for size, t in zip(shape, tiles)
    )
    return TileGrid(
        shape=tuple(shape),
        tile=(th, tw),
        out_tile=(oh, ow),
        ys=ys,
        xs=xs,
        pad=geometry.border,
        abut=geometry.abut,
    )


def _valid_tiles(geometry: Geometry, tile: int | tuple[int, int]) -> tuple[int, int]:
    """``tile`` as (th, tw), each a valid input size of ``geometry`` (else refused, naming
    the nearest valid ones)."""
    tiles = (tile, tile) if isinstance(tile, int) else tuple(tile)
    for t in tiles:
        if not geometry.is_valid(t):
            lower, upper = geometry.round_down(t), geometry.round_up(t)
            raise UnetlabError(f"tile size {t} is not a valid input size: try {lower} or {upper}")
    return tiles


def _axis_tiles(
    size: int, t: int, overlap: int, geometry: Geometry
) -> tuple[int, int, tuple[int, ...]]:
    """(input tile, output tile, output starts) along one axis of ``size`` px: the tile
    reduced to the smallest valid size covering the padded axis when that is smaller."""
    b, m = geometry.border, geometry.multiple
    t = min(t, geometry.round_up(size + 2 * b))
    out = t - 2 * b
    # valid: the largest grid multiple inside the output tile; same: tile minus overlap
    overlapped = max(m, (t - min(overlap, t // 2)) // m * m)
    step = out // m * m if geometry.abut else overlapped
    if out >= size:
        return t, out, (0,)
    if step < m:
        raise UnetlabError(
            f"tile size {t} is too small to tile this image: use at least {geometry.min_tile()}"
        )
    return t, out, tuple(axis_starts(size, out, step, m))


# --- blending -----------------------------------------------------------------------------


def blend_weights(size: int, blend: str = "mean") -> np.ndarray:
    """1-D weights (size,) float32 of one tile axis; the 2-D weight is their outer product.

    ``"mean"``: ones (count coverage, then average). ``"gaussian"``: exp(-d^2 / (2 sigma^2)),
    d the distance to the tile centre, sigma = size / 8, so tile edges (where a same-padding
    net sees zero padding) count ~3e-4 of the centre, never 0.
    """
    if blend == "mean":
        return np.ones(size, dtype=np.float32)
    if blend == "gaussian":
        d = np.arange(size, dtype=np.float64) - (size - 1) / 2
        sigma = max(size / 8, 1e-3)
        return np.maximum(np.exp(-(d**2) / (2 * sigma**2)), 1e-6).astype(np.float32)
    raise UnetlabError(f"blend must be one of {BLENDS}, not {blend!r}")


def kept_spans(starts: Sequence[int], out: int, step: int = 0) -> list[tuple[int, int]]:
    """Per tile along one axis, the output span ``[lo, hi)`` (tile coordinates) that the
    ``"mean"`` blend counts: the whole tile minus half the overlap on each side that faces
    a neighbour. Consecutive spans still meet, so every pixel is counted at least once.
    ``step``: the grid's step (0: its first; a band of a grid whose shorter last step is
    its first passes the whole grid's)."""
    if len(starts) == 1:
        return [(0, out)]
    margin = (out - (step or starts[1] - starts[0])) // 2
    last = len(starts) - 1
    return [
        (0 if k == 0 else margin, out if k == last else out - margin) for k in range(len(starts))
    ]


def coverage(
    size: int, starts: Sequence[int], weights: np.ndarray | Sequence[np.ndarray]
) -> np.ndarray:
    """Sum of the tiles' 1-D ``weights`` over ``[0, size)``: (size,) float32.

    ``weights`` is one array for all tiles or one per tile. With separable weights on a
    full grid the 2-D weight sum is the outer product of the two axes' coverage, so no
    (H, W) weight map is ever stored.
    """
    per_tile = [weights] * len(starts) if isinstance(weights, np.ndarray) else list(weights)
    total = np.zeros(starts[-1] + len(per_tile[-1]), dtype=np.float32)
    for s, wt in zip(starts, per_tile):
        total[s : s + len(wt)] += wt
    return total[:size]


def _span_weights(spans: list[tuple[int, int]], out: int) -> list[np.ndarray]:
    weights = []
    for lo, hi in spans:
        wt = np.zeros(out, dtype=np.float32)
        wt[lo:hi] = 1
        weights.append(wt)
    return weights


# --- test-time augmentation ---------------------------------------------------------------


def _forward(x: torch.Tensor, name: str) -> torch.Tensor:
    if name == "identity":
        return x
    if name.startswith("rot"):
        return torch.rot90(x, int(name[3:]) // 90, (-2, -1))
    if name == "hflip":
        return x.flip(-1)
    if name == "vflip":
        return x.flip(-2)
    if name == "transpose":
        return x.transpose(-2, -1)
    if name == "antitranspose":
        return x.flip(-2, -1).transpose(-2, -1)
    raise UnetlabError(f"unknown TTA transform {name!r}: choose from {', '.join(TTA_TRANSFORMS)}")


def _inverse(y: torch.Tensor, name: str) -> torch.Tensor:
    if name.startswith("rot"):
        return torch.rot90(y, -(int(name[3:]) // 90), (-2, -1))
    return _forward(y, name)  # flips and transposes are their own inverses


def tta_names(tta: bool | str | Sequence[str]) -> tuple[str, ...]:
    """``True`` -> all 8 transforms, ``False`` -> none; or a subset by name."""
    if tta is True:
        return TTA_TRANSFORMS
    if tta is False or tta is None:
        return ()
    names = (tta,) if isinstance(tta, str) else tuple(tta)
    if unknown := [n for n in names if n not in TTA_TRANSFORMS]:
        raise UnetlabError(
            f"unknown TTA {worded(len(unknown), 'transform')} {unknown}: "
            f"choose from {list(TTA_TRANSFORMS)}"
        )
    if not names:
        raise UnetlabError("tta: the list of transforms is empty; pass False for no TTA")
    return names


def with_tta(fn: Callable, names: Sequence[str]) -> Callable:
    """``fn`` averaged over flipped/rotated copies of its (N, C, H, W) input, each output
    mapped back. Rotations swap H and W, so a non-square tile must be valid both ways."""
    names = tuple(names)
    for name in names:
        _forward(torch.zeros(1, 1, 1, 1), name)  # validate names early

    def averaged(x: torch.Tensor) -> torch.Tensor:
        total = None
        for name in names:
            y = _inverse(fn(_forward(x, name)), name)
            total = y.float() if total is None else total + y
        return total / len(names)

    return averaged


# --- the loop -----------------------------------------------------------------------------


def _as_hwc(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image[:, :, None]
    if image.ndim == 3:
        return image
    raise UnetlabError(f"image must be (H, W) or (H, W, C), not shape {image.shape}")


def _same_device(a, b) -> bool:
    """``cuda`` and ``cuda:0`` are the same device when 0 is the current one."""
    a, b = torch.device(a), torch.device(b)
    if a.type != b.type:
        return False
    if a.type == "cuda":
        current = torch.cuda.current_device()
        return (a.index if a.index is not None else current) == (
            b.index if b.index is not None else current
        )
    return True


def _placed(batch) -> list[tuple[int, int, int]]:
    """(place in the batch, row of tiles, column) of each of a batch's tiles, its zero
    stand-ins (None) left out."""
    return [(i, *tile) for i, tile in enumerate(batch) if tile is not None]


class _Band:
    """Output rows of one row of tiles: ``acc`` (K, rows, W) float32, zeroed (numpy, or a
    tensor), accumulated as its ``tiles`` finish."""

    def __init__(self, acc, tiles: int):
        self.acc = acc
        self.remaining = tiles


class _Rows:
    """The output rows being stitched: one :class:`_Band` per row of tiles, started on its
    first tile (or on the rows the band above carries into it), yielded in order once all
    its tiles are in. A band's carry is summed before the next band's tiles, also where one
    batch holds the tiles of both, so the sums (and the blocks, bit for bit) do not depend
    on the batch size."""

    def __init__(self, grid: TileGrid, layout, zeros):
        self.grid, self.layout, self.zeros = grid, layout, zeros
        self.bands: dict[int, _Band] = {}
        self.next = 0  # the band to yield next
        self.ready: list[tuple] = []  # (y, block) finished within a batch, to yield

    def add(self, batch, pred) -> int:
        """Add a batch's tile outputs (its stand-ins, None, skipped); the tiles added."""
        placed = _placed(batch)
        for i, k, j in placed:
            while self.next < k and self._complete():  # its carry before band k's tiles
                self._finish(pred.shape[1])
            band = self._band(k, pred.shape[1])
            self.layout.add(band.acc, self.grid.ys[k], k, j, pred[i])
            band.remaining -= 1
        return len(placed)

    def finished(self, channels: int) -> Iterator[tuple]:
        """(y, block) of each band finished, in order; a band's carry goes to the next."""
        while self.ready:
            yield self.ready.pop(0)
        while self._complete():
            y, (block, carry) = self.grid.ys[self.next], self._finished_band()
            yield y, block
            self._carry(carry, channels)

    def _complete(self) -> bool:
        return self.next in self.bands and self.bands[self.next].remaining == 0

    def _finished_band(self) -> tuple:
        return self.layout.finish(self.next, self.bands.pop(self.next).acc)

    def _finish(self, channels: int) -> None:
        """Band ``next`` finished into :attr:`ready`, its carry added to the band below."""
        y, (block, carry) = self.grid.ys[self.next], self._finished_band()
        self.ready.append((y, block))
        self._carry(carry, channels)

    def _carry(self, carry, channels: int) -> None:
        self.next += 1
        if carry is not None:
            self._band(self.next, channels).acc[:, : carry.shape[1]] += carry

    def _band(self, k: int, channels: int) -> _Band:
        if k not in self.bands:
            shape = (channels, self.layout.rows(k), self.layout.width)
            self.bands[k] = _Band(self.zeros(shape), len(self.grid.xs))
        return self.bands[k]


class _Abutting:
    """Valid padding: tile outputs abut; where the last tiles overlap, the earlier tile's
    pixels are kept, so the result equals one-piece prediction."""

    def __init__(self, grid: TileGrid):
        self.grid = grid
        self.ends = [*grid.ys[1:], grid.shape[0]]  # rows [ys[k], ends[k]) finish with band k
        self.width = grid.shape[1]

    def rows(self, k: int) -> int:
        return self.ends[k] - self.grid.ys[k]

    def add(self, acc, top: int, k: int, j: int, tile) -> None:
        """Place tile (k, j)'s output in ``acc``, whose row 0 is image row ``top``."""
        (ys, xs), y1 = (self.grid.ys, self.grid.xs), self.ends[k]
        x0, x1 = xs[j], xs[j + 1] if j + 1 < len(xs) else self.width
        target, part = _clipped(acc, ys[k] - top, x0, tile[:, : y1 - ys[k], : x1 - x0])
        target[...] = part

    def divide(self, block, k: int) -> None:
        """Nothing to divide: abutting tiles are not blended."""

    def finish(self, k: int, acc):
        """(block of finished rows, rows carried into band k + 1 or None)."""
        return acc, None


class _Blended:
    """Same padding: overlapping tile outputs are summed with weights and divided by the
    weights' coverage (separable: the outer product of two 1-D coverages)."""

    def __init__(self, grid: TileGrid, weights_y, weights_x, here):
        (h, w), ow = grid.shape, grid.out_tile[1]
        self.grid = grid
        self.ends = [*grid.ys[1:], h]
        self.width = grid.xs[-1] + ow
        self.norm_y = here(coverage(h, grid.ys, weights_y))
        self.norm_x = here(coverage(w, grid.xs, weights_x))

    def rows(self, k: int) -> int:
        return self.grid.out_tile[0]

    def divide(self, block, k: int) -> None:
        """Divide ``block``, band k's finished rows (``ys[k]`` to ``ends[k]``, all columns
        of the image), by the weights' coverage, in place."""
        y0, y1 = self.grid.ys[k], self.ends[k]
        block /= self.norm_y[y0:y1, None] * self.norm_x[None, :]

    def finish(self, k: int, acc):
        y0, y1 = self.grid.ys[k], self.ends[k]
        block = acc[:, : y1 - y0, : self.grid.shape[1]]
        self.divide(block, k)
        carry = acc[:, y1 - y0 :] if k + 1 < len(self.grid.ys) else None
        return block, carry


class _Mean(_Blended):
    """``"mean"``: each tile adds its kept interior (:func:`kept_spans`) with weight 1."""

    def __init__(self, grid: TileGrid, here):
        (oh, ow) = grid.out_tile
        self.span_y, self.span_x = kept_spans(grid.ys, oh, grid.row_step), kept_spans(grid.xs, ow)
        super().__init__(grid, _span_weights(self.span_y, oh), _span_weights(self.span_x, ow), here)

    def add(self, acc, top: int, k: int, j: int, tile) -> None:
        (a, b), (c, d), x0 = self.span_y[k], self.span_x[j], self.grid.xs[j]
        target, part = _clipped(acc, self.grid.ys[k] - top + a, x0 + c, tile[:, a:b, c:d])
        target += part


class _Weighted(_Blended):
    """``"gaussian"`` (or any separable weight): each whole tile adds ``tile * weight``."""

    def __init__(self, grid: TileGrid, blend: str, here):
        wy, wx = blend_weights(grid.out_tile[0], blend), blend_weights(grid.out_tile[1], blend)
        super().__init__(grid, wy, wx, here)
        self.weight = here(wy[:, None] * wx[None, :])

    def add(self, acc, top: int, k: int, j: int, tile) -> None:
        target, part = _clipped(acc, self.grid.ys[k] - top, self.grid.xs[j], tile)
        target += part * self.weight[: part.shape[1], : part.shape[2]]


def _clipped(acc, y: int, x: int, part):
    """(the window of ``acc`` at row ``y``, column ``x`` of ``part``'s size, ``part``),
    both cut to where that window lies inside ``acc``: a tile's pixels beyond the image
    are dropped as they come instead of in a wider buffer."""
    h = max(0, min(part.shape[1], acc.shape[1] - y))
    w = max(0, min(part.shape[2], acc.shape[2] - x))
    return acc[:, y : y + h, x : x + w], part[:, :h, :w]


class _Into:
    """The whole output ``out`` (K, H, W), zeroed, stitched in place: each tile added where
    it goes as it comes, in raster order (the order :class:`_Rows` sums them in, a row's
    carry first), each row of tiles' finished rows divided once its tiles are all in. No
    band buffers: 11 classes of a 12 MP photo held two of 189 MB beside the output
    (bench/README.md "Memory of a photo")."""

    def __init__(self, grid: TileGrid, layout, zeros):
        self.grid, self.layout, self.zeros = grid, layout, zeros
        self.out = None  # made on the first tile, which says K
        self.remaining = [len(grid.xs)] * len(grid.ys)  # tiles still to come, per row
        self.next = 0  # the row of tiles to finish next

    def add(self, batch, pred) -> int:
        """Add a batch's tile outputs (its stand-ins, None, skipped); the tiles added."""
        placed = _placed(batch)
        for i, k, j in placed:
            if self.out is None:
                self.out = self.zeros((pred.shape[1], *self.grid.shape))
            self.layout.add(self.out, 0, k, j, pred[i])
            self.remaining[k] -= 1
            self._finish()
        return len(placed)

    def _finish(self) -> None:
        while self.next < len(self.remaining) and self.remaining[self.next] == 0:
            y0, y1 = self.grid.ys[self.next], self.layout.ends[self.next]
            self.layout.divide(self.out[:, y0:y1], self.next)
            self.next += 1


def _layout(grid: TileGrid, blend: str, here):
    blend_weights(1, blend)  # validate the name even where it does not apply
    if grid.abut:
        return _Abutting(grid)
    return _Mean(grid, here) if blend == "mean" else _Weighted(grid, blend, here)


def _tile_batches(image, grid: TileGrid, batch_size: int, stats, device, as_tensors: bool):
    """Yield (tile indices [(k, j), ...], (B, C, th, tw) float32 channels-last input): tiles
    read mirrored and normalised straight into one reused buffer, moved to ``device``. The
    first batch starts with ``grid.lead`` zero stand-ins (None in the indices)."""
    here = (lambda a: torch.as_tensor(a, device=device)) if as_tensors else (lambda a: a)
    if stats is not None:
        mean = here(np.asarray(stats[0], dtype=np.float32))
        std = here(np.asarray(stats[1], dtype=np.float32))
    (th, tw), channels = grid.tile, image.shape[2]
    tiles = [(k, j) for k in range(len(grid.ys)) for j in range(len(grid.xs))]
    tiles = [None] * (grid.lead % batch_size) + tiles
    batch_size = min(batch_size, len(tiles))  # a buffer of 100000 tiles for one: 3.9 GB
    buffer = torch.empty((batch_size, channels, th, tw), device=device if as_tensors else "cpu")
    buffer = buffer.to(memory_format=torch.channels_last)
    buffer_hwc = buffer.permute(0, 2, 3, 1)
    buffer_hwc = buffer_hwc if as_tensors else buffer_hwc.numpy()
    for first in range(0, len(tiles), batch_size):
        batch = tiles[first : first + batch_size]
        for i, tile in enumerate(batch):
            out = buffer_hwc[i]
            if tile is None:  # a stand-in for a tile of the whole grid
                out[...] = 0
                continue
            k, j = tile
            out[...] = reflect_window(image, grid.ys[k] - grid.pad, grid.xs[j] - grid.pad, th, tw)
            if stats is not None:
                out -= mean
                out /= std
        x = buffer[: len(batch)]
        if device is not None and not as_tensors:
            x = x.to(device, non_blocking=True)
        yield batch, x


def _checked(pred: torch.Tensor, x: torch.Tensor, grid: TileGrid, as_tensors: bool):
    """``fn``'s output as float32 (numpy on the host, or a tensor where the image is)."""
    oh, ow = grid.out_tile
    if pred.shape[0] != x.shape[0] or tuple(pred.shape[2:]) != (oh, ow):
        raise UnetlabError(
            f"fn returned shape {tuple(pred.shape)} for input {tuple(x.shape)}; "
            f"expected ({x.shape[0]}, K, {oh}, {ow}) for this geometry"
        )
    return pred.detach().float() if as_tensors else pred.detach().to("cpu", torch.float32).numpy()


def _placement(image, device):
    """(device, as_tensors, here, zeros): where the work's arrays live: numpy on the host,
    or tensors on a tensor image's device."""
    as_tensors = isinstance(image, torch.Tensor)
    if as_tensors:
        if device is not None and not _same_device(device, image.device):
            raise UnetlabError(f"image is on {image.device} but device {device} was asked for")
        device = image.device
        return (
            device,
            True,
            (lambda a: torch.as_tensor(a, device=device)),
            (lambda shape: torch.zeros(shape, device=device)),
        )
    return device, False, (lambda a: a), page_zeros  # float32, outside the activations' heap


def iter_tiled_rows(
    fn: Callable[[torch.Tensor], torch.Tensor],
    image: np.ndarray,
    grid: TileGrid,
    *,
    batch_size: int = 1,
    blend: str = "mean",
    stats: tuple[np.ndarray, np.ndarray] | None = None,
    device: torch.device | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Run ``fn`` over batches of tiles; yield ``(y, block)`` as output rows are finished.

    ``image``: (H, W) or (H, W, C), any real dtype, never modified: a numpy array
    (memory-mapped is fine; tiles are cut on the host and moved to ``device``), or a torch
    tensor, in which case everything (tiles, normalisation, stitching) stays on its device,
    with no host round trip per tile. ``stats``: per-channel (mean, std) applied per tile
    as (x - mean) / std in float32; None casts to float32 only. ``fn`` takes (B, C, h, w)
    float32 tensors in channels-last layout on ``device`` (default CPU; the tensor's own
    for a tensor image) and returns (B, K, h', w') with h' = h - 2 * border. Blocks are
    (K, rows, W) float32 (numpy, or tensors on the image's device), in order, covering
    rows 0..H-1 exactly once (from ``grid.ys[0]`` for a band's grid that starts lower). ``progress(n)`` is called after each batch with the number
    of tiles it held.
    """
    image, device, as_tensors, layout, zeros = _prepared(image, grid, batch_size, blend, device)
    rows = _Rows(grid, layout, zeros)
    for batch, x in _tile_batches(image, grid, batch_size, stats, device, as_tensors):
        pred = _checked(fn(x), x, grid, as_tensors)
        added, channels = rows.add(batch, pred), pred.shape[1]
        del pred  # not held through the next batch's forward pass
        if progress is not None:
            progress(added)
        yield from rows.finished(channels)


def _prepared(image, grid: TileGrid, batch_size: int, blend: str, device):
    """(image as (H, W, C), device, as_tensors, layout, zeros) of a tiled prediction
    (:func:`iter_tiled_rows`' arguments), its bad arguments refused before any tile."""
    if batch_size < 1:
        raise UnetlabError(f"batch_size must be at least 1, not {batch_size}")
    device, as_tensors, here, zeros = _placement(image, device)
    image = _as_hwc(image)
    if image.shape[:2] != grid.shape:
        raise UnetlabError(f"image shape {image.shape[:2]} does not match the grid's {grid.shape}")
    return image, device, as_tensors, _layout(grid, blend, here), zeros


def tiled_apply(
    fn: Callable[[torch.Tensor], torch.Tensor],
    image: np.ndarray,
    grid: TileGrid,
    *,
    batch_size: int = 1,
    blend: str = "mean",
    stats: tuple[np.ndarray, np.ndarray] | None = None,
    device: torch.device | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """:func:`iter_tiled_rows`' rows as one (K, H, W) float32 array: numpy for a numpy
    image, a tensor on its device for a tensor image. The tiles are stitched straight into
    it (:class:`_Into`), the same sums in the same order as the rows' blocks."""
    image, device, as_tensors, layout, zeros = _prepared(image, grid, batch_size, blend, device)
    into = _Into(grid, layout, zeros)
    for batch, x in _tile_batches(image, grid, batch_size, stats, device, as_tensors):
        added = into.add(batch, _checked(fn(x), x, grid, as_tensors))
        if progress is not None:
            progress(added)
    return into.out


def largest_tile(geometry: Geometry, max_pixels: float, *, other: int | None = None) -> int:
    """The largest valid tile with tile * (other or tile) <= ``max_pixels`` (at least the
    smallest workable tile)."""
    if other is None:
        side = int(math.isqrt(int(max(max_pixels, 1))))
    else:
        side = int(max_pixels // max(other, 1))
    return max(geometry.round_down(side), geometry.min_tile())
