"""A stopped evaluation (a notebook cell's Ctrl-C, SIGTERM) said in one line: how many images
:func:`~unetlab.evaluate.evaluate_model` or :func:`~unetlab.evaluate.evaluate_predictions`
had scored and that nothing is kept, where no caller says the stop (``unetlab evaluate`` says
its own: :func:`~unetlab.signals.stop_said`)."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator

from unetlab.progress import add_total
from unetlab.signals import stop_said, stop_status
from unetlab.words import numbered

log = logging.getLogger(__name__)


def says_its_stop(name: str) -> Callable[[Callable], Callable]:
    """A decorator: the evaluation (called ``name`` in its line) whose stop is said in one
    line where no caller says it, as fit's and predict_folder's are (s64 notebook: a bare
    KeyboardInterrupt from evaluate_model; s66: from evaluate_predictions)."""

    def decorated(evaluate: Callable) -> Callable:
        @functools.wraps(evaluate)
        def evaluating(*args, **kwargs):
            with stop_said(functools.partial(_say_stopped, name)):
                return evaluate(*args, **kwargs)

        return evaluating

    return decorated


def _say_stopped(name: str, exc: KeyboardInterrupt) -> None:
    """``evaluate_model interrupted after scoring 2 of 5 images (...)``: how far it got
    (``exc.scored``, :func:`counted`'s :meth:`Count.said`; none where it stopped elsewhere)
    and that nothing is kept, so the same call starts again."""
    scored = getattr(exc, "scored", None)
    log.warning(
        "%s %s%s (a report is returned whole, at the end: none kept); run the same call "
        "again to score them all",
        name,
        stop_status(exc)[0],
        f" after scoring {scored}" if scored else "",
    )


class Count:
    """Called with each image's name once scored: counts it and calls ``done`` (the
    evaluation's progress: a bar, the user's function or None). ``unopened``: the files of
    ``total`` that may hold a stack, not opened yet (one image counted for each);
    :meth:`opened` each file as its first page comes, with its pages (the bar told too)."""

    def __init__(self, total: int, done: Callable[[str], None] | None, unopened=()):
        self.scored, self.total, self.done = 0, total, done
        self.unopened, self.unit = set(unopened), "image"

    def __call__(self, name: str) -> None:
        self.scored += 1
        if self.done is not None:
            self.done(name)

    def opened(self, path, pages: int) -> None:
        self.unopened.discard(path)
        if pages > 1:
            self.total += pages - 1
            add_total(self.done, pages - 1)

    def said(self) -> str:
        """``2 of 5 images``; ``of at least 4`` while a file not opened may hold a stack
        (s66 review: two 3-page stacks stopped in the first were "1 of 4 images")."""
        least = "at least " if self.unopened else ""
        return f"{self.scored} of {least}{numbered(self.total, self.unit)}"


@contextlib.contextmanager
def counted(
    total: int, done: Callable[[str], None] | None, *, unopened=(), unit: str = "image"
) -> Iterator[Count]:
    """A :class:`Count` of ``total`` images (or another ``unit``: a stack) passing each on to
    ``done``, ``unopened`` the files among them whose pages are not known yet; a stop within is
    marked with how many were scored (``exc.scored``: its line, :func:`says_its_stop`)."""
    count = Count(total, done, unopened)
    count.unit = unit
    try:
        yield count
    except KeyboardInterrupt as exc:
        exc.scored = count.said()
        raise
