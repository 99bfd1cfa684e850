"""--axes (data.axes) over a folder mixing TIFF stacks and PNG pairs: the axes are the
TIFFs', the PNGs read as they are (each PNG pair was refused, "applies to TIFF files; drop
it", so no such folder could be used with --axes); a folder of PNGs only is still refused,
in one line."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from tests.test_train_axes import TINY, _stacks
from unetlab import UNet
from unetlab.cli import main
from unetlab.data.io import DATA_AXES
from unetlab.data.pairs import PairReader, find_pairs
from unetlab.errors import ImageReadError, UnetlabError


def _png_pair(folder, stem: str = "p") -> None:
    image = np.random.default_rng(1).integers(0, 255, (32, 32), dtype=np.uint8)
    Image.fromarray(image).save(folder / "images" / f"{stem}.png")
    Image.fromarray((image > 128).astype(np.uint8)).save(folder / "masks" / f"{stem}.png")


@pytest.fixture
def mixed(tmp_path):
    _stacks(tmp_path / "mixed")  # a.tif, b.tif: 5 planes saved by ImageJ without axes
    _png_pair(tmp_path / "mixed")
    return tmp_path / "mixed"


def test_axes_read_the_tiffs_and_the_pngs_as_they_are(mixed):
    pairs = find_pairs(mixed, axes="ZYX")
    pages = {p.image.name: p.pages for p in pairs}
    assert pages == {"a.tif": 5, "b.tif": 5, "p.png": 1}
    read = PairReader(axes="ZYX")  # evaluate's reader: the axes given to it too
    image, mask = read(next(p for p in pairs if p.image.suffix == ".png"))
    assert image.shape[-2:] == mask.shape[-2:] == (32, 32)


def test_train_takes_a_mixed_folder_with_axes(mixed, tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--data", str(mixed), "--axes", "ZYX", "--run-dir", str(run), *TINY]) == 0


def test_evaluate_takes_a_mixed_folder_with_axes(mixed, tmp_path):
    from unetlab.evaluate import evaluate_model

    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    report = evaluate_model(net, mixed, axes="ZYX")
    assert sorted(r["name"] for r in report.images if r["name"].startswith("p")) == ["p"]
    assert len(report.images) == 11  # 5 + 5 planes and the PNG


def test_a_folder_of_pngs_only_given_axes_is_refused_in_one_line(tmp_path, capsys):
    root = tmp_path / "png"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    _png_pair(root, "p")
    _png_pair(root, "q")
    with pytest.raises(ImageReadError, match="applies to TIFF files and none of its images"):
        find_pairs(root, axes="ZYX")
    assert main(["train", "--data", str(root), "--axes", "ZYX", "--check", *TINY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none of its images is one; drop it" in err[0], err


def test_axes_given_to_pngs_name_the_setting_each_caller_gave(tmp_path):
    """plan_training and fit were told ``axes= applies ...; drop it``, a keyword they lack
    (s56 review): a training's data names cfg.data.axes, evaluate its keyword."""
    from unetlab import plan_training, split_pairs
    from unetlab.config import Config, DataSection
    from unetlab.evaluate import evaluate_model

    root = tmp_path / "png"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    _png_pair(root, "p")
    _png_pair(root, "q")
    said = f"{root}: {{}} applies to TIFF files and none of its images is one; {{}}"
    with pytest.raises(ImageReadError) as err:
        plan_training(Config(data=DataSection(root=str(root), axes="ZYX")))
    assert str(err.value) == said.format("cfg.data.axes", "set cfg.data.axes = None")
    assert err.value.cli == said.format("--axes", "drop it")
    with pytest.raises(ImageReadError) as err:
        split_pairs(root, axes="ZYX")  # its own keyword (s56 review F2)
    assert str(err.value) == said.format("axes=", "drop it")
    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    with pytest.raises(ImageReadError) as err:
        evaluate_model(net, root, axes="ZYX")
    assert str(err.value) == said.format("axes=", "drop it")


def test_axes_that_do_not_fit_a_training_s_tiffs_name_the_setting_each_caller_gave(
    tmp_path, capsys
):
    """2-D TIFFs read with ZYX: plan_training was told "axes='ZYX' names 3 axes", a keyword
    it lacks (s56 review F2); it names cfg.data.axes, split_pairs its axes=, train --axes."""
    from unetlab import plan_training, split_pairs
    from unetlab.config import Config, DataSection

    root = tmp_path / "d"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for stem in ("a", "b"):
        tifffile.imwrite(root / "images" / f"{stem}.tif", np.zeros((24, 20), np.uint16))
        tifffile.imwrite(root / "masks" / f"{stem}.tif", np.zeros((24, 20), np.uint8))
    said = "images/a.tif: {} names 3 axes, but the file's image has 2 (shape (24, 20))"
    with pytest.raises(UnetlabError) as err:
        plan_training(Config(data=DataSection(root=str(root), axes="ZYX")))
    assert said.format("cfg.data.axes = 'ZYX'") in str(err.value)
    with pytest.raises(UnetlabError) as err:
        split_pairs(root, axes="ZYX")
    assert said.format("axes='ZYX'") in str(err.value)
    assert main(["train", "--data", str(root), "--axes", "ZYX", "--check", *TINY]) == 2
    assert said.format("--axes ZYX") in capsys.readouterr().err


def test_grey_planes_given_by_axes_to_a_colour_model_do_not_ask_for_channels_last(tmp_path, caplog):
    """A stack read with --axes ZYX by a 3-channel model: its grey planes are repeated, said
    without "a page of a (C, H, W) TIFF? save such images channels last", which the user's
    axes answered; a grey TIFF without --axes still asks, and a grey PNG, which has no pages,
    does not (it was asked about its "(C, H, W) TIFF")."""
    import logging

    from unetlab.inference.files import predict_file

    torch.manual_seed(0)
    net = UNet(3, 2, depth=2, base_channels=2, padding="same").eval()
    stack = np.random.default_rng(0).integers(0, 255, (3, 24, 20), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "s.tif", stack, photometric="minisblack")
    Image.fromarray(stack[0]).save(tmp_path / "g.png")
    with caplog.at_level(logging.WARNING):
        predict_file(net, tmp_path / "s.tif", tmp_path / "o", axes="ZYX")
    assert "s.tif: grey image given to a 3-channel model; its channel is repeated" in caplog.text
    assert "(C, H, W) TIFF?" not in caplog.text
    tifffile.imwrite(tmp_path / "g.tif", stack[0], photometric="minisblack")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        predict_file(net, tmp_path / "g.tif", tmp_path / "o2")
    assert "g.tif: grey image given to a 3-channel model; its channel is repeated (a page" in (
        caplog.text
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        predict_file(net, tmp_path / "g.png", tmp_path / "o3")
    assert "g.png: grey image given to a 3-channel model; its channel is repeated\n" in (
        caplog.text
    )
    assert "TIFF?" not in caplog.text


def test_evaluate_objects_3d_takes_a_mixed_folder_with_axes(tmp_path):
    """A ZYX stack and a PNG, --objects-3d --axes ZYX: the stack read by the axes, the PNG
    scored by its 2-D objects (as without --axes), not refused."""
    from tests.test_evaluate_3d_inputs import _mixed
    from tests.test_predict_objects import local_net
    from unetlab.evaluate import evaluate_model

    _mixed(tmp_path / "d")
    report = evaluate_model(local_net(), tmp_path / "d", objects_3d=True, axes="ZYX")
    rows = {row["name"]: row for row in report.images}
    assert rows["f"]["planes"] == 1 and rows["s"]["planes"] == 13


def _split_set(root, tiffs: bool) -> None:
    """train/ of ImageJ stacks without axes (or of PNG pairs: not ``tiffs``) beside a val/
    of PNG pairs only."""
    if tiffs:
        _stacks(root / "train")
    else:
        for sub in ("images", "masks"):
            (root / "train" / sub).mkdir(parents=True)
        _png_pair(root / "train", "t")
    for sub in ("images", "masks"):
        (root / "val" / sub).mkdir(parents=True)
    _png_pair(root / "val", "p")
    _png_pair(root / "val", "q")


def test_a_png_val_beside_tiff_train_takes_the_axes_as_train_does(tmp_path):
    """val/ follows train/'s rule: its PNGs read as they are, not refused as a folder of
    no TIFF (train/ holds them)."""
    from unetlab.data.datasets import split_pairs

    _split_set(tmp_path / "d", tiffs=True)
    train, val = split_pairs(tmp_path / "d", axes="ZYX")
    assert len(train) == 10 and sorted(p.image.name for p in val) == ["p.png", "q.png"]
    run = tmp_path / "run"
    argv = ["train", "--data", str(tmp_path / "d"), "--axes", "ZYX", "--run-dir", str(run)]
    assert main([*argv, *TINY]) == 0


def test_a_split_of_no_tiff_given_axes_is_refused_in_one_line(tmp_path, capsys):
    from unetlab.data.datasets import split_pairs

    _split_set(tmp_path / "d", tiffs=False)
    # the keyword its caller gave (s56 review F2: it named cfg.data.axes, which training gives)
    with pytest.raises(ImageReadError, match=r"d: axes= applies to TIFF files.*; drop it$"):
        split_pairs(tmp_path / "d", axes="ZYX")
    assert main(["train", "--data", str(tmp_path / "d"), "--axes", "ZYX", "--check", *TINY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none of its images is one; drop it" in err[0], err


def test_a_voc_split_s_png_val_beside_tiff_train_takes_the_axes(tmp_path):
    """The same in a VOC folder: val.txt naming PNGs only, train.txt TIFF stacks."""
    from unetlab.data.datasets import split_pairs

    root = tmp_path / "voc"
    _stacks(root)  # images/, masks/ renamed as VOC's
    (root / "images").rename(root / "JPEGImages")
    (root / "masks").rename(root / "SegmentationClass")
    for stem in ("p", "q"):
        image = np.random.default_rng(1).integers(0, 255, (32, 32), dtype=np.uint8)
        Image.fromarray(image).save(root / "JPEGImages" / f"{stem}.png")
        Image.fromarray((image > 128).astype(np.uint8)).save(
            root / "SegmentationClass" / f"{stem}.png"
        )
    split = root / "ImageSets" / "Segmentation"
    split.mkdir(parents=True)
    (split / "train.txt").write_text("a\nb\n")
    (split / "val.txt").write_text("p\nq\n")
    train, val = split_pairs(root, axes="ZYX")
    assert len(train) == 10 and sorted(p.image.name for p in val) == ["p.png", "q.png"]
    (split / "train.txt").write_text("p\n")
    with pytest.raises(ImageReadError, match=r"voc: axes= applies to TIFF files.*; drop it$"):
        split_pairs(root, axes="ZYX")
    with pytest.raises(ImageReadError, match=r"voc: cfg.data.axes applies .*= None$"):
        split_pairs(root, axes="ZYX", axes_setting=DATA_AXES)  # training's readers give it


def _voc_set(root, val: str) -> None:
    """A VOC folder: a.tif, b.tif (ImageJ stacks without axes) and p.png, q.png; train.txt
    names the stacks, val.txt ``val``."""
    _stacks(root)
    (root / "images").rename(root / "JPEGImages")
    (root / "masks").rename(root / "SegmentationClass")
    for stem in ("p", "q"):
        image = np.random.default_rng(1).integers(0, 255, (32, 32), dtype=np.uint8)
        Image.fromarray(image).save(root / "JPEGImages" / f"{stem}.png")
        mask = Image.fromarray((image > 128).astype(np.uint8))
        mask.save(root / "SegmentationClass" / f"{stem}.png")
    split = root / "ImageSets" / "Segmentation"
    split.mkdir(parents=True)
    (split / "train.txt").write_text("a\nb\n")
    (split / "val.txt").write_text(val)


def test_evaluate_axes_of_a_png_val_beside_tiff_train_reads_them_as_train_does(tmp_path):
    """evaluate --axes ZYX of a data set whose val/ (or VOC val.txt) holds PNGs only, beside
    TIFF stacks in train/: the PNGs scored as they are, as train reads them (it was refused:
    "none of its images is one"); a set of no TIFF is still refused."""
    from unetlab.evaluate import evaluate_model

    net = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    _split_set(tmp_path / "d", tiffs=True)
    report = evaluate_model(net, tmp_path / "d", axes="ZYX")
    assert sorted(row["name"] for row in report.images) == ["p", "q"]
    _voc_set(tmp_path / "voc", "p\nq\n")
    assert len(evaluate_model(net, tmp_path / "voc", axes="ZYX").images) == 2
    _split_set(tmp_path / "png", tiffs=False)
    with pytest.raises(ImageReadError, match="none of its images is one; drop it"):
        evaluate_model(net, tmp_path / "png", axes="ZYX")
    (tmp_path / "voc" / "ImageSets" / "Segmentation" / "train.txt").write_text("p\n")
    with pytest.raises(ImageReadError, match="none of its images is one; drop it"):
        evaluate_model(net, tmp_path / "voc", axes="ZYX")


def test_axes_given_to_one_png_name_them_as_the_caller_gives_them(tmp_path):
    """read_stack(png, axes=...) names axes=, the command line's cli --axes (it said both,
    "--axes (axes=)", s56)."""
    from unetlab.data.io import read_stack, stack_shape
    from unetlab.errors import first_line

    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    _png_pair(tmp_path)
    for read in (read_stack, stack_shape):
        with pytest.raises(ImageReadError) as caught:
            read(tmp_path / "images" / "p.png", axes="ZYX")
        said = f"{tmp_path / 'images' / 'p.png'}: {{}} applies to TIFF files; drop it for this one"
        assert str(caught.value) == said.format("axes=")
        assert first_line(caught.value, cli=True) == said.format("--axes")
