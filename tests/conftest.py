"""Shared fixtures. The ISBI 2012 data lives in ../shared beside the repo, never in it."""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def _fuzz_factor(value: str | None) -> int:
    """UNETLAB_FUZZ: unset, empty or 0 for the "ci" profile (the same examples every run,
    nothing written to .hypothesis/); N >= 1 for "fuzz": new random examples each run, N
    times each test's max_examples."""
    if value in (None, ""):
        return 0
    if not value.isdigit():
        raise ValueError(f"UNETLAB_FUZZ={value!r}: give a whole number (0 off, 1, 10, ...)")
    return int(value)


def _load_hypothesis_profile() -> None:
    try:
        from hypothesis import settings
        from hypothesis.configuration import set_hypothesis_home_dir
    except ImportError:  # the tests that use it skip themselves
        return
    settings.register_profile("ci", derandomize=True, database=None)
    settings.register_profile("fuzz", derandomize=False)
    settings.load_profile("fuzz" if FUZZ_FACTOR else "ci")
    if not FUZZ_FACTOR and "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
        set_hypothesis_home_dir(_hypothesis_home())


def _hypothesis_home() -> str:
    """Hypothesis's caches (its tables of the characters a codec encodes, 2 s CPU to build,
    and of the constants in the code it draws from) in one temporary folder for all the
    processes of a run: the first (pytest alone, or the controller of ``-n 2``) makes it and
    removes it at its exit; the workers it starts after inherit its path
    (UNETLAB_HYPOTHESIS_HOME), so each table is built once a run, not once a worker."""
    inherited = os.environ.get("UNETLAB_HYPOTHESIS_HOME")
    if inherited and os.path.isdir(inherited):
        return inherited
    home = tempfile.mkdtemp(prefix="unetlab-hypothesis-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["UNETLAB_HYPOTHESIS_HOME"] = home
    return home


def _unflushed_fsync(fd: int) -> None:
    """``os.fsync`` in the suite's own process: the descriptor is checked (a closed or bad one
    raises as fsync would), nothing is flushed. No test can see a flush (only a power cut
    tells), and each cost ~4 ms on a shared disk: 1,750 of them were a quarter to a half of
    the predict tests' time. The commands the tests start as child processes flush as a
    user's do; UNETLAB_FSYNC=1 keeps the real one here too."""
    os.fstat(fd)


def _flushes(value: str | None) -> bool:
    """UNETLAB_FSYNC: "1" for the real os.fsync in the suite's process; unset or else not."""
    return value == "1"


if not _flushes(os.environ.get("UNETLAB_FSYNC")):
    os.fsync = _unflushed_fsync


def ctrl_c_as_in_a_terminal() -> None:
    """SIGINT raising KeyboardInterrupt in the suite's process, and so in the commands it
    starts, where the shell that started pytest left it ignored (``pytest ... &`` in a
    script or an agent's shell: a non-interactive shell starts a background job so, and its
    children inherit it). s73: the tests of a Ctrl-C failed there ("DID NOT RAISE
    KeyboardInterrupt", a launch's child waited out its 60 s) and passed run alone in a
    terminal, which was taken for a machine too loaded to run them in time."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


ctrl_c_as_in_a_terminal()

FUZZ_FACTOR = _fuzz_factor(os.environ.get("UNETLAB_FUZZ"))
# loaded here, before the test modules build their @settings from the default profile
_load_hypothesis_profile()


def pytest_collection_modifyitems(items):
    """UNETLAB_FUZZ=N: N times the examples of each hypothesis test (its own @settings)."""
    if FUZZ_FACTOR <= 1:
        return
    from hypothesis import settings

    for obj in {getattr(item, "obj", None) for item in items}:
        test = getattr(obj, "__func__", obj)  # a test class's method: its function
        if not hasattr(test, "hypothesis"):  # not a @given test
            continue
        own = test._hypothesis_internal_use_settings  # what @given reads at each call
        scaled = settings(own, max_examples=own.max_examples * FUZZ_FACTOR)
        test._hypothesis_internal_use_settings = scaled


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _no_look_beside(monkeypatch):
    """A prediction's look at the cores other work holds (fewer threads beside it:
    :mod:`unetlab.inference.threads_look`) never due, unless a test sets
    ``cpu_share.LEAST_LOOK``: beside other jobs on the machine it fired mid-run (8 times in
    test_slides.py and test_slide_resume.py on a loaded 2-core machine, s54), and 1 and 2
    threads differ in the last bits of a net's outputs (and add a line to the log)."""
    from unetlab import cpu_share

    monkeypatch.setattr(cpu_share, "LEAST_LOOK", float("inf"))


@pytest.fixture
def settled_inputs(monkeypatch):
    """Inputs a test has just written taken as settled: a file changed within a clock tick
    of a look is read anew by each look (:func:`unetlab.read_once._vouching`, s65), which
    tests that count the reads of files they leave alone do not count."""
    from unetlab import read_once

    for tick in ("CLOCK_TICK_NS", "WHOLE_SECONDS_TICK_NS", "TICK_MARGIN_NS"):
        monkeypatch.setattr(read_once, tick, 0)


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


def pytest_collectreport(report):
    """While the suite is collected, what each file's import made is frozen (:func:`gc.freeze`):
    the full collections that scanned it all again and again (53 a collection of the whole
    suite, 9 s of its 30 s CPU, in each process of ``-n 2``) scan only what came after.
    :func:`pytest_collection_finish` unfreezes it all: the tests run with the collector as
    it was."""
    gc.freeze()


def pytest_collection_finish(session):
    gc.unfreeze()


@pytest.fixture
def one_thread():
    """Tiny nets train fastest on one thread, and far faster when other jobs share the cores
    (``pytestmark = pytest.mark.usefixtures("one_thread")`` in a module that trains)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def frozen_heap():
    """bioimageio.core frees each net it loads with a full collection (8 to 10 a model test),
    each a scan of every object the test process holds (400,000 once the suite is
    collected: 0.3 s each on an idle core). The objects of before the test are frozen
    (:func:`gc.freeze`) for its length, so those collections scan only what it makes."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


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


@pytest.fixture
def instance_checkpoint(tmp_path) -> Path:
    """``tmp_path/m.pt``: an untrained tiny instance (nuclei) model, background / boundary /
    interior, recording objects of 4-16 px (evaluate and predict of an instance model)."""
    from unetlab.checkpoint import save_model
    from unetlab.models import UNet

    torch.manual_seed(0)
    model = UNet(1, 3, depth=2, base_channels=4, padding="same")
    model.classes, model.label_values = ["background", "boundary", "interior"], None
    model.objects = {"target": "instances", "count": 3, "images": 1, "area_min": 4.0}
    model.objects |= {"area_p05": 4.0, "area_median": 9.0, "area_p95": 16.0, "area_max": 16.0}
    save_model(tmp_path / "m.pt", model)
    return tmp_path / "m.pt"
