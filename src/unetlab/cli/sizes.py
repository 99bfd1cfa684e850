"""``unetlab sizes``: valid input sizes around N, their outputs and the share of useful pixels."""

from __future__ import annotations

from unetlab.cli.common import add_model_args, check_pixels_said, model_from_args
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
    p.add_argument(
        "size", nargs="?", type=int, metavar="N", help="size to centre the list on, as --near N"
    )
    p.add_argument(
        "--near", type=int, default=None, help="size to centre the list on (default 572)"
    )
    p.add_argument(
        "--count",
        type=int,
        default=9,
        help=f"how many sizes to list, 1 to {MAX_COUNT} (default 9)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    args.near, said = _near(args.size, args.near)
    check_pixels_said(said, args.near)  # as given: N or --near (s54 review)
    if not 1 <= args.count <= MAX_COUNT:
        raise UnetlabError(f"--count must be in 1..{MAX_COUNT}, not {args.count}")
    model = model_from_args(args)
    invalid = not model.is_valid_size(args.near)
    if invalid:  # the model's own line: "573 is not a valid input size ...: try 572 or 588"
        print(f"{said}: {_why_invalid(model, args.near)}")
    listed = model.valid_input_sizes(args.near, args.count)
    near = set(_neighbours(listed, args.near)) if invalid else set()
    print(f"{'input':>7} {'output':>7} {'border':>7} {'useful':>7}")
    for size in listed:
        out = model.output_size(size)
        mark = f"  <- {said}" if size == args.near else "  <- nearest" if size in near else ""
        print(f"{size:>7} {out:>7} {(size - out) // 2:>7} {out * out / size**2:>7.1%}{mark}")
    return 0


def _near(size: int | None, near: int | None) -> tuple[int, str]:
    """The size to centre the list on, ``unetlab sizes N`` or ``--near N`` (572 where neither
    is given: ``sizes 573`` was refused, "no flag takes it", though the command's help said
    "near N"), and how the lines name it."""
    if size is not None and near is not None and size != near:
        raise UnetlabError(f"N {size} and --near {near} differ: give one of them")
    if size is not None:
        return size, "N"
    return (572 if near is None else near), "--near"


def _why_invalid(model, size: int) -> str:
    try:
        model.output_size(size)
    except (UnetlabError, ValueError) as exc:
        return str(exc)
    return f"{size} is not a valid input size for this net"


def _neighbours(sizes: list[int], near: int) -> list[int]:
    """The listed valid sizes just below and just above ``near``."""
    below = [s for s in sizes if s < near]
    above = [s for s in sizes if s > near]
    return below[-1:] + above[:1]
