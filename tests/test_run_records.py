"""A run folder records which files trained and validated it (split.json, and the
checkpoints), every command that trained into it (history.yaml) and its final numbers
(summary.json); evaluate recognises the training images by their bytes and names its
checkpoint by absolute path and sha256 (repro audit findings 1, 4, 8, 12)."""

import hashlib
import json
import re
import shutil

import pytest
import torch
import yaml

from tests.test_train import tiny_config, write_blobs
from unetlab.checkpoint import load_checkpoint, load_model
from unetlab.cli import main
from unetlab.data.datasets import split_pairs
from unetlab.data.split_record import (
    added_pairs,
    file_sha256,
    read_split,
    recorded_pairs,
    split_record,
    trained_count,
    write_split,
)
from unetlab.errors import DatasetError
from unetlab.evaluate import evaluate_model
from unetlab.evaluate.training import recorded_checkpoints
from unetlab.train import fit

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def trained(tmp_path):
    """A 1-epoch run on 5 images (4 train, 1 validates): (data folder, run folder)."""
    data = write_blobs(tmp_path / "data", 5)
    fit(tiny_config(data, "train.epochs=1"), run_dir=tmp_path / "run", progress=False)
    return data, tmp_path / "run"


def _add_images(data, n=2):
    """Two new pairs in ``data`` (5.png, 6.png): a split made again now is another one."""
    extra = write_blobs(data.parent / "extra", 5 + n, seed=7)
    for i in range(5, 5 + n):
        for part in ("images", "masks"):
            shutil.copy(extra / part / f"{i}.png", data / part / f"{i}.png")


def _names(pairs):
    return sorted(p.image.name for p in pairs)


def test_a_run_records_its_files_with_their_hashes_in_the_folder_and_the_checkpoints(trained):
    data, run = trained
    record = read_split(run / "split.json")
    train, val = split_pairs(data, val_fraction=0.2, seed=0)
    assert [e["image"] for e in record["train"]] == [f"images/{p.image.name}" for p in train]
    assert [e["mask"] for e in record["val"]] == [f"masks/{p.mask.name}" for p in val]
    entry = record["val"][0]
    assert entry["image_sha256"] == hashlib.sha256(val[0].image.read_bytes()).hexdigest()
    assert entry["mask_sha256"] == file_sha256(val[0].mask)
    for name in ("best.pt", "last.pt"):  # a copied checkpoint keeps it
        assert load_checkpoint(run / "checkpoints" / name)["split"] == record


def test_recorded_pairs_refuse_missing_and_changed_files_naming_them(trained):
    data, run = trained
    record = read_split(run / "split.json")
    train, val = recorded_pairs(record, data)
    assert (len(train), len(val)) == (4, 1)
    (data / "masks" / record["train"][0]["mask"].split("/")[1]).write_bytes(b"changed")
    (data / "images" / record["val"][0]["image"].split("/")[1]).unlink()
    with pytest.raises(DatasetError) as caught:
        recorded_pairs(record, data)
    message = str(caught.value)
    assert f"{record['val'][0]['image']} is missing" in message
    assert f"{record['train'][0]['mask']} changed (its sha256 differs)" in message
    assert "--data / data.root" in message and "--overwrite" in message


def test_added_pairs_and_trained_count_by_bytes(tmp_path):
    data = write_blobs(tmp_path / "data", 4)
    train, val = split_pairs(data, val_fraction=0.25, seed=0)
    record = split_record(data, train, val)
    _add_images(data)
    now = [p for part in split_pairs(data, val_fraction=0.25, seed=0) for p in part]
    assert _names(added_pairs(record, now, data)) == ["5.png", "6.png"]
    assert trained_count(now, record) == 3
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    shutil.copy(train[0].image, renamed / "a_copy.png")
    pairs = [type(train[0])(renamed / "a_copy.png", train[0].mask)]
    assert trained_count(pairs, record) == 1


def test_evaluate_counts_the_recorded_training_images_not_a_new_split(trained, caplog):
    """The audit: two files added to the data folder moved the validation images, and
    evaluate said 10 of 12 trained the checkpoint (the truth was 8), or none of two that did."""
    data, run = trained
    best = run / "checkpoints" / "best.pt"
    _add_images(data)  # 7 images: a new split would train on 6
    caplog.clear()
    assert evaluate_model(best, data, device="cpu").source["trained_images"] == 4
    assert "note: 4 of these 7 images trained this checkpoint" in caplog.text
    copies = data.parent / "copies"  # renamed copies of two training images
    record = read_split(run / "split.json")
    for i, entry in enumerate(record["train"][:2]):
        for part in ("image", "mask"):
            target = copies / f"{part}s" / f"renamed{i}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(data / entry[part], target)
    assert evaluate_model(best, copies, device="cpu").source["trained_images"] == 2


def test_a_checkpoint_without_a_record_is_counted_as_before(trained):
    data, run = trained
    model = load_model(run / "checkpoints" / "best.pt")
    model.training_split = None  # a checkpoint from before runs recorded their files
    assert evaluate_model(model, data, device="cpu").source["trained_images"] == 4


def test_resume_trains_on_the_recorded_split_and_names_the_new_files(trained):
    data, run = trained
    _add_images(data)
    fit(tiny_config(data, "train.epochs=2"), run_dir=run, resume=True, progress=False)
    log = (run / "train.log").read_text()
    assert (
        "2 images added to the folder, or readable only now, since are left out: 5.png, 6.png"
        in log
    )
    assert log.count("4 training and 1 validation images (the first") == 2
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["train_images"], summary["val_images"]) == (4, 1)


def test_resume_is_refused_when_a_recorded_file_changed(trained):
    data, run = trained
    record = read_split(run / "split.json")
    changed = record["val"][0]["image"]
    shutil.copy(data / record["train"][0]["image"], data / changed)  # other bytes, same name
    last = (run / "checkpoints" / "last.pt").read_bytes()
    with pytest.raises(DatasetError, match=f"{changed} changed"):
        fit(tiny_config(data, "train.epochs=2"), run_dir=run, resume=True, progress=False)
    assert (run / "checkpoints" / "last.pt").read_bytes() == last  # nothing trained


def test_the_history_keeps_every_command_and_what_it_changed(trained):
    data, run = trained
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["train"]["epochs"] == 1
    fit(tiny_config(data, "train.epochs=2"), run_dir=run, resume=True, progress=False)
    first, second = yaml.safe_load((run / "history.yaml").read_text())
    assert first["run"] == "start" and first["at"] == {"epochs_done": 0, "step": 0, "batch": 0}
    # epochs done: train.log says "resuming ... at epoch 2" (audit s34 repro 8)
    assert second["run"] == "resume" and second["at"] == {"epochs_done": 1, "step": 2, "batch": 0}
    assert "from step 2, the end of epoch 1 (" in (run / "train.log").read_text()
    assert second["changed"] == {"train.epochs": {"from": 1, "to": 2}}
    assert {"time", "command", "cwd"} <= set(second)


def test_the_summary_is_written_at_the_end_and_kept_up_to_date_on_resume(trained):
    data, run = trained
    summary = json.loads((run / "summary.json").read_text())
    assert summary["finished"] and summary["ended"] == "epochs"
    assert (summary["epochs"], summary["steps"], summary["best_epoch"]) == (1, 2, 1)
    assert summary["best_val_miou"] == summary["last_validation"]["val_miou"]
    assert summary["label_offset"] is None and summary["code"]["torch"]
    assert summary["training_seconds"] > 0
    assert (summary["commands"], summary["resumed"], summary["resumed_at"]) == (1, 0, [])
    fit(tiny_config(data, "train.epochs=2"), run_dir=run, resume=True, progress=False)
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["epochs"], summary["steps"]) == (2, 4)
    # a resumed run says so where a script reads it (audit s34 repro 8)
    assert (summary["commands"], summary["resumed"]) == (2, 1)
    [at] = summary["resumed_at"]
    assert (at["epochs_done"], at["step"]) == (1, 2) and at["time"]
    assert summary["last_epoch"]["epoch"] == summary["last_validation"]["epoch"] == 2


def test_the_evaluation_json_names_its_checkpoint_by_absolute_path_and_hash(
    trained, tmp_path, monkeypatch
):
    data, run = trained
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "elsewhere" / "ev.json"
    argv = ["evaluate", "--checkpoint", "run/checkpoints/best.pt", "--data", "data"]
    assert main([*argv, "--device", "cpu", "--json", str(out)]) == 0
    found = json.loads(out.read_text())
    best = run / "checkpoints" / "best.pt"
    assert found["checkpoint"] == str(best.resolve())
    assert found["checkpoint_sha256"] == hashlib.sha256(best.read_bytes()).hexdigest()
    assert (found["checkpoint_epoch"], found["checkpoint_step"]) == (1, 2)
    assert found["data"] == str(data.resolve())


def _recorded(tmp_path, **changes):
    """A split.json of 4 blobs (3 train, 1 validates) with ``changes`` to its keys (None:
    the key left out): (data folder, its path)."""
    data = write_blobs(tmp_path / "data", 4)
    record = split_record(data, *split_pairs(data, val_fraction=0.25, seed=0)) | changes
    record = {k: v for k, v in record.items() if v is not None}
    return data, write_split(tmp_path / "split.json", record)


def test_a_split_record_without_its_format_key_is_read_as_format_1(tmp_path):
    data, path = _recorded(tmp_path, format=None)  # pins: read before s73 too
    train, val = recorded_pairs(read_split(path), data)
    assert (len(train), len(val)) == (3, 1)


@pytest.mark.parametrize(
    ("found", "said"),
    [
        (2, "a split record of format 2, written by a newer unetlab (this one reads up to 1)"),
        (2.0, "a split record of format 2, written by a newer unetlab (this one reads up to 1)"),
        *[
            (
                found,
                f"its split record's format is {found!r}, not one unetlab writes (a whole "
                'number from 1 to 1): an edited file: set "format": 1 in it or remove the key',
            )
            for found in ("1", 0, -3, 1.5, True, False, [1])
        ],
    ],
)
def test_a_newer_or_edited_split_record_is_refused_in_one_line(tmp_path, found, said):
    _, path = _recorded(tmp_path, format=found)
    with pytest.raises(DatasetError) as caught:
        read_split(path)
    assert str(caught.value).startswith(f"{path}: {said}")
    assert "\n" not in str(caught.value)


def test_a_split_record_of_format_1_0_is_read_as_format_1(tmp_path):
    """s73 review: "format": 1.0 (a JSON editor's) was refused as "not a whole number"."""
    data, path = _recorded(tmp_path, format=1.0)
    train, val = recorded_pairs(read_split(path), data)
    assert (len(train), len(val)) == (3, 1)


def test_a_checkpoint_s_null_split_format_is_refused_as_an_altered_checkpoint(tmp_path):
    """s73 review: a checkpoint's record was told to "give a split.json a unetlab run wrote"."""
    from unetlab.data import split_record as module

    with pytest.raises(DatasetError) as caught:
        module.checked_format({"format": None}, "last.pt", module.EDITED_CHECKPOINT)
    assert str(caught.value) == (
        "last.pt: its split record's format is None, not one unetlab writes (a whole number "
        "from 1 to 1): an altered checkpoint: use a copy of it as its run wrote it"
    )


def test_evaluate_refuses_a_checkpoint_whose_split_record_is_newer(trained, tmp_path):
    """s73 review: README says a checkpoint's split of a newer format is refused, but only
    resume checked it: evaluate read a format 2 record as format 1 (evaluate_model, and
    evaluate_predictions through predict.json's checkpoint)."""
    data, run = trained
    best = run / "checkpoints" / "best.pt"
    checkpoint = load_checkpoint(best)
    checkpoint["split"]["format"] = 2
    torch.save(checkpoint, best)
    newer = "a split record of format 2, written by a newer unetlab (this one reads up to 1)"
    with pytest.raises(DatasetError, match=f"the checkpoint: {re.escape(newer)}"):
        evaluate_model(best, data, device="cpu")
    out = ["--input", str(data / "images"), "--output", str(tmp_path / "pred")]
    assert main(["predict", "--checkpoint", str(best), *out, "--device", "cpu"]) == 0
    with pytest.raises(DatasetError, match=f"{re.escape(str(best))}: {re.escape(newer)}"):
        recorded_checkpoints(tmp_path / "pred")


@pytest.mark.parametrize(
    ("found", "said"),
    [
        (2, "a split record of format 2, written by a newer unetlab (this one reads up to 1)"),
        ("x", "its split record's format is 'x', not one unetlab writes"),
    ],
)
def test_predict_of_a_checkpoint_whose_split_is_newer_says_so_in_one_line(
    tmp_path, caplog, found, said
):
    """s73 notes: a checkpoint whose split record is of a newer (or no) format loaded for
    predict unsaid (evaluate refuses it); predict needs no split: it runs, and says so."""
    from unetlab.checkpoint import save_model
    from unetlab.models import UNet

    data = write_blobs(tmp_path / "data", 1)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same")
    split = {"format": found, "train": [], "val": []}
    save_model(tmp_path / "m.pt", net, split=split)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(data / "images")]
    assert main([*argv, "--output", str(tmp_path / "out")]) == 0
    lines = [r.getMessage() for r in caplog.records if said in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith(f"warning: {tmp_path / 'm.pt'}: "), lines
    assert lines[0].endswith("; predict does not need it and runs (evaluate refuses it)")


@pytest.mark.parametrize("command", ["export", "summary"])
def test_export_and_summary_of_a_checkpoint_whose_split_is_newer_say_so(tmp_path, caplog, command):
    """s74 notes: export and summary loaded a checkpoint whose split record is of a newer
    format unsaid; each gives predict's one line (cli.common.warn_loaded), and runs."""
    from unetlab.checkpoint import save_model
    from unetlab.models import UNet

    net = UNet(1, 2, depth=2, base_channels=2, padding="same")
    save_model(tmp_path / "m.pt", net, split={"format": 2, "train": [], "val": []})
    given = {"export": ["--torchscript", str(tmp_path / "m.ts")], "summary": ["--input-size", "64"]}
    assert main([command, "--checkpoint", str(tmp_path / "m.pt"), *given[command]]) == 0
    said = "a split record of format 2, written by a newer unetlab (this one reads up to 1)"
    lines = [r.getMessage() for r in caplog.records if said in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith(f"warning: {tmp_path / 'm.pt'}: "), lines
    assert lines[0].endswith(f"; {command} does not need it and runs (evaluate refuses it)")


def test_train_split_of_a_newer_record_says_upgrade_in_one_line(tmp_path, capsys):
    data, path = _recorded(tmp_path, format=2)
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"data": {"root": str(data)}}))
    run = tmp_path / "run"
    args = ["--config", str(config), "--split", str(path), "--run-dir", str(run)]
    assert main(["train", *args]) != 0
    err = capsys.readouterr().err
    assert "written by a newer unetlab (this one reads up to 1): upgrade unetlab" in err
    assert "Traceback" not in err and not run.exists()


def test_resume_refuses_a_newer_split_record_in_its_checkpoint(trained):
    data, run = trained
    (run / "split.json").unlink()  # a run whose record is only in its checkpoint
    last = run / "checkpoints" / "last.pt"
    checkpoint = load_checkpoint(last)
    checkpoint["split"]["format"] = 2
    torch.save(checkpoint, last)
    with pytest.raises(DatasetError, match=f"{last}: a split record of format 2, written by a"):
        fit(tiny_config(data, "train.epochs=2"), run_dir=run, resume=True, progress=False)
