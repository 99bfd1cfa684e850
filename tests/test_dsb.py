"""The Data Science Bowl 2018 nuclei layout (ID/images/ID.png + ID/masks/*.png, one binary
mask per nucleus): read as an instance data set wherever a data set is read; detected
strictly, a folder that is one only in part refused naming the sub-folder."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from unetlab.data.io import write_png
from unetlab.data.pairs import find_pairs, read_pair
from unetlab.errors import DatasetError, UnetlabError

SIZE = 24
#: per sample: its objects as (top, left, side) squares; b's first two share 2x2 pixels
OBJECTS = {"a": [(2, 2, 6), (10, 12, 5), (16, 3, 4)], "b": [(2, 2, 6), (6, 6, 6)], "c": []}


def write_sample(root, sid, squares, size=SIZE):
    """ID/images/ID.png (RGBA, alpha 255) and one 0/255 PNG a square in ID/masks/."""
    rng = np.random.default_rng([ord(c) for c in sid])
    rgba = rng.integers(0, 255, (size, size, 4), np.uint8)
    rgba[..., 3] = 255
    write_png(root / sid / "images" / f"{sid}.png", rgba)
    (root / sid / "masks").mkdir(parents=True, exist_ok=True)
    for k, (top, left, side) in enumerate(squares):
        mask = np.zeros((size, size), np.uint8)
        mask[top : top + side, left : left + side] = 255
        write_png(root / sid / "masks" / f"m{k:02d}{sid}.png", mask)


def write_dsb(root, objects=OBJECTS):
    for sid, squares in objects.items():
        write_sample(root, sid, squares)
    return root


def expected_ids(squares, size=SIZE):
    """The instance map: object k + 1 on square k, a shared pixel the first's."""
    ids = np.zeros((size, size), np.uint16)
    for k, (top, left, side) in reversed(list(enumerate(squares))):
        ids[top : top + side, left : left + side] = k + 1
    return ids


def test_a_dsb_folder_is_read_as_instance_maps(tmp_path, caplog):
    from unetlab.data.read_notes import read_notes

    root = write_dsb(tmp_path / "stage1_train")
    pairs = find_pairs(root)
    assert [(p.name, p.mask) for p in pairs] == [(s, root / s / "masks") for s in OBJECTS]
    caplog.set_level(logging.INFO)
    with read_notes():
        for pair in pairs:
            image, ids = read_pair(pair)
            assert image.shape == (SIZE, SIZE, 3)  # the constant alpha dropped
            assert np.array_equal(ids, expected_ids(OBJECTS[pair.name])), pair.name
    assert expected_ids(OBJECTS["b"])[7, 7] == 1  # the overlap went to the first object
    notes = [r.getMessage() for r in caplog.records if "two objects' masks" in r.getMessage()]
    assert len(notes) == 1 and "(b/masks 4 px; 4 px in all)" in notes[0].replace(f"{root}/", "")


def test_the_plan_and_the_target_read_a_dsb_folder_as_objects(tmp_path, caplog):
    from unetlab.data.datasets import choose_target
    from unetlab.data.fingerprint import fingerprint

    pairs = find_pairs(write_dsb(tmp_path))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert choose_target("auto", pairs) == "instances"
    # why, as it is: the line said 'a folder named instances/, or outlines' (review s37)
    assert "masks hold object ids (a folder of one mask per object)" in caplog.text
    assert fingerprint(pairs).instances


@pytest.mark.parametrize(
    "change, named",
    [
        (lambda d: (d / "masks").rmdir(), "but notes/ has no masks/ folder"),
        (
            lambda d: write_png(d / "images" / "two.png", np.zeros((4, 4), np.uint8)),
            "notes/ has 2 images",
        ),
    ],
)
def test_a_half_dsb_folder_is_refused_naming_the_sub_folder(tmp_path, change, named):
    root = write_dsb(tmp_path)
    write_sample(root, "notes", [])
    change(root / "notes")
    with pytest.raises(DatasetError, match=named) as err:
        find_pairs(root)
    assert "3 of its 4 sub-folders are one folder per image" in str(err.value)
    assert "\n" not in str(err.value)


def test_a_folder_of_a_few_such_folders_among_others_is_no_dsb(tmp_path):
    """2 of 5 sub-folders: not read as a DSB folder, but the line names the layout and what
    the others lack, not 'x/, y/ hold one: give --data x' (one sample: a data set of one
    image whose masks do not pair; s37 leftovers)."""
    write_dsb(tmp_path, {s: OBJECTS["a"] for s in ("x", "y")})
    for other in ("p", "q", "r"):
        (tmp_path / other).mkdir()
    (tmp_path / "q" / "images").mkdir()
    with pytest.raises(DatasetError) as err:
        find_pairs(tmp_path)
    said = str(err.value)
    assert "2 of its 5 sub-folders (x/, y/) are one folder per image as the Data Science" in said
    assert "but p/ has no images/ and masks/ folder (and 2 more sub-folders are not)" in said
    assert "give --data" not in said and "\n" not in said


def test_a_file_given_for_the_data_names_the_dsb_layout_too(tmp_path):
    from unetlab.data.pairs import no_data_folder

    (tmp_path / "a.txt").write_text("")
    assert "ID/images/ID.png + ID/masks/*.png" in str(no_data_folder(tmp_path / "a.txt"))


def test_one_folder_per_image_with_masks_named_as_the_image_is_no_dsb(tmp_path):
    """ID/images/x.png + ID/masks/x.png: a data set of its own (label masks), as before."""
    for sid in ("p", "q"):
        write_sample(tmp_path, sid, [])
        write_png(tmp_path / sid / "masks" / f"{sid}.png", np.zeros((SIZE, SIZE), np.uint8))
    with pytest.raises(DatasetError, match="no data set in the folder itself, but p/, q/ hold"):
        find_pairs(tmp_path)


def test_a_mask_that_is_not_one_object_is_named(tmp_path):
    root = write_dsb(tmp_path)
    bad = np.zeros((SIZE, SIZE), np.uint8)
    bad[:2], bad[4:6] = 1, 2
    write_png(root / "a" / "masks" / "zz.png", bad)
    with pytest.raises(UnetlabError, match=r"zz.png: values 1..2 besides 0"):
        read_pair(find_pairs(root)[0])


@pytest.mark.slow  # trains for real (about 7 s on 2 loaded cores)
@pytest.mark.usefixtures("one_thread")
def test_train_and_evaluate_on_a_dsb_folder(tmp_path):
    from unetlab import evaluate_model
    from unetlab.cli import main

    root = write_dsb(tmp_path / "stage1_train", {s: OBJECTS["a"] for s in "abcd"})
    run = tmp_path / "run"
    sets = ("train.epochs=1", "data.tile_size=16", "train.batch_size=2", "data.tiles_per_epoch=2")
    sets += ("model.depth=2", "model.base_channels=4")
    args = ["train", "--data", str(root), "--run-dir", str(run), "--no-progress"]
    assert main([*args, "--check", *[f"--set={s}" for s in sets]]) == 0
    assert main([*args, *[f"--set={s}" for s in sets]]) == 0
    report = evaluate_model(str(run / "checkpoints" / "best.pt"), root)
    assert len(report.images) == 4


def test_one_sample_given_for_the_folder_names_the_folder(tmp_path):
    """--data stage1_train/ID was read as images/ + masks/: 'mask without an image' for
    each of its masks."""
    root = write_dsb(tmp_path / "stage1_train")
    with pytest.raises(DatasetError, match=r"one sample of .* give find_pairs' root .*train$"):
        find_pairs(root / "a")  # Python's form: the command line's is --data (review s57)


def test_each_mask_file_is_decoded_once_while_it_stays_the_same(tmp_path, monkeypatch):
    """A training command reads each sample's masks five times (plan, checks, loading):
    a DSB sample of 300 files decoded five times."""
    from unetlab.data import dsb

    decoded = []
    read = dsb._object
    monkeypatch.setattr(dsb, "_object", lambda path: decoded.append(path.name) or read(path))
    root = write_dsb(tmp_path)
    for _ in range(3):
        ids = [read_pair(p)[1] for p in find_pairs(root)]
    assert len(decoded) == 5 and np.array_equal(ids[0], expected_ids(OBJECTS["a"]))
    write_sample(root, "a", [(0, 0, 3)])  # m00a.png rewritten, m01a, m02a kept
    for extra in ("m01a.png", "m02a.png"):
        (root / "a" / "masks" / extra).unlink()
    assert np.array_equal(read_pair(find_pairs(root)[0])[1], expected_ids([(0, 0, 3)]))
    assert len(decoded) == 6


def test_evaluate_pred_scores_a_dsb_folder_as_object_ids_unasked(tmp_path, caplog):
    """evaluate --pred P --gt stage1_train without --gt-instances: a sample's masks/ (one
    file per object) is object ids by what it is, as outlines are; it was refused as 'a
    mask in another encoding (0/255 among 0/1) or with stray marks' (sample a's ids 1..3)."""
    from unetlab.evaluate import evaluate_predictions

    write_dsb(tmp_path / "s")
    for sid, squares in OBJECTS.items():
        write_png(tmp_path / "p" / f"{sid}.png", (expected_ids(squares) > 0).astype(np.uint8))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        report = evaluate_predictions(tmp_path / "p", tmp_path / "s")
    assert [(row["name"], row["objects"]) for row in report.images] == [
        ("a", 3),
        ("b", 2),
        ("c", 0),
    ]
    assert "scored as object ids (gt_instances=True)" in caplog.text


def test_one_sample_given_as_gt_names_gt(tmp_path, capsys):
    """evaluate --pred P --gt stage1_train/ID was told 'give --data stage1_train': find_pairs
    named --data whatever flag gave the folder (s38)."""
    from unetlab.cli import main

    root = write_dsb(tmp_path / "stage1_train")
    write_png(tmp_path / "p" / "a.png", (expected_ids(OBJECTS["a"]) > 0).astype(np.uint8))
    assert main(["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(root / "a")]) == 2
    err = capsys.readouterr().err
    assert f"one sample of the Data Science Bowl folder {root}" in err
    assert f"give --gt {root}" in err and "--data" not in err


def test_evaluate_gt_names_the_sub_folder_that_is_no_sample(tmp_path):
    """README: every sub-folder must be a sample, one that is not is named; --gt of a DSB
    folder with a notes/ beside its samples said 'no masks found; give a folder of masks'
    (the layout's line was swallowed; --data named notes/; audit s38)."""
    from unetlab.evaluate import evaluate_predictions

    root = write_dsb(tmp_path / "s")
    (root / "notes").mkdir()
    for sid, squares in OBJECTS.items():
        write_png(tmp_path / "p" / f"{sid}.png", (expected_ids(squares) > 0).astype(np.uint8))
    with pytest.raises(DatasetError, match="3 of its 4 sub-folders .* notes/ has no images/"):
        evaluate_predictions(tmp_path / "p", root)


def test_a_test_folder_inside_is_said_once_by_train_and_evaluate_gt(tmp_path, caplog):
    """stage1_train/test/ is passed over as no sample (6454950); predict said so, train
    --data and evaluate --gt passed it over without a word (s38). Said once a command."""
    from unetlab.cli import main

    root = write_dsb(tmp_path / "stage1_train", {s: OBJECTS["a"] for s in "abcd"})
    write_png(root / "test" / "t.png", np.zeros((8, 8, 3), np.uint8))
    said = "test/ passed over: named as a split, no sample"
    sets = ["--set=data.tile_size=16", "--set=model.depth=2", "--set=model.base_channels=4"]
    args = ["train", "--data", str(root), "--run-dir", str(tmp_path / "run"), "--check"]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*args, "--no-progress", *sets]) == 0
    assert caplog.text.count(said) == 1
    caplog.clear()
    for sid in "abcd":
        write_png(tmp_path / "p" / f"{sid}.png", (expected_ids(OBJECTS["a"]) > 0).astype(np.uint8))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main(["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(root)]) == 0
    assert caplog.text.count(said) == 1


@pytest.mark.parametrize("channels", [3, 2])
def test_a_16_bit_colour_object_mask_is_read_with_its_16_bits(tmp_path, channels):
    """A 16-bit RGB (or grey + alpha) mask of 1s on its object (what OpenCV saves of a
    uint16 array): Pillow reads its high bytes, all 0, so the object was lost unsaid; one of
    two values besides 0 that share a high byte was taken for one object."""
    from tests.test_png_depth import write_png16

    root = write_dsb(tmp_path)
    square = np.zeros((SIZE, SIZE, channels), np.uint16)
    top, left, side = OBJECTS["a"][0]
    square[top : top + side, left : left + side] = 1
    if channels == 2:
        square[..., 1] = 65535  # an opaque alpha
    write_png16(root / "a" / "masks" / "m00a.png", square)
    np.testing.assert_array_equal(read_pair(find_pairs(root)[0])[1], expected_ids(OBJECTS["a"]))
    square[top, left + 1, : 3 if channels == 3 else 1] = 2  # 2 and 1: high bytes 0
    (root / "a" / "masks" / "m00a.png").unlink()
    write_png16(root / "a" / "masks" / "m00.png", square)  # a new file: none kept
    with pytest.raises(UnetlabError, match=r"m00.png: values 1..2 besides 0"):
        read_pair(find_pairs(root)[0])
