"""The one-plane objects of predicted images, for the outline files that draw on 2-D images
(``--outlines coco``, ``--outlines labelme``: :mod:`unetlab.inference.coco_out`,
:mod:`unetlab.inference.labelme_out`), each built at a run's end from an input's
``<stem>_objects.tif`` and ``<stem>_objects.csv``.

- :func:`unplaced`: why an objects TIFF has no place in such a file (none there: an
  OME-Zarr's objects; a stack's; a slide's, not read whole into memory), from its header.
- :func:`plane_ids`: the 2-D ids of one that has.
- :func:`table_classes`: each object's class from its table (a semantic model's).
- :func:`say_left_out`: one line for each reason inputs were left out.
- :func:`placed_inputs`: the inputs of a run that get a file of one image each (labelme's,
  cellpose's), their left out said; :func:`unopened_by`: those the file's reader cannot
  open, left out.
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from unetlab.outputs import edited_outputs
from unetlab.words import numbered

log = logging.getLogger(__name__)

_NO_TIFF = (
    "no readable <stem>_objects.tif in the folder (--output-format ome-zarr keeps an image's "
    "objects in its .ome.zarr: predict it with --output-format ome-tiff for {fmt})"
)
_PLANES = "a stack or several positions: {fmt} holds 2-D images; their outlines: --outlines geojson"
_LARGE = (
    "a slide (over {size:,} pixels), not read whole into memory; its outlines: --outlines geojson"
)


#: by reader of a file naming its image: the images it opens by that name, and how to give
#: it one of the others (cellpose ``io.imread``: TIFF by tifffile, others by OpenCV, which
#: knows a BigTIFF ``.btf`` by its header; an ``.npy`` it reads as a ``_seg.npy``'s masks;
#: labelme ``LabelFile.load_image_file``: Pillow, GIF too (s74 review 3: left out); a TIFF
#: by any of its names, Pillow opening it by its content: :func:`unshown_by_labelme`)
OPENERS = {
    "cellpose's GUI": (
        (".tif", ".tiff", ".btf", ".png", ".jpg", ".jpeg", ".bmp", ".webp"),
        "convert it to TIFF (tifffile.imwrite) and predict the TIFF",
    ),
    "labelme": (
        (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif"),
        "convert it to PNG and predict the PNG",
    ),
}

#: the Pillow modes labelme shows as Pillow opens them (7.1 ``_DISPLAYABLE_MODES``); a TIFF
#: of others it reads with tifffile, scaled to 8 bits, by a ``.tif``/``.tiff`` name only
LABELME_MODES = frozenset({"1", "L", "P", "RGB", "RGBA", "LA", "PA"})


def unopened_by(reader: str) -> Callable[[Path], str | None]:
    """The ``unfit`` of :func:`placed_inputs` for files whose ``reader`` (of
    :data:`OPENERS`: cellpose's GUI, labelme) opens the image they name: why it cannot open
    input ``path`` (an ``.npy``, an ``.npz``, an MRC or NIfTI file: none it opens), else
    None."""
    from unetlab.data.tiff_files import is_tiff_name

    opened, fix = OPENERS[reader]
    why = f"{reader} cannot open such an image by the name its file gives and loads nothing: {fix}"

    def unopened(path: Path) -> str | None:
        return None if path.suffix.lower() in opened else why

    if reader == "labelme":
        return lambda path: unshown_by_labelme(path) if is_tiff_name(path) else unopened(path)
    return unopened


def unshown_by_labelme(path: Path) -> str | None:
    """Why labelme cannot show the TIFF ``path`` (any of its names: ``.lsm``, ``.scn``...;
    s75 review 6): one Pillow opens in a mode of :data:`LABELME_MODES` it shows, others it
    reads with tifffile by a ``.tif``/``.tiff`` name only (labelme 6.0 on: float, 16-bit,
    signed). Pillow's size limit off, as labelme sets it (s75 review 5: a 14000² 8-bit TIFF
    was told "no TIFF of such pixels"). Pillow reads the header alone; None where it opens."""
    from PIL import Image, UnidentifiedImageError

    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as image:
            mode = image.mode
    except UnidentifiedImageError:
        mode = None
    except OSError:
        return None  # unread here (gone since): the objects TIFF's reasons tell
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    if mode in LABELME_MODES or path.suffix.lower() in (".tif", ".tiff"):
        return None
    pixels = f"mode {mode}" if mode else "such pixels (float64, signed RGB...)"
    return (
        f"labelme reads a TIFF of {pixels} only by a .tif or .tiff name: copy it to "
        f"{path.stem}.tif (or convert it to 8-bit PNG) and predict that"
    )


def unplaced(tif: Path) -> str | None:
    """Why the objects TIFF ``tif`` has no place in a file of 2-D outlines (a template of
    ``{fmt}``, the file's format), by its header; None for one plane of up to
    :data:`~unetlab.inference.slides.LARGE_PIXELS`."""
    import tifffile

    from unetlab.data.tiff_files import open_tiff
    from unetlab.inference.slides import LARGE_PIXELS

    if not tif.is_file():
        return _NO_TIFF
    try:
        with open_tiff(tif) as f:
            shape = f.series[0].shape
    except (tifffile.TiffFileError, OSError, IndexError, ValueError):
        return _NO_TIFF
    if len([n for n in shape if n > 1]) > 2 or len(shape) < 2:
        return _PLANES
    if shape[-2] * shape[-1] > LARGE_PIXELS:
        return _LARGE.format(size=LARGE_PIXELS)
    return None


def plane_ids(tif: Path) -> np.ndarray:
    """The (H, W) ids of the objects TIFF ``tif`` of one plane (:func:`unplaced` None)."""
    from unetlab.data.tiff_files import open_tiff

    with open_tiff(tif) as f:
        ids = f.series[0].asarray()
    return ids.reshape(ids.shape[-2:])


def table_classes(table: Path) -> dict[int, int] | None:
    """Each object's ``class`` by id from its objects table (a semantic model's), else None."""
    if not table.is_file():
        return None
    with table.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or "class" not in rows[0]:
        return None
    return {int(r["id"]): int(r["class"]) for r in rows if r.get("class") not in (None, "")}


def say_left_out(path: Path, left_out: dict[str, list[str]], fmt: str) -> None:
    """One line for each reason (:func:`unplaced`) inputs are left out of ``path``, a file
    of the format ``fmt`` (``COCO``, ``labelme``)."""
    for why, inputs in left_out.items():
        first = f"{inputs[0]}, ..." if len(inputs) > 1 else inputs[0]
        reason = why.replace("{fmt}", fmt)
        log.warning("%s: %s left out (%s): %s", path, numbered(len(inputs), "input"), first, reason)


def placed_inputs(
    out_dir: Path,
    files: Sequence[Path],
    kept: Sequence[Path],
    target_of: Callable[[Path, Path], Path],
    fmt: str,
    unfit: Callable[[Path], str | None] = lambda path: None,
) -> list[tuple[Path, Path, Path]]:
    """``(input, its file, its objects TIFF)`` of each of ``files`` whose file of the format
    ``fmt`` (at ``target_of(out_dir, input)``) is written from its ``<stem>_objects.tif`` in
    ``out_dir`` at a run's end: one plane (:func:`unplaced`: the others left out, said), and
    not one of the inputs ``kept`` (``--skip-existing``) whose file is there, nor a file the
    user changed since (:func:`~unetlab.outputs.edited_outputs`: kept under ``overwrite``);
    ``unfit``: why an input has no file of the format (its reader cannot open it), or None."""
    from unetlab.inference.slides import output_stem

    placed, left_out, kept, edited = [], {}, set(kept), edited_outputs(out_dir)
    for path in files:
        target = target_of(out_dir, path)
        if (path in kept or target.name in edited) and os.path.lexists(target):
            continue  # an input skipped, or a file the user corrected: kept as it is
        tif = out_dir / f"{output_stem(path)}_objects.tif"
        if why := unfit(path) or unplaced(tif):
            left_out.setdefault(why, []).append(path.name)
            continue
        placed.append((path, target, tif))
    say_left_out(out_dir, left_out, fmt)
    return placed
