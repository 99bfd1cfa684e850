"""evaluate of a palette-trained checkpoint on RGB masks in its own colours (audit s31
"photos", finding 6): VOC's void 255, black in a short palette like background, made the
colours ambiguous, and "mask value 255 counts nowhere" was said of data without 255."""

import logging

import numpy as np
from PIL import Image

from unetlab import UNet, evaluate_model
from unetlab.data.colour_table import palette_table
from unetlab.evaluate import training_ignore_value

COLOURS = [(0, 0, 0), (40, 160, 40), (130, 80, 30), (255, 255, 255)]
PALETTE = [list(c) for c in COLOURS] + [[0, 0, 0]] * 252  # labelme-style: zero padding


def _palette_model(*, recorded: bool = False):
    model = UNet(3, 4, depth=2, base_channels=4, padding="same")
    model.classes = ["background", "leaf", "spot", "root"]
    model.label_values = [0, 1, 2, 3]
    model.palette = PALETTE
    model.training_data = {"label_values": None}  # the classes were the masks' values
    if recorded:
        model.ignore_value, model.ignore_value_recorded = None, True
    return model


def test_a_void_of_a_class_colour_is_left_out_of_the_checkpoints_colours():
    table = palette_table(np.asarray(PALETTE), [0, 1, 2, 3], "ckpt", void=255)
    assert table is not None and table.values == (0, 1, 2, 3)
    voc = np.zeros((256, 3), np.uint8)
    voc[:4], voc[255] = COLOURS, (224, 224, 192)
    assert palette_table(voc, [0, 1, 2, 3], "ckpt", void=255).values == (0, 1, 2, 3, 255)
    assert palette_table(np.asarray(PALETTE), [0, 4], "ckpt") is None  # two classes black


def test_rgb_masks_in_the_checkpoints_colours_are_scored(tmp_path, caplog):
    rng = np.random.default_rng(0)
    (tmp_path / "images").mkdir(), (tmp_path / "masks").mkdir()
    labels = rng.integers(0, 4, (16, 20))
    Image.fromarray(rng.integers(0, 256, (16, 20, 3), dtype=np.uint8)).save(
        tmp_path / "images" / "a.png"
    )
    Image.fromarray(np.asarray(COLOURS, np.uint8)[labels]).save(tmp_path / "masks" / "a.png")
    model = _palette_model()
    assert training_ignore_value(model) == 255  # an older checkpoint: the palette rule
    with caplog.at_level(logging.INFO, logger="unetlab.evaluate"):
        report = evaluate_model(model, tmp_path)
    assert report.matrix.sum() == labels.size
    assert "counts nowhere" not in caplog.text  # no mask holds 255


def test_a_checkpoint_that_recorded_no_ignore_value_ignores_none():
    assert training_ignore_value(_palette_model(recorded=True)) is None
