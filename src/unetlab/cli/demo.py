"""``unetlab demo``: synthetic EM data -> train -> evaluate -> overlap-tile prediction, in minutes;
``--task nuclei``: synthetic nuclei -> instance mode -> counts and object scores."""

from __future__ import annotations

from pathlib import Path

from unetlab.cli.common import add_device_arg, minutes_value, user_path
from unetlab.words import numbered


def add_parser(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="train and evaluate a small U-Net on synthetic EM images or nuclei (a few minutes on a CPU)",
        description="Make a synthetic data set like the paper's EM task, train the small preset "
        "for a few minutes, evaluate it on held-out images, predict a large image with "
        "overlap-tile, and write metrics.json, curves and overlays. --task nuclei: densely "
        "touching synthetic nuclei, the instance mode (background / boundary / interior), "
        "objects and counts of held-out images scored against the truth (DSB score, F1 at IoU "
        "0.5, PQ, SEG) beside the connected components of the same net's foreground.",
    )
    p.add_argument(
        "--task",
        choices=["em", "nuclei"],
        default="em",
        help="em: cells and membranes (default); nuclei: count touching nuclei",
    )
    p.add_argument(
        "--output",
        type=user_path,
        help="output folder (default: unetlab-demo; unetlab-demo-nuclei with --task nuclei)",
    )
    p.add_argument(
        "--minutes",
        type=minutes_value,
        help="training time limit (default: 2.5 for em, 4 for nuclei)",
    )
    p.add_argument(
        "--quick", action="store_true", help="a seconds-long smoke test (tiny data, 1 epoch)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier demo's results in --output (other files stay)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_device_arg(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from unetlab.demo import DEFAULT_OUTPUT, run_demo
    from unetlab.runtime import CLI_DEVICE_FIX, resolve_device

    # a device this machine lacks is refused before any file
    resolve_device(args.device, CLI_DEVICE_FIX)
    output = DEFAULT_OUTPUT[args.task] if args.output is None else args.output
    result = run_demo(
        output,
        task=args.task,
        minutes=args.minutes,
        quick=args.quick,
        seed=args.seed,
        overwrite=args.overwrite,
        device=args.device,
        progress=not args.no_progress,
    )
    out = Path(output)
    if args.task == "nuclei":
        _print_nuclei(result, out)
        return 0
    iou = ", ".join(f"{name} {value:.3f}" for name, value in result["iou"].items())
    print(f"mIoU {result['miou']:.4f} on {_held_out(result)} (IoU {iou})")
    print(_trained(result))
    print(
        f"results in {out}/: metrics.json, evaluation.txt, curves.png, overlays/, predictions/, large_overlay.png "
        f"({result['large_image']['size']} px, overlap-tile)"
    )
    print(f"model: {result['paths']['checkpoint']}")
    return 0


def _print_nuclei(result: dict, out: Path) -> None:
    def line(what: str, o: dict) -> str:
        error = o["count_error"]
        off = f"{error:+.1%}" if error is not None and error == error else "n/a"  # NaN != NaN
        return (
            f"{what}: {numbered(o['pred_objects'], 'nucleus', 'nuclei')} found, "
            f"{o['true_objects']} true ({off}); "
            f"F1@0.5 {_f(o['object_f1'])} (precision {_f(o['object_precision'])}, recall "
            f"{_f(o['object_recall'])}), DSB {_f(o['dsb'])}, PQ {_f(o['pq'])}, SEG {_f(o['seg'])}"
        )

    print(f"on {_held_out(result)}: pixel mIoU {_f(result['miou'])}")
    print(line("instance mode", result["objects"]))
    print(
        line(
            "baseline (connected components of the foreground)",
            result["baseline_connected_components"],
        )
    )
    print(_trained(result))
    print(
        f"results in {out}/: metrics.json, evaluation.txt, curves.png, overlays/, "
        "predictions/ (NN_objects.tif), baseline/"
    )
    print(f"model: {result['paths']['checkpoint']}")


def _held_out(result: dict) -> str:
    """The demo's test set, counted: "3 held-out synthetic images", "1 held-out synthetic image"."""
    return numbered(result["test_images"], "held-out synthetic image")


def _trained(result: dict) -> str:
    """The line of the training's length, and why it is short where the CPU was shared
    (audit s35 workshop 3: 19 of 288 steps, and nothing said why)."""
    line = (
        f"trained {numbered(result['epochs'], 'epoch')} ({numbered(result['steps'], 'step')}) in "
        f"{result['train_seconds']:.0f} s; total {result['total_seconds']:.0f} s"
    )
    if result.get("cpu_warning") and (share := result.get("cpu_share")) is not None:
        line += (
            f"; the CPU was shared: the training got {share:.0%} of its threads' time, so "
            "fewer steps and lower scores than on an idle machine (the log says more)"
        )
    return line


def _f(value) -> str:
    return "n/a" if value is None or value != value else f"{value:.3f}"
