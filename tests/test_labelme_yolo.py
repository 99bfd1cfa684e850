"""labelme JSON and YOLO segmentation labels read as class masks (unetlab.data.shapes)."""

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from unetlab.config import load_config
from unetlab.data.datasets import more_validation, split_kind, split_pairs
from unetlab.data.io import read_mask
from unetlab.data.pairs import find_pairs
from unetlab.data.read_notes import call_notes
from unetlab.data.shapes import (
    is_shapes_mask,
    shape_class_names,
    shapes_as_objects,
    shapes_read_as,
)
from unetlab.errors import DatasetError, UnetlabError
from unetlab.manifest import record
from unetlab.train.setup import prepare_data


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


# s71 fix round: the review's findings, each seen failing without its fix


def test_fractional_points_are_cut_as_labelme_cuts_them(tmp_path):
    """labelme saves fractional points; PIL cuts them to whole pixels (s71 review: half a
    pixel right and down of labelme's mask before)."""
    rng = np.random.default_rng(0)
    for i in range(20):
        centre, angles = rng.uniform(12, 28, 2), np.sort(rng.uniform(0, 2 * np.pi, 6))
        radius = rng.uniform(4, 9)
        points = (centre + radius * np.c_[np.cos(angles), np.sin(angles)]).tolist()
        mask = read_mask(_labelme(tmp_path, f"p{i}", [_shape("cell", points)])) == 1
        pil = _pil(points, (40, 50), "polygon")
        outline = Image.new("L", (50, 40))
        ImageDraw.Draw(outline).polygon([tuple(p) for p in points], outline=1)
        assert not (mask & ~pil).any()
        assert not (pil & ~mask & ~np.asarray(outline).astype(bool)).any()


@pytest.mark.parametrize(
    "points",
    [
        [[5.2, 7.9], [2.6, 3.1]],  # two corners, the second first
        [[2, 3], [5, 3], [5, 7], [2, 7]],  # X-AnyLabeling's four
    ],
)
def test_rectangles_of_any_corners_fill_their_box(tmp_path, points):
    mask = read_mask(_labelme(tmp_path, "a", [_shape("cell", points, "rectangle")]))
    expected = np.zeros((40, 50), np.uint8)
    expected[3:8, 2:6] = 1
    np.testing.assert_array_equal(mask, expected)


@pytest.mark.parametrize("points", [[[3, 12], [19, 12.6]], [[7, 2], [7, 9]], [[4, 4], [4.5, 4]]])
def test_a_rectangle_one_pixel_wide_is_its_line_of_pixels(tmp_path, points):
    """PIL draws it so (labelme's mask); before: its two end pixels alone."""
    mask = read_mask(_labelme(tmp_path, "a", [_shape("cell", points, "rectangle")]))
    (x0, y0), (x1, y1) = np.floor(points).astype(int)
    expected = np.zeros((40, 50), np.uint8)
    expected[y0 : y1 + 1, x0 : x1 + 1] = 1
    np.testing.assert_array_equal(mask, expected)


def test_mask_shape_placed_at_its_first_point(tmp_path):
    import base64
    import io

    bitmap = np.zeros((3, 4), np.uint8)
    bitmap[0, :] = bitmap[:, 0] = 1
    png = io.BytesIO()
    Image.fromarray(bitmap * 255).save(png, format="PNG")
    shape = _shape("cell", [[10, 20], [13, 22]], "mask") | {
        "mask": base64.b64encode(png.getvalue()).decode()
    }
    mask = read_mask(_labelme(tmp_path, "a", [shape]))
    expected = np.zeros((40, 50), np.uint8)
    expected[20:23, 10:14] = bitmap
    np.testing.assert_array_equal(mask, expected)


def test_ignore_is_void_and_background_zero(tmp_path):
    from unetlab.data.classes import dataset_classes

    shapes = [
        _shape("cell", [[1, 1], [5, 5]], "rectangle"),
        _shape("__ignore__", [[10, 10], [12, 12]], "rectangle"),
        _shape("_background_", [[2, 2], [3, 3]], "rectangle"),
    ]
    mask = read_mask(_labelme(tmp_path, "a", shapes))
    assert mask[11, 11] == 255 and mask[1, 1] == 1 and mask[2, 2] == 0
    names, _ = shape_class_names(tmp_path)
    classes = dataset_classes(np.unique(mask), None, names)
    assert classes.ignore_value == 255 and classes.label_values == [0, 1]


def test_a_label_labels_txt_lacks_is_one_line(tmp_path):
    b = _labelme(tmp_path, "b", [_shape("alpha", [[1, 1], [5, 5]], "rectangle")])
    (tmp_path / "labels.txt").write_text("_background_\nzeta\n")
    with pytest.raises(DatasetError, match="labels 'alpha' are not in"):
        read_mask(b)


def test_json_beside_images_is_a_set_of_that_folder(tmp_path):
    """proj/images/ of labelme files: an old JSON in proj/old/ numbers none of its classes
    (s71 review: masks walked up to proj/, cell 3, names from images/ said 1 cell)."""
    images, old = tmp_path / "images", tmp_path / "old"
    images.mkdir(), old.mkdir()
    a = _labelme(images, "a", [_shape("cell", [[1, 1], [5, 5]], "rectangle")])
    _labelme(images, "b", [_shape("debris", [[1, 1], [5, 5]], "rectangle")])
    _labelme(old, "x", [_shape("axon", [[1, 1], [5, 5]], "rectangle")])
    names, _ = shape_class_names(images)
    assert names[read_mask(a)[3, 3]] == "cell" and names == {
        0: "background",
        1: "cell",
        2: "debris",
    }


def test_split_folders_are_one_set(tmp_path):
    """train/ and val/ of labelme files number their labels over both, as named."""
    for split, label in [("train", "cell"), ("val", "debris")]:
        (tmp_path / split).mkdir()
        _labelme(tmp_path / split, "a", [_shape(label, [[1, 1], [5, 5]], "rectangle")])
    assert read_mask(tmp_path / "train" / "a.json")[3, 3] == 1
    assert read_mask(tmp_path / "val" / "a.json")[3, 3] == 2
    names, _ = shape_class_names(tmp_path / "train")
    assert names == {0: "background", 1: "cell", 2: "debris"}


def test_the_set_s_labels_are_looked_for_once(tmp_path, monkeypatch):
    """Each mask read looked over every JSON of its set (s71 review: 20 ms a read at 2,000
    files); now once, and again where a file is added."""
    import pathlib

    for stem in "abcd":
        _labelme(tmp_path, stem, [_shape("cell", [[1, 1], [5, 5]], "rectangle")])
    globbed = []
    glob = pathlib.Path.glob
    monkeypatch.setattr(
        pathlib.Path, "glob", lambda self, p, **k: globbed.append(p) or glob(self, p, **k)
    )
    for stem in "abcd":
        read_mask(tmp_path / f"{stem}.json")
    assert len(globbed) == 3  # *.json, */*.json, */*/*.json: once
    e = _labelme(tmp_path, "e", [_shape("axon", [[1, 1], [5, 5]], "rectangle")])
    assert read_mask(e)[3, 3] == 1 and read_mask(tmp_path / "a.json")[3, 3] == 2


def test_metadata_json_is_not_parsed(tmp_path, monkeypatch):
    """A JSON beside each image that names no shapes is passed over unparsed (s71 review:
    a flat folder's listing 0.89 -> 2.04 CPU s with 24 KB metadata files)."""
    import json as json_module

    meta = tmp_path / "a.json"
    meta.write_text(json.dumps({"exposure": list(range(3000))}))

    def parsed(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(json_module, "loads", parsed)
    assert not is_shapes_mask(meta)


@pytest.mark.parametrize(
    "text, broken",
    [
        ('{"version": "5.4.1", "shapes": [{"lab', "cannot be read as JSON"),
        ('{"foo": 1}', "no labelme"),
    ],
)
def test_an_unread_json_beside_its_image_is_said(tmp_path, text, broken):
    """Not "no mask a_masks.png beside it" with a.json there (s71 review)."""
    for stem in "ab":
        _labelme(tmp_path, stem, [_shape("cell", [[1, 1], [5, 5]], "rectangle")])
    (tmp_path / "b.json").write_text(text)
    with pytest.raises(DatasetError, match=f"b.json: .*{broken}"):
        find_pairs(tmp_path)


@pytest.mark.parametrize("text", ["", "0\n1\n", "3\n"])
def test_text_in_a_labels_folder_is_no_yolo_label_by_itself(tmp_path, text):
    """labels/README.txt, a classes.txt of ids, a file of counts: not YOLO's without a
    data.yaml, nor a list of counts with one (s71 review: refused as masks)."""
    (tmp_path / "labels").mkdir()
    path = tmp_path / "labels" / "b.txt"
    path.write_text(text)
    assert not is_shapes_mask(path)
    (tmp_path / "data.yaml").write_text("names: [cell]\n")
    assert is_shapes_mask(path) == (text == "")


def test_yolo_line_not_numbers_past_the_first_is_one_line(tmp_path):
    path = _yolo(tmp_path, "0 0.1 0.1 0.5 0.1 0.5 0.5\n0 0.1 0.1 oops 0.1 0.5 0.5\n")
    with pytest.raises(DatasetError, match="line 2: '0 0.1 0.1 oops.*is not numbers"):
        read_mask(path)


def test_yolo_box_of_four_numbers(tmp_path):
    mask = read_mask(_yolo(tmp_path, "0 0.5 0.5 0.5 0.5\n"))
    expected = np.zeros((20, 40), np.uint8)
    expected[5:15, 10:30] = 1
    np.testing.assert_array_equal(mask, expected)


def test_yolo_test_split_is_left_out_and_said(tmp_path, caplog):
    """images/test/ is no training image (s71 review: pooled into the split)."""
    _yolo(tmp_path, "0 0.1 0.1 0.5 0.1 0.5 0.5\n")
    for part in ("images", "labels"):
        (tmp_path / part / "test").mkdir()
    Image.fromarray(np.zeros((20, 40), np.uint8)).save(tmp_path / "images" / "test" / "t.png")
    (tmp_path / "labels" / "test" / "t.txt").write_text("")
    with caplog.at_level("INFO"), call_notes():
        pairs = find_pairs(tmp_path)
    assert [p.image.name for p in pairs] == ["a.png", "b.png", "c.png"]
    assert "images/test/ left out: a YOLO set's test split" in caplog.text
    assert "1 image without a label file passed over (images/val/d.png)" in caplog.text
    assert "images paired: 3 with their YOLO label files" in caplog.text


def test_lines_and_points_are_said(tmp_path, caplog):
    shapes = [_shape("cell", [[0, 0], [10, 10]], "line"), _shape("cell", [[3, 3]], "point")]
    with caplog.at_level("INFO"), call_notes():
        assert not read_mask(_labelme(tmp_path, "a", shapes)).any()
    assert "a.json: 2 line or point shapes (no area) passed over" in caplog.text


def _touching(root, stem="a"):
    """Two touching squares, labelme: the left a rectangle, the right two shapes of a group."""
    right = [[20, 0], [39, 0], [39, 9], [20, 9]], [[20, 10], [39, 10], [39, 19], [20, 19]]
    shapes = [_shape("cell", [[0, 0], [19, 19]], "rectangle")]
    shapes += [_shape("cell", [[x + 5, y + 5] for x, y in half], group=3) for half in right]
    shapes[0]["points"] = [[5, 5], [24, 24]]
    return _labelme(root, stem, shapes)


def test_target_instances_reads_each_shape_and_group_as_an_object(tmp_path):
    """data.target=instances: a labelme shape is an object, a group_id one, and touching
    objects stay apart (before: a class mask of 1s, the two read as one object)."""
    path = _touching(tmp_path)
    assert np.unique(read_mask(path)).tolist() == [0, 1]
    with shapes_read_as("instances"):
        ids = read_mask(path)
    assert ids[5:25, 5:25].tolist() == np.full((20, 20), 1).tolist()
    assert ids[5:25, 25:45].tolist() == np.full((20, 20), 2).tolist()
    assert int((ids > 0).sum()) == 800


def test_yolo_target_instances_reads_each_line_as_an_object(tmp_path):
    path = _yolo(tmp_path, "0 0.1 0.1 0.5 0.1 0.5 0.5 0.1 0.5\n0 0.5 0.1 0.9 0.1 0.9 0.5 0.5 0.5\n")
    with shapes_read_as("instances"):
        ids = read_mask(path)
    assert ids[2:10, 4:20].tolist() == np.full((8, 16), 1).tolist()
    assert ids[2:10, 20:36].tolist() == np.full((8, 16), 2).tolist()


def test_training_on_instances_keeps_touching_labelme_objects_apart(tmp_path, caplog):
    for stem in "abc":
        _touching(tmp_path, stem)
    sets = [f"data.root={tmp_path}", "data.target=instances", "data.weight_map=false"]
    with caplog.at_level("INFO"), call_notes():
        data = prepare_data(load_config(None, sets))
    assert (
        "images paired: 3 with their labelme JSON files (shapes filled as objects)" in caplog.text
    )
    assert data.objects["regions"] == 2 * sum(map(len, data.pairs))
    assert data.objects["area_max"] == 400


def test_yolo_split_is_kept_and_test_left_out(tmp_path, caplog):
    """images/train/ trains, images/val/ validates, whatever data.val_fraction says (before:
    pooled and split again at random); images/test/ neither."""
    _yolo(tmp_path, "0 0.1 0.1 0.5 0.1 0.5 0.5\n")
    for part in ("images", "labels"):
        (tmp_path / part / "test").mkdir()
    Image.fromarray(np.zeros((20, 40), np.uint8)).save(tmp_path / "images" / "test" / "t.png")
    (tmp_path / "labels" / "test" / "t.txt").write_text("")
    assert split_kind(tmp_path) == "yolo"
    for fraction in (0.2, 0.5):
        with caplog.at_level("INFO"), call_notes():
            train, val = split_pairs(tmp_path, val_fraction=fraction, seed=3, quiet=False)
        assert [p.image.name for p in train] == ["a.png", "b.png"]
        assert [p.image.name for p in val] == ["c.png"]
    assert "images/train/ for training, images/val/ for validation" in caplog.text
    assert more_validation(tmp_path) == "add images to images/val/ and their labels to labels/val/"


def test_evaluate_labelme_truth_without_its_images_takes_its_recorded_size(tmp_path):
    """evaluate --gt of labelme JSON alone: the size is imageHeight x imageWidth (it was
    'outlines carry no image size'); --gt-instances reads its shapes as objects (2 touching,
    read as 1 before); a prediction of another size is one line."""
    from unetlab.data.io import write_tiff
    from unetlab.evaluate import evaluate_predictions

    (tmp_path / "gt").mkdir()
    _touching(tmp_path / "gt").with_suffix(".png").unlink()
    with shapes_read_as("instances"):
        ids = read_mask(tmp_path / "gt" / "a.json")  # of the recorded 40 x 50
    write_tiff(tmp_path / "pred" / "a_objects.tif", ids.astype(np.uint16))
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", gt_instances=True)
    (image,) = report.images
    assert image["objects"] == 2 and image["miou"] == pytest.approx(1.0)
    write_tiff(tmp_path / "pred" / "a_objects.tif", np.zeros((40, 60), np.uint16))
    with pytest.raises(DatasetError, match=r"prediction is 60x40 but its ground truth .*a.json"):
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt", gt_instances=True)


def test_a_size_refused_against_labelme_truth_names_the_file_s_size_as_a_fix(tmp_path):
    """Before: 'predict the full-size image' alone, where the JSON may be what is wrong."""
    from unetlab.data.io import write_tiff
    from unetlab.evaluate import evaluate_predictions

    (tmp_path / "gt").mkdir()
    _touching(tmp_path / "gt").with_suffix(".png").unlink()
    write_tiff(tmp_path / "pred" / "a.tif", np.zeros((40, 60), np.uint8))
    with pytest.raises(DatasetError) as caught:
        evaluate_predictions(tmp_path / "pred", tmp_path / "gt")
    assert "predict the full-size image, or, where the labelme file is what is wrong" in str(
        caught.value
    )


def test_a_yolo_image_on_both_sides_of_its_split_is_one_line(tmp_path):
    """Before: selected by stem, c.png trained and validated, unsaid."""
    _yolo(tmp_path, "0 0.1 0.1 0.5 0.1 0.5 0.5\n")
    Image.fromarray(np.zeros((20, 40), np.uint8)).save(tmp_path / "images" / "train" / "c.png")
    (tmp_path / "labels" / "train" / "c.txt").write_text("")
    with pytest.raises(DatasetError) as caught:
        split_pairs(tmp_path)
    said = str(caught.value)
    assert "1 image in both labels/train/ and labels/val/ (c)" in said
    assert said.endswith("keep each in one of them")


def test_a_yolo_split_s_pairs_are_said_in_one_line(tmp_path, caplog):
    """Before: each side paired said its own ("... 3 ...", then "... 2 ...")."""
    _yolo(tmp_path, "0 0.1 0.1 0.5 0.1 0.5 0.5\n")
    Image.fromarray(np.zeros((20, 40), np.uint8)).save(tmp_path / "images" / "train" / "e.png")
    (tmp_path / "labels" / "train" / "e.txt").write_text("")
    (tmp_path / "labels" / "val" / "d.txt").write_text("")
    sets = [f"data.root={tmp_path}", "data.weight_map=false"]
    with caplog.at_level("INFO"), call_notes():
        prepare_data(load_config(None, sets))
    said = [r.getMessage() for r in caplog.records if "images paired" in r.getMessage()]
    assert said == [
        f"{tmp_path}: images paired: 5 with their YOLO label files (shapes filled as classes)"
    ]


def test_predict_s_labelme_files_in_the_set_name_no_class(tmp_path):
    """predict --outlines labelme into data/pred/ (a_objects.json, 'nucleus'): before, its
    label was a class of the set's labelme masks ('cell' 1, 'nucleus' 2: an empty class)."""
    (tmp_path / "masks").mkdir()
    (tmp_path / "pred").mkdir()
    _labelme(tmp_path / "masks", "a", [_shape("cell", [[2, 2], [9, 2], [9, 9]])])
    predicted = [_shape("nucleus", [[2, 2], [9, 2], [9, 9]])]
    _labelme(tmp_path / "pred", "a_objects", predicted).with_suffix(".png").unlink()
    record(tmp_path / "pred", ["a_objects.json"], command="predict")  # as predict lists it
    assert shape_class_names(tmp_path)[0] == {0: "background", 1: "cell"}
    # pred/ alone, predict's output folder corrected in labelme, trains as it is (s73)
    assert shape_class_names(tmp_path / "pred")[0] == {0: "background", 1: "nucleus"}
    assert np.unique(read_mask(tmp_path / "pred" / "a_objects.json")).tolist() == [0, 1]
    (tmp_path / "pred" / "b.json").write_text((tmp_path / "masks" / "a.json").read_text())
    with pytest.raises(DatasetError, match=r"a_objects.json: labels 'nucleus' are no class"):
        read_mask(tmp_path / "pred" / "a_objects.json")  # beside the user's: never background


def test_an_image_named_as_predict_s_files_keeps_its_shapes(tmp_path):
    """well_objects.png's own well_objects.json (review s72: passed over by its name, its
    label 'nucleus' no class, its shape read as background 0 without a word)."""
    path = _labelme(tmp_path, "well_objects", [_shape("nucleus", [[2, 2], [9, 2], [9, 9]])])
    _labelme(tmp_path, "y", [_shape("cell", [[2, 2], [9, 2], [9, 9]])])
    assert shape_class_names(tmp_path)[0] == {0: "background", 1: "cell", 2: "nucleus"}
    assert np.unique(read_mask(path)).tolist() == [0, 2]


def test_evaluate_of_an_instance_checkpoint_reads_labelme_truth_as_objects(
    tmp_path, instance_checkpoint
):
    """An instance model's truth as its training read it (data.target=instances): the two
    touching shapes are 2 objects (before: read as classes, 1 object; --gt-instances is
    refused with a checkpoint, so there was no way round)."""
    from unetlab.checkpoint import load_model
    from unetlab.evaluate import evaluate_model

    (tmp_path / "data").mkdir()
    _touching(tmp_path / "data")
    report = evaluate_model(load_model(instance_checkpoint), tmp_path / "data", progress=False)
    (image,) = report.images
    assert image["objects"] == 2
    assert not shapes_as_objects()  # the command's reading is back as it was


def test_ignore_shapes_are_void_as_classes_and_background_as_objects(tmp_path, caplog):
    """As classes an __ignore__ shape is the void 255, said nowhere (review s72: 'read as
    background: objects are trained one by one' was said there too); as objects it is the
    background 0, said, and no object."""
    shapes = [
        _shape("cell", [[1, 1], [5, 5]], "rectangle"),
        _shape("__ignore__", [[10, 10], [12, 12]], "rectangle"),
    ]
    path = _labelme(tmp_path, "a", shapes)
    with caplog.at_level("INFO"), call_notes():
        mask = read_mask(path)
    assert mask[11, 11] == 255 and mask[1, 1] == 1
    assert "read as background" not in caplog.text
    with caplog.at_level("INFO"), call_notes(), shapes_read_as("instances"):
        ids = read_mask(path)
    assert ids[11, 11] == 0 and ids[1, 1] == 1 and np.unique(ids).tolist() == [0, 1]
    assert "1 __ignore__ shape read as background" in caplog.text


def test_a_pair_reader_keeps_the_reading_it_was_made_in(tmp_path):
    """A reader made within data.target=instances reads objects outside the block and in a
    data loader's worker (pickled); one made as classes reads classes within it (review
    s72: no test failed with the reader's own reading dropped)."""
    import pickle

    from unetlab.data.pairs import PairReader

    path = _touching(tmp_path)
    with shapes_read_as("instances"):
        objects = PairReader()
    classes = PairReader()
    for reader in (objects, pickle.loads(pickle.dumps(objects))):
        assert np.unique(reader.stack(path, mask=True)).tolist() == [0, 1, 2]
    with shapes_read_as("instances"):
        assert np.unique(classes.stack(path, mask=True)).tolist() == [0, 1]


def test_a_yolo_split_s_lines_name_its_own_folders(tmp_path, caplog):
    """images/training/ and images/valid/ (review s72: the lines said images/train/ and
    images/val/, folders that are not there)."""
    _yolo(tmp_path, "0 0.1 0.1 0.5 0.1 0.5 0.5\n")
    for part in ("images", "labels"):
        (tmp_path / part / "train").rename(tmp_path / part / "training")
        (tmp_path / part / "val").rename(tmp_path / part / "valid")
    with caplog.at_level("INFO"), call_notes():
        train, val = split_pairs(tmp_path, val_fraction=0.2, seed=3, quiet=False)
    assert [p.image.name for p in val] == ["c.png"]
    assert "images/training/ for training, images/valid/ for validation" in caplog.text
    said = more_validation(tmp_path)
    assert said == "add images to images/valid/ and their labels to labels/valid/"


def test_a_labelme_file_of_no_image_and_no_size_is_one_labelme_line(tmp_path):
    """Review s72: it said 'outlines (ImageJ ROIs, GeoJSON) carry no image size ... (a.tif
    for a.json)', another format's words."""
    (tmp_path / "gt").mkdir()
    path = _labelme(tmp_path / "gt", "a", [_shape("cell", [[2, 2], [9, 2], [9, 9]])])
    path.with_suffix(".png").unlink()
    data = json.loads(path.read_text())
    del data["imageHeight"], data["imageWidth"]
    path.write_text(json.dumps(data))
    with pytest.raises(UnetlabError, match="a labelme file that records no image size") as got:
        read_mask(path)
    assert "ImageJ" not in str(got.value) and "(a.jpg for a.json)" in str(got.value)
