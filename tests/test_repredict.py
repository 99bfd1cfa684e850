"""Predicting an input again into the same folder replaces all its outputs: an output the
run does not write this time (an overlay not asked for, another model's) is removed, so an
old overlay never lies beside new labels (audit s28 'stacks', finding 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions
from unetlab.outputs import MANIFEST, made_from


def _net(seed: int) -> UNet:
    torch.manual_seed(seed)
    return UNet(1, 2, depth=2, base_channels=2, padding="same")


@pytest.fixture
def work(tmp_path):
    """in/st.tif (a 3-frame TYX ImageJ stack), in/mine.png beside, two tiny checkpoints."""
    (tmp_path / "in").mkdir()
    frames = np.random.default_rng(0).integers(0, 255, (3, 24, 20), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "in" / "st.tif", frames, imagej=True, metadata={"axes": "TYX"})
    save_model(tmp_path / "m1.pt", _net(1))
    save_model(tmp_path / "m2.pt", _net(2))
    return tmp_path


def _predict(work: Path, checkpoint: str, *extra: str) -> int:
    argv = ["predict", "--checkpoint", str(work / checkpoint), "--input", str(work / "in")]
    return main([*argv, "--output", str(work / "out"), "--device", "cpu", *extra])


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")} - {"predict.json"}


def test_another_models_run_removes_the_overlay_it_does_not_write(work):
    assert _predict(work, "m1.pt", "--instances", "--overlay", "--save-probabilities") == 0
    assert "st_overlay.tif" in _names(work / "out") and "st_prob.tif" in _names(work / "out")
    assert _predict(work, "m2.pt", "--instances") == 0
    tables = {"st_objects.tif", "st_objects.csv", "objects_summary.csv"}  # a row per frame
    assert _names(work / "out") == {"st.tif"} | tables
    assert set(made_from(work / "out", "predict")) == _names(work / "out") | {"predict.json"}


def test_other_settings_remove_the_objects_they_do_not_write(work):
    assert _predict(work, "m1.pt", "--instances", "--overlay") == 0
    assert _predict(work, "m1.pt") == 0  # labels only: the object tables go
    assert _names(work / "out") == {"st.tif"}
    assert _predict(work, "m1.pt", "--skip-existing") == 0  # finished: nothing removed
    assert _names(work / "out") == {"st.tif"}


def test_a_summary_of_other_inputs_objects_stays(work):
    """A run without objects removes the per-image table only where it predicted every
    image the table lists: one of other inputs stays (the stale-table fix, session 35)."""
    from PIL import Image

    Image.fromarray(np.zeros((24, 20), np.uint8)).save(work / "in" / "b.png")
    assert _predict(work, "m1.pt", "--instances") == 0
    assert "objects_summary.csv" in _names(work / "out")
    one = ["--input", str(work / "in" / "b.png"), "--overwrite"]
    assert _predict(work, "m1.pt", *one) == 0  # b.png only: st.tif's rows still hold
    assert "objects_summary.csv" in _names(work / "out")
    assert _predict(work, "m1.pt") == 0  # both, without objects: the table goes
    assert "objects_summary.csv" not in _names(work / "out")
    assert "objects_summary.csv" not in made_from(work / "out", "predict")


def test_a_users_file_and_other_inputs_outputs_stay(work):
    assert _predict(work, "m1.pt", "--overlay") == 0
    (work / "out" / "notes.txt").write_text("mine")
    (work / "in" / "b.tif").write_bytes((work / "in" / "st.tif").read_bytes())
    assert _predict(work, "m2.pt", "--input", str(work / "in" / "b.tif"), "--overwrite") == 0
    assert {"st_overlay.tif", "notes.txt", "b.tif"} <= _names(work / "out")
    assert (work / "out" / "notes.txt").read_text() == "mine"


def test_predict_file_removes_the_inputs_outputs_it_does_not_write(work):
    out = work / "out"
    objects = ObjectOptions()
    predict_file(_net(1), work / "in" / "st.tif", out, draw_overlay=True, objects=objects)
    predict_file(_net(2), work / "in" / "st.tif", out)
    assert _names(out) == {"st.tif"}
    assert "st_overlay.tif" not in (out / MANIFEST).read_text().split()


def test_another_model_on_one_input_says_the_folder_now_mixes_two_models(work, caplog):
    from PIL import Image

    Image.fromarray(np.zeros((24, 20), np.uint8)).save(work / "in" / "b.png")
    assert _predict(work, "m1.pt") == 0  # st.tif and b.png by m1
    argv = ["predict", "--checkpoint", str(work / "m2.pt"), "--input", str(work / "in" / "b.png")]
    with caplog.at_level("WARNING", logger="unetlab.inference.folders"):
        assert main([*argv, "--output", str(work / "out"), "--device", "cpu"]) == 0
    assert "also holds outputs of st.tif made by" in caplog.text
    assert "the folder will mix two models" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="unetlab.inference.folders"):  # the same model
        assert main([*argv[:2], str(work / "m1.pt"), *argv[3:], "--output", str(work / "out")]) == 0
    assert "mix two models" not in caplog.text


def _png(path: Path, seed: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (24, 20), dtype=np.uint8)).save(path)


def test_a_changed_input_that_now_fails_loses_its_earlier_outputs(work, caplog):
    """The batch audit (s36, 1): b.png re-copied and cut off failed and kept night 1's
    labels and objects, which a merge of the folder's tables took for this night's."""
    _png(work / "in" / "b.png", 1)
    assert _predict(work, "m1.pt", "--instances", "--skip-existing") == 0
    assert {"b.png", "b_objects.csv", "b_objects.tif"} <= _names(work / "out")
    whole = (work / "in" / "b.png").read_bytes()
    (work / "in" / "b.png").write_bytes(whole[: len(whole) // 3])
    caplog.set_level("INFO")
    assert _predict(work, "m1.pt", "--instances", "--skip-existing") != 0
    assert not {"b.png", "b_objects.csv", "b_objects.tif"} & _names(work / "out")
    assert not {n for n in made_from(work / "out", "predict") if n.startswith("b")}
    assert "removed b.png's earlier outputs (b.png, b_objects.csv, b_objects.tif)" in caplog.text
    summary = (work / "out" / "objects_summary.csv").read_text()
    assert [r for r in summary.splitlines() if r.startswith("b.png,")][0].startswith(
        "b.png,failed,"
    )
    assert {"st.tif", "st_objects.csv"} <= _names(work / "out")  # the unchanged one's stay


def test_outputs_of_an_input_deleted_from_the_folder_stay_and_are_named(work, caplog):
    _png(work / "in" / "b.png", 1)
    assert _predict(work, "m1.pt", "--instances", "--skip-existing") == 0
    (work / "in" / "b.png").unlink()
    caplog.set_level("INFO")
    assert _predict(work, "m1.pt", "--instances", "--skip-existing") == 0
    assert {"b.png", "b_objects.csv", "b_objects.tif"} <= _names(work / "out")  # kept
    line = "3 outputs belong to inputs no longer in the input folder (b.png): kept"
    assert line in caplog.text
    summary = (work / "out" / "objects_summary.csv").read_text()
    assert "b.png" not in summary


def test_skip_existing_refuses_only_where_another_model_made_the_given_inputs(work, caplog):
    """README: --skip-existing refuses a folder where another model made the outputs of the
    inputs given; other inputs' outputs of another model are left, said in one line."""
    from PIL import Image

    Image.fromarray(np.zeros((24, 20), np.uint8)).save(work / "in" / "b.png")
    assert _predict(work, "m1.pt") == 0  # st.tif and b.png by m1
    assert _predict(work, "m2.pt", "--skip-existing") != 0  # both inputs m1's: refused
    argv = ["predict", "--checkpoint", str(work / "m2.pt"), "--input", str(work / "in" / "b.png")]
    with caplog.at_level("WARNING", logger="unetlab.inference.folders"):
        argv += ["--output", str(work / "out"), "--device", "cpu", "--skip-existing"]
        assert main([*argv, "--overwrite"]) == 0  # b.png again, st.tif's m1 outputs left
    assert "also holds outputs of st.tif made by" in caplog.text
    assert (work / "out" / "st.tif").exists()
