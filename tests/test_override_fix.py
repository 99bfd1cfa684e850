"""A malformed ``--set`` names the override it most likely meant (walk s49: ``--set
epochs=5`` and ``--set train.epochs:5`` said only "must look like section.key=value (e.g.
train.epochs=5)", leaving the user to find the section of the key)."""

import pytest

from unetlab.cli import main
from unetlab.config import load_config
from unetlab.config.load import meant_override


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("epochs=5", "train.epochs=5"),  # the section left out
        ("tile_size=128", "data.tile_size=128"),
        ("train.epochs:5", "train.epochs=5"),  # YAML's colon
        ("epochs: 5", "train.epochs=5"),
        ("seed=3", None),  # data.seed and train.seed: no guess
        ("nothing=1", None),  # no section holds it
        ("train.epochs", None),  # no value
        ("train..epochs=2", None),  # an empty part: not the user's own text back (s49 review1)
        (".epochs=5", None),
        ("train.=5", None),
    ],
)
def test_meant_override(typed, meant):
    assert meant_override(typed) == meant


def test_the_line_names_the_meant_override_from_python_and_the_cli(capsys):
    with pytest.raises(ValueError, match=r"section.key=value \(did you mean train.epochs=5\?\)"):
        load_config(None, ["epochs=5"])
    with pytest.raises(ValueError, match=r"section.key=value \(e.g. train.epochs=5\)"):
        load_config(None, ["nothing=1"])  # no guess: the example, as before
    assert main(["train", "--data", "d", "--check", "--set", "tile_size=128"]) == 2
    assert "(did you mean data.tile_size=128?)" in capsys.readouterr().err
