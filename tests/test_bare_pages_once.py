"""A folder of plain stacks that record no axes: the line of how their pages are read is
said at the first file and the files counted at the end, not once a file (s69 zstacks)."""

from __future__ import annotations

import logging

import numpy as np
import tifffile

from tests.test_predict_objects import local_net
from unetlab.checkpoint import save_model
from unetlab.cli import main


def test_plain_two_page_tiffs_of_a_folder_are_said_once_with_their_count(tmp_path, caplog):
    """s69: 24 plain 2-page TIFFs (tifffile.imwrite(path, a), no axes) said "p00.tif: 2
    pages and no axis metadata: read as 2 planes ..." 24 times; now the first file's line,
    then one line counting the 5 files here and naming the first ones."""
    save_model(tmp_path / "m.pt", local_net())
    (tmp_path / "in").mkdir()
    for k in range(5):
        tifffile.imwrite(tmp_path / "in" / f"p{k:02d}.tif", np.zeros((2, 24, 20), np.uint8))
    args = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    with caplog.at_level(logging.WARNING):
        assert main([*args, "--output", str(tmp_path / "o"), "--no-progress"]) == 0
    said = caplog.text
    assert said.count("2 pages and no axis metadata: read as 2 planes (a Z stack); if") == 1
    assert "p00.tif: 2 pages and no axis metadata" in said
    counted = "5 files in all (p00.tif, p01.tif, p02.tif and 2 more): 2 pages and no axis"
    assert counted in said
