"""A resumed slide predicts only the tiles its rows need, also where the grid's last step is
shorter; a stop while a slide's outputs are published is finished by the next run, which
predicts nothing, and never leaves a set of outputs half of one run and half of another."""

import logging
import os
import signal
import subprocess
import sys
from functools import partial

import numpy as np
import pytest
import torch

from tests.test_predict_objects import local_net
from tests.test_slide_resume import (
    Stop,
    _outputs,
    _slide,
    pinned_version,  # noqa: F401 (autouse)
)
from unetlab.data import ome
from unetlab.inference import slide_objects, slide_outputs
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.predict import probability_fn
from unetlab.inference.slides import band_grid, iter_slide_rows, predict_slide
from unetlab.inference.tiling import Geometry, iter_tiled_rows, tile_grid
from unetlab.models import UNet
from unetlab.outputs import resumable


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(ome, "CHUNK", 32)
    monkeypatch.setattr(slide_objects, "STREAM_ROWS", 64)
    monkeypatch.setattr(slide_objects, "PIECE_PIXELS", 4096)


def test_a_band_after_a_short_last_step_needs_only_its_own_tile_rows():
    """Tile rows at 0, 52, 98 (the last step shorter): the band from row 96 needs the tiles
    at 52 and 98, not those at 0 (it used to go back to tile row 0: the whole grid)."""
    grid = tile_grid((150, 96), Geometry.of(local_net()), 68)
    assert grid.ys == (0, 52, 98)
    offset, sub = band_grid(grid, (96, 150))
    assert len(sub) == 4 and offset == 52 - grid.pad
    assert len(band_grid(grid, (128, 150))[1]) == 2


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("batch", [1, 3])
def test_bands_anywhere_equal_the_whole_bit_for_bit(padding, batch):
    """Every band start, with batches that a band starts inside of (stand-ins fill them)."""
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=4, padding=padding).eval()
    image = np.random.default_rng(1).integers(0, 255, (150, 37, 1)).astype(np.float32)
    grid = tile_grid(image.shape[:2], Geometry.of(model), 68 if padding == "valid" else 48)
    assert grid.ys[-1] - grid.ys[-2] < grid.ys[1] - grid.ys[0]  # a shorter last step
    fn = probability_fn(model)
    with torch.inference_mode():
        whole = np.concatenate(
            [b for _, b in iter_tiled_rows(fn, image, grid, batch_size=batch)], 1
        )
        for start in range(1, 150, 9):
            offset, sub = band_grid(grid, (start, 150), batch_size=batch)
            assert sub.ys[0] + offset + grid.out_tile[0] > start  # no tile row above needed
            got = [
                b for _, b in iter_slide_rows(fn, image, grid, rows=(start, 150), batch_size=batch)
            ]
            assert np.array_equal(np.concatenate(got, 1), whole[:, start:])


def _run(net, slide, out, stop, **settings):
    return predict_slide(net, slide, out, tile_size=68, batch_size=1, progress=stop, **settings)


def test_a_slide_stopped_after_its_second_tile_row_resumes_at_it(tmp_path, small_chunks):
    slide = _slide(tmp_path / "s.tif", h=150)
    net = local_net()
    whole = Stop()
    _run(net, slide, tmp_path / "whole", whole, save_probabilities=True)
    assert whole.tiles == 6
    with pytest.raises(KeyboardInterrupt):  # after tile 5: rows 0-97 written, 0-95 recorded
        _run(net, slide, tmp_path / "out", Stop(5), save_probabilities=True)
    again = Stop()
    _run(net, slide, tmp_path / "out", again, save_probabilities=True)
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")
    assert again.tiles == 4  # the tile rows at 52 and 98 (was 6: the whole slide again)


def _stop_sealing(monkeypatch, name):
    sealed = ome.seal

    def stopped(stage, final, spec, output_format, *, tiff=None, told=None):
        if final.name == name:
            raise KeyboardInterrupt
        return sealed(stage, final, spec, output_format, tiff=tiff, told=told)

    monkeypatch.setattr(ome, "seal", stopped)


@pytest.mark.parametrize("output_format", ["ome-tiff", "ome-zarr"])
def test_a_stop_while_publishing_is_published_by_the_rerun_without_predicting(
    tmp_path, small_chunks, monkeypatch, caplog, output_format
):
    slide = _slide(tmp_path / "s.tif")
    net = local_net()
    how = dict(save_probabilities=True, output_format=output_format, draw_overlay=True)
    _run(net, slide, tmp_path / "whole", Stop(), **how)
    prob = "s_prob.tif" if output_format == "ome-tiff" else "s_prob.ome.zarr"
    with monkeypatch.context() as m:
        _stop_sealing(m, prob)  # the labels sealed, the probabilities not
        with pytest.raises(KeyboardInterrupt):
            _run(net, slide, tmp_path / "out", Stop(), **how)
    left = [p for p in (tmp_path / "out").iterdir() if p.name.startswith((".s", "s"))]
    assert left and all(resumable(p) for p in left)  # no output, the stagings whole
    again = Stop()
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        _run(net, slide, tmp_path / "out", again, **how)
    assert again.tiles == 0  # published, not predicted again
    assert any("predicted every row: publishing" in m for m in caplog.messages)
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".s")]


def _stop_after_one_rename(monkeypatch) -> None:
    """The run's own publishing stops right after its first rename (the overlay), before
    its next (a file's, or an OME-Zarr folder's)."""
    finish, put, calls = slide_outputs.finish, slide_outputs.put_in_place, []
    replace = ome.replace_folder

    def once(rename):
        def renamed(source, path):
            if calls:
                raise KeyboardInterrupt
            calls.append(rename(source, path))

        return renamed

    def stopped(folder):
        monkeypatch.setattr(slide_outputs, "put_in_place", once(put))
        monkeypatch.setattr(ome, "replace_folder", once(replace))
        try:
            return finish(folder)
        finally:
            monkeypatch.setattr(slide_outputs, "put_in_place", put)
            monkeypatch.setattr(ome, "replace_folder", replace)
            monkeypatch.setattr(slide_outputs, "finish", finish)

    monkeypatch.setattr(slide_outputs, "finish", stopped)


def test_a_committed_publishing_is_finished_by_the_next_run(tmp_path, small_chunks, monkeypatch):
    """Stopped in the middle of the renames (the overlay in place, the labels not): the
    folder would hold a new overlay beside no labels, or an earlier run's. The next run
    puts the rest in place and predicts nothing."""
    slide = _slide(tmp_path / "s.tif")
    net = local_net()
    how = dict(save_probabilities=True, draw_overlay=True)
    _run(net, slide, tmp_path / "whole", Stop(), **how)
    _stop_after_one_rename(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        _run(net, slide, tmp_path / "out", Stop(), **how)
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert "s_overlay.png" in names and "s.tif" not in names
    assert ".s.tif.publish.partial" in names
    again = Stop()
    got = _run(net, slide, tmp_path / "out", again, **how)
    assert again.tiles == 0 and [p.name for p in got] == ["s.tif", "s_prob.tif", "s_overlay.png"]
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".s")]


@pytest.mark.parametrize(
    "output_format, labels", [("ome-tiff", "s.tif"), ("ome-zarr", "s.ome.zarr")]
)
def test_a_slides_publishing_whose_renames_are_done_goes_when_it_is_skipped(
    tmp_path, small_chunks, monkeypatch, output_format, labels
):
    """A streamed slide killed right after its last rename (its outputs in place and
    stamped), before its publishing folder went: a ``skip_existing`` rerun skips it and
    removes ``.s.tif.publish.partial`` (s73 note; only the next plain run cleared it); an
    OME-Zarr's too, whose renames are of folders beside it (s74 review)."""
    from tests.test_whole_publish import skipped_after_last_rename
    from unetlab.inference.folders import predict_folder

    (tmp_path / "in").mkdir()
    _slide(tmp_path / "in" / "s.tif")
    how = dict(save_probabilities=True, large_threshold=100, tile_size=68, batch_size=1)
    how |= dict(output_format=output_format)
    predict = partial(predict_folder, local_net(), tmp_path / "in", tmp_path / "out", **how)
    skipped_after_last_rename(monkeypatch, predict, labels)


@pytest.mark.parametrize(
    "output_format, skip",
    [("ome-tiff", False), ("ome-tiff", True), ("ome-zarr", False), ("ome-zarr", True)],
)
def test_a_publishing_over_earlier_outputs_finished_by_the_rerun_keeps_them_all(
    tmp_path, small_chunks, monkeypatch, output_format, skip
):
    """predict_folder over an earlier run's outputs, stopped right after its first rename
    (the overlay): the rerun (plain or ``skip_existing``) puts the rest in place and keeps
    the overlay (s74 review: it was removed as "an earlier output ... that this run did not
    write", its stamp unchanged since the rerun's claim; the OME-Zarr probabilities too)."""
    from unetlab.inference.folders import predict_folder

    (tmp_path / "in").mkdir()
    _slide(tmp_path / "in" / "s.tif")
    how = dict(save_probabilities=True, large_threshold=100, tile_size=68, batch_size=1)
    how |= dict(draw_overlay=True, output_format=output_format)
    predict = partial(predict_folder, local_net(), tmp_path / "in", **how)
    predict(tmp_path / "whole")
    predict(tmp_path / "out")
    with monkeypatch.context() as m:
        _stop_after_one_rename(m)
        with pytest.raises(KeyboardInterrupt):
            predict(tmp_path / "out")
    done = predict(tmp_path / "out", skip_existing=skip)
    assert not done.failed
    got, whole = _outputs(tmp_path / "out"), _outputs(tmp_path / "whole")
    assert got.pop("predict.json") and whole.pop("predict.json")  # its time differs
    assert got == whole
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".s")]


def test_a_finished_publishing_counts_its_objects_and_other_settings_start_afresh(
    tmp_path, small_chunks, monkeypatch
):
    """The objects of a slide whose publishing the rerun finished are counted (the folder
    summary's column) as a whole run's are; a run with other settings first puts the
    stopped run's outputs in place, then predicts afresh."""
    slide = _slide(tmp_path / "s.tif")
    net = local_net()
    how = dict(objects=ObjectOptions.for_model, outlines="geojson")
    whole = []
    _run(net, slide, tmp_path / "whole", Stop(), counted=lambda *a: whole.append(a), **how)
    _stop_after_one_rename(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        _run(net, slide, tmp_path / "out", Stop(), **how)
    again, counts = Stop(), []
    _run(net, slide, tmp_path / "out", again, counted=lambda *a: counts.append(a), **how)
    assert again.tiles == 0 and counts == whole and whole[0][0]
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")
    _stop_after_one_rename(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        _run(net, slide, tmp_path / "out", Stop(), **how)
    other = Stop()
    _run(net, slide, tmp_path / "other", Stop(), blend="gaussian", **how)
    _run(net, slide, tmp_path / "out", other, blend="gaussian", **how)
    assert other.tiles == 8  # the whole slide, with the new settings
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "other")


_KILLED = """
import os, signal, sys
import torch
from tests.test_predict_objects import local_net
from tests.test_slide_resume import Stop
from unetlab.data import ome
from unetlab.inference import slide_outputs
from unetlab.inference.slides import predict_slide
from tests.test_slide_resume import PINNED, pinned_code
from unetlab.inference import records, slide_resume

ome.CHUNK = 32
slide_resume._commit = lambda: PINNED  # as the parent's: pinned_version
records.code_identity = pinned_code
torch.manual_seed(0)
where, calls = sys.argv[3], []

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if where == "sealing":  # the labels sealed, the probabilities not
    seal = ome.seal
    def sealing(stage, final, *args, **kwargs):
        if final.name == "s_prob.tif":
            killed()
        return seal(stage, final, *args, **kwargs)
    ome.seal = sealing
else:  # committed: the overlay put in place, then killed
    put = slide_outputs.put_in_place
    def renaming(source, path):
        if calls:
            killed()
        calls.append(put(source, path))
    slide_outputs.put_in_place = renaming
predict_slide(local_net(), sys.argv[1], sys.argv[2], tile_size=68, batch_size=1,
              save_probabilities=True, draw_overlay=True)
"""


@pytest.mark.parametrize("where", ["sealing", "renaming"])
def test_a_slide_killed_while_publishing_is_published_by_the_rerun(
    tmp_path, small_chunks, caplog, where
):
    slide = _slide(tmp_path / "s.tif")
    torch.manual_seed(0)  # the net the killed process makes
    net = local_net()
    how = dict(save_probabilities=True, draw_overlay=True)
    _run(net, slide, tmp_path / "whole", Stop(), **how)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = [p for p in (os.environ.get("PYTHONPATH"), root) if p]
    # as many threads as this process (the reference run): a net's bits depend on them
    threads = str(torch.get_num_threads())
    env = {**os.environ, "OMP_NUM_THREADS": threads, "PYTHONPATH": os.pathsep.join(paths)}
    argv = [sys.executable, "-c", _KILLED, str(slide), str(tmp_path / "out"), where]
    assert subprocess.run(argv, cwd=root, env=env).returncode == -signal.SIGKILL
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert "s.tif" not in names and ".s.tif.partial" in names
    again = Stop()
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slides"):
        _run(net, slide, tmp_path / "out", again, **how)
    assert again.tiles == 0, caplog.messages
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".s")]


@pytest.mark.parametrize("output_format", ["ome-tiff", "ome-zarr"])
def test_objects_stop_while_publishing(tmp_path, small_chunks, monkeypatch, output_format):
    """With objects too (their ids' staging is resumed with the others: review s32 1)."""
    slide = _slide(tmp_path / "s.tif")
    net = local_net()
    how = dict(
        objects=ObjectOptions.for_model,
        outlines="geojson",
        save_probabilities=True,
        output_format=output_format,
    )
    _run(net, slide, tmp_path / "whole", Stop(), **how)
    assert not [p for p in (tmp_path / "whole").iterdir() if p.name.startswith(".s")]
    prob = "s_prob.tif" if output_format == "ome-tiff" else "s_prob.ome.zarr"
    with monkeypatch.context() as m:
        _stop_sealing(m, prob)
        with pytest.raises(KeyboardInterrupt):
            _run(net, slide, tmp_path / "out", Stop(), **how)
    again = Stop()
    _run(net, slide, tmp_path / "out", again, **how)
    assert again.tiles == 0
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".s")]


def test_a_semantic_models_objects_stopped_while_measured_are_published_by_the_rerun(
    tmp_path, small_chunks, monkeypatch
):
    """Stopped while the objects' table is written (a semantic model's: their lookup is
    staged with the ids, which stay too), the rerun predicts no tile and counts them as the
    whole run does."""
    slide = _slide(tmp_path / "s.tif")
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="valid").eval()
    how = dict(objects=ObjectOptions(), outlines="geojson", save_probabilities=True)
    whole, again = [], []
    _run(net, slide, tmp_path / "whole", Stop(), counted=lambda *a: whole.append(a), **how)

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(slide_objects, "write_csv", stopped)
        with pytest.raises(KeyboardInterrupt):
            _run(net, slide, tmp_path / "out", Stop(), **how)
    assert list((tmp_path / "out" / ".s_objects.tif.ids.partial").glob("lookup_*.npz"))
    tiles = Stop()
    _run(net, slide, tmp_path / "out", tiles, counted=lambda *a: again.append(a), **how)
    assert tiles.tiles == 0 and again == whole and whole[0][0]
    assert _outputs(tmp_path / "out") == _outputs(tmp_path / "whole")
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".s")]
