"""Instance masks through the plan: small sets of object ids are planned, checked and trained
as instances with no setting where the data says so, ``data.target`` is honoured, and the
class-value checks still refuse semantic masks that contradict themselves."""

import logging

import numpy as np
import pytest
from scipy import ndimage

from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data.datasets import choose_target, split_pairs
from unetlab.data.fingerprint import fingerprint
from unetlab.data.instances import ids_by_file, looks_like_instances, one_object_per_value
from unetlab.data.io import write_png, write_tiff
from unetlab.data.pairs import find_pairs
from unetlab.errors import DatasetError, UnetlabError, command_spelling
from unetlab.plan import plan_training
from unetlab.train import prepare_data


def _nuclei(i: int, side: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """An image and its ``ndimage.label`` ids: 3 + i % 4 squares of 8 px, apart."""
    mask = np.zeros((side, side), dtype=bool)
    for k in range(3 + i % 4):
        y, x = 6 + 14 * (k % 4), 6 + 28 * (k // 4) + 2 * (i % 3)
        mask[y : y + 8, x : x + 8] = True
    ids, _ = ndimage.label(mask)
    image = (mask * 120 + 60 + np.arange(side) % 7).astype(np.uint8)
    return image, ids


def write_ids(root, *, folder="masks", dtype=np.uint16, offset=0, n=6):
    """``n`` pairs: PNG images and TIFF masks of object ids 1..k (plus ``offset``), k varying."""
    for i in range(n):
        image, ids = _nuclei(i)
        ids = np.where(ids > 0, ids + offset, 0).astype(dtype)
        write_png(root / "images" / f"img_{i:02d}.png", image)
        write_tiff(root / folder / f"img_{i:02d}.tif", ids)
    return root


def write_mixed16(root, n=4):
    """16-bit semantic masks, two 0/1 and two 0/65535: contradictory encodings."""
    for i in range(n):
        image, ids = _nuclei(i)
        mask = ((ids > 0) * (1 if i < n // 2 else 65535)).astype(np.uint16)
        write_png(root / "images" / f"{i}.png", image)
        write_tiff(root / "masks" / f"{i}.tif", mask)
    return root


def _cfg(root, *settings):
    return load_config(None, [f"data.root={root}", "model.depth=2", *settings])


def _fp(root):
    train, val = split_pairs(root, val_fraction=0.2, seed=0)
    return fingerprint(train + val)


def test_ids_by_file_is_values_not_shared_as_classes_and_one_object_each():
    ids = [([1, 2, 3], 3), ([1, 2, 3, 4, 5], 5), ([1, 2, 3, 4], 4)]
    assert ids_by_file(ids)
    assert not ids_by_file(ids[:1])  # one file: no evidence
    assert not ids_by_file([([1, 2, 3], 3)] * 3)  # the same values in every file: classes
    assert not ids_by_file([([1], 1), ([65535], 1)])  # binary masks: an encoding question
    assert not ids_by_file([([1, 2, 3], 9), ([1, 2], 7)])  # values of many regions: classes
    assert looks_like_instances([0, 1, 2, 3, 4, 5], wide=True, folder_named=False, files=ids)
    assert not looks_like_instances([0, 1, 2, 3, 4, 5], wide=False, folder_named=False, files=ids)


@pytest.mark.parametrize(
    "folder, offset", [("masks", 300), ("instances", 0)], ids=["uint16-masks", "instances-folder"]
)
def test_small_instance_sets_are_planned_as_instances_with_no_setting(tmp_path, folder, offset):
    root = write_ids(tmp_path / "data", folder=folder, offset=offset)
    fp = _fp(root)
    assert fp.instances and all(p.instances for p in fp.pairs)
    assert fp.object_areas().size == sum(3 + i % 4 for i in range(6))  # one object per id
    planned, plan = plan_training(_cfg(root))
    assert planned.data.target == "instances"
    (target,) = [c for c in plan.choices if c.key == "data.target"]
    assert target.value == "instances" and not target.user


def test_data_target_instances_is_honoured_where_auto_reads_classes(tmp_path):
    root = write_ids(tmp_path / "data", dtype=np.uint8)  # 8-bit ids 0..k: auto reads classes
    with pytest.raises(DatasetError, match="one file only .*cfg.data.target = 'instances'"):
        plan_training(_cfg(root))
    planned, _ = plan_training(_cfg(root, "data.target=instances"))
    assert planned.data.target == "instances"


def test_data_target_semantic_keeps_the_class_checks_on_ids(tmp_path):
    root = write_ids(tmp_path / "data", offset=300)
    with pytest.raises(DatasetError, match="mask value 306 is found in one file only"):
        plan_training(_cfg(root, "data.target=semantic"))


def test_a_mixed_encoding_16_bit_semantic_set_is_still_refused(tmp_path):
    root = write_mixed16(tmp_path / "mixed")
    assert not _fp(root).instances
    with pytest.raises(DatasetError, match="masks mix encodings: 0/1 in 2 file.*0/65535 in 2"):
        plan_training(_cfg(root))


def test_sizes_are_still_checked_on_instance_masks(tmp_path):
    root = write_ids(tmp_path / "data", folder="instances")
    with pytest.raises(DatasetError, match="smaller than the net's"):
        plan_training(_cfg(root, "model.depth=8"))


@pytest.mark.slow
@pytest.mark.parametrize("folder, offset", [("masks", 300), ("instances", 0)])
def test_cli_trains_small_instance_sets_with_no_setting(tmp_path, capsys, folder, offset):
    root = write_ids(tmp_path / "data", folder=folder, offset=offset)
    run = tmp_path / "run"
    args = ["train", "--data", str(root), "--run-dir", str(run), "--minutes", "0.05"]
    args += ["--set", "model.depth=2", "--set", "model.base_channels=4", "--no-progress"]
    assert main(args) == 0, capsys.readouterr().err
    assert "plan: data.target = instances" in (run / "train.log").read_text()


def test_fingerprint_follows_an_explicit_target(tmp_path):
    ids8 = split_pairs(write_ids(tmp_path / "ids8", dtype=np.uint8), val_fraction=0.0)[0]
    assert not fingerprint(ids8).instances
    assert fingerprint(ids8, target="instances").instances
    folder = split_pairs(write_ids(tmp_path / "f", folder="instances"), val_fraction=0.0)[0]
    assert not fingerprint(folder, target="semantic").instances
    with pytest.raises(UnetlabError, match="data.target 'ids' is unknown: choose one of auto"):
        fingerprint(folder, target="ids")


def write_touching_ids(root, n=3):
    """``n`` pairs of 16-bit masks: 2 + i rectangles of ids 1..2 + i, side by side (each
    touches the next, no background between)."""
    for i in range(n):
        ids = np.zeros((40, 40), np.uint16)
        for k in range(2 + i):
            ids[8:30, 4 + 8 * k : 12 + 8 * k] = k + 1
        write_png(root / "images" / f"{i}.png", (ids > 0).astype(np.uint8) * 150 + 40)
        write_png(root / "masks" / f"{i}.png", ids)
    return root


def write_blurred(root, n=3):
    """``n`` 8-bit 0/255 masks whose disc edge is blurred into 35-40 values between (over
    97% of the pixels 0 or 255)."""
    yy, xx = np.mgrid[:128, :128]
    for i in range(n):
        ramp = np.clip((30 + 2 * i - np.hypot(yy - 64, xx - 64)) / 2 + 0.5, 0, 1)
        mask = np.round(ramp * 255).astype(np.uint8)
        write_png(root / "images" / f"{i}.png", mask // 2 + 30)
        write_png(root / "masks" / f"{i}.png", mask)
    return root


@pytest.mark.parametrize(
    "write, target", [(write_touching_ids, "instances"), (write_blurred, "semantic")]
)
def test_the_target_is_read_alike_with_and_without_the_plan(tmp_path, write, target):
    root = write(tmp_path / "data")
    pairs = find_pairs(root)
    assert choose_target("auto", pairs) == target  # fit without a plan (--no-plan, a notebook)
    assert fingerprint(pairs).instances is (target == "instances")  # the plan


def test_blurred_masks_are_refused_alike_with_and_without_the_plan(tmp_path):
    cfg = _cfg(write_blurred(tmp_path / "data"))
    blur = r"masks have \d+ distinct values \(0, .*\) but 97\.\d% of the pixels are 0 or 255: "
    with pytest.raises(DatasetError, match=r"^1 problem in .*: " + blur):
        plan_training(cfg)  # the blur, not one line per value found in one file only
    with pytest.raises(DatasetError, match="^" + blur):
        prepare_data(cfg)


def _tracked(root, n=6, objects=5):
    """``n`` frames of a short tracked movie: every mask holds the same ids 1..``objects``
    (track ids kept from frame to frame), each a square that moves a little."""
    for t in range(n):
        ids = np.zeros((48, 64), np.uint16)
        for k in range(objects):
            y, x = 4 + 9 * (k % 4), 4 + 30 * (k // 4) + t
            ids[y : y + 6, x : x + 6] = k + 1
        write_png(root / "images" / f"f{t:02d}.png", ((ids > 0) * 120 + 60).astype(np.uint8))
        write_tiff(root / "masks" / f"f{t:02d}.tif", ids)
    return root


def test_the_same_ids_in_every_mask_are_said_to_look_like_object_ids(tmp_path, caplog):
    """Masks whose every file holds the same ids (a short tracked movie's frames) train as
    classes, as auto cannot tell them from classes, but the values line says they look like
    object ids and names data.target=instances (audit s37 timelapse 8: 13 classes unsaid)."""
    root = _tracked(tmp_path / "movie")
    with caplog.at_level(logging.INFO, logger="unetlab"), command_spelling():
        data = prepare_data(_cfg(root))  # as the command line runs
    assert data.label_values == [0, 1, 2, 3, 4, 5]  # not decided on: classes
    (line,) = [r for r in caplog.records if r.getMessage().startswith("mask values found")]
    assert line.levelno == logging.WARNING
    said = (
        "mask values found: [0, 1, 2, 3, 4, 5], one class each ({} sets them "
        "otherwise); they look like object ids: each of the 6 masks holds the same 5 values, "
        "each one region (a tracked movie's ids?); if each value is one object, "
    )  # each caller's key (the bare data.label_values to both, s57)
    cli = said.format("--set 'data.label_values=[...]'")
    assert line.getMessage() == cli + "--set data.target=instances"
    caplog.clear()  # fit in a notebook: as Python sets it (s53: it was told --set)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        prepare_data(_cfg(root))
    (line,) = [r for r in caplog.records if r.getMessage().startswith("mask values found")]
    python = said.format("cfg.data.label_values = [...]")
    assert line.getMessage() == python + "cfg.data.target = 'instances'"


def test_classes_are_not_said_to_look_like_object_ids():
    assert one_object_per_value([([1, 2, 3, 4, 5], 5), ([1, 2, 3, 4, 5], 5)])
    assert not one_object_per_value([([1, 2, 3, 4, 5], 5)])  # one file: no evidence
    assert not one_object_per_value([([1, 2, 3], 3), ([1, 2, 3], 3)])  # few: classes
    assert not one_object_per_value([([1, 2, 3, 4, 5], 14), ([1, 2, 3, 4, 5], 11)])  # regions
