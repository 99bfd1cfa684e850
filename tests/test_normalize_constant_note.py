"""The note on an image of no contrast does not claim one value where saturated pixels were
left out (audit s34 messy 5: a 0/255 mask predicted as an image was 'constant')."""

from __future__ import annotations

import numpy as np

from unetlab.data.normalize import contrast_note


def test_no_contrast_note_names_saturated_pixels():
    kind, line = contrast_note({"floor": [20.0], "dtype": "uint8"}, np.uint8, np.array([0.0]))
    assert kind == "dim"
    assert "every pixel one value, or its other pixels at its ceiling" in line
