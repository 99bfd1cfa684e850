"""best.pt carries the run's ``run_progress`` as last.pt does (it had none: a tool reading
best.pt could not tell how far the run had got): the epochs and steps planned, whether the
run's training had ended (marked at the run's end, as last.pt is) and ``saved_as``. The
stopped-run line (:func:`unfinished_line`) stays last.pt's alone, an export of best.pt names
the record in its source, and a best.pt from before the record still loads and says nothing."""

import pytest
import torch

from tests.test_train import tiny_config
from tests.test_unfinished_checkpoint import _killed_run
from unetlab.checkpoint import export_source, load_checkpoint, load_model, unfinished_line
from unetlab.train import fit

pytestmark = [
    pytest.mark.usefixtures("one_thread"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]


def test_best_pt_says_how_far_its_run_had_got(tmp_path, monkeypatch):
    data, run = _killed_run(tmp_path, monkeypatch)  # 3 epochs planned, killed after 1
    best = run / "checkpoints" / "best.pt"
    record = load_checkpoint(best)["run_progress"]
    assert record == {
        "finished": False,
        "planned_epochs": 3,
        "planned_steps": 6,
        "max_minutes": 0.0,
        "saved_as": "best.pt",
    }
    assert load_checkpoint(run / "checkpoints" / "last.pt")["run_progress"]["saved_as"] == "last.pt"
    model = load_model(best)
    assert model.run_progress == record
    assert unfinished_line(model) is None  # the line offers best.pt: it does not warn of it
    assert export_source(model)["run_progress"] == record
    fit(tiny_config(data, "train.epochs=3"), run_dir=run, resume=True, progress=False)
    assert load_checkpoint(best)["run_progress"]["finished"] is True  # the run ended


def test_a_best_pt_from_before_the_record_loads_and_says_nothing(tmp_path):
    from tests.test_train import write_blobs

    data = write_blobs(tmp_path / "data", 4)
    fit(tiny_config(data), run_dir=tmp_path / "run", progress=False)
    older = load_checkpoint(tmp_path / "run" / "checkpoints" / "best.pt")
    assert older["run_progress"]["finished"] is True
    del older["run_progress"]
    torch.save(older, tmp_path / "older.pt")
    model = load_model(tmp_path / "older.pt")
    assert model.run_progress is None and unfinished_line(model) is None
    assert "run_progress" not in export_source(model)
