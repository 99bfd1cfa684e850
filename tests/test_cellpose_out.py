"""predict --outlines cellpose: one cellpose ``_seg.npy`` per image, as its GUI saves them,
read back by train --data as the same objects."""

import os
import shutil

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.test_coco_out import _images, _net
from tests.test_predict_objects import nuclei_image
from unetlab.data.npy import npy_header
from unetlab.data.pairs import find_pairs, read_pair
from unetlab.data.seg_pickle import Stored, read_stored, seg_values
from unetlab.errors import OutputError
from unetlab.inference.folders import predict_folder
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.records import OutputOptions


def _cellpose(**more) -> OutputOptions:
    return OutputOptions(objects=ObjectOptions.for_model, outlines="cellpose", **more)


def _seg_dict(path) -> dict:
    """The file's dict as unetlab reads it (never unpickled), its arrays read."""
    with open(path, "rb") as f:
        (value,) = seg_values(f, npy_header(path).offset).items  # np.save's array of a dict
        return {k: read_stored(f, v) if isinstance(v, Stored) else v for k, v in value.items()}


def test_seg_files_hold_what_cellpose_s_gui_loads_and_train_reads_them_back(tmp_path):
    _images(tmp_path / "in", [(97, 83), (61, 130)])
    result = predict_folder(_net(), tmp_path / "in", tmp_path / "out", _cellpose(), progress=False)
    assert not result.failed
    for stem in ("a0", "a1"):
        ids = tifffile.imread(tmp_path / "out" / f"{stem}_objects.tif")
        seg = _seg_dict(tmp_path / "out" / f"{stem}_seg.npy")
        assert set(seg) == {"masks", "outlines", "filename", "chan_choose", "ismanual"}
        assert seg["masks"].dtype == np.uint16 and np.array_equal(seg["masks"], ids)
        assert seg["filename"] == os.path.abspath(tmp_path / "in" / f"{stem}.png")
        assert seg["chan_choose"] == [0, 0] and len(seg["ismanual"]) == ids.max() >= 10
        edge = seg["outlines"] > 0  # each object's edge pixels, by its id
        assert np.array_equal(seg["outlines"][edge], ids[edge]) and 0 < edge.sum() < (ids > 0).sum()
        # the GUI saves its corrections as <image stem>_seg.npy beside the image
        shutil.copy(tmp_path / "out" / f"{stem}_seg.npy", tmp_path / "in" / f"{stem}_seg.npy")
    pairs = find_pairs(tmp_path / "in")  # train --data in/
    assert [(p.image.name, p.mask.name) for p in pairs] == [
        ("a0.png", "a0_seg.npy"),
        ("a1.png", "a1_seg.npy"),
    ]
    for pair in pairs:
        ids = tifffile.imread(tmp_path / "out" / f"{pair.image.stem}_objects.tif")
        assert np.array_equal(read_pair(pair)[1], ids)


def test_a_users_seg_file_in_the_folder_predicted_into_itself_is_never_replaced(tmp_path):
    """cellpose's GUI autosaves a user's corrections as X_seg.npy beside X.jpg: a folder
    predicted into itself is refused, and with --overwrite that image fails, its file kept."""
    for k in range(2):
        Image.fromarray(nuclei_image(40, 44, seed=k)).save(tmp_path / f"a{k}.jpg", quality=95)
    theirs = tmp_path / "a0_seg.npy"
    np.save(theirs, {"masks": np.ones((40, 44), np.uint16), "outlines": 0}, allow_pickle=True)
    before = theirs.read_bytes()
    with pytest.raises(OutputError, match="a0_seg.npy"):
        predict_folder(_net(), tmp_path, tmp_path, _cellpose(), progress=False)
    options = _cellpose(overwrite=True)  # beside it, never over it
    result = predict_folder(_net(), tmp_path, tmp_path, options, progress=False)
    assert [p.name for p in result.failed] == ["a0.jpg"]
    assert theirs.read_bytes() == before
    assert _seg_dict(tmp_path / "a1_seg.npy")["filename"] == os.path.abspath(tmp_path / "a1.jpg")


def _corrected_in_out(tmp_path):
    """(the net, out/a0_seg.npy, its bytes): in/ predicted into out/, a0's file then saved
    over by the user (the GUI's correction)."""
    _images(tmp_path / "in", [(40, 40), (40, 44)])
    net = _net()
    predict_folder(net, tmp_path / "in", tmp_path / "out", _cellpose(), progress=False)
    corrected = tmp_path / "out" / "a0_seg.npy"
    np.save(corrected, {"masks": np.ones((40, 40), np.uint16), "outlines": 0}, allow_pickle=True)
    return net, corrected, corrected.read_bytes()


def test_a_seg_file_corrected_in_the_gui_is_never_replaced_by_a_run_again(tmp_path):
    net, corrected, before = _corrected_in_out(tmp_path)
    said = "a0_seg.npy changed since unetlab wrote it .* pass skip_existing=True"
    with pytest.raises(OutputError, match=said):  # the user's file now
        predict_folder(net, tmp_path / "in", tmp_path / "out", _cellpose(), progress=False)
    assert corrected.read_bytes() == before


def test_overwrite_keeps_a_corrected_seg_file_and_predicts_its_image(tmp_path, caplog):
    """s74: --overwrite said a0_seg.npy was the user's ("yours now, never replaced"), then
    failed a0 as "exists and unetlab did not write it": one line, a0's other outputs written."""
    net, corrected, before = _corrected_in_out(tmp_path)
    (tmp_path / "out" / "a0_objects.tif").unlink()
    options = _cellpose(overwrite=True)
    result = predict_folder(net, tmp_path / "in", tmp_path / "out", options, progress=False)
    assert not result.failed and (tmp_path / "out" / "a0_objects.tif").is_file()
    assert corrected.read_bytes() == before
    assert "a0_seg.npy changed since unetlab wrote it: yours now" in caplog.text
    assert "did not write it" not in caplog.text


def test_inputs_cellpose_s_gui_cannot_open_get_no_seg_file_and_are_said(tmp_path, caplog):
    """s73 review 1: an .npy's or an .npz's _seg.npy named an image the GUI cannot open
    ("no image file found and no image in npy": nothing loaded), without a word."""
    _images(tmp_path / "in", [(40, 44)])
    image = np.asarray(Image.open(tmp_path / "in" / "a0.png"))
    np.save(tmp_path / "in" / "x.npy", image)
    np.savez(tmp_path / "in" / "z.npz", image)
    result = predict_folder(_net(), tmp_path / "in", tmp_path / "out", _cellpose(), progress=False)
    assert not result.failed
    assert sorted(p.name for p in (tmp_path / "out").glob("*_seg.npy")) == ["a0_seg.npy"]
    assert "2 inputs left out (x.npy, ...): cellpose's GUI cannot open such an image" in caplog.text
    assert "convert it to TIFF" in caplog.text


def test_an_input_with_its_own_seg_file_beside_it_is_warned_of(tmp_path, caplog):
    """s73 review 2: the GUI saves corrections of out/a0_seg.npy beside the image it names,
    in/a0_seg.npy: a user's file there is replaced at the first save, unwarned."""
    _images(tmp_path / "in", [(40, 44), (40, 40)])
    theirs = tmp_path / "in" / "a0_seg.npy"
    np.save(theirs, {"masks": np.ones((40, 44), np.uint16), "outlines": 0}, allow_pickle=True)
    predict_folder(_net(), tmp_path / "in", tmp_path / "out", _cellpose(), progress=False)
    assert (tmp_path / "out" / "a0_seg.npy").is_file()
    assert caplog.text.count("with cellpose's _seg.npy beside it already") == 1
    assert f"{tmp_path / 'in' / 'a0.png'}: 1 input with" in caplog.text
    assert "back it up or move it aside first" in caplog.text


def test_ids_from_65535_up_are_kept_as_uint32():
    """s73 review 7: seg_document's uint32 branch had no test (ids over uint16's range)."""
    from unetlab.inference.cellpose_out import seg_document

    ids = np.zeros((4, 6), np.int64)
    ids[0, :2], ids[2:, 3:] = 70_000, 65_535
    seg = seg_document(ids, "x.tif")
    assert seg["masks"].dtype == seg["outlines"].dtype == np.uint32
    assert np.array_equal(seg["masks"], ids) and len(seg["ismanual"]) == 70_000
    assert seg_document(ids.clip(max=65_534), "x.tif")["masks"].dtype == np.uint16


def test_ismanual_is_sized_by_the_largest_id_as_cellpose_sizes_it():
    """s74: ismanual was sized by the distinct ids, so ids 1, 2, 5 gave 3 entries where the
    GUI (np.zeros(masks.max(), bool)) keeps 5 and indexes it by id - 1: id 5 out of range."""
    from unetlab.inference.cellpose_out import seg_document

    ids = np.zeros((6, 8), np.uint16)
    ids[0, :2], ids[2, :3], ids[4:, 5:] = 1, 2, 5
    seg = seg_document(ids, "x.tif")
    assert seg["ismanual"].dtype == bool and seg["ismanual"].shape == (5,)
    assert not seg["ismanual"].any() and len(seg_document(ids * 0, "x.tif")["ismanual"]) == 0


@pytest.mark.parametrize("name", ["a.png", "b.ome.tif", "c.nii.gz", "d e.tif"])
def test_seg_and_labelme_files_are_named_by_output_paths(tmp_path, name):
    """s74: seg_path and labelme_path rebuilt output_paths' names: one rule now (pins it)."""
    from pathlib import Path

    from unetlab.inference.cellpose_out import seg_path
    from unetlab.inference.labelme_out import labelme_path
    from unetlab.inference.output_rules import output_paths
    from unetlab.inference.slides import output_stem

    named = output_paths(tmp_path, output_stem(Path(name)), stack=True)
    assert seg_path(tmp_path, Path(name)) == named["cellpose"]
    assert labelme_path(tmp_path, Path(name)) == named["labelme"]
