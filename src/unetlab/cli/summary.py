"""``unetlab summary``: the layer table, sizes and cost of a U-Net."""

from __future__ import annotations

from unetlab.cli.common import (
    add_model_args,
    check_pixels,
    model_flags,
    model_from_args,
    warn_loaded,
)
from unetlab.errors import UnetlabError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "summary",
        help="print the layer table, sizes and GFLOPs of a net",
        description="Print the layer table (torchsummary's columns, without its ReLU, "
        "dropout and block rows), output size, "
        "border per side, receptive field and GFLOPs for one tile.",
    )
    add_model_args(p)
    p.add_argument(
        "--checkpoint",
        default=None,
        help="the net of this checkpoint (or bioimage.io package unetlab exported) instead "
        "of --preset and the model flags",
    )
    p.add_argument(
        "--input-size",
        type=int,
        default=None,
        help="input tile size (default: a --checkpoint's training tiles' where it records "
        "them, else 572 for valid nets, 512 for same nets)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from unetlab.models.summary import summarize

    check_pixels(input_size=args.input_size)
    model = _checkpoint_model(args) if args.checkpoint else model_from_args(args)
    size = args.input_size or trained_tile(model)
    note = "the training tiles'" if size and not args.input_size else ""
    print(summarize(model, size).table(note))
    return 0


def trained_tile(model) -> int | None:
    """The side of the tiles ``model`` was trained on (its checkpoint's ``data.tile_size``)
    where it records one the net takes; else None (a package, a saved net, older files)."""
    from unetlab.models.sizes import nearest_valid_sizes

    tile = (getattr(model, "training_data", None) or {}).get("tile_size")
    if not isinstance(tile, int) or isinstance(tile, bool) or tile < 1:
        return None
    lower, _ = nearest_valid_sizes(tile, model.config.depth, model.padding)
    return tile if lower == tile else None


def _checkpoint_model(args):
    """The net of ``--checkpoint``; a model flag given beside it refused (the checkpoint's
    net is the one described, audit s41)."""
    from unetlab.checkpoint import load_model

    flags = model_flags()
    given = [a.split("=")[0] for a in getattr(args, "argv", []) if a.split("=")[0] in flags]
    if given:
        raise UnetlabError(
            f"{given[0]} and --checkpoint both say which net: the checkpoint's net is "
            f"described; leave out {given[0]} (or --checkpoint for a net of the flags)"
        )
    model = load_model(args.checkpoint, device="cpu")
    warn_loaded(model, "summary")  # as export and predict say them
    return model
