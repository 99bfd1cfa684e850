"""A ``ct`` model (nnU-Net's CT normalisation: clipped to the foreground's percentiles, then
standardised) predicts a CT volume streamed window by window as it predicts it read whole:
each tile is clipped to the checkpoint's ``lower`` and ``upper`` before its ``mean`` and
``std`` standardise it, as training and the whole read do."""

import numpy as np
import tifffile

from unetlab import UNet
from unetlab.inference.files import predict_file

#: measured statistics as training records them (HU: soft tissue -100 to 300)
CT = {"mode": "ct", "low": 0.5, "high": 99.5, "lower": [-100.0], "upper": [300.0]}
CT |= {"mean": [50.0], "std": [60.0]}


def ct_volume(path, shape=(3, 40, 48)):
    """(Z, Y, X) int16 Hounsfield units: air (-1000) around a body (20), an organ (60) and
    bone (700-1500), the scanner's fill (-3024) in one corner."""
    rng = np.random.default_rng(0)
    z, y, x = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    body = (y - 20) ** 2 + (x - 24) ** 2 < 18**2
    hu = np.where(body, rng.normal(20, 15, shape), -1000.0)
    hu[(y - 16) ** 2 + (x - 20) ** 2 < 25] += 40
    bone = (y - 26) ** 2 + (x - 30) ** 2 < 16
    hu[bone] = rng.uniform(700, 1500, shape)[bone]
    hu[:, :5, :5] = -3024
    tifffile.imwrite(path, hu.astype(np.int16), imagej=True, metadata={"axes": "ZYX"})
    return path


def test_a_streamed_ct_volume_is_predicted_as_read_whole(tmp_path):
    path = ct_volume(tmp_path / "ct.tif")
    rng = np.random.default_rng(1)  # weights that see the clip: none near zero
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    for p in model.parameters():
        p.data = p.data.new_tensor(rng.normal(0, 0.5, tuple(p.shape)))
    model.normalization = dict(CT)
    run = dict(save_probabilities=True, progress=False)
    predict_file(model, path, tmp_path / "whole", **run)
    predict_file(model, path, tmp_path / "streamed", large_threshold=100, **run)
    whole, streamed = (tifffile.imread(tmp_path / d / "ct_prob.tif") for d in ("whole", "streamed"))
    assert whole.shape == streamed.shape and whole.shape[0] == 3  # every plane, both ways
    np.testing.assert_allclose(streamed, whole, atol=1e-5)
