"""How often finding a data set's layout lists its root (data.pairs.detect_layout): a DSB
folder's 6 times, a folder of none 10 (s60: each layout's test listed it anew); once a
layout now while the folder is unchanged, the same layouts found."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tifffile

from unetlab.data.io import write_png
from unetlab.data.pairs import detect_layout
from unetlab.errors import DatasetError

_GREY = np.zeros((8, 8), np.uint8)


def _make(root, layout: str):
    """A data set of ``layout`` (None: a folder of none) at ``root``."""
    root.mkdir()
    files = {
        "folders": ["images/a.png", "masks/a.png"],
        "voc": ["JPEGImages/a.png", "SegmentationClass/a.png"],
        "cellpose": ["a.png", "a_masks.png"],
        "dsb": ["x1/images/x1.png", "x1/masks/m1.png", "x2/images/x2.png", "x2/masks/m1.png"],
        None: ["sub/a.png"],
    }
    if layout == "isbi":
        tifffile.imwrite(root / "train-volume.tif", _GREY)
        tifffile.imwrite(root / "train-labels.tif", _GREY)
    for name in files.get(layout, []):
        write_png(root / name, _GREY)
    (root / "notes.txt").write_text("")
    return root


def _listings(monkeypatch, root) -> list[str]:
    """The listings (os.listdir, os.scandir) of ``root`` from now on."""
    listed, real_list, real_scan = [], os.listdir, os.scandir
    seen = lambda p: listed.append(os.fspath(p)) if os.fspath(p) == str(root) else None  # noqa: E731
    monkeypatch.setattr(os, "listdir", lambda p=".": seen(p) or real_list(p))
    monkeypatch.setattr(os, "scandir", lambda p=".": seen(p) or real_scan(p))
    return listed


@pytest.mark.parametrize(
    ("layout", "before"),
    [("folders", 1), ("voc", 1), ("isbi", 2), ("cellpose", 3), ("dsb", 6), (None, 10)],
)
def test_detect_layout_lists_the_root_once(tmp_path, monkeypatch, layout, before):
    root = _make(tmp_path / "set", layout)
    listed = _listings(monkeypatch, root)
    if layout is None:
        with pytest.raises(DatasetError, match="no data set found"):
            detect_layout(root)
    else:
        assert detect_layout(root) == layout
    assert len(listed) == 1, before


def test_a_listing_is_kept_while_the_folder_is_unchanged(tmp_path, monkeypatch):
    from unetlab.data.names import listed_once, listing

    (tmp_path / "a").write_text("")
    listed = _listings(monkeypatch, tmp_path)
    assert [p.name for p in listing(tmp_path)] == ["a"] == [p.name for p in listing(tmp_path)]
    assert len(listed) == 2  # outside: each listing lists
    with listed_once():
        assert [p.name for p in listing(tmp_path)] == ["a"]
        (tmp_path / "a").write_text("changed")  # a file changed: not the folder's entries
        assert [p.name for p in listing(tmp_path)] == ["a"] and len(listed) == 3  # kept
        (tmp_path / "b").write_text("")  # an entry added: the folder's time moves
        assert [p.name for p in listing(tmp_path)] == ["a", "b"] and len(listed) == 4
