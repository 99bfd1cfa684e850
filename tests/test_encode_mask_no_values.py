"""``encode_mask(mask, model.label_values)`` (README's snippet) with a model that records no
label values (a nuclei model's, or one trained on masks of class indices) raised TypeError
from inside ``max`` (s54 new user); it is refused in one line naming what to give."""

import numpy as np
import pytest

from unetlab.data.labels import encode_mask
from unetlab.errors import UnetlabError


def test_label_values_none_is_refused_in_one_line_naming_the_fix():
    mask = np.zeros((8, 8), np.uint16)
    mask[2:5, 2:5] = 7  # an object id
    with pytest.raises(UnetlabError) as info:
        encode_mask(mask, None, name="masks/a.png")
    message = str(info.value)
    assert "\n" not in message and message.startswith("masks/a.png: label_values is None")
    assert "[0, 255]" in message and "range(model.num_classes)" in message
    assert "object_scores" in message


def test_given_label_values_still_encode():
    mask = np.array([[0, 255], [255, 0]], np.uint8)
    assert encode_mask(mask, [0, 255]).tolist() == [[0, 1], [1, 0]]
