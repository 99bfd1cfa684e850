"""The ways to predict a streamed image at the training pixel size, said from Python
(predict_folder) as from the command line (review s50: the line named --level,
--large-pixels N and --scale auto only), each caller in its own form (s56: both were named
inline, "(--level, level=)", to everyone; and a predict_slide caller was told
large_threshold=N, which it ignores: that is said; s56 fixI: a predict_folder caller was
sent to predict_file, though its own large_threshold= works)."""

import pytest

from unetlab.errors import UnetlabError, command_spelling
from unetlab.inference.rescale import refuse_streamed_scale
from unetlab.inference.sizing import image_size_note

#: the fixes of a streamed image, as Python and the command line give them
PYTHON = (
    "predict a pyramid level nearer the training pixel size (level=), or a crop, or read it "
    "whole with large_threshold=N above its pixels (predict_slide always reads window by "
    "window: call predict_file for a whole read)"
)
CLI = (
    "predict a pyramid level nearer the training pixel size (--level), or a crop, or read it "
    "whole with --large-pixels N above its pixels"
)


def test_streamed_size_note_names_each_caller_s_spelling():
    note = image_size_note(0.25, 1.0, streamed=True)
    end = " and scale='auto'; read window by window, it is not resampled"
    assert note.endswith(f"trained size; {PYTHON}{end}") and "--" not in note
    assert image_size_note(0.25, 1.0).endswith(
        "predict it with scale='auto' (resampled to 0.25 µm pixels for the net)"
    )
    with command_spelling():
        note = image_size_note(0.25, 1.0, streamed=True)
        assert note.endswith(
            f"trained size; {CLI} and --scale auto; read window by window, it is not resampled"
        )
        assert image_size_note(0.25, 1.0).endswith(
            "predict it with --scale auto (resampled to 0.25 µm pixels for the net)"
        )


def test_streamed_scale_refusal_names_each_caller_s_spelling():
    with pytest.raises(UnetlabError) as refused:
        refuse_streamed_scale("slide.tif", "auto")
    said = "slide.tif: {} resamples images read whole, not a large image read window by window: "
    assert str(refused.value) == said.format("scale=") + PYTHON
    assert refused.value.cli == said.format("--scale") + CLI
