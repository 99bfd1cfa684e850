"""``weightmap --instances`` labels every mask before it writes the first map, and held
each one's ids as int32: 4 times an 8-bit mask as stored, twice a 16-bit one. They are held
in the least dtype of their largest id, and no ignored pixels where none is; the maps stay
those of the API (:func:`~unetlab.data.weightmap.instance_weight_map`)."""

import numpy as np
import tifffile
from PIL import Image

from tests.test_postprocess import disc_ids
from unetlab.cli import main
from unetlab.cli import weightmap as cli
from unetlab.data.weightmap import instance_weight_map


def test_the_ids_are_held_in_the_least_dtype_and_weighed_as_before(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    small = disc_ids((48, 64), rng.uniform(0, (48, 64), (20, 2)), 6).astype(np.uint8)
    small[:6, :10] = 255  # no label
    many = disc_ids((120, 160), rng.uniform(0, (120, 160), (400, 2)), 4).astype(np.uint16)
    many[many >= 255] += 1  # none ignored
    (tmp_path / "m").mkdir()
    Image.fromarray(small).save(tmp_path / "m" / "a.png")
    tifffile.imwrite(tmp_path / "m" / "b.tif", many)
    held, weigh = {}, cli._instance_map
    monkeypatch.setattr(
        cli,
        "_instance_map",
        lambda labelled, *, name, **how: (
            held.setdefault(name, labelled) and weigh(labelled, name=name, **how)
        ),
    )
    argv = ["weightmap", str(tmp_path / "m"), "--instances", "--ignore-value", "255"]
    assert main([*argv, "--w0", "8", "--sigma", "4", "--output", str(tmp_path / "o")]) == 0
    assert many.max() > 255 and held["b.tif"][0].dtype == np.uint16 and held["b.tif"][1] is None
    assert held["a.png"][0].dtype == np.uint8 and held["a.png"][1].sum() == 60
    for mask, name in ((small, "a"), (many, "b")):
        weights = tifffile.imread(tmp_path / "o" / f"{name}_weights.tif")
        expected = instance_weight_map(mask, w0=8, sigma=4, ignore_value=255)
        assert np.array_equal(weights, expected)
