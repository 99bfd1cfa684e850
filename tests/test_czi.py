"""Zeiss CZI images (s74 new user, a ZEN user): channels named as ZEN names them, z-stacks,
time-lapses, scenes, tiled mosaics and Bgr24 brightfield are read as an OME-TIFF is (before:
.czi was named a format unetlab does not read, to be exported to TIFF first)."""

import csv
import io
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

pytest.importorskip("pylibCZIrw", reason="pylibCZIrw is not installed (optional: unetlab[czi])")

from tests.czi_writer import as_pyramid_tile, name_scenes, write_czi, write_tiles  # noqa: E402
from tests.read_refusal import refused_in_one_line  # noqa: E402
from tests.stack_predict import predicted_whole_as_streamed  # noqa: E402
from unetlab import UNet, predict_folder  # noqa: E402
from unetlab.data.io import find_images, ome_positions, read_stack, stack_size  # noqa: E402
from unetlab.data.nodata import FileNodata, file_nodata, invalid_pages  # noqa: E402
from unetlab.data.positions import reading_position  # noqa: E402
from unetlab.data.slides import open_slide  # noqa: E402
from unetlab.data.tiffmeta import channel_names, read_page_axes, read_pixel_size  # noqa: E402
from unetlab.errors import ImageReadError, UnetlabError  # noqa: E402
from unetlab.inference.objects import ObjectOptions  # noqa: E402

RNG = np.random.default_rng(0)
METRES = (0.25e-6, 0.5e-6, 2e-6)  # x, y, z: as ZEN's Scaling records them


def _stack(shape=(3, 40, 50, 2)) -> np.ndarray:
    return RNG.integers(0, 4000, shape).astype(np.uint16)


def _planes(stack: np.ndarray, t: int = 0) -> dict:
    return {
        (t, z, c): stack[z, ..., c] for z in range(stack.shape[0]) for c in range(stack.shape[3])
    }


def test_a_z_stack_of_two_named_channels_reads_as_an_ome_tiff_does(tmp_path):
    stack = _stack()
    path = write_czi(tmp_path / "a.czi", _planes(stack), names=["DAPI", "GFP"], metres=METRES)
    read = read_stack(path)
    assert read.dtype == np.uint16 and stack_size(path) == (3, 40, 50, 2)
    np.testing.assert_array_equal(read, stack)
    assert read_page_axes(path, 3).letters == "Z" and channel_names(path) == ["DAPI", "GFP"]
    found = read_pixel_size(path)
    assert found.size == pytest.approx((0.5, 0.25)) and found.spacing == pytest.approx(2.0)
    with open_slide(path) as slide:
        np.testing.assert_array_equal(
            slide.read(2, slice(5, 20), slice(3, 40)), stack[2, 5:20, 3:40]
        )


def test_one_channel_and_a_time_lapse_read_as_pages(tmp_path):
    one = RNG.integers(0, 255, (1, 30, 40, 1)).astype(np.uint8)
    path = write_czi(tmp_path / "one.czi", _planes(one))
    np.testing.assert_array_equal(read_stack(path), one[..., 0])
    assert read_pixel_size(path) is None and channel_names(path) == []
    planes = {(t, z, 0): one[0, ..., 0] + t + z for t in range(2) for z in range(3)}
    lapse = write_czi(tmp_path / "lapse.czi", planes)
    axes = read_page_axes(lapse, 6)
    assert stack_size(lapse) == (6, 30, 40, 1) and (axes.letters, axes.shape) == ("TZ", (2, 3))
    np.testing.assert_array_equal(read_stack(lapse)[4], one[0, ..., 0] + 2)  # t 1, z 1


def test_a_bgr24_brightfield_czi_reads_as_rgb(tmp_path):
    rgb = RNG.integers(0, 255, (10, 12, 3)).astype(np.uint8)
    path = write_czi(tmp_path / "bf.czi", {(0, 0, 0): np.ascontiguousarray(rgb[..., ::-1])})
    np.testing.assert_array_equal(read_stack(path), rgb[None])


def test_a_mosaic_is_read_by_region_and_its_gap_is_nodata(tmp_path):
    """Three 30 x 40 tiles at (100, 200), (140, 200), (100, 230): the fourth quarter a gap."""
    tile = np.full((30, 40), 7, np.uint8)
    tiles = [((100, 200), tile), ((140, 200), tile + 1), ((100, 230), tile + 2)]
    path = write_tiles(tmp_path / "m.czi", [(at, 0, (0, 0, 0), d) for at, d in tiles])
    read = read_stack(path)[0]
    assert read.shape == (60, 80) and (read[:30, :40] == 7).all() and (read[30:, 40:] == 0).all()
    assert file_nodata(path).tiles == ((0, 0, 40, 30), (40, 0, 80, 30), (0, 30, 40, 60))  # by row
    with open_slide(path) as slide:
        np.testing.assert_array_equal(
            slide.read(0, slice(25, 35), slice(35, 45))[..., 0], read[25:35, 35:45]
        )
    whole = write_tiles(tmp_path / "w.czi", [((100, 200), 0, (0, 0, 0), tile)])
    assert file_nodata(whole) == FileNodata()


def test_scenes_are_positions_predicted_each_as_its_own_image(tmp_path, caplog):
    folder = tmp_path / "in"
    folder.mkdir()
    a, b = RNG.random((20, 30)).astype(np.float32), RNG.random((25, 35)).astype(np.float32)
    path = write_tiles(folder / "s.czi", [((0, 0), 0, (0, 0, 0), a), ((500, 0), 1, (0, 0, 0), b)])
    assert ome_positions(path) == ["scene 0", "scene 1"]
    np.testing.assert_array_equal(read_stack(path)[0], a)
    said = "s.czi holds 2 scenes (scene 0, scene 1); this command reads the first (scene 0) only"
    assert said in caplog.text
    with reading_position(path, 1, 2):
        np.testing.assert_array_equal(read_stack(path)[0], b)
    caplog.clear()
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    predict_folder(net, folder, tmp_path / "out")
    assert "reads the first" not in caplog.text  # each is
    outputs = sorted((tmp_path / "out").glob("s_pos*"))
    assert [(p.name, read_stack(p).shape) for p in outputs] == [
        ("s_pos0.png", (1, 20, 30)),
        ("s_pos1.png", (1, 25, 35)),
    ]


def test_scenes_are_named_as_zen_names_them(tmp_path, caplog):
    """s74: "scene 0", "scene 1" where ZEN's metadata names them A1 and B2 (a plate's wells)."""
    a = np.ones((20, 30), np.uint8)
    path = write_tiles(tmp_path / "s.czi", [((0, 0), 0, (0, 0, 0), a), ((500, 0), 1, (0, 0, 0), a)])
    assert ome_positions(name_scenes(path, ["A1", "B2"])) == ["A1", "B2"]
    read_stack(path)
    assert "s.czi holds 2 scenes (A1, B2); this command reads the first (A1) only" in caplog.text


def test_predict_writes_tiff_labels_at_the_pixel_size_streamed_as_whole(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    path = write_czi(folder / "a.czi", _planes(_stack()), names=["DAPI", "GFP"], metres=METRES)
    predicted_whole_as_streamed(path, tmp_path)
    assert find_images(folder) == [path]


def _cut(path: Path) -> Path:
    write_czi(path, _planes(_stack()))
    path.write_bytes(path.read_bytes()[:5000])
    return path


def _mixed(path: Path) -> Path:
    grey, rgb = np.ones((8, 8), np.uint16), np.ones((8, 8, 3), np.uint8)
    return write_czi(path, {(0, 0, 0): grey, (0, 0, 1): rgb})


def _empty(path: Path) -> Path:
    """A CZI of no subblock (an acquisition stopped before its first image)."""
    from pylibCZIrw import czi as pyczi

    with pyczi.create_czi(str(path), exist_ok=True):
        pass
    return path


@pytest.mark.parametrize(
    "make, said",
    [
        (_cut, "cannot be read as CZI: Not enough data read at offset"),
        (_empty, "a CZI that holds no image (no pixels stored"),
        (lambda p: p.write_bytes(b"") or p, "empty file (0 bytes)"),
        (_mixed, "a CZI of channels of pixel types Bgr24, Gray16, which unetlab does not read"),
    ],
)
def test_a_bad_file_is_one_line_naming_it_and_the_fix(tmp_path, make, said):
    refused_in_one_line(
        make(tmp_path / "a.czi"),
        said,
        ("save it again in ZEN", "export it from ZEN as OME-TIFF", "copy the file again"),
    )


def test_a_czi_named_tif_is_told_to_be_renamed(tmp_path):
    path = write_czi(tmp_path / "a.tif", {(0, 0, 0): np.ones((8, 8), np.uint8)})
    with pytest.raises(ImageReadError, match=r"a CZI file named \.tif: rename it a\.czi"):
        read_stack(path)


def test_without_pylibczirw_one_line_names_the_extra(tmp_path, monkeypatch):
    path = write_czi(tmp_path / "a.czi", {(0, 0, 0): np.ones((8, 8), np.uint8)})
    monkeypatch.setitem(sys.modules, "pylibCZIrw.czi", None)
    with pytest.raises(ImageReadError, match=r"a\.czi: reading Zeiss CZI .* 'unetlab\[czi\]'"):
        read_stack(path)


def test_predict_writes_a_mosaics_gap_as_nodata_whole_and_streamed(tmp_path):
    """s74: the gap is told by the tiles, not by 0: before, the pixels 0 inside a tile (a
    dark field's, here rows 10-19 of the first) were nodata too (labels 255 there)."""
    from unetlab.inference.records import OutputOptions

    folder = tmp_path / "in"
    folder.mkdir()
    starts = ((100, 200), (150, 200), (100, 240))
    tiles = [(at, 0, (0, 0, 0), RNG.integers(50, 200, (40, 50)).astype(np.uint8)) for at in starts]
    tiles[0][3][10:20] = 0
    path = write_tiles(folder / "m.czi", tiles, metres=(0.5e-6, 0.5e-6, 0))
    gap = np.zeros((80, 100), bool)
    gap[40:, 50:] = True
    (found,) = invalid_pages(path, read_stack(path))
    np.testing.assert_array_equal(found, gap)
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    predict_folder(net, folder, tmp_path / "whole")
    predict_folder(net, folder, tmp_path / "streamed", OutputOptions(large_threshold=100))
    with tifffile.TiffFile(tmp_path / "whole" / "m.tif") as tif:
        labels, nodata = tif.asarray(), tif.pages[0].tags[42113].value
    assert nodata == "255" and (labels[40:, 50:] == 255).all() and labels[:40, :50].max() < 2
    assert (labels[gap] == 255).all() and (labels[~gap] < 2).all()
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "streamed" / "m.tif"), labels)


TINY = ["--no-plan", "--no-progress", "--epochs", "1", "--set", "model.depth=2"]
TINY += ["--set", "data.tile_size=32", "--set", "model.base_channels=4"]


def _named_pair(root: Path, name: str, names: list[str]) -> None:
    """``root/images/<name>.czi`` of two channels named ``names`` (its nuclei in DAPI's) and
    ``root/masks/<name>.png`` of the nuclei (0/255)."""
    from unetlab.data.io import write_png

    mask = np.zeros((40, 48), bool)
    mask[5:15, 6:16] = mask[22:34, 26:40] = True
    dapi = (mask * 3000 + RNG.integers(200, 400, mask.shape)).astype(np.uint16)
    other = RNG.integers(0, 1000, mask.shape).astype(np.uint16)
    planes = {(0, 0, names.index("DAPI")): dapi, (0, 0, 1 - names.index("DAPI")): other}
    (root / "images").mkdir(parents=True, exist_ok=True)
    write_czi(root / "images" / f"{name}.czi", planes, names=names, metres=(0.5e-6, 0.5e-6, 0))
    write_png(root / "masks" / f"{name}.png", mask.astype(np.uint8) * 255)


@pytest.mark.usefixtures("one_thread")
def test_a_zen_users_walk_train_check_train_predict_evaluate_on_the_command_line(tmp_path):
    """s74: the unetlab command (not only the API) on a folder of CZI and PNG masks: train
    on DAPI by name, predict files whose channels are in another order with --instances
    (labels as a TIFF input's, objects in µm, intensities by ZEN's names), evaluate."""
    from unetlab.cli import main

    for i, names in enumerate((["DAPI", "GFP"], ["DAPI", "GFP"], ["GFP", "DAPI"])):
        _named_pair(tmp_path / ("test" if i == 2 else "data"), f"a{i}", names)
    train = ["train", "--data", str(tmp_path / "data"), "--set", "data.channel=DAPI", *TINY]
    assert main([*train, "--check"]) == 0
    assert main([*train, "--run-dir", str(tmp_path / "run")]) == 0
    best, out = str(tmp_path / "run" / "checkpoints" / "best.pt"), tmp_path / "out"
    predict = ["predict", "--checkpoint", best, "--input", str(tmp_path / "test" / "images")]
    assert main([*predict, "--instances", "--no-progress", "--output", str(out)]) == 0
    with tifffile.TiffFile(out / "a2.tif") as tif:
        assert tif.series[0].shape == (40, 48)
    assert read_pixel_size(out / "a2.tif").size == pytest.approx((0.5, 0.5))
    header = (out / "a2_objects.csv").read_text().splitlines()[0].split(",")
    assert {"area_um2", "mean_intensity_DAPI", "mean_intensity_GFP"} <= set(header)
    assert sorted(p.name for p in (tmp_path / "test" / "images").iterdir()) == ["a2.czi"]
    evaluate = ["evaluate", "--checkpoint", best, "--data", str(tmp_path / "test")]
    assert main([*evaluate, "--no-progress"]) == 0
    assert main(["evaluate", "--pred", str(out), "--gt", str(tmp_path / "test" / "masks")]) == 0


def _predicted(
    folder: Path, out: Path, channels: int = 1, tile_size=None, thresholded=False, **options
) -> None:
    """``folder`` predicted by a small net to ``out/whole`` and ``out/streamed`` (in tiles
    of ``tile_size`` where given; ``thresholded``: a net of a threshold)."""
    from unetlab.inference.records import OutputOptions

    torch.manual_seed(0)
    net = UNet(channels, 2, depth=2, base_channels=4, padding="same").eval()
    if thresholded:  # class 1 where brighter than the page's mean: objects where drawn
        net.forward = lambda x: torch.cat([-x[:, :1], x[:, :1]], 1) * 10
    tiling = {} if tile_size is None else {"tile_size": tile_size}
    predict_folder(net, folder, out / "whole", OutputOptions(**options), **tiling)
    streamed = OutputOptions(large_threshold=100, **options)
    predict_folder(net, folder, out / "streamed", streamed, **tiling)


def _axes_and_columns(out: Path, kind: str) -> tuple:
    with tifffile.TiffFile(out / kind / "a.tif") as tif:
        series = tif.series[0]
        found = (series.axes, series.shape)
    header = (out / kind / "a_objects.csv").read_text().splitlines()[0].split(",")
    return found, [c for c in header if c in ("t", "z")]


def test_a_time_lapse_keeps_its_time_axis_streamed(tmp_path):
    """s74 review: streamed, a CZI time-lapse's pages were "Z" (ZYX labels, objects with z,
    not t; T=2 x Z=3: 6 z planes at 2 µm), read whole TYX and TZYX."""
    (tmp_path / "t").mkdir()
    lapse = {(t, 0, 0): RNG.integers(0, 4000, (40, 50)).astype(np.uint16) for t in range(3)}
    write_czi(tmp_path / "t" / "a.czi", lapse, metres=METRES)
    axes = read_page_axes(tmp_path / "t" / "a.czi", 3)
    assert (axes.letters, axes.shape) == ("T", (3,))  # not TZ (3, 1)
    _predicted(tmp_path / "t", tmp_path / "t_out", objects=True)
    for kind in ("whole", "streamed"):
        assert _axes_and_columns(tmp_path / "t_out", kind) == (("TYX", (3, 40, 50)), ["t"])
    (tmp_path / "tz").mkdir()
    stack = _stack((6, 40, 50, 2))
    planes = {(i // 3, i % 3, c): stack[i, ..., c] for i in range(6) for c in range(2)}
    write_czi(tmp_path / "tz" / "a.czi", planes, names=["DAPI", "GFP"], metres=METRES)
    _predicted(tmp_path / "tz", tmp_path / "tz_out", 2, objects=True)
    for kind in ("whole", "streamed"):
        found = _axes_and_columns(tmp_path / "tz_out", kind)
        assert found == (("TZYX", (2, 3, 40, 50)), ["t", "z"]), kind


def test_a_plates_scenes_are_named_by_well_and_position(tmp_path):
    """s74 review: ZEN names a plate's scene by its position (``P1``) and its well in
    ``ArrayName`` (as Zeiss' czitools reads them): they were named P1, P2."""
    a = np.ones((20, 30), np.uint8)
    path = write_tiles(tmp_path / "s.czi", [((0, 0), 0, (0, 0, 0), a), ((500, 0), 1, (0, 0, 0), a)])
    assert ome_positions(name_scenes(path, ["P1", "P2"], ["B4", "B5"])) == ["B4 P1", "B5 P2"]


def _overlapping_scenes(path: Path) -> Path:
    """Scene 0 an L of three 30 x 40 tiles, its bounding box's corner (40, 30) holding scene
    1's first tile (its second beside it)."""
    tile = lambda v: np.full((30, 40), v, np.uint8)  # noqa: E731
    at = ((0, 0, 10), (40, 0, 20), (0, 30, 30), (40, 30, 50), (80, 30, 60))
    return write_tiles(path, [((x, y), int(v > 40), (0, 0, 0), tile(v)) for x, y, v in at])


def test_a_scenes_gap_holding_another_scenes_tile_is_nodata(tmp_path):
    """s74 review: scene 0's gap held a tile of scene 1, so its tiles were told to leave no
    gap (tiles ()), while libCZI reads 0 there (scene 0's own tiles alone): predicted as
    image."""
    path = _overlapping_scenes(tmp_path / "s.czi")
    read = read_stack(path)
    gap = np.zeros((60, 80), bool)
    gap[30:, 40:] = True
    assert (read[0][gap] == 0).all() and (read[0][~gap] > 0).all()
    assert file_nodata(path).tiles == ((0, 0, 40, 30), (40, 0, 80, 30), (0, 30, 40, 60))
    np.testing.assert_array_equal(invalid_pages(path, read)[0], gap)
    with reading_position(path, 1, 2):
        assert file_nodata(path).tiles == ()  # its two tiles cover its box


def test_a_mosaics_header_is_read_once_and_its_gaps_found_without_a_mask(tmp_path, monkeypatch):
    """s74 review: whether a mosaic leaves gaps was learnt by a mask of its whole size (a
    40,960-pixel-square scan's: 1.6 GB), and outside predict its header read again at each
    look (train: 9 to 13 times a file)."""
    import tracemalloc

    from unetlab.data import czi

    tile = np.ones((8, 8), np.uint8)
    path = write_tiles(
        tmp_path / "m.czi", [((0, 0), 0, (0, 0, 0), tile), ((8000, 8000), 0, (0, 0, 0), tile)]
    )
    reads = []
    monkeypatch.setattr(czi, "_read", lambda *a, real=czi._read: reads.append(a) or real(*a))
    tracemalloc.start()
    try:
        found = file_nodata(path).tiles
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == ((0, 0, 8, 8), (8000, 8000, 8008, 8008)) and peak < 8 * 2**20  # not 64 MB
    assert stack_size(path) == (1, 8008, 8008, 1) and read_pixel_size(path) is None
    assert channel_names(path) == [] and read_page_axes(path, 1).letters == ""
    assert len(reads) == 1


def test_a_pyramid_tile_over_a_gap_leaves_it_a_gap(tmp_path):
    """A slide scan's zoomed-out (pyramid) subblock covers the gap of its full-resolution
    tiles: the gap is still nodata (libCZI composes the full-resolution tiles alone), at
    level 1 too (s75 review: a level's gaps are where its layer's or level 0's tiles leave
    them)."""
    tile = lambda v: np.full((32, 32), v, np.uint8)  # noqa: E731
    at = ((0, 0, 10), (32, 0, 20), (0, 32, 30), (100, 100, 40))
    path = write_tiles(tmp_path / "p.czi", [((x, y), 0, (0, 0, 0), tile(v)) for x, y, v in at])
    as_pyramid_tile(path, 100, 64)  # the last: 64 x 64 of the image stored 32 x 32
    assert read_stack(path).shape == (1, 64, 64)
    assert file_nodata(path).tiles == ((0, 0, 32, 32), (32, 0, 64, 32), (0, 32, 32, 64))
    level = ((0, 0, 16, 16), (16, 0, 32, 16), (0, 16, 16, 32))  # its layer's over the gap too
    assert file_nodata(path, 1).tiles == level


def test_colour_and_what_a_mosaics_gaps_are_called(tmp_path):
    from unetlab.data.colour import colour_file
    from unetlab.inference.slide_nodata import SlideNodata

    grey = write_czi(tmp_path / "g.czi", {(0, 0, 0): np.ones((8, 8), np.uint8)})
    bgr = write_czi(tmp_path / "bf.czi", {(0, 0, 0): np.ones((8, 8, 3), np.uint8)})
    assert colour_file(bgr) is True and colour_file(grey) is False
    assert SlideNodata(tiles=((0, 0, 4, 4),)).kind() == "nodata"


def test_level_above_0_says_full_resolution_only(tmp_path):
    """s74 review: "has no pyramid (level 0 alone)", untrue of a ZEN slide scan's."""
    path = write_czi(tmp_path / "a.czi", {(0, 0, 0): np.ones((8, 8), np.uint8)})
    with pytest.raises(UnetlabError, match=r"a CZI at full resolution only .*: give level=0"):
        open_slide(path, level=1)
    with pytest.raises(UnetlabError, match=r"only \(it holds no pyramid of ZEN.s\)"):
        open_slide(path, level=1)


def test_level_1_reads_zen_pyramid_layer_at_its_size_and_pixel_size(tmp_path):
    """s75: --level was refused of every CZI, a slide scan's ZEN pyramid too. Now a layer
    its subblocks hold is a level, read from the layer's own tiles (libCZI's read at its
    zoom: here the layer's 40, not the full-resolution 10-35 scaled down), at its size and
    pixel size; a level it lacks is refused naming those it has."""
    from unetlab.data import czi
    from unetlab.inference.records import OutputOptions
    from unetlab.inference.slide_nodata import SlideNodata

    tile = lambda v: np.full((32, 32), v, np.uint8)  # noqa: E731
    at = ((0, 0, 10), (32, 0, 20), (0, 32, 30), (32, 32, 35), (100, 100, 40))
    folder = tmp_path / "in"
    folder.mkdir()
    tiles = [((x, y), 0, (0, 0, 0), tile(v)) for x, y, v in at]
    path = write_tiles(folder / "p.czi", tiles, metres=(0.5e-6, 0.5e-6, 0))
    as_pyramid_tile(path, 100, 64)  # the last: 64 x 64 of the image stored 32 x 32
    with open_slide(path, level=1) as slide:
        assert slide.shape[1:3] == (32, 32) and slide.pixel_size == (1.0, 1.0)
        assert (slide.read(0, slice(5, 20), slice(0, 32)) == 40).all()
        assert slide.levels == 2 and slide.downsample == (2.0, 2.0)
    with pytest.raises(UnetlabError, match=r"has 2 pyramid levels; choose level=0 to level=1"):
        open_slide(path, level=2)
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    predict_folder(net, folder, tmp_path / "out", OutputOptions(large_threshold=100), level=1)
    assert read_pixel_size(tmp_path / "out" / "p.tif").size == (1.0, 1.0)
    assert tifffile.imread(tmp_path / "out" / "p.tif").shape == (32, 32)
    assert file_nodata(path, 1).tiles == ()  # its layer covers the level: no gap
    gaps = ((0, 0, 32, 32), (32, 0, 64, 32), (0, 32, 31, 64))  # at level 0
    found = SlideNodata(tiles=czi._scaled(gaps, 2, (32, 32))).invalid(np.zeros((32, 32, 1)))
    gap = np.zeros((32, 32), bool)
    gap[16:, 16:] = True  # column 15 reached by the tile ending at 31: sample
    np.testing.assert_array_equal(found, gap)


def _gapped_pyramid(folder: Path) -> np.ndarray:
    """``folder/g.czi``: a 128 x 128 mosaic of three 64-px tiles (the bottom right a gap) at
    0.5 µm and a half-size layer of ZEN's pyramid of three tiles of varied values (stored 32
    x 32 each); returns that layer composed (64 x 64, 0 in the gap)."""
    folder.mkdir()
    at = ((0, 0), (64, 0), (0, 64))
    tiles = [((x, y), 0, (0, 0, 0), np.full((64, 64), 10 + x + y, np.uint8)) for x, y in at]
    layer = np.zeros((64, 64), np.uint8)
    for k, (x, y) in enumerate(at):
        data = RNG.integers(20, 250, (32, 32)).astype(np.uint8)
        tiles.append(((1000 + 100 * k, 1000), 0, (0, 0, 0), data))
        layer[y // 2 : y // 2 + 32, x // 2 : x // 2 + 32] = data
    path = write_tiles(folder / "g.czi", tiles, metres=(0.5e-6, 0.5e-6, 0))
    for k, (x, y) in enumerate(at):
        as_pyramid_tile(path, 1000 + 100 * k, 64, at=(x, y))
    return layer


def test_level_1_of_a_gapped_mosaic_reads_its_layer_and_predicts_its_gap_as_nodata(tmp_path):
    """s75 review: `predict --level 1` of a CZI under the large-image size went to the
    whole-read path, which said "has no pyramid" (false), and no test read a layer at an
    offset in several of its tiles or predicted one with a gap. A layer of varied values
    read at offsets, and the command line (no --large-pixels) predicting its gap as nodata."""
    from tests.test_nproc_run_lines import _checkpoint
    from unetlab.cli import main

    layer = _gapped_pyramid(tmp_path / "in")
    with open_slide(tmp_path / "in" / "g.czi", level=1) as slide:
        assert slide.shape[1:3] == (64, 64) and slide.pixel_size == (1.0, 1.0)
        for rows, cols in ((slice(10, 50), slice(20, 60)), (slice(3, 29), slice(33, 61))):
            np.testing.assert_array_equal(slide.read(0, rows, cols)[..., 0], layer[rows, cols])
    _checkpoint(tmp_path / "m.pt")
    out = tmp_path / "out"
    predict = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    assert main([*predict, "--level", "1", "--no-progress", "--output", str(out)]) == 0
    labels = tifffile.imread(out / "g.tif")
    gap = np.zeros((64, 64), bool)
    gap[32:, 32:] = True
    assert labels.shape == (64, 64) and read_pixel_size(out / "g.tif").size == (1.0, 1.0)
    assert (labels[gap] == 255).all() and (labels[~gap] < 2).all()


def test_a_level_whose_layer_covers_part_of_the_scene_predicts_the_rest_as_nodata(tmp_path, caplog):
    """s75 review: where ZEN's layer covers only part of the scene, libCZI reads the rest 0,
    which was predicted as image, unsaid (a level's gaps were level 0's, scaled: a file of
    none had no nodata at all). Now a level's gaps are where its layer's own tiles or level
    0's leave them, and one line says the share its layer lacks."""
    from tests.test_nproc_run_lines import _checkpoint
    from unetlab.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    at = ((0, 0, 10), (32, 0, 20), (0, 32, 30), (32, 32, 35))
    tiles = [((x, y), 0, (0, 0, 0), np.full((32, 32), v, np.uint8)) for x, y, v in at]
    tiles.append(((100, 100), 0, (0, 0, 0), RNG.integers(20, 250, (16, 16)).astype(np.uint8)))
    path = write_tiles(folder / "p.czi", tiles, metres=(0.5e-6, 0.5e-6, 0))
    as_pyramid_tile(path, 100, 32)  # the layer: the top-left quarter alone
    assert file_nodata(path).tiles == () and file_nodata(path, 1).tiles == ((0, 0, 16, 16),)
    _checkpoint(tmp_path / "m.pt")
    out = tmp_path / "out"
    predict = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(folder)]
    with caplog.at_level("WARNING"):
        assert main([*predict, "--level", "1", "--no-progress", "--output", str(out)]) == 0
    labels = tifffile.imread(out / "p.tif")
    assert labels.shape == (32, 32) and (labels[:16, :16] < 2).all()
    labels[:16, :16] = 255
    assert (labels == 255).all()
    said = [r.getMessage() for r in caplog.records if "pyramid layer" in r.getMessage()]
    assert len(said) == 1 and "p.czi: level 1 (ZEN's pyramid layer of 1/2) lacks 75%" in said[0]
    assert "--level 0" in said[0]


def test_covered_area_counts_each_band_of_gap_rows_at_its_own_rows(monkeypatch):
    """s75 review: no mosaic of the tests was taller than GAP_ROWS (8,192), so covered_area
    looking at each band as if it began at row 0 passed (a 10,000-row mosaic with a gap at
    its bottom reported all covered). GAP_ROWS patched to 8: a mask counts the pixels."""
    from unetlab.data import czi

    monkeypatch.setattr(czi, "GAP_ROWS", 8)
    tiles = ((0, 0, 20, 12), (20, 0, 30, 25), (0, 12, 14, 25), (3, 25, 30, 30))
    mask = np.zeros((37, 30), bool)
    for x0, y0, x1, y1 in tiles:
        mask[y0:y1, x0:x1] = True
    assert czi.covered_area(tiles, 30, (0, 37)) == mask.sum() == 30 * 25 - 6 * 13 + 27 * 5


def _tall_mosaic(folder: Path, tile) -> np.ndarray:
    """``folder/m.czi``: 12 x 2 tiles of 250 x 50 (``tile(i, j)`` their pixels), the right
    ones of rows 9 and 10 missing; returns its gap (a bool mask of the image)."""
    folder.mkdir()
    tiles = []
    for i, j in ((i, j) for i in range(12) for j in range(2) if (i, j) not in ((9, 1), (10, 1))):
        tiles.append(((300 + 50 * j, 700 + 250 * i), 0, (0, 0, 0), tile(i, j)))
    write_tiles(folder / "m.czi", tiles, metres=(0.5e-6, 0.5e-6, 0))
    gap = np.zeros((3000, 100), bool)
    gap[2250:2750, 50:] = True
    return gap


def _same_streamed_as_whole(out: Path) -> str:
    """The objects table of ``out/whole``, checked the same as ``out/streamed``'s, as its
    labels and objects."""
    for name in ("m.tif", "m_objects.tif"):
        streamed = tifffile.imread(out / "streamed" / name)
        np.testing.assert_array_equal(streamed, tifffile.imread(out / "whole" / name))
    table = [(out / k / "m_objects.csv").read_text() for k in ("whole", "streamed")]
    assert table[0] == table[1]
    return table[0]


def test_a_tall_mosaics_gap_below_the_first_band_is_nodata_streamed_as_whole(tmp_path):
    """s74 review: the tests' mosaics were one band tall, so a streamed window told its gaps
    as if it began at row 0 passed them (3,000 rows: 230 label pixels apart). 12 x 2 tiles
    of 250 x 50, the right ones of rows 9 and 10 missing; a dark band and an object in each.
    s75: predicted in tiles of 256 (before, in one tile of the page, its labels written in
    one block from row 0: a gap told at row 0 by :func:`slides._blanking` passed)."""

    def tile(i: int, j: int) -> np.ndarray:
        data = RNG.integers(50, 200, (250, 50)).astype(np.uint8)
        data[100:120], data[30:60, 10:40] = 0, 230  # image, however dark; an object
        return data

    gap = _tall_mosaic(tmp_path / "in", tile)
    _predicted(tmp_path / "in", tmp_path, objects=True, tile_size=256)
    whole = tifffile.imread(tmp_path / "whole" / "m.tif")
    assert (whole[gap] == 255).all() and (whole[~gap] < 2).all()
    _same_streamed_as_whole(tmp_path)


@pytest.mark.parametrize("split", [False, True])  # in bands exactly; by bands with margins
def test_objects_beside_a_gap_below_the_first_band_are_cut_streamed_as_whole(tmp_path, split):
    """s75 (s74 review: no test failed where the streamed objects told a window's gaps as if
    it began at row 0, ``slide_objects._outside`` and ``_cutting``): the mosaic above, a net
    of a threshold, an object in each tile and three beside the gap, below the first band of
    objects: cut by it (touching the border; 80 px kept, as cut objects of 64 px are, where
    a whole one needs 100), found in bands exactly (a semantic net's) and with a distance
    split (bands with margins)."""

    def tile(i: int, j: int) -> np.ndarray:
        data = np.full((250, 50), 60, np.uint8)
        data[100:120], data[30:60, 10:40] = 0, 230  # image, however dark; an object
        if (i, j) == (9, 0):  # an object beside the gap: on its left
            data[160:190, 30:] = 230
        if (i, j) == (10, 0):  # 80 px beside it: kept as cut (64 px), not whole (100)
            data[200:204, 30:] = 230
        if (i, j) == (11, 1):  # ... below it
            data[:20, 10:40] = 230
        return data

    gap = _tall_mosaic(tmp_path / "in", tile)
    least = ObjectOptions(min_area=100, distance_split=split)
    _predicted(tmp_path / "in", tmp_path, objects=least, tile_size=256, thresholded=True)
    whole = tifffile.imread(tmp_path / "whole" / "m.tif")
    assert (whole[gap] == 255).all() and (whole[~gap] < 2).all() and whole[2420, 40] == 1
    rows = list(csv.DictReader(io.StringIO(_same_streamed_as_whole(tmp_path))))
    ids = tifffile.imread(tmp_path / "whole" / "m_objects.tif")
    beside = {int(ids[2425, 45]), int(ids[2700, 45]), int(ids[2755, 75])}  # cut by the gap
    cut = {int(r["id"]) for r in rows if r["touches_border"] == "true"}
    assert len(rows) == 25 and 0 not in beside and cut == beside


def test_a_channel_lacking_tiles_the_others_have_is_said_once_and_read_as_image(tmp_path, caplog):
    """s74 review: a channel with fewer tiles than the others (an acquisition cut off) was
    taken as covered, silently. Decided: the gaps are the union's (a pixel no channel's
    tile covers is nodata), and a pixel one channel lacks (read 0 in it, predicted as image)
    is said once, naming the channel and the pixels."""
    tile = lambda v: np.full((30, 40), v, np.uint8)  # noqa: E731
    at = [((0, 0), 0, (0, 0, c), tile(10 + c)) for c in (0, 1)]
    at += [((40, 0), 0, (0, 0, c), tile(20 + c)) for c in (0, 1)]
    at += [((0, 30), 0, (0, 0, 0), tile(30))]  # DNA's alone
    path = write_tiles(tmp_path / "m.czi", at, names=["DNA", "actin"])
    gap = np.zeros((60, 80), bool)
    gap[30:, 40:] = True
    with caplog.at_level("WARNING"):
        read = read_stack(path)
        np.testing.assert_array_equal(invalid_pages(path, read)[0], gap)
        read_stack(path)
    assert (read[0, 30:, :40, 1] == 0).all() and (read[0, 30:, :40, 0] == 30).all()
    said = [r.getMessage() for r in caplog.records if "lacks" in r.getMessage()]
    assert len(said) == 1, said
    assert "m.czi: channel actin lacks 1200 px" in said[0] and "nodata" in said[0]


def test_a_channel_lacking_tiles_in_many_planes_is_said_in_one_line(tmp_path, caplog):
    """s75 review: the line was said once a plane (5 time points x 3 z: 15 lines for one
    channel). Now once a channel, with the planes and the most pixels one lacks."""
    tile = lambda v: np.full((30, 40), v, np.uint8)  # noqa: E731
    at = []
    for t, z in ((t, z) for t in range(5) for z in range(3)):
        at += [((0, 0), 0, (t, z, c), tile(10 + c)) for c in (0, 1)]
        at += [((40, 0), 0, (t, z, c), tile(20 + c)) for c in (0, 1) if (t, z, c) != (4, 2, 1)]
        at += [((0, 30), 0, (t, z, 0), tile(30))]  # DNA's alone
    path = write_tiles(tmp_path / "m.czi", at, names=["DNA", "actin"])
    with caplog.at_level("WARNING"):
        read_stack(path)
    said = [r.getMessage() for r in caplog.records if "lacks" in r.getMessage()]
    assert len(said) == 1, said
    assert "m.czi: channel actin lacks up to 2400 px in 15 of its 15 planes" in said[0]


def test_a_narrow_edge_tile_of_a_pyramid_layer_makes_no_level_of_its_own(tmp_path):
    """s75 review: a layer's zoom was taken from a tile's width alone, so a zoom-4 layer's
    edge tile 6 x 64 stored 2 x 16 made a level of 1/3 (levels 2, 3, 4), which libCZI
    serves by scaling another layer. Now the larger side's (as libCZI takes it)."""
    from unetlab.data.czi import czi_source

    f = lambda h, w, v: np.full((h, w), v, np.uint8)  # noqa: E731
    tiles = [((0, 0), 0, (0, 0, 0), f(64, 64, 10)), ((64, 0), 0, (0, 0, 0), f(64, 6, 20))]
    tiles += [((5000, 0), 0, (0, 0, 0), f(16, 16, 14)), ((5300, 0), 0, (0, 0, 0), f(16, 2, 24))]
    path = write_tiles(tmp_path / "e.czi", tiles)
    as_pyramid_tile(path, 5000, 64)
    as_pyramid_tile(path, 5300, (6, 64), at=(64, 0))
    assert czi_source(path).pyramid == (4,)
