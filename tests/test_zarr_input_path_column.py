"""An objects table of a Zarr folder given alone names that folder in its ``path`` column
(s43 slide: ``unetlab predict --input fl4k.ome.zarr --instances`` wrote ``.`` on every row,
the folder taken as a folder of inputs and the input made relative to itself; a TIFF given
alone has its path as given)."""

import csv

import numpy as np
import pytest
import torch

from unetlab import UNet
from unetlab.inference.folders import _root, predict_folder


def _zarr(path):
    import zarr

    array = zarr.open_array(path, mode="w", shape=(40, 48), chunks=(20, 24), dtype="u1")
    array[:] = np.random.default_rng(0).integers(0, 255, (40, 48), np.uint8)
    return path


def _foreground_net() -> UNet:
    """A tiny 2-class net that calls every pixel class 1: one object, the whole image."""
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.copy_(torch.tensor([-5.0, 5.0]))
    return model.eval()


@pytest.mark.parametrize("fmt", ["ome-zarr", "ome-tiff"])
def test_a_zarr_given_alone_is_its_own_path(tmp_path, fmt):
    source = _zarr(tmp_path / "plate.ome.zarr")
    out = tmp_path / "out"
    predict_folder(_foreground_net(), source, out, objects=True, output_format=fmt)
    with open(out / "plate_objects.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and {row["path"] for row in rows} == {source.as_posix()}


def test_a_folder_of_inputs_is_still_the_root(tmp_path):
    (tmp_path / "in").mkdir()
    assert _root(tmp_path / "in", None) == tmp_path / "in"
    assert _root(_zarr(tmp_path / "in" / "z.zarr"), None) is None
