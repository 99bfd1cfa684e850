"""Each prediction records what made it (the checkpoint's path and sha256, the settings that
change the outputs), and ``--skip-existing`` counts an output as finished only when the same
checkpoint and settings made it (the repro audit: a second checkpoint's run with --tta
skipped the first one's 00.png and left a folder of two models' outputs, without a word)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from unetlab import UNet, load_model, save_model
from unetlab.cli import main
from unetlab.errors import OutputError
from unetlab.inference.files import predict_file
from unetlab.inference.folders import predict_folder
from unetlab.inference.records import TIFF_KEY, file_sha256, read_records
from unetlab.outputs import (
    MANIFEST,
    PENDING,
    RECORD_FILES,
    confirm,
    forget,
    made_from,
    record,
    recorded_keys,
)


def _net(seed: int) -> UNet:
    torch.manual_seed(seed)
    return UNet(1, 2, depth=2, base_channels=2, padding="same")


@pytest.fixture
def work(tmp_path):
    """in/00.png, 01.png, 02.png (grey 24x20), two tiny checkpoints m1.pt and m2.pt."""
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for name in ("00", "01", "02"):
        image = rng.integers(0, 255, (24, 20), dtype=np.uint8)
        Image.fromarray(image).save(tmp_path / "in" / f"{name}.png")
    save_model(tmp_path / "m1.pt", _net(1))
    save_model(tmp_path / "m2.pt", _net(2))
    return tmp_path


def _predict(work: Path, checkpoint: str, inputs: str, *extra: str) -> int:
    argv = ["predict", "--checkpoint", str(work / checkpoint), "--input", str(work / inputs)]
    return main([*argv, "--output", str(work / "out"), "--device", "cpu", *extra])


def _error(capsys) -> str:
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "error:" in x]
    return line


def _keys(folder: Path) -> dict[str, str | None]:
    return {
        n: k for n, k in recorded_keys(folder, "predict").items() if n != RECORD_FILES["predict"]
    }


def _outputs(folder: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in folder.iterdir()
        if p.name not in (MANIFEST, RECORD_FILES["predict"])
    }


# --- unetlab predict --skip-existing -----------------------------------------------------------


def test_skip_existing_refuses_another_checkpoints_outputs(work, capsys):
    """The audit's repro: e1's 00.png, then b1 --tta over the folder with --skip-existing."""
    assert _predict(work, "m1.pt", "in/00.png") == 0
    before = _outputs(work / "out")
    assert _predict(work, "m2.pt", "in", "--skip-existing", "--tta") == 2
    line = _error(capsys)
    assert "holds another model's outputs: those of 00.png were made by checkpoint " in line
    assert f"{work / 'm1.pt'} (sha256 {file_sha256(work / 'm1.pt')[:12]})" in line
    assert f"not by this run's checkpoint {work / 'm2.pt'}" in line
    assert line.endswith(
        "another --output folder, or add --overwrite to predict them again with this one"
    )
    assert _outputs(work / "out") == before  # nothing written, 01 and 02 neither
    assert _predict(work, "m2.pt", "in", "--skip-existing", "--tta", "--overwrite") == 0
    keys = _keys(work / "out")
    assert sorted(keys) == ["00.png", "01.png", "02.png"] and len(set(keys.values())) == 1
    stamps = {p.name: p.stat().st_mtime_ns for p in (work / "out").glob("*.png")}
    assert _predict(work, "m2.pt", "in", "--skip-existing", "--tta") == 0  # all finished now
    assert {p.name: p.stat().st_mtime_ns for p in (work / "out").glob("*.png")} == stamps


def test_skip_existing_refuses_outputs_of_other_settings_and_redoes_other_output_options(
    work, capsys
):
    assert _predict(work, "m1.pt", "in") == 0
    assert _predict(work, "m1.pt", "in", "--skip-existing", "--tta") == 2  # TTA changes them
    assert "other settings (no TTA there, TTA 8 transforms here)" in _error(capsys)
    assert _predict(work, "m1.pt", "in", "--skip-existing", "--blend", "gaussian") == 2
    stamp = (work / "out" / "00.png").stat().st_mtime_ns
    assert _predict(work, "m1.pt", "in", "--skip-existing", "--color") == 0  # predicted again
    assert (work / "out" / "00.png").stat().st_mtime_ns != stamp
    assert Image.open(work / "out" / "00.png").mode == "P"


def test_skip_existing_refuses_outputs_an_older_manifest_names_no_model_for(work, capsys):
    assert _predict(work, "m1.pt", "in") == 0
    names = [n for n in made_from(work / "out", "predict") if n != RECORD_FILES["predict"]]
    (work / "out" / MANIFEST).write_text("".join(f"{n}\tpredict\n" for n in names))  # before
    (work / "out" / RECORD_FILES["predict"]).unlink()
    assert _predict(work, "m1.pt", "in", "--skip-existing") == 2
    assert "were made by a model no record names (an older unetlab wrote them)" in _error(capsys)
    assert _predict(work, "m1.pt", "in") == 0  # predicted again, as before
    assert _predict(work, "m1.pt", "in", "--skip-existing") == 0


def test_the_folder_and_files_record_what_made_them(work):
    assert _predict(work, "m1.pt", "in/00.png", "--save-probabilities") == 0
    (key,) = set(_keys(work / "out").values())
    made = read_records(work / "out")[key]
    sha = hashlib.sha256((work / "m1.pt").read_bytes()).hexdigest()
    assert made["checkpoint"] == str(work / "m1.pt") and made["sha256"] == sha
    assert made["model"] == {
        "tta": [],
        "channel": None,
        "blend": "mean",
        "precision": "fp32",
        "level": 0,
    }
    assert made["outputs"] == {"labels": "class indices", "objects": None}
    png = Image.open(work / "out" / "00.png")
    assert json.loads(png.text[TIFF_KEY])["key"] == key and png.size == (20, 24)
    with tifffile.TiffFile(work / "out" / "00_prob.tif") as tif:  # Fiji and napari: as before
        assert tif.is_imagej and tif.series[0].axes == "CYX" and tif.series[0].shape == (2, 24, 20)
        ij = tif.imagej_metadata
        assert json.loads(ij["Properties"][TIFF_KEY])["sha256"] == sha
        assert "unetlab.classes" in ij["Properties"]
        assert f"unetlab prediction: checkpoint {work / 'm1.pt'} (sha256 {sha[:12]})" in ij["Info"]


def test_a_stacks_label_tiff_records_what_made_it(work):
    stack = np.random.default_rng(1).integers(0, 255, (3, 24, 20), dtype=np.uint8)
    tifffile.imwrite(work / "in" / "s.tif", stack, imagej=True, metadata={"axes": "ZYX"})
    assert _predict(work, "m2.pt", "in/s.tif") == 0
    with tifffile.TiffFile(work / "out" / "s.tif") as tif:
        assert tif.is_imagej and tif.series[0].axes == "ZYX" and tif.series[0].shape == (3, 24, 20)
        made = json.loads(tif.imagej_metadata["Properties"][TIFF_KEY])
    assert made["checkpoint"] == str(work / "m2.pt") and made["key"] == _keys(work / "out")["s.tif"]


# --- the manifest: a key is confirmed only once its file is written --------------------------


def test_a_key_is_pending_until_the_file_is_written(tmp_path):
    (tmp_path / MANIFEST).write_text("a.png\tpredict\t/i/a\n")  # session 27's first lines
    record(
        tmp_path, ["a.png"], command="predict", sources={"a.png": "/i/a"}, made_by={"a.png": "K"}
    )
    assert recorded_keys(tmp_path, "predict") == {"a.png": PENDING + "K"}
    forget(tmp_path, ["a.png"], "predict", made_by={"a.png": PENDING + "K"})  # not written
    assert recorded_keys(tmp_path, "predict") == {"a.png": None}  # the earlier line holds
    assert made_from(tmp_path, "predict") == {"a.png": "/i/a"}
    new = record(
        tmp_path, ["a.png"], command="predict", sources={"a.png": "/i/a"}, made_by={"a.png": "K"}
    )
    assert new == ["a.png"]
    confirm(tmp_path, {"a.png": "K"}, "predict")
    assert recorded_keys(tmp_path, "predict") == {"a.png": "K"}
    assert (
        record(
            tmp_path,
            ["a.png"],
            command="predict",
            sources={"a.png": "/i/a"},
            made_by={"a.png": "K"},
        )
        == []
    )


def test_an_interrupted_run_leaves_no_finished_output_under_its_key(work, capsys):
    assert _predict(work, "m1.pt", "in") == 0
    m1 = _keys(work / "out")["00.png"]
    # m2's run was killed after listing its names, before writing 00.png: m1's file is there
    record(
        work / "out",
        ["00.png"],
        command="predict",
        sources={"00.png": str(work / "in" / "00.png")},
        made_by={"00.png": "m2-run"},
    )
    assert _predict(work, "m1.pt", "in", "--skip-existing") == 2  # not m1's for sure either
    assert "a run that stopped before it wrote them" in _error(capsys)
    assert _predict(work, "m1.pt", "in") == 0
    assert _keys(work / "out")["00.png"] == m1


# --- the Python API ----------------------------------------------------------------------------


def test_predict_folder_skips_only_the_same_models_outputs(work):
    m1, m2 = load_model(work / "m1.pt"), _net(3).eval()  # m2: no checkpoint file
    predict_folder(m1, work / "in" / "00.png", work / "out")
    with pytest.raises(OutputError, match=r"another model's outputs.*or pass overwrite=True"):
        predict_folder(m2, work / "in", work / "out", skip_existing=True)
    assert not (work / "out" / "01.png").exists()
    done = predict_folder(m2, work / "in", work / "out", skip_existing=True, overwrite=True)
    assert len(done.written) == 3 and not done.skipped
    again = predict_folder(m2, work / "in", work / "out", skip_existing=True)
    assert len(again.skipped) == 3
    records = read_records(work / "out")
    assert {r["checkpoint"] for r in records.values()} == {str(work / "m1.pt"), None}
    with torch.no_grad():
        next(m2.parameters()).add_(1.0)  # other weights: another model
    with pytest.raises(OutputError, match="weights sha256"):
        predict_folder(m2, work / "in", work / "out", skip_existing=True)


def test_predict_file_records_its_model(work):
    model = load_model(work / "m2.pt")
    predict_file(model, work / "in" / "01.png", work / "out", tta=True)
    (made,) = read_records(work / "out").values()
    assert made["sha256"] == file_sha256(work / "m2.pt") and len(made["model"]["tta"]) == 8
    assert _keys(work / "out") == {"01.png": made["key"]}


def test_file_sha256_hashes_files_once(tmp_path):
    path = tmp_path / "w.pt"
    path.write_bytes(b"x" * 3_000_000)
    assert file_sha256(path) == hashlib.sha256(b"x" * 3_000_000).hexdigest()
    path.write_bytes(b"y" * 3_000_001)  # another file now: hashed again
    assert file_sha256(path) == hashlib.sha256(b"y" * 3_000_001).hexdigest()


# --- a killed run, resumed with --skip-existing (hostile audit 1) ------------------------------


def _as_killed(folder: Path, unwritten: str) -> None:
    """The folder as a run leaves it that was killed after writing every output but those
    of the stem ``unwritten``: its lines still PENDING, the record not written."""
    lines = [x.split("\t") for x in (folder / MANIFEST).read_text().splitlines(keepends=True)]
    for fields in lines:
        if len(fields) >= 4:  # name, command, input, key (and the input's stamp, since s34)
            fields[3] = PENDING + fields[3]
    (folder / MANIFEST).write_text("".join("\t".join(fields) for fields in lines))
    for path in folder.glob(f"{unwritten}*"):
        path.unlink()
    (folder / RECORD_FILES["predict"]).unlink()


def test_a_killed_run_resumed_with_skip_existing_keeps_every_outputs_line(work):
    assert _predict(work, "m1.pt", "in") == 0
    m1 = _keys(work / "out")["00.png"]
    _as_killed(work / "out", "02")
    assert set(_keys(work / "out").values()) == {PENDING + m1}
    out = work / "out"
    kept = {p.name: p.stat().st_ino for p in out.glob("0[01]*")}
    assert _predict(work, "m1.pt", "in", "--skip-existing") == 0
    assert (out / "02.png").is_file() and {n: (out / n).stat().st_ino for n in kept} == kept
    assert _keys(out) == dict.fromkeys(["00.png", "01.png", "02.png"], m1)
    listed = (out / MANIFEST).read_text()
    assert all(listed.count(f"{n}.png\tpredict\t") == 1 for n in ("00", "01"))
    assert _predict(work, "m1.pt", "in", "--skip-existing") == 0  # was: refused as foreign
    assert {n: (out / n).stat().st_ino for n in kept} == kept  # skipped again
    assert _predict(work, "m1.pt", "in") == 0  # nor is the folder foreign without it


def test_a_killed_runs_object_tables_count_once_its_label_image_is_written(work):
    from unetlab.inference.objects import ObjectOptions

    model = load_model(work / "m1.pt")
    objects = ObjectOptions.for_model(model)
    predict_folder(model, work / "in", work / "out", objects=objects)
    _as_killed(work / "out", "02")
    again = predict_folder(model, work / "in", work / "out", objects=objects, skip_existing=True)
    assert len(again.written) == 1 and len(again.skipped) == 2  # was: all 3 predicted again
    key = _keys(work / "out")["00.png"]
    assert _keys(work / "out")["00_objects.csv"] == key and not key.startswith(PENDING)


def test_skip_existing_redoes_a_stopped_run_of_the_same_checkpoint(work, capsys):
    """Audit s30 slides 3: a re-predict with other settings (--seed-threshold) killed before
    it confirmed its outputs; --skip-existing with the first settings is the same model's
    run: it predicts that input again, not 'another model's outputs'."""
    assert _predict(work, "m1.pt", "in") == 0
    m1 = _keys(work / "out")["00.png"]
    other_settings = m1.split("-")[0] + "-0123abcd"
    record(
        work / "out",
        ["00.png"],
        command="predict",
        sources={"00.png": str(work / "in" / "00.png")},
        made_by={"00.png": other_settings},
    )
    assert _keys(work / "out")["00.png"] == PENDING + other_settings
    assert _predict(work, "m1.pt", "in", "--skip-existing") == 0
    assert "another model" not in capsys.readouterr().err
    assert _keys(work / "out")["00.png"] == m1


def test_the_record_holds_the_rows_left_out_only_where_there_are_any():
    """Outputs made with another data-bar region get another key (--skip-existing predicts
    them again); those made without one keep the key they had (barfix note, s31)."""
    from unetlab.inference.predict import PredictOptions
    from unetlab.inference.records import prediction_record

    net = UNet(in_channels=1, num_classes=2, depth=2, base_channels=4, padding="same").eval()
    plain = prediction_record(net, PredictOptions.for_model(net))
    assert "exclude_rows" not in plain.model
    barred = prediction_record(net, PredictOptions.for_model(net, exclude_rows="bottom=26"))
    assert barred.model["exclude_rows"] == {"top": 0, "bottom": 26}
    assert barred.key != plain.key
    other = prediction_record(net, PredictOptions.for_model(net, exclude_rows="bottom=0.1"))
    assert other.key != barred.key


def test_the_record_holds_the_nodata_only_where_it_is_not_auto():
    """Outputs made with another nodata get another key (--skip-existing predicts them
    again, note33); those made with auto, the default, keep the key they had."""
    from unetlab.inference.predict import PredictOptions
    from unetlab.inference.records import prediction_record

    net = UNet(in_channels=1, num_classes=2, depth=2, base_channels=4, padding="same").eval()
    auto = prediction_record(net, PredictOptions.for_model(net))
    assert "nodata" not in auto.model
    keys = {auto.key}
    for nodata in ("none", 0, -9999):
        made = prediction_record(net, PredictOptions.for_model(net, nodata=nodata))
        assert f"nodata {nodata}" in made.describe()
        keys.add(made.key)
    assert len(keys) == 4


def test_predict_json_records_the_runs_failed_and_skipped_inputs(tmp_path):
    """The batch audit (s36, 8): without --instances nothing in the output folder said which
    inputs failed or were skipped; predict.json's last_run does, each run its own."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.fromarray(np.zeros((24, 20), np.uint8)).save(inputs / "a.png")
    (inputs / "c.png").write_bytes(b"")  # still being copied
    (inputs / "scan.lif").write_bytes(b"\0" * 8)
    save_model(tmp_path / "m.pt", _net(0))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(inputs)]
    argv += ["--output", str(tmp_path / "out"), "--device", "cpu", "--skip-existing"]
    assert main(argv) == 3
    run = json.loads((tmp_path / "out" / RECORD_FILES["predict"]).read_text())["last_run"]
    assert list(run["failed"]) == [str(inputs / "c.png")]
    assert run["failed"][str(inputs / "c.png")].endswith(
        "empty file (0 bytes); copy the file again"
    )
    assert list(run["skipped"]) == [str(inputs / "scan.lif")]
    assert "a format unetlab does not read (.lif)" in run["skipped"][str(inputs / "scan.lif")]
    assert len(read_records(tmp_path / "out")) == 1  # the record of what made a.png stays
    (inputs / "c.png").unlink()
    assert main(argv) == 0
    run = json.loads((tmp_path / "out" / RECORD_FILES["predict"]).read_text())["last_run"]
    assert run["failed"] == {} and str(inputs / "a.png") in run["skipped"]
