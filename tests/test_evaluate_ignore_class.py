"""``evaluate --ignore-value V`` where V is the mask value of one of the checkpoint's
classes: refused in one line naming the class and the fix (s63: ``--ignore-value 1``
beside a model whose class 1 is road scored road n/a, gone from every score unsaid)."""

import numpy as np
import pytest

from unetlab import UNet
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.errors import UnetlabError
from unetlab.evaluate import evaluate_model

NAMES = ["background", "road", "car"]


def _run(tmp_path, label_values):
    """A 3-class checkpoint (class i: mask value i where ``label_values`` is None) and a
    data folder of two images and masks of 0..2."""
    rng = np.random.default_rng(1)
    model = UNet(1, 3, depth=2, base_channels=2)
    model.classes, model.label_values = list(NAMES), label_values
    save_model(tmp_path / "m.pt", model)
    for name in "ab":
        write_png(tmp_path / "data" / "images" / f"{name}.png", rng.integers(0, 255, (20, 24)))
        write_png(tmp_path / "data" / "masks" / f"{name}.png", rng.integers(0, 3, (20, 24)))
    return ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(tmp_path / "data")]


@pytest.mark.parametrize("label_values", [None, [0, 1, 2]])
def test_an_ignore_value_of_a_class_is_refused_naming_it(tmp_path, capsys, label_values):
    argv = [*_run(tmp_path, label_values), "--device", "cpu", "--no-progress"]
    assert main([*argv, "--ignore-value", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "error: --ignore-value 1 is the mask value of the checkpoint's class 'road'" in err
    assert "give the value that marks pixels of no class" in err
    assert err.endswith("or retrain with --set data.ignore_value=1 if 'road' is no class")
    assert main([*argv, "--ignore-value", "7"]) == 0  # a value no class has: scored nowhere
    assert "road" in capsys.readouterr().out


def test_a_notebook_is_told_its_keywords(tmp_path):
    _run(tmp_path, None)
    with pytest.raises(UnetlabError, match=r"^ignore_value=2 is the mask value of .* 'car'") as e:
        evaluate_model(str(tmp_path / "m.pt"), tmp_path / "data", ignore_value=2, device="cpu")
    assert str(e.value).endswith("retrain with cfg.data.ignore_value = 2 if 'car' is no class")


def test_the_checkpoints_own_ignore_value_is_no_class_of_it():
    from unetlab.evaluate.checks import check_ignored_class

    check_ignored_class(255, None, NAMES, None)  # beyond the classes
    check_ignored_class(2, None, NAMES, 2)  # the value its training ignored
    with pytest.raises(UnetlabError, match="class 'background'"):
        check_ignored_class(5, [5, 6, 7], NAMES, 255)
