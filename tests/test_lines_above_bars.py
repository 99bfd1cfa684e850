"""In a notebook (or a terminal) the lines a call says while its bar is drawn are said once,
above the bar: predict_folder said each file's line twice (its own stderr line, and again
through the bar's tqdm.write), evaluate_model wrote it onto the bar's own line (user trial
s64, /work/wt/user-trial4 c34.py, c31_bar.py)."""

from __future__ import annotations

import logging
import re
import sys
import types

import numpy as np
import pytest
from tqdm import tqdm

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_model
from unetlab.inference.folders import predict_folder
from unetlab.progress import lines_above_bars

CONSTANT = "the image is constant"


@pytest.fixture
def notebook(monkeypatch):
    """A Jupyter kernel without ipywidgets (text bars on stderr) whose logging nothing set up:
    call it in the test (pytest's root handlers, added once the test is called, set aside)."""

    def fresh():
        monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
        monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails: the text bar
        monkeypatch.setattr(logging.root, "handlers", [])
        monkeypatch.setattr(logging.root, "level", logging.WARNING)

    return fresh


def _net():
    """A net with a normalisation floor, which a constant image is said against."""
    net = local_net()
    net.normalization = {"mode": "per_image", "floor": [1.5], "dtype": "uint8"}
    return net


def _folder(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    write_png(images / "a.png", nuclei_image(48, 48).astype(np.uint8))
    write_png(images / "b.png", np.full((48, 48), 7, np.uint8))  # said: constant
    return images


def test_a_folder_s_lines_are_said_once_above_its_bars(notebook, tmp_path, capsys):
    notebook()
    predict_folder(_net(), _folder(tmp_path), tmp_path / "out")
    err = capsys.readouterr().err
    assert err.count(CONSTANT) == 1, err
    assert _above(err, f"{tmp_path / 'images' / 'b.png'}: {CONSTANT}"), err


def _above(err: str, said: str) -> bool:
    """Whether a line a terminal shows of ``err`` begins with ``said``: a line written after
    a bar's text, or after the cursor-up past a bar (onto the bar above's line, at the column
    where it was), does not."""
    return any(line.startswith(said) for line in _screen(err))


def _screen(err: str) -> list[str]:
    """The lines a terminal shows after ``err``: a carriage return goes to the line's start,
    a newline to the next line's, a cursor-up (``\x1b[A``) to the line above, same column;
    text overwrites what is there."""
    rows: list[list[str]] = [[]]
    row = col = 0
    for part in re.split("(\r|\n|\x1b\\[A)", err):
        if part in ("\r", "\n"):
            row, col = row + (part == "\n"), 0
        elif part == "\x1b[A":
            row = max(row - 1, 0)
        else:
            rows.extend([] for _ in range(row + 1 - len(rows)))
            line = rows[row] + [" "] * max(col - len(rows[row]), 0)
            rows[row] = line[:col] + list(part) + line[col + len(part) :]
            col += len(part)
    return ["".join(line) for line in rows]


def test_an_evaluation_s_lines_are_said_above_its_bar(notebook, tmp_path, capsys):
    notebook()
    _folder(tmp_path)
    masks = tmp_path / "masks"
    masks.mkdir()
    for name in ("a.png", "b.png"):
        write_png(masks / name, np.zeros((48, 48), np.uint8))
    evaluate_model(_net(), tmp_path)
    err = capsys.readouterr().err
    assert err.count(CONSTANT) == 1, err
    assert _above(err, f"{tmp_path / 'images' / 'b.png'}: {CONSTANT}"), err  # not on the bar's


def test_a_file_that_fails_is_said_above_the_files_bar(notebook, tmp_path, capsys):
    """Said between two files' bars, the failure went onto the files bar's line."""
    notebook()
    images = _folder(tmp_path)
    (images / "c.png").write_bytes(b"not a png")
    predict_folder(_net(), images, tmp_path / "out")
    err = capsys.readouterr().err
    assert err.count("c.png: cannot read") == 1, err
    assert _above(err, f"failed: {images / 'c.png'}: cannot read"), err


def test_another_library_s_warning_is_said_above_the_bar(notebook, capsys):
    """Nothing set logging up: logging.lastResort says it, onto the bar's line (tifffile's
    warning during a file's bar, s64 user). A logger of its own: the command line, run by
    other tests in this process, quiets tifffile's for good."""
    notebook()
    resort = logging.lastResort
    with tqdm(total=2) as bar, lines_above_bars():
        bar.update(1)
        logging.getLogger("some_library").warning("tifffile: a page's tag is odd")
    assert _above(capsys.readouterr().err, "tifffile: a page's tag is odd")
    assert logging.lastResort is resort


def test_a_handler_added_within_is_kept(notebook):
    notebook()
    console, resort = logging.StreamHandler(sys.stderr), logging.lastResort
    logging.root.handlers = [console]
    with lines_above_bars():
        added = logging.StreamHandler(sys.stderr)
        logging.root.addHandler(added)
    assert logging.root.handlers == [console, added]
    assert logging.lastResort is resort


def test_contexts_open_beside_each_other_leave_no_stand_in(notebook):
    """Two threads' bars: the first closed before the second left a stand-in for good."""
    notebook()
    console, resort = logging.StreamHandler(sys.stderr), logging.lastResort
    logging.root.handlers = [console]
    first, second = lines_above_bars(), lines_above_bars()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    assert logging.root.handlers == [console]
    assert logging.lastResort is resort
