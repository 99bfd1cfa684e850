"""An output a finished run wrote and the user then changed (an edited mask saved over it,
any other file of its name) is not unetlab's any more: a rerun never replaces it, with
``--overwrite`` or other settings, nor removes it as the input's output of other settings;
that input fails in one line naming the file (s42 edges2: its manifest line still made it
unetlab's, and a rerun replaced it). The manifest records each output's size and time once
written (older lines, none: as before)."""

from __future__ import annotations

import signal

import numpy as np
import tifffile
import torch

import unetlab.inference.folders as folders
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.manifest import output_stamps
from unetlab.models import UNet
from unetlab.signals import Stopped


def _argv(tmp_path, *extra, seed=0, inputs=1):
    if not (tmp_path / f"m{seed}.pt").exists():
        torch.manual_seed(seed)
        model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
        save_model(tmp_path / f"m{seed}.pt", model)
        for i in range(inputs):
            image = np.random.default_rng(i).integers(0, 255, (24, 24)).astype(np.uint8)
            write_png(tmp_path / "in" / f"{i}.png", image)
    argv = [
        "predict",
        "--checkpoint",
        str(tmp_path / f"m{seed}.pt"),
        "--input",
        str(tmp_path / "in"),
    ]
    return [*argv, "--output", str(tmp_path / "out"), "--device", "cpu", *extra]


def _edit(path) -> bytes:
    write_png(path, np.full((24, 24), 7, np.uint8))  # the user's mask, saved over it
    return path.read_bytes()


def test_an_edited_output_is_not_replaced(tmp_path, capsys, caplog):
    out = tmp_path / "out"
    assert main(_argv(tmp_path)) == 0
    theirs = _edit(out / "0.png")
    assert main(_argv(tmp_path, "--overwrite")) == 3
    assert (out / "0.png").read_bytes() == theirs  # was replaced
    assert "0.png changed since unetlab predict wrote it" in caplog.text
    err = capsys.readouterr().err
    assert "out/0.png exists and unetlab did not write it" in err and "move the file" in err
    assert main(_argv(tmp_path, seed=1)) == 2  # another checkpoint: refused, naming it
    assert "holds files that unetlab did not write (0.png)" in capsys.readouterr().err
    assert (out / "0.png").read_bytes() == theirs
    (out / "0.png").rename(tmp_path / "mine.png")
    assert main(_argv(tmp_path, seed=1)) == 0 and (out / "0.png").exists()


def test_an_edited_output_of_other_settings_is_not_removed(tmp_path):
    out = tmp_path / "out"
    assert main(_argv(tmp_path, "--instances")) == 0
    ids = tifffile.imread(out / "0_objects.tif")
    tifffile.imwrite(out / "0_objects.tif", np.zeros_like(ids))  # objects corrected by hand
    theirs = (out / "0_objects.tif").read_bytes()
    assert main(_argv(tmp_path, "--overwrite")) == 0  # labels only: other settings
    assert (out / "0_objects.tif").read_bytes() == theirs  # was removed
    assert not (out / "0_objects.csv").exists()  # unetlab's, untouched: removed as before


def test_a_rerun_stopped_after_it_rewrote_outputs_keeps_them_its_own(tmp_path, monkeypatch):
    """A rerun of the same settings rewrites outputs whose lines it does not add again: its
    stop (a SIGTERM, a kill) must not leave them taken for someone else's."""
    out, argv = tmp_path / "out", _argv(tmp_path, inputs=3)
    assert main(argv) == 0
    real, calls = folders.predict_or_fail, []

    def stopped(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Stopped(signal.SIGTERM)
        return real(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(folders, "predict_or_fail", stopped)
        assert main(argv) == 143
    assert sorted(output_stamps(out, "predict")) == ["2.png"]  # left as it was: stamped again
    assert main(argv) == 0
    assert main(argv) == 0
    assert sorted(output_stamps(out, "predict")) == ["0.png", "1.png", "2.png"]
