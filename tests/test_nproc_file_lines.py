"""``unetlab predict --nproc N`` says every file's lines as one process does: a process but
the main one logs only warnings, and the INFO lines of the files dealt to it (a streamed
slide's streaming, steps and objects lines) went unsaid; it keeps them and the main one
says them (inference/handed_lines.py). No process names the other's staging under way as a
killed run's (slide_resume.predicting)."""

from __future__ import annotations

import logging
import re

import numpy as np
import tifffile

from tests.test_distributed import launched
from unetlab import UNet, save_model
from unetlab.data.read_notes import note_once, read_notes
from unetlab.inference.handed_lines import BAR_LINES, kept_lines, say_kept

log = logging.getLogger("unetlab.inference.slides")


def _said(tmp_path, processes: int) -> list[str]:
    """The lines of a run of two streamed slides with objects, the times left out, and its
    first and summary lines (``predict: ...``: the times and output folder differ)."""
    args = ["--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    args += ["--output", str(tmp_path / f"out{processes}"), "--large-pixels", "100"]
    args += ["--instances", "--device", "cpu", "--no-progress", "--nproc", str(processes)]
    run = launched("predict", *args)
    lines = (run.stdout + run.stderr).splitlines()
    kept = [line for line in lines if not line.startswith("predict: ")]
    return [re.sub(r"\d+ s so far", "_ s so far", line) for line in kept]


def test_kept_lines_keep_the_info_lines_and_pass_the_warnings(caplog):
    package = logging.getLogger("unetlab")
    level = package.level
    kept: list = []
    package.setLevel(logging.WARNING)  # a group's process but the main one
    try:
        with caplog.at_level(logging.INFO), kept_lines(kept, bars=True):
            log.info("s2.tif: streaming")
            log.warning("s2.tif: a warning")
            logging.getLogger(BAR_LINES).info("s2.tif: 1 of 1 tiles")  # a bar's, where drawn
            note_once("reading TIFFs as YX", key="axes", level=logging.INFO)
    finally:
        package.setLevel(level)
    assert caplog.messages == ["s2.tif: a warning"]
    assert [line for _, line, _ in kept] == ["s2.tif: streaming", "reading TIFFs as YX"]
    caplog.clear()
    with caplog.at_level(logging.INFO), read_notes():  # the main one's command said it
        note_once("reading TIFFs as YX", key="axes", level=logging.INFO)
        say_kept(kept)
    assert caplog.messages == ["reading TIFFs as YX", "s2.tif: streaming"]


def test_two_processes_say_four_files_in_order_and_a_warning_once(tmp_path, monkeypatch):
    """Four slides dealt in turn (s1, s3 to the main process, s2, s4 to the other): the main
    one says its own as they come (its progress in a log stays live), the other's in input
    order once gathered, each file's lines as one process says them; the warning said once a
    command that their pixels are another size than the training images' said once, not by
    each process. s2 records no pixel size: the line said once a run that its table is in
    pixels only comes from the process s2 is dealt to. OMP_NUM_THREADS chooses the threads:
    under load one run said 'predicting on 1 of 2 threads while other work holds ...' and
    the other not (review s54 C9: the lines compared differed by the machine's load)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # each of two processes' share on 2 cores
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    sized = {"resolution": (0.5, 0.5), "resolutionunit": "MICROMETER"}  # 2 µm pixels
    for name in ("s1", "s2", "s3", "s4"):  # two chunk rows each
        image = rng.integers(0, 255, (600, 40), "u1")
        tifffile.imwrite(tmp_path / "in" / f"{name}.tif", image, **({} if name == "s2" else sized))
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    model.objects = {"pixel_size": [0.5, 0.5]}  # trained on 0.5 µm pixels
    save_model(tmp_path / "m.pt", model)
    one = _said(tmp_path, 1)
    assert sum("trained on 0.5 µm pixels" in line for line in one) == 1, one
    assert [line[:2] for line in one if "streaming" in line] == ["s1", "s2", "s3", "s4"], one
    assert sum(line.startswith("s2.tif: ") for line in one) >= 4, one
    said = "1 of 4 inputs record no usable pixel size (first: s2.tif)"
    assert any(line.startswith(said) for line in one), one
    two = _said(tmp_path, 2)
    assert [line[:2] for line in two if "streaming" in line] == ["s1", "s3", "s2", "s4"], two
    assert sum("trained on 0.5 µm pixels" in line for line in two) == 1, two
    assert sorted(two) == sorted(one)
    for name in ("s1", "s2", "s3", "s4"):
        assert [x for x in two if x.startswith(name)] == [x for x in one if x.startswith(name)]


def test_once_warnings_kept_by_another_process_are_said_once(caplog):
    """A warning said once a command is kept by a process but the main one, and said by the
    main one only where it has not said it itself: not lost, nor repeated."""
    theirs: list = []
    package = logging.getLogger("unetlab")
    level = package.level
    package.setLevel(logging.WARNING)  # a group's process but the main one
    try:
        with caplog.at_level(logging.INFO), read_notes(), kept_lines(theirs):
            note_once("s2.tif: pixels of another size", key="size")
    finally:
        package.setLevel(level)
    assert caplog.messages == []
    with caplog.at_level(logging.INFO), read_notes():
        say_kept(theirs)  # the main one has not said it: said
    assert caplog.messages == ["s2.tif: pixels of another size"]
    caplog.clear()
    with caplog.at_level(logging.INFO), read_notes():
        log.info("s1.tif: streaming")  # the main one's own, said as they come
        note_once("s1.tif: pixels of another size", key="size")
        say_kept(theirs)  # said already by the main one: not repeated
    assert caplog.messages == ["s1.tif: streaming", "s1.tif: pixels of another size"]


def test_a_once_line_kept_is_said_by_the_main_one_within_the_same_command(caplog):
    """A once-a-command line kept within the command where the main one then says the kept
    lines (a group of threads shares one command's notes) is counted unsaid as it is kept:
    say_kept says it, once (the tests above keep and say in two commands, where a line kept
    and still counted said would be said all the same)."""
    theirs: list = []
    package = logging.getLogger("unetlab")
    level = package.level
    with caplog.at_level(logging.INFO), read_notes():
        package.setLevel(logging.WARNING)  # a group's process but the main one
        try:
            with kept_lines(theirs):
                note_once("s2.tif: pixels of another size", key="size")
        finally:
            package.setLevel(level)
        assert caplog.messages == []
        say_kept(theirs)
        say_kept(theirs)  # said once a command: not again
    assert caplog.messages == ["s2.tif: pixels of another size"]
