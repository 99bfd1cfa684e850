"""labelme JSON and YOLO segmentation labels read as class masks (unetlab.data.shapes)."""

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from unetlab.data.io import read_mask
from unetlab.data.pairs import find_pairs
from unetlab.data.shapes import is_shapes_mask, shape_class_names
from unetlab.errors import DatasetError


def _labelme(folder, stem, shapes, size=(40, 50), **extra):
    Image.fromarray(np.zeros(size, np.uint8)).save(folder / f"{stem}.png")
    data = dict(version="5.4.1", shapes=shapes, imagePath=f"{stem}.png", imageData=None)
    data |= dict(imageHeight=size[0], imageWidth=size[1]) | extra
    (folder / f"{stem}.json").write_text(json.dumps(data))
    return folder / f"{stem}.json"


def _shape(label, points, kind="polygon", group=None):
    return dict(label=label, points=points, shape_type=kind, group_id=group, flags={})


def _pil(points, size, kind):
    """labelme's own rasterising (labelme.utils.shape_to_mask): PIL, fill and outline."""
    im = Image.new("L", size[::-1])
    draw = ImageDraw.Draw(im)
    xy = [tuple(p) for p in points]
    (draw.rectangle if kind == "rectangle" else draw.polygon)(xy, outline=1, fill=1)
    return np.asarray(im).astype(bool)


@pytest.mark.parametrize(
    "points, kind",
    [
        ([[2, 3], [5, 7]], "rectangle"),
        ([[3, 3], [40, 3], [40, 30], [3, 30]], "polygon"),
    ],
)
def test_whole_pixel_shapes_fill_the_pixels_labelme_fills(tmp_path, points, kind):
    """Integer points are pixel centres in labelme (PIL): the pixels filled are labelme's."""
    path = _labelme(tmp_path, "a", [_shape("cell", points, kind)])
    mask = read_mask(path)
    assert mask.dtype == np.uint8
    np.testing.assert_array_equal(mask == 1, _pil(points, (40, 50), kind))


def test_slanted_edges_differ_from_labelme_only_on_its_outline(tmp_path):
    """PIL also fills the pixels its outline's line passes near a slanted edge: those alone."""
    points = [[10, 4], [30, 9], [22, 30], [5, 25]]
    mask = read_mask(_labelme(tmp_path, "a", [_shape("cell", points)])) == 1
    pil = _pil(points, (40, 50), "polygon")
    outline = Image.new("L", (50, 40))
    ImageDraw.Draw(outline).polygon([tuple(p) for p in points], outline=1)
    assert not (mask & ~pil).any()
    assert not (pil & ~mask & ~np.asarray(outline).astype(bool)).any()


def test_labels_sorted_over_the_set_and_background_zero(tmp_path):
    _labelme(tmp_path, "a", [_shape("zeta", [[1, 1], [5, 5]], "rectangle")])
    b = _labelme(tmp_path, "b", [_shape("alpha", [[1, 1], [5, 5]], "rectangle")])
    assert read_mask(b)[3, 3] == 1  # alpha before zeta, over both files
    names, _ = shape_class_names(tmp_path)
    assert names == {0: "background", 1: "alpha", 2: "zeta"}


def test_labels_txt_gives_the_order(tmp_path):
    b = _labelme(tmp_path, "b", [_shape("alpha", [[1, 1], [5, 5]], "rectangle")])
    (tmp_path / "labels.txt").write_text("__ignore__\n_background_\nzeta\nalpha\n")
    assert read_mask(b)[3, 3] == 2


def test_circle_group_and_lines(tmp_path):
    shapes = [
        _shape("cell", [[20, 20], [26, 20]], "circle"),
        _shape("cell", [[0, 0], [10, 10]], "line"),
        _shape("cell", [[30, 0], [40, 0], [40, 10]], group=1),
        _shape("cell", [[30, 0], [40, 10], [30, 10]], group=1),
    ]
    mask = read_mask(_labelme(tmp_path, "a", shapes))
    assert mask[20, 20] == 1 and mask[20, 26] == 1 and mask[20, 27] == 0
    assert mask[5, 5] == 0  # the line passed over
    assert mask[5, 35] == 1 and mask[2, 38] == 1


def test_another_image_or_size_is_one_line(tmp_path):
    shapes = [_shape("cell", [[1, 1], [5, 5]], "rectangle")]
    with pytest.raises(DatasetError, match="imagePath names ../images/other.jpg"):
        read_mask(_labelme(tmp_path, "a", shapes, imagePath="../images/other.jpg"))
    with pytest.raises(DatasetError, match="60 x 30 px"):
        read_mask(_labelme(tmp_path, "b", shapes, imageHeight=30, imageWidth=60))


def test_coco_json_and_names_files_are_not_claimed(tmp_path):
    (tmp_path / "coco.json").write_text(json.dumps({"images": [], "annotations": []}))
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "labels.txt").write_text("cell\ndebris\n")
    assert not is_shapes_mask(tmp_path / "coco.json")
    assert not is_shapes_mask(tmp_path / "labels" / "labels.txt")


def test_flat_labelme_folder_pairs(tmp_path):
    for stem in "ab":
        _labelme(tmp_path, stem, [_shape("cell", [[1, 1], [5, 5]], "rectangle")])
    (tmp_path / "labels.txt").write_text("_background_\ncell\n")
    pairs = find_pairs(tmp_path)
    assert [(p.image.name, p.mask.name) for p in pairs] == [
        ("a.png", "a.json"),
        ("b.png", "b.json"),
    ]


def _yolo(root, lines, names="['cell', 'debris', 'mitosis']"):
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
    for split, stem in [("train", "a"), ("train", "b"), ("val", "c"), ("val", "d")]:
        Image.fromarray(np.zeros((20, 40), np.uint8)).save(root / "images" / split / f"{stem}.png")
    (root / "labels" / "train" / "a.txt").write_text(lines)
    (root / "labels" / "train" / "b.txt").write_text("")
    (root / "labels" / "val" / "c.txt").write_text("")  # d.png: no label file
    (root / "data.yaml").write_text(f"train: images/train\nval: images/val\nnames: {names}\n")
    return root / "labels" / "train" / "a.txt"


def test_yolo_class_id_plus_one_in_pixel_corners(tmp_path):
    path = _yolo(tmp_path, "1 0.25 0.5 0.5 0.5 0.5 1.0 0.25 1.0\n")
    mask = read_mask(path)
    # x 0.25..0.5 of 40 px: columns 10..19; y 0.5..1 of 20 px: rows 10..19
    expected = np.zeros((20, 40), np.uint8)
    expected[10:20, 10:20] = 2
    np.testing.assert_array_equal(mask, expected)
    names, _ = shape_class_names(tmp_path)
    assert names == {0: "background", 1: "cell", 2: "debris", 3: "mitosis"}


def test_yolo_layout_pairs_and_passes_over_images_without_labels(tmp_path):
    _yolo(tmp_path, "0 0.1 0.1 0.5 0.1 0.5 0.5\n")
    pairs = find_pairs(tmp_path)
    assert [(p.image.name, p.mask.name) for p in pairs] == [
        ("a.png", "a.txt"),
        ("b.png", "b.txt"),
        ("c.png", "c.txt"),
    ]
    assert not read_mask(pairs[1].mask).any()


@pytest.mark.parametrize(
    "line, said",
    [
        ("0 0.1 0.1 1.5 0.1 0.5 0.5", "outside 0-1"),
        ("7 0.1 0.1 0.5 0.1 0.5 0.5", "class 7, which data.yaml does not name"),
        ("0 0.1 0.1 0.5", "3 coordinates"),
    ],
)
def test_yolo_bad_lines_are_one_line(tmp_path, line, said):
    with pytest.raises(DatasetError, match=said):
        read_mask(_yolo(tmp_path, line + "\n"))
