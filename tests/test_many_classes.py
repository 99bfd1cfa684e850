"""Many imbalanced classes: class weights, VOC palettes in and out, class names, and the
encoder nets through `unetlab train` / `unetlab predict`."""

from __future__ import annotations

import csv
import logging

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from unetlab import predict_image
from unetlab.checkpoint import load_checkpoint, load_model
from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data.classes import read_class_names, read_palette, voc_colormap, void_value
from unetlab.data.io import read_mask
from unetlab.data.labels import encode_mask
from unetlab.data.scenes import SCENE_CLASSES, synthetic_scene, void_outlines, write_voc_scenes
from unetlab.errors import DatasetError, command_spelling
from unetlab.losses import (
    build_loss,
    class_pixel_counts,
    imbalance,
    median_frequency_weights,
)
from unetlab.models import EncoderUNet
from unetlab.train import Data, class_weights


def test_class_pixel_counts_skip_ignored_pixels():
    a = np.array([[0, 0, 1], [-1, 2, 2]])
    b = np.array([[0, 0], [0, -1]])
    pixels, present = class_pixel_counts([a, b], 4)
    assert pixels.tolist() == [5, 1, 2, 0]
    assert present.tolist() == [8, 5, 5, 0]  # labelled pixels of the images holding the class


def test_median_frequency_weights_exact():
    weights = median_frequency_weights(np.array([10, 30, 60, 0]), np.array([100, 100, 60, 0]))
    # frequencies 0.1, 0.3, 1.0; median 0.3; an unseen class gets 1
    np.testing.assert_allclose(weights, [3.0, 1.0, 0.3, 1.0])
    tempered = median_frequency_weights(np.array([10, 30, 60]), np.array([100, 100, 60]), power=0.5)
    np.testing.assert_allclose(tempered, np.sqrt([3.0, 1.0, 0.3]))
    assert imbalance(np.array([10, 30, 60, 0])) == 6.0


def test_class_weighted_cross_entropy_equals_the_per_pixel_sum():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 4, 5)
    target = torch.randint(0, 3, (2, 4, 5))
    target[0, 0, 0] = -1
    cw = torch.tensor([0.5, 2.0, 4.0])
    loss = build_loss("ce", class_weights=cw.tolist())(logits, target)
    ce = F.cross_entropy(logits, target, ignore_index=-1, reduction="none")
    valid = target >= 0
    expected = (ce * cw[target.clamp(min=0)] * valid).sum() / valid.sum()
    torch.testing.assert_close(loss, expected)
    with pytest.raises(ValueError, match="2 class weights"):
        build_loss("ce", class_weights=[1.0, 2.0])(logits, target)


def _data(masks):
    return Data(
        train=[type("S", (), {"mask": m})() for m in masks],
        val=[],
        label_values=[0, 1, 2],
        class_names=["a", "b", "c"],
    )


def test_auto_class_weights_only_when_classes_are_very_unequal(caplog):
    balanced = _data([np.array([[0, 1, 2, 0, 1, 2]])])
    unequal = _data([np.r_[np.zeros(200, int), np.ones(30, int), [2, 2]][None]])
    auto = load_config(None, [])
    assert class_weights(auto, balanced, 3) is None
    with caplog.at_level(logging.INFO, logger="unetlab"):
        weights = class_weights(auto, unequal, 3)
    assert weights == pytest.approx(np.sqrt([30 / 200, 1.0, 30 / 2]))
    assert "100x unequal" in caplog.text and "square root of median frequency" in caplog.text
    # fit in a notebook: as Python sets it (s53: it was told the command line's form)
    assert "unequal, cfg.train.class_weights = 'none' to turn off" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"), command_spelling():
        class_weights(auto, unequal, 3)  # as the command line runs
    assert "unequal, --set train.class_weights=none to turn off): " in caplog.text
    assert class_weights(load_config(None, ["train.class_weights=none"]), unequal, 3) is None
    assert class_weights(
        load_config(None, ["train.class_weights=median_frequency"]), unequal, 3
    ) == pytest.approx([30 / 200, 1.0, 30 / 2])
    assert class_weights(
        load_config(None, ["train.class_weights=sqrt_median_frequency"]), balanced, 3
    ) == [1.0, 1.0, 1.0]
    assert class_weights(load_config(None, ["train.class_weights=[1, 2, 3]"]), balanced, 3) == [
        1,
        2,
        3,
    ]
    with pytest.raises(ValueError, match="2 weights for 3 classes"):
        class_weights(load_config(None, ["train.class_weights=[1, 2]"]), balanced, 3)


def test_check_refuses_a_class_weight_list_of_another_length(tmp_path, capsys):
    """``train --check`` refuses a ``train.class_weights`` list that is not one weight per
    class, naming the classes in their order, as training does after loading the data (user2
    s62: --check said nothing of 3 weights for 11 road classes; the run then stopped)."""
    voc = write_voc_scenes(tmp_path / "voc", n_train=2, n_val=1, size=64, seed=2)
    run = ["train", "--data", str(voc), "--check", "--run-dir", str(tmp_path / "r")]
    assert main([*run, "--no-plan", "--set", "train.class_weights=[1, 2, 3]", *_tiny()]) == 2
    said = capsys.readouterr().err
    assert "train.class_weights has 3 weights for 7 classes (sky, road, building, " in said
    assert said.rstrip().endswith("or auto, median_frequency, sqrt_median_frequency or none")


def test_an_ignore_value_that_a_named_class_holds_is_refused(tmp_path, capsys):
    """``data.ignore_value`` set to a class the data set names (``road``, value 1) is refused,
    naming the class and the value left unnamed: it was said as "the class names name mask
    values 1, which no mask holds", the masks holding road, and trained void 255 as a class
    (user2 s62)."""
    voc = write_voc_scenes(tmp_path / "voc", n_train=2, n_val=1, size=64, seed=2)
    run = ["train", "--data", str(voc), "--check", "--run-dir", str(tmp_path / "r")]
    assert main([*run, "--no-plan", "--set", "data.ignore_value=1", *_tiny()]) == 2
    said = capsys.readouterr().err
    assert "data.ignore_value=1 is the mask value of the class named 'road'" in said
    assert "which no mask holds" not in said and "255 here" in said
    assert said.rstrip().endswith("if road is no class to learn, rename it void in class_names.txt")
    assert main([*run, "--no-plan", "--set", "data.ignore_value=255", *_tiny()]) == 0


def test_scene_classes_are_very_unequal():
    rng = np.random.default_rng(0)
    masks = [synthetic_scene(128, rng)[1] for _ in range(8)]
    pixels, _ = class_pixel_counts(masks, len(SCENE_CLASSES))
    share = pixels / pixels.sum()
    assert (pixels > 0).all() and imbalance(pixels) > 100
    assert share[:2].sum() > 0.6 and share[4:].max() < 0.02  # sky + road vs the rare ones
    ringed = void_outlines(masks[0], (4, 5, 6))
    assert 255 in ringed and np.array_equal(ringed[ringed != 255], masks[0][ringed != 255])


def test_voc_scenes_read_as_class_indices_with_palette_names_and_void(tmp_path):
    root = write_voc_scenes(tmp_path / "voc", n_train=2, n_val=1, size=64)
    mask_file = root / "SegmentationClass" / "scene_000.png"
    with Image.open(mask_file) as im:
        assert im.mode == "P"
    palette = read_palette(mask_file)
    assert np.array_equal(palette, voc_colormap(256))
    assert read_palette(root / "JPEGImages" / "scene_000.jpg") is None
    assert void_value([0, 1, 255], palette) == 255 and void_value([0, 1, 255], None) is None
    assert read_class_names(root) == dict(enumerate(SCENE_CLASSES))


def _tiny(*extra):
    return [
        "--set",
        "train.epochs=1",
        "--set",
        "data.tile_size=64",
        "--set",
        "data.tiles_per_epoch=4",
        "--set",
        "train.batch_size=2",
        "--no-progress",
        *extra,
    ]


@pytest.mark.slow
def test_voc_dir_trains_and_predicts_in_its_palette(tmp_path):
    voc = write_voc_scenes(tmp_path / "voc", n_train=4, n_val=2, size=64, seed=1)
    run = tmp_path / "run"
    # no data setting: label values, the void value, names and palette come from the data
    small = ["--set", "model.depth=2", "--set", "model.base_channels=4"]
    assert main(["train", "--data", str(voc), "--run-dir", str(run), *_tiny(*small)]) == 0
    checkpoint = load_checkpoint(run / "checkpoints" / "last.pt")
    assert checkpoint["label_values"] == list(range(7))
    assert checkpoint["classes"] == list(SCENE_CLASSES)
    assert np.array_equal(np.asarray(checkpoint["palette"], np.uint8), voc_colormap(256))
    with (run / "metrics.csv").open() as f:
        header = next(csv.reader(f))
    assert {"val_iou_pole", "val_iou_sign", "val_iou_person"} <= set(header)
    assert "val IoU per class: sky" in (run / "train.log").read_text()
    out = tmp_path / "pred"
    image = voc / "JPEGImages" / "scene_005.jpg"
    assert (
        main(
            [
                "predict",
                "--checkpoint",
                str(run / "checkpoints" / "best.pt"),
                "--input",
                str(image),
                "--output",
                str(out),
                "--overlay",
            ]
        )
        == 0
    )
    with Image.open(out / "scene_005.png") as im:
        assert im.mode == "P" and im.size == (64, 64)
        colours = np.asarray(im.getpalette()[: 7 * 3], np.uint8).reshape(7, 3)
    assert np.array_equal(colours, voc_colormap(7))  # class k in VOC colour k (values 0..6)


@pytest.mark.slow
def test_resnet50_net_trains_predicts_and_summarises(tmp_path, capsys):
    """The shipped scenes_resnet50.yaml without its weights file (README "Pretrained
    encoders"): its random encoder is trained from the start, not frozen (s63)."""
    voc = write_voc_scenes(tmp_path / "voc", n_train=2, n_val=1, size=64, seed=2)
    run = tmp_path / "run"
    args = ["train", "--data", str(voc), "--run-dir", str(run), "--config", "scenes_resnet50"]
    # one step of two 32 px tiles an epoch (the encoder's 1/32 scale: 1 px; two of them for
    # its batch norm), not two of 64 px; one validation, the last epoch's
    one_step = ["--set", "data.tile_size=32", "--set", "data.tiles_per_epoch=2"]
    one_step += ["--set", "train.val_every=2"]
    assert main([*args, *_tiny(*one_step, "--set", "train.epochs=2")]) == 0  # 2 frozen before
    log = (run / "train.log").read_text()
    assert "resnet50 U-Net" in log and "the encoder is trained from the start, not frozen" in log
    assert "encoder frozen" not in log and "encoder trained from" not in log
    model = load_model(run / "checkpoints" / "last.pt")
    assert isinstance(model, EncoderUNet) and model.normalization["mode"] == "per_image"
    image = np.asarray(Image.open(voc / "JPEGImages" / "scene_002.jpg"))[:45, :61]
    probs = predict_image(model, image)  # odd sizes: padded to the grid, cropped back
    assert probs.shape == (7, 45, 61)
    np.testing.assert_allclose(probs.sum(0), 1.0, rtol=1e-5)
    assert main(["summary", "--encoder", "resnet50", "--input-size", "64"]) == 0
    assert "Total params: 30,4" in capsys.readouterr().out


def _rewrite_masks(root, change):
    """Rewrite every palette mask of a VOC set with ``change(name, mask) -> mask``."""
    from unetlab.data.io import write_png

    for path in sorted((root / "SegmentationClass").glob("*.png")):
        mask = np.array(Image.open(path))
        write_png(path, change(path.stem, mask), palette=voc_colormap(256))


def test_a_named_class_with_no_pixels_keeps_its_value_and_output(tmp_path, caplog):
    from unetlab.train import prepare_data

    root = write_voc_scenes(tmp_path / "voc", n_train=3, n_val=1, size=48)
    _rewrite_masks(root, lambda _, m: np.where(m == 5, 4, m).astype(np.uint8))  # no sign
    cfg = load_config(None, [f"data.root={root}"])
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        data = prepare_data(cfg)
    assert data.label_values == list(range(7)) and data.class_names == list(SCENE_CLASSES)
    assert (
        "class_names.txt names 5 (sign) that no training or validation mask holds: kept as a "
        "class with no pixels (the net keeps its output but cannot learn it); add training "
        "masks that hold it"
    ) in caplog.text
    assert "evaluate" not in caplog.text  # a test/ split's masks may hold it (review s64)
    weights = class_weights(load_config(None, ["train.class_weights=median_frequency"]), data, 7)
    assert np.isfinite(weights).all() and weights[5] == 1.0
    logits = torch.randn(2, 7, 8, 8, requires_grad=True)
    target = torch.from_numpy(np.stack([s.mask[:8, :8] for s in data.train[:2]])).long()
    loss = build_loss("ce+dice", class_weights=weights)(logits, target)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()


def test_auto_class_weights_leave_an_instance_targets_rim_unweighted():
    """An instance target's rare class is each object's own rim: auto weights would widen
    every object (Kromp nuclei: matched areas 1.22-1.29x the annotation, 1.09x unweighted);
    asked for by name, the weights still apply."""
    unequal = _data([np.r_[np.zeros(200, int), np.ones(30, int), [2, 2]][None]])
    instances = load_config(None, ["data.target=instances"])
    assert class_weights(instances, unequal, 3) is None
    named = load_config(None, ["data.target=instances", "train.class_weights=median_frequency"])
    assert class_weights(named, unequal, 3) == pytest.approx([30 / 200, 1.0, 30 / 2])


def test_a_class_missing_from_val_is_marked_in_the_per_class_line(tmp_path):
    """Audit s43 scenes: person in no validation image read ``person 0.000`` (false
    positives only) or ``person nan`` at each validation, like a class the net fails."""
    rng = np.random.default_rng(0)
    for part, n, classes in (("train", 3, 3), ("val", 1, 2)):  # val holds classes 0 and 1
        for i in range(n):
            mask = rng.integers(0, classes, (64, 64)).astype(np.uint8)
            image = (mask[..., None] * 80 + rng.integers(0, 30, (64, 64, 3))).astype(np.uint8)
            Image.fromarray(image).save(_made(tmp_path / "d" / part / "images" / f"{i}.png"))
            Image.fromarray(mask).save(tmp_path / "d" / part / "masks" / f"{i}.png")
    (tmp_path / "d" / "class_names.txt").write_text("sky\nroad\nperson\n")
    run = tmp_path / "run"
    small = ["--set", "model.depth=2", "--set", "model.base_channels=4"]
    argv = ["train", "--data", str(tmp_path / "d"), "--run-dir", str(run), *_tiny(*small)]
    assert main([*argv, "--no-plan"]) == 0
    line = next(s for s in (run / "train.log").read_text().splitlines() if "IoU per class" in s)
    assert "person n/a (not in val)" in line or "person 0.000 (not in val)" in line, line
    assert line.count("(not in val)") == 1  # sky and road are in val


def _made(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent.parent / "masks").mkdir(exist_ok=True)
    return path


def test_a_class_in_no_val_image_nor_prediction_reads_n_a_not_nan():
    from unetlab.train.log import class_ious_text

    ious = [("sky", 0.5), ("person", float("nan"))]
    assert class_ious_text(ious, [10, 0]) == "sky 0.500, person n/a (not in val)"
    assert class_ious_text(ious) == "sky 0.500, person n/a"  # no counts: nothing marked


def test_a_class_the_net_barely_predicts_is_named_when_the_run_ends(caplog):
    """Audit s50 road scenes: a 3-minute run ended on "val mIoU 0.7105" with pole 0.002 and
    person 0.000 said only among the epochs' per-class lines; a class not in val (its 0 is
    false positives only) and one in no image nor prediction (n/a) are not named. Review
    s64: training named classes under 0.01, evaluate under 0.05, so a class at 0.03 was
    weak to one and fine to the other: one threshold now, evaluate's."""
    from unetlab.evaluate import report
    from unetlab.train.log import log_weak_classes, weak_classes_line

    classes = ["road", "pole", "person", "bus", "sign", "sky"]
    iou = [0.98, 0.002, 0.0, 0.03, 0.0, float("nan")]
    pixels = [900, 30, 6, 40, 0, 0]
    assert weak_classes_line(classes, iou, pixels) == (
        "val IoU under 0.05 at the last validation: pole 0.002, person 0.000, bus 0.030: the "
        "net barely predicts them; a rare class needs more steps (train.max_minutes) or more "
        "images that hold it"
    )
    assert report.RARE_IOU == 0.05  # evaluate names the same classes
    assert weak_classes_line(classes, [0.98, 0.5, 0.2, 0.05, 0.0, 0.9], pixels) is None
    with caplog.at_level(logging.INFO, logger="unetlab"):
        log_weak_classes(classes, {"iou": iou, "pixels": pixels})
        log_weak_classes(classes, {})  # no validation: nothing said
    assert caplog.text.count("val IoU under 0.05") == 1


def test_a_stray_palette_value_is_named_by_its_colour_and_pixel(tmp_path, capsys):
    """Audit s43 scenes: a stray patch in a palette mask was named 'mask value 20' only; a
    viewer shows it as a colour, which the refusals now name (and evaluate the pixel)."""
    voc = write_voc_scenes(tmp_path / "voc", n_train=4, n_val=2, size=48, seed=1)
    path = voc / "SegmentationClass" / "scene_001.png"
    with Image.open(path) as im:
        palette, mask = im.getpalette(), np.array(im)
    mask[5:8, 9:12] = 20  # VOC colour 20: (0, 64, 128)
    out = Image.fromarray(mask, mode="P")
    out.putpalette(palette)
    out.save(path)
    assert main(["train", "--data", str(voc), "--run-dir", str(tmp_path / "run"), "--no-plan"]) == 2
    err = capsys.readouterr().err
    assert "mask value 20 (palette colour (0, 64, 128)) is found in one file only" in err
    where = r"value 20 at pixel x=9, y=5, palette colour \(0, 64, 128\)"
    with pytest.raises(DatasetError, match=where):  # evaluate's check of a mask
        encode_mask(read_mask(path), list(range(7)), ignore_value=255, name=str(path))


def test_a_stray_index_past_a_short_palette_is_named_as_not_in_it(tmp_path):
    """s43 review: an index past a palette of 5 colours was named 'palette colour (0, 0, 0)',
    the black the palette is padded with to 256 entries: no colour a viewer shows."""
    from unetlab.plan.checks import _value_name

    mask = np.zeros((8, 8), np.uint8)
    mask[2, 3], mask[5, 5] = 1, 9
    path = tmp_path / "m.png"
    image = Image.fromarray(mask, mode="P")
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9])  # 5: a 4-bit PNG
    image.save(path)
    said = r"value 9 at pixel x=5, y=5, not in the file's palette of 5 colours\)"
    with pytest.raises(DatasetError, match=said):
        encode_mask(read_mask(path), [0, 1, 2, 3, 4], name=str(path))
    assert _value_name(9, str(path)) == "mask value 9 (not in the file's palette of 5 colours)"
    assert _value_name(1, str(path)) == "mask value 1 (palette colour (255, 0, 0))"
