"""A file a user puts under an output's name after a run over images read whole was stopped
(``kill -9``: its manifest lines stay PENDING) is not replaced by the rerun, with or without
--skip-existing (s41 claims2: the rerun replaced it without a word, as the slides' did
before 34af5c8); the stopped run's own outputs stay its own."""

import numpy as np
import pytest
import torch

import unetlab.inference.folders as folders
from unetlab import UNet
from unetlab.data.io import write_png
from unetlab.errors import command_spelling
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions


def _model():
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = {"mode": "per_image"}
    return model


def _stopped(tmp_path, monkeypatch, model, **how):
    """Three PNGs and the output folder of a run stopped as the second starts (as by kill
    -9: KeyboardInterrupt skips the manifest's settling)."""
    rng = np.random.default_rng(0)
    paths = [tmp_path / f"{i}.png" for i in range(3)]
    for path in paths:
        write_png(path, rng.integers(0, 255, (24, 24)).astype(np.uint8))
    real, calls = folders.predict_or_fail, []

    def stop(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    out = tmp_path / "out"
    with monkeypatch.context() as m:
        m.setattr(folders, "predict_or_fail", stop)
        with pytest.raises(KeyboardInterrupt):
            predict_folder(model, paths, out, **how)
    assert (out / "0.png").exists() and not (out / "1.png").exists()
    return paths, out


@pytest.mark.parametrize("skip", [False, True])
def test_a_users_file_under_a_pending_name_is_kept(tmp_path, monkeypatch, skip):
    model = _model()
    paths, out = _stopped(tmp_path, monkeypatch, model)
    (out / "1.png").write_text("the user's")
    done = predict_folder(model, paths, out, skip_existing=skip)
    assert (out / "1.png").read_text() == "the user's"
    assert list(done.failed) == [paths[1]]
    assert (
        "1.png was not written by unetlab (a stopped run had only claimed its name)"
        in (done.failed[paths[1]])
    )
    # Python ran no command: its call (it named unetlab predict, s58)
    assert done.failed[paths[1]].endswith(
        "this call never replaces such a file; move it elsewhere and make the same call again"
    )
    with command_spelling():  # the command line's words, as its lines quote them
        said = predict_folder(model, paths, out, skip_existing=skip).failed[paths[1]]
    assert said.endswith(
        "unetlab predict never replaces such a file; move it elsewhere and "
        "run the same command again"
    )
    assert (out / "2.png").exists()
    (out / "1.png").rename(tmp_path / "theirs.png")
    done = predict_folder(model, paths, out, skip_existing=True)
    assert not done.failed and list(done.written) == [paths[1]]


def test_a_users_table_under_a_pending_name_is_kept(tmp_path, monkeypatch):
    model, how = _model(), dict(objects=ObjectOptions.for_model)
    paths, out = _stopped(tmp_path, monkeypatch, model, **how)
    (out / "1_objects.csv").write_text("the user's")
    done = predict_folder(model, paths, out, **how)
    assert (out / "1_objects.csv").read_text() == "the user's"
    assert list(done.failed) == [paths[1]], done.failed


def test_a_stopped_runs_own_outputs_are_its_own(tmp_path, monkeypatch):
    model, how = _model(), dict(objects=ObjectOptions.for_model, draw_overlay=True)
    paths, out = _stopped(tmp_path, monkeypatch, model, **how)
    done = predict_folder(model, paths, out, **how)
    assert not done.failed and len(done.written) == 3
