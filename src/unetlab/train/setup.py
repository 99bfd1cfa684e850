"""What a run trains on and what it trains: the data set (:func:`prepare_data`), its class
weights, the net (:func:`build_model`) and its tile sizes."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from unetlab.config import CLASS_WEIGHTS, Config
from unetlab.data.appearance import training_appearance
from unetlab.data.classes import (
    DatasetClasses,
    class_names_from,
    dataset_classes,
    dataset_palette,
)
from unetlab.data.colour import same_kind
from unetlab.data.ctc_partial import warn_partial_truth
from unetlab.data.datasets import (
    choose_target,
    data_split,
    dataset_stats,
    discover_label_values,
    foreground_stats,
    load_instance_samples,
    load_samples,
    scan_masks,
    split_kind,
    split_move,
)
from unetlab.data.decathlon import DATASET_JSON, refuse_unlisted_labels
from unetlab.data.fingerprint import CLASS_VALUES, TARGET_INSTANCES, object_ids_note
from unetlab.data.h5 import is_h5_name
from unetlab.data.instances import CLASS_NAMES, object_statistics
from unetlab.data.labels import IGNORE_INDEX, instances
from unetlab.data.mask_reading import reads_masks_as_config
from unetlab.data.mrc import is_mrc_name
from unetlab.data.names import coco_view
from unetlab.data.nifti import is_nifti
from unetlab.data.normalize import (
    CT_MEASURED,
    channels_of,
    contrast_floor,
    percentiles_of,
    with_floor_dtype,
)
from unetlab.data.object_sizes import joined, left_out, region_facts, sized
from unetlab.data.pairs import (
    Pair,
    PairReader,
    problems_error,
    refuse_no_root,
    trained_channel,
)
from unetlab.data.split_record import describe_pairs
from unetlab.data.tiffmeta import DATA_AXES_AS, PageAxes, read_page_axes
from unetlab.data.transforms import STAIN_OFF
from unetlab.data.unlabelled_planes import unlabelled_planes, warn_unlabelled_planes
from unetlab.data.weightmap import (
    background_network,
    named_network,
    problem_line,
    trained_background,
)
from unetlab.errors import DatasetError, UnetlabError, said_as, set_to, spelled
from unetlab.inference.pages import given_page_axes
from unetlab.inference.tta import fitting_tta
from unetlab.losses import (
    AUTO_IMBALANCE,
    AUTO_POWER,
    class_pixel_counts,
    imbalance,
    median_frequency_weights,
)
from unetlab.models import EncoderUNet, UNet
from unetlab.models.loading import to_be_filled
from unetlab.models.pretrained import load_encoder_weights
from unetlab.plan import declared_names
from unetlab.plan.loss import NO_CLASS_WEIGHTS
from unetlab.words import numbered

log = logging.getLogger(__name__)


@dataclass
class Data:
    train: list
    val: list
    label_values: list[int]
    class_names: list[str]
    objects: dict | None = None  # object_record of the masks
    normalization: dict = field(default_factory=lambda: {"mode": "per_image"})
    palette: list[list[int]] | None = None  # (256, 3) colours of the mask values, palette masks
    ignore_value: int | None = None  # the mask value that counted nowhere (set or VOC's void)
    pairs: tuple[list[Pair], list[Pair]] = ([], [])  # the files of train and val
    appearance: dict | None = None  # the training images as read: unetlab.data.appearance


@reads_masks_as_config
def prepare_data(
    cfg: Config,
    split: tuple[list[Pair], list[Pair]] | None = None,
    *,
    run_dir: str | os.PathLike | None = None,
) -> Data:
    """Split, check and load the data set of ``cfg.data`` (one DatasetError lists every problem).

    ``data.target`` (``auto`` reads the masks, :func:`unetlab.data.datasets.choose_target`)
    decides whether mask values are classes or object ids (then the three classes
    background / boundary / interior are trained). Palette masks (VOC) bring their colours,
    ``class_names.txt`` beside the data its class names. ``split``: the (train, val) pairs
    to load (a resumed run's record, :func:`recorded_split`) instead of splitting the folder;
    ``run_dir``: the run it loads for, whose best.pt the split's line names (a ``test/`` that
    does not train: :func:`unetlab.data.datasets.split_pairs`)."""
    d = cfg.data
    refuse_no_root(d.root)
    problems: list[str] = []  # the pairs' and the mask files' problems, raised together
    train_pairs, val_pairs = split or data_split(d, problems=problems, quiet=False, run_dir=run_dir)
    pairs = train_pairs + val_pairs
    scan = scan_masks(pairs, problems=problems, target=d.target) if d.label_values is None else None
    if problems:
        raise problems_error(problems)
    # the masks as scanned: the markers read alone
    warn_partial_truth(pairs, _scanned(scan), truth=d.ctc_truth)
    check_stain_channels(cfg, pairs)  # before the images are loaded
    read = functools.cache(_page_axes)  # each stack's header read once for both (s69)
    say_bare_pages(pairs, cfg.model.in_channels, read)
    target = d.target
    if target == "auto" and scan is not None:
        target = choose_target("auto", pairs, scan=scan, ignore_value=d.ignore_value)
    normalization = d.normalization or default_normalization(cfg)  # measured by the loaders
    weight_map = {"w0": d.w0, "sigma": d.sigma} if d.weight_map else None
    axes = functools.cache(functools.partial(stack_axes, pairs, read))  # read where needed
    if target == "instances":
        stacks = (pairs, axes())
        data = _instance_data(d, cfg, train_pairs, stacks, normalization, weight_map, scan)
    else:
        data = _class_data(d, cfg, train_pairs, pairs, scan, normalization, weight_map)
    data.pairs = (list(train_pairs), list(val_pairs))
    refuse_unlabelled_validation(data.val, val_pairs)
    refuse_unlabelled_training(data.train, train_pairs)  # instance masks (classes: before)
    _warn_unlabelled_planes(data, pairs, axes)
    floored = with_contrast_floor(data.normalization, data.train)
    data.normalization = with_floor_dtype(floored, {s.dtype for s in data.train if s.dtype})
    data.appearance = samples_appearance(data.train, train_pairs)
    return data


def _warn_unlabelled_planes(data: Data, pairs: list[Pair], axes) -> None:
    """:func:`warn_unlabelled_planes` of the stacks (``axes()``: :func:`stack_axes`, read
    only where a plane left unannotated trains as a class, s70) among
    ``pairs`` whose training targets ``data`` holds, object ids' (0 their background) or a
    class mask's where mask value 0 is a class, the one a plane left unannotated trains
    as (s69: a z-stack of 0/1 masks drawn on a few slices was not said); the value named
    to mark such planes with is none of its classes' (a 0/255 mask's 255), the most of the
    mask's type as it was loaded (:attr:`~unetlab.data.datasets.Sample.mask_dtype`)."""
    if 0 not in data.label_values:  # mask value 0 ignored: an unannotated plane is too
        return
    by_mask = {mask: page_axes for (_, mask), page_axes in axes().items()}
    samples = data.train + data.val
    masks = [s.mask for s in samples]
    zero, taken = data.label_values.index(0), data.label_values
    dtypes = {p.mask: np.dtype(s.mask_dtype) for p, s in zip(pairs, samples) if s.mask_dtype}
    line = unlabelled_planes(
        pairs, masks, IGNORE_INDEX, by_mask, background=zero, taken=taken, dtypes=dtypes
    )
    warn_unlabelled_planes(line, by_mask)


def refuse_unlabelled_validation(val: list, pairs: list[Pair]) -> None:
    """DatasetError in one line where validation images (samples ``val`` of ``pairs``) are
    given but none holds a labelled pixel (every mask pixel data.ignore_value, or no-data):
    the val mIoU is NaN at every validation, so no best.pt would be written while the run
    names one."""
    if not val or any((s.mask != IGNORE_INDEX).any() for s in val):
        return
    raise DatasetError(
        f"no validation image holds a labelled pixel ({describe_pairs(pairs)}: every mask "
        "pixel is data.ignore_value or no-data): the val mIoU cannot be measured, nor best.pt "
        "chosen; label them, or validate on other images (a val/ folder, another data.seed)"
    )


def refuse_unlabelled_training(train: list, pairs: list[Pair]) -> None:
    """DatasetError in one line where no training image (samples ``train`` of ``pairs``)
    holds a labelled pixel: nothing is learnt (object-id masks all data.ignore_value, or
    no-data; class masks are refused so as their classes are counted)."""
    if not train or any((s.mask != IGNORE_INDEX).any() for s in train):
        return
    raise DatasetError(_NOTHING_TO_LEARN.format(pairs=describe_pairs(pairs)))


_NOTHING_TO_LEARN = (
    "no training image holds a labelled pixel ({pairs}: every mask pixel is "
    "data.ignore_value or no-data): there is nothing to learn; label them"
)


def measured(spec: dict, d, train_pairs: list[Pair], *, background: int, ignore_value) -> dict:
    """``spec`` with the statistics training measures where it asks for them: the ``dataset``
    mode's (each channel's mean and std over the training images,
    :func:`unetlab.data.datasets.dataset_stats`) and the ``ct`` mode's (over their foreground,
    :func:`unetlab.data.datasets.foreground_stats`: the mask values other than ``background``,
    the one training takes for its background class, and ``ignore_value``)."""
    if spec.get("mode") not in ("dataset", "ct") or "mean" in spec:
        return spec
    how = dict(channel=d.channel, nodata=d.nodata, exclude_rows=d.exclude_rows)
    if spec["mode"] == "ct":
        ignored = dict(background=background, ignore_value=ignore_value)
        return _ct_measured(spec, train_pairs, how | ignored)
    mean, std = dataset_stats(train_pairs, **how)
    log.info(
        "normalisation: each channel's mean and std over the %d training images (dataset: the "
        "same for every image, absolute values kept): mean %s, std %s",
        len(train_pairs),
        _figures(mean),
        _figures(std),
    )
    return {**spec, "mean": mean, "std": std}


def _ct_measured(spec: dict, train_pairs: list[Pair], how: dict) -> dict:
    """``spec`` (mode ``ct``) with its foreground statistics, said in one line."""
    found = foreground_stats(train_pairs, spec, **how)
    low, high = percentiles_of(spec)
    log.info(
        "normalisation: clipped to the %g-%g percentiles of the foreground (mask values other "
        "than %d) of the %d training images, %s to %s, then standardised with its mean %s and "
        "std %s (ct: the same for every image, as nnU-Net's CT normalisation)",
        *(low, high, how["background"], len(train_pairs)),
        *(_figures(found[k]) for k in CT_MEASURED),
    )
    return {**spec, **found}


def _figures(values: list[float]) -> str:
    return ", ".join(f"{v:.4g}" for v in values)


def samples_appearance(train: list, pairs: list[Pair]) -> dict | None:
    """The checkpoint record of how the training samples looked as read
    (:func:`unetlab.data.appearance.training_appearance` of each :class:`Sample`'s
    ``appearance``), which prediction compares its images with, with what the channels of
    their files ``pairs`` were where the samples have several (each sample's ``channels``,
    read as it was loaded: :func:`unetlab.data.colour.same_kind`); None where a sample
    lacks it."""
    stats = [s.appearance for s in train]
    if not stats or any(a is None for a in stats):
        return None
    several = train[0].image.shape[0] > 1
    kinds = {p.image: s.channels for p, s in zip(pairs, train)} if several else {}
    return training_appearance(stats, [s.dtype for s in train], same_kind(kinds.values()))


def _page_axes(path, pages: int) -> PageAxes:
    """:func:`read_page_axes` of a training file, its warning naming ``cfg.data.axes``
    (:data:`DATA_AXES_AS`) to Python."""
    return read_page_axes(path, pages, axes_as=DATA_AXES_AS)


def say_bare_pages(pairs: list[Pair], in_channels: int | None, read=_page_axes) -> None:
    """One warning where training images' pages record no axes: read as planes, trained
    plane by plane (as predict reads them for a 1-channel model); where their count is the
    model's ``in_channels``, that predict reads such a file as its channels. Nothing where
    the user gives the axes (``data.axes``: the pairs'). ``read``: a file's page axes
    (:func:`_page_axes`; prepare_data's keeps them for :func:`stack_axes`). A data set in
    one ``.npz`` holds images, not planes: its pages are said of no file."""
    bare_stacks = (p for p in pairs if p.pages > 1 and p.axes is None and not p.data_set_file)
    stacks = {p.image: p.pages for p in bare_stacks}
    bare = [(f, n) for f, n in stacks.items() if read(f, n).letters == "Q"]
    if not bare:
        return
    (first, pages), more = bare[0], f" and {len(bare) - 1} more" if len(bare) > 1 else ""
    channels = pages == in_channels
    log.warning(
        "%s%s: %d pages and no axis metadata: read as %d planes, trained plane by plane%s; if "
        "they are channels give %s or save the file with its axes (tifffile.imwrite(path, a, "
        "imagej=True, metadata={'axes': 'CYX'}))",
        *(first.name, more, pages, pages),
        f", though predict gives the {pages} pages of such a file to a {pages}-channel model "
        "as its channels"
        if channels
        else "",
        said_as(DATA_AXES_AS).format("CYX"),  # each caller's (Python was told --axes, s57)
    )


def check_stain_channels(cfg: Config, pairs: list[Pair] | None = None) -> None:
    """UnetlabError in one line when ``augment.stain`` is on and the images are not RGB
    (the first of ``pairs``, read as training reads it, ``data.channel`` and all; None: the
    first of the data set's), before the data is loaded: the stain jitter of a grey image
    failed at the first training tile, after the whole data set was loaded."""
    a = cfg.augment
    if not (a.enabled and a.stain > 0):
        return
    if pairs is None:
        # the pairing problems are prepare_data's to report, all of them, in the run
        split = data_split(cfg.data, problems=[])
        pairs = [p for side in split for p in side]
    if not pairs:
        return
    try:
        image, _ = PairReader(cfg.data.channel)(pairs[0])
    except UnetlabError:  # a problem that loading the data reports, with the others
        return
    channels = channels_of(image)
    if channels == 3:
        return
    said = (
        f"augment.stain={a.stain:g} varies the stains of RGB (bright-field colour) images, and "
        f"{pairs[0].image.name} has {numbered(channels, 'channel')}: "
    )  # the fix as the caller sets it (a notebook's fit was told --set, s53); the name
    # stays out of a format (a{x}.tif raised KeyError)
    raise UnetlabError(
        **spelled(lambda off: f"{said}{off} turns it off, or train on RGB images", STAIN_OFF)
    )


def with_contrast_floor(spec: dict, train: list) -> dict:
    """``spec`` with the ``floor`` of its std or percentile range (per image modes, unless
    set): half the least contrast of the training samples (each :class:`Sample`'s
    ``contrast``, measured when it was normalised), so that prediction does not stretch an
    empty field's noise into objects. Training is unchanged by it (every training image's
    contrast is twice the floor or more). Each dtype of the training images gets its own, in
    its units: the most common one's is ``floor`` with its ``dtype``, the others' are
    ``floors`` (dtype -> floor). One floor for all put a float reflectance image's 0.13 on
    16-bit images (audit s37 bands); the most common dtype's alone told the model's own 8-bit
    training images that its floor was in the 16-bit values it trained on (s48)."""
    if spec.get("mode") not in ("per_image", "percentile") or "floor" in spec or not train:
        return spec
    dtype = most_common_dtype(train)
    if dtype is None:
        floor = contrast_floor([s.contrast for s in train])
        _say_floor(floor, "")
        return {**spec, "floor": floor}
    floors = {
        d: contrast_floor([s.contrast for s in train if s.dtype == d]) for d in _dtypes(train)
    }
    floor, others = floors.pop(dtype), floors
    each = "".join(f", {f} of {d}" for d, f in others.items())
    _say_floor(floor, f" of dtype {dtype}{each}" if others else "")
    return {**spec, "floor": floor, "dtype": dtype} | ({"floors": others} if others else {})


def _dtypes(train: list) -> list[str]:
    """The dtypes the samples of ``train`` were read as, in their order."""
    return list(dict.fromkeys(s.dtype for s in train))


def _say_floor(floor: list[float], dtypes: str) -> None:
    log.info(
        "normalisation floor %s: half the least contrast of the training images%s (an image "
        "with less, e.g. an empty field, is not stretched to it)",
        floor,
        dtypes,
    )


def most_common_dtype(train: list) -> str | None:
    """The dtype most of the samples of ``train`` were read as (the first on a tie), or None
    where one has no recorded dtype."""
    names = [s.dtype for s in train]
    if any(name is None for name in names):
        return None
    return max(dict.fromkeys(names), key=names.count)


def _scanned(scan) -> dict | None:
    """The mask files ``scan`` (:func:`unetlab.data.datasets.scan_masks`, or None) read, for
    the loading to take rather than read them again (each was read twice)."""
    return scan.stacks if scan is not None else None


def _instance_data(d, cfg: Config, train_pairs, read, normalization, weight_map, scan) -> Data:
    """Object-id masks trained as background / boundary / interior (``read``: the pairs
    and their :func:`stack_axes`)."""
    pairs, axes = read
    normalization = measured(
        normalization, d, train_pairs, background=0, ignore_value=d.ignore_value
    )
    samples, stats = load_instance_samples(
        pairs,
        normalization=normalization,
        boundary_width=d.boundary_width,
        ignore_value=d.ignore_value,
        in_channels=cfg.model.in_channels,
        weight_map=weight_map,
        channel=d.channel,
        exclude_rows=d.exclude_rows,
        nodata=d.nodata,
        masks=_scanned(scan),
    )
    log.info(
        "objects in the masks: %s, median area %.0f px (5-95%%: %.0f-%.0f px)%s",
        *(objects_counted(stats), stats["area_median"], stats["area_p05"], stats["area_p95"]),
        z_stacks_note(axes),
    )
    train, val = samples[: len(train_pairs)], samples[len(train_pairs) :]
    record = object_record("instances", stats) | training_pixel_size(spacings(train_pairs, train))
    return Data(
        train, val, [0, 1, 2], list(CLASS_NAMES), record, normalization, ignore_value=d.ignore_value
    )


def objects_counted(stats: dict) -> str:
    """The data check's count of the objects of instance masks (``stats``:
    :func:`~unetlab.data.datasets.load_instance_samples`'): all of them, as the plan's
    lines count them, and where some are cut by the image edge or unlabelled pixels (or are
    slivers) the whole ones the sizes are of (audit s38 3d: the plan said "21% of 1143
    objects", the check "objects in the masks: 977" of the same masks)."""
    regions, whole = stats.get("regions", stats["count"]), stats["count"]
    if regions == whole:
        return str(whole)
    return (
        f"{regions} (the sizes of the {whole} whole ones: {regions - whole} cut by the "
        "image edge or unlabelled pixels, or slivers, left out)"
    )


def z_stacks_note(axes: dict[tuple[Path, Path], PageAxes]) -> str:
    """Where the masks of the pairs of :func:`stack_axes` ``axes`` include z-stacks (files
    whose pages are Z planes, by their axes as recorded or given), how their objects train:
    plane by plane, a nucleus counted in each of its planes (the count it follows), joined in
    3-D again by predict --objects-3d; "" otherwise (audit s38 3d: 977 objects for 180
    nuclei, unsaid). Counted by image: one of two masks (a CTC set's gold and silver truth)
    is one z-stack (s72: said as two)."""
    z = list(dict.fromkeys(image for (image, _), at in axes.items() if "Z" in at.letters))
    if not z:
        return ""
    return (
        f" (the planes of {numbered(len(z), 'z-stack')}, {z[0].name}{' ...' * (len(z) > 1)}: trained plane "
        "by plane, a nucleus counted in each of its planes; predict --instances --objects-3d "
        "joins them into 3-D objects)"
    )


def stack_axes(pairs, read=_page_axes) -> dict[tuple[Path, Path], PageAxes]:
    """The page axes of the stacks among ``pairs`` by (image, mask): the axes the user gives
    (``data.axes``), else the files' as ``read`` (:func:`_recorded`); those of pages of no
    recorded axes ("Q", read as planes) where neither records Z or T, as a stack saved by
    tifffile.imwrite(path, a) (review s68 user3d: its sparse planes were not said)."""
    stacks = {(p.image, p.mask): (p.pages, p.axes) for p in pairs if p.pages > 1}
    found = {}
    for files, (n, given) in stacks.items():
        axes = given_page_axes(files[0], given, n) if given else _recorded(files, n, read)
        if axes.axes:
            found[files] = axes
    return found


def _recorded(files: tuple[Path, Path], pages: int, read) -> PageAxes:
    """The page axes of a stack's (image, mask) ``files`` of ``pages`` pages as ``read``:
    the image's where it records Z or T, else the mask's where it does (its header not
    read where the image's tell: s69), else pages of no recorded axes ("Q") of either."""
    image = read(files[0], pages)
    if image.letters not in ("", "Q"):
        return image
    mask = read(files[1], pages)
    return mask if mask.letters not in ("", "Q") or not image.letters else image


def _class_data(d, cfg: Config, train_pairs, pairs, scan, normalization, weight_map) -> Data:
    """Mask values as classes (with the data set's palette and class names, if any)."""
    palette = dataset_palette([p.mask for p in train_pairs])
    names, source = _declared_names(cfg)
    classes = _label_values(d, pairs, scan, palette, names)
    label_values, ignore_value, class_names, *_ = classes
    if source == DATASET_JSON:  # MSD's, nnU-Net's: its labels are the classes
        refuse_unlisted_labels(classes.found, names, Path(d.root) / source)
    if d.class_names and (unknown := set(names) - set(label_values)):
        raise UnetlabError(
            f"data.class_names has values {sorted(unknown)} that are not in data.label_values "
            f"{label_values}"
        )
    background = trained_background(label_values, class_names, ignore_value)
    weight_map = with_background(weight_map, background, len(label_values))
    ignored = dict(background=label_values[background], ignore_value=ignore_value)
    normalization = measured(normalization, d, train_pairs, **ignored)
    samples = load_samples(
        pairs,
        label_values=label_values,
        ignore_value=ignore_value,
        normalization=normalization,
        in_channels=cfg.model.in_channels,
        weight_map=weight_map,
        channel=d.channel,
        exclude_rows=d.exclude_rows,
        nodata=d.nodata,
        masks=_scanned(scan),
    )
    train, val = samples[: len(train_pairs)], samples[len(train_pairs) :]
    unlearnable = dict(pairs=train_pairs, val=val, split=split_kind(d.root), ignored=ignore_value)
    _warn_unlearnable(train, label_values, class_names, source, **unlearnable)
    masks = [s.mask for s in samples]
    regions = [_region_facts(mask, background) for mask in masks]  # each mask labelled once
    facts = regions[: len(train)]
    problem = _say_background(train, background, class_names, facts, label_values, weight_map)
    stats = class_object_statistics(masks, background, len(label_values), regions=regions)
    if problem is not None:  # predict --instances says it again (s67: 1 grain an image)
        stats["background_problem"] = problem
    return Data(
        train,
        val,
        list(label_values),
        class_names,
        object_record("semantic", stats) | training_pixel_size(spacings(train_pairs, train)),
        normalization,
        None if palette is None else palette.tolist(),
        ignore_value=ignore_value,
    )


def class_object_statistics(masks, background: int, classes: int, regions=None) -> dict:
    """:func:`unetlab.data.instances.object_statistics` of the 4-connected regions of every
    class but ``background`` in ``masks`` (class indices; the ignore index is none), and
    under ``by_class`` those of each class (by index; None for the background), so that
    prediction can set each class's least object size apart (ObjectOptions.class_min_areas).
    Only whole regions count (:func:`unetlab.data.object_sizes.sized`): not those cut by the
    image's edge or the ignored pixels, nor slivers (a gland tile set's cut glands and 1-px
    specks gave glands a least size of 1 px: 43,433 "glands" on a slide with 40).
    ``regions``: each mask's :func:`_region_facts`, where the caller has them."""
    if regions is None:
        regions = [_region_facts(mask, background) for mask in masks]
    facts = joined(regions)
    keep = sized(facts)
    log.info("object sizes from %d whole regions of the masks%s", keep.sum(), left_out(facts, keep))
    areas, kinds = facts["area"][keep], facts["kind"][keep]
    stats = object_statistics(areas, images=len(masks))
    by_class = [
        None if k == background else object_statistics(areas[kinds == k], images=len(masks))
        for k in range(classes)
    ]
    return {**stats, "by_class": by_class}


def _region_facts(mask, background: int) -> dict:
    mask = np.asarray(mask)
    ids = instances(mask, boundary_class=background)
    return region_facts(ids, mask, ignored=mask == IGNORE_INDEX)


def with_background(weight_map: dict | None, background: int, classes: int) -> dict | None:
    """The weight map's keywords with its objects made of every class but ``background``
    (:func:`unetlab.data.weightmap.background_class`; 0 is the map's own default)."""
    if weight_map is None or background == 0:
        return weight_map
    return {**weight_map, "foreground": [k for k in range(classes) if k != background]}


def _say_background(
    train, background: int, class_names: list[str], regions, label_values, weights
) -> str | None:
    """Warn when the background looks like the objects (with border weights or not: the
    objects predict finds are of the same classes), and return the line; say it alone where
    the user named the network class themselves (roads: :func:`named_network`); else, with
    border ``weights``, log which class their gaps lie in. ``regions``: each of ``train``'s
    masks' :func:`_region_facts`, its classes' regions not labelled again."""
    masks = [s.mask for s in train]
    if found := background_network(masks, background, class_names, regions):
        line = problem_line(class_names, label_values, background, *found)
        if named_network(class_names, label_values, background, found[0]):
            log.info("%s", line)  # s67 review: a road network named road warned, every run
            return None
        log.warning("%s", line)
        return line
    if weights is not None:
        log.info(
            "weight map: the objects are the regions of every class but %r (index %d), the "
            "background whose gaps get the border weights",
            class_names[background],
            background,
        )
    return None


def _declared_names(cfg: Config) -> tuple[dict[int, str], str | None]:
    """(``{mask value: name}``, where they come from): :func:`unetlab.plan.declared_names`
    and ``data.class_names`` or ``class_names.txt``; ``({}, None)`` when nothing names them."""
    d = cfg.data
    if d.class_names or d.root is None:
        names = declared_names(cfg)
        return (names, "data.class_names") if names else ({}, None)
    # a table in masks/: named with its folder (review s64), read once with its names (s65)
    names, path = class_names_from(d.root)
    if not names:
        return {}, None
    log.info("class names from %s", path)
    shown = str(path.relative_to(d.root)) if path.is_relative_to(d.root) else path.name
    return dict(names), shown


#: the masks whose void value training finds by itself, as its line names them
_VOID_KINDS = (
    "palette masks: VOC's outlines; colour masks: the colour table's void; labelme's __ignore__"
)


def _label_values(d, pairs, scan, palette, declared=None) -> DatasetClasses:
    """The classes (:func:`~unetlab.data.classes.dataset_classes`, the rule ``unetlab
    weightmap`` reads masks by too): ``data.label_values``, or the values found in the masks
    less the ignored one; palette masks' void value (VOC's 255) is ignored unless set. Where
    the class names (``declared``: value -> name) name every value found, the classes are
    the named ones, all of them: a class with no pixels in these masks keeps its output and
    its value."""
    if d.label_values is not None:
        set_values = dict(label_values=d.label_values, ignore_value=d.ignore_value)
        return dataset_classes((), palette, declared, **set_values)
    found = discover_label_values(pairs, scan=scan)
    classes = dataset_classes(found, palette, declared, ignore_value=d.ignore_value)
    ignore_value = classes.ignore_value
    if d.ignore_value is None and ignore_value is not None:
        of = "COCO's crowd regions" if pairs and coco_view(pairs[0].mask) else _VOID_KINDS
        log.info("mask value %d is void (%s) and is ignored", ignore_value, of)
    # said, not decided:
    ids = None if classes.named or scan is None else object_ids_note(scan.masks)
    log.log(
        logging.INFO if ids is None else logging.WARNING,
        "mask values found: %s, one class each (%s sets them otherwise)%s",
        *(classes.found, said_as(CLASS_VALUES), "" if ids is None else f"; {ids}"),
    )
    if len(classes.label_values) > 16 and palette is None:  # palette masks: classes
        log.warning(
            "%d classes: if each mask value is one object (8-bit instance masks), %s or name "
            "the mask folder instances/",
            *(len(classes.label_values), said_as(TARGET_INSTANCES)),
        )
    return classes


#: the words of :func:`_warn_unlearnable`'s line on several classes no mask holds
_THEM = ("classes", "their outputs", "them", "them")


def _warn_unlearnable(
    train,
    label_values,
    class_names,
    source: str | None,
    *,
    pairs: list[Pair],
    val=(),
    split: str = "random",
    ignored: int | None = None,
) -> None:
    """Warn once of each class with no pixels in the training masks (the net cannot learn
    it): those in validation masks (``val``) with the number of images and the move that
    lets it learn them (:func:`split_move` of the ``split``'s kind), the others as
    named in no mask, but the class of the ``ignored`` mask value (``data.label_values``
    may list it: the masks hold it and training ignores it, s67 noticed it said as held by
    no mask); DatasetError where no training mask
    (of ``pairs``) holds a labelled pixel (the loss is 0 at every step: nothing is learnt,
    while the run ended as if trained)."""
    pixels, _ = class_pixel_counts([s.mask for s in train], len(label_values))
    if train and not any(pixels):
        raise DatasetError(_NOTHING_TO_LEARN.format(pairs=describe_pairs(pairs)))
    held = images_holding([s.mask for s in val], len(label_values))
    missing = [
        (f"{v} ({n})", int(h))
        for v, n, k, h in zip(label_values, class_names, pixels, held)
        if k == 0 and v != ignored
    ]
    if absent := [name for name, h in missing if not h]:
        log.warning(  # kept: the table's classes and colours stay the model's (review s64)
            "%s %s that no training or validation mask holds: kept as %s with no pixels (the "
            "net keeps %s but cannot learn %s); add training masks that hold %s",
            f"{source} names" if source else "data.label_values name",
            ", ".join(absent),
            *(("a class", "its output", "it", "it") if len(absent) == 1 else _THEM),
        )
    for name, h in missing:  # the data check's notes leave these to this line (s50 roads)
        if h:
            log.warning(
                "mask value %s is in %d validation image%s and in no training mask: the net "
                "keeps its output but cannot learn it; move an image holding it %s",
                *(name, h, "s" * (h > 1), split_move(split, "train")),
            )


def images_holding(masks, num_classes: int) -> np.ndarray:
    """(K,) int64: of ``masks`` ((H, W) class indices, negative: ignored), how many hold a
    pixel of each class."""
    held = np.zeros(num_classes, dtype=np.int64)
    for mask in masks:
        held += np.bincount(mask[mask >= 0].ravel(), minlength=num_classes)[:num_classes] > 0
    return held


def object_record(target: str, stats: dict) -> dict:
    """The checkpoint part ``objects``: ``{"target": "instances" | "semantic", **stats}`` with
    the object statistics of the training masks
    (:func:`unetlab.data.instances.object_statistics`; for ``semantic`` the objects are the
    4-connected regions of every class but the background,
    :func:`unetlab.data.weightmap.background_class`). Post-processing takes its defaults from
    it."""
    return {"target": target, **stats}


def spacings(pairs: list[Pair], samples: list) -> dict:
    """Each image file of ``pairs`` -> the (y, x) micrometres per pixel it records, or None,
    as its ``samples`` read it (:func:`unetlab.data.datasets.image_header`)."""
    return {p.image: s.spacing for p, s in zip(pairs, samples)}


def training_pixel_size(spacings: dict) -> dict:
    """``{"pixel_size": [y, x]}``: the median of the micrometres per pixel the training
    images record (``spacings``: each image file's, TIFF tags, OME-XML:
    :func:`~unetlab.data.fingerprint.file_pixel_size`, or None), where half of them or more
    record one; else ``{}``. Predicting a slide level of another size warns of it (audit s32
    histo 6)."""
    sizes = [s for s in spacings.values() if s]
    if not sizes or 2 * len(sizes) < len(spacings):
        # said, so that predict's silence on scale is understood (README; s56 new user: a
        # PNG set trained in silence, then counted other objects at a pyramid's level 1)
        some = f"{len(sizes)} of the {len(spacings)}" if sizes else f"none of the {len(spacings)}"
        log.info(
            "pixel size: %s training images record one%s: the checkpoint records none, so "
            "predict cannot say when an image's pixels are another size; record it in every "
            "training %s",
            some,
            ", under half" if sizes else "",
            _size_fix([f for f, s in spacings.items() if not s]),
        )
        return {}
    y, x = np.median(np.asarray(sizes, dtype=float), axis=0)
    return {"pixel_size": [float(f"{y:.6g}"), float(f"{x:.6g}")]}


#: how each format records its pixel size, as :func:`training_pixel_size` advises it
_SIZE_FIXES = {
    "nifti": "NIfTI volume (its pixdim, with a unit in xyzt_units: mm)",
    "mrc": "MRC file (its cell size: IMOD's alterheader -del)",
    "h5": "HDF5 file (its dataset's resolution attribute in nm, (z, y, x) or (y, x), as "
    "CREMI's: h5py's f[name].attrs['resolution'] = (40, 4, 4); an ilastik export records none)",
    "tiff": "TIFF (Fiji: Image > Properties)",
}


def _size_fix(files: list) -> str:
    """The fix of the pixel size line for the ``files`` recording none: their own
    format's (a NIfTI set was told to record it in its TIFFs, s70)."""
    kinds = {_size_kind(f) for f in files}
    return ", or ".join(fix for kind, fix in _SIZE_FIXES.items() if kind in kinds)


def _size_kind(path) -> str:
    """The format whose fix :data:`_SIZE_FIXES` gives of the file ``path``."""
    if is_nifti(path):
        return "nifti"
    return "mrc" if is_mrc_name(path) else "h5" if is_h5_name(path) else "tiff"


def default_normalization(cfg: Config) -> dict:
    """``data.normalization`` left null: ImageNet's for ImageNet weights, else per image."""
    return {"mode": "imagenet" if cfg.model.encoder_weights else "per_image"}


def refuse_class_weight_count(choice, class_names, k: int) -> None:
    """UnetlabError where ``choice`` (``train.class_weights``) is a list of other than one
    weight per class of the ``k``, naming the classes in their order (``--check`` too,
    which said nothing of 3 weights for 11 road classes: user2 s62)."""
    if not isinstance(choice, list) or len(choice) == k:
        return
    names = ", ".join(map(str, class_names)) if len(class_names) == k else None
    order = f" ({names})" if names else ""
    choices = ", ".join(CLASS_WEIGHTS[:-1]) + f" or {CLASS_WEIGHTS[-1]}"
    raise UnetlabError(
        f"train.class_weights has {len(choice)} weights for {k} classes{order}: give one "
        f"weight per class in that order, or {choices}"
    )


def class_weights(cfg: Config, data: Data, num_classes: int) -> list[float] | None:
    """The cross-entropy class weights ``train.class_weights`` asks for (None: unweighted)."""
    choice = cfg.train.class_weights
    k = max(num_classes, 2)
    if isinstance(choice, list):
        refuse_class_weight_count(choice, data.class_names, k)
        return list(choice)
    if choice == "none":
        return None
    pixels, present = class_pixel_counts([s.mask for s in data.train], k)
    ratio = imbalance(pixels)
    if choice == "auto" and cfg.data.target == "instances":
        # the boundary class is each object's own rim: weighting it up grows every object
        # (Kromp nuclei: matched areas 1.22-1.29x the annotation weighted, 1.09x not)
        log.info("class weights: none (auto: an instance target's rare class is the objects' rim)")
        return None
    if choice == "auto" and (ratio < AUTO_IMBALANCE or cfg.data.weight_map):
        return None
    power = 1.0 if choice == "median_frequency" else AUTO_POWER
    weights = median_frequency_weights(pixels, present, power=power)
    why = f"classes {ratio:.0f}x unequal, " if choice == "auto" else ""
    log.info(
        "class weights (%smedian frequency, %s%s to turn off): %s",
        "square root of " if power != 1 else "",
        why,
        said_as(NO_CLASS_WEIGHTS),
        _weights_said(data.class_names, weights, pixels),
    )
    return weights.tolist()


def _weights_said(names: Sequence[str], weights, pixels) -> str:
    """``sky 0.81, road 1.2, person unused (no pixels)``: each class's weight, a class with
    no training pixels said as such, not as the weight 1 it keeps and never weighs a pixel
    by (review s64)."""
    return ", ".join(
        f"{n} {w:.3g}" if p else f"{n} unused (no pixels)"
        for n, w, p in zip(names, weights, pixels)
    )


def build_model(cfg: Config, data: Data, *, drawn: bool = True) -> UNet | EncoderUNet:
    """The configured net (a UNet, or an EncoderUNet with its ImageNet weights loaded), with
    the classes, label values, normalisation, palette and object record of the data (an
    instance model records no label values: its classes are no mask values). ``drawn``
    False: no initial weights drawn nor ImageNet weights read, the net's tensors hold no
    values yet: a resume's ``last.pt`` gives them all (:func:`_net`)."""
    overrides = cfg.model.overrides()
    n_values = len(data.label_values)
    if n_values < 2:
        raise UnetlabError(
            f"the masks hold {numbered(n_values, 'label value')} {data.label_values}: segmentation needs "
            "at least two classes; check the masks, or list them in data.label_values"
        )
    overrides.setdefault("num_classes", n_values)
    overrides.setdefault("in_channels", data.train[0].image.shape[0])
    if overrides["num_classes"] not in (n_values, 1) or (
        overrides["num_classes"] == 1 and n_values != 2
    ):
        raise UnetlabError(
            f"model.num_classes is {overrides['num_classes']} but the masks have {n_values} label "
            f"values {data.label_values}: set model.num_classes to {n_values} (or 1 for a sigmoid "
            "net on 2 values)"
        )
    model = _net(cfg, overrides, drawn=drawn)
    model.classes = list(data.class_names)
    instance_mode = data.objects is not None and data.objects["target"] == "instances"
    model.label_values = None if instance_mode else list(data.label_values)
    model.normalization = dict(data.normalization)
    model.objects = data.objects
    model.palette = data.palette
    model.ignore_value = data.ignore_value
    model.tta = fitting_tta(cfg.augment)  # what predict --tta averages (inference.tta)
    # the one channel of the images it reads (or a list, or None), and its name there
    first = data.pairs[0][0] if data.pairs[0] else None
    model.channel, model.channel_names = trained_channel(cfg.data.channel, first)
    model.appearance = data.appearance  # what predict compares its images with
    if isinstance(cfg.train.label_offset, list):
        model.label_offset = tuple(cfg.train.label_offset)
    return model


def _net(cfg: Config, overrides: dict, *, drawn: bool) -> UNet | EncoderUNet:
    """The configured net; ``drawn`` False: built on the meta device, then given CPU memory
    (:func:`~unetlab.models.loading.to_be_filled`): the paper net's 31 M weights drawn twice
    took 0.2-0.7 s of a resume that then copied its own over them."""
    if not drawn:
        with torch.device("meta"):
            model = _built(cfg, overrides)
        return to_be_filled(model)
    model = _built(cfg, overrides)
    if cfg.model.encoder != "none" and cfg.model.encoder_weights:
        load_encoder_weights(model, cfg.model.encoder_weights)
    return model


def _built(cfg: Config, overrides: dict) -> UNet | EncoderUNet:
    """The configured net, its weights drawn on the current default device."""
    if cfg.model.encoder == "none":
        return UNet.from_preset(cfg.model.preset, **overrides)
    return EncoderUNet(cfg.model.encoder, **overrides)


def tile_sizes(model: UNet, tile_size: int, samples) -> tuple[int, int]:
    """(input, output) tile size; UnetlabError naming good sizes if invalid or larger than
    every training image. Images smaller than the tile are kept: their tiles are padded with
    unlabelled pixels, as validation's are (said once, naming them)."""
    try:
        output = model.output_size(tile_size)
    except UnetlabError as exc:
        raise UnetlabError(f"data.tile_size: {exc}") from None
    small = [s for s in samples if min(s.mask.shape) < output]
    if len(small) < len(samples):
        if small:
            log.info(
                "%d of %d training images are smaller than the %d px tiles (%s): their tiles "
                "are padded with unlabelled pixels",
                *(len(small), len(samples), output, ", ".join(s.name for s in small[:3])),
            )
        return tile_size, output
    largest = max(min(s.mask.shape) for s in samples)
    fits = [
        n
        for n in model.valid_input_sizes(largest + 2 * model.border, 8)
        if model.output_size(n) <= largest
    ]
    said = (
        f"data.tile_size {tile_size} gives {output} px outputs, larger than every training "
        f"image (the largest's shorter side is {largest} px): use "
    )
    fix = set_to("data.tile_size", max(fits) if fits else model.min_input_size)
    raise UnetlabError(**spelled(lambda setting: said + setting, fix))
