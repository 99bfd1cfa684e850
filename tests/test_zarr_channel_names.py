"""A Zarr input given ``--channel NAME`` (s50 slideleft): an OME-Zarr that names its channels
(``omero`` labels) takes the name as an OME-TIFF does, and a one-channel Zarr is told to leave
``--channel`` out; both were told to "give its index" (a folder was read as naming none)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch
import zarr

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.data.slides import zarr_channels


def _ome_zarr(path, image, names=None, version=2):
    """A one-level OME-Zarr of ``image`` ((C,) H, W), its channels labelled ``names``."""
    group = zarr.open_group(path, mode="w", zarr_format=version)
    group.create_array("0", shape=image.shape, dtype=image.dtype, chunks=image.shape)[:] = image
    letters = "cyx"[-image.ndim :]
    axes = [{"name": a, "type": "channel" if a == "c" else "space"} for a in letters]
    scale = [{"type": "scale", "scale": [1.0] * image.ndim}]
    attrs = {
        "multiscales": [
            {
                "version": "0.4",
                "axes": axes,
                "datasets": [{"path": "0", "coordinateTransformations": scale}],
            }
        ]
    }  # noqa: E501
    if names:
        attrs["omero"] = {"channels": [{"label": n} for n in names]}
    group.attrs.update(attrs if version == 2 else {"ome": attrs})


def _image():
    return np.random.default_rng(0).integers(0, 4000, (3, 48, 48), dtype=np.uint16)


@pytest.mark.parametrize("version", [2, 3])
def test_a_zarrs_channel_count_and_labels_are_read(tmp_path, version):
    _ome_zarr(tmp_path / "a.ome.zarr", _image(), ["DAPI", "GFP", "RFP"], version)
    _ome_zarr(tmp_path / "b.ome.zarr", _image()[0], version=version)
    _ome_zarr(tmp_path / "c.ome.zarr", _image(), ["DAPI", ""], version)  # not one each
    assert zarr_channels(tmp_path / "a.ome.zarr") == (3, ["DAPI", "GFP", "RFP"])
    assert zarr_channels(tmp_path / "b.ome.zarr") == (1, [])
    assert zarr_channels(tmp_path / "c.ome.zarr") == (3, [])
    assert zarr_channels(tmp_path) is None


def _predict(tmp_path, folder: str, channel: str, capsys) -> tuple[int, str]:
    if not (tmp_path / "m.pt").exists():
        torch.manual_seed(0)
        save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / folder)]
    argv += ["--output", str(tmp_path / f"out_{folder}_{channel}"), "--channel", channel]
    code = main([*argv, "--large-pixels", "100", "--save-probabilities"])
    return code, capsys.readouterr().err


def test_a_named_channel_of_an_ome_zarr_is_taken_as_a_tiffs(tmp_path, capsys):
    (tmp_path / "z").mkdir(), (tmp_path / "t").mkdir()
    names = ["DAPI", "GFP", "RFP"]
    _ome_zarr(tmp_path / "z" / "s.ome.zarr", _image(), names)
    meta = {"axes": "CYX", "Channel": {"Name": names}}
    tifffile.imwrite(tmp_path / "t" / "s.ome.tif", _image(), metadata=meta)
    for folder in ("z", "t"):
        for channel in ("GFP", "1"):
            assert _predict(tmp_path, folder, channel, capsys)[0] == 0
    assert _predict(tmp_path, "z", "0", capsys)[0] == 0
    prob = {
        (f, c): tifffile.imread(tmp_path / f"out_{f}_{c}" / "s_prob.tif")
        for f, c in (("z", "GFP"), ("z", "1"), ("t", "GFP"), ("z", "0"))
    }
    assert np.array_equal(prob["z", "GFP"], prob["z", "1"])
    assert np.array_equal(prob["z", "GFP"], prob["t", "GFP"])
    assert not np.array_equal(prob["z", "GFP"], prob["z", "0"])  # another channel's
    code, err = _predict(tmp_path, "z", "YFP", capsys)
    assert code != 0 and "its channels are 0: DAPI, 1: GFP, 2: RFP" in err


def test_a_one_channel_zarr_is_told_to_leave_the_channel_out(tmp_path, capsys):
    (tmp_path / "g").mkdir()
    _ome_zarr(tmp_path / "g" / "g.ome.zarr", _image()[0])
    code, err = _predict(tmp_path, "g", "DAPI", capsys)
    assert code != 0
    assert (
        "g.ome.zarr: has one channel and no channel names, so no channel 'DAPI': leave out " in err
    )
    assert "give its index" not in err
