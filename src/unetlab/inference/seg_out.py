"""A run's DICOM SEGs (``predict --output-format dicom-seg``,
:mod:`unetlab.data.dicom_seg`): which inputs may have one, asked of all before any work,
and each series' SEG written from its class indices.

A run whose inputs are not all DICOM series is refused, and so is one where highdicom is
not installed. A series with a slice lacking a UID the SEG refers to it by (an
anonymiser's) gets its NIfTI labels and no SEG, the run's other series their SEGs, said in
one line for the run (s74: the run was refused for it, its other series unpredicted); a
run whose every series lacks one is refused, as the flag can write nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path

import numpy as np
import torch

from unetlab.data.dicom import is_dicom_series
from unetlab.data.dicom_seg import (
    highdicom_for,
    refuse_unreferenced,
    unreferenced,
    unreferenced_line,
    write_seg,
)
from unetlab.data.seg_codes import SegCodes, refuse_unknown
from unetlab.data.shown import shown_path
from unetlab.errors import Spelled, UnetlabError, spelled
from unetlab.inference.predict import class_names_of, model_background
from unetlab.inference.records import OutputOptions
from unetlab.words import numbered

log = logging.getLogger(__name__)

#: the refusal of a SEG of an input that is no DICOM series, as the caller spells the format
SEG_OF_SERIES = Spelled(
    "not a DICOM series: output_format='dicom-seg' writes the SEG of a DICOM series "
    "(a folder of its slices); predict this input without it",
    "not a DICOM series: --output-format dicom-seg writes the SEG of a DICOM series "
    "(a folder of its slices); predict this input without it",
)

#: the series of the run within (:func:`passing_over`) that get no SEG, said already
_PASSED: ContextVar[frozenset[Path]] = ContextVar("series without a SEG", default=frozenset())


def refuse_seg(paths: Sequence[Path], outputs: OutputOptions) -> frozenset[Path]:
    """UnetlabError where ``outputs`` ask for a DICOM SEG and an input of ``paths`` is no
    DICOM series, naming the first and counting the others (one line for a run, not one an
    input), highdicom, which writes it, is not installed, or every series of ``paths`` not
    passed over already has a slice lacking a UID the SEG needs
    (:func:`~unetlab.data.dicom_seg.refuse_unreferenced`). Returns the series that lack one
    where others do not: no SEG of theirs is written, said in one line."""
    if not outputs.wanted["seg"]:
        return frozenset()
    if no := [p for p in paths if not is_dicom_series(p)]:
        more = f" (and {numbered(len(no) - 1, 'other input')})" if len(no) > 1 else ""
        raise UnetlabError(**spelled(lambda f: f"{shown_path(no[0])}{more}: {f}", SEG_OF_SERIES))
    if paths:
        highdicom_for(paths[0])
    return series_without_seg(paths)


def series_without_seg(paths: Sequence[Path]) -> frozenset[Path]:
    """The DICOM series of ``paths`` (those not passed over already) with a slice lacking a
    UID the SEG needs, said in one line; UnetlabError where every one lacks one
    (:func:`~unetlab.data.dicom_seg.refuse_unreferenced`). Asked of a whole tree's series
    by ``predict --recursive`` (s74 review: one anonymised patient's folder stopped the
    tree), of a folder's by :func:`refuse_seg`."""
    passed = _PASSED.get()  # before any work: s73 review, found with the prediction done
    lacking = {p: found for p in paths if p not in passed and (found := unreferenced(p))}
    if not lacking:
        return frozenset()
    if len(lacking) == len(paths):
        refuse_unreferenced(paths[0] if paths[0] in lacking else next(iter(lacking)))
    first, more = next(iter(lacking.items())), len(lacking) - 1
    others = f" (and {numbered(more, 'other series', 'other series')})" if more else ""
    log.warning(
        "%s%s: no DICOM SEG written of %s, its NIfTI labels are; export it again from the "
        "PACS for its SEG",
        *(unreferenced_line(first[1]), others, "them" if more else first[0].name),
    )
    return frozenset(lacking)


@contextlib.contextmanager
def passing_over(series: frozenset[Path]) -> Iterator[None]:
    """Within: the ``series`` (:func:`refuse_seg`'s) are predicted without a SEG, not
    refused again one by one."""
    token = _PASSED.set(_PASSED.get() | series)
    try:
        yield
    finally:
        _PASSED.reset(token)


def seg_wanted(path: Path, outputs: OutputOptions) -> bool:
    """Whether the SEG of the input ``path`` is written: asked for, and not passed over."""
    return outputs.wanted["seg"] and path not in _PASSED.get()


def write_series_seg(
    model: torch.nn.Module, series: Path, path: Path, labels: list, codes: SegCodes | None
) -> Path:
    """The DICOM SEG of ``series`` at ``path`` from its slices' class indices ``labels``: a
    segment per class of ``model`` but its background, named as the checkpoint names them
    (:func:`seg_classes`), coded as ``codes`` give (:mod:`unetlab.data.seg_codes`)."""
    volume, background = np.stack(labels), model_background(model)
    return write_seg(
        path, volume, series, classes=seg_classes(model), background=background, codes=codes
    )


def seg_classes(model: torch.nn.Module) -> list[str]:
    """The names of ``model``'s classes as its SEGs' segments are labelled: the
    checkpoint's, else ``class 1``, ... (a checkpoint that names none)."""
    count = max(getattr(model, "num_classes", 2), 2)
    names = class_names_of(model)
    return names if len(names) == count else [f"class {k}" for k in range(count)]


def refuse_unknown_codes(model: torch.nn.Module, codes: SegCodes) -> None:
    """UnetlabError, one line, where ``codes`` name a class that is no segment of
    ``model``'s SEGs (its classes but its background), before any work."""
    background = model_background(model)
    segments = [name for k, name in enumerate(seg_classes(model)) if k != background]
    refuse_unknown(codes, segments)
