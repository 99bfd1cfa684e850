"""``predict --output`` the folder of the inputs is refused naming the real conflict (audit
s34 messy 9: the line named labels ``img_000.tif`` where a plain TIFF's are ``img_000.png``)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main


@pytest.fixture
def work(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "tifs").mkdir()
    (tmp_path / "pngs").mkdir()
    for i in range(2):
        tifffile.imwrite(
            tmp_path / "tifs" / f"img_00{i}.tif", rng.integers(0, 255, (24, 20), np.uint8)
        )
        Image.fromarray(rng.integers(0, 255, (24, 20), np.uint8)).save(
            tmp_path / "pngs" / f"p{i}.png"
        )
    torch.manual_seed(1)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path


@pytest.mark.parametrize(
    ("given", "line"),
    [
        ("pngs", "the labels of {folder}/p0.png are named p0.png, so predict would write"),
        (
            "tifs",
            "the labels of {folder}/img_000.tif may be named img_000.tif (a TIFF's are a TIFF "
            "where it is a stack or records a pixel size), so predict could write over its input;",
        ),
        ("tifs/img_001.tif", "the labels of {folder}/img_001.tif may be named img_001.tif (a"),
    ],
)
def test_output_in_the_input_folder_names_the_conflict(work, capsys, given, line):
    folder = work / given.split("/")[0]
    before = sorted(p.name for p in folder.iterdir())
    argv = ["predict", "--checkpoint", str(work / "m.pt"), "--input", str(work / given)]
    assert main([*argv, "--output", str(folder), "--device", "cpu"]) == 2
    (error,) = [x for x in capsys.readouterr().err.splitlines() if "error:" in x]
    assert f"--output {folder} is the folder of the inputs: {line.format(folder=folder)}" in error
    assert error.endswith("give another --output (inputs are never replaced)")
    assert sorted(p.name for p in folder.iterdir()) == before


def test_predict_folder_into_the_input_folder_names_the_conflict_in_python_words(work):
    from unetlab import load_model
    from unetlab.errors import OutputError
    from unetlab.inference.folders import predict_folder

    model = load_model(work / "m.pt")
    with pytest.raises(OutputError) as refused:
        predict_folder(model, work / "tifs", work / "tifs")
    assert str(refused.value).startswith(f"out_dir {work / 'tifs'} is the folder of the inputs")
    assert str(refused.value).endswith("give another out_dir (inputs are never replaced)")


def test_labels_written_among_jpeg_inputs_are_named_by_train_and_passed_over(work, caplog):
    """Audit s37 paths F: ``--output`` the folder of JPEG inputs with --overwrite writes
    x.png beside x.jpg (asked for); train then said '2 images share the stem x' for each
    image, and predicting the folder again read the labels as inputs (refused: 'the labels
    of x.png are named x.png'). Predict warns as it writes them; train names them and the
    fix; predict passes over them in a line."""
    from unetlab.data.pairs import find_pairs
    from unetlab.errors import DatasetError

    images, rng = work / "ds" / "images", np.random.default_rng(1)
    for folder in (images, work / "ds" / "masks"):
        folder.mkdir(parents=True)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (24, 20), np.uint8)).save(images / f"x{i}.jpg")
        Image.fromarray(np.eye(24, 20, dtype=np.uint8) * 255).save(
            images.parent / "masks" / f"x{i}.png"
        )
    argv = ["predict", "--checkpoint", str(work / "m.pt"), "--input", str(images)]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--output", str(images), "--overwrite"]) == 0
    assert (images / "x0.png").is_file()
    said = f"{images}/: the labels of the 2 inputs there are written among them, of the same"
    assert said in caplog.text and "give another --output to keep them apart" in caplog.text
    caplog.clear()
    with pytest.raises(DatasetError) as err:
        find_pairs(work / "ds")
    said = str(err.value)
    assert "2 files there are labels that unetlab predict wrote among the images" in said
    assert "(x0.png, x1.png; its .unetlab-outputs lists them)" in said
    assert "move them out of this folder" in said and "share the stem" not in said
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--output", str(images), "--overwrite", "--skip-existing"]) == 0
    assert "2 files there are outputs unetlab wrote (x0.png, x1.png" in caplog.text
    assert "0 written, 2 skipped" in caplog.text
