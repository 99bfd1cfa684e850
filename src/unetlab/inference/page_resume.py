"""A stack read whole resumes from the pages a killed run finished.

A 300-frame movie read whole took 562 s; killed at frame 250 it started again at frame 0,
where a streamed stack resumes (audit s37 timelapse 6). Each page's results (labels, object
ids, probabilities: what :func:`~unetlab.inference.files.predict_file` makes of a page) are
kept, once predicted, in a staging folder beside the outputs, ``.<labels name>.pages.partial``
(one ``page-NNNNN.npz`` a page, its integers compressed, each written atomically; a 256 x 256 frame's
labels and object ids: 17 kB, 328 kB uncompressed), with a record of what must match
for them to be this run's pages (:func:`identity`: the input's path, size and time, the
prediction record, the pages' shape, the outputs asked for, the batch size and the device).
A rerun of the same command reads the pages done instead of predicting them again; a page
is predicted from its own pixels and statistics only, so the outputs equal an uninterrupted
run's bit for bit. Anything that differs discards the staging, said in one line; the staging
is removed once the outputs are written. The cleaning of a killed run's leftovers keeps a
staging that holds its record (:func:`unetlab.outputs.resumable`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import zipfile
from pathlib import Path

import numpy as np
import torch

from unetlab.atomic import RESUMABLE, atomic_path, publishing_record, remove_tree, write_error
from unetlab.errors import OutputError
from unetlab.inference.records import Provenance
from unetlab.inference.slide_resume import differences, input_stamp, thread_note
from unetlab.runtime import resolve_device
from unetlab.zip_damage import MEMBER_DAMAGE, raise_if_disk

log = logging.getLogger(__name__)

#: the staging folder of a stack's labels ``name``
FOLDER = ".{name}.pages.partial"
#: a page's results in it
PAGE = "page-{page:05d}.npz"

#: the fix said for the staged ``page`` the disk could not read (:meth:`PageStaging.load`):
#: a rerun reads it again, so the way out of a disk that never reads it is said too
_DISK_FIX = (
    "check the disk it is on and run again, or remove {page}: that page is predicted"
    " again, the others are kept"
)

#: the parts of :func:`identity` in the order a mismatch tells them, with their words (a
#: slide's where they are its: :func:`~unetlab.inference.slide_resume.differences`; the code,
#: which the record holds, named by its parts under "versions")
_REASONS = {
    "input": "the input is another file, or it changed (size, modification time or bytes)",
    "record": "the checkpoint or the prediction settings changed",
    "pages": "its pages are another number or size",
    "outputs": "the outputs asked for changed",
    "batch": "the batch size changed",
    "device": "the device changed",
    "versions": "the code changed",
}


def identity(
    path: Path,
    record: Provenance,
    *,
    pages: int,
    shape: tuple[int, ...],
    outputs: dict,
    batch: int | None,
    device,
) -> dict:
    """What must match for a staging to be resumed (JSON values only): the input ``path``
    (:func:`~unetlab.inference.slide_resume.input_stamp`), the prediction ``record`` with
    the code that predicts, the number of ``pages`` and a page's ``shape``, the ``outputs``
    kept of each page (name -> bool), the ``batch`` size asked for and the ``device`` (a
    GPU's rounding is not a CPU's; None: the CPU). The CPU threads are recorded too, a
    mismatch only said (:func:`~unetlab.inference.slide_resume.thread_note`)."""
    device = resolve_device(device if device is not None else "cpu")
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    wanted = {
        "input": input_stamp(path),
        "record": record.to_dict(),
        "pages": [pages, *shape],
        "outputs": outputs,
        "batch": batch,
        "device": [device.type, gpu],
        "threads": torch.get_num_threads() if device.type == "cpu" else None,
    }
    return json.loads(json.dumps(wanted))


def mismatch(found: dict, wanted: dict) -> str | None:
    """Why a staging recorded as ``found`` cannot be resumed for ``wanted``, in words: every
    reason, the code's changes by name, as a slide's line names them (it named the first
    alone, the code within the settings: s66); None where it can."""
    return differences(found, wanted, _REASONS)


class PageStaging:
    """The staged pages of the stack whose labels go to ``labels`` (a path), made by
    ``wanted`` (:func:`identity`). :meth:`open` resumes or starts it; :meth:`load` gives a
    page done, :meth:`keep` stages one, :meth:`finish` removes the staging once the
    outputs are written."""

    def __init__(self, labels: Path, wanted: dict):
        self.folder = labels.parent / FOLDER.format(name=labels.name)
        self.wanted = wanted
        self.done: set[int] = set()

    @classmethod
    def open(cls, labels: Path, wanted: dict, *, name: str) -> PageStaging:
        """The staging of ``labels``: a killed run's, resumed where its record matches
        ``wanted`` (a line says how many pages are done; ``name``: the input's, as lines
        name it), else a new one (a line says why an earlier one is discarded)."""
        staging = cls(labels, wanted)
        staging.done = staging._resumed(name)
        if not staging.done:
            staging._start()
        return staging

    def _resumed(self, name: str) -> set[int]:
        """The pages done of a staging left here whose record matches, said in one line."""
        if not self.folder.is_dir():
            return set()
        found = publishing_record(self.folder)  # None: none, unread, or no JSON object
        why = (
            "it holds no record of what made it" if found is None else mismatch(found, self.wanted)
        )
        pages = self._pages() if why is None else set()
        if why is not None:
            log.info("%s: a killed run's staged pages are discarded: %s", name, why)
        elif pages:
            if note := thread_note({"labels": self.folder}, self.wanted):
                log.warning("%s: %s", name, note)
            log.info(
                "%s: resuming a killed run: %d of %d pages done (%s), predicting the others",
                *(name, len(pages), self.wanted["pages"][0], self.folder.name),
            )
        return pages

    def _pages(self) -> set[int]:
        """The pages whose results are staged."""
        count, found = self.wanted["pages"][0], set()
        for p in self.folder.glob("page-*.npz"):
            with contextlib.suppress(ValueError):
                page = int(p.stem.removeprefix("page-"))
                if 0 <= page < count and p.name == PAGE.format(page=page):
                    found.add(page)
        return found

    def _start(self) -> None:
        """A new staging folder holding the record, an earlier one removed."""
        try:
            if self.folder.is_dir() and not self.folder.is_symlink():
                remove_tree(self.folder)
            self.folder.mkdir(exist_ok=True)
        except OSError as exc:
            raise write_error(self.folder, exc) from exc
        with atomic_path(self.folder / RESUMABLE) as tmp:
            tmp.write_text(json.dumps(self.wanted))

    def load(self, page: int) -> dict[str, np.ndarray] | None:
        """The staged results of ``page`` (name -> array), or None where it is not done or
        its file is damaged (after it was written: predicted again; a damaged zip's "version
        needed" byte, encrypted flag or compression byte raised through, s61:
        :data:`~unetlab.zip_damage.MEMBER_DAMAGE`). An error of the file system reading it
        (EACCES, EIO, EMFILE) is the machine's, no damage: one line naming it and the fix
        (:func:`~unetlab.zip_damage.raise_if_disk`), where the page was silently predicted
        again (s62 review); the disk's fix names the file to remove where a rerun reads it
        again and again (review s63)."""
        if page not in self.done:
            return None
        path = self.folder / PAGE.format(page=page)
        try:
            with np.load(path, allow_pickle=False) as found:
                return {k: found[k] for k in found.files}
        except (*MEMBER_DAMAGE, ValueError) as exc:
            raise_if_disk(path, exc, disk=_DISK_FIX.format(page=path), kind=OutputError)
            self.done.discard(page)
            return None

    def keep(self, page: int, results: dict[str, np.ndarray]) -> None:
        """Stage the ``results`` (name -> array) of ``page``, atomically."""
        with atomic_path(self.folder / PAGE.format(page=page)) as tmp:
            write_npz(tmp, results)
        self.done.add(page)

    def finish(self) -> None:
        """Remove the staging: the outputs are written."""
        remove_tree(self.folder, ignore_errors=True)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``arrays`` as an ``.npz`` that :func:`numpy.load` reads: integer arrays deflated
    (labels and object ids are mostly runs: 5.2 MB -> 0.15 MB a 1024² page, 0.04 s),
    float arrays stored (probabilities barely shrink: 12.6 -> 11.1 MB for 0.5 CPU-s a
    1024² page, where ``unetlab demo``'s net predicts such an image in 1.5 s)."""
    with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
        for key, value in arrays.items():
            entry = zipfile.ZipInfo(f"{key}.npy")
            floats = value.dtype.kind in "fc"
            entry.compress_type = zipfile.ZIP_STORED if floats else zipfile.ZIP_DEFLATED
            with archive.open(entry, "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asanyarray(value), allow_pickle=False)
