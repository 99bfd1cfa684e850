"""What a command reads of a file, read once while the file is unchanged: within
:meth:`ReadOnce.kept` each read is kept by what was read, the file's path and its stamp
(:func:`file_stamp`), so checks that ask the same of the same file read it once (s59: a
TIFF's header opened 2 to 5 times by the channel checks, an earlier evaluate report 3
times by one command); a file changed meanwhile is read again. Outside, each read reads.
Its scope, a dict of the context's kept within, is :class:`ContextKept`, which keeps
other facts too (the regions :mod:`unetlab.data.regions` counted of a mask)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import TypeVar

__all__ = ["ContextKept", "ReadOnce", "file_stamp", "input_stamp", "looked_input"]

T = TypeVar("T")
#: a file's stamp as its reads take it (:meth:`ReadOnce._look`) and the ``os.stat`` it came from
_Look = tuple[tuple | None, os.stat_result | None]


#: the tick of a file system's clock a stamp allows for: Linux before 6.13 dated changes by
#: a jiffy (1 to 10 ms); a file changed within it of its stamp may change again within the
#: same tick and so keep its times (replaced: its inode taken back, its size the same; s65,
#: Linux 6.18 ext4: the inode taken back by 1995 of 2000 double replaces, the times never
#: kept)
CLOCK_TICK_NS = 10_000_000
#: the tick of a file system whose times are whole seconds (ext4 with 128-byte inodes,
#: ext3, HFS+: 1 s; FAT: 2 s), told by a time that is one (s65 review: 10 ms vouched for
#: a file changed again within its second)
WHOLE_SECONDS_TICK_NS = 2_000_000_000
#: allowed over a tick: the clock read a little after the stat, a file server's a little
#: behind this machine's (NFS)
TICK_MARGIN_NS = 20_000_000


def file_stamp(path: str | os.PathLike) -> tuple[int, int, int, int] | None:
    """(inode, size, time, change time) of the file, None where it cannot be read (then
    opened again: the open says why): what says a file read before is the same file now;
    its change time, which no one sets, tells a file rewritten in place with its size and
    its time set back (``cp -p`` over it: s62 review)."""
    return _stamp_of(_stat(path))


def input_stamp(path: str | os.PathLike) -> tuple | None:
    """:func:`file_stamp` of an input, as a read kept by it takes it: one taken within a clock
    tick of the file's change equals no other, so vouches for no later look (:func:`_vouching`)."""
    return _vouching(file_stamp(path))


def _stat(path: str | os.PathLike) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _stamp_of(st: os.stat_result | None) -> tuple[int, int, int, int] | None:
    """:func:`file_stamp` from the ``os.stat`` ``st``."""
    return None if st is None else (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _vouching(stamp: tuple | None) -> tuple | None:
    """``stamp`` (:func:`file_stamp`), or where its file changed within a clock tick of now
    (:func:`_tick_ns`) a stamp equal to no other (an object added), which vouches for no
    later look: changed again within that tick, it could show all four as they were (s65;
    as git's racily clean entries)."""
    if stamp is not None and time.time_ns() - stamp[3] < _tick_ns(stamp):
        return (*stamp, object())
    return stamp


def _tick_ns(stamp: tuple) -> int:
    """The tick of the clock that dated ``stamp``'s file, with :data:`TICK_MARGIN_NS`: a
    file system's of whole seconds where its time or change time is one
    (:data:`WHOLE_SECONDS_TICK_NS`), else :data:`CLOCK_TICK_NS`."""
    whole = any(t % 1_000_000_000 == 0 for t in stamp[2:4])
    return (WHOLE_SECONDS_TICK_NS if whole else CLOCK_TICK_NS) + TICK_MARGIN_NS


class ContextKept:
    """A dict of the context's (one by ``name``), there within :meth:`kept`: what a
    command keeps for itself and lets go of at its end."""

    def __init__(self, name: str):
        self._done: ContextVar[dict | None] = ContextVar(name, default=None)

    @contextlib.contextmanager
    def kept(self) -> Iterator[None]:
        """Within: a dict kept (:meth:`get`); within another, that one's."""
        token = self._done.set({}) if self._done.get() is None else None
        try:
            yield
        finally:
            if token is not None:
                self._done.reset(token)

    def get(self) -> dict | None:
        """The dict kept now; None outside :meth:`kept`."""
        return self._done.get()

    def note(self, keys: Iterable[tuple]) -> None:
        """Each of ``keys`` noted within :meth:`kept` (nothing outside): a fact the command
        learnt (an input it found), asked by :meth:`noted`."""
        if (done := self.get()) is not None:
            done.update(dict.fromkeys(keys, True))

    def noted(self, key: tuple) -> bool:
        """Whether ``key`` was noted (:meth:`note`) within this :meth:`kept`."""
        return (self.get() or {}).get(key, False)

    def once(self, key: tuple, make: Callable[[], T]) -> T:
        """``make()``, called once for ``key`` within :meth:`kept` (no stamp: a fact that
        holds for the command, such as a path's real path); each time outside."""
        done = self.get()
        if done is None:
            return make()
        if key not in done:
            done[key] = make()
        return done[key]


#: the reads of inputs (:class:`ReadOnce` ``inputs=True``), whose looks :func:`looked_input` asks
_INPUT_READS: list[ReadOnce] = []


class ReadOnce(ContextKept):
    """Reads of files kept within :meth:`kept` (one of the context's, by ``name``);
    ``inputs``: of files others may change while a command runs (its inputs, an acquisition's
    next frame), of which a stamp taken within a clock tick of a change vouches for no later
    look (:func:`_vouching`; unetlab's own files: :meth:`drop` once written)."""

    def __init__(self, name: str, *, inputs: bool = False):
        super().__init__(name)
        self._inputs = inputs
        if inputs:
            _INPUT_READS.append(self)
        #: the path within :meth:`stamped`, its stamp and the ``os.stat`` it came from
        self._stamped: ContextVar[tuple[str, tuple | None, os.stat_result | None] | None] = (
            ContextVar(name + "_stamped", default=None)
        )
        #: within :meth:`settled`: each path read -> its stamp and the ``os.stat`` it came from
        self._settled: ContextVar[dict[str, _Look] | None] = ContextVar(
            name + "_settled", default=None
        )

    @contextlib.contextmanager
    def stamped(self, path: str | os.PathLike) -> Iterator[None]:
        """Within (and within :meth:`kept`), the reads of ``path`` (so named) take the stamp
        it has now: one ``stat`` for the reads of one look at the file (s62: its positions,
        axes, level 0 and GeoTIFF tags took one each, read from one open)."""
        held = self._stamped.get()
        if not self.keeping() or (held is not None and held[0] == os.fspath(path)):
            yield  # within one of the same file: its stamp
            return
        token = self._stamped.set((os.fspath(path), *self._look(path)))
        try:
            yield
        finally:
            self._stamped.reset(token)

    @contextlib.contextmanager
    def settled(self) -> Iterator[None]:
        """Within (and within :meth:`kept`), the stamp each file took at its first read
        holds for all its reads: for a block in which the files read do not change, one
        look of a command at its inputs (s64: ``unetlab predict``'s before the first is
        predicted took 15 stamps of each input, a ``stat`` each); a file changed after it
        is read anew by the reads after it."""
        if not self.keeping() or self._settled.get() is not None:
            yield
            return
        token = self._settled.set({})
        try:
            yield
        finally:
            self._settled.reset(token)

    def _stamp(self, path: str | os.PathLike) -> tuple | None:
        return self._look(path)[0]

    def _look(self, path: str | os.PathLike) -> _Look:
        """The stamp of ``path`` its reads take now and the ``os.stat`` it came from: within
        :meth:`stamped` of it, that one's; within :meth:`settled`, its first read's; else
        taken now."""
        if (look := self._looked(path := os.fspath(path))) is not None:
            return look
        if (settled := self._settled.get()) is None:
            return self._look_now(path)
        settled[path] = self._look_now(path)
        return settled[path]

    def _look_now(self, path: str) -> _Look:
        """:func:`file_stamp` of ``path`` (of an input, :func:`_vouching`'s) and its stat."""
        st = _stat(path)
        stamp = _stamp_of(st)
        return (_vouching(stamp) if self._inputs else stamp), st

    def _looked(self, path: str) -> _Look | None:
        """The stamp and ``os.stat`` of ``path`` that the look now under way took: within
        :meth:`stamped` of it, or :meth:`settled` once it was read there; else None."""
        held, settled = self._stamped.get(), self._settled.get()
        if held is not None and held[0] == path:
            return held[1:]
        return None if settled is None else settled.get(path)

    def keeping(self) -> bool:
        """Whether reads are kept now (within :meth:`kept`)."""
        return self.get() is not None

    def read(self, what: tuple, path: str | os.PathLike, read: Callable[[], T]) -> T:
        """``read()`` of ``path``, called once for ``what`` within :meth:`kept` while the
        file is unchanged; each time outside."""
        done = self.get()
        if done is None:
            return read()
        key = (*what, os.fspath(path), self._stamp(path))
        if key not in done:
            done[key] = read()
        return done[key]

    def drop(self, path: str | os.PathLike) -> None:
        """What was kept of ``path`` let go of (within :meth:`kept`): the command changed
        the file, which is read anew whatever its stamp says (a file replaced twice within
        one tick of the file system's clock may take the first one's inode, size and times)."""
        done, path = self.get(), os.fspath(path)
        for key in [k for k in done or () if k[-2:-1] == (path,)]:
            del done[key]


def looked_input(path: str | os.PathLike) -> os.stat_result | None:
    """The ``os.stat`` of the input ``path`` (so named: its real path, as the reads of
    inputs name it) that a look of the command at its inputs took (:meth:`ReadOnce.settled`,
    :meth:`ReadOnce.stamped`): the file that look read, which a caller within that look
    that would stat it again takes instead (s66: the stamp of a published input, a stat of
    its own); else (none taken, or the file could not be read then) an ``os.stat`` now (None:
    it cannot be read). Only for a stamp of what that look read: the manifest's at the claim
    took the first look's, which ends before the model loads, so an input replaced after
    it and restored before the next run (``cp -p``) was stamped as the file restored, and
    the outputs predicted from the replacement were kept (s66 review)."""
    for reads in _INPUT_READS:
        if (look := reads._looked(os.fspath(path))) is not None and look[1] is not None:
            return look[1]
    return _stat(path)
