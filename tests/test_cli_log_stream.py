"""Each ``unetlab.cli.main()`` call in one process (a notebook's cells, a script, a test)
logs to the ``sys.stderr`` in force at that call: the handler the first call set up kept
the first call's stream, and every later call's lines went there (s69)."""

from __future__ import annotations

import io
import logging
import sys

from PIL import Image

from unetlab.cli import main

from .test_cli_weightmap import _touching_ids

#: the warning weightmap logs of a mask of object ids
IDS = "the masks look like object ids (each value one region)"


def test_each_call_logs_to_the_stderr_in_force_at_that_call_once(tmp_path, monkeypatch):
    monkeypatch.setattr(logging.root, "handlers", [])  # a fresh process (pytest's set aside)
    monkeypatch.setattr(logging.root, "level", logging.WARNING)
    (tmp_path / "masks").mkdir()
    Image.fromarray(_touching_ids()).save(tmp_path / "masks" / "a.png")
    streams = {"first": io.StringIO(), "second": io.StringIO()}
    for name, stream in streams.items():
        monkeypatch.setattr(sys, "stderr", stream)
        argv = ["weightmap", str(tmp_path / "masks"), "--output", str(tmp_path / name)]
        assert main(argv) == 0
    monkeypatch.undo()
    assert [s.getvalue().count(IDS) for s in streams.values()] == [1, 1]
