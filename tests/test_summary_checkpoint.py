"""unetlab summary --checkpoint: the layer table of a trained net (audit s41: a user after
training got 'unrecognized arguments: --checkpoint')."""

from __future__ import annotations

from unetlab import UNet
from unetlab.checkpoint import save_model
from unetlab.cli import main


def test_summary_of_a_checkpoint_and_its_flags_refused_beside_it(tmp_path, capsys):
    net = UNet(1, 3, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "m.pt", net)
    assert main(["summary", "--checkpoint", str(tmp_path / "m.pt"), "--input-size", "64"]) == 0
    out = capsys.readouterr().out
    assert "Output size: 3x64x64" in out and "Input size: 1x64x64" in out
    assert main(["summary", "--checkpoint", str(tmp_path / "m.pt"), "--depth", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--depth" in err and "--checkpoint" in err
    assert main(["summary", "--checkpoint", str(tmp_path / "none.pt")]) == 2
    assert "no such checkpoint" in capsys.readouterr().err


def test_a_checkpoint_is_summarised_at_the_tile_size_it_was_trained_on(tmp_path, capsys):
    """A net trained on 128 px tiles was shown at 512 px (audit: a new user's nuclei)."""
    net = UNet(1, 3, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "m.pt", net, train_config={"data": {"tile_size": 128}})
    assert main(["summary", "--checkpoint", str(tmp_path / "m.pt")]) == 0
    out = capsys.readouterr().out
    assert "Input size: 1x128x128 (the training tiles')" in out and "Output size: 3x128x128" in out
    assert main(["summary", "--checkpoint", str(tmp_path / "m.pt"), "--input-size", "64"]) == 0
    out = capsys.readouterr().out
    assert "Input size: 1x64x64\n" in out  # as asked, no note
    save_model(tmp_path / "old.pt", net)  # no record: the default size as before
    assert main(["summary", "--checkpoint", str(tmp_path / "old.pt")]) == 0
    assert "Input size: 1x512x512\n" in capsys.readouterr().out
