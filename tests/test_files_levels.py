"""A lower pyramid level predicted with a model trained at another pixel size: one warning
naming the level that matches, and the least object areas (level-0 pixels, as the objects
table's ``area``) scaled to the level (audit s32 histo 6)."""

import logging

import torch

from unetlab import UNet
from unetlab.errors import command_spelling
from unetlab.inference.files import predict_file
from unetlab.inference.records import OutputOptions
from unetlab.inference.sizing import closest_level, level_size_note

from .test_data_slides_levels import _tagged_pyramid


def _model(pixel_size=(0.25, 0.25)):
    torch.manual_seed(0)
    net = UNet(3, 3, depth=2, base_channels=4, padding="same").eval()
    by_class = [None, {"count": 5, "area_p05": 40.0}, {"count": 9, "area_p05": 68.0}]
    net.objects = {"target": "semantic", "count": 14, "area_p05": 60.0, "by_class": by_class}
    if pixel_size is not None:
        net.objects["pixel_size"] = list(pixel_size)
    return net


def test_level_size_note():  # the areas' scaling: tests/test_objects_edges.py
    sides = [0.25, 0.5, 1.0, 2.0]
    assert closest_level(0.25, sides) == 0 and closest_level(0.9, sides) == 2
    assert level_size_note(0.25, sides, 0) is None and level_size_note(None, sides, 2) is None
    assert level_size_note(0.7, sides, 2) is None  # within 1.5x
    note = level_size_note(0.25, sides, 2)
    assert "level 2 has 1 µm" in note and "level 0 (0.25 µm) matches best" in note
    assert level_size_note(0.25, [0.25, None], 1) is None
    # walk s50: the level given is the nearest: another level is no fix, --scale auto is
    note = level_size_note(4.0, sides, 3)
    assert "--level" not in note.split("trained size; ")[1] and "no level of it is nearer" in note
    end = "predict level 0 (or a crop of it) read whole, with {} and {}"
    python = (
        "large_threshold=N above its pixels (predict_slide always reads window by window: call "
        "predict_file for a whole read)",
        "scale='auto'",
    )
    assert note.endswith("where scale= is refused): " + end.format(*python)), note
    with command_spelling():  # each caller its form (s56: both inline)
        note = level_size_note(4.0, sides, 3)
        cli = ("--large-pixels N above its pixels", "--scale auto")
        assert note.endswith("where --scale is refused): " + end.format(*cli)), note
        assert "matches best (--level 0)" in level_size_note(0.25, sides, 2)
    assert "matches best (level=0)" in level_size_note(0.25, sides, 2)  # Python's


def _run(tmp_path, caplog, model, level):
    _tagged_pyramid(tmp_path / "flat.tif")
    outputs = OutputOptions(objects=True, level=level)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_file(model, tmp_path / "flat.tif", tmp_path / f"out{level}", outputs)
    return [r for r in caplog.records if r.name in SAID_BY]


#: the loggers of the level's lines: its areas (files), its pixel size's (note_once)
SAID_BY = ("unetlab.inference.files", "unetlab.data.read_notes")


def test_a_lower_level_warns_of_the_pixel_size_and_scales_the_least_areas(tmp_path, caplog):
    records = _run(tmp_path, caplog, _model(), level=2)
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "level 0 (0.25 µm) matches best" in warnings[0]
    infos = " ".join(r.getMessage() for r in records if r.levelno == logging.INFO)
    assert "least areas [" in infos and ", 10, 17] level-0 px are [" in infos
    assert ", 4, 4] px at this level" in infos and "at least 4 px" in infos  # not 1, 1


def test_a_matching_level_says_nothing_and_a_model_without_a_pixel_size_its_scale_unknown(
    tmp_path, caplog
):
    records = _run(tmp_path, caplog, _model((0.5, 0.5)), 1)  # level 1 is 0.5 µm
    assert not [r for r in records if "trained" in r.getMessage()]
    caplog.clear()
    records = _run(tmp_path, caplog, _model(None), level=2)
    assert not [r for r in records if r.levelno == logging.WARNING]
    assert any("level-0 px are" in r.getMessage() for r in records)  # scaled all the same
    # but its scale is unknown: said once (s56 new user: level 1 counted 163 of 216 silently)
    (said,) = [r.getMessage() for r in records if "no training pixel size" in r.getMessage()]
    assert "level 2: the model records no training pixel size" in said and "(4x level 0" in said
    caplog.clear()
    records = _run(tmp_path, caplog, _model(None), level=0)
    assert not [r for r in records if "no training pixel size" in r.getMessage()]


def test_a_level_beyond_the_pyramid_is_one_line_naming_the_levels(tmp_path):
    """Not an IndexError of the pixel-size note (review s32 3)."""
    import pytest

    from unetlab.errors import UnetlabError

    _tagged_pyramid(tmp_path / "flat.tif")  # levels 0-2
    for model in (_model(), _model(None)):
        with pytest.raises(UnetlabError, match="choose level=0 to level=2"):  # a caller's form
            predict_file(model, tmp_path / "flat.tif", tmp_path / "o", level=5)


def test_each_python_call_on_the_same_folder_and_level_says_its_level_lines(tmp_path, caplog):
    """The level's lines were said once a process: a notebook's second predict_folder of the
    same folder and level said nothing of its scale (s56 review U)."""
    from unetlab import predict_folder

    (tmp_path / "in").mkdir()
    _tagged_pyramid(tmp_path / "in" / "flat.tif")
    for model in (_model(None), _model()):  # its scale unknown; another size (a warning)
        said = []
        for call in ("first", "second"):
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="unetlab"):
                predict_folder(model, tmp_path / "in", tmp_path / f"{call}{id(model)}", level=2)
            lines = [r.getMessage() for r in caplog.records if r.name in SAID_BY]
            said.append([m for m in lines if "training pixel size" in m or "matches best" in m])
        assert len(said[0]) == 1 and said[1] == said[0], said
