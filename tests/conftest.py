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
