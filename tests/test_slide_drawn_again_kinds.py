"""An overlay added with --skip-existing to a streamed slide's outputs is drawn from them
without the net, as a run that predicts it draws it, also for the kinds of slide the first
tests (test_slide_drawn_again) left out: an instance model's objects, a semantic model's of
named classes (their counts said as predicted), a multipage TIFF's, OME-Zarr outputs."""

from __future__ import annotations

import logging
import re

import numpy as np
import tifffile
import torch
from PIL import Image

from tests.test_predict_drawn_again import _counting_net
from tests.test_slide_drawn_again import _predict  # --large-pixels 100: streamed
from unetlab import UNet, save_model

DRAWN = "overlay drawn from the labels"


def _work(tmp_path, *, pages: int = 1, instances: bool = False):
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(1)
    shape = (pages, 40, 36) if pages > 1 else (40, 36)
    image = rng.integers(0, 255, shape, dtype=np.uint8)
    tifffile.imwrite(tmp_path / "in" / "big.tif", image, photometric="minisblack")
    torch.manual_seed(0)
    net = UNet(1, 3, depth=2, base_channels=2, padding="same")
    if instances:
        net.objects = {"target": "instances"}
    else:
        net.classes = ["background", "cell", "dust"]
    save_model(tmp_path / "m.pt", net)
    return tmp_path


def _stamps(folder) -> dict:
    """The outputs there (an OME-Zarr folder's files) but the overlay: mtime and bytes."""
    outputs = [p for p in folder.glob("big*") if "overlay" not in p.name]
    files = [f for p in outputs for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
    return {f.relative_to(folder): (f.stat().st_mtime_ns, f.read_bytes()) for f in files}


def _counts(lines: list[str]) -> list[str]:
    """The lines that say how many objects the slide has ("big.tif: 3 objects: ...")."""
    return [m for m in lines if re.match(r"big\.tif: [\d,]+ objects?\b", m)]


def _drawn_again(work, monkeypatch, caplog, *how: str) -> list[str]:
    """Predict into ``once`` with the overlay and into ``twice`` without, then add it there
    with --skip-existing: drawn without the net, nothing there rewritten, the same overlay;
    returns the lines of both runs that say the objects."""
    with caplog.at_level(logging.INFO, logger="unetlab"):
        _predict(work, "once", *how, "--overlay")
    said = _counts(caplog.messages)
    _predict(work, "twice", *how)
    before = _stamps(work / "twice")
    calls = _counting_net(monkeypatch)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        _predict(work, "twice", "--skip-existing", *how, "--overlay")
    assert calls == []
    assert DRAWN in caplog.text
    assert _stamps(work / "twice") == before  # not rewritten: same bytes, same mtime
    once, twice = (np.asarray(Image.open(work / d / "big_overlay.png")) for d in ("once", "twice"))
    assert np.array_equal(once, twice)
    again = _counts(caplog.messages)
    assert again == said  # the objects (of each class) said as the run that predicted them
    return said


def test_an_instance_slides_objects_overlay_is_drawn_again_and_counted(
    tmp_path, monkeypatch, caplog
):
    work = _work(tmp_path, instances=True)
    loose = ("--min-area", "1", "--seed-threshold", "0.3", "--min-peak", "0")
    said = _drawn_again(work, monkeypatch, caplog, "--instances", *loose)
    assert said and " 0 objects" not in said[0], said


def test_a_semantic_stacks_ome_zarr_overlay_is_drawn_from_its_first_page(
    tmp_path, monkeypatch, caplog
):
    """A 3-page TIFF, its outputs OME-Zarr folders: the overlay is page 1's labels and
    objects, as predicted; the objects of each class said as predicted."""
    work = _work(tmp_path, pages=3)
    said = _drawn_again(work, monkeypatch, caplog, "--instances", "--output-format", "ome-zarr")
    assert any("cell" in m for m in said) and "3 pages" in said[0], said
    assert (work / "twice" / "big_objects.ome.zarr").is_dir()


def test_an_earlier_versions_table_without_class_name_is_counted_by_the_models_names(
    tmp_path, monkeypatch, caplog
):
    """A table kept from an earlier version (a ``class`` column, no ``class_name``) had its
    objects said by class index ("1", "2") where the model names its classes: by the names,
    as the run that predicted it said them (objects4 s54)."""
    work = _work(tmp_path)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        _predict(work, "once", "--instances")
    said = _counts(caplog.messages)
    _drop_class_name(work / "once" / "big_objects.csv")
    calls = _counting_net(monkeypatch)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        _predict(work, "once", "--skip-existing", "--instances", "--overlay")
    assert calls == [] and DRAWN in caplog.text
    assert _counts(caplog.messages) == said and any("cell" in m for m in said), said


def _drop_class_name(table):
    """``table`` without its ``class_name`` column, as an earlier version wrote it: its
    folder's record of it too (else a file unetlab did not write, refused), its line given
    the table's stamp now. The stamp was once found by replacing the text of the table's
    stamp as found again here, which failed 1 run in 6 (s75): a stamp records a file's time
    only once it is settled (outputs.SETTLED_NS, 0.1 s), so the one the run recorded just
    after writing held none where the one found here, later under load, held one."""
    from unetlab.manifest import restamp
    from unetlab.outputs import _stamp_now

    rows = [r.split(",") for r in table.read_text().splitlines()]
    at = rows[0].index("class_name")
    table.write_text("".join(",".join(r[:at] + r[at + 1 :]) + "\n" for r in rows))
    restamp(table.parent, {table.name: _stamp_now(table, None)}, "predict")


def test_the_folders_summary_counts_an_earlier_versions_table_by_the_models_names(tmp_path):
    """slides5 s55: drawn again counted such a table by the model's names (above), the
    folder's objects_summary.csv by none: its objects_cell / objects_dust cells left empty."""
    import csv

    work = _work(tmp_path)
    image = np.random.default_rng(2).integers(0, 255, (40, 36), dtype=np.uint8)
    tifffile.imwrite(work / "in" / "big2.tif", image, photometric="minisblack")
    _predict(work, "once", "--instances")
    summary = work / "once" / "objects_summary.csv"

    def cells() -> dict:
        with summary.open(newline="") as f:
            rows = list(csv.DictReader(f))
        return {r["image"]: {k: v for k, v in r.items() if k.startswith("objects")} for r in rows}

    before = cells()
    assert before["big.tif"]["objects_cell"] == "1", before
    _drop_class_name(work / "once" / "big_objects.csv")
    _predict(work, "once", "--skip-existing", "--instances")
    assert cells() == before
