"""VGG16 / ResNet50 encoder U-Nets: torchvision's key layouts (written out here, from the
architectures), ImageNet file checks, any channels/classes/sizes, freezing, train + predict."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from unetlab.errors import UnetlabError, first_line
from unetlab.models import EncoderUNet, model_from_config
from unetlab.models.pretrained import adapt_state_dict, load_encoder_weights

# --- torchvision's layouts, from the architecture descriptions --------------------------


def vgg16_layout() -> dict[str, tuple[int, ...]]:
    """torchvision ``vgg16()``: ``features`` is a Sequential of conv(3x3)+ReLU pairs and
    max pools (config D: 64 64 M 128 128 M 256x3 M 512x3 M 512x3 M), so the convolutions sit
    at indices 0 2 5 7 10 12 14 17 19 21 24 26 28; ``classifier`` is Linear(25088, 4096),
    ReLU, Dropout, Linear(4096, 4096), ReLU, Dropout, Linear(4096, 1000)."""
    convs = {
        0: (3, 64),
        2: (64, 64),
        5: (64, 128),
        7: (128, 128),
        10: (128, 256),
        12: (256, 256),
        14: (256, 256),
        17: (256, 512),
        19: (512, 512),
        21: (512, 512),
        24: (512, 512),
        26: (512, 512),
        28: (512, 512),
    }
    keys = {}
    for i, (c_in, c_out) in convs.items():
        keys[f"features.{i}.weight"] = (c_out, c_in, 3, 3)
        keys[f"features.{i}.bias"] = (c_out,)
    for i, (c_in, c_out) in {0: (25088, 4096), 3: (4096, 4096), 6: (4096, 1000)}.items():
        keys[f"classifier.{i}.weight"] = (c_out, c_in)
        keys[f"classifier.{i}.bias"] = (c_out,)
    return keys


def _bn(prefix: str, c: int) -> dict[str, tuple[int, ...]]:
    out = {f"{prefix}.{name}": (c,) for name in ("weight", "bias", "running_mean", "running_var")}
    out[f"{prefix}.num_batches_tracked"] = ()
    return out


def resnet50_layout() -> dict[str, tuple[int, ...]]:
    """torchvision ``resnet50()``: conv1 7x7 3->64 (no bias), bn1, layers of 3, 4, 6, 3
    Bottlenecks of width 64, 128, 256, 512 (conv1 1x1, conv2 3x3, conv3 1x1 to 4x width, each
    with a BN; block 0 has downsample.0 conv 1x1 and downsample.1 BN), fc 2048 -> 1000."""
    keys = {"conv1.weight": (64, 3, 7, 7), **_bn("bn1", 64)}
    c_in = 64
    for layer, (blocks, width) in enumerate([(3, 64), (4, 128), (6, 256), (3, 512)], start=1):
        for b in range(blocks):
            p = f"layer{layer}.{b}"
            keys[f"{p}.conv1.weight"] = (width, c_in, 1, 1)
            keys.update(_bn(f"{p}.bn1", width))
            keys[f"{p}.conv2.weight"] = (width, width, 3, 3)
            keys.update(_bn(f"{p}.bn2", width))
            keys[f"{p}.conv3.weight"] = (4 * width, width, 1, 1)
            keys.update(_bn(f"{p}.bn3", 4 * width))
            if b == 0:
                keys[f"{p}.downsample.0.weight"] = (4 * width, c_in, 1, 1)
                keys.update(_bn(f"{p}.downsample.1", 4 * width))
            c_in = 4 * width
    keys["fc.weight"] = (1000, 2048)
    keys["fc.bias"] = (1000,)
    return keys


LAYOUTS = {"vgg16": vgg16_layout, "resnet50": resnet50_layout}
HEADS = {"vgg16": "classifier.", "resnet50": "fc."}
#: torchvision's published parameter counts (model cards): the layouts above must give them
PUBLISHED_PARAMS = {"vgg16": 138_357_544, "resnet50": 25_557_032}


def fake_state(name: str, *, seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict of torchvision's exact keys and shapes; random encoder weights, the large
    classifier head left uninitialised (torch.empty touches no memory)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in LAYOUTS[name]().items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(7)
        elif key.startswith(HEADS[name]):
            state[key] = torch.empty(shape)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=g) + 0.5
        else:
            state[key] = torch.randn(shape, generator=g) * 0.05
    return state


@pytest.mark.parametrize("name", ["vgg16", "resnet50"])
def test_layout_matches_published_parameter_count(name):
    layout = LAYOUTS[name]()
    params = sum(
        int(np.prod(s))
        for k, s in layout.items()
        if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))
    )
    assert params == PUBLISHED_PARAMS[name]


@pytest.mark.parametrize("name", ["vgg16", "resnet50"])
def test_encoder_keys_are_torchvision_keys_without_the_head(name):
    with torch.device("meta"):
        model = EncoderUNet(name, 3, 5)
    own = {k: tuple(v.shape) for k, v in model.encoder.state_dict().items()}
    expected = {k: s for k, s in LAYOUTS[name]().items() if not k.startswith(HEADS[name])}
    assert own == expected


@pytest.mark.parametrize("name", ["vgg16", "resnet50"])
def test_torchvision_state_loads_with_nothing_missing_but_the_head(name):
    model = EncoderUNet(name, 3, 4)
    state = fake_state(name)
    fitted = adapt_state_dict(state, model.encoder, name=name, source="file")
    result = model.encoder.load_state_dict(fitted, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key, value in model.encoder.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_old_files_without_num_batches_tracked_load():
    model = EncoderUNet("resnet50", 3, 2)
    state = {k: v for k, v in fake_state("resnet50").items() if "num_batches_tracked" not in k}
    model.encoder.load_state_dict(
        adapt_state_dict(state, model.encoder, name="resnet50", source="f")
    )
    assert torch.equal(model.encoder.conv1.weight, state["conv1.weight"])


@pytest.mark.parametrize(
    "change,named",
    [
        (lambda s: s.pop("layer3.2.bn2.running_var"), "lacks key layer3.2.bn2.running_var"),
        (lambda s: s.update({"layer5.0.conv1.weight": torch.zeros(1)}), "unexpected key layer5"),
        (lambda s: s.update({"conv1.weight": torch.zeros(64, 3, 5, 5)}), "conv1.weight has shape"),
        (lambda s: s.update({"layer1.0.conv2.weight": torch.zeros(2)}), "layer1.0.conv2.weight"),
    ],
)
def test_a_wrong_key_or_shape_is_refused_by_name(change, named):
    model = EncoderUNet("resnet50", 3, 2)
    state = fake_state("resnet50")
    change(state)
    with pytest.raises(UnetlabError, match=named.replace(".", r"\.")):
        adapt_state_dict(state, model.encoder, name="resnet50", source="resnet50.pth")


def test_weights_file_hash_and_content_checked(tmp_path):
    state = fake_state("resnet50")
    plain = tmp_path / "weights.pth"
    torch.save(state, plain)
    digest = hashlib.sha256(plain.read_bytes()).hexdigest()
    named = tmp_path / f"resnet50-{digest[:8]}.pth"
    plain.rename(named)
    model = EncoderUNet("resnet50", 3, 2)
    load_encoder_weights(model, named)
    assert torch.equal(model.encoder.layer4[2].conv3.weight, state["layer4.2.conv3.weight"])
    # through training's builder: weights loaded, ImageNet statistics by default
    from unetlab.config import load_config
    from unetlab.train import Data, build_model, default_normalization

    cfg = load_config(None, ["model.encoder=resnet50", f"model.encoder_weights={named}"])
    assert default_normalization(cfg) == {"mode": "imagenet"}
    sample = type("S", (), {"image": np.zeros((3, 8, 8), np.float32)})()
    data = Data([sample], [], [0, 1, 2], ["a", "b", "c"], normalization=default_normalization(cfg))
    built = build_model(cfg, data)
    assert isinstance(built, EncoderUNet) and built.num_classes == 3
    assert torch.equal(built.encoder.conv1.weight, state["conv1.weight"])
    assert built.normalization == {"mode": "imagenet"}
    assert default_normalization(load_config(None, ["model.encoder=resnet50"])) == {
        "mode": "per_image"
    }
    wrong = tmp_path / "resnet50-00000000.pth"
    named.rename(wrong)
    with pytest.raises(UnetlabError, match="sha256 starts"):
        load_encoder_weights(model, wrong)
    with pytest.raises(UnetlabError, match="no such weights file"):
        load_encoder_weights(model, tmp_path / "vgg16-397923af.pth")
    partial = tmp_path / "partial.pth"
    torch.save({"conv1.weight": state["conv1.weight"], "fc.bias": state["fc.bias"]}, partial)
    with pytest.raises(UnetlabError, match=r"partial\.pth: lacks key bn1\.weight \(and \d+ more"):
        load_encoder_weights(model, partial)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a pickle")
    with pytest.raises(UnetlabError, match="weights_only"):
        load_encoder_weights(model, junk)


@pytest.mark.parametrize("name", ["vgg16", "resnet50"])
def test_grey_net_from_rgb_weights_responds_like_rgb_net_on_repeated_grey(name):
    state = fake_state(name, seed=3)
    rgb, grey = EncoderUNet(name, 3, 2), EncoderUNet(name, 1, 2)
    for model in (rgb, grey):
        model.encoder.load_state_dict(adapt_state_dict(state, model.encoder, name=name, source="f"))
    first = {"vgg16": lambda m: m.encoder.features[0], "resnet50": lambda m: m.encoder.conv1}
    x = torch.rand(2, 1, 20, 24, dtype=torch.float64)
    conv_rgb, conv_grey = first[name](rgb).double(), first[name](grey).double()
    with torch.no_grad():
        torch.testing.assert_close(conv_grey(x), conv_rgb(x.repeat(1, 3, 1, 1)))
    with pytest.raises(UnetlabError, match="3 \\(RGB\\) or 1 \\(grey\\)"):
        adapt_state_dict(state, EncoderUNet(name, 4, 2).encoder, name=name, source="f")


@pytest.mark.parametrize("name", ["vgg16", "resnet50"])
def test_shapes_for_1_and_3_channels_and_2_to_21_classes(name):
    with torch.device("meta"):
        for channels in (1, 3):
            for classes in range(2, 22):
                model = EncoderUNet(name, channels, classes)
                assert model.head.out_channels == classes
                if classes in (2, 21):  # a meta forward of ResNet50 takes ~0.5 s
                    out = model(torch.empty(1, channels, 96, 64))
                    assert out.shape == (1, classes, 96, 64)


@pytest.mark.parametrize("name,upsample", [("vgg16", "bilinear"), ("resnet50", "transpose")])
def test_any_input_size_is_padded_and_cropped_back(name, upsample):
    model = EncoderUNet(name, 3, 3, upsample=upsample).eval()
    assert model.output_size((37, 50)) == (37, 50) and model.border == 0
    assert model.size_multiple == (16 if name == "vgg16" else 32)
    assert model.valid_input_sizes(64, 3) == {"vgg16": [48, 64, 80], "resnet50": [32, 64, 96]}[name]
    x = torch.randn(1, 3, 37, 50)
    with torch.no_grad():
        out = model(x)
        padded = model(torch.nn.functional.pad(x, (0, 64 - 50, 0, 64 - 37)))
    assert out.shape == (1, 3, 37, 50)
    torch.testing.assert_close(out, padded[..., :37, :50])  # the net pads with zeros itself


def test_receptive_field_figures():
    with torch.device("meta"):
        assert EncoderUNet("resnet50", 3, 2).receptive_field == 551
        assert EncoderUNet("vgg16", 3, 2).receptive_field == 256


def test_freeze_encoder_keeps_its_weights_and_statistics():
    torch.manual_seed(0)
    model = EncoderUNet("resnet50", 3, 2)
    model.freeze_encoder(True)
    model.train()
    assert not model.encoder.training and model.decoder.training
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = model(torch.randn(2, 3, 64, 64)).logsumexp(1).mean()
    loss.backward()
    opt.step()
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items() if k.startswith("encoder."))
    assert not torch.equal(after["head.weight"], before["head.weight"])
    model.freeze_encoder(False)
    assert model.encoder.training and all(p.requires_grad for p in model.parameters())


def test_an_encoder_of_random_weights_is_not_frozen(caplog):
    """train.freeze_encoder_epochs freezes a pretrained encoder for its epochs; one with no
    ImageNet file (nor a checkpoint to start from) is trained from the start, and one line
    says so: frozen, the decoder would learn from random features (user2 s62:
    scenes_resnet50.yaml without its weights file froze a random ResNet50 for 2 of 3 epochs;
    s63: it was frozen, with a warning)."""
    from unetlab.group import SOLO
    from unetlab.train.run import _encoder_freezer

    with torch.device("meta"):
        model = EncoderUNet("resnet50", 3, 2)
    with caplog.at_level("WARNING", logger="unetlab.train.run"):
        freeze = _encoder_freezer(model, 2, SOLO, pretrained=True)
        assert [(freeze(e), model.encoder_frozen)[1] for e in range(3)] == [True, True, False]
        _encoder_freezer(model, 2, SOLO, pretrained=False)(2)  # resumed after its frozen epochs
        assert not caplog.records  # review s62: said again on a resume that froze nothing
        freeze = _encoder_freezer(model, 2, SOLO, pretrained=False)
        for epoch in range(3):
            freeze(epoch)
            assert not model.encoder_frozen
            assert all(p.requires_grad for p in model.parameters())
    (record,) = caplog.records  # once, as the first epoch it would freeze begins
    said = record.getMessage()
    assert "not frozen" in said and "random" in said and "model.encoder_weights" in said


@pytest.mark.parametrize(
    ("weights", "init", "pretrained"),
    [("resnet50.pth", None, True), (None, "run/best.pt", True), (None, None, False)],
)
def test_a_pretrained_encoder_is_frozen_first(caplog, weights, init, pretrained):
    """An encoder given model.encoder_weights or model.init_checkpoint is pretrained, and
    train.freeze_encoder_epochs freezes it first ("encoder frozen from epoch 1"); one given
    neither is random and trained from the start (s63 review: no test said which runs count
    as pretrained)."""
    from unetlab.config import ModelSection
    from unetlab.group import SOLO
    from unetlab.train.run import _encoder_freezer, _pretrained

    section = ModelSection(encoder="resnet50", encoder_weights=weights, init_checkpoint=init)
    assert _pretrained(section) is pretrained
    with torch.device("meta"):
        model = EncoderUNet("resnet50", 3, 2)
    with caplog.at_level("INFO", logger="unetlab.train.run"):
        _encoder_freezer(model, 2, SOLO, pretrained=_pretrained(section))(0)
    assert model.encoder_frozen is pretrained
    assert ("encoder frozen from epoch 1" in caplog.text) is pretrained, caplog.text


def test_checkpoint_round_trip_rebuilds_the_encoder_net(tmp_path):
    from unetlab.checkpoint import load_model, save_model

    model = EncoderUNet("vgg16", 1, 3, upsample="bilinear").eval()
    model.normalization = {"mode": "imagenet"}
    save_model(tmp_path / "m.pt", model)
    loaded = load_model(tmp_path / "m.pt")
    assert isinstance(loaded, EncoderUNet) and loaded.config == model.config
    assert loaded.normalization == {"mode": "imagenet"}
    x = torch.randn(1, 1, 32, 48)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x))
    assert isinstance(model_from_config({"depth": 2, "base_channels": 4}), torch.nn.Module)


def test_imagenet_normalisation_of_8_and_16_bit_images():
    from unetlab.data.normalize import normalize

    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0] = 255
    x = normalize(rgb, {"mode": "imagenet"})
    np.testing.assert_allclose(
        x[:, 0, 0], [(1 - 0.485) / 0.229, -0.456 / 0.224, -0.406 / 0.225], rtol=1e-6
    )
    grey = np.full((2, 2), 65535, np.uint16)
    np.testing.assert_allclose(
        normalize(grey, {"mode": "imagenet"}), (1 - 0.449) / 0.226, rtol=1e-6
    )
    with pytest.raises(ValueError, match="RGB or grey"):
        normalize(np.zeros((2, 2, 4), np.uint8), {"mode": "imagenet"})


def test_encoder_config_is_checked():
    from unetlab.config import load_config

    with pytest.raises(ValueError, match="choose one of none, vgg16, resnet50"):
        load_config(None, ["model.encoder=vgg19"])
    with pytest.raises(ValueError, match="model.depth does not apply"):
        load_config(None, ["model.encoder=vgg16", "model.depth=3"])
    with pytest.raises(ValueError, match="needs model.encoder"):
        load_config(None, ["model.encoder_weights=vgg16-397923af.pth"])


def test_scenes_recipe_loads():
    from pathlib import Path

    from unetlab.config import load_config

    cfg = load_config(Path(__file__).parents[1] / "configs" / "scenes_resnet50.yaml")
    assert cfg.model.encoder == "resnet50" and cfg.train.freeze_encoder_epochs == 2
    assert cfg.data.tile_size % 32 == 0 and cfg.data.normalization is None


def test_encoder_nets_export_to_onnx_and_refuse_torchscript(tmp_path):
    pytest.importorskip("onnxruntime", reason="ONNX export needs onnx and onnxruntime")
    from unetlab.inference.export import OnnxRunner, export_onnx, export_torchscript

    model = EncoderUNet("vgg16", 3, 4).eval()
    report = export_onnx(model, tmp_path / "vgg.onnx", input_size=32)
    assert report.max_abs_diff < 1e-4
    runner = OnnxRunner(tmp_path / "vgg.onnx")
    assert (runner.padding, runner.border, runner.size_multiple) == ("same", 0, 16)
    with pytest.raises(UnetlabError, match=r"export it with export_onnx\(model, PATH\)$") as e:
        export_torchscript(model, tmp_path / "vgg.pt")
    assert first_line(e.value, cli=True).endswith("export it with --onnx")  # the command's


def test_assembling_a_run_of_an_encoder_without_its_weights_file_trains_it(tmp_path, caplog):
    """The run as _assemble builds it (review s63: only the slow test ran it, and with a
    random net): an encoder net that would load ImageNet weights, given no weights file nor
    checkpoint, with train.freeze_encoder_epochs 2 (scenes_resnet50.yaml's), is trainable
    from its first epoch and said so once, not frozen over random features."""
    import time

    from unetlab.config import load_config
    from unetlab.data.synthetic import write_synthetic_dataset
    from unetlab.group import SOLO
    from unetlab.train.loop import Precision
    from unetlab.train.run import _assemble, started

    root = write_synthetic_dataset(tmp_path / "em", n_train=2, n_val=1, size=64)
    overrides = ["model.encoder=vgg16", "model.encoder_weights=null", "data.tile_size=64"]
    overrides += [f"data.root={root}", "train.freeze_encoder_epochs=2", "train.num_workers=0"]
    cfg = load_config(None, overrides)
    cpu = torch.device("cpu")
    data, model, sizes = started(cfg, None)
    built = dict(precision=Precision.choose("off", False, cpu), data=data, model=model)
    with caplog.at_level("INFO", logger="unetlab.train.run"):
        run, _ = _assemble(
            cfg, tmp_path, cpu, SOLO, **built, sizes=sizes, clock=time.perf_counter, begun=None
        )
        for epoch in range(3):
            run.freeze(epoch)
            assert not run.model.encoder_frozen and run.model.encoder.training
            assert all(p.requires_grad for p in run.model.encoder.parameters())
    trainable = {id(p) for group in run.optimizer.param_groups for p in group["params"]}
    assert all(id(p) in trainable for p in run.model.encoder.parameters())
    said = [r.getMessage() for r in caplog.records if "freeze_encoder_epochs" in r.getMessage()]
    assert len(said) == 1 and "trained from the start, not frozen" in said[0], said
    assert "encoder frozen" not in caplog.text
