"""What prediction chose by itself goes into the folder's ``predict.json``, per input, so
that a reviewer sees what ran (session 35 repro 1): the tile size chosen where none was
given, the device ``auto`` resolved to, and the axes each file was read as."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.group import Group
from unetlab.inference.folders import predict_folder
from unetlab.inference.records import read_records
from unetlab.inference.sizing import choose_tiling, memory_budget
from unetlab.outputs import RECORD_FILES
from unetlab.runtime import resolve_device


@pytest.fixture
def work(tmp_path):
    """in/flat.png (YX 24x20), in/movie.tif (3 time points, TYX 20x28), m.pt (tiny)."""
    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (24, 20), dtype=np.uint8)).save(tmp_path / "in/flat.png")
    movie = rng.integers(0, 255, (3, 20, 28), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "in/movie.tif", movie, imagej=True, metadata={"axes": "TYX"})
    torch.manual_seed(0)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _predict(work: Path, *extra: str) -> int:
    argv = ["predict", "--checkpoint", str(work / "m.pt"), "--input", str(work / "in")]
    return main([*argv, "--output", str(work / "out"), *extra])


def _files(out: Path) -> dict[str, dict]:
    (record,) = read_records(out).values()
    return {Path(k).name: v for k, v in record["files"].items()}


def _tile(model, shape, device: str = "cpu") -> int | list[int]:
    grid, _ = choose_tiling(model, shape, budget=memory_budget(torch.device(device)))
    h, w = grid.tile
    return h if h == w else [h, w]


def test_record_says_tile_device_and_axes_chosen(work):
    assert _predict(work, "--device", "auto") == 0
    files = _files(work / "out")
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    device = str(resolve_device("auto"))  # cuda where a GPU is visible, else cpu
    assert files["flat.png"] == {
        "axes": "YX",
        "shape": [1, 24, 20],
        "device": device,
        "tile_size": _tile(model, (24, 20), device),
    }
    assert files["movie.tif"] == {
        "axes": "TYX",
        "shape": [3, 20, 28],
        "device": device,
        "tile_size": _tile(model, (20, 28), device),
    }
    (key,) = read_records(work / "out")
    text = json.loads((work / "out" / RECORD_FILES["predict"]).read_text())
    assert "tile_size" not in text["records"][key]["model"]  # chosen: not in the key


def test_given_tile_size_is_recorded_and_skipped_files_keep_theirs(work):
    assert _predict(work, "--device", "cpu", "--tile-size", "16") == 0
    first = _files(work / "out")
    assert {f["tile_size"] for f in first.values()} == {16}
    (work / "in" / "more.png").write_bytes((work / "in" / "flat.png").read_bytes())
    assert _predict(work, "--device", "cpu", "--tile-size", "16", "--skip-existing") == 0
    again = _files(work / "out")
    assert again == {**first, "more.png": first["flat.png"]}


def test_streamed_file_records_its_tile_and_axes(work):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    inputs = [work / "in" / "movie.tif"]
    predict_folder(model, inputs, work / "out", large_threshold=100, output_format="ome-zarr")
    files = _files(work / "out")
    assert files["movie.tif"]["axes"] == "TYX"
    assert files["movie.tif"]["shape"] == [3, 20, 28]
    assert isinstance(files["movie.tif"]["tile_size"], (int, list))
    assert files["movie.tif"]["device"] == "cpu"


@dataclass(frozen=True)
class _Pair(Group):
    """One place of a group of 2 processes played by 2 threads of this one: a collective
    meets at ``met`` (what each gave in ``given``)."""

    met: threading.Barrier = field(default_factory=lambda: threading.Barrier(2))
    given: dict = field(default_factory=dict)

    def _meet(self, obj) -> list:
        self.given[self.rank] = obj
        self.met.wait(timeout=60)
        parts = [self.given[r] for r in range(self.world)]
        self.met.wait(timeout=60)  # all read before the next collective writes
        return parts

    def share(self, obj):
        return self._meet(obj)[0]

    def gather(self, obj) -> list:
        return self._meet(obj)

    def total(self, values):
        return [sum(v) for v in zip(*self._meet(values))]


def test_a_group_of_processes_records_what_each_chose(work):
    """Under torchrun each process notes what it chose for the inputs it predicts; only the
    main process's notes were in predict.json (movie.tif, rank 1's, had no entry)."""
    files = [work / "in" / "flat.png", work / "in" / "movie.tif"]  # rank 0's, rank 1's
    met, given, failed = threading.Barrier(2), {}, []

    def run(rank: int) -> None:
        model = UNet(1, 2, depth=2, base_channels=2, padding="same")
        group = _Pair(rank=rank, world=2, active=True, met=met, given=given)
        try:
            predict_folder(model, files, work / "out", group=group)
        except BaseException as exc:  # said by the assertion below
            failed.append(exc)
            met.abort()

    ranks = [threading.Thread(target=run, args=(rank,)) for rank in (0, 1)]
    for thread in ranks:
        thread.start()
    for thread in ranks:
        thread.join()
    assert not failed, failed
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    flat = {"axes": "YX", "shape": [1, 24, 20], "tile_size": _tile(model, (24, 20))}
    movie = {"axes": "TYX", "shape": [3, 20, 28], "tile_size": _tile(model, (20, 28))}
    assert _files(work / "out") == {
        "flat.png": {**flat, "device": "cpu"},
        "movie.tif": {**movie, "device": "cpu"},
    }


def test_each_position_s_notes_are_merged_and_recorded_as_a_map():
    """A multi-position file's ``positions`` notes (each its own ``--scale auto`` factor)
    gathered from another process (torchrun) are merged position by position and kept as
    a map in the record, not as a list of distinct values; the file's ``scale`` is its
    positions' distinct factors, 1 among them (it kept only those other than 1: 2.0)."""
    from unetlab.inference.chosen import as_record, for_file, merge, note, note_position, noting

    with noting() as other, for_file("p.ome.tif"):
        note(axes="TYX")
        note_position(1, scale=2.0)
    with noting() as notes, for_file("p.ome.tif"):
        note(axes="TYX")
        note_position(0, scale=1.0)
    merge(notes, other)
    (found,) = as_record(notes).values()
    positions = {"0": {"scale": 1.0}, "1": {"scale": 2.0}}
    assert found == {"axes": "TYX", "positions": positions, "scale": [1.0, 2.0]}
