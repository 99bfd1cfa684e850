"""One rule names a checkpoint's model (``unetlab.model_identity``): the sha256 the file had
before its run's end was recorded in it (``same_model_sha256``), else its bytes'. Predictions'
records, evaluate's reports and compare each computed it on their own before (s46 ident);
these tests hold the rule and that all three now follow it on the same rewritten file."""

from __future__ import annotations

import hashlib

from unetlab.checkpoint import checkpoint_source, load_model, save_model, update_checkpoint
from unetlab.compare.records import _holds, _identities
from unetlab.inference.predict import PredictOptions
from unetlab.inference.records import prediction_record
from unetlab.model_identity import (
    model_sha256,
    model_sha256s,
    report_model_sha256,
    report_model_sha256s,
)
from unetlab.models import UNet


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_sha256_before_the_rewrite_names_the_model_first():
    assert model_sha256s("b", "a") == ["a", "b"]
    assert model_sha256("b", "a") == "a"
    assert model_sha256s("b") == ["b"] and model_sha256("b", None) == "b"
    assert model_sha256s("a", "a") == ["a"]  # once
    assert model_sha256s(None, None) == [] and model_sha256(None) is None
    assert model_sha256s(3, "") == []  # a report's odd field names nothing


def test_a_report_names_its_model_by_its_fields():
    report = {"checkpoint_sha256": "b", "checkpoint_model_sha256": "a"}
    assert report_model_sha256(report) == "a" and report_model_sha256s(report) == ["a", "b"]
    assert report_model_sha256({"checkpoint_sha256": "b"}) == "b"
    assert report_model_sha256({}) is None and report_model_sha256s({}) == []


def test_predict_evaluate_and_compare_name_a_rewritten_file_alike(tmp_path):
    path = save_model(tmp_path / "best.pt", UNet(1, 2, depth=2, base_channels=2))
    first = _sha(path)
    update_checkpoint(path, same_model=True, run_progress={"finished": True})
    assert _sha(path) != first  # the bytes changed, the model did not
    model = load_model(path)
    record = prediction_record(model, PredictOptions().for_model(model))
    report = checkpoint_source(path, model)  # what evaluate --json records
    assert record.identity == report_model_sha256(report) == first
    assert _identities(report) == {first, _sha(path)} and _holds(path, {first})
    update_checkpoint(path, label_offset=[1.0, 0.0])  # moves the labels: another model
    model = load_model(path)
    record = prediction_record(model, PredictOptions().for_model(model))
    report = checkpoint_source(path, model)
    assert record.identity == report_model_sha256(report) == _sha(path)
    assert not _holds(path, {first})
