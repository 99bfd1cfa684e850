"""``unetlab predict --nproc 2 --skip-existing`` with an overlay added (review s51): the
outputs a process other than the main one kept as they were (the labels an overlay is drawn
from) were removed by the main one as "an earlier output that this run did not write"."""

from __future__ import annotations

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


def _work(tmp_path: Path, suffix: str) -> Path:
    """in/00..03 (PNGs, or TIFF slides of two chunk rows), m.pt."""
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
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


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_the_labels_another_process_drew_an_overlay_from_are_kept(tmp_path, suffix):
    """PNGs read whole, and slides streamed (--large-pixels 100): every input's labels stay
    as they were (the same bytes), each overlay drawn."""
    work = _work(tmp_path, suffix)
    streamed = ["--large-pixels", "100"] if suffix == ".tif" else []
    _predict(work, *streamed)
    before = _labels(work, suffix)
    assert len(before) == 4
    _predict(work, *streamed, "--skip-existing", "--overlay", "--nproc", "2")
    assert _labels(work, suffix) == before
    assert len(list((work / "out").glob("0?_overlay.png"))) == 4
