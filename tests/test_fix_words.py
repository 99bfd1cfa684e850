"""Each refusal of an output names the fix as its caller spells it (s60 words): compare's
fixed names are another folder (write_comparison's, or --out's), not "another name";
output_folder and predict_file say overwrite=True to Python and --overwrite to the command
line; predict_folder's root must be a folder."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from unetlab.data.io import atomic_path, write_png
from unetlab.errors import OutputError, UnetlabError, command_spelling
from unetlab.models import UNet


def _written(path) -> None:
    """``path`` written as the commands write (atomic_path confirms a claimed file)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(b"{}")


def test_compare_names_another_folder_as_its_caller_gives_it(tmp_path):
    """write_comparison refused a compare.csv it did not write with "give another name",
    which no caller can: its names are fixed (s59)."""
    from unetlab.compare import Comparison, write_comparison

    (tmp_path / "cmp").mkdir()
    (tmp_path / "cmp" / "compare.csv").write_text("mine\n")
    empty = Comparison([], [], [], [], "run")
    with pytest.raises(OutputError) as python:
        write_comparison(empty, tmp_path / "cmp")
    assert str(python.value) == (
        f"{tmp_path / 'cmp' / 'compare.csv'} exists and was not written by unetlab: give "
        "write_comparison another folder"
    )
    with pytest.raises(OutputError) as cli, command_spelling():
        write_comparison(empty, tmp_path / "cmp")
    assert str(cli.value).endswith("was not written by unetlab: give --out another folder")
    assert (tmp_path / "cmp" / "compare.csv").read_text() == "mine\n"


def test_another_commands_file_names_the_folder_too(tmp_path):
    """A compare.csv another command wrote: the same fix after who wrote it."""
    from unetlab.compare import Comparison, write_comparison
    from unetlab.outputs import claim_files

    (tmp_path / "cmp").mkdir()
    path = claim_files([tmp_path / "cmp" / "compare.csv"], command="bench")[0]
    _written(path)
    with pytest.raises(OutputError) as cli, command_spelling():
        write_comparison(Comparison([], [], [], [], "run"), tmp_path / "cmp")
    assert str(cli.value).endswith(
        "was written by unetlab bench, not by unetlab compare: give --out another folder"
    ), cli.value


def test_output_folder_names_overwrite_as_its_caller_spells_it(tmp_path):
    """output_folder's default fix was the command line's ("add --overwrite") from Python."""
    from unetlab.outputs import output_folder

    (tmp_path / "theirs.txt").write_text("mine")
    with pytest.raises(OutputError) as python, output_folder(tmp_path, ["r.png"]):
        pass
    assert str(python.value).endswith(
        "give an empty or new folder, or pass overwrite=True to write beside them (never over them)"
    ), python.value
    with pytest.raises(OutputError) as cli, command_spelling(), output_folder(tmp_path, ["r.png"]):
        pass
    assert "or add --overwrite to write beside them" in str(cli.value), cli.value


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "in" / "a.png"
    path.parent.mkdir()
    write_png(path, np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8))
    return path


def _model() -> UNet:
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, base_channels=4).eval()


def test_predict_file_names_overwrite_as_its_caller_spells_it(image, tmp_path):
    """predict_file's folder held its own named the fix with a literal "pass overwrite=True",
    to the command line too."""
    from unetlab.inference.files import predict_file

    out = tmp_path / "out"
    out.mkdir()
    (out / "theirs.txt").write_text("mine")
    with pytest.raises(OutputError) as python:
        predict_file(_model(), image, out)
    assert "or pass overwrite=True to write beside them" in str(python.value), python.value
    with pytest.raises(OutputError) as cli, command_spelling():
        predict_file(_model(), image, out)
    assert "or add --overwrite to write beside them" in str(cli.value), cli.value


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_predict_folder_refuses_a_root_that_is_no_folder(image, tmp_path, kind):
    """predict_folder(root=<missing folder>) was taken silently: the tables' paths were
    then by the path as given. One line before anything is written."""
    from unetlab.inference.folders import predict_folder

    root = tmp_path / "nowhere"
    if kind == "file":
        root = image
    with pytest.raises(UnetlabError) as refused:
        predict_folder(_model(), image.parent, tmp_path / "out", root=root, progress=False)
    what = "no such folder" if kind == "missing" else "a file, not a folder"
    assert str(refused.value) == (
        f"root {root}: {what}; give the folder the tables' paths are relative to, or leave root out"
    )
    assert not (tmp_path / "out").exists()


def _bench_output(out, name="a.png") -> None:
    """``out/name``, a file another unetlab command wrote and listed."""
    from unetlab.outputs import record

    out.mkdir()
    record(out, [name], command="bench")
    _written(out / name)


def test_predict_names_another_out_dir_not_another_name(image, tmp_path):
    """predict's output names are fixed (the input's): a refused one was told "give another
    name" (s60 review); another out_dir, as predict_folder's own lines say it."""
    from unetlab.inference.folders import predict_folder

    out = tmp_path / "out"
    _bench_output(out)
    with pytest.raises(OutputError) as refused:
        predict_folder(_model(), image.parent, out, progress=False)
    assert str(refused.value) == (
        f"{out / 'a.png'} was written by unetlab's bench, not by this call: give another "
        "out_dir, or pass overwrite=True to replace it"
    )


def test_predict_cli_names_another_output(image, tmp_path, capsys):
    from unetlab.checkpoint import save_model
    from unetlab.cli import main

    out = tmp_path / "out"
    _bench_output(out)
    saved = save_model(tmp_path / "best.pt", _model())
    argv = ["predict", "--checkpoint", str(saved), "--input", str(image), "--output", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert (
        "was written by unetlab bench, not by unetlab predict: give another --output, or add "
        "--overwrite to replace it"
    ) in err, err


@pytest.mark.parametrize("cli", [False, True])
def test_the_objects_summary_names_another_folder_not_another_name(tmp_path, cli):
    """objects_summary.csv's name is fixed: a refused one was told "give another name"
    (review s60); another out_dir / --output, as predict's other outputs say it."""
    from unetlab.inference.objects_summary import SUMMARY, claim_summary

    out = tmp_path / "out"
    _bench_output(out, SUMMARY)
    with contextlib.ExitStack() as stack:
        if cli:
            stack.enter_context(command_spelling())
        with pytest.raises(OutputError) as refused:
            claim_summary(out)
    said = str(refused.value)
    assert "give another name" not in said, said
    assert ("give another --output" if cli else "give another out_dir") in said, said
