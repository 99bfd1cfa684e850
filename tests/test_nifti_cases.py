"""NIfTI volumes scored per case (unetlab.evaluate.cases): each case's Dice and IoU per class
over its whole 3-D volume, as nnU-Net's summary.json reads a result, and their mean over
the cases, a class in neither truth nor prediction of a case left out (NaN, null)."""

import csv
import json

import numpy as np

from tests.test_nifti import write_nifti
from unetlab.cli import main


def _volumes(seed: int, kidney: bool = True):
    """(X, Y, Z) truth and a prediction off by a few voxels: liver 1, kidney 2."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((24, 20, 6), np.uint8)
    truth[4:14, 3:15, 1:5] = 1
    if kidney:
        truth[16:21, 5:9, 2:4] = 2
    pred = truth.copy()
    flip = rng.random(truth.shape) < 0.05
    pred[flip] = rng.integers(0, 2 + kidney, flip.sum())
    return truth, pred


def _dice(truth: np.ndarray, pred: np.ndarray, k: int) -> float:
    t, p = truth == k, pred == k
    return 2 * (t & p).sum() / (t.sum() + p.sum()) if t.sum() + p.sum() else float("nan")


def test_cases_scored_whole_and_absent_class_left_out(tmp_path, capsys):
    """Two cases, the second without kidney in truth or prediction: its kidney Dice is null
    and the kidney mean is the first case's alone (nnU-Net: nanmean); each case's Dice is
    the whole volume's (not the mean of its slices'), and the slices keep their rows."""
    gt, pred = tmp_path / "labelsTs", tmp_path / "pred"
    gt.mkdir(), pred.mkdir()
    made = {"abd_6": _volumes(6), "abd_7": _volumes(7, kidney=False)}
    for case, (truth, guess) in made.items():
        write_nifti(gt / f"{case}.nii.gz", truth, spacing=(0.8, 0.8, 2.5), units=10)
        write_nifti(pred / f"{case}.nii.gz", guess, spacing=(0.8, 0.8, 2.5), units=10)
    names = ["--class-names", "background", "liver", "kidney"]
    out = tmp_path / "e.json"
    args = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--json", str(out), *names]
    assert main([*args, "--no-progress"]) == 0
    shown = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert len(report["images"]) == 12 and report["images"][0]["name"] == "abd_6[0]"
    rows = {r["name"]: r for r in report["cases"]}
    assert list(rows) == ["abd_6", "abd_7"] and rows["abd_6"]["slices"] == 6
    for case, (truth, guess) in made.items():
        for k in (1, 2):
            want = _dice(truth, guess, k)
            got = rows[case]["dice"][k]
            assert (got is None and np.isnan(want)) or abs(got - want) < 1e-12, (case, k)
        organs = np.nanmean([_dice(truth, guess, k) for k in (1, 2)])  # not the background
        assert abs(rows[case]["foreground_dice"] - organs) < 1e-12, case
    assert rows["abd_7"]["dice"][2] is None and rows["abd_7"]["iou"][2] is None
    kidney = report["case_mean"]["classes"]["kidney"]["dice"]
    assert kidney["n"] == 1 and kidney["mean"] == rows["abd_6"]["dice"][2]
    liver = report["case_mean"]["classes"]["liver"]["dice"]
    assert (
        liver["n"] == 2
        and abs(liver["mean"] - np.mean([r["dice"][1] for r in rows.values()])) < 1e-12
    )
    fg = report["case_mean"]["foreground_dice"]
    assert abs(fg - (liver["mean"] + kidney["mean"]) / 2) < 1e-12
    assert (
        "nanmean" not in report["averaging"]["case_mean"]
        and "left out" in report["averaging"]["case_mean"]
    )
    with open(tmp_path / "e_cases.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["name"] for r in table] == ["abd_6", "abd_7"] and table[1]["dice_kidney"] == ""
    assert "per case (3-D)     2 volumes each scored whole" in shown
    assert "kidney           Dice" in shown and "(n = 1: in neither truth nor prediction" in shown


def _scored(tmp_path, made: dict, *extra: str) -> dict:
    """evaluate's JSON of the cases ``made`` (truth, prediction), in a CT's mm voxels."""
    gt, pred = tmp_path / "labelsTs", tmp_path / "pred"
    gt.mkdir(), pred.mkdir()
    for case, (truth, guess) in made.items():
        write_nifti(gt / f"{case}.nii.gz", truth, spacing=(0.8, 0.8, 2.5), units=10)
        write_nifti(pred / f"{case}.nii.gz", guess, spacing=(0.8, 0.8, 2.5), units=10)
    out = tmp_path / "e.json"
    args = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--json", str(out), *extra]
    assert main([*args, "--no-progress"]) == 0
    return json.loads(out.read_text())


def test_foreground_dice_keeps_class_1_where_class_0_is_hidden(tmp_path, capsys):
    """s72: with --ignore-value 0 (class 0 hidden), the case mean's foreground Dice was class
    2's alone (it left out the first shown class by place, class 1, a real organ); each
    case's and the mean's foreground Dice are their organs' mean Dice, as numpy's."""
    made = {f"abd_{seed}": _volumes(seed) for seed in (1, 2, 3)}
    report = _scored(tmp_path, made, "--ignore-value", "0")
    shown = capsys.readouterr().out
    assert list(report["classes"]) == ["1", "2"]
    for row, (truth, guess) in zip(report["cases"], made.values()):
        seen = truth != 0  # the truth's class 0 is the ignore value
        want = np.mean([_dice(truth[seen], guess[seen], k) for k in (1, 2)])
        assert abs(row["foreground_dice"] - want) < 1e-12, row["name"]
    means = [report["case_mean"]["classes"][k]["dice"]["mean"] for k in ("1", "2")]
    assert abs(report["case_mean"]["foreground_dice"] - np.mean(means)) < 1e-12
    assert f"foreground Dice  {np.mean(means):.4f} (the classes' mean)\n" in shown


def test_a_class_in_no_case_is_said_so(tmp_path, capsys):
    """A named class in neither truth nor prediction of any case: not "of the others"."""
    _scored(tmp_path, {"abd_1": _volumes(1)}, "--class-names", "bg", "liver", "kidney", "lung")
    shown = capsys.readouterr().out
    assert "(in neither truth nor prediction of any case)" in shown and "others" not in shown


def test_a_foreign_cases_csv_is_refused_before_scoring(tmp_path, capsys):
    """Beside NIfTI volumes evaluate claims e_cases.csv before scoring: another file there
    is refused with one line and nothing written (as its other outputs)."""
    (tmp_path / "e_cases.csv").write_text("mine\n")
    gt, pred = tmp_path / "Task01" / "labelsTs", tmp_path / "pred"
    for folder in (gt, pred):
        folder.mkdir(parents=True)
        write_nifti(folder / "abd_1.nii.gz", _volumes(1)[0], units=10)
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt.parent)]
    assert main([*argv, "--json", str(tmp_path / "e.json")]) == 2
    assert "e_cases.csv exists and was not written by unetlab" in capsys.readouterr().err
    assert not (tmp_path / "e.json").exists()


def test_an_earlier_cases_csv_goes_with_a_report_of_no_volumes(tmp_path, capsys):
    """A report of PNGs written over an earlier one of NIfTI cases (--overwrite) removes the
    earlier e_cases.csv evaluate wrote: it stayed beside the new report, read as its own."""
    from unetlab.data.io import write_png

    _scored(tmp_path, {"abd_1": _volumes(1)})
    assert (tmp_path / "e_cases.csv").is_file()
    mask = np.zeros((6, 8), np.uint8)
    mask[:, 3] = 1
    write_png(tmp_path / "gt_png" / "a.png", mask)
    write_png(tmp_path / "pred_png" / "a.png", mask)
    argv = ["evaluate", "--pred", str(tmp_path / "pred_png"), "--gt", str(tmp_path / "gt_png")]
    assert main([*argv, "--json", str(tmp_path / "e.json"), "--overwrite"]) == 0
    assert not (tmp_path / "e_cases.csv").exists()
    assert "per-case CSV: removed" in capsys.readouterr().out


def _iou(truth: np.ndarray, pred: np.ndarray, k: int) -> float:
    t, p = truth == k, pred == k
    return (t & p).sum() / (t | p).sum() if (t | p).sum() else float("nan")


def test_a_case_s_miou_and_mdice_are_its_organs_means_not_the_background_s(tmp_path, capsys):
    """s73: a case's miou and mdice were the means of all its classes, the background's near-1
    Dice with them (beside a foreground Dice of the organs alone); now its organs' means, as
    nnU-Net's foreground_mean, and the background's own figures stay in its iou and dice.
    Seen failing without the fix (mdice 0.8593, with the background's, != 0.7982)."""
    gt, pred = tmp_path / "labelsTs", tmp_path / "pred"
    gt.mkdir(), pred.mkdir()
    truth, guess = _volumes(6)
    write_nifti(gt / "abd_6.nii.gz", truth, spacing=(0.8, 0.8, 2.5), units=10)
    write_nifti(pred / "abd_6.nii.gz", guess, spacing=(0.8, 0.8, 2.5), units=10)
    out = tmp_path / "e.json"
    args = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--json", str(out), "--no-progress"]
    assert main(args) == 0
    (row,) = json.loads(out.read_text())["cases"]
    assert abs(row["mdice"] - np.mean([_dice(truth, guess, k) for k in (1, 2)])) < 1e-12
    assert abs(row["miou"] - np.mean([_iou(truth, guess, k) for k in (1, 2)])) < 1e-12
    assert row["mdice"] == row["foreground_dice"]
    assert abs(row["dice"][0] - _dice(truth, guess, 0)) < 1e-12  # the background's, kept


def _zero_pixdim(path, *, sform: bool):
    """``path`` (write_nifti's) with pixdim 1..3 of 0, and its sform's columns 0 too where
    ``sform`` (a tool that wrote no voxel size); else no sform nor qform (codes 0)."""
    import struct

    raw = bytearray(path.read_bytes())
    struct.pack_into("<3f", raw, 80, 0.0, 0.0, 0.0)
    if sform:
        for row in (280, 296, 312):
            struct.pack_into("<3f", raw, row, 0.0, 0.0, 0.0)
    else:
        struct.pack_into("<2h", raw, 252, 0, 0)
    path.write_bytes(bytes(raw))


def test_a_truth_of_pixdim_0_is_said_in_one_line_or_read_as_nibabel_reads_it(tmp_path, capsys):
    """A NIfTI ground truth whose header gives a voxel size of 0 (pixdim 0): evaluate --pred
    crashed with numpy's LinAlgError (singular matrix) checking the prediction lies on its
    grid (s74). Its qform or pixdim alone: 0 read as 1, as nibabel reads it ("setting 0
    dims to 1"), so a prediction on that grid is scored (volumes in voxels: no spacing);
    a sform of a voxel size of 0: one line naming the file and the fix. Seen failing
    without the fix: LinAlgError, both."""
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir(), pred.mkdir()
    truth, guess = _volumes(6)
    for folder, labels in ((gt, truth), (pred, guess)):
        _zero_pixdim(write_nifti(folder / "abd_6.nii", labels), sform=False)
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--no-progress", "--json"]
    assert main([*argv, str(tmp_path / "e.json")]) == 0
    case = json.loads((tmp_path / "e.json").read_text())["cases"][0]
    assert case["name"] == "abd_6" and abs(case["dice"][1] - _dice(truth, guess, 1)) < 1e-12
    assert case["volume_unit"] == "voxels" and case["true_volume"][1] == (truth == 1).sum()
    _zero_pixdim(write_nifti(gt / "abd_6.nii", truth), sform=True)
    assert main([*argv, str(tmp_path / "f.json")]) == 2
    err = capsys.readouterr().err
    assert "abd_6.nii: its sform puts its voxels on no grid (a voxel size of 0)" in err
    assert "LinAlgError" not in err and len(err.strip().splitlines()) == 1
