"""What evaluate tells a user with few images: which images trained the checkpoint (audit
s31 fewshot 4) and each image's pixel scores with their spread (fewshot 8)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from unetlab import evaluate_model

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from unetlab.train import fit

    tmp = tmp_path_factory.mktemp("few")
    data = write_blobs(tmp / "data", 5)
    result = fit(tiny_config(data, "train.epochs=1"), run_dir=tmp / "run", progress=False)
    return data, Path(result["best_checkpoint"])


def test_the_note_names_the_images_that_trained_and_the_json_marks_them(trained, tmp_path, caplog):
    data, best = trained
    test = write_blobs(tmp_path / "test", 2, seed=1)
    record = json.loads((best.parent.parent / "split.json").read_text())
    source = data / record["train"][0]["image"]
    shutil.copy(source, test / "images" / "slide_A.png")
    shutil.copy(data / record["train"][0]["mask"], test / "masks" / "slide_A.png")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        report = evaluate_model(best, test, device="cpu")
    assert "note: 1 of these 3 images trained this checkpoint (slide_A.png;" in caplog.text
    assert "not its validation images either: they chose best.pt" in caplog.text
    flags = {row["name"]: row["trained"] for row in report.to_dict()["images"]}
    assert flags == {"0": False, "1": False, "slide_A": True}
    assert report.source["trained_images"] == 1
    assert "over the 3 images, each image's own figure (1 of them trained the" in report.table()


def test_spread_is_the_sample_sd_and_range_of_the_defined_values():
    from unetlab.evaluate.spread import spread

    s = spread([0.5, float("nan"), 0.7, 0.9])
    assert s["n"] == 3 and s["min"] == 0.5 and s["max"] == 0.9
    assert s["mean"] == pytest.approx(0.7) and s["sd"] == pytest.approx(0.2)
    assert spread([0.4])["sd"] != spread([0.4])["sd"]  # NaN: one value has no spread


def test_evaluate_gives_each_images_pixel_scores_their_spread_and_a_csv(trained, tmp_path, capsys):
    import csv

    from unetlab.cli import main

    data, best = trained
    test = write_blobs(tmp_path / "test", 3, seed=2)
    out = tmp_path / "ev.json"
    argv = ["evaluate", "--checkpoint", str(best), "--data", str(test), "--device", "cpu"]
    capsys.readouterr()
    assert main([*argv, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    found = json.loads(out.read_text())
    rows = found["images"]
    assert all(len(r["dice"]) == 2 and "mdice" in r and r["trained"] is False for r in rows)
    dice = [r["dice"][1] for r in rows]
    bright = found["per_image"]["classes"]["bright"]["dice"]
    assert bright["n"] == 3 and bright["min"] == min(dice) and bright["max"] == max(dice)
    assert bright["sd"] == pytest.approx(float(np.std(dice, ddof=1)))
    assert "mean ± sd (min-max) over the 3 images" in printed
    said = f"{bright['mean']:.4f} ± {bright['sd']:.4f} ({min(dice):.4f}-{max(dice):.4f})"
    assert f"Dice {said}" in printed
    assert f"mIoU               {found['miou']:.4f}" in printed  # the pooled figure kept
    with (tmp_path / "ev_images.csv").open(newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["name"] for r in table] == [r["name"] for r in rows]
    assert float(table[0]["dice_bright"]) == pytest.approx(rows[0]["dice"][1], rel=1e-5)
    assert table[0]["trained"] == "False" and "object_f1" in table[0]
