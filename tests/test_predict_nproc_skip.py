"""``unetlab predict --nproc 2 --skip-existing`` with an overlay added (review s51): the
outputs a process other than the main one kept as they were (the labels an overlay is drawn
from) were removed by the main one as "an earlier output that this run did not write", and
an input changed since its outputs were made, dealt to another process, was drawn from its
stale labels after the line said "predicted again"."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from tests.test_distributed import launched
from unetlab import UNet, save_model
from unetlab.distributed import available_cpus

pytestmark = pytest.mark.skipif(available_cpus() < 2, reason="--nproc 2 takes 2 CPUs")


def _work(tmp_path: Path, suffix: str, count: int = 4) -> Path:
    """in/00..03 (PNGs, or TIFF slides of two chunk rows; ``count`` of them), m.pt."""
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        path = tmp_path / "in" / f"{i:02d}{suffix}"
        image = rng.integers(0, 255, (600, 40) if suffix == ".tif" else (40, 36), "u1")
        tifffile.imwrite(path, image) if suffix == ".tif" else Image.fromarray(image).save(path)
    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    return tmp_path


def _predict(work: Path, *extra: str) -> None:
    args = ["--checkpoint", str(work / "m.pt"), "--input", str(work / "in")]
    args += ["--output", str(work / "out"), "--device", "cpu", "--no-progress", *extra]
    run = launched("predict", *args)
    assert "did not write" not in run.stderr, run.stderr[-3000:]


def _labels(work: Path, suffix: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((work / "out").glob(f"0?{suffix}"))}


def test_the_labels_another_process_drew_an_overlay_from_are_kept(tmp_path):
    """Slides streamed (--large-pixels 100): every input's labels stay as they were (the
    same bytes), each overlay drawn. PNGs read whole: the test below."""
    work = _work(tmp_path, ".tif")
    streamed = ["--large-pixels", "100"]
    _predict(work, *streamed)
    before = _labels(work, ".tif")
    assert len(before) == 4
    _predict(work, *streamed, "--skip-existing", "--overlay", "--nproc", "2")
    assert _labels(work, ".tif") == before
    assert len(list((work / "out").glob("0?_overlay.png"))) == 4


def test_a_changed_input_another_process_predicts_is_not_drawn_from_its_stale_labels(
    tmp_path,
):
    """PNGs read whole, 00..05 dealt in turn (the other process: 01, 03, 05). 03 and 05
    replaced by older copies of 02 and 04 (cp -p): predicted again, their labels now those
    of 02 and 04 (which differ from their stale ones); every other input's labels (01's
    kept by the other process) stay as they were (the same bytes), each overlay drawn."""
    work = _work(tmp_path, ".png", 6)
    _predict(work)
    stale = _labels(work, ".png")
    assert len(stale) == 6
    changed = {"03": "02", "05": "04"}
    for copy, of in changed.items():
        old = (work / "in" / f"{copy}.png").stat()
        shutil.copyfile(work / "in" / f"{of}.png", work / "in" / f"{copy}.png")
        os.utime(work / "in" / f"{copy}.png", ns=(old.st_atime_ns, old.st_mtime_ns - 10**9))
    _predict(work, "--skip-existing", "--overlay", "--nproc", "2")
    now = _labels(work, ".png")
    for copy, of in changed.items():
        assert stale[f"{copy}.png"] != stale[f"{of}.png"] and now[f"{copy}.png"] == now[f"{of}.png"]
    kept = {name: stale[name] for name in stale if name[:2] not in changed}
    assert {name: now[name] for name in kept} == kept and "01.png" in kept
    assert len(list((work / "out").glob("0?_overlay.png"))) == 6
