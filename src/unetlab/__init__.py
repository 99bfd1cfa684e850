"""unetlab: U-Net semantic segmentation, as the paper built it, as easy as a demo.

The public API, for notebooks and scripts::

    from unetlab import UNet, load_model, predict_image, summarize
    model = UNet.from_preset("paper")          # 31,030,658 parameters, 572 -> 388
    model.output_size(572), model.border, model.receptive_field   # 388, 92, 185

    cfg = load_config("configs/small_cpu.yaml", ["data.root=path/to/data", "train.epochs=5"])
    fit(cfg, run_dir="runs/mine")              # config.yaml, metrics.csv, checkpoints/...
    model = load_model("runs/mine/checkpoints/best.pt")
    probs = predict_image(model, image)        # (K, H, W) float32, any image size
    ids, table = predict_objects(model, image) # (H, W) uint16 object ids, per-object columns
    report = evaluate_model(model, "path/to/data")
"""

__version__ = "0.1.0"

# ruff: noqa: E402 (the version is set first: checkpoints record it)
from unetlab.checkpoint import load_checkpoint, load_model, save_model
from unetlab.config import Config, load_config, save_config
from unetlab.data.datasets import TileDataset, load_samples, split_pairs
from unetlab.data.io import read_image, read_mask, read_stack
from unetlab.data.synthetic import synthetic_em, write_synthetic_dataset
from unetlab.data.transforms import Augment
from unetlab.data.weightmap import weight_map
from unetlab.demo import run_demo
from unetlab.errors import CheckpointError, DatasetError, ImageReadError, UnetlabError
from unetlab.evaluate import Report, evaluate_model, evaluate_predictions
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities, predict_objects
from unetlab.inference.predict import predict_image, predict_tensor
from unetlab.losses import build_loss
from unetlab.metrics import ConfusionMatrix
from unetlab.models import PRESETS, UNet, UNetConfig
from unetlab.models.summary import summarize
from unetlab.train import TrainingError, fit

__all__ = [
    "PRESETS",
    "Augment",
    "CheckpointError",
    "Config",
    "ConfusionMatrix",
    "DatasetError",
    "ImageReadError",
    "ObjectOptions",
    "Report",
    "TileDataset",
    "TrainingError",
    "UNet",
    "UNetConfig",
    "UnetlabError",
    "__version__",
    "build_loss",
    "evaluate_model",
    "evaluate_predictions",
    "fit",
    "load_checkpoint",
    "load_config",
    "load_model",
    "load_samples",
    "objects_from_probabilities",
    "predict_file",
    "predict_image",
    "predict_objects",
    "predict_tensor",
    "read_image",
    "read_mask",
    "read_stack",
    "run_demo",
    "save_config",
    "save_model",
    "split_pairs",
    "summarize",
    "synthetic_em",
    "weight_map",
    "write_synthetic_dataset",
]
