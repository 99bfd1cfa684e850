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
from unetlab.data.large_ids import far_above


def palette(n: int) -> np.ndarray:
    """(n, 3) uint8 colours of classes 0..n-1, the PASCAL VOC colour map (0 is black)."""
    return voc_colormap(n)


def shown_channels(count: int, channel: int | tuple | None = None) -> tuple[int, ...]:
    """The channels :func:`display_rgb` shows of an image of ``count``: the first 3 as RGB,
    else the first as grey; of ``channel`` (those a model predicts from, by index) where
    given: that one as grey, a band list's first 3 as RGB, else its first as grey (s70: a
    24-channel slide predicted on CD45 showed DAPI, CD45 and panCK as RGB under the
    outlines). A slide's overlay reads those alone (s69, an overlay of a 24-channel slide
    decoded all 24, 7.5 s CPU and 749 MB peak where 4.5 s and 396 MB without it)."""
    if channel is None:
        chosen = tuple(range(count))
    else:
        chosen = (channel,) if isinstance(channel, int | np.integer) else tuple(channel)
    return chosen[:3] if len(chosen) >= 3 else chosen[:1]


def display_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W[, C]) any dtype -> (H, W, 3) uint8 for viewing: uint8 as is, other types
    stretched between the 0.5th and 99.5th percentiles of their finite values (NaN and
    infinities black); grey repeated, >3 channels cut (:func:`shown_channels`)."""
    x = image if image.ndim == 3 else image[:, :, None]
    x = x[:, :, : len(shown_channels(x.shape[2]))]
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
    loss_ax.set(xlabel="epoch", ylabel="loss")
    # ticks of at most ~5 characters (1e-3 or 1e4 above the axis): 0.0018 and 10000 were cut,
    # with the "loss" label, by the fixed margins below
    loss_ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 4))
    score_ax.set(xlabel="epoch", ylabel="score", ylim=(0, 1))
    for ax, title in ((loss_ax, "loss"), (score_ax, "validation")):
        ax.set_title(title, y=1.0)  # y given: no search for tick labels above the axes
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    # fixed margins that hold 6-character ticks: tight_layout drew the figure once more to
    # measure them (~40% of a plot, drawn in every run)
    fig.subplots_adjust(left=0.08, right=0.985, bottom=0.14, top=0.92, wspace=0.22)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def plot_confusion(
    matrix: np.ndarray,
    class_names: Sequence[str],
    path: str | os.PathLike,
    *,
    metadata: dict[str, str] | None = None,
    missed: tuple[np.ndarray, object] | None = None,
) -> Path:
    """Row-normalised confusion matrix (each truth row sums to 1) as a PNG, class names on
    the axes, fractions and counts in the cells; written atomically (matplotlib Agg), with
    ``metadata``'s PNG text chunks (what an evaluation scored, e.g.). ``missed``: (per
    class, its pixels predicted as the masks' ignore value, that value): in each row's
    total, no column's (review s66: a row of 352 right of 370 showed 1.000, recall 0.9514)."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays its own

    from unetlab.metrics.confusion import truth_pixels  # torch: where a matrix is drawn only

    m = np.asarray(matrix, dtype=np.float64)
    rows = truth_pixels(m, None if missed is None else missed[0])[:, None]
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
    title = "confusion matrix (rows normalised)"
    title += "" if missed is None else f"\nthe rest of a row: predicted {missed[1]}"
    ax.set(xlabel="predicted", ylabel="true", title=title)
    if n <= 20:
        _cells_written(ax, norm, m)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata=metadata)
    return path


def _cells_written(ax, norm: np.ndarray, m: np.ndarray) -> None:
    """Each cell of the confusion matrix ``m`` drawn on ``ax``: its row fraction (``norm``)
    and its count."""
    for (i, j), share in np.ndenumerate(norm):
        ax.text(
            j,
            i,
            f"{share:.3f}\n{int(m[i, j])}",
            ha="center",
            va="center",
            fontsize=8,
            color="white" if share > 0.5 else "black",
        )


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


#: the colours objects are drawn in (:func:`object_colours`): eight far apart (CIE Lab
#: distance 58 at least, RGB 180), red, green, yellow, blue, purple, cyan, pink, brown
OBJECT_PALETTE = np.array(
    [
        [230, 25, 75],
        [60, 180, 75],
        [255, 225, 25],
        [0, 130, 200],
        [145, 30, 180],
        [70, 240, 240],
        [250, 190, 212],
        [170, 110, 40],
    ],
    np.uint8,
)
#: objects this near (px, one pixel to the other) are neighbours that never share a colour
#: (touching, or split by a line of 1 px, where their outlines are side by side)
NEAR = 2
#: the (dy, dx) steps to a pixel's neighbours within :data:`NEAR` px, one of each +/- pair
_NEAR_STEPS = ((0, 1), (1, 0), (1, 1), (1, -1), (0, 2), (2, 0))
#: 2**64 / the golden ratio: Fibonacci hashing spreads ids in a row over the palette
_FIBONACCI = np.uint64(11400714819323198485)


def neighbour_pairs(ids: np.ndarray) -> np.ndarray:
    """(P, 2) the distinct pairs ``(a, b)``, ``a < b``, of object ids (> 0) with pixels
    within :data:`NEAR` px of each other, sorted; ``ids``' dtype."""
    ids = np.asarray(ids)
    if ids.ndim != 2:
        return np.zeros((0, 2), ids.dtype)
    h, w = ids.shape
    firsts, seconds = [], []
    for dy, dx in _NEAR_STEPS:
        a = ids[: h - dy, max(0, -dx) : w - max(0, dx)]
        b = ids[dy:, max(0, dx) : w + min(0, dx)]
        near = (a != b) & (a > 0) & (b > 0)
        firsts.append(a[near])
        seconds.append(b[near])
    a, b = np.concatenate(firsts), np.concatenate(seconds)
    values, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    i, j = np.split(inverse.reshape(-1).astype(np.int64), 2)
    i, j = np.minimum(i, j), np.maximum(i, j)
    key = np.unique(i * len(values) + j)
    return np.stack([values[key // len(values)], values[key % len(values)]], axis=1)


def object_colour_table(ids) -> tuple[np.ndarray, np.ndarray]:
    """``(keys, index)``: the sorted ids of the objects of ``ids`` that have neighbours
    (:func:`neighbour_pairs`) and the :data:`OBJECT_PALETTE` index each is drawn in: in id
    order, its own (:func:`preferred_index`) unless a neighbour coloured before it has it,
    else the next free one after it (greedy graph colouring: no two neighbours share a
    colour while an object has fewer than eight neighbours; one with more takes the
    colour fewest of them have). ``ids``: (H, W), or pages ((P, H, W) or a list of (H, W)):
    the neighbours of each page, so that an object of several pages (3-D) takes one
    colour apart from its neighbours in all of them."""
    pages = [ids] if getattr(ids, "ndim", 3) <= 2 else list(ids)
    pairs = neighbour_pairs(pages[0]) if len(pages) == 1 else _pairs_of_pages(pages)
    keys, inverse = np.unique(pairs, return_inverse=True)
    edges = inverse.reshape(-1, 2)
    both = np.concatenate([edges, edges[:, ::-1]])
    both = both[np.lexsort((both[:, 1], both[:, 0]))]
    starts = np.searchsorted(both[:, 0], np.arange(len(keys) + 1)).tolist()
    others = both[:, 1].tolist()
    return keys, _greedy(preferred_index(keys).tolist(), starts, others)


def _pairs_of_pages(pages: list) -> np.ndarray:
    """The :func:`neighbour_pairs` of any of ``pages``, each pair once, sorted."""
    pairs = [neighbour_pairs(page) for page in pages]
    if not pairs:
        return np.zeros((0, 2), np.int64)
    return np.unique(np.concatenate(pairs), axis=0)


def _greedy(own: list[int], starts: list[int], others: list[int]) -> np.ndarray:
    """Each node's palette index, in node order: ``own[n]`` where none of its neighbours
    (``others[starts[n]:starts[n + 1]]``) coloured before it has it, else the first after
    it that fewest of them have."""
    index = [-1] * len(own)
    k = len(OBJECT_PALETTE)
    for n, first in enumerate(own):
        taken = [index[m] for m in others[starts[n] : starts[n + 1]] if m < n]
        if first in taken:
            order = [(first + step) % k for step in range(k)]
            first = min(order, key=lambda c: (taken.count(c), order.index(c)))
        index[n] = first
    return np.array(index, np.int64)


def preferred_index(ids: np.ndarray) -> np.ndarray:
    """The :data:`OBJECT_PALETTE` index an object id takes where no neighbour has it: the
    id's Fibonacci hash (ids in a row, neighbours in reading order, get different ones;
    uint64 ids above 2**63 too)."""
    ids = np.asarray(ids)
    hashed = ids.astype(np.uint64) * _FIBONACCI  # wraps modulo 2**64, as hashing wants
    return ((hashed >> np.uint64(32)) * np.uint64(len(OBJECT_PALETTE)) >> np.uint64(32)).astype(
        np.int64
    )


def object_colours(ids: np.ndarray, table: tuple | None = None) -> np.ndarray:
    """(..., 3) uint8 colour of each object id (same shape as ``ids``; 0 or below, no
    object: black) from :data:`OBJECT_PALETTE`: objects within :data:`NEAR` px of each
    other in different colours far apart (:func:`object_colour_table` of ``ids``, or
    ``table``: that of a larger map ``ids`` is part of, the same colours band by band),
    each other object its id's own (:func:`preferred_index`). Deterministic: the same
    map is drawn the same way every time."""
    ids = np.asarray(ids)
    if ids.dtype.kind not in "iu" or (ids.dtype.kind == "i" and ids.size and ids.min() < 0):
        ids = np.maximum(ids, 0).astype(np.int64)  # bool, float ids (a viewer's labels)
    keys, index_of = object_colour_table(ids) if table is None else table
    colours = np.concatenate([np.zeros((1, 3), np.uint8), OBJECT_PALETTE])
    if not far_above(ids):
        top = max(int(ids.max(initial=0)), int(keys.max(initial=0)))
        lookup = preferred_index(np.arange(top + 1)) + 1
        lookup[keys.astype(np.int64)] = index_of + 1
        lookup[0] = 0
        return colours[lookup[ids]]
    index = preferred_index(ids) + 1  # ids far above the pixel count: no table by id
    if len(keys):
        at = np.minimum(np.searchsorted(keys, ids), len(keys) - 1)
        listed = keys[at] == ids
        index[listed] = index_of[at[listed]] + 1
    index[ids == 0] = 0
    return colours[index]


def object_overlay(
    image: np.ndarray, ids: np.ndarray, *, alpha: float = 0.3, table: tuple | None = None
) -> np.ndarray:
    """Objects drawn over an image: (H, W[, C]) any dtype + (H, W) ids -> (H, W, 3) uint8.

    Each object is filled with its own :func:`object_colours` colour at ``alpha`` and
    outlined (:func:`outlines`) in that colour, so objects that touch, and merged ones,
    show as separate (or single) colours, touching ones always far apart; the background
    stays as :func:`display_rgb` shows it. ``table``: the :func:`object_colour_table` of
    the larger map ``ids`` is a band of (the same colours band by band)."""
    ids = np.asarray(ids)
    rgb = display_rgb(image).astype(np.float32)
    inside = ids > 0
    colours = object_colours(ids, table).astype(np.float32)
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
    table: tuple | None = None,
) -> np.ndarray:
    """The picture ``predict --overlay`` writes: with ``by_object`` and ``ids``, each object
    in its own colour (:func:`object_overlay`: an instance model, whose classes are the
    parts of one object; ``table``: its colours in a larger map); else the classes
    (:func:`overlay`, ``colours``), with the outlines of ``ids`` when given (a semantic
    model's objects are regions of its classes)."""
    if by_object and ids is not None:
        return object_overlay(image, ids, table=table)
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


def plot_plate(
    values: np.ndarray, rows: Sequence[str], columns: Sequence[str], path, *, title: str, label: str
) -> Path:
    """A plate's wells at a glance: ``values`` (rows x columns, NaN for a well absent, drawn
    blank) as a grid of cells, rows and columns labelled as the plate names them, a colour
    bar named ``label``; written atomically (matplotlib Agg)."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays its own

    h, w = values.shape
    fig = Figure(figsize=(min(2.2 + 0.45 * w, 16), min(1.2 + 0.45 * h, 11)), dpi=100)
    ax = fig.subplots()
    shown = np.ma.masked_invalid(values.astype(np.float64))
    im = ax.imshow(shown, cmap="viridis", vmin=0, interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label=label)
    ax.set_xticks(range(w), labels=list(columns), fontsize=8)
    ax.set_yticks(range(h), labels=list(rows), fontsize=8)
    ax.xaxis.tick_top()
    ax.set_xticks(np.arange(w + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(h + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="0.8", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    ax.set_title(title, fontsize=10)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    return path
