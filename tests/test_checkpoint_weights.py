"""A checkpoint whose weights do not fit its net, or are not finite, is refused in one line
naming the file (audit s36 flags 2 and 6): the first ended in a traceback calling itself a bug,
the second predicted all-background labels and NaN probabilities with exit 0."""

import pytest
import torch

from unetlab.checkpoint import load_checkpoint, load_model, save_model
from unetlab.errors import CheckpointError
from unetlab.models import UNet


def _saved(tmp_path, edit) -> str:
    path = save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    checkpoint = load_checkpoint(path)
    edit(checkpoint["model"])
    torch.save(checkpoint, tmp_path / "edited.pt")
    return str(tmp_path / "edited.pt")


def test_a_checkpoint_missing_weights_is_refused_naming_them(tmp_path):
    def drop_first(state):
        del state[next(iter(state))]

    path = _saved(tmp_path, drop_first)
    with pytest.raises(
        CheckpointError,
        match=rf"^{path}: its weights do not fit the net its "
        r"config describes \(1 missing, e\.g\. .+\): the file is damaged",
    ):
        load_model(path)


def test_a_checkpoint_of_weights_of_another_shape_is_refused(tmp_path):
    def widen(state):
        name = next(k for k, t in state.items() if t.ndim == 4)
        state[name] = torch.zeros(9, *state[name].shape[1:])

    with pytest.raises(CheckpointError, match=r"1 of another shape"):
        load_model(_saved(tmp_path, widen))


def test_a_checkpoint_of_nan_weights_is_refused(tmp_path):
    def spoil(state):
        for t in state.values():
            if t.is_floating_point():
                t.mul_(float("nan"))

    path = _saved(tmp_path, spoil)
    with pytest.raises(CheckpointError, match=r"weight tensors hold NaN or infinite values"):
        load_model(path)


def test_one_infinite_value_is_enough(tmp_path):
    def one_inf(state):
        next(t for t in state.values() if t.is_floating_point()).view(-1)[0] = float("inf")

    with pytest.raises(CheckpointError, match=r"^.*edited\.pt: 1 of its \d+ weight tensors"):
        load_model(_saved(tmp_path, one_inf))
