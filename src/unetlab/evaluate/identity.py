"""What tells two evaluation reports apart beside their figures (audit s34 repro 3): the files
scored, by content, and the code that scored them.

:func:`files_identity` names the scored files as ``split.json`` does a run's (each file's
sha256, :func:`unetlab.data.split_record.file_sha256`), and in one digest over them all, so
that two reports of "the test data" can be told the same data or not at a glance, and the
file that differs found. Hashing reads each file once more: about 150 MB/s on the 2-core
development machine (ISBI's 60 files, 6.4 MB: 0.04 s), little beside predicting or reading
the images.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from unetlab.data.split_record import file_sha256

__all__ = ["files_identity"]


def files_identity(files: Iterable[str | os.PathLike], root: str | os.PathLike) -> dict:
    """``{"files": n, "sha256": digest, "file_sha256": {name: sha256}}`` of ``files`` (each
    once; a stack's pages are one file): each named relative to ``root`` (POSIX) where it
    lies under it, else by its absolute path; ``sha256`` is the sha256 of the lines
    ``<name>\\t<sha256>\\n`` in name order, the same for the same files wherever the folder is."""
    root = Path(root).resolve()
    each: dict[str, str] = {}
    for path in dict.fromkeys(Path(f).resolve() for f in files):
        each[_name(path, root)] = file_sha256(path)
    lines = "".join(f"{name}\t{sha}\n" for name, sha in sorted(each.items()))
    digest = hashlib.sha256(lines.encode()).hexdigest()
    return {"files": len(each), "sha256": digest, "file_sha256": dict(sorted(each.items()))}


def _name(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
