"""predict_image as a notebook calls it frame by frame (audit s32 notebook 4 and 8):
``progress=True`` draws a bar (it raised "'bool' object is not callable" after the first
batch), and the "floor not applied" line comes once a process, not once a frame."""

from __future__ import annotations

import logging
import sys
import types

import numpy as np
import pytest
import torch

import unetlab
from unetlab.data.normalize import contrast_note
from unetlab.errors import UnetlabError
from unetlab.inference import predict

SPEC16 = {"mode": "percentile", "low": 1.0, "high": 99.0, "floor": [900.0], "dtype": "uint16"}


def _net() -> unetlab.UNet:
    torch.manual_seed(0)
    net = unetlab.UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    net.normalization = dict(SPEC16)
    return net


def _frames(n=3) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((n, 40, 40)) * 3000).astype(np.float32)


def test_progress_true_draws_a_bar_and_a_function_is_called(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # a notebook
    net, frame = _net(), _frames(1)[0]
    plain = predict.predict_image(net, frame, tile_size=32)
    barred = predict.predict_image(net, frame, tile_size=32, progress=True, name="frame 0")
    assert np.array_equal(plain, barred)
    err = capsys.readouterr().err
    assert "frame 0: " in err and "tile/s" in err  # the bar, named after the image
    done = []
    predict.predict_image(net, frame, tile_size=32, progress=done.append)
    assert sum(done) >= 4  # 40 x 40 in 32 px tiles
    predict.predict_image(net, frame, tile_size=32, progress=False)
    ids, _ = unetlab.predict_objects(net, frame, tile_size=32, progress=True)
    assert ids.shape == frame.shape
    with pytest.raises(UnetlabError, match="progress must be True .* not 'yes'"):
        predict.predict_image(net, frame, progress="yes")


def test_a_loop_over_float_frames_says_the_floor_once(monkeypatch, caplog):
    monkeypatch.setattr(predict, "_SAID_OUTSIDE", set())
    caplog.set_level(logging.WARNING)
    net = _net()
    for t, frame in enumerate(_frames()):
        predict.predict_image(net, frame, name=f"frame {t}")
    line = contrast_note(SPEC16, np.float32, np.array([1.0]))[1]
    said = [r.getMessage() for r in caplog.records if r.getMessage().endswith(line)]
    assert said == [f"frame 0 (the first float32 image): {line}"]


def test_dim_frames_in_a_loop_are_named_and_said_in_full_once(monkeypatch, caplog):
    monkeypatch.setattr(predict, "_DIM_SAID", {})
    caplog.set_level(logging.WARNING)
    net = _net()
    frames = (_frames() / 30).astype(np.uint16)  # 100 counts of contrast: below the floor 900
    for t, frame in enumerate(frames):
        predict.predict_image(net, frame, name=f"frame {t}")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 and all(
        line.startswith(f"frame {t}: contrast") for t, line in enumerate(lines)
    )
    assert "scale it to the training images' range" in lines[0]
    assert lines[1].endswith("read as nearly empty, as said in full for frame 0")
    assert len(lines[2]) < len(lines[0]) / 2
    monkeypatch.setattr(predict, "_DIM_SAID", {})
    caplog.clear()
    for frame in frames:  # no name=: each line is "image: ...", in full once, then counted
        predict.predict_image(net, frame)
    lines = [r.getMessage() for r in caplog.records]
    assert "scale it to the training images' range" in lines[0]
    assert not any("as said in full for image" in line for line in lines)  # itself, it said
    for line, nth in zip(lines[1:], ["2nd", "3rd"]):
        assert line.endswith(f"as said in full for the 1st such image (this is the {nth})")


def test_a_constant_image_after_a_dim_one_is_said_in_full_and_pointed_to_its_own(
    monkeypatch, caplog
):
    """Review s46: a constant image after a dim one said "the image is constant (...):
    nothing to segment: read as nearly empty, as said in full for a.png", a.png's line being
    about its dim contrast; a dim image after a constant one pointed to the constant's."""
    monkeypatch.setattr(predict, "_DIM_SAID", {})
    caplog.set_level(logging.WARNING)
    net = _net()
    dim = (_frames(1)[0] / 30).astype(np.uint16)
    const = np.full((40, 40), 7, np.uint16)
    for name, image in [("a.png", dim), ("c.png", const), ("d.png", const), ("b.png", dim)]:
        predict.predict_image(net, image, name=name)
    with predict.floor_run():  # a folder's run: the same, its short lines "(see ...)"
        for name, image in [("e.png", dim), ("f.png", const), ("g.png", const)]:
            predict.predict_image(net, image, name=name)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 7
    assert lines[1] == contrast_note(SPEC16, np.uint16, np.array([0.0]))[1].join(["c.png: ", ""])
    assert lines[2] == "d.png: the image is constant: nothing to segment, as said in full for c.png"
    assert lines[3].startswith("b.png: contrast") and lines[3].endswith("in full for a.png")
    assert lines[5].startswith("f.png: the image is constant (empty")
    assert lines[6] == "g.png: the image is constant: nothing to segment (see f.png)"


#: a bool mask as an array and as a tensor, each with the fix its line names
BOOL_GIVEN = {
    "array": ("image.astype(np.uint8) * 255", lambda m: m.astype(np.uint8) * 255),
    "tensor": ("image.to(torch.uint8) * 255", lambda m: m.to(torch.uint8) * 255),
}


@pytest.mark.parametrize("given", BOOL_GIVEN)
@pytest.mark.parametrize("call", ["predict_image", "predict_objects"])
def test_a_bool_array_is_refused_naming_its_dtype_and_the_fix(call, given):
    """A bool array (a mask given as the image) warned "the image is constant" or "read as
    nearly empty" (s64 notebook): its 0/1 are no intensities of the dtype the model trained
    on. Refused in one line naming the dtype and the fix, which then predicts. A bool
    tensor was told the numpy fix, which raises on a tensor (review s65): it is told its own."""
    net = unetlab.UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    net.normalization = {"mode": "per_image", "floor": [5.0], "dtype": "uint8"}
    yy, xx = np.mgrid[:48, :48]
    circle = (yy - 24) ** 2 + (xx - 24) ** 2 < 150
    mask = circle if given == "array" else torch.from_numpy(circle)
    fix, fixed = BOOL_GIVEN[given]
    with pytest.raises(UnetlabError) as refused:
        getattr(unetlab, call)(net, mask)
    assert str(refused.value) == (
        f"image: a bool {given} (a mask?), not intensities: {call} takes the image as read "
        f"(uint8, uint16); to segment this binary picture, give {fix}"
    )
    getattr(unetlab, call)(net, fixed(mask))  # the fix predicts
