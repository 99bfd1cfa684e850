"""A net built around weights it takes whole: none drawn first only to be overwritten.

Building the paper net draws its 31 M initial weights twice (torch's default, then He-normal:
:meth:`UNet.reset_parameters`), 0.2-0.7 s on the 2-core development machine, which a
checkpoint's weights then replace. Here the net is built on the ``meta`` device (shapes only,
no values) and takes the weights (``load_state_dict(assign=True)``): copies of them, or the
tensors themselves where the caller shares them, each on the CPU in the dtype and memory
layout that copying them into a freshly built net would have given (float32, contiguous), so
the net is the one the copy gives, tensor for tensor (``tests/test_checkpoint_unfilled.py``).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, is_dataclass

import torch
from torch import nn


def unfilled_model(config) -> nn.Module:
    """The net that :func:`unetlab.models.model_from_config` builds from ``config`` (a dict,
    or a config dataclass), on the ``meta`` device: its weights have shapes and dtypes but no
    values until :func:`take_weights` gives them."""
    from unetlab.models import model_from_config

    with torch.device("meta"):
        return model_from_config(asdict(config) if is_dataclass(config) else config)


def take_weights(model: nn.Module, state: dict, *, share: bool = False) -> None:
    """Load ``state`` into ``model`` from :func:`unfilled_model` as ``load_state_dict``
    (strict) would into a built one, raising as it does where they do not fit: copies of its
    tensors, on the CPU. ``share``: ``model`` takes ``state``'s CPU tensors themselves where
    their dtype and layout are its own (no copy), for a caller that drops ``state`` next and
    read it into memory (memory-mapped, a file replaced in place would change the net's
    weights); else a second net of the same ``state``, or an edit of it, would change this
    one's."""
    own = model.state_dict()
    fitted = {k: _fitted(v, own.get(k), share=share) for k, v in state.items()}
    model.load_state_dict(fitted, assign=True)
    tensors = itertools.chain(model.named_parameters(), model.named_buffers())
    if left := [name for name, t in tensors if t.is_meta]:
        # a buffer that no state holds (persistent=False): a bug of this way, not of the file
        raise LookupError(f"{left[0]} has no value after loading: build the net and copy")


def to_be_filled(model: nn.Module) -> nn.Module:
    """``model`` (built on the ``meta`` device) given CPU memory that holds no values yet
    (``to_empty``), for a caller that copies a whole state into it next (``load_state_dict``,
    strict: a resume's ``last.pt``) and needs its tensors first (an optimiser built on them).
    LookupError where a buffer is one that no state holds: it would keep garbage. Batch
    norms' running statistics start as a built net's (a state without ``num_batches_tracked``
    leaves it as the net holds it: not garbage, s59 review G)."""
    kept = set(model.state_dict())
    if left := [name for name, _ in model.named_buffers() if name not in kept]:
        raise LookupError(f"{left[0]} is in no state: build the net with its weights drawn")
    model.to_empty(device="cpu")
    for module in model.modules():
        if getattr(module, "track_running_stats", False):
            module.reset_running_stats()
    return model


def _fitted(value, own: torch.Tensor | None, *, share: bool):
    """``value`` as a tensor copied into ``own`` (the unfilled net's) would be: on the CPU,
    in its dtype and strides (``value`` itself where it is so and ``share``); anything else
    (an unknown key, another shape, no tensor) as it is, for ``load_state_dict`` to refuse."""
    if not isinstance(value, torch.Tensor) or own is None or value.shape != own.shape:
        return value
    fits = value.device.type == "cpu" and (value.dtype, value.stride()) == (own.dtype, own.stride())
    if share and fits:
        return value
    fitted = torch.empty_strided(own.shape, own.stride(), dtype=own.dtype, device="cpu")
    return fitted.copy_(value)  # on the CPU whatever torch.set_default_device says
