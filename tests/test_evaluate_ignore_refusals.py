"""``unetlab evaluate --pred --label-values ... --ignore-value V``: each refusal is one line
that names the problem and the fix (review s64)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.data.io import write_png


def _pairs(root, mask: np.ndarray, pred: np.ndarray) -> list[str]:
    """``root/gt`` and ``root/pred`` each holding a.png; evaluate's arguments for them."""
    for folder, image in (("gt", mask), ("pred", pred)):
        (root / folder).mkdir()
        write_png(root / folder / "a.png", image)
    return ["evaluate", "--pred", str(root / "pred"), "--gt", str(root / "gt")]


def _said(capsys, caplog) -> list[str]:
    """The lines the command printed and logged (its log lines may go to a handler that
    pytest's capsys does not see)."""
    out = capsys.readouterr()
    lines = [line for line in (out.out + out.err).splitlines() if line.strip()]
    logged = [r.getMessage() for r in caplog.records if r.getMessage() not in lines]
    return lines + logged


@pytest.mark.parametrize("top", [255, 200])
def test_a_prediction_of_no_label_value_is_refused_in_one_line(tmp_path, capsys, caplog, top):
    """0/255 predictions no record describes, --label-values 0 1 --ignore-value 255: they
    were refused after a log line saying they were read as mask values by 0 1 (two lines,
    the first not so); now the refusal alone. Their 255, the ignore value, read as void
    and scored (review s65 round 2), is refused naming it a class: after the scores, so
    after the read line, which says what is done (0/200: the refusal alone still)."""
    caplog.set_level(logging.INFO, logger="unetlab")
    mask = np.zeros((16, 16), np.uint8)
    mask[4:12, 4:12] = 1
    pred = mask * top
    argv = _pairs(tmp_path, mask, pred)
    assert main([*argv, "--label-values", "0", "1", "--ignore-value", "255"]) != 0
    said = _said(capsys, caplog)
    if top == 200:
        assert len(said) == 1, said
        assert "a.png holds 1 mask value 200, none of the label values 0 1" in said[0]
        return
    (refused,) = [line for line in said if "error:" in line]
    assert "a.png holds 255, the masks' ignore value (--ignore-value 255), on 64 pixels" in refused
    assert "the masks hold no 255: that 255 is a class, not void" in refused
    assert refused.endswith(
        "each 255 as the class it marks (scored as a class or as void, it scores low)"
    )


def test_an_ignore_value_no_pixel_holds_is_named_beside_the_value_found(tmp_path, capsys, caplog):
    """Masks of 0/1 with a 255 border, --label-values 0 1 --ignore-value 7: the refusal told
    to give --ignore-value 255 without a word of the 7 given; now it says 7 is in no pixel."""
    caplog.set_level(logging.INFO, logger="unetlab")
    pred = np.zeros((16, 16), np.uint8)
    pred[4:12, 4:12] = 1
    mask = pred.copy()
    mask[0] = 255
    argv = _pairs(tmp_path, mask, pred)
    assert main([*argv, "--label-values", "0", "1", "--ignore-value", "7"]) != 0
    said = _said(capsys, caplog)
    assert len(said) == 1, said
    assert "--ignore-value 255 for a value that counts nowhere" in said[0]
    assert said[0].endswith(f"(--ignore-value 7, given, is in no pixel of {tmp_path}/gt/a.png)")
    assert main([*argv, "--label-values", "0", "1", "--ignore-value", "255"]) == 0


def test_an_ignore_value_in_no_pixel_of_one_mask_names_that_mask(tmp_path, capsys, caplog):
    """Review s64: gt/a.png holds the 255 given as --ignore-value, gt/b.png a stray 254: the
    refusal of b.png said 255 "is in no pixel", which a.png's 255s belie; it names b.png."""
    caplog.set_level(logging.INFO, logger="unetlab")
    pred = np.zeros((16, 16), np.uint8)
    pred[4:12, 4:12] = 1
    a, b = pred.copy(), pred.copy()
    a[0], b[5, 5] = 255, 254
    argv = _pairs(tmp_path, a, pred)
    write_png(tmp_path / "gt" / "b.png", b)
    write_png(tmp_path / "pred" / "b.png", pred)
    assert main([*argv, "--label-values", "0", "1", "--ignore-value", "255"]) != 0
    said = _said(capsys, caplog)
    assert len(said) == 1, said
    assert said[0].endswith(f"(--ignore-value 255, given, is in no pixel of {tmp_path}/gt/b.png)")


def test_binary_masks_ignoring_0_are_led_to_a_command_that_scores(tmp_path, capsys, caplog):
    """Review s64: 0/255 masks with --ignore-value 0 were told to give --ignore-value 255,
    their one class; --label-values 255 --ignore-value 0 was told "e.g. --label-values 0
    255", and that with --ignore-value 0 "a value is either a class or ignored", no way on.
    Each line now names a fix that is taken, ending at one that scores. --ignore-value 0
    alone, scored with a hint (mIoU 0.4375 beside 0.9175, s65), is refused in one line too."""
    caplog.set_level(logging.INFO, logger="unetlab")
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 255
    pred = np.zeros((32, 32), np.uint8)
    pred[10:24, 8:24] = 255
    argv = _pairs(tmp_path, mask, pred)
    assert main([*argv, "--ignore-value", "0"]) != 0
    (said,) = _said(capsys, caplog)
    assert "--ignore-value 255" not in said
    assert "give --label-values 0 255 without --ignore-value to score 0" in said
    caplog.clear()
    assert main([*argv, "--label-values", "255", "--ignore-value", "0"]) != 0
    (said,) = _said(capsys, caplog)
    assert said.endswith(
        "e.g. --label-values 0 255 without --ignore-value 0 (a value is a class or ignored)"
    )
    caplog.clear()
    assert main([*argv, "--label-values", "0", "255", "--ignore-value", "0"]) != 0
    (said,) = _said(capsys, caplog)
    assert said.endswith(
        "a value is either a class or ignored: drop --ignore-value to score 0 as a class"
    )
    assert main([*argv, "--label-values", "0", "255"]) == 0
