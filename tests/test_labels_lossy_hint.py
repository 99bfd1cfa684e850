"""A mask scored against a checkpoint's 0/255 whose edges hold values between (resized or
soft-brushed): evaluate said only to set data.label_values (audit s41 audittrain); the line
says the in-between values look like blur, resizing or JPEG, and to threshold the mask."""

import numpy as np
import pytest

from unetlab.data.labels import encode_mask
from unetlab.errors import DatasetError


def test_a_blurred_binary_mask_is_named_as_such():
    mask = np.zeros((64, 64), np.uint8)
    mask[:, 32:] = 255
    mask[:, 31] = np.arange(64) * 4 % 250 + 2  # 60 values between, 1.6% of the pixels
    with pytest.raises(DatasetError) as info:
        encode_mask(mask, [0, 255], name="m.png")
    message = str(info.value)
    assert "\n" not in message and message.startswith("m.png: label values [2, 4, 6, 10")
    assert "look like blur, resizing or JPEG compression of the mask: threshold it" in message


def test_a_few_stray_values_keep_the_label_values_fix():
    mask = np.zeros((8, 8), np.uint8)
    mask[:, 4:] = 255
    mask[0, 0] = 7
    with pytest.raises(DatasetError) as info:
        encode_mask(mask, [0, 255], name="m.png")
    assert "blur" not in str(info.value)
    assert "cfg.data.label_values = [0, 7, 255] if each is a class" in str(info.value)


def test_a_blurred_mask_is_told_to_threshold_not_of_object_ids():
    """Its 60 values between were also 'so many values look like object ids' (s58 review G
    follow-up): after 'threshold it; or', the fix is the mask's alone."""
    mask = np.zeros((64, 64), np.uint8)
    mask[:, 32:] = 255
    mask[:, 31] = np.arange(64) * 4 % 250 + 2
    with pytest.raises(DatasetError) as info:
        encode_mask(mask, [0, 255], name="m.png")
    assert str(info.value).endswith("of the mask: threshold it; or fix the mask"), info.value
