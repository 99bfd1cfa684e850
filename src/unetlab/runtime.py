"""Where and how computation runs: device choice, threads."""

from __future__ import annotations

import torch


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"``/None -> CUDA if available else CPU; ``"cpu"``, ``"cuda"``, ``"cuda:N"`` as given."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device} asked for, but no CUDA GPU is available: use --device cpu")
    return device
