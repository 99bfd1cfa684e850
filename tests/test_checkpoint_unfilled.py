"""load_model builds the net without drawing initial weights that the checkpoint's then
replace (s58 loadfast: 0.2-1.2 s of the paper net's load), and gives the net that building it
and copying the weights in gives: the same tensors, dtypes, layouts, grads and outputs."""

from dataclasses import asdict

import pytest
import torch

from unetlab.checkpoint import load_checkpoint, load_model, model_from_checkpoint, save_model
from unetlab.inference.export import ProbabilityUNet, probability_model
from unetlab.models import EncoderUNet, UNet, model_from_config
from unetlab.models.loading import take_weights, unfilled_model

# conftest.py: the resnet50 net's forwards cost 2 CPU s on two threads of a busy machine, 0.2 on one
pytestmark = pytest.mark.usefixtures("one_thread")

NETS = {
    "valid": lambda: UNet(1, 2, depth=3, base_channels=4),
    "batchnorm": lambda: UNet(2, 3, depth=2, base_channels=4, padding="same", norm="batch"),
    "groupnorm_bilinear": lambda: UNet(
        1, 1, depth=2, base_channels=8, padding="same", norm="group", upsample="bilinear"
    ),
    "resnet50": lambda: EncoderUNet("resnet50", 3, 2),
}


def _copied(checkpoint: dict) -> torch.nn.Module:
    """The net as load_model built it before s58: built (weights drawn), then copied into."""
    model = model_from_config(checkpoint["config"])
    model.load_state_dict(checkpoint["model"])
    return model


def _assert_same_net(loaded: torch.nn.Module, copied: torch.nn.Module) -> None:
    got, want = loaded.state_dict(keep_vars=True), copied.state_dict(keep_vars=True)
    assert list(got) == list(want)
    for name, tensor in want.items():
        mine = got[name]
        assert type(mine) is type(tensor), name  # Parameter or buffer
        assert (mine.dtype, mine.device, mine.shape) == (tensor.dtype, tensor.device, tensor.shape)
        assert mine.stride() == tensor.stride() and mine.requires_grad == tensor.requires_grad
        assert torch.equal(mine, tensor), name
    x = torch.rand(2, copied.in_channels, 96, 96, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(loaded.eval()(x), copied.eval()(x))


@pytest.mark.parametrize("name", NETS)
def test_the_loaded_net_is_the_built_and_copied_one(tmp_path, name):
    net = NETS[name]()
    if name == "batchnorm":  # running statistics and a batch count that are not the defaults
        net.train()(torch.rand(2, 2, 16, 16))
    path = save_model(tmp_path / "m.pt", net)
    copied = _copied(load_checkpoint(path))
    _assert_same_net(load_model(path), copied)
    _assert_same_net(model_from_checkpoint(load_checkpoint(path)), copied)  # copies, unshared


@pytest.mark.parametrize("kind", ["bfloat16", "channels_last"])
def test_weights_saved_in_another_dtype_or_layout_load_as_a_copy_would(tmp_path, kind):
    """A net saved in bf16, or channels_last: float32, contiguous, as copying gave (a net
    taking the saved tensors as they are would be bf16, or channels_last)."""
    net = UNet(1, 2, depth=2, base_channels=4, padding="same")
    net = (
        net.to(torch.bfloat16) if kind == "bfloat16" else net.to(memory_format=torch.channels_last)
    )
    path = save_model(tmp_path / "m.pt", net)
    assert load_checkpoint(path)["model"]["inc.2.weight"].is_contiguous() == (kind == "bfloat16")
    _assert_same_net(load_model(path), _copied(load_checkpoint(path)))


def _drawn(monkeypatch) -> list[str]:
    """The names of torch.nn.init's functions that draw into a real tensor from now on."""
    drawn = []
    for name in ("normal_", "kaiming_uniform_", "uniform_", "zeros_"):
        init = getattr(torch.nn.init, name)

        def counted(tensor, *args, init=init, name=name, **kwargs):
            if not tensor.is_meta:
                drawn.append(name)
            return init(tensor, *args, **kwargs)

        monkeypatch.setattr(torch.nn.init, name, counted)
    return drawn


def test_loading_draws_no_initial_weights(tmp_path, monkeypatch):
    """Nothing drawn into a real tensor while loading: the weights are the file's."""
    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4))
    drawn = _drawn(monkeypatch)
    load_model(path)
    assert drawn == []


@pytest.mark.parametrize("name", ["valid", "batchnorm"])
def test_export_s_probability_net_takes_the_weights_and_draws_none(monkeypatch, name):
    """export's ProbabilityUNet (TorchScript, bioimage.io) is built without initial weights
    (0.7-1.0 s of the paper net's 1.1 s before) and is the net built and copied into."""
    net = NETS[name]()
    if name == "batchnorm":
        net.train()(torch.rand(2, 2, 16, 16))
    copied = ProbabilityUNet(**asdict(net.config))
    copied.load_state_dict(net.state_dict())
    drawn = _drawn(monkeypatch)
    _assert_same_net(probability_model(net), copied)
    assert drawn == []


def test_a_net_loaded_takes_the_weights_and_trains(tmp_path):
    """The loaded net holds the checkpoint's weights, and they are its own to train: a step
    moves them, not the checkpoint's (the dict it was built from, not the file re-read,
    which no step could move)."""
    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    checkpoint = load_checkpoint(path)
    saved = {k: v.clone() for k, v in checkpoint["model"].items()}
    model = model_from_checkpoint(checkpoint).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert list(before) == list(saved)
    assert all(torch.equal(before[k], saved[k]) for k in saved)  # taken, every tensor
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.rand(1, 1, 16, 16)).square().mean().backward()
    optimizer.step()
    assert not torch.equal(model.head.weight, before["head.weight"])
    assert all(torch.equal(checkpoint["model"][k], saved[k]) for k in saved)  # not moved


def test_two_nets_of_one_checkpoint_dict_share_no_weights(tmp_path):
    """model_from_checkpoint copies the dict's weights unless told to share them: training
    one net changes neither the other nor the dict (a notebook may build two of one dict)."""
    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    checkpoint = load_checkpoint(path)
    first, second = model_from_checkpoint(checkpoint), model_from_checkpoint(checkpoint)
    saved = checkpoint["model"]["head.weight"].clone()
    with torch.no_grad():
        first.head.weight.add_(1.0)
    assert torch.equal(second.head.weight, saved)
    assert torch.equal(checkpoint["model"]["head.weight"], saved)


def test_a_buffer_no_state_holds_is_a_bug_not_a_garbage_value():
    """A net with a buffer kept out of its state (persistent=False) cannot be built this way:
    a loud error, not an uninitialised value."""
    model = unfilled_model(UNet(1, 2, depth=2, base_channels=4).config)
    state = UNet(1, 2, depth=2, base_channels=4).state_dict()
    model.head.register_buffer("scale", torch.ones(1, device="meta"), persistent=False)
    with pytest.raises(LookupError, match=r"^head\.scale has no value after loading"):
        take_weights(model, state)


def test_copied_weights_lie_on_the_cpu_whatever_the_default_device(tmp_path):
    """A caller's torch.set_default_device(...) moved the copied tensors (a bf16 file's)
    but not the shared ones: a net split across devices, or a LookupError called a bug
    (s58 review H)."""
    save_model(tmp_path / "m.pt", UNet(1, 2, base_channels=4, depth=2).to(torch.bfloat16))
    checkpoint = load_checkpoint(tmp_path / "m.pt")
    torch.set_default_device("meta")
    try:
        net = model_from_checkpoint(checkpoint)
    finally:
        torch.set_default_device("cpu")
    assert {t.device.type for t in net.state_dict().values()} == {"cpu"}


def test_a_resume_builds_its_net_drawing_nothing_and_restores_last_pt_s_weights(
    tmp_path, monkeypatch
):
    """train --resume builds its net without initial weights (last.pt's replace them all:
    0.2-0.7 s of the paper net's) and holds last.pt's, bit for bit, once restored."""
    from tests.test_train import tiny_config, write_blobs
    from unetlab.train import fit
    from unetlab.train import run as run_mod

    cfg = tiny_config(write_blobs(tmp_path / "data", 2), "train.epochs=1")
    fit(cfg, run_dir=tmp_path / "run", progress=False)
    saved = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["model"]
    restored, restore = [], run_mod.restore_checkpoint

    def restoring(path, model, *args, **kwargs):
        restore(path, model, *args, **kwargs)
        restored.append({k: v.clone() for k, v in model.state_dict().items()})

    monkeypatch.setattr(run_mod, "restore_checkpoint", restoring)
    drawn = _drawn(monkeypatch)
    fit(
        tiny_config(tmp_path / "data", "train.epochs=2"),
        run_dir=tmp_path / "run",
        resume=True,
        progress=False,
    )
    assert drawn == []
    assert list(restored[0]) == list(saved)
    assert all(torch.equal(restored[0][k], saved[k]) for k in saved)


def test_a_net_to_be_filled_starts_its_batch_norm_counters_as_a_built_one():
    """A last.pt without num_batches_tracked (a plain dict: batch norm fills the missing
    counter from the net's own) resumed with counters of leftover memory (s59 review G):
    the running statistics start as a built net's."""
    from unetlab.models.loading import to_be_filled

    built = NETS["batchnorm"]()
    model = to_be_filled(unfilled_model(built.config))
    state = {k: v for k, v in built.state_dict().items() if "num_batches_tracked" not in k}
    model.load_state_dict(state, strict=False)
    for name, buffer in model.named_buffers():
        assert torch.equal(buffer, built.get_buffer(name)), name
