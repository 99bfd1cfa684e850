"""A resumed slide says where it resumes, once, from the main process: with --nproc 2 each
process said its own band's line and the others' were silenced, so a run whose main
process had recorded no row (its band the slower) said none; and the main process whose
band was done said "a killed run predicted every row" while another's was not (s48)."""

import json
import logging
import time

import pytest

from tests.test_predict_objects import local_net
from tests.test_slide_resume import (  # noqa: F401
    Stop,
    _outputs,
    _slide,
    _two_ranks,
    pinned_version,
    small_chunks,
    threads_hub,
)
from unetlab.data import ome
from unetlab.inference import slide_resume
from unetlab.inference.slide_resume import resumed_line

FRAMES = (3, lambda p: f"frame {p}")


def test_one_process_says_its_first_row_not_done():
    assert resumed_line("s.tif", 600, FRAMES, [(1, 0, 0, 600)]) == (
        "resuming s.tif at row 0 of 600, frame 1 (2 of 3)"
    )
    assert resumed_line("s.tif", 600, (1, str), [(0, 512, 0, 600)]) == (
        "resuming s.tif at row 512 of 600"
    )
    assert resumed_line("s.tif", 600, FRAMES, [(0, 0, 0, 600)]) is None  # none done


def test_processes_say_the_earliest_row_not_done_and_the_rows_done():
    # the main process (rows 0-511) recorded none, the other (512-599) two frames
    bands = [(0, 0, 0, 512), (2, 512, 512, 600)]
    assert resumed_line("s.tif", 600, FRAMES, bands) == (
        "resuming s.tif at row 0 of 600, frame 0 (1 of 3) (176 of 1,800 rows done)"
    )
    bands = [(3, 0, 0, 512), (1, 512, 512, 600)]  # the main process's band is done
    assert resumed_line("s.tif", 600, FRAMES, bands) == (
        "resuming s.tif at row 512 of 600, frame 1 (2 of 3) (1,624 of 1,800 rows done)"
    )
    done = [(3, 0, 0, 512), (3, 512, 512, 600), (0, 600, 600, 600)]  # and an empty band
    assert resumed_line("s.tif", 600, FRAMES, done) == (
        "s.tif: a killed run predicted every row: publishing its outputs"
    )


@pytest.mark.usefixtures("small_chunks")
def test_a_group_whose_main_process_recorded_no_row_says_it_resumes(tmp_path, caplog):
    net, slide = local_net(), _slide(tmp_path / "s.tif")
    assert _two_ranks(net, slide, tmp_path / "whole", [Stop(), Stop()]) == [None, None]
    _two_ranks(net, slide, tmp_path / "out", [Stop(), Stop(24)])
    stage = tmp_path / "out" / ".s.tif.partial"
    # as if the main process was killed before it recorded its first rows
    (stage / "unetlab-rows.0.json").write_text(json.dumps({"page": 0, "row": 0, "stats": None}))
    other = json.loads((stage / "unetlab-rows.1.json").read_text())
    start = ome.chunk_rows(160, 2, 1)[0]  # the other process's band: rows 64-159
    assert other["row"] > start  # it recorded rows
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        assert _two_ranks(net, slide, tmp_path / "out", [Stop(), Stop()]) == [None, None]
    said = [m for m in caplog.messages if m.startswith("resuming ")]  # a file alone: its path
    done = other["row"] - start
    assert said == [f"resuming {tmp_path / 's.tif'} at row 0 of 160 ({done} of 160 rows done)"]
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")


@pytest.mark.usefixtures("small_chunks")
def test_the_line_counts_the_rows_done_before_the_run(tmp_path, caplog, monkeypatch):
    """The main process read the others' records when it came to say the line: one that
    had started predicting by then had recorded rows of this run, counted as done before it
    (s49 nprocedge 4). Here the main process reads its record late, once the other has
    recorded a row or waits for it."""
    net, slide = local_net(), _slide(tmp_path / "s.tif")
    _two_ranks(net, slide, tmp_path / "out", [Stop(), Stop(24)])
    stage = tmp_path / "out" / ".s.tif.partial"
    (stage / "unetlab-rows.0.json").write_text(json.dumps({"page": 0, "row": 0, "stats": None}))
    before = (stage / "unetlab-rows.1.json").read_text()
    start = ome.chunk_rows(160, 2, 1)[0]  # the other process's band: rows 64-159
    assert json.loads(before)["row"] > start  # it recorded rows
    hub = threads_hub()

    class Late(slide_resume.Progress):
        def __init__(self, stage, rank, rows, *, resumed):
            super().__init__(stage, rank, rows, resumed=resumed)
            deadline = time.monotonic() + 60
            while rank == 0 and time.monotonic() < deadline and not hub.barrier.n_waiting:
                if (stage / "unetlab-rows.1.json").read_text() != before:
                    break
                time.sleep(0.01)

    monkeypatch.setattr(slide_resume, "Progress", Late)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        assert _two_ranks(net, slide, tmp_path / "out", [Stop(), Stop()], hub) == [None, None]
    said = [m for m in caplog.messages if m.startswith("resuming ")]  # a file alone: its path
    done = json.loads(before)["row"] - start
    assert said == [f"resuming {tmp_path / 's.tif'} at row 0 of 160 ({done} of 160 rows done)"]
