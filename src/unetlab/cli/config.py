"""``unetlab config``: every config key with its type, default and meaning."""

from __future__ import annotations

import argparse

from unetlab.errors import UnetlabError

EPILOG = """\
Set a key in a --config YAML file (section: then key: value) or with
unetlab train --set section.key=value. docs/config.md holds the same list
(unetlab config --markdown writes it)."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "config",
        help="list every config key with its default and meaning",
        description="List the config keys of unetlab train: type, default and meaning.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "keys",
        nargs="*",
        metavar="KEY",
        help="only these keys or sections (train, train.lr); default: all",
    )
    p.add_argument(
        "--markdown", action="store_true", help="all keys as the tables of docs/config.md"
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from unetlab.config.reference import reference_markdown, reference_text

    if args.markdown:
        if args.keys:
            raise UnetlabError("--markdown writes all keys: drop the KEY arguments")
        print(reference_markdown(), end="")
    else:
        print(reference_text(args.keys), end="")
    return 0
