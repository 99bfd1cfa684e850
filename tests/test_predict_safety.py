"""`unetlab predict` never lets one input's output replace another's or a user's file, refuses
NaN pixels, counts objects, and names the outputs of OME inputs after their stem."""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

import unetlab.checkpoint
import unetlab.inference.files
import unetlab.inference.predict
import unetlab.inference.slides
from tests.test_predict_objects import local_net, nuclei_image
from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.cli.predict import OBJECT_LINES, object_summary
from unetlab.data.checks import nonfinite_count
from unetlab.data.io import write_png
from unetlab.data.tiffmeta import PixelSize, read_pixel_size
from unetlab.errors import OutputError, UnetlabError, command_spelling
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions
from unetlab.inference.output_rules import finished_inputs, output_roles, refuse_shared_outputs
from unetlab.inference.predict import check_finite, predict_image
from unetlab.inference.slides import output_stem
from unetlab.outputs import MANIFEST


@pytest.fixture
def work(tmp_path):
    """in/ (empty), a tiny checkpoint model.pt."""
    (tmp_path / "in").mkdir()
    save_model(tmp_path / "model.pt", UNet(1, 2, depth=2, base_channels=2, padding="same"))
    return tmp_path


def _grey(path: Path, seed: int = 0, shape=(24, 20)) -> None:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8)).save(path)


def _predict(work: Path, *extra: str, inputs: str = "in") -> int:
    argv = ["predict", "--checkpoint", str(work / "model.pt"), "--input", str(work / inputs)]
    return main([*argv, "--output", str(work / "out"), "--device", "cpu", *extra])


def _errors(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if "unetlab predict" in line]


# --- 1. one input's output never replaces another's ------------------------------------------


@pytest.mark.parametrize(
    ("other", "flag", "role"),
    [
        ("x_overlay.png", "--overlay", "overlay"),
        ("x_prob.tif", "--save-probabilities", "probabilities"),
    ],
)
def test_an_output_claimed_by_two_inputs_fails_both_before_anything_is_written(
    work, capsys, other, flag, role
):
    _grey(work / "in" / "x.png")
    if other.endswith(".tif"):
        tifffile.imwrite(work / "in" / other, np.zeros((24, 20), np.uint8))
    else:
        _grey(work / "in" / other, seed=1)
    assert _predict(work, flag) == 3  # both failed (SOME_FAILED); any other input is written
    (line,) = _errors(capsys)
    clash = work / "out" / other
    assert f"in/x.png's {role} and {work / 'in' / other}'s labels would both be {clash}" in line
    assert line.endswith(
        "not predicted; rename one, or predict them into different output folders (--output, "
        "or out_dir in Python)"
    )
    assert not (work / "out").exists()  # nothing written, the folder made is gone again
    assert _predict(work) == 0  # without the flag the names do not meet


def test_refuse_shared_outputs_names_both_inputs_and_roles(tmp_path):
    a, b = Path("in/y.png"), Path("in/y_objects.png")
    refuse_shared_outputs(tmp_path, [a, b], overlay=True, probabilities=True)  # no clash
    with pytest.raises(OutputError) as caught:
        refuse_shared_outputs(tmp_path, [a, b], objects=True)
    assert str(caught.value) == (
        f"in/y.png's object ids and in/y_objects.png's labels would both be "
        f"{tmp_path / 'y_objects.tif'}: predict them into different output folders "
        "(--output, or out_dir in Python), or rename one"
    )
    with pytest.raises(OutputError, match="would write the same outputs"):  # up to case
        refuse_shared_outputs(tmp_path, [a, Path("other/Y.tif")])
    with pytest.raises(OutputError, match="would write the same outputs"):  # one stem
        refuse_shared_outputs(tmp_path, [Path("s.ome.tif"), Path("s.png")])
    refuse_shared_outputs(tmp_path, [a, a])  # the same file twice is one input


# --- 2. --skip-existing: only files unetlab wrote are finished predictions --------------------


def test_a_foreign_folders_sub_folders_are_said_folders(work, capsys):
    """--output DATA (a data set's folder) said "holds files ... (images, masks)" (s61 user):
    its sub-folders are named as folders."""
    _grey(work / "in" / "00.png")
    for sub in ("masks", "images"):
        (work / "out" / sub).mkdir(parents=True)
    assert _predict(work) == 2
    (line,) = _errors(capsys)
    assert "out holds folders that unetlab did not write (images/, masks/): give an" in line
    _grey(work / "out" / "notes.png")
    assert _predict(work) == 2
    (line,) = _errors(capsys)
    assert "holds files and folders that unetlab did not write (images/, masks/, notes.png)" in line
    assert not (work / "out" / "00.png").exists()


def test_skip_existing_refuses_a_foreign_file_with_an_outputs_name(work, capsys):
    _grey(work / "in" / "00.png")
    (work / "out").mkdir()
    _grey(work / "out" / "00.png", seed=5)  # the user's own file
    before = (work / "out" / "00.png").read_bytes()
    assert _predict(work, "--skip-existing") == 2
    (line,) = _errors(capsys)
    assert "holds files that unetlab did not write (00.png)" in line
    assert (work / "out" / "00.png").read_bytes() == before
    (work / "out" / "00.png").unlink()
    assert _predict(work) == 0
    mtime = (work / "out" / "00.png").stat().st_mtime_ns
    assert _predict(work, "--skip-existing") == 0  # ours now: skipped
    assert (work / "out" / "00.png").stat().st_mtime_ns == mtime


def test_an_output_named_like_an_image_is_refused_not_made_a_folder(work, capsys):
    _grey(work / "in" / "00.png")
    argv = ["predict", "--checkpoint", str(work / "model.pt"), "--input", str(work / "in")]
    assert main([*argv, "--output", str(work / "result.png")]) == 2
    (line,) = _errors(capsys)
    assert "names an image file, but predict writes a folder" in line
    assert f"--output {work / 'result'}" in line and not (work / "result.png").exists()
    assert main([*argv, "--output", str(work / "result.gif")]) == 2  # read, never written
    (line,) = _errors(capsys)
    assert "names an image file" in line and not (work / "result.gif").exists()


def test_skip_existing_redoes_an_input_without_an_output_asked_for_now(work):
    """An audit's second run with --overlay --instances skipped 10 finished inputs, which
    then had no overlay and no objects."""
    _grey(work / "in" / "00.png")
    _grey(work / "in" / "01.png", seed=1)
    assert _predict(work) == 0
    assert _predict(work, "--skip-existing", "--overlay") == 0
    assert {p.name for p in (work / "out").glob("*_overlay.png")} == {
        "00_overlay.png",
        "01_overlay.png",
    }
    mtime = (work / "out" / "00_overlay.png").stat().st_mtime_ns
    assert _predict(work, "--skip-existing", "--overlay") == 0  # all there now: skipped
    assert (work / "out" / "00_overlay.png").stat().st_mtime_ns == mtime


def test_finished_inputs_needs_the_file_and_the_manifest(tmp_path):
    files = [Path("in/a.png"), Path("in/b.ome.tif"), Path("in/c.png"), Path("in/d.zarr")]
    assert finished_inputs(tmp_path / "missing", files) == []
    for name in ("a.png", "b.tif", "d.ome.zarr"):
        (tmp_path / name).touch()
    (tmp_path / MANIFEST).write_text("b.tif\tpredict\nc.png\tpredict\nd.ome.zarr\tpredict\n")
    # a.png is not listed (not ours), c.png is listed but absent (never finished)
    assert finished_inputs(tmp_path, files) == [files[1], files[3]]
    # asked for an overlay now: none is finished until its overlay is there and listed (a
    # streamed slide's too: it has a downsampled PNG since session 26, and was skipped)
    for name in ("b_overlay.tif", "d_overlay.png"):
        (tmp_path / name).touch()
    assert finished_inputs(tmp_path, files, overlay=True) == []
    with (tmp_path / MANIFEST).open("a") as manifest:
        manifest.write("b_overlay.tif\tpredict\nd_overlay.png\tpredict\n")
    assert finished_inputs(tmp_path, files, overlay=True) == [files[1], files[3]]
    (tmp_path / MANIFEST).write_text("b.tif\tevaluate\n")  # another command's file
    assert finished_inputs(tmp_path, files) == []


# --- 3. NaN and infinite pixels ---------------------------------------------------------------


def test_nonfinite_count_counts_pixels_not_values():
    image = np.zeros((4, 5, 3), np.float32)
    image[0, 0] = np.nan
    image[1, 1, 2] = np.inf
    assert nonfinite_count(image, channel_axis=True) == 2
    assert nonfinite_count(image, channel_axis=False) == 4
    assert nonfinite_count(np.zeros((4, 5), np.uint16), channel_axis=False) == 0
    check_finite(np.ones((3, 3), np.float64), "x", channel_axis=False)
    said = r"^x: 1 NaN or infinite pixel in rows 0-2; they are NaN, as no-data: --nodata nan leaves"
    with pytest.raises(UnetlabError, match=said), command_spelling():  # as the CLI runs
        check_finite(image[..., 1], "x", channel_axis=False, where=" in rows 0-2")


def test_nan_in_every_band_is_named_as_nodata_with_its_setting():
    """A float GeoTIFF whose no-data is NaN, written without its tag: the error said only
    'replace them', where --nodata nan leaves them out (audit s37 bands)."""
    image = np.ones((6, 5, 4), np.float32)
    image[:2, :2] = np.nan  # every band: a no-data corner
    with pytest.raises(UnetlabError) as info, command_spelling():  # as the command line runs
        check_finite(image, "s2.tif", channel_axis=True)
    assert str(info.value) == (
        "s2.tif: 4 NaN or infinite pixels; they are NaN in every channel, as no-data: "
        "--nodata nan leaves them out; or replace them (e.g. with 0) before predicting"
    )
    with pytest.raises(UnetlabError) as info:  # predict_image's caller: its keyword (reviewC)
        check_finite(image, "s2.tif", channel_axis=True)
    assert "as no-data: nodata='nan' leaves them out; or replace" in str(info.value)
    image[4, 4, 1] = np.nan  # one band's NaN is no no-data: only replacing fixes it
    with pytest.raises(UnetlabError, match=r"5 NaN or infinite pixels; replace them \(e.g."):
        check_finite(image, "s2.tif", channel_axis=True)


def _with_nan(path: Path, count: int = 25) -> None:
    image = np.random.default_rng(0).random((24, 20)).astype(np.float32)
    image.flat[:count] = np.nan
    image[-1, -1] = -np.inf
    tifffile.imwrite(path, image)


def test_a_float_tiff_with_nan_fails_alone_and_the_others_are_written(work, capsys):
    _grey(work / "in" / "01.png")
    _with_nan(work / "in" / "02.tif")
    assert _predict(work) == 3
    (line,) = _errors(capsys)
    assert line == (
        f"unetlab predict: failed: {work / 'in' / '02.tif'}: 26 NaN or infinite pixels; "
        "replace them (e.g. with 0) before predicting"
    )
    assert (work / "out" / "01.png").is_file() and not (work / "out" / "02.png").exists()


def test_nan_refused_by_the_array_api_and_the_streamed_path(tmp_path):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    image = np.ones((24, 20), np.float32)
    image[3, 4] = np.nan
    with pytest.raises(UnetlabError, match="image: 1 NaN or infinite pixel;"):
        predict_image(model, image)
    _with_nan(tmp_path / "s.tif")
    with pytest.raises(UnetlabError, match=r"s.tif: \d+ NaN or infinite pixels in rows 0-"):
        predict_file(model, tmp_path / "s.tif", tmp_path / "out", large_threshold=100)
    assert not list((tmp_path / "out").glob("*s*"))  # staged outputs removed


def _checked_pixels(monkeypatch) -> list[int]:
    """The pixels each NaN check of prediction looks at (grey images: one element each)."""
    seen: list[int] = []
    for module in (unetlab.inference.predict, unetlab.inference.files, unetlab.inference.slides):
        real = module.check_finite

        def counted(image, *args, real=real, **kwargs):
            seen.append(image.size)
            return real(image, *args, **kwargs)

        monkeypatch.setattr(module, "check_finite", counted)
    return seen


@pytest.mark.parametrize("large", [None, 100], ids=["whole", "streamed"])
def test_predict_file_checks_each_pixel_for_nan_once(tmp_path, monkeypatch, large):
    """Read whole: the stack once, not again page by page; streamed: rows as windows first
    reach them (in the statistics pass), not once per overlapping tile."""
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    stack = np.random.default_rng(0).random((2, 150, 90)).astype(np.float32)
    tifffile.imwrite(tmp_path / "s.tif", stack, tile=(32, 32))
    seen = _checked_pixels(monkeypatch)
    predict_file(model, tmp_path / "s.tif", tmp_path / "out", large_threshold=large, tile_size=32)
    assert sum(seen) == stack.size


def test_a_streamed_nan_below_the_first_windows_is_found_in_its_rows(tmp_path, monkeypatch):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    model.normalization = {"mode": "scale"}  # statistics read no pixel: the tiles check
    image = np.random.default_rng(0).random((150, 90)).astype(np.float32)
    image[140, 80] = np.inf
    tifffile.imwrite(tmp_path / "s.tif", image, tile=(32, 32))
    seen = _checked_pixels(monkeypatch)
    with pytest.raises(UnetlabError, match=r"s.tif: 1 NaN or infinite pixel in rows") as info:
        predict_file(model, tmp_path / "s.tif", tmp_path / "out", large_threshold=100, tile_size=32)
    top, bottom = map(int, re.search(r"rows (\d+)-(\d+);", str(info.value)).groups())
    assert top <= 140 <= bottom
    assert sum(seen) == (bottom + 1) * 90  # every row above the error's once


# --- 4. object counts -------------------------------------------------------------------------


def test_instances_prints_each_images_count_and_the_total(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: local_net())
    for i in range(2):
        write_png(tmp_path / "in" / f"c{i}.png", nuclei_image(60, 70, seed=i))
    argv = ["predict", "--checkpoint", "any.pt", "--input", str(tmp_path / "in")]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--output", str(tmp_path / "out"), "--instances"]) == 0
    counts = []
    for i in range(2):
        with open(tmp_path / "out" / f"c{i}_objects.csv") as f:
            counts.append(len(list(csv.DictReader(f))))
        assert f"c{i}.png: {counts[i]} objects" in caplog.messages
    assert min(counts) > 0
    total = f"objects: {sum(counts)} in 2 images; one row per image in objects_summary.csv"
    assert total in caplog.messages


def test_a_stacks_count_says_its_planes_and_the_range_per_plane(tmp_path, monkeypatch, caplog):
    """A 5-plane stack's count was one bare total ("143 objects"): neither nuclei nor nuclei
    per plane. A plane without objects counts in the range."""
    monkeypatch.setattr(unetlab.checkpoint, "load_model", lambda *a, **k: local_net())
    planes = [nuclei_image(60, 70, seed=i) for i in range(3)]
    planes[1] = np.zeros_like(planes[1])
    stack = np.stack(planes)
    (tmp_path / "in").mkdir()
    tifffile.imwrite(
        tmp_path / "in" / "s.tif", stack, metadata={"axes": "ZYX"}, photometric="minisblack"
    )
    argv = ["predict", "--checkpoint", "any.pt", "--input", str(tmp_path / "in")]
    with caplog.at_level(logging.INFO, logger="unetlab"):
        assert main([*argv, "--output", str(tmp_path / "out"), "--instances"]) == 0
    with open(tmp_path / "out" / "s_objects.csv") as f:
        pages = [int(row["page"]) for row in csv.DictReader(f)]
    per = [pages.count(i) for i in range(3)]
    assert per[1] == 0 and min(per[0], per[2]) > 0
    said = f"s.tif: {sum(per)} objects in 3 planes (0-{max(per)} per plane; 2-D objects"
    assert [m for m in caplog.messages if m.startswith(said)], caplog.messages


def test_two_processes_report_each_images_count_once(tmp_path):
    """Files shared out over two processes: the main one knows every image's object count
    (those the other process wrote too), as its table counts them, which predict reports
    once each (its lines: test_instances_prints_each_images_count_and_the_total; its rate:
    test_the_rate_of_several_processes_says_what_it_is). Two ranks of threads in this
    process, their collectives meeting at a barrier; a real --nproc 2 launch:
    test_slides.py::test_two_gloo_processes_predict_like_one."""
    import threading

    from tests.test_folders_group_seconds import two_ranks
    from unetlab import predict_folder

    for i in range(3):
        write_png(tmp_path / "in" / f"c{i}.png", nuclei_image(60, 70, seed=i))
    net, results, ranks = local_net(), [None, None], set()
    net.register_forward_pre_hook(lambda *_: ranks.add(threading.current_thread().name))
    objects = ObjectOptions(min_area=1)

    def rank(group):
        run = dict(objects=objects, group=group, progress=False)
        results[group.rank] = predict_folder(net, tmp_path / "in", tmp_path / "out", **run)

    two_ranks(rank)
    main_rank, counts = results[0], {}
    for i in range(3):
        with open(tmp_path / "out" / f"c{i}_objects.csv") as f:
            counts[f"c{i}.png"] = [len(list(csv.DictReader(f)))]  # one per page
    assert ranks == {"rank0", "rank1"}  # files shared out
    assert sorted(p.name for p in main_rank.written) == sorted(counts)
    assert {Path(f).name: n for f, n in main_rank.objects.items()} == counts, main_rank.objects
    assert min(min(n) for n in counts.values()) > 0


def test_the_rate_of_several_processes_says_what_it_is(caplog, capsys):
    from unetlab.cli.predict import _report, _report_benchmark

    with caplog.at_level(logging.INFO, logger="unetlab"):
        _report(4, 0, 0, 2_000_000, 2.0, "out")
        _report(4, 0, 0, 2_000_000, 2.0, "out", processes=2)
    one, two = caplog.messages[-2:]
    assert one == "predict: 4 written, 0 skipped, 0 failed in 2.0 s, 1.00 MP/s -> out"
    assert two == (
        "predict: 4 written, 0 skipped, 0 failed in 2.0 s, 1.00 MP/s (the 2 processes' "
        "pixels over the longest one's time) -> out"
    )
    _report_benchmark(4, 2_000_000, 2.0, 0.5, processes=2)  # 0.5 s: the main one's model
    line = capsys.readouterr().out
    assert "1.00 MP/s end to end (2 processes; the model alone: --nproc 1)" in line
    assert "model 0.50 s" not in line


def test_object_summary_past_the_line_limit_gives_range_and_median():
    assert object_summary([3, 4]) == "objects: 7 in 2 images"
    many = list(range(OBJECT_LINES + 1))
    assert object_summary(many).startswith(
        f"objects: {sum(many)} in {len(many)} images (per image 0 to {OBJECT_LINES}, median 10;"
    )


# --- 5. OME inputs: outputs named after the stem, pixel size kept -----------------------------


def test_output_stem_drops_the_suffix_and_ome():
    assert output_stem("a/slide.ome.tif") == "slide"
    assert output_stem("plate.ome.zarr") == "plate"
    assert output_stem("X.OME.TIFF") == "X"
    assert output_stem("a.b.png") == "a.b"
    assert output_stem("x.png") == "x"


def _ome_pyramid(path: Path, size: float = 0.3) -> None:
    image = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    meta = {"PhysicalSizeX": size, "PhysicalSizeY": size, "axes": "YX"}
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(image, tile=(32, 32), subifds=1, metadata=meta)
        tif.write(image[::2, ::2], tile=(32, 32), subfiletype=1)


@pytest.mark.parametrize(
    ("threshold", "output_format", "name"),
    [(None, "ome-tiff", "slide.tif"), (100, "ome-tiff", "slide.tif"), (100, "ome-zarr", None)],
)
def test_ome_tiff_outputs_are_named_after_the_stem_and_keep_the_pixel_size(
    tmp_path, threshold, output_format, name
):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    _ome_pyramid(tmp_path / "slide.ome.tif")
    (labels,) = predict_file(
        model,
        tmp_path / "slide.ome.tif",
        tmp_path / "out",
        large_threshold=threshold,
        output_format=output_format,
    )
    assert labels.name == (name or "slide.ome.zarr")
    if name is not None:
        assert read_pixel_size(labels) == PixelSize(pytest.approx((0.3, 0.3)), "um")
        assert tifffile.imread(labels).shape == (64, 64)


def test_a_plain_tiff_with_a_pixel_size_gives_a_tiff_that_keeps_it(tmp_path):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    image = np.zeros((24, 20), np.uint8)
    tifffile.imwrite(tmp_path / "p.tif", image, resolution=(2e4, 2e4), resolutionunit="CENTIMETER")
    tifffile.imwrite(tmp_path / "q.tif", image)  # no pixel size: a PNG as before
    written = predict_file(
        model, tmp_path / "p.tif", tmp_path / "out", draw_overlay=True, objects=ObjectOptions()
    )
    names = ["p_objects.tif", "p_objects.csv", "p_overlay.tif", "p.tif"]
    assert sorted(p.name for p in written) == sorted(names)
    by_name = {p.name: p for p in written}
    for name in ("p.tif", "p_overlay.tif", "p_objects.tif"):  # all lie over each other in Fiji
        assert read_pixel_size(by_name[name]) == PixelSize(pytest.approx((0.5, 0.5)), "um"), name
        with tifffile.TiffFile(by_name[name]) as tif:  # deflated, as streamed outputs are
            assert tif.pages[0].compression == tifffile.COMPRESSION.ADOBE_DEFLATE, name
    assert tifffile.imread(by_name["p_overlay.tif"]).shape == (24, 20, 3)
    header = by_name["p_objects.csv"].read_text().splitlines()[0].split(",")
    assert {"area_um2", "centroid_y_um", "centroid_x_um"} <= set(header)  # 0.5 um pixels
    assert predict_file(model, tmp_path / "q.tif", tmp_path / "out")[0].name == "q.png"


def test_a_large_images_ome_zarr_outputs_are_all_in_the_manifest(work):
    tifffile.imwrite(work / "in" / "s.ome.tif", nuclei_image(40, 40))
    flags = ["--large-pixels", "100", "--output-format", "ome-zarr", "--save-probabilities"]
    assert _predict(work, *flags) == 0
    assert sorted(p.name for p in (work / "out").glob("s*")) == ["s.ome.zarr", "s_prob.ome.zarr"]
    assert _predict(work, *flags) == 0  # its own outputs are no foreign files
    names = output_roles("s", probabilities=True, objects=True)
    assert {"s.ome.zarr", "s_prob.ome.zarr", "s_objects.ome.zarr", "s_objects.csv"} <= set(names)


def test_names_predict_did_not_write_leave_the_manifest(work):
    """The slides audit: a user's snapshot saved later as s_overlay.png (a name a large
    image's run had listed but never written) was replaced without --overwrite."""
    _grey(work / "in" / "00.png")
    assert _predict(work, "--overlay") == 0
    listed = (work / "out" / MANIFEST).read_text()
    assert "00.png\tpredict" in listed and "00_overlay.png\tpredict" in listed
    assert "00.tif\t" not in listed and "00_overlay.tif\t" not in listed  # never written
    (work / "out" / "00.tif").write_bytes(b"the user's")  # now foreign, as it should be
    assert _predict(work, "--overlay") == 2
    assert (work / "out" / "00.tif").read_bytes() == b"the user's"
    assert _predict(work, "--overlay", "--overwrite") == 0  # writes among it, leaves it
    listed = (work / "out" / MANIFEST).read_text()
    assert "00.tif\t" not in listed  # still the user's: not taken for predict's
    assert (work / "out" / "00.tif").read_bytes() == b"the user's"


def test_a_streamed_slides_object_table_has_micrometres_too(tmp_path):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same").eval()
    _ome_pyramid(tmp_path / "slide.ome.tif", size=0.3)
    written = predict_file(
        model,
        tmp_path / "slide.ome.tif",
        tmp_path / "out",
        large_threshold=100,
        objects=ObjectOptions(),
    )
    (table,) = [p for p in written if p.suffix == ".csv"]
    assert {"area_um2", "centroid_x_um"} <= set(table.read_text().splitlines()[0].split(","))
