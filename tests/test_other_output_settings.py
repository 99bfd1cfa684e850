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
    from unetlab.inference.records import NOT_HELD, changed_settings

    theirs = {"objects": {"class_min_areas": [9, 9], "min_area": 1}, "labels": "palette"}
    ours = {"objects": {"class_min_areas": (9, 9), "min_area": 1}, "labels": "palette"}
    assert changed_settings(theirs, ours, groups=True) == {}
    ours["objects"]["min_area"] = 400
    assert changed_settings(theirs, ours, groups=True) == {("objects", "min_area"): (1, 400)}
    assert changed_settings(theirs, {"labels": "palette"}) == {
        ("objects",): (theirs["objects"], NOT_HELD)
    }
    assert changed_settings({"background": None}, {}) == {("background",): (None, NOT_HELD)}


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
    assert (
        said
        == "--min-area 9 there, 400 here; objects class_min_areas [9, 30] there, not given here"
    )


def _one_png(tmp_path, folder: str = "images"):
    images, out = tmp_path / folder, tmp_path / "out"
    images.mkdir()
    write_png(images / "0.png", nuclei_image(48, 48).astype(np.uint8))
    return images, out


def test_a_2d_image_predicted_again_with_objects_3d_names_no_z_setting(tmp_path, caplog):
    """A 2-D image's outputs of an ``objects_3d`` run are those of the run without it, and
    kept under its key: the same settings again are no other settings, and a change names
    neither ``objects_3d`` nor ``z_spacing`` (s63 review: both lines, and 'objects_3d not
    given there, true here')."""
    (images, out), net = _one_png(tmp_path), local_net()
    flat = dict(objects_3d=True, z_spacing=2.0, progress=False)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_folder(net, images, out, objects=ObjectOptions(min_area=1), **flat)
        predict_folder(net, images, out, objects=ObjectOptions(min_area=1), **flat)
        assert _lines(caplog) == []
        assert any("predicted again, replacing them (skip_existing" in m for m in caplog.messages)
        predict_folder(net, images, out, objects=ObjectOptions(min_area=400), **flat)
    assert _lines(caplog) == [
        f"{out} holds the outputs of 0.png made with other output settings "
        "(objects min_area 1 there, 400 here): predicted again, replacing them"
    ]


def test_outputs_whose_record_is_missing_are_said_of_unknown_settings(tmp_path, caplog):
    """A run stopped before predict.json held its record: its settings are not known, so
    none is named as changed (s63 review: 'objects not given there, given here', false)."""
    (images, out), net = _one_png(tmp_path), local_net()
    predict_folder(net, images, out, objects=ObjectOptions(min_area=1), progress=False)
    (out / "predict.json").unlink()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_folder(net, images, out, objects=ObjectOptions(min_area=400), progress=False)
    assert _lines(caplog) == [
        f"{out} holds the outputs of 0.png made with other output settings, which "
        "predict.json does not hold (its run stopped before it recorded them): predicted "
        "again, replacing them"
    ]


def test_a_setting_left_out_of_a_record_differs_from_one_given_none(tmp_path, caplog):
    """``background`` 0 is left out of the record, None (every class makes objects) is
    held: they differ, and the line names it (s63 review: 'other output settings ()'), the
    one left out by the value it had, None by what it means (s74: 'background not given
    there, None here' of the default class 0; seen failing without the fix so)."""
    (images, out), net = _one_png(tmp_path), local_net()
    semantic = dict(min_area=1, mode="semantic")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_folder(net, images, out, objects=ObjectOptions(**semantic), progress=False)
        again = ObjectOptions(**semantic, background=None)
        predict_folder(net, images, out, objects=again, progress=False)
    assert _lines(caplog) == [
        f"{out} holds the outputs of 0.png made with other output settings "
        "(objects background 0 there, none (every class makes objects) here): predicted "
        "again, replacing them"
    ]


def test_inputs_under_a_folder_named_with_a_tab_are_looked_at(tmp_path, caplog):
    """The manifest names no input under a folder whose name has a tab (its line would
    break): its outputs are still looked at, their settings named."""
    (images, out), net = _one_png(tmp_path, "im\tages"), local_net()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_folder(net, images, out, objects=ObjectOptions(min_area=1), progress=False)
        predict_folder(net, images, out, objects=ObjectOptions(min_area=400), progress=False)
    assert "\tpredict\t\t" in (out / ".unetlab-outputs").read_text()  # no input named
    assert _lines(caplog) == [
        f"{out} holds the outputs of 0.png made with other output settings "
        "(objects min_area 1 there, 400 here): predicted again, replacing them"
    ]


def test_the_command_line_reads_the_flags_it_types_first_and_whole():
    """On the command line a yes/no option is named by the flag each value is typed as
    (s63 review: '--fill-holes true there, false here' of --no-fill-holes typed), a flag
    with no value as given or not, --label-values by its flag; the settings a flag gives
    come first, each of them, before the checkpoint's (s63 review: 'and 1 more' hid the
    --min-area just typed)."""
    import argparse

    from unetlab.cli.common import add_object_args
    from unetlab.errors import command_spelling
    from unetlab.inference.folders import NEGATABLE, _output_changes

    parser = argparse.ArgumentParser()
    add_object_args(parser, "with --instances")
    negatable = {a.dest for a in parser._actions if isinstance(a, argparse.BooleanOptionalAction)}
    assert negatable == set(NEGATABLE)
    there = {"mode": "semantic", "background": 1, "min_area": 1, "fill_holes": True}
    here = {"min_area": 400, "fill_holes": False, "distance_split": True, "split_necks": True}
    there, here = {**there, "distance_split": False}, {**here, "mode": "instances"}
    theirs = {"objects": there, "labels": "class indices"}
    ours = {"objects": here, "labels": "mask values", "label_values": [0, 255]}
    with command_spelling():
        said = _output_changes(theirs, ours)
    assert said == (
        "--label-values not given there, [0, 255] here; "
        "labels (--color, --label-values) class indices there, mask values here; "
        "--no-distance-split there, --distance-split here; "
        "--fill-holes there, --no-fill-holes here; --min-area 1 there, 400 here; "
        "--split-necks not given there, given here and 2 more"
    )
    assert _output_changes(
        {"objects": {"fill_holes": True}}, {"objects": {"fill_holes": False}}
    ) == ("objects fill_holes True there, False here")


def test_inputs_made_with_different_other_settings_are_each_counted(tmp_path, caplog):
    """Earlier outputs of several inputs made with settings that differ from this run's in
    different ways: the line counts the inputs of each setting that changed (s64: it named
    the first input's settings alone, as if all the inputs' were, and hid the min_area of
    the other); inputs that all differ alike are named with both values, as before."""
    images, out, net = tmp_path / "images", tmp_path / "out", local_net()
    images.mkdir()
    for i in range(3):
        write_png(images / f"{i}.png", nuclei_image(48, 48, seed=i).astype(np.uint8))
    one = [images / "2.png"]
    predict_folder(net, images, out, objects=ObjectOptions(min_area=1), progress=False)
    predict_folder(net, one, out, objects=ObjectOptions(min_area=400), progress=False)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        again = ObjectOptions(min_area=1, fill_holes=False)
        predict_folder(net, images, out, objects=again, progress=False)
    assert _lines(caplog) == [
        f"{out} holds the outputs of 0.png and 2 more inputs made with other output settings "
        "(objects fill_holes on 3, objects min_area on 1): predicted again, replacing them"
    ]
