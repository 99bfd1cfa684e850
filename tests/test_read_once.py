"""What a command reads of a file, read once while the file is unchanged (s59): the
earlier evaluate report and picture a command checks three times, the record kept by
:class:`~unetlab.read_once.ReadOnce`."""

from __future__ import annotations

import collections
import os
from pathlib import Path

import numpy as np
import pytest

import unetlab.data.png_chunks
import unetlab.evaluate.earlier
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.read_once import ReadOnce


def test_a_read_is_kept_while_the_file_is_unchanged(tmp_path):
    path, reads = tmp_path / "f.txt", []
    path.write_text("a")
    kept = ReadOnce("test_kept")

    def read():
        reads.append(path.read_text())
        return reads[-1]

    assert kept.read(("text",), path, read) == "a"  # outside: each read reads
    with kept.kept():
        assert [kept.read(("text",), path, read) for _ in range(3)] == ["a"] * 3
        with kept.kept():  # within another: that one's reads
            assert kept.read(("text",), path, read) == "a"
        path.write_text("bb")  # changed meanwhile: read again
        assert kept.read(("text",), path, read) == "bb"
        assert kept.read(("other",), path, read) == "bb"  # another thing read of it
        os.utime(path, ns=(0, 0))  # touched: its time is its stamp's
        assert kept.read(("text",), path, read) == "bb"
    assert reads == ["a", "a", "bb", "bb", "bb"]


def test_a_file_rewritten_in_place_with_its_size_and_time_is_read_again(tmp_path):
    """Rewritten in place (its inode), of the same size, its time set back as ``cp -p``
    sets it: its change time is in its stamp, so it is read again (s62 review: kept)."""
    import time

    path, kept = tmp_path / "f.txt", ReadOnce("test_in_place")
    path.write_text("aa")
    before = path.stat()
    with kept.kept():
        assert kept.read(("text",), path, path.read_text) == "aa"
        time.sleep(0.05)  # past the file system's clock tick, which its change time takes
        with open(path, "r+") as f:
            f.write("bb")
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        now = path.stat()
        assert (now.st_ino, now.st_size, now.st_mtime_ns) == (
            before.st_ino,
            before.st_size,
            before.st_mtime_ns,
        )
        if now.st_ctime_ns == before.st_ctime_ns:  # a coarse change time (ext3, vfat, NFS)
            pytest.skip("this file system's change time did not move in 50 ms")
        assert kept.read(("text",), path, path.read_text) == "bb"


def test_the_reads_of_one_look_take_one_stamp(tmp_path, monkeypatch):
    """Within ``stamped(path)`` the reads of ``path`` take the stamp it had at its start:
    one stat for all the facts read from one open (s62: 4 each, predict's first look);
    outside, and of another file, a stat each; outside ``kept``, none."""
    import unetlab.read_once

    path, other = tmp_path / "f.txt", tmp_path / "g.txt"
    path.write_text("a")
    other.write_text("b")
    kept, stats, real = ReadOnce("test_stamped"), [], os.stat
    stat = lambda p, *a, **k: stats.append(Path(p).name) or real(p, *a, **k)  # noqa: E731
    monkeypatch.setattr(unetlab.read_once.os, "stat", stat)
    with kept.stamped(path):  # outside kept: nothing kept, nothing stat-ed
        assert kept.read(("x",), path, path.read_text) == "a"
    assert stats == []
    with kept.kept():
        with kept.stamped(path), kept.stamped(path):  # within one: its stamp
            for what in ("x", "y", "z"):
                assert kept.read((what,), path, path.read_text) == "a"
            assert kept.read(("x",), other, other.read_text) == "b"
        assert stats == ["f.txt", "g.txt"]
        assert kept.read(("y",), path, lambda: "read again") == "a"  # kept, its own stat
        assert stats == ["f.txt", "g.txt", "f.txt"]


def test_evaluate_again_reads_its_earlier_report_and_picture_once(tmp_path, monkeypatch):
    """``evaluate --json r.json --confusion c.png`` again read the earlier picture's text
    chunk and the earlier report 3 times each: before scoring, the command's check for
    its note, the writer's; once each now, and each still replaced as its own."""
    gt = np.tile([0, 255], (8, 4)).astype(np.uint8)
    write_png(tmp_path / "gt" / "a.png", gt)
    write_png(tmp_path / "p" / "a.png", (gt == 255).astype(np.uint8))
    argv = ["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(tmp_path / "gt")]
    argv += ["--label-values", "0", "255", "--json", str(tmp_path / "r.json")]
    argv += ["--confusion", str(tmp_path / "c.png")]
    assert main(argv) == 0
    reads = collections.Counter()
    png, text = unetlab.data.png_chunks.read_png_text, unetlab.evaluate.earlier._csv_key
    count = lambda read: lambda p: reads.update([Path(p).name]) or read(p)  # noqa: E731
    monkeypatch.setattr(unetlab.data.png_chunks, "read_png_text", count(png))
    monkeypatch.setattr(unetlab.evaluate.earlier, "_csv_key", count(text))
    before = (tmp_path / "c.png").stat().st_mtime_ns
    assert main(argv) == 0
    assert reads["c.png"] == 1 and reads["r.json"] == 1  # 3 and 3 before
    assert (tmp_path / "c.png").stat().st_mtime_ns != before  # replaced: its own


def _counted(monkeypatch, module, name: str) -> list:
    """The calls of ``module.name`` from now on (their first arguments)."""
    calls, real = [], getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    return calls


def test_a_claim_reads_its_folders_manifest_once(tmp_path, monkeypatch):
    """s59: claim_files read each folder's manifest for its checks, then again for each
    path it listed (compare's table and curves: 3 reads, an evaluate --json's 4 files: 5);
    once now, and each path still listed PENDING until written."""
    import unetlab.manifest
    from unetlab.atomic import atomic_path
    from unetlab.manifest import writers_of
    from unetlab.outputs import claim_files

    paths = [tmp_path / "out" / name for name in ("t.csv", "c.png")]
    read = _counted(monkeypatch, unetlab.manifest, "_lines")
    claim_files(paths, command="compare")
    assert read == [tmp_path / "out"]  # 3 reads before
    assert writers_of(tmp_path / "out") == {}  # listed, not written yet
    with atomic_path(paths[0]) as tmp:
        tmp.write_text("run\n")
    assert writers_of(tmp_path / "out") == {"t.csv": {"compare"}}


def test_an_evaluate_table_is_confirmed_in_one_manifest_rewrite(tmp_path, monkeypatch):
    """s59: a table's manifest lines (the claim's, and the one naming what it scored) were
    confirmed in two rewrites of the manifest, each flushed to disk; one now, both lines
    confirmed: it is evaluate's, of what it scored."""
    import unetlab.manifest
    from unetlab.atomic import atomic_path
    from unetlab.evaluate.earlier import earlier_report, record_csv_scoring
    from unetlab.manifest import writers_of
    from unetlab.outputs import claim_files

    path = tmp_path / "t.csv"
    source = {"predictions": str(tmp_path / "p"), "ground_truth": str(tmp_path / "g")}
    claim_files([path], command="evaluate")
    record_csv_scoring(path, source)
    rewrites = _counted(monkeypatch, unetlab.manifest, "_write_lines")
    with atomic_path(path) as tmp:
        tmp.write_text("name\n")
    assert rewrites == [tmp_path]  # 2 before
    assert writers_of(tmp_path) == {"t.csv": {"evaluate"}}
    assert earlier_report(path, source) is None  # of what it scored; other predictions':
    assert "the predictions" in earlier_report(path, source | {"predictions": str(tmp_path)})


def test_a_root_of_data_sets_is_listed_once_for_its_refusal(tmp_path, monkeypatch):
    """s59: a folder whose train/ and test/ hold data sets, given as one, was listed for
    its sub-folders, then again for its train/ by each spelling of the line (8 listings
    in all); 6 now, the line the same."""
    from unetlab.data.pairs import find_pairs
    from unetlab.errors import DatasetError

    for part in ("train", "test"):
        for sub in ("images", "masks"):
            write_png(tmp_path / part / sub / "a.png", np.zeros((8, 8), np.uint8))
    listed, real = [], Path.iterdir
    monkeypatch.setattr(Path, "iterdir", lambda self: listed.append(self) or real(self))
    with pytest.raises(DatasetError) as caught:
        find_pairs(tmp_path)
    assert listed.count(tmp_path) <= 6  # 8 before
    assert f"train --data {tmp_path} reads train/ with val/, if any" in caught.value.cli


def test_a_glob_is_looked_for_on_disk_once_after_its_folder(tmp_path, monkeypatch):
    """s59: find_images of a pattern asked the disk whether it is a folder, a file, and
    then whether it exists again (is_pattern); twice now."""
    from unetlab.data.io import find_images

    write_png(tmp_path / "a.png", np.zeros((8, 8), np.uint8))
    pattern, stats, real = str(tmp_path / "*.png"), [], os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: stats.append(str(p)) or real(p, *a, **k))
    assert find_images(pattern) == [tmp_path / "a.png"]
    assert stats.count(pattern) == 2  # 3 before


def test_evaluate_again_reads_each_csv_manifest_key_once(tmp_path, monkeypatch):
    """``evaluate --json r.json`` again read the manifest key of each of its CSVs twice
    (the check before scoring, the writer's): once now while the manifest is unchanged,
    and a key the manifest gains meanwhile is read anew."""
    import unetlab.manifest
    from unetlab.evaluate.earlier import _recorded_at, records_read_once

    gt = np.tile([0, 255], (8, 4)).astype(np.uint8)
    write_png(tmp_path / "gt" / "a.png", gt)
    write_png(tmp_path / "p" / "a.png", (gt == 255).astype(np.uint8))
    argv = ["evaluate", "--pred", str(tmp_path / "p"), "--gt", str(tmp_path / "gt")]
    argv += ["--label-values", "0", "255", "--json", str(tmp_path / "r.json")]
    assert main(argv) == 0
    reads, key = collections.Counter(), unetlab.evaluate.earlier._csv_key
    monkeypatch.setattr(
        unetlab.evaluate.earlier, "_csv_key", lambda p: reads.update([Path(p).name]) or key(p)
    )
    assert main(argv) == 0
    assert reads == {"r.json": 1, "r_images.csv": 1, "r_matching.csv": 1}  # CSVs: 2 before
    table = tmp_path / "r_images.csv"
    with records_read_once():
        assert _recorded_at(table)  # what it scored, recorded in the manifest
        unetlab.manifest.forget(tmp_path, [table.name], "evaluate")  # rewritten: read anew
        assert _recorded_at(table) == {}


def test_evaluate_pred_again_reads_the_predictions_records_once(tmp_path, monkeypatch):
    """``evaluate --pred p --json r.json`` again read p/predict.json 4 times and p's
    manifest 6 (the command's check of the earlier report, then the scoring's reads); once
    each now, and either rewritten meanwhile is read anew."""
    import builtins
    import io

    import torch

    import unetlab.manifest
    from unetlab.checkpoint import save_model
    from unetlab.inference.records import read_records
    from unetlab.models import UNet

    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    rng = np.random.default_rng(0)
    for i in range(3):
        write_png(tmp_path / "in" / f"a{i}.png", rng.integers(0, 255, (16, 16), np.uint8))
        write_png(tmp_path / "gt" / f"a{i}.png", (rng.random((16, 16)) > 0.5).astype(np.uint8))
    pred = tmp_path / "p"
    argv = ["--device", "cpu", "--no-progress", "--input", str(tmp_path / "in")]
    assert (
        main(["predict", "--checkpoint", str(tmp_path / "m.pt"), *argv, "--output", str(pred)]) == 0
    )
    argv = ["evaluate", "--pred", str(pred), "--gt", str(tmp_path / "gt")]
    argv += ["--json", str(tmp_path / "r.json")]
    assert main(argv) == 0
    opened, real = collections.Counter(), io.open

    def counted(path, *args, **kwargs):
        records = ("predict.json", ".unetlab-outputs")
        if isinstance(path, (str, os.PathLike)) and Path(path) in [pred / n for n in records]:
            opened[Path(path).name] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(io, "open", counted)
    monkeypatch.setattr(builtins, "open", counted)
    assert main(argv) == 0
    assert opened == {"predict.json": 1, ".unetlab-outputs": 1}  # 4 and 6 before
    monkeypatch.undo()
    from unetlab.evaluate.predictions import predictions_read_once

    with predictions_read_once():
        assert read_records(pred) and unetlab.manifest.writers_of(pred)
        (pred / "predict.json").write_text('{"records": {}}')  # rewritten: read anew
        assert read_records(pred) == {}
        unetlab.manifest.forget(pred, ["a0.png"], "predict")
        assert "a0.png" not in unetlab.manifest.writers_of(pred)


def test_a_kept_predict_json_is_not_changed_by_its_reader(tmp_path):
    """read_records handed out the kept records' own inner dicts: a caller's change (a
    record's ``files``, as save_record made) reached the next read of the same file."""
    import json

    from unetlab.inference.records import prediction_records_read_once, read_records

    record = {"model": {"sha256": "a"}, "files": {"a.png": {"tile": 92}}}
    (tmp_path / "predict.json").write_text(json.dumps({"records": {"k": record}}))
    with prediction_records_read_once():
        mine = read_records(tmp_path)
        mine["k"]["files"]["b.png"] = {"tile": 60}
        mine["k"]["model"]["sha256"] = "b"
        del mine["k"]["files"]["a.png"]
        assert read_records(tmp_path) == {"k": record}


def test_a_manifest_the_command_rewrites_is_read_anew_whatever_its_stamp(tmp_path, monkeypatch):
    """A folder's manifest is kept while it is held (s64: read 25 times by a rerun into its
    folder); a line the command appends or drops is seen by its next read even where the
    file's stamp says nothing changed (a file replaced twice within one tick of the file
    system's clock may take the first one's inode, size and times)."""
    import unetlab.read_once
    from unetlab.manifest import forget, manifests_read_once, record, written_here

    monkeypatch.setattr(unetlab.read_once, "_stamp_of", lambda _stat: (1, 2, 3, 4))
    with manifests_read_once():
        assert written_here(tmp_path) == set()
        record(tmp_path, ["a.png", "b.png"], command="predict")
        assert written_here(tmp_path) == {"a.png", "b.png"}
        forget(tmp_path, ["a.png"], "predict")
        assert written_here(tmp_path) == {"b.png"}


def test_a_settled_block_takes_one_stamp_of_a_file_for_all_its_reads(tmp_path, monkeypatch):
    """Within ``settled`` (a command's look at its inputs, which do not change within it:
    s64, 15 stamps of each input before its first was predicted), a file's first stamp holds
    for its reads, within ``stamped`` too; after it, a file changed is read anew."""
    import unetlab.read_once

    path, reads, stamps = tmp_path / "f.txt", [], []
    path.write_text("a")
    kept, real = ReadOnce("test_settled"), unetlab.read_once._stat  # a stamp's stat
    monkeypatch.setattr(unetlab.read_once, "_stat", lambda p: stamps.append(p) or real(p))

    def read():
        reads.append(path.read_text())
        return reads[-1]

    with kept.kept():
        with kept.settled():
            assert kept.read(("text",), path, read) == "a"
            with kept.stamped(path):
                assert kept.read(("other",), path, read) == "a"
            assert kept.read(("text",), path, read) == "a"
        assert len(stamps) == 1 and reads == ["a", "a"]
        path.write_text("bb")
        assert kept.read(("text",), path, read) == "bb"
    assert len(stamps) == 2 and reads == ["a", "a", "bb"]


def test_a_fact_noted_is_the_commands_alone():
    """What :meth:`ReadOnce.note` notes (an input the command found) is asked by
    :meth:`ReadOnce.noted` within the same :meth:`ReadOnce.kept`, not outside nor in the
    next one (folders._found_before wrote into the kept dict itself before s65)."""
    kept = ReadOnce("noted_test")
    kept.note([("input found", "/a.tif")])  # outside: nothing noted
    with kept.kept():
        assert not kept.noted(("input found", "/a.tif"))
        kept.note([("input found", "/a.tif")])
        assert kept.noted(("input found", "/a.tif")) and not kept.noted(("input found", "/b"))
    assert not kept.noted(("input found", "/a.tif"))
    with kept.kept():
        assert not kept.noted(("input found", "/a.tif"))


def _replaced_twice(tmp_path, monkeypatch, frozen) -> tuple[bytes, bytes]:
    """What an input ReadOnce (as HEADERS) gives at a read, then at a read after the file
    is replaced twice, on a file system whose clock gives each change the time
    ``frozen(the first stat's change time)`` (the replaces within one of its ticks) and the
    inode taken back."""
    import types

    real, times = os.stat, []

    def coarse(path, *args, **kwargs):
        st = real(path, *args, **kwargs)
        times[:] = times or [frozen(st.st_ctime_ns)]
        stamp = dict(st_mtime_ns=times[0], st_ctime_ns=times[0])
        return types.SimpleNamespace(st_ino=1, st_size=st.st_size, st_mode=st.st_mode, **stamp)

    kept, path = ReadOnce("tick_test", inputs=True), tmp_path / "s.bin"
    path.write_bytes(b"a" * 64)
    with kept.kept(), monkeypatch.context() as patched:
        patched.setattr(os, "stat", coarse)
        first = kept.read(("bytes",), path, path.read_bytes)
        for content in (b"b", b"c"):  # the acquisition's next two frames, at once
            (tmp_path / "n.bin").write_bytes(content * 64)
            os.replace(tmp_path / "n.bin", path)
        return first, kept.read(("bytes",), path, path.read_bytes)


def test_a_file_replaced_twice_within_a_clock_tick_is_read_anew(tmp_path, monkeypatch):
    """On a file system whose clock ticks coarsely (Linux before 6.13: a jiffy, up to 10 ms),
    a file replaced twice within the tick of its first read can take back the first one's
    inode (ext4 here: 1995 of 2000 double replaces), size and times: its stamp said the same
    file, and what was kept of it was taken for the new one. A stamp of an input taken within
    a tick of its change vouches for no later look (s65)."""
    first, again = _replaced_twice(tmp_path, monkeypatch, lambda ns: ns | 1)  # not a second
    assert first == b"a" * 64 and again == b"c" * 64


def test_a_file_replaced_twice_within_a_whole_seconds_tick_is_read_anew(tmp_path, monkeypatch):
    """As above on a file system whose times are whole seconds (ext4 with 128-byte inodes,
    HFS+: 1 s; FAT: 2 s), read 0.1 to 1.1 s after its change: a time that is a whole second
    is taken as such a clock's (s65 review: the 10 ms tick vouched, the first content kept)."""
    second = 1_000_000_000

    def whole(ns: int) -> int:
        return (ns - second // 10) // second * second

    first, again = _replaced_twice(tmp_path, monkeypatch, whole)
    assert first == b"a" * 64 and again == b"c" * 64
