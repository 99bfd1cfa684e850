"""A resumed slide's summary counts the pixels this run predicted: its MP/s was every pixel of
the image over the resumed run's time only (2.00 MP/s reported where about 0.8 was true)."""

import logging

import pytest

from tests.test_slide_claimed_only import _model
from tests.test_slide_resume import _slide, pinned_version, small_chunks  # noqa: F401
from unetlab.inference import slide_resume
from unetlab.inference.folders import predict_folder

HOW = dict(large_threshold=100, tile_size=36, batch_size=2)


@pytest.mark.usefixtures("small_chunks")
def test_a_resumed_slide_counts_only_the_rows_it_predicted(tmp_path, monkeypatch, caplog):
    model, paths, out = _model(), [_slide(tmp_path / "s.tif")], tmp_path / "out"  # 160 x 96
    assert predict_folder(model, paths, tmp_path / "whole", **HOW).pixels == 160 * 96
    done = slide_resume.Progress.done

    def stop_after_a_row(self, page, row, arrays, **k):  # as kill -9 once rows are on disk
        done(self, page, row, arrays, **k)
        if row < self.stop:
            raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(slide_resume.Progress, "done", stop_after_a_row)
        with pytest.raises(KeyboardInterrupt):
            predict_folder(model, paths, out, **HOW)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        again = predict_folder(model, paths, out, **HOW)
    (line,) = [m for m in caplog.messages if m.startswith(f"resuming {paths[0]} at row ")]
    rows = int(line.split()[4])
    assert 0 < rows < 160
    assert list(again.written) == paths
    assert again.pixels == (160 - rows) * 96  # was 160 * 96, all of them


@pytest.mark.usefixtures("small_chunks")
def test_a_slide_whose_rows_were_all_done_counts_none(tmp_path, monkeypatch, caplog):
    """Stopped after its last row was recorded: the rerun publishes, predicting nothing."""
    model, paths, out = _model(), [_slide(tmp_path / "s.tif")], tmp_path / "out"
    done = slide_resume.Progress.done

    def stop_at_the_end(self, page, row, arrays, **k):
        done(self, page, row, arrays, **k)
        if row >= self.stop:
            raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(slide_resume.Progress, "done", stop_at_the_end)
        with pytest.raises(KeyboardInterrupt):
            predict_folder(model, paths, out, **HOW)
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        again = predict_folder(model, paths, out, **HOW)
    assert any("predicted every row: publishing" in m for m in caplog.messages)
    assert list(again.written) == paths and again.pixels == 0  # was 160 * 96
