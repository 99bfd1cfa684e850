"""More bad input to the Python API refused in one line (UnetlabError) naming the fix:
predict_folder given no model or a checkpoint's path (a TypeError, after its output folder
was made), the ISBI metrics given maps and truths of other sizes (a plain ValueError), and a
missing GPU named in Python's words to a Python caller (it said --device cpu)."""

from __future__ import annotations

import numpy as np
import pytest

import unetlab
from unetlab import UnetlabError
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.inference.folders import predict_folder
from unetlab.metrics.isbi import best_threshold, pixel_counts
from unetlab.models import UNet


def _net() -> UNet:
    return UNet(1, 2, depth=2, base_channels=4, padding="same").eval()


@pytest.mark.parametrize(
    "model, said",
    [(None, "not NoneType"), ("m.pt", "load it first"), (3, "not int")],
)
def test_predict_folder_refuses_what_is_no_model(tmp_path, model, said):
    write_png(tmp_path / "in" / "a.png", np.full((16, 16), 90, np.uint8))
    with pytest.raises(UnetlabError, match=f"{said}.*a function that loads it"):
        predict_folder(model, tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(UnetlabError, match="not NoneType"):  # a loader that gave none
        predict_folder(lambda: None, tmp_path / "in", tmp_path / "out2")
    result = predict_folder(_net, tmp_path / "in", tmp_path / "out3")  # a loader: taken
    assert list(result.written) == [tmp_path / "in" / "a.png"]


def test_isbi_metrics_name_both_sizes():
    probs, truth = np.full((8, 8), 0.7), np.ones((8, 9), np.int64)
    with pytest.raises(UnetlabError, match=r"\(8, 8\).*\(8, 9\)"):
        pixel_counts(probs > 0.5, truth > 0)
    with pytest.raises(UnetlabError, match=r"\(8, 8\).*\(8, 9\)"):
        best_threshold(probs, truth, [0.5])
    with pytest.raises(UnetlabError, match="2 probability maps but 1 ground truths"):
        best_threshold([probs, probs], [truth[:, :8]], [0.5])


def test_a_missing_gpu_is_named_as_the_caller_gives_the_device(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    path = unetlab.save_model(tmp_path / "m.pt", _net())
    with pytest.raises(UnetlabError, match='use device="cpu"'):
        unetlab.load_model(path, device="cuda")
    write_png(tmp_path / "in" / "a.png", np.full((16, 16), 90, np.uint8))
    argv = ["predict", "--checkpoint", str(path), "--input", str(tmp_path / "in")]
    assert main([*argv, "--output", str(tmp_path / "out"), "--device", "cuda"]) == 2
    assert "use --device cpu" in capsys.readouterr().err
