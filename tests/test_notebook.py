"""unetlab in a Jupyter notebook: the training progress bar."""

import sys
import types

import tqdm.auto
import tqdm.std

from unetlab.train import progress_bar


class _Widget(tqdm.std.tqdm):
    """Stands for the notebook's widget bar (tqdm.auto's choice in a real kernel)."""


def test_a_notebook_gets_tqdm_auto_and_the_console_the_text_bar(monkeypatch):
    assert type(progress_bar(total=3, disable=True)) is tqdm.std.tqdm  # the CLI's, unchanged
    monkeypatch.setattr(tqdm.auto, "tqdm", _Widget)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setitem(sys.modules, "ipywidgets", types.ModuleType("ipywidgets"))
    assert type(progress_bar(total=3, disable=True)) is _Widget
    # without ipywidgets the widget bar would raise "IProgress not found": the text bar
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets: ImportError
    assert type(progress_bar(total=3, disable=True)) is tqdm.std.tqdm
