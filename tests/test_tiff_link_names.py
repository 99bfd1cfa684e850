"""What is said of a TIFF's header names the path given, a link as given, not its target:
tifffile's file handle resolves a link, and its name was the warning's (s63)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.models import UNet


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_a_linked_tiffs_resolution_line_names_the_link(tmp_path, caplog):
    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    (tmp_path / "store").mkdir(), (tmp_path / "in").mkdir()
    target = tmp_path / "store" / "blob_17.tif"
    tifffile.imwrite(target, np.zeros((24, 24), np.uint8), resolution=(3, 3), resolutionunit=1)
    try:
        os.symlink(target, tmp_path / "in" / "link.tif")
    except OSError:
        pytest.skip("no symbolic links here")
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu"]
    argv += ["--input", str(tmp_path / "in" / "link.tif"), "--output", str(tmp_path / "o")]
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--no-progress"]) == 0
    said = [r.getMessage() for r in caplog.records if "no unit" in r.getMessage()]
    assert said and said[0].startswith("link.tif: its resolution tags have no unit"), said
    assert "blob_17" not in caplog.text


def _links_or_skip(target, link):
    try:
        os.symlink(target, link)
    except OSError:
        pytest.skip("no symbolic links here")


def test_a_link_retargeted_during_predict_is_recorded_as_it_was_read(tmp_path, monkeypatch):
    """``latest.tif`` names run1.tif at the command's first look and run2.tif when it is
    predicted: predict.json names run2.tif, whose pixels its outputs are (s63: the path
    resolved once a command named run1.tif there)."""
    import unetlab.inference.folders as folders

    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    (tmp_path / "in").mkdir(), (tmp_path / "store").mkdir()
    tifffile.imwrite(tmp_path / "store" / "run1.tif", np.zeros((24, 24), np.uint8))
    tifffile.imwrite(tmp_path / "store" / "run2.tif", np.full((40, 32), 200, np.uint8))
    tifffile.imwrite(tmp_path / "in" / "a.tif", np.zeros((24, 24), np.uint8))
    latest = tmp_path / "in" / "latest.tif"
    _links_or_skip(tmp_path / "store" / "run1.tif", latest)
    predicted = folders.predict_or_fail

    def retargeted(model, path, *args, **kwargs):  # the acquisition's next run, meanwhile
        if path.name == "a.tif":
            latest.unlink()
            os.symlink(tmp_path / "store" / "run2.tif", latest)
        return predicted(model, path, *args, **kwargs)

    monkeypatch.setattr(folders, "predict_or_fail", retargeted)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu", "--no-progress"]
    assert main([*argv, "--input", str(tmp_path / "in"), "--output", str(tmp_path / "o")]) == 0
    assert tifffile.imread(tmp_path / "store" / "run2.tif").shape == (40, 32)  # kept as it was
    record = (tmp_path / "o" / "predict.json").read_text()
    assert "run2.tif" in record and "run1.tif" not in record, record


def _retargeting(tmp_path, monkeypatch) -> tuple[list[str], object]:
    """``in/latest.tif`` a link to store/run1.tif beside in/a.tif (run1's pixels 0, run2's
    200); returns the predict command into ``o`` and a function that has the next predict
    retarget the link to store/run2.tif as it reaches a.tif (before latest.tif)."""
    import unetlab.inference.folders as folders

    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    (tmp_path / "in").mkdir(), (tmp_path / "store").mkdir()
    for name, value in (("run1", 0), ("run2", 200), ("../in/a", 0)):
        tifffile.imwrite(tmp_path / "store" / f"{name}.tif", np.full((24, 24), value, np.uint8))
    latest = tmp_path / "in" / "latest.tif"
    _links_or_skip(tmp_path / "store" / "run1.tif", latest)
    predicted = folders.predict_or_fail

    def retargeted(model, path, *args, **kwargs):  # the acquisition's next run, meanwhile
        if path.name == "a.tif" and "run1" in os.readlink(latest):
            latest.unlink()
            os.symlink(tmp_path / "store" / "run2.tif", latest)
        return predicted(model, path, *args, **kwargs)

    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--device", "cpu", "--no-progress"]
    argv += ["--input", str(tmp_path / "in"), "--output", str(tmp_path / "o")]
    return argv, lambda: monkeypatch.setattr(folders, "predict_or_fail", retargeted)


def _listed(folder) -> list[str]:
    """The inputs the manifest of ``folder`` names for latest.png, line by line."""
    lines = (folder / ".unetlab-outputs").read_text().splitlines()
    return [line.split("\t")[2] for line in lines if line.startswith("latest.png\t")]


def test_a_link_retargeted_during_predict_is_listed_as_it_was_read(tmp_path, monkeypatch, caplog):
    """The manifest names the input of ``latest.png`` as the prediction read it, run2.tif,
    not as the claim found it (s64: run1.tif; the same command again, --skip-existing or
    not, was refused: 'o/latest.png is the output for run1.tif, and run2.tif would replace
    it'), so the same command again keeps it (--skip-existing) as run2.tif's."""
    argv, retarget = _retargeting(tmp_path, monkeypatch)
    retarget()
    assert main(argv) == 0
    assert _listed(tmp_path / "o")[-1] == str(tmp_path / "store" / "run2.tif")
    made = (tmp_path / "o" / "latest.png").read_bytes()
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--skip-existing"]) == 0
    assert (tmp_path / "o" / "latest.png").read_bytes() == made
    assert "skipped 2" in caplog.text or "2 skipped" in caplog.text, caplog.text


def test_a_link_retargeted_during_predict_again_is_listed_as_it_was_read(
    tmp_path, monkeypatch, capsys
):
    """Predicted again with the same model and settings (its lines there already: the claim
    adds none), the link retargeted meanwhile: latest.png is listed as run2.tif's (s64: only
    a line the claim had just added was, so run1.tif's stayed: the same command again was
    refused, and with the link pointed back --skip-existing kept run2's output as run1's: now
    refused, naming run2.tif, unless --overwrite)."""
    argv, retarget = _retargeting(tmp_path, monkeypatch)
    assert main(argv) == 0
    retarget()
    assert main(argv) == 0
    assert _listed(tmp_path / "o")[-1] == str(tmp_path / "store" / "run2.tif")
    assert main(argv) == 0  # the same command again, the link as it is now
    latest, output = tmp_path / "in" / "latest.tif", tmp_path / "o" / "latest.png"
    latest.unlink()
    os.symlink(tmp_path / "store" / "run1.tif", latest)
    made = output.stat().st_mtime_ns  # run2's
    capsys.readouterr()
    assert main([*argv, "--skip-existing"]) == 2  # not kept as run1's: refused, run2's named
    said = capsys.readouterr().err
    assert "latest.png is unetlab predict's output for " in said and "run2.tif, and " in said
    assert output.stat().st_mtime_ns == made
    assert main([*argv, "--skip-existing", "--overwrite"]) == 0  # predicted again from run1
    assert _listed(tmp_path / "o")[-1] == str(tmp_path / "store" / "run1.tif")


def test_a_link_retargeted_after_its_prediction_is_listed_as_it_was_read(tmp_path, monkeypatch):
    """``latest.tif`` retargeted to run2.tif once its prediction (of run1.tif) is done, before
    its outputs are listed: latest.png stays listed as run1.tif's, whose pixels it holds, and
    --skip-existing (the link at run2.tif now) refuses it, naming run1.tif (s64: the link
    resolved after the prediction: run1's output listed as run2's, with run2's stamp, and
    --skip-existing kept it silently)."""
    import unetlab.inference.folders as folders

    argv, _ = _retargeting(tmp_path, monkeypatch)
    latest, predicted = tmp_path / "in" / "latest.tif", folders.predict_or_fail

    def retargeted(model, path, *args, **kwargs):  # the next acquisition lands meanwhile
        written = predicted(model, path, *args, **kwargs)
        if path.name == "latest.tif" and "run1" in os.readlink(latest):
            latest.unlink()
            os.symlink(tmp_path / "store" / "run2.tif", latest)
        return written

    for again in (False, True):  # predicted before with the link at run1: the claim adds none
        if again:
            latest.unlink()
            os.symlink(tmp_path / "store" / "run1.tif", latest)
        monkeypatch.setattr(folders, "predict_or_fail", retargeted)
        assert main(argv) == 0
        monkeypatch.undo()
        assert _listed(tmp_path / "o")[-1] == str(tmp_path / "store" / "run1.tif")
    made = (tmp_path / "o" / "latest.png").stat().st_mtime_ns  # run1's
    assert main([*argv, "--skip-existing"]) == 2  # run2.tif's would replace run1.tif's: said
    assert (tmp_path / "o" / "latest.png").stat().st_mtime_ns == made
    assert _listed(tmp_path / "o")[-1] == str(tmp_path / "store" / "run1.tif")


def test_a_stop_within_relisting_a_retargeted_link_leaves_its_output_listed(tmp_path, monkeypatch):
    """A Ctrl-C right after the first manifest write that lists latest.png as run2.tif's
    leaves it listed, so --skip-existing (the stop line's advice) keeps it (s64: its claim's
    line was dropped first, run2.tif's added next: stopped between, the output was no line's,
    and --skip-existing refused the folder as holding files unetlab did not write)."""
    import unetlab.inference.folders as folders
    import unetlab.manifest as manifest

    argv, retarget = _retargeting(tmp_path, monkeypatch)
    retarget()
    relisting, stopped = [False], [False]
    listed_as_read = folders.listed_as_read

    def relisted(*args, **kwargs):
        relisting[0] = True
        try:
            return listed_as_read(*args, **kwargs)
        finally:
            relisting[0] = False

    def stopping(write):
        def written(*args, **kwargs):
            done = write(*args, **kwargs)
            if relisting[0] and not stopped[0]:  # the Ctrl-C, after this write
                stopped[0] = True
                raise KeyboardInterrupt
            return done

        return written

    monkeypatch.setattr(folders, "listed_as_read", relisted)
    for name in ("_write_lines", "record"):
        monkeypatch.setattr(manifest, name, stopping(getattr(manifest, name)))
    assert main(argv) == 130 and stopped[0]  # stopped: a Ctrl-C's status
    monkeypatch.undo()
    made = (tmp_path / "o" / "latest.png").read_bytes()
    assert main([*argv, "--skip-existing"]) == 0
    assert (tmp_path / "o" / "latest.png").read_bytes() == made


def test_a_path_through_a_linked_folder_and_dots_is_its_own(tmp_path, monkeypatch):
    """``in/sub/../x`` is ``far/x`` where ``in/sub`` links to ``far/deep``: kept apart from
    ``in/x`` once a command (s63: ``os.path.abspath`` made them one key, and named in/x)."""
    from unetlab.data.folder_notes import is_zarr
    from unetlab.data.tiff_files import HEADERS, real_path

    (tmp_path / "in").mkdir(), (tmp_path / "far" / "deep").mkdir(parents=True)
    (tmp_path / "in" / "x").write_bytes(b"")
    (tmp_path / "far" / "x").mkdir()
    (tmp_path / "far" / "x" / ".zgroup").write_text('{"zarr_format": 2}')
    _links_or_skip(tmp_path / "far" / "deep", tmp_path / "in" / "sub")
    monkeypatch.chdir(tmp_path)
    with HEADERS.kept():
        assert real_path("in/x") == str(tmp_path / "in" / "x") and not is_zarr("in/x")
        assert real_path("in/sub/../x") == str(tmp_path / "far" / "x")
        assert is_zarr("in/sub/../x")


def test_measure_and_the_napari_reader_name_a_linked_tiff_as_given(tmp_path, caplog):
    """measure_objects and the napari reader's frame interval opened the file themselves,
    so a warning of its header named the link's target (s63 review)."""
    from unetlab.inference.measure import measure_objects
    from unetlab.napari.reader import frame_interval

    target, link = tmp_path / "blob_17.tif", tmp_path / "link_objects.tif"
    timing = {"axes": "TYX", "finterval": 2.0, "tunit": "fortnight"}
    tifffile.imwrite(target, np.zeros((3, 8, 8), np.uint8), imagej=True, metadata=timing)
    _links_or_skip(target, link)
    with caplog.at_level(logging.WARNING):
        assert frame_interval(link) is None  # no t_s: an unknown unit, said
        assert measure_objects(link)["t"].tolist() == []  # no objects
    said = [m for m in caplog.messages if "fortnight" in m]
    assert len(said) == 2 and all(m.startswith("link_objects.tif: ") for m in said), said


def test_an_objects_tables_planes_name_a_linked_tiff_as_given(tmp_path, caplog):
    """stack_planes (the objects summary's T and Z of a stack of ids) opened the file itself:
    its pixel size's warning named the link's target (s63 review)."""
    from unetlab.inference.objects_summary import stack_planes

    target, link = tmp_path / "blob_17.tif", tmp_path / "link_objects.tif"
    far = dict(resolution=(1e-6, 1e-6), metadata={"axes": "ZYX", "unit": "um"})
    tifffile.imwrite(target, np.zeros((3, 8, 8), np.uint8), imagej=True, **far)  # 1 m px
    _links_or_skip(target, link)
    with caplog.at_level(logging.WARNING):
        assert [p["z"] for p in stack_planes(link)] == [0, 1, 2]
    said = [m for m in caplog.messages if "outside what microscopes" in m]
    assert len(said) == 1 and said[0].startswith("link_objects.tif: "), said


def _another_process(tmp_path: Path, claimed: dict):
    """A run of a process but the main one of a group, as far as it lists outputs, whose
    claim listed ``claimed``, into ``tmp_path / "o"``."""
    import types

    import unetlab.inference.folders as folders

    run = folders._Run.__new__(folders._Run)
    run.group, run.out_dir = types.SimpleNamespace(is_main=False, rank=1), tmp_path / "o"
    run.claimed = claimed
    return run


def _store(tmp_path: Path, *names: str) -> dict[str, str]:
    """``store/<name>.tif`` each, 8 x 8, and ``o/``: name -> its path."""
    (tmp_path / "store").mkdir(), (tmp_path / "o").mkdir()
    for name in names:
        tifffile.imwrite(tmp_path / "store" / f"{name}.tif", np.zeros((8, 8), np.uint8))
    return {name: str(tmp_path / "store" / f"{name}.tif") for name in names}


def _input_stamp_listed(folder: Path, name: str) -> str:
    """The input stamp of the latest manifest line of ``name``."""
    text = (folder / ".unetlab-outputs").read_text()
    return [line.split("\t") for line in text.splitlines() if line.startswith(name + "\t")][-1][4]


def test_a_process_but_the_main_one_hands_its_retargeted_outputs_to_it(tmp_path, monkeypatch):
    """In a group (--nproc), a process but the main one that wrote latest.png from run2.tif
    where the claim listed run1.tif leaves the manifest alone (the main one holds the folder)
    and hands the output over, listed by the main one with run2.tif's stamp as latest.png was
    written (s64: each process rewrote the manifest itself, without the folder's lock; s65
    review: each hand-over re-stamped all, so run2.tif changed later was taken as read)."""
    import unetlab.inference.folders as folders
    from unetlab.manifest import input_stamp, made_from, record, take_relisted

    store = _store(tmp_path, "run1", "run2", "run3")
    latest, o = tmp_path / "latest.tif", tmp_path / "o"
    _links_or_skip(Path(store["run2"]), latest)
    claimed = {"latest.png": store["run1"], "other.png": store["run1"]}
    record(o, list(claimed), command="predict", sources=claimed)
    run, written = _another_process(tmp_path, claimed), []
    monkeypatch.setattr(folders, "listed_as_read", lambda *args: written.append(args))
    run._listed_as_read(str(latest.resolve()), [o / "latest.png"])
    assert made_from(o, "predict")["latest.png"] == store["run1"] and not written
    at_write = input_stamp(store["run2"])
    tifffile.imwrite(store["run2"], np.ones((16, 16), np.uint8))  # changed afterwards
    run._listed_as_read(store["run3"], [o / "other.png"])  # the next file: another hand
    take_relisted(o)  # by the main one, at the run's end
    assert made_from(o, "predict") == {"latest.png": store["run2"], "other.png": store["run3"]}
    assert _input_stamp_listed(o, "latest.png") == at_write != input_stamp(store["run2"])
    assert not list(o.glob(".unetlab-outputs.relisted.*"))
    run.group.is_main = True  # the main one lists it at once
    run._listed_as_read(str(latest.resolve()), [o / "latest.png"])
    assert written == [(o, {"latest.png": store["run2"]})]


def test_a_handed_relisting_amends_only_the_claim_it_was_made_against(tmp_path):
    """A hand-over left by a stopped group is taken by the next run's claim only where the
    output's latest line is still the stopped run's claim: a later run's line naming another
    input is its own (s65 review: relisted whatever the latest line named)."""
    from unetlab.manifest import made_from, record, take_relisted

    store = _store(tmp_path, "run1", "run2", "run3")
    o, claimed = tmp_path / "o", {"latest.png": store["run1"]}
    record(o, list(claimed), command="predict", sources=claimed)
    _another_process(tmp_path, claimed)._listed_as_read(store["run2"], [o / "latest.png"])
    record(o, ["latest.png"], command="predict", sources={"latest.png": store["run3"]})
    take_relisted(o)
    assert made_from(o, "predict")["latest.png"] == store["run3"]


def test_a_stopped_group_keeps_the_outputs_another_process_read_retargeted(tmp_path, monkeypatch):
    """A process but the main one of ``--nproc 2`` wrote latest.png from run2.tif where the
    claim listed run1.tif, and the run was stopped before its processes' outcomes were
    gathered: what it relisted was handed over in its own file, so --skip-existing (the stop
    line's advice) keeps latest.png, listed as run2.tif's (s64: held in the process until the
    gather, lost with it; the next run refused latest.png, naming run1.tif)."""
    import types

    import unetlab.inference.folders as folders

    argv, retarget = _retargeting(tmp_path, monkeypatch)
    retarget()
    listed_as_read = folders._Run._listed_as_read

    def by_another_process(run, source, written):  # rank 1 wrote it; then a Ctrl-C
        main_group, run.group = run.group, types.SimpleNamespace(is_main=False, rank=1)
        try:
            listed_as_read(run, source, written)
        finally:
            run.group = main_group
        if any(p.name == "latest.png" for p in written):
            raise KeyboardInterrupt

    monkeypatch.setattr(folders._Run, "_listed_as_read", by_another_process)
    assert main(argv) == 130  # stopped before the gather
    monkeypatch.undo()
    made = (tmp_path / "o" / "latest.png").read_bytes()
    assert main([*argv, "--skip-existing"]) == 0
    assert (tmp_path / "o" / "latest.png").read_bytes() == made
    assert _listed(tmp_path / "o")[-1] == str(tmp_path / "store" / "run2.tif")
    assert not list((tmp_path / "o").glob(".unetlab-outputs.*"))  # taken into the manifest


@pytest.mark.parametrize("cut, b_from", [(9, "run1"), (1, "run3")])
def test_a_hand_over_cut_short_by_a_kill_keeps_its_whole_lines(tmp_path, cut, b_from):
    """A process killed while appending a hand-over line: the lines before it are listed,
    the cut one left out (its output listed as the claim listed it), no refusal; one whole
    but for its newline is listed."""
    from unetlab.manifest import made_from, record, take_relisted

    store = _store(tmp_path, "run1", "run2", "run3")
    o = tmp_path / "o"
    claimed = {"a.png": store["run1"], "b.png": store["run1"]}
    record(o, list(claimed), command="predict", sources=claimed)
    run = _another_process(tmp_path, claimed)
    run._listed_as_read(store["run2"], [o / "a.png"])
    run._listed_as_read(store["run3"], [o / "b.png"])
    handed = o / ".unetlab-outputs.relisted.1"
    handed.write_bytes(handed.read_bytes()[:-cut])  # the kill, in the second line
    take_relisted(o)
    assert made_from(o, "predict") == {"a.png": store["run2"], "b.png": store[b_from]}
    assert not handed.exists()


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "a.png", "source": "x.tif"}\n',
        "[1, 2]\n",
        "a line of text\n",  # s66 review: "cannot be read", no line named
        '{"name": "a.png", "source": "x.tif"}',  # s66 review: taken for one cut short
        "[1, 2]",
    ],
)
def test_a_hand_over_line_unetlab_did_not_write_is_refused_in_one_line(tmp_path, text):
    """A ``.unetlab-outputs.relisted.N`` whose line is no hand-over (a file unetlab did not
    write), its last line without a newline too where it is whole JSON, is refused naming
    the file, the line and the fix, and left there with the manifest as it was (s66: a bare
    KeyError, or TypeError)."""
    from unetlab.errors import OutputError
    from unetlab.manifest import made_from, record, take_relisted

    store = _store(tmp_path, "run1")
    o = tmp_path / "o"
    record(o, ["a.png"], command="predict", sources={"a.png": store["run1"]})
    handed = o / ".unetlab-outputs.relisted.1"
    handed.write_text(text, encoding="utf-8")
    with pytest.raises(OutputError, match=r"relisted\.1: line 1 is not one unetlab hands over"):
        take_relisted(o)
    assert handed.exists() and made_from(o, "predict") == {"a.png": store["run1"]}


def test_the_hand_overs_of_several_processes_are_listed_in_one_rewrite(tmp_path, monkeypatch):
    """s67: take_relisted rewrote the manifest once per hand-over file (a process each),
    where one rewrite lists them all; each listed, the files removed."""
    import unetlab.manifest as manifest
    from unetlab.manifest import hand_relisted, made_from, record, take_relisted

    store = _store(tmp_path, "run1", "run2", "run3")
    o = tmp_path / "o"
    claimed = {"a.png": store["run1"], "b.png": store["run1"]}
    record(o, list(claimed), command="predict", sources=claimed)
    hand_relisted(o, {"a.png": (store["run1"], store["run2"])}, "predict", 1)
    hand_relisted(o, {"b.png": (store["run1"], store["run3"])}, "predict", 2)
    writes = []
    own = manifest._write_lines
    monkeypatch.setattr(manifest, "_write_lines", lambda *a: (writes.append(1), own(*a)))
    take_relisted(o)
    assert made_from(o, "predict") == {"a.png": store["run2"], "b.png": store["run3"]}
    assert len(writes) == 1 and not list(o.glob(manifest.HANDED + "*"))
