"""CT normalisation: nnU-Net's ``ct`` mode against each slice's percentiles (session 71).

A synthetic CT set in the Medical Segmentation Decathlon layout (``imagesTr/``,
``labelsTr/``, ``dataset.json`` saying CT), made to look like an abdominal scan in Hounsfield
units, int16: air (-1000, noise) around an elliptic body, the scanner's -1024 outside its
round field of view, a rim of fat (-100), soft tissue (+20), a brighter unlabelled organ
(+60: the liver's place), the labelled organ (+40, an ellipsoid over some of the slices:
the spleen's), a spine and ribs (700-1500), blurred a little (partial volume) and noisy
(sd 10 HU). Its train and validation volumes then train twice, the same seed and epochs,
once a mode; ``table`` reads each run's ``metrics.csv`` (validation mIoU and Dice by epoch).

    python bench/ct_normalization.py make --out /tmp/ct/Task90_Synth [--cases 10] [--seed 0]
    common="--data /tmp/ct/Task90_Synth --no-progress --set train.epochs=60 \\
        --set train.seed=0 --set train.val_every=5 --set train.label_offset=none"
    nice unetlab train $common --run-dir /tmp/ct/runs/ct-s0 --set data.normalization.mode=ct
    nice unetlab train $common --run-dir /tmp/ct/runs/percentile-s0 \\
        --set data.normalization.mode=percentile --set data.normalization.ignore_saturated=true \\
        --set data.normalization.camera_ceiling=true  # the plan's choice for int16 else
    python bench/ct_normalization.py table /tmp/ct/runs/percentile-s0 /tmp/ct/runs/ct-s0

(bench/README.md, "CT normalisation": the figures and the same commands.)
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import struct
from pathlib import Path

import numpy as np
from scipy import ndimage

SHAPE = (16, 128, 128)  # (Z, Y, X) a volume
SPACING = (0.8, 0.8, 5.0)  # mm, x y z
HU = {"air": -1000, "fill": -1024, "fat": -100, "tissue": 20, "liver": 60, "organ": 40}
NOISE_HU = 10.0


def _ellipse(yy, xx, centre, axes) -> np.ndarray:
    return ((yy - centre[0]) / axes[0]) ** 2 + ((xx - centre[1]) / axes[1]) ** 2 < 1


def ct_case(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """((Z, Y, X) int16 Hounsfield units, (Z, Y, X) uint8 labels: 1 the organ) of one case."""
    rng = np.random.default_rng(seed)
    z, yy, xx = np.meshgrid(*(np.arange(n, dtype=float) for n in SHAPE), indexing="ij")
    hu = np.full(SHAPE, float(HU["air"]))
    axes = rng.uniform(36, 44), rng.uniform(48, 56)
    body = _ellipse(yy, xx, (64, 64), (axes[0] + 0.15 * z, axes[1] + 0.1 * z))
    hu[body] = HU["fat"]
    hu[_ellipse(yy, xx, (64, 64), (axes[0] - 5, axes[1] - 6))] = HU["tissue"]
    liver = (64 + rng.uniform(-12, -4), 64 - rng.uniform(14, 22))
    hu[_ellipse(yy, xx, liver, (rng.uniform(14, 20), rng.uniform(14, 20)))] = HU["liver"]
    organ = _organ(rng, z, yy, xx)
    hu[organ] = HU["organ"]
    bone = _bones(rng, yy[0], xx[0], axes)[None] & np.ones(SHAPE, bool)
    hu[bone] = rng.uniform(700, 1500, int(bone.sum()))
    hu = ndimage.gaussian_filter(hu, (0, 0.8, 0.8)) + rng.normal(0, NOISE_HU, SHAPE)
    hu[(yy - 64) ** 2 + (xx - 64) ** 2 > 64**2] = HU["fill"]  # outside the field of view
    return np.rint(hu).astype(np.int16), organ.astype(np.uint8)


def _organ(rng, z, yy, xx) -> np.ndarray:
    """The labelled organ: an ellipsoid right of the middle, on some of the slices."""
    centre = (64 + rng.uniform(-10, 10), 64 + rng.uniform(12, 22), rng.uniform(5, 11))
    size = (rng.uniform(9, 15), rng.uniform(9, 15), rng.uniform(3, 6))
    inside = ((yy - centre[0]) / size[0]) ** 2 + ((xx - centre[1]) / size[1]) ** 2
    return inside + ((z - centre[2]) / size[2]) ** 2 < 1


def _bones(rng, yy, xx, axes) -> np.ndarray:
    """(Y, X) bone: the spine (a disc behind the middle) and ribs (small discs inside the
    body's rim)."""
    bone = (yy - 64 - axes[0] + 12) ** 2 + (xx - 64) ** 2 < 7**2
    for angle in np.linspace(0.3, 2 * np.pi - 0.3, 10) + rng.uniform(-0.1, 0.1, 10):
        cy, cx = 64 + (axes[0] - 8) * np.sin(angle), 64 + (axes[1] - 9) * np.cos(angle)
        bone |= (yy - cy) ** 2 + (xx - cx) ** 2 < 2.5**2
    return bone


def write_nifti(path: Path, zyx: np.ndarray) -> Path:
    """``zyx`` as a gzipped single-file NIfTI-1 of ``SPACING`` mm (x fastest on disk)."""
    codes = {"int16": (4, 16), "uint8": (2, 8)}
    head = bytearray(348)
    struct.pack_into("<i", head, 0, 348)
    struct.pack_into("<8h", head, 40, 3, *zyx.shape[::-1], 1, 1, 1, 1)
    struct.pack_into("<2h", head, 70, *codes[zyx.dtype.name])
    struct.pack_into("<8f", head, 76, 1.0, *SPACING, 1, 1, 1, 1)
    struct.pack_into("<f", head, 108, 352.0)
    head[123] = 10  # mm and s, as scanners write
    head[344:348] = b"n+1\0"
    body = bytes(head) + bytes(4) + zyx.astype(zyx.dtype.newbyteorder("<")).tobytes()
    path.write_bytes(gzip.compress(body, compresslevel=1))
    return path


def make(out: Path, cases: int, seed: int) -> None:
    """``cases`` volumes in the MSD layout under ``out`` (case i drawn with seed + i)."""
    (out / "imagesTr").mkdir(parents=True, exist_ok=False)
    (out / "labelsTr").mkdir()
    for i in range(cases):
        image, labels = ct_case(seed + i)
        write_nifti(out / "imagesTr" / f"synth_{i}.nii.gz", image)
        write_nifti(out / "labelsTr" / f"synth_{i}.nii.gz", labels)
        print(
            f"synth_{i}: organ on {int(labels.any((1, 2)).sum())} of {SHAPE[0]} slices, "
            f"{int(labels.sum())} voxels; HU {image.min()} to {image.max()}"
        )
    said = {"name": "Synth", "modality": {"0": "CT"}, "labels": {"0": "background", "1": "organ"}}
    (out / "dataset.json").write_text(json.dumps(said, indent=1))


def table(runs: list[Path]) -> None:
    """Each run's validation mIoU / Dice / the organ's IoU by epoch, side by side."""
    rows = {run: _val_rows(run) for run in runs}
    epochs = sorted({e for found in rows.values() for e in found})
    print("| epoch | " + " | ".join(run.name for run in runs) + " |")
    print("|---" * (len(runs) + 1) + "|")
    for epoch in epochs:
        print(f"| {epoch} | " + " | ".join(rows[run].get(epoch, "-") for run in runs) + " |")


def _val_rows(run: Path) -> dict[int, str]:
    """{epoch: "mIoU / Dice / organ IoU"} of the epochs ``run``'s metrics.csv validated."""
    with open(run / "metrics.csv", newline="") as f:
        rows = [row for row in csv.DictReader(f) if row.get("val_miou")]
    keys = ("val_miou", "val_mdice", "val_iou_organ")
    return {int(row["epoch"]): " / ".join(f"{float(row[k]):.3f}" for k in keys) for row in rows}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)
    made = sub.add_parser("make", help="write the synthetic CT set")
    made.add_argument("--out", type=Path, required=True)
    made.add_argument("--cases", type=int, default=10)
    made.add_argument("--seed", type=int, default=0)
    shown = sub.add_parser("table", help="validation mIoU / Dice by epoch of run folders")
    shown.add_argument("runs", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.command == "make":
        make(args.out, args.cases, args.seed)
    else:
        table(args.runs)


if __name__ == "__main__":
    main()
