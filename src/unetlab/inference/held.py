"""The output folders this thread holds for a run of predict, and what each one's claim
covers: :func:`holding_folder` (entered by
:func:`~unetlab.inference.output_rules.prediction_folder`), :func:`held_folders`,
:func:`claimed_sources`; :func:`refuse_own_input`, an input's outputs checked against it
unless the claim did that. Below :mod:`unetlab.inference.slides` and
:mod:`unetlab.inference.output_rules`, which both ask it (s73 review: slides imported
output_rules inside a function, to dodge a cycle).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from unetlab.outputs import refuse_inputs

__all__ = [
    "claimed_sources",
    "held_folders",
    "holding_folder",
    "input_source",
    "refuse_own_input",
]


def input_source(path: str | os.PathLike) -> str:
    """How the manifest names the input an output was made from: its resolved path (no
    stat of it: ``Path.resolve`` made one, each of 5 asks an input, s62), resolved now: a
    link retargeted since the command's first look is named as its outputs read it (s63:
    :func:`~unetlab.data.tiff_files.real_path`'s, kept, named the old target)."""
    return os.path.realpath(path)


#: the output folders this thread holds through prediction_folder (their resolved paths), and
#: each one's claimed sources (:func:`holding_folder`; not :mod:`.slide_resume`'s unskipped inputs)
_HELD_FOLDERS = threading.local()


def held_folders() -> set[Path]:
    """The output folders this thread holds through
    :func:`~unetlab.inference.output_rules.prediction_folder` (resolved):
    :func:`~unetlab.inference.files.predict_file` writes into them without checking again."""
    if not hasattr(_HELD_FOLDERS, "folders"):
        _HELD_FOLDERS.folders = set()
    return _HELD_FOLDERS.folders


def refuse_own_input(out_dir: Path, outputs: Iterable[Path], path: Path) -> None:
    """OutputError where one of ``outputs`` (in ``out_dir``) is the input ``path``
    (:func:`~unetlab.outputs.refuse_inputs`), unless the claim of ``out_dir`` this thread
    holds covers ``path`` (:func:`claimed_sources`): that claim refused its every input as
    an output already (s73: a slide predict_folder had checked was checked again, a stat of
    each output). A hold of ``out_dir`` for other inputs spares nothing (s73 review: a
    ``tomo.mrc`` predicted into its own folder, held for ``sub/x.rec``, was written over).
    ``path`` as the claim named it is not resolved again (a record's resolves: s63)."""
    claimed = set(claimed_sources(out_dir).values())
    if os.fspath(path) not in claimed and input_source(path) not in claimed:  # resolved once
        refuse_inputs(outputs, [path])


def claimed_sources(out_dir: str | os.PathLike) -> Mapping[str, str]:
    """Each output name this thread's
    :func:`~unetlab.inference.output_rules.prediction_folder` of ``out_dir`` listed in its
    manifest -> the input it named (:func:`~unetlab.inference.output_rules.output_sources`
    at the claim); empty where this thread holds no such folder (a process of a group but
    the main one)."""
    return getattr(_HELD_FOLDERS, "claimed", {}).get(Path(out_dir).resolve(), {})


@contextlib.contextmanager
def holding_folder(folder: Path, sources: Mapping[str, str]) -> Iterator[None]:
    """``folder`` among :func:`held_folders` within, its claim's ``sources`` its
    :func:`claimed_sources` (a process of a group but the main one: none, the main one's
    claim holds it for all)."""
    key = folder.resolve()
    held_folders().add(key)
    if not hasattr(_HELD_FOLDERS, "claimed"):
        _HELD_FOLDERS.claimed = {}
    _HELD_FOLDERS.claimed[key] = sources
    try:
        yield
    finally:
        held_folders().discard(key)
        _HELD_FOLDERS.claimed.pop(key, None)
