"""evaluate --checkpoint scores no nodata pixel (patch for evaluate/model.py, accumulate.py)."""

import json

import numpy as np
import tifffile
import torch

from unetlab import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_model
from unetlab.models import UNet


def _zero_block_folder(tmp_path):
    """images/a.png with a zero block (no nodata tag: auto finds none), masks/a.png, and a
    checkpoint model.pt."""
    rng = np.random.default_rng(0)
    image = rng.integers(60, 200, (48, 40)).astype(np.uint8)
    image[:16] = 0
    write_png(tmp_path / "images" / "a.png", image)
    mask = np.zeros((48, 40), np.uint8)
    mask[20:30, 10:30] = 255
    write_png(tmp_path / "masks" / "a.png", mask)
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    model.classes, model.label_values = ["background", "cell"], [0, 255]
    save_model(tmp_path / "model.pt", model)
    return tmp_path


def test_evaluate_checkpoint_takes_nodata_as_predict_does(tmp_path):
    """``evaluate --checkpoint --nodata V`` (note33: predict had it, evaluate not): the
    pixels holding V are scored nowhere; recorded in the JSON."""
    root = _zero_block_folder(tmp_path)
    argv = ["evaluate", "--checkpoint", str(root / "model.pt"), "--data", str(root)]
    assert main([*argv, "--json", str(root / "auto.json")]) == 0
    assert main([*argv, "--nodata", "0", "--json", str(root / "zero.json")]) == 0
    auto, zero = (json.loads((root / f"{n}.json").read_text()) for n in ("auto", "zero"))
    assert auto["labelled_pixels"] == 48 * 40
    assert zero["labelled_pixels"] == 32 * 40
    assert auto["nodata"] == "auto" and zero["nodata"] == 0


def test_evaluate_nodata_is_checked_and_refused_with_pred(tmp_path, capsys):
    root = _zero_block_folder(tmp_path)
    argv = ["evaluate", "--checkpoint", str(root / "model.pt"), "--data", str(root)]
    assert main([*argv, "--nodata", "black"]) == 2
    err = capsys.readouterr().err
    assert "--nodata: 'black' is not auto, none or a number" in err and len(err.splitlines()) == 1
    pred = ["evaluate", "--pred", str(root / "masks"), "--gt", str(root / "masks")]
    assert main([*pred, "--nodata", "0"]) == 2
    err = capsys.readouterr().err
    assert "--nodata" in err and "unetlab predict" in err and len(err.splitlines()) == 1


def test_evaluate_scores_no_nodata_pixel(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(60, 200, (64, 64, 3)).astype(np.uint8)
    image[:16] = 0
    (tmp_path / "images").mkdir()
    tags = [(42113, "s", 0, "0", True)]
    tifffile.imwrite(tmp_path / "images" / "a.tif", image, photometric="rgb", extratags=tags)
    mask = np.zeros((64, 64), np.uint8)
    mask[:16] = 255  # the nodata drawn as "cell": scored nowhere
    write_png(tmp_path / "masks" / "a.png", mask)
    torch.manual_seed(0)
    model = UNet(3, 2, depth=2, base_channels=4, padding="same").eval()
    model.classes, model.label_values = ["background", "cell"], [0, 255]
    model.normalization = {"mode": "per_image"}
    with_nodata = evaluate_model(model, tmp_path)
    assert with_nodata.summary["labelled_pixels"] == 64 * 48
    # the image's nodata: no-data, not the masks' ignore value (review s47 apinodata 3)
    assert (with_nodata.summary["nodata_pixels"], with_nodata.summary["ignored_pixels"]) == (
        64 * 16,
        0,
    )
    assert "no-data (left out of the predictions as no sample" in with_nodata.table()
    apart = ("nodata_pixels_pred", "nodata_pixels_truth")  # s55: the image's, none the mask's
    assert [with_nodata.summary[k] for k in apart] == [64 * 16, 0]
    everything = evaluate_model(model, tmp_path, nodata="none")
    assert everything.summary["labelled_pixels"] == 64 * 64
    assert with_nodata.source["nodata"] == "auto" and everything.source["nodata"] == "none"
