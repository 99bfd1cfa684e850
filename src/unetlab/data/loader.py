"""A DataLoader from whose worker processes bad input still comes back as one line.

torch re-raises a worker's exception in the main process as its type built again from the
worker's traceback text (``exc_type(text)``): a :class:`~unetlab.errors.UnetlabError` became
"Caught UnetlabError in DataLoader worker process 0." with the traceback below it, and a
:class:`~unetlab.data.io.ChannelsMaskError`, whose type takes other arguments, a
RuntimeError: with ``train.num_workers`` above 0 the CLI showed a traceback where it says one
line without (s54 noticed, s55). Here a worker sends the error back as its item, pickled
whole, and the loader raises it as it was raised."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from torch.utils.data import DataLoader, Dataset, default_collate

from unetlab.errors import UnetlabError


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
            return _Refused(exc)


def _collated(items: list):
    """The batch of ``items`` (torch's default), or the first :class:`_Refused` among them."""
    return next((i for i in items if isinstance(i, _Refused)), None) or default_collate(items)


class UserErrorLoader(DataLoader):
    """A :class:`~torch.utils.data.DataLoader` of ``dataset`` (keywords: DataLoader's, but
    ``collate_fn``) that raises an item's UnetlabError as the item's reading raised it, in
    a worker process or not."""

    def __init__(self, dataset: Dataset, **keywords):
        super().__init__(_Refusing(dataset), collate_fn=_collated, **keywords)

    def __iter__(self) -> Iterator:
        for batch in super().__iter__():
            if isinstance(batch, _Refused):
                raise batch.error
            yield batch
