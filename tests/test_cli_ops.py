"""The CLI as batch jobs and scripts meet it (audit s30 ops 4, 5, 7, 11)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.data.synthetic import write_synthetic_dataset

from .test_train_safety import a_checkpoint


def test_check_refuses_what_the_run_refuses(tmp_path, capsys):
    root = write_synthetic_dataset(tmp_path / "em", n_train=2, n_val=1, size=64)
    argv = ["train", "--data", str(root), "--nproc", "0", "--run-dir", str(tmp_path / "r")]
    assert main([*argv, "--check", "--no-plan"]) == 2
    assert "--nproc must be at least 1, not 0" in capsys.readouterr().err


def test_an_unknown_flag_is_one_line_pointing_to_the_commands_help(capsys):
    """Not argparse's usage block (a screen of flags) above the line: the line alone."""
    with pytest.raises(SystemExit) as stop:
        main(["train", "--bogus"])
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        "unetlab train: error: unrecognized arguments: --bogus: unetlab train has no such "
        "flag (see unetlab train --help for those it has)\n"
    )


def _pred_and_gt(tmp_path):
    """A prediction folder (class indices) and its ground truth (0 / 255)."""
    from unetlab.data.io import write_png

    gt = np.full((6, 8), 255, np.uint8)
    gt[:, 3] = 0
    write_png(tmp_path / "gt" / "a.png", gt)
    write_png(tmp_path / "pred" / "a.png", (gt == 255).astype(np.uint8))
    return ["--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]


def test_evaluate_json_dash_is_stdout(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["evaluate", *_pred_and_gt(tmp_path), "--label-values", "0", "255"]
    assert main([*argv, "--json", "-"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["miou"] == 1.0  # the JSON alone on stdout: jq reads it
    assert "Rand error" in err  # the table on stderr
    assert not (tmp_path / "-").exists() and not (tmp_path / "-_confusion.png").exists()
    assert main([*argv, "--json", "a.json"]) == 0
    assert (tmp_path / "a.json").read_text() == out  # one text (Report.json_text)


def test_bench_json_dash_is_stdout(tmp_path, monkeypatch, capsys):
    import unetlab.cli.bench

    monkeypatch.chdir(tmp_path)
    rows = [{"what": "forward", "seconds": 0.1}]
    monkeypatch.setattr(unetlab.cli.bench, "_measure", lambda args, model, device: rows)
    argv = ["bench", "--quick", "--preset", "small", "--tile-size", "64", "--threads", "1"]
    assert main([*argv, "--json", "-"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["rows"] == rows
    assert "forward" in err
    assert not (tmp_path / "-").exists()


@pytest.fixture
def data_and_run(tmp_path):
    root = write_synthetic_dataset(tmp_path / "em", n_train=2, n_val=1, size=64)
    run = tmp_path / "runs" / "a"
    return ["train", "--data", str(root), "--run-dir", str(run), "--no-plan"], run


def _saved(run):
    a_checkpoint(run / "checkpoints" / "last.pt")


def test_a_run_folder_that_holds_a_run_is_refused_in_the_clis_words(data_and_run, capsys):
    argv, run = data_and_run
    _saved(run)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "add --resume to continue it from there (--resume auto" in err
    assert "resume=True" not in err and "run_dir=" not in err


def test_resume_auto_starts_a_run_where_there_is_none(data_and_run, monkeypatch, caplog):
    import unetlab.train

    argv, run = data_and_run
    asked = []
    monkeypatch.setattr(unetlab.train, "fit", lambda cfg, **kw: asked.append(kw["resume"]))
    monkeypatch.setattr("unetlab.cli.train._summary", lambda run_dir, result: None)
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--resume", "auto"]) == 0
    assert asked == [False]
    said = f"--resume auto: {run}: no checkpoint to resume: starting the run"
    assert said in caplog.text


def test_resume_auto_resumes_a_run_where_there_is_one(data_and_run, capsys):
    argv, run = data_and_run
    _saved(run)
    assert main([*argv, "--resume", "auto"]) == 2  # resumed: its config.yaml is asked for
    assert "config.yaml is missing" in capsys.readouterr().err
