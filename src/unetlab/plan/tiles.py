"""The tile, the batch and the tiles per epoch: how much of the data a step sees."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from unetlab.data.fingerprint import Fingerprint
from unetlab.errors import Blank, Spelled, said_as, set_to
from unetlab.plan.geometry import Geometry
from unetlab.plan.memory import PLAN_SHARE
from unetlab.plan.record import Choice

OBJECTS_PER_TILE = 4  # a tile spans this many typical objects across
LARGEST_PER_TILE = 2  # ... and this many of the largest class's (semantic, 2+ classes)
MIN_CLASS_OBJECTS = 3  # a class sizes the tile as the largest with at least this many objects
SPREAD_RATIO = 4  # images whose median objects lie this far apart across are named
CONTEXT_BATCH = 16  # the largest class grows the tile only while a step holds this many tiles
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
    """The input tile: ``OBJECTS_PER_TILE`` typical objects across within the smallest image
    (its output must fit) and the device's ``MAX_TILE``; in a semantic set of several object
    classes also ``LARGEST_PER_TILE`` of the largest class's (:func:`largest_class`: glands
    among many small nuclei) where a step still holds ``CONTEXT_BATCH`` such tiles (a GPU's
    budget; on a CPU the reason names the class); ``names``: mask value -> class name."""
    fits = [
        s
        for s in geometry.inputs(max(MAX_TILE[device], geometry.min_input))
        if geometry.output(s) <= fp.smallest_side
    ]
    if not fits:
        fits = [geometry.min_input]
    areas = fp.sized_areas()  # lines (a thin class's fragments) and cut pieces size no tile
    whole, left_out = whole_objects(fp)
    if cut := fp.edge_cut_objects():
        left_out += f"; {cut} cut by the image edge or nodata left out"
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
    tile = next((s for s in fits if geometry.output(s) >= want), fits[-1])
    if geometry.output(tile) < want:
        why += f"; capped by {_limit(fits, fp, device)}"
    why += size_spread(fp)
    if (large := largest_class(fp)) is not None:
        tile, why = _room_for_largest(tile, why, fits, geometry, device, large, names)
    return Choice("data.tile_size", tile, why)


def size_spread(fp: Fingerprint) -> str:
    """'' or, where the images' own median objects lie ``SPREAD_RATIO`` apart across or more
    (magnifications mixed: Kromp's 20x and 63x nuclei, 17-179 px, the median of all its
    objects 28 px because the 20x images hold most of them), words saying so and that the
    tile follows all objects' median (audit s45 newuser: a 128-px tile holds part of one
    63x nucleus, and the plan's '~28 px across' read as if that were every image's; at equal
    steps 256-px tiles x 2 trained worse than 128 x 8, object F1 0.56 against 0.73). In a
    semantic set of several classes with objects the spread is said as theirs, with no word
    on magnification (road scenes, 23-106 px: 11 classes of different sizes)."""
    medians = [_across(float(np.median(p.object_areas))) for p in fp.pairs if p.object_areas]
    if len(medians) < 2 or max(medians) < SPREAD_RATIO * min(medians):
        return ""
    spread = f"; per image the median object is {min(medians):.0f}-{max(medians):.0f} px across"
    if not fp.instances and len(classes := sized_classes(fp)) >= 2:
        return spread + (
            f" (the images hold objects of {len(classes)} classes, whose sizes differ): the "
            f"tile follows the median of all objects ({said_as(TILE_SET)} sets it)"
        )
    return spread + (
        " (magnifications differ?): the tile follows the median of all objects (on such a "
        "nuclei set, 256-px tiles x 2 trained worse than 128 x 8 at equal steps; "
        f"{said_as(TILE_SET)} sets it, {said_as(RESCALE)} resizes images of another "
        "magnification)"
    )


#: what resizes images of another magnification, as the caller spells it (plan_training
#: told Python "predict --scale", s56 new user)
RESCALE = Spelled("predict_folder(..., scale=N)", "predict --scale")
#: the setting that sets the tile, as the caller sets it (the bare key data.tile_size was
#: said to both, s57)
TILE_SET = set_to("data.tile_size", Blank("N"))


def sized_classes(fp: Fingerprint) -> list[int]:
    """The mask values of a semantic set's classes with sized objects (road scenes: 11 classes
    of different sizes, whose per-image spread is no magnification; audit s46 scenes)."""
    return [v for v, areas in fp.class_areas().items() if areas.size]


def _room_for_largest(tile, why, fits, geometry, device, large, names) -> tuple[int, str]:
    """``tile`` grown to hold ``LARGEST_PER_TILE`` of the ``large`` class's objects across
    where a tile that holds them still leaves ``CONTEXT_BATCH`` tiles per step, else as it
    is (fewer, larger tiles trained glands worse on a 2-minute CPU run: IoU 0.44 with 3
    tiles of 208 px, 0.70 with 8 of 128, 0.77 with 20 of 80), with the reason."""
    value, median = large
    need = LARGEST_PER_TILE * _across(median)
    if geometry.output(tile) >= need:
        return tile, why
    name = f" ({names[value]})" if names and value in names else ""
    why += (
        f"; the largest class, mask value {value}{name}, has objects ~{_across(median):.0f} "
        f"px across (median area {median:.0f} px): {LARGEST_PER_TILE} across need a "
        f"{need:.0f} px output"
    )
    roomy = [s for s in fits if PIXELS_PER_STEP[device] // (s * s) >= CONTEXT_BATCH]
    grown = next((s for s in roomy if geometry.output(s) >= need), None)
    if grown is None:
        return tile, why + (
            f", which would leave fewer than {CONTEXT_BATCH} tiles per step on {device} or "
            "pass the tile limit: not planned (fewer, larger tiles trained worse on a short "
            f"CPU run; {said_as(TILE_SET)} sets it)"
        )
    return grown, why


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


def plan_batch(tile: int, device: str, memory=None, used: int | None = None) -> Choice:
    """Tiles per step: about ``PIXELS_PER_STEP[device]`` input pixels, 1 to ``MAX_BATCH``
    tiles, and with ``memory`` (a :class:`unetlab.plan.memory.StepMemory`) no more than
    take :data:`~unetlab.plan.memory.PLAN_SHARE` of the memory available (the data set
    needs room too); the reason gives the pixels and the memory of a step, and of the
    ``used`` batch where the user's differs."""
    want = PIXELS_PER_STEP[device]
    batch = int(min(max(want // (tile * tile), 1), MAX_BATCH))
    capped = memory is not None and batch > (room := max(memory.largest_batch(tile, PLAN_SHARE), 1))
    batch = room if capped else batch
    tiles = f"{batch} tile{'s' if batch > 1 else ''}"
    why = f"{tiles} of {tile} px: ~{_kilo(batch * tile * tile)} px per step on {device}"
    if want // (tile * tile) > MAX_BATCH:
        why += f" (at most {MAX_BATCH} tiles; {_kilo(want)} px would be the aim)"
    if memory is not None:
        why += f"; {memory.said(tile, batch)}"
        if capped:
            why += f", {PLAN_SHARE:.0%} of which a step may take"
        if used is not None and used != batch:
            why += f"; your {used}: {memory.said(tile, used).split(' (')[0]}"
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
