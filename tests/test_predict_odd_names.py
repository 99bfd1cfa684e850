"""Input names the output folder's manifest (one line per file, tab-separated fields) cannot
hold as they are (audit s37 paths): a line break or a tab in a file name is refused before
anything is written, naming the file; a tab in a folder's name leaves the input out of the
line, so the outputs stay unetlab's and ``--skip-existing`` skips them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main


@pytest.fixture
def model(tmp_path) -> Path:
    torch.manual_seed(1)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path / "m.pt"


def _images(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in names:
        Image.fromarray(rng.integers(0, 255, (24, 20), dtype=np.uint8)).save(folder / name)
    return folder


def _predict(model: Path, inputs: Path, out: Path, *extra: str) -> int:
    argv = ["predict", "--checkpoint", str(model), "--input", str(inputs), "--output", str(out)]
    return main([*argv, "--device", "cpu", *extra])


@pytest.mark.parametrize("name", ["new\nline.png", "tab\there.png"])
def test_a_line_break_or_tab_in_a_file_name_is_refused_before_anything_is_written(
    tmp_path, model, capsys, name
):
    """Before: the file's outputs were written, its manifest lines broke, and every later run
    into the folder was refused for 'files that unetlab did not write' (with --overwrite
    too), the message itself cut by the line break."""
    inputs = _images(tmp_path / "in", "a.png", name)
    assert _predict(model, inputs, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and repr(str(inputs / name)) in err and "rename the file" in err
    assert not (tmp_path / "out").exists()


def test_a_tab_in_a_folder_name_keeps_the_outputs_unetlabs(tmp_path, model):
    inputs = _images(tmp_path / "raw\tdata", "a.png", "b.png")
    out = tmp_path / "out"
    assert _predict(model, inputs, out) == 0
    written = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    assert _predict(model, inputs, out, "--skip-existing") == 0  # both finished: skipped
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")} == written
    assert _predict(model, inputs, out) == 0  # the outputs are its own: replaced


def test_an_input_named_with_250_bytes_is_predicted(tmp_path, model):
    """82 kanji (250 bytes; a file system holds 255): its labels were refused 'File name too
    long', their temporary's name 18 bytes longer, and the run stopped; a rerun's check of
    a large output's staging folder (the name + '.partial') was a traceback."""
    name = "顕" * 82 + ".png"
    inputs = _images(tmp_path / "in", name, "a.png")
    out = tmp_path / "out"
    assert _predict(model, inputs, out) == 0
    assert (out / name).is_file() and (out / "a.png").is_file()
    assert _predict(model, inputs, out) == 0


def test_a_name_too_long_for_the_disk_says_so(tmp_path, model, capsys):
    name = "顕" * 82 + ".png"  # its overlay's name, 258 bytes, cannot be
    inputs = _images(tmp_path / "in", name)
    assert _predict(model, inputs, tmp_path / "out", "--overlay") == 2
    assert (
        "holds at most 255 bytes there (a path 4096): give it (or the input"
        in capsys.readouterr().err
    )


def test_a_folder_given_also_through_a_symlink_is_predicted_once(tmp_path, model):
    """Before: 'in/a.png and link/a.png would write the same outputs: predict them into
    different output folders', of one file. Two files of one name still clash: each failed
    (exit 3), the other inputs predicted."""
    inputs = _images(tmp_path / "in", "a.png", "b.png")
    (tmp_path / "link").symlink_to(inputs, target_is_directory=True)
    _images(tmp_path / "other", "a.png")

    def predict(second: str, out: str) -> int:
        argv = ["predict", "--checkpoint", str(model), "--device", "cpu", "--output"]
        return main([*argv, str(tmp_path / out), "--input", str(inputs), str(tmp_path / second)])

    assert predict("link", "out") == 0
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["a.png", "b.png"]
    assert predict("other", "out2") == 3
    assert sorted(p.name for p in (tmp_path / "out2").glob("*.png")) == ["b.png"]
