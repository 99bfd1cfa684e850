"""evaluate --pred of class maps holding the masks' ignore value (another tool's void 255),
review s66: copied where the masks ignore it, it printed a row '4..255 (252 values, no
rows) ... a label value too many?'; predicted on labelled pixels, it entered the mIoU as a
class 255 of IoU 0; where the masks ignore it too, it joined two regions into one object."""

import json

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_predictions


def _scene(root, *, on_labelled: bool):
    """Masks of classes 0..3 (columns) with 255 void in the top 3 rows; a prediction right
    everywhere, copying the void, with (``on_labelled``) 255 on 18 pixels of class 1."""
    mask = np.zeros((40, 40), np.uint8)
    mask[:, 10:20], mask[:, 20:30], mask[:, 30:], mask[:3] = 1, 2, 3, 255
    pred = mask.copy()
    if on_labelled:
        pred[5:8, 12:18] = 255
    write_png(root / "gt" / "a.png", mask)
    write_png(root / "pred" / "a.png", pred)
    return ["evaluate", "--pred", str(root / "pred"), "--gt", str(root / "gt"), "--no-progress"]


def test_a_void_copied_where_the_masks_ignore_it_is_no_stray_class(tmp_path, capsys):
    argv = _scene(tmp_path, on_labelled=False)
    assert main([*argv, "--ignore-value", "255"]) == 0
    out = capsys.readouterr().out
    assert "no rows" not in out and "too many" not in out
    assert "mIoU               1.0000" in out
    rows = [line.split()[0] for line in out.split("\n\n")[0].splitlines()[1:]]
    assert rows == ["0", "1", "2", "3"]


@pytest.mark.parametrize("given", [None, [0, 1, 2, 3]], ids=["indices", "label-values"])
def test_a_void_predicted_on_a_class_is_wrong_for_it_not_a_class_of_its_own(tmp_path, given):
    _scene(tmp_path, on_labelled=True)
    report = evaluate_predictions(
        tmp_path / "pred", tmp_path / "gt", label_values=given, ignore_value=255, progress=False
    )
    s = report.summary
    assert report.class_names == ["0", "1", "2", "3"]
    assert s["iou"] == pytest.approx([1.0, 352 / 370, 1.0, 1.0])  # class 1 lost 18 px
    assert s["recall"][1] == pytest.approx(352 / 370) and s["pixels"][1] == 370
    assert s["miou"] == pytest.approx(np.mean(s["iou"]))  # 0.9878, not 0.7903 with a 255
    assert s["pixel_accuracy"] == pytest.approx(1 - 18 / (4 * 370))
    assert s["labelled_pixels"] == 4 * 370
    assert report.images[0]["miou"] == pytest.approx(s["miou"])
    table = report.table()
    assert "no rows" not in table and "\n255 " not in table
    assert "(scored as wrong for that class, no class of their own in mIoU)" in table


@pytest.mark.parametrize("step", [10, 1], ids=["label-values", "indices"])
def test_a_void_the_masks_ignore_too_joins_no_two_regions(tmp_path, step):
    """Two class-0 squares joined by a void bridge in the masks and in a perfect map of
    mask values: 1 object predicted of 2 true (object F1 0.6667), the bridge read as class
    0 before the regions were found. Class indices (``step`` 1) likewise."""
    mask = np.full((20, 20), 2 * step, np.uint8)
    mask[4:10, 2:8], mask[4:10, 12:18], mask[6:8, 8:12] = 0, 0, 255
    write_png(tmp_path / "gt" / "a.png", mask)
    write_png(tmp_path / "pred" / "a.png", mask)
    report = evaluate_predictions(
        tmp_path / "pred",
        tmp_path / "gt",
        label_values=[0, 10, 20] if step == 10 else None,
        ignore_value=255,
        boundary_class=2,
        objects=True,
        progress=False,
    )
    s = report.summary
    assert (s["pred_objects"], s["objects"], s["object_f1"]) == (2, 2, 1.0)
    assert s["rand_error"] == pytest.approx(0.0)


def test_the_void_predicted_on_a_class_is_in_the_json_and_the_confusion_png(tmp_path, monkeypatch):
    """Review s66: the JSON's matrix summed to 1462 of 1480 labelled pixels, the 18 of class
    1 predicted as 255 nowhere; the PNG's row of class 1 read 1.000 (352 / 352) where its
    recall is 0.9514."""
    from matplotlib.axes import Axes

    shown = []
    imshow = Axes.imshow
    monkeypatch.setattr(Axes, "imshow", lambda ax, a, **kw: shown.append(a) or imshow(ax, a, **kw))
    argv = _scene(tmp_path, on_labelled=True)
    out = tmp_path / "out"
    argv += [
        "--ignore-value",
        "255",
        "--json",
        str(out / "r.json"),
        "--confusion",
        str(out / "c.png"),
    ]
    assert main(argv) == 0
    report = json.loads((out / "r.json").read_text())
    matrix, classes = np.array(report["confusion_matrix"]), report["classes"]
    assert [classes[n]["predicted_ignore"] for n in "0123"] == [0, 18, 0, 0]
    rows = [matrix[i].sum() + classes[n]["predicted_ignore"] for i, n in enumerate("0123")]
    assert rows == [classes[n]["pixels"] for n in "0123"] == [370] * 4
    assert sum(rows) == report["labelled_pixels"]
    assert shown[0][1, 1] == pytest.approx(classes["1"]["recall"]) == pytest.approx(352 / 370)
    assert shown[0].sum(1) == pytest.approx([1, 352 / 370, 1, 1])


def test_an_ignore_value_among_the_class_indices_has_no_row(tmp_path):
    """Masks 0 (void) / 1 / 2 with --ignore-value 0, maps copying the void and predicting 0
    on 20 labelled pixels: a row '0 n/a' said 'a label value or class name too many?'
    (review s66), against 'no class of their own in the table'."""
    for name in ("a", "b"):
        mask = np.ones((32, 32), np.uint8)
        mask[:, 16:], mask[:4] = 2, 0
        pred = mask.copy()
        pred[10:14, 2:7] = 0
        write_png(tmp_path / "gt" / f"{name}.png", mask)
        write_png(tmp_path / "pred" / f"{name}.png", pred)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", ignore_value=0)
    table = report.table()
    rows = [line.split()[0] for line in table.split("\n\n")[0].splitlines()[1:]]
    assert rows == ["1", "2"] and "too many" not in table
    assert "left out for 2 classes" in table and "\n  0 " not in table  # nor a spread line
    out = report.to_dict()
    assert list(out["classes"]) == out["confusion_classes"] == ["1", "2"]
    assert out["classes"]["1"]["iou"] == pytest.approx(428 / 448)  # 20 of 448 predicted void
    assert out["miou"] == pytest.approx((428 / 448 + 1) / 2)


def test_the_rare_class_line_says_the_share_predicted_as_the_ignore_value(tmp_path):
    """Class 3 (12 px) predicted as 0 on 6 px and as the void 255 on 6: the line on classes
    never predicted right says both shares."""
    mask = np.zeros((40, 40), np.uint8)
    mask[:, 20:], mask[30:33, 5:9], mask[:3], mask[35:] = 1, 3, 255, 2
    pred = mask.copy()
    pred[30:33, 5:9], pred[30:33, 5:7] = 255, 0
    write_png(tmp_path / "gt" / "a.png", mask)
    write_png(tmp_path / "pred" / "a.png", pred)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", ignore_value=255)
    said = [line for line in report.table().splitlines() if line.startswith("3 (")]
    assert said == [
        "3 (12 px, never predicted, 50% predicted as 0, 50% predicted as 255, the ignore "
        "value): in the masks but (nearly) never predicted right: IoU under 0.05; a rare "
        "class needs more training (more steps, or more images that hold it)"
    ]
