"""The value an integer channel saturates at: its dtype's maximum where a pixel reaches it,
else a camera's of :data:`CAMERA_BITS` in a wider file (a 12-bit camera's 4095 in uint16,
or 65520 where its bits fill the top of the container) where the pixels pile up there.

One rule (:meth:`CeilingTally.ceiling`) for an image read whole, a slide streamed piece
by piece and a histogram (:meth:`CeilingTally.add`, :meth:`CeilingTally.add_counts`: the
same figures, summed): predict's ``saturated_fraction``, its focus measure and the
percentiles of ``ignore_saturated`` agree on which pixels are clipped (audit s33 plates: a
12-bit camera saved as 16-bit clips at 4095, not 65535).
"""

from __future__ import annotations

import numpy as np

__all__ = ["BELOW", "CAMERA_BITS", "PILE_PIXELS", "PILE_RATIO", "CeilingTally", "plane_ceiling"]

#: the camera depths looked for in a wider container (a 12-bit camera's 4095 in uint16,
#: 8-bit values converted to 16-bit: 255)
CAMERA_BITS = (8, 10, 12, 14, 16)
#: a camera's ceiling counts where this many pixels or more are at it ...
PILE_PIXELS = 8
#: ... and this many times more than at each of the 16 values below it, on average (a
#: clipped camera piles up at its ceiling; an image whose maximum merely happens to be
#: 4095 has one or two pixels there, as at the values below)
PILE_RATIO = 4
#: the values below a ceiling its pile is weighed against (in the camera's steps)
BELOW = 16


class CeilingTally:
    """What the ceiling of one channel of ``dtype`` (integer) is decided from, summed over
    the pieces of the channel added (:meth:`add`) or its histogram (:meth:`add_counts`):
    its maximum, the OR of its values (a camera shifted to the top bits leaves the low ones
    0) and, for each camera ceiling a piece could reach, the pixels at it and in the
    :data:`BELOW` camera steps below it. Exact: the pieces of a plane give the plane's."""

    def __init__(self, dtype):
        info = np.iinfo(dtype)
        self.dtype, self.info = np.dtype(dtype), info
        bits = info.bits - (info.min < 0)
        # (ceiling, step): a camera's 2^k - 1, and unsigned, shifted to the top bits
        self.cameras = [((1 << k) - 1, 1) for k in CAMERA_BITS if k < bits]
        if info.min == 0:
            shifted = [k for k in CAMERA_BITS if k < bits]
            self.cameras += [(((1 << k) - 1) << (bits - k), 1 << (bits - k)) for k in shifted]
        # the low bits every shifted camera leaves 0: once a value has one, none is
        self.low = min((s for _, s in self.cameras if s > 1), default=1) - 1
        self.top: int | None = None
        self.ored = 0
        self.counts = {c: [0, 0] for c, _ in self.cameras}  # at it, in the steps below

    def possible(self, value: int) -> bool:
        """Whether ``value`` could be this channel's ceiling (the dtype's maximum or a
        camera's)."""
        return value == self.info.max or value in self.counts

    def add(self, plane: np.ndarray) -> int | None:
        """Count the pixels of ``plane`` (any shape, of this dtype: a piece of the channel);
        returns its maximum (None for no pixels)."""
        if plane.size == 0:
            return None
        m = int(plane.max())
        self.top = m if self.top is None else max(self.top, m)
        if self.low and not self.ored & self.low:
            self.ored |= int(np.bitwise_or.reduce(plane, axis=None))
        for c, step in self.cameras:
            if c >= m >= c - BELOW * step:  # a later piece may make it the maximum
                at = int(np.count_nonzero(plane == c))
                near = int(np.count_nonzero(plane >= c - BELOW * step))
                self.counts[c][0] += at
                self.counts[c][1] += near - at
        return m

    def add_counts(self, values: np.ndarray, counts: np.ndarray) -> None:
        """Count a histogram's pixels: ``counts`` (int) at integer ``values`` (ascending)."""
        kept = np.asarray(counts) > 0
        values, counts = np.asarray(values)[kept].astype(np.int64), np.asarray(counts)[kept]
        if not values.size:
            return
        m = int(values[-1])
        self.top = m if self.top is None else max(self.top, m)
        if self.low:  # unsigned
            self.ored |= int(np.bitwise_or.reduce(values))
        for c, step in self.cameras:
            self.counts[c][0] += int(counts[values == c].sum())
            self.counts[c][1] += int(counts[(values >= c - BELOW * step) & (values < c)].sum())

    def ceiling(self) -> int | None:
        """The value the channel saturates at: its dtype's maximum where a pixel reaches
        it, else a camera's where it is the channel's maximum and the pixels pile up at it
        (:data:`PILE_PIXELS`, :data:`PILE_RATIO`; a shifted camera's only where every
        value is a multiple of its step); None where it reaches none."""
        if self.top is None:
            return None
        if self.top == self.info.max:
            return self.top
        for c, step in self.cameras:
            if c != self.top or (step > 1 and self.ored % step):
                continue
            at, below = self.counts[c]
            if at >= PILE_PIXELS and at >= PILE_RATIO * below / BELOW:
                return c
        return None


def plane_ceiling(plane: np.ndarray) -> int | None:
    """:meth:`CeilingTally.ceiling` of one integer channel read whole."""
    tally = CeilingTally(plane.dtype)
    tally.add(plane)
    return tally.ceiling()
