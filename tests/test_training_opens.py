"""Training start reads each mask file once for its pixels: the mask scan (label values,
target) read every mask, and the loading read them all again (three opens of each mask
TIFF with the pairing's page count, now two); what the loading makes of them is what it
makes reading them itself. A command that pairs its data set twice (the plan's look, then
training's split) reads each file's page count once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from tests.test_channels_opens import _counted
from unetlab.config import load_config
from unetlab.train.setup import prepare_data


def _mask_opens(monkeypatch) -> list[str]:
    """The mask files of every ``tifffile.TiffFile`` opened from now on."""
    opened: list[str] = []

    class Counting(tifffile.TiffFile):
        def __init__(self, path, *args, **kwargs):
            if "/masks/" in str(path).replace("\\", "/"):
                opened.append(str(path))
            super().__init__(path, *args, **kwargs)

    monkeypatch.setattr(tifffile, "TiffFile", Counting)
    return opened


def _data_set(root, ids: bool, n: int = 12):
    """``n`` 2-D uint8 TIFF images beside 2-D TIFF masks: classes 0/1, or object ids."""
    rng = np.random.default_rng(1)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    mask = np.zeros((32, 32), np.uint16 if ids else np.uint8)
    mask[4:12, 4:12], mask[14:30, 14:30] = (7, 9) if ids else (1, 1)
    for i in range(n):
        tifffile.imwrite(
            root / "images" / f"i{i:02d}.tif", rng.integers(0, 255, (32, 32), np.uint8)
        )
        tifffile.imwrite(root / "masks" / f"i{i:02d}.tif", np.roll(mask, i, axis=1))
    return root


@pytest.mark.parametrize(
    ("ids", "known"),
    [(False, "data.label_values=[0, 1]"), (True, "data.target=instances")],
)
def test_each_mask_is_read_once_and_loaded_as_read_alone(tmp_path, monkeypatch, ids, known):
    root = _data_set(tmp_path / "set", ids)
    target = ["data.target=instances"] if ids else []
    opened = _mask_opens(monkeypatch)
    data = prepare_data(load_config(None, [f"data.root={root}", *target]))
    per_file = {path: opened.count(path) for path in opened}
    assert len(per_file) == 12 and sorted(per_file.values())[:-1] == [2] * 11  # 3 before
    assert sum(per_file.values()) <= 2 * 12 + 1  # the page count, the scan; the palette's look
    monkeypatch.undo()
    alone = prepare_data(load_config(None, [f"data.root={root}", known]))  # no mask scan
    got, want = data.train + data.val, alone.train + alone.val
    assert [s.name for s in got] == [s.name for s in want]
    for a, b in zip(got, want):
        assert np.array_equal(a.mask, b.mask) and np.array_equal(a.image, b.image)


def test_a_files_page_count_is_read_once_while_it_is_unchanged(tmp_path, monkeypatch):
    """Pairing the same folder twice in a command (the plan's look, then training's split)
    opened every image and mask twice for its page count; within one command each is read
    once, a file written since again; outside one, every time."""
    from unetlab.data.pairs import page_count, page_counts_held

    (tmp_path / "masks").mkdir()
    path = tmp_path / "masks" / "s.tif"
    meta = {"axes": "ZYX"}
    tifffile.imwrite(path, np.zeros((3, 8, 8), np.uint8), imagej=True, metadata=meta)
    opened = _mask_opens(monkeypatch)
    monkeypatch.chdir(tmp_path)
    with page_counts_held():
        assert [page_count(path), page_count(path), page_count(Path("masks/s.tif"))] == [3] * 3
        assert len(opened) == 1
        tifffile.imwrite(path, np.zeros((5, 8, 8), np.uint8), imagej=True, metadata=meta)
        assert page_count(path) == 5 and len(opened) == 2
    assert [page_count(path), page_count(path)] == [5, 5] and len(opened) == 4


def test_train_check_opens_each_file_once_for_pairing(tmp_path, monkeypatch, capsys):
    """``train --check`` pairs the set for the plan, then for the load: each image TIFF was
    opened 4 times (2 page counts, the plan's measure, the load), each mask 5 (6 for the
    one the palette check looks at); the data-bar look read the first 8 masks again, now
    it takes their bands from the plan's measure."""
    from unetlab.cli import main

    root = _data_set(tmp_path / "set", ids=False, n=6)
    opened = _counted(monkeypatch)
    run = ["--run-dir", str(tmp_path / "run"), "--device", "cpu", "--no-progress"]
    assert main(["train", "--data", str(root), "--check", *run]) == 0
    images = [o for o in opened if "/images/" in o.replace("\\", "/")]
    masks = [o for o in opened if "/masks/" in o.replace("\\", "/")]
    assert max(images.count(o) for o in images) == 3  # the page count, the plan, the load
    per_mask = sorted(masks.count(o) for o in set(masks))  # the page count, the plan's
    assert per_mask[:-1] == [2] * 5  # measure; the scan takes it (+1: the palette's)


def _whole_reads(monkeypatch) -> list[str]:
    """The files whose pixels a ``tifffile.TiffFile`` reads whole from now on."""
    read: list[str] = []

    class Counting(tifffile.TiffFile):
        def asarray(self, *args, **kwargs):  # a series' too
            read.append(self.filehandle.path)
            return super().asarray(*args, **kwargs)

    monkeypatch.setattr(tifffile, "TiffFile", Counting)
    return read


@pytest.mark.parametrize(("ids", "kept"), [(False, True), (True, True), (False, False)])
def test_train_check_reads_each_file_whole_once(tmp_path, monkeypatch, capsys, ids, kept):
    """The plan's measure read each image and mask whole, then the load read each image
    again and the mask scan each mask: the plan's reads are kept for them while they fit
    the budget (unetlab.cli.train.held_budget), with what they load unchanged; with no
    room (budget 0) each is read twice, as before."""
    from unetlab.cli import main
    from unetlab.cli import train as cli_train

    root = _data_set(tmp_path / "set", ids=ids, n=6)
    if not kept:
        monkeypatch.setattr(cli_train, "held_budget", lambda nproc: 0.0)
    read = _whole_reads(monkeypatch)
    run = ["--run-dir", str(tmp_path / "run"), "--device", "cpu", "--no-progress"]
    assert main(["train", "--data", str(root), "--check", *run]) == 0
    per_file = sorted({read.count(f) for f in read if "/images/" in f or "/masks/" in f})
    assert len(set(read)) == 12 and per_file == ([1] if kept else [2])


def test_a_kept_read_is_a_copy_and_taken_once(tmp_path):
    """Within the plan's reads each reader gets a copy (what one does to its pixels reaches
    no other); the next read takes the kept array and lets it go; a file written since is
    read again."""
    from unetlab.data.held import kept_reads, stacks_held
    from unetlab.data.io import read_stack

    path = tmp_path / "a.tif"
    tifffile.imwrite(path, np.arange(64, dtype=np.uint8).reshape(8, 8))
    with stacks_held(1 << 20):
        with kept_reads():
            first = read_stack(path)
            first[...] = 0  # the plan's reader may change its copy
        taken = read_stack(path)
        assert np.array_equal(taken[0], np.arange(64).reshape(8, 8))
        again = read_stack(path)
        assert again is not taken and np.array_equal(again, taken)
        with kept_reads():
            read_stack(path)
        tifffile.imwrite(path, np.ones((8, 8), np.uint8))
        assert read_stack(path).max() == 1  # written since: read again


def test_a_stack_masks_header_is_not_read_where_mask_value_0_is_ignored(tmp_path, monkeypatch):
    """The page axes of the stacks (a mask's header read where its image records none) are
    read for the unannotated planes' warning only where mask value 0 trains as a class: with
    it ignored they were read and dropped (s70: 13 opens of 4 bare z-stacks' masks, now 9;
    seen failing without the fix)."""
    root, rng = tmp_path / "set", np.random.default_rng(1)
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    mask = np.ones((5, 32, 32), np.uint8)
    mask[:, 4:12, 4:12], mask[0, :2] = 2, 0
    for i in range(4):
        image = rng.integers(0, 255, (5, 32, 32), np.uint8)
        tifffile.imwrite(root / "images" / f"s{i}.tif", image)
        tifffile.imwrite(root / "masks" / f"s{i}.tif", mask)
    opened = _mask_opens(monkeypatch)
    data = prepare_data(load_config(None, [f"data.root={root}", "data.ignore_value=0"]))
    assert data.label_values == [1, 2]
    assert len(opened) == 9  # each mask's page count, scan, and one the palette's look
