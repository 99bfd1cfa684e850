"""Bad input to the public Python API raises UnetlabError, the one class a pipeline or a
service catches as the caller's fault (audit s35 api 2, 3, 5: these raised ValueError,
IndexError, AssertionError, AttributeError or TypeError from deep inside, or nothing)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import unetlab
from unetlab import UnetlabError
from unetlab.inference.predict import PredictOptions
from unetlab.models import UNet

RNG = np.random.default_rng(0)
IMAGE = RNG.integers(0, 256, (40, 44), dtype=np.uint8)
IDS = np.zeros((40, 44), np.int32)
IDS[5:15, 6:20], IDS[22:35, 25:40] = 1, 2


def _model() -> UNet:
    return UNet(1, 2, depth=2, base_channels=4).eval()


def _checkpoint(tmp_path) -> str:
    return str(unetlab.save_model(tmp_path / "m.pt", _model()))


def _pair_folders(tmp):
    """A prediction folder and a mask folder of one image."""
    from unetlab.data.io import write_png

    write_png(tmp / "pred" / "a.png", (IDS > 0).astype(np.uint8))
    write_png(tmp / "gt" / "a.png", (IDS > 0).astype(np.uint8))
    return tmp / "pred", tmp / "gt"


def _update(pred, target):
    unetlab.ConfusionMatrix(2).update(pred, target)


CASES = {
    "object_scores shapes": (
        lambda tmp: unetlab.object_scores(prediction=IDS, truth=IDS[:10]),
        "same size",
    ),
    "matching_table shapes": (
        lambda tmp: unetlab.matching_table(truth=IDS[:10], prediction=IDS),
        "same size",
    ),
    "matching_table of a stack": (  # it named pooled_object_scores (audit s48 apiwalk)
        lambda tmp: unetlab.matching_table(truth=IDS[None], prediction=IDS[None]),
        r"one \(H, W\) image; for a stack of frames, unetlab.pooled_matching_table\(truth=",
    ),
    "UNet.from_config unknown key": (  # TypeError from __init__ before (audit s48 apiwalk)
        lambda tmp: UNet.from_config({"depth": 2, "base_channel": 4}),
        r"unknown UNet option \['base_channel'\]: known are",
    ),
    "ConfusionMatrix shapes": (lambda tmp: _update(IDS, IDS[:10]), "same size"),
    # these three raised a plain ValueError, which the README calls a bug (audit s48 apiwalk)
    "ConfusionMatrix merge 3x3 into 2x2": (
        lambda tmp: unetlab.ConfusionMatrix(2).merge(np.zeros((3, 3), np.int64)),
        "use the same class count",
    ),
    "ConfusionMatrix per image not kept": (
        lambda tmp: unetlab.ConfusionMatrix(2).compute_per_image(),
        r"ConfusionMatrix\(..., per_image=True\)",
    ),
    "evaluate_predictions connectivity 8": (
        lambda tmp: unetlab.evaluate_predictions(*_pair_folders(tmp), connectivity=8),
        r"connectivity is 1 \(4-neighbours\) or 2 \(8-neighbours\), not 8",
    ),
    "ConfusionMatrix class 5": (
        lambda tmp: _update(np.full((4, 4), 5), np.zeros((4, 4), np.int64)),
        "map label values",
    ),
    "objects_from_probabilities (H, W)": (
        lambda tmp: unetlab.objects_from_probabilities(np.zeros((8, 8), np.float32)),
        "(K, H, W)",
    ),
    "measure_objects float ids": (
        lambda tmp: unetlab.measure_objects(IDS.astype(np.float32), IMAGE),
        "integer",
    ),
    "measure_objects smaller image": (
        lambda tmp: unetlab.measure_objects(IDS, IMAGE[:10]),
        r"image of shape \(10, 44\) does not match ids of shape \(40, 44\)",
    ),
    "load_model device gpu": (
        lambda tmp: unetlab.load_model(_checkpoint(tmp), device="gpu"),
        "use auto, cpu, cuda",
    ),
    "predict_image checkpoint path": (
        lambda tmp: unetlab.predict_image(_checkpoint(tmp), IMAGE),
        r"load it first, model = unetlab.load_model\(path\)",
    ),
    "predict_image None": (
        lambda tmp: unetlab.predict_image(None, IMAGE),
        r"unetlab.load_model\(path\), not NoneType",
    ),
    "predict_file checkpoint path": (
        lambda tmp: unetlab.predict_file(_checkpoint(tmp), tmp / "a.png", tmp / "out"),
        "load it first",
    ),
    "predict_image tile_size 'big'": (
        lambda tmp: unetlab.predict_image(_model(), IMAGE, tile_size="big"),
        "tile_size must be a whole number of pixels",
    ),
}
for kind in ("mps", "xpu", "meta"):  # torch parses them; each failed deep in a run (s36 flags 5)
    CASES[f"load_model device {kind}"] = (
        lambda tmp, kind=kind: unetlab.load_model(_checkpoint(tmp), device=kind),
        rf"device '{kind}' is not one unetlab runs on \(CPU and CUDA GPUs only\): use device=\"cpu\"",
    )
if not torch.cuda.is_available():
    CASES["load_model device cuda"] = (
        lambda tmp: unetlab.load_model(_checkpoint(tmp), device="cuda"),
        "no CUDA GPU is available",
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_raises_unetlab_error_naming_the_fix(case, tmp_path):
    call, message = CASES[case]
    with pytest.raises(UnetlabError, match=message):
        call(tmp_path)


def test_measure_objects_refuses_an_image_of_another_size():
    """The same field at 2x was measured on its top-left quarter, without a word."""
    right = unetlab.measure_objects(IDS, IMAGE)
    assert right["mean_intensity"].shape == (2,)
    larger = np.kron(IMAGE, np.ones((2, 2), IMAGE.dtype))
    with pytest.raises(UnetlabError, match=r"\(80, 88\) does not match ids of shape \(40, 44\)"):
        unetlab.measure_objects(IDS, larger)
    colour = np.stack([IMAGE] * 3, -1)  # (H, W, C) of the ids' size is measured
    assert unetlab.measure_objects(IDS, colour)["mean_intensity_2"].tolist() == (
        right["mean_intensity"].tolist()
    )


def test_a_half_model_is_refused_naming_precision():
    model = _model().half()
    with pytest.raises(UnetlabError, match=r"float16.*model.float\(\), with precision='bf16'"):
        unetlab.predict_image(model, IMAGE)
    with pytest.raises(UnetlabError, match="float16"):
        unetlab.predict_tensor(model, torch.zeros(1, 1, 16, 16))


def test_a_half_model_is_refused_by_evaluate_model_too(tmp_path):
    """evaluate_model(net.half(), data) gave torch's dtype RuntimeError once evaluate fitted
    channels by file_fit (s49 review1 hm.py)."""
    from unetlab.data.io import write_png

    write_png(tmp_path / "images" / "a.png", IMAGE)
    write_png(tmp_path / "masks" / "a.png", (IDS > 0).astype(np.uint8))
    with pytest.raises(UnetlabError, match=r"float16.*model.float\(\)"):
        unetlab.evaluate_model(_model().half(), tmp_path)


def test_tile_size_of_numpy_integers_and_pairs_is_taken():
    options = PredictOptions(tile_size=np.int64(16), batch_size=np.int32(2))
    assert options.tile_size == 16 and type(options.tile_size) is int
    assert PredictOptions(tile_size=[16, 24]).tile_size == (16, 24)


def test_the_error_classes_a_caller_catches_are_public():
    """save_model's and the exports' OutputError was not in unetlab.__all__ (audit s35 api 4)."""
    from unetlab.errors import OutputError

    assert unetlab.OutputError is OutputError and "OutputError" in unetlab.__all__
    assert issubclass(OutputError, unetlab.UnetlabError)
