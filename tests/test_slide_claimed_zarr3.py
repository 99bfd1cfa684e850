"""A user's Zarr v3 folder (zarr.json, no .zattrs) put under an OME-Zarr output's name after
a slide run was stopped is not taken for that run's unfinished output and replaced: unetlab
writes Zarr v2 only (s41 claims2 edge case 3)."""

import json

from tests.test_slide_claimed_only import _model, _slides, _stopped
from tests.test_slide_resume import pinned_version  # noqa: F401 (autouse)
from unetlab.inference.folders import predict_folder


def test_a_users_zarr_v3_folder_under_a_stopped_runs_claim_is_kept(tmp_path, monkeypatch):
    model, paths, out = _model(), _slides(tmp_path, "s.tif"), tmp_path / "out"
    how = dict(large_threshold=100, output_format="ome-zarr")
    _stopped(monkeypatch, model, paths, out, "s.tif", **how)
    assert not (out / "s.ome.zarr").exists()
    (out / "s.ome.zarr").mkdir()
    (out / "s.ome.zarr" / "zarr.json").write_text(json.dumps({"zarr_format": 3}))
    done = predict_folder(model, paths, out, **how)
    assert json.loads((out / "s.ome.zarr" / "zarr.json").read_text()) == {"zarr_format": 3}
    (why,) = done.failed.values()
    assert "s.ome.zarr was not written by unetlab" in why, why


def test_a_users_zarr_v2_folder_without_attributes_is_kept(tmp_path, monkeypatch):
    """Zarr v2 with no ``.zattrs`` was taken for the stopped run's output not written to the
    end, and the rerun's publishing replaced it (s42 edges 2): unetlab's OME-Zarr outputs
    are sealed, attributes and all, before they are renamed into place."""
    model, paths, out = _model(), _slides(tmp_path, "s.tif"), tmp_path / "out"
    how = dict(large_threshold=100, output_format="ome-zarr")
    _stopped(monkeypatch, model, paths, out, "s.tif", **how)
    (out / "s.ome.zarr").mkdir()
    (out / "s.ome.zarr" / ".zgroup").write_text(json.dumps({"zarr_format": 2}))
    done = predict_folder(model, paths, out, **how)
    assert sorted(p.name for p in (out / "s.ome.zarr").iterdir()) == [".zgroup"]
    (why,) = done.failed.values()
    assert "s.ome.zarr was not written by unetlab" in why and "\n" not in why, why
    (out / "s.ome.zarr").rename(tmp_path / "theirs.zarr")
    done = predict_folder(model, paths, out, **how)
    assert not done.failed and (out / "s.ome.zarr" / ".zattrs").is_file()
