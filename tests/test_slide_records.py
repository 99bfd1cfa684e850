"""A streamed (large) image's outputs say what made them, as in-memory outputs do: the
checkpoint and settings in the OME-TIFF's Description and OME-Zarr's attributes, and in the
overlay PNG's text with its sampling step and pixel size (audit s28 interchange, finding 4)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.checkpoint import load_model, save_model
from unetlab.data.ome import OutputSpec, description
from unetlab.inference.files import file_record, predict_file
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.records import TIFF_KEY, embedded_key
from unetlab.inference.slide_overlay import SCALE_KEY
from unetlab.models import UNet


def _record_of(path) -> dict:
    """The ``unetlab prediction`` JSON of an OME-TIFF output's Description."""
    with tifffile.TiffFile(path) as tif:
        xml = tif.ome_metadata
    from xml.etree import ElementTree as ET

    text = next(e.text for e in ET.fromstring(xml).iter() if e.tag.endswith("Description"))
    (line,) = [x for x in text.splitlines() if x.startswith("unetlab prediction: ")]
    return json.loads(line.removeprefix("unetlab prediction: "))


def test_streamed_outputs_record_the_checkpoint_and_the_overlay_its_scale(tmp_path):
    net = local_net()
    model = UNet(1, 3, depth=2, base_channels=4, padding="valid")
    model.load_state_dict(net.state_dict())
    model = load_model(save_model(tmp_path / "m.pt", model))  # model.checkpoint: its file
    path = tmp_path / "big.ome.tif"
    meta = {"axes": "YX", "PhysicalSizeX": 0.3, "PhysicalSizeY": 0.3}
    tifffile.imwrite(path, nuclei_image(120, 90), metadata=meta)
    options = ObjectOptions.for_model(net)
    wanted = dict(objects=options, save_probabilities=True, draw_overlay=True)
    written = predict_file(model, path, tmp_path / "out", large_threshold=100, **wanted)
    names = sorted(p.name for p in written)
    assert names == sorted(
        ["big.tif", "big_prob.tif", "big_objects.tif", "big_objects.csv", "big_overlay.png"]
    )
    key = file_record(model, objects=options).key
    for name in ("big.tif", "big_prob.tif", "big_objects.tif"):
        record = _record_of(tmp_path / "out" / name)
        assert record["key"] == key and record["checkpoint"] == str(tmp_path / "m.pt"), name
    assert embedded_key(tmp_path / "out" / "big_overlay.png") == key
    with Image.open(tmp_path / "out" / "big_overlay.png") as im:
        scale = json.loads(im.text[SCALE_KEY])
        assert json.loads(im.text[TIFF_KEY])["key"] == key
    assert scale == {"step": 1, "pixel_size_um": pytest.approx([0.3, 0.3])}


def test_a_description_holds_the_classes_and_the_record():
    spec = OutputSpec((4, 4), "yx", np.dtype(np.uint8), classes={0: "bg", 1: "cell"})
    assert description(spec) == "unetlab classes (pixel value: name)\n0: bg\n1: cell"
    with_record = OutputSpec((4, 4), "yx", np.dtype(np.uint8), record='{"key": "k"}')
    assert description(with_record) == 'unetlab prediction: {"key": "k"}'
    assert description(OutputSpec((4, 4), "yx", np.dtype(np.uint8))) is None
