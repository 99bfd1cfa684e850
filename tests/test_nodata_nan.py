"""A float image whose nodata is NaN (GDAL_NODATA "nan": float orthomosaics, DEMs): its NaN
pixels are left out like any nodata, read whole, streamed and in training; other NaN or
infinite pixels are still refused (review s32 2)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab.data.datasets import load_samples
from unetlab.data.io import write_png
from unetlab.data.labels import IGNORE_INDEX
from unetlab.data.pairs import find_pairs
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file
from unetlab.models import UNet

NAN_TAG = [(42113, "s", 0, "nan", True)]


def _float_ortho(seed=0, shape=(64, 56)):
    """A float32 RGB image with NaN rows on top and left (nodata), and those pixels."""
    rng = np.random.default_rng(seed)
    image = rng.uniform(0.1, 0.9, (*shape, 3)).astype(np.float32)
    bad = np.zeros(shape, bool)
    bad[:10] = bad[:, :7] = True
    image[bad] = np.nan
    return image, bad


def _write(path, image, tags=NAN_TAG):
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, image, tile=(32, 32), photometric="rgb", extratags=tags)
    return path


def _model():
    return UNet(3, 2, depth=2, base_channels=4, padding="same").eval()


@pytest.mark.parametrize("streamed", [False, True])
def test_nan_nodata_is_left_out_whole_and_streamed(tmp_path, streamed):
    image, bad = _float_ortho()
    path = _write(tmp_path / "f.tif", image)
    how = dict(tile_size=32, batch_size=2, **({"large_threshold": 100} if streamed else {}))
    predict_file(_model(), path, tmp_path / "o", **how)
    (found,) = (tmp_path / "o").glob("f.*")  # PNG or TIFF labels
    labels = np.asarray(Image.open(found)) if found.suffix == ".png" else tifffile.imread(found)
    # a PNG holds the background there, a TIFF the no-data value it names (GDAL_NODATA)
    assert (
        labels.shape == bad.shape and (labels[bad] == (0 if found.suffix == ".png" else 255)).all()
    )


@pytest.mark.parametrize("streamed", [False, True])
def test_other_nan_pixels_are_still_refused(tmp_path, streamed):
    image, _ = _float_ortho()
    image[30, 30, 1] = np.nan  # NaN in one band only: not the nodata
    image[40, 40] = np.inf
    path = _write(tmp_path / "f.tif", image)
    how = dict(tile_size=32, **({"large_threshold": 100} if streamed else {}))
    with pytest.raises(UnetlabError, match="2 NaN or infinite pixels"):
        predict_file(_model(), path, tmp_path / "o", **how)


def test_nan_pixels_without_the_tag_are_refused(tmp_path):
    image, _ = _float_ortho()
    path = _write(tmp_path / "f.tif", image, tags=[])
    with pytest.raises(UnetlabError, match="NaN or infinite pixels"):
        predict_file(_model(), path, tmp_path / "o", tile_size=32)


def test_training_leaves_nan_nodata_out(tmp_path):
    image, bad = _float_ortho()
    _write(tmp_path / "images" / "a.tif", image)
    mask = np.zeros(bad.shape, np.uint8)
    mask[30:40, 30:40] = 255
    write_png(tmp_path / "masks" / "a.png", mask)
    spec = {"mode": "per_image"}
    (sample,) = load_samples(find_pairs(tmp_path), label_values=[0, 255], normalization=spec)
    assert np.isfinite(sample.image).all()
    assert (sample.mask[bad] == IGNORE_INDEX).all() and (sample.mask[~bad] >= 0).all()
    image[50, 50] = np.inf  # not the nodata: refused
    _write(tmp_path / "images" / "a.tif", image)
    with pytest.raises(UnetlabError, match="1 NaN or infinite pixels"):
        load_samples(find_pairs(tmp_path), label_values=[0, 255], normalization=spec)


def test_the_plan_measures_a_nan_nodata_set_as_training_reads_it(tmp_path):
    """The fingerprint the plan derives from leaves the NaN nodata out too (it refused the
    set: "N NaN or infinite pixels"); its statistics are finite and the mask's nodata pixels
    count as unlabelled where the data set has an ignore value."""
    from unetlab.config import Config
    from unetlab.data.fingerprint import fingerprint
    from unetlab.plan import plan_training

    mask = np.zeros((64, 56), np.uint8)
    mask[30:50, 20:40] = 1
    mask[:5, :5] = 1  # drawn over the nodata: not measured where 0 is the ignore value
    for i in range(4):
        image, _ = _float_ortho(i)
        _write(tmp_path / "images" / f"{i}.tif", image)
        write_png(tmp_path / "masks" / f"{i}.png", mask)
    pairs = find_pairs(tmp_path)
    fp = fingerprint(pairs)
    assert all(np.isfinite(p.mean).all() and np.isfinite(p.high).all() for p in fp.pairs)
    with pytest.raises(UnetlabError, match="NaN or infinite pixels"):
        fingerprint(pairs, nodata="none")
    counted = fingerprint(pairs, ignore_value=0).pairs[0]
    assert dict(zip(counted.values, counted.counts)) == {1: 400}
    cfg = Config()
    cfg.data.root = str(tmp_path)
    plan_training(cfg)  # no refusal


def test_a_run_with_an_image_all_nodata_leaves_a_checkpoint_predict_takes(tmp_path):
    """Its contrast is NaN: the normalisation floor came out NaN, and predict refused every
    checkpoint of the run ("normalization floor must be a positive number ... not [nan]")."""
    from tests.test_train import tiny_config
    from unetlab import load_model
    from unetlab.train import fit

    for i in range(4):
        image, _ = _float_ortho(seed=i)
        if i == 0:
            image[:] = np.nan
        _write(tmp_path / "data" / "images" / f"{i}.tif", image)
        mask = np.zeros(image.shape[:2], np.uint8)
        mask[30:40, 30:40] = 255
        write_png(tmp_path / "data" / "masks" / f"{i}.png", mask)
    cfg = tiny_config(tmp_path / "data", "train.epochs=1", "data.class_names=null")
    fit(cfg, run_dir=tmp_path / "run", progress=False)
    model = load_model(tmp_path / "run" / "checkpoints" / "best.pt")
    assert all(np.isfinite(model.normalization["floor"]))
    image, _ = _float_ortho(seed=9)
    predict_file(model, _write(tmp_path / "b.tif", image), tmp_path / "out")
