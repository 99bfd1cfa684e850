"""Microscope vendors' files unetlab does not read (.lif, .nd2, ...) in an input folder are
named in one line and counted as skipped (batch audit s36, 3: they were passed over without
a word, exit 0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.inference.folders import predict_folder


def _predict(tmp_path, caplog, inputs: Path, code: int = 0) -> None:
    """``predict --input inputs`` by a tiny model to ``tmp_path/out``, exiting ``code``."""
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    if caplog is not None:
        caplog.set_level("INFO")
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(inputs)]
    assert main([*argv, "--output", str(tmp_path / "out"), "--device", "cpu"]) == code


def test_predict_names_the_microscope_files_it_does_not_read(tmp_path, caplog):
    (tmp_path / "in").mkdir()
    Image.fromarray(np.zeros((24, 20), np.uint8)).save(tmp_path / "in" / "a.png")
    for name in ("s1.lif", "s2.LIF", "s3.lif", "t.nd2", "notes.txt"):
        (tmp_path / "in" / name).write_bytes(b"\0" * 16)
    _predict(tmp_path, caplog, tmp_path / "in")
    line = "4 files in a format unetlab does not read (.lif x3, .nd2 x1): not predicted; "
    assert line + "convert them to OME-TIFF" in caplog.text
    assert "predict: 1 written, 4 skipped, 0 failed" in caplog.text
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    done = predict_folder(model, tmp_path / "in", tmp_path / "py")
    assert sorted(p.name for p in done.not_read) == ["s1.lif", "s2.LIF", "s3.lif", "t.nd2"]


def test_train_names_the_microscope_images_its_masks_were_drawn_on(tmp_path, capsys):
    """images/s1.lif beside masks/s1.png: the check said only "masks/s1.png: mask without an
    image in images/" (audit s41 audittrain); it names the .lif and the conversion."""
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for i in (1, 2):
        (tmp_path / "images" / f"s{i}.lif").write_bytes(b"\0" * 16)
        Image.fromarray(np.zeros((24, 20), np.uint8)).save(tmp_path / "masks" / f"s{i}.png")
    assert main(["train", "--data", str(tmp_path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "masks/s1.png: its image images/s1.lif is in a format unetlab does not read" in err
    assert "convert it to OME-TIFF" in err and "mask without an image" not in err


def test_one_file_passed_over_is_counted_as_one():
    """rev D: "1 file(s)" where one was meant."""
    from unetlab.data.folder_notes import unread_line

    assert unread_line([Path("s.lif")]).startswith("1 file in a format unetlab does not read")
    assert unread_line([Path("s.lif"), Path("t.lif")]).startswith("2 files in a format")


def _analyze_pair(folder: Path, name: str = "ct") -> Path:
    """An Analyze / NIfTI pair, ``name.hdr`` (magic ni1) + ``name.img``, as SPM writes it."""
    folder.mkdir(exist_ok=True)
    head = bytearray(348)
    head[0:4] = (348).to_bytes(4, "little")
    head[344:348] = b"ni1\0"
    (folder / f"{name}.hdr").write_bytes(bytes(head))
    (folder / f"{name}.img").write_bytes(bytes(2 * 8 * 8))
    return folder / f"{name}.hdr"


def test_a_named_analyze_pair_is_one_line_naming_the_conversion(tmp_path, capsys):
    """A .hdr (or its .img) given alone: "cannot read this image (UnidentifiedImageError ...);
    is it a complete PNG, JPEG or TIFF file?" named no fix (the fix-round README said so)."""
    from unetlab.data.io import read_stack, stack_size
    from unetlab.data.nifti import PAIR_CONVERSION
    from unetlab.errors import ImageReadError

    head = _analyze_pair(tmp_path / "in")
    said = "a file of an Analyze / NIfTI pair (ct.hdr + ct.img), which unetlab does not read"
    for path in (head, head.with_suffix(".img")):
        for read in (read_stack, stack_size):
            with pytest.raises(ImageReadError) as caught:
                read(path)
            assert str(caught.value) == f"{path}: {said}: convert the pair to {PAIR_CONVERSION}"
    _predict(tmp_path, None, head, code=3)  # the file failed
    assert said in capsys.readouterr().err


def test_an_img_without_its_header_is_no_pair(tmp_path):
    from unetlab.data.nifti import pair_line

    (tmp_path / "disk.img").write_bytes(b"\0" * 16)
    assert pair_line(tmp_path / "disk.img") is None and pair_line(tmp_path / "a.png") is None


def test_a_folders_analyze_pairs_are_said_passed_over(tmp_path, caplog):
    """A folder of a .hdr/.img pair beside a PNG and a .lif: predicted the PNG without a word
    of the pair (and said "no images found" of a folder of pairs alone)."""
    _analyze_pair(tmp_path / "in")
    Image.fromarray(np.zeros((24, 20), np.uint8)).save(tmp_path / "in" / "a.png")
    (tmp_path / "in" / "s.lif").write_bytes(b"\0" * 16)
    _predict(tmp_path, caplog, tmp_path / "in")
    line = "2 files in a format unetlab does not read (.hdr/.img x1, .lif x1): not predicted; "
    assert line + "convert the .hdr/.img to .nii.gz (nibabel" in caplog.text
    assert "; the .lif to OME-TIFF (Fiji" in caplog.text
    assert "predict: 1 written, 2 skipped, 0 failed" in caplog.text


def test_train_names_the_analyze_pair_its_mask_was_drawn_on(tmp_path, capsys):
    _analyze_pair(tmp_path / "images", "s1")
    (tmp_path / "masks").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "masks" / "s1.png")
    assert main(["train", "--data", str(tmp_path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "masks/s1.png: its image images/s1.hdr is in a format unetlab does not read" in err
    assert "convert it to .nii.gz (nibabel" in err and "OME-TIFF" not in err
