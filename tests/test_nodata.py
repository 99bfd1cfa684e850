"""Nodata (GeoTIFF tag 42113) and transparent (alpha 0) pixels are left out as the rows of
data.exclude_rows are: of the statistics, the loss, what is predicted and the objects
(audit s31 drone 3-6, photos 3)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from unetlab.data.datasets import load_instance_samples, load_samples
from unetlab.data.io import read_image, write_png
from unetlab.data.labels import IGNORE_INDEX
from unetlab.data.nodata import (
    blank_pixels,
    check_nodata,
    file_nodata,
    filled,
    flag_touching,
    invalid_pages,
    nodata_pixels,
    tag_value,
    touched_ids,
    valid_pixels,
)
from unetlab.data.normalize import image_stats
from unetlab.data.pairs import find_pairs
from unetlab.data.read_notes import read_notes
from unetlab.errors import UnetlabError
from unetlab.inference.predict import (
    PredictOptions,
    predict_fitted,
    predict_image,
    trained_nodata,
)
from unetlab.models import UNet

B = 12  # the nodata border of a 64 x 64 tile, px


def _ortho(seed: int = 0, border: int = B) -> np.ndarray:
    """A textured RGB uint8 tile with a zero border on every side (nodata)."""
    rng = np.random.default_rng(seed)
    image = rng.integers(60, 200, (64, 64, 3)).astype(np.uint8)
    image[:border] = image[-border:] = 0
    image[:, :border] = image[:, -border:] = 0
    return image


def _geotiff(path, image, nodata="0"):
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = [(42113, "s", 0, nodata, True)] if nodata is not None else []
    tifffile.imwrite(path, image, photometric="rgb", extratags=extra)
    return path


def _net(classes=2, channels=3):
    torch.manual_seed(0)
    model = UNet(channels, classes, depth=2, base_channels=4, padding="same").eval()
    model.classes = ["background", "cell"][:classes] if classes == 2 else None
    model.label_values = [0, 255] if classes == 2 else None
    model.normalization = {"mode": "per_image"}
    return model


@pytest.mark.parametrize(
    ("given", "kept"),
    [("auto", "auto"), ("AUTO ", "auto"), ("none", "none"), (None, "none"), (0, 0.0)],
)
def test_the_setting_takes_auto_none_or_a_number(given, kept):
    assert check_nodata(given) == kept
    assert check_nodata("-9999") == -9999.0


def test_a_bad_setting_is_one_line_naming_the_forms():
    with pytest.raises(UnetlabError, match="not auto, none or a number"):
        check_nodata("zero")
    with pytest.raises(UnetlabError):
        check_nodata(True)


def test_the_tag_value_and_the_pixels_equal_to_it_in_every_band():
    assert tag_value("0\x00") == 0 and tag_value(b"-9999") == -9999 and tag_value("x") is None
    image = np.ones((3, 4, 3), np.uint8)
    image[0] = 0
    image[1, 0, 0] = 0  # one band only: sample
    hit = nodata_pixels(image, 0.0)
    assert hit.sum() == 4 and hit[0].all() and not hit[1].any()
    assert nodata_pixels(image, 7.0) is None and nodata_pixels(image, None) is None
    assert nodata_pixels(image, -9999.0) is None  # not a uint8 value: none
    floats = np.ones((2, 2), np.float32)
    floats[0, 0] = np.nan
    assert nodata_pixels(floats, float("nan")).sum() == 1


def test_statistics_and_fill_leave_the_invalid_pixels_out():
    image = _ortho()
    bad = nodata_pixels(image, 0)
    inside = image[B:-B, B:-B]
    for spec in ({"mode": "per_image"}, {"mode": "percentile", "low": 1, "high": 99.8}):
        got = image_stats(valid_pixels(image, bad), spec)
        want = image_stats(inside, spec)
        np.testing.assert_allclose(got, want)
    out = filled(image, bad)
    np.testing.assert_array_equal(out[B:-B, B:-B], inside)
    np.testing.assert_array_equal(out[0, 0], np.rint(inside.reshape(-1, 3).mean(0)))
    assert filled(image, None) is image and valid_pixels(image, None) is image


def test_blank_pixels_and_objects_beside_them():
    probs = np.full((2, 3, 3), 0.5, np.float32)
    bad = np.zeros((3, 3), bool)
    bad[0] = True
    blank_pixels(probs, bad, background=0)
    assert (probs[0, 0] == 1).all() and (probs[1, 0] == 0).all() and (probs[:, 1:] == 0.5).all()
    ids = np.array([[0, 0, 0], [1, 0, 2], [0, 0, 2]])
    bad = np.zeros((3, 3), bool)
    bad[0, 0] = True
    assert touched_ids(ids, bad).tolist() == [1]
    table = {"id": np.array([1, 2]), "touches_border": np.array([False, True])}
    assert flag_touching(table, ids, bad)["touches_border"].tolist() == [True, True]
    assert flag_touching(table, ids, None) is table


def test_the_file_header_names_the_tag_and_the_alpha(tmp_path):
    tagged = _geotiff(tmp_path / "a.tif", _ortho())
    assert file_nodata(tagged).value == 0 and file_nodata(tagged).alpha_channel is None
    assert file_nodata(_geotiff(tmp_path / "b.tif", _ortho(), None)).value is None
    rgba = np.dstack([_ortho(), np.full((64, 64), 255, np.uint8)])
    tifffile.imwrite(tmp_path / "c.tif", rgba, photometric="rgb", extrasamples=[2])
    assert file_nodata(tmp_path / "c.tif").alpha_channel == 3
    Image.fromarray(rgba, "RGBA").save(tmp_path / "d.png")
    assert file_nodata(tmp_path / "d.png").pil_alpha


def test_invalid_pages_of_a_tagged_tiff_and_a_cut_out(tmp_path, caplog):
    image = _ortho()
    tagged = _geotiff(tmp_path / "a.tif", image)
    untagged = _geotiff(tmp_path / "b.tif", image, None)
    rgba = np.dstack([image + 1, np.full((64, 64), 255, np.uint8)])
    rgba[:B, :, 3] = 0  # the top is transparent (its colour is not 0)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut.png")
    with caplog.at_level(logging.INFO, logger="unetlab.data.read_notes"), read_notes():
        (bad,) = invalid_pages(tagged, image[None])
        assert bad.sum() == 64 * 64 - 40 * 40
        assert invalid_pages(untagged, image[None]) == [None]  # no tag: every pixel sample
        (given,) = invalid_pages(untagged, image[None], 0)  # a number: that value
        assert given.sum() == bad.sum()
        assert invalid_pages(tagged, image[None], "none") == [None]
        (cut,) = invalid_pages(tmp_path / "cut.png", read_image(tmp_path / "cut.png")[None])
        assert cut.sum() == B * 64 and cut[:B].all()
        read_image(tmp_path / "cut.png")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1, lines  # the "fill them" line is not said for a file left out
    assert "3 images with nodata or transparent pixels" in lines[0]
    assert "a.tif 61% nodata" in lines[0] and "cut.png 19% transparent" in lines[0]


def test_predict_leaves_nodata_out_and_an_all_nodata_tile_is_background(caplog):
    model = _net()
    image = _ortho()
    bad = nodata_pixels(image, 0)
    probs = predict_image(model, image, invalid=bad)
    assert (probs[0][bad] == 1).all() and (probs[1][bad] == 0).all()
    # inside: as if the border held the inside's mean, with the inside's statistics
    stats = image_stats(image[B:-B, B:-B], model.normalization)
    by_hand = predict_fitted(model, filled(image, bad), stats=stats)
    np.testing.assert_allclose(probs[:, ~bad], by_hand[:, ~bad], atol=1e-6)
    plain = predict_image(model, image)
    assert not np.allclose(plain[:, ~bad], probs[:, ~bad], atol=1e-4)
    empty = np.zeros((64, 64, 3), np.uint8)
    with caplog.at_level(logging.WARNING):
        out = predict_image(model, empty, invalid=np.ones((64, 64), bool), name="corner.tif")
    assert (out[0] == 1).all() and (out[1] == 0).all()
    assert "corner.tif: every pixel is nodata or transparent: not predicted" in caplog.text


def test_the_all_nodata_line_says_what_predict_image_returns(caplog):
    """Review s47 2: for a road model (class 0 a class of its own) the line said "written
    as no class" where predict_image returns class 0 (road) everywhere: it names the class
    the probabilities are certain of, for a road model and for a background model."""
    for names in (["road", "car", "sky"], ["background", "car", "sky"]):
        model = _net(classes=3)
        model.classes = names
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            out = predict_image(model, np.zeros((32, 32, 3), np.uint8), invalid=np.ones((32, 32)))
        assert (out.argmax(0) == 0).all() and (out[0] == 1).all()
        assert f"probabilities certain of class 0 ({names[0]}) everywhere" in caplog.text
        assert "written as" not in caplog.text


def test_old_checkpoints_default_to_auto_and_the_setting_overrides():
    model = _net()
    assert trained_nodata(model) == "auto"
    model.training_data = {"nodata": "none"}
    assert PredictOptions.for_model(model).nodata == "none"
    assert PredictOptions.for_model(model, nodata=0).nodata == 0.0


def test_predict_file_writes_background_and_no_object_in_nodata(tmp_path):
    from unetlab.inference.files import predict_file
    from unetlab.inference.objects import ObjectOptions

    model = _net()
    image = _ortho()
    path = _geotiff(tmp_path / "in" / "a.tif", image)
    bad = nodata_pixels(image, 0)
    predict_file(model, path, tmp_path / "o", objects=ObjectOptions(), save_probabilities=True)
    probs = tifffile.imread(tmp_path / "o" / "a_prob.tif")
    assert (probs[0][bad] == 1).all()
    ids = tifffile.imread(tmp_path / "o" / "a_objects.tif")
    assert not ids[bad].any()
    import csv

    text = (tmp_path / "o" / "a_objects.csv").read_text().splitlines()
    near = touched_ids(ids, bad)
    flagged = {int(r["id"]): r["touches_border"] == "true" for r in csv.DictReader(text)}
    assert near.size and all(flagged[i] for i in near.tolist())


def test_training_ignores_nodata_and_normalises_by_the_rest(tmp_path):
    mask = np.zeros((64, 64), np.uint8)
    mask[20:30, 20:30] = 255
    root = tmp_path / "d"
    _geotiff(root / "images" / "a.tif", _ortho())
    write_png(root / "masks" / "a.png", mask)
    spec = {"mode": "per_image"}
    (sample,) = load_samples(find_pairs(root), label_values=[0, 255], normalization=spec)
    bad = nodata_pixels(_ortho(), 0)
    assert (sample.mask[bad] == IGNORE_INDEX).all() and (sample.mask[~bad] >= 0).all()
    _, std = image_stats(_ortho()[B:-B, B:-B], spec)
    np.testing.assert_allclose(sample.contrast, std)
    np.testing.assert_allclose(sample.image[:, 0, 0], 0, atol=0.02)  # the mean: about 0
    (kept,) = load_samples(
        find_pairs(root), label_values=[0, 255], normalization=spec, nodata="none"
    )
    assert (kept.mask >= 0).all()
    samples, _ = load_instance_samples(find_pairs(root), normalization=spec)
    assert (samples[0].mask[bad] == IGNORE_INDEX).all()


@pytest.mark.parametrize("target", ["classes", "instances"])
def test_training_takes_the_nodata_setting_of_the_config(tmp_path, target):
    """``--set data.nodata=none`` reaches the training data (semantic and instance masks)."""
    from unetlab.config import Config
    from unetlab.train.setup import prepare_data

    mask = np.zeros((64, 64), np.uint8)
    mask[20:30, 20:30] = 255 if target == "classes" else 1
    for name in ("a", "b"):
        _geotiff(tmp_path / "images" / f"{name}.tif", _ortho())
        write_png(tmp_path / "masks" / f"{name}.png", mask)
    bad = nodata_pixels(_ortho(), 0)
    for nodata, ignored in (("auto", True), ("none", False)):
        cfg = Config()
        cfg.data.root, cfg.data.target, cfg.data.nodata = str(tmp_path), target, nodata
        cfg.data.val_fraction = 0.5
        data = prepare_data(cfg)
        masks = [s.mask for s in data.train + data.val]
        assert all((m[bad] == IGNORE_INDEX).all() == ignored for m in masks), nodata


def test_an_all_nodata_file_is_background_with_one_line(tmp_path, caplog):
    """Audit s31 drone 3: an empty corner tile was 99.8% a class, with a contrast line."""
    from unetlab.inference.files import predict_file

    path = _geotiff(tmp_path / "in" / "corner.tif", np.zeros((64, 64, 3), np.uint8))
    model = _net()
    model.normalization = {"mode": "per_image", "floor": [10.0, 10.0, 10.0], "dtype": "uint8"}
    with caplog.at_level(logging.WARNING):
        predict_file(model, path, tmp_path / "o", save_probabilities=True)
    probs = tifffile.imread(tmp_path / "o" / "corner_prob.tif")
    assert (probs[0] == 1).all() and (probs[1] == 0).all()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "every pixel is nodata or transparent" in lines[0], lines


def test_an_id_drawn_over_the_nodata_is_no_object(tmp_path):
    """As a data bar stored as one id: the nodata region labelled in an instance mask is no
    object, and object sizes leave it out."""
    ids = np.zeros((64, 64), np.uint16)
    ids[20:30, 20:30] = 1
    ids[nodata_pixels(_ortho(), 0)] = 65535
    root = tmp_path / "d"
    _geotiff(root / "images" / "a.tif", _ortho())
    (root / "masks").mkdir()
    tifffile.imwrite(root / "masks" / "a.tif", ids)
    spec = {"mode": "per_image"}
    _, stats = load_instance_samples(find_pairs(root), normalization=spec)
    assert stats["count"] == 1 and stats["area_median"] == 100
    samples, kept = load_instance_samples(find_pairs(root), normalization=spec, nodata="none")
    assert (samples[0].mask[nodata_pixels(_ortho(), 0)] > 0).all()  # an object there now
    assert kept["count"] == 1  # but it reaches the image edge: a cut region sizes nothing


def test_valid_rows_give_a_streamed_image_the_whole_images_statistics():
    """For the window-by-window path: statistics by rows over the valid pixels only, and the
    valid mean to fill a window's nodata with."""
    from unetlab.data.nodata import ValidRows

    image = _ortho()
    bad = nodata_pixels(image, 0)
    for spec in ({"mode": "per_image"}, {"mode": "percentile", "low": 1, "high": 99.8}):
        rows = ValidRows(image, 0)
        got = image_stats(rows, spec, chunk_rows=7)
        np.testing.assert_allclose(got, image_stats(valid_pixels(image, bad), spec))
    np.testing.assert_allclose(rows.mean(), image[~bad].mean(axis=0))
    window = image[:20]
    out = filled(window, nodata_pixels(window, 0), rows.mean())
    np.testing.assert_array_equal(out[0, 0], np.rint(image[~bad].mean(axis=0)))
    grey = ValidRows(image[..., 0], 0)
    np.testing.assert_allclose(
        image_stats(grey, spec), image_stats(image[..., 0][~bad][:, None], spec)
    )
