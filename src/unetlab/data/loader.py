"""A DataLoader from whose worker processes bad input still comes back as one line.

torch re-raises a worker's exception in the main process as its type built again from the
worker's traceback text (``exc_type(text)``): a :class:`~unetlab.errors.UnetlabError` became
"Caught UnetlabError in DataLoader worker process 0." with the traceback below it, and a
:class:`~unetlab.data.io.ChannelsMaskError`, whose type takes other arguments, a
RuntimeError: with ``train.num_workers`` above 0 the CLI showed a traceback where it says one
line without (s54 noticed, s55). Here a worker sends the error back as its item (or its
batch, where the caller's ``collate_fn`` raised it: review F1 s56), pickled whole, and the
loader raises it as it was raised, the worker's traceback a note on it (``--debug`` shows
it; the one line stays one line). An error that does not pickle and
unpickle as itself (an attribute pickle refuses: the worker's feeder thread dropped the item
and training waited forever; a subclass whose ``__init__`` takes other arguments: a
TypeError) is sent as a UnetlabError of its lines (revE). Without workers the loader is
torch's own: an item's error is raised where its reading raised it, nothing to send."""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Callable, Iterator
from functools import partial
from typing import NamedTuple

from torch.utils.data import DataLoader, Dataset, default_collate, get_worker_info

from unetlab.errors import DatasetError, UnetlabError


class _Refused(NamedTuple):
    """An item's (or a batch's) UnetlabError, sent from a worker as data."""

    error: UnetlabError


class _Refusing(Dataset):
    """``dataset`` whose item is :class:`_Refused` where reading it raises UnetlabError."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, item):
        try:
            return self.dataset[item]
        except UnetlabError as exc:
            return _refused(exc)


def _refused(exc: UnetlabError) -> _Refused:
    """``exc``, raised in a worker process of a :class:`UserErrorLoader`, to be sent back as
    data (:func:`_sendable`), the worker's traceback a note on it; call in its ``except``."""
    worker = get_worker_info()
    exc.add_note(f"in DataLoader worker process {worker.id}:\n{traceback.format_exc()}")
    return _Refused(_sendable(exc))


def _sendable(exc: UnetlabError) -> UnetlabError:
    """``exc`` where it pickles and unpickles as itself, else a UnetlabError (a DatasetError
    of ``listed`` problems) of its messages and notes, which does."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - pickle's errors and any __init__'s (a TypeError)
        pass
    if isinstance(exc, DatasetError):
        plain = DatasetError(str(exc), listed=exc.listed, cli=exc.cli)
    else:
        plain = UnetlabError(str(exc), cli=exc.cli)
    for note in getattr(exc, "__notes__", ()):
        plain.add_note(note)
    return plain


def _collated(items: list, collate: Callable = default_collate):
    """The batch of ``items`` (``collate``'s: torch's default, or the caller's
    ``collate_fn``), or the first :class:`_Refused` among them, or ``collate``'s own
    UnetlabError as one (a caller's collate_fn refusing a batch: review F1 s56)."""
    if (refused := next((i for i in items if isinstance(i, _Refused)), None)) is not None:
        return refused
    try:
        return collate(items)
    except UnetlabError as exc:
        return _refused(exc)


class UserErrorLoader(DataLoader):
    """A :class:`~torch.utils.data.DataLoader` of ``dataset`` (keywords: DataLoader's) that
    raises an item's UnetlabError as the item's reading raised it, in a worker process or
    not. A ``collate_fn`` makes the batches with workers as without (with workers it was
    replaced by torch's default, silently: review fixT s56)."""

    def __init__(self, dataset: Dataset, **keywords):
        if keywords.get("num_workers", 0) > 0:  # without workers torch raises it as it is
            collate = partial(_collated, collate=keywords.get("collate_fn") or default_collate)
            dataset, keywords = _Refusing(dataset), dict(keywords, collate_fn=collate)
        super().__init__(dataset, **keywords)

    def __iter__(self) -> Iterator:
        for batch in super().__iter__():
            if isinstance(batch, _Refused):
                raise batch.error
            yield batch
