"""predict --outlines coco: one COCO file of a folder's objects, read back by train --data."""

import csv
import json
import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tests.test_predict_objects import LocalNet, local_net, nuclei_image
from unetlab.cli import main
from unetlab.data.coco import read_coco
from unetlab.data.io import write_png
from unetlab.data.pairs import find_pairs, read_pair
from unetlab.errors import DatasetError, OutputError
from unetlab.inference.coco_out import (
    COCO_FILE,
    COCO_NEW,
    coco_annotations,
    write_run_coco,
)
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.records import OutputOptions


def _net():
    net = local_net()
    net.classes = ["background", "boundary", "nucleus"]
    return net


def _coco(**more) -> OutputOptions:
    return OutputOptions(objects=ObjectOptions.for_model, outlines="coco", **more)


def _images(folder, sizes) -> None:
    for k, (h, w) in enumerate(sizes):
        write_png(folder / f"a{k}.png", nuclei_image(h, w, seed=k))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return (a & b).sum() / (a | b).sum()


def test_the_coco_file_is_read_back_by_train_as_the_same_objects(tmp_path):
    _images(tmp_path / "in", [(97, 83), (61, 130)])
    result = predict_folder(_net(), tmp_path / "in", tmp_path / "out", _coco(), progress=False)
    assert not result.failed
    doc = json.loads((tmp_path / "out" / COCO_FILE).read_text())
    assert [(i["file_name"], i["width"], i["height"]) for i in doc["images"]] == [
        ("a0.png", 83, 97),
        ("a1.png", 130, 61),
    ]
    assert doc["categories"] == [{"id": 1, "name": "nucleus", "supercategory": ""}]
    (tmp_path / "in" / "annotations").mkdir()
    shutil.copy(tmp_path / "out" / COCO_FILE, tmp_path / "in" / "annotations")
    pairs = find_pairs(tmp_path / "in")  # train --data's pairs
    assert [p.image.name for p in pairs] == ["a0.png", "a1.png"]
    checked = 0
    for pair in pairs:
        mask = read_pair(pair)[1]
        ids = tifffile.imread(tmp_path / "out" / f"{pair.image.stem}_objects.tif")
        assert ids.max() >= 10 and mask.max() == ids.max()
        for k in range(1, int(ids.max()) + 1):
            if (ids == k).sum() > 30:
                assert _iou(mask == k, ids == k) >= 0.9
                checked += 1
        assert np.array_equal(mask, ids)  # traced along pixel edges: exact
    assert checked >= 20
    ann = doc["annotations"][0]
    assert ann["iscrowd"] == 0 and ann["area"] == (ids_of(tmp_path, "a0") == 1).sum()


def ids_of(tmp_path, stem):
    return tifffile.imread(tmp_path / "out" / f"{stem}_objects.tif")


def test_a_resumed_run_s_file_holds_the_skipped_images_too(tmp_path):
    net = _net()
    _images(tmp_path / "in", [(97, 83), (61, 130)])
    (tmp_path / "in" / "a1.png").rename(tmp_path / "a1.png")  # a run stopped after a0
    predict_folder(net, tmp_path / "in", tmp_path / "out", _coco(), progress=False)
    (tmp_path / "a1.png").rename(tmp_path / "in" / "a1.png")
    options = _coco(skip_existing=True)
    result = predict_folder(net, tmp_path / "in", tmp_path / "out", options, progress=False)
    assert [p.name for p in result.skipped] == ["a0.png"]
    assert [p.name for p in result.written] == ["a1.png"]
    doc = json.loads((tmp_path / "out" / COCO_FILE).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["a0.png", "a1.png"]
    per_image = [sum(a["image_id"] == i for a in doc["annotations"]) for i in (1, 2)]
    assert per_image == [ids_of(tmp_path, "a0").max(), ids_of(tmp_path, "a1").max()]
    assert [a["id"] for a in doc["annotations"]] == list(range(1, sum(per_image) + 1))


def test_an_object_with_a_hole_is_an_rle_read_back_exactly(tmp_path):
    ids = np.zeros((20, 24), np.uint16)
    ids[3:12, 4:14] = 1
    ids[6:9, 7:10] = 0  # a hole: polygons would fill it
    ids[14:18, 2:22] = 2
    found = coco_annotations(ids, 1)
    assert isinstance(found[0]["segmentation"], dict) and isinstance(found[1]["segmentation"], list)
    assert [a["area"] for a in found] == [81, 80] and found[0]["bbox"] == [4, 3, 10, 9]
    image = {"id": 1, "file_name": "h.png", "width": 24, "height": 20}
    write_png(tmp_path / "h.png", np.zeros((20, 24), np.uint8))
    coco = {"images": [image], "annotations": found, "categories": [{"id": 1, "name": "cell"}]}
    (tmp_path / "c.json").write_text(json.dumps(coco))
    assert read_coco(tmp_path / "c.json").objects == 2
    assert np.array_equal(read_pair(find_pairs(tmp_path)[0])[1], ids)


def test_the_command_never_replaces_a_coco_file_it_did_not_make(
    tmp_path, instance_checkpoint, capsys
):
    """s75: --overwrite was refused 'even when told to overwrite', nothing written; the rule
    is never to replace the file: refused without --overwrite by a line saying where
    --overwrite writes, which writes there, the user's file as it was."""
    _images(tmp_path / "in", [(40, 40)])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / COCO_FILE).write_text("{}")  # the user's
    args = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(tmp_path / "in")]
    args += ["--output", str(tmp_path / "out"), "--instances", "--no-progress"]
    assert main([*args, "--outlines", "coco", "--skip-existing"]) != 0
    said = f"{COCO_FILE} exists and unetlab did not write it: never replaced; add --overwrite "
    assert said + f"to write the run's COCO file beside it ({COCO_NEW})" in capsys.readouterr().err
    assert main([*args, "--outlines", "coco", "--overwrite"]) == 0
    assert (tmp_path / "out" / COCO_FILE).read_text() == "{}"
    doc = json.loads((tmp_path / "out" / COCO_NEW).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["a0.png"]
    (tmp_path / "out" / COCO_FILE).unlink()
    assert main([*args, "--outlines", "coco", "--overwrite"]) == 0
    doc = json.loads((tmp_path / "out" / COCO_FILE).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["a0.png"]


@pytest.mark.parametrize("outlines", ["geojson", None])
def test_other_outlines_write_no_coco_file(tmp_path, outlines):
    _images(tmp_path / "in", [(40, 40)])
    options = OutputOptions(objects=ObjectOptions.for_model, outlines=outlines)
    predict_folder(_net(), tmp_path / "in", tmp_path / "out", options, progress=False)
    assert not (tmp_path / "out" / COCO_FILE).exists()


def test_a_run_that_skips_every_input_keeps_the_coco_file_it_wrote(tmp_path):
    """A run skipping all its inputs deleted the COCO file it had just written (review s72)."""
    net = _net()
    _images(tmp_path / "in", [(40, 40), (50, 44)])
    options = OutputOptions(objects=ObjectOptions.for_model)
    predict_folder(net, tmp_path / "in", tmp_path / "out", options, progress=False)
    result = predict_folder(
        net, tmp_path / "in", tmp_path / "out", _coco(skip_existing=True), progress=False
    )
    assert len(result.skipped) == 2 and not result.written
    doc = json.loads((tmp_path / "out" / COCO_FILE).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["a0.png", "a1.png"]


def test_file_names_are_the_tables_paths_for_a_glob_and_an_earlier_run(tmp_path, monkeypatch):
    """A glob's inputs were named by their file name alone (img00.png), the table's path
    inA/img00.png; an earlier run's input into the folder was left untested (review s72)."""
    monkeypatch.chdir(tmp_path)
    net = _net()
    _images(tmp_path / "inA", [(40, 40)])
    _images(tmp_path / "inB", [(44, 50), (52, 40)])
    predict_folder(net, "inA/a0.png", "out", _coco(), progress=False)  # an earlier run
    predict_folder(net, "in*/a1.png", "out", _coco(), progress=False)
    doc = json.loads((tmp_path / "out" / COCO_FILE).read_text())
    with open(tmp_path / "out" / "objects_summary.csv", newline="") as f:
        table = [row["path"] for row in csv.DictReader(f)]
    assert [i["file_name"] for i in doc["images"]] == table == ["inA/a0.png", "inB/a1.png"]


def _ids_files(out, shapes: dict[str, tuple]) -> list:
    """An objects TIFF in ``out`` for each input name -> shape (a row of discs each plane)."""
    for name, shape in shapes.items():
        ids = np.zeros(shape, np.uint16)
        ids[..., 2:6, 2:6], ids[..., 2:6, 9:13] = 1, 2
        tifffile.imwrite(out / f"{Path(name).stem}_objects.tif", ids, photometric="minisblack")
    return [Path("in") / name for name in shapes]


def test_what_coco_cannot_hold_is_left_out_each_for_its_reason(tmp_path, caplog, monkeypatch):
    """The left-out line said 'COCO holds 2-D images' of an OME-Zarr's 2-D image, and a
    slide's objects were read whole (review s72); a stack's guard was untested."""
    from unetlab.inference import slides

    monkeypatch.setattr(slides, "LARGE_PIXELS", 30 * 30)
    files = _ids_files(tmp_path, {"flat.png": (20, 24), "stack.tif": (3, 20, 24)})
    files += _ids_files(tmp_path, {"big.tif": (40, 40)}) + [Path("in/zarr.tif")]
    names = {f: f.name for f in files}
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        write_run_coco(tmp_path, files, names, {1: "cell"})
    doc = json.loads((tmp_path / COCO_FILE).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["flat.png"]
    said = {line.split(" left out (")[1].split(")")[0] for line in caplog.messages}
    assert said == {"stack.tif", "big.tif", "zarr.tif"}
    assert "stack.tif): a stack or several positions: COCO holds 2-D images" in caplog.text
    assert "big.tif): a slide (over 900 pixels), not read whole" in caplog.text
    assert "zarr.tif): no readable <stem>_objects.tif in the folder (--output-format ome-z" in (
        caplog.text
    )


def test_the_file_has_cvat_s_licenses_and_info_sections(tmp_path):
    """CVAT releases of 2025 refuse a file without 'licenses' (review s72)."""
    files = _ids_files(tmp_path, {"a.png": (20, 24)})
    write_run_coco(tmp_path, files, {files[0]: "a.png"}, {1: "cell"})
    doc = json.loads((tmp_path / COCO_FILE).read_text())
    assert doc["licenses"] == [] and set(doc["info"]) == {
        "contributor", "date_created", "description", "url", "version", "year"
    }  # fmt: skip
    assert [a["id"] for a in doc["annotations"]] == [1, 2]


def test_one_image_s_annotations_are_held_at_a_time(tmp_path):
    """A plate's annotations were held as lists until one dump: 15.6 MB a 2048² field of
    5,318 objects (review s72). The peak of 12 fields is that of one, give or take."""
    import tracemalloc

    ids = np.zeros((120, 120), np.uint16)
    ids.reshape(30, 4, 30, 4)[:, :2, :, :2] = np.arange(1, 901).reshape(30, 1, 30, 1)
    peaks = []
    for count in (1, 12):
        out = tmp_path / str(count)
        out.mkdir()
        files = [Path(f"in/f{k}.png") for k in range(count)]
        for f in files:
            tifffile.imwrite(out / f"{f.stem}_objects.tif", ids)
        tracemalloc.start()
        write_run_coco(out, files, {f: f.name for f in files}, {1: "cell"})
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert len(json.loads((out / COCO_FILE).read_text())["annotations"]) == 900 * count
    assert peaks[1] < 1.5 * peaks[0]


def test_holed_objects_written_as_rle_are_said(tmp_path, caplog):
    """Label Studio's converter reads segmentation[0]: an RLE fails it (review s72)."""
    ids = np.zeros((20, 24), np.uint16)
    ids[3:12, 4:14] = 1
    ids[6:9, 7:10] = 0
    tifffile.imwrite(tmp_path / "h_objects.tif", ids)
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        write_run_coco(tmp_path, [Path("in/h.png")], {Path("in/h.png"): "h.png"}, {1: "c"})
    assert "1 object with a hole written as RLE" in caplog.text
    assert "Label Studio's COCO converter takes polygons only" in caplog.text


def test_a_semantic_model_s_regions_take_their_class_as_category(tmp_path):
    """The semantic branch of coco_categories and the table's classes were untested: every
    category_id 1 passed (review s72)."""
    net = LocalNet(in_channels=1, num_classes=3, depth=2, base_channels=4, padding="valid")
    net.eval().classes = ["background", "cell", "debris"]
    _images(tmp_path / "in", [(60, 64)])
    predict_folder(net, tmp_path / "in", tmp_path / "out", _coco(), progress=False)
    doc = json.loads((tmp_path / "out" / COCO_FILE).read_text())
    assert doc["categories"] == [
        {"id": 1, "name": "cell", "supercategory": ""},
        {"id": 2, "name": "debris", "supercategory": ""},
    ]
    with open(tmp_path / "out" / "a0_objects.csv", newline="") as f:
        classes = {int(r["id"]): int(r["class"]) for r in csv.DictReader(f)}
    got = {a["id"]: a["category_id"] for a in doc["annotations"]}  # ids in id order
    assert got == classes and set(got.values()) == {2}  # the mutant: all 1


@pytest.mark.parametrize("outlines", ["coco", "labelme"])
def test_predict_file_writes_the_outlines_file_calls_one_by_one_all_in_one(tmp_path, outlines):
    """predict_file(outlines="coco" or "labelme") wrote neither (s72 notes: only
    predict_folder did); a notebook's calls one by one: one COCO file of them all, each
    file_name relative to the images' folder."""
    from unetlab.inference.files import predict_file

    _images(tmp_path / "in", [(40, 40), (44, 50)])
    options = OutputOptions(objects=ObjectOptions.for_model, outlines=outlines)
    for name in ("a0.png", "a1.png"):
        written = predict_file(_net(), tmp_path / "in" / name, tmp_path / "out", options)
    if outlines == "labelme":
        assert (tmp_path / "out" / "a1_objects.json") in written
        assert (tmp_path / "out" / "a0_objects.json").is_file()
        return
    assert (tmp_path / "out" / COCO_FILE) in written
    doc = json.loads((tmp_path / "out" / COCO_FILE).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["a0.png", "a1.png"]
    assert {a["image_id"] for a in doc["annotations"]} == {1, 2}


@pytest.mark.parametrize("absolute", [True, False])
def test_a_glob_names_the_images_relative_to_their_folder(tmp_path, monkeypatch, absolute):
    """'/home/me/in/*.png' named each image by its absolute path in the COCO file (s72
    notes), which no CVAT task given the folder in/ holds; 'in/a*.png' named 'in/a0.png'
    where its absolute form named 'a0.png' (s74): one rule, the images' folder, and train
    reads the file back from in/annotations/ (the tables keep their paths)."""
    monkeypatch.chdir(tmp_path)
    _images(tmp_path / "in", [(40, 40), (44, 50)])
    glob = str(tmp_path / "in" / "a*.png") if absolute else "in/a*.png"
    predict_folder(_net(), glob, tmp_path / "out", _coco(), progress=False)
    doc = json.loads((tmp_path / "out" / COCO_FILE).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["a0.png", "a1.png"]
    (tmp_path / "in" / "annotations").mkdir()
    shutil.copy(tmp_path / "out" / COCO_FILE, tmp_path / "in" / "annotations")
    pairs = find_pairs(tmp_path / "in")
    assert [p.image.name for p in pairs] == ["a0.png", "a1.png"]
    for pair in pairs:
        assert np.array_equal(read_pair(pair)[1], ids_of(tmp_path, pair.image.stem))


def _cut(path: Path) -> dict:
    """The COCO file ``path`` corrected in CVAT (all but 3 objects deleted), saved over it."""
    doc = json.loads(path.read_text())
    doc["annotations"] = doc["annotations"][:3]
    path.write_text(json.dumps(doc))
    return doc


def test_a_coco_file_the_user_corrected_is_never_replaced(tmp_path):
    """s73 review: a rerun (plain, skip_existing, predict_file's next call) replaced a COCO
    file corrected since predict wrote it, 3 annotations back to 46, unsaid. A plain run is
    refused by the line that says how to keep it; skip_existing and overwrite keep it."""
    from unetlab.inference.files import predict_file

    _images(tmp_path / "in", [(97, 83), (61, 130)])
    out, net = tmp_path / "out", _net()
    predict_folder(net, tmp_path / "in", out, _coco(), progress=False)
    doc = _cut(out / COCO_FILE)
    for more in ({"skip_existing": True}, {"overwrite": True}):
        result = predict_folder(net, tmp_path / "in", out, _coco(**more), progress=False)
        assert not result.failed and json.loads((out / COCO_FILE).read_text()) == doc
    said = "objects_coco.json changed since unetlab wrote it .* pass skip_existing=True"
    with pytest.raises(OutputError, match=said):
        predict_folder(net, tmp_path / "in", out, _coco(), progress=False)
    predict_file(net, tmp_path / "in" / "a0.png", tmp_path / "one", _coco())
    doc = _cut(tmp_path / "one" / COCO_FILE)
    with pytest.raises(OutputError, match=said):  # a notebook's next call
        predict_file(net, tmp_path / "in" / "a1.png", tmp_path / "one", _coco())
    assert json.loads((tmp_path / "one" / COCO_FILE).read_text()) == doc
    assert not (tmp_path / "one" / "a1_objects.tif").exists()  # refused before any work


@pytest.mark.parametrize("more", [{"skip_existing": True}, {"overwrite": True}])
def test_new_images_beside_a_corrected_file_go_to_a_new_file_train_reads_too(tmp_path, more):
    """s74: with the corrected file kept, the new images' objects were in no COCO file (a
    line said it was kept, no more). They go to objects_coco.new.json beside it, and train
    reads both from in/annotations/."""
    _images(tmp_path / "in", [(97, 83), (61, 130), (50, 60)])
    (tmp_path / "in" / "a2.png").rename(tmp_path / "a2.png")
    out, net = tmp_path / "out", _net()
    predict_folder(net, tmp_path / "in", out, _coco(), progress=False)
    doc = _cut(out / COCO_FILE)
    (tmp_path / "a2.png").rename(tmp_path / "in" / "a2.png")  # a new image
    result = predict_folder(net, tmp_path / "in", out, _coco(**more), progress=False)
    assert not result.failed and json.loads((out / COCO_FILE).read_text()) == doc
    new = json.loads((out / COCO_NEW).read_text())
    assert [i["file_name"] for i in new["images"]] == ["a2.png"]
    assert len(new["annotations"]) == ids_of(tmp_path, "a2").max() > 0
    (tmp_path / "in" / "annotations").mkdir()
    for name in (COCO_FILE, COCO_NEW):
        shutil.copy(out / name, tmp_path / "in" / "annotations")
    pairs = find_pairs(tmp_path / "in")
    assert [p.image.name for p in pairs] == ["a0.png", "a1.png", "a2.png"]
    assert np.array_equal(read_pair(pairs[2])[1], ids_of(tmp_path, "a2"))
    assert read_pair(pairs[0])[1].max() == 3  # the corrected objects


def test_a_plain_rerun_is_refused_before_it_says_it_predicts_again(tmp_path, caplog):
    """s74: a plain rerun over a corrected COCO file said "predicted again, replacing
    them" and then refused: the refusal comes first, alone."""
    _images(tmp_path / "in", [(40, 40)])
    out, net = tmp_path / "out", _net()
    predict_folder(net, tmp_path / "in", out, _coco(), progress=False)
    _cut(out / COCO_FILE)
    caplog.clear()
    said = "objects_coco.json changed since"
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(OutputError, match=said):
        predict_folder(net, tmp_path / "in", out, _coco(), progress=False)
    assert "predicted again" not in caplog.text


def test_predict_file_names_images_of_a_linked_folder_relative_to_it(tmp_path):
    """s73 review: called by a linked folder's absolute path, the earlier input (listed by
    its resolved path) was named /.../real/a0.png, which no CVAT task given link/ holds."""
    from unetlab.inference.files import predict_file

    _images(tmp_path / "real", [(40, 40), (44, 40)])
    (tmp_path / "link").symlink_to(tmp_path / "real")
    for name in ("a0.png", "a1.png"):
        predict_file(_net(), tmp_path / "link" / name, tmp_path / "out", _coco())
    doc = json.loads((tmp_path / "out" / COCO_FILE).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["a0.png", "a1.png"]


def test_a_tree_s_file_of_each_folder_names_its_images_in_that_folder(tmp_path):
    """OUT/a/objects_coco.json named 'a/a0.png', which the CVAT task of a/'s images, the
    one README says to import it into, does not hold (s74)."""
    from unetlab.inference.tree import predict_tree

    _images(tmp_path / "in" / "a", [(40, 40)])
    _images(tmp_path / "in" / "b", [(44, 40)])
    predict_tree(_net(), tmp_path / "in", tmp_path / "out", _coco(), progress=False)
    for folder in ("a", "b"):
        doc = json.loads((tmp_path / "out" / folder / COCO_FILE).read_text())
        assert [i["file_name"] for i in doc["images"]] == ["a0.png"]


def test_the_categories_are_told_by_the_class_names():
    """coco_categories built a stand-in model (a SimpleNamespace) to ask outline_class for
    the foreground (s74): it takes the names. Pins the categories (passes on the old code)."""
    from unetlab.inference.coco_out import coco_categories

    assert coco_categories(["background", "boundary", "nucleus"], None) == {1: "nucleus"}
    assert coco_categories(["background", "boundary", "interior"], None) == {1: "object"}
    assert coco_categories([], None) == {1: "object"}


def _merge(into: Path, new: Path) -> None:
    """The user's merge of the COCO file ``new`` into ``into`` (CVAT: the images imported
    into the corrected task, exported again over it)."""
    doc, more = json.loads(into.read_text()), json.loads(new.read_text())
    first_image, first_id = len(doc["images"]), len(doc["annotations"])
    for image in more["images"]:
        doc["images"].append({**image, "id": image["id"] + first_image})
    for k, found in enumerate(more["annotations"], start=1):
        doc["annotations"].append(
            {**found, "id": first_id + k, "image_id": found["image_id"] + first_image}
        )
    into.write_text(json.dumps(doc))


def _corrected_with_a_new_image(tmp_path, **more):
    """in/a0, a1 predicted into out/, objects_coco.json corrected, a2 added, run again with
    ``more``: (out, net)."""
    _images(tmp_path / "in", [(97, 83), (61, 130), (50, 60)])
    (tmp_path / "in" / "a2.png").rename(tmp_path / "a2.png")
    out, net = tmp_path / "out", _net()
    predict_folder(net, tmp_path / "in", out, _coco(), progress=False)
    _cut(out / COCO_FILE)
    (tmp_path / "a2.png").rename(tmp_path / "in" / "a2.png")
    predict_folder(net, tmp_path / "in", out, _coco(**more), progress=False)
    return out, net


def test_a_new_file_merged_into_the_corrected_one_is_removed_by_the_next_run(tmp_path):
    """s74 review: the user merged objects_coco.new.json's a2 into their objects_coco.json
    and ran again with skip_existing: no image new, the earlier .new stayed, and train read
    a2 from both (a0, a1, a2, a2). The run removes it; train refuses an image two COCO files
    list, naming both."""
    out, net = _corrected_with_a_new_image(tmp_path, skip_existing=True)
    (tmp_path / "in" / "annotations").mkdir()
    for name in (COCO_FILE, COCO_NEW):
        shutil.copy(out / name, tmp_path / "in" / "annotations")
    _merge(out / COCO_FILE, out / COCO_NEW)
    shutil.copy(out / COCO_FILE, tmp_path / "in" / "annotations")
    with pytest.raises(DatasetError, match=f"a2.png is listed by both .*{COCO_FILE} and .*new"):
        find_pairs(tmp_path / "in")
    doc = json.loads((out / COCO_FILE).read_text())
    predict_folder(net, tmp_path / "in", out, _coco(skip_existing=True), progress=False)
    assert not (out / COCO_NEW).exists() and json.loads((out / COCO_FILE).read_text()) == doc


def test_a_new_file_is_removed_when_the_run_writes_the_whole_file_again(tmp_path):
    """s74 review: the user deleted their corrected file and ran with overwrite: the new
    objects_coco.json lists a2, and so did the earlier objects_coco.new.json, left."""
    out, net = _corrected_with_a_new_image(tmp_path, overwrite=True)
    assert (out / COCO_NEW).is_file()
    (out / COCO_FILE).unlink()
    predict_folder(net, tmp_path / "in", out, _coco(overwrite=True), progress=False)
    assert not (out / COCO_NEW).exists()
    doc = json.loads((out / COCO_FILE).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["a0.png", "a1.png", "a2.png"]


def test_a_file_corrected_before_names_were_relative_to_the_folder_lists_its_images(tmp_path):
    """s74 review: a file corrected before s74 names 'in/a0.png' (a relative glob), this run
    'a0.png': a0, a1 and a2 went to objects_coco.new.json, train read a0 and a1 twice.
    Images are told by stem, as train pairs them."""
    _images(tmp_path / "in", [(97, 83), (61, 130), (50, 60)])
    (tmp_path / "in" / "a2.png").rename(tmp_path / "a2.png")
    out, net = tmp_path / "out", _net()
    predict_folder(net, tmp_path / "in", out, _coco(), progress=False)
    doc = _cut(out / COCO_FILE)
    for image in doc["images"]:
        image["file_name"] = "in/" + image["file_name"]
    (out / COCO_FILE).write_text(json.dumps(doc))
    (tmp_path / "a2.png").rename(tmp_path / "in" / "a2.png")
    predict_folder(net, tmp_path / "in", out, _coco(skip_existing=True), progress=False)
    new = json.loads((out / COCO_NEW).read_text())
    assert [i["file_name"] for i in new["images"]] == ["a2.png"]


@pytest.mark.parametrize("more", [{"skip_existing": True}, {"overwrite": True}])
def test_new_images_beside_two_corrected_files_go_to_a_third(tmp_path, more, caplog):
    """s74 review: with objects_coco.json and objects_coco.new.json both corrected, a new
    image a3's objects were in no COCO file (only "changed since" lines said). They go to
    objects_coco.new2.json; the user's two files are kept as they are, and train reads all
    three once each."""
    out, net = _corrected_with_a_new_image(tmp_path, **more)
    corrected = {name: _cut(out / name) for name in (COCO_FILE, COCO_NEW)}
    write_png(tmp_path / "in" / "a3.png", nuclei_image(45, 52, seed=3))
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        predict_folder(net, tmp_path / "in", out, _coco(**more), progress=False)
    for name, doc in corrected.items():
        assert json.loads((out / name).read_text()) == doc
    third = json.loads((out / "objects_coco.new2.json").read_text())
    assert [i["file_name"] for i in third["images"]] == ["a3.png"]
    assert f"{COCO_FILE} and {COCO_NEW} do not list (a3.png)" in caplog.text
    (tmp_path / "in" / "annotations").mkdir()
    for name in (COCO_FILE, COCO_NEW, "objects_coco.new2.json"):
        shutil.copy(out / name, tmp_path / "in" / "annotations")
    pairs = find_pairs(tmp_path / "in")
    assert [p.image.name for p in pairs] == ["a0.png", "a1.png", "a2.png", "a3.png"]
    assert np.array_equal(read_pair(pairs[3])[1], ids_of(tmp_path, "a3"))


def test_train_says_no_image_passed_over_that_another_coco_file_lists(tmp_path, caplog):
    """s74 review: with objects_coco.json and objects_coco.new.json in annotations/, train
    said each passed over the other's images ("not annotated"), all trained; an image no
    file lists is said once."""
    out, _ = _corrected_with_a_new_image(tmp_path, skip_existing=True)
    (tmp_path / "in" / "annotations").mkdir()
    for name in (COCO_FILE, COCO_NEW):
        shutil.copy(out / name, tmp_path / "in" / "annotations")
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert len(find_pairs(tmp_path / "in")) == 3
    assert "passed over (not annotated)" not in caplog.text
    write_png(tmp_path / "in" / "b.png", nuclei_image(40, 40, seed=9))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert len(find_pairs(tmp_path / "in")) == 3
    assert "1 image in" in caplog.text and "no COCO file there lists (b.png)" in caplog.text


def test_train_reads_the_new_file_beside_a_corrected_file_named_as_cvat_exports_it(tmp_path):
    """s74 review: saved as CVAT names its export, instances_default.json, the corrected
    file made train pass over objects_coco.new.json ("of no instances")."""
    out, _ = _corrected_with_a_new_image(tmp_path, skip_existing=True)
    (tmp_path / "in" / "annotations").mkdir()
    shutil.copy(out / COCO_FILE, tmp_path / "in" / "annotations" / "instances_default.json")
    shutil.copy(out / COCO_NEW, tmp_path / "in" / "annotations")
    pairs = find_pairs(tmp_path / "in")
    assert [p.image.name for p in pairs] == ["a0.png", "a1.png", "a2.png"]


@pytest.mark.parametrize("more", [{"skip_existing": True}, {"overwrite": True}])
def test_a_file_of_the_new_file_s_name_unetlab_did_not_write_is_refused_first(
    tmp_path, more, caplog
):
    """s74 review: the user's own objects_coco.new.json: skip_existing said to pass
    overwrite, which was then refused after lines of the run. Refused first; s75: overwrite
    writes beside it, never over it (objects_coco.json)."""
    _images(tmp_path / "in", [(40, 40)])
    out = tmp_path / "out"
    out.mkdir()
    (out / COCO_NEW).write_text("{}")
    caplog.clear()
    if "overwrite" in more:
        result = predict_folder(_net(), tmp_path / "in", out, _coco(**more), progress=False)
        assert not result.failed and (out / COCO_NEW).read_text() == "{}"
        assert [i["file_name"] for i in json.loads((out / COCO_FILE).read_text())["images"]] == [
            "a0.png"
        ]
        return
    said = f"{COCO_NEW} exists and unetlab did not write it: never replaced; pass overwrite="
    with caplog.at_level(logging.INFO, logger="unetlab"), pytest.raises(OutputError, match=said):
        predict_folder(_net(), tmp_path / "in", out, _coco(**more), progress=False)
    assert not caplog.text and not (out / "a0_objects.tif").exists()
    assert (out / COCO_NEW).read_text() == "{}"


@pytest.mark.parametrize("how", ["predict_file", "relative", "absolute"])
def test_images_of_two_folders_into_one_are_named_by_one_rule(tmp_path, monkeypatch, how):
    """s74 review: in/A/x.png then in/B/y.png into one folder named x.png, y.png (folders by
    absolute path), in/A/x.png, y.png (relative), /tmp/.../in/A/x.png, y.png (predict_file),
    where a glob over both names A/x.png, B/y.png: that name for every caller."""
    from unetlab.inference.files import predict_file

    monkeypatch.chdir(tmp_path)
    write_png(tmp_path / "in" / "A" / "x.png", nuclei_image(40, 40, seed=0))
    write_png(tmp_path / "in" / "B" / "y.png", nuclei_image(44, 40, seed=1))
    for folder in ("A", "B"):
        given = Path("in") / folder if how == "relative" else tmp_path / "in" / folder
        if how == "predict_file":
            image = next(given.glob("*.png"))
            predict_file(_net(), image, tmp_path / "out", _coco(skip_existing=True))
        else:
            predict_folder(_net(), given, tmp_path / "out", _coco(), progress=False)
    doc = json.loads((tmp_path / "out" / COCO_FILE).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["A/x.png", "B/y.png"]


def test_a_linked_folder_among_the_inputs_keeps_its_given_name(tmp_path, monkeypatch):
    """s75: in/A/x.png beside in/B -> elsewhere/B (a linked folder): coco_names resolved the
    link, named 'in/A/x.png' and 'elsewhere/B/y.png' (their real folders' common one),
    which no CVAT task of in/ holds. The given path is kept: 'A/x.png', 'B/y.png'."""
    monkeypatch.chdir(tmp_path)
    write_png(tmp_path / "in" / "A" / "x.png", nuclei_image(40, 40, seed=0))
    write_png(tmp_path / "elsewhere" / "B" / "y.png", nuclei_image(44, 40, seed=1))
    (tmp_path / "in" / "B").symlink_to(tmp_path / "elsewhere" / "B")
    predict_folder(_net(), "in/*/?.png", tmp_path / "out", _coco(), progress=False)
    doc = json.loads((tmp_path / "out" / COCO_FILE).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["A/x.png", "B/y.png"]


def test_images_on_two_drives_are_named_relative_to_each_drive(monkeypatch):
    """s75: on Windows, C:\\in\\x.png and D:\\in\\y.png have no common folder:
    os.path.commonpath and relpath raise ValueError, a traceback at the run's end. s75
    review 7: named by their file names, C:\\in\\A\\x.png and C:\\in\\B\\x.png were
    one. Each is named relative to its drive's deepest folder (here /c, /d stand for the
    drives)."""
    import os

    from unetlab.inference import coco_out

    commonpath = os.path.commonpath

    def one_drive(paths):
        if len({coco_out._drive(p) for p in paths}) > 1:
            raise ValueError("Paths don't have the same drive")
        return commonpath(paths)

    monkeypatch.setattr(coco_out, "_drive", lambda folder: Path(folder).parts[1])
    monkeypatch.setattr(os.path, "commonpath", one_drive)
    files = [Path("/c/in/A/x.png"), Path("/c/in/B/x.png"), Path("/d/in/sub/y.png")]
    assert coco_out.coco_names(files) == {
        files[0]: "A/x.png",
        files[1]: "B/x.png",
        files[2]: "y.png",
    }


def test_a_coco_file_that_cannot_be_read_to_tell_is_never_removed(tmp_path, monkeypatch):
    """s75: an earlier run's objects_coco.new.json that the check could not read (an I/O
    error, a chmod 000 as a user) was not taken for the user's, and the run writing
    objects_coco.json whole removed it as stale. Only files proven predict's are removed;
    it is kept as it is (the OSError injected: chmod cannot stop root)."""
    from unetlab import outputs

    out, net = _corrected_with_a_new_image(tmp_path, overwrite=True)
    before = (out / COCO_NEW).read_bytes()
    (out / COCO_FILE).unlink()
    differs = outputs._differs

    def unread(path, *args):
        if path.name == COCO_NEW:
            raise PermissionError(13, "Permission denied", str(path))
        return differs(path, *args)

    monkeypatch.setattr(outputs, "_differs", unread)
    predict_folder(net, tmp_path / "in", out, _coco(overwrite=True), progress=False)
    assert (out / COCO_NEW).read_bytes() == before
    doc = json.loads((out / COCO_FILE).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["a0.png", "a1.png"]


def _listing(*stems: str) -> str:
    """A COCO file of the user's (not predict's) listing the images ``stems``."""
    images = [
        {"id": k, "file_name": f"{s}.png", "width": 9, "height": 9} for k, s in enumerate(stems)
    ]
    return json.dumps({"images": images, "annotations": [], "categories": []})


def test_overwrite_beside_the_user_s_file_leaves_out_the_images_it_lists(tmp_path, caplog):
    """s75 review 4: no test gave the user's file an image (only '{}'): the new file must
    leave out a0, which the user's lists. s75 review 3a: where it lists every image,
    overwrite wrote nothing and said nothing: one line."""
    _images(tmp_path / "in", [(40, 40), (44, 40)])
    out = tmp_path / "out"
    out.mkdir()
    (out / COCO_FILE).write_text(_listing("a0"))
    predict_folder(_net(), tmp_path / "in", out, _coco(overwrite=True), progress=False)
    doc = json.loads((out / COCO_NEW).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["a1.png"]
    (out / COCO_NEW).unlink()
    (out / COCO_FILE).write_text(_listing("a0", "a1"))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        predict_folder(_net(), tmp_path / "in", out, _coco(overwrite=True), progress=False)
    assert f"no COCO file written: {COCO_FILE} lists all 2 images of the run" in caplog.text
    assert not (out / COCO_NEW).exists() and (out / COCO_FILE).read_text() == _listing("a0", "a1")


def test_the_refusal_names_the_file_overwrite_writes_beside_a_corrected_one(tmp_path):
    """s75 review 3b: the user's objects_coco.json and objects_coco.new.json, which predict
    wrote and the user corrected: the refusal named objects_coco.new.json (theirs now) as
    where overwrite writes; overwrite kept it and wrote objects_coco.new2.json."""
    _images(tmp_path / "in", [(40, 40)])
    out = tmp_path / "out"
    out.mkdir()
    (out / COCO_FILE).write_text("{}")
    predict_folder(_net(), tmp_path / "in", out, _coco(overwrite=True), progress=False)
    _cut(out / COCO_NEW)
    _images(tmp_path / "in", [(40, 40), (44, 40)])
    said = "pass overwrite=True to write the run's COCO file beside it (objects_coco.new2.json)"
    with pytest.raises(OutputError, match=re.escape(said)):
        predict_folder(_net(), tmp_path / "in", out, _coco(), progress=False)
    predict_folder(_net(), tmp_path / "in", out, _coco(overwrite=True), progress=False)
    doc = json.loads((out / "objects_coco.new2.json").read_text())
    assert [i["file_name"] for i in doc["images"]] == ["a1.png"]


def test_an_earlier_input_under_a_linked_parent_is_named_as_reached(tmp_path):
    """s75 review 2: link -> real; predict link/inA then link/inB into one folder named
    'real/inA/a0.png', 'link/inB/b1.png' (the earlier input is listed by its resolved path,
    and only a given folder itself was matched, not one under a linked parent), where main
    named 'inA/a0.png', 'inB/b1.png' (/home -> /gpfs/home, macOS /tmp)."""
    write_png(tmp_path / "real" / "inA" / "a0.png", nuclei_image(40, 40, seed=0))
    write_png(tmp_path / "real" / "inB" / "b1.png", nuclei_image(44, 40, seed=1))
    (tmp_path / "link").symlink_to(tmp_path / "real")
    for folder in ("inA", "inB"):
        given = tmp_path / "link" / folder
        predict_folder(_net(), given, tmp_path / "out", _coco(), progress=False)
    doc = json.loads((tmp_path / "out" / COCO_FILE).read_text())
    assert [i["file_name"] for i in doc["images"]] == ["inA/a0.png", "inB/b1.png"]
