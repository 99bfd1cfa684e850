"""Predict images of any size with a trained U-Net, and write the results.

Two public levels (STYLE "two public levels"):

- :func:`predict_image`: a numpy image (H, W) or (H, W, C), uint8/uint16/float, normalised as
  the model records -> (K, H, W) float32 class probabilities.
- :func:`predict_tensor`: an already normalised (N, C, H, W) float tensor -> (N, K, H, W).

Both cut the image into tiles (:mod:`unetlab.inference.tiling`): valid-padding nets are exact
against one-piece prediction, same-padding nets blend overlapping tiles. Files are read and
written by :mod:`unetlab.inference.files`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import numbers
import os
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from unetlab.checkpoint import unwrap_net
from unetlab.data.checks import none_finite, nonfinite_count, nonfinite_fix
from unetlab.data.classes import VOC_VOID, ignored_class
from unetlab.data.exclude import (
    blank_probabilities,
    certain_background,
    check_exclude_rows,
    kept_rows,
    mirrored,
    region,
)
from unetlab.data.io import CHANNEL_GIVEN, grey_for_stains, held_at
from unetlab.data.nodata import (
    blank_pixels,
    check_nodata,
    either,
    filled,
    label_nodata,
    valid_pixels,
)
from unetlab.data.normalize import (
    FLOOR_SHARE,
    channels_of,
    clipped,
    floor_entry,
    floor_for,
    note_against,
    raised_to,
    raw_stats,
)
from unetlab.data.read_notes import note_converted
from unetlab.data.tiff_files import is_tiff_name
from unetlab.data.tiffmeta import PageAxes
from unetlab.data.weightmap import own_background_name, trained_background
from unetlab.errors import (
    KnownFields,
    Spelled,
    UnetlabError,
    did_you_mean,
    refuses_assignment,
    said_as,
    spelled,
)
from unetlab.inference import chosen
from unetlab.inference.appearance import (
    FarCount,
    far_run,
    handed,
    merge_handed,
    said_in_full_for,
    say_appearance,
)
from unetlab.inference.offset import label_offset, shift_probabilities
from unetlab.inference.pages import CHANNEL_C, stains_of
from unetlab.inference.rescale import check_scale, rescaled, restored
from unetlab.inference.sizing import choose_tiling, memory_budget
from unetlab.inference.tiling import iter_tiled_rows, tiled_apply, with_tta
from unetlab.inference.tta import resolve_tta
from unetlab.model_identity import laid_out_again
from unetlab.progress import add_total, progress_calls
from unetlab.runtime import (
    check_precision,
    inference_layout,
    resolve_device,
    tuned_allocator,
)
from unetlab.words import numbered

log = logging.getLogger(__name__)


def probability_fn(
    model: torch.nn.Module, *, precision: str = "fp32", tta: bool | str | Sequence[str] = False
) -> Callable[[torch.Tensor], torch.Tensor]:
    """(B, C, h, w) float -> (B, K, h', w') float32 probabilities: softmax over K >= 2
    classes, sigmoid for one. ``bf16`` runs the net under autocast and converts the logits to
    float32 before the softmax. ``tta`` averages probabilities over flips/rotations: True
    over those the net trained with (:func:`unetlab.inference.tta.resolve_tta`). A model
    with a ``label_offset`` has its (averaged) probabilities moved by it
    (:mod:`unetlab.inference.offset`)."""
    check_precision(precision, None)

    def probabilities(x: torch.Tensor) -> torch.Tensor:
        if precision == "bf16":
            with torch.autocast(x.device.type, dtype=torch.bfloat16):
                logits = model(x)
        else:
            logits = model(x)
        logits = logits.float()
        return torch.sigmoid(logits) if logits.shape[1] == 1 else torch.softmax(logits, dim=1)

    names = resolve_tta(model, tta)
    averaged = with_tta(probabilities, names) if names else probabilities
    offset = label_offset(model)
    if offset == (0.0, 0.0):
        return averaged
    crop = model.size_multiple if model.border else 0  # valid tiles: see Geometry.of

    def moved(x: torch.Tensor) -> torch.Tensor:
        return shift_probabilities(averaged(x), offset, crop=crop)

    return moved


#: one re-entrant lock per model, held by each inference session on it (model_lock)
_MODEL_LOCKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCKS_LOCK = threading.Lock()


def model_lock(model: torch.nn.Module) -> threading.RLock:
    """The lock of ``model`` that :func:`inference_session` holds: calls on one model from
    several threads take turns (each switches the model's mode and weight layout, and
    switches them back, which would change another thread's forward pass under it)."""
    with _LOCKS_LOCK:
        lock = _MODEL_LOCKS.get(model)
        if lock is None:
            lock = _MODEL_LOCKS[model] = threading.RLock()
        return lock


@contextlib.contextmanager
def inference_session(model: torch.nn.Module, device) -> Iterator[torch.device]:
    """Model in eval mode on ``device`` in its fastest layout under inference_mode; the
    training flag and the weights' layout are restored afterwards (on a CPU, training in
    channels-last runs 2x slower, bench/README.md). A model already in the fastest layout
    is not converted at all: callers that predict many images convert it once. Sessions on
    one model from several threads run one at a time (:func:`model_lock`): the results are
    those of the calls made one after another."""
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    device = resolve_device(device)
    chosen.note(device=str(device))  # auto: the one it resolved to
    with model_lock(model):
        was_training = model.training
        layout, before = inference_layout(device), weight_layout(model)
        model.eval()
        net = unwrap_net(model)  # what records name (a wrapper names nothing)
        with laid_out_again(model, net):  # moved, not changed: still the file's (records)
            model.to(device, memory_format=layout)
        cpu = tuned_allocator() if device.type == "cpu" else contextlib.nullcontext()
        try:  # on a CPU, freed activations stay in the heap: no page faults per tile
            with cpu, torch.inference_mode():  # (bench/README.md), given back after
                yield device
        finally:
            model.train(was_training)
            if before is not None and before != layout:
                with laid_out_again(model, net):
                    model.to(memory_format=before)


def weight_layout(model: torch.nn.Module) -> torch.memory_format | None:
    """The memory layout of ``model``'s convolution weights (judged by the first one whose
    layout is unambiguous), or None for a model without such weights."""
    for param in model.parameters():
        if param.dim() == 4 and param.shape[1] > 1 and param.shape[2] * param.shape[3] > 1:
            if param.is_contiguous():
                return torch.contiguous_format
            if param.is_contiguous(memory_format=torch.channels_last):
                return torch.channels_last
            return None
    return None


# --- numpy level --------------------------------------------------------------------------


#: the call that gives a stack's planes one at a time to the function (``call``) that
#: refuses the stack (:func:`as_image`, :func:`refuse_planes`): predict_objects' frames get
#: their objects, not a predict_image loop's probabilities
PLANE_CALLS = {
    "predict_image": "[predict_image(model, plane) for plane in stack]",
    "predict_objects": (
        "[predict_objects(model, frame) for frame in movie]: each frame's (ids, table); a "
        "z-stack's 3-D objects: predict_objects(model, stack, objects_3d=True)"
    ),
}


def as_image(image, name: str = "image", *, call: str = "predict_image") -> np.ndarray:
    """A whole image as given to :func:`predict_image` (or ``call``, whose loop over planes
    the lines name: :data:`PLANE_CALLS`): a tensor's pixels as numpy, and one line for a
    (C, H, W) array (a few channels first, then two long axes), and one for a file's path
    (read it first: pixels in memory are what these functions take), and one for a bool
    array: 0 and 1 are no intensities of the dtype a model trained on."""
    if isinstance(image, (str, os.PathLike)):
        raise UnetlabError(
            f"{name}: got the path {str(image)!r}, not pixels: read the file first, "
            "unetlab.read_image(path) (a stack: read_stack), or predict the file with "
            "unetlab.predict_file(model, path, out_dir), which writes its outputs"
        )
    tensor = isinstance(image, torch.Tensor)
    if tensor:
        image = image.detach().cpu().numpy()
    bool_array = isinstance(image, np.ndarray) and image.dtype == np.bool_
    if bool_array:  # its 0/1 were read as a dim or constant image (s64 notebook)
        fix = "image.to(torch.uint8) * 255" if tensor else "image.astype(np.uint8) * 255"
        raise UnetlabError(
            f"{name}: a bool {'tensor' if tensor else 'array'} (a mask?), not intensities: "
            f"{call} takes the image as read (uint8, uint16); to segment this binary "
            f"picture, give {fix}"
        )
    shape = getattr(image, "shape", ())
    if len(shape) == 3 and shape[0] <= 4 < min(shape[1:]) and shape[2] > 4:
        raise UnetlabError(_channels_first_line(name, shape, tensor, call))
    return image


def _channels_first_line(name: str, shape: tuple, tensor: bool, call: str) -> str:
    """The line for a (C, H, W) image: its fix spelled for a tensor or an array (a tensor has
    no numpy.moveaxis); a grey (1, H, W) one is one plane (torch's channel axis), not a stack
    (user trial s62)."""
    if shape[0] == 1:
        return (
            f"{name}: shape {shape} looks like one grey plane with its channel axis first; "
            "give (H, W): image[0]"
        )
    last = "image.permute(1, 2, 0)" if tensor else "numpy.moveaxis(image, 0, -1)"
    return (
        f"{name}: shape {shape} looks like (C, H, W) channels, or a stack of {shape[0]} "
        f"planes; give (H, W) or (H, W, C): channels last ({last}), or one plane at a time "
        f"({PLANE_CALLS[call]}; a stack's file: unetlab.predict_file)"
    )


#: more channels than an image of a stain or colour has: an array whose last axis is longer
#: (and longer than the model's channels) is a stack of planes, (P, H, W)
FEW_CHANNELS = 8


def refuse_planes(
    image: np.ndarray, channels: int, name: str = "image", *, call: str = "predict_image"
) -> None:
    """UnetlabError for a 3-D array that looks like a stack of planes (P, H, W): its last
    axis is longer than ``FEW_CHANNELS`` and than the model's ``channels``, and so is its
    second (a (T, Y, X) movie given to :func:`predict_image`, or ``call``, whose advice to
    pick a channel would predict one row of each frame); the planes' loop of ``call`` named
    (:data:`PLANE_CALLS`)."""
    shape = getattr(image, "shape", ())
    if len(shape) != 3 or shape[2] <= max(FEW_CHANNELS, channels) or shape[1] <= FEW_CHANNELS:
        return
    raise UnetlabError(
        f"{name}: shape {tuple(shape)} looks like a stack of {shape[0]} planes of {shape[1]} x "
        f"{shape[2]} px, not an image of {shape[2]} channels: {call} takes one plane, (H, W) "
        f"or (H, W, C); predict a stack plane by plane ({PLANE_CALLS[call]}), or its file "
        "with unetlab.predict_file, which keeps its T and Z axes"
    )


def fit_channels(
    image: np.ndarray,
    channels: int,
    *,
    name: str = "image",
    quiet: bool = False,
    channel: int | None = None,
    colour: bool | None = None,
    axes_given: bool = False,
    stains: str | None = None,
    alpha: bool = False,
    held: tuple[int, ...] | None = None,
) -> np.ndarray:
    """(H, W) or (H, W, C) -> (H, W, channels), a view where possible; never modifies ``image``.
    ``colour``: whether the image is a colour picture (R, G, B[, A]; for a file,
    :func:`unetlab.inference.pages.page_colour`), not separate channels (the stains of a
    fluorescence image); None (an array): 3 channels of 8 bits are colour, 4 for an RGB net
    (:func:`_colour_array`). A colour image given to a grey net becomes its luminance (0.299 R
    + 0.587 G + 0.114 B, a float32 copy, logged); an RGBA one given to an RGB net loses its
    alpha (a view, logged), as an RGBA file does (``alpha``: a file's recorded alpha, whose
    transparency :mod:`unetlab.data.nodata` says: unsaid, as a PNG's). A grey image is
    repeated (a view, logged) only for a 3-channel net whose channels are not ``stains``,
    taken to be an RGB net (the pretrained encoders are RGB; a checkpoint records its images'
    channels: :func:`~unetlab.inference.pages.stains_of`). Anything else raises UnetlabError
    naming both counts and the fix: for a grey net, ``channel``, that one channel of the
    image taken first (a view; counted among the file's ``held``, its channels ``image``
    holds, read alone: :func:`~unetlab.data.io.read_stack`), for a 1-channel net only; a
    tuple of them (a band subset a model records) for a net of as many. ``quiet``: no log
    line (a window after its image's first). ``axes_given``: read with the user's axes, a
    grey page is no (C, H, W) TIFF's channel: unasked. ``stains``: a stains model's: a grey
    image is refused (:func:`~unetlab.data.io.grey_for_stains`)."""
    hwc = _channels_last(image, name)
    if channel is not None:
        hwc = _one_channel(hwc, held_at(channel, held), channels, name)
        if not quiet and not isinstance(channel, tuple):
            _say_constant(hwc, channel, name)
    have = hwc.shape[2]
    if have == channels:
        return hwc
    if have == 1 and stains is not None:
        raise UnetlabError(grey_for_stains(name, stains, channels))
    guessed = colour is None  # an array: no photometric says what its channels are
    colour = _colour_array(hwc, channels) if guessed else colour
    ask = not axes_given and is_tiff_name(name)  # a PNG has no (C, H, W) pages
    fitted, note = _converted(hwc, channels, colour=colour, ask=ask, alpha=alpha)
    if fitted is None:
        raise UnetlabError(**_refusal(name, hwc, channels, guessed=guessed))
    if note and not quiet:
        _say_converted(name, note)
    return fitted


def _say_converted(name: str, note: str) -> None:
    """Say that the image ``name`` was made the model's channels as ``note`` says: within a
    command or public call, the first image's line at once and their count at its end
    (:func:`note_converted`); outside
    one (``predict_image``), now, once a run for each image (a stack's pages: once)."""
    if not note_converted(name, note) and _first_in_run(("channels", name, note)):
        log.warning("%s: %s", name, note)


def _colour_array(hwc: np.ndarray, channels: int) -> bool:
    """Whether an array's channels (no file's photometric says) are a colour picture's: 3
    of 8 bits, or 4 given to an RGB net (its alpha dropped); 4 given to a grey net are 4
    channels, refused as a 4-channel TIFF's are (``read_image`` gives one as (H, W, 4); an
    RGBA picture's luminance was the stains' mean of 3 of them, review s48 apiwalk)."""
    if hwc.dtype != np.uint8:
        return False
    return hwc.shape[2] == 3 or hwc.shape[2] == 4 and channels == 3


def _channels_last(image: np.ndarray, name: str) -> np.ndarray:
    """``image`` (H, W) or (H, W, C) of numbers as (H, W, C) (a view; a bool mask as 0/1
    uint8); UnetlabError naming what it is instead."""
    if not isinstance(image, np.ndarray):
        raise UnetlabError(f"{name}: expected a numpy array, not {type(image).__name__}")
    if image.ndim not in (2, 3) or 0 in image.shape:
        raise UnetlabError(
            f"{name}: expected an (H, W) or (H, W, C) image, not shape {image.shape}"
        )
    if image.dtype == bool:
        image = image.view(np.uint8)  # 0/1, as a mask would be read
    if not np.issubdtype(image.dtype, np.number) or np.issubdtype(image.dtype, np.complexfloating):
        raise UnetlabError(
            f"{name}: unsupported pixel type {image.dtype}; save the image as integers or floats"
        )
    return image[:, :, None] if image.ndim == 2 else image


#: the setting named, as the Python API and the command line call it
CHANNEL_NAMED = Spelled("channel", "--channel")
#: cellpose's chan 2 (green, counted from 1) as unetlab's channel, in its caller's form
_CELLPOSE_CHAN_2 = Spelled("channel=1", "--channel 1")


def _converted(
    hwc: np.ndarray, channels: int, *, colour: bool, ask: bool = False, alpha: bool = False
) -> tuple[np.ndarray | None, str]:
    """(H, W, C) made into the ``channels`` a net takes where the two are one picture seen
    two ways, and the line that says how (``ask``: whether a grey image may be a page of a
    TIFF whose channels are its pages, asked about: not where the user's axes made it
    grey, nor for a file that is no TIFF; ``alpha``: the 4th channel is a recorded alpha,
    left out without a line); (None, "") for any other pair of counts."""
    have = hwc.shape[2]
    if have == 1 and channels == 3:
        hint = " (a page of a (C, H, W) TIFF? save such images channels last)" if ask else ""
        return np.broadcast_to(hwc, (*hwc.shape[:2], channels)), (
            f"grey image given to a 3-channel model; its channel is repeated{hint}"
        )
    if have in (3, 4) and channels == 1 and colour:
        return _luminance(hwc[..., :3])[:, :, None], (
            "colour image given to a grey model; predicting its luminance (0.299 R + 0.587 G + "
            f"0.114 B); to predict one channel give {said_as(CHANNEL_C)}, counted from 0 "
            "(0 red, 1 green, 2 blue)"
        )
    if have == 4 and channels == 3 and colour:  # an RGBA array (np.asarray of an RGBA PNG)
        return hwc[..., :3], "" if alpha else (
            "4-channel image given to an RGB model; its 4th channel is left out, as reading "
            "an RGBA file drops the alpha"
        )
    return None, ""


def channel_refusal(
    channel: int | str | tuple[int, ...], channels: int, said: str = "", have: int | None = None
) -> dict[str, str]:
    """The keywords of the error (:func:`~unetlab.errors.spelled`: ``channel=`` to Python,
    ``--channel`` to the command line, s56) saying why ``channel`` (one, or a band list)
    cannot be given to a net of ``channels`` input channels (not 1; not as many as the
    list), after ``said`` (the image's name); ``have``: the image's channels, where known
    (one image of other than ``channels`` was told to "give it all 3 channels", s57)."""
    if isinstance(channel, tuple):  # the name an argument, not a template: braces in a path
        head = f"{said}channels {', '.join(map(str, channel))} were asked for ({len(channel)} "
        head += f"bands), but the model takes {numbered(channels, 'channel')}: give "
        tail = f" {numbered(channels, 'band')}, or leave it out (the bands it trained on, data.channel, "
        tail += "else all)"
        return spelled(lambda named: head + named + tail, CHANNEL_GIVEN)
    shown = repr(channel) if isinstance(channel, str) else channel

    def one(named: str) -> str:
        lead = f"{said}channel {shown} was asked for, but the model takes {channels} channels"
        if have is not None and have != channels:  # leaving it out would not do either
            return (
                f"{lead} and the image has {numbered(have, 'channel')}: predict it with a model "
                f"trained on {have}-channel images, or a 1-channel one ({named} picks its channel)"
            )
        whose = f"to give it all {channels}" if have is not None else f"for images of {channels}"
        return (
            f"{lead}: leave {named} out {whose} channels ({named} picks one channel for a "
            "1-channel model)"
        )

    return spelled(one, CHANNEL_GIVEN)


def _one_channel(hwc: np.ndarray, channel, channels: int, name: str) -> np.ndarray:
    """Channel ``channel`` of an (H, W, C) image as (H, W, 1), for a 1-channel net; a tuple
    of channels (a band subset: ``data.channel`` a list) as (H, W, len), in its order."""
    if isinstance(channel, str):
        raise UnetlabError(
            f"{name}: channel {channel!r} is a name, and an array records no channel names: "
            "give its index (channel=0, 1, ...)"
        )
    wanted = channel if isinstance(channel, tuple) else (channel,)
    if channels != len(wanted):
        raise UnetlabError(**channel_refusal(channel, channels, f"{name}: ", hwc.shape[2]))
    if max(wanted) >= hwc.shape[2]:
        raise UnetlabError(**_missing_channel(name, hwc.shape[2], channel))
    if len(wanted) > 1:
        return hwc[:, :, list(wanted)]
    return hwc[:, :, channel : channel + 1]


def _missing_channel(name: str, have: int, channel) -> dict[str, str]:
    """The keywords of the error (:func:`~unetlab.errors.spelled`) for an image of ``have``
    channels that lacks one of ``channel`` (an index, or the tuple of them a model
    records)."""
    said = f"{name}: has {numbered(have, 'channel')} ({_indices(have)}), "
    if isinstance(channel, tuple):  # the name an argument, not a template: braces in a path
        head = f"{said}but channels {', '.join(map(str, channel))} are read ("
        tail = f", else the model's data.channel): give images of at least {max(channel) + 1} "
        tail += "channels, or the bands they have"
        return spelled(lambda named: head + named + tail, CHANNEL_GIVEN)
    return spelled(
        lambda named: f"{said}no channel {channel}: give {named} a channel it has", CHANNEL_GIVEN
    )


def _indices(have: int) -> str:
    """The channel indices of an image of ``have`` channels: ``0``, ``0 to 2``."""
    return "0" if have == 1 else f"0 to {have - 1}"


def _say_constant(hwc: np.ndarray, channel: int, name: str) -> None:
    """Log that the chosen channel holds one value (an empty channel: cellpose counts its
    channels from 1, so its chan 2 is channel 1 here; audit s33 migrant 9)."""
    if hwc.size and hwc.min() == hwc.max():
        log.warning(
            "%s: channel %d is constant (empty: every pixel %g), so nothing is found in it; "
            "channels count from 0 (0 red, 1 green, 2 blue: cellpose's chan 2 is %s)",
            name,
            channel,
            float(hwc.flat[0]),
            said_as(_CELLPOSE_CHAN_2),
        )


def _refusal(name: str, hwc: np.ndarray, channels: int, *, guessed: bool) -> dict[str, str]:
    """The keywords of the error refusing ``hwc`` for a net of ``channels``
    (:func:`_mismatch`, in each caller's form: :func:`~unetlab.errors.spelled`); for an
    array of 4 bytes a pixel (``guessed``: no file said what its channels are), how to give
    an RGBA picture's colours instead."""
    rgba = guessed and hwc.shape[2] == 4 and hwc.dtype == np.uint8
    more = "; an RGBA picture: give its colours, image[..., :3], for their luminance"

    def line(choose: str) -> str:
        return _mismatch(name, hwc.shape[2], channels, choose) + (more if rgba else "")

    return spelled(line, CHANNEL_C)


def _mismatch(name: str, have: int, channels: int, choose: str) -> str:
    """The line refusing an image of ``have`` channels for a net of ``channels`` (``choose``:
    how its caller picks one channel, ``channel=C`` or ``--channel C``)."""
    if channels == 1:
        return (
            f"{name}: has {have} channels, the model takes 1: choose one with {choose}, e.g. "
            "the nuclear stain"
        )
    if have == 1:
        return (
            f"{name}: has 1 channel, the model takes {channels} (it was trained on "
            f"{channels}-channel images): give the image with all {channels} channels (channels "
            "last, or a TIFF with ImageJ or OME channel axes), or use a 1-channel model"
        )
    return (
        f"{name}: has {have} channels but the model expects {channels}; "
        f"convert the image or use a model trained on {have}-channel images"
    )


def check_finite(
    image: np.ndarray,
    name: str,
    *,
    channel_axis: bool,
    where: str = "",
    invalid=None,
    nodata: str | None = None,
) -> None:
    """Raise UnetlabError naming ``name`` if ``image`` holds NaN or infinite pixels: the net
    would turn them into a silently wrong prediction (all one class). ``where`` says which
    part of the image was checked (e.g. " in rows 0-511"); ``invalid`` ((H, W) bool: nodata,
    which may be NaN) pixels are not checked; ``nodata``: the setting that leaves NaN pixels
    out, as the caller has it (:func:`~unetlab.data.checks.nonfinite_fix`; None: predict's)."""
    if n := nonfinite_count(image, channel_axis=channel_axis, invalid=invalid):
        whole = not where  # a window or page of no finite pixel: the others may have some
        if whole and (
            none := none_finite(name, image, n, channel_axis=channel_axis, invalid=invalid)
        ):
            raise UnetlabError(none)
        fix = nonfinite_fix(image, channel_axis=channel_axis, invalid=invalid, nodata=nodata)
        raise UnetlabError(
            f"{name}: {n} NaN or infinite pixel{'s' if n > 1 else ''}{where}; {fix} "
            "(e.g. with 0) before predicting"
        )


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> (H, W) grey by the Rec. 601 weights; integer images stay integers of their
    dtype and range (what the "scale" normalisation expects), computed in float64 for 32- and
    64-bit ones, whose largest values float32 rounds past the dtype's end."""
    wide = np.issubdtype(rgb.dtype, np.integer) and rgb.dtype.itemsize >= 4
    work = np.float64 if wide else np.float32
    grey = rgb.astype(work) @ np.array([0.299, 0.587, 0.114], work)
    if not np.issubdtype(rgb.dtype, np.integer):
        return grey.astype(np.float32)
    info = np.iinfo(rgb.dtype)
    return np.clip(np.round(grey), info.min, info.max).astype(rgb.dtype)


@refuses_assignment
@dataclass(frozen=True)
class PredictOptions(KnownFields):
    """How images are predicted: one value passed through every level of prediction.

    ``tile_size``: input tile (int or (h, w)), None for the largest that fits the memory
    budget; ``batch_size``: None for as many as fit. ``blend``: ``"mean"`` or ``"gaussian"``
    for same-padding nets (valid ones are exact and ignore it). ``tta``: True for the
    flips/rotations the net trained with (``model.tta``; all 8 for a model that records
    none), ``"all"`` for the 8 whatever it trained with, or a list of names from
    ``unetlab.inference.tiling.TTA_TRANSFORMS``.
    ``precision``: ``"fp32"`` or ``"bf16"`` (autocast; softmax in float32). ``device``: None
    keeps the model where it is (otherwise the model is moved there; its training flag and
    weight layout are restored after the call, and a model already in channels-last layout
    is predicted without any conversion, the fastest for many calls). ``channel``: predict
    only this channel (0-based) of a multi-channel image (the nuclear stain of a fluorescence
    image, for a grey model), or a tuple of them for a net of as many (a band subset); None:
    all of them (:meth:`for_model`: the channel or channels the model was trained on, if it
    records them); a file's channel may also be given by the name it records
    (:func:`unetlab.predict_file`). ``exclude_rows``: rows of the image that are not sample
    (an SEM data bar; ``{"bottom": 26}``, ``"bottom=26"`` or (T, B), px or a share of the
    height: :mod:`unetlab.data.exclude`): the normalisation statistics leave them out and
    the probabilities there are the background's (:func:`model_background`'s 1), so no label or object lies
    there; None: those the model trained with (``data.exclude_rows``, recorded in its
    checkpoint: :meth:`for_model`), ``()`` or ``"none"``: none. Held as (T, B), or ``()``.
    ``nodata``: which pixels of a file are no sample (:mod:`unetlab.data.nodata`: ``"auto"``
    the GeoTIFF nodata tag and alpha 0, ``"none"``, or a number every band holds there),
    read by :func:`unetlab.predict_file`; None: the model's ``data.nodata``, else auto.
    ``scale``: the factor each image is resampled by before the net (linear; 2 for objects
    half the training size), its probabilities resampled back to the image's shape
    (:mod:`~unetlab.inference.rescale`); ``"auto"``: a file's pixel size over the training
    images' (:func:`unetlab.predict_file`); 1: as it is.
    """

    tile_size: int | tuple[int, int] | None = None
    batch_size: int | None = None
    blend: str = "mean"
    tta: bool | str | Sequence[str] = False
    precision: str = "fp32"
    device: str | torch.device | None = None
    channel: int | str | tuple[int, ...] | None = None
    exclude_rows: tuple | None = None
    nodata: str | float | None = None
    scale: float | str = 1.0

    def __post_init__(self):
        check_precision(self.precision, None)
        object.__setattr__(self, "scale", check_scale(self.scale))
        object.__setattr__(self, "tile_size", _tile_size(self.tile_size))
        if self.batch_size is not None and not whole_number(self.batch_size):
            raise UnetlabError(
                f"batch_size must be a whole number of tiles, or None for as many as fit, "
                f"not {self.batch_size!r}"
            )
        if self.nodata is not None:
            object.__setattr__(self, "nodata", check_nodata(self.nodata, "nodata"))
        if self.exclude_rows is not None:
            rows = check_exclude_rows(self.exclude_rows, "exclude_rows")
            object.__setattr__(self, "exclude_rows", rows or ())
        c = self.channel
        if isinstance(c, np.ndarray) and c.ndim == 1 or isinstance(c, np.integer):
            object.__setattr__(self, "channel", c := c.tolist())  # a notebook's np.argsort
        if isinstance(c, (list, tuple)) and len(c) == 1:  # ["DAPI"] too (review s70)
            object.__setattr__(self, "channel", c := c[0])
        if isinstance(c, str) and c.strip():  # a name a file records: predict_file's to read
            return
        if isinstance(c, (list, tuple)) and len(c) > 1:  # a band subset (data.channel a list)
            if not all(whole_number(i) and i >= 0 for i in c) or len(set(c)) != len(c):
                said = f" must list distinct channel indices, each at least 0, not {c!r}"
                raise UnetlabError(**spelled(lambda named: named + said, CHANNEL_NAMED))
            object.__setattr__(self, "channel", tuple(int(i) for i in c))
            return
        if c is not None and not (whole_number(c) and c >= 0):
            raise UnetlabError(
                f"channel must be a channel index at least 0, a list of distinct ones (bands "
                f"in that order, e.g. [3, 2, 1, 7]) or a name, not {c!r}"
            )
        if c is not None:  # numpy's alone in a list too (review s70: [np.int64(1)] refused)
            object.__setattr__(self, "channel", int(c))

    @classmethod
    def of(cls, options: PredictOptions | None = None, **changes) -> PredictOptions:
        """``options`` (default: the defaults) with the fields in ``changes`` replaced; a
        name that is no field is refused naming the closest (UnetlabError)."""
        if unknown := [k for k in changes if k not in cls.__dataclass_fields__]:
            raise UnetlabError(unknown_setting(unknown[0], list(cls.__dataclass_fields__)))
        base = options if options is not None else cls()
        return replace(base, **changes) if changes else base

    @classmethod
    def for_model(cls, model, options: PredictOptions | None = None, **changes) -> PredictOptions:
        """:meth:`of`, with ``channel`` left None set to the channel ``model`` was trained on
        (``data.channel``, recorded in its checkpoint: ``model.channel``), if any, and
        ``exclude_rows`` left None to the rows it left out (:func:`trained_exclude_rows`)."""
        o = cls.of(options, **changes)
        trained = getattr(model, "channel", None)
        if isinstance(trained, list):  # a band subset (data.channel a list)
            trained = tuple(trained)
        o = replace(o, channel=trained) if o.channel is None and trained is not None else o
        if o.exclude_rows is None and (rows := trained_exclude_rows(model)) is not None:
            o = replace(o, exclude_rows=rows)
        if o.nodata is None:
            o = replace(o, nodata=trained_nodata(model))
        return o


def whole_number(value) -> bool:
    """Whether ``value`` is an integer (numpy's too), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _tile_size(value) -> int | tuple[int, int] | None:
    """``tile_size`` as None, an int or an (h, w) pair of ints (numpy's integers taken as
    ints); UnetlabError for anything else (audit s35 api 3: "big" raised a TypeError)."""
    if value is None or whole_number(value):
        return None if value is None else int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(map(whole_number, value)):
        return (int(value[0]), int(value[1]))
    raise UnetlabError(
        f"tile_size must be a whole number of pixels (e.g. 256), an (h, w) pair of them, or "
        f"None for the largest that fits in memory, not {value!r}"
    )


def check_model(model) -> None:
    """UnetlabError unless ``model`` is a loaded model (a torch module) with float32
    weights: a checkpoint's path or None (audit s35 api 3: an AttributeError), or a model
    converted with ``.half()`` (api 5: torch's "expected scalar type Float but found
    Half"), is named with the fix."""
    if isinstance(model, (str, os.PathLike)):
        raise UnetlabError(
            f"model is a path ({model}), not a model: load it first, "
            "model = unetlab.load_model(path)"
        )
    if not isinstance(model, torch.nn.Module):
        raise UnetlabError(
            f"model must be a model loaded by unetlab.load_model(path), not {type(model).__name__}"
        )
    check_weights(model)


def check_weights(model) -> None:
    """UnetlabError unless ``model``'s weights (any: a stand-in without ``parameters`` has
    none) are float32, naming ``model.float()``."""
    weights = model.parameters() if hasattr(model, "parameters") else ()
    if other := sorted({str(p.dtype) for p in weights} - {str(torch.float32)}):
        raise UnetlabError(
            f"the model's weights are {' and '.join(other)}: unetlab predicts with float32 "
            "weights; give model.float(), with precision='bf16' to compute in bfloat16 "
            "where that is faster"
        )


def trained_exclude_rows(model) -> tuple | None:
    """The rows ``model``'s training left out of every image (``data.exclude_rows`` of the
    config its checkpoint records), as (T, B); None for none."""
    data = getattr(model, "training_data", None) or {}
    return check_exclude_rows(data.get("exclude_rows"), "the checkpoint's data.exclude_rows")


def trained_nodata(model) -> str | float:
    """``data.nodata`` of the config ``model``'s checkpoint records; ``"auto"`` for one that
    records none (trained before the key: auto changes nothing for images without a nodata
    tag or alpha channel)."""
    data = getattr(model, "training_data", None) or {}
    return check_nodata(data.get("nodata", "auto"), "the checkpoint's data.nodata")


#: output keywords of predict_file / predict_folder given to predict_image (or through
#: predict_objects): where they belong and, for an array, the way to the same result
_FILE_KEYWORDS = {
    "objects_3d": (
        "objects_3d joins a stack's objects in 3-D: for a (Z, Y, X) array, ids, table = "
        "predict_objects(model, stack, objects_3d=True, pixel_size=, z_spacing=); for a file, "
        "predict_file and predict_folder, which read its Z axis and voxel size from it"
    ),
    "z_spacing": (
        "z_spacing is the step between the planes of objects_3d=True: predict_objects(model, "
        "stack, objects_3d=True, pixel_size=, z_spacing=) for an array, predict_file's and "
        "predict_folder's for a file"
    ),
    "pixel_size": (
        "pixel_size is predict_objects' (its table's µm columns), predict_file's and "
        "predict_folder's; predict_image's probabilities have no sizes: drop it"
    ),
}


def unknown_setting(name: str, known: list[str]) -> str:
    """``unknown prediction setting pixel_sise: did you mean ...? the settings are ...``; an
    output keyword of the file functions (``objects_3d``, ``z_spacing``, ``pixel_size``)
    says where it belongs instead."""
    if name in _FILE_KEYWORDS:
        return _FILE_KEYWORDS[name]
    hint = did_you_mean(name, known)
    return f"unknown prediction setting {name}: {hint}the settings are {', '.join(known)}"


def predict_image(
    model: torch.nn.Module,
    image: np.ndarray,
    options: PredictOptions | None = None,
    *,
    progress: bool | Callable[[int], None] | None = None,
    name: str = "image",
    invalid: np.ndarray | None = None,
    **settings,
) -> np.ndarray:
    """Class probabilities of one image of any size: (K, H, W) float32.

    ``image``: (H, W) or (H, W, C) numpy array (or tensor), uint8/uint16/float (memory-mapped
    is fine), normalised as the model records (``model.normalization``, statistics computed once per
    image); never modified. K = ``model.num_classes`` (softmax), or 1 (sigmoid) for a
    one-class net. ``options``: a :class:`PredictOptions`; ``settings``: its fields by name
    (``tile_size=``, ``batch_size=``, ``blend=``, ``tta=``, ``precision=``, ``device=``,
    ``exclude_rows=``), replacing those of ``options``. ``progress``: True for a bar of the
    tiles done (where a person watches: a terminal, a notebook), or a function ``progress(n)``
    called after each batch of n tiles.
    NaN or infinite pixels raise UnetlabError (:func:`check_finite`); ``name`` (e.g. the
    file the pixels came from) is what the messages call the image. A file's path is
    refused (UnetlabError): read it with :func:`unetlab.read_image` first (the array it gives
    is what this takes), or write its outputs with :func:`unetlab.predict_file`, which also
    keeps the file's pixel size and stack axes. ``invalid``: (H, W) bool, the pixels that
    are no sample (:func:`unetlab.data.nodata.invalid_pages`: nodata, transparent), left out
    as :func:`predict_fitted` says.

    On a CPU, malloc keeps freed activations for the call's tiles and gives the memory back
    when it returns (:func:`unetlab.runtime.tuned_allocator`); a script that predicts many
    images and may keep its peak memory calls :func:`unetlab.runtime.tune_allocator` once
    (calls after the first 1.7x faster on a 1024 x 1024 image, small preset, one thread; the
    command line does so). Torch's threads are left as they are, beside other work too
    (:mod:`unetlab.inference.threads_look` says why; :func:`unetlab.predict_folder` lowers).
    """
    check_model(model)
    asked = PredictOptions.of(options, **settings).channel  # not the model's
    options = PredictOptions.for_model(model, options, **settings)
    image = as_image(image, name)
    refuse_planes(image, model.in_channels, name)
    grey = np.ndim(image) == 2 or np.ndim(image) == 3 and image.shape[2] == 1  # read as it is
    channel = None if grey and asked is None and model.in_channels == 1 else options.channel
    image = fit_channels(
        image, model.in_channels, name=name, channel=channel, stains=stains_of(model)
    )
    invalid = invalid_mask(invalid, image.shape[:2], name)
    check_finite(image, name, channel_axis=True, invalid=invalid)
    with progress_calls(progress, desc=name, unit="tile", leave=False) as done:
        return predict_fitted(model, image, options, progress=done, name=name, invalid=invalid)


def invalid_mask(invalid, shape: tuple[int, int], name: str) -> np.ndarray | None:
    """``invalid`` as an (H, W) bool array of the image's ``shape`` (nonzero: invalid), or
    None; another shape is refused in one line (UnetlabError; it was numpy's "cannot reshape
    array", audit s42 api)."""
    if invalid is None:
        return None
    invalid = np.asarray(invalid)
    if invalid.shape != tuple(shape):
        raise UnetlabError(
            f"{name}: invalid has shape {invalid.shape}, the image {tuple(shape)}: give an "
            "(H, W) bool array of the image's pixels that are no sample (True: left out)"
        )
    return invalid if invalid.dtype == bool else invalid != 0


#: a plane of a stack whose intensity scale (the percentile range or standard deviation the
#: model's normalisation measures) is under this fraction of the stack's widest plane's has
#: no signal of its own (camera noise above the cells, a dark frame): it is normalised with
#: that floor, not stretched to full contrast (audit s28: such a plane became one object the
#: size of the plane). Planes above it are normalised on their own, as a 2-D image of each.
PLANE_SCALE_FLOOR = 0.05


def stack_stats(
    model: torch.nn.Module,
    pages: Sequence[np.ndarray],
    *,
    name: str = "image",
    exclude_rows: tuple | None = None,
    invalid: Sequence[np.ndarray | None] | None = None,
    axes: PageAxes | None = None,
) -> list[tuple]:
    """The normalisation statistics (mean, scale) of each page of a stack (each (H, W, C),
    fitted to the model): each page's own (:func:`~unetlab.data.normalize.image_stats`), its
    scale floored at ``PLANE_SCALE_FLOOR`` times the stack's largest, channel by channel.
    What the model's floor does to them is logged (:func:`model_stats`; the stack is one
    run of :func:`floor_run`); ``name`` (the file) is what the lines call the image. Each
    page's statistics leave its ``exclude_rows`` out (a data bar: :mod:`unetlab.data.exclude`)
    and its ``invalid`` pixels (each page's (H, W) bool or None: :mod:`unetlab.data.nodata`).
    ``axes``: what the pages are, which the lines name ("frame 3", "plane 2")."""
    invalid = invalid if invalid is not None else [None] * len(pages)
    axes = axes if axes is not None else PageAxes("Q", (len(pages),))
    blank = [bad is not None and bad.all() for bad in invalid]  # not predicted: no statistics
    pages = [_stats_pixels(p, exclude_rows, bad, name) for p, bad in zip(pages, invalid)]
    if len(pages) <= 1:
        return [
            _blank_stats(page) if b else model_stats(model, page, name=name)
            for page, b in zip(pages, blank)
        ]
    stats, dim = [], {}
    with floor_run():
        for p, (page, b) in enumerate(zip(pages, blank)):
            here = f"{name} {axes.label(p)}"
            stats.append(_blank_stats(page) if b else model_stats(model, page, name=here, dim=dim))
    say_pages(dim, axes.noun())
    scales = [scale for (_, scale), b in zip(stats, blank) if not b] or [stats[0][1]]
    floor = PLANE_SCALE_FLOOR * np.max(scales, axis=0)
    return [(mean, np.maximum(scale, floor)) for mean, scale in stats]


def _blank_stats(page: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The statistics of a page with no valid pixel (never used: it is not predicted)."""
    c = channels_of(page)
    return np.zeros(c), np.ones(c)


#: the (dtype, floor) pairs whose "floor not applied" line has been said in this run
#: (:func:`floor_run`); None outside a run
_SAID_FLOOR: contextvars.ContextVar[set[tuple] | None] = contextvars.ContextVar(
    "unetlab_said_floor", default=None
)
#: the (dtype, floor) pairs said outside any run: by calls of their own (``predict_image``,
#: ``predict_objects``), once a process
_SAID_OUTSIDE: set[tuple] = set()
#: a held run's (floor_run(held=True)) lines, kept for the main process to say
#: (:func:`run_handed`): "floor not applied" by ("floor", dtype, floor), an image's "read as
#: nearly empty" by ("dim", name, floor), its "faint objects may be missed" by ("faint",
#: name, floor), each as (line, what follows it: a stack's "(and 3 more pages)"); None in
#: any other run
_HANDED_LINES: contextvars.ContextVar[dict[tuple, str | tuple[str, str]] | None] = (
    contextvars.ContextVar("unetlab_held_floor", default=None)
)


@contextlib.contextmanager
def floor_run(*, held: bool = False) -> Iterator[None]:
    """A run (a file, a folder of files, a stack, an evaluation) within which
    :func:`model_stats` says each "floor not applied" line once (and :func:`fit_channels`
    each image's line once: :func:`_first_in_run`); entered within another
    run, that run goes on. A long-lived process (napari, a notebook) hears the line again in
    each run it starts, not once for good (review s29 item 4); calls outside any run
    (``predict_image`` in a notebook's loop over a movie's frames) say it once a process
    (audit s32 notebook 8: once a frame, 40 paragraphs for 40 frames). ``held``: a process of
    a group but the main one (``--nproc N``, its share of the files): its run's once-a-run
    lines are kept, and the main one says them once for the group (:func:`run_handed`,
    :func:`say_handed`), as a run of one says them."""
    if _SAID_FLOOR.get() is not None:
        yield
        return
    token, kept = _SAID_FLOOR.set(set()), _HANDED_LINES.set({} if held else None)
    try:
        # the images far from the training images: counted, summed up at the end
        with far_run(held=held):
            yield
    finally:
        _SAID_FLOOR.reset(token)
        _HANDED_LINES.reset(kept)


def run_handed() -> tuple[dict[tuple, str], FarCount | None]:
    """What this process's held run (:func:`floor_run`) kept for the main process to say,
    handed over (emptied here): its floor lines and far count; nothing outside one."""
    kept = _HANDED_LINES.get()
    if kept is None:
        return {}, None
    lines = dict(kept)
    kept.clear()
    return lines, handed()


def say_handed(part: tuple[dict[tuple, str], FarCount | None]) -> None:
    """In the main process: say what another process's run kept (:func:`run_handed`) that
    this run has not said, and add its far images to this run's count."""
    lines, count = part
    for (kind, *key), line in lines.items():
        if kind in _PER_IMAGE:  # in full where it is the run's first, else short
            name, floor = key
            _say_image((kind, line[0]), name, floor, line[1])
        else:
            _say_floor(tuple(key), line)
    merge_handed(count)


def _first_in_run(key: tuple) -> bool:
    """Whether the line ``key`` names is said: once in a run (:func:`floor_run`; marked
    said), every time outside one. Evaluate's pages of one image each said "grey image
    given to a 3-channel model" (3 grey TIFF pages: 3 lines)."""
    said = _SAID_FLOOR.get()
    if said is None:
        return True
    if key in said:
        return False
    said.add(key)
    return True


def model_stats(
    model: torch.nn.Module, image: np.ndarray, *, name: str = "image", dim: dict | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~unetlab.data.normalize.image_stats` of ``image`` as ``model`` normalises it,
    saying what its floor does (:func:`~unetlab.data.normalize.contrast_note`): that it is
    not applied to an image of another dtype than the training images' (once per run, as
    :func:`floor_run` scopes it, and dtype; outside a run once a process), and that an image with far less contrast is
    read as nearly empty, or that faint objects may be missed (per image: ``name: ...``;
    kept in ``dim`` instead, when given: :func:`say_contrast`). It says too when the image
    lies far from the training images the model's checkpoint describes
    (:func:`unetlab.inference.appearance.say_appearance`)."""
    spec = model.normalization
    mean, contrast = raw_stats(image, spec)
    floor = floor_for(spec, image.dtype)  # once a page (s73: three times, 10-16 us each)
    note = note_against(spec, image.dtype, contrast, floor)
    said_dtype = note is not None and note[0] == "dtype"  # that line names the dtype already
    # per_image statistics are the raw ones the record holds: no second pass over the pixels
    own = mean if spec.get("mode") == "per_image" else None
    record = getattr(model, "appearance", None)  # absent: a model never trained by unetlab
    say_appearance(record, spec, image, name=name, mean=own, dtype_said=said_dtype)
    scale = raised_to(contrast, floor)
    share = floor_share(scale, floor)
    say_contrast(spec, image.dtype, note, name=name, dim=dim, share=share)
    return mean, scale


def say_contrast(spec: dict, dtype, note: tuple | None, *, name: str, dim=None, share=None) -> None:
    """Say ``note``, :func:`~unetlab.data.normalize.contrast_note` of an image of ``dtype``
    normalised by ``spec``: "floor not applied" once per run (:func:`floor_run`) and dtype,
    outside a run once a process; "read as nearly empty" and "faint objects may be missed"
    per image (``name: ...``; kept in ``dim`` instead, when given, by kind, for
    :func:`say_pages` to say a stack's pages). A streamed slide's page says it too (audit
    s41). The "not applied" line names the first image of ``dtype`` (it named none: a folder
    of mixed PNGs left the user to guess which was 16-bit). A stack's page's ``share`` of
    the floor (:func:`floor_share`) is kept in ``dim`` too (under :data:`_SHARES`)."""
    if dim is not None and share is not None:
        dim.setdefault(_SHARES, []).append((name, share))
    if note is not None and note[0] == "dtype":
        kind = np.dtype(dtype).name
        named = name != "image"  # predict_image's default: no file to name
        first = f"{Path(name).name} (the first {kind} image): " if named else ""
        _say_floor((kind, str(spec.get("floor"))), first + note[1])
    elif note is not None and dim is not None:
        dim.setdefault(note[0], []).append((name, note[1], _floor_key(spec, dtype)))
    elif note is not None:
        _say_image(note, name, _floor_key(spec, dtype))


def _floor_key(spec: dict, dtype) -> str:
    """The floor of ``spec`` that an image of ``dtype`` gets, as the key of its lines: its
    dtype's own (``floors``) or the spec's ``floor``."""
    return str(floor_entry(spec, dtype)[1])


#: the key of ``dim`` (:func:`say_contrast`) under which a stack's pages' shares of the floor
#: are kept: each page's (name, its least channel's floored contrast over the floor)
_SHARES = "shares"


def floor_share(scale: np.ndarray, floor: np.ndarray | None) -> float | None:
    """The share of ``floor`` (:func:`~unetlab.data.normalize.floor_for`'s) that a page whose
    floored contrast is ``scale`` (per channel) holds, its least channel's; None where the
    floor does not apply to it."""
    return None if floor is None else float(np.min(np.asarray(scale) / floor))


def say_pages(dim: dict[str, list[tuple[str, str, str]]], noun: str) -> None:
    """Say the lines of a stack's pages kept by :func:`say_contrast` (``dim``: by kind, each
    page's (name, line, floor)): of each kind, the first page's and how many more ``noun``
    ("(and 3 more planes)"), as one line: a page of each kind is not counted in the
    other's. In full where it is the run's first of its kind, else pointed to that one, as
    an image's (:func:`_dim_line`: a folder of dim stacks said each stack's in full).
    A z-stack with a page of as much contrast as the least training image in every channel
    (the floor over ``FLOOR_SHARE``) says one softer line of its pages under the floor
    instead (:func:`_say_empty_planes`)."""
    shares = dim.pop(_SHARES, [])
    best = max(shares, key=lambda page: page[1], default=None)
    if noun != "frames" and best is not None and best[1] >= 1 / FLOOR_SHARE and dim:
        _say_empty_planes(dim, shares, best, noun)
        return
    for kind, pages in dim.items():
        name, line, floor = pages[0]
        rest = len(pages) - 1
        _say_image((kind, line), name, floor, _more(rest, noun))


def _more(rest: int, noun: str) -> str:
    """ "and 3 more planes" of ``rest`` more pages, ``noun`` plural; "" of none."""
    return f"and {rest} more {noun if rest > 1 else noun.removesuffix('s')}" if rest else ""


def _say_empty_planes(dim: dict, shares: list, best: tuple[str, float], noun: str) -> None:
    """The one line of a stack's pages under the floor (``dim``: by kind, :func:`say_pages`)
    where its page ``best`` (of ``shares``: each page's (name, share of the floor)) holds
    twice it: its empty planes are flattened as they should be, but planes that hold cells
    may be faint ones of thick tissue (review s69: the branch said nothing of an 8-plane
    stack fading from 3.0x to 0.45x the floor, whose plane 7 main told "read as nearly
    empty"; the empty top planes of nearly every z-stack were told "faint objects may be
    missed", s69)."""
    under = {name: floor for pages in dim.values() for name, _, floor in pages}
    named = [name for name, _ in shares if name in under]
    line = (
        f"contrast under the model's floor, the stack's brightest {noun.removesuffix('s')} "
        f"({best[0]}) {best[1]:.1f}x it: the floor flattens {noun} "
        "without objects, as it should; if these hold cells, faint ones may be missed"
    )
    _say_image(("empty", line), named[0], under[named[0]], _more(len(named) - 1, noun))


def _say_image(note: tuple[str, str], name: str, floor: str, more: str = "") -> None:
    """Say an image's (or a stack's page's) ``note`` ("dim", "faint": :func:`_dim_line`),
    with ``more`` ("and 2 more pages": the stack's other pages); a held run keeps it for the
    main process (:func:`run_handed`)."""
    if (kept := _HANDED_LINES.get()) is not None:
        kept[note[0], name, floor] = (note[1], more)
    else:
        log.warning("%s: %s", name, _dim_line(note, name, floor, more))


def _say_floor(key: tuple, line: str) -> None:
    """Say the "floor not applied" ``line`` of ``key`` (dtype, floor) once a run (outside
    any, once a process); a held run keeps it for the main process (:func:`run_handed`)."""
    said = _SAID_FLOOR.get()
    said = _SAID_OUTSIDE if said is None else said
    if key in said:
        return
    said.add(key)
    if (kept := _HANDED_LINES.get()) is not None:
        kept[("floor", *key)] = line
    else:
        log.warning(line)


#: by the model floor it was said of (and the line's kind): the image named in the first
#: full "read as nearly empty" (or "faint objects") line said outside any run, and how many
#: images that line was said of so far
_DIM_SAID: dict[str, list] = {}
#: the kinds of :func:`~unetlab.data.normalize.contrast_note` said of each image
_PER_IMAGE = ("dim", "faint", "empty")


def _dim_line(note: tuple[str, str], name: str, floor: str, more: str = "") -> str:
    """The "read as nearly empty" line of image ``name`` (``note``: ("dim", line)), or its
    "faint objects may be missed" one (("faint", line)): in full for the first image of its
    kind in a run (:func:`floor_run`: a folder, audit s33 plates 6: 16 empty control wells
    gave 16 lines of 300 characters) or, outside any run (a notebook's loop over a bleaching
    movie's frames, audit s32 notebook 8), of the process; then its figures and a pointer
    to that one, one short line. ``more`` (a stack's other pages: "and 2 more pages") is
    said in the line's one parenthesis ("(see s.tif page 0) (and 2 more pages)" had two)."""
    kind, line = note
    figures, flat, _ = line.partition(": the floor flattens")
    verdict = "read as nearly empty" if flat else "nothing to segment"
    if kind == "faint":  # pointed to its own first, not a nearly empty image's
        verdict, floor = "faint objects may be missed", f"faint {floor}"
    elif kind == "empty":  # a bright stack's planes under the floor: their own first
        verdict, floor = (
            "empty planes flattened; faint cells there may be missed",
            f"empty {floor}",
        )
    elif not flat:  # "the image is constant": pointed to its own first, not a dim image's
        figures, floor = line.partition(" (")[0], f"constant {floor}"
    run = _SAID_FLOOR.get()
    said = _DIM_SAID if run is None else {k[1]: [k[2]] for k in run if k[0] == "dim"}
    first = said.get(floor)
    if first is None:  # this image's line is the first
        if run is None:
            _DIM_SAID[floor] = [name, 1]
        else:
            run.add(("dim", floor, name))
        return f"{line} ({more})" if more else line
    if run is None:
        first[1] += 1  # this one counted in
        verdict += f" ({more})" if more else ""
        return f"{figures}: {verdict}, as said in full for {said_in_full_for(*first, name)}"
    figures = re.sub(r" \(trained on [^)]*\)", "", figures)  # said in the first line
    see = f"see {Path(first[0]).name}"
    return f"{figures}: {verdict} ({f'{more}; {see}' if more else see})"


def _stats_pixels(image: np.ndarray, rows, invalid: np.ndarray | None, name: str) -> np.ndarray:
    """The pixels of ``image`` its statistics are taken over: those outside the excluded
    ``rows`` (a view) and, where some are ``invalid``, outside those too (1, N[, C])."""
    if invalid is None:
        return kept_rows(image, rows, name)
    return valid_pixels(image, either(invalid, region(image.shape, rows)))


def predict_fitted(
    model: torch.nn.Module,
    image: np.ndarray,
    options: PredictOptions | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    stats: tuple[np.ndarray, np.ndarray] | None = None,
    name: str = "image",
    invalid: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`predict_image` of an (H, W, C) image that already has the model's C channels
    (:func:`fit_channels`) and holds no NaN or infinite pixel (:func:`check_finite`): for
    callers that check a whole stack once, before its first page is predicted. ``stats``:
    its normalisation statistics if the caller has them (a stack's: :func:`stack_stats`),
    else the image's own (:func:`model_stats`; ``name``: what its lines call the image),
    over its rows outside ``options.exclude_rows``; those rows are predicted filled with the
    mirror image of the rows beside them (:func:`~unetlab.data.exclude.mirrored`), and their
    probabilities are the background's (:func:`~unetlab.data.exclude.blank_probabilities`).
    ``invalid`` pixels ((H, W) bool: nodata, transparent; :mod:`unetlab.data.nodata`) are
    left out alike: of the statistics, filled with the valid pixels' mean
    (:func:`~unetlab.data.nodata.filled`), their probabilities the background's; an image
    with no valid pixel is not predicted (all background, said in one line)."""
    o = PredictOptions.of(options)
    if invalid is not None and invalid.all():
        return _all_invalid(model, image.shape[:2], name)
    scaled, stats = _net_input(model, image, o, stats=stats, name=name, invalid=invalid)
    probs = _tiled_probabilities(model, scaled, o, stats=stats, progress=progress)
    probs = restored(probs, image.shape[:2])  # outputs in the input's pixels
    background = model_background(model)
    return blank_pixels(blank_probabilities(probs, o.exclude_rows, background), invalid, background)


def labels_fitted(
    model: torch.nn.Module,
    image: np.ndarray,
    options: PredictOptions | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    stats: tuple[np.ndarray, np.ndarray] | None = None,
    name: str = "image",
    invalid: np.ndarray | None = None,
) -> np.ndarray:
    """``labels_from_probabilities(predict_fitted(...))`` (the same arguments), the same
    labels made row of tiles by row of tiles (:func:`maps_fitted`): the whole (K, H, W)
    probabilities are never held (12 MP, 11 classes: 528 MB), one row of tiles' at a time."""
    how = dict(progress=progress, stats=stats, name=name, invalid=invalid)
    return maps_fitted(model, image, options, _labels_only, **how)[0]


def _labels_only(probabilities: np.ndarray) -> tuple[np.ndarray]:
    return (labels_from_probabilities(probabilities),)


def maps_fitted(
    model: torch.nn.Module,
    image: np.ndarray,
    options: PredictOptions | None,
    reduce: Callable[[np.ndarray], tuple[np.ndarray, ...]],
    *,
    progress: Callable[[int], None] | None = None,
    stats: tuple[np.ndarray, np.ndarray] | None = None,
    name: str = "image",
    invalid: np.ndarray | None = None,
) -> tuple[np.ndarray, ...]:
    """``reduce(predict_fitted(...))`` (the same arguments), where ``reduce`` maps (K, rows,
    W) probabilities to (rows, W) maps pixel by pixel (labels, one class's plane, a
    threshold), made row of tiles by row of tiles: the whole (K, H, W) probabilities are
    never held, one row of tiles' at a time. A rescaled image (``scale`` not 1) has its
    probabilities resampled whole: predicted whole (``reduce`` must then copy any plane
    it keeps, or the whole probabilities stay held)."""
    o = PredictOptions.of(options)
    if o.scale != 1 or (invalid is not None and invalid.all()):
        how = dict(progress=progress, stats=stats, name=name, invalid=invalid)
        return reduce(predict_fitted(model, image, o, **how))
    image, stats = _net_input(model, image, o, stats=stats, name=name, invalid=invalid)
    blank = either(invalid, region(image.shape[:2], o.exclude_rows))
    rows = _row_reducer(blank, model_background(model), reduce)
    return _tiled(model, image, o, rows, stats=stats, progress=progress)


def _row_reducer(blank: np.ndarray | None, background: int, reduce: Callable) -> Callable:
    """A :func:`tiled_apply` that gives ``reduce``'s maps instead: each finished block of
    :func:`iter_tiled_rows` reduced (its ``blank`` pixels the certainty of ``background``,
    as :func:`predict_fitted` sets them) and let go before the next tile is predicted."""

    def reduced(fn, image, grid, **kwargs) -> tuple[np.ndarray, ...]:
        maps = None
        for y, block in iter_tiled_rows(fn, image, grid, **kwargs):
            block = block.cpu().numpy() if isinstance(block, torch.Tensor) else block
            rows = slice(y, y + block.shape[1])
            if blank is not None:
                certain_background(block, blank[rows], background)
            found = reduce(block)
            if maps is None:
                maps = tuple(np.empty(grid.shape, f.dtype) for f in found)
            for whole, part in zip(maps, found, strict=True):
                whole[rows] = part
            del block, found  # the row's buffer goes back before the next tile is predicted
        return maps

    return reduced


def _net_input(model, image: np.ndarray, o: PredictOptions, *, stats, name: str, invalid):
    """(the image as the net sees it, its normalisation statistics): the statistics its
    own (:func:`model_stats`) unless given, clipped as a ``ct`` model's
    (:func:`~unetlab.data.normalize.clipped`), its excluded rows mirrored, its ``invalid``
    pixels filled, rescaled by ``o.scale`` (:func:`predict_fitted`)."""
    if stats is None:
        stats = model_stats(model, _stats_pixels(image, o.exclude_rows, invalid, name), name=name)
    image = clipped(image, model.normalization)  # a ct model's: as its training images
    image = mirrored(image, o.exclude_rows, name)  # the net sees no bar, as in training
    image = filled(image, invalid)  # nor a nodata outline
    if o.scale == "auto":
        raise UnetlabError(
            f"{name}: scale='auto' takes a file's pixel size: use predict_file or "
            "predict_folder, or give the factor (scale=2 for objects half the training size)"
        )
    scaled = rescaled(image, o.scale)  # Cellpose's diameter: the net sees trained sizes
    if o.scale != 1:
        chosen.note(scale=round(float(o.scale), 4))  # auto's factor, in predict.json
    return scaled, stats


def _tiled_probabilities(model, image: np.ndarray, o: PredictOptions, *, stats, progress):
    """``model``'s probabilities (a NumPy array) of a fitted, filled (H, W, C) ``image``
    (:func:`_tiled`)."""
    probs = _tiled(model, image, o, tiled_apply, stats=stats, progress=progress)
    return probs.cpu().numpy() if isinstance(probs, torch.Tensor) else probs


def _tiled(model, image: np.ndarray, o: PredictOptions, apply: Callable, *, stats, progress):
    """``apply`` (:func:`tiled_apply`, or one with its arguments) of ``model``'s
    probabilities over a fitted, filled (H, W, C) ``image``, predicted overlap-tile on
    ``o.device`` in the tiles and batches :func:`choose_tiling` picks."""
    fn = probability_fn(model, precision=o.precision, tta=o.tta)
    with inference_session(model, o.device) as dev:
        check_precision(o.precision, dev)
        source = _to_device(image, dev, classes=max(model.num_classes, 1))
        grid, batch_size = choose_tiling(
            model,
            image.shape[:2],
            tile_size=o.tile_size,
            batch_size=o.batch_size,
            budget=memory_budget(dev),
            device=dev,
        )
        chosen.note(tile_size=chosen.tile_value(grid.tile))
        add_total(progress, len(grid))
        return apply(
            fn,
            source,
            grid,
            batch_size=batch_size,
            blend=o.blend,
            stats=stats,
            device=dev,
            progress=progress,
        )


def _all_invalid(model, shape: tuple[int, int], name: str) -> np.ndarray:
    """The probabilities of an image with no valid pixel: the background's everywhere."""
    log.warning("%s", all_invalid_line(model, name))
    probs = np.zeros((max(model.num_classes, 1), *shape), np.float32)
    return blank_pixels(probs, np.ones(shape, bool), model_background(model))


def all_invalid_line(model, name: str) -> str:
    """The line of an image ``name`` with no valid pixel: not predicted, its probabilities
    what they are on any pixel left out, certain of ``model``'s background class, named
    (a road model's class 0 road: review s47 2, the line said "written as no class" where
    :func:`predict_image` returns road there); what a label file holds there is the
    left-out line's (:func:`~unetlab.data.read_notes.left_out_line`)."""
    k, names = model_background(model), class_names_of(model)
    named = f" ({names[k]})" if k < len(names) else ""
    return (
        f"{name}: every pixel is nodata or transparent: not predicted, its probabilities "
        f"certain of class {k}{named} everywhere, as on any pixel left out (nodata: none "
        "predicts them)"
    )


def model_background(model) -> int:
    """The class index of ``model``'s background in its label images and left-out pixels
    (:func:`unetlab.data.weightmap.trained_background` of its label values, class names and
    :func:`training_ignore_value`, as training took it; index 0 where none is: objects of
    every class, :func:`~unetlab.inference.objects.objects_background`)."""
    names, ignored = getattr(model, "classes", None), training_ignore_value(model)
    return trained_background(getattr(model, "label_values", None), names, ignored)


def class_names_of(model) -> list[str]:
    """The class names of ``model`` as text (``[]``: it has none)."""
    return [str(n) for n in getattr(model, "classes", None) or ()]


def training_ignore_value(model) -> int | None:
    """The mask value that counted nowhere in the training of ``model`` (a net loaded from a
    checkpoint), or None: the value the checkpoint records (``model.ignore_value``), else, for
    checkpoints from before it was recorded, its config's ``data.ignore_value``, or VOC's void
    value (255) for palette masks whose values training found itself, when 255 is none of the
    classes (the rule of :func:`unetlab.train.fit`: palette masks' 255 outlines are ignored).
    A checkpoint that records None (``model.ignore_value_recorded``) ignored nothing."""
    if getattr(model, "ignore_value", None) is not None:
        return int(model.ignore_value)
    if getattr(model, "ignore_value_recorded", False):  # recorded None: its masks had no 255
        return None
    data = getattr(model, "training_data", None) or {}
    if data.get("ignore_value") is not None:
        return int(data["ignore_value"])
    found = data.get("label_values") is None  # the classes were the masks' values
    voc = getattr(model, "palette", None) is not None
    if found and voc and VOC_VOID not in (getattr(model, "label_values", None) or []):
        return VOC_VOID
    return None


def model_ignored_class(model) -> int | None:
    """The class of the mask value the training of ``model`` ignored
    (:func:`training_ignore_value`), by :func:`~unetlab.data.classes.ignored_class`'s rule,
    else None: the class that is no class in validation, evaluate and the objects. An
    instance model's classes are no mask values (its masks hold object ids): none of them
    is ignored."""
    target = (getattr(model, "objects", None) or {}).get("target")
    values, value = getattr(model, "label_values", None), training_ignore_value(model)
    return ignored_class(getattr(model, "num_classes", 2), values, value, target=target)


def background_is_a_class(model) -> bool:
    """Whether ``model``'s background class (:func:`model_background`) is a class of its own
    by name (a road scene's class 0, road), not one named background or a boundary
    (membrane) nor by its index: its left-out pixels are then no class in a PNG label image
    (audit s46 scenes)."""
    classes, values = getattr(model, "classes", None), getattr(model, "label_values", None)
    ignored = training_ignore_value(model)
    return own_background_name(classes, model_background(model), values, ignored) is not None


def model_label_nodata(model, values, dtype, name: str) -> int | None:
    """The value a label image of ``dtype`` of ``model``'s classes (or its mask ``values``)
    holds on the pixels that are no sample (:func:`~unetlab.data.nodata.label_nodata`: the
    model's ignore value where no class, else the largest of ``dtype``), or None where every
    value is a class (said in one line naming ``name``: they hold the background class)."""
    classes = values if values is not None else range(max(model.num_classes, 2))
    value = label_nodata(dtype, classes, getattr(model, "ignore_value", None))
    if value is None:
        log.warning(
            "%s: every %s value is a class: its nodata pixels hold the background class",
            name,
            np.dtype(dtype).name,
        )
    return value


#: numpy dtypes a tensor holds as they are; others (uint16, uint32, bool) go up as float32
_TORCH_DTYPES = (
    np.uint8,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.float16,
    np.float32,
    np.float64,
)


def _to_device(image: np.ndarray, device: torch.device, *, classes: int):
    """``image`` as a tensor on a GPU ``device`` when it and the (K, H, W) float32 output
    fit in a quarter of the free GPU memory: tiles are then cut, normalised and stitched on
    the GPU, with no host work per tile (on an H100 the host path spent 1.4x the model's
    time, bench/README.md). Otherwise (CPU, or too large) the numpy image itself."""
    if device.type != "cuda":
        return image
    h, w, c = image.shape
    itemsize = image.itemsize if image.dtype in _TORCH_DTYPES else 4
    need = h * w * (c * itemsize + 4 * classes)
    free, _ = torch.cuda.mem_get_info(device)
    if need > free / 4:
        return image
    if image.dtype not in _TORCH_DTYPES:
        image = image.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(image)).to(device)


def predict_tensor(
    model: torch.nn.Module,
    x: torch.Tensor,
    options: PredictOptions | None = None,
    **settings,
) -> torch.Tensor:
    """Probabilities (N, K, H, W) float32 of a batch of already normalised images
    (N, C, H, W) float, on ``x``'s device (the model must be there too; ``options.device``
    is not used). Any H and W. ``options`` and ``settings`` as for :func:`predict_image`."""
    check_model(model)
    o = PredictOptions.of(options, **settings)
    _check_batch(model, x, o)
    fn = probability_fn(model, precision=o.precision, tta=o.tta)
    with inference_session(model, x.device) as dev:
        grid, batch_size = choose_tiling(
            model,
            tuple(x.shape[2:]),
            tile_size=o.tile_size,
            batch_size=o.batch_size,
            budget=memory_budget(dev),
            device=dev,
        )
        # tensor images: tiles cut and stitched where x is (no host round trip on a GPU)
        outs = [
            tiled_apply(
                fn,
                item.detach().permute(1, 2, 0).float(),
                grid,
                batch_size=batch_size,
                blend=o.blend,
            )
            for item in x
        ]
    return torch.stack(outs)


def _check_batch(model: torch.nn.Module, x, o: PredictOptions) -> None:
    """UnetlabError where :func:`predict_tensor` cannot take ``x`` as ``o`` asks: no float
    tensor (raw images are predict_image's), a scale (it would be ignored), not (N, C, H, W)
    with the model's C."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        what = type(x).__name__ if not isinstance(x, torch.Tensor) else f"a {x.dtype} tensor"
        raise UnetlabError(
            f"predict_tensor: expects a normalised float tensor, not {what}; give raw images "
            "to predict_image, which normalises them as the model records"
        )
    if o.scale != 1:  # silently ignored otherwise
        raise UnetlabError(
            "predict_tensor: scale= is predict_image's (it resamples the raw image); resample "
            "the batch first (torch.nn.functional.interpolate) or use predict_image"
        )
    if x.ndim != 4 or x.shape[1] != model.in_channels or 0 in x.shape:
        raise UnetlabError(
            f"predict_tensor: expected (N, {model.in_channels}, H, W), not {tuple(x.shape)}"
        )


def index_dtype(classes: int) -> type[np.unsignedinteger]:
    """The dtype of the class indices of ``classes`` classes, as the net gives them: uint8,
    uint16 above 256."""
    return np.uint8 if classes <= 256 else np.uint16


def labels_from_probabilities(probabilities: np.ndarray, table=None) -> np.ndarray:
    """(K, H, W) probabilities -> (H, W) class indices (uint8, uint16 above 256 classes):
    argmax for K >= 2, ``p >= 0.5`` for one sigmoid channel. A NumPy array or a tensor (on
    any device); (K, Z, H, W) gives (Z, H, W). Fewer than 3 dims are refused (UnetlabError:
    an (H, W) map gave an (W,) row of indices, audit s42 api). ``table``: a label for each
    class index (max(K, 2) ints >= 0) given in its place, in the same pass (the objects'
    :func:`~unetlab.inference.objects.object_class_map`: an argmax then a lookup cost 0.047 s
    to its 0.039 s, 3 x 2048², review s69)."""
    if isinstance(probabilities, torch.Tensor):
        probabilities = probabilities.detach().cpu()
        bf16 = probabilities.dtype == torch.bfloat16  # numpy has none
        probabilities = (probabilities.float() if bf16 else probabilities).numpy()
    probabilities = np.asarray(probabilities)
    if probabilities.ndim < 3:
        raise UnetlabError(
            f"probabilities must be (K, H, W), one plane per class, not shape "
            f"{probabilities.shape}: predict_image's output (one sigmoid map: probs[None])"
        )
    classes = probabilities.shape[0]
    if classes == 1:
        labels = (probabilities[0] >= 0.5).astype(np.uint8)
        return labels if table is None else np.asarray(table, np.uint8)[labels]
    table = np.arange(classes) if table is None else np.asarray(table)
    dtype = index_dtype(int(table.max()) + 1)
    # a running maximum over whole class planes: argmax(0) walks the array across its
    # planes and is 1.7-3x slower (1024 x 1024, K = 2..5); ties keep the first class as it does
    best = probabilities[0].copy()
    labels = np.full(probabilities.shape[1:], table[0], dtype=dtype)
    for k in range(1, classes):
        higher = probabilities[k] > best
        labels[higher] = table[k]
        np.maximum(best, probabilities[k], out=best)
    return labels


def encode_labels(labels: np.ndarray, label_values: Sequence[int] | None) -> np.ndarray:
    """Class indices -> the mask values the model was trained on (e.g. 0/255). An index
    outside ``label_values`` is refused (UnetlabError; numpy's IndexError, or a negative
    one read from the end, before: audit s42 api)."""
    if label_values is None:
        return labels
    lut, labels = np.asarray(label_values), np.asarray(labels)
    if labels.size and (labels.max() >= len(lut) or labels.min() < 0):
        raise UnetlabError(
            f"class indices {labels.min()}..{labels.max()} do not fit the {len(lut)} label "
            f"values {lut.tolist()[:10]}: give labels_from_probabilities' indices of this model"
        )
    dtype = np.uint8 if lut.min() >= 0 and lut.max() <= 255 else np.int32
    if lut.min() >= 0 and lut.max() <= 65535 and dtype != np.uint8:
        dtype = np.uint16
    return lut.astype(dtype)[labels]
