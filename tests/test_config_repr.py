"""A config is one line as a notebook cell's value (s52 notebook: the dataclass's repr listed
every key, some 1,400 characters), as a Plan is; ``str`` (``print(cfg)``) still lists them all."""

from dataclasses import fields

from unetlab.config import Config, load_config


def test_a_config_shows_as_one_line_naming_the_keys_not_at_their_default():
    cfg = load_config(None, ["data.root=data", "train.epochs=5"])
    assert repr(cfg) == (
        "Config(2 keys not the default: data.root='data', train.epochs=5; print(cfg) for every key)"
    )
    cfg.model.depth, cfg.train.lr, cfg.run.name = 2, 3e-4, "nuclei"
    line = repr(cfg)
    assert "\n" not in line and len(line) < 200
    assert line.startswith("Config(5 keys not the default: model.depth=2, data.root='data', ")
    assert "train.lr=0.0003 and 1 more; print(cfg) for every key)" in line
    assert repr(Config()) == "Config(0 keys not the default: none; print(cfg) for every key)"
    cfg = Config()
    cfg.train.epochs = 1
    assert repr(cfg).startswith("Config(1 key not the default: train.epochs=1;")


def test_str_lists_every_key_as_the_dataclass_did():
    cfg = load_config(None, ["data.root=data"])
    listed = ", ".join(f"{f.name}={getattr(cfg, f.name)}" for f in fields(cfg))
    assert str(cfg) == f"Config({listed})"
    assert str(cfg.run) == "RunSection(name='unet', dir='runs')"
    assert "ModelSection(preset='small'" in str(cfg) and "root='data'" in str(cfg)


def test_a_section_shows_as_one_line_naming_its_keys_not_at_their_default():
    cfg = load_config(None, ["train.epochs=5", "train.lr=0.01"])
    assert repr(cfg.train) == (
        "TrainSection(2 keys not the default: epochs=5, lr=0.01; print(cfg.train) for every key)"
    )
    assert repr(cfg.run) == "RunSection(0 keys not the default: none; print(cfg.run) for every key)"
    cfg.augment.enabled = False
    assert repr(cfg.augment).startswith("AugmentSection(1 key not the default: enabled=False;")
    for section in (cfg.model, cfg.data, cfg.augment, cfg.train):
        assert "\n" not in repr(section) and len(repr(section)) < 200
    assert "ModelSection(preset='small'" in str(cfg.model)  # str: every key
