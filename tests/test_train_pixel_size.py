"""The checkpoint's object record holds the training images' pixel size where they record
one, so that predicting a slide level of another size warns (audit s32 histo 6)."""

import logging

import numpy as np
import tifffile
from PIL import Image

from unetlab.data.fingerprint import file_pixel_size
from unetlab.train.setup import training_pixel_size


def _spacings(paths) -> dict:
    return {p: file_pixel_size(p) for p in paths}


def test_the_median_recorded_pixel_size_where_half_the_images_record_one(tmp_path, caplog):
    image = np.zeros((16, 16, 3), np.uint8)
    paths = []
    for k in range(3):
        paths.append(tmp_path / f"t{k}.tif")
        tifffile.imwrite(paths[-1], image, resolution=(40000, 40000), resolutionunit="CENTIMETER")
        paths.append(tmp_path / f"p{k}.png")
        Image.fromarray(image).save(paths[-1])
    caplog.set_level(logging.INFO, logger="unetlab")
    assert training_pixel_size(_spacings(paths)) == {"pixel_size": [0.25, 0.25]}
    assert training_pixel_size(_spacings(paths[1:])) == {}  # 2 of 5 record one: said in one line
    (said,) = [r.getMessage() for r in caplog.records if "pixel size" in r.getMessage()]
    assert said.startswith("pixel size: 2 of the 5 training images record one, under half")
    assert "checkpoint records none" in said and "Image > Properties" in said
    caplog.clear()
    assert training_pixel_size(_spacings(p for p in paths if p.suffix == ".png")) == {}
    (said,) = [r.getMessage() for r in caplog.records]  # none record one: said too (README)
    assert said.startswith("pixel size: none of the 3 training images record one: the checkpoint")
    assert "Image > Properties" in said


def test_the_fix_named_is_that_of_the_files_format(tmp_path, caplog):
    """A NIfTI set of unknown units was told to record the pixel size "in every training TIFF
    (Fiji: Image > Properties)" (s70): each format's own fix, of the files recording none."""
    caplog.set_level(logging.INFO, logger="unetlab")
    spacings = {tmp_path / "a.nii.gz": None, tmp_path / "b.nii": None}
    assert training_pixel_size(spacings) == {}
    (said,) = [r.getMessage() for r in caplog.records]
    assert said.endswith(
        "record it in every training NIfTI volume (its pixdim, with a unit in xyzt_units: mm)"
    )
    caplog.clear()
    training_pixel_size(
        {tmp_path / "t.rec": None, tmp_path / "u.tif": None, tmp_path / "v": (1, 1)}
    )
    (said,) = [r.getMessage() for r in caplog.records]
    assert said.endswith(
        "MRC file (its cell size: IMOD's alterheader -del), or TIFF (Fiji: Image > Properties)"
    )


def test_hdf5_files_recording_none_are_told_their_own_fix(tmp_path, caplog):
    """s74: ilastik exports recording no pixel size were told to record it "in every
    training TIFF (Fiji: Image > Properties)"."""
    caplog.set_level(logging.INFO, logger="unetlab")
    training_pixel_size({tmp_path / "a.h5": None, tmp_path / "b.hdf": None})
    (said,) = [r.getMessage() for r in caplog.records]
    assert "record it in every training HDF5 file (its dataset's resolution attribute" in said
    assert "TIFF" not in said
