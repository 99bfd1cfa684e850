"""One rule of the class that is no class (the one of the mask value training ignored):
:func:`unetlab.data.classes.ignored_class`, read by the model's
(:func:`~unetlab.inference.predict.model_ignored_class`), compare's
(:func:`~unetlab.compare.records.trained_classes`), evaluate's and
:func:`~unetlab.data.classes.counted_classes` alike (s70: written three times, and a
fourth without label values)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest

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
