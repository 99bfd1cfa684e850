"""unetlab compare: run folders side by side (unetlab.compare), on run folders the tests
write (config.yaml, metrics.csv, summary.json, history.yaml as unetlab writes them)."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import socket

import pytest
import yaml

from unetlab.cli import main
from unetlab.compare import compare_runs, write_comparison
from unetlab.compare.find import natural_key, run_names
from unetlab.compare.records import read_metrics, read_run
from unetlab.compare.table import differing_keys, figures
from unetlab.errors import OutputError, UnetlabError

COLUMNS = "epoch,step,train_loss,val_loss,val_miou,val_miou_smoothed,val_mdice,lr,seconds"
EARLY, LATE = "2026-12-01T10:00:00+00:00", "2026-12-01T11:00:00+00:00"


def fake_run(folder, *, lr=0.001, mious=(0.5, 0.6, 0.7), summary="done", started=EARLY):
    """A run folder as train leaves it: ``summary`` "done", "stopped" (Ctrl-C) or None (no
    summary.json: killed); the last command of its history ``started`` then; last.pt."""
    folder.mkdir(parents=True)
    config = {"model": {"preset": "small"}, "train": {"lr": lr, "epochs": 3}}
    config["run"] = {"name": folder.name, "dir": "runs"}
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    lines = [COLUMNS]
    smoothed = None
    for epoch, miou in enumerate(mious, 1):
        smoothed = miou if smoothed is None else 0.5 * smoothed + 0.5 * miou
        lines.append(f"{epoch},{2 * epoch},1.0,0.9,{miou},{smoothed},{miou + 0.1},0.001,30")
    (folder / "metrics.csv").write_text("\n".join(lines) + "\n")
    (folder / "history.yaml").write_text(yaml.safe_dump([{"time": started, "run": "start"}]))
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "last.pt").write_bytes(b"")
    if summary and mious:
        best = max(range(len(mious)), key=lambda i: mious[i])
        record = {"finished": summary == "done", "epochs": len(mious), "written": EARLY}
        record |= {"best_epoch": best + 1, "best_val_miou": mious[best]}
        (folder / "summary.json").write_text(json.dumps(record))
    return folder


def three_runs(tmp_path):
    runs = tmp_path / "runs"
    fake_run(runs / "a", lr=0.001, mious=(0.5, 0.6, 0.7))
    fake_run(runs / "b", lr=0.01, mious=(0.6, 0.8, 0.75))
    fake_run(runs / "c", lr=0.1, mious=(0.2, 0.3, 0.4))
    return runs


def test_the_table_shows_the_differing_settings_sorted_by_best_val_miou(tmp_path):
    runs = three_runs(tmp_path)
    table = compare_runs([runs / "a", runs / "c", runs / "b"])
    assert [r["run"] for r in table.rows] == ["b", "a", "c"]
    assert table.settings == ["train.lr"]  # not model.preset (the same), not run.name
    b = table.rows[0]
    assert (b["best_epoch"], b["best_val_miou"], b["last_val_miou"]) == (2, 0.8, 0.75)
    assert (b["epochs"], b["steps"], b["train_minutes"], b["status"]) == (3, 6, 1.5, "done")
    assert b["wall_minutes"] is None  # summary.json without command_seconds says nothing
    assert "wall_minutes" not in table.columns  # nor a column of "-"
    assert b["last_val_mdice"] == pytest.approx(0.85)
    lines = table.text().splitlines()
    assert lines[0].split() == table.columns and lines[1].split()[:3] == ["b", "done", "0.01"]
    last = compare_runs([runs], by="last")
    assert [r["run"] for r in last.rows] == ["b", "a", "c"]
    assert [r["last_val_miou"] for r in last.rows] == [0.75, 0.7, 0.4]


def test_differing_keys_keep_their_order_and_skip_keys_older_runs_lack():
    configs = [{"a": 1, "b": [1, 2], "c": 3}, {"a": 1, "b": [1, 3], "d": None}, {"c": 4}]
    assert differing_keys(configs) == ["b", "c"]
    assert differing_keys([{"run.name": "x", "e": 1.0}, {"run.name": "y", "e": 1}]) == []


def test_a_folder_of_folds_gives_its_runs_in_natural_order(tmp_path):
    cv = tmp_path / "cv"
    for i in (1, 2, 10):
        fake_run(cv / f"fold_{i}", mious=(0.5,))  # the same settings: no setting column
    (cv / "folds.csv").write_text("fold\n1\n")
    (cv / "fold_2" / "metrics.csv").write_text(f"{COLUMNS}\n1,2,1.0,0.9,0.7,0.7,0.8,0.001,30\n")
    (cv / "fold_2" / "summary.json").unlink()
    table = compare_runs([cv], by="last")
    assert [r["run"] for r in table.rows] == ["fold_2", "fold_1", "fold_10"]  # ties keep order
    assert table.settings == []
    (cv / "fold_2" / "summary.json").write_text(json.dumps({"finished": True, "epochs": 1}))
    said = (
        "the 3 runs share their settings (folds, repeats): mean ± sd (min-max) over them: "
        "val mIoU of best.pt 0.5667 ± 0.1155 (0.5000-0.7000), of the last validation 0.5667 ± "
        "0.1155 (0.5000-0.7000), val Dice of the last validation 0.6667 ± 0.1155 (0.6000-0.8000)"
    )
    table = compare_runs([cv], by="last")
    assert table.spread_line() == said and said in table.text()
    assert compare_runs([three_runs(tmp_path)]).spread_line() is None
    assert sorted(["fold_10", "fold_2"], key=lambda n: natural_key(cv / n)) == ["fold_2", "fold_10"]


def test_the_spread_of_repeats_leaves_unfinished_runs_out_and_names_them(tmp_path):
    runs = tmp_path / "runs"  # audit s34 repro 4: a killed 1-epoch run averaged in
    fake_run(runs / "a", mious=(0.6, 0.7))
    fake_run(runs / "b", mious=(0.6, 0.7))
    fake_run(runs / "f", mious=(0.3,), summary=None)  # killed after epoch 1
    fake_run(runs / "s", mious=(0.4,), summary="stopped")
    line = compare_runs([runs]).spread_line()
    assert line.startswith("the 2 finished runs share their settings")
    assert "val mIoU of best.pt 0.7000 ± 0.0000 (0.7000-0.7000)" in line
    assert line.endswith("; left out, unfinished: s (stopped, resumable), f (killed, resumable)")
    assert "\n" not in line
    (runs / "s").rename(tmp_path / "s")
    assert compare_runs([runs / "a", runs / "f"]).spread_line() is None  # one finished: none


def test_a_time_budget_runs_epoch_cap_reads_no_limit_as_in_the_plan(tmp_path, capsys):
    runs = tmp_path / "runs"  # audit s34 repro 9: train.epochs 100000 for a --minutes run
    fake_run(runs / "b")
    config = yaml.safe_load((fake_run(runs / "d") / "config.yaml").read_text())
    config["train"] |= {"epochs": 100000, "max_minutes": 1.0}
    (runs / "d" / "config.yaml").write_text(yaml.safe_dump(config))
    table = compare_runs([runs])
    assert {r["run"]: r["train.epochs"] for r in table.rows} == {"b": 3, "d": "no limit"}
    assert main(["compare", str(runs), "--out", str(tmp_path / "cmp")]) == 0
    assert "100000" not in capsys.readouterr().out
    assert "100000" not in (tmp_path / "cmp" / "compare.csv").read_text()


def budget_run(folder, share, *, mious=(0.5, 0.6, 0.7)):
    """A --minutes run that got ``share`` of its CPU (summary.json ``cpu_share``)."""
    fake_run(folder, mious=mious)
    config = yaml.safe_load((folder / "config.yaml").read_text())
    config["train"] |= {"epochs": 100000, "max_minutes": 6.0}
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    summary = json.loads((folder / "summary.json").read_text()) | {"cpu_share": share}
    (folder / "summary.json").write_text(json.dumps(summary))


def test_time_budget_runs_of_unlike_cpu_shares_are_named_under_the_table(tmp_path):
    """Audit s45 newuser: two 6-minute runs on a shared machine got 25% and 17% of their CPU
    (195 and 78 steps); the table alone read as if the settings made the difference."""
    runs = tmp_path / "runs"
    budget_run(runs / "a", 0.25)
    budget_run(runs / "b", 0.17, mious=(0.4, 0.5))  # fewer steps in its 6 minutes
    fake_run(runs / "e")  # an --epochs run: its share says nothing of its steps
    text = compare_runs([runs]).text()
    (line,) = [x for x in text.splitlines() if x.startswith("CPU share")]
    assert "a 25% (6 steps), b 17% (4 steps)" in line and "--epochs N" in line
    assert " e " not in line
    budget_run(runs / "c", 0.22)  # 0.22 against 0.25: alike, with b left out
    assert "CPU share" not in compare_runs([runs / "a", runs / "c", runs / "e"]).text()
    # as many steps (an epoch cap ended both, not the clock): the load set none of them
    budget_run(runs / "d", 0.12)
    assert "CPU share" not in compare_runs([runs / "a", runs / "d"]).text()


def test_run_names_are_paths_below_the_folder_the_runs_share(tmp_path):
    assert run_names([tmp_path / "r" / "cv" / "fold_1", tmp_path / "r" / "a"]) == ["cv/fold_1", "a"]


def test_unfinished_runs_are_marked_with_how_to_resume_them(tmp_path):
    runs = tmp_path / "runs"
    fake_run(runs / "done")
    fake_run(runs / "stopped", summary="stopped")
    fake_run(runs / "killed", summary=None)
    # resumed after its summary was written, then killed: the summary is an earlier command's
    fake_run(runs / "resumed", mious=(0.5, 0.9, 0.6), started=LATE)
    fake_run(runs / "gone", summary=None)
    (runs / "gone" / "checkpoints" / "last.pt").unlink()
    table = compare_runs([runs])
    status = {r["run"]: r["status"] for r in table.rows}
    assert status == {
        "done": "done",
        "stopped": "stopped, resumable",
        "killed": "killed, resumable",
        "resumed": "killed, resumable",
        "gone": "killed",
    }
    notes = table.notes()
    assert len(notes) == 4
    resume = (
        f"killed: killed at epoch 3; go on with: unetlab train --run-dir {runs / 'killed'} --resume"
    )
    assert resume in notes
    assert any(n.startswith("gone: killed at epoch 3; no checkpoints/last.pt") for n in notes)
    assert all(n in table.text() for n in notes)


def test_a_resumed_run_is_marked_resumed(tmp_path):
    runs = tmp_path / "runs"  # audit s34 repro 8: compare showed a resumed run plainly "done"
    fake_run(runs / "a")
    fake_run(runs / "e")
    history = [{"time": EARLY, "run": "start"}, {"time": EARLY, "run": "resume"}]
    (runs / "e" / "history.yaml").write_text(yaml.safe_dump(history))
    fake_run(runs / "k", summary=None)
    history = [*history, {"time": EARLY, "run": "resume"}]
    (runs / "k" / "history.yaml").write_text(yaml.safe_dump(history))
    table = compare_runs([runs])
    assert {r["run"]: r["status"] for r in table.rows} == {
        "a": "done",
        "e": "done, resumed 1x",
        "k": "killed, resumable, resumed 2x",
    }
    assert read_run(runs / "e").finished  # still a finished run, of the spread


def test_a_run_that_holds_its_lock_is_running(tmp_path):
    run = fake_run(tmp_path / "a", summary=None)
    lock = run / ".unetlab.lock"
    lock.write_text(f"{os.getpid()} on {socket.gethostname()}\n")
    assert read_run(run).status == "running"
    lock.write_text(f"{os.getpid()} on another-host\n")  # on another node: not known here
    assert read_run(run).status == "killed"
    lock.write_text(f"{2**22 + 7} on {socket.gethostname()}\n")  # left by a killed run
    assert read_run(run).status == "killed"


def test_without_a_current_summary_best_pt_is_the_first_highest_smoothed_epoch(tmp_path):
    """As training chose it: the smoothed val mIoU (0.5, 0.7, 0.7, 0.65) first peaks at
    epoch 2, though epoch 3 measured more (0.7 against 0.9)."""
    run = fake_run(tmp_path / "a", mious=(0.5, 0.9, 0.7, 0.6), summary=None)
    lines = (run / "metrics.csv").read_text().splitlines()
    smoothed = ("0.5", "0.7", "0.7", "0.65")
    lines[1:] = [
        ",".join([*r.split(",")[:5], s, *r.split(",")[6:]]) for r, s in zip(lines[1:], smoothed)
    ]
    (run / "metrics.csv").write_text("\n".join(lines) + "\n")
    fake_run(tmp_path / "b", mious=(0.1,))
    row = next(r for r in compare_runs([tmp_path]).rows if r["run"] == "a")
    assert (row["best_epoch"], row["best_val_miou"]) == (2, 0.9)


def test_a_line_cut_by_a_killed_write_is_left_out(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(f"{COLUMNS}\n1,2,1.0,0.9,0.5,0.5,0.6,0.001,30\n2,4,0.9,0.8,0.")
    assert [r["epoch"] for r in read_metrics(path)] == [1.0]
    path.write_text(f"{COLUMNS}\n1,2,1.0,0.9,0.5,0.5,0.6,0.001,30\n2,4,0.9\nx,4,,,,,,,\n")
    assert [r["epoch"] for r in read_metrics(path)] == [1.0]


def test_evaluations_saved_in_a_run_folder_are_columns(tmp_path):
    runs = three_runs(tmp_path)
    report = {"miou": 0.66, "mdice": 0.7, "confusion_matrix": [[1, 0], [0, 1]]}
    (runs / "a" / "eval").mkdir()
    (runs / "a" / "eval" / "test.json").write_text(json.dumps(report))
    report |= {"miou": 0.9, "num_images": 3, "trained_images": 2}  # scored training images
    (runs / "c" / "train_images.json").write_text(json.dumps(report))
    (runs / "b" / "notes.json").write_text(json.dumps({"miou": 1.0}))  # not a report
    (runs / "b" / "label_offset.json").write_text(json.dumps({"offset": [0, 0]}))
    table = compare_runs([runs])
    assert table.columns[-5:] == [
        "eval/test mIoU",
        "eval/test checkpoint",
        "train_images mIoU",
        "train_images checkpoint",
        "train_images trained",
    ]
    assert {r["run"]: r["eval/test mIoU"] for r in table.rows} == {"a": 0.66, "b": None, "c": None}
    assert table.rows[-1]["train_images trained"] == "2 of 3"
    assert table.rows[0]["train_images trained"] is None
    assert "0.6600" in table.text()


def test_out_writes_the_table_and_the_curves_and_never_replaces_others_files(tmp_path, capsys):
    runs = three_runs(tmp_path)
    out = tmp_path / "out"
    table = compare_runs([runs])
    written = write_comparison(table, out)
    assert [p.name for p in written] == ["compare.csv", "compare_curves.png"]
    with written[0].open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["run"], r["train.lr"], r["best_val_miou"]) for r in rows][0] == ("b", "0.01", "0.8")
    assert written[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    write_comparison(table, out)  # its own files: replaced
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "compare.csv").write_text("mine\n")
    with pytest.raises(OutputError, match="not written by unetlab"):
        write_comparison(table, theirs)
    assert (theirs / "compare.csv").read_text() == "mine\n"
    capsys.readouterr()
    assert main(["compare", str(runs), "--out", str(theirs)]) == 2
    said = capsys.readouterr()
    assert said.err.strip().endswith(
        "was not written by unetlab: give --out another folder"
    )  # its names are fixed: not "give another name" (s60)
    assert not (theirs / "compare_curves.png").exists()
    assert said.out == ""  # not the table, then the refusal (s68 review)


@pytest.mark.parametrize(
    "case, says",
    [
        ("missing", "no such folder: give run folders"),
        ("not_a_run", "is not a run folder (no config.yaml) and holds no runs"),
        ("a_file", "is a file, not a run folder: give its folder"),
        ("one_run", "only one run to compare"),
        ("no_epoch", "no epoch has finished yet (metrics.csv has no rows)"),
    ],
)
def test_bad_input_is_one_line_naming_the_fix(tmp_path, capsys, case, says):
    runs = three_runs(tmp_path)
    (tmp_path / "other" / "images").mkdir(parents=True)
    fake_run(tmp_path / "new", mious=())
    given = {
        "missing": [runs / "a", tmp_path / "nothing"],
        "not_a_run": [runs / "a", tmp_path / "other"],
        "a_file": [runs / "a" / "metrics.csv", runs / "b"],
        "one_run": [runs / "a", runs / "a" / ".." / "a"],
        "no_epoch": [runs / "a", tmp_path / "new"],
    }[case]
    assert main(["compare", *map(str, given)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and says in captured.err
    assert captured.err.startswith("unetlab compare: error: ") and "Traceback" not in captured.err


def test_a_config_yaml_that_is_no_yaml_is_one_whole_line(tmp_path, capsys):
    """A run's config.yaml that PyYAML refuses (its message is several lines) was cut to
    "... cannot be read (while parsing a block mapping", without the place or the fix
    (audit s41)."""
    runs = three_runs(tmp_path)
    (runs / "b" / "config.yaml").write_text(": : bad [\n")
    assert main(["compare", str(runs / "a"), str(runs / "b")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "config.yaml cannot be read (line 1, column 1: " in err
    assert err.rstrip().endswith("is it a unetlab run's?")


@pytest.mark.parametrize("content", [b"- {time: [\n", b"\xff\xfe\x00 not text"])
def test_a_history_yaml_cut_short_or_not_text_is_one_line_naming_it(tmp_path, capsys, content):
    """A run's history.yaml that is no YAML (a write cut short, a hand edit) or no text was a
    traceback ("this is a bug in unetlab") from compare, as from train --resume (s51 walkbad)."""
    runs = three_runs(tmp_path)
    (runs / "b" / "history.yaml").write_bytes(content)
    assert main(["compare", str(runs / "a"), str(runs / "b")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{runs / 'b' / 'history.yaml'} cannot be read (" in err and "move it aside" in err


def test_a_metrics_csv_of_other_columns_is_named_not_said_to_have_no_epoch(tmp_path, capsys):
    """A metrics.csv whose header is no train's (another file saved over it) had every row
    dropped as cut short: "no epoch has finished yet (metrics.csv has no rows)" (s51 walkbad)."""
    runs = three_runs(tmp_path)
    (runs / "b" / "metrics.csv").write_text("garbage,x\n1,2\n3,4\n")
    assert main(["compare", str(runs / "a"), str(runs / "b")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no epoch has finished" not in err
    assert f"{runs / 'b' / 'metrics.csv'}: its first line 'garbage,x' names no epoch and " in err


def test_out_into_a_data_sets_masks_folder_is_refused(tmp_path, capsys):
    """--out test/masks wrote compare_curves.png among the masks, which evaluate then
    refused as 'mask without an image' (audit s41): one line naming the folder."""
    runs = three_runs(tmp_path)
    for role in ("images", "masks"):
        (tmp_path / "test" / role).mkdir(parents=True)
        (tmp_path / "test" / role / "a.png").write_bytes(b"")
    out = tmp_path / "test" / "masks"
    assert main(["compare", str(runs / "a"), str(runs / "b"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "masks/ folder of the data set" in err
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]


@pytest.mark.parametrize("out", ["-", ""])
def test_out_dash_or_empty_is_refused(out, tmp_path, capsys, monkeypatch):
    """--out - made a folder named "-"; --out '' wrote nothing, silently (audit s41)."""
    runs = three_runs(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["compare", str(runs / "a"), str(runs / "b"), "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give the folder for compare.csv" in err
    assert not (tmp_path / "-").exists() and not list(tmp_path.rglob("compare.csv"))


def test_a_run_without_epochs_inside_a_given_folder_is_left_out(tmp_path, caplog):
    runs = three_runs(tmp_path)
    fake_run(runs / "new", mious=())
    assert [r["run"] for r in compare_runs([runs]).rows] == ["b", "a", "c"]
    assert "runs/new: left out, no epoch has finished yet" in caplog.text
    with pytest.raises(UnetlabError, match="^by must be"):
        compare_runs([runs], by="worst")


def test_the_command_prints_the_table_and_writes_out(tmp_path, capsys):
    runs = three_runs(tmp_path)
    assert main(["compare", str(runs / "a"), str(runs / "b"), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["run", "status", "train.lr"]
    assert [line.split()[0] for line in out[1:3]] == ["b", "a"]
    assert out[3:] == [
        f"wrote {tmp_path / 'o' / 'compare.csv'}",
        f"wrote {tmp_path / 'o' / 'compare_curves.png'}",
    ]


@pytest.mark.slow
def test_two_real_tiny_runs(tmp_path, one_thread):
    """Runs as fit leaves them (2 epochs of a 2-level, 4-channel net on 32 px tiles; 9 s a
    run on the loaded 2-core machine)."""
    import numpy as np

    from unetlab import fit
    from unetlab.config import load_config
    from unetlab.data.io import write_png

    rng = np.random.default_rng(0)
    for i in range(4):
        image = rng.integers(0, 255, (32, 32), np.uint8)
        write_png(tmp_path / "data" / "images" / f"{i}.png", image)
        write_png(tmp_path / "data" / "masks" / f"{i}.png", np.where(image > 128, 255, 0))
    for name, lr in (("a", 0.01), ("b", 0.001)):
        keys = ["model.preset=small", "model.depth=2", "model.base_channels=4"]
        keys += ["data.tile_size=32", "data.tiles_per_epoch=4", "train.batch_size=4"]
        keys += ["train.epochs=2", "train.device=cpu", f"train.lr={lr}"]
        cfg = load_config(None, [f"data.root={tmp_path / 'data'}", *keys])
        fit(cfg, run_dir=tmp_path / "runs" / name, progress=False)
    table = compare_runs([tmp_path / "runs"])
    assert table.settings == ["train.lr"]
    assert sorted(r["run"] for r in table.rows) == ["a", "b"]
    for row in table.rows:
        assert (row["epochs"], row["steps"], row["status"]) == (2, 2, "done")
        assert row["best_epoch"] in (1, 2) and 0 <= row["best_val_miou"] <= 1


def test_runs_of_many_classes_show_each_class_iou_at_best_pts_epoch(tmp_path):
    """11 road classes: which run found the poles hides in the mIoU; a second table and the
    CSV give each class's val IoU of best.pt's epoch (audit s39 roads)."""
    runs = three_runs(tmp_path)
    for run, pole in (("a", 0.1), ("b", 0.3)):
        path = runs / run / "metrics.csv"
        lines = path.read_text().splitlines()
        lines[0] += ",val_iou_road,val_iou_pole,val_iou_sign"
        lines[1:] = [f"{line},0.9,{pole * e},0.05" for e, line in enumerate(lines[1:], 1)]
        path.write_text("\n".join(lines) + "\n")
    table = compare_runs([runs / "a", runs / "b"])
    lines = table.text().splitlines()
    at = lines.index("val IoU per class at best.pt's epoch:")
    assert lines[at + 1].split() == ["run", "road", "pole", "sign"]
    assert lines[at + 2].split() == ["b", "0.9000", "0.6000", "0.0500"]  # b's best: epoch 2
    assert lines[at + 3].split() == ["a", "0.9000", "0.3000", "0.0500"]  # a's: epoch 3
    write_comparison(table, tmp_path / "cmp")
    with (tmp_path / "cmp" / "compare.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [float(r["best_val_iou_pole"]) for r in rows] == pytest.approx([0.6, 0.3])
    fake_run(runs / "d")  # c and d record no class's IoU: no second table
    assert "val IoU per class" not in compare_runs([runs / "c", runs / "d"]).text()


def test_a_class_missing_from_val_reads_not_in_val_not_its_zero(tmp_path):
    """11 road classes, none of them sign in val/: its IoU at best.pt's epoch is 0 (false
    positives) or n/a, which read 0.0000 as if the run missed every sign; summary.json's
    val_pixels says the class is not in val (audit s43 legend 3). A run without val_pixels
    (trained before it was recorded) shows its figures as before."""
    runs = three_runs(tmp_path)
    for run in ("a", "b"):
        path = runs / run / "metrics.csv"
        lines = path.read_text().splitlines()
        lines[0] += ",val_iou_road,val_iou_pole,val_iou_sign"
        lines[1:] = [f"{line},0.9,0.5,0.0" for line in lines[1:]]
        path.write_text("\n".join(lines) + "\n")
    summary = json.loads((runs / "b" / "summary.json").read_text())
    summary |= {"classes": ["road", "pole", "sign"], "val_pixels": [900, 40, 0]}
    (runs / "b" / "summary.json").write_text(json.dumps(summary))
    lines = compare_runs([runs / "a", runs / "b"]).text().splitlines()
    at = lines.index("val IoU per class at best.pt's epoch:")
    rows = {line.split()[0]: line for line in lines[at + 2 : at + 4]}
    assert rows["b"].split() == ["b", "0.9000", "0.5000", "not", "in", "val"]
    assert rows["a"].split() == ["a", "0.9000", "0.5000", "0.0000"]  # an old run: as before
    assert lines[at + 4].startswith("not in val: no pixel of the class")


def test_minutes_are_labelled_training_and_wall_from_summary_json(tmp_path):
    """The epochs' seconds are train_minutes; the training command's wall clock
    (summary.json's command_seconds: 2 min 40 s for 1.5 minutes of epochs) is wall_minutes,
    not known for a resumed run."""
    runs = three_runs(tmp_path)
    summary = json.loads((runs / "b" / "summary.json").read_text())
    (runs / "b" / "summary.json").write_text(json.dumps(summary | {"command_seconds": 160.0}))
    table = compare_runs([runs / "b", runs / "c"])
    assert (table.rows[0]["train_minutes"], table.rows[0]["wall_minutes"]) == (1.5, 160 / 60)
    header, row = table.text().splitlines()[:2]
    assert "train_minutes" in header.split() and "wall_minutes" in header.split()
    assert "minutes" not in header.split()
    assert row.split()[header.split().index("wall_minutes")] == "2.7"
    resumed = dataclasses.replace(table.records[0], resumed=1)
    assert figures(resumed)["wall_minutes"] is None


def test_write_comparison_tells_python_its_own_name_not_the_flag(tmp_path, capsys):
    """write_comparison told a Python caller to "give --out a folder" (s59): its own name to
    Python, --out to the command line."""
    from unetlab.compare.table import Comparison

    (tmp_path / "file").write_text("x")
    with pytest.raises(UnetlabError) as refused:
        write_comparison(Comparison([], [], [], [], "run"), tmp_path / "file")
    assert str(refused.value) == f"{tmp_path / 'file'} is a file: give write_comparison a folder"
    assert refused.value.cli == f"{tmp_path / 'file'} is a file: give --out a folder"
    runs = three_runs(tmp_path)
    assert main(["compare", str(runs), "--out", str(tmp_path / "file")]) == 2
    said = capsys.readouterr()
    assert said.err.strip().endswith("is a file: give --out a folder")
    # refused before the table (s68 deploy walk: the table, a run's resume line, then the
    # refusal), so that the one line is what the command says
    assert said.out == ""
