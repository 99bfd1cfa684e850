"""How the training images looked, and whether an image to predict lies far from them.

A model trained on one stain batch or one microscope gives silently bad masks on another
(audit s32 histo 3: a second H&E batch, mIoU 0.16). Training records, in the checkpoint part
``appearance``, the per-channel mean and the pooled pixel standard deviation of its training
images' pixels, as read (before any normalisation), with their dtype
(:func:`training_appearance`). Prediction measures each image the same way
(:func:`image_appearance`) and says when it lies far from them (:func:`appearance_shift`):
a channel mean more than ``FAR`` training standard deviations from the training mean, or
pixels of another dtype (an 8-bit export given to a 16-bit model).

Raw statistics, not normalised ones: per-image standardisation (the default, and the
tissue mode of bright-field colour) makes every image's normalised mean 0 and sd 1, so only
the raw pixels can tell a second stain batch from the first. In the tissue mode the
statistics are those of the tissue pixels (glass left out, :data:`~unetlab.data.normalize.GLASS`),
so that a slide, mostly glass, is compared as its tissue crops were.

A record is small: ``{"dtype": "uint8", "images": N, "mean": [C], "sd": [C]}``, and for
images of several channels what they were, ``"channels": "colours"`` (an RGB picture's) or
``"stains"`` (separate channels), which decides whether a grey image is repeated into them
or refused (:func:`unetlab.inference.pages.stains_of`). Images of several dtypes (8-bit and
16-bit, stains or grey) record only that, with their dtypes (:func:`mixed_record`): no figures to
compare with, only whether an image is of another dtype than all of theirs. It changes no
prediction of the images it describes, so it is no checkpoint format feature: an older
unetlab ignores it, and a checkpoint without it is predicted without the check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from unetlab.data.normalize import STD_FLOOR, raw_stats
from unetlab.errors import Spelled, said_as

#: an image whose mean in some channel lies more than this many training standard deviations
#: (of the training images' pixels, pooled) from the training images' mean lies far from them
FAR = 2.0


def image_appearance(pixels: np.ndarray, spec: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mean, sd) float64 of ``pixels`` ((H, W[, C]) or (1, N, C): the pixels
    normalisation measures) as read, over the tissue where the normalisation ``spec`` takes
    its statistics over the tissue (``tissue``), else over all of them."""
    return raw_stats(pixels, {"mode": "per_image", "tissue": bool(spec.get("tissue"))})


def training_appearance(
    stats: list[tuple], dtypes: list[str], channels: str | None = None
) -> dict | None:
    """The checkpoint record of the training images' per-image ``stats`` ((mean, sd) each,
    :func:`image_appearance`) read as ``dtypes``: their per-channel mean and the standard
    deviation of all their pixels together (within and between images, each image weighted
    alike), and ``channels`` where given: what their channels were, "colours" (an RGB
    picture's) or "stains" (separate channels: :func:`unetlab.data.colour.channels_kind` of
    each image, :func:`unetlab.data.colour.same_kind` of them all);
    None without images. Images of several dtypes or channel counts have their values in no
    one unit: their record holds no figures, only their dtypes and what their channels were,
    which no dtype changes (:func:`mixed_record`)."""
    if not stats:
        return None
    if len(set(dtypes)) != 1 or len({len(m) for m, _ in stats}) != 1:
        return mixed_record(dtypes, channels)
    means = np.array([m for m, _ in stats], np.float64)
    sds = np.array([s for _, s in stats], np.float64)
    mean = means.mean(axis=0)
    pooled = np.sqrt(np.mean(sds**2, axis=0) + np.mean((means - mean) ** 2, axis=0))
    record = {
        "dtype": str(dtypes[0]),
        "images": len(stats),
        "mean": [float(f"{v:.6g}") for v in mean],
        "sd": [float(f"{v:.6g}") for v in pooled],
    }
    return record if channels is None else {**record, "channels": channels}


def mixed_record(dtypes: list[str], channels: str | None) -> dict:
    """The record of training images of several ``dtypes`` (or channel counts): the dtypes
    and their ``channels`` where given (``{"dtypes": ["uint16", "uint8"], "channels":
    "stains"}``), no ``dtype``, mean or sd to compare an image with (:func:`appearance_shift`
    says only an image of another dtype than all of theirs). A set of 8-bit and 16-bit
    stains was recorded as nothing, so its model repeated a grey image into its stains as
    into an RGB model's colours; a 1-channel set of 8- and 16-bit images too, so a float
    image given to its dataset-normalised model passed silently (s49)."""
    record = {"dtypes": sorted({str(d) for d in dtypes})}
    return record if channels is None else {**record, "channels": channels}


@dataclass(frozen=True)
class Shift:
    """How an image lies far from the training images: ``kind`` "dtype" (its pixels are of
    another dtype than theirs, ``trained_dtype``: one, or each of training images of several)
    or "far" (channel ``channel``'s mean ``value`` lies ``z`` training standard deviations
    ``sd`` from their mean ``trained``)."""

    kind: str
    dtype: str
    trained_dtype: str | tuple[str, ...]
    channel: int = 0
    value: float = 0.0
    trained: float = 0.0
    sd: float = 0.0
    z: float = 0.0
    channels: int = 1

    def figures(self) -> str:
        """The figures, e.g. ``channel 2 mean 201 is 3.4 sd from the training images' 160 (sd 12)``."""
        if self.kind == "dtype":
            trained = " and ".join(_names(self.trained_dtype))
            return f"{self.dtype} pixels, the model trained on {trained} images"
        where = f"channel {self.channel} mean" if self.channel >= 0 else "mean"
        if self.sd <= STD_FLOOR:  # no sd to count in: "146063 sd" said nothing (s37 bands)
            return (
                f"{where} {_num(self.value)}, where it held {_num(self.trained)} in every "
                "pixel of every training image"
            )
        value, trained = _apart(self.value, self.trained)
        return (
            f"{where} {value} is {_over(self.z, FAR)} sd from the training images' "
            f"{trained} (sd {_num(self.sd)})"
        )

    def line(self) -> str:
        """The warning in full: the figures, what may follow and the fix."""
        if self.kind == "dtype":
            return (
                f"{self.figures()}: its values are in other units than theirs, so the predictions "
                f"may be wrong: {dtype_fix(_names(self.trained_dtype), self.dtype)}"
            )
        return (
            f"its intensities lie far from the training images' ({self.figures()}; "
            f"{self.cause()}): the predictions may be wrong; check them, or train with such images"
        )

    def cause(self) -> str:
        """What may have made the image differ, in the words of its kind of data: bands of a
        multispectral scene (more than ``MICROSCOPY_CHANNELS``) are no stain or microscope
        (s37 bands E: a 13-band scene was asked about its stain batch)."""
        if self.channels > MICROSCOPY_CHANNELS:
            return (
                "another sensor, date, atmosphere or processing level, or bands in another "
                "scale or order?"
            )
        return "another stain batch, microscope or exposure?"


#: an image of more channels than this is taken for a multispectral scene's bands, not the
#: stains of a microscope's channels (DAPI, GFP, RFP, Cy5, bright-field)
MICROSCOPY_CHANNELS = 5

#: how a float image in [0, 1] goes back to the integer dtype a model trained on
AS_INTEGER = {
    "uint8": "(image * 255).round().astype('uint8')",
    "uint16": "(image * 65535).round().astype('uint16')",
}


#: where a float image's fix goes on, as each caller gives the image (``{}``: the training
#: dtypes; ``{scaled}``: each one's scaling of a float image in [0, 1]): Python was told the
#: command line's fix too, labelled, and the command line Python's (s56)
FLOAT_FIX = Spelled(
    "the array as read from its file, not a float copy; a float image in [0, 1]: {scaled}",
    "save the file as {}",
)
#: how to train with images of the dtype given, as each caller trains
TRAIN_WITH = Spelled(
    "fit with cfg.data.root at a folder of them", "unetlab train --data on a folder of them"
)


def dtype_fix(trained: str | Sequence[str] | None, dtype) -> str:
    """The fix for an image of ``dtype`` given to a model trained on ``trained`` images (a
    dtype, or each dtype of training images of several, the most common first), as the
    caller that runs gives images (:func:`~unetlab.errors.said_as`: a warning's). A float
    image: a training dtype as read from its file (a float copy of a uint8 image skips the
    floor: audit s30), or saved so for the command line. Another integer dtype (a 16-bit
    movie, an 8-bit model: audit s34 stacks 8): the array as read *is* that dtype, so train
    with such images, or convert them as the training images were. No scale is guessed from
    the values."""
    names = [n for n in _names(trained) if n and n != "None"]
    if not names:
        return "give the images in the dtype the model was trained on"
    dtype = np.dtype(dtype).name
    said = " or ".join(names)
    scaled = [AS_INTEGER[n] for n in names if n in AS_INTEGER]
    if np.issubdtype(np.dtype(dtype), np.floating) and scaled:
        how = said_as(FLOAT_FIX).format(said, scaled=" or ".join(scaled))
        return f"give the image as {said}, as the model was trained ({how})"
    return (
        f"train with {dtype} images ({said_as(TRAIN_WITH)}), or convert these to "
        f"{said} as the training images were (Fiji: Image > Type, same display range)"
    )


def _names(trained: str | Sequence[str] | None) -> list:
    """``trained``, one dtype name or several, as a list of them."""
    return [trained] if isinstance(trained, str) or trained is None else list(trained)


def _num(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.3g}"


def _apart(value: float, trained: float) -> tuple[str, str]:
    """``value`` and ``trained`` as :func:`_num` shows them, or with the decimals that show
    their difference within 5%: "mean 100 is 3.0 sd from the training images' 100 (sd 0.1)"
    was said of 100.3, "0.501 is 2.1 sd from 0.5 (sd 0.0002)" of 0.50071 from 0.5003."""
    gap = value - trained
    shown = _num(value), _num(trained)
    for decimals in range(13):
        if abs(float(shown[0]) - float(shown[1]) - gap) <= 0.05 * abs(gap):
            break
        shown = f"{value:.{decimals}f}", f"{trained:.{decimals}f}"
    return shown


def _over(z: float, line: float) -> str:
    """``z`` to one decimal, or more where that reads as ``line`` or under: "2.0 sd" said
    of 2.04 sd, past the line of 2."""
    for decimals in range(1, 7):
        if round(z, decimals) > line:
            break
    return f"{z:.{decimals}f}"


def appearance_shift(record: dict | None, mean: np.ndarray, dtype) -> Shift | None:
    """How an image of per-channel ``mean`` (:func:`image_appearance`) and ``dtype`` lies
    far from the training images ``record`` describes (:func:`training_appearance`), or None
    where it does not, or where there is no record to compare with (an older checkpoint) or
    the channel counts differ. Training images of several dtypes (:func:`mixed_record`) have
    no figures in one unit: an image of another dtype than all of theirs is said, naming
    each (it was said of none: a float image given to a dataset-normalised model of 8- and
    16-bit stains passed silently, where a model of one dtype says it)."""
    trained_dtype = _recorded_dtypes(record)
    dtype = np.dtype(dtype).name
    if trained_dtype is not None and dtype not in _names(trained_dtype):
        return Shift("dtype", dtype, trained_dtype)
    if not record or "dtype" not in record:  # images of several dtypes: no one unit
        return None
    trained = np.asarray(record.get("mean") or [], np.float64)
    sd = np.asarray(record.get("sd") or [], np.float64)
    mean = np.asarray(mean, np.float64).reshape(-1)
    if trained.shape != mean.shape or sd.shape != mean.shape:
        return None
    z = np.abs(mean - trained) / np.maximum(sd, 1e-12)
    c = int(np.argmax(z))
    if z[c] <= FAR:
        return None
    channel = c if mean.size > 1 else -1
    figures = (channel, mean[c], trained[c], sd[c], float(z[c]))
    return Shift("far", dtype, trained_dtype, *figures, channels=mean.size)


def _recorded_dtypes(record: dict | None) -> str | tuple[str, ...] | None:
    """The dtype of the training images ``record`` describes, or each of several
    (:func:`mixed_record`); None where it says none, or a sample's dtype was not recorded."""
    if not record:
        return None
    if "dtype" in record:
        return str(record["dtype"])
    names = tuple(str(d) for d in record.get("dtypes") or [])
    return names if names and "None" not in names else None


def appearance_z(record: dict | None, mean: np.ndarray) -> float | None:
    """The largest distance over channels, in training standard deviations, of an image's
    ``mean`` from the training images' (None without a record of as many channels): the
    statistic :func:`appearance_shift` compares with ``FAR``, for reports."""
    if not record or len(record.get("mean") or []) != np.size(mean):
        return None
    trained, sd = np.asarray(record["mean"]), np.maximum(np.asarray(record["sd"]), 1e-12)
    return float(np.max(np.abs(np.asarray(mean, np.float64).reshape(-1) - trained) / sd))
