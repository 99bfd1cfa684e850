"""An image read whole puts its outputs in place together, as a streamed one does: a rerun
stopped while it wrote them (Ctrl-C, SIGTERM, a full disk) replaced the earlier run's
probabilities, object ids, table and outlines one by one and left them beside that run's
labels and overlay: neither the earlier result nor the new one (s39). Now they are written
into a publishing folder and renamed at the end, the labels last; a stop before leaves the
earlier outputs as they were, a stop among the renames is finished by the rerun."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from tests.test_slide_resume import pinned_version  # noqa: F401 (autouse)
from tests.test_stack_resume import NET, PREDICT_FITTED, _movie
from unetlab.data import ome
from unetlab.inference import files, slide_outputs
from unetlab.inference.folders import predict_folder

OUTPUTS = (
    "m.tif",
    "m_prob.tif",
    "m_objects.tif",
    "m_objects.csv",
    "m_objects.geojson",
    "m_objects_rois.zip",
    "m_overlay.tif",
    "objects_summary.csv",
)
HOW = dict(objects=True, save_probabilities=True, draw_overlay=True, outlines="both")


def _outputs(folder) -> dict[str, object]:
    """Each output's bytes; the ROIs' entries (a zip holds the time it was written)."""
    found: dict[str, object] = {name: (folder / name).read_bytes() for name in OUTPUTS}
    with zipfile.ZipFile(folder / "m_objects_rois.zip") as rois:
        found["m_objects_rois.zip"] = {n: rois.read(n) for n in rois.namelist()}
    return found


class Other:
    """Another model's prediction (the classes reversed), counting its pages."""

    def __init__(self):
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return np.ascontiguousarray(PREDICT_FITTED(*args, **kwargs)[::-1])


def _stopped(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.fixture
def folders(tmp_path):
    (tmp_path / "in").mkdir()
    _movie(tmp_path / "in" / "m.tif")
    return tmp_path / "in", tmp_path / "out"


def _other_run(monkeypatch, inputs, out) -> Other:
    other = Other()
    monkeypatch.setattr(files, "predict_fitted", other)
    predict_folder(NET, inputs, out, overwrite=True, **HOW)
    return other


def test_a_rerun_stopped_while_writing_keeps_the_earlier_outputs(folders, tmp_path, monkeypatch):
    inputs, out = folders
    predict_folder(NET, inputs, out, **HOW)
    earlier = _outputs(out)
    with monkeypatch.context() as m:
        m.setattr(files, "_write_overlay", _stopped)  # after the probabilities and objects
        with pytest.raises(KeyboardInterrupt):
            _other_run(m, inputs, out)
    assert _outputs(out) == earlier  # was: new probabilities, ids, table, outlines
    assert not (out / ".m.tif.publish.partial").exists()
    assert (out / ".m.tif.pages.partial").is_dir()  # the pages stay, for the rerun
    again = _other_run(monkeypatch, inputs, out)
    assert again.calls == 0  # every page read back, none predicted again
    _other_run(monkeypatch, inputs, tmp_path / "straight")
    assert _outputs(out) == _outputs(tmp_path / "straight")
    assert not [p.name for p in out.iterdir() if p.name.endswith(".partial")]


def test_a_rerun_stopped_among_its_renames_is_finished_by_the_next(folders, tmp_path, monkeypatch):
    inputs, out = folders
    predict_folder(NET, inputs, out, **HOW)
    put, done = slide_outputs.put_in_place, []

    def once(source, path):
        if done:
            raise KeyboardInterrupt
        done.append(put(source, path))

    with monkeypatch.context() as m:
        m.setattr(slide_outputs, "put_in_place", once)
        with pytest.raises(KeyboardInterrupt):
            _other_run(m, inputs, out)
    assert len(done) == 1 and (out / ".m.tif.publish.partial").is_dir()
    again = _other_run(monkeypatch, inputs, out)
    assert again.calls == 0
    _other_run(monkeypatch, inputs, tmp_path / "straight")
    assert _outputs(out) == _outputs(tmp_path / "straight")
    assert not [p.name for p in out.iterdir() if p.name.endswith(".partial")]


def test_a_killed_runs_publishing_folder_goes_when_its_input_is_skipped(folders):
    """Killed (``kill -9``) while it wrote a finished input's outputs again: the publishing
    folder, kept by the cleaning as resumable, stayed for ever beside the input that
    ``skip_existing`` skips."""
    inputs, out = folders
    predict_folder(NET, inputs, out, **HOW)
    publishing = out / ".m.tif.publish.partial"
    publishing.mkdir()
    (publishing / "unetlab-resume.json").write_text('{"state": "writing"}')
    (publishing / "m_prob.tif").write_bytes(b"half")
    done = predict_folder(NET, inputs, out, skip_existing=True, **HOW)
    assert [p.name for p in done.skipped] == ["m.tif"]
    assert not publishing.exists()


def test_a_committed_publishing_folder_is_kept_for_the_run_that_finishes_it(folders):
    """Stopped among its renames: removed with the leftovers of an input ``skip_existing``
    skips, it left that input's outputs half put in place for good."""
    inputs, out = folders
    predict_folder(NET, inputs, out, **HOW)
    publishing = out / ".m.tif.publish.partial"
    publishing.mkdir()
    step = '[["m_prob.tif", "m_prob.tif", false]]'  # its source there: not renamed yet
    (publishing / "unetlab-resume.json").write_text(f'{{"state": "committed", "steps": {step}}}')
    (publishing / "m_prob.tif").write_bytes((out / "m_prob.tif").read_bytes())
    predict_folder(NET, inputs, out, skip_existing=True, **HOW)
    assert publishing.is_dir()
    predict_folder(NET, inputs, out, **HOW)  # finishes its renames, then predicts
    assert not publishing.exists()


def test_a_publishing_folder_whose_renames_are_done_goes_when_its_input_is_skipped(
    folders, monkeypatch
):
    """Killed right after its last rename (the labels in place, stamped in the manifest),
    before its folder went: a ``skip_existing`` rerun skipped the input and left
    ``.m.tif.publish.partial`` (s73 note; only the next plain run cleared it)."""
    inputs, out = folders
    skipped_after_last_rename(
        monkeypatch, partial(predict_folder, NET, inputs, out, **HOW), "m.tif"
    )


def skipped_after_last_rename(monkeypatch, predict: Callable, labels: str) -> None:
    """``predict()`` (a :func:`predict_folder` call) killed right after its ``labels`` are
    put in place (a file, or an OME-Zarr folder), their publishing folder left;
    ``predict(skip_existing=True)`` skips the input and removes it."""

    def stopped_after_labels(rename):
        def renamed(source, path):
            rename(source, path)
            if Path(path).name == labels:
                raise KeyboardInterrupt

        return renamed

    with monkeypatch.context() as m:
        m.setattr(slide_outputs, "put_in_place", stopped_after_labels(slide_outputs.put_in_place))
        m.setattr(ome, "replace_folder", stopped_after_labels(ome.replace_folder))
        with pytest.raises(KeyboardInterrupt):
            predict()
    out = Path(predict.args[2])
    assert (out / f".{labels}.publish.partial").is_dir() and (out / labels).exists()
    done = predict(skip_existing=True)
    assert len(done.skipped) == 1 and not done.written  # skipped, not predicted again
    assert not [p.name for p in out.iterdir() if p.name.endswith(".partial")]


def test_a_name_near_the_limit_is_skipped_by_a_rerun(tmp_path):
    """A 240-byte label name: its publishing folder's ``.<name>.publish.partial`` (257 bytes)
    is named by a digest, but the rerun's cleaning of skipped inputs' stagings asked
    ``Path.is_dir`` of the long name, which raises ENAMETOOLONG (OSError: a traceback)."""
    stem = "m" * 236  # m...m_objects_rois.zip: 253 bytes
    (tmp_path / "in").mkdir()
    _movie(tmp_path / "in" / f"{stem}.tif")
    inputs, out = tmp_path / "in", tmp_path / "out"
    predict_folder(NET, inputs, out, **HOW)
    done = predict_folder(NET, inputs, out, skip_existing=True, **HOW)
    assert [p.name for p in done.skipped] == [f"{stem}.tif"]


def test_a_killed_runs_digest_named_publishing_folder_goes_when_skipped(tmp_path):
    """A 240-byte label name's publishing folder is named by a digest (publishing_path):
    the cleaning of a skipped input's stagings listed only ``.<labels>.publish.partial``,
    so a killed run's folder stayed for ever beside the input ``skip_existing`` skips."""
    stem = "m" * 236
    (tmp_path / "in").mkdir()
    _movie(tmp_path / "in" / f"{stem}.tif")
    inputs, out = tmp_path / "in", tmp_path / "out"
    predict_folder(NET, inputs, out, **HOW)
    publishing = slide_outputs.publishing_path(out / f"{stem}.tif")
    assert len(publishing.name) < 40  # named by a digest
    publishing.mkdir()
    (publishing / "unetlab-resume.json").write_text('{"state": "writing"}')
    done = predict_folder(NET, inputs, out, skip_existing=True, **HOW)
    assert [p.name for p in done.skipped] == [f"{stem}.tif"]
    assert not publishing.exists()
