"""A folder predicted again by the same model with other output settings (objects'
min_area 1, then 400) replaced every output without a word (152 objects became 3: review
of s62 user): one line names the settings that changed, as a change of the model's
settings is named."""

from __future__ import annotations

import logging

import numpy as np

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.data.io import write_png
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions


def _lines(caplog) -> list[str]:
    return [m for m in caplog.messages if "made with other output settings" in m]


def test_outputs_of_other_object_settings_are_named_as_they_are_replaced(tmp_path, caplog):
    images, out, net = tmp_path / "images", tmp_path / "out", local_net()
    images.mkdir()
    for i in range(2):
        write_png(images / f"{i}.png", nuclei_image(48, 48, seed=i).astype(np.uint8))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_folder(net, images, out, objects=ObjectOptions(min_area=1), progress=False)
        assert _lines(caplog) == []
        predict_folder(net, images, out, objects=ObjectOptions(min_area=1), progress=False)
        assert _lines(caplog) == []  # the same settings: the line that it predicts again
        predict_folder(net, images, out, objects=ObjectOptions(min_area=400), progress=False)
    assert _lines(caplog) == [
        f"{out} holds the outputs of 0.png and 1 more input made with other output settings "
        "(objects min_area 1 there, objects min_area 400 here): predicted again, replacing them"
    ]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        again = ObjectOptions(min_area=1)
        predict_folder(net, images, out, objects=again, progress=False, skip_existing=True)
    assert (
        len(_lines(caplog)) == 1
        and "(objects min_area 400 there, objects min_area 1 here)" in _lines(caplog)[0]
    )
