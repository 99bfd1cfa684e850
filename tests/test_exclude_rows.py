"""data.exclude_rows / --exclude-rows: rows of every image that are not sample (an SEM data
bar) left out of normalisation, loss, prediction, objects and scores (audit s31 grains 2-4)."""

from __future__ import annotations

import logging
import shlex

import numpy as np
import pytest
import tifffile
import torch

from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data.datasets import load_instance_samples, load_samples
from unetlab.data.exclude import (
    blank_probabilities,
    check_exclude_rows,
    drop_mostly_excluded,
    excluded_rows,
    flag_cut_objects,
    kept_rows,
    mirrored,
)
from unetlab.data.io import read_image, write_png, write_tiff
from unetlab.data.labels import IGNORE_INDEX
from unetlab.data.normalize import apply_stats, image_stats
from unetlab.data.pairs import find_pairs
from unetlab.errors import UnetlabError, command_spelling
from unetlab.evaluate import evaluate_model, evaluate_predictions
from unetlab.inference.measure import object_table
from unetlab.inference.predict import PredictOptions, model_stats, predict_image
from unetlab.models import UNet

BAR = 8  # the bottom 8 rows of a 64 x 64 image: a bright data bar


def _bar_image(seed: int = 0, dtype=np.uint16) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(800, 1600, (64, 64)).astype(dtype)
    image[-BAR:] = np.iinfo(dtype).max  # the bar's white text and frame
    image[-BAR:, ::4] = 0
    return image


def _data(root, masks: dict, dtype=np.uint16):
    for k, (name, mask) in enumerate(masks.items()):
        write_tiff(root / "images" / f"{name}.tif", _bar_image(k, dtype))
        write_png(root / "masks" / f"{name}.png", mask)
    return root


@pytest.mark.parametrize(
    ("given", "rows"),
    [
        ({"bottom": 26}, (0, 26)),
        ({"top": 3, "bottom": 0.1}, (3, 0.1)),
        ("bottom=26", (0, 26)),
        ("top=2,bottom=0.1", (2, 0.1)),
        ((1, 2), (1, 2)),
        ({"bottom": 26.0}, (0, 26)),
        ("none", None),
        ({"top": 0, "bottom": 0}, None),
        (None, None),
    ],
)
def test_forms_of_the_region(given, rows):
    assert check_exclude_rows(given) == rows


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"bottm": 2}, r"unknown edge 'bottm': the edges are top and bottom"),
        ("bottom:26", r"'bottom:26' is not EDGE=ROWS: give e.g. bottom=26"),
        ({"bottom": -1}, r"-1 rows: give 0 or more"),
        ({"bottom": 1.5}, r"neither a whole number of rows nor a share below 1"),
        ({"top": 0.5, "bottom": 0.5}, r"leave no rows"),
        ("bottom=x", r"'x' is not a number of rows or a share"),
    ],
)
def test_bad_regions_are_one_line_naming_the_form(given, message):
    with pytest.raises(UnetlabError, match=message):
        check_exclude_rows(given)


def test_shares_round_up_and_a_region_that_leaves_nothing_is_refused():
    assert excluded_rows((0, 0.1), 256) == (0, 26)  # 25.6 rows: the bar's last row too
    assert excluded_rows((2, 0.1), 384) == (2, 39)
    with pytest.raises(UnetlabError, match=r"a.tif: exclude_rows top=30,bottom=34 leaves none"):
        excluded_rows((30, 34), 64, "a.tif")


@pytest.mark.parametrize(
    "spec",
    [
        {"mode": "per_image"},
        {"mode": "percentile", "low": 1, "high": 99.8},
    ],
)
def test_training_normalises_by_the_kept_rows_and_ignores_the_bar(tmp_path, spec):
    """The statistics of an image with its bar excluded are those of the image cropped;
    the bar's mask pixels are ignored (no loss, no metric)."""
    mask = np.zeros((64, 64), np.uint8)
    mask[10:20, 10:20] = 255
    mask[-BAR:] = 255  # the bar drawn as "object" in the masks: ignored anyway
    pairs = find_pairs(_data(tmp_path, {"a": mask}))
    (sample,) = load_samples(
        pairs, label_values=[0, 255], normalization=spec, exclude_rows={"bottom": BAR}
    )
    image = _bar_image(0)
    mean, std = image_stats(image[:-BAR], spec)
    np.testing.assert_allclose(sample.image[:, :-BAR], apply_stats(image, mean, std)[:, :-BAR])
    np.testing.assert_allclose(sample.contrast, std)
    mirror = image[-BAR - 2 : -2 * BAR - 2 : -1]  # the rows above the bar, mirrored
    np.testing.assert_allclose(sample.image[0, -BAR:], apply_stats(mirror, mean, std)[0])
    assert (sample.mask[-BAR:] == IGNORE_INDEX).all()
    assert (sample.mask[:-BAR] >= 0).all() and sample.mask[15, 15] == 1
    (plain,) = load_samples(pairs, label_values=[0, 255], normalization=spec)
    assert not np.allclose(plain.image, sample.image)  # without: the bar moves the statistics


def test_instance_masks_with_the_bar_as_one_id_train_no_bar_object(tmp_path):
    """Finding 8's masks (the bar is id 65535 in every mask): with the rows excluded it is
    no object, its pixels ignored, and object sizes leave it out."""
    ids = np.zeros((64, 64), np.uint16)
    ids[5:15, 5:15] = 1
    ids[30:40, 30:40] = 2
    ids[-BAR:] = 65535
    root = tmp_path / "d"
    for name in ("a", "b"):
        write_tiff(root / "images" / f"{name}.tif", _bar_image())
        write_tiff(root / "masks" / f"{name}.tif", ids)
    spec = {"mode": "per_image"}
    pairs = find_pairs(root)
    samples, stats = load_instance_samples(pairs, normalization=spec, exclude_rows=(0, BAR))
    assert stats["count"] == 4 and stats["area_median"] == 100
    assert all((s.mask[-BAR:] == IGNORE_INDEX).all() for s in samples)
    samples, with_bar = load_instance_samples(pairs, normalization=spec)
    assert all((s.mask[-BAR:] > 0).all() for s in samples)  # the bar is an object per image,
    assert with_bar["count"] == 4  # as before, but on the image edge: cut, it sizes nothing


def test_the_loss_ignores_the_excluded_rows(tmp_path):
    from unetlab.losses import build_loss

    mask = np.zeros((64, 64), np.uint8)
    mask[-BAR:] = 255
    (sample,) = load_samples(
        find_pairs(_data(tmp_path, {"a": mask})),
        label_values=[0, 255],
        normalization={"mode": "per_image"},
        exclude_rows="bottom=8",
    )
    target = torch.from_numpy(sample.mask)[None]
    logits = torch.zeros(1, 2, 64, 64)
    logits[:, 0, :-BAR] = 5.0  # right outside the bar
    wrong = logits.clone()
    wrong[:, 0, -BAR:] = -50.0  # the bar predicted anything: no change
    loss = build_loss("ce")
    assert float(loss(logits, target)) == pytest.approx(float(loss(wrong, target)))


def _net(classes=2, **records):
    torch.manual_seed(0)
    model = UNet(1, classes, depth=2, base_channels=4, padding="same").eval()
    model.classes = ["background", "cell"] if classes == 2 else ["bg", "boundary", "interior"]
    model.label_values = [0, 255] if classes == 2 else None
    for key, value in records.items():
        setattr(model, key, value)
    return model


def test_predict_normalises_by_the_kept_rows_and_writes_background_in_the_bar():
    model = _net()
    image = _bar_image()
    probs = predict_image(model, image, exclude_rows={"bottom": BAR})
    assert (probs[0, -BAR:] == 1).all() and (probs[1, -BAR:] == 0).all()
    from unetlab.inference.predict import predict_fitted

    cropped = model_stats(model, image[:-BAR, :, None])
    filled = mirrored(image, (0, BAR))  # the bar filled with the rows above it, mirrored
    by_crop = predict_fitted(model, filled[:, :, None], stats=cropped)
    np.testing.assert_allclose(probs[:, :-BAR], by_crop[:, :-BAR], atol=1e-6)
    plain = predict_image(model, image)
    assert not np.allclose(plain[:, :-BAR], probs[:, :-BAR], atol=1e-4)


def test_what_lies_in_the_region_changes_nothing_elsewhere(tmp_path):
    """The net sees the rows beside the bar mirrored into it, in prediction and training:
    bar text (saturated or not) changes no probability and no training input."""
    model = _net()
    image = _bar_image()
    other = image.copy()
    other[-BAR:] = 0
    other[-3:, 10:40] = 65535
    rows = {"bottom": BAR}
    np.testing.assert_array_equal(
        predict_image(model, image, exclude_rows=rows),
        predict_image(model, other, exclude_rows=rows),
    )
    write_tiff(tmp_path / "a" / "images" / "x.tif", image)
    write_tiff(tmp_path / "b" / "images" / "x.tif", other)
    for root in ("a", "b"):
        write_png(tmp_path / root / "masks" / "x.png", np.zeros((64, 64), np.uint8))
    spec = {"mode": "percentile", "low": 1, "high": 99.8}
    a, b = (
        load_samples(
            find_pairs(tmp_path / r), label_values=[0], normalization=spec, exclude_rows=rows
        )[0]
        for r in ("a", "b")
    )
    np.testing.assert_array_equal(a.image, b.image)


def test_the_background_is_the_models_background_class():
    probs = np.full((3, 6, 4), 1 / 3, np.float32)
    blank_probabilities(probs, (1, 2), background=2)
    assert (probs[2, :1] == 1).all() and (probs[:2, -2:] == 0).all()
    assert (probs[:, 1:4] == np.float32(1 / 3)).all()
    sigmoid = np.full((1, 6, 4), 0.7, np.float32)
    blank_probabilities(sigmoid, (0, 2))
    assert (sigmoid[0, -2:] == 0).all() and (sigmoid[0, :4] == np.float32(0.7)).all()


def test_the_checkpoint_records_the_region_and_predict_uses_it_unless_told(tmp_path):
    from unetlab.checkpoint import load_model, save_model

    save_model(
        tmp_path / "m.pt", _net(), train_config={"data": {"exclude_rows": {"top": 0, "bottom": 8}}}
    )
    model = load_model(tmp_path / "m.pt")
    assert PredictOptions.for_model(model).exclude_rows == (0, 8)
    assert PredictOptions.for_model(model, exclude_rows="bottom=4").exclude_rows == (0, 4)
    assert PredictOptions.for_model(model, exclude_rows="none").exclude_rows == ()
    assert PredictOptions.for_model(_net()).exclude_rows is None  # trained with none
    probs = predict_image(model, _bar_image())
    assert (probs[0, -8:] == 1).all()
    told = predict_image(model, _bar_image(), exclude_rows="none")
    assert not (told[0, -8:] == 1).all()


def test_objects_cut_by_the_region_touch_the_border():
    ids = np.zeros((20, 10), np.int32)
    ids[2:6, 2:6] = 1  # inside
    ids[12:16, 2:6] = 2  # reaches row 16: the bar starts there
    ids[0:3, 7:9] = 3  # the image's top edge
    table = object_table(ids)
    flagged = flag_cut_objects(table, (0, 4), height=20)
    assert list(table["touches_border"]) == [False, False, True]
    assert list(flagged["touches_border"]) == [False, True, True]
    assert list(flag_cut_objects(table, (3, 0), 20)["touches_border"]) == [True, False, True]


def test_objects_mostly_in_the_region_are_dropped():
    ids = np.zeros((10, 4), np.int32)
    ids[1:3] = 1
    ids[6:8] = 2  # 2 of its 8 px in the bar (rows 7-9 with bottom=3): kept, cut
    ids[7:10, :2] = 3  # wholly inside
    ids[5:10, 3] = 4  # 3 of 5 inside: dropped
    bar = np.zeros((10, 4), bool)
    bar[7:] = True
    out = drop_mostly_excluded(ids, bar)
    assert sorted(np.unique(out).tolist()) == [0, 1, 2] and (out[7:] == 0).all()
    assert (out[6] == [2, 2, 2, 0]).all()


def test_predict_file_and_command_line(tmp_path, capsys, caplog):
    """The command's flag: background labels in the bar, the checkpoint's region by default
    and the flag overriding it; a bad flag is one line."""
    from unetlab.checkpoint import save_model

    write_tiff(tmp_path / "in" / "a.tif", _bar_image())
    save_model(tmp_path / "m.pt", _net(), train_config={"data": {"exclude_rows": {"bottom": 8}}})
    base = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    with caplog.at_level(logging.INFO):
        assert main([*base, "--output", str(tmp_path / "o1"), "--save-probabilities"]) == 0
    said = caplog.text
    assert "rows left out of every image: top=0,bottom=8 (the checkpoint's" in said
    assert "in px: for images of another height" in said
    labels = read_image(tmp_path / "o1" / "a.png")
    probs = tifffile.imread(tmp_path / "o1" / "a_prob.tif")
    assert (labels[-BAR:] == 0).all() and probs.shape == (2, 64, 64)
    assert (probs[0, -BAR:] == 1).all() and (probs[1, -BAR:] == 0).all()
    out = tmp_path / "o2"
    assert (
        main([*base, "--output", str(out), "--save-probabilities", "--exclude-rows", "none"]) == 0
    )
    assert not (tifffile.imread(out / "a_prob.tif")[0, -BAR:] == 1).all()
    capsys.readouterr()
    bad = [*base, "--output", str(tmp_path / "o3"), "--exclude-rows", "bottom:8"]
    assert main(bad) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not EDGE=ROWS" in err[0]


def test_evaluate_scores_nothing_in_the_region(tmp_path):
    """Predictions wrong only in the bar: perfect with the region excluded, given to
    evaluate_predictions or recorded by the model evaluate_model predicts with."""
    gt = np.zeros((64, 64), np.uint8)
    gt[10:20, 10:20] = 1
    gt[-BAR:] = 1  # the bar as one big "object" in the masks
    pred = gt.copy()
    pred[-BAR:] = 0
    pred[-BAR + 2 :, 30:34] = 1  # and a small "object" the net made in the bar
    write_png(tmp_path / "gt" / "a.png", gt)
    write_png(tmp_path / "pred" / "a.png", pred)
    plain = evaluate_predictions(tmp_path / "pred", tmp_path / "gt").to_dict()
    assert plain["miou"] < 0.9
    report = evaluate_predictions(tmp_path / "pred", tmp_path / "gt", exclude_rows="bottom=8")
    d = report.to_dict()
    assert d["miou"] == 1.0 and d["ignored_pixels"] == 64 * BAR
    assert report.source["exclude_rows"] == {"top": 0, "bottom": BAR}
    data = tmp_path / "data"
    write_tiff(data / "images" / "a.tif", _bar_image())
    write_png(data / "masks" / "a.png", np.where(gt > 0, 255, 0).astype(np.uint8))
    model = _net(training_data={"exclude_rows": {"bottom": BAR}})
    scored = evaluate_model(model, data, objects=True)
    assert scored.source["exclude_rows"] == {"top": 0, "bottom": BAR}
    assert scored.to_dict()["ignored_pixels"] == 64 * BAR
    none = evaluate_model(model, data, exclude_rows="none", objects=True)
    assert none.to_dict()["ignored_pixels"] == 0 and none.source["exclude_rows"] is None


def test_kept_rows_is_a_view():
    image = _bar_image()
    kept = kept_rows(image, (2, BAR))
    assert kept.shape == (64 - 2 - BAR, 64) and np.shares_memory(kept, image)
    assert kept_rows(image, None) is image


def test_the_plan_names_a_bar_drawn_into_every_mask(tmp_path):
    """Finding 8: one id filling the bottom rows of every instance mask is named, with the
    rows to exclude; not once they are excluded, nor for masks without it."""
    from unetlab.plan.bar import bar_note, edge_bands

    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):
        ids = rng.integers(0, 40, (64, 64)).astype(np.uint16)
        ids[-BAR - k if (k := ord(name) - 97) else -BAR :] = 65535  # 8, 9 and 10 rows
        write_tiff(tmp_path / "images" / f"{name}.tif", _bar_image())
        write_tiff(tmp_path / "masks" / f"{name}.tif", ids)
    pairs = find_pairs(tmp_path)
    assert edge_bands(np.full((4, 3), 7)) == {"top": (7, 4), "bottom": (7, 4)}
    with command_spelling():  # as the command line runs
        line = bar_note(pairs)
    assert line.startswith("mask value 65535 fills the bottom 8 rows of every mask")
    assert "no sample, --set 'data.exclude_rows={bottom: 8}' (left" in line
    assert line.endswith(", or at least --set data.ignore_value=65535")
    # the shell gives the fix whole (s54: unquoted, it split at the space)
    said = shlex.split(line.split("no sample, ")[1].split(" (left")[0])
    assert said[0] == "--set" and load_config(None, said[1:]).data.exclude_rows == {"bottom": 8}
    # plan_training in a notebook: as Python sets them (s53: it was told the CLI's)
    line = bar_note(pairs)
    assert "no sample, cfg.data.exclude_rows = {'bottom': 8} (left" in line
    assert line.endswith(", or at least cfg.data.ignore_value = 65535")
    assert "out of normalisation" in bar_note(pairs, ignore_value=65535)
    assert bar_note(pairs, {"bottom": 8}) is None and bar_note(pairs, (0, 0.2)) is None
    assert bar_note(pairs, {"bottom": 4}) is not None  # part of the bar still in
    for name in ("a", "b", "c"):
        write_tiff(
            tmp_path / "masks" / f"{name}.tif", rng.integers(0, 40, (64, 64)).astype(np.uint16)
        )
    assert bar_note(find_pairs(tmp_path)) is None


def test_the_bar_note_takes_the_bands_the_fingerprint_found(tmp_path, monkeypatch):
    """The plan's data-bar look read the first 8 masks again after the fingerprint had read
    them: it takes their bands (of the whole mask, before data.exclude_rows) from it, and
    says what reading them says."""
    import tifffile

    from unetlab.data.fingerprint import fingerprint
    from unetlab.plan.bar import bar_note

    rng = np.random.default_rng(0)
    for k, name in enumerate(("a", "b", "c")):
        ids = rng.integers(0, 40, (64, 64)).astype(np.uint16)
        ids[-BAR - k :] = 65535
        write_tiff(tmp_path / "images" / f"{name}.tif", _bar_image())
        write_tiff(tmp_path / "masks" / f"{name}.tif", ids)
    pairs, opened = find_pairs(tmp_path), []
    for rows in (None, {"bottom": 4}, {"bottom": 8}, {"top": 3}):
        measured = fingerprint(pairs, target="instances", exclude_rows=rows).pairs
        read = bar_note(pairs, rows)
        original = tifffile.TiffFile
        monkeypatch.setattr(tifffile, "TiffFile", lambda p, *a, **k: opened.append(p))
        assert bar_note(pairs, rows, measured=measured) == read
        monkeypatch.setattr(tifffile, "TiffFile", original)
        assert opened == [] and (read is None) == (rows == {"bottom": 8}), read


def test_edge_bands_as_every_row_looked_at_says_them():
    """edge_bands looks at rows from each edge inward: what the rule over every row said."""
    from unetlab.plan.bar import edge_bands

    def every_row(mask):
        uniform, bands = (mask == mask[:, :1]).all(axis=1), {}
        for edge, rows in (("top", np.arange(len(mask))), ("bottom", np.arange(len(mask))[::-1])):
            value = mask[rows[0], 0]
            same = uniform[rows] & (mask[rows, 0] == value)
            count = int(np.argmin(same)) if not same.all() else len(rows)
            rest = mask[rows[count:]]
            confined = rest.size == 0 or np.count_nonzero(rest == value) <= 0.01 * rest.size
            if value != 0 and count >= 2 and confined:
                bands[edge] = (int(value), count)
        return bands

    rng = np.random.default_rng(3)
    for _ in range(200):
        mask = rng.integers(0, 3, (12, 5)) * (rng.random((12, 5)) < 0.3)
        mask[: rng.integers(0, 6)] = rng.integers(0, 3)
        mask[len(mask) - rng.integers(0, 6) :] = rng.integers(0, 3)
        assert edge_bands(mask) == every_row(mask)


def test_the_config_takes_the_region_and_the_plan_checks_it(tmp_path):
    from unetlab.config import Config
    from unetlab.plan import check_training_data

    cfg = Config.from_dict({"data": {"exclude_rows": {"bottom": 26}}})
    assert cfg.to_dict()["data"]["exclude_rows"] == {"bottom": 26}
    cfg.data.root = str(tmp_path)
    cfg.data.exclude_rows = {"bottom": -2}
    with pytest.raises(UnetlabError, match=r"^data.exclude_rows.bottom: -2 rows: give 0 or more$"):
        check_training_data(cfg)


def test_the_table_says_the_region_is_among_the_ignored_pixels(tmp_path):
    gt = np.zeros((64, 64), np.uint8)
    gt[-BAR:] = 1
    write_png(tmp_path / "gt" / "a.png", gt)
    write_png(tmp_path / "pred" / "a.png", np.zeros((64, 64), np.uint8))
    table = evaluate_predictions(
        tmp_path / "pred", tmp_path / "gt", exclude_rows="bottom=8"
    ).table()
    assert "12% ignored (exclude_rows top=0,bottom=8 (a data bar) and any ignore value" in table


def test_a_streamed_image_with_a_region_is_refused_naming_the_fix(tmp_path):
    from unetlab.inference.files import predict_file

    write_tiff(tmp_path / "a.tif", _bar_image())
    with pytest.raises(
        UnetlabError, match=r"a.tif: exclude_rows .* give exclude_rows='none',"
    ) as no:
        predict_file(
            _net(), tmp_path / "a.tif", tmp_path / "o", large_threshold=100, exclude_rows=(0, 8)
        )
    assert "--" not in str(no.value)  # a Python caller's keywords; the command line its flags
    assert "(a data bar: --exclude-rows, or" in no.value.cli and "give --exclude-rows none," in (
        no.value.cli
    )


def test_an_unlabelled_value_that_fills_an_edge_and_the_rest_is_no_bar():
    """Sparse labels: 255 (unlabelled) fills the top rows and most of each mask; a bar's value
    is in the bar alone (the sparse-label plan test saw a 'data bar?' line)."""
    from unetlab.plan.bar import edge_bands

    sparse = np.full((20, 10), 255)
    sparse[8:12, 2:5] = 1
    assert edge_bands(sparse) == {}
    bar = np.zeros((20, 10), int)
    bar[-4:] = 255
    bar[3:6, 3:6] = 1
    assert edge_bands(bar) == {"bottom": (255, 4)}
