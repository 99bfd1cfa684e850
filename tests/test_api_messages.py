"""The Python API in a notebook (audit s30, notebook findings 9, 10): a refused run folder
names the Python way (resume=True, overwrite=True, run_dir=) beside the flags; a folder's
prediction shows its progress bar in a notebook, whose stderr is no terminal."""

import sys
import types

import numpy as np
import pytest

from unetlab import UNet, fit
from unetlab.data.io import write_png
from unetlab.errors import OutputError
from unetlab.inference.folders import predict_folder

from .test_train import tiny_config, write_blobs


def test_a_run_folder_that_holds_a_run_names_the_python_way(tmp_path):
    data = write_blobs(tmp_path / "data", 4)
    fit(tiny_config(data, "train.epochs=1"), run_dir=tmp_path / "run", progress=False)
    with pytest.raises(OutputError) as refused:
        fit(tiny_config(data, "train.epochs=1"), run_dir=tmp_path / "run", progress=False)
    line = str(refused.value)
    assert "use resume=True to continue it" in line and "overwrite=True to start again" in line
    assert "or another run_dir" in line and "--" not in line  # the Python words alone (s54)
    cli = refused.value.cli  # the command line's words, for a command that prints it
    assert "use --resume to continue it" in cli and "--overwrite to start again" in cli
    assert "or another --run-dir" in cli and "=True" not in cli


def test_fit_resume_auto_starts_a_run_then_resumes_it(tmp_path, caplog):
    # as train --resume auto does, for a requeued Python job (review s30 finding 12)
    import logging

    data, run = write_blobs(tmp_path / "data", 4), tmp_path / "run"
    with caplog.at_level(logging.INFO, logger="unetlab"):
        first = fit(tiny_config(data, "train.epochs=1"), run_dir=run, resume="auto", progress=False)
        again = fit(tiny_config(data, "train.epochs=2"), run_dir=run, resume="auto", progress=False)
    assert f"{run}: no checkpoint to resume: starting the run" in caplog.text
    assert f"{run}: resuming the run it holds" in caplog.text
    assert again["steps"] == 2 * first["steps"]
    with pytest.raises(ValueError, match="resume must be True, False or 'auto', not 'yes'"):
        fit(tiny_config(data), run_dir=run, resume="yes", progress=False)


def test_a_folder_of_other_things_names_the_python_way(tmp_path):
    # named the flags only (review s30 finding 13)
    from unetlab.train.rundir import prepare_run_dir

    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_text("mine")
    with pytest.raises(OutputError) as refused:
        prepare_run_dir(tmp_path / "photos", resume=False, overwrite=False)
    line = str(refused.value)  # the keywords alone (s54: both, "--resume (resume=True)")
    assert "give run_dir a new or empty folder" in line and "with resume=True)" in line
    assert "--" not in line
    cli = refused.value.cli
    assert "give --run-dir a new or empty folder" in cli and "with --resume)" in cli


def test_resume_without_a_checkpoint_names_the_callers_words(tmp_path):
    # Python was told overwrite=True, which beside resume=True is refused (review s54)
    from unetlab.train.rundir import prepare_run_dir

    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(OutputError) as refused:
        prepare_run_dir(run, resume=True, overwrite=False)
    assert str(refused.value).endswith(
        "start the run again with resume=False, or give run_dir a run that saved a checkpoint"
    )
    assert refused.value.cli.endswith(
        "with --overwrite, or give --run-dir a run that saved a checkpoint"
    )
    assert prepare_run_dir(run, resume=False, overwrite=False) == run  # the advice works


def test_resume_of_a_run_with_only_its_best_checkpoint_says_what_starts_it_again(tmp_path):
    from unetlab.train.rundir import prepare_run_dir

    run = prepare_run_dir(tmp_path / "run", resume=False, overwrite=False)
    (run / "checkpoints" / "best.pt").write_bytes(b"saved")
    with pytest.raises(OutputError) as refused:
        prepare_run_dir(run, resume=True, overwrite=False)
    best = run / "checkpoints" / "best.pt"
    # s54: --overwrite was advised without a word that it deletes best.pt
    assert (
        "start the run again with resume=False, overwrite=True (its best.pt goes; another "
        f"run_dir with cfg.model.init_checkpoint = '{best}' starts from it), or"
    ) in str(refused.value)
    assert (
        "start the run again with --overwrite (its best.pt goes; another --run-dir with "
        f"--init {best} starts from it), or give --run-dir a run that saved a checkpoint"
    ) in refused.value.cli
    assert prepare_run_dir(run, resume=False, overwrite=True) == run  # the advice works
    assert not (run / "checkpoints" / "best.pt").exists()


def _run_dir_refusal(call) -> tuple[str, str]:
    """The Python and command-line lines of the OutputError/UnetlabError ``call`` raises."""
    from unetlab.errors import UnetlabError

    with pytest.raises(UnetlabError) as refused:
        call()
    return str(refused.value), refused.value.cli


def test_each_run_folder_refusal_names_the_callers_words(tmp_path):
    """Four refusals said "--run-dir (run_dir=...)" to both callers (review s54); a fifth
    "(another --run-dir or run_dir, or --overwrite, overwrite=True)"."""
    from unetlab.config import Config
    from unetlab.train.rundir import _check_resumed, check_run_dir

    foreign, table, others, data, unconfigured = (
        tmp_path / n for n in ("foreign", "table", "others", "data", "unconfigured")
    )
    for folder, name in ((foreign, "config.yaml"), (table, "folds.csv"), (others, "x.txt")):
        folder.mkdir()
        (folder / name).write_text("mine")
    data.mkdir()
    (unconfigured / "checkpoints").mkdir(parents=True)
    again = "start a new run (another {}, or {})"
    refusals = [  # (the refused call, its Python words, its command line's words)
        (
            lambda: check_run_dir(foreign, None),
            "choose another run_dir",
            "choose another --run-dir",
        ),
        (
            lambda: check_run_dir(table, None, folds=True),
            "folds.csv exists and was not written by unetlab: choose another run_dir (",
            "folds.csv exists and was not written by unetlab: choose another --run-dir (",
        ),
        (
            lambda: check_run_dir(others, None, folds=True),
            "give run_dir a new or empty folder, or one that fit_folds trained into",
            "give --run-dir a new or empty folder, or one that --folds trained into",
        ),
        (
            lambda: check_run_dir(data, data),
            "give run_dir a folder of its own",
            "give --run-dir a folder of its own",
        ),
        (
            lambda: _check_resumed(unconfigured, Config()),
            again.format("run_dir", "resume=False, overwrite=True"),
            again.format("--run-dir", "--overwrite"),
        ),
    ]
    for call, python, cli in refusals:
        line, said = _run_dir_refusal(call)
        assert python in line and "--" not in line, line
        assert cli in said and "run_dir" not in said, said


def test_label_values_from_the_predictions_record_name_the_python_way(
    tmp_path, monkeypatch, caplog
):
    import logging

    from unetlab.evaluate import predictions
    from unetlab.evaluate.masks import Written

    monkeypatch.setattr(predictions, "recorded_label_values", lambda written: [255, 0])
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert predictions._recorded_values(Written(tmp_path)) == [255, 0]
    # each caller its form (s55 review: a notebook was told flag and keyword at once)
    assert "; label_values= gives others" in caplog.text and "--label-values (" not in caplog.text


@pytest.mark.parametrize("command", [False, True], ids=["python", "cli"])
def test_the_predictions_records_lines_name_each_caller_s_form(
    tmp_path, monkeypatch, caplog, command
):
    """The lines of what predict.json records (label values, the training's, the ignore value,
    class names) gave the flag and the keyword inline, "--label-values (label_values=)":
    now the caller's form alone, the command line's while it runs."""
    import contextlib
    import logging

    from unetlab.errors import command_spelling
    from unetlab.evaluate import predictions
    from unetlab.evaluate.masks import Written

    monkeypatch.setattr(predictions, "recorded_label_values", lambda written: None)
    monkeypatch.setattr(predictions, "trained_label_values", lambda written: [0, 255])
    monkeypatch.setattr(predictions, "recorded_ignore_value", lambda written: 7)
    monkeypatch.setattr(predictions, "recorded_class_names", lambda written: ["a", "b"])
    running = command_spelling() if command else contextlib.nullcontext()
    with caplog.at_level(logging.INFO, logger="unetlab"), running:
        predictions._recorded_values(Written(tmp_path))
        predictions._recorded_ignore(Written(tmp_path))
        predictions._recorded_names(Written(tmp_path), None)
    said = [
        "predict.json); {} overrides",
        "count nowhere; {} gives another",
        "(the model's); {} gives others",
    ]
    cli = ["--label-values", "--ignore-value", "--class-names"]
    python = ["label_values=", "ignore_value=", "class_names="]
    forms, others = (cli, python) if command else (python, cli)
    for line, form in zip(said, forms):
        assert line.format(form) in caplog.text, caplog.text
    assert not [other for other in others if other in caplog.text], caplog.text


def test_a_folder_prediction_shows_its_bar_in_a_notebook(tmp_path, monkeypatch, capsys):
    write_png(tmp_path / "in" / "a.png", np.zeros((32, 32), np.uint8))
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # the text bar, on stderr
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    predict_folder(model, tmp_path / "in", tmp_path / "out", progress=True)
    assert "files" in capsys.readouterr().err
    predict_folder(model, tmp_path / "in", tmp_path / "out2", progress=False)
    assert "files" not in capsys.readouterr().err


def test_planning_without_a_data_folder_names_the_attribute():
    from unetlab import load_config, plan_training
    from unetlab.errors import UnetlabError

    with pytest.raises(UnetlabError, match=r"no data folder: set cfg.data.root = 'path/to/data'"):
        plan_training(load_config(None, []))


def test_the_calls_over_many_images_show_their_bar_by_default_as_fit(tmp_path, monkeypatch, capsys):
    """fit's epoch bar was on by default, evaluate_model's and predict_folder's off (s44 small
    7): a call over many images now shows its bar in a notebook unless progress=False; a call
    on one image (predict_image, run in a loop of frames) stays quiet unless asked."""
    from unetlab import evaluate_model, predict_image

    data = write_blobs(tmp_path / "data", 2, size=32)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # the text bar, on stderr
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    model.label_values = [0, 255]
    capsys.readouterr()
    predict_folder(model, data / "images", tmp_path / "out")
    assert "files" in capsys.readouterr().err
    evaluate_model(model, data)
    assert "images" in capsys.readouterr().err
    evaluate_model(model, data, progress=False)
    predict_image(model, np.zeros((32, 32), np.uint8))
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("command", [False, True], ids=["python", "cli"])
def test_the_lines_of_predictions_objects_name_each_caller_s_form(
    tmp_path, monkeypatch, caplog, command
):
    """'predict with --instances (objects=True)' and '--objects-3d (objects_3d=True) matches
    them' gave flag and keyword at once (s55 review): now the caller's form alone."""
    import contextlib
    import logging
    from types import SimpleNamespace

    from unetlab.errors import command_spelling
    from unetlab.evaluate import predictions

    record = {"checkpoint": "m.pt", "outputs": {"objects": None}}
    written = SimpleNamespace(record=lambda path: record)
    maps = {"a": tmp_path / "a.tif"}
    objects = {"b": tmp_path / "b_objects.tif"}
    preds = SimpleNamespace(objects=objects, maps=maps, written=written, folder=tmp_path)
    monkeypatch.setattr(predictions, "recorded_3d", lambda found, w: {found[0]: True})
    running = command_spelling() if command else contextlib.nullcontext()
    with caplog.at_level(logging.WARNING, logger="unetlab"), running:
        predictions._say_regions(preds, ["a"], SimpleNamespace(summary={"object_f1": 1.0}))
        predictions._say_planewise(preds, ["b"])
    forms = ["--instances", "--objects-3d"], ["objects=True", "objects_3d=True"]
    forms, others = forms if command else forms[::-1]
    assert f"predict with {forms[0]} to score those" in caplog.text, caplog.text
    assert f"planes; {forms[1]} matches them in 3-D" in caplog.text, caplog.text
    assert not [other for other in others if f"{other} " in caplog.text], caplog.text


def test_the_checkpoint_s_ignore_value_line_names_each_caller_s_form(caplog):
    """evaluate_model said "--ignore-value (ignore_value=) sets another" (s55 review)."""
    import logging

    import numpy as np

    from unetlab.errors import command_spelling
    from unetlab.evaluate.model import _say_ignored

    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _say_ignored(np.array([[0, 255]]), 255)
        with command_spelling():
            assert _say_ignored(np.array([[0, 255]]), 255)
    python, cli = [r.getMessage() for r in caplog.records]
    assert python.endswith("this checkpoint; ignore_value= sets another"), python
    assert cli.endswith("this checkpoint; --ignore-value sets another"), cli
