"""cellpose's saved masks (<stem>_cp_masks.png) are predicted object ids to evaluate, as
unetlab's <stem>_objects.tif are (a cellpose user scoring cellpose's output; audit s33)."""

from __future__ import annotations

import numpy as np

from unetlab.data.io import write_png, write_tiff
from unetlab.evaluate import evaluate_predictions


def test_cp_masks_are_scored_as_objects_like_objects_tif(tmp_path):
    truth = np.zeros((8, 8), np.uint16)
    truth[:4, :4], truth[5:8, 5:8] = 3, 8
    pred = np.zeros_like(truth)
    pred[:4, :3], pred[5:8, 5:8] = 1, 2
    write_png(tmp_path / "gt" / "a.png", truth)
    write_png(tmp_path / "cp" / "a_cp_masks.png", pred)
    write_tiff(tmp_path / "own" / "a_objects.tif", pred)
    cp = evaluate_predictions(tmp_path / "cp", tmp_path / "gt", gt_instances=True).to_dict()
    own = evaluate_predictions(tmp_path / "own", tmp_path / "gt", gt_instances=True).to_dict()
    assert (cp["objects"], cp["pred_objects"], cp["object_tp"]) == (2, 2, 2)
    assert (cp["object_f1"], cp["dsb"], cp["pq"]) == (own["object_f1"], own["dsb"], own["pq"])
