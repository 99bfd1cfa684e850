"""evaluate --pred refuses ground truth training refuses, and a data set's images as
predictions; foreign 0/255 predictions are scored as two classes by --label-values 0 255
(s36 flags audit 1, 3, 4)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.errors import DatasetError
from unetlab.evaluate import evaluate_predictions
from unetlab.evaluate.checks import MaskValuesError

MASK = np.zeros((8, 8), np.uint8)
MASK[2:6, 2:6] = 255


def _perfect(tmp_path, gt: dict[str, np.ndarray]):
    """A data set of ``gt`` masks (name -> array, .tif for float/bool) and predictions equal
    to the 0/1 class indices of every mask."""
    for name, mask in gt.items():
        write_png(tmp_path / "data" / "images" / f"{name}.png", np.full((8, 8), 9, np.uint8))
        if mask.dtype == np.uint8:
            write_png(tmp_path / "data" / "masks" / f"{name}.png", mask)
        else:
            tifffile.imwrite(tmp_path / "data" / "masks" / f"{name}.tif", mask)
        write_png(tmp_path / "pred" / f"{name}.png", (MASK > 0).astype(np.uint8))
    return tmp_path / "pred", tmp_path / "data"


def test_a_mask_of_fractions_is_refused_naming_it(tmp_path, capsys):
    # a resampled mask: 0.75 was cast to class 0 and scored, exit 0
    frac = np.where(MASK > 0, 0.75, 0.25).astype(np.float32)
    pred, gt = _perfect(tmp_path, {"a": MASK, "b": frac})
    with pytest.raises(DatasetError, match=r"b\.tif: mask holds non-integer values"):
        evaluate_predictions(pred, gt, label_values=[0, 255])
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "b.tif" in err and "integer" in err


def test_a_boolean_mask_among_0_255_masks_is_refused_naming_it(tmp_path, capsys):
    # its True (1) became a class of its own, scored 0 for perfect predictions, exit 0
    pred, gt = _perfect(tmp_path, {"a": MASK, "b": MASK, "c": MASK > 0})
    for prediction in (tmp_path / "pred").iterdir():  # as predictions: 0/255 (s36 flags 4)
        write_png(prediction, MASK)
    with pytest.raises(
        DatasetError, match=r"masks mix encodings: .*a\.png holds 0/255 but .*c\.tif 0/1"
    ):
        evaluate_predictions(pred, gt)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "c.tif" in err


def test_one_encoding_and_float_whole_numbers_are_scored(tmp_path):
    pred, gt = _perfect(tmp_path, {"a": (MASK > 0).astype(np.uint8), "b": MASK > 0})
    assert evaluate_predictions(pred, gt).summary["miou"] == 1.0


def test_a_data_sets_images_folder_as_predictions_is_refused(tmp_path, capsys):
    # scored as class maps of 256 classes, mIoU ~0, exit 0 (a tab-completion slip)
    _, gt = _perfect(tmp_path, {"a": MASK, "b": MASK})
    images = gt / "images"
    with pytest.raises(DatasetError, match=r"images/ folder of the data set .*not predictions"):
        evaluate_predictions(images, gt, label_values=[0, 255])
    assert main(["evaluate", "--pred", str(images), "--gt", str(gt)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--pred" in err


def _foreign_0_255(tmp_path):
    """0/255 masks and perfect 0/255 predictions of another tool (no predict.json)."""
    pred, gt = _perfect(tmp_path, {"a": MASK, "b": MASK})
    for prediction in pred.iterdir():
        write_png(prediction, MASK)
    return pred, gt


def test_foreign_0_255_predictions_are_two_classes_by_label_values(tmp_path, capsys):
    # --label-values 0 255 was refused (read as unetlab predict's files without their record)
    pred, gt = _foreign_0_255(tmp_path)
    report = evaluate_predictions(pred, gt, label_values=[0, 255])
    assert report.class_names == ["0", "255"] and report.summary["miou"] == 1.0
    assert "object_f1" in report.summary
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--label-values", "0", "255"]
    assert main(argv) == 0


def test_foreign_0_255_predictions_without_label_values_name_them(tmp_path, capsys):
    # were scored as 256 classes (254 rows n/a), object scores left out "for 256 classes"
    pred, gt = _foreign_0_255(tmp_path)
    with pytest.raises(DatasetError, match=r"hold 0 and 255.*label_values=\[0, 255\]"):
        evaluate_predictions(pred, gt)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--label-values 0 255" in err


def test_foreign_values_beyond_the_label_values_are_refused(tmp_path):
    pred, gt = _foreign_0_255(tmp_path)
    write_png(pred / "a.png", np.where(MASK > 0, 128, 0).astype(np.uint8))
    with pytest.raises(DatasetError, match=r"a\.png holds 1 mask value 128"):
        evaluate_predictions(pred, gt, label_values=[0, 255])


@pytest.mark.parametrize(
    "flags",
    [
        ["--tile-size", "64"],
        ["--tta"],
        ["--precision", "bf16"],
        ["--blend", "gaussian"],
        ["--batch-size", "2"],
        ["--channel", "1"],
        # at their default values, and --device: ignored without a word (s37)
        ["--blend", "mean"],
        ["--precision", "fp32"],
        ["--device", "auto"],
        ["--device", "cpu"],
    ],
)
def test_prediction_flags_with_pred_are_refused(flags, tmp_path, capsys):
    # ignored without a word, as if --tta had changed the score (s36 flags 9)
    pred, gt = _perfect(tmp_path, {"a": MASK})
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{flags[0]} sets how a checkpoint predicts" in err


@pytest.mark.parametrize(
    "flags",
    [["--fill-holes"], ["--cut-min-area", "64"], ["--distance-split"], ["--min-area", "0"]],
)
def test_object_flags_at_their_default_with_pred_are_refused(flags, tmp_path, capsys):
    pred, gt = _perfect(tmp_path, {"a": MASK})
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{flags[0]} sets how a checkpoint's" in err


def test_a_confusion_file_not_named_png_is_refused(tmp_path, capsys):
    # PNG data was written under c.txt (s36 flags 9)
    pred, gt = _perfect(tmp_path, {"a": MASK})
    confusion = tmp_path / "c.txt"
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--label-values", "0", "255"]
    assert main([*argv, "--confusion", str(confusion)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(tmp_path / "c.png") in err
    assert not confusion.exists()
    assert main([*argv, "--confusion", str(tmp_path / "c.PNG")]) == 0


def test_a_json_file_not_named_json_is_refused(tmp_path, capsys):
    # JSON was written under a new e2.csv (only an existing one was refused: s41 audit)
    pred, gt = _perfect(tmp_path, {"a": MASK})
    report = tmp_path / "e2.csv"
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--label-values", "0", "255"]
    assert main([*argv, "--json", str(report)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(tmp_path / "e2.json") in err
    assert list(tmp_path.glob("e2*")) == []
    assert main([*argv, "--json", str(tmp_path / "e2.JSON")]) == 0
    assert main([*argv, "--json", "-"]) == 0


def _with_patch(value: int) -> np.ndarray:
    """A 0/1 mask (class indices) with a 3x3 patch of ``value``."""
    mask = (MASK > 0).astype(np.uint8)
    mask[0:3, 5:8] = value
    return mask


@pytest.mark.parametrize("value", [2, 255])
def test_a_mask_value_in_one_file_only_beyond_the_predictions_is_named(value, tmp_path, capsys):
    # 255 among 0/1 masks was refused without naming the file (s37); a 2 was scored as a
    # third class (IoU 0, mIoU 0.67 for perfect predictions, object scores left out)
    one = (MASK > 0).astype(np.uint8)
    pred, gt = _perfect(tmp_path, {"a": one, "b": one, "c": one, "d": _with_patch(value)})
    with pytest.raises(DatasetError, match=rf"d\.png holds {value}: .*ignore_value={value}"):
        evaluate_predictions(pred, gt)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "d.png" in err and "a.png" not in err
    assert f"--ignore-value {value}" in err and "in one of the 4 mask files only" in err
    report = evaluate_predictions(pred, gt, ignore_value=value)  # its fix
    assert report.summary["miou"] == 1.0


def test_another_encoding_in_one_file_is_named_and_a_rare_class_is_scored(tmp_path, capsys):
    three = _with_patch(2)
    other = np.select([three == 1, three == 2], [128, 255], 0).astype(np.uint8)
    pred, gt = _perfect(tmp_path, {"a": three, "b": three, "c": other})
    for name in "abc":
        write_png(pred / f"{name}.png", three)  # the classes 0, 1, 2
    with pytest.raises(DatasetError, match=r"c\.png holds 128 255: a mask in another encoding"):
        evaluate_predictions(pred, gt)
    # a class in one file only that is predicted (a test set's rare class): scored
    plain = (MASK > 0).astype(np.uint8)
    write_png(gt / "masks" / "c.png", plain)
    write_png(gt / "masks" / "b.png", plain)
    write_png(pred / "b.png", plain)
    write_png(pred / "c.png", plain)
    report = evaluate_predictions(pred, gt)
    assert report.summary["miou"] == 1.0 and len(report.class_names) == 3
    # and one named by the class names
    write_png(pred / "a.png", plain)
    report = evaluate_predictions(pred, gt, class_names=["bg", "cell", "rare"])
    assert report.class_names == ["bg", "cell", "rare"]


def test_the_help_says_what_each_flag_does_with_pred_and_with_a_checkpoint(capsys):
    # --exclude-rows sat among --checkpoint's prediction flags, its default the checkpoint's,
    # though --pred scores its rows nowhere too; --cut-min-area named a --level evaluate has
    # not; --device was among the general options, though --pred refuses it (s37)
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    start = text.index("prediction (with --checkpoint):")
    prediction = text[start : text.index("objects (with --checkpoint;")]
    assert "--device DEVICE auto" in prediction and "--exclude-rows" not in prediction
    assert "scored nowhere" in text and "with --pred none)" in text
    assert "--level" not in text
    assert "beside FILE (not with -)" in text and "where objects are scored" in text


def test_jpeg_predictions_of_another_tool_are_refused_naming_the_format(tmp_path, capsys):
    """Another tool's 0/255 class maps saved as JPEG hold every value between at the edges:
    scored as 256 class indices, mIoU 0.02, exit 0 (audit s41); with --label-values 0 255
    refused naming --label-values, which cannot help. One line naming JPEG and the fix."""
    from PIL import Image

    yy, xx = np.mgrid[:48, :48]
    mask = np.where(np.hypot(yy - 20, xx - 27) < 13, 255, 0).astype(np.uint8)
    write_png(tmp_path / "gt" / "a.png", mask)
    (tmp_path / "pred").mkdir()
    Image.fromarray(mask).save(tmp_path / "pred" / "a.jpg", quality=75)
    for extra in ([], ["--label-values", "0", "255"]):
        argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
        assert main([*argv, *extra]) == 2
        err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
        assert len(err) == 1 and "a.jpg" in err[0] and "JPEG" in err[0] and "PNG" in err[0]


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_a_colour_prediction_is_refused_in_a_prediction_s_words(tmp_path, capsys, suffix):
    """An RGB class map (PNG, or a one-page TIFF the folder look passes over) was refused
    with a mask's fix, 'list the mask colours in class_colors.txt beside the data', which
    does not read predictions: one line naming the prediction and the fix (s67)."""
    mask = np.zeros((16, 16), np.uint8)
    mask[4:9, 4:9] = 1
    write_png(tmp_path / "gt" / "a.png", mask)
    (tmp_path / "gt" / "class_colors.txt").write_text("0 0 0 bg\n255 0 0 cell\n")
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[mask == 1] = (255, 0, 0)
    (tmp_path / "pred").mkdir()
    if suffix == ".png":
        write_png(tmp_path / "pred" / "a.png", rgb)
    else:
        tifffile.imwrite(tmp_path / "pred" / "a.tif", rgb)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    for extra in ([], ["--label-values", "0", "255"]):
        assert main([*argv, "--no-progress", *extra]) == 2
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert len(err) == 1, err
        assert f"a{suffix}: this prediction is a colour (RGB) image" in err[0]
        assert "save it as class indices (a grey or palette PNG" in err[0]
        assert "class_colors.txt" not in err[0]


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("value", [1, 255])
def test_a_grey_rgb_prediction_is_read_as_its_grey_values_and_said(tmp_path, caplog, suffix, value):
    """A class map another tool saved as RGB of three equal channels (a PNG, a contiguous
    RGB TIFF) is read as its grey values, as a grey map of them is (0/1: mIoU 1.0; 0/255
    beside 0/1 masks: refused as the grey map is, naming the fix) and as a grey RGB mask
    is: it was read so with no word that it was RGB (review s68, scenario F); a colour one
    is refused."""
    mask = np.zeros((16, 16), np.uint8)
    mask[4:9, 4:9] = 1
    write_png(tmp_path / "gt" / "a.png", mask)
    write_png(tmp_path / "grey" / "a.png", mask * value)
    rgb = np.repeat((mask * value)[..., None], 3, axis=-1)
    (tmp_path / "pred").mkdir()
    if suffix == ".png":
        write_png(tmp_path / "pred" / "a.png", rgb)
    else:
        tifffile.imwrite(tmp_path / "pred" / "a.tif", rgb, photometric="rgb")
    said = (
        f"{tmp_path / 'pred' / ('a' + suffix)}: a grey RGB prediction (R = G = B): read as "
        f"its grey values (0 {value}), as every such file is (said at the first)"
    )

    def scored(folder: str):
        """The mIoU of the maps in ``folder``, or the line refusing them."""
        try:
            report = evaluate_predictions(tmp_path / folder, tmp_path / "gt", progress=False)
        except MaskValuesError as refused:
            return str(refused)
        return report.summary["miou"]

    grey = scored("grey")
    with caplog.at_level(logging.INFO):
        assert scored("pred") == grey
    assert grey == 1.0 if value == 1 else grey.startswith("the predictions hold 0 and 255 but")
    assert [r.getMessage() for r in caplog.records if "grey RGB" in r.getMessage()] == [said]
    caplog.clear()
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--no-progress"]) == (0 if value == 1 else 2)  # once a command too
    assert [r.getMessage() for r in caplog.records if "grey RGB" in r.getMessage()] == [said]


def test_a_stack_of_three_planes_against_one_mask_is_told_the_page_counts(tmp_path, capsys):
    """A 3-plane ImageJ stack saved without axes (tifffile reads it CYX: a colour image as
    one page) scored against a 2-D mask was told 'this prediction is a colour (RGB) image'
    (review s67); its problem is 3 pages against 1, said as a stack of planes is."""
    mask = np.zeros((16, 16), np.uint8)
    mask[4:9, 4:9] = 1
    write_png(tmp_path / "gt" / "a.png", mask)
    (tmp_path / "pred").mkdir()
    planes = np.stack([mask, mask.T, mask[::-1]])  # unlike: no grey RGB image
    tifffile.imwrite(tmp_path / "pred" / "a.tif", planes, imagej=True)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--no-progress"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert "a.tif has 3 pages but its ground truth" in err[0] and "a.png has 1" in err[0]
    assert "colour" not in err[0]


@pytest.mark.filterwarnings("ignore:<tifffile.TiffWriter.write> data with shape")
@pytest.mark.parametrize("imagej", [False, True])
@pytest.mark.parametrize("instances", [False, True])
def test_a_stack_of_equal_planes_against_one_mask_is_told_the_page_counts(
    tmp_path, capsys, imagej, instances
):
    """A 3-plane stack of IDENTICAL planes saved without axes (an ImageJ stack reads as CYX,
    its channels equal: one grey image) was scored as one page against a 2-D mask without
    a word, where unlike planes were told the page counts (s68): told the same in the
    command and the Python API, class maps and object ids alike."""
    mask = np.zeros((16, 16), np.uint8)
    mask[4:9, 4:9] = 1
    write_png(tmp_path / "gt" / "a.png", mask)
    (tmp_path / "pred").mkdir()
    tifffile.imwrite(tmp_path / "pred" / "a.tif", np.stack([mask] * 3), imagej=imagej)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    flags = ["--gt-instances", "--pred-instances"] if instances else []
    assert main([*argv, "--no-progress", *flags]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert "a.tif has 3 pages but its ground truth" in err[0] and "a.png has 1" in err[0]
    kept = dict(gt_instances=instances, pred_instances=instances)
    with pytest.raises(DatasetError, match=r"a\.tif has 3 pages but its ground truth .*has 1"):
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", progress=False, **kept)


@pytest.mark.filterwarnings("ignore:<tifffile.TiffWriter.write> data with shape")
@pytest.mark.parametrize("equal", [False, True])
def test_objects_3d_is_told_the_page_counts_of_a_stack_without_axes(tmp_path, capsys, equal):
    """--objects-3d read a 3-plane ImageJ stack of object ids saved without axes against a
    one-page mask as one page where its planes were equal (F1 1.0, no word), as a colour
    image told a mask's fix (class_colors.txt) where they were not (review s68): told the
    page counts, as evaluate --pred tells them, in the command and the Python API."""
    mask = np.zeros((16, 16), np.uint8)
    mask[4:9, 4:9] = 1
    other = np.zeros_like(mask)
    other[10:14, 10:14] = 1
    write_png(tmp_path / "gt" / "a.png", mask)
    (tmp_path / "pred").mkdir()
    planes = np.stack([mask, mask if equal else other, mask]).astype(np.uint16)
    tifffile.imwrite(tmp_path / "pred" / "a_objects.tif", planes, imagej=True)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--no-progress", "--objects-3d", "--gt-instances"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert "a_objects.tif has 3 pages but its ground truth" in err[0], err
    assert "a.png has 1" in err[0] and "class_colors" not in err[0]
    with pytest.raises(DatasetError, match=r"a_objects\.tif has 3 pages but its ground truth"):
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", progress=False, objects_3d=True)


@pytest.mark.filterwarnings("ignore:<tifffile.TiffWriter.write> data with shape")
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("planes", [2, 4])
def test_planes_without_axes_are_told_the_page_counts_or_class_indices(
    tmp_path, capsys, dtype, planes
):
    """An ImageJ stack of planes saved without axes against a one-page mask: integer planes
    are told the page counts (one plane saved alone scores), float ones (a (K, H, W) map of
    class probabilities) that a class map holds class indices: they were told the page
    counts, whose fix, one plane of probabilities, was refused again (review s68)."""
    mask = np.zeros((16, 16), np.uint8)
    mask[4:9, 4:9] = 1
    write_png(tmp_path / "gt" / "a.png", mask)
    (tmp_path / "pred").mkdir()
    stack = np.stack([1 - mask, mask] * (planes // 2)).astype(dtype)
    tifffile.imwrite(tmp_path / "pred" / "a.tif", stack, imagej=True)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--no-progress"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    said = (
        f"a.tif: a class map holds class indices 0, 1, .., one a pixel, not {planes} planes of "
        "float32 values (saved without axes: read as one image); save the predicted class of "
        "each pixel (object ids: --pred-instances; probabilities: threshold them first"
    )
    if dtype == "uint8":
        said = f"a.tif has {planes} pages but its ground truth "
    assert said in err[0], err
    with pytest.raises(DatasetError, match="class indices" if dtype == "float32" else "pages"):
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", progress=False)


def test_colour_object_ids_are_told_how_to_make_ids(tmp_path, capsys):
    """An RGB label image of objects (another tool's: a colour an object) given as object
    ids was told a class mask's fix, class_colors.txt beside the data (review s67): one
    line saying how to save the ids, in each caller's words, calling it a prediction (it
    was 'this mask is a colour (RGB) image', s67 final re-read)."""
    mask = np.zeros((32, 32), np.uint8)
    mask[4:10, 4:10], mask[20:28, 20:28] = 1, 2
    write_png(tmp_path / "gt" / "a.png", mask)
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[mask == 1], rgb[mask == 2] = (255, 0, 0), (0, 255, 0)
    write_png(tmp_path / "pred" / "a.png", rgb)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--no-progress", "--gt-instances", "--pred-instances"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert err[0] == f"unetlab evaluate: error: {_colour_ids_line(tmp_path, *_BY_CLI)}"
    with pytest.raises(DatasetError) as told:
        evaluate_predictions(
            tmp_path / "pred", tmp_path / "gt", gt_instances=True, pred_instances=True
        )
    assert str(told.value) == _colour_ids_line(tmp_path, *_BY_API)
    recipe = str(told.value).split("becomes ids by ")[1].rsplit(" (", 1)[0]
    write_png(tmp_path / "pred" / "a.png", eval(recipe, {"np": np, "image": rgb}))
    report = evaluate_predictions(
        tmp_path / "pred", tmp_path / "gt", gt_instances=True, pred_instances=True
    )
    assert report.summary["object_f1"] == 1.0  # the line's recipe makes ids that score


#: how the command and the Python API name the reader of ids and their maker
_BY_CLI = ("--pred-instances", "unetlab predict --instances")
_BY_API = ("pred_instances=True", "predict_folder(..., objects=True)")


def _colour_ids_line(tmp_path, reader: str, made: str) -> str:
    """The refusal of the colour prediction pred/a.png read as object ids (s68: its how-to
    was a mask's, 'a mask of a colour an object'), as ``reader`` and ``made`` name them."""
    ids = (
        "np.unique(image[..., :3].reshape(-1, 3), axis=0, return_inverse=True)[1]"
        ".reshape(image.shape[:-1]).astype(np.uint16)"
    )
    return (
        f"{tmp_path / 'pred' / 'a.png'}: this prediction is a colour (RGB) image; {reader} "
        f"reads one object id a pixel, as {made} writes them (<stem>_objects.tif): a grey "
        "(single-channel) 16-bit PNG or TIFF, 0 the background and 1..n one per object; "
        f"another tool's image of a colour an object (black the background) becomes ids by "
        f"{ids} (image: its RGB or RGBA array as read; the alpha left out)"
    )


def test_jpeg_masks_are_refused_naming_the_format(tmp_path, capsys):
    """Masks saved as JPEG were refused as '00: label value(s) [1, 2, ...] are not among the
    classes' values [0, 255]; set data.label_values ...' (audit s41): the file and that it
    is a JPEG, as training says it."""
    from PIL import Image

    yy, xx = np.mgrid[:48, :48]
    mask = np.where(np.hypot(yy - 20, xx - 27) < 13, 255, 0).astype(np.uint8)
    Image.fromarray(mask).save(tmp_path / "a.jpg", quality=75)
    (tmp_path / "gt").mkdir()
    (tmp_path / "a.jpg").rename(tmp_path / "gt" / "a.jpg")
    write_png(tmp_path / "pred" / "a.png", (mask > 0).astype(np.uint8))
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--label-values", "0", "255"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and "a.jpg" in err[0] and "JPEG" in err[0] and "PNG" in err[0]


def test_a_32_bit_mask_of_a_few_object_ids_names_gt_instances(tmp_path, capsys):
    # a uint32 mask of two ids (70000, 80000) beside --pred-instances was refused naming only
    # --label-values, not --gt-instances (the fix when the masks are object ids; s43 review)
    mask = np.zeros((32, 32), np.uint32)
    mask[2:10, 2:10], mask[15:25, 15:25] = 70000, 80000
    (tmp_path / "data" / "masks").mkdir(parents=True)
    tifffile.imwrite(tmp_path / "data" / "masks" / "a.tif", mask)
    write_png(tmp_path / "data" / "images" / "a.png", np.full((32, 32), 9, np.uint8))
    objects = np.zeros((32, 32), np.uint16)
    objects[2:10, 2:10], objects[15:25, 15:25] = 1, 2
    (tmp_path / "pred").mkdir()
    tifffile.imwrite(tmp_path / "pred" / "a_objects.tif", objects)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "data")]
    assert main([*argv, "--pred-instances"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--gt-instances" in err and "80000" in err
    assert main([*argv, "--pred-instances", "--gt-instances"]) == 0


def test_jpeg_masks_beside_object_ids_are_refused_not_read_as_ids(tmp_path, capsys, caplog):
    """walk s49: 0/255 nuclei masks saved as JPEG beside predict --instances' object ids
    were first said to "look like object ids ... read as object ids" (the JPEG's edges hold
    many values), then refused as JPEG: only the refusal is said."""
    from PIL import Image

    yy, xx = np.mgrid[:48, :48]
    discs = [np.hypot(yy - y, xx - x) < 7 for y, x in ((12, 12), (12, 34), (34, 20))]
    ids = np.zeros((48, 48), np.uint16)
    for i, disc in enumerate(discs, 1):
        ids[disc] = i
    (tmp_path / "gt").mkdir()
    Image.fromarray(np.where(ids > 0, 255, 0).astype(np.uint8)).save(tmp_path / "gt" / "a.jpg")
    (tmp_path / "pred").mkdir()
    tifffile.imwrite(tmp_path / "pred" / "a_objects.tif", ids)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main(argv) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and "a.jpg: JPEG masks are lossy" in err[0], err
    assert "look like object ids" not in caplog.text


@pytest.mark.filterwarnings("ignore:<tifffile.TiffWriter.write> data with shape")
@pytest.mark.parametrize("objects_3d", [False, True])
def test_float_planes_of_object_ids_without_axes_are_told_ids_are_integers(
    tmp_path, capsys, objects_3d
):
    """A float32 ImageJ stack of 3 planes of object ids saved without axes against a one-page
    mask: told that object ids are integers, not the page counts, whose fix (one plane saved
    alone) is refused as float ids again (review s68); with --objects-3d too."""
    mask = np.zeros((16, 16), np.uint8)
    mask[4:9, 4:9] = 1
    write_png(tmp_path / "gt" / "a.png", mask)
    (tmp_path / "pred").mkdir()
    planes = np.stack([mask, 1 - mask, mask]).astype(np.float32)
    tifffile.imwrite(tmp_path / "pred" / "a_objects.tif", planes, imagej=True)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    flags = ["--objects-3d"] if objects_3d else []
    assert main([*argv, "--no-progress", "--gt-instances", *flags]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert (
        "a_objects.tif: object ids are integers 0 (none), 1..n, one a pixel, not 3 planes of "
        "float32 values (saved without axes: read as one image); write the label image of the "
        "objects"
    ) in err[0], err
