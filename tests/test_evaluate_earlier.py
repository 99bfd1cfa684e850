"""An earlier evaluate report where --json (or Report.write_json) writes: what tells its
files and model from this evaluation's (s57 review of the refusal to replace another's)."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch

from unetlab.checkpoint import load_model, save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.errors import OutputError
from unetlab.evaluate import evaluate_model, evaluate_predictions
from unetlab.model_identity import weights_sha256
from unetlab.models import UNet

GT = np.tile([0, 255], (8, 4)).astype(np.uint8)


def _model(seed: int) -> UNet:
    torch.manual_seed(seed)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    model.label_values = [0, 255]
    return model


def _pred_argv(pred, gt, report) -> list[str]:
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--label-values", "0", "255"]
    return [*argv, "--json", str(report)]


def test_predictions_are_told_by_their_resolved_folder(tmp_path, monkeypatch, capsys):
    """--pred pred from another folder (other predictions by the same relative name)
    replaced the report silently; the same folder given by its absolute path was refused."""
    gt, report = tmp_path / "gt", tmp_path / "r.json"
    write_png(gt / "a.png", GT)
    for folder, value in (("a", 1), ("b", 0)):
        write_png(tmp_path / folder / "pred" / "a.png", (GT == 255).astype(np.uint8) * value)
    monkeypatch.chdir(tmp_path / "a")
    assert main(_pred_argv("pred", gt, report)) == 0
    assert json.loads(report.read_text())["predictions"] == str(tmp_path / "a" / "pred")
    kept = report.read_bytes()
    monkeypatch.chdir(tmp_path / "b")
    capsys.readouterr()
    assert main(_pred_argv("pred", gt, report)) == 2
    assert "holds the report of the predictions" in capsys.readouterr().err
    assert report.read_bytes() == kept
    assert main(_pred_argv(tmp_path / "a" / "pred", gt, report)) == 0  # the same, spelled whole
    assert "replaces" not in capsys.readouterr().out


def test_an_older_reports_relative_folders_are_read_from_the_current_folder(tmp_path):
    """A report written before s57 recorded --pred and --gt as typed: read against the
    current folder (where it was made is not recorded)."""
    from unetlab.evaluate.earlier import earlier_report

    path = tmp_path / "r.json"
    path.write_text(json.dumps({"predictions": "pred", "ground_truth": "gt"}))
    here = {"predictions": str(tmp_path / "pred"), "ground_truth": str(tmp_path / "gt")}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        assert earlier_report(path, here) is None
        assert earlier_report(path, here | {"predictions": str(tmp_path / "x")}) is not None


def _data(root, seed: int):
    rng = np.random.default_rng(seed)
    write_png(root / "images" / "a.png", rng.integers(0, 255, (16, 16), np.uint8))
    write_png(root / "masks" / "a.png", np.tile([0, 255], (16, 8)).astype(np.uint8))
    return root


def test_a_model_in_memory_on_other_data_keeps_the_earlier_report(tmp_path):
    """From Python a model built in memory records no checkpoint: its report on other data
    replaced the earlier one (the check needed a checkpoint); on the same data it is its own."""
    first = evaluate_model(_model(0), _data(tmp_path / "dA", 0), progress=False)
    path = first.write_json(tmp_path / "r.json")
    kept = path.read_bytes()
    other = evaluate_model(_model(1), _data(tmp_path / "dB", 1), progress=False)
    with pytest.raises(OutputError, match="a model given in memory on .*dA"):
        other.write_json(path)
    assert path.read_bytes() == kept
    evaluate_model(_model(0), tmp_path / "dA", progress=False).write_json(path)  # the same model


def test_two_models_in_memory_on_the_same_data_are_two_scorings(tmp_path):
    """Another net in memory scored on the same data replaced the first's report, picture
    and table silently (nothing named either model): each is named by its weights now; the
    same weights again (another object) are the same scoring."""
    data = _data(tmp_path / "d", 0)
    first = evaluate_model(_model(0), data, progress=False)
    writers = {"r.json": "write_json", "c.png": "plot_confusion", "t.csv": "write_csv"}
    for name, writer in writers.items():
        getattr(first, writer)(tmp_path / name)
    kept = {name: (tmp_path / name).read_bytes() for name in writers}
    other = evaluate_model(_model(1), data, progress=False)
    for name, writer in writers.items():
        with pytest.raises(OutputError, match=r"of another model than now.*overwrite=True"):
            getattr(other, writer)(tmp_path / name)
        assert (tmp_path / name).read_bytes() == kept[name], name
    again = evaluate_model(_model(0), data, progress=False)
    assert again.source["weights_sha256"] == first.source["weights_sha256"]
    again.write_json(tmp_path / "r.json")  # its own
    other.write_json(tmp_path / "r.json", overwrite=True)
    assert (
        json.loads((tmp_path / "r.json").read_text())["weights_sha256"]
        != (first.source["weights_sha256"])
    )


@pytest.mark.parametrize("change", ["optimizer", "data", "file"])
def test_a_loaded_model_is_its_checkpoint_until_changed(tmp_path, capsys, change):
    """evaluate_model(load_model(p)) and evaluate --checkpoint p are one scoring; the same
    net trained further after loading (an optimizer's step, or a hand edit through
    ``.data`` that torch does not count), or its file replaced by another model's since,
    passed as the file, so that the command's report of the file replaced it as its own."""
    data, ckpt, path = _data(tmp_path / "d", 0), tmp_path / "m.pt", tmp_path / "r.json"
    save_model(ckpt, _model(0))
    net = load_model(ckpt)
    assert evaluate_model(net, data, progress=False).write_json(path)
    argv = ["evaluate", "--checkpoint", str(ckpt), "--data", str(data), "--json", str(path)]
    assert main([*argv, "--device", "cpu"]) == 0
    assert "replaces" not in capsys.readouterr().out
    if change == "optimizer":
        for p in net.parameters():
            p.grad = torch.ones_like(p)
        torch.optim.SGD(net.parameters(), lr=0.1).step()
    elif change == "data":
        next(net.parameters()).data[0] += 1.0
    else:
        save_model(ckpt, _model(1), overwrite=True)
    changed = evaluate_model(net, data, progress=False)
    assert "checkpoint" not in changed.source and changed.source["weights_sha256"]
    with pytest.raises(OutputError, match=f"the report of {ckpt} on .*overwrite=True"):
        changed.write_json(path)


def _hashes_counted(monkeypatch) -> list:
    """The calls of ``weights_sha256`` (each of the paper net's: 0.11-0.30 s) from now."""
    import unetlab.checkpoint
    import unetlab.model_identity

    calls, hashed = [], unetlab.model_identity.weights_sha256

    def counted(model, **kw):
        calls.append(kw)
        return hashed(model, **kw)

    for module in (unetlab.checkpoint, unetlab.model_identity):
        monkeypatch.setattr(module, "weights_sha256", counted)
    return calls


def test_only_a_net_passed_to_evaluate_model_has_its_weights_hashed(tmp_path, monkeypatch):
    """load_model hashed the weights it loaded (the paper net's: 0.37 s of a one-file predict's
    0.5 s; summary, export, napari too) and evaluate --checkpoint twice, to name the file it
    names anyway: only evaluate_model(net) hashes them, to tell a net changed since."""
    data, ckpt, path = _data(tmp_path / "d", 0), tmp_path / "m.pt", tmp_path / "r.json"
    save_model(ckpt, _model(0))
    calls = _hashes_counted(monkeypatch)
    net = load_model(ckpt)
    argv = ["evaluate", "--checkpoint", str(ckpt), "--data", str(data), "--json", str(path)]
    assert main([*argv, "--device", "cpu", "--no-progress"]) == 0
    assert evaluate_model(ckpt, data, progress=False).source["checkpoint"] == str(ckpt)
    assert calls == []
    assert evaluate_model(net, data, progress=False).source["checkpoint"] == str(ckpt)
    assert calls


def test_a_loaded_model_whose_file_was_only_touched_is_still_its_checkpoint(tmp_path, capsys):
    """A file's time changed, its bytes not (touch, cp -p back, git checkout): the net loaded
    from it was refused as another model, the command's report named a model given in memory;
    a file given other bytes with the same weights (saved again) is the net's too."""
    data, ckpt, path = _data(tmp_path / "d", 0), tmp_path / "m.pt", tmp_path / "r.json"
    save_model(ckpt, _model(0))
    net = load_model(ckpt)
    evaluate_model(net, data, progress=False).write_json(path)
    os.utime(ckpt, ns=(1, 1))
    again = evaluate_model(net, data, progress=False)
    assert again.source["checkpoint"] == str(ckpt) and "weights_sha256" not in again.source
    again.write_json(path)  # its own report
    argv = ["evaluate", "--checkpoint", str(ckpt), "--data", str(data), "--json", str(path)]
    assert main([*argv, "--device", "cpu", "--no-progress"]) == 0
    assert "model given in memory" not in capsys.readouterr().out
    save_model(ckpt, load_model(ckpt), overwrite=True)
    assert evaluate_model(net, data, progress=False).source["checkpoint"] == str(ckpt)
    from unetlab.checkpoint import file_weights_sha256  # s58: the file's, read unbuilt

    assert file_weights_sha256(ckpt) == weights_sha256(load_model(ckpt))
    save_model(ckpt, _model(0).to(torch.bfloat16), overwrite=True)  # read as float32
    assert evaluate_model(load_model(ckpt), data, progress=False).source["checkpoint"] == str(ckpt)


def test_a_compiled_loaded_model_is_its_checkpoint(tmp_path):
    """torch.compile(load_model(p)) was named by its weights (its state's names prefixed
    "_orig_mod."), another scoring than the net it wraps: it is the net's, its file's."""
    data, ckpt, path = _data(tmp_path / "d", 0), tmp_path / "m.pt", tmp_path / "r.json"
    save_model(ckpt, _model(0))
    net = load_model(ckpt)
    evaluate_model(net, data, progress=False).write_json(path)
    compiled = evaluate_model(torch.compile(net, backend="eager"), data, progress=False)
    assert compiled.source["checkpoint"] == str(ckpt) and "weights_sha256" not in compiled.source
    compiled.write_json(path)  # the same scoring


def test_predictions_made_again_by_another_model_are_another_report(tmp_path):
    """--pred's report keeps the model in ``predicted_by``: the same folder predicted again
    by another checkpoint was taken for the same evaluation and replaced the report."""
    from unetlab.inference.folders import predict_folder

    data = _data(tmp_path / "d", 0)
    pred, ckpt = tmp_path / "pred", tmp_path / "m.pt"

    def report():
        return evaluate_predictions(pred, data / "masks", label_values=[0, 255])

    save_model(ckpt, _model(0))
    predict_folder(load_model(ckpt), data / "images", pred)
    path = report().write_json(tmp_path / "r.json")
    report().write_json(path)  # the same model's again
    save_model(ckpt, _model(1), overwrite=True)
    predict_folder(load_model(ckpt), data / "images", pred, overwrite=True)
    with pytest.raises(OutputError, match=r"\(of another model than now\)"):
        report().write_json(path)


def test_another_checkpoint_at_the_same_path_is_refused_before_scoring(tmp_path, capsys):
    """A changed checkpoint at the same path was refused only after all the scoring (its
    table printed), and a refused run had claimed its other outputs (a --confusion folder
    made, its manifest written): both refused before, nothing made."""
    data, ckpt, report = _data(tmp_path / "d", 0), tmp_path / "m.pt", tmp_path / "r.json"
    argv = ["evaluate", "--checkpoint", str(ckpt), "--data", str(data), "--json", str(report)]
    save_model(ckpt, _model(0))
    assert main([*argv, "--device", "cpu"]) == 0
    save_model(ckpt, _model(1), overwrite=True)
    capsys.readouterr()
    assert main([*argv, "--confusion", str(tmp_path / "pics" / "c.png")]) == 2
    out, err = capsys.readouterr()
    assert "(of another model than now)" in err and "mIoU" not in out
    assert not (tmp_path / "pics").exists()


def test_a_run_refused_over_an_earlier_report_claims_nothing(tmp_path, capsys):
    """The refusal came after the outputs were claimed: a --confusion folder was made and
    its manifest given a pending line by a run that wrote nothing."""
    gt, report = tmp_path / "gt", tmp_path / "r.json"
    write_png(gt / "a.png", GT)
    write_png(tmp_path / "p1" / "a.png", (GT == 255).astype(np.uint8))
    shutil.copytree(tmp_path / "p1", tmp_path / "p2")
    assert main(_pred_argv(tmp_path / "p1", gt, report)) == 0
    argv = [*_pred_argv(tmp_path / "p2", gt, report), "--confusion", str(tmp_path / "pics/c.png")]
    assert main(argv) == 2
    assert "holds the report of" in capsys.readouterr().err
    assert not (tmp_path / "pics").exists()


def _two_predictions(tmp_path):
    """A truth folder and two prediction folders of it, scored differently."""
    gt = tmp_path / "gt"
    write_png(gt / "a.png", GT)
    for folder, value in (("a", 1), ("b", 0)):
        write_png(tmp_path / folder / "a.png", (GT == 255).astype(np.uint8) * value)
    return gt, tmp_path / "a", tmp_path / "b"


def test_confusion_of_other_predictions_is_kept_without_overwrite(tmp_path, capsys):
    """--confusion without --json replaced evaluate's own picture of other predictions (the
    PNG recorded nothing of what it scored); the same evaluation again replaces its own."""
    gt, a, b = _two_predictions(tmp_path)
    png = tmp_path / "c.png"
    argv = ["--gt", str(gt), "--label-values", "0", "255", "--confusion", str(png)]
    assert main(["evaluate", "--pred", str(a), *argv]) == 0
    kept = png.read_bytes()
    assert main(["evaluate", "--pred", str(a), *argv]) == 0  # its own: replaced
    capsys.readouterr()
    assert main(["evaluate", "--pred", str(b), *argv]) == 2
    err = capsys.readouterr().err
    assert f"{png} holds the confusion matrix of the predictions {a}" in err
    assert "give --confusion another name" in err and "add --overwrite" in err
    assert png.read_bytes() == kept
    assert main(["evaluate", "--pred", str(b), *argv, "--overwrite"]) == 0
    assert png.read_bytes() != kept
    said = f"confusion matrix: {png} (replaces the confusion matrix of the predictions {a} "
    assert said in capsys.readouterr().out


def test_plot_confusion_from_python_keeps_another_scorings_picture(tmp_path):
    """Report.plot_confusion replaced the picture of other predictions; refused now in the
    Python form, as write_json refuses, and replaced with overwrite=True."""
    gt, a, b = _two_predictions(tmp_path)
    png = tmp_path / "c.png"
    evaluate_predictions(a, gt, label_values=[0, 255]).plot_confusion(png)
    kept = png.read_bytes()
    other = evaluate_predictions(b, gt, label_values=[0, 255])
    with pytest.raises(OutputError, match="pass overwrite=True to replace it") as caught:
        other.plot_confusion(png)
    assert "--" not in str(caught.value) and png.read_bytes() == kept
    other.plot_confusion(png, overwrite=True)
    other.plot_confusion(png)  # its own now
    assert png.read_bytes() != kept


@pytest.mark.parametrize("writer", ["write_csv", "write_matching_csv"])
def test_csvs_from_python_keep_another_scorings_table(tmp_path, writer):
    """Report.write_csv and write_matching_csv replaced the table of other predictions (only
    write_json refused); refused now in the Python form, replaced with overwrite=True, and
    the same scoring again replaces its own."""
    gt, a, b = _two_predictions(tmp_path)
    path = tmp_path / "t.csv"
    first = evaluate_predictions(a, gt, label_values=[0, 255])
    assert first.pair_ious
    getattr(first, writer)(path)
    getattr(first, writer)(path)  # its own
    kept = path.read_bytes()
    other = evaluate_predictions(b, gt, label_values=[0, 255])
    with pytest.raises(OutputError, match="holds the table of the predictions") as caught:
        getattr(other, writer)(path)
    assert "pass overwrite=True" in str(caught.value) and "--" not in str(caught.value)
    assert path.read_bytes() == kept
    getattr(other, writer)(path, overwrite=True)
    getattr(other, writer)(path)  # its own now
    assert path.read_bytes() != kept


def test_csvs_beside_json_of_another_scoring_refused_before_scoring(tmp_path, capsys):
    """--json other.json beside a per-image CSV of another scoring (its name from Python):
    refused in the flag form before any file is written."""
    gt, a, b = _two_predictions(tmp_path)
    table = tmp_path / "r_images.csv"
    evaluate_predictions(a, gt, label_values=[0, 255]).write_csv(table)
    kept = table.read_bytes()
    capsys.readouterr()
    assert main(_pred_argv(b, gt, tmp_path / "r.json")) == 2
    err = capsys.readouterr().err
    assert "holds the table of the predictions" in err and "give --json another name" in err
    assert table.read_bytes() == kept and not (tmp_path / "r.json").exists()


def test_a_table_listed_and_not_written_keeps_what_the_file_scored(tmp_path):
    """A run stopped after listing its CSV's scoring and before writing it leaves the
    file of the earlier scoring there: that one is still what it holds."""
    from unetlab.atomic import when_written
    from unetlab.evaluate.earlier import earlier_report, record_csv_scoring

    gt, a, b = _two_predictions(tmp_path)
    path = tmp_path / "t.csv"
    first = evaluate_predictions(a, gt, label_values=[0, 255])
    first.write_csv(path)
    other = evaluate_predictions(b, gt, label_values=[0, 255])
    record_csv_scoring(path, other.source)  # stopped here: never written
    when_written(path, None)
    assert earlier_report(path, first.source) is None
    assert str(a) in earlier_report(path, other.source)


def test_a_file_recording_no_scoring_is_replaced_only_where_listed_as_evaluates(tmp_path, capsys):
    """A picture or table recording no scoring (written before s57, or someone else's):
    one that its folder's manifest lists as evaluate's is evaluate's own (replaced); one it
    does not list is refused in one line naming the fix in each caller's form; where
    nothing is, each is written freely (s58 check: no change was needed)."""
    gt, a, b = _two_predictions(tmp_path)
    first = evaluate_predictions(a, gt, label_values=[0, 255])
    other = evaluate_predictions(b, gt, label_values=[0, 255])
    writers = {"c.png": "plot_confusion", "t.csv": "write_csv", "m.csv": "write_matching_csv"}
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for name, writer in writers.items():
        getattr(first, writer)(ours / name)  # nothing there: written freely
    write_png(ours / "c.png", GT)  # as before s57: a picture without its text chunk
    manifest = ours / ".unetlab-outputs"
    lines = manifest.read_text().splitlines(keepends=True)
    manifest.write_text("".join(line for line in lines if "{" not in line))  # keyless CSVs
    for name, writer in writers.items():
        before = (ours / name).read_bytes()
        getattr(other, writer)(ours / name)
        assert (ours / name).read_bytes() != before, name
        write_png(theirs / name, GT)
        kept = (theirs / name).read_bytes()
        with pytest.raises(OutputError, match="not written by unetlab.*pass overwrite=True"):
            getattr(other, writer)(theirs / name)
        assert (theirs / name).read_bytes() == kept
    argv = ["evaluate", "--pred", str(b), "--gt", str(gt), "--label-values", "0", "255"]
    capsys.readouterr()
    assert main([*argv, "--confusion", str(theirs / "c.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "not written by unetlab" in err and "add --overwrite" in err


def test_a_model_named_by_either_of_its_sha256s_is_the_same_model(tmp_path):
    """A report before s59 named each checkpoint that made its predictions by its bytes'
    sha256 alone; one after it by the model's too (the file's before its run's end was
    recorded). The same model written either way was refused as another (review D)."""
    from unetlab.evaluate.earlier import earlier_report

    here = {"predictions": str(tmp_path / "pred"), "ground_truth": str(tmp_path / "gt")}
    bytes_only = {"checkpoint": "m.pt", "checkpoint_sha256": "b" * 64}
    both = bytes_only | {"checkpoint_model_sha256": "a" * 64}
    other = {"checkpoint": "m.pt", "checkpoint_sha256": "c" * 64}
    path = tmp_path / "r.json"
    for old, new in ((bytes_only, both), (both, bytes_only)):
        path.write_text(json.dumps(here | {"predicted_by": [old]}))
        assert earlier_report(path, here | {"predicted_by": [new]}) is None
        refused = earlier_report(path, here | {"predicted_by": [new, other]})
        assert refused is not None and "of another model" in refused


def test_predictions_of_another_model_are_refused_before_scoring(tmp_path, capsys):
    """evaluate --pred printed its table, then refused the earlier report of the same
    folder predicted by another model: refused before, as another checkpoint is (review
    D); the same model's predictions made again are the same scoring."""
    from unetlab.inference.folders import predict_folder

    data, pred, ckpt = _data(tmp_path / "d", 0), tmp_path / "pred", tmp_path / "m.pt"
    argv = _pred_argv(pred, data / "masks", tmp_path / "r.json")
    save_model(ckpt, _model(0))
    predict_folder(load_model(ckpt), data / "images", pred)
    assert main(argv) == 0
    predict_folder(load_model(ckpt), data / "images", pred, overwrite=True)
    assert main(argv) == 0
    save_model(ckpt, _model(1), overwrite=True)
    predict_folder(load_model(ckpt), data / "images", pred, overwrite=True)
    capsys.readouterr()
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert "(of another model than now)" in err and "mIoU" not in out
