"""A ``predict_folder`` call stopped part way (a notebook cell's Ctrl-C) says in one line how
many inputs are done and the call that goes on, as ``fit`` says its own (audit s62 user: a
bare KeyboardInterrupt), and that call predicts only the others."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.data.io import write_png
from unetlab.inference import folders
from unetlab.inference.folders import predict_folder
from unetlab.inference.tree import predict_tree


def _images(folder, n=3):
    folder.mkdir(parents=True)
    for i in range(n):
        write_png(folder / f"{i}.png", nuclei_image(48, 48, seed=i).astype(np.uint8))
    return folder


def _stopped_at(monkeypatch, second: int):
    """``predict_or_fail`` raising KeyboardInterrupt at its ``second``-th call."""
    real, calls = folders.predict_or_fail, []

    def stop(*args, **kwargs):
        calls.append(1)
        if len(calls) == second:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(folders, "predict_or_fail", stop)


def test_a_stopped_folder_says_the_inputs_done_and_the_call_that_goes_on(
    tmp_path, monkeypatch, caplog
):
    net, images, out = local_net(), _images(tmp_path / "images"), tmp_path / "out"
    _stopped_at(monkeypatch, 2)
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        predict_folder(net, images, out, objects=True, progress=False)
    said = [m for m in caplog.messages if m.startswith("predict_folder")]
    assert said == [
        f"predict_folder interrupted with the outputs of 1 of 3 inputs in {out}; "
        "continue with the same call with skip_existing=True"
    ]
    monkeypatch.undo()
    again = predict_folder(net, images, out, objects=True, progress=False, skip_existing=True)
    assert (len(again.written), len(again.skipped)) == (2, 1)


def test_a_stopped_tree_says_no_folder_line(tmp_path, monkeypatch, caplog):
    """In ``predict_tree`` the stop is the tree's: no folder names ``predict_folder``."""
    net, root = local_net(), tmp_path / "root"
    _images(root / "a"), _images(root / "b")
    _stopped_at(monkeypatch, 2)
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        predict_tree(net, root, tmp_path / "out", objects=True, progress=False)
    assert not [m for m in caplog.messages if m.startswith("predict_folder")]


def test_a_stopped_folder_says_a_large_image_starts_again_as_the_command_does(
    tmp_path, monkeypatch, caplog
):
    """The command's stop line says a streamed image whose objects alone were asked for
    starts again at its first row (its ids staged, ``.<name>.ids.partial``); the notebook's
    said nothing of it (review of s62 user): now the same note, in the call's spelling."""
    net, images, out = local_net(), _images(tmp_path / "images"), tmp_path / "out"

    def stop(*args, **kwargs):
        (out / ".1.png.ids.partial").mkdir(parents=True)  # as a streamed image stopped
        raise KeyboardInterrupt

    monkeypatch.setattr(folders, "predict_or_fail", stop)
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        predict_folder(net, images, out, objects=True, progress=False)
    said = [m for m in caplog.messages if m.startswith("predict_folder")]
    assert said == [
        f"predict_folder interrupted with the outputs of 0 of 3 inputs in {out}; continue "
        "with the same call with skip_existing=True (a large image stopped part way starts "
        "again at its first row: with objects only save_probabilities=True keeps its rows)"
    ]
