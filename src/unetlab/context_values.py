"""A context variable set for the span of a ``with`` block (a command's way of reading,
kept per thread and per asyncio task)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def set_within(var: ContextVar[T], value: T) -> Iterator[None]:
    """``var`` set to ``value`` within, and back to what it was after."""
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)
