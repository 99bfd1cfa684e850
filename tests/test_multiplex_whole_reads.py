"""A multiplexed OME-TIFF read whole (s71: not streamed; a 2,048² one of 24 channels decoded
all 24 for a net of DAPI alone, 1.0 GB peak): predict, and training's reader, decode only the
pages of the channels asked for; every channel where they are all needed (``--instances``
measures each, nodata is equal in every band), with the same outputs as before."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tifffile

from tests.test_multiplex_slides import NAMES, _multiplex, _pixels
from unetlab.data import io
from unetlab.data.nodata import InvalidPages
from unetlab.data.pairs import Pair, PairReader
from unetlab.errors import UnetlabError
from unetlab.inference import chosen
from unetlab.inference.files import predict_file
from unetlab.models import UNet


@pytest.fixture
def model() -> UNet:
    return UNet(1, 2, depth=2, base_channels=2, padding="same").eval()


def _spy_pages(monkeypatch) -> list[int]:
    """The pages of a TIFF decoded, as they are (tifffile's page reads, each file's)."""
    decoded, read = [], tifffile.TiffPage.asarray

    def spy(self, *args, **kwargs):
        decoded.append(self.index)
        return read(self, *args, **kwargs)

    monkeypatch.setattr(tifffile.TiffPage, "asarray", spy)
    return decoded


def _labels(made: list) -> np.ndarray:
    return tifffile.imread(next(p for p in made if "overlay" not in p.name))


@pytest.mark.parametrize("channel", ["CD3", 3, (4, 1)])
def test_a_channel_of_a_file_read_whole_is_decoded_alone(tmp_path, monkeypatch, channel):
    bands = channel if isinstance(channel, tuple) else (3,)
    model = UNet(len(bands), 2, depth=2, base_channels=2, padding="same").eval()
    image = _pixels(len(NAMES), 64, 80)
    path = _multiplex(tmp_path / "m.ome.tif", image=image)
    names = [NAMES[c] for c in bands]
    alone = _multiplex(tmp_path / "a.ome.tif", len(bands), image=image[list(bands)], names=names)
    decoded = _spy_pages(monkeypatch)
    with chosen.noting() as notes:
        made = predict_file(model, path, tmp_path / "a", channel=channel, draw_overlay=True)
    assert sorted(decoded) == sorted(bands), decoded
    assert notes[os.path.realpath(path)]["shape"] == [[1, 64, 80, 6]]  # the file's, as read
    kw = dict(channel=None if len(bands) == 1 else (0, 1), draw_overlay=True)
    theirs = predict_file(model, alone, tmp_path / "b", **kw)
    assert np.array_equal(_labels(made), _labels(theirs))


def test_the_models_channel_by_name_is_decoded_alone_in_each_file(tmp_path, model, monkeypatch):
    """Trained on DAPI by name: a file of another channel order decodes its own DAPI page."""
    model.channel, model.channel_names = 0, ["DAPI"]
    names = [NAMES[i] for i in (2, 1, 0, 3)]  # DAPI is channel 2 here
    path = _multiplex(tmp_path / "m.ome.tif", 4, names=names)
    decoded = _spy_pages(monkeypatch)
    predict_file(model, path, tmp_path / "a")
    assert decoded == [2]


def test_a_stack_of_time_points_decodes_the_channels_pages_of_each(tmp_path):
    """TCYX: channel 2 of each of 3 time points, the pages 2, 8 and 14 of 18."""
    image = _pixels(3, 6, 32, 40)
    path = tmp_path / "t.ome.tif"
    tifffile.imwrite(path, image, ome=True, metadata={"axes": "TCYX"}, photometric="minisblack")
    assert io.channel_pages(path) == 6
    assert np.array_equal(io.read_stack(path, channels=(2,)), image[:, 2])
    assert np.array_equal(
        io.read_stack(path, channels=(5, 0)), np.moveaxis(image[:, [5, 0]], 1, -1)
    )


@pytest.mark.parametrize("planes", [False, True])
def test_channels_in_each_pixel_are_no_pages(tmp_path, planes):
    """Interleaved samples, or planes of one page (PlanarConfiguration 2), decode together."""
    path = _multiplex(tmp_path / "m.ome.tif", planar=False)
    if planes:  # its axes CYX, but one page
        kw = dict(metadata={"axes": "CYX"}, photometric="rgb", planarconfig="separate")
        tifffile.imwrite(path, _pixels(3, 16, 16), **kw)
    assert io.channel_pages(path) == 0
    with pytest.raises(UnetlabError, match="stores no channels as pages of their own"):
        io.read_stack(path, channels=(0,))


@pytest.mark.parametrize("channels", [(7,), (-1,), (0, 4)])
def test_channels_a_file_lacks_are_refused_in_one_line(tmp_path, channels):
    """s71 review: channels=(7,) of 4 was refused as a corrupt file ("is it a complete PNG,
    JPEG or TIFF file?"), (-1,) read the last channel unsaid; an RGB TIFF's too."""
    path = _multiplex(tmp_path / "m.ome.tif", 4)
    with pytest.raises(UnetlabError) as got:
        io.read_stack(path, channels=channels)
    said = str(got.value)
    assert said.startswith(f"{path}: no channel {channels[-1]} of its 4 channels"), said
    assert "give channels= of 0 to 3" in said and "\n" not in said and "complete" not in said
    rgb = tmp_path / "rgb.tif"
    tifffile.imwrite(rgb, _pixels(8, 8, 3).astype(np.uint8), photometric="rgb")
    with pytest.raises(UnetlabError, match="stores no channels as pages") as got:
        io.read_stack(rgb, channels=(0,))
    assert "complete" not in str(got.value) and "leave channels= out" in str(got.value)


def test_instances_decode_every_channel_to_measure_it(tmp_path, monkeypatch):
    """Pins: --instances measures each channel's intensities, so all are decoded."""
    model = UNet(1, 3, depth=2, base_channels=2, padding="same").eval()
    model.classes, model.label_values = ["background", "boundary", "interior"], None
    path = _multiplex(tmp_path / "m.ome.tif")
    decoded = _spy_pages(monkeypatch)
    predict_file(model, path, tmp_path / "a", channel="DAPI", objects=True)
    assert sorted(set(decoded)) == list(range(len(NAMES)))


def test_nodata_decodes_every_band_and_finds_it_exactly(tmp_path, model, monkeypatch):
    """Pins: nodata is equal in every band, so a file read whole with nodata=0 decodes all."""
    image = _pixels(3, 64, 80, seed=2) + 1
    image[:, :4, :4] = 0  # no sample
    image[0, 20:40, 20:40] = 0  # channel 0 alone: samples
    path = _multiplex(tmp_path / "m.ome.tif", 3, image=image)
    decoded = _spy_pages(monkeypatch)
    predict_file(model, path, tmp_path / "a", channel=0, nodata=0)
    assert sorted(set(decoded)) == [0, 1, 2]


def test_training_reads_the_channel_alone(tmp_path, monkeypatch):
    """s71: training on data.channel DAPI decoded all 24 channels of each image (3 of
    1,024²: 10.6 s CPU and 1.29-1.45 GB peak, 10.2 s and 1.26 GB, a grey set's, now)."""
    image = _pixels(len(NAMES), 64, 80)
    path = _multiplex(tmp_path / "m.ome.tif", image=image)
    tifffile.imwrite(tmp_path / "m_mask.tif", np.zeros((64, 80), np.uint8))
    pair = Pair(path, tmp_path / "m_mask.tif")
    decoded = _spy_pages(monkeypatch)
    read = PairReader("CD45")
    got, _ = read(pair)
    assert InvalidPages(read)(pair) is None
    assert decoded == [1]
    assert np.array_equal(got, image[1])
    both, _ = PairReader([4, 1])(pair)
    assert np.array_equal(both, np.moveaxis(image[[4, 1]], 0, -1))
    assert decoded == [1, 4, 1]


def test_a_name_in_a_file_of_no_names_says_how_to_name_them(tmp_path, model, capsys):
    """s71: the line said to give an index, not how a file comes to name its channels."""
    from unetlab.checkpoint import save_model
    from unetlab.cli import main

    path = tmp_path / "m.tif"
    tifffile.imwrite(path, _pixels(3, 32, 32), metadata={"axes": "CYX"}, photometric="minisblack")
    argv = ["predict", "--checkpoint", str(save_model(tmp_path / "m.pt", model))]
    assert main([*argv, "--input", str(path), "--output", str(tmp_path / "a"), "--channel", "DAPI"])
    err = capsys.readouterr().err
    said = f"{path}: records no channel names, so no channel 'DAPI': give its index (--channel 0"
    assert said in err
    assert "Bio-Formats" in err and "'Channel': {'Name': ['DAPI', ...]}" in err, err
    assert "imwrite('named.ome.tif', pixels" in err and "'ZCYX'" in err  # a copy; any axes


def test_a_truncated_hyperstack_is_read_whole_for_its_channel(tmp_path, model):
    """A truncated ImageJ hyperstack (tifffile's truncate=True, ImageJ's files over 4 GB) holds
    its planes in one page: read whole and the channel taken, as before s71 (the channels'
    own pages had raised 'cannot reshape array of size 1', rc 3, s71 review)."""
    image = _pixels(6, 48, 56).reshape(3, 2, 48, 56)  # ZCYX
    path = tmp_path / "ij_trunc.tif"
    tifffile.imwrite(path, image, imagej=True, truncate=True, metadata={"axes": "ZCYX"})
    assert io.channel_pages(path) == 0
    made = predict_file(model, path, tmp_path / "a", channel=1)
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, image, imagej=True, metadata={"axes": "ZCYX"})
    theirs = predict_file(model, plain, tmp_path / "b", channel=1)
    assert np.array_equal(_labels(made), _labels(theirs))


def _dapi_holed(tmp_path):
    """A 6-channel OME-TIFF, its DAPI alone 0 in a 20 x 20 square (samples), every band 0 in
    the 4 x 4 corner (nodata=0's no sample), beside a mask of 1 in that corner alone."""
    image = _pixels(len(NAMES), 64, 80, seed=3) + 1
    image[:, :4, :4] = 0
    image[0, 20:40, 20:40] = 0
    path = _multiplex(tmp_path / "m.ome.tif", image=image)
    mask = np.zeros((64, 80), np.uint8)
    mask[:4, :4] = 1
    tifffile.imwrite(tmp_path / "m_mask.tif", mask)
    return Pair(path, tmp_path / "m_mask.tif"), image


def test_the_readers_nodata_finds_the_invalid_pixels(tmp_path):
    """s71 review: nodata was given twice, to PairReader and to InvalidPages, and a reader of
    DAPI alone with InvalidPages(read, 0) found 416 pixels, not 16: it is the reader's."""
    pair, _ = _dapi_holed(tmp_path)
    bad = InvalidPages(PairReader("DAPI", nodata=0))(pair)
    assert bad is not None and int(bad.sum()) == 16 and bad[:4, :4].all()


def test_training_on_dapi_with_nodata_leaves_out_the_corner_alone(tmp_path):
    """Pins (callers passed matching values): load, statistics and fingerprint of DAPI with
    nodata=0 leave out the 16 corner pixels, not DAPI's 400 zeros too."""
    from unetlab.data.datasets import IGNORE_INDEX, dataset_stats, load_samples
    from unetlab.data.fingerprint import fingerprint

    pair, image = _dapi_holed(tmp_path)
    kw = dict(channel="DAPI", nodata=0)
    (sample,) = load_samples([pair], label_values=[0, 1], normalization={"mode": "per_image"}, **kw)
    assert np.array_equal(sample.mask == IGNORE_INDEX, image.max(axis=0) == 0)
    kept = image[0][image.max(axis=0) > 0].astype(np.float64)
    (mean,), _ = dataset_stats([pair], **kw)
    assert mean == pytest.approx(kept.mean(), rel=1e-6)
    assert list(fingerprint([pair], target="semantic", **kw).class_fractions()) == [0]


def test_predict_and_training_read_alone_by_one_rule(tmp_path):
    """s71 review: file_fit.channels_alone and PairReader.held_channels each held the rule
    (pages, nodata, range, once each), one copy's range check dead: io.pages_alone holds it."""
    path = _multiplex(tmp_path / "m.ome.tif", 4)
    assert io.pages_alone(path, 3) == (3,) and io.pages_alone(path, [2, 0, 2]) == (2, 0)
    assert io.pages_alone(path, (9,)) is None and io.pages_alone(path, -1) is None
    assert io.pages_alone(path, 0, nodata=0) is None and io.pages_alone(path, 0, "none") == (0,)
    assert io.pages_alone(_multiplex(tmp_path / "i.ome.tif", 4, planar=False), 0) is None


@pytest.mark.parametrize("trained", [3, "CD3"])
def test_evaluate_decodes_the_models_channel_alone(tmp_path, monkeypatch, trained):
    """s72: ``evaluate --checkpoint --data`` of a multiplexed OME-TIFF set decoded every
    channel (its reader took none; the model's was picked after the read): it decodes the
    model's alone (trained by name: the file's own index), its report the same."""
    from unetlab.evaluate import evaluate_model

    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.channel, model.channel_names = 3, (["CD3"] if trained == "CD3" else None)
    image = _pixels(len(NAMES), 64, 80)
    names = [NAMES[i] for i in (1, 0, 2, 4, 3, 5)] if trained == "CD3" else NAMES  # CD3: 4
    for folder in ("images", "masks", "alone/images", "alone/masks"):
        (tmp_path / folder).mkdir(parents=True)
    _multiplex(tmp_path / "images" / "m.ome.tif", image=image, names=names)
    mask = (image[names.index("CD3")] > 2000).astype(np.uint8)
    tifffile.imwrite(tmp_path / "masks" / "m.ome.tif", mask)
    tifffile.imwrite(tmp_path / "alone" / "images" / "m.tif", image[names.index("CD3")])
    tifffile.imwrite(tmp_path / "alone" / "masks" / "m.tif", mask)
    decoded = _spy_pages(monkeypatch)
    report = evaluate_model(model, tmp_path, progress=False)
    assert decoded == [names.index("CD3")], decoded  # of the image's pages
    model.channel, model.channel_names = None, None
    assert report.summary == evaluate_model(model, tmp_path / "alone", progress=False).summary


NAMED = "the channel {} names '488' is index 1 (a number given is an index, not a name)"


@pytest.mark.parametrize("channel", [488, [0, 488]])
def test_a_wavelength_given_as_the_channel_is_refused_naming_its_index(tmp_path, channel):
    """s72: ``data.channel: 488`` (a laser line the file names a channel; digits are no
    name in the config, read as an index) was refused as "no channel 488" alone: the line
    says which channel is named 488 (review s72: a band list's too)."""
    path = _multiplex(tmp_path / "w.ome.tif", 4, names=["405", "488", "561", "640"])
    tifffile.imwrite(tmp_path / "w_mask.tif", np.zeros((64, 80), np.uint8))
    with pytest.raises(UnetlabError) as got:
        PairReader(channel)(Pair(path, tmp_path / "w_mask.tif"))
    some = "ones" if isinstance(channel, list) else "one"
    said = str(got.value)
    assert said == (
        f"{path}: has 4 channels (0 to 3), no channel 488: {NAMED.format('this file')}: "
        f"set data.channel to {some} it has (or None for all)"
    ), said


@pytest.mark.parametrize(
    "command, channel, said",
    [
        ("predict", ["488"], "; " + NAMED.format("it")),
        ("predict", ["0", "488"], "; " + NAMED.format("it")),
        ("evaluate", ["488"], ": " + NAMED.format("this file") + ": give --channel"),
        ("evaluate", ["0", "488"], ": " + NAMED.format("this file") + ": give --channel bands"),
    ],
)
def test_a_wavelength_given_as_channel_on_the_command_line_is_said_by_its_index(
    tmp_path, capsys, command, channel, said
):
    """Review s72: ``predict --channel 488`` (and ``0 488``) and ``evaluate --channel 488`` of
    a file naming its channels 405/488/561/640 said "out of range" or "no channel 488"
    alone: each says the index of the channel it names 488, as data.channel's line does
    (s73: evaluate's band list ``0 488`` too)."""
    from unetlab import save_model
    from unetlab.cli import main

    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
    path = _multiplex(tmp_path / "images" / "w.ome.tif", 4, names=["405", "488", "561", "640"])
    tifffile.imwrite(tmp_path / "masks" / "w.ome.tif", np.zeros((64, 80), np.uint8))
    net = UNet(len(channel), 2, depth=2, base_channels=2, padding="same").eval()
    save_model(tmp_path / "m.pt", net)
    where = ["--input", str(path), "--output", str(tmp_path / "out")]
    where = where if command == "predict" else ["--data", str(tmp_path)]
    args = [command, "--checkpoint", str(tmp_path / "m.pt"), *where, "--channel", *channel]
    assert main(args) != 0
    error = capsys.readouterr().err.splitlines()[-1]
    assert said in error and error.startswith(f"unetlab {command}: error: "), error


@pytest.mark.parametrize("channel", [488, [0, 488]])
def test_a_wavelength_given_for_several_inputs_is_said_once_for_each_layout(
    tmp_path, monkeypatch, settled_inputs, channel
):
    """s73: predict's line gave the index of the channel named 488 for one input alone: of
    several, it says it once for each way they name their channels, their names read with
    their headers (each opened once, s73 review: as predict checks them, the model's
    channels known, the first input's header read for its count before)."""
    from tests.test_channels_opens import _counted
    from unetlab.errors import UnetlabError
    from unetlab.inference.every_file import Takes, absent_channel, refuse_for_every_file

    laser = ["405", "488", "561", "640"]
    paths = [
        _multiplex(tmp_path / f"{name}.ome.tif", len(names), names=names)
        for name, names in (("a", laser), ("b", laser), ("c", ["488", "405", "561"]))
    ]
    opened = _counted(monkeypatch)
    takes = Takes(len(channel) if isinstance(channel, list) else 1)
    with pytest.raises(UnetlabError) as caught:
        refuse_for_every_file(tmp_path, paths, {"channel": channel}, takes=takes)
    assert sorted(opened) == sorted(map(str, paths)), opened
    said = str(caught.value)
    assert said.endswith(
        f"; the channel each of 2 inputs ({paths[0]}, ...) names '488' is index 1; the channel "
        f"{paths[2]} names '488' is index 0 (a number given is an index, not a name)"
    ), said
    assert absent_channel(paths[:2], channel)["message"].endswith(
        "; the channel each names '488' is index 1 (a number given is an index, not a name)"
    )


def test_a_wavelength_named_at_many_indices_is_said_for_two_ways_and_counted_for_the_rest(
    tmp_path,
):
    """s73 review: eight OME-TIFFs naming 488 at eight indices (``--channel 488 561``) gave a
    781-character line, one clause a file; two ways are said, the rest counted. Two digits
    one file names are said together ("'488' and '561' are indices 0 and 5")."""
    from unetlab.inference.every_file import absent_channel

    paths = []
    for i in range(5):
        names = [f"c{k}" for k in range(8)]
        names[i] = "488"
        names[5:6] = ["561"] if i == 0 else names[5:6]
        paths.append(_multiplex(tmp_path / f"{i}.ome.tif", 8, names=names))
    said = absent_channel(paths, [488, 561])["message"]
    assert said.endswith(
        f"; the channels {paths[0]} names '488' and '561' are indices 0 and 5; the channel "
        f"{paths[1]} names '488' is index 1; 3 more inputs name them at other indices (a "
        "number given is an index, not a name)"
    ), said
    said = absent_channel(paths[1:4], 488)["message"]
    assert said.endswith(
        f"; the channel {paths[2]} names '488' is index 2; 1 more input names it at other "
        "indices (a number given is an index, not a name)"
    ), said


def test_the_channels_read_alone_are_found_by_one_read_of_the_header(tmp_path, monkeypatch, model):
    """Review s72: the channels a file's model takes alone were found reading its channel
    pages three times and its nodata twice (2.4-3.0 ms CPU a small OME-TIFF, predict's and
    evaluate's, each file); once each. Read with axes (the user's or the checkpoint's) every
    channel is read, its header unread for it."""
    from unetlab.inference.file_fit import channels_alone

    path = _multiplex(tmp_path / "m.ome.tif")
    reads = []
    for name in ("channel_pages", "banded_nodata"):
        real = getattr(io, name)
        monkeypatch.setattr(
            io, name, lambda *a, real=real, name=name: reads.append(name) or real(*a)
        )
    model.channel = 3
    alone = channels_alone(model, path, channel=3, asked=None)
    assert (alone.held, alone.has, reads) == ((3,), 6, ["channel_pages", "banded_nodata"])
    reads.clear()
    assert channels_alone(model, path, channel=3, asked=None, axes="CYX") is None and not reads
