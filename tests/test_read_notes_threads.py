"""Two threads gathering read notes at once (a test's ranks predicting a folder each) keep
their own: ended out of order, they left a gathering active that took every later note."""

from __future__ import annotations

import threading

from unetlab.data import read_notes as rn


def test_threads_that_end_out_of_order_leave_no_gathering_behind(caplog):
    caplog.set_level("INFO", logger="unetlab.data.read_notes")
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first():
        with rn.read_notes():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with rn.read_notes():
            second_in.set()
            first_out.wait(5)  # ends after the first: a global went back to the first's

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with rn.read_notes():
        rn.note_turned("a.jpg", 6)
    assert any("a.jpg" in r.getMessage() for r in caplog.records), caplog.text
