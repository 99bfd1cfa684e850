"""Every public function that gives object ids gives them in one dtype: the least unsigned
one that holds the largest id, uint16 at least (as Fiji and napari open a label image, and
as ``_objects.tif`` holds them: :func:`unetlab.data.large_ids.id_dtype`). Before s52,
``objects_from_probabilities`` and ``synthetic_em`` gave int32, ``predict_objects`` uint16."""

import numpy as np
import pytest
import torch

from unetlab import (
    ObjectOptions,
    UNet,
    objects_from_probabilities,
    predict_objects,
    synthetic_em,
)
from unetlab.data.synthetic import synthetic_nuclei


def _two_squares() -> np.ndarray:
    p = np.zeros((2, 16, 16), np.float32)
    p[0] = 1
    p[:, 2:6, 2:6] = [[[0.0]], [[1.0]]]
    p[:, 9:14, 9:14] = [[[0.0]], [[1.0]]]
    return p


def _net() -> UNet:
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, base_channels=2, padding="same").eval()


def _image(*shape: int) -> np.ndarray:
    return np.random.default_rng(0).random(shape, dtype=np.float32)


CASES = {
    "objects_from_probabilities": lambda: objects_from_probabilities(
        _two_squares(), ObjectOptions(min_area=1)
    ),
    "predict_objects": lambda: predict_objects(_net(), _image(16, 16), min_area=1)[0],
    "predict_objects_3d": lambda: predict_objects(
        _net(), _image(3, 16, 16), min_area=1, objects_3d=True, z_spacing=1.0, pixel_size=0.5
    )[0],
    "synthetic_em": lambda: synthetic_em(32, 0)[2],
    "synthetic_nuclei": lambda: synthetic_nuclei(32, np.random.default_rng(0))[1],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_public_object_ids_are_in_the_least_id_dtype(name):
    ids = CASES[name]()
    assert 0 < ids.max() <= 65535 and ids.dtype == np.uint16, name  # uint32 past: below


def test_objects_from_probabilities_past_65535_objects_are_uint32():
    p = np.zeros((2, 512, 513), np.float32)  # one object a pixel on every other row, column
    p[0] = 1
    p[:, ::2, ::2] = [[[0.0]], [[1.0]]]
    ids = objects_from_probabilities(p, ObjectOptions(min_area=1, fill_holes=False))
    assert ids.max() == 256 * 257 and ids.dtype == np.uint32
