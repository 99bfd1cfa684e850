"""cellpose's flat folder (X.tif beside X_masks.png), _seg.npy files, and a train/ + test/
root given where one data set is expected (audit s33 migrant findings 5 and 8)."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

from unetlab.data.datasets import data_folders, split_pairs
from unetlab.data.io import write_png, write_tiff
from unetlab.data.pairs import detect_layout, find_pairs, read_pair
from unetlab.errors import DatasetError
from unetlab.evaluate.masks import evaluation_pairs


def _ids(seed: int) -> np.ndarray:
    ids = np.zeros((8, 8), np.uint16)
    ids[1:4, 1:4], ids[5:7, 4:8] = 3 + seed, 40
    return ids


def _flat(folder, stems=("a", "b"), mask="_masks.png"):
    for k, stem in enumerate(stems):
        write_tiff(folder / f"{stem}.tif", np.full((8, 8), 10 * k, np.uint8))
        ids = _ids(k)
        if mask.endswith(".png"):
            write_png(folder / f"{stem}{mask}", ids)
        else:
            write_tiff(folder / f"{stem}{mask}", ids)


def test_flat_folder_pairs_by_the_masks_suffix(tmp_path):
    _flat(tmp_path)
    write_tiff(tmp_path / "a_flows.tif", np.zeros((8, 8), np.uint8))  # cellpose's output
    assert detect_layout(tmp_path) == "cellpose"
    pairs = find_pairs(tmp_path)
    assert [(p.image.name, p.mask.name) for p in pairs] == [
        ("a.tif", "a_masks.png"),
        ("b.tif", "b_masks.png"),
    ]
    image, mask = read_pair(pairs[1])
    assert image.shape == (8, 8) and mask.max() == 40 and mask[2, 2] == 4
    assert [p.name for p in find_pairs(tmp_path, names=["b"])] == ["b"]
    assert data_folders(tmp_path) == [tmp_path, tmp_path]


def test_cp_masks_and_tif_masks_pair_too(tmp_path):
    _flat(tmp_path / "cp", mask="_cp_masks.png")
    _flat(tmp_path / "tif", mask="_masks.tif")
    assert [p.mask.name for p in find_pairs(tmp_path / "cp")] == [
        "a_cp_masks.png",
        "b_cp_masks.png",
    ]
    assert [p.mask.name for p in find_pairs(tmp_path / "tif")] == ["a_masks.tif", "b_masks.tif"]


def test_flat_folder_problems_are_named_together(tmp_path):
    _flat(tmp_path, stems=("a", "b"))
    write_tiff(tmp_path / "c.tif", np.zeros((8, 8), np.uint8))  # no mask
    write_png(tmp_path / "d_masks.png", _ids(0))  # no image
    write_png(tmp_path / "a_cp_masks.png", _ids(0))  # a second mask of a
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    text = str(info.value)
    assert "3 problems" in text and "c.tif: no mask c_masks.png (or .tif) beside it" in text
    assert "d_masks.png: mask without an image d.* beside it" in text
    assert "a has 2 masks (a_cp_masks, a_masks)" in text


def test_seg_npy_files_are_the_masks_of_their_images(tmp_path):
    """s72: cellpose's X_seg.npy pairs with X.tif (they were refused, naming an export)."""
    write_tiff(tmp_path / "a.tif", np.zeros((8, 8), np.uint8))
    np.save(tmp_path / "a_seg.npy", {"masks": _ids(0)}, allow_pickle=True)
    assert [(p.image.name, p.mask.name) for p in find_pairs(tmp_path)] == [("a.tif", "a_seg.npy")]


def test_an_exported_mask_beside_a_seg_npy_is_taken(tmp_path, caplog):
    """s72 review 2: X.tif, X_cp_masks.png and X_seg.npy (the export the README asked for
    beside the file cellpose's GUI always saves) were "a has 2 masks: keep one", inviting a
    deletion: the export is taken, the _seg.npy passed over, said in one line."""
    _flat(tmp_path, stems=("a", "b"), mask="_cp_masks.png")
    for stem in ("a", "b"):
        np.save(tmp_path / f"{stem}_seg.npy", {"masks": _ids(5)}, allow_pickle=True)
    write_tiff(tmp_path / "c.tif", np.zeros((8, 8), np.uint8))
    np.save(tmp_path / "c_seg.npy", {"masks": _ids(0)}, allow_pickle=True)  # its only mask
    with caplog.at_level("INFO"):
        pairs = find_pairs(tmp_path)
    assert [p.mask.name for p in pairs] == ["a_cp_masks.png", "b_cp_masks.png", "c_seg.npy"]
    said = [r.getMessage() for r in caplog.records if "_seg.npy files are passed" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"{tmp_path}/: masks exported beside")


def test_an_export_older_than_its_seg_npy_is_warned_of_naming_both(tmp_path, caplog):
    """s72 notes: cellpose's GUI saves X_seg.npy at each correction and exports
    X_cp_masks.png only when asked; an export older than the corrections was read with an
    INFO line alone. It is still read (copies' times are their order), with a warning: one
    for the folder, naming how many and the first few (s74: it named the first alone)."""
    stems = ("a", "b", "c", "d", "e")
    _flat(tmp_path, stems=stems, mask="_cp_masks.png")
    for stem in stems:
        np.save(tmp_path / f"{stem}_seg.npy", {"masks": _ids(5)}, allow_pickle=True)
        if stem != "c":  # exported, then corrected; c exported after its corrections
            os.utime(tmp_path / f"{stem}_cp_masks.png", (1.7e9, 1.7e9))
    with caplog.at_level("WARNING"):
        pairs = find_pairs(tmp_path)
    assert [p.mask.name for p in pairs] == [f"{s}_cp_masks.png" for s in stems]
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(said) == 1
    assert said[0].startswith(f"{tmp_path}/: 4 masks exported older than the _seg.npy beside")
    assert "(a_cp_masks.png (" in said[0] and ") < a_seg.npy (" in said[0]
    assert "d_seg.npy (" in said[0] and "c_seg" not in said[0] and ") and 1 more)" in said[0]
    assert "export them again" in said[0]


def test_a_folder_of_one_npz_says_how_it_is_read(tmp_path):
    """s72 review 7: a notebook's data.npz alone was "no data set found", no word of .npz;
    the line says how it holds one (s73: one of images and masks arrays is a data set
    itself, tests/test_npz_data.py); a copy in each of images/ and masks/ pairs too."""
    images, masks = np.zeros((2, 20, 20), "f4"), np.zeros((2, 20, 20), np.uint16)
    masks[:, :8, :8] = np.stack([_ids(0), _ids(1)])
    np.savez(tmp_path / "data.npz", x=images, y=masks)
    with pytest.raises(DatasetError, match=r"data.npz holds no 'images' and 'masks' arrays, "):
        find_pairs(tmp_path)
    np.savez(tmp_path / "data.npz", images=images, masks=masks)
    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "data.npz").write_bytes((tmp_path / "data.npz").read_bytes())
    image, mask = read_pair(find_pairs(tmp_path)[0])
    assert image.shape[-2:] == (20, 20) and mask.max() == 40


def test_train_and_test_root_names_the_test_folder_for_evaluate(tmp_path):
    _flat(tmp_path / "train", stems=("a", "b", "c", "d", "e"))
    _flat(tmp_path / "test")
    with pytest.raises(
        DatasetError, match=r"hold one: give evaluation_pairs' path \S+/test$"
    ) as err:
        evaluation_pairs(tmp_path)  # a direct call: its argument, not --data, nor told of fit
    assert re.search(r"test/, train/ hold one: give --data \S+/test$", err.value.cli)
    assert [p.name for p in evaluation_pairs(tmp_path / "test")] == ["a", "b"]
    train, val = split_pairs(tmp_path, quiet=True)  # train reads train/, as for images/ + masks/
    assert len(train) + len(val) == 5 and {p.image.parent for p in train} == {tmp_path / "train"}


def test_generic_message_names_the_cellpose_layout(tmp_path):
    write_tiff(tmp_path / "a.tif", np.zeros((8, 8), np.uint8))
    with pytest.raises(DatasetError, match="cellpose's X.tif beside X_masks.png"):
        find_pairs(tmp_path)


def test_masks_beside_images_are_the_masks_of_images_given_with_them(tmp_path):
    from unetlab.data.pairs import masks_beside_images

    files = [tmp_path / n for n in ("a.tif", "a_masks.png", "b_cp_masks.png", "c_masks.tif")]
    files.append(tmp_path / "c.png")
    assert masks_beside_images(files) == [tmp_path / "a_masks.png", tmp_path / "c_masks.tif"]
    assert masks_beside_images([tmp_path / "x_masks.png"]) == []  # a mask alone: an image
