"""predict --objects-3d over a folder of 2-D images and z-stacks records each input as it
was predicted: a 2-D image's outputs carry the key of its 2-D objects (the record of the
same run without --objects-3d), not ``objects_3d: true`` (it said so: evaluate --pred said
the 2-D image held 3-D objects, and a --skip-existing run without the flag predicted it
again, its outputs the same)."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.test_objects_3d import _ball_stack, _write
from tests.test_predict_objects import local_net
from unetlab.evaluate import evaluate_predictions
from unetlab.inference.folders import predict_folder
from unetlab.inference.records import embedded_key, read_records
from unetlab.outputs import recorded_keys


def _mixed(tmp_path):
    """in/s.tif (a ZYX stack of 6 nuclei) and in/flat.png (one of its planes)."""
    (tmp_path / "in").mkdir()
    _write(tmp_path / "in" / "s.tif", _ball_stack((7, 56, 72)), "ZYX")
    Image.fromarray(_ball_stack((7, 56, 72))[3]).save(tmp_path / "in" / "flat.png")
    return tmp_path / "in"


def test_a_2d_image_among_stacks_is_recorded_and_scored_as_2d(tmp_path, caplog):
    net, inputs, out = local_net(), _mixed(tmp_path), tmp_path / "o"
    predict_folder(net, inputs, out, objects=True, objects_3d=True)
    predict_folder(net, [inputs / "flat.png"], tmp_path / "2d", objects=True)
    flat_key = embedded_key(tmp_path / "2d" / "flat_objects.tif")
    assert embedded_key(out / "flat_objects.tif") == embedded_key(out / "flat.png") == flat_key
    keys, records = recorded_keys(out, "predict"), read_records(out)
    assert keys["flat_objects.tif"] == keys["flat.png"] == flat_key
    assert "objects_3d" not in records[flat_key]["outputs"]
    stack_key = keys["s_objects.tif"]
    assert stack_key != flat_key and records[stack_key]["outputs"]["objects_3d"] is True
    assert list(records[flat_key]["files"]) == [str(inputs / "flat.png")]
    (tmp_path / "gt").mkdir()
    shutil.copy(out / "s_objects.tif", tmp_path / "gt" / "s.tif")
    flat_ids = tifffile.imread(out / "flat_objects.tif")
    tifffile.imwrite(tmp_path / "gt" / "flat.tif", flat_ids)
    with caplog.at_level(logging.WARNING):
        report = evaluate_predictions(out, tmp_path / "gt", gt_instances=True)
    assert {r["name"]: r["object_f1"] for r in report.images}["flat"] == 1.0
    said = f"1 prediction in {out} holds 3-D objects (predict_folder(..., objects=True, "
    said += "objects_3d=True): "
    assert said + "s_objects.tif), scored here plane" in caplog.text


def test_an_older_folder_s_2d_image_recorded_as_3d_is_scored_as_2d(tmp_path, caplog, monkeypatch):
    """Outputs written before each input had its own record: the 2-D image's say
    objects_3d, and its one plane says otherwise."""
    import unetlab.inference.files
    import unetlab.inference.output_rules

    for module in (unetlab.inference.output_rules, unetlab.inference.files):  # as before:
        monkeypatch.setattr(module, "flat_inputs", lambda notes: [], raising=False)  # one record
        monkeypatch.setattr(module, "flat_record", lambda record: record, raising=False)
    net, inputs, out = local_net(), _mixed(tmp_path), tmp_path / "o"
    predict_folder(net, inputs, out, objects=True, objects_3d=True)
    keys = recorded_keys(out, "predict")
    assert keys["flat_objects.tif"] == keys["s_objects.tif"]  # the older folder
    assert embedded_key(out / "flat_objects.tif") == keys["s_objects.tif"]
    (tmp_path / "gt").mkdir()
    shutil.copy(out / "s_objects.tif", tmp_path / "gt" / "s.tif")
    tifffile.imwrite(tmp_path / "gt" / "flat.tif", tifffile.imread(out / "flat_objects.tif"))
    with caplog.at_level(logging.WARNING):
        evaluate_predictions(out, tmp_path / "gt", gt_instances=True)
    assert "1 prediction in " in caplog.text and "flat_objects.tif" not in caplog.text
    monkeypatch.undo()  # a rerun without --objects-3d: the stack's objects change alone
    again = predict_folder(net, inputs, out, objects=True, skip_existing=True)
    assert again.skipped == [inputs / "flat.png"] and list(again.written) == [inputs / "s.tif"]


def test_skip_existing_skips_the_2d_image_with_the_flag_or_without(tmp_path):
    net, inputs, out = local_net(), _mixed(tmp_path), tmp_path / "o"
    predict_folder(net, inputs, out, objects=True, objects_3d=True)
    ids = tifffile.imread(out / "flat_objects.tif")
    same = predict_folder(net, inputs, out, objects=True, objects_3d=True, skip_existing=True)
    assert sorted(same.skipped) == [inputs / "flat.png", inputs / "s.tif"] and not same.written
    flat = predict_folder(net, inputs, out, objects=True, skip_existing=True)
    assert flat.skipped == [inputs / "flat.png"] and list(flat.written) == [inputs / "s.tif"]
    back = predict_folder(net, inputs, out, objects=True, objects_3d=True, skip_existing=True)
    assert back.skipped == [inputs / "flat.png"] and list(back.written) == [inputs / "s.tif"]
    assert np.array_equal(tifffile.imread(out / "flat_objects.tif"), ids)
    keys = recorded_keys(out, "predict")
    assert keys["flat.png"] == embedded_key(out / "flat.png") != keys["s.tif"]


def test_a_stopped_run_records_its_finished_2d_image_as_2d(tmp_path, monkeypatch):
    """An --objects-3d run stopped after its 2-D image saves that image's record (of the run
    without the flag, whose key its outputs carry): there was none, and a --skip-existing
    run predicted it again (review s40)."""
    import signal

    import unetlab.inference.folders as folders
    from unetlab.signals import Stopped

    net, inputs, out = local_net(), _mixed(tmp_path), tmp_path / "o"
    real, calls = folders.predict_or_fail, []

    def stopped(*args, **kwargs):  # flat.png predicted, s.tif stopped as it starts
        calls.append(1)
        if len(calls) == 2:
            raise Stopped(signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(folders, "predict_or_fail", stopped)
    with pytest.raises(Stopped):
        predict_folder(net, inputs, out, objects=True, objects_3d=True)
    key = embedded_key(out / "flat.png")
    assert "objects_3d" not in read_records(out)[key]["outputs"]
    assert recorded_keys(out, "predict")["flat.png"].endswith(key)
    monkeypatch.setattr(folders, "predict_or_fail", real)
    written = (out / "flat_objects.tif").stat().st_mtime_ns
    predict_folder(net, inputs, out, objects=True, objects_3d=True, skip_existing=True)
    assert (out / "flat_objects.tif").stat().st_mtime_ns == written  # skipped: finished


def test_a_rerun_confirms_the_stopped_run_s_2d_image_lines(tmp_path, monkeypatch, caplog):
    """A --skip-existing rerun that skips the 2-D image a stopped --objects-3d run finished
    confirms its manifest lines (listed PENDING with the key of the run without the flag):
    they stayed PENDING, and a later run of the stack alone said the folder held outputs of
    flat.png 'made by a run that stopped before it wrote them'."""
    import signal

    import unetlab.inference.folders as folders
    from unetlab.manifest import PENDING
    from unetlab.signals import Stopped

    net, inputs, out = local_net(), _mixed(tmp_path), tmp_path / "o"
    real, calls = folders.predict_or_fail, []

    def stopped(*args, **kwargs):  # flat.png predicted, s.tif stopped as it starts
        calls.append(1)
        if len(calls) == 2:
            raise Stopped(signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(folders, "predict_or_fail", stopped)
    with pytest.raises(Stopped):
        predict_folder(net, inputs, out, objects=True, objects_3d=True)
    assert recorded_keys(out, "predict")["flat.png"].startswith(PENDING)  # stopped: unconfirmed
    monkeypatch.setattr(folders, "predict_or_fail", real)
    again = predict_folder(net, inputs, out, objects=True, objects_3d=True, skip_existing=True)
    assert again.skipped == [inputs / "flat.png"] and list(again.written) == [inputs / "s.tif"]
    keys = recorded_keys(out, "predict")
    flat = [n for n in keys if n.startswith("flat")]
    assert len(flat) >= 3 and all(keys[n] == embedded_key(out / "flat.png") for n in flat)
    assert not [n for n, key in keys.items() if key and key.startswith(PENDING)]
    with caplog.at_level(logging.WARNING):
        predict_folder(net, [inputs / "s.tif"], out, objects=True, objects_3d=True)
    assert "stopped before it wrote them" not in caplog.text


def test_an_inputs_flat_record_is_read_once(monkeypatch):
    """The record of an input read with no Z axis was read again (a stat and its axes) each
    time it was asked, once for each of its outputs' names, where the run's record of it was
    kept (s66): each is kept by (input, flat), and neither stands for the other."""
    from unetlab.inference import output_rules

    read = []
    monkeypatch.setattr(output_rules, "flat_record", lambda made: ("flat", made))
    monkeypatch.setattr(
        output_rules, "input_record", lambda made, source: read.append(source) or (made, source)
    )
    maker = output_rules._Maker(record="run", checked=None, sources={}, made="run")
    for _ in range(3):
        assert maker.record_of("a.tif", flat=True) == (("flat", "run"), "a.tif")
        assert maker.record_of("a.tif") == ("run", "a.tif")
    assert read == ["a.tif", "a.tif"], read
