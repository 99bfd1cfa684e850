"""``unetlab predict --nproc 2 --skip-existing`` with an overlay added (review s51): the
outputs a process other than the main one kept as they were (the labels an overlay is drawn
from) were removed by the main one as "an earlier output that this run did not write", and
an input changed since its outputs were made, dealt to another process, was drawn from its
stale labels after the line said "predicted again"."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from tests.test_distributed import launched
from unetlab import UNet, provenance, save_model
from unetlab.cli import main
from unetlab.distributed import available_cpus

pytestmark = pytest.mark.skipif(available_cpus() < 2, reason="--nproc 2 takes 2 CPUs")


#: streamed above it: the slides (600 x 40), not the PNGs (40 x 36), read whole
LARGE = ["--large-pixels", "2000"]
#: of the PNGs, those replaced by older copies of others (cp -p): ``03.png`` by ``02.png``'s
CHANGED = {"03": "02", "05": "04"}


def _work(tmp_path: Path) -> Path:
    """in/00..05.png (read whole) and in/s00..s03.tif (slides of two chunk rows), m.pt."""
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for name in [f"{i:02d}.png" for i in range(6)] + [f"s{i:02d}.tif" for i in range(4)]:
        path = tmp_path / "in" / name
        image = rng.integers(0, 255, (600, 40) if path.suffix == ".tif" else (40, 36), "u1")
        tifffile.imwrite(path, image) if path.suffix == ".tif" else Image.fromarray(image).save(
            path
        )
    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    return tmp_path


def _args(work: Path, *extra: str) -> list[str]:
    args = ["--checkpoint", str(work / "m.pt"), "--input", str(work / "in"), *LARGE]
    return [*args, "--output", str(work / "out"), "--device", "cpu", "--no-progress", *extra]


def _predict(work: Path, *extra: str) -> None:
    run = launched("predict", *_args(work, *extra))
    assert "did not write" not in run.stderr, run.stderr[-3000:]


def _labels(work: Path, pattern: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((work / "out").glob(pattern))}


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


@pytest.fixture(scope="module")
def skipped(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """One folder predicted by one process, two of its PNGs then replaced by older copies
    of others, and predicted again by two with ``--skip-existing --overlay`` (one launch for
    both tests below: each took 15-30 s): the folder and its labels before."""
    work = _work(tmp_path_factory.mktemp("skip"))
    with pytest.MonkeyPatch.context() as patch:  # s75: its git status timed out under load
        patch.setattr(provenance, "package_dirty", lambda *a: None)
        provenance.code_identity.cache_clear()
        assert main(["predict", *_args(work)]) == 0  # one process: here, not a launch (4-5 s)
    provenance.code_identity.cache_clear()
    before = _labels(work, "*0?.*")
    assert len(before) == 10
    for copy, of in CHANGED.items():
        old = (work / "in" / f"{copy}.png").stat()
        shutil.copyfile(work / "in" / f"{of}.png", work / "in" / f"{copy}.png")
        os.utime(work / "in" / f"{copy}.png", ns=(old.st_atime_ns, old.st_mtime_ns - 10**9))
    _predict(work, "--skip-existing", "--overlay", "--nproc", "2")
    return work, before


def test_the_labels_another_process_drew_an_overlay_from_are_kept(skipped):
    """Slides streamed (``s00.tif`` ..): every input's labels stay as they were (the same
    bytes), each overlay drawn. PNGs read whole: the test below."""
    work, before = skipped
    assert _labels(work, "s0?.tif") == {k: v for k, v in before.items() if k.startswith("s")}
    assert len(list((work / "out").glob("s0?_overlay.png"))) == 4


def test_a_changed_input_another_process_predicts_is_not_drawn_from_its_stale_labels(skipped):
    """PNGs read whole, 00..05 dealt in turn (the other process: 01, 03, 05; the slides
    after them dealt in turn too: s00, s02 to one process, s01, s03 to the other). 03 and
    05 replaced by older copies of 02 and 04: predicted again, their labels now those of 02
    and 04 (which differ from their stale ones); every other input's labels (01's kept by
    the other process) stay as they were (the same bytes; one lost fails, as the old
    labels list them), each overlay drawn. 03 and 05 are compared with 02 and 04 by their
    pixels: 02's record is the first command's, 03's the launch's, and their code may
    differ (s75: the first command's git status timed out under load, ``"dirty": null``;
    here it is made to)."""
    work, stale = skipped
    now = _labels(work, "0?.png")
    for copy, of in CHANGED.items():  # pixels: the record's code is each command's (s75)
        was, are = (_pixels(labels[f"{copy}.png"]) for labels in (stale, now))
        assert not np.array_equal(was, _pixels(stale[f"{of}.png"]))
        assert np.array_equal(are, _pixels(now[f"{of}.png"]))
    kept = {n: data for n, data in stale.items() if n.endswith(".png") and n[:2] not in CHANGED}
    assert {name: now.get(name) for name in kept} == kept and len(kept) == 4
    assert len(list((work / "out").glob("0?_overlay.png"))) == 6


#: in each process of the launch: the link ``latest.tif`` retargeted to ``$RETARGET`` just
#: as its process is about to predict it (after the claim, which listed its first target)
RETARGETING = """
import os
from pathlib import Path

import unetlab.inference.folders as folders

keywords = folders._Run._keywords  # asked just before the prediction reads its input


def retargeted(run, path):
    if Path(path).name == "latest.tif" and os.readlink(path) != os.environ["RETARGET"]:
        os.unlink(path)
        os.symlink(os.environ["RETARGET"], path)
        Path(os.environ["RETARGET"] + ".rank").write_text(os.environ.get("RANK", ""))
    return keywords(run, path)


folders._Run._keywords = retargeted
"""


def test_a_link_another_process_read_retargeted_is_listed_as_it_read_it(tmp_path, monkeypatch):
    """``latest.tif`` (a link to run1.tif when the main process claims the folder) dealt to
    the other process of --nproc 2 and retargeted to run2.tif just before it predicts it:
    the manifest names run2.tif for latest.png, listed by the main one from what the other
    handed it (the claim's sources shared to it, its moved outputs gathered)."""
    (tmp_path / "in").mkdir(), (tmp_path / "store").mkdir(), (tmp_path / "site").mkdir()
    for name, value in (("store/run1", 0), ("store/run2", 200), ("in/a", 0)):
        tifffile.imwrite(tmp_path / f"{name}.tif", np.full((24, 24), value, np.uint8))
    try:
        os.symlink(tmp_path / "store" / "run1.tif", tmp_path / "in" / "latest.tif")
    except OSError:
        pytest.skip("no symbolic links here")
    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    (tmp_path / "site" / "sitecustomize.py").write_text(RETARGETING)
    paths = [str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
    monkeypatch.setenv("RETARGET", str(tmp_path / "store" / "run2.tif"))
    args = ["--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    args += ["--output", str(tmp_path / "o"), "--device", "cpu", "--no-progress", "--nproc", "2"]
    launched("predict", *args)
    assert (tmp_path / "store" / "run2.tif.rank").read_text() == "1"  # not the main process
    lines = (tmp_path / "o" / ".unetlab-outputs").read_text().splitlines()
    listed = [line.split("\t")[2] for line in lines if line.startswith("latest.png\t")]
    assert listed[-1] == str(tmp_path / "store" / "run2.tif"), lines
