"""The "read as nearly empty" line is said of an image the floor flattens at least 2x (its
contrast half the floor's or less), and never contradicts itself: an image 4% under the floor
was said to be read as nearly empty as "contrast 12 is 1.0x below the model's floor 12"
(``DIM_SHARE`` was 1.0, and the contrast is shown rounded). Between it and ``FAINT_SHARE``
of the floor a milder line says faint objects may be missed (s47: IoU 0.74-0.91 there, and
no line); above, nothing."""

import re

import numpy as np
import pytest

from unetlab.data.normalize import DIM_SHARE, FAINT_SHARE, contrast_note

SPEC8 = {"mode": "per_image", "floor": [12.4], "dtype": "uint8"}


def test_an_image_just_under_the_floor_is_not_called_nearly_empty():
    assert contrast_note(SPEC8, np.uint8, np.array([11.9])) is None  # the floor dims it 4%
    kind, line = contrast_note(SPEC8, np.uint8, np.array([6.3]))  # 1.97x: not half
    assert kind == "faint" and "nearly empty" not in line
    kind, line = contrast_note(SPEC8, np.uint8, np.array([6.2]))  # half: flattened 2x
    assert kind == "dim" and "contrast 6.2 is 2.0x below the model's floor 12.4" in line


@pytest.mark.parametrize("floor", [0.05, 3.7, 12.0, 12.4, 99.5, 12997.0])
def test_the_line_never_contradicts_itself(floor):
    spec = {"mode": "percentile", "floor": [floor], "dtype": "uint16"}
    for ratio in np.linspace(0.01, 1.0, 397):
        note = contrast_note(spec, np.uint16, np.array([ratio * floor]))
        if ratio > FAINT_SHARE:
            assert note is None, (floor, ratio)
            continue
        if ratio > DIM_SHARE:
            assert note[0] == "faint", (floor, ratio)
            shown, share, floor_shown = re.match(
                r"contrast (\S+) is (\S+)x the model's floor (\S+)", note[1]
            ).groups()
            assert DIM_SHARE < float(share) <= FAINT_SHARE, note[1]
            assert float(shown) < float(floor_shown), note[1]
            continue
        assert note[0] == "dim", (floor, ratio)
        line = note[1]
        shown, times, floor_shown = re.match(
            r"contrast (\S+) is (\S+)x below the model's floor (\S+)", line
        ).groups()
        assert float(times) >= 2.0 and shown != floor_shown, line
        assert float(shown) < float(floor_shown), line


def test_a_multichannel_line_names_only_the_dim_channels_with_their_own_figures():
    # it said "contrast [5, 30] is 2.4x below the model's floor 12": channel 1 is above it
    spec = {"mode": "per_image", "floor": [12.0, 12.0, 8.0], "dtype": "uint8"}
    kind, line = contrast_note(spec, np.uint8, np.array([5.0, 30.0, 20.0]))
    assert kind == "dim" and line.startswith(
        "channel 0's contrast 5 is 2.4x below the model's floor 12 (trained on uint8): "
        "the floor flattens it 2.4x, as it does an empty field, so channel 0 is read as "
        "nearly empty;"
    )
    assert "30" not in line and "channel 1" not in line and "channel 2" not in line
    _, line = contrast_note(spec, np.uint8, np.array([5.0, 30.0, 2.0]))
    assert line.startswith(
        "channel 0's contrast 5 is 2.4x below the model's floor 12, channel 2's contrast 2 "
        "is 4.0x below the model's floor 8 (trained on uint8): the floor flattens them"
    )
    assert "so channels 0 and 2 are read as nearly empty" in line and "30" not in line
    _, line = contrast_note(spec, np.uint8, np.array([5.0, 3.0, 2.0]))
    assert "so the image is read as nearly empty" in line
    _, line = contrast_note(spec, np.uint8, np.array([0.0, 30.0, 20.0]))
    assert line.startswith("channel 0 is constant (trained on uint8): the floor flattens it,")
    kind, line = contrast_note(spec, np.uint8, np.array([6.1, 30.0, 4.1]))  # none 2x under
    assert kind == "faint" and "nearly empty" not in line
    # the faint line names only the faint channels too; a dim one wins over them
    kind, line = contrast_note(spec, np.uint8, np.array([7.0, 30.0, 5.0]))
    assert kind == "faint" and line.startswith(
        "channel 0's contrast 7 is 0.58x the model's floor 12, channel 2's contrast 5 is "
        "0.62x the model's floor 8 (trained on uint8): the floor flattens them, so faint "
        "objects in channels 0 and 2 may be missed;"
    )
    assert "30" not in line and "channel 1" not in line
    kind, line = contrast_note(spec, np.uint8, np.array([5.0, 30.0, 5.0]))
    assert kind == "dim" and "channel 2" not in line and "faint" not in line


@pytest.mark.parametrize(
    ("contrast", "said"),
    [(5.0, "dim"), (5.01, "0.51x"), (6.0, "0.60x"), (7.0, "0.70x"), (7.01, None), (9.9, None)],
)
def test_the_faint_line_lies_above_half_the_floor_up_to_0_7(contrast, said):
    spec = {"mode": "per_image", "floor": [10.0], "dtype": "uint8"}
    note = contrast_note(spec, np.uint8, np.array([contrast]))
    if said is None:  # above 0.7x the floor: nothing said
        assert note is None
    elif said == "dim":  # at 0.5x, the nearly-empty line as it was
        assert note[0] == "dim" and "2.0x below the model's floor 10" in note[1]
    else:
        assert note == (
            "faint",
            f"contrast {contrast:.3g} is {said} the model's floor 10 (trained on uint8): the "
            "floor flattens it, so faint objects may be missed; for a dimmer acquisition, "
            "scale it to the training images' range or train with such images",
        )
