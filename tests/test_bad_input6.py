"""Bad input, s56 badinput6: one clear line, whose fix is one that works."""

from pathlib import Path

from .test_bad_input5 import _cli_refusal, _cyx


def _parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_a_band_list_longer_than_the_inputs_channels_is_not_told_to_list_fewer(tmp_path, capsys):
    """``--channel 2 1 0`` of 2-channel inputs with a 3-channel model was told "list at most
    2 bands", which that model then refuses (it takes 3, and bands are distinct): the line
    says no list of these inputs feeds it, and names inputs or a model that fit."""
    a, b = _cyx(tmp_path / "in" / "a.tif", 2), _cyx(tmp_path / "in" / "b.tif", 2)
    line = _cli_refusal(tmp_path, [a, b], ["2", "1", "0"], capsys)
    assert "list at most" not in line
    assert line.endswith(
        "fewer than the 3 bands listed (a 3-channel model's); give inputs of 3 channels or "
        "more, or predict them with a model of 2 channels or fewer (no list of theirs feeds "
        "a 3-channel one)"
    ), line
    shorter = _cli_refusal(tmp_path / "2", [a, b], ["1", "0"], capsys)  # the old advice
    assert "but the model takes 3 channel" in shorter, shorter
