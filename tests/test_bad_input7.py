"""Bad input, s57 badinput7: one clear line naming the problem and the fix, each caller its
form."""

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.inference.folders import predict_folder
from unetlab.inference.tree import predict_tree
from unetlab.models import UNet

from .test_bad_input5 import _cyx


def _predict_line(
    tmp_path: Path, model: UNet, *flags: str, capsys, out: str = "out"
) -> tuple[int, str]:
    """The exit status and last line of ``predict`` of ``tmp_path/in`` with ``model`` into
    ``tmp_path/out``."""
    save_model(tmp_path / "c.pt", model, overwrite=True)
    args = ["predict", "--checkpoint", str(tmp_path / "c.pt"), "--input", str(tmp_path / "in")]
    rc = main([*args, "--output", str(tmp_path / out), *flags])
    return rc, ([""] + capsys.readouterr().err.strip().splitlines())[-1]


def _net(channels: int) -> UNet:
    return UNet(channels, 2, depth=2, base_channels=4, padding="same")


def test_a_channel_index_for_a_wider_model_is_told_what_the_inputs_have(tmp_path, capsys):
    """``--channel 0`` of 2-channel inputs with a 3-channel model was told "leave --channel
    out to give it all 3 channels", which the inputs do not have: the line says they have 2
    and names the models that fit, up front (exit 2, no output folder), in each caller's
    form."""
    a = _cyx(tmp_path / "in" / "a.tif", 2)
    _cyx(tmp_path / "in" / "b.tif", 2)
    rc, line = _predict_line(tmp_path, _net(3), "--channel", "0", capsys=capsys)
    assert rc == 2 and not (tmp_path / "out").exists()
    assert line == (
        "unetlab predict: error: --channel 0 was asked for, but the model takes 3 channels "
        f"and all 2 inputs ({a}, ...) have 2: predict them with a model trained on 2-channel "
        "images, or a 1-channel one (--channel picks its channel)"
    ), line
    with pytest.raises(UnetlabError, match=r"^channel=0 was asked for.*\(channel= picks its"):
        predict_folder(_net(3), tmp_path / "in", tmp_path / "out", channel=0, progress=False)


def test_inputs_all_of_a_count_the_model_cannot_take_are_refused_once(tmp_path, capsys):
    """2-channel inputs to a 3-channel model failed file by file after the model loaded:
    one line up front, exit 2; a model of their count predicts them."""
    a = _cyx(tmp_path / "in" / "a.tif", 2)
    _cyx(tmp_path / "in" / "b.tif", 2)
    rc, line = _predict_line(tmp_path, _net(3), capsys=capsys)
    assert rc == 2 and not (tmp_path / "out").exists()
    assert line == (
        f"unetlab predict: error: all 2 inputs ({a}, ...) have 2 channels, the model takes "
        "3: give images of 3 channels, or predict them with a model trained on 2-channel "
        "images"
    ), line
    rc, line = _predict_line(tmp_path, _net(1), capsys=capsys)  # to a grey model
    assert rc == 2 and line.endswith(
        "the model takes 1: choose one with --channel C, e.g. the nuclear stain, or predict "
        "them with a model trained on 2-channel images"
    ), line
    mixed = tmp_path / "in" / "c.tif"
    _cyx(mixed, 3)  # one input the model takes: predicted, the others fail alone
    rc, line = _predict_line(tmp_path, _net(3), capsys=capsys, out="mixed")
    assert rc == 3 and line.endswith(
        "b.tif: has 2 channels but the model expects 3; "
        + ("convert the image or use a model trained on 2-channel images")
    ), line
    mixed.unlink()
    recorded = _net(1)
    recorded.channel = 1  # the channel of theirs it trained on: no refusal, predicted
    rc, line = _predict_line(tmp_path, recorded, capsys=capsys, out="recorded")
    assert rc == 0 and len(list((tmp_path / "recorded").glob("*.png"))) == 2, line


def test_the_count_line_says_it_for_one_input_and_the_bands_that_fit(tmp_path, capsys):
    """Review E: one input was told "predict them"; 5-channel inputs to a 3-channel model
    were not told the band list of 3 that it takes (which then predicts them)."""
    a = _cyx(tmp_path / "in" / "a.tif", 2)
    rc, line = _predict_line(tmp_path, _net(3), capsys=capsys)
    assert rc == 2 and line.endswith(
        f"the input, {a}, has 2 channels, the model takes 3: give images of 3 channels, or "
        "predict it with a model trained on 2-channel images"
    ), line
    for name in ("a.tif", "b.tif"):
        _cyx(tmp_path / "in" / name, 5)
    rc, line = _predict_line(tmp_path, _net(3), capsys=capsys)
    assert rc == 2 and line.endswith(
        "the model takes 3: give images of 3 channels, pick 3 of theirs with --channel 0 1 2, "
        "or predict them with a model trained on 5-channel images"
    ), line
    with pytest.raises(UnetlabError, match=r"pick 3 of theirs with channel=\[0, 1, 2\], or"):
        predict_folder(_net(3), tmp_path / "in", tmp_path / "out", progress=False)
    rc, _ = _predict_line(tmp_path, _net(3), "--channel", "0", "1", "2", capsys=capsys)
    assert rc == 0 and len(list((tmp_path / "out").glob("*.png"))) == 2


def test_the_count_line_names_an_ome_zarr_s_channels_and_comes_first(tmp_path, capsys):
    """Review E: the up-front line dropped the channel names an OME-Zarr records and the
    choice by name that each file's line gives; ``--channel 2`` of 2-channel inputs to a
    3-channel model was refused twice in a row (out of range, then the count): the count
    first, with the indices a 1-channel model may pick."""
    from .test_zarr_channel_names import _ome_zarr

    zarr = tmp_path / "in" / "a.ome.zarr"
    _ome_zarr(zarr, np.zeros((2, 16, 16), np.uint8), ["DAPI", "GFP"])
    rc, line = _predict_line(tmp_path, _net(1), capsys=capsys)
    assert rc == 2 and line.endswith(
        f"the input, {zarr}, has 2 channels (0: DAPI, 1: GFP), the model takes 1: choose one "
        "with --channel C (an index or a name), e.g. the nuclear stain, or predict it with a "
        "model trained on 2-channel images"
    ), line
    tif = [_cyx(tmp_path / "tifs" / name, 2) for name in ("a.tif", "b.tif")][0]
    save_model(tmp_path / "c.pt", _net(3), overwrite=True)
    args = ["predict", "--checkpoint", str(tmp_path / "c.pt"), "--input", str(tmp_path / "tifs")]
    assert main([*args, "--output", str(tmp_path / "o"), "--channel", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(
        "--channel 2 was asked for, but the model takes 3 channels and all 2 inputs "
        f"({tif}, ...) have 2: predict them with a model trained on 2-channel "
        "images, or a 1-channel one (--channel picks its channel, 0 to 1)"
    ), err


def test_a_damaged_checkpoint_says_its_own_line_not_the_channel_look(tmp_path, capsys):
    """predict reads a checkpoint's channels before its load (d58cb665): a damaged
    ``in_channels`` ("two", None) gave a traceback there; the look skips it, and the load
    says its one line, exit 2, as before the look."""
    import torch

    _cyx(tmp_path / "in" / "a.tif", 2)
    save_model(tmp_path / "good.pt", _net(2))
    for value in ("two", None):
        parts = torch.load(tmp_path / "good.pt", weights_only=True)
        parts["config"]["in_channels"] = value
        torch.save(parts, tmp_path / "c.pt")
        args = ["--checkpoint", str(tmp_path / "c.pt"), "--input", str(tmp_path / "in")]
        assert main(["predict", *args, "--output", str(tmp_path / "out")]) == 2
        line = capsys.readouterr().err.strip().splitlines()[-1]
        assert (
            line == f"unetlab predict: error: in_channels must be a positive integer, not {value!r}"
        )


def test_a_python_caller_is_refused_once_for_inputs_the_model_cannot_take(tmp_path):
    """predict_folder with a loaded model: the same one line, before any file is written."""
    _cyx(tmp_path / "in" / "a.tif", 2)
    with pytest.raises(UnetlabError, match=r"^the input, .*a\.tif, has 2 channels, the model"):
        predict_folder(_net(3), tmp_path / "in", tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_mask_classes_names_the_python_forms_to_a_python_caller(tmp_path, capsys):
    """mask_classes' lines named ``--label-values``, ``--ignore-value V`` and
    ``--instances`` to Python callers: each caller its form, one value said as one."""
    from unetlab.data.weightmap import mask_classes

    grid = np.zeros((8, 8), np.uint8)
    grid[::4] = 255
    with pytest.raises(UnetlabError) as refused:
        mask_classes({"a": grid, "b": np.where(grid, 7, 9)}, label_values=[0, 255])
    assert str(refused.value) == (
        "b holds mask values 7, 9, not among label_values=[0, 255]: add them, or ignore_value=V"
    )
    many = np.arange(64, dtype=np.uint8).reshape(8, 8)
    with pytest.raises(UnetlabError) as refused:
        mask_classes({"m": many})
    assert str(refused.value).endswith(
        "(one value per class), label_values with the classes' values, or instance_weight_map "
        "for object ids"
    ), str(refused.value)
    Image.fromarray(many).save(tmp_path / "m.png")
    argv = ["weightmap", str(tmp_path / "m.png"), "--output", str(tmp_path / "o")]
    assert main(argv) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("--label-values with the classes' values, or --instances for object ids")
    )


def test_an_rgba_png_mask_is_said_to_be_rgba(tmp_path):
    """The reader drops an RGBA PNG's alpha, so its colour mask's line said RGB: RGBA, as
    stored; an RGB one is still RGB."""
    from unetlab.data.io import ColourMaskError, read_mask

    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[..., 3], pixels[2:5, 2:5, 0] = 255, 200
    for mode, channels in (("RGBA", 4), ("RGB", 3)):
        path = tmp_path / f"{mode}.png"
        Image.fromarray(pixels[..., :channels], mode).save(path)
        with pytest.raises(ColourMaskError, match=rf"^{path}: this mask is a colour \({mode}\)"):
            read_mask(path)


def _colour_masks(root: Path, colours: int) -> Path:
    """A data set of two grey images and RGB masks of ``colours`` coloured squares."""
    mask = np.zeros((64, 64, 3), np.uint8)
    for i in range(colours):
        y, x = divmod(i, 8)
        mask[y * 8 : y * 8 + 6, x * 8 : x * 8 + 6] = (i * 5 + 10, 255 - i * 3, i * 37 % 256)
    for name in ("a.png", "b.png"):
        for folder, pixels in (("images", mask[..., 0]), ("masks", mask)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(root / folder / name)
    return root


def test_colour_masks_under_auto_get_the_fix_of_what_they_look_like(tmp_path, capsys):
    """Under data.target: auto, RGB masks of 40 colours were told the class-mask fix (the
    plan's measuring quoted the error as it was), then (review E) the instance recipe alone,
    which turns 40 classes, or 3 with blended edges, into objects: so many colours get both
    fixes, each saying what it fits, and the nearest-colour recipe it gives works; 3
    colours keep the class fix."""
    flags = ["--set", "train.epochs=1", "--set", "model.depth=2", "--set", "model.base_channels=4"]
    for colours in (40, 3):
        root = _colour_masks(tmp_path / str(colours), colours)
        assert main(["train", "--data", str(root), *flags]) == 2
        err = capsys.readouterr().err
        assert "masks/a.png: this mask is a colour (RGB) image" in err, err
        if colours == 3:
            assert "; save masks as class indices" in err and "object id" not in err, err
            continue
        assert "image of 41 colours; if its colours are classes, save masks as class" in err
        assert "class_colors.txt" in err and "--set data.target=semantic past 32" in err, err
        assert "if each colour is an object, the instance mode (data.target: auto, for 41" in err
        assert "becomes ids by np.unique(mask[..., :3]" in err, err
        recipe = re.search(r"nearest class colour by (.*?) \(table:", err)[1]
        table = np.array([(0, 0, 0), (255, 0, 0), (0, 255, 0)], np.uint8)
        mask = np.array([[(0, 0, 0), (200, 30, 10)], [(40, 180, 5), (255, 0, 0)]], np.uint8)
        nearest = eval(recipe, {"np": np, "table": table, "mask": mask})  # the line's recipe
        assert nearest.tolist() == [[[0, 0, 0], [255, 0, 0]], [[0, 255, 0], [255, 0, 0]]]


def _plate(path: Path, *, plate_attrs: bool) -> Path:
    """A bioformats2raw HCS plate (zarr v2): wells A/1 and B/2, a field 0/ each, an OME-Zarr
    image of one (1, 24, 24) level; ``plate_attrs``: its root records the ``plate``."""
    import zarr

    from .test_bad_input4 import _ngff

    root = zarr.open_group(path, mode="w", zarr_format=2)
    root.attrs["bioformats2raw.layout"] = 3
    level = {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}]}
    for row, column in (("A", "1"), ("B", "2")):
        field = root.create_group(f"{row}/{column}/0")
        field.create_array("0", shape=(1, 24, 24), dtype="uint8", chunks=(1, 24, 24))[:] = 3
        field.attrs.update(_ngff(datasets=[level]))
    if plate_attrs:
        root.attrs["plate"] = {"wells": [{"path": "A/1"}, {"path": "B/2"}]}
    return path


def test_an_hcs_plate_is_named_a_plate_with_one_image_s_folder_to_give(tmp_path, capsys):
    """A bioformats2raw HCS plate (A/1/0, no digit folders at its top) failed as "a Zarr
    group without OME-Zarr 'multiscales' metadata", no fix: it is said to be a plate, and
    one image's folder inside it is named, which is read."""
    from unetlab.data.slides import open_slide

    for recorded in (True, False):
        plate = _plate(tmp_path / f"p{recorded}.zarr", plate_attrs=recorded)
        with pytest.raises(UnetlabError) as refused:
            open_slide(plate)
        assert str(refused.value) == (
            f"{plate}: an HCS plate of 2 wells (row/column/field folders), many images: give "
            f"one image's folder inside it, e.g. {plate / 'A' / '1' / '0'}"
        )
        with open_slide(plate / "A" / "1" / "0") as slide:
            assert slide.read(0, slice(None), slice(None)).max() == 3
    save_model(tmp_path / "g.pt", _net(1))
    argv = ["predict", "--checkpoint", str(tmp_path / "g.pt"), "--input", str(plate)]
    assert main([*argv, "--output", str(tmp_path / "out")]) != 0
    assert "an HCS plate of 2 wells" in capsys.readouterr().err


def test_damaged_plate_metadata_is_read_as_none_and_one_well_said_as_one(tmp_path):
    """A plate's ``wells`` of a path that is no folder name (5, None, "/"), or no list, was
    a TypeError traceback (review E): read as if not there, the folders say the plate; one
    well listed is "1 well"."""
    import zarr

    from unetlab.data.slides import open_slide

    fix = "(row/column/field folders), many images: give one image's folder inside it, e.g. "
    for i, wells in enumerate(
        ([{"path": 5}], [{"path": None}], [{"path": "/"}], None, [{"path": "A/1"}])
    ):
        plate = _plate(tmp_path / f"p{i}.zarr", plate_attrs=True)
        zarr.open_group(plate, mode="a").attrs["plate"] = {"wells": wells}
        with pytest.raises(UnetlabError) as refused:
            open_slide(plate)
        count = "1 well" if i == 4 else "2 wells"
        assert str(refused.value) == f"{plate}: an HCS plate of {count} {fix}{plate / 'A/1/0'}"


def _weightmap_line(tmp_path: Path, given: Path, *flags: str, capsys) -> str:
    """The last line weightmap of ``given`` says (refused: exit 2, no output folder)."""
    out = tmp_path / "wm"
    assert main(["weightmap", str(given), "--output", str(out), *flags]) == 2
    assert not out.exists()
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_weightmap_names_a_mask_one_way_for_class_and_instance_masks(tmp_path, capsys):
    """weightmap's class-mask lines named a mask by its path, its --instances lines by its
    name: both as predict does, a folder's files by their names, a file given alone by its
    path."""
    import tifffile

    (tmp_path / "masks").mkdir()
    classes = np.zeros((8, 8), np.uint8)
    classes[2:5, 2:5] = 255
    Image.fromarray(classes).save(tmp_path / "masks" / "a.png")
    ids = np.zeros((8, 8), np.int16)
    ids[1:3, 1:3] = -1
    (tmp_path / "ids").mkdir()
    tifffile.imwrite(tmp_path / "ids" / "b.tif", ids)
    folder = _weightmap_line(
        tmp_path, tmp_path / "masks", "--label-values", "0", "1", capsys=capsys
    )
    assert folder.startswith("unetlab weightmap: error: a.png holds mask value 255"), folder
    alone = tmp_path / "masks" / "a.png"
    line = _weightmap_line(tmp_path, alone, "--label-values", "0", "1", capsys=capsys)
    assert line.startswith(f"unetlab weightmap: error: {alone} holds mask value 255"), line
    line = _weightmap_line(tmp_path, tmp_path / "ids", "--instances", capsys=capsys)
    assert line.startswith("unetlab weightmap: error: b.tif: mask value -1"), line
    alone = tmp_path / "ids" / "b.tif"
    line = _weightmap_line(tmp_path, alone, "--instances", capsys=capsys)
    assert line.startswith(f"unetlab weightmap: error: {alone}: mask value -1"), line


def test_a_tree_all_of_a_count_the_model_cannot_take_is_refused_once(tmp_path, capsys):
    """``predict --recursive`` of 2-channel inputs with a 3-channel model failed each file of
    each folder: one line up front, exit 2, as a flat folder's; a tree with one folder the
    model takes goes on."""
    a = _cyx(tmp_path / "in" / "x" / "a.tif", 2)
    _cyx(tmp_path / "in" / "y" / "b.tif", 2)
    rc, line = _predict_line(tmp_path, _net(3), "--recursive", capsys=capsys)
    assert rc == 2 and not (tmp_path / "out").exists()
    assert line == (
        f"unetlab predict: error: all 2 inputs ({a}, ...) have 2 channels, the model takes 3: "
        "give images of 3 channels, or predict them with a model trained on 2-channel images"
    ), line
    with pytest.raises(UnetlabError, match=r"^all 2 inputs .* have 2 channels, the model"):
        predict_tree(_net(3), tmp_path / "in", tmp_path / "out", progress=False)
    _cyx(tmp_path / "in" / "z" / "c.tif", 3)
    rc, _ = _predict_line(tmp_path, _net(3), "--recursive", capsys=capsys, out="other")
    assert rc != 2 and (tmp_path / "other" / "z").is_dir()
