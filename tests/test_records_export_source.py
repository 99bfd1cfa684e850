"""predict.json of a package names the checkpoint the package was exported from (audit s34
repro F6: it recorded only a hash of the package folder)."""

from __future__ import annotations

import hashlib

import pytest
import torch

pytest.importorskip("onnx")

from unetlab.checkpoint import load_model, save_model  # noqa: E402
from unetlab.inference.bioimageio import export_bioimageio  # noqa: E402
from unetlab.inference.predict import PredictOptions  # noqa: E402
from unetlab.inference.records import prediction_record  # noqa: E402
from unetlab.models import UNet  # noqa: E402


def test_a_packages_record_names_its_checkpoint(tmp_path):
    torch.manual_seed(0)
    checkpoint = save_model(tmp_path / "best.pt", UNet(1, 2, depth=2, base_channels=4))
    plain = prediction_record(load_model(checkpoint), PredictOptions()).to_dict()
    assert "source" not in plain  # a checkpoint file is its own source: the record as before
    export_bioimageio(
        load_model(checkpoint), tmp_path / "pkg", weight_formats=("pytorch_state_dict",)
    )
    made = prediction_record(load_model(tmp_path / "pkg"), PredictOptions())
    sha = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert made.to_dict()["source"]["sha256"] == sha
    assert made.to_dict()["source"]["checkpoint"] == "best.pt"
    assert f"exported from best.pt (sha256 {sha[:12]})" in made.describe()


def test_the_made_by_line_of_a_packages_outputs_names_its_checkpoint(tmp_path, capsys):
    """The line of outputs another model made (``--skip-existing``) names what made them
    from the folder's record: a package's said "exported from ..." nowhere (the record's
    source was dropped as it was read back)."""
    import numpy as np
    from PIL import Image

    from unetlab.cli import main

    (tmp_path / "in").mkdir()
    image = np.random.default_rng(0).integers(0, 255, (24, 20), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / "in" / "00.png")
    torch.manual_seed(0)
    checkpoint = save_model(tmp_path / "best.pt", UNet(1, 2, depth=2, base_channels=4))
    export_bioimageio(
        load_model(checkpoint), tmp_path / "pkg", weight_formats=("pytorch_state_dict",)
    )
    sha = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    argv = ["predict", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out")]
    assert main([*argv, "--checkpoint", str(tmp_path / "pkg"), "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main([*argv, "--checkpoint", str(checkpoint), "--skip-existing"]) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "error:" in x]
    assert f"were made by checkpoint {tmp_path / 'pkg'}" in line, line
    assert f"exported from best.pt (sha256 {sha[:12]}), no TTA" in line, line
