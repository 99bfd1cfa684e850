"""Config mistakes said in one line that keeps what helps (audit s29 author, findings 4, 5):
YAML syntax errors keep the problem and its line and column; class names keyed by mask values
are accepted where unambiguous and refused with the form they take otherwise."""

import pytest

from unetlab.config import load_config
from unetlab.errors import UnetlabError, first_line


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("train:\n\tepochs: 2\n", "line 2, column 1: found character '\\t' that cannot start any"),
        ("train:\n  epochs: [2\n", "line 3, column 1: expected ',' or ']', but got '<stream end>'"),
        ("train:\n  epochs: 2\n lr: 1\n", "line 3, column 2: expected <block end>"),
    ],
)
def test_a_yaml_syntax_error_keeps_its_problem_and_place(tmp_path, text, said):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(UnetlabError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: not valid YAML: {said}")
    assert "\n" not in str(err.value)
    if "\\t" in said:
        assert str(err.value).endswith("(indent with spaces, not tabs)")


def test_an_override_that_is_not_yaml_says_where():
    with pytest.raises(UnetlabError, match=r"not valid YAML \(line 1, column 3: expected ','"):
        load_config(None, ["train.epochs=[2"])


@pytest.mark.parametrize(
    "override",
    [
        "data.class_names.1=cell",
        'data.class_names={"0": bg, "1": cell}',
        "data.class_names={1: cell}",
    ],
)
def test_class_names_keyed_by_whole_numbers_in_text_are_mask_values(override):
    names = load_config(None, [override]).data.class_names
    assert names[1] == "cell" and all(isinstance(k, int) for k in names)


def test_class_names_as_a_list_or_by_words_say_the_form_they_take():
    with pytest.raises(UnetlabError) as err:
        load_config(None, ["data.class_names=[bg, cell, rare]"])
    assert "keys must be mask values (integers), e.g. {0: bg, 1: cell, 2: rare}" in str(err.value)
    with pytest.raises(
        UnetlabError, match=r"keys must be mask values \(integers\) and values names"
    ):
        load_config(None, ["data.class_names={a: bg}"])


def test_a_normalization_key_without_a_mode_names_the_mode_that_takes_it():
    """The command line is told its --set, Python the mode (it was told the override
    data.normalization.mode=percentile, whether it gave overrides or the mapping: s56)."""
    from unetlab.config import DataSection

    with pytest.raises(UnetlabError) as caught:
        load_config(None, ["data.normalization.low=2"])
    said = "data.normalization.mode must be one of per_image, fixed, dataset, scale, " + (
        "imagenet, percentile, ct, not None ({})"
    )
    assert first_line(caught.value, cli=True) == said.format(
        "set it: --set data.normalization.mode=percentile"
    )
    assert str(caught.value) == said.format("the mode that takes low is percentile: add it")
    with pytest.raises(UnetlabError) as given:
        DataSection(normalization={"low": 2, "high": 98})
    assert str(given.value).endswith("(the mode that takes low, high is percentile: add it)")


def test_a_non_ascii_path_is_written_as_it_reads(tmp_path):
    from unetlab.config import save_config

    cfg = load_config(None, ["data.root=/data/ds sp ä"])
    text = save_config(cfg, tmp_path / "c.yaml").read_text(encoding="utf-8")
    assert "root: /data/ds sp ä" in text
    assert load_config(tmp_path / "c.yaml").data.root == "/data/ds sp ä"


@pytest.mark.parametrize("word", ["none", "None", "NONE"])
def test_none_for_a_key_that_takes_null_names_null(word):
    """--set data.ignore_value=none said "must be int or null, not 'none'" (audit s41
    audittrain): Python's None is no YAML null; the line says to write null."""
    with pytest.raises(UnetlabError) as err:
        load_config(None, [f"data.ignore_value={word}"])
    assert str(err.value) == (
        f"config key data.ignore_value must be int or null, not {word!r}: write null for none"
    )


@pytest.mark.parametrize(
    "override", ["train.epochs=", "train.epochs= ", "train.epochs=  \t", "train.epochs=null"]
)
def test_an_override_without_a_value_says_the_value_is_missing(override):
    """``--set train.epochs=`` said "must be int, not None"."""
    with pytest.raises(UnetlabError) as err:
        load_config(None, [override])
    said = first_line(err.value, cli=True)  # as the command line says it
    assert said == "config key train.epochs has no value (it takes int): e.g. --set train.epochs=50"


def test_a_blank_override_names_an_example_or_the_choices():
    """A blank value said "--set train.epochs=VALUE"; a choice key given another type said
    "must be str, not 5: e.g. train.amp=auto": both now give an example value or the key's
    choices as the unknown word's line does (audit s50 roads)."""
    with pytest.raises(UnetlabError) as err:
        load_config(None, ["train.amp="])
    choices = ": choose one of auto, native, bf16, fp16, off"
    assert str(err.value) == f"config key train.amp has no value (it takes str){choices}"
    with pytest.raises(UnetlabError) as err:
        load_config(None, ["train.amp=5"])
    assert str(err.value) == f"config key train.amp must be str, not 5{choices}"
    with pytest.raises(UnetlabError) as err:
        load_config(None, ["model.norm=3"])
    assert str(err.value).endswith("not 3: choose one of none, batch, group")
    with pytest.raises(UnetlabError) as err:
        load_config(None, ["run.name="])
    assert first_line(err.value, cli=True).endswith("(it takes str): e.g. --set run.name=unet")


def test_a_blank_value_of_a_key_whose_none_is_a_word_names_an_example(tmp_path):
    """``--set data.nodata=`` said only "write none for none" (s55 review), the words for
    Python's None; a blank value (flag, override, file) is told an example again, as it was;
    Python's None keeps naming 'none' (tests/test_python_forms.py). A blank or null nodata
    stays refused (s56 fixD: it had become none, detection off, in silence)."""
    for blank in ("data.nodata=", "data.nodata=null"):
        with pytest.raises(UnetlabError) as err:
            load_config(None, [blank])
        assert first_line(err.value, cli=True).endswith(
            "(it takes str or float): e.g. --set data.nodata=auto"
        )
        assert str(err.value).endswith(": e.g. data.nodata=auto")
    for null in ("", " null"):
        (tmp_path / "c.yaml").write_text(f"data:\n  nodata:{null}\n")
        with pytest.raises(UnetlabError, match="e.g. nodata: auto under data:$"):
            load_config(tmp_path / "c.yaml")


def test_a_blank_override_of_a_key_that_takes_null_unsets_it_and_of_a_str_key_is_missing():
    """A key that may be null (data.root) takes a blank value as null, as YAML does; a str key
    that may not is refused as missing a value (an empty text is written '')."""
    assert load_config(None, ["data.root="]).data.root is None
    with pytest.raises(UnetlabError, match=r"^config key run\.name has no value \(it takes str\)"):
        load_config(None, ["run.name="])
    assert load_config(None, ["run.name=''"]).run.name == ""
