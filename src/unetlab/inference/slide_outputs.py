"""A streamed slide's outputs appear together: made under temporary names, then put in place in
one short step, the labels last.

Each output is minutes of work on a large slide; published one by one, a run killed between
them left a new GeoJSON and overlay beside an earlier run's objects and CSV, whose ids do
not match (audit s30 slides 2). :class:`Together` reserves a temporary for each output as
:func:`~unetlab.atomic.atomic_path` does (the same names, so a killed run's leftovers are
cleaned as its are), lets the slow writers fill them, and renames them all once every one
is written: the overlay and outlines first, the objects, and the labels last (the file that
says an input is done). A failure before that step leaves the earlier outputs as they were.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from unetlab.atomic import atomic_path
from unetlab.data import ome


class Together:
    """Temporaries for one slide's outputs, renamed to their final names when the block ends
    without an error (in the reverse order of :meth:`reserve`), removed when it fails."""

    def __init__(self, output_format: str):
        self.output_format = output_format
        self._stack = contextlib.ExitStack()
        self._at: dict[Path, Path] = {}

    def __enter__(self) -> Together:
        self._stack.__enter__()
        return self

    def __exit__(self, *exc) -> bool:
        return self._stack.__exit__(*exc)

    def reserve(self, final: Path, *, folder: bool = False) -> Path:
        """Where ``final`` is written until the step that publishes it: a temporary file
        beside it, or for an OME-Zarr folder (``folder``) its staging folder
        (:func:`~unetlab.data.ome.staging_path`), renamed to ``final`` then."""
        if folder:
            stage = ome.staging_path(final)

            def publish(kind, value, trace) -> bool:
                if kind is None:
                    ome.replace_folder(stage, final)
                else:  # a whole staged array, which no later run of Python would remove
                    shutil.rmtree(stage, ignore_errors=True)
                return False

            self._stack.push(publish)
            self._at[final] = stage
        else:
            self._at[final] = self._stack.enter_context(atomic_path(final))
        return self._at[final]

    def at(self, final: Path) -> Path:
        """The temporary :meth:`reserve` gave for ``final``."""
        return self._at[final]


def seal(together: Together, stage: Path, final: Path, spec: ome.OutputSpec) -> Path:
    """Complete a staged OME output (:func:`~unetlab.data.ome.seal`) into the temporary
    ``together`` holds for ``final``; returns ``final``."""
    fmt = together.output_format
    ome.seal(stage, final, spec, fmt, tiff=together.at(final) if fmt == "ome-tiff" else None)
    return final
