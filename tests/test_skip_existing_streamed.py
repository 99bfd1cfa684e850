"""``--skip-existing`` and a streamed image's outputs (OME-Zarr folders, OME-TIFFs; session 35
repro 2). A run stopped part-way leaves its outputs PENDING in the manifest; those that carry
the run's key were skipped, but a streamed image's key was not read from an OME-Zarr's
attributes nor an OME-TIFF's description, so its finished outputs were predicted again (hours
for a slide). An output counts only when written to the end (an OME-Zarr's attributes are
sealed into it before it is renamed into place) and after its input's last change."""

from __future__ import annotations

import os
import shutil
import signal

import numpy as np
import pytest
import tifffile
import torch

import unetlab.inference.folders as folders
from unetlab import UNet
from unetlab.inference.folders import predict_folder
from unetlab.inference.records import embedded_key
from unetlab.signals import Stopped

#: a streamed image's outputs in either format; "png": an image read whole (labels a.png)
STREAMED = dict(large_threshold=100)


@pytest.fixture
def work(tmp_path):
    """in/a.tif and in/b.tif (grey 40 x 48), a tiny net."""
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for name in "ab":
        tifffile.imwrite(tmp_path / "in" / f"{name}.tif", rng.integers(0, 255, (40, 48), np.uint8))
    torch.manual_seed(0)
    return tmp_path, UNet(1, 2, depth=2, base_channels=2, padding="same")


def _settings(fmt: str) -> dict:
    return {} if fmt == "png" else dict(STREAMED, output_format=fmt)


def _predict(work, fmt: str, *, stop_at: int | None = None, **extra):
    """predict_folder of in/a.tif and in/b.tif into out/; ``stop_at``: the input (1, 2)
    stopped by SIGTERM as it starts. The names it skipped (None: it was stopped)."""
    tmp_path, model = work
    real, calls = folders.predict_or_fail, []

    def stopped(*args, **kwargs):
        calls.append(1)
        if len(calls) == stop_at:
            raise Stopped(signal.SIGTERM)
        return real(*args, **kwargs)

    inputs = [tmp_path / "in" / "a.tif", tmp_path / "in" / "b.tif"]
    folders.predict_or_fail = stopped
    try:
        result = predict_folder(model, inputs, tmp_path / "out", **_settings(fmt), **extra)
    except Stopped:
        return None
    finally:
        folders.predict_or_fail = real
    return [p.name for p in result.skipped]


def _labels(fmt: str) -> str:
    return {"ome-zarr": "a.ome.zarr", "ome-tiff": "a.tif", "png": "a.png"}[fmt]


@pytest.mark.parametrize("fmt", ["ome-zarr", "ome-tiff"])
def test_a_stopped_runs_streamed_outputs_are_skipped(work, fmt):
    assert _predict(work, fmt, stop_at=2) is None  # a written, b not: a's lines PENDING
    out = work[0] / "out"
    before = os.stat(out / _labels(fmt)).st_mtime_ns
    assert embedded_key(out / _labels(fmt)) is not None
    assert _predict(work, fmt, skip_existing=True) == ["a.tif"]
    assert os.stat(out / _labels(fmt)).st_mtime_ns == before  # not written again
    assert _predict(work, fmt, skip_existing=True) == ["a.tif", "b.tif"]


def test_an_ome_zarr_without_its_attributes_is_not_the_runs(work):
    """unetlab seals an OME-Zarr, attributes and all, before it renames it into place: one
    without them under a stopped run's claim is someone else's, kept, its input failed in
    one line (it was taken for the run's, not written to the end, and replaced: s42 edges)."""
    assert _predict(work, "ome-zarr", stop_at=2) is None
    tmp_path, model = work
    zarr = tmp_path / "out" / "a.ome.zarr"
    (zarr / ".zattrs").unlink()
    assert embedded_key(zarr) is None
    inputs = [tmp_path / "in" / "a.tif", tmp_path / "in" / "b.tif"]
    done = predict_folder(model, inputs, tmp_path / "out", **_settings("ome-zarr"))
    assert not (zarr / ".zattrs").exists() and (zarr / "0").is_dir()  # kept as it was
    assert list(done.failed) == [inputs[0]] and list(done.written) == [inputs[1]]
    assert "a.ome.zarr was not written by unetlab" in done.failed[inputs[0]]


@pytest.mark.parametrize("fmt", ["ome-zarr", "ome-tiff", "png"])
def test_outputs_of_the_input_before_it_changed_are_predicted_again(work, fmt):
    """A changed input's outputs, left as they were by a run stopped before it wrote new
    ones, carry the same key: they are not this input's (a PNG's were skipped)."""
    assert _predict(work, fmt) == []
    tmp_path = work[0]
    labels = tmp_path / "out" / _labels(fmt)
    image = np.random.default_rng(1).integers(0, 255, (40, 48), np.uint8)
    tifffile.imwrite(tmp_path / "in" / "a.tif", image)  # changed, newer than its outputs
    assert _predict(work, fmt, stop_at=1) is None  # its lines relisted, nothing written
    assert _predict(work, fmt, skip_existing=True) == ["b.tif"]
    assert os.stat(labels).st_mtime_ns > os.stat(tmp_path / "in" / "a.tif").st_mtime_ns


@pytest.mark.parametrize("new_in_place", [False, True])
def test_an_ome_zarr_set_aside_by_a_killed_run_is_put_back(work, new_in_place):
    """Killed between :func:`unetlab.data.ome.replace_folder`'s two renames: the earlier
    output set aside as .a.ome.zarr.old (the folder was refused as holding a file unetlab
    did not write); put back where the new one never came, else removed."""
    assert _predict(work, "ome-zarr") == []
    out = work[0] / "out"
    if new_in_place:
        shutil.copytree(out / "a.ome.zarr", out / ".a.ome.zarr.old")
    else:
        os.replace(out / "a.ome.zarr", out / ".a.ome.zarr.old")
    assert _predict(work, "ome-zarr", skip_existing=True) == ["a.tif", "b.tif"]
    assert not (out / ".a.ome.zarr.old").exists()
    assert embedded_key(out / "a.ome.zarr") is not None


def test_a_zarr_input_changed_in_place_is_predicted_again(work):
    """A Zarr input had no stamp (a folder): one rewritten since kept its old outputs."""
    import zarr

    tmp_path, model = work
    source = tmp_path / "in" / "z.zarr"

    def write(seed: int) -> None:
        mode = "r+" if source.exists() else "w"
        array = zarr.open_array(source, mode=mode, shape=(40, 48), chunks=(20, 24), dtype="u1")
        array[:] = np.random.default_rng(seed).integers(0, 255, (40, 48), np.uint8)

    def predicted() -> list[str]:
        how = dict(output_format="ome-zarr", skip_existing=True)
        return [p.name for p in predict_folder(model, [source], tmp_path / "out", **how).skipped]

    write(0)
    assert predicted() == []
    assert predicted() == ["z.zarr"]  # unchanged: skipped
    write(1)  # its chunks rewritten, its metadata as it was
    assert predicted() == []
    assert predicted() == ["z.zarr"]


@pytest.mark.parametrize("fmt", ["ome-zarr", "png"])
def test_a_stopped_runs_outputs_are_confirmed_by_the_rerun_that_skips_them(work, fmt):
    """A stopped run's outputs are PENDING; a ``--skip-existing`` rerun that skips their input
    confirms them, those it does not ask for too (the overlay and probabilities of a run
    that asked for them: they stayed PENDING, made by no finished run)."""
    from unetlab.manifest import PENDING, recorded_keys

    asked = dict(save_probabilities=True, draw_overlay=True)
    assert _predict(work, fmt, stop_at=2, **asked) is None
    out = work[0] / "out"
    written = {p.name for p in out.iterdir() if p.name.startswith("a")}
    assert len(written) == 3  # labels, overlay, probabilities
    assert _predict(work, fmt, skip_existing=True) == ["a.tif"]
    keys = recorded_keys(out, "predict")
    key = keys[_labels(fmt).replace("a.", "b.")]  # b's, predicted by the rerun
    assert not key.startswith(PENDING)
    assert {n: keys[n] for n in written} == dict.fromkeys(written, key)


def test_a_zarr_input_is_walked_once_by_a_rerun_over_its_outputs(work, monkeypatch):
    """Its stamp and last change were walked for each of its PENDING outputs (and twice
    more): a 10,000-chunk Zarr 7 times a rerun, now once."""
    import zarr

    from unetlab import manifest

    tmp_path, model = work
    source = tmp_path / "in" / "z.zarr"
    array = zarr.open_array(source, mode="w", shape=(40, 48), chunks=(20, 24), dtype="u1")
    array[:] = np.random.default_rng(2).integers(0, 255, (40, 48), np.uint8)
    real, calls = folders.predict_or_fail, []

    def stopped(*args, **kwargs):  # at b.tif, z.zarr's outputs written
        calls.append(1)
        if len(calls) == 2:
            raise Stopped(signal.SIGTERM)
        return real(*args, **kwargs)

    inputs, how = [source, tmp_path / "in" / "b.tif"], dict(save_probabilities=True)
    monkeypatch.setattr(folders, "predict_or_fail", stopped)
    with pytest.raises(Stopped):
        predict_folder(model, inputs, tmp_path / "out", draw_overlay=True, **how)
    monkeypatch.setattr(folders, "predict_or_fail", real)
    walked, top_files = [], manifest._top_files

    def walking(root):
        walked.append(root)
        return top_files(root)

    monkeypatch.setattr(manifest, "_top_files", walking)
    result = predict_folder(
        model, inputs, tmp_path / "out", draw_overlay=True, skip_existing=True, **how
    )
    assert [p.name for p in result.skipped] == ["z.zarr"]
    assert [p for p in walked if p == source] == [source]


@pytest.mark.parametrize("fmt", ["ome-zarr", "ome-tiff"])
def test_an_earlier_streamed_input_s_summary_row_has_its_scale(work, fmt):
    """objects_summary.csv's row of an earlier run's streamed input (a run of another input
    into the folder) has the scale its outputs' record gives (1: a streamed image is never
    rescaled): an OME-Zarr's record was not looked for (only .tif and .png names), its
    scale empty."""
    import csv

    tmp_path, model = work
    out = tmp_path / "out"
    predict_folder(model, [tmp_path / "in" / "a.tif"], out, objects=True, **_settings(fmt))
    predict_folder(model, [tmp_path / "in" / "b.tif"], out, objects=True)
    with open(out / "objects_summary.csv", newline="") as f:
        rows = [(r["image"], r["status"], r["scale"]) for r in csv.DictReader(f)]
    assert sorted(rows) == [("a.tif", "earlier-run", "1"), ("b.tif", "done", "1")]
