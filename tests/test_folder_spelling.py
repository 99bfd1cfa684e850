"""The output folder's refusals name their fix as the caller spells it: the Python keyword
(``overwrite=True``, ``out_dir``) by default, the command line's flags where ``unetlab
predict`` runs (:func:`~unetlab.errors.command_spelling`; it passes its own
:data:`unetlab.outputs.OVERWRITE_FIX`)."""

from __future__ import annotations

import contextlib
import logging

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab.errors import OutputError, command_spelling
from unetlab.inference.folders import claim_folder, predict_folder
from unetlab.inference.output_rules import input_source, prediction_folder
from unetlab.inference.records import OutputOptions, Provenance
from unetlab.models import UNet
from unetlab.outputs import OVERWRITE_FIX, record

THIS_RUN = Provenance("/runs/b1/best.pt", "b" * 64)


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "in" / "00.png"
    path.parent.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(path)
    return path


def _another_models_output(out, image):
    """``out`` with ``image``'s labels, listed as made by another model."""
    out.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(out / "00.png")
    source = {"00.png": input_source(image)}
    record(out, ["00.png"], command="predict", sources=source, made_by={"00.png": "other-run"})


def _as_called(fix: dict):
    """The command line's spelling where ``fix`` is its own (unetlab predict passes
    OVERWRITE_FIX within command_spelling: the other flags are said as it runs them)."""
    return command_spelling() if fix else contextlib.nullcontext()


def test_prediction_folder_names_the_keyword_to_python_callers(tmp_path, image):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with (
        pytest.raises(OutputError, match="pass overwrite=True") as err,
        prediction_folder(out, [image]),
    ):
        pass
    assert "--overwrite" not in str(err.value)
    fix = dict(overwrite_fix=OVERWRITE_FIX)
    with (
        pytest.raises(OutputError, match="add --overwrite"),
        prediction_folder(out, [image], **fix),
    ):
        pass


@pytest.mark.parametrize(
    "fix, line",
    [
        ({}, "give another out_dir, or pass overwrite=True to predict them again"),
        (
            {"overwrite_fix": OVERWRITE_FIX},
            "give another --output folder, or add --overwrite to predict them again",
        ),
    ],
    ids=["python", "command line"],
)
def test_another_models_outputs_are_refused_in_the_callers_spelling(tmp_path, image, fix, line):
    out = tmp_path / "out"
    _another_models_output(out, image)
    outputs = OutputOptions(skip_existing=True)
    claim = claim_folder(out, [image], outputs, record=THIS_RUN, **fix)
    with pytest.raises(OutputError) as err, _as_called(fix), claim:
        pass
    assert line in str(err.value)


@pytest.mark.parametrize(
    "fix, words",
    [
        ({}, "or give another out_dir"),
        ({"overwrite_fix": OVERWRITE_FIX}, "or give another --output"),
    ],
    ids=["python", "command line"],
)
def test_a_folder_that_will_mix_two_models_is_said_in_the_callers_spelling(
    tmp_path, image, fix, words, caplog
):
    out = tmp_path / "out"
    _another_models_output(out, image)
    other = image.with_name("01.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(other)
    claim = claim_folder(out, [other], record=THIS_RUN, **fix)
    with caplog.at_level(logging.WARNING), _as_called(fix), claim:
        pass
    assert "will mix two models" in caplog.text
    score = "evaluate --pred" if fix else "evaluate_predictions"  # Python was told the flag
    assert f"({score} would score the mix)" in caplog.text
    assert caplog.text.rstrip().endswith(words)


def test_a_channel_other_than_the_trained_one_is_named_in_python_s_spelling(tmp_path, caplog):
    """The note names the Python keyword (it named only ``--channel``, then both inline: "
    (--channel, or channel in Python)", s56; the command line's: test_train_bands.py)."""
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    net.channel = 1  # trained on channel 1 of 2-channel images (data.channel=1)
    image = tmp_path / "two.tif"
    pixels = np.random.default_rng(0).integers(0, 4000, (2, 16, 16), dtype=np.uint16)
    tifffile.imwrite(image, pixels, imagej=True, metadata={"axes": "CYX"})
    with caplog.at_level(logging.WARNING):
        predict_folder(net, image, tmp_path / "out", channel=0)
    assert (
        "predicting channel 0 (channel=), but the model was trained on "
        "channel 1 (data.channel); leave it out for that one"
    ) in caplog.text
