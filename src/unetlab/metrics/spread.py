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
