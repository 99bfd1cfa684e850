"""``unetlab demo``: the quick variant end to end, its outputs, and the folder safety rules."""

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from unetlab.cli import main
from unetlab.demo import run_demo
from unetlab.errors import OutputError

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py


def test_quick_demo_writes_everything(tmp_path, capsys, caplog):
    caplog.set_level(logging.INFO)
    out = tmp_path / "demo"
    assert main(["demo", "--output", str(out), "--quick", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "mIoU" in printed and str(out) in printed
    # the held-out figures said once (s42 readme walk: a log line, then the same as printed)
    assert (printed + caplog.text).count("held-out") == 1, printed + caplog.text
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["miou"] <= 1.0
    assert set(metrics["iou"]) == {"membrane", "cell"} and "rand_error" in metrics
    for name in (
        "curves.png",
        "large.png",
        "large_overlay.png",
        "overlays/00_overlay.png",
        "evaluation.txt",
        "run/checkpoints/best.pt",
        "run/metrics.csv",
        "data/train/images/00.png",
        "data/test/masks/00.png",
    ):
        assert (out / name).is_file(), name
    # an earlier demo's results are replaced only with --overwrite, as a run is (audit s35
    # workshop 4: the next demo replaced them silently)
    best = (out / "run/checkpoints/best.pt").read_bytes()
    again = ["demo", "--output", str(out), "--quick", "--no-progress", "--seed", "1"]
    assert main(again) == 2
    err = capsys.readouterr().err
    assert f"{out} holds an earlier demo's results (data, run, overlays," in err
    assert "add --overwrite to replace them, or choose another --output" in err
    assert "overwrite=True" not in err and err.count("\n") == 1  # the flags alone (s54)
    assert (out / "run/checkpoints/best.pt").read_bytes() == best
    assert json.loads((out / "metrics.json").read_text())["seed"] == 0
    assert main([*again, "--overwrite"]) == 0
    assert json.loads((out / "metrics.json").read_text())["seed"] == 1


def test_quick_nuclei_demo_scores_objects_and_the_baseline(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default folders: the EM demo's stays as it was
    em = tmp_path / "unetlab-demo"
    em.mkdir()
    (em / ".unetlab-demo").write_text("made by unetlab demo\n")
    (em / "metrics.json").write_text('{"miou": 0.919}\n')
    out = tmp_path / "unetlab-demo-nuclei"
    assert main(["demo", "--task", "nuclei", "--quick", "--no-progress"]) == 0
    assert (em / "metrics.json").read_text() == '{"miou": 0.919}\n'
    printed = capsys.readouterr().out
    assert "results in unetlab-demo-nuclei/" in printed
    assert "instance mode:" in printed and "baseline (connected components" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "nuclei" and set(metrics["iou"]) == {"background", "object"}
    for part in ("objects", "baseline_connected_components"):
        figures = metrics[part]
        assert set(figures) >= {"dsb", "object_f1", "pq", "seg", "true_objects", "pred_objects"}
        assert figures["true_objects"] > 0
        assert figures["count_error"] == pytest.approx(
            (figures["pred_objects"] - figures["true_objects"]) / figures["true_objects"]
        )
    for name in (
        "predictions/00_objects.tif",
        "baseline/00_objects.tif",
        "overlays/00_overlay.png",
        "evaluation.txt",
        "run/checkpoints/best.pt",
        "data/test/masks/00.png",
    ):
        assert (out / name).is_file(), name
    assert "DSB score" in (out / "evaluation.txt").read_text()
    baseline = tifffile.imread(out / "baseline" / "00_objects.tif")  # plain regions: none touch
    assert baseline.max() > 0 and ndimage.label(baseline > 0)[1] == len(np.unique(baseline)) - 1

    with pytest.raises(ValueError, match="em and nuclei"):
        run_demo(out, task="cells", quick=True)


def test_the_baseline_is_connected_regions_without_the_distance_split():
    from unetlab.demo import baseline_options
    from unetlab.inference.objects import ObjectOptions, objects_from_probabilities

    yy, xx = np.mgrid[:60, :100]
    pair = ((yy - 30) ** 2 + (xx - 35) ** 2 <= 225) | ((yy - 30) ** 2 + (xx - 62) ** 2 <= 225)
    net = type("Net", (), {"objects": {"target": "instances", "count": 2, "area_p05": 600.0}})
    options = baseline_options(ObjectOptions.for_model(net()))
    assert objects_from_probabilities(np.stack([~pair, pair]).astype(float), options).max() == 1


def test_demo_refuses_a_foreign_folder(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["demo", "--output", str(tmp_path), "--quick"]) == 2
    assert "not made by unetlab demo" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"
    result = run_demo(tmp_path, quick=True, overwrite=True, progress=False)
    assert (
        tmp_path / "notes.txt"
    ).read_text() == "mine"  # --overwrite replaces only the demo's files
    assert result["paths"]["metrics.json"] == str(tmp_path / "metrics.json")


def test_demo_help():
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--help"])
    assert exit_info.value.code == 0


@pytest.mark.parametrize("task", ["em", "nuclei"])
def test_both_tasks_check_their_settings_and_folder_alike(tmp_path, capsys, task):
    assert main(["demo", "--task", task, "--output", str(tmp_path / "a"), "--seed", "-1"]) == 2
    assert "seed must be at least 0" in capsys.readouterr().err
    (tmp_path / "file").write_text("mine")
    assert main(["demo", "--task", task, "--output", str(tmp_path / "file"), "--quick"]) == 2
    assert "is a file" in capsys.readouterr().err
    assert (tmp_path / "file").read_text() == "mine"


def test_run_demo_again_names_the_python_keywords(tmp_path):
    """A notebook cell run twice: the refusal names run_demo's keywords (s50 notebook walk:
    'add --overwrite ..., or choose another --output' alone), not the command's flags beside
    them (s54: "--overwrite (overwrite=True)"), which its ``cli`` words carry."""
    (tmp_path / ".unetlab-demo").write_text("made by unetlab demo\n")
    (tmp_path / "metrics.json").write_text('{"miou": 0.919}\n')
    with pytest.raises(OutputError, match="earlier demo") as caught:
        run_demo(tmp_path, quick=True, progress=False)
    _python_words_alone(caught.value)
    (tmp_path / ".unetlab-demo").unlink()  # a folder no demo made
    with pytest.raises(OutputError, match="not made by unetlab demo") as caught:
        run_demo(tmp_path, quick=True, progress=False)
    _python_words_alone(caught.value)
    with pytest.raises(OutputError, match="give output_dir a folder") as caught:
        run_demo(tmp_path / "metrics.json", quick=True, progress=False)
    assert "give --output a folder" in caught.value.cli
    assert (tmp_path / "metrics.json").read_text() == '{"miou": 0.919}\n'


def _python_words_alone(error: OutputError) -> None:
    said = str(error)
    assert "overwrite=True" in said and "another output_dir" in said and "--" not in said
    assert "--overwrite" in error.cli and "another --output" in error.cli
    assert "=True" not in error.cli


def test_the_demo_line_counts_one_epoch_as_one():
    """`demo --quick` said "trained 1 epochs" (s55 newuser2)."""
    from unetlab.cli.demo import _trained

    line = _trained({"epochs": 1, "steps": 12, "train_seconds": 3.0, "total_seconds": 5.0})
    assert line.startswith("trained 1 epoch (12 steps) in 3 s")
    assert _trained({"epochs": 2, "steps": 1, "train_seconds": 1, "total_seconds": 1}).startswith(
        "trained 2 epochs (1 step)"
    )


def _one_of_each(task: str) -> dict:
    """A demo's result of one test image and one nucleus found."""
    scores = {"count_error": 0.0, "pred_objects": 1, "true_objects": 1}
    scores |= dict.fromkeys(["object_f1", "object_precision", "object_recall", "dsb", "pq"], 1.0)
    return {
        "task": task,
        "miou": 0.5,
        "iou": {"cell": 0.5},
        "test_images": 1,
        "epochs": 1,
        "steps": 1,
        "train_seconds": 1.0,
        "total_seconds": 1.0,
        "large_image": {"size": "64x64"},
        "paths": {"checkpoint": "best.pt"},
        "objects": {**scores, "seg": 1.0},
        "baseline_connected_components": {**scores, "seg": 1.0},
    }


@pytest.mark.parametrize("task", ["em", "nuclei"])
def test_the_demo_lines_count_one_image_and_one_nucleus_as_one(task, tmp_path, capsys, monkeypatch):
    """rev D: "on 1 held-out synthetic images", "1 nuclei found"."""
    import unetlab.demo

    monkeypatch.setattr(unetlab.demo, "run_demo", lambda output, **_: _one_of_each(task))
    assert main(["demo", "--task", task, "--output", str(tmp_path / "d"), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "on 1 held-out synthetic image " in out or "on 1 held-out synthetic image:" in out
    assert "images" not in out
    if task == "nuclei":
        assert out.count("1 nucleus found, 1 true") == 2 and "nuclei found" not in out


def test_the_nuclei_demo_names_its_object_files_as_predict_names_them(
    tmp_path, instance_checkpoint
):
    """The demo's ``predictions/NN_objects.tif`` and ``overlays/NN_overlay.png`` are the names
    ``predict --instances --overlay`` gives the same images (it built them with f-strings)."""
    from unetlab import load_model, predict_folder
    from unetlab.data.io import write_png
    from unetlab.demo import _predict_nuclei

    model = load_model(instance_checkpoint)
    rng = np.random.default_rng(0)
    for stem in ("00", "07"):
        write_png(tmp_path / "d/images" / f"{stem}.png", rng.integers(0, 255, (24, 24), np.uint8))
        write_png(tmp_path / "d/masks" / f"{stem}.png", np.eye(24, dtype=np.uint8))
    _predict_nuclei(model, tmp_path / "d", tmp_path / "demo")
    done = predict_folder(
        model, tmp_path / "d/images", tmp_path / "pred", objects=True, draw_overlay=True
    )
    predicted = {p.name for outputs in done.written.values() for p in map(Path, outputs)}
    for folder in ("predictions", "baseline", "overlays"):
        names = {p.name for p in (tmp_path / "demo" / folder).iterdir()}
        assert len(names) == 2 and names <= predicted, (folder, names, predicted)
