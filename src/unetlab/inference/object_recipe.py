"""How unetlab makes objects of an instance model's probabilities, in plain words with the
model's own values: the recipe a bioimage.io package's README gives the tools (deepImageJ,
QuPath, bioimageio.core) that run its net and get only the background / boundary / interior
maps.

The words follow :func:`unetlab.inference.objects.objects_from_probabilities` with the
options :meth:`~unetlab.inference.objects.ObjectOptions.for_model` gives the model (the
checkpoint's record of its training objects); the numbers are read from them and from the
module's constants, so the recipe changes with the code.
"""

from __future__ import annotations

import numpy as np

from unetlab.inference.objects import (
    MIN_AREA_FRACTION,
    SPLIT_DEPTH,
    SPLIT_MIN_DEPTH,
    SPLIT_SMOOTH,
    ObjectOptions,
    cut_least,
)


def is_instance_model(model) -> bool:
    """Whether ``model`` is a background / boundary / interior (instance) model, by its
    checkpoint's object record."""
    return ((getattr(model, "objects", None) or {}).get("target")) == "instances"


def object_recipe(model) -> list[str]:
    """Markdown lines (a "## Objects" section) saying how unetlab turns ``model``'s three
    probability maps into objects, with its thresholds, seed and least areas; [] for a model
    that is not an instance model (:func:`is_instance_model`)."""
    if not is_instance_model(model):
        return []
    return [
        "## Objects",
        "",
        "The net gives three probability maps (background, boundary, interior), not objects. "
        "unetlab (`unetlab predict --instances`) makes objects (one id each) of them so, "
        "at the pixel size the model trained at:",
        "",
        *(f"{i}. {step}" for i, step in enumerate(_steps(model), 1)),
        "",
        "For the same objects from this package: `unetlab predict --checkpoint <this package> "
        "--input IMAGES --output OUT --instances` (`--outlines geojson` for QuPath's File > "
        "Import objects, `--outlines imagej` for Fiji's ROI Manager).",
        "",
    ]


def _steps(model) -> list[str]:
    """The recipe's numbered steps, in the order
    :func:`~unetlab.inference.objects.objects_from_probabilities` takes them."""
    o = ObjectOptions.for_model(model)
    steps = [
        f"Foreground: the pixels where 1 - P(background) >= {o.foreground_threshold:g}.",
        f"Seeds: the 4-connected regions of foreground pixels with P(interior) >= "
        f"{o.seed_threshold:g}; a seed under {o.min_seed_area} px is noise, no seed.",
        "Objects: a seeded watershed on -P(interior) grows each seed over the foreground "
        "(one object per seed); a foreground region without a seed is an object of its own.",
    ]
    if o.fill_holes:
        steps.append("Holes: background that one object encloses joins it.")
    if o.distance_split:
        steps.append(_split_step(o))
    if o.split_necks:
        steps.append(
            "Necks: each object splits once more where two round parts meet at a neck of at "
            "most 0.9 x the smaller part's largest distance to the outline."
        )
    steps.append(_size_step(o, _least_source(model)))
    if o.min_peak > 0:
        steps.append(
            f"Faint objects: an object whose P(interior) stays under {o.min_peak:g} at every "
            "pixel is dropped, its pixels background."
        )
    return steps


def _split_step(o: ObjectOptions) -> str:
    """The distance split of merged objects, with its smoothing and depth."""
    weight = " times P(interior)" if o.split_interior else ""
    return (
        f"Split: each object's distance to its outline{weight}, smoothed (Gaussian, sigma "
        f"{SPLIT_SMOOTH:g} px), splits it by a watershed at its maxima that rise at least "
        f"{SPLIT_DEPTH:g} x the object's largest distance (at least {SPLIT_MIN_DEPTH:g} px) "
        "above the saddle towards a higher one (touching nuclei the net merged)."
    )


def _least_source(model) -> str:
    """Where the least object area comes from: the checkpoint's training objects, or the
    default where it records none."""
    p05 = (model.objects or {}).get("area_p05")
    if p05 and (model.objects or {}).get("count"):
        return (
            f"{MIN_AREA_FRACTION:g} of the 5th percentile of the training objects' areas, "
            f"{float(p05):g} px"
        )
    return "unetlab's default: the checkpoint records no object sizes"


def _size_step(o: ObjectOptions, least: str) -> str:
    """The size rule: the least area, and the smaller one of an object the edge cuts."""
    cut = int(cut_least(np.array([o.min_area]), np.array([True]))[0])
    edge = (
        f"; an object the image's edge, nodata or a data bar cuts (a piece of one) only under {cut} px."
        if cut < o.min_area
        else "."
    )
    return (
        f"Size: objects under {o.min_area} px ({least}) are dropped, their pixels background{edge}"
    )
