"""Augmentation: elastic deformation for few images, brightness and contrast by the
images' spread, flips and turns unless the images have an up, stain jitter for colour
pictures."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from unetlab.data.fingerprint import Fingerprint
from unetlab.errors import said_as, set_all, set_to
from unetlab.plan.normalization import bright_field
from unetlab.plan.record import Choice
from unetlab.words import numbered

FEW_IMAGES = 10  # fewer training images than this: elastic deformation (the paper's reason)

# up/down layout dependence (fingerprint.layout_dependence) above which the data has an up:
# road scenes measure 0.85-0.88, microscopy 0.003-0.06, a 3-image microscopy subset at most
# 0.25 and one 128 px nuclei image 0.34 (bench/README.md, the plan and the layout)
UP_DOWN_LAYOUT = 0.4
# ... measured on at least this many images: 3-image microscopy subsets reach 0.25 by chance
LAYOUT_IMAGES = 4
#: the planned stain jitter of 8-bit colour images (augment.stain): each stain scaled by up
#: to 20% and shifted by up to 0.2 std (Tellez et al. 2019's "HED-strong" uses 0.2 alike)
STAIN = 0.2


def plan_augment(
    fp: Fingerprint, training: int | None = None, held_out: Collection[str] = ()
) -> list[Choice]:
    """Elastic deformation for fewer than ``FEW_IMAGES`` training images (``training``: how
    many of ``fp``'s pairs train, the others validate; None: all of them); brightness/contrast
    0.2 where the images' median grey levels vary by more than a tenth of their range, else
    0.1; upside-down flips and quarter turns unless the classes' layout has an up
    (:func:`plan_orientation`); stain jitter by the training images, ``held_out`` (the
    validation pairs' names) left out (:func:`plan_stain`)."""
    n = len(fp.pairs) if training is None else training
    few = n < FEW_IMAGES
    elastic = Choice(
        "augment.elastic",
        few,
        f"{n} {'images' if training is None else 'training images'}: "
        + (
            "few, so elastic deformation (the paper)"
            if few
            else "enough without elastic deformation (slow on a CPU)"
        ),
    )
    medians = np.array(
        [(p.median[0] - p.low[0]) / max(p.high[0] - p.low[0], 1e-9) for p in fp.pairs]
    )
    spread = float(medians.std())
    strength = 0.2 if spread > 0.1 else 0.1
    why = f"the images' median grey level varies by {spread:.2f} of their range"
    return [
        elastic,
        *plan_orientation(fp),
        Choice("augment.brightness", strength, why),
        Choice("augment.contrast", strength, why),
        plan_stain(fp, held_out),
    ]


def plan_stain(fp: Fingerprint, held_out: Collection[str] = ()) -> Choice:
    """``augment.stain`` ``STAIN`` for 8-bit colour bright-field images, most of them (as
    :func:`unetlab.plan.normalization.bright_field` reads them: H&E, IHC, whose colours change
    from one stain batch, scanner or lab to the next), else 0: grey images, other channel
    counts, 16-bit and fluorescence-like images (their channels are separate stains, not mixed
    colours) and colour photographs (no stains; their colour changes are not measured).
    Counted over the training images, ``held_out`` (the validation pairs' names) left out,
    as the line says (review s67: "8 8-bit colour images" of 5 training, 3 validation)."""
    training = fp.training(held_out)
    images = "training images" if training is not fp else "images"
    n = len(training.pairs)
    rgb = [p for p in training.pairs if p.channels == 3 and p.dtype == "uint8" and not _dark(p)]
    bright = bright_field(training)
    if len(rgb) == n and len(bright) > n / 2:
        why = (
            f"bright-field colour: {len(bright)} of {n} 8-bit colour {images} are bright on a "
            "near-white background: stains vary by batch, scanner and lab: each tile's "
            f"haematoxylin, eosin and DAB varied by up to {STAIN:g} (augment.stain=0: off)"
        )
        return Choice("augment.stain", STAIN, why)
    if len(rgb) == n:
        kind = f"{n} 8-bit colour {images}, not bright-field (photographs: no stains)"
    else:
        kind = (
            f"{n - len(rgb)} of {n} {images} are not 8-bit RGB colour (grey, 16-bit, fluorescence)"
        )
    return Choice("augment.stain", 0.0, f"{kind}: no stain jitter")


def _dark(p) -> bool:
    """Fluorescence-like: every channel's median in the lowest fifth of its range (as
    :func:`unetlab.plan.normalization.plan_normalization` reads it)."""
    return all((m - lo) < 0.2 * (hi - lo) for lo, m, hi in zip(p.low, p.median, p.high))


#: the settings that keep an up, as the caller sets them (:func:`said_as`: plan_training in a
#: notebook was told the command line's ``augment.vflip=false augment.rot90=false``, s53; the
#: command line got no --set, s54)
KEEP_UP = set_all([set_to("augment.vflip", False), set_to("augment.rot90", False)])


def plan_orientation(fp: Fingerprint) -> list[Choice]:
    """``augment.vflip`` and ``augment.rot90`` off when the classes lie apart above and
    below the middle of the masks (up/down layout over ``UP_DOWN_LAYOUT``: sky above, road
    below), so that the net is not taught upside-down and turned layouts it will never see;
    on where the layout has no up (microscopy), and on fewer than ``LAYOUT_IMAGES`` images,
    whose layout chance decides. Horizontal flips stay either way."""
    up, n = fp.layout()[0], len(fp.pairs)
    if up > UP_DOWN_LAYOUT and n < LAYOUT_IMAGES:
        why = (
            f"up/down layout {up:.2f} > {UP_DOWN_LAYOUT:g}, but on {numbered(n, 'image')}, too few to "
            f"tell an up from chance (at least {LAYOUT_IMAGES}): flips both ways and quarter "
            f"turns (for images with an up: {said_as(KEEP_UP)})"
        )
        return [Choice("augment.vflip", True, why), Choice("augment.rot90", True, why)]
    if up > UP_DOWN_LAYOUT:
        why = (
            f"the classes lie apart above and below the middle (up/down layout {up:.2f} > "
            f"{UP_DOWN_LAYOUT:g}: the images have an up): no upside-down flips or quarter "
            "turns, left-right flips kept"
        )
        return [
            Choice("augment.vflip", False, why),
            Choice("augment.rot90", False, why),
        ]
    why = (
        f"the classes lie alike above and below the middle (up/down layout {up:.2f} <= "
        f"{UP_DOWN_LAYOUT:g}): flips both ways and quarter turns"
    )
    return [Choice("augment.vflip", True, why), Choice("augment.rot90", True, why)]
