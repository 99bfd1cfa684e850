"""predict --instances --objects-3d: one id per nucleus across the planes of a z-stack (a
nucleus spanning 10 planes was counted 10 times in objects_summary.csv), one table row per
3-D object, a movie's frames apart; refused in one line where there is no Z axis."""

from __future__ import annotations

import csv
import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image
from scipy import ndimage

import unetlab.checkpoint
from tests.test_predict_objects import local_net
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.tiffmeta import PixelSize, read_pixel_size
from unetlab.errors import UnetlabError, command_spelling
from unetlab.evaluate import evaluate_predictions
from unetlab.inference.files import predict_file, stack_objects_3d
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions, objects_from_probabilities
from unetlab.inference.objects_3d import objects_3d, say_cubes, table_3d
from unetlab.inference.records import OutputOptions
from unetlab.models import UNet

VOXEL = (2.0, 0.5, 0.5)  # µm (z, y, x): a confocal stack's, z 4x coarser


def _balls(shape, centres, radii, voxel=VOXEL) -> np.ndarray:
    """Ids 1.. of balls (radii in µm) in a (Z, Y, X) stack; where two overlap, the first's."""
    z, y, x = np.indices(shape, sparse=True)
    truth = np.zeros(shape, np.int32)
    for k, ((cz, cy, cx), r) in enumerate(zip(centres, radii), start=1):
        d2 = ((z - cz) * voxel[0]) ** 2 + ((y - cy) * voxel[1]) ** 2 + ((x - cx) * voxel[2]) ** 2
        truth[(d2 <= r * r) & (truth == 0)] = k
    return truth


def _planes_2d(mask: np.ndarray) -> np.ndarray:
    """Each plane's 2-D objects of ``mask`` as an instance model's would be found (interior
    2 px in from the outline, the distance split on)."""
    options = ObjectOptions(mode="instances", distance_split=True, min_area=4, min_seed_area=1)
    out = []
    for m in mask:
        inside = ndimage.distance_transform_edt(m) > 2
        probabilities = np.stack([1.0 - m, m & ~inside, inside]).astype(np.float32)
        out.append(objects_from_probabilities(probabilities, options))
    return np.stack(out)


# side by side touching, one above the other touching, a large and a small one alone
CENTRES = [(10, 20, 20), (10, 20, 38), (10, 50, 50), (6, 20, 70), (10, 21, 70), (5, 50, 20)]
RADII = [5.0, 5.0, 8.0, 4.5, 4.5, 3.0]


def test_balls_of_a_stack_are_one_object_each_where_planes_counted_them_many_times():
    truth = _balls((21, 80, 100), CENTRES, RADII)
    planes = _planes_2d(truth > 0)
    per_plane = sum(len(np.unique(p)) - 1 for p in planes)
    assert per_plane > 4 * len(RADII)  # the 2-D path: a ball once per plane
    ids = objects_3d(planes, VOXEL)
    assert ids.max() == len(RADII)
    assert np.array_equal(ids > 0, planes > 0)  # every object pixel kept, none added
    for k in range(1, len(RADII) + 1):  # each object is one ball, nearly all of it
        inside = truth[ids == k]
        ball = np.bincount(inside).argmax()
        assert ball > 0 and (inside == ball).mean() > 0.9
        assert (ids[truth == ball] == k).mean() > 0.9


def test_a_nucleus_a_plane_split_in_two_is_joined_back_through_its_neighbours():
    truth = _balls((15, 40, 40), [(7, 20, 20)], [6.0])
    planes = (truth > 0).astype(np.int32)
    planes[7, :, 20:] *= 2  # the middle plane's 2-D split cut it down the middle
    assert objects_3d(planes, VOXEL).max() == 1


def test_nuclei_the_planes_part_without_a_neck_stay_apart():
    planes = np.zeros((9, 30, 50), np.int32)
    planes[1:8, 5:25, 5:25], planes[1:8, 5:25, 25:45] = 1, 2  # parted in 7 planes, no neck
    ids = objects_3d(planes, VOXEL)
    assert ids.max() == 2 and len(np.unique(ids[planes == 1])) == 1


def _one_each(ids: np.ndarray, truth: np.ndarray) -> None:
    """Asserts one 3-D object of ``ids`` per ball of ``truth``, holding 90% of it."""
    assert ids.max() == truth.max()
    for k in range(1, truth.max() + 1):
        inside = ids[truth == k]
        assert (inside == np.bincount(inside).argmax()).mean() > 0.9
    assert (
        len({np.bincount(ids[truth == k]).argmax() for k in range(1, truth.max() + 1)}) == ids.max()
    )


def test_nuclei_the_planes_part_along_a_tilted_seam_stay_apart():
    # no neck, and the seam moves 2 px from one 2 um plane to the next (a boundary tilted
    # 27 degrees): no seam within a pixel above or below, so the planes' parting was dropped
    planes = np.zeros((9, 30, 60), np.int32)
    for z in range(1, 8):
        cut = 25 + 2 * (z - 4)
        planes[z, 5:25, 5:cut], planes[z, 5:25, cut:50] = 1, 2
    _one_each(objects_3d(planes, VOXEL), truth=planes)  # the same ids in every plane


def test_balls_stacked_with_a_shallow_neck_part_across_2um_planes():
    # 5 um balls 9 um apart in z (1 um overlap), planes 2 um apart: the neck is 1.4-2 um
    # below the centres, which 'at least a z step' (2 um) of rise merged into one object
    truth = _balls((13, 30, 30), [(4, 15, 15), (8.5, 15, 15)], [5.0, 5.0])
    ids = objects_3d(_planes_2d(truth > 0), VOXEL)
    _one_each(ids, truth)


def test_balls_side_by_side_a_plane_apart_in_z_stay_apart():
    # 8 um apart in x, 2 um in z: 4 planes part them, the seam moves 3 px from plane to plane
    # (so 'a seam within a pixel in the plane above or below' dropped it), and a valley of
    # under a z step joined them
    truth = _balls((14, 30, 50), [(6, 15, 15), (7, 15, 31)], [5.0, 5.0])
    _one_each(ids=objects_3d(_planes_2d(truth > 0), VOXEL), truth=truth)


def test_a_nucleus_whose_planes_flicker_stays_one():
    # each plane's object a pixel or two larger or smaller and off centre, as a net's are
    rng = np.random.default_rng(0)
    yy, xx = np.indices((30, 30))
    for z_step in (0.5, 2.0):
        planes = np.zeros((int(10 / z_step) + 3, 30, 30), np.int32)
        for z in range(len(planes)):
            h = (z - len(planes) // 2) * z_step
            r = np.sqrt(max(25 - h * h, 0)) / 0.5 + rng.normal(0, 1.0)
            cy, cx = 15 + rng.normal(0, 1.0, 2)
            planes[z][(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1
        assert objects_3d(planes, (z_step, 0.5, 0.5)).max() == 1


def test_the_3d_table_measures_volume_centroid_extent_and_intensity():
    ids = np.zeros((6, 8, 10), np.int32)
    ids[1:4, 2:4, 3:8] = 1  # 3 planes x 2 x 5
    ids[5, 0:2, 0:2] = 2
    image = np.arange(ids.size, dtype=np.uint16).reshape(ids.shape)
    table = table_3d(ids, image, (2.0, 0.5, 0.25))
    assert table["volume"].tolist() == [30, 4]
    assert table["volume_um3"].tolist() == [30 * 0.25, 4 * 0.25]
    assert table["centroid_z"].tolist() == [2.0, 5.0]
    assert table["centroid_z_um"].tolist() == [4.0, 10.0]
    assert table["centroid_y"][0] == 2.5 and table["centroid_x_um"][0] == 5 * 0.25
    assert (table["z_first"].tolist(), table["z_last"].tolist()) == ([1, 5], [3, 5])
    assert table["planes"].tolist() == [3, 1]
    assert table["mean_intensity"][0] == image[ids == 1].mean()
    assert table["touches_border"].tolist() == [False, True]
    assert "volume_um3" not in table_3d(ids, image, None)


def _ball_stack(shape=(13, 56, 72), voxel=(1.0, 0.5, 0.5)) -> np.ndarray:
    """uint8 (Z, Y, X): bright balls with darker rims (two touching side by side, two one
    above the other, one alone) and a rod through every plane (so that each plane, each
    normalised on its own, holds nuclei): 6 objects for ``local_net``. The rod is 4 µm wide:
    3.5 µm, its planes' objects narrowed from 8.2 to 7.1 px in the planes the large ball
    brightens, a neck of 14% that parts it in two at a pixel's least rise."""
    centres = [(6, 14, 14), (6, 14, 32), (6, 40, 40), (4, 14, 58), (9, 15, 58)]
    radii = [4.5, 4.5, 6.0, 3.0, 3.0]
    z, y, x = np.indices(shape, sparse=True)
    image = np.full(shape, 40.0)
    for (cz, cy, cx), r in zip(centres, radii):
        d = np.sqrt(
            ((z - cz) * voxel[0]) ** 2 + (((y - cy) * voxel[1]) ** 2 + ((x - cx) * voxel[2]) ** 2)
        )
        image = np.where(d <= r, np.where(d > r - 1.0, np.minimum(image, 120), 210), image)
    rod = np.hypot((y - 44) * voxel[1], (x - 12) * voxel[2]) + 0 * z
    image = np.where(rod <= 4.0, np.where(rod > 3.0, 120, 210), image)
    noise = np.random.default_rng(0).normal(0, 4, shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def _write(path, array: np.ndarray, axes: str, **more) -> None:
    meta = {"axes": axes, "unit": "um", "spacing": 1.0, **more}
    tifffile.imwrite(path, array, imagej=True, resolution=(2, 2), metadata=meta)


def write_unspaced(path, array: np.ndarray, pixel: float = 0.5) -> None:
    """A ZYX stack that records its pixel size but no z spacing: an OME-TIFF without
    PhysicalSizeZ (a stack Fiji saved in µm without spacing is 1 µm apart, as Fiji reads
    it: s75)."""
    sizes = dict(PhysicalSizeX=pixel, PhysicalSizeY=pixel)
    tifffile.imwrite(path, array, ome=True, metadata={"axes": "ZYX"} | sizes)


def _rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_cli_counts_each_nucleus_of_an_imagej_z_stack_once(tmp_path, monkeypatch, capsys):
    net = local_net()
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    save_model(tmp_path / "m.pt", UNet(1, 3, depth=2, base_channels=2))
    (tmp_path / "in").mkdir()
    _write(tmp_path / "in" / "s.tif", _ball_stack(), "ZYX")
    base = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    assert main([*base, "--output", str(tmp_path / "flat"), "--instances"]) == 0
    planes = _rows(tmp_path / "flat" / "objects_summary.csv")
    assert len(planes) == 13 and sum(int(r["objects"]) for r in planes) > 6 * 3
    assert main([*base, "--output", str(tmp_path / "o"), "--instances", "--objects-3d"]) == 0
    (row,) = _rows(tmp_path / "o" / "objects_summary.csv")
    assert (row["objects"], row["page"], row["z"]) == ("6", "", "")
    assert float(row["focus"]) > 0  # the median of its planes', near their objects
    table = _rows(tmp_path / "o" / "s_objects.csv")
    assert [r["id"] for r in table] == [str(k) for k in range(1, 7)]
    assert float(row["total_volume_um3"]) == sum(float(r["volume_um3"]) for r in table)
    with tifffile.TiffFile(tmp_path / "o" / "s_objects.tif") as tif:
        series = tif.series[0]
        assert (series.axes, series.shape, series.dtype) == ("ZYX", (13, 56, 72), np.uint16)
        ids = series.asarray()
    for r in table:  # one id across its planes, as its row says
        on = np.nonzero((ids == int(r["id"])).any(axis=(1, 2)))[0]
        assert (on[0], on[-1], len(on)) == (int(r["z_first"]), int(r["z_last"]), int(r["planes"]))
    assert max(int(r["planes"]) for r in table) == 13  # the rod: every plane, one object
    (tmp_path / "gt").mkdir()  # its ids as 3-D truth: evaluate --objects-3d reads the file
    shutil.copy(tmp_path / "o" / "s_objects.tif", tmp_path / "gt" / "s.tif")
    scored = evaluate_predictions(tmp_path / "o", tmp_path / "gt", objects_3d=True)
    assert [(r["objects"], r["object_f1"]) for r in scored.images] == [(6, 1.0)]


def test_a_movie_s_frames_have_their_3d_objects_apart(tmp_path):
    stack = _ball_stack()
    _write(tmp_path / "t.tif", np.stack([stack, stack[:, :, ::-1]]), "TZYX", finterval=30)
    net = local_net()
    predict_folder(net, [tmp_path / "t.tif"], tmp_path / "o", objects=True, objects_3d=True)
    rows = _rows(tmp_path / "o" / "objects_summary.csv")
    assert [(r["t"], r["t_s"], r["objects"]) for r in rows] == [("0", "0", "6"), ("1", "30", "6")]
    assert rows[0]["focus"] == rows[1]["focus"] != ""  # frame 1 is frame 0 mirrored
    ids = tifffile.imread(tmp_path / "o" / "t_objects.tif")
    assert ids.shape == (2, 13, 56, 72) and ids[0].max() == ids[1].max() == 6


@pytest.mark.parametrize(("axes", "shape"), [("TYX", (3, 56, 72)), ("YX", (56, 72))])
def test_an_image_without_z_planes_has_its_2d_objects_said(tmp_path, caplog, axes, shape):
    """It was refused ("it has no Z axis"); its objects are those predicted without the flag."""
    stack = _ball_stack((3, 56, 72))
    array = stack if axes == "TYX" else stack[1]
    tifffile.imwrite(tmp_path / "a.tif", array, imagej=True, metadata={"axes": axes})
    with caplog.at_level(logging.INFO):
        predict_file(local_net(), tmp_path / "a.tif", tmp_path / "o", objects=True, objects_3d=True)
    predict_file(local_net(), tmp_path / "a.tif", tmp_path / "flat", objects=True)
    assert np.array_equal(
        tifffile.imread(tmp_path / "o" / "a_objects.tif"),
        tifffile.imread(tmp_path / "flat" / "a_objects.tif"),
    )
    said = "objects_3d=True joined no planes: no input has a Z axis; 1 image "  # Python's
    assert said + "without a Z axis has its 2-D objects, as without it: a.tif" in caplog.text
    with caplog.at_level(logging.INFO), command_spelling():  # the command line's (s56)
        predict_file(local_net(), tmp_path / "a.tif", tmp_path / "c", objects=True, objects_3d=True)
    assert " --objects-3d joined no planes: no input has a Z axis" in caplog.text


def test_predict_objects_of_a_2d_array_in_3d_gives_its_2d_objects_said(tmp_path, caplog):
    """predict_objects(model, image2d, objects_3d=True) raised, while predict_file and
    --objects-3d of a 2-D file write its 2-D objects with a line (review s48 apiwalk)."""
    import unetlab

    net, image = local_net(), _ball_stack((3, 56, 72))[1]
    tifffile.imwrite(tmp_path / "a.tif", image, imagej=True, metadata={"axes": "YX"})
    predict_file(net, tmp_path / "a.tif", tmp_path / "o", objects=True, objects_3d=True)
    with caplog.at_level(logging.INFO):
        ids, table = unetlab.predict_objects(net, image, objects_3d=True)
    flat_ids, flat = unetlab.predict_objects(net, image)
    np.testing.assert_array_equal(ids, tifffile.imread(tmp_path / "o" / "a_objects.tif"))
    np.testing.assert_array_equal(ids, flat_ids)
    assert list(table) == list(flat) and table["area"].tolist() == flat["area"].tolist()
    assert "objects_3d=True joined no planes: the image (56, 72) has no Z axis; its 2-D " in (
        caplog.text
    )


def test_a_folder_of_a_2d_image_and_a_stack_joins_the_stack_alone(tmp_path, caplog, capsys):
    """--objects-3d over a folder of a PNG and a ZYX stack failed the PNG (exit 3)."""
    net = local_net()
    (tmp_path / "in").mkdir()
    _write(tmp_path / "in" / "s.tif", _ball_stack(), "ZYX")
    Image.fromarray(_ball_stack()[6]).save(tmp_path / "in" / "flat.png")
    with caplog.at_level(logging.INFO):
        found = predict_folder(net, tmp_path / "in", tmp_path / "o", objects=True, objects_3d=True)
    assert not found.failed and len(found.written) == 2
    rows = {r["image"]: r for r in _rows(tmp_path / "o" / "objects_summary.csv")}
    assert rows["s.tif"]["objects"] == "6" and rows["s.tif"]["total_volume"] != ""
    assert int(rows["flat.png"]["objects"]) > 0 and rows["flat.png"]["total_area"] != ""
    predict_folder(net, [tmp_path / "in" / "flat.png"], tmp_path / "2d", objects=True)
    assert np.array_equal(
        tifffile.imread(tmp_path / "o" / "flat_objects.tif"),
        tifffile.imread(tmp_path / "2d" / "flat_objects.tif"),
    )
    said = "objects_3d=True joined the planes of 1 z-stack only; 1 image "
    assert caplog.text.count(said + "without a Z axis has its 2-D objects") == 1


@pytest.mark.parametrize("meta", [{}, {"metadata": None}, {"photometric": "minisblack"}])
def test_a_plain_stack_that_records_no_axes_is_one_volume_of_its_planes(tmp_path, caplog, meta):
    """A confocal stack saved with tifffile.imwrite(path, zyx) (3 planes: planar RGB that
    records no axes; metadata=None: not even tifffile's shape) joins its planes, as the
    warning says they are read, and as --axes ZYX does: it was refused ("record no Z axis"),
    and with metadata=None read as one 3-channel picture (lead s39)."""
    stack = _ball_stack((3, 56, 72)).astype(np.uint16) * 100
    tifffile.imwrite(tmp_path / "p.tif", stack, **meta)
    with caplog.at_level(logging.WARNING):
        predict_file(local_net(), tmp_path / "p.tif", tmp_path / "o", objects=True, objects_3d=True)
    said = "p.tif: 3 pages and no axis metadata: read as 3 planes (a Z stack); if they are channels"
    assert said in caplog.text and "axes='CYX'" in caplog.text  # Python's keyword (s55)
    guessed = tifffile.imread(tmp_path / "o" / "p_objects.tif")
    predict_file(
        local_net(), tmp_path / "p.tif", tmp_path / "z", objects=True, objects_3d=True, axes="ZYX"
    )
    assert guessed.shape == (3, 56, 72) and guessed.max() > 0
    assert np.array_equal(guessed, tifffile.imread(tmp_path / "z" / "p_objects.tif"))
    assert (guessed > 0).any(axis=(1, 2)).all()  # objects in every plane, joined across them
    assert len(np.unique(guessed)) - 1 < sum(len(np.unique(p)) - 1 for p in guessed)


def test_a_semantic_model_of_several_object_classes_joins_each_class(tmp_path):
    """Refused until s73 ("joins the objects of a nuclei (instance) model or of one object
    class"): each class's 3-D objects, with their class, and each class's volume."""
    _write(tmp_path / "s.tif", _ball_stack((3, 56, 72)), "ZYX")
    net = UNet(1, 3, depth=2, base_channels=2).eval()  # background, grain, pore
    predict_file(net, tmp_path / "s.tif", tmp_path / "o", objects=True, objects_3d=True)
    with open(tmp_path / "o" / "s_objects.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(tmp_path / "o" / "s_classes.csv", newline="") as f:
        totals = list(csv.DictReader(f))
    labels = tifffile.imread(tmp_path / "o" / "s.tif")  # the class's voxels: the labels'
    assert [r["class"] for r in totals] == ["1", "2"]
    for row in totals:
        own = [int(r["volume"]) for r in rows if r["class"] == row["class"]]
        assert int(row["voxels"]) == (labels == int(row["class"])).sum()
        assert int(row["objects"]) == len(own)


def test_objects_3d_needs_objects_and_no_outlines(tmp_path, capsys):
    with pytest.raises(UnetlabError, match="add objects="):
        OutputOptions(objects_3d=True)
    with pytest.raises(UnetlabError, match="drop outlines"):
        OutputOptions(objects=True, objects_3d=True, outlines="geojson")
    base = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path)]
    assert main([*base, "--output", str(tmp_path / "o"), "--objects-3d"]) == 2
    assert "--objects-3d applies to --instances" in capsys.readouterr().err
    flags = ["--instances", "--objects-3d", "--outlines", "both"]
    assert main([*base, "--output", str(tmp_path / "o"), *flags]) == 2
    assert "drop one of them" in capsys.readouterr().err


def test_a_stack_streamed_as_large_is_refused_naming_the_way_to_read_it_whole(tmp_path):
    _write(tmp_path / "big.tif", _ball_stack((3, 56, 72)), "ZYX")
    with pytest.raises(UnetlabError, match="big.tif: objects_3d=True .* large_threshold=N") as no:
        predict_file(
            local_net(),
            tmp_path / "big.tif",
            tmp_path / "o",
            objects=True,
            objects_3d=True,
            large_threshold=1000,
        )
    said = "with --large-pixels N above its pixels a plane, or drop --objects-3d"
    assert no.value.cli.startswith(
        f"{tmp_path / 'big.tif'}: --objects-3d joins"
    ) and no.value.cli.endswith(said)


def test_the_record_says_objects_3d_so_skip_existing_predicts_flat_outputs_again():
    from unetlab.inference.predict import PredictOptions
    from unetlab.inference.records import prediction_record

    net = local_net()
    options = PredictOptions.for_model(net)
    flat = prediction_record(net, options, OutputOptions(objects=ObjectOptions.for_model(net)))
    joined = OutputOptions(objects=ObjectOptions.for_model(net), objects_3d=True)
    assert "objects_3d" not in flat.outputs  # outputs made before keep their key
    assert prediction_record(net, options, joined).outputs["objects_3d"] is True


@pytest.mark.parametrize("cut", [{"exclude_rows": (8, 0)}, {"nodata": 0.0}])
def test_objects_the_excluded_rows_or_nodata_cut_touch_the_border_in_3d(tmp_path, cut):
    stack = _ball_stack()
    _write(tmp_path / "s.tif", stack, "ZYX")
    stack[:, :8] = 0  # nodata: the same top rows
    _write(tmp_path / "n.tif", stack, "ZYX")
    net, found = local_net(), {}
    for name, how in (("s", {}), ("s" if "exclude_rows" in cut else "n", cut)):
        out = tmp_path / f"o{len(found)}"
        predict_folder(net, [tmp_path / f"{name}.tif"], out, objects=True, objects_3d=True, **how)
        ids = tifffile.imread(out / f"{name}_objects.tif")
        reach = [{str(k) for k in np.unique(plane) if k} for plane in (ids[:, 8], ids[[0, -1]])]
        flags = {r["id"]: r["touches_border"] for r in _rows(out / f"{name}_objects.csv")}
        found[len(found)] = reach, {k for k, v in flags.items() if v == "true"}
    (_, rod), flagged = found[0]
    assert len(rod) == 1 and flagged == rod  # the rod spans the stack; no ball is cut
    (cut_ids, rod), flagged = found[1]
    assert len(cut_ids) == 2 and flagged == cut_ids | rod  # the two balls the top rows cut too


def test_pixel_size_and_z_spacing_given_for_a_stack_that_records_none(tmp_path, caplog):
    """A tifffile stack with no sizes (audit s38 3d: planes then a pixel apart, stacked
    nuclei joined; F1 0.98 -> 0.85 on 2 stacks of 0.8 µm planes): pixel_size and z_spacing
    (--pixel-size, --z-spacing) weigh its voxels, scale its outputs and give µm columns."""
    tifffile.imwrite(tmp_path / "p.tif", _ball_stack((5, 56, 72)), metadata=None)
    plain = dict(objects=True, objects_3d=True, axes="ZYX")
    with pytest.raises(UnetlabError, match=r"p.tif records no pixel size.*pixel_size=UM"):
        predict_file(local_net(), tmp_path / "p.tif", tmp_path / "o", **plain, z_spacing=2.0)
    sizes = dict(pixel_size=0.5, z_spacing=2.0)
    predict_file(local_net(), tmp_path / "p.tif", tmp_path / "o", **plain, **sizes)
    with tifffile.TiffFile(tmp_path / "o" / "p_objects.tif") as tif:
        assert (tif.imagej_metadata["spacing"], tif.imagej_metadata["unit"]) == (2.0, "um")
        assert tif.pages[0].tags["XResolution"].value == (2, 1)  # 2 px a µm
    row = _rows(tmp_path / "o" / "p_objects.csv")[0]
    assert float(row["volume_um3"]) == pytest.approx(float(row["volume"]) * 0.5 * 0.5 * 2.0)
    _write(tmp_path / "r.tif", _ball_stack((5, 56, 72)), "ZYX")  # records 0.5 µm, 1 µm planes
    with caplog.at_level("INFO"):
        predict_file(local_net(), tmp_path / "r.tif", tmp_path / "o", **plain, z_spacing=2.0)
    assert "r.tif records pixel size 0.5x0.5 µm, z spacing 1 µm: taken as 0.5, 2 µm" in caplog.text
    assert tifffile.TiffFile(tmp_path / "o" / "r_objects.tif").imagej_metadata["spacing"] == 2.0
    with pytest.raises(UnetlabError, match=r"z_spacing \(--z-spacing\) must be a positive"):
        OutputOptions(z_spacing=-1.0)


def test_sizes_given_for_a_stack_streamed_as_large_are_in_its_outputs(tmp_path, caplog):
    """--pixel-size and --z-spacing on an image read window by window (refused before: the
    streamed path read only the file's sizes): its OME-TIFF and objects table carry them."""
    _write(tmp_path / "r.tif", _ball_stack((5, 56, 72)), "ZYX")  # records 0.5 µm, 1 µm planes
    with caplog.at_level("INFO"):
        found = predict_file(
            local_net(),
            tmp_path / "r.tif",
            tmp_path / "o",
            objects=True,
            pixel_size=0.25,
            z_spacing=2.0,
            large_threshold=9,
        )
    assert "r.tif records pixel size 0.5x0.5 µm, z spacing 1 µm: taken as 0.25, 2 µm" in caplog.text
    assert tmp_path / "o" / "r.tif" in found
    with tifffile.TiffFile(tmp_path / "o" / "r.tif") as tif:
        pixels = tif.ome_metadata
    for size in ('PhysicalSizeX="0.25"', 'PhysicalSizeY="0.25"', 'PhysicalSizeZ="2.0"'):
        assert size in pixels
    rows = _rows(tmp_path / "o" / "r_objects.csv")
    assert rows and all(
        float(r["area_um2"]) == pytest.approx(float(r["area"]) * 0.0625) for r in rows
    )


def test_evaluate_names_objects_scored_in_the_other_dimension(tmp_path, caplog):
    """Plane-by-plane ids scored with objects_3d (ids from 1 in every plane: F1 0.05 for
    nuclei found at F1 0.98 plane by plane, audit s38 3d) are refused naming --objects-3d; 3-D ids scored
    plane by plane (each nucleus counted once per plane) are said in one line."""
    _write(tmp_path / "s.tif", _ball_stack((7, 56, 72)), "ZYX")
    net = local_net()
    predict_folder(net, [tmp_path / "s.tif"], tmp_path / "flat", objects=True)
    predict_folder(net, [tmp_path / "s.tif"], tmp_path / "o", objects=True, objects_3d=True)
    (tmp_path / "gt").mkdir()
    shutil.copy(tmp_path / "o" / "s_objects.tif", tmp_path / "gt" / "s.tif")
    with pytest.raises(UnetlabError, match=r"s_objects.tif: its objects are each plane's"):
        evaluate_predictions(tmp_path / "flat", tmp_path / "gt", objects_3d=True)
    with caplog.at_level("WARNING"):
        evaluate_predictions(tmp_path / "o", tmp_path / "gt", gt_instances=True)
    assert "1 prediction in " in caplog.text
    assert (
        "holds 3-D objects (predict_folder(..., objects=True, objects_3d=True): s_objects.tif), "
        "scored here plane" in caplog.text
    )
    caplog.clear()
    with caplog.at_level("WARNING"):
        evaluate_predictions(tmp_path / "flat", tmp_path / "gt", gt_instances=True)
        evaluate_predictions(tmp_path / "o", tmp_path / "gt", objects_3d=True)
    assert "3-D objects" not in caplog.text


def test_the_data_check_says_z_stacks_train_plane_by_plane(tmp_path):
    """Masks of 3-D ids (ZYX) train plane by plane: the object count is of the planes
    (audit s38 3d: 977 objects for 180 nuclei, unsaid); a plain stack or a movie says nothing."""
    from unetlab.data.pairs import Pair
    from unetlab.train.setup import stack_axes, z_stacks_note

    ids = _balls((5, 20, 20), [(2, 10, 10)], [4.0], voxel=(1.0, 1.0, 1.0)).astype(np.uint16)
    for name, axes in (("z.tif", "ZYX"), ("t.tif", "TYX")):
        _write(tmp_path / name, ids, axes)
    tifffile.imwrite(tmp_path / "p.tif", ids, metadata=None)

    def pairs(name):
        return [Pair(tmp_path / name, tmp_path / name, page, 5) for page in range(5)]

    said = z_stacks_note(stack_axes(pairs("t.tif") + pairs("z.tif")))
    assert said.startswith(" (the planes of 1 z-stack, z.tif: trained plane by plane")
    assert z_stacks_note(stack_axes(pairs("t.tif") + pairs("p.tif"))) == ""
    # s72: an image of two masks (a CTC set's gold and silver truth) is one z-stack, not 2
    _write(tmp_path / "silver.tif", ids, "ZYX")
    silver = [Pair(tmp_path / "z.tif", tmp_path / "silver.tif", page, 5) for page in range(5)]
    said = z_stacks_note(stack_axes(pairs("z.tif") + silver))
    assert said.startswith(" (the planes of 1 z-stack, z.tif: trained plane by plane"), said


def test_a_z_stack_annotated_every_few_planes_is_said_to_train_the_rest_as_background(
    tmp_path, caplog
):
    """Masks of z-stacks labelled on 2 of 9 planes (audit s68 user3d: 4 of 30 slices drawn in
    Fiji, saved as one mask stack) train their other planes as background, unsaid: one
    warning names it and the fixes; the same planes marked data.ignore_value say nothing."""
    from unetlab.config import load_config
    from unetlab.train import prepare_data

    centres, radii = [(4, 8, 8), (4, 8, 24), (4, 24, 16)], [4.0, 4.0, 4.0]
    ids = _balls((9, 32, 32), centres, radii, voxel=(1.0, 1.0, 1.0)).astype(np.uint16)
    image = (ids > 0).astype(np.uint16) * 900 + 100
    sparse, marked = np.zeros_like(ids), np.full_like(ids, 65535)
    sparse[[2, 6]] = marked[[2, 6]] = ids[[2, 6]]
    for name, mask in (("sparse", sparse), ("marked", marked)):
        for kind in ("images", "masks"):
            (tmp_path / name / kind).mkdir(parents=True)
        for stem in ("a", "b"):
            _write(tmp_path / name / "images" / f"{stem}.tif", image, "ZYX")
            _write(tmp_path / name / "masks" / f"{stem}.tif", mask, "ZYX")
    said = "the masks of 2 stacks (a.tif: objects on 2 of 9 planes) leave 6 planes between"
    for name, more in (("sparse", []), ("marked", ["data.ignore_value=65535"])):
        caplog.clear()
        cfg = load_config(None, [f"data.root={tmp_path / name}", "data.val_fraction=0.5", *more])
        with caplog.at_level(logging.WARNING, logger="unetlab"):
            prepare_data(cfg)
        assert (said in caplog.text) == (name == "sparse")
        assert ("--set data.ignore_value=65535" in caplog.text) == (name == "sparse")


def test_a_roiset_drawn_on_a_few_slices_is_said_without_the_ignore_value_fix(tmp_path):
    """A Fiji RoiSet drawn on 2 of 5 slices holds no value to mark the others with: the
    warning names the 2-D pairs alone; a mask stack's names the most its type holds (an
    8-bit one cannot hold 65535; review s68: a mask not .tif was taken for outlines);
    objects on every plane, empty planes only above or below them, or one among 4 labelled
    (a fully labelled embryo's empty plane between nuclei, s68 user3d) say nothing."""
    sparse = [False, True, False, True, False]
    assert "leave 1 plane between" in _said_of(sparse, mask="a.zip")
    assert "fill" not in _said_of(sparse, mask="a.zip")
    assert "data.ignore_value=255" in _said_of(sparse, mask="a.tif", dtype=np.uint8)
    assert "data.ignore_value=65535" in _said_of(sparse, mask="a.btf", dtype=np.uint16)
    assert _said_of([True] * 5) is None
    assert _said_of([False, True, True, False, False]) is None
    assert _said_of([True, True, False, 3, 3]) is None  # a fully labelled stack's gap


def _said_of(holds, mask="a.zip", axes=None, order=None, ignored=(), dtype=np.uint16):
    """:func:`unlabelled_planes` of one mask stack whose planes hold an object (True: a
    nucleus in column 0 of a 4 x 8 plane; an int k: in column k) or none (False;
    ``ignored``: those planes' indices all ignored), its pages of ``axes`` (a Z stack of
    them all), given in ``order``, loaded as ``dtype``."""
    from unetlab.data.pairs import Pair
    from unetlab.data.tiffmeta import PageAxes
    from unetlab.data.unlabelled_planes import unlabelled_planes

    mask, n, planes = Path(mask), len(holds), _planes(holds, ignored)
    pages = list(order if order is not None else range(n))
    pairs = [Pair(Path("a.tif"), mask, page, n) for page in pages]
    page_axes = {mask: axes or PageAxes("Z", (n,))}
    dtypes = {mask: np.dtype(dtype)}
    return unlabelled_planes(pairs, [planes[k] for k in pages], -1, page_axes, dtypes=dtypes)


def _planes(holds, ignored=()) -> list[np.ndarray]:
    """The 4 x 8 target planes of a mask stack, as :func:`_said_of` takes them."""
    planes = [np.zeros((4, 8), int) for _ in holds]
    for plane, h in zip(planes, holds, strict=True):
        if h is not False:
            plane[:, 0 if h is True else h] = 2
    for k in ignored:
        planes[k][:] = -1
    return planes


def test_empty_planes_between_overlapping_objects_are_said_of_each_z_block_in_any_order():
    """Review s68 user3d: two nuclei at different depths (runs of planes, fully labelled),
    a TZYX hyperstack 3 x 10 with nuclei on z 3-6 of each, a fold's planes out of stack
    order, and planes whose ignored pixels are a few rows (data.exclude_rows) were all
    said; slices drawn every few planes are, in each time point, in any order."""
    from unetlab.data.tiffmeta import PageAxes

    two_nuclei = [False] + [True] * 4 + [False] * 7 + [3] * 4 + [False] * 2
    assert _said_of(two_nuclei) is None
    block = [False] * 3 + [True] * 4 + [False] * 3
    assert _said_of(block * 3, axes=PageAxes("TZ", (3, 10))) is None
    sparse = [False, True, False, False, True, False, False, True, False, False]
    said = "(a.zip: objects on 9 of 30 planes) leave 12 planes between"
    assert said in _said_of(sparse * 3, axes=PageAxes("TZ", (3, 10)))
    full = [False] * 5 + [True] * 20 + [False] * 5
    order = [*range(10), *range(20, 30), *range(10, 20)]  # a fold's val block last
    assert _said_of(full, order=order) is None
    assert "leave 4 planes" in _said_of(sparse, order=[1, 4, 7, 0, 2, 3, 5, 6, 8, 9])
    assert _said_of(sparse, ignored=[2, 3, 5, 6]) is None  # the unannotated planes marked
    from unetlab.data.unlabelled_planes import _area

    rows = np.zeros((8, 8), int)
    rows[-2:] = -1  # data.exclude_rows={bottom: 2}: an empty plane, not a marked one
    assert _area(rows, -1) is False and _area(np.full((8, 8), -1), -1) is None


def test_sparse_annotation_is_said_by_overlapping_objects_not_lone_planes():
    """Review s68 user3d: a rule on lone labelled planes missed slices drawn two or three
    at a time (a nucleus drawn on both its planes) and said a fully labelled stack whose
    nuclei each sit on one plane: empty planes count where the objects either side of them
    overlap (the same nuclei ran through them unlabelled), not where they are elsewhere."""

    def drawn(planes, n=30, column=None):
        return [(column(z) if column else True) if z in planes else False for z in range(n)]

    assert "leave 16 planes" in _said_of(drawn({2, 3, 12, 13, 22, 23}))  # 2 drawn, gap 8
    assert "leave 8 planes" in _said_of(drawn({2, 3, 8, 9, 14, 15}))  # 2 drawn, gap 4
    assert "leave 7 planes" in _said_of(drawn({2, 3, 4, 12, 13, 14}))  # 3 drawn, gap 7
    assert "leave 8 planes" in _said_of(drawn({5, 6, 15}))
    one_plane_nuclei = drawn({3, 9, 15, 22}, column=lambda z: z // 6)  # columns 0 to 3
    assert _said_of(one_plane_nuclei) is None
    assert _said_of([True, False, 2]) is None  # 3 planes, a nucleus on z 0, another on z 2
    assert _said_of(drawn({1, 3, 5, 7}, n=9, column=lambda z: z)) is None  # anisotropic


def test_the_unlabelled_planes_warning_is_said_once_a_command_of_stacks_alone(caplog):
    """train --folds prepares the data k times, each fold's planes not all the same: it
    warned once a fold (review s68 user3d, a key of the line itself); files of no stack
    axes are not looked at."""
    from unetlab.data.pairs import Pair
    from unetlab.data.read_notes import call_notes
    from unetlab.data.tiffmeta import PageAxes
    from unetlab.data.unlabelled_planes import unlabelled_planes, warn_unlabelled_planes

    holds = [False, True, False, False, False, False, False, False, False, True, False]
    pairs = [Pair(Path("a.tif"), Path("once.zip"), page, len(holds)) for page in range(11)]
    planes = [np.full((4, 4), 2 if h else 0) for h in holds]
    axes = {Path("once.zip"): PageAxes("Z", (11,))}
    with caplog.at_level(logging.WARNING, logger="unetlab"), call_notes():
        for left_out in (0, 3, 5):  # each fold's test plane left out
            kept = [k for k in range(11) if k != left_out]
            fold = [pairs[k] for k in kept], [planes[k] for k in kept]
            warn_unlabelled_planes(unlabelled_planes(*fold, -1, axes, dtypes={}), axes)
        no_axes = unlabelled_planes(pairs, planes, -1, {}, dtypes={})  # no stack axes
        warn_unlabelled_planes(no_axes, {})
    assert caplog.text.count("once.zip: objects on 2 of 11 planes") == 1
    assert caplog.text.count("between labelled ones") == 1


def _sparse_folder(root, axes: str | None, every: int = 4) -> None:
    """Two stacks of 12 pages whose masks label every ``every``-th one (the same two
    cells), saved with ImageJ ``axes``, or by tifffile.imwrite(path, a) (None: no axes)."""
    y, x = np.indices((32, 32))
    ids = np.zeros((12, 32, 32), np.uint16)
    for z in range(1, 12, every):
        ids[z][(y - 10) ** 2 + (x - 10) ** 2 <= 16] = 1
        ids[z][(y - 20) ** 2 + (x - 22) ** 2 <= 16] = 2
    image = np.stack([((ids[1] > 0) * 900 + 100).astype(np.uint16)] * 12)
    for kind, stack in (("images", image), ("masks", ids)):
        (root / kind).mkdir(parents=True)
        for stem in ("a", "b"):
            if axes is None:
                tifffile.imwrite(root / kind / f"{stem}.tif", stack)
            else:
                _write(root / kind / f"{stem}.tif", stack, axes)


@pytest.mark.parametrize(
    "axes, more, said",
    [
        ("ZYX", [], "(a.tif: objects on 3 of 12 planes) leave 12 planes between"),
        (None, [], "(a.tif: objects on 3 of 12 planes) leave 12 planes between"),
        (None, ["data.axes=TYX"], "(a.tif: objects on 3 of 12 frames) leave 12 frames between"),
        ("TYX", [], "(a.tif: objects on 3 of 12 frames) leave 12 frames between"),
    ],
)
def test_sparse_stacks_of_any_page_axes_are_said_in_their_words(tmp_path, caplog, axes, more, said):
    """Review s68 user3d: a stack saved by tifffile.imwrite(path, a), no axes, read as
    planes (its letters "Q"), even given --set data.axes, and a TYX movie labelled every
    few frames, were not said; the data.axes given, not the file's, say what its pages are."""
    from unetlab.config import load_config
    from unetlab.train import prepare_data

    _sparse_folder(tmp_path, axes)
    cfg = load_config(
        None, [f"data.root={tmp_path}", "data.val_fraction=0.5", "data.target=instances", *more]
    )
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        prepare_data(cfg)
    assert said in caplog.text
    assert caplog.text.count("between labelled ones") == 1


def test_the_ignore_value_named_is_the_most_a_non_tiff_mask_holds(tmp_path):
    """Review s68 user3d: a mask stack not a TIFF was told 65535, which an 8-bit file
    cannot hold: its type's most, the type it was loaded as (its file is not opened again
    for it: s70 review)."""
    from PIL import Image

    from unetlab.data.datasets import load_samples
    from unetlab.data.pairs import find_pairs

    for kind, dtype in (("images", np.uint16), ("masks", np.uint8)):
        (tmp_path / kind).mkdir()
        Image.fromarray(np.arange(16, dtype=dtype).reshape(4, 4) % 2).save(
            tmp_path / kind / "m.png"
        )
    per_image = {"mode": "per_image"}
    (sample,) = load_samples(find_pairs(tmp_path), label_values=[0, 1], normalization=per_image)
    assert sample.mask_dtype == "uint8"


def test_a_stack_without_z_spacing_is_said_to_join_planes_a_pixel_apart(tmp_path, caplog):
    """An ImageJ stack that records a pixel size but no z spacing (audit s38 3d: 25 of 30
    nuclei, unsaid) is said in one line naming --z-spacing; one that records it is not."""
    stack = _ball_stack((5, 56, 72))
    write_unspaced(tmp_path / "n.tif", stack)
    _write(tmp_path / "s.tif", stack, "ZYX")
    with caplog.at_level("WARNING"):
        predict_folder(
            local_net(),
            [tmp_path / "n.tif", tmp_path / "s.tif"],
            tmp_path / "o",
            objects=True,
            objects_3d=True,
        )
    said = [r.getMessage() for r in caplog.records if "z spacing" in r.getMessage()]
    assert said == [  # files given as a list: each named by its path as given (s55)
        f"{tmp_path / 'n.tif'} records no z spacing: objects_3d=True takes its planes a pixel "
        "(0.5 µm) apart, so nuclei one above the other may join, and its table has no µm "
        "volumes; give z_spacing=UM, or record it in the file (Fiji: Image > Properties, voxel "
        "depth)"
    ]  # Python's form (s56 fixI: it named the flags); the command line's:
    caplog.clear()
    with command_spelling(), caplog.at_level("WARNING"):
        say_cubes("n.tif", (0.5, 0.5))
        say_cubes("b.tif", None)
    said = caplog.messages
    assert "n.tif records no z spacing: --objects-3d takes its planes a pixel (0.5 µm)" in said[0]
    assert said[0].endswith(
        "; give --z-spacing UM, or record it in the file (Fiji: Image > Properties, voxel depth)"
    )
    assert "; give --pixel-size UM --z-spacing UM, or record" in said[1]
    say_cubes("b.tif", None)
    assert (
        "b.tif records no z spacing: objects_3d=True takes its planes a pixel apart"
        in (caplog.messages[2])
        and "; give pixel_size=UM, z_spacing=UM, or record" in caplog.messages[2]
    )


def test_predict_objects_of_a_stack_in_3d_gives_what_predict_file_writes(tmp_path):
    """3-D results were written, not returned (audit s38 apiaudit): predict_objects(model,
    stack, objects_3d=True) refused, naming the file functions and a recipe of three calls;
    it gives the ids and the table predict_file writes of the same stack, in hand.
    predict_image still refuses the file functions' keywords, naming where they belong."""
    import unetlab

    net, stack = local_net(), _ball_stack()
    _write(tmp_path / "s.tif", stack, "ZYX")  # 0.5 µm pixels, 1 µm planes
    predict_file(net, tmp_path / "s.tif", tmp_path / "o", objects=True, objects_3d=True)
    sizes = dict(pixel_size=0.5, z_spacing=1.0)
    ids, table = unetlab.predict_objects(net, stack, objects_3d=True, **sizes)
    assert (ids.shape, ids.dtype, int(ids.max())) == (stack.shape, np.uint16, 6)
    np.testing.assert_array_equal(ids, tifffile.imread(tmp_path / "o" / "s_objects.tif"))
    rows = _rows(tmp_path / "o" / "s_objects.csv")
    assert "volume_um3" in table and set(table) <= set(rows[0])
    for name, column in table.items():
        written = [r[name] for r in rows]
        if column.dtype == bool:  # the CSV's true / false
            assert [str(v).lower() for v in column] == written, name
        else:
            assert [float(v) for v in column] == pytest.approx(list(map(float, written))), name
    _, plain = unetlab.predict_objects(net, stack, objects_3d=True)  # no sizes: no µm
    assert "volume_um3" not in plain and plain["volume"].tolist() == table["volume"].tolist()
    with pytest.raises(UnetlabError, match=r"^z_spacing= weighs the planes .* pixel_size= too"):
        unetlab.predict_objects(net, stack, objects_3d=True, z_spacing=1.0)
    with pytest.raises(UnetlabError, match=r"^z_spacing is the step .* objects_3d=True"):
        unetlab.predict_objects(net, stack[0], z_spacing=2.0)
    with pytest.raises(UnetlabError, match=r"^objects_3d joins .* predict_objects\(model, st"):
        unetlab.predict_image(net, stack[0], objects_3d=True)
    with pytest.raises(UnetlabError, match=r"^pixel_size is predict_objects' .*: drop it"):
        unetlab.predict_image(net, stack[0], pixel_size=0.5)


def test_objects_3d_and_the_sizes_take_python_s_values_and_refuse_others(tmp_path):
    """objects_3d='no' was taken as True (predict and evaluate), pixel_size=True as 1 µm,
    and a numpy float32 size (a file's metadata) refused as 'not 0.5' (audit s38 apiaudit)."""
    with pytest.raises(UnetlabError, match=r"^objects_3d is True or False, not 'no'$"):
        OutputOptions(objects=True, objects_3d="no")
    with pytest.raises(UnetlabError, match=r"^objects_3d is True or False, not 'no'$"):
        evaluate_predictions(tmp_path, tmp_path, objects_3d="no")
    with pytest.raises(UnetlabError, match=r"^pixel_size \(--pixel-size\) .* µm, not True$"):
        OutputOptions(pixel_size=True)
    given = OutputOptions(pixel_size=np.float32(0.5), z_spacing=np.float64(2.0))
    assert (given.pixel_size, given.z_spacing) == (0.5, 2.0)
    assert type(given.pixel_size) is float  # predict.json records it


def test_z_spacing_passes_over_a_2d_image_among_the_stacks(tmp_path):
    """predict_folder(..., z_spacing=2.0) over a 2-D PNG (no pixel size) failed it with
    'records no pixel size, and --z-spacing ... weighs its planes against its pixels'; a
    2-D image has no planes, so the step between them is not read (audit s38 apiaudit)."""
    from PIL import Image

    Image.fromarray(_ball_stack((3, 56, 72))[1]).save(tmp_path / "flat.png")
    _write(tmp_path / "s.tif", _ball_stack((5, 56, 72)), "ZYX")
    done = predict_folder(local_net(), tmp_path, tmp_path / "o", z_spacing=2.0)
    assert not done.failed and (tmp_path / "o" / "flat.png").exists()
    assert tifffile.TiffFile(tmp_path / "o" / "s.tif").imagej_metadata["spacing"] == 2.0


def test_evaluate_checkpoint_objects_3d_scores_as_predict_then_evaluate_pred(tmp_path, monkeypatch):
    """evaluate --checkpoint M --data D --objects-3d was refused, naming predict then
    --pred; it predicts each stack's 3-D objects in memory as predict --objects-3d writes
    them (here with --z-spacing in place of the file's) and scores them as --pred does."""
    net = local_net()
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    save_model(tmp_path / "m.pt", UNet(1, 3, depth=2, base_channels=2))
    for sub in ("images", "masks"):
        (tmp_path / "d" / sub).mkdir(parents=True)
    _write(tmp_path / "d" / "images" / "s.tif", _ball_stack(), "ZYX")
    centres = [(6, 14, 14), (6, 14, 32), (6, 40, 40), (4, 14, 58), (9, 15, 58)]
    truth = _balls((13, 56, 72), centres, [4.5, 4.5, 6.0, 3.0, 3.0], voxel=(1.0, 0.5, 0.5))
    _write(tmp_path / "d" / "masks" / "s.tif", truth.astype(np.uint16), "ZYX")
    ckpt, voxel = ["--checkpoint", str(tmp_path / "m.pt")], ["--objects-3d", "--z-spacing", "2"]
    inputs = ["--input", str(tmp_path / "d" / "images"), "--output", str(tmp_path / "o")]
    assert main(["predict", *ckpt, *inputs, "--instances", *voxel]) == 0
    pred = ["--pred", str(tmp_path / "o"), "--gt", str(tmp_path / "d" / "masks")]
    assert main(["evaluate", *pred, "--objects-3d", "--json", str(tmp_path / "p.json")]) == 0
    data = ["--data", str(tmp_path / "d")]
    assert main(["evaluate", *ckpt, *data, *voxel, "--json", str(tmp_path / "m.json")]) == 0
    by_pred, by_model = (json.loads((tmp_path / f"{k}.json").read_text()) for k in "pm")
    figures = [k for k in by_pred if k not in ("predictions", "ground_truth")]  # its source
    assert {k: by_model[k] for k in figures} == {k: by_pred[k] for k in figures}
    assert len(by_model["images"]) == 1 and 0 < by_model["object_f1"] < 1  # can differ
    assert (by_model["objects_3d"], by_model["z_spacing"], by_model["data"]) == (
        True,
        2.0,
        str(tmp_path / "d"),
    )


def test_a_movie_stored_z_before_t_has_each_plane_s_figures_and_focus(tmp_path):
    """The ids and labels TIFFs keep ImageJ's order (T, then Z); a movie stored Z before T
    (tifffile's ZTYX, OME's XYTZ) has its pages otherwise: plane_boxes gave input page 1
    (frame 1, plane 0) the boxes of ids page 1 (frame 0, plane 1), frame 0's focus mixed
    both frames' planes (0.59, where its planes' median is 1.13), and the 2-D summary put
    frame 0's counts on frame 1's rows."""
    movie = np.stack([_ball_stack((5, 56, 72)), np.full((5, 56, 72), 40, np.uint8)])
    tifffile.imwrite(tmp_path / "m.tif", movie.transpose(1, 0, 2, 3), metadata={"axes": "ZTYX"})
    net = local_net()
    predict_folder(net, [tmp_path / "m.tif"], tmp_path / "flat", objects=True)
    rows = _rows(tmp_path / "flat" / "objects_summary.csv")
    table = {(r["t"], r["z"]): r["page"] for r in _rows(tmp_path / "flat" / "m_objects.csv")}
    assert [r["page"] for r in rows] == ["0", "2", "4", "6", "8", "1", "3", "5", "7", "9"]
    assert all(table.get((r["t"], r["z"]), r["page"]) == r["page"] for r in rows)
    assert [r["objects"] != "0" for r in rows] == [True] * 5 + [False] * 5  # frame 1: empty
    planes = [float(r["focus"]) for r in rows[:5]]
    predict_folder(net, [tmp_path / "m.tif"], tmp_path / "o", objects=True, objects_3d=True)
    frames = _rows(tmp_path / "o" / "objects_summary.csv")
    assert [(r["t"], r["objects"]) for r in frames] == [("0", "5"), ("1", "0")]
    assert float(frames[0]["focus"]) == pytest.approx(sorted(planes)[2])


def test_a_streamed_z_stack_s_table_has_z_and_z_um_as_read_whole(tmp_path):
    """A z-stack above the large-image size, streamed page by page, gave its table ``page``
    alone: no ``z``, no ``z_um``, which the stack read whole has (lead s39)."""
    _write(tmp_path / "s.tif", _ball_stack((3, 56, 72)), "ZYX", spacing=2.0)
    tifffile.imwrite(tmp_path / "q.tif", _ball_stack((3, 56, 72)), photometric="minisblack")
    net, lead = local_net(), ["page", "z", "z_um"]

    def table(name, out, **more):
        predict_file(net, tmp_path / name, tmp_path / out, objects=True, **more)
        return _rows(tmp_path / out / f"{name[0]}_objects.csv")

    whole, streamed = table("s.tif", "w"), table("s.tif", "big", large_threshold=1000)
    assert list(streamed[0])[:3] == list(whole[0])[:3] == lead
    assert [[r[k] for k in lead] for r in streamed] == [[r[k] for k in lead] for r in whole]
    assert {r["z_um"] for r in streamed} == {"0", "2", "4"}
    given = table("s.tif", "given", large_threshold=1000, z_spacing=3.0)
    assert {(r["z"], r["z_um"]) for r in given} == {("0", "0"), ("1", "3"), ("2", "6")}
    plain = table("q.tif", "q", large_threshold=1000)  # pages of no axes: as read whole
    assert "z" not in plain[0] and list(plain[0])[:2] == list(table("q.tif", "qw")[0])[:2]


def test_a_large_2d_image_among_the_stacks_is_streamed_with_its_2d_objects(tmp_path, caplog):
    """A 2-D TIFF large enough to stream was refused with --objects-3d ('read it whole
    with --large-pixels'), though it has no planes to join."""
    (tmp_path / "in").mkdir()
    _write(tmp_path / "in" / "s.tif", _ball_stack(), "ZYX")  # 56 x 72 px a plane: whole
    tifffile.imwrite(tmp_path / "in" / "big.tif", np.tile(_ball_stack()[6], (2, 2)))
    each = dict(objects=True, large_threshold=5000)
    with caplog.at_level(logging.INFO):
        found = predict_folder(
            local_net(), tmp_path / "in", tmp_path / "o", objects_3d=True, **each
        )
    assert not found.failed and len(found.written) == 2
    assert "joined the planes of 1 z-stack only; 1 image without a Z axis" in caplog.text
    assert "big.tif" in caplog.text.split("joined the planes")[1]
    predict_folder(local_net(), [tmp_path / "in" / "big.tif"], tmp_path / "2d", **each)
    rows, flat = (_rows(tmp_path / d / "big_objects.csv") for d in ("o", "2d"))
    assert len(rows) > 4 and [r["area"] for r in rows] == [r["area"] for r in flat]


@pytest.mark.parametrize(
    "ids, said",
    [
        (np.array([[[0, -1], [1, 1]]] * 2, np.int32), "hold -1: object ids are 0 \\(none\\)"),
        (np.full((2, 2, 2), 1.5), "must be a \\(Z, Y, X\\) stack of integer object ids"),
        (np.ones((4, 4), np.int32), "must be a \\(Z, Y, X\\) stack of integer object ids"),
    ],
    ids=["negative", "float", "2-D"],
)
def test_ids_that_are_no_stack_of_object_ids_are_one_line(ids, said):
    """table_3d and objects_3d (README: 'joins any stack of per-plane ids', 'measures them'):
    a negative id was numpy's "'list' argument must have no negative elements" in table_3d
    and left out unsaid by objects_3d; floats and a 2-D array an IndexError or AxisError."""

    with pytest.raises(UnetlabError, match=said):
        table_3d(ids, np.ones(ids.shape, np.uint8), None)
    with pytest.raises(UnetlabError, match=said):
        objects_3d(ids)


def test_a_stack_of_bool_masks_is_one_object_a_plane():
    """objects_3d of bool planes raised an IndexError; table_3d measured them as id 1."""

    planes = np.zeros((2, 8, 8), bool)
    planes[:, 2:6, 2:6] = True
    joined = objects_3d(planes)
    assert np.unique(joined).tolist() == [0, 1] and (joined > 0).sum() == 32
    assert table_3d(planes, np.ones(planes.shape, np.uint8), None)["volume"].tolist() == [32]


def test_an_image_of_other_shape_than_the_ids_is_one_line():
    """table_3d reshaped any image of as many values to the ids' voxels: a (Z, C, Y, X)
    hyperstack, as tifffile reads one, was measured scrambled (channel 0 of 10 and channel
    1 of 20 read as 15 and 15), with no word; other shapes raised numpy's reshape error."""

    ids = np.zeros((3, 8, 8), np.int32)
    ids[:, 2:5, 2:5] = 1
    zcyx = np.stack([np.full((3, 8, 8), 10.0), np.full((3, 8, 8), 20.0)], axis=1)
    with pytest.raises(UnetlabError, match=r"is \(3, 2, 8, 8\) but ids \(3, 8, 8\).*transpose"):
        table_3d(ids, zcyx, None)
    table = table_3d(ids, zcyx.transpose(0, 2, 3, 1), None)
    assert [table[f"mean_intensity_{c}"].tolist() for c in (0, 1)] == [[10.0], [20.0]]
    with pytest.raises(UnetlabError, match=r"image is \(3, 9, 8\) but ids"):
        table_3d(ids, np.ones((3, 9, 8)), None)


def test_a_stack_of_no_planes_has_no_objects():
    """objects_3d of a (0, Y, X) stack raised numpy's zero-size ValueError."""
    import numpy as np

    from unetlab.inference.objects_3d import objects_3d

    found = objects_3d(np.zeros((0, 8, 8), np.int32))
    assert found.shape == (0, 8, 8) and found.dtype == np.int32


def test_a_stack_of_no_planes_has_an_empty_table_of_the_same_columns():
    """table_3d of a (0, Y, X) stack (objects_3d's output for it) raised numpy's
    zero-size ValueError (scipy's find_objects takes the max for max_label 0)."""
    import numpy as np

    from unetlab.inference.objects_3d import table_3d

    full = table_3d(np.ones((2, 8, 8), np.int32), np.zeros((2, 8, 8, 2)), (2.0, 1.0, 1.0))
    for shape in [(0, 8, 8), (2, 0, 8)]:
        table = table_3d(np.zeros(shape, np.int32), np.zeros(shape + (2,)), (2.0, 1.0, 1.0))
        assert list(table) == list(full)
        assert all(len(v) == 0 and v.dtype == full[k].dtype for k, v in table.items())


def test_a_z_spacing_given_to_a_movie_is_said_unused(tmp_path, caplog):
    """predict --z-spacing of a TYX movie (its frames no planes) gave no z step and said
    nothing: a user took the frames' objects for a stack measured in µm of depth."""
    tifffile.imwrite(
        tmp_path / "m.tif", _ball_stack((3, 56, 72)), imagej=True, metadata={"axes": "TYX"}
    )
    with caplog.at_level(logging.INFO):
        predict_file(local_net(), tmp_path / "m.tif", tmp_path / "o", objects=True, z_spacing=2.0)
    said = "{} set no z step: 1 image has no Z axis (a movie's frames are time points, "
    assert said.format("z_spacing=") + "not planes): m.tif" in caplog.text  # each its own (s56)
    with caplog.at_level(logging.INFO), command_spelling():
        predict_file(local_net(), tmp_path / "m.tif", tmp_path / "c", objects=True, z_spacing=2.0)
    assert said.format("--z-spacing") + "not planes): m.tif" in caplog.text
    with tifffile.TiffFile(tmp_path / "o" / "m_objects.tif") as tif:
        assert "spacing" not in tif.imagej_metadata  # as without it


def test_predict_objects_3d_of_a_movie_of_z_stacks_names_the_frames(tmp_path):
    """predict_objects(model, (T, Z, Y, X), objects_3d=True) read T as Z and each frame as
    one plane of X channels, and said "shape (13, 56, 72) looks like a stack of 13 planes
    ... predict_image takes one plane": now one line naming the movie and the loop."""
    import unetlab

    movie = np.stack([_ball_stack(), _ball_stack()])
    with pytest.raises(UnetlabError) as info:
        unetlab.predict_objects(local_net(), movie, objects_3d=True)
    said = str(info.value)
    assert f"{movie.shape} looks like (C, Z, Y, X) of 2 channels, channels first" in said
    assert "or a (T, Z, Y, X) movie of 2 time points of 13 planes: give its frames" in said
    assert "for frame in movie]" in said and "predict_image" not in said
    ids, _ = unetlab.predict_objects(local_net(), _ball_stack()[..., None], objects_3d=True)
    assert ids.shape == _ball_stack().shape  # (Z, Y, X, 1): a stack of one channel


def test_predict_objects_3d_of_a_fiji_hyperstack_as_tifffile_reads_it_names_moveaxis():
    """tifffile.imread of a 2-channel Fiji hyperstack gives (Z, C, Y, X): it was called "a
    (T, Z, Y, X) movie of 13 time points, not an image of 72 channels" (audit s68 user3d);
    now one line naming np.moveaxis(stack, 1, -1), which then predicts."""
    import unetlab
    from tests.test_predict_objects import LocalNet

    net = LocalNet(in_channels=2, num_classes=3, depth=2, base_channels=4, padding="valid")
    net.eval().objects = local_net().objects
    balls = _ball_stack()
    zcyx = np.stack([balls, balls // 2], axis=1)
    with pytest.raises(UnetlabError) as info:
        unetlab.predict_objects(net, zcyx, objects_3d=True)
    said = str(info.value)
    assert f"{zcyx.shape} looks like (Z, C, Y, X), its axis 1 the model's 2 channels" in said
    assert "np.moveaxis(stack, 1, -1), (13, 56, 72, 2)" in said and "time points" not in said
    ids, _ = unetlab.predict_objects(net, np.moveaxis(zcyx, 1, -1), objects_3d=True)
    assert ids.shape == balls.shape and ids.max() > 0


@pytest.mark.parametrize(
    "layout, channels, said, unsaid",
    [
        ("CZYX", 2, "looks like (C, Z, Y, X), its axis 0 the model's 2 channels", "time points"),
        ("CZYX", 2, "np.moveaxis(stack, 0, -1), (13, 56, 72, 2)", "moveaxis(stack, 1"),
        ("ZCYX", 1, "(Z, C, Y, X) of 3 channels", "movie: its frames"),
        ("TZYX", 1, "or a (T, Z, Y, X) movie of 20 time points of 5 planes: give its", "= ("),
        ("TZYX", 2, "pick its channel(s), np.moveaxis(stack[:, [c1, c2, ...]], 1, -1); or", "= ("),
        ("ZCYX", 1, "pick its channel(s), stack[:, c]", "moveaxis"),
        ("batch", 1, "a (N, 1, Y, X) batch of 13 images", "moveaxis"),
        ("CZYX3", 1, "(C, Z, Y, X) of 3 channels, channels first", "(Z, C, Y, X)"),
        (
            "CZYX3",
            1,
            "taking 1: pick its channel(s), stack[c]; or a (T, Z, Y, X) movie of 3",
            "= (",
        ),
        ("short", 1, "(Z, C, Y, X) of 6 channels, as tifffile.imread", "= ("),
        ("short", 1, "stack[:, c]; or (C, Z, Y, X) of 3 channels, channels first", "= ("),
        (
            "CZYX3",
            2,
            "taking 2: pick its channel(s), np.moveaxis(stack[[c1, c2, ...]], 0, -1); or",
            "= (",
        ),
    ],
)
def test_predict_objects_3d_of_other_4d_layouts_names_what_to_give(layout, channels, said, unsaid):
    """Review s68 user3d: a 2-channel (C, Z, Y, X) stack was still "a movie of 2 time
    points"; a 3-channel (Z, C, Y, X) one given to a 1-channel model "a movie of 13 time
    points", whose frames then join its channels as planes; a (N, 1, Y, X) batch was told
    to np.moveaxis it into a z-stack; a (T, Z<=8, Y, X) movie was a hyperstack alone, whose
    stack[:, c] joins its frames as planes: both readings are named, their fixes apart; a
    (3, 13, Y, X) stack of 3 channels, not the model's, was "a movie of 3 time points" (s69);
    a (3, 6, Y, X) one was told (Z, C, Y, X) alone, stack[:, c] (review s69 4)."""
    import unetlab
    from tests.test_predict_objects import LocalNet

    net = LocalNet(in_channels=channels, num_classes=3, depth=2, base_channels=4, padding="valid")
    net.eval().objects = local_net().objects
    balls = _ball_stack()
    stack = {
        "CZYX": np.stack([balls, balls // 2], axis=0),
        "ZCYX": np.stack([balls, balls // 2, balls // 3], axis=1),
        "batch": balls[:, None],
        "TZYX": np.stack([balls[4:9]] * 20),
        "CZYX3": np.stack([balls, balls // 2, balls // 3], axis=0),
        "short": np.stack([balls[:6], balls[:6] // 2, balls[:6] // 3], axis=0),
    }[layout]
    with pytest.raises(UnetlabError) as info:
        unetlab.predict_objects(net, stack, objects_3d=True)
    assert said in str(info.value) and unsaid not in str(info.value)


def test_a_stack_of_no_z_step_keeps_its_table_in_um_in_y_and_x(tmp_path):
    """A ZYX stack of 0.5 µm pixels saved without a z step: --objects-3d's table had no _um
    column at all, the y and x ones too, whose pixel size the file records. Its objects
    TIFF, read back, has no z step either (unetlab writes none it does not know; tifffile's
    description read as Fiji's gave 1 µm, and measure volumes in µm³ unsaid: s75 review,
    seen failing without that fix: spacing 1.0)."""
    write_unspaced(tmp_path / "s.tif", _ball_stack())
    predict_file(local_net(), tmp_path / "s.tif", tmp_path / "o", objects=True, objects_3d=True)
    rows = _rows(tmp_path / "o" / "s_objects.csv")
    assert "volume_um3" not in rows[0] and "centroid_z_um" not in rows[0]  # no z step
    assert read_pixel_size(tmp_path / "o" / "s_objects.tif") == PixelSize((0.5, 0.5), "um")
    for row in rows:
        assert float(row["centroid_y_um"]) == pytest.approx(float(row["centroid_y"]) * 0.5)
        assert float(row["centroid_x_um"]) == pytest.approx(float(row["centroid_x"]) * 0.5)


def test_an_array_in_3d_says_its_first_axis_is_taken_as_z(caplog):
    """predict_objects(model, movie (T, Y, X), objects_3d=True, ...) joined the frames as one
    stack and gave µm³ volumes, unsaid (s50 threedleft): an array records no axes, so one
    line says its first axis was taken as Z and how to give a movie's frames."""
    import unetlab

    sizes = dict(pixel_size=0.5, z_spacing=1.0)
    with caplog.at_level(logging.INFO):
        unetlab.predict_objects(local_net(), _ball_stack(), objects_3d=True, **sizes)
    said = [r.getMessage() for r in caplog.records if "first axis" in r.getMessage()]
    assert said == [
        "objects_3d=True took the array's first axis as Z (an array records no axes): its 13 "
        "planes, 1 µm apart, joined in 3-D; a movie's frames (T, Y, X) are no planes: give "
        "them one at a time for each frame's 2-D objects ([predict_objects(model, frame) for "
        "frame in movie]), or its file to unetlab.predict_file, which keeps T apart"
    ]


def _each_time_point_apart(table: Path) -> None:
    """The 3-D objects ``table`` of 2 time points of the same 5 planes: as many in each,
    none beyond its time point's planes."""
    rows = _rows(table)
    per_t = [[r for r in rows if r["t"] == t] for t in ("0", "1")]
    assert len(per_t[0]) == len(per_t[1]) == len(rows) / 2 > 0  # each time point its own
    assert all(int(r["z_last"]) < 5 for r in rows)


def test_a_bare_4d_stack_is_never_joined_across_its_unknown_axis(tmp_path, caplog):
    """A (T, Z, Y, X) array saved without axes (tifffile.imwrite(p, tzyx)), its model
    recording none: --objects-3d joined its 2 x 5 pages as one Z stack, the objects of one
    time point with the next's. Refused in one line naming --axes TZYX and ZCYX, nothing
    written; without it each plane is predicted on its own, said; --axes TZYX joins the
    planes of each time point apart (s51 axes4d item 1)."""
    stack = _ball_stack((5, 56, 72))
    tifffile.imwrite(tmp_path / "m.tif", np.stack([stack, stack]))  # (2, 5, 56, 72), no axes
    with pytest.raises(UnetlabError) as refused:
        predict_file(local_net(), tmp_path / "m.tif", tmp_path / "o", objects=True, objects_3d=True)
    line = str(refused.value)  # as Python spells it; the command line's its flags (s55)
    said = f"{tmp_path / 'm.tif'}: 10 pages in 4 axes and no axis metadata: objects_3d=True"
    assert line.startswith(said)  # a file given alone: by its path as given (review s55 H8)
    assert "axes='TZYX'" in line and "axes='ZCYX'" in line and "\n" not in line
    assert "--axes TZYX" in refused.value.cli and "--axes ZCYX" in refused.value.cli
    assert not (tmp_path / "o").exists()
    outputs = OutputOptions(objects=ObjectOptions(), objects_3d=True)
    with pytest.raises(UnetlabError, match="m.tif: 10 pages in 4 axes"):
        stack_objects_3d(local_net(), tmp_path / "m.tif", outputs)  # evaluate's reading
    with caplog.at_level(logging.WARNING):
        predict_file(local_net(), tmp_path / "m.tif", tmp_path / "p", objects=True)
    assert "read as 10 planes, each predicted on its own (its 4 axes may hold" in caplog.text
    rows = _rows(tmp_path / "p" / "m_objects.csv")
    assert {r["page"] for r in rows} == {str(p) for p in range(10)} and "z_first" not in rows[0]
    both = dict(objects=True, objects_3d=True, axes="TZYX")
    predict_file(local_net(), tmp_path / "m.tif", tmp_path / "t", **both)
    _each_time_point_apart(tmp_path / "t" / "m_objects.csv")


def test_a_bare_4d_stack_refused_for_objects_3d_is_told_in_one_line(tmp_path, caplog, capsys):
    """predict --objects-3d of a (T, Z, Y, X) array saved without axes, its model recording
    none: the warning that its planes are each predicted on its own came first, then the
    refusal, two lines for one problem. The refusal alone now, failing that file (exit 3,
    as a file refused for its channels: the refusal is of what the file holds); without
    --objects-3d the warning is still said (s51 axes4d2 item 1). Its pages may be channels
    first, (C, Z, Y, X), told --axes ZCYX alone (s69)."""
    save_model(tmp_path / "m.pt", local_net())
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "a.tif", np.zeros((3, 2, 24, 20), np.uint8))
    base = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    with caplog.at_level(logging.WARNING):
        assert main([*base, "--output", str(tmp_path / "o"), "--instances", "--objects-3d"]) == 3
    said = caplog.text + capsys.readouterr().err
    assert said.count("a.tif: 6 pages") == 1 and "no axis metadata: --objects-3d" in said
    assert "channels of Z planes (channels first; --channel C picks one) --axes CZYX" in said
    assert "each predicted on its own" not in said and not (tmp_path / "o" / "a.tif").exists()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert main([*base, "--output", str(tmp_path / "p"), "--instances"]) == 0
    assert "read as 6 planes, each predicted on its own" in caplog.text


def test_a_bare_5d_stack_is_told_axes_that_keep_its_time_points(tmp_path, caplog):
    """A (T, Z, C, Y, X) array saved without axes: its warning and its --objects-3d refusal
    named --axes TZQYX for time points, which read every page as of no known meaning (no t
    column), and with --objects-3d joined the objects of all its 20 planes, both time points
    as one stack. Now they name --axes TZCYX with --channel, which keeps each time point
    apart, and TZQYX given with --objects-3d is refused (s51 axes4d2 item 2)."""
    stack = _ball_stack((5, 56, 72))
    tzcyx = np.stack([np.stack([stack, stack], axis=1)] * 2)  # (2, 5, 2, 56, 72)
    tifffile.imwrite(tmp_path / "m.tif", tzcyx)
    with pytest.raises(UnetlabError) as refused:
        predict_file(local_net(), tmp_path / "m.tif", tmp_path / "o", objects=True, objects_3d=True)
    with caplog.at_level(logging.WARNING):
        predict_file(local_net(), tmp_path / "m.tif", tmp_path / "p", objects=True)
    for said in (str(refused.value), caplog.text):  # as Python spells them (s55)
        assert "axes='TZCYX'" in said and "channel=C" in said and "TZQYX" not in said
    assert "--axes TZCYX" in refused.value.cli and "--channel C" in refused.value.cli
    joined = dict(objects=True, objects_3d=True)
    with pytest.raises(UnetlabError, match="m.tif: 20 pages in 5 axes, given as TZQYX"):
        predict_file(local_net(), tmp_path / "m.tif", tmp_path / "q", axes="TZQYX", **joined)
    assert not (tmp_path / "q").exists()
    predict_file(local_net(), tmp_path / "m.tif", tmp_path / "t", axes="TZCYX", channel=0, **joined)
    _each_time_point_apart(tmp_path / "t" / "m_objects.csv")
