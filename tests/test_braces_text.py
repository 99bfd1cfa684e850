"""User text holding braces (a file named ``a{x}.tif``, a model named ``my {model} x``) in a
refusal's line: one line naming it, not a KeyError or IndexError of ``str.format`` run over
it (s56 review F2)."""

import re
import shutil

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data.io import write_png, write_tiff
from unetlab.errors import UnetlabError
from unetlab.inference.bioimageio import PackageInfo, export_bioimageio
from unetlab.models import UNet
from unetlab.train.init import refuse_checkpoint_as_encoder_weights
from unetlab.train.setup import check_stain_channels


def _braced_data(root) -> None:
    for stem in ("a{x}", "b{y}"):
        write_png(root / "images" / f"{stem}.png", np.zeros((16, 16), np.uint8))
        write_png(root / "masks" / f"{stem}.png", np.zeros((16, 16), np.uint8))


def test_stain_on_grey_images_of_braced_names_is_refused_in_one_line(tmp_path, capsys):
    _braced_data(tmp_path / "br")
    cfg = load_config(None, [f"data.root={tmp_path / 'br'}", "augment.stain=0.1"])
    with pytest.raises(UnetlabError) as refused:
        check_stain_channels(cfg)
    said = r"images, and (a\{x\}|b\{y\})\.png has 1 channel: "
    assert re.search(said + r"cfg\.augment\.stain = 0 turns", str(refused.value))
    argv = ["train", "--data", str(tmp_path / "br"), "--check", "--set", "augment.stain=0.1"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.search(said + "--set augment.stain=0 turns", err[0]), err


@pytest.mark.parametrize("name", ["my {model} x", "my {} model", "my {0} x"])
def test_a_package_name_with_braces_is_refused_naming_it(name):
    with pytest.raises(UnetlabError) as refused:
        PackageInfo(name=name)
    assert str(refused.value).startswith(f"model name {name!r}: bioimage.io wants 5-128")
    assert str(refused.value).endswith("choose another name (PackageInfo(name=...))")


def test_a_package_name_with_braces_is_refused_by_export(instance_checkpoint, capsys):
    out = instance_checkpoint.parent / "pkg"
    argv = ["export", "--checkpoint", str(instance_checkpoint), "--bioimageio", str(out)]
    assert main([*argv, "--name", "my {model} x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "model name 'my {model} x': bioimage.io wants" in err[0], err


def test_a_nan_sample_of_a_braced_name_is_refused_naming_it(tmp_path, instance_checkpoint, capsys):
    sample = np.ones((64, 64), np.float32)
    sample[:8, :8] = np.nan
    write_tiff(tmp_path / "s{x}.tif", sample)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.classes = ["background", "object"]
    with pytest.raises(UnetlabError, match=r"s\{x\}\.tif: 64 NaN or infinite pixel") as refused:
        export_bioimageio(model, tmp_path / "p", sample=tmp_path / "s{x}.tif")
    assert str(refused.value).endswith("or give another image as sample=")
    argv = ["export", "--checkpoint", str(instance_checkpoint), "--bioimageio", str(tmp_path / "q")]
    assert main([*argv, "--sample", str(tmp_path / "s{x}.tif")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "s{x}.tif: 64 NaN or infinite pixels" in err[0], err


def test_a_checkpoint_of_a_braced_name_as_encoder_weights_is_refused_naming_it(
    instance_checkpoint,
):
    weights = instance_checkpoint.parent / "w{x}.pt"
    shutil.copy(instance_checkpoint, weights)
    with pytest.raises(UnetlabError) as refused:
        refuse_checkpoint_as_encoder_weights(weights)
    assert str(refused.value).startswith(f"model.encoder_weights {weights} is a unetlab checkpoint")
    assert str(refused.value).endswith(
        f"set cfg.model.init_checkpoint = {str(weights)!r} instead; resume=True continues its "
        "own run"
    )
    assert refused.value.cli.endswith(
        "(unetlab train --init) instead; --resume continues its own run"
    )
