"""A folder predicted again by the same model with other output settings (objects'
min_area 1, then 400) replaced every output without a word (152 objects became 3: review
of s62 user): one line names the settings that changed, as a change of the model's
settings is named."""

from __future__ import annotations

import logging

import numpy as np

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.data.io import write_png
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions


def _lines(caplog) -> list[str]:
    return [m for m in caplog.messages if "made with other output settings" in m]


def test_outputs_of_other_object_settings_are_named_as_they_are_replaced(tmp_path, caplog):
    images, out, net = tmp_path / "images", tmp_path / "out", local_net()
    images.mkdir()
    for i in range(2):
        write_png(images / f"{i}.png", nuclei_image(48, 48, seed=i).astype(np.uint8))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_folder(net, images, out, objects=ObjectOptions(min_area=1), progress=False)
        assert _lines(caplog) == []
        predict_folder(net, images, out, objects=ObjectOptions(min_area=1), progress=False)
        assert _lines(caplog) == []  # the same settings: the line that it predicts again
        predict_folder(net, images, out, objects=ObjectOptions(min_area=400), progress=False)
    assert _lines(caplog) == [
        f"{out} holds the outputs of 0.png and 1 more input made with other output settings "
        "(objects min_area 1 there, 400 here): predicted again, replacing them"
    ]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        again = ObjectOptions(min_area=1)
        predict_folder(net, images, out, objects=again, progress=False, skip_existing=True)
    assert len(_lines(caplog)) == 1 and "(objects min_area 400 there, 1 here)" in _lines(caplog)[0]


def test_an_object_option_held_as_a_tuple_is_no_change(tmp_path, caplog):
    """An object option that is a tuple here (``class_min_areas``) is a list in the record
    read back from predict.json: the same value, not a change of settings (s63: the line
    named it, "class_min_areas [9, 9, 9] there, (9, 9, 9) here"); a real change is named
    with both its values."""
    images, out, net = tmp_path / "images", tmp_path / "out", local_net()
    images.mkdir()
    write_png(images / "0.png", nuclei_image(48, 48).astype(np.uint8))
    areas = {"class_min_areas": (9, 9, 9), "mode": "semantic"}
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_folder(net, images, out, objects=ObjectOptions(min_area=1, **areas), progress=False)
        predict_folder(net, images, out, objects=ObjectOptions(min_area=2, **areas), progress=False)
    assert _lines(caplog) == [
        f"{out} holds the outputs of 0.png made with other output settings "
        "(objects min_area 1 there, 2 here): predicted again, replacing them"
    ]


def test_settings_read_back_compare_as_a_record_holds_them():
    """A tuple equals the list JSON reads back; a group compared setting by setting."""
    from unetlab.inference.records import changed_settings

    theirs = {"objects": {"class_min_areas": [9, 9], "min_area": 1}, "labels": "palette"}
    ours = {"objects": {"class_min_areas": (9, 9), "min_area": 1}, "labels": "palette"}
    assert changed_settings(theirs, ours, groups=True) == {}
    ours["objects"]["min_area"] = 400
    assert changed_settings(theirs, ours, groups=True) == {("objects", "min_area"): (1, 400)}
    assert changed_settings(theirs, {"labels": "palette"}) == {
        ("objects",): (theirs["objects"], None)
    }


def test_objects_turned_off_are_named_by_the_setting_the_caller_gives(tmp_path, caplog):
    """Objects turned off for an instance model: the line says which setting and its two
    values (s62 notebook user read "no target there, target instances here"): ``objects``
    in Python, ``--instances`` on the command line."""
    from unetlab.errors import command_spelling

    images, out, net = tmp_path / "images", tmp_path / "out", local_net()
    images.mkdir()
    write_png(images / "0.png", nuclei_image(48, 48).astype(np.uint8))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_folder(net, images, out, objects=ObjectOptions(min_area=1), progress=False)
        predict_folder(net, images, out, objects=None, progress=False)
        with command_spelling():
            predict_folder(net, images, out, objects=ObjectOptions(min_area=1), progress=False)
    said = "made with other output settings ({}): predicted again, replacing them"
    assert _lines(caplog) == [
        f"{out} holds the outputs of 0.png {said.format('objects given there, not given here')}",
        f"{out} holds the outputs of 0.png {said.format('--instances not given there, given here')}",
    ]


def test_each_object_option_is_named_by_its_flag_or_as_recorded():
    """The line names an object option by the flag of ``unetlab predict`` that sets it
    (``--min-area``), and one no flag sets by its name in the record (``class_min_areas``,
    which --min-area given turns off: no ``--class-min-areas`` to give)."""
    from dataclasses import fields

    from unetlab.cli.common import OBJECT_FLAGS
    from unetlab.errors import command_spelling
    from unetlab.inference.folders import NO_FLAG, _output_changes

    named = {f.name for f in fields(ObjectOptions)} - {"model_areas"}
    assert named == {*OBJECT_FLAGS, "watershed_seeds", *NO_FLAG}
    theirs = {"objects": {"min_area": 9, "class_min_areas": [9, 30]}}
    ours = {"objects": {"min_area": 400}}
    with command_spelling():
        said = _output_changes(theirs, ours)
    assert said == [
        "objects class_min_areas [9, 30] there, not given here",
        "--min-area 9 there, 400 here",
    ]
