"""What evaluate tells a user with few images: which images trained the checkpoint (audit
s31 fewshot 4) and each image's pixel scores with their spread (fewshot 8)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

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
