"""Bad input, s55 badinput5: one clear line, naming the file so it can be found."""

from pathlib import Path

import pytest
import torch
from torch.utils.data import Dataset

from unetlab.data.io import ChannelsMaskError
from unetlab.data.loader import UserErrorLoader
from unetlab.errors import UnetlabError
from unetlab.inference.every_file import most_channels, refuse_for_every_file

from .test_bad_input4 import _ngff, _zarr
from .test_train import write_blobs


def test_an_ome_zarr_whose_scale_is_given_by_path_has_its_channels_counted(tmp_path):
    """most_channels was None for an OME-Zarr whose levels give their scale by 'path' (the
    reader refuses such a scale), so a --channel beyond its channels was refused per file,
    after the model loaded, not up front (s54 noticed): its axes and shape are read."""
    ngff = _ngff()
    for dataset in ngff["multiscales"][0]["datasets"]:
        dataset["coordinateTransformations"] = [{"type": "scale", "path": "s" + dataset["path"]}]
    store = _zarr(tmp_path / "a.ome.zarr", 2, ngff)
    assert most_channels(store) == 2
    with pytest.raises(UnetlabError, match=r"has 2 channels \(valid: channel=0 to 1\)"):
        refuse_for_every_file(tmp_path, [store], {"channel": 5})
    refuse_for_every_file(tmp_path, [store], {"channel": 1})  # it has that one


class _ReadsBadMasks(Dataset):
    """Items whose reading refuses a mask, as a worker reading files would."""

    def __len__(self):
        return 4

    def __getitem__(self, index):
        if index == 2:
            raise ChannelsMaskError(Path("masks/m.tif"), 5)
        return torch.zeros(2)


def test_a_loader_worker_s_bad_input_comes_back_as_itself():
    """torch re-raised a worker's ChannelsMaskError as a RuntimeError (its type takes
    (path, channels), not torch's traceback text) and a UnetlabError as "Caught UnetlabError
    in DataLoader worker process 0." plus the traceback (s54 noticed): the same error, the
    same one line, as without workers."""
    for workers in (0, 1):
        loader = UserErrorLoader(_ReadsBadMasks(), batch_size=2, num_workers=workers)
        with pytest.raises(ChannelsMaskError) as refused:
            list(loader)
        assert str(refused.value) == str(ChannelsMaskError(Path("masks/m.tif"), 5))
    good = UserErrorLoader(_ReadsBadMasks(), batch_size=2, num_workers=1, sampler=[0, 1, 3])
    assert [b.shape for b in good] == [(2, 2), (1, 2)]


def test_train_with_loader_workers_says_a_worker_s_bad_input_in_one_line(
    tmp_path, monkeypatch, capsys
):
    """With train.num_workers=1 an error raised while drawing a tile (here an augmentation
    that refuses the data, standing in for any read in a worker) was torch's traceback."""
    from unetlab.cli import main

    def refuse(cfg):
        def augment(image, mask, weight, *, rng):
            raise UnetlabError("data/masks/0.png: refused", cli="data/masks/0.png: refused (CLI)")

        return augment

    monkeypatch.setattr("unetlab.train.run._augment", refuse)  # a forked worker inherits it
    data = write_blobs(tmp_path / "data", 2, size=32)
    sets = ["model.depth=2", "model.base_channels=4", "data.tile_size=32", "train.epochs=1"]
    sets += ["data.tiles_per_epoch=4", "train.batch_size=2", "train.num_workers=1"]
    sets += ["train.device=cpu", "data.label_values=[0, 255]"]
    args = ["train", "--data", str(data), "--run-dir", str(tmp_path / "run")]
    assert main([*args, *(a for s in sets for a in ("--set", s))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "unetlab train: error: data/masks/0.png: refused (CLI)", err
