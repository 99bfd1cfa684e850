"""A model that records its data set's palette (trained on colour masks) writes its label
images in that palette with or without ``--color``: a rerun without ``--color`` and with
``--skip-existing`` of a folder predicted with it predicted every input again, though the
label images were the same (review s67)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from unetlab import UNet
from unetlab.data.io import write_png
from unetlab.inference.folders import predict_folder

TABLE = [[128, 64, 128], [244, 35, 232], [0, 0, 142]]  # road, sidewalk, car


def _net(palette: bool) -> UNet:
    torch.manual_seed(0)
    net = UNet(1, 3, depth=2, base_channels=2, padding="same")
    net.classes, net.label_values = ["road", "sidewalk", "car"], [0, 1, 2]
    if palette:
        net.palette = TABLE + [[0, 0, 0]] * 253
    return net


def _images(folder) -> None:
    folder.mkdir()
    for i in range(3):
        image = np.random.default_rng(i).integers(0, 255, (24, 24), dtype=np.uint8)
        write_png(folder / f"{i}.png", image)


def _pixels(folder) -> dict:
    """Each label PNG's pixels and palette (its text holds the run's record)."""
    found = {}
    for path in sorted(folder.glob("?.png")):
        with Image.open(path) as im:
            found[path.name] = (np.asarray(im).tolist(), im.getpalette()[:9])
    return found


def test_a_palette_models_labels_predicted_with_color_are_skipped_without_it(tmp_path):
    _images(tmp_path / "in")
    net, out = _net(palette=True), tmp_path / "out"
    predict_folder(net, tmp_path / "in", out, color=True, progress=False)
    before = _pixels(out)
    again = predict_folder(net, tmp_path / "in", out, skip_existing=True, progress=False)
    assert not again.written
    assert _pixels(out) == before
    assert all(colours == sum(TABLE, []) for _, colours in before.values())
    again = predict_folder(
        net, tmp_path / "in", out, color=True, skip_existing=True, progress=False
    )
    assert not again.written


def test_color_still_changes_the_labels_of_a_model_without_a_palette(tmp_path):
    """Without a recorded palette ``--color`` writes other label images (VOC's colours, not
    grey): the rerun without it predicts them again."""
    _images(tmp_path / "in")
    net, out = _net(palette=False), tmp_path / "out"
    predict_folder(net, tmp_path / "in", out, color=True, progress=False)
    again = predict_folder(net, tmp_path / "in", out, skip_existing=True, progress=False)
    assert len(again.written) == 3


def test_a_palette_models_legend_is_written_where_its_outputs_are_skipped(tmp_path):
    """Predicted without ``--color``, rerun with ``--color --skip-existing``: every input
    skipped, and legend.png written all the same (review s67: none); a plain rerun keeps
    it, its label images still in the model's colours."""
    _images(tmp_path / "in")
    net, out = _net(palette=True), tmp_path / "out"
    predict_folder(net, tmp_path / "in", out, progress=False)
    (out / "legend.png").unlink(missing_ok=True)  # a folder predicted before this change
    again = predict_folder(
        net, tmp_path / "in", out, color=True, skip_existing=True, progress=False
    )
    assert not again.written and len(again.skipped) == 3
    assert (out / "legend.png").is_file()
    again = predict_folder(net, tmp_path / "in", out, progress=False)
    assert len(again.written) == 3 and (out / "legend.png").is_file()
