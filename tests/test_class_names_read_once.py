"""The data set's class names and the file they come from are read together (review s64:
``names_file`` read the root's colour table again after ``read_class_names`` had read it,
for the log line naming it): training, weightmap and evaluate read the root's table once."""

import logging
from collections import Counter

import numpy as np
import pytest

import unetlab.data.classes as classes
from unetlab.cli.weightmap import _data_set_names
from unetlab.config import Config
from unetlab.data.io import write_png
from unetlab.evaluate.masks import data_set_names
from unetlab.train.setup import _declared_names


@pytest.fixture
def root(tmp_path):
    """A data set named by the colour table in its root, without class_names.txt."""
    (tmp_path / "class_colors.txt").write_text("0 0 0 sky\n255 0 0 road\n")
    write_png(tmp_path / "masks" / "a.png", np.zeros((8, 8), np.uint8))
    write_png(tmp_path / "images" / "a.png", np.zeros((8, 8), np.uint8))
    return tmp_path


@pytest.fixture
def reads(monkeypatch):
    """The folders whose colour table is read, counted."""
    counted: Counter = Counter()
    read = classes.read_colour_table

    def counting(folder):
        counted[str(folder)] += 1
        return read(folder)

    monkeypatch.setattr(classes, "read_colour_table", counting)
    return counted


def test_training_reads_the_root_table_once(root, reads, caplog):
    cfg = Config()
    cfg.data.root = str(root)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        names, source = _declared_names(cfg)
    assert (names, source) == ({0: "sky", 1: "road"}, "class_colors.txt")
    assert f"class names from {root / 'class_colors.txt'}" in caplog.text
    assert reads[str(root)] == 1


def test_weightmap_reads_the_root_table_once(root, reads):
    names, path = _data_set_names([root / "masks" / "a.png"])
    assert (names, path) == ({0: "sky", 1: "road"}, root / "class_colors.txt")
    assert reads[str(root)] == 1


def test_evaluate_reads_the_root_table_once(root, reads, caplog):
    with caplog.at_level(logging.INFO, logger="unetlab"):
        names, by_index = data_set_names(root / "masks", None, None, False)
    assert (names, by_index) == (None, {0: "sky", 1: "road"})
    assert f"class names from {root / 'class_colors.txt'}" in caplog.text
    assert reads[str(root)] == 1
