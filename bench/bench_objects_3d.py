"""Joining a z-stack's 2-D objects into 3-D ones
(:func:`unetlab.inference.objects_3d.objects_3d`) where nuclei are packed: whether each ball
comes out as one 3-D object, and the memory and time of the joining.

A (Z, Y, X) stack of balls of ``--radius`` µm (a tissue's packed nuclei), centres on a grid
``--spacing`` radii apart (2.2: gaps between them; 2.0: touching; 1.8, 1.6: overlapping, each
voxel the nearest centre's) jittered by up to ``--jitter`` of the spacing in each axis (µm),
voxels ``--z-step`` x 0.5 x 0.5 µm; each plane's 2-D objects are the balls' cross-sections
numbered from 1 in each plane, as predict gives them (touching ones parted: different ids).
Prints the balls and the 3-D objects, F1 at IoU 0.5 against the balls (the matching of
``evaluate --objects-3d``), and the merges: joins of neighbouring balls in one 3-D object, in
z (one above the other) or in-plane (side by side, which every plane parted). ``--sweep``:
a table of spacings x z steps instead. Also the peak of the memory numpy allocates during the
joining (tracemalloc: a C library's own heap, such as the watershed's queue, is not counted;
/usr/bin/time -v's maximum resident size counts it) in bytes per voxel, and the CPU seconds.
``--save F`` keeps the 3-D ids, ``--check F`` asserts they equal those kept.

    PYTHONPATH=src python3 bench/bench_objects_3d.py --shape 40 512 512
    PYTHONPATH=src python3 bench/bench_objects_3d.py --shape 0 128 128 --sweep
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
from scipy.spatial import cKDTree

from unetlab.cli.parser import Parser
from unetlab.inference.objects_3d import objects_3d
from unetlab.metrics.objects import f1_from_counts, object_counts, overlaps

PIXEL = 0.5  # µm in y and x: a confocal stack's
DEPTH_UM = 40.0  # a stack's depth where --shape gives 0 planes: the same balls at every z step


def packed_balls(
    shape: tuple[int, int, int], voxel: tuple, radius: float, spacing: float, jitter: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(truth, centres)``: (Z, Y, X) int32 ball ids 1.. (each voxel within ``radius`` µm of
    its nearest centre takes its id) and the (n, 3) centres in µm, on a grid ``spacing``
    radii apart, jittered by up to ``jitter`` of the spacing (fixed seed)."""
    rng = np.random.default_rng(0)
    step = spacing * radius
    extent = np.array(shape) * np.array(voxel)
    axes = [np.arange(step / 2, e, step) for e in extent]
    centres = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    centres = centres + rng.uniform(-jitter, jitter, centres.shape) * step
    points = np.stack(np.indices(shape), -1).reshape(-1, 3) * np.array(voxel)
    distance, nearest = cKDTree(centres).query(points)
    truth = np.where(distance <= radius, nearest + 1, 0).astype(np.int32).reshape(shape)
    return truth, centres


def planes_of(truth: np.ndarray) -> np.ndarray:
    """Each plane's 2-D objects of ``truth``: its cross-sections, ids from 1 in each plane."""
    out = np.zeros(truth.shape, np.int32)
    for z, plane in enumerate(truth):
        _, inverse = np.unique(plane, return_inverse=True)
        out[z] = inverse.reshape(plane.shape)
    return out


def merges(ids: np.ndarray, truth: np.ndarray, centres: np.ndarray, step: float) -> tuple:
    """(joins in z, joins in-plane): pairs of neighbouring balls (centres under 1.3 grid
    steps apart) whose most voxels lie in the same 3-D object, by the axis they lie along."""
    table = overlaps(ids.reshape(-1, ids.shape[-1]), truth.reshape(-1, truth.shape[-1]))[0]
    balls = np.flatnonzero(table[1:, 1:].sum(1)) + 1  # ids of balls in the stack
    best = table[balls, 1:].argmax(1)
    z = plane = 0
    for i, a in enumerate(balls):
        for j in range(i + 1, len(balls)):
            d = centres[balls[j] - 1] - centres[a - 1]
            if best[i] == best[j] and np.linalg.norm(d) < 1.3 * step:
                z, plane = (z + 1, plane) if abs(d[0]) > np.hypot(d[1], d[2]) else (z, plane + 1)
    return z, plane


def score(shape: tuple, z_step: float, args) -> dict:
    """One stack's figures (see the module's docstring)."""
    voxel = (z_step, PIXEL, PIXEL)
    if shape[0] == 0:
        shape = (round(DEPTH_UM / z_step), *shape[1:])
    truth, centres = packed_balls(shape, voxel, args.radius, args.spacing, args.jitter)
    planes = planes_of(truth)
    tracemalloc.start()
    start = time.process_time()
    ids = objects_3d(planes, voxel)
    seconds = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    flat = ids.reshape(-1, shape[-1]), truth.reshape(-1, shape[-1])
    f1 = f1_from_counts(*object_counts(*flat))["f1"]
    in_z, in_plane = merges(ids, truth, centres, args.spacing * args.radius)
    return dict(
        shape=shape, balls=len(np.unique(truth)) - 1, objects=int(ids.max()), f1=f1,
        in_z=in_z, in_plane=in_plane, peak=peak / planes.size, seconds=seconds, ids=ids,
    )  # fmt: skip


def sweep(args) -> None:
    """Prints a markdown table of :func:`score` over spacings 2.2-1.6 radii and z steps."""
    print("| spacing (r) | z step (µm) | stack | balls | 3-D objects | F1 | z joins | in-plane |")
    print("|---|---|---|---|---|---|---|---|")
    for spacing in (2.2, 2.0, 1.8, 1.6):
        for z_step in (0.5, 1.0, 2.0):
            args.spacing = spacing
            r = score(tuple(args.shape), z_step, args)
            print(
                f"| {spacing} | {z_step} | {' x '.join(map(str, r['shape']))} | {r['balls']} "
                f"| {r['objects']} | {r['f1']:.3f} | {r['in_z']} | {r['in_plane']} |",
                flush=True,
            )


def main() -> None:
    p = Parser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", type=int, nargs=3, default=[40, 512, 512], metavar=("Z", "Y", "X"))
    p.add_argument("--radius", type=float, default=5.0, help="the balls' radius in µm")
    p.add_argument("--spacing", type=float, default=1.6, help="the grid's step in radii")
    p.add_argument("--jitter", type=float, default=0.1, help="up to this share of the step")
    p.add_argument("--z-step", type=float, default=2.0, help="µm between planes")
    p.add_argument("--sweep", action="store_true", help="spacings 2.2-1.6 x z steps 0.5-2 µm")
    p.add_argument("--save", help="keep the 3-D ids in this .npy file")
    p.add_argument("--check", help="assert the 3-D ids equal those kept in this .npy file")
    args = p.parse_args()
    if args.sweep:
        sweep(args)
        return
    r = score(tuple(args.shape), args.z_step, args)
    print(
        f"{r['shape']}: {r['balls']} balls, {r['objects']} 3-D objects, F1 {r['f1']:.3f}, "
        f"joins {r['in_z']} in z, {r['in_plane']} in-plane; peak {r['peak']:.1f} B a voxel, "
        f"{r['seconds']:.2f} CPU-s"
    )
    if args.save:
        np.save(args.save, r["ids"])
    if args.check:
        assert np.array_equal(np.load(args.check), r["ids"]), "the 3-D ids differ"
        print(f"the same ids as {args.check}")


if __name__ == "__main__":
    main()
