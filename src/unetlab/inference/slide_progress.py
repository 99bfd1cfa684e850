"""Progress of a streamed slide, which may take an hour: a tile bar with its total (and so an
ETA) on a terminal, and a plain log line every ``EVERY_PERCENT`` % or ``EVERY_SECONDS`` s
where no bar is shown (a batch job's log, ``nohup``), since tqdm written to a file is one
line of carriage returns (audit s30 slides 5)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from unetlab.data.ome import Level, Step

log = logging.getLogger(__name__)

#: a log line at least every this many percent of the tiles ...
EVERY_PERCENT = 10
#: ... or every this many seconds, whichever comes first
EVERY_SECONDS = 60.0
#: the bar of the work after the tiles is redrawn at most this often (its steps may be
#: objects, thousands a second)
DRAW_SECONDS = 0.1


class TileProgress:
    """Counts the ``total`` tiles of slide ``name`` as ``progress(n)`` would: passes them on
    to ``progress`` (a tqdm bar's ``update``, whose bar gets the total), and logs a line
    when no bar is shown (none given, or a disabled one). ``done``: the tiles a killed run
    did (a resumed slide), counted from the start; the time left is reckoned from this
    run's. ``after``: the work after the tiles ("the objects, writing the outputs"), which
    the line of the last tile says is to come, where it said "about 0 s left" with half
    the run still to go (s55: at 1:33 of a 4096² slide's 3:00)."""

    def __init__(
        self,
        name: str,
        total: int,
        progress: Callable[[int], None] | None = None,
        *,
        done: int = 0,
        after: str = "",
        clock: Callable[[], float] = time.monotonic,
    ):
        self.name, self.total, self.progress, self.clock = name, total, progress, clock
        self.after = after
        bar = getattr(progress, "__self__", None)  # a bound tqdm.update
        shown = bar is not None and hasattr(bar, "total") and not getattr(bar, "disable", True)
        if shown:
            bar.total = total
            bar.set_description(fitted(bar, bar.desc.removesuffix(": ")), refresh=False)
            if done:  # a resumed slide: the bar starts there, its rate counts this run's
                counted_from(bar, done)
            else:
                bar.refresh()
        self.lines = not shown
        self.bar = bar if shown else None
        self.where = ""  # the page (frame, plane) of a stack whose tiles are counted
        self.doing = ""  # the work between rows of tiles: their objects (objects())
        self.again = 0  # the rows of the page whose objects are found again (found_again())
        self.done, self.initial, self.start = done, done, clock()
        self.resumed = done  # the tiles done before this run
        self.timed = self.start  # when this run's tiles began (found_again_done())
        self.said = (done, self.start)  # tiles and time of the last line
        self.now = None  # the work after the tiles: (what, when it began): phase()
        self.step = None  # the step it is of (level_step), its line and when it began

    def page(self, where: str) -> None:
        """The tiles counted from now are of the page ``where`` of a stack ("frame 3 (4 of
        100)"): the bar's description and the lines say it (s35 movies 2: a streamed
        movie's bar counted tiles only, not the frames a user knows). The objects the page
        before found are no longer said (its 'row 4096 of 4096' read as this page's)."""
        self.where, self.doing, self.again = where, "", 0
        if self.bar is not None:
            self.bar.set_description(fitted(self.bar, f"{self.name} {where}"))
            self.bar.set_postfix_str("")

    def objects(self, row: int, height: int) -> None:
        """The objects of the rows before ``row`` of the page (``height`` rows) are found:
        the work between a row of tiles' last tile and the next row's first, where the
        tile count stands still (a 12,288-px-wide slide's took over 20 s a row of tiles
        on 2 cores, and its bar looked hung: new-user s46). The bar says it (and redraws
        its time); the lines say it where a minute passed without one. Those of the last
        rows found again (:meth:`found_again`) need this run's first tiles (their margin):
        the tiles' time left is reckoned from then (:meth:`_clock_tiles`; it counted them
        as tiles' time, s67)."""
        self.doing = f"objects found to row {row} of {height}"
        if row < self.again:  # the last of them: found as any row
            self.doing = (
                f"finding again the objects of the {self.again} rows done before: row {row}"
            )
        elif self.again:  # all found again
            self.again = 0
            self._clock_tiles()
        if self.done >= self.total:  # the rows after the last tile: a phase of their own,
            # whose count is the rows (its postfix said them again: s48)
            where = f"{self.name} {self.where}" if self.where else self.name
            self.phase(f"{where}: objects of the last rows", row, height, unit="row")
            return
        if self.bar is not None:
            self.bar.set_postfix_str(self.doing)
        elif self.lines and self.clock() - self.said[1] >= EVERY_SECONDS:
            self._say()

    def found_again(self, rows: int) -> None:
        """The objects of the page's first ``rows`` rows, predicted by a stopped run, are
        found again (from the staged probabilities) before this run's first tile: the bar
        and the lines say it, where the first line of a resumed run said "about ? left"
        (new-user s65)."""
        self.again = rows

    def found_again_done(self) -> None:
        """The rows :meth:`found_again` counted are read again: this run's tiles begin, and
        their time left is reckoned from now (the first estimate counted the finding again
        too: 61 s of it, then 10 tiles in 10 s, 10 to go: "about 1 min 11 s left", s66);
        the bar's rate too: tqdm's ``unpause`` moves its last print to now (on its own
        clock), so the time since that print, the finding again, counts in no rate it
        measures; the start it also moves is set back, its time so far still the run's
        (s67)."""
        self._clock_tiles()

    def _clock_tiles(self) -> None:
        """The tiles' time left is reckoned from now, of the tiles done from now on (and
        the bar's rate)."""
        self.timed, self.initial = self.clock(), self.done
        if self.bar is not None:
            began = self.bar.start_t
            self.bar.unpause()
            if self.bar.smoothing:  # else tqdm's average rate needs its time from now
                self.bar.start_t = began

    def told(self, name: str) -> Callable[[str | Level | Step, int, int], None]:
        """:meth:`phase` of the output ``name``'s work: ``told(what, done, total)`` says
        "name: what" (:data:`~unetlab.data.ome.Told`)."""
        return lambda what, done, total: self.phase(_named(name, what), done, total)

    def phase(self, what: str | Level | Step, done: int, total: int, *, unit: str = "band") -> None:
        """``done`` of the ``total`` ``unit`` of ``what`` ("s.tif: pyramid level 2 of levels 0 to 3")
        are done: work after the tiles (the objects' last rows, numbering and measuring
        them, the outputs' pyramids and OME-TIFF writes) that ran 17 s of a 4096² slide's
        run (minutes of a large one's) under a bar at 100%, "<00:00" left (s47). The bar
        becomes that work's, with its own count and time left (redrawn at most every
        ``DRAW_SECONDS``); the lines say its start (a log of a large slide said nothing of
        the minutes after its tiles where each step was shorter than a minute: s47), one
        line for an output's levels (:func:`level_step`: a 6-level slide's log had 11
        lines an output, ~30 after its last tile: s48), then its time left once a minute
        (a step of levels': the whole step's, :func:`levels_left`)."""
        now = self.clock()
        unit = what.unit if isinstance(what, Step) else unit
        if self.now is None or self.now[0] != what:
            self._begin(what, done, total, unit, now)
        if self.bar is not None:
            self.bar.n = done
            if done >= total or now - self.drawn >= DRAW_SECONDS:
                self.bar.refresh()
                self.drawn = now
        elif self.lines and now - self.said[1] >= EVERY_SECONDS and done > self.now[2]:
            self._say_left(what, (done, total, unit), now)

    def _begin(
        self, what: str | Level | Step, done: int, total: int, unit: str, now: float
    ) -> None:
        """The work ``what`` begins at ``done`` of ``total``: the bar becomes its, or a line
        says it where it begins a step (:func:`level_step`)."""
        self.now = (what, now, done)
        step, line = level_step(what)
        if step != (self.step or (None,))[0]:
            first = what.level if isinstance(what, Level) else None
            self.step = (step, line, now, first)  # its line, when and at which level it began
            if self.bar is None and self.lines:
                log.info("%s", line)
                self.said = (self.done, now)
        if self.bar is not None:
            self.bar.unit = unit
            self.bar.set_postfix_str("", refresh=False)
            _reset_undrawn(self.bar, total)
            said = what.short if isinstance(what, Step) else str(what)
            self.bar.set_description(fitted(self.bar, said), refresh=False)
            # its rate (and time left) from where it begins: the objects' from their row
            counted_from(self.bar, done)
            self.drawn = now

    def _say_left(self, what: str | Level | Step, count: tuple[int, int, str], now: float) -> None:
        """The line of the time left of ``what``, ``count`` (done, total, unit) done of
        it: of a level of a step of several, the whole step's (it said only the level's:
        s48), "big.tif: pyramid levels 1 to 5, level 3 (3 of 4 bands), ..."."""
        done, total, unit = count
        elapsed, began = now - self.now[1], self.now[2]
        left = elapsed * (total - done) / (done - began)
        head = f"{what}, {done} of {total} {unit}s"
        _, line, since, first = self.step
        if isinstance(what, Level) and first < what.last:  # a step of levels
            elapsed, (level, last) = now - since, (what.level, what.last)
            left = levels_left((first, level, last), done / total, elapsed)
            head = f"{line}, level {level} ({done} of {total} {unit}s)"
        # its last unit: the next step's line says what comes (it said "about 0 s left": s56)
        log.info("%s, %s so far%s", head, duration(elapsed), time_left(left))
        self.said = (self.done, now)

    def __call__(self, n: int) -> None:
        if self.progress is not None:
            self.progress(n)
        self.done += n
        if self.lines and self._due():
            self._say()

    def _due(self) -> bool:
        tiles, when = self.said
        step = max(1, self.total * EVERY_PERCENT // 100)
        return (
            self.done >= self.total
            or self.done - tiles >= step
            or (self.clock() - when >= EVERY_SECONDS)
        )

    def _say(self) -> None:
        now = self.clock()
        elapsed = now - self.start
        to_come = f"; still to come: {self.after}" if self.after else ""  # not "about 0 s"
        log.info(
            "%s: %d of %d tiles (%d%%), %s%s so far%s",
            f"{self.name} {self.where}" if self.where else self.name,
            self.done,
            self.total,
            100 * self.done // max(self.total, 1),
            f"{self.doing}, " if self.doing else "",
            duration(elapsed),
            to_come if self.done >= self.total else self._left_said(now),
        )
        self.said = (self.done, now)

    def _left_said(self, now: float) -> str:
        """The time left of the tiles, from those timed since :meth:`_clock_tiles`; with
        none timed yet, when it will be said: once this run's tiles begin (a resumed run's
        objects of the rows done before: it said "about ? left", new-user s65), or once the
        next are done (the clock began again after the last band's objects found again: it
        said "once this run's tiles begin" of 22 of 40 tiles done, s67 review)."""
        ran = self.done - self.initial  # the tiles timed
        if ran:
            return time_left((now - self.timed) * (self.total - self.done) / ran)
        if self.done > self.resumed:
            return "; the time left once the next tiles are done"
        return "; the time left once this run's tiles begin"


#: what a bar draws after its description up to its time left, its count aside: with the
#: narrowest bar ("100%|#|"), the elapsed and left time in hours of two digits (a slide's
#: tiles run for hours: in minutes, 4 characters shorter, its time left was cut,
#: "[1:06:40<2:35", s66 review; in hours of one digit, a 10 h run's, "[10:40:00<10:40:", s67)
_METER = ": 100%|#| / [00:00:00<00:00:00"

#: the fewest characters a cut description has ("w_o...ROIs)"): with room for fewer, none
_LEAST = 8


def fitted(bar, words: str) -> str:
    """``words`` as ``bar``'s description, cut in the middle ("...") where the bar's width
    (``ncols``: tqdm's of a terminal, its columns less 1) leaves too little room after it
    for its count and time left (at 80 columns the outlines' of ``--outlines both`` were cut
    off: "w_objects: outlines of 181 objects (GeoJSON and ImageJ ROIs):   0%| | 0/181 [00:",
    s66); whole where the width is unknown (not a terminal); none where it leaves room for
    fewer than :data:`_LEAST` characters (a narrow terminal's bar said a bare "...")."""
    width, total = getattr(bar, "ncols", None), getattr(bar, "total", None) or 0
    room = (width or 0) - len(_METER) - 2 * len(str(total))
    if not width or len(words) <= room:
        return words
    if room < _LEAST:
        return ""
    name = words.find(": ") + 2  # the name whole where it takes half the room at most
    head = name if 1 < name <= room // 2 else max(room - 3, 0) // 3
    tail = words[len(words) - max(room - 3 - head, 0) :]  # the end: what is done
    return f"{words[:head]}...{tail[tail.find(' ') + 1 :] if ' ' in tail[1:] else tail}"


def counted_from(bar, done: int) -> None:
    """``bar`` (a shown tqdm bar) drawn at ``done``, its rate (and so its time left) counted
    from there. tqdm begins a count part-way only at ``tqdm(initial=...)``, so: its public
    ``update`` to ``done``, for that one call drawing at once (``mininterval``, ``miniters``
    and ``delay`` 0: a user's bar with a delay not yet passed was not drawn, and its first
    frame after it counted the tiles done before, "25/40 [00:05<00:03, 5.00it/s]" of 5
    tiles in 5 s, s68 review) and taking no rate sample (``smoothing`` 0: the tiles done
    before would count as this run's), so its last print is at ``done``; ``initial`` its
    count's start. A bar of tqdm's average rate (a user's ``smoothing=0``: the count since
    ``initial`` over its time so far) has its time start there too, as its rate must (it
    counted the time before, opening the slide or finding its objects again: 10 tiles in
    10 s after 61 s said 0.14 it/s and 1 min 11 s left, s69). It set tqdm's undocumented
    ``last_print_n`` (s67 noticed)."""
    bar.initial = done
    options = bar.smoothing, bar.mininterval, bar.miniters, bar.delay
    bar.smoothing = bar.mininterval = bar.miniters = bar.delay = 0
    try:
        bar.update(done - bar.n)
    finally:
        bar.smoothing, bar.mininterval, bar.miniters, bar.delay = options
    if not bar.smoothing:
        bar.start_t = bar.last_print_t  # the update above drew it: now, on its clock


def _reset_undrawn(bar, total: int) -> None:
    """``bar.reset(total)`` (a tqdm bar: its count, clock and rate begun again) without the
    frame it draws at 0: the objects' last rows' bar first showed 0/600, then 600/600, the
    rows done before it began (s48); the caller draws it once its count is set."""
    bar.refresh = lambda *args, **kwargs: None  # this bar's own, for the reset only
    try:
        bar.reset(total=total)
    finally:
        del bar.refresh  # the class's again


def _named(name: str, what: str | Level | Step) -> str | Level | Step:
    """The work ``what`` of the output ``name``: "name: what"."""
    return what.named(name) if isinstance(what, Level | Step) else f"{name}: {what}"


def level_step(what: str | Level) -> tuple[str, str]:
    """The step the work ``what`` is of, and the line that starts it: for one level of
    several (a :class:`~unetlab.data.ome.Level`), the step of them all and its levels
    ("big.tif: pyramid level 2 of levels 0 to 5" -> ("big.tif: pyramid levels to 5",
    "big.tif: pyramid levels 2 to 5"); the last level as it is: "pyramid level 1 of levels
    0 to 1"); else ``what`` itself, twice."""
    if not isinstance(what, Level):
        return what, what
    step, level, last = what.step, what.level, what.last
    line = str(what) if level == last else f"{step}s {level} to {last}"
    return f"{step}s to {last}", line


def levels_left(levels: tuple[int, int, int], done: float, elapsed: float) -> float:
    """The seconds left of a step of levels ``(first, level, last)`` that has run
    ``elapsed`` seconds and done the fraction ``done`` of its level ``level``: each level's
    work as its pixels, a quarter of the level before's (rows and columns halved), the
    step's rate so far (NaN before any work is done)."""
    first, level, last = levels
    work = [0.25**k for k in range(first, last + 1)]
    did = sum(work[: level - first]) + work[level - first] * done
    return elapsed * (sum(work) - did) / did if did > 0 else float("nan")


def counted(what: str, n: int, total: int) -> str:
    """``what``, the ``n``-th of ``total`` (1-based), as progress and resume lines name a
    page: "frame 3 (4 of 9)"."""
    return f"{what} ({n} of {total})"


def duration(seconds: float) -> str:
    """``'42 s'``, ``'3 min 05 s'``, ``'1 h 02 min'``; ``'?'`` for NaN."""
    if seconds != seconds:
        return "?"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def time_left(seconds: float) -> str:
    """What a progress line adds of the ``seconds`` left: ", about 3 min 05 s left"; ", < 1 s
    left" where they round to 0 s, "" where none are (its last unit: what comes next says
    itself), as "about 0 s left" said both (s56, s57); ", about ? left" for NaN."""
    if seconds == 0:
        return ""
    if seconds < 0.5:  # duration() rounds it to "0 s"
        return ", < 1 s left"
    return f", about {duration(seconds)} left"


#: a stack read whole of fewer pages than this gets no page lines (it is done in moments;
#: from 20 pages at most about 10 lines, not one a page)
PAGE_LINES_FROM = 20


class PageLines:
    """A log line every ``EVERY_PERCENT`` % of the ``total`` pages of a stack read whole
    (``name``), or every ``EVERY_SECONDS`` s, where no tile bar is shown (``progress``: what
    :class:`TileProgress` takes): a 300-frame movie read whole ran 10 minutes without a line
    in a batch job's log, where a streamed one says where it is (audit s37 timelapse 6).
    ``done(label)`` after each page: "movie.tif: frame 59 (60 of 120), 1 min 50 s so far,
    about 1 min 50 s left"."""

    def __init__(self, name: str, total: int, progress=None, *, clock=time.monotonic):
        bar = getattr(progress, "__self__", None)  # a bound tqdm.update
        shown = bar is not None and hasattr(bar, "total") and not getattr(bar, "disable", True)
        self.lines = total >= PAGE_LINES_FROM and not shown
        self.name, self.total, self.clock = name, total, clock
        self.count, self.start = 0, clock()
        self.said = (0, self.start)

    def done(self, label: str) -> None:
        """Page ``label`` ("frame 59") is predicted."""
        self.count += 1
        if not self.lines:
            return
        now, (pages, when) = self.clock(), self.said
        step = max(1, self.total * EVERY_PERCENT // 100)
        if self.count < self.total and self.count - pages < step and now - when < EVERY_SECONDS:
            return
        elapsed = now - self.start
        left = elapsed * (self.total - self.count) / self.count
        log.info(
            "%s: %s, %s so far%s",
            *(
                self.name,
                counted(label, self.count, self.total),
                duration(elapsed),
                time_left(left),
            ),
        )
        self.said = (self.count, now)
