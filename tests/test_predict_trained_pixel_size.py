"""An image whose pixels are another size than the training images' (the checkpoint records
0.325 µm, the file 0.65 µm: nuclei half as wide in pixels) is said in one line naming the
rescale; the net does not rescale (audit s39 audit2: 31% fewer nuclei found at half size)."""

import logging
from pathlib import Path

import numpy as np
import tifffile
import torch

from unetlab import UNet, load_model, predict_folder, save_model
from unetlab.cli import main
from unetlab.inference.records import OutputOptions


def _tiff(path, um):
    image = np.random.default_rng(0).integers(0, 4000, (32, 32), dtype=np.uint16)
    metadata = {"unit": "um", "axes": "YX"}
    tifffile.imwrite(path, image, imagej=True, resolution=(1 / um, 1 / um), metadata=metadata)


def _run(tmp_path, caplog, um, pixel_size=None, **outputs):
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    net.objects = {"target": "semantic", "count": 4, "pixel_size": [0.325, 0.325]}
    folder = tmp_path / f"in{um}"
    folder.mkdir()
    _tiff(folder / "a.tif", um)
    with caplog.at_level(logging.WARNING):
        predict_folder(
            net, folder, tmp_path / f"out{um}", OutputOptions(pixel_size=pixel_size, **outputs)
        )
    return [r.getMessage() for r in caplog.records if "trained on" in r.getMessage()]


def test_pixels_twice_the_training_size_are_said(tmp_path, caplog):
    (line,) = _run(tmp_path, caplog, 0.65)
    assert line == (
        "a.tif: 0.65 µm pixels and the model was trained on 0.325 µm pixels (2x): its "
        "objects look 0.5x their trained size; predict it with scale='auto' (resampled to "
        "0.325 µm pixels for the net)"
    )


def test_the_training_size_or_a_given_one_that_fits_says_nothing(tmp_path, caplog):
    assert not _run(tmp_path, caplog, 0.3)
    assert not _run(tmp_path, caplog, 0.65, pixel_size=0.325)  # --pixel-size wins


def test_a_streamed_image_is_told_the_ways_that_work_for_it(tmp_path, caplog):
    """walk s50: a slide read window by window was told to use --scale auto, which predict
    then refuses for it; the line names the ways that work, and the one to read it whole
    with --scale auto runs."""
    (line,) = _run(tmp_path, caplog, 0.65, large_threshold=100)  # 32 x 32 px: streamed
    assert "predict it with scale='auto'" not in line
    assert (  # Python's form (s56: both inline)
        "read it whole with large_threshold=N above its pixels (predict_slide always reads "
        "window by window: call predict_file for a whole read) and scale='auto'" in line
    )
    torch.manual_seed(0)
    net = UNet(1, 2, depth=2, base_channels=4, padding="same")
    net.objects = {"target": "semantic", "count": 4, "pixel_size": [0.325, 0.325]}
    save_model(tmp_path / "m.pt", net)
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(tmp_path / "in0.65")]
    argv += ["--output", str(tmp_path / "whole"), "--scale", "auto", "--large-pixels", "2000"]
    assert main(argv) == 0


def _untrained_sizes(tmp_path, sizes: dict[str, float], *, nproc: int = 1, **given) -> list[str]:
    """The lines of ``predict`` (the command) over TIFFs of ``sizes`` (name -> µm) with a
    model that records no pixel size, naming their sizes apart."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name, um in sizes.items():
        _tiff(folder / name, um)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(folder)]
    argv += ["--output", str(tmp_path / "out"), "--nproc", str(nproc)]
    argv += [f"--{k.replace('_', '-')}={v}" for k, v in given.items()]
    return argv


def test_inputs_of_pixel_sizes_apart_with_a_model_that_records_none_are_said_once(tmp_path, caplog):
    """s50 slidelines: slides at 0.5 and 1.0 µm predicted by a model trained on PNGs gave
    934 and 614 objects of one tissue, and one summary table, with no word; now one line
    a command names the finest and the coarsest, and the fixes."""
    sizes = {"a.tif": 0.5, "b.tif": 1.0, "c.tif": 0.6}
    with caplog.at_level(logging.INFO):
        assert main(_untrained_sizes(tmp_path, sizes)) == 0
    err = caplog.text
    said = (
        "3 inputs' pixel sizes are up to 2x apart (a.tif 0.5 µm, b.tif 1 µm) and the model "
        "records no pixel size: their objects' counts and sizes differ by scale"
    )
    assert err.count(said) == 1
    assert "or predict them at one scale (--level N, --scale F; level=, scale=)" in err


def test_inputs_of_one_scale_or_one_size_given_say_nothing_of_it(tmp_path, caplog):
    (tmp_path / "near").mkdir(), (tmp_path / "given").mkdir()
    given = _untrained_sizes(tmp_path / "given", {"a.tif": 0.5, "b.tif": 1.0}, pixel_size=0.5)
    with caplog.at_level(logging.INFO):
        assert main(_untrained_sizes(tmp_path / "near", {"a.tif": 0.5, "b.tif": 0.7})) == 0
        assert main(given) == 0
    assert "pixel sizes are up to" not in caplog.text


def test_under_nproc_the_line_counts_every_processs_inputs_once(tmp_path, caplog):
    """Each process predicts one input: the main one says the line for both (the other
    hands its inputs' sizes over with the command's notes). Two ranks of threads stand in
    for ``--nproc 2``'s processes (the launch took 11-29 s; the notes' way through a real
    launch: test_nproc_file_lines.py)."""
    from tests.test_folders_group_seconds import two_ranks

    argv = _untrained_sizes(tmp_path, {"a.tif": 0.5, "b.tif": 1.0}, nproc=2)
    net = load_model(tmp_path / "m.pt")
    folder, out = (Path(argv[argv.index(flag) + 1]) for flag in ("--input", "--output"))
    with caplog.at_level(logging.INFO):
        two_ranks(lambda group: predict_folder(net, folder, out, group=group, progress=False))
    assert caplog.text.count("2 inputs' pixel sizes are up to 2x apart") == 1, caplog.text
    assert sorted(p.name for p in out.glob("?.tif")) == ["a.tif", "b.tif"]


def test_sizes_are_apart_beyond_the_training_sizes_tolerance():
    from unetlab.data.read_notes import sides_apart_line

    assert sides_apart_line({"a.tif": 0.5}) is None
    assert sides_apart_line({"a.tif": 0.5, "b.tif": 0.75, "c.tif": 0.6}) is None  # 1.5x
    line = sides_apart_line({"d/a.tif": 0.76, "d/b.tif": 0.5})  # named as the lines name them
    assert line.startswith("2 inputs' pixel sizes are up to 1.5x apart (d/b.tif 0.5 µm, d/a.tif")


def _pyramid(path, um):
    """A two-level OME pyramid TIFF of ``um`` µm pixels at level 0."""
    image = np.random.default_rng(0).integers(0, 4000, (64, 64), dtype=np.uint16)
    with tifffile.TiffWriter(path) as tif:
        size = dict(PhysicalSizeX=um, PhysicalSizeY=um)
        tif.write(image, tile=(16, 16), subifds=1, metadata={"axes": "YX", **size})
        tif.write(image[::2, ::2], tile=(16, 16), subfiletype=1)


def test_inputs_apart_at_the_level_or_scale_predicted_are_said_too(tmp_path, caplog):
    """s50 slideleft: under --level N or --scale F the sizes were not noted: slides whose
    level-1 pixels are 0.5 and 1 µm got no word; the line names the sizes predicted."""
    folder = tmp_path / "in"
    folder.mkdir()
    _pyramid(folder / "a.ome.tif", 0.25)
    _pyramid(folder / "b.ome.tif", 0.5)
    save_model(tmp_path / "m.pt", UNet(1, 2, depth=2, base_channels=4, padding="same"))
    argv = ["predict", "--checkpoint", str(tmp_path / "m.pt"), "--input", str(folder)]
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--output", str(tmp_path / "l1"), "--level", "1"]) == 0
    assert caplog.text.count("2 inputs' pixel sizes are up to 2x apart (a.ome.tif 0.5 µm, b") == 1
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--output", str(tmp_path / "s"), "--scale", "2"]) == 0
    assert "2 inputs' pixel sizes are up to 2x apart (a.ome.tif 0.125 µm, b" in caplog.text


def _volume_lines(tmp_path, caplog, mm, units=10, pixel_size=None, **settings):
    """predict_folder's lines of a CT of ``mm`` pixels (xyzt_units ``units``; or
    ``pixel_size`` µm, --pixel-size) by a model trained on 0.8 mm pixels."""
    from tests.test_nifti import write_nifti

    net = UNet(1, 2, depth=2, base_channels=4, padding="same").eval()
    net.objects = {"target": "semantic", "count": 4, "pixel_size": [800.0, 800.0]}
    folder = tmp_path / f"ct{mm}_{pixel_size}"
    folder.mkdir()
    ct = np.random.default_rng(0).integers(-1000, 1000, (32, 32, 3)).astype(np.int16)
    write_nifti(folder / "ct.nii.gz", ct, spacing=(mm, mm, 2.5), units=units)
    with caplog.at_level(logging.INFO if settings else logging.WARNING):
        out = folder.with_name(f"out{folder.name}")
        predict_folder(net, folder, out, pixel_size=pixel_size, **settings)
    return [r.getMessage() for r in caplog.records if "trained on" in r.getMessage()]


def test_a_volume_a_tenth_off_the_training_voxels_is_said_in_mm(tmp_path, caplog):
    """s72: a CT of 0.9 mm pixels predicted by a model of 0.8 mm ones said nothing (the 1.5x
    of micrographs): CT and MRI are resampled to one spacing as a rule (nnU-Net)."""
    (line,) = _volume_lines(tmp_path, caplog, 0.9)
    assert line == (
        "ct.nii.gz: 0.9 mm pixels and the model was trained on 0.8 mm pixels (1.1x): its "
        "objects look 0.89x their trained size; predict it with scale='auto' (resampled to "
        "0.8 mm pixels for the net)"
    )
    caplog.clear()
    assert not _volume_lines(tmp_path, caplog, 0.85)  # 6%: within a tenth


def test_a_volume_given_its_pixel_size_is_judged_and_said_in_mm(tmp_path, caplog):
    """s72 review: under --pixel-size a NIfTI volume fell back to the 1.5x and µm of
    micrographs: 1000 µm on a model of 800 said nothing, 1300 said "1.3e+03 µm pixels"."""
    (line,) = _volume_lines(tmp_path, caplog, 0.8, pixel_size=1000.0)
    assert line.startswith(
        "ct.nii.gz: 1 mm pixels and the model was trained on 0.8 mm pixels (1.2x)"
    )
    caplog.clear()
    (line,) = _volume_lines(tmp_path, caplog, 0.8, units=3, pixel_size=1300.0)
    assert line.startswith("ct.nii.gz: 1.3e+03 µm pixels and the model was trained on 800 µm")
    caplog.clear()
    (line,) = _volume_lines(tmp_path, caplog, 1.0, units=0)  # no unit: mm, as ITK reads it
    assert line.startswith("ct.nii.gz: 1 mm pixels and the model was trained on 0.8 mm")


def test_an_image_other_than_a_volume_a_fifth_off_says_nothing(tmp_path, caplog):
    """The tenth is NIfTI volumes' (resampled to one spacing as a rule): a TIFF's pixels
    1.2x the training ones stay within the 1.5x of micrographs, said or given."""
    assert not _run(tmp_path, caplog, 0.39)
    assert not _run(tmp_path, caplog, 0.3, pixel_size=0.39)


def test_scale_auto_of_a_volume_is_said_in_mm(tmp_path, caplog):
    """s72 review: --scale auto said "1e+03 µm pixels, trained on 800 µm" of a CT in mm."""
    (line,) = _volume_lines(tmp_path, caplog, 1.0, scale="auto")
    assert line == "ct.nii.gz: scale='auto': 1 mm pixels, trained on 0.8 mm: scaled 1.25"
