"""Each case's predicted and true volume per class (s74): evaluate's per-case rows gave each
organ's Dice and IoU but no volume, which a radiologist compares first (a liver of 1.5 l
segmented as 1.6 l). Each class's ``pred_volume``, ``true_volume`` (its voxels times a
voxel's volume: mm3 of a CT, µm3 of a microscope's z-stack, voxels where the file records
no spacing) and ``volume_diff_percent``; a TIFF z-stack (Z planes a recorded z spacing
apart) is a case as a NIfTI volume is."""

import csv
import json

import numpy as np
import pytest
import tifffile

from tests.test_nifti import write_nifti
from tests.test_objects_3d import write_unspaced
from tests.test_tiffmeta import write_fiji
from unetlab.cli import main
from unetlab.data.pairs import Pair
from unetlab.data.tiffmeta import PixelSize
from unetlab.evaluate.case_files import CaseFiles, voxel_of
from unetlab.evaluate.cases import CaseVoxel, class_volumes
from unetlab.evaluate.masks import MaskPage
from unetlab.evaluate.spread import image_rows, write_image_csv

_NAMES = ["--class-names", "background", "liver", "spleen", "kidney"]


def abdomen() -> tuple[np.ndarray, np.ndarray]:
    """(X, Y, Z) truth and prediction of a synthetic abdomen of 8 slices: a liver of 6 x 10 x
    12 = 720 voxels, a spleen of 4 x 5 x 6 = 120, a kidney of 3 x 4 x 5 = 60; the prediction
    grows the liver by a slice (120 voxels more, 840: +16.7%), misses the spleen's last
    slice (30 voxels less, 90: -25%) and finds no kidney (0: -100%)."""
    truth = np.zeros((30, 24, 8), np.uint8)
    truth[2:14, 2:12, 1:7] = 1
    truth[16:22, 14:19, 2:6] = 2
    truth[24:29, 3:7, 3:6] = 3
    pred = truth.copy()
    pred[2:14, 2:12, 7] = 1
    pred[16:22, 14:19, 5] = 0
    pred[truth == 3] = 0
    return truth, pred


def _evaluate(tmp_path, pred, gt, capsys=None) -> tuple[dict, list[dict]]:
    out = tmp_path / "e.json"
    args = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--json", str(out), *_NAMES]
    assert main([*args, "--no-progress"]) == 0
    with open(tmp_path / "e_cases.csv", newline="") as f:
        return json.loads(out.read_text()), list(csv.DictReader(f))


def test_each_organ_s_predicted_and_true_volume_in_mm3(tmp_path):
    """Seen failing without the fix: KeyError 'true_volume' (no volume in the case rows)."""
    gt, pred = tmp_path / "labelsTs", tmp_path / "pred"
    gt.mkdir(), pred.mkdir()
    truth, guess = abdomen()
    write_nifti(gt / "abd_1.nii.gz", truth, spacing=(0.8, 0.8, 2.5), units=10)
    write_nifti(pred / "abd_1.nii.gz", guess, spacing=(0.8, 0.8, 2.5), units=10)
    report, table = _evaluate(tmp_path, pred, gt)
    case = report["cases"][0]
    assert case["volume_unit"] == "mm3"  # 0.8 x 0.8 x 2.5 mm voxels: 1.6 mm3
    assert case["true_volume"][1:] == [1152.0, 192.0, 96.0]  # 720, 120, 60 voxels
    assert case["pred_volume"][1:] == [1344.0, 144.0, 0.0]  # 840, 90, 0
    assert case["volume_diff_percent"][1:] == pytest.approx([100 / 6, -25.0, -100.0], abs=1e-9)
    row = table[0]
    assert (row["true_volume_liver"], row["pred_volume_liver"]) == ("1152", "1344")
    assert row["volume_diff_percent_spleen"] == "-25" and row["pred_volume_kidney"] == "0"
    assert row["volume_unit"] == "mm3"
    columns = list(row)
    assert columns[:17] == [
        "name", "miou", "mdice", "iou_background", "dice_background", "iou_liver",
        "dice_liver", "iou_spleen", "dice_spleen", "iou_kidney", "dice_kidney", "slices",
        "foreground_dice", "volume_unit", "pred_volume_background", "true_volume_background",
        "volume_diff_percent_background",
    ]  # fmt: skip


def test_the_volume_columns_come_after_those_before_them():
    """e_cases.csv's columns before s74 keep their places (a script reading it by position
    read the volumes where slices and foreground_dice had been): the volumes come last.
    Seen failing without the fix: 'pred_volume_background' where 'iou_liver' was."""
    rows = [dict(name="c", slices=2, miou=0.5, mdice=0.5, foreground_dice=0.5, iou=[1.0, 0.0])]
    rows[0] |= dict(dice=[1.0, 0.0], volume_unit="mm3")
    rows[0] |= dict(pred_volume=[2.0, 1512345.6], true_volume=[3.0, 4.0])
    rows[0] |= dict(volume_diff_percent=[-1.0, 2.0])
    columns, _ = image_rows(rows, ["bg", "liver"])
    assert columns == [
        "name", "miou", "mdice", "iou_bg", "dice_bg", "iou_liver", "dice_liver", "slices",
        "foreground_dice", "volume_unit", "pred_volume_bg", "true_volume_bg",
        "volume_diff_percent_bg", "pred_volume_liver", "true_volume_liver",
        "volume_diff_percent_liver",
    ]  # fmt: skip


def test_a_volume_cell_keeps_its_digits(tmp_path):
    """A liver of 1,512,345.6 mm3 is written so, not 1.51235e+06 (a figure's 6 digits).
    Seen failing with volumes forced to 6 digits: '1.51235e+06'."""
    rows = [dict(name="c", iou=[1.0], dice=[1.0], pred_volume=[1512345.6], true_volume=[2.0])]
    with open(write_image_csv(tmp_path / "c.csv", rows, ["liver"]), newline="") as f:
        assert next(csv.DictReader(f))["pred_volume_liver"] == "1512345.6"


def test_a_class_absent_from_the_truth_has_no_volume_difference():
    figures = class_volumes([10, 0, 4], [8, 3, 5], CaseVoxel(0.5, "um3"))
    assert figures["true_volume"] == [5.0, 0.0, 2.0] and figures["pred_volume"] == [4.0, 1.5, 2.5]
    assert figures["volume_diff_percent"][0] == -20.0 and np.isnan(
        figures["volume_diff_percent"][1]
    )
    assert class_volumes([3], [3], CaseVoxel())["volume_unit"] == "voxels"


def test_a_voxel_in_its_tables_unit():
    """A CT's voxel in mm3 (its µm sides in mm, to 12 digits: 1.6, not 1.6000000000000003),
    a microscope's in µm3, voxels where the file gives no z spacing or no size."""
    ct = PixelSize((800.0, 800.0), "um", 2500.0, shown="mm")
    assert voxel_of(ct) == CaseVoxel(1.6, "mm3")
    assert voxel_of(PixelSize((0.2, 0.2), "um", 0.5)) == CaseVoxel(0.02, "um3")
    assert voxel_of(PixelSize((0.2, 0.2), "um")) == voxel_of(None) == CaseVoxel(1.0, "voxels")


def _stack(path, zyx, ome: bool) -> None:
    """A ZYX stack of 0.2 µm pixels, planes 0.5 µm apart: an OME-TIFF or ImageJ hyperstack."""
    if ome:
        sizes = dict(PhysicalSizeX=0.2, PhysicalSizeY=0.2, PhysicalSizeZ=0.5)
        tifffile.imwrite(path, zyx, ome=True, metadata={"axes": "ZYX"} | sizes)
    else:
        meta = {"axes": "ZYX", "unit": "um", "spacing": 0.5}
        tifffile.imwrite(path, zyx, imagej=True, resolution=(5.0, 5.0), metadata=meta)


@pytest.mark.parametrize("ome", [True, False])
def test_a_tiff_z_stack_is_scored_as_a_volume_in_um3(tmp_path, capsys, ome):
    """A z-stack of Z planes 0.5 µm apart (0.2 µm pixels: 0.02 µm3 voxels) gets a case row
    as a NIfTI volume does. Seen failing without the fix: no 'cases' in the report (its
    planes' rows only). Named as predict names its outputs: cells.ome.tif's case is
    ``cells`` (s74; seen failing without that fix: 'cells.ome')."""
    gt, pred = tmp_path / "masks", tmp_path / "pred"
    gt.mkdir(), pred.mkdir()
    truth, guess = (v.transpose(2, 1, 0) for v in abdomen())  # (Z, Y, X)
    name = "cells.ome.tif" if ome else "cells.tif"
    _stack(gt / name, truth, ome)
    _stack(pred / name, guess, ome)
    (pred / "predict.json").write_text("{}")
    report, table = _evaluate(tmp_path, pred, gt)
    case = report["cases"][0]
    assert (
        case["name"] == "cells"  # cells.ome.tif's less its .ome too, as predict's outputs
        and case["slices"] == 8
        and case["volume_unit"] == "um3"
    )
    assert case["true_volume"][1:] == [14.4, 2.4, 1.2]  # 720, 120, 60 voxels x 0.02 µm3
    assert len(report["images"]) == 8 and table[0]["name"] == case["name"]
    assert "per case (3-D)     1 volume each scored whole" in capsys.readouterr().out


def test_a_stack_of_no_z_spacing_or_a_movie_is_no_volume(tmp_path):
    """Planes of no recorded z step, and a movie's frames (T, calibrated in µm, a spacing
    too), are scored per page alone, as before: pinned (passes on the old code too; the
    movie's unit added in the s74 review: without it the movie read as no spacing, and the
    test passed with the T check gone; now seen failing with T read as Z too)."""
    for name, meta in (
        ("flat", {"axes": "ZYX"}),
        ("movie", {"axes": "TYX", "unit": "um", "spacing": 0.5}),
    ):
        gt, pred = tmp_path / name / "masks", tmp_path / name / "pred"
        gt.mkdir(parents=True), pred.mkdir()
        truth, guess = (v.transpose(2, 1, 0) for v in abdomen())
        for folder, volume in ((gt, truth), (pred, guess)):
            tifffile.imwrite(folder / "c.tif", volume, imagej=True, metadata=meta)
        (pred / "predict.json").write_text("{}")
        out = tmp_path / name / "e.json"
        args = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--json", str(out), *_NAMES]
        assert main([*args, "--no-progress"]) == 0
        assert "cases" not in json.loads(out.read_text()), name


def _frame(path, pages: int = 6) -> None:
    """An ImageJ z-stack of ``pages`` planes 0.5 µm apart, of 0.2 µm pixels."""
    meta = {"axes": "ZYX", "unit": "um", "spacing": 0.5}
    planes = np.zeros((pages, 8, 8), np.uint8)
    tifffile.imwrite(path, planes, imagej=True, resolution=(5.0, 5.0), metadata=meta)


def test_a_plane_s_own_mask_makes_no_case(tmp_path):
    """A 3-D frame annotated on 2 of its 6 slices (man_seg_000_001.tif, ..._003.tif) is no
    volume: no case, as before s74. Seen failing without the fix: case '01/t000' of 2 slices
    (the frame's image is a z-stack)."""
    (tmp_path / "01").mkdir()
    image, mask = tmp_path / "01" / "t000.tif", tmp_path / "man_seg_000_001.tif"
    _frame(image)
    tifffile.imwrite(mask, np.zeros((8, 8), np.uint8))
    page = MaskPage("01/t000[1]", "t000", 1, np.zeros((8, 8)), mask, 6, image, sliced=True)
    sliced = Pair(image, mask, page=1, pages=6, mask_at=0)
    assert CaseFiles().case(page) is None and CaseFiles().case(sliced) is None
    whole = Pair(image, image, page=1, pages=6)  # every plane's mask: a volume
    assert CaseFiles().case(whole) == "t000"


def test_a_case_s_voxel_is_of_the_file_that_records_its_z_spacing(tmp_path):
    """A mask of a pixel size but no z spacing, its image's with one: the image made it a
    case, and its voxel (0.02 µm3) is read from the image. Seen failing without the fix:
    (1.0, 'voxels'), read from the mask."""
    image, mask = tmp_path / "images" / "c.tif", tmp_path / "masks" / "c.tif"
    image.parent.mkdir(), mask.parent.mkdir()
    _frame(image)
    planes = np.zeros((6, 8, 8), np.uint8)
    meta = {"axes": "ZYX", "unit": "um"}
    tifffile.imwrite(mask, planes, imagej=True, resolution=(5.0, 5.0), metadata=meta)
    cases = CaseFiles()
    assert cases.case(Pair(image, mask, page=0, pages=6)) == "c"
    assert cases.voxels["c"] == CaseVoxel(0.02, "um3")


@pytest.mark.parametrize("writer", ["ome", "fiji"])
def test_a_recorded_z_spacing_wins_over_one_implied(tmp_path, writer):
    """A mask without a z spacing (an OME-TIFF without PhysicalSizeZ; a stack Fiji saved in
    µm without ``spacing=``, 1 µm as Fiji reads it) beside its image of 0.5 µm steps: the
    case's voxel is the image's 0.02 µm3. Seen failing without the fix (s75 review): the
    Fiji mask's implied 1 µm taken, 0.04 µm3, each volume doubled."""
    image, mask = tmp_path / "images" / "c.tif", tmp_path / "masks" / "c.tif"
    image.parent.mkdir(), mask.parent.mkdir()
    _frame(image)
    planes = np.zeros((6, 8, 8), np.uint8)
    if writer == "ome":
        write_unspaced(mask, planes, pixel=0.2)
    else:
        write_fiji(mask, planes)
    cases = CaseFiles()
    assert cases.case(Pair(image, mask, page=0, pages=6)) == "c"
    assert cases.voxels["c"] == CaseVoxel(0.02, "um3")


def test_a_foreign_cases_csv_beside_a_z_stack_is_refused_before_any_file(tmp_path, capsys):
    """A TIFF z-stack's evaluation with the user's own e_cases.csv there is refused in one
    line before any output is written, as NIfTI's is. Seen failing without the fix: e.json
    and e_images.csv written, then the refusal."""
    gt, pred = tmp_path / "masks", tmp_path / "pred"
    gt.mkdir(), pred.mkdir()
    truth, guess = (v.transpose(2, 1, 0) for v in abdomen())
    _stack(gt / "cells.tif", truth, False)
    _stack(pred / "cells.tif", guess, False)
    (pred / "predict.json").write_text("{}")
    (tmp_path / "e_cases.csv").write_text("mine\n")
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--json", str(tmp_path / "e.json")]
    assert main([*argv, "--no-progress"]) == 2
    assert "e_cases.csv exists and was not written by unetlab" in capsys.readouterr().err
    written = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert written == ["e_cases.csv", "masks", "pred"]
    assert (tmp_path / "e_cases.csv").read_text() == "mine\n"


def _data_of_stacks(data) -> None:
    """``data``/images and ``data``/masks of one spaced ZYX stack, c.tif (:func:`_stack`)."""
    (data / "images").mkdir(parents=True), (data / "masks").mkdir()
    truth = abdomen()[0].transpose(2, 1, 0)
    _stack(data / "images" / "c.tif", truth * 60, False)
    _stack(data / "masks" / "c.tif", truth, False)


def _checkpoint_argv(tmp_path) -> list[str]:
    """evaluate --checkpoint of a tiny net of 4 classes (0-3, as :func:`abdomen`'s) saved
    in ``tmp_path``/m.pt, of ``tmp_path``/data."""
    from tests.test_evaluate import _tiny_model
    from unetlab.checkpoint import save_model

    model = _tiny_model()
    model.classes, model.label_values = ["a", "b", "c", "d"], [0, 1, 2, 3]
    save_model(tmp_path / "m.pt", model)
    return ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(tmp_path / "data")]


def test_a_case_of_a_spaced_image_and_mask_is_scored_with_a_checkpoint(tmp_path):
    """Image and mask both spaced z-stacks (Fiji's usual 3-D pair): evaluate --checkpoint
    scores its case. Seen failing without the fix: KeyError of the image, 'a bug in
    unetlab', nothing written (s75 review)."""
    _data_of_stacks(tmp_path / "data")
    out = tmp_path / "e.json"
    assert main([*_checkpoint_argv(tmp_path), "--json", str(out), "--no-progress"]) == 0
    case = json.loads(out.read_text())["cases"][0]
    assert (case["name"], case["slices"], case["volume_unit"]) == ("c", 8, "um3")
    assert (tmp_path / "e_cases.csv").exists()


def test_a_case_of_a_spaced_image_and_mask_is_scored_with_predictions(tmp_path):
    """evaluate --pred of a --gt folder that holds the images too, each a spaced z-stack.
    Seen failing without the fix: KeyError of the image (s75 review)."""
    _data_of_stacks(tmp_path / "data")
    pred = tmp_path / "pred"
    pred.mkdir()
    _stack(pred / "c.tif", abdomen()[1].transpose(2, 1, 0), False)
    (pred / "predict.json").write_text("{}")
    report, table = _evaluate(tmp_path, pred, tmp_path / "data")
    assert report["cases"][0]["true_volume"][1:] == [14.4, 2.4, 1.2]
    assert table[0]["name"] == "c"


def test_a_fiji_stack_of_1_um_steps_is_a_case(tmp_path):
    """Fiji writes no ``spacing=`` at 1 µm: such a stack (slices=8, unit=micron, 0.2 µm
    pixels) is a case of 0.04 µm3 voxels. Seen failing without the fix: no 'cases'."""
    gt, pred = tmp_path / "masks", tmp_path / "pred"
    gt.mkdir(), pred.mkdir()
    for folder, volume in zip((gt, pred), abdomen()):
        write_fiji(folder / "c.tif", volume.transpose(2, 1, 0))
    (pred / "predict.json").write_text("{}")
    report, _ = _evaluate(tmp_path, pred, gt)
    case = report["cases"][0]
    assert (case["name"], case["slices"], case["volume_unit"]) == ("c", 8, "um3")
    assert case["true_volume"][1:] == [28.8, 4.8, 2.4]  # 720, 120, 60 voxels x 0.04 µm3


_TIMED = {"axes": "ZYX", "unit": "um", "spacing": 0.5, "finterval": 2.0}


def _timed(folder, names, volume) -> None:
    """Fiji stacks ``names`` of slices 0.5 µm apart that record a frame interval (2 s)."""
    for name in names:
        tifffile.imwrite(
            folder / name,
            volume.transpose(2, 1, 0),
            imagej=True,
            resolution=(5, 5),
            metadata=_TIMED,
        )


def _said(caplog, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if words in r.getMessage()]


def test_fiji_stacks_of_slices_that_record_a_frame_interval_say_their_cases(tmp_path, caplog):
    """Fiji stacks of slices 0.5 µm apart that record a frame interval are scored as
    volumes, as Fiji shows them, in one line that says so and gives a fix evaluate --pred
    takes (the reading's line named --axes TYX, which it refuses), said at the first, the
    files counted at the end. Seen failing without the fix: that line alone, the volume
    unsaid; then (s75 review) seen failing with a line per file; then (second review) the
    first file's line was the file-free one, without its pages, spacing and interval."""
    gt, pred = tmp_path / "masks", tmp_path / "pred"
    gt.mkdir(), pred.mkdir()
    names = ("a.tif", "b.tif", "c.tif")
    for folder, volume in zip((gt, pred), abdomen()):
        _timed(folder, names, volume)
    (pred / "predict.json").write_text("{}")
    with caplog.at_level("WARNING"):
        report, _ = _evaluate(tmp_path, pred, gt)
    assert [c["name"] for c in report["cases"]] == ["a", "b", "c"]
    assert _said(caplog, "frame interval") == [
        "a.tif: its 8 pages are ImageJ's slices, 0.5 µm apart, yet it records a frame "
        "interval (2 s): scored as Z planes, one volume (case a), as Fiji shows them; if they "
        "are time points, save them as frames (Fiji: Image > Properties, Slices 1, Frames 8) "
        "and evaluate again",
        "3 files in all (a.tif, b.tif, c.tif): its pages are ImageJ's slices a z spacing "
        "apart, yet it records a frame interval: scored as Z planes, one volume (a case), as "
        "Fiji shows them (said at the first, with its fixes)",
    ]


def test_a_timed_case_is_said_once_with_a_checkpoint(tmp_path, caplog):
    """evaluate --checkpoint of such a stack says it in one line, the reading's, which
    names --axes TYX (it takes it). Seen failing without the fix (s75 review): two lines
    of one file, the reading's and the case's."""
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True), (data / "masks").mkdir()
    truth = abdomen()[0]
    _timed(data / "images", ["c.tif"], truth * 60)
    _timed(data / "masks", ["c.tif"], truth)
    argv = [*_checkpoint_argv(tmp_path), "--json", str(tmp_path / "e.json"), "--no-progress"]
    with caplog.at_level("WARNING"):
        assert main(argv) == 0
    said = _said(caplog, "frame interval")
    assert len(said) == 1 and "give --axes TYX" in said[0] and said[0].startswith("c.tif: ")


def test_a_timed_mask_of_an_untimed_image_is_said_with_a_checkpoint(tmp_path, caplog):
    """evaluate --checkpoint of a case whose image is a plain z-stack (0.5 µm apart) and
    whose mask records a frame interval too says the mask's line: the reader of the image
    says only the image's. Seen failing without the fix (second s75 review): no line."""
    data = tmp_path / "data"
    (data / "images").mkdir(parents=True), (data / "masks").mkdir()
    truth = abdomen()[0]
    _stack(data / "images" / "a.tif", truth.transpose(2, 1, 0) * 60, False)
    _timed(data / "masks", ["a.tif"], truth)
    argv = [*_checkpoint_argv(tmp_path), "--json", str(tmp_path / "e.json"), "--no-progress"]
    with caplog.at_level("WARNING"):
        assert main(argv) == 0
    assert [c["name"] for c in json.loads((tmp_path / "e.json").read_text())["cases"]] == ["a"]
    said = _said(caplog, "frame interval")
    assert len(said) == 1 and said[0].startswith("a.tif: its 8 pages are ImageJ's slices, 0.5")


def test_a_case_whose_mask_and_image_record_two_voxels_says_which_it_takes(tmp_path, caplog):
    """An image of slices 0.5 µm apart beside a mask of 1 µm (both Fiji's): the case's
    volumes take the mask's, in one line that says so with both voxels. Seen failing
    without the fix (second s75 review): no line, the volumes twice the image's."""
    data, pred = tmp_path / "data", tmp_path / "pred"
    for folder in (data / "images", data / "masks", pred):
        folder.mkdir(parents=True)
    truth, guess = (v.transpose(2, 1, 0) for v in abdomen())
    write_fiji(data / "images" / "c.tif", truth * 60, more="spacing=0.5\n")
    write_fiji(data / "masks" / "c.tif", truth, more="spacing=1.0\n")
    tifffile.imwrite(pred / "c.tif", guess)
    (pred / "predict.json").write_text("{}")
    with caplog.at_level("WARNING"):
        report, _ = _evaluate(tmp_path, pred, data)
    assert report["cases"][0]["true_volume"][1:] == [28.8, 4.8, 2.4]  # 0.2 x 0.2 x 1 µm
    assert _said(caplog, "is not its image's") == [
        f"{data / 'masks' / 'c.tif'}: its voxel, 0.2x0.2x1 µm, is not its image's, "
        "0.2x0.2x0.5 µm: case c's volumes take the truth's; record one in both (Fiji: Image > "
        "Properties)"
    ]
