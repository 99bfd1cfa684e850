"""A killed prediction of a stack read whole resumes from the frames it finished: a
300-frame movie took 562 s and, killed at frame 250, started again at frame 0, where a
streamed one resumes (audit s37 timelapse 6). The rerun predicts only the frames not done
and its outputs equal an uninterrupted run's bit for bit."""

from __future__ import annotations

import errno
import logging
import os
import re
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tests.test_predict_objects import local_net, nuclei_image
from tests.test_slide_resume import pinned_version  # noqa: F401 (autouse)
from unetlab.errors import OutputError
from unetlab.inference import files
from unetlab.inference.files import predict_file
from unetlab.outputs import foreign_files, remove_stale_temporaries

FRAMES = 6
PREDICT_FITTED = files.predict_fitted


class Predicted:
    """``files.predict_fitted`` counting its calls, and stopping the run (as Ctrl-C does)
    at call ``stop`` + 1."""

    def __init__(self, stop: int | None = None):
        self.stop, self.calls = stop, 0

    def __call__(self, *args, **kwargs):
        if self.stop is not None and self.calls >= self.stop:
            raise KeyboardInterrupt
        self.calls += 1
        return PREDICT_FITTED(*args, **kwargs)


def _movie(path):
    movie = np.stack([nuclei_image(40, 48, seed=s) for s in range(FRAMES)])
    meta = {"axes": "TYX", "finterval": 30.0}
    tifffile.imwrite(path, movie, imagej=True, metadata=meta)
    return path


NET = local_net()  # one model for every run: its weights are part of the record


def _run(monkeypatch, movie, out, stop=None) -> Predicted:
    counted = Predicted(stop)
    monkeypatch.setattr(files, "predict_fitted", counted)
    predict_file(NET, movie, out, objects=True, save_probabilities=True)
    return counted


OUTPUTS = ("m.tif", "m_objects.tif", "m_objects.csv", "m_prob.tif")


def _outputs(folder) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


def test_a_killed_movie_resumes_from_its_frames_done(tmp_path, monkeypatch, caplog):
    movie = _movie(tmp_path / "m.tif")
    assert _run(monkeypatch, movie, tmp_path / "a").calls == FRAMES
    with pytest.raises(KeyboardInterrupt):
        _run(monkeypatch, movie, tmp_path / "b", stop=4)
    staged = tmp_path / "b" / ".m.tif.pages.partial"
    assert sorted(p.name for p in staged.glob("page-*.npz")) == [
        f"page-0000{i}.npz" for i in range(4)
    ]
    # the staging is the run's own, kept by the cleaning of a killed run's leftovers
    assert foreign_files(tmp_path / "b") == []
    assert staged not in remove_stale_temporaries(tmp_path / "b")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        again = _run(monkeypatch, movie, tmp_path / "b")
    assert again.calls == FRAMES - 4  # frames 0-3 not predicted again
    assert "m.tif: resuming a killed run: 4 of 6 pages done" in caplog.text
    assert not staged.exists()  # removed once the outputs are written
    a, b = _outputs(tmp_path / "a"), _outputs(tmp_path / "b")
    assert a == b  # bit for bit


def test_a_changed_movie_is_predicted_afresh(tmp_path, monkeypatch, caplog):
    movie = _movie(tmp_path / "m.tif")
    with pytest.raises(KeyboardInterrupt):
        _run(monkeypatch, movie, tmp_path / "b", stop=3)
    os.utime(movie, ns=(0, os.stat(movie).st_mtime_ns + 10**9))  # saved again
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _run(monkeypatch, movie, tmp_path / "b").calls == FRAMES
    assert "m.tif: a killed run's staged pages are discarded: the input is another" in caplog.text
    assert not (tmp_path / "b" / ".m.tif.pages.partial").exists()


def test_a_staging_without_its_record_is_a_stale_temporary(tmp_path, monkeypatch):
    movie = _movie(tmp_path / "m.tif")
    with pytest.raises(KeyboardInterrupt):
        _run(monkeypatch, movie, tmp_path / "b", stop=2)
    staged = tmp_path / "b" / ".m.tif.pages.partial"
    (staged / "unetlab-resume.json").unlink()  # killed between the folder and its record
    assert staged in remove_stale_temporaries(tmp_path / "b")  # as the rerun cleans it
    staged.mkdir()
    (staged / "page-00000.npz").write_bytes(b"")
    assert _run(monkeypatch, movie, tmp_path / "b").calls == FRAMES


def test_a_damaged_staged_page_is_predicted_again(tmp_path, monkeypatch):
    movie = _movie(tmp_path / "m.tif")
    assert _run(monkeypatch, movie, tmp_path / "a").calls == FRAMES
    with pytest.raises(KeyboardInterrupt):
        _run(monkeypatch, movie, tmp_path / "b", stop=3)
    (tmp_path / "b" / ".m.tif.pages.partial" / "page-00001.npz").write_bytes(b"not a zip")
    assert _run(monkeypatch, movie, tmp_path / "b").calls == FRAMES - 2  # 1 again, 3-5
    assert _outputs(tmp_path / "a") == _outputs(tmp_path / "b")


def test_a_staged_page_the_disk_never_reads_is_removed_as_the_line_says(tmp_path, monkeypatch):
    """A staged page the disk cannot read (EIO, every time) was said with "run again", and
    a rerun read it again and failed for ever (review s63): the line names the file to
    remove; removed, the rerun predicts that page again and finishes."""
    movie = _movie(tmp_path / "m.tif")
    assert _run(monkeypatch, movie, tmp_path / "a").calls == FRAMES
    with pytest.raises(KeyboardInterrupt):
        _run(monkeypatch, movie, tmp_path / "b", stop=3)
    real_load = np.load

    def load(path, *args, **kwargs):
        if Path(path).name == "page-00001.npz":
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(np, "load", load)
    for _ in range(2):  # the same line each run
        with pytest.raises(OutputError) as refused:
            _run(monkeypatch, movie, tmp_path / "b")
        said = re.fullmatch(
            r".*; check the disk it is on and run again, or remove (.+): that"
            r" page is predicted again, the others are kept",
            str(refused.value),
        )
        assert said is not None, refused.value
    Path(said[1]).unlink()  # as the line says
    assert _run(monkeypatch, movie, tmp_path / "b").calls == FRAMES - 2  # 1 again, 3-5
    assert _outputs(tmp_path / "a") == _outputs(tmp_path / "b")


def test_a_finished_movies_leftover_staging_is_removed_when_skipped(tmp_path, monkeypatch):
    """Killed after the outputs were written and before the staging was removed: a rerun
    with skip_existing skipped the movie, and the staging (kept by the cleaning as
    resumable) stayed for ever (s38)."""
    from unetlab.inference.folders import predict_folder
    from unetlab.inference.page_resume import PageStaging

    (tmp_path / "in").mkdir()
    _movie(tmp_path / "in" / "m.tif")
    out, staged = tmp_path / "out", tmp_path / "out" / ".m.tif.pages.partial"

    def killed(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(PageStaging, "finish", killed)
    with pytest.raises(KeyboardInterrupt):
        predict_folder(NET, tmp_path / "in", out)
    assert (out / "m.tif").is_file() and staged.is_dir()
    monkeypatch.undo()
    counted = Predicted()
    monkeypatch.setattr(files, "predict_fitted", counted)
    done = predict_folder(NET, tmp_path / "in", out, skip_existing=True)
    assert counted.calls == 0 and [p.name for p in done.skipped] == ["m.tif"]
    assert not staged.exists()


def test_a_stacks_mismatch_names_every_reason_as_a_slides_does():
    """A stack's staged pages discarded named the first reason alone, the code within "the
    checkpoint, the prediction settings or unetlab changed" (s66): every reason, in the
    words of a slide's (:func:`~unetlab.inference.slide_resume.mismatch`)."""
    from unetlab.inference.page_resume import mismatch

    code = {"unetlab": "0.2.0", "commit": "a" * 40, "dirty": False, "torch": "2.5.0"}

    def made(level=0, batch=4, **change) -> dict:
        record = {"checkpoint": "best.pt", "model": {"level": level}, "code": code | change}
        return {"input": {"path": "m.tif"}, "record": record, "pages": [6, 40, 48], "batch": batch}

    assert mismatch(made(), made()) is None
    assert mismatch(made(), made(batch=2)) == "the batch size changed"
    said = mismatch(made(), made(level=1, batch=2, commit="b" * 40, torch="2.6.0"))
    assert said == (
        "the checkpoint or the prediction settings changed; the batch size changed; the code "
        "changed: unetlab's git commit aaaaaaaaaaaa -> bbbbbbbbbbbb, torch 2.5.0 -> 2.6.0"
    ), said


@pytest.mark.parametrize(
    "record",
    ["[1, 2]", "{}", '{"versions": 5, "record": [1], "pages": null}', '{"record": {"code": 3}}'],
)
def test_a_staging_whose_record_holds_other_values_is_discarded_in_one_line(
    tmp_path, caplog, record
):
    """A page staging's record that is no JSON object, or an object of other values, is
    discarded in one line, no traceback (pins: its reading caught an AttributeError that
    :func:`~unetlab.atomic.publishing_record` and the mismatch's reading no longer raise)."""
    from unetlab.atomic import RESUMABLE
    from unetlab.inference.page_resume import PageStaging

    staged = tmp_path / ".m.tif.pages.partial"
    staged.mkdir()
    (staged / RESUMABLE).write_text(record)
    (staged / "page-00000.npz").write_bytes(b"")
    wanted = {"input": {"path": "m.tif"}, "record": {}, "pages": [6, 40, 48], "batch": 4}
    with caplog.at_level(logging.INFO, logger="unetlab"):
        staging = PageStaging.open(tmp_path / "m.tif", wanted, name="m.tif")
    assert staging.done == set()
    assert "m.tif: a killed run's staged pages are discarded: " in caplog.text
    assert not (staged / "page-00000.npz").exists()  # a new staging
