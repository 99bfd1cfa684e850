"""Label files beside their image in a folder given to predict (an ISBI pair
``train-volume.tif`` + ``train-labels.tif``, ``X_image`` + ``X_mask``) are passed over in one
line, by the rule training pairs them by; a mask's name without its image is predicted (s37
leftovers: predict predicted train-labels.tif as an image)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from unetlab.data.io import write_tiff
from unetlab.data.pairs import find_pairs, masks_beside_images
from unetlab.inference.folders import find_inputs


def _touch(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        write_tiff(folder / name, np.zeros((2, 8, 8), np.uint8))


@pytest.mark.parametrize(
    ("image", "mask"),
    [
        ("train-volume.tif", "train-labels.tif"),
        ("a_image.tif", "a_mask.tif"),
        ("a-img.tif", "a-labels.tif"),
        ("a.tif", "a_seg.tif"),
    ],
)
def test_labels_beside_their_image_are_not_predicted(tmp_path, caplog, image, mask):
    _touch(tmp_path, image, mask, "other.tif")
    with caplog.at_level(logging.WARNING):
        files = find_inputs(tmp_path)
    assert sorted(f.name for f in files) == sorted([image, "other.tif"])
    assert f"1 mask beside their images ({mask})" in caplog.text
    assert [f.name for f in find_inputs(tmp_path / mask)] == [mask]  # named: predicted


def test_mask_names_without_their_image_are_images(tmp_path):
    _touch(tmp_path, "labels.tif", "cell_mask_stain.tif", "b_mask.tif", "c-labels.tif", "x.tif")
    assert masks_beside_images(sorted(tmp_path.iterdir())) == []


def test_training_pairs_what_predict_passes_over(tmp_path):
    _touch(tmp_path, "a_image.tif", "a_mask.tif", "b_image.tif", "b_mask.tif")
    pairs = find_pairs(tmp_path)
    assert {(p.image.name, p.mask.name) for p in pairs} == {
        ("a_image.tif", "a_mask.tif"),
        ("b_image.tif", "b_mask.tif"),
    }
    files = sorted(tmp_path.iterdir())
    assert {m.name for m in masks_beside_images(files)} == {"a_mask.tif", "b_mask.tif"}


def test_recursive_passes_over_label_stacks_in_each_folder(tmp_path, caplog):
    from unetlab.inference.tree import tree_folders

    _touch(tmp_path / "drop" / "isbi", "train-volume.tif", "train-labels.tif")
    _touch(tmp_path / "drop" / "lab", "labels.tif")  # a mask's name alone: an image
    with caplog.at_level(logging.WARNING):
        found = tree_folders(tmp_path / "drop", tmp_path / "out")
    assert {str(rel): [f.name for f in files] for rel, files in found} == {
        "isbi": ["train-volume.tif"],
        "lab": ["labels.tif"],
    }
    assert "1 mask beside their images (train-labels.tif)" in caplog.text
