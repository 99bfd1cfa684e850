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
