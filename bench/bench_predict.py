"""Whole-image prediction: MP/s, the engine's overhead, ONNX Runtime, and MONAI in the same run.

    python bench/bench_predict.py [--repeat 3] [--size 1024] [--no-monai] [--no-onnx]
                                  [--memory 20000 --memory-preset small]

Prints a table and writes bench/results/predict.json. Rows:

- ``predict``: unetlab.predict_image of a random size x size uint8 image with the paper net
  (automatic tile and batch, then one 1212 -> 1028 tile), against the model alone on the
  same tiles: ``overhead`` = predict / model - 1 (padding, normalisation, softmax, stitching;
  no file I/O).
- ``onnxruntime``: the exported paper net (unetlab.inference.export) on one tile, against PyTorch.
- ``monai sliding_window_inference``: the same image, 512 windows, overlap 0.25, gaussian,
  with a same-padding net of paper widths in channels-last, and with MONAI's BasicUNet
  (needs ``pip install monai``; skipped otherwise). ``ratio`` rows divide unetlab's MP/s
  by each.
- ``class changes`` of bf16 against fp32 where bf16 is native.
- ``peak memory`` of a --memory x --memory prediction in a fresh process (optional).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from unetlab import bench
from unetlab.cli.parser import Parser
from unetlab.models import UNet
from unetlab.runtime import configure_threads, supports_bf16, tune_allocator

RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = [
    "what",
    "model",
    "image",
    "precision",
    "tile",
    "tiles",
    "batch",
    "seconds",
    "model_seconds",
    "mpix_per_s",
    "overhead",
    "ratio",
    "peak_mb",
]


def onnx_rows(model: UNet, sizes: list[int], repeat: int) -> list[dict]:
    """PyTorch (channels-last, inference mode) against ONNX Runtime on one tile each."""
    from unetlab.inference.export import OnnxRunner, export_onnx

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        report = export_onnx(model, Path(tmp) / "paper.onnx")
        runner = OnnxRunner(report.path)
        for size in sizes:
            x = torch.randn(1, 1, size, size)
            t = bench.time_calls(lambda x=x: runner(x), repeat=repeat)
            torch_row = bench.bench_forward(model, size, repeat=repeat)
            rows.append(
                {
                    "what": "onnxruntime",
                    "model": "paper",
                    "tile": f"{size}x{size}",
                    "seconds": round(t.median_s, 4),
                    "model_seconds": torch_row["seconds"],
                    "ratio": round(torch_row["seconds"] / t.median_s, 3),
                    "max_abs_diff": report.max_abs_diff,
                }
            )
    return rows


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--no-monai", action="store_true")
    parser.add_argument("--no-onnx", action="store_true")
    parser.add_argument("--memory", type=int, help="also measure peak memory at this size")
    parser.add_argument("--memory-preset", default="small")
    args = parser.parse_args()
    allocator = tune_allocator()
    configure_threads()
    print(f"threads {torch.get_num_threads()}, {allocator}, load {os.getloadavg()[0]:.2f}")
    torch.manual_seed(0)
    model = UNet.from_preset("paper").eval()
    shape = (args.size, args.size)
    rows = []

    def show(row):
        if row is not None:
            rows.append(row)
            print(bench.table([row], COLUMNS), flush=True)

    auto = bench.bench_predict(model, shape, repeat=args.repeat)
    show(auto)
    one = model.valid_input_sizes(args.size + 2 * model.border, 1)[0]
    best = auto
    if auto["tile"] != f"{one}x{one}":
        best = bench.bench_predict(model, shape, tile_size=one, batch_size=1, repeat=args.repeat)
        show(best)
    if supports_bf16("cpu"):
        show(bench.bench_predict(model, shape, tile_size=one, precision="bf16", repeat=args.repeat))
        image = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
        show(bench.class_changes(model, image))
    if not args.no_onnx:
        for row in onnx_rows(model, [572, one], args.repeat):
            show(row)
    if not args.no_monai:
        for net in ("same", "basic"):
            row = bench.bench_monai(shape, net=net, repeat=args.repeat)
            if row is None:
                print("monai not installed: pip install monai (the bench extra)")
                break
            show(row)
            for ours in {id(auto): auto, id(best): best}.values():
                show(
                    {
                        "what": "ratio",
                        "model": f"unetlab tile {ours['tile']} / {row['model']}",
                        "ratio": round(ours["mpix_per_s"] / row["mpix_per_s"], 2),
                    }
                )
    if args.memory:
        with tempfile.TemporaryDirectory() as tmp:
            show(
                bench.peak_memory(
                    (args.memory, args.memory), preset=args.memory_preset, workdir=tmp
                )
            )
    print()
    print(bench.table(rows, COLUMNS))
    bench.save_rows(RESULTS / "predict.json", rows)


if __name__ == "__main__":
    main()
