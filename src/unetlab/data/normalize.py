"""Input normalisation, recorded in every checkpoint so prediction matches training.

A spec is a small dict:

- ``{"mode": "per_image"}`` (default): each channel to zero mean, unit variance over the
  whole image. Robust to the contrast differences between slices of the ISBI stack.
- ``{"mode": "fixed", "mean": [...], "std": [...]}``: the same per-channel statistics for
  every image, given in the image's own value range.
- ``{"mode": "dataset"}``: ``fixed``, with the mean and std of each channel over all the
  training images' pixels, which training measures and records (``mean``, ``std``): for
  calibrated data (reflectance) whose absolute values mean something, which per-image
  statistics throw away (each tile's own mean -> 0).
- ``{"mode": "per_image", "tissue": true}``: the same, with mean and std over the image's
  tissue only: its pixels with a channel under ``GLASS`` of the dtype's maximum (bright-field
  glass and lumen left out), so that a whole slide, mostly glass, is scaled as its tissue
  crops were, while each slide's (each stain batch's) own colours are standardised away. An
  integer image with less than ``TISSUE_LEAST`` of its pixels tissue uses all of them.
- ``{"mode": "scale"}``: divide by the dtype's maximum (uint8 -> /255, uint16 -> /65535),
  floats unchanged.
- ``{"mode": "imagenet"}``: ``scale``, then ImageNet's per-channel statistics (what
  torchvision's pretrained encoders were trained on). A grey image uses the means of the three
  channels' statistics (0.449, 0.226).
- ``{"mode": "percentile", "low": 1.0, "high": 99.8}``: each channel of each image mapped so
  that its ``low`` percentile goes to 0 and its ``high`` percentile to 1 (for fluorescence,
  whose bright objects fill a small and varying part of a 16-bit range). ``ignore_saturated``
  leaves a channel's pixels at its dtype's maximum out of the percentiles; with
  ``camera_ceiling``, those at its ceiling (:mod:`unetlab.data.ceiling`: a 12-bit camera's
  4095 in a 16-bit file too); the plan sets both (:func:`percentile_stats`).
- ``{"mode": "ct", "low": 0.5, "high": 99.5}``: nnU-Net's CT normalisation: every image
  clipped to the ``low`` and ``high`` percentiles of the training set's foreground (its
  labelled pixels: mask values other than the background's), then standardised with the
  foreground's mean and std, the same for every image, which training measures and records
  (``lower``, ``upper``, ``mean``, ``std``): a Hounsfield unit means one tissue on every
  slice, and air and bone no longer squash the soft tissue (:func:`clipped`).

``per_image`` and ``percentile`` take a ``floor``: the least std (or percentile range) per
channel, in the image's own values. Training sets it to half the least contrast of its
training images (:func:`contrast_floor`), so an image with far less contrast than any the
net learned from (an empty field, a blank plane of a z-stack: background noise alone) is not
stretched into the range where the net saw objects. The floor is a number in the training
images' values, so a trained spec records their ``dtype`` beside it ("uint16"): an image of
another dtype (8-bit exports of a 16-bit-trained model) is not floored, as its values are not
in those units (:func:`floor_for`); :func:`contrast_note` says so, and says when an image of
the training dtype has far less contrast than the floor, half of it or less (it is read as
nearly empty), or a little more, up to 0.7x of it (faint objects may be missed).

Statistics are computed once per image (in row chunks, so a memory-mapped image of any size
is fine) and applied per tile with :func:`apply_stats`.
:func:`normalization_formula` says a spec as the formula a deployer applies (the metadata
of an exported model). Standard deviations and percentile ranges are floored at ``STD_FLOOR``.
"""

from __future__ import annotations

import numbers

import numpy as np

from unetlab.data.ceiling import BELOW, PILE_PIXELS, PILE_RATIO, CeilingTally
from unetlab.errors import Spelled, UnetlabError, did_you_mean, spelled
from unetlab.words import numbered, worded

MODES = ("per_image", "fixed", "dataset", "scale", "imagenet", "percentile", "ct")
#: ImageNet's RGB mean and std of images scaled to [0, 1] (torchvision's weights).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PERCENTILES = (1.0, 99.8)  # the percentile mode's default (low, high)
CT_PERCENTILES = (0.5, 99.5)  # the ct mode's default (low, high), nnU-Net's
SAMPLE_PIXELS = 1 << 24  # a streamed float image's percentiles come from about this many
STD_FLOOR = 1e-6  # the floor of a standard deviation (and of a percentile range)
#: a trained spec's ``floor``: this share of the least contrast of the training images
FLOOR_SHARE = 0.5
#: an image whose contrast is at most this share of the floor is said to be read as nearly
#: empty: the floor flattens it at least 2x (audit s29: a 16-bit model whose images had twice
#: the floor's contrast gave class-1 IoU 0.85 on them at 1x the floor and 0.017 at 0.5x: read
#: as empty). It was 1.0, any image the floor changes: one 4% under it was called nearly empty
#: ("contrast 12 is 1.0x below the model's floor 12"), though the floor dims it by 4%, less
#: than training's own contrast jitter (``augment.contrast``, 10%). Measured (s45, a depth-3
#: model of 2.5 min on synthetic 16-bit spots, 6 test images a ratio): class-1 IoU 0.97 at 1x
#: the floor, 0.97 at 0.8x, 0.91 at 0.7x, 0.74 at 0.6x, 0.28 at 0.5x, 0.00 at 0.35x
DIM_SHARE = 0.5
#: an image whose contrast is above ``DIM_SHARE`` of the floor and at most this share of it
#: is said, in a milder line, to lose faint objects: at 0.6x-0.7x the floor the same
#: measurement gave IoU 0.74-0.91, degraded, where it was said nothing (s47)
FAINT_SHARE = 0.7


#: per_image with ``tissue``: a pixel whose every channel is at least this share of the integer
#: dtype's maximum is glass (bright-field background: 243 of 255 in H&E scans), left out
GLASS = 0.85
#: ... unless tissue is less than this share of the pixels (a tile of glass): then all count
TISSUE_LEAST = 0.01

#: the keys of each mode's spec (``mode`` itself aside)
MODE_KEYS = {
    "per_image": ("floor", "dtype", "floors", "tissue"),
    "fixed": ("mean", "std"),
    "dataset": ("mean", "std"),  # training's to measure
    "scale": (),
    "imagenet": (),
    # floor, dtype, floors: training's (:func:`floor_for`)
    "percentile": ("low", "high", "floor", "dtype", "floors", "ignore_saturated", "camera_ceiling"),
    "ct": ("low", "high", "lower", "upper", "mean", "std"),  # all but low, high: training's
}


def check_keys(spec: dict, where: str = "data.normalization", *, whole: bool = True) -> dict:
    """``spec`` checked as a config gives it: every key known to its mode (a misspelled
    ``low`` would leave the default in force), then :func:`check_spec`. ``where`` names the
    setting in the messages. Checkpoints are read with :func:`check_spec` alone. With
    ``whole=False`` (a value a later override replaces) the keys a mode needs may be missing
    (``fixed``'s ``mean`` and ``std``, or ``mode`` itself: its keys are checked as of the mode
    that takes them all): only what is given is checked."""
    if not whole and "mode" not in spec:
        spec = {"mode": _mode_taking(spec), **spec}
    known = ("mode", *dict.fromkeys(k for keys in MODE_KEYS.values() for k in keys))
    for key in spec:
        if key not in known:
            hint = did_you_mean(str(key), known, f"{where}.")
            raise UnetlabError(
                f"unknown key {where}.{key}: {hint}the keys of {where} are {', '.join(known)}"
            )
    mode = spec.get("mode")
    if not spec:  # it was told "the mode that takes  is per_image: add it" (s56 review)
        raise UnetlabError(**spelled(lambda fix: f"{where} is an empty mapping: {fix}", EMPTY))
    if mode not in MODES:
        hint = did_you_mean(str(mode), MODES).rstrip() if "mode" in spec else ""
        said = f"{where}.mode must be one of {', '.join(MODES)}, not {mode!r}"
        said += f": {hint}" if hint else ""
        if "mode" in spec:
            raise UnetlabError(said)
        raise UnetlabError(**spelled(lambda fix: f"{said} ({fix})", _mode_fix(spec, where)))
    if extra := [k for k in spec if k != "mode" and k not in MODE_KEYS[mode]]:
        takes = ", ".join(MODE_KEYS[mode]) or "no other key"
        raise UnetlabError(
            f"{where}.{extra[0]} does not apply to mode {mode} (it takes {takes}): drop it"
        )
    check_spec(spec, whole=whole, where=where)
    if "std" in spec and min(finite_numbers(spec["std"]) or [0]) < 0:  # a config's; 0 (a constant
        # channel's) is floored where it is used, as configs have been read (s56 review)
        raise UnetlabError(
            f"{where}.std must be a number of 0 or more or a list of them (one per channel: "
            f"each is divided by it, 0 taken as {STD_FLOOR:g}), not {spec['std']!r}"
        )
    return spec


#: how to give an empty normalization (``{}``) its mode, as each caller writes it
EMPTY = Spelled(
    "give its mode, e.g. {'mode': 'per_image'}, or None for the default",
    "give its mode, e.g. --set data.normalization.mode=per_image, or null for the default",
)


def _mode_fix(spec: dict, where: str) -> Spelled:
    """How to give a ``spec`` of no mode the one that takes its keys: Python's caller may give
    the mapping (``DataSection(normalization=...)``) or load_config's overrides, the command
    line sets it with ``--set`` (each was told ``data.normalization.mode=percentile``, s56)."""
    mode, keys = _mode_taking(spec), ", ".join(k for k in spec if k != "mode")
    return Spelled(
        f"the mode that takes {keys} is {mode}: add it", f"set it: --set {where}.mode={mode}"
    )


def _mode_taking(spec: dict) -> str:
    """The mode whose keys hold every key of ``spec`` (``low``: percentile), else per_image."""
    keys = set(spec) - {"mode"}
    return next((m for m, taken in MODE_KEYS.items() if keys <= set(taken)), "per_image")


def check_spec(spec: dict, *, whole: bool = True, where: str = "normalization") -> dict:
    """``spec``'s values checked; ``whole=False``: see :func:`check_keys`. ``where`` names
    the spec in the lines (a config's ``data.normalization``: its keys were "normalization
    low", which no caller writes, s56)."""
    mode = spec.get("mode")
    if mode not in MODES:
        raise UnetlabError(f"{where}.mode must be one of {MODES}, not {mode!r}")
    if whole:
        _check_complete(spec, mode, where)
    _check_numbers(spec, where)
    if mode in ("percentile", "ct"):
        low, high = percentiles_of(spec)
        if not 0 <= low < high <= 100:
            raise UnetlabError(
                f"{where}.low and {where}.high need 0 <= low < high <= 100, not {low} and {high}"
            )
    for key in ("tissue", "ignore_saturated"):
        if not isinstance(spec.get(key, False), bool):
            raise UnetlabError(f"{where}.{key} is true or false, not {spec[key]!r}")
    _check_camera_ceiling(spec, where)
    if "floor" in spec and not _positive_numbers(spec["floor"]):
        raise UnetlabError(
            f"{where}.floor must be a positive number or a list of them (one per "
            f"channel), not {spec['floor']!r}"
        )
    if "dtype" in spec and not _dtype_name(spec["dtype"]):
        raise UnetlabError(
            f"{where}.dtype must name a numpy dtype (uint8, uint16, float32), not {spec['dtype']!r}"
        )
    _check_floors(spec.get("floors", {}), where)
    if "floors" in spec and "dtype" not in spec:
        raise UnetlabError(
            f"{where}.floors (the floors of the training images' other dtypes) need "
            "dtype, the dtype whose values floor is in: add it (dtype: uint8), or drop floors"
        )
    return spec


def _check_complete(spec: dict, mode: str, where: str) -> None:
    """The keys that ``mode`` needs together, all in ``spec``."""
    if mode == "fixed" and not ("mean" in spec and "std" in spec):
        raise UnetlabError(f"{where}.mode fixed needs mean and std lists")
    if mode == "dataset" and ("mean" in spec) != ("std" in spec):
        raise UnetlabError(f"{where}.mode dataset takes both mean and std (training's) or neither")
    measured = [k for k in CT_MEASURED if k in spec]
    if mode == "ct" and measured and len(measured) < len(CT_MEASURED):
        raise UnetlabError(
            f"{where}.mode ct takes all of {', '.join(CT_MEASURED)} (training's) or none"
        )


#: the keys of a ``ct`` spec that training measures over the foreground
CT_MEASURED = ("lower", "upper", "mean", "std")


def percentiles_of(spec: dict) -> tuple[float, float]:
    """(low, high) of a ``percentile`` or ``ct`` spec, each mode's defaults where not given."""
    low, high = CT_PERCENTILES if spec.get("mode") == "ct" else PERCENTILES
    return spec.get("low", low), spec.get("high", high)


#: what each number-valued key of a spec takes (checked before the values are compared or
#: used: ``low: abc`` was a TypeError said as a bug, s55)
PERCENT = "a number (a percentile, 0 to 100)"
PER_CHANNEL = "a number or a list of them (one per channel)"
NUMBER_KEYS = {
    "low": PERCENT,
    "high": PERCENT,
    "mean": PER_CHANNEL,
    "std": PER_CHANNEL,
    "lower": PER_CHANNEL,
    "upper": PER_CHANNEL,
}


def _check_numbers(spec: dict, where: str) -> None:
    if key := not_numbers(spec):
        value, takes = spec[key], NUMBER_KEYS[key]
        text = _as_text(value)
        said = f" (YAML reads {text} as text: write it with a point, 1.0e-3)" if text else ""
        raise UnetlabError(f"{where}.{key} must be {takes}, not {value!r}{said}")


def not_numbers(spec: dict) -> str | None:
    """The first of :data:`NUMBER_KEYS` whose value in ``spec`` is not what it takes, or None."""
    return next(
        (
            key
            for key, takes in NUMBER_KEYS.items()
            if key in spec and not finite_numbers(spec[key], single=takes == PERCENT)
        ),
        None,
    )


def finite_numbers(value, *, single: bool = False) -> list | None:
    """``value`` as a list of finite floats where it is numbers, as the values are used (a
    number, or unless ``single`` a list or 1-D array of them: a Python caller's
    ``img.mean((0, 1))``, review s55 F1), or None where it is not: text (YAML 1.1 reads
    ``1e-3`` so), true or false, None, NaN or infinity, nested lists (review s55 H), complex
    numbers, and whole numbers too large for a float (``10**400`` read from a checkpoint or
    YAML raised OverflowError, a bug's traceback: s59 review A)."""
    flat = value.tolist() if isinstance(value, np.ndarray) else value
    items = [flat] if single or not isinstance(flat, (list, tuple)) else list(flat)
    if not items or not all(_is_real(v) for v in items):
        return None
    try:
        floats = [float(v) for v in items]
    except OverflowError:
        return None
    return floats if all(np.isfinite(floats)) else None


def _is_real(value) -> bool:
    """Whether ``value`` is a real number: no bool, no complex (numpy's complex types are
    ``np.number``, not ``numbers.Real``)."""
    numeric = isinstance(value, (numbers.Real, np.number))
    return numeric and not _is_bool(value) and not isinstance(value, np.complexfloating)


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _as_text(value) -> str | None:
    """The first item of ``value`` that is a number written as text (``'1e-3'``), or None."""
    for item in value if isinstance(value, (list, tuple)) else [value]:
        try:
            if isinstance(item, str) and np.isfinite(float(item)):
                return item
        except ValueError:
            continue
    return None


def _check_floors(floors, where: str) -> None:
    """A spec's ``floors``: a dtype name -> floor (as ``floor``) for each."""
    good = isinstance(floors, dict) and all(
        _dtype_name(k) and _positive_numbers(v) for k, v in floors.items()
    )
    if not good:
        raise UnetlabError(
            f"{where}.floors must map dtype names to floors (uint8: [12.5, 30]), not {floors!r}"
        )


def _dtype_name(value) -> str | None:
    try:
        return np.dtype(value).name if isinstance(value, str) else None
    except TypeError:
        return None


def _check_camera_ceiling(spec: dict, where: str) -> None:
    camera = spec.get("camera_ceiling", False)
    if not isinstance(camera, bool):
        raise UnetlabError(f"{where}.camera_ceiling is true or false, not {camera!r}")
    if camera and spec.get("ignore_saturated") is not True:
        raise UnetlabError(
            f"{where}.camera_ceiling applies with ignore_saturated: true (it says which "
            "saturated pixels that leaves out): set ignore_saturated: true or drop it"
        )


def _positive_numbers(value) -> bool:
    values = finite_numbers(value)  # numpy numbers too (review s55 H6)
    return values is not None and all(v > 0 for v in values)


def pooled_stats(stats: list[tuple[np.ndarray, np.ndarray, int]]) -> tuple[list, list]:
    """The per-channel (mean, std) of all the pixels of several images, from each image's
    (mean, std, pixel count): the ``dataset`` mode's statistics, as lists of floats. A
    channel constant in every image (a zeroed band) takes the median std of the others."""
    counts = np.array([n for *_, n in stats], dtype=np.float64)[:, None]
    means = np.array([m for m, _, _ in stats], dtype=np.float64)
    squares = np.array([s for _, s, _ in stats], dtype=np.float64) ** 2 + means**2
    mean = (counts * means).sum(0) / counts.sum()
    var = np.maximum((counts * squares).sum(0) / counts.sum() - mean**2, 0.0)
    std = np.sqrt(var)
    flat = std <= STD_FLOOR * np.maximum(np.abs(mean), 1.0)  # a zeroed band, constant
    if flat.any() and not flat.all():  # ... scaled as the others: a pixel that differs at
        std[flat] = np.median(std[~flat])  # predict is a few sd, not 1e9 (s37 bands fix 1)
    return mean.tolist(), np.maximum(std, STD_FLOOR).tolist()


def contrast_floor(stds: list[np.ndarray], share: float = FLOOR_SHARE) -> list[float]:
    """A spec's ``floor`` from the training images' per-channel stds (or percentile
    ranges, as :func:`image_stats` gives them): ``share`` of the least, per channel. An
    image all no-data (``data.nodata``) has no contrast (NaN): it sets none (a floor of NaN
    made the run's checkpoints refused by predict); a channel with none: ``STD_FLOOR``."""
    stack = np.stack([np.asarray(s, dtype=np.float64) for s in stds])
    least = np.where(np.isnan(stack), np.inf, stack).min(axis=0)
    least = np.where(np.isinf(least), STD_FLOOR, least)
    return [float(f"{v:.6g}") for v in np.maximum(least * share, STD_FLOOR)]


def with_floor_dtype(spec: dict, dtypes) -> dict:
    """``spec`` with ``dtype``: the one dtype of the training images (``dtypes``, names or
    numpy dtypes) whose values its ``floor`` is in; unchanged without a floor, with a dtype
    already, or when the images have several dtypes."""
    names = {np.dtype(d).name for d in dtypes}
    if "floor" not in spec or "dtype" in spec or len(names) != 1:
        return spec
    return {**spec, "dtype": names.pop()}


def floor_for(spec: dict, dtype) -> np.ndarray | None:
    """The ``floor`` of ``spec`` for an image of ``dtype`` (float64), or None: no floor, or
    one not in this image's units. A spec that records its training ``dtype`` floors images
    of that dtype, and those of its ``floors`` (the other dtypes of training images of
    several: each its own floor, in its units), only; an older one (no dtype) every image but
    an integer one whose whole range is below the floor (a 16-bit model's floor of 13000 on
    an 8-bit image), where the floor cannot be in the image's values."""
    if "floor" not in spec:
        return None
    floor = np.asarray(spec["floor"], np.float64)
    dtype = np.dtype(dtype)
    if "dtype" in spec:
        trained, own = floor_entry(spec, dtype)
        return np.asarray(own, np.float64) if trained == dtype.name else None
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        if np.min(floor) > float(info.max) - float(info.min):
            return None
    return floor


def floor_entry(spec: dict, dtype) -> tuple[str | None, object]:
    """(the training dtype, its floor as ``spec`` records it) that an image of ``dtype``
    is measured against: the one lookup of a floor by dtype. Its own dtype's (``floors``)
    where ``spec`` records one, else the spec's ``dtype`` and ``floor`` (dtype None: a spec
    of no dtype, an older one whose floor is every image's). Whether the floor applies to
    the image is :func:`floor_for`'s: in a spec of a dtype, only where that is the image's."""
    name = np.dtype(dtype).name
    floors = spec.get("floors", {}) if "dtype" in spec else {}
    if name != spec.get("dtype") and name in floors:
        return name, floors[name]
    return spec.get("dtype"), spec.get("floor")


def floored(std: np.ndarray, spec: dict, dtype) -> np.ndarray:
    """``std`` (or percentile range) of an image of ``dtype`` raised to the floor of ``spec``
    that applies to it (:func:`floor_for`)."""
    return raised_to(std, floor_for(spec, dtype))


def raised_to(std: np.ndarray, floor: np.ndarray | None) -> np.ndarray:
    """``std`` raised to ``floor`` (:func:`floor_for`'s, looked up once by a caller that
    needs it for more: None, as it is)."""
    return std if floor is None else np.maximum(std, per_channel(floor, std.shape[0], "floor"))


def per_channel(values, channels: int, name: str) -> np.ndarray:
    """``values`` (one number, or a list of one per channel) of a spec's ``name`` as a
    float64 array of ``channels``; a list of another length refused in one line (it was
    numpy's broadcasting error, said as a bug)."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size not in (1, channels):
        raise UnetlabError(
            f"data.normalization {name} gives {array.size} values for images of "
            f"{numbered(channels, 'channel')}: give one per channel ({channels}), or one for all"
        )
    return np.broadcast_to(array, (channels,)).copy()


def contrast_note(spec: dict, dtype, contrast: np.ndarray) -> tuple[str, str] | None:
    """(kind, line) about how the ``floor`` of ``spec`` treats an image of ``dtype`` whose
    own per-channel ``contrast`` (std or percentile range, before any floor: :func:`raw_stats`)
    is given, or None when there is nothing to say. ``kind`` "dtype": the image is not of the
    training images' dtype, so the floor is not applied (say it once per run); "dim": the
    image's contrast is at most ``DIM_SHARE`` of the floor, so the floor reads it as nearly empty
    (say it per image: a dimmer acquisition must not pass silently); "faint": it is at most
    ``FAINT_SHARE`` of it, so the floor flattens it enough that faint objects may be missed
    (said as "dim" is)."""
    return note_against(spec, dtype, contrast, floor_for(spec, dtype))


def note_against(spec: dict, dtype, contrast, floor: np.ndarray | None) -> tuple[str, str] | None:
    """:func:`contrast_note` of the ``floor`` that :func:`floor_for` found for ``dtype``,
    looked up once by a caller that needs it for more."""
    if "floor" not in spec:
        return None
    trained, _ = floor_entry(spec, dtype)
    shown = _shown(spec["floor"])
    if floor is None:
        units = (
            f"is in the {trained} values it trained on{_others(spec)}"
            if trained
            else f"is above the whole range of {np.dtype(dtype).name} values"
        )
        return "dtype", (
            f"the model's normalisation floor {shown} {units}, not applied to "
            f"{np.dtype(dtype).name} images: each is stretched by its own contrast, and an "
            "empty one may show false objects" + _dtype_fix(trained_dtypes(spec), dtype)
        )
    contrast, floor = np.broadcast_arrays(np.atleast_1d(np.asarray(contrast, np.float64)), floor)
    if np.all(contrast <= STD_FLOOR):  # one value: no contrast to set against the floor
        return "dim", (
            "the image is constant (empty: every pixel one value, or its other pixels at its "
            "ceiling, the dtype's or a camera's maximum, left out as saturated: a mask given "
            "as an image?): nothing to segment"
        )
    return _dim_note(contrast, floor, trained)


def _others(spec: dict) -> str:
    """Words on the floors of ``spec`` for its training images of other dtypes, or ""."""
    others = list(spec.get("floors", {}))
    if not others:
        return ""
    return f" ({' and '.join(others)} images have their own)"


def _dim_note(contrast: np.ndarray, floor: np.ndarray, trained: str | None):
    """("dim", line) of an image whose per-channel ``contrast`` is at most ``DIM_SHARE`` of
    the ``floor`` in some channel, naming only those channels, each with its own figures (it
    said "contrast [5, 30] is 2.4x below the model's floor 12" of a 2-channel image whose
    channel 1 is above the floor), or None."""
    ratios = contrast / floor
    dim = np.flatnonzero(ratios <= DIM_SHARE)
    if dim.size == 0:
        return _faint_note(contrast, floor, trained)
    trained_on = f" (trained on {trained})" if trained else ""
    if contrast.size == 1:
        times = _times(float(ratios[0]))
        figures = (
            f"contrast {_shown(float(contrast[0]), rounded=True)} is {times} below the "
            f"model's floor {_shown(float(floor[0]))}"
        )
        flattens, what = f"it {times}", "the image is"
    else:
        figures = ", ".join(_channel_figures(c, contrast[c], floor[c]) for c in dim)
        flattens = "them" if dim.size > 1 else "it"
        if dim.size == 1 and contrast[dim[0]] > STD_FLOOR:
            flattens += f" {_times(float(ratios[dim[0]]))}"
        what = "the image is" if dim.size == contrast.size else _channels(dim)
    return "dim", (
        f"{figures}{trained_on}: the floor flattens {flattens}, as it does an empty field, "
        f"so {what} read as nearly empty; if it holds objects (a dimmer acquisition), "
        "scale it to the training images' range or train with such images"
    )


def _faint_note(contrast: np.ndarray, floor: np.ndarray, trained: str | None):
    """("faint", line) of an image with no channel at most ``DIM_SHARE`` of the ``floor``
    but some at most ``FAINT_SHARE`` of it, naming only those, or None: milder than the
    "dim" line, as the floor flattens it less (IoU 0.74-0.91 where 0.28 at 0.5x)."""
    ratios = contrast / floor
    faint = np.flatnonzero(ratios <= FAINT_SHARE)
    if faint.size == 0:
        return None
    trained_on = f" (trained on {trained})" if trained else ""
    own = contrast.size > 1  # each channel named
    figures = ", ".join(_share_figures(c if own else None, contrast[c], floor[c]) for c in faint)
    objects = "faint objects"
    if faint.size < contrast.size:
        objects += f" in {_channel_names(faint)}"
    return "faint", (
        f"{figures}{trained_on}: the floor flattens {'them' if faint.size > 1 else 'it'}, "
        f"so {objects} may be missed; for a dimmer acquisition, scale it to the training "
        "images' range or train with such images"
    )


def _share_figures(channel: int | None, contrast: float, floor: float) -> str:
    """ "contrast 7 is 0.56x the model's floor 12.4" (of ``channel``, where one is named),
    its share shown between ``DIM_SHARE`` and ``FAINT_SHARE`` (never the "dim" line's 0.50)."""
    share = min(max(float(contrast / floor), DIM_SHARE + 0.01), FAINT_SHARE)
    own = "" if channel is None else f"channel {channel}'s "
    return (
        f"{own}contrast {_shown(float(contrast), rounded=True)} is {share:.2f}x the model's "
        f"floor {_shown(float(floor))}"
    )


def _channel_figures(channel: int, contrast: float, floor: float) -> str:
    if contrast <= STD_FLOOR:
        return f"channel {channel} is constant"
    return (
        f"channel {channel}'s contrast {_shown(float(contrast), rounded=True)} is "
        f"{_times(float(contrast / floor))} below the model's floor {_shown(float(floor))}"
    )


def _channels(channels: np.ndarray) -> str:
    return f"{_channel_names(channels)} {worded(len(channels), 'is', 'are')}"


def _channel_names(channels: np.ndarray) -> str:
    named = [str(c) for c in channels]
    if len(named) == 1:
        return f"channel {named[0]}"
    return f"channels {', '.join(named[:-1])} and {named[-1]}"


def trained_dtypes(spec: dict) -> list[str]:
    """Every dtype of the training images whose floor ``spec`` records: its ``dtype`` (the
    most common) first, then those of its ``floors``; [] for a spec of no dtype."""
    return [spec["dtype"], *spec.get("floors", {})] if "dtype" in spec else []


def _dtype_fix(trained: list[str], dtype) -> str:
    """The fix for an image of ``dtype`` given to a model whose floors are in ``trained``
    values (each dtype it trained on: s48 named only the most common), as the caller that
    runs gives images (:func:`unetlab.data.appearance.dtype_fix`)."""
    from unetlab.data.appearance import dtype_fix  # it imports this module

    return ": " + dtype_fix(trained, dtype)


def _times(ratio: float) -> str:
    times = 1 / max(ratio, 1e-12)
    return f"{times:.0f}x" if times >= 10 else f"{times:.1f}x"


def _shown(values, *, rounded: bool = False) -> str:
    values = values if isinstance(values, (list, tuple)) else [values]
    form = "{:.0f}" if rounded else "{:.6g}"
    text = ", ".join(form.format(float(v)) if abs(v) >= 10 else f"{v:.3g}" for v in values)
    return text if len(values) == 1 else f"[{text}]"


def channels_of(image: np.ndarray) -> int:
    """Channel count of an (H, W) or (H, W, C) image."""
    return 1 if image.ndim == 2 else image.shape[2]


def image_stats(
    image: np.ndarray, spec: dict, *, chunk_rows: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mean, std) as float64 arrays of length C such that x' = (x - mean) / std
    (:func:`raw_stats`, the std floored as :func:`floor_for` says for the image's dtype)."""
    mean, std = raw_stats(image, spec, chunk_rows=chunk_rows)
    return mean, floored(std, spec, image.dtype)


def raw_stats(
    image: np.ndarray, spec: dict, *, chunk_rows: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`image_stats` before the ``floor``: the std (or percentile range) is the
    image's own contrast."""
    check_spec(spec)
    c = channels_of(image)
    mode = spec["mode"]
    if mode in ("dataset", "ct") and "mean" not in spec:
        over = "its images" if mode == "dataset" else "the foreground of its images"
        raise UnetlabError(
            f"normalization mode {mode} holds no statistics: training measures them (the "
            f"mean and std of each channel over {over}) and records them in the checkpoint"
        )
    if mode in ("fixed", "dataset", "ct"):
        mean, std = per_channel(spec["mean"], c, "mean"), per_channel(spec["std"], c, "std")
        return mean, np.maximum(std, STD_FLOOR)
    if mode in ("scale", "imagenet"):
        top = float(np.iinfo(image.dtype).max) if np.issubdtype(image.dtype, np.integer) else 1.0
        if mode == "scale":
            return np.zeros(c), np.full(c, top)
        mean, std = imagenet_stats(c)
        return mean * top, std * top
    if mode == "percentile":
        low, high = percentiles_of(spec)
        saturated = bool(spec.get("ignore_saturated", False))  # absent: as before it was a key
        camera = bool(spec.get("camera_ceiling", False))  # absent: the dtype's maximum only
        how = dict(chunk_rows=chunk_rows, ignore_saturated=saturated, camera_ceiling=camera)
        return percentile_stats(image, low, high, **how)
    if spec.get("tissue") and np.issubdtype(image.dtype, np.integer):
        return _tissue_stats(image, c, chunk_rows)
    return _per_image_stats(image, c, chunk_rows)


def _tissue_stats(image: np.ndarray, c: int, chunk_rows: int):
    """Per-channel (mean, std) of an integer image's tissue pixels (a channel under
    ``GLASS`` of the dtype's maximum), chunk by chunk; of all pixels where tissue is less
    than ``TISSUE_LEAST`` of them."""
    glass = GLASS * float(np.iinfo(image.dtype).max)
    sums, sums_sq, counts = np.zeros((2, c)), np.zeros((2, c)), np.zeros(2)
    for top in range(0, image.shape[0], chunk_rows):
        block = np.asarray(image[top : top + chunk_rows]).reshape(-1, c)
        tissue = (block < glass).any(axis=1)
        for k, part in enumerate((block[tissue], block[~tissue])):
            part = part.astype(np.float64)
            sums[k] += part.sum(0)
            sums_sq[k] += np.square(part).sum(0)
            counts[k] += part.shape[0]
    if counts[0] < TISSUE_LEAST * counts.sum():
        sums, sums_sq, counts = (
            sums.sum(0, keepdims=True),
            sums_sq.sum(0, keepdims=True),
            counts.sum(keepdims=True),
        )
    mean = sums[0] / max(counts[0], 1)
    var = np.maximum(sums_sq[0] / max(counts[0], 1) - mean**2, 0.0)
    return mean, np.maximum(np.sqrt(var), STD_FLOOR)


def _per_image_stats(image: np.ndarray, c: int, chunk_rows: int):
    if not (np.issubdtype(image.dtype, np.integer) and image.dtype.itemsize <= 2):
        # exact two-pass-free sums in float64, chunk by chunk (memmap friendly)
        return _summed_stats(image, c, chunk_rows, np.float64)
    if image.shape[0] * image.shape[1] < _DIRECT_SHARE * 256**image.dtype.itemsize:
        return _summed_stats(image, c, chunk_rows, np.int64)
    return _histogram_stats(image, c, chunk_rows)


#: 8/16-bit pages of fewer pixels than this many times their dtype's values are summed
#: directly (:func:`_summed_stats`), not by a histogram of every value
#: (:func:`_histogram_stats`): below it every sum is under 2**53 and the figures are the
#: histogram's bit for bit; above, the histogram keeps them as they were (not for speed:
#: int64 sums are faster at every size)
_DIRECT_SHARE = 16


def _summed_stats(image: np.ndarray, c: int, chunk_rows: int, dtype):
    """Per-channel (mean, std) of ``image`` from its sums in ``dtype`` (float64; int64 for
    an 8/16-bit page under :data:`_DIRECT_SHARE` times its dtype's values, 16 x 256 pixels
    for 8 bits, 16 x 65,536 for 16, whose :func:`_histogram_stats` it gives bit for bit,
    each sum a whole number under 2**53, without a bin for every value and their float64
    products: s73, 5-15 ms CPU a 64 x 64 uint16 page on 2 loaded cores, whatever its size;
    0.01 ms), chunk by chunk (memmap friendly)."""
    total, total_sq, count = np.zeros(c, dtype), np.zeros(c, dtype), 0
    for top in range(0, image.shape[0], chunk_rows):
        block = np.asarray(image[top : top + chunk_rows]).reshape(-1, c)
        sums, sums_sq = _block_sums(block, dtype)
        total += sums
        total_sq += sums_sq
        count += block.shape[0]
    mean = total / count
    var = np.maximum(total_sq / count - mean**2, 0.0)
    return mean, np.maximum(np.sqrt(var), STD_FLOOR)


def _block_sums(block: np.ndarray, dtype):
    """Per-channel sums and sums of squares of an (N, C) ``block`` in ``dtype``. In int64
    channel by channel from a (C, N) copy: numpy sums an (N, C) int64 array down its rows
    4-7 times slower for C > 1 (s73: 512 x 512 x 3 uint16 7.8 ms, this way 0.6 ms); the
    float64 sums keep their order (another order would change their last bits)."""
    if dtype is not np.int64:
        block = block.astype(dtype, copy=False)
        return block.sum(0), np.square(block).sum(0)
    lanes = np.ascontiguousarray(block.T, dtype=np.int64)
    return lanes.sum(1), np.einsum("ij,ij->i", lanes, lanes)


def imagenet_stats(channels: int) -> tuple[np.ndarray, np.ndarray]:
    """ImageNet (mean, std) for [0, 1] images of 3 (RGB) or 1 (grey: the channel means)."""
    if channels == 3:
        return np.array(IMAGENET_MEAN), np.array(IMAGENET_STD)
    if channels == 1:
        return np.array([np.mean(IMAGENET_MEAN)]), np.array([np.mean(IMAGENET_STD)])
    raise UnetlabError(
        f"normalization mode 'imagenet' is for RGB or grey images, not {channels} channels: "
        "use per_image or fixed"
    )


def percentile_stats(
    image: np.ndarray,
    low: float,
    high: float,
    *,
    chunk_rows: int = 1024,
    ignore_saturated: bool = False,
    camera_ceiling: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mean, std) that map the ``low`` percentile to 0 and ``high`` to 1:
    (p_low, p_high - p_low), float64 arrays of length C, as ``numpy.percentile`` (linear)
    gives them. 8/16-bit images (in memory or streamed: anything that slices by rows) from
    their histogram, exactly; other streamed images from every k-th row, about
    ``SAMPLE_PIXELS`` pixels (with nodata every k-th valid pixel: :func:`_streamed_sample`);
    no pixel raises IndexError. ``ignore_saturated``: an integer channel's pixels at its
    dtype's maximum (65535: a detector's saturation, an SEM's burned-in data bar text) are
    left out of its percentiles, unless they are all it holds: 0.25% of such pixels put the
    99.8th percentile at 65535 and squeezed a 12-bit image's grains into 0-0.05 (audit s31
    grains 1); with ``camera_ceiling`` those at its ceiling
    (:meth:`~unetlab.data.ceiling.CeilingTally.ceiling`, the rule of predict's saturated
    objects: the dtype's maximum, else a 10/12/14-bit camera's clipped pixels piled up at
    1023/4095/16383 in a 16-bit file; specs before it, the dtype's maximum only).
    A channel whose percentiles meet (a band of zeros but for a few bright pixels: a sparse
    stain, a cirrus band) is scaled by its whole span, min to max, instead (:func:`_width`)."""
    c = channels_of(image)
    top = np.iinfo(image.dtype).max if np.issubdtype(image.dtype, np.integer) else None
    if top is not None and image.dtype.itemsize <= 2:
        values, counts = _histogram(image, c, chunk_rows)
        span = _histogram_span(values, counts)
        if ignore_saturated:
            _drop_ceilings(values, counts, image.dtype, camera_ceiling)
        lo, hi = (np.array([_hist_percentile(values, n, q) for n in counts]) for q in (low, high))
    else:
        if isinstance(image, np.ndarray):
            pixels = image.reshape(-1, c)
        else:  # a streamed float image: a regular sample of its rows
            pixels = _streamed_sample(image, c, chunk_rows)
        if not len(pixels):  # a page all nodata (valid_stats catches it): as numpy's
            raise IndexError("no pixel to take percentiles of")  # percentile, not max's error
        span = pixels.max(axis=0).astype(np.float64) - pixels.min(axis=0)
        if ignore_saturated and top is not None:
            lo, hi = _unsaturated_percentiles(pixels, low, high, camera_ceiling)
        else:
            lo, hi = np.percentile(pixels, [low, high], axis=0).astype(np.float64)
    return lo, _width(hi - lo, span)


def _width(width: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Each channel's percentile ``width``, or its whole ``span`` (max - min, saturated pixels
    too) where the percentiles meet: a band of zeros with 16 bright pixels in 16,384 has a
    1st-99.8th width of 0, which the floor of 1e-6 turned into inputs of 3e9 (audit s37
    bands); a constant channel keeps the floor (its pixels all normalise to 0)."""
    return np.where(width > STD_FLOOR, width, np.maximum(span, STD_FLOOR))


def _histogram_span(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per channel of a histogram (``counts`` (C, V) at ascending ``values``): max - min."""
    spans = []
    for row in counts:
        held = np.flatnonzero(row)
        spans.append(values[held[-1]] - values[held[0]] if held.size else 0.0)
    return np.asarray(spans, dtype=np.float64)


def _drop_ceilings(values: np.ndarray, counts: np.ndarray, dtype, camera: bool) -> None:
    """Zero each channel's count at its ceiling (:func:`_ceiling` of its histogram:
    ``counts`` (C, V) at integer ``values``), unless all its pixels are there."""
    for row in counts:
        tally = CeilingTally(dtype)
        tally.add_counts(values, row)
        ceiling = _ceiling(tally, camera)
        if ceiling is not None:
            at = ceiling - np.iinfo(dtype).min
            if row[at] < row.sum():
                row[at] = 0


def _ceiling(tally: CeilingTally, camera: bool) -> int | None:
    """The channel's ceiling (``camera``: :meth:`~unetlab.data.ceiling.CeilingTally.ceiling`)
    or, for a spec without ``camera_ceiling``, its dtype's maximum where a pixel is there."""
    if camera:
        return tally.ceiling()
    return tally.top if tally.top == tally.info.max else None


def _unsaturated_percentiles(pixels: np.ndarray, low: float, high: float, camera: bool):
    """Per channel of (N, C) integer ``pixels``: the ``low`` and ``high`` percentiles of
    those not at its ceiling (:func:`_ceiling`; all of them where none is or all are)."""
    lo, hi = np.empty(pixels.shape[1]), np.empty(pixels.shape[1])
    for ch in range(pixels.shape[1]):
        column = pixels[:, ch]
        tally = CeilingTally(column.dtype)
        tally.add(column)
        ceiling = _ceiling(tally, camera)
        below = column if ceiling is None else column[column != ceiling]
        lo[ch], hi[ch] = np.percentile(below if below.size else column, [low, high])
    return lo, hi


def _streamed_sample(image, c: int, chunk_rows: int) -> np.ndarray:
    """(N, C): the pixels of every k-th row of a streamed ``image``, about ``SAMPLE_PIXELS``,
    read about ``chunk_rows`` rows at a time (whole: a slide page reads with step 1 only). An
    image that ``takes_step`` is given k (:class:`~unetlab.data.nodata.ValidRows`: every k-th
    valid pixel, at most as many; it held every valid pixel of the page, s57 review D). Each
    read is flattened first: valid pixels come as (1, N, C), N varying (numpy's "dimensions
    ... must match exactly" where a page was read in pieces, s57 review D)."""
    step = max(1, round(image.shape[0] * image.shape[1] / SAMPLE_PIXELS))
    chunk, takes = _sample_chunk(chunk_rows, step), getattr(image, "takes_step", False)
    rows = []
    for t in range(0, image.shape[0], chunk):
        if takes:
            read = np.asarray(image[t : t + chunk : step])
        else:
            read = np.asarray(image[t : t + chunk])[::step]
        rows.append(read.reshape(-1, c))
    return np.concatenate(rows)


def _sample_chunk(chunk_rows: int, step: int) -> int:
    """Rows read at a time for a sample of every ``step``-th row: about ``chunk_rows``, a
    multiple of ``step``, so that every chunk starts on a sampled row and none is read twice."""
    return max(step, chunk_rows - chunk_rows % step)


def _hist_percentile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """The ``q`` percentile (numpy's linear rule) of the pixels counted ``counts`` at
    ``values`` (ascending)."""
    cumulative = np.cumsum(counts)
    position = q / 100 * (cumulative[-1] - 1)
    below = int(np.floor(position))
    at = values[np.searchsorted(cumulative, [below, min(below + 1, cumulative[-1] - 1)], "right")]
    return float(at[0] + (position - below) * (at[1] - at[0]))


def _histogram(image: np.ndarray, c: int, chunk_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(values, (C, V) pixel counts) of an 8/16-bit image, read ``chunk_rows`` rows at a time."""
    info = np.iinfo(image.dtype)
    values = np.arange(info.min, info.max + 1, dtype=np.float64)
    counts = np.zeros((c, values.size), dtype=np.int64)
    for top in range(0, image.shape[0], chunk_rows):
        block = np.asarray(image[top : top + chunk_rows]).reshape(-1, c)
        for ch in range(c):
            column = block[:, ch]
            if info.min < 0:
                column = column.astype(np.int32) - info.min
            counts[ch] += np.bincount(column, minlength=values.size)
    return values, counts


def _histogram_stats(image: np.ndarray, c: int, chunk_rows: int):
    """Per-channel (mean, std) of an 8/16-bit image from its histogram: exact sums, and
    faster than float64 sums (48 ms, not 77 ms, for a 4096 x 4096 uint8 image on 2 cores)."""
    values, counts = _histogram(image, c, chunk_rows)
    count = counts[0].sum()
    mean = counts @ values / count
    var = np.maximum(counts @ values**2 / count - mean**2, 0.0)
    return mean, np.maximum(np.sqrt(var), STD_FLOOR)


def apply_stats(image: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(H, W[, C]) image -> (C, H, W) float32, normalised. Never modifies ``image``."""
    x = np.asarray(image, dtype=np.float32)
    x = x[None] if x.ndim == 2 else np.moveaxis(x, -1, 0)
    m = np.asarray(mean, dtype=np.float32)[:, None, None]
    s = np.asarray(std, dtype=np.float32)[:, None, None]
    return (x - m) / s


def normalize(image: np.ndarray, spec: dict) -> np.ndarray:
    """(H, W[, C]) image -> (C, H, W) float32 normalised by ``spec``."""
    mean, std = image_stats(image, spec)
    return apply_stats(clipped(image, spec), mean, std)


def clips(spec: dict) -> bool:
    """Whether ``spec`` clips images before it standardises them (a trained ``ct`` spec)."""
    return spec.get("mode") == "ct" and "lower" in spec


def clipped(image: np.ndarray, spec: dict) -> np.ndarray:
    """The (H, W[, C]) ``image`` clipped to a ``ct`` spec's ``lower`` and ``upper`` (per
    channel), float32, which its ``mean`` and ``std`` then standardise (:func:`apply_stats`);
    ``image`` itself for any other spec. Never modifies ``image``."""
    if not clips(spec):
        return image
    c = channels_of(image)
    lower, upper = (per_channel(spec[k], c, k).astype(np.float32) for k in ("lower", "upper"))
    x = np.asarray(image, dtype=np.float32)
    return np.clip(x, lower if x.ndim == 3 else lower[0], upper if x.ndim == 3 else upper[0])


def normalization_formula(spec: dict) -> str:
    """The normalisation ``spec`` (``model.normalization``) as a formula a deployer applies
    to the raw image x, in words (the ``normalization_formula`` metadata of an exported
    model: :mod:`unetlab.inference.export`)."""
    mode = spec.get("mode")
    eps = f"{STD_FLOOR:g}" if "floor" not in spec else "floor_c"
    own = _own_values(spec)
    if mode == "per_image":
        return _per_image_formula(spec, eps, own)
    if mode in ("fixed", "dataset"):
        of = " (over the training images)" if mode == "dataset" else ""
        return (
            f"per channel c: x' = (x - mean_c) / max(std_c, {eps}), mean{of} "
            f"{list(spec['mean'])}, std {list(spec['std'])}; {own}"
        )
    top = "M the image dtype's maximum (255 for uint8, 65535 for uint16, 1 for floats)"
    if mode == "scale":
        return f"x' = x / M, {top}"
    if mode == "imagenet":
        return (
            f"per channel c: x' = (x / M - mean_c) / std_c, {top}, mean {list(IMAGENET_MEAN)}, "
            f"std {list(IMAGENET_STD)} (a grey image: their means)"
        )
    if mode == "ct":
        low, high = percentiles_of(spec)
        return (
            f"per channel c: x' = (min(max(x, lower_c), upper_c) - mean_c) / max(std_c, {eps}), "
            f"lower_c and upper_c the {low} and {high} percentiles of the training images' "
            f"foreground (labelled pixels), mean_c and std_c its mean and std: lower "
            f"{list(spec['lower'])}, upper {list(spec['upper'])}, mean {list(spec['mean'])}, "
            f"std {list(spec['std'])}; {own}"
        )
    return _percentile_formula(spec, eps, own)


def _own_values(spec: dict) -> str:
    """The formula's words on x (raw values) and on the floor of the std (or range)."""
    own = "x in the image's own values (not scaled)"
    if "floor" in spec:  # training's: half the least contrast of its images
        own += f"; floor_c per channel {_listed(spec['floor'])}"
        if "dtype" in spec:
            own += f" for {spec['dtype']} images"
            for dtype, floor in spec.get("floors", {}).items():
                own += f", {_listed(floor)} for {dtype} images"
            own += f" (for images of another dtype: {STD_FLOOR:g})"
    return own


def _per_image_formula(spec: dict, eps: str, own: str) -> str:
    """Mode ``per_image``: mean and std of the image (or of its tissue)."""
    pixels = "all pixels"
    if spec.get("tissue"):
        pixels = (
            f"the tissue pixels (a channel under {GLASS:g} x M, M the integer dtype's "
            f"maximum; all pixels when these are under {TISSUE_LEAST:g} of them)"
        )
    return (
        f"per image and channel c: x' = (x - mean_c) / max(std_c, {eps}), mean_c and std_c "
        f"(population std, ddof 0) over {pixels} of channel c of the whole image (not "
        f"per tile); {own}"
    )


def _percentile_formula(spec: dict, eps: str, own: str) -> str:
    """Mode ``percentile``: the image's low and high percentiles, saturated pixels left out
    where the spec says so."""
    low, high = percentiles_of(spec)
    return (
        f"per image and channel c: x' = (x - p_low_c) / max(w_c, {eps}), p_low_c "
        f"and p_high_c the {low} and {high} percentiles of channel c over the whole image"
        f"{_saturated_words(spec)} (numpy's linear interpolation), w_c = p_high_c - p_low_c, "
        f"or where that is at most {STD_FLOOR:g} (the percentiles meet: a channel of zeros but "
        "for a few bright pixels) the channel's max - min over the whole image, saturated "
        f"pixels too; {own}"
    )


def _saturated_words(spec: dict) -> str:
    """The pixels a percentile spec leaves out: at the camera's or the dtype's ceiling."""
    if spec.get("camera_ceiling"):
        return (
            " but its pixels at the channel's ceiling (unless all are): the integer dtype's "
            "maximum (65535 for uint16) where a pixel reaches it, else an 8/10/12/14-bit "
            "camera's 2^k - 1 (4095 in a uint16 file; 65520 where its bits fill the top) "
            f"where that is the channel's maximum and {PILE_PIXELS} or more pixels, and "
            f"{PILE_RATIO} times more than at each of the {BELOW} camera values below it on "
            "average, are there"
        )
    if spec.get("ignore_saturated"):
        return " but its pixels at the integer dtype's maximum (65535 for uint16; unless all are)"
    return ""


def _listed(floor) -> list:
    return list(floor) if isinstance(floor, (list, tuple)) else [floor]
