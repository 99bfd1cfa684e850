"""`unetlab predict` end to end on a generated folder with one corrupt file."""

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unetlab import UNet, save_model
from unetlab.cli import main
from unetlab.errors import UnetlabError


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.fromarray(rng.integers(0, 255, (37, 50), dtype=np.uint8)).save(inputs / "grey.png")
    Image.fromarray(rng.integers(0, 255, (41, 29, 3), dtype=np.uint8)).save(inputs / "rgb.jpg")
    tifffile.imwrite(inputs / "deep.tif", rng.integers(0, 65535, (33, 61), dtype=np.uint16))
    stack = rng.integers(0, 255, (3, 20, 24), dtype=np.uint8)
    tifffile.imwrite(inputs / "stack.tif", stack, photometric="minisblack")
    (inputs / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot an image")
    model = UNet(1, 2, depth=2, base_channels=2)
    model.label_values = [0, 255]
    save_model(tmp_path / "model.pt", model)
    return tmp_path


SIZES = {"grey.png": (37, 50), "rgb.png": (41, 29), "deep.png": (33, 61)}


def test_predict_folder_writes_every_good_file_and_names_the_bad_one(folder, capsys):
    out = folder / "out"
    code = main(
        [
            "predict",
            "--checkpoint",
            str(folder / "model.pt"),
            "--input",
            str(folder / "in"),
            "--output",
            str(out),
            "--overlay",
            "--save-probabilities",
        ]
    )
    assert code == 3  # the run went through, one input failed (SOME_FAILED)
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if "broken.png" in line]
    assert len(failed) == 1 and "failed" in failed[0]
    for name, shape in SIZES.items():
        labels = np.asarray(Image.open(out / name))
        assert labels.shape == shape and labels.dtype == np.uint8 and labels.max() <= 1
        overlay = np.asarray(Image.open(out / name.replace(".png", "_overlay.png")))
        assert overlay.shape == (*shape, 3)
        probs = tifffile.imread(out / name.replace(".png", "_prob.tif"))
        assert probs.shape == (2, *shape) and probs.dtype == np.float32
    assert tifffile.imread(out / "stack.tif").shape == (3, 20, 24)
    assert tifffile.imread(out / "stack_prob.tif").shape == (3, 2, 20, 24)
    assert not (out / "broken.png").exists()
    # no temporaries or lock left; the manifest lists what unetlab wrote
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".unetlab-outputs"]


def test_a_truncated_tiff_is_one_line_without_tifffiles_own_log(folder, capsys, caplog):
    """The slides audit: 8 lines of tifffile's log came before unetlab's one line."""
    image = np.random.default_rng(0).integers(0, 65535, (1024, 1024), dtype=np.uint16)
    whole, cut = folder / "whole.tif", folder / "cut" / "truncated.tif"
    with tifffile.TiffWriter(whole, ome=True) as tif:
        meta = {"PhysicalSizeX": 0.3, "PhysicalSizeY": 0.3, "axes": "YX"}
        tif.write(image, tile=(256, 256), compression="zlib", subifds=1, metadata=meta)
        tif.write(image[::2, ::2], tile=(256, 256), compression="zlib", subfiletype=1)
    cut.parent.mkdir()
    cut.write_bytes(whole.read_bytes()[:5000])  # tags that point past the end of the file
    argv = ["predict", "--checkpoint", str(folder / "model.pt"), "--input", str(cut.parent)]
    assert main([*argv, "--output", str(folder / "out")]) == 3
    assert not [r for r in caplog.records if r.name.startswith("tifffile")]
    err = capsys.readouterr().err  # named as cut short (io.short_file_line), in one line
    assert "truncated.tif: truncated: its header promises" in err
    assert err.count("\n") == 1


def test_label_values_color_skip_existing_and_channel_mismatch(folder, capsys):
    out = folder / "out"
    args = ["predict", "--checkpoint", str(folder / "model.pt"), "--output", str(out)]
    assert main([*args, "--input", str(folder / "in" / "grey.png"), "--label-values"]) == 0
    assert set(np.unique(np.asarray(Image.open(out / "grey.png")))) <= {0, 255}
    before = (out / "grey.png").stat().st_mtime_ns
    skip = ["--skip-existing", "--label-values"]  # the same settings: finished
    assert main([*args, "--input", str(folder / "in" / "g*.png"), *skip]) == 0
    assert (out / "grey.png").stat().st_mtime_ns == before
    assert main([*args, "--input", str(folder / "in" / "deep.tif"), "--color"]) == 0
    assert Image.open(out / "deep.png").mode == "P"
    tifffile.imwrite(folder / "two.tif", np.zeros((8, 8, 2), np.uint8), planarconfig="contig")
    capsys.readouterr()
    assert main([*args, "--input", str(folder / "two.tif")]) == 2  # refused up front (s57)
    assert "two.tif, has 2 channels, the model takes 1: choose one with --channel C" in (
        capsys.readouterr().err
    )


def test_user_errors_are_one_line(folder, capsys):
    code = main(
        [
            "predict",
            "--checkpoint",
            str(folder / "missing.pt"),
            "--input",
            str(folder / "in"),
            "--output",
            str(folder / "out"),
        ]
    )
    assert code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_benchmark_prints_images_and_megapixels_per_second(folder, capsys):
    out = folder / "out"
    code = main(
        [
            "predict",
            "--checkpoint",
            str(folder / "model.pt"),
            "--input",
            str(folder / "in" / "grey.png"),
            str(folder / "in" / "deep.tif"),
            "--output",
            str(out),
            "--benchmark",
        ]
    )
    assert code == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("benchmark:"))
    mp = (37 * 50 + 33 * 61) / 1e6
    assert f"2 images, {mp:.2f} MP" in line
    assert "images/s" in line and "MP/s end to end; model" in line
    names = sorted(p.name for p in out.iterdir())
    assert names == [".unetlab-outputs", "deep.png", "grey.png", "predict.json"]


def test_model_clock_counts_forward_calls_and_throughput_is_exact():
    import torch

    from unetlab.bench import ModelClock, throughput

    model = torch.nn.Conv2d(1, 1, 3)
    with ModelClock(model) as clock:
        model(torch.zeros(1, 1, 8, 8))
        model(torch.zeros(1, 1, 8, 8))
    model(torch.zeros(1, 1, 8, 8))  # outside: not counted
    assert clock.calls == 2 and clock.seconds > 0
    t = throughput(4, 2_000_000, 2.0, 0.5)
    assert (t["images_per_s"], t["mpix_per_s"], t["model_mpix_per_s"], t["model_share"]) == (
        2.0,
        1.0,
        4.0,
        0.25,
    )


def test_help_says_the_overlay_names_and_which_images_stream(capsys, monkeypatch):
    """The help named only <stem>_overlay.png (TIFF labels get _overlay.tif) and called every
    pyramid large (a 6.3 MP pyramid is read whole: the rule is pixels a page or --level).
    Wide lines: argparse breaks a line at a flag's hyphen ("--large- pixels" at 80)."""
    monkeypatch.setenv("COLUMNS", "400")
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "<stem>_overlay.tif beside TIFF labels" in text and "pyramids" not in text
    assert "more than 67 megapixels a page, or --large-pixels; any --level above 0" in text
    assert "one-page TIFFs whose whole read would take over 0.5 GB" in text  # s32 histo 7
    # s71; s72 fix: streamed MRC inputs' labels are <stem>.mrc too, not a TIFF
    assert "<stem>.mrc of MRC inputs (streamed too, unless --output-format ome-zarr)" in text
    assert "pyramidal OME-TIFF <stem>.tif (an MRC input's labels: <stem>.mrc) or " in text


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--instances", "--min-area", "-5"], "--min-area must be at least 0 px, not -5"),
        (["--large-pixels", "-10"], "--large-pixels must be a positive number of pixels, not -10"),
        (["--large-pixels", "0"], "--large-pixels must be a positive number of pixels, not 0"),
    ],
)
def test_bad_flag_values_are_refused_before_the_model_loads(folder, capsys, flags, message):
    """--min-area -5 was refused after the model loaded, as min_area; a negative
    --large-pixels streamed every TIFF. The checkpoint is missing: the flag is named first."""
    args = ["predict", "--checkpoint", str(folder / "missing.pt"), "--input", str(folder / "in")]
    assert main([*args, "--output", str(folder / "out"), *flags]) == 2
    assert capsys.readouterr().err == f"unetlab predict: error: {message}\n"
    assert not (folder / "out").exists()


def test_a_tilde_the_shell_left_alone_is_the_home_folder(folder, monkeypatch):
    """--input=~/in: the shell expands no ~ after '=' (predict read it as ./~/in, while train
    and evaluate expand it); --output and --checkpoint too."""
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.chdir(folder / "in")
    argv = ["predict", "--checkpoint=~/model.pt", "--input=~/in/grey.png", "--output=~/out"]
    assert main(argv) == 0
    assert (folder / "out" / "grey.png").is_file()
    assert not (folder / "in" / "~").exists()


def test_exit_status_tells_a_failed_input_from_a_stopped_run(folder, capsys):
    """The batch audit (s36, 7): a run with a failed input, a bad flag and a folder with no
    images all exited 2; a cron job must tell them apart (predict --help says the codes)."""
    (folder / "in" / "bad.png").write_bytes(b"not a png")
    argv = ["predict", "--checkpoint", str(folder / "model.pt"), "--input", str(folder / "in")]
    assert main([*argv, "--output", str(folder / "out")]) == 3
    (folder / "empty").mkdir()
    argv = ["predict", "--checkpoint", str(folder / "model.pt"), "--input", str(folder / "empty")]
    assert main([*argv, "--output", str(folder / "out2")]) == 2
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    shown = " ".join(capsys.readouterr().out.split())  # as argparse wraps it
    assert "3 the run went through but some inputs failed" in shown


@pytest.mark.parametrize("flag", [[], ["--no-progress"]])
def test_no_progress_hides_the_bars_as_train_and_demo_do(folder, capsys, monkeypatch, flag):
    """Audit s37: predict had no --no-progress (train and demo have one); a terminal drew
    its file and tile bars in every run."""
    monkeypatch.setattr("unetlab.inference.folders.shown", lambda progress: progress)  # a tty
    (folder / "in" / "broken.png").unlink()
    argv = ["predict", "--checkpoint", str(folder / "model.pt"), "--input", str(folder / "in")]
    assert main([*argv, "--output", str(folder / "out"), *flag]) == 0
    err = capsys.readouterr().err
    assert ("file/s]" in err) == (not flag)  # the files' bar: drawn unless --no-progress
    assert (folder / "out" / "grey.png").exists()


def test_the_tables_path_column_is_relative_to_the_one_input_folder(tmp_path):
    """README: ``path`` is the input's path from the folder given, as predict_folder writes it
    (audit s38: ``--input in`` wrote ``in/a.png`` where predict_folder(model, "in") writes
    ``a.png``); files or a glob keep their paths as given."""
    import csv

    from unetlab import predict_folder

    rng = np.random.default_rng(3)
    (tmp_path / "in").mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 255, (24, 24), dtype=np.uint8)).save(tmp_path / "in" / name)
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    save_model(tmp_path / "model.pt", model)

    def paths(out):
        with open(out / "objects_summary.csv", newline="") as f:
            summary = [row["path"] for row in csv.DictReader(f)]
        with open(out / "a_objects.csv", newline="") as f:
            return summary, {row["path"] for row in csv.DictReader(f)}

    predict_folder(model, tmp_path / "in", tmp_path / "api", objects=True)
    cli = ["predict", "--checkpoint", str(tmp_path / "model.pt"), "--instances"]
    assert main([*cli, "--input", str(tmp_path / "in"), "--output", str(tmp_path / "cli")]) == 0
    assert paths(tmp_path / "cli") == paths(tmp_path / "api")
    assert paths(tmp_path / "cli")[0] == ["a.png", "b.png"]
    files = [str(tmp_path / "in" / "a.png"), str(tmp_path / "in" / "b.png")]
    assert main([*cli, "--input", *files, "--output", str(tmp_path / "files")]) == 0
    assert paths(tmp_path / "files")[0] == [Path(f).as_posix() for f in files]


def test_a_channel_the_first_input_lacks_is_refused_before_any_file(
    tmp_path, capsys, instance_checkpoint
):
    # s53 badinput3: --channel 5 on a folder of grey images failed each file (exit 3)
    for name in ("a", "b"):
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / f"{name}.png")
    args = ["predict", "--checkpoint", str(instance_checkpoint), "--no-progress"]
    out = tmp_path / "out"
    inputs = ["--input", str(tmp_path / "a.png"), str(tmp_path / "b.png")]
    assert main([*args, *inputs, "--output", str(out), "--channel", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--channel 5 is out of range" in err, err
    assert f"all 2 inputs ({tmp_path / 'a.png'}, ...) have 1 channel (valid: --channel 0)" in err
    assert not out.exists()
    # other files are for each file to say: a channel colour or pages may hold, channel 0
    from unetlab.inference.every_file import refuse_for_every_file

    def refuse_absent_channel(paths, channel):
        refuse_for_every_file(tmp_path, paths, {"channel": channel})

    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "rgb.png")
    tifffile.imwrite(
        tmp_path / "pages.tif", np.zeros((3, 16, 16), np.uint8), photometric="minisblack"
    )
    for path, channel in (("rgb.png", 2), ("pages.tif", 2), ("a.png", 0), ("a.png", "DAPI")):
        refuse_absent_channel([tmp_path / path], channel)
    with pytest.raises(UnetlabError, match=r"the input, .*a\.png, has 1 channel \(valid"):
        refuse_absent_channel([tmp_path / "a.png"], 2)
    # s53 reviewB: a grey first input refused a folder whose others have the channel, and a
    # broken Zarr (no level 0) raised KeyError inside the check: both for each file to say
    broken = tmp_path / "broken.zarr"
    broken.mkdir()
    (broken / ".zgroup").write_text('{"zarr_format": 2}')
    (broken / ".zattrs").write_text('{"multiscales": [{"datasets": [{"path": "0"}]}]}')
    for inputs in (["a.png", "rgb.png"], ["a.png", "b.png", "pages.tif"], ["broken.zarr"]):
        refuse_absent_channel([tmp_path / name for name in inputs], 2)
