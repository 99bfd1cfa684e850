"""``data.nodata`` on a Zarr / OME-Zarr input (always read window by window): a number
leaves out the pixels that hold it in every band, as on a TIFF; ``auto`` leaves nothing out
(a Zarr declares no nodata: its fill value is only what chunks not stored read as), and
says so once where chunks are not stored (inference/slide_nodata.py; more in
test_slide_zarr_gaps.py)."""

import logging

import numpy as np
import pytest
import tifffile
import zarr

from tests.test_slide_nodata import _bordered, _labels, _model, _write
from tests.test_slides import _write_ome_zarr
from unetlab.data import ome
from unetlab.inference.files import predict_file


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(ome, "CHUNK", 16)


def _zarr_and_tiff(tmp_path):
    image, bad = _bordered(3)
    _write_ome_zarr(tmp_path / "m.ome.zarr", image, 0.5)  # its corner chunks, all 0, unstored
    _write(tmp_path / "m.tif", image, tags=())  # no tag: the number given
    return bad


def test_a_number_leaves_nodata_out_of_a_zarr_as_out_of_a_tiff(tmp_path, small_chunks):
    bad, model = _zarr_and_tiff(tmp_path), _model()
    how = dict(tile_size=32, batch_size=2, output_format="ome-zarr")
    got = {}
    for name in ("m.ome.zarr", "m.tif"):
        for nodata in (0, "none"):
            out = tmp_path / f"{name}-{nodata}"
            predict_file(model, tmp_path / name, out, nodata=nodata, large_threshold=100, **how)
            got[name, nodata] = np.asarray(zarr.open_group(out / "m.ome.zarr", mode="r")["0"])
    assert np.array_equal(got["m.ome.zarr", 0], got["m.tif", 0])  # the TIFF's, streamed
    assert (got["m.ome.zarr", 0][bad] == 255).all()  # the no-data value there
    assert not np.array_equal(got["m.ome.zarr", 0], got["m.ome.zarr", "none"])


def test_auto_leaves_nothing_out_of_a_zarr_and_says_its_unstored_chunks_once(
    tmp_path, small_chunks, caplog
):
    _zarr_and_tiff(tmp_path)
    model, labels = _model(), {}
    for nodata in ("auto", "none", "auto"):
        out = tmp_path / f"z-{nodata}-{len(labels)}"
        with caplog.at_level(logging.INFO):
            predict_file(model, tmp_path / "m.ome.zarr", out, nodata=nodata, tile_size=32)
        labels[nodata] = tifffile.imread(out / "m.tif")
    assert np.array_equal(labels["auto"], labels["none"])  # every pixel is sample
    said = [m for m in caplog.messages if "chunks (within" in m]
    assert len(said) == 1, said  # once, though predicted three times
    head = f"{tmp_path / 'm.ome.zarr'}: level 0 lacks "  # a file given alone: by its path
    assert said[0].startswith(head) and "fill value 0" in said[0]
    assert "background), nodata=0 leaves out" in said[0]  # Python's fix, no flag (s56)


def test_a_zarr_with_every_chunk_stored_says_nothing(tmp_path, small_chunks, caplog):
    image = np.random.default_rng(0).integers(1, 255, (40, 40, 3), np.uint8)
    _write_ome_zarr(tmp_path / "f.ome.zarr", image, 0.5)
    with caplog.at_level(logging.INFO):
        predict_file(_model(), tmp_path / "f.ome.zarr", tmp_path / "o", tile_size=32)
    assert not [m for m in caplog.messages if "chunks (within" in m]
    assert _labels(tmp_path / "o", "f").shape == (40, 40)
