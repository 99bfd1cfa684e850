"""From class probabilities to objects: one id per object, and a table of their measurements.

- :func:`objects_from_probabilities`: (K, H, W) probabilities -> (H, W) ids, a pure function.
  An instance model (background / boundary / interior, ``unetlab.data.instances``) gives
  seeds where the interior is likely; a seeded watershed (scikit-image) grows them over the
  foreground (boundary + interior), so touching objects stay apart. A semantic model gives the
  4-connected regions of each class but the background (the class named background or
  membrane, else, of two classes, a boundary: grain boundary, else that of mask value 0).
  Both then fill holes and drop objects smaller than ``min_area`` (one the image's edge,
  nodata or a data bar cuts, a piece of one, only below ``CUT_MIN_AREA`` px where
  ``min_area`` is larger; an instance model's also those whose interior probability
  nowhere reaches ``min_peak``). ``distance_split`` then splits each object at the maxima
  of its distance transform (:func:`split_by_distance`, Fiji's Binary > Watershed):
  touching nuclei whose seam the net painted interior.
  ``split_interior`` weighs an instance model's distance by its interior probability, which
  dips between touching nuclei without a neck.
- :class:`ObjectOptions`: those settings, defaulting from the object statistics a checkpoint
  records (``model.objects``), so that a user sets nothing.
- :func:`objects_in_bands`: the same for an image that arrives as row bands (large images):
  bands are processed with an overlap and ids are merged across the seams, so ids are unique
  and an object crossing a seam is one object.
- :func:`unetlab.inference.measure.object_table` measures the objects.
- :func:`predict_objects`: a model and an image -> (ids, table).
"""

from __future__ import annotations

import inspect
import logging
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cache

import numpy as np

from unetlab.api_lines import api_lines
from unetlab.data.fingerprint import cut_regions
from unetlab.data.labels import grow_seeds, instances, seeded_cells
from unetlab.data.large_ids import compact_large_ids, largest_compact, least_ids
from unetlab.data.nodata import flag_touching
from unetlab.data.object_sizes import first_pixels, raster_ranks
from unetlab.data.weightmap import background_class
from unetlab.deferred import deferred
from unetlab.errors import KnownFields, UnetlabError, did_you_mean, refuses_assignment
from unetlab.inference.column_objects import in_columns, objects_by_columns
from unetlab.inference.measure import class_votes, majority_class, measure_objects
from unetlab.inference.necks import split_necks
from unetlab.inference.objects_summary import say_units
from unetlab.inference.predict import (
    PredictOptions,
    as_image,
    class_names_of,
    labels_from_probabilities,
    model_ignored_class,
    predict_image,
    refuse_planes,
    training_ignore_value,
    unknown_setting,
    whole_number,
)
from unetlab.runtime import PAGE_ARRAY_BYTES, page_zeros

ndimage = deferred("scipy.ndimage")
sparse = deferred("scipy.sparse")
csgraph = deferred("scipy.sparse.csgraph")

log = logging.getLogger(__name__)

MIN_AREA_FALLBACK = 16  # px, for models that record no object statistics
MIN_AREA_FRACTION = 0.25  # of the 5th percentile of the training objects' areas
SEED_AREA_FRACTION = 0.25  # of the default min_area: smaller interior regions are noise
#: px of the predicted image: an object the image's edge cuts (a piece of one) is held to
#: this where its class's least area (a whole object's) is larger: a 77-px piece of a gland
#: whose least area is 5,368 px was dropped. Not lower: the edge's own specks (no true object
#: there) reach 32 px (a Kromp nuclei model, 12 test images), which a least area of 36 px
#: drops; kept (11 of them), they cost that model's object F1 0.002 (0.7592 -> 0.7570 at 4 px)
CUT_MIN_AREA = 64
#: px of the predicted image: a least area scaled to a coarser level stays at least this (a
#: smaller speck is the net's noise at any pixel size; :func:`scaled_least_areas`)
MIN_AREA_FLOOR = 4
#: A distance maximum splits an object only where it rises this fraction of the object's
#: largest distance to its outline (at least SPLIT_MIN_DEPTH px) above the saddle towards a
#: higher maximum: two touching round nuclei have a neck, a bumpy outline only shallow bumps.
#: Chosen on the validation images of a Kromp 2020 nuclei model (0.05-0.4 tried; README).
SPLIT_DEPTH = 0.1
SPLIT_MIN_DEPTH = 1.0  # px
SPLIT_SMOOTH = 1.0  # px, sigma of the Gaussian that smooths the distance transform
# (and the interior probability that weighs it, ObjectOptions.split_interior)
#: An instance model's object is kept only where its interior probability somewhere reaches
#: this (ObjectOptions.min_peak): the net's faint blobs of background texture or out-of-focus
#: nuclei peak lower than the nuclei it finds. Chosen on the 8 validation images of a Kromp
#: 2020 nuclei model (bench/kromp_objects.py, README)
MIN_PEAK = 0.85


#: the messages name a field as the caller spelled it: the keyword (``watershed_seeds``),
#: or, where the command line passes its flags as ``names``, the flag (``--watershed-seeds``)
_TWO_CLASSES = (
    "watershed seeds need a two-class boundary model (membrane, cell), not {} classes; drop {}"
)
_OWN_SEEDS = (
    "an instance model grows objects from its own interior seeds: drop {} (it splits the "
    "cells of a two-class membrane model)"
)
_NO_BACKGROUND = (
    "watershed seeds split the cells of a membrane model, and this model has no background "
    "class (its training ignored mask value 0): drop {}"
)


#: ObjectOptions' areas in px and their least values, and its fields that are probabilities
_AREAS = {"min_area": 0, "min_seed_area": 1, "cut_min_area": 0}
_PROBABILITIES = ("seed_threshold", "foreground_threshold", "watershed_seeds", "min_peak")


def check_object_values(names: Mapping[str, str] | None = None, **values) -> None:
    """One line (UnetlabError) for a value of an :class:`ObjectOptions` field out of range:
    an area below its least value, a threshold outside [0, 1]. ``values``: fields by name
    (None and other fields are skipped); ``names``: what the message calls each (the
    command line: its flags), by default the field's name."""

    def name(key: str) -> str:
        return (names or {}).get(key, key)

    def number(value) -> bool:  # True, '0.5': no number (True would be 1)
        return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))

    def shown(value) -> str:
        return f"{value}" if number(value) else repr(value)

    for key, least in _AREAS.items():
        v = values.get(key)
        if v is not None and (not number(v) or v < least):
            raise UnetlabError(f"{name(key)} must be at least {least} px, not {shown(v)}")
    for key in _PROBABILITIES:
        v = values.get(key)
        if v is not None and (not number(v) or not 0.0 <= v <= 1.0):
            raise UnetlabError(f"{name(key)} is a probability in [0, 1], not {shown(v)}")


def _class_indices(name: str, value) -> tuple[int, ...]:
    """``value`` (a tuple or list of class indices) as a tuple of ints, else one line naming
    ``name`` (review s69: ``no_class=2`` was "'int' object is not iterable", ``(-1,)``
    silently the last class)."""
    items = value if isinstance(value, tuple | list) else None
    if items is None or not all(whole_number(k) and k >= 0 for k in items):
        raise UnetlabError(
            f"{name} is a tuple of class indices (ints >= 0), e.g. (2,), not {value!r}"
        )
    return tuple(int(k) for k in items)


@refuses_assignment
@dataclass(frozen=True)
class ObjectOptions(KnownFields):
    """How probabilities become objects.

    ``mode``: ``"instances"`` for a background / boundary / interior model, ``"semantic"``
    for any other (objects = connected regions of each class but ``background``).
    ``background``: the class that is no object in semantic mode (and whose probability the
    watershed seeds' cells are 1 minus); None: none, every class makes objects.
    :meth:`for_model` gives the model's, by the rule of training and evaluation
    (:func:`unetlab.data.weightmap.background_class`: the class named background, else
    membrane, else, of two classes, one named a boundary (grain boundary), else that of mask
    value 0, else none
    where training ignored mask value 0, else 0). ``min_area``: objects
    smaller than this many px are dropped after they are grown (their pixels become
    background), but an object the image's edge (or nodata, a data bar) cuts only below
    ``cut_min_area`` px where ``min_area`` is larger (a piece of one:
    :func:`remove_small_objects`; :data:`CUT_MIN_AREA` px, scaled with the least areas
    at a pyramid level: :func:`scaled_options`; lower it to keep smaller pieces of large
    objects, such as a 30-px piece of a gland, at the cost of the edge's specks).
    ``min_seed_area``: interior regions smaller than this are noise, no seed (an instance
    model; kept apart from ``min_area`` so that raising it drops small
    objects instead of handing their pixels to a neighbour). ``seed_threshold``: interior
    probability that makes a seed. ``foreground_threshold``: 1 - P(background) above which a
    pixel belongs to an object. ``fill_holes``: background enclosed by one object joins it.
    ``watershed_seeds``: for a two-class boundary model (membrane and cell, as on ISBI
    EM), split the cells a membrane gap merges: seeds where the cell probability is above
    this, grown over the pixels above ``foreground_threshold``
    (:func:`unetlab.data.labels.seeded_cells`); None: connected regions. ``distance_split``:
    split each object at the maxima of its distance transform (:func:`split_by_distance`),
    after the seeds, holes and before ``min_area``. ``split_interior`` (instance mode):
    weigh the distance transform by the interior probability, which dips between touching
    nuclei whose outline has no neck (clusters of small round nuclei), so more of them
    split; but so does a dark nucleolus, and a nucleus with one in its middle may split
    too (off by default; measured in bench/kromp_split.py). ``class_min_areas`` (semantic
    mode): a ``min_area`` for each class (by index; the background's is not used), so that
    the small fragments of one class (root tips) do not set the least size of another's
    objects (disease spots); None: ``min_area`` for all. ``min_peak`` (instance mode): an
    object whose interior probability reaches this nowhere is dropped with the small ones
    (its pixels background): a faint blob the net half believes in (:data:`MIN_PEAK` for an
    instance model, 0 keeps every object). ``split_necks``: after the distance split, each
    object split once more where two round parts meet at a neck of at most 0.9 x the smaller
    part's reach (:func:`unetlab.inference.necks.split_necks`; off by default).
    ``model_areas``: the least areas (field names) that are still the checkpoint's defaults
    :meth:`for_model` gave, in training-scale px, which :func:`defaults_at_scale` rescales;
    one the user gave (for_model's keyword, or an ObjectOptions made directly) is in the
    image's px, whatever its value. Not compared nor recorded (:func:`option_fields`).
    ``no_class``: the classes that are no class (the one of the mask value training
    ignored, :func:`model_ignored_class`, which :meth:`for_model` gives; a tuple of class
    indices): their pixels in the class map are the ``background``'s
    (:func:`object_class_map`), so they make no object, nor the background they enclose, nor
    do they vote for an object's class (review s69: ``predict --instances`` saved them as
    objects, which evaluate took as background); with no background, no object's, as
    ``outside`` pixels.
    """

    mode: str = "semantic"
    background: int | None = 0
    min_area: int = MIN_AREA_FALLBACK
    min_seed_area: int = max(1, int(SEED_AREA_FRACTION * MIN_AREA_FALLBACK))
    seed_threshold: float = 0.5
    foreground_threshold: float = 0.5
    fill_holes: bool = True
    watershed_seeds: float | None = None
    distance_split: bool = False
    split_interior: bool = False
    class_min_areas: tuple[int, ...] | None = None
    cut_min_area: int = CUT_MIN_AREA
    min_peak: float = 0.0
    split_necks: bool = False
    no_class: tuple[int, ...] = ()
    model_areas: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self):
        if self.mode not in ("instances", "semantic"):
            raise UnetlabError(f"mode must be 'instances' or 'semantic', not {self.mode!r}")
        negative = self.background is not None and self.background < 0
        if negative or (self.mode == "instances" and self.background != 0):
            raise UnetlabError(
                f"background is a class index (0 for an instance model), not {self.background}"
            )
        if self.watershed_seeds is not None and self.mode == "instances":
            raise UnetlabError(_OWN_SEEDS.format("watershed_seeds"))
        check_object_values(**{k: getattr(self, k) for k in (*_AREAS, *_PROBABILITIES)})
        if self.class_min_areas is not None and min(self.class_min_areas, default=1) < 0:
            raise UnetlabError(f"class_min_areas must be at least 0 px, not {self.class_min_areas}")
        object.__setattr__(self, "no_class", _class_indices("no_class", self.no_class))

    @classmethod
    def for_model(
        cls, model, *, names: Mapping[str, str] | None = None, **overrides
    ) -> ObjectOptions:
        """Defaults from ``model.objects`` (the checkpoint's record of the training masks):
        the mode, ``min_area`` = 1/4 of the 5th percentile of the training objects' areas
        (:data:`MIN_AREA_FALLBACK` without a record) and ``min_seed_area`` = 1/4 of that
        default, whatever ``min_area`` the user sets. ``overrides`` that are not None win;
        ``watershed_seeds`` is refused for a model of other than two classes (or an instance
        model, or one without a background class), ``seed_threshold`` and ``split_interior``
        for a model without interior seeds (not an instance model), and values out of range
        (:func:`check_object_values`); ``names``: what those messages call the fields (the
        command line: its flags), by default their own names (``watershed_seeds``). An
        instance model splits its objects at their distance maxima (``distance_split``)
        unless told not to: its net rarely marks the seam between touching nuclei as
        boundary."""
        check_object_values(names, **overrides)
        record = getattr(model, "objects", None) or {}
        mode = "instances" if record.get("target") == "instances" else "semantic"
        background = 0 if mode == "instances" else objects_background(model)
        classes = getattr(model, "num_classes", 2)
        _check_for_mode(mode, background, classes, overrides, names or {})
        area = default_min_area(record)
        seed = max(1, int(SEED_AREA_FRACTION * area))
        split = mode == "instances"
        peak = MIN_PEAK if split else 0.0
        given = overrides.get("min_area") is not None  # the user's, for every class
        by_class = None if mode == "instances" or given else class_min_areas(record, background)
        options = cls(
            mode=mode,
            background=background,
            min_area=area,
            min_seed_area=seed,
            distance_split=split,
            class_min_areas=by_class,
            min_peak=peak,
            no_class=_no_class_of(model, background),
            model_areas=LEAST_AREAS,
        )
        return given_fields(options, **overrides)

    def margin(self, record: dict | None) -> int:
        """Rows of overlap for :func:`objects_in_bands`: twice the side of a square of the
        95th-percentile object area, at least 32."""
        p95 = (record or {}).get("area_p95") or 0.0
        return max(32, int(math.ceil(2 * math.sqrt(p95))), 4 * int(math.sqrt(self.min_area)))


#: the least areas in px that a checkpoint's record sets (:attr:`ObjectOptions.model_areas`)
LEAST_AREAS = ("min_area", "min_seed_area", "class_min_areas", "cut_min_area")
#: the :class:`ObjectOptions` fields a user sets: all but ``model_areas`` (internal: where
#: the least areas came from), which no message names as a setting
USER_FIELDS = tuple(k for k in ObjectOptions.__dataclass_fields__ if k != "model_areas")


def given_fields(options: ObjectOptions, **fields) -> ObjectOptions:
    """``options`` with the ``fields`` that are not None, which the user gave: those among
    the least areas are no longer the checkpoint's (:attr:`ObjectOptions.model_areas`), so
    a ``min_area`` typed equal to the default stays in the image's px at a scale."""
    given = {k: v for k, v in fields.items() if v is not None}
    kept = tuple(k for k in options.model_areas if k not in given)
    return replace(options, **given, model_areas=kept)


def option_fields(options: ObjectOptions) -> dict:
    """The fields of ``options`` as a record or report holds them: all but ``model_areas``
    (where its values came from, not how objects were found)."""
    record = asdict(options)
    record.pop("model_areas")
    return record


def _check_for_mode(
    mode: str, background: int | None, classes: int, given: Mapping, names: Mapping[str, str]
) -> None:
    """One line for an :class:`ObjectOptions` field ``given`` that a model of ``mode``,
    ``background`` and ``classes`` cannot use (:meth:`ObjectOptions.for_model`), naming each
    field as ``names`` spell it (the command line: its flags), else by its own name."""
    name = {key: names.get(key, key) for key in ("seed_threshold", "watershed_seeds")}
    if given.get("seed_threshold") is not None and mode != "instances":
        raise UnetlabError(
            f"{name['seed_threshold']} sets the interior seeds of a nuclei (background / "
            "boundary / interior) model; this model has none: drop it "
            f"({name['watershed_seeds']} splits the cells of a two-class membrane model)"
        )
    if given.get("split_interior") and mode != "instances":
        raise UnetlabError(
            f"{names.get('split_interior', 'split_interior')} weighs the split by the interior "
            "probability of a nuclei (background / boundary / interior) model; this model has "
            "none: drop it"
        )
    if given.get("min_peak") and mode != "instances":
        raise UnetlabError(
            f"{names.get('min_peak', 'min_peak')} drops the objects whose interior probability "
            "stays low, of a nuclei (background / boundary / interior) model; this model has "
            "none: drop it"
        )
    if given.get("watershed_seeds") is None:
        return
    if mode == "instances":
        raise UnetlabError(_OWN_SEEDS.format(name["watershed_seeds"]))
    if classes != 2:
        raise UnetlabError(_TWO_CLASSES.format(classes, name["watershed_seeds"]))
    if background is None:
        raise UnetlabError(_NO_BACKGROUND.format(name["watershed_seeds"]))


def objects_background(model) -> int | None:
    """The background class of a semantic ``model``'s objects: the class named background, else
    membrane, else, of two classes, one named a boundary (grain boundary), else that of mask
    value 0, else None
    where its training ignored mask value 0 (nodata: every class makes objects), else 0
    (:func:`unetlab.data.weightmap.background_class`
    of its ``classes``, ``label_values`` and the mask value its training ignored,
    :func:`~unetlab.inference.predict.training_ignore_value`, as
    :func:`~unetlab.inference.predict.model_background` reads it for its label images, which
    take class 0 where this is None); ISBI trained with ``label_values [255, 0]`` (membrane,
    cell): 1."""
    names, ignored = getattr(model, "classes", None), training_ignore_value(model)
    return background_class(getattr(model, "label_values", None), names, ignore_value=ignored)


def default_min_area(record: dict | None) -> int:
    """``min_area`` from an object record (see :meth:`ObjectOptions.for_model`)."""
    if not record or not record.get("count"):
        return MIN_AREA_FALLBACK
    return max(1, int(round(MIN_AREA_FRACTION * record["area_p05"])))


def class_min_areas(record: dict | None, background: int) -> tuple[int, ...] | None:
    """A ``min_area`` for each class from an object record's ``by_class`` statistics (1/4 of
    each class's 5th percentile, as :func:`default_min_area`; a class without objects gets
    the record's overall one); None where the record has none or fewer than two classes of
    objects (then the overall one is each class's: the behaviour before per-class records)."""
    by_class = (record or {}).get("by_class")
    if not by_class:
        return None
    present = [k for k, stats in enumerate(by_class) if k != background and stats]
    if len([k for k in present if by_class[k].get("count")]) < 2:
        return None
    overall = default_min_area(record)
    return tuple(
        default_min_area(stats) if k != background and stats and stats.get("count") else overall
        for k, stats in enumerate(by_class)
    )


def scaled_least_areas(areas: Sequence[int], downsample: tuple[float, float]) -> tuple[int, ...]:
    """Least object areas in level-0 pixels as pixels of a level ``downsample`` (y, x)
    times smaller: divided by their product, but not below :data:`MIN_AREA_FLOOR` px (a
    smaller speck is the net's noise at that level too; a 17-px least area at a 16x
    level would be 1 px, every speck an object) unless the area was smaller to begin
    with (0 stays 0)."""
    factor = downsample[0] * downsample[1]
    return tuple(max(round(a / factor), min(a, MIN_AREA_FLOOR)) if a > 0 else 0 for a in areas)


def scaled_options(options: ObjectOptions, downsample: tuple[float, float]) -> ObjectOptions:
    """``options`` with its least areas (level-0 px: ``min_area``, ``min_seed_area``,
    ``class_min_areas``, and ``cut_min_area``, so that a piece the edge cuts is kept at
    the level as at level 0) in pixels of a level ``downsample`` times smaller
    (:func:`scaled_least_areas`)."""
    o = options
    area, seed, cut = scaled_least_areas((o.min_area, o.min_seed_area, o.cut_min_area), downsample)
    by_class = o.class_min_areas
    return replace(
        o,
        min_area=area,
        min_seed_area=seed,
        class_min_areas=None if by_class is None else scaled_least_areas(by_class, downsample),
        cut_min_area=cut,
    )


def defaults_at_scale(model, options: ObjectOptions, factor: float) -> ObjectOptions:
    """``options`` for an image predicted at scale ``factor`` (``--scale``): each least area
    that is the checkpoint's default (:meth:`ObjectOptions.for_model`'s, in training-scale
    px: :attr:`ObjectOptions.model_areas`, its value unchanged) in the image's px, divided by
    ``factor`` squared (:func:`scaled_options`); one the user gave (``--min-area``, in the
    image's px, even equal to the default) kept. At --scale 2 the default floor held the
    image's objects to 4x theirs."""
    if factor == 1:
        return options
    default = ObjectOptions.for_model(model)
    scaled = scaled_options(default, (factor, factor))
    same = [k for k in options.model_areas if getattr(options, k) == getattr(default, k)]
    kept = tuple(k for k in options.model_areas if k not in same)  # now in the image's px
    return replace(options, **{k: getattr(scaled, k) for k in same}, model_areas=kept)


def objects_from_probabilities(
    probabilities: np.ndarray,
    options: ObjectOptions | None = None,
    *,
    outside: np.ndarray | None = None,
    image_rows: tuple[bool, bool] = (True, True),
) -> np.ndarray:
    """(K, H, W) class probabilities -> (H, W) uint16 object ids 1..n, 0 = background (uint32
    past 65,535: :func:`~unetlab.data.large_ids.id_dtype`, as :func:`predict_objects` gives
    them and ``_objects.tif`` holds them).

    ``options``: give ``ObjectOptions.for_model(model)`` for the model's own (its mode,
    background class and minimum area, as :func:`predict_objects` uses); None: the defaults,
    ``ObjectOptions()`` (semantic mode), with a warning for K = 3 probabilities, which an
    instance (background / boundary / interior) model gives. ``instances`` mode needs K = 3.
    ``semantic`` mode takes the argmax (``p >= 0.5`` for K = 1) and labels each class but
    ``options.background``. Ids are numbered in the raster order of their objects' first
    pixels (:func:`raster_numbered`: as a streamed image's are), never modifying the input. ``outside``: (H, W) bool, the pixels that
    are no sample (nodata, transparent, a data bar): an object in or beside them is cut, as
    at the image's edge, and they are never its hole (:func:`fill_object_holes`); ``image_rows``: whether the first and last rows are the image's
    edge (a band's cut rows are not): both for the least areas (:func:`remove_small_objects`).
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 3:
        raise UnetlabError(
            f"probabilities must be (K, H, W), not shape {probabilities.shape}: give the "
            "whole (K, H, W) output of predict_image, not one class's map"
        )
    if options is None:
        if probabilities.shape[0] == 3:
            log.warning(_DEFAULT_MODE)
        options = ObjectOptions()
    return least_ids(objects_int32(probabilities, options, outside=outside, image_rows=image_rows))


def object_class_map(probabilities: np.ndarray, options: ObjectOptions) -> np.ndarray:
    """The (H, W) class labels a semantic model's objects are made of: the class map
    (:func:`~unetlab.inference.predict.labels_from_probabilities`, as saved) with the
    pixels of ``options.no_class`` (the mask value training ignored) relabelled by
    :func:`no_class_table`, so that they make no object, nor the background they enclose
    (review s68: a ring of the ignored class was filled and scored an object of class 0),
    and every pixel the class map gives an object class lies in its object (review s69: a
    rule on the probabilities left the pixels whose p(background) + p(ignored) topped
    p(cell) out); the class map itself where there is no such class."""
    return labels_from_probabilities(probabilities, no_class_table(options, len(probabilities)))


def no_class_table(options: ObjectOptions, classes: int) -> np.ndarray | None:
    """The label of each of the max(``classes``, 2) class indices in the objects' class map
    (:func:`object_class_map`) and in their class votes (:func:`voting_labels`): those of
    ``options.no_class`` the ``background``'s, or with no background max(classes, 2), no
    class (their pixels no object, as ``outside``'s: review s69, they made objects);
    None where it names no class but the background. A class beyond ``classes`` is one
    line, as :func:`_background`'s."""
    no_class = _no_class_label(classes)
    if any(k >= no_class for k in options.no_class):
        raise UnetlabError(
            f"no_class {list(options.no_class)} names a class beyond this model's {no_class} "
            "classes: ObjectOptions.for_model(model) gives its own"
        )
    ignored = [k for k in options.no_class if k != options.background]
    if not ignored:
        return None
    table = np.arange(no_class)
    table[ignored] = no_class if options.background is None else options.background
    return table


def no_class_pixels(labels: np.ndarray, options: ObjectOptions) -> np.ndarray | None:
    """The pixels of a class map ``labels`` (the model's class indices) of no class to the
    objects of ``options`` (``no_class`` where no class is the background): no object is
    grown over them and one beside them is a piece, cut there (:func:`_grown`), which the
    objects table flags ``touches_border`` as beside nodata; None where there is none such
    (review s70: the table said false of a piece they cut)."""
    return np.isin(labels, options.no_class) if no_class_cuts(options) else None


def no_class_cuts(options: ObjectOptions) -> bool:
    """Whether the objects of ``options`` are cut by pixels of no class
    (:func:`no_class_pixels`): a semantic model's with ``no_class`` and no background."""
    return options.mode == "semantic" and options.background is None and bool(options.no_class)


def _no_class_label(classes: int) -> int:
    """The label of no class in the objects' class map of a model of ``classes`` class
    indices (:func:`no_class_table`): one past its classes, those of a one-class (sigmoid)
    net two."""
    return max(classes, 2)


def voting_labels(labels: np.ndarray, options: ObjectOptions, classes: int) -> np.ndarray:
    """A class map's ``labels`` (the model's ``classes`` class indices; None: None) as the
    objects' classes are voted on (:func:`~unetlab.inference.measure.majority_class`): a
    pixel of ``options.no_class`` no vote, the background's (review s69: an object mostly
    of the ignored class, its hole filled, was saved as of that class)."""
    table = no_class_table(options, classes)
    return labels if table is None or labels is None else table[labels]


def _no_class_of(model, background: int | None) -> tuple[int, ...]:
    """:attr:`ObjectOptions.no_class` of ``model``: its :func:`model_ignored_class` unless
    that is the ``background`` (no class already: the record and its key as before)."""
    ignored = model_ignored_class(model)
    return () if ignored is None or ignored == background else (ignored,)


def _cell_probability(probabilities: np.ndarray, options: ObjectOptions) -> np.ndarray:
    """The watershed seeds' cell probability of two classes' ``probabilities``: 1 - the
    background's, 0 where the other class is no class (``options.no_class``: no object
    class at all, as :func:`object_class_map` finds)."""
    cell = 1.0 - probabilities[_background(probabilities, options)]
    return cell if no_class_table(options, len(probabilities)) is None else np.zeros_like(cell)


def objects_int32(
    probabilities: np.ndarray, options: ObjectOptions, *, outside=None, image_rows=(True, True)
) -> np.ndarray:
    """:func:`objects_from_probabilities`' ids as int32, of a (K, H, W) array and its
    options: the package's own callers' (files, napari, 3-D planes), which the row-by-row path
    (:func:`instance_objects`) equals, dtype too; the files' dtype is chosen where they are
    written."""
    return raster_numbered(_objects(probabilities, options, outside, image_rows))


def _objects(probabilities, options, outside, image_rows, memo=None, foreground=None) -> np.ndarray:
    """:func:`objects_from_probabilities` past its checks (``memo``: a window's of
    :func:`objects_in_bands`, :class:`SplitMemo`; ``foreground``: its :func:`grown_over`
    where made already, else None)."""
    ids, labels, cut = _grown(probabilities, options, outside, foreground)
    interior = probabilities[2] if options.mode == "instances" else None
    return _finished(ids, labels, interior, options, cut, image_rows, memo)


def instance_objects(
    interior: np.ndarray,
    foreground: np.ndarray,
    options: ObjectOptions,
    *,
    outside: np.ndarray | None = None,
    image_rows: tuple[bool, bool] = (True, True),
) -> np.ndarray:
    """``objects_int32(probabilities, options, ...)`` of an instance model
    (``options.mode`` ``"instances"``) from the two maps it reads alone: ``interior``
    (``probabilities[2]``) and ``foreground`` (:func:`grown_over`), which a caller can make
    row by row without the whole (3, H, W) probabilities (12 B a pixel; these 5 B)."""
    ids = _seeded(interior, foreground, options)
    return raster_numbered(_finished(ids, None, interior, options, outside, image_rows, None))


def _finished(ids, labels, interior, options, outside, image_rows, memo) -> np.ndarray:
    """The grown objects ``ids`` with their holes filled, split and kept by their least
    areas as ``options`` say (:func:`_objects`; ``interior``: an instance model's, else
    None)."""
    # a semantic model's with no background has no hole: its pixels of no object class are
    # nodata's or no class's (review s69: the ignored class's filled, not streamed)
    if options.fill_holes and (options.background is not None or options.mode == "instances"):
        ids = fill_object_holes(ids, outside=outside)
    if options.distance_split:
        weigh = interior is not None and options.split_interior
        ids = split_by_distance(ids, interior=interior if weigh else None, memo=memo)
    if options.split_necks:
        ids = compact(split_necks(ids, options.min_area))
    kept = remove_small_objects(
        ids, options, labels, outside=outside, image_rows=image_rows, interior=interior
    )
    if options.fill_holes:  # with no background class too (s36)
        kept = enclosed_specks_joined(ids, kept)
    return kept


def grown_over(probabilities: np.ndarray, options: ObjectOptions) -> np.ndarray:
    """(H, W) bool: the pixels the objects of ``probabilities`` are grown over (the
    foreground; a semantic model's pixels of its object classes), a function of each
    pixel's probabilities alone, so a window of the image holds those of the image read
    whole, cut at its edges. Each object (with its holes) lies in one of its 8-connected
    regions, and how it is grown, filled and split depends on that region alone."""
    if options.mode == "instances":
        return (1.0 - probabilities[0]) >= options.foreground_threshold
    background = _background(probabilities, options)
    if options.watershed_seeds is not None:  # seeded_cells' cells
        return _cell_probability(probabilities, options) > options.foreground_threshold
    labels = object_class_map(probabilities, options)  # no class: max(K, 2) without background
    no_class = _no_class_label(len(probabilities))
    return labels < no_class if background is None else labels != background


def enclosed_specks_joined(ids: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """``kept`` (the objects of ``ids`` left by their least areas) with each group of
    dropped objects (one alone, or several touching each other) that one kept object alone
    surrounds (all the group's outer 4-neighbours; not the image's edge) joined to it: a
    speck of another class inside a nucleus was dropped and left a hole there, though holes
    are filled (audit s35 multiclass 4; two touching specks, s36). By the dropped pixels
    only (a second :func:`fill_object_holes` cost 0.3 s of 1.1 s on 2048 x 2048 px of
    3,000 objects), the dropped objects and the kept ones they touch by their ranks:
    ``ids`` and ``kept`` of any size (2**40, uint64 above 2**63: s47)."""
    ys, xs = np.nonzero((kept == 0) & (ids > 0))
    if ys.size == 0:
        return kept
    raw = ids[ys, xs]
    speck_ids = distinct(raw)
    own = np.searchsorted(speck_ids, raw)  # each dropped pixel's object, as its rank
    speck, near, by = _speck_neighbours(ids, kept, ys, xs, raw)
    by, owner_ids = compact_large_ids(by)  # huge kept ids as ranks, as they are else
    code = _neighbour_codes(near, by, speck_ids)
    speck, code = distinct_pairs(own[speck], code)
    link = code < 0
    nodes, owner = speck_owners(speck[~link], code[~link], np.stack([speck[link], -1 - code[link]]))
    lut = np.zeros(speck_ids.size, np.int64)
    lut[nodes] = owner
    out = kept.copy()
    out[ys, xs] = lut[own] if owner_ids is None else owner_ids[lut[own]]
    return out


def _speck_neighbours(ids, kept, ys, xs, raw) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(which dropped pixel, its 4-neighbour's id in ``ids``, in ``kept``) of each
    4-neighbour of the dropped pixels ``ys, xs`` (ids ``raw``) that is no pixel of the same
    object; past the image's edge: 0, open (:func:`enclosed_specks_joined`)."""
    padded_ids, padded_kept = np.pad(ids, 1).ravel(), np.pad(kept, 1).ravel()
    step = kept.shape[1] + 2
    at = (ys + 1) * step + xs + 1  # flat, in the padded arrays
    pixel, near, by = [], [], []
    for offset in (-step, step, -1, 1):
        found = padded_ids[at + offset]
        other = found != raw
        pixel.append(np.flatnonzero(other))
        near.append(found[other])
        by.append(padded_kept[at[other] + offset])
    return tuple(np.concatenate(parts) for parts in (pixel, near, by))


def _neighbour_codes(near: np.ndarray, by: np.ndarray, speck_ids: np.ndarray) -> np.ndarray:
    """What a dropped pixel touches, int64: the kept object of rank ``by`` (> 0), another
    dropped object ``near`` as -1 - its rank among ``speck_ids``, or 0: background, the
    edge."""
    code = by.astype(np.int64)
    dropped = (by == 0) & (near > 0)
    code[dropped] = -1 - np.searchsorted(speck_ids, near[dropped])
    return code


def distinct_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct pairs ``(a[i], b[i])`` of two int64 arrays (``a`` >= 0), sorted by ``a``
    then ``b``: by one key ``a * width + b`` where the values allow it (no int64 overflow,
    no collision), else by sorting both (ids of 2**62, say)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    low, high = int(b.min(initial=0)), int(b.max(initial=0))
    width = high - low + 1
    if (int(a.max(initial=0)) + 1) * width < 2**63:
        keys = distinct(a * width + (b - low))
        return keys // width, keys % width + low
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    new = np.concatenate([[True], (a[1:] != a[:-1]) | (b[1:] != b[:-1])])[: a.size]
    return a[new], b[new]


def speck_owners(
    specks: np.ndarray, targets: np.ndarray, links: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(nodes, owner)``: the dropped objects named in ``specks`` and ``links`` (distinct,
    sorted) and the kept object each joins (0: none; int64, uint64 past 2**63). ``specks[i]``
    touches ``targets[i]`` (a kept object; 0: something open, background no object owns or
    the image's edge); ``links`` (2, n): dropped objects that touch each other, one group.
    A group joins the one kept object it touches where it touches nothing else (no other
    object, nothing open): :func:`enclosed_specks_joined`, and
    :class:`~unetlab.inference.semantic_bands.SemanticBands` from its region graph. Ids
    of any size (2**62, uint64 above 2**63): the kept objects by their ranks (s47)."""
    nodes = distinct(np.concatenate([specks, links.ravel()]))
    a, b = np.searchsorted(nodes, links[0]), np.searchsorted(nodes, links[1])
    graph = sparse.coo_matrix((np.ones(a.size, np.int8), (a, b)), shape=(nodes.size,) * 2)
    count, group = csgraph.connected_components(graph, directed=False)
    group = group.astype(np.int64)
    ranks, kept = compact_large_ids(targets)  # huge kept ids as ranks, as they are else
    touched, target = distinct_pairs(group[np.searchsorted(nodes, specks)], ranks)
    alone = np.bincount(touched, minlength=count)[touched] == 1  # one thing around it
    joins = np.zeros(count, np.int64)
    joins[touched[alone & (target > 0)]] = target[alone & (target > 0)]
    return nodes, joins[group] if kept is None else kept[joins[group]]


def _grown(
    probabilities: np.ndarray, options: ObjectOptions, outside=None, foreground=None
) -> tuple:
    """``(ids, labels, cut)``: the objects of ``probabilities`` as grown, before their holes,
    splits and sizes, the class labels a semantic model's least sizes by class take (None
    for the watershed's), and the pixels an object in or beside is cut at (``outside``, and
    those of no class: :func:`_no_object`). A semantic model with no background class grows
    none over the ``outside`` pixels (nodata, a data bar), which hold the certainty of a
    real class there (:func:`~unetlab.data.nodata.blank_pixels`), nor over its ignored
    class (no class): an object beside either is a piece, cut there (s70: beside the
    ignored class it was held to its whole least area); with one, they are its."""
    if options.mode == "instances":
        if probabilities.shape[0] != 3:
            raise UnetlabError(
                f"instance mode needs 3 classes (background, boundary, interior), not "
                f"{probabilities.shape[0]}; use mode='semantic' for this model"
            )
        return _watershed(probabilities, options, foreground), None, outside
    if options.watershed_seeds is not None:
        if probabilities.shape[0] != 2:
            raise UnetlabError(_TWO_CLASSES.format(probabilities.shape[0], "watershed_seeds"))
        if options.background is None:
            raise UnetlabError(_NO_BACKGROUND.format("watershed_seeds"))
        cell = _cell_probability(probabilities, options)
        cells = seeded_cells(cell, options.foreground_threshold, options.watershed_seeds)
        return cells, None, outside
    labels = object_class_map(probabilities, options)
    background = _background(probabilities, options)
    if background is None:  # no object over nodata, nor over no class (object_class_map)
        void = _no_class_label(len(probabilities)) if options.no_class else 0
        if (gone := _no_object(labels, outside, void)) is not None:  # instances' ignore_index
            kept = np.where(gone, -1, labels.astype(np.int32))
            return instances(kept, boundary_class=None), labels, gone
    return instances(labels, boundary_class=background), labels, outside


def _no_object(labels: np.ndarray, outside, void: int) -> np.ndarray | None:
    """The pixels of ``labels`` (a class map of no background class) that make no object
    (``instances``' ignore index): those ``outside`` and those of the class ``void``
    (:func:`no_class_table`'s; 0: none); None where there are none."""
    gone = labels == void if void else None
    if outside is not None and outside.any():
        gone = outside if gone is None else gone | outside
    return gone


_DEFAULT_MODE = (
    "objects_from_probabilities: 3 classes read in semantic mode (no options given); an "
    "instance (background / boundary / interior) model's objects need its own: "
    "objects_from_probabilities(probabilities, ObjectOptions.for_model(model))"
)


def _background(probabilities: np.ndarray, options: ObjectOptions) -> int | None:
    """``options.background``, checked against the K classes of ``probabilities`` (K = 1:
    two classes at p = 0.5); None: no class is the background."""
    classes = max(probabilities.shape[0], 2)
    if options.background is None:
        return None
    if options.background >= classes:
        raise UnetlabError(
            f"background class {options.background} is none of this model's {classes} "
            "classes: ObjectOptions.for_model(model) gives its own"
        )
    return options.background


def _watershed(probabilities: np.ndarray, options: ObjectOptions, foreground=None) -> np.ndarray:
    """Seeds = interior >= seed_threshold inside the foreground (seeds below min_seed_area px
    dropped); foreground regions without a seed become objects of their own; a watershed on
    the negated interior probability grows the seeds over the foreground. Objects below
    min_area are dropped afterwards, by the caller: a small nucleus keeps its own pixels
    until then instead of being grown over by its neighbour."""
    if foreground is None:
        foreground = grown_over(probabilities, options)
    return _seeded(probabilities[2], foreground, options)


def _seeded(interior: np.ndarray, foreground: np.ndarray, options: ObjectOptions) -> np.ndarray:
    """:func:`_watershed` of the ``interior`` probability and the ``foreground``."""
    seeds = interior >= options.seed_threshold
    ids = grow_seeds(-interior, seeds, foreground, min_seed_area=options.min_seed_area)
    return compact(ids)


def split_by_distance(
    ids: np.ndarray,
    depth: float = SPLIT_DEPTH,
    *,
    interior: np.ndarray | None = None,
    memo: SplitMemo | None = None,
) -> np.ndarray:
    """Each object split at the maxima of its distance transform (int32 ids 1..n; a new array).

    Within each object: the Euclidean distance to its outline (other objects count as
    outside), smoothed (:data:`SPLIT_SMOOTH`); with ``interior`` ((H, W) interior
    probability of an instance model), times that probability over the object's own pixels
    (0 elsewhere), smoothed alike, so that a dip of the interior between touching nuclei
    makes a saddle where the outline has no neck. The h-maxima of that landscape with
    h = ``depth`` x the object's largest distance (at least :data:`SPLIT_MIN_DEPTH` px) are
    the seeds of a watershed on its negation inside the object. An object with one such maximum
    stays whole; the first piece keeps the object's place in the numbering, the others
    come after every object. Each object sees only its own pixels, so the result does not
    depend on what lies around it. Only the objects that may split (:func:`_may_split`,
    all objects at once, which gives their landscapes too) get the h-maxima and the
    watershed. ``memo``: the pieces of the
    objects of earlier windows of the same image (:class:`SplitMemo`): an object found there
    with the same pixels at the same place is not split again (the same ``depth`` and
    ``interior`` of that image), and this window's are added. Ids of any size (:func:`_ranks`).
    """
    ids = _ranks(ids)
    out = np.array(ids, dtype=split_dtype(ids))
    next_id = int(out.max(initial=0)) + 1
    boxes = ndimage.find_objects(ids)
    keys = {} if memo is None else memo.keys(ids, boxes)
    known = {} if memo is None else memo.recall(keys)
    fresh = [None if i in known else box for i, box in enumerate(boxes, 1)]
    split = {i: pieces for i, pieces in known.items() if pieces is not None}
    for i, (smooth, h) in _may_split(ids, fresh, depth, interior).items():
        split[i] = _pieces(ids[boxes[i - 1]] == i, smooth, h)
    if memo is not None:
        memo.remember({i: split.get(i) for i in keys if i not in known}, keys)
    for i in sorted(i for i, pieces in split.items() if pieces is not None):
        pieces, box = split[i], boxes[i - 1]
        extra = pieces > 1
        out[box][extra] = next_id + pieces[extra] - 2
        next_id += int(pieces.max()) - 1
    return compact(out)


def split_dtype(ids: np.ndarray) -> np.dtype:
    """The dtype :func:`split_by_distance` numbers the pieces of the objects of ``ids`` in
    before it compacts them: int32 where every id it may give fits (each piece new past
    the largest id holds a pixel of its own, so at most the pixel count of them), else
    int64 (int32's half of the memory: a wide slide's window, bench/README.md "A wide
    slide's object windows")."""
    most = int(np.max(ids, initial=0)) + np.size(ids)
    return np.dtype(np.int32 if most <= np.iinfo(np.int32).max else np.int64)


def _pieces(mask: np.ndarray, smooth: np.ndarray, h: float) -> np.ndarray | None:
    """Pieces 1..n of one object's ``mask`` (its box's pixels), or None for one piece
    (:func:`_split_one` of the mask padded by 1 px and its landscape ``smooth`` and ``h``
    from :func:`_may_split`, the padding cut off again)."""
    pieces = _split_one(np.pad(mask, 1), smooth, h)
    return None if pieces is None else pieces[1:-1, 1:-1]


class SplitMemo:
    """The pieces :func:`split_by_distance` gave each object of the windows of one image so
    far (None: one piece), by the object's place and pixels: the windows of
    :func:`objects_in_bands` overlap, and an object that lies whole in two of them (its
    pixels alike) splits alike in both (it sees only its own pixels and the image's
    interior probability under them), so it is split once. ``top``, ``left``: the row and
    column of the image the window now split starts at (a wide window's column blocks:
    :mod:`~unetlab.inference.column_objects`)."""

    def __init__(self):
        self.top = self.left = 0
        # each object's pieces in the least dtype that holds them, and the dtype they came in
        self.pieces: dict[tuple, tuple[np.ndarray, np.dtype] | None] = {}

    def keys(self, ids: np.ndarray, boxes: list) -> dict[int, tuple]:
        """Each object of a window's ``ids`` (its ``boxes``: ``find_objects``): its first
        row and column in the image, its box's shape and its pixels there (a bit each: a
        wide slide's window holds tens of thousands of objects)."""
        masks = {i: (box, ids[box] == i) for i, box in enumerate(boxes, 1) if box is not None}
        return {
            i: (self.top + box[0].start, self.left + box[1].start, *m.shape, _bits(m))
            for i, (box, m) in masks.items()
        }

    def recall(self, keys: dict[int, tuple]) -> dict[int, np.ndarray | None]:
        """The pieces (None: one) of each object of ``keys`` (:meth:`keys`) split before."""
        held = {i: self.pieces[k] for i, k in keys.items() if k in self.pieces}
        return {i: None if p is None else p[0].astype(p[1]) for i, p in held.items()}

    def remember(self, pieces: dict[int, np.ndarray | None], keys: dict[int, tuple]) -> None:
        """Keep the ``pieces`` (None: one) of objects of a window (``keys``: :meth:`keys`)."""
        for i, found in pieces.items():
            kept = None
            if found is not None:  # held in the least dtype its ids fit, given back as found
                kept = (found.astype(np.min_scalar_type(int(found.max(initial=0)))), found.dtype)
            self.pieces[keys[i]] = kept

    def forget_above(self, row: int) -> None:
        """Forget the objects that start above ``row`` (no later window holds them whole)."""
        self.pieces = {k: v for k, v in self.pieces.items() if k[0] >= row}


def _bits(mask: np.ndarray) -> bytes:
    """A bool array's pixels packed 8 to a byte (its shape told apart)."""
    return np.packbits(mask).tobytes()


def _fill_dips(own: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``own`` (0 off ``mask``) with each pixel of ``mask`` raised to the least, over paths
    to a pixel off it, of the path's highest value (min and max only: exact)."""
    from skimage.morphology import reconstruction

    return reconstruction(np.where(mask, own.max(initial=0.0), own), own, method="erosion")


def _split_one(mask: np.ndarray, smooth: np.ndarray, h: float) -> np.ndarray | None:
    """Pieces 1..n of one object's ``mask`` (padded by 1 px), or None for one piece: the
    watershed of its landscape ``smooth`` (:func:`_may_split`) from its h-maxima."""
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    markers, n = ndimage.label(h_maxima(smooth, h).astype(bool) & mask, np.ones((3, 3)))
    if n < 2:
        return None
    return watershed(-smooth, markers, mask=mask)


#: px of context around each object's padded box on the canvas of :func:`_peaks`: the
#: Gaussian's radius (``gaussian_filter``'s default truncation, 4 sigma)
_CONTEXT = int(4.0 * SPLIT_SMOOTH + 0.5)
_CANVAS_WIDTH = 2048  # px
#: the most a block of objects' slots covers: bounds the memory, tens of bytes a pixel of
#: float64 and int64 canvases at once (the landscape, its Gaussians, the slots, the distance
#: transform), reached by a window of a wide slide: 2**22 px peaked at 1,192 MB, 2**20 at
#: 1,121 MB on a 16,384-px-wide one (bench/README.md), the same results (each slot's are
#: its padded box's alone)
_CANVAS_PIXELS = 1 << 20
_SLACK = 1e-9  # px, far above h_maxima's rounding allowance (2e-15 of a value)
_MARGIN = 1e-6  # px, far above rounding in the h-maxima's arithmetic


def _may_split(ids: np.ndarray, boxes: list, depth: float, interior=None) -> dict[int, tuple]:
    """The objects that may split (a superset of those :func:`_split_one` splits), by id,
    increasing: each one's landscape over its padded box and its h.

    Within each object's padded box: ``distance`` its Euclidean distance transform, h =
    ``depth`` x ``distance.max()`` (at least :data:`SPLIT_MIN_DEPTH`), ``smooth`` the
    distance smoothed (times the smoothed interior, :func:`_own_canvas`), 0 off the object:
    :func:`_peaks` computes them for all objects at once, exactly as alone. It stays whole where
    ``distance.max() <= h + 1`` or ``h > smooth.max()`` (no h-maxima), and where fewer than
    two 8-connected sets of pixels as high as their 8 neighbours (:func:`_peaks`) reach h:
    each h-maximum holds its highest pixel, one of those; two of them that touch are equally
    high, so a set lies in one h-maximum; and one apart from the highest rises h above the
    lowest pixel of a path to it (>= 0) or nearly as high as the highest. Of the others,
    :func:`_may_separate` keeps those with such a set that may be an h-maximum of its own."""
    present = np.array([i for i, box in enumerate(boxes, 1) if box is not None], np.int64)
    found = {}
    side = 2 * _CONTEXT + 2  # a slot's side beyond its object's box
    area = [(b[0].stop - b[0].start + side) * (b[1].stop - b[1].start + side) for b in boxes if b]
    block = np.cumsum(np.array(area, np.int64)) // _CANVAS_PIXELS
    for b in np.unique(block):
        labels = present[block == b]
        canvas = _peaks(ids, labels, [boxes[i - 1] for i in labels], interior)
        largest, top, value, slot, pixel, smooth, boxes_at = canvas
        h = np.maximum(SPLIT_MIN_DEPTH, depth * largest)
        strong = value >= h[slot] - _SLACK
        value, slot, pixel = value[strong], slot[strong], pixel[strong]
        keep = ~(largest <= h + 1) & ~(h > top) & (np.bincount(slot, minlength=len(labels)) >= 2)
        order = np.argsort(slot, kind="stable")
        ends = np.searchsorted(slot[order], np.arange(len(labels) + 1))
        for k in np.flatnonzero(keep):
            mine = order[ends[k] : ends[k + 1]]
            keep[k] = _may_separate(smooth, boxes_at[k], pixel[mine], value[mine], h[k])
        for k in np.flatnonzero(keep):
            y, x, high, wide = (int(v) for v in boxes_at[k])
            found[int(labels[k])] = smooth[y : y + high, x : x + wide].copy(), float(h[k])
    return found


def _peaks(ids: np.ndarray, labels: np.ndarray, boxes: list, interior=None) -> tuple:
    """Of the objects ``labels`` (their ``boxes``): the largest distance and the largest
    smoothed distance (times the smoothed ``interior`` where given) of each, as its padded
    box alone gives them; the value, the object (index into ``labels``) and a
    pixel (raveled canvas index) of each 8-connected set of pixels at least as high as their
    8 neighbours in that landscape; the landscape's canvas, and each padded box's top, left,
    height and width on it.

    Each object's padded box gets a slot on a canvas, with :data:`_CONTEXT` px around it
    that mirror the box (``gaussian_filter``'s default 'reflect' mode), so that one distance
    transform, Gaussian and 3 x 3 maximum over the canvas give each object exactly what
    they give its padded box alone."""
    c = _CONTEXT
    high = np.array([b[0].stop - b[0].start + 2 for b in boxes], np.int64)
    wide = np.array([b[1].stop - b[1].start + 2 for b in boxes], np.int64)
    y0, x0, shape = _shelves(high, wide)  # the distance transform's canvas: boxes only
    inner = np.zeros(shape, bool)
    for k, (i, box) in enumerate(zip(labels, boxes)):
        inner[y0[k] + 1 : y0[k] + high[k] - 1, x0[k] + 1 : x0[k] + wide[k] - 1] = ids[box] == i
    if interior is not None:  # on the same canvas: each box's 0 rim keeps the boxes apart
        own = _own_canvas(interior, boxes, inner, y0, x0)
    inner = ndimage.distance_transform_edt(inner)
    top, left, shape = _shelves(high + 2 * c, wide + 2 * c)
    distance, slots = np.zeros(shape), np.full(shape, -1, np.int64)
    mask, largest = np.zeros(shape, bool), np.zeros(len(labels))
    weight = None if interior is None else np.zeros(shape)
    for k in range(len(labels)):
        box = inner[y0[k] : y0[k] + high[k], x0[k] : x0[k] + wide[k]]
        largest[k] = box.max()
        y, x = top[k], left[k]
        around = slice(y, y + high[k] + 2 * c), slice(x, x + wide[k] + 2 * c)
        mirror = _reflected(int(high[k]))[:, None], _reflected(int(wide[k]))
        distance[around] = box[mirror]
        if weight is not None:
            weight[around] = own[y0[k] : y0[k] + high[k], x0[k] : x0[k] + wide[k]][mirror]
        slots[around] = k
        mask[y + c : y + c + high[k], x + c : x + c + wide[k]] = box > 0
    smooth = ndimage.gaussian_filter(distance, SPLIT_SMOOTH)
    if weight is not None:  # each slot's Gaussian is its padded box's alone
        smooth = smooth * ndimage.gaussian_filter(weight, SPLIT_SMOOTH)
    smooth = np.where(mask, smooth, 0.0)
    value, slot, pixel, highest = _plateaus(smooth, mask, slots, len(labels))
    boxes_at = np.stack([top + c, left + c, high, wide], axis=1)
    return largest, highest, value, slot, pixel, smooth, boxes_at


def _plateaus(smooth: np.ndarray, mask: np.ndarray, slots: np.ndarray, n: int) -> tuple:
    """Of each 8-connected set of ``mask`` pixels at least as high as their 8 neighbours in
    ``smooth``: its value, its object (``slots``: the object of each canvas pixel) and a
    pixel (raveled index); and the highest such value of each of the ``n`` objects."""
    peaks = mask & (smooth >= ndimage.maximum_filter(smooth, size=3))
    peaks, _ = ndimage.label(peaks, np.ones((3, 3)))
    where = np.flatnonzero(peaks)
    _, first = np.unique(peaks.ravel()[where], return_index=True)
    pixel = where[first]
    value, slot = smooth.ravel()[pixel], slots.ravel()[pixel]
    highest = np.zeros(n)
    np.maximum.at(highest, slot, value)
    return value, slot, pixel, highest


def _own_canvas(interior, boxes, inner, y0, x0) -> np.ndarray:
    """The interior probability of every object at once on the canvas ``inner`` (the
    objects' padded masks at ``y0``, ``x0``), 0 off the objects (float64), each object's
    enclosed dips filled: each pixel raised to the lowest level at which it reaches the
    outline (a grayscale reconstruction by erosion; each box's 0 rim keeps the objects
    apart), so a dark nucleolus inside a nucleus leaves no dip, while a seam that crosses
    the object from outline to outline keeps its own."""
    own = np.zeros(inner.shape)
    for k, box in enumerate(boxes):
        y, x = y0[k] + 1, x0[k] + 1
        window = slice(y, y + box[0].stop - box[0].start), slice(x, x + box[1].stop - box[1].start)
        own[window] = np.where(inner[window], interior[box], 0.0)
    return _fill_dips(own, inner)


def _may_separate(smooth, box, pixel, value, h) -> bool:
    """Whether one of an object's peaks (``pixel``: raveled canvas indices, ``value``) but
    the highest may be an h-maximum apart from it. Not where each is lower than the highest
    and joined to it (8-connected) through pixels above its value - h: then the
    reconstruction in ``h_maxima`` lifts it above value - h (by at least :data:`_MARGIN`)."""
    y, x, high, wide = (int(v) for v in box)
    image = smooth[y : y + high, x : x + wide]
    py, px = np.divmod(pixel, smooth.shape[1])
    py, px = py - y, px - x
    g = int(np.argmax(value))
    for k in np.argsort(-value, kind="stable"):
        if k == g:
            continue
        if not value[g] - value[k] > 2 * _MARGIN:
            return True
        region, _ = ndimage.label(image >= value[k] - h + _MARGIN, np.ones((3, 3)))
        if region[py[k], px[k]] != region[py[g], px[g]]:
            return True
    return False


@cache
def _reflected(n: int) -> np.ndarray:
    """Indices -_CONTEXT .. n + _CONTEXT - 1 of a line of n px extended by mirroring
    (d c b a | a b c d), ndimage's 'reflect' mode, brought back into 0..n-1."""
    k = np.mod(np.arange(-_CONTEXT, n + _CONTEXT), 2 * n)
    return np.where(k >= n, 2 * n - 1 - k, k)


def _shelves(high: np.ndarray, wide: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Top-left corners of rectangles packed in shelves (tallest first) and the canvas
    shape."""
    top, left = np.zeros(len(high), np.int64), np.zeros(len(high), np.int64)
    width = max(_CANVAS_WIDTH, int(wide.max()))
    y = x = shelf = 0
    for k in np.argsort(-high, kind="stable"):
        if x + wide[k] > width:
            y, x, shelf = y + shelf, 0, 0
        top[k], left[k] = y, x
        x, shelf = x + int(wide[k]), max(shelf, int(high[k]))
    return top, left, (y + shelf, width)


def fill_object_holes(ids: np.ndarray, *, outside: np.ndarray | None = None) -> np.ndarray:
    """Background enclosed by a single object joins it (a new array; int32).

    Each 4-connected region of background (0) that does not reach the image edge joins the
    one object it touches; a region that touches several (a gap around a fragment inside a
    hole) joins the one of them that alone cuts it off from the edge, if any; a region that
    several objects enclose together stays background. All regions at once: filling each
    object's holes in turn cost one ``binary_fill_holes`` per object, most of them fragments
    that ``min_area`` drops afterwards. ``outside``: (H, W) bool, the pixels that are no
    sample (nodata, a data bar): a region that holds one may reach the edge beyond them, as
    at the image's edge, and stays background (s34: nodata inside a cell became its hole,
    filled, and so part of the cell). Ids far above the pixel count (a tracker's) are
    filled as their ranks and given back (int64, uint64 above 2**63; the hole tables went
    by the largest id, and int32 cut ids above 2**31).
    """
    ranks, original = compact_large_ids(ids)
    out = _holes_filled(ranks, outside)
    return out if original is None else original[out]


def _holes_filled(ids: np.ndarray, outside: np.ndarray | None) -> np.ndarray:
    """:func:`fill_object_holes` of ids within a few times the pixel count."""
    out = np.asarray(ids, dtype=np.int32).copy()
    regions, n = ndimage.label(out == 0)
    if n == 0:
        return out
    region, index = _adjacent_pairs(regions, out)
    touching = np.bincount(region, minlength=n + 1)
    edge = np.concatenate([regions[0], regions[-1], regions[:, 0], regions[:, -1]])
    enclosed = np.ones(n + 1, bool)
    enclosed[edge] = enclosed[0] = False
    if outside is not None:
        enclosed[regions[outside]] = False
    owner = np.zeros(n + 1, np.int32)
    alone = enclosed[region] & (touching[region] == 1)
    owner[region[alone]] = index[alone]
    shared = enclosed[region] & (touching[region] > 1)
    sole, by = _sole_enclosers(out, regions, region[shared], index[shared])
    owner[sole] = by
    filled = owner[regions]
    return np.where(filled > 0, filled, out)


def _adjacent_pairs(regions: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (background region, object id) pairs of 4-neighbours, each once, sorted."""
    width = int(ids.max()) + 1
    keys = []
    for r, i in _four_neighbours(regions, ids):
        touching = (r > 0) & (i > 0)
        keys.append(r[touching].astype(np.int64) * width + i[touching])
    keys = distinct(np.concatenate(keys))
    return keys // width, keys % width


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values of a 1-d array, sorted: ``np.unique`` by sorting (numpy 2.4's
    ``np.unique`` hashes, 5-15 times slower where most values are distinct, as the
    touching pairs of an image's regions are: 8.8 s for 2 million, 0.4 s sorted)."""
    values = np.sort(values, axis=None)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if values.size else values


def _four_neighbours(a: np.ndarray, b: np.ndarray):
    """(pixels of ``a``, their neighbours in ``b``) as views, for the 4 directions."""
    yield a[1:], b[:-1]
    yield a[:-1], b[1:]
    yield a[:, 1:], b[:, :-1]
    yield a[:, :-1], b[:, 1:]


def _sole_enclosers(ids, regions, region, index) -> tuple[np.ndarray, np.ndarray]:
    """Of the pairs ``(region, index)`` (background regions and the objects each touches,
    sorted), ``(regions, objects)``: the object that alone encloses each region, where one
    does, the first such object where several do. A region lies in a hole of an object when
    one of its pixels does (a region is 4-connected and holds no object), so each object's
    holes over its box are read at one pixel of each region it touches, all at once; only objects whose box holds such a pixel inside its edges are filled (a
    region-by-region loop over every region's ``find_objects`` box cost 12 s of 13 s on a
    crowded 2000 x 2000 px crop)."""
    pixel = np.zeros(int(regions.max()) + 1, np.int64)
    pixel[regions.ravel()] = np.arange(regions.size)  # any one pixel of each region
    y, x = np.divmod(pixel[region], regions.shape[1])
    slices = ndimage.find_objects(ids)
    box = _box_table(slices)[index - 1]
    inside = (box[:, 0] < y) & (y < box[:, 2] - 1) & (box[:, 1] < x) & (x < box[:, 3] - 1)
    hit = np.zeros(region.size, bool)
    order = np.flatnonzero(inside)
    order = order[np.argsort(index[order], kind="stable")]
    starts = np.flatnonzero(np.diff(index[order], prepend=-1))
    for i, pairs in zip(index[order[starts]], np.split(order, starts[1:])):
        top, left = slices[i - 1][0].start, slices[i - 1][1].start
        hit[pairs] = _in_holes(ids[slices[i - 1]] != i, y[pairs] - top, x[pairs] - left)
    return _first_hits(region, index, hit)


def _in_holes(around: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Whether the pixels ``(y, x)`` of ``around`` (True off an object, over its box) lie in
    its holes: 4-connected parts of ``around`` that do not reach the box's edge (what
    ``binary_fill_holes`` fills; labelling is one pass, its dilation one per pixel of depth:
    2.5 s for 5,259 objects)."""
    parts, n = ndimage.label(around)
    open_ = np.zeros(n + 1, bool)
    open_[0] = True
    open_[np.concatenate([parts[0], parts[-1], parts[:, 0], parts[:, -1]])] = True
    return ~open_[parts[y, x]]


def _first_hits(region: np.ndarray, index: np.ndarray, hit: np.ndarray) -> tuple:
    """``(regions, objects)``: for each region of the sorted pairs with a hit, the first
    object (in the pairs' order) hit."""
    region, index = region[hit], index[hit]
    first = np.concatenate([[True], region[1:] != region[:-1]]) if region.size else hit[:0]
    return region[first], index[first]


def _box_table(slices: list) -> np.ndarray:
    """(len(slices), 4) top, left, bottom, right of ``find_objects`` boxes (0s for none)."""
    empty = (slice(0, 0), slice(0, 0))
    return np.array(
        [(s[0].start, s[1].start, s[0].stop, s[1].stop) for s in (b or empty for b in slices)],
        dtype=np.int64,
    ).reshape(-1, 4)


def remove_small(ids: np.ndarray, min_area: int) -> np.ndarray:
    """``ids`` without objects of fewer than ``min_area`` px, renumbered 1..n in the order of
    the remaining ids (int32); ids of any size (:func:`_ranks`)."""
    ids, top = largest_compact(ids)
    return _kept(ids, np.full(top + 1, min_area, np.int64))


def object_classes(
    ids: np.ndarray, labels: np.ndarray, background: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(present, classes)``: the ids of the objects of ``ids`` (ascending, without 0;
    int64, uint64 above 2**63) and the class of each (its most common class in ``labels``
    but ``background``: :func:`unetlab.inference.measure.majority_class`). By object, not
    by id 0..max (an array by id of one id 2**40 would be 8 TB): where the ids are compact,
    ``by_id[present] = classes`` looks them up by id. Ids far above the pixel count are
    counted by their ranks (:func:`~unetlab.data.large_ids.compact_large_ids`)."""
    ids = np.asarray(ids)
    top = int(ids.max(initial=0))
    ranks, original = compact_large_ids(ids, top)
    kinds = np.asarray(labels).ravel().astype(np.int64)
    n = top + 1 if original is None else len(original)
    width = int(kinds.max(initial=0)) + 1
    votes = class_votes(ranks.ravel().astype(np.int64), kinds, n, width)
    present = np.flatnonzero(votes[1:].any(axis=1)) + 1
    classes = majority_class(votes[present], background)
    return (present if original is None else original[present]), classes


def remove_small_by_class(
    ids: np.ndarray, labels: np.ndarray, min_areas: Sequence[int], background: int | None
) -> np.ndarray:
    """``ids`` without objects smaller than their class's ``min_areas`` (by class index;
    :func:`object_classes` of ``labels``), renumbered 1..n as :func:`remove_small`."""
    ids, top = largest_compact(ids)
    return _kept(ids, _least_by_class(ids, top + 1, labels, min_areas, background))


def _least_by_class(ids, n, labels, min_areas, background) -> np.ndarray:
    """(n,) int64 the least area of each id 0..n-1 of the compact ``ids`` by its class
    (:func:`object_classes`, :func:`class_least`); 1 px where absent (no area to keep)."""
    needed = np.ones(n, np.int64)
    present, kinds = object_classes(ids, labels, background)
    needed[present] = class_least(kinds, min_areas)
    return needed


def class_least(kinds: np.ndarray, min_areas: Sequence[int]) -> np.ndarray:
    """The least area of each object of class ``kinds`` (indices into ``min_areas``; a
    class past its end: 1 px)."""
    least = np.asarray(min_areas, np.int64)
    return np.where(kinds < len(least), least[np.minimum(kinds, len(least) - 1)], 1)


def remove_small_objects(
    ids: np.ndarray,
    options: ObjectOptions,
    labels: np.ndarray | None = None,
    *,
    outside: np.ndarray | None = None,
    image_rows: tuple[bool, bool] = (True, True),
    interior: np.ndarray | None = None,
) -> np.ndarray:
    """``ids`` without the objects smaller than their least area: ``options.min_area``, or
    with ``labels`` (semantic, no watershed seeds) and ``options.class_min_areas`` their
    class's (:func:`class_least`). The least areas are whole objects' (from the training
    masks' whole regions); an object the image's edge cuts, or an ``outside`` pixel ((H, W)
    bool: nodata, a data bar; in or beside it), is a piece of one, of any size, and is held
    only to ``options.cut_min_area`` where its least area is larger (:func:`cut_least`): it is
    kept, and the objects table flags it ``touches_border``, as training sizes count it
    (:func:`~unetlab.data.fingerprint.cut_regions`). ``image_rows``: whether the first and
    last rows are the image's edge (False: a band's cut row, which cuts no object).
    ``interior``: (H, W) an instance model's interior probability: an object whose largest
    is under ``options.min_peak`` goes too (:func:`faint_objects`). Ids of any size
    (:func:`_ranks`)."""
    ids, top = largest_compact(ids)
    n = top + 1
    if labels is not None and options.class_min_areas is not None:
        needed = _least_by_class(ids, n, labels, options.class_min_areas, options.background)
    else:
        needed = np.full(n, options.min_area, np.int64)
    cut = cut_regions(ids, outside, image_rows=image_rows)
    cut = np.concatenate([[False], cut])
    needed = cut_least(needed, cut, options.cut_min_area)
    if interior is not None and options.min_peak > 0:
        needed[faint_objects(ids, interior, options.min_peak)] = np.iinfo(np.int64).max
    return _kept(ids, needed)


def faint_objects(ids: np.ndarray, interior: np.ndarray, least: float) -> np.ndarray:
    """The ids (ascending; int64, uint64 above 2**63) of the objects of ``ids`` whose
    ``interior`` probability stays under ``least`` at every pixel: by object, not a flag by
    id 0..max (1 TB for one id 2**40). Ids far above the pixel count are measured by their
    ranks (:func:`~unetlab.data.large_ids.compact_large_ids`). The objects with a pixel not
    under ``least`` are flagged from those pixels alone (a NaN one too, as a maximum takes
    it), where ``ndimage.maximum`` sorted every pixel (19 B a pixel at once: a wide slide's
    band window's largest temporaries, bench/README.md "Whole-slide images")."""
    top = int(ids.max(initial=0))
    ranks, original = compact_large_ids(ids, top)
    n = top + 1 if original is None else len(original)
    seen, bright = np.zeros(n, bool), np.zeros(n, bool)
    seen[ranks] = True  # no int64 copy of the ids, as bincount made
    present = np.flatnonzero(seen[1:]) + 1
    reach = np.less(interior, least)
    np.logical_not(reach, out=reach)  # one bool a pixel
    bright[ranks[reach]] = True
    faint = present[~bright[present]]
    return faint if original is None else original[faint]


def cut_least(needed: np.ndarray, cut: np.ndarray, least: int = CUT_MIN_AREA) -> np.ndarray:
    """The least areas ``needed`` with those of ``cut`` objects lowered to ``least``
    (:attr:`ObjectOptions.cut_min_area`, :data:`CUT_MIN_AREA` at level 0; a least area
    already smaller stays)."""
    return np.where(cut, np.minimum(needed, least), needed)


def _kept(ids: np.ndarray, needed: np.ndarray) -> np.ndarray:
    """``ids`` without the objects of fewer px than their ``needed`` (by id; at least
    1), renumbered 1..n in the order of the remaining ids (int32)."""
    areas = np.bincount(ids.ravel().astype(np.int64), minlength=len(needed))
    keep = areas >= np.maximum(needed, 1)
    keep[0] = False
    lut = np.zeros(len(areas), np.int32)
    lut[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return lut[ids]


def _ranks(ids: np.ndarray) -> np.ndarray:
    """``ids``, or their ranks 1..n where they lie far above the pixel count (a tracker's
    ids: the least areas and counts by id would go by the largest;
    :func:`~unetlab.data.large_ids.compact_large_ids`): renumbered 1..n, the same result."""
    return compact_large_ids(ids)[0]


def raster_numbered(ids: np.ndarray) -> np.ndarray:
    """``ids`` (non-negative, of at most a few ids per pixel) renumbered 1..n in the raster
    order of each object's first pixel, 0 staying 0, in their dtype: the numbering a
    streamed image's objects get too (:meth:`~unetlab.inference.slide_objects.SlideObjects.
    publish`), which knows an object's first pixel once its rows are past, not its seeds,
    so that an image read whole and one streamed give each object the same id."""
    first = first_pixels(ids)
    present = np.flatnonzero(first[1:] < ids.size) + 1
    lut = np.zeros(first.size, ids.dtype)
    lut[present] = raster_ranks(first[present])
    return lut[ids]


def compact(ids: np.ndarray) -> np.ndarray:
    """Ids renumbered 1..n in increasing order of the given ids (0 stays 0), int32."""
    return remove_small(ids, 1)


# --- images that arrive as row bands ----------------------------------------------------


#: px of a band's ids relabelled at a time (:meth:`_Merger.relabel`: 8 B a pixel of them)
RELABEL_SLICE = 1 << 16
#: an ids' range over this many times their distinct count is looked up by them, not by range
SPARSE_RANGE = 4


class _Merger:
    """Union-find over provisional ids; the root of a set is its smallest id, so an id
    already written for an earlier band stays the object's id."""

    def __init__(self):
        self.parent: dict[int, int] = {}

    def find(self, i: int) -> int:
        root = i
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while i != root:
            self.parent[i], i = root, self.parent.get(i, i)
        return root

    def union(self, a: int, b: int) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)

    def relabel(self, ids: np.ndarray) -> np.ndarray:
        """``ids`` (non-negative, any memory order) with each id replaced by its set's root,
        0 staying 0, in ``ids``' dtype (int32 or int64; no root is larger): a C-ordered copy
        changed in slices of :data:`RELABEL_SLICE` px by a lookup table of the ids' range (a
        band's ids lie past those of the bands before: about its object count), or of the
        distinct ids where the range is over :data:`SPARSE_RANGE` times as many (two ids 1e7
        apart held a 734 MB table). The band's distinct ids by sorting or counting
        (``value_ids``) held an index as large as the ids and a sorted copy: 34 -> 17 MB
        traced on 256 x 16,384 px of int32 ids."""
        out = np.array(ids, order="C")
        flat = out.reshape(-1)  # a view of the C-ordered copy: changed in place below
        top = int(flat.max(initial=0))
        if top == 0:
            return out
        parts = [flat[i : i + RELABEL_SLICE] for i in range(0, flat.size, RELABEL_SLICE)]
        low = min(int(np.min(part, initial=top, where=part > 0)) for part in parts)
        if top - low + 1 > 2 * RELABEL_SLICE:
            present = np.unique(np.concatenate([np.unique(part) for part in parts]))
            if top - low + 1 > SPARSE_RANGE * present.size:
                self._relabel_sparse(parts, present)
                return out
        lut = np.array([0, *(self.find(i) for i in range(low, top + 1))], out.dtype)
        for part in parts:
            at = np.subtract(part, low - 1, dtype=np.intp)  # 1.. the ids, < 1 for 0
            np.take(lut, np.maximum(at, 0, out=at), out=part, mode="clip")
        return out

    def _relabel_sparse(self, parts: list[np.ndarray], present: np.ndarray) -> None:
        """Each slice of ``parts`` relabelled in place through ``present`` (its distinct
        values, ascending, 0 among them where it occurs) and their roots."""
        roots = np.array([self.find(i) if i else 0 for i in present.tolist()], present.dtype)
        for part in parts:
            part[...] = roots[np.searchsorted(present, part)]


def seam_pairs(upper: np.ndarray, lower: np.ndarray) -> list[tuple[int, int]]:
    """Ids of two labellings of the same rows that are one object: each covers more than
    half of the other's pixels there (so pairs are one-to-one), in increasing order. Ids
    whose pairs no int64 holds (ids of 3e9 and more) are paired by their ranks."""
    both = (upper > 0) & (lower > 0)
    if not both.any():
        return []
    a, b = upper[both], lower[both]
    top_a, top_b = int(a.max()), int(b.max())
    named = None
    if (top_a + 1) * (top_b + 1) > 2**63:  # a pair as one int64 would wrap: by their ranks
        name_a, a = np.unique(a, return_inverse=True)
        name_b, b = np.unique(b, return_inverse=True)
        named, top_b = (name_a.tolist(), name_b.tolist()), len(name_b) - 1
    span = top_b + 1
    keys, overlap = _counted(a.astype(np.int64) * span + b.astype(np.int64))  # (a, b) as one
    pairs = zip((keys // span).tolist(), (keys % span).tolist(), overlap.tolist())
    if named is not None:
        pairs = ((named[0][i], named[1][j], n) for i, j, n in pairs)
    size_a = dict(zip(*_counted(upper[upper > 0])))
    size_b = dict(zip(*_counted(lower[lower > 0])))
    return [(int(i), int(j)) for i, j, n in pairs if 2 * n > size_a[i] and 2 * n > size_b[j]]


def _counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a 1-d array, ascending, and how often each occurs:
    ``np.unique(values, return_counts=True)`` by one sort."""
    values = np.sort(values)
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    return values[starts], np.diff(np.append(starts, values.size))


def objects_in_bands(
    blocks: Iterable[tuple[int, np.ndarray]],
    *,
    height: int,
    options: ObjectOptions,
    band_rows: int,
    margin: int,
    outside: Callable[[int, int], np.ndarray | None] | None = None,
    max_margin: int | None = None,
    unsure: list[int] | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """:func:`objects_int32` of an image that arrives as row blocks.

    ``blocks``: ``(y, (K, rows, W) probabilities)`` in order, covering rows 0..height-1
    (e.g. from :func:`unetlab.inference.tiling.iter_tiled_rows`). Bands of ``band_rows``
    rows are post-processed with ``margin`` rows of context on each side; the ids of two
    neighbouring bands are merged where they label the same object in the rows both see
    (:func:`seam_pairs`). Yields ``(y, (rows, W) int32 ids)`` (int64 past int32) band by
    band: unique over the image, not consecutive (renumber if needed), 0 = background.

    ``max_margin`` (default ``margin``: never): a band's margin is then the least that
    holds whole every region of the pixels objects grow over (:func:`grown_over`, a
    function of each pixel's probabilities, so the window's regions are the image's)
    that reaches into its rows, found from those regions alone (:func:`_least_margin`)
    and at most ``max_margin``: where none is cut, the band's objects are exactly those of
    the image read whole, watershed ties too (:mod:`.column_objects`), whatever their size
    (seeds, holes, splits lie inside). A band after one of a wider margin is that tall.
    ``unsure``: given a list, once the bands are done, the count of the objects that may
    still differ from the image read whole is appended: of those of a band left cut at
    ``max_margin`` that cross a band seam, each whose own pixels reach a cut edge of its
    window or that the two windows of its seam give otherwise (:class:`_Joined`). A
    window's cut rows are no image edge (:func:`remove_small_objects`); ``outside(top,
    bottom)``: the (rows, W) pixels of rows ``[top, bottom)`` that are no sample, or None.
    """
    widest = margin if max_margin is None else max(margin, max_margin)
    if band_rows < 1 or margin < 0:
        raise ValueError(f"band_rows (at least 1), margin (at least 0): {band_rows}, {margin}")
    check = widest > margin or unsure is not None
    held = _HeldRows(iter(blocks), height)
    joined, previous = _Joined(), None
    for band in _bands(held, options, band_rows, (margin, widest, check), outside):
        joined.add(band)
        if previous is not None:
            joined.seam(previous, band)
            yield previous.core[0], joined.core_ids(previous)
        previous = band
    if previous is not None:
        yield previous.core[0], joined.core_ids(previous)
    if unsure is not None:
        unsure.append(joined.unsure())


@dataclass
class _Band:
    """A band's ``core`` rows and the ids of its window (from row ``top``), found with
    ``margin`` rows of context; where that margin left objects cut (``max_margin``
    reached: :func:`objects_in_bands`), ``left``: those of them at a seam of the core, and
    ``edge``: the objects whose own pixels reach a cut edge of the window."""

    core: tuple[int, int]
    top: int
    ids: np.ndarray
    margin: int
    left: np.ndarray
    edge: np.ndarray

    def rows(self, first: int, stop: int) -> np.ndarray:
        """The window's ids of rows ``[first, stop)`` (of the image)."""
        return self.ids[first - self.top : stop - self.top]

    @property
    def bottom(self) -> int:
        return self.top + self.ids.shape[0]


def _bands(held, options, band_rows: int, margins: tuple, outside) -> Iterator[_Band]:
    """The bands of :func:`objects_in_bands` in order (``margins``: its margin, widest
    margin and whether to find each band's own): ``band_rows`` tall, or after a band
    whose margin passed the first as tall as that margin (its clumps' neighbours are
    likely as tall)."""
    start, rows, memo = 0, band_rows, SplitMemo()
    while start < held.height:
        core = (start, min(start + rows, held.height))
        band = _band(held, core, options, margins, outside, memo)
        held.drop_before(core[1] - margins[1])  # rows no later window needs
        memo.forget_above(core[1] - margins[1])
        start = core[1]
        rows = max(band_rows, band.margin) if band.margin > margins[0] else band_rows
        yield band


def _band(held, core: tuple[int, int], options, margins: tuple, outside, memo) -> _Band:
    """The :class:`_Band` of ``core`` rows (``margins``: see :func:`_bands`; ``memo``: the
    splits of the windows before, :class:`SplitMemo`)."""
    margin, widest, check = margins
    height = held.height
    margin, capped, looked = (
        _margin_for(held, core, options, margins) if check else (margin, False, None)
    )
    top, bottom = max(core[0] - margin, 0), min(core[1] + margin, height)
    block = held.rows(top, bottom)
    foreground = _foreground(block, options, looked, top)
    cut = None if outside is None else outside(top, bottom)
    memo.top = top
    ids = _window_objects(block, options, cut, (top == 0, bottom == height), memo, foreground)
    none = np.zeros(0, np.int64)
    band = _Band(core, top, ids, margin, none, none)
    if capped:
        cuts = (top > 0, bottom < height)
        rows = (core[0] - top, core[1] - top)
        left = _cut_objects(ids, foreground, rows, cuts)
        band.left = _at_seams(left, ids, rows, (core[0] > 0, core[1] < height))
        edge = distinct(ids[[r for r, c in zip((0, -1), cuts) if c]].ravel())
        band.edge = edge[edge > 0]
    return band


def _window_objects(block, options, cut, image_rows, memo, foreground) -> np.ndarray:
    """:func:`_objects` of a band window's ``block`` of probabilities (``foreground``: its
    :func:`grown_over`), in column blocks where it is wide
    (:func:`~unetlab.inference.column_objects.objects_by_columns`: the same objects, a
    quarter of the memory); ``memo.left``: the block's first column."""

    def find(lo: int, hi: int) -> np.ndarray:
        memo.left = lo
        if (lo, hi) == (0, block.shape[-1]):
            return _objects(block, options, cut, image_rows, memo, foreground)
        part = None if cut is None else cut[:, lo:hi]
        probabilities = np.ascontiguousarray(block[:, :, lo:hi])
        return _objects(probabilities, options, part, image_rows, memo, foreground[:, lo:hi])

    if not in_columns(block.shape[-1]):
        return find(0, block.shape[-1])
    return objects_by_columns(foreground, find)


def _foreground(block: np.ndarray, options, looked: tuple | None, top: int) -> np.ndarray | None:
    """:func:`grown_over` of a band window's ``block`` (from row ``top``): the rows of the
    one :func:`_margin_for` last looked at (``looked``: ``(its first row, its foreground)``,
    which holds the window: each pixel's alone), else made where the window is found in
    column blocks, else None (:func:`_objects` makes it where its mode needs it). Made
    once: a wide window's was made two or three times, and once more by each block."""
    if looked is None:
        return grown_over(block, options) if in_columns(block.shape[-1]) else None
    first, mask = looked
    return mask[top - first : top - first + block.shape[1]]


def _margin_for(held, core: tuple[int, int], options, margins: tuple) -> tuple[int, bool, tuple]:
    """``(margin, capped, looked)``: the least margin whose window holds whole each region
    of the pixels objects grow over (:func:`grown_over`) that reaches into the ``core`` rows,
    looked for in windows of a margin doubled from the first of ``margins`` up to the
    widest; that widest where one is still cut there (``capped``); ``looked``: the first
    row and the foreground of the last window looked at, which holds the margin's."""
    margin, widest, _ = margins
    while True:
        top, bottom = max(core[0] - margin, 0), min(core[1] + margin, held.height)
        mask = grown_over(held.rows(top, bottom), options)
        least = _least_margin(mask, core, top, held.height)
        if least is not None:
            return least, False, (top, mask)
        if margin >= widest:
            return widest, True, (top, mask)
        margin = min(2 * margin + 1, widest)


def _cut_objects(ids, support, core: tuple[int, int], cuts: tuple[bool, bool]) -> np.ndarray:
    """The ids of the objects of the ``core`` rows of a window's ``ids`` that lie in an
    (8-connected) region of ``support`` that reaches the window's cut first or last row
    (``cuts``): those the rows beyond the window may change."""
    edges = [row for row, is_cut in zip((0, support.shape[0] - 1), cuts) if is_cut]
    if not edges or not support[edges].any():
        return np.zeros(0, np.int64)
    regions, _ = ndimage.label(support, np.ones((3, 3), bool))
    reaching = np.unique(regions[edges])
    rows = slice(*core)
    hit = np.isin(regions[rows], reaching[reaching > 0]) & (ids[rows] > 0)
    return np.unique(ids[rows][hit])


def _at_seams(left: np.ndarray, ids: np.ndarray, core: tuple[int, int], seams) -> np.ndarray:
    """Of the objects ``left`` cut (:func:`_cut_objects`), those that cross a seam of the
    window's ``core`` rows: in its first or last row where that is a seam (``seams``: not
    the image's edge); the others are rarely changed by rows beyond the window."""
    rows = [row for row, seam in zip((core[0], core[1] - 1), seams) if seam]
    if not left.size or not rows:
        return left[:0]
    return left[np.isin(left, ids[rows])]


def _least_margin(mask: np.ndarray, core: tuple[int, int], top: int, height: int) -> int | None:
    """The least margin of a window around the ``core`` rows (of an image ``height`` rows
    tall) that holds whole each 8-connected region of ``mask`` (a window of the image from
    row ``top``) reaching into those rows, without touching a cut edge (a first or last row
    that is no image edge: the regions beyond it are unseen); None where one reaches a cut
    edge of ``mask`` itself."""
    regions, _ = ndimage.label(mask, np.ones((3, 3), bool))
    inside = distinct(regions[core[0] - top : core[1] - top].ravel())
    inside = inside[inside > 0]
    if not inside.size:
        return 0
    boxes = ndimage.find_objects(regions)
    first = top + min(boxes[i - 1][0].start for i in inside.tolist())
    last = top + max(boxes[i - 1][0].stop for i in inside.tolist()) - 1
    bottom = top + mask.shape[0]
    if (top > 0 and first == top) or (bottom < height and last == bottom - 1):
        return None
    return max(min(core[0] - first + 1, core[0]), min(last - core[1] + 2, height - core[1]), 0)


class _Joined:
    """The ids of :func:`objects_in_bands`' bands joined across their seams: each band's
    offset past those before, the pairs of a seam merged (:func:`seam_pairs`), and of the
    objects a band left cut at a seam (:attr:`_Band.left`) those that may differ from the
    image read whole: whose own pixels reach a cut edge of their window, or that the two
    windows of the seam give otherwise in the rows both hold (one both give alike, though
    the windows are cut at other rows, is taken as the image's)."""

    def __init__(self):
        self.merger, self.offset = _Merger(), 0
        self.seams: list[tuple[np.ndarray, np.ndarray]] = []  # (left cut, differing) ids

    def add(self, band: _Band) -> None:
        """Give ``band``'s ids past those of the bands before."""
        band.ids = offset_ids(band.ids, self.offset)
        band.left = band.left.astype(np.int64) + self.offset
        band.edge = band.edge.astype(np.int64) + self.offset
        self.offset = max(self.offset, int(band.ids.max(initial=0)))

    def seam(self, upper: _Band, lower: _Band) -> None:
        """Merge the objects of the rows both bands' windows hold (a widened window may
        start above the last) and note, of those at the seam, the ones left cut and the
        ones the two windows give otherwise (or reaching a cut edge of their window)."""
        first, stop = max(upper.top, lower.top), min(upper.bottom, lower.bottom)
        above, below = upper.rows(first, stop), lower.rows(first, stop)
        pairs = seam_pairs(above, below)
        for i, j in pairs:
            self.merger.union(i, j)
        if not (upper.left.size or lower.left.size):
            return
        seam = lower.core[0]
        at = np.concatenate([upper.rows(seam - 1, seam), lower.rows(seam, seam + 1)], axis=None)
        left = np.concatenate([upper.left, lower.left])
        differ = np.concatenate([_unpaired(above, below, pairs), upper.edge, lower.edge])
        self.seams.append((left[np.isin(left, at)], differ[np.isin(differ, at)]))

    def core_ids(self, band: _Band) -> np.ndarray:
        """The ids of ``band``'s core rows, merged with those of the bands before."""
        return self.merger.relabel(band.rows(*band.core))

    def unsure(self) -> int:
        """The objects left cut at a seam that may differ from the image read whole."""
        found: set[int] = set()
        for left, differ in self.seams:
            roots = {self.merger.find(i) for i in differ.tolist()}
            found |= {self.merger.find(i) for i in left.tolist()} & roots
        return len(found)


def offset_ids(ids: np.ndarray, offset: int) -> np.ndarray:
    """``ids`` (non-negative integers) with ``offset`` added to each but 0: int32 where
    the largest then fits (in place where ``ids`` is int32 already), else int64. A band's
    window of a wide slide is millions of pixels: int32 ids hold half the memory of int64
    ones (bench/README.md, "A wide slide's object windows")."""
    top = int(ids.max(initial=0)) + offset
    dtype = np.int32 if top <= np.iinfo(np.int32).max else np.int64
    out = ids if ids.dtype == dtype else ids.astype(dtype)
    if offset:
        out[out > 0] += offset
    return out


def _unpaired(upper: np.ndarray, lower: np.ndarray, pairs: list) -> np.ndarray:
    """The ids of two labellings of the same rows (of one seam) whose pixels there are not
    those of the one object paired with them (:func:`seam_pairs`), or that have no pair."""
    keys = np.array([0] + [i for i, _ in pairs], np.int64)
    values = np.array([0] + [j for _, j in pairs], np.int64)
    order = np.argsort(keys)
    keys, values = keys[order], values[order]
    at = np.minimum(np.searchsorted(keys, upper), len(keys) - 1)
    paired = np.where(keys[at] == upper, values[at], -1)
    wrong = paired != lower
    found = distinct(np.concatenate([upper[wrong], lower[wrong]]))
    return found[found > 0]


class _HeldRows:
    """The rows of an ordered stream of ``(y, (K, rows, W) block)`` kept until dropped:
    :meth:`rows` reads on as far as asked."""

    def __init__(self, blocks: Iterator[tuple[int, np.ndarray]], height: int):
        self.blocks, self.height = blocks, height
        self.held: list[tuple[int, np.ndarray]] = []  # (first row, block)
        self.rows_in = 0
        self.dropped = 0  # the rows before it are dropped

    def rows(self, top: int, bottom: int) -> np.ndarray:
        """Rows ``[top, bottom)``; only a window that spans two blocks is copied. Before
        the next block is made, a block with fewer rows left than dropped is cut to a copy
        of those (:func:`_rows_from`): its source, in a slide a row of tiles' buffer as wide
        as the page, is not held while the next row of tiles is predicted."""
        while self.rows_in < bottom:
            self.held = [_rows_from(y, b, self.dropped) for y, b in self.held]
            y, block = next(self.blocks, (None, None))
            if y is None:
                raise ValueError(f"blocks ended at row {self.rows_in} of {self.height}")
            if y != self.rows_in:
                raise ValueError(
                    f"blocks must arrive in order: expected row {self.rows_in}, got {y}"
                )
            self.held.append((y, np.asarray(block)))
            self.rows_in += block.shape[1]
        return _held_rows(self.held, top, bottom)

    def drop_before(self, row: int) -> None:
        """Forget the blocks that end above ``row``."""
        self.held = [(y, b) for y, b in self.held if y + b.shape[1] > row]
        self.dropped = max(self.dropped, row)


def _rows_from(y: int, block: np.ndarray, row: int) -> tuple[int, np.ndarray]:
    """``(y, block)``, a (K, rows, W) block whose first row is ``y``, from row ``row`` on:
    itself, but a copy of those rows (the same values, in pages of their own where large)
    where they are fewer than half of a block of :data:`~unetlab.runtime.PAGE_ARRAY_BYTES`
    or more, whose buffer (:func:`~unetlab.runtime.page_zeros`) then goes back to the
    system; a smaller one's would go back to the heap only, where a copy gains nothing."""
    kept = y + block.shape[1] - row
    if 2 * kept >= block.shape[1] or block.nbytes < PAGE_ARRAY_BYTES:
        return y, block
    rows = page_zeros((block.shape[0], kept, *block.shape[2:]), block.dtype)
    rows[...] = block[:, row - y :]
    return row, rows


def _held_rows(held: list[tuple[int, np.ndarray]], top: int, bottom: int) -> np.ndarray:
    """Rows ``[top, bottom)`` of the ``(first row, (K, rows, W) block)`` in ``held``."""
    parts = [
        b[:, max(top - y0, 0) : bottom - y0]
        for y0, b in held
        if y0 < bottom and y0 + b.shape[1] > top
    ]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


# --- the array API ---------------------------------------------------------------------


@api_lines()
def predict_objects(
    model,
    image: np.ndarray,
    *,
    min_area: int | None = None,
    seed_threshold: float | None = None,
    foreground_threshold: float | None = None,
    distance_split: bool | None = None,
    split_interior: bool | None = None,
    watershed_seeds: float | None = None,
    split_necks: bool | None = None,
    object_options: ObjectOptions | None = None,
    pixel_size: float | tuple[float, float] | None = None,
    objects_3d: bool = False,
    z_spacing: float | None = None,
    **predict_options,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Objects of one image: ``(ids, table)``; with ``objects_3d``, of a z-stack array in 3-D.

    ``image``: (H, W) or (H, W, C) (a path is refused: ``unetlab.read_image`` it first),
    predicted tiled by :func:`unetlab.inference.predict.predict_image` (``predict_options``
    such as ``tile_size``, ``tta``, ``scale`` go to it). ``ids``: (H, W) uint16 ids 1..n
    (uint32 past 65,535), 0 = background; ``table``: ``<stem>_objects.csv``'s columns but the
    file's name (:func:`object_table` with the image's raw values, ``_um`` columns for a
    ``pixel_size``: µm per pixel, one number or (y, x); ``saturated_fraction`` if integer).
    ``min_area`` .. ``split_necks``: the :class:`ObjectOptions` fields (``--min-area`` ..
    ``--split-necks``); those left None come from ``object_options`` (all at once, as
    ``evaluate_model`` takes it), by default :meth:`ObjectOptions.for_model`. ``objects_3d``:
    ``image`` is a (Z, Y, X[, C]) stack, ``(ids, table)`` what ``predict_file(...,
    objects_3d=True)`` writes (one row per 3-D object; ``z_spacing``: µm between planes);
    of an (H, W) image, its 2-D objects, said (as of a 2-D file)."""
    fields = dict(
        min_area=min_area,
        seed_threshold=seed_threshold,
        foreground_threshold=foreground_threshold,
        distance_split=distance_split,
        split_interior=split_interior,
        watershed_seeds=watershed_seeds,
        split_necks=split_necks,
    )
    options = _chosen_options(model, object_options, predict_options, fields)
    options = _at_scale(model, options, predict_options.get("scale", 1))
    if _in_3d(objects_3d, z_spacing) and _has_planes(image):
        sizes = dict(pixel_size=pixel_size, z_spacing=z_spacing)
        ids, table = _objects_in_3d(model, image, options, sizes, predict_options)
    else:
        ids, table = _plane_objects(model, image, options, pixel_size, predict_options)
    say_units(table)  # once in a loop over images of one kind
    return ids, table


def _plane_objects(model, image, options, pixel_size, predict_options: dict):
    """:func:`predict_objects` of one plane: its ids (least dtype) and table."""
    probabilities, image = _predicted_plane(model, image, predict_options)
    ids = objects_from_probabilities(probabilities, options)
    return ids, _objects_table(model, options, probabilities, ids, np.asarray(image), pixel_size)


def _predicted_plane(model, image, predict_options: dict) -> tuple[np.ndarray, np.ndarray]:
    """(:func:`predict_image`'s probabilities, ``image`` as it takes it) of
    :func:`predict_objects`; a stack (a movie) refused naming this call's loop over its
    frames, not predict_image's (:data:`~unetlab.inference.predict.PLANE_CALLS`)."""
    name = predict_options.get("name", "image")
    image = as_image(image, name, call="predict_objects")
    refuse_planes(image, model.in_channels, name, call="predict_objects")
    return predict_image(model, image, **predict_options), image


def _objects_table(model, options, probabilities, ids, image: np.ndarray, pixel_size) -> dict:
    """:func:`predict_objects`' table of the ``ids`` found with ``options`` in ``image``'s
    ``probabilities``: ``<stem>_objects.csv``'s columns but the file's name (its class
    columns: :func:`measured_classes`; ``saturated_fraction`` of an integer image)."""
    labels = labels_from_probabilities(probabilities)
    kinds = measured_classes(model, options, labels)
    table = measure_objects(ids, image, pixel_size, **kinds)  # saturated_fraction with it
    return flag_touching(table, ids, no_class_pixels(labels, options))  # cut beside them


def _at_scale(model, options: ObjectOptions, scale) -> ObjectOptions:
    """``options`` for :func:`predict_objects` at ``scale`` (``predict_image``'s): the
    checkpoint's default least areas in the image's px (:func:`defaults_at_scale`), as
    ``predict --scale`` finds them; a bad factor or 'auto' left for ``predict_image``'s line."""
    if isinstance(scale, numbers.Real) and not isinstance(scale, bool) and scale > 0:
        return defaults_at_scale(model, options, float(scale))
    return options


def _in_3d(objects_3d, z_spacing) -> bool:
    """Whether :func:`predict_objects` joins a stack's objects in 3-D (``objects_3d``, True or
    False: 'no' would); a ``z_spacing`` without it is one line saying where it belongs."""
    if not isinstance(objects_3d, bool | np.bool_):
        raise UnetlabError(f"objects_3d is True or False, not {objects_3d!r}")
    if z_spacing is not None and not objects_3d:
        raise UnetlabError(unknown_setting("z_spacing", []))
    return bool(objects_3d)


def _objects_in_3d(model, stack, options: ObjectOptions, sizes: dict, predict_options: dict):
    """:func:`predict_objects` of a stack with ``objects_3d``: its planes' objects joined
    (:func:`~unetlab.inference.objects_3d.predict_objects_3d`, a module below this one)."""
    from unetlab.inference.objects_3d import predict_objects_3d

    return predict_objects_3d(model, stack, options, **sizes, **predict_options)


def _has_planes(image) -> bool:
    """Whether :func:`predict_objects` with ``objects_3d`` joins the planes of ``image``: not
    of a 2-D (H, W) array, whose 2-D objects it gives, said in one line, as ``predict_file``
    and ``predict --objects-3d`` give a 2-D file's
    (:func:`~unetlab.inference.objects_3d.say_flat`)."""
    if np.ndim(image) != 2:
        return True
    log.info(
        "objects_3d=True joined no planes: the image %s has no Z axis; its 2-D objects, as "
        "without it",
        tuple(np.shape(image)),
    )
    return False


def refuse_object_fields(settings: Mapping, function: str, own=None, passed=()) -> None:
    """One line (UnetlabError) for :class:`ObjectOptions` fields among the keyword
    ``settings`` of ``function`` (``predict_objects``, ``evaluate_model``), which take them in
    ``object_options=``: ``min_peak=0.5`` was 'unknown prediction setting min_peak'; and,
    given the function ``own`` (its keywords), for a keyword that is neither one of them nor
    a prediction setting (nor one of ``passed`` on), the closest of both named
    (``ignore_valu=``: 'unknown prediction setting', naming the settings alone)."""
    stray = sorted(set(settings) & set(USER_FIELDS))
    if stray:
        raise UnetlabError(
            f"{', '.join(stray)}: an ObjectOptions field that {function} takes in "
            "object_options=dataclasses.replace(ObjectOptions.for_model(model), "
            f"{stray[0]}=...)"
        )
    fields = list(PredictOptions.__dataclass_fields__)
    unknown = [k for k in settings if k not in fields and k not in passed]
    if own is None or not unknown:
        return
    keywords = [n for n, p in inspect.signature(own).parameters.items() if p.default is not p.empty]
    hint = did_you_mean(unknown[0], [*keywords, *fields])
    raise UnetlabError(
        f"{function} has no keyword {unknown[0]}: {hint}its keywords are {', '.join(keywords)}, "
        f"and the prediction settings {', '.join(fields)}"
    )


#: predict_image's keywords beside the prediction settings, which predict_objects passes on
_IMAGE_KEYWORDS = ("options", "progress", "name", "invalid")


def _chosen_options(model, given: ObjectOptions | None, others: Mapping, fields) -> ObjectOptions:
    """``predict_objects``' options: ``given`` (default the model's) with the ``fields``
    that are not None; an :class:`ObjectOptions` field among the ``others`` (that go to
    ``predict_image``) is one line naming ``object_options``."""
    refuse_object_fields(others, "predict_objects", predict_objects, _IMAGE_KEYWORDS)
    if given is None:
        return ObjectOptions.for_model(model, **fields)
    if not isinstance(given, ObjectOptions):
        raise UnetlabError(f"object_options is an ObjectOptions, not {type(given).__name__}")
    check_object_values(**fields)
    return given_fields(given, **fields)


def measured_classes(model, options: ObjectOptions, labels: np.ndarray) -> dict:
    """:func:`unetlab.inference.measure.object_table`'s class keywords for objects found with
    ``options`` in ``labels`` (the model's class indices): the labels (their pixels of no
    class no vote: :func:`voting_labels`), the model's class names and background, for the
    ``class`` and ``class_name`` columns of the objects of a semantic model of 3 classes or
    more (grains and pores; background, cell and an ignored void too, as before it was no
    class: a script reads them, review s69); none for an instance model or a two-class model
    (their tables as before)."""
    classes = getattr(model, "num_classes", 2)
    if options.mode != "semantic" or classes < 3:
        return {}
    names = class_names_of(model)
    labels = voting_labels(labels, options, classes)
    return {"classes": labels, "class_names": names or None, "background": options.background}


def several_object_classes(model, options: ObjectOptions) -> bool:
    """Whether the objects found with ``options`` are of several classes, which 3-D objects
    refuse: a semantic model's of 2 classes or more but its background and those of
    ``options.no_class``, which make no object (review s69: bg / cell / void was refused,
    its objects all cells; s70: "0", "1", "2" ignoring class 0, no background, was not,
    its objects of classes 1 and 2 joined)."""
    return options.mode == "semantic" and len(object_class_indices(model, options)) >= 2


def object_class_indices(model, options: ObjectOptions) -> list[int]:
    """The class indices of ``model`` whose pixels make objects with ``options``: all but
    its ``background`` and those of ``options.no_class``."""
    no_object = set(options.no_class) | ({options.background} - {None})
    classes = max(getattr(model, "num_classes", 2), 2)  # a sigmoid net's (1 output): 2
    return [k for k in range(classes) if k not in no_object]
