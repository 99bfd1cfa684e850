"""Multiplexed slides (s69, a new user: CyCIF/CODEX-like OME-TIFFs of 24-40 named channels,
planar, tiled and compressed, segmented on DAPI): a streamed slide predicted on some of its
channels decodes only theirs, its objects table still holds every channel's intensities by
name, and the folder summary does not read such a file again whole for its focus."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch
from scipy import ndimage

import unetlab.inference.objects_summary as summary
from unetlab.data.slides import Slide, open_slide
from unetlab.inference.files import predict_file
from unetlab.inference.objects_summary import image_focus
from unetlab.models import UNet

NAMES = ["DAPI", "CD45", "panCK", "CD3", "Ki67", "NaKATPase"]


def _pixels(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4000, shape, dtype=np.uint16)


def _multiplex(path, channels: int = len(NAMES), *, planar: bool = True, image=None, names=NAMES):
    """A tiled, compressed OME-TIFF of ``channels`` channels named ``names``, 64 x 80 px:
    its channels stored apart (``planar``: a page each, as multiplexed slides are) or
    interleaved in each pixel (one page of ``channels`` samples); ``image``: its (C, 64, 80)
    pixels (default: noise)."""
    image = _pixels(channels, 64, 80) if image is None else image
    meta = {"axes": "CYX", "Channel": {"Name": names[:channels]}, "PhysicalSizeX": 0.325}
    meta["PhysicalSizeY"] = 0.325
    kw = dict(tile=(16, 16), compression="zlib", photometric="minisblack")
    if not planar:
        image, meta["axes"], kw["planarconfig"] = np.moveaxis(image, 0, -1), "YXC", "contig"
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(image, metadata=meta, **kw)
    return path


@pytest.fixture
def model() -> UNet:
    return UNet(1, 2, depth=2, base_channels=2, padding="same").eval()


@pytest.mark.parametrize("planar", [True, False])
def test_a_window_of_some_channels_is_those_of_the_whole_window(tmp_path, planar):
    path = _multiplex(tmp_path / "m.ome.tif", planar=planar)
    with open_slide(path) as slide:
        assert slide.layout.planar is planar
        rows, cols = slice(5, 40), slice(3, 77)
        every = slide.read(0, rows, cols)
        for chosen in [(0,), (4, 1), (5, 0, 2)]:
            some = slide.read(0, rows, cols, channels=chosen)
            assert np.array_equal(some, every[..., list(chosen)])
            assert some.flags.c_contiguous
        page = slide.page(0, band_rows=16, channels=(3,))
        assert page.shape == (64, 80, 1)
        assert np.array_equal(page[10:20, 4:9], every[5:15, 1:6, [3]])


def _spy_reads(monkeypatch) -> list[int]:
    """The channels each block read from a slide's stored array holds (what is decoded, not
    what :meth:`Slide.read` returns of it: a review found a spy on that passing with every
    channel decoded then cut), as reads happen."""
    read, held = Slide._read, []

    def spy(self, *args, **kwargs):
        block = read(self, *args, **kwargs)
        axes = self.layout.axes  # a grey slide's: no channel axis, one channel
        held.append(block.shape[axes.index("C")] if "C" in axes else 1)
        return block

    monkeypatch.setattr(Slide, "_read", spy)
    return held


@pytest.mark.parametrize("channel", ["DAPI", 1])
def test_a_channel_of_a_streamed_multiplex_slide_is_read_alone(
    tmp_path, model, monkeypatch, channel
):
    """s69: --channel DAPI of a 24-channel planar OME-TIFF decoded every channel's tiles
    of each window for the statistics and the tiles (5.1 s CPU a pass of a 4,096² slide
    where one channel takes 0.14 s), and held them all in the band of rows it keeps."""
    path = _multiplex(tmp_path / "m.ome.tif")
    held = _spy_reads(monkeypatch)
    labels = predict_file(model, path, tmp_path / "a", large_threshold=100, channel=channel)[0]
    assert held and set(held) == {1}, held
    index = NAMES.index(channel) if isinstance(channel, str) else channel
    tifffile.imwrite(tmp_path / "one.tif", tifffile.imread(path)[index])  # that channel alone
    alone = predict_file(model, tmp_path / "one.tif", tmp_path / "b", large_threshold=100)[0]
    assert np.array_equal(tifffile.imread(labels), tifffile.imread(alone))


def test_a_band_subset_of_a_streamed_multiplex_slide_reads_each_channel_alone(
    tmp_path, monkeypatch
):
    """Channels 0 and 4 for a 2-band net: each read alone (not 0 to 4 read once then cut,
    nor all 6), the labels those of the file read whole."""
    model = UNet(2, 2, depth=2, base_channels=2, padding="same").eval()
    path = _multiplex(tmp_path / "m.ome.tif")
    held = _spy_reads(monkeypatch)
    labels = predict_file(model, path, tmp_path / "a", large_threshold=100, channel=(0, 4))[0]
    assert held and set(held) == {1}, held
    whole = predict_file(model, path, tmp_path / "b", channel=(0, 4))[0]
    assert np.array_equal(tifffile.imread(labels), tifffile.imread(whole))


def _zarr(path, image, chunk: int):
    """A one-level OME-Zarr of ``image`` (C, H, W), chunked ``chunk`` channels deep."""
    import zarr

    group = zarr.open_group(path, mode="w", zarr_format=2)
    chunks = (chunk, 16, 16)
    group.create_array("0", shape=image.shape, dtype=image.dtype, chunks=chunks)[:] = image
    axes = [{"name": a, "type": "channel" if a == "c" else "space"} for a in "cyx"]
    scale = [{"type": "scale", "scale": [1.0] * 3}]
    dataset = {"path": "0", "coordinateTransformations": scale}
    group.attrs.update({"multiscales": [{"version": "0.4", "axes": axes, "datasets": [dataset]}]})
    return path


@pytest.mark.parametrize(
    ("chunk", "channels", "blocks"),
    [
        (1, (4, 0, 2), [1, 1, 1]),  # each alone: no page between them decoded
        (1, (2, 0, 1), [3]),  # neighbours: read together
        (6, (4, 0, 2), [5]),  # chunks of every channel: once, from the first asked
        (2, (5, 3), [3]),  # chunks 1 and 2: one read from channel 3, not from 0
        (2, (0, 5), [1, 1]),  # chunks 0 and 2: chunk 1 not decoded
        (4, (0, 5), [6]),  # chunks 0 and 1
    ],
)
def test_a_zarr_decodes_only_the_chunks_that_hold_a_channel_asked(
    tmp_path, monkeypatch, chunk, channels, blocks
):
    """s69 review: a Zarr chunked (24, 256, 256) (zarr's default holds every channel) was
    read a channel at a time, each chunk decoded once per channel asked: 24 listed of a
    1,024² slide's rows took 0.47 s CPU, all read once 0.07 s. Re-review: chunks of a few
    channels (4 of 24) decoded every chunk from the lowest asked channel to the highest:
    (0, 23) all 6 where 2 hold them (0.043-0.074 s CPU, now 0.012 s). The channels asked
    are grouped by their chunk, neighbouring chunks read together, each chunk once."""
    image = _pixels(6, 64, 80)
    with open_slide(_zarr(tmp_path / "z.ome.zarr", image, chunk)) as slide:
        held = _spy_reads(monkeypatch)
        some = slide.read(0, slice(5, 40), slice(3, 77), channels=channels)
    assert held == blocks
    assert np.array_equal(some, np.moveaxis(image[list(channels), 5:40, 3:77], 0, -1))
    assert some.flags.c_contiguous


@pytest.mark.parametrize("planar", [True, False])
@pytest.mark.parametrize("channels", [(6,), (-1,), (0, 9), ()])
def test_a_channel_the_slide_lacks_is_refused(tmp_path, planar, channels):
    """s69 review: channel 9 or -1 of a planar slide of 6 gave (h, w, 0) windows silently,
    and a page reader of shape (H, W, 1); interleaved, an IndexError or the last channel."""
    with open_slide(_multiplex(tmp_path / "m.ome.tif", planar=planar)) as slide:
        with pytest.raises(IndexError, match="of a slide of 6"):
            slide.read(0, slice(0, 8), slice(0, 8), channels=channels)
        with pytest.raises(IndexError, match="of a slide of 6"):
            slide.page(0, channels=channels)


def test_a_nodata_slide_reads_every_channel_for_the_net(tmp_path, model):
    """nodata is "equal in every band": a streamed slide predicted on channel 0 with
    nodata=0 reads all its channels (s69 review: reading channel 0 alone counted a square
    where only channel 0 is 0 as no sample: 3% -> 13% of the slide left out, labels and
    probabilities changed), as the file read whole does."""
    image = _pixels(3, 64, 80, seed=2) + 1
    image[:, :4, :4] = 0  # no sample: 0 in every band
    image[0, 20:40, 20:40] = 0  # a dark square of channel 0 alone: samples
    path = _multiplex(tmp_path / "m.ome.tif", 3, image=image)
    kw = dict(channel=0, nodata=0, save_probabilities=True)
    streamed = predict_file(model, path, tmp_path / "a", large_threshold=100, **kw)
    whole = predict_file(model, path, tmp_path / "b", **kw)
    for a, b in zip(streamed, whole):
        assert np.allclose(tifffile.imread(a), tifffile.imread(b), atol=1e-6), (a, b)


def _overlay_of(made: list) -> np.ndarray:
    """The pixels of the overlay among the outputs ``made`` (a PNG, or a TIFF where the
    image records its pixel size)."""
    from PIL import Image

    path = next(p for p in made if "overlay" in p.name)
    return tifffile.imread(path) if path.suffix == ".tif" else np.asarray(Image.open(path))


@pytest.mark.parametrize("streamed", [True, False])
@pytest.mark.parametrize("how", ["CD45", 1, "model's"])
def test_the_overlay_shows_the_channel_predicted(tmp_path, model, monkeypatch, streamed, how):
    """s70: the overlay of a multiplex slide predicted on CD45 (--channel CD45, or the
    model's channel 1) showed channels 0-2 (DAPI, CD45, panCK as RGB) under the outlines,
    streamed (plots.shown_channels(count)) and read whole (the stack of every channel).
    Now it is the overlay of a file of CD45 alone; streamed, CD45 is the only channel read
    (the net's and the overlay's reads), as the s69 review asked of the channels shown."""
    image = _pixels(6, 64, 80)
    image[1, :32, :40] += 20000  # CD45 bright in its top-left quarter
    path = _multiplex(tmp_path / "m.ome.tif", image=image)
    alone = _multiplex(tmp_path / "alone.ome.tif", 1, image=image[[1]], names=["CD45"])
    if how == "model's":
        model.channel = 1
    kw = dict(draw_overlay=True, channel=None if how == "model's" else how)
    kw.update(large_threshold=100 if streamed else None)
    held = _spy_reads(monkeypatch)
    made = predict_file(model, path, tmp_path / "a", **kw)
    if streamed:
        assert held and set(held) == {1}, held
    kw["channel"] = "CD45" if how == "CD45" else None  # its one channel
    shown = predict_file(model, alone, tmp_path / "b", **kw)
    assert np.array_equal(_overlay_of(made), _overlay_of(shown))
    assert _overlay_of(made)[:32, :40].mean() > 4 * _overlay_of(made)[32:, 40:].mean()


@pytest.mark.parametrize("streamed", [True, False])
@pytest.mark.parametrize(("bands", "shown"), [((4, 1, 0), (4, 1, 0)), ((5, 2), (5,))])
def test_a_band_list_models_overlay_shows_its_first_three_bands(
    tmp_path, monkeypatch, streamed, bands, shown
):
    """A band list's overlay: its first three bands as RGB (4, 1, 0: not 0, 1, 2), or its
    first as grey where it has two; streamed, no other channel decoded for it."""
    model, other = (_blind(n) for n in (len(bands), len(shown)))  # the same labels
    image = _pixels(6, 64, 80)
    path = _multiplex(tmp_path / "m.ome.tif", image=image)
    names = [NAMES[c] for c in shown]
    those = _multiplex(tmp_path / "t.ome.tif", len(shown), image=image[list(shown)], names=names)
    kw = dict(draw_overlay=True, large_threshold=100 if streamed else None)
    held = _spy_reads(monkeypatch)
    made = predict_file(model, path, tmp_path / "a", channel=bands, **kw)
    if streamed:
        assert held and set(held) <= {1, 2}, held  # the bands' pages only (0 and 1 together)
    drawn = _overlay_of(predict_file(other, those, tmp_path / "b", **kw))
    assert np.array_equal(_overlay_of(made), drawn)


def _blind(channels: int) -> UNet:
    """A net of ``channels`` channels that labels every pixel background, whatever it reads
    (its weights 0): overlays that differ differ in the image under them."""
    model = UNet(channels, 2, depth=2, base_channels=2, padding="same").eval()
    with torch.no_grad():
        for weight in model.parameters():
            weight.zero_()
    return model


def test_its_objects_table_still_measures_every_channel_by_name(tmp_path, model, monkeypatch):
    """The measuring pass reads every channel (the single-cell table of the field): the
    table's intensities are those of each channel, named as the file names them (pins)."""
    import csv

    path = _multiplex(tmp_path / "m.ome.tif")
    made = predict_file(
        model, path, tmp_path / "a", large_threshold=100, channel="DAPI", objects=True
    )
    table = next(p for p in made if str(p).endswith("_objects.csv"))
    ids = tifffile.imread(next(p for p in made if str(p).endswith("_objects.tif")))
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows, "no objects found"
    image = tifffile.imread(path)
    for row in rows[:3]:
        inside = ids == int(row["id"])
        for c, name in enumerate(NAMES):
            want = image[c][inside].mean()
            assert float(row[f"mean_intensity_{name}"]) == pytest.approx(want, rel=1e-9)


def test_the_focus_does_not_read_a_multiplex_image_whole(tmp_path, monkeypatch):
    """s69: the summary's focus measure read a 4,096² OME-TIFF of 24 channels again whole,
    all its channels (2.8 GB peak, 30 s), as its pixels alone were under FOCUS_PIXELS."""
    monkeypatch.setattr(summary, "FOCUS_PIXELS", 64 * 80)  # 64 x 80 px: not over it
    rng = np.random.default_rng(1)
    dots = np.zeros((64, 80))
    dots[tuple(rng.integers(4, 60, (2, 20)))] = 3e5
    dots = rng.poisson(ndimage.gaussian_filter(dots, 2.0) + 200).astype(np.uint16)
    many = _multiplex(tmp_path / "many.ome.tif", image=np.stack([dots] * 6))
    assert image_focus(many) is None  # 6 channels: twice an RGB image's samples
    assert summary._focus_and_size(many) == (None, (64, 80))  # its size still said (review)
    three = _multiplex(tmp_path / "three.ome.tif", 3, image=np.stack([dots] * 3))
    assert image_focus(three) is not None  # as many samples as RGB: measured


@pytest.mark.parametrize(("asked", "warned"), [("DAPI", False), ("dapi", False), ("CD45", True)])
def test_a_channel_named_is_compared_with_the_models_by_its_index(
    tmp_path, model, caplog, asked, warned
):
    """s69: a model trained on channel 0 (data.channel) given --channel DAPI, channel 0 of
    the slide, was warned "predicting channel DAPI (--channel), but the model was trained on
    channel 0 (data.channel); leave it out for that one": the name was compared with 0."""
    import logging

    from unetlab.checkpoint import save_model
    from unetlab.cli import main

    (tmp_path / "in").mkdir()
    _multiplex(tmp_path / "in" / "m.ome.tif")
    model.channel = 0
    save_model(tmp_path / "m.pt", model)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--output", str(tmp_path / "out"), "--channel", asked]) == 0
    assert ("but the model was trained on channel 0" in caplog.text) is warned, caplog.text


def test_a_file_that_is_no_tiff_given_a_channel_name_is_one_line(tmp_path, model, capsys):
    """s69 review: --channel DAPI of a folder whose first file is no TIFF ended in
    tifffile's traceback, "a bug in unetlab", rc 1 (channel_names let TiffFileError out):
    now that file's failed line, the others predicted."""
    from unetlab.checkpoint import save_model
    from unetlab.cli import main
    from unetlab.data.tiffmeta import channel_names
    from unetlab.errors import ImageReadError

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.tif").write_bytes(b"not a tiff")
    _multiplex(tmp_path / "in" / "m.ome.tif")
    with pytest.raises(ImageReadError, match="a.tif: cannot read this image"):
        channel_names(tmp_path / "in" / "a.tif")
    save_model(tmp_path / "m.pt", model)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    assert main([*argv, "--output", str(tmp_path / "out"), "--channel", "DAPI"]) == 3
    said = capsys.readouterr().err
    assert "a.tif: cannot read this image" in said and "bug" not in said, said
    assert (tmp_path / "out" / "m.tif").is_file()


@pytest.mark.parametrize("moved", ["b", "a"])
def test_a_channel_named_is_compared_with_the_models_in_each_file(tmp_path, model, caplog, moved):
    """s69 review: the name was compared with the model's channel in the first file only:
    DAPI channel 0 of a.ome.tif, 2 of b.ome.tif, a model of channel 0: b was predicted on
    its channel 2, unsaid; in the other order the warning was said of the run, false for
    the file of channel 0. Now the file where it differs is named, and only it, once for
    each index it is found at (re-review: c.ome.tif, DAPI at 3, is named too; d.ome.tif,
    at 2 again, is not)."""
    import logging

    from unetlab.checkpoint import save_model
    from unetlab.cli import main

    (tmp_path / "in").mkdir()
    at = {"a": 0, "b": 0, "c": 3, "d": 2} | {moved: 2}
    for name, index in at.items():
        names = [n for n in NAMES if n != "DAPI"]
        names.insert(index, "DAPI")
        _multiplex(tmp_path / "in" / f"{name}.ome.tif", names=names, image=_pixels(6, 64, 80))
    model.channel = 0
    save_model(tmp_path / "m.pt", model)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--output", str(tmp_path / "out"), "--channel", "DAPI"]) == 0
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    warned = sorted(w for w in warned if "trained on channel 0" in w)
    assert len(warned) == 2, warned
    assert (
        warned[0].startswith(f"{moved}.ome.tif: channel DAPI") and "is its channel 2" in warned[0]
    )
    assert warned[1].startswith("c.ome.tif: channel DAPI") and "is its channel 3" in warned[1]


def test_a_band_list_for_a_one_channel_model_is_refused_in_one_line(tmp_path, model):
    """s69 review: predict_file(channel=(0, 1)) with a 1-channel model raised a TypeError
    (pages.refuse_channels compared the list with the file's count), shown as a bug."""
    from unetlab.errors import UnetlabError

    path = _multiplex(tmp_path / "m.ome.tif")
    with pytest.raises(UnetlabError, match=r"channels 0, 1 were asked for \(2 bands\), but"):
        predict_file(model, path, tmp_path / "a", channel=(0, 1))
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
