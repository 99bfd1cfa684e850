"""``unetlab evaluate``: placeholder until its issue lands (replaced by the real command)."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="(not yet available)")
    p.set_defaults(run=run)


def run(args) -> int:
    raise ValueError("'unetlab evaluate' is not available in this build yet")
