"""Each plane of a stack is normalised on its own, except a plane with no signal against the
stack (camera noise above the cells, a dark frame): its scale is floored at a fraction of
the stack's widest plane's, so its noise is not stretched into one plane-sized object
(audit s28 'stacks', finding 2)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet, predict_image, predict_objects
from unetlab.errors import UnetlabError
from unetlab.inference.files import predict_file
from unetlab.inference.predict import PLANE_SCALE_FLOOR, stack_stats


def _net(normalization: dict) -> UNet:
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same")
    net.normalization = normalization
    return net


def _stack() -> np.ndarray:
    """(3, 32, 28) uint16: camera noise (440 +- 30), a bright plane, a plane at 1/4 of it."""
    rng = np.random.default_rng(0)
    noise = rng.normal(440, 30, (32, 28))
    cells = noise + 20000 * (rng.random((32, 28)) > 0.8)
    return np.stack([noise, cells, noise + (cells - noise) / 4]).astype(np.uint16)


PERCENTILE = {"mode": "percentile", "low": 1.0, "high": 99.8}


@pytest.mark.parametrize("spec", [PERCENTILE, {"mode": "per_image"}])
def test_a_noise_planes_scale_is_floored_and_the_others_are_their_own(spec):
    pages = [p[:, :, None] for p in _stack()]
    own = stack_stats(_net(spec), pages[:1]) + stack_stats(_net(spec), pages[1:2])
    own += stack_stats(_net(spec), pages[2:])
    got = stack_stats(_net(spec), pages)
    assert got[0][1] == pytest.approx(PLANE_SCALE_FLOOR * own[1][1]) and got[0][1] > own[0][1]
    assert np.array_equal(got[0][0], own[0][0])
    for i in (1, 2):  # a plane at 1/4 of the brightest is above the floor: as alone
        assert np.array_equal(got[i][0], own[i][0]) and np.array_equal(got[i][1], own[i][1])


def test_fixed_statistics_are_unchanged():
    pages = [p[:, :, None] for p in _stack()]
    got = stack_stats(_net({"mode": "scale"}), pages)
    assert all(np.array_equal(s, got[0][1]) for _, s in got)


def test_a_stacks_noise_plane_is_not_predicted_as_if_alone(tmp_path):
    net = _net(PERCENTILE)
    stack = _stack()
    tifffile.imwrite(tmp_path / "z.tif", stack, imagej=True, metadata={"axes": "ZYX"})
    predict_file(net, tmp_path / "z.tif", tmp_path / "out", save_probabilities=True)
    probs = tifffile.imread(tmp_path / "out" / "z_prob.tif").reshape(3, 2, 32, 28)
    alone = [predict_image(net, plane) for plane in stack]
    assert np.array_equal(probs[1], alone[1]) and np.array_equal(probs[2], alone[2])
    assert not np.allclose(probs[0], alone[0], atol=1e-3)
    flat = predict_image(net, np.full((32, 28), 440, np.uint16))
    assert np.abs(probs[0] - flat).max() < np.abs(alone[0] - flat).max()


def test_the_napari_widget_normalises_a_stack_as_predict_does(monkeypatch):
    import unetlab.napari.core as core

    seen = []

    def predict_fitted(model, plane, how, *, progress=None, stats=None):
        seen.append(stats)
        return np.zeros((2, *plane.shape[:2]), np.float32)

    monkeypatch.setattr(core, "predict_fitted", predict_fitted)
    net = _net(PERCENTILE)
    core.predict_planes(net, _stack())
    want = stack_stats(net, [p[:, :, None] for p in _stack()])
    assert len(seen) == 3 and all(s is not None for s in seen)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(seen, want, strict=True))


# --- predict_image of a stack (finding 7) ---------------------------------------------------


def test_predict_image_refuses_a_stack_of_planes_without_advising_a_channel():
    net = _net(PERCENTILE)
    movie = np.zeros((5, 40, 36), np.uint16)
    for given in ({}, {"channel": 0}):  # channel=0 predicted one row of each frame
        with pytest.raises(UnetlabError) as info:
            predict_image(net, movie, **given)
        line = str(info.value)
        assert "looks like a stack of 5 planes of 40 x 36 px" in line
        assert "predict_file" in line and "channel=" not in line


def test_predict_image_says_two_planes_may_be_a_stack():
    with pytest.raises(UnetlabError, match=r"\(C, H, W\) channels, or a stack of 2 planes"):
        predict_image(_net(PERCENTILE), np.zeros((2, 40, 36), np.uint16))


def test_predict_image_names_the_plane_of_a_one_channel_first_tensor():
    """A torch-style grey (1, H, W) tensor was "a stack of 1 planes", with channels last as
    the fix for its one channel (user trial s62): one plane, ``image[0]``, and no stack's
    loop; predict_objects' line leaves out the z-stack's objects_3d too."""
    grey = torch.zeros((1, 40, 36), dtype=torch.uint8)
    for call in (predict_image, predict_objects):
        with pytest.raises(UnetlabError) as info:
            call(_net(PERCENTILE), grey)
        line = str(info.value)
        assert line.endswith(
            "looks like one grey plane with its channel axis first; give (H, W): image[0]"
        ), line
        assert "planes" not in line and "objects_3d" not in line and "moveaxis" not in line


def test_a_channels_first_tensor_is_told_to_permute_not_moveaxis():
    """numpy.moveaxis of a tensor raises TypeError: a (3, H, W) tensor's fix is permute."""
    with pytest.raises(UnetlabError) as info:
        predict_image(_net(PERCENTILE), torch.zeros((3, 40, 36)))
    line = str(info.value)
    assert "channels last (image.permute(1, 2, 0))" in line and "moveaxis" not in line, line
    assert torch.zeros((3, 40, 36)).permute(1, 2, 0).shape == (40, 36, 3)


def test_predict_image_takes_an_image_of_as_many_channels_as_the_model():
    net = UNet(12, 2, depth=2, base_channels=2, padding="same")
    assert predict_image(net, np.zeros((40, 36, 12), np.float32)).shape == (2, 40, 36)


# --- napari: stacks of stacks (finding 5) -----------------------------------------------------


def test_the_napari_widget_predicts_tzyx_and_tzcyx_layers_plane_by_plane():
    from unetlab.napari.core import plane_geometry, predict_planes

    net = _net(PERCENTILE)
    rng = np.random.default_rng(1)
    tzyx = rng.integers(0, 4000, (2, 3, 32, 28), dtype=np.uint16)
    assert plane_geometry(tzyx.shape, rgb=False) == (6, (32, 28))
    got = predict_planes(net, tzyx, objects=True)
    assert got.labels.shape == got.objects.shape == (2, 3, 32, 28)
    alone = predict_planes(net, tzyx.reshape(6, 32, 28), objects=True)
    assert np.array_equal(got.labels.reshape(6, 32, 28), alone.labels)
    assert np.array_equal(got.objects.reshape(6, 32, 28), alone.objects)
    tzcyx = np.stack([tzyx, tzyx // 2], axis=2)  # channel 1: the stain to predict
    assert plane_geometry(tzcyx.shape, rgb=False, channel_axis=2) == (6, (32, 28))
    two = predict_planes(net, tzcyx, channel_axis=2, channel=1)
    assert two.labels.shape == (2, 3, 32, 28)
    want = predict_planes(net, tzyx // 2)
    assert np.array_equal(two.labels, want.labels)
