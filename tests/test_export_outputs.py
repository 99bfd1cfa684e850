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


def test_a_best_pt_rewritten_at_its_runs_end_is_the_same_model(tmp_path):
    """Its run's end recorded in best.pt (same model, other bytes) made its export "the
    export of best.pt (sha256 ...), not of best.pt (sha256 ...)" (s68 review): replaced, as
    predict and evaluate name both the same model; best.pt trained on since is another."""
    pytest.importorskip("onnx")
    from unetlab.checkpoint import load_model, update_checkpoint

    net = UNet(1, 2, depth=2, base_channels=4)
    best = save_model(tmp_path / "best.pt", net, train_state={"epoch": 8, "step": 64})
    path = tmp_path / "model.onnx"
    export_onnx(load_model(best), path, check=False)
    update_checkpoint(best, same_model=True, run_progress={"finished": True})
    export_onnx(load_model(best), path, check=False)  # the same model: replaced
    made = path.read_bytes()
    save_model(best, net, overwrite=True, train_state={"epoch": 12, "step": 96})
    with pytest.raises(OutputError) as kept:
        export_onnx(load_model(best), path, check=False)
    assert f"{path} is the export of best.pt (sha256 " in str(kept.value)
    assert str(kept.value).endswith(
        ", step 96: another run's, or trained on since): give another name, "
        "or overwrite=True to replace it"
    )
    assert path.read_bytes() == made


def test_another_runs_best_pt_is_not_said_to_have_changed(tmp_path, capsys):
    """Export records hold the checkpoint's file name only: runs/b's best.pt to the file of
    runs/a's was refused as "best.pt has changed since (epoch 40 -> 12)" (s68 re-review,
    two_runs.py), of a file that had not; both are named, and which it is left open."""
    from unetlab.cli import main

    pytest.importorskip("onnx")
    for run, epoch in (("a", 40), ("b", 12)):
        (tmp_path / run).mkdir()
        net = UNet(1, 2, depth=2, base_channels=4)
        save_model(tmp_path / run / "best.pt", net, train_state={"epoch": epoch, "step": 8 * epoch})
    path = tmp_path / "model.onnx"
    args = ["export", "--onnx", str(path), "--no-check", "--checkpoint"]
    assert main([*args, str(tmp_path / "a" / "best.pt")]) == 0
    made = path.read_bytes()
    capsys.readouterr()
    assert main([*args, str(tmp_path / "b" / "best.pt")]) == 2
    err = capsys.readouterr().err.strip()
    assert "changed since" not in err
    assert f"{path} is the export of best.pt (sha256 " in err
    assert ", epoch 40, step 320), not of this best.pt (sha256 " in err
    assert err.endswith(
        ", epoch 12, step 96: another run's, or trained on since): give another name, "
        "or --overwrite to replace it"
    )
    assert path.read_bytes() == made


def test_a_refused_export_lists_none_of_its_files(tmp_path):
    """``export --onnx new.onnx --torchscript other.ts``, other.ts another checkpoint's
    export, was refused after new.onnx was listed as pending in .unetlab-outputs (s68 review
    case D): the source is asked first."""
    from unetlab.checkpoint import load_model
    from unetlab.cli import main
    from unetlab.outputs import MANIFEST

    pytest.importorskip("onnx")
    best = save_model(tmp_path / "best.pt", UNet(1, 2, depth=2, base_channels=4))
    last = save_model(tmp_path / "last.pt", UNet(1, 2, depth=2, base_channels=4))
    export_torchscript(load_model(best), tmp_path / "other.ts", check=False)
    new = tmp_path / "new.onnx"
    args = ["--onnx", str(new), "--torchscript", str(tmp_path / "other.ts"), "--no-check"]
    assert main(["export", "--checkpoint", str(last), *args]) == 2
    assert not new.exists()
    names = [line.split("\t")[0] for line in (tmp_path / MANIFEST).read_text().splitlines()]
    assert "new.onnx" not in names, names


def test_another_checkpoints_package_is_kept(tmp_path, capsys):
    """A stopped run's last.pt replaced the deployed best.pt's package without a word (s68
    review), though README says every export replaces only one of the same checkpoint."""
    from unetlab.checkpoint import load_model
    from unetlab.cli import main
    from unetlab.inference.bioimageio import export_bioimageio
    from unetlab.inference.export import exported_source
    from unetlab.outputs import MANIFEST

    pytest.importorskip("onnx")
    best = save_model(tmp_path / "best.pt", UNet(1, 2, depth=2, base_channels=4))
    last = save_model(tmp_path / "last.pt", UNet(1, 2, depth=2, base_channels=4))
    package = tmp_path / "pkg.zip"
    args = ["--bioimageio", str(package), "--weights", "pytorch_state_dict", "--no-check"]
    assert main(["export", "--checkpoint", str(best), *args]) == 0
    made = package.read_bytes()
    assert main(["export", "--checkpoint", str(last), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert "pkg.zip is the export of best.pt (sha256 " in err and ", not of last.pt (" in err
    assert err.endswith("or --overwrite to replace it")
    assert package.read_bytes() == made
    with pytest.raises(OutputError, match="not of last.pt .*or overwrite=True to replace it"):
        export_bioimageio(load_model(last), package, weight_formats=("pytorch_state_dict",))
    assert package.read_bytes() == made
    # with --onnx too: refused before new.onnx is written or listed (s68 re-review,
    # pkg_and_onnx.py: claim_exports wrote it into the manifest, then the package refused)
    new = tmp_path / "new.onnx"
    assert main(["export", "--checkpoint", str(last), "--onnx", str(new), *args]) == 2
    assert "pkg.zip is the export of best.pt (sha256 " in capsys.readouterr().err
    assert not new.exists() and package.read_bytes() == made
    manifest = tmp_path / MANIFEST  # with the package refused first: none is written
    listed = manifest.read_text() if manifest.exists() else ""
    assert "new.onnx" not in [line.split("\t")[0] for line in listed.splitlines()], listed
    assert main(["export", "--checkpoint", str(last), *args, "--overwrite"]) == 0
    assert exported_source(package)["checkpoint"] == "last.pt"


def test_source_words_ends_its_parenthesis_with_the_note_it_is_given():
    """The refusal cut source_words' closing parenthesis off its text (``other[:-1]``) to
    add its note (s69): the note is an argument."""
    from unetlab.checkpoint import source_words

    source = {"checkpoint": "best.pt", "sha256": "5bf90e326aba" + "0" * 52, "epoch": 4}
    assert source_words(source) == "best.pt (sha256 5bf90e326aba, epoch 4)"
    assert source_words(source | {"step": 59}, note=": another run's") == (
        "best.pt (sha256 5bf90e326aba, epoch 4, step 59: another run's)"
    )


@pytest.mark.parametrize("kind", ["onnx", "torchscript"])
def test_a_copy_of_best_pt_from_before_its_runs_end_is_the_same_model(tmp_path, kind):
    """An export of best.pt made after its run's end recorded only the rewritten file's
    sha256, so the same export from a copy of best.pt kept from before the end was refused
    as "the export of best.pt (...), not of this best.pt (...: another run's, or trained on
    since)" (s69 deploy walk): the record keeps the file's same_model_sha256, and either
    file's export is the other's to replace."""
    from unetlab.checkpoint import load_model, update_checkpoint
    from unetlab.data.split_record import file_sha256
    from unetlab.inference.export import exported_source
    from unetlab.model_identity import SAME_MODEL

    export = _export(kind)
    best = save_model(tmp_path / "run" / "best.pt", UNet(1, 2, depth=2, base_channels=4))
    kept = tmp_path / "kept" / "best.pt"  # a copy of the file as it was before the run ended
    kept.parent.mkdir()
    kept.write_bytes(best.read_bytes())
    update_checkpoint(best, same_model=True, run_progress={"finished": True})
    path = tmp_path / f"model{SUFFIX[kind]}"
    export(load_model(best), path, check=False)
    assert exported_source(path)[SAME_MODEL] == file_sha256(kept)
    export(load_model(kept), path, check=False)  # the same model: replaced
    assert exported_source(path)["sha256"] == file_sha256(kept)
    export(load_model(best), path, check=False)  # and back
    assert exported_source(path)["sha256"] == file_sha256(best)
