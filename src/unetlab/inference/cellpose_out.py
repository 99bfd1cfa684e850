"""The objects of each predicted image as cellpose's GUI saves them, ``<stem>_seg.npy``
(``--outlines cellpose``), to correct in its GUI and train on again
(:mod:`unetlab.data.npy` reads the corrected file back as the image's mask).

- :func:`seg_document`: one image's file, the keys the GUI reads when it loads one
  (cellpose ``gui/io.py`` ``_load_seg``): ``masks`` (object ids, 0 background), ``outlines``
  (the ids of the objects' edge pixels; a file without them is "not NPY" to the GUI),
  ``filename`` (the image's absolute path: the GUI opens that image, and saves its
  corrections as ``<image stem>_seg.npy`` beside it, where training pairs it), ``chan_choose``
  (grey) and ``ismanual`` (none drawn by hand). No flows and no copy of the image.
- :func:`write_run_cellpose`: the files of a run, written at its end from each input's
  ``<stem>_objects.tif``; claimed before any work as its other outputs are
  (:func:`~unetlab.inference.output_rules.output_paths`' ``cellpose``): a ``_seg.npy``
  unetlab did not write (a folder predicted into itself: the GUI's own save beside its
  image) is refused, never replaced; one changed since predict wrote it is the user's.

The file is pickled as the GUI's are, ``np.save`` of a dict of plain arrays, strings and
lists (no other object), and read back by unetlab without unpickling it
(:mod:`unetlab.data.seg_pickle`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.data.names import SEG_END
from unetlab.inference.object_planes import placed_inputs, plane_ids, unopened_by
from unetlab.inference.output_rules import output_of
from unetlab.plots import outlines
from unetlab.words import numbered, worded

log = logging.getLogger(__name__)


def seg_document(ids: np.ndarray, image_path: str) -> dict:
    """cellpose's ``_seg.npy`` dict of the 2-D id image ``ids`` (0 background), whose image
    is ``image_path``: ``masks`` uint16 (uint32 from 65,535 objects up, as the GUI keeps
    them), their ids kept (the objects table's); ``ismanual`` one per id up to the largest,
    as the GUI sizes it (``masks.max()``: its objects are numbered 1..N), gaps in ids too."""
    dtype = np.uint16 if int(ids.max(initial=0)) < 2**16 - 1 else np.uint32
    masks = np.ascontiguousarray(ids, dtype=dtype)
    count = int(masks.max(initial=0))  # the GUI's own: one per id up to the last (s74)
    return {
        "masks": masks,
        "outlines": np.where(outlines(masks), masks, 0).astype(dtype),
        "filename": image_path,
        "chan_choose": [0, 0],
        "ismanual": np.zeros(count, bool),
    }


def seg_path(out_dir: str | os.PathLike, path: Path) -> Path:
    """Where the ``_seg.npy`` of input ``path`` goes in ``out_dir``."""
    return output_of(out_dir, path, "cellpose")


def write_run_cellpose(out_dir: Path, files: Sequence[Path], kept: Sequence[Path]) -> list[Path]:
    """The ``_seg.npy`` of each input of ``files`` whose ``<stem>_objects.tif`` in
    ``out_dir`` is one plane (a stack's, a multi-position file's left out, said) and that
    the GUI opens (:func:`~unetlab.inference.object_planes.unopened_by`: an ``.npy``, an
    ``.npz``, an MRC file left out, said: s73 review 1), but those of the inputs ``kept``
    that are there."""
    unfit = unopened_by("cellpose's GUI")
    placed = placed_inputs(out_dir, files, kept, seg_path, "cellpose's _seg.npy", unfit)
    say_seg_beside(out_dir, [path for path, _, _ in placed])
    return [
        write_seg(target, seg_document(plane_ids(tif), os.path.abspath(path)))
        for path, target, tif in placed
    ]


def write_seg(path: Path, document: dict) -> Path:
    """``document`` pickled to ``path`` as cellpose's GUI saves it, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        np.save(out, document, allow_pickle=True)
    return path


def say_seg_beside(out_dir: Path, files: Sequence[Path]) -> None:
    """One warning naming the inputs of ``files`` that have a ``_seg.npy`` of their own
    beside them (not ``out_dir``'s): the GUI saves its corrections of a file written here
    beside the image it names, over that one (cellpose ``_save_sets``: the image's path less
    its ending, ``_seg.npy``; s73 review 2)."""
    ours = {os.path.abspath(seg_path(out_dir, p)): p for p in files}
    beside = [p for p in files if _gui_save(p).is_file() and str(_gui_save(p)) not in ours]
    if not beside:
        return
    them = worded(len(beside), "it", "them")
    log.warning(
        "%s: %s with cellpose's _seg.npy beside %s already: the GUI saves its corrections "
        "of %s/'s _seg.npy files beside the images they name, over %s: back %s up or move "
        "%s aside first",
        f"{beside[0]}, ..." if len(beside) > 1 else beside[0],
        numbered(len(beside), "input"),
        them,
        out_dir,
        them,
        them,
        them,
    )


def _gui_save(image: Path) -> Path:
    """Where cellpose's GUI saves the corrections of ``image``'s objects."""
    return Path(os.path.splitext(os.path.abspath(image))[0] + SEG_END)
