"""A streamed slide's page is checked against the training images' appearance, as an image
read whole is, from its per_image statistics (patch_stain2_slides_appearance, in
inference/slides.py)."""

import logging

import tifffile

from tests.test_appearance import _he, _lines, _model, _record
from unetlab.inference.files import predict_file
from unetlab.inference.predict import floor_run


def test_a_far_streamed_page_is_said(tmp_path, caplog):
    model = _model(_record([_he(s) for s in range(6)]))
    for name, image in (("near", _he(7)), ("far", _he(9, stain=(1.0, 1.6, 0.5)))):
        tifffile.imwrite(tmp_path / f"{name}.tif", image, photometric="rgb")
        caplog.clear()
        caplog.set_level(logging.WARNING)
        with floor_run():
            predict_file(model, tmp_path / f"{name}.tif", tmp_path / name, large_threshold=100)
        assert tifffile.TiffFile(tmp_path / name / f"{name}.tif").is_ome  # streamed
        assert len(_lines(caplog)) == (name == "far"), _lines(caplog)
