"""Keys unetlab removed (config.removed.REMOVED): an older run's config.yaml that holds one at
its no-effect value is read, said once; another value is refused saying it was removed (audit
s31 upgrade 1)."""

import logging

import pytest
import yaml

from unetlab.config import (
    Config,
    explicit_keys,
    load_config,
    load_run_config,
    removed,
    write_config,
)
from unetlab.data.read_notes import read_notes, said_within
from unetlab.errors import UnetlabError


def _old_run_config(tmp_path, seam_weight):
    """A run's config.yaml as unetlab 898d7c5..96a1ff1^ wrote it (seam_weight in data)."""
    path = tmp_path / "config.yaml"
    write_config(Config(), path)  # as a run writes it: every key
    data = yaml.safe_load(path.read_text())
    data["data"]["seam_weight"] = seam_weight
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_removed_key_at_its_no_effect_value_is_read_and_said_once(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(removed, "_said", set())
    path = _old_run_config(tmp_path, 1.0)
    with caplog.at_level(logging.INFO, logger="unetlab.config.removed"):
        cfg = load_config(path)
        assert load_run_config(path, cfg)[0] == cfg
        load_config(path, ["train.epochs=3"])
    assert cfg == load_config(None)
    assert "data.seam_weight" not in cfg.user_keys | explicit_keys(path)
    said = [r.getMessage() for r in caplog.records if "seam_weight" in r.getMessage()]
    assert len(said) == 1 and "removed" in said[0] and "96a1ff1" in said[0]


@pytest.mark.parametrize("value", [5.0, 20])
def test_a_removed_key_that_had_an_effect_is_refused_as_removed(tmp_path, value):
    path = _old_run_config(tmp_path, value)
    for read in (lambda: load_config(path), lambda: load_run_config(path, Config())):
        with pytest.raises(UnetlabError) as info:
            read()
        line = str(info.value)
        assert "\n" not in line
        assert f"data.seam_weight: {value} was removed" in line and "unknown" not in line
        assert "delete the line" in line and "96a1ff1^" in line


def test_a_removed_key_as_an_override(tmp_path, monkeypatch):
    monkeypatch.setattr(removed, "_said", set())
    assert load_config(None, ["data.seam_weight=1"]) == Config()
    for value in ("5", "[1"):  # [1: not YAML, still said as a removed key
        with pytest.raises(UnetlabError, match="was removed"):
            load_config(None, [f"data.seam_weight={value}"])


def test_a_removed_key_said_before_a_run_is_written_in_its_log(monkeypatch):
    """train --set data.seam_weight=1 --folds 2 said the line before fold_1's train.log
    opened (load_config, then explicit_keys meeting it again); it was never kept by the
    gathering (logged without say_note), so no fold's train.log had it (s59 re-read)."""
    monkeypatch.setattr(removed, "_said", set())
    logged = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())
    overrides = ["data.seam_weight=1"]
    with read_notes():  # the command's
        load_config(None, overrides), explicit_keys(None, overrides)  # as cli/train does
        with said_within(handler):  # a fold's run, its train.log
            pass
    assert [line for line in logged if "seam_weight" in line] == [
        "--set: data.seam_weight: 1 left out: unetlab removed the key (96a1ff1); 1 had no "
        "effect, as this version trains"
    ]


def test_each_removed_key_is_unknown_to_this_version():
    """A key listed as removed must not be a key again (the table would hide it)."""
    data = Config().to_dict()
    for key in removed.REMOVED:
        section, name = key.split(".")
        assert name not in data[section]
