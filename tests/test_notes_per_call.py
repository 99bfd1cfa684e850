"""A public Python call is one command for the lines said once (``note_once``, the TIFF and
world-file notes of :func:`~unetlab.data.read_notes.first_said`): a notebook's second
``predict_folder`` or ``evaluate_model`` on files with the same trouble is told again
(they were said once a process: the second call said nothing), one call says each once,
a call within a call (predict_folder's predict_file) or within the CLI's command once."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

import unetlab
from tests.test_predict_objects import local_net, nuclei_image
from unetlab.config import load_config
from unetlab.data import read_notes, tiffmeta, world_file
from unetlab.data.io import write_png

NO_UNIT = "its resolution tags have no unit"
SUBFOLDER = "not searched"
NOT_A_WORLD_FILE = "not a world file"


@pytest.fixture(autouse=True)
def _unsaid(monkeypatch):
    """What other tests said in this process, forgotten (said once a process outside a call)."""
    monkeypatch.setattr(read_notes, "_said", set())
    monkeypatch.setattr(tiffmeta, "_WARNED", set())
    monkeypatch.setattr(world_file, "_WARNED", set())


def _no_unit_tiffs(folder, count: int = 3) -> None:
    """``count`` nuclei TIFFs whose resolution tags have no unit (one line for all)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = nuclei_image(40, 40, seed=i)
        tifffile.imwrite(folder / f"t{i}.tif", image, resolution=(2, 2), resolutionunit=1)


def _said(caplog, words: str) -> int:
    return sum(words in m for m in caplog.messages)


def test_two_predict_folder_calls_each_say_the_folders_notes_once(tmp_path, caplog):
    _no_unit_tiffs(tmp_path / "in")
    write_png(tmp_path / "in" / "more" / "b.png", nuclei_image(40, 40))  # a sub-folder
    net = local_net()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out1")
        first = (_said(caplog, NO_UNIT), _said(caplog, SUBFOLDER))
        unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out2")
    assert first == (1, 1), caplog.messages  # 3 TIFFs, each read several times: one line
    assert (_said(caplog, NO_UNIT), _said(caplog, SUBFOLDER)) == (2, 2), caplog.messages


def test_a_malformed_world_file_is_said_at_each_call_once(tmp_path, caplog):
    write_png(tmp_path / "in" / "a.png", nuclei_image(40, 40))
    (tmp_path / "in" / "a.pgw").write_text("not six numbers\n")
    net = local_net()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        for out in ("out1", "out2"):
            unetlab.predict_folder(net, tmp_path / "in", tmp_path / out, objects=True)
            assert (tmp_path / out / "a_objects.csv").is_file()
    assert _said(caplog, NOT_A_WORLD_FILE) == 2, caplog.messages


def test_calls_within_a_command_say_it_once(tmp_path, caplog):
    """Within the CLI's read_notes (or an outer call), the calls add no command of their own."""
    _no_unit_tiffs(tmp_path / "in", count=1)
    net = local_net()
    with caplog.at_level(logging.INFO, logger="unetlab"), read_notes.read_notes():
        unetlab.predict_file(net, tmp_path / "in" / "t0.tif", tmp_path / "out1")
        unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out2")
    assert _said(caplog, NO_UNIT) == 1, caplog.messages


def test_two_evaluate_model_calls_each_say_it_once(tmp_path, caplog):
    """The data folder's sub-folder of images, searched more than once a call: a line a call."""
    for i in range(2):
        image = nuclei_image(40, 40, seed=i)
        write_png(tmp_path / "data" / "images" / f"t{i}.png", image)
        write_png(tmp_path / "data" / "masks" / f"t{i}.png", (image > 100).astype(np.uint8) * 255)
    write_png(tmp_path / "data" / "images" / "old" / "t9.png", nuclei_image(40, 40))
    net = local_net()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        unetlab.evaluate_model(net, tmp_path / "data")
        first = _said(caplog, SUBFOLDER)
        unetlab.evaluate_model(net, tmp_path / "data")
    assert first == 1, caplog.messages
    assert _said(caplog, SUBFOLDER) == 2, caplog.messages


def test_two_plan_training_calls_each_say_it_once(two_pair_data, caplog):
    """plan_training reads the data folder's pairs more than once: a line a call."""
    write_png(two_pair_data / "images" / "old" / "09.png", nuclei_image(32, 32))
    cfg = load_config(None, [f"data.root={two_pair_data}"])
    with caplog.at_level(logging.INFO, logger="unetlab"):
        unetlab.plan_training(cfg)
        first = _said(caplog, SUBFOLDER)
        unetlab.plan_training(cfg)
    assert first == 1, caplog.messages
    assert _said(caplog, SUBFOLDER) == 2, caplog.messages
