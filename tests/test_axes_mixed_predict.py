"""predict --axes over a folder mixing TIFF stacks and PNGs: the axes are the TIFFs', the
PNGs read as they are and recorded without axes (each PNG failed, "applies to TIFF files;
drop it for this one"), as train and evaluate read such a folder. A PNG's record is its
own: its outputs keep their key whatever axes a run gives (or takes from the checkpoint)."""

from __future__ import annotations

import logging
import signal

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.test_objects_3d import _ball_stack
from tests.test_predict_objects import local_net
from tests.test_trained_axes import H, W, _axes, _bare, _net
from unetlab.errors import OutputError
from unetlab.inference.folders import predict_folder
from unetlab.inference.records import embedded_key, read_records
from unetlab.manifest import PENDING
from unetlab.outputs import recorded_keys


@pytest.fixture(autouse=True)
def _lines_said_here(monkeypatch):
    """The lines said once a process (outside a command) said afresh, and left unsaid for
    the tests after these (test_trained_axes looks for the trained-axes line)."""
    import unetlab.data.read_notes

    monkeypatch.setattr(unetlab.data.read_notes, "_said", set())


def _png(path, image=None) -> None:
    if image is None:
        image = np.random.default_rng(1).integers(0, 255, (H, W), dtype=np.uint8)
    Image.fromarray(image).save(path)


@pytest.fixture
def mixed(tmp_path):
    """in/a.png (first, as sorted), in/m.tif: 3 grey pages that record no axes."""
    (tmp_path / "in").mkdir()
    _png(tmp_path / "in" / "a.png")
    _bare(tmp_path / "in" / "m.tif")
    return tmp_path / "in"


def _record_of(out, name: str) -> dict:
    return read_records(out)[recorded_keys(out, "predict")[name].removeprefix(PENDING)]


def test_axes_read_the_tiff_and_the_png_as_it_is(mixed, tmp_path):
    out = tmp_path / "o"
    result = predict_folder(_net(None), mixed, out, axes="ZYX")
    assert not result.failed and len(result.written) == 2
    assert _axes(out / "m.tif") == "ZYX"  # the stack's outputs: its planes
    assert np.asarray(Image.open(out / "a.png")).shape == (H, W)  # the PNG's: 2-D
    assert "axes" not in _record_of(out, "a.png")["model"]
    assert _record_of(out, "m.tif")["model"]["axes"] == "ZYX"


def test_reruns_with_axes_or_without_skip_the_png(mixed, tmp_path, caplog):
    net, out = _net(None), tmp_path / "o"
    predict_folder(net, mixed, out, axes="ZYX")
    again = predict_folder(net, mixed, out, axes="ZYX", skip_existing=True)
    assert sorted(again.skipped) == [mixed / "a.png", mixed / "m.tif"] and not again.written
    alone = predict_folder(net, [mixed / "a.png"], out, skip_existing=True)  # no axes
    assert alone.skipped == [mixed / "a.png"] and not alone.written
    with caplog.at_level(logging.INFO, logger="unetlab"):  # the TIFF read otherwise alone
        predict_folder(net, [mixed / "m.tif"], out, axes="TYX", overwrite=True)
    assert "a.png" not in caplog.text  # the PNG's outputs are no other reading's
    with pytest.raises(OutputError, match="axes TYX there, the defaults here"):
        predict_folder(net, mixed, out, skip_existing=True)  # the TIFF's: refused as before
    both = predict_folder(net, mixed, out, skip_existing=True, overwrite=True)
    assert both.skipped == [mixed / "a.png"] and list(both.written) == [mixed / "m.tif"]


def test_the_checkpoint_s_axes_leave_a_png_s_record_without_them(mixed, tmp_path, caplog):
    """A PNG predicted by a checkpoint trained with axes was recorded with them: a run
    giving other axes said its outputs were the same model's 'from the input read otherwise'."""
    out = tmp_path / "o"
    predict_folder(_net("ZYX"), mixed, out)
    assert "axes" not in _record_of(out, "a.png")["model"]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        predict_folder(_net("ZYX"), [mixed / "m.tif"], out, axes="TYX", overwrite=True)
    assert "read otherwise" not in caplog.text
    # beside the TIFF the axes are for (given to PNGs alone they are refused: s54)
    both = [mixed / "a.png", mixed / "m.tif"]
    png = predict_folder(_net("ZYX"), both, out, axes="TYX", skip_existing=True)
    assert mixed / "a.png" in png.skipped


def _stopped_on_second(monkeypatch):
    """predict_or_fail stopped (SIGTERM) as it starts its second input."""
    import unetlab.inference.folders as folders
    from unetlab.signals import Stopped

    real, calls = folders.predict_or_fail, []

    def stopped(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise Stopped(signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(folders, "predict_or_fail", stopped)
    return Stopped, lambda: monkeypatch.setattr(folders, "predict_or_fail", real)


@pytest.mark.parametrize("trained, given", [(None, "ZYX"), ("ZYX", None)])
def test_a_run_stopped_after_its_png_resumes(mixed, tmp_path, monkeypatch, trained, given):
    """The PNG's outputs carry its own key (no axes, given or the checkpoint's), which its
    manifest lines and record hold: a rerun skips it."""
    net, out = _net(trained), tmp_path / "o"
    stop, undo = _stopped_on_second(monkeypatch)
    with pytest.raises(stop):
        predict_folder(net, mixed, out, axes=given)
    key = embedded_key(out / "a.png")
    assert "axes" not in read_records(out)[key]["model"]
    assert recorded_keys(out, "predict")["a.png"].endswith(key)
    undo()
    again = predict_folder(net, mixed, out, axes=given, skip_existing=True)
    assert again.skipped == [mixed / "a.png"] and list(again.written) == [mixed / "m.tif"]


def test_a_stopped_objects_3d_run_records_its_png_without_both(tmp_path, monkeypatch):
    """A PNG in an --objects-3d --axes ZYX run: its record has neither objects_3d nor axes."""
    (tmp_path / "in").mkdir()
    stack = _ball_stack((7, 56, 72))
    _png(tmp_path / "in" / "a.png", stack[3])
    tifffile.imwrite(tmp_path / "in" / "s.tif", stack)  # records no axes
    net, inputs, out = local_net(), tmp_path / "in", tmp_path / "o"
    stop, undo = _stopped_on_second(monkeypatch)
    how = dict(objects=True, objects_3d=True, axes="ZYX")
    with pytest.raises(stop):
        predict_folder(net, inputs, out, **how)
    record = read_records(out)[key := embedded_key(out / "a.png")]
    assert "objects_3d" not in record["outputs"] and "axes" not in record["model"]
    assert recorded_keys(out, "predict")["a_objects.tif"].endswith(key)
    undo()
    again = predict_folder(net, inputs, out, skip_existing=True, **how)
    assert again.skipped == [inputs / "a.png"] and list(again.written) == [inputs / "s.tif"]
    plain = predict_folder(net, [inputs / "a.png"], out, objects=True, skip_existing=True)
    assert plain.skipped == [inputs / "a.png"]


def test_predict_axes_over_pngs_only_is_one_line_before_the_model(tmp_path, capsys):
    """``unetlab predict --axes ZYX`` over a folder of PNGs only (none can take the axes) is
    refused in one line, exit 2, before the checkpoint loads and before an output folder is
    made, as train and evaluate refuse such a folder; it failed each file (exit 3)."""
    from tests.test_trained_axes import _net
    from unetlab import save_model
    from unetlab.cli import main

    (tmp_path / "in").mkdir()
    for name in ("a.png", "b.png"):
        _png(tmp_path / "in" / name)
    save_model(tmp_path / "m.pt", _net(None))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    code = main([*argv, "--output", str(tmp_path / "out"), "--axes", "ZYX"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [
        f"unetlab predict: error: {tmp_path / 'in'}: --axes applies to TIFF files and "
        "none of its images is one; drop it"
    ]
    assert not (tmp_path / "out").exists()


def test_a_tree_s_folder_of_pngs_given_axes_reads_them_as_they_are(tmp_path, capsys):
    """``predict --recursive --axes ZYX`` over a tree whose tiffs/ holds a stack and pngs/
    PNGs only: the PNGs read as they are, as beside the stack (each was failed: "applies to
    TIFF files; drop it for this one"); a tree of no TIFF is refused in one line, exit 2."""
    from unetlab import save_model
    from unetlab.cli import main
    from unetlab.inference.tree import predict_tree

    root = tmp_path / "drop"
    (root / "tiffs").mkdir(parents=True)
    (root / "pngs").mkdir()
    _bare(root / "tiffs" / "m.tif")
    _png(root / "pngs" / "a.png")
    results = predict_tree(_net(None), root, tmp_path / "o", axes="ZYX")
    assert [list(r.failed) for r in results.values()] == [[], []]
    assert _axes(tmp_path / "o" / "tiffs" / "m.tif") == "ZYX"
    assert (tmp_path / "o" / "pngs" / "a.png").is_file()
    again = predict_tree(_net(None), root, tmp_path / "o", axes="ZYX", skip_existing=True)
    assert [len(r.skipped) for r in again.values()] == [1, 1]  # the PNG's outputs its own
    (root / "tiffs" / "m.tif").unlink()
    save_model(tmp_path / "m.pt", _net(None))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(root)]
    code = main([*argv, "--output", str(tmp_path / "p"), "--recursive", "--axes", "ZYX"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].endswith(
        f"{root}: --axes applies to TIFF files and none of its images is one; drop it"
    )
    assert not (tmp_path / "p").exists()
