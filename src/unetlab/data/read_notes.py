"""What reading files did that the user should hear of once, not once a file: pictures turned
by their EXIF orientation, images with transparent pixels.

:func:`unetlab.data.io.read_stack` notes them here. Within :func:`read_notes` (a command: the
CLI wraps each in it) they are gathered and said in one line each at its end; outside
(the Python API) the first turned file is said once a process, and each file with transparent
pixels once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class ReadNotes:
    """Files read turned (path -> orientation tag) and with transparent pixels (path ->
    their share)."""

    turned: dict[str, int] = field(default_factory=dict)
    transparent: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The lines said at the end of a command (none when there is nothing to say)."""
        out = []
        if self.turned:
            out.append(turned_line(self.turned))
        if self.transparent:
            out.append(transparent_line(self.transparent))
        return out


_active: ReadNotes | None = None
_said: set[str] = set()  # outside read_notes: what was said already in this process


@contextlib.contextmanager
def read_notes() -> Iterator[ReadNotes]:
    """Gather what reading files notes within, and log it at the end, one line a kind."""
    global _active
    outer, _active = _active, ReadNotes()
    notes = _active
    try:
        yield notes
    finally:
        _active = outer
        if outer is not None:  # nested: the outer one says it
            outer.turned |= notes.turned
            outer.transparent |= notes.transparent
        else:
            for line in notes.lines():
                log.info("%s", line)


def note_turned(path: str, orientation: int) -> None:
    """``path`` was read turned as its orientation tag ``orientation`` says."""
    if _active is not None:
        _active.turned[str(path)] = orientation
    elif "turned" not in _said:
        _said.add("turned")
        log.info(
            "%s is turned by its EXIF orientation, as viewers show it (so is any other file "
            "with such a tag; said once): masks must be drawn on that view, and outputs are in it",
            path,
        )


def note_transparent(path: str, share: float) -> None:
    """``share`` (0-1) of the pixels of the image ``path`` are transparent."""
    if _active is not None:
        _active.transparent[str(path)] = share
    elif str(path) not in _said:
        _said.add(str(path))
        log.warning("%s", transparent_line({str(path): share}))


def turned_line(turned: dict[str, int]) -> str:
    return (
        f"{len(turned)} file(s) turned by their EXIF orientation, as viewers show them "
        f"({_named(turned)}); masks must be drawn on that view, and outputs are in it"
    )


def transparent_line(transparent: dict[str, float]) -> str:
    shares = {p: f"{s:.0%}" if s >= 0.01 else f"{s:.2%}" for p, s in transparent.items()}
    named = _named(shares, shown=lambda p, s: f"{p} {s}")
    return (
        f"{len(transparent)} image(s) with transparent pixels ({named} of the pixels): unetlab "
        "drops the alpha and reads the colour stored under it (often black or white), which "
        "is segmented like the rest; fill the transparent pixels with the background the "
        "model knows, or leave those pixels out of what you measure"
    )


def _named(items: dict, keep: int = 3, shown=lambda p, v: p) -> str:
    listed = ", ".join(shown(p, v) for p, v in list(items.items())[:keep])
    return listed + (f" and {len(items) - keep} more" if len(items) > keep else "")
