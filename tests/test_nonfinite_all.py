"""An image of no finite pixel: its line suggested --nodata nan (or data.nodata=nan for
training), which would leave the whole image out: it holds nothing to segment (s51
walkbad)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tifffile

from unetlab.cli import main
from unetlab.data.checks import nonfinite_pixels
from unetlab.errors import UnetlabError
from unetlab.inference.predict import check_finite

NONE = "none of its {n} pixels is finite (all NaN or infinite): the image holds nothing to segment"


def test_an_all_nan_file_is_said_to_hold_nothing_to_segment(tmp_path, capsys):
    from unetlab.checkpoint import save_model
    from unetlab.models import UNet

    checkpoint = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4))
    tifffile.imwrite(tmp_path / "nan.tif", np.full((32, 32), np.nan, np.float32))
    argv = ["predict", "--checkpoint", str(checkpoint), "--input", str(tmp_path / "nan.tif")]
    main([*argv, "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert f"{tmp_path / 'nan.tif'}: {NONE.format(n=1024)}; export it again" in err
    assert "--nodata" not in err and "Traceback" not in err


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_no_finite_pixel_is_no_nodata_in_training_and_predicting(bad):
    image = np.full((4, 5, 2), bad, np.float32)
    assert nonfinite_pixels("a.tif", image).startswith(f"a.tif: {NONE.format(n=20)}; ")
    with pytest.raises(UnetlabError, match="^" + re.escape(f"a.tif: {NONE.format(n=20)}; ")):
        check_finite(image, "a.tif", channel_axis=True)
    with pytest.raises(UnetlabError, match=r"in rows 0-3; they are NaN|in rows 0-3; replace"):
        check_finite(image, "a.tif", channel_axis=True, where=" in rows 0-3")  # a window only
    nodata = np.zeros((4, 5), bool)
    nodata[0] = True  # the no-data pixels left out, the others all NaN: none finite still
    with pytest.raises(UnetlabError, match="^" + re.escape(f"a.tif: {NONE.format(n=15)}; ")):
        check_finite(image, "a.tif", channel_axis=True, invalid=nodata)
    image[0, 0] = 1.0  # one finite pixel: the usual lines
    assert "none of its" not in nonfinite_pixels("a.tif", image)


def test_one_channel_all_nan_beside_finite_ones_is_not_nothing_to_segment():
    """s51 review: a pixel counted bad where any channel is NaN made an image whose second
    channel is all NaN read as holding nothing, its first channel whole."""
    image = np.random.default_rng(0).random((8, 8, 2)).astype(np.float32)
    image[..., 1] = np.nan
    line = nonfinite_pixels("F.tif", image)
    assert line is not None and "none of its" not in line and "replace them" in line
