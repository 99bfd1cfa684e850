"""Progress bars where a person watches: a terminal, or a Jupyter notebook (whose stderr is
no terminal, yet shown), for training and for prediction alike."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator

from tqdm import tqdm

from unetlab.errors import UnetlabError


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


class _AboveBars(logging.StreamHandler):
    """A console handler whose lines tqdm writes above the bars drawn (cleared, then drawn
    again below), at the level, format and filters of the handler it stands in for."""

    def __init__(self, handler: logging.StreamHandler):
        super().__init__(handler.stream)
        self.setLevel(handler.level)
        self.setFormatter(handler.formatter)
        self.filters = list(handler.filters)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=self.stream)
        except Exception:  # as logging's own handlers: a line that fails is reported
            self.handleError(record)


def _console(handler: logging.Handler) -> bool:
    return isinstance(handler, logging.StreamHandler) and handler.stream in (
        sys.stdout,
        sys.stderr,
    )


@contextlib.contextmanager
def lines_above_bars() -> Iterator[None]:
    """Within: the console handlers of the root logger and of unetlab's (the API's stderr one,
    :func:`unetlab.api_lines.api_lines`), and ``logging.lastResort`` (which says another
    library's warning where nothing set logging up), write above the bars drawn, not onto a
    bar's line. A logger without one gets none: tqdm's ``logging_redirect_tqdm`` adds one to
    each, so a line the package's handler said went on to one added to the root and was said
    twice (s64 user: every line of a notebook's ``predict_folder`` during a file's bar). On
    exit each handler is put back where its stand-in still sits; a handler added within, or
    one a context opened beside this one (another thread's) set, is left as it is."""
    resort, swapped = logging.lastResort, []
    above = _AboveBars(resort) if _console(resort) and not _standing_in(resort) else None
    try:
        if above is not None:
            logging.lastResort = above
        for logger in (logging.getLogger(), logging.getLogger("unetlab")):
            mine = {
                h: _AboveBars(h) for h in logger.handlers if _console(h) and not _standing_in(h)
            }
            swapped += [(logger, handler, stand_in) for handler, stand_in in mine.items()]
            logger.handlers = [mine.get(h, h) for h in logger.handlers]
        yield
    finally:
        if above is not None and logging.lastResort is above:
            logging.lastResort = resort
        for logger, handler, stand_in in swapped:
            logger.handlers = [handler if h is stand_in else h for h in logger.handlers]


def _standing_in(handler: logging.Handler) -> bool:
    """Whether ``handler`` is another context's stand-in (one open beside this one)."""
    return isinstance(handler, _AboveBars)


@contextlib.contextmanager
def progress_calls(
    progress, *, what: str = "the number of tiles done", each: bool = False, **settings
) -> Iterator[Callable | None]:
    """``progress`` as the function to call as work is done, None for none: ``True`` (a bar
    with ``settings``, :func:`progress_bar`, drawn where a person watches: :func:`shown`,
    as ``fit(progress=True)`` draws), ``False`` or None (none), or a function (called as it
    is, with ``what``). ``each``: the bar counts one a call, whatever it is called with (a
    file's name), instead of the number given. Anything else is refused in one line before
    the work begins (audit s32 notebook 4: ``progress=True`` raised "'bool' object is not
    callable" after the first batch)."""
    if checked(progress, what) is True:
        lines = lines_above_bars() if shown(True) else contextlib.nullcontext()
        with progress_bar(disable=not shown(True), **settings) as bar, lines:
            yield _BarCalls(bar, each)
    else:
        yield progress or None


class _BarCalls:
    """A bar's update as the function :func:`progress_calls` yields: ``(n)`` adds n (one a
    call where ``each``), :meth:`add_total` what the work learns it holds."""

    def __init__(self, bar: tqdm, each: bool):
        self.bar, self.each = bar, each

    def __call__(self, n=1) -> None:
        self.bar.update(1 if self.each else n)

    def add_total(self, n: int) -> None:
        self.bar.total = (self.bar.total or 0) + n
        self.bar.refresh()


def add_total(progress, n: int) -> None:
    """Tell ``progress`` (a :func:`progress_calls` bar) that ``n`` more are to come, so that
    it shows a share and the time left (a tile bar counted tiles with no end, audit s42
    api); a function of the user's, or None, is left alone."""
    if isinstance(progress, _BarCalls):
        progress.add_total(n)


def checked(progress, what: str, *, calls: bool = True):
    """``progress`` as given where it is True, False, None or (``calls``) a function, to be
    called with ``what``; else UnetlabError in one line, before any work."""
    if progress is None or isinstance(progress, bool) or (calls and callable(progress)):
        return progress
    called = f", or a function of {what}" if calls else ""
    raise UnetlabError(f"progress must be True (a progress bar) or False{called}, not {progress!r}")
