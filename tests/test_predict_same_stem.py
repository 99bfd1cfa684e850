"""Inputs of one folder whose outputs would have the same names (``a.png`` and ``a.tif``, ``a.png``
and ``A.jpg``, ``x.png`` and ``x_overlay.png`` with ``--overlay``) fail, named in one line, and
the other inputs are predicted (the lead's s37 list: the whole folder was refused, exit 2, so a
nightly batch wrote nothing because of two files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.inference.output_rules import shared_outputs


@pytest.fixture
def work(tmp_path):
    """in/a.png, in/a.tif, in/b.png (grey 20x24), a tiny checkpoint model.pt."""
    rng = np.random.default_rng(0)
    (tmp_path / "in").mkdir()
    for name in ("a.png", "a.tif", "b.png"):
        image = rng.integers(0, 255, (20, 24), dtype=np.uint8)
        if name.endswith(".tif"):
            tifffile.imwrite(tmp_path / "in" / name, image)
        else:
            Image.fromarray(image).save(tmp_path / "in" / name)
    save_model(tmp_path / "model.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _predict(work: Path, *flags: str) -> int:
    argv = ["predict", "--checkpoint", str(work / "model.pt"), "--input", str(work / "in")]
    return main([*argv, "--output", str(work / "out"), "--device", "cpu", *flags])


def _failed(capsys) -> list[str]:
    return [x for x in capsys.readouterr().err.splitlines() if x.startswith("unetlab predict:")]


def test_the_others_are_predicted_and_a_rerun_says_the_same(work, capsys):
    out = work / "out"
    assert _predict(work) == 3  # SOME_FAILED, not 2 with nothing written
    (line,) = _failed(capsys)
    a, tif = work / "in" / "a.png", work / "in" / "a.tif"
    assert line == (
        f"unetlab predict: failed: {a} and {tif} would write the same outputs: not predicted; "
        "rename one, or predict them into different output folders (--output, or out_dir in "
        "Python)"
    )
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "b.png",
        "predict.json",
    ]
    b = (out / "b.png").read_bytes()
    last_run = json.loads((out / "predict.json").read_text())["last_run"]
    reason = line.removeprefix("unetlab predict: failed: ")
    assert last_run["failed"] == {str(a): reason, str(tif): reason}

    assert _predict(work, "--skip-existing") == 3  # stable: the same line, b.png skipped
    assert _failed(capsys) == [line]
    assert (out / "b.png").read_bytes() == b and not (out / "a.png").exists()

    (work / "in" / "a.tif").rename(work / "in" / "a2.tif")  # the fix the line names
    assert _predict(work, "--skip-existing") == 0
    assert _failed(capsys) == []
    assert (out / "a.png").is_file() and (out / "a2.png").is_file()


def test_shared_outputs_names_each_group_once(tmp_path):
    files = [
        Path(f"in/{n}") for n in ("A.jpg", "a.png", "a.tif", "x.png", "x_overlay.png", "y.png")
    ]
    found = shared_outputs(tmp_path, files, overlay=True)
    assert list(found) == files[:5]  # y.png goes on
    assert (
        found[files[0]]
        == found[files[1]]
        == found[files[2]]
        == (
            "in/A.jpg, in/a.png and in/a.tif would write the same outputs: not predicted; rename all "
            "but one of these 3, or predict them into different output folders (--output, or out_dir "
            "in Python)"
        )
    )
    assert (
        found[files[3]]
        == found[files[4]]
        == (
            f"in/x.png's overlay and in/x_overlay.png's labels would both be "
            f"{tmp_path / 'x_overlay.png'}: not predicted; rename one, or predict them into "
            "different output folders (--output, or out_dir in Python)"
        )
    )
    assert shared_outputs(tmp_path, files[3:]) == {}  # without the overlay the names differ
    other = [Path("alice/img.png"), Path("bob/img.png")]
    assert shared_outputs(tmp_path, other)[other[1]].endswith(
        "or --recursive (predict_tree in Python)"
    )


def test_a_clash_with_last_nights_input_keeps_its_outputs_and_names_them(work, capsys, caplog):
    """s37 leftovers: a.tif arrives beside last night's predicted a.png: both fail, and
    a.png's outputs stay while predict.json says it failed, so a merge of the tables reads
    them; they are a.png's (unchanged), kept for a --skip-existing rerun once renamed, and
    named in the line. A changed a.png's are removed (made from a file that is gone)."""
    out, tif = work / "out", work / "in" / "a.tif"
    tif.rename(work / "later.tif")
    assert _predict(work, "--instances") == 0  # last night: a.png and b.png
    made = (out / "a_objects.csv").read_bytes()
    work.joinpath("later.tif").rename(tif)
    capsys.readouterr()
    assert _predict(work, "--instances") == 3
    (line,) = _failed(capsys)
    kept = "a.png's outputs a.png, a_objects.csv, a_objects.tif"
    assert f"; kept from an earlier run: {kept} (move them away if a merge" in line
    assert (out / "a_objects.csv").read_bytes() == made
    last_run = json.loads((out / "predict.json").read_text())["last_run"]
    assert kept in last_run["failed"][str(work / "in" / "a.png")]

    Image.fromarray(np.zeros((20, 24), np.uint8)).save(work / "in" / "a.png")  # changed
    assert _predict(work, "--instances") == 3
    assert "kept from an earlier run" not in capsys.readouterr().err
    assert "removed a.png's earlier outputs (a.png, a_objects.csv" in caplog.text
    assert not (out / "a_objects.csv").exists()
