"""Checkpoints: one self-describing file, reloaded exactly; foreign files get a clear error."""

import pytest
import torch

from unetlab.checkpoint import load_checkpoint, load_model, save_model
from unetlab.errors import CheckpointError
from unetlab.models import UNet


def tiny():
    model = UNet(3, 4, depth=3, base_channels=4, norm="batch", padding="same").eval()
    model.classes = ["bg", "a", "b", "c"]
    model.label_values = [0, 50, 100, 150]
    model.normalization = {"mode": "fixed", "mean": [1.0, 2.0, 3.0], "std": [4.0, 5.0, 6.0]}
    return model


def test_round_trip_gives_identical_outputs(tmp_path):
    model = tiny()
    with torch.no_grad():  # make the BN running stats non-trivial
        model.train()(torch.randn(2, 3, 16, 16))
    model.eval()
    path = save_model(tmp_path / "m.pt", model, step=7)
    loaded = load_model(path)
    x = torch.randn(1, 3, 24, 24)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert loaded.classes == model.classes
    assert loaded.label_values == model.label_values
    assert loaded.normalization == model.normalization
    assert loaded.config == model.config
    assert not loaded.training
    assert load_checkpoint(path)["step"] == 7
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temp file left behind


def test_foreign_and_truncated_files(tmp_path):
    path = save_model(tmp_path / "m.pt", tiny())
    truncated = tmp_path / "t.pt"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    text = tmp_path / "notes.pt"
    text.write_text("hello")
    plain = tmp_path / "plain.pt"
    torch.save(tiny().state_dict(), plain)
    for bad, reason in [
        (truncated, "truncated"),
        (text, "not a unetlab checkpoint"),
        (plain, "not a unetlab checkpoint"),
        (tmp_path / "none.pt", "no such"),
    ]:
        with pytest.raises(CheckpointError, match=reason):
            load_model(bad)


def test_checkpoint_holds_no_code(tmp_path):
    # weights_only loading refuses arbitrary pickled objects
    evil = tmp_path / "evil.pt"
    torch.save({"format": "unetlab", "obj": object()}, evil)
    with pytest.raises(CheckpointError):
        load_checkpoint(evil)


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    path = save_model(tmp_path / "m.pt", tiny())
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError):
        save_model(path, tiny(), overwrite=True)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_a_full_disk_while_saving_is_one_line_and_keeps_the_old_file(tmp_path, monkeypatch):
    """torch.save on a full disk raises a RuntimeError that says nothing of the disk."""
    import shutil
    from collections import namedtuple

    from unetlab.errors import OutputError

    path = save_model(tmp_path / "m.pt", tiny(), step=1)
    save = torch.save

    def full(obj, f, *args, **kwargs):
        f.write_bytes(b"PK\x03\x04 half")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 128 vs 0")

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(torch, "save", full)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 4096, 4096))
    with pytest.raises(OutputError, match=r"m.pt: cannot write it \(No space left on device\)"):
        save_model(path, tiny(), overwrite=True, step=2)
    monkeypatch.setattr(torch, "save", save)
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_a_torchscript_export_is_named_as_one_without_a_torch_warning(tmp_path):
    """Audit s31 upgrade 4: a .ts given as --checkpoint got torch's UserWarning and
    'truncated/corrupt'."""
    import warnings

    path = tmp_path / "m.ts"  # any suffix: the archive is recognised, not the name
    torch.jit.save(torch.jit.trace(tiny(), torch.randn(1, 3, 16, 16)), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CheckpointError, match="a TorchScript export cannot be loaded"):
            load_checkpoint(path)
        with pytest.raises(CheckpointError, match="a TorchScript export"):
            load_checkpoint(path.rename(tmp_path / "m.pt"))


@pytest.mark.parametrize(
    ("augment", "tta"),
    [
        ({"enabled": True, "flip": False, "rot90": False}, []),
        ({"enabled": True, "flip": True, "rot90": False}, ["identity", "hflip", "vflip", "rot180"]),
        ({"enabled": False, "flip": True, "rot90": True}, []),
        (None, None),  # no record: all 8 (inference.tta.model_tta)
    ],
)
def test_an_old_checkpoints_tta_comes_from_its_training_augmentation(tmp_path, augment, tta):
    """Audit s31 upgrade 5: a checkpoint from before the tta record (its flip flipped both
    axes: no vflip key) averages the transforms its recorded augmentation trained."""
    path = save_model(tmp_path / "m.pt", tiny(), train_config={"augment": augment})
    old = load_checkpoint(path)
    del old["tta"]
    torch.save(old, path)
    assert load_model(path).tta == tta
