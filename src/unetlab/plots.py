"""All drawing: one class palette, images for display, overlays, training curves, the confusion
matrix (matplotlib Agg, atomic writes).

On arrays, for a notebook's ``plt.imshow`` (``unetlab.plots`` without an import):
:func:`object_overlay` (an image and its object ids, each object in its own colour),
:func:`prediction_overlay` (an image and its class labels, e.g. ``labels_from_probabilities
(predict_image(model, image))``, as ``predict --overlay`` draws them); both (H, W, 3)
uint8, a 16-bit image scaled for display (:func:`display_rgb`)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.data.classes import voc_colormap


def palette(n: int) -> np.ndarray:
    """(n, 3) uint8 colours of classes 0..n-1, the PASCAL VOC colour map (0 is black)."""
    return voc_colormap(n)


def display_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W[, C]) any dtype -> (H, W, 3) uint8 for viewing: uint8 as is, other types
    stretched between the 0.5th and 99.5th percentiles of their finite values (NaN and
    infinities black); grey repeated, >3 channels cut."""
    x = image if image.ndim == 3 else image[:, :, None]
    x = x[:, :, :3] if x.shape[2] >= 3 else x[:, :, :1]
    if x.dtype == bool:
        x = x.astype(np.uint8) * 255
    if x.dtype != np.uint8:
        x = x.astype(np.float32)
        finite = np.isfinite(x)
        lo, hi = np.percentile(x[finite], [0.5, 99.5]) if finite.any() else (0.0, 1.0)
        x = np.where(finite, x - lo, 0.0) * (255.0 / max(hi - lo, 1e-12))
        x = np.clip(x, 0, 255).astype(np.uint8)
    return np.repeat(x, 3, axis=2) if x.shape[2] == 1 else np.ascontiguousarray(x)


def plot_curves(rows: list[dict], path: str | os.PathLike) -> Path:
    """Loss (train, val) and val mIoU / Dice per epoch from metrics rows, as one PNG."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays its own

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


def plot_confusion(matrix: np.ndarray, class_names: Sequence[str], path: str | os.PathLike) -> Path:
    """Row-normalised confusion matrix (each truth row sums to 1) as a PNG, class names on
    the axes, fractions and counts in the cells; written atomically (matplotlib Agg)."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays its own

    m = np.asarray(matrix, dtype=np.float64)
    rows = m.sum(1, keepdims=True)
    norm = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    n = len(class_names)
    size = min(2.5 + 0.6 * n, 14)
    fig = Figure(figsize=(size + 1, size), dpi=100, layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
    fig.colorbar(im, ax=ax, shrink=0.9, label="fraction of the true class")
    ax.set_xticks(
        range(n),
        labels=list(class_names),
        rotation=45 if n > 4 else 0,
        ha="right" if n > 4 else "center",
    )
    ax.set_yticks(range(n), labels=list(class_names))
    ax.set(xlabel="predicted", ylabel="true", title="confusion matrix (rows normalised)")
    if n <= 20:
        for i in range(n):
            for j in range(n):
                ax.text(
                    j,
                    i,
                    f"{norm[i, j]:.3f}\n{int(m[i, j])}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if norm[i, j] > 0.5 else "black",
                )
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
    image: np.ndarray,
    labels: np.ndarray,
    *,
    alpha: float = 0.45,
    skip: int | None = 0,
    colours: np.ndarray | None = None,
) -> np.ndarray:
    """Class indices drawn over an image: (H, W[, C]) any dtype + (H, W) int -> (H, W, 3) uint8.

    The image is shown as :func:`display_rgb` shows it; class c is mixed in with ``palette``
    colour c at ``alpha``. Class ``skip`` (default 0, the background; None: none) and negative
    indices stay untinted. ``colours``: (K, 3) uint8 instead of ``palette`` (a data set's
    own); where it gives class 0 a colour other than black (a scene's road, not a
    background), class 0 is tinted too. Written by hand rather than with
    ``skimage.color.label2rgb``, which turns the image grey.
    """
    rgb = display_rgb(image).astype(np.float32)
    labels = np.asarray(labels)
    if skip == 0 and colours is not None and len(colours) and np.any(colours[0]):
        skip = None
    tint = labels >= 0 if skip is None else (labels >= 0) & (labels != skip)
    if colours is None:
        colours = palette(int(labels.max(initial=0)) + 1)
    colours = np.asarray(colours, dtype=np.float32)
    rgb[tint] = (1 - alpha) * rgb[tint] + alpha * colours[labels[tint]]
    return np.round(rgb).astype(np.uint8)


def outlines(ids: np.ndarray) -> np.ndarray:
    """(H, W) bool: object pixels (id > 0) with a 4-neighbour of another id or the background
    (the image edge draws no outline)."""
    ids = np.asarray(ids)
    edge = np.zeros(ids.shape, bool)
    for axis in (0, 1):
        differ = np.diff(ids, axis=axis) != 0
        lead = [slice(None)] * 2
        lead[axis] = slice(None, -1)
        trail = [slice(None)] * 2
        trail[axis] = slice(1, None)
        edge[tuple(lead)] |= differ
        edge[tuple(trail)] |= differ
    return edge & (ids > 0)


def draw_outlines(rgb: np.ndarray, ids: np.ndarray, colour=(255, 255, 0)) -> np.ndarray:
    """A copy of an (H, W, 3) uint8 image with the :func:`outlines` of ``ids`` in ``colour``."""
    out = np.array(rgb, dtype=np.uint8, copy=True)
    out[outlines(ids)] = colour
    return out


#: golden-ratio step of the hue from one id to the next: ids in a row (neighbours, as
#: objects are numbered in reading order) get hues far apart
_HUE_STEP = 0.6180339887498949


def object_colours(ids: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 colour of each object id (same shape as ``ids``), fixed per id: hue
    stepped by the golden ratio from id to id, saturation and brightness varied by the id
    (so the same id has one colour in every picture, and neighbouring ids differ). Id 0
    (no object) is black; uint64 ids are coloured by their value modulo 2**62 (those above
    2**63 were black: negative as int64)."""
    ids = np.asarray(ids)
    none = ids <= 0
    ids = (ids % (1 << 62) if ids.dtype == np.uint64 else ids).astype(np.int64)
    hue = (ids * _HUE_STEP) % 1.0
    sat = 0.65 + 0.35 * ((ids * 7) % 3) / 2
    val = 0.8 + 0.2 * ((ids * 5) % 2)
    rgb = _hsv_to_rgb(hue, sat, val)
    rgb[none] = 0
    return np.round(rgb * 255).astype(np.uint8)


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    i = np.floor(h * 6).astype(np.int64) % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    table = np.stack([v, q, p, p, t, v]), np.stack([t, v, v, q, p, p]), np.stack([p, p, t, v, v, q])
    return np.stack([np.take_along_axis(c, i[None], 0)[0] for c in table], axis=-1)


def object_overlay(image: np.ndarray, ids: np.ndarray, *, alpha: float = 0.3) -> np.ndarray:
    """Objects drawn over an image: (H, W[, C]) any dtype + (H, W) ids -> (H, W, 3) uint8.

    Each object is filled with its own :func:`object_colours` colour at ``alpha`` and
    outlined (:func:`outlines`) in that colour, so objects that touch, and merged ones,
    show as separate (or single) colours; the background stays as :func:`display_rgb`
    shows it."""
    ids = np.asarray(ids)
    rgb = display_rgb(image).astype(np.float32)
    inside = ids > 0
    colours = object_colours(ids).astype(np.float32)
    rgb[inside] = (1 - alpha) * rgb[inside] + alpha * colours[inside]
    edge = outlines(ids)
    rgb[edge] = colours[edge]
    return np.round(rgb).astype(np.uint8)


def prediction_overlay(
    image: np.ndarray,
    labels: np.ndarray,
    ids: np.ndarray | None = None,
    *,
    colours: np.ndarray | None = None,
    by_object: bool = False,
) -> np.ndarray:
    """The picture ``predict --overlay`` writes: with ``by_object`` and ``ids``, each object
    in its own colour (:func:`object_overlay`: an instance model, whose classes are the
    parts of one object); else the classes (:func:`overlay`, ``colours``), with the
    outlines of ``ids`` when given (a semantic model's objects are regions of its classes)."""
    if by_object and ids is not None:
        return object_overlay(image, ids)
    drawn = overlay(image, labels, colours=colours)
    return drawn if ids is None else draw_outlines(drawn, ids)


def side_by_side(*panels: np.ndarray, gap: int = 4) -> np.ndarray:
    """(H, W, 3) uint8 panels of the same height joined left to right with white gaps."""
    h = panels[0].shape[0]
    spacer = np.full((h, gap, 3), 255, np.uint8)
    parts = []
    for panel in panels:
        parts += [panel if panel.ndim == 3 else np.repeat(panel[..., None], 3, -1), spacer]
    return np.concatenate(parts[:-1], axis=1)


#: the panels of plot_runs: (metrics.csv column, title)
RUN_PANELS = (("val_miou", "val mIoU"), ("val_loss", "val loss"))
#: more runs than this share plot_runs' legend in two columns
ONE_COLUMN = 8


#: what plot_runs' curves run along: metrics.csv's column
RUN_AXES = ("epoch", "step")


def plot_runs(
    curves: Sequence[tuple[str, list[dict], int | None]],
    path: str | os.PathLike,
    *,
    x: str = "epoch",
) -> Path:
    """The validation curves of several runs overlaid (``unetlab compare --out``):
    ``curves``: (name, metrics.csv rows, best epoch or None) of each run; drawn as one PNG
    at ``path`` (val mIoU and val loss by ``x``: ``"epoch"`` or ``"step"``, the training
    step each epoch ended at), each run one colour in both panels, a ring at its best
    epoch."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays its own
    from matplotlib.ticker import MaxNLocator

    if x not in RUN_AXES:
        raise ValueError(f"x must be one of {RUN_AXES}, not {x!r}")
    fig = Figure(figsize=(11, 4.2), dpi=100, layout="constrained")
    axes = fig.subplots(1, len(RUN_PANELS))
    colours = _run_colours(len(curves))
    for ax, (key, title) in zip(axes, RUN_PANELS):
        for (name, rows, best), colour in zip(curves, colours):
            points = run_points(rows, key, x=x, best=best)
            if not points[0]:
                continue
            xs, ys, ring = points
            ax.plot(xs, ys, color=colour, marker="o" if len(xs) < 30 else None, ms=3, label=name)
            if ring is not None:
                ax.plot(*ring, "o", color=colour, ms=9, mfc="none")
        ax.set(xlabel="training step" if x == "step" else "epoch", title=title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    if axes[0].lines:
        axes[0].legend(fontsize=8, ncols=1 if len(curves) <= ONE_COLUMN else 2)
    fig.suptitle(f"validation curves by {x} (rings: the epoch of best.pt)")
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def run_points(rows: list[dict], key: str, *, x: str, best: int | None) -> tuple:
    """(xs, ys, ring) of one run's curve of ``key`` by ``x`` (metrics.csv's ``epoch`` or
    ``step``): the rows that have ``key``; ``ring`` the (x, y) of its ``best`` epoch, or
    None."""
    kept = [r for r in rows if r.get(key) is not None]
    xs, ys = [r[x] for r in kept], [r[key] for r in kept]
    ring = next(((r[x], r[key]) for r in kept if r["epoch"] == best), None)
    return xs, ys, ring


def _run_colours(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def plot_legend(names: Sequence[str], colours: np.ndarray, path: str | os.PathLike) -> Path:
    """A PNG of each class's colour swatch and name, one row per class (the key to overlays
    and palette label images of many classes); written atomically."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays its own
    from matplotlib.patches import Rectangle

    rows = len(names)
    fig = Figure(figsize=(3.2, 0.3 * rows + 0.2), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set(xlim=(0, 10), ylim=(rows + 0.2, -0.2))
    ax.axis("off")
    for i, (name, colour) in enumerate(zip(names, np.asarray(colours, float) / 255)):
        ax.add_patch(Rectangle((0.3, i + 0.1), 1.4, 0.8, facecolor=colour, edgecolor="0.4"))
        ax.text(2.1, i + 0.5, f"{i}  {name}", va="center", fontsize=10)
    path = Path(path)
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Glyph .* missing from font", UserWarning)  # a box
        fig.savefig(tmp, format="png", bbox_inches="tight", pad_inches=0.1)  # a long name whole
    return path
