"""The data check before training: every problem of a data set in one error, each naming its
file and the fix (NaN pixels, RGBA images, float masks, two images of one stem)."""

import re
from pathlib import Path

import numpy as np
import pytest
import tifffile

from unetlab.config import explicit_keys, load_config
from unetlab.data.datasets import load_samples, scan_masks, split_pairs
from unetlab.data.io import write_png
from unetlab.data.pairs import find_pairs
from unetlab.errors import DatasetError, command_spelling
from unetlab.plan import plan_training

PER_IMAGE = {"mode": "per_image"}


def binary_set(root: Path, n: int = 4, *, foreground: int = 255) -> Path:
    rng = np.random.default_rng(0)
    for i in range(n):
        write_png(root / "images" / f"{i:02d}.png", rng.integers(0, 255, (32, 32), np.uint8))
        mask = np.zeros((32, 32), np.uint8)
        mask[8:20, 8:24] = foreground
        write_png(root / "masks" / f"{i:02d}.png", mask)
    return root


def _plan_error(root: Path) -> str:
    overrides = [f"data.root={root}"]
    with pytest.raises(DatasetError) as info:
        plan_training(load_config(None, overrides), explicit_keys(None, overrides))
    return str(info.value)


def _nan_image(root: Path) -> Path:
    image = np.random.default_rng(1).random((32, 32)).astype(np.float32)
    image[:5, :5] = np.nan
    image[6, 6] = np.inf
    (root / "images" / "02.png").unlink()
    tifffile.imwrite(root / "images" / "02.tif", image)
    return root / "images" / "02.tif"


def test_nan_pixels_are_named_before_training(tmp_path):
    root = binary_set(tmp_path / "d")
    tif = _nan_image(root)
    assert f"{tif}: 26 NaN or infinite pixels; replace them" in _plan_error(root)
    with pytest.raises(DatasetError, match=r"02.tif: 26 NaN or infinite pixels; replace them"):
        load_samples(find_pairs(root), label_values=[0, 255], normalization=PER_IMAGE)


def test_nan_in_every_band_is_named_with_the_nodata_setting():
    from unetlab.data.checks import nonfinite_pixels

    image = np.ones((6, 5, 13), np.float32)
    image[0] = np.nan  # a no-data row in every band
    with command_spelling():  # as the command line runs
        assert nonfinite_pixels("a.tif", image) == (
            "a.tif: 5 NaN or infinite pixels; they are NaN in every channel, as no-data: "
            "--set data.nodata=nan leaves them out; or replace them with finite values"
        )
    # plan_training in a notebook: as Python sets it (s53: it was told --set)
    assert "as no-data: cfg.data.nodata = 'nan' leaves them out" in nonfinite_pixels("a.tif", image)
    image[3, 3, 0] = np.inf
    assert nonfinite_pixels("a.tif", image).endswith(
        "6 NaN or infinite pixels; replace them with finite values"
    )


def test_a_missing_mask_and_mixed_encodings_come_in_one_error(tmp_path):
    root = binary_set(tmp_path / "d", 5)
    binary_set(tmp_path / "ones", 3, foreground=1)
    for stem in ("01", "02"):  # 0/1 masks among 0/255 ones
        (tmp_path / "ones" / "masks" / f"{stem}.png").replace(root / "masks" / f"{stem}.png")
    (root / "masks" / "04.png").unlink()
    message = _plan_error(root)
    first, *lines = message.splitlines()  # a problem a line, paths in the data folder
    assert first == f"2 problems in {root} (paths relative to it):" and len(lines) == 2
    assert "\n  images/04.png: no mask in" in message
    assert "masks mix encodings: 0/1 in 2 files" in message


def test_problems_of_pairs_and_files_are_gathered_not_raised(tmp_path):
    root = binary_set(tmp_path / "d", 4)
    (root / "masks" / "03.png").unlink()
    _nan_image(root)
    problems: list[str] = []
    train, val = split_pairs(root, problems=problems)
    assert len(train + val) == 3 and len(problems) == 1
    message = _plan_error(root)
    assert "2 problems" in message and "no mask" in message and "NaN" in message


def test_an_rgba_image_among_grey_ones_says_rgba(tmp_path):
    root = binary_set(tmp_path / "d", 3)
    rgba = np.random.default_rng(0).integers(0, 255, (32, 32, 4), np.uint8)
    write_png(root / "images" / "01.png", rgba)
    with pytest.raises(DatasetError) as info:
        load_samples(find_pairs(root), label_values=[0, 255], normalization=PER_IMAGE)
    assert "01.png: 4 channels (RGBA: its 3 colour channels are read" in str(info.value)
    assert "but most images have 1" in str(info.value)


def test_a_float_mask_says_the_fix(tmp_path):
    root = binary_set(tmp_path / "d", 3)
    (root / "masks" / "02.png").unlink()
    tifffile.imwrite(root / "masks" / "02.tif", np.full((32, 32), 0.5, np.float32))
    fix = "mask holds non-integer values (float32); save masks as integer PNG/TIFF with one value"
    with pytest.raises(DatasetError, match=re.escape(f"02.tif: {fix}")):
        scan_masks(find_pairs(root))
    assert fix in _plan_error(root)


def test_two_images_of_one_stem_are_refused(tmp_path):
    root = binary_set(tmp_path / "d", 3)
    tifffile.imwrite(root / "images" / "02.tif", np.zeros((32, 32), np.uint8))
    with pytest.raises(DatasetError, match=r"2 images share the stem 02 \(02.png, 02.tif\)"):
        find_pairs(root)
    # a mask saved as PNG beside its JPEG copy stays the PNG, as before
    write_png(root / "masks" / "01.jpg", np.zeros((32, 32, 3), np.uint8))
    (root / "images" / "02.tif").unlink()
    assert [p.mask.name for p in find_pairs(root)] == ["00.png", "01.png", "02.png"]


def test_a_file_given_as_data_folder_says_so(tmp_path):
    root = binary_set(tmp_path / "d", 2)
    # split_pairs' own argument (s57: it named cfg.data.root, a training's key)
    said = "00.png is a file, not a data folder: give split_pairs' root"
    with pytest.raises(DatasetError, match=said) as raised:
        split_pairs(root / "images" / "00.png")
    assert "give --data the folder" in raised.value.cli  # unetlab train's


def test_the_cli_lists_every_problem_a_line_under_the_count(tmp_path, capsys):
    """Audit s29 author, finding 7: six problems were one line of 1,100 characters."""
    from unetlab.cli import main

    root = binary_set(tmp_path / "d", 5)
    (root / "masks" / "04.png").unlink()
    (root / "images" / "01.png").unlink()
    assert main(["train", "--data", str(root), "--check"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-3] == f"unetlab train: error: 2 problems in {root} (paths relative to it):"
    assert err[-2].startswith("  images/04.png: no mask in masks/")
    assert err[-1].startswith("  masks/01.png: mask without an image")


def test_a_list_of_problems_is_in_each_callers_form(tmp_path, capsys):
    """The problems' lines take the running caller's spelling (the error carries no other):
    the command line's --set, Python's assignment, each alone (s57 check of both)."""
    from unetlab import plan_training
    from unetlab.cli import main

    root = binary_set(tmp_path / "d", 3)
    tifffile.imwrite(root / "images" / "t.tif", np.zeros((2, 32, 32), np.uint8), imagej=True)
    write_png(root / "masks" / "t.png", np.zeros((32, 32), np.uint8))
    (root / "masks" / "00.png").unlink()
    assert main(["train", "--data", str(root), "--check", "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "2 problems in" in err and "multi-channel file: --set data.channel=C (C" in err
    assert "cfg." not in err
    with pytest.raises(DatasetError, match=r"2 problems in") as caught:
        plan_training(load_config(None, [f"data.root={root}"]))
    assert "multi-channel file: cfg.data.channel = C (C" in str(caught.value)
    assert "--set" not in str(caught.value)
