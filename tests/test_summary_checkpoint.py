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
