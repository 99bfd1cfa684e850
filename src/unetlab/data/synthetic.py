"""Synthetic images for the demos and tests: the paper's EM task, and fluorescent nuclei.

EM (:func:`synthetic_em`):
An image is a plane of cells (a Voronoi tessellation of random points, its boundaries bent by a
smooth random warp) separated by thin dark membranes, mostly 2-4 px wide (thicker wedges where
two cell junctions come close, as in real tissue). Cells have their own grey level and a grainy
texture; some hold dark organelles (round or elongated blobs as dark as the membranes) and
small vesicles, which are cell, not membrane: a grey threshold alone cannot tell them apart, the
net must learn the shapes. Then Gaussian blur, an uneven illumination and noise. The mask is 0
on membranes and 255 in cells, the ISBI encoding.

Nuclei (:func:`synthetic_nuclei`): round and elliptic nuclei of varied size and brightness,
many in clusters where they touch or overlap (an overlap goes to the nearer nucleus, so the
two share a straight-ish border with no background between them, as pressed nuclei do).
A nucleus is brightest at its centre and dimmer at its rim, so touching pairs show the slight
dip a real pair does; then texture, blur, an uneven background and noise. The mask is a
uint16 instance map, one id per nucleus, 0 = background, as the field stores them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from unetlab.data.io import png_bytes, write_png
from unetlab.data.large_ids import id_dtype, least_ids
from unetlab.data.write import write_new
from unetlab.errors import UnetlabError

CELL_SIZE = 36.0  # mean cell diameter in px (ISBI 2012: ~100 cells per 512x512 slice)


def _shape(size: int | tuple[int, int]) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, (int, np.integer)) else size
    if h < 8 or w < 8:
        raise UnetlabError(f"synthetic images need at least 8x8 px, not {h}x{w}")
    return int(h), int(w)


def _smooth_noise(shape, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """(H, W) float32 smooth random field with zero mean and unit std."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma)
    return (field - field.mean()) / max(float(field.std()), 1e-6)


def _spread_points(
    n: int, shape: tuple[int, int], min_distance: float, rng: np.random.Generator
) -> np.ndarray:
    """Up to ``n`` (y, x) points, none closer than ``min_distance`` (dart throwing), (k, 2).

    Two close centres would make a cell thinner than its membranes: a black smear.
    """
    h, w = shape
    candidates = rng.uniform((-4, -4), (h + 4, w + 4), size=(3 * n, 2))
    kept = np.empty((n, 2))
    k = 0
    for p in candidates:
        if k and np.min(np.sum((kept[:k] - p) ** 2, axis=1)) < min_distance**2:
            continue
        kept[k] = p
        k += 1
        if k == n:
            break
    return kept[: max(k, 2)] if k >= 2 else candidates[:2]


def cell_tessellation(
    shape: tuple[int, int], rng: np.random.Generator, *, cell_size: float = CELL_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Warped Voronoi cells: (cell id (H, W) int32 from 0, membrane (H, W) bool).

    A pixel is membrane where its (warped) distances to the nearest and the second nearest
    cell centre differ by less than the local membrane width (2-4 px, varying smoothly):
    ``d2 - d1`` grows by 2 per px away from the boundary, so the band is that wide.
    """
    h, w = shape
    n = max(2, int(round(h * w / cell_size**2 * rng.uniform(0.8, 1.25))))
    centres = _spread_points(n, (h, w), 0.55 * cell_size, rng)
    warp = 0.12 * cell_size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy += warp * _smooth_noise(shape, cell_size / 3, rng)
    xx += warp * _smooth_noise(shape, cell_size / 3, rng)
    dist, nearest = cKDTree(centres).query(np.stack([yy.ravel(), xx.ravel()], 1), k=2)
    width = 3.0 + 0.9 * np.clip(_smooth_noise(shape, 8.0, rng), -1.2, 1.2)  # 2-4 px
    membrane = (dist[:, 1] - dist[:, 0]).reshape(shape) < width
    return nearest[:, 0].reshape(shape).astype(np.int32), membrane


def _illumination(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """(H, W) float32 slow brightness variation (a 4x4 random grid, cubic-interpolated)."""
    coarse = rng.standard_normal((4, 4)).astype(np.float32)
    zoom = (shape[0] / 4, shape[1] / 4)
    field = ndimage.zoom(coarse, zoom, order=3, mode="nearest", grid_mode=True)
    return field[: shape[0], : shape[1]] / 2


def _organelles(
    cells: np.ndarray, membrane: np.ndarray, rng: np.random.Generator, cell_size: float
) -> np.ndarray:
    """(H, W) bool dark blobs inside cells, at least 2 px away from every membrane."""
    h, w = cells.shape
    inside = ndimage.distance_transform_edt(~membrane) > 2.5
    yy, xx = np.mgrid[0:h, 0:w]
    blobs = np.zeros((h, w), bool)
    n = int(rng.poisson(h * w / cell_size**2 * 0.6))
    for _ in range(n):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        if not inside[int(cy), int(cx)]:
            continue
        elongated = rng.random() < 0.4
        a = rng.uniform(3.0, 0.2 * cell_size) if elongated else rng.uniform(2.5, 0.15 * cell_size)
        b = rng.uniform(1.8, 3.0) if elongated else a * rng.uniform(0.7, 1.0)
        t = rng.uniform(0, np.pi)
        r = int(a) + 2
        y0, y1, x0, x1 = (
            max(int(cy) - r, 0),
            min(int(cy) + r + 1, h),
            max(int(cx) - r, 0),
            min(int(cx) + r + 1, w),
        )
        dy, dx = yy[y0:y1, x0:x1] - cy, xx[y0:y1, x0:x1] - cx
        u, v = dy * np.cos(t) + dx * np.sin(t), -dy * np.sin(t) + dx * np.cos(t)
        same_cell = cells[y0:y1, x0:x1] == cells[int(cy), int(cx)]
        blobs[y0:y1, x0:x1] |= (
            ((u / a) ** 2 + (v / b) ** 2 <= 1.0) & same_cell & inside[y0:y1, x0:x1]
        )
    return blobs


def synthetic_em(
    size: int | tuple[int, int], rng: np.random.Generator | int, *, cell_size: float = CELL_SIZE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One EM-like image with its labels.

    Args:
        size: side (square) or (H, W), at least 8 px.
        rng: e.g. ``np.random.default_rng(seed)``, or the seed itself; the same state gives
            the same image.
        cell_size: mean cell diameter in px.

    Returns:
        image (H, W) uint8 grey; mask (H, W) uint8, 0 = membrane, 255 = cell (ISBI's
        encoding); instances (H, W) uint16, 1..N per cell, 0 on membranes (uint32 past
        65,535: :func:`~unetlab.data.large_ids.id_dtype`, as every function's object ids).
    """
    shape = _shape(size)
    rng = np.random.default_rng(rng)  # a seed: "'int' object has no attribute" (s42 api)
    cells, membrane = cell_tessellation(shape, rng, cell_size=cell_size)
    organelles = _organelles(cells, membrane, rng, cell_size)

    n = int(cells.max()) + 1
    cell_grey = rng.uniform(0.5, 0.8, n).astype(np.float32)
    dark_cells = rng.random(n) < 0.12  # a few dark cells (glia-like)
    cell_grey[dark_cells] = rng.uniform(0.32, 0.45, int(dark_cells.sum()))
    image = cell_grey[cells] + 0.05 * _smooth_noise(shape, 1.5, rng)
    image += 0.04 * _smooth_noise(shape, 4.0, rng)
    vesicles = (_smooth_noise(shape, 1.2, rng) > 2.6) & ~membrane
    image[vesicles] -= 0.2
    dark = 0.18 + 0.05 * _smooth_noise(shape, 6.0, rng)
    image = np.where(membrane | organelles, dark, image)
    image = ndimage.gaussian_filter(image, rng.uniform(0.8, 1.3))
    image *= 1.0 + 0.12 * _illumination(shape, rng)
    image += rng.normal(0.0, 0.07, shape).astype(np.float32)
    image = image * rng.uniform(0.85, 1.15) + rng.uniform(-0.06, 0.06)  # per-image contrast
    image_u8 = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)

    mask = np.where(membrane, 0, 255).astype(np.uint8)
    ids = np.zeros(n + 1, np.int32)  # cell id -> 1..N in order of appearance; membranes 0
    present = np.unique(cells[~membrane])
    ids[present] = np.arange(1, len(present) + 1, dtype=np.int32)
    instances = least_ids(np.where(membrane, 0, ids[cells]))
    return image_u8, mask, instances


def write_synthetic_dataset(
    root: str | os.PathLike, *, n_train: int = 24, n_val: int = 6, size: int = 256, seed: int = 0
) -> Path:
    """Write ``root/{train,val}/{images,masks}/NN.png`` (masks 0/255); returns ``root``.

    Train and val images come from one seeded stream: the same arguments write the same files.
    An existing file of those names is never replaced (OutputError, nothing written); one
    that holds what it would get is left as it is: the same call again (a notebook cell run
    twice, or again after Ctrl-C) writes only what is missing.
    """
    root = Path(root)

    def draw():  # train's pairs, then val's, of one stream
        rng = np.random.default_rng(seed)
        return (synthetic_em(size, rng) for _ in range(n_train + n_val))

    _write_pairs(root, {"train": n_train, "val": n_val}, draw, "write_synthetic_dataset")
    return root


def write_synthetic_split(folder: str | os.PathLike, n: int, size: int, rng) -> None:
    """Write ``n`` synthetic pairs as ``folder/{images,masks}/NN.png`` (masks 0/255), drawn
    from ``rng`` (a ``numpy.random.Generator``); an existing file of those names is refused
    (OutputError) before any is written, but one that holds what it would get (left as it
    is)."""
    folder, start = Path(folder), rng.bit_generator.state

    def draw():  # from where rng was each time: the last leaves it after the n pairs
        rng.bit_generator.state = start
        return (synthetic_em(size, rng) for _ in range(n))

    _write_pairs(folder.parent, {folder.name: n}, draw, "write_synthetic_split")


def _write_pairs(root: Path, splits: dict[str, int], draw: Callable, writer: str) -> None:
    """Write the pairs ``draw()`` yields, (image, mask, ...) in turn, as
    ``root/SPLIT/{images,masks}/NN.png``, the number of each split of ``splits`` in order,
    a pair in memory at a time (:func:`~unetlab.data.write.write_new`: ``draw`` gives the
    same pairs each call)."""
    paths = [
        root / split / sub / f"{i:02d}.png"
        for split, n in splits.items()
        for i in range(n)
        for sub in ("images", "masks")
    ]

    def contents():
        for pair in draw():
            yield from (partial(png_bytes, array) for array in pair[:2])

    write_new(paths, contents, writer)


def write_synthetic_image(
    path: str | os.PathLike, size: int | tuple[int, int], seed: int
) -> np.ndarray:
    """Write one (large) synthetic image as PNG at ``path``; returns the image (H, W) uint8."""
    image, _, _ = synthetic_em(size, np.random.default_rng(seed))
    write_png(path, image)
    return image


# --- nuclei ------------------------------------------------------------------------------

NUCLEUS_RADIUS = (5.0, 10.0)  # px, the range of the mean radius of a nucleus
DENSITY = 0.35  # the fraction of an image its nuclei would cover without overlaps


def _nucleus_centres(
    shape: tuple[int, int], rng: np.random.Generator, radius: tuple[float, float], density: float
) -> tuple[np.ndarray, np.ndarray]:
    """(k, 2) centres and (k,) radii: clusters grown from seeds, each new nucleus placed at
    0.75-1.0 times the sum of the radii from a member (touching or overlapping it), and
    never closer than 0.6 times that sum to any other, so none is swallowed."""
    n, h, w = _most_nuclei(shape, radius, density), *shape
    centres, radii = [], []
    grid: dict[tuple[int, int], list[int]] = {}  # cell -> the nuclei centred in it
    # a nucleus too close to c (under 0.6 x 2 x radius[1]) lies in c's cell or one beside
    # it; the margin keeps rounding at that distance inside
    cell = 1.25 * radius[1]
    for _ in range(6 * n):
        if len(centres) == n:
            break
        r = rng.uniform(*radius)
        if centres and rng.random() < 0.75:  # next to a nucleus already placed
            j = int(rng.integers(len(centres)))
            angle = rng.uniform(0, 2 * np.pi)
            d = (radii[j] + r) * rng.uniform(0.75, 1.0)
            c = centres[j] + d * np.array([np.sin(angle), np.cos(angle)])
        else:
            c = rng.uniform((0, 0), (h, w))
        if not (-r / 2 <= c[0] < h + r / 2 and -r / 2 <= c[1] < w + r / 2):
            continue
        near = [k for key in _cells_around(c, cell) for k in grid.get(key, ())]
        if near:  # only these can lie closer than 0.6 x the sum of the radii
            others = np.asarray([centres[k] for k in near])
            gaps = np.hypot(*(others - c).T) / (np.asarray([radii[k] for k in near]) + r)
            if gaps.min() < 0.6:
                continue
        grid.setdefault(_cells_around(c, cell)[4], []).append(len(centres))
        centres.append(c)
        radii.append(r)
    return np.asarray(centres, float).reshape(-1, 2), np.asarray(radii, float)


def _refuse_bad_radius(radius: tuple[float, float]) -> None:
    """UnetlabError unless ``radius`` is (min, max) px, finite, with 1 <= min <= max (s61
    user: (0, 0) divided by zero, (10, 5) and NaN raised numpy's errors, (-2, 5) drew
    negative radii; review: (0.001, 0.001) aimed at 456 million nuclei in 64 px and never
    returned, (5, inf) overflowed numpy, and under about 1.1 px every nucleus is smaller
    than the 4 px an object keeps)."""
    lo, hi = radius
    if not (np.isfinite(hi) and 1 <= lo <= hi):
        raise UnetlabError(
            f"radius is (min, max) px with 1 <= min <= max, not ({lo}, {hi}): e.g. {NUCLEUS_RADIUS}"
        )


def _cells_around(c: np.ndarray, cell: float) -> list[tuple[int, int]]:
    """The 3 x 3 grid cells (of side ``cell``) around the point ``c``, its own the 5th."""
    y, x = int(c[0] // cell), int(c[1] // cell)
    return [(y + dy, x + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def _most_nuclei(shape: tuple[int, int], radius: tuple[float, float], density: float) -> int:
    """The number of nuclei :func:`synthetic_nuclei` places at most in an image of ``shape``
    (those it cannot place, or an overlap swallows, are left out)."""
    mean_r = sum(radius) / 2
    return max(1, int(round(density * shape[0] * shape[1] / (np.pi * mean_r**2))))


def _paint_nuclei(
    shape: tuple[int, int], centres: np.ndarray, radii: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(owner (H, W) int32, 0 = background, k = nucleus k; rho (H, W) float32, the owner's
    elliptic distance: 0 at its centre, 1 on its rim). A pixel inside several ellipses goes
    to the one it is relatively nearest to (smallest rho)."""
    h, w = shape
    owner = np.zeros(shape, np.int32)
    rho = np.full(shape, np.inf, np.float32)
    for k, ((cy, cx), r) in enumerate(zip(centres, radii), start=1):
        a, b = r * rng.uniform(1.0, 1.35), r * rng.uniform(0.75, 1.0)  # elliptic, area ~r^2
        t = rng.uniform(0, np.pi)
        reach = int(np.ceil(a)) + 1
        y0, y1 = max(int(cy) - reach, 0), min(int(cy) + reach + 1, h)
        x0, x1 = max(int(cx) - reach, 0), min(int(cx) + reach + 1, w)
        if y0 >= y1 or x0 >= x1:
            continue
        dy, dx = np.ogrid[y0:y1, x0:x1]
        dy, dx = dy - cy, dx - cx
        u, v = dy * np.cos(t) + dx * np.sin(t), -dy * np.sin(t) + dx * np.cos(t)
        wobble = 1 + 0.06 * np.sin(3 * np.arctan2(v, u) + rng.uniform(0, 2 * np.pi))
        d = np.sqrt((u / a) ** 2 + (v / b) ** 2) / wobble
        nearer = (d <= 1) & (d < rho[y0:y1, x0:x1])
        owner[y0:y1, x0:x1][nearer] = k
        rho[y0:y1, x0:x1][nearer] = d[nearer]
    return owner, rho


def _nucleus_ids(owner: np.ndarray, min_area: int) -> np.ndarray:
    """(H, W) ids 1..n in raster order of the nuclei kept (:func:`~unetlab.data.large_ids.
    id_dtype` of n: uint16, past 65,535 uint32): each nucleus's largest 4-connected piece, if
    at least ``min_area`` px (an overlap can cut a sliver off)."""
    ids = np.zeros(owner.shape, id_dtype(int(owner.max(initial=0))))  # n at most
    n = 0
    for k, where in enumerate(ndimage.find_objects(owner), start=1):
        if where is None:
            continue
        pieces, count = ndimage.label(owner[where] == k)
        if count == 0:
            continue
        sizes = np.bincount(pieces.ravel())[1:]
        if sizes.max() < min_area:
            continue
        n += 1
        ids[where][pieces == 1 + int(sizes.argmax())] = n
    # renumber in raster order of first pixels (background stays 0, wherever it starts)
    values, first = np.unique(ids, return_index=True)
    first = first[values > 0]
    order = np.zeros(n + 1, id_dtype(n))
    order[ids.ravel()[np.sort(first)]] = np.arange(1, len(first) + 1)
    return order[ids]


def synthetic_nuclei(
    size: int | tuple[int, int],
    rng: np.random.Generator | int,
    *,
    radius: tuple[float, float] = NUCLEUS_RADIUS,
    density: float = DENSITY,
    bit_depth: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """One fluorescence-like image of nuclei with its instance mask.

    Args:
        size: side (square) or (H, W), at least 8 px.
        rng: e.g. ``np.random.default_rng(seed)``, or the seed itself; the same state gives
            the same image.
        radius: (min, max) mean nucleus radius in px.
        density: the fraction of the image the nuclei would cover without overlaps.
        bit_depth: 8 (uint8 image) or 16 (uint16, using about a sixteenth of the range, as
            a 12-bit camera's images do).

    Returns:
        image (H, W) uint8 or uint16; instances (H, W) uint16 (uint32 past 65,535 nuclei:
        :func:`~unetlab.data.large_ids.id_dtype`), one id 1..n per nucleus in raster order
        of their first pixels, 0 = background.
    """
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth is 8 or 16, not {bit_depth}")
    shape = _shape(size)
    _refuse_bad_radius(radius)
    rng = np.random.default_rng(rng)  # a seed too, as synthetic_em takes one (s61 user)
    centres, radii = _nucleus_centres(shape, rng, radius, density)
    owner, rho = _paint_nuclei(shape, centres, radii, rng)
    ids = _nucleus_ids(owner, min_area=max(4, int(0.25 * np.pi * radius[0] ** 2)))

    brightness = rng.uniform(0.3, 1.0, int(owner.max()) + 1).astype(np.float32)
    inside = ids > 0
    profile = np.where(inside, 1.0 - 0.45 * np.minimum(rho, 1.0) ** 2, 0.0)
    image = brightness[owner] * profile * (1.0 + 0.12 * _smooth_noise(shape, 1.5, rng))
    image = ndimage.gaussian_filter(image * inside, rng.uniform(0.8, 1.3))
    background = 0.12 + 0.06 * _illumination(shape, rng)
    image = image * (1.0 + 0.2 * _illumination(shape, rng)) + background
    image += rng.normal(0.0, 0.035, shape).astype(np.float32)
    scale, top = (200.0, 255) if bit_depth == 8 else (3500.0, 65535)
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    return np.clip(image * scale + 0.5, 0, top).astype(dtype), ids


def write_nuclei_dataset(
    root: str | os.PathLike,
    *,
    n_train: int = 16,
    n_val: int = 4,
    n_test: int = 0,
    size: int = 256,
    seed: int = 0,
    bit_depth: int = 8,
    **options,
) -> Path:
    """Write ``root/{train,val[,test]}/{images,masks}/NN.png``: images (uint8 or uint16) and
    uint16 instance masks (refused, before any file, where an image may hold more than
    65,535 nuclei); returns ``root``. ``options`` go to :func:`synthetic_nuclei`.

    Each split has its own seeded stream (``seed``, ``seed + 1``, ``seed + 2``), so held-out
    images never repeat a training one and the same arguments write the same files. An
    existing file of those names is never replaced (OutputError, nothing written); one that
    holds what it would get is left as it is (the same call again writes what is missing).
    """
    root = Path(root)
    splits = {"train": n_train, "val": n_val, "test": n_test}
    _refuse_unwritable_ids(size, options)

    def draw():  # each split of its own stream
        for offset, n in enumerate(splits.values()):
            rng = np.random.default_rng([seed, offset])
            for _ in range(n):
                yield synthetic_nuclei(size, rng, bit_depth=bit_depth, **options)

    _write_pairs(root, splits, draw, "write_nuclei_dataset")
    return root


def _refuse_unwritable_ids(size: int | tuple[int, int], options: dict) -> None:
    """UnetlabError, before any file, where an image of ``size`` may hold more nuclei than a
    16-bit PNG mask has ids (65,535; s53 reviewB: uint32 ids were written wrapped)."""
    radius, density = options.get("radius", NUCLEUS_RADIUS), options.get("density", DENSITY)
    _refuse_bad_radius(radius)
    if (most := _most_nuclei(_shape(size), radius, density)) > np.iinfo(np.uint16).max:
        raise UnetlabError(
            f"write_nuclei_dataset: an image of size {size} at density {density} may hold "
            f"{most:,} nuclei, more than a 16-bit PNG mask has ids (65,535): give a smaller "
            "size or density, or larger radius"
        )
