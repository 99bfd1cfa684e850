"""write_dataset stopped part way (a notebook cell's Ctrl-C) says in one line how far it got
and that the same call goes on, as predict_folder and fit say theirs (user trial s64: a bare
KeyboardInterrupt, with half a data set on disk); the same call then writes the rest."""

from __future__ import annotations

import numpy as np
import pytest

from unetlab.data import write


def test_a_stopped_write_says_how_far_it_got_and_the_call_that_goes_on(
    tmp_path, monkeypatch, caplog
):
    images = [np.full((8, 8), i, np.uint8) for i in range(3)]
    masks = [np.eye(8, dtype=np.uint8) * (i + 1) for i in range(3)]
    real, calls = write._tiff_bytes, []

    def stopped(*args):
        calls.append(1)
        if len(calls) == 5:  # the third image: two pairs written
            raise KeyboardInterrupt
        return real(*args)

    with monkeypatch.context() as m:
        m.setattr(write, "_tiff_bytes", stopped)
        with pytest.raises(KeyboardInterrupt):
            write.write_dataset(images, masks, tmp_path / "data")
    said = [r.getMessage() for r in caplog.records if "interrupted" in r.getMessage()]
    assert said == [
        f"write_dataset interrupted with 2 of 3 pairs in {tmp_path / 'data'}; continue with "
        "the same call: it writes what is missing"
    ]
    write.write_dataset(images, masks, tmp_path / "data")
    assert len(list((tmp_path / "data" / "masks").iterdir())) == 3
