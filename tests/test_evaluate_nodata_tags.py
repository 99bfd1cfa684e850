"""evaluate's reading of a truth's own no-data tag (a PNG's text key ``nodata``, a TIFF's
GDAL_NODATA): said where it leaves no true object (review s55 H3, 2-D --pred as 3-D)."""

from __future__ import annotations

import logging

import numpy as np
import tifffile
import torch

from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_predictions


def _ids() -> np.ndarray:
    ids = np.zeros((32, 32), np.uint16)
    ids[4:10, 4:10], ids[15:25, 15:25] = 1, 2
    return ids


def _lost_lines(caplog) -> list[str]:
    said = [r.getMessage() for r in caplog.records if "every labelled pixel" in r.getMessage()]
    caplog.clear()
    return said


def test_a_2d_truth_whose_tag_names_all_its_objects_no_data_says_so(tmp_path, caplog):
    """An instance model's object ids scored (evaluate --pred) against a 0/255 truth whose
    PNG tags 255 no-data: every object pixel is no-data, 0 true objects, without a word in
    2-D where 3-D said it. One line names the file and each caller's fix, which works."""
    (tmp_path / "pred").mkdir()
    tifffile.imwrite(tmp_path / "pred" / "a_objects.tif", _ids())
    gt = tmp_path / "gt" / "a.png"
    write_png(gt, ((_ids() > 0) * 255).astype(np.uint8), text={"nodata": "255"})
    dirs = (tmp_path / "pred", tmp_path / "gt")
    with caplog.at_level(logging.WARNING):
        report = evaluate_predictions(*dirs, progress=False)
        (line,) = _lost_lines(caplog)
        assert report.to_dict()["objects"] == 0
        assert line.startswith("a.png: the truth's own tag names 255 no-data")  # of --gt
        assert "if 255 marks objects, give label_values=[0, 255] or save the truth" in line
        assert main(["evaluate", "--pred", str(dirs[0]), "--gt", str(dirs[1])]) == 0
        (line,) = _lost_lines(caplog)
        assert "if 255 marks objects, give --label-values 0 255 or save the truth" in line
        fixed = evaluate_predictions(*dirs, label_values=[0, 255], progress=False)
        assert (fixed.to_dict()["objects"], _lost_lines(caplog)) == (2, [])
        ids = evaluate_predictions(*dirs, gt_instances=True, progress=False)  # no label values
        (line,) = _lost_lines(caplog)
        assert ids.to_dict()["objects"] == 0 and "marks objects, save the truth" in line


def test_the_lines_name_a_mask_as_predict_names_its_input(tmp_path, caplog):
    """evaluate's lines named a mask by its name alone, where predict names a file of the
    one folder given by its name and any other by its path as given (data/shown.py): a data
    folder's masks/a.png is not in the folder given, so it is named by its path."""
    (tmp_path / "pred").mkdir()
    tifffile.imwrite(tmp_path / "pred" / "a_objects.tif", _ids())
    write_png(tmp_path / "d" / "images" / "a.png", np.zeros((32, 32), np.uint8))
    gt = tmp_path / "d" / "masks" / "a.png"
    write_png(gt, ((_ids() > 0) * 255).astype(np.uint8), text={"nodata": "255"})
    for given, named in ((tmp_path / "d", str(gt)), (gt.parent, "a.png")):
        with caplog.at_level(logging.WARNING):
            evaluate_predictions(tmp_path / "pred", given, progress=False)
        (line,) = _lost_lines(caplog)
        assert line.startswith(f"{named}: the truth's own tag"), line


def test_swath_tiles_without_foreground_beside_tiles_with_some_are_not_told_label_values(
    tmp_path, caplog
):
    """Tiles of a prediction kept as truth: 0/1 with 255 tagged no-data at their left edge,
    a.png with objects, b.png and c.png without any in their swath. Judged per file, b and c
    were told label_values=[0, 255], which makes class 1 of their no-data (review s56 F3,
    2): a tag value another file kept labelled pixels beside is no loss. Without a.png each
    file lost every object: one line names both ("each truth's", not "the truth's")."""
    (tmp_path / "pred").mkdir()
    for stem, objects in (("a", True), ("b", False), ("c", False)):
        truth = (_ids() > 0).astype(np.uint8) * objects
        truth[:, :3] = 255
        write_png(tmp_path / "gt" / f"{stem}.png", truth, text={"nodata": "255"})
        tifffile.imwrite(tmp_path / "pred" / f"{stem}_objects.tif", _ids())
    dirs = (tmp_path / "pred", tmp_path / "gt")
    with caplog.at_level(logging.WARNING):
        report = evaluate_predictions(*dirs, progress=False)
    assert report.to_dict()["nodata_pixels_truth"] == 3 * 32 * 3 and _lost_lines(caplog) == []
    (tmp_path / "gt" / "a.png").unlink()
    with caplog.at_level(logging.WARNING):
        evaluate_predictions(*dirs, progress=False)
    (line,) = _lost_lines(caplog)
    assert line.startswith("b.png, c.png: each truth's own tag names 255 no-data"), line


def test_a_0_255_truth_tagged_255_among_swath_tiles_is_said_where_predicted_objects(
    tmp_path, caplog
):
    """A folder mixing 0/1 tiles with a tagged 255 swath (objects beside it) and a 0/255
    truth tagged 255: the tiles kept labelled pixels beside 255, so the truth that lost all
    its objects to the tag was silent (review s56 F3). The prediction tells them apart: it
    finds objects on the truth's tagged pixels, none on the tiles' swath; that truth alone
    is said. A prediction that finds nothing there says nothing, as before."""
    (tmp_path / "pred").mkdir()
    for stem in ("b", "c"):
        tile = (_ids() > 0).astype(np.uint8)
        tile[:, :3] = 255
        write_png(tmp_path / "gt" / f"{stem}.png", tile, text={"nodata": "255"})
        tifffile.imwrite(tmp_path / "pred" / f"{stem}_objects.tif", _ids())
    truth = ((_ids() > 0) * 255).astype(np.uint8)
    write_png(tmp_path / "gt" / "a.png", truth, text={"nodata": "255"})
    dirs = (tmp_path / "pred", tmp_path / "gt")
    for found, said in ((_ids(), 1), (np.zeros_like(_ids()), 0)):
        tifffile.imwrite(tmp_path / "pred" / "a_objects.tif", found)
        with caplog.at_level(logging.WARNING):
            evaluate_predictions(*dirs, progress=False)
        lines = _lost_lines(caplog)
        assert len(lines) == said
    tifffile.imwrite(tmp_path / "pred" / "a_objects.tif", _ids())
    with caplog.at_level(logging.WARNING):
        evaluate_predictions(*dirs, progress=False)
    (line,) = _lost_lines(caplog)
    assert line.startswith("a.png: the truth's own tag names 255 no-data"), line


def test_a_0_255_stack_tagged_255_among_swath_stacks_is_said_where_predicted_objects(
    tmp_path, caplog
):
    """The 2-D rule above in 3-D (evaluate --objects-3d): a 0/255 truth stack tagged 255
    beside 0/1 stacks whose tagged 255 swath leaves objects beside it was silent; the
    prediction's objects under the tag say it, none there says nothing, as in 2-D."""
    zyx = dict(imagej=True, metadata={"axes": "ZYX"})
    for folder in ("pred", "gt"):
        (tmp_path / folder).mkdir()
    stack = np.stack([_ids()] * 3)
    for stem in ("b", "c"):
        tile = (stack > 0).astype(np.uint8)
        tile[:, :, :3] = 255
        tifffile.imwrite(tmp_path / "gt" / f"{stem}.tif", tile, extratags=_tag(255), **zyx)
        tifffile.imwrite(tmp_path / "pred" / f"{stem}_objects.tif", stack, **zyx)
    truth = ((stack > 0) * 255).astype(np.uint8)
    tifffile.imwrite(tmp_path / "gt" / "a.tif", truth, extratags=_tag(255), **zyx)
    dirs = (tmp_path / "pred", tmp_path / "gt")
    for found, said in ((stack, 1), (np.zeros_like(stack), 0)):
        tifffile.imwrite(tmp_path / "pred" / "a_objects.tif", found, **zyx)
        with caplog.at_level(logging.WARNING):
            evaluate_predictions(*dirs, objects_3d=True, progress=False)
        lines = _lost_voxel_lines(caplog)
        assert len(lines) == said, lines
        if said:
            assert lines[0].startswith("a.tif: "), lines


def test_evaluate_model_in_3d_says_a_tagged_0_255_stack_among_swath_stacks(
    tmp_path, caplog, monkeypatch, instance_checkpoint
):
    """The rule above on evaluate --checkpoint --objects-3d's path (its predictions made in
    memory: here the objects found stand in for the untrained net's, which are not
    controlled)."""
    import unetlab.inference.files
    from unetlab.evaluate import evaluate_model

    zyx = dict(imagej=True, metadata={"axes": "ZYX"})
    stack, data = np.stack([_ids()] * 3), tmp_path / "d"
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True)
    for stem in ("a", "b", "c"):
        truth = ((stack > 0) * 255).astype(np.uint8)
        if stem != "a":  # 0/1 stacks with a tagged 255 swath, objects beside it
            truth = (stack > 0).astype(np.uint8)
            truth[:, :, :3] = 255
        tifffile.imwrite(data / "masks" / f"{stem}.tif", truth, extratags=_tag(255), **zyx)
        tifffile.imwrite(data / "images" / f"{stem}.tif", stack.astype(np.uint8) * 60, **zyx)
    real = unetlab.inference.files.stack_objects_3d

    def found(model, path, outputs, **kw):
        return list(stack), real(model, path, outputs, **kw)[1]

    monkeypatch.setattr(unetlab.inference.files, "stack_objects_3d", found)
    with caplog.at_level(logging.WARNING):
        evaluate_model(str(instance_checkpoint), data, objects_3d=True, progress=False)
    (line,) = _lost_voxel_lines(caplog)
    assert line.startswith(f"{data / 'masks' / 'a.tif'}: the truth's own tag names 255 "), line


def _lost_voxel_lines(caplog) -> list[str]:
    said = [r.getMessage() for r in caplog.records if "every labelled voxel" in r.getMessage()]
    caplog.clear()
    return said


def test_a_tag_value_too_large_for_g_is_said_whole(tmp_path, caplog):
    """A uint32 0/4294967295 truth tagged 4294967295 was said as 4.29497e+09, in the line
    and in the label values it gives (review s56 F3, 3)."""
    (tmp_path / "p").mkdir()
    (tmp_path / "g").mkdir()
    tifffile.imwrite(tmp_path / "p" / "a_objects.tif", _ids())
    truth = np.where(_ids() > 0, 2**32 - 1, 0).astype(np.uint32)
    tifffile.imwrite(tmp_path / "g" / "a.tif", truth, extratags=_tag(2**32 - 1))
    with caplog.at_level(logging.WARNING):
        evaluate_predictions(tmp_path / "p", tmp_path / "g", progress=False)
    (line,) = _lost_lines(caplog)
    assert "names 4294967295 no-data" in line and "label_values=[0, 4294967295]" in line, line


def _tag(value) -> list[tuple]:
    return [(42113, "s", 0, str(value), True)]


def test_the_user_s_own_ignore_value_at_the_tag_is_not_told_label_values(tmp_path, caplog):
    """ignore_value=255 beside a truth tagged 255: the user said 255 counts nowhere, yet was
    told label_values=[0, 255], which is refused beside that ignore value (s56 E, 4)."""
    (tmp_path / "pred").mkdir()
    tifffile.imwrite(tmp_path / "pred" / "a_objects.tif", _ids())
    write_png(
        tmp_path / "gt" / "a.png", ((_ids() > 0) * 255).astype(np.uint8), text={"nodata": "255"}
    )
    dirs = [str(tmp_path / "pred"), str(tmp_path / "gt")]
    with caplog.at_level(logging.WARNING):
        report = evaluate_predictions(*dirs, ignore_value=255, progress=False)
        assert main(["evaluate", "--pred", dirs[0], "--gt", dirs[1], "--ignore-value", "255"]) == 0
    assert report.to_dict()["objects"] == 0 and _lost_lines(caplog) == []
    with caplog.at_level(logging.WARNING):  # another ignore value: still said
        evaluate_predictions(*dirs, ignore_value=7, progress=False)
    assert len(_lost_lines(caplog)) == 1


def test_an_id_truth_s_tag_that_takes_an_object_says_so_once_per_file(tmp_path, caplog):
    """Ids 1..7 tagged GDAL_NODATA=1 (a GIS tool's), the prediction missing object 1: any
    tagged id but 0 is no-data, so object 1 counts nowhere and recall is 1.0, without a
    word (s56 E, 1). One line per file names it, its tag and what that took; a TZYX movie
    of 2 frames says it once, naming the file, not a row s[0] (s56 E, 5)."""
    ids = np.zeros((32, 32), np.uint16)
    for i in range(6):
        ids[2 + 5 * i : 6 + 5 * i, 2:8] = i + 1
    ids[20:30, 20:30] = 7
    pred = np.where(ids == 1, 0, ids)  # the model missed object 1
    for folder in ("p", "g"):
        (tmp_path / folder).mkdir()
    tifffile.imwrite(tmp_path / "p" / "a_objects.tif", pred)
    tifffile.imwrite(tmp_path / "g" / "a.tif", ids, extratags=[(42113, "s", 0, "1", True)])
    dirs = (tmp_path / "p", tmp_path / "g")
    said = "a.tif: its GDAL_NODATA tag names 1 no-data: object 1 ({}) counts nowhere; if it is "
    said += "an object, re-save the file without the tag to score it"
    with caplog.at_level(logging.WARNING):
        flat = evaluate_predictions(*dirs, gt_instances=True, progress=False).to_dict()
    assert (flat["objects"], flat["object_recall"], flat["nodata_pixels_truth"]) == (6, 1.0, 24)
    assert _taken_lines(caplog) == [said.format("24 pixels")]
    movie = dict(metadata={"axes": "TZYX"}, photometric="minisblack")
    tifffile.imwrite(tmp_path / "p" / "a_objects.tif", np.stack([[pred] * 3] * 2), **movie)
    tags = [(42113, "s", 0, "1", True)]
    tifffile.imwrite(tmp_path / "g" / "a.tif", np.stack([[ids] * 3] * 2), extratags=tags, **movie)
    with caplog.at_level(logging.WARNING):
        volume = evaluate_predictions(*dirs, objects_3d=True, progress=False).to_dict()
    assert (volume["objects"], volume["object_recall"]) == (12, 1.0)
    said = said.replace("object 1 ({})", "object 1 of each of 2 time points ({} in all)")
    assert _taken_lines(caplog) == [said.format(f"{2 * 3 * 24} voxels")]


def test_a_multi_page_id_truth_s_taken_object_is_said_per_page(tmp_path, caplog):
    """A 3-page 2-D truth of object ids tagged GDAL_NODATA=1: each page is scored as its own
    image, so its object 1 is one object a page, but the line said 'object 1 (72 pixels)',
    one object of all three pages' pixels (s57). It now names the pages."""
    ids = np.zeros((3, 32, 32), np.uint16)
    ids[:, 2:6, 2:8], ids[:, 20:30, 20:30] = 1, 2
    for folder in ("p", "g"):
        (tmp_path / folder).mkdir()
    tifffile.imwrite(tmp_path / "p" / "a_objects.tif", ids)
    tifffile.imwrite(tmp_path / "g" / "a.tif", ids, extratags=[(42113, "s", 0, "1", True)])
    with caplog.at_level(logging.WARNING):
        report = evaluate_predictions(
            tmp_path / "p", tmp_path / "g", gt_instances=True, progress=False
        ).to_dict()
    assert (len(report["images"]), report["objects"]) == (3, 3)  # 3 pages, object 2 of each
    assert _taken_lines(caplog) == [
        "a.tif: its GDAL_NODATA tag names 1 no-data: object 1 of each of 3 pages (72 pixels in "
        "all) counts nowhere; if it is an object, re-save the file without the tag to score it"
    ]


def _taken_lines(caplog) -> list[str]:
    said = [r.getMessage() for r in caplog.records if "counts nowhere; if it is" in r.getMessage()]
    caplog.clear()
    return said


def test_an_id_truth_s_tag_below_255_is_no_data_and_0_stays_background(tmp_path):
    """GDAL_NODATA=2 on a truth of object ids (2-D --gt-instances, 3-D --objects-3d) was
    read as object 2 without a word (3-D takes no ignore value to say otherwise): ids name
    no class, so any tagged value but 0 is no-data; 0 is their background, still scored
    (a false positive there counts, as GDAL_NODATA=0 on a 0/1 raster's background)."""
    planes = np.stack([_ids()] * 3)
    pred = planes.copy()
    pred[:, 26:30, 26:30] = 3  # a false object on the background
    for tag, objects, truth_void in (("2", 1, 3 * 100), ("0", 2, 0)):
        for name, what in (("p/s_objects", pred), ("g/s", planes)):
            (tmp_path / tag / name).parent.mkdir(parents=True, exist_ok=True)
            tags = [(42113, "s", 0, tag, True)] * name.startswith("g")
            tifffile.imwrite(tmp_path / tag / f"{name}.tif", what, extratags=tags, **_ZYX)
        dirs = (tmp_path / tag / "p", tmp_path / tag / "g")
        volume = evaluate_predictions(*dirs, objects_3d=True, progress=False).to_dict()
        flat = evaluate_predictions(*dirs, gt_instances=True, progress=False).to_dict()
        assert (volume["objects"], volume["nodata_pixels_truth"]) == (objects, truth_void)
        assert (flat["objects"], flat["nodata_pixels_truth"]) == (3 * objects, truth_void)
        assert volume["object_f1"] < 1 and flat["object_f1"] < 1  # the false object counts


_ZYX = dict(metadata={"axes": "ZYX"}, photometric="minisblack")


def test_an_id_truth_s_tag_of_255_and_up_is_not_said_and_one_below_once_a_value(tmp_path, caplog):
    """The id line for tags of 255 and up, no-data before as now: 16-bit id maps tagged
    65535 were told each, one line a file, to re-save without the tag; a 0/1 truth with a
    tagged 255 swath too, which would make the swath one object (review s56 F3, 1). Tags
    below 255 (read as objects before) are said, the files of one value in one line."""
    swath = (_ids() > 0).astype(np.uint8)
    swath[:, :3] = 255
    for folder in ("p", "g"):
        (tmp_path / folder).mkdir()
    for stem in "abc":
        tifffile.imwrite(tmp_path / "p" / f"{stem}_objects.tif", _ids())
    tifffile.imwrite(tmp_path / "g" / "a.tif", swath, extratags=_tag(255))
    for stem in "bc":
        held = np.where(swath == 255, 65535, _ids()).astype(np.uint16)
        tifffile.imwrite(tmp_path / "g" / f"{stem}.tif", held, extratags=_tag(65535))
    dirs = (tmp_path / "p", tmp_path / "g")
    with caplog.at_level(logging.WARNING):
        report = evaluate_predictions(*dirs, gt_instances=True, progress=False).to_dict()
    assert (report["objects"], report["nodata_pixels_truth"]) == (6, 3 * 32 * 3)
    assert _taken_lines(caplog) == []
    for stem in "abc":
        tifffile.imwrite(tmp_path / "g" / f"{stem}.tif", _ids(), extratags=_tag(1))
    with caplog.at_level(logging.WARNING):
        evaluate_predictions(*dirs, gt_instances=True, progress=False)
    assert _taken_lines(caplog) == [
        "a.tif, b.tif, c.tif: their GDAL_NODATA tags name 1 no-data: object 1 (108 pixels in "
        "all) counts nowhere; if it is an object, re-save the files without the tag to score it"
    ]


def test_a_class_mask_s_tag_never_gets_the_object_line(tmp_path, caplog):
    """A class mask (label values 0, 1) tagged 7, a value no class has beside its objects:
    no-data, as a tag is for; no "object 7 counts nowhere" line, which is for ids alone."""
    truth = (_ids() > 0).astype(np.uint8)
    truth[:, :3] = 7
    (tmp_path / "g").mkdir()
    write_png(tmp_path / "p" / "a.png", (_ids() > 0).astype(np.uint8))
    tifffile.imwrite(tmp_path / "g" / "a.tif", truth, extratags=_tag(7))
    with caplog.at_level(logging.WARNING):
        report = evaluate_predictions(
            tmp_path / "p", tmp_path / "g", label_values=[0, 1], progress=False
        ).to_dict()
    assert report["nodata_pixels_truth"] == 32 * 3
    assert _taken_lines(caplog) == [] and _lost_lines(caplog) == []


def _class_data(root, tag: str):
    """images/ and masks/ of one 32 px image whose 0/255 truth has a left swath of ``tag``'s
    value, tagged no-data in its PNG (a GIS export: the swath is no sample)."""
    rng = np.random.default_rng(0)
    write_png(root / "images" / "a.png", rng.integers(0, 255, (32, 32), np.uint8))
    truth = ((_ids() > 0) * 255).astype(np.uint8)
    truth[:, :5] = int(tag)
    write_png(root / "masks" / "a.png", truth, text={"nodata": tag})
    return root


def test_a_2d_checkpoint_scores_a_tagged_truth_as_evaluate_pred_does(tmp_path):
    """s57: evaluate --checkpoint read 2-D masks as training does, ignoring their own
    no-data tag (refused the swath's 7 as a value of no class) where evaluate --pred scores
    its pixels nowhere (s56): the same truth file now scores the same in both modes."""
    from unetlab import UNet, predict_folder
    from unetlab.evaluate import evaluate_model

    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.label_values = [0, 255]
    data = _class_data(tmp_path / "d", "7")
    direct = evaluate_model(model, data, progress=False)
    predict_folder(model, data / "images", tmp_path / "pred")
    saved = evaluate_predictions(
        tmp_path / "pred", data / "masks", label_values=[0, 255], progress=False
    )
    assert direct.matrix.sum() == 32 * 27  # the swath scored nowhere
    assert np.array_equal(direct.matrix, saved.matrix)


def test_a_2d_instance_checkpoint_says_it_reads_a_tagged_truth_as_training_does(
    tmp_path, instance_checkpoint, caplog
):
    """An instance model against a 0/255 truth tagged 255: evaluate --pred --gt-instances
    scores those pixels nowhere (0 true objects, said), --checkpoint reads it as training does
    (review s55 F2: its objects kept) without a word; now one line says the two readings
    differ, in each caller's form. A tag that holds no pixel is not said."""
    from unetlab import load_model
    from unetlab.evaluate import evaluate_model

    root = tmp_path / "d"
    rng = np.random.default_rng(0)
    write_png(root / "images" / "a.png", rng.integers(0, 255, (32, 32), np.uint8))
    truth = ((_ids() > 0) * 255).astype(np.uint8)
    model = load_model(instance_checkpoint)
    for tag, said in (("255", 1), ("9", 0)):
        write_png(root / "masks" / "a.png", truth, text={"nodata": tag})
        with caplog.at_level(logging.WARNING):
            report = evaluate_model(model, root, objects=True, progress=False)
        lines = [r.getMessage() for r in caplog.records if "as training reads" in r.getMessage()]
        caplog.clear()
        assert report.to_dict()["objects"] == 2 and len(lines) == said
    write_png(root / "masks" / "a.png", truth, text={"nodata": "255"})
    with caplog.at_level(logging.WARNING):
        evaluate_model(model, root, objects=True, progress=False)
        (line,) = [r.getMessage() for r in caplog.records if "as training reads" in r.getMessage()]
        assert line.startswith(f"{root / 'masks' / 'a.png'}: the truth's own no-data tag (255)")
        assert line.endswith("evaluate_predictions(..., gt_instances=True) scores them nowhere")
        caplog.clear()
        argv = ["evaluate", "--checkpoint", str(instance_checkpoint), "--data", str(root)]
        assert main([*argv, "--object-scores", "--device", "cpu", "--no-progress"]) == 0
    (line,) = [r.getMessage() for r in caplog.records if "as training reads" in r.getMessage()]
    assert line.endswith("where evaluate --pred --gt-instances scores them nowhere")


def test_the_instance_tag_line_names_each_files_tag(tmp_path, instance_checkpoint, caplog):
    """Two truths tagged with other values (a 0/255 one 255, an id one 1): the line named the
    first file's value for both files; now one line per value, naming its files."""
    from unetlab import load_model
    from unetlab.evaluate import evaluate_model

    root = tmp_path / "d"
    rng = np.random.default_rng(0)
    for name, truth, tag in (("a", (_ids() > 0) * 255, "255"), ("b", _ids(), "1")):
        write_png(root / "images" / f"{name}.png", rng.integers(0, 255, (32, 32), np.uint8))
        write_png(root / "masks" / f"{name}.png", truth.astype(np.uint8), text={"nodata": tag})
    with caplog.at_level(logging.WARNING):
        evaluate_model(load_model(instance_checkpoint), root, objects=True, progress=False)
    lines = sorted(r.getMessage() for r in caplog.records if "as training reads" in r.getMessage())
    masks = root / "masks"
    assert [line.split(" is read")[0] for line in lines] == [
        f"{masks / 'a.png'}: the truth's own no-data tag (255)",
        f"{masks / 'b.png'}: the truth's own no-data tag (1)",
    ]


def test_a_checkpoint_says_a_truth_tagged_over_its_objects_among_swath_tiles(tmp_path, caplog):
    """evaluate --checkpoint's 2-D class masks (TruthTags) as --pred's: a 0/255 truth tagged
    255 beside a 0/1 tile whose tagged 255 swath is no sample in its image (GDAL_NODATA=0):
    a net that predicts class 1 everywhere finds objects on the truth's tagged pixels, said;
    the tiles' swath is their image's no-data, no object found there: not said, nor a tile
    with no object (c.png: every labelled pixel its swath's)."""
    from unetlab import UNet
    from unetlab.evaluate import evaluate_model

    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    with torch.no_grad():  # class 1 everywhere: the last conv's bias
        last = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([0.0, 5.0]))
    rng = np.random.default_rng(0)
    root = tmp_path / "d"
    write_png(root / "images" / "a.png", rng.integers(1, 255, (32, 32), np.uint8))
    write_png(
        root / "masks" / "a.png", ((_ids() > 0) * 255).astype(np.uint8), text={"nodata": "255"}
    )
    image = rng.integers(1, 255, (32, 32), np.uint8)
    image[:, :3] = 0
    tifffile.imwrite(root / "images" / "b.tif", image, extratags=_tag(0))
    tile = (_ids() > 0).astype(np.uint8)
    tile[:, :3] = 255
    write_png(root / "masks" / "b.png", tile, text={"nodata": "255"})
    tifffile.imwrite(root / "images" / "c.tif", image, extratags=_tag(0))
    write_png(
        root / "masks" / "c.png",
        np.where(tile == 255, 255, 0).astype(np.uint8),
        text={"nodata": "255"},
    )
    with caplog.at_level(logging.WARNING):
        report = evaluate_model(model, root, progress=False)
    assert len(report.images) == 3
    (line,) = _lost_lines(caplog)
    assert line.startswith(f"{root / 'masks' / 'a.png'}: the truth's own tag names 255"), line


def test_a_mask_png_whose_chunk_list_is_cut_names_no_tag(tmp_path):
    """A mask PNG without its IEND chunk (Pillow and training read it) was refused by
    evaluate --checkpoint ('truncated PNG file') when reading its no-data tag: it names
    none, and scores as the whole file does."""
    from unetlab.evaluate import evaluate_model
    from unetlab.models import UNet

    rng = np.random.default_rng(0)
    mask = tmp_path / "d" / "masks" / "a.png"
    write_png(tmp_path / "d" / "images" / "a.png", rng.integers(0, 255, (32, 32), np.uint8))
    write_png(mask, np.tile([0, 255], (32, 16)).astype(np.uint8))
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.label_values = [0, 255]
    whole = evaluate_model(model, tmp_path / "d", progress=False).to_dict()["miou"]
    mask.write_bytes(mask.read_bytes()[:-12])  # the IEND chunk dropped
    assert evaluate_model(model, tmp_path / "d", progress=False).to_dict()["miou"] == whole
