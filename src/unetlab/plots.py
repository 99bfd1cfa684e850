"""Pictures of a run: training curves and segmentation overlays (matplotlib Agg, atomic writes)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from unetlab.data.io import atomic_path

# RGB of the class overlays: class 0 red (membrane in ISBI), then green, blue, ...
PALETTE = np.array(
    [[230, 25, 75], [60, 180, 75], [0, 130, 200], [255, 225, 25], [145, 30, 180], [70, 240, 240],
     [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128]], dtype=np.uint8,
)  # fmt: skip


def plot_curves(rows: list[dict], path: str | os.PathLike) -> Path:
    """Loss (train, val) and val mIoU / Dice per epoch from metrics rows, as one PNG."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.5), dpi=100)
    loss_ax, score_ax = fig.subplots(1, 2)
    epochs = [r["epoch"] for r in rows]
    for key, label in (("train_loss", "train loss"), ("val_loss", "val loss")):
        _line(loss_ax, epochs, [r.get(key) for r in rows], label)
    for key, label in (("val_miou", "val mIoU"), ("val_mdice", "val mean Dice")):
        _line(score_ax, epochs, [r.get(key) for r in rows], label)
    loss_ax.set(xlabel="epoch", ylabel="loss", title="loss")
    score_ax.set(xlabel="epoch", ylabel="score", title="validation", ylim=(0, 1))
    for ax in (loss_ax, score_ax):
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def _line(ax, x: list, y: list, label: str) -> None:
    points = [(a, b) for a, b in zip(x, y) if b is not None and np.isfinite(b)]
    if points:
        xs, ys = zip(*points)
        ax.plot(xs, ys, marker="o" if len(points) < 30 else None, ms=3, label=label)


def overlay(
    image: np.ndarray, classes: np.ndarray, *, alpha: float = 0.4, skip: int | None = None
) -> np.ndarray:
    """Class indices drawn over an image: (H, W[, C]) any dtype + (H, W) int -> (H, W, 3) uint8.

    The image is min-max scaled to grey; class ``k`` is tinted with ``PALETTE[k]``
    (``skip``: a class left untinted, e.g. the background). Negative indices stay untinted.
    """
    grey = np.asarray(image, dtype=np.float32)
    if grey.ndim == 3:
        grey = grey[..., :3].mean(-1) if grey.shape[-1] >= 3 else grey[..., 0]
    lo, hi = float(grey.min()), float(grey.max())
    grey = (grey - lo) / (hi - lo) if hi > lo else np.zeros_like(grey)
    rgb = np.repeat(grey[..., None] * 255.0, 3, axis=-1)
    tint = (classes >= 0) & (classes != (-1 if skip is None else skip))
    colours = PALETTE[np.clip(classes, 0, None) % len(PALETTE)].astype(np.float32)
    rgb[tint] = (1 - alpha) * rgb[tint] + alpha * colours[tint]
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def side_by_side(*panels: np.ndarray, gap: int = 4) -> np.ndarray:
    """(H, W, 3) uint8 panels of the same height joined left to right with white gaps."""
    h = panels[0].shape[0]
    spacer = np.full((h, gap, 3), 255, np.uint8)
    parts = []
    for panel in panels:
        parts += [panel if panel.ndim == 3 else np.repeat(panel[..., None], 3, -1), spacer]
    return np.concatenate(parts[:-1], axis=1)
