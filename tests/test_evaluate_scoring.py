"""What the evaluation's object scores count: ignored pixels, classes, instance masks, the
averaging of each figure, and the hints for masks or predictions of object ids read as classes."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.errors import UnetlabError
from unetlab.evaluate import evaluate_predictions


def _write(tmp_path, gt: np.ndarray, pred: np.ndarray, pred_name: str = "a.png"):
    write_png(tmp_path / "gt" / "a.png", gt)
    if pred_name.endswith(".tif"):  # object ids as predict --instances writes them
        (tmp_path / "pred").mkdir()
        tifffile.imwrite(tmp_path / "pred" / pred_name, pred)
    else:
        write_png(tmp_path / "pred" / pred_name, pred)
    return tmp_path / "pred", tmp_path / "gt"


def test_ignored_pixels_count_in_no_object_score(tmp_path):
    gt = np.zeros((14, 12), np.uint8)
    gt[1:9, 1:9] = 255  # a void rim (VOC's outlines) around a 6 x 6 object
    gt[2:8, 2:8] = 1
    gt[11:14, :] = 255  # a void band
    pred = np.zeros_like(gt)
    pred[1:9, 1:9] = 1  # the object with its rim: right on every labelled pixel
    pred[12:14, 0:3] = 1  # an object wholly in the void band
    d = evaluate_predictions(*_write(tmp_path, gt, pred), ignore_value=255).summary
    assert d["miou"] == 1.0
    assert (d["objects"], d["pred_objects"]) == (1, 1)
    assert (d["dsb"], d["object_f1"], d["pq"], d["seg"]) == (1.0, 1.0, 1.0, 1.0)


def test_the_text_says_how_many_pixels_were_scored_and_ignored(tmp_path):
    """Sparse labels: the pixel figures are of the labelled pixels, not "all pixels" (audit
    s28 sparse, finding 8)."""
    gt = np.full((20, 15), 255, np.uint8)  # 300 pixels, 21 labelled: 93% ignored
    gt[2:5, 2:9] = 1
    pred = np.ones_like(gt)
    report = evaluate_predictions(*_write(tmp_path, gt, pred), ignore_value=255)
    assert (report.summary["labelled_pixels"], report.summary["ignored_pixels"]) == (21, 279)
    table = report.table()
    assert "pixels scored      21 labelled pixels of 300; 93% ignored" in table
    assert "all pixels" not in table and "(labelled pixels, pooled over images" in table
    d = report.to_dict()
    assert d["averaging"]["miou"].startswith("labelled pixels pooled over images")
    assert "279 ignored pixels" in d["averaging"]["miou"]
    full = evaluate_predictions(*_write(tmp_path / "full", pred, pred))  # none ignored
    assert full.summary["ignored_pixels"] == 0 and full.summary["labelled_pixels"] == 300
    assert "pixels scored" not in full.table() and "(all pixels, pooled" in full.table()
    assert full.to_dict()["averaging"]["miou"].startswith("all pixels pooled over images")


def test_binary_instance_truth_takes_the_connectivity_asked(tmp_path):
    gt = np.zeros((40, 40), np.uint8)
    gt[5:15, 5:15] = gt[15:25, 15:25] = 1  # touching at a corner
    gt[30:38, 30:38] = 1
    folders = _write(tmp_path, gt, gt)
    d = evaluate_predictions(*folders, gt_instances=True, connectivity=2).summary
    assert (d["objects"], d["pred_objects"], d["object_f1"]) == (2, 2, 1.0)
    d = evaluate_predictions(*folders, gt_instances=True).summary
    assert (d["objects"], d["pred_objects"], d["object_f1"]) == (3, 3, 1.0)


def test_an_instance_mask_of_one_id_is_one_object(tmp_path):
    ids = np.zeros((40, 40), np.uint16)
    ids[5:15, 5:15] = ids[15:25, 15:25] = 7  # one object whose two parts touch at a corner
    d = evaluate_predictions(
        *_write(tmp_path, ids, ids, "a_objects.tif"), gt_instances=True
    ).summary
    assert (d["objects"], d["pred_objects"], d["dsb"], d["object_f1"], d["seg"]) == (
        1,
        1,
        1.0,
        1.0,
        1.0,
    )


def test_objects_of_several_classes_match_within_their_class(tmp_path, capsys):
    gt = np.zeros((30, 30), np.uint8)
    gt[0:10, 0:10] = gt[20:30, 0:10] = 1  # A, D: class 1
    gt[20:30, 20:30] = gt[0:10, 20:30] = 2  # B, C: class 2
    pred = gt.copy()
    pred[20:30, 20:30] = 1  # B found, but as class 1
    report = evaluate_predictions(*_write(tmp_path, gt, pred), objects=True)
    d = report.to_dict()
    # class 1: TP A, D; FP B; class 2: TP C; FN B
    assert d["classes"]["1"]["pq"] == pytest.approx(2 / 2.5)
    assert d["classes"]["2"]["pq"] == pytest.approx(1 / 1.5)
    assert d["pq"] == pytest.approx((2 / 2.5 + 1 / 1.5) / 2)  # the mean over the classes
    assert d["object_f1"] == pytest.approx(6 / 8)  # TP 3, FP 1, FN 1 summed over classes
    assert d["dsb"] == pytest.approx(3 / 5) and d["seg"] == pytest.approx(3 / 4)
    table = report.table()
    assert "objects matched within their class" in table
    assert "mean over 2 classes of each one's SQ x RQ" in table


def _tiles(count: int) -> np.ndarray:
    """(8, 8 * count) uint16 ids 1..count, one 8 x 8 square each, apart by a background column."""
    ids = np.repeat(np.arange(1, count + 1, dtype=np.uint16), 8)[None].repeat(8, 0)
    ids[:, ::8] = 0
    return ids


def test_instance_masks_beside_a_class_map_are_refused_naming_gt_instances(tmp_path, capsys):
    ids = _tiles(40)
    pred_dir, gt_dir = _write(tmp_path, ids, (ids > 0).astype(np.uint8))  # a class map
    with pytest.raises(UnetlabError, match="masks look like object ids.*gt_instances=True"):
        evaluate_predictions(pred_dir, gt_dir)
    assert main(["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir)]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "41 values (0..40)" in err and "--gt-instances" in err
    assert evaluate_predictions(pred_dir, gt_dir, gt_instances=True).summary["object_f1"] == 1.0


def test_instance_masks_beside_object_ids_are_read_as_ids_said_in_one_line(tmp_path, caplog):
    """Cellpose's X_cp_masks.png (16-bit ids) against predict --instances' X_objects.tif:
    read as ids, said once (they were refused naming --gt-instances: audit s39 audit2)."""
    ids = _tiles(40)
    pred_dir, gt_dir = _write(tmp_path, ids, ids, "a_objects.tif")
    with caplog.at_level("INFO", logger="unetlab"):
        report = evaluate_predictions(pred_dir, gt_dir)
    assert report.summary["object_f1"] == 1.0 and report.summary["objects"] == 40
    said = [r.getMessage() for r in caplog.records if "read as object ids" in r.getMessage()]
    assert len(said) == 1 and "(gt_instances=True)" in said[0]  # Python's form (s56)


def test_8_bit_id_masks_beside_object_ids_are_read_as_ids_class_masks_as_classes(tmp_path, caplog):
    """Cellpose's 8-bit X_cp_masks.png (40 nuclei) against predict --instances' outputs (its
    class map and X_objects.tif): read as ids, said once (they were scored as 40 classes);
    masks of 4 classes, each in 2 regions, beside object ids stay classes."""
    ids = _tiles(40).astype(np.uint8)
    pred_dir, gt_dir = _write(tmp_path / "ids", ids, (ids > 0).astype(np.uint8))
    tifffile.imwrite(pred_dir / "a_objects.tif", ids.astype(np.uint16))
    with caplog.at_level("INFO", logger="unetlab"):
        report = evaluate_predictions(pred_dir, gt_dir)
    assert report.summary["object_f1"] == 1.0 and report.summary["objects"] == 40
    said = [r.getMessage() for r in caplog.records if "read as object ids" in r.getMessage()]
    assert len(said) == 1 and "(gt_instances=True)" in said[0]  # Python's form (s56)
    caplog.clear()
    classes = np.where(ids > 0, (ids - 1) % 4 + 1, 0).astype(np.uint8)[:, :64]  # 8 tiles
    pred_dir, gt_dir = _write(tmp_path / "classes", classes, ids[:, :64], "a_objects.tif")
    with caplog.at_level("INFO", logger="unetlab"):
        report = evaluate_predictions(pred_dir, gt_dir)
    assert not [r for r in caplog.records if "read as object ids" in r.getMessage()]
    assert report.summary["objects"] == 8 and len(report.to_dict()["classes"]) == 5


def test_id_predictions_read_as_classes_are_refused_naming_pred_instances(tmp_path, capsys):
    ids = _tiles(70)
    pred_dir, gt_dir = _write(tmp_path, ids, ids)
    with pytest.raises(UnetlabError, match="predictions look like object ids.*pred_instances"):
        evaluate_predictions(pred_dir, gt_dir, gt_instances=True)
    argv = ["evaluate", "--pred", str(pred_dir), "--gt", str(gt_dir), "--gt-instances"]
    assert main(argv) != 0 and "--pred-instances" in capsys.readouterr().err
    few = _tiles(9)  # too few ids to tell: the class count error names both ways out
    pred_dir, gt_dir = _write(tmp_path / "few", few, few)
    with pytest.raises(UnetlabError, match="predictions hold class index 9 .*pred_instances=True"):
        evaluate_predictions(pred_dir, gt_dir, gt_instances=True)
    report = evaluate_predictions(pred_dir, gt_dir, gt_instances=True, pred_instances=True)
    assert report.summary["object_f1"] == 1.0


def test_every_figure_says_how_it_combines_the_images(tmp_path):
    gt = np.zeros((8, 8), np.uint8)
    gt[1:4, 1:4] = gt[5:8, 5:8] = 1
    report = evaluate_predictions(*_write(tmp_path, gt, gt))
    lines = {line.split("  ")[0]: line for line in report.table().splitlines()}
    for name in ("mIoU", "mean Dice", "pixel accuracy", "wrong pixels"):
        assert "pooled over images" in lines[name]
    for name in ("Rand error", "object F1", "PQ", "pixel error"):
        assert "summed over images" in lines[name]
    for name in ("information score", "DSB score"):
        assert "mean over images" in lines[name]
    assert "mean over all 2 ground-truth objects" in lines["SEG"]
    averaging = report.to_dict()["averaging"]
    assert averaging["miou"] == averaging["classes"] == averaging["pixel_error"]
    assert "pooled" in averaging["miou"] and averaging["mean_image_miou"] == "mean over images"
    assert averaging["object_f1"] == averaging["pq"] == "counts summed over images"
    assert averaging["dsb"] == averaging["information_score"] == "mean over images"
    assert averaging["rand_error"] == "pair counts summed over images"
    assert averaging["seg"] == "mean over all ground-truth objects of all images"


def _best_threshold(tmp_path, monkeypatch, cell_probability: np.ndarray):
    import types

    import unetlab.inference.predict
    from unetlab.evaluate import evaluate_model

    probs = np.stack([1 - cell_probability, cell_probability]).astype(np.float32)
    monkeypatch.setattr(unetlab.inference.predict, "predict_fitted", lambda m, i, **kw: probs)
    gt = np.full((6, 8), 255, np.uint8)
    gt[:, 3] = 0  # a membrane column between two cells
    write_png(tmp_path / "images" / "a.png", np.zeros(gt.shape, np.uint8))
    write_png(tmp_path / "masks" / "a.png", gt)
    model = types.SimpleNamespace(
        classes=["membrane", "cell"], label_values=[0, 255], in_channels=1
    )
    return evaluate_model(model, tmp_path, thresholds=[0.3, 0.5, 0.9])


def test_a_best_pixel_error_at_the_end_of_the_levels_is_compared_with_all_cell(
    tmp_path, monkeypatch
):
    report = _best_threshold(tmp_path / "flat", monkeypatch, np.full((6, 8), 0.4))
    t = report.threshold  # 0.4 everywhere: all cell at 0.3, no cell above
    assert t["challenge_pixel_threshold"] == 0.3
    assert t["all_cell_pixel_error"] == t["challenge_pixel_error"] == pytest.approx(6 / 90)
    assert "best at the end of the levels (0.3); calling every pixel cell scores 0.0667" in (
        report.table()
    )
    sharp = np.full((6, 8), 0.8)
    sharp[:, 3] = 0.4  # only 0.5 separates the cells
    report = _best_threshold(tmp_path / "sharp", monkeypatch, sharp)
    assert report.threshold["challenge_pixel_threshold"] == 0.5
    assert "end of the levels" not in report.table()


def test_id_masks_beside_object_ids_are_scored_once(tmp_path, monkeypatch):
    """Masks read as ids beside predicted ids are decided before scoring: each page is scored
    once (16-bit ids by their count, 8-bit ids each one region; both were scored as classes,
    refused at the end, then scored again as ids); class masks beside ids once too."""
    from unetlab.evaluate.accumulate import Accumulator

    scored: list[str] = []
    add = Accumulator.add

    def counted(self, name, **kw):
        scored.append(name)
        return add(self, name, **kw)

    monkeypatch.setattr(Accumulator, "add", counted)
    ids = _tiles(40)
    classes = np.where(ids > 0, (ids - 1) % 4 + 1, 0).astype(np.uint8)[:, :64]
    for kind, gt, pred in [
        ("wide", ids, ids),
        ("narrow", ids.astype(np.uint8), ids),
        ("classes", classes, ids[:, :64]),
    ]:
        scored.clear()
        report = evaluate_predictions(*_write(tmp_path / kind, gt, pred, "a_objects.tif"))
        assert scored == ["a"], kind
        assert report.summary["objects"] == (8 if kind == "classes" else 40)


def test_binary_masks_beside_object_ids_are_read_once_more_for_one_page(tmp_path, monkeypatch):
    """The look before scoring (are masks beside predicted ids ids?) stops at the first
    page of 4 values or fewer where every mask is stored in 8 bits: 3 binary masks are read
    4 times, not 6; 16-bit ones are looked at whole."""
    import unetlab.evaluate.masks

    reads: list[str] = []
    read_stack = unetlab.evaluate.masks.read_stack

    def counted(path, **kw):
        reads.append(path.name)
        return read_stack(path, **kw)

    monkeypatch.setattr(unetlab.evaluate.masks, "read_stack", counted)
    ids = _tiles(6)
    for kind, gt in [("binary", (ids > 0).astype(np.uint8)), ("wide", (ids > 0).astype(np.uint16))]:
        for stem in "abc":
            write_png(tmp_path / kind / "gt" / f"{stem}.png", gt)
            tifffile.imwrite(tmp_path / kind / f"{stem}_objects.tif", ids)
        reads.clear()
        report = evaluate_predictions(tmp_path / kind, tmp_path / kind / "gt")
        assert report.summary["objects"] == 3 * 6
        assert len(reads) == (4 if kind == "binary" else 6), (kind, reads)


def test_id_masks_beside_object_ids_are_read_once_before_scoring(tmp_path, monkeypatch):
    """Masks of ids beside predicted ids, not each id one region (so decided by their
    values): the look before scoring read each mask, then read them all again to find the
    class maps' largest class (none here); each is read once before the scoring pass now."""
    import collections

    import unetlab.evaluate.masks

    reads: collections.Counter = collections.Counter()
    read_stack = unetlab.evaluate.masks.read_stack

    def counted(path, **kw):
        reads[path.name] += 1
        return read_stack(path, **kw)

    monkeypatch.setattr(unetlab.evaluate.masks, "read_stack", counted)
    ids = np.concatenate([_tiles(20)] * 2, axis=1)  # each id two squares apart
    for stem in "abc":
        write_png(tmp_path / "gt" / f"{stem}.png", ids)
        tifffile.imwrite(tmp_path / f"{stem}_objects.tif", ids)
    report = evaluate_predictions(tmp_path, tmp_path / "gt")
    assert report.summary["objects"] == 3 * 20 and report.summary["object_f1"] == 1.0
    masks = {name: n for name, n in reads.items() if not name.endswith("_objects.tif")}
    assert masks == {"a.png": 2, "b.png": 2, "c.png": 2}, reads


def test_the_json_names_no_boundary_class_where_no_object_scores_used_one(tmp_path):
    """An 11-class road model's evaluate JSON said ``"boundary_class": "road"`` while its
    ISBI and object scores were left out (audit s46 scenes): no class was a boundary."""
    rng = np.random.default_rng(0)
    for sub in ("pred", "gt"):
        write_png(tmp_path / sub / "a.png", rng.integers(0, 4, (16, 16)).astype(np.uint8))
    names = ["road", "car", "sky", "person"]
    many = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", class_names=names)
    assert "rand_error" not in many.summary and many.to_dict()["boundary_class"] is None
    objects = evaluate_predictions(
        tmp_path / "pred", tmp_path / "gt", class_names=names, objects=True
    )
    assert "rand_error" in objects.summary and objects.to_dict()["boundary_class"] == "road"


def test_the_images_holding_stray_classes_are_counted_with_their_noun_in_number():
    from unetlab.evaluate.accumulate import _in_images

    assert _in_images([]) == ""
    assert _in_images(["a.png"]) == " (in a.png)"
    assert _in_images(["a.png", "b.png"]) == " (in a.png and 1 more image)"
    assert _in_images(["a.png", "b.png", "c.png"]) == " (in a.png and 2 more images)"
