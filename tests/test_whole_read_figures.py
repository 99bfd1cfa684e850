"""The megapixels ``predict --help`` and the README give for where a one-page TIFF starts
streaming are those of the rule (audit s35 laptop 4: they said 5 MP with --instances; the
rule streams an RGB image from 3.9 MP, a grey one from 4.2)."""

import re
from pathlib import Path

from unetlab.cli import build_parser
from unetlab.inference.sizing import WHOLE_BUDGET, whole_read_bytes

README = Path(__file__).resolve().parents[1] / "README.md"
FIGURES = r"about (\d+) MP in colour, (\d+) MP with\s+`?--instances"


def _rule() -> tuple[int, int]:
    """Megapixels of an RGB uint8 image of 3 classes read whole at the budget, without and
    with objects."""
    return tuple(
        round(WHOLE_BUDGET / whole_read_bytes(1, 3, 1, 3, objects=objects) / 1e6)
        for objects in (False, True)
    )


def _predict_description() -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return " ".join(sub.choices["predict"].description.split())


def test_the_help_and_the_readme_give_the_rule_s_megapixels():
    found = re.search(FIGURES, _predict_description())
    assert found and tuple(map(int, found.groups())) == _rule() == (13, 4)
    readme = re.search(FIGURES, " ".join(README.read_text().split()))
    assert readme and tuple(map(int, readme.groups())) == _rule()
