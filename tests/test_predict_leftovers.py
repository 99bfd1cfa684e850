"""A predict whose every input fails leaves nothing behind: a folder it made is removed, and
an existing one holds only what it held (s36 flags 8: a new folder was left holding
predict.json and .unetlab-outputs, the record of a run that wrote nothing)."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.models import UNet


@pytest.fixture
def argv(tmp_path):
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "zero.png").write_bytes(b"")  # an empty file: this input fails
    return ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]


def test_a_new_folder_of_a_run_that_wrote_nothing_is_removed(argv, tmp_path, capsys, caplog):
    caplog.set_level("INFO", logger="unetlab")
    out = tmp_path / "a" / "out"
    assert main([*argv, "--input", str(tmp_path / "in" / "zero.png"), "--output", str(out)]) == 3
    err = capsys.readouterr().err
    assert "empty file" in err
    assert not (tmp_path / "a").exists()  # its parent, made by the run too
    summary = next(r.getMessage() for r in caplog.records if "0 written" in r.getMessage())
    assert summary.endswith(": nothing written")  # it named the removed folder (-> OUT)


def test_an_existing_folder_keeps_what_it_held(argv, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main([*argv, "--input", str(tmp_path / "in"), "--output", str(out), "--overwrite"]) == 3
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_run_that_wrote_something_keeps_its_record(argv, tmp_path):
    write_png(tmp_path / "in" / "good.png", np.full((24, 24), 9, np.uint8))
    out = tmp_path / "out"
    assert main([*argv, "--input", str(tmp_path / "in"), "--output", str(out)]) == 3
    assert (out / "good.png").is_file() and (out / "predict.json").is_file()
