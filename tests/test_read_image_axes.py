"""A (Y, X, C) array that tifffile saved without axes (``imwrite(p, a,
photometric='minisblack')`` of a (20, 30, 4) uint8 array) is 20 pages of 30 x 4 px in the
file, its axes QYX: nothing in it says they are channels. read_image told to read it with
read_stack(), which gave 20 images of 30 x 4 px (audit s49 apilines 2); it now names axes=,
which it takes. The file decides where it states its axes; the array is (H, W, C) by the
API's convention, and the file read with axes='YXC' is predicted as the array is."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unetlab import UNet, predict_image, read_image, save_model
from unetlab.cli import main
from unetlab.errors import ImageReadError, UnetlabError
from unetlab.inference.files import predict_file
from unetlab.inference.records import OutputOptions

ARRAY = np.random.default_rng(0).integers(0, 255, (20, 30, 4), dtype=np.uint8)


def _saved(tmp_path, name: str = "bare.tif", **kwargs):
    path = tmp_path / name
    tifffile.imwrite(path, ARRAY, photometric="minisblack", **kwargs)
    return path


def test_read_image_of_pages_without_axes_names_axes_and_takes_them(tmp_path):
    bare = _saved(tmp_path)
    said = r"has 20 pages; the file records no axes, so these are pages of 30 x 4 px: give axes="
    with pytest.raises(ImageReadError, match=said):
        read_image(bare)
    assert np.array_equal(read_image(bare, axes="YXC"), ARRAY)


def test_a_file_that_states_its_axes_is_read_as_they_say(tmp_path):
    stated = _saved(tmp_path, "yxc.tif", metadata={"axes": "YXC"})
    assert np.array_equal(read_image(stated), ARRAY)
    planes = _saved(tmp_path, "zyx.tif", metadata={"axes": "ZYX"})  # a stack: its pages
    with pytest.raises(ImageReadError, match="has 20 pages; use read_stack") as said:
        read_image(planes)
    assert "axes=" not in str(said.value)


def test_the_array_and_the_file_read_with_its_axes_predict_alike(tmp_path, capsys):
    """The array is (H, W, C); the bare file is refused in one line naming axes='YXC' to
    Python and --axes YXC to the command line, and read with them is predicted as the
    array."""
    net = UNet(4, 2, depth=2, base_channels=4, padding="same").eval()
    bare = _saved(tmp_path)
    with pytest.raises(UnetlabError, match=r"saved without axes\? give axes='YXC', or save"):
        predict_file(net, bare, tmp_path / "refused")
    predict_file(net, bare, tmp_path / "out", OutputOptions(save_probabilities=True), axes="YXC")
    saved = tifffile.imread(tmp_path / "out" / "bare_prob.tif")
    assert np.allclose(saved, predict_image(net, ARRAY), atol=1e-6)
    checkpoint = str(save_model(tmp_path / "m.pt", net))
    argv = ["predict", "--checkpoint", checkpoint, "--input", str(bare), "--device", "cpu"]
    assert main([*argv, "--output", str(tmp_path / "cli")]) != 0
    said = capsys.readouterr().err
    assert "reads as 20 pages of 30 x 4 px, too narrow to segment" in said
    assert "without axes? give --axes YXC, or save" in said and "axes='" not in said


def test_axes_refused_from_python_name_the_keyword(tmp_path, capsys):
    """read_image(path, axes='XYC') was told to give --axes YXC (s49 review1); the command
    line still names its flag."""
    from unetlab.data.io import check_axes

    path = tmp_path / "q.tif"
    tifffile.imwrite(path, np.zeros((20, 30, 4), np.uint8), photometric="minisblack")
    with pytest.raises(ImageReadError, match=r"axes='XYC' puts X before Y.* give axes='YXC'$"):
        read_image(path, axes="XYC")
    with pytest.raises(ImageReadError, match=r"axes='YX' names 2 axes"):
        read_image(path, axes="YX")
    with pytest.raises(UnetlabError, match=r"^axes='YXYC': give each axis once"):
        check_axes("YXYC")
    argv = ["predict", "--input", str(path), "--checkpoint", str(tmp_path / "m.pt")]
    argv += ["--axes", "XYC", "--output", str(tmp_path / "out")]
    assert main(argv) == 2
    assert "--axes XYC puts X before Y" in capsys.readouterr().err
