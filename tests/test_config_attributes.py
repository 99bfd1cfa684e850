"""A config built in Python (a notebook): attributes that are no key are refused, the keys
assigned are the user's (the plan keeps them), values set as attributes are checked before
the plan and before a file is written (audit s30, notebook findings 1, 2, 6)."""

import inspect
import logging

import pytest

from unetlab.config import Config, assigned_keys, load_config, save_config
from unetlab.errors import UnetlabError

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
    cfg.train.max_minutes = "soon"
    with pytest.raises(UnetlabError, match="config key train.max_minutes must be float"):
        plan_training(cfg)
    cfg.train.max_minutes, cfg.train.lr = 0.0, "fast"
    with pytest.raises(UnetlabError, match="config key train.lr must be float, not 'fast'"):
        save_config(cfg, tmp_path / "bad.yaml")
    assert not (tmp_path / "bad.yaml").exists()


def test_config_has_its_own_help():
    """help(unetlab.Config) says what it is and how to make one, not only the dataclass's
    generated signature (s50 notebook walk: its docstring was 'Config(model: ...)')."""
    doc = inspect.getdoc(Config)
    assert not doc.startswith("Config(")
    assert "load_config" in doc and "cfg.train" in doc
