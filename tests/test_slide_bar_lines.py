"""On a terminal, a slide's log lines are written above its tile bar, not into it (audit s30
slides 5: '...0tile [00:00, ?tile/s]^[[Asmall.ome.tif: 2048 x 2048 px ...')."""

from __future__ import annotations

import logging
import sys

import tifffile

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.inference import folders
from unetlab.inference.folders import predict_folder


def test_log_lines_start_their_own_line_beside_a_tile_bar(tmp_path, monkeypatch, capsys):
    tifffile.imwrite(tmp_path / "big.tif", nuclei_image(120, 90, seed=2))
    monkeypatch.setattr(folders, "shown", lambda progress: progress)  # as on a terminal
    console = logging.StreamHandler(sys.stderr)  # the CLI's basicConfig
    root = logging.getLogger()
    root.addHandler(console)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        predict_folder(
            local_net(), tmp_path / "big.tif", tmp_path / "o", large_threshold=100, progress=True
        )
    finally:
        root.removeHandler(console)
        root.setLevel(level)
    err = capsys.readouterr().err
    said = [line for line in err.split("\n") if "streaming" in line]
    assert said, err
    for line in said:  # nothing of a bar before the message on its line
        before = line.split("\r")[-1].split("big.tif: 120 x 90")[0]
        assert "tile" not in before, repr(line)  # tqdm.write: the bars cleared first
