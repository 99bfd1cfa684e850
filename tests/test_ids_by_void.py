"""Masks read as object ids only by a 255 that data.ignore_value keeps from the void rule
(s60 words): 16-bit masks of one region a class, 255 in some files, ignore_value=0, were
read as ids with no word. One line says so, once; the reading stays (with ignore_value set,
255 is a class or an id, as the plan reads it)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data.datasets import choose_target, scan_masks
from unetlab.data.fingerprint import MaskValues, ids_by_void
from unetlab.data.io import write_png
from unetlab.data.pairs import find_pairs
from unetlab.data.read_notes import read_notes
from unetlab.errors import command_spelling
from unetlab.plan import plan_training


def _mask(void: bool, dtype=np.uint16) -> np.ndarray:
    mask = np.zeros((48, 48), dtype)
    mask[4:44, 4:22], mask[4:44, 26:44] = 1, 2  # each class one region, 0 unlabelled
    if void:
        mask[20:28, 8:16] = 255
    return mask


def _data(root, voids=(False, True, True), dtype=np.uint16):
    for i, void in enumerate(voids):
        write_png(root / "images" / f"{i}.png", np.full((48, 48), 40 * i, np.uint8))
        write_png(root / "masks" / f"{i}.png", _mask(void, dtype))
    return find_pairs(root)


def test_ids_by_void_is_the_255_alone():
    """The rule itself: by the 255 of 2 files of 3; not where the void rule applies
    (no ignore_value), where every file holds 255 (the files then agree: classes), where
    ignore_value is 255 itself, or in 8-bit masks (read as classes)."""
    masks = [MaskValues.of(_mask(v)) for v in (False, True, True)]
    assert ids_by_void(masks, 0) == 2
    assert ids_by_void(masks, None) == 0 and ids_by_void(masks, 255) == 0
    assert ids_by_void([MaskValues.of(_mask(True))] * 3, 0) == 0
    assert ids_by_void([MaskValues.of(_mask(v, np.uint8)) for v in (False, True)], 0) == 0


def test_choose_target_says_its_ids_rest_on_the_255_once(tmp_path, caplog):
    """Once a call (a command, or a public Python call: read_notes), however many times the
    target is chosen within it."""
    pairs = _data(tmp_path)
    with caplog.at_level(logging.INFO, logger="unetlab"), read_notes():
        target = choose_target("auto", pairs, scan=scan_masks(pairs), ignore_value=0)
        choose_target("auto", pairs, scan=scan_masks(pairs), ignore_value=0)
    assert target == "instances"  # the reading stays: said, not decided on
    said = [r.getMessage() for r in caplog.records if "only by mask value 255" in r.getMessage()]
    assert said == [
        "the masks read as object ids only by mask value 255, in 2 of 3 masks: "
        "cfg.data.ignore_value = 0 keeps 255 from being read as void; read as void, they "
        "would be classes; if they are, cfg.data.target = 'semantic' (255 then trains as a "
        "class; to count it nowhere, mark those pixels 0 in the masks)"
    ], said
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"), command_spelling(), read_notes():
        choose_target("auto", pairs, scan=scan_masks(pairs), ignore_value=0)
    line = next(r.getMessage() for r in caplog.records if "only by mask value" in r.getMessage())
    assert "--set data.ignore_value=0 keeps 255" in line and "--set data.target=semantic" in line


def test_no_line_where_the_255_decides_nothing(tmp_path, caplog):
    """Masks read as classes by the void rule (no ignore_value), or whose every file holds
    255: no line."""
    pairs = _data(tmp_path)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert choose_target("auto", pairs, scan=scan_masks(pairs)) == "semantic"
    every = _data(tmp_path / "every", voids=(True, True, True))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        choose_target("auto", every, scan=scan_masks(every), ignore_value=0)
    assert not [r for r in caplog.records if "only by mask value" in r.getMessage()]


def _said(text: str) -> list[str]:
    return [line for line in text.splitlines() if "only by mask value 255" in line]


@pytest.mark.parametrize("plan", [[], ["--no-plan"]], ids=["planned", "--no-plan"])
def test_train_says_it_once_planned_or_not(tmp_path, caplog, plan):
    """The plan decides data.target (its fingerprint), so training's choose_target never
    ran on the planned route and the line went unsaid there (review of s60 words)."""
    _data(tmp_path / "d")
    argv = ["train", "--data", str(tmp_path / "d"), "--run-dir", str(tmp_path / "run")]
    argv += ["--set", "data.tile_size=48"]  # --no-plan: the images are 48 px
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--set", "data.ignore_value=0", "--check", *plan]) == 0
    said = _said("\n".join(r.getMessage() for r in caplog.records))
    assert len(said) == 1 and "--set data.target=semantic" in said[0], said


def test_plan_training_says_it_once(tmp_path, caplog):
    _data(tmp_path / "d")
    cfg = load_config(None, [f"data.root={tmp_path / 'd'}", "data.ignore_value=0"])
    with caplog.at_level(logging.INFO, logger="unetlab"):
        cfg, plan = plan_training(cfg)
    assert cfg.data.target == "instances"
    said = _said("\n".join(r.getMessage() for r in caplog.records))
    assert len(said) == 1 and "cfg.data.target = 'semantic'" in said[0], said


def _scored(root, void: bool, objects: int = 3, **kw):
    """evaluate_predictions of one 8-bit mask of ``objects`` classes (1, 2, 3, ...), each one
    region, with a 255 mark where ``void``, against object ids of those regions."""
    import tifffile

    from unetlab.evaluate import evaluate_predictions

    gt = np.zeros((8, 10 * objects + 10), np.uint8)
    for i in range(objects):
        gt[1:7, 1 + 10 * i : 8 + 10 * i] = i + 1
    ids = gt.astype(np.uint16)
    if void:
        gt[1:7, -8:-1] = 255
    write_png(root / "gt" / "a.png", gt)
    (root / "pred").mkdir()
    tifffile.imwrite(root / "pred" / "a_objects.tif", ids)
    return evaluate_predictions(root / "pred", root / "gt", progress=False, **kw)


#: evaluate's line for masks read as object ids by a 255 in their one mask
EVALUATE_SAYS = (
    "the masks read as object ids only by mask value 255, in 1 of 1 masks: without it, "
    "they would be classes; if 255 marks pixels to count nowhere, ignore_value=255 "
    "reads them so"
)


def test_evaluate_says_masks_read_as_ids_by_their_255(tmp_path, caplog):
    """evaluate's own rule (each page at least 4 values, each one region, beside predicted
    ids): 3 classes and a 255 mark were read as 4 objects with no word; ignore_value=255
    reads them as the 3 classes they are. No line where the 255 decides nothing."""
    with caplog.at_level(logging.INFO, logger="unetlab"):
        report = _scored(tmp_path / "void", True)
    assert report.summary["objects"] == 4  # the reading stays: said, not decided on
    said = [r.getMessage() for r in caplog.records if "only by mask value 255" in r.getMessage()]
    assert said == [EVALUATE_SAYS], said
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        classes = _scored(tmp_path / "ignored", True, ignore_value=255)
        _scored(tmp_path / "objects", True, objects=4)  # ids with or without the 255
    assert len(classes.to_dict()["classes"]) == 4  # 0..3: the fix it names holds
    assert not [r for r in caplog.records if "only by mask value" in r.getMessage()]


def test_evaluate_s_255_note_keeps_the_ignore_value_given(tmp_path, caplog):
    """With ignore_value=7 given, the note does not tell the user to give 255 instead (that
    would replace their 7): it names marking those pixels 7 (review s60)."""
    with caplog.at_level(logging.INFO, logger="unetlab"):
        _scored(tmp_path / "seven", True, ignore_value=7)
    said = [r.getMessage() for r in caplog.records if "only by mask value 255" in r.getMessage()]
    assert len(said) == 1 and said[0].endswith(
        "count nowhere, mark them 7 in the masks (the ignore value given)"
    ), said


def _split_ids(root, top: int):
    """evaluate_predictions of one 16-bit mask of values 1..15 and ``top``, each in two
    regions (no value one region: the count of values decides), against those ids."""
    import tifffile

    from unetlab.evaluate import evaluate_predictions

    mask = np.zeros((42, 82), np.uint16)
    for i, value in enumerate([*range(1, 16), top] * 2):
        row, col = divmod(i, 8)
        mask[2 + 10 * row : 9 + 10 * row, 2 + 10 * col : 9 + 10 * col] = value
    write_png(root / "gt" / "a.png", mask)
    (root / "pred").mkdir()
    tifffile.imwrite(root / "pred" / "a_objects.tif", mask)
    return evaluate_predictions(root / "pred", root / "gt", progress=False)


def test_evaluate_says_16_bit_masks_read_as_ids_by_their_count_with_the_255(tmp_path, caplog):
    """16-bit masks of 0..15 and a 255 are ids by their count of values (over 16), beside
    predicted ids, with no word (s61); without the 255 they are 16 classes, as training
    reads them with it (void). Said as the one-region rule's 255 is; 1..16 say nothing."""
    with caplog.at_level(logging.INFO, logger="unetlab"):
        report = _split_ids(tmp_path / "void", 255)
    assert report.summary["objects"] == 16  # the reading stays: said, not decided on
    said = [r.getMessage() for r in caplog.records if "only by mask value 255" in r.getMessage()]
    assert said == [EVALUATE_SAYS], said
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _split_ids(tmp_path / "ids", 16).summary["objects"] == 16
    assert not [r for r in caplog.records if "only by mask value" in r.getMessage()]


def test_the_plan_s_line_counts_the_masks_it_measured(tmp_path, caplog):
    """The plan's fingerprint measures a sample of the pairs (evenly spread, at most
    ``limit``): its line said "in 2 of 3 masks" of 5 pairs, as if of every mask (s61)."""
    from unetlab.data.fingerprint import fingerprint

    pairs = _data(tmp_path, voids=(False, False, True, True, True))  # measured: 0, 2, 4
    with caplog.at_level(logging.INFO, logger="unetlab"), read_notes():
        assert fingerprint(pairs, limit=3, ignore_value=0).instances
    said = _said("\n".join(r.getMessage() for r in caplog.records))
    assert len(said) == 1 and said[0].startswith(
        "the masks read as object ids only by mask value 255, in 2 of the 3 masks measured (of 5): "
    ), said
