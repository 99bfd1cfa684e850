"""A band list's refusal names the fix of the model it is for, whatever its count (s56 review
F1): more channels than the inputs have, one channel, a tree's, a TorchScript given."""

import warnings

import pytest
import torch

from unetlab.checkpoint import checkpoint_parts, parts_takes, save_model
from unetlab.cli import main
from unetlab.errors import UnetlabError
from unetlab.inference.every_file import Takes, refuse_for_every_file
from unetlab.models import UNet

from .test_bad_input5 import _cyx

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit in torch 2.13


def _net(tmp_path, channels: int):
    return save_model(
        tmp_path / f"m{channels}.pt", UNet(channels, 2, depth=2, base_channels=4, padding="same")
    )


def _refused(capsys, *args: str) -> str:
    """The one line ``predict ARGS`` says (exit 2)."""
    assert main(["predict", "--no-progress", *args]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    return line


def test_a_model_of_more_channels_than_the_inputs_is_fed_by_no_list_of_theirs(tmp_path, capsys):
    """``--channel 5 1 0`` of 3-channel inputs with a 4-channel model was told "give 4 bands
    among those (the model takes 4)", though bands are distinct and they have 3: the line says
    no list of theirs feeds it, in both forms."""
    a, b = _cyx(tmp_path / "in" / "a.tif", 3), _cyx(tmp_path / "in" / "b.tif", 3)
    four = _net(tmp_path, 4)
    args = ["--checkpoint", str(four), "--input", str(a), str(b), "--output", str(tmp_path / "o")]
    line = _refused(capsys, *args, "--channel", "5", "1", "0")
    assert "bands among" not in line, line
    fix = (
        "have 3 channels, fewer than the 4 the model takes; give inputs of 4 channels "
        "or more, or predict them with a model of 3 channels or fewer (no list of theirs "
        "feeds a 4-channel one)"
    )
    assert line.startswith("unetlab predict: error: --channel 5 1 0: band 5") and line.endswith(
        fix
    ), line
    with pytest.raises(UnetlabError) as refused:
        refuse_for_every_file(tmp_path / "in", [a, b], {"channel": [5, 1, 0]}, takes=Takes(4))
    assert str(refused.value).startswith("channel=[5, 1, 0]: band 5 is out of range")
    assert str(refused.value).endswith(fix)


def test_a_one_channel_model_is_told_to_give_one_channel(tmp_path, capsys):
    """A 1-channel model was told "give 1 bands among those (the model takes 1)": one of
    those, in both forms."""
    a, b = _cyx(tmp_path / "in" / "a.tif", 3), _cyx(tmp_path / "in" / "b.tif", 3)
    one = _net(tmp_path, 1)
    args = ["--checkpoint", str(one), "--input", str(a), str(b), "--output", str(tmp_path / "o")]
    line = _refused(capsys, *args, "--channel", "5", "1", "0")
    assert line.endswith(
        "(valid: --channel 0 to 2); give one of those (the model takes 1 channel)"
    ), line
    with pytest.raises(UnetlabError) as refused:
        refuse_for_every_file(tmp_path / "in", [a, b], {"channel": (5, 1, 0)}, takes=Takes(1))
    assert str(refused.value).endswith(
        "(valid: channel=0 to 2); give one of those (the model takes 1 channel)"
    )


def test_a_tree_s_band_list_is_told_the_checkpoint_s_fix(tmp_path, capsys):
    """``predict --recursive`` with a band list got the both-fixes line of a model not known
    yet, though the CLI has the checkpoint (the flat run reads its channels): the tree's
    line, and a folder's own where others have the bands, name that model's fix."""
    for name in ("a", "b"):
        _cyx(tmp_path / "tree" / "x" / f"{name}.tif", 2)
    four, three = _net(tmp_path, 4), _net(tmp_path, 3)
    args = ["--recursive", "--input", str(tmp_path / "tree"), "--output", str(tmp_path / "o")]
    line = _refused(capsys, "--checkpoint", str(four), *args, "--channel", "5", "1", "0")
    assert line.endswith("(no list of theirs feeds a 4-channel one)"), line
    assert "list at most" not in line, line
    _cyx(tmp_path / "tree" / "y" / "c.tif", 3)  # this folder has band 2: the tree goes on
    assert (
        main(
            [
                "predict",
                "--no-progress",
                "--checkpoint",
                str(three),
                *args,
                "--channel",
                "2",
                "1",
                "0",
            ]
        )
        == 3
    )
    (failed,) = [e for e in capsys.readouterr().err.splitlines() if "failed:" in e]
    assert "fewer than the 3 bands listed (a 3-channel model's)" in failed, failed
    assert "list at most" not in failed, failed


def test_a_torchscript_given_as_checkpoint_is_refused_alone(tmp_path, capsys):
    """Reading a TorchScript export's channels handed it to ``torch.jit.load``, whose
    two-line UserWarning came before the one-line refusal: not loaded, None, no warning."""
    a, b = _cyx(tmp_path / "in" / "a.tif", 2), _cyx(tmp_path / "in" / "b.tif", 2)
    torch.jit.save(torch.jit.script(torch.nn.Conv2d(2, 2, 1)), str(tmp_path / "ts.pt"))
    args = ["--checkpoint", str(tmp_path / "ts.pt"), "--input", str(a), str(b)]
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        assert parts_takes(checkpoint_parts(tmp_path / "ts.pt")) is None
        assert main(["predict", *args, "--output", str(tmp_path / "o"), "--channel", "1", "0"])
    assert not [w for w in said if w.category is not DeprecationWarning], said
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "ts.pt: a TorchScript export cannot be loaded back" in line, line


def test_inputs_of_one_count_have_it_exactly_and_of_several_at_most(tmp_path):
    """Inputs of 3 channels each were said to "have at most 3 channels" (s59): where every
    header gives one count exactly, the line says it exactly; "at most" where they differ."""
    a, b = _cyx(tmp_path / "same" / "a.tif", 3), _cyx(tmp_path / "same" / "b.tif", 3)
    with pytest.raises(UnetlabError) as same:
        refuse_for_every_file(tmp_path / "same", [a, b], {"channel": 5})
    assert f"all 2 inputs ({a}, ...) have 3 channels (valid: channel=0 to 2)" in str(same.value)
    c, d = _cyx(tmp_path / "mixed" / "c.tif", 2), _cyx(tmp_path / "mixed" / "d.tif", 3)
    with pytest.raises(UnetlabError) as mixed:
        refuse_for_every_file(tmp_path / "mixed", [c, d], {"channel": 5})
    assert f"({c}, ...) have at most 3 channels (valid: channel=0 to 2)" in str(mixed.value)
