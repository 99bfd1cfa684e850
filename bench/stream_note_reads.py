"""Header reads of a one-page TIFF that the memory rule streams (objects tip it over, as
tests/test_stream_rule.py sets it): the slide openings (``open_slide``'s TIFF reader) and
TIFF openings (:func:`unetlab.data.tiff_files.tiff_file`, kept open or not) of
``predict_file``, and of them those of :func:`unetlab.inference.stream_rule.memory_note`
(tidy6 s56: 2 slide and 3 TIFF openings, was 3 and 5). Writes under a temporary folder;
prints one line.

    PYTHONPATH=src python3 bench/stream_note_reads.py
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import tifffile

import unetlab.inference.files as files
from unetlab import UNet
from unetlab.data import slides, tiff_files
from unetlab.inference import sizing, stream_rule

COUNT = {"slide": 0, "tiff": 0}


def _counting(key: str, real):
    def counted(*args, **kwargs):
        COUNT[key] += 1
        return real(*args, **kwargs)

    return counted


def main() -> None:
    slides._open_tiff = _counting("slide", slides._open_tiff)
    tiff_files.tiff_file = slides.tiff_file = _counting("tiff", tiff_files.tiff_file)
    in_note: list[dict] = []
    real_note = stream_rule.memory_note

    def note(*args, **kwargs):
        before = dict(COUNT)
        said = real_note(*args, **kwargs)
        in_note.append({k: COUNT[k] - before[k] for k in COUNT})
        return said

    files.memory_note = note
    with tempfile.TemporaryDirectory() as folder:
        image = np.random.default_rng(0).integers(0, 255, (48, 40), np.uint8)
        tifffile.imwrite(Path(folder) / "g.tif", image)
        model = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
        sizing.WHOLE_BUDGET = sizing.whole_read_bytes(48 * 40, 1, 1, 2) + 1
        files.predict_file(model, Path(folder) / "g.tif", Path(folder) / "o", objects=True)
    print(f"predict_file: {COUNT}; of them memory_note's: {in_note}")


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False).parse_args()
    main()
