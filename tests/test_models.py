"""The network: the paper's exact shapes and parameters, and every variant on tiny widths."""

import itertools
import math

import pytest
import torch

from unetlab.models import UNet, center_crop


def test_paper_net_on_meta_device():
    with torch.device("meta"):
        model = UNet.from_preset("paper")
        out = model(torch.empty(1, 1, 572, 572))
    assert out.shape == (1, 2, 388, 388)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 31_030_658
    assert model.output_size(572) == 388 and model.border == 92 and model.receptive_field == 185
    assert not any(
        isinstance(m, (torch.nn.BatchNorm2d, torch.nn.GroupNorm)) for m in model.modules()
    )
    assert isinstance(model.dropout, torch.nn.Dropout2d) and model.dropout.p == 0.5


def test_paper_init_is_he_normal():
    torch.manual_seed(0)
    model = UNet.from_preset("paper", base_channels=16)
    conv = model.down_path[1][1][2]  # second conv of level 3: 3x3 over 64 channels, N = 576
    assert conv.in_channels == 64
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / 576), rel=0.02)
    assert conv.bias.abs().max().item() == 0
    up = model.up_path[0].up  # transposed 2x2 stride 2: N = in_channels
    assert up.weight.std().item() == pytest.approx(math.sqrt(2 / up.in_channels), rel=0.05)


VARIANTS = list(
    itertools.product(
        ["valid", "same"], [None, "batch", "group"], ["transpose", "bilinear"], ["concat", "add"]
    )
)


@pytest.mark.parametrize("padding,norm,upsample,fusion", VARIANTS)
def test_every_variant_shapes(padding, norm, upsample, fusion):
    for depth, c_in, classes in [(2, 1, 1), (3, 3, 2), (4, 4, 5), (5, 2, 3)]:
        model = UNet(
            c_in,
            classes,
            depth=depth,
            base_channels=4,
            padding=padding,
            norm=norm,
            upsample=upsample,
            fusion=fusion,
        ).eval()
        # an odd valid size: the second valid size above the minimum, plus odd rectangles
        sizes = model.valid_input_sizes(model.min_input_size + 3 * model.size_multiple, 3)
        h, w = sizes[0], sizes[2]
        with torch.no_grad():
            out = model(torch.randn(1, c_in, h, w))
        assert out.shape == (1, classes, *model.output_size((h, w)))
        if padding == "same":
            assert out.shape[-2:] == (h, w)


def test_bilinear_channel_counts_match_transpose():
    a = UNet(1, 2, depth=4, base_channels=8, upsample="transpose")
    b = UNet(1, 2, depth=4, base_channels=8, upsample="bilinear")
    for up_a, up_b in zip(a.up_path, b.up_path):
        assert up_a.up.out_channels == up_b.up[1].out_channels
        assert up_a.conv[0].in_channels == up_b.conv[0].in_channels


def test_add_fusion_halves_decoder_input():
    model = UNet(1, 2, depth=3, base_channels=8, fusion="add")
    assert model.up_path[0].conv[0].in_channels == 16  # not 32 as with concat


def test_bad_options_raise_value_error():
    for kwargs in [
        dict(padding="reflect"),
        dict(norm="layer"),
        dict(upsample="nearest"),
        dict(fusion="mul"),
        dict(depth=0),
        dict(dropout=1.0),
        dict(base_channels=2.5),
    ]:
        with pytest.raises(ValueError):
            UNet(1, 2, **kwargs)
    with pytest.raises(ValueError, match="unknown preset"):
        UNet.from_preset("resnet")
    with pytest.raises(ValueError, match="unknown UNet option"):
        UNet.from_preset("small", widht=3)


def test_invalid_input_size_message():
    model = UNet.from_preset("small-valid")
    with pytest.raises(ValueError, match="not a valid input size"):
        model.output_size(101)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_forward_refuses_a_size_a_pool_would_floor(padding):
    # a same net given 5 px returned 4 px, out of line with its input, without a word
    model = UNet(1, 2, depth=3, base_channels=4, padding=padding).eval()
    good = model.min_input_size + model.size_multiple
    with torch.inference_mode():
        assert model(torch.zeros(1, 1, good, good)).shape[-1] == model.output_size(good)
        with pytest.raises(ValueError, match=f"{good + 1} is not a valid input size.*try {good}"):
            model(torch.zeros(1, 1, good, good + 1))


def test_center_crop():
    x = torch.arange(36.0).reshape(1, 1, 6, 6)
    assert torch.equal(center_crop(x, (2, 2)), x[..., 2:4, 2:4])
    assert center_crop(x, (6, 6)) is x


def test_presets_build():
    for name in ("small", "small-valid"):
        model = UNet.from_preset(name)
        size = model.valid_input_sizes(128, 1)[0]
        assert model(torch.randn(1, 1, size, size)).shape[1] == 2
