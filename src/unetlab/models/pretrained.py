"""ImageNet weights for the encoders of :class:`~unetlab.models.encoders.EncoderUNet`, offline.

The files are torchvision's own (``vgg16-397923af.pth``, ``resnet50-0676ba61.pth``, e.g. from
``~/.cache/torch/hub/checkpoints``), read with ``torch.load(weights_only=True)``: nothing is
downloaded and no code in the file runs. Checked before anything is loaded:

- the sha256 prefix in the file name, when it has one (torchvision's ``NAME-HASH.pth``);
- the exact key set: every key of the encoder present, nothing else but the classifier head
  (``classifier.*`` for VGG16, ``fc.*`` for ResNet50); BatchNorm's ``num_batches_tracked``
  may be absent (files from older torch lack it);
- every shape. A one-channel net takes the first convolution summed over R, G and B, so a
  grey image gives the response the RGB net gives to that image repeated in three channels.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

import torch

from unetlab.errors import UnetlabError
from unetlab.models.encoders import HEAD_PREFIXES, EncoderUNet

#: The first convolution of each encoder: the one that sees the input's channels.
STEM_KEYS = {"vgg16": "features.0.weight", "resnet50": "conv1.weight"}
#: torchvision's file names end in the first hex digits of the file's sha256.
HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.pth?$")


def check_file_hash(path: Path) -> None:
    """UnetlabError if ``path``'s name carries a sha256 prefix its bytes do not have."""
    match = HASH_IN_NAME.search(path.name)
    if match is None:
        return
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if not digest.hexdigest().startswith(match.group(1)):
        raise UnetlabError(
            f"{path}: sha256 starts {digest.hexdigest()[: len(match.group(1))]}, not "
            f"{match.group(1)} as the name says: the file is truncated or not the one named; "
            "copy it again"
        )


def adapt_state_dict(
    state: Mapping[str, torch.Tensor], encoder: torch.nn.Module, *, name: str, source: str
) -> dict[str, torch.Tensor]:
    """``state`` (a torchvision ``name`` state dict) checked against ``encoder`` and made to fit.

    Returns the encoder's state dict to load (strict). Raises UnetlabError naming the first
    missing or unexpected key (the classifier head excepted) or the first wrong shape.
    """
    head = HEAD_PREFIXES[name]
    own = encoder.state_dict()
    given = {k: v for k, v in state.items() if not k.startswith(head)}
    missing = [k for k in own if k not in given and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in given if k not in own]
    for keys, what in ((missing, "lacks"), (unexpected, "has the unexpected")):
        if keys:
            more = f" (and {len(keys) - 1} more)" if len(keys) > 1 else ""
            raise UnetlabError(
                f"{source}: {what} key {keys[0]}{more}: not torchvision {name} weights; "
                f"use the ImageNet file of {name} (e.g. from torch hub's cache)"
            )
    out = {}
    stem = STEM_KEYS[name]
    for key, mine in own.items():
        value = given.get(key, mine)
        if not isinstance(value, torch.Tensor):
            raise UnetlabError(f"{source}: {key} is a {type(value).__name__}, not a tensor")
        if key == stem and value.ndim == 4 and value.shape[1] != mine.shape[1]:
            value = _fit_stem(value, mine.shape[1], source, key)
        if value.shape != mine.shape:
            raise UnetlabError(
                f"{source}: {key} has shape {tuple(value.shape)} but the {name} encoder needs "
                f"{tuple(mine.shape)}: not torchvision {name} weights"
            )
        out[key] = value
    return out


def _fit_stem(weight: torch.Tensor, channels: int, source: str, key: str) -> torch.Tensor:
    """The RGB first convolution (O, 3, k, k) for a one-channel input: summed over R, G, B."""
    if weight.ndim == 4 and weight.shape[1] == 3 and channels == 1:
        return weight.sum(dim=1, keepdim=True)
    raise UnetlabError(
        f"{source}: {key} takes {weight.shape[1]} input channel{'s' * (weight.shape[1] != 1)}; "
        "ImageNet weights fit nets "
        f"of 3 (RGB) or 1 (grey) channels, not {channels}: set model.in_channels or drop "
        "model.encoder_weights"
    )


def load_encoder_weights(model: EncoderUNet, path: str | os.PathLike) -> None:
    """Load torchvision ImageNet weights from the local file ``path`` into ``model.encoder``.

    The decoder and head keep their initialisation. Raises UnetlabError for a missing,
    unreadable, mis-hashed or mismatched file (the message names the file and the key).
    """
    path = Path(path)
    if not path.is_file():
        raise UnetlabError(
            f"{path}: no such weights file; model.encoder_weights must be a local torchvision "
            f"{model.encoder_name} .pth file (unetlab never downloads)"
        )
    check_file_hash(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - the unpickler raises many kinds on foreign bytes
        raise UnetlabError(
            f"{path}: not a torch state dict readable with weights_only=True "
            f"({type(exc).__name__}); use torchvision's {model.encoder_name} ImageNet file"
        ) from exc
    if not isinstance(state, Mapping):
        raise UnetlabError(f"{path}: holds a {type(state).__name__}, not a state dict")
    fitted = adapt_state_dict(state, model.encoder, name=model.encoder_name, source=str(path))
    model.encoder.load_state_dict(fitted)
