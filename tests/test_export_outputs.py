"""export_onnx and export_torchscript from Python follow the output rule ``unetlab export``
follows (audit s35 api 1: they replaced a user's notes and a PNG without a word)."""

from __future__ import annotations

import pytest

from unetlab.checkpoint import save_model
from unetlab.errors import OutputError
from unetlab.inference.export import export_onnx, export_torchscript
from unetlab.models import UNet

# torch 2.13 deprecates TorchScript; deepImageJ and QuPath still need TorchScript files
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SUFFIX = {"onnx": ".onnx", "torchscript": ".ts"}


def _export(kind: str):
    if kind == "onnx":
        pytest.importorskip("onnx")
    return {"onnx": export_onnx, "torchscript": export_torchscript}[kind]


@pytest.mark.parametrize("kind", ["onnx", "torchscript"])
def test_a_users_file_is_refused_and_left_as_it_was(tmp_path, kind):
    export = _export(kind)
    model = UNet(1, 2, depth=2, base_channels=4).eval()
    notes = tmp_path / f"notes{SUFFIX[kind]}"
    notes.write_bytes(b"my notes\n")
    with pytest.raises(OutputError, match="not written by unetlab.*pass overwrite=True"):
        export(model, notes, check=False)
    assert notes.read_bytes() == b"my notes\n"
    photo = tmp_path / "photo.png"  # another format's name: a typo, even with overwrite
    photo.write_bytes(b"\x89PNG a picture")
    with pytest.raises(OutputError, match="would replace this .png file"):
        export(model, photo, check=False, overwrite=True)
    assert photo.read_bytes() == b"\x89PNG a picture"
    # without overwrite too: it was told to "pass overwrite=True", which is then refused
    with pytest.raises(OutputError, match="would replace this .png file") as got:
        export(model, photo, check=False)
    assert "overwrite" not in str(got.value)
    assert ": this call would replace" in str(got.value)  # not "unetlab export" (s56)

    export(model, notes, check=False, overwrite=True)  # asked for: replaced
    made = notes.read_bytes()
    assert made != b"my notes\n"
    notes.write_bytes(b"stale")  # a file the export wrote is replaced without asking
    export(model, notes, check=False)
    assert notes.read_bytes() == made


def test_the_models_own_checkpoint_is_never_replaced(tmp_path):
    model = UNet(1, 2, depth=2, base_channels=4).eval()
    checkpoint = save_model(tmp_path / "m.ts", model)
    model.checkpoint = str(checkpoint.resolve())  # as load_model records it
    before = checkpoint.read_bytes()
    with pytest.raises(OutputError, match="would write over its input"):
        export_torchscript(model, checkpoint, check=False, overwrite=True)
    assert checkpoint.read_bytes() == before


def test_the_command_lists_each_export_once(tmp_path):
    """unetlab export claimed its files, then export_onnx / export_torchscript claimed them
    again: each was listed twice in the folder's manifest (review of the change)."""
    from unetlab.cli import main
    from unetlab.outputs import MANIFEST

    pytest.importorskip("onnx")
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    argv = ["export", "--checkpoint", str(tmp_path / "m.pt")]
    assert (
        main([*argv, "--onnx", str(tmp_path / "m.onnx"), "--torchscript", str(tmp_path / "m.ts")])
        == 0
    )
    lines = (tmp_path / MANIFEST).read_text().splitlines()
    for name in ("m.onnx", "m.ts"):
        assert sum(line.split("\t")[0] == name for line in lines) == 1, lines


@pytest.mark.parametrize("kind", ["onnx", "torchscript"])
def test_an_export_of_another_checkpoint_is_kept(tmp_path, kind, capsys):
    """An export of one checkpoint replaced another checkpoint's export without a word (s68
    deploy walk: a stopped run's last.pt over the deployed best.pt's model.onnx): it is kept,
    as evaluate keeps another checkpoint's report; the same checkpoint's is replaced."""
    from unetlab.checkpoint import load_model
    from unetlab.cli import main
    from unetlab.inference.export import exported_source

    export = _export(kind)
    deployed = save_model(tmp_path / "best.pt", UNet(1, 2, depth=2, base_channels=4))
    other = save_model(tmp_path / "last.pt", UNet(1, 2, depth=2, base_channels=4))
    path = tmp_path / f"model{SUFFIX[kind]}"
    export(load_model(deployed), path, check=False)
    made = path.read_bytes()
    export(load_model(deployed), path, check=False)  # the same checkpoint again: replaced
    with pytest.raises(OutputError, match=r"is the export of best.pt \(sha256 .*not of last.pt"):
        export(load_model(other), path, check=False)
    assert path.read_bytes() == made
    flag = {"onnx": "--onnx", "torchscript": "--torchscript"}[kind]
    args = ["export", "--checkpoint", str(other), flag, str(path), "--no-check"]
    assert main(args) == 2
    assert capsys.readouterr().err.strip().endswith("or --overwrite to replace it")
    assert path.read_bytes() == made
    export(load_model(other), path, check=False, overwrite=True)
    assert exported_source(path)["checkpoint"] == "last.pt"
