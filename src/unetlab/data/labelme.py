"""labelme's JSON (one file beside each image, ``a.jpg`` + ``a.json``) read as outlines.

A labelme file is a JSON object holding ``"shapes"`` (what tells it from COCO's one file of
``"images"`` and ``"annotations"``): each shape a ``label``, its ``points`` (``[[x, y],
...]``), a ``shape_type`` (``polygon``, ``rectangle``: two corners, ``circle``: the centre
and a point on it, ``mask``: a base64 PNG of the box its two points give, ``line``,
``linestrip``, ``point``) and a ``group_id`` (shapes of one label and group are one object);
besides them ``imagePath`` (the image, relative to the file), ``imageData`` (the image
itself, base64, or null) and ``imageHeight``/``imageWidth``.

Coordinates: labelme draws its masks with PIL (``labelme.utils.shape_to_mask``), which cuts
each point to whole numbers (``(2.7, 3.2)`` is ``(2, 3)``: labelme saves fractional points)
and draws through those pixels' centres: pixel ``(row, col)`` is the point ``(col, row)``.
unetlab's outlines (:mod:`unetlab.data.annotations`) are in pixel corners (pixel ``(row,
col)`` the unit square from ``(col, row)``), so each point is cut as PIL cuts it and moved to
that pixel's centre, ``(floor(x) + 0.5, floor(y) + 0.5)`` (s71 review: moved alone, a
fractional point lay half a pixel right and down of labelme's): a polygon then fills the
pixels whose centres lie inside it or on its edges, as PIL's ``polygon(fill=1, outline=1)``
does (a rectangle from ``(2, 3)`` to ``(5, 7)`` is columns 2 to
5 and rows 3 to 7, both ends included, as labelme's), less the pixels PIL's one-pixel outline
adds beside a slanted edge (whose centres lie outside the shape: the area drawn, not PIL's
line); a circle the pixels within half a pixel past its radius of its centre (PIL's
``ellipse`` reaches its box's end pixels; 69 pixels differ from PIL's over five circles of
radius 5 to 15, against 196 at the radius itself).

Classes, as labelme's ``labelme2voc.py`` reads them: the order of the ``labels.txt`` beside
the data (:data:`LABELS_FILE`), else the label names sorted; ``_background_`` is 0, the
others 1, 2, ... in that order, ``__ignore__`` (:data:`IGNORE`) the void value 255. Lines and
points (no area) are passed over and counted (said once)."""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import json
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from unetlab.data.annotations import Outline, box_ring
from unetlab.data.names import less_ome, nfc
from unetlab.data.read_notes import note_once
from unetlab.errors import DatasetError, UnetlabError
from unetlab.read_once import file_stamp
from unetlab.words import numbered

#: labelme2voc's names: the background's (value 0) and what no class counts (the void)
BACKGROUND, IGNORE = "_background_", "__ignore__"
#: the value of shapes labelled :data:`IGNORE` (VOC's void, which labelme2voc writes)
IGNORE_VALUE = 255
#: the class list labelme's tools take beside the data, one label a line
LABELS_FILE = "labels.txt"
#: the shape types that are areas; the others (lines, points) have none
AREAS = ("polygon", "rectangle", "circle", "mask")
FIX = "open it in labelme and save it again"
#: the ending of the labelme file ``unetlab predict --outlines labelme`` writes of image X
#: (``X_objects.json``), which trains, corrected in labelme, as it is: :func:`named_images`
LABELME_ENDING = "_objects.json"


@dataclass(frozen=True)
class Shape:
    """One labelme shape read: its :class:`Outline`, its label, and the object it is part
    of (``(label, group_id)``; a shape of no group_id is an object alone)."""

    outline: Outline
    label: str
    group: tuple


def read_json(path: str | os.PathLike):
    """The JSON of ``path``; a DatasetError naming it where it is none."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot be read as JSON ({exc}): {FIX}") from None


def read_labelme(path: str | os.PathLike) -> dict:
    """The labelme JSON of ``path``; a DatasetError naming it where it cannot be read or is
    no labelme file (no ``shapes`` list)."""
    data = read_json(path)
    if not is_labelme(data):
        raise DatasetError(
            f"{path}: a JSON file but no labelme annotation (no 'shapes' list) nor COCO's: save "
            "it from labelme, or give the mask as a label image"
        )
    return data


def unread_beside(image: Path) -> str | None:
    """Why the JSON named as ``image`` beside it (``a.json`` for ``a.jpg``) is not its mask
    (it cannot be read, or is no labelme file), or None where there is none or it is one."""
    path = image.with_suffix(".json")
    try:
        read_labelme(path) if path.is_file() else None
    except DatasetError as exc:
        return str(exc)
    return None


def named_images(files: Iterable[Path], suffixes: Collection[str]) -> dict[Path, Path]:
    """``{labelme file: image}`` of those of ``files`` that predict wrote (``X_objects.json``:
    :data:`LABELME_ENDING`) whose image X is found (:func:`image_of`): predict's output
    folder, corrected in labelme, trains as it is."""
    found = {path: image_of(path, suffixes) for path in files}
    return {path: image for path, image in found.items() if isinstance(image, Path)}


def image_of(path: Path, suffixes: Collection[str]) -> Path | str | None:
    """The image X (a file of ``suffixes``, its stem less an ``.ome`` X: ``a0.ome.tif``) of
    the labelme file ``path`` predict wrote (``X_objects.json``), found by its ``imagePath``
    relative to it (links not followed: a git-annex input is named as its link), else by its
    name beside it (the files copied beside their images, the input folder not); never an
    output of predict (its folder's manifest lists it: ``a0.png``, its labels); where none
    is, why (a problem's text), or None: no ``X_objects.json``, no ``imagePath`` read."""
    if not path.name.casefold().endswith(LABELME_ENDING) or not (told := _told_image(path)):
        return None
    stem = nfc(path.name[: -len(LABELME_ENDING)])
    given = Path(os.path.normpath(path.parent / told))
    for image in dict.fromkeys((given, path.parent / PurePosixPath(told).name)):
        if _is_image(image, suffixes) and nfc(less_ome(image.stem)) == stem:
            return image
    fix = "set imagePath to the image's path, or copy the image beside the file"
    return f"imagePath {told}: {_no_image(given, suffixes)}: {fix}"


def _is_image(image: Path, suffixes: Collection[str]) -> bool:
    """Whether ``image`` is an image file (of ``suffixes``) that predict did not write."""
    return image.is_file() and image.suffix.lower() in suffixes and not _predicted(image)


def _no_image(image: Path, suffixes: Collection[str]) -> str:
    """Why ``image``, which a labelme file's imagePath names, is not the file's image."""
    if not image.is_file():
        return "no such file"
    if image.suffix.lower() not in suffixes:
        return "no image file"
    return "an output unetlab predict wrote" if _predicted(image) else "another image's name"


def _predicted(path: Path) -> bool:
    """Whether unetlab predict wrote ``path`` (its folder's manifest lists it)."""
    from unetlab.manifest import MANIFEST, writers_of

    if not (path.parent / MANIFEST).is_file():
        return False
    with contextlib.suppress(UnetlabError, OSError):
        return "predict" in writers_of(path.parent).get(path.name, ())
    return False


def _told_image(path: Path) -> str | None:
    """The ``imagePath`` of the labelme file ``path``, ``/`` for ``\\`` (labelme on
    Windows) (:func:`labelme_told`); None where it names none or the file cannot be read
    (said where it is read as a mask)."""
    told = labelme_told(path)
    return None if told is None else told.image_path


@dataclass(frozen=True)
class Told:
    """What a labelme file says besides its shapes' points: each shape's ``label``, in
    order, and its ``imagePath`` (``/`` for ``\\``; None where it names none)."""

    labels: tuple[str, ...]
    image_path: str | None


def labelme_told(path: str | os.PathLike) -> Told | None:
    """:class:`Told` of the labelme file ``path``, the file parsed once while it is unchanged
    (its labels and imagePath were parsed apart: each predicted file twice in a data set's
    search, s74: 1.88 s CPU for 150 files of 2 MB); None where it is no labelme file or
    cannot be read (a file not naming ``"shapes"`` is not parsed: metadata JSON beside
    images)."""
    return _told_of(str(path), file_stamp(path))


@functools.lru_cache(maxsize=65536)
def _told_of(path: str, stamp: tuple | None) -> Told | None:
    """:func:`labelme_told` of ``path`` as it was at ``stamp``."""
    try:
        raw = Path(path).read_bytes()
        data = json.loads(raw) if b'"shapes"' in raw else None
    except (OSError, ValueError):
        return None
    if not is_labelme(data):
        return None
    labels = tuple(str(s.get("label") or "") for s in data["shapes"] if isinstance(s, dict))
    told = data.get("imagePath")
    return Told(labels, told.replace("\\", "/") if isinstance(told, str) and told else None)


def is_labelme(data) -> bool:
    """Whether the JSON ``data`` is labelme's: an object holding a list of ``shapes``."""
    return isinstance(data, dict) and isinstance(data.get("shapes"), list)


def labelme_shapes(
    data: dict, path: Path, size: tuple[int, int], image: Path | None
) -> list[Shape]:
    """The shapes of the labelme JSON ``data`` (read from ``path``: :func:`read_labelme`)
    over ``image`` of ``size`` (H, W; None: no image, the size it records): those of an
    area, in file order; lines and points counted and said. A DatasetError names a file
    that names another image or another size, or a shape of no area it should have."""
    if image is not None:
        _check_image(data, path, size, image)
    shapes, passed = [], 0
    for index, shape in enumerate(data["shapes"]):
        kind = (shape.get("shape_type") if isinstance(shape, dict) else None) or "polygon"
        if kind not in AREAS:
            passed += 1
            continue
        where = f"{path}: shape {index + 1}"
        label = str(shape.get("label") or "")
        group = shape.get("group_id")
        outline = _outline(shape, kind, where)
        shapes.append(Shape(outline, label, (label, group) if group is not None else (index,)))
    if passed:
        note_once(
            f"{path}: {numbered(passed, 'line or point shape')} (no area) passed over; draw them as "
            "polygons to train them (said for the first such file only)",
            key="labelme lines passed over",
        )
    return shapes


def _check_image(data: dict, path: Path, size: tuple[int, int], image: Path) -> None:
    """DatasetError where ``data`` names another image than ``image`` (by its file stem) or
    records another size than ``size`` (H, W)."""
    named = data.get("imagePath")
    if isinstance(named, str) and named and Path(named.replace("\\", "/")).stem != image.stem:
        raise DatasetError(
            f"{path}: labelme's imagePath names {named}, not its image {image.name}: rename "
            f"the JSON as its image ({Path(named).stem}.json), or open {image.name} in labelme"
        )
    told = data.get("imageHeight"), data.get("imageWidth")
    if all(isinstance(v, int) for v in told) and told != tuple(size):
        raise DatasetError(
            f"{path}: labelme drew it on an image of {told[1]} x {told[0]} px, but "
            f"{image.name} is {size[1]} x {size[0]} px: open {image.name} in labelme and "
            "draw the shapes again, or put the image they were drawn on beside it"
        )


def _outline(shape: dict, kind: str, where: str) -> Outline:
    """The :class:`Outline` of one labelme shape of an area (``kind``), in pixel corners."""
    try:
        points = np.asarray(shape.get("points"), dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        points = np.zeros((0, 2))
    least = 3 if kind == "polygon" else 2
    if len(points) < least or not np.isfinite(points).all():
        raise DatasetError(
            f"{where}: a {kind} of {numbered(len(points), 'point')} (it needs {least} [x, y] "
            f"pairs): delete it in labelme or draw it again"
        )
    if kind == "mask":
        return _mask_outline(shape.get("mask"), points, where)
    corners = np.floor(points) + 0.5  # the pixel centres PIL draws through (it cuts x.7 to x)
    if kind == "rectangle":  # its two corners; X-AnyLabeling's four: the box of them all
        # its end pixels whole: a box one pixel high is a line of pixels, as PIL draws it
        (left, top), (right, bottom) = corners.min(axis=0) - 0.5, corners.max(axis=0) + 0.5
        return Outline(where, rings=(box_ring(left, top, right, bottom),))
    if kind == "circle":
        # PIL's ellipse holds the pixels of its box's ends: half a pixel past the radius
        (cx, cy), radius = corners[0], float(np.hypot(*(points[1] - points[0]))) + 0.5
        return Outline(where, box=(cx - radius, cy - radius, cx + radius, cy + radius))
    return Outline(where, rings=(corners,), edges=True)  # PIL's outline: its edges' pixels


def _mask_outline(encoded, points: np.ndarray, where: str) -> Outline:
    """The outline of a labelme ``mask`` shape: its PNG (``encoded``, base64) placed at the
    first of its two ``points`` (whole pixels, as labelme places it), each row's runs of
    set pixels a rectangle, filled together (their union)."""
    bitmap = _decoded_mask(encoded, where)
    left, top = np.floor(points[0]).astype(int)
    rings = [
        np.array([(a, row), (b, row), (b, row + 1), (a, row + 1)], dtype=np.float64)
        for row, a, b in _runs(bitmap)
    ]
    if not rings:  # an empty mask: a ring of no area, which fills no pixel
        rings = [np.array([(left, top)] * 3, dtype=np.float64)]
        return Outline(where, rings=tuple(rings))
    rings = [ring + (left, top) for ring in rings]
    return Outline(where, rings=tuple(rings), parts=(1,) * len(rings))


def _decoded_mask(encoded, where: str) -> np.ndarray:
    """The (h, w) bool array of a labelme mask shape's base64 PNG."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(base64.b64decode(str(encoded), validate=False))) as im:
            return np.asarray(im) > 0 if im.mode != "RGB" else np.asarray(im).any(axis=-1)
    except (OSError, ValueError, UnidentifiedImageError) as exc:
        raise DatasetError(
            f"{where}: a mask shape whose PNG cannot be read ({exc}): {FIX}"
        ) from None


def _runs(bitmap: np.ndarray) -> Iterable[tuple[int, int, int]]:
    """(row, first column, column past the last) of each run of set pixels of ``bitmap``."""
    padded = np.pad(bitmap.astype(np.int8), ((0, 0), (1, 1)))
    rows, cols = np.nonzero(np.diff(padded, axis=1))
    for i in range(0, len(rows), 2):
        yield int(rows[i]), int(cols[i]), int(cols[i + 1])


def label_values(labels: Iterable[str], listed: list[str] | None) -> dict[str, int]:
    """``{label: mask value}`` of the labels of a data set, as labelme2voc numbers them: in
    the order of ``listed`` (its ``labels.txt``: a label it lacks is a DatasetError) or
    sorted; :data:`BACKGROUND` 0, :data:`IGNORE` :data:`IGNORE_VALUE`, the others from 1."""
    found = set(labels)
    order = listed if listed is not None else sorted(found)
    classes = [name for name in order if name not in (BACKGROUND, IGNORE)]
    values = {name: i for i, name in enumerate(classes, start=1)}
    return values | {BACKGROUND: 0, IGNORE: IGNORE_VALUE}


def read_labels_file(path: Path) -> list[str]:
    """The labels of a ``labels.txt`` (one a line; blank lines and ``#`` lines aside)."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def unlisted(labels: Iterable[str], values: dict[str, int], path: Path, listed: Path) -> None:
    """DatasetError where a label of the file ``path`` is not in ``listed`` (labels.txt)."""
    missing = sorted(set(labels) - set(values))
    if missing:
        raise DatasetError(
            f"{path}: labels {', '.join(map(repr, missing))} are not in {listed}: add them to "
            "it (one label a line), or rename the shapes in labelme"
        )
