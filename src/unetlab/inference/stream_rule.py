"""Which inputs are predicted window by window (:func:`~unetlab.inference.slides.predict_slide`)
and which are read whole: one rule for a file predicted alone, for a folder shared over
processes (a streamed file is all processes', each its band of rows; a file read whole is
one process's) and for the folder's start line (``N file(s) (M large)``).

Streamed: Zarr / OME-Zarr folders, any pyramid level above 0 and TIFFs of more than
``large_threshold`` px a page (:func:`~unetlab.inference.slides.is_large`; default
``LARGE_PIXELS``), and, with no threshold given, a TIFF whose whole read is estimated above
:data:`~unetlab.inference.sizing.WHOLE_BUDGET` bytes (:func:`whole_estimate`; audit s32
histo 7), unless settings that apply to images read whole only are given. A stack counts
all its pages (audit s34 stacks 5: a 100-frame 1024 x 1024 movie was read whole, 1.5 GB
and rising after 120 s); streamed, it keeps its T and Z axes, but its overlay (a TYXS
stack read whole; a streamed one draws one page) keeps it read whole. Where
several processes share a folder and objects or an overlay are asked for, which a stream
shared by all does not find, such a file is streamed by the one process it is dealt to
(:func:`streamed_alone`), as a single process streams it: each process's memory stays that of
a run of one (review s33 5: it was read whole; a 9 MP RGB TIFF under ``--nproc 2
--instances`` with few objects peaked at 923 MB, now 705 MB, as ``--nproc 1``'s 715 MB).

Objects cost a whole read about 90 B/px more (:data:`~unetlab.inference.sizing.OBJECT_BYTES`),
so a one-page TIFF between the two estimates (8-bit grey, two classes: about 2,100^2 to
4,900^2 px; a 4,096^2 one read whole without ``--instances`` and streamed with it) is
streamed only when objects are asked for: its outputs then take the streamed form (a
pyramidal OME-TIFF ``<stem>.tif``, where read whole it gives ``<stem>.png``, or ``.tif``
where it records a pixel size), and a run killed part-way resumes it (a whole read starts
it again; objects resume with ``--save-probabilities``, else restart the page). The
outputs' form follows memory, not the flags (a 4,096^2 image's objects read whole are
estimated at about 2 GB), so :func:`memory_note` says so when it happens, and
``--large-pixels N`` (``large_threshold=N``) fixes the choice for both: a threshold given
replaces the memory rule.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import torch
from PIL import Image

from unetlab.data.czi import is_czi_name
from unetlab.data.h5 import is_h5_name
from unetlab.data.io import TIFF_SUFFIXES, ome_positions, stack_shape
from unetlab.data.mrc import is_mrc_name
from unetlab.data.npy import is_npy_name
from unetlab.data.positions import reading_position
from unetlab.data.shown import shown_path
from unetlab.data.slides import is_zarr, reads_by_window, shape_as_read, slide_header
from unetlab.data.tiff_files import HEADERS, keeping_open, real_path
from unetlab.data.tiffmeta import read_page_axes
from unetlab.errors import ImageReadError, Spelled, UnetlabError, said_as
from unetlab.inference import sizing
from unetlab.inference.outlines import GEOJSON_OUTLINES, ROI_SIDE, rois_fit
from unetlab.inference.predict import PredictOptions
from unetlab.inference.records import OutputOptions
from unetlab.inference.slides import check_bare_channels, is_large, output_stem


def read_whole_anyway(
    files: Sequence[str | os.PathLike],
    threshold: int | None,
    named: Callable[[Path], str] = shown_path,
) -> str | None:
    """The line for a ``threshold`` given (``--large-pixels N``) that an input over it does
    not follow: only TIFF, Zarr, MRC and ``.npy`` inputs are streamed, so a PNG or JPEG of
    more pixels is read whole (a 9 MP PNG under ``--large-pixels 1000000`` was, without a
    word: s56 new user), and so is an ``.npz`` (its arrays cannot be memory-mapped: s73).
    The first such input is named as ``named`` says (a header read each, until one is
    over); None where none is, or no threshold is given."""
    if threshold is None:
        return None
    for path in map(Path, files):
        if (pixels := _whole_pixels(path)) is not None and pixels > threshold:
            fix = (
                "an .npz cannot be memory-mapped: save its array with np.save(path, array) as "
                "an .npy to stream it"
                if is_npy_name(path)
                else "convert it to TIFF to stream it"
            )
            given = said_as(large_pixels(threshold))
            return f"{named(path)}: {pixels:,} px, read whole: {given} streams {STREAMED} ({fix})"
    return None


#: the inputs that ``--large-pixels`` streams, as :func:`read_whole_anyway` says them
STREAMED = "TIFF, Zarr, MRC, HDF5, CZI and .npy inputs only"


def _whole_pixels(path: Path) -> int | None:
    """The pixels of a page of ``path`` where it is read whole whatever its size (a PNG, a
    JPEG, an ``.npz``); None for the inputs that stream, a pickle (cellpose's ``_seg.npy``:
    no image) and what cannot be read (as it is read, it says why)."""
    if path.suffix.lower() in TIFF_SUFFIXES or is_zarr(path) or is_mrc_name(path):
        return None
    if is_h5_name(path) or is_czi_name(path):  # by h5py's slices, by libCZI's regions
        return None
    if is_npy_name(path):
        if path.suffix.lower() != ".npz" or not path.is_file():
            return None
        with contextlib.suppress(ImageReadError):
            return math.prod(stack_shape(path)[1:])  # its member's header: not decompressed
        return None
    pil_errors = (OSError, ValueError, Image.DecompressionBombError)
    with contextlib.suppress(*pil_errors), Image.open(path) as image:
        return image.width * image.height
    return None


def is_streamed(
    path: str | os.PathLike,
    model: torch.nn.Module,
    outputs: OutputOptions | None = None,
    options: PredictOptions | None = None,
    *,
    axes: str | None = None,
    processes: int = 1,
) -> bool:
    """Whether ``path`` is predicted window by window by ``model`` with ``outputs`` and
    ``options`` (resolved for the model: :meth:`PredictOptions.for_model`), ``axes`` given
    or not, in a run of ``processes`` (this module's rule). UnetlabError for an unreadable
    TIFF, as :func:`~unetlab.inference.slides.is_large` raises it."""
    path, outputs = Path(path), OutputOptions.of(outputs)
    if is_large(path, threshold=outputs.large_threshold, level=outputs.level, axes=axes):
        return True
    if processes > 1 and _found_alone(outputs):
        return False  # found in one process: not streamed by all (streamed_alone)
    whole = whole_estimate(path, model, outputs, options, axes=axes, stacks=True)
    return whole is not None and whole[1] > sizing.WHOLE_BUDGET


def streamed_alone(
    path: str | os.PathLike,
    model: torch.nn.Module,
    outputs: OutputOptions | None = None,
    options: PredictOptions | None = None,
    *,
    axes: str | None = None,
    processes: int = 1,
) -> bool:
    """Whether ``path``, in a folder shared by ``processes`` > 1, is streamed by the one
    process it is dealt to, as a run of one would stream it (:func:`is_streamed`): objects or
    an overlay are asked for, which a stream shared by all does not find."""
    if processes == 1 or not _found_alone(OutputOptions.of(outputs)):
        return False
    return is_streamed(path, model, outputs, options, axes=axes)


def later_position_streamed(
    path: str | os.PathLike,
    model: torch.nn.Module,
    outputs: OutputOptions | None = None,
    options: PredictOptions | None = None,
    *,
    axes: str | None = None,
) -> bool:
    """Whether a position after the first of a multi-position OME-TIFF is streamed: each is
    decided by its own size, as a run of one decides it (the folder's start line counts the
    file large by any of them); False for other files."""
    names = ome_positions(path)
    with keeping_open(path):  # opened once over its positions
        for i in range(1, len(names)):
            with reading_position(path, i, len(names)):
                if is_streamed(path, model, outputs, options, axes=axes):
                    return True
    return False


def memory_note(path: Path, model, outputs=None, options=None, *, axes=None) -> str | None:
    """The line said before a one-page TIFF is streamed by the memory rule (not its pixel
    count): why, and where objects tipped it, that without them it is read whole, with the
    ``--large-pixels`` that gives one form either way (the module's docstring); None for
    others. The arguments as :func:`is_streamed`'s."""
    path, outputs = Path(path), OutputOptions.of(outputs)
    if is_large(path, threshold=outputs.large_threshold, level=outputs.level, axes=axes):
        return None
    layout = _layout(path, model, outputs, options, axes)  # read once, with objects or not
    objects = outputs.objects is not None
    if layout is None or layout.pages > 1 or layout.bytes(model, objects) <= sizing.WHOLE_BUDGET:
        return None
    pixels, bytes_ = layout.pixels, layout.bytes(model, objects)
    line = f"{shown_path(path)}: {pixels / 1e6:.1f} MP read window by window (pyramidal outputs"
    line += f"{_resumed(outputs)}), as its whole read would take about {bytes_ / 1e9:.1f} GB"
    if objects and layout.bytes(model, objects=False) <= sizing.WHOLE_BUDGET:
        line += " with objects (without them it is read whole, its outputs PNG or TIFF)"
    both, whole_too = said_as(large_pixels(pixels - 1)), said_as(large_pixels(pixels))
    return f"{line}; {both} streams it either way, {whole_too} reads it whole"


def mrc_stream_note(path: Path, outputs: OutputOptions | None = None) -> str | None:
    """The line said before an MRC file is streamed into OME-Zarr outputs: its labels are
    ``<stem>.ome.zarr``, which 3dmod and ChimeraX do not read, not the MRC label file
    ``<stem>.mrc`` that OME-TIFF outputs (the default) have, read whole or streamed
    (:func:`~unetlab.inference.slides.streamed_names`; s72: streamed ones were a TIFF,
    said in this line). None for other files and outputs."""
    outputs = OutputOptions.of(outputs)
    if not is_mrc_name(path) or outputs.output_format != "ome-zarr":
        return None
    stem = output_stem(path)
    return (
        f"{shown_path(path)}: an MRC file read window by window into OME-Zarr outputs: its "
        f"labels are {stem}.ome.zarr, not the MRC label file {stem}.mrc that "
        f"{said_as(OME_TIFF)} writes"
    )


#: the output format of the MRC label files of a streamed tomogram (:func:`mrc_stream_note`)
OME_TIFF = Spelled("output_format='ome-tiff'", "--output-format ome-tiff")


def large_pixels(n: int) -> Spelled:
    """The threshold ``n`` as the Python API (``large_threshold=N``) and the command line
    (``--large-pixels N``) give it: inputs of more than ``n`` pixels a page are streamed."""
    return Spelled(f"large_threshold={n}", f"--large-pixels {n}")


def _resumed(outputs: OutputOptions) -> str:
    """ "; a stopped run resumes it" where a rerun resumes a streamed image stopped part-way;
    "" where it starts its page again (objects found from probabilities not staged: slides'
    resume rule), which the streaming line says (it was said twice: s57)."""
    if not outputs.objects_only:
        return "; a stopped run resumes it"
    return ""


def _found_alone(outputs: OutputOptions) -> bool:
    """Whether ``outputs`` ask for what one process finds over a whole image."""
    return outputs.objects is not None or outputs.draw_overlay


def whole_estimate(
    path: str | os.PathLike,
    model: torch.nn.Module,
    outputs: OutputOptions | None = None,
    options: PredictOptions | None = None,
    *,
    axes: str | None = None,
    stacks: bool = False,
) -> tuple[int, float] | None:
    """(pixels, :func:`~unetlab.inference.sizing.whole_read_bytes`) of a one-page TIFF (with
    ``stacks``, of any TIFF, its pages counted) that the memory rule may stream instead of
    reading it whole; None for others: a threshold given (``outputs.large_threshold``: the
    user's word), settings that apply to images read whole only (``axes`` that read the
    file otherwise than it says, not only what its pages are:
    :func:`~unetlab.data.slides.refuse_other_layout`; ``options.exclude_rows`` or ``scale``,
    a stack's overlay), a turned or unreadable file (read whole, which says why). ImageJ ROIs
    stream too (kept read whole before their streamed ROIs were written, s64 review)."""
    outputs = OutputOptions.of(outputs)
    read = _layout(Path(path), model, outputs, options, axes)
    if read is None or (read.pages > 1 and (not stacks or outputs.draw_overlay)):
        return None
    return read.pages * read.pixels, read.bytes(model, outputs.objects is not None)


def whole_read_note(
    path: str | os.PathLike,
    model: torch.nn.Module,
    outputs: OutputOptions | None = None,
    options: PredictOptions | None = None,
    *,
    axes: str | None = None,
    least: int,
) -> str | None:
    """The line said before a TIFF of ``least`` pixels or more (all its pages) is read
    whole: what it costs and the threshold that streams it, as the caller gives it
    (``--large-pixels N``, ``large_threshold=N``: :func:`large_pixels`; a stack page by page:
    audit s34 stacks 5, where a long movie's whole read said nothing), or where ``axes``
    read it otherwise than its file does (:func:`_read_otherwise`), how it streams; None for
    others."""
    path, outputs = Path(path), OutputOptions.of(outputs)
    with HEADERS.stamped(real_path(path)):  # one stat for both looks
        read = _layout(path, model, outputs, options, axes, said=True)
    if read is None or read.pages * read.pixels < least:
        return None
    pages, pixels, stack = read.pages, read.pixels, read.pages > 1
    bytes_ = read.bytes(model, outputs.objects is not None)
    noun = read_page_axes(path, pages).noun() if stack and read.streams else "pages"
    one = noun.removesuffix("s")
    what = f"{pages} {noun}, " if stack else ""
    how = f" {one} by {one} (its T and Z kept)" if stack else ""
    drawn = (
        f"; its overlay then draws the first {one} only" if stack and outputs.draw_overlay else ""
    )
    line = f"{shown_path(path)}: {what}{pages * pixels / 1e6:.1f} MP read whole (about "
    line += f"{bytes_ / 1e9:.1f} GB beside the tiles); "
    if read.rois:  # s64 re-review: a one-level TIFF past ImageJ ROIs' side
        held = "; its GeoJSON holds them" if outputs.wanted["geojson"] else ""
        return line + (  # s66: it did not say that those objects get no ROI
            f"ImageJ ROIs stop at {ROI_SIDE:,} px, which its one level is over: its objects "
            f"past it get no ROI{held} (streamed, it would get none): "
            f"{said_as(GEOJSON_OUTLINES)} streams it"
        )
    if not read.streams:  # its pages are one image's rows: saved with its axes, it streams
        return line + (
            f"the axes {axes.upper()} read it otherwise than its file does, which a read window "
            f"by window cannot: save it with its axes (tifffile.imwrite(..., metadata={{'axes': "
            f"'{axes.upper()}'}})) to stream it"
        )
    return (
        f"{line}{said_as(large_pixels(pixels - 1))} streams it{how}, with a line every 10% of "
        f"its tiles{drawn}"
    )


class _Layout(NamedTuple):
    """What a TIFF's header says of its whole read (:func:`_layout`): its ``pages``, the
    ``pixels`` of a page, their ``channels`` and bytes a sample (``itemsize``)."""

    pages: int
    pixels: int
    channels: int
    itemsize: int
    streams: bool = True  # False: read by axes that the streaming path cannot read it by
    rois: bool = False  # True: read whole for its ImageJ ROIs (:func:`_rois_whole`)

    def bytes(self, model, objects: bool) -> float:
        """:func:`~unetlab.inference.sizing.stack_read_bytes` of all its pages."""
        sizes = (self.pages, self.pixels, self.channels, self.itemsize, model.num_classes)
        return sizing.stack_read_bytes(*sizes, objects=objects)


def _layout(
    path: Path, model, outputs: OutputOptions, options, axes, *, said: bool = False
) -> _Layout | None:
    """The :class:`_Layout` of a TIFF or MRC file the memory rule may stream
    (:func:`whole_estimate`), from its header, None for others; ``said`` (for
    :func:`whole_read_note`): also of one that ``axes`` read otherwise than its file does
    (:func:`_read_otherwise`: read whole) and of one read whole for its ImageJ ROIs
    (:func:`_rois_whole`)."""
    if not reads_by_window(path) or outputs.large_threshold is not None:
        return None
    rows = options is not None and (options.exclude_rows or options.scale != 1)  # --scale too
    if rows:
        return None
    colour_planes = model.in_channels == 3
    try:  # axes that read it otherwise than its file does: read whole (slides.open_slide)
        slide = slide_header(path, colour_planes=colour_planes, axes=axes)
        check_bare_channels(slide, model.in_channels)  # one image's channels
    except UnetlabError:  # read whole, which names the problem
        return _read_otherwise(path, colour_planes, axes) if said else None
    (pages, h, w, c), itemsize = slide.shape, slide.dtype.itemsize
    turned = slide.turn != 1  # a turned one is turned when read whole
    rois = _rois_whole(slide, outputs)
    if turned or (rois and not said):
        return None
    return _Layout(pages, h * w, c, itemsize, rois=rois)


def _rois_whole(slide, outputs: OutputOptions) -> bool:
    """Whether ``slide``'s ImageJ ROIs keep it read whole: one level with a side over
    :data:`~unetlab.inference.outlines.ROI_SIDE` px, which streamed is refused (its ROIs'
    16-bit coordinates); read whole, its objects' ROIs are written where they lie under it
    (s64 re-review: streamed, it was refused, told a level it has not)."""
    _, h, w, _ = slide.shape
    return outputs.wanted["rois"] and slide.levels == 1 and not rois_fit(h, w)


def _read_otherwise(path: Path, colour_planes: bool, axes: str | None) -> _Layout | None:
    """The :class:`_Layout` of a TIFF that ``axes`` read otherwise than its file does (its
    pages as one image's rows: :func:`~unetlab.data.slides.shape_as_read`), read whole
    whatever its size (``streams`` False); None for others."""
    try:
        slide = slide_header(path, colour_planes=colour_planes)
    except UnetlabError:
        return None
    (pages, h, w, c), itemsize = shape_as_read(slide, axes), slide.dtype.itemsize
    if (pages, h, w, c) == slide.shape or slide.turn != 1:
        return None
    return _Layout(pages, h * w, c, itemsize, streams=False)
