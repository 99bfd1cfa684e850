"""A ``predict_folder`` call stopped part way (a notebook cell's Ctrl-C) says in one line how
many inputs are done and the call that goes on, as ``fit`` says its own (audit s62 user: a
bare KeyboardInterrupt), and that call predicts only the others."""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from tests.test_predict_objects import local_net, nuclei_image
from unetlab.data.io import write_png
from unetlab.inference import files, folders, tree
from unetlab.inference.files import predict_file
from unetlab.inference.folders import predict_folder
from unetlab.inference.tree import predict_tree
from unetlab.signals import stop_line_said


def _images(folder, n=3):
    folder.mkdir(parents=True)
    for i in range(n):
        write_png(folder / f"{i}.png", nuclei_image(48, 48, seed=i).astype(np.uint8))
    return folder


def _stopped_at(monkeypatch, second: int, module=folders, name: str = "predict_or_fail"):
    """``module.name`` (folders' ``predict_or_fail``) raising KeyboardInterrupt at its
    ``second``-th call."""
    real, calls = getattr(module, name), []

    def stop(*args, **kwargs):
        calls.append(1)
        if len(calls) == second:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, stop)


def test_a_stopped_folder_says_the_inputs_done_and_the_call_that_goes_on(
    tmp_path, monkeypatch, caplog
):
    net, images, out = local_net(), _images(tmp_path / "images"), tmp_path / "out"
    _stopped_at(monkeypatch, 2)
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        predict_folder(net, images, out, objects=True, progress=False)
    said = [m for m in caplog.messages if m.startswith("predict_folder")]
    assert said == [
        f"predict_folder interrupted with the outputs of 1 of 3 inputs in {out}; "
        "continue with the same call with skip_existing=True"
    ]
    monkeypatch.undo()
    again = predict_folder(net, images, out, objects=True, progress=False, skip_existing=True)
    assert (len(again.written), len(again.skipped)) == (2, 1)


def test_a_stopped_tree_says_its_own_line_not_a_folder_s(tmp_path, monkeypatch, caplog):
    """In ``predict_tree`` the stop is the tree's: no folder names ``predict_folder``; the
    tree's line says where it stopped, as the command's does (it was a bare
    KeyboardInterrupt, review of s62 user), and the call it names goes on from there."""
    net, root, out = local_net(), tmp_path / "root", tmp_path / "out"
    _images(root / "a"), _images(root / "b")
    _stopped_at(monkeypatch, 5)
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        predict_tree(net, root, out, objects=True, progress=False)
    said = [m for m in caplog.messages if m.startswith(("predict_folder", "predict_tree"))]
    assert said == [
        f"predict_tree interrupted in {root / 'b'}/ (folder 2 of 2) with the outputs of 1 of 3 "
        f"inputs in {out / 'b'}; done: a/; not started: none; continue with the same call "
        "with skip_existing=True"
    ]
    monkeypatch.undo()
    again = predict_tree(net, root, out, objects=True, progress=False, skip_existing=True)
    assert [len(again[Path(d)].written) for d in "ab"] == [0, 2]


def test_a_stopped_file_says_the_call_that_goes_on(tmp_path, monkeypatch, caplog):
    """``predict_file`` called alone says its stop in one line (a bare KeyboardInterrupt,
    review of s62 user); inside ``predict_folder`` its files say none (the folder's line)."""
    image = _images(tmp_path / "images", 1) / "0.png"

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "_outputs", stop)
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        predict_file(local_net(), image, tmp_path / "out", objects=True)
    said = [m for m in caplog.messages if m.startswith("predict_")]
    assert said == [f"predict_file interrupted on {image}; continue with the same call"]
    caplog.clear()

    def stop_in_a_stack(*args, **kwargs):
        (tmp_path / "out" / ".0.tif.pages.partial").mkdir()  # a stack's finished pages
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "_outputs", stop_in_a_stack)
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        predict_file(local_net(), image, tmp_path / "out", objects=True)
    assert caplog.messages[-1].endswith(
        "the same call (its finished pages are kept: the rerun predicts the others)"
    )
    caplog.clear()
    monkeypatch.setattr(files, "_outputs", stop)
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        predict_folder(local_net(), image.parent, tmp_path / "out2", progress=False)
    said = [m for m in caplog.messages if m.startswith("predict_")]
    assert len(said) == 1 and said[0].startswith("predict_folder interrupted"), said


def test_a_stopped_folder_says_a_large_image_starts_again_as_the_command_does(
    tmp_path, monkeypatch, caplog
):
    """The command's stop line says a streamed image whose objects alone were asked for
    starts again at its first row (its ids staged, ``.<name>.ids.partial``); the notebook's
    said nothing of it (review of s62 user): now the same note, in the call's spelling."""
    net, images, out = local_net(), _images(tmp_path / "images"), tmp_path / "out"

    def stop(*args, **kwargs):
        (out / ".1.png.ids.partial").mkdir(parents=True)  # as a streamed image stopped
        raise KeyboardInterrupt

    monkeypatch.setattr(folders, "predict_or_fail", stop)
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        predict_folder(net, images, out, objects=True, progress=False)
    said = [m for m in caplog.messages if m.startswith("predict_folder")]
    assert said == [
        f"predict_folder interrupted with the outputs of 0 of 3 inputs in {out}; continue "
        "with the same call with skip_existing=True (a large image stopped part way starts "
        "again at its first row: with objects only save_probabilities=True keeps its rows)"
    ]


def test_a_user_s_own_loop_of_predict_file_says_one_line(tmp_path, monkeypatch, caplog):
    """A notebook's own function looping ``predict_file`` over files (no command line, no
    folder call): the stop's one line is said by the outermost unetlab call stopped, the
    ``predict_file`` of the file it stopped on, as README's stopped-stack passage says; the
    files done before say none, and the line is not said again by any call within."""
    images = _images(tmp_path / "images")

    def segment_all(net, paths, out):  # the user's own library function
        return [predict_file(net, path, out, objects=True) for path in paths]

    _stopped_at(monkeypatch, 2, files, "_outputs")
    paths = sorted(images.glob("*.png"))
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        segment_all(local_net(), paths, tmp_path / "out")
    said = [m for m in caplog.messages if "interrupted" in m]
    assert said == [f"predict_file interrupted on {paths[1]}; continue with the same call"]
    assert (tmp_path / "out" / "0_objects.tif").exists()  # the first file's outputs kept


def test_a_folder_stopped_in_its_warm_up_says_its_own_line_alone(tmp_path, monkeypatch, caplog):
    """A ``predict_folder`` with a ``clock`` predicts its first file once beforehand into a
    scratch folder it does not hold: stopped there (a notebook cell's Ctrl-C), that
    ``predict_file`` said its own line before the folder's (two lines, "predict_file
    interrupted on 0.png" the first; s62 noticed: predict_file called inside library code
    says its own). The folder's caller says the stop, the calls within say none."""
    net, images, out = local_net(), _images(tmp_path / "images"), tmp_path / "out"

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "_outputs", stop)
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        predict_folder(net, images, out, objects=True, progress=False, clock=_untimed)
    said = [m for m in caplog.messages if "interrupted" in m]
    assert said == [
        f"predict_folder interrupted with the outputs of 0 of 3 inputs in {out}; "
        "continue with the same call with skip_existing=True"
    ]


def _untimed(model):
    return contextlib.nullcontext()


def test_the_outermost_call_alone_says_the_stop():
    """One mechanism (:func:`~unetlab.signals.stop_line_said`): the outermost call says the
    stop, none within it, and a group's other processes none at all."""
    with stop_line_said() as outer, stop_line_said() as inner, stop_line_said() as innermost:
        assert (outer, inner, innermost) == (True, False, False)
    with stop_line_said(main=False) as other, stop_line_said() as within:
        assert (other, within) == (False, False)
    with stop_line_said() as again:  # the caller's gone: said again
        assert again


def _predict_file(net, images, out):
    return predict_file(net, images / "0.png", out, objects=True)


def _predict_folder(net, images, out):
    return predict_folder(net, images, out, objects=True, progress=False)


def _predict_tree(net, images, out):
    return predict_tree(net, images.parent, out, objects=True, progress=False)


_SAME_CALL = "continue with the same call"


@pytest.mark.parametrize(
    ("call", "module", "name", "line"),
    [
        (
            _predict_file,
            files,
            "file_read_axes",
            f"predict_file interrupted on {{b}}/0.png; {_SAME_CALL}",
        ),
        (
            _predict_folder,
            folders,
            "_found",
            f"predict_folder interrupted before any input was predicted; {_SAME_CALL} with "
            "skip_existing=True",
        ),
        (
            _predict_tree,
            tree,
            "_folder_settings",
            "predict_tree interrupted in {b}/ (folder 2 of 2) before any of its inputs was "
            f"predicted; done: a/; not started: none; {_SAME_CALL} with skip_existing=True",
        ),
    ],
    ids=["file_header", "folder_listing", "tree_between_folders"],
)
def test_a_stop_before_the_inputs_are_predicted_is_said_too(
    tmp_path, monkeypatch, caplog, call, module, name, line
):
    """A stop as a call reads its file's header, lists its folder's inputs or begins a
    tree's folder (the second) is said as one later is: it was a bare KeyboardInterrupt, the
    line's scope began after them (review of s63)."""
    _images(tmp_path / "root" / "a")
    images = _images(tmp_path / "root" / "b")
    _stopped_at(monkeypatch, 2 if module is tree else 1, module, name)
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        call(local_net(), images, tmp_path / "out")
    said = [m for m in caplog.messages if "interrupted" in m]
    assert said == [line.format(b=images)]


class _SwallowedStop:
    """An object whose finalizer (``__del__``) gets a Ctrl-C: Python's handler raises
    KeyboardInterrupt there, printed as "Exception ignored in ..." and lost."""

    def __del__(self):
        signal.getsignal(signal.SIGINT)(signal.SIGINT, None)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="signalled again by pthread_kill")
def test_a_ctrl_c_a_finalizer_swallowed_still_stops_a_python_call(tmp_path, monkeypatch, caplog):
    """s64: a Ctrl-C raised in a finalizer (a ``__del__``, a weakref callback) during a
    Python call, outside the command line's handlers, was lost and the call ran to its end;
    it stops the call at once, in its one line."""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Python's own
    net, images, out = local_net(), _images(tmp_path / "images"), tmp_path / "out"
    real, calls = folders.predict_or_fail, []

    def swallowed(*args, **kwargs):  # the first file's finalizer gets the Ctrl-C
        calls.append(1)
        if len(calls) == 1:
            _SwallowedStop()  # dropped at once: its __del__ runs here
            time.sleep(2)  # the stop signalled again lands within milliseconds
        return real(*args, **kwargs)

    monkeypatch.setattr(folders, "predict_or_fail", swallowed)
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(KeyboardInterrupt):
        predict_folder(net, images, out, objects=True, progress=False)
    assert len(calls) == 1  # no file after it
    said = [m for m in caplog.messages if m.startswith("predict_folder")]
    assert said == [
        f"predict_folder interrupted with the outputs of 0 of 3 inputs in {out}; "
        "continue with the same call with skip_existing=True"
    ]
