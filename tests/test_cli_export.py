"""`unetlab export`: paths refused before any work, each with the one line it gives."""

from __future__ import annotations

import pytest

from unetlab.cli import main


@pytest.fixture
def checkpoint(tmp_path):
    from unetlab.checkpoint import save_model
    from unetlab.models import UNet

    return str(save_model(tmp_path / "m.pt", UNet(1, 2, depth=3, base_channels=4)))


SAME = "{first} and {second} both name {here}/same.x: give each format its own file"


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (["--onnx", "same.x", "--torchscript", "same.x"], SAME),
        (["--onnx", "same.x", "--bioimageio", "./same.x"], SAME),
        (["--torchscript", "pkg/../same.x", "--bioimageio", "same.x"], SAME),
        (
            ["--onnx", "pkg/m.onnx", "--bioimageio", "pkg"],
            "--onnx {here}/pkg/m.onnx lies inside the --bioimageio folder {here}/pkg: write it "
            "elsewhere (the package replaces its folder whole)",
        ),
    ],
)
def test_export_refuses_two_formats_in_one_path(
    outputs, message, checkpoint, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--checkpoint", checkpoint, *outputs]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    line = message.format(first=outputs[0], second=outputs[2], here=tmp_path.resolve())
    assert captured.err.strip() == f"unetlab export: error: {line}"
    assert not (tmp_path / "same.x").exists() and not (tmp_path / "pkg").exists()


@pytest.mark.parametrize("flag", ["--onnx", "--torchscript"])
def test_export_over_a_picture_is_a_typo_even_with_overwrite(flag, checkpoint, tmp_path, capsys):
    """An audit's `export --onnx data/images/00.png --overwrite` replaced a training image."""
    picture = tmp_path / "00.png"
    picture.write_bytes(b"a picture")
    argv = ["export", "--checkpoint", checkpoint, flag, str(picture), "--overwrite"]
    assert main(argv) == 2
    assert "00.png: unetlab export would replace this .png file with" in capsys.readouterr().err
    assert picture.read_bytes() == b"a picture"


def test_a_model_the_package_cannot_hold_is_refused_before_any_format_is_written(tmp_path, capsys):
    """`--onnx a.onnx --bioimageio p` wrote a.onnx, then failed on the package."""
    from unetlab.checkpoint import save_model
    from unetlab.models import UNet

    model = UNet(1, 2, depth=3, base_channels=4)
    model.normalization = {"mode": "imagenet"}
    ckpt = str(save_model(tmp_path / "m.pt", model))
    argv = ["export", "--checkpoint", ckpt, "--onnx", str(tmp_path / "a.onnx")]
    argv += ["--torchscript", str(tmp_path / "a.pt"), "--bioimageio", str(tmp_path / "p")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "normalization mode 'imagenet' has no bioimage.io equivalent: export --onnx" in err
    assert not any(p.name.startswith(("a.", "p")) for p in tmp_path.iterdir())


@pytest.mark.parametrize("name", ["q.tar.gz", "q.tgz", "q.tar"])
def test_a_package_named_as_another_archive_is_refused(name, checkpoint, tmp_path, capsys):
    """`--bioimageio q.tar.gz` wrote a folder called q.tar.gz."""
    dest = tmp_path / "bad" / name
    assert main(["export", "--checkpoint", checkpoint, "--bioimageio", str(dest)]) == 2
    err = capsys.readouterr().err.strip()
    suffixes = name[1:]
    assert err.endswith(f"not {suffixes}: name it q.zip or q"), err
    assert not (tmp_path / "bad").exists()


def test_pixel_size_goes_into_onnx_and_torchscript_metadata(checkpoint, tmp_path, capsys):
    """--pixel-size was taken with --onnx/--torchscript alone and dropped."""
    import json

    import torch

    onnx = pytest.importorskip("onnx")
    argv = ["export", "--checkpoint", checkpoint, "--pixel-size", "0.5"]
    argv += ["--onnx", str(tmp_path / "o.onnx"), "--torchscript", str(tmp_path / "o.pt")]
    assert main([*argv, "--no-check"]) == 0
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "o.onnx")).metadata_props}
    assert json.loads(meta["pixel_size_um"]) == 0.5
    extra = {"unetlab.json": ""}
    torch.jit.load(str(tmp_path / "o.pt"), _extra_files=extra)
    assert json.loads(json.loads(extra["unetlab.json"])["pixel_size_um"]) == 0.5
    bad = ["export", "--checkpoint", checkpoint, "--pixel-size", "-1", "--onnx", "x.onnx"]
    assert main(bad) == 2
    assert "--pixel-size must be a positive number of micrometres, not -1.0" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--input-size", "101"], "101 is not a valid input size"),
        (["--opset", "3"], "opset 3 is too old for this graph"),
    ],
)
def test_a_refused_value_leaves_no_record_in_the_output_folder(
    flags, said, checkpoint, tmp_path, capsys
):
    """The outputs were claimed (a record in the folder's manifest) before these values
    were checked (s36 flags 8)."""
    out = tmp_path / "out"
    out.mkdir()
    argv = ["export", "--checkpoint", checkpoint, "--onnx", str(out / "m.onnx"), *flags]
    assert main(argv) == 2
    assert said in capsys.readouterr().err
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("flag", "name", "fix"),
    [("--onnx", "m.pt", "m.onnx"), ("--torchscript", "m.onnx", "m.pt")],
)
def test_an_export_named_for_another_format_is_refused(
    flag, name, fix, checkpoint, tmp_path, capsys
):
    """`--onnx m.pt` wrote an ONNX file that predict then read as a broken checkpoint."""
    out = tmp_path / "out"
    argv = ["export", "--checkpoint", checkpoint, flag, str(out / name), "--no-check"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.endswith(f"{flag} {out / fix}")
    assert not out.exists()


@pytest.mark.parametrize(
    "flag", [["--sample", "BAD.png"], ["--name", "my model"], ["--author", "A"]]
)
def test_a_package_flag_without_bioimageio_is_refused(flag, checkpoint, tmp_path, capsys):
    """s51 walkbad: `export --onnx x.onnx --sample BAD.png` exited 0, --sample unread."""
    onnx = tmp_path / "x.onnx"
    assert main(["export", "--checkpoint", checkpoint, "--onnx", str(onnx), *flag]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"unetlab export: error: {flag[0]} is read only for a --bioimageio package (its test "
        "tensors, cover and record): drop it, or add --bioimageio DIR"
    )
    assert not onnx.exists()
