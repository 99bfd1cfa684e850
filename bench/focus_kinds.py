"""Could peers of one imaging kind be told apart without the frame size? Per Kromp image,
sharp and blurred (gaussian sigma 2 px), the features a peer rule by kind could use, each
near or inside its true nuclei: the focus measure, a focus normalised by the nuclei's
contrast (the binned Laplacian's variance over (mean inside the masks - mean outside,
near the boxes)^2), the background's median, nuclei per Mpx, the nuclei's intensity CV,
and the camera noise's share of the signal near them (bench/README.md, session 54).

    PYTHONPATH=src OMP_NUM_THREADS=1 python3 bench/focus_kinds.py --data KROMP
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from unetlab.inference import objects_summary as summary


def contrast_focus(image: np.ndarray, masks: np.ndarray, boxes: np.ndarray) -> float:
    h, w = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    y = summary._binned(image[:h, :w].astype(np.float32))
    inside = (summary._binned((masks[:h, :w] > 0).astype(np.float32)) >= 2)[1:-1, 1:-1]
    near = summary._near_boxes(y.shape, boxes)[1:-1, 1:-1]
    lap = y[1:-1, :-2] + y[1:-1, 2:] + y[:-2, 1:-1] + y[2:, 1:-1] - 4 * y[1:-1, 1:-1]
    y = y[1:-1, 1:-1]
    contrast = y[inside & near].mean() - y[~inside & near].mean()
    return float(lap[near].var() / contrast**2)


def features(image: np.ndarray, masks: np.ndarray, boxes: np.ndarray) -> dict:
    x = image.astype(np.float64)
    inside = x[masks > 0]
    h, w = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    y = summary._binned(x[:h, :w].astype(np.float32))
    near = summary._near_boxes(y.shape, boxes)
    noise = max(summary._noise_variance(y, ~near), 0.0) ** 0.5
    return {
        "focus": summary.focus_measure(image, boxes),
        "contrast_focus": contrast_focus(image, masks, boxes),
        "background": float(np.median(x[masks == 0])),
        "per_mpx": len(boxes) / image.size * 1e6,
        "cv_inside": float(inside.std() / inside.mean()),
        "noise_share": noise / float(y[near].std()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--data", type=Path, required=True, help="kromp2020_nuclei folder")
    args = parser.parse_args()
    print("split name across(px) HxW | sharp: features | blurred sigma 2: features")
    for split in ("train", "test"):
        for path in sorted((args.data / split / "images").glob("*.png")):
            image = np.asarray(Image.open(path))
            masks = np.asarray(Image.open(args.data / split / "masks" / path.name))
            found = [s for s in ndimage.find_objects(masks.astype(np.int64)) if s]
            boxes = np.array([(r.start, c.start, r.stop, c.stop) for r, c in found], np.int64)
            blurred = ndimage.gaussian_filter(image.astype(np.float32), 2.0).round()
            across = (np.count_nonzero(masks) / len(found)) ** 0.5
            cells = [f"{split} {path.stem} {across:.1f} {'x'.join(map(str, image.shape))}"]
            for kind in (image, blurred.astype(np.uint8)):
                found_kind = features(kind, masks, boxes)
                cells.append(" ".join(f"{k} {v:.4g}" for k, v in found_kind.items()))
            print(" | ".join(cells))


if __name__ == "__main__":
    main()
