"""compare given a file said "give a folder (give run folders (...), or a folder of them)":
its fix twice, nested (s52 badinput). One fix: a run's own file names its folder."""

from __future__ import annotations

import re

import pytest

from unetlab.compare.find import HOW, run_folders
from unetlab.errors import UnetlabError


def test_a_file_is_told_the_fix_once(tmp_path):
    (tmp_path / "cells.tif").write_bytes(b"II*\x00")
    said = f"{tmp_path / 'cells.tif'} is a file, not a run folder: {HOW}"
    with pytest.raises(UnetlabError, match="^" + re.escape(said) + "$"):
        run_folders([tmp_path / "cells.tif"])


def test_a_runs_file_is_told_its_folder(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.csv").write_text("epoch\n")
    said = f"{tmp_path / 'run' / 'metrics.csv'} is a file, not a run folder: give its folder, "
    with pytest.raises(UnetlabError, match="^" + re.escape(said + str(tmp_path / "run")) + "$"):
        run_folders([tmp_path / "run" / "metrics.csv"])
