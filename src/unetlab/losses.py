"""Segmentation losses on logits: the paper's weighted cross entropy (or its focal form),
soft Dice, the Lovász-softmax surrogate of 1 - IoU, and sums of them.

Functional core (tensors in, a scalar tensor out) and one thin module, :class:`SegmentationLoss`,
made by :func:`build_loss`. Shapes: ``logits`` (N, C, H, W) float, ``target`` (N, H, W) int64
class indices with ``ignore_index`` (-1, ``unetlab.data.labels.IGNORE_INDEX``) for unlabelled
pixels, ``weight`` optional (N, H, W) per-pixel weights (e.g. the paper's weight map,
:func:`unetlab.data.weightmap.weight_map`). C >= 2 means softmax over classes; C == 1 means a
sigmoid net whose target is 0 (background) / 1 (foreground).

Choices:

- Cross entropy is **averaged over the non-ignored pixels**: ``sum(w * CE) / n_valid``, not
  divided by ``sum(w)``. So ``w`` scales the gradient as in the paper's energy
  ``sum w log p`` (a tile of fixed size only changes it by a constant), and without weights it
  equals ``F.cross_entropy(..., ignore_index=-1)``. A batch with no labelled pixel gives 0.
- Soft Dice sums over the whole batch (one Dice per class, not per image), averages the
  classes (background included for softmax nets; the foreground only for sigmoid nets) and
  uses ``smooth`` in numerator and denominator, so a class absent from both target and
  prediction scores 1. Dice takes no per-pixel weights.
- Class weights (``class_weights``, one per class, e.g. :func:`median_frequency_weights`)
  multiply the per-pixel weight of each pixel by its class's weight, in the cross entropy.
- Everything is computed in float32, also under ``torch.autocast`` (mixed precision NaNs in
  softmax/log are a common failure of U-Net tools).
- For valid-padding nets the target must already be the centre window matching the logits:
  a size mismatch raises ValueError naming both sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from unetlab.data.labels import IGNORE_INDEX
from unetlab.errors import UnetlabError
from unetlab.words import numbered, worded

#: the losses :func:`build_loss` makes (config key ``train.loss``)
LOSSES = ("ce", "dice", "ce+dice", "focal", "focal+dice", "lovasz", "ce+lovasz")
#: the focal loss's exponent (Lin et al. 2017): (1 - p)^2 scales each pixel's cross entropy
FOCAL_GAMMA = 2.0
#: ``class_weights: auto`` balances the classes when the most frequent one has this many
#: times the pixels of the rarest (an ISBI membrane/cell split is 3.5; street scenes 100+).
AUTO_IMBALANCE = 10.0
#: ... with the square root of the median-frequency weights: the full weights (8.4 for a
#: class of 0.15 % of the pixels, 0.07 for one of 54 %) made a net over-predict the rarest
#: classes on synthetic street scenes (bench/README.md, bench_classes.py).
AUTO_POWER = 0.5


def class_pixel_counts(
    masks: Sequence[np.ndarray], num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """(pixels of each class, pixels of the images where each class occurs), int64 (K,).

    ``masks``: (H, W) int class indices, negative values (ignored pixels) not counted.
    """
    pixels = np.zeros(num_classes, dtype=np.int64)
    present = np.zeros(num_classes, dtype=np.int64)
    for mask in masks:
        labelled = mask[mask >= 0]
        counts = np.bincount(labelled.ravel(), minlength=num_classes)[:num_classes]
        pixels += counts
        present += np.where(counts > 0, labelled.size, 0)
    return pixels, present


def median_frequency_weights(
    pixels: np.ndarray, present: np.ndarray, *, power: float = 1.0
) -> np.ndarray:
    """Median-frequency balancing (Eigen & Fergus, ICCV 2015): ``w_c = (median(f) / f_c) **
    power`` with ``f_c = pixels_c / present_c`` (class pixels over the pixels of the images
    holding c). ``power=0.5`` tempers it (the square root). Classes never seen get weight 1.
    float64 (K,)."""
    pixels, present = np.asarray(pixels, np.float64), np.asarray(present, np.float64)
    seen = pixels > 0
    weights = np.ones(len(pixels))
    if seen.any():
        freq = pixels[seen] / present[seen]
        weights[seen] = (np.median(freq) / freq) ** power
    return weights


def imbalance(pixels: np.ndarray) -> float:
    """Pixels of the most frequent class over those of the rarest one present (>= 1)."""
    seen = np.asarray(pixels)[np.asarray(pixels) > 0]
    return float(seen.max() / seen.min()) if seen.size else 1.0


def weighted_cross_entropy(
    logits: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Pixel-wise softmax + cross entropy, weighted per pixel (the paper's loss).

    ``sum over valid pixels of w * CE / number of valid pixels``; float32 scalar.
    """
    _check(logits, target, weight, ignore_index, min_classes=2)
    ce = F.cross_entropy(logits.float(), target, ignore_index=ignore_index, reduction="none")
    return _mean_over_valid(ce, target != ignore_index, weight)


def binary_cross_entropy(
    logits: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Sigmoid + binary cross entropy for (N, 1, H, W) logits, weighted per pixel.

    Target 1 = foreground, 0 = background; same averaging as :func:`weighted_cross_entropy`.
    """
    _check(logits, target, weight, ignore_index, min_classes=1, max_classes=1)
    valid = target != ignore_index
    bce = F.binary_cross_entropy_with_logits(
        logits[:, 0].float(), (target == 1).float(), reduction="none"
    )
    return _mean_over_valid(bce * valid, valid, weight)


def _class_log_probs(logits: Tensor) -> Tensor:
    """(N, K, H, W) log-probabilities in float32; a sigmoid net's one channel as two classes
    (background, foreground)."""
    x = logits.float()
    if x.shape[1] == 1:
        return torch.cat([F.logsigmoid(-x), F.logsigmoid(x)], dim=1)
    return F.log_softmax(x, dim=1)


def focal_loss(
    logits: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    *,
    gamma: float = FOCAL_GAMMA,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Focal loss (Lin et al. 2017): each pixel's cross entropy times (1 - p_t)^gamma, p_t
    the probability of its true class, so pixels the net already gets right count less;
    weighted and averaged as :func:`weighted_cross_entropy` (which it equals at gamma 0).
    Softmax or sigmoid nets."""
    _check(logits, target, weight, ignore_index, min_classes=1)
    valid = target != ignore_index
    logp = _class_log_probs(logits).gather(1, target.clamp(min=0).unsqueeze(1))[:, 0]
    per_pixel = -((1.0 - logp.exp()) ** gamma) * logp
    return _mean_over_valid(per_pixel * valid, valid, weight)


def lovasz_loss(logits: Tensor, target: Tensor, *, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """The Lovász-softmax loss (Berman et al. 2018): for each class present in the batch's
    target, the Lovász extension of its Jaccard loss (1 - IoU) at the pixel errors
    |[t = c] - p_c|, then the mean over those classes. For one-hot predictions it is exactly
    the mean of 1 - IoU; in between, a surrogate of it the optimiser can follow. A sigmoid
    net counts as two classes."""
    _check(logits, target, None, ignore_index, min_classes=1)
    valid = target != ignore_index
    probs = _class_log_probs(logits).exp().movedim(1, 0)[:, valid]  # (K, pixels)
    fg = F.one_hot(target[valid], probs.shape[0]).T.float()
    errors, order = (fg - probs).abs().sort(dim=1, descending=True)  # every class at once
    per_class = (errors * _jaccard_steps(fg.gather(1, order))).sum(1)
    present = fg.sum(1) > 0
    return per_class[present].mean() if bool(present.any()) else probs.sum() * 0.0


def _jaccard_steps(fg: Tensor) -> Tensor:
    """(K, pixels): how much each class's Jaccard loss grows as each pixel, in the order of
    its decreasing error, is counted wrong (the Lovász extension's weights; they sum to the
    loss of all wrong)."""
    total = fg.sum(1, keepdim=True)
    intersection = total - fg.cumsum(1)
    union = total + (1.0 - fg).cumsum(1)  # >= 1: no division by zero
    jaccard = 1.0 - intersection / union
    return torch.cat([jaccard[:, :1], jaccard[:, 1:] - jaccard[:, :-1]], dim=1)


def dice_loss(
    logits: Tensor, target: Tensor, *, ignore_index: int = IGNORE_INDEX, smooth: float = 1.0
) -> Tensor:
    """1 - mean over classes of the soft Dice of softmax(logits) and the one-hot target.

    Per class c over all valid pixels of the batch:
    ``(2 * sum(p_c * t_c) + smooth) / (sum(p_c) + sum(t_c) + smooth)``. Float32 scalar.
    """
    _check(logits, target, None, ignore_index, min_classes=2)
    valid = (target != ignore_index).unsqueeze(1)
    probs = torch.softmax(logits.float(), dim=1) * valid
    onehot = torch.zeros_like(probs).scatter_(1, target.clamp(min=0).unsqueeze(1), 1.0) * valid
    dims = (0, 2, 3)
    dice = _dice(probs, onehot, dims, smooth)
    return 1.0 - dice.mean()


def binary_dice_loss(
    logits: Tensor, target: Tensor, *, ignore_index: int = IGNORE_INDEX, smooth: float = 1.0
) -> Tensor:
    """1 - soft Dice of the foreground for (N, 1, H, W) logits: sigmoid vs. target == 1."""
    _check(logits, target, None, ignore_index, min_classes=1, max_classes=1)
    valid = target != ignore_index
    probs = torch.sigmoid(logits[:, 0].float()) * valid
    fg = ((target == 1) & valid).float()
    return 1.0 - _dice(probs, fg, (0, 1, 2), smooth)


def _dice(probs: Tensor, onehot: Tensor, dims: tuple[int, ...], smooth: float) -> Tensor:
    inter = (probs * onehot).sum(dims)
    card = probs.sum(dims) + onehot.sum(dims)
    return (2.0 * inter + smooth) / (card + smooth)


def _mean_over_valid(per_pixel: Tensor, valid: Tensor, weight: Tensor | None) -> Tensor:
    if weight is not None:
        # where(), not a product: a non-finite weight on an ignored pixel must not leak in,
        # not even into the gradient
        per_pixel = per_pixel * torch.where(valid, weight.float(), 0.0)
    return per_pixel.sum() / valid.sum().clamp(min=1)


def _check(
    logits: Tensor,
    target: Tensor,
    weight: Tensor | None,
    ignore_index: int,
    *,
    min_classes: int,
    max_classes: int | None = None,
) -> None:
    if logits.ndim != 4 or target.ndim != 3:
        raise UnetlabError(
            f"losses take (N, C, H, W) logits and an (N, H, W) target, not "
            f"{tuple(logits.shape)} and {tuple(target.shape)}"
        )
    n, c, h, w = logits.shape
    if target.shape != (n, h, w):
        raise UnetlabError(
            f"logits are {n}x{c}x{h}x{w} but the target is {'x'.join(map(str, target.shape))}; "
            f"a valid-padding net loses its border: crop the target to the centre {h}x{w}"
        )
    if weight is not None and weight.shape != target.shape:
        raise UnetlabError(
            f"weight map is {'x'.join(map(str, weight.shape))} but the target is "
            f"{'x'.join(map(str, target.shape))}; crop both the same way"
        )
    if c < min_classes or (max_classes is not None and c > max_classes):
        kind = "a sigmoid (1-channel)" if max_classes == 1 else "a softmax (>= 2 channel)"
        raise UnetlabError(
            f"this loss is for {kind} net, but the logits have {numbered(c, 'channel')}"
        )
    if target.dtype != torch.int64:
        raise UnetlabError(
            f"the target must hold int64 class indices, not {target.dtype}; use target.long()"
        )
    top = 2 if c == 1 else c
    bad = (target != ignore_index) & ((target < 0) | (target >= top))
    if bool(bad.any()):  # caught here, not as a CUDA device-side assert
        values = torch.unique(target[bad])
        raise UnetlabError(
            f"target holds {worded(values.numel(), 'value')} {values[:10].tolist()}"
            f"{' ...' * (values.numel() > 10)} outside the {top} classes 0..{top - 1} and the "
            f"ignore index {ignore_index}; check data.label_values and model.num_classes"
        )


class SegmentationLoss(nn.Module):
    """``ce_weight * CE + dice_weight * Dice + lovasz_weight * Lovász``, softmax or sigmoid by
    the logits' channels; the CE is the focal loss when ``focal_gamma`` > 0.

    ``forward(logits, target, weight=None)``: (N, C, H, W), (N, H, W) int64, optional (N, H, W)
    per-pixel weights (used by the cross entropy term only) -> float32 scalar.
    ``class_weights``: (K,) weight of each class (2 for a sigmoid net), multiplied into the
    per-pixel weight of the cross entropy; None for none.
    """

    def __init__(
        self,
        *,
        ce_weight: float = 1.0,
        dice_weight: float = 0.0,
        lovasz_weight: float = 0.0,
        focal_gamma: float = 0.0,
        ignore_index: int = IGNORE_INDEX,
        smooth: float = 1.0,
        class_weights: Sequence[float] | None = None,
    ):
        super().__init__()
        terms = (ce_weight, dice_weight, lovasz_weight)
        if min(terms) < 0 or sum(terms) == 0 or focal_gamma < 0:
            raise UnetlabError(
                f"loss term weights must be at least 0 and not all 0, and the focal gamma at least 0, not "
                f"ce={ce_weight}, dice={dice_weight}, lovasz={lovasz_weight}, gamma={focal_gamma}"
            )
        self.ce_weight, self.dice_weight, self.lovasz_weight = terms
        self.focal_gamma = focal_gamma
        self.ignore_index = ignore_index
        self.smooth = smooth
        cw = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
        self.register_buffer("class_weights", cw, persistent=False)

    def forward(self, logits: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        binary = logits.ndim == 4 and logits.shape[1] == 1
        dice_fn = binary_dice_loss if binary else dice_loss
        ignore = self.ignore_index
        loss = 0.0
        if self.class_weights is not None and self.ce_weight:
            weight = self._with_class_weights(logits, target, weight)
        if self.ce_weight:
            loss = loss + self.ce_weight * self._cross_entropy(logits, target, weight)
        if self.dice_weight:
            dice = dice_fn(logits, target, ignore_index=ignore, smooth=self.smooth)
            loss = loss + self.dice_weight * dice
        if self.lovasz_weight:
            loss = loss + self.lovasz_weight * lovasz_loss(logits, target, ignore_index=ignore)
        return loss

    def _cross_entropy(self, logits: Tensor, target: Tensor, weight: Tensor | None) -> Tensor:
        ignore = self.ignore_index
        if self.focal_gamma:
            return focal_loss(logits, target, weight, gamma=self.focal_gamma, ignore_index=ignore)
        ce_fn = binary_cross_entropy if logits.shape[1] == 1 else weighted_cross_entropy
        return ce_fn(logits, target, weight, ignore_index=ignore)

    def _with_class_weights(self, logits: Tensor, target: Tensor, weight: Tensor | None) -> Tensor:
        cw = self.class_weights.to(logits.device)
        if len(cw) != max(logits.shape[1], 2):
            raise UnetlabError(
                f"{len(cw)} class weights for a net of "
                f"{numbered(logits.shape[1], 'output channel')}: "
                "give one weight per class"
            )
        per_pixel = cw[target.clamp(0, len(cw) - 1)]  # ignored pixels: masked in the loss
        return per_pixel if weight is None else weight * per_pixel

    def extra_repr(self) -> str:
        return (
            f"ce_weight={self.ce_weight}, dice_weight={self.dice_weight}, "
            f"lovasz_weight={self.lovasz_weight}, focal_gamma={self.focal_gamma}"
        )


def build_loss(
    name: str,
    *,
    ignore_index: int = IGNORE_INDEX,
    smooth: float = 1.0,
    dice_weight: float = 1.0,
    focal_gamma: float = FOCAL_GAMMA,
    class_weights: Sequence[float] | None = None,
) -> SegmentationLoss:
    """One of ``LOSSES``: ``"ce"`` (weighted cross entropy), ``"dice"``, ``"ce+dice"`` (CE +
    dice_weight * Dice), ``"focal"`` and ``"focal+dice"`` (the cross entropy made focal with
    ``focal_gamma``), ``"lovasz"`` and ``"ce+lovasz"`` (Lovász-softmax, a surrogate of 1 -
    IoU). ``class_weights`` (one per class) weigh the cross entropy's pixels by their class."""
    if name not in LOSSES:
        raise UnetlabError(f"loss must be one of {LOSSES}, not {name!r}")
    terms = set(name.split("+"))
    ce = 1.0 if terms & {"ce", "focal"} else 0.0
    return SegmentationLoss(
        ce_weight=ce,
        dice_weight=(dice_weight if ce else 1.0) if "dice" in terms else 0.0,
        lovasz_weight=1.0 if "lovasz" in terms else 0.0,
        focal_gamma=focal_gamma if "focal" in terms else 0.0,
        ignore_index=ignore_index,
        smooth=smooth,
        class_weights=class_weights,
    )
