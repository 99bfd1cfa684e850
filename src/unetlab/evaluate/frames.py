"""Where a stack's page sits, for its row of the per-image table: ``page``, and as predict's
objects tables lead with them (:func:`unetlab.inference.measure.plane_columns`), its frame
``t`` with ``t_s`` where the file records a frame interval, and its plane ``z`` (audit s37:
evaluate named a movie's frames ``movie[50]`` only, with no time to plot a score against)."""

from __future__ import annotations

import os
from pathlib import Path

from unetlab.data.tiffmeta import PageAxes, frame_seconds, pages_said, read_page_axes

#: the columns, in predict's order, that end a stack page's row of the per-image CSV
PAGE_COLUMNS = ("page", "t", "t_s", "z")


class PageColumns:
    """Called with a file, a page and the file's page count: the page's columns (``{}`` for a
    one-page image; ``page`` alone for a stack that is no TIFF, MRC nor HDF5: outlines); each
    file's axes and frame interval read once. ``say``: the line of a Fiji stack of slices
    that records a frame interval (:func:`~unetlab.data.tiffmeta.read_page_axes`), whose
    fix, ``--axes TYX``, evaluate --pred refuses (its case says its own:
    :class:`~unetlab.evaluate.case_files.CaseFiles`)."""

    def __init__(self, *, say: bool = True) -> None:
        self.read: dict[Path, PageAxes] = {}
        self._say = say

    def __call__(self, path: str | os.PathLike | None, page: int, pages: int) -> dict:
        if path is None or pages < 2:
            return {}
        path = Path(path)
        if path not in self.read:
            said = pages_said(path)  # an MRC file's sections: z; an HDF5 file's axes
            self.read[path] = (
                read_page_axes(path, pages, say=self._say) if said else PageAxes("Q", (pages,))
            )
        axes = self.read[path]
        at = axes.index(page)
        columns: dict = {"page": page}
        if "t" in at:
            columns["t"] = at["t"]
            if (seconds := frame_seconds(axes.timing)) is not None:
                columns["t_s"] = at["t"] * seconds
        if "z" in at:
            columns["z"] = at["z"]
        return columns
