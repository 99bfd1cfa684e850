"""--cut-min-area: the size from which a piece of an object the image's edge, nodata or
--exclude-rows cuts is kept (ObjectOptions.cut_min_area, 64 by default) had no flag."""

import json

from tests.test_predict_objects import local_net, nuclei_image, spied_object_options
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png


def test_cli_cut_min_area_reaches_the_object_options_and_the_record(tmp_path, monkeypatch):
    argv, seen = spied_object_options(tmp_path, monkeypatch)
    assert main([*argv, "--cut-min-area", "7"]) == 0
    assert seen[-1].cut_min_area == 7
    (record,) = json.loads((tmp_path / "out" / "predict.json").read_text())["records"].values()
    assert record["outputs"]["objects"]["cut_min_area"] == 7
    assert main([*argv, "--overwrite"]) == 0
    assert seen[-1].cut_min_area == 64


def test_cli_cut_min_area_is_refused_below_0_and_without_instances(tmp_path, capsys):
    args = ["predict", "--checkpoint", str(tmp_path / "missing.pt"), "--input", str(tmp_path)]
    args += ["--output", str(tmp_path / "out")]
    assert main([*args, "--instances", "--cut-min-area", "-1"]) == 2
    assert "--cut-min-area must be at least 0 px, not -1" in capsys.readouterr().err
    write_png(tmp_path / "in" / "a.png", nuclei_image(40, 50))
    save_model(tmp_path / "three.pt", local_net())
    argv = ["predict", "--input", str(tmp_path / "in"), "--checkpoint", str(tmp_path / "three.pt")]
    assert main([*argv, "--output", str(tmp_path / "o"), "--cut-min-area", "7"]) == 2
    assert "--cut-min-area" in capsys.readouterr().err
