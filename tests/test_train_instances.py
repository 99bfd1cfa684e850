"""Training on instance masks: detection, the three-class target, the object record in checkpoints."""

import logging
from pathlib import Path

import numpy as np
import pytest

from unetlab.checkpoint import load_checkpoint, load_model
from unetlab.config import load_config
from unetlab.data.datasets import choose_target, load_instance_samples
from unetlab.data.io import read_image, write_png
from unetlab.data.pairs import find_pairs
from unetlab.errors import DatasetError, command_spelling
from unetlab.train import fit, prepare_data

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py


def disc_ids(size: int, centres, radius: float) -> np.ndarray:
    """(size, size) uint16 ids: disc k + 1 around centres[k]; a later disc covers earlier ones."""
    yy, xx = np.mgrid[:size, :size]
    ids = np.zeros((size, size), np.uint16)
    for k, (cy, cx) in enumerate(centres):
        ids[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] = k + 1
    return ids


def write_discs(root: Path, n: int, *, size: int = 48, count: int = 20, folder="masks") -> Path:
    """images/ + masks/: ``count`` random discs of radius 5 a image (many touch), ids 1..count
    as 16-bit PNG; the image is bright on the discs, darker on their rims, plus noise."""
    rng = np.random.default_rng(0)
    for i in range(n):
        ids = disc_ids(size, rng.integers(4, size - 4, (count, 2)), 5)
        edge = ids != np.roll(ids, 1, 0)
        image = np.where(ids > 0, 200, 40) - 80 * edge + rng.normal(0, 10, ids.shape)
        write_png(root / "images" / f"{i}.png", np.clip(image, 0, 255).astype(np.uint8))
        write_png(root / folder / f"{i}.png", ids)
    return root


def tiny(root, *extra):
    return load_config(
        None,
        [
            f"data.root={root}",
            "model.depth=2",
            "model.base_channels=4",
            "data.tile_size=32",
            "data.tiles_per_epoch=4",
            "train.batch_size=4",
            "train.epochs=1",
            "train.device=cpu",
            *extra,
        ],
    )


def test_sixteen_bit_ids_are_detected_as_instances(tmp_path, caplog):
    pairs = find_pairs(write_discs(tmp_path, 2))
    with caplog.at_level(logging.INFO, logger="unetlab"), command_spelling():
        assert choose_target("auto", pairs) == "instances"  # as the command line runs
    assert "instance mode" in caplog.text
    assert "interior); --set data.target=semantic to read the values" in caplog.text
    caplog.clear()  # fit in a notebook: as Python sets it (s53: it was told the CLI's)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        choose_target("auto", pairs)
    assert "interior); cfg.data.target = 'semantic' to read the values" in caplog.text
    assert choose_target("semantic", pairs) == "semantic"


def test_a_folder_named_instances_is_detected(tmp_path):
    root = write_discs(tmp_path, 1, count=2, folder="instances")
    pairs = find_pairs(root)
    assert pairs[0].mask.parent.name == "instances"
    assert choose_target("auto", pairs) == "instances"


def test_class_masks_stay_semantic(tmp_path):
    for i in range(2):
        write_png(tmp_path / "images" / f"{i}.png", np.zeros((8, 8), np.uint8))
        write_png(tmp_path / "masks" / f"{i}.png", np.arange(64).reshape(8, 8) % 3 * 127)
    assert choose_target("auto", find_pairs(tmp_path)) == "semantic"


def test_prepare_data_trains_three_classes_not_one_per_id(tmp_path):
    data = prepare_data(tiny(write_discs(tmp_path, 3)))
    assert data.label_values == [0, 1, 2]
    assert data.class_names == ["background", "boundary", "interior"]
    assert set(np.unique(data.train[0].mask)) == {0, 1, 2}
    assert data.objects["target"] == "instances" and data.objects["images"] == 3
    assert data.objects["count"] > 0 and data.objects["boundary_width"] == 1
    # whole discs of radius 5 have 81 px; overlapping ones less
    assert data.objects["area_max"] <= 81


def test_prepare_data_records_a_contrast_floor_of_half_the_least_training_contrast(tmp_path):
    root = write_discs(tmp_path, 3)
    data = prepare_data(tiny(root, "data.normalization.mode=percentile"))
    train_images = [read_image(root / "images" / f"{p.name}.png") for p in data.pairs[0]]
    spans = [np.percentile(i, 99.8) - np.percentile(i, 1) for i in train_images]
    assert data.normalization["floor"] == pytest.approx([min(spans) / 2], rel=1e-5)
    assert (
        prepare_data(tiny(root, "data.normalization={mode: per_image, floor: 7}")).normalization[
            "floor"
        ]
        == 7
    )  # the user's own


def test_weight_map_puts_the_border_term_between_touching_objects(tmp_path):
    ids = np.zeros((12, 12), np.uint16)
    ids[2:10, 1:6], ids[2:10, 6:11] = 1, 2  # touching, no background between
    write_png(tmp_path / "images" / "a.png", np.zeros((12, 12), np.uint8))
    write_png(tmp_path / "masks" / "a.png", ids)
    (sample,), _ = load_instance_samples(
        find_pairs(tmp_path), normalization={"mode": "per_image"}, weight_map={"w0": 10, "sigma": 5}
    )
    w, t = sample.weight, sample.mask
    # boundary pixels between the two interiors carry the border term; the outer rim is
    # boundary too but farther from a second interior
    assert t[5, 5] == 1 and t[5, 6] == 1 and w[5, 5] > w[5, 0] + 5
    assert w[5, 5] > w[2, 3]


def test_bad_instance_masks_are_named(tmp_path):
    write_png(tmp_path / "images" / "a.png", np.zeros((6, 6), np.uint8))
    import tifffile

    (tmp_path / "masks").mkdir(exist_ok=True)
    tifffile.imwrite(tmp_path / "masks" / "a.tif", np.full((6, 6), 1.5, np.float32))
    with pytest.raises(DatasetError, match="a.tif: instance ids must be whole numbers"):
        load_instance_samples(find_pairs(tmp_path), normalization={"mode": "per_image"})


def test_binary_mask_in_instance_mode_warns_and_uses_components(tmp_path, caplog):
    mask = np.zeros((10, 10), np.uint8)
    mask[1:4, 1:4] = mask[6:9, 6:9] = 255
    write_png(tmp_path / "images" / "a.png", np.zeros((10, 10), np.uint8))
    write_png(tmp_path / "masks" / "a.png", mask)
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        _, stats = load_instance_samples(find_pairs(tmp_path), normalization={"mode": "per_image"})
    assert stats["count"] == 2 and stats["area_median"] == 9.0
    assert "binary mask" in caplog.text and "touching" in caplog.text


def test_empty_masks_train_and_record_zero_objects(tmp_path):
    for i in range(2):
        write_png(tmp_path / "images" / f"{i}.png", np.zeros((40, 40), np.uint8))
        write_png(tmp_path / "masks" / f"{i}.png", np.zeros((40, 40), np.uint16))
    data = prepare_data(tiny(tmp_path, "data.target=instances"))
    assert data.objects["count"] == 0 and not data.train[0].mask.any()


def test_fit_records_the_instance_mode_in_the_checkpoint(tmp_path):
    root = write_discs(tmp_path / "d", 3)
    fit(tiny(root), run_dir=tmp_path / "run", progress=False)
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert checkpoint["objects"]["target"] == "instances"
    assert checkpoint["classes"] == ["background", "boundary", "interior"]
    model = load_model(tmp_path / "run" / "checkpoints" / "last.pt")
    assert model.num_classes == 3 and model.label_values is None
    assert model.objects == checkpoint["objects"]


def test_semantic_training_records_object_statistics(tmp_path):
    root = write_discs(tmp_path / "d", 2)
    data = prepare_data(tiny(root, "data.target=semantic", "data.label_values=null"))
    # 16-bit ids read as classes: one class per id, as before (the old reading, on request)
    assert len(data.label_values) > 3 and data.objects["target"] == "semantic"


def test_real_nucleus_masks_are_read_as_instances(kromp_dir):
    """Kromp et al. 2020: 16-bit masks with up to hundreds of ids are objects, not classes."""
    pairs = find_pairs(kromp_dir / "train")[:2]
    assert choose_target("auto", pairs) == "instances"
    samples, stats = load_instance_samples(pairs, normalization={"mode": "per_image"})
    # Ganglioneuroblastoma_0 and _1 hold 300 + 398 nuclei (the data's README); the 45 the
    # image edge cuts are pieces of unknown size, so the sizes are of the 653 whole ones
    assert stats["count"] == 300 + 398 - 45
    assert stats["area_min"] == 56  # the smallest piece, 29 px, was an edge cut
    assert set(np.unique(samples[0].mask)) == {0, 1, 2}


def test_the_data_checks_object_count_is_the_plans_with_the_whole_ones_named(tmp_path, caplog):
    """The data check counted only the whole objects the sizes are of, the plan all of them
    (audit s38 3d: "21% of 1143 objects" and "objects in the masks: 977" of the same masks):
    it gives all, and the whole ones where some are cut."""
    ids = disc_ids(48, [(20, 20), (30, 36), (2, 24)], 5)  # the third one cut by the top edge
    write_png(tmp_path / "images" / "0.png", np.where(ids > 0, 200, 40).astype(np.uint8))
    write_png(tmp_path / "masks" / "0.png", ids)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        data = prepare_data(tiny(tmp_path, "data.val_fraction=0", "data.target=instances"))
    assert data.objects["count"] == 2 and data.objects["regions"] == 3
    line = "objects in the masks: 3 (the sizes of the 2 whole ones: 1 cut by the image edge"
    assert line in caplog.text
