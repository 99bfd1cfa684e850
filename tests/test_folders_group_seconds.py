"""``predict_folder`` in a group of processes: ``pixels`` are all processes', and
``seconds`` the longest process's, so that ``pixels / seconds`` (predict's MP/s) is the
group's rate (note33: every process's pixels over the main process's time)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
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
    :class:`_Threads` group, until both end."""
    hub = SimpleNamespace(barrier=threading.Barrier(2, timeout=60), box=[None, None])

    def rank(r):
        run(_Threads(r, 2, active=True, hub=hub))

    threads = [threading.Thread(target=rank, args=(r,), name=f"rank{r}") for r in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


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
