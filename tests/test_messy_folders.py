"""A careless user's folders (audit s34 messy): sub-folders, macOS ``._*`` twins, names in
Unicode NFD, X_mask.png beside X.tif (a data set), Images/ + Masks/ and labels/ (read)."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest

from unetlab.data.io import write_png, write_tiff
from unetlab.data.pairs import find_pairs, masks_beside_images
from unetlab.data.read_notes import read_notes
from unetlab.errors import DatasetError

APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        "


def _pair(root, stem, images="images", masks="masks"):
    (root / images).mkdir(parents=True, exist_ok=True)
    (root / masks).mkdir(parents=True, exist_ok=True)
    write_tiff(root / images / f"{stem}.tif", np.full((8, 8), 50, np.uint8))
    mask = np.zeros((8, 8), np.uint8)
    mask[2:5, 2:5] = 255
    write_png(root / masks / f"{stem}.png", mask)


def test_sub_folders_of_images_and_masks_are_named(tmp_path, caplog):
    _pair(tmp_path, "a")
    _pair(tmp_path, "b", "images/day2", "masks/day2")
    _pair(tmp_path, "c", "images/day2", "masks/day2")
    with caplog.at_level(logging.WARNING), read_notes():
        pairs = find_pairs(tmp_path)
        find_pairs(tmp_path)  # searched again in one command: said once
    assert [p.name for p in pairs] == ["a"]
    lines = [r.getMessage() for r in caplog.records if "day2/" in r.getMessage()]
    assert len(lines) == 2, lines
    assert "day2/ (2 image files) is not read" in lines[0]
    assert "move their files up" in lines[0]


def test_macos_metadata_twins_are_passed_over(tmp_path):
    _pair(tmp_path, "a")
    _pair(tmp_path, "b")
    (tmp_path / "images" / "._a.tif").write_bytes(APPLE_DOUBLE)
    (tmp_path / "masks" / "._a.png").write_bytes(APPLE_DOUBLE)
    assert [p.name for p in find_pairs(tmp_path)] == ["a", "b"]


def test_macos_metadata_twins_in_a_flat_folder_are_passed_over(tmp_path):
    write_tiff(tmp_path / "a.tif", np.zeros((8, 8), np.uint8))
    write_png(tmp_path / "a_masks.png", np.zeros((8, 8), np.uint8))
    (tmp_path / "._a.tif").write_bytes(APPLE_DOUBLE)
    (tmp_path / "._a_masks.png").write_bytes(APPLE_DOUBLE)
    assert [p.name for p in find_pairs(tmp_path)] == ["a"]


def test_names_in_nfd_and_nfc_pair(tmp_path):
    _pair(tmp_path, "Zelle e\u0301")  # NFD, as macOS writes it
    (tmp_path / "masks" / "Zelle e\u0301.png").rename(tmp_path / "masks" / "Zelle \u00e9.png")
    pairs = find_pairs(tmp_path)
    assert [p.mask.name for p in pairs] == ["Zelle \u00e9.png"]
    assert find_pairs(tmp_path, names=["Zelle \u00e9"]) == pairs


@pytest.mark.parametrize(
    "suffix",
    [
        "_mask",
        "_masks",
        "_label",
        "_labels",
        "_cp_masks",
        "-mask",
        "_Mask",
        " labels",
        "_seg",
        "-gt",
    ],
)
def test_predict_passes_over_the_common_mask_names(tmp_path, suffix):
    files = [tmp_path / "a.tif", tmp_path / f"a{suffix}.png", tmp_path / "b.tif"]
    assert masks_beside_images(files) == [tmp_path / f"a{suffix}.png"]


def _error(root) -> str:
    with pytest.raises(DatasetError) as err:
        find_pairs(root)
    return str(err.value)


def test_capitalised_folders_are_a_data_set(tmp_path):
    """Images/ + Masks/ were refused with a rename line (audit s35 messy); now read
    (tests/test_folder_names.py has the rest)."""
    _pair(tmp_path, "a", "Images", "Masks")
    assert [p.mask for p in find_pairs(tmp_path)] == [tmp_path / "Masks" / "a.png"]


def test_a_labels_folder_is_the_masks(tmp_path):
    _pair(tmp_path, "a", "images", "labels")
    assert [p.mask for p in find_pairs(tmp_path)] == [tmp_path / "labels" / "a.png"]


@pytest.mark.parametrize(
    "suffix", ["_mask", "_label", "_labels", "-mask", " Mask", "_MASK", ".label", "_seg", "_GT"]
)
def test_flat_mask_files_are_a_data_set(tmp_path, suffix):
    """X_mask.png beside X.tif pairs as X_masks.png does (predict's rule; audit s35 messy 1:
    train said to rename them)."""
    for stem in ("a", "b"):
        write_tiff(tmp_path / f"{stem}.tif", np.zeros((8, 8), np.uint8))
        write_png(tmp_path / f"{stem}{suffix}.png", np.zeros((8, 8), np.uint8))
    pairs = find_pairs(tmp_path)
    assert [(p.image.name, p.mask.name) for p in pairs] == [
        ("a.tif", f"a{suffix}.png"),
        ("b.tif", f"b{suffix}.png"),
    ]


def test_flat_mask_files_problems_name_the_folders_own_mask_name(tmp_path):
    for stem in ("a", "b", "c"):
        write_tiff(tmp_path / f"{stem}.tif", np.zeros((8, 8), np.uint8))
    write_png(tmp_path / "a_mask.png", np.zeros((8, 8), np.uint8))
    write_png(tmp_path / "d_mask.png", np.zeros((8, 8), np.uint8))  # its image is missing
    write_png(tmp_path / "a_label.png", np.zeros((8, 8), np.uint8))  # a second mask of a
    message = _error(tmp_path)
    assert "b.tif: no mask b_label.* or b_mask.* beside it" in message
    assert "d_mask.png: mask without an image d.* beside it" in message
    assert "a has 2 masks (a_label, a_mask)" in message
    (tmp_path / "a_label.png").unlink()
    message = _error(tmp_path)
    assert "b.tif: no mask b_mask.* beside it" in message


def test_an_image_named_like_a_mask_alone_is_no_mask(tmp_path):
    """``x_label.tif`` with no ``x.*`` beside it, in a folder whose masks are X_masks: an
    image (the name _label is not the folder's mask name)."""
    for stem in ("a", "x_label"):
        write_tiff(tmp_path / f"{stem}.tif", np.zeros((8, 8), np.uint8))
        write_png(tmp_path / f"{stem}_masks.png", np.zeros((8, 8), np.uint8))
    assert [p.image.name for p in find_pairs(tmp_path)] == ["a.tif", "x_label.tif"]


def test_image_subfolders_leave_out_hidden_and_output_folders(tmp_path):
    """A folder's images that unetlab wrote (its manifest lists them) are no inputs left
    out; the user's images beside them are (a folder holding a manifest was passed over
    whole: audit s37 paths C)."""
    from unetlab.data.folder_notes import image_subfolders

    for sub in ("day2", "day3/deeper", ".hidden", "preds", "empty", "mixed"):
        (tmp_path / sub).mkdir(parents=True)
    for name in ("day2/a.tif", "day2/._a.tif", "day3/deeper/b.PNG", ".hidden/c.png", "preds/d.png"):
        (tmp_path / name).write_bytes(b"x")
    for name in ("mixed/e.png", "mixed/mine.png"):
        (tmp_path / name).write_bytes(b"x")
    for sub, name in (("preds", "d.png"), ("mixed", "e.png")):
        (tmp_path / sub / ".unetlab-outputs").write_text(f"{name}\tpredict\n")
    found = image_subfolders(tmp_path, (".tif", ".png"))
    assert found == {tmp_path / "day2": 1, tmp_path / "day3": 1, tmp_path / "mixed": 1}


def test_masks_named_with_a_mask_suffix_are_said_with_the_rename(tmp_path):
    _pair(tmp_path, "a")
    _pair(tmp_path, "img_001")
    _pair(tmp_path, "img_002")
    (tmp_path / "masks" / "img_001.png").rename(tmp_path / "masks" / "img_001_mask.png")
    (tmp_path / "masks" / "img_002.png").rename(tmp_path / "masks" / "img_002_label.png")
    message = _error(tmp_path)
    assert message.startswith("2 problems")
    assert "masks/img_001_mask.png: looks like the mask of image img_001: rename it " in message
    assert "masks/img_002_label.png: looks like the mask of image img_002: rename it " in message
    assert "no mask in" not in message and "without an image" not in message


def _flat_binary(root, stems, suffix="_mask"):
    rng = np.random.default_rng(0)
    for stem in stems:
        write_png(root / f"{stem}.png", rng.integers(0, 255, (32, 32), np.uint8))
        write_png(root / f"{stem}{suffix}.png", np.tile([0, 255], (32, 16)).astype(np.uint8))


def test_train_check_reads_a_flat_folder_of_x_mask_files(tmp_path, caplog):
    from unetlab.cli import main

    _flat_binary(tmp_path / "data", ["00", "01", "02", "03"])
    caplog.set_level("INFO")
    args = ["train", "--data", str(tmp_path / "data"), "--check", "--set", "model.depth=2"]
    assert main(args) == 0
    assert "check: 3 training and 1 validation images, classes 0, 255" in caplog.text


def test_evaluate_pred_scores_against_a_flat_folder_of_x_mask_files(tmp_path):
    """The masks of a flat data folder are its X_mask files, not every image in it."""
    from unetlab.evaluate import evaluate_predictions

    _flat_binary(tmp_path / "gt", ["a", "b"])
    for stem in ("a", "b"):
        write_png(tmp_path / "pred" / f"{stem}.png", np.tile([0, 1], (32, 16)).astype(np.uint8))
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 255])
    assert [row["name"] for row in report.images] == ["a", "b"]
    assert report.to_dict()["miou"] == 1.0


@pytest.mark.parametrize("pred_form", ["NFC", "NFD"])
def test_evaluate_pred_pairs_names_in_nfd_and_nfc(tmp_path, pred_form):
    """A prediction named in one Unicode form scores the mask named in the other (macOS
    writes NFD; audit s35 messy 2), in a folder of masks and in a data folder."""
    import unicodedata

    from unetlab.evaluate import evaluate_predictions

    name = "Zelle \u00e9"  # NFC
    pred_name = unicodedata.normalize(pred_form, name)
    gt_name = unicodedata.normalize("NFD" if pred_form == "NFC" else "NFC", name)
    mask = np.tile([0, 1], (8, 4)).astype(np.uint8)
    write_png(tmp_path / "pred" / f"{pred_name}.png", mask)
    write_png(tmp_path / "gt" / f"{gt_name}.png", mask)
    _pair(tmp_path / "data", gt_name)
    write_png(tmp_path / "data" / "masks" / f"{gt_name}.png", mask)
    for gt in ("gt", "data"):
        report = evaluate_predictions(tmp_path / "pred", tmp_path / gt)
        assert len(report.images) == 1 and report.to_dict()["miou"] == 1.0


@pytest.mark.parametrize("name", ["data.zip", "data.tar.gz"])
def test_an_archive_given_as_the_data_folder_says_to_unpack_it(tmp_path, name):
    (tmp_path / name).write_bytes(b"PK\x03\x04")
    message = _error(tmp_path / name)
    assert message == (
        f"{tmp_path / name} is an archive, not a data folder: unpack it (double-click it, or "
        "unzip / tar -xf) and give find_pairs' root the folder it holds"  # Python's (s57)
    )


def test_evaluate_given_an_archive_says_to_unpack_it(tmp_path, capsys):
    """evaluate said 'no such folder' of a zip file that is there."""
    from unetlab.cli import main
    from unetlab.evaluate.masks import evaluation_pairs

    (tmp_path / "gt.zip").write_bytes(b"PK\x03\x04")
    (tmp_path / "pred").mkdir()
    assert main(["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt.zip")])
    assert "gt.zip is an archive, not a data folder: unpack it" in capsys.readouterr().err
    said = r"gt.zip is an archive, .* give {} the folder"
    with pytest.raises(DatasetError, match=said.format("evaluation_pairs' path")) as err:
        evaluation_pairs(tmp_path / "gt.zip")  # a direct call: its argument (s58)
    assert re.search(said.format("--data"), err.value.cli)  # evaluate --data's


@pytest.mark.parametrize("given", ["images", "masks"])
def test_the_images_folder_given_as_the_data_folder_names_its_data_set(tmp_path, given):
    _pair(tmp_path, "a")
    message = _error(tmp_path / given)
    assert message == (
        f"{tmp_path / given}: this is the {given}/ folder of the data set {tmp_path}: give "
        f"find_pairs' root {tmp_path} (the folder that holds images/ and masks/)"  # Python's
    )


def test_masks_named_as_their_images_but_for_case_or_spaces_are_said_so(tmp_path):
    for stem in ("IMG_0", "IMG_1", "b "):
        _pair(tmp_path, stem)
    for stem in ("IMG_0", "IMG_1", "b "):
        (tmp_path / "masks" / f"{stem}.png").rename(
            tmp_path / "masks" / f"{stem.strip().lower()}.png"
        )
    message = _error(tmp_path)
    assert message.startswith("3 problems")
    assert "masks/img_0.png: its name and its image's differ only in letter case or spaces" in (
        message
    )
    assert "masks/b.png: its name and its image's differ only" in message
    assert "no mask in" not in message and "without an image" not in message


def test_evaluate_gt_of_a_labels_data_set_or_a_data_sets_images(tmp_path):
    """evaluate --gt of a data set's images/ read its images as masks; of a folder holding
    labels/ it said 'no masks found' alone (then the rename; now it is read)."""
    from unetlab.evaluate import evaluate_predictions

    _pair(tmp_path / "data", "a")
    _pair(tmp_path / "near", "a", "images", "labels")
    write_png(tmp_path / "pred" / "a.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(DatasetError) as err:
        evaluate_predictions(tmp_path / "pred", tmp_path / "data" / "images")
    assert str(err.value) == (
        f"{tmp_path / 'data' / 'images'}: this is the images/ folder of the data set "
        f"{tmp_path / 'data'}, not its masks: give gt_dir {tmp_path / 'data'}"
    )  # evaluate_predictions' argument (s48: --gt, a flag a notebook has not)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "near", label_values=[0, 255])
    assert [row["name"] for row in report.images] == ["a"]
    report = evaluate_predictions(
        tmp_path / "pred", tmp_path / "data" / "masks", label_values=[0, 255]
    )
    assert len(report.images) == 1  # a data set's masks/ folder is a folder of masks


def test_a_tilde_the_shell_left_alone_is_the_home_folder(tmp_path, monkeypatch, caplog):
    """--data=~/cells: the shell expands no ~ after '=' (it was read as ./~/cells)."""
    from unetlab.cli import main

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path / "..")
    _flat_binary(tmp_path / "cells", ["00", "01", "02", "03"], "_masks")
    for stem in ("00", "01", "02", "03"):
        write_png(tmp_path / "pred" / f"{stem}.png", np.tile([0, 1], (32, 16)).astype(np.uint8))
    caplog.set_level("INFO")
    assert main(["train", "--data=~/cells", "--check", "--set", "model.depth=2"]) == 0
    assert main(["evaluate", "--pred=~/pred", "--gt=~/cells", "--label-values", "0", "255"]) == 0
    assert "check: 3 training and 1 validation images" in caplog.text


def test_cellpose_masks_alone_are_masks_as_cellpose_spells_them_only(tmp_path):
    """``d_masks`` without ``d.*`` is a mask missing its image (cellpose's name); ``Blue-Masks``
    alone, another spelling, is an image of that name."""
    from unetlab.data.pairs import flat_masks

    assert flat_masks(["a", "a_masks", "d_masks", "Blue-Masks"]) == {"a_masks": "a", "d_masks": "d"}
    assert flat_masks(["a", "a-Masks", "Blue-Masks"]) == {"a-Masks": "a", "Blue-Masks": "Blue"}


def test_a_folder_of_masks_per_class_is_said_with_the_merge(tmp_path, caplog):
    """masks/nuclei/a.png + masks/cells/a.png: 'move their files up' was the advice (names
    that collide); the fix is one label image per image."""
    for cls in ("nuclei", "cells"):
        _pair(tmp_path, "a", "images", f"masks/{cls}")
        _pair(tmp_path, "b", "images", f"masks/{cls}")
    with caplog.at_level(logging.WARNING), read_notes():
        message = _error(tmp_path)
    assert message == (
        f"1 problem in {tmp_path}: {tmp_path / 'masks'}/: no masks, but a folder of them "
        "per class (cells/, nuclei/): a mask holds every class of its image (0 background, "
        "1, 2, ...): merge each image's masks into one label image in masks/ (e.g. cells = 1, "
        "nuclei = 2), named as the image"
    )
    assert "move their files up" not in caplog.text


def test_an_image_and_its_mask_of_one_name_side_by_side_are_named(tmp_path):
    for stem in ("a", "b"):
        write_png(tmp_path / f"{stem}.png", np.zeros((8, 8), np.uint8))
        write_tiff(tmp_path / f"{stem}.tif", np.zeros((8, 8), np.uint8))
    assert "found 2 names with two files (a.png, a.tif): if one of each is the mask, move " in (
        _error(tmp_path)
    )


def _binary(path, value=255):
    write_png(path, (np.tile([0, 1], (8, 4)) * value).astype(np.uint8))


def test_evaluate_pred_scores_a_folder_of_x_mask_files(tmp_path):
    """--gt masks/ of a_mask.png, b_mask.png against predict's a.png, b.png: 'no prediction
    for a_mask, b_mask' was the answer."""
    from unetlab.evaluate import evaluate_predictions

    for stem in ("a", "b", "x"):
        _binary(tmp_path / "gt" / f"{stem}_mask.png")
        _binary(tmp_path / "pred" / f"{stem}.png", 1)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 255])
    assert len(report.images) == 3 and report.to_dict()["miou"] == 1.0
    # a data set's images x and x_label: x_label's mask is not scored against x's prediction
    _pair(tmp_path / "data", "x")
    _pair(tmp_path / "data", "x_label")
    with pytest.raises(DatasetError, match=r"for 1 ground-truth file: x_label;"):
        evaluate_predictions(tmp_path / "pred", tmp_path / "data", label_values=[0, 255])


def test_evaluate_pred_names_predictions_no_mask_is_named_as(tmp_path):
    from unetlab.evaluate import evaluate_predictions

    for stem in ("a", "b"):
        _binary(tmp_path / "gt" / f"{stem}.png")
        _binary(tmp_path / "pred" / f"{stem}_unet.png", 1)  # (_pred pairs: test_folder_names)
    with pytest.raises(DatasetError) as err:
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 255])
    assert str(err.value).startswith(
        f"no prediction in {tmp_path / 'pred'} (it holds a_unet, b_unet, which no mask is named "
        "as) for 2 ground-truth files: a, b; "
    )


def test_evaluate_pred_names_the_endings_of_predictions_and_masks(tmp_path):
    """Cityscapes' names: predictions of X_leftImg8bit.png beside masks X_gtFine_color.png
    are named with both endings and the rename, not by the generic naming rule (s66 new
    user: 'predictions are named <stem>.png ... like their masks', which they were not)."""
    from unetlab.evaluate import evaluate_predictions

    for stem in ("aachen_000000", "aachen_000001"):
        _binary(tmp_path / "gt" / f"{stem}_gtFine_color.png")
        _binary(tmp_path / "pred" / f"{stem}_leftImg8bit.png", 1)
    with pytest.raises(DatasetError) as err:
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 255])
    assert (
        "the predictions are named <stem>_leftImg8bit (aachen_000000_leftImg8bit), their masks "
        "<stem>_gtFine_color (aachen_000000_gtFine_color): rename the masks <stem>_leftImg8bit"
    ) in str(err.value)


def test_flat_masks_naming_their_image_in_another_case_are_named(tmp_path):
    for stem in ("IMG_01", "IMG_02"):
        write_tiff(tmp_path / f"{stem}.tif", np.zeros((8, 8), np.uint8))
        write_png(tmp_path / f"{stem.lower()}_mask.png", np.zeros((8, 8), np.uint8))
    assert (
        "found 2 masks whose image's name differs in letter case (img_01_mask.png beside "
        "IMG_01.tif): rename them to match"
    ) in _error(tmp_path)


@pytest.mark.parametrize("inner", ["masks", "Labels"])
def test_masks_inside_images_are_named_with_the_move(tmp_path, inner):
    """images/masks/ (the masks saved inside the images' folder, audit s41 audittrain): the
    "no data set found" line says where the masks are and to move them up."""
    for stem in ("a", "b"):
        _pair(tmp_path, stem, "images", f"images/{inner}")
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    message = str(info.value)
    assert "no data set found" in message and "\n" not in message
    assert f"images/{inner}/ (2 files) lies inside images/: move it up beside images/" in message


def test_images_without_masks_folder_says_so(tmp_path):
    (tmp_path / "images").mkdir()
    for stem in ("a", "b"):
        write_tiff(tmp_path / "images" / f"{stem}.tif", np.full((8, 8), 50, np.uint8))
    with pytest.raises(DatasetError, match=r"images/ \(2 files\) has no masks/ beside it"):
        find_pairs(tmp_path)


def test_empty_images_and_masks_folders_say_what_to_put_there(tmp_path):
    """images/ and masks/ made but not filled (or holding only .DS_Store): "no image/mask
    pairs found" named no fix (audit s41 audittrain)."""
    (tmp_path / "images").mkdir()
    (tmp_path / "Masks").mkdir()
    (tmp_path / "images" / ".DS_Store").write_bytes(b"\0" * 8)
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    assert str(info.value) == (
        f"{tmp_path}: no image/mask pairs found: images/ and Masks/ hold no image files; put "
        "each image in images/ and its mask, of the same file name, in Masks/"
    )


def test_a_data_sets_images_folder_is_named_as_the_caller_gave_it(tmp_path, capsys):
    """A data set's images/ given as the predictions or the ground truth: evaluate_predictions
    names its arguments (it said --pred and --gt from Python too), the command its flags."""
    from unetlab.cli import main
    from unetlab.evaluate import evaluate_predictions

    _pair(tmp_path / "data", "a")
    images, masks = tmp_path / "data" / "images", tmp_path / "data" / "masks"
    with pytest.raises(DatasetError, match="not predictions: give pred_dir the folder unetlab"):
        evaluate_predictions(images, masks)
    assert main(["evaluate", "--pred", str(images), "--gt", str(masks)]) == 2
    assert "not predictions: give --pred the folder" in capsys.readouterr().err
    assert main(["evaluate", "--pred", str(masks), "--gt", str(images)]) == 2
    assert f"not its masks: give --gt {tmp_path / 'data'}" in capsys.readouterr().err
