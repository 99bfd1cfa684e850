"""The tile, the batch and the tiles per epoch: how much of the data a step sees."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from unetlab.data.fingerprint import Fingerprint
from unetlab.plan.geometry import Geometry
from unetlab.plan.record import Choice

OBJECTS_PER_TILE = 4  # a tile spans this many typical objects across
LARGEST_PER_TILE = 2  # ... and this many of the largest class's (semantic, 2+ classes)
MIN_CLASS_OBJECTS = 3  # a class sizes the tile as the largest with at least this many objects
MAX_TILE = {
    "cpu": 256,
    "cuda": 512,
}  # largest planned input tile per device (memory, time)
PIXELS_PER_STEP = {
    "cpu": 8 * 128 * 128,
    "cuda": 8 * 512 * 512,
}  # batch x tile^2 per step


def plan_tile(
    fp: Fingerprint, geometry: Geometry, device: str, names: Mapping[int, str] | None = None
) -> Choice:
    """The input tile: ``OBJECTS_PER_TILE`` typical objects across and, in a semantic set of
    several object classes, ``LARGEST_PER_TILE`` of the largest class's (:func:`largest_class`:
    glands among many small nuclei; ``names``: mask value -> class name for the reason),
    within the smallest image (its output must fit) and the device's ``MAX_TILE``."""
    fits = [
        s
        for s in geometry.inputs(max(MAX_TILE[device], geometry.min_input))
        if geometry.output(s) <= fp.smallest_side
    ]
    if not fits:
        fits = [geometry.min_input]
    areas = fp.sized_areas()  # lines (a thin class's fragments) size no tile
    whole, left_out = whole_objects(fp)
    if areas.size == 0:
        return Choice(
            "data.tile_size",
            fits[-1],
            f"no {whole}objects to size by{left_out}: the largest tile within "
            f"{_limit(fits, fp, device)}",
        )
    diameter = _across(float(np.median(areas)))
    want = OBJECTS_PER_TILE * diameter
    why = (
        f"{whole}objects are ~{diameter:.0f} px across (median area "
        f"{np.median(areas):.0f} px{left_out}): "
        f"{OBJECTS_PER_TILE} across need a {want:.0f} px output"
    )
    if (large := largest_class(fp)) is not None:
        value, median = large
        name = f" ({names[value]})" if names and value in names else ""
        if LARGEST_PER_TILE * _across(median) > want:
            want = LARGEST_PER_TILE * _across(median)
            why += (
                f"; the largest class, mask value {value}{name}, has objects ~"
                f"{_across(median):.0f} px across (median area {median:.0f} px): "
                f"{LARGEST_PER_TILE} across need a {want:.0f} px output"
            )
    tile = next((s for s in fits if geometry.output(s) >= want), fits[-1])
    if geometry.output(tile) < want:
        why += f"; capped by {_limit(fits, fp, device)}"
    return Choice("data.tile_size", tile, why)


def largest_class(fp: Fingerprint) -> tuple[int, float] | None:
    """(mask value, median object area) of the class whose objects are the largest by
    median area, among the semantic classes with at least ``MIN_CLASS_OBJECTS`` sized
    objects (:meth:`Fingerprint.class_areas`); None unless two or more classes have them."""
    medians = {
        v: float(np.median(a)) for v, a in fp.class_areas().items() if a.size >= MIN_CLASS_OBJECTS
    }
    if len(medians) < 2:
        return None
    value = max(medians, key=medians.get)
    return value, medians[value]


def _across(area: float) -> float:
    """The diameter of a disc of ``area`` px."""
    return 2 * math.sqrt(area / math.pi)


def whole_objects(fp: Fingerprint) -> tuple[str, str]:
    """('', '') or, where objects meet unlabelled pixels and are left out of the object
    facts, ('wholly labelled ', '; N that meet unlabelled pixels left out')."""
    cut = fp.cut_objects()
    if not cut:
        return "", ""
    return "wholly labelled ", f"; {cut} that meet unlabelled pixels left out"


def _limit(fits: list[int], fp: Fingerprint, device: str) -> str:
    if len(fits) > 1 and 2 * fits[-1] - fits[-2] > MAX_TILE[device]:  # the next size is over
        return f"the {device} budget of {MAX_TILE[device]} px tiles"
    return f"the smallest image side ({fp.smallest_side} px)"


MAX_BATCH = 32  # tiles per step, however small


def plan_batch(tile: int, device: str) -> Choice:
    """Tiles per step: about ``PIXELS_PER_STEP[device]`` input pixels, 1 to ``MAX_BATCH``
    tiles; the reason gives the pixels a step does take."""
    want = PIXELS_PER_STEP[device]
    batch = int(min(max(want // (tile * tile), 1), MAX_BATCH))
    tiles = f"{batch} tile{'s' if batch > 1 else ''}"
    why = f"{tiles} of {tile} px: ~{_kilo(batch * tile * tile)} px per step on {device}"
    if want // (tile * tile) > MAX_BATCH:
        why += f" (at most {MAX_BATCH} tiles; {_kilo(want)} px would be the aim)"
    return Choice("train.batch_size", batch, why)


def plan_tiles_per_epoch(tiles: int, batch: int) -> list[Choice]:
    """``data.tiles_per_epoch`` rounded to the nearest multiple of ``batch`` (at least one
    batch), so that no epoch ends with a step of a few tiles (64 tiles in batches of 7 ended
    every epoch with a 1-tile step under batch norm); [] when ``batch`` divides it."""
    if tiles % batch == 0:
        return []
    rounded = max(round(tiles / batch), 1) * batch
    why = (
        f"{rounded // batch} full batches of {batch}: every step a whole batch ({tiles} tiles "
        f"would end each epoch with a step of {tiles % batch})"
    )
    return [Choice("data.tiles_per_epoch", rounded, why)]


def _kilo(pixels: int) -> str:
    return f"{pixels // 1024}k" if pixels >= 1024 else str(pixels)
