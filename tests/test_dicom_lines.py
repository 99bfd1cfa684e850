"""A radiologist's data as it comes off a PACS or out of 3D Slicer, laid out not quite as
unetlab reads it: each such layout answered by one line naming what it is and what to give
(s72 review 9: each was told a line meant for another user's data)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.dicom_writer import ct_volume, write_series
from unetlab import UNet, predict_folder
from unetlab.data.dicom import is_dicom_series, series_header
from unetlab.data.io import read_stack
from unetlab.data.nifti import write_labels_at
from unetlab.data.pairs import find_pairs
from unetlab.errors import DatasetError, ImageReadError, UnetlabError
from unetlab.inference.tree import predict_tree

pytest.importorskip("pydicom", reason="pydicom is not installed (optional: unetlab[dicom])")


def _net() -> UNet:
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, base_channels=4, padding="same").eval()


@pytest.mark.parametrize("name", ["IM0001", "x.dcm"])
def test_one_slice_given_alone_is_said_to_be_a_dicom_slice(tmp_path, name):
    """It was 'cannot read this image ...; is it a complete PNG, JPEG or TIFF file?'."""
    write_series(tmp_path / "CT_1", ct_volume(slices=2)[0])
    (tmp_path / "CT_1" / "IM0001").rename(tmp_path / name)
    with pytest.raises(ImageReadError, match="a DICOM slice, one file of a series: give") as e:
        read_stack(tmp_path / name)
    assert f"({tmp_path}/," in str(e.value)


def test_slices_loose_in_images_are_told_to_go_into_a_series_folder(tmp_path):
    """It was 'masks/: no masks, but 1 other file (S1.nii.gz)'."""
    hu, labels = ct_volume(slices=4)
    write_series(tmp_path / "images", hu, names="S1_{:04d}.dcm")
    (tmp_path / "masks").mkdir()
    write_labels_at(tmp_path / "masks" / "S1.nii.gz", labels, np.eye(4))
    said = r"images/: DICOM slice files directly in it .*images/<series>/ \(its label volume"
    with pytest.raises(DatasetError, match=said + r": masks/<series>.nii.gz\)"):
        find_pairs(tmp_path)


def test_a_slicer_segmentation_file_is_told_how_to_export_it(tmp_path):
    """3D Slicer saves a segmentation as CT_1.seg.nrrd by default: it was told masks are PNG
    or TIFF, not a word of NIfTI or of Slicer's export."""
    write_series(tmp_path / "images" / "CT_1", ct_volume(slices=4)[0])
    (tmp_path / "masks").mkdir()
    (tmp_path / "masks" / "CT_1.seg.nrrd").write_bytes(b"NRRD0004\ntype: uchar\n\n")
    with pytest.raises(
        DatasetError,
        match=r"3D Slicer's segmentations \(CT_1.seg.nrrd\).*"
        r"'Export to files' as NIfTI .*<series>.nii.gz",
    ):
        find_pairs(tmp_path)


def _pacs(root: Path) -> Path:
    """A PACS export: DICOMDIR beside DICOM/ST000000/SE000001/, SE000002/."""
    hu = ct_volume(slices=4)[0]
    for number in (1, 2):
        study = root / "pacs" / "DICOM" / "ST000000"
        write_series(study / f"SE{number:06d}", hu, names="IM{:06d}", number=number)
    (root / "pacs" / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM")
    return root / "pacs"


def test_a_pacs_export_names_its_series_and_how_to_give_them(tmp_path):
    """It was 'no images found in pacs' alone."""
    pacs = _pacs(tmp_path)
    with pytest.raises(
        UnetlabError,
        match=r"2 DICOM series in its sub-folders \(DICOM/ST0000"
        r"00/SE000001/, DICOM/ST000000/SE000002/\), not searched: use predict_"
        r"tree .* give the folders that hold them \(.*pacs/DICOM/ST000000\)",
    ):
        predict_folder(_net(), pacs, tmp_path / "out", progress=False)


def test_a_pacs_export_predicted_as_a_tree_writes_each_series_once(tmp_path):
    """A series folder was predicted as an input of its parent and again as a folder of
    its own slices: 4 label volumes for 2 series."""
    predict_tree(_net(), _pacs(tmp_path), tmp_path / "out", progress=False)
    written = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*.nii.gz"))
    assert [str(p) for p in written] == [
        "DICOM/ST000000/SE000001.nii.gz",
        "DICOM/ST000000/SE000002.nii.gz",
    ]


def test_notes_first_by_name_in_a_series_folder_leave_it_a_series(tmp_path):
    """00README.TXT, 01INFO.TXT, 02NOTES.TXT were the files looked at: no series, and its
    label volume 'a mask without an image'."""
    hu, labels = ct_volume(slices=4)
    series = tmp_path / "images" / "CT_1"
    write_series(series, hu)
    for name in ("00README.TXT", "01INFO.TXT", "02NOTES.txt"):
        (series / name).write_text("exported by the PACS")
    (tmp_path / "masks").mkdir()
    write_labels_at(tmp_path / "masks" / "CT_1.nii.gz", labels, series_header(series).affine)
    assert is_dicom_series(series)
    assert len(find_pairs(tmp_path)) == 4


def test_a_series_beside_images_is_named_not_passed_over_unsaid(tmp_path, caplog):
    """images/CT_1/ beside images/a.png: CT_1 was passed over without a word, by predict
    and by train alike."""
    from PIL import Image

    from unetlab.data.read_notes import call_notes

    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / folder / "a.png")
    write_series(tmp_path / "images" / "CT_1", ct_volume(slices=2)[0])
    said = "images/: 1 DICOM series (CT_1/) beside its images, not read"
    with caplog.at_level("WARNING"), call_notes():
        find_pairs(tmp_path)
    assert said in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"), call_notes():
        predict_folder(_net(), tmp_path / "images", tmp_path / "out", progress=False)
    assert said in caplog.text
    assert [f.name for f in (tmp_path / "out").glob("*.png")] == ["a.png"]
