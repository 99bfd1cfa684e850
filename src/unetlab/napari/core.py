"""What the napari widget does, as plain functions on numpy arrays (no napari, no Qt), so the
tests run without napari: split a layer into planes, predict them with progress and a cancel
check, and describe the layers to add."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from unetlab.checkpoint import load_model, unfinished_line, unfinished_said_by_caller
from unetlab.data.io import grey_for_stains
from unetlab.data.large_ids import least_ids
from unetlab.errors import UnetlabError
from unetlab.inference.objects import ObjectOptions, objects_int32
from unetlab.inference.pages import stains_of
from unetlab.inference.predict import (
    PredictOptions,
    check_finite,
    fit_channels,
    labels_from_probabilities,
    predict_fitted,
    stack_stats,
)
from unetlab.inference.sizing import choose_tiling
from unetlab.models import UNet
from unetlab.napari.reader import axes_keywords
from unetlab.words import numbered


class PredictionCancelled(Exception):
    """Raised inside a prediction when the user pressed Cancel."""


@dataclass(frozen=True)
class LayerPrediction:
    """The widget's result: ``labels`` class indices of the layer's shape (without an RGB
    axis), uint8/uint16; ``objects`` object ids 1..n per plane, 0 = background, in
    :func:`~unetlab.data.large_ids.least_ids`' dtype (uint16; uint32 past 65,535; None
    unless asked)."""

    labels: np.ndarray
    objects: np.ndarray | None
    classes: list[str]


def load_for_widget(path: str | os.PathLike) -> UNet:
    """A checkpoint or a bioimage.io package unetlab exported, in eval mode on the CPU; a
    stopped run's last.pt logs nothing: the status line says it (:func:`model_summary`)."""
    if not str(path).strip():
        raise UnetlabError("choose a checkpoint (.pt) or a bioimage.io package first")
    with unfinished_said_by_caller():
        return load_model(path)


def planes(
    data: np.ndarray, *, rgb: bool, channels: int, channel_axis: int | None = None
) -> list[np.ndarray]:
    """An image layer's data as the (H, W[, C]) planes to predict: (H, W), (H, W, 3) RGB,
    a stack (Z, H, W[, 3]) or a stack of stacks (T, Z, H, W[, 3]), plane by plane in their
    order; ``channel_axis``: the layer's axis of channels (0 for (C, Y, X), 1 for
    (Z, C, Y, X), 2 for (T, Z, C, Y, X)), which become each plane's last axis. With a
    3-channel (RGB) model a grey layer is repeated to 3; other channel counts are fitted (or
    refused) by :func:`~unetlab.inference.predict.fit_channels` when predicted."""
    data = np.asarray(data)
    if channel_axis is not None:
        if not -data.ndim <= channel_axis < data.ndim or data.ndim < 3:
            raise UnetlabError(f"channel_axis {channel_axis} is no axis of a {data.shape} layer")
        data, rgb = np.moveaxis(data, channel_axis, -1), True
    spatial = data.ndim - (1 if rgb else 0)
    if spatial not in (2, 3, 4):
        raise UnetlabError(
            f"the layer has {spatial} spatial axes: the widget predicts 2-D images and stacks "
            "of them, (Z, Y, X) and (T, Z, Y, X)"
            + (
                ""
                if rgb
                else "; if one of them is channels, (T, Z, C, Y, X), give its channel_axis"
            )
        )
    stack = data.reshape(-1, *data.shape[spatial - 2 :])
    out = []
    for plane in stack:
        if channels == 3 and plane.ndim == 2:
            plane = np.repeat(plane[:, :, None], channels, axis=2)
        out.append(plane)
    return out


# a leading axis longer than this is planes (Z or T), never channels (stains): no hint
FEW_CHANNELS = 8
CHANNEL_NAMES = frozenset({"c", "ch", "channel", "channels"})
PLANE_NAMES = frozenset({"z", "t", "time", "depth", "slice", "slices", "plane", "planes"})


def channel_axis_choices(shape: tuple[int, ...], *, rgb: bool) -> list[int]:
    """The axes of a layer of ``shape`` that may hold its channels: the leading axes (all but
    Y and X) of a grey layer of 3 or more axes; none for RGB (its colours are its last axis)."""
    return [] if rgb or len(shape) < 3 else list(range(len(shape) - 2))


def axis_names(labels, ndim: int) -> tuple[str, ...] | None:
    """A layer's axis names from napari's ``axis_labels`` (napari >= 0.5), or None where
    they are its defaults (``-3``, ``-2``, ``-1``; ``axis -1`` in some versions) or do not
    fit the ``ndim`` axes of its data (an RGB layer's leave out the colours)."""
    names = tuple(str(n) for n in labels or ())
    defaults = all(n.removeprefix("axis ").lstrip("-").isdigit() for n in names)
    return None if len(names) != ndim or defaults else names


@dataclass(frozen=True)
class AxisReading:
    """How the widget reads a layer's leading axes (those before Y and X): ``axis``, the one
    that holds its channels (None: each leading axis is planes), and ``why``, the line the
    widget shows for it."""

    axis: int | None
    why: str


def read_layer_axes(
    shape: tuple[int, ...],
    *,
    rgb: bool,
    axis_labels: tuple[str, ...] | None = None,
    file_axes: tuple[str, tuple[int, ...]] | None = None,
    in_channels: int = 1,
    channel: int | Sequence[int] | None = None,
) -> AxisReading:
    """What a layer of ``shape`` holds, as the layer says: an RGB layer's colours are its
    channels; napari's ``axis_labels`` (:func:`axis_names`) name an axis of channels ("c",
    "channel") or planes ("z", "t"); else the axes of the TIFF napari read it from
    (``file_axes``: :func:`unetlab.data.tiffmeta.series_axes`; a layer napari split by
    ``channel_axis`` is one channel of it). A layer that says nothing is planes: a short
    grey z-stack or time series is not an image of a few channels. Its line then names the
    axis that may hold channels for the model (``in_channels`` of them, or the ``channel``
    a grey model records), for the user to choose."""
    if not channel_axis_choices(shape, rgb=rgb):
        return AxisReading(None, "an RGB layer: its colours are its channels" if rgb else "")
    return (
        _by_labels(shape, axis_labels)
        or _by_file(shape, file_axes)
        or _as_planes(shape, in_channels, channel)
    )


def _by_labels(shape: tuple[int, ...], labels: tuple[str, ...] | None) -> AxisReading | None:
    """The reading napari's axis labels of a grey layer give, if they name its axes."""
    names = [str(n).strip().lower() for n in labels or ()]
    if len(names) != len(shape):
        return None
    lead = names[:-2]
    if named := [a for a, n in enumerate(lead) if n in CHANNEL_NAMES]:
        return AxisReading(named[0], f"{_channels_text(shape, named[0])}, as its axis labels say")
    if all(n in PLANE_NAMES for n in lead):
        return AxisReading(None, f"{_planes_text(shape)}, as its axis labels say")
    return None


def _by_file(shape: tuple[int, ...], file_axes) -> AxisReading | None:
    """The reading the axes of a grey layer's TIFF give (tifffile's letters and shape), if
    they name them: the file's own shape, or the file's less its C (napari split it)."""
    if file_axes is None or not file_axes[0].endswith("YX"):
        return None
    letters, file_shape = file_axes
    said = f"as the file's axes {letters} say"
    lead = letters[:-2]
    if tuple(shape) == tuple(file_shape):
        if "C" in lead:
            return AxisReading(lead.index("C"), f"{_channels_text(shape, lead.index('C'))}, {said}")
        if set(lead) <= set("TZ"):
            return AxisReading(None, f"{_planes_text(shape)}, {said}")
        return None
    c = lead.find("C")
    if c >= 0 and tuple(shape) == tuple(file_shape[:c] + file_shape[c + 1 :]):
        return AxisReading(
            None, f"{_planes_text(shape)}: one channel of a {letters} file, split off by napari"
        )
    return None


def _as_planes(
    shape: tuple[int, ...], in_channels: int, channel: int | Sequence[int] | None
) -> AxisReading:
    """Planes, for a layer that names none of its axes, saying which may hold channels."""
    line = f"{_planes_text(shape)}: nothing names the layer's axes"
    lead = shape[:-2]
    if isinstance(channel, (list, tuple)):  # a band subset: a layer that has them all
        fits = [a for a, n in enumerate(lead) if max(channel) < n]
        model = f"reads channels {', '.join(map(str, channel))}"
    elif in_channels > 1:
        fits, model = [a for a, n in enumerate(lead) if n == in_channels], f"takes {in_channels}"
    elif channel is not None:
        fits = [a for a, n in enumerate(lead) if channel < n <= FEW_CHANNELS]
        model = f"was trained on channel {channel}"
    else:
        fits, model = [], ""
    if fits:  # the one nearest Y: (Z, C, Y, X) is ImageJ's order
        return AxisReading(
            None,
            f"{line}; if axis {fits[-1]} holds channels (the model {model}), choose it as the "
            "channel axis",
        )
    return AxisReading(None, f"{line}; if one holds channels, choose it as the channel axis")


def chosen_axes(shape: tuple[int, ...], axis: int | None) -> str:
    """The widget's line for a channel axis the user chose (``axis``; None: planes)."""
    if axis is None:
        return f"{_planes_text(shape)}, as chosen"
    return f"{_channels_text(shape, axis)}, as chosen"


def _planes_text(shape: tuple[int, ...]) -> str:
    lead = shape[:-2]
    axes = ", ".join(str(a) for a in range(len(lead)))
    sizes = " x ".join(str(n) for n in lead)
    return f"{sizes} planes (axis {axes})" if len(lead) < 2 else f"{sizes} planes (axes {axes})"


def _channels_text(shape: tuple[int, ...], axis: int) -> str:
    return f"{shape[axis]} channels on axis {axis % len(shape)}"


def default_channel(channels: int, *, in_channels: int, channel: int | None) -> int | None:
    """The channel of a layer's ``channels`` to predict: the one a grey model records
    (``model.channel``, ``data.channel`` of its training) if the layer has it; None: all."""
    if in_channels == 1 and channel is not None and channel < channels:
        return channel
    return None


def channel_problem(
    shape: tuple[int, ...],
    *,
    rgb: bool,
    channel_axis: int | None,
    channel: int | None,
    in_channels: int,
    bands: Sequence[int] | None = None,
    stains: str | None = None,
) -> str | None:
    """The widget's line refusing a channel choice the model cannot take, or None.
    ``bands``: the channels of its images a band-subset model was trained on (its
    ``channel``, a list: ``data.channel: [3, 2, 1, 7]``), which it reads of a layer that has
    them all. ``stains``: what a model whose channels are stains was trained on
    (:func:`~unetlab.inference.pages.stains_of`), which refuses a grey layer as
    ``unetlab predict`` refuses a grey image (:func:`grey_layer_problem`)."""
    if channel_axis is None:
        if line := _stains_problem(shape, rgb=rgb, in_channels=in_channels, stains=stains):
            return line
        if rgb or in_channels in (1, 3):  # a grey layer is repeated for an RGB model
            return None
        return f"the model takes {in_channels} channels: choose the layer's axis of channels"
    n = shape[channel_axis]
    where = f"the layer has {n} channels (axis {channel_axis % len(shape)})"
    if in_channels == 1:
        if channel is None and n > 1:
            return f"{where}, the model takes 1: choose the channel to predict"
        return None
    if channel is not None:
        return f"the model takes {in_channels} channels: predict all channels, not one"
    if bands is not None:
        if n > max(bands):  # the model's bands of them, in its order
            return None
        shown = ", ".join(map(str, bands))
        return f"{where}, the model reads channels {shown} of its images: choose their axis"
    if n != in_channels:
        return f"{where}, the model takes {in_channels}: choose the axis of its channels"
    return None


def grey_layer_problem(*, rgb: bool, in_channels: int, stains: str | None) -> str | None:
    """The line refusing a grey layer (not RGB, no channel axis chosen) for a model of
    ``in_channels`` > 1 that are stains (``stains``: what it was trained on,
    :func:`~unetlab.inference.pages.stains_of`), whose grey is not repeated into them: the
    line of ``unetlab predict`` (:func:`~unetlab.data.io.grey_for_stains`); None for others."""
    if rgb or in_channels < 2 or stains is None:
        return None
    return grey_for_stains("the layer", stains, in_channels, layer=True)


def _stains_problem(
    shape: tuple[int, ...], *, rgb: bool, in_channels: int, stains: str | None
) -> str | None:
    """The line refusing a layer of ``shape`` with no channel axis chosen for a model whose
    channels are stains (``stains``: :func:`~unetlab.inference.pages.stains_of`): a grey
    plane's (:func:`grey_layer_problem`), or for a layer of planes (axes before Y and X),
    one of which may hold its channels, the choice to make: such a layer was told it was
    "a grey image (one channel)" (review s47)."""
    if len(shape) < 3 or rgb or in_channels < 2 or stains is None:
        return grey_layer_problem(rgb=rgb, in_channels=in_channels, stains=stains)
    lead = " x ".join(map(str, shape[:-2]))
    return (
        f"the layer has {lead} planes and no axis of channels chosen; the model takes "
        f"{in_channels} channels (stains: trained on {stains}), not one grey plane at a time: "
        "choose the layer's axis of channels (channel_axis=)"
    )


def model_summary(model: UNet) -> str:
    """What a model expects of a layer, in one line for the widget's status; where it is the
    last.pt of a training run stopped before its end, that warning after it
    (:func:`~unetlab.checkpoint.unfinished_line`), its resume in the command line's form as
    README quotes it (the widget trains nothing: a run is resumed with unetlab train)."""
    n = model.in_channels
    takes = f"takes {numbered(n, 'channel')}" + (" (grey)" if n == 1 else "")
    recorded = getattr(model, "channel", None)
    if isinstance(recorded, (list, tuple)):  # a band subset
        takes += f", trained on channels {', '.join(map(str, recorded))} of its images"
    elif recorded is not None:
        takes += f", trained on channel {recorded} of its images"
    classes = list(model.classes)[: max(model.num_classes, 2)]
    said = f"model: {takes}; {len(classes)} classes ({', '.join(classes)})"
    return said + (f"; warning: {line}" if (line := unfinished_line(model, cli=True)) else "")


def plane_geometry(
    shape: tuple[int, ...], *, rgb: bool, channel_axis: int | None = None
) -> tuple[int, tuple[int, ...]]:
    """(number of planes, (H, W)) of a layer of ``shape``, as :func:`planes` splits it."""
    spatial = list(shape[:-1] if rgb else shape)
    if channel_axis is not None and -len(spatial) <= channel_axis < len(spatial):
        del spatial[channel_axis]
    return int(np.prod(spatial[:-2], dtype=np.int64)), tuple(spatial[-2:])


def spatial_scale(scale, *, channel_axis: int | None, ndim: int) -> tuple:
    """A layer's ``scale`` for a result of ``ndim`` axes: without the channel axis."""
    scale = list(scale)
    if channel_axis is not None:
        del scale[channel_axis]
    return tuple(scale[-ndim:])


def layer_axes(labels, units, *, channel_axis: int | None, ndim: int) -> dict:
    """The output layers' ``axis_labels`` and ``units`` for a result of ``ndim`` axes: the
    image layer's (napari >= 0.5; None where it has none), without its channel axis as
    :func:`spatial_scale` leaves it out of the scale, as the reader names its layers'
    (:func:`~unetlab.napari.reader.axes_keywords`: {} where napari takes none)."""
    if labels is None or units is None:
        return {}
    names = spatial_scale([str(n) for n in labels], channel_axis=channel_axis, ndim=ndim)
    steps = spatial_scale([str(u) for u in units], channel_axis=channel_axis, ndim=ndim)
    return axes_keywords(names, steps)


def count_tiles(model: UNet, shape: tuple[int, int], planes_count: int = 1) -> int:
    """How many tiles :func:`predict_planes` reports progress for (CPU tiling)."""
    grid, _ = choose_tiling(model, shape)
    return len(grid) * planes_count


def predict_planes(
    model: UNet,
    data: np.ndarray,
    *,
    rgb: bool = False,
    objects: bool = False,
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    channel_axis: int | None = None,
    channel: int | None = None,
) -> LayerPrediction:
    """Predict an image layer's data plane by plane on the CPU.

    ``progress(n)`` is called after each batch of n tiles; :class:`PredictionCancelled` is
    raised at the next batch once ``cancelled()`` is true. ``objects``: also the object ids,
    by the pipeline of ``unetlab predict --instances`` and ``predict_objects``
    (:func:`~unetlab.inference.objects.objects_from_probabilities` with the model's
    :meth:`~unetlab.inference.objects.ObjectOptions.for_model`): for a nuclei (background /
    boundary / interior) model, one id per nucleus, not per piece of each class.
    ``channel_axis``: the layer's axis of channels (:func:`planes`); ``channel``: predict
    that one of them, for a 1-channel model (default: the one it was trained on, if it
    records one); a layer of more channels than a grey model takes is refused naming it.
    """

    def report(n: int) -> None:
        if cancelled is not None and cancelled():
            raise PredictionCancelled
        if progress is not None:
            progress(n)

    options = ObjectOptions.for_model(model) if objects else None
    how = PredictOptions.for_model(model, device="cpu", channel=channel)
    fitted = _fitted_planes(model, data, how.channel, rgb=rgb, channel_axis=channel_axis)
    labels, ids = [], []
    # normalised as unetlab predict normalises a stack's planes (a noise plane is not
    # stretched to full contrast)
    for plane, stats in zip(fitted, stack_stats(model, fitted), strict=True):
        if cancelled is not None and cancelled():
            raise PredictionCancelled
        probs = predict_fitted(model, plane, how, progress=report, stats=stats)
        labels.append(labels_from_probabilities(probs))
        if options is not None:
            ids.append(objects_int32(probs, options))
    classes = list(model.classes)[: max(model.num_classes, 2)]
    lead = _leading_shape(np.shape(data), rgb=rgb, channel_axis=channel_axis)
    # the objects in the ids' dtype rule (uint16, uint32 past 65,535), as predict_objects
    # and the _objects.tif files give them: napari's Labels take any integer dtype
    stacked = (_stacked(labels, lead), least_ids(_stacked(ids, lead)) if ids else None)
    return LayerPrediction(*stacked, classes)


#: what leaves a layer's NaN pixels out: not the widget, which has no nodata setting (it
#: was told "nodata='nan' leaves them out", s54), but predicting the layer's file, as napari's
#: Python does (it was told the command line's flag too, s56)
LAYER_NODATA = "predicting its file with predict_file(..., nodata='nan')"


def _fitted_planes(model: UNet, data, channel, *, rgb: bool, channel_axis) -> list:
    """The layer's planes, each with the model's channels (:func:`fit_channels`; ``channel``:
    the one a 1-channel model takes), refused where a pixel is NaN or infinite, and a grey
    layer where the model's channels are stains (:func:`grey_layer_problem`)."""
    stains = stains_of(model) if channel_axis is None else None
    how = dict(rgb=rgb, in_channels=model.in_channels, stains=stains)
    if line := _stains_problem(np.shape(data), **how):
        raise UnetlabError(line)
    # a layer's channel axis holds channels (stains), never the R, G, B of a colour picture;
    # an RGB layer's last axis is R, G, B whatever its dtype (a 16-bit RGB TIFF's too)
    colour = rgb and channel_axis is None
    fit = dict(name="the layer", channel=channel, colour=colour)
    layer = planes(data, rgb=rgb, channels=model.in_channels, channel_axis=channel_axis)
    fitted = [fit_channels(p, model.in_channels, quiet=i > 0, **fit) for i, p in enumerate(layer)]
    for plane in fitted:
        check_finite(plane, "the layer", channel_axis=True, nodata=LAYER_NODATA)
    return fitted


def _leading_shape(shape: tuple[int, ...], *, rgb: bool, channel_axis: int | None) -> tuple:
    """The plane axes of a layer of ``shape`` (those before Y and X, less its channels)."""
    spatial = list(shape[:-1] if rgb and channel_axis is None else shape)
    if channel_axis is not None:
        del spatial[channel_axis]
    return tuple(spatial[:-2])


def _stacked(arrays: list[np.ndarray], lead: tuple[int, ...]) -> np.ndarray:
    """The planes' results in the layer's plane axes ``lead`` ((T, Z, H, W) of a TZYX
    layer); one plane's alone."""
    if len(arrays) == 1 and len(lead) <= 1:
        return arrays[0]
    return np.stack(arrays).reshape(*lead, *arrays[0].shape)


def layer_tuples(
    result: LayerPrediction, *, name: str, scale=None, axes: dict | None = None
) -> list[tuple]:
    """napari LayerDataTuples (data, kwargs, "labels") for the result: the classes (named
    in ``metadata`` and by a ``features`` table of class names), and the objects; each at
    ``scale`` with the axis names and units ``axes`` gives (:func:`layer_axes`)."""
    table = {"index": list(range(len(result.classes))), "class": result.classes}
    extra = ({"scale": tuple(scale)} if scale is not None else {}) | (axes or {})
    layers = [
        (
            result.labels,
            {
                "name": f"{name} classes",
                "metadata": {"unetlab_classes": dict(enumerate(result.classes))},
                "features": table,
                **extra,
            },
            "labels",
        )
    ]
    if result.objects is not None:
        layers.append((result.objects, {"name": f"{name} objects", **extra}, "labels"))
    return layers


def sample_data() -> list[tuple]:
    """napari sample: a synthetic EM image like the demo's (512 x 512 uint8) with its mask."""
    from unetlab.data.synthetic import synthetic_em

    image, mask, _ = synthetic_em(512, np.random.default_rng(0))
    return [
        (image, {"name": "synthetic EM"}, "image"),
        ((mask > 0).astype(np.uint8), {"name": "synthetic EM truth", "visible": False}, "labels"),
    ]
