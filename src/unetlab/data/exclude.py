"""Rows of every image that are not sample and are left out everywhere: an SEM's data bar,
a burned-in scale bar strip (``data.exclude_rows``; ``--exclude-rows`` of predict and
evaluate).

The region is ``{top: T, bottom: B}``: the first T and the last B rows of each image. A
whole number is pixels; a number below 1 with a point (``0.1``) is that share of the image's
height, rounded up (a data bar that is 10% of every image whatever its size). Left out of:
the normalisation statistics (taken over the kept rows only), what the net sees (the rows
are filled with the mirror image of the kept rows beside them, in training and prediction
alike), the loss and validation metrics (its mask pixels are ignored), the plan's class frequencies and object sizes,
evaluate's confusion matrix and object scores; predict writes the background class there
(its probability 1: :func:`unetlab.data.weightmap.background_class`, 0 for an instance
model) and counts an object it cuts as touching the border (audit s31 grains 2-4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from unetlab.data.large_ids import largest_compact
from unetlab.data.mirror import reflect_indices
from unetlab.errors import UnetlabError

EDGES = ("top", "bottom")

#: (T, B): the rows excluded at the top and at the bottom, each px (int) or a share (float)
ExcludeRows = tuple[int | float, int | float]


def check_exclude_rows(value, where: str = "data.exclude_rows") -> ExcludeRows | None:
    """``value`` (None, a mapping of ``top``/``bottom``, a (T, B) pair, or text
    ``bottom=26[,top=0]``; ``none``, empty: none) as (T, B) (None when both are 0);
    UnetlabError naming the problem and the form otherwise."""
    if value is None or isinstance(value, tuple | list | dict) and not value:
        return None
    if isinstance(value, tuple | list) and len(value) == 2:
        value = dict(zip(EDGES, value, strict=True))
    if isinstance(value, str):
        value = _parsed(value, where)
        if value is None:
            return None
    if not isinstance(value, Mapping):
        raise UnetlabError(
            f"{where}: expected {{top: T, bottom: B}} (px or a share), not {value!r}"
        )
    if unknown := [k for k in value if k not in EDGES]:
        raise UnetlabError(f"{where}: unknown edge {unknown[0]!r}: the edges are top and bottom")
    rows = tuple(_amount(value.get(edge, 0), _edge(where, edge)) for edge in EDGES)
    if sum(v for v in rows if isinstance(v, float)) >= 1:
        raise UnetlabError(f"{where}: the shares of top and bottom leave no rows: {shown(rows)}")
    return rows if any(rows) else None


def _parsed(text: str, where: str) -> dict | None:
    text = text.strip()
    if text.lower() in ("", "none", "0"):
        return None
    out = {}
    for part in text.split(","):
        edge, sep, amount = part.partition("=")
        if not sep:
            raise UnetlabError(
                f"{where}: {part!r} is not EDGE=ROWS: give e.g. bottom=26 or top=10,bottom=0.1"
            )
        out[edge.strip().lower()] = _number(amount.strip(), _edge(where, edge.strip()))
    return out


def _edge(where: str, edge: str) -> str:
    """``data.exclude_rows.top`` (a key, ``where``'s edge), or ``--exclude-rows top`` (a
    flag's: ``--exclude-rows.top`` is no flag, s54)."""
    return f"{where} {edge}" if where.startswith("--") else f"{where}.{edge}"


def _number(text: str, where: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise UnetlabError(f"{where}: {text!r} is not a number of rows or a share") from None


def _amount(value, where: str) -> int | float:
    """A count of rows (int >= 0) or a share in (0, 1) (float)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnetlabError(f"{where}: expected rows (an integer) or a share (0.1), not {value!r}")
    if isinstance(value, float) and value.is_integer() and value >= 1:
        value = int(value)
    if isinstance(value, float) and not 0 <= value < 1:
        raise UnetlabError(
            f"{where}: {value} is neither a whole number of rows nor a share below 1"
        )
    if value < 0:
        raise UnetlabError(f"{where}: {value} rows: give 0 or more")
    return value


def excluded_rows(rows: ExcludeRows | None, height: int, name: str = "image") -> tuple[int, int]:
    """(T, B) in pixels of an image ``height`` rows high (shares rounded up); UnetlabError
    when they leave no row of it."""
    if not rows:
        return 0, 0
    top, bottom = (_pixels(amount, height) for amount in rows)
    if top + bottom >= height:
        raise UnetlabError(
            f"{name}: exclude_rows {shown(rows)} leaves none of its {height} rows: give fewer"
        )
    return top, bottom


def _pixels(amount: int | float, height: int) -> int:
    return math.ceil(amount * height - 1e-9) if isinstance(amount, float) else int(amount)


def shown(rows: ExcludeRows | None) -> str:
    """``top=0,bottom=26`` (what ``--exclude-rows`` takes), or ``none``."""
    return ",".join(f"{e}={v}" for e, v in zip(EDGES, rows, strict=True)) if rows else "none"


def as_config(rows: ExcludeRows | None) -> dict | None:
    """(T, B) as the config and records write it: ``{top: T, bottom: B}``; None for none."""
    return dict(zip(EDGES, rows, strict=True)) if rows else None


def kept_rows(image, rows: ExcludeRows | None, name: str = "image"):
    """The rows of ``image`` (any array that slices by rows: numpy, memmap) that are sample:
    a view, never a copy; ``image`` itself when nothing is excluded."""
    if not rows:
        return image
    top, bottom = excluded_rows(rows, image.shape[0], name)
    return image[top : image.shape[0] - bottom]


def mirrored(image: np.ndarray, rows: ExcludeRows | None, name: str = "image") -> np.ndarray:
    """``image`` (H, W[, C]) with its excluded rows replaced by the mirror image of the kept
    rows beside them (as tiles are padded at an image's edge: numpy's "reflect"), so that
    what the net sees of the sample does not depend on the bar (its saturated text, its
    black frame): a new array; ``image`` itself when nothing is excluded."""
    if not rows:
        return image
    height = image.shape[0]
    top, bottom = excluded_rows(rows, height, name)
    kept = np.asarray(image[top : height - bottom])
    return kept[reflect_indices(-top, height - top, kept.shape[0])]


def region(shape: tuple[int, ...], rows: ExcludeRows | None) -> np.ndarray | None:
    """(H, W) bool, True in the excluded rows of an image of ``shape``; None for none."""
    if not rows:
        return None
    top, bottom = excluded_rows(rows, shape[0])
    out = np.zeros(shape[:2], bool)
    out[:top] = True
    out[shape[0] - bottom :] = True
    return out


def blank_probabilities(
    probabilities: np.ndarray, rows: ExcludeRows | None, background: int = 0
) -> np.ndarray:
    """(K, H, W) probabilities with the excluded rows set to the certainty of class
    ``background`` (:func:`certain_background`), in place; returned."""
    if not rows:
        return probabilities
    height = probabilities.shape[1]
    top, bottom = excluded_rows(rows, height)
    bar = np.zeros(height, bool)
    bar[:top] = True
    bar[height - bottom :] = True
    return certain_background(probabilities, bar, background)


def certain_background(probabilities: np.ndarray, where: np.ndarray, background: int) -> np.ndarray:
    """(K, H, W) probabilities with the pixels ``where`` says ((H,) rows or (H, W) pixels)
    set to the certainty of class ``background`` (its 1, the others' 0; a one-channel
    sigmoid net's p: 1 if the background is class 1, else 0), in place; returned."""
    probabilities[:, where] = 0
    if probabilities.shape[0] > 1:
        probabilities[background, where] = 1
    elif background == 1:
        probabilities[0, where] = 1
    return probabilities


def flag_cut_objects(table: dict, rows: ExcludeRows | None, height: int) -> dict:
    """An object table's ``touches_border`` also True for the objects that reach the
    excluded rows (cut by the data bar: their size is a lower bound, as at the image edge);
    ``bbox_bottom`` is exclusive. A new dict; ``table`` is kept."""
    if not rows or "touches_border" not in table:
        return table
    top, bottom = excluded_rows(rows, height)
    cut = np.zeros(len(table["touches_border"]), bool)
    if top:
        cut |= np.asarray(table["bbox_top"]) <= top
    if bottom:
        cut |= np.asarray(table["bbox_bottom"]) >= height - bottom
    return {**table, "touches_border": np.asarray(table["touches_border"], bool) | cut}


def drop_mostly_excluded(ids: np.ndarray, excluded: np.ndarray, share: float = 0.5) -> np.ndarray:
    """``ids`` (0 = none) with the objects of which more than ``share`` of the pixels lie in
    ``excluded`` set to 0, and every excluded pixel 0: a new array. Ids far above the pixel
    count (a tracker's, uint64 ones) are counted by their ranks
    (:func:`~unetlab.data.large_ids.largest_compact`: arrays by the largest id took 6.5 GB
    for 4e8)."""
    ids = np.asarray(ids)
    keys, top = largest_compact(ids)
    keys, n = keys.astype(np.intp, copy=False), top + 1
    inside = np.bincount(keys[excluded].ravel(), minlength=n)
    total = np.bincount(keys.ravel(), minlength=n)
    dropped = inside > share * np.maximum(total, 1)
    dropped[0] = False
    out = np.where(dropped[keys], 0, ids)
    out[excluded] = 0
    return out


#: rows a band must fill to be a data bar (a one-row frame is not)
MIN_ROWS = 2
#: the most of a band's value outside the band, as a share of the other pixels
OUTSIDE = 0.01


def edge_bands(mask: np.ndarray) -> dict[str, tuple[int, int]]:
    """``{"top": (value, rows), "bottom": (value, rows)}`` of the full-width bands of one
    value other than 0 at the top and bottom of ``mask`` (H, W), at least ``MIN_ROWS``
    rows, whose value is found in at most ``OUTSIDE`` of the other pixels; an edge without
    one is left out (a data bar drawn into the masks: :mod:`unetlab.plan.bar`). Rows are
    looked at from each edge inward while they hold the band's value alone, so a mask
    without a band costs a row or two (the fingerprint looks at every mask it measures)."""
    mask = np.asarray(mask)
    bands = {}
    for edge, rows in zip(EDGES, (np.arange(mask.shape[0]), np.arange(mask.shape[0])[::-1])):
        if (value := mask[rows[0], 0]) == 0:  # no band of 0: no row walked
            continue
        if (count := _band_rows(mask, rows, value)) < MIN_ROWS:
            continue
        rest = mask[rows[count:]]
        # a bar's value is in the bar alone: unlabelled pixels (sparse labels) fill an edge
        # too, and much of the rest
        if rest.size == 0 or np.count_nonzero(rest == value) <= OUTSIDE * rest.size:
            bands[edge] = (int(value), count)
    return bands


def _band_rows(mask: np.ndarray, rows: np.ndarray, value) -> int:
    """How many of ``rows`` of ``mask``, in their order, hold ``value`` alone before one
    that does not."""
    for count, row in enumerate(rows):
        if not (mask[row] == value).all():
            return count
    return len(rows)
