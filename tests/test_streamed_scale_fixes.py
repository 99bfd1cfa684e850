"""The ways to predict a streamed image at the training pixel size, said from Python
(predict_folder) as from the command line: both spellings of each (review s50: the line
named --level, --large-pixels N and --scale auto only)."""

import pytest

from unetlab.errors import UnetlabError
from unetlab.inference.rescale import refuse_streamed_scale
from unetlab.inference.sizing import image_size_note


def test_streamed_size_note_names_both_spellings():
    note = image_size_note(0.25, 1.0, streamed=True)
    for cli, python in [("--level", "level="), ("--large-pixels N", "large_threshold=N")]:
        assert cli in note and python in note
    assert note.endswith("--scale auto (scale='auto'); read window by window, it is not resampled")
    assert "scale='auto': resampled to 0.25 µm" in image_size_note(0.25, 1.0)


def test_streamed_scale_refusal_names_both_spellings():
    with pytest.raises(UnetlabError) as refused:
        refuse_streamed_scale("slide.tif", "auto")
    assert "(--level, level=)" in str(refused.value)
    assert "(large_threshold=N)" in str(refused.value)
