"""predict --outlines labelme: one labelme JSON per image, read back by train --data."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image
from scipy.ndimage import binary_fill_holes

from tests.test_coco_out import _images, _net
from tests.test_predict_objects import local_net, nuclei_image
from unetlab.cli import main
from unetlab.data.io import read_mask, write_png
from unetlab.data.pairs import find_pairs, read_pair
from unetlab.data.shapes import shapes_read_as
from unetlab.errors import DatasetError, OutputError
from unetlab.inference.folders import predict_folder
from unetlab.inference.labelme_out import labelme_document
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.records import OutputOptions


def _labelme(**more) -> OutputOptions:
    return OutputOptions(objects=ObjectOptions.for_model, outlines="labelme", **more)


def test_predicted_files_are_read_back_by_train_as_the_same_objects(tmp_path):
    _images(tmp_path / "in", [(97, 83), (61, 130)])
    result = predict_folder(_net(), tmp_path / "in", tmp_path / "out", _labelme(), progress=False)
    assert not result.failed
    doc = json.loads((tmp_path / "out" / "a0_objects.json").read_text())
    assert doc["imagePath"] == "../in/a0.png" and doc["imageData"] is None
    assert (doc["imageHeight"], doc["imageWidth"]) == (97, 83)
    assert {s["label"] for s in doc["shapes"]} == {"nucleus"}
    for stem in ("a0", "a1"):  # named as its image, beside it: labelme's own layout
        shutil.copy(tmp_path / "out" / f"{stem}_objects.json", tmp_path / "in" / f"{stem}.json")
    with shapes_read_as("instances"):  # train --data with data.target=instances
        pairs = find_pairs(tmp_path / "in")
        masks = [read_pair(pair)[1] for pair in pairs]
    assert [p.image.name for p in pairs] == ["a0.png", "a1.png"]
    for pair, mask in zip(pairs, masks):  # each object exactly, its holes filled
        ids = tifffile.imread(tmp_path / "out" / f"{pair.image.stem}_objects.tif")
        assert ids.max() >= 10 and len(np.unique(mask)) == len(np.unique(ids))
        for k in range(1, int(ids.max()) + 1):
            assert np.array_equal(mask == k, binary_fill_holes(ids == k))


def test_touching_objects_and_lines_of_pixels_read_back_exactly(tmp_path):
    ids = np.zeros((20, 24), np.uint16)
    ids[2:10, 2:8] = 1
    ids[2:10, 8:14] = 2  # touching 1
    ids[12, 3:20] = 3  # a line one pixel wide: a rectangle
    ids[15, 15] = 4  # one pixel
    ids[14:18, 2:6] = 5
    ids[18:20, 6:9] = 5  # two pieces meeting at a corner: one group
    ids[3:6, 16:22] = 6
    ids[6:9, 16:18] = 6  # an L
    write_png(tmp_path / "a.png", np.zeros((20, 24), np.uint8))
    document = labelme_document(ids, "a.png", "cell")
    assert [s["group_id"] for s in document["shapes"]].count(5) == 2
    (tmp_path / "a.json").write_text(json.dumps(document))
    with shapes_read_as("instances"):
        assert np.array_equal(read_mask(tmp_path / "a.json"), ids)


def test_a_folder_predicted_into_itself_keeps_the_user_s_json(tmp_path):
    Image.fromarray(nuclei_image(40, 40)).save(tmp_path / "a0.jpg")  # labels: a0.png
    (tmp_path / "a0.json").write_text('{"shapes": []}')  # the user's labelme file
    predict_folder(_net(), tmp_path, tmp_path, _labelme(overwrite=True), progress=False)
    assert (tmp_path / "a0.json").read_text() == '{"shapes": []}'
    assert json.loads((tmp_path / "a0_objects.json").read_text())["imagePath"] == "a0.jpg"


def test_skip_existing_keeps_a_file_corrected_in_labelme(tmp_path):
    _images(tmp_path / "in", [(40, 40), (40, 44)])
    (tmp_path / "in" / "a1.png").rename(tmp_path / "a1.png")  # a run stopped after a0
    net = _net()
    predict_folder(net, tmp_path / "in", tmp_path / "out", _labelme(), progress=False)
    corrected = tmp_path / "out" / "a0_objects.json"
    doc = json.loads(corrected.read_text())
    doc["shapes"] = doc["shapes"][:1]  # corrected in labelme, saved
    corrected.write_text(json.dumps(doc))
    os.utime(corrected, (1e9, 1e9))
    (tmp_path / "a1.png").rename(tmp_path / "in" / "a1.png")
    options = _labelme(skip_existing=True)
    result = predict_folder(net, tmp_path / "in", tmp_path / "out", options, progress=False)
    assert [p.name for p in result.written] == ["a1.png"]
    assert json.loads(corrected.read_text()) == doc
    assert (tmp_path / "out" / "a1_objects.json").is_file()


def test_the_command_never_replaces_a_json_it_did_not_make(tmp_path, instance_checkpoint):
    _images(tmp_path / "in", [(40, 40)])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a0_objects.json").write_text("{}")  # the user's
    args = ["predict", "--checkpoint", str(instance_checkpoint), "--input", str(tmp_path / "in")]
    args += ["--output", str(tmp_path / "out"), "--instances", "--no-progress"]
    assert main([*args, "--outlines", "labelme", "--overwrite"]) != 0
    assert (tmp_path / "out" / "a0_objects.json").read_text() == "{}"
    assert not (tmp_path / "out" / "a0_objects.tif").exists()  # refused before any work
    (tmp_path / "out" / "a0_objects.json").unlink()
    assert main([*args, "--outlines", "labelme"]) == 0
    assert json.loads((tmp_path / "out" / "a0_objects.json").read_text())["shapes"] is not None


def test_a_semantic_model_s_objects_are_labelled_with_their_class(tmp_path):
    _images(tmp_path / "in", [(64, 64)])
    net = local_net()
    net.classes, net.objects = ["background", "cell", "debris"], None
    options = OutputOptions(objects=ObjectOptions(), outlines="labelme")
    predict_folder(net, tmp_path / "in", tmp_path / "out", options, progress=False)
    doc = json.loads((tmp_path / "out" / "a0_objects.json").read_text())
    table = (tmp_path / "out" / "a0_objects.csv").read_text().splitlines()
    assert len(doc["shapes"]) >= len(table) - 1 > 0
    assert {s["label"] for s in doc["shapes"]} <= {"cell", "debris"}


def test_a_file_corrected_in_labelme_is_never_replaced_by_a_run_again(tmp_path):
    """A plain rerun is refused by the line that says how to keep it (it said "files that
    unetlab did not write" and dropped their lines, so that skip_existing was refused too)."""
    _images(tmp_path / "in", [(40, 40), (40, 44)])
    net = _net()
    predict_folder(net, tmp_path / "in", tmp_path / "out", _labelme(), progress=False)
    corrected = tmp_path / "out" / "a0_objects.json"
    doc = json.loads(corrected.read_text())
    doc["shapes"] = doc["shapes"][:1]  # corrected in labelme, saved over it
    corrected.write_text(json.dumps(doc))
    said = "a0_objects.json changed since unetlab wrote it .* pass skip_existing=True"
    with pytest.raises(OutputError, match=said):  # the user's file now
        predict_folder(net, tmp_path / "in", tmp_path / "out", _labelme(), progress=False)
    options = _labelme(skip_existing=True)  # as the line says
    result = predict_folder(net, tmp_path / "in", tmp_path / "out", options, progress=False)
    assert not result.written and not result.failed and len(result.skipped) == 2
    assert json.loads(corrected.read_text()) == doc
    (tmp_path / "out" / "a1_objects.json").unlink()
    options = _labelme(overwrite=True)  # beside it, never over it
    result = predict_folder(net, tmp_path / "in", tmp_path / "out", options, progress=False)
    # a0 predicted again, its corrected file kept (s73 review: a0 failed, its line dropped,
    # and the folder was then refused as holding "files that unetlab did not write")
    assert not result.failed and len(result.written) == 2
    assert json.loads(corrected.read_text()) == doc
    assert (tmp_path / "out" / "a1_objects.json").is_file()
    with pytest.raises(OutputError, match=said):  # still the user's, said so
        predict_folder(net, tmp_path / "in", tmp_path / "out", _labelme(), progress=False)
    options = _labelme(skip_existing=True)
    result = predict_folder(net, tmp_path / "in", tmp_path / "out", options, progress=False)
    assert len(result.skipped) == 2 and json.loads(corrected.read_text()) == doc


def _thin_objects() -> np.ndarray:
    """Objects 1 px wide in places (review s72): a blob with a 1-px tail, a dumbbell of a
    1-px neck, an L and a cross of lines 1 px wide."""
    ids = np.zeros((40, 48), np.uint16)
    ids[2:9, 2:9] = 1
    ids[5, 9:15] = 1  # the blob's tail
    ids[12:18, 2:8] = 2
    ids[12:18, 12:18] = 2
    ids[15, 8:12] = 2  # the neck
    ids[22:34, 3] = 3
    ids[33, 3:15] = 3  # an L
    ids[20:36, 30] = 4
    ids[27, 22:40] = 4  # a cross
    ids[2:12, 24:27] = 5
    ids[4, 27:33] = 5
    ids[8:11, 33:36] = 5  # a diagonal step
    ids[np.arange(6, 9), np.arange(30, 33)] = 5
    return ids


def test_objects_one_pixel_wide_in_places_read_back_exactly_as_labelme_draws_them(tmp_path):
    """Before: even-odd on pixel centres left out those on an edge drawn there and back (the
    tail, the neck, the lines: 2 to 18 px an object); labelme fills them (PIL's outline)."""
    from PIL import ImageDraw

    ids = _thin_objects()
    write_png(tmp_path / "a.png", np.zeros(ids.shape, np.uint8))
    document = labelme_document(ids, "a.png", "cell")
    (tmp_path / "a.json").write_text(json.dumps(document))
    with shapes_read_as("instances"):
        assert np.array_equal(read_mask(tmp_path / "a.json"), ids)
    drawn = Image.new("L", ids.shape[::-1])  # labelme's own drawing: PIL, fill and outline
    for shape in document["shapes"]:
        xy, draw = [tuple(p) for p in shape["points"]], ImageDraw.Draw(drawn)
        (draw.rectangle if shape["shape_type"] == "rectangle" else draw.polygon)(xy, 1, 1)
    assert np.array_equal(np.asarray(drawn) > 0, ids > 0)
    assert np.array_equal(read_mask(tmp_path / "a.json") > 0, ids > 0)  # as classes too


def test_a_linked_input_is_named_as_the_link(tmp_path):
    """git-annex, DataLad: in/a0.png a link to store/SHA256E-....png (review s72: imagePath
    named the target, and training on a0.json refused it as another image's file)."""
    (tmp_path / "store").mkdir()
    _images(tmp_path / "store", [(40, 40)])
    (tmp_path / "store" / "a0.png").rename(tmp_path / "store" / "SHA256E-s1--ab.png")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a0.png").symlink_to(tmp_path / "store" / "SHA256E-s1--ab.png")
    predict_folder(_net(), tmp_path / "in", tmp_path / "out", _labelme(), progress=False)
    shutil.copy(tmp_path / "out" / "a0_objects.json", tmp_path / "in" / "a0.json")
    assert json.loads((tmp_path / "in" / "a0.json").read_text())["imagePath"] == "../in/a0.png"
    with shapes_read_as("instances"):
        (pair,) = find_pairs(tmp_path / "in")
        assert read_pair(pair)[1].max() > 0


def test_what_labelme_cannot_hold_is_left_out_each_for_its_reason(tmp_path, caplog, monkeypatch):
    """The labelme writer read a slide's objects TIFF whole into memory and named every input
    it left out 'of no one-plane objects image' (review s72): now the COCO writer's reasons,
    by the TIFF's header."""
    import logging

    from tests.test_coco_out import _ids_files
    from unetlab.inference import slides
    from unetlab.inference.labelme_out import write_run_labelme

    monkeypatch.setattr(slides, "LARGE_PIXELS", 30 * 30)
    files = _ids_files(tmp_path, {"flat.png": (20, 24), "stack.tif": (3, 20, 24)})
    files += _ids_files(tmp_path, {"big.tif": (40, 40)}) + [Path("in/zarr.tif")]
    with caplog.at_level(logging.WARNING, logger="unetlab"):
        written = write_run_labelme(tmp_path, files, [], "nucleus")
    assert [p.name for p in written] == ["flat_objects.json"]
    assert "stack.tif): a stack or several positions: labelme holds 2-D images" in caplog.text
    assert "big.tif): a slide (over 900 pixels), not read whole" in caplog.text
    assert "zarr.tif): no readable <stem>_objects.tif" in caplog.text


def test_inputs_labelme_cannot_open_get_no_file_and_are_said_once(tmp_path, caplog):
    """s74: an .npy's or an .npz's labelme file named it as imagePath, which labelme cannot
    open (PIL): left out in one line, as --outlines cellpose leaves them out."""
    _images(tmp_path / "in", [(40, 44)])
    image = np.asarray(Image.open(tmp_path / "in" / "a0.png"))
    np.save(tmp_path / "in" / "x.npy", image)
    np.savez(tmp_path / "in" / "z.npz", image)
    result = predict_folder(_net(), tmp_path / "in", tmp_path / "out", _labelme(), progress=False)
    assert not result.failed and (tmp_path / "out" / "x_objects.tif").is_file()
    assert sorted(p.name for p in (tmp_path / "out").glob("*_objects.json")) == ["a0_objects.json"]
    said = "2 inputs left out (x.npy, ...): labelme cannot open such an image"
    assert caplog.text.count(said) == 1 and "convert it to PNG and predict the PNG" in caplog.text


def test_a_gif_input_gets_its_labelme_file(tmp_path):
    """s74 review 3: a GIF (labelme opens it: PIL) was left out as "labelme cannot open such
    an image"; a WebP too gets its file."""
    _images(tmp_path / "in", [(40, 44)])
    image = Image.open(tmp_path / "in" / "a0.png")
    image.save(tmp_path / "in" / "g.gif")
    image.save(tmp_path / "in" / "w.webp", lossless=True)
    result = predict_folder(_net(), tmp_path / "in", tmp_path / "out", _labelme(), progress=False)
    assert not result.failed
    written = sorted(p.name for p in (tmp_path / "out").glob("*_objects.json"))
    assert written == ["a0_objects.json", "g_objects.json", "w_objects.json"]


def test_predicted_files_corrected_in_labelme_train_as_they_are(tmp_path):
    """Predict -> correct in labelme -> train --data OUT, or the files beside their images:
    a0_objects.json pairs with the image its imagePath names (it had to be renamed a0.json
    and moved beside it; OUT's a0.png, predict's labels, was read as an image)."""
    _images(tmp_path / "in", [(97, 83), (61, 130)])
    predict_folder(_net(), tmp_path / "in", tmp_path / "out", _labelme(), progress=False)
    corrected = tmp_path / "out" / "a0_objects.json"
    doc = json.loads(corrected.read_text())
    doc["shapes"] = doc["shapes"][:1]  # corrected in labelme, saved over it
    corrected.write_text(json.dumps(doc))
    (tmp_path / "beside").mkdir()
    for f in ("a0.png", "a1.png", "a0_objects.json", "a1_objects.json"):
        shutil.copy(tmp_path / ("out" if "_" in f else "in") / f, tmp_path / "beside" / f)
    for folder in ("out", "beside"):
        with shapes_read_as("instances"):
            pairs = find_pairs(tmp_path / folder)
            masks = [read_pair(pair)[1] for pair in pairs]
        shown = [(p.image.parent.name, p.image.name, p.mask.name) for p in pairs]
        image_folder = "in" if folder == "out" else folder
        assert shown == [(image_folder, f"a{i}.png", f"a{i}_objects.json") for i in (0, 1)]
        ids = tifffile.imread(tmp_path / "out" / "a1_objects.tif")
        assert len(np.unique(masks[0])) == 2 and len(np.unique(masks[1])) == len(np.unique(ids))


def _image_path(path: Path, told: str) -> None:
    doc = json.loads(path.read_text())
    doc["imagePath"] = told  # as labelme saved it elsewhere, or a user typed it
    path.write_text(json.dumps(doc))


def _pairs(folder: Path) -> list[tuple[str, str]]:
    with shapes_read_as("instances"):
        pairs = find_pairs(folder)
        [read_pair(pair) for pair in pairs]
    return [(f"{p.image.parent.name}/{p.image.name}", p.mask.name) for p in pairs]


def test_a_corrected_file_whose_image_is_not_found_is_said_not_passed_over(tmp_path, caplog):
    """s73 review: an imagePath that names no image (saved on Windows, the folder moved)
    dropped the file's corrections from training, said only as "passed over"; its image
    named by a Windows path that resolves pairs; one that names predict's labels or a text
    file is refused (they were taken for its image)."""
    _images(tmp_path / "in", [(40, 40), (44, 40), (40, 48)])
    out = tmp_path / "out"
    predict_folder(_net(), tmp_path / "in", out, _labelme(), progress=False)
    _image_path(out / "a1_objects.json", "..\\in\\a1.png")  # labelme on Windows
    assert _pairs(out) == [
        ("in/a0.png", "a0_objects.json"),
        *[("in/a1.png", "a1_objects.json")],
        ("in/a2.png", "a2_objects.json"),
    ]
    _image_path(out / "a2_objects.json", "C:\\Users\\me\\in\\a2.png")
    said = r"a2_objects.json: imagePath C:/Users/me/in/a2.png: no such file: set imagePath"
    with pytest.raises(DatasetError, match=said):
        _pairs(out)
    _image_path(out / "a2_objects.json", "a2.png")  # predict's labels of a2, beside it
    (tmp_path / "in" / "a0.txt").write_text("notes")
    _image_path(out / "a0_objects.json", "../in/a0.txt")
    with pytest.raises(DatasetError, match="2 problems") as caught:
        _pairs(out)
    assert "a2.png: an output unetlab predict wrote" in str(caught.value)
    assert "a0.txt: no image file" in str(caught.value)
    assert "passed over" not in caplog.text  # said as a problem alone, not also as outlines


def test_corrected_files_moved_with_their_images_pair_with_the_images_beside(tmp_path):
    """README: the files train "as they do copied beside their images": they did only while
    the images were still where imagePath named them (s73 review: in/ gone, "no data set
    found"); the output folder moved without them, each file's image is said missing."""
    _images(tmp_path / "in", [(40, 40), (44, 40)])
    predict_folder(_net(), tmp_path / "in", tmp_path / "out", _labelme(), progress=False)
    (tmp_path / "copy").mkdir()
    for f in ("in/a0.png", "in/a1.png", "out/a0_objects.json", "out/a1_objects.json"):
        shutil.copy(tmp_path / f, tmp_path / "copy")
    shutil.rmtree(tmp_path / "in")
    assert _pairs(tmp_path / "copy") == [
        ("copy/a0.png", "a0_objects.json"),
        ("copy/a1.png", "a1_objects.json"),
    ]
    with pytest.raises(DatasetError, match="2 problems") as caught:
        _pairs(tmp_path / "out")
    assert "a0_objects.json: imagePath ../in/a0.png: no such file" in str(caught.value)


def test_an_ome_tiff_input_s_corrected_file_pairs_with_it(tmp_path):
    """a0.ome.tif's file is a0_objects.json (its outputs drop the .ome): its stem a0.ome was
    taken for another image's, and train --data OUT failed with 4 problems (s73 review)."""
    (tmp_path / "in").mkdir()
    for k, (h, w) in enumerate([(40, 40), (44, 40)]):
        tifffile.imwrite(tmp_path / "in" / f"a{k}.ome.tif", nuclei_image(h, w, seed=k), ome=True)
    out = tmp_path / "out"
    predict_folder(_net(), tmp_path / "in", out, _labelme(), progress=False)
    assert _pairs(out) == [
        ("in/a0.ome.tif", "a0_objects.json"),
        ("in/a1.ome.tif", "a1_objects.json"),
    ]


def test_a_hand_made_file_beside_corrected_ones_keeps_their_labels_classes(tmp_path):
    """s73 review: a hand-made b.json beside predict's corrected files made their labels no
    class ("labels 'cell' are no class ... put the file among the data set's masks")."""
    _images(tmp_path / "in", [(40, 40), (44, 40)])
    out = tmp_path / "out"
    predict_folder(_net(), tmp_path / "in", out, _labelme(), progress=False)
    doc = json.loads((out / "a0_objects.json").read_text())
    doc["shapes"][0]["label"] = "cell"  # relabelled in labelme
    (out / "a0_objects.json").write_text(json.dumps(doc))
    shutil.copy(tmp_path / "in" / "a1.png", out / "b.png")
    shape = {"label": "nucleus", "points": [[3, 3], [20, 3], [20, 20]], "shape_type": "polygon"}
    mine = {"shapes": [shape], "imagePath": "b.png", "imageHeight": 44, "imageWidth": 40}
    (out / "b.json").write_text(json.dumps(mine))
    pairs = find_pairs(out)
    masks = [read_pair(pair)[1] for pair in pairs]
    assert [(p.image.name, p.mask.name) for p in pairs] == [
        ("b.png", "b.json"),
        ("a0.png", "a0_objects.json"),
        ("a1.png", "a1_objects.json"),
    ]
    assert set(np.unique(masks[1])) == {0, 1, 2}  # cell, nucleus: classes sorted


def test_a_data_set_s_search_parses_each_predicted_file_once(tmp_path, monkeypatch):
    """Its labels and its imagePath were parsed apart: each X_objects.json twice by
    find_pairs (s74: 150 files of 2 MB, 300 parses, 1.37 s CPU; 150, 0.80 s)."""
    _images(tmp_path / "in", [(40, 40), (40, 44), (44, 40)])
    predict_folder(_net(), tmp_path / "in", tmp_path / "out", _labelme(), progress=False)
    for path in (tmp_path / "out").glob("*_objects.json"):
        doc = json.loads(path.read_text())
        doc["imageData"] = "A" * 200_000  # labelme's copy of the image, as it may save one
        path.write_text(json.dumps(doc))
    parsed, loads = [], json.loads
    monkeypatch.setattr(json, "loads", lambda s, *a, **k: parsed.append(len(s)) or loads(s))
    assert len(find_pairs(tmp_path / "out")) == 3
    assert sum(size > 200_000 for size in parsed) == 3


def _shown_by_labelme(path: Path) -> bool:
    """labelme 7.1's ``_imread`` (``LabelFile.load_image_file``; 6.0 on): Pillow, its size
    limit off (``MAX_IMAGE_PIXELS = None``), in a mode it shows; else, by a .tif/.tiff
    name, tifffile, scaled to 8 bits (a 2-D or 3-D array)."""
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as image:
            if image.mode in {"1", "L", "P", "RGB", "RGBA", "LA", "PA"}:
                return True
    except OSError:
        pass
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    return path.suffix.lower() in (".tif", ".tiff") and tifffile.imread(path).ndim in (2, 3)


def test_a_tiff_is_left_out_where_labelme_cannot_show_it(tmp_path, caplog):
    """s75 review 5, 6: labelme 6.0 on reads a TIFF Pillow shows in no mode (float, 16-bit,
    signed) with tifffile, by a .tif/.tiff name only, and a TIFF of another name (.lsm) with
    Pillow, by its content: f.tif, u16.tif and c.lsm get their files (the float one was left
    out, c.lsm 'by the name its file gives'); a float g.lsm is left out in one line."""
    _images(tmp_path / "in", [(40, 44)])
    image = np.asarray(Image.open(tmp_path / "in" / "a0.png"))
    tiffs = {"f.tif": image.astype(np.float32) / 255, "u16.tif": image.astype(np.uint16)}
    tiffs |= {"c.lsm": image, "g.lsm": image.astype(np.float32) / 255}
    for name, pixels in tiffs.items():
        tifffile.imwrite(tmp_path / "in" / name, pixels, photometric="minisblack")
    result = predict_folder(_net(), tmp_path / "in", tmp_path / "out", _labelme(), progress=False)
    assert not result.failed and (tmp_path / "out" / "g_objects.tif").is_file()
    written = sorted(p.name for p in (tmp_path / "out").glob("*_objects.json"))
    assert written == ["a0_objects.json", "c_objects.json", "f_objects.json", "u16_objects.json"]
    shown = [p.name for p in sorted((tmp_path / "in").iterdir()) if _shown_by_labelme(p)]
    assert shown == ["a0.png", "c.lsm", "f.tif", "u16.tif"]  # the oracle agrees
    said = "1 input left out (g.lsm): labelme reads a TIFF of mode F only by a .tif or .tiff name"
    assert caplog.text.count(said) == 1


def test_a_large_8_bit_tiff_is_one_labelme_shows(tmp_path, monkeypatch):
    """s75 review 5: an 8-bit TIFF over Pillow's size limit raised DecompressionBombError,
    told "no TIFF of such pixels" (under twice the limit, a raw DecompressionBombWarning);
    labelme sets no limit and shows it. The limit here 100 pixels, a 40 x 44 TIFF over it."""
    import warnings

    from unetlab.inference.object_planes import unshown_by_labelme

    tifffile.imwrite(tmp_path / "big.btf", np.zeros((40, 44), np.uint8), bigtiff=True)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert unshown_by_labelme(tmp_path / "big.btf") is None
    assert Image.MAX_IMAGE_PIXELS == 100


@pytest.mark.parametrize("outlines", ["labelme", "cellpose"])
def test_a_bigtiff_named_btf_gets_its_file_in_both_guis(tmp_path, outlines):
    """s75: an 8-bit BigTIFF saved as .btf (unetlab reads it; labelme's Pillow opens it,
    cellpose's GUI reads it with OpenCV, which knows BigTIFF by its header) was left out of
    both: 'cannot open such an image by the name its file gives'."""
    _images(tmp_path / "in", [(40, 44)])
    image = np.asarray(Image.open(tmp_path / "in" / "a0.png"))
    tifffile.imwrite(tmp_path / "in" / "b.btf", image, bigtiff=True, photometric="minisblack")
    assert _shown_by_labelme(tmp_path / "in" / "b.btf")
    options = OutputOptions(objects=ObjectOptions.for_model, outlines=outlines)
    result = predict_folder(_net(), tmp_path / "in", tmp_path / "out", options, progress=False)
    assert not result.failed
    ending = "_objects.json" if outlines == "labelme" else "_seg.npy"
    assert (tmp_path / "out" / f"b{ending}").is_file()
