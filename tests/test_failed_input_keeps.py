"""Nothing of an earlier run is removed because an input failed: a rerun with other settings
whose input failed after it staged pages (a page that cannot be read) counted the input as
written, since its staging folder made the labels' name "touched", and the run's end removed
that input's earlier outputs of the other settings (s42 edges 1); it confirmed the earlier
run's labels as its own too, so that ``skip_existing`` skipped the input."""

from __future__ import annotations

from tests.test_slide_resume import pinned_version  # noqa: F401 (autouse)
from tests.test_stack_resume import NET, _movie
from unetlab.errors import ImageReadError
from unetlab.inference import files
from unetlab.inference.folders import predict_folder

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
