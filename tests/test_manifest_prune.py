"""The manifest forgets files that are gone: a folder's lines of outputs a user removed are
dropped when a command next claims the folder; no file is ever removed for it."""

from __future__ import annotations

import numpy as np

from unetlab.data.io import write_png
from unetlab.inference.folders import predict_folder
from unetlab.manifest import MANIFEST, PENDING, made_from, record, writers_of
from unetlab.models.unet import UNet
from unetlab.outputs import output_folder


def test_a_removed_outputs_line_goes_when_the_folder_is_next_claimed(tmp_path):
    model = UNet(1, 2, depth=2, base_channels=2)
    for name in ("a", "b"):
        write_png(tmp_path / "in" / f"{name}.png", np.zeros((40, 40), np.uint8))
    out = tmp_path / "out"
    predict_folder(model, tmp_path / "in", out, draw_overlay=True)
    (out / "a.png").unlink()  # the user removes one output
    (out / "notes.txt").write_text("mine")
    predict_folder(model, tmp_path / "in" / "b.png", out, draw_overlay=True, overwrite=True)
    listed = made_from(out, "predict")
    assert "a.png" not in listed and "a.png" not in writers_of(out)
    assert {"a_overlay.png", "b.png", "b_overlay.png"} <= set(listed)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "a_overlay.png",
        "b.png",
        "b_overlay.png",
        "notes.txt",
        "predict.json",
    ]
    assert (out / "notes.txt").read_text() == "mine"


def test_lines_a_run_reserves_or_has_not_written_yet_stay(tmp_path):
    record(tmp_path, ["best.pt"], command="train")  # a run's file, not written yet
    record(tmp_path, ["report.json"], command="evaluate", made_by={"report.json": ""})
    record(tmp_path, ["gone.png", "here.png"], command="predict")
    (tmp_path / "here.png").write_bytes(b"x")
    with output_folder(tmp_path, ["new.png"], command="predict") as folder:
        (folder / "new.png").write_bytes(b"y")
    lines = (tmp_path / MANIFEST).read_text().splitlines()
    names = [line.split("\t")[0] for line in lines if not line.startswith("#")]
    assert sorted(names) == ["best.pt", "here.png", "new.png", "report.json"]
    assert f"report.json\tevaluate\t\t{PENDING}" in lines  # claimed, perhaps being written
    assert lines[0].startswith("#")


def test_relist_names_the_input_read_and_drops_the_pending_mark(tmp_path):
    """:func:`~unetlab.manifest.relist` rewrites a name's latest line in place: the input
    given, its key without the PENDING mark (the run wrote the file; kept PENDING, a stop
    before the run's settle confirmed it left the file no one's), the others as they were."""
    from unetlab import manifest

    (tmp_path / "store").mkdir()
    run1, run2 = (str(tmp_path / "store" / f"run{i}.tif") for i in (1, 2))
    for path in (run1, run2):
        with open(path, "wb") as f:
            f.write(b"pixels")
    manifest.record(tmp_path, ["a.png"], command="predict", sources={"a.png": run1})
    keys = {"a.png": "k1", "b.png": "k2"}  # listed PENDING
    sources = {"a.png": run1, "b.png": run1}
    manifest.record(tmp_path, ["a.png", "b.png"], command="predict", sources=sources, made_by=keys)
    manifest.confirm(tmp_path, {"b.png": "k2"}, "predict")  # b.png written, a.png not yet
    assert manifest.recorded_keys(tmp_path, "predict")["a.png"] == manifest.PENDING + "k1"
    before = (tmp_path / manifest.MANIFEST).read_text().splitlines()
    manifest.relist(tmp_path, {"a.png": run2, "b.png": run2}, "predict")
    after = (tmp_path / manifest.MANIFEST).read_text().splitlines()
    assert len(after) == len(before) and after[1] == before[1]  # the earlier line kept
    assert manifest.recorded_keys(tmp_path, "predict") == {"a.png": "k1", "b.png": "k2"}
    assert manifest.made_from(tmp_path, "predict") == {"a.png": run2, "b.png": run2}
