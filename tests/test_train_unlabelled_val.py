"""Validation images none of whose mask pixels is labelled (all data.ignore_value, or
no-data) give a val mIoU of NaN at every validation: the run wrote no best.pt while it
named one as its best checkpoint; training images with none train nothing (loss 0). Both
are refused in one line before training, naming them."""

import numpy as np
import pytest

from tests.test_train import tiny_config, write_blobs
from unetlab.data.io import write_png
from unetlab.errors import DatasetError
from unetlab.train import fit

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py


def test_validation_images_without_a_labelled_pixel_are_refused(tmp_path):
    write_blobs(tmp_path / "data" / "train", 3)
    write_blobs(tmp_path / "data" / "val", 1, seed=1)
    write_png(tmp_path / "data" / "val" / "masks" / "0.png", np.full((48, 48), 128, np.uint8))
    cfg = tiny_config(tmp_path / "data", "data.ignore_value=128")
    with pytest.raises(DatasetError, match=r"no validation image holds a labelled pixel \(0\.png"):
        fit(cfg, run_dir=tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "checkpoints").exists()
    mask = np.full((48, 48), 128, np.uint8)
    mask[:4, :4] = 255  # one labelled corner: validated on it
    write_png(tmp_path / "data" / "val" / "masks" / "0.png", mask)
    result = fit(cfg, run_dir=tmp_path / "run2", progress=False)
    assert np.isfinite(result["best_val_miou"])
    assert (tmp_path / "run2" / "checkpoints" / "best.pt").is_file()


def test_training_images_without_a_labelled_pixel_are_refused(tmp_path):
    """The loss was 0 at every step: nothing learnt, and the run ended as if trained."""
    write_blobs(tmp_path / "data" / "train", 3)
    write_blobs(tmp_path / "data" / "val", 1, seed=1)
    for i in range(3):
        write_png(
            tmp_path / "data" / "train" / "masks" / f"{i}.png", np.full((48, 48), 128, np.uint8)
        )
    cfg = tiny_config(tmp_path / "data", "data.ignore_value=128")
    with pytest.raises(DatasetError, match=r"no training image holds a labelled pixel \(0\.png"):
        fit(cfg, run_dir=tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_object_id_masks_without_a_labelled_training_pixel_are_refused(tmp_path):
    """Instance masks (trained as background / boundary / interior) all data.ignore_value
    in train/ loaded without a word, the validation image's objects beside them."""
    from unetlab.train import prepare_data

    write_blobs(tmp_path / "data" / "train", 2)
    write_blobs(tmp_path / "data" / "val", 1, seed=1)
    for i in range(2):
        write_png(
            tmp_path / "data" / "train" / "masks" / f"{i}.png", np.full((48, 48), 7, np.uint16)
        )
    objects = np.zeros((48, 48), np.uint16)
    objects[10:20, 10:20], objects[30:40, 5:15] = 1, 2
    write_png(tmp_path / "data" / "val" / "masks" / "0.png", objects)
    cfg = tiny_config(tmp_path / "data", "data.target=instances", "data.ignore_value=7")
    cfg.data.label_values, cfg.data.class_names = None, None
    with pytest.raises(DatasetError, match=r"no training image holds a labelled pixel \(0\.png"):
        prepare_data(cfg)


def test_sparse_and_partly_unlabelled_sets_still_train(tmp_path):
    """Some training and validation masks all data.ignore_value, the others a few scribbled
    pixels (semi-labelled, sparse labels): not refused, validated on the labelled ones."""
    write_blobs(tmp_path / "data" / "train", 3)
    write_blobs(tmp_path / "data" / "val", 2, seed=1)
    scribble = np.full((48, 48), 128, np.uint8)
    scribble[20, 5:9], scribble[30, 30:32] = 0, 255
    for split, i, mask in [("train", 0, None), ("train", 1, scribble), ("val", 0, scribble)]:
        mask = np.full((48, 48), 128, np.uint8) if mask is None else mask
        write_png(tmp_path / "data" / split / "masks" / f"{i}.png", mask)
    write_png(tmp_path / "data" / "train" / "masks" / "2.png", np.full((48, 48), 128, np.uint8))
    write_png(tmp_path / "data" / "val" / "masks" / "1.png", np.full((48, 48), 128, np.uint8))
    result = fit(
        tiny_config(tmp_path / "data", "data.ignore_value=128"),
        run_dir=tmp_path / "run",
        progress=False,
    )
    assert np.isfinite(result["best_val_miou"])
