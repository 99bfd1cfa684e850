"""predict_folder and predict_tree given a function that loads the model (its channels not
known before it runs) refuse a band list no input can take with both fixes, each for its
model, in the Python API's form alone: no command line reaches that line (predict reads the
checkpoint's channels first: tests/test_bad_input6.py). Checked in s57; a pin."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.data.io import write_png
from unetlab.errors import UnetlabError
from unetlab.inference.folders import predict_folder
from unetlab.inference.tree import predict_tree
from unetlab.models import UNet


@pytest.mark.parametrize("predict", [predict_folder, predict_tree])
def test_a_loaders_band_list_is_refused_in_pythons_form(tmp_path, predict):
    write_png(tmp_path / "in" / "a.png", np.zeros((16, 16, 3), np.uint8))
    loaded = []

    def load():
        loaded.append(1)
        return UNet(4, 2, depth=2, base_channels=2, padding="same").eval()

    with pytest.raises(UnetlabError) as refused:
        predict(load, tmp_path / "in", tmp_path / "out", channel=[0, 1, 2, 3], progress=False)
    said = str(refused.value)
    assert said.startswith("channel=[0, 1, 2, 3]: band 3 is out of range"), said
    assert said.endswith(
        "give inputs of 4 channels or more (for a 4-channel model), or list at most 3 bands "
        "(for a model of 3 channels or fewer)"
    ), said
    assert "--" not in said and not loaded and not (tmp_path / "out").exists()
