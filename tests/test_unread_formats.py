"""Microscope vendors' files unetlab does not read (.czi, .nd2, ...) in an input folder are
named in one line and counted as skipped (batch audit s36, 3: they were passed over without
a word, exit 0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.inference.folders import predict_folder


def test_predict_names_the_microscope_files_it_does_not_read(tmp_path, caplog):
    (tmp_path / "in").mkdir()
    Image.fromarray(np.zeros((24, 20), np.uint8)).save(tmp_path / "in" / "a.png")
    for name in ("s1.czi", "s2.CZI", "s3.czi", "t.nd2", "notes.txt"):
        (tmp_path / "in" / name).write_bytes(b"\0" * 16)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    caplog.set_level("INFO")
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    assert main([*argv, "--output", str(tmp_path / "out"), "--device", "cpu"]) == 0
    line = "4 files in a format unetlab does not read (.czi x3, .nd2 x1): not predicted; "
    assert line + "convert them to OME-TIFF" in caplog.text
    assert "predict: 1 written, 4 skipped, 0 failed" in caplog.text
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    done = predict_folder(model, tmp_path / "in", tmp_path / "py")
    assert sorted(p.name for p in done.not_read) == ["s1.czi", "s2.CZI", "s3.czi", "t.nd2"]


def test_train_names_the_microscope_images_its_masks_were_drawn_on(tmp_path, capsys):
    """images/s1.czi beside masks/s1.png: the check said only "masks/s1.png: mask without an
    image in images/" (audit s41 audittrain); it names the .czi and the conversion."""
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for i in (1, 2):
        (tmp_path / "images" / f"s{i}.czi").write_bytes(b"\0" * 16)
        Image.fromarray(np.zeros((24, 20), np.uint8)).save(tmp_path / "masks" / f"s{i}.png")
    assert main(["train", "--data", str(tmp_path), "--check"]) == 2
    err = capsys.readouterr().err
    assert "masks/s1.png: its image images/s1.czi is in a format unetlab does not read" in err
    assert "convert it to OME-TIFF" in err and "mask without an image" not in err


def test_one_file_passed_over_is_counted_as_one():
    """rev D: "1 file(s)" where one was meant."""
    from unetlab.data.folder_notes import unread_line

    assert unread_line([Path("s.czi")]).startswith("1 file in a format unetlab does not read")
    assert unread_line([Path("s.czi"), Path("t.czi")]).startswith("2 files in a format")
