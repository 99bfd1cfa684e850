"""Cost of data preparation against a training step: augmentation and the paper's weight map.

    python bench/bench_augment.py [--samples 300] [--isbi ../shared/data/isbi2012] [--threads 1]

Prints a table and writes bench/results/augment.json. Measures, with time.perf_counter:

- one augmented 256x256 sample (1-channel image + mask + weight map) for several Augment
  settings, mean over ``--samples`` calls;
- the sampling back-ends (torch grid_sample vs scipy map_coordinates) per interpolation order;
- the weight map of every ISBI 2012 training mask (512x512, ~100-200 cells each);
- one training step of the "small" preset on a 1x1x256x256 tile (AdamW, CE), the yardstick:
  data preparation should stay under 10 % of it.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from unetlab.cli.parser import Parser
from unetlab.data.io import read_mask
from unetlab.data.labels import encode_mask
from unetlab.data.transforms import (
    Augment,
    affine_matrix,
    elastic_displacement,
    sample_coords,
    warp,
)
from unetlab.data.weightmap import label_objects, weight_map
from unetlab.losses import build_loss
from unetlab.models import UNet

REPO = Path(__file__).resolve().parents[1]
TILE = 256

SETTINGS = {
    "flips+turns+grey (config default)": Augment(),
    "+ elastic (p=0.5)": Augment(elastic=True),
    "everything, every time": Augment(
        elastic=True,
        rotate=15.0,
        shift=8.0,
        gamma=0.3,
        p_elastic=1.0,
        p_rotate=1.0,
        p_shift=1.0,
        p_brightness=1.0,
        p_contrast=1.0,
        p_gamma=1.0,
    ),
}


def per_call_ms(fn, repeats: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1e3


def bench_augment(samples: int) -> dict:
    rng = np.random.default_rng(0)
    image = rng.normal(size=(1, TILE, TILE)).astype(np.float32)
    mask = (image[0] > 0).astype(np.int64)
    weight = rng.random((TILE, TILE)).astype(np.float32)
    return {
        name: per_call_ms(lambda aug=aug: aug(image, mask, weight, rng=rng), samples)
        for name, aug in SETTINGS.items()
    }


def bench_backends(repeats: int) -> dict:
    rng = np.random.default_rng(1)
    image = rng.normal(size=(TILE, TILE)).astype(np.float32)
    mask = (image > 0).astype(np.int64)
    matrix = affine_matrix(degrees=10.0, k90=1)
    field = elastic_displacement((TILE, TILE), rng)
    coords = sample_coords((TILE, TILE), matrix=matrix, shift=(2.0, 3.0), displacement=field)
    out = {}
    for order, array in ((3, image), (1, image), (0, mask)):
        out[f"grid_sample order {order}"] = per_call_ms(
            lambda a=array, o=order: warp(a, coords, order=o), repeats
        )
        out[f"map_coordinates order {order}"] = per_call_ms(
            lambda a=array, o=order: ndimage.map_coordinates(a, coords, order=o, mode="reflect"),
            max(repeats // 5, 5),
        )
    out["elastic_displacement"] = per_call_ms(
        lambda: elastic_displacement((TILE, TILE), rng), repeats
    )
    return out


def bench_weight_maps(isbi: Path) -> dict | None:
    masks = sorted((isbi / "train" / "masks").glob("*.png"))
    if not masks:
        return None
    times, objects = [], []
    for path in masks:
        labels = encode_mask(read_mask(path), [0, 255])
        objects.append(label_objects(labels)[1])
        start = time.perf_counter()
        weight_map(labels)
        times.append((time.perf_counter() - start) * 1e3)
    return {
        "masks": len(masks),
        "objects_min": min(objects),
        "objects_max": max(objects),
        "ms_mean": statistics.mean(times),
        "ms_median": statistics.median(times),
        "ms_max": max(times),
    }


def bench_train_step(steps: int) -> float:
    torch.manual_seed(0)
    model = UNet.from_preset("small").train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = build_loss("ce")
    x = torch.randn(1, 1, TILE, TILE)
    target = torch.randint(0, 2, (1, TILE, TILE))
    weight = torch.rand(1, TILE, TILE)
    times = []
    for _ in range(steps + 2):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), target, weight)
        loss.backward()
        optimizer.step()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times[2:])


def main() -> int:
    parser = Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--isbi", type=Path, default=REPO.parent / "shared/data/isbi2012")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: as a worker)")
    parser.add_argument("--steps", type=int, default=10, help="training steps to time")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/augment.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    augment = bench_augment(args.samples)
    backends = bench_backends(args.samples)
    weights = bench_weight_maps(args.isbi)
    step_by_threads = {}
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        step_by_threads[threads] = bench_train_step(args.steps)
    step = min(step_by_threads.values())  # the faster step: the stricter yardstick

    print(
        f"one augmented {TILE}x{TILE} sample (image + mask + weight), torch threads {args.threads}"
    )
    print(f"{'setting':40s} {'ms':>8s} {'% of step':>10s}")
    for name, ms in augment.items():
        print(f"{name:40s} {ms:8.2f} {100 * ms / step:9.1f}%")
    print(f"\n{'sampling back-end, 256x256':40s} {'ms':>8s}")
    for name, ms in backends.items():
        print(f"{name:40s} {ms:8.2f}")
    if weights:
        print(
            f"\nweight map, {weights['masks']} ISBI masks 512x512 "
            f"({weights['objects_min']}-{weights['objects_max']} cells): "
            f"mean {weights['ms_mean']:.0f} ms, median {weights['ms_median']:.0f} ms, "
            f"max {weights['ms_max']:.0f} ms"
        )
    steps_text = ", ".join(f"{t} thread(s) {ms:.0f} ms" for t, ms in step_by_threads.items())
    print(f"\nsmall preset training step (median), 1x1x{TILE}x{TILE}: {steps_text}")
    print(f"'% of step' above is against the faster one, {step:.0f} ms")

    result = {
        "tile": TILE,
        "samples": args.samples,
        "torch_threads_augment": args.threads,
        "augment_ms": augment,
        "backends_ms": backends,
        "weight_map_isbi": weights,
        "train_step_small_ms_by_threads": step_by_threads,
        "train_step_small_ms": step,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
        "note": "shared CPU: other jobs may have run at the same time",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
