"""The config key reference: every key documented, from the dataclasses, in one place."""

from dataclasses import fields
from pathlib import Path

import pytest

from unetlab.cli import main
from unetlab.config import Config
from unetlab.config.reference import config_keys, reference_markdown, reference_text
from unetlab.errors import UnetlabError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "config.md"


def test_every_config_key_has_a_one_line_help_text():
    keys = config_keys()
    every = {f"{s}.{k}" for s, values in Config().to_dict().items() for k in values}
    assert {k.key for k in keys} == every
    missing = [k.key for k in keys if not k.help.strip()]
    assert not missing, f"config keys without help text (option(default, help)): {missing}"
    assert all("\n" not in k.help for k in keys)


def test_augment_keys_take_their_help_from_the_augmentation():
    from unetlab.data.transforms import Augment

    assert all(f.metadata.get("help") for f in fields(Augment))
    helps = {k.key: k.help for k in config_keys()}
    assert helps["augment.p_flip"] == Augment.__dataclass_fields__["p_flip"].metadata["help"]


def test_types_and_defaults_are_shown_as_a_config_file_writes_them():
    keys = {k.key: k for k in config_keys()}
    assert (keys["train.lr"].type, keys["train.lr"].default) == ("float", "0.001")
    assert (keys["model.depth"].type, keys["model.depth"].default) == ("int | None", "null")
    assert keys["train.amp"].default == "auto"
    assert keys["augment.elastic"].default == "false"
    assert "data.seed" in reference_text() and "train/validation split" in keys["data.seed"].help


def test_the_docs_page_is_the_generated_reference():
    assert DOCS.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/config.md is out of date: unetlab config --markdown > docs/config.md"
    )


def test_the_presets_options_are_listed_from_the_presets():
    from unetlab.models.architecture import PRESETS

    text = reference_text(["model"])
    for name, options in PRESETS.items():
        assert f"{name}: depth {options['depth']}, base_channels {options['base_channels']}" in text


def test_cli_config_lists_keys_and_names_a_typo(capsys):
    assert main(["config", "train.lr", "run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("train.lr: float = 0.001\n    learning rate")
    assert "run.name: str = unet" in out and "train.epochs" not in out
    assert main(["config", "trian"]) == 2
    assert "trian is no config key or section: did you mean train" in capsys.readouterr().err
    assert main(["config", "--markdown"]) == 0
    assert capsys.readouterr().out == reference_markdown()


def test_train_help_points_to_the_key_list(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "unetlab config lists them all" in capsys.readouterr().out


def test_a_name_that_is_no_key_is_refused():
    with pytest.raises(UnetlabError, match="did you mean train.epochs"):
        reference_text(["train.epoch"])
