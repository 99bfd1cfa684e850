"""Shared fixtures. The ISBI 2012 data lives in ../shared beside the repo, never in it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def isbi_dir() -> Path:
    """../shared/data/isbi2012 relative to the repo root, or skip with the reason."""
    path = REPO.parent / "shared" / "data" / "isbi2012"
    if not (path / "train" / "images").is_dir():
        pytest.skip(f"ISBI 2012 data not found at {path} (it lives in ../shared beside the repo)")
    return path


@pytest.fixture(scope="session")
def kromp_dir() -> Path:
    """../shared/data/kromp2020_nuclei (fluorescence nuclei, 16-bit instance masks), or skip."""
    path = REPO.parent / "shared" / "data" / "kromp2020_nuclei"
    if not (path / "train" / "masks").is_dir():
        pytest.skip(f"Kromp 2020 nuclei data not found at {path} (it lives in ../shared)")
    return path


@pytest.fixture
def one_thread():
    """Tiny nets train fastest on one thread, and far faster when other jobs share the cores
    (``pytestmark = pytest.mark.usefixtures("one_thread")`` in a module that trains)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def two_pair_data(tmp_path) -> Path:
    """images/ + masks/ of two 32 px grey images with 0/255 striped masks: the smallest data
    set training accepts (tests of the command line around a run)."""
    import numpy as np

    from unetlab.data.io import write_png

    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for i in range(2):
        write_png(root / "images" / f"{i:02d}.png", rng.integers(0, 255, (32, 32), np.uint8))
        write_png(root / "masks" / f"{i:02d}.png", np.tile([0, 255], (32, 16)).astype(np.uint8))
    return root
