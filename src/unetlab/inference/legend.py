"""``legend.png`` beside the overlays and colour label images of a model of three classes
or more: each class's colour and name, which the images themselves do not say (audit s43
legend 1). One per output folder, written after its outputs, recorded in the folder's
manifest as the command's own file (so a rerun replaces it and --skip-existing counts it
as bookkeeping), never over a file the command did not make nor over an input's output
(an input ``legend.png`` gives a label image of that name: then no legend)."""

from __future__ import annotations

import logging
from pathlib import Path

from unetlab.manifest import forget, made_from, record
from unetlab.plots import plot_legend

log = logging.getLogger(__name__)

#: the legend's name in an output folder
LEGEND = "legend.png"
#: the fewest classes a legend is drawn for (two: the overlay's one colour is the object)
LEGEND_MIN_CLASSES = 3


def legend_wanted(model, *, overlay: bool, color: bool, by_object: bool = False) -> bool:
    """Whether a run's outputs show classes in colours a legend explains: overlays of
    classes (not of objects, ``by_object``) or colour label images, of a model of
    LEGEND_MIN_CLASSES classes or more."""
    classes = getattr(model, "num_classes", 0)
    return classes >= LEGEND_MIN_CLASSES and ((overlay and not by_object) or color)


def own_legend(folder: Path, command: str = "predict") -> set[str]:
    """{LEGEND} where ``folder``'s legend.png is the one ``command`` wrote (of no input: not
    an input's labels), else {}: the files that read a folder of predictions pass over."""
    return own_legend_of(made_from(folder, command))


def own_legend_of(made: dict[str, str | None]) -> set[str]:
    """:func:`own_legend` of a folder whose :func:`~unetlab.manifest.made_from` is ``made``."""
    return {LEGEND} if made.get(LEGEND, "") is None else set()


def write_legend(folder: Path, names: list[str], colours, command: str) -> Path | None:
    """``folder/legend.png`` of ``names`` in ``colours`` (one (R, G, B) per class), written
    by ``command``; None, said in one line, where ``legend.png`` there is not its own (a
    file it did not write, or an input's output). Call it with the folder held."""
    path, made = Path(folder) / LEGEND, made_from(folder, command)
    if path.exists() and not own_legend_of(made):
        if source := made.get(LEGEND):  # an input legend.* gave it: its labels
            why = f"the labels of the input {source}; rename that input to get a legend"
        else:
            why = f"not a legend unetlab {command} wrote"
        log.info("%s: not replaced (%s): no legend", path, why)
        return None
    return _drawn(folder, path, command, lambda: plot_legend(names, colours, path))


def _drawn(folder: Path, path: Path, command: str, draw) -> Path:
    """``draw()`` (writing ``path`` atomically), ``path`` listed in the manifest before, as
    every output is (a process killed after the rename leaves it ``command``'s, not a file
    of someone's that refuses the folder); where the drawing fails, the line is taken back
    unless ``command``'s earlier legend stays there: a line for a file never written made a
    legend.png someone put there later ``command``'s, replaced by the next run (s44 small 3)."""
    there = path.exists()
    record(folder, [LEGEND], command=command)
    try:
        return draw()
    except BaseException:
        if not there:
            forget(folder, [LEGEND], command)
        raise


def drop_stale_legend(folder: Path, written: list[str], command: str) -> bool:
    """Remove ``command``'s legend.png of an earlier run from ``folder`` where a run that
    wants none (two classes, grey labels) wrote the outputs of every input that has outputs
    there (``written``: their input sources): no image left shows the colours it names (it
    stayed, naming another model's classes). Kept where another input's outputs remain.
    Call it with the folder held."""
    made, path = made_from(folder, command), Path(folder) / LEGEND
    if not own_legend_of(made) or not path.exists():
        return False
    sources = {s for n, s in made.items() if s is not None and (Path(folder) / n).exists()}
    if not sources <= set(written):
        return False
    log.info("removed %s: the legend of an earlier run's colours, no output here shows", path)
    path.unlink()
    forget(folder, [LEGEND], command)
    return True
