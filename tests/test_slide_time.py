"""A streamed time-lapse keeps time as time in its outputs (audit s34 stacks 1: a streamed TYX
movie, and a TZCYX hyperstack's T x Z, came out as a Z stack with the z spacing and no
TimeIncrement); a z-stack stays Z."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import tifffile

from tests.test_output_tiff_meta import foreground_model
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file

H, W = 16, 20


def _stack(tmp_path, axes, shape, **meta):
    pages = np.random.default_rng(0).integers(0, 255, (*shape, H, W), dtype=np.uint8)
    metadata = {"axes": axes + "YX", "unit": "um", **meta}
    path = tmp_path / "s.tif"
    tifffile.imwrite(path, pages, imagej=True, resolution=(5, 5), metadata=metadata)
    return path


@pytest.mark.parametrize("fmt", ["ome-tiff", "ome-zarr"])
def test_a_streamed_tzyx_movie_keeps_t_and_z(tmp_path, fmt):
    path = _stack(tmp_path, "TZ", (3, 2), finterval=60, spacing=0.5)
    written = predict_file(
        foreground_model(),
        path,
        tmp_path / "out",
        large_threshold=10,
        save_probabilities=True,
        output_format=fmt,
    )
    out = {p.name: p for p in written}
    if fmt == "ome-tiff":
        with tifffile.TiffFile(out["s.tif"]) as tif:
            assert (tif.series[0].axes, tif.series[0].shape) == ("TZYX", (3, 2, H, W))
            assert 'TimeIncrement="60.0"' in tif.ome_metadata
            assert 'PhysicalSizeZ="0.5"' in tif.ome_metadata
        with tifffile.TiffFile(out["s_prob.tif"]) as tif:
            assert tif.series[0].axes == "TZCYX"
        return
    attrs = json.loads((out["s.ome.zarr"] / ".zattrs").read_text())["multiscales"][0]
    assert [a["name"] for a in attrs["axes"]] == ["t", "z", "y", "x"]
    prob = json.loads((out["s_prob.ome.zarr"] / ".zattrs").read_text())["multiscales"][0]
    assert [a["name"] for a in prob["axes"]] == ["t", "c", "z", "y", "x"]


def test_a_streamed_z_stack_stays_z(tmp_path):
    path = _stack(tmp_path, "Z", (4,), spacing=0.5)
    (labels,) = [
        p
        for p in predict_file(foreground_model(), path, tmp_path / "out", large_threshold=10)
        if p.name == "s.tif"
    ]
    with tifffile.TiffFile(labels) as tif:
        assert tif.series[0].axes == "ZYX" and "TimeIncrement" not in tif.ome_metadata


@pytest.mark.parametrize("objects", [False, True])
def test_a_streamed_stacks_page_axes_are_read_from_its_header_once(tmp_path, monkeypatch, objects):
    """Its page axes were read from the file's header again for each page's lines and for
    its outputs' axes and order: 12 times for a 3-frame movie (s55), and once more for its
    objects' table (review s56); read once, counted wherever a module looks the function
    up, its outputs still a TZ movie's."""
    import sys

    from unetlab.data import tiffmeta
    from unetlab.inference.objects import ObjectOptions

    path = _stack(tmp_path, "TZ", (3, 2), finterval=60, spacing=0.5)
    reads, read = [], tiffmeta.read_page_axes
    for name, module in list(sys.modules.items()):
        if name.startswith("unetlab") and getattr(module, "read_page_axes", None) is read:
            counted = lambda *a, **k: reads.append(a) or read(*a, **k)  # noqa: E731
            monkeypatch.setattr(module, "read_page_axes", counted)
    model = foreground_model()
    found = dict(objects=ObjectOptions.for_model(model)) if objects else {}
    written = predict_file(model, path, tmp_path / "out", large_threshold=10, **found)
    assert reads == [(path, 6)]
    assert ("s_objects.csv" in {p.name for p in written}) == objects
    with tifffile.TiffFile(next(p for p in written if p.name == "s.tif")) as tif:
        assert (tif.series[0].axes, tif.series[0].shape) == ("TZYX", (3, 2, H, W))


def test_a_streamed_movies_table_has_t_and_t_s(tmp_path):
    from unetlab.inference.objects import ObjectOptions

    path = _stack(tmp_path, "TZ", (3, 2), finterval=60, spacing=0.5)
    model = foreground_model()
    options = ObjectOptions.for_model(model)
    written = predict_file(model, path, tmp_path / "out", large_threshold=10, objects=options)
    (table,) = [p for p in written if p.name == "s_objects.csv"]
    with open(table, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:5] == ["page", "t", "t_s", "z", "z_um"]
    got = [(r["page"], r["t"], float(r["t_s"]), r["z"], float(r["z_um"])) for r in rows]
    assert got == [
        (str(2 * t + z), str(t), 60.0 * t, str(z), 0.5 * z) for t in range(3) for z in range(2)
    ]


def test_a_streamed_stack_of_slices_given_tyx_is_a_movie(tmp_path):
    """--axes says what a streamed stack's pages are (audit s37 timelapse 9: refused as
    'applies to images read whole', so a Fiji stack of slices with a frame interval large
    enough to stream could not be made T): TYX outputs with the file's interval, t_s."""
    from unetlab.inference.objects import ObjectOptions

    path = _stack(tmp_path, "Z", (3,), finterval=30)  # Fiji's Image > Properties on slices
    model = foreground_model()
    objects = ObjectOptions.for_model(model)
    how = dict(large_threshold=10, objects=objects, axes="TYX")
    written = {p.name: p for p in predict_file(model, path, tmp_path / "out", **how)}
    with tifffile.TiffFile(written["s.tif"]) as tif:
        assert (tif.series[0].axes, tif.series[0].shape) == ("TYX", (3, H, W))
        assert 'TimeIncrement="30.0"' in tif.ome_metadata
    with open(written["s_objects.csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:3] == ["page", "t", "t_s"]
    assert {(r["t"], float(r["t_s"])) for r in rows} == {(str(t), 30.0 * t) for t in range(3)}
    (record,) = json.loads((tmp_path / "out" / "predict.json").read_text())["records"].values()
    assert record["model"]["axes"] == "TYX"  # part of what made them, as read whole


def test_streamed_axes_that_read_the_file_otherwise_are_refused_naming_the_fix(tmp_path, capsys):
    """Each caller its own form: a notebook was told --axes and --large-pixels (s56)."""
    path = _stack(tmp_path, "Z", (3,))
    with pytest.raises(UnetlabError) as refused:
        predict_file(foreground_model(), path, tmp_path / "out", large_threshold=10, axes="CYX")
    line = f"{path}: " + (  # a file given alone: by its path
        "{} reads it otherwise than its file does (3 pages of 16 x 20 px), "
        "which a large image read window by window cannot: there {} only says what its "
        "pages are (T or Z, e.g. TYX); save the file with its axes (tifffile.imwrite(..., "
        "metadata={{'axes': 'CYX'}})), or read it whole with {}"
    )
    whole = "large_threshold=320 (predict_slide always reads window by window: call predict_file"
    python = ("axes='CYX'", "axes=", whole + " for a whole read)")
    assert str(refused.value) == line.format(*python)
    save_model(tmp_path / "m.pt", foreground_model())
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(path)]
    argv += ["--output", str(tmp_path / "o"), "--large-pixels", "10", "--axes", "CYX"]
    assert main([*argv, "--channel", "0"]) == 3  # the file failed (3 channels: one asked)
    cli = ("--axes CYX", "--axes", "--large-pixels 320")
    assert f"failed: {line.format(*cli)}\n" in capsys.readouterr().err
    assert main(argv) == 2  # no --channel: refused before any file, the model taking 1 (s58)
    assert "has 3 channels, the model takes 1: choose one with --channel C" in (
        capsys.readouterr().err
    )


def test_the_checkpoint_s_axes_that_read_a_streamed_file_otherwise_are_not_called_given(
    tmp_path,
):
    """A 3-channel model trained with data.axes CYX given a large stack of 3 pages saved
    without axes, none given: the refusal said '--axes CYX reads it otherwise', an --axes
    never given; it names the model's axes. --axes given: as above."""
    from unetlab.models import UNet

    pages = np.random.default_rng(0).integers(0, 255, (3, H, W), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "s.tif", pages, photometric="minisblack")
    net = UNet(3, 2, depth=2, base_channels=2, padding="same").eval()
    net.training_data = {"axes": "CYX"}  # as load_model sets it
    for kw, said in [
        ({}, "the model's axes CYX (as trained; none given) read it"),
        ({"axes": "CYX"}, "axes='CYX' reads it"),
    ]:
        with pytest.raises(UnetlabError) as refused:
            predict_file(net, tmp_path / "s.tif", tmp_path / "out", large_threshold=10, **kw)
        head = f"{tmp_path / 's.tif'}: {said} otherwise than its file does"  # as given
        assert str(refused.value).startswith(head)
