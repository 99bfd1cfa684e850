"""A folder of stacks that record no z spacing given to --objects-3d: the line that their
planes are joined a pixel apart is said at the first file and the files counted at the
end, not once a file (s69 zstacks, review 5)."""

from __future__ import annotations

import logging

import unetlab.checkpoint
from tests.test_objects_3d import _ball_stack, write_unspaced
from tests.test_predict_objects import local_net
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.models import UNet


def test_stacks_without_z_spacing_are_said_once_with_their_count(tmp_path, monkeypatch, caplog):
    """s69: 24 ImageJ z-stacks of a pixel size but no z spacing said "pNN.tif records no z
    spacing: --objects-3d takes its planes a pixel (0.5 µm) apart ..." 24 times; now the
    first file's line, then one line counting the 4 files here and naming the first ones."""
    net = local_net()
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    save_model(tmp_path / "m.pt", UNet(1, 3, depth=2, base_channels=2))
    (tmp_path / "in").mkdir()
    for k in range(4):
        write_unspaced(tmp_path / "in" / f"p{k:02d}.tif", _ball_stack((5, 56, 72)))
    args = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    with caplog.at_level(logging.WARNING):
        assert main([*args, "--output", str(tmp_path / "o"), "--instances", "--objects-3d"]) == 0
    said = caplog.text
    line = "records no z spacing: --objects-3d takes its planes a pixel (0.5 µm) apart, so"
    assert said.count(line) == 2  # the first file's line, and the count's
    assert f"p00.tif {line}" in said and "; give --z-spacing UM, or record it" in said
    counted = f"4 files in all (p00.tif, p01.tif, p02.tif and 1 more): {line}"
    assert counted in said
