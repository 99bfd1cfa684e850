"""A Report's files from Python follow evaluate --json's rule (audit s48 apiwalk): never an
input, a file unetlab did not write only with overwrite=True, its own earlier file again."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.data.io import write_png
from unetlab.errors import OutputError
from unetlab.evaluate import evaluate_predictions

GT = np.full((6, 8), 255, np.uint8)
GT[:, 3] = 0


@pytest.fixture
def scored(tmp_path):
    """A report of one perfect prediction, and its ground-truth folder."""
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    write_png(gt / "a.png", GT)
    write_png(pred / "a.png", (GT == 255).astype(np.uint8))
    return evaluate_predictions(pred, gt, label_values=[0, 255]), gt


WRITERS = ["write_json", "write_csv", "write_matching_csv", "plot_confusion"]


@pytest.mark.parametrize("method", WRITERS)
def test_a_file_unetlab_did_not_write_is_kept_unless_overwrite(scored, tmp_path, method):
    report, _ = scored
    suffix = ".png" if method == "plot_confusion" else ".json" if "json" in method else ".csv"
    path = tmp_path / f"mine{suffix}"
    path.write_bytes(b"mine")
    with pytest.raises(OutputError, match=r"not written by unetlab.*overwrite=True"):
        getattr(report, method)(path)
    assert path.read_bytes() == b"mine"
    assert getattr(report, method)(path, overwrite=True) == path
    assert path.read_bytes() != b"mine"
    assert getattr(report, method)(path) == path  # its own file: replaced again


@pytest.mark.parametrize("method", WRITERS)
def test_an_input_mask_is_never_replaced(scored, method):
    report, gt = scored
    before = (gt / "a.png").read_bytes()
    with pytest.raises(OutputError):
        getattr(report, method)(gt / "a.png", overwrite=True)
    assert (gt / "a.png").read_bytes() == before


def test_a_json_report_never_replaces_an_image_by_a_typo(scored, tmp_path):
    report, _ = scored
    image = tmp_path / "photo.png"
    write_png(image, GT)
    before = image.read_bytes()
    with pytest.raises(OutputError, match="JSON"):
        report.write_json(image, overwrite=True)
    assert image.read_bytes() == before


def test_a_new_picture_among_the_masks_scored_is_refused(scored):
    """It would be read as a mask next time (evaluate --confusion gt/c.png is refused)."""
    report, gt = scored
    with pytest.raises(OutputError, match="reads as data"):
        report.plot_confusion(gt / "confusion.png")
    assert not (gt / "confusion.png").exists()
