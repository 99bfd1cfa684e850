"""save_config follows the output rule of every unetlab file (audit s48 apiwalk: from Python
it replaced a training run's config.yaml, which the run's resume reads, and wrote YAML over
an image)."""

from __future__ import annotations

import pytest

from unetlab.config import Config, load_config, save_config
from unetlab.errors import OutputError
from unetlab.manifest import record


def test_a_runs_config_is_never_replaced(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("# the run's own\n")
    record(run, ["config.yaml"], command="train")
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="file of the training run"):
            save_config(Config(), run / "config.yaml", overwrite=overwrite)
    assert (run / "config.yaml").read_text() == "# the run's own\n"


def test_a_foreign_file_needs_overwrite_and_an_image_is_never_replaced(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("model: {}\n")
    with pytest.raises(OutputError, match="not written by unetlab.*overwrite=True"):
        save_config(Config(), mine)
    assert mine.read_text() == "model: {}\n"
    save_config(Config(), mine, overwrite=True)
    assert load_config(mine).train.epochs == Config().train.epochs
    save_config(Config(), mine)  # its own file now: replaced again
    image = tmp_path / "00.png"
    image.write_bytes(b"\x89PNG")
    with pytest.raises(OutputError, match="YAML"):
        save_config(Config(), image, overwrite=True)
    assert image.read_bytes() == b"\x89PNG"
