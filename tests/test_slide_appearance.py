"""A streamed slide's page is checked against the training images' appearance, as an image
read whole is, from its per_image statistics (patch_stain2_slides_appearance, in
inference/slides.py): over its valid pixels where it has nodata, and from the record a killed
run keeps where it is resumed."""

import logging
import subprocess
import sys

import numpy as np
import pytest
import tifffile

from tests.test_appearance import _he, _lines, _model, _record
from tests.test_slide_resume import (
    Stop,
    pinned_version,  # noqa: F401 (autouse)
)
from unetlab import save_model
from unetlab.data import ome
from unetlab.inference.files import predict_file
from unetlab.inference.predict import floor_run
from unetlab.inference.slides import predict_slide


def test_a_far_streamed_page_is_said(tmp_path, caplog):
    model = _model(_record([_he(s) for s in range(6)]))
    for name, image in (("near", _he(7)), ("far", _he(9, stain=(1.0, 1.6, 0.5)))):
        tifffile.imwrite(tmp_path / f"{name}.tif", image, photometric="rgb")
        caplog.clear()
        caplog.set_level(logging.WARNING)
        with floor_run():
            predict_file(model, tmp_path / f"{name}.tif", tmp_path / name, large_threshold=100)
        assert tifffile.TiffFile(tmp_path / name / f"{name}.tif").is_ome  # streamed
        assert len(_lines(caplog)) == (name == "far"), _lines(caplog)


def _far_tiff(path, corner: int = 0):
    """The far H&E tile, 96 rows (two 48-row copies), with a ``corner`` of 0 (nodata)."""
    far = np.tile(_he(9, stain=(1.0, 1.6, 0.5)), (2, 1, 1))
    far[:corner, :corner] = 0
    tifffile.imwrite(path, far, photometric="rgb")
    return path


def test_a_far_streamed_page_with_nodata_is_said(tmp_path, caplog):
    """Its valid pixels' statistics are the ones checked, as a whole read checks them
    (review s33 4)."""
    model = _model(_record([_he(s) for s in range(6)]))
    path = _far_tiff(tmp_path / "far.tif", corner=4)
    for how, kw in (("whole", {}), ("streamed", dict(large_threshold=100))):
        caplog.clear()
        caplog.set_level(logging.WARNING)
        with floor_run():
            predict_file(model, path, tmp_path / how, nodata=0, **kw)
        assert [m for m in _lines(caplog) if "lie far" in m], (how, _lines(caplog))


def test_a_far_resumed_page_is_said(tmp_path, caplog, monkeypatch):
    """A page a killed run began is checked from the statistics its record keeps."""
    monkeypatch.setattr(ome, "CHUNK", 32)
    model = _model(_record([_he(s) for s in range(6)]))
    path = _far_tiff(tmp_path / "far.tif")
    for nodata in (None, 0):
        out = tmp_path / f"out{nodata}"
        with pytest.raises(KeyboardInterrupt), floor_run():
            predict_slide(
                model, path, out, tile_size=32, batch_size=1, progress=Stop(8), nodata=nodata
            )
        caplog.clear()
        caplog.set_level(logging.INFO)
        with floor_run():
            predict_slide(model, path, out, tile_size=32, batch_size=1, nodata=nodata)
        assert any(m.startswith(f"resuming {path} at row 32") for m in caplog.messages)
        assert [m for m in _lines(caplog) if "lie far" in m], _lines(caplog)


@pytest.mark.slow
def test_a_far_page_shared_by_two_processes_is_said_once(tmp_path):
    """Each process streams its band of the page; the main one alone says it lies far."""
    model = _model(_record([_he(s) for s in range(6)]))
    save_model(tmp_path / "far.pt", model)
    (tmp_path / "in").mkdir()
    far = np.tile(_he(9, stain=(1.0, 1.6, 0.5)), (23, 4, 1))  # 1104 rows: two chunk rows
    tifffile.imwrite(tmp_path / "in" / "far.tif", far, photometric="rgb")
    args = ["--checkpoint", str(tmp_path / "far.pt"), "--input", str(tmp_path / "in")]
    args += ["--output", str(tmp_path / "out"), "--nproc", "2", "--large-pixels", "100"]
    out = subprocess.run(
        [sys.executable, "-m", "unetlab", "predict", *args, "--device", "cpu"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert (out.stdout + out.stderr).count("lie far from the training images") == 1
