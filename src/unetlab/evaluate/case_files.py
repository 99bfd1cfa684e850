"""Which scored pages are slices of a volume scored whole too (a case:
:mod:`unetlab.evaluate.cases`), and each case's voxel: a NIfTI volume (a CT or MRI; a DICOM
series' labels are one) and a TIFF z-stack whose pages are Z planes a recorded z spacing
apart (an OME-TIFF or an ImageJ hyperstack of a microscope's volume), each file looked at
once an evaluation.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Protocol

from unetlab.data.names import less_ome
from unetlab.data.nifti import is_nifti
from unetlab.data.read_notes import note_alike
from unetlab.data.tiff_files import is_tiff_name
from unetlab.data.tiffmeta import PixelSize, read_page_axes, read_pixel_size, slices_timed
from unetlab.evaluate.cases import CaseVoxel
from unetlab.inference.measure import UNITS
from unetlab.words import twelve_digits

log = logging.getLogger(__name__)

#: the line of a case's Fiji stack of slices that records a frame interval, less its name and
#: numbers: what gathers a folder of them (:func:`~unetlab.data.read_notes.note_alike`)
TIMED_CASE = (
    "its pages are ImageJ's slices a z spacing apart, yet it records a frame interval: "
    "scored as Z planes, one volume (a case), as Fiji shows them; if they are time points, "
    "save them as frames (Fiji: Image > Properties, Slices 1, Frames its pages) and evaluate "
    "again"
)


class Paged(Protocol):
    """A scored page (:class:`~unetlab.evaluate.masks.MaskPage`,
    :class:`~unetlab.data.pairs.Pair`): its NIfTI ``case`` (None for others), its file's
    ``stem`` and ``pages``, its ``files``: its truth's and its image's (None: unknown), and
    whether its truth is ``sliced``: a mask of its one plane (``man_seg_TTT_ZZZ.tif``)."""

    case: str | None
    stem: str
    pages: int
    files: tuple[Path | None, Path | None]
    sliced: bool


class CaseFiles:
    """The cases of an evaluation's pages (:meth:`case`) and their voxels (``voxels``:
    :class:`~unetlab.evaluate.cases.CaseVoxel` by case, for
    :func:`~unetlab.evaluate.cases.case_rows`). ``image_said``: the line of a case's image
    that records a frame interval is said by its reader (evaluate --checkpoint's
    :class:`~unetlab.evaluate.frames.PageColumns`, naming --axes TYX), not here; its truth's
    still is (:meth:`_say_timed`)."""

    def __init__(self, *, image_said: bool = False) -> None:
        self.voxels: dict[str, CaseVoxel] = {}
        self._image_said = image_said  # the reader says a timed image: the truth's said here
        self._sizes: dict[Path, PixelSize | None] = {}  # each file's, read once
        self._stacks: dict[Path, bool] = {}

    def case(self, page: Paged) -> str | None:
        """The case of a scored ``page``: the NIfTI case it names (``page.case``), else its
        ``stem`` less an ``.ome`` (as predict's outputs are named: s74) where its truth or
        image (``page.files``) is a z-stack (:meth:`_z_stack`) whose every plane it scores
        (not so a plane's own mask: a frame annotated on 2 slices of 6 is no volume);
        None for a page of no volume. Its voxel is kept in :attr:`voxels`, of the first of
        the files that records its size and z spacing (what made it a case), one that
        records its spacing before one of Fiji's implied 1 unit (a mask saved without it
        doubled each volume of a 0.5 µm stack, s75 review); said where its truth and image
        record two voxels (:func:`_say_voxels`)."""
        known = [Path(f) for f in page.files if f is not None]
        whole = page.pages > 1 and not page.sliced
        stack = whole and any(self._z_stack(f, page.pages) for f in known)
        case = page.case or (less_ome(page.stem) if stack else None)  # cells.ome.tif: cells
        if case is not None and case not in self.voxels:
            found = ((f, self._size(f)) for f in known if is_nifti(f) or is_tiff_name(f))
            spaced = [(f, s) for f, s in found if s is not None and s.spacing is not None]
            recorded = sorted(spaced, key=lambda fs: fs[1].implied)  # over Fiji's implied 1
            self.voxels[case] = voxel_of(recorded[0][1] if recorded else None)
            _say_voxels(case, [fs for fs in recorded if not fs[1].implied])
            stacks = [f for f in known if stack and self._z_stack(f, page.pages)]
            self._say_timed(case, stacks, page.files[1], page.pages)
        return case

    def _say_timed(self, case: str, stacks: list[Path], image, pages: int) -> None:
        """One line where the first of a case's z-stack files ``stacks`` (of ``pages``
        pages) records a frame interval: ImageJ's slices are scored as Z, one volume, as
        Fiji shows them (it was unsaid, s75; evaluate --pred takes no --axes to read them
        as frames); a folder of them: the first said, the files counted at the end
        (:func:`~unetlab.data.read_notes.note_alike`). None where ``image_said`` and the
        case's ``image`` records one: its reader said it (a mask's was unsaid, s75 review)."""
        if self._image_said and image is not None and _timed(Path(image)) is not None:
            return
        timed = ((f, _timed(f)) for f in stacks)
        if (found := next(((f, s) for f, s in timed if s is not None), None)) is None:
            return
        path, seconds = found
        line = (
            f"its {pages} pages are ImageJ's slices, {self._size(path).spacing:g} µm apart, "
            f"yet it records a frame interval ({seconds:g} s): scored as Z planes, one "
            f"volume (case {case}), as Fiji shows them; if they are time points, save them "
            f"as frames (Fiji: Image > Properties, Slices 1, Frames {pages}) and evaluate again"
        )
        if not note_alike(path.name, TIMED_CASE, first=line):
            log.warning("%s: %s", path.name, line)

    def _z_stack(self, path: Path, pages: int) -> bool:
        """Whether the TIFF ``path`` of ``pages`` pages records them as Z planes (no time
        axis: a movie's frames are no volume) and a z spacing between them."""
        if path not in self._stacks:
            self._stacks[path] = (
                is_tiff_name(path)
                and read_page_axes(path, pages, say=False).letters == "Z"
                and getattr(self._size(path), "spacing", None) is not None
            )
        return self._stacks[path]

    def _size(self, path: Path) -> PixelSize | None:
        if path not in self._sizes:
            self._sizes[path] = read_pixel_size(path)
        return self._sizes[path]


#: the line of a case whose truth and image record two voxels, less its name and numbers
OTHER_VOXELS = (
    "its voxel is not its image's: the case's volumes take the truth's; record one in both "
    "(Fiji: Image > Properties)"
)


def _say_voxels(case: str, stated: list[tuple[Path, PixelSize]]) -> None:
    """One line where a ``case``'s truth and image (``stated``: each file that records its
    size and z spacing, the truth first) record two voxels: its volumes take the truth's
    (an image 0.5 µm apart and a mask 1 µm apart gave volumes twice the image's, unsaid:
    second s75 review); a folder of them: the first said, the files counted at the end."""
    voxels = [(s.size, s.spacing) for _, s in stated]
    if len(set(voxels)) < 2:
        return
    (path, _), (_, image) = stated[:2]
    sides = ["x".join(f"{v:g}" for v in (*size, z)) for size, z in voxels[:2]]
    line = (
        f"its voxel, {sides[0]} µm, is not its image's, {sides[1]} µm: case {case}'s volumes "
        f"take the truth's; record one in both (Fiji: Image > Properties)"
    )
    if not note_alike(str(path), OTHER_VOXELS, first=line):
        log.warning("%s: %s", path, line)


def _timed(path: Path) -> float | None:
    """The frame interval (s) of the ImageJ stack of slices ``path`` (:func:`~unetlab.data.
    tiffmeta.slices_timed`); None for others and files that are no TIFF."""
    return slices_timed(path) if is_tiff_name(path) else None


def voxel_of(size: PixelSize | None) -> CaseVoxel:
    """The voxel of a volume of pixel ``size`` (µm, and its z spacing) in the unit its
    tables give (mm3 for a CT's, µm3 else: its ``shown`` unit), to 12 digits (0.8 x 0.8 x
    2.5 mm is 1.6 mm3); 1 voxel where it records no size or no z spacing."""
    if size is None or size.spacing is None:
        return CaseVoxel()
    per = UNITS[size.shown]
    volume = math.prod(side * per for side in (*size.size, size.spacing))
    return CaseVoxel(twelve_digits(volume), f"{size.shown}3")
