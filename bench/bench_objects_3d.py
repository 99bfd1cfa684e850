"""Memory and time of joining a z-stack's 2-D objects into 3-D ones
(:func:`unetlab.inference.objects_3d.objects_3d`) where all nuclei touch: one group as big as
the stack, the case whose box is the largest.

A (Z, Y, X) stack of touching balls (a tissue's packed nuclei: every voxel within ``--radius``
µm of its nearest centre, centres on a jittered grid), each plane's 2-D objects the balls'
cross-sections numbered from 1 in each plane, as predict gives them. Prints the peak of the
memory numpy allocates during the joining (tracemalloc: a C library's own heap, such as the
watershed's queue, is not counted; /usr/bin/time -v's maximum resident size counts it) in
bytes per voxel of the stack, and the CPU seconds. ``--save F`` keeps the 3-D ids,
``--check F`` asserts they equal those kept (the same results after a change).

    PYTHONPATH=src python3 bench/bench_objects_3d.py --shape 40 512 512
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from scipy import ndimage

from unetlab.inference.objects_3d import objects_3d

VOXEL = (2.0, 0.5, 0.5)  # µm (z, y, x): a confocal stack's


def packed_planes(shape: tuple[int, int, int], radius: float, seed: int = 0) -> np.ndarray:
    """(Z, Y, X) int32: each plane's 2-D objects (ids from 1 in each plane) of balls packed
    so that they all touch (every voxel within ``radius`` µm of its nearest centre)."""
    rng = np.random.default_rng(seed)
    step = [max(int(1.6 * radius / v), 1) for v in VOXEL]
    grid = np.stack(np.meshgrid(*[np.arange(s // 2, n, s) for s, n in zip(step, shape)]), -1)
    centres = grid.reshape(-1, 3) + rng.integers(-1, 2, (grid.size // 3, 3))
    centres = np.clip(centres, 0, np.array(shape) - 1)
    seeds = np.ones(shape, bool)
    seeds[tuple(centres.T)] = False
    distance, (iz, iy, ix) = ndimage.distance_transform_edt(
        seeds, sampling=VOXEL, return_indices=True
    )
    label = np.zeros(shape, np.int32)
    label[tuple(centres.T)] = np.arange(1, len(centres) + 1)
    balls = np.where(distance <= radius, label[iz, iy, ix], 0)
    out = np.zeros(shape, np.int32)
    for z, plane in enumerate(balls):  # each plane's ids from 1, as predict's 2-D objects
        _, inverse = np.unique(plane, return_inverse=True)
        out[z] = inverse.reshape(plane.shape)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", type=int, nargs=3, default=[40, 512, 512], metavar=("Z", "Y", "X"))
    p.add_argument("--radius", type=float, default=5.0, help="the balls' radius in µm")
    p.add_argument("--save", help="keep the 3-D ids in this .npy file")
    p.add_argument("--check", help="assert the 3-D ids equal those kept in this .npy file")
    args = p.parse_args()
    planes = packed_planes(tuple(args.shape), args.radius)
    groups = ndimage.label(planes > 0)[1]
    tracemalloc.start()
    start = time.process_time()
    ids = objects_3d(planes, VOXEL)
    seconds = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"{args.shape}: {groups} group(s) of touching objects, {int(ids.max())} 3-D objects; "
        f"peak {peak / planes.size:.1f} B a voxel ({peak / 2**20:.0f} MiB), {seconds:.2f} CPU-s"
    )
    if args.save:
        np.save(args.save, ids)
    if args.check:
        assert np.array_equal(np.load(args.check), ids), "the 3-D ids differ"
        print(f"the same ids as {args.check}")


if __name__ == "__main__":
    main()
