"""``unetlab bench``: how fast this machine runs a U-Net (table on stdout, optional JSON)."""

from __future__ import annotations

import contextlib
import logging
import shlex
import sys

from unetlab.cli.common import PRECISIONS, STDOUT, check_pixels, user_path
from unetlab.errors import UnetlabError
from unetlab.models.architecture import ENCODERS, PRESETS
from unetlab.words import numbered

log = logging.getLogger(__name__)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="measure forward GFLOP/s, prediction MP/s and training step time here",
        description="Measure this machine: a 3x3 convolution's peak GFLOP/s, the net's forward "
        "pass (share of that peak by wall time, and on the CPU by CPU time), whole-image "
        "prediction in MP/s against the model alone (the tiling engine's overhead) and a "
        "training step. --quick takes under a minute on an idle machine.",
    )
    _add_what(p)
    _add_how(p)
    p.set_defaults(run=run)


def _add_what(p) -> None:
    """What is measured: the net, the sizes, the precision."""
    p.add_argument(
        "--preset",
        default="paper",
        choices=sorted(PRESETS),
        help="architecture to measure (default: paper)",
    )
    p.add_argument(
        "--encoder",
        choices=["none", *ENCODERS],
        default="none",
        help="measure a U-Net on this backbone (RGB in, 21 classes) instead of "
        "the preset (default: none)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="fewer repeats, a 512x512 image, no training step (< 1 min on an idle machine)",
    )
    p.add_argument("--tile-size", type=int, help="forward tile size (default: the preset's 572)")
    p.add_argument(
        "--image-size", type=int, help="square image for prediction (default 1024, quick 512)"
    )
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=PRECISIONS[0],
        help="bf16 needs a CPU with AVX512-BF16/AMX or a CUDA GPU",
    )


def _add_how(p) -> None:
    """How: repeats, threads, device, and the JSON file."""
    p.add_argument("--repeat", type=int, help="timed calls per figure (default 5, quick 3)")
    p.add_argument("--threads", type=int, help="torch threads (default: all allowed CPUs)")
    p.add_argument(
        "--device",
        default="cpu",
        help="cpu (default), cuda, cuda:N or auto (a GPU if there is one)",
    )
    p.add_argument(
        "--json",
        metavar="FILE",
        type=user_path,
        help="also write the rows as JSON (- : to stdout, the rest to stderr)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a --json file that unetlab did not write",
    )


#: The columns of the closing table.
COLUMNS = [
    "what", "model", "size", "image", "tile", "dtype", "precision", "seconds", "gflops",
    "share_of_peak", "share_of_peak_cpu", "mpix_per_s", "overhead", "data_share",
]  # fmt: skip


def run(args) -> int:
    if args.json != STDOUT:
        return _bench(args, sys.stdout)
    out = sys.stdout  # --json -: the JSON alone on stdout (for jq), all else on stderr
    with contextlib.redirect_stdout(sys.stderr):
        return _bench(args, out)


def _bench(args, out) -> int:
    """Measure, print the table, and write the --json rows (to ``out`` for ``-``:
    :func:`_say_rows`)."""
    import torch

    from unetlab import bench
    from unetlab.outputs import claim_files
    from unetlab.runtime import (
        CLI_DEVICE_FIX,
        check_precision,
        configure_threads,
        resolve_device,
        tune_allocator,
    )

    _check_numbers(args)
    device = resolve_device(args.device, CLI_DEVICE_FIX)
    check_precision(args.precision, device)
    if args.json and args.json != STDOUT:  # a foreign file or a folder: refused before
        claim_files(
            [args.json], overwrite=args.overwrite, command="bench", formats={args.json: "JSON"}
        )
    allocator = tune_allocator()
    threads = configure_threads(args.threads)
    torch.manual_seed(0)
    model, name = bench.suite_model(args.preset, args.encoder, args.tile_size)
    where = (
        f"{torch.cuda.get_device_name(device)} ({device})"
        if device.type == "cuda"
        else f"{numbered(threads, 'thread')}, {allocator}"
    )
    print(f"unetlab bench: {name}, {where}", flush=True)
    if busy := _busy(device):
        log.warning(busy)
    _say_rows(args, _measure(args, model, device), device, out, busy=busy)
    return 0


def _say_rows(args, rows: list[dict], device, out, *, busy: str | None) -> None:
    """Print the table of the measured ``rows`` and the notes on them, say a busy CPU (at the
    start, ``busy``, or now), and write the --json rows (to ``out`` for ``-``)."""
    from unetlab import bench

    print()
    print(bench.table(rows, COLUMNS))
    for note in bench.share_notes(rows):
        log.warning(note)
    if busy := busy or _busy(device):  # at the start, or now (and over the last minute)
        log.warning(busy)
    if args.json == STDOUT:
        out.write(bench.json_text(rows, command=_command(args), device=device))
    elif args.json:
        bench.write_json(args.json, rows, command=_command(args), device=device)
        print(f"wrote {args.json}")


def _busy(device) -> str | None:
    """:func:`unetlab.bench.busy_cpu`'s line for a run on the CPU, or None."""
    from unetlab import bench

    return bench.busy_cpu() if device.type == "cpu" else None


def _check_numbers(args) -> None:
    """One line for a size or count the benchmark cannot use (0 is no default here)."""
    check_pixels(tile_size=args.tile_size, image_size=args.image_size)
    if args.repeat is not None and args.repeat < 1:
        raise UnetlabError(f"--repeat must be at least 1, not {args.repeat}")


def _measure(args, model, device) -> list[dict]:
    """:func:`unetlab.bench.run_suite` as the flags ask, each row printed as it is measured."""
    from unetlab import bench

    def show(row):
        cols = [k for k in row if k not in ("what", "min_seconds", "system_seconds")]
        cells = ", ".join(f"{k} {bench.cell(row[k])}" for k in cols)
        print(f"{row['what']}: {cells}", flush=True)

    return bench.run_suite(
        model,
        tile=args.tile_size,
        image=args.image_size,
        quick=args.quick,
        precision=args.precision,
        repeat=args.repeat,
        device=device,
        on_row=show,
    )


def _command(args) -> str:
    """The command line that reproduces this run (recorded in the JSON)."""
    flags = {
        "--preset": args.preset if args.encoder == "none" else None,
        "--tile-size": args.tile_size,
        "--encoder": None if args.encoder == "none" else args.encoder,
        "--image-size": args.image_size,
        "--precision": args.precision,
        "--repeat": args.repeat,
        "--threads": args.threads,
        "--device": None if args.device == "cpu" else args.device,
    }
    words = ["unetlab", "bench", *(["--quick"] if args.quick else [])]
    words += [w for k, v in flags.items() if v is not None for w in (k, str(v))]
    return shlex.join(words)
