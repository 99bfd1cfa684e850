"""Every "did you mean" names the closest name (errors.close_names): one slip of the fingers
before any other, then difflib's ratio, ties to the first listed. The lookups used difflib's
get_close_matches, which broke ties by the later name and named no preset, mode or choice."""

import pytest

from unetlab import UNet
from unetlab.config import load_config
from unetlab.errors import close_names, did_you_mean
from unetlab.inference.objects import ObjectOptions


def test_a_slip_beats_a_closer_looking_name_and_ties_go_to_the_first():
    # difflib: min_peak (ratio 0.75) and min_area (0.75) tie, the later one won
    assert close_names("min_prea", ["min_area", "min_peak"]) == ["min_area"]
    assert close_names("abcx", ["abcz", "abcy"]) == ["abcz"]
    assert close_names("abcx", ["abcy", "abcz"]) == ["abcy"]
    assert close_names("mdoe", ["mode", "zzzz"], n=3) == ["mode"]
    assert did_you_mean("xyzzy", ["paper", "small"]) == ""
    assert did_you_mean("flor", ["mode", "floor"], "data.normalization.") == (
        "did you mean data.normalization.floor? "
    )


def test_an_options_field_one_letter_off_names_that_field():
    with pytest.raises(ValueError, match="no field min_prea: did you mean min_area\\?"):
        ObjectOptions(min_prea=3)


@pytest.mark.parametrize(
    "override, meant",
    [
        ("model.preset=small-vaild", "small-valid"),
        ("train.loss=dcie", "dice"),
        ("model.encoder=resnet5", "resnet50"),
        ("data.normalization.mode=percentil", "percentile"),
        ("data.grey_masks=colors", "colours"),
        ("data.target=instance", "instances"),
    ],
)
def test_a_config_choice_one_letter_off_names_it(override, meant):
    with pytest.raises(ValueError, match=f"did you mean {meant}\\?"):
        load_config(None, [override])


def test_a_preset_one_letter_off_names_it():
    with pytest.raises(ValueError, match="unknown preset 'papr': did you mean paper\\? choose"):
        UNet.from_preset("papr")


@pytest.mark.parametrize(
    "command, meant",
    [
        (["evaluate", "--grey-masks", "colors"], "colours"),
        (["predict", "--blend", "gausian"], "gaussian"),
        (["train", "--preset", "smal"], "small"),
    ],
)
def test_a_flag_s_choice_one_letter_off_names_it(command, meant, capsys):
    """argparse's choices (--grey-masks, --blend, --preset) named no close one, where the
    same value in the config did ('data.grey_masks=colors': did you mean colours?)."""
    from unetlab.cli import main

    with pytest.raises(SystemExit) as stop:
        main(command)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"invalid choice: '{command[2]}': did you mean {meant}? choose from" in err
    assert len(err.strip().splitlines()) == 1
