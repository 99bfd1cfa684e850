"""Prediction says when an image lies far from the training images the checkpoint describes
(note32 "Stain": a second stain batch or another microscope gave silently bad masks; audit
s32 histo 3: a second H&E batch, mIoU 0.16, without a word)."""

import logging

import numpy as np
import pytest
import torch

from unetlab import UNet
from unetlab.checkpoint import load_checkpoint, model_from_checkpoint, save_model
from unetlab.data.appearance import (
    FAR,
    appearance_shift,
    appearance_z,
    image_appearance,
    training_appearance,
)
from unetlab.data.io import write_png
from unetlab.inference.folders import predict_folder
from unetlab.inference.predict import floor_run, predict_image, stack_stats

TISSUE = {"mode": "per_image", "tissue": True}


def _he(seed: int, *, glass: float = 0.3, stain=(1.0, 1.0, 1.0)) -> np.ndarray:
    """A synthetic H&E-like 8-bit RGB tile: pink stroma, purple nuclei, a share of glass;
    ``stain`` scales each channel's absorbance (another stain batch)."""
    rng = np.random.default_rng(seed)
    od = np.where(rng.random((48, 48, 1)) < 0.3, [0.6, 0.9, 0.3], [0.15, 0.55, 0.2])
    od = od * rng.uniform(0.8, 1.2, (48, 48, 1)) * np.asarray(stain)
    rgb = 245 * np.exp(-od)
    rgb[: int(48 * glass)] = 243  # glass, left out of the tissue statistics
    return np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)


def _record(images, spec=TISSUE) -> dict:
    return training_appearance(
        [image_appearance(a, spec) for a in images], [a.dtype.name for a in images]
    )


def _model(record, spec=TISSUE, channels=3) -> UNet:
    torch.manual_seed(0)
    model = UNet(channels, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = dict(spec)
    model.appearance = record
    return model


def _lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_record_pools_the_spread_within_and_between_the_training_images():
    stats = [(np.array([10.0]), np.array([3.0])), (np.array([20.0]), np.array([4.0]))]
    record = training_appearance(stats, ["uint8", "uint8"])
    assert record == {"dtype": "uint8", "images": 2, "mean": [15.0], "sd": [6.12372]}
    grey = training_appearance(stats, ["uint8", "uint16"])  # in no one unit: dtypes alone
    assert grey == {"dtypes": ["uint16", "uint8"]}
    mixed = training_appearance(stats, ["uint8", "uint16"], "stains")  # no dtype unmakes them
    assert mixed == {"dtypes": ["uint16", "uint8"], "channels": "stains"}
    assert training_appearance([], []) is None


def test_the_statistics_of_a_tissue_model_leave_the_glass_out():
    tile = _he(0, glass=0.0)
    slide = _he(0, glass=0.7)  # mostly glass: its tissue looks like the tile's
    tile_mean, _ = image_appearance(tile, TISSUE)
    assert np.abs(image_appearance(slide, TISSUE)[0] - tile_mean).max() < 3
    all_pixels, _ = image_appearance(slide, {"mode": "per_image"})
    assert np.abs(all_pixels - tile_mean).max() > 30  # the glass counted: far off


def test_an_image_is_far_beyond_FAR_training_standard_deviations_or_of_another_dtype():
    record = {"dtype": "uint8", "images": 3, "mean": [100.0, 50.0], "sd": [10.0, 10.0]}
    assert appearance_shift(record, [110.0, 50 + 10 * FAR], np.uint8) is None
    shift = appearance_shift(record, [110.0, 75.0], np.uint8)
    assert shift.kind == "far" and shift.channel == 1 and shift.z == pytest.approx(2.5)
    assert shift.figures() == "channel 1 mean 75 is 2.5 sd from the training images' 50 (sd 10)"
    assert appearance_z(record, [110.0, 75.0]) == pytest.approx(2.5)
    assert appearance_shift(record, [100.0, 50.0], np.uint16).kind == "dtype"
    assert appearance_shift(None, [0.0, 0.0], np.uint8) is None  # an older checkpoint
    assert appearance_shift({}, [0.0, 0.0], np.uint8) is None
    assert appearance_shift(record, [0.0], np.uint8) is None  # other channel counts
    grey = {"dtype": "uint8", "images": 3, "mean": [100.0], "sd": [10.0]}
    assert appearance_shift(grey, [140.0], np.uint8).figures().startswith("mean 140 is 4.0 sd")


def test_a_channel_constant_in_training_is_said_so_not_in_sd():
    """A band constant in every training image (a zeroed Sentinel-2 band) has sd 1e-6: 16 hot
    pixels were 'channel 9 mean 0.146 is 146063.1 sd from the training images' 0 (sd
    1e-06)' (audit s37 bands)."""
    record = {"dtype": "uint16", "images": 6, "mean": [1500.0, 0.0], "sd": [300.0, 1e-06]}
    shift = appearance_shift(record, [1500.0, 0.146], np.uint16)
    assert shift.kind == "far" and shift.channel == 1
    assert shift.figures() == (
        "channel 1 mean 0.146, where it held 0 in every pixel of every training image"
    )


def test_the_cause_is_said_in_the_words_of_the_data():
    """A 13-band scene was asked whether it came from 'another stain batch, microscope or
    exposure?' (s37 bands E); a 2-channel fluorescence image still is."""
    bands = {"dtype": "uint16", "images": 6, "mean": [1000.0] * 13, "sd": [100.0] * 13}
    line = appearance_shift(bands, [1000.0] * 12 + [2000.0], np.uint16).line()
    assert "another sensor, date, atmosphere or processing level" in line
    assert "stain" not in line and "microscope" not in line
    stains = {"dtype": "uint16", "images": 6, "mean": [1000.0] * 2, "sd": [100.0] * 2}
    line = appearance_shift(stains, [1000.0, 2000.0], np.uint16).line()
    assert "another stain batch, microscope or exposure?" in line


def test_prediction_warns_of_a_shifted_stain_only(caplog):
    caplog.set_level(logging.WARNING)
    model = _model(_record([_he(s) for s in range(6)]))
    with floor_run():
        for seed in (0, 7, 8):  # a training tile, two held-out tiles of its stain
            predict_image(model, _he(seed), name=f"same{seed}.png")
    assert _lines(caplog) == []
    with floor_run():
        predict_image(model, _he(9, stain=(1.0, 1.6, 0.5)), name="other.png")
    (line,) = _lines(caplog)
    assert line.startswith("other.png: its intensities lie far from the training images' (")
    assert "sd from the training images'" in line and "the predictions may be wrong" in line


def test_an_older_checkpoint_without_the_record_predicts_without_a_word(caplog, tmp_path):
    caplog.set_level(logging.WARNING)
    model = _model(None)
    del model.appearance  # a model built in Python, never trained by unetlab
    predict_image(model, _he(9, stain=(1.0, 1.6, 0.5)))
    path = save_model(tmp_path / "old.pt", _model(None))
    checkpoint = load_checkpoint(path)
    del checkpoint["appearance"]  # written before the part existed
    old = model_from_checkpoint(checkpoint)
    assert old.appearance is None
    predict_image(old, _he(9, stain=(1.0, 1.6, 0.5)))
    assert _lines(caplog) == []


def test_the_record_travels_in_the_checkpoint_and_needs_no_format_feature(tmp_path):
    record = _record([_he(s) for s in range(3)])
    path = save_model(tmp_path / "m.pt", _model(record, {"mode": "per_image"}))
    checkpoint = load_checkpoint(path)
    assert checkpoint["appearance"] == record
    assert checkpoint["format_version"] == 1  # a format-1 reader (older unetlab) reads it
    assert "features" not in checkpoint
    assert model_from_checkpoint(checkpoint).appearance == record


def test_a_run_says_the_first_far_image_in_full_and_counts_them_at_its_end(caplog, tmp_path):
    caplog.set_level(logging.WARNING)
    model = _model(_record([_he(s) for s in range(6)]), {"mode": "per_image"})
    shifted = [_he(9, stain=(1.0, 1.6, 0.5)), _he(9, stain=(1.0, 2.0, 0.4))]
    for k, image in enumerate([shifted[0], _he(0), shifted[1]]):
        write_png(tmp_path / "in" / f"{k}.png", image)
    assert len(predict_folder(model, tmp_path / "in", tmp_path / "out").written) == 3
    first, summary = _lines(caplog)
    assert first.startswith(f"{tmp_path / 'in' / '0.png'}: its intensities lie far")
    assert summary.startswith("2 of 3 images lie far from the training images' intensities")
    assert "the first (" in summary and f"the farthest: {tmp_path / 'in' / '2.png'}, " in summary
    caplog.clear()
    stack_stats(model, [shifted[0], shifted[0], _he(0), shifted[0]], name="stack.tif")
    first, summary = _lines(caplog)
    assert first.startswith("stack.tif page 0: its intensities lie far")
    assert summary.startswith("3 of 4 images lie far") and "(stack.tif page 0)" in summary


def test_calls_outside_a_run_say_each_far_image_pointing_to_the_first(caplog, monkeypatch):
    from unetlab.inference import appearance

    monkeypatch.setattr(appearance, "_OUTSIDE", appearance.FarCount())
    caplog.set_level(logging.WARNING)
    model = _model(_record([_he(s) for s in range(6)]))
    for name in ("a.png", "b.png"):  # a notebook's loop
        predict_image(model, _he(9, stain=(1.0, 1.6, 0.5)), name=name)
    first, second = _lines(caplog)
    assert first.startswith("a.png: its intensities lie far") and "check them" in first
    assert second.startswith("b.png: channel ") and second.endswith("as said in full for a.png")


def test_unnamed_far_images_outside_a_run_point_to_the_first_by_count(caplog, monkeypatch):
    """A loop of predict_image calls without name= (each "image") said "as said in full for
    image": each pointed to itself. As the "nearly empty" line does, the 1st is counted."""
    from unetlab.inference import appearance

    monkeypatch.setattr(appearance, "_OUTSIDE", appearance.FarCount())
    caplog.set_level(logging.WARNING)
    model = _model(_record([_he(s) for s in range(6)]))
    for _ in range(3):
        predict_image(model, _he(9, stain=(1.0, 1.6, 0.5)))
    first, *short = _lines(caplog)
    assert first.startswith("image: its intensities lie far")
    assert not any("as said in full for image" in line for line in short)
    for line, nth in zip(short, ("2nd", "3rd"), strict=True):
        assert line.startswith("image: channel ")
        assert line.endswith(
            f"far from the training images, as said in full for the 1st such image (this is the {nth})"
        )


def test_unnamed_far_images_after_named_ones_say_which_they_are(caplog, monkeypatch):
    """A loop without name= after a named loop said "image: ... as said in full for frame
    0", every one alike (s67 notebook): each says its count too. And predict_objects' full
    line speaks of predictions, not the masks it does not make (objects)."""
    from unetlab import predict_objects
    from unetlab.inference import appearance

    monkeypatch.setattr(appearance, "_OUTSIDE", appearance.FarCount())
    caplog.set_level(logging.WARNING)
    model = _model(_record([_he(s) for s in range(6)]))
    far = _he(9, stain=(1.0, 1.6, 0.5))
    for t in range(2):
        predict_objects(model, far, name=f"frame {t}")
    for _ in range(2):
        predict_objects(model, far)
    first, *short = [line for line in _lines(caplog) if "far from the training" in line]
    assert first.startswith("frame 0: its intensities lie far") and "masks" not in first
    assert "the predictions may be wrong" in first
    assert short[0].endswith("as said in full for frame 0")
    for line, nth in zip(short[1:], ("3rd", "4th"), strict=True):
        assert line.startswith("image: channel ")
        assert line.endswith(f"as said in full for frame 0 (this is the {nth} such image)")


def test_an_image_of_another_dtype_is_said_once_a_run(caplog):
    caplog.set_level(logging.WARNING)
    fixed = {"mode": "fixed", "mean": [128.0], "std": [40.0]}  # no floor to say it
    model = _model(_record([_he(s)[..., 0] for s in range(3)], fixed), fixed, channels=1)
    sixteen = _he(0)[..., 0].astype(np.uint16) * 257
    with floor_run():
        predict_image(model, sixteen, name="a.tif")
        predict_image(model, sixteen, name="b.tif")
    (line,) = _lines(caplog)
    assert line.startswith("a.tif: uint16 pixels, the model trained on uint8 images")
    assert "train with uint16 images" in line and "convert these to uint8" in line


def test_a_floored_model_says_another_dtype_in_its_floor_line_alone(caplog):
    caplog.set_level(logging.WARNING)
    spec = {"mode": "per_image", "floor": [5.0], "dtype": "uint8"}
    model = _model(_record([_he(s)[..., 0] for s in range(3)], spec), spec, channels=1)
    with floor_run():
        predict_image(model, _he(0)[..., 0].astype(np.uint16) * 257, name="a.tif")
    (line,) = _lines(caplog)
    assert "normalisation floor" in line and "uint16 pixels, the model" not in line


def test_training_records_the_images_and_their_own_prediction_is_quiet(tmp_path, caplog):
    from unetlab.config import load_config
    from unetlab.train import fit

    for k in range(6):
        image = _he(k)
        write_png(tmp_path / "data" / "images" / f"{k}.png", image)
        write_png(tmp_path / "data" / "masks" / f"{k}.png", (image[..., 1] < 150).astype(np.uint8))
    cfg = load_config(
        None,
        [
            f"data.root={tmp_path / 'data'}",
            "data.normalization={mode: per_image, tissue: true}",
            "data.tile_size=32",
            "model.depth=2",
            "model.base_channels=2",
            "train.epochs=1",
        ],
    )
    fit(cfg, run_dir=tmp_path / "run", progress=False)
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoints" / "best.pt")
    record = checkpoint["appearance"]
    assert record["dtype"] == "uint8" and record["images"] == 5  # the training split's
    assert len(record["mean"]) == len(record["sd"]) == 3
    model = model_from_checkpoint(checkpoint)
    caplog.set_level(logging.WARNING)
    caplog.clear()
    with floor_run():
        for k in range(6):
            predict_image(model, _he(k), name=f"{k}.png")
    assert _lines(caplog) == []
    predict_image(model, _he(9, stain=(1.0, 1.6, 0.5)), name="other.png")
    assert len(_lines(caplog)) == 1


def test_a_streamed_page_is_checked_from_its_per_image_statistics(caplog):
    from unetlab.inference.appearance import say_streamed_appearance

    caplog.set_level(logging.WARNING)
    record = _record([_he(s) for s in range(6)])
    shifted = _he(9, stain=(1.0, 1.6, 0.5))
    mean, _ = image_appearance(shifted, TISSUE)
    with floor_run():
        assert say_streamed_appearance(_model(record), shifted, mean, name="s.tif").kind == "far"
    assert len(_lines(caplog)) == 1
    fixed = {"mode": "fixed", "mean": [200.0] * 3, "std": [20.0] * 3}  # its mean: no raw one
    assert say_streamed_appearance(_model(record, fixed), shifted, mean, name="s.tif") is None
