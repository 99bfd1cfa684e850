"""``data.label_values`` listing the mask value ``data.ignore_value`` ignores (0, 1, 2 with 2
ignored): the masks hold it, training ignores it, and neither training's warnings nor
evaluate's count of classes take it as a class held by no mask (s67 noticed both)."""

import logging

import numpy as np
import torch
from PIL import Image

from unetlab.config import load_config

SETS = ["data.label_values=[0, 1, 2]", "data.ignore_value=2", "data.weight_map=false"]


def _two_classes_and_a_band(root, n: int = 4):
    """``n`` 32 x 32 pairs: squares of 1 on 0, the top 3 rows 2 (the ignored band)."""
    rng = np.random.default_rng(0)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for i in range(n):
        mask = np.zeros((32, 32), np.uint8)
        mask[8:16, 8:16] = mask[20:28, 18:28] = 1
        mask[:3] = 2
        image = (mask * 80 + rng.integers(0, 40, mask.shape)).astype(np.uint8)
        Image.fromarray(image).save(root / "images" / f"{i:02d}.png")
        Image.fromarray(mask).save(root / "masks" / f"{i:02d}.png")
    return root


def test_training_says_no_listed_ignored_value_is_held_by_no_mask(tmp_path, caplog):
    """It warned 'data.label_values name 2 (2) that no training or validation mask holds'
    (every mask holds 2: training ignores it); the class keeps its output."""
    from unetlab.train import prepare_data

    root = _two_classes_and_a_band(tmp_path / "data")
    with caplog.at_level(logging.INFO):
        data = prepare_data(load_config(None, [f"data.root={root}", *SETS]))
    assert data.label_values == [0, 1, 2]
    assert "no training or validation mask holds" not in caplog.text


def test_evaluate_counts_no_class_of_the_listed_ignored_value(tmp_path):
    """evaluate --checkpoint of such a model: two classes, so the ISBI and object scores are
    computed, as for any two; it said 'left out for 3 classes'. Four values with one ignored
    are left out as three."""
    from unetlab.evaluate import evaluate_model
    from unetlab.models import UNet

    root = _two_classes_and_a_band(tmp_path / "data")
    torch.manual_seed(0)
    for values in ([0, 1, 2], [0, 1, 2, 3]):
        net = UNet(1, len(values), depth=2, base_channels=4, padding="same")
        net.classes, net.label_values, net.ignore_value = [str(v) for v in values], values, 2
        report = evaluate_model(net, root, progress=False, device="cpu")
        if len(values) == 3:
            assert "rand_error" in report.summary
            assert "left out for" not in report.table()
        else:
            assert "left out for 3 classes" in report.table()
