"""The Python API as a notebook user meets it (audit s42 api): bad input refused in one
line (UnetlabError) where numpy's or Python's own error came out, arrays of the common
dtypes taken where they mean something, a report that prints in one line, and a tile bar
that knows its end."""

from __future__ import annotations

import io
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

import unetlab
from unetlab import (
    CheckpointError,
    ImageReadError,
    UNet,
    UnetlabError,
    build_loss,
    compare_runs,
    encode_labels,
    evaluate_model,
    evaluate_predictions,
    fit,
    load_config,
    load_model,
    matching_table,
    measure_objects,
    object_scores,
    plan_training,
    pooled_object_scores,
    predict_file,
    predict_folder,
    predict_image,
    read_image,
    run_demo,
    save_model,
    summarize,
    synthetic_em,
    weight_map,
)
from unetlab.data.io import write_png
from unetlab.evaluate.report import Report
from unetlab.inference.predict import labels_from_probabilities
from unetlab.metrics.isbi import information_score


def _net() -> UNet:
    return UNet(1, 2, depth=2, base_channels=4, padding="same").eval()


def _mask() -> np.ndarray:
    mask = np.zeros((32, 32), bool)
    mask[2:12, 2:12] = mask[14:30, 14:30] = True
    return mask


def test_labels_from_probabilities_refuses_a_map_and_takes_a_tensor():
    probs = np.random.default_rng(0).random((3, 8, 9)).astype(np.float32)
    with pytest.raises(UnetlabError, match=r"\(K, H, W\).*shape \(8, 9\)"):
        labels_from_probabilities(probs[0])  # it gave 8 indices of a row
    expected = labels_from_probabilities(probs)
    assert np.array_equal(labels_from_probabilities(torch.from_numpy(probs)), expected)


def test_labels_from_probabilities_takes_a_bfloat16_tensor():
    """A bfloat16 tensor (a net run under bf16 autocast) is taken as the others (numpy has no
    bfloat16: "Got unsupported ScalarType BFloat16")."""
    probs = torch.tensor([[[0.25, 0.75]], [[0.75, 0.25]]]).bfloat16()
    assert labels_from_probabilities(probs).tolist() == [[1, 0]]


def test_predict_image_refuses_an_invalid_mask_of_another_size():
    image = np.full((20, 24), 90, np.uint8)
    with pytest.raises(UnetlabError, match=r"invalid has shape \(5, 5\), the image \(20, 24\)"):
        predict_image(_net(), image, invalid=np.zeros((5, 5), bool))
    out = predict_image(_net(), image, invalid=np.zeros((20, 24), np.uint8))  # 0/1: taken
    assert out.shape == (2, 20, 24)


@pytest.mark.parametrize("score", [object_scores, matching_table])
def test_the_object_measures_refuse_a_bool_mask_naming_label(score):
    ids = np.zeros((32, 32), np.int32)
    with pytest.raises(UnetlabError, match="bool mask, not object ids.*measure.label"):
        score(prediction=_mask(), truth=ids)  # numpy's IndexError before
    with pytest.raises(UnetlabError, match="ground truth is a bool mask"):
        score(prediction=ids, truth=_mask())


def test_pooled_object_scores_refuse_a_bool_stack():
    with pytest.raises(UnetlabError, match="bool mask, not object ids"):
        pooled_object_scores(prediction=_mask()[None], truth=_mask()[None])


def test_weight_map_takes_a_bool_mask_and_refuses_floats_as_unetlab_errors():
    mask = _mask()
    assert np.array_equal(weight_map(mask), weight_map(mask.astype(np.uint8)))
    with pytest.raises(UnetlabError, match="integer class map, not float32"):
        weight_map(mask.astype(np.float32))  # a plain ValueError before


def test_measure_objects_refuses_negative_ids_and_names_label_for_a_bool_mask():
    ids = np.full((8, 8), -1, np.int32)
    with pytest.raises(UnetlabError, match="ids hold -1: object ids are 0"):
        measure_objects(ids)  # numpy's IndexError before
    with pytest.raises(UnetlabError, match=r"not bool .*skimage\.measure\.label"):
        measure_objects(_mask())


def test_load_config_takes_one_override_string_and_refuses_a_dict_as_path():
    assert load_config(None, "train.epochs=3").train.epochs == 3  # was "override 't' ..."
    with pytest.raises(UnetlabError, match="path must be a YAML file's path or None, not dict"):
        load_config({"train": {"epochs": 3}})


def test_a_report_is_one_line_in_a_notebook():
    images = [{"name": f"{i:02d}", "miou": 0.5, "pairs": np.arange(1000)} for i in range(3)]
    summary = {"miou": 0.5, "mdice": 0.625, "object_f1": None}
    report = Report(["bg", "cell"], np.eye(2, dtype=np.int64), images, summary)
    text = repr(report)
    assert text.splitlines() == [text] and len(text) < 200
    assert "3 images" in text and "miou 0.5000, mdice 0.6250;" in text and "table()" in text


def test_the_tile_bar_knows_how_many_tiles_are_to_come(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # the text bar, on stderr
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    bars = []

    def kept(**settings):  # the bar itself: a cleared bar's last draw may be an earlier one
        bars.append(unetlab.progress.tqdm(**settings))
        return bars[-1]

    monkeypatch.setattr(unetlab.progress, "progress_bar", kept)
    predict_image(_net(), np.full((40, 40), 90, np.uint8), tile_size=16, progress=True)
    assert len(bars) == 1 and bars[0].n > 1
    assert bars[0].total == bars[0].n  # None before: "9tile [00:00, ...]", no share, no end


def test_reading_refuses_what_is_no_path_and_names_a_folder(tmp_path):
    with pytest.raises(ImageReadError, match="not ndarray: an array is an image already"):
        read_image(np.zeros((4, 4), np.uint8))  # pathlib's TypeError before
    with pytest.raises(ImageReadError, match="is a folder: give one image file in it"):
        read_image(tmp_path)  # "no such file" before


@pytest.mark.parametrize(
    "what, said", [(None, "not NoneType$"), (_net(), "not UNet: this is a model already")]
)
def test_load_model_refuses_what_is_no_path(what, said):
    with pytest.raises(CheckpointError, match=f"expected a checkpoint file's path, {said}"):
        load_model(what)


@pytest.mark.parametrize(
    "call",
    [
        plan_training,
        lambda cfg: fit(cfg, run_dir="unused"),
        lambda cfg: unetlab.fit_label_offset(cfg, "unused"),
    ],
)
def test_fit_and_plan_refuse_a_dict_naming_load_config(call):
    with pytest.raises(UnetlabError, match="cfg must be a Config, not dict: .*load_config"):
        call({"data": {"root": "data"}})  # AttributeError before


def test_synthetic_em_takes_a_seed():
    image = synthetic_em(32, 3)[0]  # "'int' object has no attribute 'uniform'" before
    assert np.array_equal(image, synthetic_em(32, np.random.default_rng(3))[0])


def test_the_errors_a_notebook_catches_are_public_and_scores_are_floats():
    from unetlab import errors

    for name in ("OutOfMemoryError", "FolderInUseError", "DiskFullError"):
        assert getattr(unetlab, name) is getattr(errors, name) and name in unetlab.__all__
    ids = np.zeros((16, 16), np.int32)
    ids[2:8, 2:8], ids[9:15, 9:15] = 1, 2
    assert type(information_score(ids, ids)) is float  # np.float64(...) in report.images


def test_evaluation_and_predict_file_refuse_arrays_and_no_model(tmp_path):
    image = np.zeros((8, 8), np.uint8)
    with pytest.raises(UnetlabError, match="data_dir must be a folder's path, not ndarray"):
        evaluate_model(_net(), image)
    with pytest.raises(UnetlabError, match="pred_dir must be a folder's path, not ndarray"):
        evaluate_predictions(image, image)
    with pytest.raises(
        UnetlabError, match=r"^gt_dir must be .* \(a str or pathlib\.Path\), not None$"
    ):
        evaluate_predictions(tmp_path, None)  # no array: not told how arrays are scored (s52 fix1)
    with pytest.raises(UnetlabError, match="not NoneType"):
        evaluate_model(None, tmp_path)  # "'NoneType' object has no attribute 'classes'"
    with pytest.raises(UnetlabError, match="path must be an image file's path, not ndarray"):
        predict_file(_net(), image, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("given, kind", [({"not": "a model"}, "dict"), (3, "int")])
def test_evaluate_model_names_what_it_was_given_for_the_model(tmp_path, given, kind):
    """evaluate_model({...}, ds) raised "AttributeError: 'dict' object has no attribute
    'classes'" (s49 tidy): one line naming what was given and what it takes."""
    write_png(tmp_path / "images" / "a.png", np.zeros((16, 16), np.uint8))
    write_png(tmp_path / "masks" / "a.png", np.zeros((16, 16), np.uint8))
    with pytest.raises(UnetlabError) as caught:
        evaluate_model(given, tmp_path)
    assert str(caught.value) == (
        "model must be a model loaded by unetlab.load_model(path), or a checkpoint's path, "
        f"not {kind}"
    )


def test_compare_runs_takes_one_folder_as_itself(tmp_path):
    with pytest.raises(UnetlabError, match=f"^{tmp_path}/none: no such folder"):
        compare_runs(str(tmp_path / "none"))  # "/: no such folder": its first character


def test_losses_and_label_encoding_refuse_as_unetlab_errors():
    with pytest.raises(UnetlabError, match="loss must be one of"):
        build_loss("dicee")
    with pytest.raises(
        UnetlabError, match=r"class indices 0\.\.3 do not fit the 2 label values \[0, 255\]:"
    ):
        encode_labels(np.array([[0, 3]], np.uint8), [0, 255])  # numpy's IndexError
    with pytest.raises(UnetlabError, match="class indices -1..0"):
        encode_labels(np.array([[0, -1]]), [0, 255])  # it gave 255 (read from the end)


def test_save_model_names_its_argument_order_and_refuses_no_net(tmp_path):
    with pytest.raises(UnetlabError, match=r"takes the path first: save_model\('model.pt'"):
        save_model(_net(), tmp_path / "m.pt")  # as export_onnx(model, path) is called
    with pytest.raises(UnetlabError, match="must be a unetlab UNet .*not NoneType"):
        save_model(tmp_path / "m.pt", None)
    assert not (tmp_path / "m.pt").exists()


def test_predict_folder_refuses_a_dict_of_outputs(tmp_path):
    with pytest.raises(UnetlabError, match="outputs must be an OutputOptions or None, not dict"):
        predict_folder(_net(), tmp_path, tmp_path / "out", {"draw_overlay": True})


@pytest.mark.parametrize("size", ["big", 5.5, (1, 2, 3)])
def test_summarize_refuses_a_size_that_is_no_whole_number(size):
    with pytest.raises(UnetlabError, match="input_size must be a whole number of pixels"):
        summarize(UNet.from_preset("paper"), size)  # "big": "'>=' not supported ..."
    assert summarize(UNet.from_preset("paper"), np.int64(572)).output_size == (388, 388)


def test_run_demo_refuses_minutes_that_are_no_number(tmp_path):
    with pytest.raises(UnetlabError, match="seed and minutes are numbers, not 0 and 'two'"):
        run_demo(tmp_path / "demo", minutes="two")  # "'<=' not supported ..." before
    assert not (tmp_path / "demo").exists()


def test_run_demos_checks_take_numpy_numbers(tmp_path):
    """A seed from np.arange (np.int64) or minutes of np.float32 are numbers: taken, as they
    were before the check (isinstance int | float refused them)."""
    from unetlab.demo import _demo_folder

    with _demo_folder(tmp_path / "demo", seed=np.int64(3), minutes=np.float32(1), overwrite=False):
        pass
    with pytest.raises(UnetlabError, match="are numbers, not True"):
        run_demo(tmp_path / "other", seed=True)


def test_the_demos_figures_of_a_numpy_seed_are_json():
    """metrics.json records the seed: a numpy one (np.int64) made json.dumps fail at the
    demo's end, after its training."""
    import json

    from unetlab.demo import _run_figures

    trained = {"epochs": 1, "steps": 2, "seconds": 3.0}
    figures = _run_figures(trained, {"n_test": 2}, 0.0, quick=True, seed=np.int64(3))
    assert json.loads(json.dumps(figures))["seed"] == 3


def test_a_folder_prediction_is_one_line_in_a_notebook():
    """Audit s48 apiwalk: a cell ending in predict_folder(...) showed the dataclass, every
    input and output path of the folder; now the command's summary line and where to look."""
    from unetlab.inference.folders import FolderPrediction

    written = {Path(f"in/{i:03d}.png"): [Path(f"out/{i:03d}.png")] for i in range(300)}
    done = FolderPrediction(
        written, [Path("in/x.png")], {Path("in/y.tif"): "bad"}, pixels=4_000_000, seconds=2.0
    )
    text = repr(done)
    assert text.splitlines() == [text] and len(text) < 200
    assert text.startswith("FolderPrediction(300 written, 1 skipped, 1 failed in 2.0 s, 2.00 MP/s")
    assert ".written" in text and ".failed" in text
