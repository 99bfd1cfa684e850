"""A TIFF input is opened once while it is predicted (unetlab.data.tiff_files), not once per
reader: each open of a multi-position OME-TIFF parsed its OME-XML and loaded every page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from tests.test_output_tiff_meta import foreground_model
from tests.test_positions import _positions


@pytest.fixture
def opens(monkeypatch):
    """The names of the files tifffile opens, in order."""
    opened, real = [], tifffile.TiffFile

    class Counted(real):
        def __init__(self, path, *args, **kwargs):
            opened.append(Path(path).name)
            super().__init__(path, *args, **kwargs)

    monkeypatch.setattr(tifffile, "TiffFile", Counted)
    return opened


@pytest.mark.parametrize("large", [None, 100], ids=["whole", "streamed"])
def test_a_multi_position_file_is_opened_once_whatever_its_positions(tmp_path, opens, large):
    """2 and 5 positions of 3 frames were opened 22 and 52 times read whole, 20 and 47
    streamed (about ten readers a position, each open parsing the series of the whole
    file); now once each."""
    from unetlab.inference.files import predict_file

    model, counts = foreground_model(), []
    for count in (2, 5):
        path = tmp_path / f"p{count}" / "p.ome.tif"
        path.parent.mkdir()
        _positions(path, count)
        opens.clear()
        written = predict_file(model, path, path.parent / "out", large_threshold=large)
        assert len(written) == count
        counts.append(opens.count("p.ome.tif"))
    assert counts == [1, 1]


def test_the_kept_file_is_closed_at_the_end_and_opened_again_when_it_changes(tmp_path, opens):
    from unetlab.data.tiff_files import keeping_open, open_tiff, tiff_file

    path, other = tmp_path / "a.tif", tmp_path / "b.tif"
    tifffile.imwrite(path, np.zeros((2, 4, 4), np.uint8))
    tifffile.imwrite(other, np.zeros((4, 4), np.uint8))
    with keeping_open(path):
        with open_tiff(path) as first:
            pass
        assert not first.filehandle.closed  # kept for the next reader
        tif, close = tiff_file(tmp_path / "." / "a.tif")  # the same file, named otherwise
        close()
        assert tif is first and not first.filehandle.closed
        with open_tiff(other) as own:  # another file: its own open, closed after
            pass
        assert own.filehandle.closed
        tifffile.imwrite(path, np.zeros((5, 6, 6), np.uint8))  # changed meanwhile
        with open_tiff(path) as second:
            assert second.series[0].shape == (5, 6, 6)
        assert not first.filehandle.closed  # a reader may still hold the earlier one
    assert first.filehandle.closed and second.filehandle.closed
    assert opens == ["a.tif", "b.tif", "a.tif"]
    with open_tiff(path) as alone:  # outside: each reader's own open, as ever
        pass
    assert alone.filehandle.closed and opens[-1] == "a.tif"
