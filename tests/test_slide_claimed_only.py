"""A file a user puts under an output's name after a slide run was stopped (``kill -9``) is
not replaced by the rerun: the stopped run's manifest line only claimed the name (audit
s41 claims: the rerun replaced the user's file without a word, or removed it as an
earlier output of its input); a stopped run's published slides stay its own (they carry
its key)."""

import numpy as np
import pytest
import tifffile
import torch

from tests.test_slide_resume import pinned_version  # noqa: F401 (autouse)
from unetlab import UNet
from unetlab.inference import slides
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions


def _model():
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = {"mode": "per_image"}
    return model


def _slides(tmp_path, *names):
    rng = np.random.default_rng(0)
    for name in names:
        tifffile.imwrite(tmp_path / name, rng.integers(0, 255, (64, 64)).astype(np.uint8))
    return [tmp_path / name for name in names]


def _stopped(monkeypatch, model, paths, out, at, **how):
    """A run stopped as the slide ``at`` streams (as by kill -9: its claims stay PENDING)."""
    said = slides.say_streamed_appearance

    def stop(*a, **k):
        if k.get("name", "").endswith(at):
            raise KeyboardInterrupt
        return said(*a, **k)

    with monkeypatch.context() as m:
        m.setattr(slides, "say_streamed_appearance", stop)
        with pytest.raises(KeyboardInterrupt):
            predict_folder(model, paths, out, **(how or dict(large_threshold=100)))


def test_a_users_file_under_a_stopped_runs_claim_is_not_replaced(tmp_path, monkeypatch):
    model, paths, out = _model(), _slides(tmp_path, "s.tif"), tmp_path / "out"
    _stopped(monkeypatch, model, paths, out, "s.tif")
    assert not (out / "s.tif").exists()
    (out / "s.tif").write_text("the user's")
    done = predict_folder(model, paths, out, large_threshold=100)
    assert (out / "s.tif").read_text() == "the user's"
    (why,) = done.failed.values()
    assert "s.tif was not written by unetlab (a stopped run had only claimed its name)" in why
    (out / "s.tif").rename(tmp_path / "theirs.tif")
    done = predict_folder(model, paths, out, large_threshold=100)
    assert not done.failed and tifffile.TiffFile(out / "s.tif").is_ome


def test_a_users_table_under_a_stopped_runs_claim_is_not_removed(tmp_path, monkeypatch):
    """The objects' table: the run's end removed it as "an earlier output" of its input."""
    model, paths, out = _model(), _slides(tmp_path, "s.tif"), tmp_path / "out"
    how = dict(large_threshold=100, objects=ObjectOptions.for_model)
    _stopped(monkeypatch, model, paths, out, "s.tif", **how)
    (out / "s_objects.csv").write_text("the user's")
    done = predict_folder(model, paths, out, **how)
    assert (out / "s_objects.csv").read_text() == "the user's"
    (why,) = done.failed.values()
    assert "s_objects.csv was not written by unetlab" in why, why


def test_a_stopped_runs_published_slide_is_its_own(tmp_path, monkeypatch):
    model, out = _model(), tmp_path / "out"
    paths = _slides(tmp_path, "a.tif", "b.tif")
    _stopped(monkeypatch, model, paths, out, "b.tif")
    assert (out / "a.tif").exists() and not (out / "b.tif").exists()
    done = predict_folder(model, paths, out, large_threshold=100)
    assert not done.failed and len(done.written) == 2


def test_a_stopped_runs_published_slide_is_its_own_for_other_settings(tmp_path, monkeypatch):
    model, out = _model(), tmp_path / "out"
    paths = _slides(tmp_path, "a.tif", "b.tif")
    _stopped(monkeypatch, model, paths, out, "b.tif")
    done = predict_folder(model, paths, out, large_threshold=100, blend="gaussian")
    assert not done.failed and len(done.written) == 2
