"""ONNX export: the file's logits match PyTorch's at sizes other than the traced one."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from unetlab.checkpoint import save_model  # noqa: E402
from unetlab.cli import main  # noqa: E402
from unetlab.errors import UnetlabError, first_line  # noqa: E402
from unetlab.inference.export import OnnxRunner, export_onnx  # noqa: E402
from unetlab.inference.tiling import Geometry  # noqa: E402
from unetlab.models import UNet  # noqa: E402


def _tiny(**kw) -> UNet:
    return UNet(1, 2, depth=3, base_channels=4, **kw).eval()


@pytest.mark.parametrize(
    "kw", [{}, {"padding": "same", "norm": "batch", "upsample": "bilinear", "fusion": "add"}]
)
def test_export_matches_pytorch_at_other_sizes_and_batches(tmp_path, kw):
    model = _tiny(**kw)
    model.classes = ["membrane", "cell"]
    model.label_values = [0, 255]
    report = export_onnx(model, tmp_path / "m.onnx")
    assert report.max_abs_diff < 1e-4
    assert report.checked_shape[0] == 2 and report.checked_shape[2] != report.traced_shape[2]
    runner = OnnxRunner(tmp_path / "m.onnx")
    size = model.valid_input_sizes(100, 1)[0]
    x = torch.randn(3, 1, size, size + model.size_multiple)
    with torch.inference_mode():
        expected = model(x)
    got = runner(x.contiguous(memory_format=torch.channels_last))
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5)
    assert runner.classes == ["membrane", "cell"] and runner.label_values == [0, 255]
    assert Geometry.of(runner) == Geometry.of(model)


def test_static_export_and_invalid_size(tmp_path):
    model = _tiny()
    report = export_onnx(model, tmp_path / "s.onnx", input_size=76, dynamic=False)
    assert report.checked_shape == (1, 1, 76, 76) and not report.dynamic
    with pytest.raises(ValueError, match="nearest|valid"):
        export_onnx(model, tmp_path / "bad.onnx", input_size=77)
    assert not (tmp_path / "bad.onnx").exists()


def test_an_opset_newer_than_torch_exports_is_one_line_and_no_file(tmp_path, capfd):
    """torch warned, dumped the whole graph to stderr, then refused: now one line, first."""
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    with pytest.raises(UnetlabError, match=r"^opset 572: .*not supported; try opset=17$") as e:
        export_onnx(model, tmp_path / "new.onnx", opset=572)
    assert capfd.readouterr().err == "" and not (tmp_path / "new.onnx").exists()
    assert first_line(e.value, cli=True).endswith("; try --opset 17")  # the command's (s54)


def test_runner_rejects_foreign_files(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(UnetlabError, match="cannot load"):
        OnnxRunner(bad)


def test_cli_export(tmp_path, capsys):
    ckpt = save_model(tmp_path / "m.pt", _tiny())
    assert main(["export", "--checkpoint", str(ckpt), "--onnx", str(tmp_path / "m.onnx")]) == 0
    out = capsys.readouterr().out
    assert "checked against PyTorch" in out and "max abs diff" in out
    assert main(["export", "--checkpoint", str(tmp_path / "none.pt"), "--onnx", "x.onnx"]) == 2


def test_runner_refuses_a_graph_that_returns_probabilities(tmp_path):
    from unetlab.inference.export import probability_model

    # a bioimage.io package's ONNX weights: softmax inside; the engine would apply it twice
    export_onnx(probability_model(_tiny()), tmp_path / "p.onnx")
    with pytest.raises(UnetlabError, match="returns probabilities"):
        OnnxRunner(tmp_path / "p.onnx")
    assert OnnxRunner(tmp_path / "p.onnx", outputs=("probabilities",)).num_classes == 2


def test_onnx_logits_carry_the_offset_for_unetlab_to_apply(tmp_path, capsys):
    from unetlab.checkpoint import save_model
    from unetlab.cli import main
    from unetlab.inference.predict import probability_fn

    model = _tiny(padding="same")
    model.label_offset = (0.5, -0.25)
    export_onnx(model, tmp_path / "m.onnx")
    runner = OnnxRunner(tmp_path / "m.onnx")
    assert runner.label_offset == (0.5, -0.25)
    x = torch.randn(1, 1, 48, 64)
    with torch.inference_mode():
        assert torch.allclose(probability_fn(runner)(x), probability_fn(model)(x), atol=1e-5)
    ckpt = save_model(tmp_path / "m.pt", model)
    assert main(["export", "--checkpoint", str(ckpt), "--onnx", str(tmp_path / "c.onnx")]) == 0
    assert "ONNX file's logits are not moved" in capsys.readouterr().out
    assert main(["export", "--checkpoint", str(ckpt), "--torchscript", str(tmp_path / "c.pt")]) == 0
    assert "not moved" not in capsys.readouterr().out


def test_dynamic_export_says_its_size_rule_and_checks_a_non_square_size(tmp_path, capsys):
    """The line and the metadata say the size rule; the check runs a second, non-square
    size off the step; a 203 x 301 image runs as it is (the graph pads it inside) and as
    padded by hand to 208 x 304, which gave the only right map before."""
    import json

    import numpy as np
    import onnxruntime

    from unetlab.data.classes import voc_colormap

    model = UNet(3, 7, depth=4, base_channels=4, padding="same").eval()
    model.classes, model.label_values = [f"c{i}" for i in range(7)], list(range(7))
    model.palette, model.ignore_value = voc_colormap(256).tolist(), 255
    report = export_onnx(model, tmp_path / "m.onnx")
    assert report.also_checked[0] == 1 and report.also_checked[2] != report.also_checked[3]
    assert {report.also_checked[2], report.also_checked[3]}.isdisjoint({report.checked_shape[2]})
    ckpt = save_model(tmp_path / "m.pt", model)
    assert main(["export", "--checkpoint", str(ckpt), "--onnx", str(tmp_path / "c.onnx")]) == 0
    out = capsys.readouterr().out
    assert "height and width dynamic: any size, output the input's size (the graph" in out
    assert "checked against PyTorch at 2x3x32x32 and 1x3x43x49" in out
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    meta = session.get_modelmeta().custom_metadata_map
    assert (
        "pads it at the bottom and right by reflection to the next multiple of 8"
        in (meta["size_rule"])
    )
    assert "max(std_c, 1e-06)" in meta["normalization_formula"]
    assert json.loads(meta["class_colors"])[:3] == [[0, 0, 0], [128, 0, 0], [0, 128, 0]]
    assert json.loads(meta["ignore_value"]) == 255
    image = np.random.default_rng(0).random((1, 3, 203, 301), np.float32)
    padded = np.pad(image, ((0, 0), (0, 0), (0, 5), (0, 3)), mode="reflect")  # 208 x 304
    (logits,) = session.run(None, {"image": padded})
    with torch.inference_mode():
        expected = model(torch.from_numpy(padded)).numpy()
    assert np.allclose(logits, expected, atol=1e-4)  # then crop: [..., :203, :301]
    (inside,) = session.run(None, {"image": image})  # the graph pads and crops itself
    assert inside.shape == (1, 7, 203, 301)
    assert np.allclose(inside, expected[..., :203, :301], atol=1e-4)


def test_a_same_net_graph_gives_unetlab_probabilities_at_odd_sizes(tmp_path):
    """A same-padding depth-4 net's graph failed off multiples of 8 (onnxruntime's error):
    now one export runs 90 x 70 and 33 x 47 and gives predict_image's probabilities."""
    import numpy as np

    from unetlab import predict_image

    torch.manual_seed(0)
    model = UNet(1, 2, depth=4, base_channels=4, padding="same").eval()
    model.normalization = {"mode": "fixed", "mean": [0.0], "std": [1.0]}  # the image as it is
    export_onnx(model, tmp_path / "s.onnx")
    runner = OnnxRunner(tmp_path / "s.onnx")
    for h, w in ((90, 70), (33, 47)):
        image = np.random.default_rng(h).standard_normal((h, w)).astype(np.float32)
        got = runner(torch.from_numpy(image)[None, None]).softmax(1)[0].numpy()
        expected = predict_image(model, image)
        assert got.shape == expected.shape == (2, h, w)
        assert np.abs(got - expected).max() < 1e-5


def test_size_rule_of_a_valid_net():
    from unetlab.inference.export import size_recipe, size_rule

    paper = UNet.from_preset("paper").to("meta")
    assert size_rule(paper) == (
        "any size, output 184 px smaller (mirror-pad the image by 92 px first; the graph "
        "extends it to 188 + a multiple of 16)"
    )
    assert "188 + a multiple of 16 px: 188, 204, ..." in size_recipe(paper)
    assert "by reflection, 92 px on every side, and run" in size_recipe(paper)


def valid_net_oracle(model, image, pad: int | None = None):
    """Logits of an (C, H, W) image as unetlab's tiling makes them: mirrored by ``pad`` px
    (default the border) on every side and on to the next valid size, run whole, cropped to
    (K, H + 2 e, W + 2 e), e = ``pad`` - border."""
    import numpy as np

    from unetlab.models.sizes import nearest_valid_sizes

    pad = model.border if pad is None else pad
    (h, w), extra = image.shape[1:], 2 * (pad - model.border)
    th, tw = (nearest_valid_sizes(n + 2 * pad, model.depth, "valid") for n in (h, w))
    th, tw = (lo if lo == n + 2 * pad else up for (lo, up), n in ((th, h), (tw, w)))
    padded = np.pad(image, ((0, 0), (pad, th - h - pad), (pad, tw - w - pad)), mode="reflect")
    with torch.inference_mode():
        return model(torch.from_numpy(padded)[None])[0, :, : h + extra, : w + extra].numpy()


@pytest.mark.parametrize("size", [(37, 51), (40, 47), (25, 29)])
def test_a_valid_net_graph_gives_unetlab_map_at_any_size(tmp_path, size):
    """The traced valid net ran any size and returned a wrong map off its rule (88% of the
    pixels right on a 300 x 517 image): its graph now extends the input to a valid size."""
    import numpy as np
    import onnxruntime

    model = _tiny()  # border 20, valid sizes 44 + 4k
    export_onnx(model, tmp_path / "v.onnx")
    image = np.random.default_rng(1).standard_normal((1, *size)).astype(np.float32)
    b = model.border
    mirrored = np.pad(image, ((0, 0), (b, b), (b, b)), mode="reflect")[None]
    session = onnxruntime.InferenceSession(str(tmp_path / "v.onnx"))
    (logits,) = session.run(None, {"image": mirrored})
    assert logits.shape == (1, 2, *size)
    assert np.abs(logits[0] - valid_net_oracle(model, image)).max() < 1e-4


def test_a_valid_net_graph_is_unchanged_at_valid_sizes_and_empty_below_its_window(tmp_path):
    import numpy as np

    model = _tiny()
    export_onnx(model, tmp_path / "v.onnx", opset=11)
    runner = OnnxRunner(tmp_path / "v.onnx")
    x = torch.randn(2, 1, 44, 48)
    with torch.inference_mode():
        assert torch.allclose(runner(x), model(x), atol=1e-5)
    b = model.border
    assert tuple(runner(torch.randn(1, 1, 2 * b, 2 * b + 1)).shape) == (1, 2, 0, 1)
    one = runner(torch.randn(1, 1, 2 * b + 1, 2 * b + 2)).numpy()
    assert one.shape == (1, 2, 1, 2) and np.isfinite(one).all()


def _move_as_written(p, dy, dx):
    """out[k, i, j] = p[k, i - dy, j - dx], bilinear, edge values repeated (numpy)."""
    import numpy as np

    for axis, d in ((1, dy), (2, dx)):
        n = p.shape[axis]
        src = np.arange(n) - d
        lo = np.floor(src).astype(int)
        frac = (src - lo).reshape([-1 if a == axis else 1 for a in range(3)])
        a = np.take(p, np.clip(lo, 0, n - 1), axis=axis)
        b = np.take(p, np.clip(lo + 1, 0, n - 1), axis=axis)
        p = a * (1 - frac) + b * frac
    return p


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_the_onnx_label_offset_formula_gives_unetlab_map(tmp_path, padding):
    """The ONNX file recorded label_offset but not how to apply it (98.6% of an RGB model's
    labels as unetlab's when moved after the crop): its metadata now says, and following the
    words by hand gives unetlab's probabilities. A same net's words said to move "the padded
    map" but not that its graph crops that padding itself: a script moving the graph's output
    differed from predict in 5 of 153,209 labels (301 x 509 ISBI crop, s68 deploy walk); they
    now say to pad the image first, and which way the move goes."""
    import numpy as np
    import onnxruntime

    from unetlab.inference.predict import predict_image

    model = _tiny(padding=padding)
    model.label_offset = (-0.5, 0.75)
    export_onnx(model, tmp_path / "m.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["label_offset_applied"] == "false"
    words = meta["label_offset_formula"]
    assert "before it crops the padding: out[k, i, j] = p[k, i - dy, j - dx], bilinear" in words
    assert "(positive: down and right; here 0.50 px up, 0.75 px right)" in words
    image = np.random.default_rng(5).random((37, 45)).astype(np.float32)
    x = (image - image.mean()) / image.std()
    m = model.size_multiple
    if padding == "same":  # "mirror ... yourself at the bottom and right to ... {m} px"
        assert f"yourself at the bottom and right to the next multiple of {m} px" in words
        pads = ((0, -37 % m), (0, -45 % m))
        crop = (slice(0, 37), slice(0, 45))
    else:  # "mirrored by {border + step} px ... cropped by {step} px on every side"
        assert f"mirrored by {model.border + m} px" in words and f"cropped by {m} px" in words
        pads = ((model.border + m,) * 2, (model.border + m,) * 2)
        crop = (slice(m, m + 37), slice(m, m + 45))
    padded = np.pad(x, pads, mode="reflect")[None, None]
    (logits,) = session.run(None, {"image": padded})
    p = torch.from_numpy(logits[0]).softmax(0).numpy()
    moved = _move_as_written(p, -0.5, 0.75)[:, crop[0], crop[1]]
    np.testing.assert_allclose(moved, predict_image(model, image), atol=1e-4)
