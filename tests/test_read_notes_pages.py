"""A stack read page by page notes each page's left-out pixels; the share said is the
stack's, its pages' counts added up (data/read_notes.py, review s47: the last page's was)."""

from __future__ import annotations

import pytest

from unetlab.data import read_notes as rn


def test_the_share_is_the_pages_added_up_whichever_process_read_them():
    with rn.read_notes() as outer:
        with rn.read_notes():  # a file's gathering, nested
            rn.note_left_out_page("s.tif", (0, 3), (0, 100), "nodata")
            rn.note_left_out_page("s.tif", (1, 3), (100, 100), "nodata")
        rn.note_left_out_page("s.tif", (2, 3), (20, 100), "nodata")
        handed = rn.handed_notes()  # another process's, handed to the main one
        assert outer.paged == {} and outer.shares() == {}
        rn.note_left_out_page("s.tif", (1, 3), (100, 100), "nodata")  # read by both
        rn.take_notes(handed)
        assert outer.shares() == {"s.tif": (pytest.approx(0.4), "nodata")}


def test_pages_without_any_are_counted_and_a_stack_without_any_is_not_noted():
    with rn.read_notes() as notes:
        rn.note_left_out_page("a.tif", (0, 2), (0, 50), "nodata")
        rn.note_left_out_page("a.tif", (1, 2), (0, 50), "nodata")
        assert notes.shares() == {}
        rn.note_left_out_page("b.tif", (0, 2), (0, 50), "transparent")
        rn.note_left_out_page("b.tif", (1, 2), (5, 50), "transparent")
    assert notes.shares() == {"b.tif": (0.05, "transparent")}


def test_a_resumed_run_that_read_some_pages_says_of_how_many():
    """A resumed run keeps the statistics of the pages done before from the killed run's
    record and reads none of them: the share is of the pages it read, and says so."""
    with rn.read_notes() as notes:
        rn.note_left_out_page("s.tif", (2, 3), (25, 100), "nodata")
    share, kind = notes.shares()["s.tif"]
    assert share == 0.25
    assert kind == "nodata of the 1 of 3 pages this run read (the run it resumes read the others)"
    line = rn.left_out_line(notes.shares())
    assert "(s.tif 25% nodata of the 1 of 3 pages this run read" in line
