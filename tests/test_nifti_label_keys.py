"""A NIfTI label volume (``<stem>.nii.gz`` of a NIfTI volume or of a DICOM series) carries
the key of the record that made it in its header's ``descrip`` (``unetlab key ...``), as an
MRC label file carries it in a header label: a run killed once its label volume was in
place, before its manifest line said so, has it proved its own by the rerun (s73 fix: plain,
--skip-existing and --overwrite reruns all refused it, "was not written by unetlab (a stopped
run had only claimed its name) ... move it elsewhere"), a --skip-existing rerun takes it as
done without predicting, and a user's volume put there is still refused."""

import gzip

import pytest
import torch

from tests.dicom_writer import ct_volume, write_series
from tests.test_mrc_label_keys import _counted, _killed_once_written
from tests.test_nifti import write_nifti
from unetlab import UNet, predict_folder
from unetlab.data.mrc import KEY_NOTE
from unetlab.data.nifti import carried_nifti_key, read_header
from unetlab.errors import OutputError
from unetlab.inference.records import OutputOptions, carried_key


def _net() -> UNet:
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, base_channels=4, padding="same").eval()


def _nifti(folder):
    hu, _ = ct_volume(slices=3, size=24)
    write_nifti(folder / "ct.nii.gz", hu.transpose(2, 1, 0), units=10)
    return "ct.nii.gz"


def _series(folder):
    pytest.importorskip("pydicom", reason="pydicom is not installed (optional: unetlab[dicom])")
    hu, _ = ct_volume(slices=3, size=24)
    write_series(folder / "CT_1", hu)
    return "CT_1.nii.gz"


INPUTS = {"nifti": _nifti, "dicom": _series}


def _input(tmp_path, kind):
    folder = tmp_path / "in"
    folder.mkdir()
    return folder, INPUTS[kind](folder)


@pytest.mark.parametrize("kind", sorted(INPUTS))
@pytest.mark.parametrize("flag", ["", "skip_existing", "overwrite"])
def test_a_run_killed_once_its_label_volume_is_in_place_has_it_its_own(
    tmp_path, monkeypatch, kind, flag
):
    (folder, name), out = _input(tmp_path, kind), tmp_path / "out"
    _killed_once_written(monkeypatch, folder, out, OutputOptions(), name, _net())
    net = _net()
    calls = _counted(net)
    done = predict_folder(net, folder, out, OutputOptions(**({flag: True} if flag else {})))
    assert not done.failed, done.failed
    if flag == "skip_existing":  # taken as done: nothing predicted
        assert calls[0] == 0
    predict_folder(_net(), folder, tmp_path / "straight")
    assert (out / name).read_bytes() == (tmp_path / "straight" / name).read_bytes()


@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_the_key_is_the_headers_descrip(tmp_path, kind):
    folder, name = _input(tmp_path, kind)
    predict_folder(_net(), folder, tmp_path / "out")
    path = tmp_path / "out" / name
    key = carried_nifti_key(path)
    descrip = read_header(path).raw[148:228]
    assert descrip == f"{KEY_NOTE} {key}".encode().ljust(80, b"\0")
    assert carried_key(path) == key and key.replace("-", "").isalnum()  # its bytes, no NUL


def test_another_programs_volume_carries_no_key(tmp_path):
    folder, name = _input(tmp_path, "nifti")
    assert carried_nifti_key(folder / name) is None and carried_key(folder / name) is None


def test_a_users_volume_under_a_killed_runs_claim_is_still_refused(tmp_path, monkeypatch):
    (folder, name), out = _input(tmp_path, "nifti"), tmp_path / "out"
    _killed_once_written(monkeypatch, folder, out, OutputOptions(), name, _net())
    theirs = (folder / name).read_bytes()
    (out / name).write_bytes(theirs)  # theirs, under the claimed name
    done = predict_folder(_net(), folder, out)
    (why,) = done.failed.values()
    assert f"{name} was not written by unetlab (a stopped run had only claimed" in why
    assert (out / name).read_bytes() == theirs


def _edited_to_the_same_size(path) -> bytes:
    """``path``'s volume with one voxel painted over, gzipped again (level 6, as nibabel
    writes it) to the same size: its header, and so its ``descrip``, kept."""
    body, size = gzip.decompress(path.read_bytes()), path.stat().st_size
    for at in range(352, len(body)):
        edited = bytearray(body)
        edited[at] ^= 1
        raw = gzip.compress(bytes(edited), compresslevel=6, mtime=0)
        if len(raw) == size:
            return raw
    raise AssertionError("no one-voxel edit gzips to the same size")


@pytest.mark.parametrize("kind", sorted(INPUTS))
def test_a_users_edit_that_keeps_the_key_and_the_size_is_kept(tmp_path, kind):
    """A label volume edited and saved with its header (nibabel's
    ``Nifti1Image(a, img.affine, img.header)`` keeps the ``descrip``, so the key) is the
    user's: a rerun keeps it (s73 review: one of the same size was replaced without a word,
    its line's stamp being its size and key alone)."""
    folder, name = _input(tmp_path, kind)
    out = tmp_path / "out"
    predict_folder(_net(), folder, out)
    path = out / name
    edited = _edited_to_the_same_size(path)
    path.write_bytes(edited)
    assert carried_nifti_key(path) is not None
    with pytest.raises(OutputError, match=r"changed since unetlab wrote it \(yours now"):
        predict_folder(_net(), folder, out)
    assert path.read_bytes() == edited
