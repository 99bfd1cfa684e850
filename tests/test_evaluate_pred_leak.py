"""evaluate --pred notes the scored images that trained the checkpoint which made the
predictions, as predict.json records it (audit s31 fewshot 3), as --checkpoint does."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from unetlab.cli import main
from unetlab.evaluate import evaluate_predictions

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def predicted(tmp_path_factory):
    """A checkpoint, a test folder of 2 new images and a renamed copy of a training one,
    and the checkpoint's predictions of it."""
    from unetlab.train import fit

    tmp = tmp_path_factory.mktemp("leak")
    data = write_blobs(tmp / "data", 5)
    result = fit(tiny_config(data, "train.epochs=1"), run_dir=tmp / "run", progress=False)
    best = Path(result["best_checkpoint"])
    test = write_blobs(tmp / "test", 2, seed=1)
    first = json.loads((best.parent.parent / "split.json").read_text())["train"][0]
    shutil.copy(data / first["image"], test / "images" / "slide_A.png")
    shutil.copy(data / first["mask"], test / "masks" / "slide_A.png")
    pred = tmp / "pred"
    argv = ["predict", "--checkpoint", str(best), "--input", str(test / "images")]
    assert main([*argv, "--output", str(pred), "--device", "cpu"]) == 0
    return test, pred


@pytest.mark.parametrize("gt", ["masks", ".", "masks_only"])
def test_pred_scores_say_which_images_trained_the_checkpoint(predicted, gt, caplog, tmp_path):
    test, pred = predicted
    where = test / gt
    if gt == "masks_only":  # no images beside: the masks' bytes tell
        where = shutil.copytree(test / "masks", tmp_path / "truth")
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        report = evaluate_predictions(pred, where, label_values=[0, 255])
    assert "note: 1 of these 3 images trained the checkpoint that made these predictions" in (
        caplog.text
    )
    assert "predict.json records it; slide_A; marked trained" in caplog.text
    flags = {row["name"]: row["trained"] for row in report.to_dict()["images"]}
    assert flags == {"0": False, "1": False, "slide_A": True}
    assert report.source["trained_images"] == 1


def test_pred_without_a_record_of_its_checkpoint_says_nothing(predicted, caplog, tmp_path):
    test, pred = predicted
    bare = shutil.copytree(pred, tmp_path / "bare")
    (bare / "predict.json").unlink()
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        report = evaluate_predictions(bare, test / "masks", label_values=[0, 255])
    assert "trained" not in caplog.text and "trained_images" not in report.source
    assert all("trained" not in row for row in report.to_dict()["images"])


def _masks(folder, count: int, side: int = 256):
    """``count`` masks and their predictions (shifted copies) of ``side``² uint8 in
    ``folder``/gt and ``folder``/pred."""
    import numpy as np
    from PIL import Image

    for part in ("gt", "pred"):
        (folder / part).mkdir(parents=True)
    for i in range(count):
        mask = np.zeros((side, side), np.uint8)
        mask[i % 50 : i % 50 + 80, 40:120] = 1
        Image.fromarray(mask).save(folder / "gt" / f"{i}.png")
        Image.fromarray(np.roll(mask, 3, axis=1)).save(folder / "pred" / f"{i}.png")
    return folder / "pred", folder / "gt"


def _peak(pred, gt) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        evaluate_predictions(pred, gt, objects=False)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_pred_scores_hold_one_mask_at_a_time(tmp_path):
    """The pages kept for the note above hold no pixels (review s32 5): 20 more masks of
    64 KiB each add far less than their 1.25 MiB to the peak."""
    few, many = _peak(*_masks(tmp_path / "few", 4)), _peak(*_masks(tmp_path / "many", 24))
    assert many - few < 5 * 256 * 256
