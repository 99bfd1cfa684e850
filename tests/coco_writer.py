"""A small COCO writer for the tests (and the walk's synthetic set): images of blobs in two
categories, as annotation tools export them (polygons; RLE, plain and compressed; a crowd
region; an image without annotations), in the layouts CVAT, Roboflow, Label Studio and COCO's
own folders use."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from unetlab.data.io import write_png

#: category ids as a tool may number them (not 1..K): cell 3, debris 7
CATEGORIES = [{"id": 7, "name": "debris", "supercategory": ""}, {"id": 3, "name": "cell"}]


def polygon(cx: float, cy: float, rx: float, ry: float, n: int = 24) -> list[float]:
    """An ellipse's outline as COCO's flat [x1, y1, x2, y2, ...]."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    xy = np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)
    return [round(float(v), 2) for v in xy.ravel()]


def rle_counts(mask: np.ndarray) -> list[int]:
    """COCO's uncompressed RLE of a bool mask: run lengths in column-major order, 0s first."""
    flat = np.asarray(mask, bool).ravel(order="F")
    edges = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    runs = np.diff(np.r_[0, edges, flat.size]).tolist()
    return [0, *runs] if flat.size and flat[0] else runs


def rle_string(counts: list[int]) -> str:
    """COCO's compressed RLE string of ``counts`` (pycocotools' rleToString, written anew)."""
    out = []
    for i, x in enumerate(counts):
        x = x - counts[i - 2] if i > 2 else x
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append(chr(c + (0x20 if more else 0) + 48))
    return "".join(out)


def disc(shape: tuple[int, int], cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy + 0.5 - cy) ** 2 + (xx + 0.5 - cx) ** 2 <= r * r


def blob_set(n_images: int = 8, size: tuple[int, int] = (96, 112), seed: int = 0) -> tuple:
    """(images {name: (H, W) uint8}, COCO dict): per image 3-6 blobs of cells (bright,
    polygons) and debris (dim); image 0 holds a plain-RLE cell, image 1 a compressed-RLE one,
    image 2 a crowd region (RLE), the last image no annotation."""
    rng = np.random.default_rng(seed)
    h, w = size
    images, entries, annotations = {}, [], []
    for i in range(n_images):
        name = f"img{i:02d}.png"
        pixels = rng.normal(40, 6, size).clip(0, 255)
        entries.append({"id": 100 + i, "file_name": name, "width": w, "height": h})
        blobs = [] if i == n_images - 1 else _blobs(rng, size, 3 + i % 4)
        for k, (cy, cx, r, cat) in enumerate(blobs):
            pixels[disc(size, cy, cx, r)] = 200 if cat == 3 else 110
            segmentation = [polygon(cx, cy, r, r)]
            ann = {"id": len(annotations) + 1, "image_id": 100 + i, "category_id": cat}
            if k == 0 and i in (0, 1, 2):
                mask = disc(size, cy, cx, r)
                counts = rle_counts(mask)
                segmentation = {"counts": counts if i != 1 else rle_string(counts), "size": [h, w]}
                ann["iscrowd"] = int(i == 2)
            ann.setdefault("iscrowd", 0)
            annotations.append({**ann, "segmentation": segmentation})
        images[name] = pixels.astype(np.uint8)
    coco = {"images": entries, "annotations": annotations, "categories": CATEGORIES}
    return images, coco


def _blobs(rng, size, n):
    h, w = size
    found = []
    for _ in range(2000):  # a small image holds fewer
        if len(found) == n:
            break
        r = float(rng.uniform(max(3, min(size) / 40), max(4.5, min(size) / 23)))
        cy, cx = float(rng.uniform(r + 1, h - r - 1)), float(rng.uniform(r + 1, w - r - 1))
        if all((cy - y) ** 2 + (cx - x) ** 2 > (r + q + 2) ** 2 for y, x, q, _ in found):
            found.append((cy, cx, r, 3 if len(found) % 3 else 7))
    return found


#: where each tool puts the images and the JSON (the JSON's file_name prefix)
LAYOUTS = {
    "cvat": ("images", "annotations/instances_default.json", ""),
    "roboflow": ("train", "train/_annotations.coco.json", ""),
    "labelstudio": ("", "result.json", "images/"),
    "coco": ("train2017", "annotations/instances_train2017.json", ""),
}


def write_coco_set(root: Path, layout: str = "cvat", **how) -> tuple[Path, dict]:
    """The blob set written in ``layout`` under ``root``: (the JSON, the COCO dict)."""
    images, coco = blob_set(**how)
    folder, json_path, prefix = LAYOUTS[layout]
    for entry in coco["images"]:
        entry["file_name"] = prefix + entry["file_name"]
    for name, pixels in images.items():
        write_png(root / folder / prefix / name, pixels)
    path = root / json_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(coco), encoding="utf-8")
    return path, coco
