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
        ("train.loss=dice+ce", "ce\\+dice"),  # its parts in another order: not dice alone
        ("train.loss=Dice+Focal", "focal\\+dice"),
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
        (["train", "--preset", "SMALL"], "small"),  # other case: difflib's ratio 0, unnamed
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


def test_a_slip_of_an_api_function_s_own_keyword_names_it(tmp_path):
    """predict_objects(min_aera=) and evaluate_model(ignore_valu=) go on to the prediction
    settings, whose line named those alone: 'unknown prediction setting min_aera: the
    settings are tile_size, ...', as if min_area were not taken; now its own keywords too."""
    import numpy as np

    from unetlab import evaluate_model, predict_objects
    from unetlab.errors import UnetlabError

    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    image = np.zeros((16, 16), np.uint8)
    for kw, meant in (("min_aera", "min_area"), ("objects_3D", "objects_3d")):
        with pytest.raises(UnetlabError, match=f"predict_objects has no keyword {kw}: did you "):
            predict_objects(net, image, **{kw: 3})
        with pytest.raises(UnetlabError, match=f"did you mean {meant}\\? its keywords are"):
            predict_objects(net, image, **{kw: 3})
    with pytest.raises(UnetlabError, match="no keyword ignore_valu: did you mean ignore_value"):
        evaluate_model(net, tmp_path, ignore_valu=255)


def test_a_name_typed_in_other_case_is_named():
    """close_names compared case as letters: SMALL, --EPOCHS and Paper were named by no
    did-you-mean (their ratio to small, --epochs, paper is 0 or low), though they are the
    names themselves; they come first, before slips."""
    from unetlab.errors import close_names

    assert close_names("SMALL", ["paper", "small", "small-valid"]) == ["small"]
    assert close_names("--EPOCHS", ["--epoch-size", "--epochs"]) == ["--epochs"]
    assert close_names("Paper", ["papers", "paper"]) == ["paper"]
