"""``scale=`` (``--scale``; Cellpose's diameter): an image whose objects are half the
training size is resampled 2x for the net and its probabilities back to its own shape
(audit s39 audit2: Kromp nuclei at half size, object F1 0.59 -> 0.48, 31% fewer found)."""

import json
import logging

import numpy as np
import pytest
import tifffile
import torch
from scipy import ndimage

import unetlab.inference.predict as predict
from unetlab import UNet, predict_file, predict_image, predict_objects
from unetlab.errors import OutputError, UnetlabError, command_spelling
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.predict import PredictOptions
from unetlab.inference.records import OutputOptions, prediction_record
from unetlab.inference.rescale import rescaled


def _discs(side: int, radius: float) -> np.ndarray:
    """A (side, side) uint16 image of 4 bright discs of ``radius`` px on a dark ground."""
    yy, xx = np.mgrid[:side, :side]
    image = np.full((side, side), 100, np.uint16)
    for cy, cx in [(0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75)]:
        image[(yy - cy * side) ** 2 + (xx - cx * side) ** 2 <= radius**2] = 4000
    return image


def _sized_net(model, image, o, *, stats, progress):
    """A net that knows discs of ~113 px (radius 6) only: P(object) = 1 on bright regions of
    60 to 200 px, as a net trained on one object size finds few of half that size."""
    bright = image[..., 0] > image.mean()
    regions, n = ndimage.label(bright)
    areas = np.bincount(regions.ravel(), minlength=n + 1)
    sized = (areas >= 60) & (areas <= 200)
    sized[0] = False
    fg = sized[regions].astype(np.float32)
    return np.stack([1 - fg, fg])


@pytest.fixture
def net(monkeypatch):
    monkeypatch.setattr(predict, "_tiled_probabilities", _sized_net)
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, base_channels=4, padding="same").eval()


def _count(net, image, **settings) -> int:
    ids, _ = predict_objects(net, image, min_area=4, **settings)
    return int(ids.max())


def test_half_size_objects_scaled_2x_are_found_as_at_full_size(net):
    assert _count(net, _discs(64, 6)) == 4
    assert _count(net, _discs(32, 3)) == 0  # half size, as it is: none found
    assert _count(net, _discs(32, 3), scale=2) == 4


def test_probabilities_come_back_at_the_input_shape(net):
    probs = predict_image(net, _discs(30, 3)[:, :27], scale=2)
    assert probs.shape == (2, 30, 27)
    assert probs[1].max() > 0.9  # the discs found


def test_scale_auto_takes_the_file_pixel_size(net, tmp_path, caplog):
    net.objects = {"target": "semantic", "pixel_size": [0.325, 0.325], "area_median": 113}
    path = tmp_path / "half.tif"
    meta = {"unit": "um", "axes": "YX"}
    tifffile.imwrite(path, _discs(32, 3), imagej=True, resolution=(1 / 0.65,) * 2, metadata=meta)
    found = []
    outputs = OutputOptions(objects=ObjectOptions(min_area=4))
    with caplog.at_level(logging.INFO):
        predict_file(net, path, tmp_path / "out", outputs, scale="auto", counted=found.append)
    assert found == [[4]]
    # from Python, the keyword (s49 apilines: it said --scale auto; the command still does)
    assert "half.tif: scale='auto': 0.65 µm pixels, trained on 0.325 µm: scaled 2" in caplog.text
    assert "--scale" not in caplog.text
    (record,) = json.loads((tmp_path / "out" / "predict.json").read_text())["records"].values()
    assert record["model"]["scale"] == "auto"  # the key: --skip-existing does not mix
    assert record["files"][str(path.resolve())]["scale"] == 2.0  # the factor it took


def test_the_factor_is_part_of_the_record_key(net):
    plain = prediction_record(net, PredictOptions(), OutputOptions())
    scaled = prediction_record(net, PredictOptions(scale=2), OutputOptions())
    assert "scale" not in plain.model  # outputs made before --scale keep their key
    assert scaled.model["scale"] == 2.0 and scaled.key != plain.key
    assert scaled.describe().endswith(", scale 2")  # the refusal to mix names it
    assert "scale" not in plain.describe()
    auto = prediction_record(net, PredictOptions(scale="auto"), OutputOptions())
    assert json.loads(json.dumps(auto.model))["scale"] == "auto"


def test_bad_factors_and_auto_for_an_array_are_one_line(net):
    with pytest.raises(UnetlabError) as bad:  # each caller its form (s56 fixI: both inline)
        PredictOptions(scale=0)
    assert str(bad.value).startswith("scale must be a factor from 1/16 to 16 (2: objects half")
    assert str(bad.value).endswith(") or 'auto', not 0") and "--" not in str(bad.value)
    assert bad.value.cli.startswith("--scale must be a factor") and ") or auto, not 0" in (
        bad.value.cli
    )
    with pytest.raises(UnetlabError, match="scale='auto' takes a file's pixel size"):
        predict_image(net, _discs(32, 3), scale="auto")


def test_a_large_image_read_window_by_window_is_refused(net, tmp_path):
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, _discs(64, 6))
    with pytest.raises(UnetlabError, match=r"big.tif: scale= resamples images read"):
        predict_file(net, path, tmp_path / "out", scale=2, large_threshold=100)


def test_each_plane_of_a_stack_is_scaled(net, tmp_path):
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.stack([_discs(32, 3)] * 2), imagej=True, metadata={"axes": "ZYX"})
    found = []
    outputs = OutputOptions(objects=ObjectOptions(min_area=4))
    written = predict_file(net, path, tmp_path / "out", outputs, scale=2, counted=found.append)
    assert found == [[4, 4]]
    (labels,) = [p for p in written if p.name == "stack.tif"]
    assert tifffile.imread(labels).shape == (2, 32, 32)  # in the input's pixels


def test_predict_tensor_refuses_a_scale_it_would_ignore(net):
    from unetlab.inference.predict import predict_tensor

    with pytest.raises(UnetlabError, match="predict_tensor: scale= is predict_image's"):
        predict_tensor(net, torch.zeros(1, 1, 16, 16), scale=2)


def test_the_note_names_the_training_diameter_and_not_scale_1(net):
    from unetlab.inference.rescale import scale_note

    net.objects = {"target": "instances", "area_median": 254.5}  # a disc 18 px across
    (line,) = scale_note(net, "2")  # each caller its form (s56 fixI: the flag to Python)
    assert line.endswith("~18 px across (median area 254 px): Cellpose's diameter D is scale=18/D")
    with command_spelling():
        (line,) = scale_note(net, "2")
    assert line.endswith("Cellpose's diameter D is --scale 18/D")
    assert scale_note(net, "1") == [] and scale_note(net, None) == []


def test_the_checkpoint_least_area_is_scaled_a_given_one_not(net, tmp_path):
    """The default least area (60 px: 1/4 of the training 5th percentile, 240 px) is in
    training-scale px: at --scale 2 an image's ~29-px disc is 113 px to the net, kept (15 px
    floor in the image's px); a min_area of 50 the user gives is the image's px: dropped."""
    net.objects = {"target": "semantic", "count": 9, "area_p05": 240, "area_median": 300}
    path = tmp_path / "half.tif"
    tifffile.imwrite(path, _discs(32, 3))
    found = []
    for objects in (True, ObjectOptions.for_model(net, min_area=50)):
        outputs = OutputOptions(objects=objects, overwrite=True)
        predict_file(net, path, tmp_path / "out", outputs, scale=2, counted=found.append)
    assert found == [[4], [0]]


def test_a_refusal_of_outputs_made_at_another_scale_names_the_setting(net, tmp_path):
    """Outputs of this model at --scale 2 are no other model's: the refusal says the setting."""
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "a.tif", _discs(32, 3))
    predict_folder(net, tmp_path / "in", tmp_path / "out", scale=2)
    said = r"this checkpoint's outputs made with other settings \(scale 2 there, the defaults here"
    with pytest.raises(OutputError, match=said):
        predict_folder(net, tmp_path / "in", tmp_path / "out", skip_existing=True)


def test_an_image_shrunk_is_smoothed_first():
    """Stripes 1 px wide shrunk 3x: a linear sample of every 3rd pixel keeps them (aliasing,
    noise the net reads as texture); smoothed first, they are their mean."""
    stripes = np.tile(np.array([0.0, 1000.0], np.float32), (60, 30))[..., None]
    out = rescaled(stripes, 1 / 3)
    assert out.shape == (20, 20, 1) and out.std() < 100
    assert abs(out.mean() - 500) < 50


def test_predict_objects_scales_the_checkpoint_least_area(net):
    """``predict_objects(scale=2)`` finds what ``predict --scale 2`` writes: the default
    least area (60 px at training scale) is 15 px in the image's, the ~29-px discs kept."""
    net.objects = {"target": "semantic", "count": 9, "area_p05": 240, "area_median": 300}
    ids, _ = predict_objects(net, _discs(32, 3), scale=2)
    assert int(ids.max()) == 4
    ids, _ = predict_objects(net, _discs(32, 3), scale=2, min_area=50)  # the image's px
    assert int(ids.max()) == 0


def test_evaluate_scale_scales_the_checkpoint_least_area(net, tmp_path, monkeypatch, capsys):
    """``evaluate --checkpoint --scale 2`` scores the objects ``predict --scale 2`` finds."""
    import unetlab.checkpoint
    from unetlab.checkpoint import save_model
    from unetlab.cli import main

    net.objects = {"target": "semantic", "count": 9, "area_p05": 240, "area_median": 300}
    save_model(tmp_path / "m.pt", net)
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    image = _discs(32, 3)
    for sub in ("images", "masks"):
        (tmp_path / "data" / sub).mkdir(parents=True)
    tifffile.imwrite(tmp_path / "data" / "images" / "a.tif", image)
    mask = (image > 1000).astype(np.uint8)
    tifffile.imwrite(tmp_path / "data" / "masks" / "a.tif", mask)
    argv = ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(tmp_path / "data")]
    flags = ["--scale", "2", "--object-scores", "--device", "cpu"]
    assert main([*argv, *flags, "--json", str(tmp_path / "e.json")]) == 0
    report = json.loads((tmp_path / "e.json").read_text())
    assert report["pred_objects"] == 4 and report["scale"] == 2  # said in its source
    assert "min area 15 px (60 at training scale / 2²)" in capsys.readouterr().out


def test_the_objects_line_says_the_least_area_the_images_are_held_to(net):
    """predict/evaluate --scale 0.5 said 'min area 38 px' while the objects were held to
    152 px of the image (the training floor / 0.5²: audit s40 readme); a given one is kept."""
    from unetlab.cli.common import objects_line

    net.objects = {"target": "semantic", "count": 9, "area_p05": 240, "area_median": 300}
    default = ObjectOptions.for_model(net)  # 60 px at the training scale
    assert "min area 240 px (60 at training scale / 0.5²)" in objects_line(default, True, "0.5")
    assert "min area 15 px (60 at training scale / 2²)" in objects_line(default, True, 2)
    given = ObjectOptions.for_model(net, min_area=50)
    assert objects_line(given, True, 2).endswith("min area 50 px")
    assert objects_line(default, True, None).endswith("min area 60 px")


def _saved(net, tmp_path, monkeypatch):
    """``net`` with a record of 60-px default least areas, as the checkpoint m.pt loads."""
    import unetlab.checkpoint
    from unetlab.checkpoint import save_model

    net.objects = {"target": "semantic", "count": 9, "area_p05": 240, "area_median": 300}
    save_model(tmp_path / "m.pt", net)
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    return str(tmp_path / "m.pt")


def test_a_min_area_given_equal_to_the_default_is_the_image_px(
    net, tmp_path, monkeypatch, capsys, caplog
):
    """A min_area typed as the default's value (60) is the image's px as any other given:
    at scale 2 the ~29-px discs are dropped (the default, 15 px there, keeps them); the
    objects line says the area used."""
    from unetlab.cli import main

    checkpoint = _saved(net, tmp_path, monkeypatch)
    assert ObjectOptions.for_model(net).min_area == 60
    ids, _ = predict_objects(net, _discs(32, 3), scale=2, min_area=60)
    assert int(ids.max()) == 0
    given = ObjectOptions.for_model(net, min_area=60)
    ids, _ = predict_objects(net, _discs(32, 3), scale=2, object_options=given)
    assert int(ids.max()) == 0
    tifffile.imwrite(tmp_path / "a.tif", _discs(32, 3))
    said = ("min area 60 px", "min area 15 px (60 at training scale / 2²)")
    for flags, found, line in ((["--min-area", "60"], 0, said[0]), ([], 4, said[1])):
        out = tmp_path / f"out{len(flags)}"
        argv = ["predict", "--checkpoint", checkpoint, "--input", str(tmp_path / "a.tif")]
        argv += ["--output", str(out), "--instances"]
        with caplog.at_level(logging.INFO):
            assert main([*argv, "--scale", "2", "--device", "cpu", *flags]) == 0
        assert int(tifffile.imread(out / "a_objects.tif").max()) == found
        assert line in capsys.readouterr().out + caplog.text


def _pair(data, name: str, image: np.ndarray, pixel: float | None) -> None:
    """``image`` and its mask (its bright discs) in ``data``'s images/ and masks/, the
    image's pixel size ``pixel`` µm recorded (None: none)."""
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    meta = {"unit": "um", "axes": "YX"}
    sized = {} if pixel is None else dict(imagej=True, resolution=(1 / pixel,) * 2, metadata=meta)
    tifffile.imwrite(data / "images" / name, image, **sized)
    tifffile.imwrite(data / "masks" / name, (image > 1000).astype(np.uint8))


def test_evaluate_scale_auto_scales_each_image_by_its_pixel_size(
    net, tmp_path, monkeypatch, caplog
):
    """``evaluate --checkpoint --scale auto``: each image at its own factor, said as predict
    says it, the default least area at it: half-size discs of 0.65-µm pixels at 2 (a 15-px
    floor), full-size ones of 0.325-µm pixels at 1; --pixel-size for a file with none."""
    from unetlab.cli import main

    checkpoint = _saved(net, tmp_path, monkeypatch)
    net.objects["pixel_size"] = [0.325, 0.325]
    _pair(tmp_path / "data", "half.tif", _discs(32, 3), 0.65)
    _pair(tmp_path / "data", "full.tif", _discs(64, 6), 0.325)
    _pair(tmp_path / "bare", "bare.tif", _discs(32, 3), None)
    argv = [
        "evaluate",
        "--checkpoint",
        checkpoint,
        "--object-scores",
        "--device",
        "cpu",
        "--overwrite",
    ]
    runs = [(["--data", str(tmp_path / "data")], 8), (["--data", str(tmp_path / "bare")], 0)]
    runs += [(["--data", str(tmp_path / "bare"), "--pixel-size", "0.65"], 4)]
    for flags, found in runs:
        with caplog.at_level(logging.INFO):
            assert main([*argv, *flags, "--scale", "auto", "--json", str(tmp_path / "e.json")]) == 0
        report = json.loads((tmp_path / "e.json").read_text())
        assert report["pred_objects"] == found and report["scale"] == "auto"
    assert "half.tif: --scale auto: 0.65 µm pixels, trained on 0.325 µm: scaled 2" in caplog.text
    assert "full.tif: --scale auto: 0.325 µm pixels, trained on 0.325 µm: scaled 1" in caplog.text
    assert (
        "bare.tif: --scale auto: it records no pixel size (give --pixel-size UM): predicted at "
        "its own scale (1)" in caplog.text
    )
    caplog.clear()  # Python's form (s56 fixI: both, as "in Python pixel_size=UM")
    predict_file(net, tmp_path / "bare" / "images" / "bare.tif", tmp_path / "o", scale="auto")
    assert (
        "bare.tif: scale='auto': it records no pixel size (give pixel_size=UM): predicted at its "
        "own scale (1)" in caplog.text
    ) and "--" not in caplog.text


def test_evaluate_rows_carry_the_factor_each_image_was_predicted_at(net, tmp_path, monkeypatch):
    """The report's rows (JSON and the per-image CSV) have each image's ``scale`` at
    --scale auto (2 and 1 here: it was only logged) and at --scale 2; none at 1. The
    report's object_options at --scale 2 are those used (15 px), at auto the training
    scale's (60 px: each row's factor says how each image's were divided)."""
    import csv

    from unetlab.cli import main

    checkpoint = _saved(net, tmp_path, monkeypatch)
    net.objects["pixel_size"] = [0.325, 0.325]
    _pair(tmp_path / "data", "half.tif", _discs(32, 3), 0.65)
    _pair(tmp_path / "data", "full.tif", _discs(64, 6), 0.325)
    argv = ["evaluate", "--checkpoint", checkpoint, "--data", str(tmp_path / "data")]
    argv += ["--object-scores", "--device", "cpu", "--json", str(tmp_path / "e.json")]
    said = {"auto": ({"full": 1.0, "half": 2.0}, 60), "2": ({"full": 2.0, "half": 2.0}, 15)}
    for scale, (factors, area) in said.items():
        assert main([*argv, "--scale", scale]) == 0
        report = json.loads((tmp_path / "e.json").read_text())
        assert {r["name"]: r["scale"] for r in report["images"]} == factors
        assert report["object_options"]["min_area"] == area
        with open(tmp_path / "e_images.csv", newline="") as f:
            rows = {r["name"]: float(r["scale"]) for r in csv.DictReader(f)}
        assert rows == factors
    assert main([*argv, "--scale", "1"]) == 0
    report = json.loads((tmp_path / "e.json").read_text())
    assert all("scale" not in r for r in report["images"])


def test_evaluate_objects_3d_scales_each_stack(net, tmp_path, monkeypatch):
    """``evaluate --checkpoint --objects-3d --scale auto`` (or 2): each plane of a stack at
    its factor (--pixel-size for a stack with none), the default least area at it, as
    ``predict --objects-3d`` finds them: 4 discs across 2 planes."""
    from unetlab.cli import main

    checkpoint = _saved(net, tmp_path, monkeypatch)
    net.objects["pixel_size"] = [0.325, 0.325]
    data = tmp_path / "data"
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True)
    stack = np.stack([_discs(32, 3)] * 2)
    tifffile.imwrite(data / "images" / "s.tif", stack, imagej=True, metadata={"axes": "ZYX"})
    ids = ndimage.label(stack > 1000)[0].astype(np.uint16)
    tifffile.imwrite(data / "masks" / "s.tif", ids, imagej=True, metadata={"axes": "ZYX"})
    argv = ["evaluate", "--checkpoint", checkpoint, "--data", str(data), "--objects-3d"]
    argv += ["--device", "cpu", "--json", str(tmp_path / "e.json")]
    for flags in (["--scale", "2"], ["--scale", "auto", "--pixel-size", "0.65"]):
        assert main([*argv, *flags]) == 0
        report = json.loads((tmp_path / "e.json").read_text())
        assert report["pred_objects"] == 4 and str(report["scale"]) in ("2.0", "auto")
        assert [r["scale"] for r in report["images"]] == [2.0]  # the stack's factor
        least = report["object_options"]  # at 2 those used, as in 2-D; auto: training's
        assert (least["min_area"], least["min_seed_area"]) == (
            (15, 4) if flags[1] == "2" else (60, 15)
        )


def test_tta_and_probabilities_at_a_scale_keep_the_image_shape(tmp_path):
    """--scale with --tta and --save-probabilities (a real net): the probabilities written
    are the image's own shape, those predict_image gives with TTA (which runs on the image
    resampled, inside the scale)."""
    torch.manual_seed(0)
    real = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    image = _discs(30, 3)[:, :27]
    path = tmp_path / "odd.tif"
    tifffile.imwrite(path, image)
    outputs = OutputOptions(save_probabilities=True, objects=ObjectOptions(min_area=4))
    written = predict_file(real, path, tmp_path / "out", outputs, scale=2, tta=True)
    (probs,) = [p for p in written if "prob" in p.name]
    saved = tifffile.imread(probs)
    whole = predict_image(real, image, scale=2, tta=True)
    assert whole.shape == saved.shape == (2, 30, 27)
    np.testing.assert_allclose(saved, whole, atol=1e-6)
    assert not np.allclose(whole, predict_image(real, image, scale=2), atol=1e-4)  # TTA ran


def test_objects_3d_at_a_scale_rescale_each_plane_not_z(net, tmp_path):
    """--objects-3d --scale 2 on a 3-plane stack: each plane resampled in y, x (its
    half-size discs found), z unchanged: 4 objects across the 3 planes, ids (3, 32, 32)."""
    path = tmp_path / "stack.tif"
    stack = np.stack([_discs(32, 3)] * 3)
    tifffile.imwrite(path, stack, imagej=True, metadata={"axes": "ZYX"})
    outputs = OutputOptions(objects=ObjectOptions(min_area=4), objects_3d=True)
    written = predict_file(net, path, tmp_path / "out", outputs, scale=2)
    (objects,) = [p for p in written if p.name == "stack_objects.tif"]
    ids = tifffile.imread(objects)
    assert ids.shape == (3, 32, 32) and int(ids.max()) == 4
    assert all(len(np.unique(ids[z])) == 5 for z in range(3))  # each disc in every plane


def test_the_objects_summary_has_each_images_factor(net, tmp_path):
    """predict_folder(scale='auto') (``predict --scale auto``) wrote objects_summary.csv
    without the factor each image was predicted at (only logged): its ``scale`` column, 2
    for 0.65-µm pixels and 1 for 0.325, also in a --skip-existing rerun's rows (read from
    predict.json); 1 at scale 1 (the column was absent: tables of folders predicted with
    and without --scale did not stack by column)."""
    import csv

    net.objects = {"target": "semantic", "count": 9, "area_p05": 240, "area_median": 300}
    net.objects["pixel_size"] = [0.325, 0.325]
    _pair(tmp_path / "data", "half.tif", _discs(32, 3), 0.65)
    _pair(tmp_path / "data", "full.tif", _discs(64, 6), 0.325)
    images, out = tmp_path / "data" / "images", tmp_path / "out"

    def factors(folder):
        with open(folder / "objects_summary.csv", newline="") as f:
            return {r["image"]: r.get("scale") for r in csv.DictReader(f)}

    done = predict_folder(net, images, out, objects=True, scale="auto")
    assert {r["image"]: r["scale"] for r in done.summary} == {"full.tif": 1.0, "half.tif": 2.0}
    assert factors(out) == {"full.tif": "1", "half.tif": "2"}
    predict_folder(net, images, out, objects=True, scale="auto", skip_existing=True)
    assert factors(out) == {"full.tif": "1", "half.tif": "2"}
    predict_folder(net, images, tmp_path / "at2", objects=True, scale=2)
    assert factors(tmp_path / "at2") == {"full.tif": "2", "half.tif": "2"}
    predict_folder(net, images, tmp_path / "at1", objects=True)
    assert factors(tmp_path / "at1") == {"full.tif": "1", "half.tif": "1"}


def test_an_older_summary_without_scale_is_rewritten_whole_with_it(net, tmp_path):
    """A folder whose objects_summary.csv an older unetlab wrote without ``scale``: a run of
    another input rewrites the table whole (it is never appended to), every row as long
    as its header, the earlier run's input's scale read from its record (1)."""
    import csv

    net.objects = {"target": "semantic", "count": 9, "area_p05": 240, "area_median": 300}
    _pair(tmp_path / "data", "half.tif", _discs(32, 3), 0.65)
    _pair(tmp_path / "data", "full.tif", _discs(64, 6), 0.325)
    _pair(tmp_path / "data", "more.tif", _discs(64, 6), 0.325)
    images, out = tmp_path / "data" / "images", tmp_path / "out"
    predict_folder(net, [images / "half.tif", images / "full.tif"], out, objects=True, scale=2)
    summary = out / "objects_summary.csv"
    with open(summary, newline="") as f:
        old = [{k: v for k, v in r.items() if k != "scale"} for r in csv.DictReader(f)]
    with open(summary, "w", newline="") as f:  # as an older unetlab wrote it
        writer = csv.DictWriter(f, fieldnames=list(old[0]))
        writer.writeheader()
        writer.writerows(old)
    predict_folder(net, [images / "more.tif"], out, objects=True)
    with open(summary, newline="") as f:
        header, *rows = list(csv.reader(f))
    assert rows and all(len(r) == len(header) for r in rows)
    got = [dict(zip(header, r)) for r in rows]
    assert sorted((r["image"], r["status"], r["scale"]) for r in got) == [
        ("full.tif", "earlier-run", "2"),
        ("half.tif", "earlier-run", "2"),
        ("more.tif", "done", "1"),
    ]


def test_scale_auto_with_a_model_of_no_pixel_size_is_said_once_not_once_a_file(
    net, tmp_path, caplog
):
    """A folder at scale='auto' with a checkpoint that records no training pixel size: one
    line names the cause and the fix; each file said "predicted at its own scale (1)" (s54
    new user, three Kromp images); each is predicted as it is (its objects found)."""
    net.objects = {"target": "semantic", "area_median": 113}  # no pixel_size
    (tmp_path / "in").mkdir()
    meta = {"unit": "um", "axes": "YX"}
    for name in ("a.tif", "b.tif", "c.tif"):
        image = _discs(64, 6)
        tifffile.imwrite(
            tmp_path / "in" / name, image, imagej=True, resolution=(2,) * 2, metadata=meta
        )
    outputs = OutputOptions(objects=ObjectOptions(min_area=4))
    with caplog.at_level(logging.INFO):
        done = predict_folder(
            net, tmp_path / "in", tmp_path / "out", outputs, scale="auto", progress=False
        )
    assert len(done.written) == 3
    said = [r.getMessage() for r in caplog.records if "no training pixel size" in r.getMessage()]
    assert said == [
        "scale='auto': the checkpoint records no training pixel size (its training images "
        "recorded none), so no input is resampled (first: a.tif): give a factor (scale=F), or "
        "train on images that record their pixel size"
    ]
    ids = tifffile.imread(tmp_path / "out" / "c_objects.tif")
    assert int(ids.max()) == 4  # at its own scale: the net finds discs of this size


def test_the_start_note_of_scale_auto_without_a_training_pixel_size_says_none_is_resampled(net):
    """It said "images resampled by each image's pixel size / the training pixel size"
    where the checkpoint records none, and no image is (s54 new user); the objects' size stays,
    as a factor is the fix."""
    from unetlab.errors import command_spelling
    from unetlab.inference.rescale import scale_note

    net.objects = {"target": "instances", "area_median": 254.5}  # no pixel_size
    with command_spelling():
        (line,) = scale_note(net, "auto")
    # the training objects' size alone: the line of the first input says why none is scaled
    assert line == (
        "the training objects are ~18 px across (median area 254 px): Cellpose's diameter D "
        "is --scale 18/D"
    )
    net.objects["pixel_size"] = [0.325, 0.325]
    (line,) = scale_note(net, "auto")
    assert line.startswith("images resampled by each image's pixel size / the training")
