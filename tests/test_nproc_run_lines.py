"""``unetlab predict --nproc N`` says the lines a run says once (the floor "not applied to
uint16 images", the images far from the training images: the first in full, then one count)
as ``--nproc 1`` does, once: each process said those of its own share of the files (two
counts, two "first" images; a ``--recursive`` tree too), and a short page streamed by two processes (one chunk: the main
one's band empty) said none (inference/predict.py ``floor_run(held=...)``, folders.py)."""

import logging
import subprocess
import sys

import numpy as np
import pytest
import tifffile
import torch

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.data.appearance import image_appearance, training_appearance

SPEC8 = {"mode": "per_image", "floor": [12.0], "dtype": "uint8"}


def _checkpoint(path) -> None:
    """A tiny model as ``unetlab train`` leaves one trained on 8-bit images of mean ~100."""
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = dict(SPEC8)
    rng = np.random.default_rng(1)
    images = [rng.integers(80, 120, (32, 32)).astype(np.uint8) for _ in range(4)]
    stats = [image_appearance(a, model.normalization) for a in images]
    model.appearance = training_appearance(stats, ["uint8"] * 4)
    save_model(path, model)


def _inputs(folder) -> None:
    """Two 16-bit images (the floor's line), two flat ones (read as nearly empty: the first
    in full, the other short) and three 8-bit ones far brighter (far lines). Files are dealt
    in turn, the main process's first: the first of each kind is the run's first too."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        image = rng.integers(100, 4000, (80, 80)).astype(np.uint16)
        tifffile.imwrite(folder / f"a{i}.tif", image)
    for i in range(2):
        tifffile.imwrite(folder / f"b{i}.tif", rng.integers(99, 102, (80, 80)).astype(np.uint8))
    for i in range(3):
        tifffile.imwrite(folder / f"c{i}.tif", rng.integers(200, 255, (80, 80)).astype(np.uint8))


def _setup_inputs(folder) -> None:
    """What the setup lines are said of: a mask beside its image, a sub-folder not read."""
    tifffile.imwrite(folder / "c0_mask.tif", np.zeros((80, 80), np.uint8))
    (folder / "sub").mkdir()
    tifffile.imwrite(folder / "sub" / "d.tif", np.zeros((80, 80), np.uint8))


#: words of the lines said once a run (sorted: the processes' lines interleave) and once a
#: command as the inputs are found, before any file is predicted (stderr, in order)
RUN_WORDS = ("uint16", "lie far", "nearly empty")
SETUP_WORDS = ("beside their images", "is not read")


def _predicted(tmp_path, nproc: int, *flags: str, here=None) -> subprocess.CompletedProcess:
    """``unetlab predict --nproc N`` of ``tmp_path/in``, its output; one process runs in this
    one where ``here`` gives pytest's (capfd, caplog), as main() from Python: the lines
    compared are the same, a process's start (seconds under load) spared."""
    out = tmp_path / f"out{nproc}{len(flags)}"
    args = ["--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in")]
    args = ["predict", *args, "--output", str(out), "--nproc", str(nproc), "--device", "cpu"]
    args += [*flags, "--no-progress"]
    if here is not None:  # pytest's handler takes the log lines: main() adds none of its own
        capfd, caplog = here
        capfd.readouterr()
        with caplog.at_level(logging.INFO):
            code = main(args)
        said = capfd.readouterr()
        logged = "".join(f"{record.getMessage()}\n" for record in caplog.records)
        run = subprocess.CompletedProcess(args, code, said.out, said.err + logged)
        caplog.clear()
    else:
        command = [sys.executable, "-m", "unetlab", *args]
        run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def _run_lines(run: subprocess.CompletedProcess) -> list[str]:
    lines = (run.stdout + run.stderr).splitlines()
    return sorted(line for line in lines if any(word in line for word in RUN_WORDS))


def _setup_lines(run: subprocess.CompletedProcess) -> list[str]:
    return [x for x in run.stderr.splitlines() if any(w in x for w in SETUP_WORDS)]


def _said(tmp_path, nproc: int, *flags: str, here=None) -> list[str]:
    return _run_lines(_predicted(tmp_path, nproc, *flags, here=here))


@pytest.mark.slow
@pytest.mark.parametrize("flags", [(), ("--large-pixels", "100")], ids=["whole", "streamed"])
def test_two_processes_say_the_run_lines_and_the_setup_lines_of_one(tmp_path, capfd, caplog, flags):
    """The run lines, and the setup lines (a mask beside its image, a sub-folder not read),
    which each process said (s49 nprocedge 3): once, as a process alone says them."""
    _checkpoint(tmp_path / "m.pt")
    _inputs(tmp_path / "in")
    _setup_inputs(tmp_path / "in")
    one, two = (
        _predicted(tmp_path, 1, *flags, here=(capfd, caplog)),
        _predicted(tmp_path, 2, *flags),
    )
    # the floor's, two flat images', the first far one's, the count
    assert len(_run_lines(one)) == 5, _run_lines(one)
    assert any(line.startswith("3 of 7 images lie far") for line in _run_lines(one)), one
    assert _run_lines(two) == _run_lines(one)
    assert len(_setup_lines(one)) == 2, _setup_lines(one)
    assert _setup_lines(two) == _setup_lines(one)


@pytest.mark.slow
def test_two_processes_say_a_trees_run_lines_of_one(tmp_path, capfd, caplog):
    """``--recursive``: the lines once for the tree (its two folders), as a process alone."""
    _checkpoint(tmp_path / "m.pt")
    _inputs(tmp_path / "all")
    for i, path in enumerate(sorted((tmp_path / "all").iterdir())):
        folder = tmp_path / "in" / ("x" if i < 4 else "y")
        folder.mkdir(parents=True, exist_ok=True)
        path.rename(folder / path.name)
    one = _said(tmp_path, 1, "--recursive", here=(capfd, caplog))
    assert len(one) == 5, one
    assert _said(tmp_path, 2, "--recursive") == one


def test_a_line_said_once_a_command_is_said_by_the_first_process_of_a_launch(tmp_path, monkeypatch):
    import logging

    from unetlab.distributed import STATUS_FILE, _OnceALaunch

    monkeypatch.setenv(STATUS_FILE, str(tmp_path / "status"))

    def record(once):
        made = logging.LogRecord("unetlab", logging.WARNING, "x.py", 1, "a line", (), None)
        if once is not None:
            made.once = once
        return made

    first, other = _OnceALaunch(), _OnceALaunch()  # two processes' filters
    assert first.filter(record("masks beside in/"))
    assert not other.filter(record("masks beside in/"))
    assert other.filter(record("another key"))
    assert first.filter(record(None)) and other.filter(record(None))  # said each time


def test_a_once_line_reaches_every_handler_of_the_first_process(tmp_path, monkeypatch):
    """The verdict is the record's: with two root handlers only the first said the line,
    and a second once_a_launch() (a second command in the process) dropped it everywhere."""
    import logging

    from unetlab.distributed import STATUS_FILE, once_a_launch

    monkeypatch.setenv(STATUS_FILE, str(tmp_path / "status"))
    said: dict[str, list[str]] = {"a": [], "b": []}

    class Keeping(logging.Handler):
        def __init__(self, name):
            super().__init__()
            self.kept = said[name]

        def emit(self, record):
            self.kept.append(record.getMessage())

    root = logging.getLogger()
    handlers = [Keeping("a"), Keeping("b")]
    for handler in handlers:
        root.addHandler(handler)
    try:
        once_a_launch()
        logging.getLogger("unetlab.t").warning("first line", extra={"once": "t1"})
        once_a_launch()
        logging.getLogger("unetlab.t").warning("second line", extra={"once": "t2"})
        logging.getLogger("unetlab.t").warning("second line", extra={"once": "t2"})
    finally:
        for handler in root.handlers:
            for kept in [f for f in handler.filters if type(f).__name__ == "_OnceALaunch"]:
                handler.removeFilter(kept)
        for handler in handlers:
            root.removeHandler(handler)
    assert said == {"a": ["first line", "second line"], "b": ["first line", "second line"]}
