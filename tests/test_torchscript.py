"""TorchScript export: the file maps the normalised image to class probabilities, equal to
PyTorch's at sizes and batches other than the traced ones; it needs only torch to load."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
import torch

from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.inference.export import ProbabilityUNet, export_torchscript, probability_model
from unetlab.models import UNet

# torch 2.13 deprecates torch.jit.load; deepImageJ and QuPath still need TorchScript files
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")


def _tiny(num_classes: int = 2, **kw) -> UNet:
    return UNet(1, num_classes, depth=3, base_channels=4, **kw).eval()


@pytest.mark.parametrize(
    "num_classes, kw",
    [
        (2, {}),
        (3, {"padding": "same", "norm": "batch", "upsample": "bilinear", "fusion": "add"}),
        (1, {"norm": "group"}),
    ],
)
def test_torchscript_gives_probabilities_at_other_sizes(tmp_path, num_classes, kw):
    model = _tiny(num_classes, **kw)
    model.classes = ["background", "cell", "edge"][: max(num_classes, 2)]
    report = export_torchscript(model, tmp_path / "m.pt")
    assert report.max_abs_diff is not None and report.max_abs_diff <= 1e-4
    assert report.checked_shape[2] != report.checked_shape[3]  # non-square, not the traced size
    extra = {"unetlab.json": ""}
    loaded = torch.jit.load(str(tmp_path / "m.pt"), _extra_files=extra)
    meta = json.loads(extra["unetlab.json"])
    assert json.loads(meta["classes"]) == model.classes
    assert int(meta["border"]) == model.border
    # a third size pair and batch 3, against softmax/sigmoid of the model's logits
    h, w = model.valid_input_sizes(model.min_input_size + 5 * model.size_multiple, 3)[::2]
    x = torch.randn(3, 1, h, w)
    with torch.inference_mode():
        logits = model(x)
        expected = torch.sigmoid(logits) if num_classes == 1 else torch.softmax(logits, 1)
        got = loaded(x)
    assert got.shape == (3, num_classes, *model.output_size((h, w)))
    assert float((got - expected).abs().max()) <= 1e-4
    if num_classes > 1:
        assert torch.allclose(got.sum(1), torch.ones(()), atol=1e-5)


def test_probability_model_keeps_weights_and_metadata():
    model = _tiny(norm="batch")
    model.classes, model.label_values = ["a", "b"], [0, 255]
    net = probability_model(model)
    assert isinstance(net, ProbabilityUNet) and not net.training
    assert net.classes == ["a", "b"] and net.label_values == [0, 255]
    assert net.state_dict().keys() == model.state_dict().keys()
    x = torch.randn(1, 1, 44, 44)
    with torch.inference_mode():
        assert torch.equal(net(x), torch.softmax(model(x), 1))


def test_cli_torchscript(tmp_path, capsys):
    ckpt = save_model(tmp_path / "m.pt", _tiny())
    out = tmp_path / "m.torchscript.pt"
    assert main(["export", "--checkpoint", str(ckpt), "--torchscript", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "TorchScript" in printed and "max abs diff" in printed and out.is_file()
    assert main(["export", "--checkpoint", str(ckpt)]) == 2
    assert "nothing to export" in capsys.readouterr().err


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_torchscript_moves_its_output_like_unetlab(tmp_path, padding):
    """A model with a label offset: the file's probabilities are unetlab's own prediction
    path's (moved, and for a valid net one size step smaller per side) at another size."""
    from unetlab.inference.predict import probability_fn

    model = _tiny(padding=padding)
    model.label_offset = (-0.5, 0.25)
    export_torchscript(model, tmp_path / "m.pt")
    extra = {"unetlab.json": ""}
    loaded = torch.jit.load(str(tmp_path / "m.pt"), _extra_files=extra)
    meta = json.loads(extra["unetlab.json"])
    assert json.loads(meta["label_offset"]) == [-0.5, 0.25]
    assert json.loads(meta["label_offset_applied"]) is True  # a deployer must not move again
    assert meta["label_offset_formula"].startswith("already applied")
    crop = model.size_multiple if padding == "valid" else 0
    assert int(meta["border"]) == model.border + crop
    h, w = model.valid_input_sizes(model.min_input_size + 5 * model.size_multiple, 3)[::2]
    x = torch.randn(2, 1, h, w)
    with torch.inference_mode():
        expected = probability_fn(model)(x)
        unmoved = torch.softmax(model(x), 1)
        got = loaded(x)
    assert (
        got.shape
        == expected.shape
        == (2, 2, h - 2 * int(meta["border"]), w - 2 * int(meta["border"]))
    )
    assert float((got - expected).abs().max()) <= 1e-5
    assert (
        float(
            (
                got
                - unmoved[
                    ..., crop : h - 2 * model.border - crop, crop : w - 2 * model.border - crop
                ]
            )
            .abs()
            .max()
        )
        > 1e-3
    )


def test_a_moved_valid_net_refuses_a_size_its_move_would_empty(tmp_path):
    from unetlab.errors import UnetlabError

    model = _tiny()
    model.label_offset = (-0.5, 0.25)
    smallest = model.min_input_size + 2 * model.size_multiple
    with pytest.raises(UnetlabError, match=f"too small .* use {smallest} or more"):
        export_torchscript(model, tmp_path / "m.pt", input_size=model.min_input_size)
    assert not (tmp_path / "m.pt").exists()
    export_torchscript(model, tmp_path / "m.pt", input_size=smallest)


def test_an_unmoved_probability_net_names_no_label_offset_in_its_size_errors():
    model = _tiny()
    unmoved = ProbabilityUNet(**asdict(model.config))
    with pytest.raises(UnetlabError) as err:
        unmoved.output_size(model.min_input_size - 1)
    assert "label offset" not in str(err.value) and "not a valid input size" in str(err.value)
    moved = ProbabilityUNet(**asdict(model.config), label_offset=(0.5, 0.0))
    with pytest.raises(UnetlabError, match="moved by its label offset"):
        moved.output_size(model.min_input_size)


def test_a_valid_net_torchscript_gives_unetlab_map_at_any_size(tmp_path):
    """Off its size rule the traced valid net returned a wrong map: now it extends the input
    to a valid size inside (export.AnySize), moved nets included."""
    import numpy as np

    from tests.test_export import valid_net_oracle

    model = _tiny(3)
    model.label_offset = (-0.5, 0.25)
    export_torchscript(model, tmp_path / "v.pt")
    loaded = torch.jit.load(str(tmp_path / "v.pt"))
    net = probability_model(model)
    plain = _tiny(3)
    plain.load_state_dict(model.state_dict())
    image = np.random.default_rng(2).standard_normal((1, 45, 58)).astype(np.float32)
    b = net.border  # the move costs a size step more per side
    mirrored = np.pad(image, ((0, 0), (b, b), (b, b)), mode="reflect")
    with torch.inference_mode():
        got = loaded(torch.from_numpy(mirrored)[None])[0].numpy()
    # the oracle: unetlab's map of the image (padded by the plain border), then moved
    from unetlab.inference.offset import shift_probabilities

    logits = torch.from_numpy(valid_net_oracle(plain, image, pad=b))
    expected = shift_probabilities(logits.softmax(0), model.label_offset, crop=net.offset_crop)
    assert got.shape == (3, 45, 58)
    assert np.abs(got - expected.numpy()).max() < 1e-5


def test_two_exports_are_the_same_bytes(tmp_path):
    """The archive's root folder was named after the temporary file and torch writes a random
    serialization id, so every export (and a package's sha256) differed; the check's figures
    came from unseeded inputs. A second export in one process was named apart by torch
    (___torch_mangle_N) and held the caller's lines: now both in one process (this test ran
    two fresh processes, 31 s on the loaded 2-core machine)."""
    import hashlib

    torch.manual_seed(0)
    m = UNet(1, 2, depth=2, base_channels=2).eval()
    torch.jit.trace(m, torch.zeros(1, 1, 20, 20))  # a trace before: torch counts on from it
    runs = [export_torchscript(m, tmp_path / f"{i}.pt").max_abs_diff for i in (1, 2)]
    digests = {hashlib.sha256((tmp_path / f"{i}.pt").read_bytes()).hexdigest() for i in (1, 2)}
    assert len(digests) == 1 and runs[0] == runs[1]
    loaded = torch.jit.load(str(tmp_path / "1.pt"))
    assert loaded(torch.zeros(1, 1, 20, 20)).shape == (1, 2, 4, 4)


@pytest.mark.parametrize("offset", [(0.0, 0.0), (-0.5, 0.25)])
def test_a_same_net_torchscript_runs_any_size_as_unetlab_predicts(tmp_path, offset):
    """A same-padding depth-4 net takes multiples of 8: its traced graph raised torch's
    traceback on a 90 x 70 image. Now the graph mirrors the input to the next multiple
    inside and crops back, so one trace runs two odd sizes and gives predict_image's map."""
    import numpy as np

    from unetlab import predict_image

    torch.manual_seed(0)
    model = UNet(1, 2, depth=4, base_channels=4, padding="same").eval()
    model.normalization = {"mode": "fixed", "mean": [0.0], "std": [1.0]}  # the image as it is
    model.label_offset = offset
    export_torchscript(model, tmp_path / "s.pt")
    loaded = torch.jit.load(str(tmp_path / "s.pt"))
    for h, w in ((90, 70), (33, 47)):
        image = np.random.default_rng(h).standard_normal((h, w)).astype(np.float32)
        with torch.inference_mode():
            got = loaded(torch.from_numpy(image)[None, None])[0].numpy()
        expected = predict_image(model, image)
        assert got.shape == expected.shape == (2, h, w)
        assert np.abs(got - expected).max() < 1e-5
