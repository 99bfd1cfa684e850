"""evaluate --objects-3d: z-stacks of object ids scored in 3-D (IoU over voxels), one row
per stack or frame, where the plane-by-plane path counts a nucleus once per plane."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pytest
import tifffile

from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.evaluate import evaluate_model, evaluate_predictions


def _balls(shape=(9, 32, 40)) -> np.ndarray:
    """(Z, Y, X) uint16 ids of two balls of radius 4, apart."""
    z, y, x = np.indices(shape)
    out = np.zeros(shape, np.uint16)
    for i, (cz, cy, cx) in enumerate([(4, 10, 10), (4, 20, 28)], start=1):
        out[(z - cz) ** 2 + (y - cy) ** 2 + (x - cx) ** 2 <= 16] = i
    return out


def _write(path, ids: np.ndarray, axes: str = "ZYX") -> None:
    tifffile.imwrite(path, ids, imagej=True, metadata={"axes": axes})


def _folders(tmp_path, pred: np.ndarray, gt: np.ndarray, axes: str = "ZYX"):
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    _write(tmp_path / "gt" / "s.tif", gt, axes)
    _write(tmp_path / "pred" / "s_objects.tif", pred, axes)
    return tmp_path / "pred", tmp_path / "gt"


def test_a_perfect_stack_scores_one_in_3d_and_counts_each_nucleus_once(tmp_path):
    gt = _balls()
    pred, truth = _folders(tmp_path, gt, gt)
    report = evaluate_predictions(pred, truth, objects_3d=True)
    (row,) = report.images
    assert (row["objects"], row["pred_objects"], row["object_f1"]) == (2, 2, 1.0)
    assert row["planes"] == 9
    assert report.summary["object_f1"] == 1.0
    flat = evaluate_predictions(pred, truth, gt_instances=True, pred_instances=True)
    planes = sum(r["objects"] for r in flat.images)
    assert planes == 18  # each ball over its 9 planes, counted in each
    assert planes != sum(r["objects"] for r in report.images)


def test_a_ball_split_across_planes_is_one_false_object_in_3d_not_plane_by_plane(tmp_path):
    gt = _balls()
    split = gt.copy()
    split[:2][split[:2] == 1] = 3  # ball 1's top planes get an id of their own
    pred, truth = _folders(tmp_path, split, gt)
    (row,) = evaluate_predictions(pred, truth, objects_3d=True).images
    assert (row["objects"], row["pred_objects"]) == (2, 3)
    assert row["object_f1"] == pytest.approx(0.8)  # tp 2, fp 1 (the split-off cap)
    assert row["count_error"] == 0.5  # (3 - 2) / 2
    flat = evaluate_predictions(pred, truth, gt_instances=True, pred_instances=True)
    assert all(r["object_f1"] in (1.0,) or np.isnan(r["object_f1"]) for r in flat.images)


def test_a_movie_of_stacks_scores_each_frame(tmp_path):
    gt = np.stack([_balls(), _balls()])
    pred = gt.copy()
    pred[1][pred[1] == 2] = 0  # frame 1 misses a ball
    pred_dir, truth = _folders(tmp_path, pred, gt, "TZYX")
    rows = evaluate_predictions(pred_dir, truth, objects_3d=True).images
    assert [(r["name"], r["t"], r["pred_objects"]) for r in rows] == [
        ("s[0]", 0, 2),
        ("s[1]", 1, 1),
    ]


def test_a_movie_without_z_scores_each_frame_s_2d_objects_said(tmp_path, caplog):
    """It was refused ('it has no Z axis ... score it without it'), where predict
    --objects-3d gives a movie's frames their 2-D objects."""
    ids = np.zeros((3, 8, 8), np.uint16)
    ids[:, 1:4, 1:4], ids[:, 5:7, 5:7] = 1, 2
    pred, truth = _folders(tmp_path, ids, ids, "TYX")
    with caplog.at_level(logging.INFO):
        rows = evaluate_predictions(pred, truth, objects_3d=True).images
    assert [(r["name"], r["t"], r["planes"], r["objects"], r["object_f1"]) for r in rows] == [
        (f"s[{t}]", t, 1, 2, 1.0) for t in range(3)
    ]
    assert "scored 1 of 1 image without a Z axis by their 2-D objects" in caplog.text


def test_a_one_page_image_is_scored_by_its_2d_objects(tmp_path, caplog):
    ids = np.ones((8, 8), np.uint16)
    pred, truth = _folders(tmp_path, ids, ids, "YX")
    with caplog.at_level(logging.INFO):
        (row,) = evaluate_predictions(pred, truth, objects_3d=True).images
    assert (row["name"], row["planes"], row["objects"], row["object_f1"]) == ("s", 1, 1, 1.0)
    said = "as predict_folder(..., objects_3d=True) gives them: s.tif"  # Python's (s55)
    assert f"without a Z axis by their 2-D objects, {said}" in caplog.text


def test_cli_writes_one_row_per_stack_and_refuses_voxel_flags_where_unread(tmp_path, capsys):
    gt = _balls()
    pred, truth = _folders(tmp_path, gt, gt)
    out = tmp_path / "e.json"
    args = ["evaluate", "--pred", str(pred), "--gt", str(truth), "--objects-3d"]
    assert main([*args, "--json", str(out)]) == 0
    with open(tmp_path / "e_images.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["true_objects"], row["object_f1"], row["planes"]) == ("2", "1", "9")
    said = capsys.readouterr().out  # a ZYX stack was called "a stack (a movie's frame)"
    assert "3-D objects: each image below is a z-stack (of a TZYX movie: one time point)" in said
    assert main([*args, "--z-spacing", "2"]) != 0  # a checkpoint's voxel: predict's files have
    assert "--z-spacing sets how a checkpoint predicts" in capsys.readouterr().err
    model = ["evaluate", "--checkpoint", "m.pt", "--data", "d"]
    assert main([*model, "--objects-3d", "--best-threshold"]) != 0
    assert "--best-threshold thresholds the cell probability plane by plane" in (
        capsys.readouterr().err
    )
    assert main([*model, "--z-spacing", "2"]) != 0
    assert "--z-spacing sizes the voxels --objects-3d joins objects in" in capsys.readouterr().err


def test_truth_that_records_no_axes_takes_the_predictions_and_both_without_are_refused(tmp_path):
    gt = _balls()
    pred, truth = _folders(tmp_path, gt, gt)
    tifffile.imwrite(truth / "s.tif", gt, metadata=None)  # another tool's plain stack
    (row,) = evaluate_predictions(pred, truth, objects_3d=True).images
    assert (row["objects"], row["object_f1"], row["planes"]) == (2, 1.0, 9)
    tifffile.imwrite(pred / "s_objects.tif", gt, metadata=None)
    with pytest.raises(UnetlabError, match="its 9 pages record no axes, nor do those of"):
        evaluate_predictions(pred, truth, objects_3d=True)


def test_a_prediction_of_another_size_is_refused_naming_both(tmp_path):
    gt = _balls()
    pred, truth = _folders(tmp_path, gt[:8], gt)
    with pytest.raises(UnetlabError, match=r"8 pages of 40x32 .* but its ground truth .* 9 pages"):
        evaluate_predictions(pred, truth, objects_3d=True)
    with pytest.raises(UnetlabError, match=r"^ignore_value is not read with objects_3d=True"):
        evaluate_predictions(pred, truth, objects_3d=True, ignore_value=255)


def test_region_flags_are_refused_with_3d_objects(tmp_path):
    """Ids are given: --connectivity, --boundary-class and --object-scores off were accepted
    and ignored (s38 eval3d's leftover)."""
    gt = _balls()
    pred, truth = _folders(tmp_path, gt, gt)
    bad = dict(connectivity=2, boundary_class=1, objects=False)
    flags = {"connectivity": "--connectivity", "boundary_class": "--boundary-class"}
    flags["objects"] = "--object-scores"
    for key, value in bad.items():
        with pytest.raises(UnetlabError, match=f"^{key} is not read with objects_3d=True") as e:
            evaluate_predictions(pred, truth, objects_3d=True, **{key: value})
        assert e.value.cli.startswith(f"{flags[key]} is not read with --objects-3d: ")
    (row,) = evaluate_predictions(pred, truth, objects_3d=True, objects=True).images
    assert row["object_f1"] == 1.0


def test_a_missing_prediction_is_named(tmp_path):
    gt = _balls()
    pred, truth = _folders(tmp_path, gt, gt)
    (pred / "s_objects.tif").rename(pred / "other_objects.tif")
    with pytest.raises(UnetlabError, match="s.tif: no s_objects.tif in"):
        evaluate_predictions(pred, truth, objects_3d=True)


def test_a_prediction_with_no_ground_truth_is_named(tmp_path, caplog):
    """--objects-3d scored s and left t_objects.tif (no t.tif in --gt) out without a word,
    where the 2-D path names such predictions (s38 leftovers)."""
    gt = _balls()
    pred, truth = _folders(tmp_path, gt, gt)
    _write(pred / "t_objects.tif", gt)
    with caplog.at_level("WARNING", logger="unetlab"):
        report = evaluate_predictions(pred, truth, objects_3d=True)
    assert [row["name"] for row in report.images] == ["s"]
    assert f"1 prediction in {pred} has no mask in {truth} and is not scored: t" in (caplog.text)


def test_an_ome_tiff_s_truth_pairs_with_the_prediction_predict_names_without_ome(tmp_path):
    """predict names the outputs of s.ome.tif s.tif, s_objects.tif; truth saved as
    s.ome.tif (Bio-Formats' OME-TIFF export) was 'no s.ome_objects.tif' (audit s38 3d), in
    3-D and plane by plane; a mask named s too keeps its own."""
    gt = _balls()
    pred, truth = _folders(tmp_path, gt, gt)
    (truth / "s.tif").rename(truth / "s.ome.tif")
    tifffile.imwrite(truth / "s.ome.tif", gt, ome=True, metadata={"axes": "ZYX"})
    report = evaluate_predictions(pred, truth, objects_3d=True)
    assert [(r["name"], r["object_f1"]) for r in report.images] == [("s", 1.0)]
    flat = evaluate_predictions(pred, truth, gt_instances=True, pred_instances=True)
    assert flat.summary["object_f1"] == 1.0 and len(flat.images) == 9
    _write(truth / "s.tif", gt)  # s.tif is s's mask, s.ome.tif stays unpaired
    with pytest.raises(UnetlabError, match="s.ome"):
        evaluate_predictions(pred, truth, objects_3d=True)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (dict(objects_3d="no"), "objects_3d is True or False, not 'no'"),
        (dict(z_spacing=2.0), r"^z_spacing sizes the voxels whose objects objects_3d=True"),
        (dict(objects_3d=True, thresholds=[0.5]), r"^thresholds is not read with objects_3d=True"),
        (dict(objects_3d=True, ignore_value=255), r"^ignore_value is not read with objects_3d"),
    ],
)
def test_evaluate_model_in_3d_refuses_what_it_does_not_read_before_any_work(given, said):
    with pytest.raises(UnetlabError, match=said):
        evaluate_model("no-such.pt", "no-such-folder", **given)


def test_the_folders_are_checked_once_in_3d(tmp_path, monkeypatch):
    """evaluate_predictions(objects_3d=True) checked them, then evaluate_volumes again,
    where the check says 'checked once' (s49 review1)."""
    import unetlab.evaluate.predictions as predictions
    import unetlab.evaluate.volumes as volumes

    checked = []

    def counted(pred_dir, gt_dir):
        checked.append(pred_dir)
        return real(pred_dir, gt_dir)

    real = volumes.refuse_image_folders
    monkeypatch.setattr(predictions, "refuse_image_folders", counted)
    monkeypatch.setattr(volumes, "refuse_image_folders", counted)
    gt = _balls()
    evaluate_predictions(*_folders(tmp_path, gt, gt), objects_3d=True)
    assert len(checked) == 1


@pytest.mark.parametrize("value", [1, 255])
def test_a_binary_truth_stack_s_objects_are_its_3d_components_as_in_2d(tmp_path, value):
    """A 0/1 (0/255) truth stack of two separate balls was read as object ids: one object,
    id 1, where 2-D reads a binary truth's connected components (s57). Now 2 true objects,
    matched by the ids prediction, as each plane's 2-D reading counts them."""
    ids = _balls()
    pred, truth = _folders(tmp_path, ids, ((ids > 0) * value).astype(np.uint8))
    (row,) = evaluate_predictions(pred, truth, objects_3d=True, progress=False).images
    assert (row["objects"], row["pred_objects"], row["object_f1"]) == (2, 2, 1.0)
    flat = evaluate_predictions(pred, truth, gt_instances=True, pred_instances=True)
    assert sum(r["objects"] for r in flat.images) == 18  # 2-D: each ball in each of its planes


def test_a_binary_truth_splits_in_3d_as_a_plane_splits_in_2d():
    """A 3-D binary truth's objects are face-connected, as 2-D's default (4-connected)
    split of a binary truth: two squares touching at a corner are two objects in a plane,
    and two planes' squares touching at a corner across them are two in a volume."""
    from unetlab.data.instances import instance_ids
    from unetlab.evaluate.volumes import volume_objects

    plane = np.zeros((16, 16), np.uint8)
    plane[2:6, 2:6] = plane[6:10, 6:10] = 1
    across = np.zeros((2, 16, 16), np.uint8)
    across[0, 2:6, 2:6] = across[1, 6:10, 6:10] = 1
    assert instance_ids(plane).max() == volume_objects(plane[None]).max() == 2
    assert volume_objects(across).max() == 2
