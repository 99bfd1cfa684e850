"""class_names.txt of masks whose values are not 0, 1, 2, ...: lines ``VALUE NAME`` name
those values, and names that miss the masks' values are said (audit s31 upgrade 9: '0
background / 128 dim / 255 bright' gave class 0 the name '0 background' and dropped the rest
without a word)."""

import logging

import numpy as np
import pytest

from unetlab.config import load_config
from unetlab.data.classes import names_of_lines, read_class_names
from unetlab.data.io import write_png
from unetlab.errors import DatasetError, command_spelling
from unetlab.plan import check_training_data, plan_training
from unetlab.train import prepare_data


def test_lines_of_value_and_name_name_those_values():
    assert names_of_lines(["0 background", "128 dim", "255: bright"]) == {
        0: "background",
        128: "dim",
        255: "bright",
    }
    assert names_of_lines(["background", "cell"]) == {0: "background", 1: "cell"}
    # not every line of the form, or a value twice: line i names value i, as before
    assert names_of_lines(["0 background", "cell"]) == {0: "0 background", 1: "cell"}
    assert names_of_lines(["3D cell", "3D nucleus"]) == {0: "3D cell", 1: "3D nucleus"}


def _data(root, names: str):
    rng = np.random.default_rng(0)
    for i in range(4):
        mask = np.zeros((32, 32), np.uint8)
        mask[4:14, 4:14], mask[18:28, 18:28] = 128, 255
        write_png(root / "images" / f"{i}.png", rng.integers(0, 255, (32, 32), np.uint8))
        write_png(root / "masks" / f"{i}.png", mask)
    (root / "class_names.txt").write_text(names)


def test_names_of_values_the_masks_hold_reach_the_plan(tmp_path):
    _data(tmp_path, "0 background\n128 dim\n255 bright\n")
    assert read_class_names(tmp_path) == {0: "background", 128: "dim", 255: "bright"}
    data = prepare_data(load_config(None, [f"data.root={tmp_path}"]))
    assert data.label_values == [0, 128, 255]
    assert data.class_names == ["background", "dim", "bright"]


def test_names_that_miss_the_masks_values_are_said(tmp_path, caplog):
    _data(tmp_path, "background\ndim\nbright\n")
    _, plan = plan_training(load_config(None, [f"data.root={tmp_path}"]))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        plan.log()
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        m.startswith(
            "the class names name mask values 1, 2, which no mask holds, and leave 128, 255, "
            "which masks hold, unnamed"
        )
        for m in said
    ), said


def test_a_value_beside_the_named_classes_is_said_with_its_files(tmp_path, caplog):
    """Names of 0..2 (all held) and value 3 in two of four masks: a stray label, or a short
    names file; it trained a class "3" without a word (audit s39 roads)."""
    rng = np.random.default_rng(0)
    for i in range(4):
        mask = np.zeros((32, 32), np.uint8)
        mask[4:14, 4:14], mask[18:28, 18:28] = 1, 2
        mask[0:3, 0:3] = 3 if i < 2 else 0
        write_png(tmp_path / "images" / f"{i}.png", rng.integers(0, 255, (32, 32), np.uint8))
        write_png(tmp_path / "masks" / f"{i}.png", mask)
    (tmp_path / "class_names.txt").write_text("road\ncar\npole\n")
    _, plan = plan_training(load_config(None, [f"data.root={tmp_path}"]))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        plan.log()
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    masks = tmp_path / "masks"
    assert any(
        m.startswith("mask value 3 has no class name (the names cover 0-2)")
        and f"held by 2 masks: {masks / '0.png'}, {masks / '1.png'};" in m  # as found (s55)
        and "class_names.txt (line i names value i)" in m  # a 4th line names it
        for m in said
    ), said


def test_a_value_far_past_the_named_ones_is_told_to_be_named_by_value(tmp_path, caplog):
    """Names of 0..2 and value 255 kept as a class by data.label_values: the note said to
    name it in class_names.txt '(line i names value i)', 256 lines; it says VALUE NAME
    lines, which name it, as the plan then says."""
    rng = np.random.default_rng(0)
    for i in range(4):
        mask = np.zeros((32, 32), np.uint8)
        mask[4:14, 4:14], mask[18:28, 18:28] = 1, 2
        mask[0:3, 0:3] = 255 if i < 2 else 0
        write_png(tmp_path / "images" / f"{i}.png", rng.integers(0, 255, (32, 32), np.uint8))
        write_png(tmp_path / "masks" / f"{i}.png", mask)
    (tmp_path / "class_names.txt").write_text("road\ncar\npole\n")
    settings = [f"data.root={tmp_path}", "data.label_values=[0, 1, 2, 255]"]
    _, plan = plan_training(load_config(None, settings))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        plan.log()
    said = [r.getMessage() for r in caplog.records if "has no class name" in r.getMessage()]
    assert len(said) == 1 and "line i names value i" not in said[0], said
    assert "class_names.txt with each line as VALUE NAME ('0 road', ..., '255 NAME')" in said[0]
    (tmp_path / "class_names.txt").write_text("0 road\n1 car\n2 pole\n255 sign\n")
    caplog.clear()
    _, plan = plan_training(load_config(None, settings))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        plan.log()
    assert "has no class name" not in caplog.text


def test_a_value_the_names_call_void_is_refused_unless_ignored(tmp_path):
    """'255 void' in class_names.txt trained void as a class, where a colour table's void
    counts nowhere (audit s39 roads)."""
    import pytest

    from unetlab.errors import UnetlabError

    _data(tmp_path, "0 background\n128 cell\n255 void\n")
    with pytest.raises(UnetlabError, match="call mask value 255 'void', which would train as"):
        plan_training(load_config(None, [f"data.root={tmp_path}"]))
    # the fix as its caller sets it: a notebook's plan_training was told --set (s52)
    with pytest.raises(UnetlabError, match="class: cfg.data.ignore_value = 255 to count it"):
        plan_training(load_config(None, [f"data.root={tmp_path}"]))
    with (
        command_spelling(),
        pytest.raises(UnetlabError, match="class: --set data.ignore_value=255"),
    ):
        plan_training(load_config(None, [f"data.root={tmp_path}"]))
    cfg, _ = plan_training(load_config(None, [f"data.root={tmp_path}", "data.ignore_value=255"]))
    assert cfg.data.ignore_value == 255


def test_a_void_name_beside_palette_masks_is_their_void_already(tmp_path):
    """VOC palette masks: 255 is read as void, so '255 void' among the names is no class."""
    from unetlab.data.scenes import SCENE_CLASSES, write_voc_scenes

    write_voc_scenes(tmp_path, n_train=3, n_val=1, size=48)
    lines = [f"{i} {n}" for i, n in enumerate(SCENE_CLASSES)] + ["255 void"]
    (tmp_path / "class_names.txt").write_text("\n".join(lines) + "\n")
    plan_training(load_config(None, [f"data.root={tmp_path}"]))  # not refused


def test_names_unlike_those_of_a_table_in_masks_are_refused(tmp_path):
    """class_names.txt in the data root beside colour masks read through a class_colors.txt in
    masks/ (find_colour_table looks there first): the two naming the classes otherwise was
    refused only for a table in the root and passed silently here (audit s45)."""
    colours = np.array([[128, 64, 128], [70, 130, 180]], np.uint8)
    for i in range(4):
        mask = np.zeros((24, 24), np.uint8)
        mask[12:] = 1
        write_png(tmp_path / "images" / f"r{i}.png", np.full((24, 24), 40 * i, np.uint8))
        write_png(tmp_path / "masks" / f"r{i}.png", colours[mask])
    (tmp_path / "masks" / "class_colors.txt").write_text("128 64 128 road\n70 130 180 sky\n")
    (tmp_path / "class_names.txt").write_text("sky\nroad\n")
    cfg = load_config(None, [f"data.root={tmp_path}"])
    with pytest.raises(DatasetError) as err:
        check_training_data(cfg)
    assert str(err.value).startswith(
        f"{tmp_path / 'class_names.txt'} and {tmp_path / 'masks' / 'class_colors.txt'} name "
        "the classes differently: value 0 is 'sky' in class_names.txt, 'road' in "
        "class_colors.txt (and 1 more value)"
    )
    # review s63: a table in masks/ alone names the data set's classes without it (training
    # said 0, 1 before, weightmap the table's names): deleting class_names.txt is a fix
    assert str(err.value).endswith("or delete class_names.txt (the table's names are used then)")
    (tmp_path / "class_names.txt").write_text("Road\nsky\n")  # the fix it names
    check_training_data(cfg)
    assert read_class_names(tmp_path) == {0: "Road", 1: "sky"}


def test_only_the_table_that_names_the_classes_is_told_to_take_over_by_its_deletion(tmp_path):
    """Review s46: 'or delete class_names.txt (the table's names are used then)' holds of
    the table read_class_names names the classes from: the data root's, not one below it
    then; masks/'s where the root has none (review s63: training and weightmap read it
    alike)."""
    from unetlab.data.classes import names_disagree
    from unetlab.data.colour_table import read_colour_table

    for folder in (tmp_path, tmp_path / "masks"):
        folder.mkdir(exist_ok=True)
        (folder / "class_colors.txt").write_text("128 64 128 road\n70 130 180 sky\n")
    path = tmp_path / "class_names.txt"
    here = names_disagree({0: "sky", 1: "road"}, read_colour_table(tmp_path), path)
    below = names_disagree({0: "sky", 1: "road"}, read_colour_table(tmp_path / "masks"), path)
    assert here.endswith("or delete class_names.txt (the table's names are used then)")
    assert below.endswith("void rows aside)")
    assert read_class_names(tmp_path) == {0: "road", 1: "sky"}  # no class_names.txt: the root's
    (tmp_path / "class_colors.txt").unlink()  # masks/'s alone names the data set's classes
    assert read_class_names(tmp_path) == {0: "road", 1: "sky"}
    masks = names_disagree({0: "sky", 1: "road"}, read_colour_table(tmp_path / "masks"), path)
    assert masks.endswith("or delete class_names.txt (the table's names are used then)")


def test_evaluate_gt_masks_refuses_names_unlike_those_of_its_table_as_training_does(
    tmp_path, capsys
):
    """evaluate --gt ROOT/masks named the classes from masks/class_colors.txt and never read
    ROOT/class_names.txt, which training refuses beside it (the test above)."""
    from unetlab.cli import main

    colours = np.array([[128, 64, 128], [70, 130, 180]], np.uint8)
    mask = np.zeros((24, 24), np.uint8)
    mask[12:] = 1
    for i in range(2):
        write_png(tmp_path / "masks" / f"r{i}.png", colours[mask])
        write_png(tmp_path / "pred" / f"r{i}.png", mask)
    (tmp_path / "masks" / "class_colors.txt").write_text("128 64 128 road\n70 130 180 sky\n")
    (tmp_path / "class_names.txt").write_text("sky\nroad\n")
    command = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "masks")]
    assert main(command) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "error" in x]
    assert "class_names.txt and " in line and "name the classes differently: value 0 is " in line
    (tmp_path / "class_names.txt").write_text("Road\nsky\n")  # the fix it names
    assert main(command) == 0
    assert "road " in capsys.readouterr().out.casefold()


def _road_scene(root, names: str) -> None:
    """Colour masks of road and sky in ``root/masks`` read through its class_colors.txt (the
    names ``road``, ``sky``), ``names`` in ``root/class_names.txt``, and their class maps
    (indices) in ``root/pred``."""
    colours = np.array([[128, 64, 128], [70, 130, 180]], np.uint8)
    mask = np.zeros((24, 24), np.uint8)
    mask[12:] = 1
    for i in range(2):
        write_png(root / "images" / f"r{i}.png", np.full((24, 24), 40 * i, np.uint8))
        write_png(root / "masks" / f"r{i}.png", colours[mask])
        write_png(root / "pred" / f"r{i}.png", mask)
    (root / "masks" / "class_colors.txt").write_text("128 64 128 road\n70 130 180 sky\n")
    (root / "class_names.txt").write_text(names)


def test_evaluate_gt_masks_names_the_classes_as_training_does(tmp_path):
    """s47: class_names.txt said Road, the table in masks/ road (one class: letter case is no
    conflict); training named it Road, evaluate --gt ROOT/masks named it road from the table."""
    from unetlab.evaluate import evaluate_predictions

    _road_scene(tmp_path, "Road\nsky\n")
    data = prepare_data(load_config(None, [f"data.root={tmp_path}"]))
    assert data.class_names == ["Road", "sky"]
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "masks")
    assert report.class_names == ["Road", "sky"]
    split = tmp_path / "split"  # a split's masks (val/masks/): its data set's root's names
    _road_scene(split / "val", "")
    (split / "val" / "class_names.txt").unlink()
    (split / "class_names.txt").write_text("Road\nsky\n")
    report = evaluate_predictions(split / "val" / "pred", split / "val" / "masks")
    assert report.class_names == ["Road", "sky"]
    report = evaluate_predictions(split / "val" / "pred", split / "val")  # the split itself
    assert report.class_names == ["Road", "sky"]
    # a data root (no masks folder, no split) keeps its own table's names beside another's
    # file, as training on it does
    (split / "val" / "masks" / "class_colors.txt").rename(split / "val" / "class_colors.txt")
    (split / "val").rename(split / "roads")
    report = evaluate_predictions(split / "roads" / "pred", split / "roads")
    assert report.class_names == ["road", "sky"]


def test_a_table_of_another_data_set_below_the_root_is_not_checked(tmp_path):
    """s47: mask_tables looked two levels below the root, so a sibling data set's table
    (ROOT/other_set/masks/) refused the root's class_names.txt; only the folders that hold
    (or are read through by) this data set's masks are checked: masks/, train/, train/masks/."""
    from unetlab.data.classes import mask_tables

    _road_scene(tmp_path, "Road\nsky\n")
    (tmp_path / "other_set" / "masks").mkdir(parents=True)
    (tmp_path / "other_set" / "masks" / "class_colors.txt").write_text("0 0 0 cat\n9 9 9 dog\n")
    assert read_class_names(tmp_path) == {0: "Road", 1: "sky"}
    assert [t.source for t in mask_tables(tmp_path)] == [
        str(tmp_path / "masks" / "class_colors.txt")
    ]
    for below in ("train", "train/labels", "Val/masks"):
        (tmp_path / below).mkdir(parents=True, exist_ok=True)
        (tmp_path / below / "class_colors.txt").write_text("0 0 0 cat\n9 9 9 dog\n")
        with pytest.raises(DatasetError, match="name the classes differently"):
            read_class_names(tmp_path)
        (tmp_path / below / "class_colors.txt").unlink()
