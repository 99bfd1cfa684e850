"""evaluate --pred on what predict --instances writes for a semantic model of several object
classes matches its objects within their class, as evaluate --checkpoint does (audit s35
multiclass 1: every class swapped scored object F1 1.0 and PQ 1.0)."""

import json
import logging
import shutil

import numpy as np
import pytest

import unetlab.checkpoint
import unetlab.evaluate
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png, write_tiff
from unetlab.errors import UnetlabError
from unetlab.evaluate import evaluate_predictions

from .test_predict_objects import LocalNet

SUMMARY = ("miou", "rand_error", "object_f1", "object_tp", "pq", "sq", "rq", "pred_objects")


def _discs(h: int = 64, w: int = 80) -> np.ndarray:
    """Class map: discs of class 1 (mid grey) and 2 (bright), two of class 1 touching."""
    yy, xx = np.mgrid[:h, :w]
    classes = np.zeros((h, w), np.uint8)
    for cy, cx, k in [(14, 14, 1), (14, 27, 1), (44, 20, 2), (40, 56, 1), (16, 60, 2)]:
        classes[np.hypot(yy - cy, xx - cx) <= 6.5] = k
    return classes


@pytest.fixture
def two_kinds(tmp_path, monkeypatch):
    """A data folder of grey and bright discs (class masks 0/1/2) and a checkpoint whose net
    is a fixed local function of the image: background where dark, class 1 mid, 2 bright."""
    net = LocalNet(in_channels=1, num_classes=3, depth=2, base_channels=4, padding="valid").eval()
    net.classes, net.label_values = ["background", "healthy", "apoptotic"], None
    net.objects = {"count": 5, "area_p05": 40.0, "area_p95": 140.0}
    save_model(tmp_path / "m.pt", net)
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    classes = _discs()
    rng = np.random.default_rng(0)
    image = np.choose(classes, [30, 120, 230]) + rng.normal(0, 4, classes.shape)
    write_png(tmp_path / "data" / "images" / "a.png", np.clip(image, 0, 255).astype(np.uint8))
    write_png(tmp_path / "data" / "masks" / "a.png", classes)
    return tmp_path


def test_pred_of_predict_instances_scores_as_the_checkpoint(two_kinds):
    root = two_kinds
    argv = ["predict", "--checkpoint", str(root / "m.pt"), "--input", str(root / "data/images")]
    assert main([*argv, "--output", str(root / "out"), "--instances", "--device", "cpu"]) == 0
    common = ["--object-scores", "--device", "cpu"]
    by_pred = ["evaluate", "--pred", str(root / "out"), "--gt", str(root / "data")]
    by_model = ["evaluate", "--checkpoint", str(root / "m.pt"), "--data", str(root / "data")]
    assert main([*by_pred, "--object-scores", "--json", str(root / "p.json")]) == 0
    assert main([*by_model, *common, "--json", str(root / "c.json")]) == 0
    pred, model = (json.loads((root / f).read_text()) for f in ("p.json", "c.json"))
    assert model["object_classes"] == pred["object_classes"] == 2
    assert model["object_tp"] > 0  # the net finds some of the discs
    assert {k: pred[k] for k in SUMMARY} == pytest.approx({k: model[k] for k in SUMMARY})


def test_objects_of_the_wrong_class_match_nothing(tmp_path, caplog):
    """Every class swapped, the objects beside the class map: no object matches."""
    classes = _discs()
    swapped = np.choose(classes, [0, 2, 1]).astype(np.uint8)
    write_png(tmp_path / "gt" / "a.png", classes)
    (tmp_path / "gt" / "class_names.txt").write_text("background\nhealthy\napoptotic\n")
    write_png(tmp_path / "pred" / "a.png", swapped)
    ids = np.zeros(classes.shape, np.uint16)
    from scipy import ndimage

    for k in (1, 2):
        regions, _ = ndimage.label(classes == k)
        ids[regions > 0] = regions[regions > 0] + ids.max()
    write_tiff(tmp_path / "pred" / "a_objects.tif", ids)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", objects=True)
    s = report.summary
    assert (s["object_tp"], s["object_f1"], s["pq"]) == (0, 0.0, 0.0)
    assert s["object_classes"] == 2 and s["pred_objects"] == s["objects"] == 4
    # each class's counts and F1 in the table and the JSON (audit s35 multiclass 6)
    (line,) = [x for x in report.table().splitlines() if x.startswith("per class")]
    assert "healthy: 2 true, 2 predicted, F1 0.0000, PQ 0.0000; apoptotic: 2 true" in line
    healthy = report.to_dict()["classes"]["healthy"]
    assert (healthy["objects"], healthy["pred_objects"], healthy["object_f1"]) == (2, 2, 0.0)
    write_png(tmp_path / "pred" / "a.png", classes)  # the right classes: every object matches
    s = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", objects=True).summary
    assert (s["object_tp"], s["object_f1"], s["pq"]) == (4, 1.0, 1.0)
    caplog.clear()
    (tmp_path / "pred" / "a.png").unlink()  # ids alone: no class per object, said
    s = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", objects=True).summary
    said = [r.getMessage() for r in caplog.records if "no class map beside" in r.getMessage()]
    assert len(said) == 1 and "not within the 2 object classes of the masks" in said[0]


def test_predict_says_touching_objects_of_one_class_are_one(two_kinds, capsys, caplog):
    """A semantic model of two object classes without --distance-split: one line says that
    touching objects of one class are one object and names the flag (audit s35 multiclass 3)."""
    root = two_kinds
    caplog.set_level(logging.INFO)
    argv = ["predict", "--checkpoint", str(root / "m.pt"), "--input", str(root / "data/images")]
    for flags, said in (([], 1), (["--distance-split"], 0)):
        caplog.clear()
        out = str(root / f"out{said}")
        assert main([*argv, "--output", out, "--instances", "--device", "cpu", *flags]) == 0
        captured = capsys.readouterr()
        text = captured.out + captured.err + caplog.text
        assert text.count("touching objects of one class are one region") == said


def test_each_predictions_record_key_is_read_once(two_kinds, monkeypatch):
    """evaluate --pred reads the record key in each prediction's header once (each class
    map's was read five times: for its label values, ignore value, class names, model and
    labels; a PNG's text is read by decoding it whole)."""
    import collections
    import shutil
    from pathlib import Path

    import unetlab.inference.records

    root = two_kinds
    for stem in ("b", "c"):
        for part in ("images", "masks"):
            shutil.copy(root / "data" / part / "a.png", root / "data" / part / f"{stem}.png")
    argv = ["predict", "--checkpoint", str(root / "m.pt"), "--input", str(root / "data/images")]
    assert main([*argv, "--output", str(root / "out"), "--instances", "--device", "cpu"]) == 0
    reads: collections.Counter = collections.Counter()
    key = unetlab.inference.records.embedded_key

    def counted(path):
        reads[Path(path).name] += 1
        return key(path)

    monkeypatch.setattr(unetlab.inference.records, "embedded_key", counted)
    assert main(["evaluate", "--pred", str(root / "out"), "--gt", str(root / "data")]) == 0
    assert {"a.png", "b.png", "c.png", "c_objects.tif"} <= set(reads)
    assert max(reads.values()) == 1, reads


def test_masks_of_the_classes_mask_values_name_label_values(tmp_path):
    """README's 'predict them, then score the saved predictions' without --label-values
    0 255: the classes named '0' and '255' (the model's, from predict.json) and the masks'
    255 read as a class index; the line named neither --label-values nor the values (audit
    s40 readme), now both."""
    from unetlab.errors import UnetlabError

    pred = np.zeros((16, 16), np.uint8)
    pred[4:12, 4:12] = 1
    write_png(tmp_path / "pred" / "a.png", pred)
    write_png(tmp_path / "gt" / "a.png", pred * 255)
    with pytest.raises(UnetlabError, match=r"give label_values=\[0, 255\] to read each") as e:
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", class_names=["0", "255"])
    assert "give --label-values 0 255 to read each mask value as its class" in e.value.cli
    s = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 255]).summary
    assert s["miou"] == 1.0


@pytest.mark.parametrize(
    "outputs",
    [["x"], "x", {"labels": "mask values", "label_values": ["a"]}],
)
def test_a_hand_edited_record_is_read_as_no_record_not_a_traceback(tmp_path, outputs):
    """A predict.json record whose outputs are no mapping, or whose label values are not
    ints, is passed over as a record that gives nothing (review s40: AttributeError 'list'
    object has no attribute 'get', ValueError of int('a'))."""
    record = {"class_names": ["bg", "cell"], "checkpoint": "m.pt", "outputs": outputs}
    _hand_edited(tmp_path, record, missed=False)
    if isinstance(outputs, dict):  # a map said to hold mask values, none given: refused
        with pytest.raises(unetlab.evaluate.MaskValuesError, match="label_values"):
            evaluate_predictions(tmp_path / "pred", tmp_path / "gt")
    else:
        assert evaluate_predictions(tmp_path / "pred", tmp_path / "gt").summary["miou"] == 1.0


def test_evaluate_names_the_classes_as_the_model_was_trained_where_case_differs(tmp_path):
    """s47: the predictions' records name the model's classes (Road, sky): data set names that
    differ from them in letter case only are the model's; names that differ otherwise stay
    the data set's."""
    record = {"class_names": ["Road", "sky"], "checkpoint": "m.pt", "outputs": {}}
    _hand_edited(tmp_path, record, missed=False)
    (tmp_path / "gt" / "class_names.txt").write_text("road\nSKY\n")
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt")
    assert report.class_names == ["Road", "sky"]
    (tmp_path / "gt" / "class_names.txt").write_text("ground\nsky\n")
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt")
    assert report.class_names == ["ground", "sky"]


@pytest.mark.parametrize("masks", ["SegmentationClass", "labels"])
def test_the_data_sets_class_names_file_is_read_once(tmp_path, monkeypatch, masks):
    """A masks folder's parent's class_names.txt was read twice: checked against the
    colour tables, then read again for its names."""
    from unetlab.evaluate import masks as evaluate_masks

    gt = tmp_path / masks
    gt.mkdir()
    (tmp_path / "class_names.txt").write_text("background\ncell\n")
    reads = []
    read = evaluate_masks.class_names_from

    def counted(folder):
        reads.append(folder)
        return read(folder)

    monkeypatch.setattr(evaluate_masks, "class_names_from", counted)
    names = evaluate_masks.data_set_names(gt, None, None, instances=False)
    assert names == (None, {0: "background", 1: "cell"})
    assert reads.count(tmp_path) == 1, reads


@pytest.fixture
def binary_run(tmp_path):
    """A model trained on 0/255 masks (its checkpoint's label values), its class maps of
    class indices written by predict without --label-values, and 0/255 masks."""
    from unetlab import UNet

    rng = np.random.default_rng(1)
    model = UNet(1, 2, depth=2, base_channels=2)
    model.label_values = [0, 255]
    save_model(tmp_path / "m.pt", model)
    for name in ("a", "b"):
        write_png(
            tmp_path / "data" / "images" / f"{name}.png", rng.integers(0, 255, (20, 24), np.uint8)
        )
        mask = np.where(rng.random((20, 24)) < 0.4, 255, 0).astype(np.uint8)
        write_png(tmp_path / "data" / "masks" / f"{name}.png", mask)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input"]
    argv += [
        str(tmp_path / "data" / "images"),
        "--output",
        str(tmp_path / "out"),
        "--device",
        "cpu",
    ]
    assert main(argv) == 0
    return tmp_path


def test_pred_of_class_indices_reads_masks_by_the_training_values(binary_run, caplog):
    """evaluate --pred of predict's class maps (class indices) against the 0/255 masks the
    model was trained on scores without --label-values, as with --label-values 0 255 (s40:
    refused, naming --label-values 0 255), and says so in one line."""
    root = binary_run
    caplog.set_level(logging.INFO)
    argv = ["evaluate", "--pred", str(root / "out"), "--gt", str(root / "data")]
    assert main([*argv, "--json", str(root / "plain.json")]) == 0
    said = [r.getMessage() for r in caplog.records if "training's mask values" in r.getMessage()]
    assert len(said) == 1 and "0 255" in said[0] and "--label-values" in said[0]
    assert main([*argv, "--label-values", "0", "255", "--json", str(root / "given.json")]) == 0
    plain, given = (json.loads((root / f).read_text()) for f in ("plain.json", "given.json"))
    assert plain["classes"] == given["classes"] and plain["miou"] == given["miou"]
    assert plain["miou"] is not None


def test_masks_of_values_the_training_did_not_know_are_refused(binary_run, capsys):
    """Masks holding a value the predict.json record does not know (1 of 0/1 masks): one
    line naming the mask (its stem) and the values; --label-values 0 1 scores them."""
    root = binary_run
    mask = np.zeros((20, 24), np.uint8)
    mask[5:15, 5:15] = 1
    for name in ("a", "b"):
        write_png(root / "data" / "masks" / f"{name}.png", mask)
    argv = ["evaluate", "--pred", str(root / "out"), "--gt", str(root / "data")]
    assert main(argv) != 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert (
        len(err) == 1 and "a.png: label value 1 is not among the classes' values 0 255 (" in err[0]
    ), err
    assert main([*argv, "--label-values", "0", "1"]) == 0


def test_an_older_record_without_training_values_is_refused_as_before(binary_run):
    """A predict.json from before records kept the training's label values: the masks'
    255 refused, naming the label values 0 255, as before."""
    from unetlab.errors import UnetlabError

    root = binary_run
    written = json.loads((root / "out" / "predict.json").read_text())
    for record in written["records"].values():
        assert record.pop("label_values") == [0, 255]
    (root / "out" / "predict.json").write_text(json.dumps(written))
    with pytest.raises(UnetlabError, match=r"label_values=\[0, 255\]"):
        evaluate_predictions(root / "out", root / "data")


def test_a_hand_edited_ignore_value_of_true_is_no_ignore_value(tmp_path):
    """``"ignore_value": true`` in a hand-edited predict.json was read as mask value 1 and
    left the cells unscored (review s40); it is a record that gives none."""
    record = {"checkpoint": "m.pt", "ignore_value": True, "outputs": {}}
    _hand_edited(tmp_path, record, missed=True)  # scored unless mask value 1 is ignored
    assert evaluate_predictions(tmp_path / "pred", tmp_path / "gt").summary["miou"] < 1.0


def test_a_map_whose_record_says_class_indices_holding_a_mask_value_names_the_fix(tmp_path, capsys):
    """A map whose predict.json record says class indices but holding 255, the mask value
    of class 1 (--label-values 0 255): refused naming the fix, predict again without
    --label-values (c63d54c7), not read as mask values as another tool's record-less maps
    are (the two tests that pinned it were turned to that reading, s66)."""
    record = {"checkpoint": "m.pt", "outputs": {"labels": "class indices"}}
    _hand_edited(tmp_path, record, missed=False, cell=255)
    pred, gt = tmp_path / "pred", tmp_path / "gt"
    with pytest.raises(UnetlabError, match="predict again without label_values=True"):
        evaluate_predictions(pred, gt, label_values=[0, 255])
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--label-values", "0", "255"]
    assert main([*argv, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "the predictions hold 255, the mask value of class 1, but class indices 0..1" in err
    assert "evaluate that folder, or predict again without --label-values" in err


def _hand_edited(tmp_path, record: dict, missed: bool, cell: int = 1) -> None:
    """A cell mask ``gt/a.png`` (the cell's value ``cell``) and its prediction ``pred/a.png``
    (the cell found, or ``missed``) whose key points at ``record`` in a hand-written
    ``pred/predict.json``."""
    from PIL import Image, PngImagePlugin

    mask = np.zeros((16, 16), np.uint8)
    mask[4:9, 4:9] = cell
    write_png(tmp_path / "gt" / "a.png", mask)
    (tmp_path / "pred").mkdir()
    info = PngImagePlugin.PngInfo()
    info.add_text("unetlab.prediction", json.dumps({"key": "K"}))
    pred = np.zeros_like(mask) if missed else mask
    Image.fromarray(pred).save(tmp_path / "pred" / "a.png", pnginfo=info)
    (tmp_path / "pred" / "predict.json").write_text(json.dumps({"records": {"K": record}}))


def _two_records(root) -> dict:
    """``root``'s ``out/`` predicted again in two runs (b.png with --tta): two predict.json
    records, one a map; the records returned."""
    shutil.rmtree(root / "out")
    argv = ["predict", "--checkpoint", str(root / "m.pt"), "--output", str(root / "out")]
    argv += ["--device", "cpu", "--input"]
    assert main([*argv, str(root / "data" / "images" / "a.png")]) == 0
    assert main([*argv, str(root / "data" / "images" / "b.png"), "--tta"]) == 0
    records = json.loads((root / "out" / "predict.json").read_text())["records"]
    assert len(records) == 2
    return records


def _rewritten(root, records: dict, change) -> None:
    """``out/predict.json`` with each of its ``records`` (in order) passed to ``change``."""
    written = json.loads((root / "out" / "predict.json").read_text())
    for i, key in enumerate(records):
        change(i, written["records"][key])
    (root / "out" / "predict.json").write_text(json.dumps(written))


def test_old_and_new_records_in_one_folder_read_masks_by_the_new_one_s_values(binary_run):
    """A folder predicted before records kept the training's label values (a.png's) and
    after (b.png's, 0 255): the old record says nothing against 0 255, so the masks are read
    by them, as with --label-values 0 255 (the folder was refused as a whole, as an old one)."""
    root = binary_run
    records = _two_records(root)
    _rewritten(root, records, lambda i, record: record.pop("label_values") if i == 0 else None)
    got = evaluate_predictions(root / "out", root / "data")
    given = evaluate_predictions(root / "out", root / "data", label_values=[0, 255])
    assert got.summary["miou"] == given.summary["miou"] is not None
    assert got.class_names == given.class_names == ["0", "255"]


def test_two_records_of_other_training_values_are_still_refused(binary_run):
    """A real contradiction: two records that give other training label values."""
    root = binary_run
    records = _two_records(root)
    _rewritten(root, records, lambda i, record: record.update(label_values=[0, 128 + 127 * i]))
    with pytest.raises(UnetlabError, match=r"trained on the mask values 0 (128|255) but .* on 0"):
        evaluate_predictions(root / "out", root / "data")


def test_a_report_beside_the_predictions_or_a_stray_image_keeps_the_training_values(binary_run):
    """evaluate --json out/e.json wrote e_confusion.png among predict's class maps; the next
    evaluate of out/ (or one with any image no record describes there: a screenshot) found
    that map without training values and refused the 0/255 masks, naming --label-values
    (audit s41): a file no record describes says nothing of the training."""
    root = binary_run
    argv = ["evaluate", "--pred", str(root / "out"), "--gt", str(root / "data")]
    argv += ["--json", str(root / "out" / "e.json")]
    assert main(argv) == 0 and (root / "out" / "e_confusion.png").is_file()
    first = json.loads((root / "out" / "e.json").read_text())
    assert main(argv) == 0
    assert json.loads((root / "out" / "e.json").read_text())["miou"] == first["miou"]
    (root / "out" / "e_confusion.png").unlink()
    write_png(root / "out" / "screenshot.png", np.zeros((20, 24), np.uint8))
    assert evaluate_predictions(root / "out", root / "data").summary["miou"] == first["miou"]


def test_evaluates_own_confusion_png_is_no_prediction_without_a_mask(binary_run, caplog):
    """The second evaluate of out/ with its report there said '1 prediction(s) in out have
    no mask ... and are not scored: e_confusion' (audit s41): evaluate's own outputs (its
    manifest) are no predictions."""
    root = binary_run
    argv = ["evaluate", "--pred", str(root / "out"), "--gt", str(root / "data")]
    argv += ["--json", str(root / "out" / "e.json")]
    assert main(argv) == 0
    caplog.clear()
    assert main(argv) == 0
    assert "e_confusion" not in caplog.text


def test_the_commands_named_to_each_caller_are_its_own(binary_run, caplog):
    """evaluate --pred's lines named commands (unetlab predict --label-values, evaluate
    --checkpoint, unetlab predict's --output) to Python callers too (s56): each caller is
    told its own form, the function and keyword to Python, the flags to the command line."""
    root = binary_run
    argv = ["predict", "--checkpoint", str(root / "m.pt"), "--input", str(root / "data" / "images")]
    assert main([*argv, "--output", str(root / "v"), "--label-values"]) == 0
    python = (
        "predict_folder(..., label_values=True)",
        "that evaluate_model(model, data_dir) scores",
    )
    cli = ("mask values: unetlab predict --label-values)", "that evaluate --checkpoint scores")
    caplog.set_level(logging.INFO)
    evaluate_predictions(root / "v", root / "data", progress=False)
    assert all(said in caplog.text for said in python) and "unetlab predict" not in caplog.text
    caplog.clear()
    assert main(["evaluate", "--pred", str(root / "v"), "--gt", str(root / "data")]) == 0
    assert all(said in caplog.text for said in cli) and "predict_folder" not in caplog.text
    masks = root / "data" / "masks"
    with pytest.raises(UnetlabError) as error:
        evaluate_predictions(masks, masks, progress=False)
    fix = "would score 1.0 against themselves; give the folder of the predictions"
    assert str(error.value).endswith(f"{fix} (the out_dir of predict_folder)")
    assert error.value.cli.endswith(f"{fix} (unetlab predict's --output)")
