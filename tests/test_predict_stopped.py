"""A prediction stopped by SIGTERM says how many inputs have their outputs and how to go
on, and records what made the outputs it wrote in predict.json (audit s30 ops 9)."""

from __future__ import annotations

import logging
import os
import signal
import time

import numpy as np
import pytest

import unetlab.inference.files as files
import unetlab.inference.folders as folders
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.data.split_record import file_sha256
from unetlab.inference.records import read_records
from unetlab.manifest import PENDING, recorded_keys
from unetlab.models import UNet
from unetlab.signals import Stopped


@pytest.fixture
def stopped_at(tmp_path, monkeypatch):
    """``(argv, out)`` of a predict command over ``n`` inputs (0.png, 1.png, ...) whose
    ``call``-th input is stopped by SIGTERM as it starts."""

    def make(n: int, call: int, signalled: bool = False) -> tuple[list[str], object]:
        save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
        for i in range(n):
            write_png(tmp_path / "in" / f"{i}.png", np.full((24, 24), 9 * i, np.uint8))
        real, calls = folders.predict_or_fail, []

        def stopped(*args, **kwargs):
            calls.append(1)
            if len(calls) == call and signalled:  # a real signal, as a scheduler's
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)
            if len(calls) == call:
                raise Stopped(signal.SIGTERM)
            return real(*args, **kwargs)

        monkeypatch.setattr(folders, "predict_or_fail", stopped)
        out = tmp_path / "out"
        argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
        return [*argv, "--output", str(out), "--device", "cpu"], out

    return make


def test_a_stopped_prediction_counts_its_outputs_and_names_the_fix(stopped_at, capsys):
    argv, out = stopped_at(4, 3)
    assert main(argv) == 143
    err = capsys.readouterr().err
    assert (
        f"unetlab predict: stopped by SIGTERM with the outputs of 2 of 4 inputs in {out}; "
        "continue with the same command and --skip-existing"
    ) in err
    assert err.count("stopped by SIGTERM") == 1


@pytest.mark.parametrize("recursive", [False, True], ids=["folder", "tree"])
@pytest.mark.parametrize("module", [folders, files], ids=["between_files", "in_a_file"])
def test_a_stopped_command_says_its_line_alone(
    tmp_path, monkeypatch, capsys, caplog, recursive, module
):
    """The command says its own stop line; predict_tree's, predict_folder's (a notebook's)
    and predict_file's are not said too (their logged line escaped ``err.count``: review of
    s62 user), a stop between two inputs or inside the writing of one (review of s63: only
    a folder's stop between inputs was tested)."""
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    for i in range(4):
        folder = tmp_path / "in" / ("ab"[i // 2] if recursive else "")
        write_png(folder / f"{i}.png", np.full((24, 24), 9 * i, np.uint8))
    name = "predict_or_fail" if module is folders else "_outputs"
    real, calls = getattr(module, name), []

    def stopped(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise Stopped(signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, stopped)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    argv += ["--output", str(tmp_path / "out"), "--device", "cpu", "--no-progress"]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--recursive"] if recursive else argv) == 143
    said = [r.getMessage() for r in caplog.records] + capsys.readouterr().err.splitlines()
    stops = [line for line in said if "stopped by SIGTERM" in line]
    assert len(stops) == 1 and stops[0].startswith("unetlab predict: "), stops


def test_a_stopped_prediction_records_what_made_its_outputs(stopped_at, tmp_path):
    argv, out = stopped_at(3, 2)
    assert main(argv) == 143
    records = read_records(out)
    made_by = recorded_keys(out, "predict")["0.png"].removeprefix(PENDING)
    assert list(records) == [made_by]  # the key 0.png's manifest line and file carry
    assert records[made_by]["checkpoint"] == str(tmp_path / "m.pt")
    assert records[made_by]["sha256"] == file_sha256(tmp_path / "m.pt")
    assert (out / "0.png").is_file() and not (out / "1.png").exists()


def test_a_prediction_stopped_before_its_first_output_records_nothing(stopped_at):
    # its record named settings that made no file (review s30 finding 9)
    argv, out = stopped_at(3, 1)
    assert main(argv) == 143
    assert read_records(out) == {} and not (out / "predict.json").exists()


def test_a_record_that_cannot_be_written_leaves_the_stop_as_it_is(stopped_at, monkeypatch):
    import unetlab.inference.output_rules as output_rules

    def disk_full(folder, record, chosen=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output_rules, "save_record", disk_full)
    argv, _ = stopped_at(3, 2)
    assert main(argv) == 143  # stopped by SIGTERM, not an error (2)


def test_a_full_disk_stops_as_a_signal_does_with_the_count_and_the_record(
    stopped_at, monkeypatch, capsys
):
    """A folder's predict that filled the disk stopped without the count, the command that
    goes on, or predict.json (audit s36 chaos 1)."""
    import errno

    from unetlab.atomic import write_error

    argv, out = stopped_at(4, 0)  # no SIGTERM; the 3rd input's write fills the disk
    real, calls = folders.predict_or_fail, []

    def full(model, path, out_dir, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise write_error(out_dir / path.name, OSError(errno.ENOSPC, "No space left"))
        return real(model, path, out_dir, *args, **kwargs)

    monkeypatch.setattr(folders, "predict_or_fail", full)
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()[-2:]
    assert lines[0].startswith("unetlab predict: error: ") and "No space left" in lines[0]
    assert lines[1] == (
        f"unetlab predict: stopped with the outputs of 2 of 4 inputs in {out}; continue with "
        "the same command and --skip-existing once there is space"
    )
    assert len(read_records(out)) == 1 and (out / "1.png").is_file()


def test_a_rerun_stopped_before_its_outputs_does_not_count_the_earlier_ones(
    stopped_at, tmp_path, capsys
):
    """A rerun with another model, stopped before it replaced an input's outputs, said
    'with the outputs of 1 of 1 inputs': the earlier model's, which --skip-existing, as
    the line says to continue, predicts again."""
    argv, out = stopped_at(1, 2)  # the first run: its one input predicted
    assert main(argv) == 0
    save_model(tmp_path / "m2.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    rerun = [a if a != str(tmp_path / "m.pt") else str(tmp_path / "m2.pt") for a in argv]
    assert main([*rerun, "--overwrite"]) == 143  # stopped as its one input starts
    assert (out / "0.png").is_file()  # the earlier outputs are kept
    assert f"stopped by SIGTERM with the outputs of 0 of 1 inputs in {out}" in (
        capsys.readouterr().err
    )


def test_a_stopped_instances_run_says_a_large_image_starts_again(tmp_path, capsys):
    """Slides audit s46: SIGTERM during a streamed --instances prediction said "continue
    with the same command and --skip-existing", which read like a resume; the rerun
    restarted the slide at row 0 (its probabilities were not staged)."""
    from types import SimpleNamespace

    from unetlab.cli.predict import _say_done
    from unetlab.errors import command_spelling

    (tmp_path / ".slide.tif.ids.partial").mkdir()
    lines = []
    for instances, staged in [(True, False), (False, False), (True, True)]:
        args = SimpleNamespace(
            instances=instances, save_probabilities=staged, skip_existing=False, output=tmp_path
        )
        with command_spelling():  # as the command says it: its flags' names
            _say_done(args, _none_done, "stopped", KeyboardInterrupt(), folder=tmp_path)
        lines.append(capsys.readouterr().err)
    assert "starts again at its first row" in lines[0]
    assert "--save-probabilities keeps its rows" in lines[0]
    assert not any("starts again" in line for line in lines[1:])


def _none_done() -> str:
    return "with the outputs of 0 of 1 inputs"


def test_the_stop_line_looks_for_staged_ids_in_the_stopped_folder_only(
    tmp_path, capsys, monkeypatch
):
    """Review s47 apinodata 4: the check for a staged large image walked the whole output
    tree (an OME-Zarr output's chunk folders and all, another folder's stale staging taken
    for this run's). It lists the stopped folder's outputs folder alone; a --recursive
    run's is the sub-folder it stopped in."""
    import os
    from pathlib import Path
    from types import SimpleNamespace

    from unetlab.cli.predict import _say_done
    from unetlab.inference.tree import TreeStop

    out = tmp_path / "out"
    (out / "bob" / ".b_objects.tif.ids.partial").mkdir(parents=True)  # another folder's
    (out / "a.ome.zarr" / "0" / "0").mkdir(parents=True)
    args = SimpleNamespace(instances=True, save_probabilities=False, skip_existing=True, output=out)
    listed, scandir = [], os.scandir

    def counted(path="."):
        listed.append(Path(path))
        return scandir(path)

    def said(folder: Path) -> str:
        _say_done(args, _none_done, "stopped", KeyboardInterrupt(), folder=folder)
        return capsys.readouterr().err

    monkeypatch.setattr(os, "scandir", counted)
    line = said(out)
    monkeypatch.undo()
    assert "starts again" not in line and listed == [out]
    stop = TreeStop(tmp_path / "in", out, [(Path("alice"), []), (Path("bob"), [])], at=1)
    assert stop.outputs_folder() == out / "bob"
    assert "starts again at its first row" in said(stop.outputs_folder())


def test_a_rerun_stopped_before_it_held_the_folder_counts_none_of_its_outputs(
    stopped_at, tmp_path, monkeypatch, capsys
):
    """A rerun with another model stopped before it held the output folder counted the
    earlier model's outputs there as its own ('with the outputs of 1 of 1 inputs', s56):
    its process, which did not hold the folder, says none was predicted; the hold of an
    earlier call of main that stopped there is not its own."""
    argv, out = stopped_at(1, 2)  # the first run: its one input predicted
    assert main(argv) == 0
    save_model(tmp_path / "m2.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    rerun = [a if a != str(tmp_path / "m.pt") else str(tmp_path / "m2.pt") for a in argv]
    assert main([*rerun, "--overwrite"]) == 143  # stopped in the folder it held
    assert "with the outputs of 0 of 1 inputs" in capsys.readouterr().err
    monkeypatch.setattr(folders, "shared_outputs", _stop)  # before the folder is held
    assert main([*rerun, "--overwrite"]) == 143
    assert (out / "0.png").is_file()  # the earlier outputs are kept
    assert "unetlab predict: stopped by SIGTERM before any input was predicted; continue" in (
        capsys.readouterr().err
    )


def _stop(*args, **kwargs):
    raise Stopped(signal.SIGTERM)


def test_a_tree_stopped_before_it_held_a_folder_counts_none_of_its_outputs(
    tmp_path, monkeypatch, capsys
):
    """The tree's line of a rerun with another model stopped in bob/ before it held its
    output folder counted the earlier model's outputs there as this run's (s56); where a
    run held it and stopped, then a later one in the same process stopped before holding
    it, the first's hold is not the second's."""
    import unetlab.inference.tree as tree

    for i, name in enumerate(("alice", "bob")):
        write_png(tmp_path / "in" / name / f"{i}.png", np.full((24, 24), 9 * i, np.uint8))
    for model, channels in (("m.pt", 4), ("m2.pt", 2)):
        net = UNet(1, 2, depth=2, base_channels=channels, padding="same")
        save_model(tmp_path / model, net)
    argv = ["predict", "--recursive", "--input", str(tmp_path / "in"), "--device", "cpu"]
    argv += ["--output", str(tmp_path / "out"), "--checkpoint"]
    assert main([*argv, str(tmp_path / "m.pt")]) == 0
    rerun, real = [*argv, str(tmp_path / "m2.pt"), "--overwrite"], folders.predict_or_fail
    monkeypatch.setattr(folders, "predict_or_fail", _in_bob(_stop, real, 1))  # bob/ held
    assert main(rerun) == 143
    bob = f"stopped by SIGTERM in {tmp_path / 'in' / 'bob'}/ (folder 2 of 2)"
    assert f"{bob} with the outputs of 0 of 1 inputs in " in capsys.readouterr().err
    monkeypatch.setattr(tree, "absent_channel", _in_bob(_stop, tree.absent_channel))
    assert main(rerun) == 143  # bob/ not held
    assert f"{bob} before any of its inputs was predicted; done: alice/; not started: none" in (
        capsys.readouterr().err
    )
    assert (tmp_path / "out" / "bob" / "1.png").is_file()  # the earlier outputs are kept


def _in_bob(stop, real, at: int = 0):
    """``real``, but ``stop`` where its argument ``at`` (a path, or a list of them) is in a
    folder called bob."""

    def called(*args, **kwargs):
        path = args[at][0] if isinstance(args[at], list) else args[at]
        return (stop if path.parent.name == "bob" else real)(*args, **kwargs)

    return called


def test_a_stop_signalled_again_as_it_counts_its_outputs_still_says_them(
    stopped_at, monkeypatch, capsys
):
    """A launcher passes the signal on to its processes, so a scheduler's SIGTERM to every
    process reached the main one twice, the second as it counted its outputs: its line was
    "stopped by SIGTERM" alone (s56 CI, test_launch_signals)."""
    import unetlab.cli.predict as predict

    real = predict._inputs_done

    def signalled_again(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(predict, "_inputs_done", signalled_again)
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "launched")  # a process torchrun started
    argv, out = stopped_at(4, 3, signalled=True)
    assert main(argv) == 143
    err = capsys.readouterr().err
    assert f"stopped by SIGTERM with the outputs of 2 of 4 inputs in {out}; " in err, err
    assert err.count("stopped by SIGTERM") == 1


def test_a_call_releases_its_holds_as_it_ends(tmp_path, monkeypatch):
    """A long-lived process (a notebook predicting 10,000 folders) kept a record for every
    output folder it had held (output_rules._RUN_HELD), and a later call's stop could see
    an earlier one's hold (s57): each released as its call ends. A tree's stop, asked where
    it is after predict_tree ended, still counts by the hold its run had."""
    from unetlab import predict_folder, predict_tree
    from unetlab.inference.output_rules import held_here
    from unetlab.inference.records import OutputOptions

    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    for i, name in enumerate(("alice", "bob")):
        write_png(tmp_path / "in" / name / f"{i}.png", np.full((24, 24), 9 * i, np.uint8))
    for name in ("alice", "bob"):
        predict_folder(model, tmp_path / "in" / name, tmp_path / "one" / name, progress=False)
        assert (tmp_path / "one" / name).is_dir() and not held_here(tmp_path / "one" / name)
    monkeypatch.setattr(folders, "predict_or_fail", _in_bob(_stop, folders.predict_or_fail, 1))
    with pytest.raises(Stopped) as stopped:
        predict_tree(model, tmp_path / "in", tmp_path / "tree", progress=False)
    assert not held_here(tmp_path / "tree" / "bob")
    where = stopped.value.tree_stop.where(OutputOptions().wanted)
    assert where.startswith(f"in {tmp_path / 'in' / 'bob'}/ (folder 2 of 2) with the outputs of 0")
