"""Python callers told in Python's terms, the command line in its own (s54 pyforms3): a section
built with a value of the wrong type, ``data.nodata`` and ``data.exclude_rows`` refused by
``Config.checked``, None (not YAML's null) for ``data.channel``."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.config import Config, load_config
from unetlab.config.sections import AugmentSection, DataSection, ModelSection, TrainSection
from unetlab.data.io import write_png
from unetlab.data.pairs import Pair, PairReader
from unetlab.errors import UnetlabError, first_line


@pytest.mark.parametrize(
    ("build", "said"),
    [
        (
            lambda: TrainSection(epochs="5"),
            "config key train.epochs must be int, not '5': e.g. cfg.train.epochs = 50",
        ),
        (lambda: DataSection(tile_size=2.5), "config key data.tile_size must be int, not 2.5"),
        (lambda: ModelSection(depth="x"), "config key model.depth must be int or None, not 'x'"),
        (lambda: AugmentSection(enabled="x"), "config key augment.enabled must be bool"),
    ],
)
def test_a_section_built_with_a_wrong_type_says_the_key_in_python(build, said):
    """TrainSection(epochs="5") raised "TypeError: '<' not supported between instances of 'str'
    and 'int'" from its range check."""
    with pytest.raises(UnetlabError) as caught:
        build()
    assert str(caught.value).startswith(said)


def test_a_section_built_takes_a_value_as_checked_would():
    """A number's text for a float (as a config file's 1e-3) is that float at once: the
    section's range checks compare it (TrainSection(lr="0.1") was a TypeError)."""
    assert TrainSection(lr="0.1").lr == 0.1
    assert TrainSection(lr=1).lr == 1.0 and isinstance(TrainSection(lr=1).lr, float)
    assert TrainSection(channels_last="off").channels_last is False


@pytest.mark.parametrize(
    ("section", "key", "value", "said"),
    [
        ("model", "encoder", None, "has no value (it takes str): write 'none' for none"),
        ("data", "nodata", None, "has no value (it takes str or float): 'auto' (the default"),
        # the tuple given, not the list made of it (s56)
        ("data", "exclude_rows", (0, 26), "must be dict or None, not (0, 26): e.g. cfg.data"),
        ("data", "label_values", (0, "a"), "must be list or None, not (0, 'a'): e.g. cfg.data"),
        ("data", "tile_size", 188.0, "must be int, not 188.0: e.g. cfg.data.tile_size = 256"),
        ("train", "epochs", 5.0, "must be int, not 5.0: e.g. cfg.train.epochs = 50"),
    ],
)
def test_a_sections_keyword_attribute_and_from_dict_refuse_alike(section, key, value, said):
    """s55 pyforms4: a section's constructor, an assigned attribute and Config.from_dict take
    a value by the same rules (from_dict's) and refuse it in the same line, which for
    ModelSection(encoder=None) (its none is a word) names 'none', and DataSection(nodata=None)
    (auto to some readers, none to others) the two values it may mean (s56 fixD)."""
    build = {"data": DataSection, "train": TrainSection, "model": ModelSection}[section]
    lines = set()
    for make in (
        lambda: build(**{key: value}),
        lambda: setattr(getattr(Config(), section), key, value),
        lambda: Config.from_dict({section: {key: value}}),
    ):
        with pytest.raises(UnetlabError) as caught:
            make()
        lines.add(str(caught.value))
    (line,) = lines  # one line from all three
    assert line.startswith(f"config key {section}.{key} {said}")


def test_an_attribute_and_from_dict_take_values_as_a_sections_keyword_does():
    """s55 pyforms4: an assigned attribute kept its raw value until checked() (``"off"``, a
    truthy str, for a bool; an int for a float) where a constructor's keyword was converted;
    Config.from_dict refused numpy numbers and paths that both take."""
    cfg = Config()
    cfg.augment.elastic, cfg.train.lr = "off", 1
    assert cfg.augment.elastic is False and type(cfg.train.lr) is float
    assert cfg.augment == AugmentSection(elastic="off")
    data = {"train": {"epochs": np.int64(3), "lr": np.float32(0.5)}, "data": {"root": Path("d")}}
    built = Config.from_dict(data)
    assert (built.train.epochs, built.train.lr, built.data.root) == (3, 0.5, "d")
    assert built.train == TrainSection(epochs=np.int64(3), lr=np.float32(0.5))


def test_a_section_given_as_a_dict_is_refused_naming_from_dict():
    """Config(train={"epochs": 5}) was an AttributeError of its repr ("'dict' object has no
    attribute 'epochs'"); assigned, a dict section passed until the run."""
    with pytest.raises(UnetlabError, match=r"section train must be a TrainSection, not dict"):
        Config(train={"epochs": 5})
    cfg = Config()
    with pytest.raises(UnetlabError, match=r"Config\.from_dict\(\{'data': \{\.\.\.\}\}\)"):
        cfg.data = {"root": "data"}


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("nodata", "bogus", "data.nodata: 'bogus' is not auto, none or a number"),
        ("exclude_rows", {"bottom": -3}, "data.exclude_rows.bottom: -3 rows: give 0 or more"),
        ("exclude_rows", {"side": 3}, "data.exclude_rows: unknown edge 'side'"),
    ],
)
def test_checked_refuses_nodata_and_exclude_rows(key, value, said):
    """Both passed ``Config.checked`` (a notebook learnt of them deep in training)."""
    cfg = Config()
    setattr(cfg.data, key, value)
    with pytest.raises(UnetlabError) as caught:
        cfg.checked()
    assert str(caught.value).startswith(said)


def test_the_command_line_refuses_nodata_as_its_config_is_read(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path), "--set", "data.nodata=bogus"]) == 2
    assert "error: data.nodata: 'bogus' is not auto, none or a number" in capsys.readouterr().err


@pytest.mark.parametrize("channel", [-1, [2, 2]])
def test_data_channel_says_none_to_python_and_null_to_the_command_line(channel):
    with pytest.raises(UnetlabError) as caught:
        DataSection(channel=channel)
    assert "or None for all" in str(caught.value) and "null" not in str(caught.value)
    assert "or null for all" in first_line(caught.value, cli=True)


@pytest.mark.parametrize("channel", ["-1", "[2, 2]"])
def test_a_data_channel_override_says_null_as_overrides_take_it(channel):
    """load_config(None, ['data.channel=-1']) was told "or None for all": an override of
    None is the word 'None' (s58); YAML's null, as the command line's --set."""
    with pytest.raises(UnetlabError) as caught:
        load_config(None, [f"data.channel={channel}"])
    assert "or null for all" in str(caught.value) and "None" not in str(caught.value)
    assert "or null for all" in first_line(caught.value, cli=True)


@pytest.mark.parametrize(
    ("channel", "shown"),
    [
        ("true", "True"),
        ("[true]", "[True]"),
        ("[1.5]", "[1.5]"),
        ("[R, G]", "['R', 'G']"),
        ("[0, null]", "[0, None]"),
        ("[[0]]", "[[0]]"),
    ],
)
def test_a_data_channel_override_of_the_wrong_type_is_told_its_type(channel, shown):
    """The overrides' own check of data.channel leaves a value of the wrong type to the
    type's line, as a142835f said it (true is no index: bool is an int to Python; a list of
    other things than indices was told check_channel's line, review s58 A2)."""
    said = f"config key data.channel must be int or str or list or null, not {shown}: e.g. "
    with pytest.raises(UnetlabError) as caught:
        load_config(None, [f"data.channel={channel}"])
    assert str(caught.value) == said + "data.channel=0"
    assert first_line(caught.value, cli=True) == said + "--set data.channel=0"


def test_a_config_files_channel_and_time_limit_say_the_files_form(tmp_path, capsys):
    """A file's data.channel: -1 was told "or None for all" (YAML's is null), its
    max_minutes: .inf "cfg.train.max_minutes = 0", neither naming the file (review s58 A3):
    the file and its YAML form, to both callers."""
    config = tmp_path / "f.yaml"
    for text, said in [
        ("data:\n  channel: -1\n", "or null for all, not -1"),
        ("train:\n  max_minutes: .inf\n", "for no time limit, max_minutes: 0 under train: ("),
    ]:
        config.write_text(text)
        with pytest.raises(UnetlabError) as caught:
            load_config(config)
        for cli in (False, True):
            line = first_line(caught.value, cli=cli)
            assert line.startswith(f"{config}: ") and said in line and "cfg." not in line
        assert main(["train", "--config", str(config), "--data", "none", "--check"]) == 2
        assert said in capsys.readouterr().err


def test_a_channel_past_the_images_says_none_to_python_and_null_to_the_command_line(tmp_path):
    image, mask = tmp_path / "a.png", tmp_path / "m.png"
    write_png(image, np.zeros((8, 8), np.uint8))
    write_png(mask, np.zeros((8, 8), np.uint8))
    with pytest.raises(UnetlabError) as caught:
        PairReader(channel=2)(Pair(image, mask))
    assert str(caught.value).endswith("set data.channel to one it has (or None for all)")
    assert first_line(caught.value, cli=True).endswith("(or null for all)")


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("top=abc", "--exclude-rows top: 'abc' is not a number of rows or a share"),
        ("bottom=-3", "--exclude-rows bottom: -3 rows: give 0 or more"),
    ],
)
def test_exclude_rows_flag_is_named_as_the_command_line_gives_it(
    tmp_path, instance_checkpoint, capsys, given, said
):
    """``--exclude-rows top=abc`` was told "exclude_rows.top" (PredictOptions' keyword)."""
    folder = tmp_path / "in"
    write_png(folder / "a.png", np.zeros((8, 8), np.uint8))
    runs = [
        ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(folder)],
        ["evaluate", "--pred", str(folder), "--gt", str(folder)],
    ]
    runs[0] += ["--output", str(tmp_path / "out")]
    for run in runs:
        assert main([*run, "--exclude-rows", given]) == 2
        assert f"error: {said}\n" in capsys.readouterr().err


def test_stack_objects_3d_of_a_large_stack_names_python_to_python(tmp_path):
    """evaluate_model(objects_3d=True) of a stack read window by window was told "unetlab
    predict --instances --objects-3d --large-pixels N" and "evaluate --pred ..."."""
    import tifffile

    from unetlab import ObjectOptions, OutputOptions
    from unetlab.inference.files import stack_objects_3d
    from unetlab.models import UNet

    model = UNet(1, 3, depth=2, base_channels=4, padding="same")
    model.classes, model.label_values = ["background", "boundary", "interior"], None
    model.objects = {"target": "instances"}
    path = tmp_path / "s.tif"
    tifffile.imwrite(path, np.zeros((3, 16, 16), np.uint8), metadata={"axes": "ZYX"})
    outputs = OutputOptions(objects=ObjectOptions(), objects_3d=True, large_threshold=100)
    with pytest.raises(UnetlabError) as caught:
        stack_objects_3d(model, path, outputs)
    python, cli = str(caught.value), first_line(caught.value, cli=True)
    assert "objects_3d=True, large_threshold=N)" in python and "--" not in python
    assert "evaluate_predictions(P, MASKS, objects_3d=True)" in python
    assert "unetlab predict --instances --objects-3d --large-pixels N" in cli


def test_export_sizes_and_opset_said_as_keywords_to_python_as_flags_on_the_command_line(
    tmp_path, capsys
):
    from unetlab.checkpoint import save_model
    from unetlab.inference.export import check_input_size
    from unetlab.models import UNet

    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    with pytest.raises(UnetlabError) as caught:
        check_input_size(model, 10**6)
    assert str(caught.value).startswith("input_size 1000000 is larger than unetlab traces")
    assert str(caught.value).endswith("(or use dynamic=False at most that)")
    assert first_line(caught.value, cli=True).startswith("--input-size 1000000 is larger")
    assert first_line(caught.value, cli=True).endswith("(or use --static at most that)")
    checkpoint = save_model(tmp_path / "m.pt", model)
    run = ["export", "--checkpoint", str(checkpoint), "--onnx", str(tmp_path / "m.onnx")]
    assert main([*run, "--opset", "572"]) == 2
    assert capsys.readouterr().err.rstrip().endswith("not supported; try --opset 17")


def test_bioimageio_sample_and_author_said_as_keywords_to_python_as_flags_on_the_command_line(
    tmp_path, capsys
):
    """export_bioimageio(sample=small) was told "give a larger --sample image";
    PackageInfo(authors=()) "needs at least one --author"."""
    from unetlab.checkpoint import save_model
    from unetlab.inference.bioimageio import PackageInfo, export_bioimageio
    from unetlab.models import UNet

    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    small = np.zeros((4, 4), np.uint8)
    with pytest.raises(UnetlabError, match=r"give a larger image as sample=$"):
        export_bioimageio(model, tmp_path / "pkg", sample=small)
    with pytest.raises(UnetlabError, match=r"at least one author \(PackageInfo\(authors="):
        PackageInfo(authors=())
    write_png(tmp_path / "small.png", small)
    checkpoint = save_model(tmp_path / "m.pt", model)
    run = ["export", "--checkpoint", str(checkpoint), "--bioimageio", str(tmp_path / "p")]
    assert main([*run, "--sample", str(tmp_path / "small.png")]) == 2
    assert capsys.readouterr().err.rstrip().endswith("give a larger image as --sample")


def test_a_budget_below_the_time_spent_is_said_in_the_callers_terms(caplog):
    """fit(resume=True) with a budget below the minutes spent was told "give --minutes more
    than ..." (test_budget_below_spent.py runs it through fit)."""
    from types import SimpleNamespace

    from unetlab.errors import command_spelling
    from unetlab.train.resume import warn_budget_below_spent

    timer = SimpleNamespace(seconds=3.0, seconds_spent=6.0)
    with caplog.at_level("WARNING", logger="unetlab.train"):
        warn_budget_below_spent(12.0, timer)
        python = caplog.text
        caplog.clear()
        with command_spelling():
            warn_budget_below_spent(12.0, timer)
    assert "(train.max_minutes): training ends at once" in python and "--" not in python
    assert python.rstrip().endswith("set cfg.train.max_minutes to more than 0.1")
    assert "(--minutes, train.max_minutes)" in caplog.text
    assert caplog.text.rstrip().endswith("give --minutes more than 0.1")


def test_a_budget_spent_by_loading_is_said_in_the_callers_terms(caplog):
    """fit's train.log was told "give --minutes 1 or more" (test_budget_loading.py: fit's)."""
    from types import SimpleNamespace

    from unetlab.errors import command_spelling
    from unetlab.train.run import log_spent

    with caplog.at_level("WARNING", logger="unetlab.train"), command_spelling():
        log_spent(5.0, SimpleNamespace(seconds=3.0))
    assert "usable checkpoint; give --minutes 1 or more (train.max_minutes) to train" in (
        caplog.text
    )


def test_napari_names_no_setting_its_widget_lacks_for_a_nan_layer():
    """The widget (predict_planes) has no nodata: it was told "nodata='nan' leaves them out"."""
    from unetlab.models import UNet
    from unetlab.napari.core import predict_planes

    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.classes, model.label_values = ["a", "b"], [0, 1]
    data = np.zeros((16, 16), np.float32)
    data[0, 0] = np.nan
    with pytest.raises(UnetlabError) as caught:
        predict_planes(model, data)
    said = str(caught.value)
    assert "as no-data: predicting its file with predict_file(..., nodata='nan') leaves" in said
    assert "--nodata" not in said  # napari's caller is Python (s56)
    assert "as no-data: nodata='nan' leaves them out" not in said
    assert said.endswith("or replace them (e.g. with 0) before predicting")


@pytest.mark.parametrize("plan", [True, False])
def test_a_channel_past_a_data_sets_images_is_said_in_each_callers_words(
    two_pair_data, capsys, plan
):
    """The problems a data set's check collects kept the Python API's words: the command line
    was told "(or None for all)" (s54), with the plan and without (--no-plan)."""
    from unetlab.config import load_config
    from unetlab.plan import plan_training
    from unetlab.train.run import started

    cfg = load_config(None, [f"data.root={two_pair_data}", "data.channel=2", "train.device=cpu"])
    with pytest.raises(UnetlabError) as caught:
        plan_training(cfg) if plan else started(cfg)
    assert str(caught.value).endswith("set data.channel to one it has (or None for all)")
    flags = ["train", "--data", str(two_pair_data), "--check", "--set", "data.channel=2"]
    assert main(flags + ([] if plan else ["--no-plan"])) == 2
    said = capsys.readouterr().err
    assert said.endswith("set data.channel to one it has (or null for all)\n")
    assert "None" not in said


def _forms(raise_it) -> tuple[str, str]:
    """The message (Python's) and the command line's line of the UnetlabError ``raise_it``
    raises."""
    with pytest.raises(UnetlabError) as caught:
        raise_it()
    return str(caught.value), first_line(caught.value, cli=True)


def test_page_refusals_give_each_caller_its_own_form(tmp_path):
    """s55 pyforms4: inference/pages.py's lines gave both forms inline ("--axes YXC (Python:
    axes='YXC')", "--channel C (an index or a name; Python: channel=C)", "--objects-3d
    (objects_3d=)"); Python now gets the keywords, the command line the flags."""
    from unetlab.inference.pages import (
        channel_index,
        refuse_channels,
        refuse_thin,
        refuse_unknown_stack,
    )

    path = tmp_path / "s.tif"
    for raise_it, python, cli in [
        (lambda: refuse_thin(path, (24, 20, 2), None), "give axes='YXC', or", "--axes YXC, or"),
        (lambda: refuse_thin(path, (24, 20, 2), "ZYX"), "give axes= that fit", "--axes that fit"),
        (
            lambda: refuse_unknown_stack("s.tif", 6, 4),
            "metadata: objects_3d=True joins the planes",
            "metadata: --objects-3d joins the planes",
        ),
        (
            lambda: refuse_unknown_stack("s.tif", 6, 5),
            "give channel=C and axes='TZCYX', or objects_3d=False for each plane's",
            "give --channel C and --axes TZCYX, or drop --objects-3d for each plane's",
        ),
        (
            lambda: refuse_channels(path, 3, 1, None, ["a", "b", "c"]),
            "choose one with channel=C (an index or a name), e.g.",
            "choose one with --channel C (an index or a name), e.g.",
        ),
        (
            lambda: refuse_channels(path, 3, 1, 5, ["a", "b", "c"]),
            "no channel 5: give channel= one of these",
            "no channel 5: give --channel one of these",
        ),
        (lambda: channel_index(path, "x", ["a", "b"]), "give channel= one", "give --channel one"),
    ]:
        message, line = _forms(raise_it)
        assert python in message and "--" not in message and "Python" not in message, message
        assert cli in line and not re.search(r"\b(axes|channel|objects_3d)=", line), line


def test_page_lines_give_the_running_callers_form(caplog):
    """A line logged carries one form: the command line's while it runs, else Python's."""
    from unetlab.errors import command_spelling
    from unetlab.inference.pages import say_colour_pages, say_no_axes

    with caplog.at_level(logging.WARNING, logger="unetlab"):
        say_colour_pages("c.tif", 2, "TYXS")
        say_no_axes("n.tif", 6, rank=4)
        python = caplog.text
        caplog.clear()
        with command_spelling():
            say_colour_pages("c.tif", 2, "TYXS")
            say_no_axes("n.tif", 6, rank=4)
        cli = caplog.text
    assert "time points give axes='TYXS'" in python and "objects_3d=True refuses" in python
    assert "if they are channels give axes='CZYX', time points axes='TZYX'" in python
    assert "--" not in python and "Python" not in python
    assert "time points give --axes TYXS" in cli and "--objects-3d refuses" in cli
    assert "if they are channels give --axes CZYX, time points --axes TZYX" in cli
    assert "axes='" not in cli and "objects_3d" not in cli


def test_3d_scoring_lines_give_each_caller_its_own_form(tmp_path, caplog):
    """evaluate/volumes.py's lines gave both forms ("--pred-instances (pred_instances=True)",
    "--objects-3d (objects_3d=) scored ...")."""
    from types import SimpleNamespace

    from unetlab.errors import command_spelling
    from unetlab.evaluate.volumes import _refuse_missing_volume, say_flat_scored

    none = SimpleNamespace(objects={})
    message, line = _forms(lambda: _refuse_missing_volume(none, tmp_path / "s.tif", "s", tmp_path))
    made = "(3-D objects of predict_folder(..., objects=True, objects_3d=True); pred_instances"
    assert message.endswith(f"{made}=True for <stem>.tif)")
    assert line.endswith(
        "(3-D objects of unetlab predict --instances --objects-3d; --pred-instances for <stem>.tif)"
    )
    with caplog.at_level(logging.INFO, logger="unetlab"):
        say_flat_scored([Path("f.png")], 2)
        with command_spelling():
            say_flat_scored([Path("f.png")], 2)
    python, cli = (r.getMessage() for r in caplog.records)
    assert python.startswith("objects_3d=True scored 1 of 2 images without a Z axis")
    assert "as predict_folder(..., objects_3d=True) gives them: f.png" in python
    assert cli.startswith("--objects-3d scored 1 of 2 images without a Z axis")
    assert "as predict --objects-3d gives them: f.png" in cli
