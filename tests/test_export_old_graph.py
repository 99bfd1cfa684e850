"""An ONNX graph exported before every graph ran any height and width (98f83b36 for
same-padding nets, 999dd4dd for valid ones) fails inside on a size off its rule (ONNX
Runtime's Concat error for a same net) or, for a valid net, returns a wrong map without a
word. Such a file can be told: its ``size_rule`` metadata does not begin "any height and
width" (or it has none, older still). :class:`OnnxRunner` now refuses a size off the old
rule in one line naming the file and ``unetlab export``; on the rule it runs as before (the
tiling engine's tiles), and a graph of today runs any size."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from unetlab.errors import UnetlabError  # noqa: E402
from unetlab.inference import export  # noqa: E402
from unetlab.inference.export import OnnxRunner, write_onnx  # noqa: E402
from unetlab.models import UNet  # noqa: E402

OLD_RULE = "height and width must be multiples of 4 px: pad the normalised image at the bottom"


def _old_graph(monkeypatch, path, *, rule: str | None):
    """An ONNX file as unetlab wrote it before AnySize: the net traced as it is, its
    size_rule metadata ``rule`` (None: none, as before 91a99c39)."""
    model = UNet(1, 2, depth=3, base_channels=4, padding="same").eval()
    meta = export._metadata

    def old_metadata(model, pixel_size=None):
        found = meta(model, pixel_size)
        found.pop("size_rule")
        return found | ({"size_rule": rule} if rule is not None else {})

    with monkeypatch.context() as m:
        m.setattr(export, "exportable", lambda net: net)
        m.setattr(export, "_metadata", old_metadata)
        write_onnx(model, path, check=False)
    return model


@pytest.mark.parametrize("rule", [OLD_RULE, None])
def test_an_old_graph_is_refused_off_its_rule_in_one_line(tmp_path, monkeypatch, rule):
    path = tmp_path / "old.onnx"
    model = _old_graph(monkeypatch, path, rule=rule)
    runner = OnnxRunner(path)
    x = torch.randn(1, 1, 32, 40)  # on the old rule: as before
    with torch.inference_mode():
        assert torch.allclose(runner(x), model(x), atol=1e-5)
    with pytest.raises(UnetlabError) as refused:
        runner(torch.randn(1, 1, 30, 37))  # ONNX Runtime's Concat error before
    line = str(refused.value)
    assert "\n" not in line
    assert line.startswith(f"{path}: exported by an earlier unetlab")
    assert "30 x 37" in line and "unetlab export --checkpoint" in line


def test_a_graph_of_today_runs_any_size(tmp_path):
    path = tmp_path / "new.onnx"
    model = UNet(1, 2, depth=3, base_channels=4, padding="same").eval()
    write_onnx(model, path, check=False)
    assert OnnxRunner(path)(torch.randn(1, 1, 30, 37)).shape == (1, 2, 30, 37)
