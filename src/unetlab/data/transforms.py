"""Paired augmentation of training tiles: the paper's elastic deformation, flips, turns,
rotations, shifts and grey value variation (Ronneberger et al. 2015, sec. 3.1; SPEC §4).

Functional core (numpy in, numpy out; inputs never modified):

- :func:`elastic_displacement`: a smooth random displacement field: vectors drawn from a
  Gaussian (``sigma`` px std) on a coarse ``grid`` x ``grid`` grid whose corner points sit on
  the tile's corner pixels, interpolated to every pixel by a bicubic spline.
- :func:`affine_matrix` + :func:`sample_coords`: flips, quarter turns, a rotation, a shift and
  the displacement field composed into ONE map of source coordinates, so every array is
  interpolated once.
- :func:`warp`: sample an array at those coordinates. ``order`` 3 (bicubic, images),
  0 (nearest: label masks, which keep their label set, and weight maps, whose every pixel
  keeps the weight of the pixel its label came from), 1 (bilinear) on request.
- :func:`flip_rot90`: the exact, interpolation-free path when only flips and quarter turns are
  drawn.
- :func:`adjust_grey`: gamma, contrast and brightness on an (already normalised) image.
- :func:`stain_jitter`: the stains of an RGB (H&E, IHC) image varied: its colours unmixed
  into haematoxylin, eosin and DAB, each scaled and shifted, mixed back (Tellez et al. 2019),
  so that a net trained on one stain batch meets another's colours.

:class:`Augment` draws the random parameters from a ``numpy.random.Generator`` and applies
them to an (image, mask, weight) triple.

Why ``torch.nn.functional.grid_sample`` does the sampling: on this project's 2-core CPU (one
torch thread) a 256x256 tile takes 1.2-1.8 ms bicubic / 0.5 ms bilinear / 0.4 ms nearest with
it, against 6.5-12.6 / 2.1-3.3 / 1.9-2.8 ms for ``scipy.ndimage.map_coordinates`` (order 3 /
1 / 0), i.e. 4-7x less (bench/bench_augment.py, shared CPU, so noisy). Its bicubic is cubic
convolution (Keys, a = -0.75, the "bicubic" of image editors), not a cubic B-spline: it needs
no prefilter and keeps constants exactly, but bends a linear ramp by up to 0.05 px. Masks are
never interpolated (nearest), so labels are unaffected.

A whole sample (image + mask + weight map, 256x256) costs 0.3-0.5 ms with flips and turns only,
and 3.4-4.6 ms with elastic warp, rotation, shift and grey variation all applied: a few % of a
training step of the "small" preset.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from unetlab.deferred import deferred
from unetlab.errors import UnetlabError, refuses_assignment, set_to, spelled
from unetlab.words import numbered

ndimage = deferred("scipy.ndimage")

log = logging.getLogger(__name__)

ORDERS = {0: "nearest", 1: "bilinear", 3: "bicubic"}
MODES = {"reflect": "reflection", "nearest": "border", "constant": "zeros"}


# ---------------------------------------------------------------- displacement and coordinates


@lru_cache(maxsize=32)
def _spline_matrix(size: int, grid: int) -> np.ndarray:
    """(size, grid) float64: row i holds the cubic-spline weights of the grid points at pixel i.

    Column j is the spline through the unit vector e_j (grid point 0 on pixel 0, the last
    grid point on pixel size - 1), so ``A @ values`` interpolates any grid values.
    """
    eye = np.eye(grid)
    cols = [ndimage.zoom(eye[j], size / grid, order=3, mode="mirror") for j in range(grid)]
    matrix = np.stack(cols, axis=1)
    matrix.setflags(write=False)
    return matrix


def elastic_displacement(
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    grid: int = 3,
    sigma: float = 10.0,
) -> np.ndarray:
    """(2, H, W) float32 random displacements (rows, cols) in px, the paper's elastic warp.

    ``grid`` x ``grid`` vectors drawn from N(0, sigma^2) per axis, corner vectors on the
    corner pixels, interpolated to every pixel by a bicubic spline (equal to
    ``scipy.ndimage.zoom(values, order=3, mode="mirror")``, computed as two small matrix
    products, ~50x faster).
    """
    _check_rng(rng)
    if grid < 2:
        raise UnetlabError(f"elastic grid must have at least 2 points per axis, not {grid}")
    h, w = shape
    values = rng.normal(0.0, sigma, size=(2, grid, grid))
    rows, cols = _spline_matrix(h, grid), _spline_matrix(w, grid)
    return (rows @ values @ cols.T).astype(np.float32)


def affine_matrix(
    *, degrees: float = 0.0, k90: int = 0, flip_y: bool = False, flip_x: bool = False
) -> np.ndarray:
    """(2, 2) float64 matrix from output offsets to source offsets (row, col), about the centre.

    Composition: flips, then ``k90`` counter-clockwise quarter turns (as ``np.rot90``), then a
    rotation by ``degrees``: ``flip_rot90`` of the same flips and turns gives the same result.
    """
    flip = np.diag([-1.0 if flip_y else 1.0, -1.0 if flip_x else 1.0])
    turn = np.linalg.matrix_power(np.array([[0.0, 1.0], [-1.0, 0.0]]), k90 % 4)
    rad = math.radians(degrees)
    rotate = np.array([[math.cos(rad), -math.sin(rad)], [math.sin(rad), math.cos(rad)]])
    return flip @ turn @ rotate


def sample_coords(
    shape: tuple[int, int],
    *,
    matrix: np.ndarray | None = None,
    shift: tuple[float, float] = (0.0, 0.0),
    displacement: np.ndarray | None = None,
) -> np.ndarray:
    """(2, H, W) float32 source coordinates (row, col) of every output pixel.

    ``source = centre + matrix @ (pixel - centre) - shift + displacement(pixel)``: the content
    moves by ``shift`` px; ``displacement`` is a (2, H, W) field from
    :func:`elastic_displacement`.
    """
    h, w = shape
    m = np.eye(2) if matrix is None else np.asarray(matrix, dtype=np.float64)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    dy = (np.arange(h, dtype=np.float32) - cy)[:, None]
    dx = (np.arange(w, dtype=np.float32) - cx)[None, :]
    coords = np.empty((2, h, w), np.float32)
    coords[0] = (cy - shift[0]) + m[0, 0] * dy + m[0, 1] * dx
    coords[1] = (cx - shift[1]) + m[1, 0] * dy + m[1, 1] * dx
    if displacement is not None:
        coords += displacement
    return coords


def warp(array: np.ndarray, coords: np.ndarray, *, order: int, mode: str = "reflect") -> np.ndarray:
    """Sample ``array`` at ``coords``: (H, W) or (C, H, W) -> (H', W') or (C, H', W').

    ``coords``: (2, H', W') source (row, col) in px, pixel centres at integers. ``order``: 3
    bicubic, 1 bilinear, 0 nearest (the only one allowed for integer arrays, which come back
    in their own dtype and keep their set of values). ``mode`` for points outside: "reflect"
    (about the image edge: ... b a | a b ...), "nearest" (edge value) or "constant" (0).
    """
    if order not in ORDERS:
        raise ValueError(f"warp order must be one of {sorted(ORDERS)}, not {order}")
    if mode not in MODES:
        raise ValueError(f"warp mode must be one of {sorted(MODES)}, not {mode!r}")
    array = np.asarray(array)
    if array.ndim not in (2, 3) or coords.ndim != 3 or coords.shape[0] != 2:
        raise ValueError(
            f"warp needs an (H, W) or (C, H, W) array and (2, H', W') coords, "
            f"not {array.shape} and {coords.shape}"
        )
    integer = not np.issubdtype(array.dtype, np.floating)
    if integer and order != 0:
        raise ValueError("interpolating labels would mix classes: warp integer masks with order=0")
    h, w = array.shape[-2:]
    # grid_sample with align_corners=False: -1 and +1 are the outer pixel edges
    grid = np.empty((1, *coords.shape[1:], 2), np.float32)
    grid[0, ..., 0] = coords[1] * (2.0 / w) + (1.0 / w - 1.0)
    grid[0, ..., 1] = coords[0] * (2.0 / h) + (1.0 / h - 1.0)
    # float32 holds every integer label up to 2**24 exactly, and is 4x faster here
    wide = array.dtype == np.float64 or (integer and array.size and np.abs(array).max() >= 2**24)
    work = np.float64 if wide else np.float32
    source = torch.from_numpy(np.ascontiguousarray(array, dtype=work))
    source = source.reshape(1, -1, h, w)
    out = F.grid_sample(
        source,
        torch.from_numpy(grid).to(source.dtype),
        mode=ORDERS[order],
        padding_mode=MODES[mode],
        align_corners=False,
    )[0].numpy()
    out = out.reshape(*array.shape[:-2], *coords.shape[1:])
    return out.astype(array.dtype) if integer else out.astype(array.dtype, copy=False)


def flip_rot90(array: np.ndarray, *, flip_y: bool = False, flip_x: bool = False, k: int = 0):
    """Flip, then turn ``k`` quarter turns (``np.rot90``) on the last two axes; a new array."""
    if flip_y:
        array = np.flip(array, axis=-2)
    if flip_x:
        array = np.flip(array, axis=-1)
    if k % 4:
        array = np.rot90(array, k % 4, axes=(-2, -1))
    return np.array(array, copy=True, order="C")


# ---------------------------------------------------------------- grey values


def adjust_grey(
    image: np.ndarray, *, gamma: float = 1.0, contrast: float = 1.0, brightness: float = 0.0
) -> np.ndarray:
    """(C, H, W) float image -> a new one with grey values varied, channel by channel.

    In order: ``gamma`` on the tile's own range (``lo + (hi - lo) * t**gamma`` with ``t`` in
    [0, 1], so it works on zero-mean normalised data), ``contrast`` scales about the mean,
    ``brightness`` is added (in the image's units: std units after normalisation).
    """
    out = np.array(image, dtype=np.float32, copy=True)
    if gamma != 1.0:
        lo = out.min(axis=(-2, -1), keepdims=True)
        span = np.maximum(out.max(axis=(-2, -1), keepdims=True) - lo, 1e-6)
        out = lo + span * np.power((out - lo) / span, np.float32(gamma))
    if contrast != 1.0:
        mean = out.mean(axis=(-2, -1), keepdims=True)
        out = mean + np.float32(contrast) * (out - mean)
    if brightness != 0.0:
        out += np.float32(brightness)
    return out


# ---------------------------------------------------------------- stain colour

#: optical density of haematoxylin, eosin and DAB in red, green, blue, one stain a row
#: (Ruifrok & Johnston 2001; ``skimage.color.rgb_from_hed``), each row of unit length
HED_FROM_RGB_ROWS = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]])
RGB_FROM_HED = HED_FROM_RGB_ROWS / np.linalg.norm(HED_FROM_RGB_ROWS, axis=1, keepdims=True)
HED_FROM_RGB = np.linalg.inv(RGB_FROM_HED)


def stain_matrix(scale, shift) -> tuple[np.ndarray, np.ndarray]:
    """(3, 3) matrix and (3,) offset of the stain jitter: each of the haematoxylin, eosin and
    DAB amounts of a pixel (its colour unmixed by :data:`HED_FROM_RGB`) multiplied by
    ``scale[s]`` and raised by ``shift[s]``, then mixed back to red, green, blue. Tellez et
    al. 2019 (Med. Image Anal. 58, "HED" augmentation) do this in optical density; here it
    acts on the normalised channels, a per-channel affine map of the intensities, in which
    unmixing is linear too (more stain: lower values, the sign only flips ``shift``)."""
    scale, shift = np.asarray(scale, np.float64), np.asarray(shift, np.float64)
    matrix = RGB_FROM_HED.T @ np.diag(scale) @ HED_FROM_RGB.T
    return matrix.astype(np.float32), (RGB_FROM_HED.T @ shift).astype(np.float32)


def stain_jitter(image: np.ndarray, scale, shift) -> np.ndarray:
    """(3, H, W) float RGB image (normalised) -> a new one whose stains are varied:
    :func:`stain_matrix` applied to every pixel about the tile's mean colour (so a ``shift``
    of 0 keeps it). ``scale`` and ``shift`` are 3 numbers each (H, E, DAB)."""
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"stain jitter needs a (3, H, W) RGB image, not {image.shape}")
    matrix, offset = stain_matrix(scale, shift)
    x = np.asarray(image, np.float32).reshape(3, -1)
    mean = x.mean(axis=1, keepdims=True)
    out = matrix @ x
    out += mean - matrix @ mean + offset[:, None]
    return out.reshape(image.shape)


# ---------------------------------------------------------------- the composed augmentation


#: the setting that turns stain jitter off, as the caller of a run with it on grey images
#: sets it (a notebook's fit was told --set, s53)
STAIN_OFF = set_to("augment.stain", 0)


@refuses_assignment
@dataclass(frozen=True)
class Augment:
    """Random paired augmentation; ``Augment(**cfg.augment.options())`` from a config.

    Geometry (one coordinate map, one interpolation per array): each axis flipped with
    probability ``p_flip`` (``flip``; the vertical axis only with ``vflip`` too: off for images
    that have an up, such as street scenes); with probability ``p_rot90`` a turn by 1, 2 or 3
    quarters (the default 0.75 makes the 4 turns equally likely; a non-square tile only turns
    by 2 so its shape holds); a rotation by U(-rotate, rotate) degrees, a shift by U(-shift,
    shift) px per axis and the elastic warp (``grid`` x ``grid`` vectors, ``elastic_sigma`` px
    std), each with its probability. Interpolation: image bicubic, mask and weight nearest
    (each pixel's weight is that of the pixel its label came from; bilinear weights mixed a
    labelled pixel's with its ignored neighbours' 0 and with the other classes'); outside
    points reflect about the tile edge. When only flips and turns are drawn, no
    interpolation.

    Grey values (image only), each with its probability: gamma log-uniform in
    [1 / (1 + gamma), 1 + gamma], contrast factor U(1 - contrast, 1 + contrast), brightness
    offset U(-brightness, brightness) (std units of the normalised image). Stain (RGB images
    only, probability ``p_stain``, after the grey values): :func:`stain_jitter` with each
    stain's scale from U(1 - stain, 1 + stain) and shift from U(-stain, stain).
    """

    elastic: bool = field(
        default=False,
        metadata={"help": "the paper's elastic deformation (a smooth random displacement field)"},
    )
    elastic_sigma: float = field(
        default=10.0,
        metadata={"help": "std of the elastic displacement vectors, px (the paper: 10)"},
    )
    grid: int = field(
        default=3,
        metadata={
            "help": "the elastic displacement vectors lie on a grid x grid grid (the paper: 3)"
        },
    )
    flip: bool = field(
        default=True,
        metadata={"help": "random flips of the horizontal axis (the vertical too with vflip)"},
    )
    vflip: bool = field(
        default=True,
        metadata={
            "help": "flip the vertical axis too (off for images that have an up: street scenes)"
        },
    )
    rot90: bool = field(
        default=True,
        metadata={"help": "random quarter turns (a non-square tile turns by half turns only)"},
    )
    rotate: float = field(
        default=0.0,
        metadata={"help": "largest rotation, degrees: each drawn from U(-rotate, rotate) (0: off)"},
    )
    shift: float = field(
        default=0.0,
        metadata={"help": "largest shift, px per axis: drawn from U(-shift, shift) (0: off)"},
    )
    brightness: float = field(
        default=0.1,
        metadata={
            "help": "largest brightness offset, in std units of the normalised image (0: off)"
        },
    )
    contrast: float = field(
        default=0.1,
        metadata={"help": "largest contrast change: a factor from U(1 - contrast, 1 + contrast)"},
    )
    gamma: float = field(
        default=0.0,
        metadata={"help": "gamma drawn log-uniform in [1 / (1 + gamma), 1 + gamma] (0: off)"},
    )
    p_elastic: float = field(
        default=0.5, metadata={"help": "probability of the elastic deformation per tile"}
    )
    p_flip: float = field(default=0.5, metadata={"help": "probability of flipping each axis"})
    p_rot90: float = field(
        default=0.75,
        metadata={"help": "probability of a quarter turn (0.75 makes the 4 turns equally likely)"},
    )
    p_rotate: float = field(default=0.5, metadata={"help": "probability of a rotation"})
    p_shift: float = field(default=0.5, metadata={"help": "probability of a shift"})
    p_brightness: float = field(
        default=0.5, metadata={"help": "probability of a brightness offset"}
    )
    p_contrast: float = field(default=0.5, metadata={"help": "probability of a contrast change"})
    p_gamma: float = field(default=0.5, metadata={"help": "probability of a gamma change"})
    stain: float = field(
        default=0.0,
        metadata={
            "help": "stain (colour) jitter of RGB images: haematoxylin, eosin, DAB each scaled "
            "by U(1 - stain, 1 + stain) and shifted by U(-stain, stain) std units (0: off)"
        },
    )
    p_stain: float = field(default=0.5, metadata={"help": "probability of a stain jitter"})

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("p_") and not 0.0 <= value <= 1.0:
                raise UnetlabError(f"augment {f.name} must be a probability in [0, 1], not {value}")
        if self.grid < 2:
            raise UnetlabError(f"augment grid must be at least 2 (the paper: 3), not {self.grid}")
        for name in ("elastic_sigma", "rotate", "shift", "brightness", "gamma", "stain"):
            if getattr(self, name) < 0:
                raise UnetlabError(f"augment {name} must be at least 0, not {getattr(self, name)}")
        if not 0.0 <= self.contrast < 1.0:
            raise UnetlabError(f"augment contrast must be in [0, 1), not {self.contrast}")
        if self.stain >= 1.0:
            raise UnetlabError(f"augment stain must be in [0, 1) (0.2: strong), not {self.stain}")

    def __call__(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        weight: np.ndarray | None = None,
        *,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Augment one tile; new arrays of the input shapes and dtypes.

        Args:
            image: (C, H, W) float32, already normalised.
            mask: (H, W) int64 class indices (IGNORE_INDEX allowed).
            weight: optional (H, W) float32 per-pixel loss weights.
            rng: the random source, e.g. ``np.random.default_rng(seed)`` (reproducible).
        """
        _check_rng(rng)
        _check_triple(image, mask, weight)
        moves = self._draw_moves(rng, mask.shape)
        image, mask, weight = _move(image, mask, weight, moves)
        return self._vary_grey(image, rng), mask, weight

    def _draw_moves(self, rng: np.random.Generator, shape: tuple[int, int]) -> _Moves:
        """The geometry's random parameters, drawn in this order (seeded runs repeat)."""
        h, w = shape
        flip_y = self.flip and rng.random() < self.p_flip and self.vflip  # draws as before
        flip_x = self.flip and rng.random() < self.p_flip
        k90 = 0
        if self.rot90 and rng.random() < self.p_rot90:
            k90 = int(rng.integers(1, 4)) if h == w else 2
        degrees = self._draw(rng, self.rotate, self.p_rotate)
        shift = (0.0, 0.0)
        if self.shift > 0 and rng.random() < self.p_shift:
            shift = tuple(rng.uniform(-self.shift, self.shift, size=2))
        displacement = None
        if self.elastic and self.elastic_sigma > 0 and rng.random() < self.p_elastic:
            displacement = elastic_displacement(
                (h, w), rng, grid=self.grid, sigma=self.elastic_sigma
            )
        return _Moves(flip_y, flip_x, k90, degrees, shift, displacement)

    def _vary_grey(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Gamma, contrast, brightness, then the stain jitter, drawn after the geometry."""
        gamma = 1.0
        if self.gamma > 0 and rng.random() < self.p_gamma:
            gamma = math.exp(rng.uniform(-1.0, 1.0) * math.log1p(self.gamma))
        contrast = 1.0 + self._draw(rng, self.contrast, self.p_contrast)
        brightness = self._draw(rng, self.brightness, self.p_brightness)
        image = adjust_grey(image, gamma=gamma, contrast=contrast, brightness=brightness)
        if self.stain > 0 and rng.random() < self.p_stain:  # no draw when off: runs repeat
            image = self._stain(image, rng)
        return image

    def _stain(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if image.shape[0] != 3:
            said = (
                f"augment.stain varies the stains of RGB images, and these have "
                f"{numbered(image.shape[0], 'channel')}: "
            )
            raise UnetlabError(**spelled(lambda off: said + off, STAIN_OFF))
        scale = rng.uniform(1.0 - self.stain, 1.0 + self.stain, size=3)
        return stain_jitter(image, scale, rng.uniform(-self.stain, self.stain, size=3))

    @staticmethod
    def _draw(rng: np.random.Generator, limit: float, p: float) -> float:
        """U(-limit, limit) with probability p, else 0."""
        if limit > 0 and rng.random() < p:
            return float(rng.uniform(-limit, limit))
        return 0.0


class _Moves(NamedTuple):
    """One tile's drawn geometry (:meth:`Augment._draw_moves`)."""

    flip_y: bool
    flip_x: bool
    k90: int
    degrees: float
    shift: tuple[float, float]
    displacement: np.ndarray | None


def _move(image, mask, weight, moves: _Moves) -> tuple:
    """(image, mask, weight) moved by ``moves``: flips and quarter turns exactly when that is
    all, else one coordinate map sampled bicubic (image) and nearest (mask, weight: each
    pixel's weight the one of the pixel its label came from)."""
    if moves.degrees == 0.0 and moves.shift == (0.0, 0.0) and moves.displacement is None:
        flips = {"flip_y": moves.flip_y, "flip_x": moves.flip_x, "k": moves.k90}
        image, mask = flip_rot90(image, **flips), flip_rot90(mask, **flips)
        weight = None if weight is None else flip_rot90(weight, **flips)
        return image, mask, weight
    matrix = affine_matrix(
        degrees=moves.degrees, k90=moves.k90, flip_y=moves.flip_y, flip_x=moves.flip_x
    )
    coords = sample_coords(
        mask.shape, matrix=matrix, shift=moves.shift, displacement=moves.displacement
    )
    image = warp(image, coords, order=3)
    mask = warp(mask, coords, order=0)
    weight = None if weight is None else warp(weight, coords, order=0)
    return image, mask, weight


def _check_rng(rng) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed)), "
            f"not {type(rng).__name__}"
        )


def _check_triple(image, mask, weight) -> None:
    if image.ndim != 3 or mask.ndim != 2 or image.shape[1:] != mask.shape:
        raise ValueError(
            f"augment needs a (C, H, W) image and an (H, W) mask of the same H, W, "
            f"not {image.shape} and {mask.shape}"
        )
    if not np.issubdtype(mask.dtype, np.integer):
        raise ValueError(f"the mask must hold integer class indices, not {mask.dtype}")
    if weight is not None and weight.shape != mask.shape:
        raise ValueError(f"weight map shape {weight.shape} differs from the mask's {mask.shape}")


#: The 8 flips and rotations of the square (the dihedral group D4), by name: the test-time
#: transforms (:mod:`unetlab.inference.tta`)
DIHEDRAL = (
    "identity",
    "rot90",
    "rot180",
    "rot270",
    "hflip",
    "vflip",
    "transpose",
    "antitranspose",
)


def fitting_tta(augment) -> tuple[str, ...]:
    """The test-time transforms a net trained with ``augment`` predicts as well as the image
    itself: the flips and turns it trained with (each also reverses a label offset, so the
    net learned none: :mod:`unetlab.inference.offset`). All 8 for turns with flips; the 4
    turns; both flips and the half turn they make; left-right flips only (``augment.vflip``
    false: images with an up, which the net never saw upside down); none without flips or
    turns."""
    if not augment.enabled:
        return ()
    flip, vflip = augment.flip, augment.flip and augment.vflip
    if augment.rot90:
        return DIHEDRAL if flip else ("identity", "rot90", "rot180", "rot270")
    if vflip:
        return ("identity", "hflip", "vflip", "rot180")
    return ("identity", "hflip") if flip else ()
