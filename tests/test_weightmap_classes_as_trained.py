"""``unetlab weightmap`` reads the classes of masks by training's rule, one helper both call
(:func:`unetlab.data.classes.dataset_classes`): the same label values, void and names for
VOC palette masks with void 255 and class_names.txt (its void line too), palette masks
without void, grey masks beside class_names.txt (s63: weighed as raw values) and RGB masks
below a colour table."""

import logging

import numpy as np
import pytest
from PIL import Image

from unetlab.cli import main
from unetlab.cli import weightmap as cli
from unetlab.config import load_config
from unetlab.data.io import write_png
from unetlab.data.scenes import SCENE_CLASSES, write_voc_scenes
from unetlab.train import prepare_data

#: a colour per scene class (not VOC's), and void black
COLOURS = np.array([(10 + 20 * i, 100 + 10 * i, 200 - 15 * i) for i in range(10)], np.uint8)


def _voc_with_void_line(root):
    """VOC scenes whose class_names.txt names the void too (``255 void``)."""
    voc = write_voc_scenes(root, n_train=2, n_val=1, size=48)
    lines = [f"{i} {name}" for i, name in enumerate(SCENE_CLASSES)] + ["255 void"]
    (voc / "class_names.txt").write_text("\n".join(lines) + "\n")
    return voc


def _voc_without_void(root):
    return write_voc_scenes(root, n_train=2, n_val=1, size=48, void=False)


def _grey(root):
    """The scenes' masks as grey PNGs (no palette) beside their class_names.txt."""
    voc = write_voc_scenes(root, n_train=2, n_val=1, size=48, void=False)
    for path in (voc / "SegmentationClass").glob("*.png"):
        write_png(path, np.asarray(Image.open(path)))
    return voc


def _colour_table(root, where="."):
    """The scenes' masks as RGB colours of a class_colors.txt (void black) at the root, or
    in the folder ``where`` below it."""
    voc = write_voc_scenes(root, n_train=2, n_val=1, size=48)
    (voc / "class_names.txt").unlink()
    for path in (voc / "SegmentationClass").glob("*.png"):
        mask = np.asarray(Image.open(path))
        rgb = np.zeros((*mask.shape, 3), np.uint8)
        rgb[mask != 255] = COLOURS[mask[mask != 255]]
        write_png(path, rgb)
    rows = [f"{r} {g} {b} {n}" for (r, g, b), n in zip(COLOURS.tolist(), SCENE_CLASSES)]
    (voc / where / "class_colors.txt").write_text("\n".join(rows) + "\n0 0 0 void\n")
    return voc


def _colour_table_in_masks(root):
    """Review s63: the table in masks/ alone; training named the classes '0'..'6'."""
    return _colour_table(root, "SegmentationClass")


TABLES = [_voc_with_void_line, _voc_without_void, _grey, _colour_table, _colour_table_in_masks]


@pytest.mark.parametrize("make", TABLES)
def test_weightmap_reads_the_classes_training_does(tmp_path, monkeypatch, capsys, make):
    root = make(tmp_path / "set")
    data = prepare_data(load_config(None, [f"data.root={root}"]))
    trained = (data.label_values, data.ignore_value, data.class_names)
    seen, weigh = [], cli._class_map
    monkeypatch.setattr(
        cli,
        "_class_map",
        lambda mask, **how: (
            seen.append((how["label_values"], how["ignore_value"], how["names"]))
            or weigh(mask, **how)
        ),
    )
    argv = ["weightmap", str(root / "SegmentationClass"), "--output", str(tmp_path / "out")]
    assert main(argv) == 0
    assert len(seen) == 3 and all(each == trained for each in seen)
    assert "classes from" in capsys.readouterr().out  # where they were read from: said
    assert data.class_names == list(SCENE_CLASSES)


def test_the_void_a_names_file_names_is_no_class():
    from unetlab.data.classes import dataset_classes

    names = {0: "road", 1: "car", 255: "void"}
    palette = np.zeros((256, 3), np.uint8)
    classes = dataset_classes({0, 1, 255}, palette, names)
    assert classes == ([0, 1], 255, ["road", "car"], [0, 1], True)
    grey = dataset_classes({0, 1, 255}, None, names)  # no palette: 255 is a class named void
    assert grey == ([0, 1, 255], None, ["road", "car", "void"], [0, 1, 255], True)
    assert dataset_classes({0, 3}, None, {0: "road"}) == (
        [0, 3],
        None,
        ["road", "3"],
        [0, 3],
        False,
    )
    assert dataset_classes({0, 1}, None, {0: "a", 1: "b", 2: "c"}).label_values == [0, 1, 2]
    set_values = dataset_classes((), palette, names, label_values=[1, 0], ignore_value=7)
    assert set_values == ([1, 0], 7, ["car", "road"], [], False)


def _ids_beside_names(root):
    """A nuclei mask of 50 object ids in masks/ beside class_names.txt (background,
    nucleus)."""
    mask = np.zeros((64, 64), np.uint16)
    for k in range(50):
        r, c = divmod(k, 7)
        mask[r * 9 : r * 9 + 6, c * 9 : c * 9 + 6] = k + 1
    write_png(root / "masks" / "a.png", mask)
    (root / "class_names.txt").write_text("background\nnucleus\n")
    return root / "masks" / "a.png"


def _unlabelled_beside_names(root):
    """An int16 TIFF mask whose -1 marks unlabelled pixels, beside class_names.txt."""
    import tifffile

    mask = np.zeros((32, 32), np.int16)
    mask[8:20, 8:20] = 1
    mask[:3] = -1
    (root / "masks").mkdir(parents=True)
    tifffile.imwrite(root / "masks" / "a.tif", mask)
    (root / "class_names.txt").write_text("background\ncell\n")
    return root / "masks" / "a.tif"


@pytest.mark.parametrize(
    "make, said",
    [
        (_ids_beside_names, "holds 51 distinct values: it looks like an image or a mask of object"),
        (_unlabelled_beside_names, "mask value -1 is no class index: if it marks pixels left"),
    ],
)
def test_values_found_beside_class_names_are_still_checked(tmp_path, capsys, make, said):
    """Review s63: beside a class_names.txt the values found went unchecked, 50 object ids
    weighed as 51 classes and -1 as a class (exit 0); refused as without it, with the fix."""
    mask = make(tmp_path / "set")
    out = tmp_path / "out"
    assert main(["weightmap", str(mask), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1
    assert not out.exists()


def _tracked_ids(root, names: bool):
    """Two frames of a tracked movie, ids 1..5 each one region (they look like object ids),
    in images/ + masks/; where ``names``, beside a class_names.txt naming 0..5."""
    for t in range(2):
        ids = np.zeros((40, 40), np.uint8)
        for k in range(5):
            ids[4 + 7 * k : 9 + 7 * k, 4 + t : 12 + t] = k + 1
        write_png(root / "masks" / f"f{t}.png", ids)
        write_png(root / "images" / f"f{t}.png", (ids > 0).astype(np.uint8) * 120 + 60)
    if names:
        (root / "class_names.txt").write_text("bg\na\nb\nc\nd\ne\n")
    return root


@pytest.mark.parametrize("names", [True, False])
def test_masks_whose_every_value_is_named_are_not_said_to_look_like_object_ids(
    tmp_path, caplog, names
):
    """Review s64: dataset_classes' ``named`` (the names name every value) keeps training's
    and weightmap's 'look like object ids' unsaid beside a class_names.txt naming them all;
    no test held it (either caller reading it as False passed). Said without the names."""
    root = _tracked_ids(tmp_path / "set", names)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        prepare_data(load_config(None, [f"data.root={root}"]))
        trained = " ".join(r.getMessage() for r in caplog.records)
        caplog.clear()
        assert main(["weightmap", str(root / "masks"), "--output", str(tmp_path / "out")]) == 0
        weighed = " ".join(r.getMessage() for r in caplog.records)
    assert ("look like object ids" in trained) is not names
    assert ("look like object ids" in weighed) is not names


def test_a_masks_table_naming_a_class_no_mask_holds_keeps_it_in_one_line(tmp_path, caplog):
    """Review s64: a table in masks/ naming 'bus' that no mask holds adds it to the classes
    (as a table at the root does: its colours and names stay the model's), said in one
    line naming the table where it is (it said 'class_colors.txt' and that the class had no
    pixels 'in the training masks', no word of evaluate's n/a)."""
    import logging

    voc = _colour_table_in_masks(tmp_path)
    table = voc / "SegmentationClass" / "class_colors.txt"
    rows = table.read_text().splitlines()
    table.write_text("\n".join([*rows[:-1], "250 250 5 bus", rows[-1]]) + "\n")
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        data = prepare_data(load_config(None, [f"data.root={voc}"]))
    bus = len(SCENE_CLASSES)
    assert data.class_names[-1] == "bus" and data.label_values[-1] == bus
    said = [r.getMessage() for r in caplog.records if "(bus)" in r.getMessage()]
    assert len(said) == 1, said
    assert said[0].startswith("SegmentationClass/class_colors.txt names ")
    assert f"{bus} (bus) that no training or validation mask holds: kept as" in said[0]
