"""A streamed tomogram's labels are its MRC label file ``<stem>.mrc``, bytes equal to those a
whole read writes, written band by band from the staging (s72: most tomograms, 100 x 1024^2
and more, are streamed, and their labels were a pyramidal TIFF, which 3dmod draws mirrored
and without the voxel size; only a whole read gave ``tomo.mrc``)."""

import logging
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch

from tests.test_mrc import write_mrc
from tests.test_mrc_labels import ORIGIN, _labels, _tomogram
from tests.test_slide_resume import Stop
from unetlab import UNet, predict_folder
from unetlab.data import mrc, ome
from unetlab.data.mrc import mrc_header, read_mrc, write_label_blocks, write_mrc_labels
from unetlab.errors import OutputError
from unetlab.inference.output_rules import prediction_folder
from unetlab.inference.records import OutputOptions
from unetlab.inference.slides import predict_slide

STREAMED = OutputOptions(large_threshold=100)


@pytest.fixture
def small_chunks(monkeypatch):
    """Bands of 16 rows (TIFF tiles step by 16): a plane of 20 rows here is two."""
    monkeypatch.setattr(ome, "CHUNK", 16)


def _net(classes: int = 3) -> UNet:
    torch.manual_seed(0)
    return UNet(1, classes, depth=2, base_channels=4, padding="same").eval()


def _folder(tmp_path, *, big: bool = True):
    folder = tmp_path / "in"
    folder.mkdir()
    return folder, _tomogram(folder / "tomo.rec", big=big)


def _names(folder) -> list[str]:
    """The files in ``folder``, but the folder's record and manifest: a staging, a
    publishing folder or a temporary left is among them."""
    return sorted(p.name for p in folder.iterdir() if p.name not in RECORDS)


RECORDS = ("predict.json", ".unetlab-outputs")


@pytest.mark.parametrize("big", [False, True])
def test_streamed_labels_are_the_whole_reads_bytes(tmp_path, small_chunks, big, caplog):
    folder, image = _folder(tmp_path, big=big)
    before = image.read_bytes()
    predict_folder(_net(), folder, tmp_path / "whole")
    with caplog.at_level(logging.INFO, logger="unetlab.inference.slide_progress"):
        done = predict_folder(_net(), folder, tmp_path / "streamed", STREAMED)
    assert "tomo.mrc: writing" in caplog.messages  # s72 fix: "writing level 0 (its only ...)"
    streamed = tmp_path / "streamed" / "tomo.mrc"
    assert done.pixels == 3 * 20 * 24  # its MP/s: the label file's voxels
    assert streamed.read_bytes() == (tmp_path / "whole" / "tomo.mrc").read_bytes()
    assert len(np.unique(read_mrc(streamed))) > 1  # classes, not a blank volume
    head = mrc_header(streamed)
    assert head.voxel == pytest.approx((30.0, 6.0, 4.0)) and head.origin == ORIGIN
    assert _names(tmp_path / "streamed") == ["tomo.mrc"]
    assert image.read_bytes() == before


@pytest.mark.parametrize("most", [200, 300])
def test_a_wider_staging_is_mode_0_or_6_as_the_whole_writer_picks(tmp_path, small_chunks, most):
    """Mask values above 255 stage uint16: their largest, read first, picks the mode."""
    image = _tomogram(tmp_path / "tomo.rec")
    labels = _labels(most=most)
    spec = ome.OutputSpec(shape=labels.shape, axes="zyx", dtype=np.dtype(np.uint16))
    ome.create(tmp_path / "stage", spec)[:] = labels
    ome.seal_mrc(tmp_path / "stage", tmp_path / "streamed.mrc", image, spec)
    whole = write_mrc_labels(tmp_path / "whole.mrc", labels, like=image)
    assert (tmp_path / "streamed.mrc").read_bytes() == whole.read_bytes()
    assert mrc_header(whole).dtype == (np.uint8 if most < 256 else np.uint16)


def test_a_wide_staging_is_read_once(tmp_path, small_chunks, monkeypatch):
    """s74: a uint16 staging was read twice, its largest value first (0.18 of 1.0 CPU s on a
    64 x 1024^2 one); each band is now read once, the file narrowed after where all fit."""
    image = _tomogram(tmp_path / "tomo.rec")
    spec = ome.OutputSpec(shape=(3, 20, 24), axes="zyx", dtype=np.dtype(np.uint16))
    ome.create(tmp_path / "stage", spec)[:] = _labels(most=200)
    taken, bands = [], ome._bands
    monkeypatch.setattr(ome, "_bands", lambda array: (taken.append(b) or b for b in bands(array)))
    ome.seal_mrc(tmp_path / "stage", tmp_path / "streamed.mrc", image, spec)
    assert len(taken) == 3 * 2  # 3 planes of 2 bands of 16 rows
    assert mrc_header(tmp_path / "streamed.mrc").dtype == np.uint8


@pytest.mark.parametrize("step", [7, 480, 1 << 20])
def test_labels_of_a_largest_found_on_the_way_are_the_whole_writers(tmp_path, monkeypatch, step):
    """Written as mode 6, narrowed in place in steps of ``step`` voxels (odd, a plane, all)
    where all fit a byte: the bytes of the writer told their largest."""
    monkeypatch.setattr(mrc, "NARROW_STEP", step)
    image = _tomogram(tmp_path / "tomo.rec")
    for most in (200, 300):
        labels = _labels(most=most)
        found = write_label_blocks(tmp_path / "found.mrc", iter(labels), image, top=None)
        whole = write_mrc_labels(tmp_path / "whole.mrc", labels, like=image)
        assert found.read_bytes() == whole.read_bytes()


def test_one_section_stages_without_z_and_is_its_mrc_file(tmp_path, small_chunks):
    image = write_mrc(tmp_path / "one.mrc", np.zeros((1, 20, 24), np.float32))
    labels = _labels((1, 20, 24))
    spec = ome.OutputSpec(shape=(20, 24), axes="yx", dtype=np.dtype(np.uint8))
    ome.create(tmp_path / "stage", spec)[:] = labels[0]
    ome.seal_mrc(tmp_path / "stage", tmp_path / "streamed.mrc", image, spec)
    whole = write_mrc_labels(tmp_path / "whole.mrc", labels, like=image)
    assert (tmp_path / "streamed.mrc").read_bytes() == whole.read_bytes()


def test_nodata_pixels_are_the_background_as_read_whole(tmp_path, small_chunks):
    """An MRC label file has no tag to name a nodata value: the input's pixels that are no
    sample hold the background there, streamed as read whole (s72 fix: the streamed file
    held the staging's nodata value 255 on 3,600 voxels, DMAX 255)."""
    folder = tmp_path / "in"
    folder.mkdir()
    voxels = np.random.default_rng(0).normal(size=(3, 20, 24)).astype(np.float32)
    voxels[:, :10, :12] = 0  # no sample
    write_mrc(folder / "tomo.rec", voxels, voxel=(30.0, 6.0, 4.0))
    predict_folder(_net(), folder, tmp_path / "whole", nodata=0)
    predict_folder(_net(), folder, tmp_path / "streamed", STREAMED, nodata=0)
    whole, streamed = (tmp_path / d / "tomo.mrc" for d in ("whole", "streamed"))
    assert set(np.unique(read_mrc(streamed))) <= {0, 1, 2}
    assert streamed.read_bytes() == whole.read_bytes()


def test_the_writer_refuses_what_is_not_the_label_file_given(tmp_path):
    """Bugs of its callers, not bad input: too few voxels, values above the top given, a
    signed staging; nothing is left at the path."""
    image = _tomogram(tmp_path / "tomo.rec")
    labels = _labels()
    with pytest.raises(ValueError, match=r"960 label voxels for an MRC file of \(3, 20, 24\)"):
        write_label_blocks(tmp_path / "short.mrc", labels[:2], image, top=2)
    with pytest.raises(ValueError, match="label values up to 2, over the 1 given"):
        write_label_blocks(tmp_path / "high.mrc", labels, image, top=1)
    spec = ome.OutputSpec(shape=labels.shape, axes="zyx", dtype=np.dtype(np.int16))
    ome.create(tmp_path / "stage", spec)[:] = labels
    with pytest.raises(ValueError, match="MRC labels of int16: label values are unsigned"):
        ome.seal_mrc(tmp_path / "stage", tmp_path / "signed.mrc", image, spec)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stage", "tomo.rec"]


def test_mrcfile_validates_a_streamed_label_file(tmp_path, small_chunks):
    mrcfile = pytest.importorskip("mrcfile", reason="mrcfile is not installed (optional)")
    folder, _ = _folder(tmp_path)
    predict_folder(_net(), folder, tmp_path / "out", STREAMED)
    path = tmp_path / "out" / "tomo.mrc"
    with open(tmp_path / "validate.txt", "w") as said:
        assert mrcfile.validate(str(path), print_file=said)
    with mrcfile.open(path, permissive=False) as m:
        np.testing.assert_array_equal(m.data, read_mrc(path))


def _stop_writing(monkeypatch) -> None:
    """Ctrl-C once the label file's second band is written."""
    write = ome.write_label_blocks

    def stopped(path, blocks, like, **how):
        def two(blocks):
            for i, block in enumerate(blocks):
                if i == 2:
                    raise KeyboardInterrupt
                yield block

        return write(path, two(blocks), like, **how)

    monkeypatch.setattr(ome, "write_label_blocks", stopped)


def test_a_stop_while_the_label_file_is_written_is_published_by_the_rerun(
    tmp_path, small_chunks, monkeypatch
):
    """The staging stays whole until the label file is in place: the rerun writes it again
    without predicting a tile, the same bytes, and leaves nothing behind."""
    _, image = _folder(tmp_path)
    how = dict(tile_size=16, batch_size=1, large_threshold=100)
    predict_slide(_net(), image, tmp_path / "whole", progress=Stop(), **how)
    with monkeypatch.context() as m:
        _stop_writing(m)
        with pytest.raises(KeyboardInterrupt):
            predict_slide(_net(), image, tmp_path / "out", progress=Stop(), **how)
    assert not (tmp_path / "out" / "tomo.mrc").exists()
    again = Stop()
    got = predict_slide(_net(), image, tmp_path / "out", progress=again, **how)
    assert again.tiles == 0 and [p.name for p in got] == ["tomo.mrc"]
    expected = (tmp_path / "whole" / "tomo.mrc").read_bytes()
    assert (tmp_path / "out" / "tomo.mrc").read_bytes() == expected
    assert _names(tmp_path / "out") == ["tomo.mrc"]


def test_a_stop_while_the_probabilities_are_sealed_keeps_the_staged_labels(
    tmp_path, small_chunks, monkeypatch
):
    """The label file is written before the probabilities: the labels' staging stays until
    both are in place, so a stop while the probabilities are sealed is published by the
    rerun without predicting a tile (pins it: with the staging removed once the label file
    was written, the rerun predicted every tile again)."""
    _, image = _folder(tmp_path)
    how = dict(tile_size=16, batch_size=1, large_threshold=100, save_probabilities=True)
    predict_slide(_net(), image, tmp_path / "straight", progress=Stop(), **how)
    seal = ome.seal

    def stopped(stage, final, *args, **kwargs):
        if final.name == "tomo_prob.tif":
            raise KeyboardInterrupt
        return seal(stage, final, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(ome, "seal", stopped)
        with pytest.raises(KeyboardInterrupt):
            predict_slide(_net(), image, tmp_path / "out", progress=Stop(), **how)
    again = Stop()
    predict_slide(_net(), image, tmp_path / "out", progress=again, **how)
    assert again.tiles == 0
    straight, out = tmp_path / "straight", tmp_path / "out"
    assert (out / "tomo.mrc").read_bytes() == (straight / "tomo.mrc").read_bytes()
    probabilities = [tifffile.imread(d / "tomo_prob.tif") for d in (straight, out)]
    np.testing.assert_array_equal(*probabilities)
    assert _names(tmp_path / "out") == ["tomo.mrc", "tomo_prob.tif"]


@pytest.mark.parametrize("name", ["tomo.mrc", "s.tif"])
def test_a_large_input_is_never_written_over_by_its_labels(tmp_path, name):
    """A large input whose labels have its own name (``tomo.mrc``, ``s.tif``), predicted
    into its own folder, is refused in one line and kept (s72 fix: predict_slide replaced
    it, where predict_folder and the command line refused it)."""
    path = tmp_path / name
    if name.endswith(".mrc"):
        _tomogram(path)
    else:
        tifffile.imwrite(path, np.random.default_rng(0).random((20, 24)).astype(np.float32))
    before = path.read_bytes()
    with pytest.raises(OutputError, match=f"{name}: this call would write over its input"):
        predict_slide(_net(), path, tmp_path, large_threshold=100)
    assert path.read_bytes() == before and _names(tmp_path) == [name]


def test_a_held_folder_does_not_let_another_input_write_over_itself(tmp_path):
    """A folder this thread holds for other inputs (``sub/x.rec``) does not spare a slide it
    did not claim the check of its outputs: ``tomo.mrc`` predicted into its own folder is
    refused and kept (s73 review: the held-folder skip let it be written over itself)."""
    (tmp_path / "sub").mkdir()
    other, path = _tomogram(tmp_path / "sub" / "x.rec"), _tomogram(tmp_path / "tomo.mrc")
    before = path.read_bytes()
    held = prediction_folder(tmp_path, [other], OutputOptions(large_threshold=100, overwrite=True))
    said = "tomo.mrc: this call would write over its input"
    with held, pytest.raises(OutputError, match=said):
        predict_slide(_net(), path, tmp_path, large_threshold=100)
    assert path.read_bytes() == before


def test_a_folder_s_claim_checks_its_inputs_once(tmp_path, monkeypatch):
    """predict_folder's claim refuses every input as an output: the slide it holds is not
    checked again (s73: _SlideRun.of repeated the check, a stat of each output a slide)."""
    import sys

    from unetlab import outputs

    folder, _ = _folder(tmp_path)
    refuse, outs = outputs.refuse_inputs, []

    def counted(paths, inputs, **how):
        outs.append(sorted(Path(p).name for p in paths))
        return refuse(paths, inputs, **how)

    for module in [m for n, m in list(sys.modules.items()) if n.startswith("unetlab")]:
        if getattr(module, "refuse_inputs", None) is refuse:
            monkeypatch.setattr(module, "refuse_inputs", counted)
    predict_folder(_net(), folder, tmp_path / "out", STREAMED)
    assert len([names for names in outs if "tomo.mrc" in names]) == 1, outs  # the claim's


def test_probabilities_stay_ome_tiff_and_ome_zarr_is_said(tmp_path, small_chunks, caplog):
    """The probabilities beside the label file are an OME-TIFF; OME-Zarr outputs asked for
    keep OME-Zarr labels, and a line says the label file is OME-TIFF outputs'."""
    folder, _ = _folder(tmp_path)
    with caplog.at_level(logging.INFO):
        predict_folder(_net(), folder, tmp_path / "out", STREAMED, save_probabilities=True)
        assert not [m for m in caplog.messages if "an MRC file read window" in m]
        zarr = OutputOptions(large_threshold=100, output_format="ome-zarr")
        predict_folder(_net(), folder, tmp_path / "zarr", zarr)
    assert _names(tmp_path / "out") == ["tomo.mrc", "tomo_prob.tif"]
    assert tifffile.TiffFile(tmp_path / "out" / "tomo_prob.tif").is_ome
    assert _names(tmp_path / "zarr") == ["tomo.ome.zarr"]
    said = [m for m in caplog.messages if "an MRC file read window" in m]
    assert said == [
        "tomo.rec: an MRC file read window by window into OME-Zarr outputs: its "
        "labels are tomo.ome.zarr, not the MRC label file tomo.mrc that "
        "output_format='ome-tiff' writes"
    ]


def test_streamed_ome_tiffs_record_a_tomograms_pixels_in_nm_as_whole_reads_do(tmp_path):
    """A streamed tomogram's probabilities (OME-TIFF) say 0.4 x 0.6 nm, 3 nm apart, as the
    whole read's ImageJ TIFF does (s72: they said 0.0004 µm, which Fiji shows as such);
    read back, both are the same µm. Light microscopy's µm stay µm."""
    from unetlab.data.tiffmeta import read_pixel_size

    folder, _ = _folder(tmp_path)
    predict_folder(_net(), folder, tmp_path / "whole", save_probabilities=True)
    predict_folder(_net(), folder, tmp_path / "streamed", STREAMED, save_probabilities=True)
    with tifffile.TiffFile(tmp_path / "streamed" / "tomo_prob.tif") as tif:
        ome_xml = tif.ome_metadata
    for said in ('PhysicalSizeX="0.4"', 'PhysicalSizeY="0.6"', 'PhysicalSizeZ="3.0"'):
        assert said in ome_xml
    assert ome_xml.count('Unit="nm"') == 3 and "µm" not in ome_xml
    whole = read_pixel_size(tmp_path / "whole" / "tomo_prob.tif")
    streamed = read_pixel_size(tmp_path / "streamed" / "tomo_prob.tif")
    assert streamed.size == pytest.approx(whole.size) and whole.size == pytest.approx((6e-4, 4e-4))
    assert streamed.spacing == pytest.approx(whole.spacing) and whole.spacing == pytest.approx(3e-3)
    light = ome.OutputSpec((2, 8, 8), "zyx", np.dtype(np.uint8), (0.5, 0.25), z_spacing=2.0)
    assert ome.physical_sizes(light) == dict(
        PhysicalSizeY=0.5,
        PhysicalSizeX=0.25,
        PhysicalSizeYUnit="µm",
        PhysicalSizeXUnit="µm",
        PhysicalSizeZ=2.0,
        PhysicalSizeZUnit="µm",
    )
