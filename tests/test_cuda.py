"""The CUDA paths: prediction, bf16, AMP training with fp16 and bf16, channels-last, resume,
metrics and the bench. Skipped where no CUDA GPU is present (as on CI); run on a GPU machine
with ``python3 -m pytest -q tests/test_cuda.py``."""

import numpy as np
import pytest
import torch

from unetlab import bench
from unetlab.checkpoint import load_checkpoint, load_model
from unetlab.inference.predict import labels_from_probabilities, predict_image, predict_tensor
from unetlab.metrics import ConfusionMatrix
from unetlab.models import UNet
from unetlab.train import fit

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture
def data(tmp_path):
    return write_blobs(tmp_path / "data", 4)


@pytest.fixture(autouse=True)
def _exact_fp32():
    """cuDNN runs fp32 convolutions as TF32 by default; the comparisons with the CPU want fp32."""
    before = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32 = before


def _image(h=300, w=257, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)


@pytest.mark.parametrize(
    ("preset", "blend"), [("small-valid", "mean"), ("small", "mean"), ("small", "gaussian")]
)
def test_cuda_prediction_equals_cpu(preset, blend):
    """On a GPU the image is uploaded once and tiles are cut and stitched there."""
    model = UNet.from_preset(preset, depth=3, base_channels=8, num_classes=3).eval()
    image = _image()
    tile = 124 if preset == "small-valid" else 128
    cpu = predict_image(model, image, device="cpu", tile_size=tile, blend=blend)
    gpu = predict_image(model, image, device="cuda", tile_size=tile, blend=blend)
    assert gpu.dtype == np.float32 and gpu.shape == cpu.shape == (3, 300, 257)
    assert np.abs(gpu - cpu).max() < 1e-4
    assert next(model.parameters()).device.type == "cuda"
    assert all(p.is_contiguous() for p in model.parameters())  # the caller's layout, restored


def test_cuda_bf16_prediction_changes_few_pixels():
    model = UNet.from_preset("small-valid", depth=3, base_channels=8).eval()
    row = bench.class_changes(model, _image(), precision="bf16", device="cuda")
    assert 0 <= row["share"] < 0.05, row
    probs = predict_image(model, _image(), device="cuda", precision="bf16")
    assert probs.dtype == np.float32 and np.isfinite(probs).all()
    assert np.allclose(probs.sum(0), 1, atol=1e-5)


def test_predict_tensor_stays_on_the_gpu():
    model = UNet.from_preset("small", depth=3, base_channels=8).cuda()
    x = torch.randn(2, 1, 70, 90, device="cuda")
    out = predict_tensor(model, x)
    assert out.device.type == "cuda" and out.shape == (2, 2, 70, 90)


@pytest.mark.parametrize("amp", ["bf16", "fp16", "off"])
def test_amp_training_on_cuda_learns_and_resumes(tmp_path, data, amp):
    cfg = tiny_config(
        data,
        f"train.amp={amp}",
        "train.device=cuda",
        "train.epochs=2",
        "train.lr=0.01",
        "train.num_workers=0",
    )
    result = fit(cfg, run_dir=tmp_path / "run", progress=False)
    assert result["steps"] == 4 and np.isfinite(result["val"]["loss"])
    log = (tmp_path / "run" / "train.log").read_text()
    want = {"bf16": "amp bfloat16", "fp16": "amp float16", "off": "amp off"}[amp]
    assert want in log and "channels_last on" in log
    ckpt = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert ckpt["scaler"] is not None
    if amp == "fp16":
        assert ckpt["scaler"]["scale"] > 0  # the gradient scaler ran
    # a GPU checkpoint loads and predicts on a CPU-only setup
    model = load_model(tmp_path / "run" / "checkpoints" / "best.pt")
    assert next(model.parameters()).device.type == "cpu"
    labels = labels_from_probabilities(predict_image(model, _image(48, 48), device="cpu"))
    assert labels.shape == (48, 48)
    more = tiny_config(
        data,
        f"train.amp={amp}",
        "train.device=cuda",
        "train.epochs=3",
        "train.lr=0.01",
        "train.num_workers=0",
    )
    resumed = fit(more, run_dir=tmp_path / "run", resume=True, progress=False)
    assert resumed["steps"] == 6


def test_confusion_matrix_counts_on_the_gpu_as_on_the_cpu():
    rng = np.random.default_rng(0)
    pred, target = rng.integers(0, 3, (2, 40, 50)), rng.integers(-1, 3, (2, 40, 50))
    cpu, gpu = ConfusionMatrix(3, ignore_index=-1), ConfusionMatrix(3, ignore_index=-1)
    cpu.update(pred, target)
    gpu.update(torch.from_numpy(pred).cuda(), torch.from_numpy(target).cuda())
    assert gpu.tensor.device.type == "cuda"
    assert np.array_equal(cpu.matrix, gpu.matrix)


def test_bench_rows_on_cuda():
    model = UNet.from_preset("small", depth=3, base_channels=8)
    peak = bench.conv_peak(shapes=((16, 64),), repeat=2, device="cuda")
    row = bench.bench_forward(model, 128, repeat=2, device="cuda", peak_gflops=peak["gflops"])
    assert row["seconds"] > 0 and row["share_of_peak"] > 0
    row = bench.bench_predict(model, (200, 150), repeat=1, warmup=1, device="cuda")
    assert row["mpix_per_s"] > 0
    row = bench.bench_train_step(
        model, 128, steps=1, warmup=1, device="cuda", amp="fp16", weight_map=False
    )
    assert row["compute_seconds"] > 0 and row["amp"] == "fp16"
    assert "gpu" in bench.machine("cuda")
