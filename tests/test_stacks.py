"""TIFF stacks against channels: one rule (io.tiff_layout) for the reader and for pairing."""

import logging

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab.data.datasets import load_samples, split_pairs
from unetlab.data.io import read_stack, stack_shape
from unetlab.data.pairs import Pair, find_pairs, page_count, read_pair
from unetlab.errors import DatasetError

H, W = 12, 10


def _planes(n: int) -> np.ndarray:
    return np.arange(n * H * W, dtype=np.uint32).reshape(n, H, W).astype(np.uint8)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_naive_grey_stack_is_pages(tmp_path, n):
    # tifffile stores a bare (3|4, H, W) array as planar RGB(A): still a stack of pages
    stack = _planes(n)
    tifffile.imwrite(tmp_path / "s.tif", stack)
    assert np.array_equal(read_stack(tmp_path / "s.tif"), stack)
    assert np.array_equal(read_stack(tmp_path / "s.tif", mask=True), stack)
    assert page_count(tmp_path / "s.tif") == n


def test_naive_stacks_train_page_by_page(tmp_path):
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    tifffile.imwrite(tmp_path / "images" / "a.tif", _planes(4))
    tifffile.imwrite(tmp_path / "masks" / "a.tif", (_planes(4) > 60).astype(np.uint8))
    pairs = find_pairs(tmp_path)
    assert [p.name for p in pairs] == ["a[0]", "a[1]", "a[2]", "a[3]"]
    image, mask = read_pair(pairs[3])
    assert np.array_equal(image, _planes(4)[3]) and mask.shape == (H, W)


def _write_all(tmp_path) -> dict:
    """name -> (file, read_stack shape) for the layouts unetlab tells apart."""
    rgb = np.zeros((H, W, 3), np.uint8)
    cases = {
        "hwc_rgb": (rgb, {}, (1, H, W, 3)),
        "rgba": (np.zeros((H, W, 4), np.uint8), {"photometric": "rgb"}, (1, H, W, 4)),
        "rgb_pages": (np.zeros((2, H, W, 3), np.uint8), {}, (2, H, W, 3)),
        "cyx3": (_planes(3), {"metadata": {"axes": "CYX"}}, (1, H, W, 3)),
        "cyx5": (_planes(5), {"metadata": {"axes": "CYX"}}, (1, H, W, 5)),
        "cyx12": (np.zeros((12, H, W), np.uint8), {"metadata": {"axes": "CYX"}}, (1, H, W, 12)),
        "zyx4": (_planes(4), {"metadata": {"axes": "ZYX"}}, (4, H, W)),
        "zcyx": (np.zeros((4, 2, H, W), np.uint8), {"metadata": {"axes": "ZCYX"}}, (4, H, W, 2)),
        "imagej_c5": (_planes(5), {"imagej": True, "metadata": {"axes": "CYX"}}, (1, H, W, 5)),
        "imagej_z4": (_planes(4), {"imagej": True, "metadata": {"axes": "ZYX"}}, (4, H, W)),
        "ome_c5": (_planes(5), {"ome": True, "metadata": {"axes": "CYX"}}, (1, H, W, 5)),
        "ome_z4": (_planes(4), {"ome": True, "metadata": {"axes": "ZYX"}}, (4, H, W)),
        "contig5": (
            np.zeros((H, W, 5), np.uint8),
            {"photometric": "minisblack", "planarconfig": "contig"},
            (1, H, W, 5),
        ),
        # one page of 3 band planes (GDAL's INTERLEAVE=BAND): channels, not pages
        "minisblack_planar3": (
            _planes(3),
            {"photometric": "minisblack", "planarconfig": "separate"},
            (1, H, W, 3),
        ),
        # planar RGB from a writer that says nothing else (GDAL's band-interleaved RGB)
        "rgb_planar_plain": (_planes(3), {"metadata": None}, (1, H, W, 3)),
    }
    out = {}
    for name, (arr, kwargs, shape) in cases.items():
        tifffile.imwrite(tmp_path / f"{name}.tif", arr, **kwargs)
        out[name] = (tmp_path / f"{name}.tif", shape)
    return out


def test_layouts_read_as_their_metadata_says(tmp_path):
    for name, (path, shape) in _write_all(tmp_path).items():
        assert read_stack(path).shape == shape, name


def test_page_count_is_the_readers(tmp_path):
    # the oracle: the header-only count and size equal what the reader returns
    for name, (path, _) in _write_all(tmp_path).items():
        assert stack_shape(path) == read_stack(path).shape[:3], name
        assert page_count(path) == read_stack(path).shape[0], name


def test_channel_axis_image_pairs_with_one_mask(tmp_path):
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    tifffile.imwrite(tmp_path / "images" / "a.tif", _planes(5), metadata={"axes": "CYX"})
    tifffile.imwrite(
        tmp_path / "images" / "b.tif", _planes(5), imagej=True, metadata={"axes": "CYX"}
    )
    for s in "ab":
        Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "masks" / f"{s}.png")
    pairs = find_pairs(tmp_path)
    assert [p.name for p in pairs] == ["a", "b"]
    image, mask = read_pair(pairs[1])
    assert image.shape == (H, W, 5) and mask.shape == (H, W)


def test_channels_last_saved_as_pages_named(tmp_path):
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    tifffile.imwrite(tmp_path / "images" / "a.tif", np.zeros((H, W, 5), np.uint8))  # H pages
    Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "masks" / "a.png")
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    msg = str(info.value)
    assert f"{H} pages but its mask a.png has 1" in msg
    assert "looks like an (H, W, C) image saved as pages" in msg
    assert "photometric='minisblack', planarconfig='contig'" in msg


def test_channels_first_colour_named(tmp_path):
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    tifffile.imwrite(tmp_path / "images" / "a.tif", _planes(3))
    Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "masks" / "a.png")
    with pytest.raises(DatasetError, match=r"save it channels last, as \(H, W, 3\)"):
        find_pairs(tmp_path)


def _suffixed(tmp_path, n=4, suffix="_mask"):
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    for i in range(n):
        Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "images" / f"img_{i:02d}.png")
        Image.fromarray(np.zeros((H, W), np.uint8)).save(
            tmp_path / "masks" / f"img_{i:02d}{suffix}.png"
        )


@pytest.mark.parametrize("suffix", ["_mask", "_label", "-seg"])
def test_suffixed_masks_said_once(tmp_path, suffix):
    _suffixed(tmp_path, suffix=suffix)
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    msg = str(info.value)
    assert msg.startswith("1 problem")
    assert f"masks are named <stem>{suffix}" in msg and f"(drop '{suffix}')" in msg


def test_images_and_masks_of_two_endings_said_once(tmp_path):
    """Cityscapes' names (X_leftImg8bit.png beside X_gtFine_color.png) pair no file: one line
    names both endings and the rename, not an image without a mask and a mask without an
    image for every file (s66 new user: 12 such lines for 6 road frames)."""
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    for i in range(3):
        stem = f"aachen_{i:06d}_000019"
        image = np.zeros((H, W, 3), np.uint8)
        Image.fromarray(image).save(tmp_path / "images" / f"{stem}_leftImg8bit.jpg")
        Image.fromarray(image).save(tmp_path / "masks" / f"{stem}_gtFine_color.png")
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    msg = str(info.value)
    assert msg.startswith("1 problem"), msg
    assert "images are named <stem>_leftImg8bit (aachen_000000_000019_leftImg8bit.jpg)" in msg
    assert "masks <stem>_gtFine_color (aachen_000000_000019_gtFine_color.png)" in msg
    assert "drop '_leftImg8bit' from the images and '_gtFine_color' from the masks" in msg


def _named_files(root, images: list[str], masks: list[str]) -> None:
    for d in ("images", "masks"):
        (root / d).mkdir()
    for stem in images:
        Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(root / "images" / f"{stem}.png")
    for stem in masks:
        Image.fromarray(np.zeros((H, W), np.uint8)).save(root / "masks" / f"{stem}.png")


def test_one_lone_image_and_mask_name_no_endings(tmp_path):
    """Four pairs and a lone scan_1.png image beside a lone scan_2.png mask: each is said
    alone, not 'images are named <stem>_1, masks <stem>_2: rename them', which pairs two
    files that need not be one (review s66)."""
    good = [f"p{i}" for i in range(4)]
    _named_files(tmp_path, [*good, "scan_1"], [*good, "scan_2"])
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    msg = str(info.value)
    assert "images/scan_1.png: no mask in masks/ with this name" in msg
    assert "masks/scan_2.png: mask without an image" in msg and "<stem>" not in msg


def test_cityscapes_masks_of_three_kinds_said_once(tmp_path):
    """Cityscapes' gtFine as shipped, three masks per frame (_gtFine_color, _labelIds,
    _instanceIds) beside X_leftImg8bit images: one line naming the kinds, which to keep for
    training and the rename, not a line per file (review s66: 4 lines, 9 masks unnamed)."""
    frames = [f"aachen_{i:06d}_000019" for i in range(3)]
    kinds = ("color", "labelIds", "instanceIds")
    masks = [f"{f}_gtFine_{k}" for f in frames for k in kinds]
    _named_files(tmp_path, [f"{f}_leftImg8bit" for f in frames], [*masks, "notes"])
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    msg = str(info.value)
    assert msg.startswith("2 problems"), msg  # the line, and notes.png without an image
    assert "masks/notes.png: mask without an image" in msg
    assert (
        "masks <stem>_gtFine_color or <stem>_gtFine_instanceIds or <stem>_gtFine_labelIds"
    ) in msg
    assert (
        "3 masks per image: keep one kind (for training the _gtFine_labelIds ones or the "
        "_gtFine_color ones with a class_colors.txt)"
    ) in msg


def test_suffix_line_keeps_other_problems(tmp_path):
    _suffixed(tmp_path)
    Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "images" / "lone.png")
    Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "images" / "a.png")
    Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "masks" / "a.png")
    problems: list[str] = []
    pairs = find_pairs(tmp_path, problems=problems)
    assert [p.name for p in pairs] == ["a"]
    assert len(problems) == 2 and "drop '_mask'" in problems[0]
    assert problems[1].endswith(
        "lone.png: no mask in " + str(tmp_path / "masks") + "/ with this name"
    )


def test_mixed_mask_names_listed_one_by_one(tmp_path):
    _suffixed(tmp_path, n=2)
    Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "masks" / "other.png")
    problems: list[str] = []
    find_pairs(tmp_path, problems=problems)
    assert len(problems) == 3 and not any("masks are named" in p for p in problems)
    assert sum("looks like the mask of image img_0" in p for p in problems) == 2  # s34 messy 6


def test_no_validation_warning_over_problems(tmp_path, caplog):
    """One good pair (too few to keep one for validation) beside masks that do not pair:
    the problems are what to fix first, not the missing validation image."""
    _suffixed(tmp_path)
    for d in ("images", "masks"):
        Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / d / "good.png")
    problems: list[str] = []
    with caplog.at_level(logging.WARNING):
        train, val = split_pairs(tmp_path, problems=problems)
        with pytest.raises(DatasetError):
            split_pairs(tmp_path)
    assert [p.name for p in train] == ["good"] and val == []
    assert problems and "validation" not in caplog.text
    for path in tmp_path.glob("*/img_*"):
        path.unlink()
    with caplog.at_level(logging.WARNING):  # the good pair alone: the warning is due
        split_pairs(tmp_path, problems=[])
    assert "1 sample, none kept for validation" in caplog.text


def test_a_large_naive_stack_streams_as_pages_as_a_small_one_reads(tmp_path):
    from unetlab.data.slides import open_slide

    stack = np.random.default_rng(0).integers(0, 255, (4, 40, 36), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "s.tif", stack)  # planar RGBA to tifffile, pages to unetlab
    with open_slide(tmp_path / "s.tif") as slide:
        assert slide.shape == (4, 40, 36, 1)
        assert np.array_equal(np.asarray(slide.page(2)[0:40, 0:36])[..., 0], stack[2])
    rgb = np.random.default_rng(1).integers(0, 255, (40, 36, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb)  # contig samples: one colour image
    with open_slide(tmp_path / "rgb.tif") as slide:
        assert slide.shape == (1, 40, 36, 3)


def test_a_problem_names_the_page_of_a_stack_and_only_the_file_of_a_single_image(tmp_path):
    masks = np.zeros((3, 8, 8), np.uint8)
    masks[1, 2, 2] = 7
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    tifffile.imwrite(tmp_path / "images" / "a.tif", np.zeros((3, 8, 8), np.uint8))
    tifffile.imwrite(tmp_path / "masks" / "a.tif", masks)
    pairs = find_pairs(tmp_path)
    with pytest.raises(DatasetError, match=r"masks/a\.tif page 1: label value 7 is not"):
        load_samples(pairs, label_values=[0], normalization={"mode": "per_image"})
    assert (pairs[2].image_page, pairs[2].mask_page) == (
        f"{tmp_path}/images/a.tif page 2",
        f"{tmp_path}/masks/a.tif page 2",
    )
    single = Pair(tmp_path / "b.png", tmp_path / "m" / "b.png")
    assert (single.image_page, single.mask_page) == (str(single.image), str(single.mask))


def test_a_stack_annotated_on_one_plane_is_told_to_save_that_plane(tmp_path):
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    zcyx = np.zeros((5, 2, H, W), np.uint16)
    tifffile.imwrite(tmp_path / "images" / "e.tif", zcyx, imagej=True, metadata={"axes": "ZCYX"})
    tifffile.imwrite(tmp_path / "masks" / "e.tif", np.zeros((H, W), np.uint16))
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    msg = str(info.value)
    assert "5 pages but its mask e.tif has 1: a 5-plane stack needs one mask plane per" in msg
    assert "save that plane alone (Fiji: Image > Duplicate" in msg
    assert "channels" not in msg  # its axes are known: Z


def test_two_channels_saved_without_axes_are_told_their_axes(tmp_path):
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    tifffile.imwrite(tmp_path / "images" / "c.tif", np.zeros((2, H, W), np.uint16))
    tifffile.imwrite(tmp_path / "masks" / "c.tif", np.zeros((H, W), np.uint16))
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    msg = str(info.value)
    assert "2 pages but its mask c.tif has 1: if these are 2 channels saved without axes" in msg
    assert "metadata={'axes': 'CYX'}" in msg and "as (H, W, 2)" in msg
    assert "give them: axes='CYX', or save" in msg  # find_pairs' keyword (was --axes, s57)


def test_five_bands_saved_without_axes_are_told_their_axes_too(tmp_path):
    """A 5-band (C, H, W) array tifffile saved (multispectral, multiplex) was only called a
    5-plane stack to cut down to one plane; --axes CYX reads it as it is."""
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    tifffile.imwrite(tmp_path / "images" / "c.tif", np.zeros((5, H, W), np.uint16))
    tifffile.imwrite(tmp_path / "masks" / "c.tif", np.zeros((H, W), np.uint16))
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    msg = str(info.value)
    assert "5 pages but its mask c.tif has 1: if these are 5 channels saved without axes" in msg
    assert "axes='CYX'" in msg and "a 5-plane stack needs one mask" in msg
    assert "--axes" not in msg and "data.axes" not in msg


def test_channels_saved_without_axes_are_told_each_callers_form(tmp_path, capsys):
    """A training's split names its config key to Python, the command line its flag (both
    were told "--axes CYX (data.axes: CYX)", s57)."""
    from types import SimpleNamespace

    from unetlab.cli import main
    from unetlab.data.datasets import data_split

    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    tifffile.imwrite(tmp_path / "images" / "c.tif", np.zeros((2, H, W), np.uint16))
    tifffile.imwrite(tmp_path / "masks" / "c.tif", np.zeros((H, W), np.uint16))
    data = SimpleNamespace(root=tmp_path, val_fraction=0.2, seed=0, axes=None, ctc_truth="gold")
    with pytest.raises(DatasetError, match=r"give them: cfg.data.axes = 'CYX', or save"):
        data_split(data)
    assert (
        main(["train", "--data", str(tmp_path), "--check", "--run-dir", str(tmp_path / "r")]) == 2
    )
    err = capsys.readouterr().err
    assert "give them: --axes CYX, or save" in err and "data.axes" not in err


@pytest.mark.parametrize("large", [None, 1000])
def test_planar_rgb_is_one_colour_image_to_a_colour_model(tmp_path, large):
    """tifffile's photometric='rgb', planarconfig='separate' (the same bytes as a bare
    (3, H, W) array) was read as 3 grey pages by a colour model: 3 times the objects. A grey
    model still reads such a file as a stack of pages."""
    from unetlab import UNet
    from unetlab.inference.files import predict_file

    rgb = np.random.default_rng(2).integers(0, 255, (40, 36, 3), dtype=np.uint8)
    cyx = np.ascontiguousarray(np.moveaxis(rgb, -1, 0))
    tifffile.imwrite(tmp_path / "planar.tif", cyx, photometric="rgb", planarconfig="separate")
    tifffile.imwrite(tmp_path / "contig.tif", rgb, photometric="rgb")
    assert read_stack(tmp_path / "planar.tif").shape == (3, 40, 36)  # a stack, as before
    assert np.array_equal(read_stack(tmp_path / "planar.tif", colour_planes=True)[0], rgb)
    model = UNet(3, 2, depth=2, base_channels=4, padding="same")
    model.normalization = {"mode": "scale"}
    outs = []
    for name in ("planar", "contig"):
        options = dict(large_threshold=large, tile_size=32, device="cpu")
        (labels,) = predict_file(model, tmp_path / f"{name}.tif", tmp_path / name, **options)
        outs.append(tifffile.imread(labels) if labels.suffix == ".tif" else read_stack(labels))
    assert outs[0].shape == outs[1].shape and np.array_equal(outs[0], outs[1])
    grey = UNet(1, 2, depth=2, base_channels=4, padding="same")
    grey.normalization = {"mode": "scale"}
    (labels,) = predict_file(grey, tmp_path / "planar.tif", tmp_path / "grey", tile_size=32)
    assert tifffile.imread(labels).shape == (3, 40, 36)  # pages to a grey model


def test_a_mask_stack_of_other_planes_is_told_the_fix(tmp_path):
    """A z-stack of 4 planes whose mask stack has 3 was refused naming both counts only."""
    for d in ("images", "masks"):
        (tmp_path / d).mkdir()
    z = {"axes": "ZYX", "spacing": 1.0}
    tifffile.imwrite(tmp_path / "images" / "z.tif", _planes(4), imagej=True, metadata=z)
    tifffile.imwrite(tmp_path / "masks" / "z.tif", _planes(3), imagej=True, metadata=z)
    with pytest.raises(DatasetError) as info:
        find_pairs(tmp_path)
    msg = str(info.value)
    assert "4 pages but its mask z.tif has 3: mask page i labels image page i" in msg
    assert "save the mask with all 4 planes, or the image with only the 3 planes" in msg
