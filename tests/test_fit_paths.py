"""``fit`` records the files a run used absolute (follow-up s30): ``model.encoder_weights``
as ``data.root``, read from the current folder; a resume keeps the run's own record."""

from pathlib import Path

import yaml

from unetlab.config import load_config
from unetlab.train.fitting import absolute_paths


def _cfg(weights):
    return load_config(
        None, ["data.root=data", "model.encoder=vgg16", f"model.encoder_weights={weights}"]
    )


def test_a_new_run_records_the_weights_file_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = absolute_paths(_cfg("w/vgg.pth"), tmp_path / "run", resume=False)
    assert cfg.data.root == str(tmp_path / "data")
    assert cfg.model.encoder_weights == str(tmp_path / "w" / "vgg.pth")
    assert absolute_paths(_cfg("''"), tmp_path / "run", resume=False).model.encoder_weights == ""


def test_a_resume_keeps_the_weights_file_as_the_run_records_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = Path("run")
    run.mkdir()
    record = lambda w: (run / "config.yaml").write_text(  # noqa: E731
        yaml.safe_dump({"model": {"encoder_weights": w}})
    )
    record(str(tmp_path / "w" / "vgg.pth"))  # recorded absolute: the same file given again
    cfg = absolute_paths(_cfg("w/vgg.pth"), run, resume=True)
    assert cfg.model.encoder_weights == str(tmp_path / "w" / "vgg.pth")
    record("w/vgg.pth")  # a run from before: recorded as given
    assert absolute_paths(_cfg("w/vgg.pth"), run, resume=True).model.encoder_weights == "w/vgg.pth"
