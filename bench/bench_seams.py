"""Tiled against one-piece prediction for same-padding nets: how far the seams differ.

    python bench/bench_seams.py

For random-weight same-padding U-Nets (batch norm, base 4) on a 512 x 320 image, predicts in
tiles with each blend and compares with one forward pass over the whole (mirrored) image:
max and mean absolute difference of the probabilities, share of pixels whose class changes.
Writes bench/results/seams.json (``--out``: another file).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from unetlab import bench
from unetlab.cli.parser import Parser
from unetlab.data.normalize import normalize
from unetlab.inference.predict import predict_image
from unetlab.inference.sizing import choose_tiling
from unetlab.inference.tiling import Geometry
from unetlab.models import UNet

RESULTS = Path(__file__).resolve().parent / "results"


def one_piece(model: UNet, image: np.ndarray) -> np.ndarray:
    g = Geometry.of(model)
    x = np.moveaxis(normalize(image, model.normalization), 0, -1)
    h, w = image.shape[:2]
    ph, pw = g.round_up(h), g.round_up(w)
    padded = np.pad(x, ((0, ph - h), (0, pw - w), (0, 0)), mode="reflect")  # as tiles are read
    with torch.inference_mode():
        logits = model.eval()(torch.from_numpy(np.moveaxis(padded, -1, 0).copy())[None])
    return torch.softmax(logits, 1)[0, :, :h, :w].numpy()


def main() -> None:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "seams.json", help="the JSON written")
    args = parser.parse_args()
    image = np.random.default_rng(0).integers(0, 255, (512, 320), dtype=np.uint8)
    rows = []
    for depth in (3, 4):
        torch.manual_seed(0)
        model = UNet(1, 2, depth=depth, base_channels=4, padding="same", norm="batch").eval()
        ref = one_piece(model, image)
        for tile in (128, 256):
            for blend in ("mean", "gaussian"):
                out = predict_image(model, image, tile_size=tile, blend=blend)
                d = np.abs(out - ref)
                row = {
                    "depth": depth,
                    "receptive_field": model.receptive_field,
                    "tile": tile,
                    "tiles": len(choose_tiling(model, image.shape, tile_size=tile)[0]),
                    "blend": blend,
                    "max_abs_diff": float(d.max()),
                    "mean_abs_diff": float(d.mean()),
                    "class_changes": float((out.argmax(0) != ref.argmax(0)).mean()),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    bench.save_rows(args.out, rows)


if __name__ == "__main__":
    main()
