"""A damaged zip read by unetlab's other zip readers (unpacking, a RoiSet.zip, a package
zip being overwritten, a staged page): one line naming the file and the fix, where its
"version needed" byte, compression byte or encrypted flag gave a traceback (s61)."""

from __future__ import annotations

import errno
import os
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from unetlab.data.annotations import read_outlines
from unetlab.errors import DatasetError, OutputError, UnetlabError
from unetlab.inference.bioimageio import check_package_target
from unetlab.inference.page_resume import PageStaging
from unetlab.outputs import safe_extract

#: the damages: the end cut off, and the first central directory entry's "version needed"
#: (0xFF: 25.5), compression method (99: none zipfile has; 12 bzip2, 14 lzma, of deflated
#: bytes), or encrypted flag; the end record's central directory offset too large (zipfile
#: seeks a member before the file's start: a bare OSError EINVAL, s62 review)
KINDS = ["truncated", "version", "method", "bzip2", "lzma", "encrypted", "offset"]
#: those said "a damaged or truncated zip" (an encrypted one, or one of a method zipfile
#: lacks, is said as such: :func:`test_a_member_of_a_method_zipfile_lacks_is_said_so`)
DAMAGES = [kind for kind in KINDS if kind not in ("method", "encrypted")]


def damaged(zipped: Path, kind: str) -> Path:
    """A copy of the zip ``zipped`` damaged as ``kind`` (one of :data:`KINDS`) says."""
    data = bytearray(zipped.read_bytes())
    entry = data.find(b"PK\x01\x02")
    if kind == "truncated":
        data = data[: len(data) // 2]
    elif kind == "version":
        data[entry + 6] = 0xFF
    elif kind == "method":
        data[entry + 10] = 99
    elif kind in ("bzip2", "lzma"):
        data[entry + 10] = 12 if kind == "bzip2" else 14
    elif kind == "encrypted":
        data[entry + 8] |= 1
    elif kind == "offset":
        end = data.rfind(b"PK\x05\x06")
        offset = struct.unpack_from("<I", data, end + 16)[0]
        struct.pack_into("<I", data, end + 16, offset + 5000)
    path = zipped.with_name(f"{kind}-{zipped.name}")
    path.write_bytes(bytes(data))
    return path


def _zipped(path: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return path


def _locked(refused: pytest.ExceptionInfo, path: Path, member: str, fix: str) -> None:
    """The line of an encrypted zip: the packages' words, naming the member, no ZipInfo
    repr ("File <ZipInfo filename=... > is encrypted, password required", s61)."""
    assert str(refused.value) == f"{path}: an encrypted zip (its {member} needs a password); {fix}"


def _one_line(refused: pytest.ExceptionInfo, path: Path, fix: str) -> None:
    said = str(refused.value)
    assert said.startswith(f"{path}: a damaged or truncated zip ("), said
    assert said.endswith(f"); {fix}"), said
    assert "\n" not in said


@pytest.mark.parametrize("kind", DAMAGES)
def test_safe_extract_of_a_damaged_zip_is_one_line(tmp_path, kind):
    archive = damaged(_zipped(tmp_path / "a.zip", "x.txt", b"hello" * 1000), kind)
    with pytest.raises(UnetlabError) as refused:
        safe_extract(archive, tmp_path / "out")
    _one_line(refused, archive, "download or zip it again")


def test_safe_extract_does_not_call_a_target_it_cannot_write_a_damaged_zip(tmp_path, monkeypatch):
    """Only the zip's reads are caught: an OSError writing a member (EIO) is said as a
    write's error, not as damage (review s61: the old test's error came from the target's
    mkdir, outside every try, so it could not fail)."""
    import errno
    import io

    from unetlab import outputs

    class Full(io.BytesIO):
        def write(self, _data):
            raise OSError(errno.EIO, "Input/output error")

    archive = _zipped(tmp_path / "a.zip", "x.txt", b"hello")
    monkeypatch.setattr(outputs, "open", lambda *_args, **_kwargs: Full(), raising=False)
    with pytest.raises(OutputError) as raised:  # atomic_path's line for a write
        safe_extract(archive, tmp_path / "out")
    assert "cannot write it (Input/output error)" in str(raised.value)
    assert "damaged" not in str(raised.value)


def test_safe_extract_leaves_no_part_of_a_damaged_member(tmp_path):
    """A member whose bytes are damaged near its end (its CRC fails once 3 MB are read):
    nothing of it is left in the target, where a partial file was (s61 fix)."""
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        zipped.writestr("big.bin", bytes(3 << 20))
    data = bytearray(archive.read_bytes())
    data[data.find(b"PK\x01\x02") - 10] = 1  # a byte of big.bin's data
    archive.write_bytes(bytes(data))
    with pytest.raises(UnetlabError) as refused:
        safe_extract(archive, tmp_path / "out")
    _one_line(refused, archive, "download or zip it again")
    assert not (tmp_path / "out").exists()  # made by it, removed by it (s62)


def test_safe_extract_replaces_no_file_in_the_target(tmp_path):
    """A file of the user's where a member goes is refused before any member is written
    (it was overwritten, s61 fix)."""
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a.txt", b"zipped")
        zipped.writestr("sub/x.txt", b"zipped")
    (tmp_path / "out" / "sub").mkdir(parents=True)
    (tmp_path / "out" / "sub" / "x.txt").write_bytes(b"mine")
    with pytest.raises(UnetlabError) as refused:
        safe_extract(archive, tmp_path / "out")
    there = tmp_path / "out" / "sub" / "x.txt"
    assert str(refused.value) == (
        f"{archive}: its sub/x.txt would replace {there}, which is there;"
        " unpack it into an empty folder"
    )
    assert there.read_bytes() == b"mine"
    assert not (tmp_path / "out" / "a.txt").exists()


@pytest.mark.parametrize("kind", DAMAGES)
def test_a_damaged_roi_set_is_one_line(tmp_path, kind):
    roi_set = damaged(_zipped(tmp_path / "RoiSet.zip", "0001.roi", b"Iout" + bytes(200)), kind)
    with pytest.raises(DatasetError) as refused:
        read_outlines(roi_set)
    _one_line(refused, roi_set, "save the ROIs from Fiji's ROI Manager again (More > Save)")


@pytest.mark.parametrize("kind", DAMAGES)
def test_a_damaged_package_zip_to_overwrite_is_one_line(tmp_path, kind):
    """Its end cut off, it was "a zipped package named without .zip: export to x.zip.zip"."""
    rdf = b"config:\n  unetlab: {}\n" + b"#" * 500
    dest = damaged(_zipped(tmp_path / "p.zip", "rdf.yaml", rdf), kind)
    before = dest.read_bytes()
    with pytest.raises(UnetlabError) as refused:
        check_package_target(dest, ["pytorch_state_dict"])
    _one_line(refused, dest, "remove it or choose a new path")
    assert dest.read_bytes() == before


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_staged_page_is_predicted_again(tmp_path, kind):
    staging = PageStaging(tmp_path / "m_labels.tif", {})
    staging.folder.mkdir()
    staging.keep(0, {"labels": np.arange(5000, dtype=np.int32) % 7})
    page = staging.folder / "page-00000.npz"
    damaged(page, kind).replace(page)
    assert staging.load(0) is None
    assert 0 not in staging.done


@pytest.mark.parametrize("code", ["EIO", "EACCES", "EMFILE"])
def test_an_error_of_the_disk_reading_a_staged_page_is_said(tmp_path, monkeypatch, code):
    """EIO reading a staged page (or EACCES, EMFILE opening it) is the machine's, no damage:
    it was taken for a damaged page and the page silently predicted again (s62 review);
    one line naming the file and the fix, the page kept as done."""
    staging = PageStaging(tmp_path / "m_labels.tif", {})
    staging.folder.mkdir()
    staging.keep(0, {"labels": np.arange(5000, dtype=np.int32) % 7})
    failing = _failing_read(getattr(errno, code))
    if code == "EIO":  # a member's read
        monkeypatch.setattr(zipfile.ZipExtFile, "read", failing)
    else:  # the file's open
        monkeypatch.setattr(np, "load", lambda *_args, **_kwargs: failing(None))
    with pytest.raises(OutputError) as refused:
        staging.load(0)
    page, reason = staging.folder / "page-00000.npz", os.strerror(getattr(errno, code))
    fix = {
        "EIO": f"check the disk it is on and run again, or remove {page}: that page is"
        " predicted again, the others are kept",
        "EACCES": "check its permissions",
        "EMFILE": "close other programs, or raise the limit of open files (ulimit -n)",
    }[code]
    assert str(refused.value) == f"{page}: cannot read it ({reason}); {fix}"
    assert 0 in staging.done
    assert page.exists()


def _unpacked(tmp_path: Path):
    archive = damaged(_zipped(tmp_path / "a.zip", "x.txt", b"hello"), "encrypted")
    return (
        archive,
        "x.txt",
        "unzip it with its password",
        lambda: safe_extract(archive, tmp_path / "out"),
    )


def _roi_set(tmp_path: Path):
    roi_set = damaged(
        _zipped(tmp_path / "RoiSet.zip", "0001.roi", b"Iout" + bytes(200)), "encrypted"
    )
    fix = "unzip it with its password and zip its .roi files again"
    return roi_set, "0001.roi", fix, lambda: read_outlines(roi_set)


def _to_overwrite(tmp_path: Path):
    dest = damaged(
        _zipped(tmp_path / "p.zip", "rdf.yaml", b"config:\n  unetlab: {}\n"), "encrypted"
    )
    fix = "remove it or choose a new path"
    return dest, "rdf.yaml", fix, lambda: check_package_target(dest, ["pytorch_state_dict"])


@pytest.mark.parametrize("reader", [_unpacked, _roi_set, _to_overwrite])
def test_an_encrypted_zip_is_said_so_by_each_reader(tmp_path, reader):
    path, member, fix, read = reader(tmp_path)
    with pytest.raises(UnetlabError) as refused:
        read()
    _locked(refused, path, member, fix)
    assert not (tmp_path / "out").exists()


def with_method(zipped: Path, method: int) -> Path:
    """A copy of the zip ``zipped`` whose (first) member says it is compressed by
    ``method`` (9: Deflate64, 7-Zip's; 99: AES) in its local header and its central
    directory entry, as 7-Zip writes it."""
    data = bytearray(zipped.read_bytes())
    data[data.find(b"PK\x03\x04") + 8] = method
    data[data.find(b"PK\x01\x02") + 10] = method
    path = zipped.with_name(f"method{method}-{zipped.name}")
    path.write_bytes(bytes(data))
    return path


def _method_unpacked(tmp_path: Path, method: int):
    archive = with_method(_zipped(tmp_path / "a.zip", "x.txt", b"hello" * 100), method)
    fix = "unzip it with a tool that reads it (7-Zip), or zip it again with deflate"
    return archive, "x.txt", fix, lambda: safe_extract(archive, tmp_path / "out")


def _method_roi_set(tmp_path: Path, method: int):
    roi_set = with_method(
        _zipped(tmp_path / "RoiSet.zip", "0001.roi", b"Iout" + bytes(200)), method
    )
    fix = (
        "unzip it and zip its .roi files again with deflate, or save the ROIs from Fiji's ROI"
        " Manager again (More > Save)"
    )
    return roi_set, "0001.roi", fix, lambda: read_outlines(roi_set)


def _method_to_overwrite(tmp_path: Path, method: int):
    rdf = b"config:\n  unetlab: {}\n" + b"#" * 500
    dest = with_method(_zipped(tmp_path / "p.zip", "rdf.yaml", rdf), method)
    fix = "remove it or choose a new path"
    return dest, "rdf.yaml", fix, lambda: check_package_target(dest, ["pytorch_state_dict"])


@pytest.mark.parametrize(("method", "name"), [(9, "deflate64"), (99, "AES encrypted")])
@pytest.mark.parametrize("reader", [_method_unpacked, _method_roi_set, _method_to_overwrite])
def test_a_member_of_a_method_zipfile_lacks_is_said_so(tmp_path, reader, method, name):
    """A member 7-Zip compressed with Deflate64 (or AES) in a RoiSet.zip, a zip unpacked or
    a package zip to overwrite is no damage: it was said "a damaged or truncated zip" with
    a fix that could not help (s62 review; the packages said what it is, s61)."""
    path, member, fix, read = reader(tmp_path, method)
    before = path.read_bytes()
    with pytest.raises(UnetlabError) as refused:
        read()
    assert str(refused.value) == (
        f"{path}: its {member} uses a compression method Python's zipfile cannot read"
        f" (method {method}, {name}); {fix}"
    )
    assert not (tmp_path / "out").exists() and path.read_bytes() == before


def _tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with a file's bytes (None: a folder)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
        for p in folder.rglob("*")
    }


def test_safe_extract_stopped_by_a_damaged_member_removes_what_it_wrote(tmp_path):
    """A zip whose third member is damaged: the first two were left in the target, so the
    fix ("download or zip it again") run again was refused as replacing them (s62 review).
    Now the target holds what it held before (the user's files kept), and a rerun with the
    healthy zip unpacks it."""
    healthy = tmp_path / "a.zip"
    with zipfile.ZipFile(healthy, "w", zipfile.ZIP_STORED) as zipped:
        zipped.writestr("one.txt", b"1" * 1000)
        zipped.writestr("sub/two.txt", b"2" * 1000)
        zipped.writestr("new/deep/three.bin", bytes(range(256)) * 40)
    with zipfile.ZipFile(healthy) as zipped:
        third = zipped.getinfo("new/deep/three.bin")
    data = bytearray(healthy.read_bytes())
    at = third.header_offset + 30 + len(third.filename) + third.compress_size // 2
    data[at] ^= 0xFF  # its CRC fails
    archive = tmp_path / "damaged.zip"
    archive.write_bytes(bytes(data))
    target = tmp_path / "out"
    (target / "sub").mkdir(parents=True)
    (target / "mine.txt").write_bytes(b"mine")
    (target / "sub" / "also-mine.txt").write_bytes(b"also mine")
    (target / "new").mkdir()  # empty, the user's: kept (a mutant removing it passed, s62)
    before = _tree(target)
    with pytest.raises(UnetlabError) as refused:
        safe_extract(archive, target)
    _one_line(refused, archive, "download or zip it again")
    assert str(refused.value).count("three.bin") == 1  # named once (twice before: s62)
    assert _tree(target) == before
    written = safe_extract(healthy, target)  # the fix it says, run again
    assert sorted(p.relative_to(target).as_posix() for p in written) == [
        "new/deep/three.bin",
        "one.txt",
        "sub/two.txt",
    ]
    assert (target / "mine.txt").read_bytes() == b"mine"


def test_a_package_zip_whose_directory_offset_is_too_large_is_one_line(tmp_path):
    """zipfile seeks its member before the file's start (EINVAL): a traceback called a bug
    in unetlab, where 6410ed24 said a damaged zip (s62 review)."""
    from unetlab.packages import load_package, package_record

    rdf = b"type: model\nformat_version: 0.5.3\n"
    package = damaged(_zipped(tmp_path / "pkg.zip", "rdf.yaml", rdf), "offset")
    for read in (load_package, package_record):
        with pytest.raises(UnetlabError) as refused:
            read(package)
        _one_line(refused, package, "export or download the package again")


def _failing_read(code: int):
    """A ZipExtFile.read that fails with the OSError of errno ``code`` (the disk's)."""

    def read(self, n=-1):
        raise OSError(code, os.strerror(code))

    return read


#: the fix said where the disk could not read a zip's member
DISK_FIX = "check the disk it is on, or copy the zip to another disk and give the copy"


@pytest.mark.parametrize("reader", ["read_member", "member_chunks"])
@pytest.mark.parametrize(
    ("code", "fix"),
    [(errno.EIO, DISK_FIX), (errno.EACCES, "check the zip's permissions")],
    ids=["EIO", "EACCES"],
)
def test_an_error_of_the_file_system_reading_a_member_is_said_as_such(
    tmp_path, monkeypatch, reader, code, fix
):
    """EIO from the disk while a member is read is no damage of the zip: not said "a damaged
    or truncated zip" with a fix that throws work away (s62 review), nor raised as the
    OSError (a traceback called a bug: only safe_extract said it, s62 review): one line
    naming the zip, the member and the fix."""
    from unetlab import zip_damage

    path = _zipped(tmp_path / "a.zip", "x.txt", b"hello" * 100)
    monkeypatch.setattr(zipfile.ZipExtFile, "read", _failing_read(code))
    with zipfile.ZipFile(path) as archive, pytest.raises(UnetlabError) as refused:
        found = getattr(zip_damage, reader)(archive, "x.txt", path)
        list(found) if reader == "member_chunks" else found
    assert str(refused.value) == f"{path}: cannot read its x.txt ({os.strerror(code)}); {fix}"


def _package_record(path: Path):
    from unetlab.packages import package_record

    return package_record(path)


#: zip readers other than safe_extract: (read, zip name, member, its bytes, the disk's fix)
READERS = {
    "roi_set": (read_outlines, "RoiSet.zip", "0001.roi", b"Iout" + bytes(200), DISK_FIX),
    "package": (
        _package_record,
        "pkg.zip",
        "rdf.yaml",
        b"type: model\nformat_version: 0.5.3\n",
        DISK_FIX,
    ),
    # the export would overwrite a copy given: no copy to give (review s63)
    "to_overwrite": (
        lambda dest: check_package_target(dest, ["pytorch_state_dict"]),
        "p.zip",
        "rdf.yaml",
        b"config:\n  unetlab: {}\n",
        "check the disk it is on, or remove it or choose a new path",
    ),
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_each_zip_reader_says_a_read_error_of_the_disk_naming_the_zip(
    tmp_path, monkeypatch, reader
):
    """A RoiSet.zip's, a package's or a package zip's to overwrite: EIO reading a member
    was a traceback called a bug in unetlab (only safe_extract said it, s62 review). The
    zip to overwrite was told to give a copy, which the export would overwrite (review
    s63)."""
    read, name, member, data, fix = READERS[reader]
    path = _zipped(tmp_path / name, member, data)
    before = path.read_bytes()
    monkeypatch.setattr(zipfile.ZipExtFile, "read", _failing_read(errno.EIO))
    with pytest.raises(UnetlabError) as refused:
        read(path)
    assert str(refused.value) == f"{path}: cannot read its {member} (Input/output error); {fix}"
    assert path.read_bytes() == before


def test_safe_extract_says_a_read_error_of_the_zip_naming_the_zip(tmp_path, monkeypatch):
    """EIO reading a member was said as a failure to write the target's file ("out/x.txt:
    cannot write it (Input/output error); check the path and the disk": the wrong file and
    fix, s62 review): it names the zip, and nothing is left in the target."""

    def failing(self, n=-1):
        raise OSError(errno.EIO, "Input/output error")

    archive = _zipped(tmp_path / "a.zip", "x.txt", b"hello" * 100)
    monkeypatch.setattr(zipfile.ZipExtFile, "read", failing)
    with pytest.raises(UnetlabError) as refused:
        safe_extract(archive, tmp_path / "out")
    assert str(refused.value) == (
        f"{archive}: cannot read its x.txt (Input/output error); check the disk it is on,"
        " or copy the zip to another disk and unpack the copy"
    )
    assert not (tmp_path / "out").exists()


def test_a_method_no_zip_tool_names_is_said_damaged_or_unreadable(tmp_path):
    """A compression byte no zip tool names (199) is likely damage: it was told to re-zip
    with deflate (s62 review); now both are said, with the fix for a damaged zip."""
    for reader, fix in [
        (_method_unpacked, "download or zip it again"),
        (_method_roi_set, "save the ROIs from Fiji's ROI Manager again (More > Save)"),
        (_method_to_overwrite, "remove it or choose a new path"),
    ]:
        (folder := tmp_path / reader.__name__).mkdir()
        path, member, _, read = reader(folder, 199)
        with pytest.raises(UnetlabError) as refused:
            read()
        assert str(refused.value) == (
            f"{path}: its {member} is damaged, or compressed by a method zipfile cannot read"
            f" (method 199); {fix}"
        )


@pytest.mark.parametrize("links", [True, False])
def test_safe_extract_keeps_a_file_put_at_a_members_place_after_it_looked(
    tmp_path, monkeypatch, links
):
    """A file put where a later member goes after safe_extract's "already there?" check
    (another process, the user) was replaced by atomic_path's rename, then removed by the
    cleanup after a damaged member (s62 review): now the member is refused as replacing
    it, the file is kept as it was, and what safe_extract wrote is removed. Where a file
    system has no hard links (EPERM), the member is renamed there by a rename that replaces
    nothing (atomic._renamed_new)."""
    from unetlab import outputs

    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zipped:
        zipped.writestr("a.txt", b"A" * 100)
        zipped.writestr("b.txt", b"B" * 100)
    target = tmp_path / "out"
    real = outputs.member_chunks

    def racing(zf, info, *args):
        if info.filename == "a.txt":  # after the check: the user's b.txt appears
            (target / "b.txt").write_bytes(b"the user's own b.txt")
        return real(zf, info, *args)

    def no_links(*_args):
        raise OSError(errno.EPERM, "Operation not permitted")

    if not links:
        monkeypatch.setattr(os, "link", no_links)
        assert len(safe_extract(archive, tmp_path / "healthy")) == 2  # the rename's way
        assert _tree(tmp_path / "healthy") == {"a.txt": b"A" * 100, "b.txt": b"B" * 100}
    monkeypatch.setattr(outputs, "member_chunks", racing)
    with pytest.raises(UnetlabError) as refused:
        safe_extract(archive, target)
    assert str(refused.value) == (
        f"{archive}: its b.txt would replace {target / 'b.txt'}, which is there;"
        " unpack it into an empty folder"
    )
    assert _tree(target) == {"b.txt": b"the user's own b.txt"}
