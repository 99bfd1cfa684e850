"""A Report's files from Python follow evaluate --json's rule (audit s48 apiwalk): never an
input, a file unetlab did not write only with overwrite=True, its own earlier file again."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from unetlab.data.io import write_png
from unetlab.errors import OutputError
from unetlab.evaluate import evaluate_predictions

GT = np.full((6, 8), 255, np.uint8)
GT[:, 3] = 0


@pytest.fixture
def scored(tmp_path):
    """A report of one perfect prediction, and its ground-truth folder."""
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    write_png(gt / "a.png", GT)
    write_png(pred / "a.png", (GT == 255).astype(np.uint8))
    return evaluate_predictions(pred, gt, label_values=[0, 255]), gt


WRITERS = ["write_json", "write_csv", "write_matching_csv", "plot_confusion"]


@pytest.mark.parametrize("method", WRITERS)
def test_a_file_unetlab_did_not_write_is_kept_unless_overwrite(scored, tmp_path, method):
    report, _ = scored
    suffix = ".png" if method == "plot_confusion" else ".json" if "json" in method else ".csv"
    path = tmp_path / f"mine{suffix}"
    path.write_bytes(b"mine")
    with pytest.raises(OutputError, match=r"not written by unetlab.*overwrite=True"):
        getattr(report, method)(path)
    assert path.read_bytes() == b"mine"
    assert getattr(report, method)(path, overwrite=True) == path
    assert path.read_bytes() != b"mine"
    assert getattr(report, method)(path) == path  # its own file: replaced again


@pytest.mark.parametrize("method", WRITERS)
def test_an_input_mask_is_never_replaced(scored, method):
    report, gt = scored
    before = (gt / "a.png").read_bytes()
    with pytest.raises(OutputError):
        getattr(report, method)(gt / "a.png", overwrite=True)
    assert (gt / "a.png").read_bytes() == before


def test_a_json_report_never_replaces_an_image_by_a_typo(scored, tmp_path):
    report, _ = scored
    image = tmp_path / "photo.png"
    write_png(image, GT)
    before = image.read_bytes()
    with pytest.raises(OutputError, match="JSON"):
        report.write_json(image, overwrite=True)
    assert image.read_bytes() == before


def test_a_new_picture_among_the_masks_scored_is_refused(scored):
    """It would be read as a mask next time (evaluate --confusion gt/c.png is refused)."""
    report, gt = scored
    with pytest.raises(OutputError, match="reads as data"):
        report.plot_confusion(gt / "confusion.png")
    assert not (gt / "confusion.png").exists()
    with pytest.raises(OutputError, match="r.json: this call would write into"):
        report.write_json(gt / "r.json")  # not "evaluate would write" to Python (s56)


def test_the_predictions_record_is_never_replaced_from_python(scored, tmp_path):
    """The command refused --json pred/predict.json --overwrite (the predictions' record, which
    evaluate reads); Report.write_json(..., overwrite=True) replaced it (s49 claims)."""
    report, _ = scored
    record = tmp_path / "pred" / "predict.json"
    record.write_text('{"records": {}}')
    for method in WRITERS:
        with pytest.raises(OutputError, match=f"would write over its input {record}"):
            getattr(report, method)(record, overwrite=True)
    assert record.read_text() == '{"records": {}}'


def test_another_commands_record_is_never_replaced_overwrite_or_not(scored, tmp_path, capsys):
    """predict.json that unetlab predict wrote in another folder than the one scored: the
    command and Python replaced it with --overwrite / overwrite=True (s49 claims)."""
    from unetlab.cli import main
    from unetlab.manifest import record

    report, gt = scored
    other = tmp_path / "other"
    other.mkdir()
    (other / "predict.json").write_text('{"records": {}}')
    record(other, ["predict.json"], command="predict")
    said = f"{other / 'predict.json'} is unetlab predict's record of the outputs in {other}"
    with pytest.raises(OutputError) as err:
        report.write_json(other / "predict.json", overwrite=True)
    assert "and this call never replaces it" in str(err.value)  # unetlab evaluate (s57)
    # a notebook may never have run unetlab predict: the calls that wrote it too (s58)
    python = f"{other / 'predict.json'} is the record unetlab's predict (predict_folder, "
    assert str(err.value).startswith(python), err.value
    assert f"or the command line) keeps of the outputs in {other} " in str(err.value)
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(gt)]
    argv += ["--label-values", "0", "255", "--overwrite"]
    assert main([*argv, "--json", str(other / "predict.json")]) == 2
    err = capsys.readouterr().err
    assert said in err and "and unetlab evaluate never replaces it" in err
    assert (other / "predict.json").read_text() == '{"records": {}}'


def test_the_scored_predictions_record_predict_wrote_is_refused_as_predicts_record(
    scored, tmp_path, capsys
):
    """The predictions' own predict.json that predict's manifest lists was refused as an
    input ("would write over its input"), predict.json elsewhere as predict's record: one
    line for both (s49 tidy), from Python and the command."""
    from unetlab.cli import main
    from unetlab.manifest import record as list_file

    report, gt = scored
    pred = tmp_path / "pred"
    (pred / "predict.json").write_text('{"records": {}}')
    list_file(pred, ["predict.json"], command="predict")
    said = f"{pred / 'predict.json'} is unetlab predict's record of the outputs in {pred}"
    python = said.replace("is unetlab predict's record", "is the record unetlab's predict")
    with pytest.raises(OutputError, match=re.escape(python.split(" of the outputs")[0])):
        report.write_json(pred / "predict.json", overwrite=True)
    argv = ["evaluate", "--pred", str(pred), "--gt", str(gt), "--label-values", "0", "255"]
    assert main([*argv, "--overwrite", "--json", str(pred / "predict.json")]) == 2
    assert said in capsys.readouterr().err
    assert (pred / "predict.json").read_text() == '{"records": {}}'


def test_the_command_claims_each_output_once(scored, tmp_path, monkeypatch):
    """evaluate --json claimed each of its four files up front, then again in each writer
    (five claims, s49 claims): now once, before any scoring."""
    import unetlab.evaluate.report as report_module
    import unetlab.outputs as outputs
    from unetlab.cli import main

    claimed = []

    def counted(paths, **kwargs):
        claimed.extend(Path(p).name for p in paths)
        return real(paths, **kwargs)

    real = outputs.claim_files
    monkeypatch.setattr(outputs, "claim_files", counted)
    monkeypatch.setattr(report_module, "claim_files", counted)
    _, gt = scored
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(gt)]
    argv += ["--label-values", "0", "255", "--json", str(tmp_path / "r.json")]
    assert main(argv) == 0
    names = ["r.json", "r_confusion.png", "r_images.csv", "r_matching.csv"]
    assert sorted(claimed) == names  # no r_cases.csv: NIfTI volumes' only
    assert all((tmp_path / name).is_file() for name in names)
    assert not (tmp_path / "r_cases.csv").exists()


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_png_sets_own_cases_csv_is_no_claim_of_evaluate(scored, tmp_path, overwrite):
    """s72 review: evaluate --json e.json of PNGs refused the user's own e_cases.csv (exit 2,
    "not written by unetlab"; --overwrite then kept it): it writes one of NIfTI cases only."""
    from unetlab.cli import main

    mine = tmp_path / "e_cases.csv"
    mine.write_text("case,note\nmine,kept\n")
    _, gt = scored
    argv = ["evaluate", "--pred", str(tmp_path / "pred"), "--gt", str(gt), *overwrite]
    assert main([*argv, "--label-values", "0", "255", "--json", str(tmp_path / "e.json")]) == 0
    assert mine.read_text() == "case,note\nmine,kept\n"


def test_a_claim_checks_the_records_and_reads_the_manifest_once(scored, tmp_path, monkeypatch):
    """claim_outputs checked each path against the records twice (its own check, then
    claim_files' again), reading the folder's manifest for each: once each now, the record
    still refused before the inputs (the test above); the manifest read once in all (s59)."""
    import unetlab.outputs as outputs
    from unetlab.evaluate.report import claim_outputs

    report, _ = scored
    checks, reads = [], []
    check, read = outputs._refuse_record, outputs.writers_of
    monkeypatch.setattr(outputs, "_refuse_record", lambda *a: checks.append(a) or check(*a))
    monkeypatch.setattr(outputs, "writers_of", lambda f: reads.append(f) or read(f))
    paths = [tmp_path / "r.json", tmp_path / "r.csv"]
    claim_outputs(paths, report.source, overwrite=False)
    assert [c[0] for c in checks] == paths
    # once for the checks and the pending lines alike (s59: each listed pending read it again)
    assert reads.count(tmp_path) == 1


def test_a_path_written_once_is_claimed_again_next_time(scored, tmp_path):
    """Once a Report had written a path it wrote there again with no check at all: predict's
    record put there since was replaced, a user's file put there since too, without
    overwrite (s49 review1 cl2/cl3)."""
    from unetlab.manifest import record

    report, _ = scored
    out = tmp_path / "out"
    report.write_csv(out / "r.csv")
    shutil.rmtree(out)  # evaluate's file and record gone: a user's file there since
    out.mkdir()
    (out / "r.csv").write_text("a user's table\n")
    with pytest.raises(OutputError, match="not written by unetlab"):
        report.write_csv(out / "r.csv")
    assert (out / "r.csv").read_text() == "a user's table\n"
    report.write_json(out / "predict.json")
    (out / "predict.json").write_text('{"records": {}}')
    record(out, ["predict.json"], command="predict")
    with pytest.raises(OutputError, match=r"is the record unetlab's predict \(predict_folder"):
        report.write_json(out / "predict.json", overwrite=True)
    assert (out / "predict.json").read_text() == '{"records": {}}'
