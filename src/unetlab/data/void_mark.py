"""Mask value 255 beside class indices 0..K-1, the void mark of Cityscapes, VOC and mmseg: the
pure rule both the plan's void line (:mod:`unetlab.data.void`) and the class-vs-ids decision
(:func:`unetlab.data.fingerprint.instance_masks`) read masks by, so that 16-bit 0/1 masks with
255 regions read as classes with void, as 8-bit ones do (s58: they read as object ids)."""

from __future__ import annotations

from collections.abc import Mapping

VOID = 255
#: class indices lie below this, far apart from the void value
MAX_CLASS = 128


def void_beside(counts: Mapping[int, int]) -> tuple[int, ...] | None:
    """The class indices of masks whose pixel ``counts`` per value are dense class indices
    0..K-1 (K >= 2; more than half of them present, all below ``MAX_CLASS``) and ``VOID``;
    None otherwise (no 255, binary 0/255 masks, ids far apart or past ``MAX_CLASS``)."""
    others = sorted(set(counts) - {VOID})
    if VOID not in counts or len(others) < 2 or others[0] < 0 or others[-1] >= MAX_CLASS:
        return None
    if 2 * len(others) <= others[-1] + 1:
        return None
    return tuple(others)
