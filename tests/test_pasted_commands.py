"""Commands printed for the user to paste back are shell-quoted: a run folder with a space or
accents (``Données élève 1``) stays one word (audit s35 workshop 1: the ``--minutes`` run's
repeat command broke on ``runs/isbi élève``)."""

import shlex

from unetlab.compare.table import _note
from unetlab.errors import command_spelling
from unetlab.provenance import shell_command
from unetlab.train.folds import folds_resume_command
from unetlab.train.repeat import clock_free_repeat, describe_repeat


def test_shell_command_keeps_each_word_whole(tmp_path):
    run = tmp_path / "Données élève 1" / "runs" / "isbi élève"
    assert shlex.split(shell_command("unetlab", "train", "--run-dir", run, "--epochs", 3)) == [
        "unetlab",
        "train",
        "--run-dir",
        str(run),
        "--epochs",
        "3",
    ]


def test_the_repeat_command_of_a_run_folder_with_a_space_pastes_back(tmp_path):
    run = tmp_path / "runs" / "isbi élève"
    repeat = clock_free_repeat(run, epochs=2, steps=19, per_epoch=12)
    words = shlex.split(repeat["command"])
    assert words == [
        *("unetlab", "train", "--config", str(run / "config.yaml"), "--split", str(run)),
        *("--minutes", "0", "--epochs", "2", "--run-dir", "NEW_RUN"),
    ]
    with command_spelling():  # the command line's line
        assert repeat["command"] in describe_repeat(repeat)


def test_the_folds_resume_command_pastes_back(tmp_path):
    words = shlex.split(folds_resume_command(tmp_path / "mes runs", 3))
    assert words[2:] == ["--run-dir", str(tmp_path / "mes runs"), "--folds", "3", "--resume"]


def test_compares_resume_note_pastes_back(tmp_path):
    class Record:
        status, resumable, path = "killed", True, tmp_path / "runs é" / "a b"

    note = _note({"run": "a b", "epochs": 3}, Record())
    command = note.split("go on with: ")[1]
    assert shlex.split(command)[2:] == ["--run-dir", str(Record.path), "--resume"]


def test_an_older_runs_split_line_quotes_its_config(tmp_path):
    from unetlab.cli.train import _unrecorded_split

    run = tmp_path / "a b"
    run.mkdir()
    (run / "config.yaml").write_text("data:\n  seed: 3\n  val_fraction: 0.25\n")
    assert f"unetlab train --config '{run / 'config.yaml'}' --data DATA" in _unrecorded_split(run)


def test_the_label_values_fix_pastes_back_as_one_word(tmp_path, capsys):
    """'for these masks --set data.label_values=[0, 255]' split in two words in a shell
    ('unrecognized arguments: 255]'), and zsh (macOS) reads [..] as a glob (audit s41
    audittrain): the printed --set is shell-quoted, and pasted back it passes the check."""
    import numpy as np

    from unetlab.cli import main
    from unetlab.data.io import write_png

    for i in range(4):
        mask = np.zeros((32, 32), np.uint8)
        mask[8:20, 10 + i : 24] = 255
        write_png(tmp_path / "images" / f"{i:02d}.png", np.full((32, 32), 9 * i, np.uint8))
        write_png(tmp_path / "masks" / f"{i:02d}.png", mask)
    args = ["train", "--data", str(tmp_path), "--check", "--set", "model.depth=2"]
    assert main([*args, "--set", "data.label_values=[0, 128]"]) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "error:" in x]
    fix = line.split("for these masks ", 1)[1].split("; ")[0]
    assert fix == "--set 'data.label_values=[0, 255]'"
    assert main([*args, *shlex.split(fix)]) == 0


def test_the_void_lines_label_values_fix_is_one_unglobbed_word():
    """void_line printed '--set data.label_values=[0,1,2,255]' bare: zsh reads the brackets
    as a glob ('no matches found'); shell-quoted, it pastes back as one word."""
    from unetlab.data.void import VoidBeside, void_line
    from unetlab.errors import command_spelling

    for named in (True, False):
        with command_spelling():  # the command line's form (Python's: cfg.data.label_values)
            line = void_line(VoidBeside(values=(0, 1, 2), share=0.05), named=named)
        assert "--set 'data.label_values=[0,1,2,255]'" in line
