"""predict --outlines: object outlines for QuPath (GeoJSON) and Fiji (ImageJ ROIs) beside the
objects TIFF, under the output folder's rules (manifest, stale outputs, --skip-existing)."""

import csv
import json
import re
import struct
import zipfile

import numpy as np
import pytest
import tifffile

from tests.test_predict_objects import LocalNet, local_net, nuclei_image
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.errors import FormatLimitError, UnetlabError
from unetlab.inference import slide_objects
from unetlab.inference.files import predict_file
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.outlines import object_polygons, polygon_area
from unetlab.inference.records import OutputOptions
from unetlab.manifest import made_from
from unetlab.models import UNet

OUTLINES = ("a_objects.geojson", "a_objects_rois.zip", "s_objects.geojson", "s_objects_rois.zip")


def _inputs(tmp_path):
    """A 2-D PNG and a 3-plane ZYX stack of nuclei."""
    write_png(tmp_path / "in" / "a.png", nuclei_image(97, 83))
    planes = np.stack([nuclei_image(61, 70, seed=s) for s in range(3)])
    tifffile.imwrite(tmp_path / "in" / "s.tif", planes, imagej=True, metadata={"axes": "ZYX"})
    return [tmp_path / "in" / "a.png", tmp_path / "in" / "s.tif"]


def _options(outlines=None, **more):
    return OutputOptions(objects=ObjectOptions.for_model, outlines=outlines, **more)


def _planes(ids: np.ndarray) -> list[np.ndarray]:
    return list(ids) if ids.ndim == 3 else [ids]


def test_outlines_are_the_objects_of_the_tiff_one_each(tmp_path):
    net, files = local_net(), _inputs(tmp_path)
    net.classes = ["background", "boundary", "nucleus"]
    out = tmp_path / "out"
    result = predict_folder(net, files, out, _options("both"))
    assert not result.failed
    for stem, pages in (("a", 1), ("s", 3)):
        ids = _planes(tifffile.imread(out / f"{stem}_objects.tif"))
        assert len(ids) == pages
        found = {(p, int(i)) for p, plane in enumerate(ids) for i in np.unique(plane) if i}
        assert len(found) >= 10  # real objects
        features = json.loads((out / f"{stem}_objects.geojson").read_text())["features"]
        planes = [f["geometry"].get("plane", {}).get("z", 0) for f in features]
        assert sorted(zip(planes, (int(f["properties"]["name"]) for f in features))) == sorted(
            found
        )
        with open(out / f"{stem}_objects.csv") as f:
            rows = {(int(r.get("page", 0)), int(r["id"])): r for r in csv.DictReader(f)}
        for feature, page in zip(features, planes):
            index = int(feature["properties"]["name"])
            measured = feature["properties"]["measurements"]
            assert measured["area"] == float(rows[page, index]["area"])  # the CSV's row
            assert feature["properties"]["classification"]["name"] == "nucleus"
            traced = object_polygons(ids[page] == index)[1]
            assert polygon_area(traced) == measured["area"]
        with zipfile.ZipFile(out / f"{stem}_objects_rois.zip") as archive:
            names = [n.removesuffix(".roi") for n in archive.namelist()]
            positions = [struct.unpack(">i", archive.read(n)[56:60])[0] for n in archive.namelist()]
        if pages == 1:
            assert sorted(int(n) for n in names) == sorted(i for _, i in found)
            assert set(positions) == {0}  # every slice: a 2-D image
        else:  # p<page>-<id>, on slice page + 1
            at = [tuple(int(x) for x in n.removeprefix("p").split("-")) for n in names]
            assert sorted(at) == sorted(found)
            assert positions == [p + 1 for p, _ in at]
    ours = made_from(out, "predict")
    assert all(name in ours for name in OUTLINES)  # listed as predict's, from their input


def test_repredict_without_outlines_removes_them_and_skip_existing_honours_them(tmp_path):
    net, files = local_net(), _inputs(tmp_path)
    out = tmp_path / "out"
    predict_folder(net, files, out, _options("both"))
    again = predict_folder(net, files, out, _options("geojson", skip_existing=True))
    assert again.skipped == files and not again.written  # the outlines are there
    (out / "a_objects_rois.zip").unlink()  # a user removed one
    again = predict_folder(net, files, out, _options("both", skip_existing=True))
    assert again.skipped == files[1:] and list(again.written) == files[:1]
    assert (out / "a_objects_rois.zip").is_file()
    plain = predict_folder(net, files, out, _options())  # no --outlines: stale ones go
    assert list(plain.written) == files
    assert not any((out / name).exists() for name in OUTLINES)
    assert not any(name in made_from(out, "predict") for name in OUTLINES)
    again = predict_folder(net, files, out, _options("imagej", skip_existing=True))
    assert not again.skipped and list(again.written) == files  # asked for, not there
    assert (out / "s_objects_rois.zip").is_file() and not (out / "s_objects.geojson").exists()


def test_an_outline_file_unetlab_did_not_write_is_never_replaced(tmp_path):
    net, files = local_net(), _inputs(tmp_path)
    out = tmp_path / "out"
    predict_folder(net, files, out, _options())
    (out / "a_objects.geojson").write_text("mine\n")
    # that input fails alone (s38 paths2: the run went on without it), the file kept
    result = predict_folder(net, files, out, _options("geojson", overwrite=True))
    (why,) = [why for path, why in result.failed.items() if path.name == "a.png"]
    assert "a_objects.geojson exists and unetlab did not" in why
    assert (out / "a_objects.geojson").read_text() == "mine\n"


def test_outlines_need_objects(tmp_path, capsys):
    with pytest.raises(UnetlabError, match="add objects="):
        OutputOptions(outlines="geojson")
    with pytest.raises(UnetlabError, match="one of geojson, imagej, both"):
        OutputOptions(objects=ObjectOptions(), outlines="svg")
    write_png(tmp_path / "in" / "a.png", nuclei_image(40, 40))
    save_model(tmp_path / "m.pt", UNet(in_channels=1, num_classes=3, depth=2, base_channels=4))
    base = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    rc = main([*base, "--output", str(tmp_path / "o"), "--outlines", "geojson"])
    assert rc == 2 and "--outlines applies to --instances" in capsys.readouterr().err


def test_streamed_slide_gets_the_same_geojson_and_imagej_rois(tmp_path, monkeypatch):
    """A slide read window by window gets the outlines of one read whole, GeoJSON and ImageJ
    ROIs byte for byte (its ROIs were refused, s64)."""
    monkeypatch.setattr(slide_objects, "STREAM_ROWS", 50)  # outlines traced in 50-row reads
    monkeypatch.setattr(slide_objects, "PIECE_PIXELS", 1000)  # of 50 x 32 px (chunks of 32)
    monkeypatch.setattr(slide_objects.ome, "CHUNK", 32)
    net, image = local_net(), nuclei_image(231, 77, seed=3)
    tifffile.imwrite(tmp_path / "big.tif", image)
    options = dict(objects=ObjectOptions.for_model(net), outlines="both")
    predict_file(net, tmp_path / "big.tif", tmp_path / "small", **options)
    written = predict_file(
        net, tmp_path / "big.tif", tmp_path / "large", large_threshold=100, **options
    )
    assert tmp_path / "large" / "big_objects.geojson" in written
    small, large = (
        json.loads((tmp_path / d / "big_objects.geojson").read_text())["features"]
        for d in ("small", "large")
    )
    ids = tifffile.imread(tmp_path / "large" / "big_objects.tif")
    assert len(large) == ids.max() >= 20
    shapes = [sorted(json.dumps(f["geometry"]) for f in fs) for fs in (small, large)]
    assert shapes[0] == shapes[1]  # traced window by window: the same outlines
    for feature in large:
        index = int(feature["properties"]["name"])
        assert polygon_area(object_polygons(ids == index)[1]) == np.sum(ids == index)
        traced = object_polygons(ids == index)[1]
        rings = [[ring.tolist() + ring[:1].tolist() for ring in polygon] for polygon in traced]
        assert feature["geometry"]["coordinates"] == (rings[0] if len(rings) == 1 else rings)
    assert tmp_path / "large" / "big_objects_rois.zip" in written
    rois = [zipfile.ZipFile(tmp_path / d / "big_objects_rois.zip") for d in ("small", "large")]
    names = [sorted(archive.namelist()) for archive in rois]
    assert names[0] == names[1] and len(names[0]) == len(large)
    for name in names[0]:
        assert rois[0].read(name) == rois[1].read(name), name


@pytest.mark.parametrize("axes, channels", [("ZYX", 1), ("TZCYX", 2), ("ZCYX", 2)])
def test_a_streamed_stacks_rois_lie_where_those_read_whole_do(tmp_path, axes, channels):
    """A stack read page by page gets the ImageJ ROIs of one read whole, byte for byte: a
    plain stack's on their slices (1-based), a hyperstack's (2 frames of 3 planes of 2
    channels, or 3 planes of 2 channels) at their (c, z, t) (s64 review: streamed, at slice
    page + 1, the wrong frame; s64 re-review: the channels' count went untested)."""
    net = local_net()
    if channels > 1:
        net = LocalNet(in_channels=2, num_classes=3, depth=2, base_channels=4, padding="valid")
        net.eval().objects = local_net().objects
    planes = np.stack([nuclei_image(60, 70, seed=s) for s in range(6)])
    image = planes if channels == 1 else np.stack([planes, planes], 1).reshape(2, 3, 2, 60, 70)
    image = image[0] if axes == "ZCYX" else image  # 3 planes of 2 channels
    last = f"p{len(image) * (3 if axes == 'TZCYX' else 1) - 1}-0001.roi"
    tifffile.imwrite(tmp_path / "s.tif", image, imagej=True, metadata={"axes": axes})
    options = dict(objects=ObjectOptions.for_model(net), outlines="imagej")
    predict_file(net, tmp_path / "s.tif", tmp_path / "whole", **options)
    predict_file(net, tmp_path / "s.tif", tmp_path / "streamed", large_threshold=100, **options)
    whole, streamed = (
        zipfile.ZipFile(tmp_path / d / "s_objects_rois.zip") for d in ("whole", "streamed")
    )
    names = sorted(whole.namelist())
    assert names == sorted(streamed.namelist()) and last in names
    for name in names:
        assert whole.read(name) == streamed.read(name), name
    position = struct.unpack_from(">i", whole.read(last), 56)[0]
    assert position == (6 if channels == 1 else 0)  # a hyperstack's: (c, z, t) after it


def test_a_streamed_slides_outlines_are_traced_once_for_both_formats(tmp_path, monkeypatch):
    """With GeoJSON and ImageJ ROIs both asked for, a streamed slide's objects are traced
    once, each written in both as it is traced (s64 review: traced twice), the same files as
    each format alone writes."""
    traced = []
    outlines = slide_objects.SlideObjects._outlines

    def counted(self, out, page, *args):
        traced.append(page)
        return outlines(self, out, page, *args)

    monkeypatch.setattr(slide_objects.SlideObjects, "_outlines", counted)
    net = local_net()
    tifffile.imwrite(tmp_path / "s.tif", nuclei_image(120, 90, seed=5))
    for kind in ("both", "geojson", "imagej"):
        traced.clear()
        options = dict(objects=ObjectOptions.for_model(net), outlines=kind, large_threshold=100)
        predict_file(net, tmp_path / "s.tif", tmp_path / kind, **options)
        assert traced == [0], kind
    for name, alone in (("s_objects.geojson", "geojson"), ("s_objects_rois.zip", "imagej")):
        assert (tmp_path / "both" / name).read_bytes() == (tmp_path / alone / name).read_bytes()


def test_a_levels_imagej_rois_are_in_its_pixels_and_refused_only_past_their_limit(
    tmp_path, monkeypatch
):
    """``--level 1 --outlines imagej`` of a pyramid writes the level's objects as ImageJ
    ROIs in the level's pixels (as its ids image: they fill back to it exactly); refused only
    where a side of the level is past what their 16-bit coordinates hold, naming a smaller
    level or GeoJSON (s64: every level was refused, a 3,000 px one too)."""
    from unetlab.data.annotations import rasterise, read_outlines
    from unetlab.errors import first_line
    from unetlab.inference import outlines, slides

    net, image = local_net(), nuclei_image(200, 160, seed=5)
    path = tmp_path / "p.tif"
    with tifffile.TiffWriter(path) as tif:
        for level in range(2):
            step = 2**level
            tif.write(image[::step, ::step], tile=(32, 32), subfiletype=1 if level else 0)
    options = dict(objects=ObjectOptions.for_model(net), outlines="imagej", level=1)
    for module in (outlines, slides):  # outlines.rois_fit's limit, and the refusal's
        monkeypatch.setattr(module, "ROI_SIDE", 100)  # level 1: 100 x 80 px, level 0: 200 x 160
    written = predict_file(net, path, tmp_path / "out", **options)
    rois = tmp_path / "out" / "p_objects_rois.zip"
    assert rois in written
    ids = tifffile.imread(tmp_path / "out" / "p_objects.tif")
    assert ids.shape == (100, 80) and ids.max() >= 3
    assert np.array_equal(rasterise(read_outlines(rois), ids.shape, "p"), ids)
    for module in (outlines, slides):
        monkeypatch.setattr(module, "ROI_SIDE", 99)
    said = "p.tif: level 1 is 100 x 80 px, and ImageJ ROIs (in its pixels) stop at 99 px: use "
    said += "a smaller level (level=N), or outlines='geojson'"
    with pytest.raises(UnetlabError, match=re.escape(said)):
        predict_file(net, path, tmp_path / "refused", **options)
    with pytest.raises(UnetlabError) as caught:
        predict_file(net, path, tmp_path / "refused", **options)
    cli = first_line(caught.value, cli=True)
    assert cli.endswith("stop at 99 px: use a smaller level (--level N), or --outlines geojson")


def test_output_options_are_public():
    import unetlab

    assert "OutputOptions" in unetlab.__all__ and unetlab.OutputOptions is OutputOptions


def test_cli_predict_writes_outlines_of_an_instance_model(tmp_path, caplog):
    net = UNet(in_channels=1, num_classes=3, depth=2, base_channels=4)
    net.objects = {"target": "instances", "count": 9, "area_p05": 20.0, "area_p95": 200.0}
    save_model(tmp_path / "m.pt", net)
    write_png(tmp_path / "in" / "a.png", nuclei_image(40, 40))
    base = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    rc = main([*base, "--output", str(tmp_path / "o"), "--instances", "--outlines", "both"])
    assert rc == 0
    ids = tifffile.imread(tmp_path / "o" / "a_objects.tif")
    features = json.loads((tmp_path / "o" / "a_objects.geojson").read_text())["features"]
    with zipfile.ZipFile(tmp_path / "o" / "a_objects_rois.zip") as archive:
        assert len(archive.namelist()) == len(features) == len(np.unique(ids)) - 1


def test_a_t_by_z_stack_s_rois_land_on_their_frame_and_plane(tmp_path):
    # audit s34 stacks 4: slice numbers put a T x Z stack's ROIs on the wrong frame or plane
    planes = np.stack([nuclei_image(61, 70, seed=s) for s in range(6)]).reshape(3, 2, 61, 70)
    path = tmp_path / "in" / "h.tif"
    path.parent.mkdir()
    tifffile.imwrite(path, planes, imagej=True, metadata={"axes": "TZYX"})
    out = tmp_path / "out"
    assert not predict_folder(local_net(), [path], out, _options("imagej")).failed
    with zipfile.ZipFile(out / "h_objects_rois.zip") as archive:
        names = archive.namelist()
        assert len(names) >= 6
        for name in names:
            data = archive.read(name)
            (header2,) = struct.unpack(">i", data[60:64])
            czt = struct.unpack(">3i", data[header2 + 4 : header2 + 16])
            page = int(name.removeprefix("p").split("-")[0])  # the table's page: t * 2 + z
            assert (struct.unpack(">i", data[56:60])[0], czt) == (
                0,
                (0, page % 2 + 1, page // 2 + 1),
            )


def test_skip_existing_adds_an_overlay_and_rois_to_a_streamed_slides_geojson(tmp_path):
    """A streamed slide with its GeoJSON there, asked again for an overlay and ImageJ ROIs
    with skip_existing, gets both: its ROIs need the net (drawn_from lists them), they are
    not drawn from the outputs there (s64 review: no test failed with "rois" left out)."""
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "s.tif", nuclei_image(160, 96, seed=7), tile=(32, 32))
    net, out = local_net(), tmp_path / "out"
    common = dict(objects=ObjectOptions.for_model, large_threshold=100)
    predict_folder(net, tmp_path / "in", out, OutputOptions(outlines="geojson", **common))
    assert not (out / "s_objects_rois.zip").exists()
    again = OutputOptions(outlines="both", skip_existing=True, draw_overlay=True, **common)
    predict_folder(net, tmp_path / "in", out, again)
    assert (out / "s_overlay.png").is_file()
    assert len(zipfile.ZipFile(out / "s_objects_rois.zip").namelist()) >= 5


def refuse_rois(monkeypatch) -> None:
    """Every ImageJ ROI refused as one past ROI_SIDE is (predict leaves such objects out,
    _reached, and refuses such a slide level first, so it meets none): a file whose ROIs
    fail records no outlines."""
    from unetlab.inference import outlines

    def refused(polygons, *, name, **how):
        raise FormatLimitError(f"object {name} does not fit an ImageJ ROI (refused here)")

    monkeypatch.setattr(outlines, "roi_bytes", refused)


def test_an_object_past_32767_px_given_to_write_roi_planes_is_refused_naming_geojson(tmp_path):
    """An object reaching past 32,767 px, which no ImageJ ROI holds, given to the writer
    itself is refused naming its zip and write_geojson, the zip not written (predict meets
    none: test_a_wide_one_level_tiffs_rois_leave_out_objects_past_their_reach)."""
    from unetlab.inference import outlines

    wide = np.array([[0.0, 0.0], [40000.0, 0.0], [40000.0, 10.0], [0.0, 10.0]])
    with pytest.raises(FormatLimitError) as refused:
        outlines.write_roi_planes(tmp_path / "r.zip", [([(1, [[wide]])], None, None)])
    said = str(refused.value)
    assert said.startswith("r.zip: object 0001 does not fit an ImageJ ROI (it reaches 40,000")
    assert said.endswith(": write_geojson holds it") and refused.value.cli is None
    assert not (tmp_path / "r.zip").exists()


def test_a_wide_one_level_tiffs_rois_leave_out_objects_past_their_reach(tmp_path, caplog):
    """A one-level TIFF of a side past 32,767 px read whole for its ImageJ ROIs: its
    objects under 32,767 px get their ROIs, those past it are said in one line naming the
    input and GeoJSON, which holds them all: the file written beside the zip (s65 review:
    outlines='both' was told to ask for it), else how to ask for it (s65: one failed the
    whole image, predicted)."""
    image = np.full((64, 40000), 40, np.uint8)
    for x in (100, 20000, 39000):  # a bright square at each: one past 32,767
        image[24:37, x - 6 : x + 7] = 210
    tifffile.imwrite(tmp_path / "w.tif", image)
    net = local_net()
    options = dict(objects=ObjectOptions.for_model(net), outlines="both")
    written = predict_file(net, tmp_path / "w.tif", tmp_path / "out", **options)
    rois = zipfile.ZipFile(tmp_path / "out" / "w_objects_rois.zip").namelist()
    assert rois == ["0001.roi", "0002.roi"] and len(written) == 5, written
    features = json.loads((tmp_path / "out" / "w_objects.geojson").read_text())["features"]
    assert len(features) == 3
    said = f"{tmp_path / 'w.tif'}: 1 of its 3 objects lies past 32,767 px, which ImageJ ROIs "
    said += "cannot reach: not in w_objects_rois.zip "
    assert f"{said}(w_objects.geojson holds them all)" in caplog.messages, caplog.messages
    caplog.clear()
    predict_file(net, tmp_path / "w.tif", tmp_path / "out", **{**options, "outlines": "imagej"})
    assert f"{said}(outlines='geojson' holds them all)" in caplog.messages, caplog.messages


def test_predict_json_records_the_outlines_asked_for(tmp_path, monkeypatch):
    """predict.json's record of a run notes for each input the outlines its run asked for
    (``files``: each input's latest run), none where none were (s65: no record said which
    outline files a folder's outputs should hold), nor where its run failed (s65 review: a
    refused ROI zip's input was noted as holding them). They are no part of the key: a rerun
    asking for fewer with skip_existing skips the inputs
    (test_repredict_without_outlines_removes_them_and_skip_existing_honours_them)."""
    (tmp_path / "in").mkdir()
    write_png(tmp_path / "in" / "a.png", nuclei_image(97, 83))
    net, out = local_net(), tmp_path / "out"

    def recorded(**how) -> list:
        predict_folder(net, tmp_path / "in", out, OutputOptions(**how))
        (entry,) = json.loads((out / "predict.json").read_text())["records"].values()
        return [f.get("outlines") for f in entry["files"].values()]

    assert recorded(objects=ObjectOptions.for_model) == [None]
    assert recorded(objects=ObjectOptions.for_model, outlines="both") == ["both"]
    assert recorded(objects=ObjectOptions.for_model, outlines="geojson") == ["geojson"]
    refuse_rois(monkeypatch)  # every ROI refused
    assert recorded(objects=ObjectOptions.for_model, outlines="imagej") == [None]
