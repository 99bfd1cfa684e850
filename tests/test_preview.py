"""``unetlab.data.preview`` and ``unetlab train --check --preview DIR``: the run's first
training tiles drawn as PNGs (input, coloured target, weight map) and a contact sheet."""

import numpy as np
import pytest
from PIL import Image

from unetlab.cli import main
from unetlab.data.datasets import Sample, TileDataset
from unetlab.data.io import write_png
from unetlab.data.labels import IGNORE_INDEX
from unetlab.data.preview import (
    FRAME,
    IGNORED,
    SHEET,
    caption,
    class_shares,
    draw_tiles,
    framed,
    grey_window,
    image_rgb,
    panel_row,
    target_rgb,
    tile_colours,
    tile_panels,
    with_caption,
    write_preview,
    zoom_for,
)
from unetlab.data.transforms import Augment
from unetlab.errors import OutputError, UnetlabError

NAMES = ["background", "cell", "edge"]


def _samples(weight=True):
    rng = np.random.default_rng(1)
    samples = []
    for i in range(3):
        mask = rng.integers(0, 3, (40, 48)).astype(np.int64)
        mask[:, :5] = IGNORE_INDEX
        image = rng.normal(size=(1, 40, 48)).astype(np.float32)
        w = rng.uniform(1, 4, (40, 48)).astype(np.float32) if weight else None
        samples.append(Sample(f"img{i}", image, mask, w))
    return samples


def _dataset(seed=0, weight=True, sizes=(36, 20)):
    return TileDataset(
        _samples(weight),
        input_size=sizes[0],
        output_size=sizes[1],
        augment=Augment(elastic=True, gamma=0.2),
        tiles_per_epoch=8,
        seed=seed,
    )


def _read(path):
    return np.asarray(Image.open(path).convert("RGB"))


def test_writes_n_tiles_and_a_contact_sheet_as_drawn(tmp_path):
    dataset = _dataset()
    paths = write_preview(dataset, tmp_path / "p", count=5, class_names=NAMES)
    assert [p.name for p in paths] == [f"tile_{i:03d}.png" for i in range(5)] + [SHEET]
    assert all(p.is_file() for p in paths)
    zoom = zoom_for(36)
    colours, window = tile_colours(range(3)), grey_window(dataset)
    top = max(float(s.weight.max()) for s in dataset.samples)
    for view, path in zip(draw_tiles(dataset, 5), paths):
        assert view.image.shape == (1, 36, 36) and view.target.shape == (20, 20)
        panels = tile_panels(view, colours, window=window, top_weight=top)
        assert [p.shape for p in panels] == [(36, 36, 3), (20, 20, 3), (20, 20, 3)]
        row = panel_row(panels, zoom)
        assert row.shape == (36 * zoom, (36 + 20 + 20) * zoom + 2 * 4, 3)
        np.testing.assert_array_equal(_read(path), with_caption(row, caption(view, NAMES)))
    sheet = _read(paths[-1])
    assert sheet.shape[0] > 2 * 36 * zoom and sheet.shape[1] > 3 * row.shape[1]  # 2 x 3 grid


def test_tiles_are_the_runs_tiles_and_repeat_with_the_seed(tmp_path):
    dataset = _dataset()
    for view in draw_tiles(dataset, 4, epoch=2):
        image, target, _ = dataset[(2, view.index)]
        np.testing.assert_array_equal(view.image, image.numpy())
        np.testing.assert_array_equal(view.target, target.numpy())
        assert view.name == dataset.samples[view.sample].name
    one = write_preview(_dataset(), tmp_path / "a", count=3, class_names=NAMES)
    two = write_preview(_dataset(), tmp_path / "b", count=3, class_names=NAMES)
    other = write_preview(_dataset(seed=5), tmp_path / "c", count=3, class_names=NAMES)
    assert [p.read_bytes() for p in one] == [p.read_bytes() for p in two]
    assert [p.read_bytes() for p in one] != [p.read_bytes() for p in other]


def test_target_colours_are_the_classes_and_ignored_is_grey():
    target = np.array([[0, 1, 2, IGNORE_INDEX], [2, IGNORE_INDEX, IGNORE_INDEX, 1]])
    colours = np.array([[10, 20, 30], [200, 0, 0], [0, 0, 250]], np.uint8)
    rgb = target_rgb(target, colours)
    labelled = target >= 0
    np.testing.assert_array_equal(rgb[labelled], colours[target[labelled]])
    greys = {tuple(c) for c in rgb[~labelled]}
    assert greys <= set(IGNORED) and len(greys) == 2  # a checkerboard
    with pytest.raises(ValueError, match="class 2 has no colour"):
        target_rgb(target, colours[:2])
    palette = np.zeros((256, 3), np.uint8)
    palette[255] = (1, 2, 3)
    np.testing.assert_array_equal(tile_colours([0, 255], palette), [[0, 0, 0], [1, 2, 3]])


def test_the_picture_shows_the_target_in_its_colours(tmp_path):
    dataset = _dataset()
    colours = np.array([[10, 20, 30], [200, 0, 0], [0, 0, 250]], np.uint8)
    paths = write_preview(dataset, tmp_path / "p", count=8, class_names=NAMES, colours=colours)
    zoom, ignored = zoom_for(36), 0
    for view, path in zip(draw_tiles(dataset, 8), paths):
        picture, target = _read(path), view.target
        y = picture.shape[0] - 36 * zoom + 8 * zoom  # under the caption, centred on the input
        x = 36 * zoom + 4  # right of the input and the gap
        shown = picture[y : y + 20 * zoom : zoom, x : x + 20 * zoom : zoom]
        labelled = target >= 0
        np.testing.assert_array_equal(shown[labelled], colours[target[labelled]])
        assert {tuple(c) for c in shown[~labelled]} <= set(IGNORED)
        shares = class_shares(target, NAMES)
        assert sum(shares.values()) == pytest.approx(1.0)
        ignored += shares.get("ignored", 0) > 0
    assert ignored  # some tiles hold ignored pixels


def test_no_weight_panel_without_a_weight_map_and_a_valid_nets_window_framed():
    dataset = _dataset(weight=False)
    view = draw_tiles(dataset, 1)[0]
    assert view.weight is None
    panels = tile_panels(view, tile_colours(range(3)), window=grey_window(dataset), top_weight=1)
    assert len(panels) == 2
    drawn = framed(np.zeros((10, 10, 3), np.uint8), 3)
    ring = np.zeros((10, 10), bool)
    ring[2:8, 2:8] = True
    ring[3:7, 3:7] = False
    assert (drawn[ring] == FRAME).all() and not drawn[~ring].any()
    assert (framed(drawn, 0) == drawn).all()


def test_images_are_shown_on_one_grey_scale_per_channel():
    window = np.array([[0.0, 1.0], [-1.0, 1.0], [0.0, 2.0], [5.0, 6.0]])
    image = np.array([[[0.0, 0.5, 2.0]], [[-1.0, 0.0, 1.0]], [[0.0, 1.0, 2.0]], [[9, 9, 9]]])
    rgb = image_rgb(image.astype(np.float32), window)
    assert rgb.shape == (1, 3, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[0], [[0, 0, 0], [128, 128, 128], [255, 255, 255]])
    for channels in (1, 2):  # the first channel, grey
        grey = image_rgb(image[:channels].astype(np.float32), window)
        np.testing.assert_array_equal(grey[0], [[0] * 3, [128] * 3, [255] * 3])


def test_refuses_a_folder_of_other_files_and_too_many_tiles(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep")
    with pytest.raises(OutputError, match="not written by unetlab|unetlab did not write"):
        write_preview(_dataset(), folder, count=2, class_names=NAMES)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    with pytest.raises(UnetlabError, match="give 1 to 8"):
        write_preview(_dataset(), tmp_path / "new", count=9, class_names=NAMES)
    assert not (tmp_path / "new").exists()
    again = tmp_path / "again"
    write_preview(_dataset(), again, count=4, class_names=NAMES)
    (again / "notes.txt").write_text("keep")
    with pytest.raises(OutputError, match="not written by unetlab|unetlab did not write"):
        write_preview(_dataset(), again, count=2, class_names=NAMES)
    (again / "notes.txt").unlink()
    write_preview(_dataset(), again, count=2, class_names=NAMES)  # its own files: replaced
    names = sorted(p.name for p in again.iterdir())
    assert names == [".unetlab-outputs", "tile_000.png", "tile_001.png", SHEET]


def _data(root):
    rng = np.random.default_rng(0)
    for i in range(4):
        mask = np.zeros((32, 32), np.uint8)
        mask[8:20, 10 + i : 24] = 1
        write_png(root / "images" / f"{i:02d}.png", rng.integers(0, 255, (32, 32), np.uint8))
        write_png(root / "masks" / f"{i:02d}.png", mask)
    return root


def test_train_check_preview_writes_the_tiles_and_nothing_else(tmp_path, monkeypatch, caplog):
    _data(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    caplog.set_level("INFO")
    args = ["train", "--data", "data", "--check", "--set", "model.depth=2"]
    assert main([*args, "--preview", "look", "--preview-tiles", "3"]) == 0
    names = sorted(p.name for p in (tmp_path / "look").iterdir())
    assert names == [".unetlab-outputs", "tile_000.png", "tile_001.png", "tile_002.png", SHEET]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "look"]
    assert "preview: 3 training tiles" in caplog.text and "nothing else written" in caplog.text
    # its last line's advice works: 'without --check' alone left --preview, refused without
    # --check ('add --check'), a loop (audit s40 readme)
    assert "same command without --check and --preview" in caplog.text
    assert main(["train", "--data", "data", "--preview", "look"]) == 2


def test_a_rare_class_in_a_tile_is_never_captioned_0_percent():
    """A person of 40 px in a 232-px tile is 0.07 % of it: "person 0%" said it was not there
    (audit s39 roads); a class absent stays 0%, one of 1 % or more whole percents."""
    from unetlab.data.preview import TileView

    target = np.zeros((100, 100), np.int64)
    target[:30] = 1
    target[50:52, 50:53] = 2  # 6 px: 0.06 %
    view = TileView(0, 0, 0, "road_1", np.zeros((1, 100, 100), np.float32), target, None)
    said = caption(view, ["road", "car", "person", "pole"])
    assert said.endswith("road 70%, car 30%, person 0.06%, pole 0%"), said


def test_preview_refusals_name_a_fix_that_works(tmp_path, monkeypatch, capsys):
    """--preview into a folder of the user's files said "add --overwrite", which --check
    refuses ("not allowed with --check"); --preview at a file said ".unetlab-outputs: cannot
    read it (Not a directory)" (audit s41 audittrain). Each is one line with a working fix,
    and nothing is written."""
    _data(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    args = ["train", "--data", "data", "--check", "--set", "model.depth=2", "--preview"]
    assert main([*args, "mine"]) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "error:" in x]
    assert "unetlab did not write (notes.txt)" in line and "--overwrite" not in line
    assert "give an empty or new folder" in line
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]
    assert main([*args, "data/images/00.png"]) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "error:" in x]
    assert "data/images/00.png is a file; give a folder" in line


def test_a_tile_another_command_wrote_is_refused_naming_another_folder(
    tmp_path, monkeypatch, capsys
):
    """A tile's name is fixed: a tile another unetlab command wrote was refused with "give
    another name" (review s60); the fix is another --preview folder."""
    from unetlab.data.preview import tile_name
    from unetlab.outputs import record

    _data(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "look").mkdir()
    record(tmp_path / "look", [tile_name(0)], command="bench")
    (tmp_path / "look" / tile_name(0)).write_bytes(b"bench's")
    args = ["train", "--data", "data", "--check", "--set", "model.depth=2", "--preview", "look"]
    assert main(args) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "error:" in x]
    assert "give --preview another folder" in line and "another name" not in line, line
    assert (tmp_path / "look" / tile_name(0)).read_bytes() == b"bench's"
