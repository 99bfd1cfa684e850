"""evaluate's label values giving one mask value to two classes (``--label-values 0 0``)
were taken, and every mask's other value refused as of no class, the line blaming the mask
and naming the config key data.label_values (s52 badinput): refused first, in one line."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tifffile

from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.evaluate.checks import check_evaluation


@pytest.mark.parametrize("values, twice", [([0, 0], 0), ([0, 255, 255], 255), ((1, 2, 1), 1)])
def test_a_value_given_twice_is_refused_naming_it(values, twice):
    said = f"label_values gives the mask value {twice} to more than one class ({list(values)})"
    with pytest.raises(UnetlabError, match="^" + re.escape(said) + ": give each class its own"):
        check_evaluation(label_values=values)
    check_evaluation(label_values=[0, 255])  # distinct: taken
    check_evaluation(label_values=None)


def test_the_command_names_its_flag(tmp_path, capsys):
    for d in ("pred", "gt"):
        (tmp_path / d).mkdir()
        tifffile.imwrite(tmp_path / d / "a.tif", np.eye(8, dtype=np.uint8))
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--label-values", "0", "0"]) == 2
    err = capsys.readouterr().err
    assert "error: --label-values gives the mask value 0 to more than one class" in err
    assert "a.tif" not in err and "Traceback" not in err
