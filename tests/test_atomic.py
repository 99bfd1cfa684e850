"""unetlab.atomic: atomic writes, a leaf module that data.io, outputs and every writer import."""

import subprocess
import sys

import pytest

from unetlab.atomic import atomic_path, when_written


def test_atomic_imports_nothing_of_unetlab_but_its_errors():
    """data.io and outputs imported each other (outputs lazily); both now import atomic."""
    code = (
        "import sys, unetlab.atomic; "
        "print(sorted(m for m in sys.modules if m.startswith('unetlab.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['unetlab.atomic',", "'unetlab.errors']"]


def test_the_action_for_a_path_runs_once_it_is_written(tmp_path):
    done = []
    when_written(tmp_path / "a.txt", lambda: done.append("a"))
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "a.txt"):
        raise RuntimeError("stopped before the rename")
    assert done == [] and not (tmp_path / "a.txt").exists()
    for _ in range(2):
        with atomic_path(tmp_path / "a.txt") as tmp:
            tmp.write_text("x")
    assert done == ["a"]
