"""A data set's val/ (or test/) given as the data: the folders of its train/ are the data
set's too, so evaluate writes no report into them (s49 tidy: ``evaluate --data DATA/val``
protected val/'s folders only, and a confusion PNG could land in DATA/train/masks)."""

import numpy as np

from unetlab.data.datasets import data_set_folders
from unetlab.data.io import write_png
from unetlab.evaluate.report import data_folders_of


def _split(root):
    for part in ("train", "val"):
        for sub in ("images", "masks"):
            (root / part / sub).mkdir(parents=True)
            write_png(root / part / sub / "a.png", np.zeros((8, 8), np.uint8))
    return root


def test_a_val_folder_given_as_the_data_brings_its_train_folders(tmp_path):
    data = _split(tmp_path / "data")
    folders = {f.resolve() for f in data_set_folders(data / "val")}
    assert (data / "train" / "masks").resolve() in folders
    assert (data / "train" / "images").resolve() in folders
    assert tmp_path.resolve() not in folders and data.resolve() not in folders


def test_a_report_of_the_val_data_keeps_out_of_train_masks(tmp_path):
    data = _split(tmp_path / "data")
    kept_out = {f.resolve() for f in data_folders_of({"data": str(data / "val")})}
    assert (data / "train" / "masks").resolve() in kept_out


def test_the_folders_are_of_one_kind_each_listed_once(tmp_path, monkeypatch):
    """Given cwd-relative (``--gt data/val/masks``), the folder came back as given beside
    the resolved folders of its data set: some relative, some not, the same folder twice."""
    _split(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    for given in ("data/val/masks", "data/val"):
        folders = data_set_folders(given)
        assert folders[0] == (tmp_path / given).resolve(), folders  # the folder itself
        assert all(f == f.resolve() for f in folders), folders
        assert len(folders) == len(set(folders)), folders
        assert (tmp_path / "data" / "train" / "masks").resolve() in folders
