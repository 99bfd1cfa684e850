"""What reading a damaged zip raises, and the one line that says so (a package, a
checkpoint, a RoiSet.zip, a zip unpacked or overwritten, a staged ``.npz``): a traceback
called a bug in unetlab before (s61 review)."""

from __future__ import annotations

import contextlib
import errno
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from unetlab.errors import UnetlabError

__all__ = [
    "MEMBER_DAMAGE",
    "PACKAGE",
    "PACKAGE_FIX",
    "PASSWORD_FIX",
    "ZIP_DAMAGE",
    "ZipFixes",
    "before_start",
    "damaged_zip",
    "encrypted",
    "member_chunks",
    "of_file_system",
    "open_zip",
    "raise_if_disk",
    "read_error",
    "read_member",
    "unreadable",
]

#: what reading a damaged or truncated zip raises: its central directory (BadZipFile), a
#: member's header or CRC (BadZipFile), its deflated bytes (zlib.error), a cut member
#: (EOFError), a member's "version needed" or compression byte (NotImplementedError: "zip
#: file version 25.5", "That compression method is not supported"; LZMAError: one that says
#: lzma): a traceback called a bug (s61 review)
ZIP_DAMAGE: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
)
try:  # a Python built without _lzma (pyenv without liblzma) imports no lzma: then zipfile
    import lzma  # raises RuntimeError for an lzma member, which MEMBER_DAMAGE takes (review
except ImportError:  # s61: a module-level import stopped every command that loads a model)
    pass
else:
    ZIP_DAMAGE += (lzma.LZMAError,)
#: what reading a member of a damaged zip raises besides: RuntimeError (its flags say it is
#: encrypted: "password required"), OSError (its compression byte says bzip2: "Invalid data
#: stream"); caught around a member's read alone, where no bug of unetlab's raises them
MEMBER_DAMAGE = (*ZIP_DAMAGE, RuntimeError, OSError)
#: the fix :func:`damaged_zip` says for a package (or checkpoint) zip
PACKAGE_FIX = "export or download the package again"
#: the fix for a zip whose member :func:`encrypted` says needs a password
PASSWORD_FIX = "unzip it with its password"


def encrypted(info: zipfile.ZipInfo) -> str | None:
    """What makes the zip member ``info`` unreadable where its flags say it is encrypted
    (``zip -P``), naming it; None otherwise. Its read raised "File <ZipInfo ...> is
    encrypted, password required for extraction", said as "a damaged or truncated zip"
    by all zip readers but the packages' (s61 review)."""
    if info.flag_bits & 0x1:
        return f"an encrypted zip (its {info.filename} needs a password)"
    return None


def damaged_zip(
    path: str | os.PathLike,
    exc: BaseException | str,
    fix: str = PACKAGE_FIX,
    kind: type[UnetlabError] = UnetlabError,
) -> UnetlabError:
    """The one line (a ``kind``) for the zip at ``path`` that ``exc`` (one of
    :data:`MEMBER_DAMAGE`, or what is wrong in words) found damaged, with the ``fix``: a
    BadZipFile traceback from load_model, package_record, exported_source and ``unetlab
    predict --checkpoint x.zip`` before (s60)."""
    return kind(f"{path}: a damaged or truncated zip ({exc}); {fix}")


@dataclass(frozen=True)
class ZipFixes:
    """What a zip reader says of a zip it cannot read, after what is wrong: the fix for
    one ``damaged`` (:func:`damaged_zip`), for a member ``encrypted``
    (:func:`encrypted`), for one compressed by a ``method`` zipfile lacks
    (:func:`unreadable`), and for one its ``disk`` could not read (:func:`read_error`);
    its errors are a ``kind``."""

    damaged: str
    encrypted: str
    method: str
    kind: type[UnetlabError] = UnetlabError
    #: the fix for a member the disk could not read (EIO: :func:`read_error`); the default
    #: is for a zip given to be read, one to be overwritten says its own (review s63)
    disk: str = "check the disk it is on, or copy the zip to another disk and give the copy"


#: a package's (or checkpoint's) fixes
PACKAGE = ZipFixes(
    PACKAGE_FIX,
    f"{PASSWORD_FIX} and give the folder or a re-zipped copy",
    "re-zip it with deflate, or unzip it and give the folder",
)

#: the compression methods Python's zipfile reads (Zstandard from Python 3.14)
_READABLE_METHODS = {
    getattr(zipfile, name)
    for name in ("ZIP_STORED", "ZIP_DEFLATED", "ZIP_BZIP2", "ZIP_LZMA", "ZIP_ZSTANDARD")
    if hasattr(zipfile, name)
}
#: the names of zip compression methods, those zipfile lacks too (before Python 3.14 it
#: names no Zstandard: "method 93, unknown", review s61)
_METHOD_NAMES = {**zipfile.compressor_names, 93: "zstd", 99: "AES encrypted"}


def unreadable(info: zipfile.ZipInfo, fixes: ZipFixes = PACKAGE) -> str | None:
    """What makes the zip member ``info`` one Python's zipfile cannot read, healthy as it may
    be, in words and with the fix of ``fixes``: encrypted (``zip -P``), or compressed by a
    method zipfile lacks (7-Zip's Deflate64, Zstandard); None for a member it reads. Both
    were called "a damaged or truncated zip" (s61 review; a RoiSet.zip's and an unpacked
    zip's Deflate64 member still were, s62)."""
    if (locked := encrypted(info)) is not None:
        return f"{locked}; {fixes.encrypted}"
    if info.compress_type not in _METHOD_NAMES:  # a byte no zip tool names: likely damage
        return (
            f"its {info.filename} is damaged, or compressed by a method zipfile cannot read"
            f" (method {info.compress_type}); {fixes.damaged}"
        )
    if info.compress_type not in _READABLE_METHODS:
        return (
            f"its {info.filename} uses a compression method Python's zipfile cannot read"
            f" (method {info.compress_type}, {_METHOD_NAMES[info.compress_type]}); {fixes.method}"
        )
    return None


def open_zip(path: str | os.PathLike, fixes: ZipFixes = PACKAGE) -> zipfile.ZipFile:
    """The zip at ``path`` opened; one line (a ``fixes.kind``) where it is damaged
    (:func:`damaged_zip`). An error of the file system (no such file) is raised as it is."""
    try:
        return zipfile.ZipFile(path)
    except ZIP_DAMAGE as exc:
        raise damaged_zip(path, exc, fixes.damaged, fixes.kind) from None


def read_member(
    archive: zipfile.ZipFile,
    member: str | zipfile.ZipInfo,
    path: str | os.PathLike,
    fixes: ZipFixes = PACKAGE,
) -> bytes:
    """The bytes of ``member`` of the zip ``archive`` (at ``path``), its CRC checked; one
    line (a ``fixes.kind``) where zipfile cannot read it (:func:`unreadable`), it is
    damaged (:func:`damaged_zip`, naming it) or its disk cannot (:func:`read_error`).
    KeyError where it is missing."""
    info = _readable(archive, member, path, fixes)
    with _said(path, info, fixes):
        return archive.read(info)


def member_chunks(
    archive: zipfile.ZipFile,
    member: str | zipfile.ZipInfo,
    path: str | os.PathLike,
    fixes: ZipFixes = PACKAGE,
    size: int = 1 << 20,
) -> Iterator[bytes]:
    """:func:`read_member`'s bytes in chunks of ``size``: only the zip's reads are said
    (damage, or its disk's EIO), never what the caller does with a chunk (a write's EIO,
    s61)."""
    info = _readable(archive, member, path, fixes)
    with _said(path, info, fixes), archive.open(info) as src:
        while chunk := src.read(size):
            yield chunk


def _readable(archive: zipfile.ZipFile, member, path, fixes: ZipFixes) -> zipfile.ZipInfo:
    """The ZipInfo of ``member``; a ``fixes.kind`` where zipfile cannot read it."""
    info = member if isinstance(member, zipfile.ZipInfo) else archive.getinfo(member)
    if (why := unreadable(info, fixes)) is not None:
        raise fixes.kind(f"{path}: {why}")
    if (said := before_start(info)) is not None:
        raise damaged_zip(path, said, fixes.damaged, fixes.kind)
    return info


def before_start(info: zipfile.ZipInfo) -> str | None:
    """What is wrong, in words, where the zip directory puts the member ``info`` before
    the file's start (its offset too large: zipfile seeks to before 0, a bare OSError
    EINVAL, s62); None otherwise."""
    if info.header_offset < 0:
        return f"its {info.filename} lies before the zip's start"
    return None


def of_file_system(exc: BaseException) -> bool:
    """Whether ``exc``, one of :data:`MEMBER_DAMAGE`, is an error of the file system
    (EMFILE, EACCES, EIO: an OSError with an errno), no damage of the zip: bzip2's "Invalid
    data stream" has none, nor EINVAL, which a seek to a negative offset raises (an end
    record whose directory offset is too large: a bare OSError, s62)."""
    return isinstance(exc, OSError) and exc.errno not in (None, errno.EINVAL)


#: the errors :func:`read_error` says are the file's permissions
_PERMISSIONS = {errno.EACCES, errno.EPERM}
#: the other fixes :func:`read_error` says for a file it names, by errno (else the disk's)
_READ_FIXES = {
    errno.EMFILE: "close other programs, or raise the limit of open files (ulimit -n)",
    errno.ENFILE: "close other programs, or raise the limit of open files (ulimit -n)",
}


def read_error(
    path: str | os.PathLike,
    exc: OSError,
    what: str = "it",
    disk: str = "check the disk it is on",
    kind: type[UnetlabError] = UnetlabError,
    whose: str = "its",
) -> UnetlabError:
    """The one line (a ``kind``) for an error of the file system (:func:`of_file_system`)
    reading ``what`` of the file at ``path`` ("its x.txt" of a zip): ``whose`` permissions
    (the file's: "the zip's" where ``what`` is its member, whose "its" it meant, review
    s63), the limit of open files, else the ``disk`` fix. No damage, whose fix throws work
    away (review s61); only safe_extract said it, the other zip readers gave a traceback
    (s62 review)."""
    fix = _READ_FIXES.get(exc.errno, disk)
    if exc.errno in _PERMISSIONS:
        fix = f"check {whose} permissions"
    return kind(f"{path}: cannot read {what} ({exc.strerror or exc}); {fix}")


def raise_if_disk(path: str | os.PathLike, exc: BaseException, *said, **named) -> None:
    """Raise :func:`read_error` (``said``, ``named``: its arguments after ``exc``) from
    ``exc``, caught reading the zip at ``path``, where it is an error of the file system
    (:func:`of_file_system`: the disk under the zip, not the zip); return where it is the
    zip's damage, for the caller to say or mend. The one test of a zip member's read, a
    staged lookup's and a staged page's (:func:`read_member`, slide_objects,
    page_resume)."""
    if of_file_system(exc):
        raise read_error(path, exc, *said, **named) from exc


@contextlib.contextmanager
def _said(path, info: zipfile.ZipInfo, fixes: ZipFixes) -> Iterator[None]:
    """The member ``info`` of the zip ``path`` found damaged within (one of
    :data:`MEMBER_DAMAGE`) said in one line naming it; an error of the file system
    reading it (:func:`of_file_system`) too, as such (:func:`read_error`)."""
    try:
        yield
    except MEMBER_DAMAGE as exc:
        raise_if_disk(path, exc, f"its {info.filename}", fixes.disk, fixes.kind, "the zip's")
        said = f"{exc}" if info.filename in str(exc) else f"its {info.filename} is damaged: {exc}"
        raise damaged_zip(path, said, fixes.damaged, fixes.kind) from None
