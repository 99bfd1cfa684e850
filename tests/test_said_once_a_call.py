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


def test_each_training_call_says_its_datas_notes(two_pair_data, tmp_path, caplog):
    """plan_training and fit (no api_lines of its own) of a data set with a sub-folder of
    images: each call says it is not read."""
    from unetlab import fit, load_config, plan_training

    (two_pair_data / "images" / "more").mkdir()
    write_png(two_pair_data / "images" / "more" / "x.png", np.zeros((32, 32), np.uint8))
    keys = [f"data.root={two_pair_data}", "model.depth=2", "data.tile_size=32"]
    cfg = load_config(None, [*keys, "train.epochs=1"])
    calls = [lambda: plan_training(cfg)]  # then each fit's own, not said again before
    calls += [lambda n=n: fit(cfg, run_dir=tmp_path / f"run{n}", progress=False) for n in (1, 2)]
    for n, call in enumerate(calls):
        with caplog.at_level(logging.INFO):
            call()
        assert caplog.text.count("more/ (1 image file) is not read") == 1, n
        caplog.clear()
