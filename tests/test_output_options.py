"""OutputOptions: one value for what a prediction writes, down the predict chain."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import numpy as np
import pytest

from unetlab.data.io import write_png
from unetlab.data.transforms import Augment
from unetlab.errors import UnetlabError
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.predict import PredictOptions
from unetlab.inference.records import OutputOptions, prediction_record
from unetlab.models.architecture import UNetConfig
from unetlab.models.unet import UNet


def test_fields_by_name_replace_the_given_options_and_leave_the_rest():
    given = OutputOptions(color=True, level=2)
    outputs, rest = OutputOptions.taken(given, dict(draw_overlay=True, tile_size=64))
    assert outputs == OutputOptions(color=True, level=2, draw_overlay=True)
    assert rest == {"tile_size": 64}
    assert outputs.wanted == dict(overlay=True) | dict.fromkeys(
        ("probabilities", "objects", "geojson", "rois", "labelme", "cellpose", "seg"), False
    )


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (
            lambda: OutputOptions(colour=True),
            "OutputOptions has no field colour: did you mean color?",
        ),
        (lambda: OutputOptions.of(None, colour=True), "OutputOptions has no field colour"),
        (
            lambda: ObjectOptions(min_aera=9),
            "ObjectOptions has no field min_aera: did you mean min_area?",
        ),
        (lambda: OutputOptions(zzz=1), "OutputOptions has no field zzz: its fields are color, "),
        (lambda: PredictOptions(tile_sise=64), "PredictOptions has no field tile_sise: did you "),
    ],
)
def test_a_keyword_that_is_no_field_is_one_line_naming_the_field(make, said):
    """Python's TypeError ("__init__() got an unexpected keyword argument 'colour'") before."""
    with pytest.raises(UnetlabError, match=f"^{said}"):
        make()


@pytest.mark.parametrize(
    ("options", "assign", "said"),
    [
        (
            OutputOptions(),
            ("draw_overlay", True),
            "OutputOptions is one value, not changed in place: cannot set draw_overlay; "
            r"make a changed copy, options = dataclasses.replace\(options, draw_overlay=True\)$",
        ),
        (
            ObjectOptions(),
            ("min_area", 200),
            r"ObjectOptions is one value.* dataclasses.replace\(options, min_area=200\)$",
        ),
        (PredictOptions(), ("tta", True), "PredictOptions is one value"),
        (OutputOptions(), ("draw_overlays", True), "OutputOptions has no field draw_overlays: "),
    ],
)
def test_an_options_field_assigned_in_place_is_one_line_naming_replace(options, assign, said):
    """A notebook's ``opts.draw_overlay = True`` (as ``cfg.train.epochs = 5`` works) was
    dataclasses' FrozenInstanceError "cannot assign to field 'draw_overlay'", naming no fix
    (audit s62 user); still a FrozenInstanceError (AttributeError) for code that catches it."""
    with pytest.raises(UnetlabError, match=f"^{said}") as raised:
        setattr(options, *assign)
    assert isinstance(raised.value, dataclasses.FrozenInstanceError)
    kind = type(options).__name__
    with pytest.raises(dataclasses.FrozenInstanceError, match=f"^{kind} (is one|has no)"):
        delattr(options, assign[0])
    assert options == type(options)()


@pytest.mark.parametrize(
    "options, assign, said",
    [
        (ObjectOptions(), ("min_area", np.zeros((3, 3))), "min_area=...)"),
        (OutputOptions(), ("objects", lambda m: None), "objects=...)"),
        (OutputOptions(), ("objects", ObjectOptions(min_area=5)), "objects=...)"),
        (OutputOptions(), ("outlines", "both"), "outlines='both')"),
        (Augment(), ("flip", False), "augment = dataclasses.replace(augment, flip=False)"),
        (UNetConfig(), ("depth", 4), "config = dataclasses.replace(config, depth=4)"),
    ],
)
def test_a_frozen_field_s_line_is_one_line_of_code(options, assign, said):
    """The line showed a 2-D array's repr over lines, a lambda's ``<function <lambda> at
    0x...>``; a delete said "cannot set"; Augment and UNetConfig (frozen, exported) raised
    dataclasses' "cannot assign to field" (review of s62 user): ``...`` for a value that is
    not short code on one line, "cannot delete", and the same line for every frozen
    options class."""
    with pytest.raises(UnetlabError) as raised:
        setattr(options, *assign)
    line = str(raised.value)
    assert "\n" not in line and line.endswith(said) and f"cannot set {assign[0]};" in line, line
    with pytest.raises(UnetlabError, match=f"cannot delete {assign[0]};"):
        delattr(options, assign[0])


def test_objects_given_as_a_function_of_the_model_are_made_for_it():
    model = UNet(1, 2, depth=2, base_channels=2)
    outputs = OutputOptions(objects=lambda m: ObjectOptions(min_area=m.num_classes))
    assert outputs.wanted["objects"]
    assert outputs.for_model(model).objects == ObjectOptions(min_area=2)


def test_the_model_s_own_objects_read_as_true_and_stay_one_value():
    """``OutputOptions(objects=True)`` showed ``objects=<bound method ObjectOptions.for_model
    of ...>`` (review of s62 user): it reads as given; equal to itself and to
    ``objects=ObjectOptions.for_model``, pickled and copied equal, made for the model."""
    own = OutputOptions(objects=True)
    assert "objects=True," in repr(own) and "bound method" not in repr(own)
    assert own == OutputOptions(objects=ObjectOptions.for_model) != OutputOptions()
    for again in (pickle.loads(pickle.dumps(own)), copy.deepcopy(own), copy.copy(own)):
        assert again == own and hash(again) == hash(own)
    model = UNet(1, 2, depth=2, base_channels=2)
    assert own.for_model(model).objects == ObjectOptions.for_model(model)


def test_label_values_need_a_model_that_records_them_and_exclude_color():
    model = UNet(1, 2, depth=2, base_channels=2)
    with pytest.raises(UnetlabError, match="records no label values"):
        OutputOptions(label_values=True).values(model, "a.png")
    with pytest.raises(UnetlabError, match="choose one of color"):
        OutputOptions(color=True, label_values=True).values(model, "a.png")
    model.label_values = [0, 255]
    assert OutputOptions(label_values=True).values(model, "a.png") == [0, 255]


def test_the_record_of_the_output_settings_is_what_it_was_before_the_options():
    # the key of each output's manifest line: --skip-existing must see earlier runs' outputs
    model = UNet(1, 2, depth=2, base_channels=2)
    outputs = OutputOptions(color=True, level=1, objects=ObjectOptions(), draw_overlay=True)
    made = prediction_record(model, PredictOptions(), outputs)
    assert made.model["level"] == 1
    assert made.outputs == {"labels": "palette", "objects": made.outputs["objects"]}
    assert made.outputs["objects"]["mode"] == ObjectOptions().mode
    plain = prediction_record(model, PredictOptions(), OutputOptions(draw_overlay=True))
    assert plain.key == prediction_record(model, PredictOptions()).key


def test_predict_folder_takes_the_options_or_their_fields_by_name(tmp_path):
    model = UNet(1, 2, depth=2, base_channels=2)
    write_png(tmp_path / "in" / "a.png", np.zeros((40, 40), np.uint8))
    given = predict_folder(
        model, tmp_path / "in", tmp_path / "o1", OutputOptions(draw_overlay=True)
    )
    named = predict_folder(model, tmp_path / "in", tmp_path / "o2", draw_overlay=True)
    assert [p.name for p in given.written[tmp_path / "in" / "a.png"]] == ["a.png", "a_overlay.png"]
    assert [p.name for p in named.written[tmp_path / "in" / "a.png"]] == ["a.png", "a_overlay.png"]


def test_an_unknown_output_format_is_one_line_for_any_input(tmp_path):
    """s73: output_format="dicom_seg" (a typo) was refused for large images alone: a small
    image's prediction went on without the SEG asked for, unsaid."""
    write_png(tmp_path / "a.png", np.zeros((16, 16), np.uint8))
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    said = r"^output_format must be one of ome-tiff, ome-zarr, dicom-seg, not 'dicom_seg'$"
    with pytest.raises(UnetlabError, match=said):
        predict_folder(net, tmp_path / "a.png", tmp_path / "out", output_format="dicom_seg")
    assert not (tmp_path / "out").exists()
