"""Bad input, s54 badinput4: one clear line, the same rule for every entry point."""

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.inference.every_file import absent_channel
from unetlab.inference.folders import predict_folder
from unetlab.inference.predict import PredictOptions
from unetlab.inference.tree import predict_tree
from unetlab.models import UNet


def _png(path: Path, shape: tuple[int, ...]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros(shape, np.uint8)).save(path)
    return path


def _net() -> UNet:
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, base_channels=4, padding="same")


def most_channels(path: Path) -> int | None:
    """The most channels predict's check up front (:func:`absent_channel`) counts ``path``
    to have: the first channel it refuses; None where it refuses none (the header cannot
    say: the file's own line will)."""
    return next((c for c in range(9) if absent_channel([path], c) is not None), None)


def test_most_channels_is_an_upper_bound_read_from_the_header(tmp_path):
    assert most_channels(_png(tmp_path / "grey.png", (16, 16))) == 1
    assert most_channels(_png(tmp_path / "rgb.png", (16, 16, 3))) == 3
    assert most_channels(_png(tmp_path / "rgba.png", (16, 16, 4))) == 3  # alpha dropped
    pages = tmp_path / "pages.tif"  # pages may be read as a multi-channel model's channels
    tifffile.imwrite(pages, np.zeros((4, 16, 16), np.uint8), photometric="minisblack")
    assert most_channels(pages) == 4
    palette = tmp_path / "palette.tif"  # one sample a pixel, read as its indices (review C)
    colours = np.zeros((3, 256), np.uint16)
    tifffile.imwrite(palette, np.zeros((16, 16), np.uint8), photometric="palette", colormap=colours)
    assert most_channels(palette) == 1
    (tmp_path / "junk.png").write_bytes(b"not a png")
    assert most_channels(tmp_path / "junk.png") is None  # its own line says
    assert most_channels(tmp_path / "gone.png") is None


def test_a_channel_no_colour_input_has_is_refused_before_any_file(tmp_path, capsys):
    # s54 badinput4: --channel 5 on colour inputs failed each file (exit 3)
    from unetlab.checkpoint import save_model

    save_model(tmp_path / "m.pt", _net())
    inputs = [str(_png(tmp_path / "in" / f"{n}.png", (16, 16, 3))) for n in "ab"]
    args = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--no-progress"]
    out = tmp_path / "out"
    assert main([*args, "--input", *inputs, "--output", str(out), "--channel", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "--channel 5 is out of range: all 2 inputs" in err, err
    assert "have 3 channels (valid: --channel 0 to 2)" in err, err
    assert not out.exists()
    # one input of 3 channels beside a grey one: the colour one predicted, the grey named
    grey = str(_png(tmp_path / "in" / "g.png", (16, 16)))
    assert main([*args, "--input", inputs[0], grey, "--output", str(out), "--channel", "2"]) == 3
    err = capsys.readouterr().err
    assert "failed: " in err and "g.png" in err and (out / "a.png").exists(), err


def test_predict_folder_takes_the_same_channel_rule_in_python_words(tmp_path):
    # s54 badinput4: predict_folder had no up-front channel rule (each file failed)
    folder = tmp_path / "in"
    for name in "ab":
        _png(folder / f"{name}.png", (16, 16, 3))
    with pytest.raises(UnetlabError, match=r"^channel=3 is out of range: all 2 inputs") as got:
        predict_folder(_net(), folder, tmp_path / "out", channel=3, progress=False)
    assert "--channel" not in str(got.value) and "channel=0 to 2" in str(got.value)
    with pytest.raises(UnetlabError, match=r"channel=4 is out of range"):  # in options too
        options = PredictOptions(channel=4)
        predict_folder(_net(), folder, tmp_path / "out", options=options, progress=False)
    assert not (tmp_path / "out").exists()


def test_predict_tree_refuses_a_channel_no_input_has_and_fails_a_folder_alone(tmp_path):
    # s54 badinput4: predict --recursive and predict_tree failed each file of every folder
    root = tmp_path / "tree"
    _png(root / "grey" / "g.png", (16, 16))
    _png(root / "grey" / "deeper" / "h.png", (16, 16))
    with pytest.raises(UnetlabError, match=r"channel=1 is out of range: all 2 inputs"):
        predict_tree(_net(), root, tmp_path / "out", channel=1, progress=False)
    assert not (tmp_path / "out").exists()
    # a colour folder has channel 1: it is predicted, each grey folder failed in one line
    _png(root / "colour" / "c.png", (16, 16, 3))
    lines = []
    results = predict_tree(
        _net(), root, tmp_path / "out", channel=1, progress=False, failed=lines.append
    )
    assert results[Path("colour")].written and not results[Path("colour")].failed
    assert len(lines) == 2 and all("channel=1 is out of range: the input" in ln for ln in lines)
    assert not (tmp_path / "out" / "grey").exists()


@pytest.mark.usefixtures("settled_inputs")  # its PNGs just written: counted reads (s65)
def test_predict_tree_reads_each_inputs_channels_once(tmp_path, monkeypatch):
    # the tree's check, its folder's and predict_folder's each read the headers again
    from collections import Counter

    from unetlab.inference import every_file

    root = tmp_path / "tree"
    for name in ("grey/g.png", "grey/deeper/h.png", "colour/c.png", "colour/d.png"):
        _png(root / name, (16, 16) if name.startswith("grey") else (16, 16, 3))
    read, bound = Counter(), every_file._other_bound  # a picture's read (s59: the bound's)
    monkeypatch.setattr(every_file, "_other_bound", lambda p: read.update([p]) or bound(p))
    results = predict_tree(_net(), root, tmp_path / "out", channel=1, progress=False)
    assert results[Path("colour")].written and results[Path("grey")].failed
    assert read and max(read.values()) == 1, read


def test_absent_channel_gives_both_spellings(tmp_path):
    grey = _png(tmp_path / "g.png", (16, 16))
    said = absent_channel([grey], 2)
    assert said["message"].startswith("channel=2 is out of range: the input")
    assert said["message"].endswith("leave channel= out for images of one channel")
    assert said["cli"].endswith("leave --channel out for images of one channel")
    assert absent_channel([grey], 0) is None and absent_channel([grey], "DAPI") is None


def test_a_bound_of_pages_times_channels_gives_no_valid_range(tmp_path):
    """6 pages that record no axes may be read as 6 channels at most, not 'valid:
    --channel 0 to 5' (review s54 C6); one page of 3 channels has exactly 3."""
    stack = tmp_path / "z.tif"
    planes = np.zeros((3, 2, 16, 16), np.uint8)
    tifffile.imwrite(stack, planes, metadata=None)  # 6 pages, no axes
    said = absent_channel([stack], 6)["cli"]
    assert "has at most 6 channels (its pages counted as channels)" in said
    assert "valid" not in said and said.endswith("give the index of a channel it has")
    rgb = absent_channel([_png(tmp_path / "c.png", (16, 16, 3))], 3)["cli"]
    assert "has 3 channels (valid: --channel 0 to 2)" in rgb


def test_a_channel_axis_the_header_states_is_counted_exactly(tmp_path):
    """An ImageJ ZCYX file of 3 planes of 2 channels was told 'has at most 6 channels (its
    pages counted as channels)' for --channel 6, and --channel 2 to 5 passed to fail file
    by file: its header states 2 channels (ImageJ's channels=2), as predict reads it. Given
    --axes, which may read it otherwise, its pages count again."""
    from unetlab.inference.every_file import refuse_for_every_file

    stack = tmp_path / "z.tif"
    tifffile.imwrite(
        stack, np.zeros((3, 2, 16, 16), np.uint8), imagej=True, metadata={"axes": "ZCYX"}
    )
    assert most_channels(stack) == 2
    for channel in (2, 6):
        said = absent_channel([stack], channel)
        assert said["cli"] == (
            f"--channel {channel} is out of range: the input, {stack}, has 2 channels (valid: "
            "--channel 0 to 1); give one of those"
        ), said["cli"]
        assert said["message"].startswith(f"channel={channel} is out of range")
    assert absent_channel([stack], 1) is None
    assert absent_channel([stack], 2, axes="CZYX") is None  # 6 at most then
    with pytest.raises(UnetlabError, match="has 2 channels"):
        refuse_for_every_file(tmp_path, [stack], {"channel": 2})
    refuse_for_every_file(tmp_path, [stack], {"channel": 2, "axes": "CZYX"})


def test_an_ome_zarr_s_channel_axis_is_counted_exactly(tmp_path):
    """An OME-Zarr of 2 channels of 3 planes (axes c, z, y, x) was said to have 'at most 6
    channels' too; a bare Zarr array of 6 planes may still be read as 6 at most."""
    import zarr

    group = zarr.open_group(tmp_path / "cz.ome.zarr", mode="w", zarr_format=2)
    group.create_array("0", shape=(2, 3, 16, 16), dtype="uint8", chunks=(2, 3, 16, 16))[:] = 5
    axes = [{"name": a, "type": "channel" if a == "c" else "space"} for a in "czyx"]
    scale = [{"type": "scale", "scale": [1, 1, 1, 1]}]
    datasets = [{"path": "0", "coordinateTransformations": scale}]
    group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": datasets}]
    said = absent_channel([tmp_path / "cz.ome.zarr"], 2)["cli"]
    assert "has 2 channels (valid: --channel 0 to 1)" in said, said
    bare = zarr.open_array(tmp_path / "b.zarr", mode="w", shape=(6, 16, 16), dtype="uint8")
    bare[:] = 5
    assert "has at most 6 channels" in absent_channel([tmp_path / "b.zarr"], 6)["cli"]


def _zarr(path: Path, version: int, attrs: dict) -> Path:
    """An OME-Zarr group of two levels of (2, 16, 16) / (2, 8, 8) with ``attrs``."""
    import zarr

    group = zarr.open_group(path, mode="w", zarr_format=version)
    group.create_array("0", shape=(2, 16, 16), dtype="uint8", chunks=(1, 16, 16))[:] = 7
    group.create_array("1", shape=(2, 8, 8), dtype="uint8", chunks=(1, 8, 8))[:] = 7
    group.attrs.update(attrs)
    return path


def _ngff(**changes) -> dict:
    """Good NGFF 0.4 attributes (c, y, x in µm, two levels, two named channels), with the
    first ``multiscales`` entry's keys in ``changes`` replaced (None: removed)."""
    micro = {"type": "space", "unit": "micrometer"}
    scales = {
        "version": "0.4",
        "axes": [{"name": "c", "type": "channel"}, {"name": "y", **micro}, {"name": "x", **micro}],
        "datasets": [
            {"path": str(n), "coordinateTransformations": [{"type": "scale", "scale": [1, s, s]}]}
            for n, s in ((0, 0.5), (1, 1.0))
        ],
    }
    scales = {k: v for k, v in {**scales, **changes}.items() if v is not None}
    return {"multiscales": [scales], "omero": {"channels": [{"label": "A"}, {"label": "B"}]}}


#: damaged metadata (s54 badinput4: each gave a KeyError, TypeError, IndexError or
#: AttributeError traceback from the reader), and the words of its one line
DAMAGED = {
    "multiscales a number": ({"multiscales": 3}, "'multiscales' is not a list"),
    "multiscales of strings": ({"multiscales": ["x"]}, "'multiscales' is not a list"),
    "no datasets": (_ngff(datasets=None), "'datasets' is not a list"),
    "datasets a dict": (_ngff(datasets={"a": 1}), "'datasets' is not a list"),
    "a level without path": (_ngff(datasets=[{}]), "has no 'path'"),
    "a path not a string": (_ngff(datasets=[{"path": 0}]), "has no 'path'"),
    "axes a number": (_ngff(axes=3), "'axes' is not a list"),
    "an axis without name": (_ngff(axes=[{}, {"name": "y"}, {"name": "x"}]), "has no name"),
    "an empty axis name": (_ngff(axes=["", "y", "x"]), "has no name"),
    "too few axes": (_ngff(axes=["y", "x"]), "'axes' names 2 axes, its arrays have 3"),
    "an axis twice": (_ngff(axes=["y", "y", "x"]), "names an axis twice"),
    "no y and x": (_ngff(axes=["a", "b", "c"]), "have no y and x"),
    "transforms a number": (
        _ngff(datasets=[{"path": "0", "coordinateTransformations": 3}]),
        "'coordinateTransformations' of level 0 are not a list",
    ),
    "a transform without type": (
        _ngff(datasets=[{"path": "0", "coordinateTransformations": [{"scale": [1, 1, 1]}]}]),
        "without a 'type'",
    ),
    "a scale of words": (
        _ngff(datasets=[{"path": "0", "coordinateTransformations": [{"type": "scale"}]}]),
        "'scale' that is not a list of numbers",
    ),
}


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("case", list(DAMAGED))
def test_damaged_ome_zarr_metadata_is_one_read_error_naming_the_folder(tmp_path, case, version):
    from unetlab.data.slides import open_slide, zarr_channels
    from unetlab.errors import ImageReadError

    attrs, words = DAMAGED[case]
    path = _zarr(tmp_path / "x.ome.zarr", version, attrs)
    held = "zarr.json" if version == 3 else ".zattrs"
    for read in (open_slide, zarr_channels):
        with pytest.raises(ImageReadError) as got:
            read(path)
        line = str(got.value)
        assert line.startswith(f"{path}: damaged OME-Zarr metadata: ") and words in line, line
        assert f"(in its {held})" in line and "\n" not in line


def test_a_scale_given_by_path_is_not_supported_not_damaged(tmp_path):
    """NGFF 0.4 allows a scale given by 'path' (binary data in the container): valid
    metadata, called 'damaged ... not a list of numbers' (review s54 C7)."""
    from unetlab.data.slides import open_slide, zarr_channels
    from unetlab.errors import ImageReadError

    by_path = [{"type": "scale", "path": "s.bin"}]
    attrs = _ngff(datasets=[{"path": "0", "coordinateTransformations": by_path}])
    path = _zarr(tmp_path / "x.ome.zarr", 2, attrs)
    for read in (open_slide, zarr_channels):
        with pytest.raises(ImageReadError) as got:
            read(path)
        line = str(got.value)
        assert "damaged" not in line and "by 'path' (s.bin)" in line, line
        assert "unetlab does not read" in line and line.endswith("in its .zattrs")


def test_good_and_odd_ome_zarr_metadata_still_read(tmp_path):
    from unetlab.data.slides import open_slide, zarr_channels

    for version in (2, 3):
        path = _zarr(tmp_path / f"v{version}.ome.zarr", version, _ngff())
        with open_slide(path) as slide:
            assert slide.shape == (1, 16, 16, 2) and slide.pixel_size == (0.5, 0.5)
        assert zarr_channels(path) == (2, ["A", "B"])
        # damaged channel names, a damaged 'ome' wrapper: no names, no traceback
        odd = {**_ngff(), "omero": {"channels": 3}, "ome": [1]}
        assert zarr_channels(_zarr(tmp_path / f"o{version}.zarr", version, odd)) == (2, [])


def test_predict_names_a_damaged_ome_zarr_in_one_failed_line(tmp_path, capsys):
    from unetlab.checkpoint import save_model

    save_model(tmp_path / "m.pt", _net())
    bad = _zarr(tmp_path / "bad.ome.zarr", 2, _ngff(datasets=[{"path": 0}]))
    _png(tmp_path / "ok.png", (16, 16))
    args = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--no-progress"]
    inputs = ["--input", str(bad), str(tmp_path / "ok.png"), "--output", str(tmp_path / "out")]
    assert main([*args, *inputs]) == 3
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if "failed:" in line]
    assert len(failed) == 1 and "damaged OME-Zarr metadata" in failed[0], err
    assert "Traceback" not in err and (tmp_path / "out" / "ok.png").exists()


def test_fuzzed_ome_zarr_metadata_is_read_or_refused_in_one_line(tmp_path):
    """Any JSON in place of a part of the metadata: read, or one UnetlabError naming the
    folder; never another exception (a traceback)."""
    pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from unetlab.data.slides import open_slide, zarr_channels

    leaf = st.none() | st.booleans() | st.integers(-2, 3) | st.sampled_from(["", "0", "y", "c"])
    junk = st.recursive(
        leaf, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(leaf, kids, max_size=2)
    )
    junk = junk.map(lambda j: json.loads(json.dumps(j, default=str)))  # keys as JSON has them
    parts = ["multiscales", "datasets", "axes", "transforms", "scale", "path", "name", "omero"]

    path = _zarr(tmp_path / "f.zarr", 2, {})  # its .zattrs rewritten by each example

    @settings(max_examples=25, deadline=None, database=None)
    @given(part=st.sampled_from(parts), value=junk)
    def read(part, value):
        attrs = _ngff()
        scales, level = attrs["multiscales"][0], attrs["multiscales"][0]["datasets"][0]
        spot = {
            "multiscales": (attrs, "multiscales"),
            "datasets": (scales, "datasets"),
            "axes": (scales, "axes"),
            "transforms": (level, "coordinateTransformations"),
            "scale": (level["coordinateTransformations"][0], "scale"),
            "path": (level, "path"),
            "name": (scales["axes"][1], "name"),
            "omero": (attrs, "omero"),
        }
        held, key = spot[part]
        held[key] = value
        (path / ".zattrs").write_text(json.dumps(attrs))
        for look in (lambda: open_slide(path).close(), lambda: zarr_channels(path)):
            try:
                look()
            except UnetlabError as exc:
                assert str(exc).startswith(str(path)) and "\n" not in str(exc), exc

    read()


def test_lower_bounds_say_at_least_in_the_callers_words(tmp_path, capsys):
    # s54 badinput4: '--level must be >= 0' (to Python callers too) beside '--batch-size
    # must be at least 1'; one wording, the Python keyword for a Python caller
    from unetlab.data.slides import open_slide

    path = _zarr(tmp_path / "x.ome.zarr", 2, _ngff())
    with pytest.raises(UnetlabError, match=r"^level must be at least 0, not -1$") as got:
        open_slide(path, level=-1)
    assert got.value.cli == "--level must be at least 0, not -1"
    for flags, line in (
        (["--level", "-1"], "--level must be at least 0, not -1"),
        (["--nproc", "0"], "--nproc must be at least 1, not 0"),
        (["--instances", "--min-area", "-1"], "--min-area must be at least 0 px, not -1"),
    ):
        args = ["predict", "--checkpoint", str(tmp_path / "none.pt"), "--input", str(path)]
        assert main([*args, "--output", str(tmp_path / "o"), *flags]) == 2
        assert capsys.readouterr().err.strip() == f"unetlab predict: error: {line}"


def test_the_napari_reader_names_a_damaged_output_zarr_in_one_line(tmp_path):
    # s54 badinput4: zarr_pixels indexed the metadata as it is written (KeyError, TypeError)
    from unetlab.data.slides import open_slide
    from unetlab.errors import ImageReadError
    from unetlab.napari.reader import zarr_pixels

    path = _zarr(tmp_path / "a.ome.zarr", 2, _ngff())
    levels, letters, scale = zarr_pixels(path)
    assert letters == "CYX" and scale == [1.0, 0.5, 0.5] and len(levels) == 2
    for attrs, words in [DAMAGED["a level without path"], DAMAGED["too few axes"]]:
        (path / ".zattrs").write_text(json.dumps(attrs))
        with pytest.raises(ImageReadError, match=r"damaged OME-Zarr metadata") as got:
            zarr_pixels(path)
        assert str(got.value).startswith(str(path)) and words in str(got.value)
        with pytest.raises(ImageReadError):  # as the slide reader says it
            open_slide(path)


@pytest.mark.parametrize("version", [2, 3])
def test_a_level_a_zarr_store_does_not_hold_is_named_with_what_it_holds(tmp_path, capsys, version):
    """A level or series given inside a Zarr store that it does not hold (``a.ome.zarr/7``,
    with the store as ``root=`` too) said "no such file or folder" alone (s59): the line
    names the store and what it holds there, in one line, from predict and predict_folder."""
    store = _zarr(tmp_path / "a.ome.zarr", version, _ngff())
    out = str(tmp_path / "o")
    for given, said in (
        ("7", f"(the Zarr group {store} holds no 7, only 0, 1: give one of those)"),
        ("0/x", f"(the Zarr array {store / '0'} holds no group or array x: give the array)"),
    ):
        with pytest.raises(UnetlabError) as refused:
            predict_folder(_net(), [store / given], out, root=store, progress=False)
        line = str(refused.value)
        assert line == f"{store / given}: no such file or folder {said}", line
    from unetlab.checkpoint import save_model

    save_model(tmp_path / "m.pt", _net())
    args = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--output", out]
    assert main([*args, "--input", str(store / "7")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.endswith(
        f"no such file or folder (the Zarr group {store} holds no 7, only 0, 1: give one of those)"
    ), line
