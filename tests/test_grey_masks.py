"""Grey RGB masks (R = G = B) beside a colour table: read through it (``data.grey_masks:
colours``, the default: CamVid's sky and void look grey) or as their grey values
(``indices``: class-index masks a tool saved as RGB); the refusal of greys missing from the
table names that key, not only adding them to the table as colours (stop 45)."""

from __future__ import annotations

import json
import logging
import pickle
import threading

import numpy as np
import pytest
from PIL import Image

from unetlab.cli import main
from unetlab.config import load_config, save_config
from unetlab.data.colour_table import VOID
from unetlab.data.grey_masks import grey_masks_read_as, grey_masks_reading
from unetlab.data.io import read_mask, write_png
from unetlab.data.pairs import PairReader
from unetlab.errors import ImageReadError, UnetlabError, command_spelling

TABLE = "128 64 128 road\n70 130 180 sky\n70 70 70 building\n0 0 0 void\n"


def _grey_rgb(mask: np.ndarray) -> np.ndarray:
    return np.repeat(mask[..., None], 3, axis=-1)


def test_greys_missing_from_the_table_name_the_key_and_the_resave(tmp_path):
    """Class indices 0, 1, 2 saved as grey RGB beside a table that holds black (void) but not
    greys 1 and 2: the refusal said to add (1, 1, 1) to the table as a class, which makes
    a table of colours that are no class's; it names data.grey_masks and the re-save."""
    (tmp_path / "class_colors.txt").write_text(TABLE)
    mask = np.array([[0, 1, 2], [2, 1, VOID]], np.uint8)
    write_png(tmp_path / "a.png", _grey_rgb(mask))
    with pytest.raises(ImageReadError) as err:
        read_mask(tmp_path / "a.png")
    assert str(err.value) == (
        f"{tmp_path / 'a.png'}: a grey RGB mask (R = G = B) of greys 1, 2, 255 not in "
        f"{tmp_path / 'class_colors.txt'}, read through it as every RGB mask beside it is; "
        "if its greys are class indices, set data.grey_masks: indices (train --set "
        "data.grey_masks=indices, evaluate --grey-masks indices) or save such masks as "
        "single-channel grey PNGs; if they are colours, add each there as a class (R G B "
        "name), or as 'R G B void' to ignore it"
    )
    with grey_masks_read_as("indices"):  # the fix it names
        np.testing.assert_array_equal(read_mask(tmp_path / "a.png"), mask)
    # a grey past the table's classes is a colour left out of it: the table's own fix
    write_png(tmp_path / "b.png", _grey_rgb(np.array([[0, 200]], np.uint8)))
    with pytest.raises(ImageReadError, match=r"colour \(200, 200, 200\) at pixel x=1, y=0 is"):
        read_mask(tmp_path / "b.png")


def test_indices_read_grey_masks_as_their_values_and_colour_masks_through_the_table(
    tmp_path, caplog
):
    """``indices``: a grey RGB mask whose greys are table colours (70: building) is its
    greys, a colour mask beside it still its table values; ``colours`` (the default) keeps
    today's reading, whose line names the key."""
    (tmp_path / "class_colors.txt").write_text(TABLE)
    grey = np.array([[0, 1], [2, 0]], np.uint8)
    write_png(tmp_path / "grey.png", _grey_rgb(grey))
    colour = np.array([[[128, 64, 128], [70, 130, 180]], [[70, 70, 70], [0, 0, 0]]], np.uint8)
    write_png(tmp_path / "colour.png", colour)
    with grey_masks_read_as("indices"):
        np.testing.assert_array_equal(read_mask(tmp_path / "grey.png"), grey)
        np.testing.assert_array_equal(read_mask(tmp_path / "colour.png"), [[0, 1], [2, VOID]])
        reader = PairReader()  # made under it: keeps it (a data loader's worker too)
    assert grey_masks_reading() == "colours" and reader.grey_masks == "indices"
    (tmp_path / "class_colors.txt").write_text("2 2 2 road\n1 1 1 sky\n0 0 0 void\n")
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        np.testing.assert_array_equal(read_mask(tmp_path / "grey.png"), [[VOID, 1], [0, VOID]])
    assert "if its greys are class indices, set data.grey_masks: indices" in caplog.text
    with pytest.raises(
        UnetlabError, match="data.grey_masks 'greys' is unknown: choose one of colours, indices"
    ):
        grey_masks_read_as("greys").__enter__()


def test_threads_read_grey_masks_each_as_its_own_setting(tmp_path):
    """Two threads, one within ``indices`` and one within ``colours``, both entered before
    either reads (a barrier): each reads the same mask as its own setting says. The reading
    was one module global, so the second setting entered held for both (two evaluate_model
    calls at once read each other's)."""
    (tmp_path / "class_colors.txt").write_text(TABLE)
    write_png(tmp_path / "m.png", _grey_rgb(np.array([[0, 70], [70, 0]], np.uint8)))
    entered, read = threading.Barrier(2), threading.Barrier(2)
    got = {}

    def reading(how: str, first: bool) -> None:
        if not first:
            entered.wait()  # the other thread's setting is in force first
        with grey_masks_read_as(how):
            if first:
                entered.wait()
            read.wait()  # both settings entered: now each reads
            got[how] = read_mask(tmp_path / "m.png")

    threads = [threading.Thread(target=reading, args=a) for a in (("indices", 1), ("colours", 0))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    np.testing.assert_array_equal(got["indices"], [[0, 70], [70, 0]])
    np.testing.assert_array_equal(got["colours"], [[VOID, 2], [2, VOID]])  # 70: building
    assert grey_masks_reading() == "colours"
    # a reader made within indices reads so where the setting is not: a new thread's default
    # context, or a copy in a data loader's worker process (pickled)
    with grey_masks_read_as("indices"):
        reader = pickle.loads(pickle.dumps(PairReader()))
    worker = threading.Thread(
        target=lambda: got.update(w=reader.stack(tmp_path / "m.png", mask=True))
    )
    worker.start()
    worker.join(timeout=30)
    np.testing.assert_array_equal(got["w"][0], [[0, 70], [70, 0]])


def test_grey_masks_is_a_config_key(tmp_path):
    cfg = load_config(None, ["data.grey_masks=indices"])
    assert cfg.data.grey_masks == "indices" and load_config(None).data.grey_masks == "colours"
    save_config(cfg, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml").data.grey_masks == "indices"
    with pytest.raises(
        UnetlabError, match="data.grey_masks 'grey' is unknown: choose one of colours, indices"
    ):
        load_config(None, ["data.grey_masks=grey"])


def _grey_rgb_set(root, n_train=4, n_val=2, size=48):
    """Road-scene-like grey class indices 0, 1, 2 (and a 255 frame), saved as RGB beside a
    table naming the classes in colours: the user's table of prediction colours."""
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("val", n_val)):
        for i in range(n):
            mask = np.zeros((size, size), np.uint8)
            mask[size // 2 :] = 1
            y, x = 8 + i, 10 + 2 * i
            mask[y : y + 16, x : x + 14] = 2
            mask[0] = VOID
            image = (rng.random((size, size, 3)) * 40 + mask[..., None] % 3 * 70).astype(np.uint8)
            write_png(root / split / "images" / f"r{i}.png", image)
            write_png(root / split / "masks" / f"r{i}.png", _grey_rgb(mask))
    (root / "class_colors.txt").write_text(TABLE)
    return root


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
def test_train_plan_check_and_evaluate_read_grey_masks_as_the_key_says(tmp_path, capsys):
    from unetlab import evaluate_model

    root = _grey_rgb_set(tmp_path / "d")
    key = "--set=data.grey_masks=indices"
    assert main(["train", "--data", str(root), "--check"]) != 0  # the refusal naming the key
    assert "set data.grey_masks: indices" in capsys.readouterr().err
    assert main(["train", "--data", str(root), "--check", key]) == 0
    run = tmp_path / "run"
    tiny = ["--set=train.epochs=1", "--set=data.tile_size=48", "--set=train.batch_size=2"]
    small = ["--set=model.depth=2", "--set=model.base_channels=4", "--no-progress"]
    assert main(["train", "--data", str(root), "--run-dir", str(run), key, *tiny, *small]) == 0
    best = run / "checkpoints" / "best.pt"
    got = evaluate_model(str(best), root / "val")  # the checkpoint's key: read as indices
    grey = tmp_path / "grey"  # the same masks as single-channel grey PNGs
    for path in (root / "val").rglob("*.png"):
        out = grey / path.relative_to(root / "val")
        with Image.open(path) as im:
            write_png(out, np.asarray(im)[..., 0] if "masks" in path.parts else np.asarray(im))
    want = evaluate_model(str(best), grey)
    assert want.matrix.sum() > 0 and np.array_equal(got.matrix, want.matrix)
    # evaluate's own word holds over the checkpoint's, and reads --gt masks without one
    ckpt = ["evaluate", "--checkpoint", str(best), "--data", str(root / "val")]
    assert main([*ckpt, "--grey-masks", "colours"]) != 0
    assert "evaluate --grey-masks indices" in capsys.readouterr().err
    pred = tmp_path / "pred"
    assert (
        main(
            [
                "predict",
                "--checkpoint",
                str(best),
                "--input",
                str(grey / "images"),
                "--output",
                str(pred),
            ]
        )
        == 0
    )
    gt = ["evaluate", "--pred", str(pred), "--gt", str(root / "val")]
    assert main(gt) != 0 and "evaluate --grey-masks indices" in capsys.readouterr().err
    scored = {}
    for name, args in (("rgb", [*gt, "--grey-masks", "indices"]), ("grey", [*gt[:-1], grey])):
        assert main([*map(str, args), "--json", str(tmp_path / f"{name}.json")]) == 0
        scored[name] = json.loads((tmp_path / f"{name}.json").read_text())["confusion_matrix"]
    assert np.sum(scored["grey"]) > 0 and scored["rgb"] == scored["grey"]


def test_a_package_reads_grey_masks_as_its_training_did(tmp_path):
    """A model trained with data.grey_masks indices, exported to bioimage.io and evaluated
    with the package, reads the grey RGB masks beside a table as their greys, as its
    checkpoint does: the package did not record it, so they were read through the table
    (refused: greys 1 and 2 are no colour of it)."""
    from unetlab import evaluate_model
    from unetlab.checkpoint import load_model
    from unetlab.inference.bioimageio import export_bioimageio
    from unetlab.models import UNet

    model = UNet(3, 3, depth=2, base_channels=4, padding="same", norm="batch").eval()
    model.classes, model.label_values = ["road", "sky", "building"], [0, 1, 2]
    model.training_data = {"grey_masks": "indices"}
    dest = export_bioimageio(model, tmp_path / "pkg", weight_formats=["pytorch_state_dict"])
    assert load_model(dest).training_data == {"grey_masks": "indices"}
    data = tmp_path / "d"
    mask = np.zeros((32, 32), np.uint8)
    mask[16:], mask[4:12, 4:12] = 1, 2
    image = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    write_png(data / "images" / "a.png", image)
    write_png(data / "masks" / "a.png", _grey_rgb(mask))
    (data / "class_colors.txt").write_text(TABLE)
    got = evaluate_model(str(dest), data)
    assert got.matrix.sum() == mask.size
    np.testing.assert_array_equal(got.matrix, evaluate_model(model, data).matrix)
    assert grey_masks_reading() == "colours"  # evaluate_model's reading ends with it


def _indexed_set(root, strays: dict[int, int]):
    """Six grey RGB masks of class indices 0, 1, 2 beside the table, mask ``i`` holding a
    4x4 patch of grey ``strays[i]`` (a value no row of the table is)."""
    for i in range(6):
        mask = np.zeros((24, 24), np.uint8)
        mask[12:], mask[2:8, 2:8] = 1, 2
        if i in strays:
            mask[16:20, 16:20] = strays[i]
        split = "val" if i == 5 else "train"
        image = np.random.default_rng(i).integers(0, 255, (24, 24, 3), dtype=np.uint8)
        write_png(root / split / "images" / f"r{i}.png", image)
        write_png(root / split / "masks" / f"r{i}.png", _grey_rgb(mask))
    (root / "class_colors.txt").write_text(TABLE)
    return root


def test_values_of_no_table_row_are_named_by_its_rows_or_data_class_names(tmp_path):
    """Grey class indices read as they are (indices) beside a table of classes 0-2: a
    value past them is named by the table's next row where it is the next class (3), else
    in data.class_names (200); the line said to name it in class_names.txt, which beside
    the table is refused ('name the classes differently'). Each fix it names is taken."""
    from unetlab.plan import check_training_data

    root = _indexed_set(tmp_path / "d", {0: 200})
    key = ["data.grey_masks=indices", f"data.root={root}"]
    with pytest.raises(UnetlabError) as err:
        check_training_data(load_config(None, key))
    assert "class_names.txt" not in str(err.value)
    assert (
        "mask value 200 is found in one file only "
        f"({root / 'train' / 'masks' / 'r0.png'}): fix that mask, name it with "
        "cfg.data.class_names = {VALUE: NAME, ...} (class_colors.txt's class rows are values "
        "0-2 only) or keep it as a class (cfg.data.label_values = [...], each class's value)"
    ) in str(err.value)  # Python's keys (s57: the bare data.class_names, data.label_values)
    with pytest.raises(UnetlabError) as err, command_spelling():
        check_training_data(load_config(None, key))
    assert "name it with --set 'data.class_names={VALUE: NAME, ...}' (class_colors" in str(
        err.value
    )
    named = "data.class_names={0: road, 1: sky, 2: building, 200: bus}"
    check_training_data(load_config(None, [*key, named]))  # the fix it names
    root = _indexed_set(tmp_path / "e", {0: 3})
    key[1] = f"data.root={root}"
    with pytest.raises(UnetlabError) as err:
        check_training_data(load_config(None, key))
    assert (
        "fix that mask, add it to class_colors.txt as a class row after its last (its "
        "classes are values 0-2) or keep it as a class"
    ) in str(err.value)
    (root / "class_colors.txt").write_text(TABLE + "9 9 9 bus\n")  # the fix it names
    check_training_data(load_config(None, key))
    root = _indexed_set(tmp_path / "f", {0: 3, 1: 3})  # a class, not a stray: a warning
    notes = check_training_data(load_config(None, ["data.grey_masks=indices", f"data.root={root}"]))
    (note,) = [n for n in notes if "has no class name" in n]
    assert note.endswith(
        "add it to class_colors.txt as a class row after its last (its classes are values "
        "0-2), or fix those masks"
    )
