"""Label value encoding and image/mask pairing."""

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab.data.labels import IGNORE_INDEX, decode_mask, encode_mask, instances, seeded_cells
from unetlab.data.pairs import find_pairs, read_pair
from unetlab.errors import DatasetError


def test_encode_decode():
    mask = np.array([[0, 255, 128], [255, 0, 0]], np.uint8)
    idx = encode_mask(mask, [0, 255], ignore_value=128)
    assert idx.tolist() == [[0, 1, IGNORE_INDEX], [1, 0, 0]]
    assert decode_mask(idx, [0, 255]).tolist() == [[0, 255, 0], [255, 0, 0]]
    with pytest.raises(DatasetError, match=r"m.png: label value \[128\] is"):
        encode_mask(mask, [0, 255], name="m.png")


def test_unknown_values_name_the_fix_as_the_caller_sets_it():
    """It ended in a bare "set data.label_values (or data.ignore_value) in the config" (s58):
    now the settings with their values, as Python sets them and the command line does."""
    mask = np.array([[0, 255, 7]], np.uint8)
    with pytest.raises(DatasetError) as caught:
        encode_mask(mask, [0, 255], name="m.png")
    line, cli = str(caught.value), caught.value.cli
    assert "; cfg.data.label_values = [0, 7, 255] if each is a class, or " in line
    assert "cfg.data.ignore_value = 7 for a value that counts nowhere" in line
    assert "(evaluate: ignore_value=V, and label_values with pred_dir), or fix the" in line
    assert "--set" not in line and "in the config" not in line
    assert "; --set 'data.label_values=[0, 7, 255]' if each is a class, or --set " in cli
    assert "data.ignore_value=7 for" in cli and "(evaluate: --ignore-value V, and" in cli
    with pytest.raises(DatasetError) as caught:  # two values: one ignore value cannot do
        encode_mask(np.array([[3, 7]]), [0, 255], name="m.png")
    assert "[0, 3, 7, 255] if each is a class, or cfg.data.ignore_value = V for" in str(
        caught.value
    )


def save(path, arr):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def test_folder_layout_lists_every_problem(tmp_path):
    save(tmp_path / "images" / "a.png", np.zeros((4, 4), np.uint8))
    save(tmp_path / "masks" / "a.png", np.zeros((4, 4), np.uint8))
    save(tmp_path / "images" / "b.png", np.zeros((4, 4), np.uint8))
    save(tmp_path / "masks" / "c.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    msg = str(info.value)
    assert "2 problems" in msg and "b.png: no mask" in msg and "c.png: mask without an image" in msg


def test_stacks_pair_page_by_page(tmp_path):
    tifffile.imwrite(
        tmp_path / "train-volume.tif",
        np.arange(3 * 8 * 8, dtype=np.uint8).reshape(3, 8, 8),
        photometric="minisblack",
    )
    tifffile.imwrite(
        tmp_path / "train-labels.tif", np.full((3, 8, 8), 255, np.uint8), photometric="minisblack"
    )
    pairs = find_pairs(tmp_path)
    assert [p.name for p in pairs] == ["train-volume[0]", "train-volume[1]", "train-volume[2]"]
    image, mask = read_pair(pairs[2])
    assert image[0, 0] == 128 and mask.shape == (8, 8)


def test_size_mismatch_named(tmp_path):
    save(tmp_path / "images" / "a.png", np.zeros((4, 4), np.uint8))
    save(tmp_path / "masks" / "a.png", np.zeros((4, 5), np.uint8))
    with pytest.raises(DatasetError, match="a.png is 4x4 but its mask a.png is 5x4"):
        read_pair(find_pairs(tmp_path)[0])


def test_isbi_data(isbi_dir):
    pairs = find_pairs(isbi_dir / "train")
    assert len(pairs) == 30
    image, mask = read_pair(pairs[0])
    assert image.shape == mask.shape == (512, 512)
    assert set(np.unique(mask).tolist()) == {0, 255}


def _two_cells_and_a_gap() -> np.ndarray:
    """Cell probability of two cells whose membrane (column 5) has a one-pixel gap."""
    p = np.full((7, 11), 0.95)
    p[:, 0] = p[:, 5] = 0.1
    p[3, 5] = 0.6  # above a 0.5 threshold: thresholding merges the cells
    return p


def test_seeded_cells_split_cells_that_a_membrane_gap_merges():
    p = _two_cells_and_a_gap()
    assert instances((p > 0.5).astype(np.uint8)).max() == 1
    ids = seeded_cells(p, 0.5, 0.9)
    assert ids.max() == 2 and ids[3, 5] == 0  # the gap became the line between them
    assert (
        np.array_equal(ids[:, 1:5] > 0, np.ones((7, 4), bool)) and len(np.unique(ids[:, 1:5])) == 1
    )
    assert np.array_equal(ids, instances((ids > 0).astype(np.uint8)))  # what the binary map says
    assert ids.dtype == np.int32 and np.array_equal(p, _two_cells_and_a_gap())  # input untouched


def test_seeded_cells_keep_unseeded_regions_and_drop_tiny_seeds():
    p = np.full((6, 12), 0.1)
    p[1:5, 1:5] = 0.7  # a region above the threshold with no seed: still a cell
    p[1:5, 7:11] = 0.95  # a seeded cell
    ids = seeded_cells(p, 0.5, 0.9)
    assert ids.max() == 2 and ids[2, 2] > 0
    few = np.full((5, 9), 0.7)
    few[2, 2] = few[2, 6] = 0.95  # two 1-px seeds under min_seed_area: one cell, no line
    assert seeded_cells(few, 0.5, 0.9).max() == 1
    assert seeded_cells(few, 0.5, 0.9, min_seed_area=1).max() == 2
    with pytest.raises(ValueError, match="one \\(H, W\\) map"):
        seeded_cells(np.zeros((2, 3, 4)), 0.5, 0.9)


def test_many_files_with_one_problem_say_it_once_files_sorted(tmp_path):
    from unetlab.data.datasets import scan_masks
    from unetlab.data.pairs import Pair

    rng = np.random.default_rng(0)
    order = [1, 3, 0, 5, 4, 2]  # a seeded split's order: train files, then validation
    for i in order:
        save(tmp_path / "masks" / f"s{i:03d}.png", rng.integers(0, 4, (6, 6, 3), dtype=np.uint8))
    pairs = [Pair(tmp_path / f"s{i:03d}.png", tmp_path / "masks" / f"s{i:03d}.png") for i in order]
    with pytest.raises(DatasetError) as info:
        scan_masks(pairs)
    message = str(info.value)
    assert message.startswith(
        f"6 problems in the data set: 6 files in {tmp_path / 'masks'}: this mask is a colour "
        "(RGB) image; save masks as class indices"
    )
    assert message.endswith("(s000.png, s001.png, s002.png and 3 more)")
    assert message.count("colour (RGB)") == 1


def test_problems_of_few_files_or_of_one_file_keep_their_lines(tmp_path):
    from unetlab.data.pairs import problems_error

    lone = [f"{tmp_path}/images/{n}.png: no mask in masks/ with this name" for n in "dcba"]
    problems = ["x.tif: 3 pages but its mask 2", *lone, "y.png: unreadable", "z.png: unreadable"]
    message = str(problems_error(problems))
    assert message == (
        "7 problems in the data set:\n  x.tif: 3 pages but its mask 2\n  4 files in "
        f"{tmp_path}/images: no mask in masks/ with this name (a.png, b.png, c.png and 1 more)"
        "\n  y.png: unreadable\n  z.png: unreadable"
    )
    pages = [f"stack[{i}]: image page is 7x6 but its mask is 7x5" for i in range(5)]
    assert str(problems_error(pages)).endswith(
        "stack[0], stack[1], stack[2] and 2 more: image page is 7x6 but its mask is 7x5"
    )
    folders = [f"{p}: unreadable" for p in ("b/4.png", "a/1.png", "b/2.png", "a/3.png")]
    assert str(problems_error(folders)).endswith(
        "4 files: unreadable (a/1.png, a/3.png, b/2.png and 1 more)"
    )


def test_a_broken_image_link_is_a_problem_named_not_skipped(tmp_path):
    """A dangling link in images/ without a mask was skipped silently (a regular image
    without a mask is refused)."""
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / sub / "a.png")
    (tmp_path / "images" / "z.png").symlink_to("/nonexistent/z.png")
    with pytest.raises(DatasetError, match=r"broken link whose file is gone: z.png -> "):
        find_pairs(tmp_path)


def test_value_indices_maps_each_value_to_its_class_index():
    from unetlab.data.labels import IGNORE_INDEX, UNKNOWN, value_indices

    mask = np.array([[0, 255, 7], [255, 0, 9]], np.uint8)
    expected = [[1, 0, IGNORE_INDEX], [0, 1, UNKNOWN]]
    assert value_indices(mask, [255, 0], ignore_value=7).tolist() == expected
    # negative and float values take the generic path, to the same indices
    assert value_indices(mask.astype(float), [255, 0], ignore_value=7).tolist() == expected
    assert value_indices(np.array([[-1, 3]]), [3, -1]).tolist() == [[1, 0]]


def test_a_negative_ignore_value_ignores_no_value_of_an_unsigned_mask():
    """data.ignore_value=-1 (IGNORE_INDEX's own value) on 0/255 masks: no pixel holds it, so
    none is ignored; the lookup table's lut[-1] made every 255 (the cell class) ignored, and
    -100 (PyTorch's ignore_index) on 0/1/2 masks fell over in an IndexError."""
    from unetlab.data.labels import value_indices

    mask = np.array([[0, 255], [255, 0]], np.uint8)
    assert encode_mask(mask, [0, 255], ignore_value=-1).tolist() == [[0, 1], [1, 0]]
    three = np.array([[0, 1, 2]], np.uint8)
    assert value_indices(three, [0, 1, 2], ignore_value=-100).tolist() == [[0, 1, 2]]
    # nor does a negative class value take the top value's index (255 read as class 2)
    assert value_indices(mask, [0, 255, -1]).tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_float_mask_with_inf_or_nan_is_refused_naming_the_value_not_a_crash(bad):
    """An infinite value in a float mask (evaluate --checkpoint --data of a float32 TIFF mask)
    sized the lookup table with int(inf): an OverflowError and a traceback (s51 walkbad)."""
    mask = np.array([[0.0, 255.0], [bad, 0.0]], np.float32)
    with pytest.raises(DatasetError, match=rf"m.tif: label value \[{bad}\] is not among"):
        encode_mask(mask, [0, 255], name="m.tif")
    from unetlab.data.labels import UNKNOWN, value_indices

    assert value_indices(mask, [0, 255], ignore_value=255).tolist() == [[0, -1], [UNKNOWN, 0]]


@pytest.mark.parametrize("sub, name", [("images", "b.tif"), ("masks", "b.png")])
def test_a_folder_named_as_an_image_or_mask_is_said_to_be_a_folder(tmp_path, sub, name):
    """images/b.tif/ (a folder) was passed over, and its mask said to be "without an image"
    (masks/b.png/: the image "no mask"), naming the wrong file (s51 walkbad)."""
    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
        for stem in ("a", "b"):
            Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / folder / f"{stem}.png")
    (tmp_path / sub / "b.png").unlink()
    (tmp_path / sub / name).mkdir()
    with pytest.raises(DatasetError) as said:
        find_pairs(tmp_path)
    line = f"{tmp_path / sub / name}/ is a folder, not an image file: put the file {name} in its"
    assert line in str(said.value) and "without an image" not in str(said.value)
    assert "no mask in" not in str(said.value)


def test_evaluate_is_told_its_own_settings_of_unknown_values(tmp_path):
    """evaluate was told --set data.label_values / cfg.data.ignore_value, which it has not
    (s58 review G): now --label-values and --ignore-value, label_values= and ignore_value=."""
    from unetlab import evaluate_predictions

    save(tmp_path / "pred" / "a.png", np.zeros((8, 8), np.uint8))
    save(tmp_path / "gt" / "a.png", np.full((8, 8), 7, np.uint8))
    with pytest.raises(DatasetError) as caught:
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", label_values=[0, 255])
    line, cli = str(caught.value), caught.value.cli
    assert "; label_values=[0, 7, 255] if each is a class, or ignore_value=7 for" in line
    assert "; --label-values 0 7 255 if each is a class, or --ignore-value 7 for" in cli
    assert "cfg." not in line and "--set" not in cli and "data." not in line + cli


def test_unknown_values_beyond_ten_or_not_whole_get_one_short_fix():
    """A 4096-value mask listed every value in its fix (23,800 characters); 0.5 against [0, 1]
    advised label_values [0, 1], already set (s58 review G)."""
    with pytest.raises(DatasetError) as caught:
        encode_mask(np.arange(4096, dtype=np.uint16).reshape(64, 64), [0, 1])
    assert len(str(caught.value)) < 300 and "object ids" in str(caught.value)
    with pytest.raises(DatasetError) as caught:
        encode_mask(np.array([[0, 0.5, 1]]), [0, 1])
    assert "label_values" not in str(caught.value) and "whole numbers" in str(caught.value)
