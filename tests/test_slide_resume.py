"""A killed whole-slide prediction resumes: the rerun of the same command starts each band at
its first chunk row not done, and its outputs equal an uninterrupted run's byte for byte;
a changed input or setting starts afresh, said in one line."""

import contextlib
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tifffile

from tests.test_folders_group_seconds import _Threads as _Meeting
from tests.test_folders_group_seconds import two_ranks
from tests.test_predict_objects import local_net, nuclei_image
from unetlab.data import ome
from unetlab.data.normalize import raw_stats as stats
from unetlab.data.slides import open_slide
from unetlab.errors import UnetlabError, command_spelling
from unetlab.group import Group
from unetlab.inference import records, slide_objects, slide_resume, slides
from unetlab.inference.files import predict_file
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.slides import predict_slide
from unetlab.provenance import code_identity

#: the git commit a staging's record holds in these tests (:func:`pinned_version`)
PINNED = "0" * 40


@pytest.fixture(autouse=True)
def pinned_version(monkeypatch):
    """The resume record's git commit pinned for each test (a module that stops and reruns
    imports this fixture): in a checkout where commits land while a test runs, its rerun
    would read another commit and start afresh (note33). The product's check of it:
    :func:`test_another_version_starts_afresh`."""
    monkeypatch.setattr(slide_resume, "_commit", lambda: PINNED)
    monkeypatch.setattr(records, "code_identity", pinned_code)


def pinned_code() -> dict:
    """:func:`~unetlab.provenance.code_identity` at the :data:`PINNED` commit, clean (the
    prediction record, which a staging's record holds, carries it)."""
    return {**code_identity(), "commit": PINNED, "dirty": False}


@pytest.fixture
def small_chunks(monkeypatch):
    """32-px chunks, so that a slide of 160 rows has five chunk rows."""
    monkeypatch.setattr(ome, "CHUNK", 32)
    monkeypatch.setattr(slide_objects, "STREAM_ROWS", 64)
    monkeypatch.setattr(slide_objects, "PIECE_PIXELS", 4096)


class Stop:
    """A progress callback that stops the run (as Ctrl-C does) once ``after`` tiles are done,
    and counts the tiles of every run."""

    def __init__(self, after: int | None = None):
        self.after, self.tiles = after, 0

    def __call__(self, n: int) -> None:
        self.tiles += n
        if self.after is not None and self.tiles >= self.after:
            raise KeyboardInterrupt


def _slide(path, pages=1, h=160, w=96, axes=None):
    image = np.stack([nuclei_image(h, w, seed=7 + p) for p in range(pages)])
    image = image if pages > 1 else image[0]
    meta = {"axes": axes} if axes else {}
    tifffile.imwrite(
        path, image, tile=(32, 32), compression="zlib", photometric="minisblack", metadata=meta
    )
    return path


def _outputs(folder):
    """Every output's bytes, by name (files, and an OME-Zarr folder's files); of a TIFF, the
    bytes of each level and its OME-XML less the file's UUID (new in every file written)."""
    found = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.name.startswith(".unetlab"):
            continue
        if p.suffix == ".tif":
            with tifffile.TiffFile(p) as tif:
                levels = [level.asarray().tobytes() for level in tif.series[0].levels]
                xml = re.sub(r'UUID="urn:uuid:[^"]+"', "", tif.ome_metadata)
            found[str(p.relative_to(folder))] = (levels, xml)
        else:
            found[str(p.relative_to(folder))] = p.read_bytes()
    return found


def _predict(net, slide, out, progress, **settings):
    return predict_slide(net, slide, out, tile_size=36, batch_size=2, progress=progress, **settings)


def _interrupted_then_resumed(tmp_path, slide, after, **settings):
    """(an uninterrupted run's outputs, a resumed run's, the tiles of each run of the
    resumed one)."""
    net = local_net()
    whole = Stop()
    _predict(net, slide, tmp_path / "whole", whole, **settings)
    first = Stop(after)
    with pytest.raises(KeyboardInterrupt):
        _predict(net, slide, tmp_path / "out", first, **settings)
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.endswith(".partial")]
    again = Stop()
    _predict(net, slide, tmp_path / "out", again, **settings)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    return _outputs(tmp_path / "whole"), _outputs(tmp_path / "out"), (whole, first, again)


@pytest.mark.parametrize("output_format", ["ome-tiff", "ome-zarr"])
def test_a_resumed_slide_equals_an_uninterrupted_one(
    tmp_path, small_chunks, caplog, monkeypatch, output_format
):
    slide = _slide(tmp_path / "s.tif")
    passes = []  # the page read whole for its statistics: not again by the rerun
    monkeypatch.setattr(slides, "raw_stats", lambda *a, **k: passes.append(1) or stats(*a, **k))
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        whole, resumed, (all_, first, again) = _interrupted_then_resumed(
            tmp_path, slide, 24, save_probabilities=True, output_format=output_format
        )
    assert resumed == whole and len(whole) >= 2
    assert any(m.startswith(f"resuming {slide} at row ") for m in caplog.messages)
    # the rerun predicted only the rows not done: fewer tiles than a whole run
    assert first.tiles >= 24 and again.tiles < all_.tiles
    assert len(passes) == 2


def test_a_resumed_slides_objects_equal_an_uninterrupted_runs(tmp_path, small_chunks, caplog):
    """The page's objects are found again from its staged probabilities (rows done) and the
    tiles of the rows not done: the same ids, CSV and GeoJSON."""
    slide = _slide(tmp_path / "s.tif")
    objects = dict(objects=ObjectOptions.for_model, outlines="geojson", save_probabilities=True)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        whole, resumed, (all_, _, again) = _interrupted_then_resumed(tmp_path, slide, 24, **objects)
    assert {"s_objects.tif", "s_objects.csv", "s_objects.geojson"} <= set(whole)
    assert resumed == whole
    assert any(m.startswith(f"resuming {slide} at row ") for m in caplog.messages)
    assert again.tiles < all_.tiles


@pytest.mark.parametrize("cli", [False, True], ids=["python", "command line"])
def test_objects_without_staged_probabilities_restart_the_page(tmp_path, small_chunks, caplog, cli):
    slide = _slide(tmp_path / "s.tif")
    objects = dict(objects=ObjectOptions.for_model, outlines="geojson")
    spelling = command_spelling() if cli else contextlib.nullcontext()
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"), spelling:
        whole, resumed, (all_, _, again) = _interrupted_then_resumed(tmp_path, slide, 24, **objects)
    assert resumed == whole
    assert any(f"{slide}: restarting the image at row 0 (" in m for m in caplog.messages)
    fix = "--save-probabilities" if cli else "save_probabilities=True"  # its caller's (s56)
    assert any(f"not staged ({fix} stages them)" in m for m in caplog.messages)
    assert f"resuming {slide} at row 0 of 160" not in caplog.messages
    assert again.tiles == all_.tiles


@pytest.mark.parametrize("axes, page", [(None, "plane 1"), ("TYX", "frame 1")])
def test_a_stack_resumes_at_its_page(tmp_path, small_chunks, caplog, axes, page):
    """The line names the page as predict's other lines do: a movie's "frame 1" (was "page
    2 of 3", 1-based, where the tables and the bar say frame 1)."""
    slide = _slide(tmp_path / "p.tif", pages=3, h=96, w=64, axes=axes)
    with open_slide(slide) as pages:
        assert pages.shape == (3, 96, 64, 1)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        whole, resumed, (all_, first, again) = _interrupted_then_resumed(
            tmp_path, slide, 30, save_probabilities=True
        )
    assert resumed == whole
    (said,) = [m for m in caplog.messages if m.startswith(f"resuming {slide} ")]
    assert said.endswith(f" of 96, {page} (2 of 3)") and again.tiles < all_.tiles - first.tiles // 2


def _stopped(tmp_path, slide, after=24, net=None, **settings):
    with pytest.raises(KeyboardInterrupt):
        _predict(net or local_net(), slide, tmp_path / "out", Stop(after), **settings)


@pytest.mark.parametrize("command", [False, True])
@pytest.mark.parametrize("staged", [False, True])
def test_the_streaming_line_says_a_stopped_objects_page_restarts(
    tmp_path, small_chunks, caplog, command, staged
):
    """Said at the start, so a run killed (``kill -9``, out of memory) was told too, not only
    by a Ctrl-C's stop line and the rerun's restart line (review s56), in the caller's form;
    nothing where the probabilities are staged (the page resumes)."""
    import contextlib

    from unetlab.errors import command_spelling

    slide = _slide(tmp_path / "s.tif")
    objects = dict(objects=ObjectOptions.for_model, save_probabilities=staged)
    running = command_spelling() if command else contextlib.nullcontext()
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"), running:
        _stopped(tmp_path, slide, after=1, **objects)
    (said,) = [m for m in caplog.messages if ", streaming " in m]
    fix = "--save-probabilities" if command else "save_probabilities=True"
    note = f" (a stopped run restarts this page: {fix} keeps its rows)"
    assert said.endswith("to s.tif" if staged else "to s.tif" + note)


def test_a_movies_streaming_line_says_the_frame_it_stopped_in_restarts(
    tmp_path, small_chunks, caplog
):
    slide = _slide(tmp_path / "p.tif", pages=3, h=96, w=64, axes="TYX")
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        _stopped(tmp_path, slide, after=1, objects=ObjectOptions.for_model)
    (said,) = [m for m in caplog.messages if ", streaming " in m]
    assert said.startswith(f"{slide}: 96 x 64 px (3 frames, ")  # given alone: its path
    note = (
        " (a stopped run restarts the frame it stopped in: save_probabilities=True keeps its rows)"
    )
    assert said.endswith(note)


def test_a_changed_input_or_setting_starts_afresh(tmp_path, small_chunks, caplog):
    net, slide = local_net(), _slide(tmp_path / "s.tif")
    _predict(net, slide, tmp_path / "whole", Stop())
    whole = _outputs(tmp_path / "whole")
    _stopped(tmp_path, slide, net=net, blend="gaussian")
    again = Stop()
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        _predict(net, slide, tmp_path / "out", again)
    assert (
        f"{slide}: the staging a killed run left is discarded (the checkpoint or the prediction "
        "settings changed): starting afresh"
    ) in caplog.messages
    assert _outputs(tmp_path / "out") == whole and again.tiles == 40
    # the input rewritten after the stop (same size): its time tells
    _stopped(tmp_path, slide, net=net)
    os.utime(slide, ns=(slide.stat().st_atime_ns, slide.stat().st_mtime_ns + 10**9))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        _predict(net, slide, tmp_path / "out", Stop())
    assert any("the input is another file, or it changed" in m for m in caplog.messages)
    # another tiling (batch size: its batches decide which tiles a band needs)
    _stopped(tmp_path, slide, net=net)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        predict_slide(net, slide, tmp_path / "out", tile_size=36, batch_size=3)
    assert any("(the tiling changed" in m for m in caplog.messages)
    assert not any(m.startswith("resuming") for m in caplog.messages)
    # probabilities no longer asked for: their staging goes too, not left as another's
    _stopped(tmp_path, slide, net=net, save_probabilities=True)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab.inference"):
        _predict(net, slide, tmp_path / "out", Stop())
    assert any("(the outputs asked for changed)" in m for m in caplog.messages)
    assert not [m for m in caplog.messages if "a killed run's staging of" in m]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_another_version_starts_afresh(tmp_path, small_chunks, caplog, monkeypatch):
    """unetlab at another git commit does not resume a staging (its code may differ)."""
    net, slide = local_net(), _slide(tmp_path / "s.tif")
    _stopped(tmp_path, slide, net=net)
    monkeypatch.setattr(slide_resume, "_commit", lambda: "1" * 40)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        _predict(net, slide, tmp_path / "out", Stop())
    assert any(
        "(the code changed: unetlab's git commit 000000000000 -> 111111111111)" in m
        for m in caplog.messages
    )
    assert not any(m.startswith("resuming") for m in caplog.messages)


def test_a_rerun_after_an_upgrade_is_told_the_code_changed_not_the_settings(tmp_path):
    """The prediction record holds the code too (unetlab's commit, torch): a rerun after a
    ``git pull`` (or an upgrade) was told "the checkpoint or the prediction settings changed"
    of the same command and checkpoint (new-user s65)."""
    stages, made = _code_record(tmp_path)
    said = slide_resume.mismatch(stages, made(commit="b" * 40))
    assert said.startswith("the code changed: unetlab's git commit"), said
    said = slide_resume.mismatch(stages, made(level=1))
    assert said == "the checkpoint or the prediction settings changed", said


def _code_record(tmp_path) -> tuple:
    """The staging (name -> folder) of a record of a clean checkout's code, and
    ``made(**change)``: that record with ``change`` (code parts, or a ``level`` setting)."""
    labels = tmp_path / "labels"
    (labels / "0").mkdir(parents=True)
    (labels / "0" / ".zarray").write_text("{}")

    def made(**change) -> dict:
        code = {"unetlab": "0.2.0", "commit": "a" * 40, "dirty": False, "torch": "2.5.0"}
        code.update(numpy="1.26.4", python="3.11.9")
        code.update({k: v for k, v in change.items() if k in code})
        record = {"checkpoint": "best.pt", "model": {"level": change.get("level", 0)}}
        versions = [code["unetlab"], code["commit"], code["torch"]]
        return {"input": {"path": "s.tif"}, "record": record | {"code": code}, "versions": versions}

    (labels / slide_resume.RECORD).write_text(json.dumps(made()))
    return {"labels": labels}, made


@pytest.mark.parametrize(
    "change, said",
    [
        (dict(numpy="2.1.0"), "numpy 1.26.4 -> 2.1.0"),
        (dict(python="3.12.4"), "Python 3.11.9 -> 3.12.4"),
        (dict(dirty=True), "the checkout's uncommitted changes (none then)"),
        (dict(commit="b" * 40), "unetlab's git commit aaaaaaaaaaaa -> bbbbbbbbbbbb"),
        (dict(unetlab="0.2.1", torch="2.6.0"), "unetlab 0.2.0 -> 0.2.1, torch 2.5.0 -> 2.6.0"),
        (dict(dirty=None), None),  # git could not say (no git, a timeout): unknown
    ],
)
def test_a_code_mismatch_names_the_parts_that_changed(tmp_path, change, said):
    """The line said "unetlab (its version or git commit) or torch changed" where only numpy,
    Python or the checkout's uncommitted changes had, and where git could not be run (its
    ``dirty`` None against False: review s65)."""
    stages, made = _code_record(tmp_path)
    why = slide_resume.mismatch(stages, made(**change))
    assert why == (said and f"the code changed: {said}"), why


def test_a_mismatch_names_every_reason(tmp_path):
    """The code and the settings both changed: the line named the settings only, the first
    reason (review s65); the nodata, which the record holds too, is named once."""
    stages, made = _code_record(tmp_path)
    said = slide_resume.mismatch(stages, made(commit="b" * 40, level=2))
    assert said == (
        "the checkpoint or the prediction settings changed; the code changed: unetlab's git "
        "commit aaaaaaaaaaaa -> bbbbbbbbbbbb"
    ), said
    nodata = made(level=2) | {"nodata": ["0.0", False]}
    nodata["record"]["model"]["nodata"] = 0
    said = slide_resume.mismatch(stages, nodata)
    assert said == (
        "the pixels left out as no sample changed (nodata); the checkpoint or the prediction "
        "settings changed"
    ), said
    nodata["record"]["model"]["level"] = 0  # the nodata alone
    said = slide_resume.mismatch(stages, nodata)
    assert said == "the pixels left out as no sample changed (nodata)", said


def test_a_tile_size_change_is_named_once(tmp_path):
    """A tile size given (or changed) changes the settings and the tiling: the line named
    both (s66); the tiling alone names it, the settings where another of theirs changed."""
    stages, made = _code_record(tmp_path)

    def tiled(tile, given, level=0) -> dict:
        record = made(level=level)
        record["record"]["model"]["tile_size"] = given
        return record | {"tiling": {"tile": [tile, tile], "batch": 4}}

    (stages["labels"] / slide_resume.RECORD).write_text(json.dumps(tiled(188, None)))
    said = slide_resume.mismatch(stages, tiled(252, 252))
    assert said == "the tiling changed (tile size, batch size or memory)", said
    said = slide_resume.mismatch(stages, tiled(252, 252, level=1))
    assert said == (
        "the checkpoint or the prediction settings changed; the tiling changed (tile size, "
        "batch size or memory)"
    ), said
    said = slide_resume.mismatch(stages, tiled(188, 188))  # the same tiles, given
    assert said == "the checkpoint or the prediction settings changed", said


def test_a_commit_landing_while_a_test_runs_does_not_restart_it(
    tmp_path, small_chunks, caplog, monkeypatch
):
    """The checkout's commit moving between the stop and the rerun (other work committed
    meanwhile): the pinned record resumes all the same (note33's failing tests)."""
    commits = iter(f"{i:040d}" for i in range(1, 1000))
    monkeypatch.setattr(slide_resume, "read_commit", lambda _: next(commits))
    net, slide = local_net(), _slide(tmp_path / "s.tif")
    _stopped(tmp_path, slide, net=net)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        _predict(net, slide, tmp_path / "out", Stop())
    assert any(m.startswith(f"resuming {slide} at row ") for m in caplog.messages)


def test_a_bad_input_removes_the_staging_a_stop_keeps_it(tmp_path, small_chunks):
    slide = _slide(tmp_path / "s.tif")
    _stopped(tmp_path, slide)
    stage = tmp_path / "out" / ".s.tif.partial"
    record = json.loads((stage / slide_resume.RECORD).read_text())
    assert record["input"]["size"] == slide.stat().st_size
    assert json.loads((stage / "unetlab-rows.0.json").read_text())["row"] > 0
    # NaN pixels in the last rows: found after rows were written, and met again by a rerun
    bad = nuclei_image(160, 96, seed=7).astype(np.float32)
    bad[150, 5] = np.nan
    tifffile.imwrite(tmp_path / "bad.tif", bad, tile=(32, 32))
    with pytest.raises(UnetlabError, match="NaN"):
        _predict(local_net(), tmp_path / "bad.tif", tmp_path / "out", Stop())
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == [
        ".s.tif.partial"
    ]


def test_another_inputs_staging_is_named_in_a_line(tmp_path, small_chunks, caplog):
    _stopped(tmp_path, _slide(tmp_path / "a.tif"))
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_resume"):
        _predict(local_net(), _slide(tmp_path / "b.tif"), tmp_path / "out", Stop())
    (line,) = [m for m in caplog.messages if "a killed run's staging of" in m]
    assert line.startswith(f"{tmp_path / 'out'}: a killed run's staging of {tmp_path / 'a.tif'}")
    assert "is kept (.a.tif.partial: " in line and (tmp_path / "out" / ".a.tif.partial").is_dir()


def test_the_cli_path_resumes(tmp_path, small_chunks, caplog):
    """predict_file (the CLI's way in, which claims the folder and cleans a killed run's
    temporaries) keeps a resumable staging."""
    net, slide = local_net(), _slide(tmp_path / "s.tif")
    how = dict(large_threshold=100, tile_size=36, batch_size=2)
    predict_file(net, slide, tmp_path / "whole", **how)
    with pytest.raises(KeyboardInterrupt):
        predict_file(net, slide, tmp_path / "out", progress=Stop(24), **how)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        predict_file(net, slide, tmp_path / "out", **how)
    assert any(m.startswith(f"resuming {slide} at row ") for m in caplog.messages)
    assert tifffile.imread(tmp_path / "out" / "s.tif").tobytes() == (
        tifffile.imread(tmp_path / "whole" / "s.tif").tobytes()
    )


#: a streamed prediction of _slide's s.tif by the folder's way in (the CLI's)
_STREAMED = dict(large_threshold=100, tile_size=36, batch_size=2)


def _replacing_stopped(tmp_path) -> tuple:
    """(net, slide, the older labels' modification time): out/ holds s.tif's outputs and
    the rows of a run of the same command stopped at row 64 of 160, replacing them."""
    net, slide = local_net(), _slide(tmp_path / "s.tif")
    predict_folder(net, [slide], tmp_path / "out", **_STREAMED)
    older = os.stat(tmp_path / "out" / "s.tif").st_mtime_ns
    with pytest.raises(KeyboardInterrupt):
        predict_file(net, slide, tmp_path / "out", progress=Stop(24), **_STREAMED)
    return net, slide, older


def test_skip_existing_resumes_a_stopped_run_that_was_replacing_the_outputs(
    tmp_path, small_chunks, caplog
):
    """A stopped run over a slide's older outputs keeps its rows; the rerun its stop line
    advises (--skip-existing) resumes them, where it skipped the slide for its older
    outputs and deleted the staging (new-user s65: 166 MB of rows)."""
    net, slide, older = _replacing_stopped(tmp_path)
    how = _STREAMED
    with caplog.at_level(logging.INFO):
        done = predict_folder(net, [slide], tmp_path / "out", skip_existing=True, **how)
    assert not done.skipped
    assert not [m for m in caplog.messages if "skipped" in m or "not all the outputs" in m]
    assert any(m.startswith(f"resuming {slide} at row 64 of 160") for m in caplog.messages)
    assert os.stat(tmp_path / "out" / "s.tif").st_mtime_ns > older
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".partial")]


def test_skip_existing_keeps_a_replacing_staging_it_cannot_resume(
    tmp_path, small_chunks, caplog, monkeypatch
):
    """A rerun with --skip-existing that cannot resume such rows (unetlab's commit changed)
    skips the slide for its outputs there and keeps the rows, said in one line; the stopped
    run's own command resumes them then."""
    net, slide, older = _replacing_stopped(tmp_path)
    monkeypatch.setattr(slide_resume, "_commit", lambda: "1" * 40)
    with caplog.at_level(logging.INFO):
        predict_folder(net, [slide], tmp_path / "out", skip_existing=True, **_STREAMED)
    kept = [m for m in caplog.messages if "this command cannot resume" in m]
    assert len(kept) == 1 and "(the code changed: unetlab's git commit 0000" in kept[0], kept
    assert "this command without --skip-existing predicts it anew in their place" in kept[0]
    assert os.stat(tmp_path / "out" / "s.tif").st_mtime_ns == older
    assert (tmp_path / "out" / ".s.tif.partial").is_dir()
    monkeypatch.setattr(slide_resume, "_commit", lambda: PINNED)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        predict_folder(net, [slide], tmp_path / "out", skip_existing=True, **_STREAMED)
    assert any(m.startswith(f"resuming {slide} at row 64 of 160") for m in caplog.messages)


_KILLED = """
import os, signal, sys
import torch
from tests.test_predict_objects import local_net
from tests.test_slide_resume import Stop, _predict
from unetlab.data import ome
from unetlab.inference import records, slide_resume
from tests.test_slide_resume import PINNED, pinned_code

ome.CHUNK = 32
slide_resume._commit = lambda: PINNED  # as the parent's: tests.test_slide_resume.pinned_version
records.code_identity = pinned_code
torch.manual_seed(0)
stop = Stop()

def killed(n):
    stop(n)
    if stop.tiles >= 24:
        os.kill(os.getpid(), signal.SIGKILL)

_predict(local_net(), sys.argv[1], sys.argv[2], killed, save_probabilities=True)
"""


def test_a_slide_killed_with_sigkill_resumes(tmp_path, small_chunks):
    """No handler runs on kill -9: what is on disk (the rows recorded as done, written
    before their record) is enough."""
    import subprocess
    import sys

    import torch

    slide = _slide(tmp_path / "s.tif")
    torch.manual_seed(0)
    net = local_net()
    _predict(net, slide, tmp_path / "whole", Stop(), save_probabilities=True)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # the unetlab this test runs (a PYTHONPATH of its own first), and the tests beside it
    paths = [p for p in (os.environ.get("PYTHONPATH"), root) if p]
    # as many threads as this process (the reference run): a net's bits depend on them
    threads = str(torch.get_num_threads())
    env = {**os.environ, "OMP_NUM_THREADS": threads, "PYTHONPATH": os.pathsep.join(paths)}
    argv = [sys.executable, "-c", _KILLED, str(slide), str(tmp_path / "out")]
    assert subprocess.run(argv, cwd=root, env=env).returncode == -9
    rows = json.loads((tmp_path / "out" / ".s.tif.partial" / "unetlab-rows.0.json").read_text())
    assert 0 < rows["row"] < 160
    again = Stop()
    _predict(net, slide, tmp_path / "out", again, save_probabilities=True)
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole") and again.tiles < 40


def test_the_rows_recorded_are_flushed_to_disk_first(tmp_path, monkeypatch):
    """A machine that crashes keeps the rows a record says are done: their chunk files (and
    the array's folder) are flushed before the record is written."""
    spec = ome.OutputSpec(shape=(3, 2, 70, 40), axes="czyx", dtype=np.dtype(np.float32))
    monkeypatch.setattr(ome, "CHUNK", 16)
    array = ome.create(tmp_path / "st", spec)
    array[spec.place(1, slice(0, 70))] = np.ones((3, 70, 40), np.float32)
    flushed = []
    monkeypatch.setattr(slide_resume, "fsync", lambda p: flushed.append(p.name))
    progress = slide_resume.Progress(tmp_path / "st", 0, (0, 70), resumed=False)
    progress.page = 1
    progress.done(1, 32, {"probabilities": (array, spec)})
    chunks = {f"{c}.1.{y}.{x}" for c in range(3) for y in (0, 1) for x in range(3)}
    assert set(flushed[:-1]) == chunks and flushed[-1] == "0"
    assert json.loads((tmp_path / "st" / "unetlab-rows.0.json").read_text()) == {
        "page": 1,
        "row": 32,
        "stats": None,
        "left_out": {},
    }


@dataclass(frozen=True)
class _Threads(_Meeting):
    """A rank of a group of threads (a stand-in for torchrun's processes): ``share`` passes
    the main thread's value to every rank at a barrier, ``gather`` every rank's; inactive,
    the rest is a plain process's."""

    def total(self, values: list[float]) -> list[float]:
        return Group.total(self, values)


def threads_hub() -> SimpleNamespace:
    """What the ranks of a group of two threads (:class:`_Threads`) meet at."""
    return SimpleNamespace(barrier=threading.Barrier(2, timeout=120), box=[None, None])


def _two_ranks(net, slide, out, stops, hub=None) -> list[BaseException | None]:
    """Predict ``slide`` in two ranks (threads: they take turns on the model) meeting at
    ``hub`` (:func:`threads_hub`, a new one by default), rank r counting its tiles with
    ``stops[r]``; each rank's exception, if any."""
    hub = hub or threads_hub()
    errors: list[BaseException | None] = [None, None]

    def rank(r):
        try:
            _predict(net, slide, out, stops[r], group=_Threads(r, 2, hub=hub))
        except BaseException as exc:  # noqa: BLE001 (handed to the test)
            errors[r] = exc
            hub.barrier.abort()  # the other rank stops waiting at its next step

    threads = [threading.Thread(target=rank, args=(r,)) for r in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_each_rank_of_a_group_resumes_its_own_band(tmp_path, small_chunks, caplog):
    """--nproc: each process records its band's rows; stopped in one, the rerun's other
    process, whose band was done, predicts no tile."""
    net, slide = local_net(), _slide(tmp_path / "s.tif")
    assert _two_ranks(net, slide, tmp_path / "whole", [Stop(), Stop()]) == [None, None]
    _predict(net, slide, tmp_path / "one", Stop())
    errors = _two_ranks(net, slide, tmp_path / "out", [Stop(), Stop(20)])
    assert isinstance(errors[1], KeyboardInterrupt) and errors[0] is not None
    stage = tmp_path / "out" / ".s.tif.partial"
    assert {p.name for p in stage.glob("unetlab-rows.*.json")} == {
        "unetlab-rows.0.json",
        "unetlab-rows.1.json",
    }
    again = [Stop(), Stop()]
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        assert _two_ranks(net, slide, tmp_path / "out", again) == [None, None]
    assert again[0].tiles == 0 and again[1].tiles > 0
    assert any(m.startswith(f"resuming {slide} at row ") for m in caplog.messages)
    whole = _outputs(tmp_path / "whole")
    assert _outputs(tmp_path / "out") == whole == _outputs(tmp_path / "one")


def test_another_slide_of_the_same_size_and_time_starts_afresh(tmp_path, small_chunks, caplog):
    """The resume record compared the input by size and time alone: another slide of the
    same size and modification time (a share whose files all carry one time, ``cp -p``) was
    resumed from the old one's staged rows (s38, as the manifest's stamp in s37)."""
    net, slide = local_net(), tmp_path / "s.tif"
    other = nuclei_image(160, 96, seed=99)
    tifffile.imwrite(slide, nuclei_image(160, 96, seed=7), tile=(32, 32), photometric="minisblack")
    tifffile.imwrite(tmp_path / "o.tif", other, tile=(32, 32), photometric="minisblack")
    _stopped(tmp_path, slide, net=net)
    times = slide.stat().st_atime_ns, slide.stat().st_mtime_ns
    assert (tmp_path / "o.tif").stat().st_size == slide.stat().st_size
    (tmp_path / "o.tif").replace(slide)
    os.utime(slide, ns=times)
    assert slide.stat().st_mtime_ns == times[1]
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        _predict(net, slide, tmp_path / "out", Stop())
    assert any("the input is another file, or it changed" in m for m in caplog.messages)
    _predict(net, slide, tmp_path / "whole", Stop())
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")


def test_a_zarr_rewritten_in_place_is_a_changed_input(tmp_path):
    """A Zarr's pixels live in its chunk folders: rewriting one chunk (same shape, metadata
    untouched) must change the input's stamp, or a rerun would resume and mix old and new
    rows (review s31 4)."""
    import time

    import zarr

    array = zarr.open(
        str(tmp_path / "z.zarr"), mode="w", shape=(64, 64), chunks=(32, 32), dtype="u1"
    )
    array[:] = 1
    before = slide_resume.input_stamp(tmp_path / "z.zarr")
    time.sleep(0.01)
    zarr.open(str(tmp_path / "z.zarr"), mode="r+")[0:32, 0:32] = 7
    after = slide_resume.input_stamp(tmp_path / "z.zarr")
    assert before["files"] == after["files"] and before != after


def test_a_stop_while_the_ids_are_widened_resumes(tmp_path, small_chunks, caplog, monkeypatch):
    """Provisional ids widened to uint64 on page 1 of 3 (forced here: the ids past 2**32 - 1
    that do it need a giant slide) and a stop between the two renames that put the wide
    copy in place: the staging held no ids at ``0``, and the rerun discarded the whole
    staging ("its staged ids are missing") and started afresh. Now it puts the wide copy in
    place and resumes at page 1, its outputs an uninterrupted run's."""
    calls, narrow = [], slide_objects.staged_id_dtype

    def widen_late(largest, staged):  # uint64 from the 2nd band on (page 1's)
        calls.append(1)
        return np.dtype(np.uint64) if len(calls) >= 2 else narrow(largest, staged)

    monkeypatch.setattr(slide_objects, "staged_id_dtype", widen_late)
    rename, stopped, armed = Path.rename, [], []

    def stop_between(self, target):  # the second rename (wide/0 -> 0), once armed
        if self.parent.name == "wide" and armed and not stopped:
            stopped.append(self)
            raise KeyboardInterrupt
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", stop_between)
    slide = _slide(tmp_path / "p.tif", pages=3, h=96, w=64)
    net, objects = local_net(), dict(objects=ObjectOptions.for_model, save_probabilities=True)
    whole = Stop()
    _predict(net, slide, tmp_path / "whole", whole, **objects)
    assert len(calls) == 3  # a band a page
    armed.append(1), calls.clear()
    with pytest.raises(KeyboardInterrupt):
        _predict(net, slide, tmp_path / "out", Stop(), **objects)
    assert stopped and not (stopped[0].parent.parent / "0").exists()  # stopped in between
    again = Stop()
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        _predict(net, slide, tmp_path / "out", again, **objects)
    assert not any("discarded" in m for m in caplog.messages), caplog.messages
    assert any(m.startswith(f"resuming {slide} ") for m in caplog.messages), caplog.messages
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")
    assert again.tiles < whole.tiles


def _widen_from(monkeypatch, band: int) -> tuple[list, list]:
    """Provisional ids staged as uint64 from a run's ``band``-th band on (forced: ids past
    2**32 - 1 need a giant slide); returns (the bands, cleared for the next run; the
    ``written`` (page, rows) of each widening)."""
    calls, narrow, widenings = [], slide_objects.staged_id_dtype, []

    def widen_late(largest, staged):
        calls.append(1)
        return np.dtype(np.uint64) if len(calls) >= band else narrow(largest, staged)

    def widened(stage, ids, spec, written):
        widenings.append(written)
        return real_widened(stage, ids, spec, written)

    real_widened = slide_objects.widened
    monkeypatch.setattr(slide_objects, "staged_id_dtype", widen_late)
    monkeypatch.setattr(slide_objects, "widened", widened)
    return calls, widenings


def test_ids_widened_mid_page_equal_a_plain_runs(tmp_path, small_chunks, caplog, monkeypatch):
    """Widened at a page's 2nd band of 32 rows, its first chunk row already written (the
    widening tests before widened at a page's start only, review s54): the copy keeps page
    0 whole and page 1's written rows, straight on and where a stop fell between the
    renames that put it in place (the rerun resumes); the outputs equal a plain run's."""
    monkeypatch.setattr(slide_objects, "OBJECT_BAND_ROWS", 32)
    monkeypatch.setattr(slide_objects, "band_rows", lambda margin: 32)
    slide = _slide(tmp_path / "p.tif", pages=2, h=96, w=64)
    net, objects = local_net(), dict(objects=ObjectOptions.for_model, save_probabilities=True)
    _predict(net, slide, tmp_path / "plain", Stop(), **objects)
    calls, widenings = _widen_from(monkeypatch, 5)  # page 1's 2nd band (3 bands a page)
    _predict(net, slide, tmp_path / "wide", Stop(), **objects)
    assert len(calls) == 6 and widenings == [
        (1, 32)
    ]  # mid-page: rows 0..31 of page 1 written narrow
    plain = _outputs(tmp_path / "plain")
    assert _outputs(tmp_path / "wide") == plain
    rename, stopped = Path.rename, []

    def stop_between(self, target):  # the second rename (wide/0 -> 0)
        if self.parent.name == "wide" and not stopped:
            stopped.append(self)
            raise KeyboardInterrupt
        return rename(self, target)

    calls.clear(), widenings.clear()
    monkeypatch.setattr(Path, "rename", stop_between)
    with pytest.raises(KeyboardInterrupt):
        _predict(net, slide, tmp_path / "out", Stop(), **objects)
    assert stopped and widenings == [(1, 32)]
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        _predict(net, slide, tmp_path / "out", Stop(), **objects)
    assert any(m.startswith(f"resuming {slide} ") for m in caplog.messages), caplog.messages
    assert _outputs(tmp_path / "out") == plain


def test_a_slide_kept_for_a_staging_it_cannot_resume_counts_as_skipped(
    tmp_path, small_chunks, monkeypatch
):
    """The slide skipped for its outputs there, its staging kept for the stopped run's own
    command, is counted as skipped in the run's summary, not written (s66: "1 written")."""
    net, slide, _ = _replacing_stopped(tmp_path)
    monkeypatch.setattr(slide_resume, "_commit", lambda: "1" * 40)
    done = predict_folder(net, [slide], tmp_path / "out", skip_existing=True, **_STREAMED)
    assert done.skipped == [slide] and not done.written and done.pixels == 0, done
    last = json.loads((tmp_path / "out" / "predict.json").read_text())["last_run"]
    assert list(last["skipped"]) == [str(slide)], last


@pytest.mark.parametrize("names", [("s2", "s1"), ("s1", "s2")], ids=["on-rank-1", "on-rank-0"])
def test_a_slide_kept_in_another_process_is_kept_and_counted_skipped(
    tmp_path, small_chunks, monkeypatch, names
):
    """--nproc 2 --instances: a slide streamed alone by rank 1, its outputs there and a
    stopped run's staging this command cannot resume, is kept there as in the main
    process and counted skipped (s66 review: rank 1, which held no input, discarded the
    staging and replaced the outputs: "2 written, 0 skipped")."""
    net, out = local_net(), tmp_path / "out"
    how = dict(objects=ObjectOptions.for_model, save_probabilities=True, **_STREAMED)
    kept, new = (_slide(tmp_path / f"{name}.tif") for name in names)  # s1.tif to rank 0
    predict_folder(net, [kept], out, **how)
    older = os.stat(out / kept.name).st_mtime_ns
    with pytest.raises(KeyboardInterrupt):
        predict_file(net, kept, out, progress=Stop(24), **how)
    monkeypatch.setattr(slide_resume, "_commit", lambda: "1" * 40)
    results: list = [None, None]

    def run(group):
        done = predict_folder(net, sorted([new, kept]), out, skip_existing=True, group=group, **how)
        results[group.rank] = done

    two_ranks(run)
    assert results[0].skipped == [kept] and list(results[0].written) == [new], results[0]
    assert results[1].skipped == [kept] and list(results[1].written) == [new], results[1]
    assert os.stat(out / kept.name).st_mtime_ns == older
    assert (out / f".{kept.name}.partial").is_dir()
    last = json.loads((out / "predict.json").read_text())["last_run"]
    assert list(last["skipped"]) == [str(kept)], last


def test_a_slide_without_outputs_costs_one_exchange_for_the_look_before(
    tmp_path, small_chunks, monkeypatch
):
    """s67: a slide's look at a stopped run's outputs (published, or kept for a staging it
    cannot resume) was two exchanges where none were found (a third with the slide's
    end): one now, shared as a pair (5 exchanges a slide before, 4 now)."""
    net, slide = local_net(), _slide(tmp_path / "s.tif")
    shared = []
    own = _Threads.share

    def counted(self, obj):
        if self.rank == 0:
            shared.append(obj)
        return own(self, obj)

    monkeypatch.setattr(_Threads, "share", counted)
    assert _two_ranks(net, slide, tmp_path / "out", [Stop(), Stop()]) == [None, None]
    # the look (one pair), the staging begun or resumed, the bands written, the slide's end
    assert shared == [(None, False), False, None, None], shared


@pytest.mark.parametrize("text", ["[1, 2]", '"labels"', "null", "{not json"])
def test_a_staging_record_that_is_no_dict_is_no_record(tmp_path, text):
    """A staging whose record is JSON but no object (a list, a string: another program's,
    a damaged write) is told as holding no record, the staging started again, as one that
    is no JSON (s75: json.loads read by hand, then .get on a list: AttributeError, a
    traceback)."""
    from unetlab.inference.slide_resume import RECORD, mismatch

    stage = tmp_path / "labels"
    (stage / "0").mkdir(parents=True)
    (stage / "0" / ".zarray").write_text("{}")
    (stage / RECORD).write_text(text)
    said = mismatch({"labels": stage}, {"record": {}})
    assert said == "it holds no record of what made it (an older unetlab, or killed at its start)"
