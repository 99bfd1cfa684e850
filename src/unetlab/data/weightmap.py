"""The paper's pixel weight map (Ronneberger et al. 2015, eq. 2).

    w(x) = w_c(x) + w0 * exp(-(d1(x) + d2(x))**2 / (2 * sigma**2))

``w_c`` balances the class frequencies, ``d1``/``d2`` are the distances to the nearest and the
second nearest object (cell). The second term puts a large weight on the thin background
gaps between touching objects, so the net learns to keep them apart. The paper leaves some
choices open; unetlab makes them as follows (each is tested):

- **Objects** are the ids of ``instances`` (> 0) when given, else the 4-connected components
  of each foreground class (4-connectivity, so a one-pixel diagonal membrane still separates
  two cells). Components of different classes are different objects. The foreground is
  every class but the background (:func:`background_class`: a class named ``background``
  (or ``bg``, ``backdrop``), else ``membrane``, else of two classes one named the boundary
  between the objects, ``grain boundary``, ``cell edge``, else mask value 0, else the first
  class); :func:`background_network` finds
  when the background chosen looks like the objects, :func:`problem_line` says so.
- **Distances** are Euclidean, from a pixel's centre to the centre of the object's nearest
  pixel (``scipy.ndimage.distance_transform_edt``). Two objects with a gap of ``k`` background
  pixels between them along a row: the gap pixel ``j`` (1..k) has ``d1 + d2 = k + 1``.
- **The border term goes on background pixels only** (pixels in no object), as in the paper's
  figure 3d. Object pixels get ``w_c`` alone: inside its own object a pixel has ``d1 = 0``,
  and counting that would spread border weight over whole small cells.
- **w_c**: ``"balanced"`` gives class ``k`` the weight ``n_max / n_k`` (``n_k`` its pixel count
  in this image, ``n_max`` the count of the most frequent class), so the most frequent class
  weighs 1 and rarer classes more (ISBI: cells ~78 %, membrane ~22 % -> membrane ~3.5).
- **Ignored pixels** (``ignore_index``) get weight 0, are in no object and in no class count.
- With fewer than two objects the border term is 0 everywhere.

Speed: each object's distances are computed in its bounding box grown by ``R`` px, where
``w0 * exp(-R**2 / (2 sigma**2)) = 1e-3`` (R = 22 px for w0=10, sigma=5): a pixel farther than
``R`` from its second object has a border term below 1e-3, which is dropped. A 512x512 ISBI
mask (88-137 cells) takes ~50 ms on a 2-core CPU (bench/bench_augment.py); a data set
computes it once per image.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shlex
from collections.abc import Mapping, Sequence

import numpy as np

from unetlab.data.checks import non_integer_mask
from unetlab.data.classes import (
    background_rank,
    boundary_by_name,
    counted_classes,
    names_boundary,
)
from unetlab.data.instances import (
    INTERIOR,
    ids_target,
    ignore_keyword,
    kept_instance_ids,
    negative_values_line,
)
from unetlab.data.labels import IGNORE_INDEX, compact_ids, encode_mask
from unetlab.data.labels import instances as label_instances
from unetlab.data.names import loose
from unetlab.deferred import deferred
from unetlab.errors import Blank, Spelled, UnetlabError, spelled
from unetlab.words import first_listed, numbered, spaced

ndimage = deferred("scipy.ndimage")

log = logging.getLogger(__name__)

BORDER_TOLERANCE = 1e-3  # largest border-term value the distance windows may drop
#: a background in more regions than this per image, beside another class with one network
#: (its largest region holding ``NETWORK_SHARE`` of its pixels), looks like the objects
REGIONS_PER_IMAGE = 10
NETWORK_SHARE = 0.5


def background_class(
    label_values: Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    *,
    ignore_value: int | None = None,
) -> int | None:
    """Index of the background class: the class the border weights' gaps lie in (every
    other class makes objects) and evaluate's boundary class. The first class named
    ``background``, ``bg`` or ``backdrop``, else ``membrane`` (case, spaces, ``_`` and ``-``
    aside: :func:`~unetlab.data.classes.background_rank`), else, in a set of two classes (the
    ignored and void ones not counted), the one named the boundary between the objects
    (:func:`~unetlab.data.classes.boundary_by_name`: boundary, edge, contour, outline,
    wall, border, alone or as the name's last word: ``{0: grain, 1: grain boundary}``),
    else the class of mask value 0, else 0: ``bg, cell, boundary`` keeps 0.

    ``ignore_value``: the mask value training ignored. Where it is 0 (mask 0 is no label:
    the nodata around an orthomosaic) and no class is named the background so, no
    class is the background: None, so that every class makes objects (class index 0 taken
    for it made vegetation, mask value 1, no object at all: audit s31 drone, finding 2).
    Without it, class index 0 stands in, as before.

    ISBI as shipped (``[0, 255]``, ``membrane, cell``): 0; with ``data.label_values: [255,
    0]`` (membrane = class 1): 1, from the name or the value alike."""
    if (named := background_by_name(class_names, label_values, ignore_value)) is not None:
        return named
    values = list(label_values or ())
    if 0 in values:
        return values.index(0)
    return None if ignore_value == 0 else 0


def trained_background(
    label_values: Sequence[int] | None,
    class_names: Sequence[str] | None,
    ignore_value: int | None,
) -> int:
    """:func:`background_class` of the classes and the mask value training ignored (not
    counted as a class: ``grain, boundary, unsure`` ignoring ``unsure`` is two classes, the
    boundary the background), class index 0 standing in where it gives None (mask value 0
    ignored): the class training's weight map and object record and predict's label images
    take."""
    background = background_class(label_values, class_names, ignore_value=ignore_value)
    return 0 if background is None else background


def background_by_name(
    class_names: Sequence[str] | None, label_values=None, ignore_value: int | None = None
) -> int | None:
    """Index of the class :func:`background_class` takes by its name (the first named
    background, bg or backdrop, else membrane: :func:`~unetlab.data.classes.background_rank`,
    else a two-class set's boundary), or None."""
    ranks = [background_rank(n) for n in class_names or ()]
    for wanted in (0, 1):
        if wanted in ranks:
            return ranks.index(wanted)
    return boundary_by_name(class_names, label_values, ignore_value)


def own_background_name(
    class_names: Sequence[str] | None, background: int | None, label_values=None, ignore_value=None
) -> str | None:
    """The name of class ``background`` where it is a class of its own by name (a road
    scene's class 0, road), or None: a background named as such (:func:`background_by_name`
    of the classes, of ``label_values`` less ``ignore_value``), one named by its index or
    not at all, no background. Its pixels make no objects, and pixels left out of a
    prediction are no class rather than it (audit s46 scenes)."""
    names = [str(n).strip() for n in class_names or ()]
    if background is None or not 0 <= background < len(names):
        return None
    name = names[background]
    by_name = background_by_name(names, label_values, ignore_value)
    plain = name in ("", str(background)) or background == by_name
    return None if plain else name


def background_network(
    masks: Sequence[np.ndarray],
    background: int,
    class_names: Sequence[str],
    labelled: Sequence[Mapping[str, np.ndarray]] | None = None,
) -> tuple[int, float] | None:
    """(the network class, the median regions of the background per image) when class
    ``background`` looks like the objects in ``masks`` ((H, W) class indices; ignored pixels
    belong to no class): in more than :data:`REGIONS_PER_IMAGE` 4-connected regions per
    image while another class is one connected network (its largest region holds over
    :data:`NETWORK_SHARE` of its pixels in most images), e.g. ISBI's cells taken as the
    background, so the objects would be the membranes and the border weights fall on the
    cells (SEM grain boundaries drawn as mask value 1: the grains); None otherwise.
    ``labelled``: each mask's regions of the other classes, where their caller labelled
    them (:func:`~unetlab.data.object_sizes.region_facts`' ``area`` and ``kind`` of
    :func:`~unetlab.data.labels.instances` with ``boundary_class=background``): not
    labelled again (s61: training labelled each class of each mask twice)."""
    masks = [np.asarray(m) for m in masks]
    if not masks or len(class_names) < 2:
        return None
    regions = float(np.median([ndimage.label(m == background)[1] for m in masks]))
    if regions <= REGIONS_PER_IMAGE:
        return None
    for k in range(len(class_names)):
        if k != background and _network(masks, k, labelled):
            return k, regions
    return None


def problem_line(
    class_names: Sequence[str], label_values, background: int, network: int, regions: float
) -> str:
    """The line of :func:`background_network`'s finding, worded for either reading: the
    ``network`` class is the boundary between the objects (SEM grain boundaries), or is the
    objects (roads); with the ``--set`` that names it the background where ``label_values``
    (each class's mask value) are known (:func:`background_naming`)."""
    name, fix = class_names[network], background_naming(class_names, label_values, network)
    return (
        f"the background class {class_names[background]!r} (index {background}) lies in "
        f"{regions:.0f} separate regions per image while {name!r} (index {network}) forms one "
        "connected network: the objects (the plan's sizes, predict --instances, evaluate's "
        f"object scores, the border weights) are that network, not the regions it encloses. "
        f"If {name!r} is the boundary between the objects, name it "
        f"{boundary_name(class_names, label_values)!r} in "
        f"data.class_names (the class so named is the background){fix}"
    )


#: names that say nothing of what a class is: a network class so named (or unnamed: its mask
#: value, or the background by its name) beside the regions is warned of (:func:`named_network`)
PLAIN_NAMES = ("object", "objects")


def named_network(class_names: Sequence[str], label_values, background: int, network: int) -> bool:
    """Whether the user named the ``network`` class themselves (``{0: land, 255: road}``:
    the roads are the objects, as meant) while the ``background`` class is not named as
    such: then :func:`background_network`'s finding is no warning (s67 review). A name is
    the user's where it is not the class's mask value (``label_values``) nor one of
    :data:`PLAIN_NAMES` nor one that makes it the background (:func:`background_by_name`)."""
    if label_values is None or len(label_values) != len(class_names):
        return False
    name, by_name = str(class_names[network]), background_by_name(class_names, label_values)
    plain = loose(name) in PLAIN_NAMES or background_rank(name) is not None
    own = name.strip() != str(label_values[network]) and not plain
    return own and by_name not in (network, background)


def boundary_name(class_names: Sequence[str], label_values) -> str:
    """The name :func:`problem_line` tells the user to give the network class:
    ``boundary`` in a set of two classes (:func:`~unetlab.data.classes.counted_classes`),
    else ``membrane``, the background in a set of any size
    (:func:`~unetlab.data.classes.background_rank`)."""
    two = len(counted_classes(class_names, label_values)) == 2
    return "boundary" if two else "membrane"


def background_naming(class_names: Sequence[str], label_values, network: int) -> str:
    """``, and 'X' unnamed: --set 'data.class_names={...}'`` naming class ``network``
    :func:`boundary_name` and each other class named as it is, less those unnamed (their
    mask value) and those that would name the background before it
    (:func:`~unetlab.data.classes.background_rank`, a two-class set's other boundary: ``{0:
    background, 1: edge}`` told ``{0: background, 1: membrane}`` warned again), where
    ``label_values`` (each class's mask value) are known; else nothing. The names are JSON
    strings (YAML reads them whatever they hold: ``'``, ``#``, ``null``) and the argument
    is quoted for the shell."""
    if label_values is None or len(label_values) != len(class_names):
        return ""
    fix = boundary_name(class_names, label_values)
    kept, dropped = {label_values[network]: fix}, []
    for k, (value, name) in enumerate(zip(label_values, class_names, strict=True)):
        if k == network or str(name).strip() == str(value):
            continue
        if background_rank(name) is not None or (fix == "boundary" and names_boundary(name)):
            dropped.append(repr(name))
        else:
            kept[value] = str(name)
    pairs = ", ".join(f"{v}: {json.dumps(kept[v], ensure_ascii=False)}" for v in sorted(kept))
    unnamed = f", and {' and '.join(dropped)} unnamed" if dropped else ""
    return f"{unnamed}: --set {shlex.quote(f'data.class_names={{{pairs}}}')}"


def _network(
    masks: Sequence[np.ndarray], k: int, labelled: Sequence[Mapping[str, np.ndarray]] | None
) -> bool:
    """Whether class ``k`` is one connected network in most of ``masks`` (the areas of
    their regions ``labelled`` where given: :func:`background_network`)."""
    shares = []
    for i, m in enumerate(masks):
        if labelled is None:
            sizes = np.bincount(ndimage.label(m == k)[0].ravel())[1:]
        else:
            sizes = labelled[i]["area"][labelled[i]["kind"] == k]
        if sizes.size:
            shares.append(sizes.max() / sizes.sum())
    return bool(shares) and float(np.median(shares)) > NETWORK_SHARE


def class_weights_balanced(
    labels: np.ndarray, num_classes: int, *, ignore_index: int = -1
) -> np.ndarray:
    """(num_classes,) float64 weights ``n_max / n_k``; 0 for classes absent from ``labels``."""
    valid = labels[labels != ignore_index]
    counts = np.bincount(valid.ravel(), minlength=num_classes).astype(np.float64)
    weights = np.zeros(num_classes)
    present = counts > 0
    weights[present] = counts.max() / counts[present]
    return weights


def label_objects(
    labels: np.ndarray,
    *,
    instances: np.ndarray | None = None,
    foreground: Sequence[int] | None = None,
    ignore_index: int = -1,
) -> tuple[np.ndarray, int]:
    """(H, W) int32 object ids 1..n (0 = no object) and n.

    From ``instances`` (ids > 0, any values, renumbered 1..n in their order) when given, else
    the 4-connected components of each class in ``foreground`` (default: every class but 0;
    :func:`unetlab.data.labels.instances`). Ignored pixels are in no object.
    """
    valid = labels != ignore_index
    if instances is not None:
        instances = np.asarray(instances)
        if instances.shape != labels.shape:
            raise ValueError(
                f"instances have shape {instances.shape} but labels {labels.shape}; "
                "pass one instance id map per label map"
            )
        objects, count = compact_ids(np.where((instances > 0) & valid, instances, 0))
        return objects.astype(np.int32), count
    if foreground is not None:  # the chosen classes as 1.., everything else as 0
        chosen = np.isin(labels, [int(c) for c in foreground]) & valid
        labels = np.where(chosen, labels.astype(np.int64) + 1, 0)
    objects = label_instances(labels, boundary_class=0, ignore_index=ignore_index)
    return objects, int(objects.max(initial=0))


def object_distances(
    objects: np.ndarray, *, max_distance: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Distances (d1, d2) from every pixel to its nearest and second nearest object.

    ``objects``: (H, W) int object ids 1..n, 0 = no object. Returns two (H, W) float32 maps;
    a pixel inside object ``i`` has distance 0 to ``i``. Where fewer objects are in reach the
    distance is ``inf``. With ``max_distance`` each object is only measured within its bounding
    box grown by that many pixels: distances up to ``max_distance`` are exact, larger ones
    are exact or ``inf``.
    """
    h, w = objects.shape
    d1 = np.full((h, w), np.inf, np.float32)
    d2 = np.full((h, w), np.inf, np.float32)
    margin = h + w if max_distance is None or not math.isfinite(max_distance) else max_distance
    margin = int(math.ceil(margin))
    for index, box in enumerate(ndimage.find_objects(objects), start=1):
        if box is None:
            continue
        rows, cols = box
        window = (
            slice(max(rows.start - margin, 0), min(rows.stop + margin, h)),
            slice(max(cols.start - margin, 0), min(cols.stop + margin, w)),
        )
        dist = ndimage.distance_transform_edt(objects[window] != index).astype(np.float32)
        near, second = d1[window], d2[window]  # views: updated in place
        np.minimum(second, np.maximum(near, dist), out=second)
        np.minimum(near, dist, out=near)
    return d1, d2


def border_radius(w0: float, sigma: float, tolerance: float = BORDER_TOLERANCE) -> float:
    """Distance R beyond which the border term ``w0 exp(-R^2 / 2 sigma^2)`` is below tolerance."""
    if w0 <= tolerance:
        return 0.0
    return sigma * math.sqrt(2.0 * math.log(w0 / tolerance))


def weight_map(
    labels: np.ndarray,
    *,
    w0: float = 10.0,
    sigma: float = 5.0,
    class_weights: str | Sequence[float] | None = "balanced",
    instances: np.ndarray | None = None,
    foreground: Sequence[int] | None = None,
    ignore_index: int = -1,
) -> np.ndarray:
    """The paper's weight map for one label image.

    Args:
        labels: (H, W) int class indices 0..C-1, ``ignore_index`` for unlabelled pixels (a
            bool mask: classes 0 and 1).
        w0, sigma: height and width (px) of the border term; paper: 10 and 5.
        class_weights: ``"balanced"`` (n_max / n_k in this image), ``None`` (all 1) or one
            weight per class index.
        instances: optional (H, W) int instance ids (0 = no object); else the objects are the
            connected components of the ``foreground`` classes (default: all classes but 0).
        ignore_index: label of ignored pixels; they get weight 0.

    Returns:
        (H, W) float32 weights: ``w_c`` everywhere plus the border term on background pixels.
    """
    labels = np.asarray(labels)
    labels = labels.view(np.uint8) if labels.dtype == bool else labels  # was refused (s42)
    valid = _valid_pixels(labels, w0, sigma, ignore_index)
    num_classes = int(labels[valid].max(initial=0)) + 1
    per_class = _per_class_weights(labels, class_weights, num_classes, ignore_index)
    weights = np.where(valid, per_class[np.where(valid, labels, 0)], 0.0).astype(np.float32)

    objects, count = label_objects(
        labels, instances=instances, foreground=foreground, ignore_index=ignore_index
    )
    if count >= 2 and w0 != 0:
        _add_border_term(weights, objects, valid, w0=w0, sigma=sigma)
    return weights


def _valid_pixels(labels: np.ndarray, w0: float, sigma: float, ignore_index: int) -> np.ndarray:
    """(H, W) bool: the labelled pixels, once the labels and the border term are checked."""
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise UnetlabError(
            f"labels must be an (H, W) integer class map, not {labels.dtype} of shape "
            f"{labels.shape}; encode the mask first (unetlab.data.labels.encode_mask)"
        )
    if w0 < 0 or sigma <= 0:
        raise UnetlabError(f"weight map needs w0 >= 0 and sigma > 0, not w0={w0}, sigma={sigma}")
    valid = labels != ignore_index
    if (labels[valid] < 0).any():
        raise UnetlabError(
            f"labels hold negative values other than ignore_index={ignore_index}; "
            "pass the ignore label used in the mask"
        )
    return valid


def _add_border_term(
    weights: np.ndarray, objects: np.ndarray, valid: np.ndarray, *, w0: float, sigma: float
) -> None:
    """Add ``w0 exp(-(d1 + d2)^2 / 2 sigma^2)`` to ``weights`` (in place) on the labelled
    pixels of no object that have two objects in reach."""
    d1, d2 = object_distances(objects, max_distance=border_radius(w0, sigma))
    gap = valid & (objects == 0) & np.isfinite(d2)
    total = d1[gap] + d2[gap]
    weights[gap] += (w0 * np.exp(-(total * total) / (2.0 * sigma * sigma))).astype(np.float32)


def _per_class_weights(labels, class_weights, num_classes, ignore_index) -> np.ndarray:
    if class_weights is None:
        return np.ones(num_classes)
    if isinstance(class_weights, str):
        if class_weights != "balanced":
            raise UnetlabError(
                f"class_weights must be 'balanced', None or a sequence, not {class_weights!r}"
            )
        return class_weights_balanced(labels, num_classes, ignore_index=ignore_index)
    given = np.asarray(class_weights, dtype=np.float64)
    if given.ndim != 1 or len(given) < num_classes:
        raise UnetlabError(
            f"class_weights has {numbered(given.size, 'value')} but labels have class index "
            f"{num_classes - 1}; give one weight per class"
        )
    return given


def mask_weight_map(
    mask: np.ndarray,
    *,
    label_values: Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    ignore_value: int | None = None,
    w0: float = 10.0,
    sigma: float = 5.0,
) -> tuple[np.ndarray, int]:
    """The weight map training makes of one mask as stored (mask values, e.g. ISBI's 0/255):
    (H, W) float32 weights and the background class index training takes
    (:func:`trained_background`: ``ignore_value`` no class).

    ``label_values``: the mask value of each class (None: the sorted values found, less
    ``ignore_value``); ``class_names``: one per class, which may name the background."""
    mask = np.asarray(mask)
    if label_values is None:
        label_values = [int(v) for v in np.unique(mask) if v != ignore_value]
    label_values = list(label_values)
    background = trained_background(label_values, class_names, ignore_value)
    labels = encode_mask(mask, label_values, ignore_value=ignore_value)
    foreground = [k for k in range(len(label_values)) if k != background]
    weights = weight_map(
        labels, w0=w0, sigma=sigma, foreground=foreground, ignore_index=IGNORE_INDEX
    )
    return weights, background


def instance_weights(target: np.ndarray, ids: np.ndarray, **options) -> np.ndarray:
    """The weight map of an instance target (background / boundary / interior,
    :func:`~unetlab.data.instances.boundary_target`) of the object ``ids``: the border term
    lies between the objects' interiors, as training's instance mode weighs them (``options``:
    :func:`weight_map`'s ``w0``, ``sigma``, ...). (H, W) float32."""
    interiors = np.where(target == INTERIOR, ids, 0)
    kwargs = {"ignore_index": IGNORE_INDEX, **options}
    return np.asarray(weight_map(target, instances=interiors, **kwargs), dtype=np.float32)


def instance_weight_map(
    mask: np.ndarray,
    *,
    w0: float = 10.0,
    sigma: float = 5.0,
    boundary_width: int = 1,
    ignore_value: int | None = None,
    name: str = "mask",
) -> np.ndarray:
    """The weight map training makes of a mask of object ids (0 = background; a binary
    mask's connected components) where ``data.target`` is ``instances``: its target's
    classes (background / boundary ``boundary_width`` px / interior) balanced, plus the
    border term between touching objects; pixels of ``ignore_value`` weigh 0 and lie in no
    object, as training's ``data.ignore_value``. (H, W) float32."""
    how = dict(boundary_width=boundary_width, ignore_value=ignore_value, name=name)
    return counted_instance_weight_map(mask, w0=w0, sigma=sigma, **how)[0]


def counted_instance_weight_map(
    mask: np.ndarray, *, ignore_value: int | None = None, name: str = "mask", **options
) -> tuple[np.ndarray, int]:
    """:func:`instance_weight_map` (``options``: its ``w0``, ``sigma``, ``boundary_width``)
    and the number of objects it weighed (ignored pixels left out)."""
    return ids_weight_map(*mask_instance_ids(mask, ignore_value=ignore_value, name=name), **options)


def mask_instance_ids(
    mask: np.ndarray, *, ignore_value: int | None = None, name: str = "mask"
) -> tuple[np.ndarray, np.ndarray | None]:
    """A mask of object ids as stored -> its (H, W) int32 ids
    (:func:`~unetlab.data.instances.instance_ids`, 0 where ignored; the fix of a negative
    value: :func:`~unetlab.data.instances.ignore_keyword`) and its (H, W) bool pixels of
    ``ignore_value`` (None: none given)."""
    mask = np.asarray(mask)
    ignored = mask == ignore_value if ignore_value is not None else None
    how = dict(name=name, ignore_setting=ignore_keyword, ignore_value=ignore_value)
    return kept_instance_ids(mask, ignored, **how), ignored


def ids_weight_map(
    ids: np.ndarray, ignored: np.ndarray | None, *, boundary_width: int = 1, **options
) -> tuple[np.ndarray, int]:
    """:func:`counted_instance_weight_map` of the ids and ignored pixels
    :func:`mask_instance_ids` made (``options``: ``w0``, ``sigma``)."""
    target = ids_target(ids, ignored, boundary_width=boundary_width)
    return instance_weights(target, ids, **options), len(np.unique(ids[ids > 0]))


#: a class mask holds at most this many distinct values (:func:`mask_classes`)
MASK_VALUES = 32


def mask_classes(
    masks: Mapping[str | os.PathLike, np.ndarray],
    *,
    label_values: Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    ignore_value: int | None = None,
    held: Mapping[str | os.PathLike, set[int]] | None = None,
) -> tuple[list[int], list[str]]:
    """The classes of ``masks`` (a name, e.g. the file, -> the mask as stored): the mask
    value of each class (``label_values``; None: the sorted values found in them all, less
    ``ignore_value``) and a name per class (``class_names``; None: the values as text).
    UnetlabError for a mask holding a value that is neither, or names not one per value, or
    one of float values that are not whole (NaN, inf: int() raised, s51 walkbad).
    ``held``: :func:`held_values` of ``masks``, where the caller has them."""
    found = held_values(masks) if held is None else held
    if label_values is None:
        check_found_classes(found, ignore_value)
    values = list(label_values or sorted(set().union(*found.values()) - {ignore_value}))
    for name, held in found.items():
        if unknown := sorted(held - {*values, ignore_value}):
            raise UnetlabError(**_unknown_values(name, unknown, values))
    names = list(class_names or [str(v) for v in values])
    if len(names) != len(values):
        raise UnetlabError(
            f"{len(names)} class names for {len(values)} label values {values}: give one each"
        )
    return values, names


def held_values(masks: Mapping[str | os.PathLike, np.ndarray]) -> dict:
    """The set of values each of ``masks`` (a name -> the mask as stored) holds, each mask
    read once; UnetlabError for one of float values that are not whole (NaN, inf)."""
    for name, mask in masks.items():
        if problem := non_integer_mask(str(name), mask):
            raise UnetlabError(problem)
    return {name: {int(v) for v in np.unique(mask)} for name, mask in masks.items()}


def check_found_classes(found: Mapping[str, set[int]], ignore_value: int | None) -> None:
    """UnetlabError where the values ``found`` in each mask (by name: :func:`held_values`),
    read as its classes, are none: more than :data:`MASK_VALUES` in one (an image, object
    ids), or a negative one that is not ``ignore_value`` (the mark of unlabelled pixels).
    For values found, not given: weightmap beside class_names.txt weighed 50 object ids as
    51 classes and -1 as a class (review s63)."""
    for name, held in found.items():
        if len(held) > MASK_VALUES:
            raise UnetlabError(**_many_values(name, len(held)))
    _refuse_negative(found, ignore_value)


#: how the fixes of :func:`mask_classes` name masks of object ids, in each caller's form
_OBJECT_IDS = Spelled("instance_weight_map for object ids", "--instances for object ids")


def _many_values(name: str, count: int) -> dict:
    """The error keywords (:func:`~unetlab.errors.spelled`) of mask ``name`` holding
    ``count`` distinct values, more than a class mask's (:data:`MASK_VALUES`)."""
    say = lambda values, ids: (  # noqa: E731
        f"{name} holds {count} distinct values: it looks like an image or a mask of object "
        f"ids, not a class mask: give the class masks (one value per class), {values} with "
        f"the classes' values, or {ids}"
    )
    return spelled(say, LABEL_VALUES, _OBJECT_IDS)


def _unknown_values(name: str, unknown: list[int], values: list[int]) -> dict:
    """The error keywords (:func:`~unetlab.errors.spelled`: ``label_values=[0, 1]`` to
    Python, ``--label-values 0 1`` to the command line, s57) of mask ``name`` holding the
    ``unknown`` values, not among the classes' ``values``."""
    given = Spelled(f"label_values={values}", f"--label-values {spaced(values)}")
    one = len(unknown) == 1
    held = f"{name} holds mask {'value' if one else 'values'} {first_listed(unknown)}"
    say = lambda among, ignore: (  # noqa: E731
        f"{held}, not among {among}: add {'it' if one else 'them'}, or {ignore}"
    )
    return spelled(say, given, ignore_keyword(Blank("V")))


def _refuse_negative(found: Mapping[str, set[int]], ignore_value: int | None) -> None:
    """UnetlabError for a mask holding a negative value that is not ``ignore_value``: no
    class index (as evaluate refuses it), but the mark of pixels left unlabelled, which were
    weighed as a class of their own (s51 walkbad: an int16 mask's -1); several named, all
    (the first few: :func:`~unetlab.words.first_listed`; s56: the lowest alone was)."""
    for name, held in found.items():
        if negative := sorted(v for v in held if v < 0 and v != ignore_value):
            raise UnetlabError(**_negative_values(name, negative, ignore_value))


#: the class values' setting, as Python and the command line give it
LABEL_VALUES = Spelled("label_values", "--label-values")


#: what one negative mask value and several are not (:func:`negative_values_line`'s ``kinds``),
#: as weightmap and training's check say it
NO_CLASS_INDEX = ("value {} is no class index", "values {} are no class indices")


def _negative_values(name: str, negative: list[int], ignore_value: int | None) -> dict:
    """The error keywords of mask ``name`` holding the ``negative`` values
    (:func:`~unetlab.data.instances.negative_values_line`): the fix beside the ignore value,
    naming them classes."""
    kinds = NO_CLASS_INDEX
    classes = lambda one, values: (  # noqa: E731
        f"{values} with {'it names it a class' if one else 'them names them classes'}"
    )
    how = dict(ignore_setting=ignore_keyword, given=ignore_value)
    return negative_values_line(name, negative, kinds, classes, LABEL_VALUES, **how)


def weight_preview(weights: np.ndarray) -> np.ndarray:
    """(H, W) uint8 picture of ``weights``: 0 is weight 0, 255 the largest weight."""
    top = float(np.max(weights, initial=0.0))
    scaled = np.asarray(weights, np.float64) * (255.0 / top) if top > 0 else np.zeros(weights.shape)
    return np.round(scaled).astype(np.uint8)
