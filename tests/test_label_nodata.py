"""Predicted label TIFFs hold a no-data value on the input's nodata pixels and name it in
GDAL_NODATA, so QGIS shows the outside of a swath transparent, not as class 0 (audit s37
multispectral); ``evaluate --pred`` scores them nowhere."""

from __future__ import annotations

import numpy as np
import tifffile
import torch

from unetlab import UNet
from unetlab.data.nodata import NODATA_TAG, label_nodata
from unetlab.inference.files import predict_file

KEYS = (1, 1, 0, 3, 1024, 0, 1, 1, 3072, 0, 1, 32633, 3076, 0, 1, 9001)
GEO = [
    (33550, 12, 3, (0.05, 0.05, 0.0), True),
    (33922, 12, 6, (0.0, 0.0, 0.0, 500000.0, 5500000.0, 0.0), True),
    (34735, 3, len(KEYS), KEYS, True),
    (NODATA_TAG, "s", 0, "0", True),
]


def _swath(path):
    """A 40 x 48 GeoTIFF whose left 12 columns are nodata (0, tagged)."""
    image = np.random.default_rng(0).integers(60, 200, (40, 48), dtype=np.uint8)
    image[:, :12] = 0
    tifffile.imwrite(path, image, extratags=GEO)
    return path, image == 0


def _net(classes: int = 2):
    torch.manual_seed(0)
    return UNet(1, classes, depth=2, base_channels=2, padding="same").eval()


def _tag(path):
    with tifffile.TiffFile(path) as tif:
        tag = tif.pages[0].tags.get(NODATA_TAG)
        return None if tag is None else tag.value


def test_label_nodata_value_is_no_class():
    assert label_nodata(np.uint8, range(3)) == 255
    assert label_nodata(np.uint8, [0, 255], ignore=128) == 128
    assert label_nodata(np.uint8, range(3), ignore=1) == 255  # the ignore value is a class
    assert label_nodata(np.uint8, range(256)) is None


def test_geotiff_labels_hold_nodata_where_the_input_has_none(tmp_path):
    src, bad = _swath(tmp_path / "scene.tif")
    predict_file(_net(), src, tmp_path / "out", objects=True)
    labels = tifffile.imread(tmp_path / "out" / "scene.tif")
    assert (labels[bad] == 255).all() and set(np.unique(labels[~bad])) <= {0, 1}
    assert _tag(tmp_path / "out" / "scene.tif").strip("\x00") == "255"
    ids = tifffile.imread(tmp_path / "out" / "scene_objects.tif")
    assert not ids[bad].any()  # no object in the nodata, as before


def test_labels_without_nodata_carry_no_tag(tmp_path):
    src, _ = _swath(tmp_path / "scene.tif")
    predict_file(_net(), src, tmp_path / "out", nodata="none")
    labels = tifffile.imread(tmp_path / "out" / "scene.tif")
    assert labels.max() <= 1 and _tag(tmp_path / "out" / "scene.tif") is None


def test_evaluate_pred_scores_the_labels_nodata_nowhere(tmp_path):
    """The 255 of the nodata is no class index to ``evaluate --pred``: those pixels count
    nowhere (without the tag read, 255 was refused as a class beyond the masks')."""
    from unetlab.evaluate import evaluate_predictions

    src, bad = _swath(tmp_path / "scene.tif")
    predict_file(_net(), src, tmp_path / "pred", objects=True)
    (tmp_path / "gt").mkdir()
    mask = np.zeros((40, 48), np.uint8)
    mask[10:30, 20:40] = 1
    tifffile.imwrite(tmp_path / "gt" / "scene.tif", mask)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", class_names=["bg", "fg"])
    labels = tifffile.imread(tmp_path / "pred" / "scene.tif")
    got = report.to_dict()
    assert got["labelled_pixels"] == int((~bad).sum())
    assert got["ignored_pixels"] == int(bad.sum())
    assert abs(got["pixel_accuracy"] - np.mean(labels[~bad] == mask[~bad])) < 1e-9
