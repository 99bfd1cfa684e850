"""``unetlab predict --recursive`` (``predict_tree``): a drop folder of one sub-folder per
user, its outputs mirrored under --output; names two users share are no clash, an output
folder inside the tree is not read back (audit s36 batch 6)."""

from __future__ import annotations

import csv
import json
import logging
import re

import numpy as np
import pytest

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.data.read_notes import read_notes
from unetlab.errors import OutputError, UnetlabError, command_spelling
from unetlab.inference.folders import find_inputs
from unetlab.inference.tree import predict_tree, tree_folders

NAMES = ("alice/img_00.png", "alice/img_01.png", "bob/img_00.png", "bob/deep/other.png")


@pytest.fixture
def drop(tmp_path):
    rng = np.random.default_rng(0)
    for name in NAMES:
        write_png(tmp_path / "drop" / name, rng.integers(0, 255, (24, 28), dtype=np.uint8))
    save_model(tmp_path / "model.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _predict(drop, *flags):
    inputs = ["--input", str(drop / "drop"), "--output", str(drop / "out")]
    return main(["predict", "--checkpoint", str(drop / "model.pt"), *inputs, *flags])


def test_recursive_mirrors_the_tree_with_a_summary_and_record_per_folder(drop, capsys):
    assert _predict(drop, "--recursive", "--instances") == 0
    out = drop / "out"
    for name in NAMES:  # bob's img_00.png is no clash with alice's
        assert (out / name).is_file(), name
        assert (out / name.replace(".png", "_objects.csv")).is_file()
    for folder in ("alice", "bob", "bob/deep"):
        record = json.loads((out / folder / "predict.json").read_text())
        assert record
    with open(out / "alice" / "objects_summary.csv", newline="") as f:
        assert [r["image"] for r in csv.DictReader(f)] == ["img_00.png", "img_01.png"]
    assert not list((drop / "drop").rglob("*_objects.csv"))  # nothing in the input tree


def test_each_folder_of_a_tree_gets_its_summary_one_of_one_image_too(drop):
    """bob/deep holds one image: it got no objects_summary.csv (s42), so nightly tables
    stacked across folders missed it; now every folder with objects tables has one, while
    predict_folder of one image still writes none unless summary=True."""
    assert _predict(drop, "--recursive", "--instances") == 0
    with open(drop / "out" / "bob" / "deep" / "objects_summary.csv", newline="") as f:
        (row,) = csv.DictReader(f)
    assert (row["image"], row["path"], row["status"]) == ("other.png", "bob/deep/other.png", "done")
    from unetlab.inference.folders import predict_folder

    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    one = drop / "drop" / "bob" / "deep"
    predict_folder(model, one, drop / "flat", objects=True)
    assert not (drop / "flat" / "objects_summary.csv").exists()
    predict_folder(model, one, drop / "flat2", objects=True, summary=True)
    assert (drop / "flat2" / "objects_summary.csv").is_file()
    with pytest.raises(UnetlabError, match="summary sums each image's objects: add objects="):
        predict_folder(model, one, drop / "flat3", summary=True)


def test_recursive_skip_existing_predicts_only_what_is_new(drop, caplog):
    assert _predict(drop, "--recursive", "--instances") == 0
    write_png(drop / "drop" / "carol" / "img_00.png", np.zeros((24, 28), np.uint8))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _predict(drop, "--recursive", "--instances", "--skip-existing") == 0
    assert "0 written, 2 skipped" in caplog.text and "1 written, 0 skipped" in caplog.text
    assert (drop / "out" / "carol" / "img_00_objects.csv").is_file()
    with open(drop / "out" / "alice" / "objects_summary.csv", newline="") as f:
        assert {r["status"] for r in csv.DictReader(f)} == {"skipped-existing"}


def test_an_output_folder_inside_the_tree_is_not_read_back(drop):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    out = drop / "drop" / "results"
    predict_tree(model, drop / "drop", out)
    assert (out / "bob" / "deep" / "other.png").is_file()
    folders = [str(rel) for rel, _ in tree_folders(drop / "drop", drop / "elsewhere")]
    assert folders == ["alice", "bob", "bob/deep"]  # results/ is unetlab's outputs: passed over
    with pytest.raises(OutputError, match="is the inputs' folder"):
        predict_tree(model, drop / "drop", drop / "drop")


def test_recursive_refuses_files_and_an_empty_tree(drop, capsys):
    (drop / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(UnetlabError, match="no images found in .*empty or its sub-folders"):
        predict_tree(UNet(1, 2, depth=2, base_channels=2), drop / "empty", drop / "o")
    file = str(drop / "drop" / "alice" / "img_00.png")
    args = ["predict", "--checkpoint", str(drop / "model.pt"), "--input", file]
    assert main([*args, "--output", str(drop / "o"), "--recursive"]) == 2
    assert "--recursive takes one folder as --input" in capsys.readouterr().err


def test_the_folder_and_glob_lines_name_recursive(drop, capsys):
    with read_notes(), pytest.raises(UnetlabError, match="use predict_tree to .* same sub-fold"):
        find_inputs(drop / "drop")  # Python's way (s56: "add --recursive (Python: ...)")
    assert _predict(drop) == 2
    err = capsys.readouterr().err
    assert "recursively; add --recursive to predict them with" in err
    assert "predict_tree" not in err
    from unetlab.inference.folders import predict_folder

    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    result = predict_folder(model, str(drop / "drop" / "**" / "*"), drop / "flat")
    clash = result.failed[drop / "drop" / "alice" / "img_00.png"]
    assert re.search("would write the same outputs: .*or --recursive", clash)
    assert sorted(p.name for p in result.written) == ["img_01.png", "other.png"]  # the others
    assert result.failed[drop / "drop" / "bob" / "img_00.png"] == clash


def test_summaries_stack_by_column_with_each_inputs_relative_path(drop, tmp_path, caplog):
    """Two users' summaries (audit s36 batch 5): the same header whatever each folder holds
    (a calibrated TIFF in one, PNGs in the other), and a path column that tells alice's
    img_00.png from bob's. The tables' units said in one line a call, of all its folders'
    tables (counting3 s53: one a folder from Python, one a kind of folder on the CLI)."""
    import tifffile

    image = np.random.default_rng(1).integers(0, 255, (24, 28), dtype=np.uint8)
    meta = dict(imagej=True, resolution=(2.0, 2.0), metadata={"unit": "um"})
    tifffile.imwrite(drop / "drop" / "alice" / "cal.tif", image, **meta)
    write_png(drop / "drop" / "bob" / "img_01.png", image)  # a summary needs 2 images
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_tree(model, drop / "drop", drop / "out", objects=True)
        (units,) = _units(caplog)  # one line, not one of alice's tables and one of bob's
        caplog.clear()
        predict_tree(model, drop / "drop" / "bob", drop / "again", objects=True)
        assert len(_units(caplog)) == 1  # each call its line (bob/, bob/deep/: one)
    assert "_um in µm" in units  # alice's calibrated TIFF's
    tables = {}
    for folder in ("alice", "bob"):
        with open(drop / "out" / folder / "objects_summary.csv", newline="") as f:
            tables[folder] = list(csv.DictReader(f))
    assert list(tables["alice"][0]) == list(tables["bob"][0])
    assert {"total_area_um2", "focus_vs_median", "page", "t"} <= set(tables["bob"][0])
    paths = [r["path"] for rows in tables.values() for r in rows]
    assert paths[:3] == ["alice/cal.tif", "alice/img_00.png", "alice/img_01.png"]
    assert paths[3:] == ["bob/img_00.png", "bob/img_01.png"]


def test_objects_tables_end_with_the_inputs_relative_path(drop):
    """The per-object tables of alice's and bob's img_00.png, merged, stay apart (audit s36
    batch 5), a streamed image's too."""
    import tifffile

    image = np.random.default_rng(2).integers(0, 255, (40, 40), dtype=np.uint8)
    tifffile.imwrite(drop / "drop" / "bob" / "big.tif", image)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    predict_tree(model, drop / "drop", drop / "out", objects=True, large_threshold=1000)
    for name in ("alice/img_00", "bob/img_00", "bob/big"):
        with open(drop / "out" / f"{name}_objects.csv", newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
        assert reader.fieldnames[-2:] == ["image", "path"], name
        assert {r["path"] for r in rows} <= {name + (".tif" if "big" in name else ".png")}


def test_a_refused_folder_fails_alone_and_the_others_go_on(drop, capsys, caplog):
    (drop / "out" / "alice").mkdir(parents=True)
    (drop / "out" / "alice" / "notes.txt").write_text("a user's file")
    # the run went through and one folder failed: SOME_FAILED
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _predict(drop, "--recursive") == 3
    err = capsys.readouterr().err
    assert "failed: " in err and "alice/: " in err and "unetlab did not write (notes.txt)" in err
    assert (drop / "out" / "bob" / "img_00.png").is_file()
    assert (drop / "out" / "bob" / "deep" / "other.png").is_file()
    assert not (drop / "out" / "alice" / "img_00.png").exists()
    out = drop / "out"
    # the tree's own line after the folders' (before: the folders' lines alone)
    said = "predict --recursive: 2 folders done, 1 failed; 2 written, 0 skipped, 0 failed in "
    assert caplog.messages[-1].startswith(said) and caplog.messages[-1].endswith(f" -> {out}")


def test_a_tree_whose_every_folder_is_refused_could_not_start(drop, caplog):
    for folder in ("alice", "bob", "bob/deep"):
        (drop / "out" / folder).mkdir(parents=True, exist_ok=True)
        (drop / "out" / folder / "notes.txt").write_text("a user's file")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _predict(drop, "--recursive") == 2  # as a folder in use: none could start (was 3)
    assert "predict --recursive: 0 folders done, 3 failed; 0 written" in caplog.text


def test_a_tree_whose_every_folder_is_in_use_exits_75(drop):
    """Every folder held by another unetlab process (another night's tree on the same
    --output): busy, not broken, as a single folder in use (was 2)."""
    from contextlib import ExitStack

    from unetlab.outputs import FolderLock

    with ExitStack() as held:
        for folder in ("alice", "bob", "bob/deep"):
            (drop / "out" / folder).mkdir(parents=True, exist_ok=True)
            held.enter_context(FolderLock(drop / "out" / folder))
        assert _predict(drop, "--recursive") == 75


@pytest.fixture
def stop_at(drop, monkeypatch):
    """Make the ``call``-th input of the tree (alice's 2, bob's, bob/deep's) raise ``exc``."""
    import unetlab.inference.folders as folders

    def make(call: int, exc: BaseException) -> None:
        real, calls = folders.predict_or_fail, []

        def stopped(*args, **kwargs):
            calls.append(1)
            if len(calls) == call:
                raise exc
            return real(*args, **kwargs)

        monkeypatch.setattr(folders, "predict_or_fail", stopped)

    return make


def test_a_stopped_tree_says_where_in_the_tree_and_goes_on(
    drop, stop_at, monkeypatch, capsys, caplog
):
    """A stop said nothing but 'unetlab predict: stopped by SIGTERM' (s37): now which
    folders are done, the one it stopped in with its count, and the command that goes on."""
    import signal

    from unetlab.signals import Stopped

    stop_at(4, Stopped(signal.SIGTERM))  # bob/deep's one input
    assert _predict(drop, "--recursive") == 143
    err = capsys.readouterr().err
    assert err.count("stopped by SIGTERM") == 1
    assert (
        f"unetlab predict: stopped by SIGTERM in {drop / 'drop' / 'bob' / 'deep'}/ (folder 3 of "
        f"3) with the outputs of 0 of 1 inputs in {drop / 'out' / 'bob' / 'deep'}; done: "
        "alice/, bob/; not started: none; continue with the same command and --skip-existing"
    ) in err
    monkeypatch.undo()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _predict(drop, "--recursive", "--skip-existing") == 0
    assert "3 folders done, 0 failed; 1 written, 3 skipped" in caplog.text


def test_a_full_disk_stops_the_tree_once(drop, stop_at, capsys):
    """A full disk failed each remaining folder with the same error, one by one (s37)."""
    import errno

    from unetlab.atomic import write_error

    full = write_error(drop / "out" / "bob" / "img_00.png", OSError(errno.ENOSPC, "No space"))
    stop_at(3, full)  # bob's input
    assert _predict(drop, "--recursive") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert sum("No space" in line for line in lines) == 1 and "error: " in lines[-2]
    assert lines[-1] == (
        f"unetlab predict: stopped in {drop / 'drop' / 'bob'}/ (folder 2 of 3) with the outputs "
        f"of 0 of 1 inputs in {drop / 'out' / 'bob'}; done: alice/; not started: bob/deep/; "
        "continue with the same command and --skip-existing once there is space"
    )
    assert not (drop / "out" / "bob" / "deep").exists()


def test_a_data_set_in_the_tree_gives_its_images_alone(drop, caplog):
    """The tree predicted a data set's masks/ as images into OUT/ds/masks/ (s37); its test/
    beside images/ and masks/ (the user's test images) was passed over as masks, said as
    'masks are no inputs' (s38); a folder of no part of the data set (weightmap's weights/)
    is passed over saying so."""
    image = np.zeros((24, 28), np.uint8)
    for name in ("ds/images/a.png", "ds/masks/a.png", "ds/test/c.png", "ds/weights/a.png"):
        write_png(drop / "drop" / name, image)
    for name in ("voc/JPEGImages/b.png", "voc/SegmentationClass/b.png"):
        write_png(drop / "drop" / name, image)
    write_png(drop / "drop" / "voc/SegmentationObject/b.png", image)
    with caplog.at_level(logging.INFO, logger="unetlab"), command_spelling():
        folders = [str(rel) for rel, _ in tree_folders(drop / "drop", drop / "out")]
    assert folders == ["alice", "bob", "bob/deep", "ds/images", "ds/test", "voc/JPEGImages"]
    said = (
        "ds/ holds a data set: only its images/, test/ predicted (masks/ passed over: masks are "
        "no inputs; weights/ passed over: not its images "
    )
    assert said + "(give it as --input))" in caplog.text  # as the command line runs
    voc = "voc/ holds a data set: only its JPEGImages/ predicted (SegmentationClass/, "
    assert voc + "SegmentationObject/ passed over: masks are no inputs)" in caplog.text
    caplog.clear()  # predict_tree in a notebook (s53: it was told --input)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        tree_folders(drop / "drop", drop / "out")
    assert said + "(give it to predict_folder))" in caplog.text


def test_recursive_with_two_processes_says_each_line_once(drop, caplog):
    """--recursive with --nproc 2 was untested (s37): each folder's files shared out, the
    tree's lines said once, by the main process. The inputs whose objects tables are in
    pixels only said once for the tree, the other process's too: alice/img_01.png alone,
    the second process's file (the others placed in metres by a world file), was said by
    none (s55). Two ranks of threads in this process, their collectives meeting at a
    barrier (a real launch took 28 s beside other work: two processes that each load
    torch); the main rank's lines are counted. The other's are below WARNING, which the
    command line's other process does not log (predict sets the package logger, one for
    the process, to WARNING there: not a rank's own level, so here it logs at INFO). A
    real --nproc 2 launch: test_slides.py::test_two_gloo_processes_predict_like_one."""
    import threading

    from tests.test_folders_group_seconds import two_ranks
    from tests.test_gis_placed import UTM_WKT1, WORLD
    from unetlab import load_model

    for name in ("alice/img_00.png", "bob/img_00.png", "bob/deep/other.png"):  # the main's
        (drop / "drop" / name).with_suffix(".pgw").write_text(WORLD)
        (drop / "drop" / name).with_suffix(".prj").write_text(UTM_WKT1)
    net, results, ranks = load_model(drop / "model.pt"), [None, None], set()
    net.register_forward_pre_hook(lambda *_: ranks.add(threading.current_thread().name))

    def rank(group):
        run = dict(objects=True, group=group, progress=False)
        results[group.rank] = predict_tree(net, drop / "drop", drop / "out", **run)

    with caplog.at_level(logging.INFO, logger="unetlab"):
        two_ranks(rank)
    assert ranks == {"rank0", "rank1"}  # each folder's files shared out
    for name in NAMES:
        assert (drop / "out" / name).is_file(), name
    assert len(results[0]) == 3  # the tree's 3 folders, each predicted
    first = drop / "drop" / "alice" / "img_01.png"  # as given, as the tree's lines name it
    unplaced = f"1 of 4 inputs record no usable pixel size (first: {first}): their "
    said = [r for r in caplog.records if unplaced in r.getMessage() and r.threadName == "rank0"]
    assert len(said) == 1, caplog.messages  # the main's
    # the other's: none at WARNING or above (said in a real launch: a line twice); its INFO
    # lines (the tree's line once, as the main says it) are not logged there
    other = [(r.levelname, r.getMessage()) for r in caplog.records if r.threadName == "rank1"]
    assert all(level not in ("WARNING", "ERROR", "CRITICAL") for level, _ in other), other
    assert [line for _, line in other if unplaced in line] == [said[0].getMessage()], other


def test_a_linked_folder_is_searched_once_and_a_loop_ends(drop):
    """``drop/carol -> elsewhere/carol``: searched as a folder (it was passed over without a
    word: audit s37 paths); a link back up the tree (``bob/up -> ..``) is not followed."""
    write_png(drop / "elsewhere" / "carol" / "c.png", np.zeros((24, 28), np.uint8))
    (drop / "drop" / "carol").symlink_to(drop / "elsewhere" / "carol")
    (drop / "drop" / "bob" / "up").symlink_to(drop / "drop")
    found = {
        str(rel): [f.name for f in files]
        for rel, files in tree_folders(drop / "drop", drop / "out")
    }
    assert found == {
        "alice": ["img_00.png", "img_01.png"],
        "bob": ["img_00.png"],
        "bob/deep": ["other.png"],
        "carol": ["c.png"],
    }


def test_an_output_folder_that_would_put_outputs_among_the_inputs_is_refused(drop, capsys):
    """``--input out/data --recursive --output out``: ``out/data/bob/``'s outputs would go
    to ``out/bob``, but ``out/data/data/``'s to ``out/data``, among the inputs: refused before
    anything is written (it wrote a manifest there, and the tree was then 'no images found')."""
    out, tree = drop / "drop", drop / "drop" / "data"
    write_png(tree / "a.png", np.zeros((24, 28), np.uint8))
    write_png(tree / "data" / "a.png", np.ones((24, 28), np.uint8))
    argv = ["predict", "--checkpoint", str(drop / "model.pt"), "--recursive", "--overwrite"]
    assert main([*argv, "--input", str(tree), "--output", str(out)]) == 2
    assert "would go to" in capsys.readouterr().err
    assert sorted(p.name for p in tree.rglob("*")) == ["a.png", "a.png", "data"]
    assert not (out / "a.png").exists()
    out.joinpath("x").mkdir()  # an output folder beside the tree, or in it: as before
    assert tree_folders(tree, out / "x") and tree_folders(tree, tree / "out")


def test_a_folder_holding_earlier_outputs_is_still_searched(drop, capsys, caplog):
    """Audit s37 paths C: ``--input drop/alice --output drop --overwrite`` put labels and a
    manifest among the user's files in drop/; the tree then passed over drop/ whole, its
    sub-folders too: 'no images found in drop or its sub-folders'. The labels are passed
    over, named in a line; drop/'s own image and sub-folders are predicted."""
    argv = ["predict", "--checkpoint", str(drop / "model.pt")]
    tree = drop / "drop"
    write_png(tree / "mine.png", np.zeros((24, 28), np.uint8))
    assert main([*argv, "--input", str(tree / "alice"), "--output", str(tree), "--overwrite"]) == 0
    assert (tree / "img_00.png").is_file()  # alice's labels, among the user's files
    with caplog.at_level(logging.INFO, logger="unetlab"):
        found = {str(rel): [f.name for f in files] for rel, files in tree_folders(tree, drop / "o")}
    assert found == {
        ".": ["mine.png"],
        "alice": ["img_00.png", "img_01.png"],
        "bob": ["img_00.png"],
        "bob/deep": ["other.png"],
    }
    assert f"are not inputs: passed over in {tree.as_posix()}/ (2)" in caplog.text
    # without --recursive: the same files read, the labels passed over in a line
    assert [f.name for f in find_inputs(tree)] == ["mine.png"]
    assert f"{tree}/: 2 files there are outputs unetlab wrote (img_00.png" in caplog.text


def test_a_tree_of_earlier_outputs_alone_says_so(drop, capsys):
    """Not 'no images found' alone: the folder's images are all outputs unetlab wrote."""
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    predict_tree(model, drop / "drop", drop / "res")
    with pytest.raises(UnetlabError, match="no images found") as err:
        tree_folders(drop / "res", drop / "o")
    assert "are not inputs: passed over in" in str(err.value) and "res/alice/ (2)" in str(err.value)
    with pytest.raises(UnetlabError, match=r"no images found in .*res/alice$"):
        find_inputs(drop / "res" / "alice")
    assert [f.name for f in find_inputs(drop / "res" / "alice" / "img_00.png")] == ["img_00.png"]


def test_a_manifest_that_is_no_text_is_one_line(drop):
    """Reading an input folder's manifest (the previous commits) met a .unetlab-outputs of
    other bytes with a traceback (UnicodeDecodeError); its images are inputs, and a folder
    written into says which file is wrong."""
    from unetlab.manifest import writers_of

    (drop / "drop" / "alice" / ".unetlab-outputs").write_bytes(b"\xff\xfe\x00garbage")
    assert [f.name for f in find_inputs(drop / "drop" / "alice")] == ["img_00.png", "img_01.png"]
    with pytest.raises(OutputError, match=r"not a unetlab manifest \(not UTF-8 text\)"):
        writers_of(drop / "drop" / "alice")


def test_a_data_set_s_folder_predict_wrote_into_is_named_as_its_outputs(drop, caplog):
    """``predict --input ds --recursive --output ds/pred`` run again: ds/pred/ was passed over
    as 'not its images (give it as --input)', where --input ds/pred refuses its files as
    outputs unetlab wrote (s38 review: the test/ split's line beside earlier outputs)."""
    image = np.zeros((24, 28), np.uint8)
    for name in ("ds/images/a.png", "ds/masks/a.png", "ds/notes/n.png"):
        write_png(drop / "drop" / name, image)
    ds = drop / "drop" / "ds"
    flags = ["--input", str(ds), "--output", str(ds / "pred"), "--recursive"]
    assert main(["predict", "--checkpoint", str(drop / "model.pt"), *flags]) == 0
    assert (ds / "pred" / "images" / "a.png").is_file()
    with caplog.at_level(logging.INFO, logger="unetlab"), command_spelling():
        folders = [str(rel) for rel, _ in tree_folders(drop / "drop", drop / "out")]
    assert "ds/images" in folders and not any(f.startswith("ds/pred") for f in folders)
    assert (
        "only its images/ predicted (masks/ passed over: masks are no inputs; pred/ passed "
        "over: outputs unetlab wrote (.unetlab-outputs); notes/ passed over: not its images "
        "(give it as --input))"
    ) in caplog.text


def test_a_folder_s_name_comes_before_its_files_lines(drop, caplog):
    """Each folder's name line ('drop/carol:') came after its files' warnings (a stack that
    records no axes), which then read as the previous folder's: it comes first."""
    import tifffile

    stack = np.random.default_rng(1).integers(0, 255, (4, 24, 28), dtype=np.uint8)
    (drop / "drop" / "carol").mkdir()
    tifffile.imwrite(drop / "drop" / "carol" / "s.tif", stack, photometric="minisblack")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert _predict(drop, "--recursive") == 0
    said = caplog.messages
    stack = drop / "drop" / "carol" / "s.tif"  # by its path as given, as a tree names its files
    warned = next(i for i, m in enumerate(said) if m.startswith(f"{stack}: 4 pages and no axis"))
    names = [i for i, m in enumerate(said) if m.endswith(":") and m.startswith(str(drop))]
    assert len(names) == 4  # alice, bob, bob/deep, carol
    assert said[max(i for i in names if i < warned)] == f"{drop / 'drop' / 'carol'}:", said


def _units(caplog) -> list[str]:
    return [m for m in caplog.messages if m.startswith("objects tables' units: ")]


def test_no_pixel_size_said_once_a_tree_counting_all_its_folders(drop, caplog):
    """The line that inputs record no pixel size was said once a folder (alice's 2 of 2,
    bob's, bob/deep's: three lines of one call; objects4 s54): one line a call, counting the
    inputs of every folder, as the units line is (s53). A calibrated TIFF is not counted."""
    import tifffile

    image = np.random.default_rng(2).integers(0, 255, (24, 28), dtype=np.uint8)
    meta = dict(imagej=True, resolution=(2.0, 2.0), metadata={"unit": "um"})
    tifffile.imwrite(drop / "drop" / "bob" / "cal.tif", image, **meta)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_tree(model, drop / "drop", drop / "out", objects=True)
    lines = [m for m in caplog.messages if "record no usable pixel size" in m]
    assert len(lines) == 1, lines
    # by its path as given, as the tree's other lines name it: img_00.png alone was any of its
    # folders' (review s54), alice/img_00.png the line's own form (review s55 H8)
    first = drop / "drop" / "alice" / "img_00.png"
    assert lines[0].startswith(f"4 of 5 inputs record no usable pixel size (first: {first}): ")
