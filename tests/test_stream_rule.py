"""One rule says which inputs are streamed (inference/stream_rule.py): the pixel rule
(:func:`is_large`), and, with no threshold given, a one-page TIFF whose whole read is
estimated over the memory budget, except with settings for images read whole only, or
objects / an overlay in a run shared over processes."""

import numpy as np
import pytest
import tifffile

from unetlab import UNet
from unetlab.errors import UnetlabError
from unetlab.inference import sizing
from unetlab.inference.predict import PredictOptions
from unetlab.inference.records import OutputOptions
from unetlab.inference.stream_rule import is_streamed, whole_estimate


def _model():
    return UNet(3, 2, depth=2, base_channels=4, padding="same").eval()


def test_the_memory_rule_and_what_it_leaves_to_the_pixel_rule(tmp_path, monkeypatch):
    image = np.random.default_rng(0).integers(0, 255, (64, 80, 3), np.uint8)
    tifffile.imwrite(tmp_path / "a.tif", image, photometric="rgb")
    tifffile.imwrite(tmp_path / "t.tif", image, photometric="rgb", extratags=[(274, "H", 1, 6)])
    model, path = _model(), tmp_path / "a.tif"
    assert whole_estimate(path, model) == (64 * 80, sizing.whole_read_bytes(64 * 80, 3, 1, 2))
    assert not is_streamed(path, model)  # 200 KB: read whole
    monkeypatch.setattr(sizing, "WHOLE_BUDGET", 1000.0)
    assert is_streamed(path, model) and is_streamed(path, model, processes=2)
    assert not is_streamed(path, model, OutputOptions(large_threshold=10**6))  # the user's word
    assert is_streamed(path, model, OutputOptions(large_threshold=100))
    assert not is_streamed(path, model, options=PredictOptions(exclude_rows="bottom=4"))
    # axes that say what the file says stream as without (YXS: its RGB samples; YXC: colours
    # too, by the one rule, data.io.stain_axes: it was read whole as channels, not colours)
    assert is_streamed(path, model, axes="YXS") and is_streamed(path, model, axes="YXC")
    assert not is_streamed(path, model, OutputOptions(objects=True, outlines="imagej"))
    assert not is_streamed(tmp_path / "t.tif", model)  # turned: read whole, turned
    for asked in (dict(objects=True), dict(draw_overlay=True)):
        assert is_streamed(path, model, OutputOptions(**asked))
        assert not is_streamed(path, model, OutputOptions(**asked), processes=2)


def test_an_unreadable_tiff_is_named_as_before(tmp_path):
    (tmp_path / "x.tif").write_bytes(b"not a tiff")
    with pytest.raises(UnetlabError, match="x.tif"):
        is_streamed(tmp_path / "x.tif", _model())
