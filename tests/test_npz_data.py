"""A notebook's data set in one ``.npz`` (``np.savez(f, images=..., masks=...)``), s73: its
masks are read from its ``masks`` array wherever a mask's size or kind is asked."""

import re
from pathlib import Path

import numpy as np
import pytest

from unetlab.data.colour import colour_file
from unetlab.data.datasets import split_pairs
from unetlab.data.pairs import PairReader, find_pairs
from unetlab.data.stack_split import next_to_training
from unetlab.errors import DatasetError
from unetlab.inference.pages import say_bare_pages

RNG = np.random.default_rng(0)


def _data_set(path: Path, images: np.ndarray, masks: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, images=images, masks=masks)
    return path


def _copies(root: Path, images: np.ndarray, masks: np.ndarray) -> Path:
    """images/data.npz beside masks/data.npz, a copy each (as README told users to)."""
    for folder in ("images", "masks"):
        _data_set(root / folder / "data.npz", images, masks)
    return root


def test_a_masks_array_of_fewer_pages_is_one_line_not_a_traceback(tmp_path):
    """s73: masks/data.npz's pages were counted in its images array, so 5 images with 4 masks
    paired 5 pages and the 5th read failed (IndexError: a traceback)."""
    images, masks = RNG.integers(0, 255, (5, 40, 48), np.uint8), np.ones((4, 40, 48), np.uint8)
    root = _copies(tmp_path, images, masks)
    said = r"data.npz: its 'images' array holds 5 images but the 'masks' array of .*data.npz 4"
    with pytest.raises(DatasetError, match=said):
        find_pairs(root)


def test_a_masks_kind_is_its_masks_arrays(tmp_path):
    """colour_file of masks/data.npz read its images array: RGB images made it a colour mask."""
    images = RNG.integers(0, 255, (2, 40, 48, 3), np.uint8)
    path = _data_set(tmp_path / "data.npz", images, np.ones((2, 40, 48), np.uint8))
    assert colour_file(path) and not colour_file(path, mask=True)


def _one_file_set(tmp_path: Path, n: int = 6) -> tuple[Path, np.ndarray]:
    images = RNG.integers(0, 255, (n, 40, 48), np.uint8)
    masks = RNG.integers(0, 3, (n, 40, 48)).astype(np.uint16)
    _data_set(tmp_path / "nb" / "data.npz", images, masks)
    return tmp_path / "nb", masks


def test_a_folder_of_one_npz_data_set_pairs_it_with_itself(tmp_path):
    """s73: a folder holding np.savez('data.npz', images=..., masks=...) was "no data set
    found: copy it into both folders"; now each page of its images pairs with its masks'."""
    root, masks = _one_file_set(tmp_path)
    pairs = find_pairs(root)
    assert [(p.image.name, p.mask.name, p.page) for p in pairs] == [
        ("data.npz", "data.npz", i) for i in range(6)
    ]
    reader = PairReader()
    for pair in pairs:
        np.testing.assert_array_equal(reader(pair)[1], masks[pair.page])


def test_the_npz_given_as_data_names_its_folder(tmp_path):
    root, _ = _one_file_set(tmp_path)
    said = r"data.npz: a data set in one file, where --data takes a folder: give --data .*nb$"
    with pytest.raises(DatasetError, match=said):
        find_pairs(root / "data.npz", flag="--data")


def test_train_given_the_npz_says_the_exact_command(tmp_path, monkeypatch, capsys):
    """s74: train --data nb/data.npz said "give --data the folder that holds it, nb", which
    trains on every data set there: the user's command with the folder in the file's place,
    and where others are beside it, the commands that move it into a folder of its own."""
    import sys

    from unetlab.cli import main

    root, _ = _one_file_set(tmp_path)
    given = ["unetlab", "train", f"--data={root / 'data.npz'}", "--check"]
    monkeypatch.setattr(sys, "argv", given)
    assert main(given[1:]) != 0
    said = capsys.readouterr().err
    assert f"where --data takes a folder: unetlab train --data={root} --check\n" in said
    _data_set(root / "more.npz", np.zeros((2, 40, 48), np.uint8), np.ones((2, 40, 48), np.uint8))
    assert main(given[1:]) != 0
    said = capsys.readouterr().err
    assert "its folder's reads more.npz with it; to read data.npz alone, move it into a " in said
    alone = tmp_path / "nb_data"  # beside nb/, whose layout may read a folder in it
    move = f"mkdir {alone} && mv {root / 'data.npz'} {alone}/"
    assert f"{move} && unetlab train --data={alone} --check\n" in said


def test_an_npz_data_set_splits_image_by_image(tmp_path):
    """Its pages are a notebook's samples, not a stack's planes: no page is left out as a
    gap and no warning calls a validation page a near copy of its neighbours."""
    root, _ = _one_file_set(tmp_path)
    train, val = split_pairs(root, val_fraction=0.34, seed=1)
    assert len(train) + len(val) == 6 and len(val) == 2
    assert next_to_training(train, val) == []


def test_an_npy_stacks_bare_pages_are_said_not_opened_as_a_tiff(tmp_path, caplog):
    """s73: evaluate of an (N, H, W) .npy (or an .npz) opened it as a TIFF to say its pages
    record no axes: TiffFileError, a traceback."""
    np.save(tmp_path / "a.npy", np.zeros((5, 40, 48), np.uint8))
    say_bare_pages(tmp_path / "a.npy", 5)
    assert "5 pages and no axis metadata" in caplog.text


def test_copies_of_a_data_set_in_images_and_masks_split_image_by_image(tmp_path, caplog):
    """s73 review 3: images/data.npz beside masks/data.npz (stop 72's README, a copy each)
    was still a stack: "page 4 left out as a gap" and, read as planes, "give --axes CYX"."""
    images, masks = RNG.integers(0, 255, (6, 40, 48), np.uint8), np.ones((6, 40, 48), np.uint8)
    root = _copies(tmp_path, images, masks)
    pairs = find_pairs(root)
    assert len(pairs) == 6 and all(p.data_set_file for p in pairs)
    train, val = split_pairs(root, val_fraction=0.34, seed=1)
    assert len(train) + len(val) == 6 and next_to_training(train, val) == []
    assert "gap" not in caplog.text


def _planes_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "planes" in line or "axis metadata" in line]


def test_train_check_and_evaluate_of_an_npz_data_set_call_its_images_no_planes(
    tmp_path, monkeypatch, caplog, capsys
):
    """s73 review 7: train --check and evaluate --data nb/ said "data.npz: 6 pages and no
    axis metadata: read as 6 planes" where the data set's pages are no stack's (no test
    failed without train/setup's and evaluate's data_set_file)."""
    from unetlab.checkpoint import save_model
    from unetlab.cli import main
    from unetlab.models import UNet

    root = tmp_path / "nb"
    images = RNG.integers(0, 255, (6, 32, 32), np.uint8)
    _data_set(root / "data.npz", images, np.tile([0, 1], (6, 32, 16)).astype(np.uint8))
    monkeypatch.chdir(tmp_path)
    caplog.set_level("INFO")
    assert main(["train", "--data", "nb", "--check", "--set", "model.depth=2"]) == 0
    assert "check: " in caplog.text and _planes_lines(caplog.text) == []
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4))
    caplog.clear()
    assert main(["evaluate", "--checkpoint", "m.pt", "--data", "nb", "--device", "cpu"]) == 0
    said = caplog.text + "\n".join(capsys.readouterr())
    assert "data[2]" in said and _planes_lines(said) == []


def test_an_npz_data_sets_counts_that_differ_are_said_of_its_arrays(tmp_path, capsys):
    """s73 review 6: nb/data.npz of 5 images and 4 masks got a stack's advice (Fiji's Make
    Substack), channels-first (N, 3, H, W) images "18 pages but its mask has 6"; under
    train's held page counts its masks were counted as its images (mask not in the key)."""
    from unetlab.cli import main

    masks = np.ones((4, 32, 32), np.uint8)
    _data_set(tmp_path / "a" / "data.npz", RNG.integers(0, 255, (5, 32, 32), np.uint8), masks)
    assert main(["train", "--data", str(tmp_path / "a"), "--check"]) == 2
    err = capsys.readouterr().err
    assert "'images' array holds 5 images but the 'masks' array of data.npz 4 masks: " in err
    assert "mask i labels image i" in err and "Fiji" not in err
    channels_first = RNG.integers(0, 255, (4, 3, 32, 32), np.uint8)
    _data_set(tmp_path / "b" / "data.npz", channels_first, masks)
    assert main(["train", "--data", str(tmp_path / "b"), "--check"]) == 2
    err = capsys.readouterr().err
    assert "holds 12 images but the 'masks' array of data.npz 4 masks: its images look " in err
    assert "np.savez(path, images=np.moveaxis(images, 1, -1), masks=masks)" in err


def test_a_test_npz_beside_a_train_npz_is_left_out_of_training_and_scored_alone(tmp_path, caplog):
    """s73 review 8: nb/{train,test}.npz were merged silently: training validated on
    test.npz too. As test/ beside train/: training leaves it out, evaluate scores it alone."""
    from unetlab.evaluate.masks import evaluation_pairs

    root = tmp_path / "nb"
    for name, n in (("train", 6), ("test", 2)):
        images = RNG.integers(0, 255, (n, 40, 48), np.uint8)
        _data_set(root / f"{name}.npz", images, np.ones((n, 40, 48), np.uint8))
    train, val = split_pairs(root, val_fraction=0.34, seed=1)
    assert {p.image.name for p in train + val} == {"train.npz"} and len(train + val) == 6
    assert (
        "2 data sets in one file each: train on train.npz; test.npz left out, a test split"
        in caplog.text
    )
    assert [(p.image.name, p.page) for p in evaluation_pairs(root)] == [
        ("test.npz", 0),
        ("test.npz", 1),
    ]
    assert "score test.npz, the test split, alone (train.npz left out)" in caplog.text
    _data_set(root / "more.npz", RNG.integers(0, 255, (2, 40, 48), np.uint8), np.ones((2, 40, 48)))
    (root / "test.npz").unlink()
    assert len(find_pairs(root)) == 8
    assert "2 data sets in one file each (more.npz, train.npz): train on them as one" in caplog.text


def test_predict_calls_an_npz_data_sets_pages_its_images_not_planes(tmp_path, caplog):
    """s73 review 9: predict nb/ said "data.npz: 6 pages and no axis metadata: read as 6
    planes (a Z stack)" of a notebook's samples."""
    from tests.test_coco_out import _net
    from unetlab.inference.folders import predict_folder

    root, _ = _one_file_set(tmp_path)
    result = predict_folder(_net(), root, tmp_path / "out", progress=False)
    assert not result.failed and (tmp_path / "out" / "data.tif").is_file()
    assert "data.npz: a data set in one file: its 6 images (its images array) are " in caplog.text
    assert _planes_lines(caplog.text) == []


def test_an_npz_data_sets_grey_pages_as_many_as_the_models_channels_are_its_channels(
    tmp_path, caplog
):
    """s74: read_pages skipped guess_pages for a data set's pages, so 2 grey images for a
    2-channel model were predicted one by one and failed ("has 1 channel, the model takes
    2"); a 2-page TIFF's are the channels of one image, said: the .npz's are too."""
    from tests.test_predict_objects import LocalNet
    from unetlab.inference.folders import predict_folder

    root, _ = _one_file_set(tmp_path, n=2)
    net = LocalNet(in_channels=2, num_classes=2, depth=2, base_channels=4, padding="valid")
    result = predict_folder(net.eval(), root, tmp_path / "out", progress=False)
    assert not result.failed and (tmp_path / "out" / "data.png").is_file()
    assert "data.npz: 2 pages and no axis metadata: read as the 2 channels of one" in caplog.text
    assert "a data set in one file: its 2 images" not in caplog.text


def test_a_val_npz_beside_a_train_npz_validates_as_a_val_folder_does(tmp_path, caplog):
    """s74: nb/{train,val,test}.npz trained on val.npz too, a random share of both
    validating: val.npz is the validation split, as val/ beside train/, recorded so in
    split.json and said; test.npz is left out still."""
    from unetlab.data.datasets import more_validation, split_kind
    from unetlab.data.split_record import split_record

    root = tmp_path / "nb"
    for name, n in (("train", 6), ("val", 2), ("test", 2)):
        images = RNG.integers(0, 255, (n, 40, 48), np.uint8)
        _data_set(root / f"{name}.npz", images, np.ones((n, 40, 48), np.uint8))
    with caplog.at_level("INFO"):
        train, val = split_pairs(root, val_fraction=0.5, seed=1)
    assert [(p.image.name, p.page) for p in val] == [("val.npz", 0), ("val.npz", 1)]
    assert [(p.image.name, p.page) for p in train] == [("train.npz", k) for k in range(6)]
    record = split_record(root, train, val)
    assert [e["image"] for e in record["val"]] == ["val.npz", "val.npz"]
    said = f"using the split of {root}: train.npz for training, val.npz for validation; "
    assert said + "test.npz left out, a test split" in caplog.text
    assert split_kind(root) == "npz" and more_validation(root) == (
        "add images and their masks to nb/val.npz"
    )
    (root / "test.npz").unlink()
    assert [p.image.name for p in split_pairs(root, val_fraction=0.5, seed=1)[1]] == ["val.npz"] * 2


def test_npz_files_beside_a_folders_layout_do_not_split_it(tmp_path):
    """s74 review 1: images/ + masks/ with a notebook's train.npz and val.npz beside them
    (a cache) split by the .npz names: "train: listed in the split file but not in images/".
    The folders are the data set: a random split of their pairs, as before."""
    from PIL import Image

    from unetlab.data.datasets import split_kind

    root = tmp_path / "fpn"
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
        for k in range(5):
            Image.fromarray(_pages(1)[folder == "masks"][0]).save(root / folder / f"a{k}.png")
    for name in ("train", "val"):
        _data_set(root / f"{name}.npz", *_pages(2))
    assert split_kind(root) == "random"
    train, val = split_pairs(root, val_fraction=0.2, seed=0)
    assert (len(train), len(val)) == (4, 1)
    assert {p.image.parent.name for p in train + val} == {"images"}


def _pages(n: int) -> tuple[np.ndarray, np.ndarray]:
    return RNG.integers(0, 255, (n, 40, 48), np.uint8), np.ones((n, 40, 48), np.uint8)


def _split_sets(root: Path, names: tuple[str, ...]) -> Path:
    for name in names:
        _data_set(root / f"{name}.npz", *_pages(6 if name == "train" else 2))
    return root


def _error_of(monkeypatch, capsys, *words: str) -> str:
    """What ``unetlab WORDS`` says on failing, as typed (sys.argv: the command it gives)."""
    import sys

    from unetlab.cli import main

    monkeypatch.setattr(sys, "argv", ["unetlab", *words])
    assert main(list(words)) != 0
    return capsys.readouterr().err


def test_the_npz_given_is_read_by_its_folders_command_or_put_in_a_folder_of_its_own(
    tmp_path, monkeypatch, capsys
):
    """s74 review 2: --data X.npz gave commands that read other data, or moved a split's
    file: nb3/{train,val,test}.npz, evaluate --data nb3/test.npz advised moving test.npz,
    which evaluate --data nb3 scores alone; train --data nb3/train.npz advised moving
    train.npz out of its split. The folder's command where it reads the file as the
    command's data; a copy beside the folder where a move would change its split."""
    monkeypatch.chdir(tmp_path)
    _split_sets(tmp_path / "nb3", ("train", "val", "test"))
    said = _error_of(
        monkeypatch, capsys, "evaluate", "--data", "nb3/test.npz", "--checkpoint", "m.pt"
    )
    assert said.endswith(
        "where --data takes a folder: unetlab evaluate --data nb3 --checkpoint m.pt\n"
    )
    said = _error_of(monkeypatch, capsys, "train", "--data", "nb3/train.npz", "--check")
    assert said.endswith(": unetlab train --data nb3 --check (validating on val.npz)\n")
    said = _error_of(monkeypatch, capsys, "train", "--data", "nb3/test.npz", "--check")
    alone = tmp_path / "nb3_test"
    copy = f"mkdir {alone} && cp {tmp_path / 'nb3' / 'test.npz'} {alone}/"
    assert "its folder's would train on train.npz, not test.npz; to train on it alone, copy" in said
    assert said.endswith(f"{copy} && unetlab train --data nb3_test --check\n")


def test_an_npz_beside_a_data_set_of_another_layout_is_put_in_a_folder_of_its_own(
    tmp_path, monkeypatch, capsys
):
    """s74 review 2: mix2/ of images/ + masks/ + data.npz: train --data mix2/data.npz said
    "unetlab train --data mix2 --check", which trains on the PNG pairs, never data.npz."""
    from PIL import Image

    root = tmp_path / "mix2"
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
        Image.fromarray(_pages(1)[folder == "masks"][0]).save(root / folder / "a.png")
    _data_set(root / "data.npz", *_pages(2))
    given = f"--data={root / 'data.npz'}"
    said = _error_of(monkeypatch, capsys, "train", given, "--check")
    alone = tmp_path / "mix2_data"
    move = f"mkdir {alone} && mv {root / 'data.npz'} {alone}/"
    assert f"{root}'s data set is of another layout, which does not read it: move it" in said
    assert said.endswith(f"{move} && unetlab train --data={alone} --check\n")


def test_the_npz_given_outside_a_command_names_the_folder_not_a_command(tmp_path, monkeypatch):
    """provenance.command_with gives no command line in Python (the API): the process's
    argv (here naming the file) is no command the user typed."""
    import sys

    root, _ = _one_file_set(tmp_path)
    monkeypatch.setattr(sys, "argv", ["unetlab", "train", "--data", str(root / "data.npz")])
    with pytest.raises(DatasetError, match=r"takes a folder: give --data \S*nb$"):
        find_pairs(root / "data.npz", flag="--data")


def test_evaluate_of_a_train_and_a_val_npz_scores_the_val_npz_alone(tmp_path, caplog):
    """s74 review 4: nb2/{train,val}.npz, no test.npz: evaluate scored both as one (the
    checkpoint trained on 6 of the 8 images); as of train/ + val/ folders, val.npz alone."""
    from unetlab.evaluate.masks import evaluation_pairs

    root = _split_sets(tmp_path / "nb2", ("train", "val"))
    assert [(p.image.name, p.page) for p in evaluation_pairs(root)] == [
        ("val.npz", 0),
        ("val.npz", 1),
    ]
    assert "score val.npz, the validation split, alone (train.npz left out)" in caplog.text
    (root / "more.npz").write_bytes((root / "train.npz").read_bytes())
    find_pairs(root)
    assert "3 data sets in one file each: train on more.npz, train.npz, validate on val.npz" in (
        caplog.text
    )


def test_a_val_npz_split_says_how_an_image_moves_between_its_sides():
    """The fix a note on a class missing from validation gives of an .npz split (a KeyError
    where the split had no entry)."""
    from unetlab.data.datasets import split_move

    assert split_move("npz", "val") == (
        "from the training .npz into val.npz (the .npz files' names split it)"
    )


@pytest.mark.parametrize("use", ["train", "evaluate"])
def test_a_val_npz_and_a_validation_npz_are_refused_naming_both(tmp_path, use):
    """s75: nb/{train,val,validation}.npz: neither was the validation split, all three were
    trained on as one (a line said "train on them as one"). Refused, naming both."""
    from unetlab.evaluate.masks import evaluation_pairs

    root = _split_sets(tmp_path / "nb", ("train", "val", "validation"))
    said = "val.npz and validation.npz both name the validation split: keep one (merge the"
    with pytest.raises(DatasetError, match=re.escape(said)):
        split_pairs(root, val_fraction=0.5, seed=1) if use == "train" else evaluation_pairs(root)


def test_two_validation_sets_beside_a_test_npz_are_no_matter_to_scoring(tmp_path):
    """s75 review 8: evaluate --data nb/ with train, val, validation and test.npz reads
    test.npz alone, yet was refused for the two validation sets; training still is."""
    from unetlab.evaluate.masks import evaluation_pairs

    root = _split_sets(tmp_path / "nb", ("train", "val", "validation", "test"))
    assert {Path(p.image).name for p in evaluation_pairs(root)} == {"test.npz"}
    with pytest.raises(DatasetError, match="val.npz and validation.npz both name"):
        split_pairs(root, val_fraction=0.5, seed=1)


def test_the_folder_an_npz_is_moved_into_is_a_free_one(tmp_path, monkeypatch, capsys):
    """s75 review 1: where nb_data/ was there (an earlier try, or the user's folder), the
    line's 'mkdir -p nb_data && mv nb/data.npz nb_data/' replaced the user's own
    nb_data/data.npz. The line names the first folder not there, nb_data_2/: run in bash,
    it moves the file there and leaves the user's as it was."""
    import shutil
    import subprocess

    if shutil.which("bash") is None:
        pytest.skip("no bash to run the line in")
    monkeypatch.chdir(tmp_path)
    _split_sets(tmp_path / "nb", ("data", "more"))
    (tmp_path / "nb_data").mkdir()
    (tmp_path / "nb_data" / "data.npz").write_bytes(b"the user's own")
    said = _error_of(monkeypatch, capsys, "train", "--data", "nb/data.npz", "--check")
    line = said.rsplit(": ", 1)[1].strip()
    alone = tmp_path / "nb_data_2"
    assert line.startswith(f"mkdir {alone} && mv {tmp_path / 'nb' / 'data.npz'} {alone}/ && ")
    moved = line.split(" && unetlab ")[0]
    subprocess.run(["bash", "-c", moved], check=True, cwd=tmp_path)
    assert (tmp_path / "nb_data" / "data.npz").read_bytes() == b"the user's own"
    assert (alone / "data.npz").is_file() and not (tmp_path / "nb" / "data.npz").exists()
