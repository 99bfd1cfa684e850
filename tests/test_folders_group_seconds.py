"""``predict_folder`` in a group of processes: ``pixels`` are all processes', and
``seconds`` the longest process's, so that ``pixels / seconds`` (predict's MP/s) is the
group's rate (note33: every process's pixels over the main process's time)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from unetlab import UNet
from unetlab.group import Group
from unetlab.inference.folders import predict_folder


@dataclass(frozen=True)
class _Threads(Group):
    """A rank of a group of threads (a stand-in for torchrun's processes): the collectives
    meet at a barrier."""

    hub: SimpleNamespace | None = None

    def _met(self, obj) -> list:
        self.hub.box[self.rank] = obj
        self.hub.barrier.wait()
        got = list(self.hub.box)
        self.hub.barrier.wait()
        return got

    def share(self, obj):
        return self._met(obj)[0]

    def gather(self, obj) -> list:
        return self._met(obj)

    def total(self, values: list[float]) -> list[float]:
        return [float(sum(v)) for v in zip(*self._met(values))]


def two_ranks(run) -> None:
    """``run(group)`` in two threads named ``rank0`` and ``rank1``, each with its rank of a
    :class:`_Threads` group, until both end; a rank's exception is raised here, in the test
    (a thread's own would only be a warning): the first rank's to fail, not the other's
    broken barrier."""
    hub = SimpleNamespace(barrier=threading.Barrier(2, timeout=60), box=[None, None])
    errors: list[BaseException] = []

    def rank(r):
        try:
            run(_Threads(r, 2, active=True, hub=hub))
        except BaseException as exc:  # noqa: BLE001 (raised in the test's thread)
            errors.append(exc)
            hub.barrier.abort()  # the other rank stops waiting at its next meeting

    threads = [threading.Thread(target=rank, args=(r,), name=f"rank{r}") for r in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        first = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
        raise (first or errors)[0]


def test_a_groups_seconds_are_its_slowest_processs(tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):  # rank 0 predicts a.png, rank 1 b.png
        image = np.random.default_rng(0).integers(0, 255, (24, 32), dtype=np.uint8)
        Image.fromarray(image).save(tmp_path / "in" / f"{name}.png")
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    forward = net.forward

    def slow_in_rank_1(x):  # rank 1's file takes 0.5 s more
        if threading.current_thread().name == "rank1":
            time.sleep(0.5)
        return forward(x)

    net.forward = slow_in_rank_1
    results: list = [None, None]

    def run(group):
        results[group.rank] = predict_folder(net, tmp_path / "in", tmp_path / "out", group=group)

    two_ranks(run)
    main = results[0]
    assert sorted(p.name for p in main.written) == ["a.png", "b.png"]
    assert main.pixels == 2 * 24 * 32
    assert main.seconds >= 0.5  # was the main process's own, well under 0.5 s
    assert results[1].seconds == main.seconds


def test_a_rank_that_fails_fails_the_test():
    """Rank 1 failing as rank 0 waits for it at a meeting: its error, raised in the test
    (it was a warning and the test passed), and rank 0 is not left waiting."""

    def run(group):
        if group.rank == 1:
            raise RuntimeError("rank 1 failed")
        group.share(None)

    with pytest.raises(RuntimeError, match="rank 1 failed"):
        two_ranks(run)


def test_a_rank_that_fails_at_its_end_fails_the_test():
    def run(group):
        if group.rank == 1:
            raise RuntimeError("rank 1 failed at its end")

    with pytest.raises(RuntimeError, match="at its end"):
        two_ranks(run)
