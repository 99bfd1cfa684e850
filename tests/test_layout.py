"""The package's architecture as rules: imports flow one way, no private names cross modules."""

from __future__ import annotations

import ast
import functools
import gc
import subprocess
import sys
from pathlib import Path

import pytest

import unetlab

SRC = Path(unetlab.__file__).resolve().parent

#: Layers, lowest first: a module may import from its own layer or lower ones only.
LAYERS = [
    {
        "errors",
        "api_lines",
        "runtime",
        "cpu_share",
        "signals",
        "provenance",
        "atomic",
        "group",
        "progress",
        "model_identity",
        "words",
        "read_once",
        "deferred",
        "zip_damage",
        "config_keys",
        "context_values",
    },
    {"models", "data", "metrics", "outputs", "manifest"},
    {"losses"},
    {
        "part_values",
        "packages",
        "checkpoint",
        "config",
        "plots",
        "distributed",
    },
    {"run_records"},
    {"inference"},
    {"plan"},
    {"train", "evaluate", "compare"},
    {"demo", "bench"},
    {"cli", "napari"},
]
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}
#: Inside ``inference``: the modules each one must not import (prediction's output-folder
#: rules sit below the writing of a file, which sits below predicting a folder of them).
INFERENCE_BELOW = {"output_rules": {"files", "folders"}, "files": {"folders"}}


@functools.cache
def _imports(path: Path) -> tuple[tuple[str, list[str]], ...]:
    """Each ``from unetlab.x import a, b`` in the file, as ``("unetlab.x", ["a", "b"])``:
    parsed once a session, the collector paused while it parses (the sources' half million
    nodes set off full collections of all that the session holds), and only its statements
    read, nested ones too (an import is a statement, never part of an expression)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    finally:
        if enabled:
            gc.enable()
    return tuple(
        (node.module, [a.name for a in node.names])
        for node in _statements(tree.body)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("unetlab.")
    )


def _statements(body: list[ast.AST]):
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            yield from _statements(getattr(node, field, ()))


def _top(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def test_every_module_has_a_layer():
    tops = {_top(p) for p in SRC.rglob("*.py")} - {"__init__", "__main__"}
    assert tops <= set(LEVEL), f"modules without a layer: {sorted(tops - set(LEVEL))}"


def test_imports_flow_one_way_and_no_private_name_crosses_modules():
    wrong = []
    for path in SRC.rglob("*.py"):
        top = _top(path)
        if top in ("__init__", "__main__"):
            continue
        for module, names in _imports(path):
            dep = module.split(".")[1]
            if LEVEL[dep] > LEVEL[top]:
                wrong.append(f"{path.relative_to(SRC)} ({top}) imports {module}")
            wrong += [
                f"{path.relative_to(SRC)} imports the private {module}.{name}"
                for name in names
                if name.startswith("_") and not name.startswith("__")
            ]
    assert not wrong, "\n".join(wrong)


def test_inference_output_rules_sit_below_files_and_folders():
    wrong = [
        f"inference/{module}.py imports {imported}"
        for module, barred in INFERENCE_BELOW.items()
        for imported, _ in _imports(SRC / "inference" / f"{module}.py")
        if imported.removeprefix("unetlab.inference.") in barred
    ]
    assert not wrong, "\n".join(wrong)


def test_every_public_name_imports():
    for name in unetlab.__all__:
        assert getattr(unetlab, name) is not None, name


def test_the_package_loads_its_modules_on_first_use():
    """``import unetlab`` (each command's and each data-parallel worker's first line) loads
    no module until a name is used; an unknown name is an AttributeError. The name used is
    one whose module needs no torch (its import: 2.5 CPU s of the child's 2.6)."""
    code = (
        "import sys, unetlab; "
        "print(sorted(m for m in sys.modules if m.startswith('unetlab.'))); "
        "unetlab.UnetlabError; print('unetlab.errors' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True"]
    assert set(unetlab.__all__) <= set(dir(unetlab))
    with pytest.raises(AttributeError, match="no attribute 'fitt'"):
        unetlab.fitt  # noqa: B018


#: What the repository's root holds; anything else committed there is a run's leftovers.
ROOT_ENTRIES = {
    ".ci",
    ".gitignore",
    "README.md",
    "bench",
    "configs",
    "docs",
    "pyproject.toml",
    "src",
    "tests",
}


def test_the_repository_root_holds_no_run_s_outputs():
    """A prediction run from the clone's root once committed its s.tif and out/ (68e650c7)."""
    root = Path(__file__).resolve().parents[1]
    listed = subprocess.run(
        ["git", "ls-files"], cwd=root, capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip(f"not a git checkout: {listed.stderr.strip()}")
    entries = {line.split("/")[0] for line in listed.stdout.splitlines()}
    assert entries <= ROOT_ENTRIES, sorted(entries - ROOT_ENTRIES)
