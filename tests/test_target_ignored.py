"""``data.target: auto`` leaves the ignore value and negative values out of its class-vs-ids
decision (s58): 0/1 masks stored in 16 bits whose unlabelled regions (255, or -1 in int16)
sit in some files only read as object ids (each value one region, the files' values
differing), with a plan and in training without one; real id masks with unlabelled regions
stay ids."""

import numpy as np
import pytest
import tifffile

from unetlab.data.datasets import choose_target, scan_masks
from unetlab.data.fingerprint import MaskValues, fingerprint
from unetlab.data.io import write_png
from unetlab.data.pairs import find_pairs


def _write(root, masks):
    rng = np.random.default_rng(0)
    (root / "masks").mkdir(parents=True)
    for i, mask in enumerate(masks):
        write_png(root / "images" / f"{i}.png", (rng.random(mask.shape) * 99).astype(np.uint8))
        tifffile.imwrite(root / "masks" / f"{i}.tif", mask)
    return find_pairs(root)


def _class_masks(dtype, unlabelled):
    """One 0/1 cell each; an unlabelled patch in every other mask."""
    masks = []
    for i in range(4):
        mask = np.zeros((40, 40), dtype)
        mask[5 + i : 15 + i, 5:15] = 1
        if i % 2 == 0:
            mask[20:25, 25:38] = unlabelled
        masks.append(mask)
    return masks


def _id_masks(dtype, unlabelled):
    """Ids 1..k (k = 2..5 by file), each one square; an unlabelled patch in every other."""
    masks = []
    for i in range(4):
        mask = np.zeros((40, 40), dtype)
        for k in range(2 + i):
            mask[2 + 7 * k : 7 + 7 * k, 2:7] = k + 1
        if i % 2 == 0:
            mask[20:25, 25:38] = unlabelled
        masks.append(mask)
    return masks


def _decided(pairs, ignore_value):
    planned = fingerprint(pairs, ignore_value=ignore_value).instances
    how = {} if ignore_value is None else {"ignore_value": ignore_value}  # as before s58
    trained = choose_target("auto", pairs, scan=scan_masks(pairs), **how)
    return planned, trained


@pytest.mark.parametrize("dtype, unlabelled", [(np.uint16, 65535), (np.int16, -1)])
def test_class_masks_with_unlabelled_regions_stay_classes(tmp_path, dtype, unlabelled):
    pairs = _write(tmp_path / "d", _class_masks(dtype, unlabelled))
    assert _decided(pairs, unlabelled) == (False, "semantic")


def test_negative_values_count_in_no_decision(tmp_path):
    """-1 without data.ignore_value: refused as no class index (the negative-values line),
    so it does not make the masks ids either."""
    pairs = _write(tmp_path / "d", _class_masks(np.int16, -1))
    assert _decided(pairs, None) == (False, "semantic")


@pytest.mark.parametrize("dtype, unlabelled", [(np.uint16, 65535), (np.int16, -1)])
def test_id_masks_with_unlabelled_regions_stay_ids(tmp_path, dtype, unlabelled):
    pairs = _write(tmp_path / "d", _id_masks(dtype, unlabelled))
    assert _decided(pairs, unlabelled) == (True, "instances")


def test_labelled_drops_the_values_and_their_regions():
    mask = np.array([[0, 1, 0, 7], [0, 0, 0, 7], [-1, 0, 2, 0]], np.int16)
    page = MaskValues.of(mask)
    assert page.values == (-1, 0, 1, 2, 7) and page.objects == 4
    kept = page.labelled(7)
    assert kept.values == (0, 1, 2) and kept.counts == (7, 1, 1) and kept.objects == 2
    assert page.labelled(None).values == (0, 1, 2, 7)


@pytest.mark.parametrize("dtype, unlabelled", [(np.uint16, 65535), (np.int16, -1)])
def test_training_without_a_plan_reads_them_as_classes(tmp_path, dtype, unlabelled):
    """prepare_data (train --no-plan) trained 0/1 as background/boundary/interior ids."""
    from unetlab.config import load_config
    from unetlab.train.setup import prepare_data

    root = tmp_path / "d"
    _write(root, _class_masks(dtype, unlabelled))
    cfg = load_config(
        None, [f"data.root={root}", "model.depth=2", f"data.ignore_value={unlabelled}"]
    )
    assert prepare_data(cfg).label_values == [0, 1]
