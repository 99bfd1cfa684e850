"""Checkpoint format versions: a checkpoint that uses a part older unetlab ignores (a label
offset, a normalisation floor, ...) is format 2 and names it, so that those readers refuse it
with their "newer unetlab; upgrade" line instead of predicting otherwise; every other one stays
format 1; this version reads both (audit s31 upgrade 2)."""

import pytest
import torch

from unetlab.checkpoint import (
    FEATURES,
    check_format,
    load_checkpoint,
    load_model,
    save_model,
    update_checkpoint,
)
from unetlab.data.normalize import MODE_KEYS
from unetlab.errors import CheckpointError
from unetlab.models import UNet


def tiny(**parts):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    for name, value in parts.items():
        setattr(model, name, value)
    return model


def _old_reader(checkpoint, path):
    """The guard of unetlab versions of format 1: they know no features."""
    check_format(checkpoint, path, version=1, known={})


FLOOR = {"mode": "percentile", "low": 1.0, "high": 99.8, "floor": [3.5], "dtype": "uint16"}


@pytest.mark.parametrize(
    ("parts", "used", "extra"),
    [
        ({"label_offset": (0.5, -0.25)}, ["label_offset"], {}),
        ({"channel": 1}, ["channel"], {}),
        ({"ignore_value": 255}, ["ignore_value"], {}),
        ({"normalization": FLOOR}, ["normalization.floor"], {}),
        (
            {"normalization": {"mode": "percentile", "ignore_saturated": True}},
            ["normalization.ignore_saturated"],
            {},
        ),
        (
            {
                "normalization": {
                    "mode": "percentile",
                    "ignore_saturated": True,
                    "camera_ceiling": True,
                }
            },
            ["normalization.ignore_saturated", "normalization.camera_ceiling"],
            {},
        ),
        (
            {"normalization": {"mode": "per_image", "tissue": True}},
            ["normalization.tissue"],
            {},
        ),
        (
            {"objects": {"count": 9, "by_class": [None, {"count": 4}, {"count": 5}]}},
            ["objects.by_class"],
            {},
        ),
        ({}, ["data.exclude_rows"], {"train_config": {"data": {"exclude_rows": {"bottom": 8}}}}),
    ],
)
def test_a_checkpoint_that_older_readers_would_misread_is_refused_by_them(
    tmp_path, parts, used, extra
):
    path = save_model(tmp_path / "m.pt", tiny(**parts), **extra)
    checkpoint = load_checkpoint(path)  # this version reads it
    assert checkpoint["format_version"] == 2 and checkpoint["features"] == used
    with pytest.raises(CheckpointError, match=r"written by a newer unetlab .*; upgrade unetlab"):
        _old_reader(checkpoint, path)


def test_a_checkpoint_that_older_readers_read_alike_stays_format_1(tmp_path):
    model = tiny(
        label_offset=(0.0, 0.0),
        normalization={"mode": "percentile", "low": 2.0},
        objects={
            "count": 4,
            "by_class": [None, {"count": 4}, {"count": 0}],
        },  # one class: as before
    )
    none_left_out = {"train_config": {"data": {"exclude_rows": {"top": 0, "bottom": 0}}}}
    path = save_model(tmp_path / "m.pt", model, **none_left_out)
    checkpoint = load_checkpoint(path)
    assert checkpoint["format_version"] == 1 and "features" not in checkpoint
    _old_reader(checkpoint, path)  # no refusal


def test_this_version_reads_a_format_1_file_as_before(tmp_path):
    model = tiny(label_offset=(0.5, 0.0))
    path = save_model(tmp_path / "m.pt", model)
    old = load_checkpoint(path)
    old["format_version"] = 1  # as unetlab of format 1 wrote it: no features entry
    del old["features"]
    torch.save(old, tmp_path / "old.pt")
    loaded = load_model(tmp_path / "old.pt")
    assert loaded.label_offset == (0.5, 0.0)
    x = torch.randn(1, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


def test_a_feature_this_version_does_not_know_is_refused_naming_it(tmp_path):
    path = save_model(tmp_path / "m.pt", tiny(label_offset=(1.0, 0.0)))
    checkpoint = load_checkpoint(path)
    checkpoint["features"] = ["label_offset", "normalization.gamma"]
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match=r"uses normalization\.gamma\); upgrade unetlab"):
        load_checkpoint(path)
    checkpoint["features"], checkpoint["format_version"] = ["label_offset"], 3
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match="newer unetlab"):
        load_checkpoint(path)


def test_an_update_that_sets_a_feature_restamps_the_file(tmp_path):
    path = save_model(tmp_path / "m.pt", tiny())
    assert load_checkpoint(path)["format_version"] == 1
    update_checkpoint(path, label_offset=[0.5, 0.5])
    assert load_checkpoint(path)["features"] == ["label_offset"]
    update_checkpoint(path, label_offset=[0.0, 0.0])
    assert load_checkpoint(path)["format_version"] == 1
    assert "features" not in load_checkpoint(path)


def test_each_normalisation_key_since_format_1_is_a_feature():
    """A normalisation key added later must be named in FEATURES (its dtype goes with floor)."""
    keys = {k for mode_keys in MODE_KEYS.values() for k in mode_keys}
    added = keys - {"low", "high", "mean", "std", "dtype"}
    assert {f"normalization.{k}" for k in added} <= set(FEATURES)


@pytest.mark.parametrize("edited", ["3", None, 2.5])
def test_a_format_version_that_is_no_whole_number_is_one_line_naming_it(tmp_path, edited):
    """A hand-edited format_version ("3", None) was compared with an int: a TypeError, a
    traceback from predict, evaluate and export (s51 walkbad)."""
    path = save_model(tmp_path / "m.pt", tiny())
    checkpoint = load_checkpoint(path)
    checkpoint["format_version"] = edited
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match=rf"m.pt: its format_version is {edited!r}, not a"):
        load_checkpoint(path)


def test_a_newer_format_says_its_number_and_the_highest_this_version_reads(tmp_path):
    path = save_model(tmp_path / "m.pt", tiny())
    checkpoint = load_checkpoint(path)
    checkpoint["format_version"] = 7
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match=r"newer unetlab \(format 7, this unetlab reads up"):
        load_checkpoint(path)


def _set(dotted, value):
    """An edit of a checkpoint's parts: ``dotted`` (``train_config.data``) set to ``value``."""

    def edit(checkpoint):
        *above, last = dotted.split(".")
        part = checkpoint
        for key in above:
            part = part.setdefault(key, {})
        part[last] = value

    return edit


DAMAGED = [
    ("config", [1, 2], "config is a list"),
    ("config", None, "config is missing"),
    ("model", [1], "model is a list"),
    ("train_config", [1], "train_config is a list"),
    ("train_config.data", "x", "train_config.data is a str"),
    ("train_config.train", 3, "train_config.train is an int"),
    ("train_config.augment", [1], "train_config.augment is a list"),
    ("normalization", [1], "normalization is a list"),
    ("objects", "x", "objects is a str"),
]


def _damaged(tmp_path, dotted, value):
    path = save_model(tmp_path / "m.pt", tiny(), train_config={"data": {"axes": "YX"}})
    checkpoint = load_checkpoint(path)
    _set(dotted, value)(checkpoint)
    torch.save(checkpoint, path)
    return path


@pytest.mark.parametrize(("dotted", "value", "said"), DAMAGED)
def test_a_part_that_is_no_mapping_is_one_line_naming_it(tmp_path, dotted, value, said):
    """A config that is a list, a train_config or its data that is no mapping: a TypeError or
    AttributeError called a bug from load_model, predict and evaluate (s57 review E)."""
    path = _damaged(tmp_path, dotted, value)
    with pytest.raises(
        CheckpointError, match=rf"m.pt: a damaged or foreign checkpoint: its {said}"
    ):
        load_model(path)


@pytest.mark.parametrize(("dotted", "value", "said"), DAMAGED[::3])
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_the_commands_refuse_a_damaged_checkpoint_in_one_line(
    tmp_path, two_pair_data, capsys, command, dotted, value, said
):
    from unetlab.cli import main

    path = _damaged(tmp_path, dotted, value)
    images = ["--input", str(two_pair_data / "images"), "--output", str(tmp_path / "out")]
    where = images if command == "predict" else ["--data", str(two_pair_data)]
    assert main([command, "--checkpoint", str(path), *where, "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"its {said}, not a mapping" in err[0] and "save_model" in err[0]


DAMAGED_VALUES = [
    ("label_offset", "ab", "label_offset is 'ab', not two numbers (dy, dx) in a list"),
    ("label_offset", 3, "label_offset is 3, not two numbers"),
    ("label_offset", ["a", "b"], "label_offset is ['a', 'b'], not two numbers"),
    (
        "label_offset",
        [3.0, 3.0],
        "label_offset is [3.0, 3.0], not two numbers (dy, dx) in a list, ",
    ),
    ("label_offset", [float("nan"), 0.0], "label_offset is [nan, 0.0], not two numbers"),
    ("tta", 3, "tta is 3, not a list of the transforms identity, rot90"),
    ("tta", ["flip"], "tta is ['flip'], not a list of the transforms"),
    ("normalization", {"mode": "per_image", "low": "x"}, "normalization.low is 'x', not a number"),
    ("normalization", {"mode": "fixed", "mean": "a", "std": [1]}, "normalization.mean is 'a'"),
]


@pytest.mark.parametrize(("part", "value", "said"), DAMAGED_VALUES)
def test_a_part_of_numbers_or_names_that_holds_others_is_one_line_naming_it(
    tmp_path, part, value, said
):
    """Text or one number where a label offset, TTA names or normalisation numbers are: a
    TypeError or ValueError called a bug from load_model, predict, evaluate, summary and
    export (s58)."""
    path = _damaged(tmp_path, part, value)
    with pytest.raises(CheckpointError, match=r"m.pt: a damaged or foreign checkpoint: its ") as e:
        load_model(path)
    assert said in str(e.value) and "as unetlab writes it" in str(e.value)


@pytest.mark.parametrize("command", ["summary", "export"])
def test_summary_and_export_refuse_a_damaged_part_in_one_line(tmp_path, capsys, command):
    from unetlab.cli import main

    path = _damaged(tmp_path, "label_offset", [1.0, "x"])
    more = [] if command == "summary" else ["--torchscript", str(tmp_path / "m.ts"), "--no-check"]
    assert main([command, "--checkpoint", str(path), *more]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "its label_offset is [1.0, 'x'], not two numbers" in err[0]
    assert not (tmp_path / "m.ts").exists()


def test_parts_as_unetlab_writes_them_load(tmp_path):
    """None, tuples and every transform name are no damage."""
    for part, value in [("label_offset", (0.5, -1)), ("tta", ["identity", "antitranspose"])]:
        load_model(_damaged(tmp_path / part, part, value))
    load_model(_damaged(tmp_path / "none", "objects", None))
