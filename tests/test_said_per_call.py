"""Lines about a call's input are said once a command or public Python call, not once a
process (s59): a notebook's second call on other files with the same trouble heard nothing
of a GeoTIFF's pixel size in degrees, a killed run's staging in its output folder, or a
removed config key left out. Outside any call they stay once a process."""

from __future__ import annotations

import contextlib
import json
import logging

import pytest

from unetlab.config import removed
from unetlab.data import geotiff
from unetlab.data.read_notes import call_notes
from unetlab.inference import slide_resume


def _twice_in_calls_and_outside(caplog, say, words: str, one_file=False) -> tuple[int, int]:
    """How often ``say()``, twice in each, logs ``words`` in two calls (``one_file``: that
    read one file each, as ``predict_file``), then outside any."""
    counts = []
    for within in (True, False):
        caplog.clear()
        for _ in range(2):
            with call_notes(one_file=one_file) if within else contextlib.nullcontext():
                say()
                say()  # a call's second file with the same trouble: said once a call
        counts.append(sum(words in r.getMessage() for r in caplog.records))
    return tuple(counts)


def test_a_geotiff_line_is_said_in_each_call(monkeypatch, caplog):
    monkeypatch.setattr(geotiff, "_SAID", set())
    caplog.set_level(logging.INFO)
    say = lambda: geotiff.say_once("degrees", "%s: pixel size in degrees", "a.tif")  # noqa: E731
    assert _twice_in_calls_and_outside(caplog, say, "pixel size in degrees") == (2, 1)


def test_a_killed_runs_staging_is_named_in_each_call(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(slide_resume, "_said", set())
    stage = tmp_path / ".s.tif.partial"
    stage.mkdir()
    (stage / slide_resume.RECORD).write_text(json.dumps({"input": {"path": "/data/s.tif"}}))
    caplog.set_level(logging.INFO)
    say = lambda: slide_resume.say_others(tmp_path, set())  # noqa: E731
    assert _twice_in_calls_and_outside(caplog, say, "staging of /data/s.tif") == (2, 1)


@pytest.mark.parametrize("key", sorted(k for k, r in removed.REMOVED.items() if r.no_effect))
def test_a_removed_key_left_out_is_said_in_each_call(monkeypatch, caplog, key):
    monkeypatch.setattr(removed, "_said", set())
    caplog.set_level(logging.INFO)
    say = lambda: removed.check_removed(key, removed.REMOVED[key].no_effect, "c.yaml")  # noqa: E731
    assert _twice_in_calls_and_outside(caplog, say, f"{key}: ") == (2, 1)


def test_a_geotiff_line_is_said_once_to_a_loop_of_one_file_calls(monkeypatch, caplog):
    """Its line speaks for all files like the one read ("said once"): a loop of
    ``predict_file`` heard it at every file (review D: 12 lines for 4 calls, 3 before)."""
    monkeypatch.setattr(geotiff, "_SAID", set())
    caplog.set_level(logging.INFO)
    say = lambda: geotiff.say_once("degrees", "%s: pixel size in degrees", "a.tif")  # noqa: E731
    assert _twice_in_calls_and_outside(caplog, say, "in degrees", one_file=True) == (1, 0)


def test_a_killed_runs_staging_is_named_once_to_a_loop_of_one_file_calls(
    tmp_path, monkeypatch, caplog
):
    """A loop of ``predict_file`` into one folder heard its staging at every file (review
    D); a call into another folder still hears that folder's (the line names it)."""
    monkeypatch.setattr(slide_resume, "_said", set())
    for folder in (tmp_path / "a", tmp_path / "b"):
        (stage := folder / ".s.tif.partial").mkdir(parents=True)
        (stage / slide_resume.RECORD).write_text(json.dumps({"input": {"path": "/data/s.tif"}}))
    caplog.set_level(logging.INFO)
    say = lambda: slide_resume.say_others(tmp_path / "a", set())  # noqa: E731
    assert _twice_in_calls_and_outside(caplog, say, "staging of", one_file=True) == (1, 0)
    with call_notes(one_file=True):
        slide_resume.say_others(tmp_path / "b", set())
    assert [str(tmp_path / "b") in r.getMessage() for r in caplog.records] == [True]
