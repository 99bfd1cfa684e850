"""The suite's hypothesis profile (tests/conftest.py): the same examples every run and no
.hypothesis/ folder written, so that CI cannot fail on an example no earlier run drew;
UNETLAB_FUZZ=N asks for new random examples, N times as many."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests import conftest  # noqa: E402


def _drawn() -> list[int]:
    seen = []

    @settings(max_examples=20)
    @given(st.integers())
    def draw(value):
        seen.append(value)

    draw()
    return seen


@pytest.mark.skipif(conftest.FUZZ_FACTOR > 0, reason="UNETLAB_FUZZ asks for random examples")
@pytest.mark.skipif(
    "HYPOTHESIS_STORAGE_DIRECTORY" in os.environ, reason="its own folder for hypothesis's files"
)
def test_two_runs_draw_the_same_examples_and_write_nothing_in_the_repository():
    """No example database, and hypothesis's cache of constants in a temporary folder, not
    in .hypothesis/ of the folder pytest runs in."""
    from hypothesis.configuration import storage_directory

    assert settings.default.derandomize and settings.default.database is None
    assert _drawn() == _drawn()
    home = storage_directory("constants", intent_to_write=False).path.resolve()
    assert home.is_relative_to(Path(tempfile.gettempdir()).resolve()), home
    assert not home.is_relative_to(Path.cwd().resolve()), home
    # the folder of the run's first process, shared by the workers of -n 2
    assert home.parent == Path(os.environ["UNETLAB_HYPOTHESIS_HOME"]).resolve(), home


@pytest.mark.parametrize(("value", "factor"), [(None, 0), ("", 0), ("0", 0), ("1", 1), ("10", 10)])
def test_unetlab_fuzz_reads_as_a_factor_of_examples(value, factor):
    assert conftest._fuzz_factor(value) == factor


def test_unetlab_fuzz_that_is_no_number_says_what_to_give():
    with pytest.raises(ValueError, match="UNETLAB_FUZZ='yes': give a whole number"):
        conftest._fuzz_factor("yes")


def test_unetlab_fuzz_n_runs_n_times_each_tests_own_examples(monkeypatch):
    @settings(max_examples=7)
    @given(st.integers())
    def own(value):
        pass

    class Item:
        obj = own

    monkeypatch.setattr(conftest, "FUZZ_FACTOR", 3)
    conftest.pytest_collection_modifyitems([Item(), object()])
    assert own._hypothesis_internal_use_settings.max_examples == 21
