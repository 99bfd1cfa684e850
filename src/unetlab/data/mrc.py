"""MRC files (MRC2014: electron microscopy's stacks, tomograms and tilt series, as IMOD,
SerialEM, RELION and cryo-ET software write them: ``.mrc``, ``.rec``, ``.st``, ``.map``,
``.ali``), read with numpy alone.

A 1,024-byte header (https://www.ccpem.ac.uk/mrc_format/mrc2014.php): NX, NY, NZ, MODE,
..., MX, MY, MZ, CELLA (Å), ..., MAPC/MAPR/MAPS, ..., NSYMBT (bytes of extended header),
..., 'MAP ' at word 53, the machine stamp (byte order) at word 54; then the voxels, X
fastest, one section a Z. The sections are the planes of a z-stack, as a TIFF z-stack's
pages are (``PYX``), rows in the file's order (as mrcfile and napari show them; IMOD's
3dmod draws row 0 at the bottom). The voxel size, CELLA / MX per axis in Å, is the pixel
size and z spacing of the outputs. Files are raw and often large (a 2k x 2k x 300 float32
tomogram is 5.0 GB): they are memory-mapped, so a large one is read plane by plane.

Label volumes are written as IMOD writes them (:func:`write_mrc_labels`): mode 0 bytes with
IMOD's stamp (unsigned), mode 6 above 255, over the input's grid, cell, origin and rows in
its order, so that they overlay it in 3dmod, ChimeraX, napari and membrain-seg's tools.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from unetlab.atomic import atomic_path
from unetlab.data.large_ids import label_dtype
from unetlab.errors import ImageReadError

#: the suffixes MRC files share with other formats (OziExplorer's .map, notes' .st, ...):
#: IMOD's reconstructions (.rec), tilt series (.st), aligned stacks (.ali) and maps (.map);
#: a folder search takes such a file only where it holds an MRC header (:func:`holds_mrc`)
SHARED_SUFFIXES = (".rec", ".st", ".ali", ".map")
#: the names of MRC files: plain .mrc and those
MRC_SUFFIXES = (".mrc", *SHARED_SUFFIXES)

HEADER_BYTES = 1024
#: MRC2014's word 53 (bytes 208-211), which older files leave blank
MAP_WORD = b"MAP "

#: MODE -> the voxels' type (mode 0: int8 per MRC2014, uint8 where IMOD's flags say so)
MODES = {0: "i1", 1: "i2", 2: "f4", 6: "u2", 12: "f2"}

#: what the other modes hold, for the line that refuses them
OTHER_MODES = {
    3: "complex int16 (a Fourier transform)",
    4: "complex float32 (a Fourier transform)",
    16: "RGB, 3 bytes a voxel",
    101: "4-bit packed",
}
#: how to make a file of those modes one unetlab reads
MODE_FIX = {
    16: "make it grey first (e.g. Fiji: Image > Type > 8-bit, then save it as TIFF)",
}

#: IMOD's stamp (byte 152) before its flags (byte 156), whose bit 0 set says its mode 0
#: bytes are signed, clear unsigned: https://bio3d.colorado.edu/imod/doc/mrc_format.txt
IMOD_STAMP = 1146047817
ANGSTROM_PER_UM = 1e4

FIX = "copy the file again, or write it again (IMOD: newstack in.mrc out.mrc)"


class MrcHeader(NamedTuple):
    """What :func:`mrc_header` reads: ``shape`` (Z, Y, X), ``dtype`` (byte order included),
    ``offset`` of the first voxel, ``voxel`` (z, y, x) Å or None where the header has none,
    ``origin`` (z, y, x) Å (ORIGIN), ``raw``: its 1,024 bytes as read, in byte ``order``
    (``<`` or ``>``; a label file keeps some of its words: :func:`write_mrc_labels`)."""

    shape: tuple[int, int, int]
    dtype: np.dtype
    offset: int
    voxel: tuple[float, float, float] | None
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    raw: bytes = b""
    order: str = "<"


def is_mrc_name(path: str | os.PathLike) -> bool:
    """Whether ``path``'s name says an MRC file (:data:`MRC_SUFFIXES`)."""
    return Path(path).suffix.lower() in MRC_SUFFIXES


def holds_mrc(path: str | os.PathLike) -> bool:
    """Whether the file ``path`` holds the shape of an MRC header: ``MAP `` at byte 208
    (MRC2014's), or 1,024 bytes sane in either byte order (an older file's: :func:`_sane`).
    Its length and mode are the reader's to check: a truncated file or a complex mode is
    refused in its own line, never dropped from a folder without a word."""
    try:
        with open(path, "rb") as f:
            raw = f.read(HEADER_BYTES)
    except OSError:
        return False
    return _is_header(raw)


def _is_header(raw: bytes) -> bool:
    """Whether the first bytes ``raw`` of a file are an MRC header: ``MAP `` at byte 208
    (MRC2014's), or a full 1,024 bytes sane in either byte order (an older file's:
    :func:`_sane`)."""
    if raw[208:212] == MAP_WORD:
        return True
    return len(raw) >= HEADER_BYTES and (_sane(raw, "<") or _sane(raw, ">"))


def other_format(path: str | os.PathLike) -> bool:
    """Whether a folder search passes over ``path``: named with a suffix MRC shares with
    other formats (:data:`SHARED_SUFFIXES`) but holding no MRC header, nor an image of
    another kind (an OziExplorer ``a.map`` beside ``a.png`` is no image of the folder; a
    PNG named ``b.rec`` is, for its reader to say "rename it b.png")."""
    from unetlab.data.file_kind import content_kind  # which imports this module

    if Path(path).suffix.lower() not in SHARED_SUFFIXES or holds_mrc(path):
        return False
    return content_kind(path) is None


def mrc_header(path: str | os.PathLike) -> MrcHeader:
    """The header of the MRC file ``path``, checked against the file's length;
    ImageReadError naming the file and the fix for a short file, an unknown mode, sizes
    the header cannot have, or data that end before or after the header says."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            raw = f.read(HEADER_BYTES)
    except OSError as exc:
        raise ImageReadError(f"{path}: cannot read this MRC file ({exc.strerror})") from exc
    if not _is_header(raw):
        raise ImageReadError(_other_kind_line(path, size))
    if len(raw) < HEADER_BYTES:
        raise ImageReadError(
            f"{path}: {size} bytes, shorter than an MRC file's 1024-byte header; {FIX}"
        )
    order = _byte_order(raw)
    words = np.frombuffer(raw, order + "i4")
    head = MrcHeader(_shape(path, words), _dtype(path, words, order), 0, _voxel(raw, order))
    origin = tuple(float(v) for v in words[49:52].view(order + "f4")[::-1])
    offset = HEADER_BYTES + _extended(path, words)
    head = head._replace(offset=offset, origin=origin, raw=raw, order=order)
    _check_axes(path, words)
    _check_length(path, head, size)
    return head


def _other_kind_line(path: Path, size: int) -> str:
    """The line for a file without ``MAP `` nor an older MRC header: another kind by its
    first bytes (:func:`~unetlab.data.file_kind.wrong_kind_line`: a TIFF, a macOS ``._``
    twin), else no MRC file (text named ``.map``, notes named ``.st``)."""
    from unetlab.data.file_kind import wrong_kind_line  # which imports this module

    return wrong_kind_line(path) or (
        f"{path}: not an MRC file ({size} bytes, no 'MAP ' at byte 208, nor an MRC mode and "
        f"sizes in a 1024-byte header at its start): give it the suffix of what it holds; "
        f"if it is an MRC file, {FIX}"
    )


def _byte_order(raw: bytes) -> str:
    """``<`` or ``>``: the machine stamp's (0x44 0x44 or 0x44 0x41 little-endian, 0x11 0x11
    big: its first byte says), else the order in which the header is sane (:func:`_sane`;
    old files and some writers leave the stamp blank)."""
    if raw[212] == 0x44:
        return "<"
    if raw[212] == 0x11:
        return ">"
    return "<" if _sane(raw, "<") else ">"


def _sane(raw: bytes, order: str) -> bool:
    """Whether the header ``raw`` read in byte ``order`` has a mode MRC2014 names, NX, NY
    and NZ in 1 to 2^24 and MAPC, MAPR, MAPS in 0-3 (as IMOD checks: a big-endian 1 read
    little-endian is 2^24; a mode-0 file's MODE and MAPC, MAPR, MAPS 0 read alike in either
    order, its NY and NZ do not)."""
    words = np.frombuffer(raw[:76], order + "i4")
    sizes, axes = words[:3], words[16:19]
    known = int(words[3]) in MODES or int(words[3]) in OTHER_MODES
    in_range = ((sizes > 0) & (sizes < 1 << 24)).all() and ((axes >= 0) & (axes <= 3)).all()
    return known and bool(in_range)


def _shape(path: Path, words: np.ndarray) -> tuple[int, int, int]:
    nx, ny, nz = (int(n) for n in words[:3])
    if min(nx, ny, nz) < 1:
        raise ImageReadError(
            f"{path}: its MRC header gives {nx} x {ny} x {nz} voxels (NX, NY, NZ must be at "
            f"least 1): not an MRC file, or a damaged one; {FIX}"
        )
    return nz, ny, nx


def _dtype(path: Path, words: np.ndarray, order: str) -> np.dtype:
    mode = int(words[3])
    if mode == 0 and words[38] == IMOD_STAMP and not words[39] & 1:
        return np.dtype("u1")  # IMOD's bytes: unsigned unless its flag says signed
    if mode in MODES:
        return np.dtype(order + MODES[mode])
    known = OTHER_MODES.get(mode, "a mode MRC2014 does not define")
    fix = MODE_FIX.get(mode, "convert it to mode 2 (IMOD: newstack -mode 2 in.mrc out.mrc)")
    raise ImageReadError(
        f"{path}: MRC mode {mode} ({known}) is not an image unetlab reads (modes 0, 1, 2, 6 "
        f"and 12: 8- and 16-bit integers, 32- and 16-bit floats); {fix}"
    )


def _extended(path: Path, words: np.ndarray) -> int:
    """The bytes of the extended header (NSYMBT) that come before the voxels."""
    nsymbt = int(words[23])
    if nsymbt < 0:
        raise ImageReadError(
            f"{path}: its MRC header gives {nsymbt} bytes of extended header (NSYMBT): a "
            f"damaged header; {FIX}"
        )
    return nsymbt


def _check_axes(path: Path, words: np.ndarray) -> None:
    """Refuse columns, rows and sections stored in another order than X, Y, Z (MAPC,
    MAPR, MAPS other than 1, 2, 3; all 0 in old files: the usual order)."""
    order = tuple(int(n) for n in words[16:19])
    if order not in ((1, 2, 3), (0, 0, 0)):
        raise ImageReadError(
            f"{path}: its voxels are stored in axis order {order} (MAPC, MAPR, MAPS), not "
            "X, Y, Z (1, 2, 3): reorder them first (e.g. in ChimeraX, or mrcfile in Python)"
        )


def _voxel(raw: bytes, order: str) -> tuple[float, float, float] | None:
    """(z, y, x) Å per voxel: CELLA / MX, MY, MZ; None where either is 0 or not a number."""
    grid = np.frombuffer(raw[28:40], order + "i4")
    cell = np.frombuffer(raw[40:52], order + "f4").astype(float)
    if not (grid > 0).all() or not (np.isfinite(cell) & (cell > 0)).all():
        return None
    sizes = cell / grid
    return float(sizes[2]), float(sizes[1]), float(sizes[0])


def _check_length(path: Path, head: MrcHeader, size: int) -> None:
    nz, ny, nx = head.shape
    promised = head.offset + nz * ny * nx * head.dtype.itemsize
    if promised == size:
        return
    said = (
        f"{path}: its MRC header says {nx} x {ny} x {nz} voxels of {head.dtype.itemsize} "
        f"bytes after {head.offset} bytes of header, {promised} bytes in all; the file has "
        f"{size}"
    )
    if promised > size:
        raise ImageReadError(f"{said}: it is truncated; copy the file again")
    raise ImageReadError(
        f"{said}: the header's sizes disagree with the file (NX, NY, NZ, MODE or NSYMBT); "
        "write it again (IMOD: newstack), or fix the header (IMOD: alterheader)"
    )


def mrc_map(path: str | os.PathLike, head: MrcHeader | None = None) -> np.memmap:
    """The voxels of the MRC file ``path`` as a read-only (Z, Y, X) memory map, in the
    file's byte order: a plane read from it reads that plane's bytes alone."""
    head = mrc_header(path) if head is None else head
    return np.memmap(path, head.dtype, "r", offset=head.offset, shape=head.shape)


def read_mrc(path: str | os.PathLike, head: MrcHeader | None = None) -> np.ndarray:
    """The voxels of the MRC file ``path`` (of header ``head``, read where not given) as a
    (Z, Y, X) array in memory, native byte order (int8, uint8, int16, uint16, float16 or
    float32 by its mode)."""
    head = mrc_header(path) if head is None else head
    return np.array(mrc_map(path, head), head.dtype.newbyteorder("="))


def mrc_pixel_size(path: str | os.PathLike) -> tuple[tuple[float, float], float] | None:
    """((y, x) pixel size, z spacing) in µm of the MRC file ``path``, from its voxel size
    in Å; None where its header records none."""
    return header_sizes(mrc_header(path))


def header_sizes(head: MrcHeader) -> tuple[tuple[float, float], float] | None:
    """:func:`mrc_pixel_size` of a header read already."""
    if head.voxel is None:
        return None
    z, y, x = (v / ANGSTROM_PER_UM for v in head.voxel)
    return (y, x), z


#: the header words a label file keeps of its image's (:func:`write_mrc_labels`): NXSTART,
#: NYSTART, NZSTART, MX, MY, MZ, CELLA and CELLB (4-15: the voxel size, as CELLA / MX), ISPG
#: (22: a stack or a volume) and ORIGIN (49-51)
KEPT_WORDS = (*range(4, 16), 22, 49, 50, 51)
#: IMOD's flag (byte 156, bit 2) that says the origin's sign is inverted: kept with the origin
IMOD_ORIGIN_FLAG = 4
#: the first words of the header's first label in a label file unetlab wrote
LABEL_NOTE = "unetlab: labels of"
#: the first words of the header label that carries the key of the record that made a label
#: file (:func:`carried_mrc_key`): a killed run's rerun tells its own file by it (s72 fix)
KEY_NOTE = "unetlab key"
#: the header's labels: 10 of 80 characters from byte 224
LABELS_AT, LABEL_BYTES = 224, 80
#: the MRC mode of each label dtype (:func:`~unetlab.data.large_ids.label_dtype`): IMOD's
#: unsigned bytes, 16-bit unsigned
LABEL_MODES = {np.dtype(np.uint8): 0, np.dtype(np.uint16): 6}


def write_mrc_labels(
    path: str | os.PathLike,
    labels: np.ndarray,
    like: str | os.PathLike,
    *,
    key: str | None = None,
) -> Path:
    """Write ``labels`` (Z, Y, X) class values of the MRC file ``like`` as the MRC2014 label
    file ``path``, atomically: little-endian, mode 0 unsigned bytes with IMOD's stamp (mode
    6, uint16, above 255), ``like``'s grid, cell (so its voxel size), origin and space group,
    its rows in the same order (row 0 first: 3dmod draws both from the bottom, napari and
    mrcfile from the top), the header's first label saying unetlab made it, a second the
    ``key`` of the record that made it (:data:`KEY_NOTE`), where given. Plane by plane
    (:func:`write_label_blocks`: no copy of the volume: review s71 2, a 60 x 1024^2 volume
    took +485 MB)."""
    theirs = mrc_header(like)
    if labels.shape != theirs.shape:
        raise ValueError(f"labels of shape {labels.shape} for an MRC file of {theirs.shape}")
    if labels.dtype.kind == "i" and int(labels.min(initial=0)) < 0:
        raise ValueError(f"label values from {labels.min()}: labels are never negative")
    top = int(labels.max(initial=0))
    return write_label_blocks(path, labels, like, top=top, head=theirs, key=key)


def write_label_blocks(
    path: str | os.PathLike,
    blocks: Iterable[np.ndarray],
    like: str | os.PathLike,
    *,
    top: int | None,
    head: MrcHeader | None = None,
    key: str | None = None,
) -> Path:
    """Write the label file ``path`` of :func:`write_mrc_labels` from ``blocks``: the labels'
    voxels in the file's order (planes, or bands of a plane's rows, as a streamed tomogram's
    staging gives them) of values 0 to ``top`` (mode 0 up to 255, else 6), over the MRC file
    ``like`` (of header ``head``, read where not given), carrying ``key`` where given (as
    :func:`write_mrc_labels` does). ``top`` None: their largest is found on the way, for
    blocks read once (a wide staging's, s74): written as mode 6, narrowed to mode 0 after
    where all fit a byte. The header's place is left first and written last, with the
    statistics counted on the way; then the atomic rename. Every voxel is taken once, in
    one pass: bytes equal to a whole volume's."""
    theirs = mrc_header(like) if head is None else head
    cap = np.iinfo(np.uint16).max if top is None else top
    kind = label_dtype(cap).newbyteorder("<")
    counts = np.zeros(top + 1 if top is not None else 1, np.int64)
    with atomic_path(path) as tmp, open(tmp, "w+b") as f:
        f.seek(HEADER_BYTES)
        for block in blocks:
            block.astype(kind, copy=False).tofile(f)
            counts = _summed(counts, _counted(block, cap))
        if counts.sum() != math.prod(theirs.shape):
            raise ValueError(f"{counts.sum()} label voxels for an MRC file of {theirs.shape}")
        if label_dtype(len(counts) - 1) != kind:  # found on the way: all fit a byte
            kind = _narrowed(f, int(counts.sum()))
        f.seek(0)
        mode = LABEL_MODES[kind.newbyteorder("=")]
        f.write(_label_header(theirs, counts, mode, Path(like), key))
    return Path(path)


def _counted(block: np.ndarray, top: int) -> np.ndarray:
    """The counts of the values 0 to ``top`` in ``block`` (``np.bincount``'s, up to its
    largest)."""
    counts = np.bincount(block.ravel())
    if len(counts) > top + 1:
        raise ValueError(f"label values up to {len(counts) - 1}, over the {top} given")
    return counts


def _summed(counts: np.ndarray, more: np.ndarray) -> np.ndarray:
    """``counts`` + ``more``, the shorter padded with zeros."""
    if len(more) > len(counts):
        counts, more = more.astype(np.int64), counts
    counts[: len(more)] += more
    return counts


#: voxels narrowed at a time (:func:`_narrowed`): 2 MiB of uint16
NARROW_STEP = 1 << 20


def _narrowed(f, voxels: int) -> np.dtype:
    """Rewrite the ``voxels`` uint16 values after the header of the open file ``f`` as
    bytes, in place (each step's bytes land before those still to read), and cut the file
    after them; returns the bytes' dtype."""
    for start in range(0, voxels, NARROW_STEP):
        f.seek(HEADER_BYTES + 2 * start)
        values = np.fromfile(f, "<u2", min(NARROW_STEP, voxels - start))
        f.seek(HEADER_BYTES + start)
        values.astype(np.uint8).tofile(f)
    f.truncate(HEADER_BYTES + voxels)
    return np.dtype("<u1")


def count_statistics(counts: np.ndarray) -> tuple[float, float, float, float]:
    """(least, most, mean, RMS deviation) of the values whose counts (value v: ``counts[v]``,
    as ``np.bincount`` gives them) are ``counts``: an MRC header's DMIN, DMAX, DMEAN, RMS;
    zeros for no values."""
    values = np.flatnonzero(counts)
    if not len(values):
        return 0.0, 0.0, 0.0, 0.0
    n, every = counts.sum(), np.arange(len(counts), dtype=np.float64)
    mean = float(every @ counts) / n
    rms = math.sqrt(float(((every - mean) ** 2) @ counts) / n)
    return float(values[0]), float(values[-1]), mean, rms


def first_label(head: MrcHeader) -> str:
    """The first of the 80-character labels of an MRC header read (bytes 224 to 303), its
    trailing spaces left out: what made it, as IMOD's tools and unetlab say."""
    return head.raw[LABELS_AT : LABELS_AT + LABEL_BYTES].decode("latin-1").rstrip(" \0")


def carried_mrc_key(path: str | os.PathLike) -> str | None:
    """The record key a label file unetlab wrote carries (its header label :data:`KEY_NOTE`,
    :func:`write_mrc_labels`); None where its header has none (another program's file, one
    cut off in its header). OSError where it cannot be read."""
    with open(path, "rb") as f:
        raw = f.read(HEADER_BYTES)
    for at in range(LABELS_AT, min(len(raw), HEADER_BYTES), LABEL_BYTES):
        if (key := noted_key(raw[at : at + LABEL_BYTES])) is not None:
            return key
    return None


def noted_key(text: bytes) -> str | None:
    """The key in a header's ``text`` field that says ``KEY_NOTE <key>`` (an MRC label file's
    label, a NIfTI label volume's ``descrip``), else None."""
    words = text.decode("latin-1").replace("\0", " ").split()  # NIfTI's: a C string
    return words[2] if len(words) == 3 and " ".join(words[:2]) == KEY_NOTE else None


def _label_header(
    theirs: MrcHeader, counts: np.ndarray, mode: int, like: Path, key: str | None = None
) -> bytes:
    """The 1,024-byte header of a label file of ``mode`` over the image of header ``theirs``
    (the file ``like``): its :data:`KEPT_WORDS`, the axes X, Y, Z, the statistics of the
    values of ``counts`` (:func:`count_statistics`), MRC2014's version, IMOD's stamp (its
    flags: the image's origin-sign flag), 'MAP ', the little-endian stamp and one label
    (80 characters) saying unetlab made it of ``like``; a second carrying ``key`` (the
    record's: :data:`KEY_NOTE`) where given."""
    image = np.frombuffer(theirs.raw, theirs.order + "i4").astype("<i4")  # floats: as words
    words = np.zeros(256, "<i4")
    nz, ny, nx = theirs.shape
    words[:4] = nx, ny, nz, mode
    words[list(KEPT_WORDS)] = image[list(KEPT_WORDS)]
    words[16:19] = 1, 2, 3
    floats = words.view("<f4")
    floats[19], floats[20], floats[21], floats[54] = count_statistics(counts)
    words[27] = 20140  # NVERSION: MRC2014
    imod = image[38] == IMOD_STAMP
    words[38:40] = IMOD_STAMP, image[39] & IMOD_ORIGIN_FLAG if imod else 0  # bytes unsigned
    notes = [f"{LABEL_NOTE} {like.name}", *([f"{KEY_NOTE} {key}"] if key else [])]
    words[55] = len(notes)  # NLABL
    raw = bytearray(words.tobytes())
    raw[208:216] = MAP_WORD + b"\x44\x44\0\0"
    for at, note in zip(range(LABELS_AT, HEADER_BYTES, LABEL_BYTES), notes):
        raw[at : at + LABEL_BYTES] = note.encode("ascii", "replace")[:80].ljust(80)
    return bytes(raw)
