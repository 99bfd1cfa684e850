"""Settings every input would fail alike, refused in one line before any file is read: axes
given to no TIFF, a channel index beyond the channels of every input. One rule for
``predict`` (flat and ``--recursive``), :func:`~unetlab.inference.folders.predict_folder`
and :func:`~unetlab.inference.tree.predict_tree` (s54 badinput4: the Python API and the
tree had no channel rule, a colour first input had none either)."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import NamedTuple

from unetlab.data.colour import colour_file
from unetlab.data.io import TIFF_SUFFIXES, refuse_untiffed_axes, stack_shape, tiff_layout
from unetlab.data.slides import is_zarr, zarr_layout
from unetlab.data.tiff_files import open_tiff
from unetlab.errors import Spelled, UnetlabError, spelled
from unetlab.inference.predict import PredictOptions

#: a channel index as the Python API and the command line spell it
CHANNEL_AS = Spelled("channel={}", "--channel {}")

#: a palette TIFF's one sample is read as the three of its colours
_PALETTE = 3


def refuse_for_every_file(where, paths: Sequence[str | os.PathLike], settings: dict) -> None:
    """UnetlabError (ImageReadError) before any file for the ``settings`` (``axes``,
    ``channel``) that each of ``paths`` would fail alike; ``where``: the inputs they were
    found in as given (a folder, a glob, a list of them)."""
    if not isinstance(where, (str, os.PathLike)):
        where = ", ".join(map(str, where))
    refuse_untiffed_axes(where, paths, settings.get("axes"))
    channel, axes = given_options(settings).channel, settings.get("axes")
    if (line := absent_channel(paths, channel, axes=axes)) is not None:
        raise UnetlabError(**line)


def given_options(settings: dict) -> PredictOptions:
    """The :class:`~unetlab.inference.predict.PredictOptions` of
    :func:`~unetlab.inference.files.predict_file`'s keywords ``settings`` (``options`` and
    its fields by name)."""
    fields = PredictOptions.__dataclass_fields__
    return PredictOptions.of(
        settings.get("options"), **{k: v for k, v in settings.items() if k in fields}
    )


def absent_channel(paths: Sequence[str | os.PathLike], channel, *, axes=None) -> dict | None:
    """The refusal (``message`` and ``cli``: :func:`~unetlab.errors.spelled`) where the
    ``channel`` asked for (an index) is beyond the channels of every input of ``paths``, as
    their headers tell (:func:`most_channels`): each file would fail, one line apiece (s53
    badinput3: grey inputs; s54 badinput4: colour ones). None as soon as one input may have
    it or its header cannot say (its own line will): a folder of mixed channel counts
    predicts those that have it, the others fail alone (s53 reviewB). Headers are read up to
    the first such input. ``axes`` (``--axes``): the TIFFs are read by those, not as their
    headers say (their channels then counted as a bound: :func:`_channel_bound`)."""
    if not isinstance(channel, int) or isinstance(channel, bool) or channel < 1 or not paths:
        return None
    most, exact = [], True
    for path in paths:
        if (bound := _bound_once(path, axes)) is None or bound[0] > channel:
            return None
        most.append(bound[0])
        exact &= bound[1]
    said = _Bound(max(most), exact)
    return spelled(lambda form: _out_of_range(form, channel, paths, said), CHANNEL_AS)


class _Bound(NamedTuple):
    """The most channels of some inputs, and whether each header gave its count exactly
    (no pages, which may be planes as well as channels, or a channel axis its header
    states: :func:`_channel_bound`)."""

    most: int
    exact: bool


def _out_of_range(form: str, channel: int, paths: Sequence, bound: _Bound) -> str:
    """``--channel 5 is out of range: all 2 inputs (a.png, ...) have at most 3 channels
    (valid: --channel 0 to 2); ...`` in the spelling ``form`` (:data:`CHANNEL_AS`); no
    range where the count is a bound (pages times channels: review s54 C6 said 'valid: 0
    to 5' of files of 2 channels in 3 planes)."""
    most = bound.most
    if len(paths) == 1:
        which = f"the input, {paths[0]}, has" + ("" if bound.exact else " at most")
    else:
        which = f"all {len(paths)} inputs ({paths[0]}, ...) have" + (" at most" if most > 1 else "")
    count = f"{most} channel" + ("s" if most > 1 else "")
    if not bound.exact:
        its, it, has = ("its", "it", "has") if len(paths) == 1 else ("their", "they", "have")
        return (
            f"{form.format(channel)} is out of range: {which} {count} ({its} pages counted "
            f"as channels); give the index of a channel {it} {has}"
        )
    if most == 1:
        valid, fix = (
            form.format(0),
            f"leave {form.format('').strip()} out for images of one channel",
        )
    else:
        valid = f"{form.format(0)} to {most - 1}"
        fix = "give one of those"
    return f"{form.format(channel)} is out of range: {which} {count} (valid: {valid}); {fix}"


def _header_bound(letters: str, shape: tuple, palette: bool, *, stated: bool) -> tuple[int, bool]:
    """:func:`_channel_bound` of a TIFF or Zarr of axes ``letters`` (:func:`tiff_layout`'s,
    a slide's layout) and ``shape``: its channels (3 a palette's sample), times its pages
    unless its channel axis is ``stated`` by its header, then exact."""
    each = 3 if palette else 1
    channels = math.prod(n for a, n in zip(letters, shape) if a == "C") * each
    pages = math.prod(n for a, n in zip(letters, shape) if a == "P")
    return (channels, True) if stated else (channels * pages, pages == 1)


#: the channel bounds read within :func:`headers_read_once`, by (path, axes)
_READ: ContextVar[dict | None] = ContextVar("channel_bounds_read", default=None)


@contextlib.contextmanager
def headers_read_once() -> Iterator[None]:
    """Within: each input's header read once for its channels (:func:`_channel_bound`),
    however many checks ask (a tree's for all its inputs, each folder's, predict_folder's)."""
    token = _READ.set({})
    try:
        yield
    finally:
        _READ.reset(token)


def _bound_once(path: str | os.PathLike, axes: str | None) -> tuple[int, bool] | None:
    """:func:`_channel_bound`, read once within :func:`headers_read_once`."""
    read = _READ.get()
    if read is None:
        return _channel_bound(path, axes)
    key = (os.fspath(path), axes)
    if key not in read:
        read[key] = _channel_bound(path, axes)
    return read[key]


def most_channels(path: str | os.PathLike) -> int | None:
    """The most channels ``path`` may be read as, from its header: its pages times the
    channels of each (pages may be a multi-channel model's channels, or channels by
    ``--axes``), its channels alone where its header states a channel axis, 3 a colour
    picture's (its alpha dropped); None where the header cannot say (not a file, a broken
    one: for its own line)."""
    bound = _channel_bound(path)
    return None if bound is None else bound[0]


def _channel_bound(path: str | os.PathLike, axes: str | None = None) -> tuple[int, bool] | None:
    """(:func:`most_channels` of ``path``, whether that is its channel count exactly: it
    has one page, or its pages are channels by its header), or None. A TIFF whose header
    states a channel axis beside its pages (an ImageJ hyperstack's ``channels``: ZCYX) has
    those channels exactly, its pages planes (3 planes of 2 channels were said to have 'at
    most 6': s54), unless ``axes`` (``--axes``) read it otherwise; an OME-Zarr's ``c``
    axis too."""
    try:
        if is_zarr(path):  # --axes is for TIFFs alone
            layout = zarr_layout(path)
            return _header_bound(layout.axes, layout.shape, False, stated="C" in layout.axes)
        if not Path(path).is_file():
            return None
        if Path(path).suffix.lower() not in TIFF_SUFFIXES:
            pages = stack_shape(path)[0]
            return pages * (3 if colour_file(path) else 1), pages == 1
        with open_tiff(path) as tif:
            letters, shape = tiff_layout(tif)
            palette = int(tif.pages.first.photometric) == _PALETTE
        return _header_bound(letters, shape, palette, stated=axes is None and "C" in letters)
    except (UnetlabError, OSError, ValueError, LookupError, TypeError):
        return None
