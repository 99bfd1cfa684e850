"""Multi-position OME-TIFFs (Micro-Manager and other stage-position acquisitions: each OME
Image a series): ``unetlab predict`` predicts each position, its outputs named for it."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tifffile

from tests.test_output_tiff_meta import foreground_model

H, W, FRAMES = 16, 20, 3


def _positions(path, count: int = 2):
    """``count`` positions of FRAMES frames, position i of (i + 1) * 0.4 um pixels and
    (i + 1) * 10 s frames, its pixels i + 1 brighter."""
    rng = np.random.default_rng(0)
    with tifffile.TiffWriter(path, ome=True) as tw:
        for i in range(count):
            side, every = 0.4 * (i + 1), 10.0 * (i + 1)
            meta = {"axes": "TYX", "Name": f"Pos{i}", "PhysicalSizeX": side}
            meta |= {"PhysicalSizeY": side, "TimeIncrement": every, "TimeIncrementUnit": "s"}
            tw.write(rng.integers(0, 200, (FRAMES, H, W), dtype=np.uint8) + i, metadata=meta)


def _predict(tmp_path, monkeypatch, out: str, *flags: str) -> int:
    import unetlab.checkpoint
    from unetlab.cli import main

    net = getattr(_predict, "net", None) or foreground_model()
    _predict.net = net  # one model for every run of a test module: reruns skip
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    inputs = ["--input", str(tmp_path / "p.ome.tif"), "--output", str(tmp_path / out)]
    return main(["predict", "--checkpoint", "any.pt", *inputs, "--instances", *flags])


def _rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _scale(path) -> tuple:
    """(series axes, seconds a frame, um a pixel) of a TIFF output (ImageJ or OME)."""
    from unetlab.data.tiffmeta import frame_seconds, read_page_axes, read_pixel_size

    with tifffile.TiffFile(path) as tif:
        axes = tif.series[0].axes
    seconds = frame_seconds(read_page_axes(path, FRAMES).timing)
    return axes, seconds, read_pixel_size(path).size


@pytest.mark.parametrize("large", [[], ["--large-pixels", "100"]], ids=["whole", "streamed"])
def test_each_position_is_predicted_with_its_own_scale_and_frame_interval(
    tmp_path, monkeypatch, caplog, large
):
    """Only series 0 was read (a warning named the others): the other positions had no
    outputs (audit s34 stacks 2)."""
    _positions(tmp_path / "p.ome.tif")
    with caplog.at_level("INFO", logger="unetlab"):
        assert _predict(tmp_path, monkeypatch, "out", *large) == 0
    out = tmp_path / "out"
    for i in range(2):
        labels, ids = out / f"p_pos{i}.tif", out / f"p_pos{i}_objects.tif"
        for output in (labels, ids):
            side = 0.4 * (i + 1)
            assert _scale(output) == ("TYX", 10.0 * (i + 1), pytest.approx((side, side)))
        with tifffile.TiffFile(labels) as tif:
            assert tif.series[0].shape[-3:] == (FRAMES, H, W)
        objects = _rows(out / f"p_pos{i}_objects.csv")
        assert [float(r["t_s"]) for r in objects] == [0.0, 10.0 * (i + 1), 20.0 * (i + 1)]
        assert {(r["image"], r["position"]) for r in objects} == {("p.ome.tif", str(i))}
    assert not (out / "p.tif").exists()
    said = [r.getMessage() for r in caplog.records]
    assert not [m for m in said if "series" in m]  # none is left unread
    rows = _rows(out / "objects_summary.csv")
    assert [(r["position"], r["position_name"], r["t"], r["t_s"]) for r in rows] == [
        (str(i), f"Pos{i}", str(t), f"{10 * (i + 1) * t:g}") for i in range(2) for t in range(3)
    ]
    assert [float(r["total_area_um2"]) for r in rows[::3]] == pytest.approx(
        [H * W * 0.16, H * W * 0.64]
    )
    assert any("in 1 image (2 positions; 6 frames or planes" in m for m in said)
    for i in range(2):  # a line for each position, its frames counted
        assert f"p.ome.tif position {i}: 3 objects in 3 frames (1-1 per frame;" in "\n".join(said)


def test_a_rerun_skips_a_file_whose_every_position_is_written(tmp_path, monkeypatch):
    _positions(tmp_path / "p.ome.tif")
    assert _predict(tmp_path, monkeypatch, "out") == 0
    (tmp_path / "out" / "p_pos1.tif").unlink()  # a stopped run: position 1 not finished
    assert _predict(tmp_path, monkeypatch, "out", "--skip-existing") == 0
    assert (tmp_path / "out" / "p_pos1.tif").is_file()
    assert [r["status"] for r in _rows(tmp_path / "out" / "objects_summary.csv")] == ["done"] * 6
    assert _predict(tmp_path, monkeypatch, "out", "--skip-existing") == 0
    rows = _rows(tmp_path / "out" / "objects_summary.csv")
    assert [r["status"] for r in rows] == ["skipped-existing"] * 6


def test_position_names_sort_and_reading_a_position_reads_its_series(tmp_path):
    from unetlab.data.io import ome_positions, read_stack
    from unetlab.data.positions import position_suffix, reading_position
    from unetlab.data.tiffmeta import read_page_axes, read_pixel_size
    from unetlab.inference.slides import output_stem, output_stems

    assert [position_suffix(i, 12) for i in (0, 3, 11)] == ["_pos00", "_pos03", "_pos11"]
    assert position_suffix(1, 2) == "_pos1"
    path = tmp_path / "p.ome.tif"
    _positions(path, 3)
    assert ome_positions(path) == ["Pos0", "Pos1", "Pos2"]
    assert output_stems(path) == ["p_pos0", "p_pos1", "p_pos2"]
    one = tmp_path / "one.ome.tif"
    tifffile.imwrite(one, np.zeros((2, H, W), np.uint8), metadata={"axes": "TYX"})
    assert ome_positions(one) == [] and output_stems(one) == ["one"]
    with reading_position(path, 2, 3):
        assert output_stem(path) == "p_pos2" and output_stem(one) == "one"  # that file's
        assert read_stack(path).min() >= 2  # position 2's pixels
        assert read_pixel_size(path).size == pytest.approx((1.2, 1.2))
        assert read_page_axes(path, FRAMES).timing == {"finterval": 30.0}
        assert read_pixel_size(one) is None  # another file: its first series
    assert read_pixel_size(path).size == pytest.approx((0.4, 0.4))


def _sizes(path):
    """p.ome.tif: a position of 2 frames H x W, then one of 4x the pixels (all 100)."""
    with tifffile.TiffWriter(path, ome=True) as tw:
        for side in (1, 2):
            frames = np.full((2, H * side, W * side), 100, np.uint8)
            tw.write(frames, metadata={"axes": "TYX"})


@pytest.mark.parametrize(("rank", "kept"), [(None, False), (1, False), (None, True)])
def test_a_much_larger_later_position_is_streamed_by_its_own_size(
    tmp_path, monkeypatch, rank, kept
):
    """Each position was put to the first's stream rule (ea7ed94): a later position over
    the memory budget was read whole. Now each is decided by its own size; in a folder's
    group (rank 1 of 2, a file dealt to it) it is streamed by that process alone, whole.
    ``kept``: within a command's reads kept (headers_read_once) after its first look at the
    file, each position's header its own (s62 review: one kept for all read it whole)."""
    import contextlib

    from unetlab.data.io import ome_positions
    from unetlab.data.positions import reading_position
    from unetlab.group import Group
    from unetlab.inference import sizing
    from unetlab.inference.every_file import headers_read_once
    from unetlab.inference.files import predict_file
    from unetlab.inference.stream_rule import whole_estimate

    path, model = tmp_path / "p.ome.tif", foreground_model()
    _sizes(path)
    needs = []
    for i in range(2):
        with reading_position(path, i, 2):
            needs.append(whole_estimate(path, model, stacks=True)[1])
    monkeypatch.setattr(sizing, "WHOLE_BUDGET", (needs[0] * needs[1]) ** 0.5)  # between
    group = {} if rank is None else {"group": Group(rank=rank, world=2)}
    with headers_read_once() if kept else contextlib.nullcontext():
        assert not kept or ome_positions(path) == ["Image0", "Image1"]  # the first look
        written = predict_file(model, path, tmp_path / "out", **group)
    assert [p.name for p in written] == ["p_pos0.tif", "p_pos1.tif"]
    with tifffile.TiffFile(written[0]) as tif:  # read whole: an ImageJ TIFF
        assert tif.is_imagej and not tif.is_ome
    with tifffile.TiffFile(written[1]) as tif:  # streamed: an OME-TIFF, all its rows
        assert tif.is_ome
        labels = tif.asarray()
    assert labels.shape == (2, 2 * H, 2 * W)
    whole = predict_file(model, path, tmp_path / "whole", large_threshold=10**9)[1]
    assert np.array_equal(labels, tifffile.imread(whole))


def test_a_files_ome_xml_is_parsed_once_over_its_positions_and_readers(tmp_path, monkeypatch):
    """Each reader (pixel size, channel names, frame times) parsed the OME-XML again for
    each position, from its start through all earlier Images (24 positions of 60 x 2 planes:
    6.4 M characters for a 0.2 M document, 1.0-1.3 s); now once a file."""
    import xml.etree.ElementTree as ET

    from unetlab.data.positions import reading_position
    from unetlab.data.tiffmeta import channel_names, read_page_axes, read_pixel_size

    path, count, frames = tmp_path / "p.ome.tif", 4, 3
    with tifffile.TiffWriter(path, ome=True) as tw:
        for i in range(count):
            every = 10.0 * (i + 1)  # each frame's two planes: DeltaT t * every, + 1 s
            times = [t * every + c for t in range(frames) for c in range(2)]
            meta = {"axes": "TCYX", "Name": f"{tmp_path.name} {i}", "PhysicalSizeX": 0.2 * (i + 1)}
            meta |= {"PhysicalSizeY": 0.2 * (i + 1), "Channel": {"Name": [f"a{i}", f"b{i}"]}}
            meta |= {"Plane": {"DeltaT": times, "DeltaTUnit": ["s"] * len(times)}}
            tw.write(np.zeros((frames, 2, 8, 8), np.uint8), metadata=meta)
    with tifffile.TiffFile(path) as tif:
        size = len(tif.ome_metadata)
    fed, feed = [], ET.XMLPullParser.feed
    monkeypatch.setattr(
        ET.XMLPullParser, "feed", lambda p, data: fed.append(len(data)) or feed(p, data)
    )
    for i in range(count):
        with reading_position(path, i, count):
            assert read_pixel_size(path).size == pytest.approx((0.2 * (i + 1),) * 2)
            assert channel_names(path) == [f"a{i}", f"b{i}"]
            assert read_page_axes(path, frames).timing == {"finterval": 10.0 * (i + 1)}
    assert 0 < sum(fed) <= size


@pytest.mark.parametrize("scale", [[], ["--scale", "2"]], ids=["1", "2"])
def test_the_summary_s_scale_is_each_position_s_in_a_rerun_too(tmp_path, monkeypatch, scale):
    """objects_summary.csv has a ``scale`` column always (1: no rescale), and a rerun's
    rows of a multi-position file's skipped positions have it from their record: it was
    absent at 1, and empty in those rows at --scale 2 (looked up under the file's stem,
    which no output has)."""
    _positions(tmp_path / "p.ome.tif")
    factor = scale[-1] if scale else "1"
    assert _predict(tmp_path, monkeypatch, "out", *scale) == 0
    rows = _rows(tmp_path / "out" / "objects_summary.csv")
    assert [(r["status"], r["scale"]) for r in rows] == [("done", factor)] * 6
    assert _predict(tmp_path, monkeypatch, "out", "--skip-existing", *scale) == 0
    rows = _rows(tmp_path / "out" / "objects_summary.csv")
    assert [(r["status"], r["scale"]) for r in rows] == [("skipped-existing", factor)] * 6


def test_scale_auto_predicts_records_and_reports_each_position_s_own_factor(tmp_path, monkeypatch):
    """``--scale auto`` of a file whose positions have 0.4- and 0.8-µm pixels (a model
    trained on 0.4): each position is predicted at its own factor (1, 2), and
    objects_summary.csv said the first factor noted (2) on every row, and a rerun's rows
    read the file's record, which kept one factor for the file (2): now each position's
    (predict.json ``files`` -> ``positions`` -> index -> ``scale``)."""
    import json

    import unetlab.checkpoint
    import unetlab.inference.predict as predict
    from unetlab.cli import main

    _positions(tmp_path / "p.ome.tif")
    net = foreground_model()
    net.objects = {"target": "semantic", "pixel_size": [0.4, 0.4], "area_median": 20}
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    real, used = predict.rescaled, []
    monkeypatch.setattr(predict, "rescaled", lambda image, f: used.append(f) or real(image, f))
    out = tmp_path / "out"
    run = ["predict", "--checkpoint", "any.pt", "--input", str(tmp_path / "p.ome.tif")]
    run += ["--output", str(out), "--instances", "--scale", "auto"]
    assert main(run) == 0
    assert used == [1, 1, 1, 2, 2, 2]  # each frame of position 0, then of position 1
    rows = _rows(out / "objects_summary.csv")
    assert [(r["position"], r["scale"]) for r in rows] == [
        (str(i), str(i + 1)) for i in range(2) for _ in range(FRAMES)
    ]
    (found,) = [
        e["files"] for e in json.loads((out / "predict.json").read_text())["records"].values()
    ]
    mine = found[str((tmp_path / "p.ome.tif").resolve())]
    assert mine["positions"] == {"0": {"scale": 1.0}, "1": {"scale": 2.0}}
    assert mine["scale"] == [1.0, 2.0]  # the file's factors, 1 too (was 2.0: none but 1 noted)
    assert main([*run, "--skip-existing"]) == 0
    rows = _rows(out / "objects_summary.csv")
    assert [(r["status"], r["position"], r["scale"]) for r in rows] == [
        ("skipped-existing", str(i), str(i + 1)) for i in range(2) for _ in range(FRAMES)
    ]


@pytest.mark.parametrize(
    "older, cell",
    [({"scale": 2.0}, ""), ({"scale": [2.0, 3.0]}, ""), ({}, "1")],
    ids=["one-factor", "factors", "none-noted"],
)
def test_an_older_record_without_positions_gives_no_guessed_scale(
    tmp_path, monkeypatch, older, cell
):
    """An older unetlab's record of a multi-position file under ``--scale auto`` kept only
    the file's factors other than 1 (no ``positions``): a rerun's rows of its skipped
    positions say none (empty: which position ran at which is not known), not the file's
    first factor for each; where it noted none, every position ran at 1."""
    import json

    import unetlab.checkpoint
    from unetlab.cli import main

    _positions(tmp_path / "p.ome.tif")
    net = foreground_model()
    net.objects = {"target": "semantic", "pixel_size": [0.4, 0.4], "area_median": 20}
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    out = tmp_path / "out"
    run = ["predict", "--checkpoint", "any.pt", "--input", str(tmp_path / "p.ome.tif")]
    run += ["--output", str(out), "--instances", "--scale", "auto"]
    assert main(run) == 0
    whole = json.loads((out / "predict.json").read_text())
    (entry,) = whole["records"].values()
    path = str((tmp_path / "p.ome.tif").resolve())
    entry["files"][path] = {
        k: v for k, v in entry["files"][path].items() if k not in ("positions", "scale")
    } | older  # as an older unetlab wrote it
    (out / "predict.json").write_text(json.dumps(whole))
    assert main([*run, "--skip-existing"]) == 0
    rows = _rows(out / "objects_summary.csv")
    assert [(r["status"], r["position"], r["scale"]) for r in rows] == [
        ("skipped-existing", str(i), cell) for i in range(2) for _ in range(FRAMES)
    ]
