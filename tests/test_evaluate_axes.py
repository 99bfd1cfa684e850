"""``evaluate --axes``: the axes of TIFF images (and of their masks) that record none or wrong
ones, as ``predict --axes`` reads them, so that a stack predict needed ``--axes ZYX`` for is
scored by ``evaluate --checkpoint`` as ``predict --axes`` + ``evaluate --pred`` score it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import torch
from scipy import ndimage

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.evaluate import evaluate_model

#: the figures both ways of scoring give
FIGURES = ("miou", "pixel_accuracy", "rand_error", "information_score", "object_f1", "dsb")


@pytest.fixture
def stack(tmp_path):
    """A checkpoint and a data folder of one 5-plane stack and its masks, both saved as
    ImageJ TIFFs without axes (read as one image of 5 channels), and the masks again with
    their axes (ZYX) for evaluate --pred."""
    torch.manual_seed(0)
    save_model(tmp_path / "c.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    image = np.random.default_rng(0).integers(0, 255, (5, 24, 20), dtype=np.uint8)
    mask = (image > 128).astype(np.uint8)
    for sub in ("data/images", "data/masks", "gt"):
        (tmp_path / sub).mkdir(parents=True)
    tifffile.imwrite(tmp_path / "data/images/s.tif", image, imagej=True)
    tifffile.imwrite(tmp_path / "data/masks/s.tif", mask, imagej=True)
    tifffile.imwrite(tmp_path / "gt/s.tif", mask, metadata={"axes": "ZYX"})
    return tmp_path


def _scores(path) -> dict:
    report = json.loads(path.read_text())
    rows = [(row["name"], row["miou"], row["pred_objects"]) for row in report["images"]]
    return {name: report[name] for name in FIGURES} | {"rows": rows}


def test_a_stack_without_axes_given_zyx_scores_as_predict_axes_then_pred(stack, capsys):
    model = ["evaluate", "--checkpoint", str(stack / "c.pt"), "--data", str(stack / "data")]
    assert main(model) == 2  # read as one 5-channel image: its mask refused
    assert main([*model, "--axes", "ZYX", "--json", str(stack / "a.json")]) == 0
    predict = ["predict", "--checkpoint", str(stack / "c.pt"), "--instances", "--axes", "ZYX"]
    assert (
        main([*predict, "--input", str(stack / "data/images"), "--output", str(stack / "o")]) == 0
    )
    pred = ["evaluate", "--pred", str(stack / "o"), "--gt", str(stack / "gt")]
    assert main([*pred, "--json", str(stack / "b.json")]) == 0
    got, want = _scores(stack / "a.json"), _scores(stack / "b.json")
    assert len(got["rows"]) == 5 and got == want


def test_evaluate_model_takes_the_axes_too(stack):
    report = evaluate_model(str(stack / "c.pt"), stack / "data", axes="zyx", device="cpu")
    assert [row["name"] for row in report.images] == [f"s[{p}]" for p in range(5)]


@pytest.mark.parametrize(
    ("axes", "said"),
    [("ZXY", "puts X before Y"), ("ZZYX", "give each axis once"), ("ZYXW", "give each axis")],
)
def test_a_bad_axes_value_is_one_line_before_the_checkpoint_loads(stack, capsys, axes, said):
    missing = str(stack / "none.pt")  # not read: the value is refused first
    assert (
        main(["evaluate", "--checkpoint", missing, "--data", str(stack / "data"), "--axes", axes])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0] and f"--axes {axes}" in err[0]


def test_axes_with_pred_is_refused_naming_predict(stack, capsys):
    pred = ["evaluate", "--pred", str(stack / "data/images"), "--gt", str(stack / "gt")]
    assert main([*pred, "--axes", "ZYX"]) == 2
    assert "give it to unetlab predict" in capsys.readouterr().err


def test_objects_3d_read_the_stack_and_its_truth_as_given(stack):
    """Scored in 3-D: the image predicted with the given axes, its truth read with them,
    one row of 5 planes (the truth records none: its pages are Z as given)."""
    report = evaluate_model(
        str(stack / "c.pt"), stack / "data", axes="ZYX", objects_3d=True, device="cpu"
    )
    (row,) = report.images
    assert (row["name"], row["planes"]) == ("s", 5)


def test_a_prediction_saved_as_an_imagej_stack_without_axes_is_its_truth_s_planes(stack, capsys):
    """A class map of another tool saved as an ImageJ stack without axes (read as CYX)
    beside its ZYX truth of as many planes was refused as 'one image of 5 channels ...
    give evaluate --axes ZYX', which --pred refuses: a prediction holds one value a pixel,
    so its 5 channels are the truth's 5 planes, scored page by page and as one volume."""
    truth = tifffile.imread(stack / "gt/s.tif")
    (stack / "p").mkdir()
    tifffile.imwrite(stack / "p/s.tif", truth, imagej=True)
    with tifffile.TiffFile(stack / "p/s.tif") as tif:
        assert tif.series[0].axes == "CYX"  # as the file says
    pred = ["evaluate", "--pred", str(stack / "p"), "--gt", str(stack / "gt")]
    assert main([*pred, "--json", str(stack / "a.json")]) == 0
    report = json.loads((stack / "a.json").read_text())
    assert len(report["images"]) == 5 and report["miou"] == 1.0
    volume = [*pred, "--objects-3d", "--pred-instances", "--gt-instances"]
    assert main([*volume, "--json", str(stack / "b.json")]) == 0
    report = json.loads((stack / "b.json").read_text())
    assert len(report["images"]) == 1  # one volume; its binary truth's objects: its
    # 3-D components (s57, as 2-D reads a binary truth), the class map's ids as they are;
    # face-connected (6-way), as 2-D's default 4-connectivity (3-D refuses 8): s57 review
    faces = ndimage.generate_binary_structure(3, 1)
    parts = int(ndimage.label(truth > 0, faces)[1])
    assert (report["objects"], report["pred_objects"]) == (parts, 1) and parts > 1


def test_a_prediction_that_records_cyx_is_one_image_of_channels_not_planes(stack, caplog):
    """A prediction whose file records its axes as CYX (tifffile's axes) beside a ZYX
    truth was scored as its planes, unsaid (review s54 C3); it is refused in one line, as
    before. An ImageJ stack tifffile saved without axes is read as the planes, said once."""
    import logging

    from unetlab.errors import UnetlabError
    from unetlab.evaluate import evaluate_predictions

    truth = tifffile.imread(stack / "gt/s.tif")
    (stack / "p").mkdir()
    tifffile.imwrite(stack / "p/s.tif", truth, metadata={"axes": "CYX"})
    with pytest.raises(UnetlabError, match="one image of 5 channels"):
        evaluate_predictions(stack / "p", stack / "gt")
    tifffile.imwrite(stack / "p/s.tif", truth, imagej=True)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        report = evaluate_predictions(stack / "p", stack / "gt")
    assert len(report.images) == 5 and report.to_dict()["miou"] == 1.0
    said = [r.getMessage() for r in caplog.records if "pages record no axes (CYX" in r.getMessage()]
    assert len(said) == 1 and "read as the 5 planes of its ground truth" in said[0]
    # s55: it names the file, why its file cannot say (imagej=True given 'CYX' writes the
    # same bytes), and the save that says it; saved so, it is read as planes unsaid
    assert (
        said[0].startswith(f"{stack / 'p' / 's.tif'}: ")
        and "given no axes or axes 'CYX'" in said[0]
    )
    fix = "tifffile.imwrite(..., imagej=True, metadata={'axes': 'ZYX'})"
    assert said[0].endswith(f"save it with its axes ({fix})")
    tifffile.imwrite(stack / "p/s.tif", truth, imagej=True, metadata={"axes": "ZYX"})
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="unetlab"):
        again = evaluate_predictions(stack / "p", stack / "gt")
    assert again.to_dict()["miou"] == 1.0 and "record no axes" not in caplog.text


def test_planes_read_as_channels_are_told_a_fix_each_command_takes(stack, capsys):
    """A mask or prediction read as one image of 5 channels was told to give 'evaluate
    --axes ZYX' with --pred, which refuses --axes (s54): --pred (and evaluate_predictions)
    is told to save the file with its axes or to score the checkpoint with --axes; evaluate
    --checkpoint --data is still told its --axes."""
    from unetlab.errors import ImageReadError
    from unetlab.evaluate import evaluate_predictions

    truth = tifffile.imread(stack / "gt/s.tif")
    (stack / "p").mkdir()
    tifffile.imwrite(stack / "p/s.tif", truth, metadata={"axes": "CYX"})  # the prediction
    save = "if they are planes, save the file with its axes (tifffile.imwrite("
    for pred, gt, refused in (("p", "gt", "p"), ("gt", "data/masks", "data/masks")):
        assert main(["evaluate", "--pred", str(stack / pred), "--gt", str(stack / gt)]) == 2
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert f"{stack / refused / 's.tif'}: this mask is read as one image of 5 channels" in line
        assert save in line and "evaluate --axes" not in line, line
        assert line.endswith("unetlab evaluate --checkpoint CKPT --data DIR --axes ZYX"), line
        with pytest.raises(ImageReadError) as got:
            evaluate_predictions(stack / pred, stack / gt)
        assert save in str(got.value) and "--" not in str(got.value), got.value
        assert str(got.value).endswith("evaluate_model(checkpoint, data_dir, axes='ZYX')")
    volume = ["--objects-3d", "--pred-instances", "--gt-instances"]
    assert main(["evaluate", "--pred", str(stack / "p"), "--gt", str(stack / "gt"), *volume]) == 2
    assert save in capsys.readouterr().err
    model = ["evaluate", "--checkpoint", str(stack / "c.pt"), "--data", str(stack / "data")]
    assert main(model) == 2
    assert "evaluate --axes ZYX (TYX for time points)" in capsys.readouterr().err


def test_a_channels_mask_error_survives_a_pickle():
    # review s54 (6): it took (path, channels), so unpickling it (an error sent between
    # processes) raised TypeError instead of its one line
    import pickle
    from pathlib import Path

    from unetlab.data.io import ChannelsMaskError

    error = ChannelsMaskError(Path("m.tif"), 5)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is ChannelsMaskError and str(again) == str(error)
    assert again.problem == error.problem
