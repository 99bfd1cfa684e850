"""Predicting an image at another scale than its own (``scale=``, ``--scale``; Cellpose's
diameter): the image is resampled by the factor (linear; > 1 enlarges) before the net and
the class probabilities are resampled back to the image's own shape (linear) before labels,
objects and outputs, so every output and µm measurement stays in the input's pixels (audit
s39 audit2: nuclei at half the training size, object F1 0.59 -> 0.48, 31% fewer found).
``"auto"``: the file's pixel size over the training images' the checkpoint records."""

from __future__ import annotations

import functools
import logging
import math

import numpy as np

from unetlab.data.read_notes import note_once
from unetlab.data.tiffmeta import PIXEL_SIZE_UM
from unetlab.deferred import deferred
from unetlab.errors import Spelled, UnetlabError, said_as, spelled
from unetlab.inference.sizing import (
    AUTO,
    SCALE,
    SCALE_NAMED,
    STREAMED_SCALE_FIXES,
    said_in,
    trained_pixel_size,
)

transform = deferred("skimage.transform")

log = logging.getLogger(__name__)

#: the largest factor either way: past it an image is a few pixels or a hundred times larger
SCALE_LIMIT = 16.0

#: a factor, and the setting, as the API and the command give them (a notebook was told
#: "scale (--scale)", both inline, s56 fixI)
FACTOR = Spelled("scale=F", "--scale F")


def check_scale(value) -> float | str:
    """``value`` as a factor (a float in [1/16, 16]) or ``"auto"``; UnetlabError otherwise."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        factor = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        factor = None
    if factor is None or not 1 / SCALE_LIMIT <= factor <= SCALE_LIMIT:

        def line(named: str, auto: str) -> str:
            return (
                f"{named} must be a factor from 1/{SCALE_LIMIT:g} to {SCALE_LIMIT:g} (2: "
                "objects half the training size; Cellpose's diameter D: training diameter / "
                f"D) or {auto}, not {value!r}"
            )

        raise UnetlabError(**spelled(line, SCALE_NAMED, Spelled("'auto'", "auto")))
    return factor


def scaled_shape(shape: tuple[int, ...], factor: float) -> tuple[int, int]:
    """The (H, W) of an image of ``shape`` resampled by ``factor`` (at least 1 px a side)."""
    return max(1, round(shape[0] * factor)), max(1, round(shape[1] * factor))


def rescaled(image: np.ndarray, factor: float) -> np.ndarray:
    """An (H, W, C) ``image`` resampled by ``factor`` (linear), as float32; as it is at 1.
    Shrunk (< 1) after a Gaussian of sigma (1/factor - 1)/2 (skimage's anti-aliasing): a
    linear sample of every 4th pixel keeps the camera's noise, which the net reads as texture
    (12 Kromp test crops upscaled 4x with noise, --scale 0.25: object F1 0.67 -> 0.73, 92 ->
    104 of 151 nuclei; 2x: 0.65 -> 0.66; +0.13 s for a 2048² image at 0.5)."""
    if factor == 1:
        return image
    shape = (*scaled_shape(image.shape, factor), *image.shape[2:])
    smooth = factor < 1
    out = transform.resize(
        image.astype(np.float32), shape, order=1, preserve_range=True, anti_aliasing=smooth
    )
    return out.astype(np.float32, copy=False)


def restored(probabilities: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(K, h, w) ``probabilities`` resampled (linear) back to the image's (H, W) ``shape``."""
    if probabilities.shape[1:] == tuple(shape):
        return probabilities
    out = transform.resize(
        probabilities,
        (probabilities.shape[0], *shape),
        order=1,
        preserve_range=True,
        anti_aliasing=False,
    )
    return out.astype(np.float32, copy=False)


def auto_scale(trained: float | None, side: float | None, name: str, unit: str = "um") -> float:
    """``--scale auto``'s factor for an image of ``side`` µm pixels and a model trained on
    ``trained`` µm ones, said in one line (in ``unit``: a NIfTI volume's mm); 1 where either
    is unknown, said too."""
    if trained is None:  # the checkpoint's, not the image's: said once, not once a file
        note_once(_untrained_line(name), key="scale auto, no training pixel size")
        return 1.0
    if side is None or side <= 0:
        which = f"it records no pixel size (give {said_as(PIXEL_SIZE_UM)})"
        log.warning("%s: %s: %s: predicted at its own scale (1)", name, said_as(AUTO), which)
        return 1.0
    factor = side / trained
    said = "%s: %s: %s pixels, trained on %s: scaled %.3g"
    log.info(said, name, said_as(AUTO), said_in(side, unit), said_in(trained, unit), factor)
    return factor


def _untrained_line(first: str) -> str:
    """The line of ``--scale auto`` with a checkpoint that records no training pixel size,
    said once a command from its ``first`` input (a folder's was said once a file, each
    "predicted at its own scale": s54 new user)."""
    return (
        f"{said_as(AUTO)}: the checkpoint records no training pixel size (its training images "
        f"recorded none), so no input is resampled (first: {first}): give a factor "
        f"({said_as(FACTOR)}), or train on images that record their pixel size"
    )


def refuse_streamed_scale(name: str, scale: float | str) -> None:
    """UnetlabError where a ``scale`` other than 1 is given for ``name``, a large image read
    window by window (:func:`~unetlab.inference.slides.predict_slide`), naming the ways."""
    if scale != 1:
        said = "{}: {} resamples images read whole, not a large image read window by window: {}"
        raise UnetlabError(
            **spelled(functools.partial(said.format, name), SCALE, STREAMED_SCALE_FIXES)
        )


def trained_diameter(model) -> float | None:
    """The diameter in px of a disc of the training objects' median area (the checkpoint's
    ``objects["area_median"]``), else None: Cellpose's diameter of the training images."""
    area = (getattr(model, "objects", None) or {}).get("area_median")
    return 2 * math.sqrt(float(area) / math.pi) if area else None


def scale_note(model, scale) -> list[str]:
    """The line said once where ``scale`` (``--scale``) is given: the factor and the training
    objects' diameter, which turns Cellpose's diameter D into a factor."""
    if scale is None or check_scale(scale) == 1:  # --scale 1: as it is
        return []
    across = trained_diameter(model)
    cellpose = Spelled(f"scale={across:.0f}/D", f"--scale {across:.0f}/D") if across else None
    objects = (
        f"the training objects are ~{across:.0f} px across (median area "
        f"{model.objects['area_median']:.0f} px): Cellpose's diameter D is {said_as(cellpose)}"
        if across
        else ""
    )
    if scale == "auto" and trained_pixel_size(model) is None:  # "resampled by" misled (s54)
        return [objects] if objects else []  # the first input's line says why none is scaled
    size = f"; {objects}" if objects else ""
    how = "each image's pixel size / the training pixel size" if scale == "auto" else scale
    return [f"images resampled by {how} before the net, probabilities back to each image{size}"]
