"""What reading a damaged zip raises, and the one line that says so (a package, a
checkpoint, a RoiSet.zip, a zip unpacked or overwritten, a staged ``.npz``): a traceback
called a bug in unetlab before (s61 review)."""

from __future__ import annotations

import os
import zipfile
import zlib

from unetlab.errors import UnetlabError

__all__ = ["MEMBER_DAMAGE", "PACKAGE_FIX", "PASSWORD_FIX", "ZIP_DAMAGE", "damaged_zip", "encrypted"]

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
