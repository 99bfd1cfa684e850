"""``unetlab weightmap``: the paper's border weight map of masks, as training makes it.

unetlab weightmap ../shared/data/isbi2012/train/masks/00.png --output wm/
unetlab weightmap masks/ --output wm/ --label-values 255 0 --class-names cell membrane
"""

from __future__ import annotations

import os
from pathlib import Path

from unetlab.cli.common import user_path
from unetlab.errors import UnetlabError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "weightmap",
        help="write the paper's border weight map of masks (float32 TIFF + PNG preview)",
        description="Write the weight map w(x) = w_c(x) + w0 exp(-(d1 + d2)^2 / 2 sigma^2) "
        "(Ronneberger et al. 2015, eq. 2) of each mask, as data.weight_map makes it for "
        "training: <stem>_weights.tif (float32, the weights) and <stem>_weights.png (a "
        "preview: black is 0, white the largest weight) in --output. The objects are the "
        "regions of every class but the background: the class named background or membrane "
        "(--class-names), else that of mask value 0, else the first class.",
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
    p.add_argument(
        "--overwrite", action="store_true", help="replace files there that unetlab did not write"
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from unetlab.data.io import find_images, read_mask, write_png, write_tiff
    from unetlab.data.weightmap import mask_classes, mask_weight_map, weight_preview
    from unetlab.outputs import claim_files

    if args.w0 < 0 or args.sigma <= 0:
        raise UnetlabError(
            f"--w0 must be at least 0 and --sigma above 0, not {args.w0:g} and {args.sigma:g}"
        )
    paths = find_images(args.masks)
    if not paths:
        raise UnetlabError(f"no mask images in {' '.join(args.masks)}; give mask files or folders")
    if len(stems := {p.stem for p in paths}) < len(paths):
        raise UnetlabError(
            f"{len(paths) - len(stems)} masks share a file stem with another: their maps would "
            "have one name; run once per folder"
        )
    masks = {p: read_mask(p) for p in paths}
    values, names = mask_classes(
        masks,
        label_values=args.label_values,
        class_names=args.class_names,
        ignore_value=args.ignore_value,
    )
    out = Path(args.output)
    _refuse_among_masks(out, paths)
    targets = {p: (out / f"{p.stem}_weights.tif", out / f"{p.stem}_weights.png") for p in paths}
    files = [f for pair in targets.values() for f in pair]
    claim_files(files, inputs=paths, overwrite=args.overwrite, command="weightmap")
    for path, (tif, png) in targets.items():
        weights, background = mask_weight_map(
            masks[path],
            label_values=values,
            class_names=names,
            ignore_value=args.ignore_value,
            w0=args.w0,
            sigma=args.sigma,
        )
        write_tiff(tif, weights)
        write_png(png, weight_preview(weights))
        print(
            f"{path.name}: weights {weights.min():.2f}..{weights.max():.2f} (mean "
            f"{weights.mean():.2f}; background {names[background]!r}) -> {tif}, {png}"
        )
    return 0


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
