"""evaluate --pred of another tool's maps of mask values beside label values that read as
class indices too (--label-values 1 2 3: 1 is class 0's value and class index 1), review
s66: maps of 1..3 were refused as unetlab predict's files ('the predictions hold 3, the mask
value of class 2 ... predict again without --label-values'), a fix that does not apply."""

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_predictions
from unetlab.evaluate.checks import MaskValuesError


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


def test_a_map_read_as_indices_before_one_of_values_is_refused_naming_both(tmp_path, capsys):
    """s0's map holds 1 and 2 only (either reading), s1's 1..3 (values only): s0 was read
    as class indices first, so the folder is refused, not scored two ways."""
    pred, gt = _maps(tmp_path, void=False)
    write_png(pred / "s0.png", np.where(np.arange(256).reshape(16, 16) % 2, 1, 2).astype(np.uint8))
    with pytest.raises(MaskValuesError, match="s1.png holds 3, no class index of the 3 classes"):
        evaluate_predictions(pred, gt, label_values=[1, 2, 3])
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--label-values", "1", "2", "3"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "s0.png was read as class indices (1 2" in err
    assert "save them as class indices 0..2, or as unetlab predict --label-values writes" in err
