"""How often a few commands read the same thing (s60): the ``tifffile.TiffFile`` opens
and ``os.stat`` calls of each TIFF of a flat ``unetlab predict`` folder (YXC, 2 channels,
a YXC model) and of the folder; the listings (``os.listdir``, ``os.scandir``) of a data set's root by
``detect_layout``, per layout; the opens of ``predict.json`` and the manifest of the
predictions by ``unetlab evaluate --pred`` run again, and of its folder by ``unetlab
predict`` into it again (its claim check); and the ``scipy.ndimage.label`` calls of
``unetlab train --check`` by the plan's ``object_labels`` and the scan's ``value_regions``.
Writes under a temporary folder; prints one JSON object. Run it with each tree's ``src``
first on ``PYTHONPATH`` to compare.

    PYTHONPATH=src python3 bench/command_reads.py
    PYTHONPATH=src python3 bench/command_reads.py --files 20
"""

from __future__ import annotations

import builtins
import collections
import contextlib
import io
import json
import os
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.ndimage
import tifffile
import torch

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.cli.parser import Parser
from unetlab.data.io import write_png
from unetlab.data.pairs import detect_layout
from unetlab.models import UNet

GREY = np.zeros((8, 8), np.uint8)


@contextlib.contextmanager
def patched(owner, name: str, wrap):
    """``owner.name`` replaced by ``wrap(real)`` within."""
    real = getattr(owner, name)
    setattr(owner, name, wrap(real))
    try:
        yield
    finally:
        setattr(owner, name, real)


def ran(argv: list[str]) -> None:
    """``unetlab`` with ``argv``, stopping the script where it fails (not an ``assert``:
    ``python -O`` would drop the command measured)."""
    if (code := main(argv)) != 0:
        raise SystemExit(f"unetlab {' '.join(argv)}: exit code {code}")


def predict_reads(tmp: Path, files: int = 4) -> dict:
    """TiffFile opens and os.stat calls of each input of one ``unetlab predict``, and the
    os.stat calls of their folder (s66)."""
    torch.manual_seed(0)
    net = UNet(2, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp / "m.pt", net, train_config={"data": {"axes": "YXC"}})
    (tmp / "in").mkdir()
    for i in range(files):
        yxc = np.zeros((24, 24, 2), np.uint8)
        tifffile.imwrite(tmp / "in" / f"s{i}.tif", yxc, photometric="minisblack")
    opens, folder = collections.Counter(), tmp / "in"

    class Counting(tifffile.TiffFile):
        def __init__(self, path, *args, **kwargs):
            opens[Path(path).name] += Path(path).parent == tmp / "in"
            super().__init__(path, *args, **kwargs)

    argv = ["predict", "--checkpoint", str(tmp / "m.pt"), "--device", "cpu", "--no-progress"]
    argv += ["--input", str(tmp / "in"), "--output", str(tmp / "out")]
    quiet = contextlib.redirect_stderr(io.StringIO())
    by_name = counted_stats(lambda p: p.name if folder in (p, p.parent) else None)
    with patched(tifffile, "TiffFile", lambda _: Counting), by_name as stats, quiet:
        ran(argv)
    names = sorted(opens)
    found = {"opens": [opens[n] for n in names], "stats": [stats[n] for n in names]}
    return found | {"folder_stats": stats[folder.name]}


def _data_set(root: Path, layout: str) -> Path:
    files = {
        "folders": ["images/a.png", "masks/a.png"],
        "voc": ["JPEGImages/a.png", "SegmentationClass/a.png"],
        "cellpose": ["a.png", "a_masks.png"],
        "dsb": ["x1/images/x1.png", "x1/masks/m1.png", "x2/images/x2.png", "x2/masks/m.png"],
    }
    root.mkdir()
    if layout == "isbi":
        tifffile.imwrite(root / "train-volume.tif", GREY)
        tifffile.imwrite(root / "train-labels.tif", GREY)
    for name in files.get(layout, []):
        write_png(root / name, GREY)
    return root


def layout_listings(tmp: Path) -> dict:
    """Listings of the root by one ``detect_layout`` of a data set of each layout."""
    found = {}
    for layout in ("folders", "voc", "isbi", "cellpose", "dsb"):
        root, listed = _data_set(tmp / layout, layout), []

        def lister(real, root=root, listed=listed):
            return lambda p=".": (listed.append(p) if Path(p) == root else None) or real(p)

        with patched(os, "listdir", lister), patched(os, "scandir", lister):
            detected = detect_layout(root)
        if detected != layout:
            raise SystemExit(f"{root}: detect_layout found {detected!r}, not {layout!r}")
        found[layout] = len(listed)
    return found


def evaluate_reads(tmp: Path) -> dict:
    """Opens of the predictions' predict.json and manifest by ``evaluate --pred`` again."""
    rng = np.random.default_rng(0)
    for i in range(3):
        write_png(tmp / "img" / f"a{i}.png", rng.integers(0, 255, (16, 16), np.uint8))
        write_png(tmp / "gt" / f"a{i}.png", (rng.random((16, 16)) > 0.5).astype(np.uint8))
    net = UNet(1, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp / "g.pt", net)
    pred, argv = tmp / "p", ["--device", "cpu", "--no-progress", "--input", str(tmp / "img")]
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        ran(["predict", "--checkpoint", str(tmp / "g.pt"), *argv, "--output", str(pred)])
        argv = ["evaluate", "--pred", str(pred), "--gt", str(tmp / "gt")]
        argv += ["--json", str(tmp / "r.json")]
        ran(argv)
        with counted_opens(pred) as opened:
            ran(argv)
    return opened


@contextlib.contextmanager
def counted_opens(folder: Path):
    """Within: the opens of ``folder``'s predict.json and manifest, counted by name into
    the dict yielded."""
    opened: dict[str, int] = {}

    def opener(real):
        def counted(p, *args, **kwargs):
            name = Path(p).name if isinstance(p, (str, os.PathLike)) else None
            if name in ("predict.json", ".unetlab-outputs") and Path(p).parent == folder:
                opened[name] = opened.get(name, 0) + 1
            return real(p, *args, **kwargs)

        return counted

    with patched(io, "open", opener), patched(builtins, "open", opener):
        yield opened


def predict_again_opens(tmp: Path) -> dict:
    """Opens of predict.json and the manifest of a folder of 4 PNGs by ``unetlab predict``
    into it (first, s64), again, and again with --skip-existing (its claim check: s63); the
    stats of the stagings in it by the last two (s66)."""
    rng = np.random.default_rng(0)
    for i in range(4):
        write_png(tmp / "img" / f"a{i}.png", rng.integers(0, 255, (16, 16), np.uint8))
    save_model(tmp / "g.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    out, found = tmp / "p", {}
    argv = ["predict", "--checkpoint", str(tmp / "g.pt"), "--device", "cpu", "--no-progress"]
    argv += ["--input", str(tmp / "img"), "--output", str(out)]
    with contextlib.redirect_stderr(io.StringIO()):
        with counted_opens(out) as found["first"]:
            ran(argv)
        for name, more in (("again", []), ("skip_existing", ["--skip-existing"])):
            with counted_opens(out) as found[name], counted_stats(_staging_in(out)) as stats:
                ran([*argv, *more])
            found[name]["staging_stats"] = stats["staging"]
    return found


@contextlib.contextmanager
def counted_stats(key: Callable[[Path], str | None]):
    """Within: the ``os.stat`` calls of each path counted by its ``key`` (None: not
    counted) into the Counter yielded."""
    stats: collections.Counter = collections.Counter()

    def stat(real):
        def counted(p, *args, **kwargs):
            if isinstance(p, (str, os.PathLike)) and (k := key(Path(p))) is not None:
                stats[k] += 1
            return real(p, *args, **kwargs)

        return counted

    with patched(os, "stat", stat):
        yield stats


def _staging_in(folder: Path) -> Callable[[Path], str | None]:
    """A :func:`counted_stats` key: "staging" for a path of a staging in ``folder``
    (``.<name>.partial`` and below, s66)."""

    def key(p: Path) -> str | None:
        parts = p.relative_to(folder).parts if p.is_relative_to(folder) else ()
        return "staging" if parts and parts[0].endswith(".partial") else None

    return key


def train_labels(tmp: Path, pairs: int = 6) -> dict:
    """ndimage.label calls of ``train --check`` by object_labels and value_regions."""
    root, rng = tmp / "set", np.random.default_rng(0)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for i in range(pairs):
        mask = (rng.random((40, 40)) > 0.6) * rng.integers(1, 4, (40, 40))
        tifffile.imwrite(root / "images" / f"i{i}.tif", rng.integers(0, 255, (40, 40), np.uint8))
        tifffile.imwrite(root / "masks" / f"i{i}.tif", mask.astype(np.uint8))
    by = collections.Counter()

    def label(real):
        def counted(*args, **kwargs):
            names = {f.name for f in traceback.extract_stack()[:-1]}
            by.update(names & {"object_labels", "value_regions"})
            return real(*args, **kwargs)

        return counted

    run = ["--run-dir", str(tmp / "run"), "--no-progress", "--device", "cpu"]
    with patched(scipy.ndimage, "label", label), contextlib.redirect_stderr(io.StringIO()):
        ran(["train", "--data", str(root), "--check", *run])
    return dict(by)


def main_() -> None:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=4, help="TIFFs predicted (default 4)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        parts = {}
        for name, count in [
            ("predict_tiff_per_file", lambda t: predict_reads(t, args.files)),
            ("detect_layout_root_listings", layout_listings),
            ("evaluate_again_pred_opens", evaluate_reads),
            ("predict_again_opens", predict_again_opens),
            ("train_check_labels", train_labels),
        ]:
            (Path(tmp) / name).mkdir()
            parts[name] = count(Path(tmp) / name)
    print(json.dumps(parts))


if __name__ == "__main__":
    main_()
