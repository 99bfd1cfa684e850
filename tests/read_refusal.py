"""The check that a bad file is refused by read_stack in one line naming it once, what is
wrong and the fix (for tests/test_h5.py, tests/test_czi.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from unetlab.data.io import read_stack
from unetlab.errors import ImageReadError


def refused_in_one_line(path: Path, said: str, fixes: tuple[str, ...]) -> None:
    """read_stack(``path``) raises ImageReadError: one line naming ``path`` once, holding
    ``said``, ending in one of ``fixes``."""
    with pytest.raises(ImageReadError) as e:
        read_stack(path)
    line = str(e.value)
    assert line.startswith(f"{path}: ") and said in line and "\n" not in line
    assert line.count(str(path)) == 1 and line.endswith(fixes)
