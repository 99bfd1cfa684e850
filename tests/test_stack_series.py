"""Stacks as a time-lapse / z-stack user records them: OME frame times given only as each
plane's DeltaT, multi-position (multi-series) OME-TIFFs, and one count per frame."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tifffile

from tests.test_output_tiff_meta import foreground_model
from unetlab.data.tiffmeta import ome_plane_interval, read_page_axes
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions

H, W = 16, 20


def _predict(path, out) -> dict:
    model = foreground_model()
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


def _movie_and_well(tmp_path):
    """A 3-frame ImageJ time-lapse (60 s a frame) whose frame 1 is dark, and a PNG well."""
    from tests.test_predict_objects import nuclei_image
    from unetlab.data.io import write_png

    frames = np.stack(
        [nuclei_image(60, 70, 1), np.full((60, 70), 40, np.uint8), nuclei_image(60, 70, 2)]
    )
    meta = {"axes": "TYX", "finterval": 60, "unit": "um"}
    folder = tmp_path / "in"
    folder.mkdir()
    tifffile.imwrite(folder / "movie.tif", frames, imagej=True, resolution=(2, 2), metadata=meta)
    write_png(folder / "well.png", nuclei_image(60, 70, 3))
    return folder


def test_a_stack_has_one_summary_row_per_frame_zero_object_frames_too(
    tmp_path, monkeypatch, caplog
):
    """objects_summary.csv gave a movie one row, its frames' objects summed (199 "objects"
    for ~15 nuclei), and a frame without objects was in no table (audit s34 stacks 6)."""
    import unetlab
    from tests.test_predict_objects import local_net
    from unetlab.cli import main

    net = local_net()
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    folder, out = _movie_and_well(tmp_path), tmp_path / "out"
    argv = ["predict", "--checkpoint", "any.pt", "--input", str(folder), "--output", str(out)]
    with caplog.at_level("INFO", logger="unetlab"):
        assert main([*argv, "--instances"]) == 0
    rows = _table(out / "objects_summary.csv")
    with open(out / "objects_summary.csv", newline="") as f:
        header = next(csv.reader(f))
    assert header[:9] == ["image", "status", "path", "page", "t", "t_s", "z", "z_um", "objects"]
    movie = [r for r in rows if r["image"] == "movie.tif"]
    assert [(r["page"], r["t"], float(r["t_s"])) for r in movie] == [
        ("0", "0", 0.0),
        ("1", "1", 60.0),
        ("2", "2", 120.0),
    ]
    objects = _table(out / "movie_objects.csv")
    per_frame = [sum(o["page"] == str(p) for o in objects) for p in range(3)]
    assert [int(r["objects"]) for r in movie] == per_frame and per_frame[1] == 0
    assert movie[1]["total_area"] == "0" and movie[1]["mean_area"] == ""
    assert float(movie[0]["total_area_um2"]) > 0 and float(movie[0]["focus"]) > 0
    (well,) = [r for r in rows if r["image"] == "well.png"]  # one image: one row as before
    assert well["page"] == well["t"] == "" and int(well["objects"]) > 0
    total = sum(per_frame) + int(well["objects"])
    said = [r.getMessage() for r in caplog.records if r.getMessage().endswith("summary.csv")]
    assert said == [
        f"objects: {total} in 2 images (3 frames or planes of stacks), an object counted in "
        "each frame or plane it is in; one row per image (a stack: one per frame or plane) "
        "in objects_summary.csv"
    ]


def test_plane_names_say_frame_and_plane():
    from unetlab.inference.objects_summary import plane_name

    assert plane_name({"image": "m.tif", "page": 4, "t": 1, "z": 2}) == "m.tif frame 1 plane 2"
    assert plane_name({"image": "m.tif", "page": 3, "z": 3}) == "m.tif plane 3"
    assert plane_name({"image": "q.tif", "page": 3}) == "q.tif page 3"
    assert plane_name({"image": "w.png"}) == "w.png"


def test_page_axes_label_a_page_frame_or_plane():
    from unetlab.data.tiffmeta import PageAxes

    assert PageAxes("T", (5,)).label(3) == "frame 3"
    assert PageAxes("Z", (5,)).label(2) == "plane 2"
    assert PageAxes("TZ", (2, 3)).label(4) == "frame 1 plane 1"
    assert PageAxes("ZT", (3, 2)).label(1) == "frame 1 plane 0"
    assert PageAxes("Q", (4,)).label(3) == "page 3"
    assert PageAxes().label(0) == "page 0"


def test_irregular_deltat_frame_times_are_said(tmp_path, caplog):
    _deltat_movie(tmp_path / "r.ome.tif", [0.0, 200.0, 600.0])
    with caplog.at_level("WARNING"):
        assert read_page_axes(tmp_path / "r.ome.tif", 3).timing == {"finterval": 300.0}
    (line,) = [r.getMessage() for r in caplog.records if "DeltaT" in r.getMessage()]
    assert line == (
        "r.ome.tif: its frames' times (OME Plane DeltaT) step 200 to 400 s apart: t_s and the "
        "outputs' frame interval use their mean, 300 s (each frame's own time is in the "
        "file's OME-XML)"
    )
    caplog.clear()
    _deltat_movie(tmp_path / "g.ome.tif", [0.0, 300.0, 601.0])  # within 5%: regular
    with caplog.at_level("WARNING"):
        read_page_axes(tmp_path / "g.ome.tif", 3)
    assert not caplog.records


def test_plane_rows_carry_only_the_place_columns_the_objects_table_has(tmp_path):
    from pathlib import Path

    from unetlab.inference.objects_summary import plane_rows

    ids = np.zeros((3, H, W), np.uint16)
    meta = {"axes": "TYX", "finterval": 5}
    tifffile.imwrite(tmp_path / "m_objects.tif", ids, imagej=True, metadata=meta)
    table = Path(tmp_path / "m_objects.csv")
    table.write_text("page,id,area\n0,1,4\n2,1,6\n2,2,2\n")
    rows = plane_rows({"image": "m.tif", "status": "done"}, table, tmp_path / "m")
    assert [(r["page"], r["objects"], r["total_area"]) for r in rows] == [
        (0, 1, 4.0),
        (1, 0, 0.0),
        (2, 2, 8.0),
    ]
    assert "t" not in rows[0] and "t_s" not in rows[0]
    table.write_text("page,t,t_s,id,area\n0,0,0,1,4\n")
    rows = plane_rows({"image": "m.tif", "status": "done"}, table, tmp_path / "m")
    assert [(r["t"], r["t_s"], r["objects"]) for r in rows] == [
        (0, 0.0, 1),
        (1, 5.0, 0),
        (2, 10.0, 0),
    ]


def test_a_single_movie_gets_one_summary_row_per_frame(tmp_path, monkeypatch, caplog):
    """One movie predicted alone wrote no objects_summary.csv (a folder's movie had one row
    a frame): its per-frame counts were in no table (s35 movies 3)."""
    import unetlab
    from tests.test_predict_objects import local_net
    from unetlab.cli import main

    net = local_net()
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    movie, out = _movie_and_well(tmp_path) / "movie.tif", tmp_path / "out"
    argv = ["predict", "--checkpoint", "any.pt", "--input", str(movie), "--output", str(out)]
    with caplog.at_level("INFO", logger="unetlab"):
        assert main([*argv, "--instances"]) == 0
    rows = _table(out / "objects_summary.csv")
    objects = _table(out / "movie_objects.csv")
    per_frame = [sum(o["page"] == str(p) for o in objects) for p in range(3)]
    assert [(r["image"], r["t"], float(r["t_s"]), int(r["objects"])) for r in rows] == [
        ("movie.tif", str(t), 60.0 * t, n) for t, n in enumerate(per_frame)
    ]
    said = [r.getMessage() for r in caplog.records if r.getMessage().endswith("summary.csv")]
    assert len(said) == 1 and said[0].startswith(f"objects: {sum(per_frame)} in 1 image (3 ")
    caplog.clear()
    tifffile.imwrite(tmp_path / "in" / "one.tif", _frames(1)[0])  # one image: its table says it
    argv = ["predict", "--checkpoint", "any.pt", "--input", str(tmp_path / "in" / "one.tif")]
    assert main([*argv, "--output", str(tmp_path / "one"), "--instances"]) == 0
    assert not (tmp_path / "one" / "objects_summary.csv").exists()


def test_a_movies_lines_say_frames_and_a_z_stacks_planes(tmp_path, monkeypatch, caplog):
    """A movie's objects were counted "in 3 planes (... per plane)" (s35 movies 2)."""
    import unetlab.checkpoint
    from unetlab.cli import main

    net = foreground_model()
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    for axes in ("TYX", "ZYX"):
        tifffile.imwrite(tmp_path / f"{axes}.tif", _frames(3), imagej=True, metadata={"axes": axes})
    said = {}
    for axes in ("TYX", "ZYX"):
        caplog.clear()
        argv = ["predict", "--checkpoint", "any.pt", "--input", str(tmp_path / f"{axes}.tif")]
        with caplog.at_level("INFO", logger="unetlab"):
            assert main([*argv, "--output", str(tmp_path / axes), "--instances"]) == 0
        (said[axes],) = [r.getMessage() for r in caplog.records if " objects in " in r.getMessage()]
    assert said["TYX"] == (  # a file given alone: by its path, as its other lines (s56)
        f"{tmp_path / 'TYX.tif'}: 3 objects in 3 frames (1-1 per frame; 2-D objects, counted "
        "in each frame they are in)"
    )
    assert said["ZYX"].startswith(f"{tmp_path / 'ZYX.tif'}: 3 objects in 3 planes (1-1 per plane;")


def test_a_movies_problem_names_its_frame(tmp_path):
    frames = _frames(3).astype(np.float32)
    frames[1, 2, 3] = np.nan
    tifffile.imwrite(tmp_path / "m.tif", frames, imagej=True, metadata={"axes": "TYX"})
    with pytest.raises(UnetlabError, match=r"m\.tif.* in frame 1"):
        predict_file(foreground_model(), tmp_path / "m.tif", tmp_path / "out")


def test_a_streamed_movies_progress_says_the_frame(tmp_path, caplog):
    """A streamed movie's bar and lines counted tiles only, not the frame a user knows."""
    tifffile.imwrite(tmp_path / "m.tif", _frames(3), imagej=True, metadata={"axes": "TYX"})
    with caplog.at_level("INFO", logger="unetlab"):
        predict_file(foreground_model(), tmp_path / "m.tif", tmp_path / "out", large_threshold=100)
    said, m = [r.getMessage() for r in caplog.records], tmp_path / "m.tif"  # alone: by path
    assert [
        s for s in said if s.startswith(f"{m}: 16 x 20 px (3 frames, level 0 (its only level))")
    ]
    lines = [r.getMessage() for r in caplog.records if " tiles (" in r.getMessage()]
    assert lines[-1].startswith(f"{m} frame 2 (3 of 3): 3 of 3 tiles (100%)")
    assert any(line.startswith(f"{m} frame 0 (1 of 3): ") for line in lines)


@pytest.mark.parametrize("axes", ["TYX", "TZYX"])
def test_a_streamed_stack_written_as_ome_zarr_has_a_summary_row_per_frame_and_plane(tmp_path, axes):
    """A movie streamed as OME-Zarr had one summary row, its frames' 49 objects summed
    (OME-TIFF: 17, 16, 16): its pages were read from its TIFF outputs only (plane_rows)."""
    import torch

    from unetlab import UNet
    from unetlab.inference.folders import predict_folder

    shape = {"TYX": (3, 40, 48), "TZYX": (2, 2, 40, 48)}[axes]
    image = np.random.default_rng(0).integers(0, 255, shape, np.uint8)
    meta = {"axes": axes, "finterval": 60.0, "spacing": 2.0, "unit": "um"}
    tifffile.imwrite(tmp_path / "s.tif", image, imagej=True, resolution=(2, 2), metadata=meta)
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same")
    rows = {}
    for fmt in ("ome-tiff", "ome-zarr"):
        how = dict(objects=True, large_threshold=100, output_format=fmt)
        predict_folder(net, [tmp_path / "s.tif"], tmp_path / fmt, **how)
        rows[fmt] = _table(tmp_path / fmt / "objects_summary.csv")
    assert rows["ome-zarr"] == rows["ome-tiff"]
    per_page = [int(r["objects"]) for r in rows["ome-zarr"]]
    assert len(per_page) == int(np.prod(shape[:-2])) and len(set(per_page)) > 1
    assert [float(r["t_s"]) for r in rows["ome-zarr"]][-1] == 60.0 * (shape[0] - 1)
    if axes == "TZYX":
        assert [(r["t"], r["z"], r["z_um"]) for r in rows["ome-zarr"]] == [
            ("0", "0", "0"),
            ("0", "1", "2"),
            ("1", "0", "0"),
            ("1", "1", "2"),
        ]


def _z_then_t_stack(path) -> None:
    """A 2 x 3 Z, T ordered stack (tifffile's ZTYX: page 1 is z 0, t 1) recording its
    pixel size, z spacing and frame interval, its second plane of frame 1 dark (no
    objects)."""
    image = np.random.default_rng(0).integers(0, 255, (2, 3, 40, 48), np.uint8)
    image[1, 1] = 0
    meta = {"axes": "ZTYX", "PhysicalSizeZ": 2.5, "TimeIncrement": 30.0}
    meta.update(PhysicalSizeX=0.5, PhysicalSizeY=0.5)  # without, read whole has no z_um
    tifffile.imwrite(path, image, ome=True, metadata=meta)


@pytest.mark.parametrize("fmt", ["ome-tiff", "ome-zarr"])
def test_a_streamed_z_then_t_stack_reads_as_its_t_and_z_as_read_whole(tmp_path, fmt):
    """A Z, T ordered stack streamed was read as 6 Z planes (slides._page_axes took T, TZ
    only): no ``t``, z = page, ``z_um`` page x spacing across frames, outputs ZYX; read
    whole it has T and Z. Streamed, its table, summary rows and labels are now those of
    the stack read whole, its outputs T, Z."""
    import torch

    from unetlab import UNet
    from unetlab.data.ome import output_pages
    from unetlab.inference.folders import predict_folder

    _z_then_t_stack(tmp_path / "s.tif")
    got = {}
    for how, streamed in (("whole", {}), ("streamed", {"large_threshold": 100})):
        torch.manual_seed(0)
        net = UNet(1, 2, depth=2, base_channels=2, padding="same")
        how_ = dict(objects=True, output_format=fmt, **streamed)
        predict_folder(net, [tmp_path / "s.tif"], tmp_path / how, **how_)
        got[how] = [_table(tmp_path / how / n) for n in ("s_objects.csv", "objects_summary.csv")]
    (table, rows), whole = got["streamed"], got["whole"]
    assert {(o["page"], o["t"], o["z"], o["z_um"], o["t_s"]) for o in table} >= {
        ("1", "1", "0", "0", "30"),
        ("3", "0", "1", "2.5", "0"),
    }
    assert table == whole[0] and rows == whole[1]
    counts = {r["page"]: int(r["objects"]) for r in rows}
    assert counts == {str(p): sum(o["page"] == str(p) for o in table) for p in range(6)}
    assert counts["4"] == 0 and all(counts[p] for p in "01235")
    labels = tifffile.imread(tmp_path / "whole" / "s.tif")  # read whole: T, Z
    if fmt == "ome-tiff":
        with tifffile.TiffFile(tmp_path / "streamed" / "s.tif") as tif:
            assert tif.series[0].axes == "TZYX"
            np.testing.assert_array_equal(tif.asarray(), labels)
    else:
        axes, spacing = output_pages(tmp_path / "streamed" / "s.ome.zarr")
        assert (axes.letters, axes.shape, spacing) == ("TZ", (3, 2), 2.5)


@pytest.mark.parametrize("streamed", [{}, {"large_threshold": 100}], ids=["whole", "streamed"])
def test_a_bare_stack_given_z_then_t_axes_has_the_summary_rows_of_one_that_records_them(
    tmp_path, streamed
):
    """A stack that records no axes, given ``axes="ZTYX"``: its table was right, but its
    summary rows took their pages as the file's own (none: page = output page), pairing page
    1's figures (t 1, z 0) with t 0, z 1. They are now those of the same stack saved with
    axes ZTYX, as this run read it and, for an earlier run's rows, as its record says."""
    import torch

    from unetlab import UNet
    from unetlab.inference.folders import predict_folder

    image = np.random.default_rng(0).integers(0, 255, (2, 3, 40, 48), np.uint8)
    image[1, 1] = 0
    for name, meta in (("bare", {}), ("named", {"axes": "ZTYX"})):
        (tmp_path / name).mkdir()
        tifffile.imwrite(tmp_path / name / "s.tif", image, photometric="minisblack", metadata=meta)
    tifffile.imwrite(tmp_path / "other.tif", image[0, 0])
    rows = {}
    for name, given in (("bare", {"axes": "ZTYX"}), ("named", {})):
        out, how = tmp_path / f"{name}_out", dict(objects=True, **streamed)
        runs = (([tmp_path / name / "s.tif"], given), ([tmp_path / "other.tif"], {}))
        for run, (inputs, axes) in enumerate(runs):  # the second: s.tif's an earlier run's
            torch.manual_seed(0)
            net = UNet(1, 2, depth=2, base_channels=2, padding="same")
            predict_folder(net, inputs, out, **how, **axes)
            got = _table(out / "objects_summary.csv")
            keep = ("page", "t", "z", "objects", "total_area", "focus")
            rows[name, run] = [[r[k] for k in keep] for r in got if r["image"] == "s.tif"]
    assert rows["bare", 0] == rows["named", 0] == rows["bare", 1] == rows["named", 1]
    assert [r[:4] for r in rows["bare", 0][:3]] == [
        ["0", "0", "0", "17"],
        ["3", "0", "1", "13"],
        ["1", "1", "0", "16"],
    ]


def test_a_bare_stack_given_z_then_t_axes_has_the_3d_frames_focus_of_one_that_records_them(
    tmp_path,
):
    """Its 3-D objects' rows (one a frame, ``objects_3d``) measured each frame's focus near
    the parts of another frame's objects: its ids' pages were put at the file's own pages."""
    import torch

    from unetlab import UNet
    from unetlab.inference.folders import predict_folder

    image = np.random.default_rng(0).integers(0, 255, (2, 3, 40, 48), np.uint8)
    rows = {}
    for name, meta, given in (("bare", {}, {"axes": "ZTYX"}), ("named", {"axes": "ZTYX"}, {})):
        tifffile.imwrite(tmp_path / f"{name}.tif", image, photometric="minisblack", metadata=meta)
        torch.manual_seed(0)
        net = UNet(1, 2, depth=2, base_channels=2, padding="same")
        how = dict(objects=True, objects_3d=True, **given)
        predict_folder(net, [tmp_path / f"{name}.tif"], tmp_path / name, **how)
        got = _table(tmp_path / name / "objects_summary.csv")
        rows[name] = [(r["t"], r["objects"], r["total_volume"], r["focus"]) for r in got]
    assert rows["bare"] == rows["named"] and len(rows["bare"]) == 3
