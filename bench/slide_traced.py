"""Which lines hold a streamed slide's numpy memory at its traced peak: the CLI run in this
process under tracemalloc (one frame a trace: deeper ones made a 16,384 x 2,048 run take over
10 minutes), a snapshot at each new high of the traced total (every 0.5 s, 10 MB above the
last), its largest lines printed at the end. Torch's tensors are not traced (its allocator
is not Python's): the net's activations and the row of tiles' accumulator are not seen.

    python bench/slide_memory.py --sides 16384x2048 --flags=--instances   # makes the slide
    python bench/slide_traced.py /tmp/slide_memory/m.pt /tmp/slide_memory/in2048x16384 --instances

Predict's flags follow the two paths (``--instances``); its outputs go to ``--dir``'s
``out<pid>``, removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import threading
import time
import tracemalloc
from pathlib import Path

#: a snapshot where the traced total passed the last one's by this many bytes
STEP = 10e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("model", help="the checkpoint (slide_memory.py's m.pt)")
    parser.add_argument("slide", help="the slide to predict, streamed")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/slide_traced"))
    args, flags = parser.parse_known_args()  # the rest are predict's flags: --instances
    out = args.dir / f"out{os.getpid()}"  # two benches at once do not share it
    try:
        traced(args.model, args.slide, out, flags)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def traced(model: str, slide: str, out: Path, flags: list[str]) -> None:
    """Predict ``slide`` into ``out`` under tracemalloc; print the traced peak, the total
    of the last snapshot and that snapshot's largest lines."""
    tracemalloc.start(1)
    best, start, stop = [0, None, 0.0], time.monotonic(), threading.Event()

    def sample():
        while not stop.wait(0.5):
            now, _ = tracemalloc.get_traced_memory()
            if now > best[0] + STEP:
                best[:] = [now, tracemalloc.take_snapshot(), time.monotonic() - start]

    threading.Thread(target=sample, daemon=True).start()
    from unetlab.cli import main as cli

    command = ["predict", "--checkpoint", model, "--input", slide, "--output", str(out)]
    with contextlib.suppress(SystemExit):  # the CLI's exit, its status printed already
        cli([*command, "--device", "cpu", "--no-progress", *flags])
    stop.set()
    peak = tracemalloc.get_traced_memory()[1]
    print(f"traced peak {peak / 1e6:.0f} MB (tracemalloc's high-water mark, not sampled)")
    if best[1] is None:
        print("no snapshot: the traced total never passed 10 MB")
        return
    total = sum(stat.size for stat in best[1].statistics("filename"))
    print(f"snapshot total {total / 1e6:.0f} MB, {best[2]:.0f} s in; its largest lines:")
    for stat in best[1].statistics("lineno")[:14]:
        print(f"{stat.size / 1e6:7.1f} MB x{stat.count:<7} {stat.traceback[0]}")


if __name__ == "__main__":
    main()
