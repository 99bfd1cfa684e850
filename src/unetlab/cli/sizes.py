"""``unetlab sizes``: valid input sizes around N, their outputs and the share of useful pixels."""

from __future__ import annotations

from unetlab.cli.common import add_model_args, check_pixels, model_from_args
from unetlab.errors import UnetlabError

#: the most sizes ``--count`` lists (each a line; 10^8 ran for minutes and took gigabytes)
MAX_COUNT = 10_000


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sizes",
        help="list valid input sizes near N",
        description="List valid input tile sizes around N with the output size "
        "and the share of computed pixels that lands in the output.",
    )
    add_model_args(p)
    p.add_argument("--near", type=int, default=572, help="size to centre the list on (default 572)")
    p.add_argument(
        "--count",
        type=int,
        default=9,
        help=f"how many sizes to list, 1 to {MAX_COUNT} (default 9)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    check_pixels(near=args.near)
    if not 1 <= args.count <= MAX_COUNT:
        raise UnetlabError(f"--count must be in 1..{MAX_COUNT}, not {args.count}")
    model = model_from_args(args)
    print(f"{'input':>7} {'output':>7} {'border':>7} {'useful':>7}")
    for size in model.valid_input_sizes(args.near, args.count):
        out = model.output_size(size)
        mark = "  <- --near" if size == args.near else ""
        print(f"{size:>7} {out:>7} {(size - out) // 2:>7} {out * out / size**2:>7.1%}{mark}")
    return 0
