"""encode_mask's refusal lists values as its caller types them (review s64): on evaluate's
command line ``0 255``, as --label-values takes them, not the Python list ``[0, 255]``."""

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.errors import DatasetError
from unetlab.evaluate import evaluate_predictions


def _stray(root):
    mask = np.zeros((16, 16), np.uint8)
    mask[4:12, 4:12] = 255
    pred = mask.copy()
    mask[0, 0] = 7
    write_png(root / "gt" / "a.png", mask)
    write_png(root / "pred" / "a.png", pred)
    return root / "pred", root / "gt"


def test_the_command_line_says_the_values_as_they_are_typed(tmp_path, capsys):
    pred, gt = _stray(tmp_path)
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--label-values", "0", "255"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "label value 7 is not among the classes' values 0 255 (value 7 at" in err
    assert "[" not in err and "--label-values 0 7 255 if each is a class" in err


def test_python_is_told_in_lists(tmp_path):
    pred, gt = _stray(tmp_path)
    with pytest.raises(
        DatasetError, match=r"label value \[7\] is not among the classes' values \[0, 255\]"
    ):
        evaluate_predictions(pred, gt, label_values=[0, 255], progress=False)
