"""The one lookup of a normalisation floor by an image's dtype (:func:`floor_entry`), which
the floor applied (:func:`floor_for`), the dtype a line names (:func:`contrast_note`) and
the key a dim line is said once by (``say_contrast``) all read: it was written three times."""

import numpy as np
import pytest

from unetlab.data.normalize import contrast_note, floor_entry, floor_for
from unetlab.inference.predict import _floor_key

BASE = {"mode": "percentile", "low": 1.0, "high": 99.8}
NO_DTYPE = {**BASE, "floor": [13000.0]}  # before the floor recorded its dtype
ONE = {**BASE, "floor": [7000.0], "dtype": "uint16"}  # one dtype, or a checkpoint before s48
TWO = {**ONE, "floors": {"uint8": [35.0]}}  # 16-bit and 8-bit training images


@pytest.mark.parametrize(
    ("spec", "dtype", "entry", "applied"),
    [
        (NO_DTYPE, "uint16", (None, [13000.0]), [13000.0]),
        (NO_DTYPE, "uint8", (None, [13000.0]), None),  # above the whole 8-bit range
        (NO_DTYPE, "float32", (None, [13000.0]), [13000.0]),
        (ONE, "uint16", ("uint16", [7000.0]), [7000.0]),
        (ONE, "uint8", ("uint16", [7000.0]), None),
        (TWO, "uint16", ("uint16", [7000.0]), [7000.0]),
        (TWO, "uint8", ("uint8", [35.0]), [35.0]),
        (TWO, "float32", ("uint16", [7000.0]), None),  # a dtype not trained on
        (BASE, "uint8", (None, None), None),  # no floor
    ],
)
def test_the_floor_of_each_dtype(spec, dtype, entry, applied):
    assert floor_entry(spec, np.dtype(dtype)) == entry
    assert floor_entry(spec, dtype) == entry  # a name as a dtype
    floor = floor_for(spec, dtype)
    assert (None if floor is None else floor.tolist()) == applied
    if "floor" in spec:
        assert _floor_key(spec, dtype) == str(entry[1])


@pytest.mark.parametrize(
    "spec",
    [
        {**BASE, "floor": [20.0], "floors": {"uint8": [35.0]}},  # floors without their dtype
        {**ONE, "floors": {"uint16": [35.0]}},  # a floor of the spec's own dtype twice
    ],
)
def test_a_hand_written_spec_names_the_floor_it_applies(spec):
    """The dtype and key of a line said the ``floors`` entry where :func:`floor_for`
    applied the spec's ``floor``."""
    dtype = "uint8" if "uint8" in spec["floors"] else "uint16"
    applied = floor_for(spec, dtype)
    trained, floor = floor_entry(spec, dtype)
    assert floor == spec["floor"] and applied.tolist() == spec["floor"]
    assert _floor_key(spec, dtype) == str(spec["floor"])
    kind, line = contrast_note(spec, dtype, np.array([1.0]))
    assert kind == "dim" and f"floor {spec['floor'][0]:.6g}" in line
    assert trained == spec.get("dtype")
