"""fit_folds' refusals in the Python API's words (k, cfg.data.seed, overwrite=True, run_dir),
the command line's (--folds, --overwrite, --run-dir) on the command line (reviewC s53)."""

import pytest

import unetlab.data.folds
import unetlab.train.folds
from unetlab.errors import DatasetError, UnetlabError, first_line


def _one(image: str) -> dict:
    return {"image": image, "page": 0, "image_sha256": "a", "mask_sha256": "b"}


def test_folds_resumed_on_other_images_are_refused_in_the_callers_words(tmp_path, monkeypatch):
    drawn = {"train": [_one("1.png")], "val": [_one("2.png")]}
    now = {"train": [_one("1.png")], "val": [_one("3.png")]}
    monkeypatch.setattr(unetlab.train.folds, "read_split", lambda path: drawn)
    monkeypatch.setattr(unetlab.train.folds, "split_record", lambda root, train, val: now)
    with pytest.raises(UnetlabError) as info:
        unetlab.train.folds._check_drawn(tmp_path / "cv", "data", [([], [])])
    said = f"{tmp_path / 'cv' / 'fold_1'} trained on other images than fold 1 of data is now"
    assert str(info.value) == (
        f"{said} (images added or removed, or another k or cfg.data.seed): resume with the "
        "data and k it started with, or start again (overwrite=True, or another run_dir)"
    )
    assert first_line(info.value, cli=True) == (
        f"{said} (images added or removed, or another --folds or data.seed): resume with the "
        "data and --folds it started with, or start again (--overwrite, or another --run-dir)"
    )


def test_folds_of_no_labelled_pixel_are_refused_in_the_callers_words(monkeypatch):
    monkeypatch.setattr(unetlab.data.folds, "_labelled", lambda *a: False)
    monkeypatch.setattr(unetlab.data.folds, "describe_pairs", lambda pairs: "1.png")
    with pytest.raises(DatasetError) as info:
        unetlab.data.folds.refuse_unlabelled_folds([(["t"], ["v"])], 0)
    assert str(info.value).endswith("draw other folds (another cfg.data.seed, or another k)")
    cli = first_line(info.value, cli=True)
    assert cli.endswith("draw other folds (another data.seed, or other --folds)")
