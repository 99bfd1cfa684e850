"""The manifest records the input each of predict's outputs was made from, so that an input
with the same output names (``nb1.png`` and ``nb1.ome.tif``) predicted later into the same
folder does not replace the first one's outputs without a word, nor leave a mix of both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.errors import OutputError
from unetlab.inference.files import predict_file
from unetlab.inference.folders import predict_folder
from unetlab.inference.output_rules import finished_inputs, input_source
from unetlab.outputs import MANIFEST, RECORD_FILES, forget, made_from, record, written_here


@pytest.fixture
def work(tmp_path):
    """in/nb1.png, in/nb1.ome.tif (with a pixel size: TIFF outputs), a tiny model.pt."""
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (24, 20), dtype=np.uint8)).save(tmp_path / "in/nb1.png")
    meta = {"PhysicalSizeX": 0.25, "PhysicalSizeY": 0.25, "axes": "YX"}
    image = rng.integers(0, 255, (24, 20), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "in" / "nb1.ome.tif", image, ome=True, metadata=meta)
    save_model(tmp_path / "model.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _predict(work: Path, name: str, *extra: str) -> int:
    argv = ["predict", "--checkpoint", str(work / "model.pt"), "--input", str(work / "in" / name)]
    return main([*argv, "--output", str(work / "S"), "--device", "cpu", "--instances", *extra])


def _contents(folder: Path) -> dict[str, bytes]:
    """The outputs in ``folder`` (not the manifest, nor predict.json: what made them)."""
    return {
        p.name: p.read_bytes()
        for p in folder.iterdir()
        if p.name not in (MANIFEST, RECORD_FILES["predict"])
    }


def _made_from(folder: Path) -> dict[str, str | None]:
    """Each output -> the input the manifest says it was made from."""
    return {n: s for n, s in made_from(folder, "predict").items() if n != RECORD_FILES["predict"]}


def _error(capsys) -> str:
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "unetlab predict" in x]
    return line


# --- the manifest --------------------------------------------------------------------------


def test_the_manifest_records_each_outputs_input_and_reads_old_lines(tmp_path):
    (tmp_path / MANIFEST).write_text("# old\na.png\tpredict\nr.json\tevaluate\n")  # before s27
    assert made_from(tmp_path, "predict") == {"a.png": None}
    record(
        tmp_path, ["a.png", "b.png"], command="predict", sources={"a.png": "/i/a", "b.png": "/i/b"}
    )
    assert made_from(tmp_path, "predict") == {"a.png": "/i/a", "b.png": "/i/b"}
    assert written_here(tmp_path) == {"a.png", "b.png", "r.json"}
    record(tmp_path, ["a.png"], command="predict", sources={"a.png": "/i/a"})  # no new line
    record(tmp_path, ["a.png"], command="predict", sources={"a.png": "/j/a"})  # the latest holds
    assert (tmp_path / MANIFEST).read_text().count("a.png\t") == 3
    assert made_from(tmp_path, "predict")["a.png"] == "/j/a"
    forget(tmp_path, ["a.png"], "predict", sources={"a.png": "/j/a"})  # only that input's line
    assert made_from(tmp_path, "predict")["a.png"] == "/i/a"
    forget(tmp_path, ["a.png"], "predict")  # all of predict's lines of the name
    assert "a.png" not in made_from(tmp_path, "predict")
    assert (tmp_path / MANIFEST).read_text().startswith("# old\n")


def test_finished_inputs_are_those_of_the_same_input(tmp_path):
    files = [Path("in/nb1.png"), Path("other/nb1.png")]
    (tmp_path / "nb1.png").touch()
    record(tmp_path, ["nb1.png"], command="predict", sources={"nb1.png": input_source(files[0])})
    assert finished_inputs(tmp_path, files) == [files[0]]  # not the other nb1.png's
    (tmp_path / MANIFEST).write_text("nb1.png\tpredict\n")  # a line before s27: no input named
    assert finished_inputs(tmp_path, files) == files


# --- unetlab predict -----------------------------------------------------------------------


def test_one_command_says_into_different_output_folders(work, capsys):
    argv = ["predict", "--checkpoint", str(work / "model.pt"), "--input", str(work / "in")]
    assert main([*argv, "--output", str(work / "S"), "--device", "cpu"]) == 3  # both failed
    assert _error(capsys).endswith(
        "would write the same outputs: not predicted; rename one, or predict them into "
        "different output folders (--output, or out_dir in Python)"
    )


def test_another_input_of_the_same_names_is_refused_and_nothing_replaced(work, capsys):
    """The measure audit: nb1.ome.tif predicted after nb1.png replaced its table and object
    ids and left nb1.png's labels beside nb1.ome.tif's."""
    assert _predict(work, "nb1.png") == 0
    before = _contents(work / "S")
    assert set(before) == {"nb1.png", "nb1_objects.csv", "nb1_objects.tif"}
    assert _predict(work, "nb1.ome.tif") == 2
    line = _error(capsys)
    assert f"is unetlab predict's output for {work / 'in' / 'nb1.png'}, and " in line
    assert f"{work / 'in' / 'nb1.ome.tif'} would replace it" in line
    assert line.endswith(
        "give another output folder, or add --overwrite to replace nb1.png's outputs"
    )
    assert _contents(work / "S") == before
    assert _predict(work, "nb1.ome.tif", "--skip-existing") == 2  # not taken for finished
    assert _contents(work / "S") == before


def test_an_input_gone_from_its_folder_leaves_its_outputs_to_the_new_one(work, caplog):
    """The batch audit: nb1.png converted to nb1.ome.tif and deleted refused the folder every
    night, --skip-existing too; its outputs, unetlab's by the manifest, belong to no input
    that exists: the new one replaces them (the other format's labels too), with a line."""
    assert _predict(work, "nb1.png", "--overlay") == 0
    (work / "in" / "nb1.png").unlink()
    caplog.set_level("INFO")
    assert _predict(work, "nb1.ome.tif", "--skip-existing") == 0
    assert f"{work / 'in' / 'nb1.png'} is gone from its folder: its outputs are replaced" in (
        caplog.text
    )
    assert set(_contents(work / "S")) == {"nb1.tif", "nb1_objects.csv", "nb1_objects.tif"}
    made = _made_from(work / "S")
    assert made == dict.fromkeys(_contents(work / "S"), str(work / "in" / "nb1.ome.tif"))


def test_the_same_input_is_predicted_again_and_skipped_as_before(work):
    assert _predict(work, "nb1.png") == 0
    stamp = (work / "S" / "nb1.png").stat().st_mtime_ns
    assert _predict(work, "nb1.png", "--skip-existing") == 0
    assert (work / "S" / "nb1.png").stat().st_mtime_ns == stamp
    assert _predict(work, "nb1.png", "--overlay") == 0  # re-predicted, an overlay added
    assert (work / "S" / "nb1.png").stat().st_mtime_ns != stamp
    assert set(_made_from(work / "S").values()) == {str(work / "in" / "nb1.png")}


def test_overwrite_replaces_the_other_inputs_outputs_and_leaves_no_mix(work):
    assert _predict(work, "nb1.png", "--overlay") == 0
    assert _predict(work, "nb1.ome.tif", "--overwrite") == 0  # no overlay asked for now
    # nb1.png's labels (another format) and its overlay (not asked for) are gone with it
    assert set(_contents(work / "S")) == {"nb1.tif", "nb1_objects.csv", "nb1_objects.tif"}
    made = _made_from(work / "S")
    assert made == dict.fromkeys(_contents(work / "S"), str(work / "in" / "nb1.ome.tif"))
    assert _predict(work, "nb1.ome.tif") == 0  # its own outputs now


def test_overwrite_by_an_input_that_fails_leaves_the_first_ones_outputs(work):
    assert _predict(work, "nb1.png") == 0
    before = _contents(work / "S")
    (work / "in" / "nb1.ome.tif").write_bytes(b"not a tiff")
    assert _predict(work, "nb1.ome.tif", "--overwrite") == 3  # fails to read: writes nothing
    assert _contents(work / "S") == before
    assert set(_made_from(work / "S").values()) == {str(work / "in" / "nb1.png")}
    assert _predict(work, "nb1.png", "--skip-existing") == 0  # still nb1.png's, finished


def test_outputs_of_an_older_manifest_are_predicted_again_as_before(work):
    assert _predict(work, "nb1.png") == 0
    names = [n for n in _made_from(work / "S")]
    (work / "S" / MANIFEST).write_text("".join(f"{n}\tpredict\n" for n in names))  # no inputs
    (work / "S" / RECORD_FILES["predict"]).unlink()  # nor records
    assert _predict(work, "nb1.png") == 0
    assert set(_made_from(work / "S").values()) == {str(work / "in" / "nb1.png")}


# --- the Python API: the same guard ---------------------------------------------------------


def test_predict_file_and_predict_folder_refuse_another_inputs_outputs(work):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    predict_file(model, work / "in" / "nb1.png", work / "S")
    predict_file(model, work / "in" / "nb1.png", work / "S")  # the same input again
    before = _contents(work / "S")
    with pytest.raises(OutputError, match=r"would replace it .* or pass overwrite=True to replace"):
        predict_file(model, work / "in" / "nb1.ome.tif", work / "S")
    with pytest.raises(OutputError, match=r"nb1.ome.tif would replace it") as err:
        predict_folder(model, work / "in" / "nb1.ome.tif", work / "S")
    # a Python caller ran no command: told "is the output for", not "unetlab predict's" (s58)
    assert f"nb1.png is the output for {work / 'in' / 'nb1.png'}, and" in str(err.value)
    assert "unetlab predict" not in str(err.value)
    assert _contents(work / "S") == before
    result = predict_folder(model, work / "in" / "nb1.ome.tif", work / "S", overwrite=True)
    assert list(result.written) == [work / "in" / "nb1.ome.tif"]
    assert set(_contents(work / "S")) == {"nb1.tif"}
