"""A run refused before any work leaves the user's folder as it was: no hidden manifest
(audit s41 claims: a user's objects_summary.csv refused the run, which left a
.unetlab-outputs listing outputs it never wrote)."""

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet
from unetlab.errors import OutputError
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions


def test_a_run_refused_by_a_users_summary_leaves_no_manifest(tmp_path):
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    rng = np.random.default_rng(0)
    paths = [tmp_path / "a.tif", tmp_path / "b.tif"]
    for path in paths:
        tifffile.imwrite(path, rng.integers(0, 255, (32, 32)).astype(np.uint8))
    out = tmp_path / "out"
    out.mkdir()
    (out / "objects_summary.csv").write_text("the user's")
    with pytest.raises(OutputError, match="objects_summary.csv exists and unetlab did not"):
        predict_folder(model, paths, out, objects=ObjectOptions.for_model, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["objects_summary.csv"]
