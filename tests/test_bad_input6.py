"""Bad input, s56 badinput6: one clear line, whose fix is one that works."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import tifffile

from unetlab.cli import main
from unetlab.data.io import read_image
from unetlab.errors import UnetlabError

from .test_bad_input5 import _cli_refusal, _cyx


def _parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_a_band_list_longer_than_the_inputs_channels_is_not_told_to_list_fewer(tmp_path, capsys):
    """``--channel 2 1 0`` of 2-channel inputs with a 3-channel model was told "list at most
    2 bands", which that model then refuses (it takes 3, and bands are distinct): the line
    says no list of these inputs feeds it, and names inputs or a model that fit."""
    a, b = _cyx(tmp_path / "in" / "a.tif", 2), _cyx(tmp_path / "in" / "b.tif", 2)
    line = _cli_refusal(tmp_path, [a, b], ["2", "1", "0"], capsys)
    assert "list at most" not in line
    assert line.endswith(
        "fewer than the 3 bands listed (a 3-channel model's); give inputs of 3 channels or "
        "more, or predict them with a model of 2 channels or fewer (no list of theirs feeds "
        "a 3-channel one)"
    ), line
    shorter = _cli_refusal(tmp_path / "2", [a, b], ["1", "0"], capsys)  # the old advice
    assert "but the model takes 3 channel" in shorter, shorter


def test_a_band_list_is_told_the_fix_of_the_model_it_is_for(tmp_path, capsys):
    """With a 2-channel model, ``--channel 2 1 0`` of 2-channel inputs was told to use a
    model of 2 channels or fewer, the one given (review B): the line asks for the model's 2
    bands among those the inputs have, which ``--channel 1 0`` does; a 3-channel model's
    line still says no list of theirs feeds it, and a model not loaded yet (a function) is
    told both fixes, each for its model."""
    from unetlab.checkpoint import save_model
    from unetlab.inference.every_file import refuse_for_every_file
    from unetlab.inference.folders import predict_folder
    from unetlab.models import UNet

    a, b = _cyx(tmp_path / "in" / "a.tif", 2), _cyx(tmp_path / "in" / "b.tif", 2)
    two = save_model(tmp_path / "two.pt", UNet(2, 2, depth=2, base_channels=4, padding="same"))
    args = ["predict", "--no-progress", "--checkpoint", str(two), "--input", str(a), str(b)]
    assert main([*args, "--output", str(tmp_path / "o"), "--channel", "2", "1", "0"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "a model of 2 channels or fewer" not in line, line
    assert line.endswith(
        "have 2 channels (valid: --channel 0 to 1); give 2 bands among those (the model takes 2)"
    ), line
    assert main([*args, "--output", str(tmp_path / "o"), "--channel", "1", "0"]) == 0
    net = UNet(2, 2, depth=2, base_channels=4, padding="same")  # the Python API's, loaded
    with pytest.raises(UnetlabError, match=r"give 2 bands among those \(the model takes 2\)$"):
        predict_folder(net, [a, b], tmp_path / "p", channel=[2, 1, 0], progress=False)
    three = _cli_refusal(tmp_path / "3", [a, b], ["2", "1", "0"], capsys)
    assert three.endswith(
        "or predict them with a model of 2 channels or fewer (no list of "
        "theirs feeds a 3-channel one)"
    ), three
    with pytest.raises(UnetlabError) as refused:
        refuse_for_every_file(tmp_path / "in", [a, b], {"channel": [2, 1, 0]})
    assert str(refused.value).endswith(
        "fewer than the 3 bands listed; give inputs of 3 channels or more (for a 3-channel "
        "model), or list at most 2 bands (for a model of 2 channels or fewer)"
    ), refused.value


def _negatives(tmp_path: Path) -> Path:
    """A mask of two objects holding three negative values, -3, -2 and -1."""
    ids = np.zeros((24, 24), np.int16)
    ids[2:10, 2:10], ids[12:20, 12:20] = 1, 2
    ids[0, :], ids[:, 0], ids[-1, :] = -1, -2, -3
    tifffile.imwrite(tmp_path / "m.tif", ids)
    return tmp_path / "m.tif"


def _weightmap_line(argv: list[str], capsys) -> str:
    """The one line ``weightmap`` of ``argv`` says (exit 2)."""
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    return line


def test_weightmap_names_every_negative_value_of_a_mask(tmp_path, capsys):
    """``weightmap`` named the lowest of a mask's negative values alone (-3 of -3, -2, -1):
    fixed by --ignore-value -3, the next was refused. All are named, and the fix says that
    --ignore-value takes one value; as object ids too, in Python as ``ignore_value=V``."""
    from unetlab.data.weightmap import instance_weight_map, mask_classes

    mask = _negatives(tmp_path)
    argv = ["weightmap", str(mask), "--output", str(tmp_path / "o")]
    line = _weightmap_line(argv, capsys)
    assert line.endswith(
        f"{mask}: mask values -3, -2, -1 are no class indices: if they mark pixels left "
        "unlabelled, save them as one value V and --ignore-value V weighs them 0, else "
        "--label-values with them names them classes"
    ), line
    python = "one value V and ignore_value=V weighs them 0, else label_values with them"
    with pytest.raises(UnetlabError, match=python):  # a notebook's: keywords, not flags
        mask_classes({"m": tifffile.imread(mask)})
    assert main([*argv, "--instances"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "mask values -3, -2, -1 are no object ids" in line
    assert "save them as one value V and --ignore-value V weighs them 0" in line
    with pytest.raises(UnetlabError, match="one value V and ignore_value=V weighs them 0"):
        instance_weight_map(tifffile.imread(mask))
    assert not (tmp_path / "o").exists()


def test_weightmap_beside_an_ignore_value_saves_the_others_as_it(tmp_path, capsys):
    """With ``--ignore-value -1`` given, a mask also holding -2 (and -3) was told to use
    ``--ignore-value -2``, and with that, ``--ignore-value -1`` again (review B: a loop):
    the others are named and told to be saved as the one value given; as object ids too,
    in Python as ``ignore_value=-1``."""
    from unetlab.data.weightmap import instance_weight_map, mask_classes

    mask = _negatives(tmp_path)
    argv = ["weightmap", str(mask), "--output", str(tmp_path / "o"), "--ignore-value", "-1"]
    line = _weightmap_line(argv, capsys)
    assert line.endswith(
        f"{mask}: mask values -3, -2 are no class indices, and --ignore-value -1 is given: if "
        "they mark pixels left unlabelled too, save them as -1 (one ignore value), else "
        "--label-values with them names them classes"
    ), line
    assert main([*argv, "--instances"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.endswith(
        "mask values -3, -2 are no object ids (0 background, else positive), and "
        "--ignore-value -1 is given: if they mark pixels left unlabelled too, save them as "
        "-1 (one ignore value), else number the objects 1..n"
    ), line
    ids = tifffile.imread(mask)
    ids[ids == -3] = -2  # one other value: said as one
    python = r"value -2 is no class index, and ignore_value=-1 is given: .* save it as -1 "
    with pytest.raises(UnetlabError, match=python):
        mask_classes({"m": ids}, ignore_value=-1)
    with pytest.raises(UnetlabError, match=r"and ignore_value=-1 is given: .* save it as -1"):
        instance_weight_map(ids, ignore_value=-1)
    ids[ids == -2] = -1  # saved as the one value: a map
    assert instance_weight_map(ids, ignore_value=-1)[0, 5] == 0
    assert not (tmp_path / "o").exists()


def test_training_beside_an_ignore_value_saves_the_others_as_it(tmp_path):
    """Training's instance masks were told the same loop (``data.ignore_value`` -1 given, a
    mask holding -2 told to set it to -2): the other value is saved as the one given."""
    from unetlab.train import prepare_data

    from .test_train_instances import tiny, write_discs

    write_discs(tmp_path, 1, count=4, folder="instances")
    ids = read_image(tmp_path / "instances" / "0.png").astype(np.int16)
    ids[0, :], ids[-1, :] = -1, -2
    (tmp_path / "instances" / "0.png").unlink()
    tifffile.imwrite(tmp_path / "instances" / "0.tif", ids)
    with pytest.raises(UnetlabError) as refused:
        prepare_data(tiny(tmp_path, "data.target=instances", "data.ignore_value=-1"))
    assert str(refused.value).endswith(
        "0.tif: mask value -2 is no object id (0 background, else positive), and "
        "cfg.data.ignore_value = -1 is given: if it marks pixels left unlabelled too, save "
        "it as -1 (one ignore value), else number the objects 1..n"
    ), refused.value


def test_weightmap_instances_take_training_s_boundary_width(tmp_path, capsys):
    """``weightmap --instances`` drew training's default boundary (1 px) alone: a run of
    ``data.boundary_width: 2`` could not see its map. ``--boundary-width`` gives the map
    that width trains with (its interiors smaller, the border term between them moved);
    a class mask's map is refused it, as is a negative width."""
    from unetlab.data.datasets import load_instance_samples
    from unetlab.data.pairs import find_pairs

    from .test_cli_weightmap import _touching_ids

    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
        tifffile.imwrite(tmp_path / folder / "a.tif", _touching_ids())
    argv = ["weightmap", str(tmp_path / "masks"), "--instances", "--w0", "8", "--sigma", "4"]
    assert main([*argv, "--output", str(tmp_path / "w2"), "--boundary-width", "2"]) == 0
    assert "boundary 2 px" in capsys.readouterr().out
    assert main([*argv, "--output", str(tmp_path / "w1")]) == 0
    wide = tifffile.imread(tmp_path / "w2" / "a_weights.tif")
    normalization = {"mode": "scale", "value": 255.0}
    (sample,), _ = load_instance_samples(
        find_pairs(tmp_path),
        normalization=normalization,
        weight_map={"w0": 8.0, "sigma": 4.0},
        boundary_width=2,
    )
    assert np.array_equal(wide, sample.weight)
    assert not np.array_equal(wide, tifffile.imread(tmp_path / "w1" / "a_weights.tif"))
    assert main([*argv, "--output", str(tmp_path / "x"), "--boundary-width", "-1"]) == 2
    assert "--boundary-width must be at least 0" in capsys.readouterr().err
    classes = ["weightmap", str(tmp_path / "masks"), "--output", str(tmp_path / "y")]
    assert main([*classes, "--boundary-width", "2"]) == 2
    assert "give --instances, or leave --boundary-width out" in capsys.readouterr().err


def test_a_colour_instance_mask_is_told_how_to_make_its_ids(tmp_path):
    """Training's instance mode told a mask of a colour an object (as some tools save them)
    the class mask's fix ("save masks as class indices ... class_colors.txt"): it is told
    the instance mode reads object ids, and the recipe it names makes the 16-bit ids it
    trains on, of an RGB mask and of an RGBA one (review B: a reshape error there)."""
    from unetlab.data.datasets import load_instance_samples
    from unetlab.data.instances import boundary_target
    from unetlab.data.io import ColourMaskError, write_png
    from unetlab.data.pairs import find_pairs
    from unetlab.errors import DatasetError
    from unetlab.train import prepare_data

    from .test_train_instances import tiny, write_discs

    write_discs(tmp_path, 1, count=6)
    ids = read_image(tmp_path / "masks" / "0.png")
    colours = np.array([[0, 0, 0], *[[40 * k, 255 - 30 * k, 90] for k in range(1, 7)]])
    scale = {"mode": "scale", "value": 255.0}
    for kind, alpha in (("RGB", []), ("RGBA", [255])):  # RGBA: a TIFF's, read as 4 bands
        drawn = np.array([[*c, *alpha] for c in colours], np.uint8)[ids]
        saved = tmp_path / "masks" / ("0.tif" if alpha else "0.png")
        (tmp_path / "masks" / "0.png").unlink()
        if alpha:
            tifffile.imwrite(saved, drawn, photometric="rgb")
        else:
            write_png(saved, drawn)
        with pytest.raises(DatasetError) as refused:
            prepare_data(tiny(tmp_path, "data.target=instances"))
        said = str(refused.value)
        assert f"colour ({kind}) image; the instance mode (data.target: instances) reads" in said
        assert "class indices" not in said and "class_colors.txt" not in said
        with pytest.raises(DatasetError, match="the instance mode"):  # the loader's own line
            load_instance_samples(find_pairs(tmp_path), normalization=scale)
        mask = tifffile.imread(saved) if alpha else read_image(saved)  # as the user reads it
        assert mask.shape == (*ids.shape, len(kind))
        recipe = said.split("becomes ids by ")[1].rsplit(" (", 1)[0]  # its array's name after
        made = eval(recipe, {"np": np, "mask": mask, "rgb": mask})  # the line's own recipe
        assert made.dtype == np.uint16  # as the line says to save them
        saved.unlink()
        write_png(tmp_path / "masks" / "0.png", made)
        (sample,), _ = load_instance_samples(find_pairs(tmp_path), normalization=scale)
        assert np.array_equal(sample.mask, boundary_target(ids)), kind  # each object drawn
    stack = np.stack([drawn[..., :3], drawn[::-1, :, :3]])  # a colour stack (Z, Y, X, 3)
    made = eval(recipe, {"np": np, "mask": stack})  # review F1: reshape(mask.shape[:2]) failed
    planes = np.stack([ids, ids[::-1]])
    assert made.shape == planes.shape and not made[planes == 0].any()  # black: background
    pairs = np.unique(np.stack([made.ravel(), planes.ravel()]), axis=1)  # one id an object
    assert pairs.shape[1] == len(np.unique(made)) == len(np.unique(ids)) == 7
    made = pickle.loads(pickle.dumps(ColourMaskError(Path("m.png"), "RGBA")))  # a worker's
    assert "m.png: this mask is a colour (RGBA) image; save masks" in str(made)


def test_a_colour_mask_auto_reads_as_object_ids_is_told_how_to_make_them(tmp_path):
    """Under the default ``data.target: auto`` a colour mask in an ``instances/`` folder
    (read as object ids for where it lies) was told the class mask's fix (review B): it
    is told the instance mode's, naming why auto chose it."""
    from unetlab.data.io import write_png
    from unetlab.errors import DatasetError
    from unetlab.train import prepare_data

    from .test_train_instances import tiny, write_discs

    write_discs(tmp_path, 1, count=6, folder="instances")
    ids = read_image(tmp_path / "instances" / "0.png")
    colours = np.array([[0, 0, 0], *[[40 * k, 255 - 30 * k, 90] for k in range(1, 7)]])
    write_png(tmp_path / "instances" / "0.png", colours[ids].astype(np.uint8))
    with pytest.raises(DatasetError) as refused:
        prepare_data(tiny(tmp_path))
    said = str(refused.value)
    assert (
        "0.png: this mask is a colour (RGB) image; the instance mode (data.target: auto, for "
        "a folder named instances/) reads one object id a pixel" in said
    ), said
    assert "class indices" not in said and "class_colors.txt" not in said


def test_one_file_is_said_as_one_not_file_s():
    """Lines said "1 file(s) ... are outputs", "1 file(s) turned by their EXIF": one file is
    one, its verb agreeing; several are plural."""
    from unetlab.data.read_notes import turned_line
    from unetlab.inference.earlier_outputs import outputs_line, pattern_outputs_line

    one, two = [Path("out/x.png")], [Path("out/x.png"), Path("out/y.png")]
    assert outputs_line(Path("out"), one).startswith("out/: 1 file there is an output unetlab")
    assert outputs_line(Path("out"), two).startswith("out/: 2 files there are outputs unetlab")
    said = pattern_outputs_line(Path("out/*"), one)
    assert said.startswith("'out/*': 1 file it matches is an output unetlab wrote (x.png;")
    assert turned_line({"a.jpg": 6}).startswith("1 file turned by its EXIF orientation")
    assert turned_line({"a.jpg": 6, "b.jpg": 8}).startswith("2 files turned by their EXIF")


def test_one_file_s_whole_line_agrees_not_its_pronouns_plural():
    """Review B: for one file the lines went on in the plural ("1 file there is an output
    ... lists them), not inputs", "1 file there is a label ... lists them, read as images
    sharing their stems: move them out"): the whole line agrees; several stay plural."""
    from unetlab.data.pairs import _predicted_line
    from unetlab.inference.earlier_outputs import outputs_line, pattern_outputs_line

    one, two = [Path("out/x.png")], [Path("out/x.png"), Path("out/y.png")]
    assert outputs_line(Path("out"), one) == (
        "out/: 1 file there is an output unetlab wrote (x.png; its .unetlab-outputs lists "
        "it), not an input: not predicted; give a file itself to predict it"
    )
    assert "(x.png, y.png; its .unetlab-outputs lists them), not inputs:" in outputs_line(
        Path("out"), two
    )
    assert pattern_outputs_line(Path("out/*"), one) == (
        "'out/*': 1 file it matches is an output unetlab wrote (x.png; its folder's "
        ".unetlab-outputs lists it), not an input: not predicted; give a file itself to "
        "predict it"
    )
    said = pattern_outputs_line(Path("out/*"), two)
    assert "their folder's .unetlab-outputs lists them), not inputs:" in said, said
    assert _predicted_line(Path("ds"), [Path("ds/x.png")]) == (
        "ds/: 1 file there is a label that unetlab predict wrote among the images (x.png; "
        "its .unetlab-outputs lists it), read as an image sharing its stem: move it out of "
        "this folder (predict into another --output)"
    )
    assert "read as images sharing their stems: move them out" in _predicted_line(
        Path("ds"), [Path("ds/x.png"), Path("ds/y.png")]
    )


def _container(path: Path, images: int) -> Path:
    """A bioformats2raw container (zarr v2): ``images`` OME-Zarr images 0/, 1/, ... of one
    (1, 24, 24) level each (image k's pixels k + 3), ``OME/METADATA.ome.xml`` beside them."""
    import zarr

    from .test_bad_input4 import _ngff

    root = zarr.open_group(path, mode="w", zarr_format=2)
    root.attrs["bioformats2raw.layout"] = 3
    level = {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1, 1]}]}
    ngff = _ngff(datasets=[level])
    ngff["omero"]["channels"] = [{"label": "DAPI"}]
    for k in range(images):
        image = root.create_group(str(k))
        image.create_array("0", shape=(1, 24, 24), dtype="uint8", chunks=(1, 24, 24))[:] = k + 3
        image.attrs.update(ngff)
    root.create_group("OME").attrs["series"] = [str(k) for k in range(images)]
    (path / "OME" / "METADATA.ome.xml").write_text("<OME/>")
    return path


def test_a_bioformats2raw_container_is_read_as_its_image_or_names_them(tmp_path, capsys):
    """A bioformats2raw container given whole (plate.zarr, its image in 0/) failed as "a
    Zarr group without OME-Zarr 'multiscales' metadata": one of one image is read as that
    image; one of several is refused in one line naming each image's folder to give."""
    from unetlab.checkpoint import save_model
    from unetlab.data.slides import open_slide, zarr_channels
    from unetlab.models import UNet

    one = _container(tmp_path / "one.zarr", 1)
    assert zarr_channels(one) == (1, ["DAPI"])  # its image's names, for --channel DAPI
    with open_slide(one) as slide, open_slide(one / "0") as image:
        whole = (0, slice(None), slice(None))
        assert slide.shape == image.shape and np.array_equal(slide.read(*whole), image.read(*whole))
    save_model(tmp_path / "g.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    args = ["predict", "--checkpoint", str(tmp_path / "g.pt"), "--no-progress", "--input"]
    assert main([*args, str(one), "--output", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "one.tif").is_file()
    two = _container(tmp_path / "two.zarr", 2)
    with pytest.raises(UnetlabError) as refused:
        open_slide(two)
    assert str(refused.value) == (
        f"{two}: a bioformats2raw container of 2 images: give each image's folder "
        f"({two / '0'}, {two / '1'})"
    )
    capsys.readouterr()
    assert main([*args, str(two), "--output", str(tmp_path / "out2")]) != 0
    assert f"give each image's folder ({two / '0'}, {two / '1'})" in capsys.readouterr().err


def test_an_animated_gif_s_frames_are_said_to_be_each_predicted(tmp_path, caplog):
    """``predict --input a.gif`` of 3 frames wrote one a.tif of 3 frames (the README's rule:
    a clip is a time series) without a word, where ``read_stack`` alone refuses the file:
    one line says each frame is predicted into one TIFF time series; one frame says none."""
    from PIL import Image

    from unetlab.checkpoint import save_model
    from unetlab.models import UNet

    rng = np.random.default_rng(0)
    frames = [Image.fromarray(rng.integers(0, 255, (24, 24), dtype=np.uint8)) for _ in range(3)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:], duration=100)
    frames[0].save(tmp_path / "b.gif")
    save_model(tmp_path / "g.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    args = ["predict", "--checkpoint", str(tmp_path / "g.pt"), "--no-progress", "--input"]
    with caplog.at_level("INFO", logger="unetlab"):
        for name in ("a.gif", "b.gif"):
            assert main([*args, str(tmp_path / name), "--output", str(tmp_path / "out")]) == 0
    said = [m for m in caplog.messages if "frames (an animated" in m]
    assert said == [
        f"{tmp_path / 'a.gif'}: 3 frames (an animated GIF), each predicted: its labels are one "
        "TIFF time series (TYX, 0.1 s apart), which Fiji opens as one"
    ], said
    assert tifffile.imread(tmp_path / "out" / "a.tif").shape == (3, 24, 24)
    assert (tmp_path / "out" / "b.png").is_file()
