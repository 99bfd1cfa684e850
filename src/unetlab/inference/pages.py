"""How :func:`~unetlab.inference.files.predict_file` reads an image file's pages: as its
metadata says (ImageJ, OME, tifffile's axes), or as the user says (``--axes``, ``axes=``),
for a file that records none; with one line for what cannot be what the file means (pages
a few pixels wide: a (Y, X, C) array saved without axes) and for pages read as planes
only because the file says nothing (audit s28 'stacks', findings 3 and 4)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from unetlab.data.colour import colour_file
from unetlab.data.io import (
    AXES_GIVEN,
    CHANNEL_GIVEN,
    THIN,
    TIFF_SUFFIXES,
    axes_problem,
    bare_planes,
    named_planes,
    read_stack,
    stain_axes,
    tiff_layout,
    trained_file_axes,
)
from unetlab.data.names import NAME_THEM, channel_named, listed, named_by_digits
from unetlab.data.npy import data_set_held, is_npy_name, npy_axes, npy_shape
from unetlab.data.positions import series_of
from unetlab.data.read_notes import note_alike, note_once
from unetlab.data.shown import shown_path
from unetlab.data.slides import zarr_channels
from unetlab.data.tiff_files import open_tiff
from unetlab.data.tiffmeta import (
    AXES_AS,
    PageAxes,
    channel_names,
    read_page_axes,
    tiff_timing,
)
from unetlab.errors import Spelled, UnetlabError, in_command, said_as, spelled
from unetlab.words import numbered

log = logging.getLogger(__name__)

#: the settings this module's lines name, as the Python API and the command line spell them
#: (each line gave both, "--axes CYX (Python: axes='CYX')", s55): ``X[cli]`` picks one; the
#: data's AXES_GIVEN, AXES_AS and CHANNEL_GIVEN too
CHANNEL_C = Spelled("channel=C", "--channel C")
CHANNEL_0 = Spelled("channel=0", "--channel 0")
OBJECTS_3D = Spelled("objects_3d=True", "--objects-3d")
NO_OBJECTS_3D = Spelled("objects_3d=False", "drop --objects-3d")


def axes_fix(axes: str, cli: bool | None = None) -> str:
    """How the messages say to give ``axes``: as the command line's flag (``cli``) or the
    Python keyword; None: as the caller that runs spells it (:func:`~unetlab.errors.in_command`,
    for a line logged)."""
    return AXES_AS[in_command() if cli is None else cli].format(axes)


def trained_axes(model) -> str | None:
    """The axes ``model``'s training read its TIFFs with (``data.axes`` of the config its
    checkpoint records, e.g. ZYX for ImageJ stacks saved without axes); None for none."""
    axes = (getattr(model, "training_data", None) or {}).get("axes")
    return axes.upper() if isinstance(axes, str) and axes else None


def stains_of(model) -> str | None:
    """What ``model`` was trained on, as the grey refusal names it
    (:func:`~unetlab.data.io.grey_for_stains`), where its channels (> 1) are stains, not an
    RGB picture's colours, so a grey image is not repeated into them: its axes where its
    checkpoint records them with C (CYX, not YXC); where it records none, what its training
    images' channels were as its checkpoint records them (``appearance["channels"]``:
    "stains" -> "uint16 images", say, "uint16 and uint8 images" for a set of both;
    "colours": a 16-bit RGB TIFF's); in an older checkpoint, its training images' dtype where
    that is no 8-bit colour picture's ("uint16 images": a fluorescence model's channels).
    None where they are colours or nothing tells (an ImageNet encoder, imagenet or tissue
    normalisation, 8-bit images, an older checkpoint without them)."""
    if getattr(model, "in_channels", 1) < 2:
        return None
    if (axes := trained_axes(model)) is not None:
        return axes if stain_axes(axes) else None
    record = getattr(model, "appearance", None) or {}
    if (kind := record.get("channels")) is not None:  # the training images', as read
        dtypes = record.get("dtypes") or [record.get("dtype")]  # several: data.appearance
        return f"{' and '.join(map(str, dtypes))} images" if kind == "stains" else None
    norm = getattr(model, "normalization", None) or {}
    if norm.get("mode") == "imagenet" or norm.get("tissue") or hasattr(model, "encoder"):
        return None  # bright-field colour, or an RGB encoder's input
    dtype = str(record.get("dtype"))
    return None if dtype in ("None", "uint8") else f"{dtype} images"


def run_axes(model, axes: str | None) -> str | None:
    """The axes a prediction of ``model`` reads TIFFs with, as its records hold them:
    ``axes`` where given (``--axes``, ``axes=``), else the checkpoint's (:func:`trained_axes`),
    so that outputs read so are those of the same settings given or not."""
    return axes if axes is not None else trained_axes(model)


def file_read_axes(
    model, path: str | os.PathLike, axes: str | None, *, say: bool = True
) -> str | None:
    """The axes ``path`` is read with by ``model``: ``axes`` where given; none given, the
    checkpoint's for a TIFF of as many axes that states none or the same (``say``: said
    once, :func:`say_trained_axes`), None for others (a PNG, a plane, an OME-TIFF of ZYX for
    a TYX model: read as they are; ImageReadError for one whose own cannot be the model's:
    :func:`~unetlab.data.io.trained_file_axes`)."""
    if axes is not None:
        return axes
    trained = trained_axes(model)
    if (found := read_axes(path, None, trained, getattr(model, "in_channels", 1))) and say:
        say_trained_axes(found, trained)
    return found


def read_axes(path: str | os.PathLike, axes: str | None, trained: str | None, channels: int):
    """The axes ``path`` is read with (:func:`file_read_axes`) by a model of ``channels``
    that ``trained`` with those axes (None: none recorded), ``axes`` given or None; said
    nowhere. ImageReadError where it cannot be read with the model's."""
    if axes is not None or trained is None:
        return axes
    return trained_file_axes(path, trained, channels=channels)


def say_trained_axes(axes: str, trained: str | None = None) -> None:
    """The line for TIFFs read with the axes the model trained with, none given: once; and
    for 4-D ones that record none, read as TZYX by a model of ``trained`` planes (ZYX, TYX:
    :data:`~unetlab.data.io.STACKS_4D`), once."""
    if trained is None or axes == trained:
        line = (
            f"reading TIFFs with axes {axes}, as the model was trained (give {said_as(AXES_GIVEN)} to "
            "change)"
        )
        return note_once(line, key=f"trained axes {axes}", level=logging.INFO)
    line = (
        f"reading TIFFs of 4 axes that record none as {axes} (time points of Z stacks), each "
        f"plane as the model was trained on {trained}; if their first axis holds channels give "
        f"{axes_fix('CZYX')}"
    )
    note_once(line, key=f"trained axes {axes} for {trained}", level=logging.WARNING)


def read_pages(
    path: Path,
    *,
    model_channels: int,
    channel: int | None,
    axes: str | None = None,
    objects_3d: bool = False,
    channels: tuple[int, ...] | None = None,
) -> tuple[np.ndarray, PageAxes]:
    """The pages of ``path`` (:func:`~unetlab.data.io.read_stack`: (P, H, W[, C]); an
    animated GIF's or PNG's frames: a time series) and what
    they are (:class:`~unetlab.data.tiffmeta.PageAxes`), read as ``axes`` says if given.
    Grey pages the file gives no meaning are chosen by the model that reads them
    (``model_channels``: :func:`guess_pages`), said in one line. UnetlabError for pages too
    narrow to be an image, for a ``channel`` above 0 of a stack without channels, and for
    ``objects_3d`` of pages of no known meaning in more axes than a Z stack's
    (:func:`refuse_unknown_stack`). ``channels``: those alone (:func:`~unetlab.data.io.
    read_stack`'s, of a file whose channels are pages: :func:`~unetlab.data.io.channel_pages`)."""
    colour_planes = model_channels == 3  # RGB planes: one image to a colour model
    how = dict(colour_planes=colour_planes, axes=axes, frames=True, channels=channels)
    stack = read_stack(path, **how)
    refuse_thin(path, stack.shape, axes)
    if axes is not None:
        page_axes = given_page_axes(path, axes, stack.shape[0])
    else:
        if colour_planes and stack.shape[0] == 1 and bare_planes(path):
            say_channels(shown_path(path), stack.shape[-1], model_channels)
        found = read_page_axes(path, len(stack))
        rank = page_rank(path) if found.letters == "Q" else 3
        timed = colour_times(path) if found.letters == "Q" and stack.ndim == 4 else None
        how = dict(rank=rank, timed=timed, objects_3d=objects_3d)
        held = found.letters == "Q" and data_set_held(path)  # a notebook's samples, no planes
        if held and not pages_are_channels(stack, model_channels):  # as a TIFF's are (s74)
            say_data_set(path, stack.shape[0])
            page_axes = found
        else:
            stack, page_axes = guess_pages(shown_path(path), stack, found, model_channels, **how)
    pages = stack.shape[0]
    if channel and stack.ndim == 3 and pages > 1 and channels is None:
        said = (  # the names said where they are: a file's name may hold braces
            f"{shown_path(path)}: no channel {channel}: the file records no channel axis, so its "
            f"{pages} pages are {pages} planes of 1 channel: give "
        )
        cyx = Spelled(axes_fix("CYX", False), axes_fix("CYX", True))
        fix = "{} to predict that one, or {} (ZCYX, TCYX, ...) if the pages are channels"
        raise UnetlabError(**spelled(lambda *f: said + fix.format(*f), CHANNEL_0, cyx))
    return stack, page_axes


def page_rank(path: Path) -> int:
    """How many axes the TIFF ``path``'s image has, as ``--axes`` names them (4 for a (T, Z,
    Y, X) array napari or tifffile saves without axes: QQYX, or QSYX where it takes 3 planes
    for RGB); 3 for pages of colour pixels (its lines' examples as they were)."""
    axes = _stored_axes(path)
    return 3 if axes.endswith("S") else len(axes)


def colour_times(path: Path) -> str:
    """The axes of the TIFF ``path``, a stack of colour pages saved without axes (tifffile's
    QYXS, or QSYX for planar RGB), with its pages as time points, as ``--axes`` names them:
    TYXS, TSYX (QQYXS: TZYXS)."""
    axes = _stored_axes(path)
    return axes.replace("Q", "T", 1).replace("Q", "Z", 1)


def _stored_axes(path: Path) -> str:
    """tifffile's axes of the TIFF ``path``'s first series; of a NumPy file, those of the
    TIFF tifffile saves of its array (:func:`~unetlab.data.npy.npy_axes`)."""
    if is_npy_name(path):
        return npy_axes(path)
    with open_tiff(path) as tif:
        return series_of(tif).axes


def fitted(axes: str, rank: int) -> str | None:
    """``axes`` of one page axis (CYX, ZYX, TYX) as the example for a file of ``rank`` axes,
    one letter per axis (``--axes`` of fewer is refused): its first, then the others named
    as :func:`~unetlab.data.io.named_planes` names a file's pages of no known meaning, time
    before depth (CZYX, TZYX, ZTYX for 4; CTZYX for 5, as a bare QQQYX's TZQYX); None where
    ``--axes`` has too few plane letters (T, Z, Q) for them: ZYX of 6 axes is no ZTQQYX;
    and for time points (TYX) where they keep a Q: given, a Q reads every page as of no
    known meaning (:func:`given_page_axes`), so TZQYX kept no T (no t column, and
    ``--objects-3d`` joined its time points)."""
    named = named_planes(axes[0] + "Q" * max(rank - 3, 0) + axes[1:])
    timeless = axes[0] == "T" and "Q" in named
    return None if axes_problem(named) or timeless else named


def stacks_of_channels(rank: int, cli: bool | None = None) -> list[tuple[str, str | None]]:
    """The fix for pages of a file of 5 axes (``rank``) that may be time points of Z stacks
    of channels (ImageJ's TZCYX order), which :func:`fitted` cannot name for time points
    (TZQYX keeps no T): --axes TZCYX, which keeps T and Z apart, with the channel to read
    (``--channel``, asked for where the model takes fewer); none for other ranks. ``cli``: as
    :func:`axes_fix`."""
    channel = CHANNEL_C[in_command() if cli is None else cli]
    words = f"if they are time points of Z stacks of channels, give {channel} and"
    return [(words, "TZCYX")] if rank == 5 else []


def axes_fixes(
    fixes: list[tuple[str, str | None]], rank: int, kind: str, cli: bool | None = None
) -> str:
    """The ``fixes`` of a line (the words before an --axes, and the axes, None where
    :func:`fitted` cannot name them) joined, those without axes left out; where none is
    left, what the user can do instead for pages that may be ``kind`` (a file of ``rank``
    axes, more than --axes names). ``cli``: as :func:`axes_fix`."""
    said = [f"{words} {axes_fix(axes, cli)}" for words, axes in fixes if axes is not None]
    if said:
        return ", ".join(said)
    return (
        f"if they are {kind}, save the file with its axes (tifffile.imwrite(..., metadata="
        f"{{'axes': ...}})): {AXES_GIVEN[in_command() if cli is None else cli]} names at most 3 plane "
        f"axes (T, Z, Q), and it has {rank} axes"
    )


def guess_pages(
    name: str,
    stack: np.ndarray,
    axes: PageAxes,
    model_channels: int,
    *,
    rank: int = 3,
    timed: str | None = None,
    objects_3d: bool = False,
) -> tuple[np.ndarray, PageAxes]:
    """``stack`` and its ``axes`` as the model that reads them takes pages the file gives no
    meaning (``axes.letters`` "Q"): grey pages as many as the model's channels (> 1) are
    its channels, one image (a 3-channel picture stored as 3 pages), said; other such pages
    are planes (:func:`say_no_axes`). A file that records its axes is read as it says.
    ``rank``: the file's axes, which the ``--axes`` the lines name have as many of;
    ``timed``: those of pages of colour pixels as time points (:func:`colour_times`);
    ``objects_3d``: planes of more axes than a Z stack's are refused
    (:func:`refuse_unknown_stack`)."""
    if axes.letters != "Q":
        return stack, axes
    pages = stack.shape[0]
    if pages_are_channels(stack, model_channels):
        say_channels(name, pages, model_channels, rank=rank)
        return np.moveaxis(stack, 0, -1)[None], PageAxes()
    if timed is not None:  # colour pictures: no channels to name, --axes keeps their S
        say_colour_pages(name, pages, timed)
    else:
        if objects_3d:  # refused in one line, not warned of first
            refuse_unknown_stack(name, pages, rank)
        say_no_axes(name, pages, rank=rank)
    return stack, axes


def pages_are_channels(stack: np.ndarray, model_channels: int) -> bool:
    """Whether the grey pages of ``stack`` (P, H, W) that record no axes are the channels of
    one image for a model of ``model_channels``: as many (:func:`guess_pages`)."""
    return stack.ndim == 3 and stack.shape[0] == model_channels


def say_data_set(path: Path, pages: int) -> None:
    """The line for the images of a data set in one ``.npz`` (``np.savez(f, images=...,
    masks=...)``) given to predict: each predicted on its own, not planes of a Z stack (as
    its pages were said: s73 review 9)."""
    note_once(
        f"{shown_path(path)}: a data set in one file: its {numbered(pages, 'image')} (its "
        "images array) are predicted each on its own, its pages in the outputs' order"
    )


def say_colour_pages(name: str, pages: int, timed: str) -> None:
    """The warning for ``pages`` pages of colour pixels that record no axes, read as colour
    planes: ``timed`` (:func:`colour_times`) reads them as time points (the lines of grey
    pages named axes without the samples' S, which such a file refuses)."""
    log.warning(
        "%s: %d pages of colour pixels and no axis metadata: read as %d colour planes (a Z "
        "stack); if they are time points give %s",
        *(name, pages, pages, axes_fix(timed)),
    )


def say_channels(name: str, pages: int, model_channels: int, *, rank: int = 3) -> None:
    """The line for ``pages`` planes that record no axes read as the channels of one image,
    as many as the model reads (``model_channels``; ``rank``: the file's axes)."""
    planes, times = (fitted(a, rank) for a in ("ZYX", "TYX"))
    fixes = [("if they are planes (a Z stack) give", planes), ("time points", times)]
    log.warning(
        "%s: %d pages and no axis metadata: read as the %d channels of one image, as the model "
        "reads %d; %s",
        *(name, pages, pages, model_channels, axes_fixes(fixes, rank, "planes")),
    )


def say_no_axes(
    name: str,
    pages: int,
    *,
    streamed: bool = False,
    rank: int = 3,
    objects_3d: Spelled | None = None,
) -> None:
    """The warning for a file of ``pages`` pages that records no axes, read as planes; one
    ``streamed`` (read window by window, where --axes only says what the pages are) says to
    save its axes for channels. ``rank``: the file's axes, as many as the --axes named;
    ``objects_3d``: what --objects-3d does with one of more than 3 whose other axes are of
    size 1 (evaluate's: reads them as Z planes), said instead of "may hold time points or
    channels" and its --axes, which read such pages as Z planes too (s55 fixC)."""
    if objects_3d is not None and rank > 3:
        read, fix = f"{pages} Z planes, each predicted on its own ({said_as(objects_3d)})", ""
    else:
        may = f"its {rank} axes may hold time points or channels: {said_as(OBJECTS_3D)} refuses it"
        read = f"{pages} planes" + (
            " (a Z stack)" if rank <= 3 else f", each predicted on its own ({may})"
        )
        fix = "; " + _no_axes_fix(rank, streamed=streamed)
    how = f"{pages} pages and no axis metadata: read as {read}{fix}"
    if not note_alike(name, how):  # a folder of them: the first said, the files counted
        log.warning("%s: %s", name, how)


def refuse_unknown_stack(name: str, pages: int, rank: int, *, given: str | None = None) -> None:
    """UnetlabError for ``objects_3d`` of the TIFF ``name`` whose ``pages`` record no meaning
    (Q) in more axes (``rank``) than a Z stack's: a (T, Z, Y, X) or (Z, C, Y, X) array saved
    without axes, or ``given`` axes that keep a Q (TZQYX: every page of no known meaning,
    :func:`given_page_axes`). Read as one stack, its objects would be joined across time
    points or channels; the ``--axes`` that say them are named."""
    if rank <= 3:
        return
    found = (
        " and no axis metadata" if given is None else f", given as {given}, whose Q says nothing"
    )

    def say(cli: bool) -> str:
        fixes = [("if they are time points of Z stacks give", fitted("TYX", rank))]
        fixes += _channels_of_planes(cli) if rank == 4 else []
        fixes += stacks_of_channels(rank, cli)
        return (
            f"{name}: {pages} pages in {rank} axes{found}: {OBJECTS_3D[cli]} joins the planes of "
            "one Z stack, and these may hold time points or channels, whose objects it would "
            f"join too; {axes_fixes(fixes, rank, 'time points', cli)}, or "
            f"{NO_OBJECTS_3D[cli]} for each plane's 2-D objects"
        )

    raise UnetlabError(say(False), cli=say(True))


def _channels_of_planes(cli: bool) -> list[tuple[str, str]]:
    """The fixes of :func:`refuse_unknown_stack` for pages of 4 axes that may be channels:
    Z planes of channels (ImageJ's ZCYX), or channels of Z planes, channels first as
    tifffile.imwrite(path, np.stack(channels)) saves them (CZYX; s69: a (3, 13, Y, X) one
    was told ZCYX alone, 3 planes of 13 channels), with the channel to read for a model
    of fewer."""
    return [
        ("Z planes of channels", "ZCYX"),
        (f"channels of Z planes (channels first; {CHANNEL_C[cli]} picks one)", "CZYX"),
    ]


def _no_axes_fix(rank: int, *, streamed: bool, cli: bool | None = None) -> str:
    """The fixes :func:`say_no_axes` names for pages of a file of ``rank`` axes that may be
    channels or time points: the --axes that read them so, or for a ``streamed`` file its
    channels saved with the file; those --axes cannot name left out (:func:`fitted`).
    ``cli``: as :func:`axes_fix`."""
    channels, times = fitted("CYX", rank), fitted("TYX", rank)
    if not streamed:
        fixes = [("if they are channels give", channels), ("time points", times)]
        fixes += stacks_of_channels(rank, cli)
        return axes_fixes(fixes, rank, "channels or time points", cli)
    said = (
        [
            f"if they are channels {save_axes(channels)}: a large image read window by window "
            "takes them as its file says"
        ]
        if channels
        else []
    )
    said += [f"time points {axes_fix(times, cli)}"] if times else []
    return "; ".join(said) or axes_fixes([], rank, "channels or time points", cli)


def say_bare_pages(path: Path, pages: int, objects_3d: Spelled | None = None) -> None:
    """The warning :func:`read_pages` says of a TIFF whose ``pages`` pages record no axes,
    read as planes, for a caller that reads them so without it (evaluate, plane by plane):
    :func:`say_colour_pages` for pages of colour pixels, else :func:`say_no_axes`
    (``objects_3d``: its words). The file named as :func:`read_pages`' lines name it, by
    :func:`~unetlab.data.shown.shown_path`: its path as given, or as the caller's
    :func:`~unetlab.data.shown.shown_as` says (evaluate's other lines name it too)."""
    axes = _stored_axes(path)  # a NumPy stack's too (it opened it as a TIFF: s73)
    if axes.endswith("S"):
        say_colour_pages(shown_path(path), pages, colour_times(path))
    else:
        say_no_axes(shown_path(path), pages, rank=len(axes), objects_3d=objects_3d)


def save_axes(axes: str) -> str:
    """How the lines say to save a file with its ``axes`` (a large one streamed, which
    ``--axes`` cannot give channels)."""
    return f"save the file with its axes (tifffile.imwrite(..., metadata={{'axes': '{axes}'}}))"


def page_colour(path: str | os.PathLike, axes: str | None) -> bool | None:
    """Whether the pages of ``path`` are colour pictures (R, G, B[, A]) for
    :func:`~unetlab.inference.predict.fit_channels`: as the user's ``axes`` say (C: by
    :func:`~unetlab.data.io.stain_axes`, the one rule, stains unless an RGB picture's colours
    last, as YXC, ZYXC, TYXC are; S: the samples of a colour pixel), else as the file says
    (:func:`~unetlab.data.colour.colour_file`). A (3, Y, X) 8-bit array saved by tifffile
    without axes is an RGB TIFF, but a user who gives ``--axes CYX`` says it holds three
    stains: a grey model is then given one of them (``--channel``), not their luminance
    (audit s28 'recheck', finding 5); one who gives ``--axes YXC`` says its colours, as a
    model trained with them records them (:func:`~unetlab.data.colour.channels_kind`)."""
    letters = axes.upper() if axes is not None else ""
    if "C" in letters:
        return not stain_axes(letters)
    if "S" in letters:
        return True
    return colour_file(path)


def refuse_thin(path: str | os.PathLike, shape: tuple[int, ...], axes: str | None) -> None:
    """UnetlabError for a stack (``shape``: (P, H, W[, C]), P > 1) of pages of at most
    ``THIN`` rows or columns, naming the likely cause and the fix (one such image is
    predicted, as any)."""
    pages, h, w = shape[:3]
    if pages == 1 or min(h, w) > THIN:
        return

    def say(cli: bool) -> str:
        hint = (
            f"give {AXES_GIVEN[cli]} that fit the file, not {axes}"
            if axes is not None
            else f"a (Y, X, C) array saved without axes? give {axes_fix('YXC', cli)}, or save "
            "it with tifffile.imwrite(..., metadata={'axes': 'YXC'})"
        )
        return (
            f"{shown_path(path)}: reads as {numbered(pages, 'page')} of {h} x {w} px, too narrow to "
            f"segment: {hint}"
        )

    raise UnetlabError(say(False), cli=say(True))


def given_page_axes(path: str | os.PathLike, axes: str, pages: int) -> PageAxes:
    """The :class:`PageAxes` of a TIFF whose axes the user gives (``axes``, checked by
    :func:`~unetlab.data.io.given_letters`): its T and Z in the given order (other page
    axes: Q), with the frame interval the file records where T is given (a Fiji stack of
    slices with one, given --axes TYX: its outputs lost it, and its tables t_s)."""
    if pages == 1:
        return PageAxes()
    if is_npy_name(path):  # an array: its shape, no timing
        shape, timing = npy_shape(path, given=True), {}
    else:
        with open_tiff(path) as tif:
            shape = series_of(tif).shape
            timing = tiff_timing(tif) if "T" in _page_sizes(axes, shape) else {}
    found = _page_sizes(axes, shape)
    if "Q" in found:
        return PageAxes("Q", (pages,))
    return PageAxes("".join(found), tuple(found.values()), timing)


def _page_sizes(axes: str, shape: tuple[int, ...]) -> dict[str, int]:
    """The page axes (T, Z, Q) of ``axes`` longer than 1, with their sizes, in order."""
    return {a: int(n) for a, n in zip(axes.upper(), shape) if a in "TZQ" and n > 1}


#: a channel's index as the Python API and the command line give it
INDEX_AS = Spelled("channel=0, 1, ...", "--channel 0, 1, ...")


def channel_index(path: str | os.PathLike, channel: str, names: list[str]) -> int:
    """The index of the channel named ``channel`` (letter case, Unicode normal form and
    spaces at the ends aside: :func:`~unetlab.data.names.loose`, as class names) among
    ``names`` (those ``path`` records: :func:`~unetlab.data.tiffmeta.channel_names`);
    UnetlabError naming them (or saying there are none) if it is not one of them."""
    if not names:
        raise _unnamed(path, channel)
    fix = "give {} one of these names or its index"
    return channel_named(names, channel, shown_path(path), fix, CHANNEL_GIVEN)


def _unnamed(path: str | os.PathLike, channel: str) -> UnetlabError:
    """The refusal of a channel named ``channel`` in ``path``, which names none: give its
    index or name them (:data:`NAME_THEM`), or, for a one-channel file
    (:func:`one_channel_file`), leave the channel out (s50:
    a grey slide given --channel DAPI was told to give an index). Its message is quoted in
    predict's failed line: the command's spelling while it runs."""
    name = shown_path(path)
    if one_channel_file(path):
        said = f"{name}: has one channel and no channel names, so no channel {channel!r}: leave "
        return UnetlabError(
            f"{said}out {said_as(CHANNEL_GIVEN)} (its one channel is read)",
            cli=f"{said}out {CHANNEL_GIVEN.cli} (its one channel is read)",
        )
    said = f"{name}: records no channel names, so no channel {channel!r}: give its index "
    return UnetlabError(
        said + f"({said_as(INDEX_AS)}){NAME_THEM}", cli=f"{said}({INDEX_AS.cli}){NAME_THEM}"
    )


def one_channel_file(path: str | os.PathLike) -> bool:
    """True for a file whose images have one channel, from its header: a TIFF whose first
    series has no channel axis (C or samples) over 1, a grey picture, a Zarr folder of one
    channel (:func:`~unetlab.data.slides.zarr_channels`); False for other files."""
    path = Path(path)
    if (zarr := zarr_channels(path)) is not None:
        return zarr[0] == 1
    if not path.is_file():
        return False
    if path.suffix.lower() not in TIFF_SUFFIXES:
        return not colour_file(path)
    with open_tiff(path) as tif:
        letters, shape = tiff_layout(tif)
    return all(n == 1 for a, n in zip(letters, shape) if a == "C")


def refuse_channels(
    path: str | os.PathLike,
    have: int,
    channels: int,
    channel: int | tuple[int, ...] | None,
    names: list[str],
) -> None:
    """UnetlabError for a file of ``have`` channels, named ``names``, whose ``channel`` (an
    index, a band list's tuple, or None: all of them) the model (of ``channels`` channels)
    cannot take, listing them by index and name, and those it names by the digits asked
    (``488``: :func:`~unetlab.data.names.named_by_digits`; s73: a band list's too); nothing
    for a file that records no names (the pixels' own refusals say the rest)."""
    if len(names) != have:
        return
    said = f"{shown_path(path)}: has {have} channels ({listed(names)}), "
    if channel is None and have > 1 and channels == 1:
        fix = "the model takes 1: choose one with {} (an index or a name), e.g. the nuclear stain"
        raise UnetlabError(**spelled(lambda f: said + fix.format(f), CHANNEL_C))
    bands = channel if isinstance(channel, tuple) else (channel,)
    beyond = [c for c in bands if c is not None and c >= have]
    if beyond and len(bands) == channels:
        named = named_by_digits(names, beyond)
        lacks = f"no channel{'s' if len(beyond) > 1 else ''} {', '.join(map(str, beyond))}"
        which = (
            "bands among these, by index" if len(bands) > 1 else "one of these, by index or name"
        )
        fix = f"{lacks}{f': {named}' if named else ''}: give {{}} {which}"
        raise UnetlabError(**spelled(lambda f: said + fix.format(f), CHANNEL_GIVEN))


def page_channel(
    path: Path, have: int, channels: int, channel: int | None, asked: int | None
) -> int | None:
    """The channel of ``path``'s pages (of ``have`` channels) a model of ``channels``
    channels is given: ``channel`` (the one asked for, else the one the model records), but
    None (the image as it is) for a 1-channel image given to a 1-channel model without
    ``asked``: its one channel is what such a model reads, whichever channel of
    multi-channel images it was trained on (audit s28 'stacks', finding 6). Refusals of a
    multi-channel file it cannot take list the channels it names
    (:func:`~unetlab.data.tiffmeta.channel_names`)."""
    if have == 1:
        if asked is None and channels == 1 and channel is not None:
            log.info(
                "%s: has one channel; predicting it (the model's channel %d is that of "
                "multi-channel images)",
                shown_path(path),
                channel,
            )
            return None
        return channel
    refuse_channels(path, have, channels, channel, channel_names(path))
    return channel
