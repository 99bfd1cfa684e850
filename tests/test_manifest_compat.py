"""An output's stamp (session 42) is kept on a ``#stamp`` line of its own, after its
manifest line, which keeps its 5 fields: an older unetlab (50e93bf) skips and keeps such
comments, and read a 6th field as part of the input's stamp, so with it no input matched
its line (``--skip-existing`` predicted all again, and a failed input's earlier outputs
were removed). A stamp line after no line of its fields (the older unetlab dropped or
changed the line) is not trusted, and goes at the next rewrite; a manifest of the 6-field
form (session 42's first) is still read, and converted at the next rewrite."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_edited_output_kept import _argv, _edit
from unetlab.cli import main
from unetlab.manifest import MANIFEST, STAMP, output_stamps, restamp

#: the commit of the unetlab before the output stamps
OLDER = "50e93bf"


def _older_manifest(tmp_path):
    """The manifest module of unetlab :data:`OLDER`, from the repository's history."""
    repo = Path(__file__).resolve().parents[1]
    found = subprocess.run(
        ["git", "-C", str(repo), "show", f"{OLDER}:src/unetlab/manifest.py"],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        pytest.skip(f"no git history of {OLDER} here ({found.stderr.strip()})")
    path = tmp_path / "older_manifest.py"
    path.write_text(found.stdout)
    spec = importlib.util.spec_from_file_location("older_manifest", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["older_manifest"] = module  # dataclasses and the like look it up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["older_manifest"]
    return module


def test_an_older_unetlab_finds_each_input_unchanged(tmp_path):
    out, argv = tmp_path / "out", _argv(tmp_path, inputs=2)
    assert main(argv) == 0
    assert sorted(output_stamps(out, "predict")) == ["0.png", "1.png"]
    older = _older_manifest(tmp_path)
    assert older.changed_inputs(out, "predict") == set()  # failed: {'0.png', '1.png'}
    lines = [line for line in (out / MANIFEST).read_text().splitlines() if line[0] != "#"]
    assert all(line.count("\t") <= 4 for line in lines)
    assert main([*argv, "--skip-existing"]) == 0


def test_a_stamp_of_a_line_an_older_unetlab_changed_is_not_trusted(tmp_path):
    out = tmp_path / "out"
    assert main(_argv(tmp_path, inputs=2)) == 0
    stamps, older = output_stamps(out, "predict"), _older_manifest(tmp_path)
    source = older.made_from(out, "predict")["0.png"]
    older.forget(out, ["0.png"], "predict")  # its line dropped, the stamp line kept
    older.record(out, ["0.png"], command="predict", sources={"0.png": source}, made_by={})
    assert f"{STAMP}0.png\t" in (out / MANIFEST).read_text()
    assert output_stamps(out, "predict") == {"1.png": stamps["1.png"]}
    restamp(out, {"1.png": stamps["1.png"]}, "predict")  # any rewrite
    assert f"{STAMP}0.png\t" not in (out / MANIFEST).read_text()  # the orphan gone
    assert output_stamps(out, "predict") == {"1.png": stamps["1.png"]}


def _six_fields(text: str) -> str:
    """A manifest in session 42's first form: each stamp a 6th field of its line."""
    lines = []
    for line in text.splitlines():
        if line.startswith(STAMP):
            lines[-1] += "\t" + line.rsplit("\t", 1)[1]
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def test_a_manifest_of_the_six_field_form_is_read_and_converted(tmp_path, capsys):
    out, argv = tmp_path / "out", _argv(tmp_path, inputs=2)
    assert main(argv) == 0
    stamps = output_stamps(out, "predict")
    six = _six_fields((out / MANIFEST).read_text())
    assert STAMP not in six and [line.count("\t") for line in six.splitlines()][1:] == [5, 5, 1]
    (out / MANIFEST).write_text(six)
    assert output_stamps(out, "predict") == stamps
    theirs = _edit(out / "0.png")
    assert main([*argv, "--overwrite"]) == 3  # the edit is still told
    assert (out / "0.png").read_bytes() == theirs
    assert "exists and unetlab did not write it" in capsys.readouterr().err
    lines = (out / MANIFEST).read_text().splitlines()
    assert all(line.count("\t") <= 4 for line in lines if line[0] != "#")  # converted
    # the edited 0.png's line kept by --overwrite, its stamp too: the next run still tells
    # it the user's (s73 review; it was dropped, the file then "not unetlab's")
    assert output_stamps(out, "predict") == stamps
