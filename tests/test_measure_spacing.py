"""Shape measures on non-square pixels (0.1 um high, 0.05 um wide): the objects', not the
pixel grid's (audit s31 grains 6: equiaxed grains read as 2.3:1 elongated)."""

import numpy as np
import pytest
from skimage.measure import regionprops

from unetlab.inference.measure import measure_objects, object_table, with_micrometres


def ellipses(h=90, w=120, seed=0) -> np.ndarray:
    """Ellipses of many sizes and directions, not touching."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    ids = np.zeros((h, w), np.int32)
    for k, (cy, cx) in enumerate([(20, 25), (20, 85), (65, 30), (65, 90), (45, 60)], 1):
        a, b = rng.uniform(5, 14), rng.uniform(2, 6)
        t = rng.uniform(-np.pi, np.pi)
        u = (yy - cy) * np.cos(t) + (xx - cx) * np.sin(t)
        v = -(yy - cy) * np.sin(t) + (xx - cx) * np.cos(t)
        ids[(u / a) ** 2 + (v / b) ** 2 <= 1] = k
    ids[2:6, 2:6] = 6  # a square: scikit-image's tie
    return ids


def test_orientation_is_scikit_images_in_degrees():
    ids = ellipses()
    table = object_table(ids)
    expected = [np.degrees(p.orientation) for p in regionprops(ids)]
    assert table["orientation"] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("pixel", [(0.1, 0.05), (0.05, 0.1), (0.2, 0.2)])
def test_the_ellipse_in_micrometres_is_scikit_images_with_spacing(pixel):
    ids = ellipses(seed=1)
    table = measure_objects(ids, pixel_size=pixel)
    props = regionprops(ids, spacing=pixel)
    assert table["major_axis_length_um"] == pytest.approx([p.axis_major_length for p in props])
    assert table["minor_axis_length_um"] == pytest.approx([p.axis_minor_length for p in props])
    if pixel[0] != pixel[1]:  # a tie (the square) is no angle in micrometres
        angles = [np.degrees(p.orientation) for p in props]
        assert table["orientation"][:-1] == pytest.approx(angles[:-1])


def test_non_square_pixels_leave_out_circularity_and_keep_px_lengths():
    ids = ellipses()
    plain = object_table(ids)
    table = with_micrometres(plain, (0.1, 0.05))
    assert "circularity" not in table and "perimeter_um" not in table
    assert np.array_equal(table["major_axis_length"], plain["major_axis_length"])  # grid px
    square = with_micrometres(plain, (0.1, 0.1))
    assert np.array_equal(square["circularity"], plain["circularity"])
    assert np.array_equal(square["orientation"], plain["orientation"])
    assert square["major_axis_length_um"] == pytest.approx(plain["major_axis_length"] * 0.1)


def test_equiaxed_grains_on_tall_pixels_read_round():
    """Discs of radius 2 um sampled by pixels 0.1 um high, 0.05 um wide: 2:1 in the grid,
    1:1 in micrometres."""
    yy, xx = np.mgrid[:100, :200]
    ids = (((yy - 50) * 0.1) ** 2 + ((xx - 100) * 0.05) ** 2 <= 4).astype(np.int32)
    table = measure_objects(ids, pixel_size=(0.1, 0.05))
    assert table["major_axis_length"][0] / table["minor_axis_length"][0] == pytest.approx(2, 0.02)
    ratio = table["major_axis_length_um"][0] / table["minor_axis_length_um"][0]
    assert ratio == pytest.approx(1, abs=0.02)
    assert table["major_axis_length_um"][0] == pytest.approx(4, rel=0.02)  # 4 sqrt(r^2 / 4)


def test_predict_says_once_which_shapes_are_physical_and_writes_them(tmp_path, caplog):
    import csv
    import logging

    import tifffile
    import torch

    import unetlab

    class Bright(unetlab.UNet):
        def forward(self, x):
            b = self.border
            v = x[:, :1, b : x.shape[2] - b, b : x.shape[3] - b]
            return torch.cat([0.5 - v, v - 0.5], dim=1)

    net = Bright(in_channels=1, num_classes=2, depth=2, base_channels=4, padding="valid").eval()
    net.normalization = {"mode": "fixed", "mean": [0.0], "std": [1.0]}
    yy, xx = np.mgrid[:60, :80]
    image = ((((yy - 30) * 0.1) ** 2 + ((xx - 40) * 0.05) ** 2) <= 2).astype(np.uint8)
    (tmp_path / "in").mkdir()
    for name in ("a.tif", "b.tif"):  # 0.1 um high, 0.05 um wide: 10 and 20 px per um
        meta = dict(imagej=True, resolution=(20, 10), metadata={"unit": "um"})
        tifffile.imwrite(tmp_path / "in" / name, image, **meta)
    options = unetlab.ObjectOptions(min_area=1)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out", objects=options)
    said = [r.getMessage() for r in caplog.records if "um wide (said once)" in r.getMessage()]
    assert said == [said[0]] and said[0].startswith("a.tif: pixels 0.1 um high, 0.05 um wide")
    with open(tmp_path / "out" / "a_objects.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert "circularity" not in row
    assert float(row["major_axis_length_um"]) / float(row["minor_axis_length_um"]) < 1.05


def test_an_axis_along_x_is_plus_90_whatever_the_rounding_of_the_covariance():
    """A table summed in pieces (a streamed slide) had a covariance of -1e-17 where the whole
    image had 0: -90 against +90 for one axis (slides helper, s31)."""
    from unetlab.inference.measure import _orientation

    along_x = np.array([[[1.0, c], [c, 4.0]] for c in (0.0, -0.0, -1e-17, 1e-17)])
    assert _orientation(along_x).tolist() == [90.0] * 4
    ids = np.zeros((9, 20), np.int32)
    ids[3:6, 2:18] = 1  # long along x
    assert object_table(ids)["orientation"].tolist() == [90.0]
