"""A stopped run's last.pt says so where it is used: export, evaluate --checkpoint and
predict --checkpoint of it gave no hint that its training had not ended. Its run_progress
record (whether training had ended, the epochs and steps planned) is what they read; a
finished run's last.pt, a best.pt and a file from before the record say nothing."""

import logging

import pytest
import torch

from tests.test_budget import _fake_machine
from tests.test_train import tiny_config, write_blobs
from unetlab.checkpoint import load_checkpoint, load_model, unfinished_line
from unetlab.cli import main
from unetlab.errors import command_spelling
from unetlab.train import fit
from unetlab.train import run as train_run

pytestmark = [
    pytest.mark.usefixtures("one_thread"),  # conftest.py
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # torch.jit's
]


class _Killed(BaseException):
    """As SIGKILL: nothing of the run's own runs after it."""


def _killed_run(tmp_path, monkeypatch):
    """A 3-epoch run (2 steps an epoch) killed as it saved epoch 2: its last.pt is epoch 1's."""
    data = write_blobs(tmp_path / "data", 4)
    real, saves = train_run.save_model, []

    def save_model(path, model, **kw):
        if path.name == "last.pt" and len(saves) == 1:
            raise _Killed(path)
        saves.append(path.name) if path.name == "last.pt" else None
        return real(path, model, **kw)

    run = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(train_run, "save_model", save_model)
        with pytest.raises(_Killed):
            fit(tiny_config(data, "train.epochs=3"), run_dir=run, progress=False)
    return data, run


def _said(caplog, argv: list[str]) -> list[str]:
    """The warning lines about a stopped run that the command ``argv`` logs."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main(argv) == 0
    return [r.getMessage() for r in caplog.records if "stopped at step" in r.getMessage()]


def test_a_killed_runs_last_pt_is_said_once_by_export_evaluate_and_predict(
    tmp_path, monkeypatch, caplog
):
    data, run = _killed_run(tmp_path, monkeypatch)
    last, best = run / "checkpoints" / "last.pt", run / "checkpoints" / "best.pt"
    record = load_checkpoint(last)["run_progress"]
    assert record == {
        "finished": False,
        "planned_epochs": 3,
        "planned_steps": 6,
        "max_minutes": 0.0,
        "saved_as": "last.pt",
    }
    expected = (
        f"warning: {last} is from a training run stopped at step 2 of 6 (1 of 3 epochs done): "
        f"resume it with unetlab train --run-dir {run} --resume, or use {best}"
    )
    for argv in (
        ["export", "--checkpoint", str(last), "--torchscript", str(tmp_path / "m.ts.pt")],
        ["evaluate", "--checkpoint", str(last), "--data", str(data)],
        ["predict", "--checkpoint", str(last), "--input", str(data / "images"), "--output"],
    ):
        if argv[0] == "predict":
            argv.append(str(tmp_path / "out"))
        said = _said(caplog, argv)
        assert [line.replace("python -m unetlab", "unetlab") for line in said] == [expected]
    assert unfinished_line(load_model(best)) is None  # best.pt: what the line offers
    fit(tiny_config(data, "train.epochs=3"), run_dir=run, resume=True, progress=False)
    assert load_checkpoint(last)["run_progress"]["finished"] is True  # resumed to its end
    assert unfinished_line(load_model(last)) is None


def test_a_finished_run_and_a_file_from_before_the_record_say_nothing(tmp_path, caplog):
    data = write_blobs(tmp_path / "data", 4)
    run = tmp_path / "run"
    fit(tiny_config(data), run_dir=run, progress=False)
    last = run / "checkpoints" / "last.pt"
    assert load_checkpoint(last)["run_progress"]["finished"] is True
    out = str(tmp_path / "m.ts.pt")
    assert _said(caplog, ["export", "--checkpoint", str(last), "--torchscript", out]) == []
    older = load_checkpoint(last)  # a stopped run's file, written before the record
    older["train_state"]["epoch"], older["train_state"]["step"] = 1, 2
    del older["run_progress"]
    torch.save(older, tmp_path / "older.pt")
    assert unfinished_line(load_model(tmp_path / "older.pt")) is None


def test_a_run_its_time_budget_ended_says_its_last_pt_finished(tmp_path, monkeypatch):
    """The budget is found spent after last.pt is saved: the run marks it at its end."""
    data = write_blobs(tmp_path / "data", 4)
    clock = _fake_machine(monkeypatch, 0.1)
    cfg = tiny_config(
        data, "train.epochs=1000", "data.tiles_per_epoch=16", "train.max_minutes=0.05"
    )
    ended = fit(cfg, run_dir=tmp_path / "run", progress=False, clock=clock)
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    assert ended["epochs"] < 1000
    assert load_checkpoint(last)["run_progress"]["finished"] is True
    assert unfinished_line(load_model(last)) is None
    written = last.stat().st_mtime_ns
    fit(cfg, run_dir=tmp_path / "run", resume=True, progress=False, clock=clock)  # requeued
    assert last.stat().st_mtime_ns == written  # said finished already: not rewritten


def test_the_line_under_a_time_budget_and_for_a_copy_out_of_its_run_folder(tmp_path):
    from types import SimpleNamespace

    def line(path, **progress):
        record = {"finished": False, "planned_epochs": 10, "planned_steps": 3000} | progress
        trained = {"epoch": 4, "step": 1200}
        model = SimpleNamespace(run_progress=record, trained=trained, checkpoint=str(path))
        with command_spelling():  # as the command line says it
            return unfinished_line(model).replace("python -m unetlab", "unetlab")

    last = tmp_path / "a" / "checkpoints" / "last.pt"
    last.parent.mkdir(parents=True)
    (last.parent / "best.pt").write_bytes(b"")
    assert line(last, max_minutes=5.0) == (
        f"{last} is from a training run stopped at step 1,200 (4 epochs done of at most 10, "
        f"in a 5-minute budget): resume it with unetlab train --run-dir {tmp_path / 'a'} "
        f"--resume, or use {last.parent / 'best.pt'}"
    )
    (last.parent / "best.pt").unlink()  # stopped before a validation saved one
    assert line(last, max_minutes=5.0).endswith(f"--resume ({last.parent} holds no best.pt yet)")
    assert line(last, max_minutes=0.3, planned_epochs=100_000).startswith(  # no limit (s56)
        f"{last} is from a training run stopped at step 1,200 (4 epochs done in a 0.3-minute "
        "budget): resume it"
    )
    assert line(tmp_path / "copy.pt", max_minutes=0.0).endswith(
        "step 1,200 of 3,000 (4 of 10 epochs done): resume it with unetlab train --run-dir RUN "
        "--resume (RUN: the run's folder), or use the run's best.pt"
    )


def test_summary_and_the_napari_widget_say_a_stopped_runs_last_pt(
    tmp_path, monkeypatch, caplog, capsys
):
    """unetlab summary --checkpoint last.pt and the widget's status line (model_summary)
    said nothing of a stopped run's last.pt, as export, evaluate and predict do."""
    from unetlab.napari.core import load_for_widget, model_summary

    _, run = _killed_run(tmp_path, monkeypatch)
    last, best = run / "checkpoints" / "last.pt", run / "checkpoints" / "best.pt"
    said = _said(caplog, ["summary", "--checkpoint", str(last), "--input-size", "64"])
    assert len(said) == 1 and said[0].startswith(f"warning: {last} is from a training run")
    assert "GFLOPs" in capsys.readouterr().out  # the table, as before
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        status = model_summary(load_for_widget(last))
    # once (the status line, not load_model's log too), whole, in README's command-line form
    assert [r for r in caplog.records if "stopped at step" in r.getMessage()] == []
    assert status == f"model: takes 1 channel (grey); 2 classes (dark, bright); {said[0]}"
    assert f"resume it with unetlab train --run-dir {run} --resume, or use {best}" in status
    assert _said(caplog, ["summary", "--checkpoint", str(best), "--input-size", "64"]) == []
    assert "warning" not in model_summary(load_for_widget(best))


def test_python_s_load_model_of_a_killed_fit_s_last_pt_says_it_once_in_python_s_form(
    tmp_path, monkeypatch, caplog
):
    """load_model (and evaluate_model given the path) of a killed fit's last.pt said
    nothing, where the command line's predict and summary warn (s56)."""
    _, run = _killed_run(tmp_path, monkeypatch)
    last, best = run / "checkpoints" / "last.pt", run / "checkpoints" / "best.pt"
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        load_model(last)
        load_model(best)
    said = [r.getMessage() for r in caplog.records if "stopped at step" in r.getMessage()]
    assert said == [
        f"warning: {last} is from a training run stopped at step 2 of 6 (1 of 3 epochs done): "
        f"resume it with fit(load_config({str(run / 'config.yaml')!r}), run_dir={str(run)!r}, "
        f"resume=True), or use {best}"
    ]
    caplog.clear()  # the command line says it once, in its own form
    said = _said(caplog, ["summary", "--checkpoint", str(last), "--input-size", "64"])
    assert len(said) == 1 and "unetlab train --run-dir" in said[0], said


def test_the_python_resume_of_a_stopped_run_is_python_for_any_folder_name(tmp_path):
    """Its paths were put inside "...": a folder holding a double quote (or a Windows
    backslash) gave advice that is no Python (s56 review U)."""
    import ast
    from types import SimpleNamespace

    from unetlab.checkpoint import unfinished_line

    run = tmp_path / 'say "hi"\\x'
    model = SimpleNamespace(
        run_progress={"finished": False, "planned_steps": 6, "planned_epochs": 3},
        trained={"step": 2, "epoch": 1},
        checkpoint=str(run / "checkpoints" / "last.pt"),
    )
    line = unfinished_line(model, cli=False)
    call = ast.parse(line.split("resume it with ")[1].split(" (")[0]).body[0].value
    assert ast.literal_eval(call.args[0].args[0]) == str(run / "config.yaml")
    assert ast.literal_eval(call.keywords[0].value) == str(run)
