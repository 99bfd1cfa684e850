"""``unetlab predict --nodata auto|none|V``: the pixels that are no sample, as Python's
``nodata=`` and the checkpoint's ``data.nodata`` say them; the Zarr line about chunks not
stored names it (review s33 6)."""

import numpy as np
import pytest
import torch
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main


@pytest.fixture
def folder(tmp_path):
    """A grey PNG whose top-left block is 0, and a net that finds class 1 everywhere."""
    image = np.random.default_rng(0).integers(100, 200, (40, 48), dtype=np.uint8)
    image[:16, :16] = 0
    (tmp_path / "in").mkdir()
    Image.fromarray(image).save(tmp_path / "in" / "a.png")
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    with torch.no_grad():
        model.head.bias.copy_(torch.tensor([-20.0, 20.0]))
    save_model(tmp_path / "model.pt", model)
    return tmp_path


def _predict(folder, out: str, *flags) -> int:
    args = ["predict", "--checkpoint", str(folder / "model.pt"), "--input", str(folder / "in")]
    return main([*args, "--output", str(folder / out), *flags])


def test_nodata_0_labels_the_zero_pixels_background(folder):
    assert _predict(folder, "auto") == 0 and _predict(folder, "zero", "--nodata", "0") == 0
    auto, zero = (np.asarray(Image.open(folder / d / "a.png")) for d in ("auto", "zero"))
    assert (auto == 1).all()  # auto: a PNG without alpha has no nodata
    assert (zero[:16, :16] == 0).all() and (zero[16:] == 1).all()


def test_a_bad_nodata_is_one_line_before_the_model_loads(folder, capsys):
    assert _predict(folder, "out", "--nodata", "black") == 2
    err = capsys.readouterr().err
    assert err.startswith("unetlab predict: error: --nodata: 'black' is not auto, none or a")
    assert len(err.splitlines()) == 1 and not (folder / "out").exists()


def test_skip_existing_notices_another_nodata(folder, capsys):
    """Outputs made with another --nodata are another model's for --skip-existing, as those
    of another checkpoint (note33: predict.json did not record nodata, so they were skipped)."""
    assert _predict(folder, "out") == 0
    assert _predict(folder, "out", "--skip-existing", "--nodata", "0") == 2
    err = capsys.readouterr().err
    assert "nodata 0" in err and "--overwrite" in err
    assert _predict(folder, "out", "--skip-existing", "--nodata", "0", "--overwrite") == 0
    labels = np.asarray(Image.open(folder / "out" / "a.png"))
    assert (labels[:16, :16] == 0).all()  # predicted again, with the zero block as nodata
    stamp = (folder / "out" / "a.png").stat().st_mtime_ns
    assert _predict(folder, "out", "--skip-existing", "--nodata", "0") == 0  # the same: skipped
    assert (folder / "out" / "a.png").stat().st_mtime_ns == stamp


@pytest.mark.parametrize("value", ["300", "0.5"])
def test_a_nodata_the_image_type_cannot_hold_is_said_once(folder, caplog, value):
    """`--nodata 300` on 8-bit images (a typo for 30) left nothing out without a word."""
    from PIL import Image as _Image

    _Image.fromarray(np.zeros((40, 48), np.uint8)).save(folder / "in" / "b.png")
    assert _predict(folder, "out", "--nodata", value) == 0
    err = caplog.text
    said = f"nodata {float(value):g} cannot occur in uint8 images (whole numbers 0..255)"
    assert err.count(said) == 1
