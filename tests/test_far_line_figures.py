"""The "far from the training images" figures never contradict themselves through rounding:
"mean 100 is 3.0 sd from the training images' 100 (sd 0.1)" was said of a mean of 100.3, and
"2.0 sd" of 2.04 sd, past the line of 2 (``FAR``) the README states as "more than 2 sd"."""

import re

import numpy as np
import pytest

from unetlab.data.appearance import FAR, appearance_shift


def _figures(trained: float, sd: float, mean: float) -> str:
    record = {"dtype": "uint16", "images": 3, "mean": [trained], "sd": [sd]}
    return appearance_shift(record, np.array([mean]), np.uint16).figures()


def test_a_mean_close_to_the_training_mean_is_shown_with_its_digits():
    line = _figures(100.0, 0.1, 100.3)
    assert line == "mean 100.3 is 3.0 sd from the training images' 100.0 (sd 0.1)"


def test_a_distance_just_past_the_line_is_not_shown_at_it():
    assert _figures(100.0, 10.0, 120.4).startswith("mean 120 is 2.04 sd from")
    assert _figures(160.0, 12.0, 201.0).startswith("mean 201 is 3.4 sd from")  # as before


@pytest.mark.parametrize(("trained", "sd"), [(100.0, 0.1), (0.5003, 0.0002), (3000.0, 400.0)])
def test_the_figures_agree_with_the_distance_said(trained, sd):
    for z in np.linspace(FAR + 1e-3, 8.0, 150):
        line = _figures(trained, sd, trained + z * sd)
        mean, said, held = re.match(
            r"mean (\S+) is (\S+) sd from the training images' (\S+)", line
        ).groups()
        assert float(said) > FAR and mean != held, line
        assert abs(float(mean) - float(held) - z * sd) <= 0.05 * z * sd, line
