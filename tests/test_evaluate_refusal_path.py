"""evaluate --pred/--gt refusing a ground-truth mask's values (negative classes, negative
object ids) named the file's stem ("a: mask values -3..1 are not class indices"), which
names no file among several folders: it names the mask's path, and a stack's page (s52
badinput)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tifffile

from unetlab.cli import main
from unetlab.errors import DatasetError
from unetlab.evaluate import evaluate_predictions


def _folders(tmp_path, pages: int = 1):
    """pred/a.tif (0/1) and gt/a.tif, its last page holding a -3 pixel."""
    gt = np.zeros((pages, 16, 16), np.int16)
    gt[:, 4:10, 4:10] = 1
    pred = gt.clip(0).astype(np.uint8)
    gt[-1, 1, 1] = -3
    for d, a in (("pred", pred), ("gt", gt)):
        (tmp_path / d).mkdir()
        tifffile.imwrite(tmp_path / d / "a.tif", a[0] if pages == 1 else a)
    return tmp_path / "pred", tmp_path / "gt"


@pytest.mark.parametrize(
    "instances, said", [(False, "mask values -3..1 are not class"), (True, "mask value -3 is no")]
)
def test_a_refused_mask_is_named_by_its_path(tmp_path, capsys, instances, said):
    pred, gt = _folders(tmp_path)
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt)]
    assert main(argv + (["--gt-instances"] if instances else [])) == 2
    err = capsys.readouterr().err
    assert f"unetlab evaluate: error: {gt / 'a.tif'}: {said}" in err and "Traceback" not in err


def test_a_stacks_page_is_named_with_its_file(tmp_path):
    pred, gt = _folders(tmp_path, pages=2)
    with pytest.raises(DatasetError, match="^" + re.escape(f"{gt / 'a.tif'} page 1: mask values")):
        evaluate_predictions(pred, gt)
