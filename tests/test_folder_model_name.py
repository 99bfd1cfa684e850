"""predict_folder's start line names the model by its checkpoint's file where load_model
read it (s50 notebook walk: "predict: 1 file(s) (0 large), model the model (1 -> 2
classes, ...)" for every model given from Python)."""

import logging

import numpy as np

import unetlab
from unetlab.data.io import write_png
from unetlab.models import UNet


def _start_line(caplog) -> str:
    return next(r.getMessage() for r in caplog.records if r.getMessage().startswith("predict:"))


def test_the_start_line_names_the_checkpoint_or_the_net(tmp_path, caplog):
    write_png(tmp_path / "in" / "a.png", np.full((16, 16), 90, np.uint8))
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    loaded = unetlab.load_model(unetlab.save_model(tmp_path / "mine.pt", net))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        unetlab.predict_folder(loaded, tmp_path / "in", tmp_path / "out", progress=False)
    assert "model mine.pt (1 -> 2 classes" in _start_line(caplog)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out2", progress=False)
    assert "model UNet (1 -> 2 classes" in _start_line(caplog)
