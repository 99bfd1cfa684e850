"""A run's end recorded in its best.pt (``_mark_ended``) rewrites the file, which changed its
sha256: outputs predicted from that best.pt before (during the run, or before a resume that
finished it) counted as another model's under ``predict --skip-existing``, though the file
predicts the same. The rewritten file keeps the sha256 it had before as its model's
(``same_model_sha256``); any other change (a label offset) makes it another model again."""

import hashlib

import pytest
import torch

from tests.test_train import tiny_config
from tests.test_unfinished_checkpoint import _killed_run
from unetlab.checkpoint import load_checkpoint, update_checkpoint
from unetlab.cli import main
from unetlab.train import fit

pytestmark = [
    pytest.mark.usefixtures("one_thread"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _predict(checkpoint, data, out, *extra) -> int:
    argv = ["predict", "--checkpoint", str(checkpoint), "--input", str(data / "images")]
    return main([*argv, "--output", str(out), "--device", "cpu", *extra])


def test_outputs_predicted_before_the_run_ended_are_its_best_pts(tmp_path, monkeypatch, capsys):
    data, run = _killed_run(tmp_path, monkeypatch)
    best, out = run / "checkpoints" / "best.pt", tmp_path / "out"
    before, weights = _sha(best), load_checkpoint(best)["model"]
    assert _predict(best, data, out) == 0
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*.png")}
    fit(tiny_config(data, "train.epochs=3"), run_dir=run, resume=True, progress=False)
    ended = load_checkpoint(best)
    assert ended["run_progress"]["finished"] is True and _sha(best) != before  # rewritten
    assert all(torch.equal(weights[k], ended["model"][k]) for k in weights)  # the same model
    assert ended["same_model_sha256"] == before
    capsys.readouterr()
    assert _predict(best, data, out, "--skip-existing") == 0  # each input skipped
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.png")} == stamps  # none written again
    update_checkpoint(best, label_offset=[1.0, 0.0])  # moves the labels: another model
    assert "same_model_sha256" not in load_checkpoint(best)
    assert _predict(best, data, out, "--skip-existing") == 2
    assert "holds another model's outputs" in capsys.readouterr().err


def test_the_model_sha256_is_the_first_files(tmp_path):
    from unetlab import UNet, save_model

    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2))
    first = _sha(path)
    update_checkpoint(path, same_model=True, run_progress={"finished": True})
    update_checkpoint(path, same_model=True, run_progress={"finished": True, "saved_as": "x"})
    assert load_checkpoint(path)["same_model_sha256"] == first  # not the second file's
    with pytest.raises(ValueError, match="reserved"):
        save_model(tmp_path / "n.pt", UNet(1, 2, depth=2), same_model_sha256=first)
