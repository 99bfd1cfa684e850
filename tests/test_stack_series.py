"""Stacks as a time-lapse / z-stack user records them: OME frame times given only as each
plane's DeltaT, multi-position (multi-series) OME-TIFFs, and one count per frame."""

from __future__ import annotations

import csv

import numpy as np
import tifffile
import torch

from unetlab.data.tiffmeta import ome_plane_interval, read_page_axes
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions
from unetlab.models import UNet

H, W = 16, 20


def _model():
    """A net that calls every pixel foreground: one object per page."""
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    last = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([-5.0, 5.0]))
    return model


def _predict(path, out) -> dict:
    model = _model()
    written = predict_file(model, path, out, objects=ObjectOptions.for_model(model))
    return {p.name: p for p in written}


def _table(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _frames(n: int) -> np.ndarray:
    return np.random.default_rng(n).integers(0, 255, (n, H, W), dtype=np.uint8)


def _deltat_movie(path, seconds, unit="s"):
    plane = {"DeltaT": list(seconds), "DeltaTUnit": [unit] * len(seconds)}
    tifffile.imwrite(
        path, _frames(len(seconds)), ome=True, metadata={"axes": "TYX", "Plane": plane}
    )


def test_ome_plane_deltat_gives_the_mean_frame_interval(tmp_path):
    """Only TimeIncrement was read: a Micro-Manager movie's DeltaT gave no t_s, no finterval."""
    _deltat_movie(tmp_path / "d.ome.tif", [0.0, 2.0, 4.5], unit="min")
    assert read_page_axes(tmp_path / "d.ome.tif", 3).timing == {"finterval": 135.0}
    out = _predict(tmp_path / "d.ome.tif", tmp_path / "out")
    rows = _table(out["d_objects.csv"])
    assert [(r["t"], float(r["t_s"])) for r in rows] == [("0", 0.0), ("1", 135.0), ("2", 270.0)]
    with tifffile.TiffFile(out["d.tif"]) as tif:
        assert tif.series[0].axes == "TYX" and tif.imagej_metadata["finterval"] == 135.0


def test_ome_plane_interval_takes_each_time_points_first_plane():
    planes = "".join(
        f'<Plane TheC="0" TheZ="{z}" TheT="{t}" DeltaT="{60 * t + z}" DeltaTUnit="s"/>'
        for t in range(3)
        for z in range(2)
    )
    xml = f'<OME><Image><Pixels SizeT="3">{planes}</Pixels></Image></OME>'
    assert ome_plane_interval(xml) == 60.0
    assert ome_plane_interval(xml.replace('"s"', '"fortnight"')) is None
    one = '<OME><Image><Pixels><Plane TheT="0" DeltaT="5"/></Pixels></Image></OME>'
    assert ome_plane_interval(one) is None


def _two_positions(path):
    with tifffile.TiffWriter(path, ome=True) as tw:
        for i in range(2):
            tw.write(_frames(3) + i, metadata={"axes": "TYX", "Name": f"Pos{i}"})


def test_a_multi_position_ome_tiff_says_its_other_positions_are_not_read(tmp_path, caplog):
    """Only series[0] was read, the other positions dropped unsaid (audit s34 stacks 2)."""
    from unetlab.data.io import read_stack
    from unetlab.data.slides import open_slide

    _two_positions(tmp_path / "p.ome.tif")
    with caplog.at_level("WARNING"):
        assert np.array_equal(read_stack(tmp_path / "p.ome.tif"), _frames(3))
        read_stack(tmp_path / "p.ome.tif")  # said once a file
    (line,) = [r.getMessage() for r in caplog.records if "series" in r.getMessage()]
    assert line.startswith("p.ome.tif holds 2 series (Pos0, Pos1: positions")
    assert "reads series 0 (Pos0) only, the other 1 not at all" in line
    assert "Python: tifffile.TiffFile(path).series[i].asarray()" in line
    _two_positions(tmp_path / "q.ome.tif")
    caplog.clear()
    with caplog.at_level("WARNING"), open_slide(tmp_path / "q.ome.tif"):
        pass
    assert any("q.ome.tif holds 2 series" in r.getMessage() for r in caplog.records)


def test_a_thumbnail_series_is_no_position(tmp_path, caplog):
    from unetlab.data.io import read_stack

    with tifffile.TiffWriter(tmp_path / "t.tif") as tw:
        tw.write(_frames(3), photometric="minisblack", metadata={"axes": "TYX"})
        tw.write(_frames(1)[0, :4, :4])  # a small preview page: another shape
    with caplog.at_level("WARNING"):
        read_stack(tmp_path / "t.tif")
    assert not [r for r in caplog.records if "series" in r.getMessage()]
