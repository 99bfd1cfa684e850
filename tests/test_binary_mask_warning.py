"""The "binary mask" warning of instance loading names masks read as binary (0 and 1, 255 or
the type's largest value) with several objects, not a mask of one object whose id is not 1
(audit s33 migrant finding 6: a StarDist crop holding only id 9 was called binary)."""

from __future__ import annotations

import logging

import numpy as np

from unetlab.data.datasets import load_instance_samples
from unetlab.data.io import write_tiff
from unetlab.data.pairs import find_pairs


def _load(tmp_path, masks: dict[str, np.ndarray], caplog) -> str:
    root = tmp_path / "d"
    for name, mask in masks.items():
        image = np.random.default_rng(0).integers(0, 200, mask.shape, dtype=np.uint8)
        write_tiff(root / "images" / f"{name}.tif", image)
        write_tiff(root / "masks" / f"{name}.tif", mask)
    with caplog.at_level(logging.WARNING):
        load_instance_samples(find_pairs(root), normalization={"mode": "per_image"})
    return caplog.text


def test_one_object_whose_id_is_not_1_is_no_binary_mask(tmp_path, caplog):
    one = np.zeros((16, 16), np.uint16)
    one[2:8, 2:8] = 9  # StarDist crop: one object, id 9
    two = np.zeros((16, 16), np.uint8)
    two[2:6, 2:6] = 2
    assert "binary mask" not in _load(tmp_path, {"a": one, "b": two}, caplog)


def test_a_binary_mask_of_several_objects_is_named(tmp_path, caplog):
    binary = np.zeros((16, 16), np.uint8)
    binary[1:5, 1:5] = binary[9:14, 9:14] = 255  # two components: ids 1 and 2
    single = np.zeros((16, 16), np.uint16)
    single[2:8, 2:8] = 1  # one object, id 1: one component, nothing to say
    text = _load(tmp_path, {"a": binary, "b": single}, caplog)
    assert "1 binary mask (a)" in text
