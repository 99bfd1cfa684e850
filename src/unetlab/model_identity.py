"""Which sha256s name a checkpoint's model: the one rule that predictions' records
(``inference.records``), evaluate's reports (``cli.evaluate``) and compare
(``compare.records``) follow.

A run's ``best.pt`` and ``last.pt`` are rewritten when its training ends (its
``run_progress`` recorded: ``train.fitting``), which changes the file's bytes but not its
model, so the rewritten file carries the sha256 it had before (:data:`SAME_MODEL`) and a
report names it as :data:`REPORT_SAME_MODEL`. That earlier sha256, where there is one, names
the model (:func:`model_sha256`); both name it when matching a file to a report
(:func:`model_sha256s`).

A model given in memory is named by its weights (:func:`weights_sha256`); one loaded from a
file by that file while its weights are still the file's
(:func:`unetlab.checkpoint.scored_source`).
A leaf module: it imports nothing of unetlab, so each of them can import it.
"""

from __future__ import annotations

import contextlib
import hashlib
import weakref
from collections.abc import Iterator, Mapping

import torch
from torch.multiprocessing.reductions import StorageWeakRef

#: the checkpoint's entry (and a loaded model's attribute): the file's sha256 before its
#: run's end was recorded in it
SAME_MODEL = "same_model_sha256"
#: a report's (evaluate --json, a predicted_by entry) field for the file's bytes
REPORT_SHA256 = "checkpoint_sha256"
#: a report's field for :data:`SAME_MODEL`
REPORT_SAME_MODEL = "checkpoint_model_sha256"
#: a report's field for a model that no file names (built in memory, or changed since it was
#: loaded): the :func:`weights_sha256` of its weights
REPORT_WEIGHTS = "weights_sha256"

#: each model's last weights hash, with the stamp it was computed at; keyed by the model
#: itself, held weakly: keyed by its id(), a freed net's entry named the new net that took
#: its id and its tensors' addresses (s59)
_HASHES: weakref.WeakKeyDictionary[torch.nn.Module, tuple[tuple, str]] = weakref.WeakKeyDictionary()
#: each model laid out again by :func:`laid_out_again`: its tensors' stamp then, and the
#: :func:`weights_stamp` it had before, which it keeps while its tensors stay so
_RELAID: weakref.WeakKeyDictionary[torch.nn.Module, tuple[tuple, tuple]] = (
    weakref.WeakKeyDictionary()
)


def model_sha256s(file_sha256: str | None, same_model_sha256: str | None = None) -> list[str]:
    """The sha256s that name a checkpoint's model, the one that names it first: the sha256
    the file had before its run's end was recorded in it (``same_model_sha256``, None where
    it was not rewritten), then its bytes' (``file_sha256``); none that is not a string."""
    shas = [same_model_sha256, file_sha256]
    return [s for i, s in enumerate(shas) if isinstance(s, str) and s and s not in shas[:i]]


def model_sha256(file_sha256: str | None, same_model_sha256: str | None = None) -> str | None:
    """The sha256 that names a checkpoint's model (:func:`model_sha256s`'s first); None
    where neither is known."""
    return next(iter(model_sha256s(file_sha256, same_model_sha256)), None)


def report_model_sha256(report: Mapping) -> str | None:
    """:func:`model_sha256` of what a report (or a ``predicted_by`` entry) scored."""
    return model_sha256(report.get(REPORT_SHA256), report.get(REPORT_SAME_MODEL))


def report_model_sha256s(report: Mapping) -> list[str]:
    """:func:`model_sha256s` of what a report (or a ``predicted_by`` entry) scored."""
    return model_sha256s(report.get(REPORT_SHA256), report.get(REPORT_SAME_MODEL))


def weights_sha256(model: torch.nn.Module, *, cached: bool = True) -> str:
    """The sha256 of a model's state (each tensor's name, dtype, shape and bytes), the same on
    any device. ``cached``: computed again only where :func:`weights_stamp` changed (a
    tensor replaced, its values replaced (``p.data = ...``), changed in place as torch
    counts it, or cast: ``.half()``); not where :func:`laid_out_again` laid the net out
    again, as each prediction does (s59 review D: a net trained on in memory was hashed again for
    each file); else computed again in any case (the paper net's 31M weights: 0.11-0.30 s
    on the 2-core development machine)."""
    stamp = weights_stamp(model)
    known = _HASHES.get(model)
    if not cached or known is None or known[0] != stamp:  # a miss: the state built for it
        known = _HASHES[model] = (stamp, state_sha256(model.state_dict()))
    return known[1]


def weights_stamp(model: torch.nn.Module) -> tuple:
    """What changes where one of a model's parameters or buffers is replaced, has its values
    replaced (``p.data = new``, which torch does not count, even twice in a row where the
    last lands at the first's address) or is changed in place as torch counts it (an
    optimizer's step), and not where :func:`laid_out_again` laid them out again:
    :func:`_tensors_stamp`, or the stamp the model had before it was laid out again where
    its tensors are still as that left them. Read in microseconds (no bytes hashed); an edit
    in place through ``.data`` (``p.data += 1``) changes none of it."""
    stamp = _tensors_stamp(model)
    relaid = _RELAID.get(model)
    return relaid[1] if relaid is not None and relaid[0] == stamp else stamp


def _tensors_stamp(model: torch.nn.Module) -> tuple:
    """Each parameter's and buffer's object, version count, dtype, shape, device, strides,
    data address and storage (``.half()`` casts each in place of its object, its count unchanged:
    s59 review D; ``p.data = new`` keeps both and changes the storage). The storage is held
    weakly: its memory is freed as ever, but torch keeps its small record while a weak hold
    lasts, so no later storage is told for it; an address alone was given again to a second
    ``p.data = new`` and named the file (s60 review)."""
    held = [*model.parameters(), *model.buffers()]
    return tuple(
        (id(t), t._version, t.dtype, t.shape, t.device, t.stride(), t.data_ptr(), _storage(t))
        for t in held
    )


def _storage(t: torch.Tensor) -> StorageWeakRef:
    """``t``'s storage, held weakly; equal to another such hold of the same storage only."""
    return StorageWeakRef(t.untyped_storage())


@contextlib.contextmanager
def laid_out_again(*models: torch.nn.Module) -> Iterator[None]:
    """Within it, the tensors of ``models`` (a net, and the net inside where it is a DDP or
    ``torch.compile`` wrapper) are moved or laid out again with their values kept
    (``model.to(device, memory_format=...)``:
    :func:`unetlab.inference.predict.inference_session`, the command line's ``predict``):
    each one's :func:`weights_stamp` after is the one before, so that its cached hash, and
    what a stamp says of it (the file it was loaded from), hold on. Such a move gives each
    tensor new memory (``p.data = moved``), as a replacement of its values does. Only where
    each tensor kept its object, version count, dtype and shape, and got new memory only
    with another device or strides (:func:`_kept`): a cast (``.half()``, or there and back),
    a step or new values where it stays within it is a change, as anywhere else."""
    models = tuple(dict.fromkeys(models))  # a net that is no wrapper: once
    before = [(_tensors_stamp(model), weights_stamp(model)) for model in models]
    yield
    for model, (tensors, stamp) in zip(models, before):
        after = _tensors_stamp(model)
        if _kept(tensors, after):
            _RELAID[model] = (after, stamp)


def _kept(before: tuple, after: tuple) -> bool:
    """Whether two :func:`_tensors_stamp` name the same tensors, each with its version
    count, dtype and shape, and its memory (address and storage) new only where it moved to
    another device or was laid out with other strides: a tensor given new memory where it
    stays, as it was laid (``net.half().float()``, ``p.data = torch.zeros_like(p)``), was
    given other values (s60 re-review)."""
    return len(before) == len(after) and all(map(_kept_one, before, after))


def _kept_one(before: tuple, after: tuple) -> bool:
    """:func:`_kept` of one tensor's stamps."""
    moved = before[4:6] != after[4:6]  # its device or strides
    return before[:4] == after[:4] and (moved or before[6:] == after[6:])


def state_sha256(state: Mapping[str, torch.Tensor]) -> str:
    """:func:`weights_sha256` of a state dict (a model's, or a checkpoint's ``model`` part,
    which names the same tensors in the same order as the net loaded from it)."""
    h = hashlib.sha256()
    for name, t in state.items():
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}\0".encode())
        # the array's buffer itself: .tobytes() copied the 124 MB of the paper net first
        h.update(t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
    return h.hexdigest()
