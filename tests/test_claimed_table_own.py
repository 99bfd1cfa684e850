"""A run killed after its objects table was put in place but before its labels, its
publishing folder gone (a user clearing hidden leftovers; an earlier unetlab that put outputs
in place one by one): the rerun refused the run's own table as a file unetlab did not write
("move it elsewhere"), since only the labels were asked for the claim's key. The input's
other outputs in place that carry one of the claim's keys (the object ids, renamed before
the table) prove it the run's too: the rerun predicts the input again (s42 edges 3)."""

import shutil

import numpy as np
import pytest

from tests.test_slide_claimed_only import _model, _slides
from tests.test_slide_resume import pinned_version  # noqa: F401 (autouse)
from unetlab.data.io import write_png
from unetlab.inference import slide_outputs
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions
from unetlab.manifest import publishing_name


def _killed_after_the_table(monkeypatch, model, paths, out, labels: str, **how) -> None:
    """A run stopped at the rename after the table's (as by kill -9: its lines PENDING),
    its publishing folder then removed."""
    put, renamed = slide_outputs.put_in_place, []

    def stop(source, path):
        if renamed and renamed[-1].endswith("_objects.csv"):
            raise KeyboardInterrupt
        renamed.append(path.name)
        return put(source, path)

    with monkeypatch.context() as m:
        m.setattr(slide_outputs, "put_in_place", stop)
        with pytest.raises(KeyboardInterrupt):
            predict_folder(model, paths, out, **how)
    stem = labels.split(".")[0]
    assert (out / f"{stem}_objects.csv").is_file() and not (out / labels).exists()
    shutil.rmtree(out / publishing_name(labels))


def test_an_image_read_whole_killed_after_its_table_resumes(tmp_path, monkeypatch):
    model, out = _model(), tmp_path / "out"
    paths = [tmp_path / f"{i}.png" for i in range(2)]
    for i, path in enumerate(paths):
        write_png(path, np.random.default_rng(i).integers(0, 255, (24, 24)).astype(np.uint8))
    _killed_after_the_table(monkeypatch, model, paths, out, "0.png", objects=True)
    done = predict_folder(model, paths, out, objects=True)
    assert not done.failed and list(done.written) == paths
    predict_folder(model, paths, tmp_path / "straight", objects=True)
    assert (out / "0_objects.csv").read_bytes() == (
        tmp_path / "straight" / "0_objects.csv"
    ).read_bytes()


def test_a_slide_killed_after_its_table_resumes(tmp_path, monkeypatch):
    model, paths, out = _model(), _slides(tmp_path, "s.tif"), tmp_path / "out"
    how = dict(large_threshold=100, objects=ObjectOptions.for_model)
    _killed_after_the_table(monkeypatch, model, paths, out, "s.tif", **how)
    done = predict_folder(model, paths, out, **how)
    assert not done.failed and list(done.written) == paths
    assert (out / "s.tif").is_file()
