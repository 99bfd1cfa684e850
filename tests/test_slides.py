"""Whole-slide images: lazy reading of compressed/tiled/pyramidal TIFF and OME-Zarr, exact
bands of rows, streamed prediction equal to in-memory prediction, pyramidal OME-TIFF and
OME-Zarr outputs with their pixel size."""

import contextlib
import gc
import weakref

import numpy as np
import pytest
import tifffile
import torch
import zarr

from unetlab import UNet
from unetlab.data import ome
from unetlab.data.slides import Layout, layout_of, open_slide
from unetlab.data.tiffmeta import ome_pixel_size
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file
from unetlab.inference.predict import labels_from_probabilities, predict_image, probability_fn
from unetlab.inference.sizing import choose_tiling
from unetlab.inference.slides import band_grid, is_large, iter_slide_rows
from unetlab.inference.tiling import Geometry, iter_tiled_rows, tile_grid

from .test_distributed import finished


@pytest.fixture
def small_chunks(monkeypatch):
    """16-px chunks, so that test images of ~100 px have several chunk rows and levels."""
    monkeypatch.setattr(ome, "CHUNK", 16)


def _rng(seed=0):
    return np.random.default_rng(seed)


# --- pure pieces ----------------------------------------------------------------------------


def test_layouts_from_axes():
    assert layout_of("YXS", (5, 6, 3)) == Layout("YXC", (5, 6, 3))
    assert layout_of("TCZYX", (1, 2, 4, 5, 6)) == Layout("PCPYX", (1, 2, 4, 5, 6))
    assert layout_of("CYXS", (1, 5, 6, 3)).axes == "PYXC"  # a 1-long C is a page axis
    with pytest.raises(UnetlabError, match="two channel axes"):
        layout_of("CYXS", (2, 5, 6, 3))
    layout = Layout("PCYX", (3, 2, 5, 6))
    assert (layout.pages, layout.channels, layout.plane) == (3, 2, (5, 6))
    assert layout.index(2, slice(1, 3), slice(0, 4)) == (2, slice(None), slice(1, 3), slice(0, 4))
    assert layout.to_hwc(np.zeros((2, 5, 6))).shape == (5, 6, 2)


def test_a_bug_in_the_slide_layout_keeps_its_traceback(tmp_path, monkeypatch):
    """Only tifffile's calls are read as "a corrupt TIFF": a TypeError of unetlab's layout
    code was reported as "cannot read this TIFF" (exit 2, no traceback)."""
    from unetlab.data import slides

    tifffile.imwrite(tmp_path / "ok.tif", np.zeros((16, 16), np.uint8), tile=(16, 16))
    (tmp_path / "cut.tif").write_bytes((tmp_path / "ok.tif").read_bytes()[:30])

    def broken(*args, **kwargs):
        raise TypeError("a bug of unetlab")

    monkeypatch.setattr(slides, "layout_of", broken)
    with pytest.raises(TypeError, match="a bug of unetlab"):
        open_slide(tmp_path / "ok.tif")
    with pytest.raises(UnetlabError, match="cut.tif: cannot read this TIFF") as info:
        open_slide(tmp_path / "cut.tif")
    assert "\n" not in str(info.value)


def test_chunk_rows_share_whole_chunks(small_chunks):
    assert [ome.chunk_rows(100, 2, r) for r in range(2)] == [(0, 48), (48, 100)]
    assert [ome.chunk_rows(20, 3, r) for r in range(3)] == [(0, 0), (0, 16), (16, 20)]
    assert ome.level_shapes((2, 70, 33)) == [(2, 70, 33), (2, 35, 17), (2, 18, 9), (2, 9, 5)]


def test_downsample_exact_values():
    a = np.arange(15, dtype=np.float32).reshape(3, 5)
    assert ome.downsample(a, "nearest").tolist() == [[0, 2, 4], [10, 12, 14]]
    # 2x2 means, the last row and column repeated
    assert ome.downsample(a, "mean").tolist() == [[3, 5, 6.5], [10.5, 12.5, 14]]


def test_row_sink_writes_its_rows_and_refuses_gaps(small_chunks, tmp_path):
    spec = ome.OutputSpec((40, 5), "yx", np.dtype(np.uint8))
    array = ome.create(tmp_path / "s", spec)
    sink = ome.RowSink(array, spec, 0, 16, 40)
    rows = np.arange(40, dtype=np.uint8)[:, None].repeat(5, 1)
    for y in range(0, 40, 7):  # blocks across chunk edges; rows before 16 dropped
        sink.write(y, rows[y : y + 7])
    sink.close()
    assert np.array_equal(array[16:], rows[16:]) and not array[:16].any()
    sink = ome.RowSink(array, spec, 0, 0, 16)
    with pytest.raises(ValueError, match="out of order"):
        sink.write(3, rows[3:5])
    with pytest.raises(ValueError, match="never written"):
        sink.close()


def test_ome_pixel_size_units():
    xml = (
        '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image><Pixels '
        'PhysicalSizeX="250" PhysicalSizeXUnit="nm" PhysicalSizeY="0.5"/></Image></OME>'
    )
    assert ome_pixel_size(xml) == (0.5, 0.25)
    assert ome_pixel_size("<OME><Image><Pixels/></Image></OME>") is None


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("offset", [None, (-0.5, 0.25)])  # a label offset moves every tile
def test_a_band_of_rows_equals_those_rows_of_the_whole_image(padding, batch, offset):
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=4, padding=padding).eval()
    model.label_offset = offset
    image = _rng(1).integers(0, 255, (171, 37, 1)).astype(np.float32)
    grid, _ = choose_tiling(model, image.shape[:2], tile_size=36 if padding == "valid" else 32)
    assert len(grid.ys) > 4
    fn = probability_fn(model)
    with torch.inference_mode():
        whole = np.concatenate(
            [b for _, b in iter_tiled_rows(fn, image, grid, batch_size=batch)], 1
        )
        for rows in [(0, 48), (48, 96), (96, 171), (17, 18), (5, 170)]:
            offset, sub = band_grid(grid, rows, batch_size=batch)
            if rows == (48, 96) and batch == 1:  # a middle band needs the tiles near it
                assert len(sub) < len(grid) and offset > 0 and offset + sub.shape[0] < 171
            got = [(y, b) for y, b in iter_slide_rows(fn, image, grid, rows=rows, batch_size=batch)]
            assert got[0][0] == rows[0]
            band = np.concatenate([b for _, b in got], 1)
            assert np.array_equal(band, whole[:, rows[0] : rows[1]])  # bit for bit
        assert list(iter_slide_rows(fn, image, grid, rows=(16, 16))) == []  # an empty share


@pytest.mark.parametrize("blend", ["mean", "gaussian"])
@pytest.mark.parametrize("batch", [1, 2])
def test_a_band_starting_anywhere_equals_the_whole_with_the_tiles_over_its_first_row(blend, batch):
    """Blended tiles: a band (a resumed slide's rows, a process's share) needs the tiles
    over its first row, not the tile row above them (a tile's top rows, blended alone
    in the band, lie above the band): tiles of 48 rows a step of 30 apart, and a short last
    step."""
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    image = _rng(1).integers(0, 255, (171, 37, 1)).astype(np.float32)
    grid, _ = choose_tiling(model, image.shape[:2], tile_size=48)
    assert grid.ys == (0, 30, 60, 90, 120, 124) and grid.out_tile[0] == 48
    assert band_grid(grid, (50, 171))[0] == 30  # the tile at 0 ends at row 48
    fn = probability_fn(model)
    how = dict(batch_size=batch, blend=blend)
    with torch.inference_mode():
        whole = np.concatenate([b for _, b in iter_tiled_rows(fn, image, grid, **how)], 1)
        for start in range(1, 171, 7):
            for rows in [(start, min(171, start + 16)), (start, 171)]:
                got = [b for _, b in iter_slide_rows(fn, image, grid, rows=rows, **how)]
                assert np.array_equal(np.concatenate(got, 1), whole[:, rows[0] : rows[1]])


def test_a_row_of_tiles_buffer_is_freed_before_the_next_row_is_predicted():
    """No frame of the rows' generators holds a yielded block (a view of its row of
    tiles' buffer, as wide as the page) while the next row of tiles is predicted: where the
    one consuming the rows has let it go, the buffer is freed (no second page-wide one)."""
    image = _rng(2).normal(size=(96, 40, 1)).astype(np.float32)
    grid = tile_grid(image.shape[:2], Geometry(multiple=4, min_size=4, overlap=4), 32)
    assert len(grid.ys) > 2
    buffer, alive = [], []

    def fn(x):
        if buffer:  # a tile of a later row: is the first row's buffer still there?
            gc.collect()
            alive.append(buffer[0]() is not None)
        return x * 2

    rows = iter_slide_rows(fn, image, grid)
    y, block = next(rows)
    while isinstance(block.base, np.ndarray):  # the buffer the block is a view of
        block = block.base
    buffer.append(weakref.ref(block))
    del block
    next(rows)  # the second row of tiles
    assert alive and not any(alive)


# --- reading --------------------------------------------------------------------------------


def test_tiff_levels_pixel_size_and_windows(tmp_path):
    image = _rng().integers(0, 255, (70, 90, 3), dtype=np.uint8)
    with tifffile.TiffWriter(tmp_path / "p.tif", ome=True) as tif:
        tif.write(
            image,
            tile=(32, 32),
            compression="zlib",
            subifds=1,
            photometric="rgb",
            metadata={"PhysicalSizeX": 0.25, "PhysicalSizeY": 0.5},
        )
        tif.write(
            image[::2, ::2], tile=(32, 32), compression="zlib", subfiletype=1, photometric="rgb"
        )
    with open_slide(tmp_path / "p.tif") as slide:
        assert slide.shape == (1, 70, 90, 3) and slide.levels == 2 and slide.chunked
        assert slide.pixel_size == (0.5, 0.25)
        page = slide.page(0, band_rows=20)
        assert np.array_equal(page[10:15, 3:50], image[10:15, 3:50])
        assert np.array_equal(page[12:20], image[12:20])  # served from the kept band
    with open_slide(tmp_path / "p.tif", level=1) as slide:
        assert slide.shape == (1, 35, 45, 3) and slide.pixel_size == (1.0, 0.5)
        assert np.array_equal(slide.page(0)[:, :], image[::2, ::2])
    with pytest.raises(UnetlabError, match="level=0 to level=1"):  # a Python caller's form
        open_slide(tmp_path / "p.tif", level=2)


def test_plain_tiff_is_memory_mapped_and_resolution_tags_read(tmp_path):
    stack = _rng().integers(0, 65535, (2, 40, 30), dtype=np.uint16)
    tifffile.imwrite(
        tmp_path / "s.tif",
        stack,
        photometric="minisblack",
        resolution=(20000.0, 40000.0),
        resolutionunit="CENTIMETER",
    )
    with open_slide(tmp_path / "s.tif") as slide:
        assert not slide.chunked and callable(slide.array)
        assert slide.pixel_size == (0.25, 0.5)
        assert np.array_equal(slide.page(1)[5:9, 2:4][..., 0], stack[1, 5:9, 2:4])


# --- predicting -----------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [None, (0.25, -0.5)])
def test_compressed_tiled_tiff_streamed_equals_in_memory(tmp_path, small_chunks, offset):
    model = UNet(3, 3, depth=2, base_channels=4, padding="same").eval()
    model.label_offset = offset
    image = _rng(2).integers(0, 255, (101, 77, 3), dtype=np.uint8)
    tifffile.imwrite(
        tmp_path / "j.tif",
        image,
        tile=(32, 32),
        compression="jpeg",
        photometric="rgb",
        resolution=(1e4, 1e4),
        resolutionunit="CENTIMETER",
    )
    decoded = tifffile.imread(tmp_path / "j.tif")  # JPEG is lossy: compare with what it holds
    assert is_large(tmp_path / "j.tif", threshold=1000)
    out = predict_file(
        model,
        tmp_path / "j.tif",
        tmp_path / "out",
        tile_size=32,
        batch_size=2,
        save_probabilities=True,
        large_threshold=1000,
    )
    assert [p.name for p in out] == ["j.tif", "j_prob.tif"]
    expected = predict_image(model, decoded, tile_size=32, batch_size=2)
    with tifffile.TiffFile(out[0]) as tif:
        series = tif.series[0]
        assert tif.is_ome and series.axes == "YX" and tif.pages[0].is_tiled
        assert [level.shape for level in series.levels] == [(101, 77), (51, 39), (26, 20), (13, 10)]
        assert np.array_equal(series.asarray(), labels_from_probabilities(expected))
        assert 'PhysicalSizeX="1.0"' in tif.ome_metadata
        assert tif.pages[0].tags["XResolution"].value == (10000, 1)
    probs = tifffile.imread(out[1])
    np.testing.assert_allclose(probs, expected, atol=1e-6)


def _write_ome_zarr(path, image, pixel_size):
    group = zarr.open_group(path, mode="w", zarr_format=2)
    levels = [image, image[::2, ::2]]
    for i, level in enumerate(levels):
        group.create_array(str(i), data=np.moveaxis(level, -1, 0), chunks=(1, 20, 20))
    group.attrs["multiscales"] = [
        {
            "version": "0.4",
            "axes": [
                {"name": "c", "type": "channel"},
                {"name": "y", "type": "space", "unit": "micrometer"},
                {"name": "x", "type": "space", "unit": "micrometer"},
            ],
            "datasets": [
                {
                    "path": str(i),
                    "coordinateTransformations": [
                        {"type": "scale", "scale": [1, pixel_size * 2**i, pixel_size * 2**i]}
                    ],
                }
                for i in range(2)
            ],
        }
    ]


@pytest.mark.parametrize("level", [0, 1])
def test_ome_zarr_in_ome_zarr_out(tmp_path, small_chunks, level):
    model = UNet(2, 2, depth=2, base_channels=4).eval()  # valid padding
    image = _rng(3).normal(100, 20, (90, 70, 2)).astype(np.float32)
    _write_ome_zarr(tmp_path / "in.ome.zarr", image, 0.5)
    out = predict_file(
        model,
        tmp_path / "in.ome.zarr",
        tmp_path / "out",
        level=level,
        output_format="ome-zarr",
        save_probabilities=True,
        tile_size=36,
    )
    assert [p.name for p in out] == ["in.ome.zarr", "in_prob.ome.zarr"]
    source = image if level == 0 else image[::2, ::2]
    expected = predict_image(model, source, tile_size=36)
    labels = zarr.open_group(out[0], mode="r")
    scales = labels.attrs["multiscales"][0]
    assert [a["name"] for a in scales["axes"]] == ["y", "x"]
    size = 0.5 * 2**level
    assert scales["datasets"][1]["coordinateTransformations"][0]["scale"] == [2 * size, 2 * size]
    assert np.array_equal(labels["0"][:], labels_from_probabilities(expected))
    assert labels["1"].shape == ome.level_shapes(source.shape[:2])[1]
    np.testing.assert_allclose(zarr.open_group(out[1])["0"][:], expected, atol=1e-6)
    with open_slide(out[0]) as again:  # an output reads back as a slide, pixel size and all
        assert again.pixel_size == (size, size) and again.levels == len(scales["datasets"])
    # no staging folder left; the manifest lists the outputs (predict_file's folder check)
    hidden = [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    assert hidden == [".unetlab-outputs"]


def test_grey_model_on_rgb_slide_and_channel_mismatch(tmp_path):
    image = _rng(4).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    tifffile.imwrite(
        tmp_path / "c.tif", image, tile=(16, 16), compression="zstd", photometric="rgb"
    )
    grey = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    out = predict_file(
        grey, tmp_path / "c.tif", tmp_path / "out", large_threshold=100, tile_size=16
    )
    expected = predict_image(grey, image, tile_size=16)
    assert np.array_equal(tifffile.imread(out[0]), labels_from_probabilities(expected))
    with pytest.raises(UnetlabError, match="has 3 channels but the model expects 2"):
        predict_file(
            UNet(2, 2, depth=2, base_channels=4),
            tmp_path / "c.tif",
            tmp_path / "out",
            large_threshold=100,
        )


@pytest.mark.slow
def test_two_gloo_processes_predict_like_one(tmp_path):
    """A folder (shared out file by file) and a large image (shared out by chunk rows)."""
    import subprocess
    import sys

    from PIL import Image

    from unetlab import save_model
    from unetlab.cli import main
    from unetlab.inference.records import read_records

    rng = _rng(5)
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (40, 50), dtype=np.uint8)).save(inputs / f"s{i}.png")
    big = rng.integers(0, 255, (1100, 70), dtype=np.uint8)  # 3 chunk rows of 512: 2 + 1
    tifffile.imwrite(inputs / "big.tif", big, tile=(64, 64), compression="zlib")
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    args = [
        "predict",
        "--checkpoint",
        str(tmp_path / "m.pt"),
        "--input",
        str(inputs),
        "--large-pixels",
        "10000",
        "--save-probabilities",
        "--tile-size",
        "64",
        "--device",
        "cpu",  # gloo on the CPU also where a GPU is present (two processes on one are refused)
    ]
    assert main([*args, "--output", str(tmp_path / "one")]) == 0
    two = subprocess.run(
        [sys.executable, "-m", "unetlab", *args, "--output", str(tmp_path / "two"), "--nproc", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished(two), two.stderr[-3000:]
    assert two.stderr.count("4 written, 0 skipped, 0 failed") == 1

    # the outputs (not the hidden manifest and lock, which name their command, nor the
    # records of what made them, which say when)
    def outputs(folder):
        return sorted(p.name for p in folder.iterdir() if p.name[0] != "." and p.suffix != ".json")

    one_files = outputs(tmp_path / "one")
    assert one_files == outputs(tmp_path / "two")
    assert read_records(tmp_path / "one").keys() == read_records(tmp_path / "two").keys()
    for name in one_files:
        a, b = (tmp_path / d / name for d in ("one", "two"))
        if name.endswith("prob.tif"):  # thread counts differ: float rounding may too
            np.testing.assert_allclose(tifffile.imread(a), tifffile.imread(b), atol=1e-6)
        elif name.endswith(".tif"):
            assert np.array_equal(tifffile.imread(a), tifffile.imread(b))
        else:
            assert np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b)))
    # --skip-existing resumes: nothing left to do
    (tmp_path / "two" / "s1.png").unlink()
    before = (tmp_path / "two" / "big.tif").stat().st_mtime_ns
    assert main([*args, "--output", str(tmp_path / "two"), "--skip-existing"]) == 0
    assert (tmp_path / "two" / "big.tif").stat().st_mtime_ns == before
    assert (tmp_path / "two" / "s1.png").exists()


def test_an_image_too_large_for_pillow_is_one_user_error(tmp_path, monkeypatch):
    from PIL import Image

    from unetlab.data.io import read_stack
    from unetlab.errors import ImageReadError

    Image.fromarray(np.zeros((30, 40), np.uint8)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow refuses above 2x this
    with pytest.raises(ImageReadError, match="big.png: too large for Pillow.*tiled TIFF"):
        read_stack(tmp_path / "big.png")


def test_a_large_stack_in_colour_with_probabilities(tmp_path, small_chunks):
    model = UNet(1, 3, depth=2, base_channels=4, padding="same").eval()
    stack = _rng(6).integers(0, 255, (2, 40, 35), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack", compression="lzw")
    out = predict_file(
        model,
        tmp_path / "s.tif",
        tmp_path / "out",
        large_threshold=100,
        color=True,
        save_probabilities=True,
        tile_size=16,
    )
    with tifffile.TiffFile(out[0]) as tif:
        series = tif.series[0]
        assert series.axes == "ZYX" and tif.pages[0].photometric == 3  # palette
        assert [level.shape for level in series.levels] == [(2, 40, 35), (2, 20, 18), (2, 10, 9)]
        labels = series.asarray()
    with tifffile.TiffFile(out[1]) as tif:
        assert tif.series[0].axes == "ZCYX" and tif.series[0].shape == (2, 3, 40, 35)
        probs = tif.series[0].asarray()
    for p, page in enumerate(stack):
        expected = predict_image(model, page, tile_size=16)
        np.testing.assert_allclose(probs[p], expected, atol=1e-6)
        assert np.array_equal(labels[p], labels_from_probabilities(expected))


def test_ome_zarr_labels_carry_their_colours_and_class_names(tmp_path, small_chunks):
    """--color reaches OME-Zarr too: NGFF ``image-label`` colours, the palette PNG's colours."""
    from unetlab.plots import palette

    model = UNet(1, 3, depth=2, base_channels=4, padding="same").eval()
    model.classes = ["background", "cell", "edge"]
    image = _rng(6).integers(0, 255, (60, 50), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "a.tif", image, tile=(16, 16), compression="zlib")
    common = dict(large_threshold=100, tile_size=32, output_format="ome-zarr")
    coloured = predict_file(model, tmp_path / "a.tif", tmp_path / "c", color=True, **common)
    label = zarr.open_group(coloured[0], mode="r").attrs["image-label"]
    assert [c["label-value"] for c in label["colors"]] == [0, 1, 2]
    assert [c["rgba"] for c in label["colors"]] == [[*map(int, c), 255] for c in palette(3)]
    assert [p["class"] for p in label["properties"]] == ["background", "cell", "edge"]
    grey = predict_file(model, tmp_path / "a.tif", tmp_path / "g", **common)
    plain = zarr.open_group(grey[0], mode="r").attrs["image-label"]
    assert "colors" not in plain and len(plain["properties"]) == 3


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_a_percentile_model_predicts_a_streamed_slide_as_it_does_in_memory(tmp_path, dtype):
    """Percentiles of a streamed page (a histogram for 16 bits, a row sample for floats, which
    is every row of an image this small) map it as the in-memory image's do."""
    from unetlab import save_model
    from unetlab.cli import main

    image = _rng(7).gamma(2.0, 300.0, (300, 260)).astype(dtype)
    (tmp_path / "in").mkdir()
    tifffile.imwrite(tmp_path / "in" / "big.tif", image, tile=(64, 64), compression="zlib")
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.normalization = {"mode": "percentile", "low": 1.0, "high": 99.8}
    save_model(tmp_path / "m.pt", model)
    args = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    args += ["--save-probabilities", "--tile-size", "64", "--device", "cpu"]
    assert main([*args, "--output", str(tmp_path / "streamed"), "--large-pixels", "1000"]) == 0
    assert main([*args, "--output", str(tmp_path / "memory")]) == 0
    streamed, memory = (
        tifffile.imread(tmp_path / d / "big_prob.tif") for d in ("streamed", "memory")
    )
    np.testing.assert_allclose(streamed, memory, atol=1e-5)


def test_a_bad_band_in_one_process_fails_the_image_in_all_and_the_run_goes_on(tmp_path, caplog):
    """NaN pixels in the rows the second of two processes predicts: both drop the image
    together (the first does not wait at publishing), its error is said once, the next file
    is written, and no staged output is left. Two ranks of threads in this process (their
    collectives meet at a barrier that times out: a rank left waiting fails the test); a
    real --nproc 2 launch: test_two_gloo_processes_predict_like_one."""
    import logging

    from PIL import Image

    from tests.test_folders_group_seconds import two_ranks
    from unetlab import predict_folder

    inputs = tmp_path / "in"
    inputs.mkdir()
    big = _rng(8).normal(0.5, 0.1, (1100, 70)).astype(np.float32)
    big[1080, 10] = np.nan  # chunk rows 1024.. are the second process's
    tifffile.imwrite(inputs / "a_big.tif", big, tile=(64, 64))
    Image.fromarray(_rng(9).integers(0, 255, (40, 50), dtype=np.uint8)).save(inputs / "b.png")
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.normalization = {"mode": "scale"}  # statistics read no pixel: only the band fails
    results: list = [None, None]
    run = dict(large_threshold=10000, tile_size=64, progress=False)

    def rank(group):
        out = tmp_path / "out"
        results[group.rank] = predict_folder(model, inputs, out, group=group, **run)

    with caplog.at_level(logging.INFO, logger="unetlab"):
        two_ranks(rank)
    assert None not in results  # both ranks ended (none left waiting)
    main = results[0]
    assert [p.name for p in main.written] == ["b.png"], main.written
    assert [p.name for p in main.failed] == ["a_big.tif"], main.failed
    said = [r for r in caplog.records if "1 NaN or infinite pixel in rows" in r.getMessage()]
    assert len(said) == 1, [(r.threadName, r.getMessage()) for r in said]
    written = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name[0] != ".")
    assert written == ["b.png", "predict.json"]  # predict.json: what made b.png


def test_a_truncated_streamed_slide_is_named_and_the_batch_goes_on(tmp_path, capsys):
    """A truncated tiled slide raised the decoder's error from a streamed window (a traceback
    and "this is a bug", exit 1) and the good slide after it was not written."""
    from unetlab import save_model
    from unetlab.cli import main

    inputs = tmp_path / "in"
    inputs.mkdir()
    image = _rng(3).integers(0, 255, (200, 180, 3), dtype=np.uint8)
    tifffile.imwrite(inputs / "b_good.tif", image, tile=(64, 64), compression="zlib")
    whole = (inputs / "b_good.tif").read_bytes()
    (inputs / "a_truncated.tif").write_bytes(whole[: len(whole) // 2])
    with (
        open_slide(inputs / "a_truncated.tif") as slide,
        pytest.raises(
            UnetlabError, match=r"a_truncated.tif: cannot read rows 0-200 of page 0 \(DeflateError"
        ),
    ):
        slide.page(0)[0:200, 0:180]
    model = UNet(3, 2, depth=2, base_channels=4, padding="same")
    model.normalization = {"mode": "per_image"}  # statistics read the pixels first
    save_model(tmp_path / "m.pt", model)
    args = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(inputs)]
    args += ["--output", str(tmp_path / "out"), "--large-pixels", "1000", "--tile-size", "64"]
    assert main([*args, "--instances", "--device", "cpu"]) == 3
    err = capsys.readouterr().err
    assert "a_truncated.tif: cannot read rows" in err and "Traceback" not in err
    written = sorted(p.name for p in (tmp_path / "out").iterdir() if p.name != ".unetlab-outputs")
    # none staged; predict.json records what made the outputs; objects_summary.csv: a row
    # for each input, the failed one with its reason
    assert written == [
        "b_good.tif",
        "b_good_objects.csv",
        "b_good_objects.tif",
        "objects_summary.csv",
        "predict.json",
    ]
    summary = (tmp_path / "out" / "objects_summary.csv").read_text().splitlines()
    assert summary[1].startswith("a_truncated.tif,failed,") and "cannot read rows" in summary[1]
    assert summary[2].startswith("b_good.tif,done,")


def test_a_turned_tiff_read_window_by_window_says_it_is_not_turned(tmp_path, caplog):
    """A TIFF's Orientation tag is followed when it is read whole, not window by window: the
    streamed path says so rather than give outputs turned otherwise without a word (review
    s31 5)."""
    import logging

    image = np.arange(64 * 48, dtype=np.uint16).reshape(64, 48)
    tifffile.imwrite(tmp_path / "t.tif", image, tile=(16, 16), extratags=[(274, 3, 1, 6, True)])
    tifffile.imwrite(tmp_path / "u.tif", image, tile=(16, 16))
    with caplog.at_level(logging.WARNING, logger="unetlab.data.slides"):
        with open_slide(tmp_path / "u.tif"):
            pass
        assert not caplog.records
        with open_slide(tmp_path / "t.tif"):
            pass
    (line,) = [r.getMessage() for r in caplog.records]
    head = f"{tmp_path / 't.tif'}: its Orientation tag says the picture is turned (6)"
    assert line.startswith(head)  # named as given, as the file's other lines


def test_a_turned_tiff_read_whole_is_not_said_to_be_read_unturned(tmp_path, caplog):
    """A small turned TIFF is read whole and turned; the pixel and memory rules opened it
    as a slide for its size, and each open said it was read window by window, unturned (s62:
    5 such lines for one predict of one file, beside the line that says it was turned).
    Said once now where it is streamed, none where it is read whole."""
    import logging

    from tests.test_output_tiff_meta import foreground_model
    from unetlab.inference.files import predict_file

    image = np.arange(64 * 48, dtype=np.uint16).reshape(64, 48)
    tifffile.imwrite(tmp_path / "t.tif", image, extratags=[(274, 3, 1, 6, True)])
    said = []
    for large in (None, 100):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="unetlab.data.slides"):
            out = tmp_path / f"o{large}"
            predict_file(foreground_model(), tmp_path / "t.tif", out, large_threshold=large)
        said.append(sum("Orientation tag says" in r.getMessage() for r in caplog.records))
    assert said == [0, 1]


def test_a_file_that_is_no_tiff_names_the_fix(tmp_path):
    """'cannot read this TIFF (TiffFileError: not a TIFF file: ...)' named no fix (audit s41
    auditslide: a text file saved as .tif)."""
    (tmp_path / "x.tif").write_bytes(b"hello world, no TIFF here" * 10)
    with pytest.raises(UnetlabError, match="x.tif: cannot read this TIFF") as info:
        open_slide(tmp_path / "x.tif")
    assert str(info.value).endswith("copy or export it again (Fiji: File > Save As > Tiff)")
    assert "\n" not in str(info.value)


def test_an_uncompressed_tiff_cut_off_before_its_pixels_end_is_refused_at_its_open(tmp_path):
    """Its pixels are memory-mapped: the open checks the file holds as many bytes as the
    header promises (no traceback from numpy's memmap at the first window)."""
    tifffile.imwrite(tmp_path / "cut.tif", np.arange(64 * 64, dtype=np.uint16).reshape(64, 64))
    whole = (tmp_path / "cut.tif").read_bytes()
    (tmp_path / "cut.tif").write_bytes(whole[:-2000])
    said = rf"cut.tif: truncated: its header promises \d+ bytes, the file has {len(whole) - 2000};"
    with pytest.raises(UnetlabError, match=said + " copy the file again"):
        open_slide(tmp_path / "cut.tif")


def _refused(open_, path, **kwargs) -> str:
    try:
        with open_(path, **kwargs) as slide:
            return f"opened {slide.shape}"
    except UnetlabError as exc:
        return str(exc)


def test_a_slide_from_its_header_is_refused_or_opened_as_open_slide_does(tmp_path):
    """slide_header (what the pixel and memory rules ask) refuses what open_slide refuses:
    a TIFF cut off before its pixels end, TIFF bytes named .png; and opens an OME-Zarr
    folder as it does (s62 review: accepted, accepted, refused as no Zarr)."""
    from unetlab.data.io import axes_read_once
    from unetlab.data.slides import slide_header

    image = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    tifffile.imwrite(tmp_path / "cut.tif", image)
    (tmp_path / "cut.tif").write_bytes((tmp_path / "cut.tif").read_bytes()[:-2000])
    tifffile.imwrite(tmp_path / "tiff.png", image)
    _write_ome_zarr(tmp_path / "z.ome.zarr", image[..., None], 0.5)
    (tmp_path / "dir.tif").mkdir()
    names = ["cut.tif", "tiff.png", "z.ome.zarr", "dir.tif", "missing.tif"]
    for kept in (False, True):
        with axes_read_once() if kept else contextlib.nullcontext():
            for name in names:
                for axes in (None, "YX"):
                    opened = _refused(open_slide, tmp_path / name, axes=axes)
                    assert _refused(slide_header, tmp_path / name, axes=axes) == opened, name
    assert _refused(slide_header, tmp_path / "z.ome.zarr") == "opened (1, 64, 64, 1)"
    assert "truncated" in _refused(slide_header, tmp_path / "cut.tif")


def test_axes_that_read_a_stack_otherwise_than_its_file_read_it_whole(tmp_path):
    """YXC (or CYX) for a TIFF of 3 pages of 64 x 64 reads its pages as channels, which a
    streamed slide cannot (refuse_other_layout): the memory rule reads such a stack whole,
    whatever its size; ZYX says what its pages are, and it is streamed (s62 review: without
    the header's refusal YXC was streamed, then refused)."""
    from tests.test_output_tiff_meta import foreground_model
    from unetlab.data.slides import slide_header
    from unetlab.inference import sizing
    from unetlab.inference.stream_rule import is_streamed

    tifffile.imwrite(tmp_path / "s.tif", np.zeros((3, 64, 64), np.uint8), photometric="minisblack")
    model = foreground_model()
    with pytest.raises(UnetlabError, match="reads it otherwise than its file does"):
        slide_header(tmp_path / "s.tif", axes="YXC")
    old, sizing.WHOLE_BUDGET = sizing.WHOLE_BUDGET, 1  # every stack too large to read whole
    try:
        assert not is_streamed(tmp_path / "s.tif", model, axes="YXC")
        assert not is_streamed(tmp_path / "s.tif", model, axes="CYX")
        assert is_streamed(tmp_path / "s.tif", model, axes="ZYX")
    finally:
        sizing.WHOLE_BUDGET = old
