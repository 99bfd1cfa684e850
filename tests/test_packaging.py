"""The package's metadata: the version is written once, in unetlab.__version__."""

import importlib.metadata
from pathlib import Path

import tomllib

import unetlab


def test_the_version_is_written_once():
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "unetlab.__version__"}
    assert importlib.metadata.version("unetlab") == unetlab.__version__
