"""export --bioimageio refuses a NaN sample and an unwritable folder in one line."""

from __future__ import annotations

import errno
import pathlib

import numpy as np
import pytest

from unetlab.data.io import write_tiff
from unetlab.errors import OutputError, UnetlabError
from unetlab.inference.bioimageio import export_bioimageio
from unetlab.models import UNet

FORMATS = ("pytorch_state_dict",)


def _tiny() -> UNet:
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.classes = ["background", "object"]
    return model


@pytest.mark.parametrize("where", [slice(40, 50), slice(None)])
def test_a_sample_with_nan_pixels_is_refused_naming_the_file(tmp_path, where):
    sample = np.ones((120, 120), np.float32)
    sample[where, where] = np.nan  # the package's test tensors were NaN, the export said done
    write_tiff(tmp_path / "nan.tif", sample)
    with pytest.raises(UnetlabError, match=r"nan\.tif: \d+ NaN or infinite pixel"):
        export_bioimageio(
            _tiny(), tmp_path / "p", sample=tmp_path / "nan.tif", weight_formats=FORMATS
        )
    with pytest.raises(UnetlabError, match="the sample image: 1 NaN or infinite"):
        sample[:] = 1
        sample[0, 0] = np.inf
        export_bioimageio(_tiny(), tmp_path / "p.zip", sample=sample, weight_formats=FORMATS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.tif"]  # nothing left behind


@pytest.mark.parametrize("name", ["m.zip", "pkg"])
@pytest.mark.parametrize("code", [errno.EPERM, errno.EROFS])
def test_an_unwritable_folder_is_one_line_naming_the_package(tmp_path, monkeypatch, name, code):
    mkdir = pathlib.Path.mkdir

    def refused(self, *args, **kwargs):  # root ignores chmod: refuse the build folder here
        if self.parent == tmp_path / "ro":
            raise OSError(code, "refused", str(self))
        return mkdir(self, *args, **kwargs)

    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(pathlib.Path, "mkdir", refused)
    with pytest.raises(OutputError, match=rf"ro/{name}: cannot write it \(refused\); "):
        export_bioimageio(_tiny(), tmp_path / "ro" / name, weight_formats=FORMATS)


def test_onnx_weights_without_onnx_name_the_install_and_the_weights_to_leave_out(
    tmp_path, monkeypatch
):
    """README's Fiji block after a plain ``pip install -e .``: the package's ONNX weights
    need onnx; it said 'ONNX export needs onnx' after it had built the sample, naming neither
    the bioimage.io package nor --weights (audit s40). Now refused before any work."""
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    with pytest.raises(UnetlabError, match=r"package's ONNX weights need onnx") as refused:
        export_bioimageio(_tiny(), tmp_path / "p.zip", sample=np.ones((64, 64), np.uint8))
    assert '"unetlab[onnx]"' in str(refused.value)
    assert "--weights torchscript,pytorch_state_dict" in str(refused.value)
    assert list(tmp_path.iterdir()) == []
