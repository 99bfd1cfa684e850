"""``unetlab summary``: the layer table, sizes and cost of a U-Net."""

from __future__ import annotations

from unetlab.cli.common import add_model_args, check_pixels, model_from_args


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
        "--input-size",
        type=int,
        default=None,
        help="input tile size (default: 572 for valid nets, 512 for same nets)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from unetlab.models.summary import summarize

    check_pixels(input_size=args.input_size)
    model = model_from_args(args)
    print(summarize(model, args.input_size).table())
    return 0
