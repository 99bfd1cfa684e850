"""The validation curves of several runs overlaid, one PNG (matplotlib Agg, written
atomically): val mIoU and val loss per epoch, each run's best.pt epoch marked."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from unetlab.atomic import atomic_path

#: the panels: (metrics.csv column, title)
PANELS = (("val_miou", "val mIoU"), ("val_loss", "val loss"))
#: more runs than this share a legend in two columns
ONE_COLUMN = 8


def plot_runs(
    curves: Sequence[tuple[str, list[dict], int | None]], path: str | os.PathLike
) -> Path:
    """``curves``: (name, metrics.csv rows, best epoch or None) of each run; drawn as one
    PNG at ``path``, each run one colour in both panels, a ring at its best epoch."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays its own
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(11, 4.2), dpi=100, layout="constrained")
    axes = fig.subplots(1, len(PANELS))
    colours = _colours(len(curves))
    for ax, (key, title) in zip(axes, PANELS):
        for (name, rows, best), colour in zip(curves, colours):
            points = [(r["epoch"], r[key]) for r in rows if r.get(key) is not None]
            if not points:
                continue
            xs, ys = zip(*points)
            ax.plot(xs, ys, color=colour, marker="o" if len(xs) < 30 else None, ms=3, label=name)
            if best in xs:
                ax.plot(best, ys[xs.index(best)], "o", color=colour, ms=9, mfc="none")
        ax.set(xlabel="epoch", title=title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    if axes[0].lines:
        axes[0].legend(fontsize=8, ncols=1 if len(curves) <= ONE_COLUMN else 2)
    fig.suptitle("validation curves (rings: the epoch of best.pt)")
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def _colours(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]
