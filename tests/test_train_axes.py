"""Stacks and masks saved by ImageJ without axes (tifffile reads them as CYX: 5 planes are one
image of 5 channels): a mask of such channels is refused naming what it is and the fix, the
axes a user gives."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unetlab.cli import main
from unetlab.data.io import read_stack
from unetlab.errors import ImageReadError, first_line


def _stacks(folder, **metadata) -> None:
    """Two 5-plane stacks of 32x32 and their masks under ``folder`` (images/, masks/), saved
    as ImageJ TIFFs without axes, or with the ``metadata`` given (``axes='ZYX'``)."""
    rng = np.random.default_rng(0)
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
    how = {"metadata": metadata} if metadata else {"imagej": True}
    for stem in ("a", "b"):
        image = rng.integers(0, 255, (5, 32, 32), dtype=np.uint8)
        tifffile.imwrite(folder / "images" / f"{stem}.tif", image, **how)
        tifffile.imwrite(folder / "masks" / f"{stem}.tif", (image > 128).astype(np.uint8), **how)


@pytest.fixture
def bare(tmp_path):
    _stacks(tmp_path / "bare")
    return tmp_path / "bare"


def test_train_check_says_a_mask_s_pages_read_as_channels_and_names_axes(bare, capsys):
    assert main(["train", "--data", str(bare), "--check", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "colour (RGB)" not in err
    assert "read as one image of 5 channels" in err and "--axes ZYX" in err


@pytest.mark.parametrize("planes", [2, 5])
def test_a_mask_of_other_than_3_or_4_channels_is_refused(tmp_path, planes):
    """2 channels raised IndexError; 5 planes whose first 3 are equal (empty: an object in
    the last planes only) were read as the first plane alone, the others lost unsaid."""
    mask = np.zeros((planes, 8, 8), np.uint8)
    mask[-1, 2:4, 2:4] = 1
    tifffile.imwrite(tmp_path / "m.tif", mask, imagej=True)
    with pytest.raises(ImageReadError, match=f"one image of {planes} channels"):
        read_stack(tmp_path / "m.tif", mask=True)


def test_a_mask_s_channels_fix_names_the_axes_as_its_caller_gives_them(tmp_path):
    """Python is told cfg.data.axes and evaluate_model's axes=, the command line --axes (it
    was told both, the command's flags first, in one line: s56)."""
    tifffile.imwrite(tmp_path / "m.tif", np.zeros((5, 8, 8), np.uint8), imagej=True)
    with pytest.raises(ImageReadError) as caught:
        read_stack(tmp_path / "m.tif", mask=True)
    python, cli = str(caught.value), first_line(caught.value, cli=True)
    assert "give the axes, e.g. cfg.data.axes = 'ZYX' to fit or evaluate_model(..., " in python
    assert "--axes" not in python and "unetlab train" not in python
    assert "e.g. unetlab train --axes ZYX (data.axes: ZYX) or evaluate --axes ZYX (TYX" in cli


@pytest.fixture
def zyx(tmp_path):
    _stacks(tmp_path / "zyx", axes="ZYX")
    return tmp_path / "zyx"


def _facts(pairs, root) -> list[dict]:
    """What the fingerprint measured of ``pairs``, the paths relative to ``root``."""
    from dataclasses import asdict

    from unetlab.data.fingerprint import fingerprint

    facts = [asdict(p) for p in fingerprint(pairs).pairs]
    return [f | {"image": None, "name": f["name"].replace(str(root), "")} for f in facts]


def test_data_axes_zyx_reads_bare_stacks_as_the_same_stacks_saved_with_them(bare, zyx):
    """The pairs, their fingerprint and the plan of the ImageJ stacks without axes given
    data.axes ZYX are those of the same stacks saved with axes ZYX."""
    from unetlab.config import load_config
    from unetlab.data.pairs import find_pairs
    from unetlab.plan import plan_training

    given = find_pairs(bare, axes="ZYX")
    assert [(p.name, p.pages) for p in given] == [(p.name, p.pages) for p in find_pairs(zyx)]
    assert _facts(given, bare) == _facts(find_pairs(zyx), zyx)
    planned = []
    for root, more in ((bare, ["data.axes=zyx"]), (zyx, [])):
        cfg, plan = plan_training(load_config(None, [f"data.root={root}", *more]))
        settings = cfg.to_dict()
        settings["data"] = {k: v for k, v in settings["data"].items() if k not in ("root", "axes")}
        planned.append((settings, [(c.key, c.value) for c in plan.choices], plan.fingerprint))
    assert planned[0] == planned[1]


TINY = ["--epochs", "1", "--no-progress"]
TINY += [
    f"--set={kv}"
    for kv in (
        "model.depth=2",
        "model.base_channels=2",
        "data.tile_size=16",
        "data.tiles_per_epoch=2",
        "train.batch_size=1",
        "train.label_offset=none",
        "train.device=cpu",
    )
]


def test_train_axes_zyx_checks_trains_and_records_them(bare, tmp_path):
    import yaml

    from unetlab.checkpoint import load_checkpoint

    run = tmp_path / "run"
    args = ["train", "--data", str(bare), "--axes", "ZYX", "--run-dir", str(run), *TINY]
    assert main([*args, "--check"]) == 0
    assert not run.exists()
    assert main(args) == 0
    assert yaml.safe_load((run / "config.yaml").read_text())["data"]["axes"] == "ZYX"
    split = yaml.safe_load((run / "split.json").read_text())  # JSON is YAML
    assert sorted(e["pages"] for side in ("train", "val") for e in split[side]) == [5] * 10
    record = load_checkpoint(run / "checkpoints" / "last.pt")
    assert record["train_config"]["data"]["axes"] == "ZYX"
    # resumed with the run's own config: its stacks read with the axes it recorded
    assert main(["train", "--run-dir", str(run), "--resume", "--epochs", "2", "--no-progress"]) == 0


@pytest.mark.parametrize(
    ("flag", "said"),
    [
        (["--axes", "ZXY"], "--axes ZXY puts X before Y"),
        (["--axes", "ZZYX"], "--axes ZZYX: give each axis once"),
        (["--set", "data.axes=ZYXW"], "--set data.axes=ZYXW: give each axis once"),
        (["--set", "data.axes=XYC"], "--set data.axes=XYC puts X before Y"),
    ],
)
def test_a_bad_axes_value_is_one_line_and_no_run_folder(bare, tmp_path, capsys, flag, said):
    run = tmp_path / "run"
    assert main(["train", "--data", str(bare), "--run-dir", str(run), *flag, *TINY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0], err
    assert not run.exists()


def test_a_bad_data_axes_from_python_names_the_key_as_python_assigns_it():
    """DataSection(axes='XYC') was told to give --axes YXC, a flag it has not (s56); the
    command line says --set data.axes=XYC ... give --set data.axes=YXC, one form (it said
    data.axes XYC ... give --axes YXC, s57; train's own --axes is checked before: above)."""
    from unetlab.config import DataSection
    from unetlab.errors import UnetlabError

    with pytest.raises(UnetlabError) as caught:
        DataSection(axes="XYC")
    assert str(caught.value).startswith("cfg.data.axes = 'XYC' puts X before Y")
    assert str(caught.value).endswith("give cfg.data.axes = 'YXC'")
    assert first_line(caught.value, cli=True).startswith("--set data.axes=XYC puts X before Y")
    assert first_line(caught.value, cli=True).endswith("give --set data.axes=YXC")


@pytest.mark.parametrize("overrides", [["data.axes=XYC"], ["data.axes=XYC", "data.axes=YX"]])
def test_a_bad_data_axes_override_from_python_names_the_overrides_argument(overrides):
    """load_config(None, ['data.axes=XYC']) was told "cfg.data.axes = 'XYC' ... give
    cfg.data.axes = 'YXC'", an attribute it never set (s58): its overrides argument, also
    for a value a later override replaces; the command line's --set as its cli."""
    from unetlab.config import load_config
    from unetlab.errors import UnetlabError

    with pytest.raises(UnetlabError) as caught:
        load_config(None, overrides)
    assert str(caught.value).startswith("overrides=['data.axes=XYC'] puts X before Y")
    assert str(caught.value).endswith("give overrides=['data.axes=YXC']")
    assert first_line(caught.value, cli=True).startswith("--set data.axes=XYC puts X before Y")
    assert first_line(caught.value, cli=True).endswith("give --set data.axes=YXC")


def test_a_config_files_bad_axes_name_the_files_key(bare, tmp_path, capsys):
    """A file's data: axes: XYC was told to give --set data.axes=YXC, a flag never typed
    (review s57): named as the file writes it, as the file's other errors are, to both
    callers; --set over the file keeps its --set form (the parametrised test above)."""
    from unetlab import load_config
    from unetlab.errors import UnetlabError

    config = tmp_path / "c.yaml"
    config.write_text("data:\n  axes: XYC\n")
    said = f"{config}: axes: XYC under data: puts X before Y"
    with pytest.raises(UnetlabError) as caught:
        load_config(config)
    for cli in (False, True):
        assert first_line(caught.value, cli=cli).startswith(said)
        assert first_line(caught.value, cli=cli).endswith("give axes: YXC under data:")
    run = tmp_path / "run"
    given = ["--config", str(config), "--data", str(bare), "--run-dir", str(run), *TINY]
    assert main(["train", *given]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0] and "--set" not in err[0], err
    assert not run.exists()


def test_folds_read_the_stacks_with_the_axes(bare, tmp_path):
    """Each fold trains on one stack's 5 planes and validates on the other's (without the
    axes the folds were drawn from 1-page pairs: each fold trained on a plane of each)."""
    import json

    run = tmp_path / "cv"
    argv = ["train", "--data", str(bare), "--axes", "ZYX", "--folds", "2", "--run-dir", str(run)]
    assert main([*argv, *TINY]) == 0
    for fold in ("fold_1", "fold_2"):
        split = json.loads((run / fold / "split.json").read_text())
        pages = [(e["page"], e["pages"]) for side in ("train", "val") for e in split[side]]
        assert sorted(pages) == sorted([(p, 5) for p in range(5)] * 2)
