"""A slide whose input failed after its outputs were staged (a user's table under a stopped
run's claim) leaves its output names claimed, not confirmed: the run's end marked the
labels and object ids as written though only their staging folders were there, and a
user's file put under such a name then counted as unetlab's and was replaced (s41 claims2
edge case 2)."""

from tests.test_slide_claimed_only import _model, _slides, _stopped
from tests.test_slide_resume import pinned_version  # noqa: F401 (autouse)
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions


def test_a_users_file_under_a_staged_name_after_a_failed_slide_is_kept(tmp_path, monkeypatch):
    model, paths, out = _model(), _slides(tmp_path, "s.tif"), tmp_path / "out"
    how = dict(large_threshold=100, objects=ObjectOptions.for_model)
    _stopped(monkeypatch, model, paths, out, "s.tif", **how)
    (out / "s_objects.csv").write_text("the user's")
    assert predict_folder(model, paths, out, **how).failed  # the table refused
    (out / "s_objects.csv").rename(tmp_path / "theirs.csv")
    (out / "s.tif").write_text("the user's labels")
    done = predict_folder(model, paths, out, **how)
    assert (out / "s.tif").read_text() == "the user's labels"
    (why,) = done.failed.values()
    assert "s.tif was not written by unetlab" in why, why
