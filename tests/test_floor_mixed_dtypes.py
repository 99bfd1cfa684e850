"""Training images of several dtypes (float reflectance among 16-bit scenes): the floor is
in the units of the most common dtype, set by its images alone and recorded with it; before,
the float image's contrast (0.25) set a floor of 0.13 that floored no 16-bit image (audit s37
bands)."""

import numpy as np

from unetlab.data.datasets import Sample
from unetlab.data.normalize import image_stats
from unetlab.train.setup import most_common_dtype, with_contrast_floor

SPEC = {"mode": "percentile", "low": 1.0, "high": 99.8}


def _sample(dtype: str | None, contrast: float) -> Sample:
    zero = np.zeros((4, 4))
    return Sample("x", zero, zero, contrast=np.array([contrast]), dtype=dtype)


def test_the_floor_of_mixed_dtypes_is_the_most_common_ones():
    train = [_sample("uint16", c) for c in (2600.0, 2500.0, 3000.0)] + [_sample("float32", 0.25)]
    spec = with_contrast_floor(SPEC, train)
    assert spec["floor"] == [1250.0] and spec["dtype"] == "uint16"
    empty = np.full((16, 16), 900, np.uint16)  # an empty 16-bit field is floored
    assert image_stats(empty, spec)[1].tolist() == [1250.0]
    one = with_contrast_floor(SPEC, [_sample("uint8", 80.0), _sample("uint8", 60.0)])
    assert one == {**SPEC, "floor": [30.0], "dtype": "uint8"}
    old = with_contrast_floor(SPEC, [_sample(None, 80.0), _sample("uint8", 60.0)])
    assert old == {**SPEC, "floor": [30.0]}  # no recorded dtype: all images, as before


def test_the_most_common_dtype_takes_the_first_on_a_tie():
    assert most_common_dtype([_sample("float32", 1), _sample("uint16", 1)]) == "float32"
    assert most_common_dtype([_sample("uint8", 1), _sample("uint16", 1)] * 2) == "uint8"
    assert most_common_dtype([_sample("uint8", 1), _sample(None, 1)]) is None
