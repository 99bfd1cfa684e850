"""predict_file refuses the CLI's spellings as predict_folder does, naming the API's
(audit s32 notebook 5, 10)."""

import numpy as np
import pytest

from unetlab import UNet
from unetlab.data.io import write_png
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file


def test_predict_file_names_the_apis_spelling(tmp_path):
    write_png(tmp_path / "a.png", np.zeros((16, 16), np.uint8))
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    with pytest.raises(UnetlabError, match="instances: use objects=True"):
        predict_file(model, tmp_path / "a.png", tmp_path / "out", instances=True)
    assert not (tmp_path / "out").exists()
