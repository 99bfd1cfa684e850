"""``predict --output`` the folder of the inputs is refused naming the real conflict (audit
s34 messy 9: the line named labels ``img_000.tif`` where a plain TIFF's are ``img_000.png``)."""

from __future__ import annotations

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
