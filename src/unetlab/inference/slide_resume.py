"""A streamed slide's prediction resumes where a killed run stopped.

Hours of tiles are not lost to a Ctrl-C, a ``kill -9`` or a lost node: the staged arrays of a
slide (:mod:`unetlab.data.ome`) stay, and once a chunk row of output is on disk each process
records how far its band of rows got (:class:`Progress`, a small JSON replaced atomically).
The staging also records what must match for its rows to be those this run would write
(:func:`identity`: the prediction record, the input's path, size, time and a sample of
its bytes, the outputs'
shapes, the tiling, the processes and the device). A rerun of the same command opens the
staged arrays and starts each band at its first row not done (:func:`mismatch` says why
not); anything that differs discards the staging, said in one line. A band of rows comes
out exactly as in one uninterrupted run (:func:`~unetlab.inference.slides.band_grid`), so a
resumed output equals an uninterrupted one bit for bit.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import math
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import torch

import unetlab
from unetlab.atomic import RESUMABLE, atomic_path, fsync, publishing_record
from unetlab.data import ome
from unetlab.data.read_notes import first_said_of_all
from unetlab.data.tiff_files import real_path
from unetlab.errors import Spelled, said_as
from unetlab.inference.slide_progress import counted
from unetlab.manifest import ZARR_DEPTH, folder_times, sample_digest
from unetlab.provenance import PACKAGE, checkout_of, read_commit
from unetlab.read_once import looked_input

log = logging.getLogger(__name__)

#: what made a staging: :func:`identity`, in each staging folder of the slide (the cleaning
#: of a killed run's leftovers keeps a folder that holds it: unetlab.outputs)
RECORD = RESUMABLE
#: how far each process got: ``{"page": p, "row": r}``, one file a rank
ROWS = "unetlab-rows.{rank}.json"

#: the parts of :func:`identity` in the order a mismatch tells them, with their words
#: (nodata before the record, which holds it too where it is not auto: the nearer reason)
_REASONS = {
    "input": "the input is another file, or it changed (size, modification time or bytes)",
    "nodata": "the pixels left out as no sample changed (nodata)",
    "record": "the checkpoint or the prediction settings changed",
    "outputs": "the outputs asked for changed",
    "tiling": "the tiling changed (tile size, batch size or memory)",
    "world": "the number of processes changed",
    "device": "the device changed",
    "versions": "the code changed",
}

#: the parts of :func:`identity`'s versions, by the names of the prediction record's code
_VERSIONS = ("unetlab", "commit", "torch")
#: the parts of the code as a mismatch names them (:func:`_code_changes`)
_CODE_NAMES = {"commit": "unetlab's git commit", "python": "Python"}


def _code_apart(identity: dict) -> dict:
    """``identity`` with its prediction record's ``code`` (unetlab's commit, torch, numpy,
    ...) told with the versions, each by name (``[versions, code]``): a rerun after an
    upgrade was told that the checkpoint or the settings changed (new-user s65)."""
    record, versions = identity.get("record"), identity.get("versions")
    code = record.get("code") if isinstance(record, dict) else None
    if isinstance(record, dict):
        record = {k: v for k, v in record.items() if k != "code"}
    listed = dict(zip(_VERSIONS, versions)) if isinstance(versions, list) else {}
    code = code if isinstance(code, dict) else {}
    return {**identity, "record": record, "versions": [listed, code]}


def _code_changes(then: list[dict], now: list[dict]) -> list[str]:
    """The parts of the code (:func:`_code_apart`'s versions) that differ, each once:
    "numpy 1.26.4 -> 2.1.0", "unetlab's git commit 1a2b3c4d5e6f -> ...", the checkout's
    uncommitted changes where git told both (``dirty`` None where it could not: no git, a
    timeout, a checkout of another owner: unknown, not a change); the line said "unetlab
    (its version or git commit) or torch changed" where numpy or Python had (review s65)."""
    said = []
    for found, wanted in zip(then, now):
        for key in [*found, *(k for k in wanted if k not in found)]:
            was, is_ = found.get(key), wanted.get(key)
            if was != is_ and not (key == "dirty" and None in (was, is_)):
                said.append(_code_change(key, was, is_))
    return list(dict.fromkeys(said))


def _code_change(key: str, was, is_) -> str:
    """How a part ``key`` of the code that was ``was`` and is ``is_`` is named."""
    if key == "dirty":
        return f"the checkout's uncommitted changes (none {'then' if is_ else 'now'})"
    if key == "commit":
        was, is_ = (c[:12] if isinstance(c, str) else c for c in (was, is_))
    shown = ["none" if v is None else v for v in (was, is_)]
    return f"{_CODE_NAMES.get(key, key)} {shown[0]} -> {shown[1]}"


def input_stamp(path: Path) -> dict:
    """The input's resolved path with its size and modification time; for a file, a digest
    of 4 KiB at its start, middle and end (:func:`~unetlab.manifest.sample_digest`, as the
    manifest's stamp: another slide of the same size and time, on a share whose files all
    carry one time or copied with ``cp -p``, was resumed from the old one's rows); for a Zarr folder,
    those of its top-level files (its metadata) and the modification times of its folders
    down to ``ZARR_DEPTH`` (a chunk written anew is renamed into its folder, which changes
    that folder's time: a Zarr rewritten in place with the same shape is noticed). Its size
    and time: the ``os.stat`` the look at the file predicted took (its prediction's:
    :func:`~unetlab.read_once.looked_input`), not one of its own: an input replaced since
    that look is stamped by its size and time with its own sample, a stamp of no file."""
    path = Path(os.path.realpath(path))  # now: a link retargeted meanwhile as it is read
    found = looked_input(path) or path.stat()  # the look's at the file predicted (s66)
    stamp = {"path": str(path), "size": found.st_size, "mtime_ns": found.st_mtime_ns}
    if not stat.S_ISDIR(found.st_mode):  # as found, not stat-ed again
        stamp["sample"] = sample_digest(path, found.st_size)
    else:
        stamp["files"] = {
            p.name: [p.stat().st_size, p.stat().st_mtime_ns]
            for p in sorted(path.iterdir())
            if p.is_file()
        }
        stamp["folders"] = folder_times(path, ZARR_DEPTH)
    return stamp


def _output_identity(spec) -> list:
    """What of a staged array's :class:`~unetlab.data.ome.OutputSpec` must match: its shape,
    axes, dtype, downsampling and, where it has one, the labels' nodata value and the order
    of the input's pages (a Z, T stack's)."""
    kept = [list(spec.shape), spec.axes, spec.dtype.str, spec.downsample]
    kept += [spec.nodata] if spec.nodata is not None else []
    return kept + ([spec.page_order] if spec.page_order else [])


def identity(path: Path, specs: dict, grid, batch: int, *, world: int, device, nodata=None) -> dict:
    """What must match for a staging to be resumed: ``specs`` (the staged arrays'
    :class:`~unetlab.data.ome.OutputSpec` by name, each holding the prediction record), the
    tiling ``grid`` and ``batch``, the ``world`` of processes, the ``device`` (a GPU's
    rounding is not a CPU's) and the pixels left out as no sample (``nodata``: a
    :class:`~unetlab.inference.slide_nodata.SlideNodata`, or None). JSON values only."""
    record = next((s.record for s in specs.values() if s.record), None)
    device = torch.device(device)
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    return {
        "input": input_stamp(path),
        "record": record,
        "outputs": {k: _output_identity(s) for k, s in sorted(specs.items())},
        "tiling": {
            "tile": list(grid.tile),
            "out_tile": list(grid.out_tile),
            "ys": list(grid.ys),
            "xs": list(grid.xs),
            "pad": grid.pad,
            "abut": grid.abut,
            "batch": batch,
            "chunk": ome.CHUNK,
        },
        "world": world,
        "device": [device.type, gpu],
        # not a reason to start afresh (hours of tiles), but said (:func:`thread_note`)
        "threads": torch.get_num_threads() if device.type == "cpu" else None,
        "nodata": None if nodata is None else nodata.identity(),
        "versions": [unetlab.__version__, _commit(), torch.__version__],
    }


def _commit() -> str | None:
    """The git commit of a checked-out unetlab (its code may change between two runs of one
    version), None for an installed one."""
    checkout = checkout_of(PACKAGE)
    return read_commit(checkout / ".git") if checkout else None


def _json(value) -> object:
    """``value`` as JSON reads it back (tuples as lists)."""
    return json.loads(json.dumps(value))


def mismatch(stages: dict[str, Path], wanted: dict) -> str | None:
    """Why the staging at ``stages`` (name -> folder) cannot be resumed for ``wanted``
    (:func:`identity`), in words; None where it can."""
    missing = [k for k, stage in stages.items() if not (stage / "0" / ".zarray").is_file()]
    if missing:
        return f"its staged {', '.join(missing)} are missing"
    found = publishing_record(stages["labels"])  # None: none, unread, or no JSON object
    if found is None:
        return "it holds no record of what made it (an older unetlab, or killed at its start)"
    return differences(found, wanted, _REASONS)


def differences(found: dict, wanted: dict, reasons: Mapping[str, str]) -> str | None:
    """Why a staging recorded as ``found`` cannot be resumed for ``wanted`` (identities whose
    parts ``reasons`` words, in their order), in one line naming every part that differs,
    the code's by its parts (:func:`_code_apart`: "the code changed: numpy 1.26.4 ->
    2.1.0", under ``reasons``' "versions"); None where none does. A stack's pages use it too
    (:func:`~unetlab.inference.page_resume.mismatch`)."""
    found, wanted = _code_apart(found), _code_apart(_json(wanted))
    said = [_reason(key, words, found, wanted) for key, words in reasons.items()]
    return "; ".join(why for why in said if why) or None


#: the parts of a prediction record's model another part of :func:`identity` names too where
#: it differs: the record is compared less them then, each change named once
_NAMED_TOO = {"nodata": "nodata", "tiling": "tile_size"}


def _reason(key: str, words: str, found: dict, wanted: dict) -> str | None:
    """The words of the part ``key`` of :func:`identity` where ``found`` and ``wanted``
    (:func:`_code_apart`'s) differ in it, else None: every part is named, where the first
    alone was (the code's and the settings' both changed: the line said the settings only,
    review s65); the record less its nodata where the nodata is named, and less its tile
    size where the tiling is (it holds them too: a tile size was named a settings and a
    tiling change, s66)."""
    was, now = found.get(key), wanted.get(key)
    if key == "versions":
        changes = _code_changes(was, now)
        return f"{words}: {', '.join(changes)}" if changes else None
    if key == "record":
        for part, setting in _NAMED_TOO.items():
            if found.get(part) != wanted.get(part):
                was, now = _less(was, setting), _less(now, setting)
    if was == now:
        return None
    return f"{words} ({was} then, {now} now)" if key == "world" else words


def _less(record, setting: str):
    """A prediction ``record`` less its model's ``setting`` (:func:`_reason`)."""
    if not isinstance(record, dict) or not isinstance(record.get("model"), dict):
        return record
    model = {k: v for k, v in record["model"].items() if k != setting}
    return {**record, "model": model}


def thread_note(stages: dict[str, Path], wanted: dict) -> str | None:
    """A line where the staging at ``stages`` was computed with another number of CPU
    threads than ``wanted`` (:func:`identity`): torch's CPU kernels sum in another order
    with another thread count, so the resumed outputs equal an uninterrupted run's bit for
    bit only with the same threads (1 and 2 threads differ in the last bits of two thirds of
    the small net's raw outputs; labels only at exact ties: s36 misc). None where they match
    or either is unknown (a GPU, an older staging)."""
    found = (publishing_record(stages["labels"]) or {}).get("threads")
    now = wanted.get("threads")
    if found is None or now is None or found == now:
        return None
    return (
        f"its staged rows were computed with {found} CPU threads, this run uses {now}: the "
        f"outputs may differ from an uninterrupted run's in the last bits (labels only at "
        f"exact ties); for bit-identical outputs rerun with OMP_NUM_THREADS={found}"
    )


def begin(stages: dict[str, Path], wanted: dict) -> None:
    """Record ``wanted`` (:func:`identity`) in each staging folder of ``stages``, once their
    arrays are created: from now on they can be resumed."""
    for stage in stages.values():
        _write_json(stage / RECORD, wanted)


#: the pixels a resumed run found done, counted within :func:`pixels_done_before`
_BEFORE: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("before", default=None)


@contextlib.contextmanager
def pixels_done_before():
    """A list whose one item counts the output pixels (pages x rows x columns) that the
    slides predicted within it found done by a stopped run, each process its own: a
    summary's MP/s counts only those predicted (a resumed run's pixels over its time)."""
    box = [0]
    token = _BEFORE.set(box)
    try:
        yield box
    finally:
        _BEFORE.reset(token)


def note_done_before(pixels: int) -> None:
    """Count ``pixels`` found done by a stopped run (:func:`pixels_done_before`)."""
    if (box := _BEFORE.get()) is not None:
        box[0] += int(pixels)


def _write_json(path: Path, value) -> None:
    """``value`` as JSON at ``path``, atomically and on disk (:func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value))


class Progress:
    """How far this process got in its rows ``[start, stop)`` of each page of a staged slide:
    pages before ``page`` done, and rows ``[start, row)`` of ``page``, whose normalisation
    statistics it keeps too (a resumed page is not read whole again for them), and the
    pixels left out as no sample of each page read for them (``left_out``: page -> (left
    out, pixels); a resumed run says the stack's share, not its pages': none in a record of
    an older unetlab). Read from the labels' staging ``stage`` when ``resumed``, else from
    the start."""

    def __init__(self, stage: Path, rank: int, rows: tuple[int, int], *, resumed: bool):
        self.path = stage / ROWS.format(rank=rank)
        self.start, self.stop = rows
        self.page, self.row, self.stats = 0, self.start, None
        self.left_out: dict[int, tuple[int, int]] = {}
        if resumed:
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                found = json.loads(self.path.read_text())
                page, row = int(found["page"]), int(found["row"])
                if page >= 0 and self.start <= row <= self.stop:
                    self.page, self.row = page, row
                    self.stats = found.get("stats")
                    self.left_out = left_out_counts(found, page, row > self.start)

    def first_row(self, page: int) -> int:
        """The first row of ``page`` not done (``stop`` where it is done)."""
        if page < self.page:
            return self.stop
        return self.row if page == self.page else self.start

    def page_stats(self, page: int) -> tuple[np.ndarray, ...] | None:
        """The statistics recorded with the rows done of ``page`` (float64 arrays, as
        :func:`~unetlab.data.normalize.image_stats` gave them), or None."""
        if page != self.page or self.row <= self.start or not self.stats:
            return None
        return tuple(np.asarray(v, dtype=np.float64) for v in self.stats)

    def keep_stats(self, stats) -> None:
        """Record ``stats`` (float64 arrays) with the rows of the page done from now on."""
        self.stats = [np.asarray(v, dtype=np.float64).tolist() for v in stats]

    def keep_left_out(self, page: int, counts: tuple[int, int]) -> None:
        """Record ``counts`` (left out, pixels) of ``page`` with its rows done from now on."""
        self.left_out[page] = (int(counts[0]), int(counts[1]))

    def done(self, page: int, row: int, arrays: dict, *, top: int | None = None) -> None:
        """Rows ``[start, row)`` of ``page`` are written into ``arrays`` ((array, spec) by
        name): their chunks from row ``top`` (default: the last recorded row) flushed to
        disk, then recorded; ``row`` = ``stop``: the page is done."""
        if top is None:
            top = self.row if page == self.page else self.start
        for array, spec in arrays.values():
            _sync_rows(array, spec, page, top, row)
        if row >= self.stop:
            self.page, self.row, self.stats = page + 1, self.start, None
        else:
            self.page, self.row = page, row
        left_out = {str(p): list(c) for p, c in sorted(self.left_out.items())}
        record = {"page": self.page, "row": self.row, "stats": self.stats, "left_out": left_out}
        _write_json(self.path, record)


def left_out_counts(found: dict, page: int, started: bool) -> dict[int, tuple[int, int]]:
    """The counts (left out, pixels) of the pages a :class:`Progress` record ``found`` holds
    for the pages done (before ``page``, and ``page`` where its rows are ``started``: its
    statistics are the record's too); none where the record holds none or is malformed (an
    older unetlab's: the line then says the share of the pages the resumed run read)."""
    try:
        counts = {int(p): (int(c[0]), int(c[1])) for p, c in found.get("left_out", {}).items()}
    except (AttributeError, ValueError, TypeError, IndexError):
        return {}
    return {p: c for p, c in counts.items() if p < page or (p == page and started)}


def resumed_line(name: str, h: int, pages: tuple, bands: list[tuple]) -> str | None:
    """The line a resumed slide ``name`` of ``h`` rows says, once: ``pages`` (their count,
    how lines name one: "frame 3"), ``bands`` each process's record (page, row, start,
    stop) of its rows ``[start, stop)``. Where the first row not done is, the earliest over
    the processes (with the rows done of all, where several share the pages), that every
    row is done, or None where none is (:func:`rows_reached`)."""
    reached = rows_reached(h, pages, bands)
    if reached == EVERY_ROW:
        return f"{name}: a killed run predicted every row: publishing its outputs"
    return None if reached is None else f"resuming {name} at {reached}"


#: :func:`rows_reached` of a slide whose every row is done
EVERY_ROW = "every row"


def rows_reached(h: int, pages: tuple, bands: list[tuple]) -> str | None:
    """How far the processes' records ``bands`` (page, row, start, stop) of a slide of
    ``h`` rows and ``pages`` ((count, label)) got: "row R of H" (the first row not done,
    the earliest over the processes; its page where there are several, and the rows done
    of all where several share them), :data:`EVERY_ROW`, or None where no row is done."""
    count, label = pages
    bands = [band for band in bands if band[3] > band[2]]  # an empty band records nothing
    done = sum(
        min(p, count) * (stop - start) + (row - start if p < count else 0)
        for p, row, start, stop in bands
    )
    if not done:
        return None
    if all(p >= count for p, *_ in bands):
        return EVERY_ROW
    p, row = min((p, row) for p, row, *_ in bands if p < count)
    where = f", {counted(label(p), p + 1, count)}" if count > 1 else ""
    share = f" ({done:,} of {count * h:,} rows done)" if len(bands) > 1 else ""
    return f"row {row} of {h}{where}{share}"


def stopped_at(stage: Path, shown: Mapping[str, str] | None = None) -> str | None:
    """Where the stopped run whose staging of a slide's labels is ``stage`` got, from its
    record and each process's rows (:class:`Progress`): "slide.tif stopped at row 512 of
    2048: its rows are kept, and the rerun resumes there" (the stop line said "the outputs
    of 0 of 1 inputs" alone, s50); None for a staging that records no rows (another
    output's, or one stopped before its first chunk row was written). ``shown``: each input's
    resolved path -> how the run's lines named it (else by its name)."""
    try:
        found = json.loads((stage / RECORD).read_text())
        path = found["input"]["path"]
        name = (shown or {}).get(path) or Path(path).name
        shape, axes = found["outputs"]["labels"][:2]
        h, world = int(shape[axes.index("y")]), int(found["world"])
        count = math.prod(int(n) for n, a in zip(shape, axes) if a in "tz")
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    bands = []
    for rank in range(world):
        band = ome.chunk_rows(h, world, rank)
        rows = Progress(stage, rank, band, resumed=True)
        bands.append((rows.page, rows.row, *band))
    reached = rows_reached(h, (count, lambda p: f"page {p}"), bands)
    if reached is None:
        return None
    if reached == EVERY_ROW:
        return f"{name} has every row predicted: the rerun publishes it"
    return f"{name} stopped at {reached}: its rows are kept, and the rerun resumes there"


def replacing(final: Path) -> bool:
    """Whether the staging of ``final`` (an output's path) holds rows of a run begun after
    ``final`` was written (:func:`stopped_at`): a stopped run that was replacing it, which
    ``--skip-existing`` resumes (new-user s65: the rerun the stop line advised skipped the
    slide for its older outputs and deleted 166 MB of staged rows); a staging of a run killed
    after it wrote ``final`` is older than it."""
    stage = ome.staging_path(final)
    with contextlib.suppress(OSError):
        begun = (stage / RECORD).stat().st_mtime_ns
        return os.stat(final).st_mtime_ns < begun and stopped_at(stage) is not None
    return False


#: the inputs (resolved paths) whose finished outputs a rerun with ``skip_existing`` did not
#: skip for the rows of a stopped run that was replacing them (:func:`noting_unskipped`) -> whether
#: they were kept after all, a staging the command cannot resume (:func:`kept_for_its_run`)
_UNSKIPPED: contextvars.ContextVar[dict[str, bool] | None] = contextvars.ContextVar(
    "unskipped", default=None
)


@contextlib.contextmanager
def noting_unskipped() -> Iterator[None]:
    """Within: :func:`note_unskipped` notes the inputs not skipped for a stopped run's rows, which a
    staging that does not match the command keeps (:func:`kept_for_its_run`, told by
    :func:`was_kept`)."""
    token = _UNSKIPPED.set({})
    try:
        yield
    finally:
        _UNSKIPPED.reset(token)


def note_unskipped(path: Path) -> None:
    """Note that ``path``'s outputs are finished but not skipped (:func:`noting_unskipped`)."""
    if (held := _UNSKIPPED.get()) is not None:
        held[real_path(path)] = False


def was_kept(path: Path) -> bool:
    """Whether ``path``'s outputs were kept, skipped, for a stopped run's staging this
    command cannot resume (:func:`kept_for_its_run`): the run counts it as skipped, not
    written (s66: "1 written" and a rate for outputs of an earlier run)."""
    return (_UNSKIPPED.get() or {}).get(real_path(path), False)


def kept_for_its_run(name: str, path: Path, stages: dict[str, Path], wanted: dict) -> bool:
    """Whether the staging at ``stages`` of an input :func:`note_unskipped` noted (``path``, ``name``
    as the lines name it) is kept, its input skipped, as it does not match the command
    (``wanted``: :func:`identity`); one line then, which says why and what resumes it."""
    held = _UNSKIPPED.get() or {}
    if real_path(path) not in held:
        return False
    why = mismatch(stages, wanted)
    if why is not None:
        held[real_path(path)] = True
        log.warning(
            "%s: its outputs by this checkpoint and settings are here: skipped; the stopped "
            "run's rows that were replacing them are kept, which this command cannot resume "
            "(%s): the stopped run's own command resumes them; this command without "
            "--skip-existing predicts it anew in their place",
            *(name, why),
        )
    return why is not None


def unskipped_inputs() -> list[str]:
    """The inputs :func:`note_unskipped` noted here (resolved paths), which the main process, whose
    claim notes them, shares with the others of its run: each holds them too, so that a
    slide dealt to another process is kept as in the main one (s66 review: discarded and
    predicted anew, "2 written, 0 skipped")."""
    return list(_UNSKIPPED.get() or {})


def kept_inputs() -> list[str]:
    """The inputs :func:`kept_for_its_run` kept in this process (resolved paths), which it
    hands the main process (:func:`note_kept`)."""
    return [path for path, kept in (_UNSKIPPED.get() or {}).items() if kept]


def note_kept(paths: Iterable[str]) -> None:
    """Note ``paths`` (another process's :func:`kept_inputs`) as kept here, where the run
    counts them skipped (:func:`was_kept`)."""
    if (held := _UNSKIPPED.get()) is not None:
        held.update(dict.fromkeys(paths, True))


#: what keeps the rows of a large image stopped part way where its objects alone are asked
#: for (their ids are found over the whole image), as the caller spells it (:func:`said_as`)
KEEPS_ROWS = Spelled(
    "with objects only save_probabilities=True", "with --instances only --save-probabilities"
)


def restarts(folder: Path, objects_only: bool, shown: Callable[[], Mapping[str, str]]) -> str:
    """What the rerun keeps or cannot keep of a large image stopped part way, from one
    listing of the stopped output folder ``folder`` (not its sub-folders: the whole output
    tree was walked, an OME-Zarr output's chunk files and all, review s47 apinodata 4):
    with ``objects_only`` (objects and no probabilities: its ids staged,
    ``.<name>.ids.partial``) it is predicted again from its first row (slides audit s46:
    the stop line read like a resume, and 2,048 of 12,288 rows were redone); else where its
    rows are kept and that the rerun resumes there (:func:`stopped_at`, each input named as
    ``shown()`` says, asked only where a staging is there: s56, 0.45 s on 2,000 PNGs;
    s50: the line said "the outputs of 0 of 1 inputs" alone)."""
    staged = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        staged = sorted(e.name for e in entries if e.name.endswith(".partial"))
    if objects_only:
        if any(name.endswith(".ids.partial") for name in staged):
            keeps = said_as(KEEPS_ROWS)
            return (
                " (a large image stopped part way starts again at its first row: "
                f"{keeps} keeps its rows)"
            )
        return ""
    if not staged:  # nothing to name: the inputs not listed again
        return ""
    names = shown()
    kept = [where for name in staged if (where := stopped_at(Path(folder) / name, names))]
    return f" ({'; '.join(kept)})" if kept else ""


def _sync_rows(array, spec: ome.OutputSpec, page: int, top: int, row: int) -> None:
    """Flush to disk the chunk files of ``array`` (a staged level) that hold rows
    ``[top, row)`` of ``page``, and its folder: a machine that crashes loses none of the
    rows recorded as done (a killed process loses nothing either way)."""
    folder = Path(array.store.root) / array.path
    chunk_rows = range(top // ome.CHUNK, -(-row // ome.CHUNK))
    columns = range(math.ceil(spec.shape[-1] / ome.CHUNK))
    at = spec.place(page, slice(top, row))  # the page's t and z
    lead = [
        range(s) if a == "c" else [i] for a, s, i in zip(spec.axes, spec.shape, at) if a in "ctz"
    ]
    sep = getattr(array.metadata, "dimension_separator", ".") or "."
    for index in np.ndindex(*(len(r) for r in lead)):
        head = [str(r[i]) for r, i in zip(lead, index)]
        for y in chunk_rows:
            for x in columns:
                with contextlib.suppress(FileNotFoundError):  # all zeros: never written
                    fsync(folder / sep.join([*head, str(y), str(x)]))
    fsync(folder)


def started(stage: Path) -> float | None:
    """When the staging's record was written (seconds since the epoch), or None."""
    with contextlib.suppress(OSError):
        return (stage / RECORD).stat().st_mtime
    return None


#: the stagings said outside a command or public call (within one: once in it, a second
#: call into the folder hears them again, a one-file call does not:
#: :func:`~unetlab.data.read_notes.first_said_of_all`)
_said: set[tuple[str, Path, str]] = set()

#: the inputs the run under way predicts (:func:`predicting`), resolved
_PREDICTING: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "predicting", default=frozenset()
)


@contextlib.contextmanager
def predicting(inputs: list[Path]) -> Iterator[None]:
    """Within: ``inputs`` are the run's (every process's), so :func:`say_others` names no
    staging of theirs: another process's under way is no killed run's (``predict --nproc 2
    --instances``: each process said the other's slide "a killed run's staging ... is
    kept"), and a killed run's this run predicts again is resumed (said then)."""
    token = _PREDICTING.set(frozenset(real_path(p) for p in inputs))
    try:
        yield
    finally:
        _PREDICTING.reset(token)


def say_others(folder: Path, ours: set[Path]) -> dict[str, list[Path]]:
    """Log a line for each other input whose resumable staging is in ``folder`` (not
    ``ours``, nor of an input the run predicts: :func:`predicting`; left by a killed run, it
    holds its rows until that input is predicted there again or it is deleted), once a
    command or public call; in a call that reads one file (``predict_file``) once a
    process, as outside any (:func:`~unetlab.data.read_notes.first_said_of_all`): each
    line names its folder and input, so a call into another folder still hears that
    folder's, and a loop of ``predict_file`` into one folder heard the same staging at
    every file (review D); returns them: input -> staging folders."""
    found: dict[str, list[Path]] = {}
    with contextlib.suppress(OSError):
        for p in sorted(folder.iterdir()):
            if p not in ours and p.name.endswith(".partial") and (p / RECORD).is_file():
                found.setdefault(_source(p), []).append(p)
    for source, stages in found.items():
        if str(Path(source).resolve()) in _PREDICTING.get():
            continue
        if not first_said_of_all(("staging", folder.resolve(), source), _said):
            continue
        size = sum(f.stat().st_size for stage in stages for f in stage.rglob("*") if f.is_file())
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(started(stages[0]) or 0))
        log.info(
            "%s: a killed run's staging of %s is kept (%s: %.1f MB, from %s): predict that "
            "input again into this folder to resume it, or delete them",
            folder,
            source,
            ", ".join(p.name for p in stages),
            size / 1e6,
            when,
        )
    return found


def _source(stage: Path) -> str:
    """The input a staging was made from, as its record says."""
    try:
        return str(json.loads((stage / RECORD).read_text())["input"]["path"])
    except (OSError, ValueError, KeyError, TypeError):
        return "an unknown input"
