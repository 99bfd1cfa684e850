"""predict with ``z_spacing`` (``--z-spacing``) over a folder of 2-D images and z-stacks
records a 2-D image as predicted without it (a z step changes nothing of its outputs): a
``--skip-existing`` rerun without ``--z-spacing`` predicted the 2-D image again, its record
key differing by that setting alone."""

from __future__ import annotations

from tests.test_objects_3d_record import _mixed
from tests.test_predict_objects import local_net
from unetlab.inference.folders import predict_folder
from unetlab.inference.records import embedded_key, read_records
from unetlab.outputs import recorded_keys


def test_a_2d_image_s_record_has_no_z_spacing(tmp_path):
    net, inputs, out = local_net(), _mixed(tmp_path), tmp_path / "o"
    predict_folder(net, inputs, out, objects=True, z_spacing=2.0)
    keys, records = recorded_keys(out, "predict"), read_records(out)
    assert records[keys["s.tif"]]["outputs"]["z_spacing"] == 2.0
    assert keys["flat.png"] == embedded_key(out / "flat.png") != keys["s.tif"]
    assert "z_spacing" not in records[keys["flat.png"]]["outputs"]
    again = predict_folder(net, inputs, out, objects=True, skip_existing=True)
    assert again.skipped == [inputs / "flat.png"] and list(again.written) == [inputs / "s.tif"]
    back = predict_folder(net, inputs, out, objects=True, z_spacing=2.0, skip_existing=True)
    assert back.skipped == [inputs / "flat.png"] and list(back.written) == [inputs / "s.tif"]


def test_an_older_folder_s_2d_image_recorded_with_z_spacing_is_skipped(tmp_path, monkeypatch):
    """Outputs written before a 2-D image's record left z_spacing out: its outputs carry
    the key of the run with it, and predict.json says it was read with no Z axis."""
    import unetlab.inference.files
    import unetlab.inference.output_rules
    import unetlab.inference.slides

    modules = (unetlab.inference.output_rules, unetlab.inference.files, unetlab.inference.slides)
    for module in modules:  # as before: one record
        monkeypatch.setattr(module, "flat_inputs", lambda notes: [], raising=False)
        monkeypatch.setattr(module, "flat_record", lambda record: record, raising=False)
    net, inputs, out = local_net(), _mixed(tmp_path), tmp_path / "o"
    predict_folder(net, inputs, out, objects=True, z_spacing=2.0)
    keys = recorded_keys(out, "predict")
    assert keys["flat.png"] == keys["s.tif"] == embedded_key(out / "flat.png")  # the older
    monkeypatch.undo()
    written = (out / "flat_objects.tif").stat().st_mtime_ns
    again = predict_folder(net, inputs, out, objects=True, skip_existing=True)
    assert again.skipped == [inputs / "flat.png"] and list(again.written) == [inputs / "s.tif"]
    assert (out / "flat_objects.tif").stat().st_mtime_ns == written


def test_a_streamed_2d_image_s_record_has_no_z_spacing(tmp_path):
    """A 2-D TIFF large enough to be read window by window: its outputs' record too."""
    import numpy as np
    import tifffile

    from tests.test_objects_3d import _ball_stack, _write

    inputs = tmp_path / "in"
    inputs.mkdir()
    _write(inputs / "s.tif", _ball_stack(), "ZYX")  # 56 x 72 px a plane: read whole
    tifffile.imwrite(inputs / "big.tif", np.tile(_ball_stack()[6], (2, 2)))  # streamed
    net, out, each = local_net(), tmp_path / "o", dict(objects=True, large_threshold=5000)
    predict_folder(net, inputs, out, z_spacing=2.0, **each)
    keys, records = recorded_keys(out, "predict"), read_records(out)
    assert keys["big.tif"] == embedded_key(out / "big.tif") != keys["s.tif"]
    assert "z_spacing" not in records[keys["big.tif"]]["outputs"]
    again = predict_folder(net, inputs, out, skip_existing=True, **each)
    assert again.skipped == [inputs / "big.tif"] and list(again.written) == [inputs / "s.tif"]
