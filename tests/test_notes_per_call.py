"""A public Python call is one command for the lines said once (``note_once``, the TIFF and
world-file notes of :func:`~unetlab.data.read_notes.first_said`): a notebook's second
``predict_folder`` or ``evaluate_model`` on files with the same trouble is told again
(they were said once a process: the second call said nothing), one call says each once,
a call within a call (predict_folder's predict_file) or within the CLI's command once."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
import tifffile

import unetlab
from tests.test_predict_objects import local_net, nuclei_image
from tests.test_train import tiny_config, write_blobs
from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data import io, read_notes, tiffmeta, world_file
from unetlab.data.io import read_image, write_png
from unetlab.train.folds import fit_folds

NO_UNIT = "its resolution tags have no unit"
SUBFOLDER = "not searched"
NOT_A_WORLD_FILE = "not a world file"
TRANSPARENT = "with nodata or transparent pixels"


@pytest.fixture(autouse=True)
def _unsaid(monkeypatch):
    """What other tests said in this process, forgotten (said once a process outside a call)."""
    monkeypatch.setattr(read_notes, "_said", set())
    monkeypatch.setattr(tiffmeta, "_WARNED", set())
    monkeypatch.setattr(world_file, "_WARNED", set())
    monkeypatch.setattr(io, "_SAID_SERIES", set())


def _no_unit_tiffs(folder, count: int = 3) -> None:
    """``count`` nuclei TIFFs whose resolution tags have no unit (one line for all)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = nuclei_image(40, 40, seed=i)
        tifffile.imwrite(folder / f"t{i}.tif", image, resolution=(2, 2), resolutionunit=1)


def _said(caplog, words: str) -> int:
    return sum(words in m for m in caplog.messages)


def test_two_predict_folder_calls_each_say_the_folders_notes_once(tmp_path, caplog):
    _no_unit_tiffs(tmp_path / "in")
    write_png(tmp_path / "in" / "more" / "b.png", nuclei_image(40, 40))  # a sub-folder
    net = local_net()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out1")
        first = (_said(caplog, NO_UNIT), _said(caplog, SUBFOLDER))
        unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out2")
    assert first == (1, 1), caplog.messages  # 3 TIFFs, each read several times: one line
    assert (_said(caplog, NO_UNIT), _said(caplog, SUBFOLDER)) == (2, 2), caplog.messages


def test_a_malformed_world_file_is_said_at_each_call_once(tmp_path, caplog):
    write_png(tmp_path / "in" / "a.png", nuclei_image(40, 40))
    (tmp_path / "in" / "a.pgw").write_text("not six numbers\n")
    net = local_net()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        for out in ("out1", "out2"):
            unetlab.predict_folder(net, tmp_path / "in", tmp_path / out, objects=True)
            assert (tmp_path / out / "a_objects.csv").is_file()
    assert _said(caplog, NOT_A_WORLD_FILE) == 2, caplog.messages


def test_calls_within_a_command_say_it_once(tmp_path, caplog):
    """Within the CLI's read_notes (or an outer call), the calls add no command of their own."""
    _no_unit_tiffs(tmp_path / "in", count=1)
    net = local_net()
    with caplog.at_level(logging.INFO, logger="unetlab"), read_notes.read_notes():
        unetlab.predict_file(net, tmp_path / "in" / "t0.tif", tmp_path / "out1")
        unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out2")
    assert _said(caplog, NO_UNIT) == 1, caplog.messages


def test_two_evaluate_model_calls_each_say_it_once(tmp_path, caplog):
    """The data folder's sub-folder of images, searched more than once a call: a line a call."""
    for i in range(2):
        image = nuclei_image(40, 40, seed=i)
        write_png(tmp_path / "data" / "images" / f"t{i}.png", image)
        write_png(tmp_path / "data" / "masks" / f"t{i}.png", (image > 100).astype(np.uint8) * 255)
    write_png(tmp_path / "data" / "images" / "old" / "t9.png", nuclei_image(40, 40))
    net = local_net()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        unetlab.evaluate_model(net, tmp_path / "data")
        first = _said(caplog, SUBFOLDER)
        unetlab.evaluate_model(net, tmp_path / "data")
    assert first == 1, caplog.messages
    assert _said(caplog, SUBFOLDER) == 2, caplog.messages


def test_two_plan_training_calls_each_say_it_once(two_pair_data, caplog):
    """plan_training reads the data folder's pairs more than once: a line a call."""
    write_png(two_pair_data / "images" / "old" / "09.png", nuclei_image(32, 32))
    cfg = load_config(None, [f"data.root={two_pair_data}"])
    with caplog.at_level(logging.INFO, logger="unetlab"):
        unetlab.plan_training(cfg)
        first = _said(caplog, SUBFOLDER)
        unetlab.plan_training(cfg)
    assert first == 1, caplog.messages
    assert _said(caplog, SUBFOLDER) == 2, caplog.messages


def _transparent_blobs(root):
    """3 blobs images as grey + alpha, a corner transparent, and a sub-folder of images."""
    write_blobs(root, 3)
    for i in range(3):
        grey = np.squeeze(read_image(root / "images" / f"{i}.png"))
        alpha = np.full_like(grey, 255)
        alpha[:8, :8] = 0
        write_png(root / "images" / f"{i}.png", np.stack([grey, alpha], axis=-1))
    write_png(root / "images" / "old" / "9.png", nuclei_image(32, 32))
    return root


def test_two_fit_calls_each_say_the_datas_notes_once_gathered(tmp_path, caplog, one_thread):
    """fit gathers what reading notes as the CLI's train does: its grey + alpha images'
    transparent pixels, left out, in one line a call naming the 3 (outside a command: a
    line a file, in the first call only), and the data folder's sub-folder line once a call
    (said twice in one call where the gathering began after the data was first read)."""
    root = _transparent_blobs(tmp_path / "data")
    cfg = tiny_config(root, "train.epochs=1")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        unetlab.fit(cfg, run_dir=tmp_path / "run1", progress=False)
        first = (_said(caplog, TRANSPARENT), _said(caplog, SUBFOLDER))
        unetlab.fit(cfg, run_dir=tmp_path / "run2", progress=False)
    assert first == (1, 1), caplog.messages
    assert (_said(caplog, TRANSPARENT), _said(caplog, SUBFOLDER)) == (2, 2), caplog.messages
    assert "3 images with" in next(m for m in caplog.messages if TRANSPARENT in m)
    assert TRANSPARENT in (tmp_path / "run2" / "train.log").read_text()  # said in the run


def test_fit_folds_is_one_call_for_its_folds_fits(tmp_path, caplog, one_thread):
    """fit_folds' fits read the same files: their notes said once for all its folds."""
    root = _transparent_blobs(tmp_path / "data")
    cfg = tiny_config(root, "train.epochs=1")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        fit_folds(cfg, 2, run_dir=tmp_path / "run")
    assert (_said(caplog, TRANSPARENT), _said(caplog, SUBFOLDER)) == (1, 1), caplog.messages
    _each_folds_log_keeps_them(tmp_path / "run")


def _each_folds_log_keeps_them(run) -> None:
    """Each fold's train.log keeps the data's lines (fold_2's had none: review s58 E), the
    cross-validation's said before any fold (its folds, its small validation sets) and its
    own fold's split, not another's (none had them: s59)."""
    for i in (1, 2):
        logged = (run / f"fold_{i}" / "train.log").read_text()
        assert TRANSPARENT in logged and SUBFOLDER in logged, (i, logged)
        assert "cross-validation: 2 folds of the 3 images" in logged, (i, logged)
        assert "each fold validates on only 1-2 images" in logged, (i, logged)
        assert f"fold {i}/2: validating on" in logged, (i, logged)
        assert f"fold {3 - i}/2: validating on" not in logged, (i, logged)


def test_train_folds_keeps_them_in_each_folds_log(tmp_path, caplog, one_thread):
    """The command line's train --folds as fit_folds: each fold's train.log keeps the data's
    lines (none had them: said at the command's end), the console hears them once."""
    root = _transparent_blobs(tmp_path / "data")
    keys = ["data.label_values=[0, 255]", "data.class_names={0: dark, 255: bright}"]
    keys += ["model.depth=2", "model.base_channels=4", "data.tile_size=32", "train.epochs=1"]
    keys += ["data.tiles_per_epoch=8", "train.batch_size=4", "train.device=cpu"]
    keys += ["data.seam_weight=1"]  # a removed key: its line in each fold's log too (s59)
    sets = [arg for key in keys for arg in ("--set", key)]
    run = ["--data", str(root), "--run-dir", str(tmp_path / "run")]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main(["train", "--folds", "2", *run, *sets]) == 0
    assert (_said(caplog, TRANSPARENT), _said(caplog, SUBFOLDER)) == (1, 1), caplog.messages
    _each_folds_log_keeps_them(tmp_path / "run")
    for i in (1, 2):
        logged = (tmp_path / "run" / f"fold_{i}" / "train.log").read_text()
        assert "data.seam_weight: 1 left out" in logged, (i, logged)


def test_a_tiff_of_two_series_is_said_at_each_evaluate_model_call(tmp_path, caplog):
    """Its first series alone is read: said once in a call, and in the next call again."""
    images, masks = tmp_path / "data" / "images", tmp_path / "data" / "masks"
    images.mkdir(parents=True)
    with tifffile.TiffWriter(images / "t0.tif") as tif:
        for seed in (0, 1):  # two series of one shape: two positions, say
            tif.write(nuclei_image(40, 40, seed=seed))
    write_png(masks / "t0.png", (nuclei_image(40, 40) > 100).astype(np.uint8) * 255)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        for _ in range(2):
            unetlab.evaluate_model(local_net(), tmp_path / "data")
    assert _said(caplog, "holds 2 series") == 2, caplog.messages


def test_a_loop_of_predict_file_hears_a_line_for_all_files_once(tmp_path, caplog):
    """ "said once; other files like it are not listed": true in a notebook's loop of
    predict_file (said for each file, review s58 E); a folder's call after it says it again."""
    _no_unit_tiffs(tmp_path / "in")
    net = local_net()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        for path in sorted((tmp_path / "in").glob("*.tif")):
            unetlab.predict_file(net, path, tmp_path / "out")
        looped = _said(caplog, NO_UNIT)
        unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out2")
    assert looped == 1, caplog.messages
    assert _said(caplog, NO_UNIT) == 2, caplog.messages


def test_measure_objects_on_a_path_says_its_files_line_at_each_call(tmp_path, caplog):
    """measure_objects(path) is a call as predict_file is: the unknown unit of its file's
    ImageJ metadata said again at the next call on it (it was said once a process)."""
    ids = np.zeros((40, 40), np.uint16)
    ids[5:15, 5:15] = 1
    for name in ("a", "b"):
        meta = {"unit": "furlong"}
        tifffile.imwrite(
            tmp_path / f"{name}.tif", ids, imagej=True, resolution=(2, 2), metadata=meta
        )
    with caplog.at_level(logging.INFO, logger="unetlab"):
        for name in ("a", "a", "b"):
            assert list(unetlab.measure_objects(tmp_path / f"{name}.tif")["id"]) == [1]
    assert _said(caplog, "unit 'furlong'") == 3, caplog.messages


def test_a_call_that_raised_leaves_no_gathering_open(tmp_path, caplog, monkeypatch):
    """A guard (passed before it was written): a call that said a line, then raised (a
    bug in the model's forward), closes its gathering; the next call says the line again."""
    _no_unit_tiffs(tmp_path / "in", count=1)
    net = local_net()
    forward = net.forward
    with caplog.at_level(logging.INFO, logger="unetlab"):
        monkeypatch.setattr(net, "forward", lambda x: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out1")
        assert _said(caplog, NO_UNIT) == 1, caplog.messages
        assert read_notes._ACTIVE.get() is None and read_notes._ONE_FILE_CALL.get() is False
        monkeypatch.setattr(net, "forward", forward)
        unetlab.predict_folder(net, tmp_path / "in", tmp_path / "out2")
    assert _said(caplog, NO_UNIT) == 2, caplog.messages


def test_two_threads_calls_gather_their_own_notes(tmp_path, caplog):
    """A guard (passed before it was written): two threads' predict_folder calls at once,
    each its own command: each says the line of its TIFFs once, none is left open."""
    for name in ("a", "b"):
        _no_unit_tiffs(tmp_path / name, count=2)
    net, barrier = local_net(), threading.Barrier(2)

    def run(name):
        barrier.wait()
        unetlab.predict_folder(net, tmp_path / name, tmp_path / f"out_{name}")

    threads = [threading.Thread(target=run, args=(n,), name=f"t_{n}") for n in ("a", "b")]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    said = sorted(r.threadName for r in caplog.records if NO_UNIT in r.getMessage())
    assert said == ["t_a", "t_b"], caplog.messages
    assert all((tmp_path / f"out_{n}" / "t1.png").is_file() for n in ("a", "b"))
    assert read_notes._ACTIVE.get() is None
