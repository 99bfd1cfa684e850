"""A run on the clock that begins while other work holds a core trains on fewer threads: a
thread whose core is taken stalls the others at every op's join (s53: on 2 cores beside a
busy loop, ``unetlab train --data DIR --minutes 0.5`` bought 19 steps on 2 threads and 100
on 1). Said in one line; torch's count is put back when fit ends; OMP_NUM_THREADS keeps its
count."""

import json
import logging
import os
import time
from functools import partial

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from tests.test_budget import FakeClock
from tests.test_train import tiny_config, write_blobs
from unetlab import (
    UNet,
    cpu_share,
    load_model,
    predict_file,
    predict_folder,
    predict_tree,
    runtime,
    save_model,
)
from unetlab.cli import main
from unetlab.config import load_config
from unetlab.cpu_share import (
    CpuShare,
    ThreadsWatch,
    cpu_reading,
    shared_cpu_warning,
    threads_beside,
    threads_next,
)
from unetlab.run_records import other_making
from unetlab.train import fit
from unetlab.train import log as train_log
from unetlab.train import run as train_run


def test_one_thread_fewer_for_each_core_other_work_holds():
    assert threads_beside(2, None, cpus=2) == 2  # not sampled
    assert threads_beside(2, 0.3, cpus=2) == 2  # idle enough
    assert threads_beside(2, 1.0, cpus=2) == 1
    assert threads_beside(2, 1.9, cpus=2) == 1  # at least one
    assert threads_beside(8, 2.6, cpus=8) == 5
    assert threads_beside(4, 1.2, cpus=8) == 4  # free cores enough for the threads asked


def _threads_at_each_step(monkeypatch) -> tuple[FakeClock, list[int]]:
    clock, seen, real = FakeClock(), [], train_run.build_loss

    def build_loss(name, **kw):
        loss = real(name, **kw)

        def timed(*args):
            clock.now += 0.1
            seen.append(torch.get_num_threads())
            return loss(*args)

        return timed

    monkeypatch.setattr(train_run, "build_loss", build_loss)
    return clock, seen


def _fit_on_two_threads(
    tmp_path, monkeypatch, caplog, *extra, minutes: float = 0.005
) -> tuple[list[int], int]:
    """(threads at each step, threads after) of a fit on the clock begun on 2 threads, for
    ``minutes`` of its clock (0.1 s a step: 0.005 is 3 steps)."""
    clock, seen = _threads_at_each_step(monkeypatch)
    data = write_blobs(tmp_path / "data", 4)
    cfg = tiny_config(data, "train.epochs=1000", f"train.max_minutes={minutes}", *extra)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with caplog.at_level(logging.INFO, logger="unetlab"):
            fit(cfg, run_dir=tmp_path / "run", progress=False, clock=clock)
        return seen, torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def _omp(monkeypatch, omp: str | None) -> None:
    """OMP_NUM_THREADS unset (None) or set to ``omp``; "set": unset, but the 2 threads the
    tests run on are a caller's ``torch.set_num_threads`` (torch's default here 4, on 4
    CPUs), else torch's default (on any machine the tests run on)."""
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    default = 4 if omp == "set" else 2
    monkeypatch.setattr(runtime, "torch_default_threads", lambda: default)
    monkeypatch.setattr(runtime, "available_cpus", lambda: default)
    if omp in (None, "set"):
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)


@pytest.mark.parametrize("omp", [None, "2", "set"])
def test_a_run_on_the_clock_beside_a_busy_core_trains_on_fewer_threads(
    tmp_path, monkeypatch, caplog, omp
):
    _omp(monkeypatch, omp)
    monkeypatch.setattr(train_log, "cores_in_use", lambda **kw: 1.0)  # other work: a core
    monkeypatch.setattr(cpu_share, "affinity_cpus", lambda: 2)
    monkeypatch.setattr(train_run, "available_cpus", lambda: 2, raising=False)
    seen, after = _fit_on_two_threads(tmp_path, monkeypatch, caplog)
    said = [r.getMessage() for r in caplog.records if "of 2 threads" in r.getMessage()]
    assert after == 2  # put back
    if omp is None:
        assert seen and set(seen) == {1}, seen
        assert said == [
            "training on 1 of 2 threads while other work holds 1.0 of the cores (a thread "
            "whose core is taken stalls the others at every step; "
            'os.environ["OMP_NUM_THREADS"] = "2" keeps 2)'  # Python's form: fit was called
        ]
    else:  # the user chose the threads: OMP_NUM_THREADS, or a notebook's set_num_threads
        assert seen and set(seen) == {2}, seen
        assert said == []


def test_the_count_changes_once_two_looks_in_a_row_ask_for_it():
    # (threads now, pending) after a look: other work gone, at 1 of 2 threads
    assert threads_next(2, 1, 0.1, None, cpus=2) == (1, 2)  # the first look: pending
    assert threads_next(2, 1, 0.1, 2, cpus=2) == (2, None)  # the second: back up
    assert threads_next(2, 1, 1.0, 2, cpus=2) == (1, None)  # it came back: nothing changes
    assert threads_next(2, 2, 1.2, None, cpus=2) == (2, 1)  # other work came
    assert threads_next(2, 2, 1.2, 1, cpus=2) == (1, None)
    assert threads_next(2, 2, None, 1, cpus=2) == (2, None)  # not sampled: as alone


@pytest.mark.parametrize("workers", [0, 1])
def test_a_run_on_the_clock_trains_on_its_threads_again_once_other_work_has_gone(
    tmp_path, monkeypatch, caplog, workers
):
    """With loader workers too: their CPU time is the run's own, not other work's (a run
    with workers kept the count it began on, never looking again: review s54); the watch
    reads the children only then (a notebook's other children are other work)."""
    _omp(monkeypatch, None)
    looks = iter([1.0])  # a core held as the run begins, none after
    monkeypatch.setattr(train_log, "cores_in_use", lambda **kw: next(looks, 0.0))
    read, real = [], train_log.cpu_reading
    monkeypatch.setattr(train_log, "cpu_reading", lambda **kw: read.append(kw) or real(**kw))
    monkeypatch.setattr(cpu_share, "affinity_cpus", lambda: 2)
    monkeypatch.setattr(cpu_share, "RECHECK_SECONDS", 0.0)  # a look at every epoch's end
    extra = f"train.num_workers={workers}"
    seen, after = _fit_on_two_threads(tmp_path, monkeypatch, caplog, extra, minutes=0.02)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("training on")]
    assert after == 2
    assert seen[0] == 1 and seen[-1] == 2, seen
    assert said[-1] == "training on 2 threads again: other work holds 0.0 of the cores now"
    assert len([line for line in said if "training on" in line]) == 2, said
    watched = [kw.get("workers", False) for kw in read]  # the watch's readings
    assert watched and set(watched) == {workers > 0}, read
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["threads"] == 1 and summary["threads_changed"] == [[1, 2]], summary


def _predict_args(tmp_path) -> list[str]:
    paths = ["--checkpoint", tmp_path / "m.pt", "--input", tmp_path / "in"]
    paths += ["--output", tmp_path / "out"]
    return ["predict", *map(str, paths), "--device", "cpu", "--no-progress"]


def _beside_a_busy_core(tmp_path, monkeypatch, omp: str | None, folders=("in",)) -> None:
    """Other work holds a core of 2 at every look (none waited for); a PNG in each of
    ``folders`` and a tiny model at m.pt."""
    _omp(monkeypatch, omp)
    held = cpu_share.CpuShare(own=1.0, wall=1.0, threads=1, others=1.0)  # other work: a core
    monkeypatch.setattr(cpu_share, "cpu_share", lambda *a, **kw: held)
    monkeypatch.setattr(cpu_share, "affinity_cpus", lambda: 2)
    monkeypatch.setattr(cpu_share, "LEAST_LOOK", 0.0)
    for folder in folders:
        (tmp_path / folder).mkdir(parents=True)
        Image.fromarray(np.full((24, 24), 128, np.uint8)).save(tmp_path / folder / "a.png")
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))


def _counts_set(monkeypatch, caplog, call) -> tuple[list[int], int, list[str]]:
    """(the counts torch was set to, its count after, the fewer-threads lines) of ``call()``
    begun on 2 threads."""
    before, sets = torch.get_num_threads(), []
    torch.set_num_threads(2)
    real = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: sets.append(n) or real(n))
    try:
        with caplog.at_level(logging.INFO, logger="unetlab"):
            call()
        after = torch.get_num_threads()
    finally:
        real(before)
    return sets, after, [r.getMessage() for r in caplog.records if "of 2 threads" in r.getMessage()]


PREDICTING_ON_ONE = (
    "predicting on 1 of 2 threads while other work holds 1.0 of the cores (a thread "
    "whose core is taken stalls the others at every tile; OMP_NUM_THREADS=2 keeps 2)"
)
#: the line to a Python caller: its own form of the fix (review s54, 3: a notebook was told
#: the shell's OMP_NUM_THREADS=2)
PYTHON_ON_ONE = PREDICTING_ON_ONE.replace(
    "OMP_NUM_THREADS=2 keeps", 'os.environ["OMP_NUM_THREADS"] = "2" keeps'
)


@pytest.mark.parametrize("omp", [None, "2", "set"])
def test_predict_on_the_cpu_beside_a_busy_core_predicts_on_fewer_threads(
    tmp_path, monkeypatch, caplog, omp
):
    _beside_a_busy_core(tmp_path, monkeypatch, omp)
    codes = []
    sets, after, said = _counts_set(
        monkeypatch, caplog, lambda: codes.append(main(_predict_args(tmp_path)))
    )
    assert codes == [0] and after == 2
    if omp is None:
        assert sets == [1, 2], sets  # fewer while predicting, put back
        assert said == [PREDICTING_ON_ONE]
    else:  # the user chose the threads
        assert sets == [] and said == []


@pytest.mark.parametrize("omp", [None, "2", "set"])
def test_python_predict_folder_beside_a_busy_core_predicts_on_fewer_threads(
    tmp_path, monkeypatch, caplog, omp
):
    """The CLI's rule in predict_folder too (a notebook's folder of images): only the
    command line applied it (review s53)."""
    _beside_a_busy_core(tmp_path, monkeypatch, omp)
    model = load_model(tmp_path / "m.pt")
    folder = partial(predict_folder, model, tmp_path / "in", tmp_path / "out", progress=False)
    sets, after, said = _counts_set(monkeypatch, caplog, folder)
    assert after == 2 and (tmp_path / "out" / "a.png").is_file()
    if omp is None:
        assert sets == [1, 2], sets
        assert said == [PYTHON_ON_ONE]
        monkeypatch.setitem(os.environ, "OMP_NUM_THREADS", "2")  # as the line says
        again = partial(predict_folder, model, tmp_path / "in", tmp_path / "again", progress=False)
        assert _counts_set(monkeypatch, caplog, again)[:2] == ([], 2)
    else:
        assert sets == [] and said == []


def test_python_predict_tree_looks_once_for_all_its_folders(tmp_path, monkeypatch, caplog):
    _beside_a_busy_core(tmp_path, monkeypatch, None, folders=("in/a", "in/b"))
    model = load_model(tmp_path / "m.pt")
    tree = partial(predict_tree, model, tmp_path / "in", tmp_path / "out", progress=False)
    sets, after, said = _counts_set(monkeypatch, caplog, tree)
    assert sets == [1, 2] and after == 2, sets  # not put back and lowered again per folder
    assert said == [PYTHON_ON_ONE]
    assert (tmp_path / "out" / "b" / "a.png").is_file()


def test_a_look_too_short_to_tell_changes_nothing(tmp_path, monkeypatch, caplog):
    _beside_a_busy_core(tmp_path, monkeypatch, None)
    monkeypatch.setattr(cpu_share, "LEAST_LOOK", 1e9)  # never long enough
    model = load_model(tmp_path / "m.pt")
    folder = partial(predict_folder, model, tmp_path / "in", tmp_path / "out", progress=False)
    assert _counts_set(monkeypatch, caplog, folder) == ([], 2, [])


def test_the_share_of_a_run_whose_count_changed_is_judged_against_its_mean_count():
    """The run's CPU share was divided by the count it ended on: 100 s on 1 thread beside
    other work, then 20 s on 2 read as 58% of 2 threads (review s53)."""
    watch = ThreadsWatch(2, cpu_reading())
    assert watch.mean_threads(0.0, 120.0, 2) == 2.0  # no move: the count now
    watch.moved(100.0, 1, 2)
    assert watch.mean_threads(0.0, 120.0, 2) == pytest.approx((100 * 1 + 20 * 2) / 120)
    share = CpuShare(own=140.0, wall=120.0, threads=watch.mean_threads(0.0, 120.0, 2), others=0.9)
    assert share.share == pytest.approx(1.0)
    assert shared_cpu_warning(share, 2) is None  # it got what its threads could have had
    low = CpuShare(own=60.0, wall=120.0, threads=7 / 6, others=0.9)
    assert "of what its 1.2 threads (on average) could" in shared_cpu_warning(low, 2)


def test_after_its_last_change_a_run_on_fewer_threads_still_looks_to_go_back_up(monkeypatch):
    """A cap on all changes kept an hours-long run on 1 thread after the other work had
    gone, when its last allowed change was a step down (review s53)."""
    from unetlab.cpu_share import MOST_CHANGES

    monkeypatch.setattr(cpu_share, "RECHECK_SECONDS", 0.0)
    watch = ThreadsWatch(4, cpu_reading(), moves=[(0.0, 4, 2)] * MOST_CHANGES)
    assert watch.due(2) and not watch.due(4)  # below its count alone: it looks on
    assert watch.allowed(4) and not watch.allowed(3) and not watch.allowed(1)


def _under_a_quota(monkeypatch, tmp_path, chosen: str | None) -> None:
    """A CPU quota of 1 CPU on a 2-core machine whose torch starts on 2 threads (a
    container's ``--cpus 1``: torch counts the host's cores), no other work looked at; a
    PNG in ``in`` and a tiny model at m.pt. ``chosen``: "omp" (OMP_NUM_THREADS=2), "set" (a
    caller's ``torch.set_num_threads(2)``, torch's default 4 here), else not chosen."""
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    if chosen == "omp":
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
    else:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(runtime, "torch_default_threads", lambda: 4 if chosen == "set" else 2)
    monkeypatch.setattr(runtime, "affinity_cpus", lambda: 2)
    monkeypatch.setattr(runtime, "quota_cpus", lambda: 1.0)
    monkeypatch.setattr(cpu_share, "LEAST_LOOK", 1e9)  # the quota alone, no look beside
    (tmp_path / "in").mkdir()
    Image.fromarray(np.full((24, 24), 128, np.uint8)).save(tmp_path / "in" / "a.png")
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))


#: the line said where a caller's torch.set_num_threads(2) is capped at a 1-CPU quota
CAPPED_TWO = (
    "torch.set_num_threads(2) asks more threads than the 1 CPU this process may use (more "
    'would wait for a core): running on 1 (os.environ["OMP_NUM_THREADS"] = "2" keeps 2)'
)


@pytest.fixture(autouse=True)
def _capped_unsaid(monkeypatch):
    """Each test's capped line said anew (runtime says it once a process)."""
    monkeypatch.setattr(runtime, "_CAPPED_SAID", set())


def _capped_said(caplog) -> list[str]:
    return [m for m in caplog.messages if m.startswith("torch.set_num_threads(")]


def _recorded_threads(monkeypatch) -> list:
    """The CPU threads each slide's resume record (slide_resume.identity) takes."""
    from unetlab.inference import slide_resume

    recorded, real = [], slide_resume.identity
    monkeypatch.setattr(
        slide_resume,
        "identity",
        lambda *a, **kw: recorded.append((wanted := real(*a, **kw))["threads"]) or wanted,
    )
    return recorded


@pytest.mark.parametrize("chosen", [None, "omp", "set"])
@pytest.mark.parametrize("how", ["cli", "folder", "tree", "slide"])
def test_predict_under_a_cpu_quota_runs_no_more_threads_than_the_quota(
    tmp_path, monkeypatch, caplog, chosen, how
):
    """``unetlab predict`` and predict_folder never capped the threads as train does: in a
    container of a 2-CPU quota on a 64-core host they ran 64 (s54); nor predict_file of a
    slide read window by window, whose resume record takes the capped count. Put back at the
    end. A caller's ``torch.set_num_threads`` above the quota was kept (training capped it,
    s56): capped now, as training's, said in one line (s57)."""
    import tifffile

    _under_a_quota(monkeypatch, tmp_path, chosen)
    tifffile.imwrite(tmp_path / "s.tif", np.full((64, 64), 128, np.uint8))
    model = load_model(tmp_path / "m.pt")
    seen, recorded = [], _recorded_threads(monkeypatch)
    model.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
    out = tmp_path / "out"
    call = {
        "cli": lambda: main(_predict_args(tmp_path)),
        "folder": partial(predict_folder, model, tmp_path / "in", out, progress=False),
        "tree": partial(predict_tree, model, tmp_path / "in", out, progress=False),
        "slide": partial(predict_file, model, tmp_path / "s.tif", out, large_threshold=100),
    }[how]
    sets, after, _ = _counts_set(monkeypatch, caplog, call)
    assert after == 2 and (out / ("s.tif" if how == "slide" else "a.png")).is_file()
    kept = chosen == "omp"  # a caller's set count capped, as training's (s57)
    assert sets == ([] if kept else [1, 2]), sets
    if how != "cli":  # the CLI loads a model of its own
        assert seen and set(seen) == {2 if kept else 1}, seen
    if how == "slide":
        assert recorded == [2 if kept else 1]
    assert _capped_said(caplog) == ([CAPPED_TWO] if chosen == "set" else [])
    if chosen == "set":  # said once a process: a loop of calls
        caplog.clear()
        assert _counts_set(monkeypatch, caplog, call)[:2] == ([1, 2], 2) and not _capped_said(
            caplog
        )


@pytest.mark.parametrize("omp", [None, "2"])
@pytest.mark.parametrize("large", [True, False])
def test_python_predict_file_keeps_one_count_through_a_slide(
    tmp_path, monkeypatch, caplog, omp, large
):
    """A slide read window by window keeps the count its resume record took as it began
    (review s54, 6: a look between its windows lowered it after the record said 2, so a
    killed slide resumed on 2 threads differed from a straight run with no line said); an
    image read whole leaves the threads as they are. A folder or the CLI looks before."""
    import tifffile

    _beside_a_busy_core(tmp_path, monkeypatch, omp)
    tifffile.imwrite(tmp_path / "s.tif", np.full((64, 64), 128, np.uint8))
    model = load_model(tmp_path / "m.pt")
    seen = []
    model.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
    streamed = dict(large_threshold=100) if large else {}
    file = partial(predict_file, model, tmp_path / "s.tif", tmp_path / "out", tile_size=32)
    sets, after, said = _counts_set(monkeypatch, caplog, partial(file, **streamed))
    assert after == 2 and len(seen) > 1, seen
    assert sets == [] and said == [] and set(seen) == {2}, (sets, seen)


@pytest.mark.parametrize("omp", [None, "4"])
def test_a_group_launched_without_a_thread_count_predicts_on_its_share(monkeypatch, omp):
    """A group's processes started with no OMP_NUM_THREADS (torchrun --nproc_per_node 1, a
    scheduler's launcher) counted as chosen: each ran torch's default, the host's cores
    (review s54, 4). Now each is capped at its share, as training's; no look beside (its
    other processes are no other work); a launch's OMP_NUM_THREADS is kept."""
    from unetlab.group import Group
    from unetlab.inference.threads_look import look_beside, looking_beside

    _omp(monkeypatch, omp)
    monkeypatch.setattr(runtime, "torch_default_threads", lambda: 4)
    monkeypatch.setattr(runtime, "available_cpus", lambda: 4)
    held = cpu_share.CpuShare(own=1.0, wall=1.0, threads=1, others=3.0)  # a look would lower
    monkeypatch.setattr(cpu_share, "cpu_share", lambda *a, **kw: held)
    monkeypatch.setattr(cpu_share, "LEAST_LOOK", 0.0)
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        with looking_beside(Group(rank=0, world=2, active=True)):
            look_beside(UNet(1, 2, depth=2, base_channels=2))
            inside = torch.get_num_threads()
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert (inside, after) == ((2, 4) if omp is None else (4, 4))


def _evaluated(tmp_path, how: str):
    """evaluate of two blobs in ``tmp_path/data`` with a tiny model (saved as e.pt), from
    Python or the command line (``how``), to call."""
    from unetlab import evaluate_model

    data = write_blobs(tmp_path / "data", 2, size=32)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    model.label_values = [0, 255]
    save_model(tmp_path / "e.pt", model)
    args = ["evaluate", "--checkpoint", str(tmp_path / "e.pt"), "--data", str(data)]
    return {
        "python": partial(evaluate_model, model, data, progress=False),
        "cli": lambda: main([*args, "--device", "cpu", "--no-progress"]),
    }[how]


def _demo_seen(tmp_path, monkeypatch):
    """(the threads each of the demo's predict_image calls ran on, the quick demo to call)."""
    from unetlab import demo

    seen, real = [], demo.predict_image
    monkeypatch.setattr(
        demo,
        "predict_image",
        lambda *a, **kw: seen.append(torch.get_num_threads()) or real(*a, **kw),
    )
    return seen, partial(demo.run_demo, tmp_path / "d", quick=True, device="cpu", progress=False)


@pytest.mark.parametrize("chosen", [None, "omp", "set"])
@pytest.mark.parametrize("how", ["python", "cli"])
def test_evaluate_under_a_cpu_quota_predicts_on_no_more_threads_than_the_quota(
    tmp_path, monkeypatch, caplog, chosen, how
):
    """evaluate_model predicts each image with predict_image, which leaves the threads as
    they are: under a container's CPU quota it ran torch's default, the host's cores (review
    s54, 1). Capped as a folder's prediction is; a chosen count kept; put back after."""
    _under_a_quota(monkeypatch, tmp_path, chosen)
    seen, real = [], torch.nn.Module.__call__
    monkeypatch.setattr(  # every forward, the CLI's own loaded model's too
        torch.nn.Module,
        "__call__",
        lambda self, *a, **kw: seen.append(torch.get_num_threads()) or real(self, *a, **kw),
    )
    sets, after, _ = _counts_set(monkeypatch, caplog, _evaluated(tmp_path, how))
    assert after == 2 and seen, seen
    kept = chosen == "omp"  # a caller's set count capped, as training's (s57)
    assert set(seen) == {2 if kept else 1} and sets == ([] if kept else [1, 2]), (seen, sets)
    assert _capped_said(caplog) == ([CAPPED_TWO] if chosen == "set" else [])


def test_the_demo_predicts_on_no_more_threads_than_a_cpu_quota(tmp_path, monkeypatch, caplog):
    """The demo's test images and large image, predicted with predict_image after fit put
    its capped count back, ran torch's default under a quota (review s54, 1). A chosen
    count: evaluate's test above (the same ``capped``)."""
    chosen = None
    _under_a_quota(monkeypatch, tmp_path, chosen)
    seen, run = _demo_seen(tmp_path, monkeypatch)
    _, after, _ = _counts_set(monkeypatch, caplog, run)
    assert after == 2 and len(seen) > 1 and set(seen) == {2 if chosen else 1}, seen


@pytest.mark.parametrize("omp", [None, "2"])
@pytest.mark.parametrize("how", ["python", "cli"])
def test_evaluate_beside_a_busy_core_predicts_on_fewer_threads(
    tmp_path, monkeypatch, caplog, how, omp
):
    """evaluate_model and ``unetlab evaluate`` were capped at a CPU quota but did not look
    beside other work as predict does (s56): they look before each image until they have,
    said in the caller's form; a chosen count kept; put back after."""
    _beside_a_busy_core(tmp_path, monkeypatch, omp)
    sets, after, said = _counts_set(monkeypatch, caplog, _evaluated(tmp_path, how))
    assert after == 2
    if omp is None:
        assert sets == [1, 2], sets
        assert said == [PYTHON_ON_ONE if how == "python" else PREDICTING_ON_ONE], said
    else:
        assert sets == [] and said == []


def test_evaluate_of_stacks_in_3d_predicts_on_fewer_threads_beside_a_busy_core(
    tmp_path, monkeypatch, caplog
):
    """evaluate_model(objects_3d=True) predicts each stack in its own loop
    (``_volumes_scored``, not the 2-D pairs' above): it looks beside other work too (s56)."""
    from tests.test_evaluate_3d_inputs import _truth
    from tests.test_objects_3d import _ball_stack, _write
    from tests.test_predict_objects import local_net
    from unetlab import evaluate_model

    _beside_a_busy_core(tmp_path, monkeypatch, None, folders=())
    for sub, stack in (("images", _ball_stack()), ("masks", _truth())):
        (tmp_path / "d" / sub).mkdir(parents=True)
        _write(tmp_path / "d" / sub / "s.tif", stack[4:9], "ZYX")
    seen, real = [], torch.nn.Module.__call__
    monkeypatch.setattr(
        torch.nn.Module,
        "__call__",
        lambda self, *a, **kw: seen.append(torch.get_num_threads()) or real(self, *a, **kw),
    )
    run = partial(evaluate_model, local_net(), tmp_path / "d", objects_3d=True, progress=False)
    sets, after, said = _counts_set(monkeypatch, caplog, run)
    assert after == 2 and seen and set(seen) == {1} and sets == [1, 2], (seen, sets)
    assert said == [PYTHON_ON_ONE], said


def test_the_demo_predicts_on_fewer_threads_beside_a_busy_core(tmp_path, monkeypatch, caplog):
    """The demo's predictions after fit (which looks itself and puts its count back) ran
    on every thread beside other work (s56): they look as a folder's prediction does, at
    the cores held since training ended (its loader workers are its own: a look from the
    demo's start would count them as other work)."""
    from unetlab import demo

    _beside_a_busy_core(tmp_path, monkeypatch, None)
    seen, run = _demo_seen(tmp_path, monkeypatch)
    looks, share, ended, fit = [], cpu_share.cpu_share, [], demo.fit
    monkeypatch.setattr(  # (when, the reading it measured from) of every look
        cpu_share,
        "cpu_share",
        lambda before, *a, **kw: (
            looks.append((time.perf_counter(), before.wall)) or share(before, *a, **kw)
        ),
    )
    monkeypatch.setattr(
        demo, "fit", lambda *a, **kw: (fit(*a, **kw), ended.append(time.perf_counter()))[0]
    )
    _, after, said = _counts_set(monkeypatch, caplog, run)
    assert after == 2 and len(seen) > 1 and set(seen) == {1}, seen
    assert PYTHON_ON_ONE in said, said
    predicting = [since for at, since in looks if at > ended[0]]
    assert len(ended) == 1 and predicting and min(predicting) >= ended[0], (ended, looks)


@pytest.mark.skipif(
    "backend: OpenMP" not in torch.__config__.parallel_info(),
    reason="torch's native thread pool has one count for the process",
)
def test_two_python_threads_each_put_back_their_own_count():
    """Two Python threads predicting at once (a folder each): torch's count is each
    thread's own once it has run (OpenMP's, torch's Linux and macOS wheels), so one
    lowering its count leaves the other's as it was, and each block puts back its own
    thread's, whichever ends first (review s54, 5). A lock and count of blocks restoring
    only at the last one's end would leave the first thread lowered: pinned here."""
    import threading

    step = threading.Barrier(2, timeout=30)
    seen = {}

    def other():
        seen["start"] = torch.get_num_threads()  # its own count, from torch's last set: 3
        step.wait()  # 0
        step.wait()  # 1: the main thread's block has lowered its count to 1
        seen["beside"] = torch.get_num_threads()
        with runtime.threads_kept():
            torch.set_num_threads(2)
            step.wait()  # 2
            step.wait()  # 3: the main thread's block has ended
            seen["inside"] = torch.get_num_threads()
        seen["after"] = torch.get_num_threads()

    before = torch.get_num_threads()
    torch.set_num_threads(3)
    thread = threading.Thread(target=other)
    try:
        thread.start()
        step.wait()  # 0: it has run torch once, its count its own
        with runtime.threads_kept():
            torch.set_num_threads(1)
            step.wait()  # 1
            step.wait()  # 2: the other thread's block set its count to 2
            lowered = torch.get_num_threads()
        step.wait()  # 3
        thread.join(30)
        mine = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert (lowered, mine) == (1, 3)
    assert seen == {"start": 3, "beside": 3, "inside": 2, "after": 3}, seen


def test_the_python_advice_under_a_quota_gives_the_count_it_names(tmp_path, monkeypatch):
    """The fewer-threads line tells a notebook os.environ["OMP_NUM_THREADS"] = "2" keeps 2:
    set after torch started, torch never read it, and the quota's cap was skipped for it, so
    a 2-CPU container's next folder ran on the host's 4 cores (review s55 A1): it runs on
    the 2 the variable names, and torch's count is put back after."""
    from unetlab.models import UNet

    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # as the line says, after torch started
    monkeypatch.setattr(runtime, "torch_default_threads", lambda: 4)
    monkeypatch.setattr(runtime, "available_cpus", lambda: 2)
    (tmp_path / "in").mkdir()
    Image.fromarray(np.full((24, 24), 128, np.uint8)).save(tmp_path / "in" / "a.png")
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    seen, real = [], torch.nn.Module.__call__

    def counted(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "__call__", counted)
    before = torch.get_num_threads()
    torch.set_num_threads(4)  # torch started on the host's cores
    try:
        predict_folder(
            load_model(tmp_path / "m.pt"), tmp_path / "in", tmp_path / "o", progress=False
        )
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert seen and set(seen) == {2} and after == 4


def test_a_group_shares_the_cpus_of_its_machine_not_of_every_node(monkeypatch):
    """torchrun --nnodes 2 --nproc_per_node 1: one process on each machine, which predicted
    on half its CPUs (its world's share, review s55 A4); LOCAL_WORLD_SIZE says how many
    share them."""
    from unetlab.group import Group
    from unetlab.inference.threads_look import looking_beside

    _omp(monkeypatch, None)
    monkeypatch.setattr(runtime, "available_cpus", lambda: 4)
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    group = Group.from_env()
    assert (group.world, group.local_world) == (2, 1)
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        with looking_beside(group):
            inside = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert inside == 4


def _fit_steps(tmp_path, monkeypatch, threads: int, **group) -> list[int]:
    """The threads at each step of a fit begun on ``threads`` (torch's count put back after),
    in a real gloo group of one in-process where ``group`` gives torchrun's environment
    (``local_world``: its LOCAL_WORLD_SIZE, the CPUs' share; ``run_id``: its
    TORCHELASTIC_RUN_ID), alone without."""
    import socket

    if group:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        torchrun = dict(WORLD_SIZE="1", RANK="0", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1")
        torchrun.update(LOCAL_WORLD_SIZE=str(group["local_world"]), MASTER_PORT=str(port))
        if "run_id" in group:
            torchrun["TORCHELASTIC_RUN_ID"] = group["run_id"]
        for name, value in torchrun.items():
            monkeypatch.setenv(name, value)
    _, seen = _threads_at_each_step(monkeypatch)
    cfg = tiny_config(write_blobs(tmp_path / "data", 4), "train.epochs=1")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        fit(cfg, run_dir=tmp_path / "run", progress=False)
    finally:
        torch.set_num_threads(before)
    return seen


@pytest.mark.parametrize("omp", [None, "1"])
def test_training_in_a_group_keeps_the_user_s_omp_num_threads(tmp_path, monkeypatch, omp):
    """Under torchrun training set each process's threads to its exact share of the CPUs,
    over the user's OMP_NUM_THREADS, which predict and evaluate keep (tidy6 s56): now it
    keeps it too; unset, its share caps torch's default (here 4 threads on 2 CPUs). A real
    group of one process (gloo, in this one), as torchrun's environment makes it."""
    _omp(monkeypatch, omp)
    monkeypatch.setattr(runtime, "torch_default_threads", lambda: 4)
    for module in (runtime, train_run):  # what configure_threads, and the loader, read
        monkeypatch.setattr(module, "available_cpus", lambda: 2)
    seen = _fit_steps(tmp_path, monkeypatch, 4, local_world=1)
    assert seen and set(seen) == ({2} if omp is None else {1}), seen


#: torchrun's worker's parent (torchrun) started with: none of OMP_NUM_THREADS (torchrun set
#: its 1 after), the user's 1, or unreadable (not Linux)
PARENTS = {"torchrun's": {"PATH": "/bin"}, "user's": {"OMP_NUM_THREADS": "1"}, "unread": None}


def _torchrun_omp(monkeypatch, parent: str) -> None:
    """A torchrun worker's OMP_NUM_THREADS=1, its parent's start-up environment ``parent``
    (:data:`PARENTS`); 4 CPUs, torch's default 4."""
    _omp(monkeypatch, "1")
    monkeypatch.setattr(runtime, "parent_environ", lambda: PARENTS[parent])
    monkeypatch.setattr(runtime, "torch_default_threads", lambda: 4)
    for module in (runtime, train_run):  # what configure_threads, and the loader, read
        monkeypatch.setattr(module, "available_cpus", lambda: 4)


@pytest.mark.parametrize("parent", PARENTS)
def test_torchrun_s_own_omp_num_threads_trains_on_the_share(tmp_path, monkeypatch, parent):
    """torchrun --nproc_per_node 2 with no OMP_NUM_THREADS gives its workers
    OMP_NUM_THREADS=1 (with a banner), which training took for the user's since 80d1e35f:
    1 thread a process, not its share (review fixT s56). torchrun's started environment
    (its worker's parent's) lacks it: the share, 2 of 4 CPUs; the user's 1 is kept."""
    _torchrun_omp(monkeypatch, parent)
    seen = _fit_steps(tmp_path, monkeypatch, 1, local_world=2, run_id="x")
    assert seen and set(seen) == ({1} if parent == "user's" else {2}), seen


@pytest.mark.parametrize("parent", PARENTS)
def test_torchrun_s_own_omp_num_threads_predicts_on_the_share(monkeypatch, parent):
    """The same launch predicted (and evaluated) on 1 thread a process, where README says
    its share; a launch without torchrun's TORCHELASTIC_RUN_ID, or of one process a
    machine, never got torchrun's 1: its OMP_NUM_THREADS=1 is the user's."""
    from unetlab.group import Group
    from unetlab.inference.threads_look import looking_beside

    _torchrun_omp(monkeypatch, parent)
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "x")
    before = torch.get_num_threads()
    inside = []
    try:
        for local in (2, 1):
            monkeypatch.setenv("LOCAL_WORLD_SIZE", str(local))
            torch.set_num_threads(1)  # as torch started under OMP_NUM_THREADS=1
            with looking_beside(Group(rank=0, world=2, active=True, local_size=local)):
                inside.append(torch.get_num_threads())
            assert torch.get_num_threads() == 1  # put back
        monkeypatch.delenv("TORCHELASTIC_RUN_ID")
        monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
        with looking_beside(Group(rank=0, world=2, active=True, local_size=2)):
            inside.append(torch.get_num_threads())
    finally:
        torch.set_num_threads(before)
    assert inside == ([1, 1, 1] if parent == "user's" else [2, 1, 1])


@pytest.mark.parametrize("omp", [None, "3"])
def test_training_alone_caps_a_caller_s_threads_at_the_cpus(tmp_path, monkeypatch, caplog, omp):
    """A notebook's torch.set_num_threads(os.cpu_count()) in a container of a 2-CPU quota on
    a larger host: since 80d1e35f training kept it, 8 threads on 2 CPUs, silently (review
    fixT s56); capped at the CPUs again, as before, said in one line (s57: as predict's);
    the user's OMP_NUM_THREADS is kept."""
    _omp(monkeypatch, omp)
    for module in (runtime, train_run):  # what configure_threads, and the loader, read
        monkeypatch.setattr(module, "available_cpus", lambda: 2)
    with caplog.at_level(logging.INFO, logger="unetlab"):
        seen = _fit_steps(tmp_path, monkeypatch, 8)
    assert seen and set(seen) == ({2} if omp is None else {3}), seen
    capped = CAPPED_TWO.replace("(2)", "(8)").replace('"2" keeps 2', '"8" keeps 8')
    capped = capped.replace("the 1 CPU", "the 2 CPUs").replace("on 1 ", "on 2 ")
    assert _capped_said(caplog) == ([capped] if omp is None else [])


def test_a_run_on_fewer_threads_records_them_and_a_repeat_on_more_is_warned(
    tmp_path, monkeypatch, caplog
):
    """history.yaml and summary.json record the threads the steps ran on, not those before
    the look beside other work lowered them (s56: "resolved: threads: 2" for a run trained
    on 1, so its repeat on 2 went unwarned)."""
    _omp(monkeypatch, None)
    monkeypatch.setattr(train_log, "cores_in_use", lambda **kw: 1.0)  # other work: a core
    monkeypatch.setattr(cpu_share, "affinity_cpus", lambda: 2)
    seen, _after = _fit_on_two_threads(tmp_path, monkeypatch, caplog)
    run = tmp_path / "run"
    history = yaml.safe_load((run / "history.yaml").read_text())
    summary = json.loads((run / "summary.json").read_text())
    assert set(seen) == {1}, seen
    assert history[-1]["resolved"]["threads"] == 1
    assert summary["threads"] == 1 and "threads_changed" not in summary
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)  # a repeat on 2 threads
        said = other_making(run / "config.yaml")
        torch.set_num_threads(1)  # on 1: nothing said of threads
        alike = other_making(run / "config.yaml")
    finally:
        torch.set_num_threads(before)
    assert said is not None and "threads 2, not 1" in said, said
    assert alike is None or "threads" not in alike.split("(")[0], alike


@pytest.mark.parametrize("in_use", [1.0, 0.0])
def test_a_timed_run_s_repeat_line_names_the_threads_it_ran_on(
    tmp_path, monkeypatch, caplog, in_use
):
    """A run on the clock lowered to 1 thread beside other work closed with the command
    that trains its length again, which a fresh process runs on its 2 (s57): other figures,
    the count not named. Named where it differs (OMP_NUM_THREADS, in the Python form to
    fit's caller); not where a repeat gets the same count by default."""
    _omp(monkeypatch, None)
    monkeypatch.setattr(train_log, "cores_in_use", lambda **kw: in_use)
    monkeypatch.setattr(cpu_share, "affinity_cpus", lambda: 2)
    seen, _after = _fit_on_two_threads(tmp_path, monkeypatch, caplog)
    repeat = json.loads((tmp_path / "run" / "summary.json").read_text())["repeat"]
    line = next(m for m in caplog.messages if "this length again" in m)
    if in_use:
        assert set(seen) == {1} and repeat.get("threads") == 1, (seen, repeat)
        assert repeat["command"].startswith("OMP_NUM_THREADS=1 ")
        assert 'repeatably: os.environ["OMP_NUM_THREADS"] = "1"; fit(load_config(' in line
    else:
        assert set(seen) == {2} and repeat.get("threads") is None, seen
        assert "OMP_NUM_THREADS" not in repeat["command"] + line


@pytest.mark.parametrize("again", ["resume", "repeat"])
@pytest.mark.parametrize(("first", "then", "warned"), [(1.0, 1.0, None), (0.0, 1.0, "1, not 2")])
def test_a_resume_or_repeat_compares_the_threads_its_steps_run_on(
    tmp_path, monkeypatch, caplog, first, then, warned, again
):
    """A resume's thread check, and a repeat's from the run's config.yaml, compare the count
    its steps run on, after the look beside other work (s56 review U: lowered 2->1 and
    resumed beside the same work, it warned "threads 2, not 1" and stepped on 1; trained
    alone on 2 and resumed beside work, it compared 2 with 2 and stepped on 1, unwarned)."""
    _omp(monkeypatch, None)
    monkeypatch.setattr(cpu_share, "affinity_cpus", lambda: 2)
    monkeypatch.setattr(train_log, "cores_in_use", lambda **kw: first)
    _fit_on_two_threads(tmp_path, monkeypatch, caplog)
    monkeypatch.setattr(train_log, "cores_in_use", lambda **kw: then)
    caplog.clear()
    clock, seen = _threads_at_each_step(monkeypatch)
    cfg = tiny_config(tmp_path / "data", "train.epochs=1000", "train.max_minutes=0.01")
    run = tmp_path / ("run" if again == "resume" else "again")
    how = {"resume": True} if again == "resume" else {"config_file": tmp_path / "run/config.yaml"}
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with caplog.at_level(logging.INFO, logger="unetlab"):
            fit(cfg, run_dir=run, progress=False, clock=clock, **how)
    finally:
        torch.set_num_threads(before)
    said = [m for m in caplog.messages if "trains with" in m and "threads" in m]
    history = yaml.safe_load((run / "history.yaml").read_text())
    assert set(seen) == {1} and history[-1]["resolved"]["threads"] == 1, (seen, history)
    if warned is None:
        assert said == []
    else:
        assert len(said) == 1 and f"threads {warned}" in said[0], said


def test_a_finished_run_resumed_keeps_the_threads_its_steps_ran_on(tmp_path, monkeypatch, caplog):
    """A run on the clock lowered to 1 thread beside other work, resumed after it ended (a
    notebook's fit cell run again, on 2 threads): it trains nothing, yet summary.json's
    threads and repeat command were this command's 2, the repeat's OMP_NUM_THREADS=1 lost
    (s64 notebook)."""
    _omp(monkeypatch, None)
    monkeypatch.setattr(train_log, "cores_in_use", lambda **kw: 1.0)  # other work: a core
    monkeypatch.setattr(cpu_share, "affinity_cpus", lambda: 2)
    _fit_on_two_threads(tmp_path, monkeypatch, caplog)
    run = tmp_path / "run"
    first = json.loads((run / "summary.json").read_text())
    assert first["threads"] == 1 and first["repeat"]["command"].startswith("OMP_NUM_THREADS=1 ")
    monkeypatch.setattr(train_log, "cores_in_use", lambda **kw: 0.0)  # the work is gone
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        fit(load_config(run / "config.yaml"), run_dir=run, resume=True, progress=False)
    finally:
        torch.set_num_threads(before)
    again = json.loads((run / "summary.json").read_text())
    assert (again["steps"], again["resumed"]) == (first["steps"], 1)
    assert again["threads"] == 1 and again["repeat"] == first["repeat"], again["repeat"]
