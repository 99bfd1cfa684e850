"""A config built in Python (a notebook): attributes that are no key are refused, the keys
assigned are the user's (the plan keeps them), values set as attributes are checked before
the plan and before a file is written (audit s30, notebook findings 1, 2, 6)."""

import inspect
import logging
from pathlib import Path

import numpy as np
import pytest
import yaml

from unetlab.config import Config, assigned_keys, load_config, save_config, write_config
from unetlab.errors import UnetlabError, first_line

from .test_train import write_blobs


def test_a_misspelt_attribute_is_refused_naming_the_key():
    cfg = load_config(None, [])
    with pytest.raises(UnetlabError, match="unknown config key train.epocs: did you mean train"):
        cfg.train.epocs = 99
    with pytest.raises(UnetlabError, match="did you mean data.tile_size"):
        cfg.data.tile_sise = 64
    with pytest.raises(UnetlabError, match="did you mean augment.elastic"):
        cfg.augment.elastc = False
    with pytest.raises(UnetlabError, match="unknown config key trian: did you mean train"):
        cfg.trian = None
    cfg.train.epochs, cfg.user_keys = 3, frozenset()  # keys and the config's records are fine
    assert not hasattr(cfg.train, "epocs") and cfg.train.epochs == 3


def test_keys_assigned_are_recorded_also_at_their_default_and_not_saved():
    cfg = Config()
    assert assigned_keys(cfg) == set()  # building assigns each field: not the user's
    cfg.data.tile_size, cfg.train.batch_size = Config().data.tile_size, 4
    assert assigned_keys(cfg) == {"data.tile_size", "train.batch_size"}
    assert cfg == Config() and cfg.to_dict() == Config().to_dict()


def test_the_plan_keeps_an_attribute_set_to_the_default(tmp_path, caplog):
    from unetlab import plan_training

    cfg = load_config(None, [f"data.root={write_blobs(tmp_path / 'data', 4)}"])
    default_tile, default_batch = cfg.data.tile_size, cfg.train.batch_size
    cfg.data.tile_size, cfg.train.batch_size = default_tile, default_batch
    with caplog.at_level(logging.INFO, logger="unetlab"):
        planned, plan = plan_training(cfg)
    assert (planned.data.tile_size, planned.train.batch_size) == (default_tile, default_batch)
    mine = {c.key for c in plan.choices if c.user}
    assert {"data.tile_size", "train.batch_size"} <= mine
    said = caplog.text
    assert "plan_training changed" in said and "set it on cfg before plan_training" in said
    assert "data.tile_size" not in said.split("plan_training changed")[1].split("(")[0]
    assert "before plan_training" in plan.how


def test_the_cli_words_stay_in_a_plan_made_with_explicit_keys(tmp_path):
    from unetlab import plan_training

    cfg = load_config(None, [f"data.root={write_blobs(tmp_path / 'data', 4)}"])
    cfg.data.tile_size = cfg.data.tile_size  # assigned, but the CLI says what it set
    planned, plan = plan_training(cfg, {"data.root"})
    assert "--set KEY=VALUE" in plan.how
    assert "data.tile_size" not in {c.key for c in plan.choices if c.user}


def test_a_bad_attribute_value_is_one_line_before_the_plan_and_before_a_file(tmp_path):
    from unetlab import plan_training

    cfg = load_config(None, [f"data.root={write_blobs(tmp_path / 'data', 4)}"])
    cfg.train.max_minutes = -1.0  # a range: checked where the config is used
    with pytest.raises(UnetlabError, match="train.max_minutes must be at least 0"):
        plan_training(cfg)
    cfg.train.max_minutes, cfg.train.lr = 0.0, -1.0
    with pytest.raises(UnetlabError, match="train.lr must be positive"):
        save_config(cfg, tmp_path / "bad.yaml")
    assert not (tmp_path / "bad.yaml").exists()


def test_a_value_of_the_wrong_type_is_refused_where_it_is_assigned():
    """s52 notebook: ``cfg.train.epochs = "50"`` passed until the plan or fit."""
    cfg = load_config(None, [])
    for section, key, value, said in [
        ("train", "epochs", "50", "config key train.epochs must be int, not '50'"),
        ("train", "max_minutes", "soon", "config key train.max_minutes must be float"),
        ("augment", "elastic", "maybe", "config key augment.elastic must be bool"),
        ("data", "label_values", [0, "x"], "config key data.label_values must be list or None"),
    ]:
        with pytest.raises(UnetlabError, match=said) as caught:
            setattr(getattr(cfg, section), key, value)
        assert "\n" not in str(caught.value)
    assert cfg == Config() and assigned_keys(cfg) == set()  # nothing was set
    cfg.train.epochs, cfg.train.lr, cfg.augment.elastic = np.int64(5), 1, "off"
    cfg.data.root, cfg.data.label_values = Path("data"), (0, 255)  # made plain as assigned
    assert (cfg.data.root, cfg.augment.elastic) == ("data", False)  # s55: not "off" till checked
    done = cfg.checked()
    assert (done.train.epochs, done.train.lr, done.augment.elastic) == (5, 1.0, False)
    assert (done.data.root, done.data.label_values) == ("data", [0, 255])


def test_an_assigned_values_line_says_the_python_form_a_file_and_set_keep_theirs(tmp_path):
    """s52 review: an attribute's line gave --set's forms ("e.g. train.epochs=50", "--set
    'data.label_values=[0, 255]'"), which Python does not take."""
    cfg = Config()
    for section, key, value, said in [
        ("train", "epochs", "50", "not '50': e.g. cfg.train.epochs = 50"),
        ("data", "tile_size", None, "(it takes int): e.g. cfg.data.tile_size = 256"),
        ("data", "label_values", "0,255", "e.g. cfg.data.label_values = [0, 255]"),
        ("data", "ignore_value", "none", "must be int or None, not 'none': write None for none"),
        (
            "data",
            "class_names",
            ["bg", "cell"],
            "e.g. {0: 'bg', 1: 'cell'} if the masks hold 0, 1, 2, ...",
        ),
    ]:
        with pytest.raises(UnetlabError) as caught:
            setattr(getattr(cfg, section), key, value)
        assert str(caught.value).endswith(said) and "--set" not in str(caught.value)
    for override, said in [
        ("train.epochs=fifty", "e.g. --set train.epochs=50"),
        ("data.tile_size=", "e.g. --set data.tile_size=256"),
        ("data.label_values=0,255", "[0, 255] (--set 'data.label_values=[0, 255]')"),
        ("data.ignore_value=none", "must be int or null, not 'none': write null for none"),
        ("data.class_names=[bg, cell]", "e.g. {0: bg, 1: cell} if the masks hold 0, 1, 2, ..."),
    ]:
        with pytest.raises(UnetlabError) as caught:
            load_config(None, [override])
        assert first_line(caught.value, cli=True).endswith(said)  # as the command line says it
    (tmp_path / "c.yaml").write_text("train:\n  epochs: fifty\n")
    with pytest.raises(UnetlabError, match="e.g. epochs: 50 under train:$"):
        load_config(tmp_path / "c.yaml")


def test_an_endless_time_limit_says_the_form_of_its_caller(capsys):
    """s52: cfg.checked() in a notebook was told to "leave --minutes out"; the command
    line's line is kept."""
    from unetlab.cli import main

    cfg = Config()
    cfg.train.max_minutes = float("inf")
    with pytest.raises(UnetlabError) as caught:
        cfg.checked()
    said = "for no time limit, cfg.train.max_minutes = 0 (train.epochs sets the length)"
    assert str(caught.value).endswith(said) and "--" not in str(caught.value)
    assert main(["train", "--data", "none", "--set", "train.max_minutes=inf", "--check"]) == 2
    kept = "for no time limit, set 0 (or leave --minutes out) and train.epochs sets the length"
    assert capsys.readouterr().err.strip().endswith(kept)
    # load_config's overrides: their own form, not an attribute never set (s58)
    for given in ("inf", ".inf"):
        with pytest.raises(UnetlabError) as caught:
            load_config(None, [f"train.max_minutes={given}"])
        said = "for no time limit, overrides=['train.max_minutes=0'] (train.epochs sets the length)"
        assert str(caught.value).endswith(said)
        assert first_line(caught.value, cli=True).endswith(kept)
    # a number too large for a float is endless too, not OverflowError's bug (review s58 A1)
    huge = "train.max_minutes=1" + "0" * 400
    with pytest.raises(UnetlabError) as caught:
        load_config(None, [huge])
    assert str(caught.value).endswith(said) and first_line(caught.value, cli=True).endswith(kept)
    assert main(["train", "--data", "none", "--set", huge, "--check"]) == 2
    assert capsys.readouterr().err.strip().endswith(kept)


def test_class_names_keyed_by_numpy_integers_are_plain_ints_and_round_trip(tmp_path):
    """s52 review: ``dict(zip(np.unique(masks), names))`` (numpy integer keys, numpy str
    names) was refused: keys must be mask values (integers)."""
    masks = np.array([[0, 255]], dtype=np.uint8)
    cfg = Config()
    cfg.data.class_names = dict(zip(np.unique(masks), np.array(["bg", "cell"])))
    want = {0: "bg", 255: "cell"}
    done = cfg.checked().data.class_names
    assert done == want and [type(k) for k in done] == [int, int]
    save_config(cfg, tmp_path / "mine.yaml")
    assert load_config(tmp_path / "mine.yaml").data.class_names == want
    write_config(cfg, tmp_path / "all.yaml")
    assert load_config(tmp_path / "all.yaml") == cfg.checked()
    assert yaml.safe_load((tmp_path / "all.yaml").read_text())["data"]["class_names"] == want


def test_a_dicts_or_overrides_type_error_says_the_callers_form_the_command_line_keeps_set():
    """s53: Config.from_dict (and checked) and load_config(None, [...]) in a notebook were told
    ``--set data.tile_size=256``, which Python does not take."""
    for data, said in [
        ({"train": {"epochs": "fifty"}}, "not 'fifty': e.g. cfg.train.epochs = 50"),
        ({"data": {"tile_size": None}}, "(it takes int): e.g. cfg.data.tile_size = 256"),
        ({"data": {"label_values": "0,255"}}, "e.g. cfg.data.label_values = [0, 255]"),
        ({"data": {"ignore_value": "none"}}, "int or None, not 'none': write None for none"),
    ]:
        with pytest.raises(UnetlabError) as caught:
            Config.from_dict(data)
        assert str(caught.value).endswith(said) and "--set" not in str(caught.value)
    for override, said in [
        ("data.tile_size=", "(it takes int): e.g. data.tile_size=256"),
        ("data.label_values=0,255", "e.g. [0, 255] ('data.label_values=[0, 255]')"),
    ]:
        with pytest.raises(UnetlabError) as caught:
            load_config(None, [override])
        assert str(caught.value).endswith(said) and "--set" not in str(caught.value)
        assert "--set " in first_line(caught.value, cli=True)


def test_config_has_its_own_help():
    """help(unetlab.Config) says what it is and how to make one, not only the dataclass's
    generated signature (s50 notebook walk: its docstring was 'Config(model: ...)')."""
    doc = inspect.getdoc(Config)
    assert not doc.startswith("Config(")
    assert "load_config" in doc and "cfg.train" in doc


def test_a_saved_config_read_back_is_planned_as_the_config_was(tmp_path):
    """s52 notebook: save_config wrote every key, so the file read back set them all and
    plan_training planned nothing; now the keys not chosen are comments at their default."""
    from unetlab import plan_training

    cfg = load_config(None, [f"data.root={write_blobs(tmp_path / 'data', 4)}"])
    cfg.data.tile_size, cfg.train.batch_size = 32, Config().train.batch_size  # default: mine
    text = save_config(cfg, tmp_path / "mine.yaml").read_text()
    assert "  tile_size: 32\n" in text and "  batch_size: 4\n" in text
    assert "  # epochs: 50\n" in text and "  # target: auto\n" in text
    again = load_config(tmp_path / "mine.yaml")
    assert again == cfg
    assert again.user_keys == {"data.root", "data.tile_size", "train.batch_size"}
    planned, plan = plan_training(again)
    assert {c.key for c in plan.choices if c.user} == {"data.tile_size", "train.batch_size"}
    assert planned == plan_training(cfg)[0]
    assert load_config(save_config(Config(), tmp_path / "none.yaml")) == Config()


def test_a_planned_config_saved_writes_the_users_keys_not_the_plans(tmp_path):
    """s66 notebook: README's cells rebind cfg to plan_training's, and save_config of it
    wrote every planned value as the user's (train.epochs: 100000 under a budget, the CPU's
    amp and batch): read back, nothing was planned again. Now they are comments (of the
    planned value), and a key
    assigned after planning is written, as every key assigned is."""
    from unetlab import plan_training

    cfg = load_config(None, [f"data.root={write_blobs(tmp_path / 'data', 4)}"])
    cfg.data.tile_size, cfg.train.max_minutes = 32, 0.5
    planned, plan = plan_training(cfg)
    by_plan = {c.key for c in plan.choices if not c.user}
    assert "train.epochs" in by_plan and planned.train.epochs != Config().train.epochs
    planned.train.lr = 0.002  # after planning: the user's
    text = save_config(planned, tmp_path / "mine.yaml").read_text()
    assert "\n  # epochs: " in text and "\n  epochs: " not in text and "\n  # amp: " in text
    assert "  tile_size: 32\n" in text and "  lr: 0.002\n" in text
    again = load_config(tmp_path / "mine.yaml")
    assert again.user_keys == {"data.root", "data.tile_size", "train.max_minutes", "train.lr"}
    replanned, plan_again = plan_training(again)
    assert {c.key for c in plan_again.choices if not c.user} == by_plan
    assert replanned.train.epochs == planned.train.epochs


def test_a_planned_config_edited_in_place_keeps_the_edits_saved_and_planned_again(tmp_path):
    """s66 notebook review: the planned config knew the plan's keys, not its values, so a
    mapping edited in place or a section replaced was written as comments by save_config and
    planned over by plan_training again. A key is the plan's only while it holds its value."""
    from unetlab import plan_training
    from unetlab.config import TrainSection

    cfg = load_config(None, [f"data.root={write_blobs(tmp_path / 'data', 4)}"])
    cfg.data.tile_size, cfg.train.max_minutes = 32, 0.5
    planned, _ = plan_training(cfg)
    planned.data.normalization["mode"] = "percentile"
    planned.data.normalization.update(low=1.0, high=99.0)
    planned.train = TrainSection(max_minutes=0.5, epochs=7, batch_size=3)
    mine = {"mode": "percentile", "low": 1.0, "high": 99.0}
    again = load_config(save_config(planned, tmp_path / "mine.yaml"))
    assert again.data.normalization == mine
    assert (again.train.epochs, again.train.batch_size) == (7, 3)
    replanned, _ = plan_training(planned)
    assert replanned.data.normalization == mine
    assert (replanned.train.epochs, replanned.train.batch_size) == (7, 3)


def test_the_changed_line_says_a_budget_epoch_cap_as_the_plan_lines_do(tmp_path, caplog):
    """With cfg.train.max_minutes set, the plan's epoch cap is no limit: plan.lines() said
    "train.epochs = no limit", the notebook's one line "train.epochs 50 -> 100000" (s54)."""
    from unetlab import plan_training

    cfg = load_config(None, [f"data.root={write_blobs(tmp_path / 'data', 4)}"])
    cfg.train.max_minutes = 0.5
    with caplog.at_level(logging.INFO, logger="unetlab"):
        _, plan = plan_training(cfg)
    changed = caplog.text.split("plan_training changed")[1].split(" (plan.lines()")[0]
    assert f"train.epochs {Config().train.epochs} -> no limit" in changed
    assert "100000" not in changed
    assert any(line.startswith("train.epochs = no limit") for line in plan.lines())


def test_a_checked_config_keeps_what_the_user_and_the_plan_set(tmp_path):
    """s67 notebook: ``Config.checked()`` dropped ``user_keys`` and ``plan_values`` (and the
    keys assigned), so ``save_config(planned.checked(), ...)`` wrote every planned value as
    the user's and left out a key assigned at its default."""
    from unetlab import plan_training

    cfg = load_config(None, [f"data.root={write_blobs(tmp_path / 'data', 4)}"])
    cfg.data.tile_size, cfg.train.max_minutes = 32, 0.5
    planned, _ = plan_training(cfg)
    planned.train.lr = Config().train.lr  # after planning, at its default: the user's
    checked = planned.checked()
    assert checked.plan_values == planned.plan_values and checked.user_keys >= cfg.user_keys
    assert (checked.file_keys, checked.config_file) == (planned.file_keys, planned.config_file)
    text = save_config(checked, tmp_path / "mine.yaml").read_text()
    assert text == save_config(planned, tmp_path / "planned.yaml").read_text()
    assert "\n  # epochs: " in text and "\n  epochs: " not in text and "\n  lr: " in text
