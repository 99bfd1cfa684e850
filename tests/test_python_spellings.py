"""A line reached from the Python API names its keywords, the command's the flags (audit s49
apilines: evaluate_predictions' and evaluate_model's folder lines, a ground truth drawn as
outlines and load_config given a folder said --gt, --data or --config, flags a notebook has
not). One error carries both spellings (``UnetlabError.cli``): the command prints its own,
word for word as before."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tests.test_checks import binary_set
from unetlab import UNet, evaluate_model, evaluate_predictions, save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.errors import (
    DatasetError,
    Spelled,
    UnetlabError,
    command_spelling,
    first_line,
    said,
    said_as,
    spelled,
)


def _error_line(capsys) -> str:
    (line,) = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    return line


def test_an_error_carries_each_spelling_and_the_command_prints_its_own():
    said = spelled(lambda f: f"give {f} a folder", Spelled("gt_dir", "--gt"))
    error = DatasetError(**said)
    assert str(error) == "give gt_dir a folder" and first_line(error) == "give gt_dir a folder"
    assert first_line(error, cli=True) == "give --gt a folder"
    assert first_line(UnetlabError("one for both"), cli=True) == "one for both"
    assert spelled(lambda f: f"give {f}", "--data") == {"message": "give --data"}


def test_a_line_logged_names_the_command_s_flag_only_while_it_runs(tmp_path):
    """A line logged cannot carry both spellings: the command's while it runs (its worker
    threads' too: a flag of the module, not of a context), the API's keyword before and
    after, also after a command that failed."""
    auto = Spelled("scale='auto'", "--scale auto")
    assert said_as(auto) == "scale='auto'"
    with command_spelling():
        assert said_as(auto) == "--scale auto"
    assert said_as(auto) == "scale='auto'"
    assert main(["evaluate", "--pred", str(tmp_path / "none"), "--gt", str(tmp_path)]) == 2
    assert said_as(auto) == "scale='auto'"


def test_an_error_quoted_in_lines_of_one_spelling_says_the_running_caller_s():
    """said(): the message names the settings as the caller that runs spells them (a data
    set's problems quote it), the cli as the command line does, whoever runs."""
    axes = Spelled("axes=", "--axes")
    python = said(lambda a, b: f"{a} and {b}", axes, "data")
    assert python == {"message": "axes= and data", "cli": "--axes and data"}
    with command_spelling():
        cli = said(lambda a, b: f"{a} and {b}", axes, "data")
    assert cli == {"message": "--axes and data", "cli": "--axes and data"}


def _predictions(tmp_path, names=("00",)):
    folder = tmp_path / "pred"
    for name in names:
        write_png(folder / f"{name}.png", np.zeros((32, 32), np.uint8))
    return folder


def test_ground_truth_without_a_prediction_names_gt_dir_from_python(tmp_path, capsys):
    gt, pred = binary_set(tmp_path / "gt", 2), _predictions(tmp_path)
    with pytest.raises(DatasetError, match="give gt_dir a folder of only the predicted") as said:
        evaluate_predictions(pred, gt, label_values=[0, 255])
    assert "--gt" not in str(said.value)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt), "--label-values", "0", "255"])
    assert "give --gt a folder of only the predicted images' masks" in _error_line(capsys)


def test_a_ground_truth_of_val_and_test_names_gt_dir_from_python(tmp_path, capsys):
    for split in ("val", "test"):
        binary_set(tmp_path / "gt" / split, 1)
    gt, pred = tmp_path / "gt", _predictions(tmp_path)
    said = f"give gt_dir {gt / 'test'} to score the held-out images, or gt_dir {gt / 'val'}"
    with pytest.raises(DatasetError, match=said):
        evaluate_predictions(pred, gt, label_values=[0, 255])
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt)]) == 2
    assert f"give --gt {gt / 'test'} to score the held-out images, or --gt" in _error_line(capsys)


def test_outlines_without_their_image_size_name_gt_dir_from_python(tmp_path, capsys):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir()
    pred.mkdir()
    (gt / "a.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(DatasetError, match=r"or give gt_dir the data folder \(its images/"):
        evaluate_predictions(pred, gt)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt)]) == 2
    assert "or give --gt the data folder (its images/ beside masks/)" in _error_line(capsys)


def test_a_data_dir_whose_train_and_test_hold_sets_names_data_dir_from_python(tmp_path, capsys):
    for split in ("train", "test"):
        binary_set(tmp_path / "d" / split, 1)
    d, model = tmp_path / "d", UNet(1, 2, depth=2, base_channels=4, padding="same")
    with pytest.raises(DatasetError) as raised:
        evaluate_model(model, d, progress=False)
    # no training hint for evaluate's folder: it said "(fit with cfg.data.root=d reads
    # train/ ...)" (s49 review1)
    assert str(raised.value).endswith(f"hold one: give data_dir {d / 'test'}")
    checkpoint = save_model(tmp_path / "m.pt", model)
    assert main(["evaluate", "--checkpoint", str(checkpoint), "--data", str(d)]) == 2
    assert _error_line(capsys).endswith(f"hold one: give --data {d / 'test'}")


def test_a_root_whose_test_holds_a_set_names_cfg_data_root_to_fit(tmp_path, capsys):
    """plan_training and fit of a root with no set of its own but test/: cfg.data.root;
    ``unetlab train --data``: --data, as before."""
    from unetlab import load_config, plan_training

    binary_set(tmp_path / "d" / "test", 2)
    d = tmp_path / "d"
    cfg = load_config(None, [f"data.root={d}"])
    put = f"(or put the training set in {d / 'train'}/)"  # no train/ to read (s58 review G)
    with pytest.raises(DatasetError) as raised:
        plan_training(cfg)
    assert f"give cfg.data.root {d / 'test'} {put}" in str(raised.value)
    assert "--data" not in str(raised.value)
    assert main(["train", "--data", str(d), "--run-dir", str(tmp_path / "run")]) == 2
    assert f"give --data {d / 'test'} {put}" in _error_line(capsys)
    (d / "train").mkdir()  # a train/ it reads: said so
    said = f"give cfg.data.root {d / 'test'} (fit with cfg.data.root={d} reads train/"
    with pytest.raises(DatasetError, match=said.replace("(", r"\(")):
        plan_training(cfg)
    assert main(["train", "--data", str(d), "--run-dir", str(tmp_path / "run")]) == 2
    said = f"give --data {d / 'test'} (train --data {d} reads train/ with val/, if any)"
    assert said in _error_line(capsys)


def test_split_pairs_of_a_root_whose_test_holds_a_set_says_it_reads_train(tmp_path):
    """split_pairs(root) of a root with no set of its own but test/ named test/ with no
    hint, where fit's config and ``train --data`` were told they read train/ (s58 forms9):
    split_pairs reads train/ (with val/) itself."""
    from unetlab import split_pairs

    d = binary_set(tmp_path / "d" / "test", 2).parent
    with pytest.raises(DatasetError) as raised:
        split_pairs(d)  # no train/: not the call that failed (s58 review G)
    said = f"give split_pairs' root {d / 'test'} (or put the training set in {d / 'train'}/)"
    assert said in str(raised.value), raised.value
    (d / "train").mkdir()
    with pytest.raises(DatasetError) as raised:
        split_pairs(d)
    said = f"give split_pairs' root {d / 'test'} (split_pairs({str(d)!r}) reads train/ with val/"
    assert said in str(raised.value), raised.value
    binary_set(d / "train", 2)  # as said: read
    assert {p.image.parent.parent.name for ps in split_pairs(d) for p in ps} == {"train"}


def test_mask_values_of_no_class_name_label_values_from_python(tmp_path, capsys):
    """Masks of object ids 0..7000 read as class indices beside a class map: Python names
    label_values= and gt_instances=True, the command --label-values and --gt-instances."""
    import tifffile

    (tmp_path / "gt").mkdir()
    ids = np.zeros((40, 40), np.uint16)
    ids[5:15, 5:15], ids[20:30, 20:30] = 7000, 3
    tifffile.imwrite(tmp_path / "gt" / "00.tif", ids)
    write_png(tmp_path / "pred" / "00.png", (ids > 0).astype(np.uint8))
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    with pytest.raises(DatasetError, match="values 0..7000 are not class indices") as said:
        evaluate_predictions(pred, gt)
    assert "label_values=[0, 255]), or gt_instances=True if" in str(said.value)
    assert "--" not in str(said.value)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt)]) == 2
    line = "are not class indices; pass the label values (e.g. --label-values 0 255), or "
    assert line + "--gt-instances if they are object ids" in _error_line(capsys)


def test_mask_values_of_no_class_of_a_model_name_its_classes(tmp_path):
    """evaluate_model has no label values nor object ids to give: the line names the classes
    the masks must hold, no setting it does not take."""
    import tifffile

    write_png(tmp_path / "d" / "images" / "a.png", np.full((32, 32), 90, np.uint8))
    mask = np.zeros((32, 32), np.int16)
    mask[4:10, 4:10], mask[12:20, 12:20] = -5, 1
    (tmp_path / "d" / "masks").mkdir()
    tifffile.imwrite(tmp_path / "d" / "masks" / "a.tif", mask)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.classes = ["background", "nuclei"]
    with pytest.raises(DatasetError, match="values -5..1 are not class indices") as said:
        evaluate_model(model, tmp_path / "d", progress=False)
    fix = "masks must hold the classes the model was trained on (class indices 0..1: background"
    assert fix in str(said.value) and fix in first_line(said.value, cli=True)
    assert "label" not in str(said.value) and "instances" not in str(said.value)


def test_a_grey_file_for_a_model_of_channels_names_axes_from_python(tmp_path, capsys):
    """refuse_channelless said --axes to predict_file and evaluate_model; they name axes=,
    the commands --axes, also where the line is quoted in a data set's problems (evaluate)
    or in predict's failed line, which carry one spelling."""
    import tifffile

    from tests.test_trained_axes import H, W, _net
    from unetlab.inference.files import predict_file

    for sub in ("images", "masks"):
        (tmp_path / "d" / sub).mkdir(parents=True)
        tifffile.imwrite(
            tmp_path / "d" / sub / "g.ome.tif",
            np.zeros((2, 3, H, W), np.uint8),
            metadata={"axes": "TZYX"},
        )
    image = tmp_path / "d" / "images" / "g.ome.tif"
    python = "give axes='TCYX' if its Z holds them or axes='TZYX' to repeat its grey into each"
    with pytest.raises(UnetlabError, match=python):
        predict_file(_net("CYX", 3), image, tmp_path / "o")
    with pytest.raises(UnetlabError, match=python):
        evaluate_model(_net("CYX", 3), tmp_path / "d", progress=False)
    checkpoint = save_model(
        tmp_path / "m.pt", _net(None, 3), train_config={"data": {"axes": "CYX"}}
    )
    run = ["--checkpoint", str(checkpoint), "--no-progress"]
    assert main(["evaluate", *run, "--data", str(tmp_path / "d")]) == 2
    assert main(["predict", *run, "--input", str(image), "--output", str(tmp_path / "p")]) == 3
    cli = "give --axes TCYX if its Z holds them or --axes TZYX to repeat its grey into each"
    err = capsys.readouterr().err
    assert err.count(cli) == 2 and "axes=" not in err


def test_a_ground_truth_of_train_and_test_names_the_one_to_give(tmp_path, capsys):
    """A gt_dir whose train/ and test/ hold data sets said 'no masks found; give a folder of
    masks or a data folder with masks/', naming neither: now test/, as detect_layout does."""
    for split in ("train", "test"):
        binary_set(tmp_path / "gt" / split, 1)
    gt, pred = tmp_path / "gt", _predictions(tmp_path)
    said = f"{gt}: no data set in the folder itself, but test/, train/ hold one: give "
    with pytest.raises(DatasetError, match=re.escape(f"{said}gt_dir {gt / 'test'}") + "$"):
        evaluate_predictions(pred, gt, label_values=[0, 255])
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt)]) == 2
    assert _error_line(capsys).endswith(f"{said}--gt {gt / 'test'}")  # no training hint


def test_the_command_prints_a_mask_value_refusal_in_its_flags_whole(tmp_path, capsys):
    """unetlab evaluate caught MaskValuesError to raise its cli text again; main prints an
    error's cli spelling itself: --pred and --checkpoint print the same whole line (pinned
    here as they printed it with the catch), Python names the keywords."""
    gt, pred = binary_set(tmp_path / "gt", 1), tmp_path / "pred"
    write_png(pred / "00.png", np.full((32, 32), 2, np.uint8))
    with pytest.raises(DatasetError, match=r"label_values=\[0, 255\] \(or class_names="):
        evaluate_predictions(pred, gt)
    assert main(["evaluate", "--pred", str(pred), "--gt", str(gt)]) == 2
    assert capsys.readouterr().err == (
        "unetlab evaluate: error: the masks hold values 0 255 but the predictions hold "
        "class indices 0..2; pass the mask value of each class: --label-values 0 255 (or "
        "--class-names if the masks do hold class indices)\n"
    )
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.classes = ["background", "nuclei"]
    checkpoint = save_model(tmp_path / "m.pt", model)
    argv = ["evaluate", "--checkpoint", str(checkpoint), "--data", str(gt), "--no-progress"]
    assert main(argv) == 2
    mask = gt / "masks" / "00.png"
    assert _error_line(capsys) == (
        f"unetlab evaluate: error: {mask}: mask value 255 is no class of the checkpoint "
        "(class indices 0..1: background, nuclei): fix that mask (another encoding? stray "
        "marks?), or give --ignore-value 255 if its pixels count nowhere; masks of object ids "
        "are scored against a nuclei (instance) model, or with evaluate --pred --gt-instances "
        "after unetlab predict --instances"
    )
