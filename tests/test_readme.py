"""README.md cannot rot: every flag it names is one of a command's flags (of that command,
where it names the command), every config key it names is a key of ``unetlab config``, every
repository path it names exists and every ``from unetlab... import`` name resolves (audit s38:
a new user reads only the README)."""

import importlib
import re
from pathlib import Path

import pytest

from unetlab.cli import build_parser
from unetlab.config.reference import config_keys, sections
from unetlab.config.removed import REMOVED

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```[\w-]*\n(.*?)^```", re.S | re.M)
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
#: flags of other programs the README shows: torchrun's, bench scripts', pip's
#: (--diameter: cellpose's, which README translates to --scale)
OTHERS = {"--nnodes", "--nproc_per_node", "--rdzv", "--run", "--part", "--diameter"}
OTHERS |= {"--tile", "--pyramid", "--subifd"}  # libvips' tiffsave, for a pyramid of an input
OTHERS |= {"--dist"}  # pytest-xdist's, in the test command
#: flags the README shows typed wrong, beside the line unetlab answers ("Errors on the
#: command line": a config key as a flag, another command's flag)
SHOWN_WRONG = {"train --checkpoint", "train --lr", "predict --init-checkpoint", "evaluate --root"}
SHOWN_WRONG |= {"predict --name"}
OTHERS |= {"--lr", "--max-minutes", "--init-checkpoint", "--root", "--checkpoints"}
#: dotted words that look like config keys but are files or Python attributes
NOT_KEYS = {
    "model.border",
    "model.label_values",
    "model.onnx",
    "model.output_size",
    "model.pt",
    "model.receptive_field",
    "model.zip",
    "train.log",
}


def _options(parser) -> set[str]:
    return {s for action in parser._actions for s in action.option_strings}


def _spans() -> list[str]:
    """The README's inline code spans and its code blocks' lines (continuations joined)."""
    prose = FENCE.sub("", README)
    spans = re.findall(r"`([^`]+)`", prose)
    for block in FENCE.findall(README):
        spans += block.replace("\\\n", " ").splitlines()
    return spans


def test_every_flag_the_readme_names_exists():
    parser = build_parser()
    known = _options(parser).union(*map(_options, parser.commands.values())) | OTHERS
    missing = sorted(set(FLAG.findall(README)) - known)
    assert not missing, f"README names flags no command has: {missing}"


def test_a_commands_flags_are_that_commands():
    """``unetlab evaluate --pred ...`` and ``predict --instances`` in the README: the flags
    after a command's name are that command's (not another's)."""
    parser = build_parser()
    commands = {name: _options(p) | _options(parser) for name, p in parser.commands.items()}
    alternatives = "|".join(commands)
    start = re.compile(rf"(?:^|unetlab |-m unetlab )({alternatives}) ")
    wrong = set()
    for span in _spans():
        for match in start.finditer(span):
            rest = span[match.end() :].split("#")[0].split("unetlab ")[0]
            for flag in FLAG.findall(rest):
                if flag not in commands[match.group(1)]:
                    wrong.add(f"{match.group(1)} {flag}")
    wrong -= SHOWN_WRONG
    assert not wrong, f"README gives commands flags they do not have: {sorted(wrong)}"


def test_every_config_key_the_readme_names_exists():
    keys = {k.key for k in config_keys()}
    names = "|".join(name for name, _ in sections())
    found = set(re.findall(rf"(?<![\w./-])((?:{names})\.[a-z_][a-z0-9_]*)", README))
    unknown = sorted(found - keys - NOT_KEYS - set(REMOVED))
    assert not unknown, f"README names config keys unetlab config does not list: {unknown}"


def test_every_repository_path_the_readme_names_exists():
    paths = re.findall(r"(?<![\w/.])((?:configs|bench|docs|tests|src|\.ci)/[\w./-]*\w)", README)
    links = re.findall(r"\]\(([^)#:]+)\)", README)
    missing = sorted({p for p in paths + links if not (ROOT / p).exists()})
    assert not missing, f"README names files the repository lacks: {missing}"


@pytest.mark.parametrize(
    "module, names", re.findall(r"^from (unetlab[\w.]*) import ([\w, ]+)$", README, re.M)
)
def test_the_readmes_imports_resolve(module, names):
    found = importlib.import_module(module)
    missing = [n.strip() for n in names.split(",") if not hasattr(found, n.strip())]
    assert not missing, f"from {module} import {missing}: no such name"


def test_the_readmes_unetlab_names_resolve():
    """``unetlab.predict_tree``, ``unetlab.data.slides.open_slide``: modules and attributes."""
    metadata = {"unetlab.json", "unetlab.lock", "unetlab.prediction", "unetlab.scale"}
    missing = []
    for name in sorted(set(re.findall(r"\bunetlab(?:\.[A-Za-z_]\w*)+", README)) - metadata):
        parts = name.split(".")
        for i in range(len(parts), 0, -1):  # the longest importable prefix, then attributes
            try:
                found = importlib.import_module(".".join(parts[:i]))
                break
            except ImportError:
                continue
        for part in parts[i:]:
            found = getattr(found, part, None)
        if found is None:
            missing.append(name)
    assert not missing, f"README names what unetlab lacks: {missing}"


def test_the_readmes_command_blocks_parse():
    """Each ``unetlab ...`` line of README's bash blocks (after ``VAR=value`` and torchrun's
    ``-m unetlab``) is a command line the parser takes: its required flags, choices, values."""
    import shlex

    failed, parsed = [], 0
    for lang, block in re.findall(r"^```([\w-]*)\n(.*?)^```", README, re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines() if lang == "bash" else []:
            words = shlex.split(line, comments=True)
            if (
                "unetlab" not in words
                or words[0] not in ("unetlab", "torchrun")
                and "=" not in words[0]
            ):
                continue
            try:
                build_parser().parse_args(words[words.index("unetlab") + 1 :])
                parsed += 1
            except SystemExit:
                failed.append(line.strip())
    assert not failed, f"README's commands the parser refuses: {failed}"
    assert parsed >= 20  # the blocks were found (26 lines on 2026-12-03)


def test_the_extras_the_readme_installs_exist():
    """``pip install "unetlab[napari]"``, ``-e ".[test]"``: extras pyproject.toml declares."""
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    named = set(re.findall(r"(?:unetlab|\.)\[([\w-]+)\]", README))
    assert named and not named - set(extras["optional-dependencies"]), named


def test_every_command_the_readme_names_exists():
    """``unetlab check`` in the README named no command (audit s40: 'check' is not a
    command); words after ``unetlab `` that are not commands: Python's and metadata's."""
    commands = set(build_parser().commands)
    not_commands = {"import", "prediction", "commit"}  # from unetlab import; OME text; a comment
    found = {
        m.group(1)
        for span in _spans()
        for m in re.finditer(r"(?<![\w./-])unetlab ([a-z][a-z0-9_-]*)", span)
    }
    unknown = sorted(found - commands - not_commands)
    assert not unknown, f"README names commands unetlab lacks: {unknown}"


def test_the_napari_menus_the_readme_names_are_the_manifests():
    """README's napari line names the widget and the sample as napari's menus show them: the
    manifest's display names (audit s40: 'Synthetic EM image' for '... (unetlab)')."""
    import yaml

    manifest = ROOT / "src" / "unetlab" / "napari" / "napari.yaml"
    contributions = yaml.safe_load(manifest.read_text(encoding="utf-8"))["contributions"]
    (line,) = [s for s in _spans() if s.startswith("napari ") and "Open Sample" in s]
    for kind in ("widgets", "sample_data"):
        for item in contributions[kind]:
            assert item["display_name"] in line, (item["display_name"], line)


@pytest.mark.parametrize("command", ["predict", "evaluate", "export"])
def test_checkpoint_help_names_packages(command):
    """README: 'packages run here too' (predict), and evaluate and export load them alike;
    evaluate --help said '(.pt)' alone (audit s40)."""
    (action,) = [
        a for a in build_parser().commands[command]._actions if "--checkpoint" in a.option_strings
    ]
    assert "bioimage.io package" in action.help, action.help
