"""``--level N`` of an input without a pyramid (s55 fixC): libvips' pyramidal copy is offered
only for an image it reads whole (one page), written as ``DIR/<stem>_pyramid.tif`` in a
folder outside the inputs, of the input by its path as given; a stack (libvips copies its first page
alone) and a Zarr (libvips cannot read it) are told to drop the level, each caller in its
own form."""

import numpy as np
import pytest
import tifffile
import zarr

from unetlab.data.slides import open_slide
from unetlab.errors import UnetlabError

DROP = "drop --level 1 (full resolution)"
GIVE = "give level=0 (full resolution)"


def _refused(path) -> UnetlabError:
    with pytest.raises(UnetlabError) as err:
        open_slide(path, level=1)
    return err.value


def test_a_stack_is_told_to_drop_the_level_not_to_copy_its_first_page(tmp_path):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.zeros((3, 64, 64), np.uint8), photometric="minisblack")
    err = _refused(path)
    said = f"{path}: has no pyramid (level 0 alone): "
    assert err.cli == said + DROP
    assert str(err) == said + GIVE


def _ome_zarr(path):
    group = zarr.open_group(path, mode="w", zarr_format=2)
    group.create_array("0", data=np.zeros((32, 32), np.uint8), chunks=(16, 16))
    datasets = [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}]}]
    axes = [{"name": n, "type": "space"} for n in "yx"]
    group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": datasets}]
    return path


def test_an_ome_zarr_of_one_level_is_told_to_drop_the_level(tmp_path):
    path = _ome_zarr(tmp_path / "one.ome.zarr")
    err = _refused(path)
    said = f"{path}: has no pyramid (level 0 alone): "
    assert (err.cli, str(err)) == (said + DROP, said + GIVE)


def test_a_bare_zarr_array_says_the_level_in_each_callers_form(tmp_path):
    """It said ``use --level 0`` to a Python caller."""
    path = tmp_path / "bare.zarr"
    zarr.create_array(path, data=np.zeros((32, 32), np.uint8), chunks=(16, 16), zarr_format=2)
    err = _refused(path)
    said = f"{path}: has no pyramid (level 0 alone): "
    assert (err.cli, str(err)) == (said + DROP, said + GIVE)


def test_a_one_page_tiffs_copy_is_named_after_it_outside_its_folder(tmp_path):
    """Not a fixed ``pyramid.tif`` in the working folder (several inputs' copies replaced
    each other; in the input folder it became an input), and the command names the file
    by the path the line does (it gave the bare name)."""
    (tmp_path / "pyr").mkdir()
    path = tmp_path / "pyr" / "flat.ome.tif"
    tifffile.imwrite(path, np.zeros((64, 64), np.uint8), tile=(32, 32))
    err = _refused(path)
    copy = f"vips tiffsave {path} DIR/flat_pyramid.tif --tile --pyramid --subifd, DIR a folder "
    copy += "outside the inputs"
    said = f"{path}: has no pyramid (level 0 alone): "
    assert err.cli == f"{said}{DROP}, or predict a pyramidal copy of it (libvips: {copy})"
    assert str(err) == f"{said}{GIVE}, or predict a pyramidal copy of it (libvips: {copy})"


def test_predict_names_the_copy_by_the_path_the_line_names(tmp_path, capsys):
    """A file of a folder given is named by its name in the line, and by its path as given in
    the command, which runs from where predict ran (review s55 G2)."""
    from PIL import Image

    from unetlab import UNet, save_model
    from unetlab.cli import main

    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    (tmp_path / "in").mkdir()
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "in" / "a b.png")
    tifffile.imwrite(
        tmp_path / "in" / "s.tif", np.zeros((2, 32, 32), np.uint8), photometric="minisblack"
    )
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu", "--level", "1"]
    out = ["--input", str(tmp_path / "in"), "--output", str(tmp_path / "o"), "--no-progress"]
    assert main([*argv, *out]) == 3  # its inputs failed
    said = capsys.readouterr().err
    copy = f"vips tiffsave '{tmp_path / 'in' / 'a b.png'}' 'DIR/a b_pyramid.tif'"  # as given
    assert f"a b.png: has no pyramid (level 0 alone): {DROP}, or predict" in said, said
    assert f"(libvips: {copy} --tile --pyramid --subifd, DIR a folder outside" in said, said
    assert f"s.tif: has no pyramid (level 0 alone): {DROP}\n" in said, said  # a stack
