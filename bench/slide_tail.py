"""What a person watching `unetlab predict --instances` on a whole-slide image sees after the
tile bar reaches 100%: the objects' last rows, numbering and measuring them, and the outputs'
pyramids and OME-TIFF writes (s47: 26 s of a 4,096² slide under a bar that said "<00:00").

Makes (once, in --dir) a tiny 1 -> 3 class net (background, interior, rim) trained for a few
seconds on synthetic discs and a 4,096² uint16 tiled, zlib, 2-level OME-TIFF of such discs;
runs the CLI on a pseudo-terminal (so tqdm draws its bars), timestamps each line and bar
redraw, and prints what was on screen after the tile bar's first 100%, phase by phase, and the
longest stretches with nothing new on screen.

    python bench/slide_tail.py                       # this checkout's src
    python bench/slide_tail.py --src /path/to/other/src   # another checkout's (before/after)
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import sys
import time
from pathlib import Path

import numpy as np

SIDE, PIECE = 4096, 256


def discs(side: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(image uint8, classes uint8) of bright discs with darker rims on a dark background:
    class 1 the discs' interiors, 2 their rims."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side]
    image, classes = np.full((side, side), 40.0), np.zeros((side, side), np.uint8)
    for cy, cx in rng.integers(0, side, (side * side // 250, 2)):
        d = np.hypot(yy - cy, xx - cx)
        rim, inner = (d <= 6) & (d > 4.5), d <= 4.5
        image[rim], classes[rim & (classes != 1)] = np.minimum(image[rim], 120), 2
        image[inner], classes[inner] = 210, 1
    return np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8), classes


def make(folder: Path) -> tuple[Path, Path]:
    """The checkpoint and the slide in ``folder`` (made where absent)."""
    import tifffile
    import torch

    from unetlab.checkpoint import save_model
    from unetlab.models import UNet

    model, slide = folder / "m.pt", folder / "slide.ome.tif"
    folder.mkdir(parents=True, exist_ok=True)
    if not model.exists():
        torch.manual_seed(0)
        net = UNet(1, 3, depth=2, base_channels=8, padding="same")
        opt = torch.optim.Adam(net.parameters(), 1e-2)
        for step in range(150):
            image, classes = discs(96, step)
            x = torch.from_numpy((image - image.mean()) / image.std()).float()[None, None]
            loss = torch.nn.functional.cross_entropy(net(x), torch.from_numpy(classes)[None].long())
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval().objects = {
            "target": "instances",
            "count": 9,
            "area_p05": 20.0,
            "area_p95": 200.0,
        }
        save_model(model, net)
    if not slide.exists():
        n = SIDE // PIECE
        image = np.block([[discs(PIECE, 100 + n * i + j)[0] for j in range(n)] for i in range(n)])
        image = image.astype(np.uint16) * 200
        with tifffile.TiffWriter(slide, ome=True) as tif:
            common = dict(tile=(256, 256), compression="zlib")
            tif.write(image, subifds=1, metadata={"axes": "YX"}, **common)
            tif.write(image[::2, ::2], subfiletype=1, **common)
    return model, slide


def stamped(command: list[str], env: dict) -> list[tuple[float, str]]:
    """``(seconds, text)`` of each line and bar redraw ``command`` writes on a 160-column
    pseudo-terminal, and its end as ``(seconds, None)``."""
    start = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(2, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
        os.execvpe(command[0], command, env)
    events, rest, ansi = [], b"", re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        *parts, rest = re.split(rb"[\r\n]", rest + data)
        now = time.monotonic() - start
        events += [(now, ansi.sub("", p.decode(errors="replace"))) for p in parts if p.strip()]
    os.waitpid(pid, 0)
    return [*events, (time.monotonic() - start, None)]


def report(events: list[tuple[float, str | None]]) -> None:
    """Each thing on screen from the tile bar's first 100% (first and last seen), and the
    longest stretches with nothing new."""
    first = next(i for i, (_, s) in enumerate(events) if s and "100%" in s and "tile" in s)
    after, t0 = events[first:], events[first][0]
    print(f"tile bar at 100% at {t0:.1f} s; the command ended {events[-1][0] - t0:.1f} s later")
    seen: dict[str, list[float]] = {}
    for t, s in after[:-1]:
        key = re.sub(r":\s+\d+%$", "", s.split("|")[0].strip())[:90]
        seen.setdefault(key, [t, t])[1] = t
    for key, (a, b) in seen.items():
        print(f"  +{a - t0:6.2f} .. +{b - t0:6.2f} s  {key}")
    gaps = sorted(((b[0] - a[0], a[0] - t0, a[1]) for a, b in zip(after, after[1:])), reverse=True)
    print("longest stretches with nothing new on screen:")
    for gap, at, s in gaps[:3]:
        print(f"  {gap:.2f} s from +{at:.2f} s, after: {(s or '').split('|')[0][:80]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/slide_tail"))
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    args = parser.parse_args()
    model, slide = make(args.dir)
    out = args.dir / "out"
    if out.exists():
        import shutil

        shutil.rmtree(out)
    command = [sys.executable, "-m", "unetlab", "predict", "--checkpoint", str(model)]
    command += ["--input", str(slide), "--output", str(out), "--instances", "--device", "cpu"]
    report(stamped(command, {**os.environ, "PYTHONPATH": str(args.src)}))


if __name__ == "__main__":
    main()
