"""``unetlab weightmap``: the paper's border weight map of masks, as training makes it.

unetlab weightmap ../shared/data/isbi2012/train/masks/00.png --output wm/
unetlab weightmap masks/ --output wm/ --label-values 255 0 --class-names cell membrane
unetlab weightmap nuclei/masks/ --output wm/ --instances --ignore-value 255
unetlab weightmap nuclei/masks/ --output wm/ --instances --boundary-width 2
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from unetlab.cli.common import user_path
from unetlab.errors import UnetlabError

log = logging.getLogger(__name__)

#: how a refusal of an output tells the fix: its names are fixed, its folder is not
ANOTHER_OUTPUT = "give another --output"


def add_parser(sub) -> None:
    p = sub.add_parser(
        "weightmap",
        help="write the paper's border weight map of masks (float32 TIFF + PNG preview)",
        description="Write the weight map w(x) = w_c(x) + w0 exp(-(d1 + d2)^2 / 2 sigma^2) "
        "(Ronneberger et al. 2015, eq. 2) of each mask, as data.weight_map makes it for "
        "training: <stem>_weights.tif (float32, the weights) and <stem>_weights.png (a "
        "preview: black is 0, white the largest weight) in --output. The objects are the "
        "regions of every class but the background: the class named background, else "
        "membrane, else, of two classes, one named a boundary (boundary, edge, contour, "
        "outline, wall, border, grain boundary: --class-names), else that of mask value 0, "
        "else the first class. With --instances "
        "the masks hold object ids (0 = background): the map of training's instance mode "
        "(data.target: instances).",
    )
    p.add_argument(
        "masks", nargs="+", metavar="MASK", type=user_path, help="mask files, folders or globs"
    )
    p.add_argument(
        "--output", required=True, metavar="DIR", type=user_path, help="folder for the maps"
    )
    p.add_argument("--w0", type=float, default=10.0, help="border weight height (default 10)")
    p.add_argument("--sigma", type=float, default=5.0, help="border width, px (default 5)")
    p.add_argument(
        "--label-values",
        type=int,
        nargs="+",
        metavar="V",
        help="mask value of each class index (default: the sorted values found in the masks)",
    )
    p.add_argument(
        "--class-names", nargs="+", metavar="NAME", help="a name per class, e.g. membrane cell"
    )
    p.add_argument("--ignore-value", type=int, metavar="V", help="mask value that weighs 0")
    _add_instance_flags(p)
    p.add_argument(
        "--overwrite", action="store_true", help="replace files there that unetlab did not write"
    )
    p.set_defaults(run=run)


def _add_instance_flags(p) -> None:
    """--instances and the boundary width of its map."""
    p.add_argument(
        "--instances",
        action="store_true",
        help="the masks hold object ids (0 = background), as data.target=instances trains "
        "them: the map of their background / boundary / interior, the border term between "
        "touching objects (without it, each id would be a class)",
    )
    p.add_argument(
        "--boundary-width",
        type=int,
        metavar="PX",
        help="with --instances: the boundary class's width around each object, as "
        "data.boundary_width trains it; wider boundaries leave smaller interiors, between "
        "which the border term lies (default: training's, 1)",
    )


def run(args) -> int:
    from unetlab.data.io import find_images, write_png, write_tiff
    from unetlab.data.weightmap import weight_preview
    from unetlab.outputs import claim_files

    if args.w0 < 0 or args.sigma <= 0:
        raise UnetlabError(
            f"--w0 must be at least 0 and --sigma above 0, not {args.w0:g} and {args.sigma:g}"
        )
    _check_boundary_width(args)
    paths = find_images(args.masks, cases=False)
    if not paths:
        raise UnetlabError(f"no mask images in {' '.join(args.masks)}; give mask files or folders")
    if len(stems := {p.stem for p in paths}) < len(paths):
        raise UnetlabError(
            f"{len(paths) - len(stems)} masks share a file stem with another: their maps would "
            "have one name; run once per folder"
        )
    if args.instances:  # before every mask is read (its flags' clash was never said)
        _refuse_class_flags(args)
    masks = _read_masks(paths, instances=args.instances)
    names = _names(paths, args.masks)  # each line names a mask one way
    if args.instances:
        _label_ids(masks, args.ignore_value, names)
        how = dict(w0=args.w0, sigma=args.sigma)
        weigh = functools.partial(_instance_map, boundary_width=args.boundary_width, **how)
    else:
        weigh = _class_weigher(args, {names[p]: mask for p, mask in masks.items()}, paths)
    out = Path(args.output)
    _refuse_among_masks(out, paths)
    targets = {p: (out / f"{p.stem}_weights.tif", out / f"{p.stem}_weights.png") for p in paths}
    files = [f for pair in targets.values() for f in pair]
    # its names are fixed (<mask stem>_weights.tif): the fix is another folder (s61 review)
    how = dict(overwrite=args.overwrite, command="weightmap", elsewhere=ANOTHER_OUTPUT)
    claim_files(files, inputs=paths, **how)
    for path, (tif, png) in targets.items():
        weights, what = weigh(masks[path], name=names[path])
        write_tiff(tif, weights)
        write_png(png, weight_preview(weights))
        print(
            f"{names[path]}: weights {weights.min():.2f}..{weights.max():.2f} (mean "
            f"{weights.mean():.2f}; {what}) -> {tif}, {png}"
        )
    return 0


def _names(paths: list[Path], given: list[str]) -> dict[Path, str]:
    """How the lines name each mask of ``paths``, as predict's do
    (:func:`~unetlab.inference.folders.relative_path`): a file of the one folder ``given``
    by its name in it, any other (a file given alone, a glob's, several folders') by its
    path as given. The class masks' lines gave paths, the --instances ones names (s57)."""
    from unetlab.inference.folders import relative_path

    folder = Path(given[0]) if len(given) == 1 and Path(given[0]).is_dir() else None
    return {p: relative_path(p, folder) for p in paths}


def _read_masks(paths: list[Path], *, instances: bool) -> dict:
    """Each mask as stored; a colour one refused with the fix of object ids where
    ``instances`` (it was a class mask's: "save masks as class indices", rev D)."""
    from unetlab.data.io import ColourMaskError, read_mask

    try:
        return {p: read_mask(p) for p in paths}
    except ColourMaskError as e:
        if not instances:
            raise
        raise UnetlabError(e.ids_line("--instances")) from None


def _class_weigher(args, masks: dict, paths: list[Path]):
    """The function weighing each class mask (``masks``: by name, all read: their classes
    are those given, else training's of the values found in them all: :func:`_classes`)."""
    from unetlab.data.weightmap import held_values, mask_classes

    held = held_values(masks)  # each mask's values found once
    ignore, label_values, class_names, named = _classes(args, paths, held)
    values, classes = mask_classes(
        masks, label_values=label_values, class_names=class_names, ignore_value=ignore, held=held
    )
    _say_object_ids(masks, given=named)
    how = dict(label_values=values, ignore_value=ignore, w0=args.w0)
    return functools.partial(_class_map, names=classes, sigma=args.sigma, **how)


def _classes(args, paths: list[Path], held: dict) -> tuple:
    """(ignore value, label values, class names, whether they are named) the masks are
    weighed by: those given, else training's (:func:`~unetlab.data.classes.dataset_classes`)
    of the values ``held`` (each mask's), the masks' palette (a palette PNG's, a colour
    table's) and their data set's names (:func:`_data_set_names`), said in one line where a
    void or names are found (user2 s62: the void of RGB road masks was weighed as one more
    class, the background said as '0'; s63: class_names.txt beside grey masks went unread)."""
    from unetlab.data.classes import dataset_classes, dataset_palette
    from unetlab.data.weightmap import check_found_classes

    given = (args.ignore_value, args.label_values, args.class_names)
    if any(v is not None for v in given):
        return *given, True
    check_found_classes(held, None)  # the values found: no image, ids, unlabelled -1
    names, source = _data_set_names(paths)
    palette = dataset_palette(paths)
    classes = dataset_classes(set().union(*held.values()), palette, names)
    if classes.ignore_value is None and not names:
        return None, None, None, False  # mask_classes: the values found, named as values
    _say_classes(source or "the palette masks", classes.ignore_value)
    return classes.ignore_value, classes.label_values, classes.class_names, classes.named


def _data_set_names(paths: list[Path]) -> tuple[dict | None, Path | str | None]:
    """({mask value: name}, the file naming them) of the masks' data set, as training reads
    its root's (:func:`~unetlab.data.classes.read_class_names`: class_names.txt, else the
    colour table there or in its masks folder) where the masks' folders name one root
    (:func:`~unetlab.data.classes.masks_root`), else the one colour table the masks are read
    through (its names None where it names not every class); (None, None) where neither."""
    from unetlab.data.classes import class_names_from, masks_root
    from unetlab.data.colour_table import find_colour_table

    roots = {masks_root(p.resolve().parent) for p in paths}
    if len(roots) == 1 and (root := roots.pop()) is not None:  # training's rule, alone
        names, path = class_names_from(root)  # the root's table read once (s65)
        return (names, path) if names else (None, None)
    tables = {t.source: t for p in paths if (t := find_colour_table(p)) is not None}
    if len(tables) == 1:
        (table,) = tables.values()
        return table.class_names(), table.source
    return None, None


def _say_classes(source, void: int | None) -> None:
    """The line saying where the classes are read from, and the void that weighs 0."""
    print(
        f"classes from {source}"
        + (f"; mask value {void}, void, weighs 0" if void is not None else "")
        + ", as training reads them (--ignore-value, --label-values, --class-names set others)"
    )


def _class_map(mask, *, names: list[str], name: str, **options) -> tuple:
    """The weights of a class mask and what its line says: the background class."""
    from unetlab.data.weightmap import mask_weight_map

    weights, background = mask_weight_map(mask, class_names=names, **options)
    return weights, f"background {names[background]!r}"


def _instance_map(labelled, *, name: str, boundary_width: int | None, **options) -> tuple:
    """The weights of a mask's object ids and ignored pixels (:func:`_label_ids`: the ids
    as int32 again, as :func:`~unetlab.data.weightmap.mask_instance_ids` gave them), as
    training's instance mode makes them with ``boundary_width`` (None: training's default),
    and what its line says: the objects (``options``: ``w0``, ``sigma``)."""
    import numpy as np

    from unetlab.config import DataSection
    from unetlab.data.weightmap import ids_weight_map
    from unetlab.words import numbered

    width = DataSection().boundary_width if boundary_width is None else boundary_width
    ids, ignored = labelled
    weights, objects = ids_weight_map(
        ids.astype(np.int32), ignored, boundary_width=width, **options
    )
    return weights, f"{numbered(objects, 'object')}, background / boundary {width} px / interior"


def _check_boundary_width(args) -> None:
    """UnetlabError for a --boundary-width below 0, or given without --instances (a class
    mask has no boundary class of its own)."""
    if args.boundary_width is None:
        return
    if not args.instances:
        raise UnetlabError(
            "--boundary-width is the boundary class of --instances (masks of object ids); "
            "give --instances, or leave --boundary-width out for a class mask"
        )
    if args.boundary_width < 0:
        raise UnetlabError(
            f"--boundary-width must be at least 0 (0: no boundary class), not {args.boundary_width}"
        )


def _label_ids(masks: dict, ignore_value: int | None, names: dict) -> None:
    """Replace each mask in ``masks`` by its object ids and ignored pixels
    (:func:`~unetlab.data.weightmap.mask_instance_ids`), labelled once (each was twice, s57),
    each named as ``names`` names it;
    DatasetError for the first whose values are no object ids (negative ones not
    ``ignore_value``, fractions), before --output is made: it was, then left holding only
    its record of outputs (s56)."""
    from unetlab.data.weightmap import mask_instance_ids

    for path, mask in masks.items():
        ids, ignored = mask_instance_ids(mask, ignore_value=ignore_value, name=names[path])
        masks[path] = _held(ids), ignored if ignored is not None and ignored.any() else None


def _held(ids):
    """Object ids 0..n held in the least unsigned dtype of n until weighed
    (:func:`_instance_map` widens them back): every mask is labelled before the first map
    is written, and int32 ids of 8-bit masks held 4 times the masks as stored."""
    import numpy as np

    return ids.astype(np.min_scalar_type(int(ids.max(initial=0))))


def _refuse_class_flags(args) -> None:
    """UnetlabError where --instances is given with a class mask's options (not
    --ignore-value: no label in either kind of mask, as training takes it in both)."""
    given = [f for f, v in _CLASS_FLAGS.items() if getattr(args, v) is not None]
    if given:
        raise UnetlabError(
            f"--instances reads the masks as object ids (0 = background), which are no "
            f"classes: {' and '.join(given)} name the classes of a class mask; give "
            "--instances or those"
        )


#: the options of a class mask, which --instances does not take
_CLASS_FLAGS = {"--label-values": "label_values", "--class-names": "class_names"}


def _say_object_ids(masks: dict, *, given: bool) -> None:
    """Say where the masks read as classes look like object ids (each at least 4 values,
    each one region: a Kromp nuclei mask of 28 ids weighed 28 classes, up to 343), naming
    --instances, unless their classes are ``given`` (values or names); never decided on,
    as classes (organs) can look so too."""
    from unetlab.data.fingerprint import MaskValues, one_object_each

    if given or not one_object_each([MaskValues.of(m) for m in masks.values()], files_least=1):
        return
    log.warning(
        "the masks look like object ids (each value one region): each id is weighed as a "
        "class here; if each value is one object, --instances makes the map training's "
        "instance mode does"
    )


def _refuse_among_masks(out: Path, paths: list[Path]) -> None:
    """UnetlabError if ``out`` is a folder of the masks, or another folder of their data
    set (:func:`~unetlab.data.datasets.data_set_folders`: its images/, train/ beside val/):
    the maps written there were read as masks, by train (``masks/: 2 masks share the stem
    00_weights``) and by weightmap run again, or as images (audit s37 paths:
    ``weightmap masks/ --output masks/``)."""
    from unetlab.data.datasets import data_set_folders

    parents = {os.path.realpath(p.parent): p.parent for p in paths}
    where = os.path.realpath(out)
    if where in parents:
        held, read = "the masks", "masks by train and by weightmap again"
    elif where in {os.path.realpath(f) for p in parents.values() for f in data_set_folders(p)}:
        held, read = "images or masks of the masks' data set", "data by train"
    else:
        return
    raise UnetlabError(
        f"--output {out} holds {held}: their maps (NAME_weights.tif and .png) would be "
        f"read as {read}; give another folder, e.g. {out.parent / 'weights'}"
    )
