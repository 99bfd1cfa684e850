"""Nothing of an earlier run is removed because an input failed: a rerun with other settings
whose input failed after it staged pages (a page that cannot be read) counted the input as
written, since its staging folder made the labels' name "touched", and the run's end removed
that input's earlier outputs of the other settings (s42 edges 1); it confirmed the earlier
run's labels as its own too, so that ``skip_existing`` skipped the input. A name another
program wrote meanwhile (the input failed at it) was taken for written by the run too."""

from __future__ import annotations

from tests.test_slide_claimed_only import _model, _slides
from tests.test_slide_resume import pinned_version  # noqa: F401 (autouse)
from tests.test_stack_resume import NET, _movie
from unetlab.errors import ImageReadError
from unetlab.inference import files, slides
from unetlab.inference.folders import predict_folder
from unetlab.manifest import MANIFEST, PENDING

EARLIER = ("m.tif", "m_objects.tif", "m_objects.csv", "m_prob.tif")


def _unreadable_after(monkeypatch, pages: int) -> None:
    """Every page after the first ``pages`` of the input fails to read (labels only)."""
    real, calls = files.labels_fitted, []

    def fitted(*args, **kwargs):
        calls.append(1)
        if len(calls) > pages:
            raise ImageReadError("m.tif: page 3 cannot be read (a damaged strip)")
        return real(*args, **kwargs)

    monkeypatch.setattr(files, "labels_fitted", fitted)


def test_an_input_failing_after_its_staging_keeps_its_earlier_outputs(tmp_path, monkeypatch):
    (tmp_path / "in").mkdir()
    _movie(tmp_path / "in" / "m.tif")
    inputs, out = tmp_path / "in", tmp_path / "out"
    predict_folder(NET, inputs, out, objects=True, save_probabilities=True)
    earlier = {name: (out / name).read_bytes() for name in EARLIER}
    with monkeypatch.context() as m:
        _unreadable_after(m, 2)
        done = predict_folder(NET, inputs, out)  # labels only: other settings
    assert list(done.failed) == [inputs / "m.tif"] and not done.written
    assert (out / ".m.tif.pages.partial").is_dir()  # its pages kept
    assert {n: (out / n).read_bytes() for n in EARLIER if (out / n).exists()} == earlier
    again = predict_folder(NET, inputs, out, skip_existing=True)
    assert not again.skipped and list(again.written) == [inputs / "m.tif"]
    assert not (out / "m_objects.csv").exists()  # replaced once the input is written
    assert not [p.name for p in out.iterdir() if p.name.startswith(".m.tif")]  # staging gone


def test_a_slide_failing_at_another_programs_file_keeps_its_earlier_outputs(tmp_path, monkeypatch):
    """Another program wrote the labels' name while the slide streamed: the input failed
    (its file kept), and the run's end took the changed name for this run's output: it
    removed the input's earlier probabilities and listed that program's file as its own."""
    model, paths, out = _model(), _slides(tmp_path, "s.tif"), tmp_path / "out"
    predict_folder(model, paths, out, large_threshold=100, save_probabilities=True)
    probabilities = (out / "s_prob.tif").read_bytes()
    real = slides._tile_progress

    def another_program(n):
        (out / "s.tif").write_text("another program's")

    with monkeypatch.context() as m:
        m.setattr(slides, "_tile_progress", lambda *a: real(*a[:-1], another_program))
        done = predict_folder(model, paths, out, large_threshold=100, blend="gaussian")
    assert "s.tif was written by another program" in done.failed[paths[0]]
    assert (out / "s.tif").read_text() == "another program's"
    assert (out / "s_prob.tif").read_bytes() == probabilities  # was removed
    lines = [line.split("\t") for line in (out / MANIFEST).read_text().splitlines()]
    confirmed = [f for f in lines if f[0] == "s.tif" and not f[3].startswith(PENDING)]
    assert len(confirmed) == 1  # the first run's (was: this run's too)
