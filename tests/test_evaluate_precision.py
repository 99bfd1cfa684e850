"""An evaluation says the precision it predicted in, and where the checkpoint's run validated
in another, that train.log's figures may differ by that (audit s50 roads: the run validated
in bf16, sign IoU 0.4509 in train.log, evaluate 0.4571 in fp32, neither saying its
precision)."""

from __future__ import annotations

import json

import pytest

from tests.test_evaluate_identity import data  # noqa: F401 (a fixture)
from tests.test_train import tiny_config, write_blobs
from unetlab.checkpoint import load_checkpoint, update_checkpoint
from unetlab.cli import main
from unetlab.train import fit

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py

SAID = "the checkpoint's run validated in bf16: the val figures of its train.log"


def _data(root, validated: str | None):
    """The identity tests' data set and model.pt, recording ``validated`` (None: nothing)."""
    if validated is not None:
        update_checkpoint(root / "model.pt", val_precision=validated)
    return root


def _evaluate(root, capsys) -> tuple[str, dict]:
    argv = ["evaluate", "--checkpoint", str(root / "model.pt"), "--data", str(root)]
    assert main([*argv, "--device", "cpu", "--json", str(root / "r.json")]) == 0
    return capsys.readouterr().out, json.loads((root / "r.json").read_text())


@pytest.mark.parametrize("native", [True, False])
def test_evaluate_names_its_precision_and_the_runs_other_one(data, capsys, monkeypatch, native):  # noqa: F811
    """The fix --precision bf16 is said only where bf16 runs natively: elsewhere
    --precision bf16 is refused (runtime.check_precision), so the line says the figures
    cannot be repeated here (audit s50: wrong advice on a CPU without native bf16)."""
    monkeypatch.setattr("unetlab.runtime.supports_bf16", lambda device="cpu": native)
    out, report = _evaluate(_data(data, "bf16"), capsys)
    header = next(line for line in out.splitlines() if line.startswith("class "))
    assert header.endswith("pixels  (predicted in fp32)")
    assert out.count(SAID) == 1
    fix = "may differ from these (fp32) by that; --precision bf16"
    cannot = "bf16 is not native on this device: they cannot be repeated here"
    assert (fix in out, cannot in out) == (native, not native)
    assert report["precision"] == "fp32" and report["val_precision"] == "bf16"


@pytest.mark.parametrize("validated", ["fp32", None])  # the same one, or an older file
def test_no_line_where_the_run_validated_alike_or_said_nothing(data, capsys, validated):  # noqa: F811
    out, report = _evaluate(_data(data, validated), capsys)
    assert "(predicted in fp32)" in out and "validated in" not in out
    assert report.get("val_precision") == validated


def test_a_run_records_the_precision_it_validated_in(tmp_path):
    blobs = write_blobs(tmp_path / "data", 4)
    fit(tiny_config(blobs, "train.epochs=1", "train.amp=off"), run_dir=tmp_path / "run")
    for name in ("best.pt", "last.pt"):
        assert load_checkpoint(tmp_path / "run" / "checkpoints" / name)["val_precision"] == "fp32"


@pytest.mark.parametrize("amp", ["native", "off"])
def test_an_older_file_says_its_precision_is_not_recorded_without_claiming_bf16(
    data,  # noqa: F811
    capsys,
    monkeypatch,
    amp,
):
    """A checkpoint from before val_precision was recorded (none in the file) evaluates, and
    where its run's train.amp validates in bf16 on a device that runs it, one line says so
    as a may, naming the fix; with amp off, no line (s51 scene255)."""
    monkeypatch.setattr("unetlab.runtime.supports_bf16", lambda device="cpu": True)
    update_checkpoint(data / "model.pt", train_config={"train": {"amp": amp}})
    assert "val_precision" not in load_checkpoint(data / "model.pt")
    out, report = _evaluate(data, capsys)
    said = "the checkpoint does not record the precision its run validated in"
    assert out.count(said) == (amp == "native") and SAID not in out
    assert ("; --precision bf16 predicts as it would have" in out) == (amp == "native")
    assert report.get("train_amp") == (amp if amp == "native" else None)
    assert "val_precision" not in report


def test_the_precision_fix_is_said_to_python_in_its_keyword(data, monkeypatch):  # noqa: F811
    """report.table() in a notebook tells precision='bf16', the command line --precision
    bf16: both were said at once to either (s55 newuser2)."""
    from unetlab.evaluate.report import precision_line

    monkeypatch.setattr("unetlab.runtime.supports_bf16", lambda device="cpu": True)
    source = {"val_precision": "bf16", "precision": "fp32", "device": "cpu"}
    (line,) = precision_line(source)
    assert line.endswith("; precision='bf16' predicts as it did") and "--precision" not in line
    (older,) = precision_line({"train_amp": "native", "precision": "fp32", "device": "cpu"})
    assert older.endswith("; precision='bf16' predicts as it would have")
