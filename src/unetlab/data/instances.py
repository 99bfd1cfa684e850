"""Instance masks (one id per object) and what a U-Net learns from them.

An *instance mask* stores one integer id per object and 0 for the background, as the cell
tracking challenge, DSB 2018 and cellpose data sets do (16-bit PNG/TIFF). A binary mask
(0 and one of 1, 255, True or its type's largest value, such as 65535) is read as objects =
its 4-connected components (8-connected on request); a mask of 0 and one other value (id 7)
is one object.

The net does not learn the ids: it learns a three-class target (SPEC §4's "separation of
touching objects"), :data:`BACKGROUND` 0, :data:`BOUNDARY` 1, :data:`INTERIOR` 2. An object
pixel is boundary when a pixel of another id (or the background) lies within
``boundary_width`` steps (4-neighbour steps, a diamond), so two touching objects are kept
apart by boundary pixels even where no background lies between them. The image border is no
boundary: an object cut by the border continues outside the image.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from unetlab.data.labels import IGNORE_INDEX, connectivity_refusal
from unetlab.data.large_ids import compact_large_ids
from unetlab.deferred import deferred
from unetlab.errors import Blank, DatasetError, Spelled, UnetlabError, set_to, spelled
from unetlab.words import first_listed

ndimage = deferred("scipy.ndimage")

log = logging.getLogger(__name__)

BACKGROUND, BOUNDARY, INTERIOR = 0, 1, 2
CLASS_NAMES = ("background", "boundary", "interior")
TARGETS = ("auto", "semantic", "instances")
INSTANCE_VALUES = 32  # a mask with more distinct values than this holds object ids
#: ``ndimage.generate_binary_structure(2, 1)``, written out: scipy loads at first use
_FOUR_CONNECTED = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
#: the setting that makes a mask value no label, as training takes it
IGNORE_SETTING = functools.partial(set_to, "data.ignore_value")


def ignore_keyword(value: int) -> Spelled:
    """The keyword and flag that make mask value ``value`` no label, as evaluate and
    weightmap take it (:func:`instance_ids`' ``ignore_setting`` there)."""
    return Spelled(f"ignore_value={value}", f"--ignore-value {value}")


def instance_ids(
    mask: np.ndarray,
    *,
    name: str = "mask",
    connectivity: int = 1,
    ignore_setting: Callable[[int], Spelled] = IGNORE_SETTING,
    ignore_value: int | None = None,
) -> np.ndarray:
    """(H, W) mask as stored -> (H, W) int32 object ids, 0 = background.

    Integer ids are kept as they are (not renumbered; an id may be any positive value). A
    binary mask (0 and one of the :func:`binary_values`: 1, 255, True, the type's largest
    value) becomes its connected components 1..n, ``connectivity`` 1: 4-connected (edge
    neighbours), 2: 8-connected; a mask of 0 and another single value is one object. Float masks
    are accepted when every value is a whole number. Raises DatasetError naming ``name`` for
    non-integer values, negative ids, ids beyond int32 and masks that are not (H, W); that of
    a negative value names ``ignore_setting(value)`` (training's ``data.ignore_value``, or
    :func:`ignore_keyword`) as the fix where it marks pixels left unlabelled; where that
    setting is given already (``ignore_value``, its pixels passed as 0), the others are
    told to be saved as that one value.
    """
    mask = np.asarray(mask)
    if connectivity not in (1, 2):
        raise UnetlabError(connectivity_refusal(connectivity))
    if mask.ndim != 2:
        raise DatasetError(
            f"{name}: an instance mask is one (H, W) id image, not shape {mask.shape}"
        )
    if mask.dtype == bool:
        mask = mask.astype(np.uint8)
    whole = np.issubdtype(mask.dtype, np.integer) or (
        np.issubdtype(mask.dtype, np.floating) and np.array_equal(mask, np.round(mask))
    )
    if not whole:
        raise DatasetError(
            f"{name}: instance ids must be whole numbers, but this {mask.dtype} mask holds "
            "fractions (resized or blurred?); save one integer id per object (16-bit PNG/TIFF)"
        )
    _refuse_out_of_range(mask, name, ignore_setting, ignore_value)
    if is_binary_mask(mask):
        structure = ndimage.generate_binary_structure(2, connectivity)
        ids, _ = ndimage.label(mask > 0, structure=structure)
        return ids.astype(np.int32)
    return mask.astype(np.int32)


def _refuse_out_of_range(
    mask: np.ndarray, name: str, ignore_setting: Callable, ignore_value: int | None
) -> None:
    """DatasetError where whole-number ``mask`` holds negative ids (:func:`_negative_ids`)
    or ids beyond int32 (:func:`instance_ids`)."""
    lo, hi = (mask.min(), mask.max()) if mask.size else (0, 0)
    if lo < 0:
        negative = np.unique(mask[mask < 0])
        raise DatasetError(**_negative_ids(name, negative, ignore_setting, ignore_value))
    if hi > np.iinfo(np.int32).max:
        raise DatasetError(
            f"{name}: instance ids run from {lo} to {hi}; ids are 0 (background) or positive "
            "integers below 2**31: number the objects 1..n (a tracker's or hash's ids: "
            "skimage.segmentation.relabel_sequential) and save them as 32-bit"
        )


def _negative_ids(
    name: str, values: np.ndarray, ignore_setting: Callable, given: int | None = None
) -> dict:
    """The error keywords of a mask holding the negative ``values``
    (:func:`negative_values_line`): the fix beside the ignore value, numbering the objects."""
    kinds = ("value {} is no object id", "values {} are no object ids")
    kinds = tuple(f"{kind} (0 background, else positive)" for kind in kinds)
    how = dict(ignore_setting=ignore_setting, given=given)
    return negative_values_line(name, values, kinds, lambda one: "number the objects 1..n", **how)


def negative_values_line(
    name: str,
    values: Sequence[int],
    kinds: tuple[str, str],
    otherwise: Callable[..., str],
    *settings: str | Spelled,
    ignore_setting: Callable[[int], Spelled],
    given: int | None = None,
) -> dict:
    """The error keywords (:func:`~unetlab.errors.spelled`) of mask ``name`` holding the
    negative ``values``, which are no label (``kinds``: what one value and several are not,
    ``{}`` their list): all named (the lowest alone was, s56), the fix's ignore setting
    (``ignore_setting``) of one value (several: saved as one); with an ignore value ``given``
    already, saved as that one (s56 review B: each other value was named as the setting's in
    turn, a loop); else the caller's fix, ``otherwise(one, *settings)``. Both instances and
    weightmap's class masks say it."""
    shown = [int(v) for v in values]
    one = len(shown) == 1
    what = kinds[0 if one else 1].format(first_listed(shown))
    they, them = ("it marks", "it") if one else ("they mark", "them")
    if given is not None:
        head = lambda ignore: (  # noqa: E731
            f"{name}: mask {what}, and {ignore} is given: if {they} pixels left unlabelled "
            f"too, save {them} as {given} (one ignore value)"
        )
        setting = ignore_setting(given)
    else:
        save = "" if one else "save them as one value V and "
        head = lambda ignore: (  # noqa: E731
            f"{name}: mask {what}: if {they} pixels left unlabelled, {save}{ignore} weighs them 0"
        )
        setting = ignore_setting(shown[0] if one else Blank("V"))
    say = lambda ignore, *others: f"{head(ignore)}, else {otherwise(one, *others)}"  # noqa: E731
    return spelled(say, setting, *settings)


def instance_target(
    raw: np.ndarray,
    ignored: np.ndarray | None,
    *,
    boundary_width: int = 1,
    name: str = "mask",
    ignore_setting: Callable[[int], Spelled] = IGNORE_SETTING,
    ignore_value: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A mask of object ids as stored (:func:`instance_ids`) -> its (H, W) int64
    three-class target (:func:`boundary_target`), ``IGNORE_INDEX`` where ``ignored`` ((H, W)
    bool, or None: no pixel), and its (H, W) int32 ids, 0 where ignored: no object lies
    there, so objects it cuts get a boundary along it; ``ignore_value``: the value that
    ``ignored`` marks, if one (other negative values' fix: :func:`instance_ids`)."""
    how = dict(name=name, ignore_setting=ignore_setting, ignore_value=ignore_value)
    ids = kept_instance_ids(raw, ignored, **how)
    return ids_target(ids, ignored, boundary_width=boundary_width), ids


def kept_instance_ids(raw: np.ndarray, ignored: np.ndarray | None, **how) -> np.ndarray:
    """:func:`instance_ids` of a mask as stored (``how``: its keywords), 0 where ``ignored``
    ((H, W) bool, or None: no pixel)."""
    kept = np.where(ignored, 0, raw) if ignored is not None else raw
    return instance_ids(kept, **how)


def ids_target(
    ids: np.ndarray, ignored: np.ndarray | None, *, boundary_width: int = 1
) -> np.ndarray:
    """(H, W) object ids (0 where ``ignored``) -> their (H, W) int64 three-class target
    (:func:`boundary_target`), ``IGNORE_INDEX`` where ``ignored`` (None: no pixel)."""
    target = boundary_target(ids, boundary_width=boundary_width).astype(np.int64)
    if ignored is not None:
        target[ignored] = IGNORE_INDEX
    return target


def is_binary_mask(mask: np.ndarray) -> bool:
    """Whether ``mask`` is binary as :func:`instance_ids` reads it: 0 and at most one of the
    :func:`binary_values` of its type, so its objects are its connected components (touching
    objects one region), not ids."""
    mask = np.asarray(mask)
    if mask.dtype == bool:
        return True
    values = np.unique(mask)
    return len(values) <= 2 and all(v in binary_values(mask.dtype) for v in values)


def binary_values(dtype: np.dtype) -> tuple[int, ...]:
    """The foreground values of a binary mask of ``dtype``: 0 (an empty mask), 1 (True), 255
    and the largest value of an integer type (65535 for 16 bits); any other value alone is
    one object's id."""
    top = (np.iinfo(dtype).max,) if np.issubdtype(dtype, np.integer) else ()
    return (0, 1, 255, *top)


def boundary_target(ids: np.ndarray, *, boundary_width: int = 1) -> np.ndarray:
    """(H, W) object ids (0 = background) -> (H, W) uint8 three-class target.

    0 background, 1 boundary (object pixels with a pixel of another id, or background,
    within ``boundary_width`` 4-neighbour steps), 2 interior (the other object pixels).
    Neighbours outside the image do not count (an object cut by the border has no boundary
    there). ``boundary_width`` 0 gives no boundary at all.
    """
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f"ids must be (H, W), not shape {ids.shape}")
    if boundary_width < 0:
        raise ValueError(f"boundary_width must be at least 0, not {boundary_width}")
    target = np.where(ids > 0, INTERIOR, BACKGROUND).astype(np.uint8)
    if boundary_width == 0 or not ids.any():
        return target
    diamond = ndimage.iterate_structure(_FOUR_CONNECTED, boundary_width)
    low = ndimage.minimum_filter(ids, footprint=diamond, mode="nearest")
    high = ndimage.maximum_filter(ids, footprint=diamond, mode="nearest")
    target[(ids > 0) & ((low != ids) | (high != ids))] = BOUNDARY
    return target


def object_areas(ids: np.ndarray) -> np.ndarray:
    """Pixel counts of the objects of an (H, W) id map, in increasing id order (int64); ids
    of any size (a tracker's: counted by their ranks, :mod:`unetlab.data.large_ids`)."""
    ranks = compact_large_ids(ids)[0]
    counts = np.bincount(np.asarray(ranks).ravel().astype(np.int64, copy=False))
    return counts[1:][counts[1:] > 0]


def object_statistics(areas: Iterable[int], *, images: int) -> dict:
    """Summary of object areas (px) over a data set, as recorded in checkpoints.

    Returns ``{"count", "images", "area_min", "area_p05", "area_median", "area_p95",
    "area_max"}`` (areas as floats; NaN-free: an empty set gives zeros and count 0).
    """
    areas = np.asarray(list(areas), dtype=np.float64)
    quantiles = np.percentile(areas, [0, 5, 50, 95, 100]).tolist() if areas.size else [0.0] * 5
    keys = ("area_min", "area_p05", "area_median", "area_p95", "area_max")
    return {"count": int(areas.size), "images": int(images), **dict(zip(keys, quantiles))}


def split_pieces(ids: np.ndarray) -> list[int]:
    """Ids whose pixels form more than one 8-connected piece (a sign of clipped or reused
    ids); ids of any size (a tracker's: found by their ranks, given back as they are)."""
    ranks, original = compact_large_ids(ids)
    found = []
    for index, box in enumerate(ndimage.find_objects(ranks), start=1):
        if box is not None and ndimage.label(ranks[box] == index, np.ones((3, 3)))[1] > 1:
            found.append(index if original is None else int(original[index]))
    return found


SPLIT_IDS = 0.1  # ids may form up to this share more 4-connected regions than values


def looks_like_instances(
    values: Sequence[int],
    *,
    wide: bool,
    folder_named: bool,
    files: Sequence[tuple[Sequence[int], int]] = (),
) -> bool:
    """Whether masks with these distinct ``values`` hold object ids rather than classes.

    True for a mask folder named ``instances/``; for masks stored with more than 8 bits
    (``wide``) holding more than 16 distinct values; for more than 256 distinct values of
    any type (no class-index PNG holds that many); and for ``wide`` masks whose values are
    ids by file (:func:`ids_by_file`; ``files``: each mask's non-background values and the
    4-connected regions they form).
    """
    n = len(values)
    return folder_named or (wide and (n > WIDE_CLASSES or ids_by_file(files))) or n > 256


#: masks stored with more than 8 bits holding more distinct values than this are object ids
#: (:func:`looks_like_instances`)
WIDE_CLASSES = 16


def ids_by_file(files: Sequence[tuple[Sequence[int], int]]) -> bool:
    """Whether masks hold object ids because of how their values fall into files: not
    shared the way class values are (the files do not all hold the same values; some file
    holds two or more), and each value one object (one 4-connected region per value and
    file, give or take ``SPLIT_IDS``). ``files``: each mask's non-background values and
    the number of 4-connected regions they form. Masks of 0 and 1..k with k varying
    (``scipy.ndimage.label``'s, 3 to 6 nuclei per image) are ids; binary masks never."""
    if len(files) < 2:
        return False
    kinds = {frozenset(values) for values, _ in files}
    ids = sum(len(values) for values, _ in files)
    regions = sum(n for _, n in files)
    return len(kinds) > 1 and max(map(len, kinds)) >= 2 and regions <= ids * (1 + SPLIT_IDS)


#: masks whose every file holds at least this many values besides the background, each one
#: object, may be object ids that :func:`looks_like_instances` cannot tell from classes
ONE_OBJECT_LEAST = 4


def one_object_per_value(
    files: Sequence[tuple[Sequence[int], int]], *, files_least: int = 2
) -> bool:
    """Whether every mask holds at least :data:`ONE_OBJECT_LEAST` values besides the
    background, each one 4-connected region (give or take ``SPLIT_IDS``): the frames of a
    short tracked movie, whose track ids 1..12 every frame holds alike (audit s37 timelapse
    8), or 8-bit masks of a few objects each. Classes can look so too (organs, each one
    region in every slice), so this is said, never decided on (:func:`looks_like_instances`
    needs files that differ, in masks of more than 8 bits). ``files``: as
    :func:`ids_by_file` takes them; ``files_least`` files or more (one where the
    predictions scored against them are object ids: evaluate reads such masks as ids)."""
    if len(files) < files_least or any(len(values) < ONE_OBJECT_LEAST for values, _ in files):
        return False
    ids = sum(len(values) for values, _ in files)
    return sum(n for _, n in files) <= ids * (1 + SPLIT_IDS)
