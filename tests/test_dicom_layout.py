"""A radiologist's data: ``images/<series>/`` DICOM folders beside ``masks/<series>.nii.gz``
label volumes drawn in 3D Slicer or ITK-SNAP (the series' geometry); train pairs them by
name and refuses a label volume that does not lie on its series; predict writes a series'
labels as ``<series>.nii.gz`` at its affine, the series' files untouched; evaluate scores
them."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.dicom_writer import ct_volume, write_series
from unetlab import UNet, predict_folder
from unetlab.data.dicom import series_header
from unetlab.data.io import find_images, read_stack, stack_size
from unetlab.data.nifti import read_header, read_volume, write_labels_at
from unetlab.data.pairs import find_pairs
from unetlab.data.read_notes import call_notes
from unetlab.errors import DatasetError

pytest.importorskip("pydicom", reason="pydicom is not installed (optional: unetlab[dicom])")

FLIP_Z = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, 7], [0, 0, 0, 1]])
#: dcm2niix's grid of a series: rows bottom-up (y reversed), the origin at the last row
FLIP_Y = np.array([[1, 0, 0, 0], [0, -1, 0, 63], [0, 0, 1, 0], [0, 0, 0, 1]])
REVERSED = {"z": (FLIP_Z, np.s_[::-1]), "y": (FLIP_Y, np.s_[:, ::-1])}


def _data_set(root: Path, *, flipped: str | None = None, axis: str = "z") -> dict:
    """Two series and their label volumes (``flipped``: that one's saved with ``axis``
    reversed, its grid's origin at that axis' far end)."""
    labels = {}
    for i, name in enumerate(("CT_1", "CT_2")):
        hu, lab = ct_volume(slices=8, seed=i)
        write_series(root / "images" / name, hu, seed=i)
        affine = series_header(root / "images" / name).affine
        (root / "masks").mkdir(exist_ok=True)
        if name == flipped:
            turn, rows = REVERSED[axis]
            write_labels_at(root / "masks" / f"{name}.nii.gz", lab[rows], affine @ turn)
        else:
            write_labels_at(root / "masks" / f"{name}.nii.gz", lab, affine)
        labels[name] = lab
    return labels


def test_series_folders_pair_with_their_label_volumes_slice_by_slice(tmp_path, caplog):
    labels = _data_set(tmp_path)
    with caplog.at_level("INFO"), call_notes():
        pairs = find_pairs(tmp_path)
    assert [(p.image.name, p.mask.name, p.page) for p in pairs[:2]] == [
        ("CT_1", "CT_1.nii.gz", 0),
        ("CT_1", "CT_1.nii.gz", 1),
    ]
    assert len(pairs) == 16
    assert "2 DICOM series paired with their NIfTI label volumes" in caplog.text
    image = tmp_path / "images" / "CT_1"
    assert stack_size(image) == (8, 64, 64, 1)
    np.testing.assert_array_equal(read_stack(image), ct_volume(slices=8, seed=0)[0])
    np.testing.assert_array_equal(read_stack(pairs[0].mask, mask=True), labels["CT_1"])


@pytest.mark.parametrize("axis", ["y", "z"])
def test_a_label_volume_saved_reversed_is_read_back_onto_its_series(tmp_path, caplog, axis):
    """s72 review 6: a mask drawn on dcm2niix's NIfTI of a series (its rows bottom-up: y
    reversed against ITK's, 3D Slicer's and ours) was refused, its fix a redrawing, though
    reversing its rows puts every label back in place."""
    labels = _data_set(tmp_path, flipped="CT_2", axis=axis)
    with caplog.at_level("WARNING"), call_notes():
        pairs = find_pairs(tmp_path)
    assert len(pairs) == 16
    mask = next(p.mask for p in pairs if p.image.name == "CT_2")
    np.testing.assert_array_equal(read_stack(mask, mask=True), labels["CT_2"])
    said = "dcm2niix's convention" if axis == "y" else ""
    assert f"CT_2/'s grid with {axis} reversed{said and ' (' + said}" in caplog.text


def _labels_moved_off_ct_2(root):
    """CT_2's label volume written 4 mm off its series' grid (along the affine's first axis)."""
    affine = series_header(root / "images" / "CT_2").affine
    moved = affine @ np.array([[1, 0, 0, 4], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    write_labels_at(root / "masks" / "CT_2.nii.gz", ct_volume(slices=8, seed=1)[1], moved)


def test_a_label_volume_moved_off_its_series_is_refused_in_one_line(tmp_path):
    _data_set(tmp_path)
    _labels_moved_off_ct_2(tmp_path)
    with pytest.raises(DatasetError, match=r"CT_2.nii.gz: its voxels do not lie on .*origin"):
        find_pairs(tmp_path)


def test_evaluate_refuses_a_prediction_off_its_truths_grid(tmp_path):
    """s72 review 6: a prediction saved with y reversed against its NIfTI ground truth
    scored mIoU 0.93, unsaid."""
    from unetlab import evaluate_predictions

    labels = _data_set(tmp_path)
    (tmp_path / "pred").mkdir()
    affine = series_header(tmp_path / "images" / "CT_1").affine
    write_labels_at(tmp_path / "pred" / "CT_1.nii.gz", labels["CT_1"][:, ::-1], affine @ FLIP_Y)
    with pytest.raises(DatasetError, match=r"CT_1.nii.gz: .* ground truth .*CT_1.nii.gz's .*y rev"):
        evaluate_predictions(tmp_path / "pred", tmp_path / "masks", progress=False)


def test_evaluate_scores_a_series_against_its_truth_saved_reversed(tmp_path):
    """The truth read reversed onto its series (dcm2niix's rows) scores predict's labels."""
    from unetlab import evaluate_predictions

    labels = _data_set(tmp_path, flipped="CT_2", axis="y")
    (tmp_path / "pred").mkdir()
    for name, lab in labels.items():  # a perfect prediction, as predict writes it
        affine = series_header(tmp_path / "images" / name).affine
        write_labels_at(tmp_path / "pred" / f"{name}.nii.gz", lab, affine)
    report = evaluate_predictions(tmp_path / "pred", tmp_path, progress=False)
    assert [r["miou"] for r in report.images] == [1.0] * 16


def test_predict_writes_a_series_labels_as_nifti_at_its_affine(tmp_path):
    _data_set(tmp_path)
    series = tmp_path / "images" / "CT_1"
    before = {f.name: f.read_bytes() for f in series.iterdir()}
    assert find_images(tmp_path / "images") == [series, tmp_path / "images" / "CT_2"]
    assert find_images(series) == [series]
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    predict_folder(net, series, tmp_path / "out")
    out = tmp_path / "out" / "CT_1.nii.gz"
    assert sorted(f.name for f in (tmp_path / "out").glob("*.nii.gz")) == ["CT_1.nii.gz"]
    np.testing.assert_allclose(read_header(out).affine, series_header(series).affine, atol=1e-5)
    assert read_volume(out, mask=True).shape == (8, 64, 64)
    assert {f.name: f.read_bytes() for f in series.iterdir()} == before


def test_evaluate_scores_the_series_labels_against_the_masks(tmp_path):
    from unetlab import evaluate_predictions

    labels = _data_set(tmp_path)
    (tmp_path / "pred").mkdir()
    for name, lab in labels.items():  # a perfect prediction, as predict writes it
        affine = series_header(tmp_path / "images" / name).affine
        write_labels_at(tmp_path / "pred" / f"{name}.nii.gz", lab, affine)
    report = evaluate_predictions(tmp_path / "pred", tmp_path, progress=False)
    assert len(report.images) == 16
    assert all(r["miou"] == 1.0 for r in report.images)


def test_evaluate_checkpoint_gives_each_series_its_case_row(tmp_path):
    """evaluate --checkpoint of DICOM series scored their slices and gave no case row (its
    pairs' image no NIfTI file), where --pred of their labels did (s74): each series a case
    named as its labels are, its organ's true volume in mm3 by its label volume's voxel.
    Seen failing without the fix: no cases."""
    from unetlab.evaluate import evaluate_model

    labels = _data_set(tmp_path)
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    report = evaluate_model(net, tmp_path, progress=False)
    assert len(report.images) == 16 and [c["name"] for c in report.cases] == ["CT_1", "CT_2"]
    voxel = float(np.prod(read_header(tmp_path / "masks" / "CT_1.nii.gz").spacing))
    case = report.cases[0]
    assert case["volume_unit"] == "mm3" and case["slices"] == 8
    assert case["true_volume"][1] == pytest.approx(labels["CT_1"].sum() * voxel)


def test_a_dicom_file_among_images_leaves_them_images(tmp_path, caplog):
    """s72 review: one .dcm among 5 PNGs made the folder a series, the PNGs dropped."""
    from PIL import Image

    for i in range(3):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / f"{i}.png")
    write_series(tmp_path / "s", ct_volume(slices=1)[0])
    (tmp_path / "s" / "IM0001").rename(tmp_path / "0000.dcm")
    with caplog.at_level("WARNING"), call_notes():
        assert [f.name for f in find_images(tmp_path)] == ["0.png", "1.png", "2.png"]
    assert "DICOM files among its images (0000.dcm), passed over" in caplog.text


def test_a_folder_of_images_has_no_subfolder_looked_into(tmp_path, monkeypatch):
    """s72 review: every subfolder's files were listed and stat'ed (50,000: 30 -> 843 ms)."""
    from PIL import Image

    import unetlab.data.dicom as dicom

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    write_series(tmp_path / "CT_1", ct_volume(slices=2)[0])
    opened = []
    real = dicom.is_dicom_file
    monkeypatch.setattr(dicom, "is_dicom_file", lambda f: opened.append(f) or real(f))
    assert find_images(tmp_path) == [tmp_path / "a.png"]
    assert opened == []


def test_a_series_that_cannot_be_read_is_gathered_with_the_other_problems(tmp_path):
    """A tilted or damaged series escaped find_pairs as its own error: the data set's
    other problems (here a moved label volume) went unsaid until it was fixed."""
    _data_set(tmp_path)
    hu = ct_volume(slices=8)[0]
    tilt = np.radians(15)
    series = tmp_path / "images" / "CT_1"
    for f in series.iterdir():
        f.unlink()
    write_series(series, hu, step=(0, 2.5 * np.sin(tilt), 2.5 * np.cos(tilt)))
    _labels_moved_off_ct_2(tmp_path)
    with pytest.raises(DatasetError, match=r"(?s)2 problems .*15.0 degrees off .*CT_2.nii.gz: its"):
        find_pairs(tmp_path)


def test_a_series_named_by_its_uid_keeps_its_whole_name_in_its_outputs(tmp_path):
    """s72's notes: a folder named by its UID lost its last dotted part (``.3``, taken for a
    suffix): ``1.2.840.113619.2.55.nii.gz``, which evaluate paired with no ground truth."""
    from unetlab import evaluate_predictions

    uid = "1.2.840.113619.2.55.3"
    hu, lab = ct_volume(slices=4)
    write_series(tmp_path / "images" / uid, hu)
    (tmp_path / "masks").mkdir()
    affine = series_header(tmp_path / "images" / uid).affine
    write_labels_at(tmp_path / "masks" / f"{uid}.nii.gz", lab, affine)
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    predict_folder(net, tmp_path / "images", tmp_path / "pred")
    assert sorted(p.name for p in (tmp_path / "pred").glob("*.nii.gz")) == [f"{uid}.nii.gz"]
    report = evaluate_predictions(tmp_path / "pred", tmp_path, progress=False)
    assert len(report.images) == 4


def test_nnunet_s_imagestr_of_series_folders_pairs_with_labelstr(tmp_path):
    """s72's notes: imagesTr/<case>/ (a series) beside labelsTr/<case>.nii.gz, nnU-Net's
    layout of DICOM cases, found no pair."""
    import json

    labels = {}
    for i, case in enumerate(("liver_1", "liver_2")):
        hu, lab = ct_volume(slices=4, seed=i)
        write_series(tmp_path / "imagesTr" / case, hu, seed=i)
        (tmp_path / "labelsTr").mkdir(exist_ok=True)
        affine = series_header(tmp_path / "imagesTr" / case).affine
        write_labels_at(tmp_path / "labelsTr" / f"{case}.nii.gz", lab, affine)
        labels[case] = lab
    said = {"labels": {"background": 0, "liver": 1}, "channel_names": {"0": "CT"}}
    (tmp_path / "dataset.json").write_text(json.dumps(said))
    pairs = find_pairs(tmp_path)
    assert [(p.image.name, p.mask.name) for p in pairs][:1] == [("liver_1", "liver_1.nii.gz")]
    assert {p.image.name for p in pairs} == {"liver_1", "liver_2"} and len(pairs) == 8
    for p in pairs:
        np.testing.assert_array_equal(
            read_stack(p.mask, mask=True)[p.page], labels[p.image.name][p.page]
        )


def _case_folders(root: Path, label: str) -> dict:
    """Two cases of a per-case export (3D Slicer's, a script's): ``case_N/`` holding the
    series' slices and its label volume ``label`` beside them."""
    labels = {}
    for i, case in enumerate(("case_1", "case_2")):
        hu, lab = ct_volume(slices=4, seed=i)
        write_series(root / case, hu, seed=i)
        write_labels_at(root / case / label, lab, series_header(root / case).affine)
        labels[case] = lab
    return labels


@pytest.mark.parametrize("label", ["seg.nii.gz", "segmentation.nii.gz"])
def test_a_label_volume_beside_a_case_s_slices_pairs_with_its_series(tmp_path, caplog, label):
    """s72's notes: ``case_1/`` holding its slices and ``seg.nii.gz`` (a per-case
    export) was a folder of one image, the label volume: no data
    set found, and predict took the labels for the image."""
    from unetlab import evaluate_predictions

    labels = _case_folders(tmp_path / "data", label)
    with caplog.at_level("INFO"), call_notes():
        pairs = find_pairs(tmp_path / "data")
    assert [(p.image.name, p.mask.name) for p in pairs][::4] == [
        ("case_1", label),
        ("case_2", label),
    ]
    assert len(pairs) == 8
    for p in pairs:
        np.testing.assert_array_equal(
            read_stack(p.mask, mask=True)[p.page], labels[p.image.name][p.page]
        )
    said = "2 DICOM series each paired with the NIfTI label volume in its folder, beside its"
    assert f"{said} slices" in caplog.text and f"data/case_1/ + case_1/{label}" in caplog.text
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    predict_folder(net, tmp_path / "data", tmp_path / "pred")
    assert sorted(p.name for p in (tmp_path / "pred").glob("*.nii.gz")) == [
        "case_1.nii.gz",
        "case_2.nii.gz",
    ]
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "data", progress=False)
    assert len(report.images) == 8


def test_a_case_without_its_label_volume_is_said_among_the_cases(tmp_path):
    _case_folders(tmp_path, "seg.nii.gz")
    write_series(tmp_path / "case_3", ct_volume(slices=4)[0])
    with pytest.raises(DatasetError, match=r"case_3/: a DICOM series with no seg.nii.gz \(or"):
        find_pairs(tmp_path)


def test_a_series_named_with_dots_keeps_its_whole_name_in_evaluate_s_rows(tmp_path):
    """s73: evaluate named the slices of ``images/AX 2.5mm/`` ``AX 2[2]`` and those of a
    UID-named series ``1.2.840.113619.2.55[1]`` (its worst images, rows, folds)."""
    from unetlab import evaluate_predictions

    for name in ("AX 2.5mm", "1.2.840.113619.2.55.3"):
        hu, lab = ct_volume(slices=2)
        write_series(tmp_path / "images" / name, hu)
        (tmp_path / "masks").mkdir(exist_ok=True)
        affine = series_header(tmp_path / "images" / name).affine
        write_labels_at(tmp_path / "masks" / f"{name}.nii.gz", lab, affine)
        (tmp_path / "pred").mkdir(exist_ok=True)
        write_labels_at(tmp_path / "pred" / f"{name}.nii.gz", lab, affine)
    assert {p.name for p in find_pairs(tmp_path)} == {
        *("AX 2.5mm[0]", "AX 2.5mm[1]"),
        *("1.2.840.113619.2.55.3[0]", "1.2.840.113619.2.55.3[1]"),
    }
    report = evaluate_predictions(tmp_path / "pred", tmp_path, progress=False)
    assert sorted(r["name"] for r in report.images)[::2] == [
        "1.2.840.113619.2.55.3[0]",
        "AX 2.5mm[0]",
    ]


@pytest.mark.parametrize("other", ["Segmentation-label.nii.gz", "ct.nii.gz"])
def test_a_case_whose_label_has_another_name_is_said_not_passed_over(tmp_path, caplog, other):
    """s73 review: ``case_3/`` holding its slices and 3D Slicer's
    ``Segmentation-label.nii.gz`` (or dcm2niix's ``ct.nii.gz``) beside cases holding their
    ``seg.nii.gz``: find_pairs paired the 2 others, predict wrote their 2, case_3 unsaid."""
    _case_folders(tmp_path, "seg.nii.gz")
    hu, lab = ct_volume(slices=4)
    write_series(tmp_path / "case_3", hu)
    write_labels_at(tmp_path / "case_3" / other, lab, series_header(tmp_path / "case_3").affine)
    said = rf"holding DICOM slices beside an image file, not read as a series: case_3/ \({other}\)"
    with pytest.raises(DatasetError, match=said):
        find_pairs(tmp_path)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    with caplog.at_level("WARNING"), call_notes():
        predict_folder(net, tmp_path, tmp_path / "pred")
    assert re.search(said, caplog.text)


def test_a_case_holding_two_label_volumes_is_told_to_keep_one(tmp_path):
    _case_folders(tmp_path, "seg.nii.gz")
    hu, lab = ct_volume(slices=4)
    write_series(tmp_path / "case_3", hu)
    for name in ("seg.nii.gz", "segmentation.nii.gz"):
        write_labels_at(tmp_path / "case_3" / name, lab, series_header(tmp_path / "case_3").affine)
    said = r"case_3/: a DICOM series with (seg|segmentation).nii.gz and (seg|segmentation)"
    with pytest.raises(DatasetError, match=rf"{said}.nii.gz beside its slices: keep one"):
        find_pairs(tmp_path)
