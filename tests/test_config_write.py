"""``unetlab config --write``: a config file to start from, written by the command line
(s69 deploy walk: README sent users to Python's save_config or to copying
configs/small_cpu.yaml); it loads back as the config it was written from, and no existing
file is replaced without --overwrite."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.config import Config, load_config, save_config
from unetlab.errors import UnetlabError


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
        "unetlab config: error: mine.yaml exists: give another name, or add --overwrite to "
        "replace it"
    ]
    assert path.read_bytes() == edited
    assert main(["config", "--write", "mine.yaml", "--set", "train.epochs=5", "--overwrite"]) == 0
    assert load_config("mine.yaml").train.epochs == 5


def test_write_from_python_names_overwrite_as_python_does(tmp_path):
    from unetlab.config.starter import write_starter
    from unetlab.errors import OutputError

    path = write_starter(tmp_path / "mine.yaml", "paper")
    with pytest.raises(OutputError, match=r"exists: give another name, or pass overwrite=True to"):
        write_starter(path, "paper")


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "small_cpu"],
        ["--set", "train.epochs=5"],
        ["--write", "x.yaml", "train"],
        ["--write", "x.yaml", "--markdown"],
    ],
)
def test_write_flags_out_of_place_are_one_line(tmp_path, monkeypatch, capsys, args):
    monkeypatch.chdir(tmp_path)
    assert main(["config", *args]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "x.yaml").exists()


def _refused(capsys, *args: str) -> list[str]:
    """The lines on stderr of ``unetlab config ARGS``, which must exit 2."""
    capsys.readouterr()
    assert main(["config", *args]) == 2
    return capsys.readouterr().err.strip().splitlines()


def _run_file(folder, name: str):
    """A file of a training run in ``folder`` (its manifest says train wrote it)."""
    from unetlab.manifest import record

    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("the run's\n")
    record(folder, [name], command="train")
    return folder / name


@pytest.mark.parametrize("kind", ["image", "folder", "run's config", "run's best.pt"])
def test_what_overwrite_cannot_replace_is_refused_without_sending_to_overwrite(
    tmp_path, monkeypatch, capsys, kind
):
    """s69 review: the "exists: ... --overwrite" refusal came first, and --overwrite was
    then refused for another reason (a .png file, a folder, a run's file): the refusal that
    overwrite does not lift comes first, and names no --overwrite to pass."""
    monkeypatch.chdir(tmp_path)
    made = {
        "image": lambda: tmp_path / "img.png",
        "folder": lambda: tmp_path / "d",
        "run's config": lambda: _run_file(tmp_path / "runs" / "r", "config.yaml"),
        "run's best.pt": lambda: _run_file(tmp_path / "runs" / "r" / "checkpoints", "best.pt"),
    }
    path = made[kind]()
    if kind == "image":
        path.write_bytes(b"\x89PNG")
    elif kind == "folder":
        path.mkdir()
    before = path.read_bytes() if path.is_file() else None
    for overwrite in ([], ["--overwrite"]):
        err = _refused(capsys, "--write", str(path.relative_to(tmp_path)), *overwrite)
        assert len(err) == 1, err
        assert "exists" not in err[0] and "add --overwrite" not in err[0], err
    assert (path.read_bytes() if path.is_file() else None) == before


@pytest.mark.parametrize("name", [".unetlab-outputs", ".unetlab.lock"])
def test_a_folders_manifest_and_lock_are_never_replaced(tmp_path, monkeypatch, capsys, name):
    """s69 review: ``config --write .unetlab-outputs --overwrite`` wrote YAML over the
    folder's record of unetlab's files, the next outputs' lines appended under it; the lock
    is said as the lock (s69 re-review: it was given the manifest's sentence)."""
    said = {
        ".unetlab-outputs": "where unetlab keeps track of the files it writes",
        ".unetlab.lock": "the lock unetlab holds while it writes",
    }
    monkeypatch.chdir(tmp_path)
    assert main(["config", "--write", "mine.yaml"]) == 0
    before = (tmp_path / ".unetlab-outputs").read_bytes()
    for overwrite in ([], ["--overwrite"]):
        err = _refused(capsys, "--write", name, *overwrite)
        assert err == [
            f"unetlab config: error: {name} is {said[name]} in . and unetlab config never "
            "replaces it, overwrite or not: choose another name"
        ]
    assert (tmp_path / ".unetlab-outputs").read_bytes() == before
    assert not (tmp_path / ".unetlab.lock").exists()


def test_evaluate_json_never_replaces_a_folders_manifest(tmp_path, monkeypatch, capsys):
    """The same rule for every single-file output: evaluate --json .unetlab-outputs
    --overwrite replaced it too (older than config --write, s69 review)."""
    from unetlab.data.io import write_png

    monkeypatch.chdir(tmp_path)
    mask = np.zeros((8, 8), np.uint8)
    write_png(tmp_path / "pred" / "00.png", mask)
    write_png(tmp_path / "gt" / "00.png", mask)
    assert main(["config", "--write", "mine.yaml"]) == 0
    before = (tmp_path / ".unetlab-outputs").read_bytes()
    capsys.readouterr()
    args = ["evaluate", "--pred", "pred", "--gt", "gt", "--json", ".unetlab-outputs"]
    assert main([*args, "--overwrite"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "where unetlab keeps track of the files" in err[0], err
    assert (tmp_path / ".unetlab-outputs").read_bytes() == before


def test_one_string_of_overrides_is_one_override(tmp_path):
    """s69 review: write_starter(p, 'small_cpu', 'train.epochs=5') split the string into
    characters ("override 't' must look like section.key=value"); load_config takes one."""
    from unetlab.config.starter import write_starter

    path = write_starter(tmp_path / "mine.yaml", "small_cpu", "train.epochs=5")
    _same(path, "small_cpu", ["train.epochs=5"])
    assert "from configs/small_cpu.yaml --set train.epochs=5\n" in path.read_text()


def test_the_header_names_the_source_and_every_set(tmp_path, monkeypatch):
    """Pins the header (s69 review: a test of its start alone passed without the --set part)."""
    monkeypatch.chdir(tmp_path)
    sets = ["--set", "train.epochs=7", "--set", "train.lr=0.01"]
    assert main(["config", "--write", "mine.yaml", "--from", "paper", *sets]) == 0
    assert (tmp_path / "mine.yaml").read_text().splitlines()[:2] == [
        "# written by unetlab config --write from configs/paper.yaml --set train.epochs=7 "
        "--set train.lr=0.01",
        "# train with: unetlab train --data DIR --config mine.yaml",
    ]


def test_a_dangling_link_is_kept_unless_overwrite(tmp_path, monkeypatch, capsys):
    """Pins that a link to no file is an existing name too (s69 review: dropping the link
    test passed every test)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").symlink_to(tmp_path / "gone.yaml")
    err = _refused(capsys, "--write", "mine.yaml")
    assert err == [
        "unetlab config: error: mine.yaml exists: give another name, or add --overwrite to "
        "replace it"
    ]
    assert (tmp_path / "mine.yaml").is_symlink() and not (tmp_path / "gone.yaml").exists()


def test_overwrite_alone_is_one_line(tmp_path, monkeypatch, capsys):
    """Pins it (s69 review: without it, config --overwrite listed the keys, exit 0)."""
    monkeypatch.chdir(tmp_path)
    assert _refused(capsys, "--overwrite") == [
        "unetlab config: error: --from, --set and --overwrite go with --write PATH: add it"
    ]


@pytest.mark.parametrize("given", ["-", ""])
def test_write_to_stdout_or_no_name_is_one_line(tmp_path, monkeypatch, capsys, given):
    """s69 review: --write - made a file named "-" (--json - is standard output), and
    --write "" said ". exists"."""
    monkeypatch.chdir(tmp_path)
    err = _refused(capsys, "--write", given)
    assert len(err) == 1 and "a config is written to a file: give its name" in err[0], err
    assert list(tmp_path.iterdir()) == []


def test_a_from_that_is_no_config_file_names_from(tmp_path, monkeypatch, capsys):
    """s69 review: config --write b.yaml --from d (a folder) said "give --config a YAML
    file"; config has no --config."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe")
    for source in ("d", "bin.yaml"):
        err = _refused(capsys, "--write", "b.yaml", "--from", source)
        assert len(err) == 1 and "give --from a YAML file" in err[0], err
    assert not (tmp_path / "b.yaml").exists()


def test_the_helps_list_the_shipped_configs_there_are(tmp_path, monkeypatch, capsys):
    """s69 review: train's --config and config's --from helps each spelled the names out."""
    import unetlab.config_keys

    for name in ("alpha", "beta"):
        (tmp_path / f"{name}.yaml").write_text("train: {}\n")
    monkeypatch.setattr(unetlab.config_keys, "SHIPPED", tmp_path)
    helps = {"train": "shipped one by name: alpha, beta (", "config": "config (alpha, beta);"}
    for command, listed in helps.items():
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert listed in " ".join(capsys.readouterr().out.split())


def test_the_notes_that_open_the_source_are_kept(tmp_path, monkeypatch):
    """s69 review: the starter dropped the shipped config's notes (small_cpu's "Its classes
    are ISBI's ..."); those that open the file are kept, under the lines that name it."""
    monkeypatch.chdir(tmp_path)
    own = "# my lab's recipe\n#\n#  indented\ntrain:\n  lr: 0.1\n# lr's own note\n"
    (tmp_path / "own.yaml").write_text(own)
    assert main(["config", "--write", "mine.yaml", "--from", "own.yaml"]) == 0
    assert (tmp_path / "mine.yaml").read_text().splitlines()[2:6] == [
        "# own.yaml begins:",
        "#   my lab's recipe",
        "#   ",
        "#    indented",
    ]
    assert "lr's own note" not in (tmp_path / "mine.yaml").read_text()  # not an opening note
    _same("mine.yaml", "own.yaml", [])
    assert main(["config", "--write", "cpu.yaml", "--from", "small_cpu"]) == 0
    said = " ".join(line.lstrip("# ") for line in (tmp_path / "cpu.yaml").open())
    assert "Its classes are ISBI's (label_values, class_names, num_classes)" in said
    _same("cpu.yaml", "small_cpu", [])


def _header_lines(path) -> list[str]:
    """The comment lines that open the config file ``path``."""
    lines = path.read_text().splitlines()
    return lines[: next(i for i, line in enumerate(lines) if not line.startswith("#"))]


def test_a_starter_from_a_starter_carries_the_first_notes_once(tmp_path, monkeypatch):
    """s69 re-review: a -> b -> c stacked every earlier header in c.yaml ("train with: ...
    --config b.yaml", then a.yaml's, "keys commented out" three times), indented further each
    time; c's header names c and its source, then small_cpu's notes as b.yaml has them."""
    monkeypatch.chdir(tmp_path)
    steps = [
        ["a.yaml", "--from", "small_cpu", "--set", "train.epochs=40"],
        ["b.yaml", "--from", "a.yaml", "--set", "train.lr=0.01"],
        ["c.yaml", "--from", "b.yaml"],
    ]
    for step in steps:
        assert main(["config", "--write", *step]) == 0
    a, b, c = (_header_lines(tmp_path / name) for name in ("a.yaml", "b.yaml", "c.yaml"))
    assert c[:3] == [
        "# written by unetlab config --write from b.yaml",
        "# train with: unetlab train --data DIR --config c.yaml",
        "# configs/small_cpu.yaml begins:",
    ]
    assert a[2:] == b[2:] == c[2:]  # small_cpu's notes, then save_config's one note
    assert sum("keys commented out were not set" in line for line in c) == 1
    assert max(map(len, c)) <= 100
    _same("c.yaml", "small_cpu", ["train.epochs=40", "train.lr=0.01"])


def test_a_source_save_config_wrote_gives_its_header_not_its_note(tmp_path, monkeypatch):
    """save_config's line above the commented keys is no note of the file it opens."""
    from unetlab.config import save_config

    monkeypatch.chdir(tmp_path)
    save_config(load_config("paper"), tmp_path / "saved.yaml", header="my lab's net")
    assert main(["config", "--write", "mine.yaml", "--from", "saved.yaml"]) == 0
    assert _header_lines(tmp_path / "mine.yaml")[2:] == [
        "# saved.yaml begins:",
        "#   my lab's net",
        "# keys commented out were not set: their defaults, left to plan_training to choose",
    ]


def test_from_no_name_is_its_own_line(tmp_path, monkeypatch, capsys):
    """s69 re-review: --from '' was read as the folder "." (". is a folder, not a config
    file"); --write '' has its own line, and so has --from ''."""
    monkeypatch.chdir(tmp_path)
    err = _refused(capsys, "--write", "z.yaml", "--from", "")
    assert len(err) == 1 and "--from '' names no config: give a YAML file" in err[0], err
    assert "or none for unetlab's defaults" in err[0] and "is a folder" not in err[0]
    assert list(tmp_path.iterdir()) == []


def test_find_config_and_config_name_read_config_keys_shipped(tmp_path, monkeypatch):
    """s69 re-review: config.files bound SHIPPED a second time, so that a test patching
    config_keys.SHIPPED (as the helps' test does) left find_config and config_name on the
    configs shipped."""
    import unetlab.config_keys
    from unetlab.config.files import config_name, find_config

    (tmp_path / "alpha.yaml").write_text("train: {}\n")
    monkeypatch.setattr(unetlab.config_keys, "SHIPPED", tmp_path)
    assert find_config("alpha") == tmp_path / "alpha.yaml"
    assert config_name("alpha") == "configs/alpha.yaml"
    assert find_config("small_cpu") == Path("small_cpu")  # not shipped there


def test_the_comments_beside_the_keys_of_the_source_are_kept(tmp_path, monkeypatch):
    """s69 noticed: a starter kept its source's opening notes but dropped the comments beside
    its keys (small_cpu's tile_size: 128 "a step of 8 tiles ~0.3 s on 2 cores"); they are
    kept through a starter from a starter with other keys set, but that of a key set, which
    may speak of the value replaced; a '#' in a quoted value is no comment."""
    monkeypatch.chdir(tmp_path)
    steps = [
        ["a.yaml", "--from", "small_cpu", "--set", "train.patience=3"],
        ["b.yaml", "--from", "a.yaml", "--set", "train.lr=0.01"],
    ]
    for step in steps:
        assert main(["config", "--write", *step]) == 0
    text = (tmp_path / "b.yaml").read_text()
    assert "  tile_size: 128  # input = output for a same-padding net; a step of 8" in text
    assert "  label_values:  # ISBI masks: 0 = membrane, 255 = cell interior\n" in text
    assert "  optimizer: adamw  # converges in far fewer steps" in text
    assert "  patience: 3\n" in text and "  lr: 0.01\n" in text  # set: no note
    _same("b.yaml", "small_cpu", ["train.patience=3", "train.lr=0.01"])
    own = 'run:\n  name: "lab #3"  # see #12\ndata:\n  normalization:\n    mode: per_image  # x\n'
    (tmp_path / "own.yaml").write_text(own)
    assert main(["config", "--write", "c.yaml", "--from", "own.yaml"]) == 0
    text = (tmp_path / "c.yaml").read_text()
    assert "  name: 'lab #3'  # see #12\n" in text and "# x" not in text  # the first ' #'
    _same("c.yaml", "own.yaml", [])


def test_a_comment_beside_a_long_text_leaves_a_file_that_reads_back(tmp_path, monkeypatch):
    """s70 review: a comment kept beside a text long enough to be folded (YAML folds at 80
    columns) was written after its first line, cutting it from the rest: train --config said
    "not valid YAML: ... expected <block end>"; the text is written on one line."""
    monkeypatch.chdir(tmp_path)
    root = "/data/lab microscopy/2026 spring imaging campaign/nuclei stacks for segmentation"
    root += " training"
    name = "nuclei on 2 cores with the small net, tiles of 128, our third try with flips and"
    name += " turns"
    own = f"data:\n  root: {root}  # the NAS\nrun:\n  name: {name}  # see #12\n"
    (tmp_path / "own.yaml").write_text(own)
    assert main(["config", "--write", "out.yaml", "--from", "own.yaml"]) == 0
    _same("out.yaml", "own.yaml", [])
    text = (tmp_path / "out.yaml").read_text()
    assert f"  root: {root}  # the NAS\n" in text and f"  name: {name}  # see #12\n" in text


def test_a_comment_over_several_lines_is_kept_whole(tmp_path, monkeypatch):
    """s70 review: of a comment beside a key that goes on over the lines under it (paper's
    momentum, lr, class_names), only its first line was kept, cut off mid-sentence; the
    lines go on under the first, at its column, and read back the same through a starter
    of the starter. A key nested in a key set drops that key's comment too."""
    monkeypatch.chdir(tmp_path)
    assert main(["config", "--write", "a.yaml", "--from", "paper"]) == 0
    assert main(["config", "--write", "b.yaml", "--from", "a.yaml"]) == 0
    momentum = (
        '  momentum: 0.99  # "a high momentum (0.99) such that a large number of previously '
        "seen\n                  #  training samples determine the update in the current "
        'optimization step"\n  weight_decay: 0.0\n'
    )
    names = (
        "  class_names:  # the class named membrane (or background) is the\n"
        "                # background: the weight map's gaps lie in it, evaluate's boundary "
        "class\n    0: membrane\n"
    )
    for written in ("a.yaml", "b.yaml"):
        text = (tmp_path / written).read_text()
        assert momentum in text and names in text
        _same(written, "paper", [])
    normalised = ["data.normalization.mode=percentile"]
    assert main(["config", "--write", "c.yaml", "--from", "paper", "--set", *normalised]) == 0
    text = (tmp_path / "c.yaml").read_text()
    assert "  normalization:\n    mode: percentile\n" in text and "zero mean" not in text
    _same("c.yaml", "paper", normalised)


def test_save_config_notes_of_several_lines_or_of_no_key_set(tmp_path):
    """s70 review: save_config wrote a note holding a line break as it came (a file that does
    not read back) and dropped one of a misspelled key without a word: each line of a note
    is a comment; a note of a key not set, or with a character no YAML file holds, is
    refused."""
    cfg = load_config(None, ["train.lr=0.01"])
    notes = {"train.lr": "tried 0.1 first\nit diverged"}
    save_config(cfg, tmp_path / "a.yaml", notes=notes)
    text = (tmp_path / "a.yaml").read_text()
    assert "  lr: 0.01  # tried 0.1 first\n            # it diverged\n" in text
    assert load_config(tmp_path / "a.yaml").to_dict() == cfg.to_dict()
    for key in ("train.lrr", "train.epochs"):  # misspelled; not set (a comment)
        said = rf"notes name {key}, which is no key the config written sets: .* \(train.lr\)$"
        with pytest.raises(UnetlabError, match=said):
            save_config(cfg, tmp_path / "b.yaml", notes={key: "typo"})
    with pytest.raises(UnetlabError, match=r"train.lr holds the character '\\x00'"):
        save_config(cfg, tmp_path / "b.yaml", notes={"train.lr": "a\x00b"})
    assert not (tmp_path / "b.yaml").exists()
