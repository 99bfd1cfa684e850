"""Fewer threads for a Python folder's or tree's prediction on the CPU beside other work, as
``unetlab predict`` predicts (:func:`~unetlab.cpu_share.threads_for_predicting`): one look at
the cores other work held since the call began, once the model is loaded or, where that
took less than :data:`~unetlab.cpu_share.LEAST_LOOK` (a model passed in), after each file
until it has looked (not with a ``clock``: timings keep one count); torch's count put back
when the call ends, as ``fit`` does. Not in a group of processes (capped at their share
of the cores: :func:`looking_beside`), nor where the user chose the threads (:func:`~unetlab.runtime.threads_chosen`). A
tree's folders share its one look. The count looked at, lowered and put back is the calling
Python thread's (:func:`~unetlab.runtime.threads_kept`): two threads predicting a folder each
at once change each its own. Before it, as ``fit`` does, no more threads than the CPUs
the process may use (:func:`~unetlab.runtime.configure_threads`): torch starts on the
host's physical cores, 64 threads in a container of a 2-CPU quota on a 64-core host.

:func:`~unetlab.predict_image` (and ``predict_file`` of an image read whole) leave the
threads as they are: one image gives no setup to see other work's cores over, and a look of
its own would add :data:`~unetlab.cpu_share.LEAST_LOOK` seconds' wait to every call of a
script's loop; a count lowered inside one call would also be put back before the next. A
loop of calls beside other work sets ``torch.set_num_threads`` (or OMP_NUM_THREADS) itself,
or predicts a folder. ``evaluate_model`` and the demo, work of many images predicted with
``predict_image``, are capped at the CPUs the process may use (:func:`capped`) and look
as a folder's prediction does, before each image until they have (the demo from the end of
its training, whose loader workers are its own; s56: they were capped, no look made).
``predict_file`` of a large image read window by window (a slide:
minutes to hours, like a folder) is capped as a folder is, but never changes its count
between windows: its resume record (:func:`~unetlab.inference.slide_resume.identity`) keeps
the count it began on, so that a killed slide resumed on as many threads equals a straight
run bit for bit (a look between windows lowered the count after the record took it, review
s54, 6); a folder or the CLI looks before the slide begins or between files."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import time
from collections.abc import Callable, Iterator

import torch

from unetlab import cpu_share
from unetlab.group import SOLO, Group
from unetlab.runtime import cap_threads, threads_chosen, threads_kept

log = logging.getLogger(__name__)


class _Look:
    """The reading a call's look measures from; None once it has looked (or may not)."""

    def __init__(self, since: cpu_share.CpuReading | None):
        self.since = since

    def __call__(self, model) -> None:
        """Look, where none was made and long enough has passed: fewer threads for a
        ``model`` on the CPU where other work held cores, said in one line."""
        if self.since is None:
            return
        if not _on_cpu(model):
            self.since = None
            return
        if time.perf_counter() - self.since.wall < cpu_share.LEAST_LOOK:
            return  # too short to tell: the next file's end looks
        line, self.since = cpu_share.threads_for_predicting(self.since), None
        if line:
            log.info("%s", line)


def _on_cpu(model) -> bool:
    if not isinstance(model, torch.nn.Module):
        return False  # another runtime's model (an ONNX session): its own threads
    first = next(model.parameters(), None)
    return first is not None and first.device.type == "cpu"


_looks: contextvars.ContextVar[_Look | None] = contextvars.ContextVar("threads_look", default=None)


@contextlib.contextmanager
def looking_beside(group: Group) -> Iterator[None]:
    """Within: torch's threads no more than the CPUs this process may use
    (:func:`~unetlab.runtime.configure_threads`: a container's CPU quota; in a ``group``,
    its share of them), and :func:`look_beside` may lower them once (a tree's folders: the
    tree's one look; not in a group, whose other processes would read as other work),
    unless the user chose them (OMP_NUM_THREADS; a caller's ``torch.set_num_threads`` is
    kept in a group, capped alone as training caps it: :func:`~unetlab.runtime.cap_threads`);
    torch's count put back at the end. A group's launch that
    chose no count (torchrun's ``--nproc_per_node 1``, a scheduler's own launcher: no
    OMP_NUM_THREADS) is capped too: its processes started on the host's cores each, 64
    threads apiece under a 2-CPU quota. The share is of the group's processes on this
    machine (``group.local_world``), as training's."""
    if _looks.get() is not None:  # a folder of a tree: the tree's
        yield
        return
    chosen = threads_chosen()  # the user's (OMP_NUM_THREADS: every launch's but those)
    look = not chosen and not group.active
    token = _looks.set(_Look(cpu_share.cpu_reading() if look else None))
    try:
        with threads_kept():
            cap_threads(group.local_world if group.active else None)  # training's rule
            yield
    finally:
        _looks.reset(token)


def capped(func: Callable) -> Callable:
    """``func`` run within :func:`looking_beside` of a plain process: torch's threads no
    more than the CPUs this process may use, unless the user chose them, put back as they
    were at its end, and fewer where ``func`` calls :func:`look_beside` and other work holds
    cores. For work of many images that predicts each with ``predict_image``
    (``evaluate_model``, the demo's test images and large one): they ran torch's default,
    the host's physical cores, under a container's CPU quota (64 threads in a 2-CPU
    container on a 64-core host)."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        with looking_beside(SOLO):
            return func(*args, **kwargs)

    return run


def look_beside(model, since: cpu_share.CpuReading | None = None) -> None:
    """The look of the :func:`looking_beside` block this runs in, if it is due, at the
    cores other work held since the block began or since the earlier ``since`` (a
    command's start: its imports and setup give the look its time)."""
    if (look := _looks.get()) is not None:
        if since is not None and look.since is not None:
            look.since = since
        look(model)
