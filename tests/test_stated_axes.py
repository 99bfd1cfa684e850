"""A TIFF that states its axes (OME-XML, an ImageJ hyperstack's slices or frames, tifffile's
axes) is read as it says by a model trained with --axes (data.axes): an OME-TIFF whose XML
says ZYX was read as TYX by a TYX model, and a CYX one as ZYX by a ZYX model (its channels
predicted as planes), because it had as many axes as the checkpoint's. Axes that cannot be
the model's (channels for planes) are refused in one line naming both and --axes; a file
that states nothing (tifffile's bare pages, ImageJ's channels=N alone: also what it writes
for no axes) keeps the checkpoint's; --axes given wins."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
import tifffile

from tests.test_trained_axes import H, W, _axes, _net
from unetlab import save_model
from unetlab.cli import main
from unetlab.data.io import axes_problem, trained_file_axes
from unetlab.errors import ImageReadError, UnetlabError, first_line
from unetlab.evaluate import evaluate_model
from unetlab.inference.files import predict_file
from unetlab.inference.folders import predict_folder


@pytest.fixture(autouse=True)
def _lines_said_here(monkeypatch):
    import unetlab.data.read_notes

    monkeypatch.setattr(unetlab.data.read_notes, "_said", set())


#: what a microscope's OME-TIFF or Fiji's hyperstack records of its planes: their Z step or
#: time step (tifffile's axes alone, ZYX or TYX, are also what it writes for a (3, 1, H, W)
#: array given none: they say planes, not which)
_OME_STEP = {"Z": {"PhysicalSizeZ": 0.5}, "T": {"TimeIncrement": 60.0}}
_IMAGEJ_STEP = {"Z": {"spacing": 0.5}, "T": {"finterval": 60.0}}


def _stack(path, axes: str | None, *, imagej: bool = False, pages: int = 3) -> None:
    """``pages`` grey pages saved as OME (``axes``, with their Z or time step; by Bio-Formats
    where they are what tifffile guesses for none, CYX: tifffile's own would state
    nothing), ImageJ (``imagej``, with the step) or bare (None)."""
    stack = np.random.default_rng(0).integers(0, 255, (pages, H, W), dtype=np.uint8)
    step = (_IMAGEJ_STEP if imagej else _OME_STEP).get((axes or "C")[0], {})
    if imagej:
        said = {"axes": axes, **step} if axes else {}
        tifffile.imwrite(path, stack, imagej=True, metadata=said)
    elif axes is None:
        tifffile.imwrite(path, stack, photometric="minisblack")
    elif axes == "CYX":
        _bio_formats(path, stack, axes)
    else:
        said = {"axes": axes, **step}
        tifffile.imwrite(path, stack, photometric="minisblack", metadata=said)


def _bio_formats(path, stack, axes: str) -> None:
    """``stack`` as an OME-TIFF of ``axes`` whose XML names another writer than tifffile
    (Fiji's Bio-Formats export): its axes are its writer's word."""
    tifffile.imwrite(path, stack, photometric="minisblack", metadata={"axes": axes})
    with tifffile.TiffFile(path) as tif:
        xml = re.sub(r'Creator="[^"]*"', 'Creator="OME Bio-Formats 6.11.1"', tif.ome_metadata)
    tifffile.imwrite(path, stack, photometric="minisblack", description=xml, metadata=None)


@pytest.mark.parametrize(
    ("name", "imagej", "stated", "model"),
    [("z.ome.tif", False, "ZYX", "TYX"), ("t.ome.tif", False, "TYX", "ZYX"),
     ("z.tif", True, "ZYX", "TYX"), ("t.tif", True, "TYX", "ZYX")],
)  # fmt: skip
def test_a_file_that_states_its_planes_is_read_as_it_says(tmp_path, name, imagej, stated, model):
    _stack(tmp_path / name, stated, imagej=imagej)
    assert trained_file_axes(tmp_path / name, model) is None  # read as it is
    assert _axes(predict_file(_net(model), tmp_path / name, tmp_path / "o")[-1]) == stated
    given = predict_file(_net(model), tmp_path / name, tmp_path / "g", axes=model)
    assert _axes(given[-1]) == model  # --axes given wins


def test_a_file_that_states_the_model_s_axes_is_read_with_them(tmp_path):
    _stack(tmp_path / "z.ome.tif", "ZYX")
    assert trained_file_axes(tmp_path / "z.ome.tif", "ZYX") == "ZYX"


def _fiji_stack(path) -> None:
    """3 pages as Fiji saves a plain stack (not a hyperstack): ``slices=3``, as it calls any
    stack's pages, a movie's too."""
    stack = np.random.default_rng(0).integers(0, 255, (3, H, W), dtype=np.uint8)
    said = "ImageJ=1.54f\nimages=3\nslices=3\nloop=false\n"
    with tifffile.TiffWriter(path) as tif:
        for i, page in enumerate(stack):
            tif.write(page, description=said if i == 0 else None, metadata=None, contiguous=True)


def test_files_that_state_nothing_keep_the_checkpoint_s_axes(tmp_path):
    """tifffile's bare pages, ImageJ's channels=3 alone (what imagej=True writes for an
    array without axes) and a plain Fiji stack's slices cannot be told from no axes: the
    checkpoint's, as before."""
    _stack(tmp_path / "bare.tif", None)
    _stack(tmp_path / "ij.tif", None, imagej=True)
    _fiji_stack(tmp_path / "fiji.tif")
    assert _axes(tmp_path / "fiji.tif") == "ZYX"
    for name in ("bare.tif", "ij.tif", "fiji.tif"):
        assert trained_file_axes(tmp_path / name, "ZYX") == "ZYX"
        written = predict_file(_net("TYX"), tmp_path / name, tmp_path / f"o-{name}")
        assert _axes(written[-1]) == "TYX"


@pytest.mark.parametrize(("stated", "model"), [("CYX", "ZYX"), ("ZYX", "CYX"), ("CYX", "TYX")])
def test_axes_that_cannot_be_the_model_s_are_refused_in_one_line(tmp_path, stated, model):
    _stack(tmp_path / "s.ome.tif", stated)
    with pytest.raises(ImageReadError) as caught:
        trained_file_axes(tmp_path / "s.ome.tif", model)
    line = str(caught.value)
    assert "\n" not in line and line.startswith(f"{tmp_path / 's.ome.tif'}: ")
    said = line.removeprefix(f"{tmp_path / 's.ome.tif'}: ")
    assert said == (  # a caller's own spelling, not both ("--axes (axes=) CYX", s56)
        f"the file says its axes are {stated}, the model was trained on {model}: "
        f"give axes='{model}' (as trained) or axes='{stated}' (as the file says)"
    )
    assert first_line(caught.value, cli=True).endswith(
        f"give --axes {model} (as trained) or --axes {stated} (as the file says)"
    )
    assert len(said) < 130  # both axes and both fixes, no more (it was 165)
    channels = 3 if "C" in model else 1
    result = predict_folder(_net(model, channels), [tmp_path / "s.ome.tif"], tmp_path / "o")
    assert list(result.failed) == [tmp_path / "s.ome.tif"]
    given = predict_file(_net(model, channels), tmp_path / "s.ome.tif", tmp_path / "g", axes=model)
    assert given  # given: read as the user says


def test_channels_stated_beside_the_model_s_channels_are_read_as_the_file_says(tmp_path):
    """A YXC model (channels last) and a CYX OME-TIFF: both say channels; the file's order."""
    _stack(tmp_path / "c.ome.tif", "CYX")
    assert trained_file_axes(tmp_path / "c.ome.tif", "YXC") is None
    assert predict_file(_net("YXC", channels=3), tmp_path / "c.ome.tif", tmp_path / "o")


def test_evaluate_reads_stated_planes_as_they_say_and_names_a_clash(tmp_path):
    """Scored as the file says (planes of a TYX model's Z stack); a CYX pair for a ZYX model
    is one of the set's problems, named."""
    for sub in ("images", "masks"):
        (tmp_path / "d" / sub).mkdir(parents=True)
    _stack(tmp_path / "d" / "images" / "a.ome.tif", "ZYX")
    stack = tifffile.imread(tmp_path / "d" / "images" / "a.ome.tif")
    mask = (stack > 128).astype(np.uint8)
    tifffile.imwrite(tmp_path / "d" / "masks" / "a.ome.tif", mask, metadata={"axes": "ZYX"})
    assert len(evaluate_model(_net("TYX"), tmp_path / "d").images) == 3
    with pytest.raises(UnetlabError, match="says its axes are ZYX, the model was trained on CYX"):
        evaluate_model(_net("CYX", channels=3), tmp_path / "d")


def _zeros(shape) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 255, shape, dtype=np.uint8)


@pytest.mark.parametrize(
    ("shape", "model", "imagej"),
    [((3, H, W), "ZYX", False), ((3, H, W), "TYX", False), ((2, 3, H, W), "CZYX", False),
     ((2, 3, H, W), "TZYX", False), ((2, 3, H, W), "CZYX", True)],
)  # fmt: skip
def test_axes_tifffile_guessed_for_none_state_nothing(tmp_path, shape, model, imagej):
    """tifffile writes axes into every .ome.tif (and ImageJ hyperstack) it saves, guessed
    from the shape where it was given none: a z-stack saved as x.ome.tif says CYX (4-D:
    ZCYX). A model trained with --axes ZYX on them refused every file (4-D CZYX: read as
    ZCYX, its planes and channels swapped): they keep the checkpoint's axes."""
    path = tmp_path / ("s.tif" if imagej else "s.ome.tif")
    tifffile.imwrite(path, _zeros(shape), **({"imagej": True} if imagej else {}))
    with tifffile.TiffFile(path) as tif:
        assert tif.series[0].axes == "TZCYX"[-len(shape) :]  # tifffile's guess
    assert trained_file_axes(path, model) == model
    if len(shape) == 3:
        assert _axes(predict_file(_net(model), path, tmp_path / "o")[-1]) == model


def test_tifffile_s_guess_with_what_its_axes_hold_named_is_stated(tmp_path):
    """The guess's axes with channel names (or a Z step for its Z) are the writer's word."""
    names = {"axes": "CYX", "Channel": {"Name": ["a", "b", "c"]}}
    tifffile.imwrite(tmp_path / "c.ome.tif", _zeros((3, H, W)), metadata=names)
    with pytest.raises(ImageReadError, match="says its axes are CYX"):
        trained_file_axes(tmp_path / "c.ome.tif", "ZYX")
    tifffile.imwrite(tmp_path / "p.ome.tif", _zeros((3, H, W)), metadata={"PhysicalSizeZ": 2.0})
    assert trained_file_axes(tmp_path / "p.ome.tif", "ZYX") == "ZYX"  # no Z in CYX: a guess
    zc = {"PhysicalSizeZ": 2.0}
    tifffile.imwrite(tmp_path / "z.ome.tif", _zeros((2, 3, H, W)), metadata=zc)
    assert trained_file_axes(tmp_path / "z.ome.tif", "CZYX") is None  # read as its ZCYX


def test_an_ome_tiff_of_bio_formats_that_says_cyx_is_its_word(tmp_path):
    _bio_formats(tmp_path / "b.ome.tif", _zeros((3, H, W)), "CYX")
    with pytest.raises(ImageReadError, match="says its axes are CYX, the model was trained on ZYX"):
        trained_file_axes(tmp_path / "b.ome.tif", "ZYX")


def _fiji_composite(path, channels: int = 3) -> None:
    """``channels`` pages as Fiji saves a composite (Image > Color > Make Composite): its own
    ImageJ version, ``channels=N``, ``mode=composite``, no hyperstack line."""
    said = f"ImageJ=1.54f\nimages={channels}\nchannels={channels}\nmode=composite\nloop=false\n"
    with tifffile.TiffWriter(path) as tif:
        for i, page in enumerate(_zeros((channels, H, W))):
            tif.write(page, description=said if i == 0 else None, metadata=None, contiguous=True)


@pytest.mark.parametrize("mode", ["composite", "color"])
def test_an_imagej_composite_states_its_channels(tmp_path, mode):
    """ImageJ's composite or colour mode shows each page as a channel (a LUT each): the
    file's word, as a hyperstack's slices are; tifffile's grayscale (its default) is not."""
    said = {"axes": "CYX", "mode": mode}
    tifffile.imwrite(tmp_path / "c.tif", _zeros((3, H, W)), imagej=True, metadata=said)
    with pytest.raises(ImageReadError, match="says its axes are CYX, the model was trained on ZYX"):
        trained_file_axes(tmp_path / "c.tif", "ZYX")
    assert trained_file_axes(tmp_path / "c.tif", "YXC") is None  # channels: read as it says
    assert trained_file_axes(tmp_path / "c.tif", "CYX") == "CYX"
    grey = {"axes": "CYX", "mode": "grayscale"}
    tifffile.imwrite(tmp_path / "g.tif", _zeros((3, H, W)), imagej=True, metadata=grey)
    assert trained_file_axes(tmp_path / "g.tif", "ZYX") == "ZYX"  # tifffile's guess: nothing


def test_a_fiji_composite_and_a_4d_one_state_their_channels(tmp_path):
    _fiji_composite(tmp_path / "f.tif")
    with tifffile.TiffFile(tmp_path / "f.tif") as tif:
        assert tif.series[0].axes == "CYX" and not tif.imagej_metadata.get("hyperstack")
    with pytest.raises(ImageReadError, match="says its axes are CYX, the model was trained on TYX"):
        trained_file_axes(tmp_path / "f.tif", "TYX")
    said = {"axes": "ZCYX", "mode": "composite"}  # tifffile's guess for 4 axes, but composite
    tifffile.imwrite(tmp_path / "z.tif", _zeros((2, 3, H, W)), imagej=True, metadata=said)
    assert trained_file_axes(tmp_path / "z.tif", "CZYX") is None  # read as its ZCYX


@pytest.mark.parametrize("imagej", [False, True])
def test_a_guess_with_an_axis_of_size_1_left_out_says_planes_not_which(tmp_path, imagej):
    """A (5, 1, H, W) array saved as x.ome.tif (or imagej=True) given no axes: tifffile
    guesses ZCYX and reads ZYX, its C of 1 left out (the same file as one given axes='ZYX').
    It was the file's word: a TYX model read it as Z planes. It says they are planes, not
    which: the checkpoint's T; a CYX model's channels still clash; an axis of another kind
    at a place (TCYX for CZYX) is read as the file says."""
    path = tmp_path / ("s.tif" if imagej else "s.ome.tif")
    save = {"imagej": True} if imagej else {}
    tifffile.imwrite(path, _zeros((5, 1, H, W)), **save)
    assert _axes(path) == "ZYX"
    assert trained_file_axes(path, "TYX") == "TYX"
    assert _axes(predict_file(_net("TYX"), path, tmp_path / "o")[-1]) == "TYX"
    with pytest.raises(ImageReadError, match="says its axes are ZYX, the model was trained on CYX"):
        trained_file_axes(path, "CYX")
    tifffile.imwrite(path, _zeros((4, 1, 2, H, W)), **save)  # TZCYX, its Z of 1 left out
    assert _axes(path) == "TCYX"
    assert trained_file_axes(path, "ZCYX") == "ZCYX"
    assert trained_file_axes(path, "CZYX") is None  # C at another place: as the file says


def test_a_file_of_other_axes_and_no_channels_is_refused_for_a_c_model(tmp_path, caplog):
    """A 3-channel CYX model given a TZYX OME-TIFF (or a grey plane) read each plane's grey
    into its 3 stains with a warning only: refused in one line naming both axes and the
    fixes; given, its axes are the user's word. A ZCYX file of 3 channels is read as it is."""
    tifffile.imwrite(tmp_path / "t.ome.tif", _zeros((2, 3, H, W)), metadata={"axes": "TZYX"})
    with pytest.raises(ImageReadError) as caught:
        predict_file(_net("CYX", 3), tmp_path / "t.ome.tif", tmp_path / "o")
    assert first_line(caught.value, cli=True) == (
        f"{tmp_path / 't.ome.tif'}: the file's axes are TZYX, no channels; the model was "
        "trained on CYX, 3 channels: give --axes TCYX if its Z holds them or --axes TZYX to "
        "repeat its grey into each, or convert it to 3 channels"
    )  # its Z of 3 (CZYX, its T of 2, the model refused: 'has 2 channels')
    assert predict_file(_net("CYX", 3), tmp_path / "t.ome.tif", tmp_path / "c", axes="TCYX")
    given = predict_file(_net("CYX", 3), tmp_path / "t.ome.tif", tmp_path / "g", axes="TZYX")
    assert _axes(given[-1]) == "TZYX"
    tifffile.imwrite(tmp_path / "p.tif", _zeros((H, W)))
    with pytest.raises(ImageReadError, match=r"axes are YX, no channels; .* CZYX, 2 channels: "):
        predict_file(_net("CZYX", 2), tmp_path / "p.tif", tmp_path / "o")
    said = {"axes": "ZCYX", "PhysicalSizeZ": 1.0}
    tifffile.imwrite(tmp_path / "c.ome.tif", _zeros((2, 3, H, W)), metadata=said)
    assert predict_file(_net("CYX", 3), tmp_path / "c.ome.tif", tmp_path / "o")
    assert predict_file(_net("ZYX"), tmp_path / "t.ome.tif", tmp_path / "z")  # planes: as is


def _grey_pair(root, name: str, shape: tuple[int, ...], said: dict | None = None) -> None:
    """A grey TIFF of ``shape`` (``said``: its metadata) and its mask under ``root``."""
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    image = _zeros(shape)
    tifffile.imwrite(root / "images" / name, image, metadata=said)
    tifffile.imwrite(root / "masks" / name, (image > 128).astype(np.uint8), metadata=said)


@pytest.mark.parametrize(
    ("shape", "said"), [((H, W), None), ((2, 3, H, W), {"axes": "TZYX"})], ids=["plane", "tzyx"]
)
def test_evaluate_refuses_a_file_of_other_axes_and_no_channels_as_predict_does(
    tmp_path, capsys, caplog, shape, said
):
    """A grey TIFF of other axes than a 3-channel CYX model's: predict refuses it in one
    line; evaluate (its pairs read with the checkpoint's axes, without the model's channels)
    repeated its grey into the 3 stains with a warning and scored it. Now the same line, in
    evaluate_model and the CLI; --axes given reads it in both, repeating its grey."""
    name = "g.ome.tif" if said else "g.tif"
    _grey_pair(tmp_path / "d", name, shape, said)
    image = tmp_path / "d" / "images" / name
    with pytest.raises(ImageReadError) as refused:
        predict_file(_net("CYX", 3), image, tmp_path / "o")
    line = str(refused.value)
    assert "no channels; the model was trained on CYX, 3 channels" in line
    with pytest.raises(UnetlabError) as caught:
        evaluate_model(_net("CYX", 3), tmp_path / "d")
    assert str(caught.value).endswith(f": {line}")
    checkpoint = save_model(
        tmp_path / "m.pt", _net(None, 3), train_config={"data": {"axes": "CYX"}}
    )
    argv = ["evaluate", "--checkpoint", str(checkpoint), "--data", str(tmp_path / "d")]
    capsys.readouterr()
    assert main([*argv, "--no-progress"]) == 2
    assert first_line(refused.value, cli=True) in capsys.readouterr().err  # --axes, not axes=
    axes, pages = ("YX", 1) if len(shape) == 2 else ("TZYX", 6)
    repeated = "grey image given to a 3-channel model; its channel is repeated"
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert len(evaluate_model(_net("CYX", 3), tmp_path / "d", axes=axes).images) == pages
        assert predict_file(_net("CYX", 3), image, tmp_path / "g", axes=axes)
    assert caplog.text.count(repeated) == 2


@pytest.mark.parametrize("imagej", [False, True], ids=["ome", "imagej"])
def test_tifffile_s_4d_guess_for_a_plane_model_is_refused_naming_axes(tmp_path, imagej):
    """A (T, Z, Y, X) array saved as x.ome.tif (or imagej=True) without axes reads ZCYX,
    tifffile's guess: a ZYX or TYX model took its C as 3 channels and refused them naming
    --channel, which keeps one plane of each 3; the same array saved plain (QQYX) is read
    as TZYX (tests/test_trained_axes.py). Refused naming --axes TZYX (given: read so) and ZCYX with --channel."""
    path = tmp_path / ("s.tif" if imagej else "s.ome.tif")
    tifffile.imwrite(path, _zeros((2, 3, H, W)), **({"imagej": True} if imagej else {}))
    assert _axes(path) == "ZCYX"
    for model in ("ZYX", "TYX"):
        with pytest.raises(ImageReadError) as caught:
            predict_file(_net(model), path, tmp_path / "o")
        assert str(caught.value) == (
            f"{path}: its axes ZCYX are tifffile's guess for an array saved without any, not "
            f"what they hold; the model was trained on {model}: give axes='TZYX' if they "
            "are all planes (time points of Z stacks), or axes='ZCYX' and channel= if its "
            "C holds channels"
        )
        assert first_line(caught.value, cli=True).endswith(
            "give --axes TZYX if they are all planes (time points of Z stacks), or --axes ZCYX "
            "and --channel if its C holds channels"
        )
    given = predict_file(_net("ZYX"), path, tmp_path / "g", axes="TZYX")
    with tifffile.TiffFile(given[-1]) as tif:
        assert tif.series[0].axes == "TZYX" and tif.series[0].shape == (2, 3, H, W)
    assert predict_file(_net("ZYX"), path, tmp_path / "c", axes="ZCYX", channel=1)
    assert trained_file_axes(path, "CYX", channels=3) is None  # a C model: its channels
    tifffile.imwrite(path, _zeros((3, H, W)), **({"imagej": True} if imagej else {}))
    with pytest.raises(ImageReadError, match=r"trained on YX: give axes='ZYX' if they are all "):
        trained_file_axes(path, "YX")  # CYX guessed, for a model of planes


def test_the_channelless_line_names_axes_that_q_pages_take(tmp_path):
    """A (2, 3, Y, X) array saved plain (QQYX: pages of no known meaning) for a 3-channel
    CYX model: the refusal named --axes CQYX and QQYX, which --axes refuses (Q twice)."""
    from unetlab.data.io import axes_problem

    tifffile.imwrite(tmp_path / "q.tif", _zeros((3, 2, H, W)), photometric="minisblack")
    assert _axes(tmp_path / "q.tif") == "QQYX"
    with pytest.raises(ImageReadError) as caught:
        predict_file(_net("CYX", 3), tmp_path / "q.tif", tmp_path / "o")
    assert "give --axes CZYX if its first axis holds them or --axes TZYX to repeat" in first_line(
        caught.value, cli=True
    )
    for axes in ("CZYX", "TZYX"):
        assert axes_problem(axes) is None
        assert predict_file(_net("CYX", 3), tmp_path / "q.tif", tmp_path / axes, axes=axes)


@pytest.mark.parametrize(
    ("shape", "axes", "fixes"),
    [
        ((3, 2, H, W), "CYX", ("first", "CZYX", "TZYX")),  # tifffile's plain save: QQYX
        ((2, 3, H, W), "CYX", ("second", "TCYX", "TZYX")),  # its second axis of 3
        ((3, H, W), "ZCYX", ("first", "CYX", "ZYX")),  # of 3 grey pages: QYX
        ((2, 2, 3, H, W), "CYX", ("third", "TZCYX", "TZQYX")),  # 5-D: QQQYX
    ],
)
def test_the_refusal_of_a_bare_stack_names_axes_that_can_be_given(tmp_path, shape, axes, fixes):
    """A stack saved without axes (pages of no known meaning: Q) given to a 3-channel model
    of other axes is refused naming --axes QQYX / QYX, which --axes refuses ('give each axis
    once'): the fixes name its pages as the planes they may be, and as C the axis of 3
    (its first was named whatever its size: CZYX of a (2, 3, ...) stack, 'has 2 channels')."""
    which, *fixes = fixes
    tifffile.imwrite(tmp_path / "b.tif", _zeros(shape), photometric="minisblack")
    with pytest.raises(ImageReadError) as caught:
        predict_file(_net(axes, 3), tmp_path / "b.tif", tmp_path / "o")
    line = first_line(caught.value, cli=True)
    assert f"give --axes {fixes[0]} if its {which} axis holds them or --axes {fixes[1]} to " in line
    named = re.findall(r"--axes (\w+)", line)
    assert named == list(fixes) and not [a for a in named if axes_problem(a)]
    for i, given in enumerate(named):  # each fix reads it
        assert predict_file(_net(axes, 3), tmp_path / "b.tif", tmp_path / f"g{i}", axes=given)


def test_a_6d_bare_stack_names_only_axes_that_can_be_given(tmp_path):
    """A 6-D stack saved without axes (QQQQYX) whose 4th axis holds 3 for a 3-channel model:
    the refusal was an IndexError (the ordinals stopped at 'third'); and its planes named
    TZQQYX, which --axes refuses (Q twice), are not offered to repeat its grey."""
    from unetlab.data.io import axes_problem

    tifffile.imwrite(tmp_path / "b.tif", _zeros((2, 2, 2, 3, H, W)), photometric="minisblack")
    with pytest.raises(ImageReadError) as caught:
        predict_file(_net("CYX", 3), tmp_path / "b.tif", tmp_path / "o")
    line = first_line(caught.value, cli=True)
    assert "give --axes TZQCYX if its 4th axis holds them, or convert it to 3 channels" in line
    named = re.findall(r"--axes (\w+)", line)
    assert named == ["TZQCYX"] and axes_problem("TZQCYX") is None
    assert predict_file(_net("CYX", 3), tmp_path / "b.tif", tmp_path / "g", axes="TZQCYX")


def test_a_bare_grey_tiff_is_repeated_for_a_yxc_model_as_a_grey_png_is(tmp_path, capsys, caplog):
    """A 3-channel YXC model repeated a grey PNG into its channels with a warning but refused
    a 2-D grey TIFF that states no axes ('the file's axes are YX, no channels'): neither file
    says more than a grey plane. Predict and evaluate (API and CLI) now repeat both alike; a
    TIFF that states other axes (TZYX) stays refused."""
    _grey_pair(tmp_path / "d", "g.tif", (H, W))
    image = tmp_path / "d" / "images" / "g.tif"
    repeated = "grey image given to a 3-channel model; its channel is repeated"
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert predict_file(_net("YXC", 3), image, tmp_path / "o")
        assert len(evaluate_model(_net("YXC", 3), tmp_path / "d").images) == 1
    assert caplog.text.count(repeated) == 2
    checkpoint = save_model(
        tmp_path / "m.pt", _net(None, 3), train_config={"data": {"axes": "YXC"}}
    )
    run = ["--checkpoint", str(checkpoint), "--no-progress"]
    assert main(["predict", *run, "--input", str(image), "--output", str(tmp_path / "p")]) == 0
    assert main(["evaluate", *run, "--data", str(tmp_path / "d")]) == 0
    _grey_pair(tmp_path / "s", "g.ome.tif", (2, 3, H, W), {"axes": "TZYX"})
    with pytest.raises(ImageReadError, match="axes are TZYX, no channels; .* YXC, 3 channels"):
        predict_file(_net("YXC", 3), tmp_path / "s" / "images" / "g.ome.tif", tmp_path / "t")


@pytest.mark.parametrize("how", ["axes", "imagej", "ome"])
def test_a_grey_tiff_stating_yx_is_repeated_for_a_yxc_model_as_a_bare_one_is(
    tmp_path, capsys, caplog, how
):
    """A 2-D grey TIFF stating its axes as YX (tifffile's metadata, ImageJ, OME) was refused
    for a 3-channel YXC model ('the file's axes are YX, no channels') while a bare one and a
    grey PNG were repeated into its channels with a warning: YX says a grey plane as well.
    Predict and evaluate (API and CLI) now repeat it alike."""
    root = tmp_path / "d"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    name = "g.ome.tif" if how == "ome" else "g.tif"
    image = _zeros((H, W))
    for sub, plane in (("images", image), ("masks", (image > 128).astype(np.uint8))):
        kwargs = {"imagej": True} if how == "imagej" else {}
        tifffile.imwrite(root / sub / name, plane, metadata={"axes": "YX"}, **kwargs)
    path = root / "images" / name
    assert _axes(path) == "YX"
    repeated = "grey image given to a 3-channel model; its channel is repeated"
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert predict_file(_net("YXC", 3), path, tmp_path / "o")
        assert len(evaluate_model(_net("YXC", 3), root).images) == 1
    assert caplog.text.count(repeated) == 2
    checkpoint = save_model(
        tmp_path / "m.pt", _net(None, 3), train_config={"data": {"axes": "YXC"}}
    )
    run = ["--checkpoint", str(checkpoint), "--no-progress"]
    assert main(["predict", *run, "--input", str(path), "--output", str(tmp_path / "p")]) == 0
    assert main(["evaluate", *run, "--data", str(root)]) == 0


@pytest.mark.parametrize("name", ["g.png", "g.jpg"])
def test_a_grey_picture_is_refused_for_a_cyx_model_as_a_grey_tiff_plane_is(
    tmp_path, capsys, caplog, name
):
    """A 3-channel CYX model (its channels stains, not colours) refused a grey TIFF plane but
    repeated a grey PNG into its channels with a warning ('a page of a (C, H, W) TIFF?'):
    the picture is now refused as the plane is, by predict and evaluate (API and CLI), in
    one line naming the model's axes and channels; a YXC model still repeats it, and an RGB
    picture is still read by the CYX model."""
    import imageio.v3 as iio

    root = tmp_path / "d"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    image = _zeros((H, W))
    iio.imwrite(root / "images" / name, image)
    iio.imwrite(root / "masks" / "g.png", (image > 128).astype(np.uint8))
    path = root / "images" / name
    said = "a grey image (one channel); the model was trained on CYX, 3 channels"
    with pytest.raises(ImageReadError, match=re.escape(said)):
        predict_file(_net("CYX", 3), path, tmp_path / "o")
    with pytest.raises(UnetlabError, match=re.escape(said)):
        evaluate_model(_net("CYX", 3), root)
    checkpoint = save_model(
        tmp_path / "m.pt", _net(None, 3), train_config={"data": {"axes": "CYX"}}
    )
    run = ["--checkpoint", str(checkpoint), "--no-progress"]
    capsys.readouterr()
    assert main(["predict", *run, "--input", str(path), "--output", str(tmp_path / "p")]) != 0
    assert main(["evaluate", *run, "--data", str(root)]) == 2
    assert capsys.readouterr().err.count(said) == 2
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        assert predict_file(_net("YXC", 3), path, tmp_path / "y")
    assert "its channel is repeated" in caplog.text
    iio.imwrite(tmp_path / "rgb.png", _zeros((H, W, 3)))
    assert predict_file(_net("CYX", 3), tmp_path / "rgb.png", tmp_path / "c")
