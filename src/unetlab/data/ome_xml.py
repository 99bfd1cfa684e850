"""An OME-XML document (an OME-TIFF's description) parsed once, as far as it is asked.

Each reader of a TIFF opens it anew and asks its OME-XML for what it needs of the image
read (:func:`~unetlab.data.positions.image_of`: a position's): the ``Pixels`` attributes
(pixel size, time increment), the channel names, the planes' ``DeltaT``. Each ask parsed
the document again from its start, so a multi-position file of N positions was parsed
about N times per reader over its positions, each time through all earlier Images.
:func:`image` keeps one parse per document (the text is the key), advanced only as far as
the Image asked for and only to its first ``Pixels`` where that is all that is asked: what
follows (planes, instrument and original metadata) can be megabytes, and a document that
stops parsing ends its answers quietly there.
"""

from __future__ import annotations

import functools
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["OmeImage", "image"]

#: characters of OME-XML parsed at a time
_PIECE = 1 << 16


@dataclass
class OmeImage:
    """What an OME ``Image`` says of its first ``Pixels``: its attributes (None until
    parsed), its ``Channel`` names, its ``Plane`` (TheT, DeltaT, DeltaTUnit) of those with a
    DeltaT, and whether the ``Pixels`` was parsed to its end (``closed``: the channels and
    planes are all there)."""

    pixels: dict[str, str] | None = None
    channels: list[str] = field(default_factory=list)
    planes: list[tuple[str | None, str, str | None]] = field(default_factory=list)
    closed: bool = False


def image(xml: str, index: int = 0, *, whole: bool = False) -> OmeImage | None:
    """Image number ``index`` of the OME-XML document ``xml``, parsed up to its first
    ``Pixels`` (with ``whole``: to that one's end); None where the document has no such
    Image, or stops parsing before it."""
    return _document(xml).image(index, whole=whole)


@functools.lru_cache(maxsize=8)  # the files being read; each keeps what was parsed of it
def _document(xml: str) -> _Document:
    return _Document(xml)


class _Document:
    """One document's parse, advanced as far as asked (one thread at a time)."""

    def __init__(self, xml: str):
        self.images: list[OmeImage] = []
        self._events = _events(xml)
        self._ended = False
        self._lock = threading.Lock()

    def image(self, index: int, *, whole: bool) -> OmeImage | None:
        with self._lock:
            while not self._ended and not self._has(index, whole):
                self._advance()
        return self.images[index] if index < len(self.images) else None

    def _has(self, index: int, whole: bool) -> bool:
        """Whether Image ``index`` is parsed as far as asked (or past: the next one begun)."""
        if index + 1 < len(self.images):
            return True
        if index >= len(self.images):
            return False
        at = self.images[index]
        return at.closed if whole else at.pixels is not None

    def _advance(self) -> None:
        """Take the next event into :attr:`images`."""
        try:
            event, tag, element = next(self._events)
        except StopIteration:
            self._ended = True
            return
        if tag == "Image":
            if event == "start":
                self.images.append(OmeImage())
            else:
                element.clear()  # what was parsed of it is kept: its elements can go
            return
        if not self.images or self.images[-1].closed:
            return
        at = self.images[-1]
        if event == "end":
            at.closed = tag == "Pixels" and at.pixels is not None  # the first Pixels' end
        elif tag == "Pixels" and at.pixels is None:
            at.pixels = dict(element.attrib)
        elif tag == "Channel" and at.pixels is not None:
            at.channels.append(element.attrib.get("Name", ""))
        elif tag == "Plane" and at.pixels is not None and "DeltaT" in element.attrib:
            attrib = element.attrib
            at.planes.append((attrib.get("TheT"), attrib["DeltaT"], attrib.get("DeltaTUnit")))


def _events(xml: str) -> Iterator[tuple[str, str, ET.Element]]:
    """(event "start" / "end", tag without its namespace, element) of ``xml`` in order,
    parsed a piece at a time; they end quietly where the XML stops parsing."""
    parser = ET.XMLPullParser(events=("start", "end"))
    try:
        for at in range(0, len(xml), _PIECE):
            parser.feed(xml[at : at + _PIECE])
            for event, element in parser.read_events():
                yield event, element.tag.rsplit("}", 1)[-1], element
    except ET.ParseError:
        return
