"""evaluate --pred of class maps holding the masks' ignore value (another tool's void 255),
review s66: copied where the masks ignore it, it printed a row '4..255 (252 values, no
rows) ... a label value too many?'; predicted on labelled pixels, it entered the mIoU as a
class 255 of IoU 0; where the masks ignore it too, it joined two regions into one object."""

import numpy as np
import pytest

from unetlab.data.io import write_png
from unetlab.evaluate import evaluate_predictions


def test_a_void_the_masks_ignore_too_joins_no_two_regions(tmp_path, capsys):
    """Two class-0 squares joined by a void bridge in the masks and in a perfect map of
    mask values: 1 object predicted of 2 true (object F1 0.6667), the bridge read as class
    0 before the regions were found."""
    mask = np.full((20, 20), 20, np.uint8)
    mask[4:10, 2:8], mask[4:10, 12:18], mask[6:8, 8:12] = 0, 0, 255
    write_png(tmp_path / "gt" / "a.png", mask)
    write_png(tmp_path / "pred" / "a.png", mask)
    report = evaluate_predictions(
        tmp_path / "pred",
        tmp_path / "gt",
        label_values=[0, 10, 20],
        ignore_value=255,
        boundary_class=2,
        objects=True,
        progress=False,
    )
    s = report.summary
    assert (s["pred_objects"], s["objects"], s["object_f1"]) == (2, 2, 1.0)
    assert s["rand_error"] == pytest.approx(0.0)
