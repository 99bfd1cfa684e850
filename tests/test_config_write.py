"""``unetlab config --write``: a config file to start from, written by the command line
(s69 deploy walk: README sent users to Python's save_config or to copying
configs/small_cpu.yaml); it loads back as the config it was written from, and no existing
file is replaced without --overwrite."""

from __future__ import annotations

import pytest

from unetlab.cli import main
from unetlab.config import Config, load_config


def _same(written: str, source, overrides: list[str]) -> None:
    """``written`` loads (as ``unetlab train --config`` loads it) to the config of ``source``
    with ``overrides``, the keys left to the plan the same."""
    got, want = load_config(written), load_config(source, overrides)
    assert got.to_dict() == want.to_dict()
    assert got.user_keys == want.user_keys


def test_a_shipped_config_with_overrides_is_written_and_loads_back(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    sets = ["--set", "train.epochs=7", "--set", "data.class_names={0: membrane, 255: cell}"]
    assert main(["config", "--write", "mine.yaml", "--from", "small_cpu", *sets]) == 0
    assert capsys.readouterr().out.strip() == (
        "wrote mine.yaml: edit it, then unetlab train --data DIR --config mine.yaml"
    )
    _same("mine.yaml", "small_cpu", ["train.epochs=7", "data.class_names={0: membrane, 255: cell}"])
    text = (tmp_path / "mine.yaml").read_text()
    assert text.startswith("# written by unetlab config --write from configs/small_cpu.yaml")
    assert "\n  epochs: 7\n" in text and "\n  # momentum: 0.99\n" in text  # not set: a comment


def test_the_defaults_are_written_as_comments_and_load_back(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["config", "--write", "defaults.yaml"]) == 0
    _same("defaults.yaml", None, [])
    assert load_config("defaults.yaml").to_dict() == Config().to_dict()


def test_an_existing_file_is_kept_unless_overwrite(tmp_path, monkeypatch, capsys):
    """Also one an earlier --write made: save_config's own rule replaces its earlier file,
    and a starter is edited by hand."""
    monkeypatch.chdir(tmp_path)
    assert main(["config", "--write", "mine.yaml", "--from", "small_cpu"]) == 0
    path = tmp_path / "mine.yaml"
    path.write_text(path.read_text().replace("epochs: 30", "epochs: 40"))  # the user's edit
    edited = path.read_bytes()
    capsys.readouterr()
    assert main(["config", "--write", "mine.yaml", "--set", "train.epochs=5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "unetlab config: error: mine.yaml exists: give another name, or --overwrite to replace "
        "it (nothing written)"
    ]
    assert path.read_bytes() == edited
    assert main(["config", "--write", "mine.yaml", "--set", "train.epochs=5", "--overwrite"]) == 0
    assert load_config("mine.yaml").train.epochs == 5


def test_write_from_python_names_overwrite_as_python_does(tmp_path):
    from unetlab.config.starter import write_starter
    from unetlab.errors import OutputError

    path = write_starter(tmp_path / "mine.yaml", "paper")
    with pytest.raises(OutputError, match=r"exists: give another name, or overwrite=True to"):
        write_starter(path, "paper")


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "small_cpu"],
        ["--set", "train.epochs=5"],
        ["--write", "x.yaml", "train"],
    ],
)
def test_write_flags_out_of_place_are_one_line(tmp_path, monkeypatch, capsys, args):
    monkeypatch.chdir(tmp_path)
    assert main(["config", *args]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "x.yaml").exists()
