"""The files of an input folder that unetlab wrote there (the folder's ``.unetlab-outputs``
lists them): an earlier run's outputs, never read back as inputs, while the folder's other
images still are.

``predict --input data/a --output data --overwrite`` leaves labels and a manifest among the
user's own files in ``data``: ``--recursive`` then passed over the whole folder, its
sub-folders too, and said ``no images found in data or its sub-folders`` (audit s37 paths
C); a folder given without ``--recursive`` read the labels as images. A folder whose images
are all unetlab's (an output folder inside the tree) gives no inputs, as before, and is
named in the tree's line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from unetlab.errors import OutputError
from unetlab.manifest import MANIFEST, writers_of
from unetlab.words import numbered

__all__ = [
    "earlier_outputs",
    "holds_outputs",
    "outputs_line",
    "pattern_outputs_line",
    "tree_outputs_line",
]


def earlier_outputs(folder: Path, paths: Iterable[Path]) -> list[Path]:
    """Those of ``paths`` (files and folders of ``folder``) that the folder's manifest lists:
    outputs unetlab wrote there (a line a run listed but did not write is no such one). A
    manifest that cannot be read lists none: its files are read as inputs."""
    if not os.path.lexists(Path(folder) / MANIFEST):
        return []
    try:
        ours = writers_of(Path(folder))
    except OutputError:
        return []
    return [p for p in paths if p.name in ours]


def holds_outputs(folder: Path) -> bool:
    """Whether unetlab wrote into ``folder`` or a folder under it (one holds a manifest):
    ``ds/pred/`` that ``predict --input ds --recursive --output ds/pred`` made (its
    ``images/``, ``test/``). Hidden folders are not searched, nor links."""
    for here, subs, _ in os.walk(folder):
        if os.path.lexists(Path(here) / MANIFEST):
            return True
        subs[:] = [s for s in subs if not s.startswith(".")]
    return False


def _names(paths: Sequence[Path], most: int = 2) -> str:
    """``a.png, b.png ...``: the first ``most`` names."""
    return ", ".join(p.name for p in paths[:most]) + (" ..." if len(paths) > most else "")


def outputs_line(folder: Path, passed: Sequence[Path]) -> str:
    """The line for a folder given to predict that holds ``passed``, outputs unetlab wrote."""
    are, them, inputs = _said_of(passed)
    return (
        f"{folder}/: {numbered(len(passed), 'file')} there {are} unetlab wrote "
        f"({_names(passed)}; its {MANIFEST} lists {them}), {inputs}: not predicted; give a "
        "file itself to predict it"
    )


def _said_of(passed: Sequence[Path]) -> tuple[str, str, str]:
    """The words agreeing with the count of ``passed``: ``is an output``, ``it``, ``not an
    input`` of one file; ``are outputs``, ``them``, ``not inputs`` of several (it said "1
    file(s) ... are", s56; "1 file ... lists them", s56 review B)."""
    if len(passed) == 1:
        return "is an output", "it", "not an input"
    return "are outputs", "them", "not inputs"


def pattern_outputs_line(pattern: Path, passed: Sequence[Path]) -> str:
    """The line for a glob ``pattern`` given to predict whose matches hold ``passed``,
    outputs unetlab wrote."""
    are, them, inputs = _said_of(passed)
    whose = "its folder's" if len(passed) == 1 else "their folder's"
    return (
        f"'{pattern}': {numbered(len(passed), 'file')} it matches {are} unetlab wrote "
        f"({_names(passed)}; {whose} {MANIFEST} lists {them}), {inputs}: not predicted; give "
        "a file itself to predict it"
    )


def tree_outputs_line(root: Path, passed: Mapping[Path, Sequence[Path]], most: int = 3) -> str:
    """What a tree whose folders (relative to ``root``) held ``passed`` passed over."""
    named = [f"{Path(root, rel).as_posix()}/ ({len(files)})" for rel, files in passed.items()]
    more = f" and {len(named) - most} more" if len(named) > most else ""
    return (
        f"files that unetlab wrote (an earlier run's outputs, listed in each folder's "
        f"{MANIFEST}) are not inputs: passed over in {', '.join(named[:most])}{more}"
    )
