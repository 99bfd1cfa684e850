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
