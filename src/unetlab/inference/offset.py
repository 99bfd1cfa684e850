"""Where a data set's labels sit relative to its images, and moving predictions there.

Hand-drawn labels are often displaced from the structures they trace by a fraction of a
pixel, the same way in every image: the ISBI 2012 membranes lie half a pixel above the dark
lines of their images. A net trained with flips and rotations cannot learn such a
displacement (each flip reverses it), so it predicts the structures where the image has them,
and every border disagrees with the labels by that fraction of a pixel. Measured once on the
validation images after training, the displacement is stored in the checkpoint
(``label_offset``, (dy, dx) px, down and right) and every prediction is moved by it, after
test-time augmentation.

- :func:`shift_probabilities`: (..., H, W) probabilities moved by a sub-pixel (dy, dx).
- :func:`estimate_offset`: the move, on a grid of quarter pixels within one pixel, that
  maximises the mean IoU of the argmax against the masks, kept only where it beats the
  predictions smoothed as much without a move (:func:`smoothed_score`).
- :func:`label_offset`: a model's stored offset ((0, 0) when it has none);
  :func:`describe_offset` says it in words.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from unetlab.metrics.confusion import class_indices, confusion_matrix, metrics_from_matrix

#: candidate moves per axis (px): quarter pixels up to one pixel either way
STEPS = tuple(i / 4 for i in range(-4, 5))
#: the least mean-IoU gain for which a move is kept, over no move and over the predictions
#: smoothed as much without a move; smaller gains are noise
MIN_GAIN = 0.002
#: ... and raises the mIoU of at least this share of the images on its own (an offset of the
#: annotation is in every image; a lucky move on a few images of a half-trained net is not)
MIN_AGREEING = 2 / 3
#: fewer validation images than this: no offset is measured (chance would decide)
MIN_IMAGES = 3


def label_offset(model) -> tuple[float, float]:
    """The (dy, dx) px a model's predictions are moved by ((0.0, 0.0): not at all)."""
    dy, dx = getattr(model, "label_offset", None) or (0.0, 0.0)
    return float(dy), float(dx)


def check_offset(offset: Sequence[float]) -> tuple[float, float]:
    """``offset`` as (dy, dx) floats; ValueError unless both lie within one pixel."""
    dy, dx = (float(v) for v in offset)
    if not (abs(dy) <= 1 and abs(dx) <= 1):
        raise ValueError(f"label offset {offset} must lie within one pixel on each axis")
    return dy, dx


def describe_offset(offset: Sequence[float]) -> str:
    """``(-0.5, 0.25)`` -> ``"0.50 px up, 0.25 px right"``."""
    dy, dx = (float(v) for v in offset)
    parts = [f"{abs(dy):.2f} px {'down' if dy > 0 else 'up'}"] if dy else []
    parts += [f"{abs(dx):.2f} px {'right' if dx > 0 else 'left'}"] if dx else []
    return ", ".join(parts) or "not moved"


def _along(p: torch.Tensor, axis: int, start: int, stop: int | None) -> torch.Tensor:
    index = [slice(None)] * p.ndim
    index[axis] = slice(start, stop)
    return p[tuple(index)]


def _source(d: float) -> tuple[int, float]:
    """A move of ``d`` px (within one) as out[i] = p[i + start] * (1 - frac) +
    p[i + start + 1] * frac: ``start`` is -1, 0 or 1."""
    start = math.floor(-d)
    return start, -d - start


def shift_axis(p: torch.Tensor, d: float, axis: int) -> torch.Tensor:
    """``p`` moved by ``d`` px (within one) along ``axis``: out[i] = p[i - d], linearly
    interpolated, the edge values repeated beyond the edges. It slices by constants only, so
    a traced or exported graph keeps its sizes dynamic (export.ProbabilityUNet)."""
    if d == 0:
        return p
    start, frac = _source(d)
    edged = torch.cat([_along(p, axis, 0, 1), p, _along(p, axis, -1, None)], axis)
    lower = _along(edged, axis, start + 1, start - 1 or None)  # edged[j] = p[j - 1]
    if frac == 0:
        return lower
    upper = _along(edged, axis, start + 2, start or None)
    return lower * (1 - frac) + upper * frac


def shift_probabilities(p, offset: Sequence[float], *, crop: int = 0):
    """(..., H, W) ``p`` (tensor or numpy) moved by ``offset`` = (dy, dx) px (within one
    pixel), bilinearly, edge values repeated; ``crop`` px then cut from each side (a valid
    net's tiles are cut by a size step, so that no repeated edge is kept, the tiles abut
    exactly and keep their phase on the pooling grid)."""
    dy, dx = check_offset(offset)
    as_numpy = isinstance(p, np.ndarray)
    t = torch.from_numpy(p) if as_numpy else p
    t = shift_axis(shift_axis(t, dy, t.ndim - 2), dx, t.ndim - 1)
    if crop:
        t = t[..., crop:-crop, crop:-crop]
    return t.numpy() if as_numpy else t


@dataclass(frozen=True)
class OffsetFit:
    """The chosen move and the validation mean IoU with and without it (:func:`miou`:
    pixels pooled over the images, classes in their labels). ``best``: the move that scored
    highest, ``best_miou`` its mIoU and ``smoothed_miou`` that of the predictions smoothed by
    the same bilinear weights without a move (None: not measured, an older record).
    ``tta``: the test-time transforms of the predictions measured (none: ``()``)."""

    offset: tuple[float, float]
    miou: float
    unshifted_miou: float
    images: int
    searched: int = 0  # moves scored
    candidates: int = 0  # moves there were; fewer searched: the time ran out
    agreeing: int = 0  # images whose own mIoU the best move raises
    whole: int = 0  # whole-pixel moves among them, scored first: fewer searched, none measured
    best: tuple[float, float] | None = None
    best_miou: float | None = None
    smoothed_miou: float | None = None
    tta: tuple[str, ...] = ()

    @property
    def measured(self) -> bool:
        """Whether the search tried every whole-pixel move: one cut short before that decided
        nothing (its offset is (0, 0), and it is not to be stored)."""
        return self.searched >= self.whole

    def describe(self) -> str:
        if not self.measured:
            return (
                f"label offset: not measured (the time budget ran out after {self.searched} "
                f"of {self.candidates} moves, before the {self.whole} whole-pixel ones)"
            )
        cut = self._with_tta()
        if self.searched < self.candidates:
            cut += f"; the time budget ran out after {self.searched} of {self.candidates} moves"
        if self.offset == (0.0, 0.0) and self._smoothing():
            return (
                f"label offset: none (the best move, {describe_offset(self.best)}, raises the "
                f"validation mIoU {self.unshifted_miou:.4f} -> {self.best_miou:.4f}, and the "
                f"predictions smoothed as much without a move to {self.smoothed_miou:.4f}: "
                f"the move gains less than {MIN_GAIN} over smoothing, the mark of a fragmented "
                f"or blurred net, not of labels drawn off; {POOLED}{cut})"
            )
        if self.offset == (0.0, 0.0):
            return (
                f"label offset: none (no move within one pixel raises the validation mIoU "
                f"{self.unshifted_miou:.4f} by {MIN_GAIN} or more on {MIN_AGREEING:.0%} of "
                f"its {self.images} images; {POOLED}{cut})"
            )
        return (
            f"label offset: the predictions meet the labels best moved "
            f"{describe_offset(self.offset)} (labels drawn off, or a net that places borders "
            f"off); predictions are moved by it (validation mIoU {self.unshifted_miou:.4f}"
            f" -> {self.miou:.4f}{self._over_smoothed()}; raised on {self.agreeing} of "
            f"{self.images} images; {POOLED}{cut})"
        )

    def _with_tta(self) -> str:
        """Which predictions the mIoU is of, where TTA made it differ from the validations'
        (audit s50 road scenes: "validation mIoU 0.7152" beside best.pt's 0.7105, with
        left-right flips that the line did not name)."""
        if not self.tta or tuple(self.tta) == ("identity",):
            return ""
        return (
            f", predicted with TTA ({', '.join(self.tta)}: predict --tta, tta=True), unlike the "
            "validations"
        )

    def _smoothing(self) -> bool:
        """Whether the best move was left out for smoothing as much without a move."""
        return (
            self.best is not None
            and tuple(self.best) != (0.0, 0.0)
            and self.smoothed_miou is not None
            and self.best_miou is not None
            and self.best_miou >= self.unshifted_miou + MIN_GAIN
            and self.best_miou < self.smoothed_miou + MIN_GAIN
        )

    def _over_smoothed(self) -> str:
        if self.smoothed_miou is None:
            return ""
        return f", {self.smoothed_miou:.4f} smoothed as much without the move"


#: what the fit's validation mIoU is, said in its line
POOLED = "mIoU of the pixels pooled over the images, classes in their labels"


def miou(matrix: np.ndarray) -> float:
    """The mean IoU of a (C, C) confusion matrix over the classes in the truth: a class
    the labels do not hold would count 0 wherever a pixel of it is predicted and drop out
    where none is, so that a move erasing a few stray pixels of it would gain ~1/C (an
    audit's 11-class scenes: 0.66 -> 0.73 for no better borders)."""
    m = np.asarray(matrix, dtype=np.float64)
    present = m.sum(1) > 0
    if not present.any():
        return math.nan
    iou = np.asarray(metrics_from_matrix(m)["iou"])[present]
    return float(np.nanmean(iou))


@dataclass
class _Image:
    """One image as the offset search sees it: the confusion of the pixels whose class no
    move within one pixel can change (every pixel of their 3 x 3 neighbourhood has their
    class, and a mix of probability vectors that all peak at one class peaks there too),
    and the others' probabilities, the rows and columns of their neighbours, and truth."""

    fixed: np.ndarray  # (C, C) counts
    probs: torch.Tensor  # (K, H * W)
    rows: torch.Tensor
    cols: torch.Tensor
    truth: torch.Tensor
    shape: tuple[int, int]

    @classmethod
    def of(cls, p: torch.Tensor, truth: torch.Tensor, classes: int) -> _Image:
        labels = class_indices(p, 0)
        lab = labels[None, None].float()
        high = torch.nn.functional.max_pool2d(lab, 3, 1, 1)[0, 0]
        low = -torch.nn.functional.max_pool2d(-lab, 3, 1, 1)[0, 0]
        moving = (high != low) & (truth >= 0)
        fixed = confusion_matrix(labels[~moving], truth[~moving], classes)
        rows, cols = torch.nonzero(moving, as_tuple=True)
        h, w = labels.shape
        return cls(fixed, p.reshape(p.shape[0], -1), rows, cols, truth[moving], (h, w))

    def confusion(self, offset: tuple[float, float], classes: int) -> np.ndarray:
        """The confusion of the whole image with its probabilities moved by ``offset``."""
        return self._scored(self._moved(offset), classes)

    def smoothed(self, offset: tuple[float, float], classes: int) -> np.ndarray:
        """The confusion of the whole image with its probabilities smoothed as a move by
        ``offset`` smooths them, without moving them: the mean of the moves by ``offset`` and
        by its mirror (a half-pixel move is a two-tap average; the mirrored pair, the
        symmetric three-tap [1/4, 1/2, 1/4] along that axis)."""
        mirror = (-offset[0] + 0.0, -offset[1] + 0.0)
        return self._scored(0.5 * (self._moved(offset) + self._moved(mirror)), classes)

    def _scored(self, moved: torch.Tensor, classes: int) -> np.ndarray:
        return self.fixed + confusion_matrix(class_indices(moved, 0), self.truth, classes)

    def _moved(self, offset: tuple[float, float]) -> torch.Tensor:
        (r0, r1, fy), (c0, c1, fx) = (
            _neighbours(self.rows, offset[0], self.shape[0]),
            _neighbours(self.cols, offset[1], self.shape[1]),
        )
        w = self.shape[1]
        p = self.probs
        return (
            p[:, r0 * w + c0] * ((1 - fy) * (1 - fx))
            + p[:, r0 * w + c1] * ((1 - fy) * fx)
            + p[:, r1 * w + c0] * (fy * (1 - fx))
            + p[:, r1 * w + c1] * (fy * fx)
        )


def _neighbours(index: torch.Tensor, d: float, n: int):
    """The two source indices and the weight of the second for a move of ``d`` px (as
    :func:`shift_axis`)."""
    start, frac = _source(d)
    return (index + start).clamp(0, n - 1), (index + start + 1).clamp(0, n - 1), frac


def estimate_offset(
    probabilities: Sequence,
    masks: Sequence,
    *,
    steps=STEPS,
    min_gain: float = MIN_GAIN,
    out_of_time: Callable[[], bool] | None = None,
) -> OffsetFit:
    """The (dy, dx) among ``steps`` x ``steps`` that maximises the mean IoU of the moved
    probabilities' argmax against ``masks`` (class indices, negative: ignored), pixels
    summed over images, classes in the masks (:func:`miou`); (0, 0) unless it gains at least
    ``min_gain`` over no move and over the probabilities smoothed as much without a move
    (:meth:`_Image.smoothed`), and raises the mIoU of ``MIN_AGREEING`` of the images. A
    half-pixel move averages neighbouring pixels: that joins the fragments of a half-trained
    net's thin classes as well whichever way it goes (an audit's exact street-scene labels
    gained 0.011 from 0.50 px up and 0.006 from 0.50 px down, but 0.018 from the smoothing
    alone), while an offset of the labels is gained by its direction only (ISBI's
    (-0.5, -0.25): 0.7955 -> 0.8046, smoothed alone 0.7958). Only the pixels near
    a change of class are moved and scored again for each candidate. The candidates go
    coarse to fine (:func:`search_order`); once ``out_of_time()`` says so, the best so far
    if every whole-pixel move was tried, else (0, 0) and not ``measured``: a search that has
    not tried moving by one pixel has measured nothing."""
    if len(probabilities) != len(masks) or not masks:
        raise ValueError("estimate_offset needs one mask per probability map, at least one")
    probs = [torch.as_tensor(np.asarray(p, dtype=np.float32)) for p in probabilities]
    classes = max(2, probs[0].shape[0])
    images = [
        _Image.of(p, torch.as_tensor(np.asarray(m, dtype=np.int64)), classes)
        for p, m in zip(probs, masks)
    ]
    order = search_order(steps)
    scores, matrices = {}, {}  # each move's mIoU, and its images' confusion matrices
    for offset in order:
        if scores and out_of_time is not None and out_of_time():
            break
        matrices[offset] = [im.confusion(offset, classes) for im in images]
        scores[offset] = miou(sum(matrices[offset]))
    unshifted = scores[(0.0, 0.0)]
    top = max(scores, key=lambda k: (scores[k], -abs(k[0]) - abs(k[1])))
    smoothed = miou(sum(im.smoothed(top, classes) for im in images))
    agreeing = _images_raised(matrices[top], matrices[(0.0, 0.0)])
    whole = sum(all(float(v).is_integer() for v in move) for move in order)
    gained = scores[top] >= max(unshifted, smoothed) + min_gain
    best = top
    if not gained or agreeing < MIN_AGREEING * len(images) or len(scores) < whole:
        best, agreeing = (0.0, 0.0), 0
    found = (best, scores[best], unshifted, len(masks), len(scores), len(order), agreeing, whole)
    return OffsetFit(*found, best=top, best_miou=scores[top], smoothed_miou=smoothed)


def _images_raised(moved: Sequence[np.ndarray], unmoved: Sequence[np.ndarray]) -> int:
    """How many images' own mIoU a move raises: their confusion matrices moved and not."""
    return sum(miou(a) > miou(b) for a, b in zip(moved, unmoved))


def search_order(steps=STEPS) -> list[tuple[float, float]]:
    """The moves ``steps`` x ``steps``, no move first, then by how fine they are (whole and
    half pixels before quarters) and how far: a search cut short has tried the coarse grid."""

    def fineness(v: float) -> int:
        return next(k for k in range(8) if float(v * 2**k).is_integer())

    moves = [(float(dy), float(dx)) for dy in steps for dx in steps]
    return sorted(moves, key=lambda m: (max(map(fineness, m)), abs(m[0]) + abs(m[1]), m))
