"""``unetlab summary``: the layer table, sizes and cost of a U-Net."""

from __future__ import annotations

from unetlab.cli.common import (
    add_model_args,
    check_pixels,
    model_flags,
    model_from_args,
    warn_unfinished,
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
        help="input tile size (default: 572 for valid nets, 512 for same nets)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from unetlab.models.summary import summarize

    check_pixels(input_size=args.input_size)
    model = _checkpoint_model(args) if args.checkpoint else model_from_args(args)
    print(summarize(model, args.input_size).table())
    return 0


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
    warn_unfinished(model)  # a stopped run's last.pt: said, as export and predict say it
    return model
