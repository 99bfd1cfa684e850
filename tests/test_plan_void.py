"""Mask value 255 beside classes 0..K-1 in grey index masks: the void of Cityscapes, VOC and
mmseg (audit s29 scenes, finding 1: an 11-class set trained 255 as a 12th class without a
word). Refused where the data set names its classes but not 255, a plan warning where
nothing names them; ISBI's and the demo's 0/255, instance ids and palette masks untouched."""

import numpy as np
import pytest

from unetlab.config import load_config
from unetlab.data.fingerprint import measure_pair
from unetlab.data.io import write_png
from unetlab.data.void import VoidBeside, border_share, percent, void_beside_classes
from unetlab.errors import DatasetError, command_spelling
from unetlab.plan import plan_training


def _mask(seed: int, void: bool = True) -> np.ndarray:
    """48 x 48: classes 0 (top), 1 (bottom), 2 (a box), 255 a 1-px outline round the box."""
    mask = np.zeros((48, 48), np.uint8)
    mask[24:] = 1
    y, x = 10 + seed % 5, 12 + seed % 7
    mask[y : y + 20, x : x + 16] = 2
    if void:
        ring = np.zeros_like(mask, bool)
        ring[y - 1 : y + 21, x - 1 : x + 17] = True
        ring[y : y + 20, x : x + 16] = False
        mask[ring] = 255
    return mask


def _write(root, *, names=None, void=True, masks=None):
    rng = np.random.default_rng(0)
    for split, n in (("train", 5), ("val", 3)):
        for i in range(n):
            mask = _mask(i, void) if masks is None else masks(i)
            image = (rng.random(mask.shape) * 40 + (mask % 3) * 60).astype(np.uint8)
            write_png(root / split / "images" / f"{i}.png", image)
            write_png(root / split / "masks" / f"{i}.png", mask)
    if names:
        (root / "class_names.txt").write_text("\n".join(names) + "\n")
    return root


def _plan(root, *overrides):
    cfg = load_config(None, [f"data.root={root}", "model.depth=2", *overrides])
    return plan_training(cfg)[1]


def _void_notes(plan) -> list[str]:
    return [n for n in plan.notes if "looks like void" in n]


def _facts(*masks, instances=None):
    return [measure_pair(m, m, name=str(i), instances=instances) for i, m in enumerate(masks)]


def test_255_beside_named_classes_is_refused_naming_the_fix(tmp_path):
    """Names that are no 0..N-1 (or no plan to read 255 as void): one line with the fix."""
    from unetlab.plan import check_training_data

    root = _write(tmp_path / "d", names=["road", "sky", "car"])
    odd = "data.class_names={0: road, 1: sky, 2: car, 7: kerb}"  # not 0..N-1: no auto void
    for refused in (lambda: _plan(root, odd), lambda: check_training_data(_cfg(root))):
        with pytest.raises(DatasetError) as caught:
            refused()
        line = str(caught.value)
        assert "mask value 255" in line and "has no name beside the classes 0-2" in line
        # as Python sets them: a notebook's plan_training was told --set (s52)
        assert "; cfg.data.ignore_value = 255 to count it nowhere" in line and "--set" not in line
        assert "if it is a class, cfg.data.label_values = [0, 1, 2, 255]" in line
        assert "would train as one more class (index 3)" in line
    with command_spelling(), pytest.raises(DatasetError) as caught:  # the command line's
        check_training_data(_cfg(root))
    line = str(caught.value)
    assert "--set data.ignore_value=255" in line and "--set 'data.label_values=[0,1,2,255]'" in line
    assert _void_notes(_plan(root, "data.ignore_value=255")) == []  # the fix
    assert _void_notes(_plan(root, "data.label_values=[0,1,2,255]")) == []  # a class: said so
    named = "data.class_names={0: road, 1: sky, 2: car, 255: kerb}"
    assert _void_notes(_plan(root, named)) == []  # 255 named: a class


def test_255_beside_classes_named_0_to_n_is_void_by_the_plan_with_its_reason(tmp_path):
    """class_names.txt of N lines and masks of 0..N-1 and 255 only: 255 is void beyond doubt,
    planned as data.ignore_value=255 with why and how to read it as a class (it was refused
    until --set data.ignore_value=255 by hand: bench/road_scenes.py's default set)."""
    root = _write(tmp_path / "d", names=["road", "sky", "car"])
    cfg, plan = plan_training(_cfg(root), set())
    assert plan.lines()[0] == (
        "data.ignore_value = 255: mask value 255 (3.3% of the training pixels) has no name "
        "beside the "
        "classes 0-2 the data set names: void (Cityscapes, VOC, mmseg), counted nowhere; if it "
        "is a class, cfg.data.label_values = [0, 1, 2, 255] and name it"
    )
    with command_spelling():  # the command line's plan
        said = plan_training(_cfg(root), set())[1].lines()[0]
    assert said.endswith("is a class, --set 'data.label_values=[0,1,2,255]' and name it")
    assert cfg.data.ignore_value == 255 and _void_notes(plan) == []
    assert set(plan.fingerprint["class_fractions"]) == {0, 1, 2}  # measured without 255
    mine = _cfg(root, "data.ignore_value=null")
    with pytest.raises(DatasetError, match="cfg.data.ignore_value = 255 to count"):
        plan_training(mine, {"data.ignore_value"})  # the user's null: not planned over
    five = _cfg(root, "data.class_names={0: road, 1: sky, 2: car, 3: bus, 4: kerb}")
    assert plan_training(five, set())[0].data.ignore_value == 255  # classes 3, 4 in no mask


def test_the_void_share_and_the_class_shares_count_the_same_training_pixels(tmp_path):
    """The void line gave 255's share of all pixels, validation images too, while the loss
    reason and the class weights count the training pixels: both now count those (255's
    share of all of them, the classes' of the labelled ones) and say so."""
    rng = np.random.default_rng(0)
    masks = {"train": [_mask(i) for i in range(5)], "val": []}
    for i in range(3):
        mask = _mask(i)
        mask[40:] = 255  # validation images hold far more void
        masks["val"].append(mask)
    for split, found in masks.items():
        for i, mask in enumerate(found):
            image = (rng.random(mask.shape) * 40 + (mask % 3) * 60).astype(np.uint8)
            write_png(tmp_path / split / "images" / f"{i}.png", image)
            write_png(tmp_path / split / "masks" / f"{i}.png", mask)
    (tmp_path / "class_names.txt").write_text("road\nsky\ncar\n")
    plan = plan_training(_cfg(tmp_path), set())[1]
    train = np.stack(masks["train"])
    void = percent(float(np.mean(train == 255)))  # 3.3%; 9.5% of all the pixels
    assert plan.lines()[0].startswith(
        f"data.ignore_value = 255: mask value 255 ({void} of the training pixels) has no name"
    )
    labelled = train[train != 255]
    rarest = min(np.mean(labelled == v) for v in (0, 1, 2))
    loss = next(c for c in plan.choices if c.key == "train.loss")
    assert f"holds {percent(float(rarest))} of the labelled training pixels" in loss.reason


def _cfg(root, *overrides):
    return load_config(None, [f"data.root={root}", "model.depth=2", *overrides])


def test_255_beside_unnamed_classes_is_a_warning_with_its_share_and_outlines(tmp_path):
    (line,) = _void_notes(_plan(_write(tmp_path / "d")))
    assert line.startswith("mask value 255 lies apart from the classes 0-2 (")
    assert "in thin outlines: 100% of them border a class" in line
    assert "if it marks unlabelled pixels, cfg.data.ignore_value = 255; if it is" in line
    with command_spelling():  # the command line's plan
        (line,) = _void_notes(_plan(tmp_path / "d"))
    assert "--set data.ignore_value=255; if it is a class, --set" in line


def test_isbi_demo_instances_and_palette_masks_are_untouched(tmp_path):
    from unetlab.data.scenes import write_voc_scenes
    from unetlab.data.synthetic import write_nuclei_dataset, write_synthetic_dataset

    isbi = write_synthetic_dataset(tmp_path / "isbi", n_train=3, n_val=1, size=64)  # 0/255
    nuclei = write_nuclei_dataset(tmp_path / "nuclei", n_train=3, n_val=1, size=64)
    voc = write_voc_scenes(tmp_path / "voc", n_train=3, n_val=1, size=64)  # palette, 255 void
    for root in (isbi, nuclei, voc):
        assert _void_notes(_plan(root)) == [], root
    demo = ["data.label_values=[0, 255]", "data.class_names={0: membrane, 255: cell}"]
    assert _void_notes(_plan(isbi, *demo)) == []


def test_void_beside_classes_reads_only_dense_classes_and_255():
    found = void_beside_classes(_facts(_mask(0), _mask(1)))
    assert isinstance(found, VoidBeside) and found.values == (0, 1, 2)
    assert found.share == pytest.approx(76 / (48 * 48))  # a 22 x 18 ring round 20 x 16
    binary = np.where(_mask(0) == 2, 255, 0).astype(np.uint8)
    assert void_beside_classes(_facts(binary, binary)) is None  # ISBI: 255 is a class
    assert void_beside_classes(_facts(_mask(0, void=False))) is None  # no 255
    sparse = np.array([[0, 200, 255, 255]] * 4, np.uint8)
    assert void_beside_classes(_facts(sparse)) is None  # 0 and 200: not class indices
    ids = np.arange(16, dtype=np.uint16).reshape(4, 4)
    ids[0, 0] = 255
    assert void_beside_classes(_facts(ids, instances=True)) is None
    fill = np.full((8, 8), 255, np.uint8)  # scribbles on unlabelled 255: unlabelled_fill's
    fill[0, :3], fill[1, :3], fill[2, :3] = 0, 1, 2
    assert void_beside_classes(_facts(fill, fill)) is None


def test_border_share_tells_outlines_from_regions():
    assert border_share(_mask(0)) == 1.0
    block = np.zeros((20, 20), np.uint8)
    block[5:15, 5:15] = 255
    assert border_share(block) == pytest.approx(36 / 100)
    assert border_share(np.zeros((4, 4), np.uint8)) is None


def test_percent_never_reads_a_rare_share_as_zero():
    assert [percent(s) for s in (0.34, 0.008, 0.00012)] == ["34.0%", "0.8%", "0.012%"]


def test_no_plan_keeps_the_plans_warnings_about_the_data(tmp_path, caplog, capsys):
    """``train --no-plan`` drops the plan's choices but keeps its checks, and its warnings
    (here an unnamed 255 beside classes 0-2): they were dropped with the choices."""
    import logging

    from unetlab.cli import main
    from unetlab.plan import check_training_data

    root = _write(tmp_path / "d")
    cfg = load_config(None, [f"data.root={root}", "model.depth=2"])
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        notes = check_training_data(cfg)
    assert [n for n in notes if "looks like void" in n] == _void_notes(_plan(root))
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(w.startswith("mask value 255 lies apart from the classes 0-2") for w in warned)
    caplog.clear()
    argv = ["train", "--data", str(root), "--run-dir", str(tmp_path / "run"), "--no-plan"]
    small = ["--set", "model.depth=2", "--set", "data.tile_size=32", "--check"]
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert main([*argv, *small]) == 0, capsys.readouterr().err
    assert any("mask value 255 lies apart" in r.getMessage() for r in caplog.records)


def test_the_loss_line_of_a_rare_void_says_it_is_the_void_value(tmp_path):
    """The loss was chosen from 255's share ("Dice keeps the rare class in view") in the plan
    whose note calls 255 void, without a word of it (s37 bands G)."""
    (loss,) = [c for c in _plan(_write(tmp_path / "d")).choices if c.key == "train.loss"]
    assert loss.reason.startswith("mask value 255 holds")
    assert "(the value that looks like void: a class unless data.ignore_value=255)" in loss.reason
    ignored = _plan(_write(tmp_path / "e"), "data.ignore_value=255").choices
    assert "void" not in next(c for c in ignored if c.key == "train.loss").reason


def _void_regions(dtype, i: int) -> np.ndarray:
    """48 x 48 classes 0 (top), 1 (bottom), and in odd masks a 10 x 10 region of 255."""
    mask = np.zeros((48, 48), dtype)
    mask[24:] = 1
    if i % 2:
        mask[5 + i : 15 + i, 5:15] = 255
    return mask


def test_16_bit_0_1_masks_with_255_regions_are_classes_with_void_as_8_bit_ones(tmp_path):
    """s58: with no data.ignore_value, 16-bit 0/1 masks with 255 in some files read as object
    ids (values not shared by file, each one region), planned data.target=instances without
    the void note; 8-bit ones were classes. Both now go by the plan's void rule."""
    for dtype in (np.uint8, np.uint16):
        root = _write(tmp_path / dtype.__name__, masks=lambda i, d=dtype: _void_regions(d, i))
        plan = _plan(root)
        assert plan.fingerprint["instance_masks"] is False, dtype
        (line,) = _void_notes(plan)
        assert line.startswith("mask value 255 lies apart from the classes 0-1 ("), dtype


def test_16_bit_ids_that_include_255_stay_ids(tmp_path):
    """Object ids numbered on through a movie (240-245, ..., 252-257): 255 among them is an
    object, not void."""

    def ids(i):
        mask = np.zeros((48, 48), np.uint16)
        for k in range(6):
            mask[2 + 8 * k : 7 + 8 * k, 4 + 6 * k : 9 + 6 * k] = 240 + 3 * i + k
        return mask

    plan = _plan(_write(tmp_path / "d", masks=ids))
    assert plan.fingerprint["instance_masks"] is True and _void_notes(plan) == []


def _classes_and_255(i, k=16):
    """16-bit class masks 0..15 in stripes, each class several regions, and 255 rows: 17
    values, 255 counted."""
    mask = np.zeros((64, 64), np.uint16)
    for c in range(k):
        mask[:, (c * 4 + i) % 64 : (c * 4 + i) % 64 + 4] = c
    mask[32:] = (mask[32:] + 1) % k
    mask[10:12, :] = 255
    return mask


def test_16_bit_classes_0_to_15_beside_255_stay_classes_with_void(tmp_path):
    """s59 review C: a first rule read 16-bit masks of more than 16 values, 255 counted, as
    ids, which made 16 classes with a 255 void an instance data set (with no void line).
    They are classes, the 255 void, in instance_masks and the plan; 8-bit 0/1/255 too."""
    from unetlab.data.fingerprint import MaskValues, instance_masks

    wide = [MaskValues.of(_classes_and_255(i)) for i in range(4)]
    assert instance_masks(wide) is False
    plan = _plan(_write(tmp_path / "classes", masks=_classes_and_255))
    assert plan.fingerprint["instance_masks"] is False and _void_notes(plan) != []
    narrow = [MaskValues.of(_void_regions(np.uint8, i)) for i in range(4)]
    assert instance_masks(narrow) is False


def test_the_void_rule_is_for_masks_without_an_ignore_value(tmp_path):
    """s59: 255 beside classes was taken off as void whatever data.ignore_value said; with
    ilastik's 0 = unlabelled, 255 is a value of the masks, as the plan's void line reads it
    (no void line where an ignore value is set): 16-bit masks of 1/2 with a 255 box in every
    other file hold values by file, each one region, which the ids rule reads as ids."""
    from unetlab.data.fingerprint import MaskValues, instance_masks

    def pages(i):
        mask = np.zeros((48, 48), np.uint16)  # 0: unlabelled
        mask[2:20, 2:20], mask[24:44, 24:44] = 1, 2
        if i % 2:
            mask[30:36, 4:10] = 255
        return mask

    masks = [MaskValues.of(pages(i)) for i in range(4)]
    assert instance_masks(masks) is False  # no ignore value: 255 is void beside 1/2 ... and 0
    assert instance_masks(masks, ignore_value=0) is True
    assert instance_masks(masks, ignore_value=255) is False
