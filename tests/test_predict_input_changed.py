"""``--skip-existing`` counts an output as finished only while its input is the file it was
made from (audit s34 repro 1: an image replaced in the input folder was skipped, its stale
prediction kept): each manifest line records the input's size and mtime."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.manifest import MANIFEST, changed_inputs, changed_sources, input_stamp, record


@pytest.fixture
def work(tmp_path):
    """in/00.png, 01.png, 02.png (grey 24x20), other.png (another image), m.pt."""
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for name in ("00", "01", "02", "other"):
        image = rng.integers(0, 255, (24, 20), dtype=np.uint8)
        folder = tmp_path / ("in" if name != "other" else "")
        Image.fromarray(image).save(folder / f"{name}.png")
    torch.manual_seed(1)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _predict(work: Path, inputs: str, out: str = "out", *extra: str) -> int:
    argv = ["predict", "--checkpoint", str(work / "m.pt"), "--input", str(work / inputs)]
    return main([*argv, "--output", str(work / out), "--device", "cpu", *extra])


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.png")}


def _redone(work: Path) -> list[str]:
    """The outputs a run of ``in`` into ``out`` with --skip-existing wrote again."""
    before = _mtimes(work / "out")
    assert _predict(work, "in", "out", "--skip-existing") == 0
    return sorted(n for n, t in _mtimes(work / "out").items() if before.get(n) != t)


def test_skip_existing_predicts_a_replaced_input_again(work, caplog):
    assert _predict(work, "in") == 0
    old = (work / "in" / "01.png").stat()
    shutil.copyfile(work / "other.png", work / "in" / "01.png")  # as `cp other.png in/01.png`
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _redone(work) == ["01.png"]
    said = [r.getMessage() for r in caplog.records if "changed since" in r.getMessage()]
    assert said == ["01.png changed since its outputs were written: predicted again"]
    assert _predict(work, "other.png", "fresh") == 0
    fresh = np.asarray(Image.open(work / "fresh" / "other.png"))
    assert np.array_equal(np.asarray(Image.open(work / "out" / "01.png")), fresh)
    assert _redone(work) == []  # now finished
    # an older file put in its place (cp -p, mv): another mtime than the one recorded
    shutil.copyfile(work / "in" / "00.png", work / "in" / "01.png")
    os.utime(work / "in" / "01.png", ns=(old.st_atime_ns, old.st_mtime_ns - 10**9))
    assert _redone(work) == ["01.png"]
    # predicted, not drawn from its stale labels there (they were kept, said predicted again)
    out = [np.asarray(Image.open(work / "out" / n)) for n in ("00.png", "01.png")]
    assert np.array_equal(*out)  # 00.png's pixels: its labels
    assert _redone(work) == []


def test_the_manifest_records_each_inputs_size_and_mtime(work):
    assert _predict(work, "in/00.png") == 0
    lines = (work / "out" / MANIFEST).read_text().splitlines()
    (line,) = [x for x in lines if x.startswith("00.png\t")]
    stat = (work / "in" / "00.png").stat()
    assert line.split("\t")[2] == str((work / "in" / "00.png").resolve())
    assert line.split("\t")[4].startswith(f"size {stat.st_size} mtime_ns {stat.st_mtime_ns} ")
    assert line.split("\t")[4] == input_stamp(work / "in" / "00.png")
    assert input_stamp(work / "gone.png") is None
    assert input_stamp(work / "in").startswith("folder ")  # a Zarr image's: session 35


def test_an_older_manifest_line_counts_its_input_changed_when_it_is_newer_than_the_output(
    tmp_path,
):
    (tmp_path / "in.png").write_bytes(b"x")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.png").write_bytes(b"y")
    source = str((tmp_path / "in.png").resolve())
    (tmp_path / "out" / MANIFEST).write_text(f"a.png\tpredict\t{source}\tk-1\n")  # s27-s33
    output = (tmp_path / "out" / "a.png").stat().st_mtime_ns
    os.utime(tmp_path / "in.png", ns=(output, output - 10**9))
    assert changed_inputs(tmp_path / "out", "predict") == set()
    os.utime(tmp_path / "in.png", ns=(output, output + 10**9))
    assert changed_inputs(tmp_path / "out", "predict") == {"a.png"}
    assert changed_sources(tmp_path / "out", "predict") == {source}


def test_a_changed_input_is_listed_again_with_its_new_stamp(tmp_path):
    (tmp_path / "in.png").write_bytes(b"x")
    source = str(tmp_path / "in.png")
    assert record(tmp_path, ["a.png"], command="predict", sources={"a.png": source}) == ["a.png"]
    assert record(tmp_path, ["a.png"], command="predict", sources={"a.png": source}) == []
    assert changed_inputs(tmp_path, "predict") == set()
    (tmp_path / "in.png").write_bytes(b"xy")
    assert changed_inputs(tmp_path, "predict") == {"a.png"}
    assert record(tmp_path, ["a.png"], command="predict", sources={"a.png": source}) == ["a.png"]
    assert changed_inputs(tmp_path, "predict") == set()


def test_another_image_of_the_same_size_and_time_is_predicted_again(work):
    """A share whose files all carry one time, or ``cp -p`` of one camera's uncompressed
    images: size and mtime alike, the stale outputs were kept (audit s37 paths); the stamp's
    sample of the file's start, middle and end tells them apart."""
    a, b = work / "a.tif", work / "in" / "03.tif"
    rng = np.random.default_rng(3)
    tifffile.imwrite(a, rng.integers(0, 255, (24, 20), dtype=np.uint8))
    tifffile.imwrite(b, rng.integers(0, 255, (24, 20), dtype=np.uint8))
    when = b.stat().st_mtime_ns
    assert _predict(work, "in") == 0
    assert _redone(work) == []
    shutil.copyfile(a, b)  # the same size; the share's one time
    os.utime(b, ns=(when, when))
    assert _redone(work) == ["03.png"]


def test_a_stamp_from_before_the_sample_is_compared_by_size_and_time(tmp_path):
    (tmp_path / "in.png").write_bytes(b"x")
    st = (tmp_path / "in.png").stat()
    source = str(tmp_path / "in.png")
    old = f"size {st.st_size} mtime_ns {st.st_mtime_ns}"  # sessions 34-36
    (tmp_path / MANIFEST).write_text(f"a.png\tpredict\t{source}\tk-1\t{old}\n")
    assert changed_inputs(tmp_path, "predict") == set()
    os.utime(tmp_path / "in.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert changed_inputs(tmp_path, "predict") == {"a.png"}
