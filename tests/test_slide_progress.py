"""Progress of a streamed slide (audit s30 slides 5): the tile bar has its total (so tqdm shows
an ETA), and where no bar is shown a plain log line every 10 % or minute says the tiles done,
the time so far and the time left."""

from __future__ import annotations

import contextlib
import io
import logging
import re

import numpy as np
import pytest
import tifffile
from tqdm import tqdm

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.data.ome import Level
from unetlab.inference import slide_progress
from unetlab.inference.files import predict_file
from unetlab.inference.slide_progress import (
    TileProgress,
    counted,
    duration,
    fitted,
    level_step,
    levels_left,
)


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _clocked_bar(clock: _Clock, file=None, ncols=None, **options) -> tqdm:
    """A shown tqdm bar of 40 tiles on ``clock`` (its time its own, as long on a loaded
    CPU), drawn to ``file`` (else nowhere kept) ``ncols`` wide, with tqdm's ``options``."""
    options = dict(total=40, mininterval=0, miniters=1) | options
    bar = tqdm(file=file or io.StringIO(), disable=False, ncols=ncols, **options)
    bar._time = clock
    bar.start_t = bar.last_print_t = clock()
    return bar


def _drawn(out: io.StringIO, key: str) -> list[str]:
    """The counts and times of the frames drawn to ``out`` of a bar saying ``key``, without
    the moves up to its line (a bar below others not closed by earlier tests)."""
    frames = out.getvalue().replace("\x1b[A", "").split("\r")
    return [f.rsplit("|", 1)[-1].rstrip() for f in frames if key in f]


def test_lines_every_tenth_or_minute_with_the_time_left(caplog):
    clock = _Clock()
    counted = []
    progress = TileProgress("s.tif", 200, counted.append, clock=clock)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        for _ in range(100):
            clock.now += 1.0
            progress(2)
    lines = [r.getMessage() for r in caplog.records]
    assert sum(counted) == 200 and len(lines) == 10
    assert lines[0] == "s.tif: 20 of 200 tiles (10%), 10 s so far, about 1 min 30 s left"
    assert lines[-1].startswith("s.tif: 200 of 200 tiles (100%), 1 min 40 s so far")
    slow = TileProgress("s.tif", 1000, clock=clock)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        clock.now += 61
        slow(1)  # a minute passed: a line, though 0.1 % are done
    assert [r.getMessage() for r in caplog.records] == [
        "s.tif: 1 of 1000 tiles (0%), 1 min 01 s so far, about 16 h 55 min left"
    ]


def test_a_shown_bar_gets_the_total_and_no_lines(caplog):
    bar = tqdm(file=io.StringIO(), disable=False)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        progress = TileProgress("s.tif", 40, bar.update)
        progress(40)
    assert bar.total == 40 and bar.n == 40 and not caplog.records
    hidden = tqdm(file=io.StringIO(), disable=True)  # off a terminal: lines instead
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        TileProgress("s.tif", 40, hidden.update)(40)
    assert "40 of 40 tiles (100%)" in caplog.records[-1].getMessage()


def test_duration_words():
    assert [duration(s) for s in (4.4, 65, 3725, float("nan"))] == [
        "4 s",
        "1 min 05 s",
        "1 h 02 min",
        "?",
    ]


def test_a_streamed_slide_logs_its_tiles(tmp_path, caplog):
    tifffile.imwrite(tmp_path / "big.tif", nuclei_image(120, 90, seed=2))
    with caplog.at_level(logging.INFO):
        predict_file(local_net(), tmp_path / "big.tif", tmp_path / "o", large_threshold=100)
    said = [r.getMessage() for r in caplog.records if "tiles (" in r.getMessage()]
    head = f"{tmp_path / 'big.tif'}: "  # a file given alone: by its path
    assert said and said[-1].startswith(head) and "(100%)" in said[-1]
    total = int(said[-1].split(" of ")[1].split()[0])
    assert total == int(said[-1].removeprefix(head).split()[0]) > 0
    assert np.all(tifffile.imread(tmp_path / "o" / "big.tif") >= 0)
    # its outputs are still to write: not "about 0 s left" (s55)
    assert said[-1].endswith("so far; still to come: writing the outputs"), said[-1]


def test_the_last_tiles_line_says_the_work_to_come_not_0_s_left(caplog):
    """At its last tile a 4096² slide's line said "about 0 s left" at 1:33 of its 3:00:
    its objects and its outputs' pyramids were still to come (s55)."""
    clock = _Clock()
    after = "the objects, writing the outputs"
    progress = TileProgress("s.tif", 20, clock=clock, after=after)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        for _ in range(2):
            clock.now += 45
            progress(10)
    assert caplog.messages == [
        "s.tif: 10 of 20 tiles (50%), 45 s so far, about 45 s left",
        "s.tif: 20 of 20 tiles (100%), 1 min 30 s so far; "
        "still to come: the objects, writing the outputs",
    ]


def test_a_resumed_slides_bar_starts_at_the_tiles_done(caplog):
    bar = tqdm(file=io.StringIO(), disable=False)
    progress = TileProgress("s.tif", 40, bar.update, done=30)
    assert bar.total == 40 and bar.n == 30
    progress(10)
    assert bar.n == 40
    clock = _Clock()
    hidden = TileProgress("s.tif", 100, done=60, clock=clock)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        clock.now += 20
        hidden(10)  # 10 tiles in 20 s: 30 left, 60 s (not the 30 done before counted)
    assert caplog.messages == ["s.tif: 70 of 100 tiles (70%), 20 s so far, about 1 min 00 s left"]


def test_an_all_nodata_pages_tiles_count_so_the_bar_ends_full(tmp_path, monkeypatch):
    """A page with no valid pixel is not predicted: its tiles are counted done, not left
    out of the count, so the bar reaches its total."""
    from unetlab.data import ome

    monkeypatch.setattr(ome, "CHUNK", 16)
    pages = np.zeros((2, 70, 60), np.uint8)
    pages[1] = nuclei_image(70, 60, seed=3).clip(1, None)  # page 2 valid
    tag = [(42113, "s", 0, "0", True)]
    tifffile.imwrite(tmp_path / "e.tif", pages, photometric="minisblack", extratags=tag)
    for name, image in (("two", tmp_path / "e.tif"), ("one", tmp_path / "z.tif")):
        if name == "one":
            tifffile.imwrite(image, pages[0], photometric="minisblack", extratags=tag)
        bar = tqdm(file=io.StringIO(), disable=False)
        how = dict(large_threshold=100, progress=bar.update)
        predict_file(local_net(), image, tmp_path / name, **how)
        assert bar.total > 0 and bar.n == bar.total, name


def test_the_bar_says_the_objects_found_between_rows_of_tiles():
    """A row of tiles' objects are found before the next row's first tile: on a wide slide
    over 20 s a row of tiles on 2 cores, the tile count standing still (new-user s46: the
    bar looked hung). The bar says how far the objects are as each band of them is done."""
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from unetlab.inference.objects import ObjectOptions

    with TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tifffile.imwrite(tmp / "w.tif", nuclei_image(600, 150, seed=4))
        out = io.StringIO()
        bar = tqdm(file=out, disable=False, mininterval=0)
        how = dict(large_threshold=100, progress=bar.update, tile_size=64)
        with _on_no_clock():
            predict_file(local_net(), tmp / "w.tif", tmp / "o", objects=ObjectOptions(), **how)
    said, _, last = out.getvalue().partition("w.tif: objects of the last rows")
    rows = {int(part.split()[0]) for part in said.split("objects found to row ")[1:]}
    assert len(rows) >= 3 and max(rows) < 600, said[-300:]
    # the last rows' bar counts the rows, its postfix not again ("600/600 [..., objects
    # found to row 600 of 600]": s48)
    assert "600/600" in last and "objects found" not in last, last
    assert " 0/600 " not in last, last  # begun at the rows done (s48)


def test_no_steps_last_line_says_0_s_left(caplog):
    """The last unit of a step after the tiles ("600 of 600 rows") and a 100% line with no
    work named after it said "about 0 s left" (review s56): they say nothing of what is
    left, the next step's line says what comes."""
    clock = _Clock()
    progress = TileProgress("s.tif", 10, clock=clock, after="the objects")
    plain = TileProgress("p.tif", 10, clock=clock)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        clock.now += 30
        progress(10)
        plain(10)
        progress.objects(100, 600)
        clock.now += 61
        progress.objects(600, 600)
        told = progress.told("s_objects.tif")
        told("numbering, measuring", 0, 5)
        clock.now += 61
        told("numbering, measuring", 5, 5)
    assert caplog.messages[1] == "p.tif: 10 of 10 tiles (100%), 30 s so far"
    assert (
        caplog.messages[3] == "s.tif: objects of the last rows, 600 of 600 rows, 1 min 01 s so far"
    )
    assert (
        caplog.messages[-1]
        == "s_objects.tif: numbering, measuring, 5 of 5 bands, 1 min 01 s so far"
    )
    assert not [m for m in caplog.messages if "0 s left" in m]


def test_the_lines_say_the_objects_once_a_minute(caplog):
    clock = _Clock()
    progress = TileProgress("s.tif", 100, clock=clock)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        clock.now += 5
        progress(5)  # 5 %: no line
        clock.now += 30
        progress.objects(256, 4096)  # half a minute: no line
        clock.now += 30
        progress.objects(512, 4096)
    assert caplog.messages == [
        "s.tif: 5 of 100 tiles (5%), objects found to row 512 of 4096, 1 min 05 s so far, "
        "about 20 min 35 s left"
    ]


def test_the_tiles_count_batch_by_batch_not_row_by_row(tmp_path):
    """The tile count moves as each batch of tiles is predicted, not once a row of tiles
    (what new-user s46 took the still bar for: it was the objects, above)."""
    tifffile.imwrite(tmp_path / "r.tif", nuclei_image(200, 400, seed=5))
    calls = []
    how = dict(large_threshold=100, progress=calls.append, tile_size=64, batch_size=2)
    predict_file(local_net(), tmp_path / "r.tif", tmp_path / "o", **how)
    assert len(calls) > 8 and set(calls[:-1]) == {2} and calls[-1] in (1, 2)


def test_a_page_of_a_stack_does_not_say_the_objects_of_the_page_before(caplog):
    """A stack's page 2 said 'objects found to row 4096 of 4096' (page 1's, its own not
    yet begun) on its lines and bar until its first band of objects."""
    clock = _Clock()
    progress = TileProgress("s.tif", 100, clock=clock)
    progress.page("frame 0 (1 of 2)")
    progress.objects(4096, 4096)
    progress.page("frame 1 (2 of 2)")
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        clock.now += 5
        progress(60)
    assert caplog.messages and "objects found" not in caplog.messages[0], caplog.messages
    out = io.StringIO()
    bar = tqdm(file=out, disable=False, mininterval=0)
    shown = TileProgress("s.tif", 100, bar.update)
    shown.page("frame 0 (1 of 2)")
    shown.objects(4096, 4096)
    shown.page("frame 1 (2 of 2)")
    shown(1)
    assert "objects found" not in out.getvalue().rsplit("\r", 1)[-1]


def test_the_work_after_the_tiles_is_said_phase_by_phase(tmp_path):
    """After the last tile the objects' last rows, numbering and measuring them and each
    output's pyramid and OME-TIFF writes took 10 s of a 4096² slide (minutes of a large one)
    with the tile bar at 100% and "0 s left" (s47): the bar becomes each phase's, with its
    own count (and so its own time left); a semantic model's "finding the ids" (its lookup
    staged: nothing to read) reaches its count, where it stayed at 0 of 2."""
    from unetlab.inference.objects import ObjectOptions

    tifffile.imwrite(tmp_path / "w.tif", nuclei_image(600, 150, seed=4))
    out = io.StringIO()
    bar = tqdm(file=out, disable=False, mininterval=0)
    how = dict(large_threshold=100, progress=bar.update, tile_size=64, draw_overlay=True)
    how.update(outlines="geojson")
    with _on_no_clock():
        predict_file(
            local_net(), tmp_path / "w.tif", tmp_path / "o", objects=ObjectOptions(), **how
        )
    tiles, _, after = out.getvalue().partition("w.tif: objects of the last rows")
    assert after and "it/s" in tiles  # the tile bar's first, then the phases
    assert "w_objects.tif: finding the ids of its objects: 100%" in after, after[-2000:]
    for phase in (  # the overlay after the objects: drawn from their final ids
        "w_objects.tif: finding the ids of its objects",
        "w_objects.tif: numbering, measuring",
        "w_objects: outlines (GeoJSON)",  # the bar's words, short
        "w_objects.tif: pyramid level 1 of levels 0 to 1",
        "w_objects.tif: writing level 0 of levels 0 to 1",
        "w_overlay.png: reading",
        "w_overlay.png: drawing",
        "w.tif: pyramid level 1 of levels 0 to 1",
        "w.tif: writing level 1 of levels 0 to 1",
    ):
        assert phase in after, (phase, after[-600:])
        after = after.split(phase, 1)[1]  # in this order


def test_a_phase_without_a_bar_is_a_line_a_minute_with_its_time_left(caplog):
    clock = _Clock()
    progress = TileProgress("s.tif", 10, clock=clock)
    progress(10)
    told = progress.told("s_objects.tif")
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        told(Level("writing level", 0, 2), 0, 8)
        clock.now += 30
        told(Level("writing level", 0, 2), 2, 8)  # half a minute since the tiles' line: none
        clock.now += 40
        told(Level("writing level", 0, 2), 7, 8)
        progress.phase("s.tif: objects of the last rows", 4, 8, unit="row")  # begun at row 4
        clock.now += 60
        progress.phase("s.tif: objects of the last rows", 6, 8, unit="row")
    assert caplog.messages == [  # each step's start, then its time left once a minute
        "s_objects.tif: writing levels 0 to 2",
        # the whole step's time left: its level 0 10 s, levels 1 and 2 a quarter and a
        # sixteenth of level 0's 80 s (s48: 10 s, level 0's alone)
        "s_objects.tif: writing levels 0 to 2, level 0 (7 of 8 bands), 1 min 10 s so far, "
        "about 35 s left",
        "s.tif: objects of the last rows",
        "s.tif: objects of the last rows, 6 of 8 rows, 1 min 00 s so far, about 1 min 00 s left",
    ]
    out = io.StringIO()
    bar = tqdm(file=out, disable=False, mininterval=0)
    shown = TileProgress("s.tif", 4, bar.update)
    shown(4)
    shown.told("s.tif")(Level("pyramid level", 2, 3), 3, 5)
    assert (bar.total, bar.n, bar.desc) == (5, 3, "s.tif: pyramid level 2 of levels 0 to 3: ")


def test_without_a_bar_an_outputs_levels_are_one_line_a_step(caplog):
    """A 6-level slide's log (no bar) said each pyramid level and each level's write, 11
    lines an output, ~30 after its last tile (s48): one line for an output's pyramid, one
    for its writes, and a level's time left where it runs a minute. Its levels are
    numbered from 0 as --level reads them (the pyramid's were 1 to 5, its writes' 1 to 6:
    s54)."""
    clock = _Clock()
    progress = TileProgress("big.tif", 10, clock=clock)
    progress(10)
    told = progress.told("big.tif")
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        for what, first, bands in (("pyramid level", 1, 4), ("writing level", 0, 4)):
            for level in range(first, 6):
                for band in range(bands + 1):
                    told(Level(what, level, 5), band, bands)
                    clock.now += 20 if (what, level) == ("pyramid level", 3) else 1
    assert caplog.messages == [
        "big.tif: pyramid levels 1 to 5",
        # the step's time so far and left (levels 1 and 2 took 10 s, level 3's bands 20 s)
        "big.tif: pyramid levels 1 to 5, level 3 (3 of 4 bands), 1 min 10 s so far, about 2 s left",
        "big.tif: writing levels 0 to 5",
    ]


def test_level_step():
    """The step of a level's work from its numbers, given (they were parsed back out of
    the text ome wrote: s49); a text that reads as a level is no level."""
    assert level_step(Level("pyramid level", 2, 5).named("a.tif")) == (
        "a.tif: pyramid levels to 5",
        "a.tif: pyramid levels 2 to 5",
    )
    assert level_step(Level("a.tif: writing level", 1, 1)) == (
        "a.tif: writing levels to 1",
        "a.tif: writing level 1 of levels 0 to 1",
    )
    assert (
        level_step(Level("a.tif: writing level", 0, 0))[1]
        == "a.tif: writing level 0 (its only level)"
    )
    named = str(Level("pyramid level", 2, 5).named("a.tif"))
    assert named == "a.tif: pyramid level 2 of levels 0 to 5"
    assert level_step("a_overlay.png: drawing") == ("a_overlay.png: drawing",) * 2
    assert level_step("a.tif: level 2 of 5") == ("a.tif: level 2 of 5",) * 2


def test_counted():
    """One wording of a page's place, for the bar, the page lines and the resume lines
    (built in three places before: s49)."""
    assert counted("frame 3", 4, 9) == "frame 3 (4 of 9)"
    assert counted("frame 1 plane 0", 2, 12) == "frame 1 plane 0 (2 of 12)"


def test_a_step_of_levels_time_left_is_the_whole_steps():
    """Each level's work is its pixels, a quarter of the level before's: a folded step's
    line said the time left of its current level alone (s48)."""
    assert levels_left((1, 1, 2), 0.5, 10.0) == 15.0  # level 1's other half, and level 2
    assert levels_left((1, 2, 2), 0.0, 20.0) == 5.0  # level 2 a quarter of level 1
    assert levels_left((2, 2, 2), 0.5, 4.0) == 4.0  # one level: its own rate
    assert levels_left((1, 3, 3), 1.0, 7.0) == 0.0
    assert np.isnan(levels_left((1, 1, 5), 0.0, 3.0))  # nothing done: nothing to go by


def _after_the_tiles(tmp_path, caplog, progress=None, outlines="geojson") -> list[str]:
    """The lines of a streamed slide's objects, outlines (``outlines``) and pyramids, with a
    shown bar's ``progress`` or none."""
    from unetlab.inference.objects import ObjectOptions

    tifffile.imwrite(tmp_path / "w.tif", nuclei_image(600, 150, seed=4))
    how = dict(large_threshold=100, progress=progress, tile_size=64, outlines=outlines)
    with caplog.at_level(logging.INFO), _on_no_clock():
        predict_file(
            local_net(), tmp_path / "w.tif", tmp_path / "o", objects=ObjectOptions(), **how
        )
    return caplog.messages


@contextlib.contextmanager
def _on_no_clock():
    """A slide predicted with its bar drawn at every step after the tiles and no line for
    a minute passed: what is drawn and said is the same on a loaded CPU as on an idle one
    (a step's frame at 1 of 181 outlines was drawn only where 0.1 s had passed, and an
    80-column test failed once in 10 runs under load, s67)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(slide_progress, "DRAW_SECONDS", 0.0)
        patch.setattr(slide_progress, "EVERY_SECONDS", float("inf"))
        yield


def test_without_a_bar_each_step_after_the_tiles_gets_its_line_once(tmp_path, caplog):
    """A log file (no bar) said a step only once a minute had passed in it: a large slide's
    log said nothing of the steps after its tiles; "numbering and measuring" was said twice
    (a line of its own and the step's) (s47)."""
    said = _after_the_tiles(tmp_path, caplog)
    for step in (
        "w_objects.tif: finding the ids of its objects",
        "w_objects.geojson: tracing the outlines of",
        "w_objects.tif: pyramid level 1 of levels 0 to 1",  # its only one, said as it is
        "w.tif: pyramid level 1 of levels 0 to 1",
        "w.tif: writing levels 0 to 1",  # one line for an output's levels, as --level counts
    ):
        assert sum(m.startswith(step) for m in said) == 1, (step, said)
    assert not any(m.startswith("w.tif: writing level 1 of") for m in said), said
    measuring = [m for m in said if "numbering, measuring" in m]
    assert len(measuring) == 1 and measuring[0].startswith("w_objects.tif: numbering"), said
    assert not any("tracing their outlines" in m for m in said)
    last = [m for m in said if "tiles (100%)" in m]
    assert last and last[-1].endswith("; still to come: the objects, writing the outputs"), said


def test_without_a_bar_outlines_in_both_formats_are_one_line(tmp_path, caplog):
    """--outlines both traces each object once and writes it to both files as it goes: the
    log said "tracing the outlines of" and "writing the ImageJ ROIs of" by turns, a line
    each per object (an 8,000² slide's level 2: 4,260 lines for 2,130 objects; new-user
    s65)."""
    said = _after_the_tiles(tmp_path, caplog, outlines="both")
    outlined = [m for m in said if "outlines of" in m or "ImageJ ROIs" in m]
    assert outlined == [m for m in said if m.startswith("w_objects.geojson: tracing")], said
    assert len(outlined) == 1 and "w_objects_rois.zip" in outlined[0], said


@pytest.mark.parametrize("columns", [80, 200])
def test_a_shown_bar_of_80_columns_keeps_the_outlines_count(tmp_path, caplog, columns):
    """--outlines both on a terminal: the bar's description held the log line's words
    ("w_objects.geojson: tracing the outlines of N objects (and their ImageJ ROIs,
    w_objects_rois.zip)"), which at 80 columns left no room for the count, percent and time
    left, and counted in "bands" (review s65); the zip is named in the log line only."""
    out = io.StringIO()
    bar = tqdm(file=out, disable=False, mininterval=0, ncols=columns)
    _after_the_tiles(tmp_path, caplog, bar.update, outlines="both")
    frames = {f for f in out.getvalue().split("\r") if "outlines (" in f}
    assert frames, out.getvalue()
    for frame in frames:
        assert frame.startswith("w_objects: outlines (GeoJSON + ImageJ ROIs): "), frame
        assert "rois.zip" not in frame, frame
        assert re.search(r"\d+/\d+ \[", frame), frame  # its count, after it the time
        assert "band" not in frame, frame
    if columns > 80:  # its rate, cut off at 80
        assert all(re.search(r"(object/s|s/object)\]", f) for f in frames), frames


@pytest.mark.parametrize("columns", [79, 80])  # an 80-column terminal's, as tqdm takes it
def test_every_bar_of_80_columns_keeps_its_time_left(tmp_path, caplog, columns):
    """--outlines both on a terminal of 80 columns: the outlines' bar was cut off before its
    time left ("...ImageJ ROIs):   0%| | 0/181 [00:", s66), the numbering step's too:
    every bar's description leaves room for its count and time left, a long name too, and
    each bar over an hour in (its times in hours, 4 characters longer: the time left of a
    slide's tiles was cut, "[1:06:40<2:35", s66 review)."""
    out = io.StringIO()
    name = "/a/long/folder/of/slides/" * 3 + "w.tif"
    bar = tqdm(desc=name, file=out, disable=False, mininterval=0, ncols=columns)
    _an_hour_in(bar)
    _after_the_tiles(tmp_path, caplog, bar.update, outlines="both")
    frames = [f.replace("\x1b[A", "").rstrip() for f in out.getvalue().split("\r")]
    frames = [f for f in frames if "%|" in f]  # of a total: not the first, nor cleared
    assert any(f.startswith("w_objects: outlines") for f in frames), frames
    for frame in frames:
        assert len(frame) <= columns, frame
        # its time left whole: of 1 of 181 outlines an hour in, 200 h ("<200:00:02")
        assert re.search(r"\d+/\d+ \[1:\d\d:\d\d<(\?|(\d+:)?\d\d:\d\d)", frame), frame


@pytest.mark.parametrize("columns", [79, 80])
@pytest.mark.parametrize("hours", [1, 10, 40])
def test_a_tile_bar_of_80_columns_keeps_its_time_left_of_hours_of_two_digits(columns, hours):
    """A slide's tile bar at 80 columns, its run hours long: the room for its time left
    held hours of one digit, and a 10 h+ run's lost its last ("[10:40:00<10:40:", s67)."""
    out = io.StringIO()
    name = "/a/long/folder/of/slides/" * 3 + "w.tif"
    bar = _clocked_bar(clock := _Clock(), out, columns, desc=name, smoothing=0)
    progress = TileProgress(name, 200, bar.update, clock=clock)
    clock.now += hours * 3600 + 2400  # half the tiles so far: as long again to go
    progress(100)
    frame = out.getvalue().split("\r")[-1].replace("\x1b[A", "").rstrip()
    bar.close()
    assert len(frame) <= columns, frame
    assert re.search(rf"100/200 \[{hours}:40:00<{hours}:40:00", frame), frame


@pytest.mark.parametrize("columns", range(30, 61))
def test_a_narrow_bar_shows_no_description_rather_than_dots(columns):
    """A terminal too narrow for a few characters of the description: the bar showed a bare
    "..." (s66 review, under about 36 columns); none now, else at least 8 characters."""
    bar = tqdm(total=181, file=io.StringIO(), disable=False, ncols=columns)
    said = fitted(bar, "w_objects: outlines (GeoJSON + ImageJ ROIs)")
    assert said == "" or (len(said) >= 8 and len(said.replace("...", "")) >= 5), said
    if columns <= 36:
        assert said == "", said


def _an_hour_in(bar, seconds: float = 4000) -> None:
    """``bar`` begun ``seconds`` ago, and each step's once it is reset to it."""
    reset = bar.reset
    bar.start_t -= seconds

    def begun_earlier(total=None):
        reset(total=total)
        bar.start_t -= seconds

    bar.reset = begun_earlier


def test_a_shown_bar_says_the_steps_and_the_log_does_not(tmp_path, caplog):
    bar = tqdm(file=io.StringIO(), disable=False, mininterval=0)
    said = _after_the_tiles(tmp_path, caplog, bar.update)
    assert not any("numbering" in m or "pyramid level" in m for m in said), said


def test_a_step_s_bar_never_shows_a_rate_below_0():
    """A step after one that began part-way (the objects' last rows from row 4) was first
    drawn '0/2 [00:00<-00:00, -1398101.33band/s]': its count from the step before's start."""
    out = io.StringIO()
    bar = tqdm(file=out, disable=False, mininterval=0)
    shown = TileProgress("s.tif", 4, bar.update)
    shown(4)
    shown.phase("s.tif: objects of the last rows", 4, 8, unit="row")
    shown.phase("s.tif: objects of the last rows", 8, 8, unit="row")
    shown.told("s_objects.tif")("finding the ids of its objects", 0, 2)
    frames = [f for f in out.getvalue().split("\r") if "finding the ids" in f]
    assert frames and not any("<-" in f or ", -" in f for f in frames), frames


def test_a_step_s_bar_starts_at_what_is_done():
    """The objects' last rows, begun with rows done: their bar's first frame showed 0/600
    before 600/600 (s48); its rate counts from the rows done (not 450 rows in 1 s)."""
    out = io.StringIO()
    bar = tqdm(file=out, disable=False, mininterval=0)
    shown = TileProgress("s.tif", 4, bar.update)
    shown(4)
    shown.phase("s.tif: objects of the last rows", 6, 8, unit="row")
    frames = [f for f in out.getvalue().split("\r") if "last rows" in f]
    assert frames and all(" 6/8 " in f for f in frames), frames
    shown.phase("s.tif: objects of the last rows", 8, 8, unit="row")
    assert " 8/8 " in out.getvalue().split("\r")[-1]
    bar.close()
    out = io.StringIO()  # begun at row 400 of 600, 50 rows a second: its rate those rows'
    bar = _clocked_bar(clock := _Clock(), out, 100, total=None)
    shown = TileProgress("s.tif", 4, bar.update, clock=clock)
    shown(4)
    for row in (400, 450):
        shown.phase("s.tif: objects of the last rows", row, 600, unit="row")
        clock.now += 1
    frames = _drawn(out, "last rows")
    assert frames[-1] == " 450/600 [00:01<00:03, 50.00row/s]", frames  # not 450.00row/s


def test_an_outputs_levels_are_counted_as_level_reads_them(tmp_path, caplog, monkeypatch):
    """A 4-level output's lines said 'pyramid levels 1 to 3', then 'writing levels 1 to 4'
    (s54): its levels are numbered from 0 as --level reads them back, in every line."""
    from unetlab.data import ome
    from unetlab.data.slides import open_slide
    from unetlab.errors import UnetlabError

    monkeypatch.setattr(ome, "CHUNK", 16)  # 120 x 90 px: levels of 120, 60, 30, 15 rows
    tifffile.imwrite(tmp_path / "big.tif", nuclei_image(120, 90, seed=2))
    with caplog.at_level(logging.INFO):
        predict_file(local_net(), tmp_path / "big.tif", tmp_path / "o", large_threshold=100)
    said = [m for m in caplog.messages if m.startswith("big.tif: ") and "levels" in m]
    assert said == ["big.tif: pyramid levels 1 to 3", "big.tif: writing levels 0 to 3"], said
    with open_slide(tmp_path / "o" / "big.tif", level=3) as slide:
        assert slide.levels == 4
    with pytest.raises(UnetlabError, match="choose level=0 to level=3") as err:
        open_slide(tmp_path / "o" / "big.tif", level=4)
    assert err.value.cli.endswith("choose --level 0 to 3")


def test_an_estimate_under_a_second_is_not_about_0_s(caplog):
    """A tile line whose time left rounds to 0 s said "about 0 s left" with work still to
    do (s57): "< 1 s left", as a stack's page lines say it."""
    clock = _Clock()
    progress = TileProgress("s.tif", 10, clock=clock)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        clock.now += 3
        progress(9)
    assert caplog.messages == ["s.tif: 9 of 10 tiles (90%), 3 s so far, < 1 s left"]


def test_a_resumed_runs_first_line_says_it_finds_the_objects_again(caplog):
    """A resumed slide's objects of the rows done before are found again before its first
    tile: its line says so, and no time left until this run's tiles are timed (it said
    "about ? left": new-user s65)."""
    clock = _Clock()
    progress = TileProgress("s.tif", 40, done=20, clock=clock)
    progress.found_again(64)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        clock.now += 61
        progress.objects(32, 160)
        progress.found_again_done()  # this run's tiles begin
        progress.objects(64, 160)
        clock.now += 10
        progress(10)
    # the time left of this run's tiles alone: 10 s for 10 tiles, 10 to go (it counted the
    # 61 s of finding again too: "about 1 min 11 s left", s66)
    assert caplog.messages == [
        "s.tif: 20 of 40 tiles (50%), finding again the objects of the 64 rows done before: "
        "row 32, 1 min 01 s so far; the time left once this run's tiles begin",
        "s.tif: 30 of 40 tiles (75%), objects found to row 64 of 160, 1 min 11 s so far, "
        "about 10 s left",
    ]


def _last_band_found_again(progress: TileProgress, clock: _Clock, *, taking: float) -> None:
    """A resumed slide of 40 tiles, 20 done before: the 64 rows done before found again in
    61 s, 2 tiles (the last band's margin) in 2 s, the last band's objects found again in
    ``taking`` s, then 10 tiles in 10 s."""
    progress.found_again(64)
    clock.now += 61
    progress.found_again_done()  # the staged rows read: this run's tiles begin
    clock.now += 2
    progress(2)  # the tiles of the last band's margin
    clock.now += taking
    progress.objects(64, 160)  # the last band's objects found again
    clock.now += 10
    progress(10)


def test_a_resumed_runs_time_left_leaves_out_the_last_band_found_again(caplog):
    """The objects of the last band of the rows done before need rows of this run's tiles
    below them (their margin): they are found again once those tiles are in, after the tile
    clock began, and their 30 s was counted as tiles' ("about 28 s left" for 8 tiles at 1 a
    second, s67): the clock begins again, and the tiles count from there, once they are
    found; a shown bar's rate too (10 tiles in 10 s: 1 a second)."""
    clock = _Clock()
    progress = TileProgress("s.tif", 40, done=20, clock=clock)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        _last_band_found_again(progress, clock, taking=30)
    assert caplog.messages == [
        "s.tif: 22 of 40 tiles (55%), 1 min 03 s so far, about 18 s left",
        "s.tif: 32 of 40 tiles (80%), objects found to row 64 of 160, 1 min 43 s so far, "
        "about 8 s left",
    ]
    bar = _clocked_bar(clock := _Clock())
    _last_band_found_again(
        TileProgress("s.tif", 40, bar.update, done=20, clock=clock), clock, taking=30
    )
    assert bar.format_dict["rate"] == pytest.approx(1.0)


def test_a_line_just_after_the_last_band_found_again_says_the_time_left_is_to_come(caplog):
    """Where the last band's objects found again take over a minute, the line then due has
    no tiles timed since the clock began again: it says the time left comes with the next
    tiles, not "once this run's tiles begin" with 22 of 40 done (s67 review)."""
    clock = _Clock()
    progress = TileProgress("s.tif", 40, done=20, clock=clock)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        _last_band_found_again(progress, clock, taking=70)
    assert caplog.messages[1:] == [
        "s.tif: 22 of 40 tiles (55%), objects found to row 64 of 160, 2 min 13 s so far; "
        "the time left once the next tiles are done",
        "s.tif: 32 of 40 tiles (80%), objects found to row 64 of 160, 2 min 23 s so far, "
        "about 8 s left",
    ]


def test_a_resumed_bars_rate_begins_with_this_runs_tiles():
    """A shown bar's rate (and so its time left) is this run's tiles' alone, not the
    finding again of the rows done before: 10 tiles in 10 s after 61 s of it, 10 to go;
    its time so far is the run's, 71 s."""
    clock = _Clock()
    bar = _clocked_bar(clock)
    progress = TileProgress("s.tif", 40, bar.update, done=20, clock=clock)
    progress.found_again(64)
    clock.now += 61
    progress.found_again_done()
    clock.now += 10
    progress(10)
    assert bar.format_dict["rate"] == pytest.approx(1.0)
    assert bar.format_dict["elapsed"] == pytest.approx(71.0)  # the bar's time is the run's


def test_a_resumed_slide_with_objects_tells_its_bar_the_rows_found_again(tmp_path, monkeypatch):
    """End to end: a resumed slide whose objects are found again from its staged
    probabilities tells its tile count the rows done before (their objects' lines, above)."""
    from tests.test_slide_resume import Stop, _predict, _slide, pinned_code
    from unetlab.data import ome
    from unetlab.inference import records, slide_resume, slides
    from unetlab.inference.objects import ObjectOptions

    monkeypatch.setattr(ome, "CHUNK", 32)  # as tests.test_slide_resume.small_chunks
    monkeypatch.setattr(slide_resume, "_commit", lambda: "0" * 40)
    monkeypatch.setattr(records, "code_identity", pinned_code)
    told, read, staged_rows = [], [0], slides._staged_rows

    def counted_rows(*args):  # the staged rows read so far
        for y, rows in staged_rows(*args):
            read[0] += rows.shape[-2]
            yield y, rows

    monkeypatch.setattr(slides, "_staged_rows", counted_rows)
    monkeypatch.setattr(TileProgress, "found_again", lambda self, rows: told.append(rows))
    monkeypatch.setattr(TileProgress, "found_again_done", lambda _: told.append(("read", read[0])))
    net, slide = local_net(), _slide(tmp_path / "s.tif")
    objects = dict(objects=ObjectOptions.for_model, save_probabilities=True)
    with pytest.raises(KeyboardInterrupt):
        _predict(net, slide, tmp_path / "out", Stop(36), **objects)  # at row 96 of 160
    assert told == []
    _predict(net, slide, tmp_path / "out", Stop(), **objects)
    assert told == [96, ("read", 96)]  # once the 96 staged rows are read: this run's tiles


def test_a_resumed_bars_frames_count_its_rate_from_this_runs_tiles():
    """The bar of a slide resumed at 20 of 40 tiles, as drawn (on a clock of its own): it
    starts at 20, its rate from this run's tiles only (not 30 tiles in 10 s: 3.00it/s;
    nor, time passed before the resume, the 20 done before as a rate sample); drawn
    through tqdm's public update, where it set the undocumented ``last_print_n`` (s67
    noticed)."""
    clock, out = _Clock(), io.StringIO()
    bar = _clocked_bar(clock, out, 80)
    out.seek(0), out.truncate()  # its frame at 0, as tqdm draws it made
    clock.now += 2  # the slide opened, its staged rows read: no tiles counted in them
    progress = TileProgress("s.tif", 40, bar.update, done=20, clock=clock)
    clock.now += 10
    progress(10)
    clock.now += 5
    progress(5)
    frames = _drawn(out, "/40")
    assert frames == [
        " 20/40 [00:02<?, ?it/s]",
        " 30/40 [00:12<00:10,  1.00it/s]",
        " 35/40 [00:17<00:05,  1.00it/s]",
    ], frames


def test_a_resumed_bar_with_a_delay_counts_its_rate_from_this_runs_tiles():
    """A user's bar with tqdm's ``delay`` (nothing drawn in its first seconds) on a slide
    resumed at 20 of 40 tiles, 1 tile a second: its first frame after the delay said
    '25/40 [00:05<00:03, 5.00it/s]', the 20 done before counted as this run's (s68
    review); it counts this run's 5 tiles in 5 s."""
    out = io.StringIO()
    bar = _clocked_bar(clock := _Clock(), out, 80, delay=5)
    progress = TileProgress("s.tif", 40, bar.update, done=20, clock=clock)
    for _ in range(5):
        clock.now += 1
        progress(1)
    frames = _drawn(out, "/40")
    assert frames[-1] == " 25/40 [00:05<00:15,  1.00it/s]", frames


@pytest.mark.parametrize("again", [False, True], ids=["opened", "found-again"])
def test_a_resumed_bar_of_average_rate_counts_this_runs_tiles_alone(again):
    """A user's bar with tqdm's ``smoothing=0`` (its rate the tiles since ``initial`` over its
    time so far) on a slide resumed at 20 of 40 tiles, 1 tile a second after 61 s of opening
    it or finding its objects again: it said 0.14 it/s and 1 min 11 s left for 10 s; its
    time so far is this run's tiles', as its rate must be."""
    clock = _Clock()
    bar = _clocked_bar(clock, smoothing=0)
    if not again:
        clock.now += 61  # the slide opened, its staged rows read
    progress = TileProgress("s.tif", 40, bar.update, done=20, clock=clock)
    if again:
        progress.found_again(64)
        clock.now += 61
        progress.found_again_done()
    clock.now += 10
    progress(10)
    assert bar.format_dict["rate"] is None  # tqdm's average: (n - initial) / elapsed
    assert bar.format_dict["elapsed"] == pytest.approx(10.0)
    assert bar.format_dict["initial"] == 20 and bar.n == 30
    assert " 30/40 [00:10<00:10,  1.00it/s]" in str(bar)
