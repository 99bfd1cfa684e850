"""A streamed image stopped part-way under ``--z-spacing`` resumes where it stopped: a large
2-D image (its record flattened: no Z to space) and a ZTYX stack (its pages read Z first).
Session 41 noted both restarting once after its record changes; a staging holds unetlab's
commit, so a staging of an older checkout starts afresh by design (s42 edges 4: checked)."""

import logging

import numpy as np
import pytest
import tifffile

from tests.test_predict_objects import local_net, nuclei_image
from tests.test_slide_resume import Stop, pinned_version, small_chunks  # noqa: F401
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.inference import slides

FLAGS = ["--instances", "--save-probabilities", "--pixel-size", "0.5", "--z-spacing", "2"]


def _stopping(monkeypatch, stop: Stop) -> None:
    """Each slide's tiles counted by ``stop`` (which may stop the run, as Ctrl-C does)."""
    real = slides._tile_progress

    def counted(name, grid, batch, band, firsts, progress):
        return real(name, grid, batch, band, firsts, stop)

    monkeypatch.setattr(slides, "_tile_progress", counted)


def _image(path, axes: str) -> None:
    if axes == "YX":
        tifffile.imwrite(path, nuclei_image(160, 96, seed=7), tile=(32, 32))
        return
    pages = np.stack([nuclei_image(96, 64, seed=7 + p) for p in range(6)])
    shaped = dict(photometric="minisblack", metadata={"axes": axes})
    tifffile.imwrite(path, pages.reshape(2, 3, 96, 64), **shaped)


@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize(
    "axes, extra, said",
    [
        ("YX", ["--objects-3d"], "resuming s.tif at row 64 of 160"),
        ("ZTYX", [], "resuming s.tif at row 0 of 96, frame 1 plane 0 (2 of 6)"),
    ],
)
def test_a_stopped_run_under_z_spacing_resumes(tmp_path, monkeypatch, caplog, axes, extra, said):
    (tmp_path / "in").mkdir()
    _image(tmp_path / "in" / "s.tif", axes)
    save_model(tmp_path / "m.pt", local_net())
    paths = ["--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    argv = ["predict", *paths, "--output", str(tmp_path / "out"), "--device", "cpu"]
    argv += ["--large-pixels", "100", "--tile-size", "36", "--batch-size", "2", *FLAGS, *extra]
    with monkeypatch.context() as m:
        _stopping(m, Stop(24))
        assert main(argv) == 130
    again = Stop()
    with caplog.at_level(logging.INFO, logger="unetlab"), monkeypatch.context() as m:
        _stopping(m, again)
        assert main(argv) == 0
    assert said in caplog.messages
    assert "restarting" not in caplog.text and "afresh" not in caplog.text
