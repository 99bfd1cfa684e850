"""Stain jitter of RGB training tiles (augment.stain) and the plan choosing it for 8-bit
colour pictures only (audit s32 histo 3: a second H&E stain batch fell from mIoU 0.79 to
0.16 with brightness/contrast as the only colour augmentation)."""

from dataclasses import replace

import numpy as np
import pytest

from unetlab.config import load_config
from unetlab.data.fingerprint import Fingerprint, measure_pair
from unetlab.data.transforms import HED_FROM_RGB, Augment, stain_jitter, stain_matrix
from unetlab.errors import UnetlabError, first_line
from unetlab.plan.augment import STAIN, plan_augment, plan_stain

#: everything but the stain jitter off, so a test sees it alone
ONLY_STAIN = dict(flip=False, rot90=False, brightness=0.0, contrast=0.0, p_stain=1.0)


def _unmix(x: np.ndarray) -> np.ndarray:
    """(3, N) colours -> (3, N) haematoxylin, eosin, DAB amounts."""
    return HED_FROM_RGB.T @ x


def test_stain_jitter_scales_and_shifts_each_stain_exactly():
    rng = np.random.default_rng(0)
    image = rng.normal(size=(3, 9, 7)).astype(np.float32)
    np.testing.assert_allclose(stain_jitter(image, [1, 1, 1], [0, 0, 0]), image, atol=1e-5)
    scale, shift = np.array([1.2, 0.9, 1.0]), np.array([0.1, -0.2, 0.0])
    out = stain_jitter(image, scale, shift)
    x, y = image.reshape(3, -1).astype(np.float64), out.reshape(3, -1).astype(np.float64)
    xc, yc = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
    np.testing.assert_allclose(_unmix(yc), scale[:, None] * _unmix(xc), atol=1e-4)
    np.testing.assert_allclose(_unmix(y.mean(1) - x.mean(1)), shift, atol=1e-5)
    matrix, offset = stain_matrix([1, 1, 1], [0, 0, 0])
    np.testing.assert_allclose(matrix, np.eye(3), atol=1e-6)
    with pytest.raises(ValueError, match=r"\(3, H, W\) RGB"):
        stain_jitter(image[:1], scale, shift)


@pytest.mark.parametrize("seed", range(5))
def test_augment_stain_keeps_mask_and_weight_and_varies_colours_within_bounds(seed):
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(3, 24, 24)).astype(np.float32)
    mask = rng.integers(0, 3, (24, 24))
    weight = rng.random((24, 24)).astype(np.float32)
    out, m, w = Augment(stain=0.2, **ONLY_STAIN)(image, mask, weight, rng=rng)
    np.testing.assert_array_equal(m, mask)
    np.testing.assert_array_equal(w, weight)
    assert out.shape == image.shape and out.dtype == np.float32
    assert np.abs(out - image).max() > 1e-3  # the colours changed
    x, y = image.reshape(3, -1).astype(np.float64), out.reshape(3, -1).astype(np.float64)
    xc, yc = _unmix(x - x.mean(1, keepdims=True)), _unmix(y - y.mean(1, keepdims=True))
    ratio = (yc * xc).sum(1) / (xc * xc).sum(1)  # each stain's scale
    assert np.all(np.abs(ratio - 1) <= 0.2 + 1e-4), ratio
    np.testing.assert_allclose(yc, ratio[:, None] * xc, atol=1e-4)  # a scale, nothing else
    assert np.all(np.abs(_unmix(y.mean(1) - x.mean(1))) <= 0.2 + 1e-5)  # each stain's shift


def test_stain_off_changes_nothing_and_grey_images_are_refused_in_one_line():
    rng = np.random.default_rng(1)
    image, mask = rng.normal(size=(3, 8, 8)).astype(np.float32), np.zeros((8, 8), np.int64)
    out, _, _ = Augment(**{**ONLY_STAIN, "p_stain": 1.0})(image, mask, rng=rng)
    np.testing.assert_array_equal(out, image)  # stain 0 (the default): off
    grey = image[:1]
    Augment(**ONLY_STAIN)(grey, mask, rng=rng)  # fine when off
    with pytest.raises(UnetlabError, match="1 channel") as refused:
        Augment(stain=0.2, **ONLY_STAIN)(grey, mask, rng=rng)
    assert str(refused.value).endswith("1 channel: cfg.augment.stain = 0")  # as Python sets it
    assert refused.value.cli.endswith("1 channel: --set augment.stain=0")  # the command line


def _tiny_data(root, image) -> None:
    from unetlab.data.io import write_png

    for k in range(3):
        write_png(root / "images" / f"{k}.png", image)
        write_png(root / "masks" / f"{k}.png", np.zeros(image.shape[:2], np.uint8))


def test_stain_on_grey_data_is_refused_before_the_data_is_loaded_or_a_run_folder_made(
    tmp_path, monkeypatch
):
    from unetlab.train import fit, setup

    def loaded(*args, **kwargs):
        raise AssertionError("the data was loaded")

    monkeypatch.setattr(setup, "load_samples", loaded)
    _tiny_data(tmp_path / "grey", np.zeros((16, 16), np.uint8))
    cfg = load_config(None, [f"data.root={tmp_path / 'grey'}", "augment.stain=0.1"])
    with pytest.raises(UnetlabError) as refused:
        setup.prepare_data(cfg)
    said = (
        "augment.stain=0.1 varies the stains of RGB (bright-field colour) images, and 0.png "
        "has 1 channel: "
    )
    assert first_line(refused.value, cli=True) == (  # as the command line says it
        said + "--set augment.stain=0 turns it off, or train on RGB images"
    )
    # fit in a notebook: as Python sets it (s53: it was told --set)
    assert str(refused.value) == said + "cfg.augment.stain = 0 turns it off, or train on RGB images"
    with pytest.raises(UnetlabError, match="augment.stain=0.1 varies"):
        fit(cfg, run_dir=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
    _tiny_data(tmp_path / "rgb", np.zeros((16, 16, 3), np.uint8))
    setup.check_stain_channels(
        load_config(None, [f"data.root={tmp_path / 'rgb'}", "augment.stain=0.1"])
    )
    for fine in (["augment.stain=0"], ["augment.stain=0.1", "augment.enabled=false"]):
        setup.check_stain_channels(load_config(None, [f"data.root={tmp_path / 'grey'}", *fine]))
    with pytest.raises(UnetlabError, match="0.png has 1 channel"):  # one channel of RGB images
        rgb = load_config(None, [f"data.root={tmp_path / 'rgb'}", "augment.stain=0.1"])
        rgb.data.channel = 0
        setup.check_stain_channels(rgb)


def test_config_key_augment_stain():
    assert load_config(None, []).augment.stain == 0.0
    cfg = load_config(None, ["augment.stain=0.1"])
    assert Augment(**cfg.augment.options()).stain == 0.1
    for bad in ("1.5", "-0.1"):
        with pytest.raises(UnetlabError, match="augment stain must"):
            load_config(None, [f"augment.stain={bad}"])


def _fingerprint(images) -> Fingerprint:
    mask = np.zeros(images[0].shape[:2], np.uint8)
    return Fingerprint([measure_pair(im, mask, name=f"{i}.png") for i, im in enumerate(images)])


def test_the_plan_jitters_the_stains_of_colour_pictures_only():
    rng = np.random.default_rng(0)
    he = _fingerprint([rng.integers(120, 256, (32, 32, 3), dtype=np.uint8) for _ in range(2)])
    choice = plan_stain(he)
    assert choice.key == "augment.stain" and choice.value == STAIN > 0
    assert "bright-field colour: 2 of 2" in choice.reason and "stain" in choice.reason
    assert plan_stain(he) in plan_augment(he)
    grey = Fingerprint(
        [
            replace(p, channels=1, low=p.low[:1], median=p.median[:1], high=p.high[:1])
            for p in he.pairs
        ]
    )
    assert plan_stain(grey).value == 0.0 and "no stain jitter" in plan_stain(grey).reason
    dark = np.zeros((32, 32, 3), np.uint8)  # fluorescence: dark background, bright spots
    dark[::8, ::8] = 200
    assert plan_stain(_fingerprint([dark, dark])).value == 0.0
    deep = Fingerprint([replace(p, dtype="uint16") for p in he.pairs])
    assert plan_stain(deep).value == 0.0
    photos = _fingerprint([rng.integers(10, 200, (32, 32, 3), dtype=np.uint8) for _ in range(2)])
    assert plan_stain(photos).value == 0.0 and "photographs" in plan_stain(photos).reason
