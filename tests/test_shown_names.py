"""How predict's per-file lines name a file (:mod:`unetlab.data.shown`): a file of the one
folder given by its name, any other by its path as given; a tree's (``predict --recursive``)
every file by its path as given, its root's own too (review s55 H8)."""

from __future__ import annotations

import logging
import os
import re

import numpy as np
import pytest
import tifffile

from unetlab import UNet, predict_file
from unetlab.inference.folders import predict_folder
from unetlab.inference.tree import predict_tree

BARE = ": 4 pages and no axis metadata"  # a stack that records no axes: read as planes


@pytest.fixture
def net():
    return UNet(1, 2, depth=2, base_channels=2, padding="same").eval()


def _stack(path):
    """A 4-page grey TIFF that records no axes (predict warns, naming it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stack = np.random.default_rng(0).integers(0, 255, (4, 24, 28), dtype=np.uint8)
    tifffile.imwrite(path, stack, photometric="minisblack")
    return path


def _named(caplog, said: str) -> list[str]:
    """The names the lines holding ``said`` give their files (what comes before it; a line
    counting the files of one such line, ``3 files in all (a.tif, b.tif, c.tif)``, those
    it lists but the first, whose own line was said: s69)."""
    names = []
    for m in caplog.messages:
        if (counted := _COUNTED.match(m)) and said[2:] in m:
            names += counted.group(1).split(", ")[1:]
        elif said in m:
            names.append(m.split(said)[0])
    return names


_COUNTED = re.compile(r"\d+ files in all \((.*?)\): ")


def test_a_stack_s_line_names_it_as_the_other_lines_do(tmp_path, net, caplog):
    """The pages' lines (:mod:`unetlab.inference.pages`) named the file by its name alone
    where the run's other lines name it by its path: a glob's file, a file given alone."""
    path = _stack(tmp_path / "in" / "s.tif")
    with caplog.at_level(logging.WARNING):
        predict_folder(net, str(tmp_path / "in" / "*.tif"), tmp_path / "a", progress=False)
        predict_file(net, path, tmp_path / "b")
        predict_folder(net, tmp_path / "in", tmp_path / "c", progress=False)
    assert _named(caplog, BARE) == [str(path), str(path), "s.tif"]


def test_a_folder_given_as_the_root_too_names_its_files_by_name(tmp_path, net, caplog):
    """``predict_folder(m, "in", root="in")`` named its files by path where
    ``predict_folder(m, "in")`` named them by name: the same folder, the same names."""
    folder = tmp_path / "in"
    _stack(folder / "s.tif")
    with caplog.at_level(logging.WARNING):
        predict_folder(net, folder, tmp_path / "a", progress=False)
        predict_folder(net, folder, tmp_path / "b", progress=False, root=folder)
        predict_folder(net, str(folder), tmp_path / "c", progress=False, root=f"{folder}/")
    assert _named(caplog, BARE) == ["s.tif"] * 3
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # a glob of it: from the root, as a list's files
        predict_folder(net, str(folder / "*.tif"), tmp_path / "d", progress=False, root=folder)
        predict_folder(net, str(folder / "*.tif"), tmp_path / "e", progress=False)  # by path
    assert _named(caplog, BARE) == ["s.tif", str(folder / "s.tif")]


def test_a_folder_given_as_the_root_in_another_form_names_its_files_by_name(
    tmp_path, net, caplog, monkeypatch
):
    """The root given in another form than the folder (absolute, or the folder a link to
    it) named the files by their paths from the root: by name, from the folder as given."""
    monkeypatch.chdir(tmp_path)
    _stack(tmp_path / "in" / "s.tif")
    os.symlink("in", "lnk")
    with caplog.at_level(logging.WARNING):
        predict_folder(net, "in", "a", progress=False, root=os.path.abspath("in"))
        predict_folder(net, "lnk", "b", progress=False, root="in")
        predict_folder(net, os.path.abspath("in"), "c", progress=False, root="in")
        # its files listed, the root in another form (s56 review F2: named in/s.tif, lnk/s.tif)
        predict_folder(net, ["in/s.tif"], "d", progress=False, root=os.path.abspath("in"))
        predict_folder(net, ["lnk/s.tif"], "e", progress=False, root="in")
    assert _named(caplog, BARE) == ["s.tif"] * 5


def test_a_listed_file_s_table_row_names_it_from_a_root_spelled_otherwise(
    tmp_path, net, monkeypatch
):
    """``["in/s.tif"]`` with ``root="/abs/in"``: its lines named it ``s.tif`` but its
    tables' ``path`` column ``in/s.tif`` (the two compared unresolved, s57 docs7): the
    folder's name, as ``predict_folder(m, "in")`` writes it; a file outside the root keeps
    its path as given."""
    monkeypatch.chdir(tmp_path)
    _stack(tmp_path / "in" / "s.tif"), _stack(tmp_path / "other" / "t.tif")
    os.symlink("in", "lnk")
    rows = {}
    for out, files in (("a", "in"), ("b", ["in/s.tif"]), ("c", ["lnk/s.tif", "other/t.tif"])):
        done = predict_folder(
            net, files, out, progress=False, objects=True, root=os.path.abspath("in")
        )
        rows[out] = sorted({row["path"] for row in done.summary})  # a row a page
    assert rows == {"a": ["s.tif"], "b": ["s.tif"], "c": ["other/t.tif", "s.tif"]}


def test_listed_files_with_a_file_outside_the_root_are_named_as_their_table_rows(
    tmp_path, net, caplog, monkeypatch
):
    """Files listed with a ``root`` that one of them lies outside: the lines named every file
    by its path as given (``lnk/s.tif``, ``in/sub/u.tif``) while the tables' ``path`` column
    named those under the root from it (``s.tif``, ``sub/u.tif``); one naming in both, the
    file outside by its path as given in both."""
    monkeypatch.chdir(tmp_path)
    for path in ("in/s.tif", "in/sub/u.tif", "other/t.tif"):
        _stack(tmp_path / path)
    os.symlink("in", "lnk")
    listed = ["lnk/s.tif", "in/sub/u.tif", "other/t.tif"]
    with caplog.at_level(logging.WARNING):
        done = predict_folder(
            net, listed, "o", progress=False, objects=True, root=os.path.abspath("in")
        )
    rows = sorted({row["path"] for row in done.summary})  # a row a page
    assert rows == ["other/t.tif", "s.tif", "sub/u.tif"]
    assert sorted(_named(caplog, BARE)) == rows


def test_a_glob_s_files_with_a_root_are_named_as_their_table_rows(
    tmp_path, net, caplog, monkeypatch
):
    """``predict_folder(m, "in/**/*.tif", out, root="/abs/in")`` named its files by path in
    its lines (``in/s.tif``) and from the root in its tables (``s.tif``) where a list of the
    same files with that root was named from it in both (review s58 A4)."""
    monkeypatch.chdir(tmp_path)
    for path in ("in/s.tif", "in/sub/u.tif"):
        _stack(tmp_path / path)
    with caplog.at_level(logging.WARNING):
        done = predict_folder(
            net, "in/**/*.tif", "o", progress=False, objects=True, root=os.path.abspath("in")
        )
    rows = sorted({row["path"] for row in done.summary})  # a row a page
    assert rows == ["s.tif", "sub/u.tif"]
    assert sorted(_named(caplog, BARE)) == rows


def test_a_single_file_with_a_root_is_named_as_its_table_row(tmp_path, net, caplog, monkeypatch):
    """``predict_folder(m, "in/sub/u.tif", out, root="/abs/in")`` had the row ``sub/u.tif``
    but named the file ``in/sub/u.tif`` in its lines, where a list or a glob of it with that
    root was named from it in both (s58 forms9); without a root, by its path as given."""
    monkeypatch.chdir(tmp_path)
    _stack(tmp_path / "in" / "sub" / "u.tif")
    with caplog.at_level(logging.WARNING):
        done = predict_folder(
            net, "in/sub/u.tif", "o", progress=False, objects=True, root=os.path.abspath("in")
        )
        predict_folder(net, "in/sub/u.tif", "p", progress=False)
    assert {row["path"] for row in done.summary} == {"sub/u.tif"}  # a row a page
    assert _named(caplog, BARE) == ["sub/u.tif", "in/sub/u.tif"]


def test_relative_paths_are_named_as_given(tmp_path, net, caplog, monkeypatch):
    """A tree, a glob and a file given relative to the working folder are named so, never
    resolved nor made absolute."""
    monkeypatch.chdir(tmp_path)
    for path in ("tree/s.tif", "tree/a/s.tif", "in/s.tif"):
        _stack(tmp_path / path)
    with caplog.at_level(logging.WARNING):
        predict_tree(net, "tree", "o", progress=False)
        predict_folder(net, "in/*.tif", "g", progress=False)
        predict_folder(net, ["in/s.tif"], "f", progress=False, root="in")  # --input in
        predict_file(net, "in/s.tif", "p")
    assert _named(caplog, BARE) == ["tree/s.tif", "tree/a/s.tif", "in/s.tif", "s.tif", "in/s.tif"]


def test_the_tile_bar_names_a_file_as_its_lines_do(tmp_path, net, caplog, monkeypatch):
    """The tile bar of a file read whole showed its name alone (``s.tif``) where the lines
    name it by its path as given: a tree's files, a glob's, a file given alone (s57 docs7);
    a folder's file by its name, as its lines."""
    from unetlab import progress
    from unetlab.inference import folders

    monkeypatch.chdir(tmp_path)
    for path in ("tree/s.tif", "tree/a/s.tif", "in/s.tif"):
        _stack(tmp_path / path)
    shown = []

    def bar(**settings):  # the bar as made, not drawn
        shown.append(settings.get("desc"))
        return progress.tqdm(**{**settings, "disable": True})

    monkeypatch.setattr(folders, "progress_bar", bar)
    monkeypatch.setattr(progress, "progress_bar", bar)
    with caplog.at_level(logging.WARNING):
        predict_tree(net, "tree", "o")
        predict_folder(net, "in/*.tif", "g")
        predict_folder(net, "in", "f")
        predict_file(net, "in/s.tif", "p", progress=True)
    tiles = [desc for desc in shown if desc != "files"]  # the folders' bars: "files"
    assert (
        tiles
        == _named(caplog, BARE)
        == ["tree/s.tif", "tree/a/s.tif", "in/s.tif", "s.tif", "in/s.tif"]
    )


def test_a_tree_names_every_file_by_its_path_its_root_s_own_too(tmp_path, net, caplog):
    """``--recursive`` named the root's own files by their names, its sub-folders' by path:
    one rule for all a tree's files, the path as given, as a glob over the tree and a
    failure's line name them."""
    tree = tmp_path / "tree"
    own, sub = _stack(tree / "s.tif"), _stack(tree / "a" / "s.tif")
    with caplog.at_level(logging.WARNING):
        predict_tree(net, tree, tmp_path / "out", progress=False)
    assert _named(caplog, BARE) == [str(own), str(sub)]


def test_the_trained_size_line_names_a_glob_s_file_by_its_path(tmp_path, net, caplog):
    """The line that an input's pixels are another size than the training images' named
    the file by its name alone (``folders._say_trained_size``): two folders' files of a glob
    were told apart nowhere; by its path as given, by its name in the folder given."""
    net.objects = {"target": "semantic", "pixel_size": [0.325, 0.325], "area_median": 113}
    image = np.random.default_rng(1).integers(0, 255, (24, 28), dtype=np.uint8)
    meta = dict(imagej=True, resolution=(1 / 0.65, 1 / 0.65), metadata={"unit": "um"})
    files = [tmp_path / "a" / "half.tif", tmp_path / "b" / "other.tif"]
    for path in files:
        path.parent.mkdir()
        tifffile.imwrite(path, image, **meta)
    said = ": 0.65 µm pixels"
    with caplog.at_level(logging.INFO):
        predict_folder(net, str(tmp_path / "*" / "*.tif"), tmp_path / "o", progress=False)
    assert _named(caplog, said) == list(map(str, files))
    caplog.clear()
    with caplog.at_level(logging.INFO):
        predict_folder(net, tmp_path / "a", tmp_path / "p", progress=False)
    assert _named(caplog, said) == ["half.tif"]


def test_the_sizes_apart_line_names_a_glob_s_files_by_their_paths(tmp_path, net, caplog):
    """The line that inputs' pixel sizes are apart (said at the run's end, a model that
    records none) named the finest and the coarsest by their names alone: by their paths
    as given, as the lines of their prediction name them."""
    image = np.random.default_rng(1).integers(0, 255, (24, 28), dtype=np.uint8)
    files = {tmp_path / "a" / "x.tif": 0.5, tmp_path / "b" / "y.tif": 1.0}
    for path, um in files.items():
        path.parent.mkdir()
        meta = dict(imagej=True, resolution=(1 / um, 1 / um), metadata={"unit": "um"})
        tifffile.imwrite(path, image, **meta)
    with caplog.at_level(logging.INFO):
        predict_folder(net, str(tmp_path / "*" / "*.tif"), tmp_path / "o", progress=False)
    fine, coarse = files
    said = f"2 inputs' pixel sizes are up to 2x apart ({fine} 0.5 µm, {coarse} 1 µm)"
    assert said in caplog.text, caplog.text


def test_a_streamed_file_s_lines_name_it_as_its_pages_line_does(tmp_path, net, caplog, monkeypatch):
    """A large file's streaming and progress lines (:mod:`unetlab.inference.slides`) named
    it by its name alone right after its pages' line named it by its path: a tree's, a
    glob's."""
    monkeypatch.chdir(tmp_path)
    for path in ("tree/s.tif", "tree/a/s.tif"):
        _stack(tmp_path / path)
    with caplog.at_level(logging.INFO):
        predict_tree(net, "tree", "o", progress=False, large_threshold=100)
        predict_folder(net, "tree/*/*.tif", "g", progress=False, large_threshold=100)
    named = ["tree/s.tif", "tree/a/s.tif", "tree/a/s.tif"]
    assert _named(caplog, BARE) == named
    assert _named(caplog, ": 24 x 28 px (4 planes") == named  # streaming N tiles
    assert _named(caplog, " plane 3 (4 of 4): ") == named  # the progress lines


def test_the_auto_scale_line_names_a_glob_s_file_by_its_path(tmp_path, net, caplog):
    """``scale="auto"``'s line named the file by its name alone."""
    net.objects = {"target": "semantic", "pixel_size": [0.25, 0.25], "area_median": 113}
    image = np.random.default_rng(1).integers(0, 255, (24, 28), dtype=np.uint8)
    meta = dict(imagej=True, resolution=(2, 2), metadata={"unit": "um"})
    files = [tmp_path / "a" / "x.tif", tmp_path / "b" / "y.tif"]
    for path in files:
        path.parent.mkdir()
        tifffile.imwrite(path, image, **meta)
    with caplog.at_level(logging.INFO):
        predict_folder(net, files, tmp_path / "o", progress=False, scale="auto")
    assert _named(caplog, ": scale='auto'") == list(map(str, files))
