"""A process's place in a group of processes that share work: training (DDP) and prediction.

:class:`Group` is a plain value (rank, world size, local rank) with the few collectives
unetlab uses (share, gather, total, one all-reduce per training step) and the split of
items over the processes; a plain process is :data:`SOLO`, a group of one, for which every
method is a no-op. Starting the processes (torchrun) and passing signals on is
:mod:`unetlab.distributed`'s; inference imports only this module.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist

from unetlab.errors import UnetlabError


@dataclass(frozen=True)
class Group:
    """This process's place among ``world`` training processes."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    # started by torchrun: DDP and collectives, even for one process (which checks the NCCL
    # path on a one-GPU machine); a plain process is inactive and every method a no-op
    active: bool = False
    # the group's processes on this machine (torchrun's LOCAL_WORLD_SIZE): the CPUs' share
    local_size: int | None = None

    @classmethod
    def from_env(cls) -> Group:
        """From torchrun's variables; a plain group of one without them."""
        if "WORLD_SIZE" not in os.environ:
            return cls()
        try:
            world = int(os.environ.get("WORLD_SIZE", "1"))
            rank = int(os.environ.get("RANK", "0"))
            local = int(os.environ.get("LOCAL_RANK", str(rank)))
            here = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
        except ValueError as exc:
            raise UnetlabError(
                f"bad torchrun environment (RANK/WORLD_SIZE/LOCAL_RANK/LOCAL_WORLD_SIZE): {exc}"
            ) from None
        if world < 1 or not 0 <= rank < world:
            raise UnetlabError(f"bad torchrun environment: RANK {rank}, WORLD_SIZE {world}")
        return cls(rank, world, local, active=True, local_size=here)

    @property
    def local_world(self) -> int:
        """The group's processes on this machine, which share its CPUs (its world where
        torchrun did not say: review s55 A4, a 2-node run predicted on half of each node)."""
        return self.local_size or self.world

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """One GPU per process: ``cuda`` becomes ``cuda:LOCAL_RANK``."""
        if self.active and device.type == "cuda":
            count = torch.cuda.device_count()
            if self.local_rank >= count:
                raise UnetlabError(
                    f"process {self.local_rank} of this machine has no GPU ({count} found): "
                    f"use --nproc {count} or fewer"
                )
            return torch.device("cuda", self.local_rank)
        return device

    @contextlib.contextmanager
    def joined(self, device: torch.device, minutes: float | None = None) -> Iterator[Group]:
        """The process group (NCCL on GPUs, gloo on CPUs) for the duration of the block.
        ``minutes``: how long a collective waits for the other processes before it fails
        (None: the backend's own, 30 min for gloo, 10 min for NCCL in some torch versions);
        training's processes wait in one while the main one validates alone
        (``train.dist_timeout_minutes``). A killed process is seen at once, whatever it is."""
        if not self.active or dist.is_initialized():
            yield self
            return
        if device.type == "cuda":
            torch.cuda.set_device(device)
        timeout = None if minutes is None else datetime.timedelta(minutes=minutes)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timeout)
        try:
            yield self
            # nobody tears down its connections while another process still uses them (a
            # gloo process whose peer had gone aborted once at exit, SIGABRT)
            dist.barrier()
        finally:
            dist.destroy_process_group()

    def step(self, loss: torch.Tensor, stop: bool) -> tuple[torch.Tensor, bool]:
        """(mean loss over the processes, whether any process asks to stop): one all-reduce
        per step, so that all see the same non-finite loss or Ctrl-C at the same step."""
        if not self.active:
            return loss.detach(), stop
        both = torch.stack([loss.detach().float(), torch.tensor(float(stop), device=loss.device)])
        dist.all_reduce(both)
        return both[0] / self.world, bool(both[1] > 0)

    def share(self, obj):
        """The main process's ``obj`` (any picklable value), in every process."""
        if not self.active:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, obj) -> list:
        """Every process's ``obj`` (any picklable value), in rank order, in every process."""
        if not self.active:
            return [obj]
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def total(self, values: list[float]) -> list[float]:
        """Each of ``values`` summed over the processes (float64; as given in a plain one)."""
        if not self.active:
            return list(values)
        device = torch.device("cuda", self.local_rank) if dist.get_backend() == "nccl" else "cpu"
        summed = torch.tensor(values, dtype=torch.float64, device=device)
        dist.all_reduce(summed)
        return summed.tolist()

    def shard(self, start: int, total: int) -> range:
        """This process's items of ``start .. total - 1``: every ``world``-th, the same count
        in every process (a remainder of fewer than ``world`` items is dropped)."""
        count = (total - start) // self.world
        return range(start + self.rank, start + self.rank + count * self.world, self.world)

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """``model`` in DistributedDataParallel (SyncBatchNorm on GPUs), or as it is."""
        if not self.active:
            return model
        if device.type == "cuda":
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        # A 1-channel input conv's weight (K, 1, 3, 3) has two equivalent channels-last
        # strides; DDP warns that they differ, although the memory is the same.
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
        return torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )


#: The group of one: a plain process.
SOLO = Group()
