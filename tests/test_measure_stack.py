"""measure_objects takes a stack's objects TIFF: plane by plane, with the page, t, t_s, z and
z_um columns of predict's table (audit s28 'stacks', finding 8)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet, measure_objects
from unetlab.data.io import write_csv
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions


@pytest.fixture
def predicted(tmp_path):
    """A (T=2, Z=3) ImageJ hyperstack of blobs (frame interval 5 s, spacing 0.5 µm, pixel
    0.25 µm), predicted with objects."""
    rng = np.random.default_rng(0)
    stack = (rng.random((2, 3, 32, 28)) > 0.7).astype(np.uint8) * 200
    meta = {"axes": "TZYX", "finterval": 5.0, "spacing": 0.5, "unit": "um"}
    tifffile.imwrite(tmp_path / "s.tif", stack, imagej=True, resolution=(4, 4), metadata=meta)
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same")
    predict_file(net, tmp_path / "s.tif", tmp_path / "o", objects=ObjectOptions())
    return tmp_path


def test_a_stacks_objects_tiff_measures_as_predicts_table(predicted):
    with tifffile.TiffFile(predicted / "o" / "s_objects.tif") as tif:
        ids, axes = tif.asarray(), tif.series[0].axes
    assert axes == "TZYX" and ids.shape == (2, 3, 32, 28)
    image = tifffile.imread(predicted / "s.tif")
    table = measure_objects(
        ids, image, pixel_size=0.25, axes=axes, frame_interval=5.0, z_spacing=0.5
    )
    write_csv(predicted / "again.csv", table)
    want = (predicted / "o" / "s_objects.csv").read_text()
    assert want.startswith("page,t,t_s,z,z_um,id,") and want.count("\n") > 6
    # predict's table ends with image, the file's name, which an array has not
    lines = [line.rsplit(",", 1) for line in want.splitlines()]
    assert lines[0][0].endswith(",saturated_fraction") and lines[0][1] == "image"
    assert {line[1] for line in lines[1:]} == {"s.tif"}
    assert (predicted / "again.csv").read_text() == "".join(f"{a}\n" for a, _ in lines)


def test_a_stack_without_axes_gets_page_only():
    ids = np.zeros((3, 10, 10), np.uint16)
    ids[1, 2:5, 2:5] = 1
    ids[2, 6:9, 6:9] = 1
    table = measure_objects(ids)
    assert list(table)[:2] == ["page", "id"] and table["page"].tolist() == [1, 2]


def test_a_stack_that_does_not_fit_says_how():
    ids = np.zeros((2, 10, 10), np.uint16)
    with pytest.raises(ValueError, match=r"moveaxis\(image, 1, -1\)"):
        measure_objects(ids, np.zeros((2, 3, 10, 10)))
    with pytest.raises(ValueError, match="ending in YX"):
        measure_objects(ids, axes="TZYX")


@pytest.mark.parametrize("bad", ["cut", "folder", "empty"])
def test_an_objects_tiff_cut_short_or_a_folder_is_one_line_naming_it(tmp_path, bad):
    """measure_objects("x_objects.tif") of a file cut short let tifffile's ValueError out,
    of a folder so named an IsADirectoryError: tracebacks, not a line (s51 walkbad)."""
    from unetlab.errors import ImageReadError

    path = tmp_path / "x_objects.tif"
    tifffile.imwrite(path, np.arange(64 * 64, dtype=np.int32).reshape(64, 64))
    data = path.read_bytes()
    path.unlink()
    if bad == "folder":
        path.mkdir()
    else:
        path.write_bytes(data[: len(data) // 2] if bad == "cut" else b"")
    said = {"cut": "truncated: its header promises", "folder": "is a folder", "empty": "empty file"}
    with pytest.raises(ImageReadError, match=f"^{path}: {said[bad]}"):
        measure_objects(path)


def test_an_objects_tiff_that_reads_as_no_pixels_is_one_line_naming_it(tmp_path):
    """A damaged objects TIFF read as ids of shape (2, 0, 23) (its ImageLength tag flipped)
    was numpy's reshape error from measure_objects (found by tests/test_fuzz.py, s51)."""
    from unetlab.errors import UnetlabError

    with pytest.raises(UnetlabError, match=r"ids of shape \(2, 0, 23\) hold no pixels"):
        measure_objects(np.zeros((2, 0, 23), np.uint8))
