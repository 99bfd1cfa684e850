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


def test_the_kept_file_is_closed_at_the_end_and_read_as_opened_within(tmp_path, opens, monkeypatch):
    """Within, each reader gets the open of the version the first one opened, with no stat
    of the file at each ask (s60: 3 a file predicted); the next keeping reads it anew."""
    import os

    from unetlab.data.tiff_files import keeping_open, open_tiff, tiff_file

    path, other = tmp_path / "a.tif", tmp_path / "b.tif"
    tifffile.imwrite(path, np.zeros((2, 4, 4), np.uint8))
    tifffile.imwrite(other, np.zeros((4, 4), np.uint8))
    stats, real = [], os.stat
    stat = lambda p, *a, **k: stats.append(Path(p).name) or real(p, *a, **k)  # noqa: E731
    with keeping_open(path):
        monkeypatch.setattr(os, "stat", stat)
        with open_tiff(path) as first:
            pass
        assert not first.filehandle.closed  # kept for the next reader
        tif, close = tiff_file(tmp_path / "." / "a.tif")  # the same file, named otherwise
        close()
        assert tif is first and not first.filehandle.closed
        with open_tiff(other) as own:  # another file: its own open, closed after
            pass
        assert own.filehandle.closed
        assert stats.count("a.tif") == 0  # 2 before
        monkeypatch.setattr(os, "stat", real)
        tifffile.imwrite(tmp_path / "new.tif", np.zeros((5, 6, 6), np.uint8))
        os.replace(tmp_path / "new.tif", path)  # replaced meanwhile: the version opened
        with open_tiff(path) as still:
            assert still is first and still.series[0].shape == (2, 4, 4)
    assert first.filehandle.closed
    assert opens == ["a.tif", "b.tif"]
    with keeping_open(path), open_tiff(path) as second:  # the next keeping: as it is now
        assert second.series[0].shape == (5, 6, 6)
    assert second.filehandle.closed and opens[-1] == "a.tif"
    with open_tiff(path) as alone:  # outside: each reader's own open, as ever
        pass
    assert alone.filehandle.closed and opens[-1] == "a.tif"
