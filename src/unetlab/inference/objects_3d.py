"""Objects of a z-stack in 3-D: one id per nucleus across its planes, and their table.

The net sees one plane at a time, and :func:`~unetlab.inference.objects.objects_from_probabilities`
gives each plane its 2-D objects (seeded, filled, split at their necks, small ones dropped).
:func:`objects_3d` joins them into 3-D objects: a watershed of the stacked planes' objects
on their 3-D distance transform, in micrometres (the z spacing apart from the pixel size:
anisotropic), seeded at its maxima that rise :data:`~unetlab.inference.objects.SPLIT_DEPTH`
of the object's largest distance above the saddle (as the 2-D distance split), and at
least a pixel. The seams
between touching 2-D objects of a plane are valleys of that distance, so nuclei side by side
stay apart where the planes split them (in two planes or more: :func:`lasting`, or
:func:`parted` where the seam moved between planes); a plane that
alone split one nucleus in two (a nucleolus, a dim patch) is joined back, having one maximum; two nuclei one above
the other part at their neck in z, where linking planes by overlap would chain them into one.

:func:`table_3d` measures them: one row per 3-D object.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np

from unetlab.data.large_ids import compact_large_ids, least_ids
from unetlab.data.nodata import touched_ids
from unetlab.data.read_notes import note_alike
from unetlab.data.tiffmeta import Z_SPACING, PageAxes
from unetlab.deferred import deferred
from unetlab.errors import Spelled, UnetlabError, said_as, spelled
from unetlab.inference.lean import distance_edt, h_maxima_float
from unetlab.inference.measure import check_z_spacing, named_columns, pixel_pair
from unetlab.inference.merged_objects import DISTANCE_SPLIT
from unetlab.inference.objects import (
    SPLIT_DEPTH,
    SPLIT_MIN_DEPTH,
    SPLIT_SMOOTH,
    ObjectOptions,
    compact,
    no_class_cuts,
    no_class_pixels,
    object_classes,
    objects_int32,
    several_object_classes,
    voting_labels,
)
from unetlab.inference.pages import OBJECTS_3D
from unetlab.inference.predict import FEW_CHANNELS, labels_from_probabilities, predict_image
from unetlab.inference.records import flat_axes
from unetlab.inference.table_extras import with_saturation
from unetlab.words import numbered

segmentation = deferred("skimage.segmentation")

ndimage = deferred("scipy.ndimage")

log = logging.getLogger(__name__)

__all__ = [
    "check_planes",
    "class_totals",
    "classes_table",
    "refuse_joined_splits",
    "classes_3d",
    "rejoined",
    "flat_inputs",
    "say_flat",
    "flag_cut_3d",
    "frame_pages",
    "frame_tables_3d",
    "lasting",
    "objects_3d",
    "objects_by_frame",
    "parted",
    "predict_objects_3d",
    "seams",
    "table_3d",
    "say_cubes",
    "table_voxel",
    "voxel_size",
    "with_classes_3d",
]


def check_planes(axes: PageAxes) -> PageAxes | None:
    """The pages' ``axes`` of an image as 3-D objects span them: pages that record no axes
    ("Q") are its planes, as read (said by :func:`~unetlab.inference.pages.say_no_axes`);
    None where it has no Z axis (one 2-D image, a movie's frames): its objects are 2-D, as
    without ``objects_3d`` (:func:`say_flat` says so once a run)."""
    if "Z" in axes.letters:
        return axes
    if axes.letters == "Q":  # read as planes, said: one volume, as the user's --axes ZYX
        return PageAxes("Z", axes.shape)
    return None


def flat_inputs(notes: dict[str, dict]) -> list[str]:
    """The inputs of a run of ``objects_3d`` or ``z_spacing`` predicted with no Z axis
    (``notes``: input -> the :mod:`~unetlab.inference.chosen` notes of its prediction,
    ``axes`` the axes each was read as; a stack's pages that record none are planes: Z
    under ``objects_3d`` (:func:`check_planes`), Q without): their objects are 2-D, as
    without ``objects_3d``, they have no z step, and so is their record
    (:func:`~unetlab.inference.records.flat_record`)."""
    return [p for p, found in notes.items() if flat_axes(found)]


#: the sizes :func:`say_cubes` asks for, as the API and the command give them (a notebook
#: was told the flags, s56 fixI)
_Z_SPACING_UM = Spelled("z_spacing=UM", "--z-spacing UM")
_BOTH_SIZES = Spelled("pixel_size=UM, z_spacing=UM", "--pixel-size UM --z-spacing UM")


def say_flat(notes: dict[str, dict], *, joined: bool = True) -> None:
    """One line for a run of ``objects_3d`` (``joined``) or of ``z_spacing`` alone where some
    inputs had no Z axis (``notes``: input -> the :mod:`~unetlab.inference.chosen` notes of
    its prediction, ``axes`` the axes it was read as): their objects are 2-D and they have
    no z step (a movie's frames are no planes), and the stacks it joined or gave the step."""
    read = [p for p, found in notes.items() if found.get("axes")]
    flat = [Path(p).name for p in flat_inputs(notes)]
    if not flat:
        return
    stacks = len(read) - len(flat)
    names = ", ".join(flat[:3]) + (" ..." if len(flat) > 3 else "")
    if not joined:
        done = f"is the z step of {numbered(stacks, 'z-stack')} only" if stacks else "set no z step"
        line = "%s %s: %s no Z axis (a movie's frames are time points, not "
        log.info(line + "planes): %s", said_as(Z_SPACING), done, _images_have(len(flat)), names)
        return
    done = f"joined the planes of {numbered(stacks, 'z-stack')} only"
    done = done if stacks else "joined no planes: no input has a Z axis"
    log.info(
        "%s %s; %s without a Z axis %s 2-D objects, as without it: %s",
        *(said_as(OBJECTS_3D), done, numbered(len(flat), "image"), _theirs(len(flat)), names),
    )


def frame_pages(axes: PageAxes) -> list[list[int]]:
    """The pages of each frame (one for a ZYX stack; each time point of a TZYX movie), in
    the order of their planes."""
    pages = int(np.prod(axes.shape))
    frames: dict[int, list[tuple[int, int]]] = {}
    for p in range(pages):
        at = axes.index(p)
        frames.setdefault(at.get("t", 0), []).append((at["z"], p))
    return [[p for _, p in sorted(frames[t])] for t in sorted(frames)]


def objects_by_frame(
    ids: list[np.ndarray],
    axes: PageAxes,
    voxel: tuple[float, float, float],
    labels: list[np.ndarray] | None = None,
    background: int | None = None,
) -> list[np.ndarray]:
    """Each page's 2-D object ``ids`` (in the file's page order) -> the same pages of the 3-D
    objects of their frame (:func:`objects_3d`; ids from 1 in each frame: T stays apart);
    with each page's voting ``labels`` (a model of several object classes, ``background``
    its own) each class's 3-D objects (:func:`classes_3d`)."""
    out = list(ids)
    for pages in frame_pages(axes):
        planes = np.stack([ids[p] for p in pages])
        if labels is None:
            joined = objects_3d(planes, voxel)
        else:
            joined = classes_3d(planes, np.stack([labels[p] for p in pages]), background)
        for p, plane in zip(pages, joined):
            out[p] = plane
    return out


def voxel_size(pixel: tuple[float, float] | None, spacing: float | None) -> tuple[float, ...]:
    """(z, y, x) µm of a voxel: the pixel size and z spacing where known, else 1 each (a
    stack without them: voxels as cubes, a z step of one pixel)."""
    dy, dx = (1.0, 1.0) if pixel is None else (float(pixel[0]), float(pixel[1]))
    dz = float(spacing) if spacing else (dy * dx) ** 0.5
    return (dz, dy, dx)


def table_voxel(pixel: tuple[float, float] | None, spacing: float | None) -> tuple | None:
    """(z, y, x) µm of a voxel for :func:`table_3d`'s ``_um`` columns: None without a pixel
    size; z None without a z ``spacing`` (the y and x ones are still known)."""
    if pixel is None:
        return None
    return (float(spacing) if spacing else None, float(pixel[0]), float(pixel[1]))


#: what planes a pixel apart change: a nuclei model's joining and volumes, or volumes alone
_CUBES_SAY = {
    False: "nuclei one above the other may join, and {} table has no µm volumes",
    True: "{} table has no µm volumes",
}


def say_cubes(name: str, pixel: tuple[float, float] | None, *, classes: bool = False) -> None:
    """The warning for a stack ``name`` whose 3-D objects are joined without a z spacing
    (its planes a pixel apart: :func:`voxel_size`), naming the flags that give it (audit
    s38 3d: an ImageJ stack of 0.8 µm planes saved without them counted 25 of 30 nuclei,
    unsaid); a folder of them: the first said, the files counted at the end
    (:func:`~unetlab.data.read_notes.note_alike`; s69: 24 stacks said it 24 times).
    ``classes``: a model of several object classes', joined whatever the spacing
    (:func:`classes_3d`): only its volumes lack it."""
    apart = "a pixel" if pixel is None else f"a pixel ({(pixel[0] * pixel[1]) ** 0.5:g} µm)"
    sizes = _BOTH_SIZES if pixel is None else _Z_SPACING_UM
    how = (
        f"records no z spacing: {said_as(OBJECTS_3D)} takes its planes {apart} apart, so "
        f"{_CUBES_SAY[classes].format('its')}; give "
        f"{said_as(sizes)}, or record it in the file (Fiji: Image > Properties, voxel depth)"
    )
    if not note_alike(name, how, joined=" "):
        log.warning("%s %s", name, how)


def seams(planes: np.ndarray) -> np.ndarray:
    """(Z, Y, X) bool: the pixels of each plane's objects beside another object of that plane
    (4-neighbours; one pixel wide, on the side of the higher id): the seams 2-D splitting drew."""
    out = np.zeros(planes.shape, bool)
    for axis in (1, 2):
        a = np.moveaxis(planes, axis, 0)
        first, second = a[:-1], a[1:]
        differ = (first != second) & (first > 0) & (second > 0)
        higher = np.moveaxis(out, axis, 0)
        higher[:-1] |= differ & (first > second)
        higher[1:] |= differ & (second > first)
    return out


def lasting(seam: np.ndarray) -> np.ndarray:
    """The voxels of ``seam`` ((Z, Y, X) bool) with a seam within a pixel of them in the
    plane above or below: two nuclei side by side are parted in several planes, while a
    seam in one plane alone is a nucleus the net split there (a nucleolus, a dim patch)."""
    near = np.zeros((3, 3, 3), bool)
    near[[0, 2]] = True
    return seam & ndimage.binary_dilation(seam, near)


def parted(planes: np.ndarray) -> np.ndarray:
    """(Z, Y, X) bool: the pixels of :func:`seams` between two objects of a plane that lie
    mostly in two different objects of the plane above or below: the same two nuclei parted
    there too, wherever their seam moved. :func:`lasting` looks for the seam within a pixel,
    and a boundary tilted between planes 2 µm apart moves 2-3 px (0.5 µm pixels): two
    boxes side by side whose seam moved 2 px a plane were one object. A nucleus one plane
    alone split has both halves in one object above and below: not parted. Ids far above
    the voxel count by their ranks (:func:`~unetlab.data.large_ids.compact_large_ids`:
    each plane's followers by id went by the largest)."""
    planes = compact_large_ids(planes)[0]
    out = np.zeros(planes.shape, bool)
    for z, plane in enumerate(planes):
        follow = [_followers(plane, planes[w]) for w in (z - 1, z + 1) if 0 <= w < len(planes)]
        for axis in (0, 1):
            a = np.moveaxis(plane, axis, 0)
            first, second = a[:-1], a[1:]
            apart = np.zeros(first.shape, bool)
            for f in follow:
                apart |= (f[first] != f[second]) & (f[first] > 0) & (f[second] > 0)
            apart &= (first != second) & (first > 0) & (second > 0)
            higher = np.moveaxis(out[z], axis, 0)
            higher[:-1] |= apart & (first > second)
            higher[1:] |= apart & (second > first)
    return out


def _followers(plane: np.ndarray, other: np.ndarray) -> np.ndarray:
    """(max id + 1,) int64: for each id of ``plane`` ((Y, X) ids), the id of ``other`` (the
    plane above or below) most of its pixels lie in (0: background, or no such id)."""
    ids, to = plane.ravel().astype(np.int64), other.ravel().astype(np.int64)
    width = int(to.max(initial=0)) + 1
    codes, counts = np.unique(ids[ids > 0] * width + to[ids > 0], return_counts=True)
    out = np.zeros(int(plane.max(initial=0)) + 1, np.int64)
    order = np.lexsort((counts, codes // width))  # by id, most pixels last
    own, where = codes[order] // width, codes[order] % width
    last = np.append(own[1:] != own[:-1], True)[: len(own)]
    out[own[last]] = where[last]
    return out


def objects_3d(
    planes: np.ndarray,
    voxel: tuple[float, float, float] = (1.0, 1.0, 1.0),
    depth: float = SPLIT_DEPTH,
) -> np.ndarray:
    """(Z, Y, X) ids, each plane's own 2-D objects, -> (Z, Y, X) int32 ids 1..n of 3-D
    objects (the module's docstring), region by region of touching objects (6-connected),
    so that memory goes with the largest region, not the stack: ``voxel`` (z, y, x) µm
    (:func:`voxel_size`); ``depth``: the share of an object's largest distance a maximum
    rises above its saddle to seed an object of its own, and at least a pixel (µm), as in
    2-D. Not a z step: a plane's object a pixel or two larger or smaller than its
    neighbours' moves the 3-D distance far less (the planes above and below bound it), while
    2 µm planes hid the neck of balls stacked 9 µm apart (5 µm radius, 1 µm overlap) and
    the valley of side-by-side ones. Every pixel of an object stays in one."""
    planes = stack_ids(planes, "planes")
    if not planes.size:  # no planes (or empty ones): no objects, not numpy's zero-size error
        return np.zeros(planes.shape, np.int32)
    mask = planes > 0
    inner = mask & ~(lasting(seams(planes)) | parted(planes))
    least = SPLIT_MIN_DEPTH * min(voxel[1:])  # a pixel, as in 2-D
    regions, groups = ndimage.label(mask)
    del mask
    regions = regions.astype(np.min_scalar_type(groups))  # 1 B a voxel, not 4, for a group
    ids = np.zeros(planes.shape, np.int32)
    count = 0
    for k, box in enumerate(ndimage.find_objects(regions), start=1):
        if box is None:
            continue
        box = tuple(slice(max(b.start - 1, 0), b.stop + 1) for b in box)  # its outline too
        own = regions[box] == k
        parts = _split_region(inner[box] & own, own, voxel, depth, least)
        ids[box][parts > 0] = parts[parts > 0] + count
        count += int(parts.max(initial=0))
    return compact(ids)


def _split_region(
    inner: np.ndarray, own: np.ndarray, voxel: tuple, depth: float, least: float
) -> np.ndarray:
    """The 3-D objects 1..m of one region ``own`` (a box's bool voxels) of
    :func:`objects_3d`: a watershed over it of its ``inner`` voxels' distance to the
    outside (µm), smoothed 1 px in-plane, from :func:`_markers`."""
    if not inner.any():  # all seam: one object
        return own.astype(np.int32)
    sigma = [SPLIT_SMOOTH * min(voxel[1:]) / v for v in voxel]  # 1 px in-plane
    # one float64 box held at a time (distance, smoothed in place, negated in place), and
    # the distance (lean's) and seeds (h_maxima_float) in a few bytes a voxel beside it, not
    # scipy's and skimage's 57 and 120: a group as big as the stack took 155 B a voxel
    smooth = distance_edt(inner, voxel)
    ndimage.gaussian_filter(smooth, sigma, output=smooth)
    smooth[~inner] = 0.0
    markers = _markers(smooth, inner, depth, least)
    return segmentation.watershed(np.negative(smooth, out=smooth), markers, mask=own)


def _markers(smooth: np.ndarray, inner: np.ndarray, depth: float, least: float) -> np.ndarray:
    """The seeds of :func:`objects_3d`: in each 6-connected region of ``inner``, the maxima
    of ``smooth`` that rise ``depth`` of its largest value (at least ``least``) above their
    saddle, numbered apart."""
    regions, n = ndimage.label(inner)
    markers = np.zeros(smooth.shape, np.int32)
    count = 0
    for k, box in enumerate(ndimage.find_objects(regions), start=1):
        if box is None:
            continue
        own = regions[box] == k
        # one region: smooth is 0 outside it already (no copy of a box as big as the group)
        values = smooth[box] if n == 1 else np.where(own, smooth[box], 0.0)
        h = max(depth * float(values.max()), least)
        peaks, found = ndimage.label(h_maxima_float(values, h) & own, np.ones((3, 3, 3)))
        if found == 0:  # a flat sliver: one seed, its highest voxel
            peaks, found = np.zeros(own.shape, np.int32), 1
            peaks[np.unravel_index(np.argmax(values), own.shape)] = 1
        view = markers[box]
        view[peaks > 0] = peaks[peaks > 0] + count
        count += found
    return markers


def classes_3d(planes: np.ndarray, labels: np.ndarray, background: int | None) -> np.ndarray:
    """(Z, Y, X) ids, each plane's own 2-D objects of a model of several object classes (a
    liver, a spleen, kidneys), and (Z, Y, X) their planes' voting labels
    (:func:`~unetlab.inference.objects.voting_labels`) -> (Z, Y, X) int32 ids 1..n of 3-D
    objects: each class's 6-connected parts of the voxels of its 2-D objects (each 2-D
    object of its class: :func:`~unetlab.inference.objects.object_classes`, ``background``
    left out), numbered class by class. Not split at necks as nuclei are (:func:`objects_3d`):
    an organ is one object however its planes' outlines run, and two organs of one class
    that touch are one (the class's volume is the same). A plane's pixels of another class
    that its object took in (a speck under its least area it enclosed:
    :func:`~unetlab.inference.objects.enclosed_specks_joined`) go to their own class where
    they touch its voxels in 3-D (a kidney's tip inside the liver's outline: :func:`rejoined`)."""
    planes = stack_ids(planes, "planes")
    painted = np.full(planes.shape, -1, np.int32)  # -1: no object (class 0 may be one)
    for z, (plane, votes) in enumerate(zip(planes, labels, strict=True)):
        present, kinds = object_classes(plane, votes, background)
        by_id = np.full(int(plane.max(initial=0)) + 1, -1, np.int32)
        by_id[present] = kinds
        painted[z] = by_id[plane]
    painted = rejoined(painted, labels)
    ids = np.zeros(planes.shape, np.int32)
    count = 0
    for kind in np.unique(painted[painted >= 0]).tolist():
        parts, found = ndimage.label(painted == kind)
        ids[parts > 0] = parts[parts > 0] + count
        count += found
    return ids


def rejoined(painted: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(Z, Y, X) int32 ``painted`` (each voxel's object's class, -1 none: :func:`classes_3d`)
    with each voxel whose own voting label (``labels``) is another object class given that
    class where it is 6-connected, through such voxels, to a voxel of an object of it (a
    kidney's tip that a plane's liver enclosed and took in, s74: the kidney's volume 75
    voxels of 84); one that touches none stays its object's (a speck within the liver).
    Only the taken-in voxels and their neighbours are looked at (:func:`_taken_parts`),
    not each class's voxels labelled: specks all over a CT made that the volume's, per
    class (s75)."""
    at = np.flatnonzero((labels != painted) & (painted >= 0))  # the taken-in voxels alone
    if not at.size:
        return painted
    kinds = np.flatnonzero(np.bincount(painted[painted >= 0]))  # the objects' classes
    voted = labels.ravel()[at]
    of_object = np.isin(voted, kinds)  # a class of no object takes none
    at, voted = at[of_object], voted[of_object]
    if not at.size:
        return painted
    parts, rooted = _taken_parts(at, voted, painted)
    out = painted.copy()
    joined = rooted[parts]
    out.ravel()[at[joined]] = voted[joined]
    return out


def _taken_parts(
    at: np.ndarray, voted: np.ndarray, painted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The 6-connected parts of the taken-in voxels (flat indices ``at``, sorted, of
    ``painted``'s shape), each of voxels of one voted class (``voted``, theirs): each
    voxel's part, and per part whether it touches a voxel ``painted`` its class (an object
    of it, which it joins), as the parts of each class's voxels and its taken-in ones
    labelled would say, from the taken-in voxels' six neighbours alone."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    flat, touches, pairs = painted.ravel(), np.zeros(at.size, bool), []
    coords = np.unravel_index(at, painted.shape)
    strides = np.cumprod((1, *painted.shape[:0:-1]))[::-1]
    for axis, stride in enumerate(strides.tolist()):
        for step in (-1, 1):
            inside = (coords[axis] + step >= 0) & (coords[axis] + step < painted.shape[axis])
            near = at + step * stride
            touches |= inside & (flat[np.where(inside, near, 0)] == voted)
            place = np.minimum(np.searchsorted(at, near), at.size - 1)
            same = inside & (at[place] == near) & (voted[place] == voted)
            pairs.append((np.flatnonzero(same), place[same]))
    rows, cols = (np.concatenate(p) for p in zip(*pairs))
    graph = coo_matrix((np.ones(rows.size, np.int8), (rows, cols)), shape=(at.size,) * 2)
    _, parts = connected_components(graph, directed=False)
    rooted = np.bincount(parts, weights=touches, minlength=parts.max() + 1) > 0
    return parts, rooted


#: the splits of a plane's objects of one class, as each caller spells them: each class's
#: 3-D objects (:func:`classes_3d`) join their parts again
_SPLITS = {
    "distance_split": DISTANCE_SPLIT,
    "split_necks": Spelled("split_necks=True", "--split-necks"),
}


def refuse_joined_splits(model, options: ObjectOptions) -> None:
    """UnetlabError in one line where the 3-D objects of a model of several object classes
    (:func:`classes_3d`: each class's 6-connected voxels, an organ one object) are asked
    split plane by plane (``distance_split``, ``split_necks``): the parts of a plane touch
    and join again, the split said at the start and undone (s73 review)."""
    asked = [flag for name, flag in _SPLITS.items() if getattr(options, name)]
    if asked and several_object_classes(model, options):
        said = (
            "{} splits touching objects of one class in each plane, and {} of a model of "
            "several object classes joins each class's touching voxels in one object (an "
            "organ whole), its split parts too: drop {}"
        )
        raise UnetlabError(**spelled(said.format, asked[0], OBJECTS_3D, asked[0]))


def classes_table(path: Path) -> bool:
    """Whether the object ids ``path`` (``<stem>_objects.tif``) are 3-D objects of several
    classes (a liver, a spleen, kidneys: :func:`classes_3d`), as the table beside them
    (``<stem>_objects.csv``) says by its ``class`` (:func:`with_classes_3d`) and ``z_first``
    (:func:`table_3d`) columns, which no other objects table has both of; False without one."""
    table = path.with_name(path.name[: -len(".tif")] + ".csv")
    if not path.name.lower().endswith("_objects.tif") or not table.is_file():
        return False
    with open(table, newline="", encoding="utf-8-sig") as f:
        return {"class", "z_first"} <= set(next(csv.reader(f), []))


def with_classes_3d(
    table: dict, ids: np.ndarray, labels: np.ndarray, names, background: int | None
) -> dict:
    """:func:`table_3d`'s ``table`` of the 3-D objects ``ids`` ((Z, Y, X)) with ``class``
    (of their voting ``labels``: :func:`~unetlab.inference.objects.object_classes`) and
    ``class_name`` (by ``names``, the model's classes; none without) after ``id``, as a
    2-D objects table has them."""
    present, kinds = object_classes(ids, labels, background)
    by_id = dict(zip(np.asarray(present).tolist(), np.asarray(kinds).tolist()))
    column = np.array([by_id[i] for i in np.asarray(table["id"]).tolist()], np.int64)
    return {"id": table["id"], **named_columns(column, names), **table}


def class_totals(
    table: dict, votes: np.ndarray, kinds: list[int], names, voxel: tuple | None
) -> dict:
    """One row per object class of ``kinds`` (the model's class indices that make objects;
    ``names`` its classes, or none) of one frame: ``class`` (``class_name``), ``objects``
    (its 3-D objects in ``table``, their ``class`` column: :func:`with_classes_3d`),
    ``voxels`` (the class's voxels of the frame's voting labels ``votes``, (Z, Y, X): the
    labels volume's, not its objects', whose 2-D holes are filled and small parts dropped)
    and ``volume_um3`` of the ``voxel`` size ((z, y, x) µm: :func:`table_voxel`; none without
    it all): the number a radiologist reads of each organ; a class of no voxel a row of 0s."""
    of = np.asarray(table["class"], np.int64)
    kinds = np.asarray(kinds, np.int64)
    rows = named_columns(kinds, names)
    rows["objects"] = np.array([int((of == k).sum()) for k in kinds], np.int64)
    counted = np.bincount(np.asarray(votes, np.int64).ravel(), minlength=int(kinds.max()) + 1)
    rows["voxels"] = counted[kinds]
    if voxel is not None and None not in voxel:
        rows["volume_um3"] = rows["voxels"] * float(np.prod(voxel))
    return rows


def stack_ids(ids, name: str) -> np.ndarray:
    """``ids`` as an array; UnetlabError in one line where they are no (Z, Y, X) stack of
    object ids, 0 or positive integers (a negative id: numpy's 'list' argument must have no
    negative elements in table_3d, left out unsaid by objects_3d; floats an IndexError)."""
    ids = np.asarray(ids)
    if ids.ndim != 3 or ids.dtype.kind not in "biu":
        raise UnetlabError(
            f"{name} must be a (Z, Y, X) stack of integer object ids (0: none), not "
            f"{ids.dtype} {ids.shape}: e.g. np.stack(planes).astype(np.int32) of whole numbers"
        )
    if ids.dtype.kind == "i" and ids.size and ids.min() < 0:
        raise UnetlabError(
            f"{name} hold {ids.min()}: object ids are 0 (none) or positive; set the "
            f"unlabelled voxels to 0 ({name}[{name} < 0] = 0)"
        )
    return ids.view(np.uint8) if ids.dtype == bool else ids  # a plane's mask: one object


def stack_image(image, shape: tuple[int, ...]) -> np.ndarray:
    """``image`` as an array; UnetlabError in one line where it is no (Z, Y, X) or
    (Z, Y, X, C) image of the ids' ``shape`` (a (Z, C, Y, X) hyperstack as tifffile reads
    it was measured scrambled, its values reshaped to the ids' voxels)."""
    image = np.asarray(image)
    if image.shape[:3] == tuple(shape) and image.ndim in (3, 4):
        return image
    hint = ""
    if image.ndim == 4 and image.shape[:1] + image.shape[2:] == tuple(shape):
        hint = "; a (Z, C, Y, X) stack (tifffile's hyperstack): image.transpose(0, 2, 3, 1)"
    raise UnetlabError(
        f"image is {image.shape} but ids {tuple(shape)}: table_3d measures a (Z, Y, X) or "
        f"(Z, Y, X, C) image of the ids' voxels{hint}"
    )


def table_3d(ids: np.ndarray, image: np.ndarray, voxel: tuple[float, float, float] | None) -> dict:
    """One row per 3-D object of ``ids`` ((Z, Y, X) ids, 0 none), in increasing order of
    id, over ``image`` ((Z, Y, X) or (Z, Y, X, C), raw values): ``id``, ``volume``
    (voxels) and ``volume_um3``, ``centroid_z``, ``centroid_y``, ``centroid_x`` (and
    ``_um`` of each: from the first voxel's centre) where ``voxel`` ((z, y, x) µm) is
    given (z None: a stack of no z step, its y and x ``_um`` alone: :func:`table_voxel`), ``z_first``, ``z_last``, ``planes`` (its extent in z, 0-based planes),
    ``mean_intensity`` (``_0``, ``_1``, ... per channel; none without an ``image``) and
    ``touches_border`` (the
    stack's sides, or its first or last plane, cut it). Any ids: no row for an id absent,
    and ids far above the voxel count measured by their ranks
    (:func:`~unetlab.data.large_ids.compact_large_ids`)."""
    ids = stack_ids(ids, "ids")
    image = None if image is None else stack_image(image, ids.shape)
    top = int(ids.max(initial=0))
    ranks, original = compact_large_ids(ids, top)
    n = top if original is None else len(original) - 1
    table = _table_3d(ranks, n, image, voxel)
    if original is not None:
        table["id"] = original[table["id"]]
    present = table["volume"] > 0
    return table if present.all() else {k: v[present] for k, v in table.items()}


def _table_3d(ids: np.ndarray, n: int, image: np.ndarray, voxel) -> dict:
    """:func:`table_3d` of ids 0..``n``, a row for each of 1..``n``."""
    flat = ids.ravel()
    volume = np.bincount(flat, minlength=n + 1)[1:]
    table: dict[str, np.ndarray] = {"id": np.arange(1, n + 1, dtype=np.int64), "volume": volume}
    step = (None, None, None) if voxel is None else voxel
    if None not in step:
        table["volume_um3"] = volume * float(np.prod(step))
    weight = np.maximum(volume, 1)
    for axis, name in enumerate("zyx"):
        coordinate = np.indices(ids.shape, sparse=True)[axis]
        along = np.broadcast_to(coordinate, ids.shape).ravel()
        table[f"centroid_{name}"] = np.bincount(flat, along, n + 1)[1:] / weight
        if step[axis] is not None:
            table[f"centroid_{name}_um"] = table[f"centroid_{name}"] * step[axis]
    # no objects: no boxes (find_objects takes the max of ids for max_label 0: of 0 planes,
    # numpy's zero-size error)
    boxes = ndimage.find_objects(ids, max_label=n) if n else []
    first = np.array([b[0].start if b else 0 for b in boxes], np.int64)
    last = np.array([b[0].stop - 1 if b else -1 for b in boxes], np.int64)
    table |= {"z_first": first, "z_last": last, "planes": last - first + 1}
    if image is not None:
        table |= _mean_intensity(flat, n, image, weight)
    table["touches_border"] = np.array([_at_edge(b, ids.shape) for b in boxes], bool)
    return table


def _mean_intensity(flat: np.ndarray, n: int, image: np.ndarray, weight: np.ndarray) -> dict:
    """``mean_intensity`` (``_0``, ``_1``, ... per channel) of ids 1..``n`` (``flat``, the
    voxels' ids) over ``image`` ((Z, Y, X) or (Z, Y, X, C)); ``weight``: their volumes, 1
    at least."""
    channels = image.shape[3] if image.ndim == 4 else 1  # not -1: of 0 voxels, ambiguous
    values = image.reshape(len(flat), channels).astype(np.float64)
    several = channels > 1
    return {
        "mean_intensity" + (f"_{c}" if several else ""): np.bincount(flat, values[:, c], n + 1)[1:]
        / weight
        for c in range(channels)
    }


def frame_tables_3d(
    ids: np.ndarray, image: np.ndarray | None, voxel: tuple | None, *, seconds: float | None
) -> list[dict]:
    """The tables of the 3-D objects of ``ids``, one z-stack's ((Z, Y, X)) or each frame's of
    a movie ((T, Z, Y, X), ids from 1 in each frame): :func:`table_3d` over ``image`` (the
    ids' shape, channels last, or None), a movie's rows led by ``t`` (and ``t_s`` given the
    ``seconds`` between frames), as ``predict --objects-3d`` writes them; one a frame."""
    if ids.ndim == 3:
        return [table_3d(ids, image, voxel)]
    tables = []
    for t, frame in enumerate(ids):
        table = table_3d(frame, None if image is None else image[t], voxel)
        rows = len(table["id"])
        lead = {"t": np.full(rows, t)}
        if seconds is not None:
            lead["t_s"] = np.full(rows, t * seconds)
        tables.append({**lead, **table})
    return tables


def flag_cut_3d(table: dict, planes: np.ndarray, cut: list[np.ndarray | None]) -> dict:
    """:func:`table_3d`'s ``touches_border`` also True for the 3-D objects of ``planes``
    ((Z, Y, X) ids) with a voxel in or beside (4-connected, in its plane) a ``cut`` pixel of
    its plane ((Y, X) bool or None each: excluded rows, nodata): their volume is a lower
    bound, as at the stack's sides. A new dict; ``table`` is kept."""
    near = [touched_ids(p, bad) for p, bad in zip(planes, cut, strict=True) if _any(bad)]
    flagged = np.isin(np.asarray(table["id"]), np.concatenate([np.zeros(0, planes.dtype), *near]))
    border = np.asarray(table["touches_border"], bool) | flagged
    return {**table, "touches_border": border}


def _any(pixels: np.ndarray | None) -> bool:
    return pixels is not None and bool(pixels.any())


def _at_edge(box: tuple[slice, ...] | None, shape: tuple[int, ...]) -> bool:
    """Whether the box reaches a side of the stack (``shape``)."""
    return box is not None and any(s.start == 0 or s.stop == n for s, n in zip(box, shape))


def _checked_stack(stack: np.ndarray, channels: int) -> np.ndarray:
    """``stack`` where it is one z-stack, (Z, Y, X) or (Z, Y, X, C) of a model of
    ``channels``; UnetlabError in one line otherwise: a 2-D image, or a (T, Z, Y, X) movie
    (a last axis longer than an image's channels, :data:`FEW_CHANNELS`, and the model's:
    its T was read as Z and each (Z, Y, X) frame as one plane of X channels, which
    predict_image refused as "a stack of Z planes ... predict_image takes one plane")."""
    if stack.ndim not in (3, 4):
        raise UnetlabError(
            f"objects_3d=True takes a (Z, Y, X) or (Z, Y, X, C) stack, not {stack.shape}: "
            "a 2-D image's objects are predict_objects(model, image)"
        )
    few = max(FEW_CHANNELS, channels)
    if stack.ndim == 4 and stack.shape[3] > few and stack.shape[2] > FEW_CHANNELS:
        raise UnetlabError(_four_axes_line(stack.shape, channels))
    return stack


def _four_axes_line(shape: tuple[int, ...], channels: int) -> str:
    """The refusal of a 4-D array whose last axes are an image's (Y, X): what tifffile.imread
    gives of a Fiji hyperstack, (Z, C, Y, X), or of a stack saved channels first, (C, Z, Y,
    X), a (N, 1, Y, X) batch as torch takes it, or a (T, Z, Y, X) movie (audit s68 user3d:
    a 2-channel embryo stack was called "a (T, Z, Y, X) movie of 30 time points, not an
    image of 256 channels"; review s68: a CZYX one still, and a 3-channel ZCYX one given to
    a 1-channel model, whose frames then joined its channels as planes; a (T, Z<=8, Y, X)
    movie then a hyperstack alone, whose stack[:, c] joins its frames as planes: both
    readings are named)."""
    said = f"objects_3d=True takes one z-stack, (Z, Y, X) or (Z, Y, X, C), and {shape} looks like"
    if shape[1] == channels == 1:
        return (
            f"{said} a (N, 1, Y, X) batch of {shape[0]} images, each its objects in 2-D: "
            "[predict_objects(model, image[0]) for image in batch]; a stack of one channel "
            f"is stack[:, 0], {(shape[0], *shape[2:])}"
        )
    file = "or its file to unetlab.predict_file, which reads its axes"
    if shape[1] == channels:
        return (
            f"{said} (Z, C, Y, X), its axis 1 the model's {numbered(channels, 'channel')}, as "
            f"tifffile.imread reads a Fiji hyperstack: give np.moveaxis(stack, 1, -1), "
            f"{(shape[0], *shape[2:], shape[1])}, {file}"
        )
    if shape[0] == channels:
        return (
            f"{said} (C, Z, Y, X), its axis 0 the model's {numbered(channels, 'channel')}: "
            f"give np.moveaxis(stack, 0, -1), {(*shape[1:], shape[0])}, {file}"
        )
    frames = (
        "give its frames one at a time ([predict_objects(model, frame, objects_3d=True, ...) "
        "for frame in movie])"
    )
    if readings := [r for axis in (1, 0) if (r := _channels_at(shape, axis, channels))]:
        return (
            f"{said} {'; or '.join(readings)}; "
            f"or a (T, Z, Y, X) movie of {shape[0]} time points of {shape[1]} planes: "
            f"{frames}; {file} (channel= picks the channels of a file that records its axes; "
            "a movie's T is kept apart)"
        )
    return (
        f"{said} a (T, Z, Y, X) movie of {shape[0]} time points, not an image of {shape[3]} "
        f"channels: {frames}, or its file to unetlab.predict_file, which keeps T apart"
    )


def _channels_at(shape: tuple[int, ...], axis: int, channels: int) -> str:
    """:func:`_four_axes_line`'s reading of an array of ``shape`` as a few channels (not the
    model's ``channels``) on ``axis``: 1, (Z, C, Y, X), as tifffile.imread reads a Fiji
    hyperstack; 0, (C, Z, Y, X), as tifffile.imwrite(path, np.stack(channels)) saves them,
    and the pick of each; "" where that axis is too long for channels. Where both are
    short, both are named (review s69: (3, 6, Y, X) was told (Z, C, Y, X) alone, whose
    stack[:, c] takes plane c of each channel of a channels-first one)."""
    if shape[axis] > FEW_CHANNELS:
        return ""
    at = ":, " * axis
    pick = (
        f"stack[{at}c]" if channels == 1 else f"np.moveaxis(stack[{at}[c1, c2, ...]], {axis}, -1)"
    )
    how = (
        "channels first, as tifffile.imwrite(path, np.stack(channels)) saves them",
        "as tifffile.imread reads a Fiji hyperstack",
    )[axis]
    letters = ("(C, Z, Y, X)", "(Z, C, Y, X)")[axis]
    few = numbered(shape[axis], "channel")
    return f"{letters} of {few}, {how}, the model taking {channels}: pick its channel(s), {pick}"


def say_first_axis(planes: int, z_spacing: float | None) -> None:
    """The line of :func:`predict_objects_3d`: an array records no axes, so its first axis
    was taken as Z, and a movie's frames (T, Y, X) would have been joined as planes too
    (s50 threedleft: an (8, 128, 128) movie gave µm³ volumes across its frames, unsaid)."""
    apart = "a pixel" if z_spacing is None else f"{z_spacing:g} µm"
    log.info(
        "objects_3d=True took the array's first axis as Z (an array records no axes): its %d "
        "planes, %s apart, joined in 3-D; a movie's frames (T, Y, X) are no planes: give them "
        "one at a time for each frame's 2-D objects ([predict_objects(model, frame) for frame "
        "in movie]), or its file to unetlab.predict_file, which keeps T apart",
        planes,
        apart,
    )


def predict_objects_3d(
    model,
    stack: np.ndarray,
    options: ObjectOptions,
    *,
    pixel_size: float | tuple[float, float] | None = None,
    z_spacing: float | None = None,
    **predict_options,
) -> tuple[np.ndarray, dict]:
    """The 3-D objects of a z-stack array, as ``predict_file(..., objects_3d=True)`` writes
    a file's: ``(ids, table)``, ``ids`` (Z, Y, X) uint16 (uint32 past 65,535 objects), one
    id per object across its planes, and ``table`` :func:`table_3d`'s columns (the ``_um``
    ones with ``pixel_size`` and ``z_spacing``; y and x with ``pixel_size`` alone), over
    the stack's raw values. ``stack``:
    (Z, Y, X), or (Z, Y, X, C) for channels last; each plane predicted
    (``predict_options``: :func:`~unetlab.inference.predict.predict_image`'s) and its
    objects found with ``options``, then joined (:func:`objects_3d`; a model of several
    object classes' each class's, with ``class`` and ``class_name`` columns:
    :func:`classes_3d`); without ``z_spacing`` the planes are a pixel apart (one warning
    says so, as for a file)."""
    stack = _checked_stack(np.asarray(stack), getattr(model, "in_channels", 1))
    refuse_joined_splits(model, options)
    pixel = pixel_pair(pixel_size)
    check_z_spacing(z_spacing, pixel)
    say_first_axis(stack.shape[0], z_spacing)
    if z_spacing is None:
        log.warning(
            "objects_3d=True without z_spacing=: the planes are taken a pixel apart, so %s; "
            "give z_spacing= and pixel_size= (µm)",
            _CUBES_SAY[several_object_classes(model, options)].format("the"),
        )
    found = [_plane_objects(model, plane, options, predict_options) for plane in stack]
    planes, cut, votes = (list(each) for each in zip(*found))
    several = votes[0] is not None  # a model of several object classes: each class's
    background = options.background
    joined = (
        classes_3d(np.stack(planes), np.stack(votes), background)
        if several
        else objects_3d(np.stack(planes), voxel_size(pixel, z_spacing))
    )
    ids = least_ids(joined)
    table = flag_cut_3d(table_3d(ids, stack, table_voxel(pixel, z_spacing)), ids, cut)
    if several:
        names = getattr(model, "classes", None)
        table = with_classes_3d(table, ids, np.stack(votes), names, background)
    return ids, with_saturation(table, ids, stack)  # all planes


def _plane_objects(model, plane: np.ndarray, options: ObjectOptions, predict_options: dict):
    """``(ids, cut, votes)`` of one plane of :func:`predict_objects_3d`: its 2-D objects
    (:func:`~unetlab.inference.objects.objects_int32`), its pixels of no class, which
    cut them (:func:`~unetlab.inference.objects.no_class_pixels`; None: none), as a file's
    (review s70: the array's table said touches_border false of an object they cut), and
    a model of several object classes' voting labels (None for one object class)."""
    probabilities = predict_image(model, plane, **predict_options)
    ids = objects_int32(probabilities, options)
    several = several_object_classes(model, options)
    if not (several or no_class_cuts(options)):  # no argmax where it would find none
        return ids, None, None
    labels = labels_from_probabilities(probabilities)
    votes = voting_labels(labels, options, len(probabilities)) if several else None
    return ids, no_class_pixels(labels, options), votes


def _images_have(count: int) -> str:
    """``1 image has``, ``2 images have``."""
    return f"{numbered(count, 'image')} {'has' if count == 1 else 'have'}"


def _theirs(count: int) -> str:
    """What ``count`` images keep: ``has its``, ``have their``."""
    return "has its" if count == 1 else "have their"
