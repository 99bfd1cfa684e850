"""Which peers should an image's focus be set against? Rules of ``focus_vs_median`` (the
objects summary's "out of focus?" line: under ``BLUR_SHARE`` x the peers' median) measured
over Kromp's nuclei (train and test folders, each image's focus near its true nuclei's
boxes, their mean area its objects' size) and a few synthetic folders.

    PYTHONPATH=src OMP_NUM_THREADS=1 python3 bench/focus_peers.py --data KROMP [--out FILE]

Rules (each image's peers: those whose objects lie within ``LIKE_ACROSS`` x across of its
own, as ``objects_summary`` takes them; under ``FOCUS_IMAGES`` peers: no ratio):

- ``median``: the peers' median (``_with_focus_ratios`` of rows without ``image_size``: 6217b6b0's rule);
- ``median-low``: the lower middle of an even count (5e1c5474, reverted);
- ``robust-z``: named where also the log focus lies 2.5 robust sigmas (1.4826 MAD) or more
  under the peers' median (the threshold set from the peers' spread);
- ``frame``: the peers are only the images of its frame size (H x W: the same camera and
  scan, as a plate's wells and a movie's frames are), ``_with_focus_ratios`` of rows with their ``image_size``;
- ``frame-or-all``: ``frame``, but an image with under ``FOCUS_IMAGES`` peers of its frame
  size is set against all like-sized ones.

Folders: Kromp's test and train folders (sharp images: every name is a false alarm); each
image's copy blurred (gaussian sigma 2 px) added to its folder (one at a time: is the copy
named, is another newly named?); the test folder with Ganglioneuroblastoma_8 replaced by
Ganglioneuroblastoma_3 blurred; synthetic folders of one object size: 4 images, 2 blurred
(0.01, 0.012, 0.5, 0.6: the review of 5e1c5474) and 6, 3 blurred, with no frame size known
and with one frame size (a plate).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from unetlab.inference import objects_summary as summary


def kromp_rows(folder: Path, blur: float = 0.0, names=None) -> list[dict]:
    """A summary row of each of ``folder``'s images (or ``names``): its focus near its true
    nuclei's boxes, their mean area, its frame size; the image blurred by ``blur`` first."""
    rows = []
    for path in sorted((folder / "images").glob("*.png")):
        if names is not None and path.name not in names:
            continue
        image = np.asarray(Image.open(path))
        if blur:
            image = ndimage.gaussian_filter(image.astype(np.float32), blur)
            image = image.round().astype(np.uint8)
        masks = np.asarray(Image.open(folder / "masks" / path.name)).astype(np.int64)
        found = [s for s in ndimage.find_objects(masks) if s is not None]
        boxes = np.array([(r.start, c.start, r.stop, c.stop) for r, c in found], np.int64)
        rows.append(
            {
                "image": path.stem + (f"~blur{blur:g}" if blur else ""),
                "focus": summary.focus_measure(image, boxes),
                "mean_area": np.count_nonzero(masks) / len(found),
                "image_size": image.shape[:2],
            }
        )
    return rows


def _peers(rows: list[dict], i: int, same_frame: bool) -> list[int]:
    across = [summary._across(r) for r in rows]
    like = [
        j
        for j, a in enumerate(across)
        if a is not None and max(a, across[i]) <= summary.LIKE_ACROSS * min(a, across[i])
    ]
    if same_frame:
        like = [j for j in like if rows[j].get("image_size") == rows[i].get("image_size")]
    return like


def _by_peers(rows: list[dict], statistic, same_frame=False, fallback=False) -> list[float | None]:
    out = []
    for i, r in enumerate(rows):
        peers = _peers(rows, i, same_frame)
        if fallback and len(peers) < summary.FOCUS_IMAGES:
            peers = _peers(rows, i, False)
        focus = [rows[j]["focus"] for j in peers]
        out.append(statistic(r["focus"], focus) if len(focus) >= summary.FOCUS_IMAGES else None)
    return out


def _robust_z(f: float, focus: list[float]) -> float:
    """The ratio where the log focus also lies 2.5 robust sigmas under the peers' median,
    else 1 (not named)."""
    logs = np.log(focus)
    centre = float(np.median(logs))
    spread = 1.4826 * float(np.median(np.abs(logs - centre))) or 1e-9
    ratio = f / float(np.exp(centre))
    return ratio if (np.log(f) - centre) / spread <= -2.5 else 1.0


def _shipped(rows: list[dict], frames: bool) -> list[float | None]:
    drop = () if frames else ("image_size",)
    done = summary._with_focus_ratios([{k: v for k, v in r.items() if k not in drop} for r in rows])
    return [r.get("focus_vs_median") for r in done]


RULES = {
    "median": lambda rows: _shipped(rows, False),
    "median-low": lambda rows: _by_peers(rows, lambda f, p: f / statistics.median_low(p)),
    "robust-z": lambda rows: _by_peers(rows, _robust_z),
    "frame": lambda rows: _shipped(rows, True),
    "frame-or-all": lambda rows: _by_peers(
        rows, lambda f, p: f / statistics.median(p), same_frame=True, fallback=True
    ),
}


def named(rows: list[dict], ratios: list[float | None]) -> list[str]:
    return [r["image"] for r, x in zip(rows, ratios) if x is not None and x < summary.BLUR_SHARE]


def synthetic(focus: list[float], frames: bool) -> list[dict]:
    return [
        {
            "image": f"w{k}",
            "focus": f,
            "mean_area": 400.0,
            "image_size": (540, 540) if frames else None,
        }
        for k, f in enumerate(focus)
    ]


def evaluate(rule, folders: dict, blurred: dict) -> dict:
    """The rule's names in each folder, and over the blurred copies: how many are named and
    which sharp images are named beside them that were not in their folder alone."""
    result = {k: named(rows, rule(rows)) for k, rows in folders.items()}
    missed, extra = [], set()
    for split, copies in blurred.items():
        alone = set(result[split])
        for copy in copies:
            rows = [*folders[split], copy]
            found = set(named(rows, rule(rows)))
            missed += [] if copy["image"] in found else [copy["image"]]
            extra |= found - alone - {copy["image"]}
    copies = sum(map(len, blurred.values()))
    result["blurred copies named"] = f"{copies - len(missed)}/{copies}"
    result["blurred copies not named"] = missed
    result["sharp newly named beside a copy"] = sorted(extra)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--data", type=Path, required=True, help="kromp2020_nuclei folder")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args()
    folders = {s: kromp_rows(args.data / s) for s in ("test", "train")}
    blurred = {s: kromp_rows(args.data / s, blur=2.0) for s in ("test", "train")}
    swap = [r for r in folders["test"] if r["image"] != "Ganglioneuroblastoma_8"]
    folders["test, _8 -> _3 blurred"] = [
        *swap,
        *kromp_rows(args.data / "test", 2.0, {"Ganglioneuroblastoma_3.png"}),
    ]
    for frames in (False, True):
        plate = " (one frame size)" if frames else ""
        folders[f"4, 2 blurred{plate}"] = synthetic([0.01, 0.012, 0.5, 0.6], frames)
        folders[f"6, 3 blurred{plate}"] = synthetic([0.01, 0.012, 0.011, 0.5, 0.6, 0.55], frames)
    results = {name: evaluate(rule, folders, blurred) for name, rule in RULES.items()}
    for name, result in results.items():
        print(f"== {name}")
        for folder, value in result.items():
            print(f"  {folder}: {value}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
