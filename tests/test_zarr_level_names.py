"""A Zarr given by its path inside a store (a level ``a.ome.zarr/0``, a series
``x.ome.zarr/1/0``) is named after its store: outputs ``a_0.tif`` (``a.ome.zarr`` given
whole: ``a.tif``), lines and table rows ``a.ome.zarr/0``. Its outputs were ``0.tif``, its
lines '0: ...', so the levels of two stores clashed in one output folder, and their rows
in objects_summary.csv were one image (inference/slides.py ``output_stem``,
data/slides.py ``slide_name``). Two inputs that still map to one output name (stores of
one name in two folders) are failed before any work, in one line naming both and the fix."""

import csv
import logging

import pytest
import torch

from tests.test_slide_zarr_gaps import _image, _write
from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.inference.slides import output_stem


@pytest.fixture
def work(tmp_path, monkeypatch):
    """a.ome.zarr, b.ome.zarr, x/a.ome.zarr, y/a.ome.zarr (two levels each) and m.pt."""
    monkeypatch.chdir(tmp_path)
    for name in ("a", "b", "x/a", "y/a"):
        _write(tmp_path / f"{name}.ome.zarr", "v2", _image())
    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(3, 3, depth=2, base_channels=4, padding="same").eval())
    return tmp_path


def _predict(*inputs: str, out: str = "out") -> int:
    argv = ["predict", "--checkpoint", "m.pt", "--input", *inputs, "--output", out]
    return main([*argv, "--instances", "--device", "cpu", "--no-progress"])


def _summary(out) -> list[tuple[str, str, str]]:
    with (out / "objects_summary.csv").open(newline="") as f:
        return [(r["image"], r["status"], r["path"]) for r in csv.DictReader(f)]


def test_a_level_is_named_after_its_store(work, monkeypatch):
    from unetlab.data.slides import slide_name

    assert output_stem(work / "a.ome.zarr" / "0") == "a_0"
    assert output_stem(work / "a.ome.zarr") == "a"
    assert slide_name(work / "a.ome.zarr" / "1") == "a.ome.zarr/1"
    assert slide_name(work / "a.ome.zarr") == "a.ome.zarr"
    deep = work / "s.ome.zarr"  # a bioformats2raw layout: series 1, its level 0
    _write(deep / "1", "v3", _image((30, 20)))
    (deep / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')
    assert output_stem(deep / "1" / "0") == "s_1_0"
    assert slide_name(deep / "1" / "0") == "s.ome.zarr/1/0"
    monkeypatch.chdir(deep)  # given from inside the store
    assert (output_stem("1/0"), slide_name("1/0")) == ("s_1_0", "s.ome.zarr/1/0")


def test_levels_of_two_stores_have_outputs_and_lines_of_their_own(work, caplog):
    with caplog.at_level(logging.INFO):
        assert _predict("a.ome.zarr/0", "b.ome.zarr/0", "a.ome.zarr", "a.ome.zarr/1") == 0
    out = work / "out"
    labels = sorted(p.name for p in out.glob("*.tif") if "_objects" not in p.name)
    assert labels == ["a.tif", "a_0.tif", "a_1.tif", "b_0.tif"]
    said = [r.getMessage() for r in caplog.records]
    streaming = [line for line in said if "streaming" in line]
    # levels numbered from 0, as the outputs' lines number them (slides5 s55: "level 0 of 1")
    assert streaming[0].startswith("a.ome.zarr/0: 60 x 50 px (1 page, level 0 (its only level)")
    assert streaming[2].startswith("a.ome.zarr: 60 x 50 px (1 page, level 0 of levels 0 to 1)")
    restarts = " (a stopped run restarts this page: --save-probabilities keeps its rows)"
    assert streaming[0].endswith(" to a_0.tif" + restarts)  # objects, none staged (s56)
    assert streaming[1].startswith("b.ome.zarr/0: 60 x 50 px")
    assert streaming[1].endswith("b_0.tif" + restarts)
    assert streaming[3].startswith("a.ome.zarr/1: 30 x 25 px")
    assert {"a.ome.zarr/0: 0 objects", "b.ome.zarr/0: 0 objects"} <= set(said)
    assert "objects: 0 in 4 images; one row per image in objects_summary.csv" in said
    assert _summary(out) == [
        ("a.ome.zarr/0", "done", "a.ome.zarr/0"),
        ("b.ome.zarr/0", "done", "b.ome.zarr/0"),
        ("a.ome.zarr", "done", "a.ome.zarr"),
        ("a.ome.zarr/1", "done", "a.ome.zarr/1"),
    ]


def test_inputs_of_one_output_name_fail_before_any_work_in_one_line(work, caplog, capsys):
    """x/a.ome.zarr/0 and y/a.ome.zarr/0 would both write a_0.tif: neither is predicted
    (which one a_0.tif would be would depend on their order), b.ome.zarr/0 is; the rows
    of the two name each its own path (both read the last one's: rows were keyed by name)."""
    with caplog.at_level(logging.INFO):
        assert _predict("x/a.ome.zarr/0", "y/a.ome.zarr/0", "b.ome.zarr/0") == 3
    out = work / "out"
    assert not list(out.glob("a_0*"))
    failed = [line for line in capsys.readouterr().err.splitlines() if "would write" in line]
    assert failed == [
        "unetlab predict: failed: x/a.ome.zarr/0 and y/a.ome.zarr/0 would write the same outputs: not "
        "predicted; rename one, or predict them into different output folders (--output, or "
        "out_dir in Python), or --recursive (predict_tree in Python)"
    ]
    streamed = [r.getMessage() for r in caplog.records if "streaming" in r.getMessage()]
    assert len(streamed) == 1 and streamed[0].startswith("b.ome.zarr/0: ")
    assert [row[1:] for row in _summary(out)] == [
        ("failed", "x/a.ome.zarr/0"),
        ("failed", "y/a.ome.zarr/0"),
        ("done", "b.ome.zarr/0"),
    ]


def test_an_output_of_a_level_by_its_older_name_is_said_and_kept(work, caplog):
    """A level given by its path (a.ome.zarr/0) wrote 0.tif before its outputs were named
    after the store (a_0.tif): an output folder holding that 0.tif kept it beside the new
    a_0.tif silently. Now one line names both; the old file is kept, untouched."""
    out = work / "out"
    (work / "a.ome.zarr" / "0").rename(work / "0.ome.zarr")  # an earlier run's 0.tif
    assert _predict("0.ome.zarr") == 0
    (work / "0.ome.zarr").rename(work / "a.ome.zarr" / "0")
    before = (out / "0.tif").read_bytes()
    with caplog.at_level(logging.WARNING):
        assert _predict("a.ome.zarr/0") == 0
    said = "a.ome.zarr/0: 0.tif beside its a_0.tif is what its labels were named before"
    assert said in caplog.text
    assert (out / "0.tif").read_bytes() == before and (out / "a_0.tif").is_file()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert _predict("a.ome.zarr", out="whole") == 0
    assert "named before" not in caplog.text
