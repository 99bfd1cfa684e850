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


def test_a_report_of_the_rewritten_best_pt_replaces_no_other_models(tmp_path, capsys):
    """evaluate --checkpoint best.pt --json r.json before its run ended, then again after:
    the second said it 'replaces the report of best.pt ... that was there' (the file's
    sha256 changed), though the model is the same; a label offset is another model (its
    report refused over the earlier one since s57)."""
    import numpy as np

    from unetlab import UNet, save_model
    from unetlab.data.io import write_png

    rng = np.random.default_rng(0)
    write_png(tmp_path / "d" / "images" / "a.png", rng.integers(0, 255, (20, 24), np.uint8))
    write_png(tmp_path / "d" / "masks" / "a.png", np.where(rng.random((20, 24)) < 0.3, 0, 255))
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.label_values = [0, 255]
    best = save_model(tmp_path / "best.pt", model)
    argv = ["evaluate", "--checkpoint", str(best), "--data", str(tmp_path / "d")]
    argv += ["--json", str(tmp_path / "r.json"), "--device", "cpu"]

    def replaces() -> bool:
        if main(argv) == 0:
            return False
        err = capsys.readouterr().err
        assert "(of another model than now)" in err
        return "holds the report of" in err

    assert not replaces()
    update_checkpoint(best, same_model=True, run_progress={"finished": True})  # its end
    assert not replaces()
    assert not replaces()  # the rewritten file's report, again
    update_checkpoint(best, label_offset=[1.0, 0.0])
    assert replaces()
