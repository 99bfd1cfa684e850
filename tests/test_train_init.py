"""Fine-tuning (model.init_checkpoint, train --init): a new run that starts from a trained
checkpoint's weights, recorded in its run folder; a different net refused in one line; a
unetlab checkpoint given as encoder_weights pointed to it (audit s31 upgrade 8)."""

import shlex

import pytest
import torch

from tests.test_train import tiny_config, write_blobs
from unetlab.checkpoint import load_checkpoint, load_model
from unetlab.cli import main
from unetlab.config import load_config
from unetlab.data.split_record import file_sha256
from unetlab.errors import UnetlabError, command_spelling, first_line
from unetlab.plan.memory import net_architecture
from unetlab.run_records import read_history
from unetlab.train import fit
from unetlab.train.init import _refusal, net_differences
from unetlab.train.run import started

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 1-epoch run's best.pt, and its data folder."""
    tmp = tmp_path_factory.mktemp("init")
    data = write_blobs(tmp / "data", 4)
    fit(tiny_config(data, "train.epochs=1"), run_dir=tmp / "a", progress=False)
    return tmp / "a" / "checkpoints" / "best.pt", data


def _forward(model, x):
    with torch.no_grad():
        return model.eval()(x)


def test_a_fine_tuned_run_starts_at_the_checkpoints_weights(trained):
    best, data = trained
    _, model, _ = started(tiny_config(data, f"model.init_checkpoint={best}"))
    x = torch.randn(1, 1, 32, 32)
    assert torch.equal(_forward(model, x), _forward(load_model(best), x))
    _, fresh, _ = started(tiny_config(data))
    assert not torch.equal(_forward(fresh, x), _forward(model, x))


def test_the_start_line_names_a_saved_model_s_missing_epoch_in_words(trained, tmp_path, caplog):
    """A model saved by save_model holds no training state: the line said "epoch ?" (s65
    notebook walk); a checkpoint of a run names its epoch."""
    from unetlab.checkpoint import save_model

    best, data = trained
    save_model(tmp_path / "my.pt", load_model(best))
    with caplog.at_level("INFO", logger="unetlab"):
        started(tiny_config(data, f"model.init_checkpoint={tmp_path / 'my.pt'}"))
        started(tiny_config(data, f"model.init_checkpoint={best}"))
    said = [m for m in caplog.messages if m.startswith("fine-tuning: the net starts")]
    assert len(said) == 2 and "…, no training state)" in said[0], said
    assert "…, epoch 1)" in said[1] and "?" not in " ".join(said)


def test_a_fine_tuned_run_records_the_checkpoint(trained, tmp_path):
    best, data = trained
    run = tmp_path / "b"
    argv = ["train", "--data", str(data), "--init", str(best), "--run-dir", str(run)]
    argv += ["--no-plan", "--no-progress", "--epochs", "1", "--set", "model.depth=2"]
    argv += ["--set", "model.base_channels=4", "--set", "data.tile_size=32"]
    argv += ["--set", "data.label_values=[0, 255]", "--set", "train.batch_size=4"]
    argv += ["--set", "data.tiles_per_epoch=8", "--set", "train.device=cpu"]
    assert main(argv) == 0
    record = read_history(run)[0]["resolved"]["init_checkpoint"]
    assert record["checkpoint"] == str(best.resolve())
    assert record["checkpoint_sha256"] == file_sha256(best)
    assert load_checkpoint(run / "checkpoints" / "last.pt")["init_checkpoint"] == record
    assert "init_checkpoint: " + str(best.resolve()) in (run / "config.yaml").read_text()


def test_another_class_count_gets_a_new_head_and_the_rest(trained):
    best, data = trained
    cfg = tiny_config(
        data,
        f"model.init_checkpoint={best}",
        "data.label_values=[0, 128, 255]",
        "data.class_names=null",
    )
    _, model, _ = started(cfg)
    theirs = load_checkpoint(best)["model"]
    for key, value in model.state_dict().items():
        if key.startswith("head."):
            assert value.shape != theirs[key].shape
        else:
            assert torch.equal(value, theirs[key]), key


def test_another_net_is_refused_naming_what_differs(trained):
    best, data = trained
    with pytest.raises(UnetlabError) as info:
        started(tiny_config(data, f"model.init_checkpoint={best}", "model.base_channels=8"))
    line = first_line(info.value, cli=True)  # as the command line says it
    assert "\n" not in line and "base_channels 8 (the checkpoint's: 4)" in line
    assert "fine-tuning needs the checkpoint's net (--set model.base_channels=4)" in line
    # fit in a notebook: as Python sets it (s53: it was told --set)
    assert "fine-tuning needs the checkpoint's net (cfg.model.base_channels = 4)" in str(info.value)


def test_a_unetlab_checkpoint_as_encoder_weights_points_to_init_checkpoint(trained):
    best, data = trained
    cfg = tiny_config(data, "model.depth=null", "model.base_channels=null")
    cfg.model.encoder, cfg.model.encoder_weights = "resnet50", str(best)
    with pytest.raises(UnetlabError, match=r"is a unetlab checkpoint.*model\.init_checkpoint") as e:
        started(cfg)
    # fit in a notebook: as Python sets it (s53: it was told train --init and --resume)
    assert str(e.value).endswith(
        f"set cfg.model.init_checkpoint = {str(best)!r} instead; resume=True continues its own run"
    )
    assert first_line(e.value, cli=True).endswith(
        f"set model.init_checkpoint={best} (unetlab train --init) instead; --resume continues "
        "its own run"
    )


def test_another_normalisation_than_the_checkpoints_is_warned_of(trained, caplog):
    best, data = trained
    cfg = tiny_config(data, f"model.init_checkpoint={best}", "data.normalization={mode: scale}")
    with caplog.at_level("WARNING", logger="unetlab.train.init"):
        started(cfg)
    said = [r.getMessage() for r in caplog.records if "normalisation" in r.getMessage()]
    assert len(said) == 1 and "this run uses scale" in said[0]
    # fit in a notebook: as Python sets it (s53: it was told the command line's form)
    assert said[0].endswith(
        "; to keep the checkpoint's: cfg.data.normalization = {'mode': 'per_image'}"
    )
    caplog.clear()
    with caplog.at_level("WARNING", logger="unetlab.train.init"), command_spelling():
        started(cfg)  # as the command line runs
    said = [r.getMessage() for r in caplog.records if "normalisation" in r.getMessage()]
    assert said[0].endswith(
        "; to keep the checkpoint's: --set 'data.normalization={mode: per_image}'"
    )
    # the shell gives the fix whole: JSON's quotes were lost there (s54: an unknown key)
    fix = shlex.split(said[0].split("checkpoint's: ")[1])
    assert fix[0] == "--set" and load_config(None, fix[1:]).data.normalization == {
        "mode": "per_image"
    }


def _refused(path, theirs: dict, mine: dict) -> dict:
    """The refusal of ``init_checkpoint`` at ``path`` for these nets, as train makes it."""
    return _refusal(path, theirs, mine, net_differences(theirs, mine))


def test_a_net_option_the_checkpoint_left_unset_is_named_as_the_cli_takes_it(tmp_path):
    """A checkpoint's net option of None (an encoder net's depth) was told as --set
    model.depth=none, which the command line refuses (must be int or null, s54)."""
    theirs = {"depth": None, "base_channels": 4}
    refused = _refused(tmp_path / "best.pt", theirs, {"depth": 5, "base_channels": 8})
    fix = refused["cli"].split("checkpoint's net (")[1].split(")")[0]
    assert fix == "--set model.base_channels=4 --set model.depth=null"
    model = load_config(None, shlex.split(fix)[1::2]).model
    assert (model.depth, model.base_channels) == (None, 4)
    assert "(cfg.model.base_channels = 4; cfg.model.depth = None)" in refused["message"]


def test_the_listed_differences_say_none_as_each_caller_writes_it(tmp_path):
    """s55 pyforms4: the command line's list of differences showed Python's None ("depth 5
    (the checkpoint's: None)"), which it does not take, and an encoder run's options it
    lacks as "depth None", as if it set them so."""
    theirs = {"depth": None, "base_channels": 4}
    refused = _refused(tmp_path / "best.pt", theirs, {"depth": 5, "base_channels": 4})
    assert "in depth 5 (the checkpoint's: null): fine" in refused["cli"]
    assert "in depth 5 (the checkpoint's: None): fine" in refused["message"]
    plain = net_architecture(load_config(None, ["model.norm=none"]))
    encoder = net_architecture(load_config(None, ["model.encoder=vgg16"]))
    for theirs, mine, said in [
        (
            plain,
            encoder,
            "in encoder vgg16 (the checkpoint's: none); as an encoder net it has none of the "
            "checkpoint's base_channels 16, depth 4, fusion concat, padding same: fine",
        ),
        (
            encoder,
            plain,
            "in encoder none (the checkpoint's: vgg16); as a plain U-Net it has base_channels "
            "16, depth 4, fusion concat, padding same, which the checkpoint's encoder net has "
            "not: fine",
        ),
    ]:
        refused = _refused(tmp_path / "best.pt", theirs, mine)
        assert said in refused["cli"] and said in refused["message"]
        assert " None" not in refused["cli"].split(": fine")[0]


@pytest.mark.parametrize(
    ("checkpoint", "run"),
    [
        # a checkpoint without norm layers: null is the preset's norm (s54: refused again)
        (["model.norm=none", "model.depth=3"], ["model.depth=3"]),
        # a plain U-Net's, an encoder run: the command line refused model.encoder=null (s54)
        ([], ["model.encoder=vgg16"]),
        # ... and one without norm layers: an encoder net's norm is no difference from None
        (["model.norm=none"], ["model.encoder=vgg16"]),
        # an encoder net's, a plain run that set depth and norm: null leaves them out
        (["model.encoder=vgg16"], ["model.depth=3", "model.norm=none", "model.dropout=0.1"]),
    ],
)
def test_the_fix_of_another_net_gives_the_checkpoints_net(tmp_path, checkpoint, run):
    """The refusal's settings, pasted (the command line's) or run (Python's), give the
    checkpoint's net: no difference left, for each option the fix can name."""
    theirs = net_architecture(load_config(None, checkpoint))
    refused = _refused(tmp_path / "best.pt", theirs, net_architecture(load_config(None, run)))
    cli, python = (
        refused[k].split("checkpoint's net (")[1].split(")")[0] for k in ("cli", "message")
    )
    flags = shlex.split(cli)
    assert set(flags[::2]) == {"--set"}
    assert net_differences(theirs, net_architecture(load_config(None, run + flags[1::2]))) == {}
    cfg = load_config(None, run)
    exec(python, {"cfg": cfg})  # as a notebook runs it
    assert net_differences(theirs, net_architecture(cfg)) == {}
