"""scikit-image's ``h_maxima`` and scipy's ``distance_transform_edt`` of a 3-D stack: the
same voxels and the same float64 values, in a fraction of their memory
(:func:`~unetlab.inference.objects_3d.objects_3d` runs both over a group of touching nuclei,
as big as the stack where they are packed).

``h_maxima(image, h)`` reconstructs ``image - h`` (less a rounding allowance) by dilation under
``image`` and keeps the voxels where ``image`` lies ``h`` or more above the reconstruction.
That reconstruction sorts the whole image twice and keeps linked lists of it: about 120 bytes
a voxel of a float64 image. The reconstruction at a voxel ``x`` lies above a level ``t``
exactly when some voxel ``y`` with a shifted value above ``t`` joins ``x`` through voxels
(26-connected) all above ``t``. So ``x`` is an h-maximum when, at the highest ``t`` its test
allows (``image[x] - t >= h`` in float64), the voxels above ``t`` connected to it hold no
shifted value above ``t``: a local question, asked of the few voxels that no neighbour rules
out, in small boxes around all of them at once, then in a box around each left grown until
the connected voxels end inside it (:func:`h_maxima_float`). ``distance_transform_edt`` holds its nearest background voxels
(12 bytes a voxel), their offsets twice and as float64 (36 more) and their squares;
:func:`distance_edt` sums the same squares slab by slab.
"""

from __future__ import annotations

import numpy as np

from unetlab.deferred import deferred

ndimage = deferred("scipy.ndimage")

__all__ = ["distance_edt", "h_maxima_float"]

#: scikit-image's rounding allowance: each value is lowered by this share of it besides ``h``
ALLOWANCE = 2 * np.finfo(np.float64).resolution
SLAB = 2**20  # voxels worked on at a time (whole planes): a slab's memory, not the stack's
FEW = 4  # at most this many joined voxels in its 3 x 3 x 3 box: a candidate's next is 5 x 5 x 5
FIRST_REACH = 4  # voxels each side of a candidate in its first box (doubled while too small)
CUBE = np.ones((3, 3, 3), bool)
CUBES = np.stack([np.zeros_like(CUBE), CUBE, np.zeros_like(CUBE)])  # 26-connected in each cube


def distance_edt(inside: np.ndarray, sampling: tuple[float, ...]) -> np.ndarray:
    """``scipy.ndimage.distance_transform_edt(inside, sampling=sampling)``: each voxel's
    distance to the nearest voxel outside ``inside`` (bool), float64, the same values (its
    arithmetic, step for step: offsets to the nearest outside voxel times ``sampling``,
    squared and summed in axis order), in 21 bytes a voxel, not about 57."""
    sampling = np.asarray(sampling, np.float64)
    nearest = np.zeros((inside.ndim, *inside.shape), np.int32)
    ndimage.distance_transform_edt(
        inside, sampling=sampling, return_distances=False, return_indices=True, indices=nearest
    )
    out = np.empty(inside.shape, np.float64)
    step = _planes(inside.shape)
    for start in range(0, len(inside), step):
        part = slice(start, start + step)
        grid = np.indices(out[part].shape, dtype=np.int32)
        grid[0] += start
        total = None
        for axis, scale in enumerate(sampling):
            offset = (nearest[axis, part] - grid[axis]).astype(np.float64)
            offset *= scale
            np.multiply(offset, offset, offset)
            total = offset if total is None else np.add(total, offset, out=total)
        np.sqrt(total, out=out[part])
    return out


def _planes(shape: tuple[int, ...]) -> int:
    """How many planes of a stack of ``shape`` make a slab of about :data:`SLAB` voxels."""
    return max(SLAB // max(int(np.prod(shape[1:])), 1), 1)


def h_maxima_float(image: np.ndarray, h: float) -> np.ndarray:
    """(Z, Y, X) bool: the voxels ``skimage.morphology.h_maxima(image, h)`` marks (its
    default 26-connectivity), for a float64 ``image`` and ``h`` > 0, each the same, in
    memory of a few bytes a voxel (the module's docstring)."""
    if image.dtype != np.float64 or image.ndim != 3 or not h > 0:
        raise ValueError(f"a 3-D float64 image and h > 0, not {image.dtype} {image.shape}, {h}")
    out = np.zeros(image.shape, bool)
    if h > np.ptp(image):  # as h_maxima: no maxima
        return out
    todo = _candidates(image, h, out)
    where = np.argwhere(todo)
    levels = _levels(image[tuple(where.T)], h)
    _settle_small(image, todo, out, where, levels, h)
    where, levels = _still(todo, where, levels)
    _settle_plateaus(image, todo, out, where, levels, h)
    where, levels = _still(todo, where, levels)
    where = where.tolist()
    for k in np.argsort(-levels, kind="stable").tolist():  # the highest first
        at = tuple(where[k])
        if todo[at]:
            _settle(image, todo, out, at, float(levels[k]), h)
    return out


def _settle_small(image, todo, out, where: np.ndarray, levels: np.ndarray, h: float) -> None:
    """Settles the candidates (at ``where``, of ``levels``) that a 3 x 3 x 3 box around
    each settles, then (those with at most :data:`FEW` voxels joined in it: a small peak's,
    not a plateau's) a 5 x 5 x 5 one (:func:`_settle_near`)."""
    joined = _settle_near(image, todo, out, where, levels, h, 1)
    few = todo[tuple(where.T)] & (joined <= FEW)
    _settle_near(image, todo, out, where[few], levels[few], h, 2)


def _still(todo: np.ndarray, where: np.ndarray, levels: np.ndarray) -> tuple:
    """The candidates of ``where`` (and their ``levels``) still to settle in ``todo``."""
    left = todo[tuple(where.T)]
    return where[left], levels[left]


def _settle_plateaus(
    image: np.ndarray, todo: np.ndarray, out: np.ndarray, where: np.ndarray, levels, h: float
) -> None:
    """Settles at once the candidates left (all of ``todo``: at ``where``, of ``levels``) of
    each set of them joined (26-connected) all of one level whose middle one's box holding
    the set (:func:`_middles`) settles it (:func:`_settle_near`): the candidates of such a set
    lie above that level, so the same voxels join each, and each gets that one's answer. A
    plateau (a flat top) is such a set; a box labelled each took 5x skimage's time on
    plateaus of 2 x 4 x 4 voxels."""
    if not len(where):
        return
    inside = tuple(slice(a, b) for a, b in zip(where.min(axis=0), where.max(axis=0) + 1))
    sets = ndimage.label(todo[inside], CUBE, output=np.int32)[0][todo[inside]]  # as ``where``
    chosen, reach = _middles(where, levels, sets)
    for r in np.unique(reach).tolist():
        near = chosen[reach == r]
        _settle_near(image, todo, out, where[near], levels[near], h, r)
    settled = np.zeros(int(sets.max()) + 1, bool)
    answer = np.zeros_like(settled)
    spots = tuple(where[chosen].T)
    settled[sets[chosen]], answer[sets[chosen]] = ~todo[spots], out[spots]
    mine = settled[sets]
    spots = tuple(where[mine].T)
    out[spots], todo[spots] = answer[sets[mine]], False


def _middles(where: np.ndarray, levels: np.ndarray, sets: np.ndarray) -> tuple:
    """Of each of the ``sets`` (each candidate's, 1..k) whose candidates (at ``where``, of
    ``levels``) are all of one level: the one nearest the middle of their bounding box
    (index into ``where``), and the reach of the least box around it that holds them and
    a voxel more each side (:data:`FIRST_REACH` at most). A candidate's array or two at a
    time."""
    n, k = len(where), int(sets.max()) + 1
    low = np.full((k, where.shape[1]), np.iinfo(np.int64).max)
    high = np.full((k, where.shape[1]), -1)
    off = np.zeros(n, np.int64)  # twice the (Chebyshev) distance to its set's middle
    for axis in range(where.shape[1]):
        np.minimum.at(low[:, axis], sets, where[:, axis])
        np.maximum.at(high[:, axis], sets, where[:, axis])
        c = where[:, axis] * 2
        c -= (low[:, axis] + high[:, axis])[sets]
        np.maximum(off, np.abs(c, out=c), out=off)
    del c
    off *= n
    off += np.arange(n)
    best = np.full(k, np.iinfo(np.int64).max)
    np.minimum.at(best, sets, off)  # the nearest of each set, the first of equals
    del off
    least, most = np.full(k, np.inf), np.full(k, -np.inf)
    np.minimum.at(least, sets, levels)
    np.maximum.at(most, sets, levels)
    one = np.flatnonzero((least == most) & (high[:, 0] >= 0))
    chosen = best[one] % n
    at, low, high = where[chosen], low[one], high[one]
    extent = np.maximum(at - low, high - at).max(axis=1, initial=0)
    return chosen, np.minimum(extent + 1, FIRST_REACH)


def _settle_near(
    image: np.ndarray,
    todo: np.ndarray,
    out: np.ndarray,
    where: np.ndarray,
    levels,
    h: float,
    reach: int,
) -> np.ndarray:
    """Settles at once the candidates (at ``where``, of ``levels``) whose voxels above their
    level joined to them in a box ``reach`` voxels each side of each (:func:`_joined_near`)
    hold a shifted value above it (no h-maximum) or end inside the box (an h-maximum where
    none does): :func:`_alone_above`'s answer, which needs no other candidate's. A box
    labelled each took 40-60x skimage's time on a lattice of single-voxel peaks, 8-12x on
    2-voxel ones. So many candidates a time that their boxes hold a sixteenth of a slab's
    voxels. Returns how many voxels each candidate's box joined to it."""
    box = np.ones((2 * reach + 1,) * 3, bool)
    offsets = np.argwhere(box) - reach
    box[1:-1, 1:-1, 1:-1] = False  # its sides
    step, sizes = max(SLAB // (16 * len(offsets)), 1), []
    for start in range(0, len(where), step):
        at, level = where[start : start + step], levels[start : start + step]
        joined, values = _joined_near(image, at, level, offsets)
        high = np.where(joined, _shifted(values, h), -np.inf).max(axis=1) > level
        settled = high | ~(joined & box.ravel()).any(axis=1)
        spots = tuple(at[settled].T)
        out[spots] = ~high[settled]
        todo[spots] = False
        sizes.append(joined.sum(axis=1))
    return np.concatenate(sizes) if sizes else np.zeros(0, np.int64)


def _joined_near(image: np.ndarray, at: np.ndarray, level: np.ndarray, offsets: np.ndarray):
    """(n, m) bool and float64: of each of the n voxels ``at`` and the m ``offsets`` around
    it (a cube, the voxel in its middle), whether the voxel there joins it (26-connected)
    through voxels above its ``level`` in the cube, and the value there (-inf off the
    image)."""
    coords = at[:, None, :] + offsets  # (n, m, 3)
    inside = np.all((coords >= 0) & (coords < image.shape), axis=2)
    np.clip(coords, 0, np.array(image.shape) - 1, out=coords)
    values = np.where(inside, image[tuple(np.moveaxis(coords, 2, 0))], -np.inf)
    side = round(len(offsets) ** (1 / 3))
    above = (values > level[:, None]).reshape(-1, side, side, side)
    if side == 3:  # all are the middle's neighbours (the middle lies above its level)
        joined = above
    else:  # each cube labelled on its own
        labels = ndimage.label(above, CUBES)[0]
        middle = side // 2
        joined = labels == labels[:, middle, middle, middle, None, None, None]
    return joined.reshape(len(at), -1), values


def _settle(
    image: np.ndarray, todo: np.ndarray, out: np.ndarray, at: tuple, level: float, h: float
) -> None:
    """Marks in ``out`` whether the candidate ``at`` (of ``level``) is an h-maximum
    (:func:`_alone_above`) and clears it in ``todo``, with the candidates its answer settles:
    those of the voxels joined to it of a level as high or lower where a shifted value above
    its level lies among them (the candidates are taken highest first, so all left), those of
    the same level where none does (the same voxels join them)."""
    alone, box, joined = _alone_above(image, at, level, h)
    near = todo[box] & joined
    if alone:
        spots = np.argwhere(near)
        same = _levels(image[box][near], h) == level
        view = out[box]
        view[tuple(spots[same].T)] = True
        near[tuple(spots[~same].T)] = False
    todo[box][near] = False
    out[at] |= alone
    todo[at] = False


def _shifted(values: np.ndarray, h: float) -> np.ndarray:
    """The values h_maxima reconstructs: ``values - h``, less its rounding allowance (its
    arithmetic, step for step)."""
    return values - h - ALLOWANCE * np.abs(values)


def _candidates(image: np.ndarray, h: float, out: np.ndarray) -> np.ndarray:
    """bool: the voxels no neighbour rules out. The reconstruction at ``x`` is at least the
    shifted value of ``x`` and, for each neighbour ``y``, the least of its shifted value,
    its value and that of ``x``; where ``image`` is not ``h`` above that bound, not above the
    reconstruction either. Those whose level lies below the image's least value (all voxels
    join them: the background of a box) are settled here, in ``out``: maxima where no
    shifted value lies above their level. Slab by slab, with the planes beside each."""
    least, top = float(image.min()), _top(image, h)
    todo = np.zeros(image.shape, bool)
    step = _planes(image.shape)
    for start in range(0, len(image), step):
        low, high = max(start - 1, 0), min(start + step + 1, len(image))
        values = image[low:high]
        shifted = _shifted(values, h)
        near = ndimage.maximum_filter(
            np.minimum(shifted, values), size=3, mode="constant", cval=-np.inf
        )
        keep = (values - np.maximum(shifted, np.minimum(near, values))) >= h
        inside = slice(start - low, start - low + step)
        keep, values = keep[inside], values[inside]
        everywhere = keep & ((values - least) < h)  # its level is below ``least``
        out[start : start + step] = everywhere & ((values - top) >= h)  # and at ``top`` or above
        todo[start : start + step] = keep & ~everywhere
    return todo


def _top(image: np.ndarray, h: float) -> float:
    """The highest shifted value of ``image``, slab by slab."""
    step = _planes(image.shape)
    return max(float(_shifted(image[s : s + step], h).max()) for s in range(0, len(image), step))


def _levels(values: np.ndarray, h: float) -> np.ndarray:
    """For each value ``v``, the highest float64 ``t`` with ``v - t >= h`` (h_maxima's test
    of a reconstruction ``t`` at ``v``, rounded as it rounds), by halving a bracket of it:
    ``v - t`` only falls as ``t`` rises, rounded or not."""
    span = 4 * np.spacing(np.maximum(np.abs(values), h))
    low, high = values - h - span, values - h + span
    while not np.all(values - low >= h):  # widen until it brackets (it does at once)
        low = np.where(values - low >= h, low, low - span)
    while np.any(values - high >= h):
        high = np.where(values - high >= h, high + span, high)
    while np.any(np.nextafter(low, np.inf) < high):
        middle = low + (high - low) / 2
        ok = values - middle >= h
        low, high = np.where(ok, middle, low), np.where(ok, high, middle)
    return low


def _alone_above(image: np.ndarray, at: tuple[int, ...], level: float, h: float) -> tuple:
    """(whether, the box, the voxels joined in it): whether the voxels above ``level``
    connected to ``at`` (26-connected) hold no shifted value above ``level``: ``at`` is then
    an h-maximum. In a box around ``at``, doubled while those voxels reach a side of it that
    is not the image's, and left as soon as one such value is found (the voxels in the box
    are some of those connected)."""
    reach = FIRST_REACH
    while True:
        box = tuple(
            slice(max(a - reach, 0), min(a + reach + 1, n)) for a, n in zip(at, image.shape)
        )
        values = image[box]
        labels, _ = ndimage.label(values > level, CUBE)
        joined = labels == labels[tuple(a - s.start for a, s in zip(at, box))]
        if _shifted(values[joined], h).max() > level:
            return False, box, joined
        if not _open_side(joined, box, image.shape):
            return True, box, joined
        reach *= 2


def _open_side(joined: np.ndarray, box: tuple[slice, ...], shape: tuple[int, ...]) -> bool:
    """Whether ``joined`` (bool over ``box``) reaches a side of the box inside the image, so
    that voxels beyond it may join."""
    for axis, (s, n) in enumerate(zip(box, shape)):
        faces = np.moveaxis(joined, axis, 0)
        if (s.start > 0 and faces[0].any()) or (s.stop < n and faces[-1].any()):
            return True
    return False
