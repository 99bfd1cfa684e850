"""fit and plan_training refuse a setting given as a keyword, or a run folder given by
position, in one line naming the config key or the keyword (s50 notebook walk: Python's
TypeError, "fit() got an unexpected keyword argument 'epochs'", named neither)."""

import inspect

import pytest

from unetlab import UnetlabError, fit, load_config, plan_training
from unetlab.config.keywords import config_keys_named


def test_config_keys_named():
    assert config_keys_named("epochs") == ["train.epochs"]
    assert config_keys_named("tile_size") == ["data.tile_size"]
    assert config_keys_named("seed") == ["data.seed", "train.seed"]
    assert config_keys_named("minutes") == ["train.max_minutes"]  # unetlab train --minutes
    assert config_keys_named("run_dir") == []


@pytest.mark.parametrize(
    ("call", "said"),
    [
        (lambda cfg: fit(cfg, run_dir="r", epochs=3), "fit has no keyword epochs: "),
        (lambda cfg: fit(cfg, run_dir="r", minutes=2), "cfg.train.max_minutes = 2 before fit"),
        (lambda cfg: plan_training(cfg, tile_size=128), "cfg.data.tile_size = 128 before"),
        (lambda cfg: fit(cfg, run_dir="r", progres=False), "did you mean progress?"),
        (lambda cfg: fit(cfg, "runs/x"), "not 'runs/x' by position: fit(cfg, run_dir=...)"),
    ],
)
def test_refused_in_one_line_before_any_work(tmp_path, monkeypatch, call, said):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(None, [f"data.root={tmp_path / 'no_data'}"])
    with pytest.raises(UnetlabError) as caught:
        call(cfg)
    assert said in str(caught.value)
    assert "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # no run folder made


def test_signatures_still_shown():
    """help(fit) shows fit's own keywords, not the checking wrapper's."""
    assert "run_dir" in inspect.signature(fit).parameters
    assert "device" in inspect.signature(plan_training).parameters
