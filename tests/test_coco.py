"""COCO annotations (one JSON for a whole set: CVAT, Roboflow, Label Studio, COCO's own
layout) read as the masks of their images: polygons as outlines are read, RLE decoded both
ways, categories the classes 1..K in id order, crowds void; train, evaluate."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from tests.coco_writer import LAYOUTS, blob_set, disc, rle_counts, rle_string, write_coco_set
from unetlab.data.coco import (
    CocoObject,
    coco_class_names,
    decode_rle,
    drawn,
    is_coco,
    rle_string_counts,
)
from unetlab.data.io import write_png
from unetlab.data.pairs import find_pairs, read_pair
from unetlab.errors import DatasetError

SIZE = (48, 56)


def test_both_rle_forms_decode_to_the_mask_they_were_made_of():
    rng = np.random.default_rng(1)
    for shape in [(5, 7), (40, 48), (1, 1)]:
        mask = rng.random(shape) > 0.6
        counts = rle_counts(mask)
        assert rle_string_counts(rle_string(counts)) == counts
        assert np.array_equal(decode_rle(counts, shape), mask)
    big = [70000, 3, 5, 1 << 20, 2, 9]  # long runs, differences of either sign
    assert rle_string_counts(rle_string(big)) == big


def test_pycocotools_reads_the_same_rle_string():
    mask_utils = pytest.importorskip("pycocotools.mask", reason="pycocotools not installed")
    mask = np.zeros(SIZE, np.uint8, order="F")
    mask[3:20, 5:9] = 1
    encoded = mask_utils.encode(mask)
    counts = rle_string_counts(encoded["counts"].decode())
    assert np.array_equal(decode_rle(counts, SIZE), mask.astype(bool))


#: an ellipse's polygon and pycocotools 2.0.11's ``frPyObjects`` of it on 24x30 (its RLE
#: string, made once: pycocotools is no dependency)
ELLIPSE = [23.5, 11.6, 22.8, 14.16, 20.81, 16.34, 17.82, 17.79, 14.3, 18.3, 10.78, 17.79, 7.79]
ELLIPSE += [16.34, 5.8, 14.16, 5.1, 11.6, 5.8, 9.04, 7.79, 6.86, 10.78, 5.41, 14.3, 4.9, 17.82]
ELLIPSE += [5.41, 20.81, 6.86, 22.8, 9.04]
ELLIPSE_BY_PYCOCOTOOLS = "R43c04M2N2O0O2O00000000000001N101N102L4LW4"


def _outline_band(mask: np.ndarray) -> np.ndarray:
    """The pixels of ``mask`` with a 4-neighbour outside it, and those outside with one in."""
    padded = np.pad(mask, 1)
    near = [np.roll(padded, s, axis=a)[1:-1, 1:-1] for s in (1, -1) for a in (0, 1)]
    inside_edge = mask & ~np.logical_and.reduce(near)
    return inside_edge | (~mask & np.logical_or.reduce(near))


def test_a_polygon_is_drawn_as_pycocotools_draws_it_to_within_a_pixel_on_its_edge():
    """pycocotools' mask, as a literal: this runs without it. The docstring said its masks lay
    half a pixel up and left of ours; they differ on 4 edge pixels of 191, unshifted."""
    shape = (24, 30)
    theirs = decode_rle(rle_string_counts(ELLIPSE_BY_PYCOCOTOOLS), shape)
    ours = drawn([CocoObject(1, (np.reshape(ELLIPSE, (-1, 2)),))], shape, "ellipse") > 0
    differ = theirs ^ ours
    assert 0 < differ.sum() <= 8 and not (differ & ~_outline_band(ours)).any()
    centroids = [np.argwhere(m).mean(axis=0) for m in (theirs, ours)]
    assert np.abs(centroids[0] - centroids[1]).max() < 0.1  # no half-pixel shift
    half = np.argwhere(ours).mean(axis=0) - 0.5  # what the docstring claimed: much farther
    assert np.abs(centroids[0] - half).min() > 0.4


def _one_image(tmp_path, segmentation, categories=None, **entry):
    image = np.zeros(SIZE, np.uint8)
    from unetlab.data.io import write_png

    write_png(tmp_path / "images" / "a.png", image)
    coco = {
        "images": [{"id": 1, "file_name": "a.png", "width": SIZE[1], "height": SIZE[0]}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 5, "iscrowd": 0, **entry}],
        "categories": categories or [{"id": 5, "name": "cell"}, {"id": 6, "name": "junk"}],
    }
    coco["annotations"][0]["segmentation"] = segmentation
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "instances_default.json").write_text(json.dumps(coco))
    return read_pair(find_pairs(tmp_path)[0])[1]


def test_a_polygon_along_pixel_corners_gives_back_exactly_its_pixels(tmp_path):
    mask = _one_image(tmp_path, [[2, 3, 7, 3, 7, 9, 2, 9]])  # x 2..7, y 3..9
    want = np.zeros(SIZE, np.uint8)
    want[3:9, 2:7] = 1
    assert np.array_equal(mask, want)


def test_a_set_of_cvat_is_read_as_classes_by_category_id_with_crowds_void(tmp_path):
    """It was refused: 'annotations/: no masks, but 1 other file (instances_default.json)'."""
    path, coco = write_coco_set(tmp_path, "cvat", n_images=6, size=SIZE)
    pairs = find_pairs(tmp_path)
    assert [p.image.name for p in pairs] == [f"img{i:02d}.png" for i in range(6)]
    masks = {p.image.stem: read_pair(p)[1] for p in pairs}
    assert not masks["img05"].any()  # the image of no annotation: all background
    assert set(np.unique(np.concatenate([m.ravel() for m in masks.values()]))) == {0, 1, 2, 255}
    first = {a["image_id"] - 100: a for a in reversed(coco["annotations"])}
    for i, want in ((0, 2 if first[0]["category_id"] == 7 else 1), (1, None), (2, 255)):
        seg = first[i]["segmentation"]
        counts = seg["counts"] if i != 1 else rle_string_counts(seg["counts"])
        pixels = decode_rle(counts, SIZE)
        got = np.unique(masks[f"img{i:02d}"][pixels])
        assert len(got) == 1 and got[0] in ({want} if want else {1, 2}), i
    names, source = coco_class_names(tmp_path)
    assert names == {0: "background", 1: "cell", 2: "debris"} and source == path  # 3 < 7


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_each_tools_layout_is_found(tmp_path, layout):
    write_coco_set(tmp_path, layout, n_images=4, size=SIZE)
    root = tmp_path / "train" if layout == "roboflow" else tmp_path
    pairs = find_pairs(root)
    assert len(pairs) == 4 and all(p.image.is_file() for p in pairs)
    assert read_pair(pairs[0])[1].shape == SIZE


def test_one_category_is_read_as_objects(tmp_path):
    path, coco = write_coco_set(tmp_path, "cvat", n_images=3, size=SIZE)
    for a in coco["annotations"]:
        a["category_id"] = 3
    coco["categories"] = [{"id": 3, "name": "nucleus"}]
    path.write_text(json.dumps(coco))
    from unetlab.data.names import objects_by_what

    pairs = find_pairs(tmp_path)
    ids = read_pair(pairs[0])[1]
    objects = [a for a in coco["annotations"] if a["image_id"] == 100]
    assert set(np.unique(ids)) == set(range(len(objects) + 1))
    assert objects_by_what(pairs[0].mask) and coco_class_names(tmp_path) is None


def test_what_is_passed_over_is_said_once_each_and_a_wrong_rle_refused(tmp_path, caplog):
    path, coco = write_coco_set(tmp_path, "cvat", n_images=4, size=SIZE)
    coco["annotations"] += [
        {"id": 90, "image_id": 999, "category_id": 3, "segmentation": [[1, 1, 5, 1, 5, 5]]},
        {"id": 91, "image_id": 100, "category_id": 42, "segmentation": [[1, 1, 5, 1, 5, 5]]},
        {"id": 92, "image_id": 100, "category_id": 3, "segmentation": [[1, 1, 5, 1]]},
        {"id": 93, "image_id": 100, "category_id": 3, "bbox": [1, 1, 4, 4]},
    ]
    coco["images"].append({"id": 7, "file_name": "gone.png", "width": 9, "height": 9})
    path.write_text(json.dumps(coco))
    (tmp_path / "images" / "img03.png").rename(tmp_path / "images" / "unlisted.png")
    coco["images"][3]["file_name"] = "img03.png"
    with caplog.at_level(logging.INFO, logger="unetlab"):
        pairs = find_pairs(tmp_path)
    assert len(pairs) == 3
    for said in (
        "1 annotation of an image not in the file (annotation 90)",
        "1 annotation of a category not in the file (annotation 91)",
        "1 annotation of polygons of under 3 points (annotation 92)",
        "1 annotation of no segmentation (annotation 93)",
        "2 images it lists not on disk (img03.png, ...): passed over",
        "1 image in",
        "it does not list (unlisted.png): passed over (not annotated)",
        "instances_default.json: 5 images, 2 categories (cell, debris)",
    ):
        assert said in caplog.text, said
    coco["annotations"][0]["segmentation"] = {"counts": [SIZE[0] * 50], "size": [SIZE[0], 50]}
    path.write_text(json.dumps(coco))
    with pytest.raises(DatasetError, match=r"annotation 1 \(img00.png\): an RLE of 50x48 on an"):
        find_pairs(tmp_path)


def test_a_labelme_file_or_a_box_only_export_is_no_set_of_masks(tmp_path):
    labelme = tmp_path / "a.json"
    labelme.write_text(json.dumps({"version": "5", "shapes": [], "images": [], "annotations": []}))
    assert not is_coco(labelme)
    path, coco = write_coco_set(tmp_path / "boxes", "cvat", n_images=2, size=SIZE)
    for a in coco["annotations"]:
        del a["segmentation"]
    path.write_text(json.dumps(coco))
    with pytest.raises(DatasetError, match="have no segmentation .boxes only.: export the masks"):
        find_pairs(tmp_path / "boxes")


@pytest.mark.usefixtures("one_thread")
def test_train_check_and_evaluate_read_the_coco_file(tmp_path, caplog):
    from unetlab.cli import main
    from unetlab.data.io import write_png
    from unetlab.evaluate import evaluate_predictions

    write_coco_set(tmp_path / "set", "cvat", n_images=6, size=(64, 64))
    args = ["train", "--data", str(tmp_path / "set"), "--run-dir", str(tmp_path / "run")]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*args, "--check", "--no-progress"]) == 0
    assert "classes 0 (background), 1 (cell), 2 (debris)" in caplog.text
    for pair in find_pairs(tmp_path / "set"):
        mask = read_pair(pair)[1]
        write_png(tmp_path / "pred" / f"{pair.image.stem}.png", np.where(mask == 255, 0, mask))
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "set")
    assert report.summary["miou"] == pytest.approx(1.0)


def test_the_blob_set_holds_what_the_walk_needs():
    images, coco = blob_set(n_images=4, size=SIZE)
    kinds = [type(a["segmentation"]).__name__ for a in coco["annotations"]]
    assert kinds.count("dict") == 3 and sum(a["iscrowd"] for a in coco["annotations"]) == 1
    assert not any(a["image_id"] == 103 for a in coco["annotations"])
    assert disc(SIZE, 5, 5, 2).sum() == 12


def _cvat_brush(coco: dict, *, attributes: bool) -> dict:
    """``coco`` as CVAT writes it (datumaro): each mask of its brush an RLE of iscrowd 1,
    each box of segmentation [], each annotation with ``attributes`` where asked."""
    for a in coco["annotations"]:
        if isinstance(a["segmentation"], dict):
            a["iscrowd"] = 1
        if attributes:
            a["attributes"] = {"occluded": False}
    return coco


@pytest.mark.parametrize("polygons", [False, True])
def test_cvat_brush_masks_marked_crowd_are_objects_not_void(tmp_path, caplog, polygons):
    """They were void: train --check 'mask values found: [0]'; all-0 predictions mIoU 1.0."""
    images, coco = blob_set(n_images=3, size=SIZE)
    for a in coco["annotations"]:
        if not polygons and isinstance(a["segmentation"], list):
            a["segmentation"] = {
                "counts": rle_counts(_polygon_mask(a["segmentation"])),
                "size": list(SIZE),
            }
    coco["annotations"].append(
        {"id": 99, "image_id": 100, "category_id": 3, "segmentation": [], "bbox": [1, 1, 3, 3]}
    )
    _write(tmp_path, images, _cvat_brush(coco, attributes=polygons))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        masks = [read_pair(p)[1] for p in find_pairs(tmp_path)]
    assert all(m.max() in (1, 2) for m in masks[:2]) and not any((m == 255).any() for m in masks)
    assert "read as objects like the others" in caplog.text


def test_coco_crowds_beside_polygons_are_void_and_counted(tmp_path, caplog):
    images, coco = blob_set(n_images=4, size=SIZE)
    _write(tmp_path, images, coco)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        mask = read_pair(find_pairs(tmp_path)[2])[1]
    crowd = next(a for a in coco["annotations"] if a["iscrowd"])
    pixels = sum(crowd["segmentation"]["counts"][1::2])
    assert (mask == 255).sum() == pixels
    assert f"1 crowd region (iscrowd 1, {pixels:,} pixels of RLE) read as void" in caplog.text


def _polygon_mask(segmentation) -> np.ndarray:
    from unetlab.data.annotations import Outline, rasterise

    ring = np.asarray(segmentation[0], np.float64).reshape(-1, 2)
    return rasterise([Outline("a", rings=(ring,), parts=(1,))], SIZE, "a") > 0


def _write(root, images: dict, coco: dict) -> None:
    from unetlab.data.io import write_png

    for name, pixels in images.items():
        write_png(root / "images" / name, pixels)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / "instances_default.json").write_text(json.dumps(coco))


def test_other_json_files_beside_a_set_are_parsed_once_at_most(tmp_path, monkeypatch):
    """Each JSON without "shapes" near its start was parsed, 4 kept: images/ + masks/ with
    seven sidecar JSONs, train --check parsed them 120 times (2.2 -> 22.9 CPU s)."""
    import unetlab.data.coco as coco_module
    from unetlab.data.io import write_png

    for name in ("a", "b"):
        write_png(tmp_path / "images" / f"{name}.png", np.zeros(SIZE, np.uint8))
        write_png(tmp_path / "masks" / f"{name}.png", np.zeros(SIZE, np.uint8))
    (tmp_path / "metadata.json").write_text(json.dumps({"scans": list(range(1000))}))
    for k in range(6):  # both keys' names, but nested: no COCO file
        sidecar = {"run": k, "info": {"images": 2, "annotations": "none"}}
        (tmp_path / f"sidecar{k}.json").write_text(json.dumps(sidecar))
    parsed = []
    loads = json.loads
    monkeypatch.setattr(coco_module.json, "loads", lambda raw: parsed.append(1) or loads(raw))
    for _ in range(3):
        assert len(find_pairs(tmp_path)) == 2
    assert len(parsed) == 6  # the sidecars once each, metadata.json never


def test_masks_folder_wins_over_a_coco_file_beside_it_said(tmp_path, caplog):
    """The COCO file won unsaid: masks/a0.png on main, export_coco.json/a0.png#classes."""
    path, _ = write_coco_set(tmp_path, "cvat", n_images=2, size=SIZE)
    path.rename(tmp_path / "export_coco.json")
    for name in ("img00", "img01"):
        write_png(tmp_path / "masks" / f"{name}.png", np.ones(SIZE, np.uint8))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        pairs = find_pairs(tmp_path)
    assert [p.mask.name for p in pairs] == ["img00.png", "img01.png"]
    assert all(p.mask.parent.name == "masks" for p in pairs)
    assert "images/ and masks/ read as the pairs; export_coco.json beside them" in caplog.text


def test_coco_2017_as_downloaded_trains_on_instances_and_validates_on_val(tmp_path, caplog):
    """captions_*.json stopped the run ("no categories"), person_keypoints_*.json too ("its
    categories (person) are not those of ..."); val2017 was mixed into training."""
    from unetlab.data.datasets import split_kind, split_pairs

    for split, seed in (("train2017", 0), ("val2017", 1)):
        images, coco = blob_set(n_images=4, size=SIZE, seed=seed)
        for entry in coco["images"]:
            entry["file_name"] = f"{split[:-4]}_{entry['file_name']}"
        for name, pixels in images.items():
            write_png(tmp_path / split / f"{split[:-4]}_{name}", pixels)
        notes = tmp_path / "annotations"
        notes.mkdir(exist_ok=True)
        (notes / f"instances_{split}.json").write_text(json.dumps(coco))
        captions = {"images": coco["images"], "annotations": [{"image_id": 100, "caption": "x"}]}
        (notes / f"captions_{split}.json").write_text(json.dumps(captions))
        people = {**coco, "categories": [{"id": 3, "name": "person"}]}
        (notes / f"person_keypoints_{split}.json").write_text(json.dumps(people))
    assert split_kind(tmp_path) == "coco"
    with caplog.at_level(logging.INFO, logger="unetlab"):
        train, val = split_pairs(tmp_path)
    assert sorted(p.image.parent.name for p in train) == ["train2017"] * 4
    assert sorted(p.image.parent.name for p in val) == ["val2017"] * 4
    assert "4 COCO files of no instances passed over (captions_train2017.json" in caplog.text


def test_roboflows_project_category_is_no_class(tmp_path, caplog):
    """A one-class Roboflow export trained as 3 classes: '0, 1 (nuclei-Xy3z), 2 (nucleus)'."""
    path, coco = write_coco_set(tmp_path, "roboflow", n_images=3, size=SIZE)
    for a in coco["annotations"]:
        a["category_id"] = 1
    coco["categories"] = [
        {"id": 0, "name": "nuclei-Xy3z", "supercategory": "none"},
        {"id": 1, "name": "nucleus", "supercategory": "nuclei-Xy3z"},
    ]
    path.write_text(json.dumps(coco))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        pairs = find_pairs(tmp_path / "train")
    assert pairs[0].mask.name.endswith("#objects")  # one category: instance training
    assert "category nuclei-Xy3z (id 0), the others' supercategory, of no annotation" in (
        caplog.text
    )


@pytest.mark.usefixtures("one_thread")
def test_messages_name_a_coco_mask_by_its_file_and_image_and_its_void_as_crowds(tmp_path, caplog):
    """They said the mask's inner path ('its mask img01.png#classes is 56x48', 'its ground
    truth .../instances_default.json/img01.png#classes') and COCO's crowds as VOC's outlines."""
    from unetlab.cli import main
    from unetlab.evaluate import evaluate_predictions

    write_coco_set(tmp_path / "set", "cvat", n_images=4, size=SIZE)
    write_png(tmp_path / "set" / "images" / "img01.png", np.zeros((40, 48), np.uint8))
    with pytest.raises(DatasetError, match=r"its mask instances_default\.json \(img01\.png\) is"):
        read_pair(find_pairs(tmp_path / "set")[1])
    write_png(tmp_path / "set" / "images" / "img01.png", np.zeros(SIZE, np.uint8))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        args = ["train", "--data", str(tmp_path / "set"), "--run-dir", str(tmp_path / "run")]
        assert main([*args, "--check", "--no-progress"]) == 0
        for k in range(4):
            write_png(tmp_path / "pred" / f"img{k:02d}.png", np.zeros(SIZE, np.uint8))
        evaluate_predictions(tmp_path / "pred", tmp_path / "set")
    assert "mask value 255 is void (COCO's crowd regions)" in caplog.text
    assert "COCO masks: value 255 (crowd regions, iscrowd 1, " in caplog.text
    assert "VOC's" not in caplog.text
    write_png(tmp_path / "pred" / "img00.png", np.zeros((40, 48), np.uint8))
    with pytest.raises(DatasetError) as refused:
        evaluate_predictions(tmp_path / "pred", tmp_path / "set")
    assert "instances_default.json (img00.png) is 56x48" in str(refused.value)
    assert "#classes" not in str(refused.value)


def test_a_split_record_of_a_coco_set_is_taken_again_and_a_changed_image_named(tmp_path):
    """Without ``coco_listed`` in gone_or_changed every --split or resume of a COCO run was
    refused (the mask is no file); a changed one was named '.../img01.png#classes changed'."""
    from unetlab.data.split_record import recorded_pairs, split_record

    path, coco = write_coco_set(tmp_path, "cvat", n_images=4, size=SIZE)
    pairs = find_pairs(tmp_path)
    record = split_record(tmp_path, pairs[:3], pairs[3:])
    train, val = recorded_pairs(record, tmp_path)
    assert [p.mask for p in [*train, *val]] == [p.mask for p in pairs]
    shifted = next(a for a in coco["annotations"] if a["image_id"] == 101 and not a["iscrowd"])
    shifted["segmentation"] = [[2, 2, 12, 2, 12, 12, 2, 12]]
    path.write_text(json.dumps(coco))
    with pytest.raises(DatasetError) as refused:
        recorded_pairs(record, tmp_path)
    assert "(annotations/instances_default.json (img01.png) changed (its sha256" in str(
        refused.value
    )


def test_images_of_no_annotation_are_counted_in_a_line(tmp_path, caplog):
    """A part-done CVAT task (8 of 10 images not annotated) trained them as all background,
    unsaid."""
    write_coco_set(tmp_path, "cvat", n_images=6, size=SIZE)  # img05 has no annotation
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert len(find_pairs(tmp_path)) == 6
    assert "1 of its 6 images on disk has no annotation (img05.png): trained as all" in (
        caplog.text
    )


def test_rle_counts_that_do_not_cover_the_image_are_refused_in_one_line(tmp_path):
    """Without the check a traceback: 'cannot reshape array of size 2000 into shape'."""
    with pytest.raises(DatasetError, match=r"its RLE counts cover 2000 pixels, not 48x56"):
        _one_image(tmp_path, {"counts": [1000, 1000], "size": list(SIZE)})


def test_a_crowd_is_void_only_where_no_object_lies(tmp_path):
    """An object drawn under a crowd region keeps its class (255 was painted over it too)."""
    crowd = np.zeros(SIZE, bool)
    crowd[0:20, 0:20] = True
    coco = {
        "images": [{"id": 1, "file_name": "a.png", "width": SIZE[1], "height": SIZE[0]}],
        "categories": [{"id": 5, "name": "cell"}, {"id": 6, "name": "junk"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 6, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 5, "iscrowd": 1},
        ],
    }
    coco["annotations"][0]["segmentation"] = [[10, 10, 30, 10, 30, 30, 10, 30]]
    coco["annotations"][1]["segmentation"] = {"counts": rle_counts(crowd), "size": list(SIZE)}
    _write(tmp_path, {"a.png": np.zeros(SIZE, np.uint8)}, coco)
    mask = read_pair(find_pairs(tmp_path)[0])[1]
    assert (mask[10:30, 10:30] == 2).all()
    assert (mask == 255).sum() == crowd.sum() - 100 and (mask[crowd] != 0).all()


def test_roboflows_class_names_come_from_train_and_its_splits_agree(tmp_path):
    """Names came from test/ first ('class names from rf/test/...', what s66 fixed for colour
    tables); the split-folder look-up and the check that two files agree had no test."""
    for split in ("valid", "test"):
        write_coco_set(tmp_path / "made", "roboflow", n_images=2, size=SIZE)
        (tmp_path / "made" / "train").rename(tmp_path / split)  # the file among its images
    train, coco = write_coco_set(tmp_path, "roboflow", n_images=2, size=SIZE)
    names, source = coco_class_names(tmp_path)
    assert names == {0: "background", 1: "cell", 2: "debris"} and source == train
    other = tmp_path / "test" / "_annotations.coco.json"
    coco["categories"] = [{"id": 3, "name": "cell"}, {"id": 7, "name": "junk"}]
    other.write_text(json.dumps(coco))
    with pytest.raises(DatasetError, match=r"its categories \(cell, junk\) are not those of"):
        coco_class_names(tmp_path)


def _scans(tmp_path, json_path: str) -> None:
    """Two scans' images in sub-folders of images/, their file_names ``scanN/00K.png``."""
    entries = []
    for s in (1, 2):
        for k in range(3 if s == 1 else 1):
            name = f"scan{s}/{k:03d}.png" if s == 1 else f"scan{s}/{k + 7:03d}.png"
            write_png(tmp_path / "images" / name, np.zeros(SIZE, np.uint8))
            entries.append({"id": len(entries) + 1, "file_name": name, "width": 56, "height": 48})
    box = [[2, 3, 7, 3, 7, 9, 2, 9]]
    annotations = [
        {"id": e["id"], "image_id": e["id"], "category_id": 5, "segmentation": box, "iscrowd": 0}
        for e in entries
    ]
    coco = {"images": entries, "annotations": annotations}
    coco["categories"] = [{"id": 5, "name": "cell"}, {"id": 6, "name": "junk"}]
    (tmp_path / json_path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / json_path).write_text(json.dumps(coco))


def test_file_names_in_sub_folders_of_images_are_found_and_shared_stems_refused(tmp_path):
    """CVAT's images/scan1/000.png named 'scan1/000.png' was refused ('none of its 4
    images ...'); two images of one stem in two scans paired, and evaluate scored each
    prediction twice ('images 6' of 3)."""
    _scans(tmp_path / "cvat", "annotations/instances_default.json")
    pairs = find_pairs(tmp_path / "cvat")
    assert [p.image.relative_to(tmp_path / "cvat").as_posix() for p in pairs] == [
        "images/scan1/000.png",
        "images/scan1/001.png",
        "images/scan1/002.png",
        "images/scan2/007.png",
    ]
    coco = json.loads((tmp_path / "cvat/annotations/instances_default.json").read_text())
    coco["images"][-1]["file_name"] = "scan2/000.png"
    (tmp_path / "cvat/images/scan2/007.png").rename(tmp_path / "cvat/images/scan2/000.png")
    (tmp_path / "cvat/annotations/instances_default.json").write_text(json.dumps(coco))
    with pytest.raises(DatasetError, match=r"2 images share the stem 000 \(scan1/000.png, scan2"):
        find_pairs(tmp_path / "cvat")


def _named_set(root, file_names: list[str], ids: list) -> None:
    """Images on disk by the NFC of their names, a box each, the file's names and ids as given."""
    import unicodedata

    entries, annotations = [], []
    for k, (name, key) in enumerate(zip(file_names, ids, strict=True)):
        on_disk = unicodedata.normalize("NFC", name.rsplit("/", 1)[-1])
        write_png(root / "images" / on_disk, np.full(SIZE, k, np.uint8))
        entries.append({"id": key, "file_name": name, "width": SIZE[1], "height": SIZE[0]})
        box = [[2 + k, 3, 7 + k, 3, 7 + k, 9, 2 + k, 9]]
        annotations.append({"id": k, "image_id": key, "category_id": 5, "segmentation": box})
    coco = {"images": entries, "annotations": annotations}
    coco["categories"] = [{"id": 5, "name": "cell"}, {"id": 6, "name": "junk"}]
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / "instances_default.json").write_text(json.dumps(coco))


def test_image_ids_as_written_names_absolute_or_nfd_and_shared_ids_refused(tmp_path):
    """String ids were 'image 1 lacks its id'; '/data/f0.png' read as '.../f0.png#classes: no
    such file'; an NFD name not found; a shared id gave one image both's annotations."""
    nfd = "cafe\u0301.png"  # café, as macOS writes it
    _named_set(tmp_path / "ok", ["/data/f0.png", nfd, "f2.png"], ["img-0", "img-1", 7])
    masks = {p.image.name: read_pair(p)[1] for p in find_pairs(tmp_path / "ok")}
    assert sorted(masks) == sorted(["caf\u00e9.png", "f0.png", "f2.png"])
    for k, name in enumerate(["f0.png", "caf\u00e9.png", "f2.png"]):  # each its own box
        assert np.argwhere(masks[name])[:, 1].min() == 2 + k
    _named_set(tmp_path / "same", ["f0.png", "f1.png"], [3, 3])
    with pytest.raises(DatasetError, match=r"images f0.png and f1.png share the id 3: export"):
        find_pairs(tmp_path / "same")


def test_rle_objects_are_painted_in_file_order_as_their_masks_decoded():
    """Pins the run-by-run painting (25 times faster than decoding each mask whole)."""
    rng = np.random.default_rng(3)
    masks = [rng.random((13, 17)) > 0.5 for _ in range(4)]
    objects = [CocoObject(1, rle=tuple(rle_counts(m))) for m in masks]
    want = np.zeros((13, 17), np.uint16)
    for k, m in enumerate(masks, start=1):
        want[decode_rle(rle_counts(m), (13, 17))] = k
    assert np.array_equal(drawn(objects, (13, 17), "x"), want)


def test_evaluate_takes_the_coco_file_itself_as_its_folder(tmp_path, capsys):
    """--gt FILE.json was refused: 'is a file, not a data folder: give --gt the folder'."""
    from unetlab.cli import main

    path, _ = write_coco_set(tmp_path / "set", "cvat", n_images=4, size=SIZE)
    for pair in find_pairs(tmp_path / "set"):
        mask = read_pair(pair)[1]
        predicted = np.where(mask == 255, 0, mask) if pair.image.stem != "img00" else 0 * mask
        write_png(tmp_path / "pred" / f"{pair.image.stem}.png", predicted)
    scores = []
    for gt in (tmp_path / "set", path):
        assert main(["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(gt)]) == 0
        said = capsys.readouterr()
        scores.append((said.out + said.err).split("mean Dice", 1)[1].splitlines()[0])
    assert scores[0] == scores[1] and "1.0000 ±" not in scores[0]


def test_evaluate_gt_file_reads_that_file_alone(tmp_path, capsys, caplog):
    """--gt FILE.json paired the whole folder, then kept that file's pairs: CVAT's
    instances_default.json beside it (predict -> CVAT) passed it over ('no images to
    evaluate'), a boxes-only JSON beside it sank the run (review s72)."""
    from unetlab.cli import main

    path, coco = write_coco_set(tmp_path / "set", "cvat", n_images=4, size=SIZE)
    ours = path.with_name("objects_coco.json")
    kept = {e["id"] for e in coco["images"][:2]}
    images = [e for e in coco["images"] if e["id"] in kept]
    annotations = [a for a in coco["annotations"] if a["image_id"] in kept]
    ours.write_text(json.dumps({**coco, "images": images, "annotations": annotations}))
    boxes = [{k: v for k, v in a.items() if k != "segmentation"} for a in coco["annotations"]]
    path.with_name("boxes.json").write_text(json.dumps({**coco, "annotations": boxes}))
    pairs = find_pairs(ours)
    assert [p.image.name for p in pairs] == [e["file_name"].split("/")[-1] for e in images]
    for pair in pairs:
        mask = read_pair(pair)[1]
        write_png(tmp_path / "pred" / f"{pair.image.stem}.png", np.where(mask == 255, 0, mask))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main(["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(ours)]) == 0
    assert "mean Dice          1.0000" in capsys.readouterr().out
    assert "class names from " in caplog.text and "instances_default" not in caplog.text
    cut = tmp_path / "cut.json"
    cut.write_text(path.read_text()[:200])
    assert main(["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(cut)]) != 0
    assert "cut.json: cannot be read as JSON (" in capsys.readouterr().err


def _touching_set(root, n_images: int = 4, crowd: bool = False) -> dict:
    """Per image two touching 20x20 squares of category cell and a debris square (polygons,
    two categories); ``crowd``: a crowd region (RLE) beside them, and cell alone."""
    images, annotations = {}, []
    boxes = ((1, (10, 10, 20, 20)), (1, (30, 10, 20, 20)), (2, (10, 40, 15, 15)))
    for i in range(n_images):
        images[f"a{i}.png"] = np.full((64, 64), 40, np.uint8)
        for cat, (x, y, w, h) in boxes[: 2 if crowd else 3]:
            square = [[x, y, x + w, y, x + w, y + h, x, y + h]]
            annotations.append({"image_id": i + 1, "category_id": cat, "segmentation": square})
        if crowd:
            region = np.zeros((64, 64), bool)
            region[40:60, 36:60] = True
            rle = {"counts": rle_counts(region), "size": [64, 64]}
            annotations.append({"image_id": i + 1, "category_id": 1, "segmentation": rle})
            annotations[-1]["iscrowd"] = 1
    coco = {
        "images": [
            {"id": i + 1, "file_name": name, "width": 64, "height": 64}
            for i, name in enumerate(images)
        ],
        "annotations": [{"id": k, "iscrowd": 0, **a} for k, a in enumerate(annotations, start=1)],
        "categories": [{"id": 1, "name": "cell"}, {"id": 2, "name": "debris"}][: 1 + (not crowd)],
    }
    _write(root, images, coco)
    return coco


@pytest.mark.usefixtures("one_thread")
def test_target_instances_reads_each_annotation_of_several_categories_as_its_own_object(
    tmp_path, caplog
):
    """Touching objects of one category merged: category values were read as ids ('objects
    in the masks: 8' of 12; the plan '0% of 8 objects lie within 2 px of another')."""
    from unetlab.cli import main
    from unetlab.data.coco import coco_read_as

    _touching_set(tmp_path / "set")
    with coco_read_as("instances"):
        ids = read_pair(find_pairs(tmp_path / "set")[0])[1]
    assert sorted(np.unique(ids).tolist()) == [0, 1, 2, 3]
    assert (ids[10:30, 10:30] == 1).all() and (ids[10:30, 30:50] == 2).all()
    assert read_pair(find_pairs(tmp_path / "set")[0])[1].max() == 2  # classes without it
    args = ["train", "--data", str(tmp_path / "set"), "--run-dir", str(tmp_path / "run")]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*args, "--set", "data.target=instances", "--check", "--no-progress"]) == 0
    assert "objects in the masks: 12, median area 400 px" in caplog.text
    assert "12 objects (read as objects, each its own id, as data.target: instances" in (
        caplog.text
    )


def test_crowds_of_a_file_of_objects_train_as_void_said_in_its_line(tmp_path, caplog):
    """They trained as background (target 0 on the 480 pixels of each crowd region: the
    net learnt 'no object' where COCO says 'objects, not outlined'); the COCO line counted
    them among the objects ('12 objects' of 8)."""
    from unetlab.data.datasets import load_instance_samples
    from unetlab.data.labels import IGNORE_INDEX

    _touching_set(tmp_path, crowd=True)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        pairs = find_pairs(tmp_path)
    assert "4 images, 1 category (cell), 8 objects, 4 crowd regions void (read as objects)" in (
        caplog.text
    )
    how = dict(normalization={"mode": "per_image"}, weight_map={"w0": 10.0, "sigma": 5.0})
    samples, stats = load_instance_samples(pairs, **how)
    target = samples[0].mask
    assert (target[40:60, 36:60] == IGNORE_INDEX).all() and stats["count"] == 8
    assert (target != IGNORE_INDEX).sum() == 64 * 64 - 480
    assert (target[10:30, 10:50] > 0).all()  # the objects beside them as they were


def test_evaluate_of_an_instance_checkpoint_reads_a_coco_truth_as_objects(
    tmp_path, instance_checkpoint
):
    """An instance model's COCO truth of two categories as its training read it (each
    annotation an object): the two touching cells were one object, read by category (s72
    re-read; labelme's shapes were so read already)."""
    from unetlab.checkpoint import load_model
    from unetlab.data.coco import _AS_OBJECTS
    from unetlab.evaluate import evaluate_model

    _touching_set(tmp_path / "set", n_images=1)
    report = evaluate_model(load_model(instance_checkpoint), tmp_path / "set", progress=False)
    (image,) = report.images
    assert image["objects"] == 3
    assert not _AS_OBJECTS.get()  # the command's reading is back as it was


def test_a_split_recorded_under_classes_is_read_as_objects_under_instances(tmp_path):
    """A split.json recorded under classes kept its masks' '#classes': repeated (--split) or
    resumed under data.target=instances, the touching cells of a two-category file were one
    object, read by category (s72 notes). The split's images stay as recorded."""
    from unetlab.data.coco import coco_read_as
    from unetlab.data.split_record import recorded_pairs, split_record

    _touching_set(tmp_path)
    pairs = find_pairs(tmp_path)
    record = split_record(tmp_path, pairs[:3], pairs[3:])
    assert record["train"][0]["mask"].endswith("#classes")
    with coco_read_as("instances"):
        train, val = recorded_pairs(record, tmp_path)
        ids = read_pair(train[0])[1]
    assert [p.image for p in [*train, *val]] == [p.image for p in pairs]
    assert sorted(np.unique(ids).tolist()) == [0, 1, 2, 3]
    assert read_pair(recorded_pairs(record, tmp_path)[0][0])[1].max() == 2  # classes again


@pytest.mark.parametrize("n", [5, 2])
def test_problem_lines_name_a_coco_mask_by_its_file_and_image_grouped_or_alone(tmp_path, n):
    """Grouped, they named the inner path: '5 files in .../instances_default.json: label
    value 2 is not among ... (a0.png#classes, a1.png#classes, ...)' (s72 notes); alone,
    '.../instances_default.json/a0.png#classes: label value 2 ...'."""
    from unetlab.data.datasets import load_samples

    _touching_set(tmp_path, n_images=n)
    with pytest.raises(DatasetError) as refused:
        load_samples(find_pairs(tmp_path), label_values=[0, 1], normalization={"mode": "per_image"})
    assert "#classes" not in str(refused.value)
    said = "instances_default.json: label value 2" if n == 5 else "instances_default.json (a0.png)"
    assert said in str(refused.value)


def test_the_line_of_images_a_coco_file_does_not_list_is_said_once_a_call(tmp_path, caplog):
    """Pins: said once by a script's find_pairs calls (outside a command: once a process),
    and again by a command of that process (each command says its own lines): s72 noted it
    said twice, which is that."""
    from unetlab.cli import main

    _touching_set(tmp_path / "set")
    write_png(tmp_path / "set" / "images" / "extra.png", np.zeros((64, 64), np.uint8))
    with caplog.at_level(logging.INFO, logger="unetlab"):
        find_pairs(tmp_path / "set")
        find_pairs(tmp_path / "set")
        assert caplog.text.count("it does not list") == 1
        assert main(["train", "--data", str(tmp_path / "set"), "--check", "--no-progress"]) == 0
    assert caplog.text.count("it does not list") == 2
