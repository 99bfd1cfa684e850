"""Saying, as images are predicted, that some lie far from the training images the model's
checkpoint describes (:mod:`unetlab.data.appearance`): another stain batch, microscope or
exposure, whose masks may be silently wrong (note32 "Stain"; audit s32 histo 3).

Within a run (:func:`far_run`: a file, a folder, a stack, an evaluation) the first image that
lies far is said in full as it is met, and at the run's end one line counts them and names
the farthest; an image of another dtype than the training images' is said once a run and
dtype. Calls outside any run (``predict_image`` in a notebook's loop) say each far image,
the first in full and then its figures and a pointer to that one, and a dtype once a process.
In a group of processes (``--nproc N``: each its share of the files) the others' runs are
``held``: what they would say is kept, and the main one says it (:meth:`FarCount.merge`) as a
run of one would, once.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from unetlab.data.appearance import Shift, appearance_shift, image_appearance

log = logging.getLogger(__name__)


@dataclass
class FarCount:
    """What a run has met: ``checked`` images compared, ``far`` of them far (the first's
    name, and the farthest's name and :class:`Shift`), the ``dtypes`` said. A ``held`` run's
    (a process of a group but the main one) lines are kept in ``lines`` (a dtype or "far"
    -> its line) for the main one's :meth:`merge`, not said."""

    checked: int = 0
    far: int = 0
    first: str | None = None
    farthest: tuple[str, Shift] | None = None
    dtypes: set[str] = field(default_factory=set)
    held: bool = False
    lines: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, shift: Shift) -> None:
        self.far += 1
        self.first = self.first or name
        if self.farthest is None or shift.z > self.farthest[1].z:
            self.farthest = (name, shift)

    def say(self, key: str, line: str) -> None:
        """Say ``line`` (a dtype's or the first far image's: ``key``), or keep it where held."""
        if self.held:
            self.lines.setdefault(key, line)
        else:
            log.warning("%s", line)

    def merge(self, other: FarCount) -> None:
        """Add ``other``, a held run's count (another process's share of the files), saying
        the lines it kept that this run has not said: a dtype once, the first far image in
        full where this run met none."""
        for key, line in other.lines.items():
            if key not in self.dtypes and (key != "far" or not self.far):
                self.say(key, line)
        self.dtypes |= other.dtypes
        self.checked += other.checked
        self.far += other.far
        self.first = self.first or other.first
        if other.farthest and (self.farthest is None or other.farthest[1].z > self.farthest[1].z):
            self.farthest = other.farthest

    def handed(self) -> FarCount:
        """A copy of this held count to hand to the main one, this one emptied (its dtypes
        still known: said once)."""
        out = replace(self, dtypes=set(self.dtypes), lines=dict(self.lines))
        self.checked, self.far, self.first, self.farthest, self.lines = 0, 0, None, None, {}
        return out

    def summary(self) -> str | None:
        """The run's closing line, where two images or more lay far; else None (the one
        was said in full)."""
        if self.far < 2 or self.farthest is None:
            return None
        name, shift = self.farthest
        return (
            f"{self.far} of {self.checked} images lie far from the training images' "
            f"intensities, the first ({self.first}) said above; the farthest: {name}, "
            f"{shift.figures()}"
        )


#: the run being predicted (:func:`far_run`), None outside any
_RUN: contextvars.ContextVar[FarCount | None] = contextvars.ContextVar(
    "unetlab_far_run", default=None
)
#: calls outside any run, in this process
_OUTSIDE = FarCount()


@contextlib.contextmanager
def far_run(*, held: bool = False) -> Iterator[None]:
    """A run within which far images are counted and summed up in one line at its end (not
    said when it ends by an exception); entered within another run, that run goes on.
    ``held``: a process of a group but the main one, whose lines and count the main one
    says (:func:`handed`, :func:`merge_handed`)."""
    if _RUN.get() is not None:
        yield
        return
    count = FarCount(held=held)
    token = _RUN.set(count)
    try:
        yield
    finally:
        _RUN.reset(token)
    if not held and (line := count.summary()):
        log.warning("%s", line)


def handed() -> FarCount | None:
    """This process's held run's count, handed to the main one (:func:`merge_handed`) and
    emptied here; None outside a held run."""
    run = _RUN.get()
    return run.handed() if run is not None and run.held else None


def merge_handed(count: FarCount | None) -> None:
    """Add another process's :func:`handed` count to this run's (the main process's)."""
    run = _RUN.get()
    if count is not None and run is not None:
        run.merge(count)


def say_appearance(
    record: dict | None,
    spec: dict,
    image: np.ndarray,
    *,
    name: str = "image",
    mean: np.ndarray | None = None,
    dtype_said: bool = False,
) -> Shift | None:
    """Say, as the module says, whether ``image`` (the pixels its normalisation statistics are
    taken over) lies far from the training images ``record`` describes (a checkpoint's
    ``appearance``; None, an older checkpoint: nothing is said). ``spec``: the model's
    normalisation (tissue pixels only for a tissue model); ``mean``: the image's raw
    per-channel mean where the caller has it; ``dtype_said``: another dtype was said already
    (the floor's line). Returns the shift found, or None."""
    if not record:
        return None
    if mean is None:
        mean, _ = image_appearance(image, spec)
    shift = appearance_shift(record, mean, image.dtype)
    run = _RUN.get()
    count = _OUTSIDE if run is None else run
    count.checked += 1
    if shift is None or shift.kind == "dtype" and dtype_said:
        return shift
    if shift.kind == "dtype":
        if shift.dtype not in count.dtypes:
            count.dtypes.add(shift.dtype)
            count.say(shift.dtype, f"{name}: {shift.line()}")
        return shift
    count.add(name, shift)
    if count.far == 1:
        count.say("far", f"{name}: {shift.line()}")
    elif run is None:
        log.warning(
            "%s: %s: far from the training images, as said in full for %s",
            *(name, shift.figures(), said_in_full_for(count.first, count.far, name)),
        )
    return shift


def said_in_full_for(first: str, nth: int, name: str) -> str:
    """The image ``first`` whose line was said in full, as the short line of the ``nth``
    such image, ``name``, points to it: by name, or, where the names do not tell them apart
    (a loop of ``predict_image`` calls without ``name=``: each is "image"), by count ("as
    said in full for image" pointed every unnamed image to itself); an unnamed image after a
    named first (a loop without ``name=`` after one with it: s67 notebook) by both."""
    this = f"this is the {_ordinal(nth)}"
    if first in (name, "image"):
        return f"the 1st such image ({this})"
    return f"{first} ({this} such image)" if name == "image" else first


def _ordinal(n: int) -> str:
    ending = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{ending}"


def say_streamed_appearance(
    model, image, mean: np.ndarray, *, name: str, dtype_said: bool = False
) -> Shift | None:
    """:func:`say_appearance` of a streamed image (a slide's page) whose per-channel ``mean``
    its normalisation statistics hold: those of a ``per_image`` model (over the tissue for a
    tissue model) are the raw statistics the record holds. A model normalised otherwise is not
    checked here: its raw mean would cost a second read of the whole slide. ``dtype_said``:
    the floor's line names the page's other dtype (as :func:`say_appearance`)."""
    spec = getattr(model, "normalization", None) or {}
    if spec.get("mode") != "per_image":
        return None
    record = getattr(model, "appearance", None)
    return say_appearance(record, spec, image, name=name, mean=mean, dtype_said=dtype_said)
