"""The memory a loaded data set takes: training reads every image and mask once and keeps
them (:func:`unetlab.data.datasets.load_samples`: no image is read again, or streamed, while
it trains), so a data set of many large images may need more than the training step.

Per pixel (:func:`pixel_bytes`), what each :class:`~unetlab.data.datasets.Sample` holds:
the image in float32 (4 bytes a channel, after normalisation), the mask as int64 class
indices (8), the weight map in float32 (4, ``data.weight_map``); and the images as read
(their dtype's bytes a channel), freed once normalised but kept by the heap: the peak
resident memory of ``prepare_data`` grew by 13.0 bytes a pixel for grey 8-bit images, 23.0
for RGB, 17.0 and 29.0 with the weight map (1500 x 1500 PNGs, 4 against 12-16 of them;
this formula: 13, 23, 17, 27). Instance masks hold their object ids (int32) beside the
target while they load (4): 17.0 measured for grey ones (data.target=instances), 17 here."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

IMAGE_BYTES = 4  # a float32 channel of the normalised image
MASK_BYTES = 8  # the int64 class index of the mask
WEIGHT_BYTES = 4  # the float32 border weight
IDS_BYTES = 4  # an instance mask's int32 object id, held while the data set loads


def pixel_bytes(
    channels: int, dtype: str, *, weight_map: bool = False, instances: bool = False
) -> int:
    """Bytes a loaded data set takes for each pixel of an image of ``channels`` read as
    ``dtype`` (its name: ``uint8``, ``float32``), with the weight map and instance masks."""
    read = np.dtype(dtype).itemsize if dtype else 1
    held = channels * (IMAGE_BYTES + read) + MASK_BYTES
    return held + WEIGHT_BYTES * weight_map + IDS_BYTES * instances


def data_bytes(
    images: Iterable[tuple[int, int, int, str]],
    total: int,
    *,
    weight_map: bool = False,
    instances: bool = False,
) -> float:
    """Bytes ``total`` loaded images take, where ``images`` (height, width, channels, dtype)
    are some of them (the plan's fingerprint measures at most 400, evenly spread): their
    mean, ``total`` times."""
    sizes = [
        h * w * pixel_bytes(c, d, weight_map=weight_map, instances=instances)
        for h, w, c, d in images
    ]
    return float(np.mean(sizes)) * total if sizes else 0.0
