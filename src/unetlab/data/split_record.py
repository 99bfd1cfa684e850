"""Which files trained a run and which validated it: the record a run keeps in ``split.json``
and in its checkpoints (part ``split``).

A record lists the training and the validation pairs: the image and mask files relative to
the data folder (so a moved folder still reads), the page of a stack, and the sha256 of each
file's bytes (so a renamed or copied file is still recognised, and a changed one is not taken
for the one that trained). :func:`recorded_pairs` gives the pairs back, refusing files that
are gone or changed; :func:`added_pairs` names the pairs a folder has gained since;
:func:`trained_count` counts the images of a list that trained the run, by their bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from unetlab.atomic import atomic_path
from unetlab.data.coco import coco_listed, coco_sha256, viewed_now
from unetlab.data.ctc import refuse_other_truth
from unetlab.data.names import mask_shown
from unetlab.data.nifti_channels import channel_files
from unetlab.data.pairs import Pair
from unetlab.errors import DatasetError
from unetlab.words import numbered, worded

SPLIT_FILE = "split.json"
#: the layout of a record this unetlab writes and reads; one without ``format`` (none has
#: lacked it since split.json began, s30) is read as 1
RECORD_FORMAT = 1
_CHUNK = 1 << 20
_LISTED = 5  # files named in a message, then "and N more"


_HASHED: dict[tuple, str] = {}


def image_sha256(path: str | os.PathLike) -> str:
    """:func:`file_sha256` of an image file; of an nnU-Net case of several channel files
    (:func:`~unetlab.data.nifti_channels.channel_files`), the sha256 of its files' sha256s
    in channel order (s71 review: a changed ``x_0001`` was taken for the trained case)."""
    files = channel_files(path)
    if len(files) == 1:
        return file_sha256(path)
    return hashlib.sha256("".join(map(file_sha256, files)).encode()).hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of the bytes of the file at ``path``, as hex; of a folder (a bioimage.io
    package), over each file's relative name and bytes in sorted order. Computed once per
    path, size and modification time in a process (100 MB: about 0.17 s). An image's mask
    named in a COCO file: of its pixels as drawn (:func:`~unetlab.data.coco.coco_sha256`)."""
    if (drawn := coco_sha256(Path(path))) is not None:
        return drawn
    path = Path(path).resolve()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if stamp not in _HASHED:
        digest = hashlib.sha256()
        for file in files:
            if path.is_dir():
                digest.update(file.relative_to(path).as_posix().encode() + b"\0")
            with open(file, "rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
        _HASHED[stamp] = digest.hexdigest()
    return _HASHED[stamp]


def split_record(root: str | os.PathLike, train: Sequence[Pair], val: Sequence[Pair]) -> dict:
    """The record of a run's ``train`` and ``val`` pairs of the data folder ``root``:
    ``{"format", "root", "train": [entry, ...], "val": [...]}``, each entry ``{"image",
    "mask"}`` (POSIX paths relative to ``root``, or absolute outside it), ``"page"``,
    ``"pages"``, ``"image_sha256"``, ``"mask_sha256"`` (and ``"mask_page"``, the page of a
    mask that is not ``"page"``: :attr:`Pair.mask_at`)."""
    root = Path(root)
    return {
        "format": RECORD_FORMAT,
        "root": str(root.resolve()),
        "train": [_entry(p, root) for p in train],
        "val": [_entry(p, root) for p in val],
    }


def _entry(pair: Pair, root: Path) -> dict:
    entry = {
        "image": _relative(pair.image, root),
        "mask": _relative(pair.mask, root),
        "page": pair.page,
        "pages": pair.pages,
        "image_sha256": image_sha256(pair.image),  # the pages of a stack: hashed once
        "mask_sha256": file_sha256(pair.mask),
    }
    # a 3-D frame's mask of one slice is its own page 0, not the frame's page (Pair.mask_at)
    return entry if pair.mask_at is None else {**entry, "mask_page": pair.mask_at}


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path.resolve())


def write_split(path: str | os.PathLike, record: dict) -> Path:
    """Write ``record`` as JSON to ``path``, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return path


def read_split(path: str | os.PathLike) -> dict | None:
    """The record in ``path``, or None when there is none; DatasetError when it is no record."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path} is unreadable ({exc}): it should list the run's files") from exc
    if not isinstance(record, dict) or not {"train", "val"} <= set(record):
        raise DatasetError(f"{path} is not a unetlab split record (no train and val lists)")
    return checked_format(record, path)


#: the fix :func:`checked_format` gives for a split.json's format no unetlab writes
EDITED_SPLIT = 'an edited file: set "format": 1 in it or remove the key'
#: ... and for a checkpoint's split record's
EDITED_CHECKPOINT = "an altered checkpoint: use a copy of it as its run wrote it"


def checked_format(record: dict, where: str | os.PathLike, fix: str = EDITED_SPLIT) -> dict:
    """``record`` (a split record read from ``where``: a split.json, or a checkpoint's part
    ``split`` with ``fix`` :data:`EDITED_CHECKPOINT`), refused in one line where its
    ``format`` is above :data:`RECORD_FORMAT` (s73: a newer unetlab's record was read as if
    it were this one's layout) or is no whole number from 1 (``fix``: an edit); one without
    ``format`` is read as format 1, 1.0 as 1."""
    found = record.get("format", 1)
    whole = isinstance(found, (int, float)) and not isinstance(found, bool) and found % 1 == 0
    if whole and found > RECORD_FORMAT:
        raise DatasetError(
            f"{where}: a split record of format {int(found)}, written by a newer unetlab (this "
            f"one reads up to {RECORD_FORMAT}): upgrade unetlab"
        )
    if not whole or found < 1:
        raise DatasetError(
            f"{where}: its split record's format is {found!r}, not one unetlab writes (a whole "
            f"number from 1 to {RECORD_FORMAT}): {fix}"
        )
    return record


def _pair(entry: dict, root: Path, axes: str | None) -> Pair:
    image, mask = root / entry["image"], viewed_now(root / entry["mask"])
    return Pair(image, mask, entry["page"], entry["pages"], axes, entry.get("mask_page"))


def recorded_pairs(
    record: dict, root: str | os.PathLike, *, new_run: bool = False, axes: str | None = None
) -> tuple[list[Pair], list[Pair]]:
    """(train, val) pairs of ``record`` in the data folder ``root``. DatasetError naming the
    recorded files that are gone from ``root`` or whose bytes changed, and the fix: for a
    resumed run (``new_run`` False) or for a new run that repeats the recorded one's split
    (``--split``, ``fit(split=)``); ``axes``: the images' as given (``data.axes``), which
    the pairs read them with."""
    root = Path(root)
    whose = "the run repeated (--split, split=)" if new_run else "this run"
    if not root.is_dir():
        raise DatasetError(
            f"{_where(root, record)} is not a folder: give --data (data.root) the folder "
            f"{whose} trained and validated on"
            + (f", {record['root']} if it is still there" if record.get("root") else "")
        )
    missing, changed = gone_or_changed(record, root)
    if missing or changed:
        other = (
            "drop --split (split=None) to split the folder as it is now"
            if new_run
            else "train on the folder as it is in a new run (another --run-dir, or --overwrite)"
        )
        raise DatasetError(
            f"{_where(root, record)} no longer holds the files {whose} trained and validated "
            f"on ({_problems(missing, changed)}): put them back as they were (or give the "
            f"folder they are in now as --data / data.root), or {other}"
        )
    train = [_pair(e, root, axes) for e in record["train"]]
    return train, [_pair(e, root, axes) for e in record["val"]]


def refuse_record_truth(record: dict, data, named: str) -> None:
    """UnetlabError where the masks ``record`` lists (``named``: where it is) are of a Cell
    Tracking Challenge truth that ``data`` (a config's data section: ``ctc_truth`` of the
    folder ``root``) does not read there."""
    masks = [e["mask"] for e in [*record["train"], *record["val"]]]
    refuse_other_truth(masks, data.ctc_truth, named, Path(data.root))


#: how each file of a recorded pair is hashed
_SHA256 = {"image": image_sha256, "mask": file_sha256}


def gone_or_changed(record: dict, root: str | os.PathLike) -> tuple[list[str], list[str]]:
    """(missing, changed): the files ``record`` lists that the folder ``root`` no longer
    holds, and those whose bytes differ from the recorded ones (by their sha256)."""
    root = Path(root)
    missing, changed = [], []
    for entry in [*record["train"], *record["val"]]:
        for role in ("image", "mask"):
            path = root / entry[role]
            if entry[role] in missing or entry[role] in changed:
                continue
            if not (path.is_file() or coco_listed(path)):
                missing.append(entry[role])
            elif _SHA256[role](path) != entry[f"{role}_sha256"]:
                changed.append(entry[role])
    return missing, changed


def split_differences(
    record: dict, train: Sequence[Pair], val: Sequence[Pair], root: str | os.PathLike
) -> dict[str, list[str]]:
    """How the ``train`` and ``val`` pairs of the folder ``root`` now differ from ``record``:
    the files (relative to ``root``) ``"added"`` since, ``"missing"``, ``"changed"`` (their
    sha256 differs), and the images ``"moved"`` between training and validation (a random
    split drawn again over another set of files). Each list empty: the same files, split
    the same way."""
    root = Path(root)
    roles = (("train", train), ("val", val))
    now = {(_relative(p.image, root), p.page): role for role, pairs in roles for p in pairs}
    listed = {(e["image"], e["page"]): role for role in ("train", "val") for e in record[role]}
    missing, changed = gone_or_changed(record, root)
    return {
        "added": sorted({image for image, page in now if (image, page) not in listed}),
        "missing": missing,
        "changed": changed,
        "moved": sorted({key[0] for key, role in listed.items() if now.get(key, role) != role}),
    }


def describe_unchanged(record: dict, source: str | os.PathLike, *, split: bool = True) -> str:
    """The line that says a data folder was checked against ``record`` (read from
    ``source``, a split.json) and holds its files unchanged: so a reader can tell "checked
    and the same" from "not checked" (audit s34 repro 10). ``split``: the folder was also
    split again, the same way (training from a run's config.yaml); else the record's split
    is used as it is (``--split``, a resume)."""
    train, val = len(record["train"]), len(record["val"])
    images = len({e["image"] for e in [*record["train"], *record["val"]]})
    how = "split the same way" if split else "split as it lists them"
    return (
        f"data checked against {source}: its {numbered(images, 'image')} and {worded(images, 'its mask is', 'their masks are')} unchanged "
        f"(sha256), {how} ({train} training, {val} validation)"
    )


def describe_names(names: Sequence[str]) -> str:
    """``a.png, b.png, c.png and 4 more``"""
    more = f" and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    return ", ".join(names[:_LISTED]) + more


def _where(root: Path, record: dict) -> str:
    """``root`` as a message names it: resolved (a relative one, from the current folder),
    beside the folder the record names if that is another."""
    resolved = root.resolve()
    said = str(root) if root.is_absolute() else f"{root} (from the current folder: {resolved})"
    recorded = record.get("root")
    if recorded and Path(recorded) != resolved:
        said += f", not the folder the run recorded ({recorded}),"
    return said


def _problems(missing: list[str], changed: list[str]) -> str:
    said = [f"{mask_shown(Path(name))} is missing" for name in missing] + [
        f"{mask_shown(Path(name))} changed (its sha256 differs)" for name in changed
    ]
    more = f" and {len(said) - _LISTED} more" if len(said) > _LISTED else ""
    return ", ".join(said[:_LISTED]) + more


def added_pairs(record: dict, pairs: Sequence[Pair], root: str | os.PathLike) -> list[Pair]:
    """The ``pairs`` (of the folder ``root`` now) whose image file ``record`` does not list:
    a page of a listed stack that it leaves out is no new image but the gap its split left
    between training and validation pages (:mod:`unetlab.data.stack_split`; a changed
    file is refused before, :func:`recorded_pairs`)."""
    root = Path(root)
    listed = {e["image"] for e in [*record["train"], *record["val"]]}
    return [p for p in pairs if _relative(p.image, root) not in listed]


def trained_count(pairs: Sequence[Pair], record: dict) -> int:
    """How many of ``pairs`` trained the run of ``record`` (:func:`trained_flags`)."""
    return sum(trained_flags(pairs, record))


def trained_flags(pairs: Sequence[Pair], record: dict) -> list[bool]:
    """Whether each of ``pairs`` trained the run of ``record``: its image file's bytes (and
    page) are those of a recorded training image, whatever the file is called now."""
    trained = {(e["image_sha256"], e["page"]) for e in record["train"]}
    return [p.image.is_file() and (image_sha256(p.image), p.page) in trained for p in pairs]


def copied_images(
    train: Sequence[Pair], val: Sequence[Pair], root: str | os.PathLike
) -> list[tuple[str, str]]:
    """(validation image, training image) of each validation image whose file holds the bytes
    (and page) of a training image's, whatever either is called: a copy that inflates the
    validation figures. Names relative to ``root`` (a page of a stack: ``name page N``)."""
    root = Path(root)
    trained = {(image_sha256(p.image), p.page): p for p in train if p.image.is_file()}
    copies = []
    for p in val:
        if p.image.is_file() and (t := trained.get((image_sha256(p.image), p.page))):
            copies.append((_named(p, root), _named(t, root)))
    return copies


def _named(pair: Pair, root: Path) -> str:
    name = _relative(pair.image, root)
    return name if pair.pages == 1 else f"{name} page {pair.page}"


def describe_pairs(pairs: Sequence[Pair]) -> str:
    """``a.png, b.png, c.png and 4 more``"""
    names = [p.shown for p in pairs]
    more = f" and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    return ", ".join(names[:_LISTED]) + more
