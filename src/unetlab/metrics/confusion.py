"""Pixel metrics from one streaming confusion matrix: accumulate, then derive.

:class:`ConfusionMatrix` counts (truth, prediction) pairs with ``torch.bincount`` on the
accelerator tensors live on (``numpy.bincount`` for numpy arrays and CPU tensors);
:func:`metrics_from_matrix` derives pixel accuracy and per-class IoU, Dice, precision and
recall from the counts. Rows are the truth, columns the prediction. Pixels whose target is
``ignore_index`` or negative count nowhere; a target above C-1 (other than ``ignore_index``)
or a prediction outside 0..C-1 is an error (a mask of label values such as 0/255 must be
mapped to class indices first).

A class absent from both truth and prediction has IoU, Dice, precision and recall NaN (not 0
or 1): it says nothing about the model, and the means (``miou``, ``mdice``) skip it. A class
absent from the truth but predicted has IoU and Dice 0 (its union is its false positives) and
the means count it: the rule of mmsegmentation's IoUMetric, torchmetrics' JaccardIndex, Keras'
MeanIoU and torchvision's references (MONAI's per-image ``ignore_empty`` alone skips it).
Training's validation and ``evaluate`` both derive from this (``tests/test_miou_absent_class.py``).

The ISBI 2012 measures live in :mod:`unetlab.metrics.isbi`, the object measures in
:mod:`unetlab.metrics.objects`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from unetlab.data.labels import IGNORE_INDEX
from unetlab.errors import UnetlabError

__all__ = [
    "ConfusionMatrix",
    "confusion_matrix",
    "metrics_from_matrix",
    "nanmean",
    "no_class_column",
    "truth_pixels",
]


def class_indices(probabilities: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Class indices (int64) of probabilities whose classes lie along ``dim``: the argmax,
    or ``p >= 0.5`` for one sigmoid channel (the rule every unetlab prediction follows)."""
    if probabilities.shape[dim] == 1:
        return (probabilities.select(dim, 0) >= 0.5).long()
    return probabilities.argmax(dim)


def _check_integer(x) -> None:
    floating = (
        x.is_floating_point()
        if isinstance(x, torch.Tensor)
        else not (np.issubdtype(x.dtype, np.integer) or x.dtype == bool)
    )
    if floating:
        raise UnetlabError(
            f"ConfusionMatrix takes integer class indices, not {x.dtype}; take argmax of "
            "probabilities or logits first"
        )


def _as_numpy(x) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


#: a class the truth holds scoring IoU under this is named, by training's end line and by
#: ``evaluate``: one threshold for both (training said 0.01, evaluate 0.05, review s64);
#: 0.05, as 0.0052 was a few hits among hundreds of wrong pixels, no near miss (audit s63)
RARE_IOU = 0.05

_FIX = "check num_classes, or map label values to class indices (e.g. mask values 0/255 -> 0/1)"


def _batched_counts(
    pred, target, num_classes: int, ignore_index: int, images: int, *, use_torch: bool | None = None
):
    """(images, C, C) int64 counts; ``pred``/``target`` hold ``images`` equal-size parts.

    Tensors on an accelerator are counted there with ``torch.bincount`` (no copy to the
    host); numpy arrays and CPU tensors (viewed as numpy, no copy) with ``numpy.bincount``:
    for a 512x512 int64 pair of 2 classes on a 2-core CPU, numpy took a steady 3.4-5.5 ms
    (10th-90th percentile of 200 calls), torch's threaded CPU ops a median 4-6 ms but
    with stalls of about 100 ms (up to the 90th percentile in one run of three). One
    bincount covers all pixels: skipped ones go to an extra last bin.
    ``use_torch`` forces a path (tests run the torch one on the CPU).
    """
    if use_torch is None:
        use_torch = any(
            isinstance(x, torch.Tensor) and x.device.type != "cpu" for x in (pred, target)
        )
    if not use_torch:
        pred, target = _as_numpy(pred), _as_numpy(target)
    _check_pair(pred, target)
    count = _torch_counts if use_torch else _numpy_counts
    counts, lo, hi, top = count(pred, target, num_classes, ignore_index, images)
    _check_range(int(lo), int(hi), int(top), num_classes, ignore_index)
    return counts.reshape(images, num_classes, num_classes)


def _check_pair(pred, target) -> None:
    """Refuse a prediction and target of different shapes, or of non-integer values."""
    if tuple(pred.shape) != tuple(target.shape):
        raise UnetlabError(
            f"prediction has shape {tuple(pred.shape)} but the target {tuple(target.shape)}; "
            "pass class-index maps of the same size"
        )
    _check_integer(pred)
    _check_integer(target)


def _torch_counts(pred, target, num_classes: int, ignore_index: int, images: int):
    """Flat (images * C * C) counts with ``torch.bincount`` on the target's device, and the
    lowest and highest kept prediction and the highest labelled target (to check)."""
    size = num_classes * num_classes
    target = torch.as_tensor(target).reshape(images, -1).long()
    pred = torch.as_tensor(pred).reshape(images, -1).to(target.device).long()
    keep = (target >= 0) & (target < num_classes) & (target != ignore_index)
    labelled = torch.where(target == ignore_index, 0, target)
    lo, hi, top = (
        torch.stack([*torch.aminmax(torch.where(keep, pred, 0)), labelled.max()]).tolist()
        if pred.numel()
        else (0, 0, 0)
    )  # one transfer from the device for the three
    item = torch.arange(images, device=target.device)[:, None] * size
    index = torch.where(keep, item + target * num_classes + pred, images * size)
    return torch.bincount(index.ravel(), minlength=images * size + 1)[:-1], lo, hi, top


def _numpy_counts(pred, target, num_classes: int, ignore_index: int, images: int):
    """:func:`_torch_counts` for numpy arrays, with ``numpy.bincount``."""
    size = num_classes * num_classes
    target = target.reshape(images, -1).astype(np.int64, copy=False)
    pred = pred.reshape(images, -1).astype(np.int64, copy=False)
    keep = (target >= 0) & (target < num_classes) & (target != ignore_index)
    kept = np.where(keep, pred, 0)
    lo, hi = (kept.min(), kept.max()) if kept.size else (0, 0)
    top = np.where(target == ignore_index, 0, target).max(initial=0)
    item = np.arange(images)[:, None] * size
    index = np.where(keep, item + target * num_classes + pred, images * size)
    return np.bincount(index.ravel(), minlength=images * size + 1)[:-1], lo, hi, top


def _check_range(lo: int, hi: int, top: int, num_classes: int, ignore_index: int) -> None:
    """Refuse a labelled target above C-1 or a kept prediction outside 0..C-1."""
    if top >= num_classes:
        raise UnetlabError(
            f"target holds class index {top} above 0..{num_classes - 1} (and is not "
            f"ignore_index {ignore_index}); {_FIX}"
        )
    if lo < 0 or hi >= num_classes:
        raise UnetlabError(
            f"prediction holds class index {lo if lo < 0 else hi} outside "
            f"0..{num_classes - 1}; {_FIX}"
        )


def confusion_matrix(pred, target, num_classes: int, *, ignore_index: int = IGNORE_INDEX):
    """(C, C) int64 numpy counts, rows = truth, columns = prediction, of one pair of
    class-index maps (any equal shapes, numpy or torch integers)."""
    counts = _batched_counts(pred, target, num_classes, ignore_index, 1)[0]
    return (
        counts.cpu().numpy()
        if isinstance(counts, torch.Tensor)
        else counts.astype(np.int64, copy=False)
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def nanmean(values: np.ndarray) -> float:
    """The mean of the non-NaN values; NaN when there are none."""
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else math.nan


def metrics_from_matrix(matrix, missed=None) -> dict:
    """Pixel metrics of a (C, C) confusion matrix (rows truth, columns prediction).

    Returns plain Python values: ``pixel_accuracy`` (float), per class lists ``iou``,
    ``dice``, ``precision``, ``recall`` (NaN where undefined: a class absent from truth and
    prediction has all four NaN; precision is NaN for a class never predicted, recall for a
    class never in the truth), ``miou`` / ``mdice`` (means over the defined classes, NaN if
    none), ``mean_accuracy`` (mean recall), ``pixels`` (labelled pixels per class in the
    truth) and ``total`` (labelled pixels). An empty matrix gives NaN everywhere.

    ``missed`` (C,): the pixels of each truth row also predicted as no class (another tool's
    void 255 where the masks hold a class; :func:`truth_pixels`): wrong for their true class
    (its IoU, Dice and recall lower, the pixel accuracy too), no class of their own in the
    means (review s66: a class 255 of IoU 0 in mIoU, 0.7660 where the 4 classes' mean was
    0.9575).
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"a confusion matrix is square (C, C), not {m.shape}")
    tp = np.diag(m)
    truth, predicted = truth_pixels(m, missed), m.sum(0)
    total = truth.sum()
    iou = _ratio(tp, truth + predicted - tp)
    dice = _ratio(2 * tp, truth + predicted)
    recall = _ratio(tp, truth)
    return {
        "pixel_accuracy": float(tp.sum() / total) if total else math.nan,
        "miou": nanmean(iou),
        "mdice": nanmean(dice),
        "mean_accuracy": nanmean(recall),
        "iou": iou.tolist(),
        "dice": dice.tolist(),
        "precision": _ratio(tp, predicted).tolist(),
        "recall": recall.tolist(),
        "pixels": truth.astype(np.int64).tolist(),
        "total": int(total),
    }


def no_class_column(matrix, column: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(matrix, missed)`` of a (C, C) confusion ``matrix`` (rows truth, columns prediction)
    whose predictions of class ``column`` are of no class (the class of the mask value
    training ignored; another tool's void): a copy with that column 0, and its counts per
    true class (C,), which :func:`metrics_from_matrix` takes as ``missed``: wrong for their
    true class, no class's column in the means. ``column`` None: a copy and None. The one
    rule of validation and ``evaluate`` (review s68)."""
    kept = np.array(matrix, dtype=np.int64)
    if column is None:
        return kept, None
    missed = kept[:, column].copy()
    kept[:, column] = 0
    return kept, missed


def truth_pixels(matrix, missed=None) -> np.ndarray:
    """The truth pixels of each class (float64) of the (C, C) confusion ``matrix``: its row
    sums, with ``missed`` (C,) of each predicted as no class, which no column holds."""
    rows = np.asarray(matrix, dtype=np.float64).sum(1)
    return rows if missed is None else rows + np.asarray(missed, dtype=np.float64)


class ConfusionMatrix:
    """Streaming (C, C) confusion matrix; rows = truth, columns = prediction.

    ``update(pred, target)`` takes integer class-index maps of one shape: (H, W) for one
    image, (N, H, W) for a batch, numpy arrays or torch tensors: tensors on an accelerator
    are counted there with ``torch.bincount`` (no copy to the host), numpy arrays and CPU
    tensors with ``numpy.bincount``. Targets equal to ``ignore_index`` or negative are
    skipped; a target above C-1 (other than ``ignore_index``) or a prediction outside
    0..C-1 is a UnetlabError (a ValueError) naming the value (map label values such as
    0/255 to class indices 0/1 first).
    With ``per_image=True`` each image's (C, C) counts are also kept (on the CPU), and
    :meth:`compute_per_image` gives one metrics dict per image, in update order.

    For data-parallel evaluation sum :attr:`tensor` across processes
    (``torch.distributed.all_reduce``) or :meth:`merge` the matrices of the parts.
    """

    def __init__(
        self, num_classes: int, *, ignore_index: int = IGNORE_INDEX, per_image: bool = False
    ) -> None:
        if num_classes < 1:
            raise UnetlabError(f"num_classes must be at least 1, not {num_classes}")
        self.num_classes = int(num_classes)
        self.ignore_index = int(ignore_index)
        self.per_image = per_image
        self.reset()

    def reset(self) -> None:
        """Forget all counts."""
        self.tensor = torch.zeros(self.num_classes, self.num_classes, dtype=torch.int64)
        self.images: list[np.ndarray] = []

    @property
    def matrix(self) -> np.ndarray:
        """(C, C) int64 numpy copy of the counts."""
        return self.tensor.cpu().numpy().copy()

    def update(self, pred, target) -> None:
        """Add the pixels of ``pred`` / ``target`` (same shape; (H, W) or (N, H, W))."""
        images = target.shape[0] if self.per_image and np.ndim(target) == 3 else 1
        counts = _batched_counts(pred, target, self.num_classes, self.ignore_index, images)
        counts = counts if isinstance(counts, torch.Tensor) else torch.from_numpy(counts)
        if self.tensor.device != counts.device:
            self.tensor = self.tensor.to(counts.device)
        self.tensor += counts.sum(0)
        if self.per_image:
            self.images.extend(counts.cpu().numpy())

    def merge(self, other: ConfusionMatrix | np.ndarray | torch.Tensor) -> ConfusionMatrix:
        """Add another matrix's counts (another ConfusionMatrix, array or tensor); returns self."""
        counts = other.tensor if isinstance(other, ConfusionMatrix) else torch.as_tensor(other)
        if tuple(counts.shape) != (self.num_classes, self.num_classes):
            raise UnetlabError(
                f"cannot merge a {tuple(counts.shape)} matrix into a "
                f"({self.num_classes}, {self.num_classes}) one; use the same class count"
            )
        self.tensor += counts.to(self.tensor.device, torch.int64)
        if isinstance(other, ConfusionMatrix):
            self.images.extend(other.images)
        return self

    def compute(self) -> dict:
        """Data-set level (micro) metrics: see :func:`metrics_from_matrix`."""
        return metrics_from_matrix(self.matrix)

    def compute_per_image(self) -> list[dict]:
        """One :func:`metrics_from_matrix` dict per image seen (needs ``per_image=True``)."""
        if not self.per_image:
            raise UnetlabError("per-image results need ConfusionMatrix(..., per_image=True)")
        return [metrics_from_matrix(m) for m in self.images]

    def __repr__(self) -> str:
        return f"ConfusionMatrix(num_classes={self.num_classes}, pixels={int(self.tensor.sum())})"
