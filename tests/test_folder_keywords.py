"""predict_folder refuses keywords that are no setting before anything is written, naming
the API's spelling (audit s32 notebook 5: ``instances=True``, ``overlay=True`` and
``min_area=30`` failed every file one by one, the output folder already claimed)."""

import numpy as np
import pytest

import unetlab
from unetlab import UNet
from unetlab.data.io import write_png
from unetlab.errors import UnetlabError
from unetlab.inference.keywords import check_keywords


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("a", "b"):
        write_png(folder / f"{name}.png", np.zeros((16, 16), np.uint8))
    return folder


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(instances=True), r"instances: use objects=True \(or objects=ObjectOptions"),
        (dict(overlay=True), r"overlay: use draw_overlay=True"),
        (dict(min_area=30), r"min_area: .*ObjectOptions\.for_model\(m, min_area=30\)"),
        (dict(tile_sise=32), r"tile_sise: did you mean tile_size\?"),
        (dict(large_pixels=10), r"large_pixels: use large_threshold="),
    ],
)
def test_a_cli_spelling_is_refused_before_the_folder(tmp_path, images, settings, message):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    out = tmp_path / "out"
    with pytest.raises(UnetlabError, match=message) as err:
        unetlab.predict_folder(model, images, out, **settings)
    assert "\n" not in str(err.value) and "nothing was written" in str(err.value)
    assert not out.exists()


def test_a_model_that_loads_later_is_not_loaded(tmp_path, images):
    loaded = []
    with pytest.raises(UnetlabError, match="instances: .*; overlay: use draw_overlay"):
        unetlab.predict_folder(loaded.append, images, tmp_path / "out", instances=1, overlay=1)
    assert not loaded and not (tmp_path / "out").exists()


def test_the_right_spellings_pass():
    check_keywords(dict(tile_size=32, device="cpu", options=None, axes="YX"))
    with pytest.raises(UnetlabError, match="xyz: the keywords are color, "):
        check_keywords(dict(xyz=1))


def test_the_right_spellings_write_their_outputs(tmp_path, images):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    done = unetlab.predict_folder(model, images, tmp_path / "out", draw_overlay=True, tile_size=16)
    assert not done.failed and len(done.written) == 2
    assert (tmp_path / "out" / "a_overlay.png").exists()


def test_the_internal_model_areas_is_no_setting_offered():
    """``model_areas`` (where ObjectOptions' least areas came from) is internal: a keyword of
    that name is not offered as an object setting to give ObjectOptions.for_model."""
    with pytest.raises(UnetlabError) as err:
        check_keywords({"model_areas": ("min_area",)})
    assert "model_areas: " in str(err.value) and "object setting" not in str(err.value)
    with pytest.raises(UnetlabError) as err:
        check_keywords({"min_seed_area": 3})
    assert "min_seed_area: an object setting" in str(err.value)
