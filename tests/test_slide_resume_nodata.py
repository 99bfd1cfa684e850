"""A killed run's staging is not resumed under another nodata setting: its statistics and
fill are of other pixels (a crash, or rows predicted with the old valid mean)."""

import logging

import numpy as np
import pytest
import tifffile

from tests.test_appearance import _he, _model, _record
from tests.test_slide_resume import (
    Stop,
    pinned_version,  # noqa: F401 (autouse)
)
from unetlab.data import ome
from unetlab.inference.slides import predict_slide


@pytest.mark.parametrize("before, now", [(None, 0), (0, 255)])
def test_another_nodata_starts_afresh(tmp_path, caplog, monkeypatch, before, now):
    monkeypatch.setattr(ome, "CHUNK", 32)
    model = _model(_record([_he(s) for s in range(6)]))
    image = np.tile(_he(9), (2, 1, 1))
    image[:4, :4], image[-4:, -4:] = 0, 255
    tifffile.imwrite(tmp_path / "s.tif", image, photometric="rgb")
    kw = dict(tile_size=32, batch_size=1)
    with pytest.raises(KeyboardInterrupt):
        predict_slide(
            model, tmp_path / "s.tif", tmp_path / "out", progress=Stop(8), nodata=before, **kw
        )
    caplog.set_level(logging.INFO)
    predict_slide(model, tmp_path / "s.tif", tmp_path / "out", nodata=now, **kw)
    predict_slide(model, tmp_path / "s.tif", tmp_path / "straight", nodata=now, **kw)
    out, straight = (tifffile.imread(tmp_path / f / "s.tif") for f in ("out", "straight"))
    assert np.array_equal(out, straight)
    assert any("the pixels left out as no sample changed" in m for m in caplog.messages)
