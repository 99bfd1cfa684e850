"""`unetlab weightmap`: the training weight map of masks, written as float32 TIFF + PNG."""

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab.cli import main
from unetlab.data.classes import read_class_names
from unetlab.data.labels import encode_mask
from unetlab.data.scenes import write_voc_scenes
from unetlab.data.weightmap import (
    instance_weight_map,
    mask_classes,
    mask_weight_map,
    trained_background,
    weight_map,
    weight_preview,
)
from unetlab.errors import DatasetError, UnetlabError


def grid(size: int = 40) -> np.ndarray:
    mask = np.full((size, size), 255, np.uint8)
    mask[::8, :] = mask[:, ::8] = 0  # membrane 0 around cells 255
    return mask


def test_the_maps_are_the_training_maps(tmp_path, capsys):
    (tmp_path / "masks").mkdir()
    Image.fromarray(grid()).save(tmp_path / "masks" / "a.png")
    argv = ["weightmap", str(tmp_path / "masks"), "--output", str(tmp_path / "out")]
    assert main([*argv, "--w0", "8", "--sigma", "4"]) == 0
    weights = tifffile.imread(tmp_path / "out" / "a_weights.tif")
    expected = weight_map(encode_mask(grid(), [0, 255]), w0=8, sigma=4)
    assert weights.dtype == np.float32 and np.array_equal(weights, expected)
    preview = np.array(Image.open(tmp_path / "out" / "a_weights.png"))
    assert preview.dtype == np.uint8 and preview.max() == 255
    assert np.array_equal(preview, weight_preview(expected))
    assert "a.png: weights 1.00.." in capsys.readouterr().out
    # membrane as class 1: the same map, its background found by the name
    argv[-1] = str(tmp_path / "inv")
    assert main([*argv, "--w0", "8", "--sigma", "4", "--label-values", "255", "0"]) == 0
    assert np.array_equal(tifffile.imread(tmp_path / "inv" / "a_weights.tif"), expected)


def test_an_input_is_never_written_over(tmp_path, capsys):
    Image.fromarray(grid()).save(tmp_path / "a.png")
    Image.fromarray(grid()).save(tmp_path / "a_weights.png")  # also a mask given
    before = (tmp_path / "a_weights.png").read_bytes()
    masks = [str(tmp_path / "a.png"), str(tmp_path / "a_weights.png")]
    assert main(["weightmap", *masks, "--output", str(tmp_path)]) != 0
    assert "holds the masks" in capsys.readouterr().err  # refused before any name's check
    assert (tmp_path / "a_weights.png").read_bytes() == before


def test_maps_are_not_written_among_the_masks(tmp_path, capsys):
    """``weightmap masks/ --output masks/`` wrote NAME_weights.tif and .png among the masks:
    train then refused the data ('2 masks share the stem 00_weights') and weightmap itself
    ('masks share a file stem'), the user to remove them by hand (audit s37 paths)."""
    masks = tmp_path / "data" / "masks"
    masks.mkdir(parents=True)
    Image.fromarray(grid()).save(masks / "a.png")
    assert main(["weightmap", str(masks), "--output", f"{masks}/"]) == 2
    err = capsys.readouterr().err
    assert "holds the masks" in err and str(masks.parent / "weights") in err
    assert sorted(p.name for p in masks.iterdir()) == ["a.png"]
    # nor among the images beside them (read as images without masks)
    images = tmp_path / "data" / "images"
    images.mkdir()
    Image.fromarray(grid()).save(images / "a.png")
    assert main(["weightmap", str(masks), "--output", str(images)]) == 2
    err = capsys.readouterr().err
    assert "holds images or masks of the masks' data set" in err
    assert sorted(p.name for p in images.iterdir()) == ["a.png"]


def test_mask_weight_map_names_its_background():
    weights, background = mask_weight_map(grid(), class_names=["membrane", "cell"])
    assert background == 0 and weights[0, 4] > 5 > weights[4, 4]
    _, background = mask_weight_map(grid(), label_values=[255, 0], class_names=["c", "m"])
    assert background == 1
    with pytest.raises(DatasetError, match=r"label value \[255\] is not among"):
        mask_weight_map(grid(), label_values=[0, 1])


def test_mask_weight_map_takes_the_background_training_takes_with_a_value_ignored():
    # grain / grain boundary / unsure, 2 ignored: two classes, the boundary the background
    mask = np.where(grid() == 0, 1, 0).astype(np.uint8)
    mask[20:24, 20:24] = 2
    names = ["grain", "grain boundary", "unsure"]
    how = dict(label_values=[0, 1, 2], class_names=names, ignore_value=2)
    assert mask_weight_map(mask, **how)[1] == trained_background([0, 1, 2], names, 2) == 1


def test_a_value_outside_the_label_values_is_named_with_the_flag(tmp_path, capsys):
    Image.fromarray(grid()).save(tmp_path / "a.png")
    argv = ["weightmap", str(tmp_path / "a.png"), "--output", str(tmp_path / "o")]
    assert main([*argv, "--label-values", "0", "1"]) != 0
    err = capsys.readouterr().err
    assert "a.png holds mask value 255, not among --label-values 0 1: add it, or" in err
    assert not (tmp_path / "o").exists()


def test_mask_classes_are_the_values_found_or_given():
    a, b = grid(), np.where(grid() == 0, 7, 255).astype(np.uint8)
    assert mask_classes({"a": a}) == ([0, 255], ["0", "255"])
    assert mask_classes({"a": a, "b": b}, ignore_value=7) == ([0, 255], ["0", "255"])
    values, names = mask_classes({"a": a}, label_values=[255, 0], class_names=["c", "m"])
    assert values == [255, 0] and names == ["c", "m"]
    with pytest.raises(UnetlabError, match=r"^b holds mask value 7, not among label_values="):
        mask_classes({"a": a, "b": b}, label_values=[0, 255])
    with pytest.raises(UnetlabError, match="1 class names for 2 label values"):
        mask_classes({"a": a}, class_names=["m"])


def test_an_image_given_as_a_mask_is_refused():
    """README audit s29: the ISBI image 00.png as a mask made 200-odd classes, weights to 2349."""
    image = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 200
    with pytest.raises(UnetlabError, match="^img holds 200 distinct values: it looks like an"):
        mask_classes({"img": image})
    assert mask_classes({"img": image}, label_values=list(range(200)))[0][-1] == 199


@pytest.mark.parametrize("bad", [np.nan, np.inf, 0.5])
def test_a_float_mask_of_nan_inf_or_fractions_is_one_line_naming_it(tmp_path, capsys, bad):
    """A float32 TIFF mask holding NaN or inf was int() of each value: a traceback ("a bug in
    unetlab"); a 0.5 was refused as a value of "mask", not of the file (s51 walkbad)."""
    mask = (grid() > 0).astype(np.float32)
    mask[1, 1] = bad
    tifffile.imwrite(tmp_path / "m.tif", mask)
    out = tmp_path / "out"
    assert main(["weightmap", str(tmp_path / "m.tif"), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{tmp_path / 'm.tif'}: mask holds non-integer values (float32)" in err
    assert not out.exists()


def test_a_negative_mask_value_is_refused_naming_the_ignore_value(tmp_path, capsys):
    """s51 walkbad: an int16 mask's -1 (pixels left unlabelled) was weighed as a class, rc
    0; evaluate refuses it as no class index."""
    mask = (grid() > 0).astype(np.int16)
    mask[:4, :4] = -1
    tifffile.imwrite(tmp_path / "m.tif", mask)
    out = tmp_path / "out"
    argv = ["weightmap", str(tmp_path / "m.tif"), "--output", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    said = "mask value -1 is no class index: if it marks pixels left unlabelled, --ignore-value -1"
    assert f"{tmp_path / 'm.tif'}: {said} weighs them 0, else --label-values with it" in err
    assert not out.exists()
    assert main([*argv, "--ignore-value", "-1"]) == 0  # the fix it names works
    assert tifffile.imread(out / "m_weights.tif")[:4, :4].max() == 0
    assert mask_classes({"m": mask}, label_values=[-1, 0, 1])[0] == [-1, 0, 1]  # a class: said


def _touching_ids() -> np.ndarray:
    """A mask of 5 object ids, two pairs touching (a nuclei mask, as Kromp's are)."""
    ids = np.zeros((40, 40), np.uint8)
    ids[4:14, 4:12], ids[4:14, 12:20] = 1, 2  # touching
    ids[22:32, 6:14], ids[22:32, 14:22] = 3, 4  # touching
    ids[24:34, 28:36] = 5
    return ids


def test_instances_gives_the_map_training_makes_of_object_ids(tmp_path, capsys, caplog):
    """A mask of object ids (Kromp 2020 nuclei, 28 ids) was weighed as 28 classes: weights up
    to 343, no map training makes (newuser2). --instances gives the instance mode's map;
    without it, one line names --instances."""
    from unetlab.data.datasets import load_instance_samples
    from unetlab.data.pairs import find_pairs

    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
        Image.fromarray(_touching_ids()).save(tmp_path / folder / "a.png")
    argv = ["weightmap", str(tmp_path / "masks"), "--w0", "8", "--sigma", "4"]
    assert main([*argv, "--output", str(tmp_path / "cls")]) == 0
    assert "look like object ids (each value one region)" in caplog.text
    assert "--instances makes the map training's instance mode does" in caplog.text
    assert main([*argv, "--output", str(tmp_path / "ids"), "--instances"]) == 0
    assert "a.png: weights 1.00.." in capsys.readouterr().out
    weights = tifffile.imread(tmp_path / "ids" / "a_weights.tif")
    spec = {"mode": "scale", "value": 255.0}
    (sample,), _ = load_instance_samples(
        find_pairs(tmp_path), normalization=spec, weight_map={"w0": 8.0, "sigma": 4.0}
    )
    assert weights.dtype == np.float32 and np.array_equal(weights, sample.weight)
    assert not np.array_equal(weights, tifffile.imread(tmp_path / "cls" / "a_weights.tif"))
    assert main([*argv, "--output", str(tmp_path / "x"), "--instances", "--label-values", "0"]) == 2
    assert "--instances reads the masks as object ids" in capsys.readouterr().err


def test_instances_weigh_ignored_pixels_0_as_training_does(tmp_path, capsys):
    """rev D: --ignore-value was refused with --instances, though training's instance mode
    takes data.ignore_value; a 255 band was weighed as one more object."""
    from unetlab.data.datasets import load_instance_samples
    from unetlab.data.pairs import find_pairs

    ids = _touching_ids()
    ids[34:, :] = 255  # no label
    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
        Image.fromarray(ids).save(tmp_path / folder / "a.png")
    argv = ["weightmap", str(tmp_path / "masks"), "--w0", "8", "--sigma", "4", "--instances"]
    assert main([*argv, "--output", str(tmp_path / "ids"), "--ignore-value", "255"]) == 0
    assert "a.png: weights 0.00.." in capsys.readouterr().out
    weights = tifffile.imread(tmp_path / "ids" / "a_weights.tif")
    (sample,), _ = load_instance_samples(
        find_pairs(tmp_path),
        normalization={"mode": "scale", "value": 255.0},
        weight_map={"w0": 8.0, "sigma": 4.0},
        ignore_value=255,
    )
    assert np.array_equal(weights, sample.weight)
    assert weights[34:].max() == 0 and weights[:34].min() > 0
    python = instance_weight_map(ids, w0=8, sigma=4, ignore_value=255)  # the API's alike
    assert python.dtype == np.float32 and np.array_equal(python, weights)


def test_instances_name_the_ignore_value_for_a_negative_value(tmp_path, capsys):
    """rev D: a -1 'no label' was told to renumber the ids; weightmap names --ignore-value,
    training data.ignore_value, each as its caller gives it."""
    from unetlab.data.datasets import load_instance_samples
    from unetlab.data.pairs import find_pairs

    ids = _touching_ids().astype(np.int16)
    ids[34:, :] = -1
    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
        tifffile.imwrite(tmp_path / folder / "a.tif", ids)
    argv = ["weightmap", str(tmp_path / "masks"), "--instances", "--output", str(tmp_path / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mask value -1 is no object id" in err
    assert "--ignore-value -1 weighs them 0" in err
    assert main([*argv, "--ignore-value", "-1"]) == 0
    assert "5 objects" in capsys.readouterr().out
    with pytest.raises(DatasetError, match=r"cfg\.data\.ignore_value = -1 weighs them 0"):
        load_instance_samples(find_pairs(tmp_path), normalization={"mode": "scale", "value": 1.0})


def test_instances_count_the_objects_of_a_full_mask(tmp_path, capsys):
    """rev D: an all-ones mask (one object) was said to hold 0 objects."""
    Image.fromarray(np.ones((16, 16), np.uint8)).save(tmp_path / "a.png")
    argv = ["weightmap", str(tmp_path / "a.png"), "--instances", "--output", str(tmp_path / "o")]
    assert main(argv) == 0
    assert "1 object, background" in capsys.readouterr().out


def test_a_class_mask_is_not_said_to_be_ids(tmp_path, caplog):
    Image.fromarray(grid()).save(tmp_path / "a.png")
    assert main(["weightmap", str(tmp_path / "a.png"), "--output", str(tmp_path / "o")]) == 0
    assert "object ids" not in caplog.text


def test_classes_given_by_name_are_not_said_to_be_ids(tmp_path, caplog, capsys):
    """rev D: the "look like object ids" line came with --class-names given (not with
    --label-values); the help names --instances."""
    Image.fromarray(_touching_ids()).save(tmp_path / "a.png")
    argv = ["weightmap", str(tmp_path / "a.png"), "--output", str(tmp_path / "o")]
    names = ["bg", "a", "b", "c", "d", "e"]
    assert main([*argv, "--class-names", *names]) == 0
    assert "object ids" not in caplog.text
    with pytest.raises(SystemExit):
        main(["weightmap", "--help"])
    assert "With --instances the masks hold object ids" in " ".join(capsys.readouterr().out.split())


def test_a_colour_mask_for_instances_is_told_to_save_ids(tmp_path, capsys):
    """rev D: an RGB mask given to --instances was told to save class indices or a colour
    table."""
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 1:] = 90, 200
    Image.fromarray(rgb).save(tmp_path / "a.png")
    argv = ["weightmap", str(tmp_path / "a.png"), "--output", str(tmp_path / "o")]
    assert main([*argv, "--instances"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "this mask is a colour (RGB) image; --instances" in err
    assert "save the ids as a grey" in err and "class_colors.txt" not in err
    assert main(argv) == 2
    assert "class_colors.txt" in capsys.readouterr().err  # a class mask's fix, as before
    assert main([*argv, "--instances", "--label-values", "0"]) == 2  # flags before reading
    assert "--instances reads the masks as object ids" in capsys.readouterr().err


def test_instances_label_each_mask_once(tmp_path, monkeypatch):
    """s57: --instances labelled each mask twice, once to check its ids before --output was
    made and again to weigh it; the ids checked are those weighed."""
    from unetlab.data import instances

    calls = []
    label = instances.instance_ids
    monkeypatch.setattr(
        instances, "instance_ids", lambda *a, **k: calls.append(1) or label(*a, **k)
    )
    (tmp_path / "masks").mkdir()
    for stem in ("a", "b"):
        Image.fromarray(grid()).save(tmp_path / "masks" / f"{stem}.png")
    argv = ["weightmap", str(tmp_path / "masks"), "--output", str(tmp_path / "out")]
    assert main([*argv, "--instances"]) == 0
    assert len(calls) == 2  # one per mask
    assert np.array_equal(
        tifffile.imread(tmp_path / "out" / "a_weights.tif"), instance_weight_map(grid())
    )


def test_a_file_it_did_not_write_is_refused_naming_another_output(tmp_path, capsys):
    """Its names are fixed (<stem>_weights.tif): the fix is another --output, not another
    name (s61 review of s60's words)."""
    (tmp_path / "masks").mkdir()
    Image.fromarray(grid()).save(tmp_path / "masks" / "a.png")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a_weights.tif").write_bytes(b"mine")
    argv = ["weightmap", str(tmp_path / "masks"), "--output", str(tmp_path / "out")]
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "give another --output" in err and "another name" not in err
    assert (tmp_path / "out" / "a_weights.tif").read_bytes() == b"mine"


def test_colour_masks_are_weighed_as_their_colour_table_trains_them(tmp_path, capsys):
    """RGB masks beside a colour table (class_colors.txt): the table's void weighs 0 and its
    names name the classes, as training reads them (user2 s62: void weighed as one more
    class and the background said as '0', not 'road')."""
    indices = np.zeros((40, 40), np.uint8)  # road
    indices[10:30, 12:28] = 1  # a car
    indices[:3] = 255  # a void border
    colours = {0: (128, 64, 128), 1: (0, 0, 142), 255: (0, 0, 0)}
    rgb = np.zeros((40, 40, 3), np.uint8)
    for value, colour in colours.items():
        rgb[indices == value] = colour
    (tmp_path / "masks").mkdir()
    Image.fromarray(rgb).save(tmp_path / "masks" / "a.png")
    (tmp_path / "class_colors.txt").write_text("128 64 128 road\n0 0 142 car\n0 0 0 void\n")
    argv = ["weightmap", str(tmp_path / "masks"), "--output", str(tmp_path / "out")]
    assert main(argv) == 0
    weights = tifffile.imread(tmp_path / "out" / "a_weights.tif")
    expected, _ = mask_weight_map(
        indices, class_names=["road", "car"], label_values=[0, 1], ignore_value=255
    )
    assert np.array_equal(weights, expected) and (weights[:3] == 0).all()
    said = capsys.readouterr().out
    assert "background 'road'" in said and "255" in said and "class_colors.txt" in said


def test_voc_palette_masks_are_weighed_as_training_reads_them(tmp_path, capsys):
    """VOC palette masks beside class_names.txt: void 255 weighs 0 and the names name the
    classes, as training reads them (review s62: only colour tables were, VOC's void was
    weighed as a class and the background said as '0')."""
    voc = write_voc_scenes(tmp_path / "voc", n_train=2, n_val=1, size=48, seed=1)
    mask = voc / "SegmentationClass" / "scene_000.png"
    argv = ["weightmap", str(mask), "--output", str(tmp_path / "out")]
    assert main(argv) == 0
    weights = tifffile.imread(tmp_path / "out" / "scene_000_weights.tif")
    indices = np.asarray(Image.open(mask))
    names = list(read_class_names(voc).values())
    expected, _ = mask_weight_map(
        indices, class_names=names, label_values=list(range(len(names))), ignore_value=255
    )
    assert (indices == 255).any() and (weights[indices == 255] == 0).all()
    assert np.array_equal(weights, expected)
    said = capsys.readouterr().out
    assert f"background {names[0]!r}" in said and "class_names.txt; mask value 255" in said
