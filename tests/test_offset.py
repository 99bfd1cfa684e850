"""Label offsets: the sub-pixel move, its estimate, the checkpoint, prediction and training."""

import json

import numpy as np
import pytest
import torch
from scipy import ndimage

from unetlab.checkpoint import load_checkpoint, load_model, save_model, update_checkpoint
from unetlab.config import load_config
from unetlab.data.io import read_image, write_png
from unetlab.errors import UnetlabError
from unetlab.inference.offset import (
    STEPS,
    estimate_offset,
    label_offset,
    search_order,
    shift_probabilities,
)
from unetlab.inference.predict import predict_image
from unetlab.models import UNet
from unetlab.train import fit, fit_label_offset

from .test_train import LEARNS_FAST, tiny_config, write_blobs


@pytest.mark.parametrize("offset", [(0.5, 0.0), (-0.5, -0.25), (1.0, -1.0), (0.25, 0.75)])
def test_shift_is_bilinear_with_edges_repeated(offset):
    p = np.random.default_rng(0).random((3, 17, 23)).astype(np.float32)
    expected = ndimage.shift(p, (0, *offset), order=1, mode="nearest")
    np.testing.assert_allclose(shift_probabilities(p, offset), expected, atol=1e-6)
    moved = shift_probabilities(torch.from_numpy(p), offset, crop=1)
    np.testing.assert_allclose(moved.numpy(), expected[:, 1:-1, 1:-1], atol=1e-6)


def test_shift_refuses_more_than_a_pixel():
    with pytest.raises(ValueError, match="within one pixel"):
        shift_probabilities(np.zeros((1, 4, 4), np.float32), (1.5, 0))


def _blobs(seed=0, size=96):
    field = ndimage.gaussian_filter(np.random.default_rng(seed).normal(size=(size, size)), 4)
    return (field > 0).astype(np.int64)


def _soft(mask, offset):
    """Two-class probabilities whose argmax traces ``mask`` moved by ``offset``."""
    cls1 = ndimage.shift(ndimage.gaussian_filter(mask.astype(float), 1), offset, order=1)
    return np.stack([1 - cls1, cls1]).astype(np.float32)


def test_estimate_finds_the_move_from_predictions_to_labels():
    masks = [_blobs(s) for s in range(3)]
    probs = [_soft(m, (-0.5, 0.25)) for m in masks]  # predictions half a pixel above the labels
    found = estimate_offset(probs, masks)
    assert found.offset == (0.5, -0.25)
    assert found.miou > found.unshifted_miou + 0.01
    assert "meet the labels best moved 0.50 px down, 0.25 px left" in found.describe()


def test_estimate_keeps_aligned_predictions_where_they_are():
    masks = [_blobs(s) for s in range(3)]
    found = estimate_offset([_soft(m, (0, 0)) for m in masks], masks)
    assert found.offset == (0.0, 0.0) and found.miou == found.unshifted_miou
    assert "none" in found.describe()


def test_the_line_names_the_tta_its_miou_was_measured_with(tmp_path):
    """Audit s50 road scenes: "label offset: none (... the validation mIoU 0.7152 ...)" beside
    best.pt's "val mIoU 0.7105": the fit predicted with left-right flips and did not say so."""
    from dataclasses import replace

    from unetlab.train.offset import OFFSET_FILE, measured_offset

    masks = [_blobs(s) for s in range(3)]
    found = estimate_offset([_soft(m, (0, 0)) for m in masks], masks)
    assert "TTA" not in found.describe()
    flipped = replace(found, tta=("identity", "hflip"))
    said = ", predicted with TTA (identity, hflip: predict --tta, tta=True), unlike the validations"
    assert said in flipped.describe()
    short = replace(flipped, searched=25, candidates=81).describe()  # said beside a cut search
    assert said + "; the time budget ran out after 25 of 81 moves" in short
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "best.pt").write_bytes(b"")
    record = {**found.__dict__, "tta": ["identity", "hflip"]}
    (tmp_path / OFFSET_FILE).write_text(json.dumps(record))
    assert said in measured_offset(tmp_path).describe()  # a resumed run's line too


def test_a_move_that_helps_a_few_images_only_is_not_an_offset_of_the_labels():
    """One image of three predicted a pixel off (a net's mistake, not the annotation's): the
    move mends it and raises the total, but not the other two images, so it is not kept."""
    masks = [_blobs(0, size=256), _blobs(1, size=40), _blobs(2, size=40)]  # one large image
    probs = [_soft(masks[0], (-1.0, 0.0))] + [_soft(m, (0, 0)) for m in masks[1:]]
    found = estimate_offset(probs, masks)  # the total would gain 0.10 with the move
    assert found.offset == (0.0, 0.0) and "on 67% of its 3 images" in found.describe()
    masks = [_blobs(s) for s in range(3)]
    everywhere = estimate_offset([_soft(m, (-1.0, 0.0)) for m in masks], masks)
    assert everywhere.offset == (1.0, 0.0) and everywhere.agreeing == 3
    assert "raised on 3 of 3 images" in everywhere.describe()


def test_the_search_goes_coarse_to_fine_and_stops_when_the_time_is_up():
    order = search_order()
    assert order[0] == (0.0, 0.0) and len(set(order)) == len(STEPS) ** 2 == 81
    assert all(float(2 * v).is_integer() for move in order[:25] for v in move)  # the half grid
    masks = [_blobs(s) for s in range(3)]
    probs = [_soft(m, (-0.5, 0.0)) for m in masks]
    calls = iter(range(100))
    cut = estimate_offset(probs, masks, out_of_time=lambda: next(calls) >= 24)
    assert (cut.searched, cut.candidates) == (25, 81) and cut.offset == (0.5, 0.0)
    assert "the time budget ran out after 25 of 81 moves" in cut.describe()
    at_once = estimate_offset(probs, masks, out_of_time=lambda: True)
    assert at_once.searched == 1 and at_once.offset == (0.0, 0.0)  # no move tried, none kept
    assert not at_once.measured and at_once.describe() == (
        "label offset: not measured (the time budget ran out after 1 of 81 moves, before "
        "the 9 whole-pixel ones)"
    )
    calls = iter(range(100))
    short = estimate_offset(probs, masks, out_of_time=lambda: next(calls) >= 7)
    assert (short.searched, short.measured, short.offset) == (8, False, (0.0, 0.0))
    calls = iter(range(100))
    whole = estimate_offset(probs, masks, out_of_time=lambda: next(calls) >= 8)
    assert (whole.searched, whole.measured, whole.offset) == (9, True, (1.0, 0.0))  # kept
    full = estimate_offset(probs, masks)
    assert full.searched == 81 and "ran out" not in full.describe()


def test_estimate_ignores_unlabelled_pixels():
    mask = _blobs(1)
    probs = _soft(mask, (0.75, 0.0))
    ignored = mask.copy()
    ignored[:48] = -100
    assert estimate_offset([probs], [ignored]).offset == (-0.75, 0.0)


def test_checkpoint_carries_the_offset(tmp_path):
    model = UNet(in_channels=1, num_classes=2, depth=2, base_channels=4)
    assert label_offset(model) == (0.0, 0.0)
    model.label_offset = (-0.5, 0.25)
    path = save_model(tmp_path / "m.pt", model)
    assert load_model(path).label_offset == (-0.5, 0.25)
    update_checkpoint(path, label_offset=[0.0, 1.0])
    assert load_model(path).label_offset == (0.0, 1.0)
    old = load_checkpoint(path)
    del old["label_offset"]  # a file from before offsets
    torch.save(old, tmp_path / "old.pt")
    assert load_model(tmp_path / "old.pt").label_offset == (0.0, 0.0)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_prediction_is_moved_after_tta_and_valid_tiles_stay_exact(padding):
    torch.manual_seed(0)
    model = UNet(in_channels=1, num_classes=2, depth=2, base_channels=4, padding=padding).eval()
    image = np.random.default_rng(1).integers(0, 255, (70, 90), dtype=np.uint8)
    plain = predict_image(model, image, tta=True)
    model.label_offset = (-0.5, 0.25)
    moved = predict_image(model, image, tta=True)
    expected = shift_probabilities(plain, (-0.5, 0.25))
    # inside, exactly the moved prediction; at the image's edge a valid net sees the mirrored
    # image where the plain move repeats the edge
    np.testing.assert_allclose(moved[:, 1:-1, 1:-1], expected[:, 1:-1, 1:-1], atol=1e-5)
    if padding == "valid":  # exact overlap-tile: small tiles give what one whole tile gives
        tiled = predict_image(model, image, tta=True, tile_size=model.valid_input_sizes(40, 1)[0])
        np.testing.assert_allclose(tiled, moved, atol=1e-5)


def test_config_names_a_bad_offset():
    assert load_config(None, ["train.label_offset=[-0.5, 0]"]).train.label_offset == [-0.5, 0.0]
    with pytest.raises(UnetlabError, match="train.label_offset .* out of range"):
        load_config(None, ["train.label_offset=[2, 0]"])
    with pytest.raises(UnetlabError, match="train.label_offset 'maybe' is unknown"):
        load_config(None, ["train.label_offset=maybe"])


def test_training_fits_the_offset_of_labels_drawn_one_pixel_low(tmp_path, caplog):
    data = write_blobs(tmp_path / "data", 8, size=64)
    for mask in (data / "masks").iterdir():  # every label one pixel below its blob
        write_png(mask, np.roll(read_image(mask), 1, axis=0))
    cfg = tiny_config(data, *LEARNS_FAST, "train.label_offset=fit", "data.val_fraction=0.375")
    result = fit(cfg, run_dir=tmp_path / "run", progress=False)
    record = json.loads((tmp_path / "run" / "label_offset.json").read_text())
    assert result["label_offset"] == record["offset"] == [1.0, 0.0]
    assert record["miou"] > record["unshifted_miou"] and len(record["tta"]) == 8
    for name in ("best.pt", "last.pt"):
        assert load_model(tmp_path / "run" / "checkpoints" / name).label_offset == (1.0, 0.0)
    log = (tmp_path / "run/train.log").read_text()
    assert "label offset: the predictions meet the labels best moved 1.00 px down (" in log
    assert "predicted with TTA (identity, rot90, rot180, rot270, hflip, vflip, " in log
    # measured again, the budget's end after the predictions: nothing measured, nothing stored
    (tmp_path / "run" / "label_offset.json").unlink()
    calls = iter(range(100))
    with caplog.at_level("INFO", logger="unetlab"):
        cut = fit_label_offset(
            cfg, tmp_path / "run", out_of_time=lambda: next(calls) >= record["images"]
        )
    assert cut is None and not (tmp_path / "run" / "label_offset.json").exists()
    assert "label offset: not measured (the time budget ran out after 1 of 81 moves" in caplog.text
    assert load_model(tmp_path / "run" / "checkpoints" / "best.pt").label_offset == (1.0, 0.0)


def test_evaluate_and_predict_say_that_predictions_are_moved(tmp_path, capsys, caplog):
    from unetlab.cli import main

    data = write_blobs(tmp_path / "data", 2, size=40)
    torch.manual_seed(0)
    model = UNet(in_channels=1, num_classes=2, depth=2, base_channels=4)
    model.classes, model.label_values = ["dark", "bright"], [0, 255]
    model.label_offset = (-0.5, 0.25)
    save_model(tmp_path / "m.pt", model)
    report = tmp_path / "report.json"
    argv = ["--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    assert main(["evaluate", *argv, "--data", str(data), "--json", str(report)]) == 0
    assert "label offset: 0.50 px up, 0.25 px right" in capsys.readouterr().out
    assert json.loads(report.read_text())["label_offset"] == [-0.5, 0.25]
    caplog.set_level("INFO")
    out = tmp_path / "out"
    assert main(["predict", *argv, "--input", str(data / "images"), "--output", str(out)]) == 0
    assert "label offset: 0.50 px up, 0.25 px right" in caplog.text
    assert sorted(p.name for p in out.glob("*.png")) == ["0.png", "1.png"]


def test_the_search_scores_every_move_as_moving_the_whole_map_would():
    """Only pixels near a change of class are moved in the search: the confusion must be
    the one of the whole moved map."""
    from unetlab.inference.offset import _Image
    from unetlab.metrics.confusion import class_indices, confusion_matrix

    rng = np.random.default_rng(2)
    p = torch.softmax(torch.from_numpy(rng.normal(size=(3, 31, 27)).astype(np.float32)) * 3, 0)
    p = torch.from_numpy(ndimage.gaussian_filter(p.numpy(), (0, 1.5, 1.5)))
    truth = torch.from_numpy(rng.integers(-1, 3, (31, 27)))
    image = _Image.of(p, truth, 3)
    assert 0 < len(image.rows) < 31 * 27  # some pixels are left out of the search
    for offset in [(0.0, 0.0), (0.5, -0.25), (-1.0, 0.75), (1.0, 1.0)]:
        whole = class_indices(shift_probabilities(p, offset), 0)
        keep = truth >= 0
        expected = confusion_matrix(whole[keep], truth[keep], 3)
        assert np.array_equal(image.confusion(offset, 3), expected), offset


def _fragmented(mask, offset=(0.0, 0.0)):
    """Two-class probabilities tracing ``mask`` moved by ``offset``, with a checkerboard of
    +-0.3 on them: a net whose borders break into fragments, the same on every side. Any
    half-pixel move averages the checkerboard away, whichever way it goes."""
    checker = np.indices(mask.shape).sum(0) % 2 * 0.6 - 0.3
    soft = ndimage.shift(ndimage.gaussian_filter(mask.astype(float), 1.5), offset, order=1)
    cls1 = np.clip(soft + checker, 0, 1)
    return np.stack([1 - cls1, cls1]).astype(np.float32)


def test_a_gain_from_smoothing_a_fragmented_net_is_no_offset():
    """Audit s29 scenes, finding 2: exact labels, a half-trained net; 0.50 px up gained as
    much as 0.50 px down, and the stored move was baked into every prediction. A move is
    kept only where it beats the predictions smoothed as much without a move."""
    masks = [_blobs(s) for s in range(3)]
    found = estimate_offset([_fragmented(m) for m in masks], masks)
    assert found.best != (0.0, 0.0) and found.best_miou > found.unshifted_miou + 0.01
    assert found.offset == (0.0, 0.0) and found.smoothed_miou > found.best_miou - 0.002
    line = found.describe()
    assert line.startswith("label offset: none (the best move, ") and "smoothing" in line
    assert "fragmented or blurred net, not of labels drawn off" in line


def test_labels_half_a_pixel_off_beat_the_smoothing_too():
    """Labels truly half a pixel below the fragmented predictions: the move is found."""
    masks = [_blobs(s) for s in range(3)]
    probs = [_fragmented(m, (-0.5, 0.0)) for m in masks]  # predictions 0.5 px above
    found = estimate_offset(probs, masks)
    assert found.offset == (0.5, 0.0), found
    assert found.miou >= found.smoothed_miou + 0.002
    assert "smoothed as much without the move; raised on 3 of 3 images" in found.describe()


def test_the_fit_scores_the_classes_its_labels_hold():
    """A class in none of the labels counts 0 where a few pixels of it are predicted and
    drops out where none are: moves that erase those pixels would gain ~1/C for nothing."""
    from unetlab.inference.offset import miou

    m = np.array([[5, 1, 0], [1, 3, 0], [0, 0, 0]])  # class 2: predicted once, in no label
    assert miou(m) == pytest.approx((5 / 7 + 3 / 5) / 2)
    masks = [_blobs(s) for s in range(3)]
    probs = []
    for m in masks:
        two = _soft(m, (0, 0))
        stray = np.zeros((1, *m.shape), np.float32)
        stray[0, 40, 40] = 2.0  # one stray pixel of class 2, which no label holds
        probs.append(np.concatenate([two, stray]))
    found = estimate_offset(probs, masks)
    assert found.offset == (0.0, 0.0) and found.unshifted_miou > 0.9
    assert "pooled over the images, classes in their labels" in found.describe()
