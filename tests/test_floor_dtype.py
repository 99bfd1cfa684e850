"""The normalisation floor is in the training images' units (audit s29 author, finding 1): a
16-bit-trained model's floor is not applied to 8-bit images, and an image far dimmer than the
floor is said to be read as nearly empty."""

import logging

import numpy as np
import pytest
import torch

from unetlab.data.io import write_png, write_tiff
from unetlab.data.normalize import (
    contrast_note,
    floor_for,
    image_stats,
    normalization_formula,
    with_floor_dtype,
)
from unetlab.inference.predict import floor_run, model_stats, stack_stats

SPEC16 = {"mode": "percentile", "low": 1.0, "high": 99.8, "floor": [12997.0], "dtype": "uint16"}
OLD16 = {"mode": "percentile", "low": 1.0, "high": 99.8, "floor": [12997.0]}  # no dtype


def _scene(scale=1, dtype=np.uint8):
    rng = np.random.default_rng(0)
    return (rng.integers(0, 130, (40, 40)) * scale).astype(dtype)


def test_an_8bit_image_is_not_floored_by_a_16bit_models_floor():
    image = _scene()
    own = image_stats(image, {"mode": "percentile"})[1]
    for spec in (SPEC16, OLD16):  # recorded dtype, and an old checkpoint's floor > 255
        assert floor_for(spec, np.uint8) is None
        assert np.array_equal(image_stats(image, spec)[1], own)
        kind, line = contrast_note(spec, np.uint8, own)
        assert kind == "dtype" and "not applied to uint8 images" in line
    assert "the uint16 values it trained on" in contrast_note(SPEC16, np.uint8, own)[1]
    assert "above the whole range of uint8 values" in contrast_note(OLD16, np.uint8, own)[1]


def test_the_floor_still_applies_to_images_of_the_training_dtype():
    image = _scene(200, np.uint16)  # the training images' kind: contrast far above the floor
    assert image_stats(image, SPEC16)[1] == pytest.approx(image_stats(image, OLD16)[1])
    assert contrast_note(SPEC16, np.uint16, image_stats(image, {"mode": "percentile"})[1]) is None
    empty = np.full((40, 40), 100, np.uint16)  # an empty field: floored, and said to be empty
    assert image_stats(empty, SPEC16)[1].tolist() == [12997.0]
    kind, line = contrast_note(SPEC16, np.uint16, np.array([130.0]))
    assert kind == "dim" and "contrast 130 is 100x below the model's floor 12997" in line
    assert "(trained on uint16)" in line and "read as nearly empty" in line
    # half the floor's contrast (a 4x dimmer acquisition) already breaks the net: said
    assert "contrast 6498 is 2.0x below" in contrast_note(SPEC16, np.uint16, np.array([6498.0]))[1]
    assert contrast_note(SPEC16, np.uint16, np.array([13000.0])) is None


def test_the_training_dtype_is_recorded_beside_the_floor_only():
    assert with_floor_dtype(OLD16, ["uint16"]) == SPEC16
    assert with_floor_dtype(OLD16, [np.dtype("uint16"), "uint16"]) == SPEC16
    assert with_floor_dtype(OLD16, ["uint8", "uint16"]) == OLD16  # mixed: not one unit
    assert with_floor_dtype({"mode": "per_image"}, ["uint8"]) == {"mode": "per_image"}
    assert "for uint16 images" in normalization_formula(SPEC16)
    with pytest.raises(ValueError, match="normalization.dtype must name a numpy dtype"):
        image_stats(_scene(), {**SPEC16, "dtype": "bits"})


class _Model(torch.nn.Module):
    normalization = SPEC16


def test_prediction_says_the_floor_once_per_dtype_and_dim_images_each(caplog):
    caplog.set_level(logging.WARNING)
    with floor_run():
        for _ in range(3):
            model_stats(_Model(), _scene()[..., None], name="a.png")
    note = contrast_note(SPEC16, np.uint8, np.array([1.0]))[1]
    assert [r.getMessage() for r in caplog.records] == [f"a.png (the first uint8 image): {note}"]
    caplog.clear()
    dim = _scene(1, np.uint16)[..., None]  # an 8-bit scene saved as uint16: 100x dimmer
    mean, std = model_stats(_Model(), dim, name="dim.tif")
    assert std.tolist() == [12997.0]
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("dim.tif: contrast 1") and "read as nearly empty" in line
    caplog.clear()
    stack_stats(_Model(), [dim, dim, dim], name="z.tif")  # a stack: one line for its pages
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("z.tif page 0: contrast")
    assert line.endswith("empty (and 2 more pages), as said in full for dim.tif"), line


def test_the_floor_is_said_once_a_run_not_once_a_process(caplog, tmp_path, monkeypatch):
    """A long-lived process (napari, a notebook) says it again in its next run (review s29,
    item 4: a module-level set said it once for good); a file, a folder and a stack are
    each one run; calls of their own, outside any run, say it once a process (audit s32
    notebook 8: a notebook's loop over 40 frames said it 40 times)."""
    from unetlab.inference import predict

    monkeypatch.setattr(predict, "_SAID_OUTSIDE", set())
    from unetlab import UNet
    from unetlab.inference.files import predict_file
    from unetlab.inference.folders import predict_folder

    note = contrast_note(SPEC16, np.uint8, np.array([1.0]))[1]
    caplog.set_level(logging.WARNING)
    image = _scene()[..., None]
    # a file's line names the run's first image of the dtype before the note
    said = lambda: sum(r.getMessage().endswith(note) for r in caplog.records)  # noqa: E731
    for _ in range(2):  # two runs, each a stack of three pages
        stack_stats(_Model(), [image, image, image])
    model_stats(_Model(), image)  # calls of their own: once a process
    model_stats(_Model(), image)
    assert said() == 3
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = SPEC16
    for name in ("a.png", "b.png"):
        write_png(tmp_path / "in" / name, _scene())
    caplog.clear()
    predict_file(model, tmp_path / "in" / "a.png", tmp_path / "one")
    predict_file(model, tmp_path / "in" / "a.png", tmp_path / "two")
    assert said() == 2
    caplog.clear()
    assert len(predict_folder(model, tmp_path / "in", tmp_path / "all").written) == 2
    assert said() == 1


def test_an_empty_stack_has_no_stats():
    assert stack_stats(_Model(), []) == []


def test_the_floor_is_recorded_in_the_dtype_the_training_images_were_read_as(tmp_path):
    """The dtype comes from the samples as read (a 16-bit PNG: uint16), beside the floor
    derived from the same samples."""
    from unetlab.config import load_config
    from unetlab.train.setup import prepare_data

    for i in range(2):
        write_png(tmp_path / "images" / f"{i}.png", _scene(200, np.uint16))
        write_png(tmp_path / "masks" / f"{i}.png", np.tile([0, 1], (40, 20)).astype(np.uint8))
    cfg = load_config(None, [f"data.root={tmp_path}", "data.val_fraction=0.5"])
    data = prepare_data(cfg)
    assert {s.dtype for s in data.train} == {"uint16"}
    assert data.normalization["dtype"] == "uint16" and "floor" in data.normalization


def test_a_trained_checkpoint_records_its_images_dtype_beside_the_floor(tmp_path):
    from unetlab.checkpoint import load_checkpoint
    from unetlab.cli import main

    rng = np.random.default_rng(0)
    for i in range(2):
        image = (rng.integers(0, 130, (32, 32)) * 200).astype(np.uint16)
        write_tiff(tmp_path / "data" / "images" / f"{i}.tif", image)
        write_png(
            tmp_path / "data" / "masks" / f"{i}.png", np.tile([0, 1], (32, 16)).astype(np.uint8)
        )
    tiny = ["--no-plan", "--epochs", "1", "--set", "model.depth=2", "--set", "data.tile_size=32"]
    args = ["train", "--data", str(tmp_path / "data"), "--run-dir", str(tmp_path / "run")]
    assert main([*args, *tiny]) == 0
    spec = load_checkpoint(tmp_path / "run" / "checkpoints" / "best.pt")["normalization"]
    assert spec["dtype"] == "uint16" and spec["floor"][0] > 255


def test_evaluate_says_the_floor_line_once_for_all_its_images(tmp_path, caplog):
    """evaluate predicted each image in its own run of floor_run, so a uint16 model's
    "floor not applied" line came once per uint8 image (audit s31 upgrade 7)."""
    from unetlab.evaluate import evaluate_model
    from unetlab.models import UNet

    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for i in range(3):
        write_png(tmp_path / "images" / f"{i}.png", _scene())
        write_png(tmp_path / "masks" / f"{i}.png", (_scene() > 60).astype(np.uint8))
    net = UNet(in_channels=1, num_classes=2, depth=2, base_channels=4, padding="same").eval()
    net.normalization = SPEC16
    caplog.set_level(logging.WARNING)
    evaluate_model(net, tmp_path)
    line = contrast_note(SPEC16, np.uint8, np.array([1.0]))[1]
    said = [r.getMessage() for r in caplog.records if r.getMessage().endswith(line)]
    assert said == [f"0.png (the first uint8 image): {line}"]
