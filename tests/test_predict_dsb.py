"""predict on the Data Science Bowl 2018 test layout (``stage1_test/ID/images/ID.png``, no
masks): its images predicted into one folder by their IDs, which evaluate pairs back with a
DSB folder's masks; ``--recursive`` the same, not one sub-folder of one file a sample
(s37 leftovers: 'no images found', the sub-folders not searched)."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from unetlab import UNet, evaluate_predictions, save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.errors import UnetlabError, command_spelling
from unetlab.inference.folders import find_inputs
from unetlab.inference.tree import tree_folders

from .test_dsb import OBJECTS, write_dsb

IDS = tuple(OBJECTS)  # a, b, c


@pytest.fixture
def bowl(tmp_path):
    """stage1_train/ (masks), stage1_test/ (its images alone) and a tiny RGB model."""
    write_dsb(tmp_path / "stage1_train")
    for sid in IDS:
        shutil.copytree(
            tmp_path / "stage1_train" / sid / "images", tmp_path / "stage1_test" / sid / "images"
        )
    save_model(tmp_path / "m.pt", UNet(3, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _predict(root, *flags):
    given = ["--input", str(root / "stage1_test"), "--output", str(root / "out"), *flags]
    return main(["predict", "--checkpoint", str(root / "m.pt"), *given])


def test_a_dsb_test_folder_gives_each_samples_image(bowl, caplog):
    test = bowl / "stage1_test"
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert find_inputs(test) == [test / s / "images" / f"{s}.png" for s in IDS]
    assert f"{test}/ holds 3 Data Science Bowl samples: predicting ID/images/ID.png" in caplog.text


def test_predicted_by_id_into_one_folder_and_evaluated_by_id(bowl):
    assert _predict(bowl) == 0
    assert sorted(p.name for p in (bowl / "out").glob("*.png")) == [f"{s}.png" for s in IDS]
    report = evaluate_predictions(bowl / "out", bowl / "stage1_train", gt_instances=True)
    assert sorted(row["name"] for row in report.images) == list(IDS)


def test_recursive_predicts_the_samples_into_one_folder_too(bowl):
    test = bowl / "stage1_test"
    found = tree_folders(test, bowl / "out")
    assert [(str(rel), files) for rel, files in found] == [
        (".", [test / s / "images" / f"{s}.png" for s in IDS])
    ]
    assert _predict(bowl, "--recursive") == 0
    assert sorted(p.name for p in (bowl / "out").glob("*.png")) == [f"{s}.png" for s in IDS]
    assert not any(p.is_dir() for p in (bowl / "out").iterdir())


def test_a_folder_that_is_one_only_in_part_is_no_dsb(bowl):
    """Strict: one sub-folder of two images makes it no DSB folder (the line names them)."""
    test = bowl / "stage1_test"
    write_png(test / "c" / "images" / "two.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(UnetlabError, match="no images found in"):
        find_inputs(test)


def test_images_not_named_as_their_folder_are_no_dsb_and_keep_their_folders(tmp_path):
    """p/images/x.png + q/images/x.png: outputs by the images' names would clash in one
    folder, so the folder is not read as one: named as a folder of sub-folders, and
    --recursive mirrors them (OUT/p/images/x.png), no clash."""
    for sid in ("p", "q"):
        write_png(tmp_path / "t" / sid / "images" / "x.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(UnetlabError, match=r"no images found in .*use predict_tree"):
        find_inputs(tmp_path / "t")
    found = [str(rel) for rel, _ in tree_folders(tmp_path / "t", tmp_path / "out")]
    assert found == ["p/images", "q/images"]


def test_an_output_folder_among_the_samples_is_passed_over(bowl):
    """predict --input stage1_test --output stage1_test/out, then again with --skip-existing
    (and --recursive): the output folder (its manifest) is no sample; the second run found
    no DSB folder ('no images found'), and --recursive mirrored each sample's images/."""
    test = bowl / "stage1_test"
    given = ["--input", str(test), "--output", str(test / "out")]
    predict = ["predict", "--checkpoint", str(bowl / "m.pt"), *given]
    assert main(predict) == 0
    assert main([*predict, "--skip-existing"]) == 0
    assert main([*predict, "--skip-existing", "--recursive"]) == 0
    assert sorted(p.name for p in (test / "out").glob("*.png")) == [f"{s}.png" for s in IDS]
    assert not any(p.is_dir() for p in (test / "out").iterdir())


def test_predictions_inside_a_dsb_folder_are_scored_against_it(bowl):
    """predict --input stage1_train --output stage1_train/out (as the test above allows),
    then evaluate --pred stage1_train/out --gt stage1_train, and train --data stage1_train:
    the output folder (its manifest) is no sample there either; both refused the folder as
    '3 of its 4 sub-folders are ...: out/ has no images/' (audit s38)."""
    from unetlab.data.pairs import find_pairs

    train = bowl / "stage1_train"
    given = ["--input", str(train), "--output", str(train / "out")]
    assert main(["predict", "--checkpoint", str(bowl / "m.pt"), *given]) == 0
    report = evaluate_predictions(train / "out", train)
    assert sorted(row["name"] for row in report.images) == list(IDS)
    assert [p.name for p in find_pairs(train)] == list(IDS)


def test_a_test_folder_inside_a_dsb_folder_is_searched_apart(bowl, caplog):
    """stage1_train/test/ (test images kept inside the DSB folder) made stage1_train/ no
    DSB folder: --recursive mirrored each sample's images/ into OUT/ID/images/, train read
    no samples. The split is passed over as no sample, and the tree searches it (s38)."""
    from unetlab.data.pairs import find_pairs

    train = bowl / "stage1_train"
    write_png(train / "test" / "t.png", np.zeros((8, 8, 3), np.uint8))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        found = tree_folders(train, bowl / "out")
    assert [(str(rel), files) for rel, files in found] == [
        (".", [train / s / "images" / f"{s}.png" for s in IDS]),
        ("test", [train / "test" / "t.png"]),
    ]
    assert "holds 3 Data Science Bowl samples: predicting ID/images/ID.png; test/ searched" in (
        caplog.text
    )
    assert [p.name for p in find_pairs(train)] == list(IDS)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"), command_spelling():
        assert len(find_inputs(train)) == len(IDS)  # as the command line runs
    assert "test/ not predicted (give it as --input, or --recursive)" in caplog.text
    caplog.clear()  # predict_folder in a notebook (s53: it was told --input, --recursive)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        find_inputs(train)
    assert "test/ not predicted (give it as an input, or use predict_tree)" in caplog.text


def test_a_few_samples_among_folders_pass_over_an_output_folder(tmp_path):
    """One sample among notes/ and out/ (predict's output, its manifest): the refusal
    counted out/ as a sub-folder that is no sample, which the full DSB rule passes over
    (ad12a23); it names notes/ alone (s38)."""
    from unetlab.data.pairs import find_pairs
    from unetlab.errors import DatasetError
    from unetlab.manifest import MANIFEST

    write_dsb(tmp_path, {"x": OBJECTS["a"]})
    (tmp_path / "notes").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / MANIFEST).write_text("")
    with pytest.raises(DatasetError) as err:
        find_pairs(tmp_path)
    said = str(err.value)
    assert "1 of its 2 sub-folders (x/) are one folder per image" in said
    assert "but notes/ has no images/ and masks/ folder:" in said


def test_a_report_is_written_into_the_predictions_inside_a_dsb_folder(bowl):
    """evaluate --pred st/out --gt st --json st/out/e.json was refused as 'would write into
    st, which it reads as data', though the DSB folder passes over out/ (predict's, its
    manifest) as no sample (s38); a folder of no outputs there stays refused."""
    from unetlab.errors import OutputError
    from unetlab.outputs import refuse_inside

    train = bowl / "stage1_train"
    given = ["--input", str(train), "--output", str(train / "out"), "--instances"]
    assert main(["predict", "--checkpoint", str(bowl / "m.pt"), *given]) == 0
    scored = ["evaluate", "--pred", str(train / "out"), "--gt", str(train)]
    for _ in range(2):  # and again, its report beside the predictions
        assert main([*scored, "--json", str(train / "out" / "e.json")]) == 0
    assert (train / "out" / "e_confusion.png").is_file()
    report = json.loads((train / "out" / "e.json").read_text())
    assert sorted(row["name"] for row in report["images"]) == list(IDS)  # not e_confusion
    with pytest.raises(OutputError, match="would write into"):
        refuse_inside([train / "notes" / "e.json"], [train], outputs_apart=True)
    with pytest.raises(OutputError, match="would write into"):  # train's own rule: as before
        refuse_inside([train / "out" / "e.json"], [train])
