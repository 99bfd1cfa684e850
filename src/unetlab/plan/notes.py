"""Facts of the data that no setting answers, logged as warnings: classes in too few images
(:func:`rare_classes`) or in no validation image (:func:`unvalidated_classes`)."""

from __future__ import annotations

from collections.abc import Callable, Collection

from unetlab.data.datasets import split_move
from unetlab.data.fingerprint import Fingerprint
from unetlab.data.shown import shown_path

RARE_IMAGES = 3  # a class in fewer images than this is too rare to learn and to validate


def rare_classes(
    fp: Fingerprint,
    val: set[str],
    *,
    names: dict[int, str] | None = None,
    total: int = 0,
    skip: Collection[int] = (),
) -> list[str]:
    """A line for each class (mask value) in fewer than ``RARE_IMAGES`` of the measured
    images, saying in how many training and validation images it is (``val``: the
    validation pairs' ``mask_page``); ``total``: the data set's pairs, when the fingerprint
    measured only some of them; ``skip``: values another note speaks of (in no validation
    image). A class in validation images only is left to training's line as it loads every
    mask (``unetlab.train.setup``: "... in no training mask: the net cannot learn it"; both
    said it, audit s50 roads). Not for instance masks (an id is in one image by nature)."""
    if fp.instances:
        return []
    found: dict[int, list[bool]] = {}
    for p in fp.pairs:
        for value in p.values:
            found.setdefault(value, []).append(p.name in val)
    measured = len(fp.pairs)
    of = f" of the {measured} measured (of {total})" if total > measured else ""
    training = any(p.name not in val for p in fp.pairs)
    lines = []
    for value, in_val in sorted(found.items()):
        n, held = len(in_val), sum(in_val)
        unlearnt = training and held == n  # in validation images only: training says it
        if n >= min(RARE_IMAGES, measured) or unlearnt or value in skip:
            continue
        lines.append(
            f"mask value {_shown([value], names)} is in {n} image{'s' if n > 1 else ''}{of}: "
            f"{n - held} for training, {held} for validation; more examples of it would help"
        )
    return lines


SEEDS_TRIED = 20  # data.seed values after the user's tried for a split that validates every class


def unvalidated_classes(
    fp: Fingerprint,
    val: set[str],
    *,
    names: dict[int, str] | None = None,
    seed_for: Callable[[set[int]], int | None] | None = None,
    total: int = 0,
    split: str | None = None,
) -> list[str]:
    """One line naming the classes (mask values) found in no validation image (``val``: the
    validation pairs' ``mask_page``) and what that means for ``best.pt``, with a
    ``data.seed`` that puts them in (``seed_for(values)``: one, or None). An audit's split
    of 4 images held out one without the rare class: its val IoU was 0 at every validation,
    val mIoU capped at 2/3, and best.pt chosen for never predicting it. A class in one
    image only (of all ``total`` pairs measured) gets no seed nor move: training needs that
    image (audit s50 road scenes: person in one file, "data.seed=10 puts it in validation",
    and that seed's check said "in no training image: the net cannot learn it"). ``split``
    (:func:`~unetlab.data.datasets.split_kind`; None: not known) chooses the move that fits
    the split. None for instance masks or without measured validation images."""
    missing = unvalidated_values(fp, val)
    if not missing:
        return []
    held = [p for p in fp.pairs if p.name in val]
    shown = _shown(missing, names)
    pixels = sum(sum(p.counts) for p in held)
    few = "; one image: a noisy score" if len(held) == 1 else ""
    single = _in_one_image(fp, missing, total)
    movable = [v for v in missing if v not in single]
    fixes = [_split_fix(fp, val, movable, seed_for, names, split)] if movable else []
    fixes += [_one_image_fix(fp, single, names)] if single else []
    fix = "; ".join(fixes)
    return [
        f"mask value{'s' if len(missing) > 1 else ''} {shown} in no validation image "
        f"({len(held)} image{'s' if len(held) > 1 else ''}, {pixels:,} labelled px{few}): "
        "its val IoU is 0 once the net predicts it, so best.pt is chosen by the other "
        f"classes and favours a net that never predicts it; {fix}"
    ]


def _shown(values: list[int], names: dict[int, str] | None) -> str:
    """``values`` as the notes name them: "2 (person), 3"."""
    return ", ".join(f"{v} ({names[v]})" if names and v in names else str(v) for v in values)


def _split_fix(
    fp: Fingerprint, val: set[str], missing: list[int], seed_for, names, split: str | None
) -> str:
    """A ``data.seed`` that puts ``missing`` in validation, named (another part of the line
    may name other values: "data.seed=2 puts it in validation; it is in one image only"
    read as one class, review s50), else :func:`_move_fix`."""
    seed = seed_for(set(missing)) if seed_for else None
    if seed is None:
        return _move_fix(fp, val, missing, split)
    return f"data.seed={seed} puts {_shown(missing, names)} in validation"


def _in_one_image(fp: Fingerprint, values: list[int], total: int) -> list[int]:
    """The ``values`` found in one image only, where every one of the ``total`` pairs was
    measured (else none: another image may hold them)."""
    if total > len(fp.pairs):
        return []
    return [v for v in values if sum(v in p.values for p in fp.pairs) == 1]


def _one_image_fix(fp: Fingerprint, single: list[int], names: dict[int, str] | None) -> str:
    """What to do about classes (``single``) that one image alone holds, naming them and
    one such image by its file name."""
    holder = shown_path(next(p.name for p in fp.pairs if single[0] in p.values))
    shown = _shown(single, names)
    if len(single) == 1:
        who, where, it = f"{shown} is", f"in one image only ({holder})", "it"
    else:
        who, where, it = f"{shown} are", f"each in one image only (such as {holder})", "them"
    return (
        f"{who} {where}, which training needs: no split both learns and validates {it}; "
        f"label {it} in more images and put one of them among the validation images"
    )


def _move_fix(fp: Fingerprint, val: set[str], missing: list[int], split: str | None) -> str:
    """The fix where no ``data.seed`` helps: a fixed split (train/ and val/ folders, VOC's
    lists), whose ``data.val_fraction`` changes nothing (audit s43 scenes: it was the fix
    given for a val/ folder), or a random one no tried seed fixes: a training mask that
    holds the first of ``missing``, to move as the ``split`` allows
    (:func:`~unetlab.data.datasets.split_move`)."""
    holder = next((p.name for p in fp.pairs if p.name not in val and missing[0] in p.values), "")
    such = f" (such as {holder})" if holder else ""
    return f"move an image with it{such} {split_move(split, 'val')}"


def unvalidated_values(fp: Fingerprint, val: set[str]) -> list[int]:
    """The mask values found in none of the measured validation pairs (``val``: their
    ``mask_page``); [] for instance masks or without measured validation pairs."""
    held = [p for p in fp.pairs if p.name in val]
    if fp.instances or not held:
        return []
    return sorted({v for p in fp.pairs for v in p.values} - {v for p in held for v in p.values})


def seed_holding(d, fp: Fingerprint, values: set[int], val: set[str]) -> int | None:
    """The first ``data.seed`` after ``d.seed`` whose random split validates on an image of
    each of ``values`` and still trains on every value the training images hold now (``val``:
    today's validation pairs' ``mask_page``), or None (no such seed in ``SEEDS_TRIED``, or a
    fixed split). Review s50: a seed that put 3 in validation moved 2's only image there."""
    from unetlab.data.datasets import seeded_val_splits

    found = {p.name: set(p.values) for p in fp.pairs}
    trained = _values_of(found, set(found) - val)
    seeds = range(d.seed + 1, d.seed + 1 + SEEDS_TRIED)
    for seed, held in seeded_val_splits(
        d.root, val_fraction=d.val_fraction, seeds=seeds, axes=d.axes, ctc_truth=d.ctc_truth
    ):
        held_out = {p.mask_page for p in held}
        kept = _values_of(found, set(found) - held_out)
        if values <= _values_of(found, held_out) and trained <= kept:
            return seed
    return None


def _values_of(found: dict[str, set[int]], names: set[str]) -> set[int]:
    """The values that the pairs named ``names`` hold (``found``: each pair's values)."""
    return set().union(*(found.get(name, set()) for name in names))


def merged_note(fp: Fingerprint) -> str | None:
    """The line for semantic masks where enough of the objects look like several touching
    ones drawn as one (:meth:`Fingerprint.masks_look_merged`: 0/255 nuclei masks): the plan
    counts them as one, so does training, and the fix."""
    if not fp.masks_look_merged():
        return None
    share, n = fp.merged_fraction(), fp.counted_objects()
    return (
        f"{share:.0%} of the {n} objects of the masks look like several touching objects drawn "
        "as one (larger than most and not convex): a mask with one value for every object "
        "cannot keep touching objects apart, so they are counted and learnt as one; give "
        "instance masks (object ids: one value per object), or split the predicted objects "
        "with predict --instances --distance-split"
    )
