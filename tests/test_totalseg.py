"""TotalSegmentator's layout (unetlab.data.totalseg): case folders ``s0001/ct.nii.gz`` beside
``s0001/segmentations/<structure>.nii.gz``, the structures one label map whose classes are
the file names sorted; train --check and evaluate read it by case."""

import logging

import numpy as np
import pytest
import torch

from tests.test_nifti import write_nifti
from unetlab import UNet, predict_folder, predict_tree
from unetlab.cli import main
from unetlab.data.classes import class_names_from
from unetlab.data.io import read_stack, stack_shape
from unetlab.data.pairs import detect_layout, find_pairs
from unetlab.errors import DatasetError, ImageReadError, UnetlabError
from unetlab.manifest import MANIFEST

STRUCTURES = ("spleen", "aorta", "liver")  # written in this order; classes sorted by name


def _masks(seed: int) -> dict[str, np.ndarray]:
    """(X, Y, Z) 16³ binary masks of three structures that do not touch."""
    x, y, _ = np.meshgrid(*(np.arange(16),) * 3, indexing="ij")
    return {
        "liver": (x - 4 - seed % 2) ** 2 + (y - 5) ** 2 < 10,
        "spleen": (x - 12) ** 2 + (y - 4) ** 2 < 6,
        "aorta": (x - 8) ** 2 + (y - 12) ** 2 < 4,
    }


def make_cases(root, n=3, order=STRUCTURES):
    for seed in range(n):
        case = root / f"s{seed + 1:04d}"
        (case / "segmentations").mkdir(parents=True)
        masks = _masks(seed)
        ct = np.random.default_rng(seed).normal(40, 20, (16, 16, 16))
        ct += sum(v * masks[k] for k, v in (("liver", 150), ("spleen", 300), ("aorta", 600)))
        write_nifti(case / "ct.nii.gz", ct.astype(np.int16), units=10)
        for name in order if seed != 1 else order[::-1]:  # another order on disk
            write_nifti(case / "segmentations" / f"{name}.nii.gz", masks[name].astype(np.uint8))
    return root


def test_cases_pair_with_their_structures_as_one_label_map(tmp_path):
    root = make_cases(tmp_path / "Totalsegmentator_dataset")
    assert detect_layout(root) == "totalseg"
    pairs = find_pairs(root)
    assert len(pairs) == 48 and pairs[0].name == "s0001[0]" and pairs[0].case == "s0001"
    assert {p.case for p in pairs} == {"s0001", "s0002", "s0003"}
    assert class_names_from(root)[0] == {0: "background", 1: "aorta", 2: "liver", 3: "spleen"}
    for seed, case in enumerate(("s0001", "s0002", "s0003")):  # s0002's files another order
        masks = _masks(seed)
        want = sum(k * masks[n] for k, n in enumerate(("aorta", "liver", "spleen"), 1))
        labels = read_stack(root / case / "segmentations", mask=True)
        np.testing.assert_array_equal(labels, want.transpose(2, 1, 0))
        assert stack_shape(root / case / "segmentations") == (16, 16, 16)


def test_a_case_lacking_a_structure_is_refused_in_one_line(tmp_path):
    root = make_cases(tmp_path / "set")
    (root / "s0003" / "segmentations" / "liver.nii.gz").unlink()  # spleen would be class 2
    with pytest.raises(DatasetError) as err:
        find_pairs(root)
    said = "s0003/segmentations: lacks liver.nii.gz of the structures most cases hold (as s0001"
    assert said in str(err.value) and "give every case the same structure masks" in str(err.value)


def test_the_structures_most_cases_hold_are_the_classes_one_case_refused(tmp_path):
    """s0001 lacking liver refused s0002 and s0003 for holding it (1,227 lines on the real
    set); a case holding a structure besides was refused by no test (s74 review)."""
    root = make_cases(tmp_path / "set", n=4)
    (root / "s0001" / "segmentations" / "liver.nii.gz").unlink()
    kidney = root / "s0004" / "segmentations" / "kidney.nii.gz"
    write_nifti(kidney, _masks(3)["liver"].astype(np.uint8))
    assert class_names_from(root)[0] == {0: "background", 1: "aorta", 2: "liver", 3: "spleen"}
    with pytest.raises(DatasetError) as err:
        find_pairs(root)
    said = str(err.value)
    assert (
        "s0001/segmentations: lacks liver.nii.gz of the structures most cases hold (as s0002"
        in said
    )
    assert "s0004/segmentations: holds kidney.nii.gz besides of the structures" in said
    assert said.startswith("2 problems") and "s0003/segmentations" not in said


def test_a_stray_folder_beside_the_cases_is_named_one_predict_wrote_passed_over(tmp_path):
    """An empty notes/ among the cases made the set "no data set found" naming no folder; a
    folder unetlab wrote outputs into is passed over (s74 review)."""
    root = make_cases(tmp_path / "set")
    (root / "pred").mkdir()
    (root / "pred" / MANIFEST).write_text("ct.nii.gz\n")
    assert detect_layout(root) == "totalseg"
    (root / "notes").mkdir()
    with pytest.raises(DatasetError) as err:
        detect_layout(root)
    said = f"{root / 'notes'}: no ct.nii.gz beside segmentations/ as the other 3 case folders"
    assert said in str(err.value) and "move it out of" in str(err.value)


@pytest.mark.parametrize(
    "mask, said",
    [
        (np.arange(16**3).reshape(16, 16, 16) % 3, "values 0, 1, 2, but a mask of segmentations/"),
        (np.ones((16, 16, 8)), "(16, 16, 8) voxels (x, y, z) but its case's ct.nii.gz is"),
    ],
)
def test_a_mask_not_binary_or_not_of_its_ct_size_is_refused(tmp_path, mask, said):
    root = make_cases(tmp_path / "set", n=1)
    write_nifti(root / "s0001" / "segmentations" / "aorta.nii.gz", mask.astype(np.uint8))
    with pytest.raises(ImageReadError) as err:
        read_stack(root / "s0001" / "segmentations", mask=True)
    assert said in str(err.value) and "aorta.nii.gz" in str(err.value)


def test_a_mask_of_0_and_255_is_binary(tmp_path):
    root = make_cases(tmp_path / "set", n=1)
    aorta = _masks(0)["aorta"]
    write_nifti(root / "s0001" / "segmentations" / "aorta.nii.gz", aorta.astype(np.uint8) * 255)
    labels = read_stack(root / "s0001" / "segmentations", mask=True)
    np.testing.assert_array_equal(labels, _truth(0).transpose(2, 1, 0))


def test_overlapping_structures_said_in_one_line_with_files_and_voxels(tmp_path, caplog):
    root = make_cases(tmp_path / "set", n=2)
    liver = _masks(0)["liver"].copy()
    liver[8, 12, :3] = True  # 3 voxels of the aorta's
    write_nifti(root / "s0001" / "segmentations" / "liver.nii.gz", liver.astype(np.uint8))
    with caplog.at_level(logging.WARNING):
        labels = read_stack(root / "s0001" / "segmentations", mask=True)
    assert (labels[:3, 12, 8] == 1).all()  # the aorta's: first by name
    said = "structures' masks overlap (aorta.nii.gz and liver.nii.gz: 3 voxels)"
    assert said in caplog.text


def test_train_check_and_evaluate_name_the_structures_and_the_cases(tmp_path, capsys, caplog):
    root = make_cases(tmp_path / "set")
    tiny = ["--no-plan", "--no-progress", "--set", "data.tile_size=16", "--set", "model.depth=2"]
    tiny += ["--set", "model.base_channels=4", "--set", "model.padding=same"]
    with caplog.at_level(logging.INFO):
        assert main(["train", "--data", str(root), "--check", *tiny]) == 0
    said = capsys.readouterr().out + caplog.text
    assert "classes 0 (background), 1 (aorta), 2 (liver), 3 (spleen)" in said
    assert "object ids" not in said and "(s0003/ct.nii.gz)" in said
    run = tmp_path / "run"
    assert main(["train", "--data", str(root), "--run-dir", str(run), "--epochs", "1", *tiny]) == 0
    best = str(run / "checkpoints" / "best.pt")
    assert main(["evaluate", "--checkpoint", best, "--data", str(root), "--no-progress"]) == 0
    shown = capsys.readouterr().out
    assert "aorta" in shown and "each case        foreground Dice s0001" in shown
    for case in ("s0001", "s0002", "s0003"):  # cases of other structures: class 1 not aorta
        masks = root / case / "segmentations"
        (masks / "aorta.nii.gz").rename(masks / "vertebrae.nii.gz")
    assert main(["evaluate", "--checkpoint", best, "--data", str(root), "--no-progress"]) != 0
    said = "its cases' structures are liver, spleen, vertebrae, but the checkpoint's classes are "
    assert said + "aorta, liver, spleen: evaluate it on cases of its structures" in (
        capsys.readouterr().err
    )


def _truth(seed: int) -> np.ndarray:
    """(X, Y, Z) label map of case ``seed``'s structures, classes by name."""
    masks = _masks(seed)
    return sum(k * masks[n] for k, n in enumerate(("aorta", "liver", "spleen"), 1)).astype(np.uint8)


def test_evaluate_pairs_predictions_by_case_not_by_ct(tmp_path, capsys):
    """Every case's CT is ct.nii.gz: s0001's prediction saved as ct.nii.gz was scored against
    all 3 cases (48 images, exit 0); predictions named by case matched nothing (s74 review)."""
    root, pred = make_cases(tmp_path / "set"), tmp_path / "pred"
    pred.mkdir()
    write_nifti(pred / "ct.nii.gz", _truth(0))
    assert main(["evaluate", "--pred", str(pred), "--gt", str(root), "--no-progress"]) != 0
    said = "(it holds ct, which no mask is named as) for 3 ground-truth files: s0001, s0002, s0003"
    assert said in capsys.readouterr().err
    (pred / "ct.nii.gz").unlink()
    for seed in range(3):
        write_nifti(pred / f"s{seed + 1:04d}.nii.gz", _truth(seed))
    assert main(["evaluate", "--pred", str(pred), "--gt", str(root), "--no-progress"]) == 0
    assert "mIoU             1.0000" in capsys.readouterr().out


def _net():
    torch.manual_seed(0)
    net = UNet(1, 4, depth=2, base_channels=4, padding="same").eval()
    net.classes = ["background", "aorta", "liver", "spleen"]
    return net


def test_predict_takes_each_cases_ct_not_its_structure_masks(tmp_path):
    """--recursive predicted each case's 3 structure masks as images (117 a case on the real
    set); the folder given alone said 'no images found' alone (s74 review)."""
    root = make_cases(tmp_path / "Totalsegmentator_dataset")
    with pytest.raises(UnetlabError) as err:
        predict_folder(_net(), root, tmp_path / "out")
    said = "3 TotalSegmentator cases in its sub-folders (s0001/ct.nii.gz, ...), not searched: "
    assert said + "use predict_tree to predict each case's CT" in str(err.value)
    predict_tree(_net(), root, tmp_path / "tree")
    written = sorted(p.relative_to(tmp_path / "tree") for p in (tmp_path / "tree").rglob("*.gz"))
    assert [str(p) for p in written] == [f"s000{k}/ct.nii.gz" for k in (1, 2, 3)]
