"""Where a model's ISBI pixel errors lie: on the label's membrane edges or away from them.

For each slice, the membrane map (probability of the membrane class > --threshold) is
compared with the label; each wrong pixel is binned by its distance to the nearest label
edge pixel (a pixel next to the other class, distance 0). Most errors on the edge mean the
model and the annotator disagree on where a membrane's border lies, not on where membranes
are. Also measures how far the labels sit from the image's dark lines (``label_offset`` over
the training slices 00-24). Prints a table and writes ``bench/results/isbi_error_location.json``.

    python bench/isbi_error_location.py --checkpoint RUN/checkpoints/best.pt --slices 25-29
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from unetlab.checkpoint import load_model
from unetlab.cli.parser import Parser
from unetlab.data.io import read_image, read_mask
from unetlab.inference.predict import predict_image

ISBI = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "isbi2012" / "train"
RESULTS = Path(__file__).resolve().parent / "results" / "isbi_error_location.json"


def edge_distance(membrane: np.ndarray) -> np.ndarray:
    """(H, W) bool label -> each pixel's distance to the nearest pixel that has a 4-neighbour
    of the other class (those edge pixels are at 0)."""
    edge = membrane ^ ndi.binary_erosion(membrane, border_value=1)
    edge |= ~membrane ^ ndi.binary_erosion(~membrane, border_value=1)
    return ndi.distance_transform_edt(~edge)


def error_location(pred: np.ndarray, membrane: np.ndarray, bins=(0, 1, 2)) -> dict:
    """Wrong pixels of a membrane map, in total and by their distance to the label's edges."""
    wrong = pred != membrane
    dist = edge_distance(membrane)[wrong]
    row = {
        "pixels": int(wrong.size),
        "wrong": int(wrong.sum()),
        "false_membrane": int((pred & ~membrane).sum()),
        "missed_membrane": int((~pred & membrane).sum()),
    }
    row.update({f"wrong_within_{d}px": int((dist <= d).sum()) for d in bins})
    return row


def label_offset(images, membranes, reach: int = 2) -> tuple[float, float]:
    """(dy, dx) in pixels: the shift of the membrane labels that best matches the images' dark
    lines (correlation of the label with the standardised, inverted image over shifts of up to
    ``reach`` px, its peak refined by a parabola through the neighbours). Positive dy: the
    labels sit above the image's membranes and match best moved down."""
    shifts = range(-reach, reach + 1)
    corr = np.zeros((len(shifts), len(shifts)))
    for image, membrane in zip(images, membranes):
        dark = -(image - image.mean()) / image.std()
        label = membrane - membrane.mean()
        inner = (slice(2 * reach, -2 * reach),) * 2
        for a, dy in enumerate(shifts):
            for b, dx in enumerate(shifts):
                corr[a, b] += (dark * np.roll(label, (dy, dx), (0, 1)))[inner].mean()
    a, b = np.unravel_index(np.argmax(corr), corr.shape)
    a, b = min(max(a, 1), len(shifts) - 2), min(max(b, 1), len(shifts) - 2)

    def vertex(lo, mid, hi):  # 0 where the correlation is flat along the axis
        curve = lo - 2 * mid + hi
        return 0.0 if curve == 0 else (lo - hi) / (2 * curve)

    dy = shifts[a] + vertex(corr[a - 1, b], corr[a, b], corr[a + 1, b])
    dx = shifts[b] + vertex(corr[a, b - 1], corr[a, b], corr[a, b + 1])
    return float(dy), float(dx)


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--slices", default="25-29", help="first-last slice of ISBI train/")
    parser.add_argument("--threshold", type=float, default=0.5, help="membrane probability cut")
    parser.add_argument("--membrane-class", type=int, default=0)
    args = parser.parse_args()
    first, last = (int(s) for s in args.slices.split("-"))
    model = load_model(args.checkpoint)
    rows = []
    for i in range(first, last + 1):
        image = read_image(ISBI / "images" / f"{i:02d}.png")
        membrane = read_mask(ISBI / "masks" / f"{i:02d}.png") == 0  # ISBI: 0 = membrane
        prob = predict_image(model, image)[args.membrane_class]
        rows.append({"slice": i, **error_location(prob > args.threshold, membrane)})
    total = {k: sum(r[k] for r in rows) for k in rows[0] if k != "slice"}
    print("slice  pixel error  false / missed membrane  share of errors within 0 / 1 / 2 px")
    for r in [*rows, {"slice": "all", **total}]:
        w = max(r["wrong"], 1)
        shares = " / ".join(f"{r[f'wrong_within_{d}px'] / w:.2f}" for d in (0, 1, 2))
        print(
            f"{r['slice']!s:>5}  {r['wrong'] / r['pixels']:.4f}       "
            f"{r['false_membrane'] / r['pixels']:.4f} / {r['missed_membrane'] / r['pixels']:.4f}"
            f"          {shares}"
        )
    pairs = [
        (
            read_image(ISBI / "images" / f"{i:02d}.png").astype(np.float32).squeeze(),
            (read_mask(ISBI / "masks" / f"{i:02d}.png") == 0).astype(np.float32),
        )
        for i in range(25)
    ]
    dy, dx = label_offset(*zip(*pairs))
    print(
        f"labels of slices 00-24 against the images' dark lines: dy {dy:+.2f} px, dx {dx:+.2f} px"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    record = {"command": vars(args), "rows": rows, "total": total, "label_offset": [dy, dx]}
    RESULTS.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
