"""Predictions of ImageJ hyperstacks keep the input's T and Z axes (a time-lapse stays one in
Fiji) with its frame interval, Z spacing only on Z, and t / z columns in the object table."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tifffile
import torch

from unetlab.data.tiffmeta import PageAxes, read_page_axes
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions
from unetlab.models import UNet

H, W = 16, 20


def _model(channels: int = 1):
    """A net that calls every pixel foreground: one object per page."""
    model = UNet(channels, 2, depth=2, base_channels=2, padding="same").eval()
    last = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([-5.0, 5.0]))
    return model


def _predict(tmp_path, name: str, array: np.ndarray, **kwargs) -> dict:
    """Predict ``array`` saved as ``name`` with ``tifffile.imwrite(**kwargs)``; every output
    by its suffix."""
    tifffile.imwrite(tmp_path / name, array, **kwargs)
    model = _model()
    written = predict_file(
        model,
        tmp_path / name,
        tmp_path / "out",
        save_probabilities=True,
        draw_overlay=True,
        objects=ObjectOptions.for_model(model),
    )
    stem = name.split(".")[0]
    return {p.name[len(stem) :]: p for p in written}


def _axes(path) -> tuple[str, tuple, dict]:
    with tifffile.TiffFile(path) as tif:
        series = tif.series[0]
        return series.axes, series.shape, dict(tif.imagej_metadata or {})


def _table(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _header(path) -> list[str]:
    with open(path, newline="") as f:
        return next(csv.reader(f))


def _frames(t: int, z: int) -> np.ndarray:
    rng = np.random.default_rng(t * 10 + z)
    return rng.integers(0, 255, (t, z, H, W), dtype=np.uint8)


def test_a_tzyx_time_lapse_stays_tzyx_with_its_frame_interval(tmp_path):
    """TZYX (3, 2) came out as one 6-slice Z stack with the Z spacing, no time axis, no
    frame interval and only a page column."""
    stack = _frames(3, 2)
    meta = {"axes": "TZYX", "unit": "um", "spacing": 0.5, "finterval": 60}
    out = _predict(tmp_path, "t.tif", stack, imagej=True, resolution=(5, 5), metadata=meta)
    for suffix, axes in [
        (".tif", "TZYX"),
        ("_objects.tif", "TZYX"),
        ("_overlay.tif", "TZYXS"),
        ("_prob.tif", "TZCYX"),
    ]:
        got, shape, ij = _axes(out[suffix])
        assert (got, shape[:2]) == (axes, (3, 2)), suffix
        assert (ij["frames"], ij["slices"], ij["finterval"]) == (3, 2, 60), suffix
        assert ij["spacing"] == 0.5 and ij["unit"] == "um", suffix
    rows = _table(out["_objects.csv"])
    assert _header(out["_objects.csv"])[:5] == ["page", "t", "t_s", "z", "z_um"]
    pages = [
        (int(r["page"]), int(r["t"]), float(r["t_s"]), int(r["z"]), float(r["z_um"])) for r in rows
    ]
    assert pages == [(t * 2 + z, t, t * 60.0, z, z * 0.5) for t in range(3) for z in range(2)]
    # page i of the labels, read back flat, is page i of the input (evaluate pairs them so)
    labels = tifffile.imread(out[".tif"])
    assert labels.shape == (3, 2, H, W)


def test_a_tcyx_time_lapse_is_written_as_time_not_z(tmp_path):
    stack = np.stack([_frames(4, 1)[:, 0]] * 2, axis=1)  # T, C, Y, X
    meta = {"axes": "TCYX", "unit": "um", "finterval": 2.5}
    tifffile.imwrite(tmp_path / "c.tif", stack, imagej=True, resolution=(5, 5), metadata=meta)
    model = _model(channels=2)
    written = predict_file(
        model, tmp_path / "c.tif", tmp_path / "out", objects=ObjectOptions.for_model(model)
    )
    out = {path.name: path for path in written}
    axes, shape, ij = _axes(out["c.tif"])
    assert (axes, shape[0], ij["frames"], ij["finterval"]) == ("TYX", 4, 4, 2.5)
    assert "spacing" not in ij and "slices" not in ij  # no Z: no Z spacing
    assert [r["t"] for r in _table(out["c_objects.csv"])] == ["0", "1", "2", "3"]


def test_a_ztyx_file_is_written_in_imagej_order(tmp_path):
    """Another writer's Z-before-T order is turned into ImageJ's T, Z (the CSV's page: the
    input's)."""
    stack = _frames(2, 3).transpose(1, 0, 2, 3)  # Z=3, T=2
    out = _predict(tmp_path, "zt.tif", stack, metadata={"axes": "ZTYX"})
    axes, shape, ij = _axes(out[".tif"])
    assert (axes, shape[:2], ij["frames"], ij["slices"]) == ("TZYX", (2, 3), 2, 3)
    assert _axes(out["_objects.tif"])[:2] == ("TZYX", (2, 3, H, W))  # no pixel size: T kept
    rows = _table(out["_objects.csv"])
    assert [int(r["page"]) for r in rows] == list(range(6))
    assert [int(r["z"]) * 2 + int(r["t"]) for r in rows] == list(range(6))
    # the overlay's frame t, slice z is drawn on the input's plane z, t
    drawn = tifffile.imread(out["_overlay.tif"]).astype(float)
    flat = stack.reshape(6, -1).astype(float)
    for t in range(2):
        for z in range(3):
            likeness = [np.corrcoef(drawn[t, z, ..., 1].ravel(), f)[0, 1] for f in flat]
            assert int(np.argmax(likeness)) == z * 2 + t


def test_stacks_without_time_are_written_as_before(tmp_path):
    zyx = _frames(1, 3)[0]
    out = _predict(tmp_path, "z.tif", zyx, photometric="minisblack", metadata={"axes": "ZYX"})
    assert _axes(out[".tif"])[:2] == ("ZYX", (3, H, W))
    with tifffile.TiffFile(out["_objects.tif"]) as tif:  # no pixel size: the labels' axes
        assert tif.is_imagej and tif.series[0].axes == "ZYX"
    assert _header(out["_objects.csv"])[:3] == ["page", "z", "id"]
    plain = _predict(tmp_path, "q.tif", _frames(1, 3)[0], photometric="minisblack")
    assert _axes(plain[".tif"])[:2] == ("ZYX", (3, H, W))  # pages of no known axis: as Z
    assert _header(plain["_objects.csv"])[:2] == ["page", "id"]


def test_page_axes_unfold_and_index():
    axes = PageAxes("ZT", (3, 2))
    pages = np.arange(6)
    assert axes.axes == "TZ"
    assert axes.unfold(pages).tolist() == [[0, 2, 4], [1, 3, 5]]
    assert axes.index(3) == {"t": 1, "z": 1}
    assert PageAxes("Q", (4,)).axes == "Z" and PageAxes("Q", (4,)).index(2) == {}


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_one_page_has_no_page_axes(tmp_path, suffix):
    assert read_page_axes(tmp_path / f"x{suffix}", 1) == PageAxes()
