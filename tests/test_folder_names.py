"""Data-set folders as other tools name them (Images/ + Masks/, labels/, gt/, ...), read
wherever a data set is read, refused in one line only where two folders could play one part;
the one "differ only in case" rule (:func:`unetlab.data.names.loose`)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from unetlab.data.io import write_png, write_tiff
from unetlab.data.pairs import find_pairs
from unetlab.errors import DatasetError


def _pair(root, stem, images="images", masks="masks", size=8):
    (root / images).mkdir(parents=True, exist_ok=True)
    (root / masks).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(stem))
    write_tiff(root / images / f"{stem}.tif", rng.integers(0, 255, (size, size), np.uint8))
    write_png(root / masks / f"{stem}.png", np.tile([0, 255], (size, size // 2)).astype(np.uint8))


@pytest.mark.parametrize(
    "images, masks",
    [
        ("Images", "Masks"),
        ("IMAGES", "MASKS"),
        ("images", "labels"),
        ("Images", "Labels"),
        ("images", "gt"),
        ("img", "GT"),
        ("images", "annotations"),
        ("image", "mask"),
    ],
)
def test_folders_named_by_other_tools_are_a_data_set(tmp_path, images, masks):
    for stem in ("a", "b"):
        _pair(tmp_path, stem, images, masks)
    pairs = find_pairs(tmp_path)
    assert [(p.image, p.mask) for p in pairs] == [
        (tmp_path / images / f"{s}.tif", tmp_path / masks / f"{s}.png") for s in ("a", "b")
    ]


def test_an_instances_folder_in_capitals_is_read(tmp_path):
    from unetlab.data.pairs import detect_layout

    _pair(tmp_path, "a", "Images", "Instances")
    assert detect_layout(tmp_path) == "instances"
    assert find_pairs(tmp_path)[0].mask == tmp_path / "Instances" / "a.png"


def test_problems_name_the_folders_as_they_are_named(tmp_path):
    _pair(tmp_path, "a", "Images", "Labels")
    write_tiff(tmp_path / "Images" / "b.tif", np.zeros((8, 8), np.uint8))
    with pytest.raises(DatasetError, match=r"Images/b.tif: no mask in .*/Labels/ with this name"):
        find_pairs(tmp_path)


@pytest.mark.parametrize(
    "folders, named",
    [
        (("images", "Images", "masks"), "Images/ and images/ could each be the data set's images/"),
        (("images", "masks", "labels"), "labels/ and masks/ could each be the data set's masks/"),
        (("Images", "Masks", "GT"), "GT/ and Masks/ could each be the data set's masks/"),
    ],
)
def test_two_folders_of_one_part_are_refused_naming_both(tmp_path, folders, named):
    """On Linux images/ and Images/ are two folders (a case-insensitive file system has one):
    which one holds the data set would be a guess."""
    for folder in folders:
        (tmp_path / folder).mkdir()
        write_png(tmp_path / folder / "a.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(DatasetError) as err:
        find_pairs(tmp_path)
    assert str(err.value) == (
        f"{tmp_path}: {named} folder (names are read in any letter case, masks/ also as "
        "labels/, gt/, ...): keep one, moving the files of the other into it"
    )


def test_a_labels_folder_without_images_beside_masks_is_left_alone(tmp_path):
    """masks/ beside a labels/ of YOLO text files: the masks/ are read, as before."""
    _pair(tmp_path, "a")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    assert find_pairs(tmp_path)[0].mask == tmp_path / "masks" / "a.png"


def test_train_val_and_the_data_sets_parts_in_capitals(tmp_path):
    from unetlab.data.datasets import data_folders, split_pairs

    for split in ("train", "val"):
        _pair(tmp_path / split, "a", "Images", "Labels")
    train, val = split_pairs(tmp_path)
    assert train[0].mask == tmp_path / "train" / "Labels" / "a.png"
    assert val[0].mask == tmp_path / "val" / "Labels" / "a.png"
    assert data_folders(tmp_path) == [
        tmp_path / s / d for s in ("train", "val") for d in ("Images", "Labels")
    ]


def test_a_capitalised_images_folder_given_names_its_data_set(tmp_path):
    _pair(tmp_path, "a", "Images", "Labels")
    with pytest.raises(DatasetError) as err:
        find_pairs(tmp_path / "Images")
    assert err.value.cli == (  # the command line's; Python's names find_pairs' root (s57)
        f"{tmp_path / 'Images'}: this is the Images/ folder of the data set {tmp_path}: give "
        f"--data {tmp_path} (the folder that holds Images/ and Labels/)"
    )


def test_train_check_reads_images_and_labels_folders(tmp_path, caplog):
    from unetlab.cli import main

    for stem in ("00", "01", "02", "03"):
        _pair(tmp_path / "data", stem, "Images", "Labels", size=32)
    caplog.set_level("INFO")
    args = ["train", "--data", str(tmp_path / "data"), "--check", "--set", "model.depth=2"]
    assert main(args) == 0
    assert "check: 3 training and 1 validation images, classes 0, 255" in caplog.text


def test_evaluate_reads_images_and_labels_folders(tmp_path):
    """--gt a data set of Images/ + Labels/, or its Labels/ alone (its images known beside
    it), or its Images/ (refused: images are no masks)."""
    from unetlab.evaluate import evaluate_predictions
    from unetlab.evaluate.masks import evaluation_pairs, ground_truth

    for stem in ("a", "b"):
        _pair(tmp_path / "data", stem, "Images", "Labels")
        write_png(tmp_path / "pred" / f"{stem}.png", np.tile([0, 1], (8, 4)).astype(np.uint8))
    assert len(evaluation_pairs(tmp_path / "data")) == 2
    for gt in ("data", "data/Labels"):
        report = evaluate_predictions(tmp_path / "pred", tmp_path / gt, label_values=[0, 255])
        assert len(report.images) == 2 and report.to_dict()["miou"] == 1.0
    pages = ground_truth(tmp_path / "data" / "Labels").pages
    assert next(pages).image == tmp_path / "data" / "Images" / "a.tif"
    with pytest.raises(DatasetError, match=r"this is the Images/ folder of the data set"):
        evaluate_predictions(tmp_path / "pred", tmp_path / "data" / "Images")


def test_predict_given_a_data_set_root_names_its_images_folder(tmp_path):
    from unetlab.errors import UnetlabError
    from unetlab.inference.folders import find_inputs

    _pair(tmp_path, "a", "Images", "Labels")
    with pytest.raises(UnetlabError) as err:
        find_inputs(tmp_path)
    assert str(err.value).endswith(
        f"it looks like a data set: give {tmp_path / 'Images'} to predict its images"
    )


def test_one_rule_for_names_that_differ_only_in_case_or_end_spaces(tmp_path):
    """A flat folder's masks naming their image in another case and an images/ + masks/
    data set's masks named so were told by two checks, one of which kept end spaces
    (``IMG_01 .tif`` beside ``img_01_mask.png`` was not named); one rule now
    (:func:`unetlab.data.names.loose`)."""
    from unetlab.data.names import loose

    assert loose("IMG_01 ") == loose(" img_01") == "img_01"
    flat = tmp_path / "flat"
    flat.mkdir()
    for stem in ("IMG_01 ", "IMG_02 "):
        write_tiff(flat / f"{stem}.tif", np.zeros((8, 8), np.uint8))
        write_png(flat / f"{stem.strip().lower()}_mask.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(DatasetError) as err:
        find_pairs(flat)
    assert "found 2 masks whose image's name differs in letter case (img_01_mask.png" in (
        str(err.value)
    )
    for stem in ("IMG_01 ", "IMG_02 "):
        _pair(tmp_path / "data", stem)
        (tmp_path / "data" / "masks" / f"{stem}.png").rename(
            tmp_path / "data" / "masks" / f"{stem.strip().lower()}.png"
        )
    with pytest.raises(DatasetError) as err:
        find_pairs(tmp_path / "data")
    assert "masks/img_01.png: its name and its image's differ only in letter case" in (
        str(err.value)
    )


def _binary(path, value=255):
    path.parent.mkdir(parents=True, exist_ok=True)
    mask = (np.tile([0, 1], (8, 4)) * value).astype(np.uint8)
    (write_tiff if path.suffix == ".tif" else write_png)(path, mask)


def _evaluate(tmp_path, gt="gt"):
    from unetlab.evaluate import evaluate_predictions

    return evaluate_predictions(tmp_path / "pred", tmp_path / gt, label_values=[0, 255])


def test_evaluate_pred_pairs_predictions_named_as_other_tools_name_them(tmp_path, caplog):
    """X_pred.png, X_prediction.tif, X-Seg.png, ... beside no X.png score X's mask (they
    were only named in the error, audit s35 messy)."""
    names = ["a_pred.png", "b_prediction.tif", "c-Seg.png", "d_predicted.png", "e.png"]
    for name in names:
        _binary(tmp_path / "gt" / f"{name[0]}.png")
        _binary(tmp_path / "pred" / name, 1)
    caplog.set_level("INFO")
    report = _evaluate(tmp_path)
    assert [r["name"] for r in report.images] == ["a", "b", "c", "d", "e"]
    assert report.to_dict()["miou"] == 1.0
    assert "predictions named as other tools name them (a_pred for the mask a" in caplog.text
    read = report.source["prediction_files"]["file_sha256"]
    assert sorted(read) == sorted(names), read


def test_evaluate_pred_pairs_them_with_x_mask_files_and_a_data_folder(tmp_path):
    for stem in ("a", "b"):
        _binary(tmp_path / "gt" / f"{stem}_mask.png")
        _binary(tmp_path / "pred" / f"{stem}_pred.png", 1)
        _pair(tmp_path / "data", stem)
    assert _evaluate(tmp_path).to_dict()["miou"] == 1.0
    assert len(_evaluate(tmp_path, "data").images) == 2


def test_evaluate_pred_pairs_only_unambiguous_names(tmp_path):
    """a_pred beside a_seg: which one is a's prediction would be a guess; b beside b_pred:
    b is; c_pred where a mask is named c_pred itself: it is that mask's."""
    from unetlab.evaluate import evaluate_predictions

    for name in ("a_pred", "a_seg", "b", "b_pred", "c_pred"):
        _binary(tmp_path / "pred" / f"{name}.png", 1)
    for stem in ("b", "c_pred"):
        _binary(tmp_path / "gt" / f"{stem}.png")
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 255])
    assert [r["name"] for r in report.images] == ["b", "c_pred"]
    assert sorted(report.source["prediction_files"]["file_sha256"]) == ["b.png", "c_pred.png"]
    _binary(tmp_path / "gt" / "a.png")
    with pytest.raises(DatasetError, match=r"it holds a_pred, a_seg, b_pred, which no mask"):
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 255])


def test_train_and_val_folders_in_capitals_are_the_split(tmp_path, caplog):
    """Train/ + Val/ were 'no data set in the folder itself, but Train/, Val/ hold one'
    (with 'train --data ROOT reads train/ with val/'); evaluate --data ROOT missed Val/."""
    from unetlab.data.datasets import data_folders, split_pairs
    from unetlab.evaluate.masks import evaluation_pairs

    for split, stems in (("Train", ["a", "b"]), ("Val", ["c"])):
        for stem in stems:
            _pair(tmp_path / split, stem, "Images", "Masks")
    caplog.set_level("INFO")
    train, val = split_pairs(tmp_path)
    assert [p.name for p in train] == ["a", "b"] and [p.name for p in val] == ["c"]
    assert "using the split of" in caplog.text and "Train/ and Val/" in caplog.text
    assert [p.name for p in evaluation_pairs(tmp_path)] == ["c"]
    assert data_folders(tmp_path)[0] == tmp_path / "Train" / "Images"
    (tmp_path / "Val").rename(tmp_path / "Test")
    with pytest.raises(DatasetError) as err:
        find_pairs(tmp_path)
    assert re.search(r"give --data .*/Test \(train --data", err.value.cli)  # the command's
    assert re.search(r"give find_pairs' root .*/Test \(fit", str(err.value))  # s57


def test_an_instances_folder_in_capitals_holds_object_ids(tmp_path):
    """Instances/ is read as instances/ is: its masks hold object ids (the scan said no)."""
    from unetlab.data.datasets import scan_masks

    _pair(tmp_path, "a", "Images", "Instances")
    assert scan_masks(find_pairs(tmp_path)).instance_folder


def test_the_plan_reads_an_instances_folder_in_capitals_as_object_ids(tmp_path):
    from unetlab.data.fingerprint import fingerprint

    ids = np.zeros((16, 16), np.uint8)
    ids[1:5, 1:5], ids[8:12, 2:6], ids[3:7, 9:13] = 1, 2, 3
    found = {}
    for folder in ("instances", "Instances"):
        root = tmp_path / folder
        for stem in ("a", "b"):
            _pair(root, stem, "images", folder, size=16)
            write_png(root / folder / f"{stem}.png", ids)
        found[folder] = fingerprint(find_pairs(root)).instances
    assert found == {"instances": True, "Instances": True}


def test_a_masks_folder_of_other_files_is_said_once(tmp_path):
    """images/ + COCO's annotations/ (JSON): one line, not 'no mask' for each image."""
    for stem in ("a", "b"):
        _pair(tmp_path, stem, "images", "annotations")
        (tmp_path / "annotations" / f"{stem}.png").unlink()
    (tmp_path / "annotations" / "instances_train.json").write_text("{}")
    with pytest.raises(DatasetError) as err:
        find_pairs(tmp_path)
    assert str(err.value) == (
        f"1 problem in {tmp_path}: {tmp_path / 'annotations'}/: no masks, but 1 other "
        "file (instances_train.json): masks are label images (PNG or TIFF, 0 background, "
        "1, 2, ... or 0/255) or outlines (Fiji's RoiSet.zip, QuPath's .geojson), one per "
        "image, named as the image"
    )


@pytest.mark.parametrize(
    "train_name, val_name",
    [
        ("training", "validation"),
        ("Training", "Validation"),
        ("train", "valid"),
        ("TRAINING", "val"),
    ],
)
def test_train_and_val_folders_as_other_tools_name_them_are_the_split(
    tmp_path, caplog, train_name, val_name
):
    """training/ + validation/ (valid/) were 'no data set in the folder itself, but
    training/, validation/ hold one'; evaluate --data ROOT scored both."""
    from unetlab.data.datasets import data_folders, split_pairs
    from unetlab.evaluate.masks import evaluation_pairs

    for split, stems in ((train_name, ["a", "b"]), (val_name, ["c"])):
        for stem in stems:
            _pair(tmp_path / split, stem)
    caplog.set_level("INFO")
    train, val = split_pairs(tmp_path)
    assert [p.name for p in train] == ["a", "b"] and [p.name for p in val] == ["c"]
    assert f"{train_name}/ and {val_name}/" in caplog.text
    assert [p.name for p in evaluation_pairs(tmp_path)] == ["c"]
    assert data_folders(tmp_path)[0] == tmp_path / train_name / "images"


def test_a_testing_folder_is_the_one_named_for_evaluation(tmp_path):
    for split in ("Training", "testing"):
        _pair(tmp_path / split, "a")
    with pytest.raises(DatasetError) as err:
        find_pairs(tmp_path)
    assert re.search(r"give --data .*/testing \(train --data", err.value.cli)  # the command's
    assert re.search(r"give find_pairs' root .*/testing \(fit", str(err.value))  # s57


@pytest.mark.parametrize(
    "folders, named",
    [
        (("train", "training", "val"), "train/ and training/ could each be the data set's train/"),
        (("train", "val", "Validation"), "Validation/ and val/ could each be the data set's val/"),
        (("train", "valid", "validation"), "valid/ and validation/ could each be the data set's"),
    ],
)
def test_two_folders_of_one_split_part_are_refused_naming_both(tmp_path, folders, named):
    """train/ beside training/ (both holding a data set): which trains was a guess (train/
    was taken, training/'s images left out unsaid)."""
    from unetlab.data.datasets import split_pairs

    for folder in folders:
        _pair(tmp_path / folder, "a")
    with pytest.raises(DatasetError, match=named) as err:
        split_pairs(tmp_path)
    assert "val/ also as validation/, valid/" in str(err.value) or "train/ also as" in str(
        err.value
    )


def test_an_empty_split_folder_beside_its_part_is_passed_over(tmp_path):
    from unetlab.data.datasets import split_pairs

    for split, stem in (("train", "a"), ("val", "b")):
        _pair(tmp_path / split, stem)
    (tmp_path / "validation").mkdir()
    (tmp_path / "validation" / ".DS_Store").write_bytes(b"")
    train, val = split_pairs(tmp_path)
    assert [p.name for p in val] == ["b"]


def test_predict_given_a_data_set_root_names_its_test_folder_too(tmp_path):
    """ds/images + ds/masks + ds/test: the line listed test/ but said 'give ds/images'
    alone; it names both, and --recursive, which predicts both (s38)."""
    from unetlab.errors import UnetlabError
    from unetlab.inference.folders import find_inputs

    _pair(tmp_path, "a", "images", "masks")
    write_png(tmp_path / "test" / "c.png", np.zeros((8, 8), np.uint8))
    with pytest.raises(UnetlabError) as err:
        find_inputs(tmp_path)
    assert str(err.value).endswith(
        f"it looks like a data set: give {tmp_path / 'images'} or {tmp_path / 'test'} to "
        "predict its images, or use predict_tree to predict them all, their outputs in the "
        "same sub-folders of the output folder"
    )
