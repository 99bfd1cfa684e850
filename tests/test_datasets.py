"""Data sets: splitting, label values, the one-error checker, and training tile sampling."""

import logging
import re
import shlex

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from unetlab.config import load_config
from unetlab.data.datasets import (
    Sample,
    TileDataset,
    center_crop,
    crop_filled,
    crop_mirrored,
    discover_label_values,
    load_samples,
    split_indices,
    split_pairs,
    training_split,
    window_start,
)
from unetlab.data.labels import IGNORE_INDEX
from unetlab.data.mirror import reflect_indices
from unetlab.data.pairs import find_pairs
from unetlab.errors import DatasetError, command_spelling
from unetlab.models import UNet

PER_IMAGE = {"mode": "per_image"}
SCALE = {"mode": "scale"}


def save(path, arr, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, **kw).save(path)


def binary_set(root, n, size=(8, 10)):
    rng = np.random.default_rng(0)
    for i in range(n):
        save(root / "images" / f"{i:02d}.png", rng.integers(0, 256, size, dtype=np.uint8))
        save(
            root / "masks" / f"{i:02d}.png",
            np.where(rng.random(size) < 0.3, 0, 255).astype(np.uint8),
        )
    return root


# --- splitting ---------------------------------------------------------------------------------


def test_split_indices_exact():
    assert split_indices(10, val_fraction=0.2, seed=0) == split_indices(
        10, val_fraction=0.2, seed=0
    )
    train, val = split_indices(10, val_fraction=0.2, seed=0)
    assert len(val) == 2 and sorted(train + val) == list(range(10))
    assert split_indices(10, val_fraction=0.2, seed=1) != (train, val)
    assert len(split_indices(2, val_fraction=0.01, seed=0)[1]) == 1  # at least one when n >= 2
    assert len(split_indices(3, val_fraction=0.9, seed=0)[0]) == 1  # train keeps at least one
    assert split_indices(1, val_fraction=0.2, seed=0) == ([0], [])
    assert split_indices(5, val_fraction=0.0, seed=0) == ([0, 1, 2, 3, 4], [])
    with pytest.raises(ValueError, match="val_fraction"):
        split_indices(5, val_fraction=1.0, seed=0)


def test_split_uses_train_and_val_folders(tmp_path):
    binary_set(tmp_path / "train", 3)
    binary_set(tmp_path / "val", 2)
    train, val = split_pairs(tmp_path)
    assert [p.image.parent.parent.name for p in train] == ["train"] * 3
    assert [p.image.parent.parent.name for p in val] == ["val"] * 2


def test_split_problems_of_both_folders_in_one_error(tmp_path):
    binary_set(tmp_path / "train", 2)
    binary_set(tmp_path / "val", 2)
    (tmp_path / "train" / "masks" / "01.png").unlink()
    (tmp_path / "val" / "masks" / "00.png").unlink()
    with pytest.raises(DatasetError) as info:
        split_pairs(tmp_path)
    assert "train/images/01.png" in str(info.value) and "val/images/00.png" in str(info.value)


def test_seeded_split_and_single_sample_warning(tmp_path, caplog):
    binary_set(tmp_path / "a", 10)
    train, val = split_pairs(tmp_path / "a", val_fraction=0.3, seed=4)
    assert len(train) == 7 and len(val) == 3 and not set(train) & set(val)
    assert split_pairs(tmp_path / "a", val_fraction=0.3, seed=4) == (train, val)
    binary_set(tmp_path / "one", 1)
    with caplog.at_level(logging.WARNING):
        train, val = split_pairs(tmp_path / "one")
    assert len(train) == 1 and val == [] and "none kept for validation" in caplog.text


def test_a_checkpoints_split_is_made_again_quietly_or_says_why_not(tmp_path, caplog):
    binary_set(tmp_path / "a", 10)
    data = {"root": str(tmp_path / "a"), "val_fraction": 0.3, "seed": 4}
    with caplog.at_level(logging.INFO):
        assert training_split(data) == split_pairs(tmp_path / "a", val_fraction=0.3, seed=4)
        binary_set(tmp_path / "one", 1)
        assert len(training_split({"root": str(tmp_path / "one")})[0]) == 1
    assert caplog.text == ""  # the split's lines are training's report, not a re-split's
    for data, why in (
        (None, "the checkpoint records no data folder"),
        ({"root": None}, "the checkpoint records no data folder"),
        ({"root": str(tmp_path / "gone")}, f"its data folder {tmp_path / 'gone'} is gone"),
        ({"root": str(tmp_path / "a"), "val_fraction": 1.5}, "does not split as in training"),
    ):
        with pytest.raises(DatasetError, match=re.escape(why)):
            training_split(data)


def test_split_voc_split_files(tmp_path):
    for name in ("a", "b", "c"):
        save(tmp_path / "JPEGImages" / f"{name}.jpg", np.zeros((6, 6, 3), np.uint8))
        save(tmp_path / "SegmentationClass" / f"{name}.png", np.zeros((6, 6), np.uint8))
    (tmp_path / "ImageSets" / "Segmentation").mkdir(parents=True)
    (tmp_path / "ImageSets" / "Segmentation" / "train.txt").write_text("a\nc\n")
    (tmp_path / "ImageSets" / "Segmentation" / "val.txt").write_text("b\n")
    train, val = split_pairs(tmp_path)
    assert [p.name for p in train] == ["a", "c"] and [p.name for p in val] == ["b"]


def test_evaluation_scores_a_voc_folders_val_split(tmp_path):
    from unetlab.evaluate import evaluation_pairs

    test_split_voc_split_files(tmp_path)  # a, c train; b val
    assert [p.name for p in evaluation_pairs(tmp_path)] == ["b"]
    (tmp_path / "ImageSets" / "Segmentation" / "val.txt").unlink()
    assert [p.name for p in evaluation_pairs(tmp_path)] == ["a", "b", "c"]


# --- label values and the checker ----------------------------------------------------------------


def test_discover_label_values_palette_and_binary(tmp_path):
    binary_set(tmp_path, 2)
    palette = Image.fromarray(np.array([[0, 1], [2, 1]], np.uint8), mode="P")
    palette.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * 759)
    assert discover_label_values(find_pairs(tmp_path)) == [0, 255]
    (tmp_path / "p").mkdir()
    save(tmp_path / "p" / "images" / "x.png", np.zeros((2, 2), np.uint8))
    (tmp_path / "p" / "masks").mkdir()
    palette.save(tmp_path / "p" / "masks" / "x.png")
    assert discover_label_values(find_pairs(tmp_path / "p")) == [0, 1, 2]  # indices, not colours


def test_too_many_mask_values_name_the_instance_target_as_the_caller_sets_it(tmp_path):
    """s53: fit in a notebook was told the command line's "set data.target=instances"."""
    binary_set(tmp_path, 1, size=(8, 8))
    save(tmp_path / "masks" / "00.png", np.arange(64, dtype=np.uint8).reshape(8, 8))
    with pytest.raises(DatasetError, match=r"\(or cfg.data.target = 'instances' if each"):
        discover_label_values(find_pairs(tmp_path), max_values=10)
    cli = r"\(or --set data.target=instances if each"
    with pytest.raises(DatasetError, match=cli), command_spelling():  # as the command line runs
        discover_label_values(find_pairs(tmp_path), max_values=10)


def test_seventeen_classes_warn_of_instances_as_the_caller_sets_the_target(monkeypatch, caplog):
    """The training's warning of many mask values told a notebook "set data.target=instances"
    (the command line's words, without its --set)."""
    import logging

    from unetlab.config import load_config
    from unetlab.train import setup

    monkeypatch.setattr(setup, "discover_label_values", lambda pairs, scan: list(range(17)))
    data = load_config(None, []).data
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        setup._label_values(data, [], None, None)
        with command_spelling():
            setup._label_values(data, [], None, None)
    fix = [
        r.getMessage().split("masks), ")[1]
        for r in caplog.records
        if "17 classes" in r.msg % r.args
    ]
    assert fix == [
        "cfg.data.target = 'instances' or name the mask folder instances/",
        "--set data.target=instances or name the mask folder instances/",
    ]


def test_discover_refuses_jpeg_rgb_and_blurred_masks(tmp_path):
    binary_set(tmp_path / "j", 2)
    save(tmp_path / "j" / "masks" / "01.jpg", np.zeros((8, 10), np.uint8))
    (tmp_path / "j" / "masks" / "01.png").unlink()
    save(
        tmp_path / "j" / "masks" / "00.png", np.zeros((8, 10, 3), np.uint8) + np.uint8([0, 128, 0])
    )
    with pytest.raises(DatasetError) as info:
        discover_label_values(find_pairs(tmp_path / "j"))
    message = str(info.value)
    assert message.startswith("2 problems")
    assert "01.jpg: JPEG masks are lossy" in message and "00.png" in message and "colour" in message
    # a resized 0/255 mask: a few in-between values along the edges
    blurred = np.zeros((64, 64), np.uint8)
    blurred[:, 32:] = 255
    blurred[:, 31] = np.arange(64) * 4 % 250 + 2
    binary_set(tmp_path / "b", 1, size=(64, 64))
    save(tmp_path / "b" / "masks" / "00.png", blurred)
    with pytest.raises(DatasetError, match=r"look like blur, resizing or JPEG compression"):
        discover_label_values(find_pairs(tmp_path / "b"))
    with pytest.raises(DatasetError, match="distinct values"):
        discover_label_values(find_pairs(tmp_path / "b"), max_values=10)


def test_load_samples_lists_every_problem_in_one_error(tmp_path):
    root = binary_set(tmp_path, 5)
    save(root / "masks" / "01.png", np.zeros((5, 5), np.uint8))  # size mismatch
    save(root / "masks" / "02.png", np.full((8, 10), 7, np.uint8))  # unknown value
    save(root / "masks" / "03.png", np.zeros((8, 10, 3), np.uint8) + np.uint8([200, 0, 0]))  # RGB
    save(root / "images" / "04.png", np.zeros((8, 10, 3), np.uint8))  # RGB image, grey model
    with pytest.raises(DatasetError) as info:
        load_samples(
            find_pairs(root), label_values=[0, 255], normalization=PER_IMAGE, in_channels=1
        )
    message = str(info.value)
    lines = message.splitlines()  # the count, a problem a line, the fix
    assert message.startswith("4 problems") and len(lines) == 6 and lines[-1].startswith("Fix: ")
    assert "01.png is 10x8 but its mask 01.png is 5x5" in message
    assert "masks/02.png: label value 7 is not among the classes' values [0, 255]" in message
    assert "masks/03.png" in message and "colour" in message
    assert "images/04.png: 3 channels but the model takes 1" in message
    assert "the masks hold the values [0, 7, 255]" in message  # the fix names every value found
    assert "if each is a class, cfg.data.label_values = [0, 7, 255] (3 classes)" in message


def test_masks_0_255_with_a_0_1_config_say_the_fix(tmp_path):
    root = binary_set(tmp_path, 2)
    with pytest.raises(DatasetError) as info:
        load_samples(find_pairs(root), label_values=[0, 1], normalization=PER_IMAGE)
    message = str(info.value)
    assert "00.png: label value 255" in message and "01.png: label value 255" in message
    assert "the masks hold the values [0, 255]" in message  # not the config's 1
    # fit in a notebook: as Python sets it (s53: it was told the command line's form)
    assert "if each is a class, cfg.data.label_values = [0, 255] (2 classes)" in message
    assert "save unlabelled pixels as V and set cfg.data.ignore_value = V; or fix" in message
    with pytest.raises(DatasetError) as info, command_spelling():  # as the command line runs
        load_samples(find_pairs(root), label_values=[0, 1], normalization=PER_IMAGE)
    assert "save unlabelled pixels as V and give --set data.ignore_value=V; or" in str(info.value)
    said = str(info.value).split("if each is a class, ")[1].split(" (2 classes)")[0]
    assert said == "--set 'data.label_values=[0, 255]'"  # the shell split it unquoted (s54)
    flag, value = shlex.split(said)
    assert flag == "--set" and load_config(None, [value]).data.label_values == [0, 255]


def test_channels_must_agree_without_in_channels(tmp_path):
    root = binary_set(tmp_path, 3)
    save(root / "images" / "02.png", np.zeros((8, 10, 3), np.uint8))
    with pytest.raises(DatasetError, match=r"02.png: 3 channels but most images have 1"):
        load_samples(find_pairs(root), label_values=[0, 255], normalization=PER_IMAGE)


def test_load_samples_encodes_normalises_and_ignores(tmp_path):
    save(tmp_path / "images" / "a.png", np.arange(12, dtype=np.uint8).reshape(3, 4) * 20)
    save(tmp_path / "masks" / "a.png", np.array([[0, 255, 9, 0]] * 3, np.uint8))
    (sample,) = load_samples(
        find_pairs(tmp_path), label_values=[0, 255], ignore_value=9, normalization=SCALE
    )
    assert (
        sample.name == "a" and sample.image.shape == (1, 3, 4) and sample.image.dtype == np.float32
    )
    assert sample.image[0, 0, 1] == pytest.approx(20 / 255)
    assert sample.mask.dtype == np.int64 and sample.mask[0].tolist() == [0, 1, IGNORE_INDEX, 0]
    assert sample.weight is None


def test_load_samples_weight_map_once_per_image(tmp_path):
    mask = np.full((12, 12), 255, np.uint8)
    mask[:, 5:7] = 0  # two cells separated by a 2-px membrane
    save(tmp_path / "images" / "a.png", mask)
    save(tmp_path / "masks" / "a.png", mask)
    (sample,) = load_samples(
        find_pairs(tmp_path),
        label_values=[0, 255],
        normalization=PER_IMAGE,
        weight_map={"w0": 10.0, "sigma": 5.0},
    )
    assert sample.weight.shape == (12, 12) and sample.weight.dtype == np.float32
    assert sample.weight[0, 5] > sample.weight[0, 0] + 5  # the border term on the membrane


def test_multipage_tiff_stacks_pair_page_by_page(tmp_path):
    rng = np.random.default_rng(0)
    volume = rng.integers(0, 256, (3, 6, 7), dtype=np.uint8)
    labels = np.stack([np.full((6, 7), v, np.uint8) for v in (0, 255, 0)])
    tifffile.imwrite(tmp_path / "train-volume.tif", volume, photometric="minisblack")
    tifffile.imwrite(tmp_path / "train-labels.tif", labels, photometric="minisblack")
    pairs = find_pairs(tmp_path)
    assert [p.page for p in pairs] == [0, 1, 2]
    assert discover_label_values(pairs) == [0, 255]
    samples = load_samples(pairs, label_values=[0, 255], normalization=SCALE)
    assert [s.name for s in samples] == ["train-volume[0]", "train-volume[1]", "train-volume[2]"]
    assert [int(s.mask[0, 0]) for s in samples] == [0, 1, 0]
    assert np.allclose(samples[1].image[0], volume[1] / 255)
    tifffile.imwrite(tmp_path / "train-labels.tif", labels[:, :5], photometric="minisblack")
    with pytest.raises(
        DatasetError, match=r"3 problems(.|\n)*train-volume\[0\]: image page is 7x6"
    ):
        load_samples(find_pairs(tmp_path), label_values=[0, 255], normalization=SCALE)


def _test_line(caplog) -> str:
    (line,) = [r.getMessage() for r in caplog.records if "not used: score" in r.getMessage()]
    return line


def test_the_test_line_names_test_and_the_run(tmp_path, caplog):
    """Beside train/, an extra/ (before testing/ in the alphabet) and testing/ (test/ by
    its other name): the line scores testing/ with the best.pt of the run that trains (RUN
    where none is given); it named the first folder alphabetically (extra/) and RUN always.
    Without a test/, the first and each other."""
    binary_set(tmp_path / "train", 10)
    binary_set(tmp_path / "extra", 2)
    binary_set(tmp_path / "testing", 2)
    run = tmp_path / "runs" / "a"
    with caplog.at_level(logging.INFO, logger="unetlab"):
        split_pairs(tmp_path, run_dir=run)
    line = _test_line(caplog)
    assert "extra/, testing/ not used" in line
    assert line.endswith(
        f"evaluate --checkpoint {run / 'checkpoints' / 'best.pt'} --data {tmp_path / 'testing'}"
    )
    (tmp_path / "testing").rename(tmp_path / "more")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        split_pairs(tmp_path)
    assert _test_line(caplog).endswith(
        f"--checkpoint RUN/checkpoints/best.pt --data {tmp_path / 'extra'}, and so each other"
    )


@pytest.mark.usefixtures("one_thread")
def test_train_check_names_its_run_folder_in_the_test_line(tmp_path, caplog):
    """train --check --run-dir R names R's best.pt in the line scoring test/ (RUN before)."""
    from unetlab.cli import main

    binary_set(tmp_path / "d" / "train", 6, size=(48, 48))
    binary_set(tmp_path / "d" / "test", 2, size=(48, 48))
    run = tmp_path / "r"
    small = ["--set=model.depth=2", "--set=model.base_channels=4", "--set=data.tile_size=48"]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        args = ["train", "--data", str(tmp_path / "d"), "--run-dir", str(run), "--check"]
        assert main([*args, "--no-plan", *small]) == 0
    assert f"--checkpoint {run / 'checkpoints' / 'best.pt'} --data" in _test_line(caplog)


def test_isbi_data(isbi_dir):
    pairs = find_pairs(isbi_dir / "train")
    assert len(pairs) == 30
    assert discover_label_values(pairs) == [0, 255]
    train, val = split_pairs(
        isbi_dir, val_fraction=0.1, seed=0
    )  # train/ beside an unlabelled test/
    assert len(train) == 27 and len(val) == 3
    (sample,) = load_samples(val[:1], label_values=[0, 255], normalization=PER_IMAGE, in_channels=1)
    assert sample.image.shape == (1, 512, 512) and abs(float(sample.image.mean())) < 1e-4
    assert 0.7 < float((sample.mask == 1).mean()) < 0.85  # ~78 % cell


def test_train_beside_test_says_test_is_left_out(tmp_path, caplog):
    """A StarDist-style root (train/ + test/, no val/) trains on train/ alone: training says so
    and names test/ with the command that scores it (audit s45 newuser: nothing said)."""
    binary_set(tmp_path / "train", 10)
    binary_set(tmp_path / "test", 2)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        train, val = split_pairs(tmp_path, val_fraction=0.2, seed=0)
    assert len(train) == 8 and len(val) == 2
    assert all(p.image.parent.parent.name == "train" for p in train + val)
    (line,) = [r.getMessage() for r in caplog.records if "test/ not used" in r.getMessage()]
    assert "training on train/, 2 of its 10 samples held out" in line
    assert f"--data {tmp_path / 'test'}" in line
    caplog.clear()  # the count held out, not data.val_fraction: 0.01 of 10 holds out 1
    with caplog.at_level(logging.INFO, logger="unetlab"):
        train, val = split_pairs(tmp_path, val_fraction=0.01, seed=0)
    (line,) = [r.getMessage() for r in caplog.records if "test/ not used" in r.getMessage()]
    assert len(val) == 1 and "training on train/, 1 of its 10 samples held out" in line
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        split_pairs(tmp_path, val_fraction=0.2, seed=0, quiet=True)  # the plan's look
    assert not [r for r in caplog.records if "test/" in r.getMessage()]


# --- tiles -------------------------------------------------------------------------------------


def test_reflect_indices_match_numpy_reflect():
    for size in (1, 2, 5):
        expected = np.pad(np.arange(size), 13, mode="reflect") if size > 1 else np.zeros(size + 26)
        assert reflect_indices(-13, size + 13, size).tolist() == expected.tolist()


def test_crops_exact():
    a = np.arange(20).reshape(4, 5)
    assert np.array_equal(
        crop_mirrored(a, -2, -1, 7, 8), np.pad(a, ((2, 1), (1, 2)), mode="reflect")
    )
    assert crop_mirrored(a, 1, 1, 2, 2).tolist() == [[6, 7], [11, 12]]
    assert crop_filled(a, -1, 3, 2, 3, -1).tolist() == [[-1, -1, -1], [3, 4, -1]]
    assert center_crop(np.arange(36).reshape(6, 6), 2).tolist() == [[14, 15], [20, 21]]
    rng = np.random.default_rng(0)
    assert {window_start(5, 3, rng) for _ in range(200)} == {0, 1, 2}
    assert {window_start(3, 5, rng) for _ in range(200)} == {-2, -1, 0}


def coordinate_sample(h, w, name="s"):
    """image channels = (row, col) of each pixel, mask = row * 1000 + col: alignment is exact."""
    rows, cols = np.mgrid[0:h, 0:w]
    image = np.stack([rows, cols]).astype(np.float32)
    return Sample(name, image, (rows * 1000 + cols).astype(np.int64), None)


def test_input_and_target_windows_are_aligned_for_a_valid_net():
    model = UNet.from_preset("small-valid", depth=3, base_channels=4)
    size_in = 60
    size_out = model.output_size(size_in)  # 60 - 2 * 16 = 28
    ds = TileDataset(
        [coordinate_sample(40, 50)],
        input_size=size_in,
        output_size=size_out,
        tiles_per_epoch=20,
        seed=1,
    )
    m = (size_in - size_out) // 2
    for i in range(len(ds)):
        image, target, weight = ds[i]
        assert image.shape == (2, size_in, size_in) and target.shape == (size_out, size_out)
        assert (
            image.dtype == torch.float32 and target.dtype == torch.int64 and torch.all(weight == 1)
        )
        centre = center_crop(image.numpy(), size_out)
        assert np.array_equal(target.numpy(), (centre[0] * 1000 + centre[1]).astype(np.int64))
        _, top, left = ds.draw(i)  # input is mirrored (reflect) around the output window
        assert image[0, :, 0].tolist() == reflect_indices(top - m, top - m + size_in, 40).tolist()
        assert image[1, 0].tolist() == reflect_indices(left - m, left - m + size_in, 50).tolist()


def test_border_pixels_are_sampled_and_outside_labels_ignored():
    ds = TileDataset([coordinate_sample(12, 12)], input_size=14, output_size=6, tiles_per_epoch=200)
    seen = np.zeros((12, 12), bool)
    for i in range(len(ds)):
        _, target, _ = ds[i]
        t = target.numpy()
        seen[t // 1000, t % 1000] = True
    assert seen.all()  # every pixel, the corners included, is a training target
    # an image smaller than the output window: pixels outside it are ignored, never invented
    small = TileDataset([coordinate_sample(4, 9)], input_size=10, output_size=6, tiles_per_epoch=10)
    for i in range(len(small)):
        image, target, _ = small[i]
        _, top, left = small.draw(i)
        expected = crop_filled(coordinate_sample(4, 9).mask, top, left, 6, 6, IGNORE_INDEX)
        assert np.array_equal(target.numpy(), expected)
        assert (target == IGNORE_INDEX).sum() >= 6 * 2  # 4 rows of 6 known at most
        assert image.shape == (2, 10, 10) and torch.isfinite(image).all()


def test_tiles_are_reproducible_per_seed_epoch_and_index():
    samples = [coordinate_sample(30, 30, "a"), coordinate_sample(60, 40, "b")]
    a = TileDataset(samples, input_size=16, output_size=8, tiles_per_epoch=6, seed=3)
    b = TileDataset(samples, input_size=16, output_size=8, tiles_per_epoch=6, seed=3)
    b[(1, 2)]  # drawing another epoch's tile leaves nothing behind
    assert all(torch.equal(a[i][1], b[(0, i)][1]) for i in range(6))  # plain index: epoch 0
    assert all(torch.equal(a[(1, i)][1], b[(1, i)][1]) for i in range(6))
    assert a.draw(5) == b.draw(5) and a.draw(5, epoch=1) == b.draw(5, epoch=1)
    draws = [a.draw(i) for i in range(6)]
    assert [a.draw(i, epoch=1) for i in range(6)] != draws
    # the tile of (epoch, index) is the one draw() names
    k, top, left = a.draw(4, epoch=7)
    expected = crop_filled(samples[k].mask, top, left, 8, 8, IGNORE_INDEX)
    assert np.array_equal(a[(7, 4)][1].numpy(), expected)
    assert (
        TileDataset(samples, input_size=16, output_size=8, tiles_per_epoch=6, seed=4).draw(0)
        != draws[0]
    )


def test_samples_drawn_in_proportion_to_area():
    samples = [coordinate_sample(10, 10, "small"), coordinate_sample(30, 30, "big")]
    ds = TileDataset(samples, input_size=4, output_size=4, tiles_per_epoch=1000)
    share = np.mean([ds.draw(i)[0] == 1 for i in range(1000)])
    assert 0.86 < share < 0.94  # 900 / 1000


def test_augment_sees_the_input_window_and_targets_are_cropped_after():
    calls = []

    def flip(image, mask, weight, *, rng):
        calls.append((image.shape, mask.shape, None if weight is None else weight.shape))
        assert isinstance(rng, np.random.Generator)
        return (
            image[:, ::-1, ::-1],
            mask[::-1, ::-1],
            None if weight is None else weight[::-1, ::-1],
        )

    sample = coordinate_sample(20, 20)
    weighted = Sample("w", sample.image, sample.mask, np.full((20, 20), 2.0, np.float32))
    ds = TileDataset([weighted], input_size=12, output_size=4, augment=flip, tiles_per_epoch=5)
    for i in range(5):
        image, target, weight = ds[i]
        centre = center_crop(image.numpy(), 4)
        known = target.numpy() != IGNORE_INDEX
        assert np.array_equal(target.numpy()[known], (centre[0] * 1000 + centre[1])[known])
        assert weight.shape == (4, 4) and weight.dtype == torch.float32
        assert torch.all(weight[torch.from_numpy(known)] == 2.0)
    assert calls == [((2, 12, 12), (12, 12), (12, 12))] * 5


def test_tile_dataset_refuses_bad_geometry():
    s = [coordinate_sample(10, 10)]
    with pytest.raises(ValueError, match="same border on every side"):
        TileDataset(s, input_size=9, output_size=4, tiles_per_epoch=1)
    with pytest.raises(ValueError, match="same border"):
        TileDataset(s, input_size=4, output_size=8, tiles_per_epoch=1)
    with pytest.raises(ValueError, match="at least one sample"):
        TileDataset([], input_size=4, output_size=4, tiles_per_epoch=1)
    with pytest.raises(IndexError):
        TileDataset(s, input_size=4, output_size=4, tiles_per_epoch=2)[2]


def test_sparse_labels_draw_windows_that_hold_labelled_pixels():
    """Three quarters of the 16 px tiles of an audit's sparse masks held no labelled pixel:
    steps that train nothing. A window without one is drawn again; fully labelled masks
    draw as before (the same windows, so runs and resumes repeat)."""
    mask = np.full((64, 64), IGNORE_INDEX, np.int64)
    mask[40:52, 10:22] = 1  # one labelled patch: ~1 window in 8 meets it
    sparse = Sample("s", np.zeros((1, 64, 64), np.float32), mask)
    ds = TileDataset([sparse], input_size=8, output_size=8, tiles_per_epoch=200)
    labelled = [bool((ds[i][1] != IGNORE_INDEX).any()) for i in range(len(ds))]
    assert sum(labelled) >= 180
    dense = Sample("d", np.zeros((1, 64, 64), np.float32), np.ones((64, 64), np.int64))
    ds = TileDataset([dense, sparse], input_size=8, output_size=8, tiles_per_epoch=50, seed=2)
    for i in range(50):
        rng = np.random.default_rng([2, 0, i])
        k = int(rng.choice(2, p=[0.5, 0.5]))
        if k == 0:
            assert ds.draw(i) == (0, window_start(64, 8, rng), window_start(64, 8, rng))
