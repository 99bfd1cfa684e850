"""The spread of a figure over images (or folds, or seeds): mean, sample sd, min and max of
its defined values, as papers report them ("Dice 0.84 ± 0.05, n = 4")."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def spread(values: Sequence[float]) -> dict:
    """``{"n", "mean", "sd", "min", "max"}`` of the defined (not NaN) ``values``; sd is the
    sample's (n - 1: NaN for one value); all NaN for none."""
    kept = np.asarray([v for v in values if not math.isnan(v)], np.float64)
    if not kept.size:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "min": math.nan, "max": math.nan}
    sd = float(kept.std(ddof=1)) if kept.size > 1 else math.nan
    return {
        "n": int(kept.size),
        "mean": float(kept.mean()),
        "sd": sd,
        "min": float(kept.min()),
        "max": float(kept.max()),
    }


def described(s: dict) -> str:
    """A :func:`spread` in words: ``0.8412 ± 0.0510 (0.7702-0.9013)``; ``n/a`` where no value
    is defined (and for the sd of one value)."""
    if s["n"] == 0:
        return "n/a"
    sd = "n/a" if math.isnan(s["sd"]) else f"{s['sd']:.4f}"
    return f"{s['mean']:.4f} ± {sd} ({s['min']:.4f}-{s['max']:.4f})"
