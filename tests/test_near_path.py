"""A path that does not exist names the one spelt closest to it (walk s49: a new user's
``--data kromp2020_nucle`` said only "no such data folder", ``--input test/imagse`` only "no
such file or folder", leaving the typo to be found by eye)."""

from pathlib import Path

import pytest

from unetlab.checkpoint import load_checkpoint
from unetlab.cli import main
from unetlab.data.folder_notes import APPLE_DOUBLE, near_path
from unetlab.data.io import find_images
from unetlab.errors import CheckpointError, ImageReadError
from unetlab.evaluate.masks import data_root


@pytest.fixture
def tree(tmp_path):
    for sub in (
        "kromp2020_nuclei/test/images",
        "kromp2020_nuclei/test/masks",
        "other",
        "apinodata",
    ):
        (tmp_path / sub).mkdir(parents=True)
    (tmp_path / "kromp2020_nuclei/test/images/a.png").write_bytes(b"")
    (tmp_path / "best.pt").write_bytes(b"")
    return tmp_path


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("kromp2020_nucle", "kromp2020_nuclei"),  # a letter left out
        ("kromp2020_nuclei/test/imagse", "kromp2020_nuclei/test/images"),  # two swapped
        ("kromp2020_nucle/test/imagse/a.png", "kromp2020_nuclei/test/images/a.png"),  # two parts
        ("bset.pt", "best.pt"),
        ("Other", "other"),  # letter case
        ("kromp2020_nuclei/test/zzz", None),  # nothing close
        ("nowhere/test/images", None),  # a part with nothing close: no guess below it
        ("kromp2020_nuclei/test/images", None),  # it exists: nothing to suggest
        ("apinodat", "apinodata"),  # near: a letter left out
        ("data", None),  # far: "apinodata" only ends alike (ratio 0.62; s51 resumelines 4)
    ],
)
def test_near_path_names_the_closest_existing_path(tree, typed, meant):
    assert near_path(tree / typed) == (None if meant is None else tree / meant)


def test_near_path_of_a_relative_path_stays_relative(tree, monkeypatch):
    monkeypatch.chdir(tree)
    assert near_path("kromp2020_nuclei/tset") == Path("kromp2020_nuclei/test")


def test_each_missing_path_error_names_the_near_one(tree, capsys):
    with pytest.raises(ImageReadError, match=r"imagse: no such file or folder \(did you mean"):
        find_images(tree / "kromp2020_nuclei/test/imagse")
    with pytest.raises(CheckpointError, match=r"no such checkpoint file \(did you mean .*best.pt"):
        load_checkpoint(tree / "bset.pt")
    with pytest.raises(ValueError, match=r"no such folder \(did you mean .*test/masks\?\)"):
        data_root(tree / "kromp2020_nuclei/test/mask")
    assert main(["train", "--data", str(tree / "kromp2020_nucle"), "--check"]) == 2
    said = capsys.readouterr().err
    assert (
        f"no such data folder; give --data the folder of the data set (did you mean {tree / 'kromp2020_nuclei'}?)"
        in said
    )


def test_a_glob_that_matches_nothing_says_what_is_there(tree, monkeypatch):
    from unetlab.errors import UnetlabError
    from unetlab.inference.folders import find_inputs

    images = tree / "kromp2020_nuclei/test/images"
    with pytest.raises(UnetlabError, match=rf"\*\.tif \({images} holds 1 \.png file\)$"):
        find_inputs(str(images / "*.tif"))
    meant = rf"\(did you mean {images}/\*\.png\?\)$"
    with pytest.raises(UnetlabError, match=meant):
        find_inputs(str(tree / "kromp2020_nuclei/test/imagse/*.png"))
    (images / "._b.png").write_bytes(APPLE_DOUBLE + bytes(60))  # macOS metadata: no image
    monkeypatch.chdir(images)  # the current folder by its path, not "." (s49 ids)
    with pytest.raises(UnetlabError, match=rf"no images found in \*\.tif \({images} holds 1 \.png"):
        find_inputs("*.tif")
