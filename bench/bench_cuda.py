"""The CUDA paths on a GPU: layouts, precisions, whole-image prediction, MONAI, training steps.

    python bench/bench_cuda.py [--repeat 10] [--quick] [--out bench/results/cuda.json]

Needs a CUDA GPU (exits with a message otherwise). Rows, all with the paper net unless named:

- ``conv3x3 peak`` per dtype and layout: the GPU's convolution limit for the paper's shapes
  (fp32 runs as TF32 in cuDNN, torch's default for convolutions).
- ``forward`` at 572 (batch 1 and 8) per dtype and layout: which layout inference should use.
- ``predict`` of a 1024x1024 and a 4096x4096 image (``predict_image``, automatic tiling) in
  fp32 and bf16, against the model alone on the same tiles (the engine's overhead).
- ``monai sliding_window_inference`` on the same 1024x1024 image (when monai is importable),
  with a same-padding net of paper widths and with MONAI's BasicUNet.
- ``train step`` at 572, batch 1 and 4, amp off / bf16 / fp16 (with a gradient scaler), NCHW
  and channels-last: what ``train.amp`` and ``train.channels_last`` should default to.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from unetlab import bench
from unetlab.cli.parser import Parser
from unetlab.models import UNet

RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = [
    "what",
    "model",
    "size",
    "batch",
    "image",
    "dtype",
    "precision",
    "amp",
    "layout",
    "tile",
    "tiles",
    "seconds",
    "gflops",
    "share_of_peak",
    "mpix_per_s",
    "overhead",
    "ratio",
    "compute_seconds",
    "data_share",
]


def main() -> int:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="fewer rows (a smoke test)")
    parser.add_argument("--device", default="cuda")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=["forward", "predict", "train"],
        help="run only these sections (default: all)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "cuda.json")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("bench_cuda: no CUDA GPU here; run it on a machine with one", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    torch.manual_seed(0)
    rows: list[dict] = []

    def show(row):
        if row is None:
            return
        rows.append(row)
        print(", ".join(f"{k} {bench.cell(v)}" for k, v in row.items()), flush=True)

    repeat = args.repeat
    dtypes = ("fp32", "bf16")
    layouts = ("channels_last", "nchw")
    peaks = {}
    sections = set(args.only or ("forward", "predict", "train"))
    for dtype in dtypes if "forward" in sections else ():
        for layout in layouts:
            peaks[dtype, layout] = bench.conv_peak(
                dtype=dtype, layout=layout, repeat=repeat, device=device
            )
            show(peaks[dtype, layout])

    model = UNet.from_preset("paper")
    for batch in ((1,) if args.quick else (1, 8)) if "forward" in sections else ():
        for dtype in dtypes:
            for layout in layouts:
                show(
                    bench.bench_forward(
                        model,
                        572,
                        batch=batch,
                        dtype=dtype,
                        layout=layout,
                        repeat=repeat,
                        warmup=3,
                        peak_gflops=peaks[dtype, "channels_last"]["gflops"],
                        device=device,
                    )
                )

    model.cpu()
    for size in ((1024,) if args.quick else (1024, 4096)) if "predict" in sections else ():
        for precision in dtypes:
            row = bench.bench_predict(
                model,
                (size, size),
                precision=precision,
                repeat=max(3, repeat // 2),
                warmup=2,
                device=device,
            )
            show(row)
            if size == 1024 and precision == "fp32":
                ours = row["mpix_per_s"]
    for net in ("same", "basic") if "predict" in sections else ():
        row = bench.bench_monai(
            (1024, 1024), net=net, repeat=max(3, repeat // 2), warmup=2, device=device
        )
        if row is not None:
            row["ratio"] = round(ours / row["mpix_per_s"], 3)
        show(row)

    for batch in ((1,) if args.quick else (1, 4)) if "train" in sections else ():
        for amp in ("off", "bf16", "fp16"):
            for layout in layouts:
                show(
                    bench.bench_train_step(
                        UNet.from_preset("paper"),
                        572,
                        batch=batch,
                        steps=max(3, repeat // 2),
                        warmup=3,
                        layout=layout,
                        device=device,
                        amp=amp,
                    )
                )

    print()
    print(bench.table(rows, [c for c in COLUMNS if any(c in r for r in rows)]))
    bench.save_rows(args.out, rows, device=device)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
