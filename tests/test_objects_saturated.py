"""predict's objects table ends with ``saturated_fraction`` and ``image``, read whole and
streamed alike (audit s33 plates 1, 2: saturated debris counted as nuclei unflagged, and
concatenated tables lost the well)."""

import csv

import numpy as np
import tifffile

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.inference import slide_objects
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _small_pieces(monkeypatch):
    """Streamed objects renumbered in pieces of 1,000 px, read in chunks of 32 rows."""
    monkeypatch.setattr(slide_objects, "PIECE_PIXELS", 1000)
    monkeypatch.setattr(slide_objects.ome, "CHUNK", 32)


def _whole_and_streamed(net, image, tmp_path) -> list[list[dict]]:
    """The objects tables of ``image`` predicted read whole, then streamed."""
    tifffile.imwrite(tmp_path / "A10_s1_w1.tif", image)
    options = ObjectOptions.for_model(net)
    predict_file(net, tmp_path / "A10_s1_w1.tif", tmp_path / "whole", objects=options)
    how = dict(objects=options, large_threshold=100)
    predict_file(net, tmp_path / "A10_s1_w1.tif", tmp_path / "streamed", **how)
    return [_rows(tmp_path / f / "A10_s1_w1_objects.csv") for f in ("whole", "streamed")]


def test_saturated_objects_are_flagged_whole_and_streamed(tmp_path, monkeypatch):
    _small_pieces(monkeypatch)
    net, image = local_net(), nuclei_image(231, 77, seed=3)
    ys, xs = np.nonzero(image > 200)
    image[ys[0] : ys[0] + 2, xs[0] : xs[0] + 2] = 255  # 4 px of one disc at uint8's maximum
    tables = _whole_and_streamed(net, image, tmp_path)
    for rows in tables:
        assert list(rows[0])[-2:] == ["saturated_fraction", "image"]
        assert {r["image"] for r in rows} == {"A10_s1_w1.tif"}
        hit = [r for r in rows if float(r["saturated_fraction"]) > 0]
        assert len(hit) == 1 and float(hit[0]["max_intensity"]) == 255
        assert 0 < float(hit[0]["saturated_fraction"]) * float(hit[0]["area"]) <= 4.5
    whole, streamed = ({r["area"]: r["saturated_fraction"] for r in t} for t in tables)
    assert whole == streamed


def test_a_float_image_has_no_saturation_column(tmp_path):
    net, image = local_net(), nuclei_image(60, 50, seed=1).astype(np.float32)
    tifffile.imwrite(tmp_path / "f.tif", image)
    predict_file(net, tmp_path / "f.tif", tmp_path / "o", objects=ObjectOptions.for_model(net))
    rows = _rows(tmp_path / "o" / "f_objects.csv")
    assert list(rows[0])[-2:] == ["touches_border", "image"]


def test_a_camera_ceiling_is_found_whole_and_streamed(tmp_path, monkeypatch):
    # a 12-bit camera saved as 16-bit clips at 4095: the streamed slide's pieces (each
    # reaching its own maximum) find the page's ceiling as the image read whole does
    _small_pieces(monkeypatch)
    net, grey = local_net(), nuclei_image(231, 77, seed=3)
    noise = np.random.default_rng(0).integers(0, 12, grey.shape)
    image = (grey.astype(np.uint16) * 12 + noise).astype(np.uint16)  # 0-3071
    ys, xs = np.nonzero(grey > 200)
    for y, x in list(zip(ys, xs))[:: len(ys) // 3][:3]:  # three discs' centres clipped
        image[y - 2 : y + 3, x - 2 : x + 3] = 4095
    tables = _whole_and_streamed(net, image, tmp_path)
    whole, streamed = ({r["area"]: r["saturated_fraction"] for r in t} for t in tables)
    assert whole == streamed
    hit = [r for r in tables[1] if float(r["saturated_fraction"]) > 0]
    assert 1 <= len(hit) <= 3 and {float(r["max_intensity"]) for r in hit} == {4095}
