"""evaluate --objects-3d over inputs predict --objects-3d takes: a stack whose pages record
no axes is read as its ground truth's planes (without --axes), and a 2-D image among
the stacks is scored by its 2-D objects, said in one line (--pred and --checkpoint alike)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import tifffile
from PIL import Image

import unetlab.checkpoint
from tests.test_objects_3d import _ball_stack, _balls, _write
from tests.test_predict_objects import LocalNet, local_net
from unetlab.cli import main
from unetlab.errors import UnetlabError, first_line
from unetlab.evaluate import evaluate_model, evaluate_predictions
from unetlab.inference.folders import predict_folder

CENTRES = [(6, 14, 14), (6, 14, 32), (6, 40, 40), (4, 14, 58), (9, 15, 58)]


def _truth(planes: int = 13) -> np.ndarray:
    shape = (planes, 56, 72)
    return _balls(shape, CENTRES, [4.5, 4.5, 6.0, 3.0, 3.0], voxel=(1.0, 0.5, 0.5)).astype(
        np.uint16
    )


def _data(root, image: np.ndarray, truth: np.ndarray, **how) -> None:
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(root / "images" / "s.tif", image, **how)
    tifffile.imwrite(root / "masks" / "s.tif", truth, **how)


def test_bare_pages_as_many_as_the_model_s_channels_are_the_truth_s_planes(tmp_path, caplog):
    """A 3-channel model read 3 grey pages that record no axes as one image's channels
    (said, naming --axes ZYX); the truth's 3 pages say they are planes, without --axes."""
    net = LocalNet(in_channels=3, num_classes=3, depth=2, base_channels=4, padding="valid")
    net.objects = local_net().objects
    image = _ball_stack()[5:8]
    _data(tmp_path / "d", image, _truth()[5:8], photometric="minisblack")
    with caplog.at_level(logging.WARNING):
        report = evaluate_model(net.eval(), tmp_path / "d", objects_3d=True)
    (row,) = report.images
    assert (row["name"], row["planes"]) == ("s", 3) and row["objects"] > 0
    assert "channels of one image" not in caplog.text and "--axes" not in caplog.text


def _mixed(root) -> None:
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
        _write(root / sub / "s.tif", (_ball_stack() if sub == "images" else _truth()), "ZYX")
    Image.fromarray(_ball_stack()[6]).save(root / "images" / "f.png")
    Image.fromarray(_truth()[6].astype(np.uint8)).save(root / "masks" / "f.png")


def test_a_2d_image_among_the_stacks_is_scored_by_its_2d_objects(tmp_path, caplog):
    """Both --checkpoint and --pred failed the PNG (a KeyError 'z'; 'has no Z axis ... score
    it without it'), where predict --objects-3d gives it its 2-D objects."""
    _mixed(tmp_path / "d")
    with caplog.at_level(logging.INFO):
        by_model = evaluate_model(local_net(), tmp_path / "d", objects_3d=True, z_spacing=2.0)
    voxel = dict(objects=True, objects_3d=True, z_spacing=2.0)
    line = "scored 1 of 2 images without a Z axis by their 2-D objects"
    assert line in caplog.text and "f.png" in caplog.text
    rows = {row["name"]: row for row in by_model.images}
    assert rows["f"]["planes"] == 1 and rows["s"]["planes"] == 13
    assert rows["f"]["objects"] == len(np.unique(_truth()[6])) - 1
    caplog.clear()
    out = tmp_path / "o"
    done = predict_folder(local_net(), tmp_path / "d" / "images", out, **voxel)
    assert not done.failed
    with caplog.at_level(logging.INFO):
        by_pred = evaluate_predictions(out, tmp_path / "d" / "masks", objects_3d=True)
    assert line in caplog.text
    assert {r["name"]: r["object_f1"] for r in by_pred.images}["f"] == rows["f"]["object_f1"]


@pytest.mark.parametrize(
    ("flag", "named"),
    [
        (["--ignore-value", "255"], "error: --ignore-value is not read with --objects-3d"),
        (["--connectivity", "8"], "error: --connectivity is not read with --objects-3d"),
        (["--boundary-class", "2"], "error: --boundary-class is not read with --objects-3d"),
    ],
)
def test_flags_3d_scoring_does_not_read_are_refused_before_the_checkpoint_loads(
    tmp_path, monkeypatch, capsys, flag, named
):
    """They were refused by evaluate_model, once the checkpoint had loaded (minutes for a
    large one on a GPU): a bad flag's line comes first."""
    loaded = []
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: loaded.append(a))
    _data(tmp_path / "d", _ball_stack(), _truth())
    args = ["evaluate", "--checkpoint", str(tmp_path / "m.pt"), "--data", str(tmp_path / "d")]
    assert main([*args, "--objects-3d", *flag]) != 0
    assert named in capsys.readouterr().err and loaded == []


def test_a_2d_image_predicted_without_objects_3d_is_scored_not_refused(tmp_path, caplog):
    """predict --instances (no --objects-3d) of a 2-D PNG: its objects are the ones
    --objects-3d gives it, yet evaluate --pred --objects-3d refused them as 'each plane's
    ... not 3-D ones'; stacks so predicted still are refused."""
    _mixed(tmp_path / "d")
    out = tmp_path / "o"
    predict_folder(local_net(), [tmp_path / "d" / "images" / "f.png"], out, objects=True)
    truth = tmp_path / "d" / "masks"
    (tmp_path / "gt").mkdir()
    (truth / "f.png").rename(tmp_path / "gt" / "f.png")
    with caplog.at_level(logging.INFO):
        (row,) = evaluate_predictions(out, tmp_path / "gt", objects_3d=True).images
    assert row["name"] == "f" and row["objects"] == len(np.unique(_truth()[6])) - 1
    predict_folder(local_net(), [tmp_path / "d" / "images" / "s.tif"], out, objects=True)
    with pytest.raises(UnetlabError, match="s_objects.tif: its objects are each plane's") as no:
        evaluate_predictions(out, truth, objects_3d=True)
    python = (  # each caller its own form (s55: both, "--objects-3d (objects_3d=False)")
        "(predict_folder(..., objects=True) without objects_3d: ids from 1 in every plane), not "
        "3-D ones: predict with objects_3d=True to score them in 3-D, or score these with "
        "objects_3d=False"
    )
    assert str(no.value).endswith(python)
    assert no.value.cli.endswith("score them in 3-D, or score these without --objects-3d")
    assert "(predict --instances without --objects-3d: ids" in no.value.cli


def test_a_stack_too_large_to_read_whole_names_predict_s_flag_not_evaluate_s(tmp_path, monkeypatch):
    """The memory rule streams a stack past sizing.WHOLE_BUDGET; predict's refusal said
    'read it whole with --large-pixels N', a flag evaluate has not (review s39)."""
    import unetlab.inference.sizing

    monkeypatch.setattr(unetlab.inference.sizing, "WHOLE_BUDGET", 1)
    _data(tmp_path / "d", _ball_stack(), _truth(), metadata={"axes": "ZYX"})
    with pytest.raises(UnetlabError) as error:
        evaluate_model(local_net().eval(), tmp_path / "d", objects_3d=True)
    said = first_line(error.value, cli=True)  # the command line's (s54: Python's keywords)
    assert "unetlab predict --instances --objects-3d --large-pixels N" in said
    assert "evaluate --pred P --gt MASKS --objects-3d" in said
    assert "large_threshold=N" in str(error.value) and "--" not in str(error.value)


def test_bare_pages_beside_a_tzyx_truth_name_saving_the_image_s_axes(tmp_path, caplog):
    """The image was read as 6 planes, after a warning naming --axes, then refused 'its
    pages are Z but those of ... TZ' (review s39). No --axes reads it either (one letter per
    axis of the file: its 6 pages are one): the refusal says so, and to save its axes."""
    _data(tmp_path / "d", np.concatenate([_ball_stack()[4:7]] * 2), _truth()[:6])
    tifffile.imwrite(
        tmp_path / "d" / "masks" / "s.tif",
        np.stack([_truth()[4:7]] * 2),
        metadata={"axes": "TZYX"},
    )
    with caplog.at_level(logging.WARNING), pytest.raises(UnetlabError) as error:
        evaluate_model(local_net().eval(), tmp_path / "d", objects_3d=True)
    said = str(error.value)
    assert "are TZ; save the image with its axes" in said and "'TZYX'" in said
    assert "again (axes= cannot say it: one letter per axis of the file" in said
    assert "again (--axes cannot say it: one" in error.value.cli  # each caller its form (s55)
    assert "--axes" not in caplog.text  # no warning before the refusal
    for axes in ("TZYX", "ZYX"):  # as it says: refused either way
        with pytest.raises(UnetlabError):
            evaluate_model(local_net().eval(), tmp_path / "d", objects_3d=True, axes=axes)


@pytest.mark.parametrize("lead", [(1, 13), (13, 1), (1, 1, 13), (1, 13, 1)])
def test_a_bare_4d_or_5d_stack_of_size_1_axes_is_its_truth_s_z_stack(tmp_path, caplog, lead):
    """tifffile's 4-D (1, Z, Y, X) or 5-D (1, 1, Z, Y, X) saved without axes beside a ZYX
    truth of as many planes: refused as '13 pages in 4 axes ... may hold time points or
    channels', though its other axes are 1; it is scored as the 3-D stack it is."""
    _data(tmp_path / "flat", _ball_stack(), _truth(), metadata={"axes": "ZYX"})
    want = evaluate_model(local_net().eval(), tmp_path / "flat", objects_3d=True).to_dict()
    _data(tmp_path / "d", _ball_stack(), _truth(), metadata={"axes": "ZYX"})
    bare = _ball_stack().reshape(*lead, 56, 72)  # tifffile records its shape, no axes
    tifffile.imwrite(tmp_path / "d" / "images" / "s.tif", bare)
    with caplog.at_level(logging.WARNING):
        got = evaluate_model(local_net().eval(), tmp_path / "d", objects_3d=True).to_dict()
    (row,) = got["images"]
    assert (row["name"], row["planes"]) == ("s", 13) and row["objects"] > 0
    assert {k: got[k] for k in ("miou", "object_f1")} == {k: want[k] for k in ("miou", "object_f1")}
    assert "time points or channels" not in caplog.text


def test_the_masks_own_nodata_counts_nowhere_in_3d(tmp_path):
    """The truth's GDAL_NODATA value (255, no object id beside 0/1) is scored nowhere in 3-D
    as on the 2-D --pred path; it was one more true object (review s54 C4: F1 0.67)."""
    truth = np.zeros((4, 32, 32), np.uint8)
    truth[:, 10:20, 10:20] = 1
    for sub in ("pred", "gt"):
        (tmp_path / sub).mkdir()
    tifffile.imwrite(tmp_path / "pred" / "a.tif", truth, imagej=True, metadata={"axes": "ZYX"})
    truth[:, :4] = 255
    tag = [(42113, "s", 0, "255", True)]
    how = dict(imagej=True, metadata={"axes": "ZYX"}, extratags=tag)
    tifffile.imwrite(tmp_path / "gt" / "a.tif", truth, **how)
    kw = dict(objects_3d=True, pred_instances=True)
    got = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", **kw).to_dict()
    assert (got["nodata_pixels"], got["objects"], got["object_f1"]) == (4 * 4 * 32, 1, 1.0)
    assert (got["nodata_pixels_truth"], got["nodata_pixels_pred"]) == (4 * 4 * 32, 0)  # s55


@pytest.mark.parametrize("lead, joined", [((1, 13), True), ((2, 13), False)])
def test_2d_evaluate_of_a_bare_4d_stack_says_what_objects_3d_does(tmp_path, caplog, lead, joined):
    """2-D evaluate of a bare (1, Z, Y, X) stack warned '--objects-3d refuses it' (predict's
    words), though evaluate --objects-3d reads it as its truth's Z stack since stop 54 (s55):
    it says so, and it is so; a (2, Z, Y, X) one, which it still refuses, is told so. The
    (1, Z, Y, X) one's line said its axes "may hold time points or channels" and to give
    CZYX or TZYX, which read its pages as Z planes too: it says they are Z planes (s55)."""
    planes = 13 * lead[0]
    _data(tmp_path / "d", _ball_stack(), _truth(planes), metadata={"axes": "ZYX"})
    image = np.concatenate([_ball_stack()] * lead[0]).reshape(*lead, 56, 72)
    tifffile.imwrite(tmp_path / "d" / "images" / "s.tif", image)
    with caplog.at_level(logging.WARNING):
        report = evaluate_model(local_net().eval(), tmp_path / "d", progress=False)
    assert len(report.images) == planes
    (said,) = [r.getMessage() for r in caplog.records if "no axis metadata" in r.getMessage()]
    reads = "its other axes of size 1, objects_3d=True reads its pages as "  # Python's words
    as_z = f"read as 13 Z planes, each predicted on its own ({reads}its truth's Z planes)"
    assert said.endswith(as_z) is joined, said
    assert ("objects_3d=True refuses it" in said) is not joined
    assert ("may hold time points or channels" in said) is not joined, said
    assert ("CZYX" in said or "TZYX" in said) is not joined, said  # no fix that reads the same
    if joined:  # as said: read as the truth's Z stack
        evaluate_model(local_net().eval(), tmp_path / "d", objects_3d=True, progress=False)
    else:
        with pytest.raises(UnetlabError, match="may hold time points or channels"):
            evaluate_model(local_net().eval(), tmp_path / "d", objects_3d=True, progress=False)


def test_the_masks_own_nodata_counts_nowhere_in_3d_with_the_checkpoint_too(tmp_path):
    """evaluate --checkpoint --objects-3d read the truth's GDAL_NODATA voxels (255) as one
    more true object (s55: 6 objects of 5, F1 0.55 -> 0.50), where --pred --objects-3d
    scores them nowhere since stop 54: the same figures as the truth without them."""
    _data(tmp_path / "d", _ball_stack(), _truth(), metadata={"axes": "ZYX"})
    truth = _truth()
    truth[:, :, :4] = 255  # no ball reaches these columns
    how = dict(metadata={"axes": "ZYX"}, extratags=[(42113, "s", 0, "255", True)])
    tifffile.imwrite(tmp_path / "d" / "masks" / "s.tif", truth, **how)
    got = evaluate_model(local_net().eval(), tmp_path / "d", objects_3d=True, progress=False)
    got = got.to_dict()
    assert (got["objects"], got["nodata_pixels_truth"]) == (5, 13 * 56 * 4)
    pred = tmp_path / "p"
    pred.mkdir()  # the scores --pred gives the same truth: no-data scored nowhere there too
    tifffile.imwrite(pred / "s_objects.tif", _truth(), metadata={"axes": "ZYX"})
    by_pred = evaluate_predictions(pred, tmp_path / "d" / "masks", objects_3d=True).to_dict()
    assert (by_pred["objects"], by_pred["nodata_pixels_truth"]) == (5, 13 * 56 * 4)


def test_a_binary_truth_tagged_no_data_at_its_foreground_keeps_its_objects(tmp_path):
    """2-D evaluate --checkpoint of an instance model on a 0/255 truth whose file tags 255 as
    no-data: read as no-data, every true object was lost without a word (review s55 F2:
    objects 3 -> 0, object F1 -> 0.0); the truth is read as training reads it, as the same
    mask without the tag."""
    truth = (_truth()[6] > 0).astype(np.uint8) * 255
    figures = []
    for name, tags in (("plain", ()), ("tagged", [(42113, "s", 0, "255", True)])):
        _data(tmp_path / name, _ball_stack()[6], truth)
        tifffile.imwrite(tmp_path / name / "masks" / "s.tif", truth, extratags=tags)
        report = evaluate_model(local_net().eval(), tmp_path / name, progress=False).to_dict()
        figures.append({k: report.get(k) for k in ("objects", "object_f1", "miou")})
    assert figures[1] == figures[0] and figures[0]["objects"] > 0


def test_a_3d_truth_whose_tag_names_all_its_objects_no_data_says_so(tmp_path, caplog):
    """evaluate --objects-3d of a 0/255 truth whose file tags 255 as no-data: every labelled
    voxel is no-data, so no true object is left; that was said nowhere (review s55 H3)."""
    truth = (_truth() > 0).astype(np.uint8) * 255
    _data(tmp_path / "d", _ball_stack(), truth, metadata={"axes": "ZYX"})
    tags = [(42113, "s", 0, "255", True)]
    tifffile.imwrite(
        tmp_path / "d" / "masks" / "s.tif", truth, metadata={"axes": "ZYX"}, extratags=tags
    )
    with caplog.at_level(logging.WARNING):
        report = evaluate_model(local_net().eval(), tmp_path / "d", objects_3d=True, progress=False)
    said = [r.getMessage() for r in caplog.records if "every labelled voxel" in r.getMessage()]
    assert len(said) == 1 and "names 255 no-data" in said[0] and report.to_dict()["objects"] == 0
    assert said[0].startswith(f"{tmp_path / 'd' / 'masks' / 's.tif'}: ")  # the file, not row s


def test_a_3d_truth_of_ids_whose_tag_takes_an_object_says_so_with_the_checkpoint(tmp_path, caplog):
    """evaluate_model(objects_3d=True) of ids 1..5 tagged GDAL_NODATA=1: object 1 counts
    nowhere, said once, naming the mask's file and the voxels it took, as evaluate --pred."""
    truth = _truth()
    _data(tmp_path / "d", _ball_stack(), truth, metadata={"axes": "ZYX"})
    mask = tmp_path / "d" / "masks" / "s.tif"
    tags = [(42113, "s", 0, "1", True)]
    tifffile.imwrite(mask, truth, metadata={"axes": "ZYX"}, extratags=tags)
    with caplog.at_level(logging.WARNING):
        report = evaluate_model(local_net().eval(), tmp_path / "d", objects_3d=True, progress=False)
    said = [r.getMessage() for r in caplog.records if "counts nowhere; if it is" in r.getMessage()]
    voxels = int(np.count_nonzero(truth == 1))
    assert report.to_dict()["nodata_pixels_truth"] == voxels
    assert said == [
        f"{mask}: its GDAL_NODATA tag names 1 no-data: object 1 ({voxels} voxels) counts "
        "nowhere; if it is an object, re-save the file without the tag to score it"
    ]
