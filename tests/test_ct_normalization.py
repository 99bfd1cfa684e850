"""nnU-Net's CT normalisation (``data.normalization.mode: ct``): clipped to the 0.5-99.5
percentiles of the training set's foreground, standardised with its mean and std; chosen by
the plan for CT (dataset.json, or Hounsfield units), recorded in the checkpoint, applied by
predict as by training."""

import json
import logging
import shlex

import numpy as np
import pytest
import tifffile

from tests.test_nifti import write_nifti
from tests.test_nifti_decathlon import TINY, _case, make_set
from unetlab import load_model, predict_image
from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data.fingerprint import Fingerprint, PairFacts
from unetlab.data.nifti import read_volume
from unetlab.data.normalize import check_keys, normalization_formula, normalize
from unetlab.errors import UnetlabError
from unetlab.plan.normalization import PERCENTILE_SPEC, plan_normalization
from unetlab.train.setup import prepare_data

MEASURED = {"mode": "ct", "lower": [-100.0], "upper": [300.0], "mean": [50.0], "std": [25.0]}


def test_ct_spec_clips_then_standardises():
    image = np.array([[-1024, 0], [50, 3000]], np.int16)
    out = normalize(image, MEASURED)
    expected = (np.clip(image, -100, 300).astype(np.float32) - 50) / 25
    np.testing.assert_allclose(out[0], expected)
    assert image[1, 1] == 3000  # the input is left alone
    assert check_keys({"mode": "ct"}) == {"mode": "ct"}  # training measures the rest
    with pytest.raises(UnetlabError, match="mode ct takes all of lower, upper, mean, std"):
        check_keys({"mode": "ct", "lower": [0.0]})
    with pytest.raises(UnetlabError, match="holds no statistics: training measures them"):
        normalize(image, {"mode": "ct"})
    assert "min(max(x, lower_c), upper_c)" in normalization_formula(MEASURED)


def _facts(image: str, dtype="int16", low=-1000.0, high=900.0) -> PairFacts:
    return PairFacts(
        name="x",
        height=8,
        width=8,
        channels=1,
        dtype=dtype,
        low=(low,),
        median=(40.0,),
        high=(high,),
        values=(0, 1),
        counts=(60, 4),
        image=image,
    )


@pytest.mark.parametrize(
    ("said", "dtype", "low", "ct"),
    [
        ({"modality": {"0": "CT"}}, "uint16", 0.0, "CT (dataset.json says so)"),
        ({"channel_names": {"0": "CT"}}, "int16", -1000.0, "CT (dataset.json says so)"),
        ({"modality": {"0": "MRI"}}, "int16", -1000.0, None),
        (None, "int16", -1024.0, "CT-like: 2 of 2 images are NIfTI int16 of -1024 to 900"),
        (None, "float32", -1000.0, "CT-like"),
        (None, "int16", -200.0, None),  # signed, but no air: not Hounsfield units
        (None, "uint16", 0.0, None),
    ],
)
def test_plan_picks_ct_with_its_reason(tmp_path, said, dtype, low, ct):
    (tmp_path / "imagesTr").mkdir()
    if said is not None:
        (tmp_path / "dataset.json").write_text(json.dumps(said))
    image = str(tmp_path / "imagesTr" / "a.nii.gz")
    choice = plan_normalization(Fingerprint([_facts(image, dtype, low)] * 2))
    if ct is None:
        assert choice.value["mode"] != "ct"
    else:
        assert choice.value == {"mode": "ct", "low": 0.5, "high": 99.5}
        assert choice.reason.startswith(ct) and "nnU-Net's CT normalisation" in choice.reason


@pytest.mark.parametrize(
    ("image", "dtype", "low", "high", "mode"),
    [
        ("tomogram.tif", "int16", -1024.0, 900.0, "percentile"),  # a microscope's signed TIFF
        ("tomogram.rec", "int16", -1024.0, 900.0, "percentile"),  # IMOD's MRC
        ("tomogram.mrc", "float32", -1000.0, 800.0, "per_image"),
        ("difference.tif", "float32", -1000.0, 900.0, "per_image"),
        ("wrapped.nii.gz", "int16", -30235.0, 900.0, "percentile"),  # uint16 counts wrapped
        ("phase.nii.gz", "float32", -1000.0, 30000.0, "percentile"),  # far above bone
    ],
)
def test_signed_microscopy_is_not_taken_for_ct(image, dtype, low, high, mode):
    """Only a NIfTI volume (medical) in Hounsfield units (0.5th percentile -3100 to -900,
    99.5th at most 4100) is CT by its values: signed microscopy TIFFs and MRC tomograms keep
    the choice of main (ct failed on their new images: test mIoU 0.065 against 0.883, s71
    review)."""
    facts = _facts(image, dtype, low, high)
    assert plan_normalization(Fingerprint([facts] * 2)).value["mode"] == mode  # main's


def test_the_ct_line_names_the_setting_that_gives_the_other_choice(tmp_path, caplog):
    """The plan's CT line names the one --set that gives what it chooses for images that are
    not CT, every key of it (the mode alone lost ignore_saturated and camera_ceiling)."""
    root = make_set(tmp_path / "Task09_Spleen")
    caplog.set_level(logging.INFO)
    assert main(["train", "--data", str(root), "--check", *TINY[1:]]) == 0  # planned
    line = next(r.getMessage() for r in caplog.records if "CT (dataset.json" in r.getMessage())
    back = line.split("if they are not CT, --set ")[1].split(" gives")[0]
    restored = load_config(None, [shlex.split(back)[0]]).data.normalization
    assert restored == PERCENTILE_SPEC  # int16: each image's percentiles, as main chose


@pytest.mark.usefixtures("one_thread")
def test_trained_ct_stats_recorded_and_predict_clips(tmp_path, caplog):
    """The checkpoint records the foreground's percentiles, mean and std of the training
    volumes; predict clips an image to them as training did (a voxel far above ``upper``
    is predicted as one at ``upper``)."""
    root = make_set(tmp_path / "Task09_Spleen")
    run = tmp_path / "run"
    ct = ["--set", "data.normalization.mode=ct", "--set", "data.val_fraction=0"]
    assert main(["train", "--data", str(root), "--run-dir", str(run), *TINY, *ct]) == 0
    model = load_model(run / "checkpoints" / "last.pt")
    spec = model.normalization
    volumes = [
        read_volume(root / d / f"spleen_{i}.nii.gz")
        for i in (1, 2, 3)
        for d in ("imagesTr", "labelsTr")
    ]
    labelled = np.concatenate([v[m != 0] for v, m in zip(volumes[::2], volumes[1::2])])
    lower, upper = np.percentile(labelled.astype(np.float64), [0.5, 99.5])
    assert spec["mode"] == "ct"
    np.testing.assert_allclose(spec["lower"] + spec["upper"], [lower, upper])
    np.testing.assert_allclose(spec["mean"] + spec["std"], [labelled.mean(), labelled.std()])
    image = _case(5)[0][:, :, 0].T.copy()
    image[10:20, 10:20] = 3000  # far above the foreground's upper percentile
    at_upper = image.copy()
    at_upper[10:20, 10:20] = int(np.ceil(spec["upper"][0]))
    np.testing.assert_allclose(predict_image(model, image), predict_image(model, at_upper))


def test_a_slice_with_no_label_is_left_out_of_the_statistics(tmp_path, caplog):
    """A volume's slices above and below the organ hold no labelled voxel: they add none to
    the foreground (a slice of none was a ValueError said as a bug, s71)."""
    root = make_set(tmp_path / "Task09_Spleen")
    ct, labels = _case(0)
    labels[:, :, 0] = 0  # slice 0 of spleen_1: no organ, no bone
    write_nifti(root / "labelsTr" / "spleen_1.nii.gz", labels)
    ct_mode = ["--set", "data.normalization.mode=ct", "--set", "data.val_fraction=0"]
    caplog.set_level(logging.INFO)
    assert main(["train", "--data", str(root), "--check", *TINY, *ct_mode]) == 0
    said = [r.getMessage() for r in caplog.records if "clipped to the 0.5-99.5" in r.getMessage()]
    assert len(said) == 1 and "of the 9 training images" in said[0]


def _ct_slices(root, *, background=0, organ=1, ignored=None, nodata=None):
    """images/ + masks/ of two 32 px int16 CT slices (TIFF): air (-1000) around soft tissue
    (20), an organ (40, mask value ``organ``; the rest ``background``), a 3000 HU pixel of
    bone outside it; ``ignored``: a mask value over a block of air, ``nodata``: a value held by
    a tenth of the organ's pixels. Returns the organ's pixels as training should measure them."""
    rng = np.random.default_rng(0)
    kept = []
    for folder in ("images", "masks"):
        (root / folder).mkdir(parents=True)
    for i in range(2):
        hu = np.full((32, 32), -1000.0)
        hu[4:28, 4:28] = rng.normal(20, 5, (24, 24))
        hu[10:20, 10:20] = rng.normal(40, 5, (10, 10))
        hu[24, 24] = 3000
        mask = np.full((32, 32), background, np.uint8)
        mask[10:20, 10:20] = organ
        if ignored is not None:
            mask[:4, :16] = ignored
        if nodata is not None:
            hu[10:20, 10] = nodata
        tifffile.imwrite(root / "images" / f"{i}.tif", hu.astype(np.int16))
        tifffile.imwrite(root / "masks" / f"{i}.tif", mask)
        inside = (mask == organ) & (hu != nodata)
        kept.append(hu.astype(np.int16)[inside].astype(np.float64))
    return np.concatenate(kept)


def _ct_data(root, *more):
    """prepare_data of ``root`` in mode ct, both images training."""
    sets = ["data.normalization.mode=ct", "data.val_fraction=0", "data.weight_map=false"]
    return prepare_data(load_config(None, [f"data.root={root}", *sets, *more]))


@pytest.mark.parametrize(
    ("masks", "more"),
    [
        (dict(background=1, organ=2), []),  # the background's mask value is 1, not 0
        (dict(ignored=255), ["data.ignore_value=255"]),  # over air
        (dict(nodata=-2000), ["data.nodata=-2000"]),  # a tenth of the organ
    ],
    ids=["background_1", "ignored", "nodata"],
)
def test_ct_statistics_are_the_foregrounds(tmp_path, masks, more):
    """The foreground whose percentiles, mean and std ct takes is the pixels of the classes
    training learns other than the background: not the mask value training maps to the
    background class (1 of masks 1/2: "-1024 to 1070, mean -584.7" over the whole image
    where the organ's is "12 to 65, mean 38.8", s71 review), nor the ignored value, nor
    no-data."""
    organ = _ct_slices(tmp_path / "data", **masks)
    spec = _ct_data(tmp_path / "data", *more).normalization
    lower, upper = np.percentile(organ, [0.5, 99.5])
    np.testing.assert_allclose(spec["lower"] + spec["upper"], [lower, upper])
    np.testing.assert_allclose(spec["mean"] + spec["std"], [organ.mean(), organ.std()])


def test_a_training_sample_is_clipped_to_the_foregrounds_percentiles(tmp_path):
    """The 3000 HU bone pixel of a training sample is the foreground's upper percentile
    standardised, as predict sees it: training clips as predict does."""
    _ct_slices(tmp_path / "data")
    data = _ct_data(tmp_path / "data")
    spec, sample = data.normalization, data.train[0]
    at_upper = (spec["upper"][0] - spec["mean"][0]) / spec["std"][0]
    assert sample.image[0, 24, 24] == pytest.approx(at_upper, rel=1e-5)
    assert sample.image[0, 0, 0] == pytest.approx(sample.image.min())  # air: lower's
