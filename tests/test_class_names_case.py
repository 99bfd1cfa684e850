"""One letter-case rule for class names (:func:`unetlab.data.names.loose`: casefold and
NFC): ``class_names.txt`` and a colour table that differ only so name the same classes
(``names_disagree`` compared with ``strip().lower()``, so "Straße" and "STRASSE", or an
accent typed decomposed, were refused as naming the classes differently)."""

from __future__ import annotations

from pathlib import Path

import pytest

from unetlab.data.classes import names_disagree
from unetlab.data.colour_table import ColourTable

DECOMPOSED = "Cafe\u0301"  # "Café" typed as e + a combining accent (macOS file names)


def _table(*names: str) -> ColourTable:
    colours = tuple((k, k, k) for k in range(len(names)))
    return ColourTable(colours, tuple(range(len(names))), names, "/d/masks/colours.txt")


@pytest.mark.parametrize(
    "said, table", [("Straße", "STRASSE"), ("Café", DECOMPOSED), (" Road ", "road")]
)
def test_names_that_differ_only_in_case_or_normal_form_agree_with_the_table(said, table):
    path = Path("/d/class_names.txt")
    assert names_disagree({0: "sky", 1: said}, _table("Sky", table), path) is None
    assert "value 1 is" in names_disagree({0: "sky", 1: "car"}, _table("Sky", table), path)
