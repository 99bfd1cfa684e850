"""A 5-D (T, Z, C, Y, X) TIFF saved without axes beside a one-plane mask was told "if these
are 12 channels saved without axes, give them: --axes CYX", which fails on a 5-axis file
("--axes CYX names 3 axes, but the file's image has 5"); given --axes TZCYX, it was told
the same (s52 badinput). The line now names its shape and asks for all its axes; given
them, the stack's fix alone (save the annotated plane: tried, it trains)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unetlab.data.pairs import find_pairs
from unetlab.errors import DatasetError


def _problem(tmp_path, shape: tuple[int, ...], axes: str | None) -> str:
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    tifffile.imwrite(tmp_path / "images" / "c.tif", np.zeros(shape, np.uint8))
    tifffile.imwrite(tmp_path / "masks" / "c.tif", np.zeros(shape[-2:], np.uint8))
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path, axes=axes)
    return str(info.value)


@pytest.mark.parametrize("shape, example", [((2, 3, 2, 12, 10), "TZCYX"), ((3, 2, 12, 10), "ZCYX")])
def test_a_bare_hyperstack_is_asked_for_all_its_axes_not_cyx(tmp_path, shape, example):
    msg = _problem(tmp_path, shape, None)
    assert "--axes CYX" not in msg and "channels saved without axes" not in msg
    # find_pairs' own keyword (Python was told "--axes (data.axes; e.g. ZCYX)", s57)
    assert f"its shape {shape} records no axes: name each (e.g. axes='{example}'); " in msg
    assert f"'{example}'); a {int(np.prod(shape[:-2]))}-plane stack needs one mask" in msg


def test_the_command_line_is_told_its_flag(tmp_path, capsys):
    from unetlab.cli import main

    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    tifffile.imwrite(tmp_path / "images" / "c.tif", np.zeros((3, 2, 12, 10), np.uint8))
    tifffile.imwrite(tmp_path / "masks" / "c.tif", np.zeros((12, 10), np.uint8))
    assert (
        main(["train", "--data", str(tmp_path), "--check", "--run-dir", str(tmp_path / "r")]) == 2
    )
    err = capsys.readouterr().err
    assert "records no axes: name each (e.g. --axes ZCYX); a 6-plane stack" in err
    assert "data.axes" not in err


def test_axes_given_get_the_stacks_fix_alone(tmp_path):
    msg = _problem(tmp_path, (2, 3, 2, 12, 10), "TZCYX")
    assert "c.tif: 6 pages but its mask c.tif has 1: a 6-plane stack needs one mask" in msg
    assert "--axes" not in msg
