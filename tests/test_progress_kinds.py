"""``progress`` means one thing everywhere: True a bar, False none, and where work comes in
named pieces a function called with each piece's name; a function where none is called
(fit) is refused, not ignored (audit s32 notebook 10)."""

import numpy as np
import pytest

import unetlab
from unetlab import UNet
from unetlab.data.io import write_png
from unetlab.errors import UnetlabError
from unetlab.progress import checked

from .test_train import tiny_config, write_blobs


def test_checked():
    assert checked(True, "x") is True and checked(None, "x") is None and checked(print, "x")
    with pytest.raises(UnetlabError, match="or False, or a function of x, not 'yes'"):
        checked("yes", "x")
    with pytest.raises(UnetlabError, match=r"True \(a progress bar\) or False, not <built-in"):
        checked(print, "x", calls=False)


def test_predict_folder_calls_a_function_with_each_inputs_name(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a", "b"):
        write_png(images / f"{name}.png", np.zeros((16, 16), np.uint8))
    (images / "c.png").write_text("not an image")
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    names: list[str] = []
    done = unetlab.predict_folder(model, images, tmp_path / "out", progress=names.append)
    assert names == ["a.png", "b.png", "c.png"] and len(done.failed) == 1
    with pytest.raises(UnetlabError, match="progress must be True"):
        unetlab.predict_folder(model, images, tmp_path / "other", progress="yes")
    assert not (tmp_path / "other").exists()


def test_fit_refuses_a_function_before_the_run_folder(tmp_path):
    cfg = tiny_config(write_blobs(tmp_path / "data", 4))
    with pytest.raises(UnetlabError, match=r"progress must be True \(a progress bar\) or False"):
        unetlab.fit(cfg, run_dir=tmp_path / "run", progress=print)
    assert not (tmp_path / "run").exists()
