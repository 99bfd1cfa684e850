"""train.log says why a run ended on an error, as stderr did (audit s30 ops 3)."""

from __future__ import annotations

import pytest

from unetlab.errors import OutputError
from unetlab.train import fit, fitting

from .test_train import tiny_config, write_blobs

pytestmark = pytest.mark.usefixtures("one_thread")


def test_train_log_ends_with_the_error_and_how_to_go_on(tmp_path, monkeypatch, caplog):
    data = write_blobs(tmp_path / "data", 6)
    real = fitting._end_epoch

    def disk_full_in_epoch_2(run, row, **kwargs):
        if run.state.epoch == 1:
            raise OutputError("best.pt: cannot write it (No space left on device)")
        return real(run, row, **kwargs)

    monkeypatch.setattr(fitting, "_end_epoch", disk_full_in_epoch_2)
    run = tmp_path / "run"
    with pytest.raises(OutputError):
        fit(tiny_config(data, "train.epochs=3"), run_dir=run, progress=False)
    last = (run / "train.log").read_text().splitlines()[-1]
    assert "stopped by an error: best.pt: cannot write it (No space left on device)" in last
    assert "last.pt holds step" in last and f"--run-dir {run} --resume" in last
    errors = [r for r in caplog.records if r.getMessage().startswith("stopped by an error")]
    assert errors == []  # in train.log only: the command says it on stderr itself
