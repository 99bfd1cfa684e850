"""The plan for few, sparsely labelled images with a rare class (audit 'sparse', session 28):
the rare class weighted once, unlabelled values named, object sizes only from labelled
pixels, and classes missing from validation said."""

import numpy as np
import pytest
from scipy import ndimage

from tests.test_plan import facts
from unetlab.config import load_config
from unetlab.data.datasets import split_pairs
from unetlab.data.fingerprint import Fingerprint, measure_pair
from unetlab.data.io import read_image, write_png
from unetlab.errors import DatasetError, command_spelling
from unetlab.plan import Geometry, label_value_problems, make_plan, plan_tile, plan_training


def _chosen(fp, overrides=(), explicit=()):
    cfg = load_config(None, list(overrides))
    plan = make_plan(fp, cfg, explicit=set(explicit), device="cpu")
    return {c.key: c for c in plan.choices}, plan


def test_the_rare_class_is_weighted_once_beside_the_border_weight_map():
    """The weight map's w_c already balances the classes: class weights on top sent the
    contact class ~82 % of the cross-entropy weight and nucleus IoU to 0.003."""
    touching = facts(counts=(5, 95), areas=[300.0] * 10, touching=8, n=4)
    chosen, plan = _chosen(touching)
    assert chosen["data.weight_map"].value is True
    weights = chosen["train.class_weights"]
    assert weights.value == "none" and "weight map already balances" in weights.reason
    assert "5.0% of the pixels" in weights.reason and plan.notes == []
    apart = facts(counts=(5, 95), areas=[300.0] * 10, touching=0, n=4)  # no weight map
    assert _chosen(apart)[0]["train.class_weights"].value == "sqrt_median_frequency"


def test_the_users_class_weights_keep_the_weight_map_off_and_both_are_a_note():
    touching = facts(counts=(5, 95), areas=[300.0] * 10, touching=8, n=4)
    weighted = ["train.class_weights=median_frequency"]
    chosen, _ = _chosen(touching, weighted, {"train.class_weights"})
    assert chosen["data.weight_map"].value is False
    assert "would weight the rare class again" in chosen["data.weight_map"].reason
    mapped = ["data.weight_map=true"]
    chosen, _ = _chosen(facts(counts=(5, 95), n=4), mapped, {"data.weight_map"})
    assert chosen["train.class_weights"].value == "none"  # no objects: still weighted once
    both = weighted + mapped
    _, plan = _chosen(touching, both, {"train.class_weights", "data.weight_map"})
    assert len(plan.notes) == 1 and "weighted twice" in plan.notes[0]
    # plan_training in a notebook: as Python sets it (s53: it was told the command line's)
    assert plan.notes[0].endswith("; turn class weights off: cfg.train.class_weights = 'none'")
    assert "(cfg.train.class_weights = 'none' for border weights)" in (
        _chosen(touching, weighted, {"train.class_weights"})[0]["data.weight_map"].reason
    )
    with command_spelling():  # as the command line runs
        _, plan = _chosen(touching, both, {"train.class_weights", "data.weight_map"})
        chosen, _ = _chosen(touching, weighted, {"train.class_weights"})
    assert plan.notes[0].endswith("; turn class weights off: --set train.class_weights=none")
    assert "(--set train.class_weights=none for border weights)" in chosen["data.weight_map"].reason


def _scribbled(root, fill, classes, n=3, size=48):
    """``n`` nuclei-like images (dark background 10, bright nuclei 200) whose masks keep a
    patch of each class and leave the rest ``fill``; with ``fill=None`` the dense masks."""
    rng = np.random.default_rng(0)
    for i in range(n):
        image = np.full((size, size), 10, np.uint8)
        truth = np.zeros((size, size), np.uint8)
        image[10:30, 10:30], truth[10:30, 10:30] = 200, 1
        image += rng.integers(0, 5, image.shape, dtype=np.uint8)
        mask = np.asarray(classes, np.uint8)[truth]
        if fill is not None:
            keep = np.zeros_like(truth, dtype=bool)
            keep[2:8, 2:8] = keep[14:24, 14:24] = True  # a background and a nucleus patch
            mask = np.where(keep, mask, fill).astype(np.uint8)
        write_png(root / "images" / f"{i}.png", image)
        write_png(root / "masks" / f"{i}.png", mask)
    return root


def test_an_unlabelled_fill_value_is_named_with_the_setting_that_ignores_it(tmp_path):
    """ilastik's label export (0 = unlabelled, classes 1, 2) trained 'unlabelled' as a class
    without a word (val mIoU 0.067; 0.478 with data.ignore_value=0)."""
    ilastik = _scribbled(tmp_path / "ilastik", 0, (1, 2))
    _, plan = plan_training(load_config(None, [f"data.root={ilastik}"]))
    (line,) = plan.notes
    assert line.startswith("mask value 0 fills 94% of every mask, the image under it brighter")
    # as its caller sets it: a notebook's plan_training was told --set (s52)
    assert "0 = unlabelled), cfg.data.ignore_value = 0; else it trains" in line
    with command_spelling():  # the command line's plan
        (line,) = plan_training(load_config(None, [f"data.root={ilastik}"]))[1].notes
    assert "0 = unlabelled), --set data.ignore_value=0; else it trains" in line
    white = _scribbled(tmp_path / "white", 255, (0, 1))
    _, plan = plan_training(load_config(None, [f"data.root={white}"]))
    assert "cfg.data.ignore_value = 255;" in plan.notes[0] and "apart from" in plan.notes[0]
    _, plan = plan_training(load_config(None, [f"data.root={white}", "data.ignore_value=255"]))
    assert plan.notes == []
    dense = _scribbled(tmp_path / "dense", None, (0, 1))  # a dark background class: no fill
    for path in (dense / "masks").iterdir():  # a third class, inside the nuclei
        mask = read_image(path).copy()
        mask[18:22, 10:30] = 2
        write_png(path, mask)
    assert plan_training(load_config(None, [f"data.root={dense}"]))[1].notes == []


def test_ilastik_names_one_a_line_are_told_to_be_value_name_lines(tmp_path):
    """ilastik's export (0 unlabelled, classes 1, 2) with class_names.txt of one name a line
    and data.ignore_value=0: 0 is named 'cell', and the fix said was to ignore 2, which is
    nucleus (review s62); the lines as VALUE NAME pass."""
    ilastik = _scribbled(tmp_path / "ilastik", 0, (1, 2))
    (ilastik / "class_names.txt").write_text("cell\nnucleus\n")
    cfg = load_config(None, [f"data.root={ilastik}", "data.ignore_value=0"])
    with pytest.raises(DatasetError) as caught:
        plan_training(cfg)
    message = str(caught.value)
    assert "data.ignore_value=0 is the mask value of the class named 'cell'" in message
    assert "write the lines of class_names.txt as VALUE NAME ('1 cell', '2 nucleus')" in message
    assert "2 here" not in message and "value of the unlabelled pixels" not in message
    (ilastik / "class_names.txt").write_text("1 cell\n2 nucleus\n")
    plan_training(cfg)


def test_an_unlabelled_fill_is_named_when_a_few_masks_are_fully_labelled(tmp_path):
    """Recheck audit s28, finding 3: two dense masks among five silenced the line."""
    root = _scribbled(tmp_path / "mixed", 255, (0, 1), n=3)
    _scribbled(tmp_path / "dense", None, (0, 1), n=2)
    for kind in ("images", "masks"):
        for i in range(2):
            (tmp_path / "dense" / kind / f"{i}.png").rename(root / kind / f"d{i}.png")
    _, plan = plan_training(load_config(None, [f"data.root={root}"]))
    (line,) = [n for n in plan.notes if n.startswith("mask value 255")]
    assert "of 3 of 5 masks (the others have none)" in line
    assert "cfg.data.ignore_value = 255;" in line


def test_objects_are_measured_only_where_wholly_labelled():
    """Scribbles read as 3 px objects (11 px nuclei): objects that meet unlabelled pixels
    are left out of the sizes and contacts, and counted."""
    mask = np.full((40, 40), 255, np.uint8)  # unlabelled
    mask[2:20, 2:20] = 0  # a labelled patch of background around a whole 6 x 6 nucleus
    mask[8:14, 8:14] = 1
    mask[30, 5:35] = 1  # a scribble through a nucleus
    mask[32, 5:35] = 0  # and one through the background
    image = np.zeros((40, 40), np.uint8)
    facts = measure_pair(image, mask, ignore_value=255)
    assert (facts.object_areas, facts.cut_objects, facts.touching) == ((36,), 1, 0)
    fp = Fingerprint([facts])
    tile = plan_tile(fp, Geometry(4, "same"), "cpu")
    assert "wholly labelled objects are ~7 px across (median area 36 px; 1 that meet" in tile.reason
    everything = measure_pair(image, np.where(mask == 255, 0, mask), ignore_value=None)
    assert sorted(everything.object_areas) == [30, 36] and everything.cut_objects == 0


def test_a_class_in_no_validation_image_is_said_with_a_seed_that_puts_it_in(tmp_path):
    """4 images, one validating without the rare class: its val IoU was 0 at every
    validation and best.pt chosen for never predicting it, without a word."""
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for i in range(4):
        mask = np.zeros((32, 32), np.uint8)
        mask[4:20, 4:20] = 1
        mask[22:26, 22:26] = 2 if i < 3 else 1  # the rare class in 3 of the 4 images
        write_png(root / "images" / f"{i}.png", rng.integers(0, 255, (32, 32), np.uint8))
        write_png(root / "masks" / f"{i}.png", mask)
    lines = {}
    for seed in range(6):
        cfg = load_config(None, [f"data.root={root}", f"data.seed={seed}"])
        _, val = split_pairs(root, val_fraction=cfg.data.val_fraction, seed=seed)
        lines[val[0].mask.stem] = (seed, plan_training(cfg)[1].notes)
    seed, notes = lines["3"]  # the one image without the rare class validates
    (line,) = notes
    assert line.startswith(
        "mask value 2 in no validation image (1 image, 1,024 labelled px; one image: a noisy "
        "score): its val IoU is 0 once the net predicts it, so best.pt is chosen by the other"
    )
    better = int(line.rsplit("data.seed=", 1)[1].split()[0])
    _, val = split_pairs(root, val_fraction=cfg.data.val_fraction, seed=better)
    assert better > seed and val[0].mask.stem != "3"
    assert all(n == [] for stem, (_, n) in lines.items() if stem != "3")


def test_a_class_in_one_image_only_gets_no_seed_that_would_take_it_from_training(tmp_path):
    """Audit s50 road scenes: person in one file of 20: "data.seed=10 puts it in
    validation", and with that seed the check said "in no training image: the net cannot
    learn it; ... another data.seed". One image cannot be both: the line says so."""
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for i in range(4):
        mask = np.zeros((32, 32), np.uint8)
        mask[4:20, 4:20] = 1
        mask[22:26, 22:26] = 2 if i == 0 else 1  # the rare class in image 0 only
        write_png(root / "images" / f"{i}.png", rng.integers(0, 255, (32, 32), np.uint8))
        write_png(root / "masks" / f"{i}.png", mask)
    (root / "class_names.txt").write_text("background\nroad\nperson\n")  # named: no stray
    share = load_config(None, []).data.val_fraction
    seed = next(
        s for s in range(20) if split_pairs(root, val_fraction=share, seed=s)[1][0].mask.stem != "0"
    )
    cfg = load_config(None, [f"data.root={root}", f"data.seed={seed}"])
    (line,) = [n for n in plan_training(cfg)[1].notes if "in no validation image" in n]
    assert "data.seed=" not in line and "move an image" not in line
    assert line.endswith(
        f"2 (person) is in one image only ({root / 'masks' / '0.png'}), which training needs: no split "
        "both learns and validates it; label it in more images and put one of them among the "
        "validation images"
    )


def test_a_class_in_no_val_folder_image_names_a_training_mask_to_move(tmp_path):
    """Audit s43 scenes: train/ and val/ folders, the rare class in none of val/: the fix
    said 'raise data.val_fraction', which a val/ folder ignores."""
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for part, n in (("train", 4), ("val", 1)):
        for i in range(n):
            mask = np.zeros((32, 32), np.uint8)
            mask[4:20, 4:20] = 1
            mask[22:28, 22:28] = 2 if part == "train" and i in (1, 2) else 1
            write_png(root / part / "images" / f"{i}.png", rng.integers(0, 255, (32, 32), np.uint8))
            write_png(root / part / "masks" / f"{i}.png", mask)
    notes = plan_training(load_config(None, [f"data.root={root}"]))[1].notes
    (line,) = [n for n in notes if "in no validation image" in n]
    assert line.endswith(  # s50: the move that fits the folders, not both splits' fixes
        f"move an image with it (such as {root / 'train' / 'masks' / '1.png'}) from train/ "
        "into val/ (data.val_fraction changes no folder)"
    )


def test_class_index_masks_under_the_isbi_config_get_one_error_naming_it(tmp_path):
    """small_cpu.yaml names ISBI's classes: class-index masks gave three errors one after
    the other, none saying the 0/255 came from the config."""
    root = _scribbled(tmp_path / "data", 255, (1, 2))  # classes 1, 2 and 255 unlabelled
    for path in (root / "masks").iterdir():
        write_png(path, np.where(read_image(path) == 2, 0, read_image(path)).astype(np.uint8))
    cfg = load_config("small_cpu", [f"data.root={root}", "data.ignore_value=255"])
    with pytest.raises(DatasetError) as caught, command_spelling():  # as the command line runs
        plan_training(cfg)
    message = str(caught.value)
    said = (
        "mask value 1 is not among data.label_values [0, 255] set in configs/small_cpu.yaml "
        "(with data.class_names {0: membrane, 255: cell}, model.num_classes 2): for these masks "
        "leave out that config or "
    )
    assert (
        said + "--set 'data.label_values=[0, 1]' --set data.class_names=null "
        "--set model.num_classes=2" in message
    )
    with (
        pytest.raises(
            DatasetError,
            match=r"--set model.num_classes=2 --set data.ignore_value=255 \(255 fills most",
        ),
        command_spelling(),
    ):
        plan_training(load_config("small_cpu", [f"data.root={root}"]))  # the likely value
    # plan_training in a notebook: as Python sets them (s53: it was told --set)
    with pytest.raises(DatasetError) as caught:
        plan_training(cfg)
    assert (
        said + "cfg.data.label_values = [0, 1]; cfg.data.class_names = None; "
        "cfg.model.num_classes = 2\n" in str(caught.value) + "\n"
    )
    fixed = ["data.label_values=[0, 1]", "data.class_names=null", "model.num_classes=2"]
    plan_training(load_config("small_cpu", [f"data.root={root}", "data.ignore_value=255", *fixed]))


def test_a_thin_class_of_rims_does_not_size_the_tile(tmp_path):
    """Recheck audit s28, finding 2: a 1-px nucleus rim class broke into ~2 px fragments
    that the plan sized the tile by (8 px tiles; mIoU 0.596 against 0.633 at 128)."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:96, :96]
    for i in range(3):
        mask = np.zeros((96, 96), np.uint8)
        for cy, cx in rng.integers(12, 84, (6, 2)):
            mask[(yy - cy) ** 2 + (xx - cx) ** 2 <= 64] = 1  # nuclei of radius 8
        edge = (mask == 1) & ~ndimage.binary_erosion(mask == 1)
        mask[edge] = 2  # a 1-px rim: its 4-connected pieces are 1-3 px
        image = np.where(mask > 0, 180, 20).astype(np.uint8)
        write_png(tmp_path / "images" / f"{i}.png", image)
        write_png(tmp_path / "masks" / f"{i}.png", mask)
    _, plan = plan_training(load_config(None, [f"data.root={tmp_path}"]))
    (tile,) = [c for c in plan.choices if c.key == "data.tile_size"]
    across = float(tile.reason.split("objects are ~")[1].split(" px")[0])
    assert across >= 10, tile.reason  # the nuclei's ~15 px, not the rim's pieces
    (weights,) = [c for c in plan.choices if c.key == "data.weight_map"]
    counted = int(weights.reason.split(" of ")[1].split(" objects")[0])
    assert counted <= 18, weights.reason  # at most the 18 nuclei touch: no rim pieces


def test_a_seed_for_one_class_never_moves_another_class_out_of_training(tmp_path):
    """Review s50: value 2 in image 000 only, value 3 in 001 and 002, both missing from
    validation: "data.seed=2 puts it in validation" moved 000 (2's only image) there, and
    with that seed the check said "in no training image: the net cannot learn it". The seed
    must keep every class in training, and the line names the value of each part."""
    root, cfg = _ten_pairs(tmp_path, {2: (0,), 3: (1, 2)})
    (line,) = [n for n in plan_training(cfg)[1].notes if "in no validation image" in n]
    seed = int(line.split("data.seed=", 1)[1].split()[0])
    holder = root / "masks" / "000.tif"  # by its path, as found (s55)
    assert f"data.seed={seed} puts 3 in validation; 2 is in one image only ({holder})," in line
    train, val = split_pairs(root, val_fraction=cfg.data.val_fraction, seed=seed)
    assert "000" in {p.mask.stem for p in train} and {"001", "002"} & {p.mask.stem for p in val}
    assert {"001", "002"} & {p.mask.stem for p in train}  # 3 is still trained on


def test_a_seed_never_moves_both_images_of_a_class_into_validation(tmp_path):
    """Value 3 in 000 and 002 only: the first seed validating on one of them (2) validates
    on both, and training would lose 3; the seed suggested keeps one of them in training."""
    root, cfg = _ten_pairs(tmp_path, {3: (0, 2)})
    (line,) = [n for n in plan_training(cfg)[1].notes if "in no validation image" in n]
    seed = int(line.split("data.seed=", 1)[1].split()[0])
    train, val = split_pairs(root, val_fraction=cfg.data.val_fraction, seed=seed)
    assert {"000", "002"} & {p.mask.stem for p in val}, line
    assert {"000", "002"} & {p.mask.stem for p in train}, line


def _ten_pairs(folder, rare: dict[int, tuple[int, ...]]):
    """10 TIFF pairs (written as write_dataset does) of value 1 in all and each ``rare``
    value in the images it names; their root and a config with values 0..3."""
    from unetlab.data.write import write_dataset

    rng = np.random.default_rng(0)
    masks = [np.zeros((32, 32), np.uint8) for _ in range(10)]
    for i, mask in enumerate(masks):
        mask[4:20, 4:20] = 1
        for value, images in rare.items():
            mask[22:26, 8 * value : 8 * value + 4] = value if i in images else 1
    root = write_dataset([rng.integers(0, 255, (32, 32), np.uint8) for _ in masks], masks, folder)
    return root, load_config(None, [f"data.root={root}", "data.label_values=[0,1,2,3]"])


def test_mask_values_outside_label_values_are_fixed_as_the_caller_sets_them():
    """s53: plan_training in a notebook was told '--set data.label_values=...' and '--set
    data.ignore_value=V'; the command line keeps its --set words."""
    fp, cfg = facts(), load_config(None, ["data.label_values=[0, 1]"])  # masks hold 0 and 255
    (line,) = label_value_problems(fp, cfg)
    assert line.endswith(
        ": for these masks cfg.data.label_values = [0, 255]; a value that marks unlabelled "
        "pixels: cfg.data.ignore_value = V"
    )
    with command_spelling():
        (line,) = label_value_problems(fp, cfg)
    assert line.endswith(
        ": for these masks --set 'data.label_values=[0, 255]'; a value that marks unlabelled "
        "pixels: --set data.ignore_value=V"
    )
