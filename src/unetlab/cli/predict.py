"""``unetlab predict``: placeholder until its issue lands (replaced by the real command)."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help="(not yet available)")
    p.set_defaults(run=run)


def run(args) -> int:
    raise ValueError("'unetlab predict' is not available in this build yet")
