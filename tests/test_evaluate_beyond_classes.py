"""Masks read as class indices holding more values beyond the predicted classes than there
are predicted classes are said in one line naming the file and the values: a 16-bit mask of
12 object ids beside 2-class predictions was scored as 13 classes unsaid (s62)."""

from __future__ import annotations

import logging
from functools import partial

import numpy as np

from unetlab.cli import main
from unetlab.data.io import write_png, write_tiff
from unetlab.evaluate import evaluate_predictions

BEYOND = "are no class of the predictions"


def _ids(objects: int) -> np.ndarray:
    """A 16-bit mask of ``objects`` object ids, each one square."""
    mask = np.zeros((40, 10 * objects + 10), np.uint16)
    for i in range(1, objects + 1):
        mask[5:15, i * 9 : i * 9 + 6] = i
    return mask


def _said(caplog, phrase: str, run) -> tuple:
    """(``run()``, the WARNING lines holding ``phrase`` it logged)."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        result = run()
    return result, [r.getMessage() for r in caplog.records if phrase in r.getMessage()]


def _command(tmp_path, pred: str = "pred", gt: str = "gt") -> list[str]:
    return ["evaluate", "--pred", str(tmp_path / pred), "--gt", str(tmp_path / gt), "--no-progress"]


def test_a_mask_of_twelve_ids_beside_two_class_predictions_is_said(tmp_path, caplog):
    mask = _ids(12)
    write_tiff(tmp_path / "gt" / "a.tif", mask)
    write_png(tmp_path / "pred" / "a.png", (mask > 0).astype(np.uint8))
    report, said = _said(
        caplog, BEYOND, lambda: evaluate_predictions(tmp_path / "pred", tmp_path / "gt")
    )
    assert len(report.class_names) == 13  # said, not decided: scored as read
    assert said == [
        f"{tmp_path / 'gt' / 'a.tif'}: its mask values 2..12 are no class of the predictions "
        "(class indices 0..1) and are scored each as a class of its own: object ids (instance "
        "masks)? score them as objects with gt_instances=True; class labels of another model? "
        "score that model's predictions, or name the classes with class_names=[...]"
    ], said
    rc, said = _said(caplog, BEYOND, lambda: main(_command(tmp_path)))
    assert rc == 0 and len(said) == 1 and "with --gt-instances;" in said[0], said
    assert said[0].endswith("name the classes with --class-names"), said


def test_classes_the_predictions_hold_or_a_rare_one_missing_are_not_said(tmp_path, caplog):
    """A 13-class model's masks of 0..12 beside its predictions of 0..12, and masks of 0..2
    beside predictions of 0..1 (a class the model never predicted here) stay silent."""
    mask = _ids(12)
    write_tiff(tmp_path / "gt" / "a.tif", mask)
    write_tiff(tmp_path / "pred" / "a.tif", mask.astype(np.uint8))
    write_tiff(tmp_path / "gt2" / "a.tif", np.minimum(mask, 2))
    write_png(tmp_path / "pred2" / "a.png", (mask > 0).astype(np.uint8))
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert len(evaluate_predictions(tmp_path / "pred", tmp_path / "gt").class_names) == 13
        assert len(evaluate_predictions(tmp_path / "pred2", tmp_path / "gt2").class_names) == 3
    assert BEYOND not in caplog.text


def _blocks(classes: int, seed: int) -> np.ndarray:
    """A mask of ``classes`` classes in 8x8 blocks: each class many regions, as class masks
    hold them and object ids do not."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, classes, (8, 8)).repeat(8, 0).repeat(8, 1).astype(np.uint8)


def test_class_masks_beside_a_weak_models_predictions_are_not_called_object_ids(tmp_path, caplog):
    """5-class masks beside predictions of 0/1 only, and 4-class masks beside predictions of
    the background only (an early checkpoint): classes the model never predicted, not object
    ids to score as objects (review s62)."""
    for tag, classes, top in (("weak", 5, 1), ("early", 4, 0)):
        for i in range(3):
            mask = _blocks(classes, i)
            write_png(tmp_path / tag / "gt" / f"{i}.png", mask)
            write_png(tmp_path / tag / "pred" / f"{i}.png", np.minimum(mask, top))
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert (
            len(evaluate_predictions(tmp_path / "weak/pred", tmp_path / "weak/gt").class_names) == 5
        )
        assert (
            len(evaluate_predictions(tmp_path / "early/pred", tmp_path / "early/gt").class_names)
            == 4
        )
    said = [r.getMessage() for r in caplog.records if BEYOND in r.getMessage()]
    assert len(said) == 2, said
    assert "mask values 2..4 are no class of the predictions (class indices 0..1)" in said[0]
    assert "mask values 1..3 are no class of the predictions (class indices 0..0)" in said[1]
    for line in said:
        assert "gt_instances" not in line and "object ids" not in line, line
        assert (
            "scored each as a class of its own: classes the model never predicted (a weak or "
            "early one)? then they score 0; class labels of another model?"
        ) in line, line


IDS_IN_MAPS = "are each one region, as object ids are, and are scored as one class each"


def test_sixteen_bit_maps_of_few_ids_beside_class_masks_are_said(tmp_path, caplog):
    """16-bit maps of 12 object ids saved without ``_objects`` beside 0/1 masks: under the
    refusal's 64 values, they were scored as 13 classes without a word (s69 README); said in
    one line naming both fixes, scored as read. The same values in 8 bits (a 13-class
    model's classes) and 16-bit class maps of many regions per value are not said."""
    ids = _ids(12)
    write_png(tmp_path / "gt" / "a.png", (ids > 0).astype(np.uint8))
    write_tiff(tmp_path / "pred" / "a.tif", ids)
    write_tiff(tmp_path / "pred8" / "a.tif", ids.astype(np.uint8))
    blocks = _blocks(12, 0)
    write_png(tmp_path / "gt_blocks" / "a.png", (blocks > 0).astype(np.uint8))
    write_tiff(tmp_path / "blocks" / "a.tif", blocks.astype(np.uint16))
    line = (
        f"{tmp_path / 'pred' / 'a.tif'}: its values 2..12 (stored with more than 8 bits, "
        "beyond the masks' 2 classes) are each one region, as object ids are, and are scored "
        "as one class each: object ids saved without _objects in its name? name the files "
        "<stem>_objects.tif (as predict_folder(..., objects=True) does), or score them as "
        "objects with pred_instances=True; class labels of another model? score them against "
        "masks of that model's classes"
    )
    scored = partial(evaluate_predictions, tmp_path / "pred", tmp_path / "gt")
    report, said = _said(caplog, IDS_IN_MAPS, scored)
    assert said == [line] and len(report.class_names) == 13, said  # said, scored as read
    rc, said = _said(caplog, IDS_IN_MAPS, lambda: main(_command(tmp_path)))
    assert rc == 0 and len(said) == 1 and "with --pred-instances; class" in said[0], said
    assert "(as unetlab predict --instances does)" in said[0], said
    for pred, gt, classes in (("pred8", "gt", 13), ("blocks", "gt_blocks", 12)):
        rc, said = _said(caplog, IDS_IN_MAPS, partial(main, _command(tmp_path, pred, gt)))
        assert rc == 0 and said == [], said
        assert len(evaluate_predictions(tmp_path / pred, tmp_path / gt).class_names) == classes


def _ids_folder(root, maps: dict[str, np.ndarray], masks: dict[str, np.ndarray] | None = None):
    """``root``/pred of the 16-bit ``maps`` (name: ids) and ``root``/gt of their 0/1 masks
    as PNG (or the given ``masks``, by stem)."""
    for name, ids in maps.items():
        stem = name.split(".")[0]
        mask = (ids > 0).astype(np.uint8) if masks is None else masks[stem]
        write_png(root / "gt" / f"{stem}.png", mask)
        (write_png if name.endswith(".png") else write_tiff)(root / "pred" / name, ids)
    return ["--pred", str(root / "pred"), "--gt", str(root / "gt")]


def test_the_ids_line_is_not_said_before_a_refusal(tmp_path, caplog):
    """16-bit maps of ids 1..12 beside 0/1 masks with two classes named (or the masks read
    as objects: background and object), and ids 1100..1111 (too many classes to score): the
    run is refused in one line, as before the ids line, which said they were scored (review
    s70: it came first, then the refusal)."""
    twelve = _ids_folder(tmp_path / "twelve", {"a.tif": _ids(12)})
    high = _ids(12)
    high[high > 0] += 1099
    cases = (
        [*twelve, "--class-names", "bg", "cell"],
        [*twelve, "--gt-instances"],
        _ids_folder(tmp_path / "high", {"a.tif": high}),
    )
    for args in cases:
        rc, said = _said(caplog, IDS_IN_MAPS, partial(main, ["evaluate", *args, "--no-progress"]))
        assert rc == 2 and said == [], (args, said)


def _said_of(caplog, folders: list[str]) -> list[str]:
    """The ids lines of ``evaluate`` of ``folders`` (pred, gt), which must score them."""
    rc, said = _said(caplog, IDS_IN_MAPS, partial(main, ["evaluate", *folders, "--no-progress"]))
    assert rc == 0, said
    return said


def test_maps_of_few_or_no_ids_beside_a_map_of_twelve_do_not_silence_the_ids_line(tmp_path, caplog):
    """A 16-bit map of 12 ids beside one of 3 (a crop of 3 cells) or an empty one: neither
    looks like classes, yet each silenced the line for all (review s70); said, naming the
    maps holding values beyond the classes; not where no map holds 4 ids or more (two maps of
    3 ids, 1..3 and 4..6, each a crop of 3 cells or of 3 classes). A 16-bit PNG is told to be named
    <stem>_objects.png, as it is read (review s70: <stem>_objects.tif was its fix)."""
    twelve = _ids(12)
    three = np.where(twelve > 3, 0, twelve)
    a, b = (str(tmp_path / "few" / "pred" / f"{s}.tif") for s in "ab")
    said = _said_of(caplog, _ids_folder(tmp_path / "few", {"a.tif": twelve, "b.tif": three}))
    assert len(said) == 1 and said[0].startswith(f"{a}, {b}: their values 2..12 "), said
    empty = {"a.tif": twelve, "b.tif": np.zeros_like(twelve)}
    said = _said_of(caplog, _ids_folder(tmp_path / "empty", empty))
    assert len(said) == 1 and said[0].startswith(f"{tmp_path / 'empty/pred/a.tif'}: its "), said
    said = _said_of(caplog, _ids_folder(tmp_path / "png", {"a.png": twelve}))
    assert len(said) == 1 and "name the files <stem>_objects.png (as" in said[0], said
    others = np.where((twelve > 3) & (twelve < 7), twelve, 0)  # 4..6: none of 4 ids or more
    threes = {"a.tif": three, "b.tif": others}
    assert _said_of(caplog, _ids_folder(tmp_path / "threes", threes)) == []


def test_a_sixteen_bit_map_of_classes_beside_one_of_ids_ends_the_ids_line(tmp_path, caplog):
    """One 16-bit map of 12 ids beside one 16-bit map of 12 classes in blocks (many regions
    of each value): not every map looks like ids, so nothing is said; 16-bit maps of ids
    beyond 4-class masks are said only where those values outnumber the classes (ids 1..8:
    4..8, five; ids 1..7: 4..7, four, not said: review s70)."""
    blocks = np.zeros((40, 130), np.uint16)
    blocks[:, :64] = _blocks(12, 0)[:40]
    maps = {"a.tif": _ids(12), "b.tif": blocks}
    assert _said_of(caplog, _ids_folder(tmp_path / "mixed", maps)) == []
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 4, (5, 12)).repeat(8, 0).repeat(8, 1)[:40, :90].astype(np.uint8)
    assert set(np.unique(classes)) == {0, 1, 2, 3}
    eight = _ids(8)
    said = {}
    for top in (8, 7):
        ids = np.where(eight > top, 0, eight)
        folders = _ids_folder(tmp_path / str(top), {"a.tif": ids}, {"a": classes})
        said[top] = _said_of(caplog, folders)
    assert said[7] == [], said
    assert len(said[8]) == 1, said
    assert (
        "its values 4..8 (stored with more than 8 bits, beyond the masks' 4 classes)" in said[8][0]
    )
