"""How often ``unetlab predict`` of a flat folder of YXC TIFFs opens each one: 11 to 12
times (s60: the trained axes read 5 times, the streaming rule's reads outside one open,
the pixel size after the file's open closed); 4 (the first 5: s61), one for each of its
output positions, streaming rule, prediction and GeoTIFF tags; 2 now (s62): its header
once, shared by all (the first look), and its pixels, in a process's next command too;
what it predicts unchanged."""

from __future__ import annotations

import collections
import time

import numpy as np
import pytest
import tifffile
import torch

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.models import UNet
from unetlab.read_once import ReadOnce


def _opens(monkeypatch) -> collections.Counter:
    """The names of each ``tifffile.TiffFile`` opened from now on, counted."""
    opened: collections.Counter = collections.Counter()

    class Counting(tifffile.TiffFile):
        def __init__(self, path, *args, **kwargs):
            folder, name = str(path).replace("\\", "/").rsplit("/", 2)[-2:]
            opened[name] += folder == "in"
            super().__init__(path, *args, **kwargs)

    monkeypatch.setattr(tifffile, "TiffFile", Counting)
    return opened


def test_predict_opens_each_yxc_tiff_of_a_folder_a_few_times(tmp_path, monkeypatch):
    torch.manual_seed(0)
    net = UNet(2, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "m.pt", net, train_config={"data": {"axes": "YXC"}})
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        yxc = rng.integers(0, 255, (24, 24, 2), np.uint8)
        tifffile.imwrite(tmp_path / "in" / f"s{i}.tif", yxc, photometric="minisblack")
    _at_rest()
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    argv += ["--input", str(tmp_path / "in"), "--no-progress", "--save-probabilities"]
    opened = _opens(monkeypatch)
    assert main([*argv, "--output", str(tmp_path / "out")]) == 0
    # each: its header (positions, axes, level 0, GeoTIFF tags) at the first look, shared
    # by the channel checks, the streaming rule, the records and the world files; its pixels
    twice = {"s0.tif": 2, "s1.tif": 2, "s2.tif": 2, "s3.tif": 2}
    assert {n: k for n, k in opened.items() if k} == twice  # 5, 4, 4, 4 before (s61)
    opened.clear()  # the next command of the process: its own look (its positions were kept)
    assert main([*argv, "--output", str(tmp_path / "next")]) == 0
    assert {n: k for n, k in opened.items() if k} == twice  # 4, 3, 3, 3 had it kept none
    monkeypatch.undo()  # the same outputs again with every read read (no read kept: s61
    # review, the same outputs of two runs that both kept theirs), each header from its own
    # open as before s62, and again by the process's next command
    monkeypatch.setattr(ReadOnce, "read", lambda _self, _what, _path, read: read())
    assert main([*argv, "--output", str(tmp_path / "once")]) == 0
    for made in sorted((tmp_path / "once").iterdir()):
        for kept in ("out", "next"):
            again = tmp_path / kept / made.name
            assert _timeless(again) == _timeless(made) or made.suffix == ".json", made.name


def _timeless(path) -> bytes:
    """The bytes of ``path``, of the manifest without its outputs' times (s74: where settled,
    a line records its output's time, as of its content)."""
    import re

    found = path.read_bytes()
    return re.sub(rb" mtime \d+", b"", found) if path.name == ".unetlab-outputs" else found


def test_predict_stats_each_input_fewer_times(tmp_path, monkeypatch):
    """Each input's record was made once for each of its output names (13 for a TIFF, two
    os.stat each) and its resolved path once a name (s60: 127-129 stats of each of 4 TIFFs);
    once an input now; fewer again (s62)."""
    import os
    from pathlib import Path

    torch.manual_seed(0)
    net = UNet(2, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "m.pt", net, train_config={"data": {"axes": "YXC"}})
    (tmp_path / "in").mkdir()
    for i in range(4):
        yxc = np.zeros((24, 24, 2), np.uint8)
        tifffile.imwrite(tmp_path / "in" / f"s{i}.tif", yxc, photometric="minisblack")
    _at_rest()
    stats, real = collections.Counter(), os.stat

    def counted(path, *args, **kwargs):
        if isinstance(path, (str, os.PathLike)) and Path(path).parent == tmp_path / "in":
            stats[Path(path).name] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counted)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    assert main([*argv, "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out")]) == 0
    inputs = [stats[f"s{i}.tif"] for i in range(4)]
    # 129, 127, 127, 127 before; 93, 91, 91, 91 (s60); 79, 77, 77, 77 (s61); 58, 56, 56,
    # 56 (s62: a slide built for its shape alone, 3 to 4 stats, now its header's stamp, one
    # for all the first look reads; the resolved path of each ask of its manifest name and
    # record without a stat of its own); 61, 59, 59, 59 with the look at the earlier
    # outputs' settings (s62 user: a folder predicted again with other output settings);
    # 58, 56, 56, 56 with that look only at inputs the manifest names (s63)
    # 44, 42, 42, 42 (s63: the output names' look for a Zarr folder, 13 stats, now one a
    # command; the resolved path of the rules for slides and notes without a stat); 42, 40,
    # 40, 40 with both (s63 merge, bench/command_reads.py); 25, 23, 23, 23 (s64: a stamp
    # of each input a look, 20 before: the inputs', the claim's, the streaming rule's and its
    # prediction's; each folder listed once); 22, 20, 20, 20 with the inputs the command
    # line found taken as they are by predict_folder (s64: 5 stats each); 19, 17, 17, 17
    # (s65: predict_folder's look for microscope files, the output-is-input check again by
    # each file's prediction and its record for predict.json again, a stat each, gone); 16,
    # 14, 14, 14 (s65: predict_folder's first look one block, a stamp of each input, not 4);
    # 17, 15, 15, 15 with the streaming rule's and start line's look apart from it, after
    # the model's load (s65 review: an input replaced while it loaded was counted as it was)
    assert min(inputs) > 0 and max(inputs) < 18, inputs


def test_a_header_replaced_between_two_commands_of_a_process_is_read_anew(tmp_path):
    """The header facts a command keeps (its first look) are its own: an input replaced by
    a larger one, of the same time, is put to the pixel rule by its own size by the next
    command (streamed: an OME-TIFF out, not a PNG), and predicted as it is now (s62 review:
    the guard passed with the kept facts process-wide and no stamp, the output's size
    being read from its pixels)."""
    import os

    from PIL import Image

    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / "s.tif"
    tifffile.imwrite(path, np.zeros((24, 24), np.uint8))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    argv += ["--input", str(tmp_path / "in"), "--no-progress", "--large-pixels", "1000"]
    assert main([*argv, "--output", str(tmp_path / "a")]) == 0  # 576 px: read whole
    before, was = path.stat(), path.read_bytes()
    tifffile.imwrite(tmp_path / "t.tif", np.ones((48, 36), np.uint8))
    os.replace(tmp_path / "t.tif", path)  # 1728 px: streamed
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns and path.read_bytes() != was
    assert main([*argv, "--output", str(tmp_path / "b")]) == 0
    assert Image.open(tmp_path / "a" / "s.png").size == (24, 24)
    assert not (tmp_path / "b" / "s.png").exists()
    assert tifffile.imread(tmp_path / "b" / "s.tif").shape == (48, 36)


def test_a_damaged_input_is_named_as_given_not_by_its_real_path(tmp_path, monkeypatch, capsys):
    """A data folder of links to a store: the failed line of a damaged TIFF names the link
    as given (in/damaged.tif), and a relative input stays relative; the header read by the
    first look was read and named through the real path (s62 review: <tmp>/store/...)."""
    import os

    torch.manual_seed(0)
    net = UNet(2, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "m.pt", net, train_config={"data": {"axes": "YXC"}})
    store, given = tmp_path / "store", tmp_path / "in"
    store.mkdir(), given.mkdir()
    tifffile.imwrite(
        store / "blob_001.tif", np.zeros((24, 24, 2), np.uint8), photometric="minisblack"
    )
    (store / "blob_002.tif").write_bytes(b"II*\x00" + b"\xff" * 60)  # damaged
    os.symlink(store / "blob_001.tif", given / "good.tif")
    os.symlink(store / "blob_002.tif", given / "damaged.tif")
    (given / "plain_damaged.tif").write_bytes(b"II*\x00" + b"\xff" * 60)
    monkeypatch.chdir(tmp_path)
    argv = ["predict", "--checkpoint", "m.pt", "--device", "cpu", "--no-progress"]
    assert main([*argv, "--input", "in", "--output", "o"]) == 3
    said = capsys.readouterr().err
    assert "failed: in/damaged.tif: " in said and "failed: in/plain_damaged.tif: " in said
    assert "blob_002" not in said and str(tmp_path) not in said, said
    assert (tmp_path / "o" / "good.png").is_file()


def test_a_folder_predicted_again_reads_its_manifest_and_records_once_a_look(tmp_path, monkeypatch):
    """``unetlab predict`` into its folder again with --skip-existing: its claim check (the
    changed inputs, other inputs' models, the finished outputs, other settings, other
    models) read the manifest 13 times and predict.json 4 (s62: 28 and 6 opens in all by
    the run, bench/command_reads.py); once each now, the manifest again after the lines of
    the outputs it keeps are confirmed (17 and 3 in all); the manifest once a change while
    the folder is held (s64: 17 and 25 without --skip-existing, the output folder's claim
    11 of them, each input's checks 2; 5 now, its append among them)."""
    import builtins
    import io
    import os
    from pathlib import Path

    from unetlab.data.io import write_png

    rng = np.random.default_rng(0)
    for i in range(4):
        write_png(tmp_path / "img" / f"a{i}.png", rng.integers(0, 255, (16, 16), np.uint8))
    save_model(tmp_path / "g.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    out = tmp_path / "p"
    argv = ["predict", "--checkpoint", str(tmp_path / "g.pt"), "--device", "cpu"]
    argv += ["--no-progress", "--input", str(tmp_path / "img"), "--output", str(out)]
    assert main(argv) == 0
    opened: collections.Counter = collections.Counter()

    def counting(real):
        def counted(path, *args, **kwargs):
            if isinstance(path, (str, os.PathLike)) and Path(path).parent == out:
                opened[Path(path).name] += 1
            return real(path, *args, **kwargs)

        return counted

    monkeypatch.setattr(builtins, "open", counting(builtins.open))
    monkeypatch.setattr(io, "open", counting(io.open))
    assert main([*argv, "--skip-existing"]) == 0
    assert opened[".unetlab-outputs"] <= 5 and opened["predict.json"] <= 3, opened
    opened.clear()
    assert main(argv) == 0  # without --skip-existing: 25 before (s64)
    assert opened[".unetlab-outputs"] <= 5, opened


def _predict_argv(tmp_path) -> list[str]:
    """A net at tmp_path/g.pt: ``unetlab predict``'s arguments from tmp_path/img, with
    probabilities (its output folder to add)."""
    save_model(tmp_path / "g.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    argv = ["predict", "--checkpoint", str(tmp_path / "g.pt"), "--device", "cpu"]
    return [*argv, "--no-progress", "--save-probabilities", "--input", str(tmp_path / "img")]


def _pngs(tmp_path, count: int) -> list[str]:
    """``count`` PNGs in tmp_path/img: :func:`_predict_argv`."""
    from unetlab.data.io import write_png

    rng = np.random.default_rng(0)
    for i in range(count):
        write_png(tmp_path / "img" / f"a{i}.png", rng.integers(0, 255, (16, 16), np.uint8))
    return _predict_argv(tmp_path)


def test_a_skip_existing_claim_looks_for_stagings_in_one_listing(tmp_path, monkeypatch):
    """--skip-existing asked of each output of every finished input whether a stopped run
    was replacing it, a stat of its staging each (s66: 8 for 4 PNGs of two outputs each);
    the folder's one listing shows no staging: none asked."""
    from unetlab.inference import slide_resume

    argv = [*_pngs(tmp_path, 4), "--output", str(tmp_path / "p")]
    assert main(argv) == 0
    asked, real = [], slide_resume.replacing
    monkeypatch.setattr(slide_resume, "replacing", lambda f: asked.append(f.name) or real(f))
    assert main([*argv, "--skip-existing"]) == 0
    assert asked == []  # 8 before


def test_a_rerun_looks_for_stagings_in_one_listing(tmp_path, monkeypatch):
    """Whether an output has a staging (4 kinds each) was a stat of each, asked of every
    output by the claim's settling and by --skip-existing's removal of finished ones (s67:
    a plain rerun of 4 PNGs with probabilities 48 times besides its own writes through its
    stagings); the folder's one listing shows none: none asked."""
    import os
    import sys
    from pathlib import Path

    out = tmp_path / "p"
    argv = [*_pngs(tmp_path, 4), "--output", str(out)]
    assert main(argv) == 0
    asked, real = collections.Counter(), os.stat

    def counted(path, *args, **kwargs):  # a staging's, but by its writer (unetlab.atomic)
        name = Path(path).relative_to(out).parts[:1] if Path(path).is_relative_to(out) else ()
        if name and name[0].endswith(".partial"):
            frame = sys._getframe(1)
            while frame.f_globals["__name__"] in ("posixpath", "genericpath", "pathlib"):
                frame = frame.f_back
            asked[frame.f_globals["__name__"]] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counted)
    assert main(argv) == 0
    assert "unetlab.outputs" not in asked, asked  # 48 before
    asked.clear()
    assert main([*argv, "--skip-existing"]) == 0
    assert not asked, asked  # 112 before


def test_a_staging_made_during_the_run_keeps_its_name_claimed(tmp_path, monkeypatch):
    """The folder's one listing for the stagings is taken as the run settles, as each stat
    was: a staging another process made during the run (after the claim) keeps the name it
    is of listed, not unlisted as a name the run did not write."""
    import unetlab.outputs
    from unetlab.manifest import writers_of

    out, real = tmp_path / "p", unetlab.outputs.record
    argv = [*_pngs(tmp_path, 1), "--output", str(out)]

    def staging_at_the_claim(*args, **kwargs):
        if kwargs.get("sources"):  # the claim's
            (out / ".a0.tif.partial").mkdir()
        return real(*args, **kwargs)

    monkeypatch.setattr(unetlab.outputs, "record", staging_at_the_claim)
    assert main(argv) == 0
    assert "a0.tif" in writers_of(out) and "a0.ome.zarr" not in writers_of(out)


def test_an_input_replaced_at_the_claim_and_restored_is_predicted_again(tmp_path, monkeypatch):
    """An input replaced at the claim by an edited copy (its size, the edit outside the
    samples of its stamp), predicted as that copy, then restored with its own time (``cp
    -p``): --skip-existing predicts it again (s66 review: the claim's stamp took the first
    look's size and time, the original's, so the edited copy's outputs were kept as its)."""
    import os
    import shutil

    import unetlab.outputs
    from unetlab.manifest import sample_digest

    a = np.random.default_rng(0).integers(0, 255, (192, 192), np.uint8)
    edited = a.copy()
    edited[40:60] = 255 - edited[40:60]  # bytes ~7.7K to 11.5K: no sample's (0, 16K, 32K)
    (tmp_path / "img").mkdir()
    given, kept = tmp_path / "img" / "a0.tif", tmp_path / "original.tif"
    tifffile.imwrite(kept, a)
    os.utime(kept, ns=(10**18, 10**18))  # an old file
    shutil.copy2(kept, given)
    argv, real = _predict_argv(tmp_path), unetlab.outputs.record

    def replacing(*args, **kwargs):
        if kwargs.get("sources"):  # the claim's
            tifffile.imwrite(tmp_path / "e.tif", edited)
            os.replace(tmp_path / "e.tif", given)
        return real(*args, **kwargs)

    monkeypatch.setattr(unetlab.outputs, "record", replacing)
    assert main([*argv, "--output", str(tmp_path / "p")]) == 0
    monkeypatch.undo()
    assert sample_digest(given, given.stat().st_size) == sample_digest(kept, kept.stat().st_size)
    shutil.copy2(kept, given)  # cp -p
    assert main([*argv, "--output", str(tmp_path / "p"), "--skip-existing"]) == 0
    assert main([*argv, "--output", str(tmp_path / "q")]) == 0  # of the input as it is
    got, wanted = (tifffile.imread(tmp_path / o / "a0_prob.tif") for o in ("p", "q"))
    np.testing.assert_array_equal(got, wanted)


def test_a_published_inputs_stamp_takes_its_predictions_stat(tmp_path, monkeypatch):
    """The stamp of the input in the record of each image's outputs published together
    (slide_resume.input_stamp) took a stat of its own (s66: 4 for 4 TIFFs); its prediction's
    look took one, which it takes now: none within it, each TIFF stamped (a PNG enters no
    look, and is stat-ed there)."""
    import os
    import sys

    from unetlab.inference import slide_resume

    (tmp_path / "img").mkdir()
    for i in range(4):
        tifffile.imwrite(tmp_path / "img" / f"a{i}.tif", np.zeros((24, 24), np.uint8))
    argv, sampled, stats = _predict_argv(tmp_path), [], collections.Counter()
    real_stat, real_sample = os.stat, slide_resume.sample_digest

    def counted(path, *args, **kwargs):
        frame = sys._getframe(1)
        while frame is not None and frame.f_code is not slide_resume.input_stamp.__code__:
            frame = frame.f_back
        if frame is not None:  # within input_stamp
            stats[os.path.basename(path)] += 1
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counted)
    monkeypatch.setattr(
        slide_resume, "sample_digest", lambda *a: sampled.append(a) or real_sample(*a)
    )
    assert main([*argv, "--output", str(tmp_path / "p")]) == 0
    assert len(sampled) >= 4 and sum(stats.values()) == 0, (sampled, stats)  # 4 stats before


def test_an_input_replaced_after_the_look_is_not_kept_as_it_was(tmp_path, monkeypatch):
    """An input replaced between the command's look at it and its claim's line (the stamp
    of its look's stat): --skip-existing keeps no output but one of the input as it is."""
    import unetlab.outputs
    from unetlab.data.io import write_png

    argv, real = _pngs(tmp_path, 2), unetlab.outputs.record

    def replacing_first(*args, **kwargs):
        write_png(tmp_path / "img" / "a0.png", np.full((16, 16), 7, np.uint8))
        return real(*args, **kwargs)

    monkeypatch.setattr(unetlab.outputs, "record", replacing_first)
    assert main([*argv, "--output", str(tmp_path / "p")]) == 0
    monkeypatch.undo()
    assert main([*argv, "--output", str(tmp_path / "p"), "--skip-existing"]) == 0
    assert main([*argv, "--output", str(tmp_path / "q")]) == 0  # as it is now
    for name in ("a0_prob.tif", "a1_prob.tif"):
        got, wanted = (tifffile.imread(tmp_path / o / name) for o in ("p", "q"))
        np.testing.assert_array_equal(got, wanted)


def _at_rest() -> None:
    """Past the clock tick of the inputs just written: a file changed within it is read anew
    by each look (:func:`unetlab.read_once._vouching`), not what these tests count."""
    from unetlab import read_once

    time.sleep((read_once.CLOCK_TICK_NS + read_once.TICK_MARGIN_NS) / 1e9)


def test_predict_resolves_each_input_once_and_finds_its_pixels_once(tmp_path, monkeypatch):
    """Each streamed input's real path was resolved by unetlab 36 to 39 times by one
    predict (s62: its first look 8, each reader of its header and the output rules again),
    once now for its header's readers (tifffile's own at each open and numpy's maps aside);
    what its records say of it resolves it anew, 8 times (a link retargeted meanwhile is
    named as it was read: s63), 9 with its manifest lines once written (s64); its stored
    pixels were worked out twice by the open that streams it (its header, then its memory
    map), once."""
    import os
    import sys
    from pathlib import Path

    from unetlab.data import io as data_io

    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    (tmp_path / "in").mkdir()
    for i in range(2):
        tifffile.imwrite(tmp_path / "in" / f"s{i}.tif", np.zeros((24, 24), np.uint8))
    _at_rest()
    resolved, recorded, stored = collections.Counter(), collections.Counter(), []
    real, real_stored = os.path.realpath, data_io.stored_bytes
    records = ("output_rules", "held", "chosen", "slide_resume", "records")  # the record's
    records = tuple(f"unetlab.inference.{name}" for name in records)

    def counted(path, *args, **kwargs):  # by unetlab (tifffile's opens, numpy's maps: theirs)
        module = sys._getframe(1).f_globals["__name__"]
        if module.startswith("unetlab.") and Path(path).parent == tmp_path / "in":
            (recorded if module in records else resolved)[Path(path).name] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os.path, "realpath", counted)
    monkeypatch.setattr(data_io, "stored_bytes", lambda *a: stored.append(a) or real_stored(*a))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    argv += ["--input", str(tmp_path / "in"), "--no-progress", "--large-pixels", "100"]
    assert main([*argv, "--output", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "s0.tif").is_file()  # streamed: its pixels memory-mapped
    assert len(stored) == 4  # one an open (its header, its pixels); 6 before (s63)
    assert dict(resolved) == {"s0.tif": 1, "s1.tif": 1}  # 39, 36 before (s63)
    assert min(recorded.values()) > 0 and max(recorded.values()) <= 9, recorded


def test_the_lines_resolve_the_input_folder_once_a_run(tmp_path, monkeypatch):
    """How the lines name each input (from the folder given) resolved its folder and the
    folder given 3 times an input each (s67: 24 resolves for 4 inputs, 48 for 8), once a
    run now, whatever the inputs."""
    import os
    import sys
    from pathlib import Path

    argv = [*_pngs(tmp_path, 4), "--output", str(tmp_path / "p")]
    resolved, real = [], os.path.realpath

    def counted(path, *args, **kwargs):  # by unetlab (Path.resolve's too)
        frame = sys._getframe(1)
        while frame.f_globals["__name__"] in ("posixpath", "ntpath", "pathlib"):
            frame = frame.f_back
        if frame.f_globals["__name__"].startswith("unetlab.") and Path(path) == tmp_path / "img":
            resolved.append(frame.f_code.co_name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os.path, "realpath", counted)
    assert main(argv) == 0
    assert len(resolved) == 1, resolved  # 24 before (s67)


def test_predict_looks_at_its_manifest_as_often_for_more_inputs(tmp_path, monkeypatch):
    """Whether each input's outputs are listed as its prediction read it (a link retargeted
    since the claim) is told from the sources the claim listed, held by the run: the
    manifest's lines looked at for 6 inputs as often as for 2 (s64: twice more an input
    written, each a copy of all its lines: 12.0 s of 129 s at 1500 inputs)."""
    import unetlab.manifest as manifest
    from unetlab.data.io import write_png

    save_model(tmp_path / "g.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    rng = np.random.default_rng(0)
    looked = collections.Counter()
    stamped_lines = manifest._stamped_lines

    def counted(folder):
        looked[folder.name] += 1
        return stamped_lines(folder)

    monkeypatch.setattr(manifest, "_stamped_lines", counted)
    for count in (2, 6):
        for i in range(count):
            write_png(
                tmp_path / f"img{count}" / f"a{i}.png", rng.integers(0, 255, (16, 16), np.uint8)
            )
        argv = ["predict", "--checkpoint", str(tmp_path / "g.pt"), "--device", "cpu"]
        argv += ["--no-progress", "--input", str(tmp_path / f"img{count}")]
        assert main([*argv, "--output", str(tmp_path / f"p{count}")]) == 0
    assert looked["p2"] == looked["p6"], looked


def test_the_first_look_ends_before_the_model_loads(tmp_path, caplog):
    """An input replaced by a larger one while the model loads (after the claim) is counted
    and streamed as it is now: the first look's one stamp of each input ends before the load
    (s65 review: it ended as the first prediction started, so the start line said "(0
    large)" of the input it then streamed)."""
    import logging

    import unetlab.inference.folders as folders

    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    (tmp_path / "in").mkdir()
    a = tmp_path / "in" / "a.tif"
    tifffile.imwrite(a, np.zeros((24, 24), np.uint8))
    real = folders._Loaded.__call__

    def loading(self):  # the acquisition writes a larger a.tif meanwhile
        tifffile.imwrite(tmp_path / "n.tif", np.zeros((256, 256), np.uint8))
        (tmp_path / "n.tif").replace(a)
        return real(self)

    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    argv += ["--input", str(tmp_path / "in"), "--output", str(tmp_path / "o")]
    with caplog.at_level(logging.INFO), pytest.MonkeyPatch.context() as patched:
        patched.setattr(folders._Loaded, "__call__", loading)
        assert main([*argv, "--no-progress", "--large-pixels", "10000"]) == 0
    start = [m for m in caplog.messages if m.startswith("predict: 1 file")]
    assert start and "(1 large)" in start[0], caplog.messages
    assert tifffile.imread(tmp_path / "o" / "a.tif").shape == (256, 256)
