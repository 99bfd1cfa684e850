"""`train --check` of int16 masks where one file holds -1 (pixels left unlabelled): the
line said "mask value -1 is found in one file only: ... name the classes ... or set
data.label_values to keep it as a class" and never data.ignore_value=-1, which was then
refused as "outside the range of the 16-bit masks (0-65535)" (s51 walkbad)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import tifffile

from unetlab.cli import main
from unetlab.data.fingerprint import lonely_classes, measure_pair
from unetlab.data.io import write_png


def _data(root):
    (root / "masks").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        mask = np.zeros((32, 32), np.int16)
        mask[4:14, 4:14] = mask[18:28, 16:30] = 1
        if i == 0:
            mask[0:3, 0:3] = -1
        write_png(root / "images" / f"{i:02d}.png", rng.integers(0, 255, (32, 32), np.uint8))
        tifffile.imwrite(root / "masks" / f"{i:02d}.tif", mask)
    return root


def test_a_negative_value_in_one_file_is_told_no_class_and_its_ignore_value_works(tmp_path, capsys):
    data = _data(tmp_path / "data")
    argv = ["train", "--data", str(data), "--check", "--set", "data.tile_size=32"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert (
        f"{data / 'masks' / '00.tif'}: mask value -1 is no class index: if it marks pixels left "
        "unlabelled, --set data.ignore_value=-1 weighs them 0, else fix that mask"
    ) in err
    assert main([*argv, "--set", "data.ignore_value=-1"]) == 0, capsys.readouterr().err


def test_an_unsigned_mask_still_cannot_hold_a_negative_ignore_value():
    mask = np.zeros((8, 8), np.uint16)
    pairs = [measure_pair(np.zeros((8, 8), np.uint8), mask, name=str(i)) for i in range(3)]
    (problem,) = lonely_classes(pairs, ignore_value=-1)
    assert "data.ignore_value=-1 is outside the range of the 16-bit masks" in problem


def _pairs(*negatives):
    """Three int16 masks of classes 0 and 1, the first also holding the ``negatives``."""
    pairs = []
    for i in range(3):
        mask = np.zeros((8, 8), np.int16)
        mask[4:, 4:] = 1
        if i == 0:
            mask[0, : len(negatives)] = negatives
        pairs.append(measure_pair(np.zeros((8, 8), np.uint8), mask, name=f"m{i}"))
    return pairs


def test_negative_values_are_one_line_in_python_words_as_weightmap_says_them():
    """Training's check said a third wording of the negative-value line, its fix in neither
    caller's form ("data.ignore_value=-1"); now negative_values_line's, as weightmap and
    instances say it, in the Python form outside the command line (s57)."""
    (problem,) = lonely_classes(_pairs(-1, -3))
    assert problem == (
        "m0: mask values -3, -1 are no class indices: if they mark pixels left unlabelled, save "
        "them as one value V and cfg.data.ignore_value = V weighs them 0, else fix that mask"
    )


def test_a_negative_value_beside_the_ignore_value_given_is_told_to_be_saved_as_it():
    (problem,) = lonely_classes(_pairs(-1, -3), ignore_value=-1)
    assert problem == (
        "m0: mask value -3 is no class index, and cfg.data.ignore_value = -1 is given: if it "
        "marks pixels left unlabelled too, save it as -1 (one ignore value), else fix that mask"
    )


def test_a_negative_value_in_several_files_is_no_class_either():
    """-1 in two masks of four was no value of one file, nor a stray: the check passed and
    training took it for class -1 (s57)."""
    pairs = _pairs(-1)[:1] * 2 + _pairs()[1:] * 2
    pairs[1] = replace(pairs[1], name="m1")
    (problem,) = lonely_classes(pairs)
    assert problem == (
        "m0, m1: mask value -1 is no class index: if it marks pixels left unlabelled, "
        "cfg.data.ignore_value = -1 weighs them 0, else fix those masks"
    )
