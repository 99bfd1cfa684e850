"""Bad input, s56 badinput6: one clear line, whose fix is one that works."""

from pathlib import Path

import numpy as np
import pytest
import tifffile

from unetlab.cli import main
from unetlab.errors import UnetlabError

from .test_bad_input5 import _cli_refusal, _cyx


def _parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_a_band_list_longer_than_the_inputs_channels_is_not_told_to_list_fewer(tmp_path, capsys):
    """``--channel 2 1 0`` of 2-channel inputs with a 3-channel model was told "list at most
    2 bands", which that model then refuses (it takes 3, and bands are distinct): the line
    says no list of these inputs feeds it, and names inputs or a model that fit."""
    a, b = _cyx(tmp_path / "in" / "a.tif", 2), _cyx(tmp_path / "in" / "b.tif", 2)
    line = _cli_refusal(tmp_path, [a, b], ["2", "1", "0"], capsys)
    assert "list at most" not in line
    assert line.endswith(
        "fewer than the 3 bands listed (a 3-channel model's); give inputs of 3 channels or "
        "more, or predict them with a model of 2 channels or fewer (no list of theirs feeds "
        "a 3-channel one)"
    ), line
    shorter = _cli_refusal(tmp_path / "2", [a, b], ["1", "0"], capsys)  # the old advice
    assert "but the model takes 3 channel" in shorter, shorter


def _negatives(tmp_path: Path) -> Path:
    """A mask of two objects holding three negative values, -3, -2 and -1."""
    ids = np.zeros((24, 24), np.int16)
    ids[2:10, 2:10], ids[12:20, 12:20] = 1, 2
    ids[0, :], ids[:, 0], ids[-1, :] = -1, -2, -3
    tifffile.imwrite(tmp_path / "m.tif", ids)
    return tmp_path / "m.tif"


def test_weightmap_names_every_negative_value_of_a_mask(tmp_path, capsys):
    """``weightmap`` named the lowest of a mask's negative values alone (-3 of -3, -2, -1):
    fixed by --ignore-value -3, the next was refused. All are named, and the fix says that
    --ignore-value takes one value; as object ids too, in Python as ``ignore_value=V``."""
    from unetlab.data.weightmap import instance_weight_map

    mask = _negatives(tmp_path)
    argv = ["weightmap", str(mask), "--output", str(tmp_path / "o")]
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.endswith(
        f"{mask}: mask values -3, -2, -1 are no class indices; if they mark pixels left "
        "unlabelled, save them as one value and give it as --ignore-value (one value: its "
        "pixels weigh 0), else --label-values with them names them classes"
    ), line
    assert main([*argv, "--instances"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "mask values -3, -2, -1 are no object ids" in line
    assert "save them as one value V and --ignore-value V weighs them 0" in line
    with pytest.raises(UnetlabError, match="one value V and ignore_value=V weighs them 0"):
        instance_weight_map(tifffile.imread(mask), ignore_value=-5)
    assert not (tmp_path / "o").exists()
