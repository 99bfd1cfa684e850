"""What reading files did that the user should hear of once, not once a file: pictures turned
by their EXIF orientation, images with transparent pixels, images whose nodata or
transparent pixels are left out (:mod:`unetlab.data.nodata`), pixels that two objects'
masks share (:mod:`unetlab.data.dsb`), images whose channels were made the model's (a colour
image given to a grey model read as its luminance: :func:`note_converted`, the first said
at once).

:func:`unetlab.data.io.read_stack` notes them here. Within :func:`read_notes` (a command: the
CLI wraps each in it; so does each public Python call that reads files, :func:`call_notes`:
``predict_folder``, ``evaluate_model``, ``fit``, ...) they are gathered and said in one line
each at its end; outside (reading images through ``read_image``) the first turned file is
said once a process, and each file with transparent pixels once.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Collection, Hashable, Iterable, Iterator
from dataclasses import dataclass, field

from unetlab.api_lines import api_lines
from unetlab.errors import Spelled, said_as
from unetlab.words import numbered

log = logging.getLogger(__name__)

#: how predict reads left-out pixels as sample after all (train's is data.nodata: none)
READ_AS_SAMPLE = Spelled("nodata='none'", "--nodata none")


@dataclass
class ReadNotes:
    """Files read turned (path -> orientation tag), with transparent pixels (path -> their
    share), and with pixels left out as nodata or transparent (path -> (share, kind))."""

    turned: dict[str, int] = field(default_factory=dict)
    transparent: dict[str, float] = field(default_factory=dict)
    left_out: dict[str, tuple[float, str]] = field(default_factory=dict)
    # a stack read page by page: path -> page -> (left out, pixels, kind, its page count)
    paged: dict[str, dict[int, tuple[int, int, str, int]]] = field(default_factory=dict)
    overlaps: dict[str, int] = field(default_factory=dict)  # masks folder -> pixels
    regions: dict[str, int] = field(default_factory=dict)  # QuPath export -> regions passed
    corrected: dict[str, int] = field(default_factory=dict)  # -> detections redrawn by hand
    written: set[str] = field(default_factory=set)  # what predict wrote on left-out pixels
    said: set[str] = field(default_factory=set)  # the lines of note_once said already
    # the lines said once (note_once, say_note): key -> (logger, level, line), and the keys
    # met again since a run's log last closed (:func:`said_within`: in each fold's log too)
    noted: dict = field(default_factory=dict)
    again: set = field(default_factory=set)
    predicted: bool = False  # files predict read: its left-out line (no loss, no validation)
    evaluated: bool = False  # images evaluate_model predicted and scored: no training words
    # inputs predicted by a model that records no pixel size: path -> their pixel side, µm
    sides: dict[str, float] = field(default_factory=dict)
    # images whose channels were made the model's: path -> how (the line of each kind)
    converted: dict[str, str] = field(default_factory=dict)
    images: int = 0  # the files a caller reads to predict (note_images; 0: not counted)
    # files of one warning each but for their name (note_alike): path -> the line less it
    alike: dict[str, str] = field(default_factory=dict)

    def said_lines(self) -> list[tuple[int, str]]:
        """The lines said at the end of a command with their levels: the count of the images
        whose channels were made the model's, where more than the first, whose line was said
        at once (warnings, as that line was: :func:`converted_line`), and of the files of
        each :func:`note_alike` line (:func:`alike_lines`), then :meth:`lines`."""
        kinds: dict[str, dict[str, str]] = {}  # by what was converted: path -> how
        for path, how in self.converted.items():
            kinds.setdefault(_kind(how), {})[path] = how
        counted = [converted_line(kind, hows, self.images) for kind, hows in kinds.items()]
        counted += alike_lines(self.alike, self.images)
        warned = [(logging.WARNING, line) for line in counted if line]
        return warned + [(logging.INFO, line) for line in self.lines()]

    def lines(self) -> list[str]:
        """The lines said at the end of a command (none when there is nothing to say); a file
        whose transparent pixels were left out is not also told to fill them."""
        out = []
        if self.turned:
            out.append(turned_line(self.turned))
        left_out = self.shares()
        if kept := {p: s for p, s in self.transparent.items() if p not in left_out}:
            out.append(transparent_line(kept))
        if left_out:
            read = dict(predicted=self.predicted, evaluated=self.evaluated)
            out.append(left_out_line(left_out, self.written, **read))
        if self.overlaps:
            out.append(overlaps_line(self.overlaps))
        if self.regions or self.corrected:
            out.append(regions_line(self.regions, self.corrected))
        if line := sides_apart_line(self.sides):
            out.append(line)
        return out

    def shares(self) -> dict[str, tuple[float, str]]:
        """The files with pixels left out (path -> (share, kind)): those read whole, then the
        stacks read page by page, each its pages' counts added up (:func:`_stack_share`)."""
        paged = {p: share for p, pages in self.paged.items() if (share := _stack_share(pages))}
        return {**self.left_out, **paged}


#: the gathering under way in this thread (a context variable: two threads predicting at
#: once, as a test's ranks do, each gather their own; a global was left set to one of them
#: when they ended out of order, and every later note went to it unsaid)
_ACTIVE: contextvars.ContextVar[ReadNotes | None] = contextvars.ContextVar(
    "read_notes", default=None
)
_said: set[str] = set()  # outside read_notes: what was said already in this process


@contextlib.contextmanager
def read_notes(*, predicting: bool = False, evaluating: bool = False) -> Iterator[ReadNotes]:
    """Gather what reading files notes within, and log it at the end, one line a kind;
    ``predicting``: the files are read to be predicted (predict's lines, as the command's
    around it says them); ``evaluating``: to be predicted and scored (evaluate_model's)."""
    outer = _ACTIVE.get()
    # a nested one (a file's) knows what the command said already: note_once says it once
    notes = ReadNotes(said=set(outer.said)) if outer is not None else ReadNotes()
    notes.predicted, notes.evaluated = predicting, evaluating
    token = _ACTIVE.set(notes)
    try:
        yield notes
    finally:
        _ACTIVE.reset(token)
        if outer is not None:  # nested: the outer one says it
            _merged(outer, notes)
            outer.said |= notes.said
            outer.noted |= notes.noted
            outer.again |= notes.again
        else:
            for level, line in notes.said_lines():
                log.log(level, "%s", line)


#: the fields of :class:`ReadNotes` that map each file (or masks folder) to what was
#: noted of it: merged, handed over and sorted alike (:func:`handed_notes`)
_BY_FILE = (
    "turned",
    "transparent",
    "left_out",
    "overlaps",
    "regions",
    "corrected",
    "sides",
    "converted",
    "alike",
)


def _merged(into: ReadNotes, notes: ReadNotes) -> None:
    """Add the files ``notes`` names to ``into``'s."""
    for name in _BY_FILE:
        getattr(into, name).update(getattr(notes, name))
    into.written |= notes.written
    into.predicted |= notes.predicted
    into.evaluated |= notes.evaluated
    into.images += notes.images
    for path, pages in notes.paged.items():  # each process read some pages: added up
        into.paged.setdefault(path, {}).update(pages)


def handed_notes() -> ReadNotes | None:
    """The files the gathering under way names, handed over and emptied here (None outside
    one): a process of a group but the main one hands them to the main one, which says them
    with its own (:func:`take_notes`); each said its own share, and the others' lines, at
    INFO, went unsaid (``predict --nproc 2``: "2 image(s) with nodata or transparent pixels"
    of 4; review s47)."""
    if (active := _ACTIVE.get()) is None:
        return None
    handed = ReadNotes()
    _merged(handed, active)
    for kept in (*(getattr(active, name) for name in _BY_FILE), active.paged, active.written):
        kept.clear()
    active.images = 0
    return handed


def take_notes(handed: ReadNotes | None) -> None:
    """Add what another process of the group handed (:func:`handed_notes`) to the
    gathering under way, said with this process's at its end, the files by name (as one
    process reads them), not by process."""
    if handed is None or (active := _ACTIVE.get()) is None:
        return
    _merged(active, handed)
    _by_name(active)


def _by_name(notes: ReadNotes) -> None:
    """The files ``notes`` names sorted by name: the order their lines name them in."""
    for name in (*_BY_FILE, "paged"):
        setattr(notes, name, dict(sorted(getattr(notes, name).items())))


def note_turned(path: str, orientation: int) -> None:
    """``path`` was read turned as its orientation tag ``orientation`` says."""
    if (active := _ACTIVE.get()) is not None:
        active.turned[str(path)] = orientation
    elif _marked("turned", _said):
        log.info(
            "%s is turned by its EXIF orientation, as viewers show it (so is any other file "
            "with such a tag; said once): masks must be drawn on that view, and outputs are in it",
            path,
        )


def note_transparent(path: str, share: float) -> None:
    """``share`` (0-1) of the pixels of the image ``path`` are transparent."""
    if (active := _ACTIVE.get()) is not None:
        active.transparent[str(path)] = share
    elif _marked(str(path), _said):
        log.warning("%s", transparent_line({str(path): share}))


def note_converted(path: str, how: str) -> bool:
    """The image ``path`` (as the lines name it) was made the model's channels as ``how``
    says ("colour image given to a grey model; predicting its luminance ..."): within a
    command or public call, the first such image's line said at once, once a command (by
    the main process of a group: :func:`note_once`; said only at the end, a run of hours
    told its user then that the model was grey, s62), and the images counted in one line a
    kind at its end (:func:`converted_line`; a folder of 400 colour images said 400 lines);
    whether it was (False outside one: the caller says it)."""
    return _note_first(path, how, "converted")


def note_images(count: int) -> None:
    """The caller reads ``count`` files to predict (``predict_folder``): the total the end
    line of the images made the model's channels counts them of (:func:`converted_line`)."""
    if (active := _ACTIVE.get()) is not None:
        active.images += count


def converted_line(kind: str, hows: dict[str, str], images: int = 0) -> str | None:
    """The end line of the images ``hows`` names (path -> how) made the model's channels as
    ``kind`` says (:func:`_kind`: each how the fix left out), the first of each how said at
    once (:func:`note_converted`): none where each was said so, ``400 images in all (a.png,
    b.png, c.png and 397 more), each a colour image given to a grey model (said at the
    first)`` for more, the count, not the same sentence again; ``12 of 40 images (...)``
    where of the ``images`` read (:func:`note_images`; 0: not counted) some were not. Counted
    by kind, not by how: grey TIFFs (a "(C, H, W) TIFF?" hint) and grey PNGs given to an RGB
    model ended in two lines that read the same but for their names (review s62)."""
    if len(hows) <= len(set(hows.values())):
        return None
    return f"{_files_counted(hows, images, 'image')}, each a {kind} (said at the first)"


def _files_counted(paths: dict, images: int, noun: str) -> str:
    """``400 images in all (a.png, b.png, c.png and 397 more)``, the ``paths`` of an end
    line, or ``12 of 40 images (...)`` where of the ``images`` read some were not."""
    count = len(paths)
    counted = (
        f"{count} of {numbered(images, noun)}" if count < images else f"{count} {noun}s in all"
    )
    return f"{counted} ({_named(paths)})"


def note_alike(path: str, how: str, joined: str = ": ", first: str | None = None) -> bool:
    """The file ``path`` (as the lines name it) met the warning ``how`` says (its line but
    for the name, which ``joined`` joins to it: "p00.tif: 2 pages ...", "p00.tif records
    no z spacing ..."): within a command or public call, the first such file's line said
    at once (``first``, where given: its own, with its numbers), and the files counted in
    one line at its end (:func:`alike_lines`; s69: a folder of 24 plain 2-page TIFFs said
    "p00.tif: 2 pages and no axis metadata: ..." 24 times); whether it was (False outside
    one: the caller says it)."""
    return _note_first(path, how, "alike", joined, first)


def _note_first(
    path: str, how: str, kind: str, joined: str = ": ", first: str | None = None
) -> bool:
    """``path``'s line ``how`` kept in the gathering's field ``kind`` (a dict by path),
    said at once (``first`` where given), ``joined`` to ``path``, where it is the first
    of that line (:func:`note_once`): whether it was kept (False outside a gathering)."""
    if (active := _ACTIVE.get()) is None:
        return False
    getattr(active, kind)[str(path)] = how
    note_once(f"{path}{joined}{first or how}", key=f"{kind}: {how}")
    return True


def alike_lines(alike: dict[str, str], images: int = 0) -> list[str]:
    """The end lines of the files ``alike`` names (path -> the line said of it, less its
    name: :func:`note_alike`), one for each line more than one file met: ``24 files in all
    (p00.tif, p01.tif, p02.tif and 21 more): 2 pages and no axis metadata: read as 2 planes
    (a Z stack) (said at the first, with its fixes)``, the line up to its first ``;``."""
    by_line: dict[str, dict[str, str]] = {}
    for path, how in alike.items():
        by_line.setdefault(how, {})[path] = how
    return [
        f"{_files_counted(paths, images, 'file')}: {_kind(how)} (said at the first, with its fixes)"
        for how, paths in by_line.items()
        if len(paths) > 1
    ]


def _kind(how: str) -> str:
    """What was converted, the fix left out: the part of ``how`` before its first ``;``."""
    return how.split(";")[0]


def note_once(line: str, key: str | None = None, level: int = logging.WARNING) -> None:
    """Say ``line`` (a warning, or at ``level``) now, unless it was said already in this
    command (outside a command: in this process): a data folder is searched more than once a
    command. ``key``: what makes lines one (a kind of line said for its first file only),
    else the line itself."""
    key = key or line
    say_once_a_call(log, level, key, "%s", line, outside=_said, extra={"once": key})  # handed_lines


def say_once_a_call(
    logger: logging.Logger,
    level: int,
    key: Hashable,
    message: str,
    *args,
    outside: set,
    of_all: bool = False,
    **kw,
) -> bool:
    """Log ``message`` (with ``args``, ``kw`` as :meth:`logging.Logger.log` takes them) at
    ``level`` the first time the line of ``key`` is met in this command or public call,
    outside one the first time in ``outside`` (the caller's set of what this process said:
    :func:`first_said`), kept by the gathering under way (:func:`say_note`); ``of_all``: the
    line speaks for every file like the one read (:func:`first_said_of_all`). Whether it was
    said now."""
    if not (first_said_of_all if of_all else first_said)(key, outside):
        return False
    say_note(logger, level, key, message, *args, **kw)
    return True


def first_said(key: Hashable, outside: set) -> bool:
    """Whether the line of ``key`` is to be said now, marked said: the first time in this
    command (:func:`read_notes`; a public Python call is one: :func:`call_notes`), outside
    one the first time in ``outside`` (the caller's set of what this process said). A line
    about the files given, said once a process, was not said to a notebook's second call on
    other files with the same trouble (a malformed world file, a TIFF's unknown unit)."""
    if (active := _ACTIVE.get()) is None:
        return _marked(key, outside)
    if _marked(key, active.said):
        return True
    active.again.add(key)  # said in this run's log too (said_within)
    return False


def say_note(
    logger: logging.Logger, level: int, key: Hashable, message: str, *args, again=False, **kw
):
    """Log the line of ``key`` (said once: :func:`first_said`), kept by the gathering under
    way to be written in a later run's log that meets it again (:func:`said_within`);
    ``again``: met again at once (:func:`met_again`), said before the log it belongs in
    opened (a fold's first line)."""
    logger.log(level, message, *args, **kw)
    if (active := _ACTIVE.get()) is not None:
        active.noted[key] = (logger.name, level, message % args if args else message)
        if again:
            active.again.add(key)


def first_said_of_all(key: Hashable, outside: set) -> bool:
    """:func:`first_said` for a line that speaks for every file like the one read ("said
    once; other files like it are not listed"): in a call that reads one file
    (``predict_file``, ``measure_objects``: :func:`call_lines` ``one_file``) once a process,
    as outside any call, so that a notebook's loop of such calls hears it once, as its
    words say (said at each call, each file of the loop had it: review s58 E)."""
    if _ONE_FILE_CALL.get():
        return _marked(key, outside)
    return first_said(key, outside)


def _marked(key: Hashable, said: set) -> bool:
    """Whether ``key`` is not in ``said`` yet: then added to it."""
    if key in said:
        return False
    said.add(key)
    return True


@contextlib.contextmanager
def call_notes(*, one_file: bool = False) -> Iterator[None]:
    """Within: one call of the public Python API (``predict_folder``, ``evaluate_model``,
    ``plan_training``, ...: :func:`call_lines`) is one command, as the CLI's: what reading
    noted gathered and said at its end (:func:`read_notes`), each line of :func:`note_once`
    and :func:`first_said` said once in it, and again in the next call. Within a command or
    another call (``predict_folder`` calling ``predict_file``; the CLI's) it adds nothing:
    the outermost says them. The lines about the environment (a thread cap) or a loop of
    array calls (``predict_image``'s floor lines) stay once a process; ``one_file``: a call
    that reads one file, whose lines for all files like it stay so (:func:`first_said_of_all`)."""
    if _ACTIVE.get() is not None:
        yield
        return
    token = _ONE_FILE_CALL.set(one_file)
    try:
        with read_notes():
            yield
    finally:
        _ONE_FILE_CALL.reset(token)


#: whether the gathering under way was opened by a public Python call that reads one file
#: (:func:`call_notes` ``one_file``; False: a command, another call, or none): all that
#: :func:`first_said_of_all` asks (a str of "call" or "one file" told more than it used)
_ONE_FILE_CALL: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "one_file_call", default=False
)


@contextlib.contextmanager
def said_within(logged: logging.Handler | None) -> Iterator[None]:
    """Within: a run whose log ``logged`` (train.log; None: a process of a group but the
    main one) and console close at its end, at which the lines gathered so far by the
    command or call (:func:`call_notes`) are said and emptied (said after it, a notebook
    that set no logging up heard no INFO line, and train.log had none), and the lines said
    once that the run met again (said before: ``fit_folds``' or ``train --folds``' first
    fold) written in ``logged`` alone: each fold's train.log keeps every line, the console
    hears them once (review s58 E)."""
    active = _ACTIVE.get()
    before = set(active.noted) if active is not None else set()
    try:
        yield
    finally:
        if active is not None and logged is not None and (handed := handed_notes()):
            _by_name(handed)  # by name: fit_folds' folds, each reading the files in its order,
            for level, line in handed.said_lines():  # say the same line, once
                note_once(line, level=level)
            _written_again(logged, active, before)


def met_again(keys: Iterable[Hashable], *, kinds: Collection[str] = ()) -> None:
    """The lines said under ``keys`` (:func:`say_note`), and under any key ``(kind, ...)``
    of ``kinds``, counted as met again, so that the next run's log to close writes them
    too (:func:`said_within`): a cross-validation's lines said before its folds (its data,
    the fold's split, a removed config key's: every fold's log, s59), which no fold's fit
    says."""
    if (active := _ACTIVE.get()) is not None:
        keys = set(keys)
        active.again.update(
            k for k in active.noted if k in keys or (isinstance(k, tuple) and k and k[0] in kinds)
        )


def _written_again(logged: logging.Handler, notes: ReadNotes, before: set) -> None:
    """The lines ``notes`` met again since a run's log last closed, said before it opened
    (``before``: the keys said then), written in ``logged`` only; the keys met, emptied."""
    for key, (name, level, line) in notes.noted.items():
        if key in notes.again and key in before:
            logged.handle(logging.getLogger(name).makeRecord(name, level, "", 0, line, (), None))
    notes.again.clear()


@contextlib.contextmanager
def call_lines(*, one_file: bool = False) -> Iterator[None]:
    """What a public Python call that reads files says, as a command says it: its INFO lines
    shown where nothing set logging up (:func:`~unetlab.api_lines.api_lines`), what its
    reading notes said once in it (:func:`call_notes`, within those lines' handler);
    ``one_file``: the call reads one file (``predict_file``, ``measure_objects``)."""
    with api_lines(), call_notes(one_file=one_file):
        yield


def unsay_once(key: str) -> None:
    """The line :func:`note_once` said under ``key`` kept instead (by
    :func:`~unetlab.inference.handed_lines.kept_lines`, to be said later in the order of the
    files): counted unsaid until it is said."""
    said = active.said if (active := _ACTIVE.get()) is not None else _said
    said.discard(key)


def note_left_out(path: str, share: float, kind: str) -> None:
    """``share`` (0-1) of the pixels of the image ``path`` are ``kind`` (``nodata``,
    ``transparent``, ``nodata and transparent``) and left out."""
    if (active := _ACTIVE.get()) is not None:
        active.left_out[str(path)] = (share, kind)
    elif _marked(f"left out {path}", _said):
        log.info("%s", left_out_line({str(path): (share, kind)}))


def note_left_out_page(path: str, page: tuple[int, int], counts: tuple[int, int], kind: str):
    """Page ``page`` (its index, the stack's page count) of the stack ``path``, read page by
    page, has ``counts`` (left out, pixels) ``kind`` pixels (none too): the share noted is the
    stack's, its pages' counts added up, as a stack read whole says it (:func:`note_left_out`;
    each page noting its own, the last page's share was said: review s47). Outside a command,
    a page with some is said as :func:`note_left_out` says a file."""
    if (active := _ACTIVE.get()) is None:
        if counts[0]:
            note_left_out(path, counts[0] / counts[1], kind)
        return
    active.paged.setdefault(str(path), {})[page[0]] = (*counts, kind, page[1])


def _stack_share(pages: dict[int, tuple[int, int, str, int]]) -> tuple[float, str] | None:
    """The share left out of a stack over the ``pages`` counted (page -> (left out, pixels,
    kind, the stack's page count)), and its kind; None where none was. Where a resumed run
    read some of its pages only (the others' statistics are the killed run's record), the
    kind says of how many."""
    counts = pages.values()
    left, pixels = sum(c[0] for c in counts), sum(c[1] for c in counts)
    if left == 0:
        return None
    kind = next(c[2] for c in counts if c[0])
    read, pages = len(counts), max(c[3] for c in counts)
    if read < pages:
        kind += (
            f" of the {read} of {pages} pages this run read (the run it resumes read the others)"
        )
    return left / pixels, kind


def note_written(what: str) -> None:
    """Predict wrote the left-out pixels as ``what`` (``255 (no class) ...``: a model whose
    class 0 is a class of its own, not a background; audit s46 scenes 1), said in the
    left-out line instead of "predicted as background"."""
    if (active := _ACTIVE.get()) is not None:
        active.written.add(what)
    elif _marked(f"written {what}", _said):
        log.info("nodata or transparent pixels written as %s", what)


def note_overlaps(folder: str, pixels: int) -> None:
    """``pixels`` pixels of the masks folder ``folder`` (one mask per object) lie in two
    objects' masks or more, and were given to one."""
    if (active := _ACTIVE.get()) is not None:
        active.overlaps[str(folder)] = pixels
    elif _marked("overlaps", _said):
        log.warning("%s (any other such folder is not said)", overlaps_line({folder: pixels}))


#: a QuPath annotation around one detection alone (or two: a nucleus split), under this many
#: times their area, is their correction (redrawn by hand: the annotation is the object, the
#: detections dropped), as
#: :mod:`unetlab.data.annotations` reads it and :func:`regions_line` says it
CORRECTION_AREA = 4
#: how far (px) past a nucleus (or a split one's two halves) an outline redrawn by hand may
#: reach and still be it, however little its cell is grown (dense tissue: 2 px); two
#: detections' redraw reaching further is a region (a tumour bud: the nuclei and cytoplasm)
HAND_REACH = 2.0


def note_regions(path: str, count: int, corrected: int = 0) -> None:
    """``count`` annotations of the QuPath export ``path`` were passed over as the regions
    its detections were found in, and ``corrected`` were read in place of the detection
    each was drawn around: one line a command, the files counted (a folder of 200 exports
    said 200 lines, s63 re-review)."""
    regions = {str(path): count} if count else {}
    fixed = {str(path): corrected} if corrected else {}
    if (active := _ACTIVE.get()) is not None:
        active.regions.update(regions)
        active.corrected.update(fixed)
    elif _marked("regions", _said):
        log.warning("%s (any other such file is not said)", regions_line(regions, fixed))


def regions_line(regions: dict[str, int], corrected: dict[str, int] | None = None) -> str:
    """``2 QuPath exports with regions passed over (a.geojson 3, ...): ...``, and where
    detections were redrawn by hand ``corrected`` (path -> their count), ``1 QuPath export
    with detections redrawn by hand (b.geojson 1; 1 in all): ...``, in one line."""
    said = []
    if regions:
        said.append(
            f"{_counted(regions, 'QuPath export', 'with regions passed over')}: QuPath "
            "annotations or TMA cores around detections or cells, or far larger than them, are "
            "the regions they were found in, no objects (an annotation of a nucleus's size "
            "around none is an object)"
        )
    if corrected:
        said.append(
            f"{_counted(corrected, 'QuPath export', 'with detections redrawn by hand')}: an "
            "annotation around one detection or cell alone, or two (a nucleus split: of their "
            f"class or none, reaching under {HAND_REACH:g} px past them), of about their size "
            f"(under {CORRECTION_AREA}x their area), is their correction: the annotation is the "
            "object, the detections are dropped (one detection that is no cell however far the "
            "annotation reaches past it: to keep it, as under a one-cell bud drawn round it, "
            "give the annotation the class Region* or Ignore*)"
        )
    return "; ".join(said)


#: pixel sizes more than this factor apart are said: a model's objects look that much larger
#: or smaller than those it learnt (audit s32 histo 6; the training pixel size's tolerance)
PIXEL_SIZE_TOLERANCE = 1.5


def note_side(path: str, side: float) -> None:
    """The input ``path`` (as the lines name it: :func:`~unetlab.data.shown.shown_path`),
    predicted by a model that records no training pixel size, has pixels of ``side`` µm:
    inputs of one command more than :data:`PIXEL_SIZE_TOLERANCE` apart are said once at its
    end (:func:`sides_apart_line`); nothing outside a command."""
    if (active := _ACTIVE.get()) is not None:
        active.sides[str(path)] = float(side)


def sides_apart_line(sides: dict[str, float]) -> str | None:
    """The line for inputs (as the lines name them -> pixel side, µm; a glob's two
    ``a.tif`` were told apart nowhere, review s55 H8) whose pixel sizes are more than
    :data:`PIXEL_SIZE_TOLERANCE` apart, predicted by a model that records none, naming the
    finest and the coarsest and the fixes (s50 slidelines: slides at 0.5 and 1.0 µm gave 934
    and 614 objects of the same tissue, one summary table, no word); None where they are
    not."""
    if len(sides) < 2:
        return None
    (fine, a), (coarse, b) = min(sides.items(), key=_side), max(sides.items(), key=_side)
    if b <= PIXEL_SIZE_TOLERANCE * a:
        return None
    return (
        f"{len(sides)} inputs' pixel sizes are up to {b / a:.2g}x apart ({fine} "
        f"{a:.3g} µm, {coarse} {b:.3g} µm) and the model records no pixel size: "
        "their objects' counts and sizes differ by scale (a summary table mixes them); train "
        "on images that record their pixel size (the checkpoint then keeps it), or predict "
        "them at one scale (--level N, --scale F; level=, scale=)"
    )


def _side(item: tuple[str, float]) -> float:
    return item[1]


def overlaps_line(overlaps: dict[str, int]) -> str:
    """``2 masks folder(s) with pixels in two objects' masks (a/masks 12 px, ...): ...``."""
    counted = _counted(overlaps, "masks folder", "with pixels in two objects' masks", " px")
    return f"{counted}: each such pixel is given to the object of the first file by name"


def _counted(counts: dict[str, int], noun: str, what: str, unit: str = "") -> str:
    """``2 {noun}s {what} (a 12{unit}, b 3{unit}; 15{unit} in all)``, the first three named."""
    named = _named(counts, shown=lambda p, n: f"{p} {n}{unit}")
    return f"{numbered(len(counts), noun)} {what} ({named}; {sum(counts.values())}{unit} in all)"


def left_out_line(
    left_out: dict[str, tuple[float, str]],
    written=(),
    *,
    predicted: bool = False,
    evaluated: bool = False,
) -> str:
    """``2 image(s) with nodata or transparent pixels (a.tif 45% nodata, ...): left out ...``;
    ``written``: what predict wrote there where not the background (:func:`note_written`);
    ``predicted``: predict's line, whose pixels are in no loss nor validation and whose
    setting is its ``--nodata`` (audit s50 roads: predict of RGBA images said "left out of
    the normalisation, the loss and validation"); ``evaluated``: evaluate_model's, whose pixels
    are in no score either (s53 badinput3: it said the training's loss and validation)."""
    named = _named(left_out, shown=lambda p, v: f"{p} {_share(v[0])} {v[1]}")
    as_what = f"written as {'; '.join(sorted(written))}" if written else "predicted as background"
    uses = "the normalisation" if predicted else "the normalisation, the loss and validation,"
    uses = "the normalisation and the scores," if evaluated else uses
    setting = said_as(READ_AS_SAMPLE) if predicted or evaluated else "data.nodata; none"
    written_tiff = (
        "a TIFF label image holds a no-data value there, which its GDAL_NODATA tag names; "
    )
    return (
        f"{numbered(len(left_out), 'image')} with nodata or transparent pixels ({named}): left out of "
        f"{uses} and {as_what}, with no object there ({'' if evaluated else written_tiff}"
        f"{setting} reads them as sample)"
    )


def _share(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 else f"{share:.2%}"


def turned_line(turned: dict[str, int]) -> str:
    return (
        f"{numbered(len(turned), 'file')} turned by {'its' if len(turned) == 1 else 'their'} "
        "EXIF orientation, as viewers show them "
        f"({_named(turned)}); masks must be drawn on that view, and outputs are in it"
    )


def transparent_line(transparent: dict[str, float]) -> str:
    shares = {p: _share(s) for p, s in transparent.items()}
    named = _named(shares, shown=lambda p, s: f"{p} {s}")
    return (
        f"{numbered(len(transparent), 'image')} with transparent pixels ({named} of the pixels): unetlab "
        "drops the alpha and reads the colour stored under it (often black or white), which "
        "is segmented like the rest; fill the transparent pixels with the background the "
        "model knows, or leave those pixels out of what you measure"
    )


def _named(items: dict, keep: int = 3, shown=lambda p, v: p) -> str:
    listed = ", ".join(shown(p, v) for p, v in list(items.items())[:keep])
    return listed + (f" and {len(items) - keep} more" if len(items) > keep else "")
