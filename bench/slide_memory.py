"""Peak memory of `unetlab predict` on streamed whole-slide images of growing size.

Makes (once, in --dir) bench/slide_tail.py's tiny 1 -> 3 class instance net and square uint16
OME-TIFFs of its synthetic discs (512-px zlib tiles, 3 pyramid levels, a 1,024-px pattern
repeated), then runs the CLI on each size and mode in a child process, and prints its peak RSS
(the child's ``ru_maxrss``, as ``/usr/bin/time -v`` says it), its wall time, and the highest
RSS sampled (every 0.1 s) under each line it printed: which phase held the peak.

    python bench/slide_memory.py --sides 2048 4096 8192
    python bench/slide_memory.py --sides 8192 --flags "--instances --overlay"
    python bench/slide_memory.py --sides 16384x2048 2048x16384 --flags=--instances  # columns x rows
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import slide_tail  # noqa: E402


def make_slide(folder: Path, height: int, width: int) -> Path:
    """A folder holding one ``height`` x ``width`` uint16 pyramidal OME-TIFF of discs."""
    import tifffile

    path = folder / f"in{height}x{width}" / "slide.ome.tif"
    if path.exists():
        return path.parent
    pieces = [[slide_tail.discs(256, 100 + 4 * i + j)[0] for j in range(4)] for i in range(4)]
    image = np.tile(np.block(pieces).astype(np.uint16) * 200, (height // 1024, width // 1024))
    path.parent.mkdir(parents=True, exist_ok=True)
    with tifffile.TiffWriter(path, ome=True, bigtiff=True) as tif:
        common = dict(tile=(512, 512), compression="zlib")
        tif.write(image, subifds=2, metadata={"axes": "YX"}, **common)
        tif.write(image[::2, ::2], subfiletype=1, **common)
        tif.write(image[::4, ::4], subfiletype=1, **common)
    return path.parent


def phase(line: str) -> str:
    """The phase a line of the CLI starts: its text after the file's name (the tile lines
    as one)."""
    text = line.split(":", 1)[-1].strip()
    return "tiles" if "tiles (" in text or "objects found" in text else text[:70]


def measured(command: list[str], env: dict) -> tuple[int, float, float, dict[str, int]]:
    """(peak RSS MB, wall s, CPU s, {phase: highest sampled RSS MB}) of ``command`` (the
    CPU time: its speed on cores that other work shares, where the wall time is not)."""
    start = time.monotonic()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    now, peaks = ["start"], {}

    def sample() -> None:
        while child.returncode is None:
            try:
                with open(f"/proc/{child.pid}/status") as status:
                    rss = next(int(s.split()[1]) for s in status if s.startswith("VmRSS"))
            except (OSError, StopIteration):  # ended (a zombie has no VmRSS)
                return
            peaks[now[0]] = max(peaks.get(now[0], 0), rss // 1024)
            time.sleep(0.1)

    threading.Thread(target=sample, daemon=True).start()
    for line in child.stderr:
        now[0] = phase(line.decode(errors="replace"))
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not all children's
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{' '.join(command)} failed")
    cpu = usage.ru_utime + usage.ru_stime
    return usage.ru_maxrss // 1024, time.monotonic() - start, cpu, peaks


def shape(text: str) -> tuple[int, int]:
    """(columns, rows) of a ``--sides`` value: ``4096`` (a square) or ``16384x2048``."""
    width, _, height = text.partition("x")
    return int(width), int(height or width)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/slide_memory"))
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    parser.add_argument(
        "--sides", type=shape, nargs="+", default=[(s, s) for s in (2048, 4096, 8192)]
    )
    parser.add_argument("--flags", default="--instances", help="predict's flags, one string")
    args = parser.parse_args()
    slide_tail.SIDE = 256  # make() writes its own small slide too
    model, _ = slide_tail.make(args.dir)
    env = {**os.environ, "PYTHONPATH": str(args.src), "OMP_NUM_THREADS": "1"}
    for width, height in args.sides:
        out = args.dir / f"out{os.getpid()}"  # two benches at once do not share it
        shutil.rmtree(out, ignore_errors=True)
        command = [sys.executable, "-m", "unetlab", "predict", "--checkpoint", str(model)]
        command += ["--input", str(make_slide(args.dir, height, width)), "--output", str(out)]
        command += ["--device", "cpu", *args.flags.split()]
        peak, wall, cpu, peaks = measured(command, env)
        print(
            f"{width} x {height} {args.flags}: peak RSS {peak:,} MB, {wall:.1f} s, CPU {cpu:.1f} s"
        )
        for what, rss in peaks.items():
            print(f"  {rss:6,} MB  {what}")


if __name__ == "__main__":
    main()
