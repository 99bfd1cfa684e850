"""Progress bars where a person watches: a terminal, or a Jupyter notebook (whose stderr is
no terminal, yet shown), for training and for prediction alike."""

from __future__ import annotations

import sys

from tqdm import tqdm


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (its stderr is no terminal, yet shown)."""
    return "ipykernel" in sys.modules


def shown(progress: bool) -> bool:
    """Whether a bar asked for (``progress``) is drawn: on a terminal or in a notebook."""
    return progress and (sys.stderr.isatty() or in_notebook())


def progress_bar(**settings) -> tqdm:
    """A tqdm bar with ``settings``: in a Jupyter notebook with ipywidgets, ``tqdm.auto``'s (a
    widget there); elsewhere the text bar on stderr, as in the CLI, and also in a notebook
    without ipywidgets (whose widget bar raises "IProgress not found")."""
    if in_notebook():
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            return tqdm(**settings)
        from tqdm.auto import tqdm as auto

        return auto(**settings)
    return tqdm(**settings)
