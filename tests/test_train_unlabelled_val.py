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
