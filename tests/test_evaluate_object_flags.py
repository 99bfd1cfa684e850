"""unetlab evaluate --checkpoint scores the objects predict --instances writes with the same
--min-area / --seed-threshold / --distance-split; the flags are refused where they do
nothing."""

import json

import numpy as np
import pytest
from scipy import ndimage

import unetlab.checkpoint
from unetlab.checkpoint import save_model
from unetlab.cli import main
from unetlab.data.io import write_png
from unetlab.models import UNet

from .test_predict_objects import local_net, nuclei_image

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py: faster on a busy machine


@pytest.fixture
def nuclei(tmp_path, monkeypatch):
    """A data folder of touching bright discs and a checkpoint whose net is
    :func:`local_net` (a fixed local function of the image: real objects, some merged)."""
    net = local_net()
    net.classes, net.label_values = ["background", "boundary", "interior"], None
    save_model(tmp_path / "m.pt", net)
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: net)
    image = nuclei_image(80, 96, seed=3)
    write_png(tmp_path / "data" / "images" / "a.png", image)
    ids, _ = ndimage.label(image > 150)
    write_png(tmp_path / "data" / "masks" / "a.png", ids.astype(np.uint16))
    return tmp_path


def _predicted(root, *flags, image="a") -> int:
    out = root / f"out{len(list(root.glob('out*')))}"
    argv = ["predict", "--checkpoint", str(root / "m.pt"), "--input", str(root / "data/images")]
    assert main([*argv, "--output", str(out), "--instances", "--device", "cpu", *flags]) == 0
    return len((out / f"{image}_objects.csv").read_text().strip().splitlines()) - 1


def _evaluated(root, *flags) -> dict:
    path = root / f"e{len(list(root.glob('e*.json')))}.json"
    argv = ["evaluate", "--checkpoint", str(root / "m.pt"), "--data", str(root / "data")]
    assert main([*argv, "--json", str(path), "--device", "cpu", *flags]) == 0
    return json.loads(path.read_text())


def test_evaluate_scores_the_objects_predict_writes_with_the_same_flags(nuclei, capsys):
    split, whole = _evaluated(nuclei), _evaluated(nuclei, "--no-distance-split")
    assert split["object_options"]["distance_split"] is True
    assert whole["object_options"]["distance_split"] is False
    assert split["pred_objects"] == _predicted(nuclei)
    assert whole["pred_objects"] == _predicted(nuclei, "--no-distance-split")
    assert whole["pred_objects"] < split["pred_objects"]  # the flag changes the objects
    capsys.readouterr()
    flags = ["--min-area", "40", "--seed-threshold", "0.7", "--no-distance-split"]
    tuned = _evaluated(nuclei, *flags)
    assert "seeds where interior >= 0.7, min area 40 px" in capsys.readouterr().out
    assert tuned["object_options"]["min_area"] == 40
    assert tuned["object_options"]["seed_threshold"] == 0.7
    assert tuned["pred_objects"] == _predicted(nuclei, *flags)
    argv = ["evaluate", "--checkpoint", str(nuclei / "m.pt"), "--data", str(nuclei / "data")]
    assert main([*argv, "--watershed-seeds", "0.9", "--device", "cpu"]) == 2  # not ignored
    err = capsys.readouterr().err
    assert "grows objects from its own interior seeds: drop --watershed-seeds" in err


def test_object_flags_are_refused_with_pred_and_where_a_model_has_no_use(tmp_path, capsys):
    pred = ["evaluate", "--pred", str(tmp_path), "--gt", str(tmp_path)]
    assert main([*pred, "--no-distance-split"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("unetlab evaluate: error: --distance-split sets how a checkpoint's")
    assert "with --pred the objects come from the files" in err and err.count("\n") == 1
    assert main([*pred, "--seed-threshold", "2"]) == 2  # out of range: named first
    assert "--seed-threshold is a probability in [0, 1], not 2.0" in capsys.readouterr().err
    model = UNet(1, 2, depth=2, base_channels=4, padding="same")
    save_model(tmp_path / "two.pt", model)
    write_png(tmp_path / "data" / "images" / "a.png", np.zeros((16, 16), np.uint8))
    write_png(tmp_path / "data" / "masks" / "a.png", np.zeros((16, 16), np.uint8))
    argv = ["evaluate", "--checkpoint", str(tmp_path / "two.pt"), "--data", str(tmp_path / "data")]
    assert main([*argv, "--seed-threshold", "0.7", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "--seed-threshold sets the interior seeds of a nuclei" in err
    assert err.count("\n") == 1
    assert main([*pred, "--watershed-seeds", "0.9"]) == 2
    assert "--watershed-seeds sets how a checkpoint's" in capsys.readouterr().err


def test_min_peak_is_a_flag_of_a_nuclei_models_objects(nuclei, tmp_path, capsys):
    """--min-peak: the nuclei model's objects whose interior never peaks so high go (1.0:
    every object), it is recorded and said; out of range, one line (another model's
    refusal: tests/test_postprocess.py)."""
    capsys.readouterr()
    kept, none = _evaluated(nuclei), _evaluated(nuclei, "--min-peak", "1")
    assert "objects peaking under 0.85 dropped" in capsys.readouterr().out
    assert kept["object_options"]["min_peak"] == 0.85 and kept["pred_objects"] > 0
    assert none["object_options"]["min_peak"] == 1.0 and none["pred_objects"] == 0
    assert _predicted(nuclei, "--min-peak", "1") == 0
    pred = ["evaluate", "--pred", str(tmp_path), "--gt", str(tmp_path)]
    assert main([*pred, "--min-peak", "2"]) == 2
    assert "--min-peak is a probability in [0, 1], not 2.0" in capsys.readouterr().err


def test_a_semantic_models_object_flags_are_predicts(tmp_path, monkeypatch, capsys):
    """--min-area, --no-fill-holes and --watershed-seeds set a two-class model's objects in
    evaluate as in predict --instances (they were refused: audit s33 readme3 1)."""
    from .test_evaluate_predict_objects import _folder, cell_net

    _folder(tmp_path, cell_net(), monkeypatch)
    flags = ["--min-area", "40", "--no-fill-holes", "--watershed-seeds", "0.9"]
    capsys.readouterr()
    tuned = _evaluated(tmp_path, *flags)
    line = "objects: semantic mode, background class 0, watershed seeds > 0.9, holes kept out"
    assert line in capsys.readouterr().out
    assert tuned["object_options"]["min_area"] == 40
    assert tuned["object_options"]["fill_holes"] is False
    assert tuned["object_options"]["watershed_seeds"] == 0.9
    predicted = sum(_predicted(tmp_path, *flags, image=n) for n in ("a", "b"))
    assert tuned["pred_objects"] == predicted


def test_a_three_class_models_object_flags_need_object_scores(tmp_path, capsys):
    """A model of more than two classes gets no object scores unless asked: its object
    flags (note33: silently unused) are refused in one line naming --object-scores, as
    predict refuses them without --instances; with --object-scores they set the objects."""
    from unetlab.errors import UnetlabError
    from unetlab.evaluate import evaluate_model
    from unetlab.inference.objects import ObjectOptions

    model = UNet(1, 3, depth=2, base_channels=4, padding="same").eval()
    model.classes = ["background", "grain", "pore"]
    save_model(tmp_path / "three.pt", model)
    image = np.random.default_rng(0).integers(0, 255, (16, 16), dtype=np.uint8)
    write_png(tmp_path / "data" / "images" / "a.png", image)
    write_png(tmp_path / "data" / "masks" / "a.png", (image // 100).astype(np.uint8))
    argv = ["evaluate", "--checkpoint", str(tmp_path / "three.pt"), "--data"]
    argv += [str(tmp_path / "data"), "--device", "cpu"]
    assert main([*argv, "--min-area", "5"]) == 2
    err = capsys.readouterr().err
    assert "--min-area would change nothing: a model of 3 classes gets no object scores" in err
    assert "add --object-scores, or drop --min-area" in err and err.count("\n") == 1
    assert main(argv) == 0  # no flag: the pixel figures, as before
    path = tmp_path / "e.json"
    assert main([*argv, "--min-area", "5", "--object-scores", "--json", str(path)]) == 0
    assert json.loads(path.read_text())["object_options"]["min_area"] == 5
    options = ObjectOptions.for_model(model, min_area=5)
    with pytest.raises(UnetlabError, match="object_options would change nothing.*objects=True"):
        evaluate_model(model, tmp_path / "data", object_options=options)
    report = evaluate_model(model, tmp_path / "data", object_options=options, objects=True)
    assert report.source["object_options"]["min_area"] == 5


def test_evaluate_scale_scores_what_predict_scale_writes(nuclei, capsys):
    """``evaluate --checkpoint --scale F`` predicts as ``predict --scale F`` (s39 rescale)."""
    scaled = _evaluated(nuclei, "--scale", "2")["pred_objects"]
    assert scaled == _predicted(nuclei, "--scale", "2")
    assert scaled != _evaluated(nuclei)["pred_objects"], scaled  # the flag is not ignored
    # auto: each file's pixel size (here --pixel-size) over the training one, as predict
    flags = ("--scale", "auto", "--pixel-size", "0.5")
    assert _evaluated(nuclei, *flags)["pred_objects"] == _predicted(nuclei, *flags)
    argv = ["evaluate", "--checkpoint", str(nuclei / "m.pt"), "--data", str(nuclei / "data")]
    capsys.readouterr()
    assert main([*argv, "--scale", "big"]) != 0  # one line naming the forms
    assert "--scale must be a factor from 1/16 to 16" in capsys.readouterr().err
