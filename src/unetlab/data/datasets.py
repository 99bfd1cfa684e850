"""From a data set folder to checked, normalised samples and random training tiles.

- :func:`split_pairs`: train/val pairs from ``train/`` + ``val/`` folders, a VOC split file, or
  a seeded random split; :func:`training_split`: a checkpoint's split, made again.
- :func:`discover_label_values`: the sorted mask values of a data set (the classes when the
  config names none), refusing lossy-looking masks.
- :func:`scan_masks` / :func:`choose_target`: whether the masks hold classes or object ids.
- :func:`load_instance_samples`: instance masks -> background / boundary / interior targets.
- :func:`load_samples`: reads every pair once and checks everything; one ``DatasetError``
  lists every problem with its file, and the fix ("the prediction is all black" starts here).
- :class:`TileDataset`: random training tiles for a net of any geometry. For valid nets the
  label window is the net's output window and the input grows by the lost border on every
  side, mirrored (reflect) outside the image as the paper does, so border pixels train too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from unetlab.data.appearance import image_appearance
from unetlab.data.checks import channel_problems, non_integer_mask, nonfinite_pixels
from unetlab.data.coco import coco_stems, coco_val_split, coco_void
from unetlab.data.colour import channels_kind
from unetlab.data.colour_masks import INSTANCE_MODE, mask_said, said_by, why_ids
from unetlab.data.ctc import GOLD, truth_read
from unetlab.data.exclude import check_exclude_rows, kept_rows, mirrored, region
from unetlab.data.fingerprint import (
    LOSSY_SUFFIXES,
    SOME_IGNORE_VALUE,
    TARGET_INSTANCES,
    TARGET_SEMANTIC,
    MaskValues,
    file_pixel_size,
    instance_masks,
    jpeg_mask,
    lossy_problem,
    pixel_counts,
    ramp_share,
    say_ids_by_void,
)
from unetlab.data.held import let_go
from unetlab.data.instances import (
    TARGETS,
    binary_values,
    instance_target,
    object_statistics,
    split_pieces,
)
from unetlab.data.io import (
    DATA_AXES,
    GIVEN_AXES,
    AxesSetting,
    read_stack,
    refuse_untiffed_axes,
)
from unetlab.data.labels import IGNORE_INDEX, encode_mask
from unetlab.data.large_ids import compact_large_ids
from unetlab.data.mirror import reflect_window
from unetlab.data.names import SPLIT_NAMES, holds_object_ids, listed_once, sub_folder
from unetlab.data.nodata import InvalidPages, either, filled, valid_pixels
from unetlab.data.normalize import (
    CT_MEASURED,
    STD_FLOOR,
    apply_stats,
    channels_of,
    clipped,
    image_stats,
    percentiles_of,
    pooled_stats,
    raw_stats,
)
from unetlab.data.object_sizes import joined, region_facts, sized
from unetlab.data.pairs import (
    DATA_ROOT,
    SPLIT_ROOT,
    Pair,
    PairReader,
    data_set_above,
    detect_layout,
    find_pairs,
    layout_folders,
    mask_axes,
    no_data_folder,
    npz_val_split,
    problems_error,
)
from unetlab.data.shapes import paired_said_once
from unetlab.data.stack_split import one_sequence_note, split_whole, stack_split, val_count
from unetlab.data.tiff_files import keeping_open
from unetlab.data.windows import window_start
from unetlab.data.yolo import side_folders, yolo_split
from unetlab.errors import DatasetError, MadeAgain, Spelled, UnetlabError, quoted, said_as, set_to
from unetlab.provenance import unetlab_command
from unetlab.words import numbered, worded

log = logging.getLogger(__name__)

MAX_LABEL_VALUES = 256


@dataclass(frozen=True, eq=False)
class Sample:
    """One loaded training/validation image.

    ``image`` (C, H, W) float32, normalised; ``mask`` (H, W) int64 class indices with
    ``IGNORE_INDEX`` (-1) for ignored pixels; ``weight`` (H, W) float32 per-pixel loss weights
    (the paper's weight map) or None; ``contrast``: the per-channel std (or percentile
    range) the image was divided by, before any floor, and ``dtype`` the dtype it was read
    as (the units of that contrast; None: not recorded); ``appearance`` its per-channel
    (mean, sd) as read (:func:`unetlab.data.appearance.image_appearance`), which the
    checkpoint records for prediction to compare its images with; ``spacing`` the (y, x)
    micrometres per pixel its file records, or None, and ``channels`` what its channels are
    where it has several ("colours", "stains": :func:`unetlab.data.colour.channels_kind`),
    both read from its file's header as it is loaded (:func:`image_header`); ``mask_dtype``
    the dtype its mask file's values were read as (the most an unannotated plane can be
    filled with: :mod:`unetlab.data.unlabelled_planes`, which opened the file again for it
    before, s69).
    """

    name: str
    image: np.ndarray
    mask: np.ndarray
    weight: np.ndarray | None = None
    contrast: np.ndarray | None = None
    dtype: str | None = None
    appearance: tuple | None = None
    spacing: tuple[float, float] | None = None
    channels: str | None = None
    mask_dtype: str | None = None


def image_header(pair: Pair, image: np.ndarray) -> tuple:
    """(spacing, channels) of ``pair``'s image (:class:`Sample`), read as ``image`` (its raw
    (H, W[, C]) pixels) is: the channels' kind only where it has several."""
    several = image.ndim == 3 and image.shape[2] > 1
    return file_pixel_size(pair.image), channels_kind(pair.image, pair.axes) if several else None


class ImageHeaders:
    """Each pair's :func:`image_header`, a stack's read once for all its pages (the file
    read last is held): each page re-opened its TIFF for it (s49)."""

    def __init__(self):
        self.held: dict[tuple, tuple] = {}

    def __call__(self, pair: Pair, image: np.ndarray) -> tuple:
        key = (pair.image, pair.axes, image.shape[2:])
        if key not in self.held:
            self.held = {key: image_header(pair, image)}
        return self.held[key]


def _sample(
    name: str,
    image: np.ndarray,
    normalization: dict,
    mask,
    weight,
    exclude_rows=None,
    invalid: np.ndarray | None = None,
    header: tuple = (None, None, None),
) -> Sample:
    """A :class:`Sample` of a raw (H, W[, C]) image, normalised, with its contrast and dtype;
    the statistics are those of its rows outside ``exclude_rows`` (a data bar), which are
    filled with the mirror image of the rows beside them (as prediction fills them), and
    outside its ``invalid`` pixels (nodata, transparent: :mod:`unetlab.data.nodata`), which
    are filled with the valid pixels' mean (as prediction fills them); ``header``: its
    file's (spacing, channels) (:func:`image_header`) and its mask's dtype."""
    if invalid is None:
        kept = kept_rows(image, exclude_rows, name)
    else:
        kept = valid_pixels(image, invalid | _bar(image.shape, exclude_rows))
    mean, std = image_stats(kept, normalization)
    raw = clipped(image, normalization)  # a ct spec's: to the foreground's percentiles
    normalised = apply_stats(filled(mirrored(raw, exclude_rows, name), invalid), mean, std)
    looks = image_appearance(kept, normalization)
    dtype = image.dtype.name
    spacing, channels, mask_dtype = header
    return Sample(
        name,
        normalised,
        mask,
        weight,
        contrast=std,
        dtype=dtype,
        appearance=looks,
        spacing=spacing,
        channels=channels,
        mask_dtype=mask_dtype,
    )


def _bar(shape: tuple[int, ...], exclude_rows) -> np.ndarray | bool:
    """The excluded rows of an image of ``shape`` ((H, W) bool), or False for none."""
    bar = region(shape, exclude_rows)
    return False if bar is None else bar


def dataset_stats(
    pairs: Sequence[Pair], *, channel=None, nodata="auto", exclude_rows=None
) -> tuple[list[float], list[float]]:
    """The per-channel mean and std of all the sample pixels of ``pairs``' images (read as
    training reads them: ``channel``, outside ``nodata`` and ``exclude_rows``), the
    ``dataset`` normalisation's statistics (:func:`unetlab.data.normalize.pooled_stats`)."""
    read = PairReader(channel, nodata=nodata)
    invalid = InvalidPages(read)
    stats = []
    for pair in pairs:
        image, _ = read(pair)
        bad = invalid(pair)
        if bad is None:
            kept = kept_rows(image, exclude_rows, pair.name)
        else:
            kept = valid_pixels(image, bad | _bar(image.shape, exclude_rows))
        mean, std = raw_stats(kept, {"mode": "per_image"})
        stats.append((mean, std, kept.shape[0] * kept.shape[1]))
    return pooled_stats(stats)


#: the foreground pixels of each image that the ``ct`` mode's statistics take at most (an
#: even sample beyond: nnU-Net takes 10,000 a case)
FOREGROUND_SAMPLE = 1 << 16


def foreground_stats(
    pairs: Sequence[Pair],
    spec: dict,
    *,
    channel=None,
    nodata="auto",
    exclude_rows=None,
    background: int = 0,
    ignore_value: int | None = None,
) -> dict:
    """The ``ct`` mode's statistics of ``pairs``' images (read as training reads them), each
    channel's over the foreground: the pixels whose mask value is neither ``background``
    (the one training takes for its background class) nor ``ignore_value``, outside no-data
    and ``exclude_rows``. ``lower`` and ``upper``, its ``low`` and ``high`` percentiles (of
    ``spec``), and its ``mean`` and ``std`` (nnU-Net's CT normalisation), as lists of
    floats. DatasetError where no mask holds such a pixel."""
    read = PairReader(channel, nodata=nodata)
    invalid = InvalidPages(read)
    found = []
    for pair in pairs:
        image, mask = read(pair)
        inside = mask != background
        if ignore_value is not None:
            inside &= mask != ignore_value
        outside = either(invalid(pair), region(mask.shape, exclude_rows))
        inside = inside if outside is None else inside & ~outside
        pixels = image[inside].reshape(-1, channels_of(image))  # (N, C): N may be 0
        found.append(pixels[:: len(pixels) // FOREGROUND_SAMPLE + 1].astype(np.float64))
    pixels = np.concatenate(found)
    if not len(pixels):
        raise DatasetError(
            "normalization mode ct takes its statistics from the labelled pixels (mask "
            f"values other than {background}), and the {numbered(len(pairs), 'training mask')} "
            "hold none: label them, or set data.normalization.mode to percentile or per_image"
        )
    lower, upper = np.percentile(pixels, percentiles_of(spec), axis=0)
    std = np.maximum(pixels.std(0), STD_FLOOR)
    said = (lower, upper, pixels.mean(0), std)
    return {key: values.tolist() for key, values in zip(CT_MEASURED, said, strict=True)}


# --- splitting ---------------------------------------------------------------------------------

VOC_LISTS = Path("ImageSets") / "Segmentation"  # a VOC data set's train.txt and val.txt


def _has_layout(folder: Path) -> bool:
    if not folder.is_dir():
        return False
    try:
        detect_layout(folder)
    except DatasetError:
        return False
    return True


def _read_split_file(path: Path) -> list[str]:
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


def split_indices(n: int, *, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded split of ``range(n)`` into sorted (train, val) index lists.

    ``round(n * val_fraction)`` go to val, at least 1 when ``n >= 2`` and ``val_fraction > 0``,
    and never all of them (train keeps at least 1).
    """
    n_val = val_count(n, val_fraction)
    order = np.random.default_rng(seed).permutation(n)
    return sorted(order[n_val:].tolist()), sorted(order[:n_val].tolist())


def split_pairs(
    root: str | os.PathLike,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    problems: list[str] | None = None,
    quiet: bool = False,
    by_page: bool = False,
    axes: str | None = None,
    run_dir: str | os.PathLike | None = None,
    axes_setting: AxesSetting = GIVEN_AXES,
    ctc_truth: str = GOLD,
) -> tuple[list[Pair], list[Pair]]:
    """(train_pairs, val_pairs) of the data set under ``root``.

    In order of precedence: ``train/`` and ``val/`` sub-folders that each hold a data set
    layout (see :func:`unetlab.data.pairs.find_pairs`); a VOC ``ImageSets/Segmentation/
    {train,val}.txt``; else a seeded random split (:func:`split_indices`) of the pairs of
    ``root`` (or of ``root/train/`` when only that holds a data set, as in the ISBI folder
    with an unlabelled ``test/``); where some file is a stack (a movie, a z-stack), by whole
    files, or a single stack's last pages (:func:`_split`). With a single sample, val is
    empty and a warning is logged. ``by_page``: every page split like a separate image, as
    runs split before stacks were split by file (a checkpoint that records no split).
    ``problems``: where to add the pairing problems instead of raising them (see :func:`unetlab.data.pairs.find_pairs`).
    ``quiet``: without the log lines that say which split is used or that none is kept for
    validation (for a look at the data before the split that training reports: the plan's).
    ``axes``: the images' TIFF axes as a user gives them (``data.axes``), and their masks'
    (:func:`unetlab.data.pairs.find_pairs`).
    ``run_dir``: the run that trains on them, whose best.pt the line naming an unused
    ``test/`` scores it with (:func:`_held_out_note`; RUN where it is not known).
    ``axes_setting``: how lines name the setting that gave ``axes``: this keyword
    (:data:`~unetlab.data.io.GIVEN_AXES`), or a training's config key, ``cfg.data.axes``
    (:data:`~unetlab.data.io.DATA_AXES`, which fit's and plan_training's readers give); and
    so ``root`` (:func:`root_named`: ``root``, or ``cfg.data.root``).
    ``ctc_truth``: a Cell Tracking Challenge set's truth (``data.ctc_truth``: gold, silver, both).
    """
    root = Path(root)
    if not root.is_dir():
        raise no_data_folder(root, root_named(axes_setting))
    say = (lambda *args: None) if quiet else log.info
    given = (axes, axes_setting)
    with truth_read(ctc_truth):
        if (folder := _random_folder(root)) is None:
            return _fixed_split(root, problems, say, given)
        split = _seeded_split(
            folder, val_fraction, seed, problems, say, quiet=quiet, by_page=by_page, given=given
        )
    if folder != root:
        say("%s", _held_out_note(root, folder, split, run_dir))
    return split


def root_named(setting: AxesSetting) -> Spelled:
    """How lines name the data folder of a split whose axes ``setting`` names, as its caller
    gave both: a training's config key (:data:`~unetlab.data.io.DATA_AXES`,
    :data:`~unetlab.data.pairs.DATA_ROOT`), else split_pairs' arguments (:data:`SPLIT_ROOT`)."""
    return DATA_ROOT if setting == DATA_AXES else SPLIT_ROOT


def data_split(
    data,
    *,
    problems: list[str] | None = None,
    quiet: bool = True,
    run_dir=None,
    by_page: bool = False,
) -> tuple[list[Pair], list[Pair]]:
    """:func:`split_pairs` of a Config's ``data`` section (``root``, ``val_fraction``,
    ``seed``, ``axes``) as a training splits it, its lines naming ``cfg.data.axes``
    (:data:`~unetlab.data.io.DATA_AXES`), not split_pairs' ``axes=`` (``by_page``: as
    runs split before stacks were split by file, :func:`split_pairs`)."""
    split = dict(val_fraction=data.val_fraction, seed=data.seed, problems=problems, quiet=quiet)
    split |= dict(axes=data.axes, run_dir=run_dir, axes_setting=DATA_AXES, by_page=by_page)
    split |= dict(ctc_truth=data.ctc_truth)
    return split_pairs(data.root, **split)


def _random_folder(root: Path) -> Path | None:
    """The folder whose pairs a seeded random split of ``root`` splits (``root``, or its
    ``train/`` where only that holds a data set), or None where ``root``'s split is fixed
    (:func:`_fixed_split`)."""
    if split_kind(root) != "random":
        return None
    train_dir = sub_folder(root, "train")  # Train/ too
    return train_dir if not _has_layout(root) and _has_layout(train_dir) else root


def _fixed_split(root: Path, problems, say, given: tuple) -> tuple[list[Pair], list[Pair]]:
    """The split ``root`` fixes (:func:`split_kind`): its ``train/`` and ``val/`` folders,
    its COCO file or YOLO folders named for validation, its ``val.npz`` beside the other
    ``.npz`` data sets, else its VOC lists; ``given``: (axes, the AxesSetting that names
    them)."""
    if split_kind(root) == "folders":
        train_dir, val_dir = sub_folder(root, "train"), sub_folder(root, "val")
        say("using the split of %s: %s/ and %s/", root, train_dir.name, val_dir.name)
        return _find_all(root, train_dir, val_dir, problems=problems, given=given)
    if split_kind(root) == "coco":
        train_files, val_file = coco_val_split(root)
        say("using the split of %s: %s for validation", root, val_file.name)
        return _named_split(root, coco_stems(train_files), coco_stems([val_file]), problems, given)
    if split_kind(root) == "yolo":
        train, val = yolo_split(root)
        sides = (side_folders(root, side)[0] for side in ("train", "val"))
        say("using the split of %s: %s for training, %s for validation", root, *sides)
        return _named_split(root, train, val, problems, given)
    if split_kind(root) == "npz":
        train, val, tests = npz_val_split(root)
        say("%s", _npz_split_line(root, train, val, tests))
        return _named_split(root, train, [val], problems, given)
    return _voc_split(root, root / VOC_LISTS, problems, say, given)


def _npz_split_line(root: Path, train: list[str], val: str, tests: list[str]) -> str:
    """The line of the split of ``root``'s ``.npz`` data sets (:func:`npz_val_split`)."""
    shown = ", ".join(f"{stem}.npz" for stem in train)
    line = f"using the split of {root}: {shown} for training, {val}.npz for validation"
    if not tests:
        return line
    them = worded(len(tests), "it", "them")
    return (
        f"{line}; {', '.join(tests)} left out, a test split (evaluate --data {root} scores {them})"
    )


def seeded_val_splits(
    root: str | os.PathLike,
    *,
    val_fraction: float,
    seeds: Sequence[int],
    axes: str | None = None,
    ctc_truth: str = GOLD,
) -> Iterator[tuple[int, list[Pair]]]:
    """(seed, validation pairs) of :func:`split_pairs` of ``root`` with each of ``seeds``
    (quiet, pairing problems left out), the data set paired once for all of them; nothing
    where the split is fixed (train/ and val/ folders, VOC lists: no seed changes it). The
    plan's look for a seed that validates a class paired the set once a seed tried."""
    with truth_read(ctc_truth):
        if (folder := _random_folder(Path(root))) is None:
            return
        pairs = find_pairs(folder, problems=[], axes=axes, flag=DATA_ROOT, axes_setting=DATA_AXES)
    for seed in seeds:
        val = _split(pairs, val_fraction, seed, lambda *a: None, DATA_AXES.given)[1]
        yield seed, [pairs[i] for i in val]


def _held_out_note(root: Path, train_dir: Path, split: tuple[list, list], run_dir=None) -> str:
    """The line saying that ``root``'s ``train/`` alone trains (no ``val/`` beside it: the
    ``split``'s val of it validates, counted: data.val_fraction 0.01 of 4 images said '1% of
    its images held out' of the 1 it held out) and naming the other data sets beside it, a
    ``test/`` that no training image comes from, with the command that scores it with the
    best.pt of ``run_dir`` (RUN where not known) (audit s45 newuser: a StarDist-style
    ``train/`` + ``test/`` folder trained without a word): on ``test/`` (``testing/``) where
    there is one, else on the first (and so each other)."""
    others = [d for d in sorted(root.iterdir()) if d.is_dir() and d != train_dir and _has_layout(d)]
    held, count = len(split[1]), len(split[0]) + len(split[1])
    line = (
        f"{root}: training on {train_dir.name}/, {held or 'none'} of its {count} samples held "
        f"out for validation (no val/ beside it)"
    )
    if not others:
        return line
    names = "/, ".join(d.name for d in others)
    tests = [d for d in others if d.name.casefold() in SPLIT_NAMES["test"]]
    best = Path("RUN" if run_dir is None else run_dir) / "checkpoints" / "best.pt"
    command = unetlab_command("evaluate", "--checkpoint", best, "--data", (tests or others)[0])
    each = ", and so each other" if len(others) > 1 and not tests else ""
    return f"{line}; {names}/ not used: score the trained model on it with {command}{each}"


def _voc_split(
    root: Path, split_dir: Path, problems, say, given: tuple
) -> tuple[list[Pair], list[Pair]]:
    """The pairs named in a VOC ``ImageSets/Segmentation/{train,val}.txt`` (val.txt may be
    absent: no val); ``given``: (axes, the AxesSetting that names them)."""
    names = _read_split_file(split_dir / "train.txt")
    val_file = split_dir / "val.txt"
    val_names = _read_split_file(val_file) if val_file.is_file() else []
    say("using the VOC split of %s: %d train, %d val", split_dir, len(names), len(val_names))
    return _named_split(root, names, val_names, problems, given)


def _named_split(
    root: Path, names: list[str], val_names: list[str], problems, given: tuple
) -> tuple[list[Pair], list[Pair]]:
    """The pairs of ``root`` of the stems ``names`` and of ``val_names`` (none: no val)."""
    axes, setting = given
    found = dict(problems=problems, axes=axes, refuse_untiffed=False, axes_setting=setting)
    found["flag"] = root_named(setting)  # as the caller gave the data set
    with paired_said_once(root):  # one line of shapes paired for both parts
        train = find_pairs(root, names=names, **found)  # both parts' TIFFs refused below
        val = find_pairs(root, names=val_names, **found) if val_names else []
    refuse_untiffed_axes(root, [p.image for p in train + val], axes, setting)
    return train, val


def _seeded_split(
    folder: Path,
    val_fraction: float,
    seed: int,
    problems,
    say,
    *,
    quiet: bool,
    by_page: bool,
    given: tuple,
) -> tuple[list[Pair], list[Pair]]:
    """The pairs of ``folder`` split at random with ``seed``; an empty val said (unless
    ``quiet``, or a pairing problem was collected: that one is the reason); ``given``:
    (axes, the AxesSetting that names them)."""
    known = len(problems) if problems is not None else 0
    axes, setting = given
    found = dict(problems=problems, axes=axes, axes_setting=setting)
    pairs = find_pairs(folder, flag=root_named(setting), **found)
    if by_page:  # as runs split before s34: a stack's pages like separate images
        train_idx, val_idx = split_indices(len(pairs), val_fraction=val_fraction, seed=seed)
    else:
        train_idx, val_idx = _split(pairs, val_fraction, seed, say, setting.given)
    if not quiet and not val_idx and pairs and (problems is None or len(problems) == known):
        log.warning(
            "%s: %s, none kept for validation; add images or a val/ folder",
            folder,
            numbered(len(pairs), "sample"),
        )
    return [pairs[i] for i in train_idx], [pairs[i] for i in val_idx]


def _split(
    pairs: list[Pair], val_fraction: float, seed: int, say, axes_as: Spelled
) -> tuple[list[int], ...]:
    """(train, val) indices of ``pairs``: image by image (:func:`split_indices`) for single-page
    images; where some file is a stack, by whole files or a single stack's last pages, said
    in one line (:func:`unetlab.data.stack_split.stack_split`: neighbouring frames are near
    copies, audit s34 stacks 7; its warnings name the axes to give as ``axes_as``)."""
    if not split_whole(pairs):
        train, val = split_indices(len(pairs), val_fraction=val_fraction, seed=seed)
        if val and (note := one_sequence_note(pairs, [val])):
            say("%s", note)
        return train, val
    train, val, note = stack_split(pairs, val_fraction=val_fraction, seed=seed, axes_as=axes_as)
    if note:
        say("%s", note)
    return train, val


def training_split(data: dict | None, *, by_page: bool = False) -> tuple[list[Pair], list[Pair]]:
    """(train_pairs, val_pairs) of the data a checkpoint's run trained on, split again as
    training split them (:func:`split_pairs`) from its config's ``data`` section
    (``model.training_data``: ``root``, ``val_fraction``, ``seed``), without the split's log
    lines (they are training's report). Raises a DatasetError saying why there is none: no
    data folder recorded, the folder gone, or it no longer splits."""
    data = data or {}
    root = data.get("root")
    if not root:
        raise DatasetError("the checkpoint records no data folder")
    if not Path(root).is_dir():
        raise DatasetError(f"its data folder {root} is gone")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        return split_pairs(
            root,
            val_fraction=data.get("val_fraction", 0.2),
            seed=data.get("seed", 0),
            by_page=by_page,
            axes=data.get("axes"),
            axes_setting=DATA_AXES,  # the run's config key
            ctc_truth=data.get("ctc_truth", GOLD),  # a run of before s70: gold
        )
    except UnetlabError as exc:
        raise DatasetError(f"its data folder does not split as in training: {exc}") from exc
    finally:
        log.setLevel(level)


def data_folders(root: str | os.PathLike) -> list[Path]:
    """The folders the data set under ``root`` reads images or masks from (``images/`` and
    ``masks/``, those of ``train/`` and ``val/``, the folder of ISBI stacks), from its layout
    alone: the files need not pair up."""
    root = Path(root)
    return (list(layout_folders(root)) if _has_layout(root) else []) + split_folders(root)


@listed_once()  # root listed once for all its kinds (s74 review: 90 -> 121 ms, 3,000 files)
def split_kind(root: str | os.PathLike) -> str:
    """How :func:`split_pairs` splits the data set ``root``: ``"folders"`` (its ``train/``
    and ``val/``), ``"lists"`` (VOC's ``ImageSets/Segmentation/train.txt``), ``"random"``
    (``data.seed`` and ``data.val_fraction`` decide), ``"coco"`` (its COCO file named for
    validation), ``"yolo"`` (a YOLO set's ``images/train/`` and ``images/val/``) or ``"npz"``
    (a folder of ``.npz`` data sets, one named ``val.npz``: :func:`~unetlab.data.pairs.
    npz_val_split`): the fix a line on the split gives."""
    root = Path(root)
    if _has_layout(sub_folder(root, "train")) and _has_layout(sub_folder(root, "val")):
        return "folders"
    if (root / VOC_LISTS / "train.txt").is_file() and _has_layout(root):
        return "lists"
    if coco_val_split(root) is not None:
        return "coco"
    if yolo_split(root) is not None:
        return "yolo"
    if npz_val_split(root) is not None:
        return "npz"
    return "random"


#: a fixed :func:`split_kind`'s training and validation sides, and why no setting moves an
#: image between them ({setting}: the one that would in a random split)
_FIXED_SIDES = {
    "folders": ("train/", "val/", "{setting} changes no folder"),
    "lists": ("train.txt", "val.txt", "ImageSets/Segmentation"),
    "coco": ("the training COCO file", "the val one", "the COCO files split it"),
    "yolo": ("images/train/", "images/val/", "the YOLO folders split it"),
    "npz": ("the training .npz", "val.npz", "the .npz files' names split it"),
}
#: by the side an image is to reach: the word that takes it there, that side in a random
#: split, and what to do with the setting that moves it there (audit s43 and s50: the fix of
#: one kind of split was told for another)
_TOWARDS = {
    "val": ("into", "the validation images", "raise", "data.val_fraction"),
    "train": ("to", "the training images", "another", "data.seed"),
}


def split_move(split: str | None, to: str) -> str:
    """Where an image moves to be validated on (``to="val"``) or learnt from (``"train"``)
    in a split of kind ``split`` (:func:`split_kind`; None: not known, each kind's said):
    the end of a "move an image ..." fix, e.g. "from train/ into val/ (data.val_fraction
    changes no folder)"."""
    word, side, do, setting = _TOWARDS[to]
    if split == "random":
        return f"{word} {side} (a random split: {do} {setting})"
    train, val, why = _FIXED_SIDES[split or "folders"]
    start, end = (train, val) if to == "val" else (val, train)
    moved = f"from {start} {word} {end}"
    if split is None:
        where = "where the data set has train/ and val/ folders"
        return f"{word} {side} ({moved} {where}; a random split: {do} {setting})"
    return f"{moved} ({why.format(setting=setting)})"


def more_validation(root: str | os.PathLike) -> str:
    """How the data set ``root`` validates on more images, by its :func:`split_kind`: "add
    images to em/val/", "list more names in voc/ImageSets/Segmentation/val.txt" or "raise
    data.val_fraction" (which splits only a data set without either: said of a val/ folder
    or a VOC list, raising it changed nothing: audit s61 user). ``root`` is named by its
    folder's own name, "." too (review s61: "add images to /val/")."""
    root = Path(os.path.abspath(root))  # "." by its name; a link by its own
    split = split_kind(root)
    if split == "random":
        _, _, do, setting = _TOWARDS["val"]
        return f"{do} {setting}"
    if split == "folders":
        return f"add images to {root.name}/{sub_folder(root, 'val').name}/"
    if split == "coco":
        return f"annotate more images in {coco_val_split(root)[1].name}"
    if split == "yolo":
        return "add images to {} and their labels to {}".format(*side_folders(root, "val"))
    if split == "npz":
        return f"add images and their masks to {root.name}/{npz_val_split(root)[1]}.npz"
    return f"list more names in {root.name}/{VOC_LISTS.as_posix()}/{_FIXED_SIDES[split][1]}"


def split_folders(root: str | os.PathLike) -> list[Path]:
    """The folders the ``train/`` and ``val/`` of the data set ``root`` read images or
    masks from (none where it has no split): :func:`data_folders` less ``root``'s own, which
    a flat folder of many images takes a listing to find."""
    folders: list[Path] = []
    for folder in (sub_folder(Path(root), "train"), sub_folder(Path(root), "val")):
        if _has_layout(folder):
            folders += layout_folders(folder)
    return folders


def data_set_folders(folder: str | os.PathLike) -> list[Path]:
    """The folders of the whole data set ``folder`` belongs to (:func:`data_folders`):
    ``folder`` as a data folder, or as its ``images/`` or ``masks/`` (``--gt data/masks``),
    and the ``train/`` and ``val/`` beside a split's (``--gt data/val/masks``, ``--data
    data/val``: the training masks in ``data/train/masks`` too); ``folder`` itself always,
    first. All resolved: given relative, it came back as given beside its data set's
    resolved folders, the same folder twice."""
    folder = Path(folder).resolve()
    roots = [folder]
    if (above := data_set_above(folder)) is not None:
        roots.append(above)
        if above.name.casefold() in ("train", "val"):
            roots.append(above.parent)
    found = [folder] + [f for root in roots for f in data_folders(root)]
    if folder.name.casefold() in ("train", "val", "test"):
        found += split_folders(folder.parent)  # --data DATA/val: DATA/train's masks too
    return list(dict.fromkeys(found))


def _find_all(
    root: Path, *folders: Path, problems: list[str] | None, given: tuple
) -> tuple[list[Pair], ...]:
    """find_pairs of each folder (of the data set ``root``); the problems of all of them in
    one DatasetError (or added to ``problems``); ``axes`` refused in one line only where no
    folder holds a TIFF (a val/ of PNGs beside TIFFs in train/ is read as it is, as a PNG
    among them: :func:`~unetlab.data.io.file_axes`); ``given``: (axes, the AxesSetting that
    names them)."""
    axes, setting = given
    each = dict(axes=axes, refuse_untiffed=False, axes_setting=setting, flag=root_named(setting))
    if problems is not None:
        found = [find_pairs(folder, problems=problems, **each) for folder in folders]
    else:
        found, errors = [], []
        for folder in folders:
            try:
                found.append(find_pairs(folder, **each))
            except DatasetError as exc:
                errors.append(quoted(exc))
        if errors:
            raise DatasetError("; ".join(errors))
    refuse_untiffed_axes(root, [p.image for pairs in found for p in pairs], axes, setting)
    return tuple(found)


# --- label values ------------------------------------------------------------------------------


def _mask_files(pairs: Sequence[Pair]) -> list[Path]:
    return list(dict.fromkeys(p.mask for p in pairs))  # a stack's pages share one file


@dataclass(frozen=True)
class MaskScan:
    """What the masks of a data set hold: the values of each page (``masks``), and whether
    they hold object ids by where they sit or what they are (a folder named ``instances/``,
    outlines: :func:`~unetlab.data.names.holds_object_ids`); ``counts``: the pixels per
    value of all; ``stacks``: each mask file's pages as read, by path, for the loader to take
    (:class:`~unetlab.data.pairs.PairReader`'s ``masks``) rather than read them again."""

    masks: tuple[MaskValues, ...]
    instance_folder: bool
    stacks: dict[Path, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    @property
    def counts(self) -> dict[int, int]:
        return pixel_counts(self.masks)

    @property
    def values(self) -> list[int]:
        return sorted(self.counts)


def scan_masks(
    pairs: Sequence[Pair], *, problems: list[str] | None = None, target: str = "auto"
) -> MaskScan:
    """Read every mask file of ``pairs`` once and count its values.

    Raises one DatasetError naming every unreadable mask (RGB masks included: a ``target``
    of ``instances``, object ids, tells them an instance mask's fix), JPEG masks (lossy: values appear
    between the classes) and masks with non-integer values; with a ``problems`` list they
    are added to it instead and the other masks are counted.
    """
    found: list[str] = []
    scan = _scan(pairs, found, target)
    if problems is not None:
        problems += found
    elif found:
        raise problems_error(found)
    elif not scan.counts:
        raise DatasetError("no masks to read label values from")
    return scan


def _scan(pairs: Sequence[Pair], problems: list[str], target: str) -> MaskScan:
    masks: list[MaskValues] = []
    stacks: dict[Path, np.ndarray] = {}
    axes = {p.mask: mask_axes(p.mask, p.axes) for p in pairs}
    for path in _mask_files(pairs):
        if problem := jpeg_mask(path):
            problems.append(problem)
            continue
        try:
            stack = read_stack(path, mask=True, axes=axes[path])
        except UnetlabError as exc:
            problems.append(mask_said(exc, path, target))
            continue
        if problem := non_integer_mask(str(path), stack):
            problems.append(problem)
            continue
        masks += [MaskValues.of(page) for page in stack]
        stacks[path] = stack
    folder = any(holds_object_ids(p.mask) for p in pairs)
    return MaskScan(tuple(masks), folder, stacks)


def discover_label_values(
    pairs: Sequence[Pair], *, max_values: int = MAX_LABEL_VALUES, scan: MaskScan | None = None
) -> list[int]:
    """Sorted unique values over all masks of ``pairs`` (each mask file read once, or taken
    from a :func:`scan_masks` result ``scan``).

    Raises one DatasetError for what :func:`scan_masks` refuses, for data sets with more
    than ``max_values`` values, and for values that look like a blurred/lossy 2-class mask
    (many values, nearly all pixels at two of them).
    """
    scan = scan or scan_masks(pairs)
    counts = scan.counts
    values = sorted(counts)
    if len(values) > max_values:
        raise DatasetError(
            f"masks have {len(values)} distinct values ({_ellipsis(values)}): are they "
            "class-index masks? JPEG masks are lossy; save masks as PNG with one value per class "
            f"(or {said_as(TARGET_INSTANCES)} if each value is one object)"
        )
    if problem := lossy_problem(counts, ramp_share(scan.masks)):
        raise DatasetError(problem)
    return values


def _why_object_ids(pairs: Sequence[Pair]) -> str:
    """What makes the masks of ``pairs`` object ids by where they sit or what they are
    (:func:`~unetlab.data.names.holds_object_ids`), for the target's line."""
    return why_ids(next(p.mask for p in pairs if holds_object_ids(p.mask)))


def choose_target(
    setting: str,
    pairs: Sequence[Pair],
    *,
    scan: MaskScan | None = None,
    ignore_value: int | None = None,
) -> str:
    """``"semantic"`` or ``"instances"``: ``setting`` itself unless it is ``"auto"``, which
    reads the masks by the plan's rule (:func:`unetlab.data.fingerprint.instance_masks`, the
    ``ignore_value`` pixels left out; blurred 2-class masks stay semantic, to be refused
    there) and logs the choice."""
    if setting not in TARGETS:
        raise UnetlabError(f"data.target must be one of {', '.join(TARGETS)}, not {setting!r}")
    if setting != "auto":
        return setting
    scan = scan or scan_masks(pairs)
    found = instance_masks(scan.masks, folder_named=scan.instance_folder, ignore_value=ignore_value)
    if found and not scan.instance_folder:
        say_ids_by_void(scan.masks, ignore_value)
    if found:
        why = _why_object_ids(pairs) if scan.instance_folder else f"{len(scan.counts)} values"
        log.info(
            "masks hold object ids (%s): training the instance mode (background / boundary / "
            "interior); %s to read the values as classes",
            why,
            said_as(TARGET_SEMANTIC),
        )
    return "instances" if found else "semantic"


def _ellipsis(values: list[int], keep: int = 4) -> str:
    if len(values) <= 2 * keep:
        return ", ".join(map(str, values))
    return ", ".join(map(str, values[:keep])) + ", ..., " + ", ".join(map(str, values[-keep:]))


# --- loading and checking ----------------------------------------------------------------------


def load_samples(
    pairs: Sequence[Pair],
    *,
    label_values: Sequence[int],
    ignore_value: int | None = None,
    normalization: dict,
    in_channels: int | None = None,
    weight_map: dict | None = None,
    channel: int | None = None,
    exclude_rows: dict | None = None,
    nodata="auto",
    masks: dict[Path, np.ndarray] | None = None,
) -> list[Sample]:
    """Read, check, encode and normalise every pair once; samples in the order of ``pairs``.

    Args:
        pairs: from :func:`split_pairs` or :func:`unetlab.data.pairs.find_pairs`.
        label_values: mask value of each class index (``[0, 255]`` for ISBI).
        ignore_value: mask value of unlabelled pixels (-> ``IGNORE_INDEX``), or None.
        normalization: spec for :func:`unetlab.data.normalize.normalize`.
        in_channels: channels every image must have (None: all images alike).
        weight_map: None, or keyword arguments of :func:`unetlab.data.weightmap.weight_map`; the map
            is computed here, once per image.
        channel: read only this channel of each image (``data.channel``), or None for all.
        exclude_rows: rows of every image that are not sample (``data.exclude_rows``, a data
            bar: :mod:`unetlab.data.exclude`): their mask pixels are ``IGNORE_INDEX`` and the
            normalisation statistics are those of the other rows.
        nodata: which pixels of each image are no sample (``data.nodata``:
            :mod:`unetlab.data.nodata`; ``auto``: the GeoTIFF nodata tag and alpha 0): left
            out as ``exclude_rows`` are (their mask pixels ``IGNORE_INDEX``).
        masks: mask files' pages already read (:func:`scan_masks`' ``stacks``), taken from
            it rather than read again.

    Returns:
        :class:`Sample` list: image (C, H, W) float32, mask (H, W) int64, weight or None.

    Raises:
        DatasetError: one error listing every problem (unreadable file, RGB mask, size
            mismatch, unknown label values, wrong channel count) with its file and the fix.
    """
    label_values = [int(v) for v in label_values]
    exclude_rows = check_exclude_rows(exclude_rows)
    encode = _ClassEncoder(label_values, ignore_value, exclude_rows)
    how = dict(channel=channel, in_channels=in_channels, fix=encode.fix, nodata=nodata)
    loaded = _load(pairs, encode, **how, masks=masks)
    weigh = _weigher(weight_map)
    return [
        _sample(pair.name, image, normalization, mask, weigh(mask), exclude_rows, bad, header)
        for pair, image, mask, bad, header in loaded
    ]


@dataclass
class _ClassEncoder:
    """The ``encode`` of :func:`load_samples` (see :func:`_load`): a mask's values -> class
    indices, ``IGNORE_INDEX`` where ``ignore_value``, the excluded rows and the image's
    invalid pixels lie, noting as it goes every value the masks hold (``found``) and those
    no class has (``unknown``), for the fix (:meth:`fix`)."""

    label_values: list[int]
    ignore_value: int | None
    exclude_rows: dict | None
    unknown: set[int] = field(default_factory=set)
    found: set[int] = field(default_factory=set)

    def __call__(self, pair: Pair, raw: np.ndarray, invalid: np.ndarray | None) -> np.ndarray:
        values = self.label_values
        try:
            mask = _encode(raw, values, self.ignore_value, pair)
        except _UnknownValues as exc:
            self.unknown.update(exc.values - set(values))
            self.found.update(exc.values)
            raise
        if (left_out := either(region(mask.shape, self.exclude_rows), invalid)) is not None:
            mask = np.where(left_out, IGNORE_INDEX, mask)
        present = np.bincount(mask[mask >= 0], minlength=len(values)).nonzero()[0]
        self.found.update(values[k] for k in present.tolist())
        return mask

    def fix(self) -> str:
        """The fix for the unknown values met (:func:`_fix_hint`), or ""."""
        return _fix_hint(sorted(self.found), self.unknown)


def load_instance_samples(
    pairs: Sequence[Pair],
    *,
    normalization: dict,
    boundary_width: int = 1,
    ignore_value: int | None = None,
    in_channels: int | None = None,
    weight_map: dict | None = None,
    channel: int | None = None,
    exclude_rows: dict | None = None,
    nodata="auto",
    masks: dict[Path, np.ndarray] | None = None,
) -> tuple[list[Sample], dict]:
    """:func:`load_samples` for instance masks: each mask's object ids
    (:func:`unetlab.data.instances.instance_ids`) become the three-class target of
    :func:`unetlab.data.instances.boundary_target` (0 background, 1 boundary, 2 interior).

    ``weight_map``: keyword arguments of :func:`unetlab.data.weightmap.weight_map`; its objects
    are the objects' interiors, so the border term lies on the boundary and background pixels
    between touching objects. Pixels equal to ``ignore_value`` are ``IGNORE_INDEX``, and so
    are those in ``exclude_rows`` (no object lies there: a data bar stored as one id is no
    object, and objects it cuts are measured without it), and the ``nodata`` pixels of each
    image (:func:`load_samples`); ``masks``: as :func:`load_samples` takes them.

    Returns:
        (samples in the order of ``pairs``, :func:`unetlab.data.instances.object_statistics`
        of their whole objects (:func:`unetlab.data.object_sizes.sized`: not those cut by
        the image edge or ignored pixels, nor slivers) plus ``regions`` (all their objects)
        and ``boundary_width``).
    """
    exclude_rows = check_exclude_rows(exclude_rows)
    encode = _InstanceEncoder(boundary_width, ignore_value, exclude_rows)
    how = dict(channel=channel, in_channels=in_channels, nodata=nodata, masks=masks)
    loaded = _load(pairs, encode, ids=True, **how)
    _warn_instances(encode.binary, encode.split)
    samples = [
        _sample(
            pair.name,
            image,
            normalization,
            target,
            _instance_weight(target, ids, weight_map),
            exclude_rows,
            bad,
            header,
        )
        for pair, image, (target, ids), bad, header in loaded
    ]
    return samples, {**encode.statistics(len(loaded)), "boundary_width": int(boundary_width)}


@dataclass
class _InstanceEncoder:
    """The ``encode`` of :func:`load_instance_samples` (see :func:`_load`): a mask's object ids
    -> (three-class target, ids), noting as it goes each mask's object facts, the binary
    masks of several objects and the ids of several pieces."""

    boundary_width: int
    ignore_value: int | None
    exclude_rows: dict | None
    facts: list[dict] = field(default_factory=list)
    binary: list[str] = field(default_factory=list)
    split: list[str] = field(default_factory=list)

    def __call__(self, pair: Pair, raw: np.ndarray, invalid) -> tuple[np.ndarray, np.ndarray]:
        ignored = self._ignored(raw, either(invalid, coco_void(pair.mask, raw)))
        how = dict(boundary_width=self.boundary_width, ignore_value=self.ignore_value)
        target, ids = instance_target(raw, ignored, name=pair.mask_page, **how)
        ranks, given = compact_large_ids(ids)  # a tracker's ids (2e9 was a MemoryError)
        ids = ranks.astype(ids.dtype, copy=False)
        if _binary(raw) and ids.max() > 1:  # several components of one value
            self.binary.append(pair.name)
        pieces = split_pieces(ids)
        self.split.extend(f"{pair.name}:{i if given is None else given[i]}" for i in pieces)
        self.facts.append(region_facts(ids, ignored=ignored))
        return target, ids

    def _ignored(self, raw: np.ndarray, invalid) -> np.ndarray | None:
        """The mask's pixels no object lies in: ``ignore_value``, the excluded rows and the
        image's invalid pixels (a COCO mask's crowds among them: :func:`coco_void`); None
        where there are none of these."""
        ignored = raw == self.ignore_value if self.ignore_value is not None else None
        return either(either(ignored, region(raw.shape, self.exclude_rows)), invalid)

    def statistics(self, images: int) -> dict:
        """:func:`~unetlab.data.instances.object_statistics` of the whole objects of the masks
        encoded (:func:`~unetlab.data.object_sizes.sized`), with ``regions``: all their
        objects, those cut and slivers too (the count the plan's lines give)."""
        facts = joined(self.facts)
        stats = object_statistics(facts["area"][sized(facts)], images=images)
        return {**stats, "regions": len(facts["area"])}


def _load(
    pairs: Sequence[Pair],
    encode: Callable[[Pair, np.ndarray, np.ndarray | None], Any],
    *,
    channel: int | None,
    in_channels: int | None,
    fix: Callable[[], str] = lambda: "",
    nodata="auto",
    masks: dict[Path, np.ndarray] | None = None,
    ids: bool = False,
) -> list[tuple[Pair, np.ndarray, Any, np.ndarray | None, tuple]]:
    """The skeleton of both loaders: read every pair once (a stack's files once for all their
    pages; an image's TIFF opened once for its pixels, nodata and header: it was opened four
    times), ``encode(pair, raw_mask, invalid)`` its mask (``invalid``: the image's pixels
    that are no sample as ``nodata`` says, or None: :mod:`unetlab.data.nodata`), collect
    every problem (unreadable file, mask the encoder refuses, non-finite pixels, channel
    counts) and raise them as one error with ``fix()``; else ``(pair, image, encoded,
    invalid, header)`` (:func:`image_header` and the raw mask's dtype) in the order of
    ``pairs``. ``masks``: mask files already read (:func:`scan_masks`), taken rather than
    read again (opened twice); ``ids``: the masks are object ids
    (:func:`~unetlab.data.colour_masks.said_by`)."""
    if not pairs:
        raise DatasetError("no image/mask pairs to load")
    problems: list[str] = []
    loaded = []
    read = PairReader(channel, masks=masks, nodata=nodata)
    invalid = InvalidPages(read)
    headers = ImageHeaders()
    for pair in pairs:
        try:
            with keeping_open(pair.image):
                image, raw = read(pair)
                bad = invalid(pair)
                header = (*headers(pair, image), raw.dtype.name)
            encoded = encode(pair, raw, bad)
        except UnetlabError as exc:
            problems.append(said_by(exc, INSTANCE_MODE if ids else None))
            continue
        problems += _image_problems(pair, image, bad)
        loaded.append((pair, image, encoded, bad, header))
    problems += _channel_problems(loaded, in_channels)
    let_go()  # the files the plan read that this load did not take again
    if problems:
        raise problems_error(problems, fix=fix())
    return loaded


def _binary(raw: np.ndarray) -> bool:
    """Whether instance_ids reads the mask ``raw`` as binary (0 and one of binary_values), so
    that its objects are its connected components; a mask of 0 and another single value
    (one object, id 9) is not (audit s33 migrant 6)."""
    values = np.unique(raw)
    return len(values) == 2 and int(values[1]) in binary_values(raw.dtype)


def _warn_instances(binary: list[str], split: list[str]) -> None:
    if binary:
        log.warning(
            "%s (%s): their objects are the connected components, so touching "
            "objects count as one; save one id per object (16-bit PNG/TIFF) to separate them",
            numbered(len(binary), "binary mask"),
            _ellipsis(binary, 2),
        )
    if split:
        log.warning(
            "%s %s several separate pieces (%s): ids clipped (8-bit save?) or "
            "reused; each piece is trained as part of one object",
            numbered(len(split), "object id"),
            worded(len(split), "covers", "cover"),
            _ellipsis(split, 2),
        )


def _instance_weight(target: np.ndarray, ids: np.ndarray, options: dict | None):
    if options is None:
        return None
    from unetlab.data.weightmap import instance_weights

    return instance_weights(target, ids, **options)


class _UnknownValues(MadeAgain, DatasetError):
    def __init__(self, message: str, values: set[int]):
        super().__init__(message)
        self.values = values
        self.how = (message, values)  # pickled as made (MadeAgain)


def _encode(raw: np.ndarray, label_values: list[int], ignore_value, pair: Pair) -> np.ndarray:
    try:
        return encode_mask(raw, label_values, ignore_value=ignore_value, name=pair.mask_page)
    except DatasetError:
        ignored = {ignore_value} if ignore_value is not None else set()
        values = set(np.unique(raw).tolist()) - ignored
        lossy = " (a JPEG mask: lossy)" if pair.mask.suffix.lower() in LOSSY_SUFFIXES else ""
        shown = sorted(values - set(label_values))
        raise _UnknownValues(
            f"{pair.mask_page}{lossy}: {worded(len(shown), 'label value')} {_ellipsis(shown)} "
            f"{worded(len(shown), 'is', 'are')} not among the "
            f"classes' values {label_values}",
            values,
        ) from None


def _image_problems(pair: Pair, image: np.ndarray, invalid) -> list[str]:
    """Non-finite pixels outside ``invalid`` (a NaN nodata is left out, not refused)."""
    problem = nonfinite_pixels(pair.image_page, image, invalid)
    return [problem] if problem else []


def _channel_problems(loaded, in_channels: int | None) -> list[str]:
    return channel_problems(
        [(pair.image, channels_of(image)) for pair, image, *_ in loaded], in_channels
    )


def _fix_hint(found: list[int], unknown: set[int]) -> str:
    """The fix for unknown label values, given every value ``found`` in the masks."""
    if not unknown:
        return ""
    if len(found) > 32:
        return (
            "the masks hold many values: use PNG masks (not JPEG) with one value per class, "
            "not colours or blurred edges"
        )
    classes = set_to("data.label_values", found)  # quoted: the shell split its list (s54)
    return (  # said as the caller sets it (said_as: a notebook's fit was told the CLI's, s53)
        f"the masks hold the values {found}: if each is a class, {said_as(classes)} "
        f"({len(found)} classes); save unlabelled pixels as V and {said_as(IGNORE_VALUE_FIX)}; "
        "or fix the masks"
    )


#: the value unlabelled pixels were saved as, given as its caller sets it ("mark unlabelled
#: pixels with --set data.ignore_value=V" said no value was to be saved; review s57)
IGNORE_VALUE_FIX = Spelled(f"set {SOME_IGNORE_VALUE.python}", f"give {SOME_IGNORE_VALUE.cli}")


def _weigher(weight_map: dict | None) -> Callable[[np.ndarray], np.ndarray | None]:
    if weight_map is None:
        return lambda mask: None
    from unetlab.data.weightmap import weight_map as compute  # computed once per image, here

    options = {"ignore_index": IGNORE_INDEX, **weight_map}
    return lambda mask: np.asarray(compute(mask, **options), dtype=np.float32)


# --- training tiles ----------------------------------------------------------------------------


def crop_mirrored(array: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    """The (..., height, width) window at (top, left) of an (..., H, W) array, mirrored
    (reflect) where it leaves the array; a new array."""
    window = reflect_window(array, top, left, height, width, leading=False)
    return window.copy() if np.may_share_memory(window, array) else window


def crop_filled(
    array: np.ndarray, top: int, left: int, height: int, width: int, fill
) -> np.ndarray:
    """The (height, width) window at (top, left) of an (H, W) array, ``fill`` outside it."""
    h, w = array.shape
    out = np.full((height, width), fill, dtype=array.dtype)
    y0, y1 = max(top, 0), min(top + height, h)
    x0, x1 = max(left, 0), min(left + width, w)
    if y0 < y1 and x0 < x1:
        out[y0 - top : y1 - top, x0 - left : x1 - left] = array[y0:y1, x0:x1]
    return out


def center_crop(array: np.ndarray, size: int) -> np.ndarray:
    """The central (..., size, size) part of an (..., H, W) array."""
    h, w = array.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return array[..., top : top + size, left : left + size]


MAX_DRAWS = 32  # label windows drawn for a tile before one without labelled pixels is taken


class TileDataset(Dataset):
    """Random training tiles: item ``i`` of epoch ``e`` is drawn with
    ``np.random.default_rng([seed, e, i])``, so runs and resumes repeat exactly.

    Each item picks a sample (probability proportional to its area) and an
    ``output_size`` x ``output_size`` label window anywhere in it (``edge_windows``: its
    centre anywhere in it, the window reaching past the edge, so that edge pixels train
    about half as often as central ones, not almost never: :mod:`unetlab.data.windows`),
    drawn again (up to
    ``MAX_DRAWS`` times) while it holds no labelled pixel (sparse labels: three quarters of
    16 px windows held none, steps that train nothing; a fully labelled mask draws once, as
    before); the input window is that
    window grown by ``(input_size - output_size) // 2`` px on every side, mirrored outside the
    image. Label pixels outside the image are ``IGNORE_INDEX``. ``augment(image, mask, weight,
    rng=rng)`` (e.g. :class:`unetlab.data.transforms.Augment`) sees the input-size window
    (mask and weight too), which are then centre-cropped to the output size.

    Items, by ``(epoch, index)`` (a plain ``index`` is epoch 0): (image (C, input_size,
    input_size) float32 tensor, target (output_size, output_size) int64, weight (output_size,
    output_size) float32, all ones without a map). Item ``(e, i)`` is drawn from
    ``rng([seed, e, i])``: the dataset holds no epoch state, so a worker process holding an
    old copy of it draws any epoch's tiles, and a resumed run finds them again.
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        *,
        input_size: int,
        output_size: int,
        augment: Callable | None = None,
        tiles_per_epoch: int,
        seed: int = 0,
        edge_windows: bool = False,
    ):
        if not samples:
            raise UnetlabError("TileDataset needs at least one sample")
        if output_size < 1 or input_size < output_size or (input_size - output_size) % 2:
            raise UnetlabError(
                f"input_size {input_size} and output_size {output_size} do not fit: the input "
                "must be the output plus the same border on every side (use model.output_size)"
            )
        if tiles_per_epoch < 1:
            raise UnetlabError(f"tiles_per_epoch must be positive, not {tiles_per_epoch}")
        self.samples = list(samples)
        self.input_size, self.output_size = int(input_size), int(output_size)
        self.margin = (self.input_size - self.output_size) // 2
        self.augment = augment
        self.tiles_per_epoch = int(tiles_per_epoch)
        self.seed = int(seed)
        self.edge_windows = bool(edge_windows)
        areas = np.array([s.mask.size for s in self.samples], dtype=np.float64)
        self.probabilities = areas / areas.sum()
        self.partial = [bool((s.mask == IGNORE_INDEX).any()) for s in self.samples]

    def __len__(self) -> int:
        return self.tiles_per_epoch

    def draw(self, index: int, epoch: int = 0) -> tuple[int, int, int]:
        """(sample index, top, left) of item ``(epoch, index)``'s output window."""
        return self._draw(np.random.default_rng([self.seed, epoch, index]))

    def _draw(self, rng: np.random.Generator) -> tuple[int, int, int]:
        for _ in range(MAX_DRAWS):
            k = int(rng.choice(len(self.samples), p=self.probabilities))
            h, w = self.samples[k].mask.shape
            top, left = (
                window_start(h, self.output_size, rng, edge=self.edge_windows),
                window_start(w, self.output_size, rng, edge=self.edge_windows),
            )
            if not self.partial[k] or self._labelled(k, top, left):
                break
        return k, top, left

    def _labelled(self, k: int, top: int, left: int) -> bool:
        """Whether sample ``k``'s label window at (top, left) holds a labelled pixel."""
        size = self.output_size
        window = self.samples[k].mask[max(top, 0) : top + size, max(left, 0) : left + size]
        return bool((window != IGNORE_INDEX).any())

    def __getitem__(self, item: int | tuple[int, int]):
        epoch, index = item if isinstance(item, tuple) else (0, item)
        if not 0 <= index < self.tiles_per_epoch:
            raise IndexError(f"tile {index} out of range (tiles_per_epoch {self.tiles_per_epoch})")
        rng = np.random.default_rng([self.seed, epoch, index])
        k, top, left = self._draw(rng)
        sample = self.samples[k]
        m, size_in, size_out = self.margin, self.input_size, self.output_size
        image = crop_mirrored(sample.image, top - m, left - m, size_in, size_in)
        if self.augment is None:
            mask = crop_filled(sample.mask, top, left, size_out, size_out, IGNORE_INDEX)
            weight = None if sample.weight is None else _crop_weight(sample, top, left, size_out)
        else:
            mask = crop_filled(sample.mask, top - m, left - m, size_in, size_in, IGNORE_INDEX)
            weight = (
                None if sample.weight is None else _crop_weight(sample, top - m, left - m, size_in)
            )
            image, mask, weight = self.augment(image, mask, weight, rng=rng)
            mask = center_crop(mask, size_out)
            weight = None if weight is None else center_crop(weight, size_out)
        if weight is None:
            weight = np.ones((size_out, size_out), np.float32)
        return (
            torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)),
            torch.from_numpy(np.ascontiguousarray(mask, dtype=np.int64)),
            torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32)),
        )


def _crop_weight(sample: Sample, top: int, left: int, size: int) -> np.ndarray:
    return crop_filled(sample.weight, top, left, size, size, np.float32(0.0))
