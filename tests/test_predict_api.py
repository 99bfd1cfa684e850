"""The Python prediction API as a notebook uses it: one model from several threads, paths,
output folders."""

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import unetlab
from unetlab import UNet
from unetlab.data.io import read_image, write_png
from unetlab.errors import OutputError, UnetlabError
from unetlab.inference.files import predict_file
from unetlab.inference.objects import ObjectOptions, predict_objects
from unetlab.inference.predict import predict_image, weight_layout


def test_threads_sharing_a_model_get_the_serial_results():
    # each call switches the model to eval and channels-last and back: without a lock per
    # model, one thread's restore lands under another's forward pass (different numbers)
    torch.manual_seed(0)
    model = UNet(1, 2, depth=2, base_channels=4, padding="same").train()
    layout = weight_layout(model)
    rng = np.random.default_rng(0)
    images = [rng.random((24, 24)).astype(np.float32) for _ in range(4)]
    serial = [predict_image(model, im) for im in images]
    seen = []

    def check(module, args):  # the state a forward pass starts with, and still has later
        state = (module.training, weight_layout(module))
        time.sleep(0.002)  # lets another thread in: its session switches or restores
        seen.append((state, (module.training, weight_layout(module))))

    hook = model.register_forward_pre_hook(check)
    results: dict[tuple[int, int], np.ndarray] = {}

    def work(k):
        for j in range(3):
            for i, im in enumerate(images):
                results[k, j, i] = predict_image(model, im)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    hook.remove()
    inference = (False, torch.channels_last)
    assert seen and all(s == (inference, inference) for s in seen)
    assert all(np.array_equal(p, serial[i]) for (_, _, i), p in results.items())
    assert model.training and weight_layout(model) == layout  # restored after all threads


@pytest.mark.parametrize("given", [str, Path])
def test_a_path_is_refused_with_the_fix(tmp_path, given):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    path = tmp_path / "a.png"
    write_png(path, np.zeros((16, 16), np.uint8))
    for predict in (predict_image, predict_objects):
        with pytest.raises(UnetlabError, match=r"read_image\(path\).*predict_file") as err:
            predict(model, given(path))
        assert str(path) in str(err.value) and "\n" not in str(err.value)
    # the fix works: the array read_image gives predicts
    assert predict_image(model, read_image(given(path))).shape == (2, 16, 16)


def test_predict_file_never_replaces_a_file_it_did_not_write(tmp_path):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    write_png(tmp_path / "b.png", np.zeros((16, 16), np.uint8))
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.png").write_text("notes")
    (out / "b_objects.csv").write_text("x")
    objects = ObjectOptions.for_model(model)
    with pytest.raises(OutputError, match=r"b\.png.*pass overwrite=True") as err:
        predict_file(model, tmp_path / "b.png", out, objects=objects)
    assert "--" not in str(err.value) and "\n" not in str(err.value)
    assert (out / "b.png").read_text() == "notes" and (out / "b_objects.csv").read_text() == "x"
    # overwrite=True writes beside such files, never over them
    with pytest.raises(OutputError, match=r"b\.png exists and unetlab did not write it") as err:
        predict_file(model, tmp_path / "b.png", out, objects=objects, overwrite=True)
    assert "--" not in str(err.value) and "\n" not in str(err.value)
    # Python's writer: the call, not the command (it named unetlab predict, s57)
    assert "did not write it: this call never replaces such a file" in str(err.value)
    assert (out / "b.png").read_text() == "notes" and (out / "b_objects.csv").read_text() == "x"
    (out / "b.png").unlink()
    (out / "b_objects.csv").unlink()
    written = predict_file(model, tmp_path / "b.png", out, objects=objects, overwrite=True)
    assert read_image(out / "b.png").shape == (16, 16) and out / "b_objects.csv" in written
    # its own outputs: a loop over files, and again, into one new folder
    write_png(tmp_path / "c.png", np.zeros((16, 16), np.uint8))
    for _ in range(2):
        for name in ("b.png", "c.png"):
            predict_file(model, tmp_path / name, tmp_path / "new")
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == [
        ".unetlab-outputs",
        "b.png",
        "c.png",
        "predict.json",
    ]


def test_predict_folder_checks_skips_and_names_failures(tmp_path):
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a", "b"):
        write_png(images / f"{name}.png", np.zeros((16, 16), np.uint8))
    (images / "bad.png").write_text("not an image")
    out = tmp_path / "out"
    done = unetlab.predict_folder(model, images, out)
    assert sorted(p.name for p in done.written) == ["a.png", "b.png"] and not done.skipped
    assert list(done.failed) == [images / "bad.png"] and "\n" not in done.failed[images / "bad.png"]
    assert read_image(out / "a.png").shape == (16, 16)
    again = unetlab.predict_folder(
        model, [images / "a.png", images / "b.png"], out, skip_existing=True
    )
    assert again.skipped == [images / "a.png", images / "b.png"] and not again.written
    # the folder check of the command line, in Python terms
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"notes\.txt.*pass overwrite=True"):
        unetlab.predict_folder(model, images / "a.png", out)
    assert len(unetlab.predict_folder(model, images / "a.png", out, overwrite=True).written) == 1
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(tile_size=73), r"73 is not a valid input size"),
        (dict(label_values=True), r"records no label values"),
        (dict(batch_size=0), r"batch_size must be at least 1, not 0"),
    ],
)
def test_predict_folder_refuses_a_bad_setting_once_before_the_folder(tmp_path, settings, message):
    # not one "failed" file per input, returned normally: one error, and no folder made
    model = UNet(1, 2, depth=2, base_channels=2)
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a", "b", "c"):
        write_png(images / f"{name}.png", np.zeros((64, 64), np.uint8))
    with pytest.raises(UnetlabError, match=message):
        unetlab.predict_folder(model, images, tmp_path / "out", **settings)
    assert not (tmp_path / "out").exists()


def test_predict_image_says_a_bad_batch_size_as_the_folder_does():
    # s53 badinput3: predict_image said ">= 1" where predict_folder and predict_file say "at least 1"
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    with pytest.raises(UnetlabError, match=r"^batch_size must be at least 1, not 0$"):
        predict_image(model, np.zeros((16, 16), np.uint8), batch_size=0)


def test_each_failed_input_is_named_by_its_path_as_given(tmp_path, monkeypatch):
    # s53 badinput3: "c64.tif: unsupported pixel type" beside "in/bad.png: cannot read"
    import tifffile

    monkeypatch.chdir(tmp_path)
    Path("in").mkdir()
    tifffile.imwrite("in/c64.tif", np.zeros((16, 16), np.complex64))
    Path("in/bad.png").write_text("not an image")
    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    done = unetlab.predict_folder(model, "in", "out", progress=False)
    lines = {p.name: line for p, line in done.failed.items()}
    assert lines["c64.tif"].startswith("in/c64.tif: unsupported pixel type complex64")
    assert lines["bad.png"].startswith("in/bad.png: cannot read this image")
    from unetlab.inference.folders import named_by_path

    assert named_by_path(Path("c64.tif"), "c64.tif: x") == "c64.tif: x"  # as given
    assert named_by_path(Path("d/a.tif"), "a.tif page 2: x") == "d/a.tif page 2: x"
    assert named_by_path(Path("d/a.tif"), "a.tiff: x") == "a.tiff: x"  # another file
    assert named_by_path(Path("t/d/a.tif"), "d/a.tif: x", "d/a.tif") == "t/d/a.tif: x"


def test_in_memory_scores_as_the_readme_shows():
    truth = np.zeros((12, 12), np.uint16)
    truth[2:6, 2:6], truth[7:11, 7:11] = 1, 2
    scores = unetlab.object_scores(truth, truth)
    assert scores["f1"] == 1.0 and scores["tp"] == 2
    cm = unetlab.ConfusionMatrix(2)
    cm.update((truth > 0).astype(np.uint8), (truth > 0).astype(np.uint8))
    assert cm.compute()["miou"] == 1.0


def test_predict_folder_times_each_file_after_an_untimed_warm_up(tmp_path):
    # a review: --benchmark timing (and the pixel count it rates) only the CLI could reach
    from unetlab.bench import ModelClock

    model = UNet(1, 2, depth=2, base_channels=2, padding="same")
    images = tmp_path / "images"
    for name, shape in (("a", (16, 24)), ("b", (32, 8))):
        write_png(images / f"{name}.png", np.zeros(shape, np.uint8))
    clocks = []

    def clock(model):
        clocks.append(ModelClock(model))
        return clocks[-1]

    done = unetlab.predict_folder(model, images, tmp_path / "out", clock=clock, tile_size=32)
    assert len(clocks) == 1 and clocks[0].calls == 2  # one batch per file, the warm-up not
    assert 0 < clocks[0].seconds <= done.seconds
    assert done.pixels == 16 * 24 + 32 * 8
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".unetlab-outputs",
        "a.png",
        "b.png",
        "predict.json",
    ]  # the warm-up's scratch folder is gone
