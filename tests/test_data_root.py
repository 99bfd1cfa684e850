"""Where a run's data folder is (audit s29 author, findings 2 and 8): a root from --config or
--set is read from the current folder and recorded absolute; a run folder never holds the
data; a split record's missing files name the folder looked in."""

import re
from pathlib import Path

import pytest
import yaml

from unetlab.cli import main
from unetlab.data.pairs import Pair
from unetlab.data.split_record import recorded_pairs, split_record
from unetlab.errors import DatasetError, first_line

TINY = ["--no-plan", "--epochs", "1", "--set", "model.depth=2", "--set", "data.tile_size=32"]


@pytest.fixture
def data(two_pair_data) -> Path:
    return two_pair_data


@pytest.mark.parametrize("how", ["set", "config"])
def test_a_relative_root_is_recorded_absolute(tmp_path, data, monkeypatch, how):
    monkeypatch.chdir(tmp_path)
    if how == "set":
        given = ["--set", "data.root=data"]
    else:
        (tmp_path / "cfg.yaml").write_text("data: {root: data}\n")
        given = ["--config", "cfg.yaml"]
    assert main(["train", *given, "--run-dir", "run", *TINY]) == 0
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["data"]["root"] == str(data)
    # the run's config.yaml trains the same data from anywhere
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = str(tmp_path / "run" / "config.yaml")
    assert main(["train", "--config", config, "--run-dir", "run2", *TINY]) == 0


def test_a_relative_root_beside_the_config_file_names_the_current_folder(
    tmp_path, data, monkeypatch, capsys
):
    """s51 walkcluster: ``root: ../data`` in configs/mine.yaml, run from the folder above,
    said "/x/../data: no such data folder"; the line now says where a relative root is read
    from, and the folder to give."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "mine.yaml").write_text("data: {root: ../data}\n")
    monkeypatch.chdir(tmp_path)
    argv = ["train", "--config", "configs/mine.yaml", "--run-dir", "run", *TINY]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"read from the current folder ({tmp_path})" in err
    assert f"give --data {data}" in err and not (tmp_path / "run").exists()
    monkeypatch.chdir(tmp_path / "configs")  # from the file's folder the same root works
    assert main([*argv[:2], "mine.yaml", *argv[3:]]) == 0


def test_missing_recorded_files_name_the_folder_looked_in(tmp_path, data, monkeypatch):
    pairs = [Pair(data / "images" / "00.png", data / "masks" / "00.png")]
    record = split_record(data, pairs, [])
    (tmp_path / "other" / "data").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "other")
    with pytest.raises(DatasetError) as err:
        recorded_pairs(record, "data")
    text = str(err.value)
    assert f"data (from the current folder: {tmp_path / 'other' / 'data'})" in text
    assert f"not the folder the run recorded ({data})" in text
    assert "no longer holds the files" in text
    with pytest.raises(DatasetError) as err:  # no folder at all: no list of missing files
        recorded_pairs(record, tmp_path / "gone")
    assert str(err.value) == (
        f"{tmp_path / 'gone'}, not the folder the run recorded ({data}), is not a folder: give "
        f"--data (data.root) the folder this run trained and validated on, {data} if it is "
        "still there"
    )


@pytest.mark.parametrize("where", ["data", "."])
def test_a_run_folder_that_holds_the_data_is_refused(tmp_path, data, capsys, where):
    before = sorted(tmp_path.rglob("*"))
    run_dir = data if where == "data" else tmp_path
    assert main(["train", "--data", str(data), "--run-dir", str(run_dir), *TINY]) == 2
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if "error:" in line]
    said = "is the data folder" if where == "data" else f"holds the data folder {data}"
    assert said in line and f"(e.g. {tmp_path / 'runs' / 'data'})" in line
    assert sorted(tmp_path.rglob("*")) == before


def test_python_fit_records_a_relative_root_absolute(tmp_path, data, monkeypatch):
    """The notebook route (README audit s29): fit() with data.root 'data' wrote it relative,
    so training again from config.yaml in another folder found no data."""
    from unetlab.config import load_config
    from unetlab.train import fit

    monkeypatch.chdir(tmp_path)
    cfg = load_config(
        None, ["data.root=data", "train.epochs=1", "model.depth=2", "data.tile_size=32"]
    )
    fit(cfg, run_dir="run", progress=False)
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["data"]["root"] == str(data)
    assert cfg.data.root == "data"  # the caller's config is not changed


@pytest.mark.parametrize("given", ["typo", "data/images/00.png"])
def test_a_missing_data_folder_is_said_before_the_run_folder_of_an_earlier_run(
    tmp_path, data, capsys, monkeypatch, given
):
    """A mistyped --data after a first run in the default runs/unet: the error named that
    run ("already holds a run: add --resume ...") and not the data folder (audit s41
    audittrain); now the data folder's line comes first, with the fix."""
    monkeypatch.chdir(data.parent)
    (data.parent / "runs" / "unet" / "checkpoints").mkdir(parents=True)
    (data.parent / "runs" / "unet" / "checkpoints" / "last.pt").write_bytes(b"x")
    image = next((data / "images").iterdir())
    path = "typo" if given == "typo" else str(image)
    assert main(["train", "--data", path, *TINY]) == 2
    (line,) = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    said = "no such data folder" if given == "typo" else "is a file, not a data folder"
    assert said in line and "already holds a run" not in line


def test_a_missing_data_folder_from_python_names_cfg_data_root(tmp_path):
    """Audit s48 apiwalk: plan_training and fit of a mistyped cfg.data.root said "give
    --data the folder of the data set", a flag a notebook has not; the command's line keeps
    --data (test above)."""
    from unetlab import fit, load_config, plan_training

    cfg = load_config(None, [f"data.root={tmp_path / 'typo'}"])
    for call in (lambda: plan_training(cfg), lambda: fit(cfg, run_dir=tmp_path / "run")):
        with pytest.raises(DatasetError, match="no such data folder; give cfg.data.root the"):
            call()
    assert not (tmp_path / "run").exists()


def test_a_data_sets_images_folder_from_python_names_the_python_argument(tmp_path, data):
    """Audit s48 pyflags: fit, plan_training and evaluate_model given a data set's images/
    folder said "give --data DIR", a flag a notebook has not; now cfg.data.root (fit,
    plan_training) or data_dir (evaluate_model, checked before its checkpoint loads)."""
    from unetlab import evaluate_model, fit, load_config, plan_training

    cfg = load_config(None, [f"data.root={data / 'images'}"])
    said = f"images/ folder of the data set {data}: give cfg.data.root {data} (the folder"
    for call in (lambda: plan_training(cfg), lambda: fit(cfg, run_dir=tmp_path / "run")):
        with pytest.raises(DatasetError, match=re.escape(said)):
            call()
    assert not (tmp_path / "run").exists()
    with pytest.raises(DatasetError, match=re.escape(f"give data_dir {data} (the folder")):
        evaluate_model(tmp_path / "no.pt", data / "images")


def test_a_data_sets_images_folder_to_the_command_names_data(tmp_path, data, capsys):
    """The command's line keeps --data (it checks before fit, which names cfg.data.root)."""
    args = ["train", "--data", str(data / "images"), "--run-dir", str(tmp_path / "run"), *TINY]
    assert main(args) == 2
    (line,) = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert f"give --data {data} (the folder that holds images/ and masks/)" in line
    assert not (tmp_path / "run").exists()


def test_a_data_sets_part_is_one_error_spelled_both_ways(tmp_path, data):
    """s49 claims: the images/-folder check ran at up to three levels (the command's, the
    Python API's, find_pairs' or ground_truth's), each naming its own spelling; now each
    entry point raises one DatasetError: its message names the Python argument, its ``cli``
    the command's flag, the same line otherwise."""
    from unetlab import evaluate_model, fit, load_config
    from unetlab.errors import DatasetError
    from unetlab.evaluate import evaluate_predictions

    images, masks = data / "images", data / "masks"
    cfg = load_config(None, [f"data.root={images}"])
    cases = [
        (lambda: fit(cfg, run_dir=tmp_path / "run"), "cfg.data.root", "--data"),
        (lambda: evaluate_model(tmp_path / "no.pt", masks), "data_dir", "--data"),
        (lambda: evaluate_predictions(images, masks), "pred_dir", "--pred"),
        (lambda: evaluate_predictions(masks, images), "gt_dir", "--gt"),
    ]
    for call, python, flag in cases:
        with pytest.raises(DatasetError) as err:
            call()
        said = str(err.value)
        assert f"give {python} " in said and "folder of the data set" in said, said
        assert err.value.cli == said.replace(f"give {python} ", f"give {flag} "), python


def test_the_command_checks_the_predictions_folder_once(tmp_path, data, monkeypatch):
    """evaluate --pred P --gt G asked whether P is a data set's images/ folder in the command,
    in evaluate_predictions and again in reading the predictions (s49 claims): now once."""
    import numpy as np

    import unetlab.data.pairs as pairs
    import unetlab.evaluate.masks as masks
    from unetlab.data.io import write_png

    for i in range(2):
        write_png(tmp_path / "pred" / f"{i:02d}.png", np.tile([0, 1], (32, 16)).astype(np.uint8))
    asked = []

    def counted(folder):
        asked.append(Path(folder).resolve())
        return real(folder)

    real = pairs.data_set_above
    monkeypatch.setattr(pairs, "data_set_above", counted)
    monkeypatch.setattr(masks, "data_set_above", counted)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(data / "masks")]
    assert main([*argv, "--label-values", "0", "255"]) == 0
    assert asked.count((tmp_path / "pred").resolve()) == 1


def test_a_missing_data_folder_names_each_callers_setting(tmp_path, capsys):
    """split_pairs of a mistyped root was told "give cfg.data.root the folder", a config its
    caller has not (s57): it names its own argument; a training's split (data_split) the
    config key; the command line --data (each its own form)."""
    from types import SimpleNamespace

    from unetlab.data.datasets import data_split, split_pairs
    from unetlab.data.pairs import find_pairs

    typo = tmp_path / "typo"
    with pytest.raises(DatasetError) as caught:
        split_pairs(typo)
    assert "no such data folder; give split_pairs' root the folder" in str(caught.value)
    assert "give --data the folder" in first_line(caught.value, cli=True)
    with pytest.raises(DatasetError) as caught:  # find_pairs said --data (review s57)
        find_pairs(typo)
    assert "no such data folder; give find_pairs' root the folder" in str(caught.value)
    assert "give --data the folder" in first_line(caught.value, cli=True)
    data = SimpleNamespace(root=typo, val_fraction=0.2, seed=0, axes=None, ctc_truth="gold")
    with pytest.raises(DatasetError, match="no such data folder; give cfg.data.root the"):
        data_split(data)
    assert main(["train", "--data", str(typo), *TINY]) == 2
    assert "no such data folder; give --data the folder" in capsys.readouterr().err
