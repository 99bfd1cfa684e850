"""Config: defaults < YAML < overrides, unknown keys and bad types refused, exact round trip."""

import re
from pathlib import Path

import pytest

from unetlab.config import Config, apply_overrides, load_config, save_config
from unetlab.config.files import parse_yaml
from unetlab.errors import UnetlabError, first_line

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_defaults_yaml_and_overrides_precedence(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  epochs: 7\n  lr: 1e-2\nmodel:\n  preset: small-valid\n")
    cfg = load_config(path, ["train.epochs=3", "data.class_names={0: membrane, 255: cell}"])
    assert cfg.train.epochs == 3  # override beats YAML
    assert cfg.train.lr == 0.01  # YAML 1.1 reads 1e-2 as a string; converted
    assert cfg.model.preset == "small-valid"
    assert cfg.train.batch_size == Config().train.batch_size  # default kept
    assert cfg.data.class_names == {0: "membrane", 255: "cell"}


def test_off_and_on_are_words_where_a_word_is_wanted(tmp_path):
    # YAML 1.1 reads off/on/yes/no as booleans; train.amp=off must stay the word "off"
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  amp: off\naugment:\n  elastic: no\n  flip: true\n")
    cfg = load_config(path, ["augment.rot90=off", "augment.enabled=yes"])
    assert cfg.train.amp == "off"
    assert (cfg.augment.elastic, cfg.augment.flip, cfg.augment.rot90, cfg.augment.enabled) == (
        False,
        True,
        False,
        True,
    )
    assert load_config(None, ["train.amp=off"]).train.amp == "off"
    save_config(cfg, tmp_path / "saved.yaml")
    assert load_config(tmp_path / "saved.yaml") == cfg


def test_unknown_keys_name_the_known_ones(tmp_path):
    with pytest.raises(
        ValueError, match=r"unknown config key train\.epoch\b.*known keys in train are epochs"
    ):
        load_config(None, ["train.epoch=3"])
    with pytest.raises(ValueError, match="unknown config key trian"):
        load_config(None, ["trian.epochs=3"])
    path = tmp_path / "c.yaml"
    path.write_text("data:\n  tilesize: 3\n")
    with pytest.raises(ValueError, match=r"data\.tilesize.*tile_size"):
        load_config(path)


def test_unknown_keys_suggest_the_close_one_and_name_the_file(tmp_path):
    for override, close in [
        ("train.epoch=3", "train.epochs"),
        ("model.presett=small", "model.preset"),
        ("augment.elastik=on", "augment.elastic"),
        ("data.tile=188", "data.tile_size"),
        ("trian.lr=1", "train"),
    ]:
        with pytest.raises(UnetlabError, match=rf"did you mean {close}\? known keys"):
            load_config(None, [override])
    path = tmp_path / "bad1.yaml"
    path.write_text("train:\n  epoch: 3\n")
    with pytest.raises(UnetlabError, match=r"bad1\.yaml: unknown config key train\.epoch: did"):
        load_config(path)
    with pytest.raises(UnetlabError, match=r"bad1\.yaml: unknown config key train\.epoch: did"):
        load_config(path, ["train.epochs=2"])  # the file's typo is not hidden by an override


@pytest.mark.parametrize(
    "override, message",
    [
        ("{mode: percentile, lwo: 20}", r"unknown key data\.normalization\.lwo: did you mean "),
        (
            "{mode: percentile, hgih: 95}",
            r"normalization\.hgih: did you mean data\.normalization\.high",
        ),
        (
            "{mode: per_image, mdoe: 3}",
            r"normalization\.mdoe: did you mean data\.normalization\.mode",
        ),
        ("{mode: per_image, low: 3}", r"normalization\.low does not apply to mode per_image"),
        ("{mode: fixed, mean: [0], std: [1], high: 9}", r"\.high does not apply to mode fixed"),
        ("{low: 3}", r"data\.normalization\.mode must be one of per_image.*not None \(the mode"),
    ],
)
def test_normalization_keys_are_checked(override, message):
    with pytest.raises(UnetlabError, match=message):
        load_config(None, [f"data.normalization={override}"])


def test_a_misspelled_normalization_mode_key_is_named():
    with pytest.raises(UnetlabError, match=r"unknown key data\.normalization\.mdoe: did you mean"):
        load_config(None, ["data.normalization.mdoe=scale"])
    spec = load_config(None, ["data.normalization={mode: percentile, low: 2, high: 98}"])
    assert spec.data.normalization == {"mode": "percentile", "low": 2, "high": 98}


def test_types_and_choices_are_checked():
    with pytest.raises(ValueError, match="train.epochs must be int"):
        load_config(None, ["train.epochs=many"])
    with pytest.raises(
        ValueError,
        match="train.optimizer 'adam' is unknown: did you mean adamw\\? choose one of sgd, adamw",
    ):
        load_config(None, ["train.optimizer=adam"])
    with pytest.raises(ValueError, match="must look like section.key=value"):
        load_config(None, ["epochs=3"])
    with pytest.raises(ValueError, match="model.preset 'huge'"):
        load_config(None, ["model.preset=huge"])


def test_dict_valued_keys_update_key_by_key():
    cfg = load_config(None, ["data.normalization.mode=scale"])
    assert cfg.data.normalization == {"mode": "scale"}
    assert apply_overrides({}, ["a.b.c=1"]) == {"a": {"b": {"c": 1}}}


def test_round_trip_is_exact(tmp_path):
    cfg = load_config(
        None,
        [
            "data.label_values=[0, 255]",
            "data.class_names={0: membrane, 255: cell}",
            "train.channels_last=true",
            "model.norm=none",
            "train.lr=0.5",
        ],
    )
    path = save_config(cfg, tmp_path / "config.yaml", header="unetlab 0.1.0\ncommand: x")
    assert path.read_text().startswith("# unetlab 0.1.0\n# command: x\n")
    again = load_config(path)
    assert again == cfg
    assert again.to_dict() == cfg.to_dict()
    assert Config.from_dict(cfg.to_dict()) == cfg
    assert cfg.model.overrides() == {"norm": None}


@pytest.mark.parametrize("name", ["paper.yaml", "small_cpu.yaml"])
def test_shipped_configs_load(name):
    cfg = load_config(CONFIGS / name)
    assert cfg.data.label_values == [0, 255]
    if name == "paper.yaml":
        assert (cfg.model.preset, cfg.train.optimizer, cfg.train.momentum) == ("paper", "sgd", 0.99)
        assert (cfg.train.batch_size, cfg.data.weight_map, cfg.data.w0, cfg.data.sigma) == (
            1,
            True,
            10.0,
            5.0,
        )
        assert cfg.augment.elastic
    else:
        assert (cfg.model.preset, cfg.train.optimizer) == ("small", "adamw")


def test_augment_section_mirrors_augment():
    from dataclasses import fields

    from unetlab.config import AugmentSection
    from unetlab.data.transforms import Augment

    assert AugmentSection().options() == {f.name: f.default for f in fields(Augment)}


def test_every_set_value_is_checked_also_one_a_later_flag_replaces():
    with pytest.raises(ValueError, match="config key train.epochs must be int, not 'abc'"):
        load_config(None, ["train.epochs=abc", "train.epochs=1"])  # --set ... --epochs 1
    with pytest.raises(ValueError, match="train.epochs must be at least 1, not 0"):
        load_config(None, ["train.epochs=0", "train.epochs=1"])
    assert load_config(None, ["train.epochs=3", "train.epochs=1"]).train.epochs == 1
    # a replaced value that clashes only with a later key's (s54: a refusal's fix, pasted
    # after the command's --set model.encoder=vgg16, was refused: depth and an encoder net)
    fixed = ["model.encoder=vgg16", "model.depth=4", "model.encoder=none"]
    assert load_config(None, fixed).model.depth == 4
    with pytest.raises(ValueError, match="model.encoder 'vgg61' is unknown: did you mean vgg16"):
        load_config(None, ["model.encoder=vgg61", "model.depth=4", "model.encoder=none"])
    needs_std = ["data.normalization.mode=fixed", "data.normalization.mean=[0.5]"]
    again = needs_std + ["data.normalization.mean=[0.4]", "data.normalization.std=[0.2]"]
    assert load_config(None, again).data.normalization["mean"] == [0.4]


@pytest.mark.parametrize(
    "overrides",
    [
        ["data.normalization={mode: fixed}", "data.normalization={mode: per_image}"],
        ["data.normalization.mode=fixed", "data.normalization.mode=scale"],
        ["data.normalization.mode=fixed", "train.epochs=3", "data.normalization={mode: scale}"],
        ["data.normalization.mean=[0.5]", "data.normalization={mode: scale}"],  # no mode yet
    ],
)
def test_a_replaced_incomplete_normalization_is_no_mistake(overrides):
    """s55 pyforms4: a normalization replaced before it was whole (fixed without its mean and
    std) refused the final, valid config ("normalization mode 'fixed' needs 'mean' and 'std'
    lists"); a replaced value of the wrong type, or of another mapping out of range, still
    is refused."""
    final = parse_yaml(overrides[-1].split("=", 1)[1])
    mode = final["mode"] if isinstance(final, dict) else final
    assert load_config(None, overrides).data.normalization["mode"] == mode
    with pytest.raises(ValueError, match="data.normalization must be dict or null, not"):
        load_config(None, ["data.normalization=[1, 2]", "data.normalization={mode: scale}"])
    with pytest.raises(ValueError, match="bottom: -3 rows: give 0 or more"):
        load_config(None, ["data.exclude_rows={bottom: -3}", "data.exclude_rows=null"])


@pytest.mark.parametrize(
    "overrides, said",
    [
        (["data.normalization.mode=bogus", "data.normalization.mode=scale"], "mode must be one"),
        (["data.normalization={mode: bogus}", "data.normalization={mode: scale}"], "one of"),
        (["data.normalization.mode=bogus", "data.normalization={mode: scale}"], "one of"),
        (["data.normalization.low=abc", "data.normalization=null"], "low must be a number"),
        (
            [
                "data.normalization={mode: per_image, mean: [0.5]}",
                "data.normalization={mode: per_image}",
            ],
            "data.normalization.mean does not apply to mode per_image",
        ),
        (
            ["data.normalization.mean=abc", "data.normalization.mean=[0.4]"]
            + ["data.normalization.mode=fixed", "data.normalization.std=[0.2]"],
            "data.normalization.mean must be a number or a list of them",
        ),
    ],
)
def test_a_replaced_normalization_is_forgiven_only_its_missing_keys(overrides, said):
    """s55 review: forgiving a replaced normalization its incompleteness forgave it all (a
    mode word, a key its mode does not take); only the keys a mode needs may be missing."""
    with pytest.raises(UnetlabError, match=said):
        load_config(None, overrides)


def test_a_replaced_normalization_is_checked_as_given_not_with_the_file_s_keys(tmp_path):
    """s56 (review F3 of s55): a file's valid {mode: percentile, low: 2} refused --set
    data.normalization.mode=scale given before mode=percentile, naming the file's low for
    the replaced mode; the final config is valid. A replaced {mode: fixed, std: [-1]} was
    checked for types only: a negative std is one line, replaced or not."""
    (tmp_path / "c.yaml").write_text("data:\n  normalization: {mode: percentile, low: 2}\n")
    sets = ["data.normalization.mode=scale", "data.normalization.mode=percentile"]
    assert load_config(tmp_path / "c.yaml", sets).data.normalization == {
        "mode": "percentile",
        "low": 2,
    }
    with pytest.raises(UnetlabError, match="^data.normalization.low does not apply to mode sc"):
        load_config(tmp_path / "c.yaml", sets[:1])  # in force, it does clash
    said = "^data.normalization.std must be a number of 0 or more or a list of them .*, not {}$"
    for std in ("[-1]", "[0, -2]", "-0.5"):
        fixed = f"data.normalization={{mode: fixed, std: {std}}}"
        with pytest.raises(UnetlabError, match=said.format(re.escape(std))):
            load_config(None, [fixed, "data.normalization={mode: scale}"])
        with pytest.raises(UnetlabError, match=said.format(re.escape(std))):
            load_config(None, [fixed.replace("{mode", "{mean: [1], mode")])


def test_a_fixed_std_of_0_loads_as_it_did_and_a_negative_one_is_refused(tmp_path):
    """s56 review: "std must be positive" refused configs that loaded before (a constant
    channel's std 0, floored where it is used; a run's own config.yaml on --resume): 0 loads
    and normalises to finite values, a negative std is refused."""
    import numpy as np

    from unetlab.config import DataSection
    from unetlab.data.normalize import normalize

    (tmp_path / "c.yaml").write_text(
        "data:\n  normalization: {mode: fixed, mean: [100, 5], std: [20, 0]}\n"
    )
    spec = load_config(tmp_path / "c.yaml").data.normalization
    assert spec == {"mode": "fixed", "mean": [100, 5], "std": [20, 0]}
    assert DataSection(normalization=spec).normalization == spec
    image = np.full((4, 4, 2), 5, np.uint16)
    assert np.isfinite(normalize(image, spec)).all()
    with pytest.raises(UnetlabError, match=r"std must be a number of 0 or more .*not \[20, -1\]$"):
        DataSection(normalization={**spec, "std": [20, -1]})


def test_a_replaced_key_of_the_file_s_mode_is_checked_with_the_file_s_keys(tmp_path):
    """s56 review: a file's {mode: percentile, low: 0.1} and a replaced
    data.normalization.high=0.5 were refused "not 1.0 and 0.5", a low the user never set
    (the default), hiding the real error (train.epochs=abc). A replaced key of the file's
    mode is checked with the file's keys (a replaced mode is not); refused where bad with
    them and alone, naming the file's value."""
    (tmp_path / "c.yaml").write_text("data:\n  normalization: {mode: percentile, low: 0.1}\n")
    highs = ["data.normalization.high=0.5", "data.normalization.high=0.6"]
    assert load_config(tmp_path / "c.yaml", highs).data.normalization["high"] == 0.6
    with pytest.raises(UnetlabError, match="^config key train.epochs must be int, not 'abc'"):
        load_config(tmp_path / "c.yaml", [*highs, "train.epochs=abc"])
    with pytest.raises(UnetlabError, match="need 0 <= low < high <= 100, not 0.1 and 0.05$"):
        load_config(tmp_path / "c.yaml", ["data.normalization.high=0.05", highs[1]])


def test_a_replaced_key_is_refused_only_where_bad_with_the_file_s_keys_and_alone(tmp_path):
    """s57: a replaced key is refused only where bad both with the file's keys and alone,
    in one line, the file's (the two lines were collected, the first raised): high=40 is
    bad beside the file's low 50 but fits alone; high=0.5 is bad both ways."""
    (tmp_path / "c.yaml").write_text("data:\n  normalization: {mode: percentile, low: 50}\n")
    highs = ["data.normalization.high=40", "data.normalization.high=60"]
    assert load_config(tmp_path / "c.yaml", highs).data.normalization["high"] == 60
    with pytest.raises(UnetlabError) as e:
        load_config(tmp_path / "c.yaml", ["data.normalization.high=0.5", highs[1]])
    assert str(e.value).endswith("not 50 and 0.5") and "\n" not in str(e.value)


@pytest.mark.parametrize(
    "spec, said",
    [
        # the key as a config names it, data.normalization.low ("normalization low": s56)
        ("{mode: percentile, low: abc}", "^data.normalization.low must be a number"),
        ("{mode: percentile, high: [99]}", "^data.normalization.high must be a number"),
        ("{mode: fixed, mean: [0.5], std: x}", "^data.normalization.std must be a number or a"),
        ("{mode: fixed, mean: [true], std: [1]}", "^data.normalization.mean must be a number"),
        ("{mode: percentile, low: 50, high: 10}", "^data.normalization.low and data.normaliz"),
        ("{mode: per_image, tissue: 3}", "^data.normalization.tissue is true or false, not 3$"),
        ("{mode: fixed, mean: [0.5]}", "^data.normalization.mode fixed needs mean and std lists"),
    ],
)
def test_normalization_numbers_of_the_wrong_type_are_refused_in_one_line(spec, said):
    """s55 review: ``low: abc`` was a TypeError comparing it to 0 (said as a bug)."""
    with pytest.raises(UnetlabError, match=said):
        load_config(None, [f"data.normalization={spec}"])


def test_an_empty_normalization_is_told_to_give_a_mode_or_none():
    """s56 review: DataSection(normalization={}) was told "(the mode that takes  is
    per_image: add it)", naming no key; {} is refused (None is the default) in one line
    in each caller's form."""
    from unetlab.config import DataSection

    said = "data.normalization is an empty mapping: give its mode, e.g. {}, or {} for the default"
    with pytest.raises(UnetlabError) as err:
        DataSection(normalization={})
    assert str(err.value) == said.format("{'mode': 'per_image'}", "None")
    with pytest.raises(UnetlabError) as err:
        load_config(None, ["data.normalization={}"])
    assert err.value.cli == said.format("--set data.normalization.mode=per_image", "null")
    replaced = ["data.normalization={}", "data.normalization={mode: scale}"]
    assert load_config(None, replaced).data.normalization == {"mode": "scale"}


def test_normalization_numbers_are_numbers_and_text_is_told_how_to_write_them(tmp_path):
    """Review s55 F1: the type check refused a Python caller's mean and std as numpy arrays;
    and YAML 1.1 reads 1e-3 as text, which a percentile compared with 0 as a TypeError
    (review s55 H1): it is told to write it with a point. None, NaN and infinity are no
    numbers (review s55 H2: None read as NaN made every image NaN)."""
    import numpy as np

    from unetlab.data.normalize import check_spec, normalize

    image = np.full((4, 4, 3), 0.5, np.float32)
    mean, std = np.full(3, 0.5, np.float32), np.array([1.0, 1, 1])
    assert np.allclose(normalize(image, {"mode": "fixed", "mean": mean, "std": std}), 0)
    check_spec({"mode": "percentile", "low": np.float32(1), "high": 99.0, "floor": np.float32(5)})
    (tmp_path / "c.yaml").write_text(
        "data:\n  normalization: {mode: percentile, low: 1e-3, high: 99.8}\n"
    )
    with pytest.raises(UnetlabError, match=r"not '1e-3' \(YAML reads 1e-3 as text: write it"):
        load_config(tmp_path / "c.yaml")
    for bad in ([None], [float("nan")], ["inf"], [[0.5]]):
        with pytest.raises(UnetlabError, match="^normalization.mean must be a number or a list"):
            check_spec({"mode": "fixed", "mean": bad, "std": [1]})


def test_a_config_file_that_is_a_folder_or_not_text_says_so(tmp_path):
    """From Python the fix names load_config, not --config (a flag a notebook has not: s49);
    the command's line keeps --config (tests/test_train_safety.py)."""
    with pytest.raises(ValueError, match="is a folder, not a config file: give load_config a YAML"):
        load_config(tmp_path)
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ValueError, match=r"a.png: not a YAML config file \(not text") as said:
        load_config(tmp_path / "a.png")
    assert "give load_config a YAML file" in str(said.value) and "--config" not in str(said.value)
    assert "give --config a YAML file such as" in said.value.cli


def test_shipped_configs_are_found_by_name_from_any_folder(tmp_path, monkeypatch):
    """The README's ``--config configs/isbi2012.yaml`` works outside a clone, and so does
    ``--config isbi2012``; a file of that name in the working folder wins."""
    from unetlab.config import explicit_keys, find_config, shipped_configs

    monkeypatch.chdir(tmp_path)
    assert {"isbi2012", "nuclei", "paper", "scenes_resnet50", "small_cpu"} <= set(shipped_configs())
    for given in ("isbi2012", "isbi2012.yaml", "configs/isbi2012.yaml"):
        assert load_config(given).train.max_minutes == 30.0
        assert "train.max_minutes" in explicit_keys(given)  # what the plan leaves alone
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "isbi2012.yaml").write_text("train: {max_minutes: 5}\n")
    assert load_config("configs/isbi2012.yaml").train.max_minutes == 5.0
    assert find_config("other/isbi2012.yaml") == Path("other/isbi2012.yaml")  # no guessing
    with pytest.raises(UnetlabError, match="shipped configs: isbi2012, nuclei"):
        load_config("isbi2013")
    (tmp_path / "paper").mkdir()  # a data or run folder named like a shipped config
    assert load_config("paper").train.momentum == 0.99


def test_fit_checks_a_config_changed_as_attributes_before_making_the_run_folder(tmp_path):
    """A notebook sets ``cfg.train.optimizer = "adam"``: one line, no run folder; a Path and
    numpy numbers are made plain (a run folder's config.yaml must stay YAML)."""
    import numpy as np

    from unetlab.train import fit

    cfg = load_config(None, [])
    cfg.train.optimizer = "adam"
    with pytest.raises(UnetlabError, match="train.optimizer 'adam' is unknown"):
        fit(cfg, run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()
    cfg = load_config(None, [])
    cfg.data.root, cfg.train.lr = tmp_path / "data", np.float32(0.5)
    plain = cfg.checked()
    assert plain.data.root == str(tmp_path / "data") and type(plain.train.lr) is float
    save_config(plain, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == plain


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.patience=-1", "train.patience must be at least 0, not -1"),
        ("train.momentum=5", "train.momentum must be in [0, 1), not 5.0"),
        ("train.momentum=1", "train.momentum must be in [0, 1), not 1.0"),
        ("train.grad_clip=-1", "train.grad_clip must be at least 0, not -1.0"),
        ("train.grad_clip=.nan", "train.grad_clip must be at least 0, not nan"),
        ("train.weight_decay=-1", "train.weight_decay must be at least 0, not -1.0"),
        ("train.num_workers=-3", "train.num_workers must be at least 0, not -3"),
        ("train.lr=.inf", "train.lr must be positive (and finite), not inf"),
        ("data.sigma=0", "data.sigma must be above 0, not 0.0"),
        ("data.w0=-1", "data.w0 must be at least 0, not -1.0"),
        ("model.depth=99", "model.depth must be in [1, 12], not 99"),
        ("model.depth=0", "model.depth must be in [1, 12], not 0"),
        ("model.base_channels=0", "model.base_channels must be in [1, 65536], not 0"),
        ("model.dropout=1.5", "model.dropout must be in [0, 1), not 1.5"),
        ("model.padding=full", "model.padding must be valid or same, not 'full'"),
    ],
)
def test_numeric_keys_out_of_range_are_refused_naming_key_value_and_range(override, message):
    with pytest.raises(UnetlabError) as info:
        load_config(None, [override])
    assert str(info.value) == message


def test_range_edges_that_mean_off_are_accepted():
    cfg = load_config(
        None, ["train.grad_clip=0", "train.momentum=0", "train.patience=0", "model.depth=12"]
    )
    assert (cfg.train.grad_clip, cfg.train.momentum, cfg.model.depth) == (0.0, 0.0, 12)


@pytest.mark.parametrize("text", ["train: 5\n", "train: [1, 2]\n", "model: small\n"])
def test_a_section_that_is_not_a_mapping_is_refused_naming_it(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    section = text.partition(":")[0]
    with pytest.raises(UnetlabError, match=f"c.yaml: config section {section} must be a mapping"):
        load_config(path)


def test_an_override_into_a_plain_value_is_refused():
    with pytest.raises(UnetlabError, match=r"train.lr holds 0.001, not a mapping"):
        load_config(None, ["train.lr.x=5"])


@pytest.mark.parametrize(
    "text, lines",
    [
        ("train:\n  epochs: 3\n  epochs: 4\n", "lines 2 and 3"),
        ("train: {lr: 1, lr: 2}\n", "on line 1"),
    ],
)
def test_a_key_given_twice_in_a_config_file_is_refused(tmp_path, text, lines):
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    with pytest.raises(UnetlabError) as info:
        load_config(path)
    assert str(path) in str(info.value) and "appears twice" in str(info.value)
    assert f"({lines})" in str(info.value)


def test_a_list_key_given_without_brackets_shows_the_list_form():
    """'--set data.label_values=0,255' said only 'must be list or null, not '0,255'': the line
    shows the form it takes, shell-quoted so that it pastes back as one word."""
    import shlex

    with pytest.raises(UnetlabError) as info:
        load_config(None, ["data.label_values=0,255"])
    line = first_line(info.value, cli=True)  # as the command line says it
    assert "[0, 255]" in line and "--set 'data.label_values=[0, 255]'" in line
    assert shlex.split(line.split("--set ")[1].rstrip(")"))[0] == "data.label_values=[0, 255]"


def test_a_config_files_value_of_the_wrong_type_names_the_file(tmp_path):
    """s51 walkcluster: "config key train.epochs must be int, not 'two'" named no file,
    where an unknown key in it names the file; a value an override replaces is not
    checked (the override's is)."""
    path = tmp_path / "mine.yaml"
    path.write_text("train:\n  epochs: two\n")
    with pytest.raises(UnetlabError, match=r"mine\.yaml: config key train\.epochs must be int"):
        load_config(path)
    assert load_config(path, ["train.epochs=3"]).train.epochs == 3


@pytest.mark.parametrize(
    "text, told",
    [
        ("train:\n  epochs: two\n", ": e.g. epochs: 50 under train:"),
        ("train:\n  epochs:\n", "has no value (it takes int): e.g. epochs: 50 under train:"),
        ("data:\n  label_values: 0,255\n", "in brackets, e.g. [0, 255]"),
    ],
)
def test_a_config_files_wrong_value_is_given_its_example_as_the_file_writes_it(
    tmp_path, text, told
):
    """s51 resumelines 3: a file's value of the wrong type was given its example in --set
    form ("e.g. train.epochs=50"), not as YAML; --set keeps the --set form."""
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(UnetlabError) as info:
        load_config(path)
    line = str(info.value)
    assert line.endswith(told) and "--set" not in line and "=" not in line
    with pytest.raises(UnetlabError, match=r"not 'two': e\.g\. train\.epochs=50$"):
        load_config(None, ["train.epochs=two"])


def test_a_config_files_keys_are_all_checked_before_its_values(tmp_path):
    """A section that is no mapping, and an unknown key, are refused naming the file, also
    where a value of the wrong type comes first in it (the keys' walk, then the values')."""
    path = tmp_path / "mine.yaml"
    path.write_text("train:\n  epochs: two\ndata: 5\n")
    with pytest.raises(UnetlabError, match=r"mine\.yaml: config section data must be a mapping"):
        load_config(path)
    path.write_text("train:\n  epochs: two\ndata:\n  seeed: 1\n")
    with pytest.raises(UnetlabError, match=r"mine\.yaml: unknown config key data\.seeed"):
        load_config(path)
