"""Test-time augmentation averages the flips and turns the net trained with: a net kept
upright (road scenes: ``augment.vflip`` and ``augment.rot90`` off) is not asked about
upside-down streets; checkpoints without the record keep all 8."""

import json

import numpy as np
import pytest

from unetlab.checkpoint import load_checkpoint, load_model, model_from_checkpoint
from unetlab.cli import main
from unetlab.config import load_config
from unetlab.inference.predict import predict_image
from unetlab.inference.tiling import TTA_TRANSFORMS
from unetlab.inference.tta import describe_tta, fitting_tta, model_tta, resolve_tta
from unetlab.models import UNet

UPRIGHT = ("identity", "hflip")


def test_fitting_tta_follows_the_training_flips_and_turns():
    def tta(*overrides):
        return fitting_tta(load_config(None, list(overrides)).augment)

    assert tta() == TTA_TRANSFORMS
    assert tta("augment.vflip=false") == TTA_TRANSFORMS  # turns and left-right flips: all 8
    assert tta("augment.vflip=false", "augment.rot90=false") == UPRIGHT
    assert tta("augment.rot90=false") == ("identity", "hflip", "vflip", "rot180")
    assert tta("augment.flip=false") == ("identity", "rot90", "rot180", "rot270")
    assert tta("augment.flip=false", "augment.rot90=false") == ()
    assert tta("augment.enabled=false") == ()


def test_a_model_without_a_record_keeps_all_8_and_all_forces_them():
    model = UNet(in_channels=1, num_classes=2, depth=2, base_channels=4, padding="same")
    assert model_tta(model) == TTA_TRANSFORMS  # older checkpoints, foreign packages
    assert "does not record those the net trained with" in describe_tta(model, True)
    model.tta = UPRIGHT
    assert resolve_tta(model, True) == UPRIGHT
    assert resolve_tta(model, "all") == TTA_TRANSFORMS
    assert resolve_tta(model, ["vflip"]) == ("vflip",)
    assert resolve_tta(model, False) == ()
    assert describe_tta(model, True) == (
        "TTA: 2 transforms (identity, left-right flip), those the net trained with"
    )
    model.tta = ()  # trained without flips or turns: the image alone
    assert resolve_tta(model, True) == ("identity",)
    assert "TTA changes nothing" in describe_tta(model, True)


@pytest.fixture(scope="module")
def scene_run(tmp_path_factory):
    """A tiny net trained a few steps on road scenes, planned upright."""
    from unetlab.data.scenes import write_voc_scenes

    tmp = tmp_path_factory.mktemp("scenes")
    root = write_voc_scenes(tmp / "voc", n_train=6, n_val=3, size=64)
    tiny = ["--set", "model.depth=2", "--set", "model.base_channels=4", "--no-progress"]
    run = ["train", "--data", str(root), "--epochs", "1", *tiny, "--run-dir", str(tmp / "run")]
    assert main(run) == 0
    return root, tmp / "run" / "checkpoints" / "best.pt"


def _forward_passes(model, image, **settings) -> int:
    calls = []
    hook = model.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    try:
        predict_image(model, image, tile_size=64, batch_size=1, **settings)
    finally:
        hook.remove()
    return len(calls)


def test_an_upright_scene_net_predicts_with_its_own_two_transforms(scene_run, tmp_path):
    _, best = scene_run
    model = load_model(best)
    assert tuple(model.tta) == UPRIGHT  # recorded by training, kept by the checkpoint
    image = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    assert _forward_passes(model, image) == 1
    assert _forward_passes(model, image, tta=True) == 2
    assert _forward_passes(model, image, tta="all") == 8
    old = load_checkpoint(best)
    del old["tta"]  # a checkpoint written before the record: its training's augmentation
    assert tuple(model_from_checkpoint(old).tta) == UPRIGHT  # (audit s31 upgrade 5)
    del old["train_config"]  # nor that: all 8
    older = model_from_checkpoint(old)
    assert older.tta is None and _forward_passes(older, image, tta=True) == 8
    own = predict_image(model, image, tta=True)
    np.testing.assert_allclose(own, predict_image(model, image, tta=list(UPRIGHT)), atol=1e-6)


def test_a_package_keeps_the_transforms(scene_run, tmp_path):
    from unetlab.inference.bioimageio import PackageInfo, export_bioimageio
    from unetlab.packages import load_package

    model = load_model(scene_run[1])
    dest = export_bioimageio(model, tmp_path / "pkg", info=PackageInfo(name="upright"))
    assert tuple(load_package(dest).tta) == UPRIGHT


def test_evaluate_and_predict_tta_use_and_name_the_nets_transforms(
    scene_run, tmp_path, capsys, caplog
):
    root, best = scene_run
    report = tmp_path / "report.json"
    args = ["evaluate", "--checkpoint", str(best), "--data", str(root), "--tta"]
    args += ["--device", "cpu"]  # its scores are compared with evaluate_model's, on the CPU
    assert main([*args, "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "TTA: 2 transforms (identity, left-right flip), those the net trained with" in out
    scored = json.loads(report.read_text())
    assert scored["tta"] == list(UPRIGHT)
    from unetlab.evaluate import evaluate_model

    by_name = evaluate_model(load_model(best), root, tta=list(UPRIGHT)).summary
    assert scored["miou"] == pytest.approx(by_name["miou"], nan_ok=True)
    assert scored["classes"]["sky"]["iou"] == pytest.approx(by_name["iou"][0], nan_ok=True)
    image = next((root / "JPEGImages").iterdir())
    out = ["--output", str(tmp_path / "p")]
    with caplog.at_level("INFO"):
        assert (
            main(["predict", "--input", str(image), "--checkpoint", str(best), "--tta", *out]) == 0
        )
    assert "TTA: 2 transforms (identity, left-right flip)" in caplog.text


def test_the_label_offset_is_fitted_with_the_same_transforms(scene_run):
    from unetlab.train import fit_label_offset

    run = scene_run[1].parents[1]
    fit_label_offset(load_config(run / "config.yaml"), run)
    fitted = json.loads((run / "label_offset.json").read_text())
    assert fitted["tta"] == list(UPRIGHT) == load_checkpoint(scene_run[1])["tta"]


def test_tta_all_on_the_command_line_forces_the_eight(scene_run, tmp_path, capsys):
    root, best = scene_run
    report = tmp_path / "report.json"
    args = ["evaluate", "--checkpoint", str(best), "--data", str(root), "--tta", "all"]
    assert main([*args, "--json", str(report)]) == 0
    assert "TTA: 8 transforms" in capsys.readouterr().out
    assert len(json.loads(report.read_text())["tta"]) == 8
    with pytest.raises(SystemExit):
        main(["evaluate", "--checkpoint", str(best), "--data", str(root), "--tta", "some"])
    assert "takes no value, or 'all'" in capsys.readouterr().err


def test_tta_all_on_an_upright_net_says_which_transforms_it_never_trained_with():
    model = UNet(in_channels=1, num_classes=2, depth=2, base_channels=4, padding="same")
    assert describe_tta(model, "all").endswith("as asked")  # no record: nothing to say
    model.tta = UPRIGHT
    line = describe_tta(model, "all")
    assert line.startswith("TTA: 8 transforms (") and "as asked; 6 of them the net never " in line
    assert "(quarter turn, half turn, three-quarter turn, upside-down flip, transpose, " in line
    assert describe_tta(model, ["hflip"]).endswith("as asked")
