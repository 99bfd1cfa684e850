"""A run an older unetlab began without a normalisation floor goes on without one when resumed
(said once), so that its checkpoints predict as its earlier ones (audit s31 upgrade 6)."""

import logging

import pytest

from tests.test_train import tiny_config, write_blobs
from unetlab.checkpoint import load_checkpoint, update_checkpoint
from unetlab.train import fit

pytestmark = pytest.mark.usefixtures("one_thread")


def test_a_run_begun_without_a_floor_goes_on_without_one(tmp_path, caplog):
    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    fit(tiny_config(data, "train.epochs=1"), run_dir=run, progress=False)
    computed = load_checkpoint(run / "checkpoints" / "last.pt")["normalization"]
    assert "floor" in computed  # what this version records
    old = {k: v for k, v in computed.items() if k not in ("floor", "dtype")}
    for name in ("last.pt", "best.pt"):  # as unetlab before the floor recorded them
        update_checkpoint(run / "checkpoints" / name, normalization=old)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        fit(tiny_config(data, "train.epochs=2"), run_dir=run, resume=True, progress=False)
    last = load_checkpoint(run / "checkpoints" / "last.pt")
    assert last["train_state"]["epoch"] == 2
    assert last["normalization"] == old
    said = [
        r.getMessage()
        for r in caplog.records
        if "began without a normalisation floor" in r.getMessage()
    ]
    assert len(said) == 1


def test_a_run_with_its_floor_keeps_it(tmp_path):
    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    fit(tiny_config(data, "train.epochs=1"), run_dir=run, progress=False)
    computed = load_checkpoint(run / "checkpoints" / "last.pt")["normalization"]
    fit(tiny_config(data, "train.epochs=2"), run_dir=run, resume=True, progress=False)
    assert load_checkpoint(run / "checkpoints" / "last.pt")["normalization"] == computed


def test_run_normalization_keeps_only_a_run_without_a_floor(tmp_path):
    from unetlab.train.resume import run_normalization

    computed = {"mode": "percentile", "low": 1.0, "high": 99.8, "floor": [5.0], "dtype": "uint16"}
    spec = {"mode": "percentile", "low": 1.0, "high": 99.8}
    assert run_normalization({"normalization": spec}, computed, tmp_path) == spec
    # a floor without its dtype (e654843): it gains the dtype, as the floor is the run's own
    floored = {**spec, "floor": [5.0]}
    assert run_normalization({"normalization": floored}, computed, tmp_path) == computed
    assert run_normalization({"normalization": computed}, computed, tmp_path) == computed
