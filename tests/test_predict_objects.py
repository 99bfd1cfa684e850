"""Objects from images: tiled == one piece, streamed == in memory, the files and the CLI."""

import csv
import json
import logging
import re

import numpy as np
import pytest
import tifffile
import torch
import torch.nn.functional as F

import unetlab
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data import read_notes
from unetlab.data.io import read_image, write_png
from unetlab.inference import slide_objects
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions, predict_objects
from unetlab.models import UNet
from unetlab.plots import object_colours, object_overlay, outlines


class LocalNet(UNet):
    """A valid-padding "net" whose logits are a fixed local function of the normalised image
    (a 3 x 3 mean, then background where dark, interior where bright, boundary between), so
    that tiling is exercised on an output with real objects and exact values."""

    def forward(self, x):
        b = self.border - 1
        v = F.avg_pool2d(x[:, :1, b : x.shape[2] - b, b : x.shape[3] - b], 3, stride=1)
        return torch.cat([-4 * v, 1 - 4 * (v - 0.3).abs(), 4 * (v - 0.9)], dim=1)


def local_net() -> UNet:
    net = LocalNet(in_channels=1, num_classes=3, depth=2, base_channels=4, padding="valid").eval()
    net.objects = {"target": "instances", "count": 9, "area_p05": 20.0, "area_p95": 200.0}
    return net


def nuclei_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Bright discs (some touching) with darker rims on a dark background, uint8."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    image = np.full((h, w), 40.0)
    for cy, cx in rng.integers(0, [h, w], (h * w // 250, 2)):
        d = np.hypot(yy - cy, xx - cx)
        image = np.where(d <= 6, np.where(d > 4.5, np.minimum(image, 120), 210), image)
    return np.clip(image + rng.normal(0, 6, (h, w)), 0, 255).astype(np.uint8)


def same_partition(a, b) -> bool:
    if a.shape != b.shape or not np.array_equal(a > 0, b > 0):
        return False
    pairs = np.unique(np.stack([a.ravel(), b.ravel()]).astype(np.int64), axis=1)
    return pairs.shape[1] == len(np.unique(a)) == len(np.unique(b))


@pytest.mark.parametrize(("h", "w"), [(97, 83), (61, 130)])
def test_tiled_objects_equal_one_piece_up_to_renumbering(h, w):
    net, image = local_net(), nuclei_image(h, w)
    whole, table = predict_objects(net, image, tile_size=net.valid_input_sizes(200, 1)[0])
    tiled, _ = predict_objects(net, image, tile_size=net.valid_input_sizes(26, 1)[0])
    assert whole.max() >= 8  # real objects, many cut by tile edges
    assert same_partition(whole, tiled)
    assert whole.dtype == np.uint16 and len(table["id"]) == whole.max()


def test_predict_objects_is_public():
    assert "predict_objects" in unetlab.__all__ and unetlab.predict_objects is predict_objects


def test_predict_file_writes_ids_table_and_outlines(tmp_path):
    net, image = local_net(), nuclei_image(70, 90)
    write_png(tmp_path / "in" / "cells.png", image)
    written = predict_file(
        net,
        tmp_path / "in" / "cells.png",
        tmp_path / "out",
        draw_overlay=True,
        objects=ObjectOptions.for_model(net),
    )
    names = sorted(p.name for p in written)
    assert names == ["cells.png", "cells_objects.csv", "cells_objects.tif", "cells_overlay.png"]
    ids = tifffile.imread(tmp_path / "out" / "cells_objects.tif")
    expected, _ = predict_objects(net, image)
    assert ids.dtype == np.uint16 and np.array_equal(ids, expected)
    with open(tmp_path / "out" / "cells_objects.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == ids.max() and list(rows[0])[:3] == ["id", "area", "centroid_y"]
    first = ids == int(rows[0]["id"])
    assert int(float(rows[0]["area"])) == first.sum()
    assert float(rows[0]["mean_intensity"]) == pytest.approx(image[first].mean(), rel=1e-5)
    drawn = read_image(tmp_path / "out" / "cells_overlay.png")
    # an instance model's overlay: each object in its own colour, filled and outlined
    np.testing.assert_array_equal(drawn, object_overlay(image, ids))
    edge = outlines(ids)
    np.testing.assert_array_equal(drawn[edge], object_colours(ids)[edge])


def test_predict_objects_table_has_the_csv_columns_of_the_same_image(tmp_path):
    """predict_objects' table lacked saturated_fraction, which <stem>_objects.csv has for the
    same image (review s48 apiwalk): the same columns both ways, but the file's name."""
    net, image = local_net(), nuclei_image(70, 90)
    image[image > 190] = 255  # the nuclei's cores at the ceiling
    write_png(tmp_path / "in" / "cells.png", image)
    predict_file(net, tmp_path / "in" / "cells.png", tmp_path / "out", objects=True)
    with open(tmp_path / "out" / "cells_objects.csv") as f:
        rows = list(csv.DictReader(f))
    _, table = predict_objects(net, image)
    assert list(table) == [c for c in rows[0] if c != "image"]
    written = [float(r["saturated_fraction"]) for r in rows]
    assert max(written) > 0 and table["saturated_fraction"].tolist() == pytest.approx(written)
    _, floats = predict_objects(net, image.astype(np.float32))  # no ceiling: no column
    assert "saturated_fraction" not in floats


def _columns(path) -> list[str]:
    return path.read_text().splitlines()[0].split(",")


def test_a_multichannel_images_csv_and_geojson_name_its_channels(tmp_path):
    """An image read whole names its intensity columns as a streamed slide does
    (measure.named_channels): by the file's channel names, by index where it names none."""
    dapi = nuclei_image(48, 56, seed=4)
    pixels = np.stack([np.full_like(dapi, 7), dapi])
    named = {"axes": "CYX", "Channel": {"Name": ["CD8", "DAPI 405"]}}
    tifffile.imwrite(tmp_path / "mc.ome.tif", pixels, photometric="minisblack", metadata=named)
    tifffile.imwrite(tmp_path / "plain.ome.tif", pixels, metadata={"axes": "CYX"})
    net = local_net()
    how = dict(channel=1, objects=ObjectOptions.for_model(net), outlines="geojson")
    for name in ("mc.ome.tif", "plain.ome.tif"):
        predict_file(net, tmp_path / name, tmp_path / "o", **how)
    header = _columns(tmp_path / "o" / "mc_objects.csv")
    assert "mean_intensity_CD8" in header and "integrated_intensity_DAPI_405" in header
    assert not [c for c in header if c.endswith(("_0", "_1"))]
    features = json.loads((tmp_path / "o" / "mc_objects.geojson").read_text())["features"]
    assert features and "mean_intensity_DAPI_405" in features[0]["properties"]["measurements"]
    header = _columns(tmp_path / "o" / "plain_objects.csv")  # no names: indices
    assert "mean_intensity_0" in header and "mean_intensity_1" in header


@pytest.mark.parametrize("split", [False, True])
def test_streamed_objects_equal_in_memory(tmp_path, monkeypatch, split):
    monkeypatch.setattr(slide_objects, "OBJECT_BAND_ROWS", 1)  # bands of 2 x margin = 64 rows
    monkeypatch.setattr(slide_objects, "STREAM_ROWS", 50)  # and renumbering in 50-row reads
    monkeypatch.setattr(slide_objects, "PIECE_PIXELS", 1000)  # of 50 x 32 px (chunks of 32)
    monkeypatch.setattr(slide_objects.ome, "CHUNK", 32)
    net, image = local_net(), nuclei_image(231, 77, seed=3)
    tifffile.imwrite(tmp_path / "big.tif", image)
    options = ObjectOptions.for_model(net, distance_split=split)  # split: 37 objects, not 35
    predict_file(net, tmp_path / "big.tif", tmp_path / "small", objects=options)
    predict_file(
        net, tmp_path / "big.tif", tmp_path / "large", objects=options, large_threshold=100
    )
    small = tifffile.imread(tmp_path / "small" / "big_objects.tif")
    large = tifffile.imread(tmp_path / "large" / "big_objects.tif")
    assert small.max() >= 20 and same_partition(small, large)
    # the same ids (raster order of first pixels: s49 ids), so the same rows in order
    assert np.array_equal(small, large)
    tables = []
    for folder in ("small", "large"):
        with open(tmp_path / folder / "big_objects.csv") as f:
            tables.append(list(csv.DictReader(f)))
    assert [r["id"] for r in tables[0]] == [r["id"] for r in tables[1]]
    assert list(tables[0][0]) == list(tables[1][0])
    assert "solidity" in tables[0][0] and "max_intensity" in tables[0][0]
    number = {"true": 1.0, "false": 0.0}
    for a, b in zip(*tables):  # every column, perimeter and hull too, across pieces
        assert a["image"] == b["image"] == "big.tif"  # the input's name, appended
        for key in set(a) - {"id", "image"}:
            x, y = (number[r[key]] if r[key] in number else float(r[key]) for r in (a, b))
            assert x == pytest.approx(y, rel=1e-9, nan_ok=True), key
    hidden = [p.name for p in (tmp_path / "large").glob(".*")]
    assert hidden == [".unetlab-outputs"]  # the manifest; no provisional file left behind


def test_streamed_slide_gets_an_overlay_with_outlines_where_objects_are(tmp_path):
    from unetlab.inference.slides import predict_slide

    net, image = local_net(), nuclei_image(231, 77, seed=3)
    tifffile.imwrite(tmp_path / "big.tif", image)
    options = ObjectOptions.for_model(net)
    written = predict_file(
        net,
        tmp_path / "big.tif",
        tmp_path / "o",
        objects=options,
        draw_overlay=True,
        large_threshold=100,
    )
    assert tmp_path / "o" / "big_overlay.png" in written
    from unetlab.inference.output_rules import finished_inputs

    done = finished_inputs(tmp_path / "o", [tmp_path / "big.tif"], overlay=True, objects=True)
    assert done == [
        tmp_path / "big.tif"
    ]  # its overlay is listed as predict's: skip-existing sees it
    drawn = read_image(tmp_path / "o" / "big_overlay.png")
    ids = tifffile.imread(tmp_path / "o" / "big_objects.tif")
    assert drawn.shape == (231, 77, 3) and ids.max() >= 20
    _assert_objects_drawn(drawn, ids)  # provisional ids: one colour per final object
    colours = np.array([[0, 0, 0], [255, 0, 0], [0, 0, 255]], np.uint8)
    predict_slide(
        net, tmp_path / "big.tif", tmp_path / "s", objects=options, overlay=colours, overlay_side=40
    )
    small = read_image(tmp_path / "s" / "big_overlay.png")
    assert small.shape == (39, 13, 3)  # every 6th pixel: 231 / 6 -> 39, 77 / 6 -> 13
    _assert_objects_drawn(small, ids[::6, ::6])


def _assert_objects_drawn(drawn, ids):
    """Each object's outline in one colour of :func:`object_colours`, another than each
    touching object's (the in-memory overlay's rule, whatever ids the stream used)."""
    edge = outlines(ids)
    palette = {tuple(c) for c in object_colours(np.arange(1, 2**16))}
    colour = {}
    for k in np.unique(ids[edge]):
        seen = {tuple(c) for c in drawn[edge & (ids == k)]}
        assert len(seen) == 1 and seen <= palette, k
        colour[k] = seen.pop()
    a, b = ids[:, :-1], ids[:, 1:]  # horizontally touching objects differ
    touching = (a != b) & (a > 0) & (b > 0) & edge[:, :-1] & edge[:, 1:]
    for x, y in set(zip(a[touching].tolist(), b[touching].tolist())):
        assert colour[x] != colour[y], (x, y)


def test_renumbering_pieces_cover_the_page_in_whole_chunk_columns(monkeypatch):
    monkeypatch.setattr(slide_objects, "STREAM_ROWS", 512)
    monkeypatch.setattr(slide_objects, "PIECE_PIXELS", 2**21)
    pieces = list(slide_objects.pieces(1100, 9000, 512))
    assert pieces[:3] == [
        (slice(0, 512), slice(0, 4096)),
        (slice(0, 512), slice(4096, 8192)),
        (slice(0, 512), slice(8192, 9000)),
    ]
    assert pieces[-1] == (slice(1024, 1100), slice(8192, 9000)) and len(pieces) == 9
    assert list(slide_objects.pieces(10, 100, 512)) == [(slice(0, 10), slice(0, 100))]


def test_cli_predict_instances(tmp_path, capsys, caplog):
    save_model(tmp_path / "m.pt", UNet(in_channels=1, num_classes=3, depth=2, base_channels=4))
    write_png(tmp_path / "in" / "a.png", nuclei_image(40, 40))
    with caplog.at_level(logging.INFO):
        rc = _predict_instances(tmp_path)
    assert rc == 0
    assert (tmp_path / "out" / "a_objects.tif").is_file()
    table = (tmp_path / "out" / "a_objects.csv").read_text()
    assert table.startswith("id,class,class_name,area,centroid_y")  # 3 semantic classes
    # the tables' units, said once (the README alone said them)
    units = [m for m in caplog.messages if m.startswith("objects tables' units: areas in px²")]
    assert len(units) == 1, caplog.messages
    rc = main(
        [
            "predict",
            "--checkpoint",
            str(tmp_path / "m.pt"),
            "--input",
            str(tmp_path / "in"),
            "--output",
            str(tmp_path / "out"),
            "--min-area",
            "3",
        ]
    )
    assert rc == 2 and "--min-area applies to --instances" in capsys.readouterr().err


def test_python_calls_say_the_units_of_the_tables_they_wrote_once(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(read_notes, "_said", set())  # other tests' lines said in this process
    for seed, name in enumerate("ab"):
        write_png(tmp_path / "in" / f"{name}.png", nuclei_image(40, 40, seed))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        unetlab.predict_folder(local_net(), tmp_path / "in", tmp_path / "out", objects=True)
        folder = _units(caplog)
        caplog.clear()
        for seed in range(2):  # a loop over images of one kind: said once
            predict_objects(local_net(), nuclei_image(40, 40, seed), pixel_size=0.5)
        objects = _units(caplog)
    assert len(folder) == 1, caplog.messages  # the CLI alone said it (kromplines s51)
    assert "_um" not in folder[0] and "_m " not in folder[0]  # pngs in px: none written
    assert folder[0].endswith(
        "without a unit: circularity, solidity, saturated_fraction, focus, scale"
    )
    assert len(objects) == 1 and "the columns ending _um in µm, _um2 in µm²" in objects[0]


def _units(caplog) -> list[str]:
    return [m for m in caplog.messages if m.startswith("objects tables' units: ")]


def _predict_instances(tmp_path) -> int:
    return main(
        [
            "predict",
            "--checkpoint",
            str(tmp_path / "m.pt"),
            "--input",
            str(tmp_path / "in"),
            "--output",
            str(tmp_path / "out"),
            "--instances",
            "--min-area",
            "3",
            "--overlay",
        ]
    )


def test_an_image_with_no_object_writes_an_empty_table(tmp_path):
    net = local_net()
    write_png(tmp_path / "in" / "dark.png", np.full((40, 50), 30, np.uint8))
    predict_file(
        net,
        tmp_path / "in" / "dark.png",
        tmp_path / "out",
        draw_overlay=True,
        objects=ObjectOptions.for_model(net),
    )
    ids = tifffile.imread(tmp_path / "out" / "dark_objects.tif")
    assert ids.shape == (40, 50) and not ids.any()
    lines = (tmp_path / "out" / "dark_objects.csv").read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("id,area,")


def test_watershed_seeds_split_the_cells_of_a_membrane_map():
    """Two cells whose membrane has a gap: one object by connected regions, two with seeds."""
    from unetlab.inference.objects import objects_from_probabilities

    membrane = np.full((7, 11), 0.05)
    membrane[:, 0] = membrane[:, 5] = 0.9
    membrane[3, 5] = 0.4  # the gap: cell at the argmax
    probs = np.stack([membrane, 1 - membrane])
    plain = ObjectOptions(min_area=1)
    assert objects_from_probabilities(probs, plain).max() == 1
    seeded = objects_from_probabilities(probs, ObjectOptions(min_area=1, watershed_seeds=0.9))
    assert seeded.max() == 2 and seeded[3, 5] == 0
    with pytest.raises(unetlab.UnetlabError, match="two-class boundary model"):
        objects_from_probabilities(np.stack([membrane / 2] * 3), ObjectOptions(watershed_seeds=0.9))
    with pytest.raises(unetlab.UnetlabError, match="drop watershed_seeds"):
        ObjectOptions(mode="instances", watershed_seeds=0.9)


def test_watershed_seed_refusals_name_the_keyword_or_the_flag_the_caller_used():
    """A Python caller passed watershed_seeds=: the line says so, not --watershed-seeds
    (the command line passes its flags as names)."""
    no_background = UNet(1, 2, depth=2, base_channels=4, padding="same")
    no_background.label_values, no_background.ignore_value = [1, 2], 0
    models = {
        "grows objects from its own interior seeds": local_net(),
        "need a two-class boundary model": UNet(1, 3, depth=2, base_channels=4, padding="same"),
        "has no background class": no_background,
    }
    flags = {"watershed_seeds": "--watershed-seeds"}
    for why, model in models.items():
        with pytest.raises(unetlab.UnetlabError, match=why) as said:
            ObjectOptions.for_model(model, watershed_seeds=0.9)
        assert "drop watershed_seeds" in str(said.value) and "--" not in str(said.value)
        with pytest.raises(unetlab.UnetlabError, match=f"{why}.*drop --watershed-seeds"):
            ObjectOptions.for_model(model, watershed_seeds=0.9, names=flags)
    with pytest.raises(unetlab.UnetlabError, match="drop watershed_seeds$"):
        predict_objects(no_background, nuclei_image(16, 16), watershed_seeds=0.9)


def test_a_seed_threshold_is_refused_for_a_model_without_interior_seeds():
    # predict_objects(model, image, seed_threshold=0.9) ignored it for a two-class model
    two = UNet(1, 2, depth=2, base_channels=4, padding="same")
    with pytest.raises(unetlab.UnetlabError, match=r"^seed_threshold sets the interior seeds"):
        ObjectOptions.for_model(two, seed_threshold=0.9)
    with pytest.raises(unetlab.UnetlabError, match=r"this model has none: drop it"):
        predict_objects(two, nuclei_image(16, 16), seed_threshold=0.9)
    flags = {"seed_threshold": "--seed-threshold", "watershed_seeds": "--watershed-seeds"}
    with pytest.raises(unetlab.UnetlabError, match=r"^--seed-threshold sets .*\(--watershed-s"):
        ObjectOptions.for_model(two, seed_threshold=0.9, names=flags)
    assert ObjectOptions.for_model(local_net(), seed_threshold=0.9).seed_threshold == 0.9


def test_object_option_ranges_are_one_rule_named_for_python_or_the_command_line():
    from unetlab.inference.objects import check_object_values

    cases = [
        (dict(min_area=-1), "min_area must be at least 0 px, not -1"),
        (dict(seed_threshold=1.5), "seed_threshold is a probability in [0, 1], not 1.5"),
        (dict(watershed_seeds=2.0), "watershed_seeds is a probability in [0, 1], not 2.0"),
        (dict(foreground_threshold=-0.1), "foreground_threshold is a probability in [0, 1]"),
        # no number: a TypeError traceback ('<=' not supported), or True taken as 1 (audit s38
        # apiaudit: min_peak=True dropped every object under a certain interior)
        (dict(min_peak="0.5"), "min_peak is a probability in [0, 1], not '0.5'"),
        (dict(min_peak=True), "min_peak is a probability in [0, 1], not True"),
        (dict(min_area="16"), "min_area must be at least 0 px, not '16'"),
    ]
    for values, message in cases:
        with pytest.raises(unetlab.UnetlabError, match=f"^{re.escape(message)}"):
            ObjectOptions(**values)
        key = next(iter(values))
        flag = "--" + key.replace("_", "-")
        with pytest.raises(unetlab.UnetlabError, match=f"^{re.escape(flag)} "):
            check_object_values({key: flag}, **values)
    check_object_values(min_area=None, distance_split=True)  # unset and other fields pass


def test_cli_watershed_seeds(tmp_path, capsys):
    write_png(tmp_path / "in" / "a.png", nuclei_image(40, 50))
    save_model(tmp_path / "two.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    save_model(tmp_path / "three.pt", local_net())
    argv = ["predict", "--input", str(tmp_path / "in"), "--watershed-seeds", "0.9"]
    out = ["--output", str(tmp_path / "out")]
    assert main([*argv, "--checkpoint", str(tmp_path / "two.pt"), *out]) == 2
    assert "--watershed-seeds applies to --instances" in capsys.readouterr().err
    wrong = [*argv[:-1], "2", "--instances", "--checkpoint", str(tmp_path / "two.pt"), *out]
    assert main(wrong) == 2 and "a probability in [0, 1], not 2.0" in capsys.readouterr().err
    assert main([*argv, "--checkpoint", str(tmp_path / "three.pt"), "--instances", *out]) == 2
    assert "drop --watershed-seeds" in capsys.readouterr().err
    save_model(tmp_path / "many.pt", UNet(1, 3, depth=2, base_channels=4, padding="same"))
    assert main([*argv, "--checkpoint", str(tmp_path / "many.pt"), "--instances", *out]) == 2
    assert "need a two-class boundary model" in capsys.readouterr().err  # before any file
    assert not (tmp_path / "out").exists()  # and the output folder it made is gone again
    assert main([*argv, "--checkpoint", str(tmp_path / "two.pt"), "--instances", *out]) == 0
    assert tifffile.imread(tmp_path / "out" / "a_objects.tif").shape == (40, 50)


def spied_object_options(tmp_path, monkeypatch) -> tuple[list[str], list]:
    """A `predict --instances` command line on one nuclei image with a three-class net, and
    the list each run's ObjectOptions (as the CLI builds them) is appended to."""
    from unetlab.cli import predict as cli_predict

    write_png(tmp_path / "in" / "a.png", nuclei_image(40, 50))
    save_model(tmp_path / "three.pt", local_net())
    seen = []
    real = cli_predict._objects

    def spy(args, model):
        seen.append(real(args, model))
        return seen[-1]

    monkeypatch.setattr(cli_predict, "_objects", spy)
    argv = ["predict", "--input", str(tmp_path / "in"), "--checkpoint", str(tmp_path / "three.pt")]
    return [*argv, "--output", str(tmp_path / "out"), "--instances"], seen


def test_cli_seed_threshold_and_distance_split_reach_the_object_options(tmp_path, monkeypatch):
    argv, seen = spied_object_options(tmp_path, monkeypatch)
    assert main([*argv, "--seed-threshold", "0.9", "--no-distance-split"]) == 0
    assert seen[-1].seed_threshold == 0.9 and not seen[-1].distance_split
    assert main([*argv, "--overwrite"]) == 0  # an instance model splits by default
    assert seen[-1].seed_threshold == 0.5 and seen[-1].distance_split


def test_cli_seed_threshold_is_refused_without_instances_or_out_of_range(tmp_path, capsys):
    write_png(tmp_path / "in" / "a.png", nuclei_image(40, 50))
    save_model(tmp_path / "two.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    argv = ["predict", "--input", str(tmp_path / "in"), "--checkpoint", str(tmp_path / "two.pt")]
    argv += ["--output", str(tmp_path / "out")]
    assert main([*argv, "--seed-threshold", "0.9"]) == 2
    assert "--seed-threshold applies to --instances" in capsys.readouterr().err
    assert main([*argv, "--instances", "--seed-threshold", "1.5"]) == 2
    assert "a probability in [0, 1], not 1.5" in capsys.readouterr().err
    assert main([*argv, "--instances", "--seed-threshold", "0.9"]) == 2
    assert "this model has none: drop it" in capsys.readouterr().err


def _non_square_input(path, image) -> None:
    """``image`` with pixels 0.4 um high and 0.2 um wide: an ImageJ TIFF (XResolution 5,
    YResolution 2.5 px/um) or an OME-TIFF (PhysicalSizeY 0.4, PhysicalSizeX 0.2)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".ome.tif"):
        meta = {"axes": "YX", "PhysicalSizeY": 0.4, "PhysicalSizeX": 0.2}
        tifffile.imwrite(path, image, metadata=meta)
    else:
        tifffile.imwrite(path, image, imagej=True, resolution=(5, 2.5), metadata={"unit": "um"})


@pytest.mark.parametrize("name", ["a.tif", "a.ome.tif"])
def test_non_square_pixels_give_y_and_x_their_own_size(tmp_path, monkeypatch, name):
    """x 0.2 um, y 0.4 um (measure audit 1): area_um2 was area x 0.2 x 0.2, centroid_y_um
    was the row x 0.2, and the labels, objects, overlay and probabilities said 0.2 x 0.2 um
    pixels, without a word; the streamed path was right, so the two disagreed on one file."""
    import unetlab.checkpoint
    from unetlab.data.tiffmeta import PixelSize, read_pixel_size

    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: local_net())
    _non_square_input(tmp_path / "in" / name, nuclei_image(70, 90))
    argv = ["predict", "--checkpoint", "any.pt", "--input", str(tmp_path / "in" / name)]
    argv += ["--instances", "--overlay"]
    assert main([*argv, "--output", str(tmp_path / "mem"), "--save-probabilities"]) == 0
    assert main([*argv, "--output", str(tmp_path / "big"), "--large-pixels", "100"]) == 0
    with open(tmp_path / "mem" / "a_objects.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 5
    for row in rows:
        px = {k: float(row[k]) for k in ("area", "centroid_y", "centroid_x")}
        assert float(row["area_um2"]) == pytest.approx(px["area"] * 0.4 * 0.2, rel=1e-5)
        assert float(row["centroid_y_um"]) == pytest.approx(px["centroid_y"] * 0.4, rel=1e-5)
        assert float(row["centroid_x_um"]) == pytest.approx(px["centroid_x"] * 0.2, rel=1e-5)
    table = (tmp_path / "mem" / "a_objects.csv").read_text()
    assert (tmp_path / "big" / "a_objects.csv").read_text() == table
    outputs = ["a.tif", "a_objects.tif", "a_overlay.tif", "a_prob.tif"]
    assert sorted(p.name for p in (tmp_path / "mem").glob("*.tif")) == outputs
    for out in outputs:  # both sides, in Fiji and in unetlab, as the streamed OME-TIFFs
        with tifffile.TiffFile(tmp_path / "mem" / out) as tif:
            tags = tif.pages[0].tags
            xres, yres = tags["XResolution"].value, tags["YResolution"].value
        assert (xres[0] / xres[1], yres[0] / yres[1]) == pytest.approx((5, 2.5)), out
        size = read_pixel_size(tmp_path / "mem" / out)
        assert size == PixelSize(pytest.approx((0.4, 0.2)), "um"), out
    for out in ("a.tif", "a_objects.tif"):
        assert read_pixel_size(tmp_path / "big" / out).size == pytest.approx((0.4, 0.2))


def test_a_time_lapse_table_gives_seconds(tmp_path):
    from unetlab.data.tiffmeta import frame_seconds

    assert frame_seconds({"finterval": 2.0, "tunit": "min"}) == 120.0
    assert frame_seconds({"finterval": 30.0}) == 30.0  # ImageJ's default unit: seconds
    assert frame_seconds({"finterval": 2.0, "tunit": "fortnight"}) is None
    assert frame_seconds({}) is None
    net = local_net()
    frames = np.stack([nuclei_image(50, 60, seed=s) for s in (0, 1, 2)])
    tifffile.imwrite(
        tmp_path / "tl.tif", frames, imagej=True, metadata={"axes": "TYX", "finterval": 30.0}
    )
    predict_file(net, tmp_path / "tl.tif", tmp_path / "o", objects=ObjectOptions.for_model(net))
    with open(tmp_path / "o" / "tl_objects.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:4] == ["page", "t", "t_s", "id"]
    assert {(r["t"], r["t_s"]) for r in rows} == {("0", "0"), ("1", "30"), ("2", "60")}


def test_predict_folder_counts_each_inputs_objects_per_plane_from_its_ids(tmp_path, monkeypatch):
    # a review: the command line read each _objects.csv back off disk to count the objects,
    # and Python callers of predict_folder could not have the counts at all
    monkeypatch.setattr(csv, "DictReader", _no_table_read)
    images = tmp_path / "in"
    write_png(images / "a.png", nuclei_image(70, 90))
    stack = np.stack([nuclei_image(50, 60, seed=s) for s in (1, 2)] + [np.zeros((50, 60))])
    tifffile.imwrite(images / "s.tif", stack.astype(np.uint8), photometric="minisblack")
    net = local_net()
    done = unetlab.predict_folder(net, images, tmp_path / "out", objects=ObjectOptions())
    monkeypatch.undo()
    assert list(done.objects) == [images / "a.png", images / "s.tif"]
    for path, planes in done.objects.items():
        with open(tmp_path / "out" / f"{path.stem}_objects.csv", newline="") as f:
            rows = [int(r.get("page", 0)) for r in csv.DictReader(f)]
        assert planes == [rows.count(p) for p in range(len(planes))]
    assert len(done.objects[images / "s.tif"]) == 3 and done.objects[images / "s.tif"][2] == 0
    assert done.objects[images / "a.png"][0] > 1


def _no_table_read(*args, **kwargs):
    raise AssertionError("objects were counted from a table read back off disk")


@pytest.mark.parametrize("pages", [1, 3])
def test_predict_folder_counts_a_streamed_images_objects(tmp_path, monkeypatch, pages):
    # a streamed slide's objects were counted from the <stem>_objects.csv it had just
    # written, read back: now from the ids it renumbered (each page's)
    images = tmp_path / "in"
    images.mkdir()
    planes = [nuclei_image(70, 90, seed=s) for s in range(1, pages)] + [np.zeros((70, 90))]
    image = nuclei_image(70, 90) if pages == 1 else np.stack(planes).astype(np.uint8)
    tifffile.imwrite(images / "a.tif", image, photometric="minisblack")
    kept = dict(objects=ObjectOptions(), large_threshold=1000)  # a.tif is streamed
    monkeypatch.setattr(csv, "DictReader", _no_table_read)
    done = unetlab.predict_folder(local_net(), images, tmp_path / "out", **kept)
    monkeypatch.undo()
    with open(tmp_path / "out" / "a_objects.csv", newline="") as f:
        rows = [int(r.get("page", 0)) for r in csv.DictReader(f)]
    assert done.objects == {images / "a.tif": [rows.count(p) for p in range(pages)]}
    assert done.objects[images / "a.tif"][0] > 1
    assert pages == 1 or done.objects[images / "a.tif"][-1] == 0


class BrightNet(UNet):
    """Two classes, the argmax a fixed function of the image: class 0 where it is bright
    (the discs of :func:`nuclei_image`), class 1 elsewhere."""

    def forward(self, x):
        b = self.border
        v = x[:, :1, b : x.shape[2] - b, b : x.shape[3] - b]
        return torch.cat([v - 0.6, 0.6 - v], dim=1)


@pytest.mark.parametrize(
    ("classes", "values"),
    [(["cell", "background"], [0, 255]), (["x", "y"], [255, 0]), (["cell", "membrane"], None)],
)
def test_a_semantic_models_objects_leave_out_its_background_not_class_0(classes, values):
    """The class named background or membrane, else that of mask value 0, is no object, as in
    training and evaluate: here class 1, so the objects are the bright class-0 discs (were
    the dark surround: class 0 was taken as the background whatever the names)."""
    net = BrightNet(in_channels=1, num_classes=2, depth=2, base_channels=4, padding="valid")
    net.classes, net.label_values = classes, values
    options = ObjectOptions.for_model(net.eval(), min_area=3)
    assert options.background == 1
    image = nuclei_image(48, 56)
    ids, _ = predict_objects(net, image, min_area=3)
    probabilities = unetlab.predict_image(net, image)
    cell = probabilities[0] > probabilities[1]  # class 0: the discs
    assert (ids > 0)[cell].mean() > 0.95 and cell[ids > 0].mean() > 0.95  # holes filled
    assert ids.max() >= 3
    net.classes, net.label_values = ["membrane", "cell"], [0, 255]
    assert ObjectOptions.for_model(net).background == 0


def test_object_options_refuse_a_background_that_is_none_of_the_classes():
    from unetlab.inference.objects import objects_from_probabilities

    with pytest.raises(unetlab.UnetlabError, match="background class 2 is none of this"):
        objects_from_probabilities(np.full((2, 4, 4), 0.5), ObjectOptions(background=2))
    with pytest.raises(unetlab.UnetlabError, match="0 for an instance model"):
        ObjectOptions(mode="instances", background=1)


def test_cli_predict_instances_takes_the_named_background(tmp_path):
    """``predict --instances`` with a checkpoint whose background is class 1 (cell,
    background; mask values 255, 0): the record says the objects left class 1 out."""
    import json

    net = UNet(in_channels=1, num_classes=2, depth=2, base_channels=4, padding="same")
    net.classes, net.label_values = ["cell", "background"], [255, 0]
    save_model(tmp_path / "m.pt", net)
    write_png(tmp_path / "in" / "a.png", nuclei_image(32, 32))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    assert main([*argv, "--output", str(tmp_path / "out"), "--instances", "--min-area", "1"]) == 0
    records = json.loads((tmp_path / "out" / "predict.json").read_text())["records"]
    (record,) = records.values()
    assert record["outputs"]["objects"]["background"] == 1


def test_the_object_record_keeps_its_key_where_the_background_is_class_0():
    """Outputs found with background class 0 (every one before it was a field) keep their
    key, so --skip-existing keeps them; another background is recorded, a new key."""
    from dataclasses import asdict

    from unetlab.inference.records import object_record

    dropped = ("background", "class_min_areas", "cut_min_area", "min_peak", "split_necks")
    dropped += ("no_class", "model_areas")  # where the values came from: never recorded
    old = {k: v for k, v in asdict(ObjectOptions(min_area=3)).items() if k not in dropped}
    assert object_record(ObjectOptions(min_area=3)) == old
    assert object_record(ObjectOptions(min_area=3, background=1)) == {**old, "background": 1}
    assert sorted(old) == [  # the fields of session 33: a new field must keep the old key
        *("distance_split", "fill_holes", "foreground_threshold", "min_area"),
        *("min_seed_area", "mode", "seed_threshold", "split_interior", "watershed_seeds"),
    ]
    level = object_record(ObjectOptions(min_area=3, cut_min_area=16))  # a 2x level's
    assert level == {**old, "cut_min_area": 16}
    faint = object_record(ObjectOptions(mode="instances", min_area=3, min_peak=0.85))
    assert faint["min_peak"] == 0.85  # objects found otherwise: a new key
    assert object_record(ObjectOptions(min_area=3, split_necks=True))["split_necks"] is True


@pytest.mark.parametrize(
    "given",
    [
        {},
        dict(background=None, class_min_areas=(0, 4), cut_min_area=9),
        dict(background=2, min_peak=0.5, split_necks=True, no_class=(1,)),
    ],
)
def test_a_record_read_back_with_its_left_out_settings_is_the_options(given):
    """records.LEFT_OUT is the one source of what object_record leaves out: a record as
    predict.json reads it back, its left-out settings filled in (objects_as_run), is every
    field of the options (JSON's lists for tuples). Pins behaviour (passes on the code before
    object_record read LEFT_OUT: its own tests of each field gave the same records)."""
    import json

    from unetlab.inference.objects import option_fields
    from unetlab.inference.records import LEFT_OUT, object_record, objects_as_run

    options = ObjectOptions(min_area=3, **given)
    read_back = json.loads(json.dumps(object_record(options)))
    assert objects_as_run(read_back) == json.loads(json.dumps(option_fields(options)))
    assert not set(LEFT_OUT) & set(object_record(ObjectOptions(min_area=3)))


def test_a_setting_that_is_off_is_left_out_of_the_record_at_any_such_value():
    """min_peak None and split_necks None (off, Python's ObjectOptions takes them) are left
    out of the record as any falsy value was before records.LEFT_OUT was its one source:
    the same key as the defaults (--skip-existing). Seen failing without the fix (s75
    review): min_peak: None and split_necks: None kept."""
    from unetlab.inference.records import object_record

    off = ObjectOptions(min_area=3, min_peak=None, split_necks=None, no_class=())
    assert object_record(off) == object_record(ObjectOptions(min_area=3))
    assert object_record(ObjectOptions(background=None))["background"] is None  # held
