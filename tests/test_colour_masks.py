"""Colour (RGB) masks read through a colour table beside the data (``class_colors.txt`` or
CamVid's ``class_dict.csv``): the same classes, void, names and palette as the palette
masks of the same pixels; predictions drawn in the table's colours; evaluation of RGB masks
in a checkpoint's own colours (audit s29 'scenes', finding 4)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data.classes import dataset_palette, read_class_names
from unetlab.data.colour_table import VOID, read_colour_table
from unetlab.data.io import read_mask, write_png
from unetlab.data.scenes import SCENE_CLASSES, write_voc_scenes
from unetlab.errors import DatasetError, ImageReadError
from unetlab.plan import plan_training
from unetlab.train import prepare_data

# seven class colours (not VOC's) and a void colour
COLOURS = np.array(
    [(128, 64, 128), (70, 130, 180), (70, 70, 70), (107, 142, 35), (153, 153, 153)]
    + [(220, 220, 0), (220, 20, 60)],
    np.uint8,
)
VOID_COLOUR = (0, 0, 0)


def _table_text() -> str:
    lines = [f"{r} {g} {b} {n}" for (r, g, b), n in zip(COLOURS.tolist(), SCENE_CLASSES)]
    return "# my colours\n" + "\n".join(lines) + "\n0,0,0,void\n"


def _rgb_of(mask: np.ndarray) -> np.ndarray:
    rgb = np.zeros((*mask.shape, 3), np.uint8)
    rgb[mask != 255] = COLOURS[mask[mask != 255]]
    rgb[mask == 255] = VOID_COLOUR
    return rgb


def _sets(tmp_path, *, table: bool = True):
    """(a VOC set of palette masks, the same pixels as RGB masks in COLOURS)."""
    pal = write_voc_scenes(tmp_path / "pal", n_train=3, n_val=2, size=48)
    rgb = tmp_path / "rgb"
    shutil.copytree(pal, rgb)
    (rgb / "class_names.txt").unlink()
    for path in (rgb / "SegmentationClass").glob("*.png"):
        write_png(path, _rgb_of(np.asarray(Image.open(path))))
    if table:
        (rgb / "class_colors.txt").write_text(_table_text())
    return pal, rgb


def test_colour_tables_of_both_forms(tmp_path):
    (tmp_path / "class_colors.txt").write_text(_table_text())
    table = read_colour_table(tmp_path)
    assert table.values == (*range(7), VOID)
    assert table.class_names() == dict(enumerate(SCENE_CLASSES))
    palette = table.palette()
    assert np.array_equal(palette[:7], COLOURS) and tuple(palette[VOID]) == VOID_COLOUR
    camvid = tmp_path / "camvid"
    camvid.mkdir()
    (camvid / "class_dict.csv").write_text(
        "name,r,g,b\nSky,128,128,128\nVoid,0,0,0\nWall,64,192,0\n"
    )
    table = read_colour_table(camvid)  # void takes no class value: Wall is class 1
    assert table.values == (0, VOID, 1) and table.class_names() == {0: "Sky", 1: "Wall"}
    assert read_class_names(camvid) == {0: "Sky", 1: "Wall"}
    (camvid / "class_dict.csv").write_text("name,r,g,b\nSky,128,128,128\nRoad,128,128,128\n")
    with pytest.raises(DatasetError, match=r"colour \(128, 128, 128\) is given twice"):
        read_colour_table(camvid)
    (camvid / "class_dict.csv").write_text("name,r,g,b\nSky,128,300,128\n")
    with pytest.raises(DatasetError, match="line 2: expected name,r,g,b with R, G, B in 0-255"):
        read_colour_table(camvid)


def test_rgb_masks_read_as_the_palette_masks_of_the_same_pixels(tmp_path):
    pal, rgb = _sets(tmp_path)
    want, got = (prepare_data(load_config(None, [f"data.root={root}"])) for root in (pal, rgb))
    assert got.label_values == want.label_values == list(range(7))
    assert got.class_names == want.class_names == list(SCENE_CLASSES)  # from the table
    assert got.ignore_value == want.ignore_value == VOID
    for a, b in zip(want.train + want.val, got.train + got.val, strict=True):
        np.testing.assert_array_equal(a.mask, b.mask)
    palette = np.asarray(got.palette, np.uint8)  # the checkpoint's: predictions' colours
    assert np.array_equal(palette[:7], COLOURS)
    masks = sorted((rgb / "SegmentationClass").glob("*.png"))
    assert np.array_equal(dataset_palette(masks), palette)


def test_cvat_labelmap_is_a_colour_table(tmp_path):
    """CVAT's "Segmentation mask 1.1" export: RGB masks and labelmap.txt (name:r,g,b:parts:
    actions); read as class_colors.txt is (audit s31 photos 7)."""
    pal, rgb = _sets(tmp_path, table=False)
    rows = [f"{n}:{r},{g},{b}::" for (r, g, b), n in zip(COLOURS.tolist(), SCENE_CLASSES)]
    text = "# label:color_rgb:parts:actions\n" + "\n".join(rows) + "\nvoid:0,0,0::\n"
    (rgb / "labelmap.txt").write_text(text)
    want, got = (prepare_data(load_config(None, [f"data.root={root}"])) for root in (pal, rgb))
    assert got.label_values == want.label_values == list(range(7))
    assert got.class_names == list(SCENE_CLASSES) and got.ignore_value == VOID
    for a, b in zip(want.train + want.val, got.train + got.val, strict=True):
        np.testing.assert_array_equal(a.mask, b.mask)
    (rgb / "labelmap.txt").write_text(text.replace("void:0,0,0::", "void:0,0::"))
    with pytest.raises(DatasetError, match="expected name:r,g,b:parts:actions"):
        read_colour_table(rgb)


def test_a_colour_not_in_the_table_is_named_with_a_pixel(tmp_path):
    (tmp_path / "masks").mkdir()
    (tmp_path / "class_colors.txt").write_text(_table_text())
    rgb = _rgb_of(np.zeros((6, 8), np.uint8))
    rgb[2, 5] = (1, 2, 3)
    rgb[4, 1] = (9, 9, 9)
    write_png(tmp_path / "masks" / "a.png", rgb)
    with pytest.raises(ImageReadError) as err:
        read_mask(tmp_path / "masks" / "a.png")
    assert str(err.value) == (
        f"{tmp_path / 'masks' / 'a.png'}: colour (1, 2, 3) at pixel x=5, y=2 is not in "
        f"{tmp_path / 'class_colors.txt'} (and 1 more colour not in it): add it there as "
        "a class (R G B name), or as 'R G B void' to ignore it"
    )


def test_a_colour_not_in_camvids_table_is_fixed_in_its_own_row_form(tmp_path):
    """Audit s43 scenes: class_dict.csv's rows are name,r,g,b, but the fix said to add
    'R G B void' there, a row the table then refuses."""
    (tmp_path / "masks").mkdir()
    (tmp_path / "class_dict.csv").write_text("name,r,g,b\nSky,128,128,128\nVoid,0,0,0\n")
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[2, 5] = (1, 2, 3)
    write_png(tmp_path / "masks" / "a.png", rgb)
    with pytest.raises(ImageReadError) as err:
        read_mask(tmp_path / "masks" / "a.png")
    assert str(err.value).endswith(
        f"is not in {tmp_path / 'class_dict.csv'}: add it there as a class (name,R,G,B), or "
        "as 'void,R,G,B' to ignore it"
    )
    with (tmp_path / "class_dict.csv").open("a") as f:
        f.write("void,1,2,3\n")  # the fix as it says: the mask reads
    assert read_mask(tmp_path / "masks" / "a.png").max() == VOID


def test_a_grey_looking_colour_mask_follows_the_table(tmp_path):
    """A colour mask holding only grey colours (building, pole, void) is read through the
    table as its neighbours are, not as its grey values."""
    (tmp_path / "class_colors.txt").write_text(_table_text())
    mask = np.array([[2, 4], [255, 2]], np.uint8)
    write_png(tmp_path / "a.png", _rgb_of(mask))
    np.testing.assert_array_equal(read_mask(tmp_path / "a.png"), mask)


def test_grey_index_masks_saved_as_rgb_beside_a_table_of_their_greys_say_both_readings(
    tmp_path, caplog
):
    """Greys 0, 1, 2 that are colours of the table and could be its class indices: read
    through the table (the rule), with one line naming the grey -> value reading and the other
    (single-channel grey masks are read as they are); said once for the table, not for
    CamVid's frame of void alone nor for greys past the table's classes (building, pole)."""
    import logging

    (tmp_path / "class_colors.txt").write_text("2 2 2 road\n1 1 1 sky\n0 0 0 void\n")
    mask = np.array([[0, 1], [2, 2]], np.uint8)
    for name in ("a", "b"):
        write_png(tmp_path / f"{name}.png", np.repeat(mask[..., None], 3, axis=-1))
    write_png(tmp_path / "void.png", np.zeros((2, 2, 3), np.uint8))
    write_png(tmp_path / "grey.png", mask)  # single-channel: its greys
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        read = [read_mask(tmp_path / f"{n}.png") for n in ("a", "b", "void", "grey")]
    np.testing.assert_array_equal(read[0], [[VOID, 1], [0, 0]])
    assert (read[2] == VOID).all()
    np.testing.assert_array_equal(read[3], mask)
    said = [r.getMessage() for r in caplog.records if "grey RGB mask" in r.getMessage()]
    assert said == [
        f"{tmp_path / 'a.png'}: a grey RGB mask (R = G = B) whose greys are colours of "
        f"{tmp_path / 'class_colors.txt'}, read through it as every RGB mask beside it is "
        "(grey -> value: 0 -> 255, 1 -> 1, 2 -> 0); if its greys are class indices, set "
        "data.grey_masks: indices (train --set data.grey_masks=indices, evaluate "
        "--grey-masks indices) or save such masks as single-channel grey PNGs, read as they "
        "are"
    ]


def test_without_a_table_grey_rgb_reads_and_colour_names_the_fix(tmp_path):
    grey = np.repeat(np.array([[0, 7], [7, 0]], np.uint8)[..., None], 3, axis=-1)
    write_png(tmp_path / "grey.png", grey)
    np.testing.assert_array_equal(read_mask(tmp_path / "grey.png"), grey[..., 0])
    write_png(tmp_path / "rgb.png", _rgb_of(np.array([[0, 1]], np.uint8)))
    with pytest.raises(ImageReadError, match="or list the mask colours in class_colors.txt"):
        read_mask(tmp_path / "rgb.png")


def _argv(*args) -> list[str]:
    return [str(a) for a in args]


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
def test_trained_on_rgb_masks_predicts_and_evaluates_in_their_colours(tmp_path):
    from unetlab import evaluate_model, evaluate_predictions

    pal, rgb = _sets(tmp_path)
    run = tmp_path / "run"
    tiny = [f"--set={k}" for k in ("train.epochs=1", "data.tile_size=48", "train.batch_size=2")]
    small = ["--set=model.depth=2", "--set=model.base_channels=4", "--no-plan", "--no-progress"]
    assert main(_argv("train", "--data", rgb, "--run-dir", run, *tiny, *small)) == 0
    best = run / "checkpoints" / "best.pt"
    out = tmp_path / "pred"
    image = rgb / "JPEGImages" / "scene_004.jpg"
    assert main(_argv("predict", "--checkpoint", best, "--input", image, "--output", out)) == 0
    with Image.open(out / "scene_004.png") as im:
        assert im.mode == "P"
        assert np.array_equal(np.asarray(im.getpalette()[:21], np.uint8).reshape(7, 3), COLOURS)
    # RGB masks in the checkpoint's colours, no table beside them: read in its colours
    bare = tmp_path / "bare"
    shutil.copytree(rgb, bare)
    (bare / "class_colors.txt").unlink()
    want, got = (evaluate_model(str(best), root) for root in (pal, bare))
    assert want.matrix.sum() > 0 and np.array_equal(got.matrix, want.matrix)
    # RGB masks without a table scored against the predictions: read in their colours
    # (audit s43 scenes: evaluate --pred refused them, naming class_colors.txt)
    scores = {}
    for root in (pal, bare):
        gt = tmp_path / f"gt_{root.name}"
        gt.mkdir()
        shutil.copy(root / "SegmentationClass" / "scene_004.png", gt / "scene_004.png")
        scores[root.name] = evaluate_predictions(out, gt).matrix
    assert scores["pal"].sum() > 0 and np.array_equal(scores["bare"], scores["pal"])
    # a grey mask saved as RGB (R = G = B = class index) stays its grey values
    gt = tmp_path / "gt_grey"
    gt.mkdir()
    grey = np.asarray(Image.open(pal / "SegmentationClass" / "scene_004.png"))
    write_png(gt / "scene_004.png", np.repeat(grey[..., None], 3, axis=-1))
    assert np.array_equal(evaluate_predictions(out, gt).matrix, scores["pal"])


def test_class_names_that_disagree_with_the_colour_table_are_one_refusal(tmp_path):
    """class_names.txt beside a colour table that names the classes otherwise: which is
    right only the user knows (the names decide the background), so one line naming both
    files and the first value they differ on (class_names.txt won silently)."""
    (tmp_path / "class_colors.txt").write_text(_table_text())
    names = tmp_path / "class_names.txt"
    names.write_text("\n".join(s.upper() for s in SCENE_CLASSES) + "\n")  # case aside: agree
    assert read_class_names(tmp_path) == dict(enumerate(s.upper() for s in SCENE_CLASSES))
    swapped = [SCENE_CLASSES[1], SCENE_CLASSES[0], *SCENE_CLASSES[2:]]
    names.write_text("\n".join(swapped) + "\n")
    with pytest.raises(DatasetError) as caught:
        read_class_names(tmp_path)
    line = str(caught.value)
    assert "\n" not in line and str(names) in line and str(tmp_path / "class_colors.txt") in line
    assert (
        f"value 0 is {SCENE_CLASSES[1]!r} in class_names.txt, {SCENE_CLASSES[0]!r} in "
        "class_colors.txt (and 1 more value)"
    ) in line
    names.write_text("\n".join(SCENE_CLASSES[:-1]) + "\n")  # one class left unnamed
    with pytest.raises(DatasetError, match="and class_names.txt has no value 6"):
        read_class_names(tmp_path)
    (tmp_path / "class_colors.txt").write_text("128 64 128\n70 130 180\n")  # names none
    assert read_class_names(tmp_path) == dict(enumerate(SCENE_CLASSES[:-1]))


def test_an_ignore_value_at_a_table_class_says_to_name_its_row_void(tmp_path):
    """data.ignore_value at a colour table's class (road, 1) is refused with the way to
    ignore it that works: its row named void (its pixels then count nowhere), the setting
    left out (review s62)."""
    _, rgb = _sets(tmp_path)
    with pytest.raises(DatasetError) as caught:
        plan_training(load_config(None, [f"data.root={rgb}", "data.ignore_value=1"]))
    message = str(caught.value)
    assert "data.ignore_value=1 is the mask value of the class named 'road'" in message
    tail = "rename its row void in class_colors.txt and leave data.ignore_value out"
    assert message.endswith(tail)
    table = rgb / "class_colors.txt"
    table.write_text(table.read_text().replace(" road\n", " void\n"))
    assert prepare_data(load_config(None, [f"data.root={rgb}"])).ignore_value == VOID


def test_split_tables_that_name_the_classes_differently_are_refused(tmp_path):
    """train/ and test/ each with its own class_colors.txt, one class renamed in test/'s:
    the run's classes went unnamed (0..8 in the log, the checkpoint and every report), said
    nowhere (s66 new user: 'person' in train/, 'pedestrian' in test/). Refused, naming both
    tables and the value, as class_names.txt beside a table that names it otherwise."""
    from unetlab.data.classes import class_names_from

    for split, person in (("train", "person"), ("test", "pedestrian")):
        (tmp_path / split / "masks").mkdir(parents=True)
        (tmp_path / split / "class_colors.txt").write_text(
            f"0 0 0 void\n128 64 128 road\n220 20 60 {person}\n"
        )
    with pytest.raises(DatasetError) as err:
        class_names_from(tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "test" / "class_colors.txt") in msg
    assert str(tmp_path / "train" / "class_colors.txt") in msg
    assert "value 1 is 'person' in one, 'pedestrian' in the other" in msg
    (tmp_path / "test" / "class_colors.txt").write_text("0 0 0 void\n1 1 1 road\n2 2 2 Person\n")
    names = class_names_from(tmp_path)[0]  # other colours, letter case aside: one set of names
    assert {v: n.lower() for v, n in names.items()} == {0: "road", 1: "person"}


@pytest.mark.parametrize("order", ["own", "reversed"])
def test_palette_masks_beside_a_colour_table_are_read_by_their_colours(tmp_path, order):
    """Masks saved as palette PNGs of the class colours (GIMP's indexed export, one palette
    order per file or another order than the table's) beside class_colors.txt are read
    through the table, as RGB masks of the same pixels: by index they were named by the
    table's rows (s66 new user: sign's pixels trained as 'road', black void as a class '9'),
    or refused for palettes ordered differently, told to list the colours in the table."""
    _, rgb = _sets(tmp_path)
    want = prepare_data(load_config(None, [f"data.root={rgb}"]))
    indexed = tmp_path / "indexed"
    shutil.copytree(rgb, indexed)
    for i, path in enumerate(sorted((indexed / "SegmentationClass").glob("*.png"))):
        colours = np.asarray(Image.open(path).convert("RGB"))
        entries = [*COLOURS.tolist(), list(VOID_COLOUR)]
        entries = entries[::-1] if order == "reversed" or i % 2 else entries
        index = np.zeros(colours.shape[:2], np.uint8)
        for k, colour in enumerate(entries):
            index[(colours == colour).all(-1)] = k
        im = Image.fromarray(index, mode="P")
        im.putpalette([v for c in entries for v in c])
        im.save(path)
    got = prepare_data(load_config(None, [f"data.root={indexed}"]))
    assert got.label_values == want.label_values == list(range(7))
    assert got.class_names == list(SCENE_CLASSES) and got.ignore_value == VOID
    for a, b in zip(want.train + want.val, got.train + got.val, strict=True):
        np.testing.assert_array_equal(a.mask, b.mask)
    assert np.array_equal(np.asarray(got.palette, np.uint8)[:7], COLOURS)


def test_names_of_split_tables_come_from_the_training_splits(tmp_path):
    """train/ and test/ each with the same table: the names are said to come from train/'s,
    the table training reads, not test/'s, which training leaves unused (s66 new user:
    'class names from data/test/class_colors.txt' for a run on data/train)."""
    from unetlab.data.classes import class_names_from

    for split in ("test", "train", "val"):
        (tmp_path / split / "masks").mkdir(parents=True)
        (tmp_path / split / "class_colors.txt").write_text("0 0 0 void\n1 1 1 road\n2 2 2 sign\n")
    names, path = class_names_from(tmp_path)
    assert names == {0: "road", 1: "sign"}
    assert path == tmp_path / "train" / "class_colors.txt"


@pytest.mark.parametrize("header", ["R G B name", "r,g,b,name", "Red Green Blue Class"])
def test_a_header_of_the_column_names_opens_a_colour_table(tmp_path, header):
    """class_colors.txt with the README's column names as its first line ('R G B name', as a
    spreadsheet saves it) was refused 'line 1: expected R G B [name] ..., got 'R G B'' (s66
    new user): that line names the columns and is passed over, as class_dict.csv's header."""
    (tmp_path / "class_colors.txt").write_text(f"{header}\r\n0 0 0 void\r\n128 64 128 road\r\n")
    table = read_colour_table(tmp_path)
    assert table.colours == ((0, 0, 0), (128, 64, 128)) and table.class_names() == {0: "road"}
    (tmp_path / "class_colors.txt").write_text("R G X name\n0 0 0 void\n")
    with pytest.raises(DatasetError, match="line 1: expected R G B"):
        read_colour_table(tmp_path)  # not the column names: refused as before


def _index_masks(root, palette: list[int], n: int = 3, *, void: bool = False) -> None:
    """``n`` images and palette masks of class indices 0, 1, 2 (with ``void``: 0, 1 and 255
    at the right edge) in ``palette``."""
    for d in ("images", "masks"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(np.full((32, 32, 3), 40 * i, np.uint8)).save(root / "images" / f"s{i}.png")
        mask = np.zeros((32, 32), np.uint8)
        mask[:, 10:20], mask[:, 20:] = 1, 2
        if void:
            mask[:, 20:], mask[:, 28:] = 0, 255
        im = Image.fromarray(mask, mode="P")
        im.putpalette(palette)
        im.save(root / "masks" / f"s{i}.png")


GREY_LUT = [v for g in range(256) for v in (g, g, g)]


@pytest.mark.parametrize(
    "palette",
    [[0, 0, 0, 0, 0, 255, 255, 0, 0, *[7] * 759], GREY_LUT, [0, 0, 0, 128, 0, 0, 0, 128, 0]],
    ids=["glasbey", "grey LUT", "VOC"],
)
def test_palette_masks_of_class_indices_beside_a_table_of_other_colours(tmp_path, palette):
    """Palette masks whose indices are the classes (glasbey's, a grey LUT's: Fiji, MATLAB;
    VOC's colours) beside a class_colors.txt of other colours are read by index with the
    table's names, as before s66: read through the table they were refused 'colour
    (0, 0, 255) ... is not in class_colors.txt: add it there' (a fix that mislabels them)
    and a grey LUT's 'a grey RGB mask' (review s66)."""
    _index_masks(tmp_path, palette)
    (tmp_path / "class_colors.txt").write_text("0 0 0 bg\n128 64 128 road\n220 20 60 person\n")
    np.testing.assert_array_equal(np.unique(read_mask(tmp_path / "masks" / "s0.png")), [0, 1, 2])
    got = prepare_data(load_config(None, [f"data.root={tmp_path}"]))
    assert got.label_values == [0, 1, 2] and got.class_names == ["bg", "road", "person"]
    assert got.ignore_value is None


def test_palette_masks_beside_a_table_read_two_ways_are_refused(tmp_path):
    """One data set's palette masks, one of whose colours are all the table's (read by
    colour) and one of other colours (read by index): refused in one line naming both,
    not read some one way and some the other (review s66)."""
    _index_masks(tmp_path, [0, 0, 0, 0, 0, 255, 255, 0, 0], n=2)
    (tmp_path / "class_colors.txt").write_text("0 0 0 bg\n255 0 0 road\n0 0 255 person\n")
    first, second = tmp_path / "masks" / "s0.png", tmp_path / "masks" / "s1.png"
    assert np.unique(read_mask(first)).tolist() == [0, 1, 2]  # blue is person (2): by colour
    im = Image.open(second)
    im.putpalette([0, 0, 0, 9, 9, 200, 255, 0, 0])
    im.save(second)
    with pytest.raises(ImageReadError) as err:
        read_mask(second)
    msg = str(err.value)
    assert msg.count("\n") == 0 and str(first) in msg and str(second) in msg
    assert "s1.png by palette index (its colour (9, 9, 200) is not in the table)" in msg
    assert "s0.png by colour" in msg and "add it there as a class (R G B name)" in msg


def test_palette_void_of_a_repeated_colour_beside_a_table_is_void(tmp_path):
    """Palette entries 0 and 255 both black (labelme's padding) beside '0 0 0 background /
    128 0 0 cat': 255 is void as by index, not background (review s66: it trained as
    background)."""
    _index_masks(tmp_path, [0, 0, 0, 128, 0, 0, *[0] * 254 * 3], void=True)
    (tmp_path / "class_colors.txt").write_text("0 0 0 background\n128 0 0 cat\n")
    assert np.unique(read_mask(tmp_path / "masks" / "s0.png")).tolist() == [0, 1, 255]
    got = prepare_data(load_config(None, [f"data.root={tmp_path}"]))
    assert got.ignore_value == 255 and got.class_names[:2] == ["background", "cat"]
    assert (got.train[0].mask[:, 28:] == -1).all()


@pytest.mark.parametrize("extra", ["test", "val"])
def test_split_tables_of_a_class_more_or_less_name_the_classes(tmp_path, extra):
    """test/'s table with one row more, or val/'s missing a rare last class: the values both
    tables name agree, and they name the classes (train/'s), where they were refused 'value
    2 is unnamed in one' for a table with no value 2 (review s66)."""
    from unetlab.data.classes import class_names_from

    rows = "0 0 0 void\n128 64 128 road\n220 20 60 person\n"
    for split in ("train", extra):
        (tmp_path / split / "masks").mkdir(parents=True)
        longer = "test" if extra == "test" else "train"  # val/ lacks the rare class
        more = "119 11 32 bicycle\n" if split == longer else ""
        (tmp_path / split / "class_colors.txt").write_text(rows + more)
    names, path = class_names_from(tmp_path)
    assert path == tmp_path / "train" / "class_colors.txt"
    assert names == {0: "road", 1: "person", **({} if extra == "test" else {2: "bicycle"})}
    (tmp_path / extra / "class_colors.txt").write_text(rows.replace("person", "pedestrian"))
    with pytest.raises(DatasetError, match="value 1 is 'person' in one, 'pedestrian' in the other"):
        class_names_from(tmp_path)  # a value both name otherwise: refused as before


@pytest.mark.parametrize("recorded", [None, 255])
def test_rgb_masks_beside_predictions_take_the_given_ignore_value_as_void(tmp_path, recorded):
    """RGB masks without a table read in the predictions' palette: the void colour is that
    of the --ignore-value given (palette[5]), else the records' (s68: the records' won, so
    the given void's colour was a colour missing from the table, refused)."""
    import json

    from PIL import PngImagePlugin

    from unetlab import evaluate_predictions

    palette = np.zeros((256, 3), np.uint8)
    palette[1], palette[5], palette[255] = (128, 0, 0), (0, 128, 0), (224, 224, 192)
    cells = np.zeros((16, 16), np.uint8)
    cells[4:9, 4:9] = 1
    info = PngImagePlugin.PngInfo()
    info.add_text("unetlab.prediction", json.dumps({"key": "K"}))
    (tmp_path / "pred").mkdir()
    shown = Image.fromarray(cells, mode="P")
    shown.putpalette(palette.ravel().tolist())
    shown.save(tmp_path / "pred" / "a.png", pnginfo=info)
    record = {"class_names": ["background", "cell"], "ignore_value": recorded}
    (tmp_path / "pred" / "predict.json").write_text(json.dumps({"records": {"K": record}}))
    truth = palette[cells]
    truth[:, 12:] = palette[5]  # the void of the given --ignore-value 5, predicted background
    truth[12:, :4] = palette[1]  # a cell the prediction missed, under no void
    write_png(tmp_path / "gt" / "a.png", truth)
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", ignore_value=5)
    assert report.matrix.tolist() == [[16 * 12 - 16 - 25, 0], [16, 25]]  # 4 void columns
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(tmp_path / "gt")]
    assert main([*argv, "--ignore-value", "5", "--no-progress"]) == 0
