"""What a folder of images holds that a folder search passes over, said so that nothing is
left out without a word (audit s34 messy): macOS metadata files (``._name.tif``, AppleDouble:
not images) and sub-folders of images (folders are not searched recursively).

Pure helpers over the file system; :mod:`unetlab.data.io` and :mod:`unetlab.data.pairs` use
them, and :func:`unetlab.data.read_notes.note_once` says each line once a command.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections import Counter
from itertools import islice
from pathlib import Path

from unetlab.data.mrc import SHARED_SUFFIXES, other_format
from unetlab.data.nifti import PAIR_CONVERSION, PAIR_ENDINGS
from unetlab.data.tiff_files import HEADERS, path_key
from unetlab.errors import close_names
from unetlab.words import numbered, worded

#: the first bytes of a macOS AppleDouble file (the ``._name`` twin that macOS writes beside
#: every file it copies to a FAT, exFAT or SMB drive)
APPLE_DOUBLE = b"\x00\x05\x16\x07"
#: files looked at under one sub-folder at most (a deep tree is counted no further)
COUNT_LIMIT = 10_000
#: the record unetlab leaves in a folder of its outputs (:data:`unetlab.manifest.MANIFEST`):
#: such a sub-folder holds predictions, not inputs left out
OUTPUTS_RECORD = ".unetlab-outputs"


def is_macos_metadata(path: Path) -> bool:
    """Whether ``path`` is a macOS AppleDouble file (``._name`` holding the magic
    ``00 05 16 07``): metadata, no image, passed over as ``.DS_Store`` is."""
    if not path.name.startswith("._"):
        return False
    try:
        with open(path, "rb") as f:
            return f.read(4) == APPLE_DOUBLE
    except OSError:
        return False


NEAR_RATIO = 0.8  # of a path's part to a name beside it; config keys and flags take 0.6


def near_path(path: str | os.PathLike) -> Path | None:
    """The existing path spelt closest to ``path``, which does not exist: each missing part
    replaced by the name beside it spelt closest (:func:`~unetlab.errors.close_names`;
    ``kromp2020_nucle`` -> ``kromp2020_nuclei``, ``imagse`` -> ``images``), or None where a
    part has no close name (a new user's typo named the folder meant; walk s49). A name is
    close by a slip of the fingers or a difflib ratio of at least :data:`NEAR_RATIO`: the
    names' default 0.6 sent ``/tmp/data`` to ``/tmp/apinodata`` (0.62), a folder unrelated."""
    path = Path(path)
    found = Path(path.anchor)
    for part in path.parts[len(path.anchor) > 0 :]:
        step = found / part
        if not step.exists():
            try:
                with os.scandir(found) as entries:
                    names = [e.name for e in islice(entries, COUNT_LIMIT)]
            except OSError:
                return None
            if not (close := close_names(part, names, cutoff=NEAR_RATIO)):
                return None
            step = found / close[0]
        found = step
    return found if found.exists() and found != path else None


def near_line(path: str | os.PathLike) -> str:
    """`` (did you mean NEAR?)`` of :func:`near_path`, or "" where none is near; for a path
    inside a Zarr store, what the store holds there (:func:`zarr_missing_line`)."""
    near = near_path(path)
    return f" (did you mean {near}?)" if near else zarr_missing_line(path)


#: the files that make a folder a Zarr group or array (v2; v3's ``zarr.json``)
ZARR_MARKERS = (".zgroup", ".zarray", "zarr.json")


def is_zarr(path: str | os.PathLike) -> bool:
    """True for a Zarr folder (v2 ``.zarray``/``.zgroup`` or v3 ``zarr.json``). A file is
    none: looked at once a command (:func:`_mode`; s63: predict's output naming stat-ed
    each input 13 times here)."""
    mode = _mode(path)
    return stat.S_ISDIR(mode) and any((Path(path) / name).exists() for name in ZARR_MARKERS)


def _mode(path: str | os.PathLike) -> int:
    """``path``'s ``st_mode`` (0 where it cannot be stat-ed); a regular file's kept once a
    command (within ``HEADERS.kept()``: nothing of a command's makes an input a folder),
    others' stat-ed at each ask (a folder a command writes may become a Zarr store)."""
    key, done = ("regular file", path_key(path)), HEADERS.get()
    if done is not None and key in done:
        return done[key]
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:  # missing, as Path.is_dir takes it; others raise as there
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            raise
        return 0
    except ValueError:  # a name no file can have (a NUL in it), as Path.is_dir
        return 0
    if done is not None and stat.S_ISREG(mode):
        done[key] = mode
    return mode


def zarr_missing_line(path: str | os.PathLike) -> str:
    """`` (the Zarr group a.ome.zarr holds no 7, only 0, 1: give one of those)`` for a
    ``path`` given inside a Zarr store that the store does not hold (a level or series
    ``a.ome.zarr/7``; it said "no such file or folder" alone, s59); "" for any other."""
    path = Path(path)
    held = next((p for p in path.parents if p.exists()), None)
    if held is None or not is_zarr(held):
        return ""
    missing = path.relative_to(held).as_posix()
    if not _zarr_group(held):
        return f" (the Zarr array {held} holds no group or array {missing}: give the array)"
    names = sorted(p.name for p in held.iterdir() if is_zarr(p) and not p.name.startswith("."))
    if not names:
        return f" (the Zarr group {held} holds no group or array: give another Zarr)"
    shown = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
    return f" (the Zarr group {held} holds no {missing}, only {shown}: give one of those)"


def _zarr_group(path: Path) -> bool:
    """Whether the Zarr folder ``path`` is a group (v2 ``.zgroup``, v3 ``zarr.json`` of
    ``node_type`` group), not an array."""
    if (path / ".zgroup").exists():
        return True
    try:
        return json.loads((path / "zarr.json").read_text()).get("node_type") == "group"
    except (OSError, ValueError, AttributeError):
        return False


def is_glob(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds a glob's wildcards (``in/**/*.tif``: ``*``, ``?``, ``[``)."""
    return any(ch in str(path) for ch in "*?[")


def glob_hint(pattern: str | os.PathLike) -> str:
    """For a glob that matched nothing: `` (did you mean NEAR/*.png?)`` where its folder does
    not exist and one is spelt near it (:func:`near_path`), `` (FOLDER holds 12 .png files)``
    where it exists (``*.tif`` over PNGs; macOS metadata twins ``._x.png`` not counted, the
    current folder named by its path, not "."); "" for a name that is no glob (walk s49: "no
    images found in test/images/*.tif" left the user to look)."""
    parts = Path(pattern).parts
    glob = next((i for i, part in enumerate(parts) if is_glob(part)), None)
    if glob is None:
        return ""
    folder, rest = Path(*parts[:glob]) if glob else Path(), Path(*parts[glob:])
    if not folder.is_dir():
        near = near_path(folder)
        return f" (did you mean {near / rest}?)" if near and near.is_dir() else ""
    with os.scandir(folder) as entries:
        names = [Path(e.path) for e in islice(entries, COUNT_LIMIT)]
    kinds = Counter(p.suffix.lower() for p in names if not is_macos_metadata(p))
    shown = [numbered(n, f"{suffix} file") for suffix, n in kinds.most_common(3) if suffix]
    where = folder if glob else Path.cwd()  # "*.tif": the current folder, by its name
    return f" ({where} holds {', '.join(shown)})" if shown else ""


def image_subfolders(folder: Path, suffixes) -> dict[Path, int]:
    """The sub-folders of ``folder`` (not hidden) that hold image files (``suffixes``) at any
    depth, with how many (counted up to :data:`COUNT_LIMIT` files a sub-folder), less those
    unetlab wrote (:func:`_written`: a folder of predictions is no inputs left out, but the
    user's images beside them are; audit s37 paths C)."""
    out = {}
    for sub in sorted(folder.iterdir()):
        if sub.name.startswith(".") or not sub.is_dir():
            continue
        if n := _count_images(sub, suffixes):
            out[sub] = n
    return out


def _count_images(folder: Path, suffixes) -> int:
    count = seen = 0
    suffixes = tuple(suffixes)
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        ours = _written(Path(top)) if OUTPUTS_RECORD in files else set()
        for name in files:
            seen += 1
            lower = name.lower()
            image = lower.endswith(suffixes) and not name.startswith("._") and name not in ours
            if image and not (lower.endswith(SHARED_SUFFIXES) and other_format(Path(top, name))):
                count += 1
            if seen >= COUNT_LIMIT:
                return count
    return count


def _written(folder: Path) -> set[str]:
    """The names ``folder``'s manifest lists (unetlab's outputs); all of them where it
    cannot be read (taken for a folder of outputs, as before)."""
    from unetlab.errors import OutputError
    from unetlab.manifest import writers_of

    try:
        return set(writers_of(folder))
    except OutputError:
        return set(os.listdir(folder))


def subfolders_line(folder: Path, found: dict[Path, int], fix: str) -> str:
    """``images/day2/ (2 images) is not read: folders are not searched recursively; FIX``."""
    named = ", ".join(f"{sub.name}/ ({numbered(n, 'image file')})" for sub, n in found.items())
    verb = worded(len(found), "is", "are")
    return f"{folder}/: {named} {verb} not read: folders are not searched recursively; {fix}"


#: microscope vendors' file formats unetlab does not read (Bio-Formats does): a folder
#: search passes over them, and says so (:func:`unread_line`); the TIFF-based ones
#: (``.lsm``, ``.svs``, ``.ndpi``, ``.scn``) are read as TIFFs
#: (:data:`unetlab.data.tiff_files.TIFF_SUFFIXES`)
MICROSCOPE_SUFFIXES = (
    ".nd2", ".lif", ".vsi", ".oib", ".oif", ".lei", ".dv", ".mrxs", ".sld",
)  # fmt: skip
#: what a microscope file is converted to, a file unetlab reads
OME_TIFF = "OME-TIFF (Fiji: File > Import > Bio-Formats, then save as OME-TIFF; or bfconvert)"


def unread_microscope_files(paths) -> list[Path]:
    """The files in a microscope format unetlab does not read (:data:`MICROSCOPE_SUFFIXES`)
    and the headers (``.hdr``) of Analyze / NIfTI pairs, one a pair, among the folders'
    files and the globs' matches of ``paths`` (named files: read, and refused there)."""
    import glob

    found: list[Path] = []
    for p in [paths] if isinstance(paths, (str, os.PathLike)) else paths:
        if Path(p).is_dir():
            found += sorted(Path(p).iterdir())
        elif is_glob(p):
            found += sorted(Path(m) for m in glob.glob(str(p), recursive=True))
    unread = (*MICROSCOPE_SUFFIXES, PAIR_ENDINGS[0])
    ours = [f for f in found if f.suffix.lower() in unread and f.is_file()]
    return sorted(set(ours), key=ours.index)


def converted_to(path: Path) -> str:
    """What the file ``path`` (:func:`unread_microscope_files`) is converted to: one
    ``.nii.gz`` of an Analyze / NIfTI pair, else an OME-TIFF."""
    return PAIR_CONVERSION if path.suffix.lower() in PAIR_ENDINGS else OME_TIFF


def unread_line(files: list[Path]) -> str:
    """One line naming how many ``files`` (:func:`unread_microscope_files`) of each format
    a run passed over, and the fix (an Analyze / NIfTI pair counted as ``.hdr/.img``)."""
    counts: dict[str, int] = {}
    fixes: dict[str, list[str]] = {}
    for f in files:
        kind = "/".join(PAIR_ENDINGS) if f.suffix.lower() in PAIR_ENDINGS else f.suffix.lower()
        counts[kind] = counts.get(kind, 0) + 1
        fixes.setdefault(converted_to(f), []).append(kind)
    kinds = ", ".join(f"{s} x{n}" for s, n in counts.items())
    each = (f"the {', '.join(dict.fromkeys(k))} to {fix}" for fix, k in fixes.items())
    how = f"them to {next(iter(fixes))}" if len(fixes) == 1 else "; ".join(each)
    return (
        f"{numbered(len(files), 'file')} in a format unetlab does not read ({kinds}): not "
        f"predicted; convert {how}"
    )
