"""``unetlab train --check`` (audit s29 author, finding 6): the data's checks, the plan, the
data and the net, and nothing written; and the start summary's words (finding 9)."""

import numpy as np
import pytest

from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.train.log import steps_text

from .test_train_safety import a_checkpoint


def _data(root, *, stray=False, n=4):
    rng = np.random.default_rng(0)
    for i in range(n):
        mask = np.tile([0, 1], (32, 16)).astype(np.uint8)
        if stray and i < 2:
            mask[:3, :3] = 7
        write_png(root / "images" / f"{i:02d}.png", rng.integers(0, 255, (32, 32), np.uint8))
        write_png(root / "masks" / f"{i:02d}.png", mask)
    return root


def _tree(folder):
    return sorted((p, p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_check_says_the_plan_data_and_net_and_writes_nothing(tmp_path, monkeypatch, caplog):
    data = _data(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    before = _tree(tmp_path)
    caplog.set_level("INFO")
    args = ["train", "--data", "data", "--check", "--set", "model.depth=2"]
    assert main(args) == 0
    assert _tree(tmp_path) == before
    text = caplog.text
    assert "plan: " in text and "check: 3 training and 1 validation images, classes 0, 1" in text
    assert "nothing written: train with the same command without --check" in text
    assert " parameters, 1 input channel, tile " in text  # the bands a net takes (s37 bands)
    assert main([*args, "--no-plan", "--set", "data.tile_size=32"]) == 0
    assert _tree(tmp_path) == before and data.is_dir()


def test_check_names_the_classes_as_the_run_does(tmp_path, caplog):
    """Audit s43 scenes: --check listed 'classes 0, 1, 2, ...' where the run's data line and
    the plan name them from class_names.txt ('0 (road), 1 (sidewalk)')."""
    data = _data(tmp_path / "data")
    (data / "class_names.txt").write_text("road\nsky\n")
    caplog.set_level("INFO")
    assert main(["train", "--data", str(data), "--check", "--set", "model.depth=2"]) == 0
    assert "check: 3 training and 1 validation images, classes 0 (road), 1 (sky); " in caplog.text


def test_check_of_bad_data_exits_2_with_the_problems(tmp_path, capsys):
    data = _data(tmp_path / "data", stray=True, n=8)  # 9 px of value 7 in 2 of 8 masks
    before = _tree(tmp_path)
    assert main(["train", "--data", str(data), "--check"]) == 2
    err = capsys.readouterr().err
    assert "mask value 7 has a few pixels in each of the 2 files" in err
    assert _tree(tmp_path) == before


@pytest.mark.parametrize(
    ("steps", "batch", "tiles", "said"),
    [
        (1, 25, 8, "1 step of 8 tiles (data.tiles_per_epoch, under the batch size 25)"),
        (3, 25, 64, "3 steps of batch 25 (64 tiles: the last step 14)"),
        (4, 16, 64, "4 steps of batch 16"),
        (1, 4, None, "1 step of batch 4"),
    ],
)
def test_an_epochs_steps_are_said_as_they_are(steps, batch, tiles, said):
    assert steps_text(steps, batch, tiles) == said


def test_minutes_inf_says_how_to_train_without_a_limit(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:  # argparse's line, by the flag typed
        main(["train", "--data", str(tmp_path), "--minutes", "inf"])
    assert exit_info.value.code == 2
    assert "--minutes: takes a finite number: for no time limit, leave it out" in (
        capsys.readouterr().err
    )


def test_check_starts_the_data_and_net_as_a_run_does(tmp_path):
    """train --check and setup_run share train.run.started: the floor in its units too."""
    from unetlab.config import load_config
    from unetlab.data.io import write_tiff
    from unetlab.train.run import started

    rng = np.random.default_rng(0)
    for i in range(2):
        write_tiff(
            tmp_path / "images" / f"{i}.tif",
            (rng.integers(0, 130, (32, 32)) * 200).astype(np.uint16),
        )
        write_png(tmp_path / "masks" / f"{i}.png", np.tile([0, 1], (32, 16)).astype(np.uint8))
    cfg = load_config(None, [f"data.root={tmp_path}", "model.depth=2", "data.tile_size=32"])
    data, model, (tile, out) = started(cfg)
    assert data.normalization["dtype"] == "uint16" and data.normalization["floor"][0] > 255
    assert model.num_classes == 2 and (tile, out) == (32, 32)


def test_check_beside_a_run_says_it_and_needs_no_free_run_folder(tmp_path, monkeypatch, caplog):
    """A folder that holds a run (e.g. the default runs/unet of an earlier train) is no bar to
    --check, which writes nothing; its refusal is a note (audit s33 readme3 2)."""
    _data(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    a_checkpoint(tmp_path / "runs" / "unet" / "checkpoints" / "last.pt")
    before = _tree(tmp_path)
    caplog.set_level("INFO")
    assert main(["train", "--data", "data", "--check", "--set", "model.depth=2"]) == 0
    assert _tree(tmp_path) == before
    assert "note: training without --check would stop here: runs/unet already holds a run" in (
        caplog.text
    )
    assert "check: 3 training and 1 validation images" in caplog.text
