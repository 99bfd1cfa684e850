"""evaluate --pred of another tool's maps of mask values beside label values that read as
class indices too (--label-values 1 2 3: 1 is class 0's value and class index 1), review
s66: maps of 1..3 were refused as unetlab predict's files ('the predictions hold 3, the mask
value of class 2 ... predict again without --label-values'), a fix that does not apply."""

import json
import logging
import re

import numpy as np
import pytest
import tifffile
import torch

from unetlab.cli import main
from unetlab.data.io import read_image, write_png
from unetlab.errors import UnetlabError
from unetlab.evaluate import evaluate_predictions
from unetlab.evaluate.checks import MaskValuesError
from unetlab.evaluate.report import _unpredicted_line


def _maps(root, *, void: bool, values: bool = True):
    """Masks of mask values 1..3 (0 unlabelled in the top rows where ``void``) and maps of
    the same values (``values``; else class indices 0..2), wrong on a 3x3 square."""
    rng = np.random.default_rng(0)
    for n in range(2):
        mask = rng.integers(1, 4, (16, 16)).astype(np.uint8)
        if void:
            mask[:3] = 0
        pred = mask.copy()
        pred[5:8, 5:8] = 1
        if void:
            pred[:3] = rng.integers(1, 4, (3, 16))  # whatever the maps hold where ignored
        write_png(root / "gt" / f"s{n}.png", mask)
        write_png(root / "pred" / f"s{n}.png", pred if values else pred - 1)
    return root / "pred", root / "gt"


@pytest.mark.parametrize("void", [False, True], ids=["all-labelled", "ignore-0"])
def test_maps_of_the_mask_values_are_scored_by_value(tmp_path, void):
    ignore = 0 if void else None
    pred, gt = _maps(tmp_path / "values", void=void)
    report = evaluate_predictions(pred, gt, label_values=[1, 2, 3], ignore_value=ignore)
    # the oracle: the same maps saved as class indices 0..2
    pred, gt = _maps(tmp_path / "indices", void=void, values=False)
    indices = evaluate_predictions(pred, gt, label_values=[1, 2, 3], ignore_value=ignore)
    assert report.summary["iou"] == indices.summary["iou"]
    assert report.summary["miou"] == pytest.approx(indices.summary["miou"])
    assert report.summary["miou"] < 1.0  # the square scored wrong
    assert report.class_names == ["1", "2", "3"]


@pytest.mark.parametrize("first", [True, False], ids=["sorts-first", "sorts-last"])
def test_a_map_of_either_reading_is_read_as_the_folder_is_whatever_its_order(tmp_path, first):
    """Review s66: a map of values 1 and 2 only (either reading) beside one of 1..3 (values
    only) was refused where it sorted first, scored where last: the folder is looked at once,
    before scoring, its maps all read as mask values."""
    rng = np.random.default_rng(0)
    for name, lacks in (("a", first), ("b", not first)):
        mask = rng.integers(1, 4, (16, 16)).astype(np.uint8)
        if lacks:
            mask[mask == 3] = 2
        write_png(tmp_path / "gt" / f"{name}.png", mask)
        write_png(tmp_path / "pred" / f"{name}.png", mask)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[1, 2, 3])
    assert report.summary["miou"] == 1.0 and report.summary["iou"] == [1.0, 1.0, 1.0]


def test_the_pages_of_one_stack_are_read_one_way(tmp_path):
    """A 2-page TIFF of values 1..3 whose first page holds 1 and 2 only: refused naming the
    same file as read both ways (review s66)."""
    truth = np.random.default_rng(3).integers(1, 4, (2, 16, 16)).astype(np.uint8)
    truth[0][truth[0] == 3] = 2
    pred = truth.copy()
    pred[1, 5:8, 5:8] = 1  # class 0 where the masks hold 2 or 3
    for folder, stack in (("gt", truth), ("pred", pred), ("indices", pred - 1)):
        (tmp_path / folder).mkdir()
        tifffile.imwrite(tmp_path / folder / "a.tif", stack)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[1, 2, 3])
    # the oracle: the same stack saved as class indices 0..2
    indices = evaluate_predictions(tmp_path / "indices", tmp_path / "gt", label_values=[1, 2, 3])
    assert report.summary["iou"] == indices.summary["iou"] and report.summary["miou"] < 1.0


def _mixed(root):
    """--label-values 1 2 3 --ignore-value 0: a.png a perfect map of mask values (copying
    the void 0), b.png a perfect map of class indices 0..2 (review s66 s4)."""
    rng = np.random.default_rng(2)
    for name, indices in (("a", False), ("b", True)):
        mask = rng.integers(2, 4, (32, 32)).astype(np.uint8)
        mask[10:13, 10:13], mask[:8] = 1, 0
        write_png(root / "gt" / f"{name}.png", mask)
        write_png(
            root / "pred" / f"{name}.png", np.where(mask > 0, mask - 1, 0) if indices else mask
        )
    return root / "pred", root / "gt"


def test_a_map_of_class_indices_among_maps_of_mask_values_is_said(tmp_path, caplog):
    """b.png read as mask values like the folder's other map scored mIoU 0.2815 unsaid."""
    pred, gt = _mixed(tmp_path)
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        evaluate_predictions(pred, gt, label_values=[1, 2, 3], ignore_value=0, progress=False)
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 1, said
    assert said[0].startswith(f"{pred / 'b.png'} was read as mask values ({pred / 'a.png'} holds 3")
    assert "as class indices it agrees with its masks on 100% of their labelled pixels, " in said[0]
    assert "as mask values on 0%" in said[0] and "save them all as class indices 0..2" in said[0]


def test_maps_of_mask_values_read_as_class_indices_are_said(tmp_path, caplog):
    """No map holds 3: the folder is read as class indices, as before, a perfect map of
    1 and 2 scoring 0; a line says it agrees with its masks read as mask values."""
    mask = np.where(np.arange(256).reshape(16, 16) % 3, 1, 2).astype(np.uint8)
    write_png(tmp_path / "gt" / "a.png", mask)
    write_png(tmp_path / "pred" / "a.png", mask)
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[1, 2, 3])
    assert report.summary["miou"] == 0.0
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 1 and "a.png was read as class indices (no map holds a value" in said[0]


def test_a_map_of_class_indices_beside_0_255_maps_is_refused_naming_both(tmp_path, capsys):
    """--label-values 0 255: a map of 0 and 1 beside one of 0 and 255 was scored by indices
    beside values, map by map; the folder is read one way, the 0/1 map refused in one line."""
    mask = np.where(np.arange(256).reshape(16, 16) % 3, 0, 255).astype(np.uint8)
    for name, pred in (("a", mask // 255), ("b", mask)):
        write_png(tmp_path / "gt" / f"{name}.png", mask)
        write_png(tmp_path / "pred" / f"{name}.png", pred.astype(np.uint8))
    with pytest.raises(MaskValuesError, match="a.png holds 0 1, class indices"):
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 255])
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--label-values", "0", "255", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "a.png holds 0 1, class indices (1 no label value), but " in err
    assert "b.png holds 255, a mask value beyond the 2 class indices" in err
    assert "save them all as class indices 0..1 or all as the mask values 0 255" in err


def _stray(path, kind: str) -> None:
    """A file beside the maps that no mask scores: a figure (grey, RGB), a raw 16-bit TIFF,
    a truncated PNG."""
    rng = np.random.default_rng(1)
    if kind == "grey":
        write_png(path.with_suffix(".png"), rng.integers(0, 256, (16, 16)).astype(np.uint8))
    elif kind == "rgb":
        write_png(path.with_suffix(".png"), rng.integers(0, 256, (16, 16, 3)).astype(np.uint8))
    elif kind == "u16":
        tifffile.imwrite(path.with_suffix(".tif"), rng.integers(0, 4000, (16, 16), np.uint16))
    else:
        path.with_suffix(".png").write_bytes(b"\x89PNG\r\n\x1a\nxx")


@pytest.mark.parametrize("kind", ["grey", "rgb", "u16", "broken"])
def test_a_file_no_mask_scores_leaves_the_reading_alone(tmp_path, kind, caplog):
    """Review s66 round 2: the folder look read every image beside the maps, so a stray
    figure beside perfect 0/1 maps (--label-values 0 255) refused them ('save them all as
    class indices'), or stopped evaluate on its colour or its broken bytes; only the maps a
    mask scores are looked at, the stray said not scored."""
    mask = np.where(np.arange(256).reshape(16, 16) % 3, 0, 255).astype(np.uint8)
    for name in ("a", "b"):
        write_png(tmp_path / "gt" / f"{name}.png", mask)
        write_png(tmp_path / "pred" / f"{name}.png", (mask // 255).astype(np.uint8))
    _stray(tmp_path / "pred" / "zz_figure", kind)
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 255])
    assert report.summary["miou"] == 1.0
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 1 and "1 prediction in" in said[0] and said[0].endswith("zz_figure")


@pytest.mark.parametrize("planes", [3, 4])
def test_a_stack_saved_without_axes_is_looked_at_as_it_is_scored(tmp_path, planes):
    """Review s66 round 2: a 3- or 4-page ImageJ stack saved without axes (read as CYX, so
    as an RGB(A) image) beside masks of as many planes was refused by the folder look as 'a
    colour (RGB) image'; scoring reads its pages as the masks' planes, and so does the look."""
    truth = np.random.default_rng(0).integers(1, 4, (planes, 16, 16)).astype(np.uint8)
    pred = truth.copy()
    pred[-1, :4] = 1
    for folder, metadata in (("gt", {"axes": "ZYX"}), ("pred", None), ("oracle", {"axes": "ZYX"})):
        (tmp_path / folder).mkdir()
        stack = truth if folder == "gt" else pred
        tifffile.imwrite(tmp_path / folder / "s.tif", stack, imagej=True, metadata=metadata)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[1, 2, 3])
    oracle = evaluate_predictions(tmp_path / "oracle", tmp_path / "gt", label_values=[1, 2, 3])
    assert report.summary["iou"] == oracle.summary["iou"] and report.summary["miou"] < 1.0


def test_a_collapsed_model_s_maps_of_one_value_are_not_said_read_the_other_way(tmp_path, caplog):
    """Review s66 round 2: masks of 1 (90%) and 2, maps of class index 1 everywhere (a
    collapsed model; --label-values 1 2): read as mask values they agree on the 90% of
    background, as any map of one value agrees with the largest class; no line said so."""
    rng = np.random.default_rng(0)
    for n in range(2):
        write_png(tmp_path / "gt" / f"s{n}.png", np.where(rng.random((32, 32)) < 0.1, 2, 1))
        write_png(tmp_path / "pred" / f"s{n}.png", np.ones((32, 32), np.uint8))
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[1, 2])
    assert report.summary["iou"][0] == 0.0  # read as class indices: class 1 everywhere
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_look_passes_over_a_map_s_no_data_value(tmp_path, caplog):
    """Record-less class-index maps (0/1) holding their GDAL_NODATA value 255 where the
    input had no sample, masks of 1 and 2 (--label-values 1 2): the folder look keeps the
    no-data value out, so the maps are read as class indices, not refused as class indices
    beside a map of mask values (itself: review s66 round 2, the exemption untested)."""
    mask = np.random.default_rng(0).integers(1, 3, (32, 32)).astype(np.uint8)
    pred = (mask - 1).astype(np.uint8)
    pred[:4, :4] = 255
    (tmp_path / "gt").mkdir(), (tmp_path / "pred").mkdir()
    tifffile.imwrite(tmp_path / "gt" / "s.tif", mask)
    tifffile.imwrite(tmp_path / "pred" / "s.tif", pred, extratags=[(42113, "s", 0, "255", True)])
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[1, 2])
    assert report.summary["miou"] == 1.0


def test_the_other_reading_line_says_the_grid_its_share_is_counted_on(tmp_path, caplog):
    """Its percentages come from every 2nd row and column of 1024^2 masks (every pixel of a
    32^2 one: test_a_map_of_class_indices_among_maps_of_mask_values_is_said): said (s67)."""
    mask = np.where(np.arange(1024 * 1024).reshape(1024, 1024) % 3, 1, 2).astype(np.uint8)
    write_png(tmp_path / "gt" / "a.png", mask)
    write_png(tmp_path / "pred" / "a.png", mask)
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[1, 2, 3])
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(said) == 1, said
    assert "on 100% of their labelled pixels (one row and column in 2 looked at), as " in said[0]


def test_an_empty_stack_without_axes_looked_at_first_is_scored_by_its_masks_planes(tmp_path):
    """Two 3-plane ImageJ stacks saved without axes (tifffile reads them CYX, evaluate by
    their masks' ZYX planes): a.tif, an empty control stack whose planes are alike (grey
    RGB: one page as a class map), was held by the folder look as that one page and refused
    'has 1 page but its ground truth has 3' (review s67); it is read again, by its planes."""
    cell = np.zeros((3, 64, 64), np.uint8)
    cell[:, 10:40, 20:50] = 255
    cell[1, 45:50, 5:9] = 255
    for stem, stack in (("b", cell), ("a", np.zeros_like(cell))):
        for role, kw in (("gt", {"metadata": {"axes": "ZYX"}}), ("pred", {})):
            (tmp_path / role).mkdir(exist_ok=True)
            tifffile.imwrite(tmp_path / role / f"{stem}.tif", stack, imagej=True, **kw)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 255])
    assert report.summary["miou"] == 1.0


def _binary_maps(root, top: int, *, pred_top: int | None = None):
    """Masks of class indices 0/1 and binary maps of 0/``top`` (another tool's 0/255 map),
    wrong on a 3x3 square; ``pred_top``: a third value written there instead (a class the
    masks lack, beside 0/1 maps)."""
    rng = np.random.default_rng(0)
    for n in range(2):
        mask = (rng.random((16, 16)) > 0.5).astype(np.uint8)
        pred = mask.copy()
        pred[5:8, 5:8] = 1 - pred[5:8, 5:8] if pred_top is None else pred_top
        write_png(root / "gt" / f"s{n}.png", mask)
        write_png(root / "pred" / f"s{n}.png", pred * top if pred_top is None else pred)
    return root / "pred", root / "gt"


@pytest.mark.parametrize("top", [255, 128, 65, 64, 3])
def test_0_255_maps_beside_0_1_masks_are_refused_naming_the_values_and_the_fix(
    tmp_path, capsys, top
):
    """Review s68: 0/255 maps beside 0/1 masks were scored as three classes (mIoU 0.3084
    here, rc 0), the table telling to give --label-values, which reads the masks by those
    values too and refuses their 1; the reverse (0/1 maps, 0/255 masks) was refused. Now
    refused too, naming the fix, which scores as the 0/1 maps do. Review s69: 0/64 (and
    0/3) maps were scored as 65 classes, rc 0, the bound 65 read as no more than 2 is a
    class index: a lone value over 2 is refused naming both readings (0/2: a 3-class
    model's, scored, below). S70: a value from 65 up (255) was told to give --class-names
    "if the predictions do hold class indices", which no 255 is: told how to save it as 1."""
    pred, gt = _binary_maps(tmp_path, top)
    why = "{} reads the masks by those values too and refuses their 1"
    said = (
        f"the predictions hold 0 and {top} but the masks hold class indices 0 and 1: {top} "
        f"would score as a class of no mask, 1 as never predicted; save the predictions as "
        f"class indices, each {top} as 1 "
    ) + (
        f"({why}), or give {{}} if {top} is a class index"
        if top < 65
        else f"(pred // {top} in NumPy, Process > Math > Divide by {top} in Fiji); {why}{{}}"
    )
    api = said.format(f"label_values=[0, {top}]", "" if top >= 65 else "class_names=[...]")
    with pytest.raises(MaskValuesError, match=re.escape(api) + "$"):
        evaluate_predictions(pred, gt)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--no-progress"]) == 2
    cli = said.format(f"--label-values 0 {top}", "" if top >= 65 else "--class-names")
    assert capsys.readouterr().err == f"unetlab evaluate: error: {cli}\n"
    # the flag the table named does not help: the masks' 1 is no value of it
    with pytest.raises(UnetlabError, match=r"s0\.png: label value \[1\] is not among"):
        evaluate_predictions(pred, gt, label_values=[0, top])
    # the fix: the maps saved as class indices score as the 0/1 maps would (pred // top)
    for path in pred.iterdir():
        write_png(path, (read_image(path) // top).astype(np.uint8))
    fixed = evaluate_predictions(pred, gt)
    assert fixed.class_names == ["0", "1"] and 0.9 < fixed.summary["miou"] < 1.0


def test_0_1_maps_holding_a_class_the_masks_lack_are_scored_as_before(tmp_path):
    """0/1 maps that predict a class 2 the 0/1 masks lack (no binary map of 0 and one value)
    are scored as before, class 2 a class of its own."""
    pred, gt = _binary_maps(tmp_path, 1, pred_top=2)
    report = evaluate_predictions(pred, gt)
    assert report.class_names == ["0", "1", "2"] and report.summary["iou"][2] == 0.0


def test_0_255_maps_among_0_1_maps_are_refused_naming_them(tmp_path, capsys):
    """A folder mixing 0/1 and 0/255 maps beside 0/1 masks was scored with 255 as a class
    (mIoU 0.4936 on 4 images, rc 0), each 0/255 map alone refused (s69): the folder's binary
    maps are judged as one, the 0/255 ones named in one line with the fix."""
    pred, gt = _binary_maps(tmp_path, 1)
    for n in (2, 3):  # two maps more, saved 0/255
        mask = np.where(np.arange(256).reshape(16, 16) % (n + 1), 1, 0).astype(np.uint8)
        write_png(gt / f"s{n}.png", mask)
        write_png(pred / f"s{n}.png", mask * 255)
    said = (
        f"{pred / 's2.png'}, {pred / 's3.png'} hold 0 and 255, beside masks of class indices 0 "
        "and 1: 255 would score as a class of no mask, 1 as never predicted there; save them "
        "as class indices, each 255 as 1, as the others are"
    )
    with pytest.raises(MaskValuesError, match=re.escape(said) + "$"):
        evaluate_predictions(pred, gt)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--no-progress"]) == 2
    assert capsys.readouterr().err == f"unetlab evaluate: error: {said}\n"
    for n in (2, 3):  # the fix scores
        write_png(pred / f"s{n}.png", (read_image(pred / f"s{n}.png") // 255).astype(np.uint8))
    assert evaluate_predictions(pred, gt).class_names == ["0", "1"]


def test_a_3_class_models_maps_of_0_and_2_are_scored_with_the_fix_said(tmp_path, capsys):
    """A 3-class model's maps that predict only 0 and 2 beside 0/1 masks were refused as 0/255
    maps ('save the predictions as class indices, each 2 as 1'): 2 may be a class the masks
    lack. Scored as with --class-names (as 0/1/2 maps are), the line on class 1 naming both
    readings, not more training."""
    pred, gt = _binary_maps(tmp_path, 2)
    report = evaluate_predictions(pred, gt)
    named = evaluate_predictions(pred, gt, class_names=["a", "b", "c"])
    assert report.class_names == ["0", "1", "2"] and report.summary["iou"][2] == 0.0
    assert report.summary["iou"] == named.summary["iou"]
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--no-progress"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("1 ("))
    assert "% predicted as 2): in the masks but (nearly) never predicted right" in line
    assert line.endswith(
        "mostly predicted as a class in no mask: if the maps write 1 as 2, save each 2 as 1; "
        "if it is a class of the model the masks lack, the model takes one for the other"
    )


def _foreign_folder(root, tops: dict[str, int]):
    """0/1 masks and one binary map of 0 and ``tops[stem]`` for each stem, wrong on a 3x3
    square."""
    rng = np.random.default_rng(1)
    for folder in ("gt", "pred"):
        (root / folder).mkdir(parents=True)
    for stem, top in tops.items():
        mask = (rng.random((16, 16)) > 0.5).astype(np.uint8)
        pred = mask.copy()
        pred[5:8, 5:8] = 1 - pred[5:8, 5:8]
        write_png(root / "gt" / f"{stem}.png", mask)
        write_png(root / "pred" / f"{stem}.png", pred * top)
    return root / "pred", root / "gt"


def _refused(pred, gt, capsys) -> str:
    """The one line evaluate --pred refuses with (rc 2), the API raising the same."""
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--no-progress"]) == 2
    line = capsys.readouterr().err.removeprefix("unetlab evaluate: error: ").rstrip("\n")
    with pytest.raises(MaskValuesError) as error:
        evaluate_predictions(pred, gt)
    assert error.value.cli == line
    return line


def test_each_label_value_among_binary_maps_is_refused_naming_its_maps(tmp_path, capsys):
    """Review s69: 0/1 + 0/128 + 0/255 maps beside 0/1 masks were scored (rc 0, mIoU 0.3141,
    128 and 255 as classes), as were 0/2 + 0/255 (mIoU 0.2313): the folder was judged as one
    only where it held a single label value. Each value from 65 up is refused, its maps
    named; a 0/2 map beside them is a class index, and all-0 maps are counted nowhere.
    Third review: a value below 65 among them is said as the one --class-names could help
    ("if 3 is a class index", not "if the maps do hold class indices", which 255 is not);
    where every binary map is refused no others are said ("as the others are")."""
    pred, gt = _foreign_folder(tmp_path / "a", dict(a=1, b=128, c=255, d=255, e=0))
    assert _refused(pred, gt, capsys) == (
        f"{pred / 'b.png'} holds 0 and 128; {pred / 'c.png'}, {pred / 'd.png'} hold 0 and "
        "255, beside masks of class indices 0 and 1: 128 or 255 would score as classes of no "
        "mask, 1 as never predicted there; save them as class indices, each 128 or 255 as 1, "
        "as the others are"
    )
    pred, gt = _foreign_folder(tmp_path / "b", dict(a=2, b=255))
    assert _refused(pred, gt, capsys).startswith(
        f"{pred / 'b.png'} holds 0 and 255, beside masks of class indices 0 and 1: 255 would "
        "score as a class of no mask"
    )
    pred, gt = _foreign_folder(tmp_path / "c", dict(a=1, b=64))  # 64 may be a class index
    assert _refused(pred, gt, capsys).endswith(
        "save it as class indices, each 64 as 1, as the others are, or give --class-names if "
        "64 is a class index"
    )
    pred, gt = _foreign_folder(tmp_path / "f", dict(a=3, b=255))  # each refused: no others
    assert _refused(pred, gt, capsys) == (
        f"{pred / 'a.png'} holds 0 and 3; {pred / 'b.png'} holds 0 and 255, beside masks of "
        "class indices 0 and 1: 3 or 255 would score as classes of no mask, 1 as never "
        "predicted there; save them as class indices, each 3 or 255 as 1, or give "
        "--class-names if 3 is a class index"
    )
    pred, gt = _foreign_folder(tmp_path / "e", dict(a=2, b=65))  # 65: no class index
    assert _refused(pred, gt, capsys).startswith(f"{pred / 'b.png'} holds 0 and 65, beside")
    pred, gt = _foreign_folder(tmp_path / "d", dict(a=1, b=2, c=3))  # a 4-class model's
    assert evaluate_predictions(pred, gt).class_names == ["0", "1", "2", "3"]


def test_a_stacks_page_of_0_255_is_named_as_that_page(tmp_path, capsys):
    """Review s69: a 6-page stack whose page 2 was saved 0/255, the others 0/1, was refused
    as 'st/a.tif holds 0 and 255 but the 1 other map 0 and 1': the same file. The page is
    named; a stack all of whose pages hold it is named whole."""
    rng = np.random.default_rng(2)
    mask = (rng.random((6, 16, 16)) > 0.5).astype(np.uint8)
    for folder, stack in (
        ("gt", mask),
        ("pred", mask * np.array([1, 1, 255, 255, 1, 1])[:, None, None]),
    ):
        (tmp_path / folder).mkdir()
        tifffile.imwrite(
            tmp_path / folder / "a.tif", stack.astype(np.uint8), metadata={"axes": "ZYX"}
        )
    tifffile.imwrite(tmp_path / "gt" / "b.tif", mask[:2], metadata={"axes": "ZYX"})
    tifffile.imwrite(tmp_path / "pred" / "b.tif", mask[:2] * 255, metadata={"axes": "ZYX"})
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    assert _refused(pred, gt, capsys).startswith(
        f"{pred / 'a.tif'} pages 2 3, {pred / 'b.tif'} hold 0 and 255, beside masks"
    )
    (pred / "b.tif").unlink(), (gt / "b.tif").unlink()
    write = mask.copy()
    write[2] *= 255
    tifffile.imwrite(pred / "a.tif", write, metadata={"axes": "ZYX"})
    assert _refused(pred, gt, capsys).startswith(
        f"{pred / 'a.tif'} page 2 holds 0 and 255, beside masks of class indices 0 and 1"
    )


@pytest.mark.parametrize("among", [False, True], ids=["alone", "among-0-1-maps"])
def test_a_0_65535_map_is_refused_before_its_table_is_made(tmp_path, capsys, among):
    """Review s69: a 16-bit 0/65535 map, alone or among 0/1 maps, asked for a table of
    65536 classes (32 GiB, 'this is a bug in unetlab'), before the refusal of 0/255 maps
    could run: refused first by what the values are."""
    pred, gt = _foreign_folder(tmp_path, dict(a=1, b=1) if among else {})
    mask = np.eye(16, dtype=np.uint8)
    write_png(gt / "c.png", mask)
    tifffile.imwrite(pred / "c.tif", mask.astype(np.uint16) * 65535)
    line = _refused(pred, gt, capsys)
    assert line.startswith(
        f"{pred / 'c.tif'} holds 0 and 65535, beside masks"
        if among
        else "the predictions hold 0 and 65535 but the masks hold class indices 0 and 1"
    )


def test_a_class_index_past_the_bound_is_refused_naming_the_map(tmp_path, capsys):
    """A map's value of 1024 or more, where no refusal of the values fits, is refused naming
    the map before its table is made (1025 classes squared, per image)."""
    pred, gt = _foreign_folder(tmp_path, {})
    mask = np.arange(256).reshape(16, 16) % 3
    write_png(gt / "a.png", mask.astype(np.uint8))
    tifffile.imwrite(pred / "a.tif", np.where(mask == 2, 5000, mask).astype(np.uint16))
    assert _refused(pred, gt, capsys) == (
        f"{pred / 'a.tif'} holds 5000, read as a class index: 5001 classes, too many to score "
        "(values from 1024 up are no class index); save the predictions as class indices, or "
        "pass --pred-instances if they are object ids, or name the files <stem>_objects.tif"
    )


TRAINING = "a rare class needs more training (more steps, or more images that hold it)"


def test_a_models_classes_gone_to_one_it_lacks_are_told_training_not_the_maps_fix(tmp_path):
    """Review s69: evaluate --checkpoint of a 3-class model always predicting 2 beside 0/1
    masks was told 'if the maps write 0 as 2 and 1 as 2, save each 2 as 0 and each 2 as 1':
    there are no maps, and both cannot be done. A model's rare classes need training; so do
    maps' where two classes went to one."""
    from unetlab.evaluate import evaluate_model
    from unetlab.models import UNet

    mask = (np.arange(256).reshape(16, 16) % 3 == 0).astype(np.uint8)
    write_png(tmp_path / "data" / "images" / "a.png", mask * 200)
    write_png(tmp_path / "data" / "masks" / "a.png", mask)
    write_png(tmp_path / "pred" / "a.png", np.full((16, 16), 2, np.uint8))
    model = UNet(1, 3, depth=2, base_channels=4, padding="same")
    head = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        head.weight.zero_(), head.bias.copy_(torch.tensor([0.0, 0.0, 10.0]))
    maps = evaluate_predictions(tmp_path / "pred", tmp_path / "data" / "masks")
    for report in (evaluate_model(model, tmp_path / "data", progress=False), maps):
        line = next(x for x in report.table().splitlines() if "never predicted right" in x)
        assert line.startswith("0 (") and line.endswith(TRAINING)


@pytest.mark.parametrize("went", [6, 4], ids=["mostly", "not-mostly"])
def test_a_rare_class_mostly_predicted_as_one_in_no_mask_is_told_the_maps_fix(went):
    """The maps' fix is said of a rare class whose pixels went mostly (over half) to one
    class in no mask, else more training: 4 of 10 px to it is not most."""
    matrix = np.zeros((4, 4), np.int64)
    matrix[0, 0], matrix[1] = 90, [3, 0, went, 7 - went]  # class 1's 10 px: most to 2
    names = ["0", "1", "2", "3"]
    (line,) = _unpredicted_line(matrix, names, maps=True)
    fix = "mostly predicted as a class in no mask: if the maps write 1 as 2, save each 2 as 1"
    assert line.endswith(TRAINING) != (went == 6) and (fix in line) == (went == 6)
    (model,) = _unpredicted_line(matrix, names)  # no maps: a model's
    assert model.endswith(TRAINING)


@pytest.mark.parametrize("labelled", [0, 7], ids=["where-ignored", "on-labelled-rows"])
def test_maps_holding_the_masks_ignore_value_65535_are_judged_by_it_not_the_bound(
    tmp_path, capsys, labelled
):
    """Review s69 (third): 16-bit masks 0/1/2 with void 65535 and maps copying it where the
    masks ignore it scored 1.0 on main, then were refused as 65536 classes; maps writing it
    on labelled pixels lost the line saying 65535 is a class there. The bound is of the
    values but the ignore value's, counted first."""
    pred, gt = _foreign_folder(tmp_path, {})
    mask = (np.arange(256).reshape(16, 16) % 3).astype(np.uint16)
    mask[:3] = 65535
    held = mask.copy()
    held[5 : 5 + labelled] = 65535
    tifffile.imwrite(gt / "a.tif", mask)
    tifffile.imwrite(pred / "a.tif", held)
    args = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--ignore-value", "65535"]
    if not labelled:
        assert evaluate_predictions(pred, gt, ignore_value=65535).summary["miou"] == 1.0
        assert main([*args, "--no-progress"]) == 0
        return
    said = f"{pred / 'a.tif'} holds 65535, the masks' ignore value"
    with pytest.raises(MaskValuesError, match=re.escape(said)):
        evaluate_predictions(pred, gt, ignore_value=65535)
    assert main([*args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert said in err and "that 65535 is a class, not void" in err


@pytest.mark.parametrize("top", [1023, 1024])
def test_the_bound_is_1024_the_first_value_refused(tmp_path, capsys, top):
    """A map's value of 1024 is no class index (refused, naming the map); 1023 is scored."""
    pred, gt = _foreign_folder(tmp_path, {})
    mask = np.arange(256).reshape(16, 16) % 3
    write_png(gt / "a.png", mask.astype(np.uint8))
    tifffile.imwrite(pred / "a.tif", np.where(mask == 2, top, mask).astype(np.uint16))
    if top == 1023:
        assert len(evaluate_predictions(pred, gt).summary["iou"]) == 1024
        return
    assert _refused(pred, gt, capsys).startswith(f"{pred / 'a.tif'} holds 1024, read as a")


def test_a_checkpoints_rare_class_gone_to_a_class_in_no_mask_is_told_training(tmp_path):
    """Review s69 (third, 2): the maps' fix was said only of evaluate --pred's reports, but
    no test held a checkpoint's report of one rare class gone to a class no mask holds (the
    mutant 'every report is of maps' passed): its line says more training."""
    from unetlab.evaluate.report import Report

    pred, gt = _binary_maps(tmp_path, 2)
    maps = evaluate_predictions(pred, gt)
    model = Report(maps.class_names, maps.matrix, maps.images, maps.summary)
    model.source = {"checkpoint": str(tmp_path / "best.pt")}
    for report, fix in ((maps, "if the maps write 1 as 2, save each 2 as 1"), (model, TRAINING)):
        line = next(x for x in report.table().splitlines() if "never predicted right" in x)
        assert line.startswith("1 (") and fix in line


class _Bright(torch.nn.Module):
    """Logits of a 3-class model: class 2 where the input is bright, 0 elsewhere, never 1."""

    def forward(self, x):
        return torch.cat([-x, torch.zeros_like(x), x], 1) * 10


def test_unetlabs_own_maps_of_a_rare_class_gone_to_another_are_told_training(tmp_path):
    """Review s69 (third, 3): a 3-class model predicting 2 on class 1's pixels, its maps
    saved by predict_folder (predict.json: labels "class indices"), was told "if the maps
    write 1 as 2, save each 2 as 1": unetlab wrote those class indices itself. Its maps are
    read by their record: more training; the same map without its record is another tool's.
    S70: the JSON says which (``foreign_maps``), as the table's line does; it did not."""
    from unetlab.inference.folders import predict_folder
    from unetlab.models import UNet

    class Bright(_Bright, UNet):
        pass

    mask = (np.arange(256).reshape(16, 16) % 5 == 0).astype(np.uint8)
    write_png(tmp_path / "images" / "a.png", mask * 200)
    write_png(tmp_path / "masks" / "a.png", mask)
    model = Bright(1, 3, depth=2, base_channels=4, padding="same")
    predict_folder(model, tmp_path / "images", tmp_path / "pred", progress=False)
    write_png(tmp_path / "other" / "a.png", read_image(tmp_path / "pred" / "a.png"))
    for folder, fix in (("pred", TRAINING), ("other", "if the maps write 1 as 2, save each 2")):
        report = evaluate_predictions(tmp_path / folder, tmp_path / "masks")
        line = next(x for x in report.table().splitlines() if "never predicted right" in x)
        assert line.startswith("1 (52 px, never predicted, 100% predicted as 2)") and fix in line
        assert json.loads(report.json_text())["foreign_maps"] is (folder == "other")
