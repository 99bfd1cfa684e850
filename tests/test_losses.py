"""Losses: exact values on hand-built logits, ignore label, weights, dispatch, float32."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from unetlab.data.labels import IGNORE_INDEX
from unetlab.losses import (
    SegmentationLoss,
    binary_cross_entropy,
    binary_dice_loss,
    build_loss,
    dice_loss,
    focal_loss,
    lovasz_loss,
    weighted_cross_entropy,
)

LN3 = math.log(3.0)


def two_class_logits():
    """1x2x1x2 logits: pixel 0 has p = (0.25, 0.75), pixel 1 has p = (0.5, 0.5)."""
    return torch.tensor([[[[0.0, 0.0]], [[LN3, 0.0]]]])


def test_cross_entropy_exact():
    logits = two_class_logits()
    target = torch.tensor([[[1, 0]]])
    # -ln 0.75 and -ln 0.5, averaged over the two pixels
    expected = (-math.log(0.75) + math.log(2.0)) / 2
    assert weighted_cross_entropy(logits, target).item() == pytest.approx(expected, rel=1e-6)
    # per-pixel weights 3 and 1: sum(w * CE) / number of pixels (not / sum of weights)
    weight = torch.tensor([[[3.0, 1.0]]])
    expected = (3 * -math.log(0.75) + math.log(2.0)) / 2
    got = weighted_cross_entropy(logits, target, weight)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_ignores_pixels_and_their_weights():
    logits = two_class_logits()
    target = torch.tensor([[[IGNORE_INDEX, 0]]])
    weight = torch.tensor([[[float("nan"), 2.0]]])
    logits.requires_grad_(True)
    loss = weighted_cross_entropy(logits, target, weight)
    assert loss.item() == pytest.approx(2 * math.log(2.0), rel=1e-6)
    loss.backward()
    assert torch.isfinite(logits.grad).all() and (logits.grad[..., 0] == 0).all()


def test_cross_entropy_without_weights_is_torchs():
    logits = torch.randn(2, 3, 5, 7)
    target = torch.randint(-1, 3, (2, 5, 7))
    expected = F.cross_entropy(logits, target, ignore_index=-1)
    torch.testing.assert_close(weighted_cross_entropy(logits, target), expected)
    ones = torch.ones(2, 5, 7)
    torch.testing.assert_close(weighted_cross_entropy(logits, target, ones), expected)


def test_all_ignored_gives_zero_with_a_gradient():
    logits = torch.randn(1, 2, 3, 3, requires_grad=True)
    target = torch.full((1, 3, 3), IGNORE_INDEX)
    for name in ("ce", "dice", "ce+dice"):
        loss = build_loss(name)(logits, target)
        assert loss.item() == 0.0
        loss.backward()


def test_dice_exact_on_hard_predictions():
    # prediction [[0, 1], [1, 1]] (logits +-50), target [[0, 0], [1, 1]]
    pred = torch.tensor([[0, 1], [1, 1]])
    logits = (F.one_hot(pred, 2).permute(2, 0, 1)[None].float() * 2 - 1) * 50
    target = torch.tensor([[[0, 0], [1, 1]]])
    # class 0: (2*1 + 1) / (1 + 2 + 1) = 3/4; class 1: (2*2 + 1) / (3 + 2 + 1) = 5/6
    expected = 1 - (3 / 4 + 5 / 6) / 2
    assert dice_loss(logits, target).item() == pytest.approx(expected, rel=1e-6)
    assert dice_loss(logits, target, smooth=0.0).item() == pytest.approx(
        1 - (2 / 3 + 4 / 5) / 2, rel=1e-6
    )


def test_dice_exact_on_uniform_probabilities_and_ignore():
    logits = torch.zeros(1, 2, 2, 2)  # p = 0.5 everywhere
    target = torch.tensor([[[0, 0], [1, 1]]])
    # each class: (2 * 0.5 * 2 + 1) / (0.5 * 4 + 2 + 1) = 3/5
    assert dice_loss(logits, target).item() == pytest.approx(1 - 3 / 5, rel=1e-6)
    target = torch.tensor([[[0, IGNORE_INDEX], [1, 1]]])
    # class 0: (2*0.5 + 1) / (1.5 + 1 + 1) = 4/7; class 1: (2*1 + 1) / (1.5 + 2 + 1) = 2/3
    expected = 1 - (4 / 7 + 2 / 3) / 2
    assert dice_loss(logits, target).item() == pytest.approx(expected, rel=1e-6)


def test_dice_perfect_prediction_is_zero():
    target = torch.randint(0, 3, (2, 6, 6))
    logits = F.one_hot(target, 3).permute(0, 3, 1, 2).float() * 100
    assert dice_loss(logits, target).item() == pytest.approx(0.0, abs=1e-6)


def test_binary_exact():
    logits = torch.tensor([[[[LN3, 0.0, -LN3]]]])  # sigmoid: 0.75, 0.5, 0.25
    target = torch.tensor([[[1, 0, IGNORE_INDEX]]])
    expected = (-math.log(0.75) + math.log(2.0)) / 2
    assert binary_cross_entropy(logits, target).item() == pytest.approx(expected, rel=1e-6)
    weight = torch.tensor([[[2.0, 0.5, 100.0]]])
    expected = (2 * -math.log(0.75) + 0.5 * math.log(2.0)) / 2
    got = binary_cross_entropy(logits, target, weight)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    # foreground Dice: p = (0.75, 0.5), t = (1, 0): (2 * 0.75 + 1) / (1.25 + 1 + 1)
    dice = binary_dice_loss(logits, target).item()
    assert dice == pytest.approx(1 - 2.5 / 3.25, rel=1e-6)


def test_binary_matches_torch():
    logits = torch.randn(2, 1, 4, 4)
    target = torch.randint(0, 2, (2, 4, 4))
    expected = F.binary_cross_entropy_with_logits(logits[:, 0], target.float())
    torch.testing.assert_close(binary_cross_entropy(logits, target), expected)


def test_build_loss_dispatch_and_sum():
    logits = torch.randn(2, 3, 4, 4)
    target = torch.randint(0, 3, (2, 4, 4))
    weight = torch.rand(2, 4, 4) + 0.5
    ce = weighted_cross_entropy(logits, target, weight)
    dice = dice_loss(logits, target)
    torch.testing.assert_close(build_loss("ce")(logits, target, weight), ce)
    torch.testing.assert_close(build_loss("dice")(logits, target, weight), dice)
    torch.testing.assert_close(build_loss("ce+dice")(logits, target, weight), ce + dice)
    torch.testing.assert_close(
        build_loss("ce+dice", dice_weight=0.5)(logits, target),
        weighted_cross_entropy(logits, target) + 0.5 * dice,
    )
    one = logits[:, :1]
    binary = target.clamp(max=1)
    expected = binary_cross_entropy(one, binary, weight) + binary_dice_loss(one, binary)
    torch.testing.assert_close(build_loss("ce+dice")(one, binary, weight), expected)
    assert isinstance(build_loss("ce"), SegmentationLoss)
    with pytest.raises(ValueError, match="loss must be one of"):
        build_loss("tversky")
    torch.testing.assert_close(
        build_loss("focal+dice")(logits, target, weight), focal_loss(logits, target, weight) + dice
    )
    torch.testing.assert_close(
        build_loss("ce+lovasz")(logits, target, weight), ce + lovasz_loss(logits, target)
    )


def test_focal_loss_is_the_cross_entropy_at_gamma_0_and_spares_easy_pixels():
    logits = torch.randn(2, 3, 5, 5) * 3
    target = torch.randint(0, 3, (2, 5, 5))
    target[0, 0] = IGNORE_INDEX
    weight = torch.rand(2, 5, 5) + 0.5
    ce = weighted_cross_entropy(logits, target, weight)
    torch.testing.assert_close(focal_loss(logits, target, weight, gamma=0.0), ce)
    assert float(focal_loss(logits, target, weight)) < float(ce)
    one, binary = logits[:, :1], target.clamp(max=1)
    torch.testing.assert_close(
        focal_loss(one, binary, weight, gamma=0.0), binary_cross_entropy(one, binary, weight)
    )
    # a pixel right at p = 0.9 weighs (0.1)^2 of its cross entropy, one wrong at 0.1: (0.9)^2
    easy = torch.log(torch.tensor([[0.9, 0.1]])).reshape(1, 2, 1, 1)
    for label, factor in ((0, 0.01), (1, 0.81)):
        t = torch.full((1, 1, 1), label)
        expected = factor * weighted_cross_entropy(easy, t)
        torch.testing.assert_close(focal_loss(easy, t), expected)


def test_lovasz_loss_is_one_minus_iou_for_certain_predictions():
    """The Lovász extension is exact at the corners: one-hot predictions score the mean over
    the classes present of 1 - IoU."""
    rng = np.random.default_rng(0)
    pred = torch.from_numpy(rng.integers(0, 3, (2, 6, 6)))
    target = torch.from_numpy(rng.integers(0, 3, (2, 6, 6)))
    target[1, :2] = IGNORE_INDEX
    logits = torch.nn.functional.one_hot(pred, 3).permute(0, 3, 1, 2).float() * 100.0
    valid = target != IGNORE_INDEX
    ious = [
        float(
            ((pred == c) & (target == c) & valid).sum()
            / (((pred == c) | (target == c)) & valid).sum()
        )
        for c in range(3)
    ]
    assert float(lovasz_loss(logits, target)) == pytest.approx(1 - np.mean(ious), abs=1e-5)
    assert float(lovasz_loss(logits, pred)) == pytest.approx(0.0, abs=1e-6)
    one = torch.where(pred[:, None] > 0, 100.0, -100.0)  # a sigmoid net: two classes
    binary = target.clamp(max=1)
    b_ious = [
        float(
            ((pred.clamp(max=1) == c) & (binary == c) & valid).sum()
            / (((pred.clamp(max=1) == c) | (binary == c)) & valid).sum()
        )
        for c in range(2)
    ]
    assert float(lovasz_loss(one, binary)) == pytest.approx(1 - np.mean(b_ious), abs=1e-5)


def test_lovasz_loss_has_a_gradient_that_lowers_it():
    logits = torch.randn(1, 2, 8, 8, requires_grad=True)
    target = torch.randint(0, 2, (1, 8, 8))
    before = float(lovasz_loss(logits, target).detach())
    opt = torch.optim.Adam([logits], lr=0.5)
    for _ in range(20):
        opt.zero_grad()
        lovasz_loss(logits, target).backward()
        opt.step()
    assert float(lovasz_loss(logits, target).detach()) < 0.5 * before
    assert float(lovasz_loss(logits, torch.full((1, 8, 8), IGNORE_INDEX)).detach()) == 0.0


def test_losses_train_a_pixel():
    logits = torch.zeros(1, 2, 2, 2, requires_grad=True)
    target = torch.tensor([[[0, 1], [1, 0]]])
    loss_fn = build_loss("ce+dice")
    first = loss_fn(logits, target)
    first.backward()
    with torch.no_grad():
        logits -= 1.0 * logits.grad
    assert loss_fn(logits, target) < first


def test_size_mismatch_names_both():
    logits = torch.zeros(1, 2, 388, 388)
    target = torch.zeros(1, 572, 572, dtype=torch.int64)
    with pytest.raises(ValueError, match="logits are 1x2x388x388 but the target is 1x572x572"):
        build_loss("ce")(logits, target)
    with pytest.raises(ValueError, match="weight map is 1x4x4"):
        weighted_cross_entropy(logits[..., :3, :3], target[:, :3, :3], torch.ones(1, 4, 4))


def test_bad_targets_raise_before_a_device_assert():
    logits = torch.zeros(1, 2, 2, 2)
    with pytest.raises(ValueError, match=r"holds value \[255\] outside the 2 classes"):
        weighted_cross_entropy(logits, torch.tensor([[[0, 255], [1, 0]]]))
    with pytest.raises(ValueError, match=r"holds value \[-3\]"):
        dice_loss(logits, torch.tensor([[[0, -3], [1, 0]]]))
    with pytest.raises(ValueError, match=r"holds values \[-3, 7\] outside"):
        dice_loss(logits, torch.tensor([[[7, -3], [1, 0]]]))
    with pytest.raises(ValueError, match=r"holds value \[2\]"):
        binary_cross_entropy(logits[:, :1], torch.tensor([[[0, 2], [1, 0]]]))
    with pytest.raises(ValueError, match="sigmoid"):
        binary_dice_loss(logits, torch.zeros(1, 2, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="int64 class indices"):
        weighted_cross_entropy(logits, torch.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="use target.long"):
        weighted_cross_entropy(logits, torch.zeros(1, 2, 2, dtype=torch.int32))


def test_custom_ignore_index():
    logits = two_class_logits()
    target = torch.tensor([[[255, 0]]])
    loss = weighted_cross_entropy(logits, target, ignore_index=255)
    assert loss.item() == pytest.approx(math.log(2.0), rel=1e-6)


def test_float32_under_autocast():
    torch.manual_seed(0)
    logits = torch.randn(1, 2, 8, 8).bfloat16()
    target = torch.randint(0, 2, (1, 8, 8))
    weight = torch.rand(1, 8, 8).bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        for name in ("ce", "dice", "ce+dice"):
            got = build_loss(name)(logits, target, weight)
            assert got.dtype == torch.float32
    expected = weighted_cross_entropy(logits.float(), target, weight.float())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torch.testing.assert_close(weighted_cross_entropy(logits, target, weight), expected)
