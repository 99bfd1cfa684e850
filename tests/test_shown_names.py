"""How predict's per-file lines name a file (:mod:`unetlab.data.shown`): a file of the one
folder given by its name, any other by its path as given (review s55 H8)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile

from unetlab import UNet, predict_file
from unetlab.inference.folders import predict_folder

BARE = ": 4 pages and no axis metadata"  # a stack that records no axes: read as planes


@pytest.fixture
def net():
    return UNet(1, 2, depth=2, base_channels=2, padding="same").eval()


def _stack(path):
    """A 4-page grey TIFF that records no axes (predict warns, naming it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stack = np.random.default_rng(0).integers(0, 255, (4, 24, 28), dtype=np.uint8)
    tifffile.imwrite(path, stack, photometric="minisblack")
    return path


def _named(caplog, said: str) -> list[str]:
    """The names the lines holding ``said`` give their files (what comes before it)."""
    return [m.split(said)[0] for m in caplog.messages if said in m]


def test_a_stack_s_line_names_it_as_the_other_lines_do(tmp_path, net, caplog):
    """The pages' lines (:mod:`unetlab.inference.pages`) named the file by its name alone
    where the run's other lines name it by its path: a glob's file, a file given alone."""
    path = _stack(tmp_path / "in" / "s.tif")
    with caplog.at_level(logging.WARNING):
        predict_folder(net, str(tmp_path / "in" / "*.tif"), tmp_path / "a", progress=False)
        predict_file(net, path, tmp_path / "b")
        predict_folder(net, tmp_path / "in", tmp_path / "c", progress=False)
    assert _named(caplog, BARE) == [str(path), str(path), "s.tif"]
