"""The synthetic data writers replace no file (audit s48 apiwalk: write_synthetic_dataset
into a folder of one's own images replaced train/images/00.png without a word), as
write_dataset replaces none."""

from __future__ import annotations

import pytest

from unetlab.data.synthetic import write_nuclei_dataset, write_synthetic_dataset
from unetlab.errors import OutputError

WRITERS = {
    "em": lambda root: write_synthetic_dataset(root, n_train=2, n_val=1, size=32),
    "nuclei": lambda root: write_nuclei_dataset(root, n_train=2, n_val=1, size=32),
}


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_an_existing_file_is_refused_and_nothing_is_written(tmp_path, kind):
    mine = tmp_path / "val" / "masks" / "00.png"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my mask")
    with pytest.raises(OutputError, match=r"val/masks/00.png exists.*replaces no file"):
        WRITERS[kind](tmp_path)
    assert mine.read_bytes() == b"my mask"
    assert not (tmp_path / "train").exists()  # refused before the first file


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_new_folder_is_written(tmp_path, kind):
    root = WRITERS[kind](tmp_path / "data")
    assert sorted(p.name for p in (root / "train" / "images").iterdir()) == ["00.png", "01.png"]


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_the_same_call_again_writes_only_what_is_missing(tmp_path, kind):
    """The same arguments twice (a notebook cell run again, or after Ctrl-C between files)
    were refused ('train/images/00.png exists (6 of the files)'), though the same arguments
    write the same files (s50 runfolder 2: write_dataset already took them): the files there
    are left as they are, the missing ones written; other bytes under a name are refused."""
    root = WRITERS[kind](tmp_path)
    kept, lost = root / "train" / "images" / "00.png", root / "val" / "masks" / "00.png"
    stamp, written = kept.stat().st_mtime_ns, lost.read_bytes()
    lost.unlink()  # stopped before its last file
    assert WRITERS[kind](tmp_path) == root
    assert kept.stat().st_mtime_ns == stamp and lost.read_bytes() == written
    (root / "train" / "masks" / "01.png").write_bytes(kept.read_bytes())  # other content
    with pytest.raises(OutputError, match=r"train/masks/01.png exists \(1 of the files\)"):
        WRITERS[kind](tmp_path)
    lost.unlink()
    with pytest.raises(OutputError):
        WRITERS[kind](tmp_path)
    assert not lost.exists()  # refused before a file is written


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_a_refused_call_draws_no_more_than_the_files_there(tmp_path, kind, monkeypatch):
    """Review s50: the writers drew and encoded every pair in memory first, so a call to be
    refused made the whole set before its refusal, and memory grew with n."""
    from unetlab.data import synthetic

    drawn = []
    for name in ("synthetic_em", "synthetic_nuclei"):
        made = getattr(synthetic, name)
        monkeypatch.setattr(
            synthetic, name, lambda *a, made=made, **k: drawn.append(1) or made(*a, **k)
        )
    mine = tmp_path / "train" / "images" / "00.png"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"my image")
    with pytest.raises(OutputError, match=r"train/images/00.png exists \(1 of the files\)"):
        WRITERS[kind](tmp_path)
    assert len(drawn) == 1  # the first pair, to compare: not the 3 of the set


def test_a_split_leaves_the_stream_after_its_pairs(tmp_path):
    """write_synthetic_split draws from the caller's rng: after it, the rng is where drawing
    its n pairs leaves it, written whole or again over the same files (pinned both ways)."""
    import numpy as np

    from unetlab.data.synthetic import synthetic_em, write_synthetic_split

    expected = np.random.default_rng(7)
    for _ in range(2):
        synthetic_em(32, expected)
    for gone in (None, None, "images/00.png"):  # whole, all there, the first one missing
        if gone:
            (tmp_path / "train" / gone).unlink()
        rng = np.random.default_rng(7)
        write_synthetic_split(tmp_path / "train", 2, 32, rng)
        assert rng.bit_generator.state == expected.bit_generator.state
