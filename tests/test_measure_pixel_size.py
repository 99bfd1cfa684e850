"""A bad ``pixel_size`` is refused in one line (audit s32 notebook 3: 0 gave µm columns of
zeros, a negative size negative centroids, NaN NaN columns, True 1 µm), at the entry
points: measure_objects and with_micrometres."""

import math

import numpy as np
import pytest

import unetlab
from unetlab.errors import UnetlabError
from unetlab.inference.measure import nanometre_slip, object_table, pixel_pair, with_micrometres


def _ids() -> np.ndarray:
    ids = np.zeros((20, 30), np.uint16)
    ids[2:6, 3:9] = 1
    ids[10:18, 12:20] = 2
    return ids


BAD = [0, -0.325, math.nan, math.inf, True, np.bool_(True), "0.325", (0.3, 0), (1, 2, 3), []]
#: one number in a sequence: neither the number nor the (y, x) pair the line names (s50)
ONE = [(0.5,), [0.5], np.array([0.5])]
SAID = r"pixel_size must be one positive finite number of µm per pixel \(square pixels\) or a \(y, x\) pair"


@pytest.mark.parametrize("bad", BAD + ONE, ids=repr)
def test_a_bad_pixel_size_is_refused_in_one_line(bad):
    with pytest.raises(UnetlabError, match=SAID) as err:
        unetlab.measure_objects(_ids(), pixel_size=bad)
    assert len(str(err.value).splitlines()) == 1


@pytest.mark.parametrize("bad", [(0.5,), (0.5, 0.5, 1.0), "a", 0], ids=repr)
def test_the_geojson_says_the_same_line_for_a_bad_size(bad):
    """measure_objects read (0.5,) as y and x while its line names a number or a (y, x) pair,
    and geojson_features failed on it with a traceback (ValueError: not enough values to
    unpack; a string: TypeError): every taker of a pixel size says the one line (s50
    runfolder 3)."""
    from unetlab.inference.outlines import geojson_features

    with pytest.raises(UnetlabError, match=SAID):
        geojson_features(_ids(), pixel_size=bad)
    area = geojson_features(_ids(), pixel_size=(0.5, 0.25))["features"][0]["properties"]
    assert area["measurements"]["area_um2"] == pytest.approx(24 * 0.125)


def test_predict_objects_refuses_one_number_in_a_tuple():
    net = unetlab.UNet(in_channels=1, num_classes=2, depth=2, base_channels=4, padding="same")
    image = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    with pytest.raises(UnetlabError, match=SAID):
        unetlab.predict_objects(net, image, pixel_size=(0.5,))


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, (0.2, -0.2)], ids=repr)
def test_with_micrometres_refuses_them_too(bad):
    with pytest.raises(UnetlabError, match="positive finite"):
        with_micrometres(object_table(_ids()), bad)


def test_a_stack_is_refused_before_it_is_measured():
    with pytest.raises(UnetlabError, match="not 0"):
        unetlab.measure_objects(np.stack([_ids()] * 3), pixel_size=0, axes="TYX")


@pytest.mark.parametrize(
    "good, pair",
    [
        (0.325, (0.325, 0.325)),
        (2, (2.0, 2.0)),
        (np.float32(0.5), (0.5, 0.5)),
        ((0.1, 0.05), (0.1, 0.05)),
        ([0.1, 0.05], (0.1, 0.05)),
        (np.array([0.1, 0.05]), (0.1, 0.05)),
        (None, None),
    ],
    ids=repr,
)
def test_good_sizes_still_give_the_um_columns(good, pair):
    assert pixel_pair(good) == pytest.approx(pair) if pair else pixel_pair(good) is None
    table = unetlab.measure_objects(_ids(), pixel_size=good)
    if pair is None:
        assert "area_um2" not in table
    else:
        assert table["area_um2"][0] == pytest.approx(24 * pair[0] * pair[1])
        assert table["centroid_x_um"][0] == pytest.approx(5.5 * pair[1])


@pytest.mark.parametrize("value", [None, 0.65, 0.1, 99.9, math.inf, math.nan, "650"], ids=repr)
def test_a_pixel_size_of_microscope_scale_says_nothing(value):
    assert nanometre_slip(value, "--pixel-size") is None


def test_a_pixel_size_given_in_nm_is_said_with_the_um_value_to_give():
    """650 for 0.65 µm (walkkromp s51): areas 10^6 times too large in µm², unsaid."""
    assert nanometre_slip(650, "--pixel-size") == (
        "--pixel-size 650 is read as µm: 0.65 mm a pixel, more than a microscope gives; if you "
        "meant 650 nm, give --pixel-size 0.65 (the µm columns and scale are written as given)"
    )
    assert "0.2 mm between planes" in nanometre_slip(200.0, "--z-spacing")


def test_predict_says_a_pixel_size_in_nm_once_and_writes_as_given(tmp_path, caplog):
    from PIL import Image

    from unetlab import UNet, save_model
    from unetlab.cli import main

    Image.fromarray(np.full((24, 24), 9, np.uint8)).save(tmp_path / "a.png")
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "a.png")]
    for size, out in (("650", "nm"), ("0.65", "um")):
        caplog.clear()
        assert main([*argv, "--output", str(tmp_path / out), "--pixel-size", size]) == 0
        said = [r.getMessage() for r in caplog.records if "if you meant" in r.getMessage()]
        assert len(said) == (size == "650")
