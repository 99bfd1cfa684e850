"""``unetlab config``: every config key with its type, default and meaning."""

from __future__ import annotations

import argparse

from unetlab.cli.common import STDOUT, add_set_flag, user_path
from unetlab.config_keys import shipped_configs
from unetlab.errors import UnetlabError

EPILOG = """\
Set a key in a --config YAML file (section: then key: value) or with
unetlab train --set section.key=value. docs/config.md holds the same list
(unetlab config --markdown writes it).

examples:
  unetlab config train                                  # the train section's keys
  unetlab config --write mine.yaml --from small_cpu --set train.epochs=40
  unetlab train --data DIR --config mine.yaml           # trains with that file"""


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
    _add_write(p)
    p.set_defaults(run=run)


def _add_write(p) -> None:
    """The flags of a config file written to start from (--write)."""
    names = ", ".join(shipped_configs())
    for flag, dest, metavar, said in WRITE_PATHS:
        p.add_argument(
            flag, dest=dest, metavar=metavar, type=user_path, help=said.format(names=names)
        )
    add_set_flag(p, "train.epochs=40", "with --write: ")
    p.add_argument(
        "--overwrite", action="store_true", help="with --write: replace an existing file"
    )


#: --write's path flags: (flag, dest, metavar, help)
WRITE_PATHS = (
    (
        "--write",
        "write",
        "PATH",
        "write a config YAML to edit and train with (unetlab train --config PATH): the keys "
        "--from and --set give, the others as comments at their defaults",
    ),
    (
        "--from",
        "source",
        "CONFIG",
        "with --write: start from this YAML file or shipped config ({names}); default: the "
        "defaults",
    ),
)


def run(args) -> int:
    from unetlab.config.reference import reference_markdown, reference_text

    if args.write is not None:
        return _write(args)
    if args.source is not None or args.overrides or args.overwrite:
        raise UnetlabError("--from, --set and --overwrite go with --write PATH: add it")
    if args.markdown:
        if args.keys:
            raise UnetlabError("--markdown writes all keys: drop the KEY arguments")
        print(reference_markdown(), end="")
    else:
        print(reference_text(args.keys), end="")
    return 0


def _write(args) -> int:
    """``unetlab config --write PATH``: the starter file, and how to train with it."""
    from unetlab.config.starter import write_starter

    if args.markdown:
        raise UnetlabError("--write writes a whole config: drop --markdown")
    if args.keys:
        raise UnetlabError(
            f"--write writes a whole config, not the keys {' '.join(args.keys)}: drop them "
            "(--set takes KEY=VALUE, without spaces)"
        )
    if args.write in ("", STDOUT):
        raise UnetlabError(
            f"--write {args.write or repr('')}: a config is written to a file: give its name "
            "(e.g. --write mine.yaml)"
        )
    path = write_starter(args.write, args.source, args.overrides, overwrite=args.overwrite)
    print(f"wrote {path}: edit it, then unetlab train --data DIR --config {path}")
    return 0
