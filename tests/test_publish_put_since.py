"""A file a user puts under an output's name after a run was stopped among its outputs'
renames (some in place, the labels not) is not replaced by the rerun that finishes them
(s41 claims2: finish renamed over it without a check); moved away, the rerun finishes."""

import pytest

from tests.test_predict_objects import local_net
from tests.test_slide_resume import Stop, _outputs, _slide, pinned_version  # noqa: F401
from tests.test_slide_resume_publish import _run, _stop_after_one_rename, small_chunks  # noqa: F401
from unetlab.errors import TheirFileError


@pytest.mark.usefixtures("small_chunks")
def test_a_file_put_under_a_name_not_yet_renamed_is_kept(tmp_path, monkeypatch):
    slide, net = _slide(tmp_path / "s.tif"), local_net()
    how = dict(save_probabilities=True, draw_overlay=True)
    _run(net, slide, tmp_path / "whole", Stop(), **how)
    with monkeypatch.context() as m:
        _stop_after_one_rename(m)
        with pytest.raises(KeyboardInterrupt):
            _run(net, slide, tmp_path / "out", Stop(), **how)
    out = tmp_path / "out"
    assert (out / "s_overlay.png").exists() and not (out / "s.tif").exists()
    (out / "s.tif").write_text("the user's")
    with pytest.raises(TheirFileError, match="s.tif was put there while a stopped run was"):
        _run(net, slide, out, Stop(), **how)
    assert (out / "s.tif").read_text() == "the user's"
    (out / "s.tif").rename(tmp_path / "theirs.tif")
    again = Stop()
    _run(net, slide, out, again, **how)
    assert again.tiles == 0 and _outputs(out) == _outputs(tmp_path / "whole")
