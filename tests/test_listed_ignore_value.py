"""``data.label_values`` listing the mask value ``data.ignore_value`` ignores (0, 1, 2 with 2
ignored): the masks hold it, training ignores it, and neither training's warnings nor
evaluate's count of classes take it as a class held by no mask (s67 noticed both)."""

import json
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from unetlab.config import load_config

SETS = ["data.label_values=[0, 1, 2]", "data.ignore_value=2", "data.weight_map=false"]


def _two_classes_and_a_band(root, n: int = 4):
    """``n`` 32 x 32 pairs: squares of 1 on 0, the top 3 rows 2 (the ignored band)."""
    rng = np.random.default_rng(0)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for i in range(n):
        mask = np.zeros((32, 32), np.uint8)
        mask[8:16, 8:16] = mask[20:28, 18:28] = 1
        mask[:3] = 2
        image = (mask * 80 + rng.integers(0, 40, mask.shape)).astype(np.uint8)
        Image.fromarray(image).save(root / "images" / f"{i:02d}.png")
        Image.fromarray(mask).save(root / "masks" / f"{i:02d}.png")
    return root


def test_training_says_no_listed_ignored_value_is_held_by_no_mask(tmp_path, caplog):
    """It warned 'data.label_values name 2 (2) that no training or validation mask holds'
    (every mask holds 2: training ignores it); the class keeps its output."""
    from unetlab.train import prepare_data

    root = _two_classes_and_a_band(tmp_path / "data")
    with caplog.at_level(logging.INFO):
        data = prepare_data(load_config(None, [f"data.root={root}", *SETS]))
    assert data.label_values == [0, 1, 2]
    assert "no training or validation mask holds" not in caplog.text


def test_evaluate_counts_no_class_of_the_listed_ignored_value(tmp_path):
    """evaluate --checkpoint of such a model: two classes, so the ISBI and object scores are
    computed, as for any two; it said 'left out for 3 classes'. Four values with one ignored
    are left out as three."""
    from unetlab.evaluate import evaluate_model
    from unetlab.models import UNet

    root = _two_classes_and_a_band(tmp_path / "data")
    torch.manual_seed(0)
    for values in ([0, 1, 2], [0, 1, 2, 3]):
        net = UNet(1, len(values), depth=2, base_channels=4, padding="same")
        net.classes, net.label_values, net.ignore_value = [str(v) for v in values], values, 2
        report = evaluate_model(net, root, progress=False, device="cpu")
        if len(values) == 3:
            assert "rand_error" in report.summary
            assert "left out for" not in report.table()
        else:
            assert "left out for 3 classes" in report.table()


class _Levels(torch.nn.Module):
    """A net that predicts the truth of :func:`_two_classes_and_a_band`'s images from their
    levels (the band as class 2) and class 2 on a patch of labelled background too."""

    def __init__(self, names, ignore_value):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.in_channels, self.num_classes, self.padding = 1, 3, "same"
        self.classes, self.label_values, self.ignore_value = names, [0, 1, 2], ignore_value

    def forward(self, x):
        lo, hi = x.amin(dim=(1, 2, 3), keepdim=True), x.amax(dim=(1, 2, 3), keepdim=True)
        f = (x - lo) / (hi - lo + 1e-6)
        cls = torch.where(f < 0.3, 0, torch.where(f < 0.6, 1, 2))[:, 0].long()
        cls[:, 20:26, 0:6] = 2  # 36 px of labelled background
        return torch.nn.functional.one_hot(cls, 3).permute(0, 3, 1, 2).float() * 10


def _levels_report(root, names, trained_ignore, given=None):
    from unetlab.evaluate import evaluate_model
    from unetlab.models import UNet

    net = UNet(1, 3, depth=2, base_channels=4, padding="same")
    net.forward = _Levels(names, trained_ignore).forward
    net.classes, net.label_values, net.ignore_value = names, [0, 1, 2], trained_ignore
    return evaluate_model(net, root, progress=False, device="cpu", ignore_value=given)


def test_a_predicted_ignored_class_is_an_error_of_the_true_class(tmp_path):
    """Review s68: class 2 (the ignored value's) predicted made 'PQ 0.5000 (mean over 2
    classes)', '2: 0 true, N predicted' and mIoU the mean of three with 2's IoU 0. Now its
    predictions are errors of the true class (the 36 px of background), in no mean, no
    object; the same where evaluate is given ignore_value=2 for a model trained on every
    class; a named class reads 'ignored'."""
    root = _two_classes_and_a_band(tmp_path / "data")
    for trained, given in ((2, None), (None, 2)):
        report = _levels_report(root, ["0", "1", "2"], trained, given)
        s = report.summary
        assert np.isnan(s["iou"][2])
        assert s["miou"] == np.mean(s["iou"][:2])
        assert s["iou"][1] == 1.0 and s["pixels"][0] == 4 * (29 * 32 - 64 - 80)
        assert s["iou"][0] == 1 - 4 * 36 / s["pixels"][0]  # the patch: background's errors
        assert s["pq"] == 1.0 and s.get("object_classes", 1) == 1
        assert "2: 0 true" not in report.table() and "only predicted" not in report.table()
    table = _levels_report(root, ["bg", "cell", "band"], 2).table()
    row = next(line for line in table.splitlines() if line.startswith("band "))
    assert row.split()[1:3] == ["ignored", "ignored"] and "class name too many" not in table


def _ringed(ring: int):
    """:class:`_Levels`' forward with a 10 x 10 patch of class 2 on labelled background, a
    hole of 0 inside past a ring ``ring`` px wide."""
    forward = _Levels.forward

    def ringed(self, x):
        cls = forward(self, x).argmax(1)
        cls[:, 18:28, 0:10] = 2
        cls[:, 18 + ring : 28 - ring, ring : 10 - ring] = 0
        return torch.nn.functional.one_hot(cls, 3).permute(0, 3, 1, 2).float() * 10

    return ringed


def test_the_ignored_class_is_background_to_the_post_processing(tmp_path, monkeypatch):
    """The post-processing took the ignored class as foreground: a patch of it around a
    hole of background left that hole as an object of class 0 ('0: 0 true, N predicted',
    PQ 0.5000 over 2 classes; seen on a 2-epoch CLI run too); d3258ccb's rule (an object
    mostly of it is none) missed a thin ring (review s68: 1 or 2 px, PQ 0.5). Its
    probability is the background's before the objects are made: no object, any ring."""
    root = _two_classes_and_a_band(tmp_path / "data")
    for ring in (1, 2, 4):
        monkeypatch.setattr(_Levels, "forward", _ringed(ring))
        report = _levels_report(root, ["0", "1", "2"], 2)
        assert report.summary["pq"] == 1.0 and report.summary["object_f1"] == 1.0
        assert "0: 0 true" not in report.table()


def test_pred_objects_of_the_ignored_class_and_its_hole_are_none(tmp_path, monkeypatch):
    """evaluate --pred of such a model's class maps and objects (made taking class 2 as
    foreground: the ring and its filled hole one object): the hole was left an object of
    class 0 (review s68: PQ 0.5 by --pred, 1.0 by --checkpoint). An object of the ignored
    class and background alone is none, as --checkpoint finds it."""
    import tifffile

    from unetlab.evaluate.predictions import evaluate_predictions
    from unetlab.inference.objects import ObjectOptions, objects_int32

    root, pred = _two_classes_and_a_band(tmp_path / "data"), tmp_path / "pred"
    pred.mkdir()
    monkeypatch.setattr(_Levels, "forward", _ringed(1))
    net = _Levels(["0", "1", "2"], 2)
    for f in sorted((root / "images").glob("*.png")):
        x = torch.from_numpy(np.asarray(Image.open(f), np.float32))[None, None]
        probs = torch.softmax(net(x), 1)[0].numpy()
        Image.fromarray(probs.argmax(0).astype(np.uint8)).save(pred / f.name)
        ids = objects_int32(probs, ObjectOptions(mode="semantic", background=0))
        tifffile.imwrite(pred / f"{f.stem}_objects.tif", ids.astype(np.uint16))
    report = evaluate_predictions(pred, root / "masks", ignore_value=2, progress=False)
    assert report.summary["pq"] == 1.0 and "0: 0 true" not in report.table()
    assert sum(row["pred_objects"] for row in report.images) == 8


def test_validation_scores_a_predicted_ignored_class_as_the_true_class_s_error(tmp_path, caplog):
    """Review s68: a 3-epoch run said 'val IoU per class: 0 0.187, 1 0.304, 2 0.000 (not in
    val)' and its val mIoU (which picks best.pt) was the mean of the three, though every
    mask holds 2, ignored. Now class 2 is in no mean, its predictions errors of the truth."""
    from types import SimpleNamespace

    from unetlab.data.labels import IGNORE_INDEX
    from unetlab.models import UNet
    from unetlab.train.log import class_ious_text
    from unetlab.train.loop import validate

    net = UNet(1, 3, depth=2, base_channels=4, padding="same")
    net.forward = _Levels(["0", "1", "2"], 2).forward
    net.label_values, net.ignore_value = [0, 1, 2], 2
    mask = np.zeros((32, 32), np.int64)
    mask[8:16, 8:16] = 1
    image = (mask * 80).astype(np.float32)
    image[:3] = 200  # the band, predicted 2
    mask[:3] = IGNORE_INDEX
    sample = SimpleNamespace(image=image[None], mask=mask, weight=None)
    out = validate(net, [sample], lambda lp, t, w: lp.sum() * 0, device=torch.device("cpu"))
    assert np.isnan(out["iou"][2]) and out["iou"][1] == 1.0
    assert out["iou"][0] == 1 - 36 / (29 * 32 - 64)  # the 36 px patch of 0 predicted as 2
    assert out["miou"] == np.mean(out["iou"][:2]) and out["pixels"][0] == 29 * 32 - 64
    text = class_ious_text(list(zip("012", out["iou"])), out["pixels"], ignored=2)
    assert text.endswith("2 ignored") and "not in val" not in text


def test_a_class_named_void_that_training_learned_is_scored(tmp_path):
    """Review s68: label values 0/1/2 named bg, cell, void, no ignore value: class 2 (the
    band) was taken as no class by its name, its right predictions misses (IoU 0.7273 ->
    0, mIoU 0.8938 -> 0.6514), its row 'ignored'. Only the ignore value's class is none."""
    report = _levels_report(
        _two_classes_and_a_band(tmp_path / "data"), ["bg", "cell", "void"], None
    )
    s = report.summary
    assert s["iou"][2] == 3 * 32 / (3 * 32 + 36) and s["iou"][1] == 1.0
    assert s["miou"] == np.mean(s["iou"]) and report.uncounted == ()
    row = next(line for line in report.table().splitlines() if line.startswith("void "))
    assert "ignored" not in row


def test_train_and_evaluate_take_one_ignored_class():
    """model_ignored_class (validation) and evaluate's classes of no class read one rule."""
    from types import SimpleNamespace

    from unetlab.evaluate.model import _uncounted
    from unetlab.inference.predict import model_ignored_class

    for values, value, want in (([0, 1, 2], 2, 2), ([0, 1, 2], None, None), ([0, 255], 255, 1)):
        model = SimpleNamespace(num_classes=len(values), label_values=values, ignore_value=value)
        assert model_ignored_class(model) == want
        assert _uncounted(["bg", "cell", "void"][: len(values)], values, value) == (
            () if want is None else (want,)
        )


def test_an_instance_model_ignores_no_class():
    """An instance model (label_values None) with data.ignore_value 2: class 2 was taken as
    the ignored one and left out of val mIoU (review s68); its classes are no mask values."""
    from types import SimpleNamespace

    from unetlab.inference.predict import model_ignored_class

    objects = {"target": "instances"}
    model = SimpleNamespace(num_classes=3, label_values=None, ignore_value=2, objects=objects)
    assert model_ignored_class(model) is None


def test_fit_returns_the_classes_of_val_miou_as_summary_json():
    """fit()'s val_miou_classes listed the ignored class, summary.json's not (review s68)."""
    import time
    from types import SimpleNamespace

    from unetlab.train.fitting import _result

    model = SimpleNamespace(
        num_classes=3, classes=["bg", "cell", "band"], label_values=[0, 1, 2], ignore_value=2
    )
    state = SimpleNamespace(epoch=1, step=1, best_value=0.5, best_epoch=1, best=0.5)
    run = SimpleNamespace(
        state=state, run_dir=Path("run"), data=SimpleNamespace(val=[1]), last={}, model=model
    )
    run.started = time.perf_counter()
    result = _result(run, None, None, None)
    assert result["val_miou_classes"] == ["bg", "cell"] and result["val_ignored_class"] == "band"


def test_pred_of_unetlab_s_own_maps_of_the_ignored_class_is_scored(tmp_path, monkeypatch):
    """evaluate --pred of predict's class maps of such a model, class 2 predicted on more
    labelled background than band: refused as 'that 2 is a class, not void (another tool's
    0/2 map?)' (review s68). Its records list 2 among the label values: scored, class 2's
    predictions errors of the true class."""
    from unetlab.evaluate.predictions import evaluate_predictions
    from unetlab.inference.folders import predict_folder
    from unetlab.models import UNet

    forward = _Levels.forward

    def wide(self, x):
        cls = forward(self, x).argmax(1)
        cls[:, 16:32, 0:16] = 2  # 256 px, over the 96 px of band
        return torch.nn.functional.one_hot(cls, 3).permute(0, 3, 1, 2).float() * 10

    monkeypatch.setattr(_Levels, "forward", wide)
    root = _two_classes_and_a_band(tmp_path / "data")
    net = UNet(1, 3, depth=2, base_channels=4, padding="same")
    net.forward = _Levels(["bg", "cell", "band"], 2).forward
    net.classes, net.label_values, net.ignore_value = ["bg", "cell", "band"], [0, 1, 2], 2
    predict_folder(net, root / "images", tmp_path / "out", progress=False)
    s = evaluate_predictions(tmp_path / "out", root / "masks", progress=False).summary
    assert np.isnan(s["iou"][2]) and s["iou"][1] == 1.0
    assert s["iou"][0] == (s["pixels"][0] - 4 * 256) / s["pixels"][0]  # the patch: on 0


def test_a_run_says_the_ignored_class_ignored_in_its_log_summary_and_compare(tmp_path):
    """fitting passes the ignored class to the epoch's line ('val IoU per class: ... 2
    ignored'); summary.json names it (val_ignored_class, out of val_miou_classes); compare's
    per-class table read it 'not in val' (review s68), now 'ignored' as the log says."""
    import json
    import shutil

    from unetlab.cli import main
    from unetlab.compare import compare_runs

    root, run = _two_classes_and_a_band(tmp_path / "data", 6), tmp_path / "run"
    tiny = ["--no-plan", "--no-progress", "--epochs", "1", "--data", str(root)]
    sets = [*SETS, "model.depth=2", "model.base_channels=4", "data.tile_size=32"]
    sets += ["data.tiles_per_epoch=4", "train.batch_size=4", "train.device=cpu"]
    argv = ["train", *tiny, "--run-dir", str(run), *(a for s in sets for a in ("--set", s))]
    assert main(argv) == 0
    line = next(x for x in (run / "train.log").read_text().splitlines() if "per class" in x)
    assert line.endswith("2 ignored") and "not in val" not in line
    summary = json.loads((run / "summary.json").read_text())
    assert summary["val_ignored_class"] == "2" and summary["val_miou_classes"] == ["0", "1"]
    shutil.copytree(run, tmp_path / "again")  # compare wants two runs
    lines = compare_runs([run, tmp_path / "again"]).text().splitlines()
    at = lines.index("val IoU per class at best.pt's epoch:")
    assert [line.split()[-1] for line in lines[at + 2 : at + 4]] == ["ignored"] * 2
    assert "not in val" not in "\n".join(lines)


def test_predict_makes_no_object_of_the_ignored_class(tmp_path, monkeypatch):
    """predict --instances saved objects of the ignored class (review s69: on a 0/1/2 run with
    ignore 2, 21 'void' objects in _objects.tif and the CSVs beside 16 blobs), which evaluate
    takes as background: the band, the patch on background and its filled hole. Its pixels
    are the background's there too: the two squares of each image, nothing else, each a
    cell in the table's class columns (kept for a model of 3 classes, as before: review s69,
    a script read class_name)."""
    import tifffile

    from unetlab.inference.folders import predict_folder
    from unetlab.inference.objects import ObjectOptions, objects_int32
    from unetlab.inference.records import OutputOptions
    from unetlab.models import UNet

    root = _two_classes_and_a_band(tmp_path / "data", n=2)
    monkeypatch.setattr(_Levels, "forward", _ringed(2))
    net = UNet(1, 3, depth=2, base_channels=4, padding="same")
    net.forward = _Levels(["bg", "cell", "void"], 2).forward
    net.classes, net.label_values, net.ignore_value = ["bg", "cell", "void"], [0, 1, 2], 2
    assert ObjectOptions.for_model(net).no_class == (2,)
    outputs = OutputOptions(objects=True)
    predict_folder(net, root / "images", tmp_path / "out", outputs, progress=False, device="cpu")
    for f in sorted((root / "images").glob("*.png")):
        ids = tifffile.imread(tmp_path / "out" / f"{f.stem}_objects.tif")
        labels = np.asarray(Image.open(tmp_path / "out" / f.name))
        assert ids.max() == 2 and not (ids[labels == 2] > 0).any()
        table = (tmp_path / "out" / f"{f.stem}_objects.csv").read_text().splitlines()
        assert len(table) == 3 and table[0].startswith("id,class,class_name,")  # as on main
        assert [row.split(",")[2] for row in table[1:]] == ["cell", "cell"]
    x = torch.from_numpy(np.asarray(Image.open(f), np.float32))[None, None]
    probs = torch.softmax(net(x), 1)[0].detach().numpy()
    assert objects_int32(probs, ObjectOptions.for_model(net)).max() == 2
    records = json.loads((tmp_path / "out" / "predict.json").read_text())["records"]
    assert [r["outputs"]["objects"]["no_class"] for r in records.values()] == [[2]]


def test_metrics_csv_has_no_column_for_the_ignored_class_and_a_resume_keeps_its_columns(
    tmp_path,
):
    """metrics.csv's val_iou_2 was NaN in every row (review s69: a spreadsheet or a plot of
    it met 'nan'; it was 0 before s68): the ignored class has no column. A resume keeps the
    header it finds: an older run's val_iou_2 stays, filled in the new rows as before."""
    import csv

    from unetlab.train import fit

    root = _two_classes_and_a_band(tmp_path / "data", 6)
    sets = [*SETS, "model.depth=2", "model.base_channels=4", "data.tile_size=32"]
    sets += ["data.tiles_per_epoch=4", "train.batch_size=4", "train.device=cpu"]
    cfg = load_config(None, [f"data.root={root}", "train.epochs=1", *sets])
    run, path = tmp_path / "run", tmp_path / "run" / "metrics.csv"
    fit(cfg, run_dir=run, progress=False)
    header, *rows = list(csv.reader(path.open()))
    assert [c for c in header if c.startswith("val_iou_")] == ["val_iou_0", "val_iou_1"]
    assert "nan" not in path.read_text()
    rows = list(csv.DictReader(path.open()))
    with path.open("w", newline="") as f:  # as an older unetlab wrote it
        writer = csv.DictWriter(f, [*header, "val_iou_2"])
        writer.writeheader()
        writer.writerows(r | {"val_iou_2": "nan"} for r in rows)
    fit(replace(cfg, train=replace(cfg.train, epochs=2)), run_dir=run, resume=True, progress=False)
    again = list(csv.DictReader(path.open()))
    assert list(again[0]) == [*header, "val_iou_2"] and len(again) == 2
    assert [r["val_iou_2"] for r in again] == ["nan", "nan"] and again[1]["val_iou_1"]


def test_the_per_image_lines_say_the_ignored_class_ignored(tmp_path):
    """evaluate's per-image lines read the named ignored class 'IoU n/a; Dice n/a' under a
    class table that says it 'ignored' (review s69)."""
    root = _two_classes_and_a_band(tmp_path / "data")
    lines = _levels_report(root, ["bg", "cell", "band"], 2).table().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("per image "))
    rows = [line.split() for line in lines[at:] if line.startswith("  ")]
    assert ["band", "IoU", "ignored;", "Dice", "ignored"] in rows
    assert any(row[:3] == ["cell", "IoU", "1.0000"] for row in rows)


def test_without_label_values_a_class_s_mask_value_is_its_index():
    """The rule without label values (review s69 asked): masks of class indices, as evaluate
    reads them for such a model, so ignore 2 of 3 classes is class 2, 255 none; an instance
    model none (pins the rule: it passes on the code before s69 too)."""
    from types import SimpleNamespace

    from unetlab.data.classes import ignored_class
    from unetlab.inference.predict import model_ignored_class

    assert [ignored_class(3, None, v) for v in (2, 255, None)] == [2, None, None]
    semantic = SimpleNamespace(num_classes=3, label_values=None, ignore_value=2)
    assert model_ignored_class(semantic) == 2
    instance = SimpleNamespace(**vars(semantic), objects={"target": "instances"})
    assert model_ignored_class(instance) is None


def _void_net():
    """A UNet of :class:`_Levels`' forward, classes bg / cell / void, mask value 2 ignored."""
    from unetlab.models import UNet

    net = UNet(1, 3, depth=2, base_channels=4, padding="same")
    net.forward = _Levels(["bg", "cell", "void"], 2).forward
    net.classes, net.label_values, net.ignore_value = ["bg", "cell", "void"], [0, 1, 2], 2
    return net


def test_a_slide_makes_no_object_of_the_ignored_class(tmp_path, monkeypatch):
    """predict_slide (large images and slides, row blocks: SemanticBands) read the raw class
    map: the band and the ring (its hole filled) were 'void' objects in _objects.tif and
    00_objects.csv (review s69: ids 0..4 where predict_folder gave 0..2)."""
    import tifffile

    from unetlab.inference.slides import predict_slide

    root = _two_classes_and_a_band(tmp_path / "data", n=1)
    monkeypatch.setattr(_Levels, "forward", _ringed(2))
    image = np.asarray(Image.open(root / "images" / "00.png"))
    tifffile.imwrite(tmp_path / "00.tif", image)
    predict_slide(_void_net(), tmp_path / "00.tif", tmp_path / "out", objects=True, tile_size=32)
    ids = tifffile.imread(tmp_path / "out" / "00_objects.tif")
    assert np.unique(ids).tolist() == [0, 1, 2]
    assert (ids[8:16, 8:16] > 0).all() and not ids[:3].any() and not ids[18:28, 0:10].any()
    table = (tmp_path / "out" / "00_objects.csv").read_text()
    assert "void" not in table and len(table.splitlines()) == 3


def test_every_pixel_of_an_object_class_in_the_class_map_is_in_an_object():
    """The ignored class's probability added to the background's left a pixel the class map
    calls cell out of every object where p(bg) + p(void) > p(cell) (review s69: 16.7 % of
    uniform random pixels): the rule is on the class map, void pixels background."""
    from unetlab.inference.objects import ObjectOptions, objects_int32

    probs = np.tile(np.array([0.8, 0.1, 0.1], np.float32)[:, None, None], (1, 12, 12))
    probs[:, 3:9, 3:9] = np.array([0.3, 0.4, 0.3])[:, None, None]
    probs[:, 0, :] = np.array([0.1, 0.1, 0.8])[:, None]  # a row of void
    ids = objects_int32(probs, ObjectOptions(min_area=1, no_class=(2,)))
    assert (ids[3:9, 3:9] == 1).all() and ids.max() == 1 and not ids[0].any()


def test_3d_objects_of_a_model_with_an_ignored_class(tmp_path, monkeypatch):
    """predict_objects(..., objects_3d=True) refused bg / cell / void as 'of several classes'
    (review s69), though void makes no object: its objects are cells alone, one kind."""
    from unetlab.inference.objects import predict_objects

    root = _two_classes_and_a_band(tmp_path / "data", n=1)
    plane = np.asarray(Image.open(root / "images" / "00.png"), np.float32)
    ids, table = predict_objects(_void_net(), np.stack([plane] * 3), objects_3d=True, device="cpu")
    assert ids.shape == (3, 32, 32) and ids.max() == 2 and "class" not in table
    assert not ids[:, :3].any()


def test_3d_objects_of_two_classes_without_a_background_keep_their_classes():
    """Classes "0", "1", "2" without label values, mask value 0 ignored (README's model): no
    class is the background and the objects are of classes 1 and 2, which objects_3d=True
    joined into one 3-D object (review s70: 3 classes less the ignored one were taken as one
    object class and a background), then refused as bg / cell / grain was; s73: each class's
    3-D objects apart, with their class ("0", "1" is one object class)."""
    from types import SimpleNamespace

    from unetlab.inference.objects import ObjectOptions, several_object_classes
    from unetlab.inference.objects_3d import predict_objects_3d

    net = _void_net()
    net.classes, net.label_values, net.ignore_value = ["0", "1", "2"], None, 0
    options = ObjectOptions.for_model(net)
    assert (options.background, options.no_class) == (None, (0,))
    assert several_object_classes(net, options)
    stack = np.zeros((2, 32, 32), np.float32)
    stack[:, 2:18, 8:18], stack[:, 2:18, 18:30] = 0.5, 1.0  # class 1 beside class 2
    ids, table = predict_objects_3d(net, stack, options, device="cpu")
    # and _Levels' patch of class 2 (rows 20:26): an object of its own
    assert table["class"].tolist() == [1, 2, 2] and table["class_name"].tolist() == ["1", "2", "2"]
    assert table["volume"].tolist() == [2 * 16 * 10, 2 * 16 * 12, 2 * 6 * 6]
    assert (ids[:, 2:18, 8:18] == 1).all() and (ids[:, 2:18, 18:30] == 2).all()
    two = SimpleNamespace(num_classes=2)  # "0", "1": objects of class 1 alone
    assert not several_object_classes(two, options)
    assert not several_object_classes(two, ObjectOptions(background=0, no_class=(0,)))
    for background in (None, 0):  # no class ignored: objects of 2 classes, or of 1
        assert several_object_classes(two, ObjectOptions(background=background)) == (
            background is None
        )


def test_bad_no_class_values_are_one_line():
    """no_class=2 was "'int' object is not iterable", ('2',) a '<' TypeError, (-1,) the last
    class folded silently, (7,) dropped silently (review s69): one line each; a list is
    taken as a tuple."""
    import pytest

    from unetlab.errors import UnetlabError
    from unetlab.inference.objects import ObjectOptions, objects_int32

    for bad in (2, ("2",), (-1,), (True,), (1.5,)):
        with pytest.raises(UnetlabError, match="no_class is a tuple of class indices"):
            ObjectOptions(no_class=bad)
    assert ObjectOptions(no_class=[2]).no_class == (2,) and hash(ObjectOptions(no_class=[2]))
    with pytest.raises(UnetlabError, match=r"no_class \[7\] names a class beyond this model's 3"):
        objects_int32(np.full((3, 8, 8), 1 / 3, np.float32), ObjectOptions(no_class=(7,)))


def test_evaluate_scores_the_objects_predict_saves(tmp_path, monkeypatch):
    """evaluate gives its post-processing the ignored class as no class (as predict
    --instances does): a cell whose core the net calls void is the cell with its core
    (64 px, over min_area 50); read as an object class, that core was an object apart and
    the 48-px ring was dropped (PQ 0.5 where predict's objects score 1.0; review s69 asked
    for a test where it changes the objects scored)."""
    from unetlab.evaluate import evaluate_model
    from unetlab.inference.objects import ObjectOptions

    forward = _Levels.forward

    def cored(self, x):
        cls = forward(self, x).argmax(1)
        cls[:, 20:26, 0:6] = 0
        cls[:, 10:14, 10:14] = 2  # a void core in the cell of 8:16, 8:16
        return torch.nn.functional.one_hot(cls, 3).permute(0, 3, 1, 2).float() * 10

    monkeypatch.setattr(_Levels, "forward", cored)
    root = _two_classes_and_a_band(tmp_path / "data", n=2)
    how = dict(object_options=ObjectOptions(min_area=50), progress=False, device="cpu")
    report = evaluate_model(_void_net(), root, **how)
    assert report.summary["object_f1"] == 1.0
    assert sum(row["pred_objects"] for row in report.images) == 4


def test_compare_reads_a_killed_run_s_classes_from_its_history(tmp_path):
    """A killed run (no summary.json) has no val_iou_ column of its ignored class: compare
    counted its classes from metrics.csv, so a run and its killed copy differed in a setting
    'model.num_classes 3 vs 2', and the copy's ignored class read '-' beside 'ignored'
    (review s69). Its classes come from history.yaml (written at the start) now."""
    import shutil

    from unetlab.compare import compare_runs
    from unetlab.train import fit

    root, run = _two_classes_and_a_band(tmp_path / "data", 6), tmp_path / "run"
    sets = [*SETS, "model.depth=2", "model.base_channels=4", "data.tile_size=32"]
    sets += ["data.tiles_per_epoch=4", "train.batch_size=4", "train.device=cpu"]
    fit(load_config(None, [f"data.root={root}", "train.epochs=1", *sets]), run_dir=run)
    shutil.copytree(run, tmp_path / "killed")
    (tmp_path / "killed" / "summary.json").unlink()
    comparison = compare_runs([run, tmp_path / "killed"])
    assert "model.num_classes" not in comparison.settings
    lines = comparison.text().splitlines()
    at = lines.index("val IoU per class at best.pt's epoch:")
    assert [line.split()[-1] for line in lines[at + 2 : at + 4]] == ["ignored"] * 2


def test_trained_classes_without_a_summary():
    """A killed run's classes and ignored class: history.yaml's resolved record (its ignore
    value, else config.yaml's, as a run recorded before s69), none for an instance target;
    summary.json's where there is one."""
    from unetlab.compare.records import trained_classes

    resolved = {"classes": ["bg", "cell", "void"], "label_values": [0, 1, 2]}
    history = [{"run": "new", "resolved": resolved | {"ignore_value": 2}}, {"run": "resume"}]
    assert trained_classes(None, history, {}) == (["bg", "cell", "void"], "void")
    older = [{"resolved": resolved}]
    assert trained_classes(None, older, {"data.ignore_value": 2})[1] == "void"
    assert trained_classes(None, older, {"data.ignore_value": 255})[1] is None
    instances = {"data.ignore_value": 2, "data.target": "instances"}
    assert trained_classes(None, older, instances)[1] is None
    summary = {"classes": ["a", "b"], "val_ignored_class": None}
    assert trained_classes(summary, history, {}) == (["a", "b"], None)
    assert trained_classes(None, [], {}) == ([], None)


class _Fixed(torch.nn.Module):
    """A net whose classes everywhere are the (H, W) map ``cls`` (its input that size)."""

    def __init__(self, cls: np.ndarray, names, label_values, ignore_value):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.in_channels, self.num_classes, self.padding = 1, len(names), "same"
        self.classes, self.label_values, self.ignore_value = names, label_values, ignore_value
        self.cls = torch.from_numpy(cls.astype(np.int64))

    def forward(self, x):
        one_hot = torch.nn.functional.one_hot(self.cls, self.num_classes).permute(2, 0, 1)
        return one_hot[None].float().expand(len(x), -1, -1, -1) * 10


def _fixed_net(cls, names, label_values, ignore_value):
    """A UNet of :class:`_Fixed`'s forward (what predict checks of a net, its own)."""
    from unetlab.models import UNet

    net = UNet(1, len(names), depth=2, base_channels=4, padding="same")
    net.forward = _Fixed(cls, names, label_values, ignore_value).forward
    net.classes, net.label_values, net.ignore_value = names, label_values, ignore_value
    return net


def _image(path: Path) -> Path:
    """A 32 x 32 image at ``path`` (what a fixed net predicts over)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32), np.uint8)).save(path)
    return path


def test_outlines_file_the_cells_under_cell_not_the_ignored_class(tmp_path):
    """QuPath and Fiji outlines filed every cell of a bg / cell / void model under void (the
    last class) once the table had no class columns (review s69: GeoJSON classifications
    '2', '2', '2' in void's colour); the cell class names them, the table's columns too."""
    from unetlab.inference.folders import predict_folder
    from unetlab.inference.objects import ObjectOptions
    from unetlab.inference.outlines import outline_class
    from unetlab.inference.records import OutputOptions

    cls = np.zeros((32, 32), np.int64)
    cls[4:12, 4:12] = cls[18:28, 18:28] = 1
    cls[:2] = cls[16:24, 2:10] = 2  # void: a band and a patch, no object
    net = _fixed_net(cls, ["bg", "cell", "void"], [0, 1, 2], 2)
    assert outline_class(net, ObjectOptions.for_model(net)) == "cell"
    _image(tmp_path / "in" / "a.png")
    outputs = OutputOptions(objects=True, outlines="both")
    predict_folder(net, tmp_path / "in", tmp_path / "out", outputs, progress=False, device="cpu")
    features = json.loads((tmp_path / "out" / "a_objects.geojson").read_text())["features"]
    names = [f["properties"]["classification"]["name"] for f in features]
    assert names == ["cell", "cell"]


def test_an_object_mostly_of_the_ignored_class_is_of_its_ring_s_class(tmp_path):
    """A 1-px ring of class a round an 8 x 8 core of the ignored void (bg / a / b / void,
    ignore 3): its hole filled, the object's vote said void (review s69), read whole and
    streamed alike. The void is no vote: the ring's class."""
    import tifffile

    from unetlab.inference.folders import predict_folder
    from unetlab.inference.records import OutputOptions
    from unetlab.inference.slides import predict_slide

    cls = np.zeros((32, 32), np.int64)
    cls[10:20, 10:20] = 1
    cls[11:19, 11:19] = 3
    cls[24:30, 2:8] = 2
    net = _fixed_net(cls, ["bg", "a", "b", "void"], [0, 1, 2, 3], 3)
    image = _image(tmp_path / "in" / "a.png")
    outputs = OutputOptions(objects=True)
    predict_folder(net, image.parent, tmp_path / "out", outputs, progress=False, device="cpu")
    tifffile.imwrite(tmp_path / "a.tif", np.asarray(Image.open(image)))
    predict_slide(net, tmp_path / "a.tif", tmp_path / "slide", objects=True, tile_size=32)
    for table in (tmp_path / "out" / "a_objects.csv", tmp_path / "slide" / "a_objects.csv"):
        rows = [line.split(",") for line in table.read_text().splitlines()]
        assert rows[0][:4] == ["id", "class", "class_name", "area"]
        assert [r[1:4] for r in rows[1:]] == [["1", "a", "100"], ["2", "b", "36"]]


def _nodata_net():
    """3 classes, no label values, mask value 0 (class 0) ignored: no background class."""
    cls = np.full((32, 32), 0, np.int64)
    cls[:, 16:] = 1  # a field of class 1
    cls[4:12, 20:28] = 0  # a hole of nodata in it
    cls[20:28, 2:10] = 2
    cls[2:6, 2:6] = 1
    return _fixed_net(cls, ["nodata", "wheat", "soil"], None, 0)


def test_with_no_background_the_ignored_class_makes_no_object(tmp_path):
    """With no background class (a net without label values, mask 0 ignored) the ignored
    class's pixels made objects of their own, a 'nodata' one, and the table lost its class
    columns (review s69). They make none, as the nodata ``outside`` pixels (a hole of them in
    an object no part of it): the three of classes 1 and 2, whole and streamed alike."""
    import tifffile

    from unetlab.inference.folders import predict_folder
    from unetlab.inference.objects import ObjectOptions, grown_over, objects_int32
    from unetlab.inference.records import OutputOptions
    from unetlab.inference.slides import predict_slide

    net = _nodata_net()
    options = ObjectOptions.for_model(net)
    assert options.background is None and options.no_class == (0,)
    probs = torch.softmax(net(torch.zeros(1, 1, 32, 32)), 1)[0].numpy()
    ids = objects_int32(probs, replace(options, min_area=1))
    nodata = probs.argmax(0) == 0
    assert ids.max() == 3 and not ids[:, :16][nodata[:, :16]].any()
    assert not ids[4:12, 20:28].any()  # a hole of it in an object: nodata's, as streamed
    assert (grown_over(probs, options) == ~nodata).all()
    image = _image(tmp_path / "in" / "a.png")
    outputs = OutputOptions(objects=ObjectOptions.for_model(net, min_area=1))
    predict_folder(net, image.parent, tmp_path / "out", outputs, progress=False, device="cpu")
    tifffile.imwrite(tmp_path / "a.tif", np.asarray(Image.open(image)))
    how = dict(objects=outputs.objects, tile_size=32)
    predict_slide(net, tmp_path / "a.tif", tmp_path / "slide", **how)
    for out in ("out", "slide"):
        rows = [line.split(",") for line in (tmp_path / out / "a_objects.csv").read_text().split()]
        assert rows[0][:3] == ["id", "class", "class_name"]
        assert sorted(r[2] for r in rows[1:]) == ["soil", "wheat", "wheat"]
        assert (tifffile.imread(tmp_path / out / "a_objects.tif") > 0).tolist() == (
            ids > 0
        ).tolist()


def test_watershed_seeds_of_two_classes_with_one_of_no_class():
    """The seeds' cell probability: none where the other class is no class (no object class
    at all), and 1 - p(background) where no_class names the background alone."""
    from unetlab.inference.objects import ObjectOptions, objects_int32

    probs = np.zeros((2, 24, 24), np.float32)
    probs[1, 4:20, 4:20] = 0.95
    probs[0] = 1 - probs[1]
    seeds = ObjectOptions(watershed_seeds=0.8, min_area=1)
    assert objects_int32(probs, seeds).max() == 1
    assert objects_int32(probs, replace(seeds, no_class=(0,))).max() == 1
    assert objects_int32(probs, replace(seeds, no_class=(1,))).max() == 0


def test_the_background_of_the_ignored_value_is_no_no_class():
    """Label values 0, 1, 2 with 0 ignored: class 0 is the background and no class already;
    for_model recorded no_class (0,) too, so predict's record key changed and
    --skip-existing redid such a model's outputs once (review s69)."""
    from unetlab.inference.objects import ObjectOptions
    from unetlab.inference.records import object_record

    net = _fixed_net(np.zeros((32, 32)), ["0", "1", "2"], [0, 1, 2], 0)
    options = ObjectOptions.for_model(net)
    assert options.background == 0 and options.no_class == ()
    assert "no_class" not in object_record(options)


def test_the_per_image_csv_has_no_column_for_the_ignored_class(tmp_path):
    """evaluate's per-image CSV kept iou_void and dice_void columns, always empty (the class
    is in no mean), where metrics.csv has none (s70). Seen failing without the fix."""
    import csv

    root = _two_classes_and_a_band(tmp_path / "data")
    report = _levels_report(root, ["bg", "cell", "void"], 2)
    with report.write_csv(tmp_path / "images.csv").open(encoding="utf-8") as f:
        columns = next(csv.reader(f))
    assert {"iou_bg", "dice_bg", "iou_cell", "dice_cell"} <= set(columns)
    assert not [c for c in columns if c.endswith("_void")]
