"""How the pages of an image file are fitted to a model's channels: one rule for every
command that reads a file, predict (read whole or window by window) and evaluate, so that
evaluate scores what predict predicts and refuses what predict refuses, in the same line
(review s49 evalfit: evaluate kept a copy without the stains rule, and repeated a grey page
read with the checkpoint's axes into a stains model's channels where predict refused it)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import NamedTuple

from unetlab.data.io import CHANNEL_GIVEN, pages_held, stored_apart
from unetlab.data.names import channel_named
from unetlab.data.nodata import file_nodata, says_alpha
from unetlab.data.read_notes import note_once
from unetlab.data.shown import shown_path
from unetlab.data.tiff_files import is_tiff_name
from unetlab.data.tiffmeta import channel_names
from unetlab.inference import chosen
from unetlab.inference.pages import channel_index, page_channel, page_colour, stains_of


def file_fit(
    model,
    path: str | os.PathLike,
    have: int,
    *,
    channel: int | tuple | None,
    asked: int | tuple | None,
    axes: str | None,
    axes_trained: bool,
    nodata="auto",
) -> dict:
    """The keywords of :func:`~unetlab.inference.predict.fit_channels` (all but ``name`` and
    ``quiet``) for the pages of ``have`` channels of the image file ``path``, read with
    ``axes`` (given, or the checkpoint's: ``axes_trained``; None: as the file records them):
    the ``channel`` taken (the model's, or the one ``asked`` for:
    :func:`~unetlab.inference.pages.page_channel`, which refuses one the file lacks naming
    its channels), whether the pages are a colour picture
    (:func:`~unetlab.inference.pages.page_colour`), ``axes_given`` (a grey page read with
    axes is no (C, H, W) TIFF's channel: the line does not ask), and the model's ``stains``
    (:func:`~unetlab.inference.pages.stains_of`: a grey page refused in one line), except
    where the user's own axes say what the pages are; ``alpha``: a TIFF's 4th channel is its
    recorded alpha, which the ``nodata`` setting says (:func:`~unetlab.data.nodata.says_alpha`:
    not a number, which leaves the "4th channel is left out" line to say it). A ``channel``
    given by its name (``DAPI``) is its index in ``path`` (:func:`index_of`), as predict
    takes it."""
    path = Path(path)
    channel, asked = (index_of(path, c) for c in (channel, asked))
    if asked is None:  # the model's channel: found by the name it records where it has one
        channel = trained_index(model, path, channel)
    return dict(
        channel=page_channel(path, have, model.in_channels, channel, asked),
        colour=page_colour(path, axes),
        axes_given=axes is not None,
        stains=stains_of(model) if axes is None or axes_trained else None,
        alpha=have == 4 and is_tiff_name(path) and says_alpha(nodata) and _alpha_is_4th(path),
    )


class Alone(NamedTuple):
    """The channels of a file read alone (:func:`channels_alone`): its :func:`file_fit`,
    those ``held`` (in the order read) and how many it ``has``."""

    fit: dict
    held: tuple[int, ...]
    has: int


def channels_alone(
    model,
    path: str | os.PathLike,
    *,
    channel,
    asked,
    axes: str | None = None,
    nodata="auto",
    every: bool = False,
) -> Alone | None:
    """The channels of the image file ``path`` (read with its own axes) that the model
    takes, to be read alone (:func:`~unetlab.data.io.read_stack`'s ``channels``: a
    multiplexed OME-TIFF's pages; s71: a 2,048² one of 24 channels predicted on DAPI
    decoded all 24), with :func:`file_fit` of them; None where every channel is read: asked
    for (``every``: ``--instances`` measures each), read with ``axes`` (the user's or the
    checkpoint's: the file's own alone), stored together (interleaved samples,
    :func:`~unetlab.data.io.stored_apart`), a ``nodata`` value to find in every band, the
    model takes them all, or one it lacks (refused as read). Its header is read once
    (review s72: three times, 2.4-3.0 ms CPU a small file)."""
    if every or axes is not None or not (has := stored_apart(path, nodata)):
        return None  # none alone: file_fit once, as read
    how = dict(axes=None, axes_trained=False, nodata=nodata)
    fit = file_fit(model, path, has, channel=channel, asked=asked, **how)
    held = None if fit["channel"] is None else pages_held(has, fit["channel"])
    return None if held is None else Alone(fit, held, has)


def trained_index(model, path: Path, channel: int | tuple | None) -> int | tuple | None:
    """The model's ``channel`` in ``path``: the index of the channel by the name the
    checkpoint records (``channel_names``: trained by name, ``data.channel: DAPI``) where
    ``path`` names its channels; as it is where the file names none (read by index) or one
    (names are one a channel: a grey file is predicted as it is, its header read once), or
    the model records no name. The index found by the name is noted for predict.json
    (:func:`~unetlab.inference.chosen.note`).
    UnetlabError naming the file's channels and the fix where it names none so or two (s70:
    a file of another channel order was read by index, another stain, unsaid)."""
    trained = getattr(model, "channel_names", None)
    names = channel_names(path) if trained and isinstance(channel, int) else []
    if len(names) < 2:
        return channel
    whose = ", the model's (data.channel)"
    fix = "give {} the one to predict, by index or name"
    index = channel_named(names, trained[0], shown_path(path), fix, CHANNEL_GIVEN, whose=whose)
    chosen.note(channel=index)  # each file's own, in predict.json (s74: noted nowhere)
    if index != channel:
        note_once(
            f"{shown_path(path)}: the model's channel {trained[0]} is its channel {index} "
            f"(channel {channel} in the first training image): predicted (any other input "
            f"where it is {index}: not said again)",
            key=f"trained channel at {index}",
            level=logging.INFO,
        )
    return index


def _alpha_is_4th(path: Path) -> bool:
    """Whether the TIFF ``path`` records its 4th channel as alpha (ExtraSamples)."""
    return file_nodata(path).alpha_channel == 3


def index_of(path: Path, channel: int | tuple | str | None) -> int | tuple | None:
    """``channel``, a name (``--channel DAPI``) as its index among the channels ``path``
    names (:func:`~unetlab.inference.pages.channel_index`: refused naming them): each file
    of a data set evaluate scores, as predict takes each file's (s49: evaluate failed
    comparing the name with the file's channel count, a TypeError shown as a bug)."""
    if not isinstance(channel, str):
        return channel
    return channel_index(path, channel, channel_names(path))
