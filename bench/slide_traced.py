"""Which lines hold a streamed slide's numpy memory at its traced peak: the CLI run in this
process under tracemalloc (one frame a trace: deeper ones made a 16,384 x 2,048 run take over
10 minutes), a snapshot at each new high of the traced total (every 0.5 s, 10 MB above the
last), its largest lines printed at the end. Torch's tensors are not traced (its allocator
is not Python's): the net's activations and the row of tiles' accumulator are not seen.

    python bench/slide_memory.py --sides 16384x2048 --flags=--instances   # makes the slide
    python bench/slide_traced.py /tmp/slide_memory/m.pt /tmp/slide_memory/in2048x16384 --instances
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import threading
import time
import tracemalloc
from pathlib import Path

#: a snapshot where the traced total passed the last one's by this many bytes
STEP = 10e6


def main() -> None:
    model, slide, *flags = sys.argv[1:]
    out = Path("/tmp/slide_traced_out")
    shutil.rmtree(out, ignore_errors=True)
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
    print(
        f"traced peak {peak / 1e6:.0f} MB; snapshot at {best[0] / 1e6:.0f} MB, {best[2]:.0f} s in"
    )
    for stat in best[1].statistics("lineno")[:14]:
        print(f"{stat.size / 1e6:7.1f} MB x{stat.count:<7} {stat.traceback[0]}")


if __name__ == "__main__":
    main()
