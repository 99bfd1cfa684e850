"""Predicted label TIFFs hold a no-data value on the input's nodata pixels and name it in
GDAL_NODATA, so QGIS shows the outside of a swath transparent, not as class 0 (audit s37
multispectral); ``evaluate --pred`` scores them nowhere."""

from __future__ import annotations

import numpy as np
import pytest
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


#: an image read whole, and streamed window by window (``--large-pixels 100``)
READS = {"whole": {}, "streamed": {"large_threshold": 100}}


def _tag(path):
    with tifffile.TiffFile(path) as tif:
        tag = tif.pages[0].tags.get(NODATA_TAG)
        return None if tag is None else tag.value


def test_label_nodata_value_is_no_class():
    assert label_nodata(np.uint8, range(3)) == 255
    assert label_nodata(np.uint8, [0, 255], ignore=128) == 128
    assert label_nodata(np.uint8, range(3), ignore=1) == 255  # the ignore value is a class
    assert label_nodata(np.uint8, range(256)) is None
    assert label_nodata(np.uint8, [0, 255]) == 254  # 0/255 masks: the largest value free


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
    assert (got["nodata_pixels"], got["ignored_pixels"]) == (int(bad.sum()), 0)
    assert abs(got["pixel_accuracy"] - np.mean(labels[~bad] == mask[~bad])) < 1e-9


def test_evaluate_pred_counts_the_predictions_nodata_apart_from_the_ignore_value(tmp_path):
    """Review s47 apinodata 3: the pixels a prediction left out (its GDAL_NODATA) were
    counted, printed and named as the masks' ignore value. They are no-data, counted apart
    (JSON ``nodata_pixels``), and the masks' ignore value keeps its own count, a pixel in
    both counted once, as no-data."""
    from unetlab.evaluate import evaluate_predictions

    src, bad = _swath(tmp_path / "scene.tif")
    predict_file(_net(), src, tmp_path / "pred")
    (tmp_path / "gt").mkdir()
    mask = np.zeros((40, 48), np.uint8)
    mask[10:30, 20:40] = 1
    mask[:5] = 9  # the ignore value: 5 rows, 12 of each in the nodata
    tifffile.imwrite(tmp_path / "gt" / "scene.tif", mask)
    how = dict(class_names=["bg", "fg"], ignore_value=9)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", **how)
    got, table = report.to_dict(), report.table()
    nodata, ignored = int(bad.sum()), 5 * (48 - 12)
    assert (got["nodata_pixels"], got["ignored_pixels"]) == (nodata, ignored)
    assert got["labelled_pixels"] == 40 * 48 - nodata - ignored
    assert f"{ignored} ignored pixels and {nodata} no-data pixels" in got["averaging"]["miou"]
    assert "9% ignored (the masks' ignore value: they count nowhere)" in table
    assert "25% no-data (left out of the predictions as no sample" in table


def test_streamed_labels_hold_the_nodata_of_the_image_read_whole(tmp_path):
    """A large GeoTIFF streamed window by window wrote class 0 on its nodata, untagged."""
    src, bad = _swath(tmp_path / "scene.tif")
    how = dict(objects=True, draw_overlay=True)  # the overlay reads the labels back
    predict_file(_net(), src, tmp_path / "w", **how)
    written = predict_file(_net(), src, tmp_path / "s", large_threshold=100, **how)
    assert tmp_path / "s" / "scene_overlay.png" in written
    whole, streamed = (tifffile.imread(tmp_path / d / "scene.tif") for d in "ws")
    assert (streamed[bad] == 255).all() and (streamed == whole).all()
    assert _tag(tmp_path / "s" / "scene.tif").strip("\x00") == "255"


def test_streamed_mask_values_take_a_free_value(tmp_path):
    """0/255 masks: 255 is a class, 254 is written and named (labels read back for the
    overlay map it to the background)."""
    src, bad = _swath(tmp_path / "scene.tif")
    net = _net()
    net.label_values = [0, 255]
    how = dict(label_values=True, draw_overlay=True, large_threshold=100)
    predict_file(net, src, tmp_path / "s", **how)
    labels = tifffile.imread(tmp_path / "s" / "scene.tif")
    assert (labels[bad] == 254).all() and set(np.unique(labels[~bad])) <= {0, 255}
    assert _tag(tmp_path / "s" / "scene.tif").strip("\x00") == "254"


def test_a_streamed_ome_zarr_names_its_nodata(tmp_path):
    """No GeoTIFF tag in a Zarr: the ``unetlab`` attribute ``nodata``, and the arrays'
    ``fill_value``, which GDAL's Zarr driver reads as nodata (it was 0: class 0)."""
    import zarr

    src, bad = _swath(tmp_path / "scene.tif")
    how = dict(large_threshold=100, output_format="ome-zarr")
    predict_file(_net(), src, tmp_path / "z", **how)
    group = zarr.open_group(tmp_path / "z" / "scene.ome.zarr", mode="r")
    assert group.attrs["unetlab"]["nodata"] == 255
    assert group["0"].fill_value == 255
    assert (np.asarray(group["0"])[bad] == 255).all()


@pytest.mark.parametrize("read", READS)
def test_evaluate_pred_scores_a_streamed_outputs_nodata_nowhere(tmp_path, read):
    from unetlab.evaluate import evaluate_predictions

    src, bad = _swath(tmp_path / "scene.tif")
    predict_file(_net(), src, tmp_path / "pred", **READS[read])
    (tmp_path / "gt").mkdir()
    mask = np.zeros((40, 48), np.uint8)
    mask[10:30, 20:40] = 1
    tifffile.imwrite(tmp_path / "gt" / "scene.tif", mask)
    got = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", class_names=["bg", "fg"])
    assert got.to_dict()["nodata_pixels"] == int(bad.sum())
    assert got.to_dict()["ignored_pixels"] == 0


def test_the_nodata_line_says_a_tiff_label_image_holds_no_data_there(tmp_path, caplog):
    """The line naming the nodata pixels said 'predicted as background' where the TIFF
    labels hold 255 there, tagged (s38 review: the nodata labels beside the older line)."""
    import logging

    src, _ = _swath(tmp_path / "scene.tif")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_file(_net(), src, tmp_path / "out")
    assert "a TIFF label image holds a no-data value there" in caplog.text


def _masks_with_nodata(tmp_path, suffix):
    """pred/a + gt/a (32 x 32, one square of class 1): the masks' first 8 rows hold 255,
    which their file names no-data (a prediction kept as the masks), the prediction 0."""
    from unetlab.data.io import write_png

    gt = np.zeros((32, 32), np.uint8)
    gt[10:20, 10:20] = 1
    (tmp_path / "pred").mkdir(), (tmp_path / "gt").mkdir()
    if suffix == ".png":
        write_png(tmp_path / "pred" / "a.png", gt)
        gt[:8] = 255
        write_png(tmp_path / "gt" / "a.png", gt, text={"nodata": "255"})
    else:
        tifffile.imwrite(tmp_path / "pred" / "a.tif", gt)
        gt[:8] = 255
        tifffile.imwrite(tmp_path / "gt" / "a.tif", gt, extratags=[GEO[-1][:2] + (0, "255", True)])


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_evaluate_scores_the_masks_own_nodata_nowhere(tmp_path, suffix, capsys):
    """A mask file that names its no-data value (PNG text key, GDAL_NODATA) has no class
    there: those pixels count nowhere, as a prediction's no-data does (refused before as
    'class index 255 ... fix the mask where it is a stray value')."""
    import json

    from unetlab.cli import main

    _masks_with_nodata(tmp_path, suffix)
    out = tmp_path / "s.json"
    args = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*args, "--json", str(out)]) in (0, None)
    got = json.loads(out.read_text())
    assert (got["labelled_pixels"], got["nodata_pixels"]) == (24 * 32, 8 * 32)
    assert got["pixel_accuracy"] == 1.0 and got["miou"] == 1.0
    assert (got["nodata_pixels_truth"], got["nodata_pixels_pred"]) == (8 * 32, 0)
    table = capsys.readouterr().out
    assert "25% no-data (named no-data by the masks' files; they count nowhere)" in table


def test_the_predictions_and_the_masks_no_data_are_counted_apart(tmp_path):
    """A prediction's no-data (its GDAL_NODATA: 4 columns) and the mask file's own (8 rows)
    were one ``nodata_pixels``, the table's line naming both whoever's they were (s55): they
    are counted apart too, a pixel in both in each, and once in ``nodata_pixels``."""
    from unetlab.evaluate import evaluate_predictions

    _masks_with_nodata(tmp_path, ".tif")
    pred = tifffile.imread(tmp_path / "pred" / "a.tif")
    pred[:, :4] = 255
    tifffile.imwrite(tmp_path / "pred" / "a.tif", pred, extratags=[GEO[-1][:2] + (0, "255", True)])
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt")
    got, apart = report.to_dict(), ("nodata_pixels_pred", "nodata_pixels_truth")
    assert (got["nodata_pixels"], *(got[k] for k in apart)) == (8 * 32 + 24 * 4, 32 * 4, 8 * 32)
    assert got["labelled_pixels"] == 32 * 32 - got["nodata_pixels"] and got["miou"] == 1.0
    assert all(got["averaging"][k] == "summed over images" for k in apart)
    assert (
        "34% no-data (left out of the predictions as no sample (nodata or transparent in their "
        "images): 128 px, or named no-data by the masks' files: 256 px; they count nowhere)"
    ) in report.table()


def test_a_nodata_value_the_label_values_name_stays_a_class(tmp_path):
    from unetlab.evaluate import evaluate_predictions

    _masks_with_nodata(tmp_path, ".png")
    got = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 1, 255])
    assert got.to_dict()["nodata_pixels"] == 0 and got.to_dict()["labelled_pixels"] == 32 * 32


def test_the_masks_nodata_is_no_part_of_a_true_object(tmp_path):
    """Object ids whose file names 255 no-data: the pixels under it took the value of the
    first labelled one (object 2 here), which grew that object over them (object F1 0.5)."""
    from unetlab.data.io import write_png
    from unetlab.evaluate import evaluate_predictions

    ids = np.zeros((32, 32), np.uint8)
    ids[10:20, 10:20], ids[8:12, 0:3] = 1, 2  # object 2 the first labelled pixel (8, 0)
    write_png(tmp_path / "pred" / "a.png", ids)
    ids[:8] = 255
    write_png(tmp_path / "gt" / "a.png", ids, text={"nodata": "255"})
    how = dict(pred_instances=True, gt_instances=True)
    (row,) = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", **how).images
    assert (row["objects"], row["object_f1"], row["rand_error"]) == (2, 1.0, 0.0)


def test_a_nodata_value_that_is_a_class_stays_one(tmp_path):
    """GDAL_NODATA=0 on a 0/1 label GeoTIFF (gdal_rasterize -a_nodata 0, QGIS) marks its
    background: read as no-data, it hid a false positive there (review s54 C1: mIoU 1.0)."""
    from unetlab.evaluate import evaluate_predictions

    gt = np.zeros((32, 32), np.uint8)
    gt[4:12, 4:12] = 1
    (tmp_path / "pred").mkdir(), (tmp_path / "gt").mkdir()
    tifffile.imwrite(tmp_path / "gt" / "a.tif", gt, extratags=[GEO[-1]])
    pred = gt.copy()
    pred[20:28, 20:28] = 1  # a false positive on the background
    tifffile.imwrite(tmp_path / "pred" / "a.tif", pred)
    got = evaluate_predictions(tmp_path / "pred", tmp_path / "gt").to_dict()
    assert (got["nodata_pixels"], got["labelled_pixels"]) == (0, 32 * 32)
    assert abs(got["miou"] - (896 / 960 + 64 / 128) / 2) < 1e-9


def test_binary_objects_touching_the_masks_nodata_stay_apart(tmp_path):
    """--gt-instances of a binary mask: its no-data took the first labelled value (1) before
    its components were found, which joined the objects touching it (review s54 C2: 2 of 3
    objects, F1 0.8 for a perfect prediction)."""
    from unetlab.data.io import write_png
    from unetlab.evaluate import evaluate_predictions

    pred = np.zeros((32, 32), np.uint8)
    pred[8:12, 0:3], pred[8:12, 20:25], pred[20:25, 10:15] = 1, 2, 3
    write_png(tmp_path / "pred" / "a.png", pred)
    gt = (pred > 0).astype(np.uint8)
    gt[:8] = 255
    write_png(tmp_path / "gt" / "a.png", gt, text={"nodata": "255"})
    how = dict(pred_instances=True, gt_instances=True)
    (row,) = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", **how).images
    assert (row["objects"], row["object_f1"], row["rand_error"]) == (3, 1.0, 0.0)


def test_a_masks_nodata_is_decided_by_its_value_alone_on_every_page():
    # review s54 (5): the first rule judged a value against the page's and its prediction's
    # indices: nodata=2 beside 0/1 was scored on a page with foreground and ignored on one
    # without, and a 3-D prediction of 300 object ids made a 255 band a true object
    from unetlab.evaluate.masks import NO_CLASS_FROM, nodata_pixels

    with_fg = np.zeros((8, 8), np.uint8)
    with_fg[2:4, 2:4] = 1
    without = np.zeros((8, 8), np.uint8)
    for mask in (with_fg, without):
        mask[:, :2] = 2
        assert nodata_pixels(mask, 2, None) is None  # an index below 255: a class on both
        mask[:, :2] = NO_CLASS_FROM
        assert nodata_pixels(mask, NO_CLASS_FROM, None).sum() == 16  # on both
        assert nodata_pixels(mask, NO_CLASS_FROM, [0, 1, 255]) is None  # named a class
        assert nodata_pixels(mask, 0, [1, 255]).sum() == 64 - 16 - mask[:, 2:].sum()


@pytest.mark.parametrize("suffix, tag", [(".png", "text key nodata"), (".tif", "GDAL_NODATA tag")])
def test_a_mask_s_own_nodata_below_255_is_refused_naming_its_tag(tmp_path, capsys, suffix, tag):
    """A mask file naming 100 its no-data (a model's predictions of ignore_value 100 kept as
    masks) was refused as 'the masks hold values 0 1 100 ... give --ignore-value 100',
    without a word of the file or its tag (s55). The value alone decides (below 255 and no
    label values: a class index), so it is refused naming the file, its tag and the fixes,
    each of which scores it."""
    from unetlab.cli import main
    from unetlab.evaluate import evaluate_predictions
    from unetlab.evaluate.checks import MaskValuesError

    _masks_with_nodata(tmp_path, suffix)
    gt = tmp_path / "gt" / f"a{suffix}"
    mask = np.where(np.arange(32) < 4, 100, 0).astype(np.uint8)[None].repeat(32, 0)
    mask[10:20, 10:20] = 1
    if suffix == ".png":
        from unetlab.data.io import write_png

        write_png(gt, mask, text={"nodata": "100"})
    else:
        tifffile.imwrite(gt, mask, extratags=[GEO[-1][:2] + (0, "100", True)])
    said = f"{gt}: its {tag} names 100 no-data, but without label values a mask value below 255"
    for named in (None, ["bg", "fg"]):  # named too: a predict.json's (refused as 2 classes)
        with pytest.raises(MaskValuesError) as error:
            evaluate_predictions(tmp_path / "pred", tmp_path / "gt", class_names=named)
        assert str(error.value).startswith(said), error.value
        assert "100 is no class here (class indices 0..1, predicted or named): give " + (
            "ignore_value=100 to count its pixels nowhere, or label_values=[...]"
        ) in str(error.value)
    assert main(["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert (
        said in line
        and "give --ignore-value 100 to count its pixels nowhere, or --label-values" in line
    )
    ignored = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", ignore_value=100).to_dict()
    assert (ignored["ignored_pixels"], ignored["miou"]) == (4 * 32, 1.0)
    valued = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 1])
    assert (valued.to_dict()["nodata_pixels_truth"], valued.to_dict()["miou"]) == (4 * 32, 1.0)
