"""Evaluate fits an image file's channels to the model as predict does, by one rule
(:func:`unetlab.inference.file_fit.file_fit`): every case predict accepts evaluate accepts,
saying the same line, and every case predict refuses evaluate refuses in the same line
(review s49 evalfit). Evaluate kept a copy of the rule without the stains refusal and
without the channel the caller asked for: a bare (1, H, W) TIFF read with a stains model's
recorded axes CYX was repeated into its channels, a grey image given to a 1-channel model
that records its channel 1 was refused, and a grey page given --axes to a 2-channel stains
model was refused in another line than predict's."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from tests.test_grey_stains import _old
from tests.test_trained_axes import H, W, _net
from unetlab.errors import UnetlabError
from unetlab.evaluate import evaluate_model
from unetlab.inference.files import predict_file

RNG = np.random.default_rng(3)


def _grey_model():
    return _net(None, 1)


def _channel_1_model():
    """A 1-channel model trained on channel 1 of multi-channel images (data.channel=1)."""
    net = _net(None, 1)
    net.channel = 1
    return net


def _grey(pages: int = 0) -> np.ndarray:
    shape = (H, W) if not pages else (pages, H, W)
    return RNG.integers(0, 255, shape, dtype=np.uint8)


def _rgb(path):
    tifffile.imwrite(path, RNG.integers(0, 255, (H, W, 3), dtype=np.uint8), photometric="rgb")
    return 1


def _plane(path):
    tifffile.imwrite(path, _grey())
    return 1


def _bare(pages: int, mask_pages: int):
    """A stack of ``pages`` grey pages recording no axes, with a mask of ``mask_pages``."""

    def write(path):
        tifffile.imwrite(path, _grey(pages), photometric="minisblack")
        return mask_pages

    return write


#: (model, image writer (returns its mask's pages), axes given, outcome: None accepted,
#: else the start of the refusal after the file's name)
CASES = {
    "grey model, RGB image": (_grey_model, _rgb, None, None),
    "colours model, grey image": (lambda: _old(dtype="uint8"), _plane, None, None),
    "stains model (CYX), a grey page read with its axes": (
        lambda: _net("CYX", 3),
        _bare(1, 1),
        None,
        "a grey image (one channel); the model was trained on CYX, 3 channels",
    ),
    "stains model (uint16, no axes), grey image": (
        _old,
        _plane,
        None,
        "a grey image (one channel); the model was trained on uint16 images, 3 channels",
    ),
    "stains model (uint16), colour page": (_old, _rgb, None, None),
    "grey model, 4-page minisblack read as planes": (_grey_model, _bare(4, 4), None, None),
    "grey model, 4-page minisblack given CYX": (
        _grey_model,
        _bare(4, 1),
        "CYX",
        "has 4 channels, the model takes 1: choose one with channel=C",  # Python (s56)
    ),
    "model of channel 1, grey image": (_channel_1_model, _plane, None, None),
    "stains model (ZCYX), grey pages given ZYX": (
        lambda: _net("ZCYX", 2),
        _bare(3, 3),
        "ZYX",
        "has 1 channel, the model takes 2",
    ),
}


def _outcome(run, name: str, caplog) -> tuple[str, tuple[str, ...]]:
    """("ok", the lines said of the image's channels) or ("refused", the line), each
    without the name of the file (predict's line names it, evaluate's its path)."""
    caplog.clear()
    try:
        run()
    except UnetlabError as e:
        said = str(e)
        assert said.startswith(name) or f"/{name}: " in said, said
        return "refused", (said.split(f"{name}: ", 1)[1],)
    notes = [r.getMessage() for r in caplog.records if "image given to" in r.getMessage()]
    return "ok", tuple(sorted({n.split(f"{name}: ", 1)[1] for n in notes}))


@pytest.mark.parametrize("case", list(CASES))
def test_evaluate_fits_and_refuses_as_predict_does(tmp_path, caplog, case):
    make, write, axes, refused = CASES[case]
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    name = f"c{list(CASES).index(case)}.tif"  # its own: each line said afresh
    mask_pages = write(tmp_path / "images" / name)
    mask = RNG.integers(0, 2, (mask_pages, H, W), dtype=np.uint8)
    mask = mask.squeeze(0) if mask_pages == 1 else mask
    tifffile.imwrite(tmp_path / "masks" / name, mask, photometric="minisblack")
    model = make()
    image = tmp_path / "images" / name
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predicted = _outcome(
            lambda: predict_file(model, image, tmp_path / "o", axes=axes), name, caplog
        )
        scored = _outcome(
            lambda: evaluate_model(model, tmp_path, axes=axes, progress=False), name, caplog
        )
    assert scored == predicted
    if refused is None:
        assert predicted[0] == "ok", predicted
    else:
        assert predicted[0] == "refused" and predicted[1][0].startswith(refused), predicted
