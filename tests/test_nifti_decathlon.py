"""The Medical Segmentation Decathlon's and nnU-Net's data sets (unetlab.data.decathlon):
imagesTr/ + labelsTr/ NIfTI volumes paired by case, dataset.json's labels as class names;
train -> predict (.nii.gz label volumes with the input's header) -> evaluate (Dice)."""

import gzip
import json
import logging

import numpy as np
import pytest

from tests.test_nifti import write_nifti
from unetlab.cli import main
from unetlab.data.classes import class_names_from
from unetlab.data.decathlon import dataset_labels
from unetlab.data.nifti import read_header, read_volume
from unetlab.data.pairs import find_pairs
from unetlab.errors import DatasetError

MSD_LABELS = {"0": "background", "1": "spleen", "2": "bone"}


def _case(seed: int, shape=(40, 40, 3)):
    """(X, Y, Z) int16 HU-like CT with a bright organ (1) and bone (2), and its labels."""
    rng = np.random.default_rng(seed)
    x, y, _ = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    organ = (x - 12 - seed) ** 2 + (y - 20) ** 2 < 64
    bone = (x - 30) ** 2 + (y - 30) ** 2 < 16
    ct = rng.normal(40, 20, shape) - 1000 * ((x < 3) | (y < 3)) + 150 * organ + 700 * bone
    labels = organ.astype(np.uint8) + 2 * bone.astype(np.uint8)
    return ct.astype(np.int16), labels


def make_set(
    root, cases=("spleen_1", "spleen_2", "spleen_3"), *, v2=False, labels=MSD_LABELS, units=0
):
    for i, case in enumerate(cases):
        ct, lab = _case(i)
        image = f"{case}_0000.nii.gz" if v2 else f"{case}.nii.gz"
        (root / "imagesTr").mkdir(parents=True, exist_ok=True)
        (root / "labelsTr").mkdir(exist_ok=True)
        write_nifti(root / "imagesTr" / image, ct, units=units)
        write_nifti(root / "labelsTr" / f"{case}.nii.gz", lab, units=units)
    if v2:
        labels = {name: int(value) for value, name in labels.items()}
    (root / "dataset.json").write_text(json.dumps({"labels": labels, "modality": {"0": "CT"}}))
    return root


def make_mri_set(root, cases=("prostate_1", "prostate_2", "prostate_3")):
    """nnU-Net v2's MRI of two channel files a case: _0000 T2 and _0001 ADC (an inverse)."""
    make_set(root, cases, v2=True)
    for i, case in enumerate(cases):
        write_nifti(root / "imagesTr" / f"{case}_0001.nii.gz", 2000 - _case(i)[0])
    meta = json.loads((root / "dataset.json").read_text())
    meta["channel_names"] = {"0": "T2", "1": "ADC"}
    (root / "dataset.json").write_text(json.dumps(meta))
    return root


@pytest.mark.parametrize("v2", [False, True], ids=["msd", "nnunet_v2"])
def test_pairs_by_case_and_names_the_classes(tmp_path, caplog, v2):
    root = make_set(tmp_path / "Task09_Spleen", v2=v2)
    with caplog.at_level(logging.INFO):
        pairs = find_pairs(root)
    assert len(pairs) == 9 and {p.pages for p in pairs} == {3}  # 3 volumes of 3 slices
    assert pairs[0].mask.name == "spleen_1.nii.gz"
    first = "spleen_1_0000.nii.gz" if v2 else "spleen_1.nii.gz"
    said = f"3 volumes of imagesTr/ paired with labelsTr/ by name ({first} with spleen_1.nii.gz)"
    assert said in caplog.text and "0 background, 1 spleen, 2 bone" in caplog.text
    assert class_names_from(root) == (
        {0: "background", 1: "spleen", 2: "bone"},
        root / "dataset.json",
    )


def test_pairing_problems_one_line_each(tmp_path):
    root = make_set(tmp_path / "set")
    (root / "labelsTr" / "spleen_3.nii.gz").unlink()
    write_nifti(root / "labelsTr" / "spleen_9.nii.gz", _case(0)[1])
    problems: list[str] = []
    find_pairs(root, problems=problems)
    text = "\n".join(problems)
    assert "spleen_3.nii.gz: no label volume" in text
    assert "spleen_9.nii.gz: no image volume" in text
    assert len(problems) == 2


def test_cut_off_volume_one_line(tmp_path, capsys):
    root = make_set(tmp_path / "set")
    data = (root / "imagesTr" / "spleen_2.nii.gz").read_bytes()
    (root / "imagesTr" / "spleen_2.nii.gz").write_bytes(data[: len(data) // 3])
    assert main(["train", "--data", str(root), "--check", *TINY]) == 2
    err = capsys.readouterr().err
    assert "spleen_2.nii.gz: its gzip data are cut off or damaged" in err
    assert "Traceback" not in err


def test_channel_files_are_one_image_of_named_channels(tmp_path):
    """s71: nnU-Net's case_0000 (T2) + case_0001 (ADC) were refused ("unetlab reads one file
    an image"); they are the channels of one image, named by dataset.json's channel_names."""
    from unetlab.data.io import find_images, read_stack, stack_size
    from unetlab.data.tiffmeta import channel_names

    root = make_mri_set(tmp_path / "Dataset005_Prostate")
    pairs = find_pairs(root)
    assert len(pairs) == 9 and {p.image.name for p in pairs} == {
        f"prostate_{i}_0000.nii.gz" for i in (1, 2, 3)
    }
    image = pairs[0].image
    stack = read_stack(image)
    assert stack.shape == (3, 40, 40, 2) == stack_size(image)
    np.testing.assert_array_equal(stack[..., 1], 2000 - _case(0)[0].transpose(2, 1, 0))
    assert channel_names(image) == ["T2", "ADC"]
    assert find_images(root / "imagesTr") == sorted(p.image for p in pairs[::3])


def _spoiled(root, how):
    later = root / "imagesTr" / "prostate_2_0001.nii.gz"
    if how == "missing":
        later.unlink()
    elif how == "shape":
        write_nifti(later, _case(1, (40, 40, 4))[0])
    elif how == "spacing":
        write_nifti(later, _case(1)[0], spacing=(0.5, 0.5, 3.0))
    else:
        later.rename(later.with_name("prostate_2_0002.nii.gz"))


@pytest.mark.parametrize(
    ("how", "said"),
    [
        (
            "missing",
            "case prostate_2 has 1 channel (prostate_2_0000.nii.gz), dataset.json's "
            "channel_names (T2, ADC) name 2: add prostate_2_0001.nii.gz, or take the case out",
        ),
        (
            "shape",
            "prostate_2_0000.nii.gz: the channel files of case prostate_2 differ in shape "
            "(x, y, z): prostate_2_0000.nii.gz 40x40x3, prostate_2_0001.nii.gz 40x40x4; resample",
        ),
        (
            "spacing",
            "differ in voxel size (pixdim): prostate_2_0000.nii.gz 0.8x0.8x5, "
            "prostate_2_0001.nii.gz 0.5x0.5x3; resample the channels onto one grid",
        ),
        (
            "gap",
            "prostate_2_0002.nii.gz: a channel file of case prostate_2, whose channels run "
            "_0000 and stop (no prostate_2_0001.nii.gz): add the missing channel file",
        ),
    ],
    ids=["missing", "shape", "spacing", "gap"],
)
def test_case_of_ill_matched_channel_files_one_line(tmp_path, capsys, how, said):
    root = make_mri_set(tmp_path / "set")
    _spoiled(root, how)
    assert main(["train", "--data", str(root), "--check", *TINY]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


@pytest.mark.parametrize("v2", [False, True], ids=["msd", "nnunet_v2"])
def test_names_pick_cases_by_name_less_the_ending(tmp_path, v2):
    """find_pairs(names=) of a Decathlon set took the stem of x.nii.gz, x.nii: no case's
    name picked any (s71 re-read)."""
    root = make_set(tmp_path / "set", v2=v2)
    picked = find_pairs(root, names=["spleen_2"])
    assert {p.image.name for p in picked} == {"spleen_2_0000.nii.gz" if v2 else "spleen_2.nii.gz"}
    assert len(picked) == 3 and find_pairs(root, names=[picked[0].image.name[:-7]]) == picked


def test_analyze_pair_in_images_said_with_the_fix(tmp_path, caplog):
    """A .hdr + .img in imagesTr/ was passed over without a word, its case left out."""
    root = make_set(tmp_path / "set")
    (root / "imagesTr" / "spleen_4.hdr").write_bytes(b"\0" * 348)
    (root / "imagesTr" / "spleen_4.img").write_bytes(b"\0" * 8)
    with caplog.at_level(logging.WARNING):
        assert len(find_pairs(root)) == 9
    said = "1 Analyze / NIfTI pair (spleen_4.hdr + spleen_4.img) not read: its case left out; "
    assert said + "convert each pair to .nii.gz (nibabel" in caplog.text


def test_dataset_json_labels_either_form_and_regions_refused(tmp_path):
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": {"background": 0, "liver": 1}}))
    assert dataset_labels(tmp_path) == {0: "background", 1: "liver"}
    (tmp_path / "dataset.json").write_text(json.dumps({"labels": {"tumour": [1, 2]}}))
    with pytest.raises(DatasetError, match="region-based labels are not read"):
        dataset_labels(tmp_path)
    (tmp_path / "dataset.json").write_text("{oops")
    with pytest.raises(DatasetError, match="not a JSON object"):
        dataset_labels(tmp_path)


TINY = ["--no-plan", "--no-progress", "--epochs", "1", "--set", "model.depth=2"]
TINY += ["--set", "data.tile_size=32", "--set", "model.base_channels=4"]


def test_labels_dataset_json_does_not_name_refused(tmp_path, capsys):
    root = make_set(tmp_path / "set", labels={"0": "background", "1": "spleen"})
    assert main(["train", "--data", str(root), "--check", *TINY]) == 2
    err = capsys.readouterr().err
    assert "dataset.json: the label volumes hold the values [2], which its labels" in err


@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("v2", [False, True], ids=["msd", "nnunet_v2"])
def test_train_predict_evaluate_nifti(tmp_path, capsys, caplog, v2):
    """The walk of a user of nnU-Net: train --data Task, predict imagesTs to .nii.gz label
    volumes that keep the image's header, named by case as nnU-Net names them (spleen_8 of
    spleen_8_0000), evaluate them against labelsTs and against the set with Dice."""
    root = make_set(tmp_path / "Task09_Spleen", v2=v2)
    (root / "imagesTs").mkdir()
    name = "spleen_8_0000.nii.gz" if v2 else "spleen_8.nii.gz"
    test_image = write_nifti(root / "imagesTs" / name, _case(4)[0])
    (root / "labelsTs").mkdir()
    write_nifti(root / "labelsTs" / "spleen_8.nii.gz", _case(4)[1])
    run = str(tmp_path / "run")
    assert main(["train", "--data", str(root), "--run-dir", run, *TINY]) == 0
    best, out = f"{run}/checkpoints/best.pt", tmp_path / "pred"
    predict = ["predict", "--checkpoint", best, "--no-progress", "--output", str(out)]
    with caplog.at_level(logging.INFO):
        assert main([*predict, "--input", str(root / "imagesTs")]) == 0
    assert "1 written" in caplog.text and "near black" not in caplog.text  # viewers colour them
    colour = ["--color", "--output", str(tmp_path / "colour"), "--input", str(test_image)]
    assert main([*predict[:-2], *colour]) == 0
    assert "--color: a NIfTI input's label volume (.nii.gz) keeps" in caplog.text
    written = out / "spleen_8.nii.gz"
    assert read_volume(written, mask=True).shape == (3, 40, 40)
    assert read_header(written).raw[252:328] == read_header(test_image).raw[252:328]
    assert main([*predict, "--input", str(test_image), "--output", str(root / "imagesTs")]) == 2
    said = "give an empty or new folder" if v2 else "would write over its input"  # x_0000: x
    assert said in capsys.readouterr().err
    assert gzip.decompress(test_image.read_bytes())[:4] == (348).to_bytes(4, "little")
    capsys.readouterr()
    assert main(["evaluate", "--pred", str(out), "--gt", str(root / "labelsTs")]) == 0
    shown = capsys.readouterr().out
    assert "Dice" in shown and "spleen" in shown and "bone" in shown
    on_set = ["--output", str(tmp_path / "pred_tr"), "--input", str(root / "imagesTr")]
    assert main([*predict[:-2], *on_set]) == 0
    assert main(["evaluate", "--pred", str(tmp_path / "pred_tr"), "--gt", str(root)]) == 0
    assert "Dice" in capsys.readouterr().out
    assert main(["evaluate", "--checkpoint", best, "--data", str(root), "--no-progress"]) == 0
    shown = capsys.readouterr().out
    assert "spleen_3[1]" in shown and ".nii" not in shown and "_0000" not in shown
    assert "per case (3-D)     3 volumes each scored whole" in shown  # as nnU-Net's summary
    assert "figures; spleen_1, spleen_2 trained the checkpoint: leave them out)" in shown


@pytest.mark.usefixtures("one_thread")
def test_train_predict_evaluate_channel_files(tmp_path, caplog, capsys):
    """A case of two channel files trains a net of two channels, predicts one label volume
    named by the case (not one a channel file), and evaluates by case."""
    root = make_mri_set(tmp_path / "Dataset005_Prostate")
    (root / "imagesTs").mkdir()
    for i, channel in enumerate((_case(4)[0], 2000 - _case(4)[0])):
        write_nifti(root / "imagesTs" / f"prostate_8_000{i}.nii.gz", channel)
    run = str(tmp_path / "run")
    assert main(["train", "--data", str(root), "--run-dir", run, *TINY]) == 0
    out = tmp_path / "pred"
    predict = ["predict", "--checkpoint", f"{run}/checkpoints/best.pt", "--no-progress"]
    with caplog.at_level(logging.INFO):
        assert main([*predict, "--input", str(root / "imagesTs"), "--output", str(out)]) == 0
    assert "1 written" in caplog.text and "2 -> 3 classes" in caplog.text
    assert sorted(p.name for p in out.glob("*.nii.gz")) == ["prostate_8.nii.gz"]
    capsys.readouterr()
    assert (
        main(["evaluate", "--checkpoint", f"{run}/checkpoints/best.pt", "--data", str(root)]) == 0
    )
    shown = capsys.readouterr().out
    assert "prostate_3[1]" in shown and "_0000" not in shown


def test_voxel_size_recorded_by_train_and_measured_by_predict(tmp_path, caplog):
    """A CT set in mm (xyzt_units 10): training records its 0.8 mm pixels (it said "none of
    the 3 training images record one") and predict --instances measures in the header's mm
    (area_mm2, z_mm: its 0.8 mm pixels gave area_um2 640000 a pixel, s72); the summary's z
    stays in µm, a column every folder's summary has."""
    import csv

    import torch

    root = make_set(tmp_path / "Task09_Spleen", units=10)
    run = tmp_path / "run"
    with caplog.at_level(logging.INFO):
        assert main(["train", "--data", str(root), "--run-dir", str(run), *TINY]) == 0
    assert "training images record one" not in caplog.text
    best = run / "checkpoints" / "best.pt"
    assert torch.load(best, weights_only=True)["objects"]["pixel_size"] == [800.0, 800.0]
    image, out = root / "imagesTr" / "spleen_1.nii.gz", tmp_path / "pred"
    predict = ["predict", "--checkpoint", str(best), "--no-progress", "--instances"]
    assert main([*predict, "--input", str(image), "--output", str(out)]) == 0
    with open(out / "objects_summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["z_um"]) for r in rows] == [0.0, 5000.0, 10000.0]
    assert [float(r["total_area_mm2"]) for r in rows] == [
        pytest.approx(0.64 * int(r["total_area"])) for r in rows
    ]
    assert {r["total_area_um2"] for r in rows} == {""}
    with open(out / "spleen_1_objects.csv", newline="") as f:
        objects = list(csv.DictReader(f))
    assert objects and not [c for c in objects[0] if "_um" in c]
    for r in objects:
        assert float(r["z_mm"]) == 5 * int(r["z"])
        assert float(r["area_mm2"]) == pytest.approx(0.64 * int(r["area"]))
        assert float(r["centroid_x_mm"]) == pytest.approx(0.8 * float(r["centroid_x"]))


def test_set_without_dataset_json_pairs(tmp_path, caplog):
    root = make_set(tmp_path / "nojson")
    (root / "dataset.json").unlink()
    with caplog.at_level(logging.INFO):
        assert len(find_pairs(root)) == 9
    assert "paired with labelsTr/ by name (spleen_1.nii.gz with spleen_1.nii.gz)" in caplog.text
    assert "classes of" not in caplog.text


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ("spleen_1.nii", "2 image files of case spleen_1 (spleen_1.nii, spleen_1.nii.gz)"),
        ("spleen_1_0000.nii.gz", "2 image files of case spleen_1 (spleen_1.nii.gz, spleen_1_0000"),
    ],
    ids=["gunzipped_beside", "msd_and_nnunet_names"],
)
def test_two_files_of_one_case_named(tmp_path, extra, said):
    root = make_set(tmp_path / "set")
    write_nifti(root / "imagesTr" / extra, _case(0)[0])
    with pytest.raises(DatasetError) as caught:
        find_pairs(root)
    assert said in str(caught.value) and "channel files" not in str(caught.value)


@pytest.mark.parametrize(
    "stray",
    ["[1, 2]", '{"labels": ["background", "cell"]}', '{"labels": {"0": "bg", "1": "cell"}}'],
)
def test_dataset_json_beside_png_folders_not_read(tmp_path, stray):
    """A dataset.json at the root of images/ + masks/ PNGs is another tool's: the set trains
    as on main, its classes not taken from it."""
    from PIL import Image

    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
    for i in range(2):
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(tmp_path / "images" / f"{i}.png")
        mask = np.zeros((8, 8), np.uint8)
        mask[2:5, 2:5] = 255
        Image.fromarray(mask).save(tmp_path / "masks" / f"{i}.png")
    (tmp_path / "dataset.json").write_text(stray)
    assert class_names_from(tmp_path)[0] is None
    assert len(find_pairs(tmp_path)) == 2


def test_nifti_input_folder_refused_as_output(tmp_path):
    """A NIfTI input's labels (x.nii.gz) named as the input: refused by both hooks, the one
    of a folder of inputs and the one of processes sharing a folder (review s65)."""
    from types import SimpleNamespace

    from unetlab.errors import OutputError
    from unetlab.inference.files import _refuse_own_input
    from unetlab.inference.input_folder import refuse_input_folder

    image = write_nifti(tmp_path / "spleen_4.nii.gz", _case(0)[0])
    with pytest.raises(OutputError, match="are named spleen_4.nii.gz, so predict would write"):
        refuse_input_folder([image], tmp_path)
    with pytest.raises(OutputError, match="would write over its input"):
        _refuse_own_input(SimpleNamespace(path=image, out_dir=tmp_path))
    refuse_input_folder([tmp_path / "spleen_4_0000.nii.gz"], tmp_path)  # labels spleen_4.nii.gz


def test_msd_and_nnunet_names_of_one_case_refused_before_predicting(tmp_path):
    """x.nii.gz and x_0000.nii.gz of one folder would both write x.nii.gz: neither is
    predicted, both named (pins s71's check; it worked before)."""
    from unetlab.inference.output_rules import shared_outputs

    files = [write_nifti(tmp_path / n, _case(0)[0]) for n in ("x.nii.gz", "x_0000.nii.gz")]
    lines = shared_outputs(tmp_path / "out", files)
    assert set(lines) == set(files)
    assert (
        f"{files[0]} and {files[1]} would write the same outputs: not predicted" in lines[files[0]]
    )
