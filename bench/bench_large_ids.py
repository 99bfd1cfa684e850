"""Time and traced peak of the functions that took arrays as long as an image's largest id
(tests/test_large_ids_paths.py and stop 43's tests of region_facts and drop_mostly_excluded;
stop 45's object_classes, faint_objects, split_necks, table_3d (4 planes of the image),
seam_pairs (the image against itself shifted 1 px) and saturated_fraction; stop 46's
remove_small_objects by class and interior peak, and enclosed_specks_joined of the objects
of 300 px and more kept, renumbered and (stop 47) under their own ids), on a 64 x 64 image
of one object of id 2e7, on one of an object of id 3e9 around a speck of id 2**40
(``--image huge``), on one of a uint64 id 2**63 + 9 around it (``--image top``), and on a
2048 x 2048 image of 3,000 compact ids (touching cells; the hot path, which must not
slow). A function that fails prints its error.

Run against a tree (before / after a change) with its src first on the path:
``PYTHONPATH=src python3 bench/bench_large_ids.py``. Least of ``--repeat`` times; the peak
is tracemalloc's over one call (numpy's buffers included).
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
from scipy import ndimage

from unetlab.cli.parser import Parser
from unetlab.data.exclude import drop_mostly_excluded
from unetlab.data.fingerprint import cut_regions, line_objects
from unetlab.data.instances import object_areas, split_pieces
from unetlab.data.nodata import flag_touching
from unetlab.data.object_sizes import region_facts
from unetlab.inference.necks import split_necks
from unetlab.inference.objects import (
    ObjectOptions,
    enclosed_specks_joined,
    faint_objects,
    fill_object_holes,
    object_classes,
    remove_small,
    remove_small_objects,
    seam_pairs,
    split_by_distance,
)
from unetlab.inference.objects_3d import table_3d
from unetlab.inference.outlines import object_polygons
from unetlab.inference.table_extras import saturated_fraction


def one_large_id() -> np.ndarray:
    ids = np.zeros((64, 64), np.int64)
    ids[10:40, 12:50] = 20_000_000
    ids[20:25, 20:25] = 0  # a hole
    return ids


def huge_ids() -> np.ndarray:
    """An object of id 3e9 around a speck of id 2**40 (25 px: dropped, then joined to it)."""
    ids = np.zeros((64, 64), np.int64)
    ids[10:40, 12:50] = 3_000_000_000
    ids[20:25, 20:25] = 2**40
    return ids


def top_ids() -> np.ndarray:
    """uint64 ids above 2**63 (a hash's): an object of id 2**63 + 9 around a speck of id
    2**40 (25 px: dropped, then joined to it; s47: read as negative, IndexError)."""
    ids = np.zeros((64, 64), np.uint64)
    ids[10:40, 12:50] = 2**63 + 9
    ids[20:25, 20:25] = 2**40
    return ids


def cells(n: int = 3000, size: int = 2048, seed: int = 0) -> np.ndarray:
    """``n`` touching cells (nearest of ``n`` random centres, within 20 px of it), ids 1..n."""
    rng = np.random.default_rng(seed)
    seeds = np.zeros((size, size), bool)
    seeds[tuple(rng.integers(0, size, (2, n)))] = True
    marks, _ = ndimage.label(seeds)
    distance, (y, x) = ndimage.distance_transform_edt(marks == 0, return_indices=True)
    return np.where(distance <= 20, marks[y, x], 0).astype(np.int32)


def cases(ids: np.ndarray) -> dict:
    bad = np.zeros(ids.shape, bool)
    bad[-8:, :] = True
    table = {
        "id": np.unique(ids[ids > 0]),
        "touches_border": np.zeros(len(np.unique(ids)) - 1, bool),
    }
    options = ObjectOptions(min_area=30, cut_min_area=5)
    by_class = ObjectOptions(
        min_area=30, cut_min_area=5, class_min_areas=(0, 30, 60, 90), background=0, min_peak=0.5
    )
    kinds = np.where(ids > 0, ids % 3 + 1, 0)
    interior = np.where(ids % 5 > 0, 0.9, 0.3).astype(np.float32)
    planes = np.stack([ids] * 4)
    lower = np.roll(ids, 1, axis=1)
    grey = np.where(ids % 7 == 0, 255, 100).astype(np.uint8)
    kept = remove_small(ids, 300)
    own = np.where(kept > 0, ids, 0)  # the kept objects under the user's own ids
    return {
        "flag_touching": lambda: flag_touching(table, ids, bad),
        "cut_regions": lambda: cut_regions(ids, bad),
        "line_objects": lambda: line_objects(ids),
        "remove_small": lambda: remove_small(ids, 30),
        "remove_small_objects": lambda: remove_small_objects(ids, options, outside=bad),
        "remove_small_by_class": lambda: remove_small_objects(
            ids, by_class, kinds, outside=bad, interior=interior
        ),
        "fill_object_holes": lambda: fill_object_holes(ids),
        "split_by_distance": lambda: split_by_distance(ids),
        "object_polygons": lambda: object_polygons(ids),
        "object_areas": lambda: object_areas(ids),
        "split_pieces": lambda: split_pieces(ids),
        "region_facts": lambda: region_facts(ids, ignored=bad),
        "drop_mostly_excluded": lambda: drop_mostly_excluded(ids, bad),
        "object_classes": lambda: object_classes(ids, kinds, 0),
        "faint_objects": lambda: faint_objects(ids, interior, 0.5),
        "split_necks": lambda: split_necks(ids, 30),
        "table_3d": lambda: table_3d(planes, planes, (1.0, 0.5, 0.5)),
        "seam_pairs": lambda: seam_pairs(ids, lower),
        "saturated_fraction": lambda: saturated_fraction(ids, grey, table["id"]),
        "enclosed_specks_joined": lambda: enclosed_specks_joined(ids, kept),
        "specks_joined_own_ids": lambda: enclosed_specks_joined(ids, own),
    }


def measure(function, repeat: int) -> tuple[float, int]:
    best = min(_timed(function) for _ in range(repeat))
    tracemalloc.start()
    function()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=None, help="these functions only")
    parser.add_argument(
        "--image",
        choices=("small", "huge", "top", "large", "both", "all"),
        default="both",
        help="both: small and large; all: the four",
    )
    args = parser.parse_args()
    images = {
        "small": ("64x64, id 2e7", one_large_id),
        "huge": ("64x64, 3e9 + 2**40", huge_ids),
        "top": ("64x64, 2**63+9 + 2**40", top_ids),
        "large": ("2048x2048, 3000 ids", cells),
    }
    for key, (name, make) in images.items():
        if args.image not in (key, "all") and not (
            args.image == "both" and key in ("small", "large")
        ):
            continue
        ids = make()
        for label, function in cases(ids).items():
            if args.only and label not in args.only:
                continue
            slow = label in ("split_by_distance", "split_necks") and ids.size > 1e6
            repeat = 1 if slow else args.repeat
            try:
                seconds, peak = measure(function, repeat)
            except (MemoryError, ValueError, OverflowError, IndexError) as error:
                tracemalloc.stop()
                print(f"{name:22s} {label:22s} fails: {type(error).__name__}: {error}")
                continue
            print(f"{name:22s} {label:22s} {seconds * 1e3:9.2f} ms {peak / 1e6:9.2f} MB")


if __name__ == "__main__":
    main()
