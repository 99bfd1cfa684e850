"""Lines said once (:func:`~unetlab.data.read_notes.note_once`) outside a command were said
once a process: a notebook's second predict_folder of a folder with a sub-folder was not
told it is not read (s57). Each public call says them once; the command line once a command."""

from __future__ import annotations

import logging

import numpy as np

from unetlab.data.io import write_png
from unetlab.inference.folders import predict_folder
from unetlab.models import UNet

NOT_READ = "sub/ (1 image file) is not read"


def test_each_predict_folder_call_says_its_lines_once(tmp_path, caplog):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for path in (tmp_path / "in" / "a.png", tmp_path / "in" / "sub" / "b.png"):
        write_png(path, np.zeros((16, 16), np.uint8))
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    for n in range(2):
        with caplog.at_level(logging.INFO):
            predict_folder(net, tmp_path / "in", tmp_path / f"out{n}")
        assert caplog.text.count(NOT_READ) == 1, n
        caplog.clear()


def test_a_nested_call_keeps_the_outer_calls_lines(caplog):
    from unetlab.data.read_notes import note_once, said_in_call

    with caplog.at_level(logging.INFO, logger="unetlab"):
        with said_in_call():
            note_once("a line of the test", level=logging.INFO)
            with said_in_call():  # a public call within another: said already
                note_once("a line of the test", level=logging.INFO)
        with said_in_call():
            note_once("a line of the test", level=logging.INFO)
    assert caplog.text.count("a line of the test") == 2
