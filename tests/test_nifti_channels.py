"""nnU-Net's cases of several channel files (unetlab.data.nifti_channels), s71 review: only a
data set whose dataset.json names two channels or more groups x_0000, x_0001 as one case;
elsewhere files so numbered are images alone, as on main. Stamps, hashes, named files, stray
and missing channel files."""

import json
import logging

import numpy as np
import pytest

from tests.test_nifti import write_nifti
from tests.test_nifti_decathlon import TINY, _case, make_mri_set, make_set
from unetlab.cli import main
from unetlab.data.decathlon import dataset_channels
from unetlab.data.io import find_images, read_stack, stack_size
from unetlab.data.pairs import find_pairs
from unetlab.errors import ImageReadError


def _series(folder, name="liver", n=4, *, labels=False):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        write_nifti(folder / f"{name}_{i:04d}.nii.gz", _case(i)[1 if labels else 0])
    return folder


def test_numbered_series_of_one_channel_sets_read_each_alone(tmp_path):
    """Main trained an MSD set imagesTr/liver_0000..0003 (labels of the same names) as 4
    volumes; the branch took them for one case of 4 channels and refused it; a folder of
    label volumes so numbered, or subj_0000..0003 to predict, lost 3 of 4."""
    root = make_set(tmp_path / "Task03_Liver", [f"liver_{i:04d}" for i in range(4)])
    assert len(find_pairs(root)) == 12
    plain = _series(tmp_path / "subj", "subj")
    assert [f.name for f in find_images(plain)] == [f"subj_{i:04d}.nii.gz" for i in range(4)]
    assert stack_size(plain / "subj_0000.nii.gz") == (3, 40, 40, 1)
    assert read_stack(plain / "subj_0001.nii.gz").shape == (3, 40, 40)


def test_label_volumes_so_numbered_listed_whole_in_a_channel_set(tmp_path):
    """Masks have no channels: a mask listing is never grouped, even under a dataset.json
    naming two channels."""
    root = make_mri_set(tmp_path / "set")
    labels = _series(root / "labelsTs", labels=True)
    assert len(find_images(labels, cases=False)) == 4
    assert len(find_images(labels)) == 1  # as images, they would be one case


def test_named_files_and_globs_stand_for_their_case(tmp_path):
    """predict --input imagesTs/*.nii.gz (shell-expanded) predicted each _0001 file alone."""
    root = make_mri_set(tmp_path / "set")
    folder = root / "imagesTr"
    firsts = [folder / f"prostate_{i}_0000.nii.gz" for i in (1, 2, 3)]
    assert find_images(sorted(folder.glob("*.nii.gz"))) == firsts
    assert find_images(str(folder / "*.nii.gz")) == firsts
    with pytest.raises(ImageReadError) as caught:
        read_stack(folder / "prostate_2_0001.nii.gz")
    said = "prostate_2_0001.nii.gz: channel 1 of case prostate_2, read with its first channel "
    assert said + "file prostate_2_0000.nii.gz: give that file" in str(caught.value)


def test_missing_channel_one_line_in_train_and_predict(tmp_path, capsys):
    """A case missing _0001: train said it twice (and "most images have 2"); predict said "a
    grey image", never naming the missing file."""
    root = make_mri_set(tmp_path / "set")
    (root / "imagesTr" / "prostate_2_0001.nii.gz").unlink()
    assert main(["train", "--data", str(root), "--check", *TINY]) == 2
    err = capsys.readouterr().err
    said = "dataset.json's channel_names (T2, ADC) name 2: add prostate_2_0001.nii.gz"
    assert said in err and "most images" not in err
    assert "1 problem in" in err
    _series(root / "imagesTs", "prostate_8", 1)
    with pytest.raises(ImageReadError, match="prostate_8_0000.nii.gz: case prostate_8 has 1 ch"):
        read_stack(root / "imagesTs" / "prostate_8_0000.nii.gz")


def test_more_channel_files_than_named_moved_out(tmp_path):
    root = make_mri_set(tmp_path / "set")
    write_nifti(root / "imagesTr" / "prostate_2_0002.nii.gz", _case(1)[0])
    problems: list[str] = []
    find_pairs(root, problems=problems)
    assert len(problems) == 1 and "name 2: move prostate_2_0002.nii.gz out, or take" in problems[0]


def test_channel_file_of_another_ending_named(tmp_path):
    """x_0000.nii.gz + x_0001.nii said "no _0001.nii.gz: add the missing channel file"."""
    root = make_mri_set(tmp_path / "set")
    later = root / "imagesTr" / "prostate_2_0001.nii.gz"
    write_nifti(later.with_name("prostate_2_0001.nii"), _case(1)[0])
    later.unlink()
    problems: list[str] = []
    find_pairs(root, problems=problems)
    said = "prostate_2_0001.nii: a channel file of case prostate_2 of another ending than "
    said += "prostate_2_0000.nii.gz: give the case's channel files one ending (.nii.gz)"
    assert any(said in p for p in problems)


def test_a_gap_fails_its_case_alone_in_predict(tmp_path):
    """A gap in a predict folder refused the whole folder."""
    root = make_mri_set(tmp_path / "set")
    folder = root / "imagesTr"
    (folder / "prostate_2_0001.nii.gz").rename(folder / "prostate_2_0002.nii.gz")
    found = find_images(folder)
    assert [f.name for f in found] == [
        "prostate_1_0000.nii.gz",
        "prostate_2_0000.nii.gz",
        "prostate_2_0002.nii.gz",
        "prostate_3_0000.nii.gz",
    ]
    assert stack_size(found[0]) == (3, 40, 40, 2)
    with pytest.raises(ImageReadError, match="whose channels run _0000 and stop"):
        read_stack(found[2])


def test_four_d_channel_file_refused(tmp_path):
    root = make_mri_set(tmp_path / "set")
    write_nifti(root / "imagesTr" / "prostate_2_0001.nii.gz", np.stack([_case(1)[0]] * 2, -1))
    with pytest.raises(ImageReadError, match="prostate_2_0001.nii.gz: a channel file of case pr"):
        stack_size(root / "imagesTr" / "prostate_2_0000.nii.gz")


def test_channel_names_only_numbered_from_0_and_as_many(tmp_path):
    from unetlab.data.tiffmeta import channel_names

    (tmp_path / "dataset.json").write_text(json.dumps({"channel_names": {"1": "T2", "2": "A"}}))
    assert dataset_channels(tmp_path) is None
    root = make_mri_set(tmp_path / "set")
    other = write_nifti(root / "imagesTr" / "other.nii.gz", _case(1)[0])
    assert channel_names(other) == []
    assert channel_names(root / "imagesTr" / "prostate_1_0000.nii.gz") == ["T2", "ADC"]


def test_changed_later_channel_changes_stamp_and_hash(tmp_path):
    """predict --skip-existing kept a case's prediction after its _0001 changed, and a split
    record's sha256 covered _0000 alone."""
    from unetlab.data.split_record import image_sha256
    from unetlab.manifest import input_stamp

    root = make_mri_set(tmp_path / "set")
    first = root / "imagesTr" / "prostate_1_0000.nii.gz"
    stamp, sha = input_stamp(first), image_sha256(first)
    write_nifti(first.with_name("prostate_1_0001.nii.gz"), _case(2)[0])
    assert input_stamp(first) != stamp and image_sha256(first) != sha


def test_analyze_pair_of_a_labelled_case_one_line(tmp_path, caplog):
    """A .hdr + .img whose label exists warned "its case left out", then refused the label
    ("no image volume") without naming the pair; one in labelsTr/ is warned of."""
    root = make_set(tmp_path / "set")
    for folder in ("imagesTr", "labelsTr"):
        (root / folder / "spleen_4.hdr").write_bytes(b"\0" * 348)
        (root / folder / "spleen_4.img").write_bytes(b"\0" * 8)
    write_nifti(root / "labelsTr" / "spleen_5.nii.gz", _case(0)[1])
    (root / "imagesTr" / "spleen_5.hdr").write_bytes(b"\0" * 348)
    problems: list[str] = []
    with caplog.at_level(logging.WARNING):
        find_pairs(root, problems=problems)
    said = "spleen_5.nii.gz: its image is an Analyze / NIfTI pair (spleen_5.hdr + spleen_5.img)"
    assert len(problems) == 1 and said in problems[0] and ".nii.gz (nibabel" in problems[0]
    assert "imagesTr: 1 Analyze / NIfTI pair (spleen_4.hdr + spleen_4.img)" in caplog.text
    assert "labelsTr: 1 Analyze / NIfTI pair (spleen_4.hdr" in caplog.text


@pytest.mark.parametrize(
    ("name", "case", "channel", "of_labelled"),
    [
        ("spleen_2_0000.nii.gz", "spleen_2", ("spleen_2", 0), "spleen_2"),
        ("spleen_2_0001.nii.gz", "spleen_2_0001", ("spleen_2", 1), "spleen_2"),
        ("spleen_2.nii.gz", "spleen_2", None, "spleen_2"),
        ("la_003_0000.nii", "la_003", ("la_003", 0), "la_003_0000"),  # its label not there
        ("_0000.nii.gz", "_0000", None, "_0000"),  # no case before the channel
        ("a__0000.nii.gz", "a_", ("a_", 0), "a_"),
        ("x_000.nii.gz", "x_000", None, "x_000"),  # 3 digits: no channel
        ("x_12345.nii.gz", "x_12345", None, "x_12345"),  # 5 digits: no channel
        ("CT_0002.NII.GZ", "CT_0002", ("CT", 2), "CT"),
    ],
)
def test_a_case_s_name_is_one_rule_of_its_channel_ending(name, case, channel, of_labelled):
    """nifti_case, nifti_channels.channel_of and decathlon.case_of name a volume's case by
    one rule (nifti.case_channel, s75: three rules before). Pins behaviour: passes on the
    three rules as they were."""
    from pathlib import Path

    from unetlab.data.decathlon import case_of
    from unetlab.data.nifti import nifti_case
    from unetlab.data.nifti_channels import channel_of

    labelled = {"spleen_2", "a_", "x_1", "CT"}
    assert nifti_case(name) == case
    assert channel_of(name) == channel
    assert case_of(Path(name), labelled) == of_labelled
