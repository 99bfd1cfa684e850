"""One rule of the class that is no class (the one of the mask value training ignored):
:func:`unetlab.data.classes.ignored_class`, read by the model's
(:func:`~unetlab.inference.predict.model_ignored_class`), compare's
(:func:`~unetlab.compare.records.trained_classes`), evaluate's and
:func:`~unetlab.data.classes.counted_classes` alike (s70: written three times, and a
fourth without label values)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from unetlab.compare.records import trained_classes
from unetlab.data.classes import counted_classes, ignored_class
from unetlab.evaluate.model import _uncounted
from unetlab.inference.objects import objects_background
from unetlab.inference.predict import model_ignored_class

_CASES = list(
    itertools.product(
        [1, 2, 3],  # num_classes (1: a sigmoid net, two classes)
        [None, "values", "short"],  # no label values, one per class, too few
        [None, 0, 1, 2, 255],  # the ignored mask value
        ["semantic", "instances"],
    )
)


def _values(num_classes: int, kind: str | None) -> list[int] | None:
    n = max(num_classes, 2)
    return None if kind is None else [0, 255, 2][:n] if kind == "values" else [0]


@pytest.mark.parametrize(("num_classes", "kind", "ignored", "target"), _CASES)
def test_the_model_compare_and_evaluate_take_the_same_ignored_class(
    num_classes, kind, ignored, target
):
    """Pins (they agreed on every case of a net's classes before the fold)."""
    names = [f"c{k}" for k in range(max(num_classes, 2))]
    values = _values(num_classes, kind)
    model = SimpleNamespace(
        num_classes=num_classes,
        classes=names,
        label_values=values,
        ignore_value=ignored,
        objects={"target": target},
    )
    history = [{"resolved": {"classes": names, "label_values": values, "ignore_value": ignored}}]
    _, named = trained_classes(None, history, {"data.target": target})
    by_evaluate = _uncounted(names, values, ignored, target=target)
    want = ignored_class(num_classes, values, ignored, target=target)
    assert model_ignored_class(model) == want
    assert named == (None if want is None else names[want])
    assert by_evaluate == (() if want is None else (want,))


def test_counted_classes_leave_out_the_ignored_index_without_label_values():
    """A net without label values (built in Python, an older checkpoint) whose training
    ignored mask value 2 of grain / boundary / unsure counted unsure as a class in
    counted_classes (its own rule: only by label values), so the boundary was not the
    background of its two classes: objects_background gave grain (0); with label values
    [0, 1, 2] it gave the boundary. Seen failing without the fix ([0, 1, 2]; 0)."""
    names = ["grain", "boundary", "unsure"]
    assert counted_classes(names, None, 2) == [0, 1]
    assert counted_classes(names, [0, 1, 2], 2) == [0, 1]
    for values in (None, [0, 1, 2]):
        model = SimpleNamespace(num_classes=3, classes=names, label_values=values, ignore_value=2)
        assert objects_background(model) == 1, values


def test_evaluate_counts_an_instance_model_s_background_with_ignore_value_0(tmp_path):
    """An instance model's classes are no mask values (its masks hold object ids): training's
    ignore value 0 names none of them, so evaluate counts its background and makes objects
    (review s70: no test failed where _scoring gave _uncounted no target). Seen failing
    without the target: the background uncounted, ``(0,)``."""
    from PIL import Image

    from unetlab.evaluate import evaluate_model
    from unetlab.models import UNet

    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    mask = np.zeros((32, 32), np.uint8)
    mask[8:16, 8:16], mask[20:28, 18:28] = 1, 2  # two objects' ids
    Image.fromarray((mask > 0).astype(np.uint8) * 200).save(tmp_path / "images" / "a.png")
    Image.fromarray(mask).save(tmp_path / "masks" / "a.png")
    torch.manual_seed(0)
    net = UNet(1, 3, depth=2, base_channels=4, padding="same").eval()
    net.classes = ["background", "boundary", "interior"]
    net.label_values, net.ignore_value = None, 0
    net.objects = {"target": "instances", "count": 2, "area_p05": 64.0, "area_p95": 80.0}
    report = evaluate_model(net, tmp_path, progress=False, device="cpu")
    assert report.uncounted == ()
    assert not np.isnan(report.summary["iou"][0])


def test_compare_names_no_ignored_class_of_a_run_that_recorded_no_classes():
    """A run history with no recorded classes and ignore value 0: the rule's class 0 of a
    net's two is no recorded name (review s70: no test failed without the guard, which
    then raised IndexError in compare). Seen failing without it (IndexError)."""
    assert trained_classes(None, [{"resolved": {"ignore_value": 0}}], {}) == ([], None)
    assert trained_classes(None, [], {"data.ignore_value": 0}) == ([], None)
