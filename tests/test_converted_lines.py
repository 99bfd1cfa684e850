"""A colour image given to a grey model (the channels made the model's) is said at once, at
the first such image a command reads, and the images are counted at its end: said only at
the end, a run of hours told its user then that the model was grey and its inputs colour
(s62)."""

from __future__ import annotations

import logging

import numpy as np
import torch
from PIL import Image

from tests.test_folders_group_seconds import two_ranks
from unetlab import UNet
from unetlab.evaluate import evaluate_model
from unetlab.inference.folders import predict_folder

SAID = "a.png: colour image given to a grey model; predicting its luminance"
COUNTED = "3 images in all ("  # (a.png, b.png, c.png), each a colour image given to ...


class _Events(logging.Handler):
    """The package's lines and the net's forward passes, in the order they came."""

    def __init__(self, net: torch.nn.Module):
        super().__init__(logging.INFO)
        self.events: list[str] = []
        net.register_forward_hook(lambda *_: self.events.append("forward"))

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append(record.getMessage())


def _grey_net() -> UNet:
    torch.manual_seed(0)
    return UNet(1, 2, depth=2, base_channels=2, padding="same").eval()


def _colour_images(root, names="abc"):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for name in names:
        image = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(image).save(root / "images" / f"{name}.png")
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(root / "masks" / f"{name}.png")


def _events(run, net) -> list[str]:
    """The forward passes of ``run()`` and its lines of colour images, each told by what it
    holds of :data:`SAID` or :data:`COUNTED` (evaluate names its images by their paths)."""
    events = _Events(net)
    package = logging.getLogger("unetlab")
    package.addHandler(events)
    try:
        run()
    finally:
        package.removeHandler(events)
    kept = ("forward", SAID, COUNTED)
    return [k for e in events.events for k in kept if k in e and (k != COUNTED or "colour" in e)]


def test_the_first_colour_image_is_said_at_once_and_the_images_counted_at_the_end(tmp_path, caplog):
    _colour_images(tmp_path)
    net = _grey_net()
    run = lambda: predict_folder(net, tmp_path / "images", tmp_path / "out", progress=False)  # noqa: E731
    with caplog.at_level(logging.WARNING):
        events = _events(run, net)
    assert events == [SAID, "forward", "forward", "forward", COUNTED], events
    said = [r.getMessage() for r in caplog.records if "colour image given" in r.getMessage()]
    assert said[1] == (
        "3 images in all (a.png, b.png, c.png), each a colour image given to a grey model "
        "(said at the first)"
    ), said


def test_evaluate_says_it_at_once_too(tmp_path):
    _colour_images(tmp_path)
    net = _grey_net()
    events = _events(lambda: evaluate_model(net, tmp_path, progress=False), net)
    assert events.index(SAID) < events.index("forward") and events.count(SAID) == 1, events
    assert events[-1] == COUNTED and events.count(COUNTED) == 1, events


def test_two_processes_say_the_first_line_once_and_count_every_image(tmp_path, caplog):
    _colour_images(tmp_path, "abcd")
    net = _grey_net()
    with caplog.at_level(logging.WARNING):
        two_ranks(
            lambda group: predict_folder(
                net, tmp_path / "images", tmp_path / "out", progress=False, group=group
            )
        )
    said = [r.getMessage() for r in caplog.records if "colour image given" in r.getMessage()]
    assert len(said) == 2, said
    assert ": colour image given to a grey model; predicting its luminance" in said[0], said
    assert said[1].startswith("4 images in all (a.png, b.png, c.png and 1 more), each a "), said


def test_grey_tiffs_and_grey_pngs_are_counted_in_one_line(tmp_path, caplog):
    """Grey TIFFs (whose line adds "a page of a (C, H, W) TIFF?") and grey PNGs given to an
    RGB model: each first line said, the four counted in one line (two that read the same
    but for their names, review s62)."""
    import tifffile

    (tmp_path / "in").mkdir()
    rng = np.random.default_rng(0)
    for name in "ab":
        tifffile.imwrite(tmp_path / "in" / f"{name}.tif", rng.integers(0, 255, (16, 16), np.uint8))
    for name in "cd":
        grey = rng.integers(0, 255, (16, 16), dtype=np.uint8)
        Image.fromarray(grey).save(tmp_path / "in" / f"{name}.png")
    torch.manual_seed(0)
    net = UNet(3, 2, depth=2, base_channels=2, padding="same").eval()
    with caplog.at_level(logging.WARNING):
        predict_folder(net, tmp_path / "in", tmp_path / "out", progress=False)
    said = [r.getMessage() for r in caplog.records if "grey image given" in r.getMessage()]
    assert [line.split(":")[0] for line in said[:2]] == ["a.tif", "c.png"], said
    assert said[2:] == [
        "4 images in all (a.tif, b.tif, c.png and 1 more), each a grey image given to a "
        "3-channel model (said at the first)"
    ], said


def test_the_count_says_of_how_many_images_read(tmp_path, caplog):
    """2 colour images among 5 given to a grey model: "2 of 5 images", not "2 images in
    all" (of how many?); with every image colour, the count stays "3 images in all"."""
    _colour_images(tmp_path, "bd")
    for name in "ace":
        grey = np.random.default_rng(1).integers(0, 255, (16, 16), dtype=np.uint8)
        Image.fromarray(grey).save(tmp_path / "images" / f"{name}.png")
    with caplog.at_level(logging.WARNING):
        predict_folder(_grey_net(), tmp_path / "images", tmp_path / "out", progress=False)
    said = [r.getMessage() for r in caplog.records if "colour image given" in r.getMessage()]
    assert said[1:] == [
        "2 of 5 images (b.png, d.png), each a colour image given to a grey model (said at the "
        "first)"
    ], said
